//! End to end with the native checks (`--check URL`) against real servers from Debian: real
//! ExaBGP (4.2.25 and 5.0.15) on a load balancer peering with a real BIRD 2, in network
//! namespaces these tests create; the plugin, in ExaBGP's `process` stanza, checks a real
//! server that the test runs in the load balancer's namespace (tests/common/servers.rs):
//! - nginx, `--check http://127.0.0.1:8080/health#body=ready`, the route at MED 100 / 1000;
//! - unbound, `--check dns://127.0.0.1:5353/health.example.?type=A#expect=192.0.2.53`, with
//!   `--withdraw-on-down` (as exabgp-examples/anycast-dns does);
//! - nginx over TLS on a certificate the test makes (rcgen): self-signed for 127.0.0.1, with
//!   `--check https://127.0.0.1:8443/health#insecure&body=ready`; signed by a test CA for
//!   `health.example`, with `#sni=health.example&body=ready` and the CA trusted through
//!   `EXABGP_HEALTHCHECK_CA_FILE` in ExaBGP's environment (the plugin inherits it);
//! - chronyd, `--check ntp://127.0.0.1:12300` (its own clock at stratum 8, `local stratum 8`);
//! - a peer, `--check icmp://10.97.0.2`: a namespace of the test's own joined to the load
//!   balancer by a veth pair (lb1's `to-target` 10.97.0.1/24, the peer's `uplink` 10.97.0.2/24),
//!   the plugin pinging over a raw socket (ExaBGP runs it as root).
//!
//! The scenario, on the router's own table: the server answers, the route is there (MED 100);
//! the server gets SIGTERM (by PID) and exits (icmp: the peer's link is set down): the route
//! moves (MED 1000, or is withdrawn) and ExaBGP's log has the check's reason (`connection
//! refused`; icmp: `no answer within 1s`); the server is started again (the peer's link set up):
//! the route comes back.
//! And exabgp-examples/anycast-dns's own process (its `run` line) with `--once` against a real
//! unbound on 127.0.0.1:53: healthy, then unhealthy once unbound is stopped.
//!
//! Needs root, `ip`, BIRD 2, the ExaBGP virtualenvs, nginx, unbound, chronyd and python3 (for
//! the probes that tell when a server or the peer answers, not our binary's checks):
//! `contrib/run-tests.sh` installs them. The lab (tests/common/lab.rs: the router, one load
//! balancer) keeps traffic inside its namespaces, the servers on the load balancer's 127.0.0.1,
//! the icmp peer in a namespace of the test's. Every wait is bounded; the namespaces and every
//! process started are removed (by PID) when a test ends, even when it fails.

mod common;

use common::lab::{self, Lab, RouterKind, Speaker};
use common::netns::Netns;
use common::servers::{Server, DNS_ADDRESS, DNS_NAME, HTTP_BODY};
use common::{exabgp, wait_for, Scratch, BIN};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SERVICE: &str = "37.72.160.80/32";
const WAIT: Duration = Duration::from_secs(30);
const HTTP_PORT: u16 = 8080;
const DNS_PORT: u16 = 5353;
const HTTPS_PORT: u16 = 8443;
const NTP_PORT: u16 = 12300;
/// The icmp peer's address, and the load balancer's on the same link.
const PEER: &str = "10.97.0.2";
const PEER_LB: &str = "10.97.0.1";
/// The name the trusted certificate is for, sent in SNI.
const HTTPS_NAME: &str = "health.example";
/// What runs the servers and tells when they answer.
const SERVERS: [&str; 4] = ["python3", "nginx", "unbound", "chronyd"];

#[test]
fn exabgp_5_0_nginx_stopped_and_started_moves_the_route() {
    run(exabgp::V5, Kind::Nginx);
}

#[test]
fn exabgp_4_2_nginx_stopped_and_started_moves_the_route() {
    run(exabgp::V4, Kind::Nginx);
}

#[test]
fn exabgp_5_0_unbound_stopped_and_started_withdraws_and_announces() {
    run(exabgp::V5, Kind::Unbound);
}

#[test]
fn exabgp_4_2_unbound_stopped_and_started_withdraws_and_announces() {
    run(exabgp::V4, Kind::Unbound);
}

#[test]
fn exabgp_5_0_nginx_https_insecure_stopped_and_started_moves_the_route() {
    run(exabgp::V5, Kind::HttpsInsecure);
}

#[test]
fn exabgp_4_2_nginx_https_insecure_stopped_and_started_moves_the_route() {
    run(exabgp::V4, Kind::HttpsInsecure);
}

