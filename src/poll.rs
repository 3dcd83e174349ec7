//! The one contract of whatever the reactor waits for (a check, a hook, later a socket): a job
//! adds its descriptors to the poll set, and after the poll it is handed back which of them
//! polled ready, as a [`Ready`], bit for bit in the order it added them. No I/O here.

use nix::poll::PollFd;

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
    }
}
