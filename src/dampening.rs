//! Flap dampening's arithmetic (RFC 2439's idea, for a service's health): a [`Penalty`] that
//! each flap (UP -> DOWN) raises by [`FLAP`] and that halves every half-life; above the
//! suppress threshold the service is suppressed until the penalty decays below the reuse
//! threshold, and never longer than the max-suppress time. Pure: no I/O, no clock; every
//! method is handed `now`. The service ([`crate::service`]) asks it and the state machine
//! ([`crate::service::fsm`]) acts on the answer.

use std::time::{Duration, Instant};

/// What one flap adds to the penalty.
pub const FLAP: f64 = 1000.0;

/// No penalty goes above this, whatever the thresholds and times (a float far from overflow,
/// and far beyond any threshold a flag takes).
pub const MAX_PENALTY: f64 = 1e12;

/// The settings, checked ([`crate::config`] refuses the rest): `half_life` and `max_suppress`
/// above zero, `0 < reuse < suppress <` [`Params::ceiling`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// `--dampening-half-life`: the penalty halves in this time.
    pub half_life: Duration,
    /// `--dampening-suppress`: a flap that takes the penalty above this suppresses.
    pub suppress: u32,
    /// `--dampening-reuse`: suppression ends when the penalty decays below this.
    pub reuse: u32,
    /// `--dampening-max-suppress`: and at the latest this long after it began.
    pub max_suppress: Duration,
}

impl Params {
    /// RFC 2439's defaults, as DESIGN.md gives them: 60 s, 3000, 750, 10 minutes.
    pub const DEFAULT: Params = Params {
        half_life: Duration::from_secs(60),
        suppress: 3000,
        reuse: 750,
        max_suppress: Duration::from_secs(600),
    };

    /// The most the penalty can be: what decays to `reuse` in exactly `max_suppress`
    /// (`reuse × 2^(max_suppress / half_life)`, RFC 2439's ceiling), at most [`MAX_PENALTY`]. A
    /// suppress threshold at or above it would never be reached.
    pub fn ceiling(&self) -> f64 {
        let halvings = self.max_suppress.as_secs_f64() / self.half_life.as_secs_f64();
        let ceiling = f64::from(self.reuse) * halvings.exp2();
        if ceiling.is_finite() {
            ceiling.min(MAX_PENALTY)
        } else {
            MAX_PENALTY
        }
    }
}

/// How a suppression ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The penalty decayed below the reuse threshold.
    Decayed,
    /// The max-suppress time was over first.
    MaxSuppress,
}

/// A service's penalty, and whether it is suppressed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalty {
    /// The penalty at `at`; it decays from there.
    value: f64,
    at: Option<Instant>,
    /// When the suppression began; `None`: not suppressed.
    suppressed_since: Option<Instant>,
}

impl Default for Penalty {
    fn default() -> Penalty {
        Penalty::ZERO
    }
}

impl Penalty {
    /// No penalty, not suppressed.
    pub const ZERO: Penalty = Penalty { value: 0.0, at: None, suppressed_since: None };

    /// The penalty at `now`: decayed since its last flap (an earlier `now` than that flap's
    /// counts as no time at all).
    pub fn value(&self, params: &Params, now: Instant) -> f64 {
        let Some(at) = self.at else { return 0.0 };
        let elapsed = now.saturating_duration_since(at).as_secs_f64();
        let decayed = self.value * (-elapsed / params.half_life.as_secs_f64()).exp2();
        if decayed.is_finite() {
            decayed.max(0.0)
        } else {
            0.0
        }
    }

    /// A flap at `now`: [`FLAP`] more, up to the ceiling. Returns whether this flap suppresses
    /// (the penalty goes above the suppress threshold and it was not suppressed already).
    pub fn flap(&mut self, params: &Params, now: Instant) -> bool {
        let value = (self.value(params, now) + FLAP).min(params.ceiling());
        self.value = value;
        self.at = Some(now);
        if self.suppressed_since.is_none() && value > f64::from(params.suppress) {
            self.suppressed_since = Some(now);
            return true;
        }
        false
    }

    /// Whether it is suppressed (as of the last [`Penalty::update`]).
    pub fn suppressed(&self) -> bool {
        self.suppressed_since.is_some()
    }

    /// When the suppression began, if it is suppressed.
    pub fn suppressed_since(&self) -> Option<Instant> {
        self.suppressed_since
    }

