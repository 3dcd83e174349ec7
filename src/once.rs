//! `--once`: run the check one time, as the plugin would, and show the verdict, the check's
//! output and the lines the plugin would send for it. For testing a health script by hand.
//! Nothing is changed on the system. Without a service address (no `--ip`, none on `lo`) the
//! check runs all the same and no line would be sent. Exit status 0 healthy, 1 unhealthy, disabled or draining. With
//! several services, each is checked in turn under its name; 0 only if every one is healthy.
//! With `--user`/`--group` the checks run as the plugin's would: privileges are dropped first
//! (after `lo` is listed), and no capability is kept, since nothing changes addresses here.

use crate::addr::IfAddr;
use crate::config::{ProcessConfig, ServiceConfig};
use crate::exabgp::lines;
use crate::exit;
use crate::med::{self, Med};
use crate::net::Net;
use crate::probe;
use crate::probe::shell::{ended, first_line};
use crate::proc::{self, Capture, Spec};
use crate::service::routes;
use crate::state::State;
use crate::sys;
use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

/// Run `--once` for every service as `process`'s `--user`/`--group`; returns the exit status.
pub fn once(process: &ProcessConfig, services: &[ServiceConfig]) -> anyhow::Result<exit::Code> {
    // What may need root comes first, as in the run: `lo` is listed (for the services without
    // `--ip`) before the switch; a failure to list it is told where the service needs it.
    let mut lo = services.iter().any(|cfg| cfg.nets.is_empty()).then(crate::addr::list_loopback);
    // Nothing changes addresses here: no capability is kept.
    sys::drop_privileges(process.user.as_ref(), process.group.as_ref(), false)?;
    let several = services.len() > 1;
    let mut all_healthy = true;
    for (id, cfg) in services.iter().enumerate() {
        if several {
            let name = cfg.label().map_or_else(|| id.to_string(), str::to_owned);
            crate::say!("[{name}]");
        }
        all_healthy &= check(cfg, &mut lo)?;
    }
    Ok(if all_healthy { exit::Code::Ok } else { exit::Code::Unhealthy })
}

/// The networks `cfg` advertises: its `--ip`s, or those found among `lo`'s addresses, listed
/// beforehand (`Some` whenever a service has no `--ip`); the listing's error, if it failed.
fn networks(cfg: &ServiceConfig, lo: &mut Option<anyhow::Result<Vec<IfAddr>>>) -> anyhow::Result<Vec<Net>> {
    if !cfg.nets.is_empty() {
        return Ok(crate::addr::networks_among(cfg, &[]));
    }
    let listed = lo.take().expect("lo is listed when a service has no --ip")?;
    let nets = crate::addr::networks_among(cfg, &listed);
    *lo = Some(Ok(listed));
    Ok(nets)
}

/// Check one service once and show it (`lo`: its addresses, see [`networks`]); whether it is
/// healthy.
fn check(cfg: &ServiceConfig, lo: &mut Option<anyhow::Result<Vec<IfAddr>>>) -> anyhow::Result<bool> {
    // No address: the check runs all the same (it is what is being tried), and nothing would
    // be sent (the plugin itself would stop at `No IP found`).
    let nets = networks(cfg, lo)?;
    let routes = routes(&nets, cfg.deaggregate, cfg.start_ip);
    let disabled = cfg.disable_file.as_ref().filter(|f| f.exists());
    let draining = cfg.drain_file.as_ref().filter(|f| f.exists());
    let mut measure = Measure::default();
    let (state, healthy) = if let Some(file) = draining {
        crate::say!(
            "draining: {} exists, the check is not run; the routes are withdrawn after {} (DRAINED)",
            file.display(),
            humantime::format_duration(cfg.drain_time)
        );
        (State::Draining, false)
    } else if let Some(file) = disabled {
        crate::say!("disabled: {} exists, the check is not run", file.display());
        (State::Disabled, false)
    } else if cfg.command.is_none() && cfg.checks.is_empty() {
        crate::say!("healthy: no --command given, the service is always up");
        (State::Up, true)
    } else {
        let mut healthy = true;
        if let Some(command) = cfg.command.as_deref() {
            let (ok, took, first) = shell(command, cfg.timeout);
            healthy = ok;
            measure = Measure { took: Some(took), output: Some(first) };
        }
        for url in &cfg.checks {
            let spec = probe::Spec::of(None, std::slice::from_ref(url), cfg.timeout).expect("one check");
            let verdict = probe::run_alone(&spec);
            crate::say!("{}: {} ({})", if verdict.ok { "healthy" } else { "unhealthy" }, url.text, verdict.detail);
            healthy &= verdict.ok;
            // As the plugin runs them, at once: the slowest is the iteration's latency.
            measure.took = measure.took.max(verdict.took);
        }
        (if healthy { State::Up } else { State::Down }, healthy)
    };
    if routes.is_empty() {
        crate::say!("would send nothing: {}", crate::addr::NoIpFound);
        return Ok(healthy);
    }
    let announce = match cfg.med.filter(|_| state == State::Up) {
        Some(policy) => {
            let raise = raised(cfg, policy, routes.len(), &measure);
            Cow::Owned(cfg.announce.raised(raise))
        }
        None => Cow::Borrowed(&cfg.announce),
    };
    crate::say!(
        "would send, once {state} (after {} such checks in a row):",
        match state {
            State::Up => cfg.thresholds.rise.max(1),
            State::Down => cfg.thresholds.fall.max(1),
            _ => 1,
        }
    );
    let mut out = std::io::stdout().lock();
    for line in lines::render(state, &announce, &routes) {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(healthy)
}

/// What the checks measured, for `--metric-from`.
#[derive(Debug, Default)]
struct Measure {
    /// The slowest check's time.
    took: Option<Duration>,
    /// The command's first line of output.
    output: Option<String>,
}

/// The raise of the up metric `--metric-from` makes of one check's `measure`, explained on
/// stderr as the plugin's `--dry-run` does.
fn raised(cfg: &ServiceConfig, policy: med::Policy, routes: usize, measure: &Measure) -> i64 {
    let metric = &cfg.announce.metric;
    let ceiling = med::ceiling(metric.up, metric.down.min(metric.disabled), cfg.announce.increase, routes);
    let mut med = Med::new(policy, ceiling);
    med.observe(measure.took.unwrap_or_default(), measure.output.as_deref());
    let wanted = med.wanted();
    crate::say!("med: {wanted} -> MED {}", metric.up.saturating_add(wanted.raise));
    wanted.raise
}

/// Run the shell check and show its verdict and output; whether it passed, how long it took
/// and its first line of output.
fn shell(command: &str, timeout: Option<Duration>) -> (bool, Duration, String) {
    let spec = Spec { timeout, capture: Capture::Merged, ..Spec::shell(command.to_owned()) };
    let outcome = proc::run_alone(&spec);
    let healthy = outcome.success();
    crate::say!(
        "{}: {command} ({}, {} ms)",
        if healthy { "healthy" } else { "unhealthy" },
        ended(&outcome.status),
        outcome.duration.as_millis()
    );
    let output = String::from_utf8_lossy(&outcome.output);
    if !output.trim().is_empty() {
        crate::say!("output:");
        for line in output.trim_end().lines() {
            crate::say!("  {line}");
        }
        if outcome.dropped > 0 {
            crate::say!("  [{} more bytes not shown]", outcome.dropped);
        }
    }
    (healthy, outcome.duration, first_line(&outcome.output))
}
