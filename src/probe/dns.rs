//! The DNS check (`--check dns://SERVER[:PORT]/NAME[?type=A]#expect=IP`): one query over UDP to
//! the server (over TCP when the answer comes back truncated), healthy when the answer is
//! NOERROR with at least one record of the type asked (and the expected address among them).
//!
//! It runs on the reactor's loop like any probe: non-blocking sockets, no thread, no resolver.
//! The pure part, [`Query`] (the query's bytes) and [`Query::judge`] (an answer's bytes against
//! the query), does no I/O; the fuzz target `dns_answer` feeds it any bytes.
//!
//! As a resolver does, a reply with another id, or for another question, is ignored and the
//! check keeps waiting for its own until the deadline; over UDP the query is sent again after
//! 1 s, then 2 s, 4 s and every 8 s, so that one lost datagram does not fail the check (nor
//! hang one without a timeout).

use super::{Probe, Verdict};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, OPCODE, QCLASS, QTYPE, RCODE, TYPE};
use std::fmt;
use std::hash::BuildHasher;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A DNS check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// An IP literal; port 53 unless the URL says otherwise.
    pub server: SocketAddr,
    /// The name to ask for, with or without the final dot (`.` or empty: the root).
    pub name: String,
    pub rtype: RecordType,
    /// `#expect=IP`: this address must be among the A and AAAA records of the answer.
    pub expect: Option<IpAddr>,
    /// The iteration's `--timeout`; `None`: no limit.
    pub timeout: Option<Duration>,
}

/// The record types a check can ask for, by name in any case (`A`, `mx`). (The message crate
/// parses no answer to a question of a type it does not know: no `TYPEnnn`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    MX,
    NS,
    PTR,
    SOA,
    SRV,
    TXT,
    CAA,
    DS,
    DNSKEY,
    NAPTR,
    SVCB,
    HTTPS,
}

/// The named types: name and number.
const NAMED: [(RecordType, &str, u16); 15] = [
    (RecordType::A, "A", 1),
    (RecordType::NS, "NS", 2),
    (RecordType::CNAME, "CNAME", 5),
    (RecordType::SOA, "SOA", 6),
    (RecordType::PTR, "PTR", 12),
    (RecordType::MX, "MX", 15),
    (RecordType::TXT, "TXT", 16),
    (RecordType::AAAA, "AAAA", 28),
    (RecordType::SRV, "SRV", 33),
    (RecordType::NAPTR, "NAPTR", 35),
    (RecordType::DS, "DS", 43),
    (RecordType::DNSKEY, "DNSKEY", 48),
    (RecordType::SVCB, "SVCB", 64),
    (RecordType::HTTPS, "HTTPS", 65),
    (RecordType::CAA, "CAA", 257),
];

impl RecordType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        NAMED.iter().find(|(t, _, _)| *t == self).map_or(0, |(_, _, code)| *code)
    }

    /// The name, as in the URL (`AAAA`).
    pub fn name(self) -> &'static str {
        NAMED.iter().find(|(t, _, _)| *t == self).map_or("?", |(_, name, _)| name)
    }
}

impl FromStr for RecordType {
    type Err = String;

