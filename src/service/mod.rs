//! One service: its settings, state machine ([`fsm`]), routes, the ledger of its addresses and
//! its counters, and where it is in its iteration (waiting for its time, checking, running
//! hooks). It does not wait and never calls the reactor: the reactor hands it what happened
//! (its time came, a check's verdict, a hook's end) and it answers with what to do next
//! ([`Next`]): a check, a hook or an address operation to start, with the lines for ExaBGP in
//! the [`Cx`] it was handed. It never writes a line or changes an address itself.
//!
//! A new per-service option: a field of [`crate::config::ServiceConfig`], used here.

mod conclude;
mod damping;
mod drain;
pub mod fsm;
pub mod hooks;
mod leaving;
mod metric;
pub mod stats;

pub use conclude::retry_after;
use conclude::After;

use crate::addr::ledger::{Addresses, Host, Removal, Work};
use crate::addr::op::{Answer, Op};
use crate::config::ServiceConfig;
use crate::dampening::Penalty;
use crate::exabgp::answers::Tally;
use crate::exabgp::lines::{self, Announcement};
use crate::net::Net;
use crate::probe::{self, shell::describe, Verdict};
use crate::proc::{self, Outcome, Status};
use crate::state::State;
use crate::units::millis;
use fsm::{Machine, Observation};
use stats::{Moment, Stats};
use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

/// A service's place in the reactor's table (and in the panic hook's registry).
pub type ServiceId = usize;

/// What the service wants done next.
#[derive(Debug)]
pub enum Next {
    /// Start this check, and hand its verdict to [`Service::on_verdict`].
    Check(probe::Spec),
    /// Start this hook, and hand its end to [`Service::on_hook`].
    Hook(proc::Spec),
    /// Carry out this address operation, and hand its answer to [`Service::on_address`].
    Address(Op),
    /// Nothing until [`Service::due`].
    Wait,
}

/// What a service is handed at each step: the time, what it needs to know of the world, and
/// where its lines for ExaBGP go (the reactor writes them, in order, before it starts what
/// [`Next`] asks for).
pub struct Cx<'a> {
    pub now: Instant,
    /// ExaBGP has read this service's last line: a refresh of the same state is written only
    /// then (a change of state always is).
    pub caught_up: bool,
    /// Whether another service of the process holds this address now (a marked address one of
    /// them holds was not left by an earlier run).
    pub held_elsewhere: &'a dyn Fn(&Host) -> bool,
    /// The lines to write.
    pub lines: Vec<String>,
}

impl Cx<'_> {
    /// A context at `now` with ExaBGP caught up and no address held elsewhere (tests, and
    /// services that change no address).
    pub fn at(now: Instant) -> Cx<'static> {
        Cx { now, caught_up: true, held_elsewhere: &|_| false, lines: Vec::new() }
    }
}

/// One iteration in flight: when it started (the schedule is start to start) and the state
/// before it.
#[derive(Debug, Clone, Copy)]
struct Iteration {
    started: Instant,
    before: State,
}

/// Why the drain is on, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DrainCause {
    File,
    Request,
}

#[derive(Debug)]
enum Phase {
    /// The next iteration starts at this instant.
    Waiting(Instant),
    /// The check runs.
    Checking(Iteration),
    /// The hooks of the state entered run, one after the other: the one running, then these.
    Hooks(Iteration, State, VecDeque<proc::Spec>),
    /// Address work runs, then what `After` says.
    Addresses(Box<Work>, After),
    /// `--interval 0`: announced once, nothing more to do.
    Ended,
    /// Stopped (the exit, or a reload that removed or replaced it), its address work over.
    Gone,
}

/// One service and everything it keeps between iterations.
pub struct Service {
    pub id: ServiceId,
    cfg: ServiceConfig,
    /// `--dry-run`: each transition is explained on stderr.
    dry_run: bool,
    machine: Machine,
    routes: Vec<Net>,
    /// The addresses it looks after, when the run changes addresses.
    ledger: Option<Addresses>,
    /// Its check; `None`: always healthy.
    probe: Option<probe::Spec>,
    /// Checks started so far.
    checks: u64,
    /// Its addresses are to be set up before its first check.
    setup_first: bool,
    /// A failed set-up is retried no sooner than this.
    retry_at: Option<Instant>,
    phase: Phase,
    stats: Stats,
    /// The MED each of its routes is announced with now; `None`: withdrawn, or never announced.
    meds: Vec<Option<i64>>,
    /// A drain was asked for ([`Service::request_drain`]).
    drain_requested: bool,
    /// When DRAINING's lines went out (its drain time counts from there); `None` outside
    /// DRAINING, and in DRAINING until its lines are written.
    draining_since: Option<Instant>,
    /// When the drain of the service it replaces began (a reload), for its own DRAINING.
    drain_carried: Option<Instant>,
    /// A drain request came during an iteration, or a flap suppressed it: the next one starts
    /// as soon as it is over.
    hurry: bool,
    /// `--metric-from`: the MED in UP from what its checks measured.
    med: Option<crate::med::Med>,
    /// When its check in flight started (a latency the check did not measure counts from here).
    check_started: Option<Instant>,
    /// Its flap dampening penalty (`--dampening`; stays zero without).
    penalty: Penalty,
    /// Of the states that write lines, the last it entered was UP: entering DOWN now is a flap.
    was_up: bool,
}

