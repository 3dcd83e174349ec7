//! The HTTP check (`--check http://HOST[:PORT]/PATH`, and `https://` over [`tls`]): one `GET` over a non-blocking socket, on
//! the reactor's loop like any other job (no thread, no fork, no blocking call). Healthy when
//! the answer's status is below 400 (as `curl -f`), or exactly `#status=N`, and, with
//! `#body=TEXT`, when the first 64 KiB of its body contain TEXT. The answer is read at most to
//! the end of those 64 KiB ([`response`], the pure part), then the connection is closed.
//!
//! Layers, from the socket up: the connection ([`connect`]: `socket`, non-blocking `connect`),
//! the byte stream ([`Transport`]: plain TCP, or TLS for `https`, between the socket and
//! HTTP), the exchange ([`Check`]: send the request, feed what comes to the
//! [`response::Parser`]), and the verdict ([`Http::judge`]), logged once (`URL: REASON` at
//! warning; at debug when healthy).

pub mod expiry;
pub mod response;
pub mod tls;

use super::url::HttpTarget;
use super::{Probe, Verdict};
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use response::{Parser, BODY_LIMIT};
use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType};
use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// An HTTP check to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    /// The URL as the user wrote it, for messages.
    pub url: String,
    /// Where to connect, what to ask, what the answer must be, over TLS or not.
    pub target: HttpTarget,
    /// The iteration's `--timeout`; `None`: no limit.
    pub timeout: Option<Duration>,
    /// Over TLS, trust this PEM file's certificates instead of the system's (unit tests).
    pub roots: Option<PathBuf>,
}

/// An HTTP check in flight.
pub struct Check {
    http: Http,
    started: Instant,
    deadline: Option<Instant>,
    /// `None` once over or cancelled (the socket is closed).
    transport: Option<Transport>,
    stage: Stage,
    request: Vec<u8>,
    /// Bytes of `request` sent.
    sent: usize,
    parser: Parser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connecting,
    Sending,
    Receiving,
}

impl Http {
    /// Open the connection; a check that cannot even start (no socket, the connection refused
    /// at once) is its verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        log::debug!("Checking {}", self.url);
        let started = Instant::now();
        let fail = |reason: String| self.judge(started, Err(reason), None);
        let request = self.request().map_err(fail)?;
        let addr = self.target.addr;
        let (socket, connected) = connect(addr).map_err(fail)?;
        let transport = match &self.target.tls {
            None => Transport::Plain(socket),
            Some(options) => {
                let stream = tls::stream(options, self.roots.as_deref(), addr.ip(), socket).map_err(fail)?;
                Transport::Tls(Box::new(stream))
            }
        };
        Ok(Check {
            http: self.clone(),
            started,
            deadline: self.timeout.map(|timeout| started + timeout),
            transport: Some(transport),
            stage: if connected { Stage::Sending } else { Stage::Connecting },
            request,
            sent: 0,
            parser: Parser::new(),
        })
    }

    /// The request's bytes; a target or host that would change its meaning (white space, a
    /// line end) is refused.
    fn request(&self) -> Result<Vec<u8>, String> {
        let clean = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80);
        let HttpTarget { path, host, .. } = &self.target;
        if !clean(path) || !path.starts_with('/') {
            return Err(format!("invalid request target {path:?}"));
        }
        if !clean(host) {
            return Err(format!("invalid Host {host:?}"));
        }
        Ok(format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: exabgp-healthcheck/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            path,
            host,
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes())
    }

    /// The verdict on an answer (`Ok`: a whole one, or one cut at the body's limit) or on why
    /// there is none, and with `#min-days` on when the server's certificate (`leaf`, its DER)
    /// expires; logged once.
    fn judge(&self, started: Instant, answer: Result<&Parser, String>, leaf: Option<&[u8]>) -> Verdict {
        let elapsed = started.elapsed();
        let took = elapsed.as_millis();
        let judged = answer.and_then(|parser| {
            let status = parser.status().ok_or_else(|| "no status".to_owned())?;
            self.failure(status, parser).map_or(Ok(status), Err)
        });
        // An answer as it should be, from a server whose certificate expires too soon: unhealthy.
        let min_days = self.target.tls.as_ref().and_then(|tls| tls.min_days);
        let judged = judged.and_then(|status| match min_days {
            None => Ok((status, String::new())),
            Some(days) => {
                let leaf = leaf.ok_or_else(|| "no certificate from the server".to_owned())?;
                let left = expiry::judge(expiry::not_after(leaf)?, std::time::SystemTime::now(), days)?;
                Ok((status, format!(", {left}")))
            }
        });
        Verdict::logged(&self.url, judged.map(|(status, left)| (format!("status {status}{left}, {took} ms"), elapsed)))
    }

    /// Why an answer with `status` and the body `parser` kept is not healthy, if it is not.
    fn failure(&self, status: u16, parser: &Parser) -> Option<String> {
        match self.target.status {
            Some(expected) if status != expected => return Some(format!("status {status}, expected {expected}")),
            None if status >= 400 => return Some(format!("status {status}")),
            _ => {}
        }
        let text = self.target.body.as_deref()?;
        if contains(parser.body(), text.as_bytes()) {
            return None;
        }
        let within = if parser.is_cut() { format!(" in its first {} KiB", BODY_LIMIT / 1024) } else { String::new() };
        Some(format!("body does not contain {text:?}{within}"))
    }
}

