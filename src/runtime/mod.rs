//! The reactor: the one place the main thread waits. It owns the services (keyed by
//! [`ServiceId`]), the jobs in flight (at most one per service: its check or one of its hooks),
//! ExaBGP's pipes and the lane of address work ([`crate::addr::lane`]), and waits in one
//! `ppoll()` for the event channel ([`events`]: signals, ExaBGP's replies, closed pipes), every
//! job's descriptors, the address lane's and the next deadline (a service's next iteration, a
//! job's timeout, an address operation's). Each wake-up is routed to the service it concerns;
//! a service answers with what it wants done next and the lines to write, and the reactor does
//! it. So one service's slow check, hook or address work never holds up another, and a signal
//! or ExaBGP's exit is handled at once, even while checks or `sudo` run.
//!
//! A new process-wide option: a field of [`crate::config::ProcessConfig`], used here.

mod dispatch;
mod endpoint;
pub mod events;
mod plan;
mod reload;
pub mod signals;
mod slot;
mod stopping;

use plan::{raise_descriptor_limit, random, refuse_shared_discoveries, tag_for, Plan};
use slot::{drive, track, Ended, Slot};

use crate::addr::lane::Lane;
use crate::addr::ledger::{Addresses, Host};
use crate::addr::op::Answer;
use crate::addr::{self, Sudo};
use crate::config::{Mode, ProcessConfig, ServiceConfig, ServiceNet, Settings, LOOPBACK};
use crate::endpoint::{Endpoint, Request, View};
use crate::error::UsageError;
use crate::exabgp::answers::{Acks, Answers};
use crate::exabgp::inbound::Heard;
use crate::exabgp::lines::{self, Announcement};
use crate::exabgp::pipe::{self, Ticket, Writer};
use crate::exabgp::reply::Reply;
use crate::exabgp::Outbox;
use crate::net::Net;
use crate::poll::poll_until;
use crate::poll::Ready;
use crate::probe::{self, Probe};
use crate::proc::{Outcome, Running};
use crate::service::{self, Cx, Next, Service, ServiceId};
use crate::{exit, logging, safety, sys};
use anyhow::Context;
use events::{Event, Inbox};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use signals::Signal;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Withdraw everything, remove addresses, exit 0.
    Exit,
    /// `--interval 0`: every service announced once; leave everything as it is, exit 0.
    End,
}

/// Debug builds only, for the watchdog's test: with `EXABGP_HEALTHCHECK_TEST_STALL=SECONDS`,
/// SIGUSR1 makes the main loop hang that long, as a blocking call would.
fn test_stall() {
    #[cfg(debug_assertions)]
    if let Some(seconds) = std::env::var("EXABGP_HEALTHCHECK_TEST_STALL").ok().and_then(|s| s.parse().ok()) {
        std::thread::sleep(Duration::from_secs_f64(seconds));
    }
}

/// Run as ExaBGP's process (or `--dry-run`) until told to stop, serving the endpoints that
/// `open` opens. Returns the exit status.
pub fn run(settings: Settings, reload: Option<Reload>, open: OpenEndpoints) -> anyhow::Result<exit::Code> {
    let (tx, inbox) = events::channel().context("failed to create the event channel")?;
    let stop = Arc::new(AtomicBool::new(false));
    signals::listen(tx.clone(), Arc::clone(&stop))?;
    let process = settings.process.clone();
    if let Some(pid) = &process.pid_file {
        sys::write_pid_file(pid).with_context(|| format!("--pid {}", pid.display()))?;
    }
    let watchdog = process.watchdog;
    let result = Reactor::start(settings, reload, open, tx, inbox, stop).and_then(|mut reactor| {
        if let Some(limit) = watchdog {
            let heartbeat = safety::start_watchdog(limit).context("failed to start the --watchdog thread")?;
            reactor.heartbeat = Some((heartbeat, limit));
        }
        Ok(reactor.main_loop())
    });
    if let Some(pid) = &process.pid_file {
        sys::remove_pid_file(pid);
    }
    result
}

