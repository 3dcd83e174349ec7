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

use common::netns::{empty_and_delete, Netns};
use common::{alive, wait_for};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_exabgp-healthcheck");

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
/// Prefix of everything a run creates; the PID of the test process follows.
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
    assert!(!topo.dir.join("lb1.pid").exists(), "lb1's plugin left its pid file behind");

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
            Version::V4_2 => "4.2.25",
            Version::V5_0 => "5.0.15",
        }
    }

    /// The virtualenv: `$EXABGP_VENV_4` / `$EXABGP_VENV_5`, else `target/exabgp-venv/VERSION`.
    fn venv(self) -> PathBuf {
        let var = match self {
            Version::V4_2 => "EXABGP_VENV_4",
            Version::V5_0 => "EXABGP_VENV_5",
        };
        match std::env::var_os(var) {
            Some(venv) if !venv.is_empty() => PathBuf::from(venv),
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/exabgp-venv").join(self.number()),
        }
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

/// The router's paths for one service address: the MED of each load balancer's path (None: a
/// path without a MED), and the load balancer whose path is best.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Paths {
    meds: BTreeMap<String, Option<u32>>,
    best: Option<String>,
}

impl Paths {
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

    /// Parse `birdc show route NET all`: a route line (`NET  unicast [lb1_v4 12:00:00.000] *
    /// (100) [i]`, the net only on the first) starts each path, `*` marks the best one, and
    /// attribute lines (starting with a tab) carry `BGP.med: N`.
    fn parse(text: &str) -> Paths {
        let mut paths = Paths::default();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(attribute) = line.strip_prefix('\t') {
                if let (Some(lb), Some(med)) = (&current, attribute.trim().strip_prefix("BGP.med:")) {
                    paths.meds.insert(lb.clone(), med.trim().parse().ok());
                }
                continue;
            }
            let Some((_, rest)) = line.split_once('[') else { continue };
            let Some((protocol, after)) = rest.split_once(']') else { continue };
            let name = protocol.split_whitespace().next().unwrap_or_default();
            let lb = name.split('_').next().unwrap_or_default().to_owned();
            if after.split_whitespace().next() == Some("*") {
                paths.best = Some(lb.clone());
            }
            paths.meds.insert(lb.clone(), None);
            current = Some(lb);
        }
        paths
    }
}

/// Router, two load balancers, their daemons and a scratch directory. Dropped in field order:
/// the daemons first (ExaBGP, so that its plugin withdraws and removes its addresses, then
/// BIRD), then the namespaces (with anything still in them), then the directory.
struct Topology {
    case: Case,
    exabgp: [Option<Daemon>; 2],
    bird: Option<Daemon>,
    router: Option<Netns>,
    lbs: Vec<Netns>,
    dir: PathBuf,
}

