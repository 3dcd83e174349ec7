//! The binary as ExaBGP runs it: exact lines for scripted check results, hooks, the ways it
//! stops (SIGTERM, ExaBGP's shutdown, stdin or stdout closing, `--interval 0`), replies, bad
//! input, `--once`, `--dry-run` and the pid file. No address is touched here (`--no-ip-setup`);
//! `tests/addresses.rs` does that in network namespaces.

mod common;

use common::procfs::alive;
use common::{read_pid, wait_for, Plugin, Scratch, BIN};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FAST: [&str; 6] = ["--no-syslog", "--no-ip-setup", "--interval", "0.05", "--fast-interval", "0.05"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all: Vec<&str> = FAST.to_vec();
    all.extend_from_slice(extra);
    all
}

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn golden_lines_for_a_scripted_sequence() {
    let dir = Scratch::new("golden");
    let check = dir.scripted_check(&[0, 0, 0, 1, 1, 1, 0]);
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "2",
        "--fall",
        "2",
        "--ip",
        "192.0.2.1",
        "--ip",
        "2001:db8::1",
        "--cmd",
        &check,
    ]));
    assert!(dir.wait_finished(LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines(),
        [
            "announce route 192.0.2.1/32 next-hop self med 100",
            "announce route 2001:db8::1/128 next-hop self med 101",
            "announce route 192.0.2.1/32 next-hop self med 100",
            "announce route 2001:db8::1/128 next-hop self med 101",
            "announce route 192.0.2.1/32 next-hop self med 1000",
            "announce route 2001:db8::1/128 next-hop self med 1001",
            "announce route 192.0.2.1/32 next-hop self med 1000",
            "announce route 2001:db8::1/128 next-hop self med 1001",
            "withdraw route 192.0.2.1/32 next-hop self",
            "withdraw route 2001:db8::1/128 next-hop self",
        ]
    );
    let err = plugin.stderr();
    assert!(err.contains("WARNING[healthcheck] Check command was unsuccessful: 1"), "{err}");
    assert!(err.contains("INFO[healthcheck] send announces for UP state to ExaBGP"), "{err}");
}

#[test]
fn withdraw_on_down_debounce_and_attributes() {
    let dir = Scratch::new("wod");
    let check = dir.scripted_check(&[0, 0, 1, 1, 0]);
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "1",
        "--fall",
        "1",
        "--withdraw-on-down",
        "--debounce",
        "--ip",
        "192.0.2.1",
        "--community",
        "65000:1",
        "--as-path",
        "65001",
        "--path-id",
        "2",
        "--neighbor",
        "192.0.2.254",
        "--cmd",
        &check,
    ]));
    assert!(dir.wait_finished(LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let sel = "neighbor 192.0.2.254 ";
    assert_eq!(
        plugin.lines(),
        [
            format!("{sel}announce route 192.0.2.1/32 next-hop self med 100 community [ 65000:1 ] as-path [ 65001 ] path-information 2"),
            format!("{sel}withdraw route 192.0.2.1/32 next-hop self path-information 2"),
            format!("{sel}announce route 192.0.2.1/32 next-hop self med 100 community [ 65000:1 ] as-path [ 65001 ] path-information 2"),
            format!("{sel}withdraw route 192.0.2.1/32 next-hop self path-information 2"),
        ]
    );
}

#[test]
fn hooks_run_with_the_state_before_the_lines() {
    let dir = Scratch::new("hooks");
    let check = dir.scripted_check(&[0, 1]);
    let log = dir.file("hooks.log");
    let any = format!("echo \"any $STATE\" >> {}", log.display());
    let up = format!("echo \"up $STATE\" >> {}", log.display());
    let down = format!("echo \"down $STATE\" >> {}", log.display());
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "1",
        "--fall",
        "1",
        "--ip",
        "192.0.2.1",
        "--execute",
        &any,
        "--up-execute",
        &up,
        "--down-execute",
        &down,
        "--cmd",
        &check,
    ]));
    assert!(dir.wait_finished(LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "up UP\nany UP\ndown DOWN\nany DOWN\n");
}

