//! The commands run when a state is entered: the state's own (`--up-execute`, ...) first, then
//! every `--execute`, each through the shell with `STATE=<NAME>` in its environment, output
//! discarded, one after the other. Unlike the reference, each is bounded by `--timeout`.

use crate::config::Hooks;
use crate::proc::Spec;
use crate::state::State;
use std::time::Duration;

/// The hook commands for entering `state`, in the order they run.
pub fn specs(hooks: &Hooks, state: State, timeout: Option<Duration>) -> Vec<Spec> {
    let own: &[String] = match state {
        State::Up => &hooks.up,
        State::Down => &hooks.down,
        State::Disabled => &hooks.disabled,
        _ => &[],
    };
    own.iter()
        .chain(&hooks.any)
        .map(|command| Spec {
            timeout,
            env: vec![("STATE".to_owned(), state.name().to_owned())],
            ..Spec::shell(command.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks() -> Hooks {
        Hooks {
            any: vec!["log-any".into(), "log-any-2".into()],
            up: vec!["on-up".into()],
            down: vec!["on-down".into()],
            disabled: vec!["on-disabled".into()],
        }
    }

    fn commands(state: State) -> Vec<String> {
        specs(&hooks(), state, None).into_iter().map(|s| s.program.to_string()).collect()
    }

    #[test]
    fn own_hooks_first_then_every_execute() {
        assert_eq!(commands(State::Up), ["on-up", "log-any", "log-any-2"]);
        assert_eq!(commands(State::Down), ["on-down", "log-any", "log-any-2"]);
        assert_eq!(commands(State::Disabled), ["on-disabled", "log-any", "log-any-2"]);
        // The drain's states have no hooks of their own: --down-execute is not theirs (the
        // service is healthy), only every --execute runs. Nor has SUPPRESSED: DOWN's hooks ran
        // at the flap that suppressed it.
        for state in [State::Init, State::Rising, State::Falling, State::Draining, State::Drained, State::Suppressed] {
            assert_eq!(commands(state), ["log-any", "log-any-2"], "{state}");
        }
    }

    #[test]
    fn state_in_the_environment_and_bounded_by_the_timeout() {
        let limit = Some(Duration::from_secs(5));
        for spec in specs(&hooks(), State::Rising, limit) {
            assert_eq!(spec.env, [("STATE".to_owned(), "RISING".to_owned())]);
            assert_eq!(spec.timeout, limit);
            assert_eq!(spec.capture, crate::proc::Capture::Discard);
        }
        for (state, name) in
            [(State::Draining, "DRAINING"), (State::Drained, "DRAINED"), (State::Suppressed, "SUPPRESSED")]
        {
            for spec in specs(&hooks(), state, limit) {
                assert_eq!(spec.env, [("STATE".to_owned(), name.to_owned())]);
            }
        }
    }
}
