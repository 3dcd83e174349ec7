//! The ExaBGP process API, all of it: the lines we write ([`lines`]), the replies we read
//! ([`reply`]), the one count of its answers ([`answers`]), the paced pipes that carry them
//! ([`pipe`]) and what was read and not handled yet, within bounds ([`inbound`]).

pub mod answers;
pub mod inbound;
pub mod lines;
pub mod pipe;
pub mod reply;

use answers::{Acks, Tally};
use pipe::{Ticket, Writer};
use std::time::Duration;

/// Where every line to ExaBGP goes: the paced writer, and, while ExaBGP acknowledges, the
/// lines that wait for its answer.
pub struct Outbox {
    pub writer: Writer,
    /// `None` with `--no-ack` or `--dry-run`: answers are not matched to lines.
    pub acks: Option<Acks>,
}

impl Outbox {
    /// Send one line (without its newline); where it stands in the queue.
    pub fn send(&mut self, line: String) -> Ticket {
        log::debug!("exabgp: {line}");
        if let Some(acks) = self.acks.as_mut() {
            acks.sent(&line);
        }
        self.writer.send(line)
    }

    /// Whether the line of `ticket` has been written.
    pub fn finished(&self, ticket: Ticket) -> bool {
        self.writer.finished(ticket)
    }

    /// Lines queued and not written yet: more than zero means ExaBGP stopped reading.
    pub fn backlog(&self) -> usize {
        self.writer.backlog()
    }

    /// Wait, `limit` at most, until every line is written; whether they all were.
    pub fn flush(&self, limit: Duration) -> bool {
        self.writer.flush(limit)
    }

    /// The count of ExaBGP's answers, when they are matched to lines.
    pub fn tally(&self) -> Option<Tally> {
        self.acks.as_ref().map(|acks| acks.tally)
    }
}
