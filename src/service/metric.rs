//! A service's side of the MED from the check (`--metric-from`; the arithmetic is
//! [`crate::med`]'s): each passing check's measure handed to it, the raise decided at the end
//! of an iteration in UP, a change held back by `--metric-hold` announced when the hold is
//! over, and the up lines rendered with the raise announced. Without `--metric-from` none of
//! this does anything.

use super::{Cx, Phase, Service};
use crate::config::ServiceConfig;
use crate::exabgp::lines::{Announce, Announcement};
use crate::med::{self, Decision, Med, Warning};
use crate::probe::Verdict;
use crate::state::State;
use std::borrow::Cow;
use std::time::Instant;

/// The MED state of a service of `cfg` with `routes` routes, if it has `--metric-from`.
pub(super) fn med(cfg: &ServiceConfig, routes: usize) -> Option<Med> {
    let metric = &cfg.announce.metric;
    let ceiling = med::ceiling(metric.up, metric.down.min(metric.disabled), cfg.announce.increase, routes);
    cfg.med.map(|policy| Med::new(policy, ceiling))
}

impl Service {
    /// A passing check's measure: its time (the check's own, else from its start to `now`) and
    /// its output.
    pub(super) fn measured(&mut self, verdict: &Verdict, now: Instant) {
        let Some(med) = self.med.as_mut() else { return };
        let started = self.check_started.unwrap_or(now);
        let took = verdict.took.unwrap_or_else(|| now.saturating_duration_since(started));
        match med.observe(took, verdict.output.as_deref()) {
            Some(Warning::NoNumber(line)) if line.is_empty() => {
                log::warn!("check printed no number (no output): announcing the up metric");
            }
            Some(Warning::NoNumber(line)) => {
                log::warn!("check output {line:?} is not a number: announcing the up metric");
            }
            None => {}
        }
    }

    /// At the end of an iteration (`changed`: a state was entered): the raise in UP. Whether a
    /// new MED is to be announced while it stays UP.
    pub(super) fn med_step(&mut self, changed: bool, cx: &Cx) -> bool {
        let Some(med) = self.med.as_mut() else { return false };
        if self.machine.state != State::Up {
            med.leave();
            return false;
        }
        let up = self.cfg.announce.metric.up;
        let wanted = med.wanted();
        let shown = |raise: i64| up.saturating_add(raise);
        let to = shown(wanted.raise);
        if changed {
            let raise = med.enter(cx.now);
            self.explain(&format!("med: {wanted} -> MED {}", shown(raise)));
            return false;
        }
        let hysteresis = med.policy().hysteresis;
        let text = match med.decide(cx.now) {
            Decision::Same => format!("med: {wanted} -> MED {to}, as announced"),
            Decision::Small { announced } => format!(
                "med: {wanted} -> MED {to}, kept at {} (a change below --metric-hysteresis {hysteresis})",
                shown(announced)
            ),
            Decision::Held { announced, until } => format!(
                "med: {wanted} -> MED {to}, kept at {} until --metric-hold is over in {}",
                shown(announced),
                humantime::format_duration(round_ms(until.saturating_duration_since(cx.now)))
            ),
            Decision::Change { from } => {
                self.med_changed(shown(from), to, &wanted.to_string());
                return true;
            }
        };
        self.explain(&text);
        false
    }

    /// A new MED goes out: said once (the explanation in `--dry-run`, else the log).
    fn med_changed(&self, from: i64, to: i64, why: &str) {
        self.explain(&format!("med: {why} -> MED {to}, was {from}"));
        if !self.dry_run || crate::logging::is_json() {
            log::info!(med_from = from, med_to = to; "MED {from} -> {to}: {why}");
        }
    }

    /// In UP, when a new MED held back by `--metric-hold` may go out.
    pub(super) fn med_wake(&self) -> Option<Instant> {
        self.med.as_ref().filter(|_| self.machine.state == State::Up).and_then(Med::wake)
    }

    /// Woken before its time for a MED held back until now: announce it, and wait on for the
    /// next iteration. Whether that is what it did (else the iteration starts as usual).
    pub(super) fn med_only(&mut self, cx: &mut Cx) -> bool {
        let Phase::Waiting(at) = self.phase else { return false };
        if cx.now >= at || self.med_wake().is_none_or(|wake| wake > cx.now) {
            return false;
        }
        let Some(med) = self.med.as_mut() else { return false };
        let wanted = med.wanted();
        let Decision::Change { from } = med.decide(cx.now) else { return false };
        let up = self.cfg.announce.metric.up;
        self.med_changed(up.saturating_add(from), up.saturating_add(wanted.raise), &wanted.to_string());
        self.announce(State::Up.into(), cx);
        true
    }