struct Reactor {
    process: ProcessConfig,
    /// Signals, ExaBGP's replies and closed pipes, from the other threads.
    inbox: Inbox,
    /// Set by SIGTERM and SIGINT (before the loop runs, too).
    stop: Arc<AtomicBool>,
    out: Outbox,
    /// The address work of every service; `None` when no service changes addresses in this run.
    lane: Option<Lane>,
    /// The services, in their order in the configuration (not by id: a reload removes some).
    slots: Vec<Slot>,
    /// Services a reload removed or replaced, until their address work is over.
    leaving: Vec<Slot>,
    /// Which service holds each address it added or recognised (a marked address that one
    /// holds was not left by an earlier run: another service leaves it alone).
    held: BTreeMap<Host, ServiceId>,
    /// How to read the configuration again; `None`: there is no file to read.
    reload: Option<Reload>,
    /// A reload waiting for the address lane's listing of `lo`.
    reloading: Option<reload::Pending>,
    /// The id of the next service to start (ids are never reused in a run).
    next_id: ServiceId,
    /// The metrics file and listener, the control socket: what the process serves.
    endpoints: Vec<Box<dyn Endpoint>>,
    /// Grows whenever a service may have changed ([`View::generation`]).
    generation: u64,
    /// What the last poll found ready for each endpoint, in their order.
    endpoint_ready: Vec<Ready>,
    /// What the last poll found ready among the address lane's descriptors.
    lane_ready: Ready,
    /// `--watchdog`: what the loop beats each time it comes round, and the limit (the poll
    /// never waits longer than half of it).
    heartbeat: Option<(Arc<safety::Heartbeat>, Duration)>,
}

/// Reads the configuration again (SIGHUP): what `main` read at start-up, read the same way.
pub type Reload = Box<dyn FnMut() -> Result<Settings, UsageError>>;

/// Opens the endpoints the settings ask for (sockets bound), at start-up before any service
/// starts: [`crate::serve::open`].
pub type OpenEndpoints = fn(&ProcessConfig) -> Result<Vec<Box<dyn Endpoint>>, UsageError>;