#[test]
fn a_hanging_hook_is_bounded_by_the_timeout() {
    let dir = Scratch::new("hookhang");
    let check = dir.scripted_check(&[0]);
    let started = Instant::now();
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "1",
        "--timeout",
        "300ms",
        "--ip",
        "192.0.2.1",
        "--up-execute",
        "sleep 30",
        "--cmd",
        &check,
    ]));
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(dir.wait_finished(LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    assert!(plugin.stderr().contains("hook for UP timed out"), "{}", plugin.stderr());
}

#[test]
fn sigterm_in_the_middle_of_a_long_check_withdraws_at_once_and_kills_the_check() {
    let dir = Scratch::new("term");
    let pidfile = dir.file("check.pid");
    let check = format!("echo $$ > {}; exec sleep 30", pidfile.display());
    let mut plugin = Plugin::start(&args(&["--rise", "1", "--timeout", "60", "--ip", "192.0.2.1", "--cmd", &check]));
    let check_pid = read_pid(&pidfile, LIMIT);
    assert!(alive(check_pid));
    let asked = Instant::now();
    assert_eq!(plugin.stop(), Some(0));
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(plugin.lines(), ["withdraw route 192.0.2.1/32 next-hop self"]);
    assert!(wait_for(Duration::from_secs(5), || !alive(check_pid)), "check {check_pid} left behind");
}

#[test]
fn sigint_behaves_like_sigterm() {
    let mut plugin = Plugin::start(&args(&["--rise", "1", "--ip", "192.0.2.1"]));
    assert!(plugin.wait_lines(1, LIMIT));
    plugin.signal(2);
    assert_eq!(plugin.wait_exit(LIMIT), Some(0));
    assert_eq!(plugin.lines().last().map(String::as_str), Some("withdraw route 192.0.2.1/32 next-hop self"));
}

#[test]
fn stdin_closing_means_exabgp_is_gone() {
    let mut plugin = Plugin::start(&args(&["--rise", "1", "--interval", "60", "--ip", "192.0.2.1"]));
    assert!(plugin.wait_lines(1, LIMIT));
    drop(plugin.stdin.take());
    assert_eq!(plugin.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(plugin.stderr().contains("ExaBGP closed our stdin"), "{}", plugin.stderr());
}

#[test]
fn exabgp_shutdown_line_ends_it_in_text_and_json() {
    for shutdown in ["shutdown 1234 1", r#"{ "exabgp": "5.0.0", "type": "notification", "notification": "shutdown" }"#]
    {
        let mut plugin = Plugin::start(&args(&["--rise", "1", "--interval", "60", "--ip", "192.0.2.1"]));
        assert!(plugin.wait_lines(1, LIMIT));
        plugin.say("done");
        plugin.say("");
        plugin.say(shutdown);
        assert_eq!(plugin.wait_exit(Duration::from_secs(5)), Some(0), "{shutdown}");
        assert_eq!(
            plugin.lines(),
            ["announce route 192.0.2.1/32 next-hop self med 100", "withdraw route 192.0.2.1/32 next-hop self"]
        );
    }
}

#[test]
fn a_closed_stdout_ends_it_without_a_panic() {
    let mut child = Command::new(BIN)
        .args(args(&["--rise", "1", "--interval", "0.05", "--ip", "192.0.2.1"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running with stdout closed");
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("no longer reads our stdout"), "{err}");
}

#[test]
fn error_replies_are_logged_with_the_line_and_the_likely_cause() {
    let mut plugin = Plugin::start(&args(&["--rise", "1", "--interval", "60", "--ip", "192.0.2.1"]));
    assert!(plugin.wait_lines(1, LIMIT));
    plugin.say("error");
    assert!(wait_for(LIMIT, || plugin.stderr().contains("ExaBGP answered error")));
    let err = plugin.stderr();
    assert!(err.contains("ERROR[healthcheck] ExaBGP answered error to: announce route 192.0.2.1/32"), "{err}");
    assert!(err.contains("api { processes"), "{err}");
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn it_never_waits_for_acknowledgements() {
    // Acks on (the default) and ExaBGP never answering (exabgp.api.ack=false): the checks and
    // the lines go on.
    let dir = Scratch::new("noack");
    let check = dir.scripted_check(&[0, 0, 1, 1]);
    let mut plugin = Plugin::start(&args(&["--rise", "1", "--fall", "1", "--ip", "192.0.2.1", "--cmd", &check]));
    assert!(dir.wait_finished(LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines().len(), 5);
}

#[test]
fn interval_zero_exits_after_the_first_announcement_without_withdrawing() {
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--interval",
        "0",
        "--fast-interval",
        "0.05",
        "--rise",
        "2",
        "--ip",
        "192.0.2.1",
    ]);
    assert_eq!(plugin.wait_exit(LIMIT), Some(0));
    assert_eq!(plugin.lines(), ["announce route 192.0.2.1/32 next-hop self med 100"]);
    assert!(plugin.stderr().contains("interval set to zero, exiting after the announcement"));
}

#[test]
fn the_disable_file_announces_the_disabled_metric() {
    let dir = Scratch::new("disable");
    let flag = dir.file("disabled");
    std::fs::write(&flag, "").unwrap();
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "1",
        "--ip",
        "192.0.2.1",
        "--disabled-metric",
        "777",
        "--disable",
        flag.to_str().unwrap(),
    ]));
    assert!(plugin.wait_lines(1, LIMIT));
    std::fs::remove_file(&flag).unwrap();
    assert!(wait_for(LIMIT, || plugin.lines().iter().any(|l| l.ends_with("med 100"))));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 777");
}

#[test]
fn a_check_that_cannot_run_or_dies_by_signal_is_a_failure_not_a_crash() {
    for check in ["/nonexistent/check", "kill -9 $$"] {
        let mut plugin = Plugin::start(&args(&["--rise", "1", "--fall", "1", "--ip", "192.0.2.1", "--cmd", check]));
        assert!(plugin.wait_lines(2, LIMIT), "{check}: {}", plugin.stderr());
        assert_eq!(plugin.stop(), Some(0));
        assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 1000", "{check}");
    }
}

#[test]
fn a_timed_out_check_fails_with_the_references_message() {
    let mut plugin = Plugin::start(&args(&[
        "--rise",
        "1",
        "--fall",
        "1",
        "--timeout",
        "200ms",
        "--ip",
        "192.0.2.1",
        "--cmd",
        "sleep 5",
    ]));
    assert!(plugin.wait_lines(1, LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 1000");
    assert!(plugin.stderr().contains("Timeout (0.2) while running check command sleep 5"), "{}", plugin.stderr());
}

#[test]
fn pid_file_is_written_and_removed() {
    let dir = Scratch::new("pid");
    let pidfile = dir.file("hc.pid");
    let mut plugin = Plugin::start(&args(&["--ip", "192.0.2.1", "--pid", pidfile.to_str().unwrap()]));
    let pid = read_pid(&pidfile, LIMIT);
    assert_eq!(pid, plugin.child.id());
    assert_eq!(plugin.stop(), Some(0));
    assert!(!pidfile.exists());
}

#[test]
fn config_file_and_command_line_together() {
    let dir = Scratch::new("config");
    let conf = dir.write(
        "hc.conf",
        "# the web service\nrise = 1\nno-ip-setup\nno-syslog\nip = 192.0.2.1\nup-metric = 50\ninterval = 0.05\n",
    );
    let mut plugin = Plugin::start(&["--config", conf.to_str().unwrap(), "--ip", "192.0.2.2", "--up-metric", "60"]);
    assert!(plugin.wait_lines(2, LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines()[..2],
        ["announce route 192.0.2.1/32 next-hop self med 60", "announce route 192.0.2.2/32 next-hop self med 61"]
    );
}

/// Run to completion with no stdin; (status, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn bad_input_is_refused_with_one_line_exit_2_and_nothing_on_stdout() {
    let dir = Scratch::new("bad");
    let conf = dir.write("bad.conf", "debug\n\nrise = often\n");
    let conf_arg = conf.to_str().unwrap().to_owned();
    let pidfile = dir.file("never.pid");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["--rise", "x"], "--rise".into()),
        (vec!["--frobnicate"], "--frobnicate".into()),
        (vec!["--ip", "192.0.2.1/24"], "--ip 192.0.2.1/24".into()),
        (vec!["--interval", "-1"], "--interval".into()),
        (vec!["--community", "1:1\nannounce route 0.0.0.0/0 next-hop self"], "--community".into()),
        (vec!["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.9%eth0"], "--ip-ifname".into()),
        (vec!["--config", &conf_arg], format!("{}:3:", conf.display())),
        (vec!["--config", "/nonexistent.conf"], "--config /nonexistent.conf".into()),
        (vec!["--silent", "--no-syslog"], "--".into()),
    ];
    for (mut case, needle) in cases {
        case.extend(["--pid", pidfile.to_str().unwrap()]);
        let (status, out, err) = run(&case);
        assert_eq!(status, Some(2), "{case:?}: {err}");
        assert!(out.is_empty(), "{case:?}: stdout {out}");
        assert_eq!(err.lines().count(), 1, "{case:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(&needle), "{case:?}: {err}");
        assert!(!pidfile.exists(), "{case:?} wrote the pid file");
    }
}

#[test]
fn once_gives_a_verdict_the_output_and_the_lines() {
    let (status, out, err) = run(&["--once", "--ip", "192.0.2.1", "--cmd", "echo all good"]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(out, "announce route 192.0.2.1/32 next-hop self med 100\n");
    assert!(err.contains("healthy: echo all good (exit 0, ") && err.contains("all good"), "{err}");

    let (status, out, err) =
        run(&["--once", "--withdraw-on-down", "--ip", "192.0.2.1", "--cmd", "echo broken; exit 3"]);
    assert_eq!(status, Some(1), "{err}");
    assert_eq!(out, "withdraw route 192.0.2.1/32 next-hop self\n");
    assert!(err.contains("unhealthy: echo broken; exit 3 (exit 3, ") && err.contains("broken"), "{err}");
    // Said as --dry-run says it: exit N, or what ended it.
    let (status, _, err) = run(&["--once", "--ip", "192.0.2.1", "--cmd", "kill -9 $$"]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("unhealthy: kill -9 $$ (killed by signal 9, "), "{err}");
}

#[test]
fn dry_run_explains_each_check_on_stderr() {
    let dir = Scratch::new("dry");
    let check = dir.scripted_check(&[0, 0, 1]);
    let mut plugin = Plugin::start(&[
        "--dry-run",
        "--no-syslog",
        "--interval",
        "0.05",
        "--fast-interval",
        "0.05",
        "--rise",
        "2",
        "--fall",
        "1",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
    ]);
    assert!(dir.wait_finished(LIMIT));
    assert_eq!(plugin.stop(), Some(0));
    let err = plugin.stderr();
    assert!(err.contains("dry-run: check #1 passed (exit 0"), "{err}");
    assert!(err.contains("INIT -> RISING (1 of 2 passes for UP)"), "{err}");
    assert!(err.contains("RISING -> UP"), "{err}");
    assert!(err.contains("check #3 failed (exit 1"), "{err}");
    assert!(err.contains("UP -> DOWN"), "{err}");
    // Each transition said once (the explanation), and nothing said to be sent.
    assert_eq!(err.matches("RISING -> UP").count(), 1, "{err}");
    assert!(!err.contains("INFO[healthcheck] INIT -> RISING"), "{err}");
    assert!(!err.contains("] send announces"), "{err}");
    assert!(err.contains("INFO[healthcheck] would send announces for UP state to ExaBGP"), "{err}");
    assert!(err.contains("INFO[healthcheck] would send announces for EXIT state to ExaBGP"), "{err}");
    assert_eq!(plugin.lines().len(), 3);
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let (status, out, _) = run(&["--help"]);
    assert_eq!(status, Some(0));
    assert!(out.contains("Checking healthiness:") && out.contains("--withdraw-on-down"));
    // The subcommand is found from the help.
    assert!(out.contains("Control a running plugin (--control-socket): exabgp-healthcheck ctl --help"), "{out}");
    let (status, out, _) = run(&["--version"]);
    assert_eq!(status, Some(0));
    assert!(out.starts_with("exabgp-healthcheck "));
}

#[test]
fn splay_delays_the_first_check_by_less_than_the_interval() {
    let mut waits = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut plugin = Plugin::start(&args(&["--splay", "--interval", "1", "--rise", "1", "--ip", "192.0.2.1"]));
        assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
        waits.push(started.elapsed());
        assert_eq!(plugin.stop(), Some(0));
    }
    // Below the interval (plus the start-up), and not all at once: five draws under 50 ms of
    // a second would be a 1-in-3-million chance.
    assert!(waits.iter().all(|w| *w < Duration::from_millis(1500)), "{waits:?}");
    assert!(waits.iter().any(|w| *w > Duration::from_millis(50)), "{waits:?}");
}

#[test]
fn negative_rise_or_fall_is_refused() {
    for (flag, value) in [("--rise", "-1"), ("--fall", "-2")] {
        let out = Command::new(BIN).args(["--no-syslog", "--dry-run", flag, value]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, format!("error: {flag} {value}: must be 0 or more (0 and 1 both mean at once)\n"));
    }
}

#[test]
fn sigusr1_logs_the_state_and_checks_at_once() {
    let dir = Scratch::new("usr1");
    let check = dir.scripted_check(&[0, 1]);
    let mut plugin =
        Plugin::start(&args(&["--rise", "1", "--fall", "1", "--interval", "60", "--ip", "192.0.2.1", "--cmd", &check]));
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    // The next check is a minute away; SIGUSR1 makes it now.
    plugin.signal(10);
    assert!(
        plugin.wait_lines(2, Duration::from_secs(10)),
        "no check after SIGUSR1: {:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    assert_eq!(plugin.lines()[1], "announce route 192.0.2.1/32 next-hop self med 1000");
    assert!(plugin.stderr().contains("INFO[healthcheck] state UP (counter"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}
