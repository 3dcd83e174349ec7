//! Our two pipes to ExaBGP: the writer flushes one line at a time and reports a closed stdout
//! instead of panicking; the reader, on its own thread, turns stdin lines into events. Both
//! tell what they hear ([`PipeEvent`]) to the [`Notify`] they are handed (in a run, the
//! reactor's event channel). The main thread never blocks on either, so a stalled ExaBGP
//! cannot stall the checks: it writes a line itself only when nothing is queued and the pipe
//! has room for it (so the write cannot block), and otherwise queues it for the writer's
//! thread.
//!
//! When ExaBGP acknowledges our lines (its default), the writer keeps at most [`WINDOW`] of
//! them unanswered: fed faster than it turns commands into updates, ExaBGP slows down more than
//! in proportion (65,536 routes took it four times longer at once than one by one). A writer
//! that waits too long for an answer stops waiting (acknowledgements off, or ExaBGP busy) until
//! the next answer comes; nothing waits for ever.

use super::answers::Answers;
use super::inbound::{ErrorPace, Inbound};
use super::reply::{self, Reply};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lines written and not answered yet, at most, while ExaBGP answers.
pub const WINDOW: u64 = 16;
/// How long the writer waits for the first answer ever before it writes on without waiting
/// (ExaBGP's acknowledgements are off and `--no-ack` was not given).
const FIRST_ANSWER: Duration = Duration::from_millis(250);
/// How long it waits for a later answer before it writes on without waiting.
const NEXT_ANSWER: Duration = Duration::from_secs(2);

/// The writer's side of the flow control: lines written against answers received, counted
/// from the last time it (re)started waiting for answers.
struct Pacing {
    answers: Arc<Answers>,
    waiting: bool,
    written: u64,
    base: u64,
}

impl Pacing {
    fn new(answers: Arc<Answers>) -> Pacing {
        Pacing { answers, waiting: true, written: 0, base: 0 }
    }

    /// Take the answers received into account; how many of the lines written were answered.
    fn refresh(&mut self) -> u64 {
        let now = self.answers.total();
        if !self.waiting && now != self.base {
            // Answers again: count afresh from here.
            log::debug!("ExaBGP answers again: waiting for its answers");
            self.waiting = true;
            self.written = 0;
            self.base = now;
        }
        now - self.base
    }

    /// Whether a line may be written now without waiting.
    fn has_room(&mut self) -> bool {
        let answered = self.refresh();
        !self.waiting || self.written.saturating_sub(answered) < WINDOW
    }

    /// Before writing a line: wait while [`WINDOW`] lines are unanswered, within bounds.
    fn before_line(&mut self) {
        let mut answered = self.refresh();
        if !self.waiting {
            return;
        }
        while self.written.saturating_sub(answered) >= WINDOW {
            let limit = if self.answers.total() == 0 { FIRST_ANSWER } else { NEXT_ANSWER };
            let seen = self.base + answered;
            let after = self.answers.wait_change(seen, limit);
            if after == seen {
                log::debug!("ExaBGP did not answer within {limit:?}: writing without waiting for answers");
                self.waiting = false;
                self.base = after;
                return;
            }
            answered = after - self.base;
        }
    }

    fn after_line(&mut self) {
        if self.waiting {
            self.written += 1;
        }
    }
}

/// What the pipes' threads have to tell the main thread.
#[derive(Debug)]
pub enum PipeEvent {
    /// Lines from ExaBGP, parsed, held for the main thread to take: told once each time
    /// the first comes after the main thread took the last ones.
    Heard(Arc<Inbound>),
    /// ExaBGP closed our stdin: it is gone.
    StdinClosed,
    /// Writing to ExaBGP failed: it is gone.
    StdoutClosed(String),
}

/// Where the pipes tell what they hear: in a run, the reactor's event channel (which wakes the
/// main thread); any thread may call it.
pub trait Notify: Send + Sync + 'static {
    /// Pass `event` on. False once nobody listens any more.
    fn notify(&self, event: PipeEvent) -> bool;
}

impl Notify for Sender<PipeEvent> {
    fn notify(&self, event: PipeEvent) -> bool {
        self.send(event).is_ok()
    }
}

