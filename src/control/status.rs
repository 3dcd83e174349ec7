//! What `ctl status` shows of a service and of a BFD session: the protocol's records filled
//! from the read-only view (pure: no I/O, handed `now`).

use super::protocol::{self, Checks, LastCheck, Route, ServiceStatus};
use crate::bfd::speaker::SessionView;
use crate::service::stats::Moment;
use crate::service::Service;
use std::time::{SystemTime, UNIX_EPOCH};

/// A BFD session as `status` shows it.
pub fn bfd_status(session: &SessionView) -> protocol::BfdStatus {
    protocol::BfdStatus {
        peer: session.peer.clone(),
        local: session.local.to_string(),
        state: session.state.name().to_owned(),
        remote_state: session.remote_state.name().to_owned(),
        diag: session.diag.to_string(),
        tx_ms: crate::units::millis(session.tx),
        rx_ms: crate::units::millis(session.rx),
        detection_time_ms: session.detection_time.map(crate::units::millis),
        since_seconds: protocol::seconds(session.since),
    }
}

/// RFC 3339 in UTC, to the second (a clock before 1970 shows as 1970).
fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at.max(UNIX_EPOCH)).to_string()
}

/// A service as `status` shows it, at `now`.
pub fn status_of(service: &Service, now: Moment) -> ServiceStatus {
    let stats = service.stats();
    let last_check = stats.last_check.map(|check| LastCheck {
        at: rfc3339(check.at),
        ago_seconds: protocol::seconds(now.wall.duration_since(check.at).unwrap_or_default()),
        ok: check.ok,
        duration_ms: u64::try_from(check.took.as_millis()).unwrap_or(u64::MAX),
    });
    ServiceStatus {
        service: service.label().map(str::to_owned),
        state: service.state().name().to_owned(),
        since: rfc3339(stats.since.wall),
        since_seconds: protocol::seconds(now.mono.saturating_duration_since(stats.since.mono)),
        check: service.cfg().command.is_some() || !service.cfg().checks.is_empty(),
        drain_requested: service.drain_requested(),
        last_check,
        checks: Checks { passed: stats.passed, failed: stats.failed },
        routes: service.announced().map(|(route, med)| Route { route: route.to_string(), med }).collect(),
        dampening: service.penalty(now.mono).map(|penalty| {
            let reuse_at = service.reuse_at();
            protocol::Dampening {
                penalty: penalty.round() as u64,
                reuse_at: reuse_at.map(|at| rfc3339(now.wall_of(at))),
                reuse_in_seconds: reuse_at.map(|at| protocol::seconds(at.saturating_duration_since(now.mono))),
            }
        }),
    }
}
