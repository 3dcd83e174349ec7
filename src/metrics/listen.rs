//! `--metrics-listen ADDR:PORT`: the metrics over HTTP, served from the reactor's loop with
//! non-blocking sockets (no thread, no fork). `GET /metrics` (or `HEAD`; the target may be in
//! absolute form, `http://HOST/metrics`, and empty lines before the request line are ignored,
//! RFC 9112 sections 3.2.2 and 2.2) answers the metrics as they are at that moment; any other
//! path is 404, any other method 405, a request that is not HTTP/1.x 400, one whose head is
//! longer than [`HEAD_LIMIT`] 431. One request per connection, answered with `Connection:
//! close`.
//!
//! Bounded, and not to be starved by slow or idle clients: at most [`CONNECTIONS`] connections
//! at a time, each given [`REQUEST_TIME`] from its accept to send its whole request (however
//! it dribbles in) and [`ANSWER_TIME`] to read the answer, then closed. A new connection is
//! always taken: when every place is held, the oldest connection still sending its request
//! is closed for it (a connection being answered is never). An honest scraper sends its
//! request at once and is answered in the wake-up that accepts it. Reading a request
//! ([`parse`]) is pure and tested apart.

use super::{render, Endpoint};
use crate::bfd::speaker::Board;
use crate::endpoint::{Request as Ask, View};
use crate::error::UsageError;
use crate::poll::Ready;
use nix::poll::{PollFd, PollFlags};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Connections served at a time.
pub const CONNECTIONS: usize = 8;
/// How long a client has to send its request's head, from its accept (not renewed by each
/// byte that comes).
pub const REQUEST_TIME: Duration = Duration::from_secs(2);
/// How long a client has to read the answer.
pub const ANSWER_TIME: Duration = Duration::from_secs(5);
/// The most connections taken from the listen queue in one wake-up (the rest at the next).
const ACCEPTS: usize = 64;
/// The longest request head (request line and headers).
pub const HEAD_LIMIT: usize = 4096;
/// The most reads of what a client sent after its request's head, before its connection is
/// closed (1 KiB each).
const DRAIN_READS: usize = 64;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `GET /metrics` (a query is ignored); `head`: `HEAD`, the answer without its body.
    Metrics { head: bool },
    /// Another path.
    NotFound,
    /// Another method than GET or HEAD.
    MethodNotAllowed,
    /// Not an HTTP/1.x request line.
    Bad,
    /// The head is longer than [`HEAD_LIMIT`].
    TooLong,
}

/// What the bytes of a request so far say: `None` while its head is not over (no empty line
/// yet) and within [`HEAD_LIMIT`]. Empty lines before the request line are skipped (they
/// count in the limit).
pub fn parse(bytes: &[u8]) -> Option<Request> {
    let start = leading_empty_lines(bytes);
    let end = head_end(&bytes[start..]).map(|end| start + end);
    let Some(end) = end.filter(|&end| end <= HEAD_LIMIT) else {
        return (bytes.len() > HEAD_LIMIT).then_some(Request::TooLong);
    };
    let head = &bytes[start..end];
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut words = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) = (words.next(), words.next(), words.next(), words.next())
    else {
        return Some(Request::Bad);
    };
    let token = |word: &[u8]| {
        !word.is_empty() && word.iter().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
    };
    let Some(target) = origin_form(target) else { return Some(Request::Bad) };
    if !token(method) || !matches!(version, b"HTTP/1.0" | b"HTTP/1.1") {
        return Some(Request::Bad);
    }
    let head_only = match method {
        b"GET" => false,
        b"HEAD" => true,
        _ => return Some(Request::MethodNotAllowed),
    };
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    Some(if path == b"/metrics" { Request::Metrics { head: head_only } } else { Request::NotFound })
}

/// How many bytes of empty lines (`\r\n` or bare `\n`) come before the request line.
fn leading_empty_lines(bytes: &[u8]) -> usize {
    let mut at = 0;
    loop {
        if bytes[at..].starts_with(b"\r\n") {
            at += 2;
        } else if bytes[at..].starts_with(b"\n") {
            at += 1;
        } else {
            return at;
        }
    }
}

