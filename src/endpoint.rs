//! The seam between the reactor and what it serves beside the services: process-wide
//! endpoints (the metrics file and listener, the control socket). Each is polled in the
//! reactor's one `ppoll()` with the services' jobs, and advanced after every wake-up with a
//! read-only [`View`] of the services; what it wants of them it asks with a [`Request`], which
//! the reactor carries out. An endpoint never blocks and never reaches into a service.
//!
//! A new endpoint: a type implementing [`Endpoint`], opened in [`crate::serve::open`] from its
//! options.

use crate::exabgp::answers::Tally;
use crate::poll::Ready;
use crate::service::Service;
use nix::poll::PollFd;
use std::time::Instant;

/// A process-wide endpoint in the reactor's loop.
pub trait Endpoint {
    /// Add what to wait for to `fds` (the reactor's poll set).
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>);
    /// When [`Endpoint::advance`] must be called even if nothing polls ready.
    fn deadline(&self) -> Option<Instant>;
    /// After every wake-up; `ready` is what the poll found among what [`Endpoint::poll_fds`]
    /// added. What it asks of the services goes into `asks`.
    fn advance(&mut self, ready: Ready, view: &View<'_>, asks: &mut Vec<Request>);
    /// The exit's withdraws are written (or the run ended): say goodbye to whoever this
    /// endpoint speaks with, without blocking. The reactor goes on polling and advancing it
    /// (the asks are dropped) while [`Endpoint::lingering`] says so, within the exit path's
    /// bounds. Nothing by default.
    fn leave(&mut self, now: Instant) {
        let _ = now;
    }
    /// After [`Endpoint::leave`]: whether it still has something to do (a goodbye to send
    /// again). `false` by default.
    fn lingering(&self, now: Instant) -> bool {
        let _ = now;
        false
    }
    /// The reactor stops: the services as they are after the exit's withdraws (or after
    /// `--interval 0`), once, just before [`Endpoint::close`]. Nothing by default.
    fn finish(&mut self, view: &View<'_>) {
        let _ = view;
    }
    /// The reactor stops (after the withdraws): close and clean up.
    fn close(&mut self);
}

/// Which services a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    All,
    /// The one whose [`Service::label`] this is.
    Named(String),
}

impl Which {
    /// Whether `service` is one of them.
    pub fn matches(&self, service: &Service) -> bool {
        match self {
            Which::All => true,
            Which::Named(name) => service.label() == Some(name.as_str()),
        }
    }
}

/// What an endpoint asks of the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Check now rather than at their time (as SIGUSR1 does for all).
    CheckNow(Which),
    /// Drain (`true`: `ctl drain`) or take the drain request back (`false`: `ctl resume`);
    /// see [`Service::request_drain`].
    Drain(Which, bool),
}

/// The services an endpoint reads, in their order in the configuration: however the reactor
/// keeps them.
pub trait Services {
    /// The one at `index`, `None` past the last.
    fn at(&self, index: usize) -> Option<&Service>;
    /// Whether every line the one at `index` has given is written to ExaBGP (none waits in
    /// our queue). Yes, unless told otherwise.
    fn written(&self, index: usize) -> bool {
        let _ = index;
        true
    }
}

/// The services as they are, for an endpoint to read.
pub struct View<'a> {
    services: &'a dyn Services,
    tally: Option<Tally>,
    generation: u64,
}

impl<'a> View<'a> {
    /// `services` with ExaBGP's answers so far (`tally`) at `generation`.
    pub fn new(services: &'a dyn Services, tally: Option<Tally>, generation: u64) -> View<'a> {
        View { services, tally, generation }
    }

    /// The running services, in their order in the configuration.
    pub fn services(&self) -> impl Iterator<Item = &'a Service> + 'a {
        let services = self.services;
        (0..).map_while(move |index| services.at(index))
    }

    /// The running services, each with whether all its lines are written to ExaBGP
    /// ([`Services::written`]).
    pub fn written(&self) -> impl Iterator<Item = (&'a Service, bool)> + 'a {
        let services = self.services;
        (0..).map_while(move |index| services.at(index).map(|service| (service, services.written(index))))
    }

    /// ExaBGP's answers so far (`done` and `error`), when they are counted (not `--no-ack`,
    /// not `--dry-run`).
    pub fn tally(&self) -> Option<Tally> {
        self.tally
    }

    /// Grows whenever a service may have changed (a check, a transition, lines written, a
    /// reload): an endpoint that reports compares it with the one it last saw.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