enum Message {
    Line(String),
    /// Answer on the sender once everything before has been written (or failed).
    Flush(Sender<()>),
}

/// Where a line sent stands in the writer's queue: lines queued are written in order, so the
/// line is written once the thread has processed as many queued lines as its number. A line
/// written at once has [`Ticket::DONE`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

impl Ticket {
    /// Written already (or no line at all).
    pub const DONE: Ticket = Ticket(0);
}

/// The stdout side.
pub struct Writer {
    tx: Sender<Message>,
    /// Lines ever queued for the thread, and of those, the ones it has written (or dropped):
    /// the difference is the backlog; more than zero at the next check means ExaBGP stopped
    /// reading and the pipe is full.
    queued: AtomicU64,
    processed: Arc<AtomicU64>,
    out: Arc<Mutex<Out>>,
    /// A copy of the output's descriptor, polled to tell whether a line can be written at once
    /// (`None`: every line goes through the thread).
    direct: Option<OwnedFd>,
    events: Arc<dyn Notify>,
}

/// The output and what goes with it, shared by the thread and the direct path.
struct Out {
    sink: Box<dyn Write + Send>,
    pacing: Option<Pacing>,
    broken: bool,
}

impl Out {
    /// Write one line and its newline in one piece.
    fn write_line(&mut self, line: String, events: &dyn Notify) {
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        let written = self.sink.write_all(&bytes).and_then(|()| self.sink.flush());
        if let Some(pacing) = self.pacing.as_mut() {
            pacing.after_line();
        }
        if let Err(err) = written {
            self.broken = true;
            events.notify(PipeEvent::StdoutClosed(err.to_string()));
        }
    }
}

/// Longest line the direct path writes: a pipe takes up to this many bytes at once, whole,
/// when it polls writable.
const ATOMIC_WRITE: usize = 4096;

impl Writer {
    /// A writer whose every line goes through its thread (tests: `out` need not be a file).
    #[cfg(test)]
    pub fn start(out: impl Write + Send + 'static, events: impl Notify, answers: Option<Arc<Answers>>) -> Writer {
        Writer::start_with(Box::new(out), None, Arc::new(events), answers)
    }

    /// Start the writer thread over `out`; a write error is reported once as
    /// [`PipeEvent::StdoutClosed`] and every later line is dropped. With `answers` (ExaBGP's
    /// answers are read and may be on), lines are paced by them (see the module's doc). Lines
    /// are written on the caller's thread when nothing is queued and `out` polls writable (a
    /// pipe, a socket or a file: stdout).
    pub fn start_direct(
        out: impl Write + AsFd + Send + 'static,
        events: impl Notify,
        answers: Option<Arc<Answers>>,
    ) -> Writer {
        let direct = out.as_fd().try_clone_to_owned().ok();
        Writer::start_with(Box::new(out), direct, Arc::new(events), answers)
    }

