//! Flap dampening (`--dampening`) as ExaBGP runs the plugin: a check that flaps gets its service
//! SUPPRESSED (announced as DOWN while the check runs and is healthy, hooks seeing
//! `STATE=SUPPRESSED`, the penalty and the reuse time in `ctl status` and the metrics), and it
//! comes back UP once the penalty has decayed; a service of the same configuration without
//! dampening is untouched; a SIGHUP that keeps the service keeps its suppression; bad values
//! are refused with exit 2 naming the flag. No address is touched (`--no-ip-setup`).

mod common;

use common::{wait_for, Plugin, Scratch, BIN};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

const WEB_UP: &str = "announce route 192.0.2.1/32 next-hop self med 100";
const WEB_DOWN: &str = "announce route 192.0.2.1/32 next-hop self med 1000";
const DNS_UP: &str = "announce route 192.0.2.53/32 next-hop self med 100";

/// A check that fails at its 2nd, 4th and 6th runs and passes at every other (its runs counted
/// in `count`).
fn flapping_check(dir: &Scratch) -> String {
    let count = dir.file("count");
    let script = format!(
        "#!/bin/sh\nn=$(cat '{count}' 2>/dev/null || echo 0)\nn=$((n + 1))\necho \"$n\" > '{count}'\n\
         case \"$n\" in 2|4|6) exit 1 ;; esac\nexit 0\n",
        count = count.display()
    );
    let path = dir.write("check.sh", &script);
    format!("sh {}", path.display())
}

