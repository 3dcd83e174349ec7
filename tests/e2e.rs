//! End to end: the plugin inside real ExaBGP (4.2.25 and 5.0.15) on two load balancers that
//! peer with a real router (BIRD 2), all in network namespaces these tests create. The
//! assertions are on the router's own table (`birdc show route ... all`): which paths it has for
//! the service addresses, with which MED, and which one is best.
//!
//! Each test builds one topology for one combination of ExaBGP version, acknowledgements (on,
//! ExaBGP's default, or off with `exabgp.api.ack=false`; `--no-ack` is never passed) and mode
//! (MED, or `--withdraw-on-down`), then runs the scenarios in order:
//! 1. both checks pass: both paths, lb1's (MED 100) best; the addresses are on both `lo`s;
//! 2. lb1's check fails: lb2 best (lb1 at MED 1000, or withdrawn);
//! 3. lb1's check passes again: lb1 best again;
//! 4. lb1's disable file exists: lb2 best (lb1 at MED 500, or withdrawn); removed: lb1 best;
//! 5. lb1's ExaBGP gets SIGTERM: lb1's paths go, the plugin exits (by its PID, and no process
//!    running our binary is left in lb1's namespace), its addresses leave lb1's `lo`;
//! 6. the plugin saw ExaBGP's `done` replies exactly when acks are on, and no `error`.
//!
//! The failover times (check file removed -> router's best path moved) are printed, never
//! asserted. docs/testing.md has the diagram and the steps to run one scenario by hand.
//!
//! Needs root, `ip`, `setpriv`, BIRD 2 (`bird`, `birdc`) and the virtualenvs that
//! `contrib/run-tests.sh` creates (`$EXABGP_VENV_4`, `$EXABGP_VENV_5`, else
//! `target/exabgp-venv/VERSION`). Traffic stays inside the namespaces (10.99.0.0/16 and
//! 2001:db8:99::/48 on the veth pairs). Every wait is bounded; the namespaces and every process
//! started are removed (by PID) when a test ends, even when it fails; then the logs are printed.

mod common;