impl Reactor {
    fn start(
        settings: Settings,
        reload: Option<Reload>,
        open: OpenEndpoints,
        tx: events::Sender,
        inbox: Inbox,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<Reactor> {
        let Settings { process, services } = settings;
        let plans = services.into_iter().map(Plan::new).collect::<anyhow::Result<Vec<Plan>>>()?;
        let found: Vec<(&ServiceConfig, &[Net])> = plans.iter().map(|plan| (&plan.cfg, &plan.nets[..])).collect();
        refuse_shared_discoveries(&found)?;

        let dry_run = process.mode == Mode::DryRun;
        // ExaBGP's answers pace our lines unless there is nobody to answer, or `--no-ack`
        // says that acknowledgements are off.
        let reading = !dry_run && sys::stdin_is_a_pipe();
        let answers = Arc::new(Answers::default());
        let pacing = (reading && process.ack).then(|| Arc::clone(&answers));
        let writer = Writer::start_direct(std::io::stdout(), tx.clone(), pacing);
        if reading {
            pipe::start_reader(std::io::stdin(), tx, answers);
        }
        let acks = (process.ack && !dry_run).then(Acks::default);
        let out = Outbox { writer, acks };

        if plans.len() > 1 {
            raise_descriptor_limit();
        }
        let endpoints = open(&process)?;
        let manages = plans.iter().any(|plan| plan.cfg.manages_addresses(process.mode));
        let lane = if manages { Some(open_lane(process.sudo)?) } else { None };
        let mut reactor = Reactor::new(process, inbox, stop, out, lane, Vec::new());
        reactor.reload = reload;
        reactor.endpoints = endpoints;
        let several = plans.len() > 1;
        for plan in plans {
            let id = reactor.next_id;
            reactor.next_id += 1;
            let ledger = plan.ledger(reactor.process.mode);
            let slot = reactor.launch(id, plan, several, ledger);
            reactor.slots.push(slot);
        }
        // Addresses change in the loop (the set-up, retries, --dynamic-ip-setup, removal at
        // exit): keep CAP_NET_ADMIN for that, unless sudo does the work.
        let keep_net_admin = reactor.lane.is_some() && !reactor.process.sudo;
        let (user, group) = (reactor.process.user.as_ref(), reactor.process.group.as_ref());
        if let Err(err) = sys::drop_privileges(user, group, keep_net_admin) {
            reactor.shutdown(Stop::Exit);
            return Err(err);
        }
        Ok(reactor)
    }

    /// Service `id` of `plan`, in INIT and due now, with `ledger` (its addresses are set up
    /// at its first iteration).
    fn launch(&mut self, id: ServiceId, plan: Plan, several: bool, ledger: Option<Addresses>) -> Slot {
        let tag = tag_for(several, &plan.cfg, id);
        safety::set_last_words(id, &lines::render(Announcement::Exit, &plan.cfg.announce, &plan.routes));
        // Without a lane nothing changes addresses: a ledger would have nobody to act on it.
        let ledger = ledger.filter(|_| self.lane.is_some());
        let dry_run = self.process.mode == Mode::DryRun;
        let first = service::first_check(&plan.cfg, Instant::now(), random());
        let service = Service::new(id, plan.cfg, dry_run, plan.routes, ledger, first);
        Slot::new(service, tag, plan.nets)
    }

    /// A reactor over `services`.
    fn new(
        process: ProcessConfig,
        inbox: Inbox,
        stop: Arc<AtomicBool>,
        out: Outbox,
        lane: Option<Lane>,
        services: Vec<Service>,
    ) -> Reactor {
        let several = services.len() > 1;
        let next_id = services.iter().map(|s| s.id + 1).max().unwrap_or(0);
        let slots = services
            .into_iter()
            .map(|service| {
                let tag = tag_for(several, service.cfg(), service.id);
                let nets = service.routes().to_vec();
                Slot::new(service, tag, nets)
            })
            .collect();
        Reactor {
            process,
            inbox,
            stop,
            out,
            lane,
            slots,
            leaving: Vec::new(),
            held: BTreeMap::new(),
            reload: None,
            reloading: None,
            next_id,
            endpoints: Vec::new(),
            generation: 0,
            endpoint_ready: Vec::new(),
            lane_ready: Ready::NONE,
            heartbeat: None,
        }
    }

    fn main_loop(&mut self) -> exit::Code {
        let stop = self.react();
        for slot in &mut self.slots {
            if let Some(job) = slot.job.take() {
                job.cancel();
            }
        }
        self.shutdown(stop);
        exit::Code::Ok
    }

    /// Route every wake-up until something stops us.
    fn react(&mut self) -> Stop {
        if self.stop.load(Ordering::SeqCst) {
            return Stop::Exit;
        }
        // Start-up is over: what it alone ran need not stay mapped; stderr must not hold us up.
        crate::resident::trim();
        crate::console::detach(crate::logging::dropped_notice);
        // Whether the last poll found the event socket readable: only then is it read.
        let mut woken = false;
        loop {
            if woken {
                self.inbox.clear();
            }
            for event in self.inbox.pending() {
                if let Err(stop) = self.on_event(event) {
                    return stop;
                }
            }
            self.answer_addresses();
            self.finish_reload();
            for id in 0..self.slots.len() {
                let tag = self.slots[id].tag.clone();
                logging::scoped(tag.as_ref(), || self.advance(id));
            }
            if self.slots.iter().all(|slot| slot.service.ended()) {
                return Stop::End;
            }
            self.serve();
            let mut until = self.next_deadline();
            if let Some((heartbeat, limit)) = &self.heartbeat {
                heartbeat.beat();
                let soon = Instant::now() + *limit / 2;
                until = Some(until.map_or(soon, |at| at.min(soon)));
            }
            let mut fds = vec![PollFd::new(self.inbox.fd(), PollFlags::POLLIN)];
            let mut ranges = Vec::with_capacity(self.slots.len() + self.endpoints.len() + 1);
            for slot in &self.slots {
                let first = fds.len();
                if let Some(job) = &slot.job {
                    job.poll_fds(&mut fds);
                }
                ranges.push(first..fds.len());
            }
            for endpoint in &self.endpoints {
                let first = fds.len();
                endpoint.poll_fds(&mut fds);
                ranges.push(first..fds.len());
            }
            let first = fds.len();
            if let Some(lane) = &self.lane {
                lane.poll_fds(&mut fds);
            }
            ranges.push(first..fds.len());
            woken = false;
            match poll_until(&mut fds, until) {
                Ok(_) => {
                    woken = fds[0].revents().is_some_and(|r| !r.is_empty());
                    let mut ready: Vec<Ready> = ranges.into_iter().map(|range| Ready::of(&fds[range])).collect();
                    drop(fds);
                    self.lane_ready = ready.pop().unwrap_or_default();
                    self.endpoint_ready = ready.split_off(self.slots.len());
                    for (slot, ready) in self.slots.iter_mut().zip(ready) {
                        slot.ready = ready;
                    }
                }
                Err(Errno::EINTR) => {}
                Err(errno) => {
                    log::error!("failed to wait for events: {errno}");
                    return Stop::Exit;
                }
            }
        }
    }

    /// The earliest instant something must happen without a wake-up: a service's next
    /// iteration, a job's deadline, an endpoint's, or a reload's wait for the listing of `lo`.
    fn next_deadline(&self) -> Option<Instant> {
        let services = self.slots.iter().filter_map(|slot| match &slot.job {
            Some(job) => job.deadline(),
            None => slot.service.due(),
        });
        let lane = self.lane.as_ref().and_then(Lane::deadline);
        let reloading = self.reloading.as_ref().map(|pending| pending.deadline);
        let endpoints = self.endpoints.iter().filter_map(|endpoint| endpoint.deadline());
        services.chain(endpoints).chain(lane).chain(reloading).min()
    }

    /// Hand every answer the address lane has to the service it is for (a running one, or one
    /// that is leaving), and let go of the services that left.
    fn answer_addresses(&mut self) {
        let Some(lane) = self.lane.as_mut() else { return };
        let mut ready = std::mem::take(&mut self.lane_ready);
        let mut answered = Vec::new();
        while let Some(answer) = lane.advance(ready) {
            answered.push(answer);
            ready = Ready::NONE;
        }
        for (owner, answer) in answered {
            self.deliver(owner, answer);
        }
        self.leaving.retain(|slot| {
            let gone = slot.service.gone();
            if gone {
                safety::forget(slot.service.id);
            }
            !gone
        });
    }

    /// Hand `answer` to service `owner`.
    fn deliver(&mut self, owner: ServiceId, answer: Answer) {
        if owner == reload::LISTING {
            return self.on_listing(answer);
        }
        let Reactor { slots, leaving, out, held, lane, generation, .. } = self;
        let Some(slot) = slots.iter_mut().chain(leaving.iter_mut()).find(|slot| slot.service.id == owner) else {
            return;
        };
        *generation += 1;
        let tag = slot.tag.clone();
        logging::scoped(tag.as_ref(), || {
            drive(slot, out, held, lane.as_mut(), |service, cx| service.on_address(answer, cx));
            track(held, &slot.service);
        });
    }

    /// Advance every endpoint with what the last poll found for it, and do what they ask.
    fn serve(&mut self) {
        if self.endpoints.is_empty() {
            return;
        }
        let mut ready = std::mem::take(&mut self.endpoint_ready);
        ready.resize(self.endpoints.len(), Ready::NONE);
        let mut asks = Vec::new();
        let seen = endpoint::Seen { slots: &self.slots, out: &self.out };
        let view = View::new(&seen, self.out.tally(), self.generation);
        for (endpoint, ready) in self.endpoints.iter_mut().zip(ready) {
            endpoint.advance(ready, &view, &mut asks);
        }
        for ask in asks {
            self.on_request(ask);
        }
    }

    /// Do what an endpoint asked.
    fn on_request(&mut self, request: Request) {
        self.generation += 1;
        match request {
            Request::CheckNow(which) => {
                let now = Instant::now();
                for slot in self.slots.iter_mut().filter(|slot| which.matches(&slot.service)) {
                    slot.service.check_now(now);
                }
            }
            Request::Drain(which, on) => {
                let now = Instant::now();
                for slot in self.slots.iter_mut().filter(|slot| which.matches(&slot.service)) {
                    let service = &mut slot.service;
                    logging::scoped(slot.tag.as_ref(), || service.request_drain(on, now));
                }
            }
        }
    }

    /// Move service `id` on: its job with what the poll found, or its next iteration when its
    /// time has come.
    fn advance(&mut self, id: usize) {
        let Reactor { slots, out, held, lane, generation, .. } = self;
        let slot = &mut slots[id];
        let ready = std::mem::take(&mut slot.ready);
        let ended = match slot.job.as_mut() {
            Some(job) => match job.advance(ready) {
                None => return,
                Some(ended) => {
                    slot.job = None;
                    Some(ended)
                }
            },
            None => match slot.service.due() {
                Some(at) if Instant::now() >= at => None,
                _ => return,
            },
        };
        *generation += 1;
        drive(slot, out, held, lane.as_mut(), |service, cx| match ended {
            Some(Ended::Verdict(verdict)) => service.on_verdict(verdict, cx),
            Some(Ended::Hook(outcome)) => service.on_hook(outcome, cx),
            None => service.begin(cx),
        });
    }
}

/// The same reply logged this many times in a row at most (at debug level); then their count.
const REPLIES_LOGGED: u64 = 8;

/// The lane of address work (with `--sudo`, additions and removals through `sudo`), and the
/// panic hook told how to open a backend of the same kind.
fn open_lane(sudo: bool) -> anyhow::Result<Lane> {
    safety::set_backend(addr::opener(sudo));
    Lane::open(sudo.then(Sudo::new)).context("failed to open a netlink socket")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Parsed};
    use crate::config::ServiceConfig;
    use crate::exabgp::pipe::Sink;
    use crate::probe::mock::Mock;
    use crate::state::State;

