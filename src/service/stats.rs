//! What a service has done so far, for whoever reports on it (metrics, the control socket,
//! SIGUSR1): since when it is in its state, its last check, and counts of checks, transitions
//! and lines. Plain counters, no I/O; the service updates them as it goes.

use crate::histogram::Histogram;
use crate::state::State;
use std::time::{Duration, Instant, SystemTime};

/// When something happened, on both clocks: the wall clock for people and exporters, the
/// monotonic one for durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub wall: SystemTime,
    pub mono: Instant,
}

impl Moment {
    pub fn now() -> Moment {
        Moment { wall: SystemTime::now(), mono: Instant::now() }
    }

    /// The wall-clock time of `at`, a monotonic instant near this moment.
    pub fn wall_of(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.mono) {
            Some(after) => self.wall + after,
            None => self.wall - self.mono.duration_since(at),
        }
    }
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastCheck {
    /// When it ended.
    pub at: SystemTime,
    pub ok: bool,
    /// From its start to its verdict.
    pub took: Duration,
}

/// A service's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// When it entered its current state (its start, for INIT).
    pub since: Moment,
    pub last_check: Option<LastCheck>,
    pub passed: u64,
    /// Failed checks, those that timed out included.
    pub failed: u64,
    /// Of the failed checks, those that ran out of time.
    pub timed_out: u64,
    /// How long each check took.
    pub durations: Histogram,
    /// How many times it entered each state, in the order first entered.
    entered: Vec<(State, u64)>,
    /// `announce` lines written.
    pub announces: u64,
    /// `withdraw` lines written.
    pub withdraws: u64,
}

impl Stats {
    pub fn new(start: Moment) -> Stats {
        Stats {
            since: start,
            last_check: None,
            passed: 0,
            failed: 0,
            timed_out: 0,
            durations: Histogram::default(),
            entered: Vec::new(),
            announces: 0,
            withdraws: 0,
        }
    }

    /// A check ended at `at` after `took`; `timed_out`: it failed because it ran out of time.
    pub fn checked(&mut self, ok: bool, timed_out: bool, at: SystemTime, took: Duration) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.timed_out += u64::from(timed_out);
        }
        self.durations.observe(took);
        self.last_check = Some(LastCheck { at, ok, took });
    }

    /// It entered `state` at `at`.
    pub fn entered(&mut self, state: State, at: Moment) {
        self.since = at;
        match self.entered.iter_mut().find(|(s, _)| *s == state) {
            Some((_, count)) => *count += 1,
            None => self.entered.push((state, 1)),
        }
    }

    /// How many times it entered `state`.
    pub fn times_entered(&self, state: State) -> u64 {
        self.entered.iter().find(|(s, _)| *s == state).map_or(0, |&(_, count)| count)
    }

    /// It wrote lines: `announces` announce and `withdraws` withdraw lines.
    pub fn wrote(&mut self, announces: u64, withdraws: u64) {
        self.announces += announces;
        self.withdraws += withdraws;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_grow_with_each_change() {
        let start = Moment::now();
        let mut stats = Stats::new(start);
        assert_eq!((stats.passed, stats.failed), (0, 0));
        stats.checked(true, false, start.wall, Duration::from_millis(3));
        stats.checked(false, false, start.wall, Duration::from_millis(5));
        assert_eq!((stats.passed, stats.failed), (1, 1));
        stats.checked(false, true, start.wall, Duration::from_secs(5));
        assert_eq!((stats.passed, stats.failed, stats.timed_out, stats.durations.count()), (1, 2, 1, 3));
        assert_eq!(stats.last_check.map(|c| (c.ok, c.took)), Some((false, Duration::from_secs(5))));

        let later = Moment { wall: start.wall + Duration::from_secs(1), mono: start.mono + Duration::from_secs(1) };
        stats.entered(State::Rising, later);
        stats.entered(State::Up, later);
        stats.entered(State::Rising, later);
        assert_eq!(stats.times_entered(State::Rising), 2);
        assert_eq!(stats.times_entered(State::Up), 1);
        assert_eq!(stats.times_entered(State::Down), 0);
        assert_eq!(stats.since, later);

        stats.wrote(0, 0);
        assert_eq!((stats.announces, stats.withdraws), (0, 0), "no line written: nothing changed");
        stats.wrote(2, 1);
        assert_eq!((stats.announces, stats.withdraws), (2, 1));
    }

    #[test]
    fn the_wall_clock_of_an_instant_either_side() {
        let moment = Moment::now();
        let later = moment.mono + Duration::from_millis(1500);
        assert_eq!(moment.wall_of(later), moment.wall + Duration::from_millis(1500));
        if let Some(earlier) = moment.mono.checked_sub(Duration::from_millis(250)) {
            assert_eq!(moment.wall_of(earlier), moment.wall - Duration::from_millis(250));
        }
    }
}
