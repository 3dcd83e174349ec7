//! The DNS check (`--check dns://SERVER[:PORT]/NAME[?type=A]#expect=IP`): one query over UDP to
//! the server (over TCP when the answer comes back truncated), healthy when the answer is
//! NOERROR with at least one record of the type asked (and the expected address among them).
//!
//! It runs on the reactor's loop like any probe: non-blocking sockets, no thread, no resolver.
//! This module is the socket part (UDP, the TCP fallback, resends and the deadline); the
//! message's bytes, built and judged, are [`wire`]'s, which does no I/O.
//!
//! As a resolver does, a reply with another id, or for another question, is ignored and the
//! check keeps waiting for its own until the deadline; over UDP the query is sent again after
//! 1 s, then 2 s, 4 s and every 8 s, so that one lost datagram does not fail the check (nor
//! hang one without a timeout).

pub mod wire;

use super::url::DnsTarget;
use super::{Probe, Verdict};
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};
use wire::{Judgement, Query};

/// A DNS check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// The server, what to ask it, and what the answer must hold.
    pub target: DnsTarget,
    /// The iteration's `--timeout`; `None`: no limit.
    pub timeout: Option<Duration>,
}

/// A fresh query id, not guessable from outside.
fn random_id() -> u16 {
    crate::sys::random() as u16
}

/// The first resend over UDP, and the longest wait between two.
const RESEND_FIRST: Duration = Duration::from_secs(1);
const RESEND_MOST: Duration = Duration::from_secs(8);
/// The most datagrams or TCP reads one wake-up handles (a flood of ignored replies does not
/// hold the loop).
const READS_PER_WAKE_UP: usize = 64;
/// The largest DNS message (and UDP datagram we read).
const MESSAGE_MOST: usize = 65535;

impl Dns {
    /// Send the query; a check that cannot even start (an invalid name, no socket) is its
    /// verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        let started = Instant::now();
        let fail = |reason: String| {
            log::warn!("{}: {reason}", self.url);
            Verdict::fail(reason)
        };
        let target = &self.target;
        let query = Query::new(random_id(), &target.name, target.record).map_err(fail)?;
        log::debug!("Checking {}: {} {} to {}", self.url, query.name_shown(), target.record, target.server);
        let socket = udp_socket(target.server).map_err(|e| fail(in_words(&e, Words::System)))?;
        match socket.send(query.bytes()) {
            // Not sent now (a full buffer): the resend will.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(fail(in_words(&e, Words::System))),
        }
        Ok(Check {
            url: self.url.clone(),
            server: target.server,
            query,
            expect: target.expect,
            timeout: self.timeout,
            started,
            state: State::Udp(Udp { socket, resend_at: started + RESEND_FIRST, resend_every: RESEND_FIRST }),
        })
    }
}

/// A non-blocking UDP socket connected to `server` (only its datagrams reach us, and a closed
/// port is `connection refused`).
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

/// A DNS check in flight.
pub struct Check {
    url: String,
    server: SocketAddr,
    query: Query,
    expect: Option<IpAddr>,
    timeout: Option<Duration>,
    started: Instant,
    state: State,
}

enum State {
    Udp(Udp),
    Tcp(Tcp),
    /// Judged or cancelled: no socket left.
    Over,
}

struct Udp {
    socket: UdpSocket,
    resend_at: Instant,
    resend_every: Duration,
}

struct Tcp {
    socket: OwnedFd,
    connected: bool,
    /// The query after its length, and how much of it is sent.
    out: Vec<u8>,
    sent: usize,
    /// What came back so far (length-prefixed messages).
    read: Vec<u8>,
}

/// Where one look at the sockets left the check.
enum Step {
    Wait,
    /// Ask again over TCP.
    Truncated,
    /// Healthy with this many records, or unhealthy with the reason.
    Judged(Result<usize, String>),
}