/// The path and query of a request target: the target itself in origin form (`/metrics`),
/// the part after the authority in absolute form (`http://host:port/metrics`, the scheme in
/// any case; `/` when there is no path). `None`: neither.
fn origin_form(target: &[u8]) -> Option<&[u8]> {
    if target.starts_with(b"/") {
        return Some(target);
    }
    let colon = target.iter().position(|&b| b == b':')?;
    let scheme = &target[..colon];
    let rest = target[colon..].strip_prefix(b"://")?;
    if !(scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https")) {
        return None;
    }
    let authority_end = rest.iter().position(|&b| matches!(b, b'/' | b'?')).unwrap_or(rest.len());
    if authority_end == 0 {
        return None;
    }
    Some(match &rest[authority_end..] {
        [] => b"/",
        path if path.starts_with(b"?") => b"/",
        path => path,
    })
}

/// Where the head ends (after its empty line: `\r\n\r\n`, or bare `\n\n`), if it does.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(i) = bytes[at..].iter().position(|&b| b == b'\n') {
        let next = at + i + 1;
        let rest = &bytes[next..];
        if rest.starts_with(b"\n") {
            return Some(next + 1);
        }
        if rest.starts_with(b"\r\n") {
            return Some(next + 2);
        }
        at = next;
    }
    None
}