    fn start_with(
        sink: Box<dyn Write + Send>,
        direct: Option<OwnedFd>,
        events: Arc<dyn Notify>,
        answers: Option<Arc<Answers>>,
    ) -> Writer {
        let (tx, rx) = mpsc::channel::<Message>();
        let processed = Arc::new(AtomicU64::new(0));
        let out = Arc::new(Mutex::new(Out { sink, pacing: answers.map(Pacing::new), broken: false }));
        let (done, shared, report) = (Arc::clone(&processed), Arc::clone(&out), Arc::clone(&events));
        let spawned = std::thread::Builder::new().name("stdout".into()).spawn(move || {
            for message in rx {
                match message {
                    Message::Line(line) => {
                        let mut out = shared.lock().unwrap_or_else(PoisonError::into_inner);
                        if !out.broken {
                            if let Some(pacing) = out.pacing.as_mut() {
                                pacing.before_line();
                            }
                            out.write_line(line, &*report);
                        }
                        drop(out);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    Message::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        if let Err(err) = spawned {
            log::error!("failed to start the stdout thread: {err}");
        }
        Writer { tx, queued: AtomicU64::new(0), processed, out, direct, events }
    }

    /// Write one line (without its newline) now if that cannot block, else queue it. Returns
    /// its [`Ticket`].
    pub fn send(&self, line: String) -> Ticket {
        let Err(line) = self.write_now(line) else { return Ticket::DONE };
        let ticket = Ticket(self.queued.fetch_add(1, Ordering::SeqCst) + 1);
        if self.tx.send(Message::Line(line)).is_err() {
            self.processed.fetch_add(1, Ordering::SeqCst);
        }
        ticket
    }

    /// Whether the line of `ticket` has been written (or dropped, stdout being closed).
    pub fn finished(&self, ticket: Ticket) -> bool {
        self.processed.load(Ordering::SeqCst) >= ticket.0
    }

    /// The direct path: nothing queued (so the order holds), the pacing window open, and room
    /// in the pipe for the whole line. Gives the line back otherwise.
    fn write_now(&self, line: String) -> Result<(), String> {
        let Some(fd) = self.direct.as_ref() else { return Err(line) };
        if line.len() >= ATOMIC_WRITE || self.backlog() > 0 {
            return Err(line);
        }
        let Ok(mut out) = self.out.try_lock() else { return Err(line) };
        if out.broken {
            return Ok(());
        }
        if !out.pacing.as_mut().is_none_or(Pacing::has_room) {
            return Err(line);
        }
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
        let writable = poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n == 1)
            && fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLOUT));
        if !writable {
            // Full, or an error: the thread finds out which, in its own time.
            return Err(line);
        }
        out.write_line(line, &*self.events);
        Ok(())
    }

    /// How many queued lines are not written yet.
    pub fn backlog(&self) -> usize {
        let queued = self.queued.load(Ordering::SeqCst);
        usize::try_from(queued.saturating_sub(self.processed.load(Ordering::SeqCst))).unwrap_or(usize::MAX)
    }

    /// Wait until every queued line is written, at most `limit`. False if time ran out (for
    /// example ExaBGP stopped reading and the pipe is full).
    pub fn flush(&self, limit: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Message::Flush(tx)).is_err() {
            return true;
        }
        matches!(rx.recv_timeout(limit), Ok(()) | Err(RecvTimeoutError::Disconnected))
    }
}

/// Longest line kept from ExaBGP: the rest of a longer one is read and dropped.
const LINE_LIMIT: usize = 64 * 1024;

/// Start the reader thread over `input` (a copy of its descriptor, read without a buffer of
/// its own in between): each line is parsed and kept in an [`Inbound`], and the first one
/// after the main thread took the last ones is told as [`PipeEvent::Heard`]; the end of the
/// input is [`PipeEvent::StdinClosed`]. `done` and `error` are counted in `answers`, the one
/// count of them, and each reply carries the count up to it. Memory stays bounded whatever
/// comes: lines are cut at [`LINE_LIMIT`], repeats and floods are counted (see
/// [`super::inbound`]), and a flood's count is told when its second is over even if nothing
/// more comes.
pub fn start_reader(input: impl AsFd, events: impl Notify, answers: Arc<Answers>) {
    let input = match input.as_fd().try_clone_to_owned() {
        Ok(fd) => std::fs::File::from(fd),
        Err(err) => {
            log::error!("failed to read ExaBGP's replies: {err}");
            return;
        }
    };
    let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        if read_replies(input, &events, &answers) {
            events.notify(PipeEvent::StdinClosed);
        }
    });
    if let Err(err) = spawned {
        log::error!("failed to start the stdin thread: {err}");
    }
}

