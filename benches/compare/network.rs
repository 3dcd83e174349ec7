//! Workloads 6 and 7: the plugin inside a real ExaBGP 5.0.15 (acks on, its default) peering
//! with a real BIRD 2, in network namespaces made here (10.98.0.0/16 on veth pairs; nothing
//! leaves them) and removed afterwards with every process started (by PID). The namespaces,
//! daemons and BIRD are those of the end-to-end tests (`tests/common/`).

use crate::common::bird::{Bird, Paths};
use crate::common::netns::{Daemon, Netns};
use crate::common::{in_path, wait_every, Scratch};
use crate::procs::{helper_exits, mono_ns, Kind, Programs};
use crate::Sample;
use std::time::Duration;

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
        if in_path(tool).is_none() {
            return Some(format!("`{tool}` not found (iproute2, bird2, util-linux)"));
        }
    }
    None
}

/// A router namespace running BIRD, and load balancers each linked to it by a veth pair
/// (router 10.98.N.1, load balancer N 10.98.N.2), each with ExaBGP and the plugin.
struct Topology {
    // Dropped in this order: ExaBGPs (their plugins withdraw), BIRD, the namespaces, the files.
    exabgp: Vec<Daemon>,
    bird: Bird,
    lbs: Vec<Netns>,
    /// Held to be dropped (deleted) after BIRD, which runs in it.
    _router: Netns,
    dir: Scratch,
}

impl Topology {
    fn new(name: &str, lbs: usize) -> Topology {
        let dir = Scratch::new(&format!("bench-{name}"));
        let id = format!("ehc-bench-{}-{name}", std::process::id());
        let router = Netns::named(format!("{id}-r"));
        let mut namespaces = Vec::new();
        let mut bird = format!(
            "router id 10.98.0.1;\nprotocol device {{ scan time 10; }}\n\
             template bgp lb {{ local as {ASN}; direct; passive on; deterministic med on; med metric on; }}\n"
        );
        for n in 1..=lbs {
            let ns = Netns::named(format!("{id}-lb{n}"));
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
        let conf = dir.write("bird.conf", &bird);
        let bird = Bird::start(&router, &conf, &dir.path, Duration::from_secs(20));
        Topology { exabgp: Vec::new(), bird, lbs: namespaces, _router: router, dir }
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
        let path = self.dir.write(&format!("exabgp-lb{n}.conf"), &conf);
        let argv = vec![programs.exabgp.display().to_string(), path.display().to_string()];
        let env = [("exabgp_daemon_user", "root"), ("exabgp_api_cli", "false"), ("exabgp_log_level", "WARNING")];
        let log = self.dir.file(&format!("exabgp-lb{n}.log"));
        self.exabgp.push(Daemon::start(&self.lbs[n - 1], &argv, &env, &log));
    }

    fn established(&self, sessions: usize) -> bool {
        self.bird.established() == sessions
    }

    /// Routes in BIRD's table.
    fn route_count(&self) -> Option<u64> {
        let text = self.bird.birdc(&["show", "route", "count"]).ok()?;
        text.lines().find_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words.get(1) == Some(&"of")).then(|| words[0].parse().ok()).flatten()
        })
    }

    /// The protocol (`lb1`, `lb2`) of the best path to the service address.
    fn best(&self) -> Option<String> {
        let text = self.bird.birdc(&["show", "route", SERVICE]).ok()?;
        Paths::parse(&text).best
    }
}

