//! An HTTP/1.x response read from bytes as they arrive, with no I/O: the status line, the
//! headers, then the body as the headers frame it (`Content-Length`, chunked, or until the
//! server closes), kept up to [`BODY_LIMIT`]. Everything is bounded: a line, the whole head, the
//! body kept, and the bytes taken in all; past a limit of the body (or of the bytes in all, in
//! the body) the answer is over as far as we read it ([`Parser::is_cut`]), past any other it is
//! an [`Error`]. Never a panic, whatever the bytes (`fuzz/fuzz_targets/http_response.rs`).
//!
//! The same answer cut into pieces anywhere parses the same.

use std::fmt;

/// How much of the body is kept (and judged): the rest is never read.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The longest line (the status line, a header, a chunk's size), without its line end.
pub const LINE_LIMIT: usize = 8 * 1024;
/// The longest head (status lines and headers, interim answers included).
pub const HEAD_LIMIT: usize = 32 * 1024;
/// The most bytes taken in all. Only a body of tiny chunks gets near it (six bytes on the wire
/// per byte of body): past it, the answer is over as far as we read it, as at [`BODY_LIMIT`].
pub const WIRE_LIMIT: usize = 1024 * 1024;

/// Why bytes are not an HTTP response, in words for the log (`URL: REASON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The first line is not `HTTP/1.x NNN [reason]`: what came, cut short.
    StatusLine(String),
    /// A header line that is not `name: value`: what came, cut short.
    Header(String),
    /// A line longer than [`LINE_LIMIT`]; what it was (`status line`, `header`, `chunk size`).
    LineTooLong(&'static str),
    /// A head longer than [`HEAD_LIMIT`].
    HeadTooLong,
    /// `Content-Length` is not a number, or two of them differ: the values.
    ContentLength(String),
    /// A chunk's size line is not hexadecimal digits: what came, cut short.
    ChunkSize(String),
    /// A chunk's data is not followed by a line end.
    ChunkEnd,
    /// The server closed before sending anything.
    ClosedBeforeAnswer,
    /// The server closed in the middle of the head.
    ClosedInHead,
    /// The server closed after `got` of the `expected` bytes of a `Content-Length` body.
    ClosedInBody { got: u64, expected: u64 },
    /// The server closed before the chunked body's last chunk.
    ClosedInChunks,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::StatusLine(line) => write!(f, "malformed status line {line:?}"),
            Error::Header(line) => write!(f, "malformed header {line:?}"),
            Error::LineTooLong(what) => write!(f, "{what} longer than {} KiB", LINE_LIMIT / 1024),
            Error::HeadTooLong => write!(f, "headers longer than {} KiB", HEAD_LIMIT / 1024),
            Error::ContentLength(value) => write!(f, "invalid Content-Length {value:?}"),
            Error::ChunkSize(line) => write!(f, "malformed chunk size {line:?}"),
            Error::ChunkEnd => write!(f, "malformed chunked body (no line end after a chunk)"),
            Error::ClosedBeforeAnswer => write!(f, "closed by the server without an answer"),
            Error::ClosedInHead => write!(f, "closed by the server in the middle of the headers"),
            Error::ClosedInBody { got, expected } => {
                write!(f, "closed by the server after {got} of {expected} body bytes")
            }
            Error::ClosedInChunks => write!(f, "closed by the server in the middle of the chunked body"),
        }
    }
}

impl std::error::Error for Error {}

/// How much of a line an error shows.
const SHOWN: usize = 64;

/// `line` for a message: as text (invalid UTF-8 replaced), at most [`SHOWN`] characters.
fn shown(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The status line (of the final answer, or of an interim `1xx` one).
    StatusLine,
    Headers,
    /// `Content-Length`: this many bytes still to come.
    Length(u64),
    /// No framing: the body ends when the server closes.
    UntilClose,
    /// Chunked: a chunk's size line.
    ChunkSize,
    /// Chunked: this many bytes of the chunk still to come.
    ChunkData(u64),
    /// Chunked: the line end after a chunk's data.
    ChunkEnd,
    /// Over: whole, or cut at a limit.
    Done,
}

