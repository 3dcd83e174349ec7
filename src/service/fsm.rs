//! The service state machine: a pure function from (state, counter, observation) to the next
//! state, with the rise/fall hysteresis of ExaBGP's healthcheck. No I/O here. The reference's
//! EXIT and END are the process's, not a service's: EXIT is the withdraws of the exit path
//! ([`crate::exabgp::lines::Announcement::Exit`]), END the reactor's stop after `--interval 0`.
//!
//! Our own addition, the graceful drain (RFC 8326): DRAINING then DRAINED, which win over
//! every state of the reference (DISABLED included) while the drain is on, and lead back to
//! INIT when it ends. Without a drain these states are never entered, and the transitions are
//! exactly the reference's.
//!
//! Also ours, flap dampening (`--dampening`): SUPPRESSED, entered from any state but DISABLED
//! while the service's penalty says so ([`crate::dampening`]), left for INIT when it no longer
//! does. The drain and the disable file win over it. Without dampening it is never entered.
//!
//! The states and thresholds themselves are [`crate::state`]'s, shared with what reports them.

use crate::state::{State, Thresholds};

/// What one iteration saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The disable file exists.
    pub disabled: bool,
    /// The check passed (always true while disabled, as in the reference).
    pub ok: bool,
    /// The drain is on (its file exists, or it was asked for).
    pub drain: bool,
    /// The drain time is over: DRAINING lasted its `--drain-time` (only looked at in DRAINING).
    pub drain_over: bool,
    /// Some route is announced now (not withdrawn, not unannounced yet): there is traffic to
    /// drain. Without one a drain goes straight to DRAINED: DRAINING would announce a route
    /// that carries nothing, maybe for a node that is down.
    pub announced: bool,
    /// The service is suppressed (`--dampening`: its penalty went above the suppress threshold
    /// and has not decayed below reuse yet).
    pub suppressed: bool,
}

impl Observation {
    /// What an iteration saw without any drain or suppression: the reference's observation.
    pub fn checked(disabled: bool, ok: bool) -> Observation {
        Observation { disabled, ok, drain: false, drain_over: false, announced: false, suppressed: false }
    }
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

