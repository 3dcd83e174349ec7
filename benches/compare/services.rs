//! Workload 8: several services. One plugin of ours with N `[NAME]` sections in a `--config`
//! file against N processes of the reference (it has one service per process), every service
//! at `--interval 1 --rise 1 --cmd true`, the same flags otherwise. Once every service has
//! announced, they run for a fixed window; then the total resident memory and the total CPU
//! time over the window, scaled to a minute.

use crate::common::procfs::status_kb;
use crate::common::{signal, wait_every, Scratch};
use crate::procs::{Kind, Programs, Running};
use nix::sys::signal::Signal;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The flags every service of both programs gets (as `--flag` for the reference, as `flag`
/// lines of the config file's defaults for ours).
const FLAGS: [&str; 3] = ["no-syslog", "no-ip-setup", "no-ack"];
const VALUES: [(&str, &str); 3] = [("interval", "1"), ("rise", "1"), ("cmd", "true")];

/// What one run measured, totals over the program's processes.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    /// VmRSS, kB.
    pub rss_kb: f64,
    /// RssAnon, kB.
    pub anon_kb: f64,
    /// Pss (/proc/PID/smaps_rollup): resident memory with each shared page divided between the
    /// processes that map it, kB.
    pub pss_kb: f64,
    /// utime + stime of the plugin processes themselves over the window, per 60 s, ms.
    pub cpu_ms_per_min: f64,
    /// The plugin processes' time on a CPU over the window (the sum of
    /// /proc/PID/task/*/schedstat: nanoseconds, where utime and stime count 10 ms ticks), per
    /// 60 s, ms. A thread that ends within the window takes its time with it.
    pub oncpu_ms_per_min: f64,
    /// The same plus cutime + cstime (the checks the plugins ran and reaped), ms.
    pub cpu_with_checks_ms_per_min: f64,
    /// From spawning the first process to the moment every service had announced, s.
    pub announced_s: f64,
}

/// The address of service `i` (0-based): 192.0.2.1 to .254, then 198.51.100.1 to .254. They
/// are only announced as text (`--no-ip-setup`, and nothing reads the announcements).
pub fn address(i: usize) -> String {
    assert!(i < 2 * 254, "at most 508 services");
    let (net, host) = if i < 254 { ("192.0.2", i + 1) } else { ("198.51.100", i - 253) };
    format!("{net}.{host}/32")
}

/// Ours: the config file with the common flags as defaults and one section per service.
fn config(n: usize) -> String {
    let mut text = String::new();
    for flag in FLAGS {
        let _ = writeln!(text, "{flag}");
    }
    for (key, value) in VALUES {
        let key = if key == "cmd" { "command" } else { key };
        let _ = writeln!(text, "{key} = {value}");
    }
    for i in 0..n {
        let _ = writeln!(text, "[s{}]\nip = {}", i + 1, address(i));
    }
    text
}

/// The reference: the argv of the process for service `i`.
fn reference_args(i: usize) -> Vec<String> {
    let mut args: Vec<String> = FLAGS.iter().map(|f| format!("--{f}")).collect();
    for (key, value) in VALUES {
        args.extend([format!("--{key}"), value.to_owned()]);
    }
    args.extend(["--ip".to_owned(), address(i)]);
    args
}

/// Fields of /proc/PID/stat: (utime + stime, cutime + cstime) in clock ticks.
pub fn ticks(pid: u32) -> (u64, u64) {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return (0, 0) };
    let Some((_, after)) = text.rsplit_once(')') else { return (0, 0) };
    let fields: Vec<u64> = after.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect();
    // After the name and the state: utime(10) stime(11) cutime(12) cstime(13).
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    (get(10) + get(11), get(12) + get(13))
}

/// The sum of the first field of /proc/PID/task/*/schedstat: time on a CPU, ns.
pub fn oncpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|t| t.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

pub fn pss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("Pss:")?.split_whitespace().next()?.parse().ok()))
        .unwrap_or(0)
}

/// One run of `kind` with `n` services for `window` once all have announced.
pub fn services(programs: &Programs, kind: Kind, n: usize, window: Duration) -> Measure {
    let dir = Scratch::new("bench-services");
    let started = Instant::now();
    let plugins: Vec<Running> = match kind {
        Kind::Ours => {
            let path = dir.write("services.conf", &config(n));
            vec![Running::start(&programs.argv(kind, &["--config".to_owned(), path.display().to_string()]))]
        }
        Kind::Reference => (0..n).map(|i| Running::start(&programs.argv(kind, &reference_args(i)))).collect(),
    };
    // Every service's first line: ours, a line for each address; the reference, a line from
    // each process. The reference's start-up is CPU-bound (each process imports ExaBGP), so
    // the limit grows with N.
    let limit = Duration::from_secs(60 + 3 * n as u64);
    let announced = wait_every(limit, Duration::from_millis(20), || match kind {
        Kind::Ours => {
            let lines = plugins[0].lines.lock().expect("lines");
            let seen: HashSet<&str> = lines.iter().filter_map(|(_, l)| l.split_whitespace().nth(2)).collect();
            seen.len() >= n
        }
        Kind::Reference => plugins.iter().all(|p| !p.lines.lock().expect("lines").is_empty()),
    });
    let announced_s = started.elapsed().as_secs_f64();
    if !announced {
        stop(plugins);
        panic!("{kind:?}: {n} services had not all announced within {limit:?}");
    }
    let pids: Vec<u32> = plugins.iter().map(Running::pid).collect();
    let sum = |pids: &[u32]| pids.iter().map(|&p| ticks(p)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let oncpu = |pids: &[u32]| pids.iter().map(|&p| oncpu_ns(p)).sum::<u64>();
    let (before, oncpu_before) = (sum(&pids), oncpu(&pids));
    let from = Instant::now();
    std::thread::sleep(window);
    let (after, oncpu_after) = (sum(&pids), oncpu(&pids));
    let elapsed = from.elapsed().as_secs_f64();
    let kb = |name: &str| pids.iter().map(|&p| status_kb(p, name).unwrap_or(0)).sum::<u64>() as f64;
    let (rss_kb, anon_kb) = (kb("VmRSS"), kb("RssAnon"));
    let pss = pids.iter().map(|&p| pss_kb(p)).sum::<u64>() as f64;
    let alive = plugins.len();
    stop(plugins);
    assert!(rss_kb > 0.0, "{kind:?}: none of the {alive} processes had a VmRSS");
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    let per_min = |t: u64| t as f64 / hz * 1000.0 * 60.0 / elapsed;
    let own = after.0 - before.0;
    let checks = after.1 - before.1;
    Measure {
        rss_kb,
        anon_kb,
        pss_kb: pss,
        cpu_ms_per_min: per_min(own),
        oncpu_ms_per_min: oncpu_after.saturating_sub(oncpu_before) as f64 / 1e6 * 60.0 / elapsed,
        cpu_with_checks_ms_per_min: per_min(own + checks),
        announced_s,
    }
}

/// SIGTERM to every process at once, a bounded wait for all of them, then each handle's drop
/// (SIGKILL for any still there, and the reaping).
fn stop(mut plugins: Vec<Running>) {
    for p in &plugins {
        signal(p.pid(), Signal::SIGTERM);
    }
    wait_every(Duration::from_secs(20), Duration::from_millis(20), || {
        plugins.iter_mut().all(|p| p.child.try_wait().is_ok_and(|s| s.is_some()))
    });
    drop(plugins);
}
