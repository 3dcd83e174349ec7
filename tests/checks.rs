//! Native checks (`--check`) as the binary runs them, against servers these tests start on
//! 127.0.0.1 and [::1]: tcp, http, https and dns, their options, several checks and `--cmd` together
//! (AND), bad URLs refused at start with exit 2, bad servers failing with their reason, and no
//! child process ever started for a native check. icmp pings a peer in a network namespace the
//! test makes (over a veth pair); ntp asks Debian's chronyd, started by the test in a namespace of
//! its own. No other address is ever contacted.

mod common;

use common::netns::Netns;
use common::servers::Server;
use common::{wait_for, Plugin, Scratch, BIN};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// A server's thread: asked to stop and joined when dropped.
struct Serving {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP server on `local` answering every request with `answer`, until dropped.
struct Http {
    addr: SocketAddr,
    _serving: Serving,
}

impl Http {
    fn start(local: &str, answer: &'static str) -> Http {
        let listener = TcpListener::bind(local).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(60);
            while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        let mut request = [0u8; 4096];
                        let _ = stream.read(&mut request);
                        let _ = stream.write_all(answer.as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Http { addr, _serving: Serving { stop, thread: Some(thread) } }
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nready";
const UNAVAILABLE: &str = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";

/// `--once` with these flags: exit status and stderr.
fn once(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(["--no-syslog", "--ip", "192.0.2.1", "--once"]).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn http_checks_on_ipv4_and_ipv6_with_their_options() {
    for local in ["127.0.0.1:0", "[::1]:0"] {
        let server = Http::start(local, OK);
        let url = format!("http://{}/health", server.addr);
        let (code, stdout, stderr) = once(&["--check", &url]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url} (status 200, ")), "{stderr}");
        assert_eq!(stdout, "announce route 192.0.2.1/32 next-hop self med 100\n");
        let (code, _, stderr) = once(&["--check", &format!("{url}#status=200&body=ready")]);
        assert_eq!(code, Some(0), "{stderr}");
        let (code, _, stderr) = once(&["--check", &format!("{url}#body=gone")]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("body does not contain \"gone\""), "{stderr}");
        let (code, _, stderr) = once(&["--check", &format!("{url}#status=204")]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("status 200, expected 204"), "{stderr}");
    }
    let server = Http::start("127.0.0.1:0", UNAVAILABLE);
    let url = format!("http://{}/", server.addr);
    let (code, stdout, stderr) = once(&["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("WARNING[healthcheck] {url}: status 503")), "{stderr}");
    assert_eq!(stdout, "announce route 192.0.2.1/32 next-hop self med 1000\n");
}

#[test]
fn tcp_checks_and_every_check_together_with_the_command() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = format!("tcp://{}", listener.local_addr().unwrap());
    let closed = format!("tcp://{}", TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap());
    let server = Http::start("127.0.0.1:0", OK);
    let http = format!("http://{}/", server.addr);
    assert_eq!(once(&["--check", &tcp]).0, Some(0));
    let (code, _, stderr) = once(&["--check", &closed]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains(&format!("{closed}: connection refused")), "{stderr}");
    // AND: every check and the command.
    assert_eq!(once(&["--check", &tcp, "--check", &http, "--cmd", "true"]).0, Some(0));
    assert_eq!(once(&["--check", &tcp, "--check", &http, "--cmd", "false"]).0, Some(1));
    assert_eq!(once(&["--check", &tcp, "--check", &closed, "--cmd", "true"]).0, Some(1));
}

#[test]
fn a_server_that_never_answers_fails_at_the_timeout() {
    // Accepts (the kernel does) and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let started = Instant::now();
    let (code, _, stderr) = once(&["--check", &url, "--timeout", "0.3"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no answer within"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn bad_urls_are_refused_at_start_naming_the_url() {
    for (url, why) in [
        ("http://example.com/", "no name is resolved"),
        ("gopher://127.0.0.1/", "unknown scheme 'gopher'"),
        ("tcp://127.0.0.1:99999", "a port is 1 to 65535"),
        ("http://127.0.0.1/#bogus", "#bogus: not an option of a http check"),
        ("dns://127.0.0.1/example.com?type=WHAT", "not a record type"),
    ] {
        let out = Command::new(BIN).args(["--no-syslog", "--dry-run", "--check", url]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.starts_with(&format!("error: --check {url}: ")) && stderr.contains(why), "{url}: {stderr}");
    }
}

/// The pids of `pid`'s children right now.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .flat_map(|task| {
            std::fs::read_to_string(task.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[test]
fn native_checks_never_start_a_child_process() {
    let server = Http::start("127.0.0.1:0", OK);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let flags = ["--no-syslog", "--no-ip-setup", "--no-ack", "--rise", "1", "--interval", "0.01", "--ip", "192.0.2.1"];
    let sample = |extra: &[&str]| {
        let mut args = flags.to_vec();
        args.extend_from_slice(extra);
        let mut plugin = Plugin::start(&args);
        let pid = plugin.child.id();
        assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
        let (mut seen, until) = (0, Instant::now() + Duration::from_secs(1));
        while Instant::now() < until {
            seen += children(pid).len();
        }
        assert_eq!(plugin.stop(), Some(0));
        (seen, plugin.lines().len())
    };
    // The same loop sees the children of a shell check.
    let (with_shell, _) = sample(&["--cmd", "sleep 0.005"]);
    assert!(with_shell > 0, "the sampling never saw a child of --cmd");
    let http = format!("http://{}/", server.addr);
    let tcp = format!("tcp://{}", listener.local_addr().unwrap());
    let (native, lines) = sample(&["--check", &http, "--check", &tcp]);
    assert_eq!(native, 0, "a native check started a child process");
    assert!(lines > 10, "only {lines} lines: the checks did not run every 10 ms");
}

/// The connections in TIME_WAIT, on either end, that have `port` at one end
/// (`/proc/net/tcp`: state 06; local and remote addresses as hex IP:PORT).
fn time_waits(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[3] == "06" && (fields[1].ends_with(&port) || fields[2].ends_with(&port))
        })
        .count()
}

#[test]
fn native_checks_leave_no_time_wait_connections_behind() {
    // At 100 checks a second a graceful close would leave thousands of TIME_WAIT entries a
    // minute on the host; the checks reset their connection once they have their answer.
    let server = Http::start("127.0.0.1:0", OK);
    let port = server.addr.port();
    let (http, tcp) = (format!("http://{}/", server.addr), format!("tcp://{}", server.addr));
    for check in [&http, &tcp] {
        let flags =
            ["--no-syslog", "--no-ip-setup", "--no-ack", "--rise", "1", "--interval", "0.01", "--ip", "192.0.2.1"];
        let mut plugin = Plugin::start_with(Command::new(BIN).args(flags).args(["--check", check]));
        assert!(plugin.wait_lines(30, LIMIT), "{}", plugin.stderr());
        assert_eq!(plugin.stop(), Some(0));
        let announced = plugin.lines().iter().filter(|l| l.starts_with("announce")).cloned().collect::<Vec<_>>();
        assert!(announced.iter().all(|l| l.ends_with("med 100")), "{check} failed: {}", plugin.stderr());
        assert_eq!(time_waits(port), 0, "{check}: connections left in TIME_WAIT after {} checks", plugin.lines().len());
    }
}

#[test]
fn a_failing_native_check_moves_the_route_in_the_plugin() {
    let server = Http::start("127.0.0.1:0", OK);
    let url = format!("http://{}/", server.addr);
    let flags = ["--no-syslog", "--no-ip-setup", "--no-ack", "--debounce", "--rise", "1", "--fall", "1"];
    let mut args = flags.to_vec();
    args.extend_from_slice(&["--interval", "0.05", "--ip", "192.0.2.1", "--check", &url]);
    let mut plugin = Plugin::start(&args);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    drop(server);
    assert!(plugin.wait_lines(2, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines()[..2],
        ["announce route 192.0.2.1/32 next-hop self med 100", "announce route 192.0.2.1/32 next-hop self med 1000"]
    );
    assert!(wait_for(LIMIT, || plugin.stderr().contains(&format!("{url}: connection refused"))), "{}", plugin.stderr());
}

/// A DNS server on `local` answering every query for an A record with `answer` (an IPv4
/// address) or, with `None`, NXDOMAIN; until dropped. The answer is built by hand: header,
/// the question as asked, one A record pointing at the question's name.
struct Dns {
    addr: SocketAddr,
    _serving: Serving,
}

impl Dns {
    fn start(local: &str, answer: Option<[u8; 4]>) -> Dns {
        let socket = UdpSocket::bind(local).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(60);
            let mut query = [0u8; 512];
            while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
                let Ok((n, from)) = socket.recv_from(&mut query) else { continue };
                // The question ends after the name's terminating zero, type and class.
                let Some(end) = query[12..n].iter().position(|&b| b == 0).map(|at| 12 + at + 5) else { continue };
                let mut reply = query[..end].to_vec();
                reply[2] = 0x81; // a response, recursion desired
                reply[3] = if answer.is_some() { 0x80 } else { 0x83 }; // recursion available; NXDOMAIN
                reply[6..12].copy_from_slice(&[0, u8::from(answer.is_some()), 0, 0, 0, 0]);
                if let Some(ip) = answer {
                    reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                    reply.extend_from_slice(&ip);
                }
                let _ = socket.send_to(&reply, from);
            }
        });
        Dns { addr, _serving: Serving { stop, thread: Some(thread) } }
    }
}

#[test]
fn dns_checks_on_ipv4_and_ipv6_with_expect() {
    for local in ["127.0.0.1:0", "[::1]:0"] {
        let server = Dns::start(local, Some([192, 0, 2, 7]));
        let url = format!("dns://{}/health.example.", server.addr);
        let (code, _, stderr) = once(&["--check", &url]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url} (NOERROR, 1 A record, ")), "{stderr}");
        assert_eq!(once(&["--check", &format!("{url}#expect=192.0.2.7")]).0, Some(0));
        let (code, _, stderr) = once(&["--check", &format!("{url}#expect=192.0.2.8")]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("192.0.2.8 not among the answers (192.0.2.7)"), "{stderr}");
    }
    let server = Dns::start("127.0.0.1:0", None);
    let url = format!("dns://{}/gone.example.", server.addr);
    let (code, _, stderr) = once(&["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{url}: NXDOMAIN")), "{stderr}");
    // Nobody answers on this port.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("dns://{}/x.example.", silent.local_addr().unwrap());
    let (code, _, stderr) = once(&["--check", &url, "--timeout", "0.3"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no answer within"), "{stderr}");
}

/// A TLS server on `local` with the certificate `chain` and its `key`, answering every request
/// with `answer`, until dropped (a handshake the client refuses is just a closed connection).
struct Https {
    addr: SocketAddr,
    _serving: Serving,
}

impl Https {
    fn start(local: &str, (chain, key): Leaf, answer: &'static str) -> Https {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind(local).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(60);
            while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                stream.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
                let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut request = [0u8; 4096];
                if tls.read(&mut request).is_ok() {
                    let _ = tls.write_all(answer.as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        });
        Https { addr, _serving: Serving { stop, thread: Some(thread) } }
    }
}

/// A certificate chain and its key.
type Leaf = (Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>);

/// A test CA named after `scratch` (its certificate written to `ca.pem` in it) and a leaf it signed for
/// 127.0.0.1, ::1 and localhost.
fn test_ca(scratch: &Scratch) -> (std::path::PathBuf, Leaf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, format!("exabgp-healthcheck {}", scratch.path.display()));
    let ca_file = scratch.write("ca.pem", &ca.self_signed(&ca_key).unwrap().pem());
    let key = rcgen::KeyPair::generate().unwrap();
    let names = ["127.0.0.1", "::1", "localhost"].map(str::to_owned).to_vec();
    let leaf = rcgen::CertificateParams::new(names).unwrap();
    let cert = leaf.signed_by(&key, &rcgen::Issuer::from_params(&ca, &ca_key)).unwrap();
    (ca_file, (vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into())))
}

/// `--once` with these flags and `EXABGP_HEALTHCHECK_CA_FILE` set to `ca_file`: exit status
/// and stderr.
fn once_trusting(ca_file: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .env("EXABGP_HEALTHCHECK_CA_FILE", ca_file)
        .args(["--no-syslog", "--ip", "192.0.2.1", "--once"])
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn https_insecure_takes_a_self_signed_certificate_that_verification_refuses() {
    let scratch = Scratch::new("https-insecure");
    let (other_ca, _) = test_ca(&scratch);
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "::1".to_owned()]).unwrap();
    let leaf = || {
        (
            vec![made.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into()),
        )
    };
    for local in ["127.0.0.1:0", "[::1]:0"] {
        let server = Https::start(local, leaf(), OK);
        let url = format!("https://{}/health", server.addr);
        let (code, stdout, stderr) = once(&["--check", &format!("{url}#insecure")]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url}#insecure (status 200, ")), "{stderr}");
        assert_eq!(stdout, "announce route 192.0.2.1/32 next-hop self med 100\n");
        let (code, stderr) = once_trusting(&other_ca, &["--check", &format!("{url}#insecure&body=gone")]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("body does not contain \"gone\""), "{stderr}");
        let (code, stderr) = once_trusting(&other_ca, &["--check", &url]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("WARNING[healthcheck] {url}: self-signed (not signed by a trusted CA)\n")),
            "{stderr}"
        );
    }
}

#[test]
fn https_verified_against_a_ca_named_by_the_environment() {
    let scratch = Scratch::new("https-ca");
    let (ca_file, leaf) = test_ca(&scratch);
    let server = Https::start("127.0.0.1:0", leaf, OK);
    let port = server.addr.port();
    for url in
        [format!("https://127.0.0.1:{port}/health"), format!("https://localhost:{port}/health#status=200&body=ready")]
    {
        let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url} (status 200, ")), "{stderr}");
    }
    let url = format!("https://127.0.0.1:{port}/#sni=www.example.test");
    let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    let words = "certificate is for another name (127.0.0.1, ::1, localhost), not www.example.test";
    assert!(stderr.contains(&format!("{url}: {words}\n")), "{stderr}");
    let other = Scratch::new("https-other-ca");
    let (other_ca, other_leaf) = test_ca(&other);
    let server = Https::start("[::1]:0", other_leaf, UNAVAILABLE);
    let url = format!("https://{}/", server.addr);
    let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    let words = "unknown issuer (not signed by a trusted CA)";
    assert!(stderr.contains(&format!("{url}: {words}\n")), "another CA's leaf: {stderr}");
    let (code, stderr) = once_trusting(&other_ca, &["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{url}: status 503")), "its own CA: {stderr}");
}

#[test]
fn https_refusals_of_the_certificate_are_said_in_words() {
    let scratch = Scratch::new("https-words");
    // A CA's own certificate served as the server's (valid for the address, and trusted).
    let key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = ca.self_signed(&key).unwrap();
    let ca_file = scratch.write("ca-as-server.pem", &cert.pem());
    let leaf = (vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()));
    let server = Https::start("127.0.0.1:0", leaf, OK);
    let url = format!("https://{}/", server.addr);
    let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("WARNING[healthcheck] {url}: certificate is a CA, not a server certificate\n")),
        "{stderr}"
    );
}

