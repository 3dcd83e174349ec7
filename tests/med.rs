//! The MED from the check (`--metric-from`) as the binary does it: a command's output raises the
//! up metric, a change below `--metric-hysteresis` is not announced, one past it is once
//! `--metric-hold` is over (between checks, when the hold ends first), the clamp below the down
//! and disabled metrics with `--increase` and several `--ip`, `route_metric` in the metrics,
//! `--once` and `--dry-run` explaining the MED, and the bad input refused. No address is
//! touched (`--no-ip-setup`, `--dry-run`).

mod common;

use common::{wait_for, Plugin, Scratch, BIN};
use std::process::Command;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).arg("--no-syslog").args(args).output().expect("run the plugin");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// A check command that prints the next line of `outputs` at each run (the last one again once
/// they are used up) and counts its runs in `runs`.
fn printing_check(dir: &Scratch, outputs: &[&str]) -> String {
    let seq: String = outputs.iter().map(|o| format!("{o}\n")).collect();
    dir.write("outputs", &seq);
    let script = format!(
        "#!/bin/sh\nd='{dir}'\necho run >> \"$d/runs\"\nfirst=$(head -n 1 \"$d/outputs\")\n\
         if [ \"$(wc -l < \"$d/outputs\")\" -gt 1 ]; then tail -n +2 \"$d/outputs\" > \"$d/o.new\" && mv \"$d/o.new\" \"$d/outputs\"; fi\n\
         echo \"$first\"\n",
        dir = dir.path.display()
    );
    let path = dir.write("check.sh", &script);
    format!("sh {}", path.display())
}

fn runs(dir: &Scratch) -> usize {
    dir.read("runs").lines().count()
}

fn up(med: i64) -> String {
    format!("announce route 192.0.2.1/32 next-hop self med {med}")
}

#[test]
fn once_explains_the_med_it_would_send() {
    let (status, out, err) = run(&["--once", "--ip", "192.0.2.1", "--cmd", "echo 40", "--metric-from", "output"]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(out, format!("{}\n", up(140)));
    assert!(err.contains("med: output 40 -> +40 -> MED 140\n"), "{err}");
    // The clamp: the last route's up MED stays below the disabled metric (500).
    let three = ["--ip", "192.0.2.1", "--ip", "192.0.2.2", "--ip", "192.0.2.3", "--increase", "10"];
    let (status, out, err) = run(&[&three[..], &["--once", "--cmd", "echo 4000", "--metric-from", "output"]].concat());
    assert_eq!(status, Some(0), "{err}");
    let meds: Vec<&str> = out.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(meds, ["479", "489", "499"], "{out}");
    assert!(err.contains("output 4000 -> +4000, clamped to +379 (below the down and disabled metrics) -> MED 479"));
    // No number: the up metric.
    let (_, out, err) = run(&["--once", "--ip", "192.0.2.1", "--cmd", "echo busy", "--metric-from", "output"]);
    assert_eq!(out, format!("{}\n", up(100)));
    assert!(err.contains("med: no number in the output -> +0 -> MED 100"), "{err}");
    // The latency of a command, in steps of 1 s: a fast one is +0.
    let (_, out, err) =
        run(&["--once", "--ip", "192.0.2.1", "--cmd", "true", "--metric-from", "latency", "--metric-step", "1s"]);
    assert_eq!(out, format!("{}\n", up(100)));
    assert!(err.contains("med: latency EWMA ") && err.contains(" ms / 1s step -> +0 -> MED 100"), "{err}");
    // Unhealthy: the down metric, no MED explained.
    let (status, out, err) =
        run(&["--once", "--ip", "192.0.2.1", "--cmd", "echo 40; exit 1", "--metric-from", "output"]);
    assert_eq!(status, Some(1));
    assert_eq!(out, "announce route 192.0.2.1/32 next-hop self med 1000\n");
    assert!(!err.contains("med:"), "{err}");
}

#[test]
fn a_change_below_the_hysteresis_is_not_announced_and_one_past_it_is_after_the_hold() {
    let dir = Scratch::new("med-hold");
    let check = printing_check(&dir, &["40", "45", "49", "60"]);
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--interval",
        "0.1",
        "--rise",
        "1",
        "--debounce",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--metric-from",
        "output",
        "--metric-hold",
        "1",
    ]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let first = Instant::now();
    assert!(wait_for(LIMIT, || runs(&dir) >= 4), "{}", plugin.stderr());
    // 45 and 49 are within 10 of 40; 60 is past it but within the hold (1 s from UP).
    if first.elapsed() < Duration::from_millis(900) {
        assert_eq!(plugin.lines(), [up(140)]);
    }
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    let after = first.elapsed();
    assert!(after >= Duration::from_millis(900), "160 went out {after:?} after 140, within the hold");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines(), [up(140), up(160), "withdraw route 192.0.2.1/32 next-hop self".to_owned()]);
    let err = plugin.stderr();
    assert!(err.contains("INFO[healthcheck] MED 140 -> 160: output 60 -> +60\n"), "{err}");
    assert_eq!(err.matches("MED 140 -> 160").count(), 1, "{err}");
}

