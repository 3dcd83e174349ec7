//! The NTP check (`--check ntp://HOST[:PORT]#max-stratum=N&max-offset=DURATION`): one SNTPv4
//! query over UDP (RFC 4330), healthy when the server answers synchronised (leap indicator not
//! 3, stratum 1 to 15, at most `#max-stratum`) with its clock within `#max-offset` of ours.
//!
//! It runs on the reactor's loop like any probe: a non-blocking UDP socket connected to the
//! server (only its datagrams reach us, and a closed port is `connection refused`), no thread.
//! This module is the socket part and the clocks; the message, built and judged, is [`wire`]'s,
//! which does no I/O. A reply that is not ours (another query's, not a server's) is ignored and
//! the check waits on for its own until the timeout. A query unanswered is followed by a new one
//! (its own transmit timestamp: the time it is sent) after 1 s, then 2, 4 and every 8 s, as the
//! dns check resends, so that one lost datagram does not fail a check with a long `--timeout`
//! (nor hang one without); a reply to any of the last 16 is taken, its offset computed against
//! that query's own time of sending.

pub mod wire;

use super::url::NtpTarget;
use super::{Probe, Verdict};
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime};
use wire::{Judgement, Query, Seconds, Timestamp};

/// An NTP check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntp {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// The server, and what its answer must be.
    pub target: NtpTarget,
    /// The iteration's `--timeout`; `None`: no limit.
    pub timeout: Option<Duration>,
}

/// The most datagrams one wake-up reads (a flood of ignored replies does not hold the loop).
const READS_PER_WAKE_UP: usize = 64;
/// The first resend, and the longest wait between two.
const RESEND_FIRST: Duration = Duration::from_secs(1);
const RESEND_MOST: Duration = Duration::from_secs(8);
/// The queries kept to match replies against (the oldest forgotten first).
const SENT_MOST: usize = 16;

/// An NTP check in flight.
pub struct Check {
    url: String,
    target: NtpTarget,
    timeout: Option<Duration>,
    /// When the first query went out.
    started: Instant,
    /// The queries sent, the last one last (at most [`SENT_MOST`]).
    sent: Vec<Sent>,
    resend_at: Instant,
    resend_every: Duration,
    /// `None` once judged or cancelled (the socket is closed).
    socket: Option<UdpSocket>,
}

/// One query sent.
struct Sent {
    query: Query,
    /// When it went out, on the monotonic clock (`T4` is `T1` plus the time since)...
    at: Instant,
    /// ...and on the system's (`T1`, since 1970).
    unix: Duration,
}

impl Sent {
    /// A new query, sent on `socket` now (a full buffer: as if lost).
    fn send(socket: &UdpSocket) -> io::Result<Sent> {
        let (at, unix) = (Instant::now(), unix_now());
        let query = Query::new(Timestamp::from_unix(unix), crate::sys::random());
        match socket.send(query.bytes()) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
        Ok(Sent { query, at, unix })
    }
}

impl Ntp {
    /// Send the query; a check that cannot even start (no socket, the send refused) is its
    /// verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        let fail = |err: io::Error| {
            let reason = in_words(&err, Words::System);
            log::warn!("{}: {reason}", self.url);
            Verdict::fail(reason)
        };
        log::debug!("Checking {}", self.url);
        let socket = udp_socket(self.target.server).map_err(fail)?;
        let first = Sent::send(&socket).map_err(fail)?;
        let started = first.at;
        Ok(Check {
            url: self.url.clone(),
            target: self.target.clone(),
            timeout: self.timeout,
            started,
            sent: vec![first],
            resend_at: started + RESEND_FIRST,
            resend_every: RESEND_FIRST,
            socket: Some(socket),
        })
    }
}

/// The time since 1970 on the system's clock (before 1970: 1970).
fn unix_now() -> Duration {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()
}

