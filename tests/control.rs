//! The control socket (`--control-socket`) and `exabgp-healthcheck ctl`, with the real binary
//! on both sides: the socket's mode and its removal on every way out (SIGTERM, ExaBGP closing
//! stdin, `--interval 0`), what is refused at start (a file that is not a socket, a socket
//! someone listens on) and what is replaced (a stale socket), each `ctl` command and its exit
//! status, and the bounds (silent, long and too many connections). No address is touched
//! (`--no-ip-setup`, `--dry-run`).

mod common;

use common::{wait_for, Plugin, Scratch, BIN};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// A plugin with one service `web` (UP at its first check, then every hour) and its socket.
fn start(dir: &Scratch, extra: &[&str]) -> (Plugin, std::path::PathBuf) {
    let socket = dir.file("control.sock");
    let mut args = vec!["--no-syslog", "--no-ack", "--no-ip-setup", "--name", "web", "--ip", "192.0.2.1"];
    args.extend_from_slice(&["--rise", "1", "--interval", "3600", "--control-socket", socket.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let plugin = Plugin::start(&args);
    assert!(wait_for(LIMIT, || socket.exists()), "no socket\n{}", plugin.stderr());
    (plugin, socket)
}

fn ctl(socket: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("ctl").arg("--socket").arg(socket).args(args).output().expect("run ctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `ctl status --json`, parsed.
fn status(socket: &Path) -> serde_json::Value {
    let out = ctl(socket, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ctl status --json prints JSON")
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket())
}

#[test]
fn the_socket_is_private_answers_status_and_is_removed_at_sigterm() {
    let dir = Scratch::new("control-status");
    let (mut plugin, socket) = start(&dir, &["--cmd", "true"]);
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert!(is_socket(&socket));
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());

    let out = ctl(&socket, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("SERVICE  STATE  SINCE  LAST CHECK "), "{table}");
    assert!(lines[0].ends_with("ROUTES"), "{table}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!((row[0], row[1], row[3]), ("web", "UP", "passed"), "{table}");
    assert!(lines[1].ends_with("  192.0.2.1/32 med 100"), "{table}");

    let json = status(&socket);
    assert_eq!(json["ok"], true);
    assert_eq!(json["cmd"], "status");
    let web = &json["services"][0];
    assert_eq!((web["service"].as_str(), web["state"].as_str()), (Some("web"), Some("UP")));
    assert_eq!(web["checks"]["passed"], 1);
    assert_eq!(web["last_check"]["ok"], true);
    assert_eq!(web["routes"], serde_json::json!([{"route": "192.0.2.1/32", "med": 100}]));
    assert!(web["since"].as_str().is_some_and(|s| s.ends_with('Z')), "{web}");
    // The same service by name.
    assert_eq!(status_of(&socket, "web")["services"][0]["service"], "web");

    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists(), "the socket is removed at exit");
    assert_eq!(plugin.lines().last().map(String::as_str), Some("withdraw route 192.0.2.1/32 next-hop self"));
}

fn status_of(socket: &Path, service: &str) -> serde_json::Value {
    let out = ctl(socket, &["status", service, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn check_runs_the_check_at_once() {
    let dir = Scratch::new("control-check");
    let stamps = dir.file("checks");
    let command = format!("echo x >> {}", stamps.display());
    let (mut plugin, socket) = start(&dir, &["--cmd", &command]);
    assert!(wait_for(LIMIT, || dir.read("checks").lines().count() == 1), "{}", plugin.stderr());
    let out = ctl(&socket, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "checking now: web\n");
    // The next check was an hour away: it runs now.
    assert!(wait_for(Duration::from_secs(5), || dir.read("checks").lines().count() == 2), "{}", plugin.stderr());
    assert!(wait_for(LIMIT, || status(&socket)["services"][0]["checks"]["passed"] == 2));
    let out = ctl(&socket, &["check", "web", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((answer["ok"].as_bool(), answer["cmd"].as_str()), (Some(true), Some("check")));
    assert!(wait_for(Duration::from_secs(5), || dir.read("checks").lines().count() == 3));
    // Read from the plugin's stderr on a thread of ours: it may come a moment after the check.
    assert!(wait_for(LIMIT, || plugin.stderr().contains("control socket: check now (web)")), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn unknown_services_and_commands_are_usage_errors_and_nobody_listening_is_exit_1() {
    let dir = Scratch::new("control-errors");
    let (mut plugin, socket) = start(&dir, &[]);
    let out = ctl(&socket, &["status", "dns"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: unknown service \"dns\" (the services: web)\n");
    assert!(out.stdout.is_empty());
    let out = ctl(&socket, &["check", "dns", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((answer["ok"].as_bool(), answer["kind"].as_str()), (Some(false), Some("usage")));
    let out = ctl(&socket, &["reboot"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unrecognized subcommand 'reboot'"), "{}", text(&out.stderr));
    let out = Command::new(BIN).arg("ctl").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no command: the help, as a usage error");
    assert_eq!(plugin.stop(), Some(0));

    let out = ctl(&socket, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("error: no exabgp-healthcheck listens on {}: no such file or directory\n", socket.display())
    );
    // A socket file nobody listens on.
    let stale = dir.file("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let out = ctl(&stale, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with(&format!("error: no exabgp-healthcheck listens on {}: ", stale.display())));
}

#[test]
fn the_socket_is_removed_when_exabgp_closes_stdin_and_after_interval_zero() {
    let dir = Scratch::new("control-exits");
    let (mut plugin, socket) = start(&dir, &[]);
    assert!(plugin.wait_lines(1, LIMIT));
    drop(plugin.stdin.take());
    assert_eq!(plugin.wait_exit(LIMIT), Some(0));
    assert!(!socket.exists(), "removed when ExaBGP is gone\n{}", plugin.stderr());

    // The check takes a while, so that the socket is there to be seen before the end.
    let (mut plugin, socket) = start(&dir, &["--interval", "0", "--cmd", "sleep 0.5"]);
    assert_eq!(plugin.wait_exit(LIMIT), Some(0));
    assert_eq!(plugin.lines(), ["announce route 192.0.2.1/32 next-hop self med 100"]);
    assert!(!socket.exists(), "removed after --interval 0\n{}", plugin.stderr());
}

#[test]
fn a_file_that_is_not_a_socket_is_refused_and_left_alone() {
    let dir = Scratch::new("control-refused");
    let path = dir.write("control.sock", "precious\n");
    let out = Command::new(BIN)
        .args(["--no-syslog", "--no-ack", "--no-ip-setup", "--ip", "192.0.2.1", "--rise", "1"])
        .arg("--control-socket")
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("error: --control-socket {}: exists and is not a socket; it is left as it is\n", path.display())
    );
    assert!(out.stdout.is_empty(), "nothing announced: {}", text(&out.stdout));
    assert_eq!(dir.read("control.sock"), "precious\n");
    // A directory, or a missing one, too.
    let out = Command::new(BIN).args(["--dry-run", "--ip", "192.0.2.1", "--control-socket"]).arg(&dir.path).output();
    assert_eq!(out.unwrap().status.code(), Some(2));
    let missing = dir.file("no/such/dir/control.sock");
    let out = Command::new(BIN).args(["--dry-run", "--ip", "192.0.2.1", "--control-socket"]).arg(&missing).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("failed to listen: no such file or directory"), "{}", text(&out.stderr));
}

#[test]
fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let dir = Scratch::new("control-live");
    let (mut first, socket) = start(&dir, &[]);
    let second = Command::new(BIN)
        .args(["--dry-run", "--no-syslog", "--ip", "192.0.2.2", "--control-socket"])
        .arg(&socket)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(text(&second.stderr).contains("a process listens on it already"), "{}", text(&second.stderr));
    assert!(is_socket(&socket), "the first one's socket stays");
    assert_eq!(status(&socket)["services"][0]["service"], "web", "and still answers");
    assert_eq!(first.stop(), Some(0));

    // A socket left by a run that was killed: nobody listens, so it is replaced.
    drop(UnixListener::bind(&socket).unwrap());
    assert!(is_socket(&socket));
    let (mut plugin, socket) = start(&dir, &[]);
    assert!(wait_for(LIMIT, || ctl(&socket, &["status"]).status.success()), "{}", plugin.stderr());
    assert!(
        wait_for(LIMIT, || plugin.stderr().contains("replaced a socket nobody listened on")),
        "{}",
        plugin.stderr()
    );
    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists());
}

/// Send `bytes` on a new connection and read the answer to its end.
fn raw(socket: &Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(bytes).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn connections_are_bounded_in_number_size_and_time() {
    let dir = Scratch::new("control-bounds");
    let (mut plugin, socket) = start(&dir, &[]);
    // Another client's protocol, not ctl's: one line of JSON, one line back.
    let answer = raw(&socket, b"{\"cmd\":\"status\"}\n");
    assert!(answer.starts_with("{\"ok\":true,\"cmd\":\"status\",\"services\":[{\"service\":\"web\""), "{answer}");
    assert!(answer.ends_with("}\n") && answer.matches('\n').count() == 1, "{answer}");
    assert_eq!(
        raw(&socket, b"status\n"),
        "{\"ok\":false,\"error\":\"the request is not understood: expected value at line 1 column 1\",\"kind\":\"usage\"}\n"
    );
    assert_eq!(
        raw(&socket, b"{\"cmd\":\"reboot\"}"),
        "{\"ok\":false,\"error\":\"unknown command \\\"reboot\\\" (the commands: status, check, drain, resume)\",\"kind\":\"usage\"}\n",
        "a request may end with the connection's end of writing"
    );
    let long = vec![b' '; 10_000];
    assert_eq!(
        raw(&socket, &long),
        "{\"ok\":false,\"error\":\"the request is longer than 4096 bytes\",\"kind\":\"usage\"}\n"
    );

    // Eight silent clients hold every place: the ninth is told the plugin is busy, and the
    // silent ones are closed after 5 s, which frees the places.
    let silent: Vec<UnixStream> = (0..8).map(|_| UnixStream::connect(&socket).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let out = ctl(&socket, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "error: busy: 8 connections are served already\n");
    for mut stream in silent {
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let mut rest = Vec::new();
        assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0, "closed without an answer");
    }
    assert!(ctl(&socket, &["status"]).status.success());
    // The plugin went on checking meanwhile, and stops as usual.
    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists());
}

#[test]
fn several_services_and_a_reload_that_changes_the_socket() {
    let dir = Scratch::new("control-services");
    let socket = dir.file("control.sock");
    let config = |path: &Path| {
        format!(
            "no-syslog\nno-ip-setup\nno-ack\nrise = 1\nfall = 1\ninterval = 3600\ncontrol-socket = {}\n\
             [web]\nip = 192.0.2.1\ncommand = echo x >> {}\n[dns]\nip = 192.0.2.53\ncommand = false\n",
            path.display(),
            dir.file("web.checks").display()
        )
    };
    let file = dir.write("services.conf", &config(&socket));
    let mut plugin = Plugin::start(&["--config", file.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    let out = ctl(&socket, &["status"]);
    let table = text(&out.stdout);
    let states: Vec<(String, String)> = table
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells[0].to_owned(), cells[1].to_owned())
        })
        .collect();
    assert_eq!(states, [("web".into(), "UP".into()), ("dns".into(), "DOWN".into())], "{table}");
    assert!(table.lines().nth(2).unwrap().ends_with("192.0.2.53/32 med 1000"), "{table}");
    // One service checked, the other left alone.
    assert_eq!(ctl(&socket, &["check", "dns"]).status.code(), Some(0));
    assert!(wait_for(LIMIT, || status(&socket)["services"][1]["checks"]["failed"] == 2));
    assert_eq!(status(&socket)["services"][0]["checks"]["passed"], 1);
    assert_eq!(dir.read("web.checks").lines().count(), 1);

    // A reload cannot move the socket: it says so and keeps serving where it is.
    dir.write("services.conf", &config(&dir.file("other.sock")));
    plugin.signal(1);
    let changed = format!(
        "--control-socket changed from {} to {}: the socket stays as it is until the plugin is restarted",
        socket.display(),
        dir.file("other.sock").display()
    );
    assert!(wait_for(LIMIT, || plugin.stderr().contains(&changed)), "{}", plugin.stderr());
    assert!(ctl(&socket, &["status"]).status.success());
    assert!(!dir.file("other.sock").exists());
    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists());
}

const DRAINING: &str = "announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]";
const UP: &str = "announce route 192.0.2.1/32 next-hop self med 100";
const WITHDRAW: &str = "withdraw route 192.0.2.1/32 next-hop self";

#[test]
fn drain_and_resume_move_the_service_and_its_lines() {
    let dir = Scratch::new("control-drain");
    // After a drain the service starts again from INIT, and its next check comes after the
    // interval.
    let (mut plugin, socket) =
        start(&dir, &["--cmd", "true", "--debounce", "--drain-time", "500ms", "--interval", "0.3"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let out = ctl(&socket, &["drain"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "draining: web\n");
    assert!(plugin.wait_lines(2, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    let draining = &status(&socket)["services"][0];
    assert_eq!((draining["state"].as_str(), draining["drain_requested"].as_bool()), (Some("DRAINING"), Some(true)));
    assert!(plugin.wait_lines(3, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(plugin.lines(), [UP, DRAINING, WITHDRAW]);
    assert!(wait_for(LIMIT, || status(&socket)["services"][0]["state"] == "DRAINED"));
    let table = text(&ctl(&socket, &["status"]).stdout);
    assert!(table.lines().nth(1).unwrap().ends_with("192.0.2.1/32 withdrawn"), "{table}");
    // DRAINED holds (no check brings it back) until resumed.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(plugin.lines().len(), 3);
    let out = ctl(&socket, &["resume", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "resuming: web\n");
    assert!(plugin.wait_lines(4, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(plugin.lines()[3], UP);
    let up = &status(&socket)["services"][0];
    assert_eq!((up["state"].as_str(), up["drain_requested"].as_bool()), (Some("UP"), Some(false)));
    let logged = |text: &str| wait_for(LIMIT, || plugin.stderr().contains(text));
    assert!(
        logged("control socket: drain (every service)") && logged("control socket: resume (web)"),
        "{}",
        plugin.stderr()
    );
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn drain_wait_returns_once_drained_and_gives_up_after_its_timeout() {
    let dir = Scratch::new("control-drain-wait");
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--debounce", "--drain-time", "700ms"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let started = std::time::Instant::now();
    let out = ctl(&socket, &["drain", "--wait", "--json"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((answer["cmd"].as_str(), answer["services"][0]["state"].as_str()), (Some("drain"), Some("DRAINED")));
    assert!(took >= Duration::from_millis(600), "drain --wait returned after {took:?}, before the drain time");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The withdraw was written before ctl returned.
    assert!(plugin.wait_lines(3, LIMIT), "{:?}", plugin.lines());
    assert_eq!(plugin.lines(), [UP, DRAINING, WITHDRAW]);
    // Drained already: at once (not at the end of the wait's time).
    let started = std::time::Instant::now();
    let out = ctl(&socket, &["drain", "web", "--wait"]);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "drained: web\n".to_owned()));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(plugin.stop(), Some(0));

    // A drain longer than the timeout: exit 1, saying where it stands.
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--drain-time", "30s"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let out = ctl(&socket, &["drain", "--wait", "--timeout", "300ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "error: not drained within 300ms: web DRAINING\n");
    // A client gone while it waits costs nothing: the plugin serves on.
    let mut stream = UnixStream::connect(&socket).unwrap();
    stream.write_all(b"{\"cmd\":\"drain\",\"wait\":true}\n").unwrap();
    drop(stream);
    assert!(wait_for(LIMIT, || plugin.stderr().contains("the client waiting for the drain of every service left")));
    assert!(ctl(&socket, &["status"]).status.success());
    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists());
}

#[test]
fn a_client_that_half_closes_after_drain_wait_gets_its_answer() {
    let dir = Scratch::new("control-half-close");
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--debounce", "--drain-time", "500ms"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    // The end of its writing ends the request; it still reads the answer, once drained.
    let started = std::time::Instant::now();
    let answer = raw(&socket, b"{\"cmd\":\"drain\",\"wait\":true}\n");
    assert!(
        answer.starts_with("{\"ok\":true,\"cmd\":\"drain\",\"services\":[{\"service\":\"web\",\"state\":\"DRAINED\""),
        "{answer:?}\n{}",
        plugin.stderr()
    );
    assert!(started.elapsed() >= Duration::from_millis(400), "answered after {:?}", started.elapsed());
    // Written before the answer; read by the test's own thread, which may come a moment later.
    assert!(plugin.wait_lines(3, LIMIT), "{:?}", plugin.lines());
    assert_eq!(plugin.lines(), [UP, DRAINING, WITHDRAW]);
    assert!(!plugin.stderr().contains("the client waiting for the drain"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));

    // Without a newline (the end of writing is the request's end), and told when its time is up.
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--drain-time", "30s"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let answer = raw(&socket, b"{\"cmd\":\"drain\",\"wait\":true,\"timeout_ms\":300}");
    assert_eq!(answer, "{\"ok\":false,\"error\":\"not drained within 300ms: web DRAINING\",\"kind\":\"failed\"}\n");
    // Half-closed, then gone altogether: that is its leaving.
    let mut stream = UnixStream::connect(&socket).unwrap();
    stream.write_all(b"{\"cmd\":\"drain\",\"wait\":true}\n").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!plugin.stderr().contains("the client waiting for the drain"), "{}", plugin.stderr());
    drop(stream);
    assert!(wait_for(LIMIT, || plugin.stderr().contains("the client waiting for the drain of every service left")));
    assert!(ctl(&socket, &["status"]).status.success());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn the_systemd_drop_in_drains_before_exabgp_stops() {
    let dir = Scratch::new("control-drop-in");
    let conf =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/systemd/exabgp.service.d/drain.conf"))
            .expect("contrib/systemd/exabgp.service.d/drain.conf");
    let stops: Vec<&str> = conf.lines().filter_map(|l| l.strip_prefix("ExecStop=")).collect();
    assert_eq!(stops.len(), 1, "{stops:?}");
    // `-` (a failure does not stop the stop) and `+` (full privileges, whatever the plugin's
    // user), then the command line.
    let command = stops[0].strip_prefix("-+").expect("ExecStop=-+...");
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "/usr/bin/exabgp-healthcheck");
    let socket_at = words.iter().position(|w| *w == "--socket").expect("--socket");
    let default = exabgp_healthcheck::cli::ctl::DEFAULT_SOCKET;
    assert_eq!(words[socket_at + 1], default, "the drop-in names the default socket");
    assert!(conf.contains("RuntimeDirectory=exabgp-healthcheck\n"));
    assert!(default.starts_with("/run/exabgp-healthcheck/"));
    assert!(conf.contains(&format!("--control-socket {default}")), "the drop-in says what the plugin needs");
    // Its command, against a plugin on a socket of ours, drains it and returns once drained.
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--debounce", "--drain-time", "300ms"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let mut args: Vec<&str> = words[1..].to_vec();
    args[socket_at] = socket.to_str().unwrap();
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "drained: web\n");
    // Written before the answer; read by the test's own thread, which may come a moment later.
    assert!(plugin.wait_lines(3, LIMIT), "{:?}", plugin.lines());
    assert_eq!(plugin.lines(), [UP, DRAINING, WITHDRAW]);
    assert_eq!(plugin.stop(), Some(0));
    // With nothing listening it fails at once (and the `-` lets systemd go on).
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    if let Some(analyze) = common::in_path("systemd-analyze") {
        // The drop-in parses, over a unit like ExaBGP's.
        let unit = dir.write("exabgp.service", "[Service]\nUser=exabgp\nExecStart=/bin/true\n");
        let drop_in = dir.file("exabgp.service.d");
        std::fs::create_dir_all(&drop_in).unwrap();
        std::fs::write(drop_in.join("drain.conf"), conf.replace("/usr/bin/exabgp-healthcheck", BIN)).unwrap();
        let out = Command::new(analyze).args(["verify", "--man=no"]).arg(&unit).output().unwrap();
        let err = text(&out.stderr);
        assert!(!err.contains("drain.conf"), "{err}");
    }
}

#[test]
fn with_user_the_socket_is_the_user_s_and_removed_by_it_at_exit() {
    assert!(nix::unistd::geteuid().is_root(), "switching user needs root (contrib/run-tests.sh runs as root)");
    let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("a user named nobody");
    let dir = Scratch::new("control-user");
    // Its directory is writable by the user, as /run/exabgp-healthcheck/ is for the unit's.
    std::fs::set_permissions(&dir.path, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let (mut plugin, socket) = start(&dir, &["--cmd", "true", "--user", "nobody"]);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (nobody.uid.as_raw(), nobody.gid.as_raw()));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(ctl(&socket, &["status"]).status.success(), "root may use it too");
    assert_eq!(plugin.stop(), Some(0));
    assert!(!socket.exists(), "removed by the plugin as nobody\n{}", plugin.stderr());
}

/// `drain --wait` answers once the withdraws are written to ExaBGP, not merely once the
/// service is DRAINED: an ExaBGP that acknowledges slowly (one line every 40 ms, as this test
/// answers) holds 40 addresses' lines in our queue for seconds, and a client that stops the
/// service when answered must not beat the lines that tell the routers.
#[test]
fn drain_wait_answers_once_the_withdraws_are_written_to_exabgp() {
    let dir = Scratch::new("control-drain-written");
    let socket = dir.file("control.sock");
    let ips: Vec<String> = (1..=40).map(|i| format!("192.0.2.{i}")).collect();
    let mut args = vec!["--no-syslog", "--no-ip-setup", "--name", "web", "--rise", "1", "--interval", "3600"];
    args.extend_from_slice(&["--cmd", "true", "--drain-time", "100ms", "--control-socket", socket.to_str().unwrap()]);
    for ip in &ips {
        args.extend_from_slice(&["--ip", ip]);
    }
    let mut plugin = Plugin::start(&args);
    assert!(wait_for(LIMIT, || socket.exists()), "no socket\n{}", plugin.stderr());
    let withdraws = |plugin: &Plugin| plugin.lines().iter().filter(|l| l.starts_with("withdraw")).count();
    let ctl_socket = socket.clone();
    let waiting = std::thread::spawn(move || ctl(&ctl_socket, &["drain", "--wait", "--timeout", "60s"]));
    let (mut answered, started) = (0, std::time::Instant::now());
    while !waiting.is_finished() && started.elapsed() < Duration::from_secs(60) {
        if answered < plugin.lines().len() {
            plugin.say("done");
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    let out = waiting.join().expect("ctl");
    let seen = withdraws(&plugin);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "drained: web\n".to_owned()), "{}", plugin.stderr());
    // What was written when ctl was answered reaches our reader in well under a second;
    // before, most of the 40 withdraws were still queued (a line per answer, every 40 ms).
    let all = wait_for(Duration::from_millis(500), || withdraws(&plugin) == ips.len());
    assert!(all, "ctl answered with {seen} then {} of {} withdraws written", withdraws(&plugin), ips.len());
    assert_eq!(plugin.stop(), Some(0));
}
