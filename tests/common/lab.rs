//! The end-to-end lab of `tests/e2e_bfd.rs`, `e2e_checks.rs`, `e2e_drain.rs` and
//! `e2e_services.rs`: a router (BIRD 2 or FRR) and one or more load balancers, each in a network
//! namespace of its own, real ExaBGP on each load balancer with our plugin in its `process`
//! stanza.
//!
//! The wiring is that of `contrib/routers/graceful-shutdown`, but for the prefix: the router's
//! bridge `lan` 10.96.0.1/24 with a port `to-lbN` for each load balancer, whose `uplink` is
//! 10.96.0.1N/24 (N = 1, 2, ..., its default route via the router); with [`Lab::add_client`],
//! a client too, `uplink` 10.96.3.2/24 <-> the router's `to-client` 10.96.3.1/24, the router
//! forwarding. Traffic stays inside these namespaces.
//!
//! Every wait is bounded. Dropped: ExaBGP (SIGTERM to each at once, so that their plugins
//! withdraw together), the router, the namespaces (and whatever still runs in them), the scratch
//! directory; when the test failed, the router's table and the last lines of every log in the
//! scratch directory are printed first.

use super::bird::{Bird, Paths};
use super::frr::{self, Frr};
use super::netns::{Daemon, Netns};
use super::{exabgp, in_path, Scratch};
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The router's AS.
pub const ROUTER_AS: u32 = 64512;
/// The router's address on the LAN.
pub const ROUTER: &str = "10.96.0.1";
/// How many lines of each log a failed test prints.
const TAIL: usize = 80;

/// lbN's name: its namespace's suffix, BIRD's protocol for it (as [`bird_ibgp`] and
/// `contrib/routers/graceful-shutdown` name it), its files' prefix.
pub fn lb_name(n: usize) -> String {
    format!("lb{n}")
}

/// lbN's address on the LAN: 10.96.0.1N.
pub fn lb_address(n: usize) -> String {
    format!("10.96.0.1{n}")
}

/// The load balancer whose LAN address is `addr` (`10.96.0.1N` is `lbN`).
pub fn lb_of(addr: &str) -> Option<String> {
    addr.strip_prefix("10.96.0.1").filter(|n| n.len() == 1).map(|n| format!("lb{n}"))
}

/// BIRD's configuration for iBGP with `lbs` load balancers (AS [`ROUTER_AS`], so that BIRD
/// compares their MEDs), passive, importing everything, exporting nothing; protocol `lbN` for
/// lbN; `show protocols` gives the session's time in full (`iso long`).
pub fn bird_ibgp(lbs: usize) -> String {
    let mut conf = format!(
        "log stderr all;\nrouter id {ROUTER};\ntimeformat protocol iso long;\nprotocol device {{ scan time 1; }}\n"
    );
    for n in 1..=lbs {
        conf.push_str(&format!(
            "protocol bgp {name} {{\n    local {ROUTER} as {ROUTER_AS};\n    neighbor {lb} as {ROUTER_AS};\n    \
             direct;\n    passive on;\n    ipv4 {{ import all; export none; }};\n}}\n",
            name = lb_name(n),
            lb = lb_address(n)
        ));
    }
    conf
}

/// Which router a lab runs (for [`preflight`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterKind {
    Bird,
    Frr,
}

/// The running router.
pub enum Router {
    Bird(Bird),
    Frr(Frr),
}

impl Router {
    /// How many BGP sessions are established.
    pub fn established(&self) -> usize {
        match self {
            Router::Bird(bird) => bird.established(),
            Router::Frr(frr) => frr.established(),
        }
    }

    /// What the router has for `net`, as it says it (`birdc show route NET all`, FRR's
    /// `show bgp ipv4 unicast NET json`), or why it did not answer.
    pub fn dump(&self, net: &str) -> String {
        match self {
            Router::Bird(bird) => bird.birdc(&["show", "route", net, "all"]).unwrap_or_else(|e| e),
            Router::Frr(frr) => frr.vtysh(&format!("show bgp ipv4 unicast {net} json")).unwrap_or_else(|e| e),
        }
    }

