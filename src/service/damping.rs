//! Flap dampening as a service lives it (`--dampening`): the penalty of [`crate::dampening`]
//! grown at each flap, the suppression it decides, and what the logs and `--dry-run` say of it.

use super::{shown_duration, Service};
use crate::dampening::Release;
use crate::units::millis;
use std::time::{Duration, Instant};

impl Service {
    /// With `--dampening`: its penalty at `now`.
    pub fn penalty(&self, now: Instant) -> Option<f64> {
        self.cfg.dampening.map(|params| self.penalty.value(&params, now))
    }

    /// While suppressed: when the suppression ends (`None` also when that is beyond what an
    /// `Instant` holds).
    pub fn reuse_at(&self) -> Option<Instant> {
        self.cfg.dampening.and_then(|params| self.penalty.reuse_at(&params))
    }
}

impl Service {
    /// With `--dampening`, whether it is suppressed at `now`; a suppression whose time is over
    /// ends here, and says so.
    pub(super) fn suppressed(&mut self, now: Instant) -> bool {
        let Some(params) = self.cfg.dampening else { return false };
        match self.penalty.update(&params, now) {
            Some(Release::Decayed) => log::info!(penalty = self.penalty.value(&params, now).round() as u64;
                "penalty below --dampening-reuse {}: suppression over", params.reuse),
            Some(Release::MaxSuppress) => log::info!(penalty = self.penalty.value(&params, now).round() as u64;
                "suppressed for --dampening-max-suppress {}: suppression over",
                humantime::format_duration(params.max_suppress)),
            None => {}
        }
        self.penalty.suppressed()
    }

    /// While suppressed, what the explanation of an iteration adds: ` while suppressed (...)`.
    pub(super) fn while_suppressed(&self, now: Instant) -> String {
        if self.penalty.suppressed() {
            format!(" while {}", self.suppression_seen(true, now))
        } else {
            String::new()
        }
    }

    /// What an iteration of a suppressed service saw, for the logs and `--dry-run`.
    pub(super) fn suppression_seen(&self, suppressed: bool, now: Instant) -> String {
        let penalty = self.penalty(now).unwrap_or_default().round();
        match self.reuse_at().filter(|_| suppressed) {
            Some(at) => format!(
                "suppressed (penalty {penalty}, reused in {})",
                shown_duration(at.saturating_duration_since(now))
            ),
            None if suppressed => format!("suppressed (penalty {penalty})"),
            None => format!("suppression over (penalty {penalty})"),
        }
    }

    /// A flap (DOWN entered, UP the last state with lines before it) at `now`, with
    /// `--dampening`: the penalty grows, and suppresses the service when it goes above the
    /// threshold (the next iteration, at once, enters SUPPRESSED).
    pub(super) fn flap(&mut self, now: Instant) {
        let Some(params) = self.cfg.dampening else { return };
        let suppresses = self.penalty.flap(&params, now);
        let penalty = self.penalty.value(&params, now).round() as u64;
        if suppresses {
            let reuse_in = self.penalty.reuse_at(&params).map_or(Duration::MAX, |at| at.saturating_duration_since(now));
            log::info!(penalty, reuse_in_ms = millis(reuse_in);
                "flapping: penalty {penalty} above --dampening-suppress {}, suppressed for {}",
                params.suppress, shown_duration(reuse_in));
            self.hurry = true;
        } else {
            log::info!(penalty; "flap: penalty {penalty}");
        }
    }
}