use common::bird::{Bird, Paths};
use common::netns::{empty_and_delete, ip, Daemon, Netns};
use common::procfs::{self, alive};
use common::{exabgp, in_path, read_pid, wait_for, Scratch, BIN};
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The service addresses both load balancers announce (the IPv6 one gets the MED plus one:
/// `--increase` defaults to 1).
const SERVICE_V4: &str = "37.72.160.20/32";
const SERVICE_V6: &str = "2001:db8:ffff::20/128";
/// The AS of the router and both load balancers: iBGP, so BIRD compares their MEDs.
const ASN: u32 = 64512;
/// Metrics of the plugin: lb1's and lb2's `--up-metric`, and the defaults of the others.
const LB_UP: [u32; 2] = [100, 200];
const DOWN: u32 = 1000;
const DISABLED: u32 = 500;

/// The longest any one condition is waited for.
const WAIT: Duration = Duration::from_secs(30);
/// Between two looks at the router's table.
const POLL: Duration = Duration::from_millis(20);
/// Prefix of everything a run creates (its scratch directory's name, `ehc-e2e-PID-N`, see
/// [`Scratch`]); the PID of the test process follows.
const PREFIX: &str = "ehc-e2e-";

#[test]
fn exabgp_5_0_acks_on_med() {
    run(Case { version: Version::V5_0, acks: true, withdraw_on_down: false });
}

#[test]
fn exabgp_5_0_acks_off_med() {
    run(Case { version: Version::V5_0, acks: false, withdraw_on_down: false });
}

#[test]
fn exabgp_5_0_acks_on_withdraw_on_down() {
    run(Case { version: Version::V5_0, acks: true, withdraw_on_down: true });
}

#[test]
fn exabgp_5_0_acks_off_withdraw_on_down() {
    run(Case { version: Version::V5_0, acks: false, withdraw_on_down: true });
}

#[test]
fn exabgp_4_2_acks_on_med() {
    run(Case { version: Version::V4_2, acks: true, withdraw_on_down: false });
}

#[test]
fn exabgp_4_2_acks_off_med() {
    run(Case { version: Version::V4_2, acks: false, withdraw_on_down: false });
}

#[test]
fn exabgp_4_2_acks_on_withdraw_on_down() {
    run(Case { version: Version::V4_2, acks: true, withdraw_on_down: true });
}

#[test]
fn exabgp_4_2_acks_off_withdraw_on_down() {
    run(Case { version: Version::V4_2, acks: false, withdraw_on_down: true });
}

/// Every scenario, in order, on one fresh topology.
fn run(case: Case) {
    let started = Instant::now();
    let mut topo = Topology::start(case);
    topo.wait_sessions();

    // 1. Both healthy: both paths, the lower MED (lb1) best; the addresses on both `lo`s.
    topo.expect("1. both healthy", [Service::Up, Service::Up], started);
    for lb in [Lb::One, Lb::Two] {
        topo.wait_addresses(lb, true);
    }
    let plugin = topo.plugin_pid(Lb::One);
    assert_eq!(topo.our_processes(Lb::One), [plugin], "the plugin of lb1, found by its pid file and in /proc");

    // 2. lb1's check fails.
    let since = topo.set(Lb::One, "healthy", false);
    let failover = topo.expect("2. lb1's check fails", [Service::Down, Service::Up], since);

    // 3. lb1 recovers.
    let since = topo.set(Lb::One, "healthy", true);
    let recovery = topo.expect("3. lb1 recovers", [Service::Up, Service::Up], since);

    // 4. lb1 in maintenance (the disable file), then back.
    let since = topo.set(Lb::One, "disabled", true);
    let disable = topo.expect("4. lb1 disabled", [Service::Disabled, Service::Up], since);
    let since = topo.set(Lb::One, "disabled", false);
    topo.expect("4. lb1 enabled again", [Service::Up, Service::Up], since);
    assert_eq!(topo.plugin_pid(Lb::One), plugin, "lb1's plugin was restarted during the scenarios");

    // 5. ExaBGP on lb1 stopped: its paths go, the plugin exits, its addresses leave `lo`.
    let since = Instant::now();
    topo.exabgp_mut(Lb::One).signal(Signal::SIGTERM);
    let stop = topo.expect("5. ExaBGP stopped on lb1", [Service::Gone, Service::Up], since);
    let status = topo.exabgp_mut(Lb::One).wait_exit(WAIT);
    assert!(wait_for(WAIT, || !alive(plugin)), "lb1's plugin (pid {plugin}) still runs after ExaBGP stopped");
    assert!(
        wait_for(WAIT, || topo.our_processes(Lb::One).is_empty()),
        "processes running our binary left in lb1's namespace: {:?}",
        topo.our_processes(Lb::One)
    );
    topo.wait_addresses(Lb::One, false);
    assert!(!topo.dir.file("lb1.pid").exists(), "lb1's plugin left its pid file behind");

    // 6. Replies: `done` read exactly when ExaBGP sends them, never an `error`.
    let log = topo.log(Lb::One);
    let done = log.lines().filter(|l| l.contains("exabgp replied: done")).count();
    if case.acks {
        assert!(done > 0, "acks on, but the plugin logged no `done` reply:\n{log}");
    } else {
        assert_eq!(done, 0, "acks off, but the plugin logged `done` replies:\n{log}");
    }
    for lb in [Lb::One, Lb::Two] {
        let log = topo.log(lb);
        assert!(!log.contains("ExaBGP answered error"), "{}'s plugin got an error reply:\n{log}", lb.name());
    }

    println!(
        "e2e {case}: failover (check fails -> lb2 best) {}, recovery {}, disable {}, ExaBGP stop -> lb1 gone {} \
         (ExaBGP exited with {status}); whole run {}",
        secs(failover),
        secs(recovery),
        secs(disable),
        secs(stop),
        secs(started.elapsed()),
    );
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Which ExaBGP.
#[derive(Clone, Copy, Debug)]
enum Version {
    V4_2,
    V5_0,
}

impl Version {
    fn number(self) -> &'static str {
        match self {
            Version::V4_2 => exabgp::V4,
            Version::V5_0 => exabgp::V5,
        }
    }

    /// The virtualenv (`common::exabgp::venv`).
    fn venv(self) -> PathBuf {
        exabgp::venv(self.number())
    }
}

/// One combination: a topology and its scenarios.
#[derive(Clone, Copy, Debug)]
struct Case {
    version: Version,
    /// ExaBGP's `exabgp.api.ack` (true is its default).
    acks: bool,
    /// `--withdraw-on-down` on both plugins.
    withdraw_on_down: bool,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExaBGP {}, acks {}, {}",
            self.version.number(),
            if self.acks { "on" } else { "off" },
            if self.withdraw_on_down { "--withdraw-on-down" } else { "MED" }
        )
    }
}

