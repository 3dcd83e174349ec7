//! Several services in one plugin (`[NAME]` sections of a `--config` file), as ExaBGP runs it:
//! each service's lines, their isolation (one service's hung check and hook do not move
//! another's check times), SIGHUP adding and removing services, the exit withdrawing every
//! service, `--once` and `--dry-run`. No address is touched (`no-ip-setup`).

mod common;

use common::{wait_for, Plugin, Scratch, BIN};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);
const DEFAULTS: &str = "no-syslog\nno-ip-setup\nno-ack\ndebounce\nrise = 1\nfall = 1\ninterval = 0.05\n";

fn start(dir: &Scratch, text: &str) -> Plugin {
    let path = dir.write("services.conf", text);
    Plugin::start(&["--config", path.to_str().unwrap()])
}

fn section(name: &str, ip: &str, command: &str) -> String {
    format!("[{name}]\nip = {ip}\ncommand = {command}\n")
}

#[test]
fn each_service_announces_its_own_state() {
    let dir = Scratch::new("services-lines");
    let text = format!("{DEFAULTS}{}{}", section("web", "192.0.2.1", "true"), section("dns", "192.0.2.53", "false"));
    let mut plugin = start(&dir, &text);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    std::thread::sleep(Duration::from_millis(200));
    let mut lines = plugin.lines();
    lines.sort();
    assert_eq!(
        lines,
        ["announce route 192.0.2.1/32 next-hop self med 100", "announce route 192.0.2.53/32 next-hop self med 1000"]
    );
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck-web] INIT -> UP"), "{err}");
    assert!(err.contains("INFO[healthcheck-dns] INIT -> DOWN"), "{err}");
    assert!(err.contains("WARNING[healthcheck-dns] Check command was unsuccessful: 1"), "{err}");
    // The exit withdraws every service's routes.
    assert_eq!(plugin.stop(), Some(0));
    let lines = plugin.lines();
    let last: Vec<&str> = lines[lines.len() - 2..].iter().map(String::as_str).collect();
    assert_eq!(last, ["withdraw route 192.0.2.1/32 next-hop self", "withdraw route 192.0.2.53/32 next-hop self"]);
}