impl Udp {
    fn advance(&mut self, query: &Query, expect: Option<IpAddr>, url: &str, now: Instant) -> Step {
        let mut buffer = [0u8; MESSAGE_MOST];
        for _ in 0..READS_PER_WAKE_UP {
            match self.socket.recv(&mut buffer) {
                Ok(n) => match query.judge(&buffer[..n], expect, false) {
                    Judgement::Ignored(why) => log::debug!("{url}: ignored a reply: {why}"),
                    Judgement::Truncated => return Step::Truncated,
                    Judgement::Healthy { records } => return Step::Judged(Ok(records)),
                    Judgement::Unhealthy(reason) => return Step::Judged(Err(reason)),
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Judged(Err(in_words(&e, Words::System))),
            }
        }
        if now >= self.resend_at {
            log::debug!("{url}: no answer yet, sending the query again");
            match self.socket.send(query.bytes()) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                Err(e) => return Step::Judged(Err(in_words(&e, Words::System))),
            }
            self.resend_every = (self.resend_every * 2).min(RESEND_MOST);
            self.resend_at = now + self.resend_every;
        }
        Step::Wait
    }
}

impl Tcp {
    /// Start connecting to `server`, with `query` to send once connected.
    fn connect(server: SocketAddr, query: &Query) -> io::Result<Tcp> {
        let family = if server.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
        let socket =
            rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC, None)?;
        let connected = match rustix::net::connect(&socket, &server) {
            Ok(()) => true,
            Err(rustix::io::Errno::INPROGRESS) => false,
            Err(e) => return Err(e.into()),
        };
        Ok(Tcp { socket, connected, out: query.framed(), sent: 0, read: Vec::new() })
    }

    fn wants(&self) -> PollFlags {
        if !self.connected || self.sent < self.out.len() {
            PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        }
    }

    fn advance(&mut self, query: &Query, expect: Option<IpAddr>, url: &str, ready: Ready) -> Step {
        if !self.connected {
            // Before it polls ready, SO_ERROR is 0 while the connection is still under way.
            if !ready.is(0) {
                return Step::Wait;
            }
            match rustix::net::sockopt::socket_error(&self.socket) {
                Ok(Ok(())) => self.connected = true,
                Ok(Err(e)) | Err(e) => {
                    return Step::Judged(Err(format!("{} over TCP", in_words(&e.into(), Words::System))))
                }
            }
        }
        while self.sent < self.out.len() {
            match rustix::net::send(&self.socket, &self.out[self.sent..], SendFlags::NOSIGNAL) {
                Ok(n) => self.sent += n,
                Err(rustix::io::Errno::AGAIN) => return Step::Wait,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Step::Judged(Err(format!("{} over TCP", in_words(&e.into(), Words::System)))),
            }
        }
        let mut chunk = [0u8; 4096];
        for _ in 0..READS_PER_WAKE_UP {
            match rustix::net::recv(&self.socket, &mut chunk[..], RecvFlags::empty()) {
                Ok((0, _)) => {
                    return Step::Judged(Err(match self.read.len() {
                        0 => "connection closed over TCP without an answer".to_owned(),
                        n => format!("connection closed over TCP in the middle of the answer ({n} bytes)"),
                    }))
                }
                Ok((n, _)) => {
                    self.read.extend_from_slice(&chunk[..n]);
                    while let Some(end) = wire::framed_end(&self.read) {
                        match query.judge(&self.read[2..end], expect, true) {
                            Judgement::Ignored(why) => log::debug!("{url}: ignored a reply over TCP: {why}"),
                            // Not over TCP; kept for completeness.
                            Judgement::Truncated => return Step::Judged(Err("truncated over TCP".to_owned())),
                            Judgement::Healthy { records } => return Step::Judged(Ok(records)),
                            Judgement::Unhealthy(reason) => return Step::Judged(Err(reason)),
                        }
                        self.read.drain(..end);
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return Step::Wait,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Step::Judged(Err(format!("{} over TCP", in_words(&e.into(), Words::System)))),
            }
        }
        Step::Wait
    }
}

impl Check {
    fn timeout_at(&self) -> Option<Instant> {
        self.timeout.map(|timeout| self.started + timeout)
    }

    /// The verdict, logged: healthy at debug, unhealthy once at warning (`URL: REASON`).
    fn judged(&mut self, judged: Result<usize, String>) -> Verdict {
        let over_tcp = matches!(self.state, State::Tcp(_));
        self.state = State::Over;
        let took = self.started.elapsed();
        let judged = judged.map(|records| {
            let detail = format!(
                "NOERROR, {records} {} record{}{}, {} ms",
                self.query.rtype(),
                if records == 1 { "" } else { "s" },
                if over_tcp { " over TCP" } else { "" },
                took.as_millis()
            );
            (detail, took)
        });
        Verdict::logged(&self.url, judged)
    }
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        match &self.state {
            State::Udp(udp) => fds.push(PollFd::new(udp.socket.as_fd(), PollFlags::POLLIN)),
            State::Tcp(tcp) => fds.push(PollFd::new(tcp.socket.as_fd(), tcp.wants())),
            State::Over => {}
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Udp(udp) => Some(self.timeout_at().map_or(udp.resend_at, |at| at.min(udp.resend_at))),
            State::Tcp(_) => self.timeout_at(),
            State::Over => None,
        }
    }

    fn advance(&mut self, ready: Ready) -> Option<Verdict> {
        let now = Instant::now();
        let mut ready = ready;
        loop {
            let step = match &mut self.state {
                State::Udp(udp) => udp.advance(&self.query, self.expect, &self.url, now),
                State::Tcp(tcp) => tcp.advance(&self.query, self.expect, &self.url, ready),
                State::Over => return None,
            };
            match step {
                Step::Wait => break,
                Step::Judged(judged) => return Some(self.judged(judged)),
                Step::Truncated => match Tcp::connect(self.server, &self.query) {
                    Ok(tcp) => {
                        log::debug!("{}: the answer is truncated, asking again over TCP", self.url);
                        self.state = State::Tcp(tcp);
                        // What polled ready was the UDP socket; the TCP one is looked at anew.
                        ready = Ready::NONE;
                    }
                    Err(e) => return Some(self.judged(Err(format!("{} over TCP", in_words(&e, Words::System))))),
                },
            }
        }
        match (self.timeout, self.timeout_at()) {
            (Some(timeout), Some(at)) if now >= at => {
                let over_tcp = if matches!(self.state, State::Tcp(_)) { " over TCP" } else { "" };
                let reason = format!("no answer within {}{over_tcp}", humantime::format_duration(timeout));
                Some(Verdict { timed_out: true, ..self.judged(Err(reason)) })
            }
            _ => None,
        }
    }

    fn cancel(&mut self) {
        self.state = State::Over;
    }
}