/// The answer to `request`; `metrics`: the body of a metrics answer, made only when asked.
pub fn answer(request: Request, metrics: impl FnOnce() -> String) -> Vec<u8> {
    let (status, extra, body) = match request {
        Request::Metrics { head } => {
            let body = metrics();
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            if !head {
                out.extend_from_slice(body.as_bytes());
            }
            return out;
        }
        Request::NotFound => ("404 Not Found", "", "not found: the metrics are at /metrics\n"),
        Request::MethodNotAllowed => ("405 Method Not Allowed", "Allow: GET, HEAD\r\n", "only GET and HEAD\n"),
        Request::Bad => ("400 Bad Request", "", "not an HTTP/1.x request\n"),
        Request::TooLong => ("431 Request Header Fields Too Large", "", "request head too long\n"),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One client.
struct Connection {
    stream: TcpStream,
    /// Closed when this passes, whatever it is doing.
    deadline: Instant,
    /// Its request so far, while it is being read.
    request: Vec<u8>,
    /// The answer, and how much of it is sent; `None` while the request is being read.
    answer: Option<(Vec<u8>, usize)>,
}

/// What became of a connection after a look at it.
enum After {
    Open,
    Over,
}

impl Connection {
    /// Read what came; answer once the request is whole. `Over` when it is done with.
    fn advance(&mut self, view: &View<'_>, bfd: Option<&Board>) -> After {
        if self.answer.is_none() {
            let mut chunk = [0u8; 1024];
            loop {
                match self.stream.read(&mut chunk) {
                    // Closed before its request was over: nothing to answer.
                    Ok(0) => return After::Over,
                    Ok(n) => {
                        let room = (HEAD_LIMIT + 1).saturating_sub(self.request.len());
                        self.request.extend_from_slice(&chunk[..n.min(room)]);
                        if let Some(request) = parse(&self.request) {
                            self.request = Vec::new();
                            let bytes = answer(request, || render(view, bfd));
                            self.answer = Some((bytes, 0));
                            self.deadline = Instant::now() + ANSWER_TIME;
                            break;
                        }
                    }
                    Err(err) if err.kind() == ErrorKind::WouldBlock => return After::Open,
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return After::Over,
                }
            }
        }
        let Some((bytes, sent)) = self.answer.as_mut() else { return After::Open };
        while *sent < bytes.len() {
            match self.stream.write(&bytes[*sent..]) {
                Ok(0) => return After::Over,
                Ok(n) => *sent += n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return After::Open,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(_) => return After::Over,
            }
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        // What the client sent beyond its head (a body) is read and dropped, as far as it is
        // there: closed with unread data, the connection would be reset, the answer with it.
        let mut chunk = [0u8; 1024];
        for _ in 0..DRAIN_READS {
            if !matches!(self.stream.read(&mut chunk), Ok(n) if n > 0) {
                break;
            }
        }
        After::Over
    }

    fn events(&self) -> PollFlags {
        if self.answer.is_some() {
            PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        }
    }
}

/// The listening socket and its connections.
pub struct Listener {
    socket: TcpListener,
    connections: Vec<Connection>,
    /// The BFD sessions, when the speaker runs.
    bfd: Option<Board>,
}

impl Listener {
    /// Listen on `addr` now; an address that cannot be had (in use, not ours) is refused,
    /// naming the flag.
    pub fn open(addr: SocketAddr, bfd: Option<Board>) -> Result<Listener, UsageError> {
        let refused = |err: std::io::Error| {
            let why = match err.kind() {
                ErrorKind::AddrInUse => "the address is already in use".to_owned(),
                ErrorKind::AddrNotAvailable => "the address is not one of this host's".to_owned(),
                ErrorKind::PermissionDenied => {
                    "not allowed to listen there (a port below 1024 needs privileges)".to_owned()
                }
                _ => format!("failed to listen: {err}"),
            };
            UsageError::value("--metrics-listen", addr, why)
        };
        let socket = TcpListener::bind(addr).map_err(refused)?;
        socket.set_nonblocking(true).map_err(refused)?;
        let bound = socket.local_addr().unwrap_or(addr);
        log::info!("serving the metrics at http://{bound}/metrics");
        Ok(Listener { socket, connections: Vec::new(), bfd })
    }

    /// Whether a new connection can be taken: there is a free place, or one held by a
    /// connection still sending its request.
    fn room(&self) -> bool {
        self.connections.len() < CONNECTIONS || self.connections.iter().any(|c| c.answer.is_none())
    }

    /// Take connections from the listen queue, [`ACCEPTS`] at most; each new one looked at
    /// at once (its request may be there already). With every place held, the oldest
    /// connection still sending its request is closed to make room.
    fn accept(&mut self, view: &View<'_>) {
        for _ in 0..ACCEPTS {
            if !self.room() {
                return;
            }
            match self.socket.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let deadline = Instant::now() + REQUEST_TIME;
                    let mut connection = Connection { stream, deadline, request: Vec::new(), answer: None };
                    if let After::Over = connection.advance(view, self.bfd.as_ref()) {
                        // Answered (or gone) at once: it needed no place.
                        continue;
                    }
                    if self.connections.len() >= CONNECTIONS {
                        // Not logged: a flood of connections would make a flood of lines.
                        if let Some(oldest) = self.connections.iter().position(|c| c.answer.is_none()) {
                            self.connections.remove(oldest);
                        }
                    }
                    self.connections.push(connection);
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) => {
                    // Out of descriptors, say: the next wake-up tries again.
                    log::debug!("--metrics-listen: failed to accept a connection: {err}");
                    return;
                }
            }
        }
    }
}

impl Endpoint for Listener {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        // Every place held by an answer being sent: the others wait in the listen queue.
        let events = if self.room() { PollFlags::POLLIN } else { PollFlags::empty() };
        fds.push(PollFd::new(self.socket.as_fd(), events));
        for connection in &self.connections {
            fds.push(PollFd::new(connection.stream.as_fd(), connection.events()));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.connections.iter().map(|c| c.deadline).min()
    }

    fn advance(&mut self, ready: Ready, view: &View<'_>, _asks: &mut Vec<Ask>) {
        let now = Instant::now();
        // The connections as they were at the poll: bit 1 + i is the i-th.
        let mut i = 0;
        self.connections.retain_mut(|connection| {
            let polled = ready.is(1 + i);
            i += 1;
            if polled {
                if let After::Over = connection.advance(view, self.bfd.as_ref()) {
                    return false;
                }
            }
            now < connection.deadline
        });
        if ready.is(0) {
            self.accept(view);
        }
    }

    fn close(&mut self) {
        self.connections.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_metrics_and_head_metrics() {
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Some(Request::Metrics { head: false }));
        assert_eq!(parse(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Some(Request::Metrics { head: false }));
        assert_eq!(parse(b"GET /metrics HTTP/1.1\n\n"), Some(Request::Metrics { head: false }));
        assert_eq!(parse(b"HEAD /metrics HTTP/1.1\r\n\r\n"), Some(Request::Metrics { head: true }));
    }

    #[test]
    fn absolute_form_and_leading_empty_lines_rfc_9112() {
        let metrics = Some(Request::Metrics { head: false });
        assert_eq!(parse(b"GET http://127.0.0.1:9876/metrics HTTP/1.1\r\nHost: x\r\n\r\n"), metrics);
        assert_eq!(parse(b"GET HTTPS://[::1]:9876/metrics?x=1 HTTP/1.1\r\n\r\n"), metrics);
        assert_eq!(parse(b"GET http://host HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"GET http://host?/metrics HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"GET http://host/other HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"\r\nGET /metrics HTTP/1.1\r\n\r\n"), metrics);
        assert_eq!(parse(b"\n\r\n\nHEAD /metrics HTTP/1.1\n\n"), Some(Request::Metrics { head: true }));
        // Empty lines alone: the request line is still to come, within the limit.
        assert_eq!(parse(b"\r\n\r\n"), None);
        assert_eq!(parse(&b"\r\n".repeat(HEAD_LIMIT)), Some(Request::TooLong));
    }

    #[test]
    fn other_paths_and_methods() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"GET /metrics/ HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"GET /metricsx HTTP/1.1\r\n\r\n"), Some(Request::NotFound));
        assert_eq!(parse(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), Some(Request::MethodNotAllowed));
        assert_eq!(parse(b"DELETE / HTTP/1.1\r\n\r\n"), Some(Request::MethodNotAllowed));
    }

    #[test]
    fn incomplete_requests_wait_and_bad_ones_are_refused() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\n"), None);
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r"), None);
        for bad in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET /metrics HTTP/2\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1 x\r\n\r\n",
            b"G(T /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\nGET\r\n\r\n",
            b"GET ftp://host/metrics HTTP/1.1\r\n\r\n",
            b"GET http:/metrics HTTP/1.1\r\n\r\n",
            b"GET http:///metrics HTTP/1.1\r\n\r\n",
            b"GET metrics://x/metrics HTTP/1.1\r\n\r\n",
            b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(parse(bad), Some(Request::Bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_head_past_the_limit_is_refused_and_one_at_the_limit_is_not() {
        let filler = |total: usize| {
            let start = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
            let mut bytes = start.clone();
            bytes.resize(total - 4, b'a');
            bytes.extend_from_slice(b"\r\n\r\n");
            bytes
        };
        assert_eq!(parse(&filler(HEAD_LIMIT)), Some(Request::Metrics { head: false }));
        assert_eq!(parse(&filler(HEAD_LIMIT + 1)), Some(Request::TooLong));
        // No end in sight: refused as soon as it is too long, not read on.
        let endless = vec![b'a'; HEAD_LIMIT + 1];
        assert_eq!(parse(&endless[..HEAD_LIMIT]), None);
        assert_eq!(parse(&endless), Some(Request::TooLong));
    }

    /// The property of `fuzz/fuzz_targets/metrics_request.rs` on seeded pseudo-random edits
    /// of real requests: what the bytes so far say is said by the first prefix that says
    /// anything, and what the listener keeps reads as the whole.
    #[test]
    fn what_a_request_says_never_changes_as_more_bytes_come() {
        let seeds: [&[u8]; 4] = [
            b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9876\r\nAccept: */*\r\n\r\n",
            b"HEAD /metrics?x=1 HTTP/1.0\n\n",
            b"POST /other HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            b"GET / HTTP/1.1\r\n\r\n",
        ];
        let mut state = 0x5eed_cafe_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..400 {
            let mut bytes = seeds[round % seeds.len()].to_vec();
            for _ in 0..next() % 4 {
                let at = (next() as usize) % (bytes.len() + 1);
                match next() % 4 {
                    0 => bytes.insert(at, b"\r\n :/?\x00\xffGET"[(next() % 11) as usize]),
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    2 => {
                        let filler = vec![b'a'; (next() % 5000) as usize];
                        bytes.splice(at..at, filler);
                    }
                    _ if at < bytes.len() => bytes[at] = next() as u8,
                    _ => {}
                }
            }
            let whole = parse(&bytes);
            let kept = &bytes[..bytes.len().min(HEAD_LIMIT + 1)];
            assert_eq!(parse(kept), whole, "{:?}", String::from_utf8_lossy(&bytes));
            let first = (0..=kept.len()).find_map(|n| parse(&kept[..n]));
            assert_eq!(first, whole, "{:?}", String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn answers_have_their_status_length_and_close() {
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        let ok = text(answer(Request::Metrics { head: false }, || "a 1\n".to_owned()));
        assert_eq!(
            ok,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n\
             Connection: close\r\n\r\na 1\n"
        );
        let head = text(answer(Request::Metrics { head: true }, || "a 1\n".to_owned()));
        assert!(head.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n"), "{head}");
        let not_found = text(answer(Request::NotFound, || unreachable!("no metrics made for a 404")));
        assert!(not_found.starts_with("HTTP/1.1 404 Not Found\r\n"), "{not_found}");
        assert!(not_found
            .ends_with("Content-Length: 39\r\nConnection: close\r\n\r\nnot found: the metrics are at /metrics\n"));
        let not_allowed = text(answer(Request::MethodNotAllowed, String::new));
        assert!(
            not_allowed.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")
                && not_allowed.contains("\r\nAllow: GET, HEAD\r\n")
        );
        assert!(text(answer(Request::Bad, String::new)).starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text(answer(Request::TooLong, String::new)).starts_with("HTTP/1.1 431 "));
    }
}
