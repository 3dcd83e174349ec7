//! The service state machine: a pure function from (state, counter, observation) to the next
//! state, with the rise/fall hysteresis of ExaBGP's healthcheck. No I/O here. The reference's
//! EXIT and END are the process's, not a service's: EXIT is the withdraws of the exit path
//! ([`crate::exabgp::lines::Announcement::Exit`]), END the reactor's stop after `--interval 0`.

use std::fmt;

/// The states of the reference, with the same names (they reach hooks as `STATE=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Start, or just re-enabled: the next check decides.
    Init,
    /// The disable file exists.
    Disabled,
    /// Checks pass, not yet `rise` of them in a row.
    Rising,
    /// Checks fail, not yet `fall` of them in a row.
    Falling,
    /// Healthy: announced with the up metric.
    Up,
    /// Unhealthy: announced with the down metric, or withdrawn.
    Down,
}

impl State {
    /// The name the reference uses, in logs and in the hooks' `STATE`.
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Disabled => "DISABLED",
            State::Rising => "RISING",
            State::Falling => "FALLING",
            State::Up => "UP",
            State::Down => "DOWN",
        }
    }

    /// Whether the next check comes after the fast interval.
    pub fn is_transient(self) -> bool {
        matches!(self, State::Rising | State::Falling)
    }

    /// Every state a service can be in, in their order above (the metrics list each one).
    /// `every_state_is_in_all` fails to compile when a state is added and not listed here.
    pub const ALL: [State; 6] = [State::Init, State::Disabled, State::Rising, State::Falling, State::Up, State::Down];
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one iteration saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The disable file exists.
    pub disabled: bool,
    /// The check passed (always true while disabled, as in the reference).
    pub ok: bool,
}

/// The hysteresis thresholds. Values of 1 or less mean "at once".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub rise: i64,
    pub fall: i64,
}

/// Where the machine is between iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub state: State,
    /// Consecutive checks counted in RISING or FALLING.
    pub counter: i64,
}

/// The result of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub next: Machine,
    /// The state entered in this step, if any (its hooks run); `None` when nothing changed.
    pub entered: Option<State>,
}

impl Machine {
    pub const START: Machine = Machine { state: State::Init, counter: 0 };