#[test]
fn bad_https_urls_are_refused_at_start() {
    for (url, why) in [
        ("http://127.0.0.1/#insecure", "#insecure: not an option of a http check"),
        ("http://127.0.0.1/#sni=www.example.test", "#sni: not an option of a http check"),
        ("https://127.0.0.1/#sni=a%20b", "not a DNS name"),
        ("https://127.0.0.1/#sni=192.0.2.1", "not an address"),
        ("https://127.0.0.1/#insecure=yes", "takes no value"),
        ("https://www.example.test/", "no name is resolved"),
    ] {
        let out = Command::new(BIN).args(["--no-syslog", "--dry-run", "--check", url]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.starts_with(&format!("error: --check {url}: ")) && stderr.contains(why), "{url}: {stderr}");
    }
}

/// Two namespaces joined by a veth pair: `here` (where the plugin runs, 10.21.0.1 and
/// fd21::1) and `peer` (10.21.0.2 and fd21::2).
fn icmp_pair() -> (Netns, Netns) {
    let (here, peer) = (Netns::new("icmp-here"), Netns::new("icmp-peer"));
    here.ip(&["link", "add", "veth-here", "type", "veth", "peer", "name", "veth-peer", "netns", &peer.name]);
    for (ns, dev, v4, v6) in
        [(&here, "veth-here", "10.21.0.1/24", "fd21::1/64"), (&peer, "veth-peer", "10.21.0.2/24", "fd21::2/64")]
    {
        ns.ip(&["address", "add", v4, "dev", dev]);
        ns.ip(&["address", "add", v6, "dev", dev, "nodad"]);
        ns.ip(&["link", "set", dev, "up"]);
    }
    (here, peer)
}