/// The reader's loop: true at the end of the input, false once nobody listens.
fn read_replies(mut input: std::fs::File, events: &dyn Notify, answers: &Answers) -> bool {
    use std::io::Read;
    let inbound = Arc::new(Inbound::default());
    let mut pace = ErrorPace::default();
    let tell = |woke: bool| !woke || events.notify(PipeEvent::Heard(Arc::clone(&inbound)));
    let one = |line: &[u8], pace: &mut ErrorPace| {
        let text = String::from_utf8_lossy(line).trim_end_matches(['\n', '\r']).to_owned();
        let parsed = reply::parse(&text);
        let tally = answers.record(&parsed);
        let mut told = false;
        if matches!(parsed, Reply::Error(_)) {
            let (ended, full) = pace.error(Instant::now());
            if let Some(count) = ended {
                if !tell(inbound.push_flood(count)) {
                    return false;
                }
            }
            told = full;
        }
        tell(inbound.push_line(parsed, text, tally, told))
    };
    let mut buffer = vec![0u8; LINE_LIMIT];
    let mut filled = 0;
    // Inside a line longer than the limit, whose start was kept: the rest is dropped.
    let mut cutting = false;
    loop {
        if let Some(count) = pace.tick(Instant::now()) {
            if !tell(inbound.push_flood(count)) {
                return false;
            }
        }
        if let Some(due) = pace.due() {
            // Nothing may come for a while: wait no longer than until the count is due.
            let left = due.saturating_duration_since(Instant::now()) + Duration::from_millis(1);
            let mut fds = [PollFd::new(input.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                _ => {}
            }
        }
        let read = match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut start = 0;
        let end = filled + read;
        let mut from = filled;
        while let Some(at) = buffer[from..end].iter().position(|&b| b == b'\n') {
            let stop = from + at + 1;
            if !cutting && !one(&buffer[start..stop], &mut pace) {
                return false;
            }
            cutting = false;
            start = stop;
            from = stop;
        }
        buffer.copy_within(start..end, 0);
        filled = end - start;
        if filled == buffer.len() {
            // A line as long as the buffer: keep its start, drop the rest up to its newline.
            if !cutting && !one(&buffer, &mut pace) {
                return false;
            }
            cutting = true;
            filled = 0;
        }
    }
    if filled > 0 && !cutting && !one(&buffer[..filled], &mut pace) {
        return false;
    }
    pace.rest().is_none_or(|count| tell(inbound.push_flood(count)))
}

/// What a [`Writer`] wrote, kept in memory (tests); clones share it.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct Sink(pub Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl Sink {
    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exabgp::inbound::Heard;
    use std::io::Read;
    use std::sync::Arc;
    use std::time::Instant;

    /// What `reader` yields until it has been quiet for `quiet`.
    fn read_quiet(reader: &mut std::io::PipeReader, quiet: Duration) -> String {
        let mut got = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
            let quiet_ms = PollTimeout::try_from(quiet).unwrap();
            if poll(&mut fds, quiet_ms).unwrap() == 0 {
                return String::from_utf8(got).unwrap();
            }
            match reader.read(&mut chunk).unwrap() {
                0 => return String::from_utf8(got).unwrap(),
                n => got.extend_from_slice(&chunk[..n]),
            }
        }
    }

    #[test]
    fn with_room_in_the_pipe_a_line_is_written_before_send_returns() {
        let (mut reader, pipe) = std::io::pipe().unwrap();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start_direct(pipe, tx, None);
        writer.send("announce route 192.0.2.1/32 next-hop self med 100".into());
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 1, "the line should be in the pipe already");
        assert_eq!(
            read_quiet(&mut reader, Duration::from_millis(50)),
            "announce route 192.0.2.1/32 next-hop self med 100\n"
        );
        assert_eq!(writer.backlog(), 0);
    }

    #[test]
    fn lines_keep_their_order_when_a_full_pipe_sends_them_through_the_thread() {
        let (mut reader, pipe) = std::io::pipe().unwrap();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start_direct(pipe, tx, None);
        let pad = "x".repeat(200);
        // 1,000 lines of 200 bytes: more than a pipe holds, and nobody reads yet.
        for i in 0..1000 {
            writer.send(format!("{i:04} {pad}"));
        }
        assert!(writer.backlog() > 0, "the pipe should have filled up");
        let got = read_quiet(&mut reader, Duration::from_millis(500));
        assert!(writer.flush(Duration::from_secs(5)));
        let numbers: Vec<usize> = got.lines().map(|l| l[..4].parse().unwrap()).collect();
        assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn a_queued_line_is_finished_once_written_and_a_direct_one_at_once() {
        let (mut reader, pipe) = std::io::pipe().unwrap();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start_direct(pipe, tx, None);
        assert_eq!(writer.send("first".into()), Ticket::DONE, "room in the pipe: written at once");
        let pad = "x".repeat(1000);
        let tickets: Vec<Ticket> = (0..200).map(|i| writer.send(format!("{i:04} {pad}"))).collect();
        let last = *tickets.last().unwrap();
        assert!(last > Ticket::DONE && !writer.finished(last), "the pipe is full: the last line waits");
        assert!(tickets.windows(2).all(|pair| pair[0] <= pair[1]), "tickets follow the order of the lines");
        read_quiet(&mut reader, Duration::from_millis(300));
        assert!(writer.flush(Duration::from_secs(5)));
        assert!(writer.finished(last));
        assert_eq!(writer.backlog(), 0);
    }

    #[test]
    fn the_direct_path_keeps_the_pacing_window_too() {
        let (mut reader, pipe) = std::io::pipe().unwrap();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let answers = Arc::new(Answers::default());
        let writer = Writer::start_direct(pipe, tx, Some(Arc::clone(&answers)));
        writer.send("first".into());
        answers.record(&Reply::Done);
        for i in 0..100 {
            writer.send(format!("line {i}"));
        }
        assert_eq!(read_quiet(&mut reader, Duration::from_millis(150)).lines().count(), 1 + WINDOW as usize);
        for _ in 0..100 {
            answers.record(&Reply::Done);
        }
        assert_eq!(read_quiet(&mut reader, Duration::from_millis(150)).lines().count(), 100 - WINDOW as usize);
        assert!(writer.flush(Duration::from_secs(5)));
    }

    #[test]
    fn a_closed_pipe_on_the_direct_path_is_reported_once() {
        let (reader, pipe) = std::io::pipe().unwrap();
        drop(reader);
        let (tx, rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start_direct(pipe, tx, None);
        writer.send("a".into());
        writer.send("b".into());
        assert!(writer.flush(Duration::from_secs(5)));
        let got = rx.try_iter().collect::<Vec<_>>();
        assert!(matches!(got[..], [PipeEvent::StdoutClosed(_)]), "{got:?}");
    }

    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_in_order_with_newlines() {
        let sink = Sink::default();
        let (tx, rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start(sink.clone(), tx, None);
        writer.send("announce route 192.0.2.1/32 next-hop self med 100".into());
        writer.send("withdraw route 192.0.2.1/32 next-hop self".into());
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(
            String::from_utf8(sink.0.lock().unwrap().clone()).unwrap(),
            "announce route 192.0.2.1/32 next-hop self med 100\nwithdraw route 192.0.2.1/32 next-hop self\n"
        );
        assert!(rx.try_iter().collect::<Vec<_>>().is_empty());
    }

    #[test]
    fn a_closed_stdout_is_reported_once() {
        let (tx, rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start(Closed, tx, None);
        writer.send("a".into());
        writer.send("b".into());
        assert!(writer.flush(Duration::from_secs(5)));
        let got = rx.try_iter().collect::<Vec<_>>();
        assert!(matches!(got[..], [PipeEvent::StdoutClosed(_)]), "{got:?}");
    }

    /// What the reader makes of `input` (written from a thread, then closed): every entry
    /// heard, then `EOF`.
    fn heard(input: Vec<u8>) -> (Vec<String>, Arc<Answers>) {
        let (tx, rx) = mpsc::channel::<PipeEvent>();
        let answers = Arc::new(Answers::default());
        let (reader, mut writer) = std::io::pipe().unwrap();
        start_reader(&reader, tx, Arc::clone(&answers));
        drop(reader);
        let feeder = std::thread::spawn(move || writer.write_all(&input).unwrap());
        let mut got = Vec::new();
        while let Ok(event) = rx.recv_timeout(Duration::from_secs(20)) {
            match event {
                PipeEvent::Heard(inbound) => got.extend(inbound.take().into_iter().map(|heard| match heard {
                    Heard::Line { reply, text, times: 1, .. } => format!("{reply:?} {text}"),
                    Heard::Line { reply, text, times, .. } => format!("{reply:?} {text} x{times}"),
                    other => format!("{other:?}"),
                })),
                PipeEvent::StdinClosed => {
                    got.push("EOF".into());
                    break;
                }
                PipeEvent::StdoutClosed(_) => unreachable!(),
            }
        }
        feeder.join().unwrap();
        (got, answers)
    }

    #[test]
    fn the_reader_reports_replies_then_the_end() {
        let (got, answers) = heard(b"done\r\nerror\n\nshutdown 12 1\nnot terminated".to_vec());
        assert_eq!(
            got,
            ["Done done", "Error(None) error", "Other ", "Shutdown shutdown 12 1", "Other not terminated", "EOF"]
        );
        assert_eq!(answers.total(), 2, "done and error are answers; the rest is not");
    }

    #[test]
    fn a_long_line_is_cut_and_a_flood_of_errors_is_counted() {
        let mut input = "x".repeat(3 * LINE_LIMIT + 10).into_bytes();
        input.extend_from_slice(b"\nerror\n");
        input.extend_from_slice("error\n".repeat(10_000).as_bytes());
        let (got, answers) = heard(input);
        assert_eq!(got[0], format!("Other {}", "x".repeat(LINE_LIMIT)));
        assert_eq!(got[1], "Error(None) error");
        let counted: u64 = got[2..got.len() - 1]
            .iter()
            .map(|entry| {
                let entry = entry.strip_prefix("Counted { done: 0, errors: ").unwrap_or(entry);
                let number = entry.split(',').next().unwrap().trim_start_matches("ErrorFlood(").trim_end_matches(')');
                number.parse::<u64>().unwrap_or(0)
            })
            .sum();
        // Each error after the first is counted once as an answer, and once in the flood's count.
        assert_eq!(counted, 2 * 10_000);
        assert_eq!(got[got.len() - 2..], ["ErrorFlood(10000)", "EOF"]);
        assert_eq!(answers.total(), 10_001);
    }

    fn lines(sink: &Sink) -> usize {
        sink.0.lock().unwrap().iter().filter(|&&b| b == b'\n').count()
    }

    fn wait_lines(sink: &Sink, n: usize) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if lines(sink) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn while_exabgp_answers_at_most_a_window_of_lines_is_unanswered() {
        let sink = Sink::default();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let answers = Arc::new(Answers::default());
        let writer = Writer::start(sink.clone(), tx, Some(Arc::clone(&answers)));
        // One answer: ExaBGP's acknowledgements are on.
        writer.send("first".into());
        assert!(wait_lines(&sink, 1));
        answers.record(&Reply::Done);
        for i in 0..100 {
            writer.send(format!("line {i}"));
        }
        assert!(wait_lines(&sink, 1 + WINDOW as usize));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(lines(&sink), 1 + WINDOW as usize, "more than a window of unanswered lines");
        for _ in 0..10 {
            answers.record(&Reply::Done);
        }
        assert!(wait_lines(&sink, 11 + WINDOW as usize));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(lines(&sink), 11 + WINDOW as usize);
        for _ in 0..100 {
            answers.record(&Reply::Done);
        }
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(lines(&sink), 101);
        assert_eq!(writer.backlog(), 0);
    }

    #[test]
    fn without_any_answer_the_writer_stops_waiting_soon() {
        let sink = Sink::default();
        let (tx, _rx) = mpsc::channel::<PipeEvent>();
        let writer = Writer::start(sink.clone(), tx, Some(Arc::new(Answers::default())));
        let started = Instant::now();
        for i in 0..1000 {
            writer.send(format!("line {i}"));
        }
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(lines(&sink), 1000);
        // One wait for a first answer, then no more.
        let took = started.elapsed();
        assert!(took >= FIRST_ANSWER && took < FIRST_ANSWER * 4, "{took:?}");
    }

    #[test]
    fn when_answers_stop_the_writer_goes_on_and_paces_again_once_they_resume() {
        let answers = Arc::new(Answers::default());
        let mut pacing = Pacing::new(Arc::clone(&answers));
        pacing.before_line();
        pacing.after_line();
        answers.record(&Reply::Done);
        // ExaBGP answered the first line, then goes quiet: the window fills, the wait ends
        // after NEXT_ANSWER, and the writer no longer waits.
        for _ in 0..WINDOW {
            pacing.before_line();
            pacing.after_line();
        }
        let started = Instant::now();
        pacing.before_line();
        assert!(started.elapsed() >= NEXT_ANSWER);
        assert!(!pacing.waiting);
        for _ in 0..100 {
            pacing.before_line();
            pacing.after_line();
        }
        assert!(started.elapsed() < NEXT_ANSWER * 2, "it waited again without any answer");
        // An answer: waiting again, counted from here.
        answers.record(&Reply::Done);
        pacing.before_line();
        assert!(pacing.waiting);
        assert_eq!(pacing.written, 0);
    }
}