#[test]
fn exabgp_5_0_nginx_https_trusted_stopped_and_started_moves_the_route() {
    run(exabgp::V5, Kind::HttpsTrusted);
}

#[test]
fn exabgp_4_2_nginx_https_trusted_stopped_and_started_moves_the_route() {
    run(exabgp::V4, Kind::HttpsTrusted);
}

#[test]
fn exabgp_5_0_chronyd_stopped_and_started_moves_the_route() {
    run(exabgp::V5, Kind::Ntp);
}

#[test]
fn exabgp_4_2_chronyd_stopped_and_started_moves_the_route() {
    run(exabgp::V4, Kind::Ntp);
}

#[test]
fn exabgp_5_0_icmp_peer_down_and_up_moves_the_route() {
    run(exabgp::V5, Kind::Icmp);
}

#[test]
fn exabgp_4_2_icmp_peer_down_and_up_moves_the_route() {
    run(exabgp::V4, Kind::Icmp);
}

/// `python3 -c PING ADDRESS`: exit 0 when ADDRESS answers an ICMP echo request (a raw socket:
/// root) within 1 s (2 s in all), not our binary's check.
const PING: &str = r#"
import signal, socket, struct, sys
signal.alarm(2)
def checksum(data):
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff
peer = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
body = struct.pack('!HH', 0x4ec5, 1) + b'e2e-checks'
s.sendto(struct.pack('!BBH', 8, 0, checksum(struct.pack('!BBH', 8, 0, 0) + body)) + body, (peer, 0))
while True:
    packet, (source, _) = s.recvfrom(1024)
    icmp = packet[(packet[0] & 15) * 4:]
    if source == peer and icmp[0] == 0 and icmp[4:8] == body[:4]:
        sys.exit(0)
"#;

/// exabgp-examples/anycast-dns's own process, as its `run` line has it, against a real unbound
/// on 127.0.0.1:53 (the example's resolver, in a namespace): `--once` finds it healthy (exit 0,
/// the announce); with unbound stopped, unhealthy (exit 1, the withdraw).
#[test]
fn the_anycast_dns_example_checks_a_real_unbound() {
    preflight_servers();
    let dir = Scratch::new("e2e-checks-example");
    let conf =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("exabgp-examples/anycast-dns/exabgp.conf"))
            .expect("the example's exabgp.conf");
    let run = conf.lines().map(str::trim).find_map(|l| l.strip_prefix("run ")).expect("a run line");
    let argv = words(run.trim_end_matches(';'));
    assert_eq!(argv[0], "/usr/bin/exabgp-healthcheck", "{run}");
    assert!(argv.iter().any(|a| a.starts_with("dns://127.0.0.1/")), "the example does not use a dns check: {run}");
    let here = format!("{}/", dir.path.display());
    let mut args: Vec<String> = argv[1..].iter().map(|a| a.replace("/etc/exabgp/", &here)).collect();
    args.extend(["--once", "--no-ip-setup", "--no-syslog"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let ns = Netns::new("e2e-checks");
    let mut unbound = Server::unbound(&dir.path, 53);
    unbound.start(&ns, WAIT);
    let once = |what: &str, code: i32, line: &str| {
        let mut plugin = ns.plugin(&args);
        let exit = plugin.wait_exit(WAIT);
        let said = format!("{what}: {args:?}\nstdout:\n{}\nstderr:\n{}", plugin.stdout(), plugin.stderr());
        assert_eq!(exit, Some(code), "{said}");
        assert!(plugin.lines().iter().any(|l| l.starts_with(line)), "{said}");
    };
    once("unbound answers", 0, "announce route 203.0.113.53/32");
    unbound.stop(WAIT);
    once("unbound stopped", 1, "withdraw route 203.0.113.53/32");
}

/// A `run` line's words as ExaBGP splits them: on spaces, double quotes keep a word together.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted) = (Vec::new(), None::<String>, false);
    for c in line.chars() {
        if c == ' ' && !quoted {
            words.extend(word.take());
            continue;
        }
        let current = word.get_or_insert_with(String::new);
        if c == '"' {
            quoted = !quoted;
        } else {
            current.push(c);
        }
    }
    words.extend(word);
    words
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Nginx,
    Unbound,
    /// nginx over TLS, a self-signed certificate for 127.0.0.1, checked with `#insecure`.
    HttpsInsecure,
    /// nginx over TLS, a certificate for [`HTTPS_NAME`] signed by a test CA, the CA trusted
    /// through `EXABGP_HEALTHCHECK_CA_FILE`.
    HttpsTrusted,
    /// chronyd on 127.0.0.1:[`NTP_PORT`].
    Ntp,
    /// A peer at [`PEER`] in a namespace of its own, its link set down and up.
    Icmp,
}

