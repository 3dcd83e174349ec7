//! The MED from the check (`--metric-from`): what a passing check measured (its latency, or the
//! number its command printed) turned into a raise of the up metric, kept below the down and
//! disabled metrics, and announced only when it changed enough and not too soon after the last
//! change. Pure: no I/O and no clock of its own (the service hands the instants in).

use std::fmt;
use std::time::{Duration, Instant};

/// The weight of a new latency in the moving average (EWMA): 0.3 of the new, 0.7 of the old.
pub const WEIGHT: f64 = 0.3;

/// What the MED comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The check's duration, averaged, in steps of [`Policy::step`].
    Latency,
    /// The first line of the command's output: a non-negative integer.
    Output,
}

impl Source {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Source::Latency => "latency",
            Source::Output => "output",
        }
    }
}

/// `--metric-from` and its companions, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub source: Source,
    /// `--metric-step`: one more MED per this much latency (more than zero).
    pub step: Duration,
    /// `--metric-hysteresis`: the least change of MED announced (0 and 1: any change).
    pub hysteresis: u64,
    /// `--metric-hold`: the least time between two changes of MED.
    pub hold: Duration,
}

/// The most the up metric may be raised by, so that every route's MED in UP stays below every
/// route's MED in DOWN and DISABLED (`worst`: the lower of the down and disabled metrics), each
/// next route's being `increase` more: with `--increase 1` and 3 routes, the last one's up MED
/// stays below the first one's down MED. Never below 0: a raise is never negative, and without
/// room for one there is none.
pub fn ceiling(up: i64, worst: i64, increase: i64, routes: usize) -> i64 {
    let spread = i128::from(increase).abs() * i128::try_from(routes.saturating_sub(1)).unwrap_or(i128::MAX / 4);
    let room = i128::from(worst) - i128::from(up) - spread - 1;
    i64::try_from(room.max(0)).unwrap_or(i64::MAX)
}

/// The raise a check asks for, and how it was reached (for `--dry-run`, `--once` and the logs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wanted {
    /// The raise announced: `asked` clamped to the ceiling.
    pub raise: i64,
    /// The raise the measure alone gives.
    pub asked: u64,
    pub basis: Basis,
}

/// What the raise was computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// Nothing measured yet.
    Nothing,
    /// The latency's moving average, and the step it is divided by.
    Latency { ewma: Duration, step: Duration },
    /// The number the command printed.
    Output(u64),
    /// The command printed no number.
    NoNumber,
}

impl fmt::Display for Wanted {
    /// `latency EWMA 12.3 ms / 1ms step -> +12`, `output 40 -> +40`, with `, clamped to +N`
    /// when the ceiling cut it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.basis {
            Basis::Nothing => write!(f, "nothing measured yet -> +{}", self.asked)?,
            Basis::Latency { ewma, step } => write!(
                f,
                "latency EWMA {:.1} ms / {} step -> +{}",
                ewma.as_secs_f64() * 1000.0,
                humantime::format_duration(step),
                self.asked
            )?,
            Basis::Output(number) => write!(f, "output {number} -> +{}", self.asked)?,
            Basis::NoNumber => write!(f, "no number in the output -> +{}", self.asked)?,
        }
        if u64::try_from(self.raise).ok() != Some(self.asked) {
            write!(f, ", clamped to +{} (below the down and disabled metrics)", self.raise)?;
        }
        Ok(())
    }
}

/// What a check in UP (staying UP) means for the MED announced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The raise wanted is the one announced.
    Same,
    /// It differs by less than `--metric-hysteresis`: the announced one stays.
    Small { announced: i64 },
    /// It differs enough, but the last change is more recent than `--metric-hold`: the
    /// announced one stays until `until`.
    Held { announced: i64, until: Instant },
    /// Announce the wanted raise now (it was `from`).
    Change { from: i64 },
}

/// What a check's output says, when it says something to warn about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Its first line is no number (the first time, until a number comes again).
    NoNumber(String),
}

/// The raise announced in UP, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Announced {
    raise: i64,
    since: Instant,
}

/// One service's MED from its checks: what they measured so far and what is announced.
#[derive(Debug, Clone)]
pub struct Med {
    policy: Policy,
    ceiling: i64,
    /// The latency's moving average, in seconds; `None` before the first passing check.
    ewma: Option<f64>,
    /// What the last passing check's output said: `Some(None)`: no number.
    output: Option<Option<u64>>,
    /// The missing number has been warned about (until a number comes again).
    warned: bool,
    /// `None` outside UP.
    announced: Option<Announced>,
}

