//! The Prometheus metrics as the binary exports them (issue 14): `--metrics-file` after each
//! check (counts grow, the state flips when the check fails), replaced atomically (a reader
//! never sees a part of it), `--metrics-listen` answering `GET /metrics` beside idle and slow
//! connections held open (closing them after their time bound, or the oldest to make room),
//! the absolute form and a leading empty line (RFC 9112), 404 on another path, the
//! start-up refusals (an address in use, a missing folder, either inside a section), and
//! `promtool check metrics` on both. No address is touched (`--dry-run` or `--no-ip-setup`);
//! traffic goes to loopback only.

mod common;

use common::{in_path, wait_for, Plugin, Scratch, BIN};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// The value of the sample `name{labels}` (labels as written, in order) in `text`.
fn value(text: &str, sample: &str) -> Option<f64> {
    let full = format!("exabgp_healthcheck_{sample} ");
    text.lines().find_map(|line| line.strip_prefix(&full)).and_then(|v| v.trim().parse().ok())
}

/// The metrics file's text; empty while there is none.
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `promtool check metrics` on `text`: the real one, from Debian's `prometheus` package.
fn promtool_accepts(text: &str) {
    let Some(promtool) = in_path("promtool") else {
        panic!(
            "promtool is not installed: it comes with Debian's prometheus package \
             (apt-get install --no-install-recommends prometheus; contrib/run-tests.sh installs it)"
        );
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{text}");
}

/// The address the plugin says it serves the metrics at (it was given port 0).
fn served_at(plugin: &Plugin) -> SocketAddr {
    let mut addr = None;
    let found = wait_for(LIMIT, || {
        addr = plugin.stderr().lines().find_map(|line| {
            let rest = line.split("serving the metrics at http://").nth(1)?;
            rest.strip_suffix("/metrics")?.parse().ok()
        });
        addr.is_some()
    });
    assert!(found, "no 'serving the metrics' line: {}", plugin.stderr());
    addr.unwrap()
}

/// One request to `addr`: the whole answer (the server closes), within 10 s.
fn request(addr: SocketAddr, text: &str) -> String {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the answer, within 10 s");
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> String {
    request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"))
}

/// The body of a 200 answer.
fn body(answer: &str) -> &str {
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default()
}

/// The plugin's arguments: `flags` (words split on spaces: no paths in them), then `more` as
/// given (paths, a command with spaces).
fn args<'a>(flags: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    flags.split_whitespace().chain(more.iter().copied()).collect()
}

#[test]
fn the_file_follows_every_check_and_the_state_flips_when_the_check_fails() {
    let dir = Scratch::new("metrics-file");
    let path = dir.file("exabgp-healthcheck.prom");
    let check = dir.scripted_check(&[0, 0, 1]);
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --fall 1 --interval 0.4 --timeout 2",
        &["--cmd", &check, "--metrics-file", path.to_str().unwrap()],
    ));
    let passes = |n: f64| value(&read(&path), r#"checks_total{service="web",result="pass"}"#) == Some(n);
    assert!(wait_for(LIMIT, || passes(1.0)), "{}\n{}", read(&path), plugin.stderr());
    let first = read(&path);
    assert_eq!(value(&first, r#"service_state{service="web",state="UP"}"#), Some(1.0), "{first}");
    assert_eq!(value(&first, r#"route_metric{service="web",route="192.0.2.1/32"}"#), Some(100.0), "{first}");
    promtool_accepts(&first);

    assert!(wait_for(LIMIT, || passes(2.0)), "{}", read(&path));
    let fails = |n: f64| value(&read(&path), r#"checks_total{service="web",result="fail"}"#) == Some(n);
    assert!(wait_for(LIMIT, || fails(1.0)), "{}", read(&path));
    let down = read(&path);
    assert_eq!(value(&down, r#"service_state{service="web",state="UP"}"#), Some(0.0), "{down}");
    assert_eq!(value(&down, r#"service_state{service="web",state="DOWN"}"#), Some(1.0), "{down}");
    assert_eq!(value(&down, r#"transitions_total{service="web",to="DOWN"}"#), Some(1.0), "{down}");
    assert_eq!(value(&down, r#"route_metric{service="web",route="192.0.2.1/32"}"#), Some(1000.0), "{down}");
    assert_eq!(value(&down, r#"announcements_total{service="web",action="announce"}"#), Some(3.0), "{down}");
    assert_eq!(value(&down, r#"check_duration_seconds_count{service="web"}"#), Some(3.0), "{down}");
    let since_up = value(&first, r#"service_state_since_seconds{service="web"}"#).unwrap();
    let since_down = value(&down, r#"service_state_since_seconds{service="web"}"#).unwrap();
    assert!(since_down > since_up, "{since_up} then {since_down}");
    promtool_accepts(&down);

    // The scripted check now hangs until --timeout kills it: a timeout, not a failure.
    let timeouts = |n: f64| value(&read(&path), r#"checks_total{service="web",result="timeout"}"#) == Some(n);
    assert!(wait_for(LIMIT, || timeouts(1.0)), "{}", read(&path));
    assert_eq!(value(&read(&path), r#"checks_total{service="web",result="fail"}"#), Some(1.0));

    // At the exit: the withdraw is counted and the route has no metric any more.
    assert_eq!(plugin.stop(), Some(0));
    let last = read(&path);
    assert_eq!(value(&last, r#"announcements_total{service="web",action="withdraw"}"#), Some(1.0), "{last}");
    assert!(!last.contains("exabgp_healthcheck_route_metric{"), "{last}");
    assert!(!dir.file(".exabgp-healthcheck.prom.tmp").exists(), "no temporary file left");
    promtool_accepts(&last);
}

#[test]
fn a_reader_never_sees_a_part_of_the_file() {
    let dir = Scratch::new("metrics-atomic");
    let path = dir.file("m.prom");
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --ip 192.0.2.1 --interval 0.02 --fast-interval 0.02 --cmd true",
        &["--metrics-file", path.to_str().unwrap()],
    ));
    assert!(wait_for(LIMIT, || path.exists()), "{}", plugin.stderr());
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut contents = std::collections::BTreeSet::new();
            let mut reads = 0u32;
            while started.elapsed() < Duration::from_secs(3) && reads < 2_000_000 {
                let text = std::fs::read_to_string(&path).expect("the file is always there once written");
                reads += 1;
                assert!(
                    text.starts_with("# HELP exabgp_healthcheck_build_info ")
                        && text.ends_with("\n")
                        && text.contains("# TYPE exabgp_healthcheck_address_present gauge\n"),
                    "read #{reads} saw a partial file: {text:?}"
                );
                contents.insert(text);
            }
            (reads, contents.len())
        })
    };
    let (reads, distinct) = reader.join().expect("the reader saw only whole files");
    assert_eq!(plugin.stop(), Some(0));
    // It was replaced under the reader many times (every 250 ms at most: about 12 in 3 s).
    assert!(distinct >= 5, "only {distinct} versions in {reads} reads");
    assert!(reads > 100, "{reads} reads");
}

#[test]
fn metrics_are_served_beside_idle_connections_which_are_closed_in_time() {
    let dir = Scratch::new("metrics-listen");
    let file = dir.file("m.prom");
    let mut plugin = Plugin::start(&args(
        "--no-syslog --no-ip-setup --name web --ip 192.0.2.1 --rise 1 --interval 0.2 --cmd true \
         --metrics-listen 127.0.0.1:0",
        &["--metrics-file", file.to_str().unwrap()],
    ));
    let addr = served_at(&plugin);
    // ExaBGP's side: acknowledge a line; the answer is counted.
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    plugin.say("done");
    let replies = || value(body(&get(addr, "/metrics")), r#"exabgp_replies_total{reply="done"}"#);
    assert!(wait_for(LIMIT, || replies().is_some_and(|n| n >= 1.0)), "{:?}", replies());

    // Four idle connections (below the cap of 8): /metrics is answered at once regardless.
    let mut idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).expect("connect")).collect();
    let started = Instant::now();
    let answer = get(addr, "/metrics");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    let text = body(&answer);
    assert!(answer.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "{answer}");
    assert_eq!(value(text, r#"service_state{service="web",state="UP"}"#), Some(1.0), "{text}");
    promtool_accepts(text);
    assert!(get(addr, "/").starts_with("HTTP/1.1 404 Not Found\r\n"));
    assert!(get(addr, "/metrics/x").starts_with("HTTP/1.1 404 Not Found\r\n"));
    let post = request(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{post}");
    let post = request(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
    assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "a body left unread: {post}");
    assert!(request(addr, "hello\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
    let long = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(5000));
    assert!(request(addr, &long).starts_with("HTTP/1.1 431 "));

    // Eight more than fill the cap: the next request does not wait, the oldest idle
    // connection makes room for it.
    let opened = Instant::now();
    idle.extend((0..8).map(|_| TcpStream::connect(addr).expect("connect")));
    std::thread::sleep(Duration::from_millis(200));
    let answer = get(addr, "/metrics");
    assert!(body(&answer).contains("exabgp_healthcheck_build_info{"));
    assert!(opened.elapsed() < Duration::from_secs(2), "answered after {:?}", opened.elapsed());

    // Every idle connection was closed by the plugin within its time bound (2 s to send its
    // request), if not to make room before.
    for (i, stream) in idle.iter_mut().enumerate() {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut byte = [0u8; 1];
        let read = stream.read(&mut byte);
        assert!(matches!(read, Ok(0)), "idle connection {i}: {read:?}");
        assert!(opened.elapsed() < Duration::from_secs(6), "closed after {:?}", opened.elapsed());
    }
    assert_eq!(plugin.stop(), Some(0));
    // Both endpoints show the same metrics.
    promtool_accepts(&read(&file));
    assert!(read(&file).contains(r#"exabgp_healthcheck_service_state{service="web",state="UP"} 1"#));
}

/// Run the binary with `args`: its exit status, stdout and stderr, the scratch directory's
/// path written `D`.
fn run(dir: &Scratch, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("run the binary");
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&dir.path.display().to_string(), "D");
    (out.status.code(), shown(&out.stdout), shown(&out.stderr))
}

#[test]
fn a_listen_address_in_use_is_refused_at_start() {
    let dir = Scratch::new("metrics-in-use");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let pid = dir.file("pid");
    let more = ["--metrics-listen", &addr, "--pid", pid.to_str().unwrap()];
    let (status, stdout, stderr) = run(&dir, &args("--dry-run --no-syslog --ip 192.0.2.1", &more));
    assert_eq!(status, Some(2), "{stderr}");
    assert_eq!(stderr, format!("error: --metrics-listen {addr}: the address is already in use\n"));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!pid.exists(), "the pid file is removed");
    // A name is not resolved (but localhost).
    let (status, _, stderr) = run(&dir, &args("--dry-run --ip 192.0.2.1 --metrics-listen example.test:9876", &[]));
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.starts_with("error: --metrics-listen example.test:9876: not ADDR:PORT"), "{stderr}");
}

#[test]
fn a_metrics_file_in_a_missing_folder_is_refused_before_anything_changes() {
    let dir = Scratch::new("metrics-missing");
    let pid = dir.file("pid");
    let file = dir.file("nowhere/m.prom");
    let more = ["--metrics-file", file.to_str().unwrap(), "--pid", pid.to_str().unwrap()];
    let (status, stdout, stderr) = run(&dir, &args("--dry-run --no-syslog --ip 192.0.2.1", &more));
    assert_eq!(status, Some(2), "{stderr}");
    assert_eq!(stderr, "error: --metrics-file D/nowhere/m.prom: the folder D/nowhere does not exist\n");
    assert!(stdout.is_empty() && !pid.exists(), "{stdout}");
}

#[test]
fn the_metrics_options_are_process_wide() {
    let dir = Scratch::new("metrics-sections");
    let file = dir.file("m.prom");
    for line in [format!("metrics-file = {}", file.display()), "metrics-listen = 127.0.0.1:0".to_owned()] {
        let conf = dir.write("hc.conf", &format!("no-syslog\n[web]\nip = 192.0.2.1\n{line}\n"));
        let (status, _, stderr) = run(&dir, &args("--dry-run", &["--config", conf.to_str().unwrap()]));
        let option = line.split(' ').next().unwrap();
        assert_eq!(status, Some(2), "{stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: D/hc.conf:4: '{option}' is process-wide: it cannot be used inside section [web] (give it \
                 before the first section or on the command line)\n"
            )
        );
    }
    // Before the first section it holds for every service, each with its own label.
    let conf = dir.write(
        "hc.conf",
        &format!(
            "no-syslog\nrise = 1\ninterval = 0.2\nmetrics-file = {}\n[web]\nip = 192.0.2.1\n[dns]\nip = 192.0.2.53\ncommand = false\n",
            file.display()
        ),
    );
    let mut plugin = Plugin::start(&args("--dry-run", &["--config", conf.to_str().unwrap()]));
    let both = || {
        let text = read(&file);
        value(&text, r#"service_state{service="web",state="UP"}"#) == Some(1.0)
            && value(&text, r#"service_state{service="dns",state="DOWN"}"#) == Some(1.0)
    };
    assert!(wait_for(LIMIT, both), "{}\n{}", read(&file), plugin.stderr());
    promtool_accepts(&read(&file));
    // A reload that changes it: logged, takes effect at the next start.
    dir.write("hc.conf", &std::fs::read_to_string(&conf).unwrap().replace("m.prom", "other.prom"));
    plugin.signal(1);
    let want = "process-wide options changed: they take effect when the plugin is restarted";
    assert!(wait_for(LIMIT, || plugin.stderr().contains(want)), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert!(!dir.file("other.prom").exists());
}

#[test]
fn localhost_listens_on_127_0_0_1() {
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --ip 192.0.2.1 --rise 1 --cmd true --metrics-listen localhost:0",
        &[],
    ));
    let addr = served_at(&plugin);
    assert_eq!(addr.ip(), std::net::Ipv4Addr::LOCALHOST, "{addr}");
    let up = || value(body(&get(addr, "/metrics")), r#"service_state{service="healthcheck",state="UP"}"#);
    assert!(wait_for(LIMIT, || up() == Some(1.0)), "{:?}", up());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn an_ipv6_listen_address_serves_the_same() {
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --ip 2001:db8::1 --rise 1 --cmd true --metrics-listen [::1]:0",
        &[],
    ));
    let addr = served_at(&plugin);
    assert!(addr.is_ipv6(), "{addr}");
    let up = || value(body(&get(addr, "/metrics")), r#"service_state{service="healthcheck",state="UP"}"#);
    assert!(wait_for(LIMIT, || up() == Some(1.0)), "{:?}", up());
    let text = get(addr, "/metrics");
    assert!(body(&text).contains(r#"route_metric{service="healthcheck",route="2001:db8::1/128"} 100"#), "{text}");
    promtool_accepts(body(&text));
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_failed_write_is_logged_once_and_the_plugin_runs_on() {
    let dir = Scratch::new("metrics-write-error");
    let folder = dir.file("textfile");
    std::fs::create_dir(&folder).unwrap();
    let path = folder.join("m.prom");
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --ip 192.0.2.1 --rise 1 --interval 0.1 --cmd true",
        &["--metrics-file", path.to_str().unwrap()],
    ));
    assert!(wait_for(LIMIT, || path.exists()), "{}", plugin.stderr());
    std::fs::remove_dir_all(&folder).unwrap();
    let failed = format!("ERROR[healthcheck] --metrics-file {}: failed to write: failed to create ", path.display());
    assert!(wait_for(LIMIT, || plugin.stderr().contains(&failed)), "{}", plugin.stderr());
    // It goes on checking and writing its lines; the error is not repeated at every check.
    let lines = plugin.lines().len();
    assert!(plugin.wait_lines(lines + 5, LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stderr().matches(&failed).count(), 1, "{}", plugin.stderr());
    std::fs::create_dir(&folder).unwrap();
    let again = format!("INFO[healthcheck] --metrics-file {}: written again", path.display());
    assert!(wait_for(LIMIT, || plugin.stderr().contains(&again)), "{}", plugin.stderr());
    assert!(read(&path).contains("exabgp_healthcheck_checks_total{"));
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_drain_shows_in_the_metrics_as_its_own_states() {
    let dir = Scratch::new("metrics-drain");
    let path = dir.file("m.prom");
    // The drain starts once the route is announced (a drain with nothing announced is DRAINED
    // at once).
    let drain = dir.file("drain");
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --interval 0.3 --cmd true",
        &["--drain-file", drain.to_str().unwrap(), "--drain-time", "0.6", "--metrics-file", path.to_str().unwrap()],
    ));
    let state = |name: &str| value(&read(&path), &format!(r#"service_state{{service="web",state="{name}"}}"#));
    assert!(wait_for(LIMIT, || state("UP") == Some(1.0)), "{}\n{}", read(&path), plugin.stderr());
    std::fs::write(&drain, "").unwrap();
    assert!(wait_for(LIMIT, || state("DRAINING") == Some(1.0)), "{}\n{}", read(&path), plugin.stderr());
    let draining = read(&path);
    assert_eq!(value(&draining, r#"route_metric{service="web",route="192.0.2.1/32"}"#), Some(1000.0), "{draining}");
    assert!(wait_for(LIMIT, || state("DRAINED") == Some(1.0)), "{}\n{}", read(&path), plugin.stderr());
    let drained = read(&path);
    assert_eq!(state("DRAINING"), Some(0.0));
    assert_eq!(value(&drained, r#"transitions_total{service="web",to="DRAINED"}"#), Some(1.0), "{drained}");
    assert!(!drained.contains("exabgp_healthcheck_route_metric{"), "withdrawn: {drained}");
    promtool_accepts(&drained);
    assert_eq!(plugin.stop(), Some(0));
}

/// One request to `addr`, with how long its answer took (from before the connect); an error
/// when none came within `limit` (the server closed, or nothing came in time).
fn timed_request(addr: SocketAddr, text: &str, limit: Duration) -> Result<(String, Duration), String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, limit).map_err(|err| format!("connect: {err}"))?;
    stream.set_read_timeout(Some(limit)).unwrap();
    stream.write_all(text.as_bytes()).map_err(|err| format!("write: {err}"))?;
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    match read {
        Ok(_) if !answer.is_empty() => Ok((answer, took)),
        _ => Err(format!("no answer after {took:?} ({read:?})")),
    }
}

/// Clients that send a request a byte a second and connect again when closed, until `stop`.
fn slow_clients(
    addr: SocketAddr,
    n: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use std::sync::atomic::Ordering;
    std::thread::spawn(move || {
        let head = b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: ".to_vec();
        let connect = || {
            let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
            stream.set_write_timeout(Some(Duration::from_millis(100))).ok()?;
            Some((stream, 0usize))
        };
        let mut clients: Vec<Option<(TcpStream, usize)>> = (0..n).map(|_| connect()).collect();
        let started = Instant::now();
        while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
            for client in clients.iter_mut() {
                let sent = match client {
                    Some((stream, at)) => {
                        let byte = head.get(*at).copied().unwrap_or(b'a');
                        *at += 1;
                        stream.write_all(&[byte]).is_ok()
                    }
                    None => false,
                };
                if !sent {
                    *client = connect();
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn an_honest_scrape_is_answered_while_slow_and_idle_clients_hold_connections() {
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --interval 0.2 --cmd true \
         --metrics-listen 127.0.0.1:0",
        &[],
    ));
    let addr = served_at(&plugin);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow = slow_clients(addr, 30, stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    let idle: Vec<TcpStream> =
        (0..140).filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()).collect();
    std::thread::sleep(Duration::from_millis(1500));
    // Held: three honest scrapes, each answered at once (within a second; the bound here is
    // loose so that a busy machine does not fail it).
    let mut times = Vec::new();
    for _ in 0..3 {
        let scrape = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\n\r\n");
        let result = timed_request(addr, &scrape, Duration::from_secs(15));
        let (answer, took) = result.unwrap_or_else(|err| panic!("{err} (idle: {})", idle.len()));
        assert_eq!(value(body(&answer), r#"service_state{service="web",state="UP"}"#), Some(1.0), "{answer}");
        times.push(took);
        std::thread::sleep(Duration::from_millis(700));
    }
    assert!(times.iter().all(|took| *took < Duration::from_secs(3)), "{times:?} beside {} idle", idle.len());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    slow.join().unwrap();
    drop(idle);
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn absolute_form_targets_and_a_leading_empty_line_are_understood() {
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --interval 0.2 --cmd true \
         --metrics-listen 127.0.0.1:0",
        &[],
    ));
    let addr = served_at(&plugin);
    // RFC 9112 3.2.2: a server accepts the absolute form (as a request through a proxy).
    let absolute = request(addr, &format!("GET http://{addr}/metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    promtool_accepts(body(&absolute));
    let absolute = request(addr, &format!("GET HTTP://{addr}/metrics?x=1 HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    assert!(body(&absolute).contains("exabgp_healthcheck_build_info{"), "{absolute}");
    let elsewhere = request(addr, &format!("GET http://{addr}/other HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    assert!(elsewhere.starts_with("HTTP/1.1 404 Not Found\r\n"), "{elsewhere}");
    // RFC 9112 2.2: an empty line before the request line is ignored.
    let leading = request(addr, &format!("\r\nGET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    promtool_accepts(body(&leading));
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_transition_is_in_the_file_at_once_with_its_routes() {
    let dir = Scratch::new("metrics-transition");
    let path = dir.file("m.prom");
    // A hook on UP runs between the verdict and the lines: a snapshot taken then would show UP
    // without its route.
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --interval 5 --cmd true",
        &["--up-execute", "sleep 0.1", "--metrics-file", path.to_str().unwrap()],
    ));
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    std::thread::sleep(Duration::from_millis(100));
    let text = read(&path);
    assert_eq!(value(&text, r#"service_state{service="web",state="UP"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, r#"route_metric{service="web",route="192.0.2.1/32"}"#), Some(100.0), "{text}");
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn every_snapshot_of_the_file_has_the_state_and_the_routes_agree_while_flapping() {
    let dir = Scratch::new("metrics-flapping");
    let path = dir.file("m.prom");
    let flag = dir.file("flag");
    // Passes and fails in turn; a hook on every state entered holds the lines back a moment.
    let check = format!("if [ -e {0} ]; then rm {0}; exit 1; else touch {0}; fi", flag.display());
    let mut plugin = Plugin::start(&args(
        "--dry-run --no-syslog --name web --ip 192.0.2.1 --rise 1 --fall 1 --interval 0.05 --fast-interval 0.05",
        &["--cmd", &check, "--execute", "sleep 0.03", "--metrics-file", path.to_str().unwrap()],
    ));
    assert!(wait_for(LIMIT, || path.exists()), "{}", plugin.stderr());
    let started = Instant::now();
    let mut seen = std::collections::BTreeMap::new();
    let mut reads = 0u32;
    while started.elapsed() < Duration::from_secs(3) && reads < 1_000_000 {
        let text = read(&path);
        reads += 1;
        let state = ["INIT", "UP", "DOWN"]
            .into_iter()
            .find(|state| value(&text, &format!(r#"service_state{{service="web",state="{state}"}}"#)) == Some(1.0));
        let med = value(&text, r#"route_metric{service="web",route="192.0.2.1/32"}"#);
        let agree = match state {
            Some("INIT") => med.is_none(),
            Some("UP") => med == Some(100.0),
            Some("DOWN") => med == Some(1000.0),
            _ => false,
        };
        assert!(agree, "read #{reads}: the state and the route disagree: {state:?} with {med:?}\n{text}");
        *seen.entry(state.unwrap()).or_insert(0u32) += 1;
    }
    assert_eq!(plugin.stop(), Some(0));
    let transitions = plugin.stderr().matches("UP -> DOWN").count();
    assert!(seen.contains_key("UP") && seen.contains_key("DOWN"), "{seen:?} in {reads} reads");
    assert!(transitions >= 5, "{transitions} transitions\n{}", plugin.stderr());
}

#[test]
fn a_metrics_file_folder_the_user_cannot_write_is_refused_at_start() {
    assert!(nix::unistd::geteuid().is_root(), "switching user needs root (contrib/run-tests.sh runs as root)");
    let dir = Scratch::new("metrics-user");
    let folder = dir.file("textfile");
    std::fs::create_dir(&folder).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = folder.join("m.prom");
    let more = ["--metrics-file", file.to_str().unwrap()];
    // (--interval 0: were it not refused, it would exit after its first check.)
    let (status, stdout, stderr) =
        run(&dir, &args("--dry-run --no-syslog --ip 192.0.2.1 --interval 0 --user nobody", &more));
    assert_eq!(status, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: --metrics-file D/textfile/m.prom: the folder D/textfile is not writable by user nobody\n"
    );
    assert!(stdout.is_empty(), "{stdout}");
    // Writable by it: the plugin starts and writes it as nobody.
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut plugin =
        Plugin::start(&args("--dry-run --no-syslog --ip 192.0.2.1 --rise 1 --cmd true --user nobody", &more));
    assert!(wait_for(LIMIT, || read(&file).contains("exabgp_healthcheck_build_info{")), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}

/// With `--bfd` (a session with its own loopback, in a network namespace of its own): the BFD
/// families are written after the services' and promtool takes them.
#[test]
fn bfd_metrics_pass_promtool() {
    let dir = Scratch::new("metrics-bfd");
    let file = dir.file("m.prom");
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\"", BIN])
        .args(["--dry-run", "--no-syslog", "--interval", "0", "--ip", "192.0.2.1", "--bfd", "127.0.0.1"])
        .arg("--metrics-file")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .expect("run the plugin");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).expect("the metrics file");
    for family in ["bfd_session_state", "bfd_transitions_total", "bfd_packets_total", "bfd_detect_time_seconds"] {
        assert!(text.contains(&format!("\nexabgp_healthcheck_{family}{{peer=\"127.0.0.1\"")), "{family}:\n{text}");
    }
    assert!(text.contains("exabgp_healthcheck_bfd_session_state{peer=\"127.0.0.1\",state=\"admin-down\"} 1"), "{text}");
    promtool_accepts(&text);
}