    fn from_str(text: &str) -> Result<RecordType, String> {
        match NAMED.iter().find(|(_, name, _)| name.eq_ignore_ascii_case(text)) {
            Some((rtype, _, _)) => Ok(*rtype),
            None => {
                let names: Vec<&str> = NAMED.iter().map(|(_, name, _)| *name).collect();
                Err(format!("unknown DNS record type {text:?} (one of {})", names.join(", ")))
            }
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One query: what it asks and its bytes (a standard query, recursion desired, class IN, no
/// EDNS: answers that do not fit 512 bytes come back truncated and are asked again over TCP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    id: u16,
    /// Without the final dot; empty for the root.
    name: String,
    rtype: RecordType,
    bytes: Vec<u8>,
}

/// What an answer's bytes say about a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Not the reply to this query (too short for a header, another id, not a response, a
    /// reply for another question): keep waiting, as a resolver does. Why, in words.
    Ignored(String),
    /// The reply came over UDP with the TC bit: ask again over TCP.
    Truncated,
    /// NOERROR with `records` records of the type asked (and the expected address among them).
    Healthy { records: usize },
    /// The reply to this query, unhealthy: why, in words (`NXDOMAIN`, `no A record in the
    /// answer`, `malformed answer: ...`).
    Unhealthy(String),
}

/// The fixed size of a DNS header.
const HEADER: usize = 12;
/// The smallest question (the root, type, class) and resource record (the root, type, class,
/// TTL, length), to refuse counts that the message cannot hold before parsing it.
const SMALLEST_QUESTION: usize = 5;
const SMALLEST_RECORD: usize = 11;

impl Query {
    /// The query for `name` and `rtype` with the id `id`; the reason when the name cannot be
    /// asked (an empty label, one over 63 bytes, a name over 255).
    pub fn new(id: u16, name: &str, rtype: RecordType) -> Result<Query, String> {
        let bare = name.strip_suffix('.').unwrap_or(name);
        if !bare.is_empty() && bare.split('.').any(str::is_empty) {
            return Err(format!("invalid name {name:?}: an empty label"));
        }
        if let Some(label) = bare.split('.').find(|label| label.len() > 63) {
            return Err(format!("invalid name {name:?}: the label {label:?} is over 63 bytes"));
        }
        // The crate splits at dots and refuses a name over 255 bytes on the wire.
        let qname = Name::new(bare).map_err(|e| format!("invalid name {name:?}: {e}"))?;
        let mut packet = Packet::new_query(id);
        packet.set_flags(PacketFlag::RECURSION_DESIRED);
        packet.questions.push(Question::new(qname, question_type(rtype), QCLASS::CLASS(CLASS::IN), false));
        let bytes = packet.build_bytes_vec().map_err(|e| format!("invalid name {name:?}: {e}"))?;
        Ok(Query { id, name: bare.to_owned(), rtype, bytes })
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    /// The query as sent over UDP (over TCP it goes after its 2-byte length).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What `reply` (one whole message) says about this query, for `expect` (an address that
    /// must be among the A and AAAA records of the answer); `over_tcp`: the reply came over
    /// TCP, where the TC bit means nothing more to do. Never panics, on any bytes.
    pub fn judge(&self, reply: &[u8], expect: Option<IpAddr>, over_tcp: bool) -> Judgement {
        if reply.len() < HEADER {
            return Judgement::Ignored(format!("{} bytes, shorter than a DNS header", reply.len()));
        }
        let id = u16::from_be_bytes([reply[0], reply[1]]);
        if id != self.id {
            return Judgement::Ignored(format!("id {id}, not ours ({})", self.id));
        }
        let flags = u16::from_be_bytes([reply[2], reply[3]]);
        if flags & PacketFlag::RESPONSE.bits() == 0 {
            return Judgement::Ignored("a query, not a response".to_owned());
        }
        if !over_tcp && flags & PacketFlag::TRUNCATION.bits() != 0 {
            return Judgement::Truncated;
        }
        let count = |at: usize| usize::from(u16::from_be_bytes([reply[at], reply[at + 1]]));
        let least = HEADER + count(4) * SMALLEST_QUESTION + (count(6) + count(8) + count(10)) * SMALLEST_RECORD;
        if least > reply.len() {
            return Judgement::Unhealthy(format!(
                "malformed answer: {} questions and {} records cannot fit in {} bytes",
                count(4),
                count(6) + count(8) + count(10),
                reply.len()
            ));
        }
        let packet = match Packet::parse(reply) {
            Ok(packet) => packet,
            Err(e) => return Judgement::Unhealthy(format!("malformed answer: {e}")),
        };
        if packet.opcode() != OPCODE::StandardQuery {
            return Judgement::Ignored(format!("opcode {}, not a standard query", (flags >> 11) & 0xf));
        }
        let rcode = packet.rcode();
        match packet.questions.as_slice() {
            // Some servers leave the question out of an error (FORMERR, NOTIMP): it is ours.
            [] if rcode != RCODE::NoError => {}
            [question] if self.asks(question) => {}
            [] => return Judgement::Ignored("an answer without its question".to_owned()),
            [question, ..] => {
                return Judgement::Ignored(format!(
                    "an answer to another question ({} {}{})",
                    shown(&question.qname),
                    type_name(question.qtype.into()),
                    if packet.questions.len() > 1 { ", and more" } else { "" }
                ))
            }
        }
        if rcode != RCODE::NoError {
            return Judgement::Unhealthy(rcode_name(rcode, reply[3]));
        }
        let code = self.rtype.code();
        let records = packet
            .answers
            .iter()
            .filter(|rr| !matches!(rr.rdata, RData::Empty(_)) && u16::from(rr.rdata.type_code()) == code)
            .count();
        if records == 0 {
            return Judgement::Unhealthy(format!("no {} record in the answer", self.rtype));
        }
        if let Some(expect) = expect {
            let addresses: Vec<IpAddr> = packet
                .answers
                .iter()
                .filter_map(|rr| match &rr.rdata {
                    RData::A(a) => Some(IpAddr::V4(Ipv4Addr::from(a.address))),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(Ipv6Addr::from(aaaa.address))),
                    _ => None,
                })
                .collect();
            if !addresses.contains(&expect) {
                let among = if addresses.is_empty() {
                    "no address in them".to_owned()
                } else {
                    addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
                };
                return Judgement::Unhealthy(format!("{expect} not among the answers ({among})"));
            }
        }
        Judgement::Healthy { records }
    }

    /// Whether `question` is ours (the name in any case, the type, class IN).
    fn asks(&self, question: &Question) -> bool {
        let ours = Name::new(&self.name).ok();
        Some(&question.qname) == ours.as_ref()
            && u16::from(question.qtype) == self.rtype.code()
            && question.qclass == QCLASS::CLASS(CLASS::IN)
            && !question.unicast_response
    }
}

/// A name from the wire for messages: on one line, whatever bytes its labels hold.
fn shown(name: &Name) -> String {
    match name.to_string() {
        root if root.is_empty() => ".".to_owned(),
        text => text.escape_debug().to_string(),
    }
}

/// A type's name for messages (`TYPE99` for one we do not ask for).
fn type_name(code: u16) -> String {
    match NAMED.iter().find(|(_, _, c)| *c == code) {
        Some((_, name, _)) => (*name).to_owned(),
        None => format!("TYPE{code}"),
    }
}

fn question_type(rtype: RecordType) -> QTYPE {
    QTYPE::TYPE(TYPE::from(rtype.code()))
}

/// The response code's mnemonic (RFC 6895), as dig prints it.
fn rcode_name(rcode: RCODE, flags_low: u8) -> String {
    let name = match rcode {
        RCODE::NoError => "NOERROR",
        RCODE::FormatError => "FORMERR",
        RCODE::ServerFailure => "SERVFAIL",
        RCODE::NameError => "NXDOMAIN",
        RCODE::NotImplemented => "NOTIMP",
        RCODE::Refused => "REFUSED",
        RCODE::YXDOMAIN => "YXDOMAIN",
        RCODE::YXRRSET => "YXRRSET",
        RCODE::NXRRSET => "NXRRSET",
        RCODE::NOTAUTH => "NOTAUTH",
        RCODE::NOTZONE => "NOTZONE",
        RCODE::BADVERS => "BADVERS",
        RCODE::Reserved => return format!("RCODE{}", flags_low & 0xf),
    };
    name.to_owned()
}

/// A fresh query id, not guessable from outside: the clock, the pid and a counter through
/// std's randomly keyed SipHash (its keys come from the OS), without a `rand` crate.
fn random_id() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let hash = std::collections::hash_map::RandomState::new().hash_one((
        now.as_nanos(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ));
    hash as u16
}

/// An I/O error in words, as the reason of a verdict: `connection refused`.
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_owned(),
    }
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
        let query = Query::new(random_id(), &self.name, self.rtype).map_err(fail)?;
        log::debug!("Checking {}: {} {} to {}", self.url, query.name_shown(), self.rtype, self.server);
        let socket = udp_socket(self.server).map_err(|e| fail(describe(&e)))?;
        match socket.send(query.bytes()) {
            // Not sent now (a full buffer): the resend will.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(fail(describe(&e))),
        }
        Ok(Check {
            url: self.url.clone(),
            server: self.server,
            query,
            expect: self.expect,
            timeout: self.timeout,
            started,
            state: State::Udp(Udp { socket, resend_at: started + RESEND_FIRST, resend_every: RESEND_FIRST }),
        })
    }
}

