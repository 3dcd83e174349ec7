//! Prometheus metrics of the services (`--metrics-file`, `--metrics-listen`): two endpoints of
//! the reactor ([`crate::endpoint`]), the file ([`mod@file`]) and the HTTP listener
//! ([`listen`]), which both show the text that [`text`] renders (pure) from a snapshot of the
//! services taken here. Nothing of this exists when neither flag is given.
//!
//! The `service` label of a service is its section's name, else its `--name`, else
//! [`DEFAULT_LABEL`].

pub mod file;
pub mod listen;
pub mod text;

use crate::bfd::speaker::Board;
use crate::config::ProcessConfig;
use crate::endpoint::{Endpoint, View};
use crate::error::UsageError;
use crate::net::DisplayIp;
use crate::service::Service;
use crate::state::State;
use std::time::{Duration, UNIX_EPOCH};

/// The `service` label of a service with neither a section nor a `--name` (as its syslog tag
/// is `healthcheck`).
pub const DEFAULT_LABEL: &str = "healthcheck";

/// The endpoints `process` asks for, opened now (the listener bound): added to `endpoints`.
/// `bfd`: the BFD speaker's sessions, when it runs.
pub fn open(
    process: &ProcessConfig,
    bfd: Option<Board>,
    endpoints: &mut Vec<Box<dyn Endpoint>>,
) -> Result<(), UsageError> {
    if let Some(addr) = process.metrics_listen {
        endpoints.push(Box::new(listen::Listener::open(addr, bfd.clone())?));
    }
    if let Some(path) = &process.metrics_file {
        endpoints.push(Box::new(file::MetricsFile::new(path.clone(), bfd)));
    }
    Ok(())
}

/// The `service` label of `service`.
pub fn label(service: &Service) -> &str {
    service.label().unwrap_or(DEFAULT_LABEL)
}

/// The metrics of the services in `view` and of the BFD sessions on `bfd`, as text.
pub fn render(view: &View<'_>, bfd: Option<&Board>) -> String {
    let services = view.services().map(sample).collect();
    let replies = view.tally().map(|tally| (tally.done, tally.errors));
    let board = bfd.map(|board| board.borrow());
    let bfd = board.as_deref().map(|snapshot| text::Bfd {
        sessions: snapshot
            .sessions
            .iter()
            .map(|s| text::BfdSession {
                peer: &s.peer,
                state: s.state,
                entered: s.entered,
                sent: s.sent,
                received: s.received,
                detection_time: s.detection_time,
            })
            .collect(),
        dropped: snapshot.dropped.iter().map(|(reason, n)| (*reason, *n)).collect(),
    });
    text::render(&text::Snapshot { version: env!("CARGO_PKG_VERSION"), services, replies, bfd })
}

/// What the metrics show of `service`.
fn sample(service: &Service) -> text::Service<'_> {
    let stats = service.stats();
    // To the millisecond: a float64 of about 1.8e9 holds no more anyway.
    let since = stats.since.wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    let since = Duration::from_millis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
    let timeout = stats.timed_out.min(stats.failed);
    let transitions = State::ALL.into_iter().map(|state| (state, stats.times_entered(state))).collect();
    let routes = service.announced().map(|(route, med)| (route.to_string(), med)).collect();
    let addresses = service
        .addresses()
        .map(|ledger| ledger.presence().map(|(ip, present)| (DisplayIp(ip).to_string(), present)).collect())
        .unwrap_or_default();
    text::Service {
        name: label(service),
        state: service.state(),
        since,
        checks: text::Checks { pass: stats.passed, fail: stats.failed - timeout, timeout },
        durations: &stats.durations,
        transitions,
        announced: stats.announces,
        withdrawn: stats.withdraws,
        routes,
        addresses,
        penalty: service.penalty(std::time::Instant::now()),
    }
}