/// A load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lb {
    One,
    Two,
}

impl Lb {
    fn index(self) -> usize {
        match self {
            Lb::One => 0,
            Lb::Two => 1,
        }
    }

    fn name(self) -> &'static str {
        ["lb1", "lb2"][self.index()]
    }

    /// Its subnet number: 10.99.N.0/24 and 2001:db8:99:N::/64, router .1 / ::1, itself .2 / ::2.
    fn net(self) -> usize {
        self.index() + 1
    }
}

/// What a load balancer's plugin is announcing, as far as a scenario is concerned.
#[derive(Clone, Copy, Debug)]
enum Service {
    Up,
    Down,
    Disabled,
    /// ExaBGP is gone: no path at all.
    Gone,
}

/// What the router should have when the load balancers are in `services`, for the service
/// address whose MED is the metric plus `offset`.
fn wanted(case: Case, services: [Service; 2], offset: u32) -> Paths {
    let mut paths = Paths::default();
    for (lb, service) in [Lb::One, Lb::Two].into_iter().zip(services) {
        let med = match service {
            Service::Up => Some(LB_UP[lb.index()]),
            Service::Down if !case.withdraw_on_down => Some(DOWN),
            Service::Disabled if !case.withdraw_on_down => Some(DISABLED),
            Service::Down | Service::Disabled | Service::Gone => None,
        };
        if let Some(med) = med {
            paths.meds.insert(lb.name().to_owned(), Some(med + offset));
        }
    }
    paths.best = paths.meds.iter().min_by_key(|(_, med)| *med).map(|(lb, _)| lb.clone());
    paths
}

/// Router, two load balancers, their daemons and a scratch directory. Dropped in field order:
/// the daemons first (ExaBGP, so that its plugin withdraws and removes its addresses, then
/// BIRD), then the namespaces (with anything still in them), then the directory.
struct Topology {
    case: Case,
    exabgp: [Option<Daemon>; 2],
    bird: Option<Bird>,
    router: Option<Netns>,
    lbs: Vec<Netns>,
    dir: Scratch,
}

impl Topology {
    fn start(case: Case) -> Topology {
        preflight(case.version);
        sweep_stale_runs();
        let dir = Scratch::new("e2e");
        let id = dir.path.file_name().expect("a scratch directory's name").to_string_lossy().into_owned();
        assert!(id.starts_with(PREFIX), "{id}");
        let mut topo = Topology { case, exabgp: [None, None], bird: None, router: None, lbs: Vec::new(), dir };

        // Namespaces and links: router `to-lbN` <-> lbN `uplink`, created directly inside the
        // namespaces, so interface names need not be unique on the host.
        let router = topo.router.insert(Netns::named(format!("{id}-r")));
        for lb in [Lb::One, Lb::Two] {
            let ns = Netns::named(format!("{id}-{}", lb.name()));
            let n = lb.net();
            let to = format!("to-{}", lb.name());
            router.ip(&["link", "add", &to, "type", "veth", "peer", "name", "uplink", "netns", &ns.name]);
            router.ip(&["address", "add", &format!("10.99.{n}.1/24"), "dev", &to]);
            router.ip(&["address", "add", &format!("2001:db8:99:{n}::1/64"), "dev", &to, "nodad"]);
            router.ip(&["link", "set", &to, "up"]);
            ns.ip(&["address", "add", &format!("10.99.{n}.2/24"), "dev", "uplink"]);
            ns.ip(&["address", "add", &format!("2001:db8:99:{n}::2/64"), "dev", "uplink", "nodad"]);
            ns.ip(&["link", "set", "uplink", "up"]);
            topo.lbs.push(ns);
        }

        // BIRD first, so that ExaBGP finds it listening.
        let conf = topo.dir.write("bird.conf", &bird_conf());
        let router = topo.router.as_ref().expect("router namespace");
        topo.bird = Some(Bird::start(router, &conf, &topo.dir.path, WAIT));

        // ExaBGP on each load balancer, as root so that the plugin can add addresses.
        let ack = if case.acks { "true" } else { "false" };
        let env = [("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false"), ("exabgp_api_ack", ack)];
        let exabgp = case.version.venv().join("bin/exabgp");
        for lb in [Lb::One, Lb::Two] {
            fs::write(topo.control(lb, "healthy"), "").expect("create the check file");
            let conf = topo.dir.write(&format!("exabgp-{}.conf", lb.name()), &topo.exabgp_conf(lb));
            let log = topo.dir.file(&format!("exabgp-{}.log", lb.name()));
            let daemon = Daemon::start(&topo.lbs[lb.index()], &[exabgp.as_path(), &conf], &env, &log);
            topo.exabgp[lb.index()] = Some(daemon);
        }
        topo
    }