    /// What the lines for `what` are made from: in UP, the up metric raised by the raise
    /// announced.
    pub(super) fn shaped(&self, what: Announcement) -> Cow<'_, Announce> {
        match self.med.as_ref().and_then(Med::announced) {
            Some(raise) if raise != 0 && what == State::Up.into() => Cow::Owned(self.cfg.announce.raised(raise)),
            _ => Cow::Borrowed(&self.cfg.announce),
        }
    }
}

/// A wait shown to the millisecond.
fn round_ms(wait: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_millis(crate::units::millis(wait))
}

#[cfg(test)]
mod tests {
    use super::super::{routes, Next};
    use super::*;
    use crate::probe::Verdict;
    use std::time::Duration;

    /// A service of `argv` (plus `--no-ip-setup --rise 1 --fall 1 --interval 5 --cmd true
    /// --metric-from output`, a hold of 10 s), driven by hand on a clock of our own.
    struct Driven {
        service: Service,
        t0: Instant,
    }

    impl Driven {
        fn new(argv: &[&str]) -> Driven {
            let mut all = vec![
                "exabgp-healthcheck",
                "--no-ip-setup",
                "--rise",
                "1",
                "--fall",
                "1",
                "--interval",
                "5",
                "--cmd",
                "true",
                "--metric-from",
                "output",
            ];
            all.extend_from_slice(argv);
            let Ok(crate::cli::Parsed::Run(args)) = crate::cli::parse(all) else { panic!("{argv:?}") };
            let cfg = crate::config::Settings::from_args(*args).unwrap().services.remove(0);
            let routes = routes(&cfg.nets.iter().map(|n| n.net).collect::<Vec<_>>(), false, 0);
            let t0 = Instant::now();
            Driven { service: Service::new(0, cfg, false, routes, None, t0), t0 }
        }

        fn at(&self, seconds: f64) -> Instant {
            self.t0 + Duration::from_secs_f64(seconds)
        }

        /// One iteration at `seconds` whose check ends with `verdict`: the lines it wrote.
        fn check(&mut self, seconds: f64, verdict: Verdict) -> Vec<String> {
            let mut cx = Cx::at(self.at(seconds));
            let Next::Check(_) = self.service.begin(&mut cx) else { panic!("no check at {seconds}") };
            match self.service.on_verdict(verdict, &mut cx) {
                Next::Wait => cx.lines,
                other => panic!("{other:?}"),
            }
        }

        /// A passing check at `seconds` that printed `output` and took `ms`.
        fn passes(&mut self, seconds: f64, output: &str, ms: u64) -> Vec<String> {
            let verdict = Verdict { output: Some(output.to_owned()), ..Verdict::pass("exit 0") };
            self.check(seconds, verdict.timed(Duration::from_millis(ms)))
        }

        /// The service woken at `seconds` before its next check: what it wrote.
        fn woken(&mut self, seconds: f64) -> Vec<String> {
            let mut cx = Cx::at(self.at(seconds));
            assert!(matches!(self.service.begin(&mut cx), Next::Wait), "a check started at {seconds}");
            cx.lines
        }

        fn due(&self) -> f64 {
            (self.service.due().expect("waiting") - self.t0).as_secs_f64()
        }

        fn meds(&self) -> Vec<Option<i64>> {
            self.service.announced().map(|(_, med)| med).collect()
        }
    }

    fn up(med: i64) -> Vec<String> {
        vec![format!("announce route 192.0.2.1/32 next-hop self med {med}")]
    }

    #[test]
    fn the_output_raises_the_up_metric_and_changes_go_out_past_the_hysteresis_after_the_hold() {
        let mut d = Driven::new(&["--ip", "192.0.2.1"]);
        assert_eq!(d.passes(0.0, "40", 3), up(140));
        assert_eq!(d.meds(), [Some(140)], "route_metric shows what is announced");
        assert_eq!(d.due(), 5.0);
        // Below the hysteresis (10): the refresh keeps 140.
        assert_eq!(d.passes(5.0, "49", 3), up(140));
        assert_eq!(d.due(), 10.0);
        // Past it, the hold (10 s from 0) over: 160 at once.
        assert_eq!(d.passes(10.0, "60", 3), up(160));
        assert_eq!(d.meds(), [Some(160)]);
        // Past it within the hold (from 10): kept, and the service wakes when the hold ends,
        // between its checks, to announce it without a check.
        assert_eq!(d.passes(15.0, "20", 3), up(160));
        assert_eq!(d.due(), 20.0);
        assert_eq!(d.passes(20.0, "20", 3), up(120), "the hold ends at the check's own time");
        assert_eq!(d.passes(25.0, "90", 3), up(120));
        assert_eq!(d.due(), 30.0);
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--metric-hold", "7"]);
        assert_eq!(d.passes(0.0, "40", 3), up(140));
        assert_eq!(d.passes(5.0, "80", 3), up(140));
        assert_eq!(d.due(), 7.0, "the hold ends before the next check");
        assert_eq!(d.woken(7.0), up(180));
        assert_eq!(d.meds(), [Some(180)]);
        assert_eq!(d.due(), 10.0, "the checks keep their schedule");
        assert_eq!(d.passes(10.0, "80", 3), up(180));
    }

