//! ExaBGP's answers to our lines (`done`, `error`): counted once, by the thread that reads
//! them ([`Answers`], which the writer's pacing also waits on), and matched to the lines they
//! answer on the main thread ([`Acks`]), which gets the count with each reply.

use super::reply::Reply;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How many answers of each kind ExaBGP gave so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub done: u64,
    pub errors: u64,
}

impl Tally {
    fn total(self) -> u64 {
        self.done + self.errors
    }
}

/// The one count of ExaBGP's answers: kept by the reader, awaited by the writer.
#[derive(Default)]
pub struct Answers {
    tally: Mutex<Tally>,
    changed: Condvar,
}

impl Answers {
    /// Count `reply` if it is an answer; the count up to it.
    pub fn record(&self, reply: &Reply) -> Tally {
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        match reply {
            Reply::Done => tally.done += 1,
            Reply::Error(_) => tally.errors += 1,
            Reply::Shutdown | Reply::Other => return *tally,
        }
        self.changed.notify_all();
        *tally
    }

    /// Answers of either kind so far.
    pub fn total(&self) -> u64 {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner).total()
    }

    /// Wait until the total differs from `seen`, at most `limit`; the total.
    pub fn wait_change(&self, seen: u64, limit: Duration) -> u64 {
        let guard = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, limit, |tally| tally.total() == seen)
            .unwrap_or_else(PoisonError::into_inner);
        guard.total()
    }
}

/// The lines we sent that wait for an answer (ExaBGP answers each in order when acks are on),
/// and the count of answers as of the last reply handled.
#[derive(Debug, Default)]
pub struct Acks {
    pending: VecDeque<String>,
    pub tally: Tally,
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

    /// Account for a reply, with the count up to it; returns the line it answers, if we know it.
    pub fn answered(&mut self, reply: &Reply, tally: Tally) -> Option<String> {
        self.tally = tally;
        match reply {
            Reply::Done | Reply::Error(_) => self.pending.pop_front(),
            Reply::Shutdown | Reply::Other => None,
        }
    }

    /// Account for `answers` answers at once, with the count up to the last (their lines are
    /// not told).
    pub fn answered_many(&mut self, answers: u64, tally: Tally) {
        self.tally = tally;
        let gone = usize::try_from(answers).unwrap_or(usize::MAX).min(self.pending.len());
        self.pending.drain(..gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn answers_are_counted_by_kind_and_the_rest_is_not() {
        let answers = Answers::default();
        assert_eq!(answers.record(&Reply::Done), Tally { done: 1, errors: 0 });
        assert_eq!(answers.record(&Reply::Other), Tally { done: 1, errors: 0 });
        assert_eq!(answers.record(&Reply::Shutdown), Tally { done: 1, errors: 0 });
        assert_eq!(answers.record(&Reply::Error(None)), Tally { done: 1, errors: 1 });
        assert_eq!(answers.total(), 2);
    }

    #[test]
    fn a_wait_for_an_answer_ends_with_it_or_at_its_limit() {
        let answers = std::sync::Arc::new(Answers::default());
        let started = Instant::now();
        assert_eq!(answers.wait_change(0, Duration::from_millis(30)), 0);
        assert!(started.elapsed() >= Duration::from_millis(30));
        let other = std::sync::Arc::clone(&answers);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.record(&Reply::Done);
        });
        assert_eq!(answers.wait_change(0, Duration::from_secs(20)), 1);
        thread.join().unwrap();
    }

    #[test]
    fn acks_match_replies_to_lines_in_order() {
        let mut acks = Acks::default();
        acks.sent("one");
        acks.sent("two");
        let tally = |done, errors| Tally { done, errors };
        assert_eq!(acks.answered(&Reply::Done, tally(1, 0)).as_deref(), Some("one"));
        assert_eq!(acks.answered(&Reply::Other, tally(1, 0)), None);
        assert_eq!(acks.answered(&Reply::Error(None), tally(1, 1)).as_deref(), Some("two"));
        assert_eq!(acks.answered(&Reply::Done, tally(2, 1)), None);
        assert_eq!(acks.tally, tally(2, 1));
        for i in 0..PENDING_LIMIT + 10 {
            acks.sent(&i.to_string());
        }
        assert_eq!(acks.answered(&Reply::Done, tally(3, 1)).as_deref(), Some("10"));
        acks.answered_many(5, tally(8, 1));
        assert_eq!(acks.answered(&Reply::Done, tally(9, 1)).as_deref(), Some("16"));
        acks.answered_many(u64::MAX, tally(9, 9));
        assert_eq!((acks.answered(&Reply::Done, tally(9, 10)), acks.tally), (None, tally(9, 10)));
    }
}
