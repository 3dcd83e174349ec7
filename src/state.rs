//! The vocabulary of a service's state, shared by everything that speaks of it (the machine in
//! [`crate::service::fsm`], the API lines, the hooks, the metrics, the control socket): the
//! [`State`]s with the reference's names, and the rise/fall [`Thresholds`]. No behaviour here
//! but names.

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
    /// Not the reference's: the drain is on and its `--drain-time` is not over; announced with
    /// the GRACEFUL_SHUTDOWN community, the drain local preference and the down metric.
    Draining,
    /// Not the reference's: the drain is on and its `--drain-time` is over; withdrawn.
    Drained,
    /// Not the reference's (`--dampening`): it flapped too much; announced as DOWN is, whatever
    /// its checks say, until its penalty decays.
    Suppressed,
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
            State::Draining => "DRAINING",
            State::Drained => "DRAINED",
            State::Suppressed => "SUPPRESSED",
        }
    }

    /// Whether it is one of the drain's states (DRAINING, DRAINED).
    pub fn is_drain(self) -> bool {
        matches!(self, State::Draining | State::Drained)
    }

    /// Whether the next check comes after the fast interval.
    pub fn is_transient(self) -> bool {
        matches!(self, State::Rising | State::Falling)
    }

    /// Every state a service can be in, in their order above (the metrics list each one).
    /// `every_state_is_in_all` fails to compile when a state is added and not listed here.
    pub const ALL: [State; 9] = [
        State::Init,
        State::Disabled,
        State::Rising,
        State::Falling,
        State::Up,
        State::Down,
        State::Draining,
        State::Drained,
        State::Suppressed,
    ];
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The hysteresis thresholds. Values of 1 or less mean "at once".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub rise: i64,
    pub fall: i64,
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
            State::Draining => 6,
            State::Drained => 7,
            State::Suppressed => 8,
        };
        for (i, state) in State::ALL.into_iter().enumerate() {
            assert_eq!(place(state), i, "{state}");
        }
    }
}