    fn settings(argv: &[&str]) -> (ProcessConfig, ServiceConfig) {
        let mut all = vec!["exabgp-healthcheck", "--no-ip-setup", "--no-ack"];
        all.extend_from_slice(argv);
        let Ok(Parsed::Run(args)) = parse(all) else { panic!("{argv:?}") };
        let mut settings = Settings::from_args(*args).unwrap();
        (settings.process, settings.services.remove(0))
    }

    fn service(id: ServiceId, argv: &[&str], mock: &Mock) -> Service {
        let (_, cfg) = settings(argv);
        let routes = service::routes(&addr::networks(&cfg).unwrap(), false, 0);
        Service::new(id, cfg, false, routes, None, Instant::now()).with_probe(probe::Spec::Mock(mock.clone()))
    }

    /// Run `services` in a reactor writing to a [`Sink`] until SIGTERM comes after `after`.
    fn run_for(services: Vec<Service>, after: Duration) -> Sink {
        let (process, _) = settings(&[]);
        let (tx, inbox) = events::channel().unwrap();
        let sink = Sink::default();
        let out = Outbox { writer: Writer::start(sink.clone(), tx.clone(), None), acks: None };
        let stop = Arc::new(AtomicBool::new(false));
        let mut reactor = Reactor::new(process, inbox, stop, out, None, services);
        let terminate = std::thread::spawn(move || {
            std::thread::sleep(after);
            tx.send(Event::Signal(Signal::Terminate)).unwrap();
        });
        assert_eq!(reactor.main_loop(), exit::Code::Ok);
        terminate.join().unwrap();
        sink
    }

