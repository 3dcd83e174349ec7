//! Writing to our own stdout and stderr without ever panicking, and, once the reactor runs,
//! without ever waiting for stderr.
//!
//! `print!` and `eprintln!` panic when the write fails (a stderr on a full disk or `/dev/full`,
//! a pipe whose reader has gone, as `ctl status | head -1` makes), and a health checker must
//! not die of its console: a line that cannot be written is lost, nothing more.
//! [`say!`](crate::say) stands for `eprintln!`, [`show!`](crate::show) for `print!`; clippy
//! refuses the panicking macros outside tests.
//!
//! Under ExaBGP our stderr is a pipe that ExaBGP reads when it gets round to it: a write to it
//! waits while the pipe is full, and on the reactor that would hold up every check and BFD.
//! [`detach`] (called when the reactor starts its loop) hands stderr to a thread of its own:
//! lines are queued in order, within [`QUEUED_BYTES`]; past that a line is dropped and
//! counted, and the count is said once the queue has drained. [`flush`] waits, within a bound,
//! for what is queued (the exit's last lines).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The most bytes of lines waiting for stderr; a line past it is dropped.
pub const QUEUED_BYTES: usize = 256 * 1024;

/// The stderr thread's queue, once [`detach`] has made it.
static QUEUE: OnceLock<Queue> = OnceLock::new();

struct Queue {
    state: Mutex<State>,
    changed: Condvar,
    /// The line that says how many were dropped.
    notice: fn(u64) -> String,
}

#[derive(Default)]
struct State {
    lines: VecDeque<String>,
    bytes: usize,
    dropped: u64,
    /// The thread is writing what it took.
    writing: bool,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: String) {
        let mut state = self.state();
        if state.bytes + line.len() > QUEUED_BYTES {
            state.dropped += 1;
            return;
        }
        state.bytes += line.len();
        state.lines.push_back(line);
        self.changed.notify_all();
    }

    /// The stderr thread: write what is queued, in order; once the queue has drained after
    /// drops, say how many.
    fn run(&self) {
        let mut state = self.state();
        loop {
            while state.lines.is_empty() && state.dropped == 0 {
                state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            // Taken whole, not copied: this thread allocates nothing but the rare notice.
            let batch = std::mem::take(&mut state.lines);
            state.bytes = 0;
            let notice = batch.is_empty().then(|| (self.notice)(std::mem::take(&mut state.dropped)));
            state.writing = true;
            drop(state);
            let mut stderr = std::io::stderr().lock();
            for line in batch.iter().chain(&notice) {
                let _ = stderr.write_all(line.as_bytes());
            }
            drop(stderr);
            state = self.state();
            state.writing = false;
            self.changed.notify_all();
        }
    }
}

/// From now on, stderr is written by a thread of its own ([`say!`](crate::say) and the
/// logger's lines alike), never waiting on the caller; `notice` is the line that says how many
/// lines were dropped. Once only: later calls change nothing. Should the thread not start,
/// stderr stays written in place.
pub fn detach(notice: fn(u64) -> String) {
    let mut made = false;
    let queue = QUEUE.get_or_init(|| {
        made = true;
        Queue { state: Mutex::new(State::default()), changed: Condvar::new(), notice }
    });
    if made {
        let started =
            std::thread::Builder::new().name("stderr".into()).stack_size(128 * 1024).spawn(move || queue.run());
        if started.is_err() {
            // Nobody would write the queue: lines go on being written in place.
            NO_THREAD.get_or_init(|| ());
            log::warn!("no thread for stderr: log lines are written in place");
        }
    }
}

/// Set when [`detach`] made the queue but could not start its thread.
static NO_THREAD: OnceLock<()> = OnceLock::new();

/// Write `text` (whole lines, with their newline) to stderr: queued once [`detach`]ed, else at
/// once; any error is ignored.
pub fn write_err(text: String) {
    match QUEUE.get().filter(|_| NO_THREAD.get().is_none()) {
        Some(queue) => queue.push(text),
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// Wait until what is queued for stderr is written, `limit` at most; whether it all was.
pub fn flush(limit: Duration) -> bool {
    let Some(queue) = QUEUE.get().filter(|_| NO_THREAD.get().is_none()) else { return true };
    let until = Instant::now() + limit;
    let mut state = queue.state();
    while !state.lines.is_empty() || state.writing {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        state = queue.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    true
}

/// Write `args` and a newline to stderr in one write, ignoring any error.
pub fn err(args: std::fmt::Arguments<'_>) {
    let mut line = args.to_string();
    line.push('\n');
    write_err(line);
}

/// Write `args` to stdout and flush, ignoring any error.
pub fn out(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_fmt(args).and_then(|()| stdout.flush());
}

/// `eprintln!` that cannot panic: see [`err`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

/// `print!` that cannot panic: see [`out`].
#[macro_export]
macro_rules! show {
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_lines_and_counts_them_and_order_is_kept() {
        let queue =
            Queue { state: Mutex::new(State::default()), changed: Condvar::new(), notice: |n| format!("{n}\n") };
        let line = "x".repeat(1000) + "\n";
        for _ in 0..300 {
            queue.push(line.clone());
        }
        let state = queue.state();
        assert_eq!(state.lines.len(), QUEUED_BYTES / line.len());
        assert_eq!(state.dropped, 300 - (QUEUED_BYTES / line.len()) as u64);
        assert!(state.bytes <= QUEUED_BYTES);
        drop(state);
        queue.push("small\n".into());
        assert_eq!(queue.state().lines.back().map(String::as_str), Some("small\n"), "a line that fits still goes in");
    }
}