    #[test]
    fn with_debounce_only_a_new_med_is_written() {
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--debounce", "--metric-hold", "0"]);
        assert_eq!(d.passes(0.0, "40", 3), up(140));
        assert!(d.passes(5.0, "45", 3).is_empty(), "below the hysteresis");
        assert_eq!(d.passes(10.0, "55", 3), up(155));
        assert!(d.passes(15.0, "55", 3).is_empty());
    }

    #[test]
    fn every_up_med_stays_below_the_down_and_disabled_ones() {
        let ips = ["--ip", "192.0.2.1", "--ip", "192.0.2.2", "--ip", "192.0.2.3"];
        let mut d = Driven::new(&[&ips[..], &["--increase", "10"]].concat());
        let lines = d.passes(0.0, "100000", 3);
        // Disabled 500 is the lower: the last route's 100 + 379 + 20 = 499.
        assert_eq!(d.meds(), [Some(479), Some(489), Some(499)], "{lines:?}");
        // Down: the down metric as ever.
        assert_eq!(d.check(5.0, Verdict::fail("exit 1")).len(), 3);
        assert_eq!(d.meds(), [Some(1000), Some(1010), Some(1020)]);
        let mut d = Driven::new(&[&ips[..], &["--disabled-metric", "2000", "--down-metric", "150"]].concat());
        d.passes(0.0, "100", 3);
        assert_eq!(d.meds(), [Some(147), Some(148), Some(149)]);
    }

    #[test]
    fn leaving_up_and_coming_back_announces_the_new_med_at_once() {
        let mut d = Driven::new(&["--ip", "192.0.2.1"]);
        assert_eq!(d.passes(0.0, "40", 3), up(140));
        assert_eq!(d.check(5.0, Verdict::fail("exit 1")), up(1000));
        assert_eq!(d.due(), 10.0, "nothing held back outside UP");
        assert_eq!(d.passes(10.0, "90", 3), up(190), "within the hold: a change of state goes out at once");
        // A failed check's output does not count.
        let failed = Verdict { output: Some("1".to_owned()), ..Verdict::fail("exit 1") };
        d.check(15.0, failed);
        assert_eq!(d.passes(20.0, "90", 3), up(190));
    }

    #[test]
    fn no_number_is_the_up_metric() {
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--metric-hold", "0"]);
        assert_eq!(d.passes(0.0, "busy", 3), up(100));
        assert_eq!(d.passes(5.0, "30", 3), up(130));
        assert_eq!(d.passes(10.0, "", 3), up(100));
    }

    #[test]
    fn the_latency_is_averaged_and_a_check_that_did_not_time_itself_is_timed_by_the_service() {
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--metric-from", "latency", "--metric-hold", "0"]);
        assert_eq!(d.passes(0.0, "999", 20), up(120), "the output does not count");
        // 0.3 * 120 + 0.7 * 20 = 50.
        assert_eq!(d.passes(5.0, "", 120), up(150));
        // No time of its own: from its start to its verdict, 250 ms; 0.3 * 250 + 0.7 * 50 = 110.
        let mut cx = Cx::at(d.at(10.0));
        assert!(matches!(d.service.begin(&mut cx), Next::Check(_)));
        let mut cx = Cx::at(d.at(10.25));
        d.service.on_verdict(Verdict::pass("scripted"), &mut cx);
        assert_eq!(cx.lines, up(210));
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--metric-from", "latency", "--metric-step", "10ms"]);
        assert_eq!(d.passes(0.0, "", 129), up(112));
    }

    #[test]
    fn without_metric_from_the_output_and_the_time_change_nothing() {
        let mut all = vec!["exabgp-healthcheck", "--no-ip-setup", "--rise", "1", "--ip", "192.0.2.1", "--cmd", "true"];
        all.extend(["--metric-step", "5ms", "--metric-hold", "0"]);
        let Ok(crate::cli::Parsed::Run(args)) = crate::cli::parse(all) else { panic!() };
        let cfg = crate::config::Settings::from_args(*args).unwrap().services.remove(0);
        assert_eq!(cfg.med, None);
        let routes = routes(&cfg.nets.iter().map(|n| n.net).collect::<Vec<_>>(), false, 0);
        let t0 = Instant::now();
        let mut service = Service::new(0, cfg, false, routes, None, t0);
        let mut cx = Cx::at(t0);
        let Next::Check(_) = service.begin(&mut cx) else { panic!() };
        let verdict = Verdict { output: Some("40".into()), ..Verdict::pass("exit 0") };
        service.on_verdict(verdict.timed(Duration::from_secs(3)), &mut cx);
        assert_eq!(cx.lines, up(100));
    }
}