#[cfg(test)]
mod tests {
    use super::wire::tests::{a, aaaa, cname, reply, with_flag, with_id, NAME};
    use super::wire::{RecordType, HEADER};
    use super::*;
    use simple_dns::rdata::RData;
    use simple_dns::{Packet, PacketFlag, CLASS, OPCODE, QCLASS, QTYPE, RCODE, TYPE};
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc::{self, Receiver};
    use std::thread;

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    #[test]
    fn ids_differ_from_query_to_query() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 56, "{} distinct ids in 64", ids.len());
    }

    // The probe on sockets: servers on 127.0.0.1 and ::1 answering with messages built here.

    /// What a test server does with the `n`-th query it receives: the datagrams to send back.
    type Script = fn(usize, &[u8]) -> Vec<Vec<u8>>;

    /// A UDP server on `ip` (a fresh port) that runs `script` on every query and hands each
    /// query over; it stops after 5 s without one.
    fn udp_server(ip: IpAddr, script: Script) -> (SocketAddr, Receiver<Vec<u8>>) {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        serve_udp(socket, script)
    }

    fn serve_udp(socket: UdpSocket, script: Script) -> (SocketAddr, Receiver<Vec<u8>>) {
        let address = socket.local_addr().unwrap();
        let (queries, received) = mpsc::channel();
        socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            for n in 0..16 {
                let Ok((length, peer)) = socket.recv_from(&mut buffer) else { return };
                let query = buffer[..length].to_vec();
                for datagram in script(n, &query) {
                    socket.send_to(&datagram, peer).unwrap();
                }
                let _ = queries.send(query);
            }
        });
        (address, received)
    }

    /// A UDP and a TCP server on the same port of `ip`: UDP runs `udp`, TCP answers one
    /// connection with what `tcp` makes of the query it reads.
    fn udp_and_tcp_server(ip: IpAddr, udp: Script, tcp: Script) -> (SocketAddr, Receiver<Vec<u8>>, Receiver<Vec<u8>>) {
        let (socket, listener) = (0..50)
            .find_map(|_| {
                let socket = UdpSocket::bind((ip, 0)).unwrap();
                let listener = TcpListener::bind(socket.local_addr().unwrap()).ok()?;
                Some((socket, listener))
            })
            .expect("a port free for both UDP and TCP");
        let (address, udp_queries) = serve_udp(socket, udp);
        let (queries, tcp_queries) = mpsc::channel();
        listener.set_nonblocking(true).unwrap();
        thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(5);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < until => thread::sleep(Duration::from_millis(5)),
                    Err(_) => return,
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut length = [0u8; 2];
            stream.read_exact(&mut length).unwrap();
            let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
            stream.read_exact(&mut query).unwrap();
            for message in tcp(0, &query) {
                stream.write_all(&(message.len() as u16).to_be_bytes()).unwrap();
                stream.write_all(&message).unwrap();
            }
            let _ = queries.send(query);
        });
        (address, udp_queries, tcp_queries)
    }

    fn spec(server: SocketAddr, rtype: RecordType, expect: Option<&str>, timeout_ms: u64) -> Dns {
        let ip = match server.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        Dns {
            url: format!("dns://{ip}:{}/{NAME}?type={rtype}", server.port()),
            target: DnsTarget {
                server,
                name: NAME.to_owned(),
                record: rtype,
                expect: expect.map(|ip| ip.parse().unwrap()),
            },
            timeout: Some(Duration::from_millis(timeout_ms)),
        }
    }

    /// Run the check to its verdict in a poll loop, as the reactor does.
    fn run(dns: &Dns) -> Verdict {
        let mut check = match dns.start() {
            Ok(check) => check,
            Err(verdict) => return verdict,
        };
        let mut ready = Ready::NONE;
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(verdict) = check.advance(ready) {
                let mut fds = Vec::new();
                check.poll_fds(&mut fds);
                assert!(fds.is_empty() && check.deadline().is_none(), "the sockets are closed at the verdict");
                assert_eq!(check.advance(Ready::NONE), None, "one verdict");
                return verdict;
            }
            assert!(Instant::now() < until, "{} never ended", dns.url);
            let mut fds = Vec::new();
            check.poll_fds(&mut fds);
            assert_eq!(fds.len(), 1);
            ready = match crate::poll::poll_until(&mut fds, check.deadline()) {
                Ok(_) => Ready::of(&fds),
                Err(_) => Ready::NONE,
            };
        }
    }

    fn answer_a(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
        vec![reply(query, RCODE::NoError, &[a("192.0.2.7"), a("192.0.2.8")])]
    }

    fn answer_aaaa(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
        vec![reply(query, RCODE::NoError, &[aaaa("2001:db8::7")])]
    }

    #[test]
    fn healthy_on_an_a_record_over_ipv4_and_ipv6_and_the_query_is_as_it_should() {
        for ip in [V4, V6] {
            let (server, queries) = udp_server(ip, answer_a);
            let verdict = run(&spec(server, RecordType::A, None, 2000));
            assert!(verdict.ok, "{verdict:?}");
            assert!(
                verdict.detail.starts_with("NOERROR, 2 A records, ") && verdict.detail.ends_with(" ms"),
                "{verdict:?}"
            );
            let query = queries.recv_timeout(Duration::from_secs(5)).unwrap();
            let packet = Packet::parse(&query).unwrap();
            assert!(packet.has_flags(PacketFlag::RECURSION_DESIRED) && !packet.has_flags(PacketFlag::RESPONSE));
            assert_eq!(packet.opcode(), OPCODE::StandardQuery);
            assert_eq!(packet.questions.len(), 1);
            let question = &packet.questions[0];
            assert_eq!(question.qname.to_string(), NAME);
            assert_eq!(question.qtype, QTYPE::TYPE(TYPE::A));
            assert_eq!(question.qclass, QCLASS::CLASS(CLASS::IN));
            assert!(
                packet.answers.is_empty() && packet.name_servers.is_empty() && packet.additional_records.is_empty()
            );
        }
        let (server, _) = udp_server(V6, answer_aaaa);
        let verdict = run(&spec(server, RecordType::AAAA, Some("2001:db8::7"), 2000));
        assert!(verdict.ok && verdict.detail.starts_with("NOERROR, 1 AAAA record, "), "{verdict:?}");
    }

    #[test]
    fn nxdomain_servfail_and_no_record_are_unhealthy() {
        fn nxdomain(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            vec![reply(query, RCODE::NameError, &[])]
        }
        fn servfail(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            vec![reply(query, RCODE::ServerFailure, &[])]
        }
        fn only_a_cname(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            vec![reply(query, RCODE::NoError, &[cname("elsewhere.example.net")])]
        }
        for (script, detail) in
            [(nxdomain as Script, "NXDOMAIN"), (servfail, "SERVFAIL"), (only_a_cname, "no A record in the answer")]
        {
            for ip in [V4, V6] {
                let (server, _) = udp_server(ip, script);
                let verdict = run(&spec(server, RecordType::A, None, 2000));
                assert_eq!(verdict, Verdict::fail(detail.to_owned()));
            }
        }
    }

    #[test]
    fn the_expected_address_present_or_absent() {
        let (server, _) = udp_server(V4, answer_a);
        assert!(run(&spec(server, RecordType::A, Some("192.0.2.8"), 2000)).ok);
        let (server, _) = udp_server(V4, answer_a);
        let verdict = run(&spec(server, RecordType::A, Some("192.0.2.9"), 2000));
        assert_eq!(verdict.detail, "192.0.2.9 not among the answers (192.0.2.7, 192.0.2.8)");
        assert!(!verdict.ok);
    }

    #[test]
    fn replies_with_another_id_or_for_another_question_are_ignored_until_ours() {
        fn wrong_id_first(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let id = u16::from_be_bytes([query[0], query[1]]);
            let failing = reply(query, RCODE::ServerFailure, &[]);
            vec![with_id(failing, id.wrapping_add(1)), answer_a(0, query).remove(0)]
        }
        fn another_question_first(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let id = u16::from_be_bytes([query[0], query[1]]);
            let other = Query::new(id, "example.org", RecordType::A).unwrap();
            vec![reply(other.bytes(), RCODE::NameError, &[]), answer_a(0, query).remove(0)]
        }
        fn garbage_first(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            vec![b"\xde\xad".to_vec(), query.to_vec(), answer_a(0, query).remove(0)]
        }
        for script in [wrong_id_first as Script, another_question_first, garbage_first] {
            let (server, _) = udp_server(V4, script);
            let verdict = run(&spec(server, RecordType::A, None, 2000));
            assert!(verdict.ok, "{verdict:?}");
        }
        // Only replies of another id: the timeout.
        fn only_wrong_ids(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let id = u16::from_be_bytes([query[0], query[1]]);
            (1..4).map(|n| with_id(answer_a(0, query).remove(0), id.wrapping_add(n))).collect()
        }
        let (server, _) = udp_server(V4, only_wrong_ids);
        assert_eq!(run(&spec(server, RecordType::A, None, 300)), Verdict::timeout("no answer within 300ms"));
    }

    #[test]
    fn a_server_that_never_answers_is_cut_at_the_timeout() {
        fn silent(_: usize, _: &[u8]) -> Vec<Vec<u8>> {
            Vec::new()
        }
        for ip in [V4, V6] {
            let (server, _) = udp_server(ip, silent);
            let started = Instant::now();
            let verdict = run(&spec(server, RecordType::A, None, 200));
            let took = started.elapsed();
            assert_eq!(verdict, Verdict::timeout("no answer within 200ms"));
            assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(2), "{took:?}");
        }
    }

    #[test]
    fn a_lost_query_is_sent_again() {
        fn second_only(n: usize, query: &[u8]) -> Vec<Vec<u8>> {
            if n == 0 {
                Vec::new()
            } else {
                answer_a(n, query)
            }
        }
        let (server, queries) = udp_server(V4, second_only);
        let started = Instant::now();
        let verdict = run(&spec(server, RecordType::A, None, 3000));
        assert!(verdict.ok, "{verdict:?}");
        assert!(started.elapsed() >= RESEND_FIRST, "{:?}", started.elapsed());
        let first = queries.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, queries.recv_timeout(Duration::from_secs(5)).unwrap(), "the same query");
    }

    #[test]
    fn garbage_with_our_id_is_a_malformed_answer() {
        fn garbage(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let mut message = with_flag(query[..HEADER].to_vec(), PacketFlag::RESPONSE);
            message.extend_from_slice(b"\x3fgarbage garbage garbage");
            vec![message]
        }
        let (server, _) = udp_server(V4, garbage);
        let verdict = run(&spec(server, RecordType::A, None, 2000));
        assert!(!verdict.ok && verdict.detail.starts_with("malformed answer: "), "{verdict:?}");
    }

    #[test]
    fn a_closed_udp_port_is_connection_refused() {
        let closed = UdpSocket::bind((V4, 0)).unwrap().local_addr().unwrap();
        let verdict = run(&spec(closed, RecordType::A, None, 2000));
        assert_eq!(verdict, Verdict::fail("connection refused"));
    }

    fn truncated(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
        vec![with_flag(reply(query, RCODE::NoError, &[]), PacketFlag::TRUNCATION)]
    }

    #[test]
    fn a_truncated_answer_is_asked_again_over_tcp() {
        fn many(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let records: Vec<RData> = (0..200).map(|n| a(&format!("192.0.2.{n}"))).collect();
            vec![reply(query, RCODE::NoError, &records)]
        }
        for ip in [V4, V6] {
            let (server, udp, tcp) = udp_and_tcp_server(ip, truncated, many);
            let verdict = run(&spec(server, RecordType::A, Some("192.0.2.199"), 2000));
            assert!(verdict.ok, "{verdict:?}");
            assert!(verdict.detail.starts_with("NOERROR, 200 A records over TCP, "), "{verdict:?}");
            let (udp, tcp) =
                (udp.recv_timeout(Duration::from_secs(5)).unwrap(), tcp.recv_timeout(Duration::from_secs(5)).unwrap());
            assert_eq!(udp, tcp, "the same query over TCP");
        }
        // Over TCP too, another id is ignored until ours.
        fn wrong_id_first(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            let id = u16::from_be_bytes([query[0], query[1]]);
            vec![with_id(reply(query, RCODE::ServerFailure, &[]), id ^ 1), Vec::new(), many(0, query).remove(0)]
        }
        let (server, _, _) = udp_and_tcp_server(V4, truncated, wrong_id_first);
        assert!(run(&spec(server, RecordType::A, None, 2000)).ok);
        fn nxdomain(_: usize, query: &[u8]) -> Vec<Vec<u8>> {
            vec![reply(query, RCODE::NameError, &[])]
        }
        let (server, _, _) = udp_and_tcp_server(V4, truncated, nxdomain);
        assert_eq!(run(&spec(server, RecordType::A, None, 2000)).detail, "NXDOMAIN");
        fn nothing(_: usize, _: &[u8]) -> Vec<Vec<u8>> {
            Vec::new()
        }
        let (server, _, _) = udp_and_tcp_server(V4, truncated, nothing);
        assert_eq!(
            run(&spec(server, RecordType::A, None, 2000)).detail,
            "connection closed over TCP without an answer"
        );
    }

    #[test]
    fn a_refused_tcp_connection_after_truncation_is_unhealthy_with_the_reason() {
        for ip in [V4, V6] {
            // A UDP server on a port where nothing listens on TCP.
            let (server, _) = udp_server(ip, truncated);
            let verdict = run(&spec(server, RecordType::A, None, 2000));
            assert_eq!(verdict, Verdict::fail("connection refused over TCP"));
        }
    }

    #[test]
    fn a_tcp_server_that_accepts_and_never_answers_is_cut_at_the_timeout() {
        let (socket, listener) = (0..50)
            .find_map(|_| {
                let socket = UdpSocket::bind((V4, 0)).unwrap();
                let listener = TcpListener::bind(socket.local_addr().unwrap()).ok()?;
                Some((socket, listener))
            })
            .unwrap();
        let (server, _) = serve_udp(socket, truncated);
        // The backlog accepts the connection; nobody reads.
        let verdict = run(&spec(server, RecordType::A, None, 300));
        assert_eq!(verdict, Verdict::timeout("no answer within 300ms over TCP"));
        drop(listener);
    }

    #[test]
    fn cancel_closes_the_socket() {
        let (server, _) = udp_server(V4, |_, _| Vec::new());
        let mut check = spec(server, RecordType::A, None, 2000).start().unwrap();
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert_eq!(fds.len(), 1);
        drop(fds);
        assert!(check.deadline().is_some());
        check.cancel();
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert!(fds.is_empty());
        assert_eq!(check.deadline(), None);
        assert_eq!(check.advance(Ready::NONE), None);
    }

    #[test]
    fn a_check_that_cannot_start_is_its_verdict_at_once() {
        let mut dns = spec("127.0.0.1:53".parse().unwrap(), RecordType::A, None, 2000);
        dns.target.name = "a..b".to_owned();
        let verdict = dns.start().err().unwrap();
        assert_eq!(verdict, Verdict::fail("invalid name \"a..b\": an empty label".to_owned()));
    }
}
