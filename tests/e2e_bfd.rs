//! End to end with BFD: real ExaBGP 5.0 on two load balancers peering with a real BIRD 2
//! (`protocol bfd { }`, `bfd on;` in each `bgp` protocol), in network namespaces these tests
//! create (tests/common/lab.rs); the plugin on lb1 speaks BFD with the router (`--bfd
//! 10.96.0.1 --bfd-interval 100ms`, multiplier 3), lb2's does not. Both announce the service,
//! lb1 with the lower MED, so lb1's path is the best.
//!
//! The scenario, on the router's own table and BFD sessions: BIRD's BFD session with lb1 comes
//! Up; SIGSTOP of lb1's plugin (found by its pid file) makes BIRD's session go Down within the
//! detection time and a little, and the best path moves to lb2 (BIRD drops lb1's BGP session);
//! SIGCONT brings the session and lb1's path back (`error wait time 1, 2` keeps BIRD's wait
//! short); a SIGTERM (a graceful stop) withdraws, then sends AdminDown: BIRD's session goes Down
//! at once with the diagnostic the plugin logged (its own packets say AdminDown, diag 7).
//!
//! Needs root, `ip`, BIRD 2 and the ExaBGP 5.0 virtualenv (`contrib/run-tests.sh`). Every wait
//! is bounded; the namespaces and every process started are removed (by PID) when the test
//! ends, even when it fails.

mod common;

use common::lab::{self, Lab, RouterKind, Speaker, ROUTER};
use common::{read_pid, signal, wait_every, wait_for, BIN};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

const SERVICE: &str = "37.72.160.80/32";
const WAIT: Duration = Duration::from_secs(30);
/// The plugin's interval and multiplier: BIRD's detection time is 300 ms.
const INTERVAL_MS: u64 = 100;
const DETECTION: Duration = Duration::from_millis(300);

/// BIRD's configuration: [`lab::bird_ibgp`] with BFD on every BGP session, a short error
/// wait, and the BFD sessions' state changes in its log.
fn bird_conf(lbs: usize) -> String {
    let conf =
        lab::bird_ibgp(lbs).replace("    passive on;\n", "    passive on;\n    bfd on;\n    error wait time 1, 2;\n");
    format!("{conf}protocol bfd {{\n    debug {{ states, events }};\n}}\n")
}

/// BIRD's BFD session with `peer`: its line of `show bfd sessions` (empty: none).
fn bfd_session(lab: &Lab, peer: &str) -> String {
    let text = lab.bird().birdc(&["show", "bfd", "sessions"]).unwrap_or_default();
    text.lines().find(|line| line.trim_start().starts_with(peer)).unwrap_or_default().to_owned()
}

fn best(lab: &Lab) -> Option<String> {
    let text = lab.bird().birdc(&["show", "route", SERVICE, "all"]).ok()?;
    common::bird::Paths::parse(&text).best
}

#[test]
fn bird_drops_a_stopped_plugin_within_the_detection_time_and_gets_admin_down_at_a_graceful_stop() {
    let version = "5.0";
    lab::preflight(version, RouterKind::Bird, &[]);
    let mut lab = Lab::new("e2e-bfd", 2);
    lab.start_bird(&bird_conf(2), WAIT);
    let pid_file = lab.dir.file("plugin-lb1.pid");
    let run = |n: usize| {
        let bfd = if n == 1 {
            format!(" --bfd {ROUTER} --bfd-interval {INTERVAL_MS}ms --pid {}", pid_file.display())
        } else {
            String::new()
        };
        format!("{BIN} --no-syslog --name lb{n} --ip {SERVICE} --interval 1 --rise 1 --up-metric {}{bfd}", n * 100)
    };
    lab.start_exabgp(version, |n| Speaker::ibgp(run(n)));
    assert!(wait_for(WAIT, || lab.router().established() == 2), "no BGP sessions with ExaBGP");
    let lb1 = lab::lb_address(1);

    // 1. BIRD's BFD session with lb1's plugin comes Up; lb1's path is the best.
    assert!(
        wait_for(WAIT, || bfd_session(&lab, &lb1).contains("Up")),
        "no BFD session Up: {}",
        bfd_session(&lab, &lb1)
    );
    assert!(wait_for(WAIT, || best(&lab).as_deref() == Some("lb1")), "lb1 is not the best: {:?}", best(&lab));
    let log = lab.log(1);
    assert!(
        log.contains(&format!("BFD {ROUTER}: Init -> Up")) || log.contains(&format!("BFD {ROUTER}: Down -> Up")),
        "{log}"
    );

    // 2. SIGSTOP: BIRD's session goes Down within the detection time (and a little: BIRD's
    // timers, birdc's round trips), and the best path moves to lb2.
    let plugin = read_pid(&pid_file, WAIT);
    let stopped = Instant::now();
    signal(plugin, Signal::SIGSTOP);
    let every = Duration::from_millis(10);
    let down = wait_every(WAIT, every, || !bfd_session(&lab, &lb1).contains("Up"));
    let took_down = stopped.elapsed();
    let moved = wait_every(WAIT, every, || best(&lab).as_deref() == Some("lb2"));
    let took_move = stopped.elapsed();
    signal(plugin, Signal::SIGCONT);
    assert!(down, "BIRD's BFD session stayed Up with the plugin stopped");
    assert!(moved, "the best path did not move to lb2: {:?}", best(&lab));
    eprintln!(
        "SIGSTOP -> BFD Down {:.0} ms, -> best path lb2 {:.0} ms",
        took_down.as_secs_f64() * 1e3,
        took_move.as_secs_f64() * 1e3
    );
    assert!(took_down < DETECTION + Duration::from_millis(400), "BFD Down took {took_down:?}");
    assert!(took_move < DETECTION + Duration::from_millis(700), "the path moved after {took_move:?}");

    // 3. SIGCONT: the session and lb1's path come back.
    assert!(wait_for(WAIT, || bfd_session(&lab, &lb1).contains("Up")), "BFD not Up again: {}", bfd_session(&lab, &lb1));
    assert!(wait_for(WAIT, || best(&lab).as_deref() == Some("lb1")), "lb1 is not the best again: {:?}", best(&lab));

    // 4. A graceful stop: the withdraws, then AdminDown; BIRD's session goes Down at once (not
    // after the detection time), the plugin logged why.
    signal(plugin, Signal::SIGTERM);
    assert!(wait_every(WAIT, every, || !bfd_session(&lab, &lb1).contains("Up")), "BFD stayed Up after SIGTERM");
    assert!(wait_for(WAIT, || lab.log(1).contains("Up -> AdminDown (administratively down)")), "{}", lab.log(1));
    let bird_log = lab.dir.read("bird.log");
    // BIRD's own words: the session expired once (the SIGSTOP), and went from Up to Down twice
    // (the second by the AdminDown, not by its timer).
    let expired = bird_log.matches(&format!("Session to {lb1} expired")).count();
    let downs = bird_log.matches(&format!("Session to {lb1} changed state from Up to Down")).count();
    assert_eq!((expired, downs), (1, 2), "BIRD's log:\n{bird_log}");
}