    /// One iteration of the reference's state machine, transitions tested in its order.
    pub fn step(self, seen: Observation, limits: Thresholds) -> Step {
        let Machine { state, counter } = self;
        let stay = |counter| Step { next: Machine { state, counter }, entered: None };
        let enter = |target: State, counter| {
            let target = match target {
                State::Rising if limits.rise <= 1 => State::Up,
                State::Falling if limits.fall <= 1 => State::Down,
                other => other,
            };
            Step { next: Machine { state: target, counter }, entered: Some(target) }
        };
        let ok = seen.ok;
        if state != State::Disabled && seen.disabled {
            return enter(State::Disabled, counter);
        }
        match state {
            State::Init if ok && limits.rise <= 1 => enter(State::Up, counter),
            State::Init if ok => enter(State::Rising, 1),
            State::Init => enter(State::Falling, 1),
            State::Disabled if !seen.disabled => enter(State::Init, counter),
            State::Disabled => stay(counter),
            State::Rising if ok && counter + 1 >= limits.rise => enter(State::Up, counter + 1),
            State::Rising if ok => stay(counter + 1),
            State::Rising => enter(State::Falling, 1),
            State::Falling if !ok && counter + 1 >= limits.fall => enter(State::Down, counter + 1),
            State::Falling if !ok => stay(counter + 1),
            State::Falling => enter(State::Rising, 1),
            State::Up if !ok => enter(State::Falling, 1),
            State::Down if ok => enter(State::Rising, 1),
            State::Up | State::Down => stay(counter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_in_all() {
        // Exhaustive: a new state does not compile here until it is given its place, which
        // is its index in State::ALL (add it there too).
        let place = |state: State| match state {
            State::Init => 0,
            State::Disabled => 1,
            State::Rising => 2,
            State::Falling => 3,
            State::Up => 4,
            State::Down => 5,
        };
        for (i, state) in State::ALL.into_iter().enumerate() {
            assert_eq!(place(state), i, "{state}");
        }
    }

    const ALL: [State; 6] = [State::Init, State::Disabled, State::Rising, State::Falling, State::Up, State::Down];

    fn obs(disabled: bool, ok: bool) -> Observation {
        Observation { disabled, ok }
    }

    /// A direct transcription of the reference's `one()` (healthcheck.py), written as nested
    /// ifs the way it reads there, used as the oracle for the table below.
    fn oracle(m: Machine, o: Observation, l: Thresholds) -> (State, i64, Option<State>) {
        let trigger = |t: State| match t {
            State::Rising if l.rise <= 1 => State::Up,
            State::Falling if l.fall <= 1 => State::Down,
            t => t,
        };
        let (mut state, mut checks, mut entered) = (m.state, m.counter, None);
        let successful = o.disabled || o.ok;
        if state != State::Disabled && o.disabled {
            state = trigger(State::Disabled);
            entered = Some(state);
        } else if state == State::Init {
            if successful && l.rise <= 1 {
                state = trigger(State::Up);
            } else if successful {
                state = trigger(State::Rising);
                checks = 1;
            } else {
                state = trigger(State::Falling);
                checks = 1;
            }
            entered = Some(state);
        } else if state == State::Disabled {
            if !o.disabled {
                state = trigger(State::Init);
                entered = Some(state);
            }
        } else if state == State::Rising {
            if successful {
                checks += 1;
                if checks >= l.rise {
                    state = trigger(State::Up);
                    entered = Some(state);
                }
            } else {
                state = trigger(State::Falling);
                entered = Some(state);
                checks = 1;
            }
        } else if state == State::Falling {
            if !successful {
                checks += 1;
                if checks >= l.fall {
                    state = trigger(State::Down);
                    entered = Some(state);
                }
            } else {
                state = trigger(State::Rising);
                entered = Some(state);
                checks = 1;
            }
        } else if state == State::Up {
            if !successful {
                state = trigger(State::Falling);
                entered = Some(state);
                checks = 1;
            }
        } else if state == State::Down && successful {
            state = trigger(State::Rising);
            entered = Some(state);
            checks = 1;
        }
        (state, checks, entered)
    }

    #[test]
    fn every_state_observation_and_threshold_matches_the_reference() {
        let mut cases = 0;
        for state in ALL {
            for counter in -1..=5 {
                for rise in -1..=4 {
                    for fall in -1..=4 {
                        for disabled in [false, true] {
                            // While disabled the reference counts the check as passed.
                            for ok in [false, true] {
                                let o = obs(disabled, ok || disabled);
                                let m = Machine { state, counter };
                                let l = Thresholds { rise, fall };
                                let got = m.step(o, l);
                                let want = oracle(m, o, l);
                                assert_eq!(
                                    (got.next.state, got.next.counter, got.entered),
                                    want,
                                    "{state} counter {counter} rise {rise} fall {fall} {o:?}"
                                );
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 6 * 7 * 6 * 6 * 4);
    }

    fn run(seq: &[bool], rise: i64, fall: i64) -> Vec<State> {
        let limits = Thresholds { rise, fall };
        let mut m = Machine::START;
        seq.iter()
            .map(|&ok| {
                m = m.step(obs(false, ok), limits).next;
                m.state
            })
            .collect()
    }

    #[test]
    fn three_passes_make_it_up_three_failures_make_it_down() {
        use State::*;
        let seq = [true, true, true, false, false, false, true];
        assert_eq!(run(&seq, 3, 3), [Rising, Rising, Up, Falling, Falling, Down, Rising]);
    }

    #[test]
    fn a_single_flap_resets_the_counter() {
        use State::*;
        let seq = [true, true, false, true, true, true];
        assert_eq!(run(&seq, 3, 3), [Rising, Rising, Falling, Rising, Rising, Up]);
    }

    #[test]
    fn rise_and_fall_of_one_skip_the_transient_states() {
        use State::*;
        assert_eq!(run(&[true, false, true], 1, 1), [Up, Down, Up]);
        assert_eq!(run(&[false, true], 0, 0), [Down, Up]);
    }

    #[test]
    fn the_disable_file_wins_and_its_removal_goes_back_to_init() {
        let limits = Thresholds { rise: 3, fall: 3 };
        let up = Machine { state: State::Up, counter: 3 };
        let step = up.step(obs(true, true), limits);
        assert_eq!(step.next.state, State::Disabled);
        assert_eq!(step.entered, Some(State::Disabled));
        let still = step.next.step(obs(true, true), limits);
        assert_eq!(still.entered, None);
        // The check result in the iteration that finds the file gone does not count.
        let back = still.next.step(obs(false, false), limits);
        assert_eq!(back.next.state, State::Init);
        assert_eq!(back.entered, Some(State::Init));
    }

    #[test]
    fn staying_up_or_down_enters_nothing() {
        let limits = Thresholds { rise: 3, fall: 3 };
        let up = Machine { state: State::Up, counter: 3 };
        assert_eq!(up.step(obs(false, true), limits), Step { next: up, entered: None });
        let down = Machine { state: State::Down, counter: 3 };
        assert_eq!(down.step(obs(false, false), limits), Step { next: down, entered: None });
    }

    #[test]
    fn names_are_the_references() {
        let names: Vec<_> = ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["INIT", "DISABLED", "RISING", "FALLING", "UP", "DOWN"]);
    }
}