    fn gaps(mock: &Mock) -> Vec<Duration> {
        let started = mock.started.lock().unwrap();
        started.windows(2).map(|pair| pair[1] - pair[0]).collect()
    }

    #[test]
    fn a_slow_check_and_a_hung_hook_of_one_service_do_not_hold_up_another() {
        // The slow one: a check of 300 ms, then (UP at once) a hook that hangs for 600 ms,
        // then the same at every interval.
        let slow = Mock::new(Duration::from_millis(300), &[]);
        let slow_service =
            service(0, &["--ip", "192.0.2.1", "--rise", "1", "--interval", "0.05", "--execute", "sleep 0.6"], &slow);
        // The quick one: a check every 50 ms.
        let quick = Mock::new(Duration::from_millis(1), &[]);
        let quick_service = service(1, &["--ip", "192.0.2.2", "--interval", "0.05", "--fast-interval", "0.05"], &quick);
        let sink = run_for(vec![slow_service, quick_service], Duration::from_millis(1500));
        let quick_gaps = gaps(&quick);
        assert!(quick_gaps.len() >= 10, "only {} quick checks in 1.5 s", quick_gaps.len() + 1);
        // Run inline, the hook alone would hold the quick one up for 600 ms.
        let longest = quick_gaps.iter().max().unwrap();
        assert!(*longest < Duration::from_millis(250), "a quick check waited {longest:?}: {quick_gaps:?}");
        assert!(slow.started.lock().unwrap().len() >= 2, "the slow service checked again after its hook");
        let lines = sink.lines();
        let up = |ip: &str| format!("announce route {ip}/32 next-hop self med 100");
        assert!(lines.contains(&up("192.0.2.1")), "{lines:?}");
        assert!(lines.contains(&up("192.0.2.2")), "{lines:?}");
        // The exit withdraws every service's routes, each after its announcements.
        let last_two: Vec<&str> = lines.iter().rev().take(2).map(String::as_str).collect();
        assert!(last_two.contains(&"withdraw route 192.0.2.1/32 next-hop self"), "{lines:?}");
        assert!(last_two.contains(&"withdraw route 192.0.2.2/32 next-hop self"), "{lines:?}");
    }

