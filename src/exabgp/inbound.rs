//! What ExaBGP said and the main thread has not heard yet, held within bounds: the reader
//! thread adds to it ([`Inbound::push`]), the main thread takes it all at once
//! ([`Inbound::take`]). Lines that repeat are folded into a count, a flood of errors is told
//! once a second ([`ErrorPace`]), and past [`LINES`] entries or [`BYTES`] of text everything
//! is counted rather than kept. So whatever arrives on stdin, and however busy the main thread
//! is, memory stays bounded and the log says how much came, not every line of it.

use super::answers::Tally;
use super::reply::Reply;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries kept one by one at most; past that, replies are counted.
const LINES: usize = 1024;
/// Bytes of text kept at most; past that, replies are counted.
const BYTES: usize = 1 << 20;
/// How often, at most, a flood of errors is told.
pub const ERROR_EVERY: Duration = Duration::from_secs(1);

/// What the reader heard, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A line, parsed, and its text, `times` times in a row, with the count of ExaBGP's
    /// answers up to the last of them. An error told in full is always alone.
    Line { reply: Reply, text: String, times: u64, tally: Tally },
    /// Answers and lines not told one by one (the errors of a flood after its first, or
    /// anything once the entries are full), with the count of answers up to the last.
    Counted { done: u64, errors: u64, others: u64, shutdown: bool, tally: Tally },
    /// How many errors of a flood were only counted in its last second.
    ErrorFlood(u64),
}

/// The entries the main thread has not taken yet.
#[derive(Default)]
pub struct Inbound {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    heard: Vec<Heard>,
    bytes: usize,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inbound")
    }
}

impl Inbound {
    /// Add a line (`told`: an error to tell in full, else it is counted); whether there was
    /// nothing before it (then the main thread must be told to take it).
    pub fn push_line(&self, reply: Reply, text: String, tally: Tally, told: bool) -> bool {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let was_empty = held.heard.is_empty();
        let full = held.heard.len() >= LINES || held.bytes >= BYTES;
        let error = matches!(reply, Reply::Error(_));
        if let Some(Heard::Line { reply: last, text: last_text, times, tally: at }) = held.heard.last_mut() {
            if !error && *last == reply && *last_text == text {
                *times += 1;
                *at = tally;
                return was_empty;
            }
        }
        // An error told is kept past the bounds too: there is one a second at most.
        let keep = if error { told } else { !full };
        if keep {
            held.bytes += text.len();
            held.heard.push(Heard::Line { reply, text, times: 1, tally });
            return was_empty;
        }
        if !matches!(held.heard.last(), Some(Heard::Counted { .. })) {
            held.heard.push(Heard::Counted { done: 0, errors: 0, others: 0, shutdown: false, tally });
        }
        if let Some(Heard::Counted { done, errors, others, shutdown, tally: at }) = held.heard.last_mut() {
            match reply {
                Reply::Done => *done += 1,
                Reply::Error(_) => *errors += 1,
                Reply::Shutdown => *shutdown = true,
                Reply::Other => *others += 1,
            }
            *at = tally;
        }
        was_empty
    }

    /// Add a flood's count (at most one a second); whether there was nothing before it.
    pub fn push_flood(&self, count: u64) -> bool {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.heard.push(Heard::ErrorFlood(count));
        held.heard.len() == 1
    }

    /// Everything heard since the last time, in order.
    pub fn take(&self) -> Vec<Heard> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.bytes = 0;
        std::mem::take(&mut held.heard)
    }
}

/// ExaBGP's errors, told at most once per [`ERROR_EVERY`]: an error after a quiet second is
/// told in full, the errors that follow within the second are counted, and the count is told
/// when the second is over (and so on while they keep coming).
#[derive(Debug, Default)]
pub struct ErrorPace {
    /// When the current second began; `None`: quiet.
    since: Option<Instant>,
    /// Errors counted in it.
    counted: u64,
}

impl ErrorPace {
    /// An error at `now`: the count of the second that ended before it, if there is one to
    /// tell, and whether to tell this error in full.
    pub fn error(&mut self, now: Instant) -> (Option<u64>, bool) {
        let ended = self.tick(now);
        if self.since.is_none() {
            self.since = Some(now);
            return (ended, true);
        }
        self.counted += 1;
        (ended, false)
    }

    /// When a count is due, if there is one to tell.
    pub fn due(&self) -> Option<Instant> {
        self.since.filter(|_| self.counted > 0).map(|since| since + ERROR_EVERY)
    }

    /// At `now`: the count to tell if its second is over. A second without errors after it
    /// ends the flood.
    pub fn tick(&mut self, now: Instant) -> Option<u64> {
        let since = self.since?;
        if now < since + ERROR_EVERY {
            return None;
        }
        if self.counted == 0 {
            self.since = None;
            return None;
        }
        self.since = Some(now);
        Some(std::mem::take(&mut self.counted))
    }