/// Whether `needle` is in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// A non-blocking TCP socket connecting to `addr`, and whether it is connected already.
fn connect(addr: SocketAddr) -> Result<(TcpStream, bool), String> {
    let family = if addr.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
    let socket =
        rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC, None)
            .map_err(|err| format!("cannot open a socket: {}", io::Error::from(err)))?;
    let connected = match rustix::net::connect(&socket, &addr) {
        Ok(()) => true,
        Err(rustix::io::Errno::INPROGRESS) => false,
        Err(err) => return Err(in_words(&err.into(), Words::Http)),
    };
    Ok((TcpStream::from(socket), connected))
}

/// The byte stream HTTP runs over: plain TCP, or TLS (`https`: its handshake and records
/// between the socket and [`Check`], which only sends the request, receives the answer, and
/// polls the socket for what the transport waits for).
enum Transport {
    Plain(TcpStream),
    Tls(Box<tls::Stream>),
}

impl Transport {
    fn socket(&self) -> &TcpStream {
        match self {
            Transport::Plain(socket) => socket,
            Transport::Tls(stream) => stream.socket(),
        }
    }

    /// What to poll the socket for at `stage`.
    fn events(&self, stage: Stage) -> PollFlags {
        match (self, stage) {
            (_, Stage::Connecting) | (Transport::Plain(_), Stage::Sending) => PollFlags::POLLOUT,
            (Transport::Plain(_), Stage::Receiving) => PollFlags::POLLIN,
            (Transport::Tls(stream), _) => match stream.wants() {
                (false, true) => PollFlags::POLLOUT,
                (true, true) => PollFlags::POLLIN | PollFlags::POLLOUT,
                _ => PollFlags::POLLIN,
            },
        }
    }

    /// Whether a TLS handshake is still going on.
    fn handshaking(&self) -> bool {
        matches!(self, Transport::Tls(stream) if stream.handshaking())
    }

    /// Send what it takes of `bytes` (`WouldBlock`: nothing now), never raising SIGPIPE.
    fn send(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(socket) => Ok(rustix::net::send(&*socket, bytes, SendFlags::NOSIGNAL)?),
            Transport::Tls(stream) => stream.send(bytes),
        }
    }

    /// Receive what has come (`Ok(0)`: the server closed; `WouldBlock`: nothing yet).
    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(socket) => socket.read(buffer),
            Transport::Tls(stream) => stream.recv(buffer),
        }
    }
}