    #[test]
    fn each_service_keeps_its_own_state_and_lines() {
        // One fails every check (DOWN after 2), the other passes (UP after 2).
        let failing = Mock::new(Duration::from_millis(1), &[false; 100]);
        let passing = Mock::new(Duration::from_millis(1), &[]);
        let args = |ip| ["--ip", ip, "--rise", "2", "--fall", "2", "--interval", "0.02", "--fast-interval", "0.02"];
        let sink = run_for(
            vec![service(0, &args("192.0.2.1"), &failing), service(1, &args("192.0.2.2"), &passing)],
            Duration::from_millis(400),
        );
        let lines = sink.lines();
        let down = "announce route 192.0.2.1/32 next-hop self med 1000".to_owned();
        let up = "announce route 192.0.2.2/32 next-hop self med 100".to_owned();
        assert!(lines.contains(&down) && lines.contains(&up), "{lines:?}");
        // Every check refreshes each service's announcement: one service's line just queued
        // does not make the other skip its refresh.
        for line in [&down, &up] {
            let times = lines.iter().filter(|l| *l == line).count();
            assert!(times >= 5, "{line} only {times} times in 400 ms at 20 ms: {lines:?}");
        }
        assert!(!lines.iter().any(|l| l.contains("192.0.2.1/32") && l.ends_with(" med 100")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("192.0.2.2/32") && l.ends_with(" med 1000")), "{lines:?}");
    }

