//! `--watchdog D`: when the main loop hangs (a debug build's test hook makes SIGUSR1 hang it,
//! as a blocking call would), every service's withdraws are on stdout within D and a little,
//! and the plugin exits 70, so that ExaBGP withdraws and restarts it. A loop that sleeps
//! longer than D between checks is not a hang; a process stopped as a whole (SIGSTOP) is BFD's
//! case, not the watchdog's.

mod common;

use common::{Plugin, BIN};
use std::process::Command;
use std::time::{Duration, Instant};

const UP: &str = "announce route 192.0.2.1/32 next-hop self med 100";
const WITHDRAW: &str = "withdraw route 192.0.2.1/32 next-hop self";

fn plugin(interval: &str) -> Plugin {
    Plugin::start_with(Command::new(BIN).env("EXABGP_HEALTHCHECK_TEST_STALL", "30").args([
        "--no-syslog",
        "--no-ip-setup",
        "--ip",
        "192.0.2.1",
        "--rise",
        "1",
        "--interval",
        interval,
        "--watchdog",
        "1s",
    ]))
}

#[test]
fn a_hung_main_loop_withdraws_and_exits_70_within_the_limit() {
    let mut plugin = plugin("0.2");
    assert!(plugin.wait_lines(1, Duration::from_secs(10)), "{}", plugin.stderr());
    let stalled = Instant::now();
    plugin.signal(10);
    assert!(
        common::wait_for(Duration::from_secs(5), || plugin.lines().last().map(String::as_str) == Some(WITHDRAW)),
        "no withdraw: {:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    let took = stalled.elapsed();
    assert_eq!(plugin.wait_exit(Duration::from_secs(5)), Some(70), "{}", plugin.stderr());
    // The limit runs from the loop's last round, which came before the signal by up to one
    // interval (0.2 s here): the withdraw may come that much under D after the signal, never
    // sooner (991 ms was seen on a loaded machine).
    assert!(took >= Duration::from_millis(750), "before the limit: {took:?}");
    // D and a little: the watchdog looks every D/4 (a loaded machine adds its own delay).
    assert!(took < Duration::from_millis(2500), "the withdraw came {took:?} after the hang began");
    let err = plugin.stderr();
    assert!(err.contains("CRITICAL[healthcheck] the main loop has not come round for"), "{err}");
    assert!(plugin.lines().contains(&UP.to_owned()));
}

#[test]
fn a_long_interval_and_a_stopped_process_are_not_hangs() {
    // Checks 5 s apart: the loop still comes round every half second.
    let mut plugin = plugin("5");
    assert!(plugin.wait_lines(1, Duration::from_secs(10)), "{}", plugin.stderr());
    // Stopped for 3 s, then continued.
    plugin.signal(19);
    std::thread::sleep(Duration::from_secs(3));
    plugin.signal(18);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(plugin.child.try_wait().unwrap(), None, "it exited: {}", plugin.stderr());
    assert!(!plugin.lines().contains(&WITHDRAW.to_owned()), "{:?}", plugin.lines());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn the_watchdog_wants_a_second_or_more() {
    let out = Command::new(BIN).args(["--ip", "192.0.2.1", "--watchdog", "500ms"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--watchdog 500ms: must be at least 1s"));
}
