//! Workloads 6 and 7: the plugin inside a real ExaBGP 5.0.15 (acks on, its default) peering
//! with a real BIRD 2, in network namespaces made here (10.98.0.0/16 on veth pairs; nothing
//! leaves them) and removed afterwards with every process started (by PID).

use crate::procs::{helper_exits, mono_ns, Kind, Programs, Scratch};
use crate::Sample;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ASN: u32 = 64512;
const SERVICE: &str = "37.72.160.20/32";
/// The longest one route workload may take (the reference with 65,536 routes is slow).
const ROUTES_LIMIT: Duration = Duration::from_secs(600);

/// Why workloads 6 and 7 cannot run here, if they cannot.
pub fn missing() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (network namespaces)".into());
    }
    for tool in ["ip", "bird", "birdc", "setpriv"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        if !found {
            return Some(format!("`{tool}` not found (iproute2, bird2, util-linux)"));
        }
    }
    None
}

/// A network namespace with `lo` up; on drop, whatever still runs in it is killed by PID and
/// it is deleted.
struct Netns {
    name: String,
}

impl Netns {
    fn new(name: String) -> Netns {
        let _ = run("ip", &["netns", "del", &name]);
        run("ip", &["netns", "add", &name]).expect("ip netns add");
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all).unwrap_or_else(|err| panic!("ip {all:?}: {err}"));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(pids) = run("ip", &["netns", "pids", &self.name]) {
            for pid in pids.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

/// A daemon in a namespace (`setpriv --pdeathsig KILL`: it dies with us). SIGTERM, then
/// SIGKILL, on drop.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(ns: &Netns, argv: &[String], env: &[(&str, &str)], log: &Path) -> Daemon {
        let out = OpenOptions::new().create(true).append(true).open(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "setpriv", "--pdeathsig", "KILL"])
            .args(argv)
            .envs(env.iter().copied())
            .current_dir(log.parent().expect("log directory"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {argv:?}: {e}"));
        Daemon { child }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A router namespace running BIRD, and load balancers each linked to it by a veth pair
/// (router 10.98.N.1, load balancer N 10.98.N.2), each with ExaBGP and the plugin.
struct Topology {
    // Dropped in this order: ExaBGPs (their plugins withdraw), BIRD, the namespaces, the files.
    exabgp: Vec<Daemon>,
    bird: Option<Daemon>,
    lbs: Vec<Netns>,
    router: Netns,
    dir: Scratch,
}

impl Topology {
    fn new(name: &str, lbs: usize) -> Topology {
        let dir = Scratch::new(name);
        let id = format!("ehc-bench-{}-{name}", std::process::id());
        let router = Netns::new(format!("{id}-r"));
        let mut namespaces = Vec::new();
        let mut bird = format!(
            "router id 10.98.0.1;\nprotocol device {{ scan time 10; }}\n\
             template bgp lb {{ local as {ASN}; direct; passive on; deterministic med on; med metric on; }}\n"
        );
        for n in 1..=lbs {
            let ns = Netns::new(format!("{id}-lb{n}"));
            let to = format!("to-lb{n}");
            router.ip(&["link", "add", &to, "type", "veth", "peer", "name", "uplink", "netns", &ns.name]);
            router.ip(&["address", "add", &format!("10.98.{n}.1/24"), "dev", &to]);
            router.ip(&["link", "set", &to, "up"]);
            ns.ip(&["address", "add", &format!("10.98.{n}.2/24"), "dev", "uplink"]);
            ns.ip(&["link", "set", "uplink", "up"]);
            namespaces.push(ns);
            bird.push_str(&format!(
                "protocol bgp lb{n} from lb {{ local 10.98.{n}.1; neighbor 10.98.{n}.2 as {ASN}; \
                 ipv4 {{ import all; export none; }}; }}\n"
            ));
        }
        let conf = dir.0.join("bird.conf");
        std::fs::write(&conf, bird).expect("bird.conf");
        let mut topo = Topology { exabgp: Vec::new(), bird: None, lbs: namespaces, router, dir };
        let socket = topo.socket();
        let argv: Vec<String> = vec![
            "bird".into(),
            "-f".into(),
            "-c".into(),
            conf.display().to_string(),
            "-s".into(),
            socket.display().to_string(),
        ];
        topo.bird = Some(Daemon::start(&topo.router, &argv, &[], &topo.dir.0.join("bird.log")));
        assert!(
            wait(Duration::from_secs(20), || topo.birdc(&["show", "status"]).is_ok_and(|s| s.contains("Daemon is up"))),
            "BIRD did not start"
        );
        topo
    }

    fn socket(&self) -> PathBuf {
        self.dir.0.join("bird.ctl")
    }

    fn birdc(&self, args: &[&str]) -> Result<String, String> {
        let socket = self.socket().display().to_string();
        let mut all = vec!["-s", socket.as_str()];
        all.extend_from_slice(args);
        run("birdc", &all)
    }

    /// Start ExaBGP on load balancer `n` (1-based) with `plugin` as its process.
    fn start_exabgp(&mut self, programs: &Programs, n: usize, plugin: &[String]) {
        let quoted: Vec<String> =
            plugin.iter().map(|a| if a.contains(' ') { format!("\"{a}\"") } else { a.clone() }).collect();
        let conf = format!(
            "process hc {{\n    run {};\n    encoder text;\n}}\n\
             neighbor 10.98.{n}.1 {{\n    router-id 10.98.{n}.2;\n    local-address 10.98.{n}.2;\n    \
             local-as {ASN};\n    peer-as {ASN};\n    family {{ ipv4 unicast; }}\n    api {{ processes [ hc ]; }}\n}}\n",
            quoted.join(" ")
        );
        let path = self.dir.0.join(format!("exabgp-lb{n}.conf"));
        std::fs::write(&path, conf).expect("exabgp.conf");
        let argv = vec![programs.exabgp.display().to_string(), path.display().to_string()];
        let env = [("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false"), ("exabgp_log_level", "WARNING")];
        let log = self.dir.0.join(format!("exabgp-lb{n}.log"));
        self.exabgp.push(Daemon::start(&self.lbs[n - 1], &argv, &env, &log));
    }

    fn established(&self, sessions: usize) -> bool {
        self.birdc(&["show", "protocols"])
            .is_ok_and(|t| t.lines().filter(|l| l.contains("Established")).count() == sessions)
    }

    /// Routes in BIRD's table.
    fn route_count(&self) -> Option<u64> {
        let text = self.birdc(&["show", "route", "count"]).ok()?;
        text.lines().find_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words.get(1) == Some(&"of")).then(|| words[0].parse().ok()).flatten()
        })
    }