/// A non-blocking UDP socket connected to `server`.
fn udp_socket(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

impl Check {
    /// Read what came: `Some` once judged (healthy, or the reason).
    fn read(&self) -> Option<Result<(u8, f64), String>> {
        let socket = self.socket.as_ref()?;
        let mut buffer = [0u8; 1024];
        for _ in 0..READS_PER_WAKE_UP {
            match socket.recv(&mut buffer) {
                Ok(n) => {
                    let mut ignored = None;
                    for sent in self.sent.iter().rev() {
                        // T4, on the clock T1 was read from, moved on by the monotonic one (a
                        // step of the system's clock meanwhile is not taken for an offset).
                        let received = Timestamp::from_unix(sent.unix + sent.at.elapsed());
                        match sent.query.judge(&buffer[..n], received, &self.target.limits) {
                            Judgement::Ignored(why) => ignored = ignored.or(Some(why)),
                            Judgement::Healthy { stratum, offset, .. } => return Some(Ok((stratum, offset))),
                            Judgement::Unhealthy(reason) => return Some(Err(reason)),
                        }
                    }
                    if let Some(why) = ignored {
                        log::debug!("{}: ignored a reply: {why}", self.url);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(in_words(&e, Words::System))),
            }
        }
        None
    }

    /// Send a new query when it is time.
    fn resend(&mut self, now: Instant) -> Result<(), String> {
        let Some(socket) = self.socket.as_ref() else { return Ok(()) };
        if now < self.resend_at {
            return Ok(());
        }
        log::debug!("{}: no answer yet, sending a new query", self.url);
        let sent = Sent::send(socket).map_err(|e| in_words(&e, Words::System))?;
        self.sent.push(sent);
        if self.sent.len() > SENT_MOST {
            self.sent.remove(0);
        }
        self.resend_every = (self.resend_every * 2).min(RESEND_MOST);
        self.resend_at = now + self.resend_every;
        Ok(())
    }

    /// The verdict, logged: healthy at debug, unhealthy once at warning (`URL: REASON`).
    fn judged(&mut self, judged: Result<(u8, f64), String>) -> Verdict {
        self.socket = None;
        let took = self.started.elapsed();
        let judged = judged.map(|(stratum, offset)| {
            (format!("stratum {stratum}, offset {}, {} ms", Seconds(offset), took.as_millis()), took)
        });
        Verdict::logged(&self.url, judged)
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
                let reason = format!("no answer within {}", humantime::format_duration(timeout));
                Some(Verdict { timed_out: true, ..self.judged(Err(reason)) })
            }
            _ => self.resend(now).err().map(|reason| self.judged(Err(reason))),
        }
    }

    fn cancel(&mut self) {
        self.socket = None;
    }
}

#[cfg(test)]
mod tests {
    use super::wire::tests::reply;
    use super::wire::Limits;
    use super::*;
    use std::net::IpAddr;
    use std::sync::mpsc::{self, Receiver};
    use std::thread;

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    /// What a test server sends back for a query: datagrams.
    type Script = fn(&[u8]) -> Vec<Vec<u8>>;