    /// The load balancer whose path for `net` is the best (`lbN`), if any.
    pub fn best(&self, net: &str) -> Option<String> {
        match self {
            Router::Bird(bird) => Paths::parse(&bird.birdc(&["show", "route", net, "all"]).ok()?).best,
            Router::Frr(frr) => {
                let route = frr.route(net);
                let best = route["paths"].as_array()?.iter().find(|p| p["bestpath"]["overall"] == true)?;
                lb_of(best["peer"]["peerId"].as_str()?)
            }
        }
    }

    /// Its whole table, or why it did not answer.
    pub fn table(&self) -> String {
        match self {
            Router::Bird(bird) => bird.birdc(&["show", "route", "all"]).unwrap_or_else(|e| e),
            Router::Frr(frr) => frr.vtysh("show bgp ipv4 unicast").unwrap_or_else(|e| e),
        }
    }
}

/// What ExaBGP on one load balancer runs.
pub struct Speaker {
    /// The load balancer's AS ([`ROUTER_AS`] for iBGP).
    pub asn: u32,
    /// The `run` line of ExaBGP's process `healthcheck`: our plugin with its arguments.
    pub run: String,
    /// More of ExaBGP's environment, which the plugin inherits.
    pub env: Vec<(&'static str, String)>,
}

impl Speaker {
    /// iBGP (the router's AS), with `run` and no more environment.
    pub fn ibgp(run: String) -> Speaker {
        Speaker { asn: ROUTER_AS, run, env: Vec::new() }
    }
}

/// The namespaces, the router and ExaBGP of one test.
pub struct Lab {
    exabgp: Vec<Daemon>,
    router: Option<Router>,
    /// The router's, lb1's, lb2's, ..., then the client's.
    namespaces: Vec<Netns>,
    lbs: usize,
    /// Its files: the router's configuration and logs (`bird.log`, `frr/`), ExaBGP's
    /// (`exabgp-lbN.conf`, `exabgp-lbN.log`), and whatever the test puts there.
    pub dir: Scratch,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for daemon in &self.exabgp {
            daemon.signal(Signal::SIGTERM);
        }
        if std::thread::panicking() {
            if let Some(router) = &self.router {
                eprintln!("--- the router's table\n{}", router.table());
            }
            for path in logs(&self.dir.path) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(TAIL)..];
                let name = path.strip_prefix(&self.dir.path).unwrap_or(&path).display();
                eprintln!("--- {name} (last {} lines)\n{}", tail.len(), tail.join("\n"));
            }
        }
        self.exabgp.clear();
        drop(self.router.take());
        self.namespaces.clear();
    }
}

/// The `*.log` files in `dir` and its subdirectories (one level), sorted.
fn logs(dir: &Path) -> Vec<PathBuf> {
    let entries = |dir: &Path| -> Vec<PathBuf> {
        let read = std::fs::read_dir(dir).into_iter().flatten().flatten();
        read.map(|entry| entry.path()).collect()
    };
    let mut found: Vec<PathBuf> =
        entries(dir).into_iter().flat_map(|p| if p.is_dir() { entries(&p) } else { vec![p] }).collect();
    found.retain(|p| p.extension().is_some_and(|e| e == "log"));
    found.sort();
    found
}

impl Lab {
    /// A scratch directory `NAME-...`, the router's namespace and `lbs` load balancers' (named
    /// after the directory: `ID-r`, `ID-lbN`), wired as the module says. Nothing runs yet.
    pub fn new(name: &str, lbs: usize) -> Lab {
        assert!((1..=9).contains(&lbs), "{lbs} load balancers: 1 to 9 (lbN is 10.96.0.1N)");
        let dir = Scratch::new(name);
        let mut lab = Lab { exabgp: Vec::new(), router: None, namespaces: Vec::new(), lbs, dir };
        let router = Netns::named(format!("{}-r", lab.id()));
        router.ip(&["link", "add", "lan", "type", "bridge"]);
        router.ip(&["address", "add", &format!("{ROUTER}/24"), "dev", "lan"]);
        router.ip(&["link", "set", "lan", "up"]);
        lab.namespaces.push(router);
        for n in 1..=lbs {
            let name = lb_name(n);
            let lb = lab.attach(&name);
            let to = format!("to-{name}");
            lab.router_ns().ip(&["link", "set", &to, "master", "lan"]);
            lab.router_ns().ip(&["link", "set", &to, "up"]);
            lb.ip(&["address", "add", &format!("{}/24", lb_address(n)), "dev", "uplink"]);
            lb.ip(&["link", "set", "uplink", "up"]);
            lb.ip(&["route", "add", "default", "via", ROUTER]);
            lab.namespaces.push(lb);
        }
        lab
    }