    #[test]
    fn with_interval_zero_the_run_ends_once_every_service_has_announced() {
        let mock = Mock::new(Duration::from_millis(1), &[]);
        let args = |ip| ["--ip", ip, "--rise", "1", "--interval", "0"];
        let (process, _) = settings(&[]);
        let (tx, inbox) = events::channel().unwrap();
        let sink = Sink::default();
        let out = Outbox { writer: Writer::start(sink.clone(), tx, None), acks: None };
        let services = vec![service(0, &args("192.0.2.1"), &mock), service(1, &args("192.0.2.2"), &mock)];
        let mut reactor = Reactor::new(process, inbox, Arc::new(AtomicBool::new(false)), out, None, services);
        assert_eq!(reactor.react(), Stop::End);
        reactor.shutdown(Stop::End);
        assert_eq!(
            sink.lines(),
            ["announce route 192.0.2.1/32 next-hop self med 100", "announce route 192.0.2.2/32 next-hop self med 100"],
            "no withdraw after --interval 0"
        );
    }

    /// Each wake-up an endpoint saw: the generation, and `label=STATE` of each service.
    type Seen = std::rc::Rc<std::cell::RefCell<Vec<(u64, Vec<String>)>>>;

    /// An endpoint that waits on a pipe: when a byte comes, it asks service `b` to check now.
    struct Asker {
        pipe: std::os::fd::OwnedFd,
        /// What it asks for when a byte comes.
        ask: Request,
        seen: Seen,
        closed: std::rc::Rc<std::cell::Cell<bool>>,
    }

