//! Our two pipes to ExaBGP, each on its own thread: the writer flushes one line at a time and
//! reports a closed stdout instead of panicking; the reader turns stdin lines into events. The
//! main thread never blocks on either, so a stalled ExaBGP cannot stall the checks.
//!
//! When ExaBGP acknowledges our lines (its default), the writer keeps at most [`WINDOW`] of
//! them unanswered: fed faster than it turns commands into updates, ExaBGP slows down more than
//! in proportion (65,536 routes took it four times longer at once than one by one). A writer
//! that waits too long for an answer stops waiting (acknowledgements off, or ExaBGP busy) until
//! the next answer comes; nothing waits for ever.

use crate::reply::{self, Reply};
use crate::run::Event;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lines written and not answered yet, at most, while ExaBGP answers.
pub const WINDOW: u64 = 16;
/// How long the writer waits for the first answer ever before it writes on without waiting
/// (ExaBGP's acknowledgements are off and `--no-ack` was not given).
const FIRST_ANSWER: Duration = Duration::from_millis(250);
/// How long it waits for a later answer before it writes on without waiting.
const NEXT_ANSWER: Duration = Duration::from_secs(2);

/// The answers ExaBGP gave (`done` and `error`), counted by the reader, awaited by the writer.
#[derive(Default)]
pub struct Answers {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Answers {
    fn add(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    fn count(&self) -> u64 {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait until the count differs from `seen`, at most `limit`; the count.
    fn wait_change(&self, seen: u64, limit: Duration) -> u64 {
        let guard = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, limit, |count| *count == seen)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

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

    /// Before writing a line: wait while [`WINDOW`] lines are unanswered, within bounds.
    fn before_line(&mut self) {
        let now = self.answers.count();
        if !self.waiting {
            if now == self.base {
                return;
            }
            // Answers again: count afresh from here.
            log::debug!("ExaBGP answers again: waiting for its answers");
            self.waiting = true;
            self.written = 0;
            self.base = now;
        }
        let mut answered = now - self.base;
        while self.written.saturating_sub(answered) >= WINDOW {
            let limit = if self.answers.count() == 0 { FIRST_ANSWER } else { NEXT_ANSWER };
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

enum Message {
    Line(String),
    /// Answer on the sender once everything before has been written (or failed).
    Flush(Sender<()>),
}

/// The stdout side.
pub struct Writer {
    tx: Sender<Message>,
    /// Lines queued and not yet written (or dropped): more than zero at the next check means
    /// ExaBGP stopped reading and the pipe is full.
    backlog: Arc<AtomicUsize>,
}

impl Writer {
    /// Start the writer thread over `out`; a write error is reported once as
    /// [`Event::StdoutClosed`] and every later line is dropped. With `answers` (ExaBGP's
    /// answers are read and may be on), lines are paced by them (see the module's doc).
    pub fn start(mut out: impl Write + Send + 'static, events: Sender<Event>, answers: Option<Arc<Answers>>) -> Writer {
        let (tx, rx) = mpsc::channel::<Message>();
        let backlog = Arc::new(AtomicUsize::new(0));
        let pending = Arc::clone(&backlog);
        let spawned = std::thread::Builder::new().name("stdout".into()).spawn(move || {
            let mut broken = false;
            let mut pacing = answers.map(Pacing::new);
            for message in rx {
                match message {
                    Message::Line(line) if !broken => {
                        if let Some(pacing) = pacing.as_mut() {
                            pacing.before_line();
                        }
                        let written = out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n"));
                        if let Some(pacing) = pacing.as_mut() {
                            pacing.after_line();
                        }
                        if let Err(err) = written.and_then(|()| out.flush()) {
                            broken = true;
                            let _ = events.send(Event::StdoutClosed(err.to_string()));
                        }
                        pending.fetch_sub(1, Ordering::SeqCst);
                    }
                    Message::Line(_) => {
                        pending.fetch_sub(1, Ordering::SeqCst);
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
        Writer { tx, backlog }
    }

    /// Queue one line (without its newline).
    pub fn send(&self, line: String) {
        self.backlog.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(Message::Line(line)).is_err() {
            self.backlog.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// How many queued lines are not written yet.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::SeqCst)
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

/// Start the reader thread over `input`: each line becomes [`Event::Reply`], the end of the
/// input [`Event::StdinClosed`]. Lines are bounded in length. `done` and `error` are counted
/// in `answers`.
pub fn start_reader(input: impl BufRead + Send + 'static, events: Sender<Event>, answers: Arc<Answers>) {
    let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let mut input = input.take(u64::MAX);
        loop {
            let mut raw = Vec::new();
            // A line longer than this is cut; the rest is read as the next "line".
            input.set_limit(64 * 1024);
            match input.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&raw).trim_end_matches(['\n', '\r']).to_owned();
                    let parsed = reply::parse(&text);
                    if matches!(parsed, Reply::Done | Reply::Error(_)) {
                        answers.add();
                    }
                    if events.send(Event::Reply(parsed, text)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = events.send(Event::StdinClosed);
    });
    if let Err(err) = spawned {
        log::error!("failed to start the stdin thread: {err}");
    }
}

/// What the lines we sent are waiting for: ExaBGP answers each in order when acks are on.
#[derive(Debug, Default)]
pub struct Acks {
    pending: std::collections::VecDeque<String>,
    pub done: u64,
    pub errors: u64,
}

/// How many unanswered lines we remember (ExaBGP with acks off never answers).
const PENDING_LIMIT: usize = 4096;

impl Acks {
    pub fn sent(&mut self, line: &str) {
        if self.pending.len() == PENDING_LIMIT {
            self.pending.pop_front();
        }
        self.pending.push_back(line.to_owned());
    }

    /// Account for a reply; returns the line it answers, if we know it.
    pub fn answered(&mut self, reply: &Reply) -> Option<String> {
        match reply {
            Reply::Done => self.done += 1,
            Reply::Error(_) => self.errors += 1,
            _ => return None,
        }
        self.pending.pop_front()
    }
}

/// Wait for `rx` until `deadline` (or for ever with `None`).
pub fn recv_until<T>(rx: &Receiver<T>, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
    match deadline {
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(deadline) => rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
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
        let (tx, rx) = mpsc::channel();
        let writer = Writer::start(sink.clone(), tx, None);
        writer.send("announce route 192.0.2.1/32 next-hop self med 100".into());
        writer.send("withdraw route 192.0.2.1/32 next-hop self".into());
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(
            String::from_utf8(sink.0.lock().unwrap().clone()).unwrap(),
            "announce route 192.0.2.1/32 next-hop self med 100\nwithdraw route 192.0.2.1/32 next-hop self\n"
        );
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_closed_stdout_is_reported_once() {
        let (tx, rx) = mpsc::channel();
        let writer = Writer::start(Closed, tx, None);
        writer.send("a".into());
        writer.send("b".into());
        assert!(writer.flush(Duration::from_secs(5)));
        assert!(matches!(rx.try_recv(), Ok(Event::StdoutClosed(_))));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn the_reader_reports_replies_then_the_end() {
        let (tx, rx) = mpsc::channel();
        let answers = Arc::new(Answers::default());
        let input = b"done\r\nerror\n\nshutdown 12 1\nnot terminated".to_vec();
        start_reader(std::io::Cursor::new(input), tx, Arc::clone(&answers));
        let mut got = Vec::new();
        while let Ok(event) = rx.recv_timeout(Duration::from_secs(5)) {
            let end = matches!(event, Event::StdinClosed);
            got.push(match event {
                Event::Reply(reply, text) => format!("{reply:?} {text}"),
                _ => "EOF".to_owned(),
            });
            if end {
                break;
            }
        }
        assert_eq!(
            got,
            ["Done done", "Error(None) error", "Other ", "Shutdown shutdown 12 1", "Other not terminated", "EOF"]
        );
        assert_eq!(answers.count(), 2, "done and error are answers; the rest is not");
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
        let (tx, _rx) = mpsc::channel();
        let answers = Arc::new(Answers::default());
        let writer = Writer::start(sink.clone(), tx, Some(Arc::clone(&answers)));
        // One answer: ExaBGP's acknowledgements are on.
        writer.send("first".into());
        assert!(wait_lines(&sink, 1));
        answers.add();
        for i in 0..100 {
            writer.send(format!("line {i}"));
        }
        assert!(wait_lines(&sink, 1 + WINDOW as usize));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(lines(&sink), 1 + WINDOW as usize, "more than a window of unanswered lines");
        for _ in 0..10 {
            answers.add();
        }
        assert!(wait_lines(&sink, 11 + WINDOW as usize));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(lines(&sink), 11 + WINDOW as usize);
        for _ in 0..100 {
            answers.add();
        }
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(lines(&sink), 101);
        assert_eq!(writer.backlog(), 0);
    }

    #[test]
    fn without_any_answer_the_writer_stops_waiting_soon() {
        let sink = Sink::default();
        let (tx, _rx) = mpsc::channel();
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
        answers.add();
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
        answers.add();
        pacing.before_line();
        assert!(pacing.waiting);
        assert_eq!(pacing.written, 0);
    }

    #[test]
    fn acks_match_replies_to_lines_in_order() {
        let mut acks = Acks::default();
        acks.sent("one");
        acks.sent("two");
        assert_eq!(acks.answered(&Reply::Done).as_deref(), Some("one"));
        assert_eq!(acks.answered(&Reply::Other), None);
        assert_eq!(acks.answered(&Reply::Error(None)).as_deref(), Some("two"));
        assert_eq!(acks.answered(&Reply::Done), None);
        assert_eq!((acks.done, acks.errors), (2, 1));
        for i in 0..PENDING_LIMIT + 10 {
            acks.sent(&i.to_string());
        }
        assert_eq!(acks.answered(&Reply::Done).as_deref(), Some("10"));
    }
}