    /// One iteration of the state machine: the drain's transitions first (they win over
    /// everything), then the disable file, then the suppression, then the reference's, tested
    /// in its order.
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
        match (state, seen.drain) {
            (State::Draining, true) if seen.drain_over => return enter(State::Drained, 0),
            (State::Draining | State::Drained, true) => return stay(counter),
            (_, true) if seen.announced => return enter(State::Draining, 0),
            (_, true) => return enter(State::Drained, 0),
            (State::Draining | State::Drained, false) => return enter(State::Init, 0),
            (_, false) => {}
        }
        if state != State::Disabled && seen.disabled {
            return enter(State::Disabled, counter);
        }
        match state {
            State::Suppressed if seen.suppressed => return stay(counter),
            State::Suppressed => return enter(State::Init, 0),
            State::Disabled => {}
            _ if seen.suppressed => return enter(State::Suppressed, 0),
            _ => {}
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
            // Handled above: with the drain off, they lead to INIT, and so does SUPPRESSED
            // when it is no longer suppressed.
            State::Draining | State::Drained | State::Suppressed => enter(State::Init, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's states.
    const ALL: [State; 6] = [State::Init, State::Disabled, State::Rising, State::Falling, State::Up, State::Down];
    /// Every state, the drain's and SUPPRESSED too.
    const EVERY: [State; 9] = State::ALL;

    fn obs(disabled: bool, ok: bool) -> Observation {
        Observation::checked(disabled, ok)
    }

    fn drain(on: bool, over: bool) -> Observation {
        Observation { drain: on, drain_over: over, announced: true, ..obs(false, true) }
    }

    fn suppressed(disabled: bool, ok: bool) -> Observation {
        Observation { suppressed: true, ..obs(disabled, ok) }
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
        assert_eq!((State::Draining.name(), State::Drained.name()), ("DRAINING", "DRAINED"));
        assert_eq!(State::Suppressed.name(), "SUPPRESSED");
        assert!(!State::Suppressed.is_drain() && !State::Suppressed.is_transient());
        let drains: Vec<State> = EVERY.into_iter().filter(|s| s.is_drain()).collect();
        assert_eq!(drains, [State::Draining, State::Drained]);
        assert!(!State::Draining.is_transient() && !State::Drained.is_transient());
    }

    /// The drain's rules, written out apart from `step`: with the drain on, DRAINING from any
    /// other state, DRAINED once the drain time is over, then DRAINED stays; with it off, a
    /// drain state goes to INIT and every other state follows the reference's oracle.
    fn drain_oracle(m: Machine, o: Observation, l: Thresholds) -> (State, i64, Option<State>) {
        if o.drain {
            return match m.state {
                State::Draining if o.drain_over => (State::Drained, 0, Some(State::Drained)),
                State::Draining | State::Drained => (m.state, m.counter, None),
                _ if o.announced => (State::Draining, 0, Some(State::Draining)),
                _ => (State::Drained, 0, Some(State::Drained)),
            };
        }
        if m.state.is_drain() {
            return (State::Init, 0, Some(State::Init));
        }
        oracle(m, o, l)
    }

    /// Dampening's rules, written out apart from `step`: the drain's rules first (SUPPRESSED is
    /// one of the "other states" there); then the disable file, from any state but DISABLED;
    /// then SUPPRESSED stays while suppressed and goes to INIT (counter 0) when no longer;
    /// any other state but DISABLED enters SUPPRESSED (counter 0) while suppressed; the rest
    /// is the reference's.
    fn dampening_oracle(m: Machine, o: Observation, l: Thresholds) -> (State, i64, Option<State>) {
        if o.drain || m.state.is_drain() {
            return drain_oracle(m, o, l);
        }
        if m.state != State::Disabled && o.disabled {
            return (State::Disabled, m.counter, Some(State::Disabled));
        }
        match m.state {
            State::Suppressed if o.suppressed => (m.state, m.counter, None),
            State::Suppressed => (State::Init, 0, Some(State::Init)),
            State::Disabled => oracle(m, o, l),
            _ if o.suppressed => (State::Suppressed, 0, Some(State::Suppressed)),
            _ => oracle(m, o, l),
        }
    }

    #[test]
    fn every_transition_with_and_without_a_drain() {
        let mut cases = 0;
        for state in EVERY {
            for counter in -1..=4 {
                for rise in -1..=3 {
                    for fall in -1..=3 {
                        for bits in 0..64u8 {
                            let disabled = bits & 1 != 0;
                            let o = Observation {
                                disabled,
                                ok: bits & 2 != 0 || disabled,
                                drain: bits & 4 != 0,
                                drain_over: bits & 8 != 0,
                                announced: bits & 16 != 0,
                                suppressed: bits & 32 != 0,
                            };
                            let m = Machine { state, counter };
                            let l = Thresholds { rise, fall };
                            let got = m.step(o, l);
                            assert_eq!(
                                (got.next.state, got.next.counter, got.entered),
                                dampening_oracle(m, o, l),
                                "{state} counter {counter} rise {rise} fall {fall} {o:?}"
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 9 * 6 * 5 * 5 * 64);
    }

    #[test]
    fn the_drain_wins_over_every_state_then_drains_then_goes_back_to_init() {
        let limits = Thresholds { rise: 3, fall: 3 };
        for state in ALL {
            let m = Machine { state, counter: 2 };
            for disabled in [false, true] {
                let o = Observation { disabled, ..drain(true, false) };
                assert_eq!(
                    m.step(o, limits),
                    Step { next: Machine { state: State::Draining, counter: 0 }, entered: Some(State::Draining) },
                    "{state} disabled {disabled}"
                );
                // Even with the drain time over already (drain-time 0): DRAINING first.
                assert_eq!(
                    m.step(Observation { disabled, ..drain(true, true) }, limits).entered,
                    Some(State::Draining)
                );
            }
        }
        let draining = Machine { state: State::Draining, counter: 0 };
        assert_eq!(draining.step(drain(true, false), limits), Step { next: draining, entered: None });
        let drained = Machine { state: State::Drained, counter: 0 };
        assert_eq!(draining.step(drain(true, true), limits), Step { next: drained, entered: Some(State::Drained) });
        assert_eq!(drained.step(drain(true, false), limits), Step { next: drained, entered: None });
        assert_eq!(drained.step(drain(true, true), limits), Step { next: drained, entered: None });
        // The drain ends, whatever the check and the disable file say: INIT, counter 0.
        for m in [draining, drained] {
            for (disabled, ok) in [(false, false), (false, true), (true, true)] {
                let o = Observation { drain_over: true, announced: true, ..obs(disabled, ok) };
                assert_eq!(m.step(o, limits), Step { next: Machine::START, entered: Some(State::Init) }, "{m:?}");
            }
        }
        // Nothing announced (INIT at start-up, withdrawn with --withdraw-on-down): DRAINED at once.
        for state in ALL {
            let quiet = Observation { announced: false, ..drain(true, false) };
            let step = Machine { state, counter: 1 }.step(quiet, limits);
            assert_eq!(step, Step { next: drained, entered: Some(State::Drained) }, "{state}");
        }
        // Then it rises as usual (and a disable file still there disables it).
        assert_eq!(Machine::START.step(obs(false, true), limits).entered, Some(State::Rising));
        assert_eq!(Machine::START.step(obs(true, true), limits).entered, Some(State::Disabled));
    }

    #[test]
    fn without_a_drain_the_drain_time_and_the_announced_routes_change_nothing() {
        let limits = Thresholds { rise: 2, fall: 2 };
        for state in ALL {
            for counter in 0..3 {
                for (disabled, ok) in [(false, false), (false, true), (true, true)] {
                    let m = Machine { state, counter };
                    let over = Observation { drain_over: true, announced: true, ..obs(disabled, ok) };
                    assert_eq!(m.step(over, limits), m.step(obs(disabled, ok), limits), "{state} {counter}");
                }
            }
        }
    }

    #[test]
    fn suppression_wins_over_the_checks_until_it_ends_then_init() {
        let limits = Thresholds { rise: 3, fall: 3 };
        let entered = Step { next: Machine { state: State::Suppressed, counter: 0 }, entered: Some(State::Suppressed) };
        // From every state but DISABLED (and the drain's, where the drain is off: they go to
        // INIT first), whatever the check says.
        for state in [State::Init, State::Rising, State::Falling, State::Up, State::Down] {
            for ok in [false, true] {
                assert_eq!(Machine { state, counter: 2 }.step(suppressed(false, ok), limits), entered, "{state} {ok}");
            }
        }
        // It stays, a passing check or not, counter untouched.
        let m = entered.next;
        for ok in [false, true] {
            assert_eq!(m.step(suppressed(false, ok), limits), Step { next: m, entered: None });
        }
        // Over: INIT (that iteration's check does not count), then it rises as usual.
        for ok in [false, true] {
            assert_eq!(m.step(obs(false, ok), limits), Step { next: Machine::START, entered: Some(State::Init) });
        }
        assert_eq!(Machine::START.step(obs(false, true), limits).entered, Some(State::Rising));
    }

    #[test]
    fn the_drain_and_the_disable_file_win_over_suppression() {
        let limits = Thresholds { rise: 2, fall: 2 };
        let m = Machine { state: State::Suppressed, counter: 0 };
        // The drain: DRAINING (or DRAINED with nothing announced); over, INIT.
        let o = Observation { suppressed: true, ..drain(true, false) };
        assert_eq!(m.step(o, limits).entered, Some(State::Draining));
        let o = Observation { suppressed: true, announced: false, ..drain(true, false) };
        assert_eq!(m.step(o, limits).entered, Some(State::Drained));
        let drained = Machine { state: State::Drained, counter: 0 };
        assert_eq!(drained.step(suppressed(false, true), limits).entered, Some(State::Init));
        // Back in INIT and still suppressed: SUPPRESSED again.
        assert_eq!(Machine::START.step(suppressed(false, true), limits).entered, Some(State::Suppressed));
        // The disable file: DISABLED, as today, and it stays while the file does.
        let disabled = m.step(suppressed(true, true), limits);
        assert_eq!(disabled.entered, Some(State::Disabled));
        assert_eq!(disabled.next.step(suppressed(true, true), limits).entered, None);
        // The file gone: INIT as today, SUPPRESSED at the next iteration if still suppressed.
        let init = disabled.next.step(suppressed(false, true), limits);
        assert_eq!(init.entered, Some(State::Init));
        assert_eq!(init.next.step(suppressed(false, true), limits).entered, Some(State::Suppressed));
    }

    #[test]
    fn without_suppression_nothing_changes() {
        // SUPPRESSED aside, the suppressed flag off is exactly the drain's (and the reference's)
        // machine: checked in every_transition_with_and_without_a_drain through the oracles;
        // here the flag on never touches DISABLED nor the drain's states.
        let limits = Thresholds { rise: 2, fall: 2 };
        for state in [State::Disabled, State::Draining, State::Drained] {
            for (disabled, ok) in [(false, false), (false, true), (true, true)] {
                for drain_on in [false, true] {
                    let m = Machine { state, counter: 1 };
                    let plain = Observation { drain: drain_on, announced: true, ..obs(disabled, ok) };
                    let with = Observation { suppressed: true, ..plain };
                    assert_eq!(m.step(with, limits), m.step(plain, limits), "{state} {disabled} {ok} {drain_on}");
                }
            }
        }
    }
}
