//! The end of an iteration, after its check and hooks: the lines for the state and the address
//! work around them (set up before UP's lines and removed after DOWN's with
//! `--dynamic-ip-setup`, a failed set-up retried with back-off), then the next iteration's
//! time. Address work is a [`Work`] whose operations the reactor carries out one at a time.

use super::*;

/// The first retry of a failed address set-up waits this long, each next one twice as long as
/// the one before, up to [`RETRY_MAX`]: a failing `sudo` is not run at every check.
pub(super) const RETRY_FIRST: Duration = Duration::from_secs(1);

pub(super) const RETRY_MAX: Duration = Duration::from_secs(60);

/// How long to wait before retrying after `failures` set-ups in a row have failed.
pub fn retry_after(failures: u64) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1)).unwrap_or(u32::MAX).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// Where the end of an iteration is (after its check and hooks).
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// The lines for the state, if `announce` (with `--dynamic-ip-setup` in UP the addresses
    /// have just been set up); then, down with `--dynamic-ip-setup`, the addresses removed.
    Lines { announce: bool },
    /// Addresses that could not be set up are tried again, when their time has come.
    Retry,
    /// The next iteration's time.
    Schedule,
}

/// What comes after address work.
#[derive(Debug, Clone, Copy)]
pub(super) enum After {
    /// The first iteration's check (the start-up set-up is done).
    Begin(Iteration),
    /// The end of the iteration goes on at this step.
    Conclude(Iteration, Step),
    /// Nothing: the service is leaving.
    Leave,
}

impl Service {
    /// Start `work` on its ledger, then `after`.
    pub(super) fn work(&mut self, work: Work, after: After, cx: &mut Cx) -> Next {
        self.phase = Phase::Addresses(Box::new(work), after);
        self.next_address(cx)
    }

    /// The next operation of the address work in flight; when it is over, what comes after it.
    pub(super) fn next_address(&mut self, cx: &mut Cx) -> Next {
        let Phase::Addresses(ref mut work, after) = self.phase else { return Next::Wait };
        let ledger = self.ledger.as_mut().expect("address work has a ledger");
        if let Some(op) = work.next(ledger, cx.held_elsewhere) {
            return Next::Address(op);
        }
        let was_setup = work.is_setup();
        if was_setup {
            self.retry_at = ledger.any_blocked().then(|| cx.now + retry_after(ledger.failures()));
        }
        match after {
            After::Begin(iteration) => self.check(iteration, cx),
            After::Conclude(iteration, step) => self.conclude_at(iteration, step, cx),
            After::Leave => {
                self.phase = Phase::Gone;
                Next::Wait
            }
        }
    }

    /// The answer to the address operation it asked for.
    pub fn on_address(&mut self, answer: Answer, cx: &mut Cx) -> Next {
        let Phase::Addresses(ref mut work, _) = self.phase else { return Next::Wait };
        if let Some(ledger) = self.ledger.as_mut() {
            work.answer(ledger, answer);
        }
        self.next_address(cx)
    }

    /// The end of an iteration (check and hooks are over).
    pub(super) fn conclude(&mut self, iteration: Iteration, cx: &mut Cx) -> Next {
        let state = self.machine.state;
        // SUPPRESSED right after DOWN writes DOWN's lines again: a refresh, not a change.
        let changed = state != iteration.before && !(iteration.before == State::Down && state == State::Suppressed);
        // A new MED from the check is a change too (`--metric-from`).
        let new_med = self.med_step(changed, cx);
        let announce = changed || new_med || (!self.cfg.debounce && cx.caught_up);
        if !announce && !self.cfg.debounce {
            // ExaBGP has not read our last lines (the pipe is full): queueing the same state
            // again would only grow memory. A change of state is always queued. (Our last
            // line, not the whole queue: another service's lines just queued do not count.)
            log::debug!("ExaBGP is not reading: refresh skipped");
        }
        let what: Announcement = state.into();
        if announce && lines::announces(what) && what == State::Up.into() && self.cfg.dynamic_ip_setup {
            if let Some(work) = self.ledger.as_ref().map(Addresses::setup) {
                log::info!("service up, restoring loopback and ip-ifname ips");
                return self.work(work, After::Conclude(iteration, Step::Lines { announce }), cx);
            }
        }
        self.conclude_at(iteration, Step::Lines { announce }, cx)
    }