impl Check {
    /// Move the exchange on as far as the socket lets it: `Ok(true)` once the answer is over,
    /// `Ok(false)` to wait, `Err` with the reason it failed.
    fn step(&mut self, ready: Ready) -> Result<bool, String> {
        let Some(transport) = self.transport.as_mut() else { return Ok(false) };
        if self.stage == Stage::Connecting {
            if !ready.is(0) {
                return Ok(false);
            }
            // Writable after a non-blocking connect: the handshake is over, and SO_ERROR
            // tells how.
            if let Some(err) = transport.socket().take_error().map_err(|err| in_words(&err, Words::Http))? {
                return Err(in_words(&err, Words::Http));
            }
            self.stage = Stage::Sending;
        }
        if self.stage == Stage::Sending {
            while self.sent < self.request.len() {
                match transport.send(&self.request[self.sent..]) {
                    Ok(sent) => self.sent += sent,
                    Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(false),
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(err) => return Err(in_words(&err, Words::Http)),
                }
            }
            self.stage = Stage::Receiving;
            // The answer cannot be there yet: the poll says when it is.
            return Ok(false);
        }
        if !ready.is(0) {
            return Ok(false);
        }
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match transport.recv(&mut buffer) {
                Ok(0) => return self.parser.close().map(|()| true).map_err(|err| err.to_string()),
                Ok(n) => {
                    if self.parser.feed(&buffer[..n]).map_err(|err| err.to_string())? {
                        return Ok(true);
                    }
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(in_words(&err, Words::Http)),
            }
        }
    }

    /// Why the check ran out of time, in words.
    fn timed_out(&self) -> String {
        let within = self.http.timeout.map_or_else(String::new, |t| humantime::format_duration(t).to_string());
        if self.transport.as_ref().is_some_and(Transport::handshaking) {
            format!("TLS handshake not finished within {within}")
        } else if self.parser.taken() == 0 {
            format!("no answer within {within}")
        } else {
            format!("no complete answer within {within}")
        }
    }
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        if let Some(transport) = &self.transport {
            fds.push(PollFd::new(transport.socket().as_fd(), transport.events(self.stage)));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.transport.as_ref().and(self.deadline)
    }

    fn advance(&mut self, ready: Ready) -> Option<Verdict> {
        self.transport.as_ref()?;
        let (answer, timed_out) = match self.step(ready) {
            Ok(true) => (Ok(()), false),
            Ok(false) if self.deadline.is_some_and(|at| Instant::now() >= at) => (Err(self.timed_out()), true),
            Ok(false) => return None,
            Err(reason) => (Err(reason), false),
        };
        // Over: the socket is closed with a reset (what the check came for is here; unread data
        // would make it one anyway), once the verdict has read the server's certificate.
        if let Some(transport) = &self.transport {
            super::tcp::reset_on_close(transport.socket());
        }
        let transport = self.transport.take();
        let leaf = match &transport {
            Some(Transport::Tls(stream)) => stream.leaf().map(|der| der.as_ref()),
            _ => None,
        };
        let verdict = self.http.judge(self.started, answer.map(|()| &self.parser), leaf);
        drop(transport);
        Some(Verdict { timed_out, ..verdict })
    }