    /// lbN's check file (`healthy`: the check passes while it exists) or disable file.
    fn control(&self, lb: Lb, what: &str) -> PathBuf {
        self.dir.file(&format!("{}.{what}", lb.name()))
    }

    /// Create or remove a control file; when it happened.
    fn set(&self, lb: Lb, what: &str, exists: bool) -> Instant {
        let path = self.control(lb, what);
        if exists {
            fs::write(&path, "").expect("create a control file");
        } else {
            fs::remove_file(&path).expect("remove a control file");
        }
        Instant::now()
    }

    fn exabgp_conf(&self, lb: Lb) -> String {
        let n = lb.net();
        let mut plugin = vec![
            BIN.to_owned(),
            format!("--name {}", lb.name()),
            "--debug --no-syslog".to_owned(),
            format!("--cmd \"test -e {}\"", self.control(lb, "healthy").display()),
            format!("--disable {}", self.control(lb, "disabled").display()),
            "--interval 0.5 --fast-interval 0.2 --rise 2 --fall 2 --timeout 2".to_owned(),
            format!("--up-metric {}", LB_UP[lb.index()]),
            format!("--ip {SERVICE_V4} --ip {SERVICE_V6}"),
            format!("--pid {}", self.dir.file(&format!("{}.pid", lb.name())).display()),
        ];
        if self.case.withdraw_on_down {
            plugin.push("--withdraw-on-down".to_owned());
        }
        let run = plugin.join(" ");
        assert!(!BIN.contains([' ', '"', ';']) && !self.dir.path.display().to_string().contains([' ', '"', ';']));
        // One session per address family, each on its own family's addresses. The plugin's
        // lines carry no selector, so ExaBGP sends each route to the neighbors of its family.
        format!(
            "process healthcheck {{\n    run {run};\n    encoder text;\n}}\n\n\
             neighbor 10.99.{n}.1 {{\n    router-id 10.99.{n}.2;\n    local-address 10.99.{n}.2;\n    \
             local-as {ASN};\n    peer-as {ASN};\n    family {{ ipv4 unicast; }}\n    \
             api {{ processes [ healthcheck ]; }}\n}}\n\n\
             neighbor 2001:db8:99:{n}::1 {{\n    router-id 10.99.{n}.2;\n    local-address 2001:db8:99:{n}::2;\n    \
             local-as {ASN};\n    peer-as {ASN};\n    family {{ ipv6 unicast; }}\n    \
             api {{ processes [ healthcheck ]; }}\n}}\n"
        )
    }

    fn exabgp_mut(&mut self, lb: Lb) -> &mut Daemon {
        self.exabgp[lb.index()].as_mut().expect("ExaBGP started")
    }

    fn birdc(&self, args: &[&str]) -> Result<String, String> {
        self.bird.as_ref().expect("BIRD started").birdc(args)
    }

    /// Wait until the four BGP sessions are established.
    fn wait_sessions(&self) {
        let bird = self.bird.as_ref().expect("BIRD started");
        assert!(
            wait_for(WAIT, || bird.established() == 4),
            "{}: the BGP sessions did not come up within {WAIT:?}:\n{}",
            self.case,
            self.birdc(&["show", "protocols", "all"]).unwrap_or_else(|e| e)
        );
    }

