//! The graceful drain (RFC 8326) as ExaBGP runs the plugin: every line of a drain (the drain
//! file appears: DRAINING's lines with the drain community, local preference and the down
//! metric; the withdraws once the drain time is over, on time and not at the next interval;
//! the file removed: INIT, rising, UP), hooks seeing `STATE=DRAINING` and `STATE=DRAINED`,
//! several services of which only the draining one moves, `--once` on a drain, bad drain values
//! refused, and no drain flag changing nothing. No address is touched (`--no-ip-setup`) but in
//! one test, which runs the plugin in a network namespace of its own (root) for
//! `--dynamic-ip-setup`: the address stays while DRAINING, goes once DRAINED, comes back at UP.

mod common;

use common::netns::Netns;
use common::{wait_for, Plugin, Scratch, BIN};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

const UP_1: &str = "announce route 192.0.2.1/32 next-hop self med 100 community [ 65000:1 ]";
const UP_2: &str = "announce route 2001:db8::1/128 next-hop self med 101 community [ 65000:1 ]";
const DRAINING_1: &str =
    "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65000:1 65535:0 ]";
const DRAINING_2: &str =
    "announce route 2001:db8::1/128 next-hop self med 1001 local-preference 0 community [ 65000:1 65535:0 ]";
const WITHDRAW_1: &str = "withdraw route 192.0.2.1/32 next-hop self";
const WITHDRAW_2: &str = "withdraw route 2001:db8::1/128 next-hop self";