/// What the check checks: a server on the load balancer's 127.0.0.1, or the icmp peer's
/// namespace, its `uplink` up or down.
enum Target {
    Server(Server),
    Peer(Netns),
}

impl Target {
    /// The server started, or the peer's link up; either answering within [`WAIT`].
    fn start(&mut self, lb: &Netns) {
        match self {
            Target::Server(server) => server.start(lb, WAIT),
            Target::Peer(peer) => {
                peer.ip(&["link", "set", "uplink", "up"]);
                assert!(wait_for(WAIT, || self.answers(lb)), "the peer {PEER} does not answer ping");
            }
        }
    }

    /// The server stopped (SIGTERM by PID, its exit within [`WAIT`]), or the peer's link down.
    fn stop(&mut self) {
        match self {
            Target::Server(server) => server.stop(WAIT),
            Target::Peer(peer) => {
                peer.ip(&["link", "set", "uplink", "down"]);
            }
        }
    }

    /// Whether it answers from `lb` now.
    fn answers(&self, lb: &Netns) -> bool {
        match self {
            Target::Server(server) => server.answers(lb),
            Target::Peer(_) => {
                let ping = lb.exec(&["python3", "-c", PING, PEER]).stdin(Stdio::null()).output();
                ping.is_ok_and(|out| out.status.success())
            }
        }
    }
}

impl Kind {
    /// The target in `lab`: the server, its files (and, for https, the certificate, its key
    /// and the CA) in the lab's directory; the icmp peer's namespace, wired to lb1, its link
    /// down (not started yet).
    fn target(self, lab: &Lab) -> Target {
        let dir = &lab.dir.path;
        Target::Server(match self {
            Kind::Nginx => Server::nginx(dir, HTTP_PORT),
            Kind::Unbound => Server::unbound(dir, DNS_PORT),
            Kind::HttpsInsecure | Kind::HttpsTrusted => {
                let (cert, key) = self.certificate(dir);
                Server::nginx_tls(dir, HTTPS_PORT, &cert, &key)
            }
            Kind::Ntp => Server::chronyd(dir, NTP_PORT, None),
            Kind::Icmp => {
                let (lb, peer) = (lab.lb(1), Netns::new("e2e-checks-peer"));
                lb.ip(&["link", "add", "to-target", "type", "veth", "peer", "name", "uplink", "netns", &peer.name]);
                lb.ip(&["address", "add", &format!("{PEER_LB}/24"), "dev", "to-target"]);
                lb.ip(&["link", "set", "to-target", "up"]);
                peer.ip(&["address", "add", &format!("{PEER}/24"), "dev", "uplink"]);
                return Target::Peer(peer);
            }
        })
    }

    /// The https server's certificate and key, made and written to `dir` (`cert.pem`,
    /// `key.pem`; the trusted one's CA to `ca.pem`): their paths.
    fn certificate(self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = match self {
            Kind::HttpsInsecure => {
                let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
                (made.cert.pem(), made.signing_key.serialize_pem())
            }
            Kind::HttpsTrusted => {
                let ca_key = KeyPair::generate().expect("a CA key");
                let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
                ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                ca.distinguished_name.push(DnType::CommonName, format!("exabgp-healthcheck e2e {}", dir.display()));
                let ca_pem = ca.self_signed(&ca_key).expect("the CA's certificate").pem();
                std::fs::write(self.ca_file(dir).expect("a CA file"), ca_pem).expect("write ca.pem");
                let key = KeyPair::generate().expect("a key");
                let leaf = CertificateParams::new(vec![HTTPS_NAME.to_owned()]).expect("parameters");
                let cert = leaf.signed_by(&key, &Issuer::from_params(&ca, &ca_key)).expect("a certificate");
                (cert.pem(), key.serialize_pem())
            }
            Kind::Nginx | Kind::Unbound | Kind::Ntp | Kind::Icmp => unreachable!("{self:?} has no certificate"),
        };
        let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_file, cert).expect("write cert.pem");
        std::fs::write(&key_file, key).expect("write key.pem");
        (cert_file, key_file)
    }

    /// The CA that ExaBGP's environment names in `EXABGP_HEALTHCHECK_CA_FILE`, if any.
    fn ca_file(self, dir: &Path) -> Option<PathBuf> {
        matches!(self, Kind::HttpsTrusted).then(|| dir.join("ca.pem"))
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Nginx | Kind::HttpsInsecure | Kind::HttpsTrusted => "nginx",
            Kind::Unbound => "unbound",
            Kind::Ntp => "chronyd",
            Kind::Icmp => "peer",
        }
    }

    fn check(self) -> String {
        match self {
            Kind::Nginx => format!("http://127.0.0.1:{HTTP_PORT}/health#body={HTTP_BODY}"),
            Kind::Unbound => format!("dns://127.0.0.1:{DNS_PORT}/{DNS_NAME}?type=A#expect={DNS_ADDRESS}"),
            Kind::HttpsInsecure => format!("https://127.0.0.1:{HTTPS_PORT}/health#insecure&body={HTTP_BODY}"),
            Kind::HttpsTrusted => format!("https://127.0.0.1:{HTTPS_PORT}/health#sni={HTTPS_NAME}&body={HTTP_BODY}"),
            Kind::Ntp => format!("ntp://127.0.0.1:{NTP_PORT}"),
            Kind::Icmp => format!("icmp://{PEER}"),
        }
    }

    /// The check's reason while the server is down, as ExaBGP's log has it after the URL.
    fn reason(self) -> &'static str {
        match self {
            Kind::Icmp => "no answer within 1s",
            _ => "connection refused",
        }
    }

    /// The router's MED for the service while the server is down (None: withdrawn).
    fn down(self) -> Option<u32> {
        match self {
            Kind::Nginx | Kind::HttpsInsecure | Kind::HttpsTrusted | Kind::Ntp | Kind::Icmp => Some(1000),
            Kind::Unbound => None,
        }
    }

    fn flags(self) -> &'static str {
        match self {
            Kind::Nginx | Kind::HttpsInsecure | Kind::HttpsTrusted | Kind::Ntp | Kind::Icmp => "",
            Kind::Unbound => " --withdraw-on-down",
        }
    }
}

