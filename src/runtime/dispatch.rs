//! What the reactor does with an event from another thread: a signal (stop, SIGUSR1's report
//! and check, SIGHUP's reload), what ExaBGP said (its replies, matched to our lines; its
//! `shutdown`), a pipe that closed.

use super::*;

impl Reactor {
    pub(super) fn on_event(&mut self, event: Event) -> Result<(), Stop> {
        match event {
            Event::Signal(signal) => self.on_signal(signal),
            Event::Heard(inbound) => inbound.take().into_iter().try_for_each(|heard| self.on_reply(heard)),
            Event::StdinClosed => {
                log::info!("ExaBGP closed our stdin: it is gone");
                Err(Stop::Exit)
            }
            Event::StdoutClosed(err) => {
                log::info!("ExaBGP no longer reads our stdout ({err}): it is gone");
                Err(Stop::Exit)
            }
        }
    }

    pub(super) fn on_signal(&mut self, signal: Signal) -> Result<(), Stop> {
        match signal {
            Signal::Terminate | Signal::Interrupt => {
                log::info!("received {}, withdrawing and exiting", signal.name());
                Err(Stop::Exit)
            }
            Signal::User1 => {
                test_stall();
                self.generation += 1;
                let now = Instant::now();
                for slot in &mut self.slots {
                    let tally = self.out.tally();
                    logging::scoped(slot.tag.as_ref(), || log::info!("{}", slot.service.report(tally)));
                    slot.service.check_now(now);
                }
                Ok(())
            }
            Signal::Hangup => {
                self.generation += 1;
                self.reload();
                Ok(())
            }
        }
    }

    pub(super) fn on_reply(&mut self, heard: Heard) -> Result<(), Stop> {
        let (reply, text, times, tally) = match heard {
            Heard::Line { reply, text, times, tally } => (reply, text, times, tally),
            Heard::Counted { done, errors, others, shutdown, tally } => {
                log::debug!("exabgp replied: {done} done, {errors} error and {others} other line(s), not one by one");
                if let Some(acks) = self.out.acks.as_mut() {
                    acks.answered_many(done + errors, tally);
                }
                if shutdown {
                    log::info!("ExaBGP is shutting down");
                    return Err(Stop::Exit);
                }
                return Ok(());
            }
            Heard::ErrorFlood(count) => {
                if self.out.acks.is_some() {
                    log::error!("ExaBGP answered error {count} more times in the last second");
                }
                return Ok(());
            }
        };
        for _ in 0..times.min(REPLIES_LOGGED) {
            log::debug!("exabgp replied: {text}");
        }
        if times > REPLIES_LOGGED {
            log::debug!("exabgp replied: {text} ({} more times)", times - REPLIES_LOGGED);
        }
        match reply {
            Reply::Shutdown => {
                log::info!("ExaBGP is shutting down");
                return Err(Stop::Exit);
            }
            Reply::Error(ref message) => {
                let Some(acks) = self.out.acks.as_mut() else { return Ok(()) };
                let line = acks.answered(&reply, tally).unwrap_or_else(|| "(unknown command)".into());
                let reason = message.as_ref().map_or(String::new(), |m| format!(" ({m})"));
                let hint = if tally.done == 0 {
                    "; ExaBGP ignores every command of a process that is not listed in its neighbors' \
                     api { processes [ ... ]; }"
                } else {
                    ""
                };
                log::error!("ExaBGP answered error{reason} to: {line}{hint}");
            }
            Reply::Done => {
                if let Some(acks) = self.out.acks.as_mut() {
                    acks.answered_many(times, tally);
                }
            }
            Reply::Other => {}
        }
        Ok(())
    }
}
