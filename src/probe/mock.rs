//! A probe for tests: each check takes a set time and gives the next verdict of a script,
//! without any descriptor (it wakes the reactor by its deadline alone). No I/O.

use super::{Probe, Verdict};
use crate::poll::Ready;
use nix::poll::PollFd;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Scripted checks: every one takes `takes`, and gives the next of `verdicts` (healthy once
/// the script is used up). Clones share the script.
#[derive(Debug, Clone)]
pub struct Mock {
    pub takes: Duration,
    pub verdicts: Arc<Mutex<VecDeque<bool>>>,
    /// When each check started, for tests of the schedule.
    pub started: Arc<Mutex<Vec<Instant>>>,
}

impl Mock {
    pub fn new(takes: Duration, verdicts: &[bool]) -> Mock {
        Mock { takes, verdicts: Arc::new(Mutex::new(verdicts.iter().copied().collect())), started: Arc::default() }
    }

    pub fn start(&self) -> Check {
        let now = Instant::now();
        self.started.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(now);
        let ok = self.verdicts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front().unwrap_or(true);
        Check { ok, at: now + self.takes, cancelled: false }
    }
}

/// A scripted check in flight.
pub struct Check {
    ok: bool,
    at: Instant,
    cancelled: bool,
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, _fds: &mut Vec<PollFd<'a>>) {}

    fn deadline(&self) -> Option<Instant> {
        Some(self.at)
    }

    fn advance(&mut self, _ready: Ready) -> Option<Verdict> {
        let ok = self.ok && !self.cancelled;
        (self.cancelled || Instant::now() >= self.at).then(|| Verdict {
            ok,
            timed_out: false,
            detail: "scripted".to_owned(),
            took: None,
            output: None,
        })
    }

    fn cancel(&mut self) {
        self.cancelled = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_come_in_script_order_after_their_time() {
        let mock = Mock::new(Duration::from_millis(20), &[false, true]);
        let mut first = mock.start();
        assert_eq!(first.advance(Ready::NONE), None);
        std::thread::sleep(Duration::from_millis(25));
        assert_eq!(first.advance(Ready::NONE).map(|v| v.ok), Some(false));
        let mut second = mock.start();
        second.cancel();
        assert_eq!(second.advance(Ready::NONE).map(|v| v.ok), Some(false), "a cancelled check is not healthy");
        let mut third = mock.start();
        std::thread::sleep(Duration::from_millis(25));
        assert_eq!(third.advance(Ready::NONE).map(|v| v.ok), Some(true), "healthy once the script is used up");
        assert_eq!(mock.started.lock().unwrap().len(), 3);
    }
}
