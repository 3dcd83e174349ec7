//! The reactor's one lane of address work: every service's [`Op`]s, carried out one at a time
//! and never waiting. rtnetlink requests go out on the non-blocking [`Rtnl`] socket and their
//! answers are read when it polls readable; with `--sudo`, additions and removals are `sudo -n
//! ip` commands ([`SudoOp`]: own process group, killed at their deadline). The reactor polls
//! the lane's descriptors with everything else.
//!
//! One service's work at a time, start to end: a service that has begun its work (listing,
//! then changing) keeps the lane until it is over, and others queue behind it in order. So work
//! is done in the order it was asked for: at a reload, what removed and changed services let
//! go of is gone before new services look for it (a reload's listing of `lo`, to find the
//! networks of its services without `--ip`, queues here too). A service whose work waits or
//! runs waits for it; every other service goes on.

use super::netlink::{NetlinkOp, Rtnl};
use super::op::{Answer, Op};
use super::sudo::{Sudo, SudoOp};
use super::AddrError;
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use std::collections::VecDeque;
use std::time::Instant;

/// Whose work: the reactor's id of a service.
pub type Owner = usize;

/// The operation in flight.
enum InFlight {
    Netlink(NetlinkOp),
    Sudo(Box<SudoOp>),
}

/// The lane: its socket, how it runs `sudo` (with `--sudo`), and the work in flight and waiting.
pub struct Lane {
    rtnl: Rtnl,
    sudo: Option<Sudo>,
    /// The service whose work is being done: its next operation starts at once.
    owner: Option<Owner>,
    in_flight: Option<(Owner, InFlight)>,
    /// Answers ready without a wait (the operation could not even start).
    answered: VecDeque<(Owner, Answer)>,
    /// Other services' first operations, in the order they came.
    queue: VecDeque<(Owner, Op)>,
}

impl Lane {
    /// A lane over a new rtnetlink socket (opened now, before privileges are dropped), running
    /// additions and removals through `sudo` when given.
    pub fn open(sudo: Option<Sudo>) -> Result<Lane, AddrError> {
        Ok(Lane {
            rtnl: Rtnl::new()?,
            sudo,
            owner: None,
            in_flight: None,
            answered: VecDeque::new(),
            queue: VecDeque::new(),
        })
    }

    /// Carry out `op` for `owner`: now if the lane is free or already `owner`'s, else after the
    /// work queued before it.
    pub fn submit(&mut self, owner: Owner, op: Op) {
        match self.owner {
            None => {
                self.owner = Some(owner);
                self.start(owner, op);
            }
            Some(current) if current == owner && self.in_flight.is_none() => self.start(owner, op),
            Some(_) => self.queue.push_back((owner, op)),
        }
    }

    /// `owner`'s work is over: the next service's starts.
    pub fn release(&mut self, owner: Owner) {
        if self.owner != Some(owner) || self.in_flight.is_some() {
            return;
        }
        self.owner = None;
        if let Some((next, op)) = self.queue.pop_front() {
            self.owner = Some(next);
            self.start(next, op);
        }
    }

    fn start(&mut self, owner: Owner, op: Op) {
        let started = match (&self.sudo, &op) {
            (Some(sudo), Op::Add { .. } | Op::Remove { .. }) => {
                SudoOp::start(sudo, op).map(|running| InFlight::Sudo(Box::new(running)))
            }
            _ => NetlinkOp::start(&mut self.rtnl, op).map(InFlight::Netlink),
        };
        match started {
            Ok(in_flight) => {
                self.in_flight = Some((owner, in_flight));
                // A command is looked at once at its start: from then on its exit wakes the
                // poll (and one that is already over needs none).
                if let Some(answer) = self.advance_in_flight(Ready::NONE) {
                    self.answered.push_back(answer);
                }
            }
            Err(answer) => self.answered.push_back((owner, answer)),
        }
    }

    /// Whether any work is in flight or waiting.
    pub fn busy(&self) -> bool {
        self.owner.is_some() || !self.answered.is_empty()
    }

    /// Add what to poll for the operation in flight.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        match &self.in_flight {
            Some((_, InFlight::Netlink(_))) => fds.push(PollFd::new(self.rtnl.fd(), PollFlags::POLLIN)),
            Some((_, InFlight::Sudo(running))) => running.poll_fds(fds),
            None => {}
        }
    }

    /// When to look at the lane even if nothing polls ready.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.answered.is_empty() {
            return Some(Instant::now());
        }
        match &self.in_flight {
            Some((_, InFlight::Netlink(op))) => Some(op.deadline()),
            Some((_, InFlight::Sudo(running))) => running.deadline(),
            None => None,
        }
    }

    /// An answer, with whose it is, once there is one (`ready`: what the poll found among the
    /// descriptors [`Lane::poll_fds`] added). Call it until it says `None`.
    pub fn advance(&mut self, ready: Ready) -> Option<(Owner, Answer)> {
        if let Some(answered) = self.answered.pop_front() {
            return Some(answered);
        }
        self.advance_in_flight(ready)
    }

    fn advance_in_flight(&mut self, ready: Ready) -> Option<(Owner, Answer)> {
        let (owner, in_flight) = self.in_flight.as_mut()?;
        let owner = *owner;
        let answer = match in_flight {
            // Reading a non-blocking socket that has nothing costs one system call.
            InFlight::Netlink(op) => op.advance(&mut self.rtnl),
            InFlight::Sudo(running) => running.advance(self.sudo.as_ref()?, ready),
        }?;
        self.in_flight = None;
        Some((owner, answer))
    }

    /// We are stopping, or giving `owner`'s work up: a `sudo` in flight for it is killed with
    /// its process group, and what it had queued is dropped. An rtnetlink request in flight is
    /// left to the kernel: its late answer is told apart by its sequence number.
    pub fn cancel(&mut self, owner: Owner) {
        self.queue.retain(|(waiting, _)| *waiting != owner);
        self.answered.retain(|(whose, _)| *whose != owner);
        if self.in_flight.as_ref().is_some_and(|(whose, _)| *whose == owner) {
            if let Some((_, InFlight::Sudo(running))) = self.in_flight.take() {
                running.cancel();
            }
            self.in_flight = None;
        }
        self.release(owner);
    }
}