fn runs(dir: &Scratch) -> u32 {
    std::fs::read_to_string(dir.file("count")).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

fn ctl(socket: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("ctl").arg("--socket").arg(socket).args(args).output().expect("run ctl")
}

/// `ctl status web --json`: the service's object.
fn web_status(socket: &Path) -> serde_json::Value {
    let out = ctl(socket, &["status", "web", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    answer["services"][0].clone()
}

/// The lines for `route` (its address followed by a blank), in order.
fn lines_of(plugin: &Plugin, route: &str) -> Vec<String> {
    plugin.lines().into_iter().filter(|l| l.contains(&format!(" {route}/"))).collect()
}

/// A configuration of two services: `web` flaps and has dampening (half-life 2 s, suppress
/// 2000: three flaps in a second suppress it for about 3 to 4 s), `dns` is always healthy and
/// has none.
fn configuration(dir: &Scratch) -> std::path::PathBuf {
    let states = dir.file("states");
    let text = format!(
        "no-syslog\nno-ip-setup\nno-ack\ndebounce\nrise = 1\nfall = 1\ninterval = 0.2\n\
         [web]\nip = 192.0.2.1\ncmd = {check}\nexecute = echo \"$STATE\" >> '{states}'\ndampening\n\
         dampening-half-life = 2\ndampening-suppress = 2000\n\
         [dns]\nip = 192.0.2.53\ncmd = true\n",
        check = flapping_check(dir),
        states = states.display()
    );
    dir.write("plugin.conf", &text)
}

#[test]
fn a_flapping_check_is_suppressed_stays_down_while_healthy_and_comes_back_after_the_decay() {
    let dir = Scratch::new("dampening-flap");
    let conf = configuration(&dir);
    let socket = dir.file("control.sock");
    let metrics = dir.file("metrics.prom");
    let mut plugin = Plugin::start(&[
        "--config",
        conf.to_str().unwrap(),
        "--control-socket",
        socket.to_str().unwrap(),
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    // UP, DOWN, UP, DOWN, UP, DOWN: the third flap suppresses it.
    assert!(wait_for(LIMIT, || lines_of(&plugin, "192.0.2.1").len() >= 6), "{:?}\n{}", plugin.lines(), plugin.stderr());
    let suppressed_at = Instant::now();
    assert!(wait_for(LIMIT, || web_status(&socket)["state"] == "SUPPRESSED"), "{}", plugin.stderr());
    let status = web_status(&socket);
    let penalty = status["dampening"]["penalty"].as_u64().unwrap();
    assert!((2000..3000).contains(&penalty), "{status}");
    let reuse_in = status["dampening"]["reuse_in_seconds"].as_f64().unwrap();
    assert!(reuse_in > 1.0 && reuse_in < 4.0, "{status}");
    assert!(status["dampening"]["reuse_at"].as_str().unwrap().ends_with('Z'), "{status}");
    // The table says it in the STATE column; dns has no dampening and says nothing of it.
    let table = String::from_utf8_lossy(&ctl(&socket, &["status"]).stdout).into_owned();
    assert!(table.contains("SUPPRESSED (penalty "), "{table}");
    assert!(table.lines().any(|l| l.starts_with("dns ") && l.contains(" UP ") && !l.contains("penalty")), "{table}");
    let out = ctl(&socket, &["status", "dns", "--json"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("dampening"));
    // The metrics: SUPPRESSED and the penalty for web only.
    assert!(
        wait_for(LIMIT, || std::fs::read_to_string(&metrics)
            .is_ok_and(|m| m.contains("exabgp_healthcheck_service_state{service=\"web\",state=\"SUPPRESSED\"} 1"))),
        "{}",
        std::fs::read_to_string(&metrics).unwrap_or_default()
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("exabgp_healthcheck_service_penalty{service=\"web\"} "), "{text}");
    assert!(!text.contains("service_penalty{service=\"dns\"}"), "{text}");
    assert!(!text.contains("{service=\"dns\",state=\"SUPPRESSED\"}"), "{text}");
    assert!(text.contains("exabgp_healthcheck_transitions_total{service=\"web\",to=\"SUPPRESSED\"} 1"), "{text}");
    // While suppressed its check runs and is healthy (it passes from its 7th run), yet nothing
    // more is announced: the routers keep DOWN.
    let checks = runs(&dir);
    assert!(wait_for(LIMIT, || runs(&dir) >= checks + 2), "the check does not run while suppressed");
    assert_eq!(web_status(&socket)["last_check"]["ok"], true);
    assert_eq!(web_status(&socket)["state"], "SUPPRESSED");
    assert_eq!(lines_of(&plugin, "192.0.2.1").len(), 6, "{:?}", plugin.lines());
    // Back UP once the penalty has decayed below 750: from above 2000 with a half-life of 2 s,
    // at least 2.8 s after the suppression.
    assert!(wait_for(LIMIT, || lines_of(&plugin, "192.0.2.1").len() >= 7), "{:?}\n{}", plugin.lines(), plugin.stderr());
    let took = suppressed_at.elapsed();
    assert!(took >= Duration::from_millis(2500), "UP again {took:?} after the suppression");
    assert_eq!(
        lines_of(&plugin, "192.0.2.1"),
        [WEB_UP, WEB_DOWN, WEB_UP, WEB_DOWN, WEB_UP, WEB_DOWN, WEB_UP],
        "{}",
        plugin.stderr()
    );
    assert_eq!(lines_of(&plugin, "192.0.2.53"), [DNS_UP]);
    let status = web_status(&socket);
    assert_eq!(status["state"], "UP");
    assert!(status["dampening"]["reuse_at"].is_null(), "{status}");
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(dir.read("states"), "UP\nDOWN\nUP\nDOWN\nUP\nDOWN\nSUPPRESSED\nINIT\nUP\n");
    let err = plugin.stderr();
    assert!(err.contains("flapping: penalty "), "{err}");
    assert!(err.contains("DOWN -> SUPPRESSED"), "{err}");
    assert!(err.contains("penalty below --dampening-reuse 750: suppression over"), "{err}");
    assert!(err.contains("SUPPRESSED -> INIT"), "{err}");
}

#[test]
fn a_reload_that_keeps_the_service_keeps_it_suppressed() {
    let dir = Scratch::new("dampening-reload");
    let conf = configuration(&dir);
    let socket = dir.file("control.sock");
    let mut plugin = Plugin::start(&["--config", conf.to_str().unwrap(), "--control-socket", socket.to_str().unwrap()]);
    assert!(wait_for(LIMIT, || socket.exists()), "no socket\n{}", plugin.stderr());
    assert!(wait_for(LIMIT, || web_status(&socket)["state"] == "SUPPRESSED"), "{}", plugin.stderr());
    let before = web_status(&socket)["dampening"]["reuse_at"].clone();
    // dns changes, web does not.
    let text = std::fs::read_to_string(&conf).unwrap().replace("ip = 192.0.2.53", "ip = 192.0.2.54");
    std::fs::write(&conf, text).unwrap();
    plugin.signal(1);
    assert!(
        wait_for(LIMIT, || lines_of(&plugin, "192.0.2.54").len() == 1),
        "{:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    let after = web_status(&socket);
    assert_eq!(after["state"], "SUPPRESSED", "{after}");
    assert_eq!(after["dampening"]["reuse_at"], before);
    assert_eq!(plugin.stop(), Some(0));
}

/// Run to completion with no stdin; (status, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn bad_dampening_values_are_refused_with_one_line_and_exit_2() {
    let dir = Scratch::new("dampening-bad");
    let conf = dir.write("bad.conf", "no-syslog\n[web]\nip = 192.0.2.1\ndampening\ndampening-reuse = 0\n");
    let in_file = format!("error: {}:5: --dampening-reuse 0: must be between 1 and 4294967295\n", conf.display());
    for (args, want) in [
        (vec!["--dampening-half-life", "0"], "error: --dampening-half-life 0: must be more than 0\n".to_owned()),
        (
            vec!["--dampening-half-life", "-1"],
            "error: --dampening-half-life -1: must be a non-negative number of seconds\n".to_owned(),
        ),
        (vec!["--dampening-max-suppress", "0"], "error: --dampening-max-suppress 0: must be more than 0\n".to_owned()),
        (
            vec!["--dampening-suppress", "750"],
            "error: --dampening-suppress 750: must be more than --dampening-reuse (750)\n".to_owned(),
        ),
        (
            vec!["--dampening-suppress", "-1"],
            "error: --dampening-suppress -1: must be between 1 and 4294967295\n".to_owned(),
        ),
        (
            vec!["--dampening-max-suppress", "1m"],
            "error: --dampening-suppress 3000: can never be reached: the penalty is at most 1500, what decays to \
             --dampening-reuse in --dampening-max-suppress (raise --dampening-max-suppress or lower \
             --dampening-half-life)\n"
                .to_owned(),
        ),
        (vec!["--config", conf.to_str().unwrap()], in_file),
    ] {
        let mut all = vec!["--no-syslog", "--ip", "192.0.2.1", "--dampening"];
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
fn dry_run_explains_the_suppression() {
    let dir = Scratch::new("dampening-dry-run");
    let check = flapping_check(&dir);
    let mut plugin = Plugin::start(&[
        "--dry-run",
        "--no-syslog",
        "--ip",
        "192.0.2.1",
        "--cmd",
        &check,
        "--rise",
        "1",
        "--fall",
        "1",
        "--interval",
        "0.2",
        "--dampening",
        "--dampening-half-life",
        "1",
        "--dampening-suppress",
        "2000",
    ]);
    assert!(
        wait_for(LIMIT, || plugin.stderr().contains("SUPPRESSED -> INIT")),
        "{:?}\n{}",
        plugin.lines(),
        plugin.stderr()
    );
    assert_eq!(plugin.stop(), Some(0));
    let err = plugin.stderr();
    assert!(err.contains(" while suppressed (penalty "), "{err}");
    assert!(err.contains("): stays SUPPRESSED\n"), "{err}");
    assert!(err.contains(": DOWN -> SUPPRESSED\n"), "{err}");
    assert!(err.contains("dry-run: suppression over (penalty "), "{err}");
}