    /// The protocol (`lb1`, `lb2`) of the best path to the service address.
    fn best(&self) -> Option<String> {
        let text = self.birdc(&["show", "route", SERVICE]).ok()?;
        text.lines().find_map(|line| {
            let (_, rest) = line.split_once('[')?;
            let (protocol, after) = rest.split_once(']')?;
            (after.split_whitespace().next() == Some("*"))
                .then(|| protocol.split_whitespace().next())?
                .map(str::to_owned)
        })
    }
}

fn wait(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// The plugin's argv for `kind` inside ExaBGP.
fn plugin(programs: &Programs, kind: Kind, args: &[String]) -> Vec<String> {
    let mut all: Vec<String> = ["--no-syslog", "--no-ip-setup"].iter().map(|s| (*s).to_owned()).collect();
    all.extend(args.iter().cloned());
    programs.argv(kind, &all)
}

/// Workload 6: `--deaggregate-networks` over a /`prefix` through ExaBGP (acks on) to BIRD: seconds from
/// the exit of the first passing check until BIRD holds every route, and from the exit of the
/// first failing check (`--withdraw-on-down`) until every route is gone. The plugin starts
/// unhealthy (its first lines withdraw routes nobody has yet) and turns healthy once the
/// session is up and those lines are through.
pub fn routes(programs: &Programs, kind: Kind, prefix: u32) -> (f64, f64) {
    let count = 1u64 << (32 - prefix);
    let mut topo = Topology::new(&format!("routes{prefix}-{}", kind.name()), 1);
    let checks = topo.dir.0.join("checks");
    std::fs::create_dir_all(&checks).expect("checks directory");
    let args: Vec<String> = [
        "--ip",
        &format!("10.200.0.0/{prefix}"),
        "--deaggregate-networks",
        "--withdraw-on-down",
        "--debounce",
        "--rise",
        "1",
        "--fall",
        "1",
        "--interval",
        "0.5",
        "--fast-interval",
        "0.5",
        "--cmd",
        &programs.check("file", &checks),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    topo.start_exabgp(programs, 1, &plugin(programs, kind, &args));
    assert!(wait(Duration::from_secs(60), || topo.established(1)), "{kind:?}: no BGP session");
    // Two checks done: the reference has written (and had acknowledged) its first withdraws.
    assert!(wait(ROUTES_LIMIT, || helper_exits(&checks).len() >= 2), "{kind:?}: the first checks did not end");
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(checks.join("healthy"), "").expect("healthy");
    let until = Instant::now() + ROUTES_LIMIT;
    let mut all_in = None;
    while Instant::now() < until {
        if topo.route_count() == Some(count) {
            all_in = Some(mono_ns());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let passed = helper_exits(&checks).into_iter().find(|(code, _)| *code == 0).map(|(_, at)| at);
    let up = match (passed, all_in) {
        (Some(from), Some(to)) => (to - from) as f64 / 1e9,
        _ => f64::NAN,
    };
    let failures_before = helper_exits(&checks).len();
    std::fs::remove_file(checks.join("healthy")).expect("healthy");
    let until = Instant::now() + ROUTES_LIMIT;
    let mut all_gone = None;
    while Instant::now() < until {
        if topo.route_count() == Some(0) {
            all_gone = Some(mono_ns());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let failed = helper_exits(&checks).into_iter().skip(failures_before).find(|(code, _)| *code == 1).map(|(_, a)| a);
    let down = match (failed, all_gone) {
        (Some(from), Some(to)) => (to - from) as f64 / 1e9,
        _ => f64::NAN,
    };
    (up, down)
}

/// Workload 7: Two load balancers in the end-to-end topology (lb1 MED 100, lb2 MED 200), both plugins
/// of `kind` at `--interval 1 --fast-interval 0.2 --fall 2`. `cycles` times: lb1's check
/// starts failing; milliseconds until the router's best path is lb2's, from the exit of lb1's
/// first failing check, and from the removal of the file the check looks at.
pub fn failover(programs: &Programs, kind: Kind, cycles: usize) -> (Sample, Sample) {
    let mut topo = Topology::new(&format!("failover-{}", kind.name()), 2);
    let checks = topo.dir.0.join("checks");
    std::fs::create_dir_all(&checks).expect("checks directory");
    std::fs::write(checks.join("healthy"), "").expect("healthy");
    for (n, metric, check) in [(1, "100", programs.check("file", &checks)), (2, "200", "true".to_owned())] {
        let args: Vec<String> = [
            "--ip",
            SERVICE,
            "--interval",
            "1",
            "--fast-interval",
            "0.2",
            "--fall",
            "2",
            "--up-metric",
            metric,
            "--cmd",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([check])
        .collect();
        topo.start_exabgp(programs, n, &plugin(programs, kind, &args));
    }
    assert!(wait(Duration::from_secs(60), || topo.established(2)), "{kind:?}: no BGP sessions");
    assert!(wait(Duration::from_secs(60), || topo.best().as_deref() == Some("lb1")), "{kind:?}: lb1 never best");
    let mut from_check = Sample::default();
    let mut from_removal = Sample::default();
    for cycle in 0..cycles {
        // Start each cycle at a different point of the 1 s interval.
        std::thread::sleep(Duration::from_millis(300 + (cycle as u64 * 377) % 1000));
        let removed = mono_ns();
        std::fs::remove_file(checks.join("healthy")).expect("healthy");
        let until = Instant::now() + Duration::from_secs(30);
        let mut moved = None;
        while Instant::now() < until {
            if topo.best().as_deref() == Some("lb2") {
                moved = Some(mono_ns());
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let moved = moved.unwrap_or_else(|| panic!("{kind:?}: the best path never moved to lb2"));
        let failed = helper_exits(&checks).into_iter().find(|(code, at)| *code == 1 && *at >= removed);
        if let Some((_, at)) = failed {
            from_check.values.push((moved - at) as f64 / 1e6);
        }
        from_removal.values.push((moved - removed) as f64 / 1e6);
        std::fs::write(checks.join("healthy"), "").expect("healthy");
        assert!(
            wait(Duration::from_secs(30), || topo.best().as_deref() == Some("lb1")),
            "{kind:?}: lb1 did not come back"
        );
    }
    (from_check, from_removal)
}
