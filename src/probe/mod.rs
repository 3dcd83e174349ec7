//! Probes: what judges a service healthy or not, one check at a time. Every kind keeps the same
//! contract, so that the reactor runs any number of them at once in its one poll: it adds its
//! descriptors ([`Probe::poll_fds`]), says when it must be looked at even if none polls ready
//! ([`Probe::deadline`]), and moves on at each wake-up ([`Probe::advance`]) until it gives its
//! [`Verdict`]. The shell check ([`shell`]) is the first kind; [`mock`] is one for tests.
//!
//! A new kind: a module here with a type implementing [`Probe`], a [`Spec`] variant that
//! describes it, and its arm in [`start`].

pub mod all;
pub mod dns;
pub mod http;
pub mod mock;
pub mod shell;
pub mod tcp;
pub mod url;

use crate::poll::Ready;
use nix::poll::PollFd;
use std::time::Instant;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    /// How it ended, in words, for `--dry-run` (`exit 0, 12 ms`).
    pub detail: String,
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
    /// Verdicts scripted in advance (tests).
    Mock(mock::Mock),
}

/// Start the check `spec` describes; one that cannot even start is its verdict at once.
pub fn start(spec: &Spec) -> Result<Box<dyn Probe>, Verdict> {
    match spec {
        Spec::Shell(shell) => shell.start().map(|probe| Box::new(probe) as Box<dyn Probe>),
        Spec::Mock(mock) => Ok(Box::new(mock.start())),
    }
}
