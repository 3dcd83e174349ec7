//! A service that stops: the exit's withdraws and the removal of what it added, and a service
//! a reload changed, handing its announced routes and its addresses over to the one that
//! replaces it.

use super::*;

impl Service {
    /// We are stopping: withdraw everything (nothing after `--interval 0`). Any address work
    /// in flight is given up (the reactor cancels its operation).
    pub fn exit(&mut self, cx: &mut Cx) {
        if self.ended() || self.gone() {
            return;
        }
        self.explain(&format!("stopping: {} -> EXIT", self.machine.state));
        self.phase = Phase::Gone;
        self.announce(Announcement::Exit, cx);
    }

    /// After the exit's withdraws: remove the addresses we added (all of them with
    /// `--dynamic-ip-setup`). Nothing after `--interval 0`.
    pub fn leave(&mut self, cx: &mut Cx) -> Next {
        if self.ended() {
            return Next::Wait;
        }
        match self.ledger.as_ref().map(|ledger| ledger.remove(Removal::Exit)) {
            Some(work) => {
                log::info!("exiting, deleting setup ips");
                self.work(work, After::Leave, cx)
            }
            None => {
                self.phase = Phase::Gone;
                Next::Wait
            }
        }
    }

    /// It is being replaced (a reload changed it) by a service with the routes `next`
    /// announced as `announce`: withdraw its routes that the new one does not have, and all of
    /// them when the new one's lines are about other paths (another `--path-id`, other
    /// `--neighbor`s: its announcements would not replace these). Returns what stays
    /// announced, for the new one to know ([`Service::assume_announced`]). Nothing else
    /// changes here.
    pub fn withdraw_all_but(&mut self, next: &[Net], announce: &lines::Announce, cx: &mut Cx) -> Vec<(Net, i64)> {
        let same_paths = lines::same_paths(&self.cfg.announce, announce);
        let stays = |route: &Net| same_paths && next.contains(route);
        let gone: Vec<Net> = self.routes.iter().filter(|route| !stays(route)).copied().collect();
        if !gone.is_empty() {
            if same_paths {
                log::info!("withdrawing {} route(s) no longer configured", gone.len());
            } else {
                log::info!("withdrawing {} route(s): their path identifier or neighbors changed", gone.len());
            }
            cx.lines.extend(lines::render(Announcement::Exit, &self.cfg.announce, &gone));
            self.stats.wrote(0, gone.len() as u64);
        }
        let kept = self.announced().filter(|(route, _)| stays(route));
        kept.filter_map(|(route, med)| Some((route, med?))).collect()
    }

    /// It is being replaced (a reload changed it) by a service whose ledger is `next`: `next`
    /// takes over the addresses it added that `next` looks after too, and it removes the
    /// others (the address work it asks for, after which it is gone).
    pub fn hand_over(&mut self, next: Option<&mut Addresses>, cx: &mut Cx) -> Next {
        self.phase = Phase::Gone;
        let work = match (self.ledger.as_mut(), next) {
            (Some(previous), Some(next)) => previous.hand_over(next),
            (Some(previous), None) => previous.remove(Removal::Exit),
            (None, _) => return Next::Wait,
        };
        self.work(work, After::Leave, cx)
    }

    /// Since when it has been DRAINING with its lines written, if it is (for the service that
    /// replaces it at a reload).
    pub fn draining_since(&self) -> Option<Instant> {
        self.draining_since.filter(|_| self.machine.state == State::Draining)
    }

    /// It replaces a service that has been DRAINING since `since`: its own drain, if the drain
    /// goes on, counts from there rather than for a whole drain time again.
    pub fn carry_drain(&mut self, since: Option<Instant>) {
        self.drain_carried = since;
    }

    /// Its flap dampening penalty (for the service that replaces it at a reload).
    pub fn penalty_state(&self) -> Penalty {
        self.penalty
    }

    /// It replaces a service whose penalty was `penalty`: with `--dampening` it goes on from
    /// there (and stays suppressed if that one was), so a reload does not forgive a flapping
    /// service. Without, it has none.
    pub fn carry_penalty(&mut self, penalty: Penalty) {
        if self.cfg.dampening.is_some() {
            self.penalty = penalty;
        }
    }

    /// It replaces a service whose routes `announced` (with their MED) are still announced:
    /// its own of those routes count as announced until its first lines.
    pub fn assume_announced(&mut self, announced: &[(Net, i64)]) {
        for (route, med) in self.routes.iter().zip(self.meds.iter_mut()) {
            if let Some(&(_, was)) = announced.iter().find(|(r, _)| r == route) {
                *med = Some(was);
            }
        }
    }

    /// Its ledger, for the service that replaces it to take over from (a reload).
    pub fn ledger_mut(&mut self) -> Option<&mut Addresses> {
        self.ledger.as_mut()
    }
}
