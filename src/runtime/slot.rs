//! A service's place in the reactor ([`Slot`]: the service, its job in flight, its log tag,
//! where its last line stands in ExaBGP's pipe) and how the reactor moves it on ([`drive`]):
//! hand it an event, write the lines it gives, start what it asks for.

use super::*;

/// A job in flight for a service.
pub(super) enum Job {
    Check(Box<dyn Probe>),
    Hook(Box<Running>),
}

/// What a job ended in.
pub(super) enum Ended {
    Verdict(probe::Verdict),
    Hook(Outcome),
}

impl Job {
    pub(super) fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        match self {
            Job::Check(probe) => probe.poll_fds(fds),
            Job::Hook(running) => running.poll_fds(fds),
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        match self {
            Job::Check(probe) => probe.deadline(),
            Job::Hook(running) => running.deadline(),
        }
    }

    pub(super) fn advance(&mut self, ready: Ready) -> Option<Ended> {
        match self {
            Job::Check(probe) => probe.advance(ready).map(Ended::Verdict),
            Job::Hook(running) => running.advance(ready).map(Ended::Hook),
        }
    }

    /// We are stopping: the job must not outlive us.
    pub(super) fn cancel(self) {
        match self {
            Job::Check(mut probe) => probe.cancel(),
            Job::Hook(running) => {
                running.cancel();
            }
        }
    }
}

/// A service and its job in flight.
pub(super) struct Slot {
    pub(super) service: Service,
    /// What its log lines are tagged with, when it is one of several (`healthcheck-NAME`).
    pub(super) tag: Option<Rc<str>>,
    pub(super) job: Option<Job>,
    /// What the last poll found ready among the job's descriptors.
    pub(super) ready: Ready,
    /// The networks it advertises, as found when it started (on `lo`, without `--ip`).
    pub(super) nets: Vec<Net>,
    /// Where its last line stands in ExaBGP's pipe.
    pub(super) last_line: Ticket,
}

impl Slot {
    pub(super) fn new(service: Service, tag: Option<Rc<str>>, nets: Vec<Net>) -> Slot {
        Slot { service, tag, job: None, ready: Ready::NONE, nets, last_line: Ticket::DONE }
    }
}

/// Move one service on: `first` is handed the service and a [`Cx`], and what it answers is
/// done, until the service waits for a job, an address operation or its time. Its lines are
/// written as it gives them; a job is looked at once at its start (one that is over by then
/// needs no poll). The address lane is let go of when the service no longer asks for it.
pub(super) fn drive(
    slot: &mut Slot,
    out: &mut Outbox,
    held: &BTreeMap<Host, ServiceId>,
    mut lane: Option<&mut Lane>,
    first: impl FnOnce(&mut Service, &mut Cx) -> Next,
) {
    let id = slot.service.id;
    let held_elsewhere = |host: &Host| held.get(host).is_some_and(|owner| *owner != id);
    let mut cx = Cx {
        now: Instant::now(),
        caught_up: out.finished(slot.last_line),
        held_elsewhere: &held_elsewhere,
        lines: Vec::new(),
    };
    let mut next = first(&mut slot.service, &mut cx);
    loop {
        for line in cx.lines.drain(..) {
            slot.last_line = out.send(line);
        }
        cx.caught_up = out.finished(slot.last_line);
        if !matches!(next, Next::Address(_)) {
            if let Some(lane) = lane.as_deref_mut() {
                lane.release(id);
            }
        }
        let service = &mut slot.service;
        next = match next {
            Next::Check(spec) => match probe::start(&spec) {
                Ok(mut probe) => match probe.advance(Ready::NONE) {
                    Some(verdict) => service.on_verdict(verdict, &mut cx),
                    None => {
                        slot.job = Some(Job::Check(probe));
                        return;
                    }
                },
                Err(verdict) => service.on_verdict(verdict, &mut cx),
            },
            Next::Hook(spec) => match Running::start(&spec) {
                Ok(mut running) => match running.advance(Ready::NONE) {
                    Some(outcome) => service.on_hook(outcome, &mut cx),
                    None => {
                        slot.job = Some(Job::Hook(Box::new(running)));
                        return;
                    }
                },
                Err(outcome) => service.on_hook(outcome, &mut cx),
            },
            Next::Address(op) => match lane.as_deref_mut() {
                Some(lane) => {
                    lane.submit(id, op);
                    return;
                }
                None => service
                    .on_address(op.failed(addr::AddrError::Other(anyhow::anyhow!("no address backend"))), &mut cx),
            },
            Next::Wait => return,
        };
    }
}

/// Keep `held` and the panic hook's registry up to date with the addresses `service` holds.
pub(super) fn track(held: &mut BTreeMap<Host, ServiceId>, service: &Service) {
    let id = service.id;
    held.retain(|_, owner| *owner != id);
    let owned: Vec<Host> = service.addresses().map(|ledger| ledger.owned().cloned().collect()).unwrap_or_default();
    held.extend(owned.iter().map(|host| (host.clone(), id)));
    if service.gone() {
        held.retain(|_, owner| *owner != id);
    }
    safety::set_owned(id, owned);
}