/// The times (seconds, from `date +%s.%N`) at which a check wrote to `file`.
fn times(dir: &Scratch, file: &str) -> Vec<f64> {
    dir.read(file).lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[test]
fn a_hung_check_and_a_hung_hook_of_one_service_do_not_move_another_s_checks() {
    let dir = Scratch::new("services-isolation");
    let stamps = dir.file("quick.times");
    let quick = format!(
        "{DEFAULTS}interval = 0.1\n{}",
        section("quick", "192.0.2.1", &format!("date +%s.%N >> {}", stamps.display()))
    );
    // The slow one: its check hangs for 1.5 s (under its 3 s timeout); once UP (the first check
    // passes at once), its hook hangs for 1.5 s too; then its checks hang again.
    let slow_flag = dir.file("slow.first");
    let slow_check = format!("test -e {f} && sleep 1.5; touch {f}; true", f = slow_flag.display());
    let slow = format!("{}timeout = 3\nexecute = sleep 1.5\n", section("slow", "192.0.2.2", &slow_check));
    let mut plugin = start(&dir, &format!("{quick}{slow}"));
    assert!(wait_for(LIMIT, || times(&dir, "quick.times").len() >= 40), "{}", plugin.stderr());
    assert!(plugin.stderr().contains("[healthcheck-slow] INIT -> UP"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let quick = times(&dir, "quick.times");
    let gaps: Vec<f64> = quick.windows(2).map(|w| w[1] - w[0]).collect();
    let longest = gaps.iter().copied().fold(0.0, f64::max);
    // Started every 100 ms; a check or hook run in the quick one's way would leave a gap of
    // 1.5 s. A busy machine may add some milliseconds, never a second.
    assert!(longest < 0.4, "a gap of {longest:.3} s between the quick service's checks: {gaps:?}");
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((0.09..0.13).contains(&mean), "the quick service's checks came every {mean:.3} s on average");
}

#[test]
fn a_reload_adds_and_removes_services_and_leaves_the_others_alone() {
    let dir = Scratch::new("services-reload");
    let (a, b, c) =
        (section("a", "192.0.2.1", "true"), section("b", "192.0.2.2", "true"), section("c", "192.0.2.3", "true"));
    let mut plugin = start(&dir, &format!("{DEFAULTS}{a}{b}"));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    dir.write("services.conf", &format!("{DEFAULTS}{b}{c}"));
    plugin.signal(1);
    assert!(
        wait_for(LIMIT, || plugin
            .stderr()
            .contains("configuration reloaded: 2 service(s), 1 added, 0 changed, 1 removed")),
        "{}",
        plugin.stderr()
    );
    assert!(plugin.wait_lines(4, LIMIT), "{:?}", plugin.lines());
    std::thread::sleep(Duration::from_millis(200));
    let lines = plugin.lines();
    let mut first = lines[..2].to_vec();
    first.sort();
    assert_eq!(
        first,
        ["announce route 192.0.2.1/32 next-hop self med 100", "announce route 192.0.2.2/32 next-hop self med 100"]
    );
    // b is unchanged: it sends nothing (with --debounce, and it was not restarted).
    let mut after = lines[2..].to_vec();
    after.sort();
    assert_eq!(
        after,
        ["announce route 192.0.2.3/32 next-hop self med 100", "withdraw route 192.0.2.1/32 next-hop self"],
        "{lines:?}"
    );
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck-a] removed from the configuration: withdrawing"), "{err}");
    assert!(err.contains("INFO[healthcheck-c] added by the new configuration"), "{err}");
    assert_eq!(err.matches("[healthcheck-b] INIT -> UP").count(), 1, "{err}");
    assert_eq!(plugin.stop(), Some(0));
    let mut last = plugin.lines()[4..].to_vec();
    last.sort();
    assert_eq!(last, ["withdraw route 192.0.2.2/32 next-hop self", "withdraw route 192.0.2.3/32 next-hop self"]);
}

#[test]
fn once_checks_every_service_and_is_healthy_only_if_all_are() {
    let dir = Scratch::new("services-once");
    let run = |text: &str| {
        let path = dir.write("services.conf", text);
        Command::new(BIN).args(["--config", path.to_str().unwrap(), "--once"]).output().expect("run --once")
    };
    let healthy =
        run(&format!("no-syslog\n{}{}", section("web", "192.0.2.1", "true"), section("ntp", "192.0.2.123", "true")));
    assert_eq!(healthy.status.code(), Some(0));
    let err = String::from_utf8_lossy(&healthy.stderr);
    assert!(err.starts_with("[web]\nhealthy: true"), "{err}");
    assert!(err.contains("\n[ntp]\nhealthy: true"), "{err}");
    let one_down =
        run(&format!("no-syslog\n{}{}", section("web", "192.0.2.1", "true"), section("ntp", "192.0.2.123", "false")));
    assert_eq!(one_down.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&one_down.stdout),
        "announce route 192.0.2.1/32 next-hop self med 100\nannounce route 192.0.2.123/32 next-hop self med 1000\n"
    );
}

#[test]
fn dry_run_explains_each_service_under_its_name() {
    let dir = Scratch::new("services-dry-run");
    let text = format!("{DEFAULTS}{}{}", section("web", "192.0.2.1", "true"), section("dns", "192.0.2.53", "false"));
    let path = dir.write("services.conf", &text);
    let mut plugin = Plugin::start(&["--config", path.to_str().unwrap(), "--dry-run"]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let err = plugin.stderr();
    assert!(err.contains("dry-run: [web] check #1 passed (exit 0, "), "{err}");
    assert!(err.contains("dry-run: [dns] check #1 failed (exit 1, "), "{err}");
    assert!(err.contains("dry-run: [dns] stopping: DOWN -> EXIT"), "{err}");
}

#[test]
fn a_thousand_services_run_under_a_low_soft_descriptor_limit() {
    let dir = Scratch::new("services-thousand");
    let mut text = String::from("no-syslog\nno-ip-setup\nno-ack\ndebounce\nrise = 1\ninterval = 5\ncommand = true\n");
    for i in 0..1000 {
        text.push_str(&format!("[s{i}]\nip = 10.{}.{}.1\n", i / 256, i % 256));
    }
    let path = dir.write("services.conf", &text);
    // 1,000 checks at once hold some 3,000 descriptors: more than a soft limit of 1,024, which
    // the plugin raises to the hard one.
    let mut command = Command::new("prlimit");
    command.args(["--nofile=1024:8192", "--", BIN, "--config", path.to_str().unwrap()]);
    let mut plugin = Plugin::start_with(&mut command);
    assert!(plugin.wait_lines(1000, Duration::from_secs(120)), "{} lines\n{}", plugin.lines().len(), plugin.stderr());
    let lines = plugin.lines();
    let up = lines.iter().filter(|l| l.ends_with(" med 100")).count();
    assert_eq!(
        up,
        1000,
        "every service UP: {:?}",
        lines.iter().filter(|l| !l.ends_with(" med 100")).collect::<Vec<_>>()
    );
    assert!(!plugin.stderr().contains("Too many open files"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines().iter().filter(|l| l.starts_with("withdraw ")).count(), 1000);
}