/// Workload 7, native: lb1's plugin (ours only: the reference has no native check) checks
/// `--check http://127.0.0.1:8080/health` on a real nginx in lb1's namespace at `--interval
/// 0.1 --fast-interval 0.05 --fall 2`; lb2's runs `--cmd true`. `cycles` times, nginx starts
/// answering 503 (the file its `/health` looks at is removed): milliseconds from nginx's
/// first 503 answer (its access log, to the millisecond) until the router's best path is
/// lb2's. Also the plugin's CPU over the cycles, in per cent of one core.
pub fn failover_native(programs: &Programs, cycles: usize) -> (Sample, f64) {
    use crate::common::procfs;
    use crate::common::servers::Server;
    let mut topo = Topology::new("failover-native", 2);
    let gate = topo.dir.file("healthy");
    std::fs::write(&gate, "").expect("healthy");
    let web = topo.dir.file("nginx");
    std::fs::create_dir_all(&web).expect("nginx directory");
    let mut nginx = Server::nginx_gated(&web, 8080, &gate);
    nginx.start(&topo.lbs[0], Duration::from_secs(20));
    let check = ["--check", "http://127.0.0.1:8080/health"];
    let lb1 = ["--interval", "0.1", "--fast-interval", "0.05", "--fall", "2", "--up-metric", "100"];
    let lb2 = ["--interval", "1", "--fast-interval", "0.2", "--fall", "2", "--up-metric", "200", "--cmd", "true"];
    for (n, args) in [(1, [&lb1[..], &check[..]].concat()), (2, lb2.to_vec())] {
        let mut all = vec!["--ip", SERVICE];
        all.extend(args);
        let args: Vec<String> = all.iter().map(|s| (*s).to_owned()).collect();
        topo.start_exabgp(programs, n, &plugin(programs, Kind::Ours, &args));
    }
    assert!(wait(Duration::from_secs(60), || topo.established(2)), "native: no BGP sessions");
    assert!(wait(Duration::from_secs(60), || topo.best().as_deref() == Some("lb1")), "native: lb1 never best");
    // lb1's plugin: ours, a descendant of lb1's ExaBGP.
    let exabgp = topo.exabgp[0].pid().as_raw() as u32;
    let descends = |mut pid: u32| {
        for _ in 0..4 {
            match procfs::stat(pid) {
                Some(stat) if stat.parent == exabgp => return true,
                Some(stat) => pid = stat.parent,
                None => return false,
            }
        }
        false
    };
    let ours = std::fs::canonicalize(&programs.ours).expect("our binary");
    let plugin_pid = procfs::pids()
        .into_iter()
        .find(|&pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == ours) && descends(pid))
        .expect("lb1's plugin among lb1's ExaBGP's descendants");
    let cpu_ns = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let now_s =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64();
    let (cpu_before, started) = (cpu_ns(plugin_pid), mono_ns());
    let mut from_check = Sample::default();
    for cycle in 0..cycles {
        // Start each cycle at a different point of the 100 ms interval.
        std::thread::sleep(Duration::from_millis(500 + (cycle as u64 * 37) % 100));
        let removed = now_s();
        std::fs::remove_file(&gate).expect("healthy");
        let mut moved = None;
        wait_every(Duration::from_secs(30), Duration::from_millis(2), || {
            moved = (topo.best().as_deref() == Some("lb2")).then(now_s);
            moved.is_some()
        });
        let moved = moved.expect("native: the best path never moved to lb2");
        let failed = nginx.answered().into_iter().find(|&(at, status)| status == 503 && at >= removed - 0.001);
        if let Some((at, _)) = failed {
            from_check.values.push((moved - at) * 1e3);
        }
        std::fs::write(&gate, "").expect("healthy");
        assert!(
            wait(Duration::from_secs(30), || topo.best().as_deref() == Some("lb1")),
            "native: lb1 did not come back"
        );
    }
    let cpu = (cpu_ns(plugin_pid) - cpu_before) as f64 / (mono_ns() - started) as f64 * 100.0;
    nginx.stop(Duration::from_secs(5));
    (from_check, cpu)
}

/// Poll `cond` every 20 ms for at most `limit`.
fn wait(limit: Duration, cond: impl FnMut() -> bool) -> bool {
    wait_every(limit, Duration::from_millis(20), cond)
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
    let checks = topo.dir.file("checks");
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
    let mut all_in = None;
    wait(ROUTES_LIMIT, || {
        all_in = (topo.route_count() == Some(count)).then(mono_ns);
        all_in.is_some()
    });
    let passed = helper_exits(&checks).into_iter().find(|(code, _)| *code == 0).map(|(_, at)| at);
    let up = match (passed, all_in) {
        (Some(from), Some(to)) => (to - from) as f64 / 1e9,
        _ => f64::NAN,
    };
    let failures_before = helper_exits(&checks).len();
    std::fs::remove_file(checks.join("healthy")).expect("healthy");
    let mut all_gone = None;
    wait(ROUTES_LIMIT, || {
        all_gone = (topo.route_count() == Some(0)).then(mono_ns);
        all_gone.is_some()
    });
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
    let checks = topo.dir.file("checks");
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
        let mut moved = None;
        wait_every(Duration::from_secs(30), Duration::from_millis(2), || {
            moved = (topo.best().as_deref() == Some("lb2")).then(mono_ns);
            moved.is_some()
        });
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