    /// The count not told yet, whatever the time (at the end of the input).
    pub fn rest(&mut self) -> Option<u64> {
        Some(std::mem::take(&mut self.counted)).filter(|&n| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(done: u64, errors: u64) -> Tally {
        Tally { done, errors }
    }

    fn line(reply: Reply, text: &str, times: u64, tally: Tally) -> Heard {
        Heard::Line { reply, text: text.into(), times, tally }
    }

    #[test]
    fn repeated_lines_fold_and_the_first_push_wakes() {
        let inbound = Inbound::default();
        assert!(inbound.push_line(Reply::Done, "done".into(), tally(1, 0), false));
        assert!(!inbound.push_line(Reply::Done, "done".into(), tally(2, 0), false));
        assert!(!inbound.push_line(Reply::Other, "x".into(), tally(2, 0), false));
        assert!(!inbound.push_line(Reply::Error(None), "error".into(), tally(2, 1), true));
        assert!(!inbound.push_line(Reply::Error(None), "error".into(), tally(2, 2), false));
        assert!(!inbound.push_line(Reply::Done, "done".into(), tally(3, 2), false));
        assert!(!inbound.push_line(Reply::Error(None), "error".into(), tally(3, 3), false));
        assert!(!inbound.push_line(Reply::Error(None), "error".into(), tally(3, 4), false));
        assert!(!inbound.push_flood(3));
        let counted = |errors, tally| Heard::Counted { done: 0, errors, others: 0, shutdown: false, tally };
        assert_eq!(
            inbound.take(),
            [
                line(Reply::Done, "done", 2, tally(2, 0)),
                line(Reply::Other, "x", 1, tally(2, 0)),
                line(Reply::Error(None), "error", 1, tally(2, 1)),
                counted(1, tally(2, 2)),
                line(Reply::Done, "done", 1, tally(3, 2)),
                counted(2, tally(3, 4)),
                Heard::ErrorFlood(3),
            ]
        );
        assert!(inbound.take().is_empty());
        assert!(inbound.push_line(Reply::Done, "done".into(), tally(4, 4), false));
    }

    #[test]
    fn past_its_bounds_everything_but_an_error_told_is_counted() {
        let inbound = Inbound::default();
        for i in 0..LINES as u64 + 100 {
            inbound.push_line(Reply::Other, i.to_string(), tally(0, 0), false);
            inbound.push_line(Reply::Done, "done".into(), tally(i + 1, 0), false);
        }
        inbound.push_line(Reply::Error(None), "error".into(), tally(0, 1), true);
        inbound.push_line(Reply::Shutdown, "shutdown".into(), tally(0, 1), false);
        let heard = inbound.take();
        assert_eq!(heard.len(), LINES + 3);
        assert_eq!(heard[LINES - 1], line(Reply::Done, "done", 1, tally(LINES as u64 / 2, 0)));
        let (rest, last) = (LINES as u64 / 2 + 100, LINES as u64 + 100);
        let counted = Heard::Counted { done: rest, errors: 0, others: rest, shutdown: false, tally: tally(last, 0) };
        assert_eq!(heard[LINES], counted);
        assert_eq!(heard[LINES + 1], line(Reply::Error(None), "error", 1, tally(0, 1)));
        let shutdown = Heard::Counted { done: 0, errors: 0, others: 0, shutdown: true, tally: tally(0, 1) };
        assert_eq!(heard[LINES + 2], shutdown);
        // The bytes count too.
        let long = "x".repeat(BYTES);
        inbound.push_line(Reply::Other, long.clone(), tally(0, 0), false);
        inbound.push_line(Reply::Other, "y".into(), tally(0, 0), false);
        let heard = inbound.take();
        assert_eq!(heard.len(), 2);
        assert!(matches!(heard[1], Heard::Counted { others: 1, .. }));
    }

    #[test]
    fn a_flood_of_errors_is_told_once_a_second() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut pace = ErrorPace::default();
        assert_eq!(pace.error(at(0)), (None, true));
        assert_eq!(pace.due(), None);
        assert_eq!(pace.error(at(10)), (None, false));
        assert_eq!(pace.error(at(20)), (None, false));
        assert_eq!(pace.due(), Some(at(1000)));
        assert_eq!(pace.tick(at(999)), None);
        assert_eq!(pace.error(at(1500)), (Some(2), false));
        assert_eq!(pace.due(), Some(at(2500)));
        assert_eq!(pace.tick(at(2500)), Some(1));
        assert_eq!(pace.due(), None);
        // A quiet second ends the flood: the next error is told in full.
        assert_eq!(pace.tick(at(3600)), None);
        assert_eq!(pace.error(at(3700)), (None, true));
        assert_eq!(pace.error(at(3800)), (None, false));
        assert_eq!(pace.rest(), Some(1));
        assert_eq!(pace.rest(), None);
    }
}