/// What the headers of the answer being read said about its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Framing {
    content_length: Option<u64>,
    /// A `Transfer-Encoding` came; whether the last coding it named was `chunked`.
    transfer_encoding: Option<bool>,
    /// The last header was `Content-Length` or `Transfer-Encoding` (a folded line after it
    /// would change it: refused).
    last_was_framing: bool,
}

/// A response being read. [`Parser::feed`] it the bytes as they arrive until it says the
/// answer is over (or an error); when the server closes first, [`Parser::close`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parser {
    state: State,
    /// The line being read (without its line end).
    line: Vec<u8>,
    /// Bytes of head taken so far, interim answers included.
    head: usize,
    /// Bytes taken in all.
    wire: usize,
    /// The status of the answer being read (interim ones included).
    status: Option<u16>,
    framing: Framing,
    /// The body's first [`BODY_LIMIT`] bytes.
    body: Vec<u8>,
    /// Bytes of body that came (kept or not).
    body_seen: u64,
    /// The answer was over at a limit, not at its end.
    cut: bool,
    /// Once an error, always that error.
    failed: Option<Error>,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::new()
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            state: State::StatusLine,
            line: Vec::new(),
            head: 0,
            wire: 0,
            status: None,
            framing: Framing::default(),
            body: Vec::new(),
            body_seen: 0,
            cut: false,
            failed: None,
        }
    }

    /// Take the next bytes of the answer. `Ok(true)`: the answer is over (whole, or cut at a
    /// limit): read no more. Bytes after its end are ignored.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<bool, Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.is_done() {
            return Ok(true);
        }
        let room = WIRE_LIMIT - self.wire;
        let (bytes, at_limit) = if bytes.len() >= room { (&bytes[..room], true) } else { (bytes, false) };
        self.wire += bytes.len();
        if let Err(err) = self.take(bytes) {
            self.failed = Some(err.clone());
            return Err(err);
        }
        if at_limit && self.state != State::Done {
            // Heads are far shorter than the limit: only a body gets here.
            self.state = State::Done;
            self.cut = true;
        }
        Ok(self.is_done())
    }

    /// The server closed the connection: `Ok` if the answer is over (a body that ends at the
    /// close, or one over already), or why it is not.
    pub fn close(&mut self) -> Result<(), Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let err = match self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(());
            }
            State::StatusLine if self.wire == 0 => Error::ClosedBeforeAnswer,
            State::StatusLine | State::Headers => Error::ClosedInHead,
            State::Length(left) => Error::ClosedInBody { got: self.body_seen, expected: self.body_seen + left },
            State::ChunkSize | State::ChunkData(_) | State::ChunkEnd => Error::ClosedInChunks,
        };
        self.failed = Some(err.clone());
        Err(err)
    }

    /// Whether the answer is over (whole, or cut at a limit).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether it was over at a limit, with more that may have followed.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The status of the answer, once its status line came (that of an interim `1xx` answer
    /// until the final one's).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The body so far, up to [`BODY_LIMIT`] bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> usize {
        self.wire
    }

    fn take(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            bytes = match self.state {
                State::Done => return Ok(()),
                State::StatusLine | State::Headers | State::ChunkSize | State::ChunkEnd => self.take_line(bytes)?,
                State::Length(left) => {
                    let (now, rest) = bytes.split_at(usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len()));
                    let left = left - now.len() as u64;
                    self.state = if left == 0 { State::Done } else { State::Length(left) };
                    self.keep(now, left > 0);
                    rest
                }
                State::UntilClose => {
                    self.keep(bytes, true);
                    &[]
                }
                State::ChunkData(left) => {
                    let (now, rest) = bytes.split_at(usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len()));
                    let left = left - now.len() as u64;
                    self.state = if left == 0 { State::ChunkEnd } else { State::ChunkData(left) };
                    self.keep(now, true);
                    rest
                }
            };
        }
        Ok(())
    }

    /// Keep what fits of `data`, part of the body; at the limit the answer is over, cut if
    /// `more` may follow.
    fn keep(&mut self, data: &[u8], more: bool) {
        self.body_seen += data.len() as u64;
        let kept = (BODY_LIMIT - self.body.len()).min(data.len());
        self.body.extend_from_slice(&data[..kept]);
        if self.body.len() == BODY_LIMIT && (more || kept < data.len()) {
            self.state = State::Done;
            self.cut = true;
        }
    }

    /// Add to the line being read; at its end, handle it. What is left of `bytes` after it.
    fn take_line<'b>(&mut self, bytes: &'b [u8]) -> Result<&'b [u8], Error> {
        let end = bytes.iter().position(|&b| b == b'\n');
        let (part, rest) = match end {
            Some(at) => (&bytes[..at], &bytes[at + 1..]),
            None => (bytes, &[][..]),
        };
        if let Some(err) = self.first_failure(part, end.is_some()) {
            return Err(err);
        }
        if matches!(self.state, State::StatusLine | State::Headers) {
            self.head += part.len() + usize::from(end.is_some());
        }
        self.line.extend_from_slice(part);
        if end.is_none() {
            return Ok(rest);
        }
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let handled = self.handle_line(&line);
        // The buffer is kept for the next line.
        line.clear();
        self.line = line;
        handled?;
        Ok(rest)
    }

    /// What fails first if `part` (and its LF, if `ended`) is added to the line being read:
    /// each check is placed at the byte that fails it, and the earliest wins, so that where the
    /// bytes were cut changes nothing (but how much of a bad status line its error shows).
    fn first_failure(&self, part: &[u8], ended: bool) -> Option<Error> {
        let have = self.line.len();
        let mut first: Option<(usize, Error)> = None;
        let mut fail = |at: usize, err: Error| {
            if first.as_ref().is_none_or(|(before, _)| at < *before) {
                first = Some((at, err));
            }
        };
        // The whole head, its line ends included.
        if matches!(self.state, State::StatusLine | State::Headers) {
            let room = HEAD_LIMIT - self.head;
            if part.len() + usize::from(ended) > room {
                fail(room, Error::HeadTooLong);
            }
        }
        // What cannot become a status line fails at once (a server that is not HTTP may send
        // a greeting, or a TLS alert, and wait).
        if self.state == State::StatusLine {
            let prefix = b"HTTP/".get(have..).unwrap_or_default();
            if let Some(at) = prefix.iter().zip(part).position(|(want, got)| want != got) {
                let mut line = self.line.clone();
                line.extend_from_slice(part);
                fail(at, Error::StatusLine(shown(line.strip_suffix(b"\r").unwrap_or(&line))));
            }
        }
        // After a chunk's data: its CR, then its LF, nothing else.
        if self.state == State::ChunkEnd {
            let at = if have == 0 && part.first() == Some(&b'\r') { 1 } else { 0 };
            if at < part.len() {
                fail(at, Error::ChunkEnd);
            }
        }
        // A line of LINE_LIMIT bytes may still have its CR before its LF: the byte past that
        // is too long unless it is that CR, and the one after it always is.
        let at = match (LINE_LIMIT + 1).checked_sub(have) {
            Some(0) | None => 0,
            Some(left) if part.get(left - 1) == Some(&b'\r') => left,
            Some(left) => left - 1,
        };
        if at < part.len() {
            let what = match self.state {
                State::StatusLine => "status line",
                State::Headers => "header",
                _ => "chunk size",
            };
            fail(at, Error::LineTooLong(what));
        }
        first.map(|(_, err)| err)
    }

    fn handle_line(&mut self, line: &[u8]) -> Result<(), Error> {
        match self.state {
            State::StatusLine => {
                self.status = Some(status_line(line).ok_or_else(|| Error::StatusLine(shown(line)))?);
                self.framing = Framing::default();
                self.state = State::Headers;
            }
            State::Headers if line.is_empty() => self.state = self.body_state(),
            State::Headers => self.header(line)?,
            State::ChunkSize => {
                let size = chunk_size(line).ok_or_else(|| Error::ChunkSize(shown(line)))?;
                // The last chunk: its trailers are not read (the connection is closed after).
                self.state = if size == 0 { State::Done } else { State::ChunkData(size) };
            }
            State::ChunkEnd if line.is_empty() => self.state = State::ChunkSize,
            State::ChunkEnd => return Err(Error::ChunkEnd),
            State::Length(_) | State::UntilClose | State::ChunkData(_) | State::Done => {}
        }
        Ok(())
    }

    /// Where the end of a head leads (RFC 9112, section 6.3, for an answer to a `GET`).
    fn body_state(&self) -> State {
        match self.status {
            // An interim answer (100 Continue, 103 Early Hints): the final one follows.
            Some(status) if (100..200).contains(&status) && status != 101 => State::StatusLine,
            Some(101 | 204 | 304) => State::Done,
            _ => match self.framing {
                Framing { transfer_encoding: Some(true), .. } => State::ChunkSize,
                Framing { transfer_encoding: Some(false), .. } => State::UntilClose,
                Framing { content_length: Some(0), .. } => State::Done,
                Framing { content_length: Some(length), .. } => State::Length(length),
                Framing { content_length: None, .. } => State::UntilClose,
            },
        }
    }

    fn header(&mut self, line: &[u8]) -> Result<(), Error> {
        if line[0] == b' ' || line[0] == b'\t' {
            // A folded line (obsolete): harmless after a header we do not read.
            return if self.framing.last_was_framing { Err(Error::Header(shown(line))) } else { Ok(()) };
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| Error::Header(shown(line)))?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(Error::Header(shown(line)));
        }
        self.framing.last_was_framing = false;
        if name.eq_ignore_ascii_case(b"content-length") {
            self.framing.last_was_framing = true;
            // `5, 5` (or two headers of 5) is 5; anything else that differs is refused.
            for item in value.split(|&b| b == b',') {
                let length = decimal(trim(item)).ok_or_else(|| Error::ContentLength(shown(value)))?;
                match self.framing.content_length {
                    Some(before) if before != length => {
                        return Err(Error::ContentLength(format!("{before}, {length}")));
                    }
                    _ => self.framing.content_length = Some(length),
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.framing.last_was_framing = true;
            // The codings of every such header in order: chunked when it is the last one.
            if let Some(last) = value.split(|&b| b == b',').map(trim).rfind(|coding| !coding.is_empty()) {
                self.framing.transfer_encoding = Some(last.eq_ignore_ascii_case(b"chunked"));
            } else if self.framing.transfer_encoding.is_none() {
                self.framing.transfer_encoding = Some(false);
            }
        }
        Ok(())
    }
}