    /// The router's paths for the IPv4 and the IPv6 service address.
    fn paths(&self) -> Result<[Paths; 2], String> {
        let v4 = self.birdc(&["show", "route", SERVICE_V4, "all"])?;
        let v6 = self.birdc(&["show", "route", SERVICE_V6, "all"])?;
        Ok([Paths::parse(&v4), Paths::parse(&v6)])
    }

    /// Wait until the router's paths are those of `services`, for both addresses; the time from
    /// `since` until then.
    fn expect(&self, what: &str, services: [Service; 2], since: Instant) -> Duration {
        let wanted = [wanted(self.case, services, 0), wanted(self.case, services, 1)];
        let deadline = Instant::now() + WAIT;
        loop {
            let seen = self.paths();
            if seen.as_ref() == Ok(&wanted) {
                return since.elapsed();
            }
            if Instant::now() >= deadline {
                let v4 = self.birdc(&["show", "route", SERVICE_V4, "all"]).unwrap_or_else(|e| e);
                let v6 = self.birdc(&["show", "route", SERVICE_V6, "all"]).unwrap_or_else(|e| e);
                panic!(
                    "{}: {what}: the router did not reach the expected paths within {WAIT:?}\n\
                     wanted: {wanted:?}\nseen:   {seen:?}\n{v4}{v6}",
                    self.case
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Wait until both service addresses are on lbN's `lo` (or both gone from it).
    fn wait_addresses(&self, lb: Lb, present: bool) {
        let ns = &self.lbs[lb.index()];
        let on_lo = || {
            let lo = ns.lo();
            [SERVICE_V4, SERVICE_V6].map(|a| lo.iter().any(|l| l == a))
        };
        assert!(
            wait_for(WAIT, || on_lo() == [present, present]),
            "{}: wanted the service addresses {} {}'s lo; it has:\n{}",
            self.case,
            if present { "on" } else { "gone from" },
            lb.name(),
            ns.ip(&["address", "show", "dev", "lo"])
        );
    }

    /// The PID lbN's plugin wrote with `--pid`.
    fn plugin_pid(&self, lb: Lb) -> u32 {
        read_pid(&self.dir.file(&format!("{}.pid", lb.name())), WAIT)
    }

    /// Processes running our binary in lbN's network namespace, found in /proc.
    fn our_processes(&self, lb: Lb) -> Vec<u32> {
        let ours = fs::canonicalize(BIN).expect("our binary");
        let netns = format!("net:[{}]", inode(&self.lbs[lb.index()]));
        let mut pids: Vec<u32> = procfs::pids()
            .into_iter()
            .filter(|pid| {
                let exe = fs::read_link(format!("/proc/{pid}/exe"));
                let net = fs::read_link(format!("/proc/{pid}/ns/net"));
                exe.is_ok_and(|e| e == ours) && net.is_ok_and(|n| n.as_os_str() == netns.as_str()) && alive(*pid)
            })
            .collect();
        pids.sort_unstable();
        pids
    }

    /// lbN's ExaBGP log, which also holds its plugin's stderr.
    fn log(&self, lb: Lb) -> String {
        self.dir.read(&format!("exabgp-{}.log", lb.name()))
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        // Both ExaBGPs stop at once (4.2 takes about two seconds).
        for daemon in self.exabgp.iter().flatten() {
            daemon.signal(Signal::SIGTERM);
        }
        if std::thread::panicking() {
            eprintln!("--- {}: scratch directory {}", self.case, self.dir.path.display());
            if let Ok(text) = self.birdc(&["show", "protocols", "all"]) {
                eprintln!("--- birdc show protocols all\n{text}");
            }
            for name in ["bird.log", "exabgp-lb1.log", "exabgp-lb2.log"] {
                let text = self.dir.read(name);
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(120)..];
                eprintln!("--- {name} (last {} lines)\n{}", tail.len(), tail.join("\n"));
            }
        }
        for daemon in self.exabgp.iter_mut().filter_map(Option::take) {
            drop(daemon);
        }
        drop(self.bird.take());
        self.lbs.clear();
        drop(self.router.take());
        // The scratch directory goes last, with the field.
    }
}

/// The router: iBGP (one AS) with both load balancers, an IPv4 and an IPv6 session each.
/// Passive, so that only ExaBGP connects; nothing exported, nothing put in the kernel.
fn bird_conf() -> String {
    let mut conf = format!(
        "log stderr all;\nrouter id 10.99.0.1;\n\nprotocol device {{\n    scan time 1;\n}}\n\n\
         template bgp lb {{\n    local as {ASN};\n    direct;\n    passive on;\n    \
         deterministic med on;\n    med metric on;\n    error wait time 1, 5;\n}}\n"
    );
    for lb in [Lb::One, Lb::Two] {
        let (name, n) = (lb.name(), lb.net());
        conf.push_str(&format!(
            "\nprotocol bgp {name}_v4 from lb {{\n    local 10.99.{n}.1;\n    neighbor 10.99.{n}.2 as {ASN};\n    \
             ipv4 {{ import all; export none; }};\n}}\n\
             \nprotocol bgp {name}_v6 from lb {{\n    local 2001:db8:99:{n}::1;\n    \
             neighbor 2001:db8:99:{n}::2 as {ASN};\n    ipv6 {{ import all; export none; }};\n}}\n"
        ));
    }
    conf
}

/// The inode of a namespace's file: what `/proc/PID/ns/net` links to for its processes.
fn inode(ns: &Netns) -> u64 {
    fs::metadata(Path::new("/run/netns").join(&ns.name)).expect("the namespace's file").ino()
}

/// Namespaces left by an earlier run whose test process no longer exists (killed before its
/// guards ran): empty them and delete them. Our own run's are left alone.
fn sweep_stale_runs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for line in ip(&["netns", "list"]).lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            let Some(owner) = name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
            let Ok(owner) = owner.parse::<u32>() else { continue };
            if owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists() {
                empty_and_delete(name);
            }
        }
    });
}