#[test]
fn a_change_held_back_goes_out_when_the_hold_ends_between_checks() {
    let dir = Scratch::new("med-wake");
    let check = printing_check(&dir, &["40", "90"]);
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--interval",
        "2",
        "--rise",
        "1",
        "--debounce",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--metric-from",
        "output",
        "--metric-hold",
        "3",
    ]);
    // Checks at 0 s (UP, 140) and 2 s (90, held until 3 s); the next check is at 4 s.
    assert!(plugin.wait_lines(2, Duration::from_secs(10)), "{}", plugin.stderr());
    assert_eq!(plugin.lines(), [up(140), up(190)]);
    assert_eq!(runs(&dir), 2, "announced by a wake-up of its own, not by a check");
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn dry_run_explains_the_med_and_the_metrics_show_what_is_announced() {
    let dir = Scratch::new("med-dry");
    let check = printing_check(&dir, &["40", "45"]);
    let metrics = dir.file("med.prom");
    let mut plugin = Plugin::start(&[
        "--dry-run",
        "--no-syslog",
        "--interval",
        "0.1",
        "--rise",
        "1",
        "--ip",
        "192.0.2.1",
        "--ip",
        "192.0.2.2",
        "--cmd",
        &check,
        "--metric-from",
        "output",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    assert!(wait_for(LIMIT, || runs(&dir) >= 3), "{}", plugin.stderr());
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(plugin.stop(), Some(0));
    for sample in [r#"route="192.0.2.1/32"} 140"#, r#"route="192.0.2.2/32"} 141"#] {
        assert!(
            text.contains(&format!("exabgp_healthcheck_route_metric{{service=\"healthcheck\",{sample}\n")),
            "{text}"
        );
    }
    let err = plugin.stderr();
    assert!(err.contains("dry-run: med: output 40 -> +40 -> MED 140\n"), "{err}");
    assert!(
        err.contains(
            "dry-run: med: output 45 -> +45 -> MED 145, kept at 140 (a change below --metric-hysteresis 10)\n"
        ),
        "{err}"
    );
}

#[test]
fn without_metric_from_the_output_changes_nothing() {
    let (status, out, err) = run(&["--once", "--ip", "192.0.2.1", "--cmd", "echo 40", "--metric-hold", "0"]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(out, format!("{}\n", up(100)));
    assert!(!err.contains("med:"), "{err}");
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    for (args, needle) in [
        (&["--metric-from", "output"][..], "--metric-from output: needs --command"),
        (&["--metric-from", "output", "--check", "tcp://127.0.0.1:80"], "--metric-from output: needs --command"),
        (&["--metric-from", "latency"], "--metric-from latency: needs a check"),
        (&["--metric-from", "cpu", "--cmd", "true"], "--metric-from"),
        (&["--metric-step", "0", "--metric-from", "latency", "--cmd", "true"], "--metric-step 0"),
        (&["--metric-hysteresis", "-1"], "--metric-hysteresis -1"),
        (&["--metric-hold", "soon"], "--metric-hold soon"),
    ] {
        let (status, out, err) = run(&[&["--dry-run", "--ip", "192.0.2.1"], args].concat());
        assert_eq!(status, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn no_number_is_warned_once_until_a_number_comes_again() {
    let dir = Scratch::new("med-warn");
    let check = printing_check(&dir, &["busy", "busy", "7", "", ""]);
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--interval",
        "0.05",
        "--rise",
        "1",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--metric-from",
        "output",
    ]);
    assert!(wait_for(LIMIT, || runs(&dir) >= 7), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let err = plugin.stderr();
    let busy = "WARNING[healthcheck] check output \"busy\" is not a number: announcing the up metric\n";
    assert_eq!(err.matches(busy).count(), 1, "{err}");
    let empty = "WARNING[healthcheck] check printed no number (no output): announcing the up metric\n";
    assert_eq!(err.matches(empty).count(), 1, "{err}");
    assert_eq!(plugin.lines()[0], up(100));
}
