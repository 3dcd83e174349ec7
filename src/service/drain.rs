//! The drain (RFC 8326) as a service lives it: a request from the control socket, the drain
//! file, and when DRAINING is over.

use super::{DrainCause, Phase, Service};
use crate::state::State;
use std::time::Instant;

impl Service {
    /// Ask for a drain (`on`), or take the request back (`resume`), at `now`. The service
    /// drains while its `--drain-file` exists *or* a drain is requested: taking the request
    /// back does not end a drain that the file holds. A change is acted upon at once: the
    /// next iteration starts now, or as soon as the one in flight is over. Whether it is
    /// over is [`Service::state`]: [`State::Drained`] once the routes are withdrawn.
    pub fn request_drain(&mut self, on: bool, now: Instant) {
        if self.drain_requested == on {
            return;
        }
        self.drain_requested = on;
        match &mut self.phase {
            Phase::Waiting(at) => *at = (*at).min(now),
            Phase::Ended | Phase::Gone => {}
            Phase::Checking(_) | Phase::Hooks(..) | Phase::Addresses(..) => self.hurry = true,
        }
    }

    /// Whether a drain is requested (the file aside).
    pub fn drain_requested(&self) -> bool {
        self.drain_requested
    }

    /// Why the drain is on now, if it is: the drain file exists, or a drain was requested.
    pub(super) fn drain_cause(&self) -> Option<DrainCause> {
        if self.cfg.drain_file.as_ref().is_some_and(|f| f.exists()) {
            Some(DrainCause::File)
        } else if self.drain_requested {
            Some(DrainCause::Request)
        } else {
            None
        }
    }

    /// In DRAINING with its lines written: when the drain time is over (`None` if that is
    /// beyond what an `Instant` holds).
    pub(super) fn drain_end(&self) -> Option<Instant> {
        let since = self.draining_since.filter(|_| self.machine.state == State::Draining)?;
        since.checked_add(self.cfg.drain_time)
    }
}
