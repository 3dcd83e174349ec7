//! The icmp check (`--check icmp://HOST`): healthy when HOST answers an echo request within
//! the timeout. IPv4 and IPv6.
//!
//! It runs on the reactor's loop like any probe: one non-blocking socket connected to HOST, no
//! thread, no `ping` started. The socket is an unprivileged ICMP one (SOCK_DGRAM, IPPROTO_ICMP
//! or IPPROTO_ICMPV6) where `net.ipv4.ping_group_range` includes one of our groups (it covers
//! IPv6 too); else a raw one, which needs CAP_NET_RAW. Which one works is found once per family
//! and kept. When neither does, [`usable`] says what is missing, and the URL is refused at
//! start. A raw socket sees every ICMP message the host receives: they are filtered by type,
//! identifier, sequence number and our random payload ([`wire`], which does no I/O); what is not
//! our reply is ignored, the check waits on until the timeout. A request unanswered is sent again
//! (the next sequence number) after 1 s, then 2, 4 and every 8 s, as the dns check does, so that
//! one lost datagram does not fail a check with a long `--timeout` (nor hang one without); a reply
//! to any of the last 16 sent is ours.

pub mod wire;

use super::{Probe, Verdict};
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{ipproto, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use wire::{Echo, Framing};

/// An icmp check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// Whom to ask: an IP literal (`localhost` is 127.0.0.1).
    pub host: IpAddr,
    /// The iteration's `--timeout`; `None`: no limit.
    pub timeout: Option<Duration>,
}

/// The most datagrams one wake-up reads (a raw socket on a busy host does not hold the loop).
const READS_PER_WAKE_UP: usize = 64;
/// The first resend, and the longest wait between two.
const RESEND_FIRST: Duration = Duration::from_secs(1);
const RESEND_MOST: Duration = Duration::from_secs(8);
/// The requests kept to match replies against (the oldest forgotten first).
const SENT_MOST: usize = 16;

/// The socket kind that worked last, per family (IPv4, IPv6): 0 not tried yet, 1 unprivileged,
/// 2 raw.
static WORKED: [AtomicU8; 2] = [AtomicU8::new(0), AtomicU8::new(0)];

/// An ICMP socket for `host`'s family: unprivileged if allowed, else raw; the errors of both
/// when neither can be made.
fn open(host: IpAddr) -> Result<(OwnedFd, Framing), (Errno, Option<Errno>)> {
    let (family, protocol, slot) = match host {
        IpAddr::V4(_) => (AddressFamily::INET, ipproto::ICMP, &WORKED[0]),
        IpAddr::V6(_) => (AddressFamily::INET6, ipproto::ICMPV6, &WORKED[1]),
    };
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let raw = || rustix::net::socket_with(family, SocketType::RAW, flags, Some(protocol));
    if slot.load(Ordering::Relaxed) == 2 {
        if let Ok(socket) = raw() {
            return Ok((socket, Framing::Raw));
        }
        // Lost since (the capability went with a switch to --user): the unprivileged one.
        slot.store(0, Ordering::Relaxed);
    }
    match rustix::net::socket_with(family, SocketType::DGRAM, flags, Some(protocol)) {
        Ok(socket) => {
            slot.store(1, Ordering::Relaxed);
            Ok((socket, Framing::Unprivileged))
        }
        // Not allowed by ping_group_range (EACCES), or no such socket in this kernel.
        Err(unprivileged @ (Errno::ACCESS | Errno::PERM | Errno::PROTONOSUPPORT | Errno::SOCKTNOSUPPORT)) => {
            match raw() {
                Ok(socket) => {
                    slot.store(2, Ordering::Relaxed);
                    Ok((socket, Framing::Raw))
                }
                Err(err) => Err((unprivileged, Some(err))),
            }
        }
        Err(err) => Err((err, None)),
    }
}

/// Whether an icmp check of `host` can run here: `Err` says what is missing (the sysctl, the
/// capability), for an error at start.
pub fn usable(host: IpAddr) -> Result<(), String> {
    match open(host) {
        Ok(_) => Ok(()),
        Err((err, None)) => Err(format!("cannot make an ICMP socket: {}", in_words(&err.into(), Words::System))),
        Err((_, Some(raw))) => {
            let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
                .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|_| "unreadable".to_owned());
            let mut groups = vec![nix::unistd::getegid().as_raw()];
            groups.extend(nix::unistd::getgroups().unwrap_or_default().iter().map(|g| g.as_raw()));
            groups.dedup();
            let groups: Vec<String> = groups.iter().map(u32::to_string).collect();
            let raw = match raw {
                Errno::PERM | Errno::ACCESS => "a raw one needs CAP_NET_RAW, which this process lacks".to_owned(),
                other => format!("a raw one failed: {}", in_words(&other.into(), Words::System)),
            };
            Err(format!(
                "neither ICMP socket can be made: an unprivileged one needs net.ipv4.ping_group_range \
                 (now \"{range}\") to include one of our groups ({}); {raw}",
                groups.join(", ")
            ))
        }
    }
}