impl Med {
    /// Nothing measured yet, nothing announced; raises up to `ceiling` ([`ceiling`]).
    pub fn new(policy: Policy, ceiling: i64) -> Med {
        Med { policy, ceiling: ceiling.max(0), ewma: None, output: None, warned: false, announced: None }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A passing check took `took` and printed `first_line` (its first line of output, for a
    /// command): what to warn about, if anything.
    pub fn observe(&mut self, took: Duration, first_line: Option<&str>) -> Option<Warning> {
        match self.policy.source {
            Source::Latency => {
                let sample = took.as_secs_f64();
                self.ewma = Some(match self.ewma {
                    Some(old) => WEIGHT * sample + (1.0 - WEIGHT) * old,
                    None => sample,
                });
                None
            }
            Source::Output => {
                let line = first_line.unwrap_or_default();
                let number = number(line);
                self.output = Some(number);
                if number.is_some() {
                    self.warned = false;
                    return None;
                }
                if std::mem::replace(&mut self.warned, true) {
                    return None;
                }
                Some(Warning::NoNumber(line.to_owned()))
            }
        }
    }

    /// The raise the checks so far ask for.
    pub fn wanted(&self) -> Wanted {
        let (asked, basis) = match (self.policy.source, self.ewma, self.output) {
            (Source::Latency, Some(ewma), _) => {
                let ewma = Duration::try_from_secs_f64(ewma).unwrap_or(Duration::MAX);
                let steps = ewma.as_nanos() / self.policy.step.as_nanos().max(1);
                (u64::try_from(steps).unwrap_or(u64::MAX), Basis::Latency { ewma, step: self.policy.step })
            }
            (Source::Output, _, Some(Some(number))) => (number, Basis::Output(number)),
            (Source::Output, _, Some(None)) => (0, Basis::NoNumber),
            _ => (0, Basis::Nothing),
        };
        let raise = i64::try_from(asked).unwrap_or(i64::MAX).min(self.ceiling);
        Wanted { raise, asked, basis }
    }

    /// The raise announced now; `None` outside UP.
    pub fn announced(&self) -> Option<i64> {
        self.announced.map(|a| a.raise)
    }

    /// UP is entered at `now`: its lines go out with the raise wanted now, whatever the last
    /// one was (a change of state is announced at once); the hold counts from here.
    pub fn enter(&mut self, now: Instant) -> i64 {
        let raise = self.wanted().raise;
        self.announced = Some(Announced { raise, since: now });
        raise
    }

    /// UP is left: nothing is announced with a raise any more.
    pub fn leave(&mut self) {
        self.announced = None;
    }

    /// A check at `now` while staying UP: whether its raise is to be announced. A
    /// [`Decision::Change`] is taken as announced from `now`.
    pub fn decide(&mut self, now: Instant) -> Decision {
        let Some(announced) = self.announced else {
            // Not in UP: what it enters with is [`Med::enter`]'s.
            return Decision::Same;
        };
        let wanted = self.wanted().raise;
        if wanted == announced.raise {
            return Decision::Same;
        }
        if wanted.abs_diff(announced.raise) < self.policy.hysteresis.max(1) {
            return Decision::Small { announced: announced.raise };
        }
        let until = announced.since.checked_add(self.policy.hold);
        match until {
            Some(until) if now < until => Decision::Held { announced: announced.raise, until },
            None => Decision::Held { announced: announced.raise, until: now },
            Some(_) => {
                self.announced = Some(Announced { raise: wanted, since: now });
                Decision::Change { from: announced.raise }
            }
        }
    }

    /// When a change held back by `--metric-hold` may go out: the service wakes then to
    /// announce it. `None`: no change is waiting (or none ever may).
    pub fn wake(&self) -> Option<Instant> {
        let announced = self.announced?;
        let wanted = self.wanted().raise;
        if wanted.abs_diff(announced.raise) < self.policy.hysteresis.max(1) {
            return None;
        }
        announced.since.checked_add(self.policy.hold)
    }
}

/// A line's number: digits alone (spaces around allowed), saturating at `u64::MAX` (the ceiling
/// cuts it anyway); anything else is no number.
pub fn number(line: &str) -> Option<u64> {
    let digits = line.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(source: Source) -> Policy {
        Policy { source, step: MS, hysteresis: 10, hold: Duration::from_secs(10) }
    }

    fn at(t0: Instant, seconds: f64) -> Instant {
        t0 + Duration::from_secs_f64(seconds)
    }

    #[test]
    fn the_ceiling_keeps_every_up_med_below_every_down_and_disabled_med() {
        // Defaults: up 100, disabled 500 (the lower), increase 1.
        assert_eq!(ceiling(100, 500, 1, 1), 399);
        assert_eq!(ceiling(100, 500, 1, 3), 397, "the last route's 100 + 397 + 2 = 499 < 500");
        assert_eq!(ceiling(100, 500, -5, 3), 389, "a negative increase lowers the later down MEDs");
        assert_eq!(ceiling(100, 500, 0, 1000), 399);
        assert_eq!(ceiling(100, 100, 1, 1), 0, "no room: no raise");
        assert_eq!(ceiling(600, 500, 1, 1), 0, "an up metric above the down one: no raise, never negative");
        assert_eq!(ceiling(0, 101, 50, 3), 0);
        assert_eq!(ceiling(0, 102, 50, 3), 1);
        assert_eq!(ceiling(0, 0, 1, 0), 0, "no route at all");
        assert_eq!(ceiling(0, i64::MAX, i64::MIN, usize::MAX), 0, "no overflow");
        assert_eq!(ceiling(i64::MIN, i64::MAX, 0, 1), i64::MAX);
        // Exhaustively on small values: the ceiling is the largest raise that keeps the order.
        for up in 0..6 {
            for worst in 0..12 {
                for increase in -3..=3 {
                    for routes in 1..4usize {
                        let keeps = |raise: i64| {
                            (0..routes as i64)
                                .all(|i| (0..routes as i64).all(|j| up + raise + increase * i < worst + increase * j))
                        };
                        let c = ceiling(up, worst, increase, routes);
                        assert!(c >= 0);
                        if c > 0 || keeps(0) {
                            assert!(keeps(c), "{up} {worst} {increase} {routes}: {c}");
                            assert!(!keeps(c + 1), "{up} {worst} {increase} {routes}: {c} is not the most");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn latency_is_averaged_with_weight_three_tenths_and_divided_by_the_step() {
        let mut med = Med::new(policy(Source::Latency), 399);
        assert_eq!(med.wanted(), Wanted { raise: 0, asked: 0, basis: Basis::Nothing });
        assert_eq!(med.observe(10 * MS, None), None);
        assert_eq!(med.wanted().raise, 10, "the first sample is the average");
        med.observe(20 * MS, Some("ignored"));
        // 0.3 * 20 + 0.7 * 10 = 13.
        assert_eq!(med.wanted().raise, 13);
        med.observe(20 * MS, None);
        // 0.3 * 20 + 0.7 * 13 = 15.1: whole steps only.
        let wanted = med.wanted();
        assert_eq!((wanted.raise, wanted.asked), (15, 15));
        assert_eq!(wanted.to_string(), "latency EWMA 15.1 ms / 1ms step -> +15");
        // A coarser step.
        let mut med = Med::new(Policy { step: 5 * MS, ..policy(Source::Latency) }, 399);
        med.observe(Duration::from_micros(12_300), None);
        assert_eq!(med.wanted().raise, 2);
        assert_eq!(med.wanted().to_string(), "latency EWMA 12.3 ms / 5ms step -> +2");
    }

    #[test]
    fn a_raise_is_clamped_to_the_ceiling() {
        let mut med = Med::new(policy(Source::Latency), 399);
        med.observe(Duration::from_secs(2), None);
        let wanted = med.wanted();
        assert_eq!((wanted.raise, wanted.asked), (399, 2000));
        assert_eq!(
            wanted.to_string(),
            "latency EWMA 2000.0 ms / 1ms step -> +2000, clamped to +399 (below the down and disabled metrics)"
        );
        let mut med = Med::new(policy(Source::Output), 0);
        med.observe(MS, Some("7"));
        assert_eq!(med.wanted().raise, 0);
        let mut med = Med::new(policy(Source::Latency), 50);
        med.observe(Duration::MAX, None);
        assert_eq!(med.wanted().raise, 50, "an absurd duration neither panics nor overflows");
        let mut med = Med::new(policy(Source::Output), i64::MAX);
        med.observe(MS, Some("99999999999999999999999"));
        assert_eq!(med.wanted(), Wanted { raise: i64::MAX, asked: u64::MAX, basis: Basis::Output(u64::MAX) });
    }

    #[test]
    fn output_numbers_and_a_missing_number_warned_once_until_a_number_comes_again() {
        let mut med = Med::new(policy(Source::Output), 399);
        assert_eq!(med.observe(Duration::from_secs(3), Some("40")), None);
        assert_eq!(med.wanted().raise, 40, "the duration does not count");
        assert_eq!(med.wanted().to_string(), "output 40 -> +40");
        assert_eq!(med.observe(MS, Some("busy")), Some(Warning::NoNumber("busy".into())));
        assert_eq!(med.wanted().raise, 0, "no number: the up metric");
        assert_eq!(med.wanted().to_string(), "no number in the output -> +0");
        assert_eq!(med.observe(MS, Some("-3")), None, "warned once");
        assert_eq!(med.observe(MS, None), None);
        assert_eq!(med.observe(MS, Some(" 12 ")), None);
        assert_eq!(med.wanted().raise, 12);
        assert_eq!(med.observe(MS, None), Some(Warning::NoNumber(String::new())), "again after a number");
    }

    #[test]
    fn what_is_a_number() {
        for (line, want) in [
            ("0", Some(0)),
            ("42", Some(42)),
            (" 7\t", Some(7)),
            ("007", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", Some(u64::MAX)),
            ("", None),
            ("  ", None),
            ("-1", None),
            ("+1", None),
            ("1.5", None),
            ("1e3", None),
            ("12 ms", None),
            ("٣", None),
        ] {
            assert_eq!(number(line), want, "{line:?}");
        }
    }

    #[test]
    fn entering_up_announces_the_wanted_raise_at_once() {
        let t0 = Instant::now();
        let mut med = Med::new(policy(Source::Output), 399);
        assert_eq!(med.announced(), None);
        med.observe(MS, Some("40"));
        assert_eq!(med.decide(t0), Decision::Same, "not in UP: nothing to decide");
        assert_eq!(med.enter(t0), 40);
        assert_eq!(med.announced(), Some(40));
        med.leave();
        assert_eq!((med.announced(), med.wake()), (None, None));
        // Back in UP at once, whatever the hold: a change of state.
        med.observe(MS, Some("90"));
        assert_eq!(med.enter(at(t0, 1.0)), 90);
    }

    #[test]
    fn hysteresis_and_hold() {
        let t0 = Instant::now();
        let mut med = Med::new(policy(Source::Output), 399);
        med.observe(MS, Some("40"));
        med.enter(t0);
        assert_eq!(med.decide(at(t0, 20.0)), Decision::Same);
        // Below the hysteresis: kept, whenever.
        med.observe(MS, Some("49"));
        assert_eq!(med.decide(at(t0, 20.0)), Decision::Small { announced: 40 });
        assert_eq!(med.wake(), None);
        med.observe(MS, Some("31"));
        assert_eq!(med.decide(at(t0, 20.0)), Decision::Small { announced: 40 });
        // At the hysteresis, within the hold: held, and the wake is the hold's end.
        med.observe(MS, Some("50"));
        assert_eq!(med.decide(at(t0, 5.0)), Decision::Held { announced: 40, until: at(t0, 10.0) });
        assert_eq!(med.wake(), Some(at(t0, 10.0)));
        assert_eq!(med.announced(), Some(40));
        // The hold over: changed, and the next hold counts from there.
        assert_eq!(med.decide(at(t0, 10.0)), Decision::Change { from: 40 });
        assert_eq!((med.announced(), med.wake()), (Some(50), None));
        med.observe(MS, Some("30"));
        assert_eq!(med.wake(), Some(at(t0, 20.0)));
        assert_eq!(med.decide(at(t0, 19.9)), Decision::Held { announced: 50, until: at(t0, 20.0) });
        // Back within the hysteresis of the announced one before the hold ends: nothing waits.
        med.observe(MS, Some("45"));
        assert_eq!(med.wake(), None);
        assert_eq!(med.decide(at(t0, 25.0)), Decision::Small { announced: 50 });
    }

    #[test]
    fn a_hysteresis_of_zero_or_one_takes_any_change_and_no_hold_takes_it_at_once() {
        for hysteresis in [0, 1] {
            let t0 = Instant::now();
            let mut med = Med::new(Policy { hysteresis, hold: Duration::ZERO, ..policy(Source::Output) }, 399);
            med.observe(MS, Some("40"));
            med.enter(t0);
            assert_eq!(med.decide(t0), Decision::Same, "no change: never announced again");
            assert_eq!(med.wake(), None);
            med.observe(MS, Some("41"));
            assert_eq!(med.wake(), Some(t0));
            assert_eq!(med.decide(t0), Decision::Change { from: 40 });
            assert_eq!(med.announced(), Some(41));
        }
    }

    #[test]
    fn a_hold_beyond_what_an_instant_holds_never_lets_a_change_out() {
        let t0 = Instant::now();
        let mut med = Med::new(Policy { hold: Duration::MAX, ..policy(Source::Output) }, 399);
        med.observe(MS, Some("40"));
        med.enter(t0);
        med.observe(MS, Some("90"));
        assert_eq!(med.wake(), None, "never a wake-up");
        assert!(matches!(med.decide(at(t0, 1e6)), Decision::Held { announced: 40, .. }));
    }

    #[test]
    fn the_clamp_counts_in_the_hysteresis() {
        // Wanted 2000 and 3000 are both clamped to 399: no change.
        let t0 = Instant::now();
        let mut med = Med::new(Policy { hold: Duration::ZERO, ..policy(Source::Output) }, 399);
        med.observe(MS, Some("2000"));
        assert_eq!(med.enter(t0), 399);
        med.observe(MS, Some("3000"));
        assert_eq!(med.decide(t0), Decision::Same);
        med.observe(MS, Some("395"));
        assert_eq!(med.decide(t0), Decision::Small { announced: 399 });
    }
}