    /// While suppressed: when it ends (the penalty is below reuse then, or the max-suppress
    /// time is over, whichever comes first). `None` when not suppressed, or when both are
    /// beyond what an `Instant` holds.
    pub fn reuse_at(&self, params: &Params) -> Option<Instant> {
        let since = self.suppressed_since?;
        let limit = since.checked_add(params.max_suppress);
        let decayed = self.at.and_then(|at| at.checked_add(self.decay_time(params)?));
        match (decayed, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long the penalty at its last flap takes to decay to the reuse threshold (rounded up
    /// to the nanosecond, so that at the instant it is over the penalty is not above it);
    /// `None` if that is beyond a `Duration`.
    fn decay_time(&self, params: &Params) -> Option<Duration> {
        let reuse = f64::from(params.reuse);
        if self.value <= reuse {
            return Some(Duration::ZERO);
        }
        let seconds = params.half_life.as_secs_f64() * (self.value / reuse).log2();
        let time = Duration::try_from_secs_f64(seconds).ok()?;
        time.checked_add(Duration::from_nanos(1))
    }

    /// Ends the suppression when its time is over at `now` ([`Penalty::reuse_at`]), saying
    /// why; `None`: nothing changed (not suppressed, or still suppressed).
    pub fn update(&mut self, params: &Params, now: Instant) -> Option<Release> {
        let since = self.suppressed_since?;
        let reuse_at = self.reuse_at(params)?;
        if now < reuse_at {
            return None;
        }
        self.suppressed_since = None;
        let by_time = since.checked_add(params.max_suppress).is_some_and(|limit| limit <= reuse_at);
        let decayed = self.value(params, now) <= f64::from(params.reuse);
        Some(if decayed || !by_time { Release::Decayed } else { Release::MaxSuppress })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Params = Params::DEFAULT;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn a_new_penalty_is_zero_and_not_suppressed() {
        let t0 = Instant::now();
        let mut p = Penalty::default();
        assert_eq!(p, Penalty::ZERO);
        assert_eq!(p.value(&P, t0), 0.0);
        assert!(!p.suppressed());
        assert_eq!(p.reuse_at(&P), None);
        assert_eq!(p.update(&P, t0 + secs(1e6)), None);
    }

    #[test]
    fn the_penalty_halves_every_half_life() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        assert!(!p.flap(&P, t0));
        assert_eq!(p.value(&P, t0), 1000.0);
        assert!(close(p.value(&P, t0 + secs(60.0)), 500.0));
        assert!(close(p.value(&P, t0 + secs(120.0)), 250.0));
        assert!(close(p.value(&P, t0 + secs(30.0)), 1000.0 / 2f64.sqrt()));
        // Long after, it is as good as zero, never negative nor NaN.
        let late = p.value(&P, t0 + secs(1e9));
        assert!((0.0..1e-9).contains(&late), "{late}");
    }

    #[test]
    fn a_flap_adds_to_what_is_left() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        p.flap(&P, t0);
        p.flap(&P, t0 + secs(60.0));
        assert!(close(p.value(&P, t0 + secs(60.0)), 1500.0));
        assert!(close(p.value(&P, t0 + secs(120.0)), 750.0));
    }

    #[test]
    fn above_suppress_it_is_suppressed_and_not_at_or_below() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        // Three flaps at once: 3000, not above 3000.
        for _ in 0..3 {
            assert!(!p.flap(&P, t0));
        }
        assert_eq!(p.value(&P, t0), 3000.0);
        assert!(!p.suppressed());
        // The fourth: 4000.
        assert!(p.flap(&P, t0));
        assert!(p.suppressed());
        assert_eq!(p.suppressed_since(), Some(t0));
        // A flap while suppressed does not start it again.
        assert!(!p.flap(&P, t0 + secs(1.0)));
        assert_eq!(p.suppressed_since(), Some(t0));
        // Spread out, the same flaps decay in between and do not suppress.
        let mut q = Penalty::ZERO;
        for i in 0..20 {
            assert!(!q.flap(&P, t0 + secs(60.0 * f64::from(i))), "flap {i}");
        }
        assert!(q.value(&P, t0 + secs(1140.0)) < 2000.0);
    }

    #[test]
    fn reuse_comes_when_the_penalty_is_below_reuse() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        for _ in 0..4 {
            p.flap(&P, t0);
        }
        // 4000 -> 750: log2(4000/750) half-lives.
        let want = secs(60.0 * (4000.0f64 / 750.0).log2());
        let at = p.reuse_at(&P).unwrap();
        assert!(at >= t0 + want && at <= t0 + want + Duration::from_micros(1), "{:?}", at - t0);
        assert!(p.value(&P, at) <= 750.0);
        // Not a nanosecond early.
        assert_eq!(p.update(&P, at - Duration::from_nanos(1)), None);
        assert!(p.suppressed());
        assert_eq!(p.update(&P, at), Some(Release::Decayed));
        assert!(!p.suppressed());
        assert_eq!(p.reuse_at(&P), None);
        assert_eq!(p.update(&P, at + secs(1.0)), None, "once");
        // The penalty stays (decaying): a new flap soon after adds to it.
        assert!(close(p.value(&P, at), 750.0));
        assert!(!p.flap(&P, at), "1750 does not suppress");
    }