    /// A UDP server on `ip` answering one query with what `script` makes of it, handing the
    /// query over; it stops after 5 s without one.
    fn serve(ip: IpAddr, script: Script) -> (SocketAddr, Receiver<Vec<u8>>) {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        let address = socket.local_addr().unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (queries, received) = mpsc::channel();
        thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            let Ok((length, peer)) = socket.recv_from(&mut buffer) else { return };
            for datagram in script(&buffer[..length]) {
                socket.send_to(&datagram, peer).unwrap();
            }
            let _ = queries.send(buffer[..length].to_vec());
        });
        (address, received)
    }

    fn spec(server: SocketAddr, limits: Limits, timeout_ms: u64) -> Ntp {
        Ntp {
            url: format!("ntp://{server}"),
            target: NtpTarget { server, limits },
            timeout: Some(Duration::from_millis(timeout_ms)),
        }
    }

    fn run(ntp: &Ntp) -> Verdict {
        match ntp.start() {
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

    /// A reply with the server's clock `ahead` of ours (stratum 3).
    fn ahead(query: &[u8], ahead: Duration) -> Vec<u8> {
        let now = unix_now() + ahead;
        reply(query, 0, 3, now, now)
    }

    #[test]
    fn a_synchronised_server_is_healthy_on_ipv4_and_ipv6() {
        for ip in [V4, V6] {
            let (server, queries) = serve(ip, |query| vec![ahead(query, Duration::ZERO)]);
            let verdict = run(&spec(server, Limits::default(), 2000));
            assert!(verdict.ok, "{verdict:?}");
            assert!(verdict.detail.starts_with("stratum 3, offset "), "{verdict:?}");
            let query = queries.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!((query.len(), query[0]), (48, 0x23));
        }
    }

    #[test]
    fn an_offset_beyond_the_limit_and_an_unsynchronised_server_are_unhealthy() {
        let limits = Limits { max_stratum: 15, max_offset: Some(Duration::from_millis(500)) };
        let (server, _) = serve(V4, |query| vec![ahead(query, Duration::from_secs(2))]);
        let verdict = run(&spec(server, limits, 2000));
        assert!(!verdict.ok && !verdict.timed_out, "{verdict:?}");
        assert!(verdict.detail.starts_with("offset +"), "{verdict:?}");
        assert!(verdict.detail.ends_with(" ms, beyond #max-offset=500ms"), "{verdict:?}");
        let (server, _) = serve(V6, |query| vec![ahead(query, Duration::from_millis(1))]);
        assert!(run(&spec(server, limits, 2000)).ok);
        let (server, _) = serve(V4, |query| {
            let mut reply = ahead(query, Duration::ZERO);
            reply[0] |= 0xc0;
            vec![reply]
        });
        assert_eq!(run(&spec(server, limits, 2000)), Verdict::fail("not synchronised (leap indicator 3)"));
    }

    #[test]
    fn replies_not_ours_are_ignored_until_ours() {
        let (server, _) = serve(V4, |query| {
            let mut other = ahead(query, Duration::ZERO);
            other[30] ^= 0xff;
            vec![b"short".to_vec(), other, ahead(query, Duration::ZERO)]
        });
        assert!(run(&spec(server, Limits::default(), 2000)).ok);
        let (server, _) = serve(V4, |query| {
            let mut other = ahead(query, Duration::ZERO);
            other[30] ^= 0xff;
            vec![other]
        });
        let started = Instant::now();
        assert_eq!(run(&spec(server, Limits::default(), 300)), Verdict::timeout("no answer within 300ms"));
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn a_silent_server_is_cut_at_the_timeout_and_a_closed_port_is_refused() {
        let (server, _) = serve(V6, |_| Vec::new());
        assert_eq!(run(&spec(server, Limits::default(), 200)), Verdict::timeout("no answer within 200ms"));
        let closed = UdpSocket::bind((V4, 0)).unwrap().local_addr().unwrap();
        assert_eq!(run(&spec(closed, Limits::default(), 2000)), Verdict::fail("connection refused"));
    }

    #[test]
    fn a_lost_query_is_followed_by_a_new_one_and_the_offset_is_the_answered_one_s() {
        // The first query is lost; the second answered with the server's clock right.
        let socket = UdpSocket::bind((V4, 0)).unwrap();
        let server = socket.local_addr().unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (queries, received) = mpsc::channel();
        thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            for n in 0..2 {
                let Ok((length, peer)) = socket.recv_from(&mut buffer) else { return };
                if n == 1 {
                    socket.send_to(&ahead(&buffer[..length], Duration::ZERO), peer).unwrap();
                }
                let _ = queries.send(buffer[..length].to_vec());
            }
        });
        let limits = Limits { max_stratum: 15, max_offset: Some(Duration::from_millis(100)) };
        let started = Instant::now();
        let verdict = run(&spec(server, limits, 3000));
        assert!(verdict.ok, "{verdict:?}");
        assert!(started.elapsed() >= RESEND_FIRST, "{:?}", started.elapsed());
        let (first, second) = (received.recv().unwrap(), received.recv().unwrap());
        assert_ne!(first[40..48], second[40..48], "a new query, with its own transmit timestamp");
    }

    #[test]
    fn cancel_closes_the_socket() {
        let (server, _) = serve(V4, |_| Vec::new());
        let mut check = spec(server, Limits::default(), 2000).start().unwrap();
        assert!(check.deadline().is_some());
        check.cancel();
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert!(fds.is_empty() && check.deadline().is_none());
        assert_eq!(check.advance(Ready::NONE), None);
    }
}