/// The status of `HTTP/1.x NNN[ reason]`.
fn status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b" ")?;
    if !minor.is_ascii_digit() || rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) || rest[0] == b'0' {
        return None;
    }
    // The reason phrase: anything printable, or nothing (even without the space before it).
    let reason = &rest[3..];
    if !(reason.is_empty() || reason[0] == b' ') || reason.iter().any(|&b| b != b'\t' && b.is_ascii_control()) {
        return None;
    }
    Some(rest[..3].iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0')))
}

/// The size of a chunk from its line: hexadecimal digits, then extensions after `;` (ignored).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = trim(line.split(|&b| b == b';').next().unwrap_or_default());
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = char::from(d).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

/// A decimal number: digits only, not too big.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `bytes` without spaces and tabs around.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |at| at + 1);
    &bytes[start..end]
}

/// A character of a header's name (RFC 9110, `tchar`).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parse came to: the status, the body kept, whether it was cut; or the error.
    type Outcome = Result<(u16, Vec<u8>, bool), Error>;

    /// Feed `pieces` in order until the answer is over; if it never is, the server closes.
    fn parse_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
        let mut parser = Parser::new();
        let mut over = false;
        for piece in pieces {
            if parser.feed(piece)? {
                over = true;
                break;
            }
        }
        if !over {
            parser.close()?;
        }
        assert!(parser.is_done());
        assert!(parser.body().len() <= BODY_LIMIT);
        Ok((parser.status().expect("a status once over"), parser.body().to_vec(), parser.is_cut()))
    }

    /// The outcome of `answer`, the same whole, byte by byte, and cut in two anywhere (for
    /// short answers), as a TCP stream may cut it; only how much of a bad status line its
    /// error shows is what had come by then.
    fn parse(answer: &[u8]) -> Outcome {
        let whole = parse_pieces([answer]);
        let same = |other: Outcome, how: &str| match (&whole, &other) {
            (Err(Error::StatusLine(_)), Err(Error::StatusLine(_))) => {}
            _ => assert_eq!(whole, other, "{how}"),
        };
        same(parse_pieces(answer.chunks(1)), "byte by byte");
        if answer.len() < 2048 {
            for at in 0..=answer.len() {
                let (a, b) = answer.split_at(at);
                same(parse_pieces([a, b]), &format!("cut at {at}"));
            }
        }
        whole
    }

    fn ok(status: u16, body: &str) -> Outcome {
        Ok((status, body.as_bytes().to_vec(), false))
    }

    #[test]
    fn a_body_of_content_length_bytes() {
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), ok(200, "hello"));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\ncontent-length:5\r\n\r\nhello, and more"), ok(200, "hello"));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), ok(200, ""));
        assert_eq!(parse(b"HTTP/1.0 503 Down\r\nContent-Length: 5, 5\r\n\r\nhello"), ok(503, "hello"));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), ok(200, "hello"));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\nhello, "), ok(200, "hello, "));
        // Over without waiting for the close: feeding stops at the body's end.
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no"), Ok(false));
        assert_eq!(parser.feed(b"k"), Ok(true));
        assert_eq!(parser.feed(b"ignored"), Ok(true));
        assert_eq!(parser.close(), Ok(()));
        assert_eq!(parser.body(), b"ok");
    }

    #[test]
    fn content_lengths_that_are_not_one_number_are_refused() {
        for value in ["", "abc", "-1", "+5", "5 5", "0x10", "5,", "18446744073709551616"] {
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nhello");
            assert!(matches!(parse(answer.as_bytes()), Err(Error::ContentLength(_))), "{value:?}");
        }
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
        assert_eq!(parse(answer), Err(Error::ContentLength("5, 6".to_owned())));
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 4, 5\r\n\r\n"),
            Err(Error::ContentLength("4, 5".to_owned()))
        );
        assert_eq!(Error::ContentLength("abc".to_owned()).to_string(), "invalid Content-Length \"abc\"");
    }

    #[test]
    fn a_body_without_length_ends_at_the_close() {
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of it\n"), ok(200, "all of it\n"));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\n\r\n"), ok(200, ""));
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"HTTP/1.1 200 OK\r\n\r\nsome"), Ok(false));
        assert!(!parser.is_done());
        assert_eq!(parser.close(), Ok(()));
        assert!(parser.is_done() && !parser.is_cut());
    }

    #[test]
    fn a_chunked_body() {
        let answer =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\n\r\n";
        assert_eq!(parse(answer), ok(200, "hello, world"));
        let answer =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA \r\n0123456789\r\n000\r\nTrailer: x\r\n\r\n";
        assert_eq!(parse(answer), ok(200, "0123456789"));
        // The last chunk ends it: the trailers are not waited for.
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n"), Ok(true));
        assert_eq!(parser.body(), b"x");
        // Chunked wins over a length, and counts when it is the last coding.
        let answer =
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        assert_eq!(parse(answer), ok(200, "ab"));
        let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n2\r\nab\r\n";
        assert_eq!(parse(answer), ok(200, "2\r\nab\r\n"), "not chunked last: until the close");
        let answer =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        assert_eq!(parse(answer), ok(200, "ab"));
        // Bare line ends.
        assert_eq!(parse(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"), ok(200, "abc"));
    }

    #[test]
    fn a_malformed_chunked_body_is_refused() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (chunks, expected) in [
            ("x\r\n", Error::ChunkSize("x".to_owned())),
            ("\r\n", Error::ChunkSize(String::new())),
            ("-1\r\n", Error::ChunkSize("-1".to_owned())),
            ("1 2\r\n", Error::ChunkSize("1 2".to_owned())),
            ("10000000000000000\r\n", Error::ChunkSize("10000000000000000".to_owned())),
            ("2\r\nabc\r\n", Error::ChunkEnd),
            ("2\r\nab\r\r\n", Error::ChunkEnd),
            ("2\r\nab", Error::ClosedInChunks),
            ("2\r\nab\r\n", Error::ClosedInChunks),
            ("2\r\na", Error::ClosedInChunks),
            ("", Error::ClosedInChunks),
        ] {
            assert_eq!(parse(format!("{head}{chunks}").as_bytes()), Err(expected), "{chunks:?}");
        }
        assert_eq!(Error::ChunkSize("x".to_owned()).to_string(), "malformed chunk size \"x\"");
    }

    #[test]
    fn status_lines() {
        for (line, status) in [
            ("HTTP/1.1 200 OK", 200),
            ("HTTP/1.0 404 Not Found", 404),
            ("HTTP/1.1 200", 200),
            ("HTTP/1.1 200 ", 200),
            ("HTTP/1.1 999 Whatever\tit is", 999),
            ("HTTP/1.1 500 Erreur \u{e9}trange", 500),
            ("HTTP/1.9 302 Found", 302),
        ] {
            assert_eq!(parse(format!("{line}\r\nContent-Length: 0\r\n\r\n").as_bytes()), ok(status, ""), "{line:?}");
        }
        for line in [
            "HTTP/2 200 OK",
            "HTTP/2.0 200 OK",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 2000 OK",
            "HTTP/1.1 200OK",
            "HTTP/1.1 099 Low",
            "HTTP/1.1  200 OK",
            "HTTP/1.1 abc OK",
            "HTTP/1.x 200 OK",
            "HTTP/1.1 200 O\u{7}K",
            "HTTP/1.1",
            "HTTP/",
            "http/1.1 200 OK",
            " HTTP/1.1 200 OK",
            "",
            "SSH-2.0-OpenSSH_9.6",
        ] {
            let answer = format!("{line}\r\nContent-Length: 0\r\n\r\n");
            assert!(matches!(parse(answer.as_bytes()), Err(Error::StatusLine(_))), "{line:?}");
        }
        assert_eq!(parse(b"HTTP/1.1 OK\r\n\r\n"), Err(Error::StatusLine("HTTP/1.1 OK".to_owned())));
        assert_eq!(Error::StatusLine("a\"b\r".to_owned()).to_string(), "malformed status line \"a\\\"b\\r\"");
    }

    #[test]
    fn what_cannot_become_a_status_line_fails_at_once() {
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"HTT"), Ok(false));
        assert_eq!(parser.feed(b"P/1.1 2"), Ok(false));
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"SSH-2.0-"), Err(Error::StatusLine("SSH-2.0-".to_owned())));
        assert_eq!(parser.feed(b"more"), Err(Error::StatusLine("SSH-2.0-".to_owned())), "an error stays");
        assert_eq!(parser.close(), Err(Error::StatusLine("SSH-2.0-".to_owned())));
        // A TLS alert, as a TLS server answers a plain request.
        let mut parser = Parser::new();
        assert_eq!(
            parser.feed(b"\x15\x03\x01\x00\x02\x02\x46"),
            Err(Error::StatusLine("\u{15}\u{3}\u{1}\0\u{2}\u{2}F".to_owned()))
        );
    }

    #[test]
    fn a_long_bad_line_is_shown_cut_short() {
        let line = format!("{}\u{e9}", "x".repeat(100));
        let Err(Error::StatusLine(shown)) = parse(format!("{line}\r\n\r\n").as_bytes()) else { panic!() };
        assert_eq!(shown, format!("{}...", "x".repeat(SHOWN)));
        let Err(Error::Header(shown)) = parse(b"HTTP/1.1 200 OK\r\nno colon \xff here\r\n\r\n") else { panic!() };
        assert_eq!(shown, "no colon \u{fffd} here");
    }

    #[test]
    fn headers_that_are_not_name_colon_value_are_refused() {
        for header in ["no colon", ": empty name", "sp ace: x", "Content-Length : 5", "tab\t: x", "(paren): x"] {
            let answer = format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n");
            assert_eq!(parse(answer.as_bytes()), Err(Error::Header(header.to_owned())), "{header:?}");
        }
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Odd: a:b:c\r\n\r\nbody"), ok(200, "body"));
        // A folded line is harmless after any header but one that frames the body.
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\r\nbody"), ok(200, "body"));
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\t4\r\n\r\nbody"),
            Err(Error::Header("\t4".to_owned()))
        );
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n"),
            Err(Error::Header(" chunked".to_owned()))
        );
        assert_eq!(Error::Header("x".to_owned()).to_string(), "malformed header \"x\"");
    }

    #[test]
    fn answers_without_a_body_and_interim_answers() {
        assert_eq!(parse(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"), ok(204, ""));
        assert_eq!(parse(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), ok(304, ""));
        assert_eq!(parse(b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\nframes"), ok(101, ""));
        let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(parse(answer), ok(200, "ok"));
        // An interim answer's framing does not carry over to the final one.
        let answer = b"HTTP/1.1 103 Early Hints\r\nContent-Length: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\nuntil close";
        assert_eq!(parse(answer), ok(200, "until close"));
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n"), Ok(false));
        assert_eq!(parser.status(), Some(100));
        assert_eq!(parser.close(), Err(Error::ClosedInHead));
    }

    #[test]
    fn closed_too_early() {
        assert_eq!(parse(b""), Err(Error::ClosedBeforeAnswer));
        assert_eq!(parse(b"HTTP/1.1 200 OK"), Err(Error::ClosedInHead));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nServer: x\r\n"), Err(Error::ClosedInHead));
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"),
            Err(Error::ClosedInBody { got: 5, expected: 10 })
        );
        assert_eq!(Error::ClosedBeforeAnswer.to_string(), "closed by the server without an answer");
        assert_eq!(Error::ClosedInHead.to_string(), "closed by the server in the middle of the headers");
        assert_eq!(
            Error::ClosedInBody { got: 5, expected: 10 }.to_string(),
            "closed by the server after 5 of 10 body bytes"
        );
        assert_eq!(Error::ClosedInChunks.to_string(), "closed by the server in the middle of the chunked body");
    }

    #[test]
    fn the_body_is_kept_to_64_kib_then_the_answer_is_over() {
        let big = "x".repeat(BODY_LIMIT + 10);
        let exact = "x".repeat(BODY_LIMIT);
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{exact}", BODY_LIMIT);
        assert_eq!(parse(answer.as_bytes()), ok(200, &exact), "exactly the limit: whole");
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{big}", big.len());
        assert_eq!(parse(answer.as_bytes()), Ok((200, exact.clone().into_bytes(), true)));
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n{big}");
        assert_eq!(parse(answer.as_bytes()), Ok((200, exact.clone().into_bytes(), true)), "the rest is not needed");
        let answer = format!("HTTP/1.1 200 OK\r\n\r\n{big}");
        assert_eq!(parse(answer.as_bytes()), Ok((200, exact.clone().into_bytes(), true)));
        let answer =
            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
        assert_eq!(parse(answer.as_bytes()), Ok((200, exact.clone().into_bytes(), true)));
        // Cut at the limit even when the server sent nothing more.
        let mut parser = Parser::new();
        assert_eq!(parser.feed(format!("HTTP/1.1 200 OK\r\n\r\n{exact}").as_bytes()), Ok(true));
        assert!(parser.is_cut());
    }

    #[test]
    fn tiny_chunks_are_read_to_the_limit_of_bytes_in_all() {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        while answer.len() < 2 * WIRE_LIMIT {
            answer.extend_from_slice(b"1;padding-padding-padding\r\nx\r\n");
        }
        let mut parser = Parser::new();
        assert_eq!(parser.feed(&answer), Ok(true));
        assert!(parser.is_cut());
        assert_eq!(parser.taken(), WIRE_LIMIT);
        assert!(parser.body().len() < BODY_LIMIT && parser.body().iter().all(|&b| b == b'x'));
        let mut pieces = Parser::new();
        for piece in answer.chunks(1000) {
            if pieces.feed(piece) == Ok(true) {
                break;
            }
        }
        assert_eq!(pieces, parser, "the same in pieces");
    }

    #[test]
    fn lines_and_heads_are_bounded() {
        let reason = "r".repeat(LINE_LIMIT - "HTTP/1.1 200 ".len());
        let answer = format!("HTTP/1.1 200 {reason}\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(parse(answer.as_bytes()), ok(200, ""), "a line of the limit");
        let answer = format!("HTTP/1.1 200 {reason}\nContent-Length: 0\n\n");
        assert_eq!(parse(answer.as_bytes()), ok(200, ""), "a line of the limit, bare line end");
        let answer = format!("HTTP/1.1 200 {reason}r\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(parse(answer.as_bytes()), Err(Error::LineTooLong("status line")));
        let header = format!("X: {}", "v".repeat(LINE_LIMIT));
        let answer = format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n");
        assert_eq!(parse(answer.as_bytes()), Err(Error::LineTooLong("header")));
        let answer = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;{}\r\nx\r\n0\r\n\r\n",
            "e".repeat(LINE_LIMIT)
        );
        assert_eq!(parse(answer.as_bytes()), Err(Error::LineTooLong("chunk size")));
        // Endless, without a line end: refused as soon as it is too long.
        let mut parser = Parser::new();
        assert_eq!(parser.feed(format!("HTTP/1.1 200 {reason}").as_bytes()), Ok(false));
        assert_eq!(parser.feed(b"\r"), Ok(false), "its CR may still be followed by its LF");
        assert_eq!(parser.feed(b"\r"), Err(Error::LineTooLong("status line")));
        // Many short headers.
        let headers = "X-Header: some value here\r\n".repeat(HEAD_LIMIT / 20);
        let answer = format!("HTTP/1.1 200 OK\r\n{headers}\r\n");
        assert_eq!(parse(answer.as_bytes()), Err(Error::HeadTooLong));
        let headers = "X-Header: some value here\r\n".repeat(HEAD_LIMIT / 40);
        let answer = format!("HTTP/1.1 200 OK\r\n{headers}\r\n");
        assert_eq!(parse(answer.as_bytes()), ok(200, ""));
        // Interim answers count in the head.
        let answer = "HTTP/1.1 100 Continue\r\n\r\n".repeat(HEAD_LIMIT / 20);
        assert_eq!(parse(answer.as_bytes()), Err(Error::HeadTooLong));
        // Where two limits meet, the byte that fails first decides, however the bytes are cut.
        let interim = "HTTP/1.1 100 Continue\r\n\r\n".repeat(HEAD_LIMIT / 25);
        assert_eq!(HEAD_LIMIT - interim.len(), 18);
        let answer = format!("{interim}XTTP/1.1 200 OK\r\n\r\n");
        assert!(matches!(parse(answer.as_bytes()), Err(Error::StatusLine(_))));
        let answer = format!("{interim}HTTP/1.1 200 OK, a longer reason\r\n\r\n");
        assert_eq!(parse(answer.as_bytes()), Err(Error::HeadTooLong));
        let answer = format!("{interim}HTTP/1.1 200 OK\r\n\n");
        assert_eq!(parse(answer.as_bytes()), ok(200, ""), "a head of exactly the limit");
        assert_eq!(Error::LineTooLong("header").to_string(), "header longer than 8 KiB");
        assert_eq!(Error::HeadTooLong.to_string(), "headers longer than 32 KiB");
    }

    #[test]
    fn helpers() {
        assert_eq!(trim(b" \t a b\t "), b"a b");
        assert_eq!(trim(b"  "), b"");
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), None);
        assert_eq!(chunk_size(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(chunk_size(b"fF ; a=b"), Some(255));
        assert_eq!(chunk_size(b";"), None);
    }
}