    /// The client's namespace `ID-client`, `uplink` 10.96.3.2/24 <-> the router's `to-client`
    /// 10.96.3.1/24 (its default route), and the router forwarding.
    pub fn add_client(&mut self) {
        assert_eq!(self.namespaces.len(), self.lbs + 1, "one client");
        let client = self.attach("client");
        let router = self.router_ns();
        router.ip(&["address", "add", "10.96.3.1/24", "dev", "to-client"]);
        router.ip(&["link", "set", "to-client", "up"]);
        client.ip(&["address", "add", "10.96.3.2/24", "dev", "uplink"]);
        client.ip(&["link", "set", "uplink", "up"]);
        client.ip(&["route", "add", "default", "via", "10.96.3.1"]);
        let forward = router.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]).status().expect("run sysctl");
        assert!(forward.success(), "sysctl net.ipv4.ip_forward=1 in {}: {forward}", router.name);
        self.namespaces.push(client);
    }

    /// The scratch directory's name, which the namespaces' names start with.
    fn id(&self) -> String {
        self.dir.path.file_name().expect("a name").to_string_lossy().into_owned()
    }

    /// A namespace `ID-NAME` whose `uplink` is the peer of the router's `to-NAME`, both down
    /// and without an address. The links are made inside the namespaces: interface names need
    /// not be unique on the host.
    fn attach(&self, name: &str) -> Netns {
        let ns = Netns::named(format!("{}-{name}", self.id()));
        let to = format!("to-{name}");
        self.router_ns().ip(&["link", "add", &to, "type", "veth", "peer", "name", "uplink", "netns", &ns.name]);
        ns
    }

    pub fn router_ns(&self) -> &Netns {
        &self.namespaces[0]
    }

    /// lbN's namespace.
    pub fn lb(&self, n: usize) -> &Netns {
        assert!((1..=self.lbs).contains(&n), "lb{n}: the lab has {} load balancers", self.lbs);
        &self.namespaces[n]
    }

    /// The client's namespace ([`Lab::add_client`]).
    pub fn client(&self) -> &Netns {
        self.namespaces.get(self.lbs + 1).expect("a client: Lab::add_client")
    }

    /// BIRD on `conf` (written to `bird.conf`) in the router's namespace, answering within
    /// `limit`.
    pub fn start_bird(&mut self, conf: &str, limit: Duration) {
        let path = self.dir.write("bird.conf", conf);
        let bird = Bird::start(self.router_ns(), &path, &self.dir.path, limit);
        self.router = Some(Router::Bird(bird));
    }

    /// FRR with bgpd on `conf` in the router's namespace, its files in `frr/`, answering within
    /// `limit`.
    pub fn start_frr(&mut self, conf: &str, limit: Duration) {
        let frr = Frr::start(self.router_ns(), &self.dir.file("frr"), conf, limit);
        self.router = Some(Router::Frr(frr));
    }

    /// FRR with bgpd on `conf` and bfdd on `bfdd_conf`, as [`Lab::start_frr`].
    pub fn start_frr_with_bfdd(&mut self, conf: &str, bfdd_conf: &str, limit: Duration) {
        let frr = Frr::start_with(self.router_ns(), &self.dir.file("frr"), conf, Some(bfdd_conf), limit);
        self.router = Some(Router::Frr(frr));
    }

    pub fn router(&self) -> &Router {
        self.router.as_ref().expect("the router started")
    }

    /// The router, which is BIRD.
    pub fn bird(&self) -> &Bird {
        match self.router() {
            Router::Bird(bird) => bird,
            Router::Frr(_) => panic!("the router is FRR, not BIRD"),
        }
    }

    /// The router, which is FRR.
    pub fn frr(&self) -> &Frr {
        match self.router() {
            Router::Frr(frr) => frr,
            Router::Bird(_) => panic!("the router is BIRD, not FRR"),
        }
    }

    /// The MED of lbN's path for `net` on the router, BIRD (None: no path, or no MED).
    pub fn med(&self, net: &str, n: usize) -> Option<u32> {
        let text = self.bird().birdc(&["show", "route", net, "all"]).ok()?;
        Paths::parse(&text).meds.get(&lb_name(n)).copied().flatten()
    }

    /// ExaBGP `version` on each load balancer, what `speaker(N)` says for lbN, peering with
    /// the router: its configuration in `exabgp-lbN.conf`, its output in `exabgp-lbN.log`.
    pub fn start_exabgp(&mut self, version: &str, speaker: impl Fn(usize) -> Speaker) {
        let exabgp = exabgp::venv(version).join("bin/exabgp");
        for n in 1..=self.lbs {
            let Speaker { asn, run, env: more } = speaker(n);
            let (name, me) = (lb_name(n), lb_address(n));
            let conf = format!(
                "process healthcheck {{\n    run {run};\n    encoder text;\n}}\n\n\
                 neighbor {ROUTER} {{\n    router-id {me};\n    local-address {me};\n    local-as {asn};\n    \
                 peer-as {ROUTER_AS};\n    family {{ ipv4 unicast; }}\n    api {{ processes [ healthcheck ]; }}\n}}\n"
            );
            let conf = self.dir.write(&format!("exabgp-{name}.conf"), &conf);
            let mut env = vec![("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false")];
            env.extend(more.iter().map(|(key, value)| (*key, value.as_str())));
            let log = self.dir.file(&format!("exabgp-{name}.log"));
            let daemon = Daemon::start(self.lb(n), &[exabgp.as_path(), &conf], &env, &log);
            self.exabgp.push(daemon);
        }
    }

    /// ExaBGP on lbN.
    pub fn exabgp(&mut self, n: usize) -> &mut Daemon {
        self.exabgp.get_mut(n - 1).expect("ExaBGP started")
    }

    /// What ExaBGP on lbN (and its plugin) logged so far.
    pub fn log(&self, n: usize) -> String {
        self.dir.read(&format!("exabgp-{}.log", lb_name(n)))
    }
}

