//! The main loop: one thread that owns all state. It runs the check and the hooks itself and
//! waits in one `poll()` for their exit and output, for the events of the other threads
//! (ExaBGP's replies, signals, closed pipes) and for the next check's time, so a signal or
//! ExaBGP's exit is handled at once, even in the middle of a check. No thread is started per
//! check, and no result is handed from one thread to another.

use crate::addr::ledger::{self, Addresses, Removal};
use crate::addr::{AddrError, AddressBackend, NetlinkBackend, SudoBackend};
use crate::config::{Mode, ProcessConfig, ServiceConfig, Settings, LOOPBACK};
use crate::exabgp::lines;
use crate::proc::{Capture, Outcome, Running, Spec, Status};
pub mod events;

use crate::exabgp::pipe::{self, Acks, Writer};
use crate::exabgp::reply::Reply;
use crate::net::Net;
use crate::service::fsm::{Machine, Observation, State};
use crate::service::hooks;
use crate::sys;
use anyhow::Context;
use events::{Event, Inbox};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    /// Withdraw everything, remove addresses, exit 0.
    Exit(String),
    /// `--interval 0`: leave everything as it is, exit 0.
    End,
}

/// How long the exit path waits for the withdraws to reach ExaBGP (ExaBGP 5 kills us 2 s
/// after its SIGTERM).
const EXIT_FLUSH: Duration = Duration::from_millis(1000);

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

/// The address backend the configuration asks for.
pub fn backend(sudo: bool) -> anyhow::Result<Box<dyn AddressBackend + Send>> {
    ledger::prepare_for_panic(if sudo { open_sudo } else { open_netlink });
    Ok(if sudo {
        Box::new(SudoBackend::new().context("failed to open a netlink socket")?)
    } else {
        Box::new(NetlinkBackend::new().context("failed to open a netlink socket")?)
    })
}

fn open_sudo() -> Result<Box<dyn AddressBackend + Send>, AddrError> {
    Ok(Box::new(SudoBackend::new()?))
}

fn open_netlink() -> Result<Box<dyn AddressBackend + Send>, AddrError> {
    Ok(Box::new(NetlinkBackend::new()?))
}

/// The networks to advertise: `--ip`, or those found on `lo`.
pub fn service_nets(cfg: &ServiceConfig) -> anyhow::Result<Vec<Net>> {
    if !cfg.nets.is_empty() {
        return Ok(cfg.nets.iter().map(|n| n.net).collect());
    }
    let mut backend = NetlinkBackend::new().context("failed to open a netlink socket")?;
    let found = ledger::discover(&mut backend, cfg.label.as_deref(), cfg.label_exact_match)
        .with_context(|| format!("failed to list the addresses of {LOOPBACK}"))?;
    log::debug!(
        "System addresses ({LOOPBACK}) detected: {}",
        found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    Ok(found)
}

/// Run as ExaBGP's process (or `--dry-run`) until told to stop. Returns the exit status.
pub fn run(settings: Settings) -> anyhow::Result<i32> {
    let Settings { process, mut services } = settings;
    let cfg = services.remove(0);
    let (tx, inbox) = events::channel().context("failed to create the event channel")?;
    let stop = Arc::new(AtomicBool::new(false));
    listen_for_signals(tx.clone(), Arc::clone(&stop))?;
    if let Some(pid) = &process.pid_file {
        sys::write_pid_file(pid).with_context(|| format!("--pid {}", pid.display()))?;
    }
    let result = Runner::start(process.clone(), cfg, tx, inbox, stop).map(|mut runner| runner.main_loop());
    if let Some(pid) = &process.pid_file {
        sys::remove_pid_file(pid);
    }
    result
}

fn listen_for_signals(tx: events::Sender, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1]).context("failed to set up signals")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGTERM || signal == SIGINT {
                    stop.store(true, Ordering::SeqCst);
                }
                if tx.send(Event::Signal(signal)).is_err() {
                    return;
                }
            }
        })
        .context("failed to start the signal thread")?;
    Ok(())
}