#[test]
fn every_line_of_a_drain_on_time_and_back_up_once_the_file_is_gone() {
    let dir = Scratch::new("drain-lines");
    let drain = dir.file("drain");
    let states = dir.file("states");
    let own = dir.file("own-hooks");
    let execute = format!("echo \"$STATE\" >> {}", states.display());
    let down_execute = format!("echo down >> {}", own.display());
    let disabled_execute = format!("echo disabled >> {}", own.display());
    // An interval (2 s) well above the drain time (0.5 s): DRAINED must not wait for the next
    // check.
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--no-ack",
        "--debounce",
        "--interval",
        "2",
        "--fast-interval",
        "0.05",
        "--rise",
        "2",
        "--ip",
        "192.0.2.1",
        "--ip",
        "2001:db8::1",
        "--community",
        "65000:1",
        "--drain-file",
        drain.to_str().unwrap(),
        "--drain-time",
        "500ms",
        "--execute",
        &execute,
        "--down-execute",
        &down_execute,
        "--disabled-execute",
        &disabled_execute,
    ]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    assert!(plugin.wait_lines(4, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    let draining = Instant::now();
    assert!(plugin.wait_lines(6, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    let took = draining.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(1500),
        "DRAINED came {took:?} after DRAINING (drain time 500 ms, interval 2 s)"
    );
    // DRAINED stays while the file is there (and --debounce writes nothing more).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(plugin.lines().len(), 6, "{:?}", plugin.lines());
    std::fs::remove_file(&drain).unwrap();
    assert!(plugin.wait_lines(8, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines(),
        [UP_1, UP_2, DRAINING_1, DRAINING_2, WITHDRAW_1, WITHDRAW_2, UP_1, UP_2, WITHDRAW_1, WITHDRAW_2]
    );
    let err = plugin.stderr();
    for needle in [
        "INFO[healthcheck] UP -> DRAINING",
        &format!("INFO[healthcheck] draining ({} exists): withdrawing in 500ms", drain.display()),
        "INFO[healthcheck] send announces for DRAINING state to ExaBGP",
        "INFO[healthcheck] DRAINING -> DRAINED",
        "INFO[healthcheck] drain time over: withdrawing",
        "INFO[healthcheck] send announces for DRAINED state to ExaBGP",
        "INFO[healthcheck] DRAINED -> INIT",
        "INFO[healthcheck] drain over: starting again",
        "INFO[healthcheck] INIT -> RISING",
    ] {
        assert!(err.contains(needle), "no {needle:?} in\n{err}");
    }
    assert_eq!(dir.read("states"), "RISING\nUP\nDRAINING\nDRAINED\nINIT\nRISING\nUP\n");
    assert!(!own.exists(), "a state's own hook ran for a drain state: {}", dir.read("own-hooks"));
}

#[test]
fn a_drain_wins_over_disabled_and_without_debounce_each_interval_repeats_its_lines() {
    let dir = Scratch::new("drain-disabled");
    let drain = dir.file("drain");
    let disable = dir.write("disable", "");
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--no-ack",
        "--interval",
        "0.2",
        "--ip",
        "192.0.2.1",
        "--disable",
        disable.to_str().unwrap(),
        "--drain-file",
        drain.to_str().unwrap(),
        "--drain-time",
        "0.5",
        "--drain-community",
        "65535:0 65000:9",
        "--drain-local-preference",
        "7",
    ]);
    let disabled = "announce route 192.0.2.1/32 next-hop self med 500";
    let draining =
        "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 7 community [ 65535:0 65000:9 ]";
    let withdraw = "withdraw route 192.0.2.1/32 next-hop self";
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    // Drained within the limit, after DRAINING's lines at each interval.
    assert!(
        wait_for(LIMIT, || plugin.lines().iter().filter(|l| *l == withdraw).count() >= 2),
        "{:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    std::fs::remove_file(&drain).unwrap();
    // INIT, then DISABLED again: the disable file is still there.
    assert!(
        wait_for(LIMIT, || plugin.stderr().matches("INIT -> DISABLED").count() == 2),
        "{:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    assert!(wait_for(LIMIT, || plugin.lines().last().map(String::as_str) == Some(disabled)), "{:?}", plugin.lines());
    assert_eq!(plugin.stop(), Some(0));
    let lines = plugin.lines();
    // DISABLED's lines, DRAINING's (at least twice: 0.5 s at a 0.2 s interval), the withdraws,
    // DISABLED's again, the exit's withdraw.
    let first = lines.iter().position(|l| l == draining).expect("DRAINING's lines");
    let last = lines.iter().rposition(|l| l == draining).unwrap();
    assert!(last > first && lines[..first].iter().all(|l| l == disabled), "{lines:?}");
    assert!(lines[first..=last].iter().all(|l| l == draining), "{lines:?}");
    let back = lines.iter().rposition(|l| l == disabled).unwrap();
    assert!(back > last + 1 && lines[last + 1..back].iter().all(|l| l == withdraw || l == disabled), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some(withdraw), "{lines:?}");
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck] DISABLED -> DRAINING"), "{err}");
    assert!(err.contains("INFO[healthcheck] DRAINED -> INIT"), "{err}");
}

#[test]
fn a_drain_with_nothing_announced_withdraws_at_once() {
    let dir = Scratch::new("drain-quiet");
    let drain = dir.write("drain", "");
    let down = dir.file("down");
    let check = format!("test ! -e {}", down.display());
    // The drain file there at start-up: nothing was announced, so no DRAINING line.
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--no-ack",
        "--debounce",
        "--rise",
        "1",
        "--fall",
        "1",
        "--interval",
        "0.1",
        "--withdraw-on-down",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--drain-file",
        drain.to_str().unwrap(),
        "--drain-time",
        "30",
    ]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    std::fs::remove_file(&drain).unwrap();
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    // Down and withdrawn (--withdraw-on-down): a drain does not announce the route again.
    std::fs::write(&down, "").unwrap();
    assert!(plugin.wait_lines(3, LIMIT), "{}", plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    assert!(wait_for(LIMIT, || plugin.stderr().contains("DOWN -> DRAINED")), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let withdraw = "withdraw route 192.0.2.1/32 next-hop self";
    assert_eq!(
        plugin.lines(),
        [withdraw, "announce route 192.0.2.1/32 next-hop self med 100", withdraw, withdraw, withdraw]
    );
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck] INIT -> DRAINED"), "{err}");
    assert!(
        err.contains(&format!(
            "INFO[healthcheck] draining ({} exists): nothing announced to drain, withdrawing at once",
            drain.display()
        )),
        "{err}"
    );
    assert!(!err.contains("DRAINING"), "{err}");
}

#[test]
fn of_several_services_only_the_draining_one_moves() {
    let dir = Scratch::new("drain-services");
    let drain_a = dir.file("a.drain");
    let drain_b = dir.file("b.drain");
    let states = dir.file("states");
    let section = |name: &str, ip: &str, drain: &std::path::Path| {
        format!(
            "[{name}]\nip = {ip}\ndrain-file = {}\nexecute = echo \"$STATE\" >> {}.{name}\n",
            drain.display(),
            states.display()
        )
    };
    let text = format!(
        "no-syslog\nno-ip-setup\nno-ack\ndebounce\nrise = 1\ninterval = 0.1\ndrain-time = 0.3\n{}{}",
        section("a", "192.0.2.1", &drain_a),
        section("b", "192.0.2.2", &drain_b)
    );
    let conf = dir.write("services.conf", &text);
    let mut plugin = Plugin::start(&["--config", conf.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    std::fs::write(&drain_a, "").unwrap();
    assert!(plugin.wait_lines(4, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(plugin.lines().len(), 4, "{:?}", plugin.lines());
    assert_eq!(plugin.stop(), Some(0));
    let lines = plugin.lines();
    let mut first = lines[..2].to_vec();
    first.sort();
    assert_eq!(
        first,
        ["announce route 192.0.2.1/32 next-hop self med 100", "announce route 192.0.2.2/32 next-hop self med 100"]
    );
    assert_eq!(
        lines[2..4],
        [
            "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]",
            "withdraw route 192.0.2.1/32 next-hop self",
        ]
    );
    // At the exit both withdraw; b's route was never touched by a's drain.
    let mut last = lines[4..].to_vec();
    last.sort();
    assert_eq!(last, ["withdraw route 192.0.2.1/32 next-hop self", "withdraw route 192.0.2.2/32 next-hop self"]);
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck-a] UP -> DRAINING"), "{err}");
    assert!(err.contains("INFO[healthcheck-a] DRAINING -> DRAINED"), "{err}");
    assert!(!err.contains("[healthcheck-b] UP -> DRAIN"), "{err}");
    assert_eq!(std::fs::read_to_string(format!("{}.a", states.display())).unwrap(), "UP\nDRAINING\nDRAINED\n");
    assert_eq!(std::fs::read_to_string(format!("{}.b", states.display())).unwrap(), "UP\n");
}

#[test]
fn without_drain_flags_nothing_is_new() {
    let dir = Scratch::new("drain-none");
    let check = dir.scripted_check(&[0, 0, 1, 1, 0]);
    let states = dir.file("states");
    let execute = format!("echo \"$STATE\" >> {}", states.display());
    // A file named like a drain file, which nothing names.
    dir.write("drain", "");
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--no-ack",
        "--interval",
        "0.05",
        "--fast-interval",
        "0.05",
        "--rise",
        "2",
        "--fall",
        "2",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--execute",
        &execute,
    ]);
    assert!(dir.wait_finished(LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines(),
        [
            "announce route 192.0.2.1/32 next-hop self med 100",
            "announce route 192.0.2.1/32 next-hop self med 1000",
            "withdraw route 192.0.2.1/32 next-hop self",
        ]
    );
    assert_eq!(dir.read("states"), "RISING\nUP\nFALLING\nDOWN\nRISING\n");
    let err = plugin.stderr();
    assert!(!err.to_lowercase().contains("drain"), "{err}");
}

/// Run to completion with no stdin; (status, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn bad_drain_values_are_refused_with_one_line_and_exit_2() {
    let dir = Scratch::new("drain-bad");
    let conf = dir.write("bad.conf", "no-syslog\n[web]\nip = 192.0.2.1\ndrain-local-preference = -5\n");
    let in_file =
        format!("error: {}:4: --drain-local-preference -5: must be between 0 and 4294967295\n", conf.display());
    for (args, want) in [
        (
            vec!["--drain-community", "graceful"],
            "error: --drain-community \"graceful\": \"graceful\" is not a community (ASN:VALUE, each 0 to 65535)\n"
                .to_owned(),
        ),
        (
            vec!["--drain-community", "65535:0 1:70000"],
            "error: --drain-community \"65535:0 1:70000\": \"1:70000\" is not a community (ASN:VALUE, each 0 to \
             65535)\n"
                .to_owned(),
        ),
        (vec!["--drain-time", "-2"], "error: --drain-time -2: must be a non-negative number of seconds\n".to_owned()),
        (
            vec!["--drain-time", "later"],
            "error: --drain-time later: not a duration (seconds like 5 or 0.5, or 500ms, 2s, 1m)\n".to_owned(),
        ),
        (
            vec!["--drain-local-preference", "-1"],
            "error: --drain-local-preference -1: must be between 0 and 4294967295\n".to_owned(),
        ),
        (vec!["--config", conf.to_str().unwrap()], in_file),
    ] {
        let mut all = vec!["--no-syslog", "--ip", "192.0.2.1"];
        if args[0] == "--config" {
            all.clear();
        }
        all.extend_from_slice(&args);
        let (status, out, err) = run(&all);
        assert_eq!(status, Some(2), "{all:?}: {err}");
        assert!(out.is_empty(), "{all:?}: {out}");
        assert_eq!(err, want, "{all:?}");
    }
}

#[test]
fn once_on_a_drain_shows_draining_s_lines_and_is_not_healthy() {
    let dir = Scratch::new("drain-once");
    let drain = dir.write("drain", "");
    let (status, out, err) = run(&[
        "--once",
        "--ip",
        "192.0.2.1",
        "--cmd",
        "true",
        "--drain-file",
        drain.to_str().unwrap(),
        "--drain-time",
        "3",
    ]);
    assert_eq!(status, Some(1), "{err}");
    assert_eq!(out, "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]\n");
    assert!(
        err.starts_with(&format!(
            "draining: {} exists, the check is not run; the routes are withdrawn after 3s (DRAINED)\n",
            drain.display()
        )),
        "{err}"
    );
}

#[test]
fn with_dynamic_ip_setup_the_address_stays_while_draining_and_goes_once_drained() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test changes addresses in a network namespace: run it as root"
    );
    let ns = Netns::new("drain");
    let dir = Scratch::new("drain-dynamic");
    let drain = dir.file("drain");
    let mut plugin = ns.plugin(&[
        "--no-syslog",
        "--no-ack",
        "--debounce",
        "--rise",
        "1",
        "--interval",
        "0.1",
        "--dynamic-ip-setup",
        "--ip",
        "192.0.2.60",
        "--drain-file",
        drain.to_str().unwrap(),
        "--drain-time",
        "1",
    ]);
    assert!(wait_for(LIMIT, || ns.has("192.0.2.60/32")), "{}", plugin.stderr());
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    // DRAINING: still there, the node still answers.
    assert!(ns.has("192.0.2.60/32"), "the address went while DRAINING:\n{}", plugin.stderr());
    assert!(plugin.wait_lines(3, LIMIT), "{}", plugin.stderr());
    assert!(wait_for(LIMIT, || !ns.has("192.0.2.60/32")), "the address stayed once DRAINED:\n{}", plugin.stderr());
    std::fs::remove_file(&drain).unwrap();
    assert!(plugin.wait_lines(4, LIMIT), "{}", plugin.stderr());
    assert!(wait_for(LIMIT, || ns.has("192.0.2.60/32")), "the address did not come back at UP:\n{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines(),
        [
            "announce route 192.0.2.60/32 next-hop self med 100",
            "announce route 192.0.2.60/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]",
            "withdraw route 192.0.2.60/32 next-hop self",
            "announce route 192.0.2.60/32 next-hop self med 100",
            "withdraw route 192.0.2.60/32 next-hop self",
        ]
    );
    assert!(plugin.stderr().contains("INFO[healthcheck] service drained, deleting setup ips"), "{}", plugin.stderr());
    assert!(!ns.has("192.0.2.60/32"));
}
