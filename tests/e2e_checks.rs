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
//!   `EXABGP_HEALTHCHECK_CA_FILE` in ExaBGP's environment (the plugin inherits it).
//!
//! The scenario, on the router's own table: the server answers, the route is there (MED 100);
//! the server gets SIGTERM (by PID) and exits: the route moves (MED 1000, or is withdrawn) and
//! ExaBGP's log has the check's reason; the server is started again: the route comes back.
//! And exabgp-examples/anycast-dns's own process (its `run` line) with `--once` against a real
//! unbound on 127.0.0.1:53: healthy, then unhealthy once unbound is stopped.
//!
//! Needs root, `ip`, BIRD 2, the ExaBGP virtualenvs, nginx, unbound and python3 (for the
//! probe that tells when a server answers): `contrib/run-tests.sh` installs them. Traffic stays
//! inside the namespaces (10.96.1.0/24 on a veth pair, the servers on the load balancer's
//! 127.0.0.1). Every wait is bounded; the namespaces and every process started are removed (by
//! PID) when a test ends, even when it fails.

mod common;

use common::bird::{Bird, Paths};
use common::netns::{Daemon, Netns};
use common::servers::{Server, DNS_ADDRESS, DNS_NAME, HTTP_BODY};
use common::{exabgp, in_path, wait_for, Scratch, BIN};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ASN: u32 = 64512;
const SERVICE: &str = "37.72.160.80/32";
const WAIT: Duration = Duration::from_secs(30);
const HTTP_PORT: u16 = 8080;
const DNS_PORT: u16 = 5353;
const HTTPS_PORT: u16 = 8443;
/// The name the trusted certificate is for, sent in SNI.
const HTTPS_NAME: &str = "health.example";

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
}

impl Kind {
    /// The server, its files (and, for https, the certificate, its key and the CA) in `dir`.
    fn server(self, dir: &Path) -> Server {
        match self {
            Kind::Nginx => Server::nginx(dir, HTTP_PORT),
            Kind::Unbound => Server::unbound(dir, DNS_PORT),
            Kind::HttpsInsecure | Kind::HttpsTrusted => {
                let (cert, key) = self.certificate(dir);
                Server::nginx_tls(dir, HTTPS_PORT, &cert, &key)
            }
        }
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
            Kind::Nginx | Kind::Unbound => unreachable!("{self:?} has no certificate"),
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
        }
    }

    fn check(self) -> String {
        match self {
            Kind::Nginx => format!("http://127.0.0.1:{HTTP_PORT}/health#body={HTTP_BODY}"),
            Kind::Unbound => format!("dns://127.0.0.1:{DNS_PORT}/{DNS_NAME}?type=A#expect={DNS_ADDRESS}"),
            Kind::HttpsInsecure => format!("https://127.0.0.1:{HTTPS_PORT}/health#insecure&body={HTTP_BODY}"),
            Kind::HttpsTrusted => format!("https://127.0.0.1:{HTTPS_PORT}/health#sni={HTTPS_NAME}&body={HTTP_BODY}"),
        }
    }

    /// The router's MED for the service while the server is down (None: withdrawn).
    fn down(self) -> Option<u32> {
        match self {
            Kind::Nginx | Kind::HttpsInsecure | Kind::HttpsTrusted => Some(1000),
            Kind::Unbound => None,
        }
    }

    fn flags(self) -> &'static str {
        match self {
            Kind::Nginx | Kind::HttpsInsecure | Kind::HttpsTrusted => "",
            Kind::Unbound => " --withdraw-on-down",
        }
    }
}

/// One router, one load balancer with ExaBGP (our plugin in it) and the server it checks.
struct Lab {
    server: Option<Server>,
    exabgp: Option<Daemon>,
    bird: Option<Bird>,
    lb: Option<Netns>,
    router: Option<Netns>,
    dir: Scratch,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in ["bird.log", "exabgp.log"] {
                eprintln!("--- {name}\n{}", self.dir.read(name));
            }
            if let Some(server) = &self.server {
                eprintln!("--- {}\n{}", server.name, server.logs());
            }
        }
        drop(self.server.take());
        drop(self.exabgp.take());
        drop(self.bird.take());
        drop(self.lb.take());
        drop(self.router.take());
    }
}

impl Lab {
    fn lb(&self) -> &Netns {
        self.lb.as_ref().expect("the load balancer's namespace")
    }

    fn bird(&self) -> &Bird {
        self.bird.as_ref().expect("BIRD started")
    }

    fn server(&mut self) -> &mut Server {
        self.server.as_mut().expect("the server")
    }

    /// The MED of the router's path for the service (None: no path).
    fn med(&self) -> Option<u32> {
        let text = self.bird().birdc(&["show", "route", SERVICE, "all"]).ok()?;
        let paths = Paths::parse(&text);
        paths.meds.get("lb1").copied().flatten()
    }

    /// Wait until the router has this MED for the service (None: no route).
    fn expect(&self, what: &str, want: Option<u32>) {
        assert!(wait_for(WAIT, || self.med() == want), "{what}: wanted {want:?}, the router has {:?}", self.med());
    }