/// A duration for people, to the millisecond (rounded up: the time it is over, not before).
fn shown_duration(d: Duration) -> humantime::FormattedDuration {
    let millis = d.as_nanos().div_ceil(1_000_000);
    humantime::format_duration(Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)))
}

/// The routes to announce, in order: the networks (or, with `--deaggregate-networks`, each of
/// their addresses), rotated left by `--start-ip`.
pub fn routes(nets: &[Net], deaggregate: bool, start_ip: i64) -> Vec<Net> {
    let mut routes: Vec<Net> = if deaggregate {
        nets.iter().flat_map(|n| n.hosts().map(Net::host).collect::<Vec<_>>()).collect()
    } else {
        nets.to_vec()
    };
    if !routes.is_empty() {
        let len = routes.len() as i64;
        routes.rotate_left(start_ip.rem_euclid(len) as usize);
    }
    routes
}

/// When a service started at `now` checks first: at once, or with `--splay` after a part of
/// its interval that `seed` (any random number) picks, always below the interval.
pub fn first_check(cfg: &ServiceConfig, now: Instant, seed: u64) -> Instant {
    let interval = u64::try_from(cfg.interval.as_nanos()).unwrap_or(u64::MAX);
    if !cfg.splay || interval == 0 {
        return now;
    }
    now + std::time::Duration::from_nanos(seed % interval)
}

impl Service {
    /// A service in INIT whose first iteration is due at `first`.
    pub fn new(
        id: ServiceId,
        cfg: ServiceConfig,
        dry_run: bool,
        routes: Vec<Net>,
        ledger: Option<Addresses>,
        first: Instant,
    ) -> Service {
        let probe = probe::Spec::of(cfg.command.as_deref(), &cfg.checks, cfg.timeout);
        let meds = vec![None; routes.len()];
        let setup_first = ledger.is_some() && cfg.ip_setup;
        let med = metric::med(&cfg, routes.len());
        Service {
            id,
            cfg,
            dry_run,
            machine: Machine::START,
            routes,
            ledger,
            probe,
            checks: 0,
            setup_first,
            retry_at: None,
            phase: Phase::Waiting(first),
            stats: Stats::new(Moment::now()),
            meds,
            drain_requested: false,
            draining_since: None,
            drain_carried: None,
            hurry: false,
            med,
            check_started: None,
            penalty: Penalty::ZERO,
            was_up: false,
        }
    }

    /// The same service with another check (tests give a [`probe::mock::Mock`]).
    pub fn with_probe(mut self, probe: probe::Spec) -> Service {
        self.probe = Some(probe);
        self
    }

    /// Its settings.
    pub fn cfg(&self) -> &ServiceConfig {
        &self.cfg
    }