impl Topology {
    fn start(case: Case) -> Topology {
        preflight(case.version);
        sweep_stale_runs();
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let id = format!("{PREFIX}{}-{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst));
        let dir = std::env::temp_dir().join(&id);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the scratch directory");
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
        let conf = topo.write("bird.conf", &bird_conf());
        let socket = topo.dir.join("bird.ctl");
        let router = topo.router.as_ref().expect("router namespace");
        let command: [&Path; 6] =
            [Path::new("bird"), Path::new("-f"), Path::new("-c"), &conf, Path::new("-s"), &socket];
        topo.bird = Some(Daemon::start("bird", router, &command, &[], &topo.dir.join("bird.log")));
        assert!(
            wait_for(WAIT, || topo.birdc(&["show", "status"]).is_ok_and(|s| s.contains("Daemon is up"))),
            "BIRD did not answer on {} within {WAIT:?}: {:?}",
            socket.display(),
            topo.birdc(&["show", "status"])
        );

        // ExaBGP on each load balancer, as root so that the plugin can add addresses.
        let ack = if case.acks { "true" } else { "false" };
        let env = [("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false"), ("exabgp_api_ack", ack)];
        let exabgp = case.version.venv().join("bin/exabgp");
        for lb in [Lb::One, Lb::Two] {
            fs::write(topo.control(lb, "healthy"), "").expect("create the check file");
            let conf = topo.write(&format!("exabgp-{}.conf", lb.name()), &topo.exabgp_conf(lb));
            let log = topo.dir.join(format!("exabgp-{}.log", lb.name()));
            let daemon = Daemon::start("exabgp", &topo.lbs[lb.index()], &[exabgp.as_path(), &conf], &env, &log);
            topo.exabgp[lb.index()] = Some(daemon);
        }
        topo
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        fs::write(&path, text).unwrap_or_else(|err| panic!("failed to write {}: {err}", path.display()));
        path
    }

    /// lbN's check file (`healthy`: the check passes while it exists) or disable file.
    fn control(&self, lb: Lb, what: &str) -> PathBuf {
        self.dir.join(format!("{}.{what}", lb.name()))
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
            format!("--pid {}", self.dir.join(format!("{}.pid", lb.name())).display()),
        ];
        if self.case.withdraw_on_down {
            plugin.push("--withdraw-on-down".to_owned());
        }
        let run = plugin.join(" ");
        assert!(!BIN.contains([' ', '"', ';']) && !self.dir.display().to_string().contains([' ', '"', ';']));
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

    /// `birdc -s SOCKET ARGS`: its output, or why it failed.
    fn birdc(&self, args: &[&str]) -> Result<String, String> {
        let socket = self.dir.join("bird.ctl");
        let out = Command::new("birdc")
            .arg("-s")
            .arg(&socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("failed to run birdc: {err}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("birdc {args:?}: {}{text}{}", out.status, String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Wait until the four BGP sessions are established.
    fn wait_sessions(&self) {
        let established = || {
            self.birdc(&["show", "protocols"])
                .is_ok_and(|text| text.lines().filter(|l| l.contains("Established")).count() == 4)
        };
        assert!(
            wait_for(WAIT, established),
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
        let wanted = [Paths::wanted(self.case, services, 0), Paths::wanted(self.case, services, 1)];
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
            let text = ns.ip(&["-o", "address", "show", "dev", "lo"]);
            let words: Vec<&str> = text.split_whitespace().collect();
            [SERVICE_V4, SERVICE_V6].iter().map(|a| words.contains(a)).collect::<Vec<_>>()
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
        let path = self.dir.join(format!("{}.pid", lb.name()));
        let mut pid = None;
        wait_for(WAIT, || {
            pid = fs::read_to_string(&path).ok().and_then(|t| t.trim().parse().ok());
            pid.is_some()
        });
        pid.unwrap_or_else(|| panic!("{}: no pid in {}", self.case, path.display()))
    }

    /// Processes running our binary in lbN's network namespace, found in /proc.
    fn our_processes(&self, lb: Lb) -> Vec<u32> {
        let ours = fs::canonicalize(BIN).expect("our binary");
        let netns = format!("net:[{}]", inode(&self.lbs[lb.index()]));
        let mut pids: Vec<u32> = fs::read_dir("/proc")
            .expect("read /proc")
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid: &u32| {
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
        fs::read_to_string(self.dir.join(format!("exabgp-{}.log", lb.name()))).unwrap_or_default()
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        // Both ExaBGPs stop at once (4.2 takes about two seconds).
        for daemon in self.exabgp.iter().flatten() {
            daemon.signal(Signal::SIGTERM);
        }
        if std::thread::panicking() {
            eprintln!("--- {}: scratch directory {}", self.case, self.dir.display());
            if let Ok(text) = self.birdc(&["show", "protocols", "all"]) {
                eprintln!("--- birdc show protocols all\n{text}");
            }
            for name in ["bird.log", "exabgp-lb1.log", "exabgp-lb2.log"] {
                let text = fs::read_to_string(self.dir.join(name)).unwrap_or_default();
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
        let _ = fs::remove_dir_all(&self.dir);
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

/// A process started in a namespace (`ip netns exec NS setpriv --pdeathsig KILL PROGRAM ...`:
/// each execs the next, so the PID is the program's, and it is killed if this process dies).
/// Dropped: SIGTERM, a few seconds, SIGKILL, reaped.
struct Daemon {
    name: &'static str,
    child: Child,
}

impl Daemon {
    fn start(name: &'static str, ns: &Netns, command: &[&Path], env: &[(&str, &str)], log: &Path) -> Daemon {
        let out = OpenOptions::new().create(true).append(true).open(log).expect("open a log file");
        let err = out.try_clone().expect("duplicate a log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "setpriv", "--pdeathsig", "KILL"])
            .args(command)
            .envs(env.iter().copied())
            .current_dir(log.parent().expect("log in a directory"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {name} in {}: {err}", ns.name));
        Daemon { name, child }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    fn signal(&self, signal: Signal) {
        let _ = kill(self.pid(), signal);
    }

    /// Wait at most `limit` for the exit; panics if it is still running then.
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for a daemon") {
                return status;
            }
            assert!(Instant::now() < deadline, "{} (pid {}) did not exit within {limit:?}", self.name, self.pid());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
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
        let list = Command::new("ip").args(["netns", "list"]).output().expect("run ip netns list");
        for line in String::from_utf8_lossy(&list.stdout).lines() {
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
        let found = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
            .unwrap_or(false);
        assert!(
            found,
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
    assert_eq!(paths, Paths::wanted(case, [Service::Down, Service::Up], 0));
    assert_eq!(Paths::parse("BIRD 2.0.12 ready.\nNetwork not found\n"), Paths::default());
    let withdraw = Case { withdraw_on_down: true, ..case };
    let only_lb2 = Paths::wanted(withdraw, [Service::Disabled, Service::Up], 1);
    assert_eq!(only_lb2.meds, BTreeMap::from([("lb2".into(), Some(201))]));
    assert_eq!(only_lb2.best.as_deref(), Some("lb2"));
}