/// Whether an icmp check can run once the process has switched to another user (`--user`),
/// in group `gid`: CAP_NET_RAW goes with the switch, so only an unprivileged socket is left,
/// which `net.ipv4.ping_group_range` must allow for `gid`. `Err` says so.
pub fn usable_as(gid: u32) -> Result<(), String> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap_or_default();
    let range: Vec<u32> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    if let [low, high] = range[..] {
        if (low..=high).contains(&gid) {
            return Ok(());
        }
    }
    Err(format!(
        "after the switch to another user (--user) no raw ICMP socket can be made (CAP_NET_RAW goes \
         with the switch), and an unprivileged one needs net.ipv4.ping_group_range (now \"{}\") to \
         include its group ({gid})",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    ))
}

/// An icmp check in flight.
pub struct Check {
    url: String,
    timeout: Option<Duration>,
    started: Instant,
    /// The requests sent, the last one last (at most [`SENT_MOST`]).
    sent: Vec<Echo>,
    resend_at: Instant,
    resend_every: Duration,
    framing: Framing,
    /// `None` once judged or cancelled (the socket is closed).
    socket: Option<OwnedFd>,
    /// Why the last request could not be sent (no route, no neighbour yet), for the reason at
    /// the timeout: a request that could not go is one lost, and the next may go.
    send_failed: Option<String>,
}

impl Icmp {
    /// Send the echo request; a check that cannot even start (no socket, the send refused) is
    /// its verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        let fail = |reason: String| {
            log::warn!("{}: {reason}", self.url);
            Verdict::fail(reason)
        };
        log::debug!("Checking {}", self.url);
        let started = Instant::now();
        let (socket, framing) = open(self.host).map_err(|(err, raw)| {
            fail(match raw {
                Some(_) => {
                    "no ICMP socket: neither unprivileged (net.ipv4.ping_group_range) nor raw (CAP_NET_RAW)".to_owned()
                }
                None => format!("cannot make an ICMP socket: {}", in_words(&err.into(), Words::System)),
            })
        })?;
        let to = SocketAddr::new(self.host, 0);
        rustix::net::connect(&socket, &to).map_err(|err| fail(in_words(&err.into(), Words::System)))?;
        let (random, more) = (crate::sys::random(), crate::sys::random());
        let mut token = [0u8; wire::TOKEN];
        token[..8].copy_from_slice(&random.to_be_bytes());
        token[8..].copy_from_slice(&more.to_be_bytes());
        let echo = Echo { v6: self.host.is_ipv6(), id: (more >> 48) as u16, seq: (more >> 32) as u16, token };
        let mut check = Check {
            url: self.url.clone(),
            timeout: self.timeout,
            started,
            sent: vec![echo.clone()],
            resend_at: started + RESEND_FIRST,
            resend_every: RESEND_FIRST,
            framing,
            socket: Some(socket),
            send_failed: None,
        };
        check.send(&echo);
        Ok(check)
    }
}

impl Check {
    /// Read what came: `Some` once judged (`Ok`: our reply; `Err`: why not).
    fn read(&self) -> Option<Result<(), String>> {
        let socket = self.socket.as_ref()?;
        let mut buffer = [0u8; 1500];
        for _ in 0..READS_PER_WAKE_UP {
            match rustix::net::recv(socket, &mut buffer[..], RecvFlags::empty()) {
                Ok((n, _)) => {
                    let datagram = &buffer[..n.min(buffer.len())];
                    let judged: Vec<Result<(), String>> =
                        self.sent.iter().rev().map(|echo| echo.is_reply(datagram, self.framing)).collect();
                    if judged.iter().any(Result::is_ok) {
                        return Some(Ok(()));
                    }
                    if let Some(Err(why)) = judged.first() {
                        log::trace!("{}: ignored: {why}", self.url);
                    }
                }
                Err(Errno::AGAIN) => return None,
                Err(Errno::INTR) => {}
                Err(err) => return Some(Err(in_words(&err.into(), Words::System))),
            }
        }
        None
    }

