//! The Prometheus alerting rules shipped in contrib/prometheus/: `promtool check rules` accepts
//! them and `promtool test rules` runs their unit tests (service down, flapping, suppressed,
//! stuck in DRAINING, ExaBGP's error replies, no checks, stale or unreachable metrics), with the real
//! promtool from Debian's prometheus package.

mod common;

use common::in_path;
use std::path::Path;
use std::process::Command;

fn promtool(args: &[&str]) {
    let promtool = in_path("promtool").expect(
        "promtool is not installed: it comes with Debian's prometheus package \
         (apt-get install --no-install-recommends prometheus; contrib/run-tests.sh installs it)",
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus");
    let out = Command::new(promtool).args(args).current_dir(&dir).output().expect("run promtool");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {args:?}:\n{said}");
    assert!(said.contains("SUCCESS"), "promtool {args:?}:\n{said}");
}

#[test]
fn the_alerting_rules_are_valid() {
    promtool(&["check", "rules", "alerts.yml"]);
}

#[test]
fn the_alerting_rules_fire_when_they_should_and_only_then() {
    promtool(&["test", "rules", "alerts_test.yml"]);
}

/// Every metric the rules use (but node_exporter's and Prometheus's own) is one the plugin
/// writes: a renamed metric would leave an alert that never fires.
#[test]
fn the_rules_use_metrics_the_plugin_writes() {
    let dir = common::Scratch::new("alerts");
    let file = dir.file("metrics.prom");
    // In a network namespace of its own (root: the tests run as root), with a BFD session to
    // its own loopback, so that the BFD metrics are written too, and with dampening, for the
    // penalty.
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\"", common::BIN])
        .args(["--dry-run", "--no-syslog", "--interval", "0", "--rise", "1", "--ip", "192.0.2.1", "--bfd", "127.0.0.1"])
        .arg("--dampening")
        .arg("--metrics-file")
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the plugin");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("the metrics file");
    let rules = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus/alerts.yml"))
        .expect("alerts.yml");
    let mut used: Vec<&str> = rules
        .match_indices("exabgp_healthcheck_")
        .map(|(at, _)| {
            let rest = &rules[at..];
            &rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())]
        })
        .collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() >= 4, "{used:?}");
    for name in used {
        assert!(
            written.contains(&format!("\n{name}{{")) || written.contains(&format!("\n{name} ")),
            "{name} is not written:\n{written}"
        );
    }
}
