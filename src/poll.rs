//! The one wait and the one contract of whatever waits in it (a check, a hook, later a
//! socket): a job adds its descriptors to the poll set, and after [`poll_until`] it is handed
//! back which of them polled ready, as a [`Ready`], bit for bit in the order it added them.

use nix::poll::{ppoll, PollFd};
use nix::sys::time::TimeSpec;
use std::time::Instant;

/// `poll()` until `deadline` at most (`None`: no limit), to the nanosecond (`ppoll`), so that
/// a schedule kept with it does not drift by a rounded-up millisecond at every wait.
pub fn poll_until(fds: &mut [PollFd], deadline: Option<Instant>) -> nix::Result<i32> {
    let timeout = deadline.map(|at| TimeSpec::from_duration(at.saturating_duration_since(Instant::now())));
    ppoll(fds, timeout, None)
}

/// Which of the descriptors one job added to the poll set polled ready (any event): bit `i`
/// for the `i`-th it added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready(u64);

impl Ready {
    /// Nothing polled ready (or no poll happened).
    pub const NONE: Ready = Ready(0);

    /// The readiness of `polled`, the descriptors one job added, after the poll.
    pub fn of(polled: &[PollFd]) -> Ready {
        let bits = polled
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        Ready(bits)
    }

    /// The readiness of a part of a job that added its own descriptors from the `from`-th on
    /// (a job made of jobs): bit `i` of the part is bit `from + i` of this.
    pub fn from(self, from: usize) -> Ready {
        Ready(self.0.checked_shr(from as u32).unwrap_or(0))
    }

    /// Whether the `i`-th descriptor the job added polled ready.
    pub fn is(self, i: usize) -> bool {
        i < 64 && self.0 & (1 << i) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{poll, PollFlags, PollTimeout};
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    #[test]
    fn ready_is_read_bit_for_bit_in_the_order_the_descriptors_were_added() {
        let (a, _a) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        let (c, mut c_peer) = UnixStream::pair().unwrap();
        b_peer.write_all(b"x").unwrap();
        c_peer.write_all(b"x").unwrap();
        let mut fds: Vec<PollFd> =
            [a.as_fd(), b.as_fd(), c.as_fd()].into_iter().map(|fd| PollFd::new(fd, PollFlags::POLLIN)).collect();
        assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 2);
        let ready = Ready::of(&fds);
        assert_eq!((ready.is(0), ready.is(1), ready.is(2), ready.is(3)), (false, true, true, false));
        assert_eq!(Ready::of(&fds[1..2]), Ready(1));
        assert!(!Ready::NONE.is(0) && !Ready::NONE.is(64));
        assert_eq!((ready.from(1).is(0), ready.from(1).is(1), ready.from(2).is(0)), (true, true, true));
        assert_eq!(ready.from(3), Ready::NONE);
        assert_eq!(ready.from(200), Ready::NONE);
    }

    #[test]
    fn poll_until_a_past_deadline_returns_at_once_and_a_near_one_on_time() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut fds = [PollFd::new(a.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll_until(&mut fds, Some(Instant::now())).unwrap(), 0);
        let started = Instant::now();
        assert_eq!(poll_until(&mut fds, Some(started + Duration::from_millis(30))).unwrap(), 0);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }
}