    fn cancel(&mut self) {
        self.transport = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::thread::{self, JoinHandle};

    /// What the test server saw: the request's head, and what its answer returned.
    type Seen = JoinHandle<(Vec<u8>, u64)>;

    /// The first connection to `listener` (non-blocking), within 10 s, made blocking with 10 s
    /// limits on reads and writes.
    pub(super) fn accept(listener: &TcpListener) -> std::net::TcpStream {
        let until = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(err) if err.kind() == ErrorKind::WouldBlock && Instant::now() < until => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(err) => panic!("accept: {err}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    /// A server on `ip` (port 0) for one connection: it reads the request's head, then
    /// `answer`s. Everything in it is bounded (accepting, reading, writing: 10 s).
    fn serve(ip: &str, answer: impl FnOnce(&mut TcpStream) -> u64 + Send + 'static) -> (SocketAddr, Seen) {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let thread = thread::spawn(move || {
            let mut stream = accept(&listener);
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let answered = answer(&mut stream);
            (request, answered)
        });
        (addr, thread)
    }

    /// A server that writes `answer` whole, then closes.
    fn answering(ip: &str, answer: impl Into<Vec<u8>>) -> (SocketAddr, Seen) {
        let answer = answer.into();
        serve(ip, move |stream| {
            let _ = stream.write_all(&answer);
            0
        })
    }

    fn spec(addr: SocketAddr, target: &str) -> Http {
        Http {
            url: format!("http://{addr}{target}"),
            target: HttpTarget {
                addr,
                host: addr.to_string(),
                path: target.to_owned(),
                status: None,
                body: None,
                tls: None,
            },
            timeout: Some(Duration::from_secs(10)),
            roots: None,
        }
    }

    /// Run the check through a small poll loop, as the reactor does.
    pub(super) fn run(http: &Http) -> Verdict {
        let mut check = match http.start() {
            Ok(check) => check,
            Err(verdict) => return verdict,
        };
        let mut ready = Ready::NONE;
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(verdict) = check.advance(ready) {
                assert!(check.transport.is_none(), "the socket is closed with the verdict");
                return verdict;
            }
            assert!(Instant::now() < until, "{} never ended", http.url);
            let mut fds = Vec::new();
            check.poll_fds(&mut fds);
            assert_eq!(fds.len(), 1);
            ready = match crate::poll::poll_until(&mut fds, check.deadline()) {
                Ok(_) => Ready::of(&fds),
                Err(_) => Ready::NONE,
            };
        }
    }

    fn check(ip: &str, answer: &str, change: impl FnOnce(&mut Http)) -> Verdict {
        let (addr, seen) = answering(ip, answer);
        let mut http = spec(addr, "/health");
        change(&mut http);
        let verdict = run(&http);
        seen.join().unwrap();
        verdict
    }

    const IPS: [&str; 2] = ["127.0.0.1", "::1"];

