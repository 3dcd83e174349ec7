//! `--once`: run the check one time, as the plugin would, and show the verdict, the check's
//! output and the lines the plugin would send for it. For testing a health script by hand.
//! Nothing is changed on the system. Without a service address (no `--ip`, none on `lo`) the
//! check runs all the same and no line would be sent. Exit status 0 healthy, 1 unhealthy, disabled or draining. With
//! several services, each is checked in turn under its name; 0 only if every one is healthy.

use crate::config::ServiceConfig;
use crate::exabgp::lines;
use crate::exit;
use crate::probe;
use crate::probe::shell::ended;
use crate::proc::{self, Capture, Spec};
use crate::service::routes;
use crate::state::State;
use std::io::Write;

/// Run `--once` for every service; returns the exit status.
pub fn once(services: &[ServiceConfig]) -> anyhow::Result<exit::Code> {
    let several = services.len() > 1;
    let mut all_healthy = true;
    for (id, cfg) in services.iter().enumerate() {
        if several {
            let name = cfg.label().map_or_else(|| id.to_string(), str::to_owned);
            eprintln!("[{name}]");
        }
        all_healthy &= check(cfg)?;
    }
    Ok(if all_healthy { exit::Code::Ok } else { exit::Code::Unhealthy })
}

/// Check one service once and show it; whether it is healthy.
fn check(cfg: &ServiceConfig) -> anyhow::Result<bool> {
    // No address: the check runs all the same (it is what is being tried), and nothing would
    // be sent (the plugin itself would stop at `No IP found`).
    let nets = crate::addr::find_networks(cfg)?;
    let routes = routes(&nets, cfg.deaggregate, cfg.start_ip);
    let disabled = cfg.disable_file.as_ref().filter(|f| f.exists());
    let draining = cfg.drain_file.as_ref().filter(|f| f.exists());
    let (state, healthy) = if let Some(file) = draining {
        eprintln!(
            "draining: {} exists, the check is not run; the routes are withdrawn after {} (DRAINED)",
            file.display(),
            humantime::format_duration(cfg.drain_time)
        );
        (State::Draining, false)
    } else if let Some(file) = disabled {
        eprintln!("disabled: {} exists, the check is not run", file.display());
        (State::Disabled, false)
    } else if cfg.command.is_none() && cfg.checks.is_empty() {
        eprintln!("healthy: no --command given, the service is always up");
        (State::Up, true)
    } else {
        let mut healthy = cfg.command.as_deref().is_none_or(|command| shell(command, cfg.timeout));
        for url in &cfg.checks {
            let spec = probe::Spec::of(None, std::slice::from_ref(url), cfg.timeout).expect("one check");
            let verdict = probe::run_alone(&spec);
            eprintln!("{}: {} ({})", if verdict.ok { "healthy" } else { "unhealthy" }, url.text, verdict.detail);
            healthy &= verdict.ok;
        }
        (if healthy { State::Up } else { State::Down }, healthy)
    };
    if routes.is_empty() {
        eprintln!("would send nothing: {}", crate::addr::NoIpFound);
        return Ok(healthy);
    }
    eprintln!(
        "would send, once {state} (after {} such checks in a row):",
        match state {
            State::Up => cfg.thresholds.rise.max(1),
            State::Down => cfg.thresholds.fall.max(1),
            _ => 1,
        }
    );
    let mut out = std::io::stdout().lock();
    for line in lines::render(state, &cfg.announce, &routes) {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(healthy)
}

/// Run the shell check and show its verdict and output; whether it passed.
fn shell(command: &str, timeout: Option<std::time::Duration>) -> bool {
    let spec = Spec { timeout, capture: Capture::Merged, ..Spec::shell(command.to_owned()) };
    let outcome = proc::run_alone(&spec);
    let healthy = outcome.success();
    eprintln!(
        "{}: {command} ({}, {} ms)",
        if healthy { "healthy" } else { "unhealthy" },
        ended(&outcome.status),
        outcome.duration.as_millis()
    );
    let output = String::from_utf8_lossy(&outcome.output);
    if !output.trim().is_empty() {
        eprintln!("output:");
        for line in output.trim_end().lines() {
            eprintln!("  {line}");
        }
        if outcome.dropped > 0 {
            eprintln!("  [{} more bytes not shown]", outcome.dropped);
        }
    }
    healthy
}
