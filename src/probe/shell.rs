//! The shell check (`--command`): `/bin/sh -c CMD` through the process runner ([`crate::proc`]),
//! healthy when it exits 0 within the timeout. It logs what the reference logs about a check,
//! in the reference's words (operators alert on them).

use super::{Probe, Verdict};
use crate::poll::Ready;
use crate::proc::{self, Capture, Outcome, Running, Status};
use nix::poll::PollFd;
use std::time::{Duration, Instant};

/// A shell check to start.
#[derive(Debug, Clone)]
pub struct Shell {
    pub command: String,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
}

/// A shell check in flight.
pub struct Check {
    shell: Shell,
    /// `None` once cancelled.
    running: Option<Running>,
}

impl Shell {
    /// Start the command; one that cannot start is a failed verdict at once.
    pub fn start(&self) -> Result<Check, Verdict> {
        log::debug!("Checking command {:?}", self.command);
        let spec =
            proc::Spec { timeout: self.timeout, capture: Capture::Merged, ..proc::Spec::shell(self.command.clone()) };
        match Running::start(&spec) {
            Ok(running) => Ok(Check { shell: self.clone(), running: Some(running) }),
            Err(outcome) => Err(self.judge(&outcome)),
        }
    }

    /// The verdict on `outcome`, logged as the reference logs it.
    fn judge(&self, outcome: &Outcome) -> Verdict {
        let output = String::from_utf8_lossy(&outcome.output).trim().to_owned();
        let duration_ms = crate::units::millis(outcome.duration);
        match &outcome.status {
            Status::Exited(0) => log::debug!(rc = 0, duration_ms; "Command was executed successfully 0 {output}"),
            Status::TimedOut => {
                let limit = self.timeout.map_or(0.0, |t| t.as_secs_f64());
                log::warn!(duration_ms, timeout = limit; "Timeout ({limit}) while running check command {}", self.command);
            }
            other => {
                match other {
                    Status::Exited(rc) => log::warn!(rc, duration_ms; "Check command was unsuccessful: {rc}"),
                    Status::Signaled(signal) => {
                        log::warn!(signal, duration_ms; "Check command was unsuccessful: {}", describe(other))
                    }
                    _ => log::warn!(duration_ms; "Check command was unsuccessful: {}", describe(other)),
                }
                if !output.is_empty() {
                    let more = if outcome.dropped > 0 {
                        format!(" [{} more bytes not shown]", outcome.dropped)
                    } else {
                        String::new()
                    };
                    log::info!("Output of check command: {output}{more}");
                }
            }
        }
        Verdict {
            ok: outcome.success(),
            timed_out: outcome.status == Status::TimedOut,
            detail: format!("{}, {} ms", ended(&outcome.status), outcome.duration.as_millis()),
            took: Some(outcome.duration),
            output: Some(first_line(&outcome.output)),
        }
    }
}

impl Probe for Check {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        if let Some(running) = &self.running {
            running.poll_fds(fds);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.running.as_ref().and_then(Running::deadline)
    }

    fn advance(&mut self, ready: Ready) -> Option<Verdict> {
        let outcome = self.running.as_mut()?.advance(ready)?;
        self.running = None;
        Some(self.shell.judge(&outcome))
    }

    fn cancel(&mut self) {
        if let Some(running) = self.running.take() {
            running.cancel();
        }
    }
}

impl Drop for Check {
    /// A check dropped unfinished takes its process group with it.
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The first line of a command's output, without its line end (empty: no output).
pub fn first_line(output: &[u8]) -> String {
    let line = output.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line).trim_end_matches('\r').to_owned()
}

/// A command's end in words.
pub fn describe(status: &Status) -> String {
    match status {
        Status::Exited(code) => code.to_string(),
        Status::Signaled(signal) => format!("killed by signal {signal}"),
        Status::TimedOut => "timed out".to_owned(),
        Status::Cancelled => "cancelled".to_owned(),
        Status::SpawnFailed(why) => why.clone(),
    }
}

/// How a check ended, for `--dry-run` and `--once`: `exit N`, or what ended it otherwise
/// (`killed by signal 9`, `timed out`).
pub fn ended(status: &Status) -> String {
    match status {
        Status::Exited(code) => format!("exit {code}"),
        other => describe(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &str, timeout_ms: u64) -> Verdict {
        let shell = Shell { command: command.to_owned(), timeout: Some(Duration::from_millis(timeout_ms)) };
        match shell.start() {
            Ok(mut check) => crate::probe::drive_in_test(&mut check),
            Err(verdict) => verdict,
        }
    }

    #[test]
    fn healthy_when_the_command_exits_zero() {
        let verdict = run("exit 0", 5000);
        assert!(verdict.ok);
        assert!(verdict.detail.starts_with("exit 0, "), "{}", verdict.detail);
        let verdict = run("exit 3", 5000);
        assert!(!verdict.ok && !verdict.timed_out, "{verdict:?}");
        assert!(verdict.detail.starts_with("exit 3, "), "{}", verdict.detail);
    }

    #[test]
    fn a_timed_out_command_is_unhealthy() {
        let verdict = run("sleep 30", 200);
        assert!(!verdict.ok && verdict.timed_out, "{verdict:?}");
        assert!(verdict.detail.starts_with("timed out, "), "{}", verdict.detail);
    }

    #[test]
    fn a_command_that_cannot_start_is_unhealthy_at_once() {
        let verdict = run("true\0false", 5000);
        assert!(!verdict.ok);
        assert!(verdict.detail.contains("/bin/sh"), "{}", verdict.detail);
    }

    #[test]
    fn statuses_in_words() {
        assert_eq!(describe(&Status::Exited(2)), "2");
        assert_eq!(describe(&Status::Signaled(9)), "killed by signal 9");
        assert_eq!(ended(&Status::Exited(2)), "exit 2");
        assert_eq!(ended(&Status::Signaled(9)), "killed by signal 9");
        assert_eq!(ended(&Status::TimedOut), "timed out");
    }
}
