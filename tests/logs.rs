//! `--log-format json`: every line on stderr is one JSON object a log pipeline can parse, with
//! the service it is about and the fields of what happened.

mod common;

use common::{Plugin, Scratch, BIN};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// Every stderr line of `plugin`, parsed; a line that is not a JSON object fails the test.
fn objects(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
            assert!(value.is_object(), "{line}");
            for key in ["ts", "level", "msg"] {
                assert!(value[key].is_string(), "no {key}: {line}");
            }
            assert!(value.get("service").is_some(), "no service: {line}");
            value
        })
        .collect()
}

#[test]
fn one_service_logs_its_checks_and_transitions_as_json() {
    let dir = Scratch::new("logs-one");
    let check = dir.scripted_check(&[0, 3, 3]);
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--log-format",
        "json",
        "--ip",
        "192.0.2.1",
        "--rise",
        "1",
        "--fall",
        "2",
        "--interval",
        "0.05",
        "--fast-interval",
        "0.05",
        "--cmd",
        &check,
    ]);
    assert!(dir.wait_finished(Duration::from_secs(10)), "{}", plugin.stderr());
    assert!(plugin.wait_lines(2, Duration::from_secs(5)), "{}", plugin.stdout());
    assert_eq!(plugin.stop(), Some(0));
    let logs = objects(&plugin.stderr());
    let transitions: Vec<(String, String)> = logs
        .iter()
        .filter(|o| o.get("from").is_some())
        .map(|o| (o["from"].as_str().unwrap().to_owned(), o["to"].as_str().unwrap().to_owned()))
        .collect();
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(transitions, pairs(&[("INIT", "UP"), ("UP", "FALLING"), ("FALLING", "DOWN")]), "{logs:#?}");
    let failed: Vec<&Value> = logs.iter().filter(|o| o["msg"] == "Check command was unsuccessful: 3").collect();
    assert_eq!(failed.len(), 2, "{logs:#?}");
    for line in failed {
        assert_eq!((&line["level"], &line["rc"]), (&Value::from("warning"), &Value::from(3)));
        assert!(line["duration_ms"].is_u64(), "{line}");
    }
    // One service without a name: about no service in particular.
    assert!(logs.iter().all(|o| o["service"].is_null()), "{logs:#?}");
    let ts = logs[0]["ts"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(ts).is_ok() && ts.ends_with('Z'), "{ts}");
    // The lines to ExaBGP are the same as ever.
    assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 100");
}

#[test]
fn several_services_are_named_and_dry_run_explains_in_json_too() {
    let dir = Scratch::new("logs-several");
    let config = dir.write(
        "healthcheck.conf",
        "log-format = json\nno-syslog\nno-ip-setup\ninterval = 30\nrise = 1\n\n[web]\nip = 192.0.2.1\ncmd = true\n\n\
         [dns]\nip = 192.0.2.2\ncmd = false\nfall = 1\n",
    );
    let mut plugin = Plugin::start(&["--dry-run", "--config", config.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, Duration::from_secs(10)), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let logs = objects(&plugin.stderr());
    let about = |service: &'static str| logs.iter().filter(move |o| o["service"] == service);
    assert!(about("web").any(|o| o["to"] == "UP"), "{logs:#?}");
    assert!(about("dns").any(|o| o["to"] == "DOWN"), "{logs:#?}");
    assert!(about("dns").any(|o| o["dry_run"] == true && o["msg"].as_str().unwrap().contains("INIT -> DOWN")));
    assert!(!about("web").any(|o| o["to"] == "DOWN"), "{logs:#?}");
}

#[test]
fn a_bad_log_format_is_a_usage_error_and_it_is_process_wide() {
    let out = Command::new(BIN).args(["--log-format", "xml", "--dry-run"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--log-format") && stderr.contains("xml"), "{stderr}");

    let dir = Scratch::new("logs-section");
    let config = dir.write("healthcheck.conf", "[web]\nip = 192.0.2.1\nlog-format = json\n");
    let out = Command::new(BIN).args(["--dry-run", "--config", config.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("healthcheck.conf:3") && stderr.contains("'log-format' is process-wide"), "{stderr}");
}

#[test]
fn a_drain_logs_its_states_and_its_time_as_fields() {
    let dir = Scratch::new("logs-drain");
    let drain = dir.file("drain");
    let mut plugin = Plugin::start(&[
        "--no-syslog",
        "--no-ip-setup",
        "--log-format",
        "json",
        "--ip",
        "192.0.2.1",
        "--rise",
        "1",
        "--interval",
        "0.05",
        "--drain-time",
        "0.2",
        "--drain-file",
        drain.to_str().unwrap(),
    ]);
    assert!(plugin.wait_lines(1, Duration::from_secs(10)), "{}", plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    let drained = |p: &Plugin| p.lines().iter().any(|l| l == "withdraw route 192.0.2.1/32 next-hop self");
    assert!(common::wait_for(Duration::from_secs(10), || drained(&plugin)), "{:?}", plugin.lines());
    assert_eq!(plugin.stop(), Some(0));
    let logs = objects(&plugin.stderr());
    assert!(logs.iter().any(|o| o["from"] == "UP" && o["to"] == "DRAINING"), "{logs:#?}");
    assert!(logs.iter().any(|o| o["from"] == "DRAINING" && o["to"] == "DRAINED"), "{logs:#?}");
    let started =
        logs.iter().find(|o| o["state"] == "DRAINING" && o.get("drain_ms").is_some()).expect("the drain's start");
    assert_eq!(started["drain_ms"], 200, "{started}");
    assert!(started["msg"].as_str().unwrap().contains("withdrawing in 200ms"), "{started}");
    assert!(logs.iter().any(|o| o["state"] == "DRAINED" && o["msg"] == "drain time over: withdrawing"), "{logs:#?}");
}