    #[test]
    fn never_longer_than_max_suppress() {
        let t0 = Instant::now();
        let params = Params { max_suppress: secs(100.0), ..P };
        let mut p = Penalty::ZERO;
        // A flap storm: the penalty reaches the ceiling, 750 × 2^(100/60) ≈ 2381 ... below
        // suppress: with these settings nothing could ever be suppressed (config refuses them).
        assert!(params.ceiling() < 3000.0);
        // With a lower suppress it can.
        let params = Params { suppress: 1500, ..params };
        for i in 0..50 {
            p.flap(&params, t0 + secs(f64::from(i) * 0.1));
        }
        assert!(p.suppressed());
        assert!(close(p.value(&params, t0 + secs(4.9)), params.ceiling()));
        let since = p.suppressed_since().unwrap();
        assert_eq!(since, t0 + secs(0.1), "the second flap took it above 1500");
        let at = p.reuse_at(&params).unwrap();
        assert_eq!(at, since + secs(100.0), "the max-suppress time is over before the decay");
        assert_eq!(p.update(&params, at), Some(Release::MaxSuppress));
        assert!(!p.suppressed());
    }

    #[test]
    fn the_ceiling_is_what_decays_to_reuse_in_max_suppress() {
        assert!(close(P.ceiling(), 750.0 * 1024.0));
        let p = Params { half_life: secs(1.0), max_suppress: secs(3600.0), ..P };
        assert_eq!(p.ceiling(), MAX_PENALTY, "2^3600 is not a float");
        let p = Params { half_life: Duration::from_nanos(1), max_suppress: Duration::MAX, ..P };
        assert_eq!(p.ceiling(), MAX_PENALTY);
        let p = Params { half_life: Duration::MAX, max_suppress: Duration::from_nanos(1), ..P };
        assert!(close(p.ceiling(), 750.0));
    }

    #[test]
    fn many_flaps_stay_at_the_ceiling_and_reuse_in_at_most_max_suppress() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        for i in 0..100_000u32 {
            p.flap(&P, t0 + Duration::from_millis(u64::from(i)));
        }
        let last = t0 + Duration::from_millis(99_999);
        assert!(close(p.value(&P, last), P.ceiling()));
        let at = p.reuse_at(&P).unwrap();
        // Suppressed since the fourth flap (3 ms): the max-suppress time from there.
        assert_eq!(at, t0 + Duration::from_millis(3) + P.max_suppress);
        assert!(p.value(&P, at) > 750.0);
        assert_eq!(p.update(&P, at), Some(Release::MaxSuppress));
    }

    #[test]
    fn clock_edges_neither_panic_nor_go_backwards() {
        let t0 = Instant::now();
        let mut p = Penalty::ZERO;
        p.flap(&P, t0 + secs(10.0));
        // Asked about a time before the flap: no decay, not more either.
        assert_eq!(p.value(&P, t0), 1000.0);
        // A flap "before" the last one: counted from no decay.
        p.flap(&P, t0);
        assert_eq!(p.value(&P, t0), 2000.0);
        // Tiny and huge half-lives.
        let tiny = Params { half_life: Duration::from_nanos(1), ..P };
        let mut q = Penalty::ZERO;
        q.flap(&tiny, t0);
        assert_eq!(q.value(&tiny, t0 + secs(1.0)), 0.0);
        let huge = Params { half_life: Duration::MAX / 2, max_suppress: Duration::MAX, suppress: 2000, ..P };
        let mut r = Penalty::ZERO;
        for _ in 0..3 {
            r.flap(&huge, t0);
        }
        assert!(r.suppressed());
        assert!(close(r.value(&huge, t0 + secs(1e9)), 3000.0));
        // Beyond what an Instant holds: no reuse time, and no panic asking.
        assert_eq!(r.reuse_at(&huge), None);
        assert_eq!(r.update(&huge, t0 + secs(1e9)), None);
        assert!(r.suppressed());
    }

    #[test]
    fn just_above_suppress_reuses_after_the_decay_below_reuse() {
        // Thresholds close together: suppress 1999, reuse 1998; two flaps make 2000.
        let t0 = Instant::now();
        let params = Params { suppress: 1999, reuse: 1998, ..P };
        let mut p = Penalty::ZERO;
        p.flap(&params, t0);
        assert!(p.flap(&params, t0));
        let at = p.reuse_at(&params).unwrap();
        let want = secs(60.0 * (2000.0f64 / 1998.0).log2());
        assert!(at - t0 >= want && at - t0 <= want + Duration::from_micros(1));
        assert_eq!(p.update(&params, at), Some(Release::Decayed));
    }
}