    fn start_server(&mut self) {
        let mut server = self.server.take().expect("the server");
        server.start(self.lb(), WAIT);
        self.server = Some(server);
    }
}

fn preflight(version: &str) {
    preflight_servers();
    let exabgp = exabgp::venv(version).join("bin/exabgp");
    assert!(exabgp.is_file(), "ExaBGP {version} is not installed at {} (run contrib/run-tests.sh)", exabgp.display());
}

fn preflight_servers() {
    assert!(nix::unistd::Uid::effective().is_root(), "needs root (network namespaces): contrib/run-tests.sh");
    for tool in ["ip", "setpriv", "bird", "birdc", "python3", "nginx", "unbound"] {
        assert!(in_path(tool).is_some(), "`{tool}` not found in PATH (contrib/run-tests.sh installs it)");
    }
}

fn run(version: &str, kind: Kind) {
    preflight(version);
    let started = Instant::now();
    let dir = Scratch::new("e2e-checks");
    let id = dir.path.file_name().expect("a name").to_string_lossy().into_owned();
    let mut lab = Lab { server: None, exabgp: None, bird: None, lb: None, router: None, dir };
    let router = lab.router.insert(Netns::named(format!("{id}-r")));
    let lb = Netns::named(format!("{id}-lb1"));
    router.ip(&["link", "add", "to-lb1", "type", "veth", "peer", "name", "uplink", "netns", &lb.name]);
    router.ip(&["address", "add", "10.96.1.1/24", "dev", "to-lb1"]);
    router.ip(&["link", "set", "to-lb1", "up"]);
    lb.ip(&["address", "add", "10.96.1.2/24", "dev", "uplink"]);
    lb.ip(&["link", "set", "uplink", "up"]);
    lab.lb = Some(lb);

    // The server first, so that the route is announced healthy from the start.
    lab.server = Some(kind.server(&lab.dir.path));
    lab.start_server();

    let bird_conf = format!(
        "log stderr all;\nrouter id 10.96.1.1;\n\
         protocol device {{ scan time 1; }}\n\
         protocol bgp lb1 {{\n    local 10.96.1.1 as {ASN};\n    neighbor 10.96.1.2 as {ASN};\n    direct;\n    \
         passive on;\n    ipv4 {{ import all; export none; }};\n}}\n"
    );
    let conf = lab.dir.write("bird.conf", &bird_conf);
    lab.bird = Some(Bird::start(lab.router.as_ref().expect("router"), &conf, &lab.dir.path, WAIT));

    let check = kind.check();
    let run = format!(
        "{BIN} --no-syslog --name {name} --check \"{check}\" --ip {SERVICE} --interval 0.2 --fast-interval 0.1 \
         --rise 1 --fall 1 --timeout 1{flags}",
        name = kind.name(),
        flags = kind.flags()
    );
    let exabgp_conf = format!(
        "process watch {{\n    run {run};\n    encoder text;\n}}\n\n\
         neighbor 10.96.1.1 {{\n    router-id 10.96.1.2;\n    local-address 10.96.1.2;\n    local-as {ASN};\n    \
         peer-as {ASN};\n    family {{ ipv4 unicast; }}\n    api {{ processes [ watch ]; }}\n}}\n"
    );
    let conf = lab.dir.write("exabgp.conf", &exabgp_conf);
    let exabgp = exabgp::venv(version).join("bin/exabgp");
    let ca_file = kind.ca_file(&lab.dir.path).map(|f| f.display().to_string());
    let mut env = vec![("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false")];
    env.extend(ca_file.as_deref().map(|f| ("EXABGP_HEALTHCHECK_CA_FILE", f)));
    let log = lab.dir.file("exabgp.log");
    lab.exabgp = Some(Daemon::start(lab.lb(), &[exabgp.as_path(), &conf], &env, &log));
    assert!(wait_for(WAIT, || lab.bird().established() == 1), "no BGP session with ExaBGP {version}");

    // 1. The server answers: the route, MED 100.
    lab.expect("1. the server answers", Some(100));

    // 2. The server stops (SIGTERM by PID, and it exits): the route moves.
    let stopped = Instant::now();
    lab.server().stop(WAIT);
    lab.expect("2. the server stopped", kind.down());
    let failover = stopped.elapsed();
    assert!(!lab.server.as_ref().expect("the server").answers(lab.lb()), "the stopped server still answers");
    let said = lab.dir.read("exabgp.log");
    assert!(
        said.contains(&format!("{check}: connection refused")),
        "the check's reason is not in ExaBGP's log:\n{said}"
    );

    // 3. The server runs again: the route comes back.
    let restarted = Instant::now();
    lab.start_server();
    lab.expect("3. the server answers again", Some(100));
    let recovery = restarted.elapsed();

    let said = lab.dir.read("exabgp.log");
    assert!(!said.contains("ExaBGP answered error"), "{said}");
    drop(lab);
    eprintln!(
        "e2e_checks ExaBGP {version}, {kind:?}: failover (SIGTERM -> route moved) {:.2} s, recovery (start -> \
         route back) {:.2} s; whole run {:.2} s",
        failover.as_secs_f64(),
        recovery.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
