//! Probes: what judges a service healthy or not, one check at a time. Every kind keeps the same
//! contract, so that the reactor runs any number of them at once in its one poll: it adds its
//! descriptors ([`Probe::poll_fds`]), says when it must be looked at even if none polls ready
//! ([`Probe::deadline`]), and moves on at each wake-up ([`Probe::advance`]) until it gives its
//! [`Verdict`]. Kinds: the shell check ([`shell`], `--command`), the native checks of `--check`
//! ([`tcp`], [`http`], [`dns`], [`ntp`], [`icmp`]; their URLs: [`url`]), several at once as one ([`all`]), and
//! [`mock`] for tests.
//!
//! A new kind: a module here with a type implementing [`Probe`], a [`Spec`] variant that
//! describes it, and its arm in [`start`].

pub mod all;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod mock;
pub mod ntp;
pub mod shell;
pub mod tcp;
pub mod url;

use crate::poll::{poll_until, Ready};
use nix::poll::PollFd;
use std::time::{Duration, Instant};
use url::{CheckUrl, Target};

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    /// It failed because its `--timeout` ran out (the metrics count those apart).
    pub timed_out: bool,
    /// How it ended, in words, for `--dry-run` (`exit 0, 12 ms`).
    pub detail: String,
    /// How long it took to its answer (a command: its run time), when the check measured it
    /// (`--metric-from latency`).
    pub took: Option<Duration>,
    /// A command's first line of output (`--metric-from output`).
    pub output: Option<String>,
}

impl Verdict {
    /// Healthy.
    pub fn pass(detail: impl Into<String>) -> Verdict {
        Verdict { ok: true, timed_out: false, detail: detail.into(), took: None, output: None }
    }

    /// Unhealthy, for a reason other than the timeout.
    pub fn fail(detail: impl Into<String>) -> Verdict {
        Verdict { ok: false, timed_out: false, detail: detail.into(), took: None, output: None }
    }

    /// Unhealthy: the timeout ran out first.
    pub fn timeout(detail: impl Into<String>) -> Verdict {
        Verdict { ok: false, timed_out: true, detail: detail.into(), took: None, output: None }
    }

    /// The same verdict, with how long the check took.
    pub fn timed(self, took: Duration) -> Verdict {
        Verdict { took: Some(took), ..self }
    }

    /// A native check's verdict on `judged` (healthy: its detail and how long it took), logged
    /// as every native check logs it: healthy at debug, unhealthy at warning, `URL: REASON`.
    pub fn logged(url: &str, judged: Result<(String, Duration), String>) -> Verdict {
        match judged {
            Ok((detail, took)) => {
                log::debug!("{url}: {detail}");
                Verdict::pass(detail).timed(took)
            }
            Err(reason) => {
                log::warn!("{url}: {reason}");
                Verdict::fail(reason)
            }
        }
    }
}

/// A check in flight.
pub trait Probe {
    /// Add what to wait for to `fds` (the reactor's poll set).
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>);
    /// When [`Probe::advance`] must be called even if nothing polls ready.
    fn deadline(&self) -> Option<Instant>;
    /// Move on after a wake-up; `ready` is the poll's result for what [`Probe::poll_fds`]
    /// added. The verdict once the check is over.
    fn advance(&mut self, ready: Ready) -> Option<Verdict>;
    /// Stop the check now (we are stopping): nothing of it may outlive this call.
    fn cancel(&mut self);
}

/// A check to start.
#[derive(Debug, Clone)]
pub enum Spec {
    /// `--command`: a shell command, healthy when it exits 0 within the timeout.
    Shell(shell::Shell),
    /// `--check tcp://...`.
    Tcp(tcp::Tcp),
    /// `--check http://...`.
    Http(http::Http),
    /// `--check dns://...`.
    Dns(dns::Dns),
    /// `--check ntp://...`.
    Ntp(ntp::Ntp),
    /// `--check icmp://...`.
    Icmp(icmp::Icmp),
    /// Several of the above at once: healthy when every one is.
    All(Vec<Spec>),
    /// Verdicts scripted in advance (tests).
    Mock(mock::Mock),
}

impl Spec {
    /// A service's check: its `--command` and `--check`s, each under `timeout`; `None`: no
    /// check at all (always healthy).
    pub fn of(command: Option<&str>, checks: &[CheckUrl], timeout: Option<Duration>) -> Option<Spec> {
        let shell = command.map(|command| Spec::Shell(shell::Shell { command: command.to_owned(), timeout }));
        let mut all: Vec<Spec> = shell.into_iter().chain(checks.iter().map(|url| Spec::native(url, timeout))).collect();
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Spec::All(all)),
        }
    }

    fn native(url: &CheckUrl, timeout: Option<Duration>) -> Spec {
        let text = url.text.clone();
        match &url.target {
            Target::Tcp(target) => Spec::Tcp(tcp::Tcp { url: text, target: target.clone(), timeout }),
            Target::Http(target) => Spec::Http(http::Http { url: text, target: target.clone(), timeout, roots: None }),
            Target::Dns(target) => Spec::Dns(dns::Dns { url: text, target: target.clone(), timeout }),
            Target::Ntp(target) => Spec::Ntp(ntp::Ntp { url: text, target: target.clone(), timeout }),
            Target::Icmp(host) => Spec::Icmp(icmp::Icmp { url: text, host: *host, timeout }),
        }
    }
}

/// Start the check `spec` describes; one that cannot even start is its verdict at once.
pub fn start(spec: &Spec) -> Result<Box<dyn Probe>, Verdict> {
    match spec {
        Spec::Shell(shell) => shell.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Tcp(tcp) => tcp.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Http(http) => http.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Dns(dns) => dns.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Ntp(ntp) => ntp.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Icmp(icmp) => icmp.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::All(specs) => Ok(Box::new(all::All::new(specs.iter().map(start).collect()))),
        Spec::Mock(mock) => Ok(Box::new(mock.start())),
    }
}

/// Run the check `spec` describes to its verdict, waiting for nothing else (`--once`).
pub fn run_alone(spec: &Spec) -> Verdict {
    match start(spec) {
        Ok(mut probe) => drive(probe.as_mut(), None).expect("no limit: a verdict"),
        Err(verdict) => verdict,
    }
}

/// Drive a check in flight to its verdict, in a poll of its own; `None` if `limit` came first.
pub fn drive(probe: &mut dyn Probe, limit: Option<Instant>) -> Option<Verdict> {
    let mut ready = Ready::NONE;
    loop {
        if let Some(verdict) = probe.advance(ready) {
            return Some(verdict);
        }
        if limit.is_some_and(|at| Instant::now() >= at) {
            return None;
        }
        let mut fds = Vec::new();
        probe.poll_fds(&mut fds);
        let until = match (probe.deadline(), limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ready = match poll_until(&mut fds, until) {
            Ok(_) => Ready::of(&fds),
            Err(_) => {
                // Cannot wait: look again a little later rather than spin.
                std::thread::sleep(Duration::from_millis(10));
                Ready::NONE
            }
        };
    }
}

/// [`drive`] for tests: at most 20 s, then a panic.
#[cfg(test)]
pub fn drive_in_test(probe: &mut dyn Probe) -> Verdict {
    drive(probe, Some(Instant::now() + Duration::from_secs(20))).expect("the check never ended within 20 s")
}
