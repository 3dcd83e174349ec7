//! BFD under load: the plugin at its default BFD timers (300 ms x 3: BIRD's detection time
//! 900 ms) inside real ExaBGP 5.0 with a real BIRD 2 (`protocol bfd { }`, `bfd on;`), in
//! network namespaces this test creates (tests/common/lab.rs), while every core of the machine
//! runs a busy loop (one `sh -c 'while :; do :; done'` per core, at the same priority as
//! everything else) for a minute (the machine's idle time under 5 %, /proc/stat). No BFD session may go Down: BIRD's session with the plugin
//! is Up all along and since the same time (`show bfd sessions`, asked every second), BIRD's log
//! has no state change of it, the plugin's log no transition after its first Up and no failed
//! send, and the BGP session stays established.
//!
//! Needs root, `ip`, `sh`, BIRD 2 and the ExaBGP 5.0 virtualenv (`contrib/run-tests.sh`). About
//! 70 s. Every wait is bounded; the busy loops are killed by PID when the test ends, even when
//! it fails, and the namespaces and the lab's processes are removed.

mod common;

use common::lab::{self, Lab, RouterKind, Speaker, ROUTER};
use common::{wait_for, BIN};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVICE: &str = "37.72.160.81/32";
const WAIT: Duration = Duration::from_secs(30);
/// How long the cores are kept busy.
const LOAD: Duration = Duration::from_secs(60);

/// One busy loop per core; killed (SIGKILL, by PID) and reaped on drop.
struct Burners {
    children: Vec<Child>,
}

impl Burners {
    fn start(count: usize) -> Burners {
        let mut burners = Burners { children: Vec::new() };
        for _ in 0..count {
            let child = Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start a busy loop (sh)");
            burners.children.push(child);
        }
        burners
    }

    /// Their CPU time so far, in seconds.
    fn cpu_seconds(&self) -> f64 {
        self.children.iter().map(|child| common::procfs::cpu_seconds(child.id())).sum()
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The machine's CPU time so far from /proc/stat's `cpu` line, in ticks: (idle, total), idle
/// counting iowait.
fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with("cpu ")).unwrap_or_default();
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (idle, fields.iter().take(8).sum())
}

/// BIRD's configuration: [`lab::bird_ibgp`] with BFD on the BGP session and the BFD session's
/// state changes in its log.
fn bird_conf() -> String {
    let conf = lab::bird_ibgp(1).replace("    passive on;\n", "    passive on;\n    bfd on;\n");
    format!("{conf}protocol bfd {{\n    debug {{ states, events }};\n}}\n")
}

/// BIRD's BFD session with `peer`: its line of `show bfd sessions` (`IP IFACE STATE SINCE
/// INTERVAL TIMEOUT`), or why BIRD did not answer.
fn bfd_session(lab: &Lab, peer: &str) -> String {
    match lab.bird().birdc(&["show", "bfd", "sessions"]) {
        Ok(text) => text.lines().find(|line| line.trim_start().starts_with(peer)).unwrap_or_default().to_owned(),
        Err(err) => err,
    }
}

/// The state and the since columns of a `show bfd sessions` line.
fn state_and_since(line: &str) -> (String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    (words.get(2).copied().unwrap_or_default().to_owned(), words.get(3).copied().unwrap_or_default().to_owned())
}

#[test]
fn no_bfd_session_goes_down_while_every_core_is_busy_for_a_minute() {
    let version = "5.0";
    lab::preflight(version, RouterKind::Bird, &["sh"]);
    let mut lab = Lab::new("e2e-bfd-load", 1);
    lab.start_bird(&bird_conf(), WAIT);
    let run = format!("{BIN} --no-syslog --name lb1 --ip {SERVICE} --interval 1 --rise 1 --cmd true --bfd {ROUTER}");
    lab.start_exabgp(version, |_| Speaker::ibgp(run.clone()));
    assert!(wait_for(WAIT, || lab.router().established() == 1), "no BGP session with ExaBGP");
    let lb1 = lab::lb_address(1);
    assert!(
        wait_for(WAIT, || state_and_since(&bfd_session(&lab, &lb1)).0 == "Up"),
        "no BFD session Up: {}",
        bfd_session(&lab, &lb1)
    );
    // Past the Poll sequence that follows Up (the intervals go from 1 s to 300 ms).
    std::thread::sleep(Duration::from_secs(3));
    let (state, since) = state_and_since(&bfd_session(&lab, &lb1));
    assert_eq!(state, "Up", "{}", bfd_session(&lab, &lb1));
    let plugin_log = |lab: &Lab| lab.log(1);
    let ups_before = plugin_log(&lab).matches(&format!("BFD {ROUTER}: ")).count();

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let burners = Burners::start(cores);
    let started = Instant::now();
    let machine_before = machine_ticks();
    let mut seen = Vec::new();
    for _ in 0..LOAD.as_secs() {
        std::thread::sleep(Duration::from_secs(1));
        let line = bfd_session(&lab, &lb1);
        if state_and_since(&line) != (state.clone(), since.clone()) {
            seen.push(format!("{:.1} s: {line}", started.elapsed().as_secs_f64()));
        }
    }
    let burned = burners.cpu_seconds();
    let loaded = started.elapsed();
    let machine_after = machine_ticks();
    drop(burners);
    let idle = (machine_after.0 - machine_before.0) as f64 / (machine_after.1 - machine_before.1).max(1) as f64;
    eprintln!(
        "{cores} busy loops for {:.1} s used {burned:.1} s of CPU, the machine was idle {:.1} % of the time; \
         BIRD's session with lb1: {}",
        loaded.as_secs_f64(),
        idle * 100.0,
        bfd_session(&lab, &lb1)
    );

    assert!(seen.is_empty(), "BIRD's BFD session with lb1 changed under load:\n{}", seen.join("\n"));
    let bird_log = lab.dir.read("bird.log");
    let changes: Vec<&str> =
        bird_log.lines().filter(|l| l.contains(&format!("Session to {lb1} changed state from Up"))).collect();
    assert!(changes.is_empty(), "BIRD's log:\n{}", changes.join("\n"));
    let log = plugin_log(&lab);
    let transitions = log.matches(&format!("BFD {ROUTER}: ")).count();
    assert_eq!(transitions, ups_before, "the plugin's BFD lines changed under load:\n{log}");
    assert!(!log.contains("failed to send"), "{log}");
    assert_eq!(lab.router().established(), 1, "the BGP session did not stay up");
    // The load was real: every core busy (with the busy loops, or with whatever else the
    // machine ran: on a shared machine they get less, and the cores are no less saturated).
    assert!(idle < 0.05, "the machine was idle {:.1} % of the time under the busy loops", idle * 100.0);
}
