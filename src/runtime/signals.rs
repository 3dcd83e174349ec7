//! The signals we act on, as a typed event: a thread of their own (signal-hook's iterator) only
//! turns each into [`Signal`] on the event channel and, for the two that stop us, sets a flag
//! that long address work looks at. What a signal does is the reactor's business.

use super::events::{self, Event};
use anyhow::Context;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A signal we listen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: withdraw and exit.
    Terminate,
    /// SIGINT (Ctrl-C): the same.
    Interrupt,
    /// SIGHUP.
    Hangup,
    /// SIGUSR1: log the state.
    User1,
}

impl Signal {
    fn from_raw(raw: i32) -> Option<Signal> {
        match raw {
            SIGTERM => Some(Signal::Terminate),
            SIGINT => Some(Signal::Interrupt),
            SIGHUP => Some(Signal::Hangup),
            SIGUSR1 => Some(Signal::User1),
            _ => None,
        }
    }

    /// Its name, as in the logs (`SIGTERM`).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
            Signal::Hangup => "SIGHUP",
            Signal::User1 => "SIGUSR1",
        }
    }

    /// Whether it stops the process.
    pub fn stops(self) -> bool {
        matches!(self, Signal::Terminate | Signal::Interrupt)
    }
}

/// Start the signal thread: each signal goes to `tx`; `stop` is set by the ones that stop us.
pub fn listen(tx: events::Sender, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1]).context("failed to set up signals")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever().filter_map(Signal::from_raw) {
                if signal.stops() {
                    stop.store(true, Ordering::SeqCst);
                }
                if tx.send(Event::Signal(signal)).is_err() {
                    return;
                }
            }
        })
        .context("failed to start the signal thread")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numbers_become_typed_signals() {
        assert_eq!(Signal::from_raw(SIGTERM), Some(Signal::Terminate));
        assert_eq!(Signal::from_raw(SIGINT), Some(Signal::Interrupt));
        assert_eq!(Signal::from_raw(SIGHUP), Some(Signal::Hangup));
        assert_eq!(Signal::from_raw(SIGUSR1), Some(Signal::User1));
        assert_eq!(Signal::from_raw(0), None);
        assert!(Signal::Terminate.stops() && Signal::Interrupt.stops());
        assert!(!Signal::Hangup.stops() && !Signal::User1.stops());
        assert_eq!(Signal::Interrupt.name(), "SIGINT");
    }
}
