//! The tcp check (`--check tcp://HOST:PORT`): healthy when the connection is accepted. A
//! non-blocking connect on the reactor's poll (the socket polls writable when the handshake is
//! over, either way); the connection is closed at once. No I/O beyond that one socket.

use super::url::TcpTarget;
use super::{Probe, Verdict};
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// A tcp check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcp {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// Where to connect.
    pub target: TcpTarget,
    /// The iteration's `--timeout` (`None`: no limit).
    pub timeout: Option<Duration>,
}

/// A tcp check in flight.
pub struct Check {
    url: String,
    started: Instant,
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    /// The socket while the handshake runs; `None` once it is over (or cancelled).
    socket: Option<OwnedFd>,
    /// Set when the connect finished at once (loopback may).
    done: Option<Verdict>,
}

impl Tcp {
    /// Start connecting; a socket that cannot even be made, or a connect refused at once, is
    /// the verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        let started = Instant::now();
        let family = if self.target.addr.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let socket = rustix::net::socket_with(family, SocketType::STREAM, flags, None)
            .map_err(|err| fail(&self.url, &format!("failed to make a socket: {err}")))?;
        let mut check = Check {
            url: self.url.clone(),
            started,
            deadline: self.timeout.map(|limit| started + limit),
            timeout: self.timeout,
            socket: None,
            done: None,
        };
        match rustix::net::connect(&socket, &self.target.addr) {
            Ok(()) => {
                reset_on_close(&socket);
                check.done = Some(check.connected());
            }
            Err(Errno::INPROGRESS | Errno::INTR) => check.socket = Some(socket),
            Err(err) => return Err(fail(&self.url, &in_words(&err.into(), Words::Connect))),
        }
        Ok(check)
    }
}

impl Check {
    fn connected(&self) -> Verdict {
        let took = self.started.elapsed();
        let detail = format!("connected, {} ms", took.as_millis());
        log::debug!("{}: {detail}", self.url);
        Verdict::pass(detail).timed(took)
    }
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        if let Some(socket) = &self.socket {
            fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLOUT));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.socket.is_some())
    }

    fn advance(&mut self, ready: Ready) -> Option<Verdict> {
        if let Some(verdict) = self.done.take() {
            return Some(verdict);
        }
        let socket = self.socket.as_ref()?;
        if ready.is(0) {
            let verdict = match rustix::net::sockopt::socket_error(socket) {
                Ok(Ok(())) => {
                    reset_on_close(socket);
                    self.connected()
                }
                Ok(Err(err)) | Err(err) => fail(&self.url, &in_words(&err.into(), Words::Connect)),
            };
            self.socket = None;
            return Some(verdict);
        }
        if self.deadline.is_some_and(|at| Instant::now() >= at) {
            self.socket = None;
            let limit = humantime::format_duration(self.timeout.unwrap_or_default());
            let why = format!("no answer within {limit}");
            log::warn!("{}: {why}", self.url);
            return Some(Verdict::timeout(why));
        }
        None
    }

    fn cancel(&mut self) {
        self.socket = None;
        self.done = None;
    }
}

/// Have the kernel reset the connection of `socket` when it is closed (SO_LINGER of 0) rather
/// than close it with FIN: the check has what it came for, and at sub-second intervals a
/// graceful close leaves a TIME_WAIT entry a check behind (about 6,000 a minute at 100 checks a
/// second) and costs both ends the FIN exchange. Health checkers commonly do this. Best effort:
/// a socket that refuses is closed the usual way.
pub(crate) fn reset_on_close(socket: impl AsFd) {
    let _ = rustix::net::sockopt::set_socket_linger(socket, Some(Duration::ZERO));
}

/// A failed verdict for `url`, logged as the reason.
pub(crate) fn fail(url: &str, why: &str) -> Verdict {
    log::warn!("{url}: {why}");
    Verdict::fail(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, TcpListener};

    /// Drive `tcp` to its verdict through a poll loop, as the reactor would.
    fn run(tcp: &Tcp) -> Verdict {
        match tcp.start() {
            Ok(mut check) => crate::probe::drive_in_test(&mut check),
            Err(verdict) => verdict,
        }
    }

    fn tcp(addr: SocketAddr, timeout_ms: u64) -> Tcp {
        Tcp {
            url: format!("tcp://{addr}"),
            target: TcpTarget { addr },
            timeout: Some(Duration::from_millis(timeout_ms)),
        }
    }

    #[test]
    fn an_accepted_connection_is_healthy_on_ipv4_and_ipv6() {
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let listener = TcpListener::bind(local).unwrap();
            let verdict = run(&tcp(listener.local_addr().unwrap(), 5000));
            assert!(verdict.ok, "{local}: {verdict:?}");
            assert!(verdict.detail.starts_with("connected, "), "{}", verdict.detail);
        }
    }

    #[test]
    fn a_refused_connection_is_unhealthy_with_its_reason() {
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        // The listener is gone: nobody listens on that port now.
        let verdict = run(&tcp(addr, 5000));
        assert_eq!(verdict, Verdict::fail("connection refused"));
    }

    #[test]
    fn a_handshake_that_never_ends_is_cut_at_the_timeout() {
        // A listener that never accepts, with the smallest backlog: once its queue is full the
        // kernel leaves the next SYNs unanswered. Our own checks fill it (each one connects
        // and closes, but the connection stays queued until accepted).
        let listener = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        rustix::net::bind(&listener, &"127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
        rustix::net::listen(&listener, 0).unwrap();
        let addr = match rustix::net::getsockname(&listener).unwrap().try_into() {
            Ok(addr) => addr,
            Err(_) => panic!("not an IP address"),
        };
        let mut verdicts = Vec::new();
        let verdict = loop {
            let verdict = run(&tcp(addr, 200));
            if !verdict.ok {
                break verdict;
            }
            verdicts.push(verdict);
            assert!(verdicts.len() < 50, "the backlog never filled: {verdicts:?}");
        };
        assert_eq!(verdict, Verdict::timeout("no answer within 200ms"));
    }

    #[test]
    fn cancel_closes_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut check = tcp(listener.local_addr().unwrap(), 5000).start().unwrap();
        check.cancel();
        assert!(check.advance(Ready::NONE).is_none());
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert!(fds.is_empty() && check.deadline().is_none());
    }
}