struct Runner {
    process: ProcessConfig,
    cfg: ServiceConfig,
    /// Signals, ExaBGP's replies and closed pipes, from the other threads.
    inbox: Inbox,
    stop: Arc<AtomicBool>,
    writer: Writer,
    routes: Vec<Net>,
    addresses: Option<Addresses>,
    acks: Option<Acks>,
    machine: Machine,
    checks: u64,
}

impl Runner {
    fn start(
        process: ProcessConfig,
        cfg: ServiceConfig,
        tx: events::Sender,
        inbox: Inbox,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<Runner> {
        let nets = service_nets(&cfg)?;
        if nets.is_empty() {
            log::error!("No IP found");
            return Err(anyhow::Error::new(NoIpFound));
        }
        let routes = routes(&nets, cfg.deaggregate, cfg.start_ip);
        sys::set_last_words(&lines::render(State::Exit, &cfg.announce, &routes));

        let dry_run = process.mode == Mode::DryRun;
        // ExaBGP's answers pace our lines unless there is nobody to answer, or `--no-ack`
        // says that acknowledgements are off.
        let reading = !dry_run && sys::stdin_is_a_pipe();
        let answers = Arc::new(pipe::Answers::default());
        let pacing = (reading && process.ack).then(|| Arc::clone(&answers));
        let writer = Writer::start_direct(std::io::stdout(), tx.clone(), pacing);
        if reading {
            pipe::start_reader(std::io::BufReader::new(std::io::stdin()), tx.clone(), answers);
        }
        let acks = (process.ack && !dry_run).then(Acks::default);

        let mut addresses = None;
        if cfg.manages_addresses(process.mode) {
            let services: Vec<_> = if cfg.nets.is_empty() {
                nets.iter().map(|&net| crate::config::ServiceNet { net, ifname: LOOPBACK.to_owned() }).collect()
            } else {
                cfg.nets.clone()
            };
            let mut managed = Addresses::new(
                backend(process.sudo)?,
                &services,
                cfg.label.clone(),
                cfg.label_exact_match,
                cfg.dynamic_ip_setup,
            );
            if cfg.ip_setup {
                managed.setup(&stop);
            }
            addresses = Some(managed);
        }
        let runner =
            Runner { process, cfg, inbox, stop, writer, routes, addresses, acks, machine: Machine::START, checks: 0 };
        // Addresses still change after start-up (retries, --dynamic-ip-setup, removal at exit):
        // keep CAP_NET_ADMIN for that, unless sudo does the work.
        let keep_net_admin = runner.cfg.manages_addresses(runner.process.mode) && !runner.process.sudo;
        if let Err(err) =
            sys::drop_privileges(runner.process.user.as_ref(), runner.process.group.as_ref(), keep_net_admin)
        {
            let mut runner = runner;
            runner.shutdown(&Stop::Exit("privileges could not be dropped".into()));
            return Err(err);
        }
        Ok(runner)
    }

    fn main_loop(&mut self) -> i32 {
        let stop = self.iterate();
        self.shutdown(&stop);
        crate::exit::OK
    }

    /// Iterations until something stops us.
    fn iterate(&mut self) -> Stop {
        if self.stop.load(Ordering::SeqCst) {
            return Stop::Exit("signal during start-up".into());
        }
        let mut next = Instant::now();
        loop {
            if let Err(stop) = self.wait(Some(next), None) {
                return stop;
            }
            let started = Instant::now();
            match self.iteration() {
                Ok(()) => {}
                Err(stop) => return stop,
            }
            let pause = if self.machine.state.is_transient() {
                self.cfg.fast_interval
            } else if self.cfg.interval.is_zero() {
                log::info!("interval set to zero, exiting after the announcement");
                return Stop::End;
            } else {
                self.cfg.interval
            };
            // Start to start: a long check does not push the schedule back.
            next = (started + pause).max(Instant::now());
        }
    }

    fn iteration(&mut self) -> Result<(), Stop> {
        let disabled = self.cfg.disable_file.clone().filter(|f| f.exists());
        let (ok, seen) = match &disabled {
            Some(file) => (true, format!("disabled ({} exists)", file.display())),
            None => self.check()?,
        };
        let before = self.machine.state;
        let step = self.machine.step(Observation { disabled: disabled.is_some(), ok }, self.cfg.thresholds);
        self.machine = step.next;
        let change = match step.entered {
            Some(entered) => format!("{before} -> {entered}"),
            None => format!("stays {before}"),
        };
        self.explain(&format!("{seen}: {change}"));
        if let Some(entered) = step.entered {
            log::debug!("Transition to {entered}");
            if before != entered {
                log::info!("{before} -> {entered}");
            }
            let specs = hooks::specs(&self.cfg.hooks, entered, self.cfg.timeout);
            if !specs.is_empty() {
                for outcome in self.run_job(specs)? {
                    match outcome.status {
                        Status::Exited(0) => {}
                        Status::TimedOut => log::warn!("hook for {entered} timed out and was killed"),
                        other => log::warn!("hook for {entered} failed: {}", describe(&other)),
                    }
                }
            }
        }
        let changed = self.machine.state != before;
        if changed || (!self.cfg.debounce && self.writer.backlog() == 0) {
            self.announce(self.machine.state);
        } else if !self.cfg.debounce {
            // ExaBGP has not read our last lines (the pipe is full): queueing the same state
            // again would only grow memory. A change of state is always queued.
            log::debug!("ExaBGP is not reading: {} lines still queued, refresh skipped", self.writer.backlog());
        }
        self.retry_addresses();
        Ok(())
    }

    /// Run the check command; whether it passed, and how, in words.
    fn check(&mut self) -> Result<(bool, String), Stop> {
        let Some(command) = self.cfg.command.clone() else {
            return Ok((true, "no check command: healthy".to_owned()));
        };
        self.checks += 1;
        log::debug!("Checking command {command:?}");
        let spec = Spec { timeout: self.cfg.timeout, capture: Capture::Merged, ..Spec::shell(command.clone()) };
        let outcome = self.run_job(vec![spec])?.into_iter().next();
        let Some(outcome) = outcome else { return Ok((false, "the check did not run".to_owned())) };
        let output = String::from_utf8_lossy(&outcome.output).trim().to_owned();
        let passed = outcome.success();
        match &outcome.status {
            Status::Exited(0) => log::debug!("Command was executed successfully 0 {output}"),
            Status::TimedOut => {
                let limit = self.cfg.timeout.map_or(0.0, |t| t.as_secs_f64());
                log::warn!("Timeout ({limit}) while running check command {command}");
            }
            other => {
                log::warn!("Check command was unsuccessful: {}", describe(other));
                if !output.is_empty() {
                    let more = if outcome.dropped > 0 {
                        format!(" [{} more bytes not shown]", outcome.dropped)
                    } else {
                        String::new()
                    };
                    log::info!("Output of check command: {output}{more}");
                }
            }
        }
        let seen = format!(
            "check #{} {} (exit {}, {} ms)",
            self.checks,
            if passed { "passed" } else { "failed" },
            describe(&outcome.status),
            outcome.duration.as_millis()
        );
        Ok((passed, seen))
    }

    /// Run commands one after the other, handling other events meanwhile.
    fn run_job(&mut self, specs: Vec<Spec>) -> Result<Vec<Outcome>, Stop> {
        let mut outcomes = Vec::with_capacity(specs.len());
        for spec in &specs {
            let mut running = match Running::start(spec) {
                Ok(running) => running,
                Err(outcome) => {
                    outcomes.push(outcome);
                    continue;
                }
            };
            match self.wait(None, Some(&mut running)) {
                Ok(Some(outcome)) => outcomes.push(outcome),
                Ok(None) => outcomes.push(running.cancel()),
                Err(stop) => {
                    // We are stopping: the command must not outlive us.
                    running.cancel();
                    return Err(stop);
                }
            }
        }
        Ok(outcomes)
    }

    /// Handle events until `deadline`, or, with a `command`, until it is over (then its
    /// outcome): one `poll()` on the event channel, the command's exit and its output.
    fn wait(&mut self, deadline: Option<Instant>, mut command: Option<&mut Running>) -> Result<Option<Outcome>, Stop> {
        // What the last poll found readable: the event socket; the command's exit, its output.
        // Each is read only then.
        let (mut woken, mut exited, mut readable) = (false, false, false);
        loop {
            if woken {
                self.inbox.clear();
            }
            for event in self.inbox.pending() {
                self.on_event(event)?;
            }
            let until = match command.as_deref_mut() {
                Some(running) => {
                    if let Some(outcome) = running.advance(exited, readable) {
                        return Ok(Some(outcome));
                    }
                    running.deadline()
                }
                None if deadline.is_some_and(|at| Instant::now() >= at) => return Ok(None),
                None => deadline,
            };
            let mut fds = vec![PollFd::new(self.inbox.fd(), PollFlags::POLLIN)];
            let slots = command.as_deref().map(|running| running.poll_fds(&mut fds));
            (woken, exited, readable) = (false, false, false);
            match crate::proc::watch::poll_until(&mut fds, until) {
                Ok(_) => {
                    woken = fds[0].revents().is_some_and(|r| !r.is_empty());
                    (exited, readable) = slots.map_or((false, false), |slots| slots.ready(&fds));
                }
                Err(Errno::EINTR) => {}
                Err(errno) => {
                    log::error!("failed to wait for events: {errno}");
                    return Err(Stop::Exit("poll failed".into()));
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) -> Result<(), Stop> {
        match event {
            Event::Signal(signal) => self.on_signal(signal),
            Event::Reply(reply, text) => self.on_reply(reply, &text),
            Event::StdinClosed => {
                log::info!("ExaBGP closed our stdin: it is gone");
                Err(Stop::Exit("stdin closed".into()))
            }
            Event::StdoutClosed(err) => {
                log::info!("ExaBGP no longer reads our stdout ({err}): it is gone");
                Err(Stop::Exit("stdout closed".into()))
            }
        }
    }

    fn on_signal(&mut self, signal: i32) -> Result<(), Stop> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
        match signal {
            SIGTERM | SIGINT => {
                let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
                log::info!("received {name}, withdrawing and exiting");
                Err(Stop::Exit(name.into()))
            }
            SIGUSR1 => {
                let blocked = self.addresses.as_ref().is_some_and(Addresses::any_blocked);
                log::info!(
                    "state {} (counter {}), {} checks run, {} routes{}{}",
                    self.machine.state,
                    self.machine.counter,
                    self.checks,
                    self.routes.len(),
                    if blocked { ", some addresses could not be set up" } else { "" },
                    self.acks
                        .as_ref()
                        .map_or(String::new(), |a| format!(", ExaBGP answered done {} error {}", a.done, a.errors)),
                );
                Ok(())
            }
            SIGHUP => {
                log::info!("received SIGHUP: ignored (the configuration is read at start-up only)");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn on_reply(&mut self, reply: Reply, text: &str) -> Result<(), Stop> {
        log::debug!("exabgp replied: {text}");
        match reply {
            Reply::Shutdown => {
                log::info!("ExaBGP is shutting down");
                return Err(Stop::Exit("ExaBGP shutdown".into()));
            }
            Reply::Error(ref message) => {
                let Some(acks) = self.acks.as_mut() else { return Ok(()) };
                let line = acks.answered(&reply).unwrap_or_else(|| "(unknown command)".into());
                let reason = message.as_ref().map_or(String::new(), |m| format!(" ({m})"));
                let hint = if acks.done == 0 {
                    "; ExaBGP ignores every command of a process that is not listed in its neighbors' \
                     api { processes [ ... ]; }"
                } else {
                    ""
                };
                log::error!("ExaBGP answered error{reason} to: {line}{hint}");
            }
            Reply::Done => {
                if let Some(acks) = self.acks.as_mut() {
                    acks.answered(&reply);
                }
            }
            Reply::Other => {}
        }
        Ok(())
    }

    /// Write the lines for `state`, with the address work around them.
    fn announce(&mut self, state: State) {
        if !lines::announces(state) {
            return;
        }
        let dynamic = self.cfg.dynamic_ip_setup;
        if state == State::Up && dynamic {
            if let Some(addresses) = self.addresses.as_mut() {
                log::info!("service up, restoring loopback and ip-ifname ips");
                addresses.setup(&self.stop);
            }
        }
        log::info!("send announces for {state} state to ExaBGP");
        let lines = lines::render(state, &self.cfg.announce, &self.routes);
        for (route, line) in self.routes.iter().zip(lines) {
            let blocked = state != State::Exit && self.addresses.as_ref().is_some_and(|a| a.route_blocked(route));
            if blocked {
                log::debug!("not announcing {route}: its address is not set up");
                continue;
            }
            log::debug!("exabgp: {line}");
            if let Some(acks) = self.acks.as_mut() {
                acks.sent(&line);
            }
            self.writer.send(line);
        }
        if matches!(state, State::Down | State::Disabled) && dynamic {
            if let Some(addresses) = self.addresses.as_mut() {
                log::info!("service down, deleting setup ips");
                addresses.remove(Removal::Dynamic);
            }
        }
    }

    /// Addresses that could not be set up are tried again at each iteration, except while the
    /// service is down with `--dynamic-ip-setup` (they are meant to be gone then).
    fn retry_addresses(&mut self) {
        let wanted = !self.cfg.dynamic_ip_setup || self.machine.state == State::Up;
        if let Some(addresses) = self.addresses.as_mut().filter(|a| a.any_blocked() && wanted) {
            addresses.setup(&self.stop);
        }
    }

    /// The exit path: stop the running command, withdraw, remove our addresses.
    fn shutdown(&mut self, stop: &Stop) {
        if *stop == Stop::End {
            self.writer.flush(EXIT_FLUSH);
            return;
        }
        self.explain(&format!("stopping: {} -> EXIT", self.machine.state));
        self.announce(State::Exit);
        if !self.writer.flush(EXIT_FLUSH) {
            log::warn!("ExaBGP did not take the withdraws within {} ms", EXIT_FLUSH.as_millis());
        }
        if let Some(addresses) = self.addresses.as_mut() {
            log::info!("exiting, deleting setup ips");
            addresses.remove(Removal::Exit);
        }
        if let Some(acks) = &self.acks {
            log::debug!("ExaBGP answered done {} times, error {} times", acks.done, acks.errors);
        }
    }

    /// In `--dry-run`, say on stderr what happens and why.
    fn explain(&self, text: &str) {
        if self.process.mode == Mode::DryRun {
            let limits = self.cfg.thresholds;
            let progress = match self.machine.state {
                State::Rising => format!(" ({} of {} passes for UP)", self.machine.counter, limits.rise),
                State::Falling => format!(" ({} of {} failures for DOWN)", self.machine.counter, limits.fall),
                _ => String::new(),
            };
            eprintln!("dry-run: {text}{progress}");
        }
    }
}

/// No service address: neither `--ip` nor any on `lo` (exit status 1, as the reference).
#[derive(Debug)]
pub struct NoIpFound;

impl std::fmt::Display for NoIpFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no service address: give --ip, or put the addresses on lo")
    }
}

impl std::error::Error for NoIpFound {}

/// A command's end in words.
pub fn describe(status: &Status) -> String {
    match status {
        Status::Exited(code) => code.to_string(),
        Status::Signaled(signal) => format!("killed by signal {signal}"),
        Status::TimedOut => "timed out".to_owned(),
        Status::Cancelled => "cancelled".to_owned(),
        Status::SpawnFailed(why) => why.clone(),
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

    #[test]
    fn statuses_in_words() {
        assert_eq!(describe(&Status::Exited(2)), "2");
        assert_eq!(describe(&Status::Signaled(9)), "killed by signal 9");
    }
}