/// What these tests need, with how to get it.
fn preflight_servers() {
    lab::needs(&SERVERS);
}

impl Lab {
    /// Wait until the router has this MED for lb1's path to the service (None: no route).
    fn expect(&self, what: &str, want: Option<u32>) {
        let med = || self.med(SERVICE, 1);
        assert!(wait_for(WAIT, || med() == want), "{what}: wanted {want:?}, the router has {:?}", med());
    }
}

fn run(version: &str, kind: Kind) {
    lab::preflight(version, RouterKind::Bird, &SERVERS);
    let started = Instant::now();
    let mut lab = Lab::new("e2e-checks", 1);

    // The server first, so that the route is announced healthy from the start. Dropped before
    // the lab.
    let mut server = kind.target(&lab);
    server.start(lab.lb(1));

    lab.start_bird(&lab::bird_ibgp(1), WAIT);
    let check = kind.check();
    let run = format!(
        "{BIN} --no-syslog --name {name} --check \"{check}\" --ip {SERVICE} --interval 0.2 --fast-interval 0.1 \
         --rise 1 --fall 1 --timeout 1{flags}",
        name = kind.name(),
        flags = kind.flags()
    );
    let ca_file = kind.ca_file(&lab.dir.path).map(|f| f.display().to_string());
    lab.start_exabgp(version, |_| Speaker {
        env: ca_file.iter().map(|f| ("EXABGP_HEALTHCHECK_CA_FILE", f.clone())).collect(),
        ..Speaker::ibgp(run.clone())
    });
    assert!(wait_for(WAIT, || lab.router().established() == 1), "no BGP session with ExaBGP {version}");

    // 1. The server answers: the route, MED 100.
    lab.expect("1. the server answers", Some(100));

    // 2. The server stops (SIGTERM by PID, and it exits; the peer's link down): the route moves.
    let stopped = Instant::now();
    server.stop();
    lab.expect("2. the server stopped", kind.down());
    let failover = stopped.elapsed();
    assert!(!server.answers(lab.lb(1)), "the stopped server still answers");
    let said = lab.log(1);
    assert!(
        said.contains(&format!("{check}: {}", kind.reason())),
        "the check's reason is not in ExaBGP's log:\n{said}"
    );

    // 3. The server runs again: the route comes back.
    let restarted = Instant::now();
    server.start(lab.lb(1));
    lab.expect("3. the server answers again", Some(100));
    let recovery = restarted.elapsed();

    let said = lab.log(1);
    assert!(!said.contains("ExaBGP answered error"), "{said}");
    drop(server);
    drop(lab);
    eprintln!(
        "e2e_checks ExaBGP {version}, {kind:?}: failover (stop -> route moved) {:.2} s, recovery (start -> \
         route back) {:.2} s; whole run {:.2} s",
        failover.as_secs_f64(),
        recovery.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