/// What the suite needs, with the way to get it when missing.
fn preflight(version: Version) {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the end-to-end tests create network namespaces: run them as root (contrib/run-tests.sh does)"
    );
    for tool in ["ip", "setpriv", "bird", "birdc"] {
        assert!(
            in_path(tool).is_some(),
            "`{tool}` not found in PATH: install iproute2, util-linux and bird2 (contrib/run-tests.sh does)"
        );
    }
    let exabgp = version.venv().join("bin/exabgp");
    assert!(
        exabgp.is_file(),
        "ExaBGP {} is not installed: {} does not exist; run contrib/run-tests.sh (it creates the virtualenv), \
         or `python3 -m venv target/exabgp-venv/{v} && target/exabgp-venv/{v}/bin/pip install exabgp=={v}`",
        version.number(),
        exabgp.display(),
        v = version.number()
    );
}

#[test]
fn birdc_output_is_parsed() {
    let text = "BIRD 2.0.12 ready.\nTable master4:\n\
                37.72.160.20/32      unicast [lb2_v4 06:15:00.204] * (100) [i]\n\tvia 10.99.2.2 on to-lb2\n\
                \tType: BGP univ\n\tBGP.origin: IGP\n\tBGP.as_path: \n\tBGP.next_hop: 10.99.2.2\n\tBGP.med: 200\n\
                \tBGP.local_pref: 100\n                     unicast [lb1_v4 06:15:11.409] (100-) [i]\n\
                \tvia 10.99.1.2 on to-lb1\n\tType: BGP univ\n\tBGP.med: 1000\n";
    let paths = Paths::parse(text);
    assert_eq!(paths.best.as_deref(), Some("lb2"));
    assert_eq!(paths.meds, BTreeMap::from([("lb1".into(), Some(1000)), ("lb2".into(), Some(200))]));
    let case = Case { version: Version::V5_0, acks: true, withdraw_on_down: false };
    assert_eq!(paths, wanted(case, [Service::Down, Service::Up], 0));
    assert_eq!(Paths::parse("BIRD 2.0.12 ready.\nNetwork not found\n"), Paths::default());
    let withdraw = Case { withdraw_on_down: true, ..case };
    let only_lb2 = wanted(withdraw, [Service::Disabled, Service::Up], 1);
    assert_eq!(only_lb2.meds, BTreeMap::from([("lb2".into(), Some(201))]));
    assert_eq!(only_lb2.best.as_deref(), Some("lb2"));
}