/// Root and `tools` in `PATH` (and `ip`, `setpriv`, which every namespace and daemon needs),
/// with how to get them.
pub fn needs(tools: &[&str]) {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the end-to-end tests create network namespaces: run them as root (contrib/run-tests.sh does)"
    );
    for tool in ["ip", "setpriv"].iter().chain(tools) {
        assert!(in_path(tool).is_some(), "`{tool}` not found in PATH (contrib/run-tests.sh installs it)");
    }
}

/// What a lab with `router` and ExaBGP `version` needs, and `tools`, with how to get them.
pub fn preflight(version: &str, router: RouterKind, tools: &[&str]) {
    let mut all = vec!["sysctl"];
    match router {
        RouterKind::Bird => all.extend(["bird", "birdc"]),
        RouterKind::Frr => {
            all.push("vtysh");
            for daemon in ["zebra", "bgpd"] {
                let path = Path::new(frr::DAEMONS).join(daemon);
                assert!(path.is_file(), "{} is missing: install frr (contrib/run-tests.sh does)", path.display());
            }
        }
    }
    all.extend(tools);
    needs(&all);
    let exabgp = exabgp::venv(version).join("bin/exabgp");
    assert!(
        exabgp.is_file(),
        "ExaBGP {version} is not installed: {} does not exist; set {} or run contrib/run-tests.sh",
        exabgp.display(),
        exabgp::venv_variable(version)
    );
}