    impl Endpoint for Asker {
        fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
            use std::os::fd::AsFd;
            fds.push(PollFd::new(self.pipe.as_fd(), PollFlags::POLLIN));
        }
        fn deadline(&self) -> Option<Instant> {
            None
        }
        fn advance(&mut self, ready: Ready, view: &View<'_>, asks: &mut Vec<Request>) {
            let states = view.services().map(|s| format!("{}={}", s.label().unwrap_or("-"), s.state())).collect();
            self.seen.borrow_mut().push((view.generation(), states));
            if ready.is(0) {
                let mut byte = [0u8; 1];
                nix::unistd::read(&self.pipe, &mut byte).unwrap();
                asks.push(self.ask.clone());
            }
        }
        fn close(&mut self) {
            self.closed.set(true);
        }
    }

    #[test]
    fn an_endpoint_is_woken_by_its_descriptors_sees_the_services_and_asks_for_checks() {
        let (a, b) = (Mock::new(Duration::from_millis(1), &[]), Mock::new(Duration::from_millis(1), &[]));
        let args = |ip, name| ["--ip", ip, "--name", name, "--rise", "1", "--interval", "30"];
        let services = vec![service(0, &args("192.0.2.1", "a"), &a), service(1, &args("192.0.2.2", "b"), &b)];
        let (read, write) = nix::unistd::pipe().unwrap();
        let seen = std::rc::Rc::default();
        let closed = std::rc::Rc::new(std::cell::Cell::new(false));
        let ask = Request::CheckNow(crate::endpoint::Which::Named("b".into()));
        let asker = Asker { pipe: read, ask, seen: std::rc::Rc::clone(&seen), closed: std::rc::Rc::clone(&closed) };

        let (process, _) = settings(&[]);
        let (tx, inbox) = events::channel().unwrap();
        let out = Outbox { writer: Writer::start(Sink::default(), tx.clone(), None), acks: None };
        let mut reactor = Reactor::new(process, inbox, Arc::new(AtomicBool::new(false)), out, None, services);
        reactor.endpoints.push(Box::new(asker));
        let poke = std::thread::spawn(move || {
            for _ in 0..2 {
                std::thread::sleep(Duration::from_millis(150));
                nix::unistd::write(&write, b"x").unwrap();
            }
            std::thread::sleep(Duration::from_millis(150));
            tx.send(Event::Signal(Signal::Terminate)).unwrap();
            // The pipe stays open through the exit path, which serves the endpoint too (a
            // hung-up pipe would poll ready at every turn).
            write
        });
        assert_eq!(reactor.main_loop(), exit::Code::Ok);
        drop(poke.join().unwrap());

        assert_eq!(a.started.lock().unwrap().len(), 1, "a checks at its time only");
        assert_eq!(b.started.lock().unwrap().len(), 3, "b checks at once when asked, twice");
        assert!(closed.get(), "closed at the end");
        let seen = seen.borrow();
        assert_eq!(seen.last().unwrap().1, ["a=UP", "b=UP"]);
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "the generation never goes back");
        assert!(seen.last().unwrap().0 > seen[0].0, "and grows as the services change");
        // Woken by its pipe or the services' work, not in a busy loop.
        assert!(seen.len() < 50, "{} wake-ups", seen.len());

        // What the services report: b checked three times, announced UP at each, withdrew at
        // the exit.
        let b = &reactor.slots[1].service;
        let stats = b.stats();
        assert_eq!((stats.passed, stats.failed, stats.announces, stats.withdraws), (3, 0, 3, 1));
        assert_eq!(stats.times_entered(State::Up), 1);
        assert!(stats.last_check.is_some_and(|c| c.ok));
        let routes: Vec<(String, Option<i64>)> = b.announced().map(|(n, m)| (n.to_string(), m)).collect();
        assert_eq!(routes, [("192.0.2.2/32".to_owned(), None)], "withdrawn at the exit");
    }

    #[test]
    fn an_endpoint_asks_one_service_to_drain_and_the_other_stays_up() {
        let (a, b) = (Mock::new(Duration::from_millis(1), &[]), Mock::new(Duration::from_millis(1), &[]));
        let args = |ip, name| ["--ip", ip, "--name", name, "--rise", "1", "--interval", "30", "--drain-time", "0.1"];
        let services = vec![service(0, &args("192.0.2.1", "a"), &a), service(1, &args("192.0.2.2", "b"), &b)];
        let (read, write) = nix::unistd::pipe().unwrap();
        let ask = Request::Drain(crate::endpoint::Which::Named("a".into()), true);
        let seen: Seen = std::rc::Rc::default();
        let closed = std::rc::Rc::new(std::cell::Cell::new(false));
        let asker = Asker { pipe: read, ask, seen: std::rc::Rc::clone(&seen), closed };
        let (process, _) = settings(&[]);
        let (tx, inbox) = events::channel().unwrap();
        let sink = Sink::default();
        let out = Outbox { writer: Writer::start(sink.clone(), tx.clone(), None), acks: None };
        let mut reactor = Reactor::new(process, inbox, Arc::new(AtomicBool::new(false)), out, None, services);
        reactor.endpoints.push(Box::new(asker));
        let poke = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            nix::unistd::write(&write, b"x").unwrap();
            std::thread::sleep(Duration::from_millis(400));
            tx.send(Event::Signal(Signal::Terminate)).unwrap();
        });
        assert_eq!(reactor.main_loop(), exit::Code::Ok);
        poke.join().unwrap();
        let states: Vec<Vec<String>> = seen.borrow().iter().map(|(_, states)| states.clone()).collect();
        assert!(states.contains(&vec!["a=DRAINING".to_owned(), "b=UP".to_owned()]), "{states:?}");
        assert_eq!(states.last().unwrap(), &["a=DRAINED", "b=UP"], "{states:?}");
        let lines = sink.lines();
        assert!(
            lines.iter().any(|l| l.starts_with(
                "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]"
            )),
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("announce route 192.0.2.2/32") && l.contains("65535:0")),
            "{lines:?}"
        );
    }
}
