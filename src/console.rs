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
//! Once [`detach`]ed (when the reactor starts its loop), a line goes out at once while the pipe
//! has room; when it has none, lines are queued in order, within [`QUEUED_BYTES`], for a thread
//! started then; past that a line is dropped and counted, and the count is said once the queue
//! has drained. [`flush`] waits, within a bound, for what is queued (the exit's last lines).

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
    /// Whole lines, or the rest of one that went out in part: bytes, which a part may split
    /// inside a character.
    lines: VecDeque<Vec<u8>>,
    bytes: usize,
    dropped: u64,
    /// The thread is writing what it took.
    writing: bool,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn push(&self, line: String) {
        Queue::push_locked(&mut self.state(), line.into_bytes());
        self.changed.notify_all();
    }

    /// Queue `line`, or drop and count it when the queue is full.
    fn push_locked(state: &mut State, line: Vec<u8>) {
        if state.bytes + line.len() > QUEUED_BYTES {
            state.dropped += 1;
            return;
        }
        state.bytes += line.len();
        state.lines.push_back(line);
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
            let notice = batch.is_empty().then(|| (self.notice)(std::mem::take(&mut state.dropped)).into_bytes());
            state.writing = true;
            drop(state);
            let mut stderr = std::io::stderr().lock();
            for line in batch.iter().chain(&notice) {
                let _ = stderr.write_all(line);
            }
            drop(stderr);
            state = self.state();
            state.writing = false;
            self.changed.notify_all();
        }
    }
}

/// From now on, stderr never makes the caller wait ([`say!`](crate::say) and the logger's
/// lines alike): a line goes out at once while the pipe has room for it and nothing is queued
/// before it; otherwise it is queued, for a thread of its own started then (none runs while
/// stderr keeps up: a thread and its code cost resident memory). `notice` is the line that
/// says how many lines were dropped. Once only: later calls change nothing.
pub fn detach(notice: fn(u64) -> String) {
    QUEUE.get_or_init(|| Queue { state: Mutex::new(State::default()), changed: Condvar::new(), notice });
}

/// The queue's thread, once started: `false` if it could not be.
static WRITER: OnceLock<bool> = OnceLock::new();

/// Write `text` (whole lines, with their newline) to stderr, any error ignored: once
/// [`detach`]ed without waiting (at once while stderr has room, else through the queue), before
/// that at once whatever it takes.
pub fn write_err(text: String) {
    let Some(queue) = QUEUE.get() else {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        return;
    };
    let mut state = queue.state();
    let mut rest = text.as_bytes();
    if state.lines.is_empty() && !state.writing {
        // A pipe that polls writable takes PIPE_BUF bytes without waiting: that much at a time.
        while !rest.is_empty() && writable() {
            let chunk = &rest[..rest.len().min(PIPE_BUF)];
            match nix::unistd::write(std::io::stderr(), chunk) {
                Ok(n) => rest = &rest[n..],
                Err(nix::errno::Errno::EINTR) => {}
                // Gone or broken: the line is lost, as it would be anyway.
                Err(_) => return,
            }
        }
        if rest.is_empty() {
            return;
        }
    }
    let left = rest.to_vec();
    let started = *WRITER.get_or_init(|| {
        std::thread::Builder::new().name("stderr".into()).stack_size(128 * 1024).spawn(move || queue.run()).is_ok()
    });
    if started {
        // Under the lock all along: no line can go out at once ahead of this one.
        Queue::push_locked(&mut state, left);
        queue.changed.notify_all();
    } else {
        // No thread to write the queue: in place, as before.
        drop(state);
        let _ = std::io::stderr().lock().write_all(&left);
    }
}

/// What a pipe takes in one write without waiting when it polls writable.
const PIPE_BUF: usize = 4096;

/// Whether stderr has room now.
fn writable() -> bool {
    use std::os::fd::AsFd;
    let stderr = std::io::stderr();
    let mut fds = [nix::poll::PollFd::new(stderr.as_fd(), nix::poll::PollFlags::POLLOUT)];
    matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(1))
        && fds[0].revents().is_some_and(|r| r.contains(nix::poll::PollFlags::POLLOUT))
}

/// Wait until what is queued for stderr is written, `limit` at most; whether it all was.
pub fn flush(limit: Duration) -> bool {
    let Some(queue) = QUEUE.get().filter(|_| WRITER.get() == Some(&true)) else { return true };
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
        assert_eq!(
            queue.state().lines.back().map(Vec::as_slice),
            Some(&b"small\n"[..]),
            "a line that fits still goes in"
        );
    }
}