    /// Send `echo`; a failure is kept for the reason, as a request lost.
    fn send(&mut self, echo: &Echo) {
        let Some(socket) = self.socket.as_ref() else { return };
        match rustix::net::send(socket, &echo.request(), SendFlags::NOSIGNAL) {
            // A full buffer: lost, as a datagram may be.
            Ok(_) | Err(Errno::AGAIN | Errno::INTR) => self.send_failed = None,
            Err(err) => {
                let why = in_words(&err.into(), Words::System);
                log::debug!("{}: the echo request could not be sent: {why}", self.url);
                self.send_failed = Some(why);
            }
        }
    }

    /// Send the request again, with the next sequence number, when it is time.
    fn resend(&mut self, now: Instant) {
        if self.socket.is_none() || now < self.resend_at {
            return;
        }
        let last = self.sent.last().expect("one request sent at least");
        let echo = Echo { seq: last.seq.wrapping_add(1), ..last.clone() };
        log::debug!("{}: no echo reply yet, sending the request again", self.url);
        self.send(&echo);
        self.sent.push(echo);
        if self.sent.len() > SENT_MOST {
            self.sent.remove(0);
        }
        self.resend_every = (self.resend_every * 2).min(RESEND_MOST);
        self.resend_at = now + self.resend_every;
    }

    /// The verdict, logged: healthy at debug, unhealthy once at warning (`URL: REASON`).
    fn judged(&mut self, judged: Result<(), String>) -> Verdict {
        self.socket = None;
        let took = self.started.elapsed();
        Verdict::logged(&self.url, judged.map(|()| (format!("echo reply, {} ms", took.as_millis()), took)))
    }
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        if let Some(socket) = &self.socket {
            fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.socket.as_ref()?;
        Some(self.timeout.map_or(self.resend_at, |timeout| self.resend_at.min(self.started + timeout)))
    }

    fn advance(&mut self, _ready: Ready) -> Option<Verdict> {
        self.socket.as_ref()?;
        if let Some(judged) = self.read() {
            return Some(self.judged(judged));
        }
        let now = Instant::now();
        match self.timeout {
            Some(timeout) if now >= self.started + timeout => {
                let mut reason = format!("no answer within {}", humantime::format_duration(timeout));
                if let Some(why) = &self.send_failed {
                    reason = format!("{reason} (the request could not be sent: {why})");
                }
                Some(Verdict { timed_out: true, ..self.judged(Err(reason)) })
            }
            _ => {
                self.resend(now);
                None
            }
        }
    }

    fn cancel(&mut self) {
        self.socket = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn spec(host: IpAddr, timeout_ms: u64) -> Icmp {
        Icmp { url: format!("icmp://{host}"), host, timeout: Some(Duration::from_millis(timeout_ms)) }
    }

    fn run(icmp: &Icmp) -> Verdict {
        match icmp.start() {
            Ok(mut check) => {
                let verdict = crate::probe::drive_in_test(&mut check);
                let mut fds = Vec::new();
                check.poll_fds(&mut fds);
                assert!(fds.is_empty() && check.deadline().is_none(), "the socket is closed at the verdict");
                verdict
            }
            Err(verdict) => verdict,
        }
    }

    /// Whether this process can make an ICMP socket at all (root, or ping_group_range).
    fn can_ping() -> bool {
        usable(IpAddr::V4(Ipv4Addr::LOCALHOST)).is_ok()
    }

    #[test]
    fn loopback_answers_on_ipv4_and_ipv6() {
        if !can_ping() {
            eprintln!("skipped: no ICMP socket here ({:?})", usable(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            return;
        }
        for host in [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)] {
            for _ in 0..3 {
                let verdict = run(&spec(host, 2000));
                assert!(verdict.ok && verdict.detail.starts_with("echo reply, "), "{host}: {verdict:?}");
            }
        }
    }

    #[test]
    fn cancel_closes_the_socket() {
        if !can_ping() {
            return;
        }
        let mut check = spec(IpAddr::V4(Ipv4Addr::LOCALHOST), 2000).start().unwrap();
        assert!(check.deadline().is_some());
        check.cancel();
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert!(fds.is_empty() && check.deadline().is_none());
        assert_eq!(check.advance(Ready::NONE), None);
    }
}
