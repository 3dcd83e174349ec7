//! Workloads 1 to 5: one plugin on pipes, nothing else. Both programs get the same flags;
//! `--no-ack` keeps the reference from waiting for replies nobody sends (ours never waits).

use crate::common::procfs::{cpu_seconds, status_kb};
use crate::common::{wait_every, Scratch};
use crate::procs::{helper_exits, mono_ns, Kind, Programs, Running};
use crate::Sample;
use std::time::Duration;

const IP: &str = "192.0.2.1/32";

fn args(list: &[&str]) -> Vec<String> {
    let mut all: Vec<String> =
        ["--no-syslog", "--no-ip-setup", "--no-ack", "--ip", IP].iter().map(|s| (*s).to_owned()).collect();
    all.extend(list.iter().map(|s| (*s).to_owned()));
    all
}

/// Workload 1: Process start to the first API line, `--rise 1`, `--cmd true`. Milliseconds.
pub fn startup(programs: &Programs, kind: Kind) -> Sample {
    let argv = programs.argv(kind, &args(&["--rise", "1", "--interval", "60", "--cmd", "true"]));
    let plugin = Running::start(&argv);
    let first = plugin.wait_lines(1, Duration::from_secs(30)).expect("no first line within 30 s");
    Sample::one((first[0].0 - plugin.started_ns) as f64 / 1e6)
}

/// Workloads 2 and 3: At a fast interval with `--cmd true`: resident memory after 1,000 checks (kB),
/// all of it (VmRSS) and the anonymous part (RssAnon: what the process allocated, without the
/// mapped program and libraries), and the plugin's own CPU time (user + system, children
/// excluded) per 1,000 checks, counted from the 100th check to the 1,100th so that start-up is
/// left out (ms).
pub fn memory_and_cpu(programs: &Programs, kind: Kind) -> (Sample, Sample, Sample) {
    let argv = programs.argv(kind, &args(&["--rise", "1", "--interval", "0.01", "--cmd", "true"]));
    let plugin = Running::start(&argv);
    let limit = Duration::from_secs(300);
    plugin.wait_lines(100, limit).expect("fewer than 100 checks in 300 s");
    let cpu_before = cpu_seconds(plugin.pid());
    plugin.wait_lines(1000, limit).expect("fewer than 1,000 checks in 300 s");
    let rss = status_kb(plugin.pid(), "VmRSS").unwrap_or(0);
    let anon = status_kb(plugin.pid(), "RssAnon").unwrap_or(0);
    plugin.wait_lines(1100, limit).expect("fewer than 1,100 checks in 300 s");
    let cpu = cpu_seconds(plugin.pid()) - cpu_before;
    (Sample::one(rss as f64), Sample::one(anon as f64), Sample::one(cpu * 1000.0))
}

/// Workload 4: Check exit to the API line it causes: a check that passes and fails in turn, `--rise 1
/// --fall 1 --debounce`, so that each check makes exactly one line. Milliseconds, one sample
/// per transition.
pub fn reaction(programs: &Programs, kind: Kind, transitions: usize) -> Sample {
    let dir = Scratch::new("bench-reaction");
    let check = programs.check("toggle", &dir.path);
    let argv = programs.argv(
        kind,
        &args(&["--rise", "1", "--fall", "1", "--debounce", "--interval", "0.05", "--fast-interval", "0.05"]),
    );
    let mut argv = argv;
    argv.extend(["--cmd".to_owned(), check]);
    let plugin = Running::start(&argv);
    let lines = plugin.wait_lines(transitions, Duration::from_secs(300)).expect("too few transitions in 300 s");
    drop(plugin);
    let exits = helper_exits(&dir.path);
    let mut values = Vec::new();
    for (i, (at, line)) in lines.iter().enumerate() {
        let Some((code, exited)) = exits.get(i) else { break };
        // The line must be the one this check caused: UP after a pass, DOWN after a fail.
        let expected = if *code == 0 { "med 100" } else { "med 1000" };
        assert!(line.ends_with(expected), "{kind:?}: line {i} {line:?} after exit {code}");
        values.push((at - exited) as f64 / 1e6);
    }
    Sample { values }
}

/// Workload 5: `--interval 0.1` with a check that takes 50 ms: the periods between check starts, over
/// `checks` checks. Milliseconds.
pub fn schedule(programs: &Programs, kind: Kind, checks: usize) -> Sample {
    let dir = Scratch::new("bench-schedule");
    let mut argv = programs.argv(kind, &args(&["--rise", "1", "--interval", "0.1"]));
    argv.extend(["--cmd".to_owned(), programs.check("sleep50", &dir.path)]);
    let plugin = Running::start(&argv);
    let path = dir.path.join("starts");
    let read = || -> Vec<i64> {
        std::fs::read_to_string(&path).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
    };
    assert!(
        wait_every(Duration::from_secs(120), Duration::from_millis(20), || read().len() > checks),
        "{kind:?}: fewer than {checks} checks in 120 s"
    );
    drop(plugin);
    let starts = read();
    Sample { values: starts.windows(2).take(checks).map(|w| (w[1] - w[0]) as f64 / 1e6).collect() }
}

/// The part of the reaction latency no plugin can avoid: the harness runs the same check
/// helper itself, waits for it, and takes the time from the helper's logged exit to the moment
/// its own `wait()` returns. Milliseconds, `samples` of them.
pub fn reaction_floor(programs: &Programs, samples: usize) -> Sample {
    let dir = Scratch::new("bench-floor");
    let mut values = Vec::with_capacity(samples);
    for _ in 0..samples {
        let status = std::process::Command::new(&programs.helper)
            .args(["helper", "toggle"])
            .arg(&dir.path)
            .status()
            .expect("run the helper");
        let reaped = mono_ns();
        assert!(status.code().is_some(), "the helper died: {status}");
        let exited = helper_exits(&dir.path).last().expect("the helper logged its exit").1;
        values.push((reaped - exited) as f64 / 1e6);
        std::thread::sleep(Duration::from_millis(5));
    }
    Sample { values }
}