/// `net.ipv4.ping_group_range` in `ns` (which covers IPv6 too).
fn ping_group_range(ns: &Netns, range: &str) {
    let out = ns.exec(&["sysctl", "-q", "-w", &format!("net.ipv4.ping_group_range={range}")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Our binary in `ns` with `args`, as root or as nobody without any capability: exit status
/// and stderr.
fn icmp_run(ns: &Netns, nobody: bool, args: &[&str]) -> (Option<i32>, String) {
    let mut argv: Vec<&str> = Vec::new();
    if nobody {
        argv.extend([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]);
    }
    argv.extend([BIN, "--no-syslog", "--ip", "192.0.2.1"]);
    argv.extend_from_slice(args);
    let out = ns.exec(&argv).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn icmp_checks_a_namespace_peer_over_a_raw_or_an_unprivileged_socket() {
    let (here, peer) = icmp_pair();
    let both = ["--once", "--check", "icmp://10.21.0.2", "--check", "icmp://[fd21::2]"];
    // Root, and ping_group_range left at "1 0" (nobody's): a raw socket.
    let (code, stderr) = icmp_run(&here, false, &both);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("healthy: icmp://10.21.0.2 (echo reply, "), "{stderr}");
    assert!(stderr.contains("healthy: icmp://[fd21::2] (echo reply, "), "{stderr}");
    // Nobody, without a capability: refused at start, saying what is missing.
    let (code, stderr) = icmp_run(&here, true, &["--dry-run", "--check", "icmp://10.21.0.2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: --check icmp://10.21.0.2: neither ICMP socket can be made: an unprivileged one \
             needs net.ipv4.ping_group_range (now \"1 0\") to include one of our groups (65534); a raw one needs \
             CAP_NET_RAW, which this process lacks"
        ),
        "{stderr}"
    );
    // The sysctl allows every group: nobody pings over the unprivileged socket.
    ping_group_range(&here, "0 2147483647");
    let (code, stderr) = icmp_run(&here, true, &both);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("healthy: icmp://[fd21::2] (echo reply, "), "{stderr}");
    // And --user nobody is accepted at start: the sysctl allows its group.
    let (code, stderr) = icmp_run(&here, false, &["--once", "--user", "nobody", "--check", "icmp://10.21.0.2"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Only nobody's group allowed: root pings over a raw socket at start, and the plugin, once
    // switched to nobody, over the unprivileged one (the raw one went with the switch).
    ping_group_range(&here, "65534 65534");
    let flags = ["--no-syslog", "--no-ip-setup", "--no-ack", "--debounce", "--rise", "1", "--fall", "1"];
    let mut args = flags.to_vec();
    args.extend_from_slice(&["--user", "nobody", "--interval", "0.1", "--ip", "192.0.2.1"]);
    args.extend_from_slice(&["--check", "icmp://10.21.0.2", "--check", "icmp://[fd21::2]"]);
    let mut plugin = here.plugin(&args);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(plugin.stop(), Some(0));
    // UP from the first check on (a first check failing would have made it DOWN first).
    assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 100", "{}", plugin.stderr());
    assert!(plugin.stderr().contains("INIT -> UP"), "{}", plugin.stderr());
    assert!(!plugin.stderr().contains("WARNING"), "{}", plugin.stderr());
    ping_group_range(&here, "0 2147483647");
    // A peer down when the check starts and up again a second later: the request sent again
    // finds it, within the timeout.
    peer.ip(&["link", "set", "veth-peer", "down"]);
    let mut late = here.exec(&[BIN, "--no-syslog", "--ip", "192.0.2.1", "--once", "--timeout", "8"]);
    let late = late.args(["--check", "icmp://10.21.0.2"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    peer.ip(&["link", "set", "veth-peer", "up"]);
    let out = late.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("healthy: icmp://10.21.0.2 (echo reply, "), "{stderr}");
    // A peer that went down: unhealthy at the timeout, on both kinds of socket.
    peer.ip(&["link", "set", "veth-peer", "down"]);
    for nobody in [false, true] {
        for url in ["icmp://10.21.0.2", "icmp://[fd21::2]"] {
            let started = Instant::now();
            let (code, stderr) = icmp_run(&here, nobody, &["--once", "--timeout", "0.5", "--check", url]);
            assert_eq!(code, Some(1), "{stderr}");
            // Cut at the timeout, saying why a request could not even go where it could not.
            assert!(stderr.contains(&format!("WARNING[healthcheck] {url}: no answer within 500ms")), "{stderr}");
            assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        }
    }
    // With --user, only the unprivileged socket is left: refused at start when the sysctl
    // does not allow the user's group.
    ping_group_range(&here, "1 0");
    let (code, stderr) = icmp_run(&here, false, &["--dry-run", "--user", "nobody", "--check", "icmp://10.21.0.2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--check icmp://10.21.0.2: after the switch to another user (--user)"), "{stderr}");
    // From a configuration file, the refusal names its line, as every other error in one.
    let scratch = Scratch::new("icmp-config");
    let file = scratch.write("hc.conf", "user = nobody\n[ping]\nip = 192.0.2.1\ncheck = icmp://10.21.0.2\n");
    let file = file.to_str().unwrap();
    let out = here.command(&["--no-syslog", "--dry-run", "--config", file]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let at = format!("error: {file}:4: --check icmp://10.21.0.2: after the switch to another user (--user)");
    assert!(stderr.starts_with(&at), "{stderr}");
}

#[test]
fn https_min_days_fails_a_certificate_expiring_sooner_saying_when() {
    let scratch = Scratch::new("https-min-days");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, format!("exabgp-healthcheck {}", scratch.path.display()));
    let ca_file = scratch.write("ca.pem", &ca.self_signed(&ca_key).unwrap().pem());
    // A leaf valid until midnight UTC 4 days from today: 3 days and some hours left.
    let day = std::time::SystemTime::now() + Duration::from_secs(4 * 86_400);
    let date = humantime::format_rfc3339_seconds(day).to_string()[..10].to_owned();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "::1".to_owned()]).unwrap();
    leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf.not_after =
        rcgen::date_time_ymd(date[..4].parse().unwrap(), date[5..7].parse().unwrap(), date[8..10].parse().unwrap());
    let cert = leaf.signed_by(&key, &rcgen::Issuer::from_params(&ca, &ca_key)).unwrap();
    let chain = vec![cert.der().clone()];
    for local in ["127.0.0.1:0", "[::1]:0"] {
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let server = Https::start(local, (chain.clone(), key), OK);
        let url = format!("https://{}/health#min-days=7", server.addr);
        let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
        assert_eq!(code, Some(1), "{stderr}");
        let words = format!("certificate expires in 3 days, on {date}T00:00:00Z (#min-days=7)");
        assert!(stderr.contains(&format!("WARNING[healthcheck] {url}: {words}\n")), "{stderr}");
        let url = format!("https://{}/health#min-days=1", server.addr);
        let (code, stderr) = once_trusting(&ca_file, &["--check", &url]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url} (status 200, certificate expires in 3 days, ")), "{stderr}");
    }
}

#[test]
fn bad_icmp_ntp_and_min_days_urls_are_refused_at_start_naming_the_flag() {
    for (url, why) in [
        ("icmp://gateway.example", "'gateway.example' is not an IP address: no name is resolved"),
        ("icmp://192.0.2.1:7", "an icmp check has no port"),
        ("icmp://192.0.2.1#count=3", "#count: not an option of a icmp check"),
        ("ntp://pool.ntp.example", "no name is resolved"),
        ("ntp://127.0.0.1#max-stratum=16", "#max-stratum=16: a stratum is 1 to 15"),
        ("ntp://127.0.0.1#max-stratum=x", "#max-stratum=x: a stratum is 1 to 15"),
        ("ntp://127.0.0.1#max-offset=soon", "#max-offset=soon: not a duration"),
        ("https://127.0.0.1/#min-days=0", "#min-days=0: a number of days, 1 to 3650"),
        ("https://127.0.0.1/#min-days=week", "#min-days=week: a number of days, 1 to 3650"),
        ("http://127.0.0.1/#min-days=7", "#min-days: not an option of a http check"),
    ] {
        let out = Command::new(BIN).args(["--no-syslog", "--dry-run", "--check", url]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.starts_with(&format!("error: --check {url}: ")) && stderr.contains(why), "{url}: {stderr}");
    }
}

#[test]
fn ntp_checks_a_chronyd_the_test_starts_in_its_namespace() {
    let on_path =
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("chronyd").exists()));
    assert!(
        on_path || Path::new("/usr/sbin/chronyd").exists(),
        "no chronyd: contrib/run-tests.sh installs Debian's chrony"
    );
    let scratch = Scratch::new("ntp");
    let ns = Netns::new("ntp");
    let mut chronyd = Server::chronyd(&scratch.path, 123, None);
    chronyd.start(&ns, LIMIT);
    let check = |url: &str| {
        let out = ns
            .command(&["--no-syslog", "--ip", "192.0.2.1", "--once", "--timeout", "0.5", "--check", url])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // Until it answers with a sane stratum (it binds its port within a moment of starting).
    let ready = wait_for(LIMIT, || check("ntp://127.0.0.1").0 == Some(0));
    assert!(ready, "chronyd never answered: {}\n{}", check("ntp://127.0.0.1").1, scratch.read("chronyd-123.log"));
    for url in ["ntp://127.0.0.1", "ntp://[::1]:123", "ntp://localhost#max-stratum=8&max-offset=100ms"] {
        let (code, stderr) = check(url);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("healthy: {url} (stratum 8, offset ")), "{stderr}");
    }
    let url = "ntp://[::1]#max-stratum=7";
    let (code, stderr) = check(url);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("WARNING[healthcheck] {url}: stratum 8, above #max-stratum=7\n")), "{stderr}");
    // Another one whose clock is 5 s ahead of ours: beyond #max-offset=1s, within 10s.
    let mut ahead = Server::chronyd(&scratch.path, 1123, Some("+5s"));
    ahead.start(&ns, LIMIT);
    assert!(wait_for(LIMIT, || check("ntp://127.0.0.1:1123").0 == Some(0)), "{}", scratch.read("chronyd-1123.log"));
    let url = "ntp://127.0.0.1:1123#max-offset=1s";
    let (code, stderr) = check(url);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("WARNING[healthcheck] {url}: offset +50")), "{stderr}");
    assert!(stderr.contains(" ms, beyond #max-offset=1s\n"), "{stderr}");
    assert_eq!(check("ntp://127.0.0.1:1123#max-offset=10s").0, Some(0));
    // Nobody on the port: refused.
    let (code, stderr) = check("ntp://127.0.0.1:1124");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("WARNING[healthcheck] ntp://127.0.0.1:1124: connection refused\n"), "{stderr}");
}