    /// Its `--name`, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.cfg.name.as_deref()
    }

    /// What reports call it: its section, else its `--name`; `None` for the one service of a
    /// configuration without sections and without a name.
    pub fn label(&self) -> Option<&str> {
        self.cfg.label()
    }

    /// Its state now.
    pub fn state(&self) -> State {
        self.machine.state
    }

    /// What it has done so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The addresses it looks after, when the run changes addresses.
    pub fn addresses(&self) -> Option<&Addresses> {
        self.ledger.as_ref()
    }

    /// Its routes, in the order of its lines.
    pub fn routes(&self) -> &[Net] {
        &self.routes
    }

    /// Each route with the MED it is announced with now (`None`: withdrawn, or not announced
    /// yet).
    pub fn announced(&self) -> impl Iterator<Item = (Net, Option<i64>)> + '_ {
        self.routes.iter().copied().zip(self.meds.iter().copied())
    }

    /// When its next iteration starts, while it waits for one: at its time, or, in DRAINING,
    /// when the drain time is over if that comes first (DRAINED is on time, not up to an
    /// interval late); in UP, when a new MED held back by `--metric-hold` may go out, if that
    /// comes first ([`Service::begin`] then only announces it); and in SUPPRESSED when the
    /// suppression ends if that comes first.
    pub fn due(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting(at) => {
                let at = self.drain_end().map_or(at, |end| at.min(end));
                let at = self.med_wake().map_or(at, |wake| at.min(wake));
                Some(self.reuse_at().filter(|_| self.machine.state == State::Suppressed).map_or(at, |end| at.min(end)))
            }
            _ => None,
        }
    }

    /// Check at `now` rather than at its time (SIGUSR1), if it is waiting for one; the schedule
    /// goes on from that check.
    pub fn check_now(&mut self, now: Instant) {
        if let Phase::Waiting(at) = &mut self.phase {
            *at = (*at).min(now);
        }
    }

    /// Whether it is over (`--interval 0` after its announcement).
    pub fn ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// Whether it is between a state entered and that state's lines (its hooks run, or the
    /// address set-up before UP's lines): its state and its routes' MEDs disagree meanwhile.
    pub fn settling(&self) -> bool {
        matches!(self.phase, Phase::Hooks(..) | Phase::Addresses(_, After::Conclude(_, conclude::Step::Lines { .. })))
    }

    /// Whether it has stopped and its address work is over.
    pub fn gone(&self) -> bool {
        matches!(self.phase, Phase::Gone)
    }

    /// Its time came (`cx.now`): start an iteration. Its addresses are set up first at its
    /// first iteration. While the disable file exists, and while the drain is on or ending, the
    /// check is not run.
    pub fn begin(&mut self, cx: &mut Cx) -> Next {
        if self.med_only(cx) {
            return Next::Wait;
        }
        let iteration = Iteration { started: cx.now, before: self.machine.state };
        if std::mem::take(&mut self.setup_first) {
            if let Some(work) = self.ledger.as_ref().map(Addresses::setup) {
                return self.work(work, After::Begin(iteration), cx);
            }
        }
        self.check(iteration, cx)
    }

    /// The iteration's check, or what stands for it.
    fn check(&mut self, iteration: Iteration, cx: &mut Cx) -> Next {
        let now = iteration.started;
        self.phase = Phase::Checking(iteration);
        let suppressed = self.suppressed(now);
        let disabled = self.cfg.disable_file.as_ref().filter(|f| f.exists());
        let cause = self.drain_cause();
        if cause.is_some() || self.machine.state.is_drain() {
            let drain_over = self.drain_end().is_some_and(|end| now >= end);
            let seen = match (cause, &self.cfg.drain_file) {
                (Some(DrainCause::File), Some(file)) => format!("draining ({} exists)", file.display()),
                (Some(_), _) => "draining (requested)".to_owned(),
                (None, _) => "drain over".to_owned(),
            };
            let announced = self.meds.iter().any(Option::is_some);
            let observed = Observation {
                drain: cause.is_some(),
                drain_over,
                announced,
                ..Observation::checked(disabled.is_some(), true)
            };
            return self.observe(iteration, observed, &seen, cx);
        }
        if let Some(file) = disabled {
            let seen = format!("disabled ({} exists)", file.display());
            let observed = Observation { suppressed, ..Observation::checked(true, true) };
            return self.observe(iteration, observed, &seen, cx);
        }
        if !suppressed && self.machine.state == State::Suppressed {
            // The suppression is over: INIT, whatever a check would say (not run).
            let seen = self.suppression_seen(false, now);
            return self.observe(iteration, Observation::checked(false, true), &seen, cx);
        }
        let Some(probe) = &self.probe else {
            let seen = format!("no check command: healthy{}", self.while_suppressed(now));
            return self.observe(iteration, Observation { suppressed, ..Observation::checked(false, true) }, &seen, cx);
        };
        self.checks += 1;
        self.check_started = Some(cx.now);
        Next::Check(probe.clone())
    }

    /// The check's verdict.
    pub fn on_verdict(&mut self, verdict: Verdict, cx: &mut Cx) -> Next {
        let Phase::Checking(iteration) = self.phase else { return Next::Wait };
        self.stats.checked(verdict.ok, verdict.timed_out, SystemTime::now(), iteration.started.elapsed());
        if verdict.ok {
            self.measured(&verdict, cx.now);
        }
        let seen = format!(
            "check #{} {} ({}){}",
            self.checks,
            if verdict.ok { "passed" } else { "failed" },
            verdict.detail,
            self.while_suppressed(cx.now)
        );
        // While suppressed the check still runs (for whoever watches it), but does not count.
        let observed = Observation { suppressed: self.penalty.suppressed(), ..Observation::checked(false, verdict.ok) };
        self.observe(iteration, observed, &seen, cx)
    }

    /// One step of the state machine on what the iteration saw; then the hooks of the state
    /// entered, if any.
    fn observe(&mut self, iteration: Iteration, observed: Observation, seen: &str, cx: &mut Cx) -> Next {
        let before = self.machine.state;
        let step = self.machine.step(observed, self.cfg.thresholds);
        self.machine = step.next;
        if step.entered.is_some() {
            // DRAINING's time counts from its lines; any other state ends it.
            self.draining_since = None;
        }
        match step.entered {
            Some(State::Down) if std::mem::take(&mut self.was_up) => self.flap(cx.now),
            Some(State::Up) => self.was_up = true,
            Some(entered) if lines::announces(entered) => self.was_up = false,
            _ => {}
        }
        let change = match step.entered {
            Some(entered) => format!("{before} -> {entered}"),
            None => format!("stays {before}"),
        };
        self.explain(&format!("{seen}: {change}"));
        let Some(entered) = step.entered else {
            return self.conclude(iteration, cx);
        };
        log::debug!("Transition to {entered}");
        if before != entered {
            // In --dry-run on the console the explanation above has said it (in json, this
            // object carries the transition's fields, the explanation is text).
            if !self.dry_run || crate::logging::is_json() {
                log::info!(from = before.name(), to = entered.name(); "{before} -> {entered}");
            }
            self.stats.entered(entered, Moment::now());
        }
        let drain_ms = millis(self.cfg.drain_time);
        match entered {
            State::Draining => log::info!(state = "DRAINING", drain_ms;
                "{seen}: withdrawing in {}", humantime::format_duration(self.cfg.drain_time)),
            State::Drained if before == State::Draining => {
                log::info!(state = "DRAINED", drain_ms; "drain time over: withdrawing")
            }
            State::Drained => log::info!(state = "DRAINED"; "{seen}: nothing announced to drain, withdrawing at once"),
            State::Init if before.is_drain() => log::info!(state = "INIT"; "drain over: starting again"),
            State::Suppressed => {
                let penalty = self.penalty(cx.now).unwrap_or_default().round() as u64;
                log::info!(state = "SUPPRESSED", penalty; "{seen}: announced as DOWN until the penalty decays")
            }
            _ => {}
        }
        let specs: VecDeque<proc::Spec> = hooks::specs(&self.cfg.hooks, entered, self.cfg.timeout).into();
        self.phase = Phase::Hooks(iteration, entered, specs);
        self.next_hook(cx)
    }

    /// A hook ended.
    pub fn on_hook(&mut self, outcome: Outcome, cx: &mut Cx) -> Next {
        let Phase::Hooks(_, entered, _) = self.phase else { return Next::Wait };
        match outcome.status {
            Status::Exited(0) => {}
            Status::TimedOut => log::warn!(state = entered.name(), duration_ms = millis(outcome.duration);
                "hook for {entered} timed out and was killed"),
            Status::Exited(rc) => log::warn!(state = entered.name(), rc, duration_ms = millis(outcome.duration);
                "hook for {entered} failed: {rc}"),
            other => log::warn!(state = entered.name(), duration_ms = millis(outcome.duration);
                "hook for {entered} failed: {}", describe(&other)),
        }
        self.next_hook(cx)
    }

    fn next_hook(&mut self, cx: &mut Cx) -> Next {
        let Phase::Hooks(iteration, _, ref mut left) = self.phase else { return Next::Wait };
        match left.pop_front() {
            Some(spec) => Next::Hook(spec),
            None => self.conclude(iteration, cx),
        }
    }

    /// Its state in one line (SIGUSR1), with the count of ExaBGP's answers when they are kept.
    pub fn report(&self, tally: Option<Tally>) -> String {
        let blocked = self.ledger.as_ref().is_some_and(Addresses::any_blocked);
        format!(
            "state {} (counter {}), {} checks run, {} routes{}{}{}{}",
            self.machine.state,
            self.machine.counter,
            self.checks,
            self.routes.len(),
            if self.drain_requested { ", drain requested" } else { "" },
            self.penalty(Instant::now()).map_or(String::new(), |p| format!(", penalty {}", p.round())),
            if blocked { ", some addresses could not be set up" } else { "" },
            tally.map_or(String::new(), |t| format!(", ExaBGP answered done {} error {}", t.done, t.errors)),
        )
    }

    /// In `--dry-run`, say on stderr what happens and why.
    fn explain(&self, text: &str) {
        if self.dry_run {
            let limits = self.cfg.thresholds;
            let progress = match self.machine.state {
                State::Rising => format!(" ({} of {} passes for UP)", self.machine.counter, limits.rise),
                State::Falling => format!(" ({} of {} failures for DOWN)", self.machine.counter, limits.fall),
                _ => String::new(),
            };
            if crate::logging::is_json() {
                log::info!(dry_run = true; "{text}{progress}");
                return;
            }
            match &self.cfg.section {
                Some(section) => crate::say!("dry-run: [{section}] {text}{progress}"),
                None => crate::say!("dry-run: {text}{progress}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Net> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn shown(routes: Vec<Net>) -> Vec<String> {
        routes.iter().map(ToString::to_string).collect()
    }

    fn settings(argv: &[&str]) -> ServiceConfig {
        let mut all = vec!["exabgp-healthcheck"];
        all.extend_from_slice(argv);
        let Ok(crate::cli::Parsed::Run(args)) = crate::cli::parse(all) else { panic!("{argv:?}") };
        crate::config::Settings::from_args(*args).unwrap().services.remove(0)
    }

    #[test]
    fn splay_puts_the_first_check_below_the_interval() {
        let now = Instant::now();
        let cfg = settings(&["--splay", "--interval", "2"]);
        for seed in [0, 1, 1_999_999_999, 2_000_000_000, u64::MAX, 0x1234_5678_9abc] {
            let wait = first_check(&cfg, now, seed) - now;
            assert!(wait < std::time::Duration::from_secs(2), "{seed}: {wait:?}");
        }
        assert_eq!(first_check(&cfg, now, 1_500_000_000) - now, std::time::Duration::from_millis(1500));
        assert_eq!(first_check(&settings(&["--interval", "2"]), now, 12345), now, "no --splay: at once");
        assert_eq!(first_check(&settings(&["--splay", "--interval", "0"]), now, 12345), now);
    }

    /// A service of `argv` (plus `--no-ip-setup --rise 1 --interval 5 --drain-time 3`, no
    /// check: always healthy), driven by hand on a clock of our own.
    struct Driven {
        service: Service,
        t0: Instant,
    }

    impl Driven {
        fn new(argv: &[&str]) -> Driven {
            let mut all = vec!["--no-ip-setup", "--rise", "1", "--interval", "5", "--drain-time", "3"];
            all.extend_from_slice(argv);
            let cfg = settings(&all);
            let routes = routes(&cfg.nets.iter().map(|n| n.net).collect::<Vec<_>>(), false, 0);
            let t0 = Instant::now();
            let service = Service::new(0, cfg, false, routes, None, t0);
            Driven { service, t0 }
        }

        fn at(&self, seconds: f64) -> Instant {
            self.t0 + std::time::Duration::from_secs_f64(seconds)
        }

        /// One iteration at `seconds` (hooks, if any, are skipped as if they passed, and so is a
        /// check): the lines it wrote.
        fn iterate(&mut self, seconds: f64) -> Vec<String> {
            self.iterate_with(seconds, true)
        }

        /// One iteration at `seconds` whose check, if it runs one, passes if `ok`.
        fn iterate_with(&mut self, seconds: f64, ok: bool) -> Vec<String> {
            let mut cx = Cx::at(self.at(seconds));
            let mut next = self.service.begin(&mut cx);
            loop {
                next = match next {
                    Next::Hook(_) => {
                        let outcome = Outcome {
                            status: Status::Exited(0),
                            duration: Duration::ZERO,
                            output: Vec::new(),
                            dropped: 0,
                        };
                        self.service.on_hook(outcome, &mut cx)
                    }
                    Next::Check(_) if ok => self.service.on_verdict(Verdict::pass("exit 0"), &mut cx),
                    Next::Check(_) => self.service.on_verdict(Verdict::fail("exit 1"), &mut cx),
                    Next::Wait => return cx.lines,
                    Next::Address(op) => panic!("no address work here: {op:?}"),
                };
            }
        }

        fn due(&self) -> f64 {
            (self.service.due().expect("waiting") - self.t0).as_secs_f64()
        }
    }

    const UP: &str = "announce route 192.0.2.1/32 next-hop self med 100";
    const DRAINING: &str =
        "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]";
    const DRAINED: &str = "withdraw route 192.0.2.1/32 next-hop self";

    #[test]
    fn the_drain_file_drains_on_time_and_its_removal_starts_again_from_init() {
        let dir = std::env::temp_dir().join(format!("ehc-service-drain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("drain");
        let _ = std::fs::remove_file(&file);
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--drain-file", file.to_str().unwrap()]);
        assert_eq!(d.iterate(0.0), [UP]);
        assert_eq!(d.due(), 5.0);
        std::fs::write(&file, "").unwrap();
        assert_eq!(d.iterate(5.0), [DRAINING]);
        assert_eq!(d.service.state(), State::Draining);
        // At the drain's end, not at the next interval (10 s).
        assert_eq!(d.due(), 8.0);
        assert_eq!(d.iterate(8.0), [DRAINED]);
        assert_eq!(d.service.state(), State::Drained);
        assert_eq!(d.due(), 13.0);
        assert_eq!(d.iterate(13.0), [DRAINED], "withdrawn again at each interval, as DOWN is");
        std::fs::remove_file(&file).unwrap();
        assert!(d.iterate(18.0).is_empty());
        assert_eq!(d.service.state(), State::Init);
        assert_eq!(d.iterate(23.0), [UP]);
        // A drain time longer than the interval: DRAINING refreshed at its interval, then DRAINED
        // on time.
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--drain-file", file.to_str().unwrap(), "--drain-time", "7"]);
        assert_eq!(d.iterate(0.0), [UP]);
        std::fs::write(&file, "").unwrap();
        assert_eq!(d.iterate(5.0), [DRAINING]);
        assert_eq!(d.due(), 10.0);
        assert_eq!(d.iterate(10.0), [DRAINING]);
        assert_eq!(d.due(), 12.0);
        assert_eq!(d.iterate(12.0), [DRAINED]);
        // A drain with nothing announced (the file there at start-up): DRAINED at once, no
        // DRAINING line.
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--drain-file", file.to_str().unwrap()]);
        assert_eq!(d.iterate(0.0), [DRAINED]);
        assert_eq!((d.service.state(), d.due()), (State::Drained, 5.0));
        std::fs::remove_file(&file).unwrap();
        assert!(d.iterate(5.0).is_empty());
        assert_eq!(d.iterate(10.0), [UP]);
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn a_drain_request_is_acted_upon_at_once_and_resume_clears_only_the_request() {
        let dir = std::env::temp_dir().join(format!("ehc-service-request-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("drain");
        let _ = std::fs::remove_file(&file);
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--drain-file", file.to_str().unwrap()]);
        assert_eq!(d.iterate(0.0), [UP]);
        d.service.request_drain(true, d.at(1.0));
        assert!(d.service.drain_requested());
        assert_eq!(d.due(), 1.0);
        assert_eq!(d.iterate(1.0), [DRAINING]);
        d.service.request_drain(true, d.at(2.0));
        assert_eq!(d.due(), 4.0, "asking again changes nothing");
        assert_eq!(d.iterate(4.0), [DRAINED]);
        // The file holds the drain after the request is taken back.
        std::fs::write(&file, "").unwrap();
        d.service.request_drain(false, d.at(5.0));
        assert_eq!(d.due(), 5.0);
        assert_eq!(d.iterate(5.0), [DRAINED]);
        assert_eq!(d.service.state(), State::Drained);
        std::fs::remove_file(&file).unwrap();
        assert!(d.iterate(10.0).is_empty());
        assert_eq!(d.service.state(), State::Init);
        // A request during an iteration (its check runs): the next one starts as soon as it is
        // over.
        let mock = crate::probe::mock::Mock::new(Duration::from_millis(1), &[]);
        d.service = std::mem::replace(&mut d.service, Driven::new(&[]).service).with_probe(probe::Spec::Mock(mock));
        let now = d.at(15.0);
        assert!(matches!(d.service.begin(&mut Cx::at(now)), Next::Check(_)));
        d.service.request_drain(true, now);
        let mut later = Cx::at(d.at(15.5));
        assert!(matches!(d.service.on_verdict(Verdict::pass("exit 0"), &mut later), Next::Wait));
        assert_eq!(later.lines, [UP], "that iteration went on: INIT -> UP");
        assert_eq!(d.due(), 15.5);
        assert_eq!(d.iterate(15.5), [DRAINING]);
        d.service.request_drain(false, d.at(16.0));
        assert!(d.iterate(16.0).is_empty());
        assert_eq!(d.service.state(), State::Init);
        assert_eq!(d.iterate(21.0), [UP]);
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn with_interval_zero_a_drain_still_reaches_drained_on_time_then_ends() {
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--interval", "0"]);
        assert_eq!(d.iterate(0.0), [UP]);
        assert!(d.service.ended());
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--interval", "0"]);
        let mut cx = Cx::at(d.at(0.0));
        d.service.assume_announced(&[("192.0.2.1/32".parse().unwrap(), 100)]);
        d.service.request_drain(true, d.at(0.0));
        assert!(matches!(d.service.begin(&mut cx), Next::Wait));
        assert_eq!(cx.lines, [DRAINING]);
        assert!(!d.service.ended(), "DRAINED is still to come");
        assert_eq!(d.due(), 3.0);
        assert_eq!(d.iterate(3.0), [DRAINED]);
        assert!(d.service.ended());
    }

    #[test]
    fn a_drain_carried_over_a_reload_ends_when_the_first_one_would_have() {
        let mut old = Driven::new(&["--ip", "192.0.2.1"]);
        assert_eq!(old.iterate(0.0), [UP]);
        old.service.request_drain(true, old.at(1.0));
        assert_eq!(old.iterate(1.0), [DRAINING]);
        let since = old.service.draining_since();
        assert_eq!(since, Some(old.at(1.0)));
        // Replaced at 2.5 s, its routes still announced, the drain asked for still on.
        let mut new = Driven::new(&["--ip", "192.0.2.1", "--up-metric", "50"]);
        new.t0 = old.t0;
        new.service.assume_announced(&[("192.0.2.1/32".parse().unwrap(), 1000)]);
        new.service.request_drain(true, new.at(2.5));
        new.service.carry_drain(since);
        assert_eq!(new.iterate(2.5), [DRAINING]);
        assert_eq!(new.due(), 4.0, "the drain time counts from the first DRAINING, not again");
        assert_eq!(new.iterate(4.0), [DRAINED]);
    }

    #[test]
    fn a_service_replacing_another_knows_what_is_still_announced() {
        let mut old = Driven::new(&["--ip", "192.0.2.1", "--ip", "192.0.2.2"]);
        assert_eq!(old.iterate(0.0).len(), 2);
        // The new one keeps 192.0.2.1 under the same paths: it stays announced, med 100.
        let mut new = Driven::new(&["--ip", "192.0.2.1", "--rise", "3", "--up-metric", "50"]);
        let (routes, announce) = (new.service.routes().to_vec(), new.service.cfg().announce.clone());
        let mut cx = Cx::at(old.at(1.0));
        let kept = old.service.withdraw_all_but(&routes, &announce, &mut cx);
        assert_eq!(cx.lines, ["withdraw route 192.0.2.2/32 next-hop self"]);
        assert_eq!(kept, [("192.0.2.1/32".parse().unwrap(), 100)]);
        assert_eq!(new.service.announced().next().unwrap().1, None, "before it is told");
        new.service.assume_announced(&kept);
        assert_eq!(new.service.announced().collect::<Vec<_>>(), [("192.0.2.1/32".parse().unwrap(), Some(100))]);
        // So a drain asked for before its first lines drains it rather than withdrawing at once.
        new.service.request_drain(true, new.at(0.0));
        assert_eq!(new.iterate(0.0), [DRAINING]);

        // Under another path identifier nothing stays announced: all is withdrawn.
        let mut old = Driven::new(&["--ip", "192.0.2.1", "--path-id", "7"]);
        old.iterate(0.0);
        let new = Driven::new(&["--ip", "192.0.2.1", "--path-id", "8"]);
        let mut cx = Cx::at(old.at(1.0));
        let kept = old.service.withdraw_all_but(new.service.routes(), &new.service.cfg().announce, &mut cx);
        assert!(kept.is_empty());
        assert_eq!(cx.lines, ["withdraw route 192.0.2.1/32 next-hop self path-information 7"]);
    }

    #[test]
    fn without_a_drain_nothing_changes_and_the_disable_file_yields_to_the_drain() {
        let dir = std::env::temp_dir().join(format!("ehc-service-disable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disable = dir.join("disable");
        std::fs::write(&disable, "").unwrap();
        let mut d = Driven::new(&["--ip", "192.0.2.1", "--disable", disable.to_str().unwrap()]);
        let disabled = "announce route 192.0.2.1/32 next-hop self med 500";
        assert_eq!(d.iterate(0.0), [disabled]);
        assert_eq!(d.due(), 5.0);
        d.service.request_drain(true, d.at(1.0));
        assert_eq!(d.iterate(1.0), [DRAINING]);
        assert_eq!(d.iterate(4.0), [DRAINED]);
        d.service.request_drain(false, d.at(6.0));
        assert!(d.iterate(6.0).is_empty(), "INIT first");
        assert_eq!(d.iterate(11.0), [disabled]);
        std::fs::remove_file(&disable).unwrap();
        let _ = std::fs::remove_dir(&dir);
    }

    const DOWN: &str = "announce route 192.0.2.1/32 next-hop self med 1000";

    /// A flapping service with a check (always answered by the test) and `--dampening`.
    fn flapping(extra: &[&str]) -> Driven {
        let mut all = vec!["--ip", "192.0.2.1", "--fall", "1"];
        all.extend_from_slice(extra);
        let mut d = Driven::new(&all);
        let mock = crate::probe::mock::Mock::new(Duration::from_millis(1), &[]);
        d.service = std::mem::replace(&mut d.service, Driven::new(&[]).service).with_probe(probe::Spec::Mock(mock));
        d
    }

    /// UP at 0, then DOWN and UP again every 5 s until the fourth DOWN at 35 s: penalties
    /// 1000, 1891, 2685, 3392 with the default half-life (60 s).
    fn flap_four_times(d: &mut Driven) {
        assert_eq!(d.iterate_with(0.0, true), [UP]);
        for i in 0..4 {
            let t = 5.0 + 10.0 * f64::from(i);
            assert_eq!(d.iterate_with(t, false), [DOWN], "{t}");
            if i < 3 {
                assert_eq!(d.iterate_with(t + 5.0, true), [UP], "{t}");
            }
        }
    }

    #[test]
    fn a_flapping_service_is_suppressed_until_its_penalty_decays_then_rises_again() {
        let mut d = flapping(&["--dampening"]);
        flap_four_times(&mut d);
        let penalty = d.service.penalty(d.at(35.0)).unwrap();
        assert!((3391.0..3393.0).contains(&penalty), "{penalty}");
        // Suppressed: the next iteration comes at once and enters SUPPRESSED, whose lines are
        // DOWN's.
        assert_eq!(d.due(), 35.0);
        assert_eq!(d.iterate_with(35.0, true), [DOWN]);
        assert_eq!(d.service.state(), State::Suppressed);
        let reuse = (d.service.reuse_at().unwrap() - d.t0).as_secs_f64();
        let want = 35.0 + 60.0 * (penalty / 750.0).log2();
        assert!((reuse - want).abs() < 1e-3, "{reuse} {want}");
        // Announced as DOWN at each interval whatever the check says (it runs, and does not
        // count).
        let mut t = 40.0;
        let mut ok = true;
        let (checks, mut iterations) = (d.service.checks, 0);
        while t < reuse {
            iterations += 1;
            assert_eq!(d.due(), t);
            assert_eq!(d.iterate_with(t, ok), [DOWN], "{t}");
            assert_eq!(d.service.state(), State::Suppressed);
            t += 5.0;
            ok = !ok;
        }
        assert_eq!(d.service.checks, checks + iterations, "a check at each interval");
        // It wakes up when the penalty is below reuse, not at its next interval.
        assert_eq!(d.due(), reuse);
        assert!(d.iterate_with(reuse, true).is_empty());
        assert_eq!(d.service.state(), State::Init);
        assert!(d.service.penalty(d.at(reuse)).unwrap() <= 750.0);
        assert_eq!(d.service.reuse_at(), None);
        assert_eq!(d.iterate_with(reuse + 5.0, true), [UP]);
        // The penalty is still there: two flaps soon after suppress again (750+ + 2000).
        assert_eq!(d.iterate_with(reuse + 10.0, false), [DOWN]);
        assert_eq!(d.iterate_with(reuse + 15.0, true), [UP]);
        assert_eq!(d.iterate_with(reuse + 20.0, false), [DOWN]);
        assert_eq!(d.iterate_with(reuse + 25.0, true), [UP]);
        assert_eq!(d.iterate_with(reuse + 30.0, false), [DOWN]);
        assert_eq!(d.due(), reuse + 30.0);
        assert_eq!(d.iterate_with(reuse + 30.0, true), [DOWN]);
        assert_eq!(d.service.state(), State::Suppressed);
    }

    #[test]
    fn a_flap_storm_is_suppressed_no_longer_than_max_suppress() {
        // The penalty is capped at what decays to reuse in max-suppress: 750 × 2^(20/10) = 3000.
        let args = ["--dampening", "--dampening-half-life", "10", "--dampening-max-suppress", "20s"];
        let mut d = flapping(&[&args[..], &["--dampening-suppress", "2000"]].concat());
        assert_eq!(d.iterate_with(0.0, true), [UP]);
        for t in [1.0, 2.0] {
            assert_eq!(d.iterate_with(t, false), [DOWN]);
            assert_eq!(d.iterate_with(t + 0.5, true), [UP]);
        }
        assert_eq!(d.iterate_with(3.0, false), [DOWN]);
        assert_eq!(d.iterate_with(3.0, true), [DOWN]);
        assert_eq!(d.service.state(), State::Suppressed);
        let penalty = d.service.penalty(d.at(3.0)).unwrap();
        assert!(penalty > 2000.0 && penalty <= 3000.0, "{penalty}");
        let reuse = (d.service.reuse_at().unwrap() - d.t0).as_secs_f64();
        assert!(reuse > 3.0 + 19.0 && reuse <= 3.0 + 20.0, "{reuse}");
        for t in [8.0, 13.0, 18.0] {
            assert_eq!(d.iterate_with(t, true), [DOWN]);
        }
        assert_eq!(d.due(), reuse);
        assert!(d.iterate_with(reuse, true).is_empty());
        assert_eq!(d.service.state(), State::Init);
    }

    #[test]
    fn only_up_to_down_is_a_flap() {
        let mut d = flapping(&["--dampening", "--rise", "2", "--fall", "2"]);
        // INIT -> FALLING -> DOWN: never up, no penalty.
        assert!(d.iterate_with(0.0, false).is_empty());
        assert_eq!(d.iterate_with(1.0, false), [DOWN]);
        assert_eq!(d.service.penalty(d.at(1.0)), Some(0.0));
        // UP -> FALLING -> DOWN: one flap; FALLING -> RISING -> UP on the way: none.
        d.iterate_with(6.0, true);
        assert_eq!(d.iterate_with(7.0, true), [UP]);
        d.iterate_with(12.0, false);
        d.iterate_with(13.0, true);
        d.iterate_with(14.0, true);
        assert_eq!(d.service.state(), State::Up);
        assert_eq!(d.service.penalty(d.at(14.0)), Some(0.0));
        d.iterate_with(19.0, false);
        assert_eq!(d.iterate_with(20.0, false), [DOWN]);
        assert_eq!(d.service.penalty(d.at(20.0)), Some(1000.0));
        // DOWN again after a refresh of DOWN: not a flap.
        assert_eq!(d.iterate_with(25.0, false), [DOWN]);
        assert_eq!(d.service.penalty(d.at(20.0)), Some(1000.0));
    }

    #[test]
    fn the_drain_wins_over_suppression_and_a_reload_keeps_the_penalty() {
        let mut d = flapping(&["--dampening"]);
        flap_four_times(&mut d);
        assert_eq!(d.iterate_with(35.0, true), [DOWN]);
        d.service.request_drain(true, d.at(36.0));
        assert_eq!(d.iterate_with(36.0, true), [DRAINING]);
        assert_eq!(d.iterate_with(39.0, true), [DRAINED]);
        d.service.request_drain(false, d.at(40.0));
        assert!(d.iterate_with(40.0, true).is_empty());
        assert_eq!(d.service.state(), State::Init);
        // Still suppressed: SUPPRESSED again, not UP.
        assert_eq!(d.iterate_with(45.0, true), [DOWN]);
        assert_eq!(d.service.state(), State::Suppressed);
        // A reload that changes it: the new service goes on suppressed until the same time.
        let reuse = d.service.reuse_at();
        let mut new = flapping(&["--dampening", "--up-metric", "50"]);
        new.t0 = d.t0;
        new.service.carry_penalty(d.service.penalty_state());
        assert_eq!(new.service.reuse_at(), reuse);
        assert!(new.iterate_with(46.0, true).len() == 1);
        assert_eq!(new.service.state(), State::Suppressed);
        // Without --dampening the new one has no penalty at all.
        let mut plain = flapping(&[]);
        plain.service.carry_penalty(d.service.penalty_state());
        assert_eq!((plain.service.penalty(d.at(46.0)), plain.service.reuse_at()), (None, None));
    }

    #[test]
    fn without_dampening_a_flapping_service_is_never_suppressed() {
        let mut d = flapping(&["--dampening-suppress", "1001"]);
        for i in 0..20 {
            let t = 10.0 * f64::from(i);
            assert_eq!(d.iterate_with(t, true), [UP]);
            assert_eq!(d.iterate_with(t + 5.0, false), [DOWN]);
            assert_eq!(d.due(), t + 10.0);
        }
        assert_eq!(d.service.penalty(d.at(200.0)), None);
        assert!(!d.service.report(None).contains("penalty"));
    }

    #[test]
    fn with_debounce_suppressed_after_down_writes_nothing_more() {
        let mut d = flapping(&["--dampening", "--debounce"]);
        flap_four_times(&mut d);
        assert!(d.iterate_with(35.0, true).is_empty());
        assert_eq!(d.service.state(), State::Suppressed);
        assert!(d.service.report(None).contains(", penalty 3392"), "{}", d.service.report(None));
    }

    #[test]
    fn routes_are_rotated_like_a_python_deque() {
        let list = nets(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
        assert_eq!(shown(routes(&list, false, 0)), ["192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32"]);
        assert_eq!(shown(routes(&list, false, 1)), ["192.0.2.2/32", "192.0.2.3/32", "192.0.2.1/32"]);
        assert_eq!(shown(routes(&list, false, 4)), ["192.0.2.2/32", "192.0.2.3/32", "192.0.2.1/32"]);
        assert_eq!(shown(routes(&list, false, -1)), ["192.0.2.3/32", "192.0.2.1/32", "192.0.2.2/32"]);
        assert!(routes(&[], false, 3).is_empty());
    }

    #[test]
    fn deaggregation_expands_every_address_then_rotates() {
        let list = nets(&["192.0.2.0/31", "2001:db8::/127"]);
        assert_eq!(
            shown(routes(&list, true, 1)),
            ["192.0.2.1/32", "2001:db8::/128", "2001:db8::1/128", "192.0.2.0/32"]
        );
    }
}
