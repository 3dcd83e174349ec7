//! Several checks of one iteration as one: they run at once, each under the iteration's
//! timeout, and the service is healthy only when every one passed (an AND). Every failing
//! check has logged its own reason; the verdict's detail lists them all. No I/O of its own.

use super::{Probe, Verdict};
use crate::poll::Ready;
use nix::poll::PollFd;
use std::cell::RefCell;
use std::time::Instant;

/// The checks of one iteration, in flight.
pub struct All {
    /// Each check, and its verdict once it has one.
    checks: Vec<(Box<dyn Probe>, Option<Verdict>)>,
    /// How many descriptors each check added at the last `poll_fds`.
    added: RefCell<Vec<usize>>,
}

impl All {
    /// The checks started, each either in flight or with its verdict already.
    pub fn new(started: Vec<Result<Box<dyn Probe>, Verdict>>) -> All {
        let checks: Vec<(Box<dyn Probe>, Option<Verdict>)> = started
            .into_iter()
            .map(|check| match check {
                Ok(probe) => (probe, None),
                Err(verdict) => (Box::new(Done) as Box<dyn Probe>, Some(verdict)),
            })
            .collect();
        let added = RefCell::new(vec![0; checks.len()]);
        All { checks, added }
    }
}

/// Stands in for a check that ended before it started.
struct Done;

impl Probe for Done {
    fn poll_fds<'a>(&'a self, _fds: &mut Vec<PollFd<'a>>) {}
    fn deadline(&self) -> Option<Instant> {
        None
    }
    fn advance(&mut self, _ready: Ready) -> Option<Verdict> {
        None
    }
    fn cancel(&mut self) {}
}

impl Probe for All {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        let mut added = self.added.borrow_mut();
        for ((check, verdict), count) in self.checks.iter().zip(added.iter_mut()) {
            let before = fds.len();
            if verdict.is_none() {
                check.poll_fds(fds);
            }
            *count = fds.len() - before;
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.checks.iter().filter(|(_, verdict)| verdict.is_none()).filter_map(|(check, _)| check.deadline()).min()
    }

    fn advance(&mut self, ready: Ready) -> Option<Verdict> {
        let added = self.added.borrow();
        let mut from = 0;
        for ((check, verdict), count) in self.checks.iter_mut().zip(added.iter()) {
            if verdict.is_none() {
                *verdict = check.advance(ready.from(from));
            }
            from += count;
        }
        drop(added);
        // Until the next poll, nothing of this one's is known to be ready.
        self.added.borrow_mut().iter_mut().for_each(|count| *count = 0);
        if self.checks.iter().any(|(_, verdict)| verdict.is_none()) {
            return None;
        }
        let verdicts: Vec<&Verdict> = self.checks.iter().filter_map(|(_, verdict)| verdict.as_ref()).collect();
        let ok = verdicts.iter().all(|v| v.ok);
        // Healthy: how each passed; unhealthy: why each failing one failed.
        let shown: Vec<&str> = verdicts.iter().filter(|v| ok || !v.ok).map(|v| v.detail.as_str()).collect();
        // Unhealthy because one ran out of time: counted as a timeout.
        let timed_out = !ok && verdicts.iter().any(|v| v.timed_out);
        // They ran at once: the iteration took as long as the slowest (unknown if one did not
        // say). The output is the command's, the one check that has one.
        let took = verdicts.iter().map(|v| v.took).collect::<Option<Vec<_>>>().and_then(|all| all.into_iter().max());
        let output = verdicts.iter().find_map(|v| v.output.clone());
        Some(Verdict { ok, timed_out, detail: shown.join("; "), took, output })
    }

    fn cancel(&mut self) {
        for (check, verdict) in &mut self.checks {
            if verdict.is_none() {
                check.cancel();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::mock::Mock;
    use crate::probe::tcp::Tcp;
    use crate::probe::url::TcpTarget;
    use std::net::TcpListener;
    use std::time::Duration;

    fn run(mut all: All) -> Verdict {
        crate::probe::drive_in_test(&mut all)
    }

    fn mock(ms: u64, ok: bool) -> Result<Box<dyn Probe>, Verdict> {
        Ok(Box::new(Mock::new(Duration::from_millis(ms), &[ok]).start()))
    }

    fn tcp(addr: std::net::SocketAddr) -> Result<Box<dyn Probe>, Verdict> {
        let tcp =
            Tcp { url: format!("tcp://{addr}"), target: TcpTarget { addr }, timeout: Some(Duration::from_secs(5)) };
        tcp.start().map(|check| Box::new(check) as Box<dyn Probe>)
    }

    #[test]
    fn healthy_only_when_every_check_passes_and_they_run_at_once() {
        let started = Instant::now();
        let verdict = run(All::new(vec![mock(100, true), mock(100, true), mock(100, true)]));
        assert!(verdict.ok, "{verdict:?}");
        assert!(
            started.elapsed() < Duration::from_millis(290),
            "they ran one after the other: {:?}",
            started.elapsed()
        );
        let verdict = run(All::new(vec![mock(10, true), mock(20, false)]));
        assert_eq!(verdict, Verdict::fail("scripted"));
    }

    #[test]
    fn descriptors_of_several_sockets_reach_the_right_check() {
        let up = TcpListener::bind("127.0.0.1:0").unwrap();
        let down = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let verdict = run(All::new(vec![tcp(up.local_addr().unwrap()), mock(50, true), tcp(down)]));
        assert_eq!(verdict, Verdict::fail("connection refused"));
        let other = TcpListener::bind("[::1]:0").unwrap();
        let verdict = run(All::new(vec![tcp(up.local_addr().unwrap()), tcp(other.local_addr().unwrap())]));
        assert!(verdict.ok && verdict.detail.matches("connected, ").count() == 2, "{verdict:?}");
    }

    #[test]
    fn one_check_out_of_time_makes_the_whole_a_timeout() {
        let timed_out = Err(Verdict::timeout("no answer within 1s"));
        let verdict = run(All::new(vec![mock(10, false), timed_out]));
        assert_eq!(verdict, Verdict::timeout("scripted; no answer within 1s"));
        let verdict = run(All::new(vec![mock(10, true), Err(Verdict::fail("refused"))]));
        assert!(!verdict.timed_out, "{verdict:?}");
    }

    #[test]
    fn a_check_that_could_not_start_counts_as_failed() {
        let failed = Err(Verdict::fail("failed to make a socket"));
        let verdict = run(All::new(vec![mock(10, true), failed]));
        assert_eq!(verdict, Verdict::fail("failed to make a socket"));
    }
}