    /// The end of an iteration, from `step` on: the lines for the state, the address work
    /// around them, the retry of addresses that could not be set up, and the next iteration's
    /// time (`cx.now` at the latest; start to start, so a long check does not push the
    /// schedule back).
    pub(super) fn conclude_at(&mut self, iteration: Iteration, step: Step, cx: &mut Cx) -> Next {
        let mut step = step;
        loop {
            step = match step {
                Step::Lines { announce } => {
                    let what: Announcement = self.machine.state.into();
                    if announce && lines::announces(what) {
                        self.announce(what, cx);
                        let down = matches!(
                            what,
                            Announcement::State(State::Down | State::Disabled | State::Drained | State::Suppressed)
                        );
                        if down && self.cfg.dynamic_ip_setup {
                            if let Some(work) = self.ledger.as_ref().map(|l| l.remove(Removal::Dynamic)) {
                                if what == State::Drained.into() {
                                    log::info!("service drained, deleting setup ips");
                                } else {
                                    log::info!("service down, deleting setup ips");
                                }
                                return self.work(work, After::Conclude(iteration, Step::Retry), cx);
                            }
                        }
                    }
                    if self.machine.state == State::Draining && self.draining_since.is_none() {
                        // A drain that began in the service this one replaces goes on from there.
                        self.draining_since = Some(self.drain_carried.take().unwrap_or(cx.now).min(cx.now));
                    }
                    Step::Retry
                }
                Step::Retry => {
                    // Except while the service is down with `--dynamic-ip-setup` (they are meant
                    // to be gone then).
                    let wanted = !self.cfg.dynamic_ip_setup || self.machine.state == State::Up;
                    let due = self.retry_at.is_none_or(|at| cx.now >= at);
                    let ledger = self.ledger.as_ref().filter(|a| a.any_blocked() && wanted && due);
                    if let Some(work) = ledger.map(Addresses::setup) {
                        return self.work(work, After::Conclude(iteration, Step::Schedule), cx);
                    }
                    Step::Schedule
                }
                Step::Schedule => {
                    let pause = if self.machine.state.is_transient() {
                        self.cfg.fast_interval
                    } else if self.cfg.interval.is_zero() && self.machine.state == State::Draining {
                        // `--interval 0` announces once, but a drain has DRAINED still to come.
                        let end = self.drain_end().unwrap_or(cx.now);
                        self.phase = Phase::Waiting(end.max(cx.now));
                        return Next::Wait;
                    } else if self.cfg.interval.is_zero() {
                        log::info!("interval set to zero, exiting after the announcement");
                        self.phase = Phase::Ended;
                        return Next::Wait;
                    } else {
                        self.cfg.interval
                    };
                    let now = cx.now;
                    let at = if std::mem::take(&mut self.hurry) { now } else { (iteration.started + pause).max(now) };
                    self.phase = Phase::Waiting(at);
                    return Next::Wait;
                }
            };
        }
    }

    /// The lines for `what`, into `cx`.
    pub(super) fn announce(&mut self, what: Announcement, cx: &mut Cx) {
        if self.dry_run {
            log::info!(state:% = what; "would send announces for {what} state to ExaBGP");
        } else {
            log::info!(state:% = what; "send announces for {what} state to ExaBGP");
        }
        let shaped = self.shaped(what);
        let meds = lines::meds(what, &shaped, self.routes.len());
        let rendered = lines::render(what, &shaped, &self.routes);
        let mut sent = 0;
        for (i, (line, med)) in rendered.into_iter().zip(meds).enumerate() {
            let route = &self.routes[i];
            let blocked = what != Announcement::Exit && self.ledger.as_ref().is_some_and(|a| a.route_blocked(route));
            if blocked {
                log::debug!("not announcing {route}: its address is not set up");
                continue;
            }
            // Nothing to withdraw at exit for a route never announced: its address never was.
            let never = what == Announcement::Exit
                && self.meds[i].is_none()
                && self.ledger.as_ref().is_some_and(|a| a.route_never_up(route));
            if never {
                log::debug!("not withdrawing {route}: never announced, its address was never set up");
                continue;
            }
            cx.lines.push(line);
            self.meds[i] = med;
            sent += 1;
        }
        if lines::withdraws(what, &self.cfg.announce) {
            self.stats.wrote(0, sent);
        } else {
            self.stats.wrote(sent, 0);
        }
    }
}