    #[test]
    fn a_200_is_healthy_and_the_request_is_exactly_ours() {
        for ip in IPS {
            let (addr, seen) = answering(ip, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            let verdict = run(&spec(addr, "/health?full=1"));
            assert!(verdict.ok, "{ip}: {verdict:?}");
            assert!(verdict.detail.starts_with("status 200, ") && verdict.detail.ends_with(" ms"), "{verdict:?}");
            let (request, _) = seen.join().unwrap();
            let expected = format!(
                "GET /health?full=1 HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: exabgp-healthcheck/{}\r\n\
                 Accept: */*\r\nConnection: close\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            );
            assert_eq!(String::from_utf8_lossy(&request), expected);
        }
    }

    #[test]
    fn a_status_of_400_or_more_is_unhealthy_and_below_is_healthy() {
        for ip in IPS {
            let verdict = check(ip, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", |_| {});
            assert_eq!(verdict, Verdict::fail("status 503"));
            let verdict = check(ip, "HTTP/1.1 404 Not Found\r\n\r\nnot here", |_| {});
            assert_eq!(verdict.detail, "status 404");
            let verdict = check(ip, "HTTP/1.1 301 Moved\r\nLocation: /\r\nContent-Length: 0\r\n\r\n", |_| {});
            assert!(verdict.ok && verdict.detail.starts_with("status 301, "), "{verdict:?}");
            let verdict = check(ip, "HTTP/1.0 204 No Content\r\n\r\n", |_| {});
            assert!(verdict.ok && verdict.detail.starts_with("status 204, "), "{verdict:?}");
        }
    }

    #[test]
    fn an_exact_status_is_matched_exactly() {
        let moved = "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n";
        let verdict = check("127.0.0.1", moved, |h| h.target.status = Some(200));
        assert_eq!(verdict, Verdict::fail("status 301, expected 200"));
        let verdict = check("127.0.0.1", moved, |h| h.target.status = Some(301));
        assert!(verdict.ok, "{verdict:?}");
        let unavailable = "HTTP/1.1 503 Down\r\nContent-Length: 0\r\n\r\n";
        let verdict = check("::1", unavailable, |h| h.target.status = Some(503));
        assert!(verdict.ok, "an expected 503 is healthy: {verdict:?}");
    }

    #[test]
    fn the_body_must_contain_the_text_framed_any_way() {
        let framings = [
            "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\nstatus: ready\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nstatus: \r\n3;x=y\r\nrea\r\n5\r\ndy\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstatus: ready\r\n",
        ];
        for answer in framings {
            let verdict = check("127.0.0.1", answer, |h| h.target.body = Some("ready".to_owned()));
            assert!(verdict.ok, "{answer:?}: {verdict:?}");
            let verdict = check("::1", answer, |h| h.target.body = Some("steady".to_owned()));
            assert_eq!(verdict, Verdict::fail("body does not contain \"steady\"".to_owned()));
        }
        // The status is judged first.
        let verdict =
            check("127.0.0.1", "HTTP/1.1 500 Oops\r\n\r\nready", |h| h.target.body = Some("ready".to_owned()));
        assert_eq!(verdict.detail, "status 500");
    }

    #[test]
    fn text_past_the_first_64_kib_of_the_body_is_not_found() {
        let body = format!("{}ready", "x".repeat(BODY_LIMIT));
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        let verdict = check("127.0.0.1", &answer, |h| h.target.body = Some("ready".to_owned()));
        assert_eq!(verdict.detail, "body does not contain \"ready\" in its first 64 KiB");
        let body = format!("{}ready", "x".repeat(BODY_LIMIT - 5));
        let answer = format!("HTTP/1.1 200 OK\r\n\r\n{body}");
        let verdict = check("127.0.0.1", &answer, |h| h.target.body = Some("ready".to_owned()));
        assert!(verdict.ok, "the last bytes of the 64 KiB count: {verdict:?}");
    }

    #[test]
    fn a_200_mb_body_is_read_only_to_64_kib() {
        const SIZE: u64 = 200 * 1024 * 1024;
        let started = Instant::now();
        let (addr, seen) = serve("127.0.0.1", |stream| {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
            stream.write_all(head.as_bytes()).unwrap();
            let block = [b'x'; 64 * 1024];
            let mut written = 0;
            while written < SIZE && stream.write_all(&block).is_ok() {
                written += block.len() as u64;
            }
            written
        });
        let mut http = spec(addr, "/");
        http.target.body = Some("ready".to_owned());
        let verdict = run(&http);
        assert_eq!(verdict.detail, "body does not contain \"ready\" in its first 64 KiB");
        let (_, written) = seen.join().unwrap();
        assert!(written < SIZE, "the server had to write it all");
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    }

    #[test]
    fn a_server_that_never_answers_is_cut_at_the_timeout() {
        for ip in IPS {
            let (addr, seen) = serve(ip, |stream| {
                // Hold the connection until the check closes it.
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest);
                0
            });
            let mut http = spec(addr, "/");
            http.timeout = Some(Duration::from_millis(200));
            let started = Instant::now();
            let verdict = run(&http);
            let took = started.elapsed();
            assert_eq!(verdict, Verdict::timeout("no answer within 200ms"));
            assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(5), "{took:?}");
            seen.join().unwrap();
        }
        let (addr, seen) = serve("127.0.0.1", |stream| {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap();
            let _ = stream.read_to_end(&mut Vec::new());
            0
        });
        let mut http = spec(addr, "/");
        http.timeout = Some(Duration::from_millis(1500));
        assert_eq!(run(&http), Verdict::timeout("no complete answer within 1s 500ms"));
        seen.join().unwrap();
    }

    #[test]
    fn garbage_instead_of_a_status_line_is_unhealthy() {
        let verdict = check("127.0.0.1", "SSH-2.0-OpenSSH_9.6\r\n", |_| {});
        assert_eq!(verdict, Verdict::fail("malformed status line \"SSH-2.0-OpenSSH_9.6\"".to_owned()));
        let verdict = check("::1", "HTTP/1.1 OK\r\n\r\n", |_| {});
        assert_eq!(verdict.detail, "malformed status line \"HTTP/1.1 OK\"");
        let verdict = check("127.0.0.1", "", |_| {});
        assert_eq!(verdict.detail, "closed by the server without an answer");
        let verdict = check("127.0.0.1", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", |_| {});
        assert_eq!(verdict.detail, "closed by the server after 5 of 10 body bytes");
    }

    #[test]
    fn a_reset_in_the_middle_of_the_answer_is_unhealthy() {
        for ip in IPS {
            let (addr, seen) = serve(ip, |stream| {
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart").unwrap();
                rustix::net::sockopt::set_socket_linger(&*stream, Some(Duration::ZERO)).unwrap();
                0
            });
            let verdict = run(&spec(addr, "/"));
            assert_eq!(verdict, Verdict::fail("reset by the server"), "{ip}");
            seen.join().unwrap();
        }
    }

    #[test]
    fn a_port_nobody_listens_on_is_refused() {
        for ip in IPS {
            let free = TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap();
            let verdict = run(&spec(free, "/"));
            assert_eq!(verdict, Verdict::fail("connection refused"), "{ip}");
        }
    }

    #[test]
    fn a_target_or_host_that_would_change_the_request_is_refused_at_start() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut http = spec(addr, "/a b");
        assert_eq!(http.start().err().unwrap().detail, "invalid request target \"/a b\"");
        http.target.path = "/\r\nX: y".to_owned();
        assert!(!http.start().err().unwrap().ok);
        http.target.path = "health".to_owned();
        assert!(http.start().is_err());
        http.target.path = "/".to_owned();
        http.target.host = "a\nb".to_owned();
        assert_eq!(http.start().err().unwrap().detail, "invalid Host \"a\\nb\"");
    }

    #[test]
    fn cancel_closes_the_connection_and_no_limit_has_no_deadline() {
        let (addr, seen) = serve("127.0.0.1", |stream| {
            let started = Instant::now();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
            u64::try_from(started.elapsed().as_millis()).unwrap()
        });
        let mut http = spec(addr, "/");
        http.timeout = None;
        let mut check = http.start().unwrap();
        assert_eq!(check.deadline(), None);
        let until = Instant::now() + Duration::from_secs(10);
        let mut ready = Ready::NONE;
        while check.stage != Stage::Receiving {
            assert_eq!(check.advance(ready), None);
            assert!(Instant::now() < until);
            let mut fds = Vec::new();
            check.poll_fds(&mut fds);
            ready = crate::poll::poll_until(&mut fds, Some(Instant::now() + Duration::from_millis(100)))
                .map_or(Ready::NONE, |_| Ready::of(&fds));
        }
        check.cancel();
        let (request, waited) = seen.join().unwrap();
        assert!(request.starts_with(b"GET / HTTP/1.1\r\n"));
        assert!(waited < 5000, "the server saw the close: {waited} ms");
        assert_eq!(check.advance(Ready::NONE), None);
        let mut fds = Vec::new();
        check.poll_fds(&mut fds);
        assert!(fds.is_empty());
        assert_eq!(check.deadline(), None);
    }

    #[test]
    fn the_body_text_is_looked_for_as_bytes() {
        assert!(contains(b"abc", b"") && contains(b"abc", b"bc") && !contains(b"ab", b"abc"));
    }
}