impl Query {
    /// The name for messages: `.` for the root.
    fn name_shown(&self) -> &str {
        if self.name.is_empty() {
            "."
        } else {
            &self.name
        }
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
                Err(e) => return Step::Judged(Err(describe(&e))),
            }
        }
        if now >= self.resend_at {
            log::debug!("{url}: no answer yet, sending the query again");
            match self.socket.send(query.bytes()) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                Err(e) => return Step::Judged(Err(describe(&e))),
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
        let length = u16::try_from(query.bytes().len()).unwrap_or(u16::MAX);
        let out = length.to_be_bytes().iter().chain(query.bytes()).copied().collect();
        Ok(Tcp { socket, connected, out, sent: 0, read: Vec::new() })
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
                Ok(Err(e)) | Err(e) => return Step::Judged(Err(format!("{} over TCP", describe(&e.into())))),
            }
        }
        while self.sent < self.out.len() {
            match rustix::net::send(&self.socket, &self.out[self.sent..], SendFlags::NOSIGNAL) {
                Ok(n) => self.sent += n,
                Err(rustix::io::Errno::AGAIN) => return Step::Wait,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Step::Judged(Err(format!("{} over TCP", describe(&e.into())))),
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
                    while let Some(end) = self.complete() {
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
                Err(e) => return Step::Judged(Err(format!("{} over TCP", describe(&e.into())))),
            }
        }
        Step::Wait
    }

    /// Where the first whole message in `read` ends (after its 2-byte length), if it is whole.
    fn complete(&self) -> Option<usize> {
        let length = usize::from(u16::from_be_bytes([*self.read.first()?, *self.read.get(1)?]));
        (self.read.len() >= 2 + length).then_some(2 + length)
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
        match judged {
            Ok(records) => {
                let detail = format!(
                    "NOERROR, {records} {} record{}{}, {} ms",
                    self.query.rtype,
                    if records == 1 { "" } else { "s" },
                    if over_tcp { " over TCP" } else { "" },
                    self.started.elapsed().as_millis()
                );
                log::debug!("{}: {detail}", self.url);
                Verdict::pass(detail)
            }
            Err(reason) => {
                log::warn!("{}: {reason}", self.url);
                Verdict::fail(reason)
            }
        }
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
                    Err(e) => return Some(self.judged(Err(format!("{} over TCP", describe(&e))))),
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
    use super::*;
    use simple_dns::rdata::{A, AAAA, CNAME, MX, TXT};
    use simple_dns::ResourceRecord;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc::{self, Receiver};
    use std::thread;

    const NAME: &str = "example.com";
    const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    fn a(text: &str) -> RData<'static> {
        RData::A(A { address: text.parse::<Ipv4Addr>().unwrap().into() })
    }

    fn aaaa(text: &str) -> RData<'static> {
        RData::AAAA(AAAA { address: text.parse::<Ipv6Addr>().unwrap().into() })
    }

    fn cname(target: &'static str) -> RData<'static> {
        RData::CNAME(CNAME(Name::new_unchecked(target)))
    }

    /// The reply to `query` (its id and question, RD copied, RA set) with `rcode` and
    /// `answers` (owned by the question's name).
    fn reply(query: &[u8], rcode: RCODE, answers: &[RData<'static>]) -> Vec<u8> {
        let asked = Packet::parse(query).unwrap();
        let mut packet = Packet::new_reply(asked.id());
        packet.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE);
        *packet.rcode_mut() = rcode;
        packet.questions = asked.questions.clone();
        let owner = asked.questions[0].qname.clone();
        for rdata in answers {
            packet.answers.push(ResourceRecord::new(owner.clone(), CLASS::IN, 60, rdata.clone()));
        }
        packet.build_bytes_vec_compressed().unwrap()
    }

    /// `message` with the id `id`.
    fn with_id(mut message: Vec<u8>, id: u16) -> Vec<u8> {
        message[..2].copy_from_slice(&id.to_be_bytes());
        message
    }

    fn with_flag(mut message: Vec<u8>, flag: PacketFlag) -> Vec<u8> {
        let flags = u16::from_be_bytes([message[2], message[3]]) | flag.bits();
        message[2..4].copy_from_slice(&flags.to_be_bytes());
        message
    }

    fn query(rtype: RecordType) -> Query {
        Query::new(0x1234, NAME, rtype).unwrap()
    }

    // The pure part: the query's bytes, the judgement of answers.

    #[test]
    fn record_types_by_name_in_any_case_or_by_number() {
        for (rtype, name, code) in NAMED {
            assert_eq!(name.parse::<RecordType>(), Ok(rtype));
            assert_eq!(name.to_lowercase().parse::<RecordType>(), Ok(rtype));
            assert_eq!(rtype.to_string(), name);
            assert_eq!(rtype.code(), code);
            // Every one is a type the message crate knows (it parses no answer to another).
            assert!(!matches!(TYPE::from(code), TYPE::Unknown(_)), "{name}");
            let answer = reply(query(rtype).bytes(), RCODE::NoError, &[]);
            assert!(Packet::parse(&answer).is_ok(), "{name}");
        }
        assert_eq!("aaaa".parse::<RecordType>(), Ok(RecordType::AAAA));
        assert_eq!("Srv".parse::<RecordType>(), Ok(RecordType::SRV));
        for refused in ["", "B", "ANY", "AXFR", "TYPE1", "TYPE99", " A", "A ", "Aé"] {
            let error = refused.parse::<RecordType>().unwrap_err();
            assert!(error.contains("A, NS, CNAME") && error.contains(&format!("{refused:?}")), "{error}");
        }
    }

    #[test]
    fn the_query_is_a_standard_recursive_query_for_the_name_and_type() {
        let bytes = query(RecordType::A).bytes().to_vec();
        let expected = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(bytes, expected);
        assert_eq!(Query::new(0x1234, "example.com.", RecordType::A).unwrap().bytes(), expected, "the final dot");
        let mx = Query::new(7, "Mail.Example.ORG", RecordType::MX).unwrap();
        assert_eq!(
            mx.bytes(),
            b"\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04Mail\x07Example\x03ORG\x00\x00\x0f\x00\x01"
        );
        assert_eq!(mx.id(), 7);
        let caa = Query::new(1, "x", RecordType::CAA).unwrap();
        assert_eq!(&caa.bytes()[12..], b"\x01x\x00\x01\x01\x00\x01");
        for root in [".", ""] {
            let root = Query::new(1, root, RecordType::NS).unwrap();
            assert_eq!(&root.bytes()[12..], b"\x00\x00\x02\x00\x01");
            assert_eq!(root.name_shown(), ".");
        }
        let longest = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        assert_eq!(Query::new(1, &longest, RecordType::A).unwrap().bytes().len(), 12 + 255 + 4);
    }

    #[test]
    fn names_that_cannot_be_asked_are_refused_with_the_reason() {
        for (name, why) in [
            ("a..b", "an empty label"),
            (".a", "an empty label"),
            ("a.b..", "an empty label"),
            ("..", "an empty label"),
            (&format!("{}.com", "x".repeat(64)), "is over 63 bytes"),
            (&["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62)].join("."), "invalid name"),
        ] {
            let error = Query::new(1, name, RecordType::A).unwrap_err();
            assert!(error.starts_with(&format!("invalid name {name:?}: ")) && error.contains(why), "{name}: {error}");
        }
    }

    #[test]
    fn healthy_on_noerror_with_a_record_of_the_type() {
        let q = query(RecordType::A);
        let answer = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
        assert_eq!(q.judge(&answer, None, true), Judgement::Healthy { records: 1 });
        // A CNAME chain: only the records of the type asked count, whoever owns them.
        let chain = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), a("192.0.2.7"), a("192.0.2.8")]);
        assert_eq!(q.judge(&chain, None, false), Judgement::Healthy { records: 2 });
        let q = query(RecordType::CNAME);
        let answer = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
        let q = query(RecordType::MX);
        let mx = RData::MX(MX { preference: 10, exchange: Name::new_unchecked("mx.example.com") });
        assert_eq!(q.judge(&reply(q.bytes(), RCODE::NoError, &[mx]), None, false), Judgement::Healthy { records: 1 });
        let q = query(RecordType::TXT);
        let txt = RData::TXT(TXT::new().with_string("v=spf1 -all").unwrap());
        assert_eq!(q.judge(&reply(q.bytes(), RCODE::NoError, &[txt]), None, false), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn the_question_matches_in_any_case() {
        let q = query(RecordType::A);
        let upper = Query::new(0x1234, "EXAMPLE.Com", RecordType::A).unwrap();
        let answer = reply(upper.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        assert_eq!(q.judge(&answer, None, false), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn every_error_code_is_unhealthy_by_its_name() {
        let q = query(RecordType::A);
        for (rcode, name) in [
            (RCODE::FormatError, "FORMERR"),
            (RCODE::ServerFailure, "SERVFAIL"),
            (RCODE::NameError, "NXDOMAIN"),
            (RCODE::NotImplemented, "NOTIMP"),
            (RCODE::Refused, "REFUSED"),
            (RCODE::YXDOMAIN, "YXDOMAIN"),
            (RCODE::YXRRSET, "YXRRSET"),
            (RCODE::NXRRSET, "NXRRSET"),
            (RCODE::NOTAUTH, "NOTAUTH"),
            (RCODE::NOTZONE, "NOTZONE"),
        ] {
            // Even with a record: the code decides.
            let answer = reply(q.bytes(), rcode, &[a("192.0.2.7")]);
            assert_eq!(q.judge(&answer, None, false), Judgement::Unhealthy(name.to_owned()));
        }
        let mut reserved = reply(q.bytes(), RCODE::NoError, &[]);
        reserved[3] |= 11;
        assert_eq!(q.judge(&reserved, None, false), Judgement::Unhealthy("RCODE11".to_owned()));
    }

    #[test]
    fn noerror_without_a_record_of_the_type_is_unhealthy() {
        let q = query(RecordType::A);
        let empty = reply(q.bytes(), RCODE::NoError, &[]);
        assert_eq!(q.judge(&empty, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let other = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), aaaa("2001:db8::1")]);
        assert_eq!(q.judge(&other, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let q = query(RecordType::SRV);
        let empty = reply(q.bytes(), RCODE::NoError, &[]);
        assert_eq!(q.judge(&empty, None, false), Judgement::Unhealthy("no SRV record in the answer".to_owned()));
        // An A record without its four bytes is no A record.
        let q = query(RecordType::A);
        let mut hollow = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        hollow.truncate(hollow.len() - 6);
        hollow.extend_from_slice(b"\x00\x00");
        assert_eq!(q.judge(&hollow, None, false), Judgement::Unhealthy("no A record in the answer".to_owned()));
    }

    #[test]
    fn the_expected_address_must_be_among_the_answers() {
        let q = query(RecordType::A);
        let answer = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7"), a("192.0.2.8")]);
        for present in ["192.0.2.7", "192.0.2.8"] {
            assert_eq!(q.judge(&answer, present.parse().ok(), false), Judgement::Healthy { records: 2 });
        }
        assert_eq!(
            q.judge(&answer, "192.0.2.9".parse().ok(), false),
            Judgement::Unhealthy("192.0.2.9 not among the answers (192.0.2.7, 192.0.2.8)".to_owned())
        );
        assert_eq!(
            q.judge(&answer, "::ffff:192.0.2.7".parse().ok(), false),
            Judgement::Unhealthy("::ffff:192.0.2.7 not among the answers (192.0.2.7, 192.0.2.8)".to_owned())
        );
        let q = query(RecordType::AAAA);
        let answer = reply(q.bytes(), RCODE::NoError, &[aaaa("2001:db8::1")]);
        assert_eq!(q.judge(&answer, "2001:db8::1".parse().ok(), false), Judgement::Healthy { records: 1 });
        assert_eq!(
            q.judge(&answer, "2001:db8::2".parse().ok(), false),
            Judgement::Unhealthy("2001:db8::2 not among the answers (2001:db8::1)".to_owned())
        );
        let q = query(RecordType::CNAME);
        let answer = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net")]);
        assert_eq!(
            q.judge(&answer, "192.0.2.7".parse().ok(), false),
            Judgement::Unhealthy("192.0.2.7 not among the answers (no address in them)".to_owned())
        );
    }

    #[test]
    fn what_is_not_the_reply_to_the_query_is_ignored() {
        let q = query(RecordType::A);
        let good = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        let ignored = |bytes: &[u8]| match q.judge(bytes, None, false) {
            Judgement::Ignored(why) => why,
            other => panic!("{other:?} for {bytes:?}"),
        };
        for short in 0..HEADER {
            assert_eq!(ignored(&good[..short]), format!("{short} bytes, shorter than a DNS header"));
        }
        assert_eq!(ignored(&with_id(good.clone(), 0x1235)), "id 4661, not ours (4660)");
        assert_eq!(ignored(q.bytes()), "a query, not a response");
        let other_name = Query::new(0x1234, "example.org", RecordType::A).unwrap();
        let why = ignored(&reply(other_name.bytes(), RCODE::NameError, &[]));
        assert_eq!(why, "an answer to another question (example.org A)");
        let other_type = query(RecordType::AAAA);
        assert_eq!(
            ignored(&reply(other_type.bytes(), RCODE::NoError, &[])),
            "an answer to another question (example.com AAAA)"
        );
        // The other name is shown on one line, whatever its bytes.
        let mut odd = reply(q.bytes(), RCODE::NoError, &[]);
        odd[13..20].copy_from_slice(b"exa\nm\x00e");
        assert_eq!(ignored(&odd), r"an answer to another question (exa\nm\0e.com A)");
        let root = Query::new(0x1234, ".", RecordType::A).unwrap();
        assert_eq!(ignored(&reply(root.bytes(), RCODE::NoError, &[])), "an answer to another question (. A)");
        // No question at all: ignored when it says NOERROR, ours when it is an error.
        let mut bare = good[..HEADER].to_vec();
        bare[4..12].fill(0);
        assert_eq!(ignored(&bare), "an answer without its question");
        bare[3] |= 1;
        assert_eq!(q.judge(&bare, None, false), Judgement::Unhealthy("FORMERR".to_owned()));
        // Two questions, the first ours: not an answer to our one question.
        let mut two = Packet::parse(&good).unwrap();
        two.questions.push(two.questions[0].clone());
        assert!(ignored(&two.build_bytes_vec().unwrap()).ends_with(", and more)"));
        // Another opcode (a NOTIFY).
        let mut notify = good.clone();
        notify[2] |= 4 << 3;
        assert_eq!(ignored(&notify), "opcode 4, not a standard query");
    }

    #[test]
    fn a_truncated_answer_over_udp_asks_for_tcp_and_over_tcp_is_judged() {
        let q = query(RecordType::A);
        let truncated = with_flag(reply(q.bytes(), RCODE::NoError, &[]), PacketFlag::TRUNCATION);
        assert_eq!(q.judge(&truncated, None, false), Judgement::Truncated);
        // Cut in the middle of a record, as servers do: still only "go to TCP".
        let mut cut = with_flag(reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]), PacketFlag::TRUNCATION);
        cut.truncate(cut.len() - 3);
        assert_eq!(q.judge(&cut, None, false), Judgement::Truncated);
        assert_eq!(q.judge(&truncated, None, true), Judgement::Unhealthy("no A record in the answer".to_owned()));
        let full = with_flag(reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]), PacketFlag::TRUNCATION);
        assert_eq!(q.judge(&full, None, true), Judgement::Healthy { records: 1 });
    }

    #[test]
    fn malformed_answers_are_unhealthy_with_the_reason() {
        let q = query(RecordType::A);
        let malformed = |bytes: &[u8]| match q.judge(bytes, None, false) {
            Judgement::Unhealthy(why) if why.starts_with("malformed answer: ") => why,
            other => panic!("{other:?} for {bytes:?}"),
        };
        let good = reply(q.bytes(), RCODE::NoError, &[a("192.0.2.7")]);
        // Counts the message cannot hold, refused before parsing.
        let mut counts = good.clone();
        counts[6..8].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(
            malformed(&counts),
            format!("malformed answer: 1 questions and 65535 records cannot fit in {} bytes", good.len())
        );
        // Our id and the response bit, then garbage.
        let mut garbage = good[..4].to_vec();
        garbage.extend_from_slice(
            b"\x00\x01\x00\x01\x00\x00\x00\x00\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe",
        );
        malformed(&garbage);
        // A name pointing forward (or at itself) is refused, not followed.
        let mut pointer = good[..HEADER].to_vec();
        pointer.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01");
        pointer[6..8].fill(0);
        malformed(&pointer);
        // Every strict prefix of a whole answer: malformed or ignored, never healthy, no panic.
        for end in HEADER..good.len() {
            let why = malformed(&good[..end]);
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn no_bytes_make_the_judgement_panic() {
        let q = query(RecordType::A);
        let good = reply(q.bytes(), RCODE::NoError, &[cname("www.example.net"), a("192.0.2.7"), aaaa("2001:db8::1")]);
        let expect = "192.0.2.7".parse().ok();
        assert_eq!(q.judge(&good, expect, false), Judgement::Healthy { records: 1 });
        for at in 0..good.len() {
            for value in [0u8, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff] {
                let mut changed = good.clone();
                changed[at] = value;
                let _ = q.judge(&changed, expect, false);
                let _ = q.judge(&changed, expect, true);
            }
        }
        // Pseudo-random bytes after our header (xorshift, fixed seed).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut message = good[..4].to_vec();
            for _ in 0..(state % 200) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                message.push(state as u8);
            }
            let _ = q.judge(&message, expect, false);
        }
    }

    #[test]
    fn ids_differ_from_query_to_query() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 56, "{} distinct ids in 64", ids.len());
    }

    #[test]
    fn io_errors_in_words() {
        assert_eq!(describe(&io::Error::from(io::ErrorKind::ConnectionRefused)), "connection refused");
        assert_eq!(describe(&io::Error::from_raw_os_error(111)), "connection refused");
        assert_eq!(describe(&io::Error::from_raw_os_error(101)), "network is unreachable");
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
            server,
            name: NAME.to_owned(),
            rtype,
            expect: expect.map(|ip| ip.parse().unwrap()),
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
        dns.name = "a..b".to_owned();
        let verdict = dns.start().err().unwrap();
        assert_eq!(verdict, Verdict::fail("invalid name \"a..b\": an empty label".to_owned()));
    }
}
