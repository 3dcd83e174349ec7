//! Workload 12: the peers. Ours beside the two other health checkers users choose from, in the
//! same run on the same machine: exacheck 0.1.7 (an ExaBGP plugin like ours, Python, a worker
//! process per check) and anycast-healthchecker 0.9.10 (Python, a thread per check, which
//! announces nothing itself: it edits a list of prefixes that BIRD includes and runs `birdc
//! configure`). Each peer is installed by pip into a virtualenv the harness creates under
//! `target/peers-venv/`, from the pinned lists in `contrib/bench/`.
//!
//! Everything runs in a network namespace of the harness's own: nginx on its 127.0.0.1:8080
//! (`tests/common/servers.rs`, `GET /health` answering 200), BIRD 2 configured as
//! anycast-healthchecker's README says (an `include` of the prefix list, a `match_route()`
//! export filter on a BGP protocol), and each program (`ip netns exec` execs it: the PID is the
//! program's). At N services (1, 10, 100), each with a check once a second against nginx, two
//! kinds of check:
//! - `http`: each program's own way to check an http URL: ours `--check http://...`,
//!   exacheck's `method: http` (httpx), and anycast-healthchecker's only way, a command,
//!   `curl -sf URL`;
//! - `shell`: the command `curl -sf URL` for all three (ours `--cmd`, which runs a simple
//!   command without a shell; exacheck `method: shell`, through `/bin/sh -c`;
//!   anycast-healthchecker `check_cmd`, split into words and run without a shell).
//!
//! Measured, per program: start-up (from the spawn until every service is announced: ours and
//! exacheck, a line naming each address on stdout; anycast-healthchecker, every prefix in the
//! list it writes for BIRD, which it writes before it runs `birdc configure`), then, after a
//! warm-up, over a fixed window: the checks done, counted at the server (nginx's access log);
//! the CPU of the program's own processes (the process and, for exacheck, its workers: those
//! alive both at the start and at the end of the window), on a CPU by schedstat, and that of
//! everything the program ran, the checks' processes included: a cgroup of the harness's that
//! the program joins before it starts ([`crate::cpugroup`], to the nanosecond; without one, the
//! growth of the program's processes' cutime + cstime, what they reaped, in 10 ms ticks); at
//! the end, resident memory: the main process's VmRSS, and over the program's processes the
//! sum of VmRSS, of RssAnon and of Pss (shared pages divided between processes).
//!
//! A checker's CPU with curl is mostly curl's (7 to 10 ms a run here), and the machine's drift
//! between two runs a minute apart is as large as the difference between the programs: the
//! harness runs every program, service count and check once per round, several rounds in turn
//! (`rounds`), and the tables show medians.

use crate::common::bird::Bird;
use crate::common::netns::Netns;
use crate::common::procfs::{pids, stat, status_kb};
use crate::common::servers::Server;
use crate::common::{in_path, signal, wait_every, Scratch};
use crate::cpugroup::CpuGroup;
use crate::procs::Running;
use crate::services::{address, oncpu_ns, pss_kb, ticks};
use nix::sys::signal::Signal;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const HTTP_PORT: u16 = 8080;
pub const EXACHECK: &str = "exacheck==0.1.7";
pub const ANYCAST: &str = "anycast-healthchecker==0.9.10";
/// The prefix anycast-healthchecker keeps in the list so that it is never empty (its default).
const DUMMY_PREFIX: &str = "10.189.200.255/32";
/// After every service is announced, before the window: the programs settle.
const WARM_UP: Duration = Duration::from_secs(3);

fn url() -> String {
    format!("http://127.0.0.1:{HTTP_PORT}/health")
}

fn curl() -> String {
    format!("curl -sf {}", url())
}

/// Which program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Ours,
    Exacheck,
    Anycast,
}

impl Peer {
    pub const ALL: [Peer; 3] = [Peer::Ours, Peer::Exacheck, Peer::Anycast];

    pub fn name(self) -> &'static str {
        match self {
            Peer::Ours => "ours",
            Peer::Exacheck => "exacheck",
            Peer::Anycast => "anycast-healthchecker",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Peer::Ours => "ours",
            Peer::Exacheck => "exacheck",
            Peer::Anycast => "anycast_healthchecker",
        }
    }
}

/// Which check every service has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Each program's own http check (anycast-healthchecker has none: curl).
    Http,
    /// `curl -sf URL` as a command, for all three.
    Shell,
}

impl Check {
    pub const ALL: [Check; 2] = [Check::Http, Check::Shell];

    pub fn name(self) -> &'static str {
        match self {
            Check::Http => "http",
            Check::Shell => "shell",
        }
    }

    /// How `peer` does this check, as the tables say it.
    pub fn how(self, peer: Peer) -> String {
        match (self, peer) {
            (Check::Http, Peer::Ours) => format!("`check = {}`", url()),
            (Check::Http, Peer::Exacheck) => format!("`method: http`, `url: {}`", url()),
            (Check::Shell, Peer::Ours) => format!("`command = {}`", curl()),
            (Check::Shell, Peer::Exacheck) => format!("`method: shell`, `command: {}`", curl()),
            (_, Peer::Anycast) => format!("`check_cmd = {}`", curl()),
        }
    }
}

/// The virtualenvs' programs.
pub struct Peers {
    pub exacheck: PathBuf,
    pub anycast: PathBuf,
}

/// Why workload 12 cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (a network namespace for nginx, BIRD and the programs)".into());
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("setpriv", "util-linux"),
        ("python3", "python3"),
        ("nginx", "nginx"),
        ("bird", "bird2"),
        ("birdc", "bird2"),
        ("curl", "curl"),
    ] {
        if in_path(tool).is_none() {
            return Some(format!("`{tool}` not found ({package}; contrib/bench-deps.sh)"));
        }
    }
    None
}

/// The peers' virtualenvs, `target/peers-venv/NAME-VERSION`, each made (`python3 -m venv`, then
/// `pip install -r contrib/bench/NAME-VERSION.txt`, every package pinned) when its program is
/// missing.
pub fn install(root: &Path) -> Peers {
    let venv = |spec: &str, program: &str| {
        let (name, version) = spec.split_once("==").expect("NAME==VERSION");
        let dir = root.join("target/peers-venv").join(format!("{name}-{version}"));
        let bin = dir.join("bin").join(program);
        if !bin.exists() {
            crate::say(&format!("creating the virtualenv {} with {spec}", dir.display()));
            let _ = std::fs::remove_dir_all(&dir);
            let made = Command::new("python3").arg("-m").arg("venv").arg(&dir).status().expect("python3 -m venv");
            assert!(made.success(), "python3 -m venv {} failed (Debian: apt-get install python3-venv)", dir.display());
            let pinned = root.join("contrib/bench").join(format!("{name}-{version}.txt"));
            let installed = Command::new(dir.join("bin/pip"))
                .args(["install", "-q", "--disable-pip-version-check", "-r"])
                .arg(&pinned)
                .status()
                .expect("pip");
            assert!(installed.success(), "pip install -r {} failed", pinned.display());
            assert!(bin.exists(), "{} has no {}", dir.display(), bin.display());
        }
        bin
    };
    Peers { exacheck: venv(EXACHECK, "exacheck"), anycast: venv(ANYCAST, "anycast-healthchecker") }
}

/// The namespace, nginx and BIRD, for every run of the workload.
pub struct Scene {
    // Dropped in this order: nginx and BIRD (stopped by PID), the namespace, the files.
    nginx: Server,
    bird: Bird,
    pub ns: Netns,
    dir: Scratch,
}

impl Scene {
    pub fn start() -> Scene {
        let dir = Scratch::new("bench-peers");
        let ns = Netns::new("bench-peers");
        let mut nginx = Server::nginx(&dir.path, HTTP_PORT);
        // 100 services check at once, and exacheck's httpx keeps its connections open: more
        // than the tests' 64 connections.
        let conf = dir.read("nginx.conf").replace("worker_connections 64;", "worker_connections 1024;");
        dir.write("nginx.conf", &conf);
        nginx.start(&ns, Duration::from_secs(30));
        // anycast-healthchecker's README, for BIRD 2 (`ipv4 { }` channels): the list of
        // prefixes it keeps is included, and a BGP protocol exports what `match_route()`
        // accepts. The neighbour is not there: nothing is sent anywhere.
        std::fs::write(dir.file("anycast-prefixes.conf"), prefix_list(&[])).expect("write the prefix list");
        let conf = dir.write(
            "bird.conf",
            &format!(
                "router id 10.97.0.1;\ninclude \"{}\";\nfunction match_route() {{\n    return net ~ ACAST_PS_ADVERTISE;\n}}\n\
                 protocol device {{ scan time 10; }}\n\
                 protocol direct direct1 {{ interface \"lo\"; ipv4 {{ import all; export none; }}; }}\n\
                 template bgp bgp_peers {{ local as 64815; ipv4 {{ import none; export where match_route(); }}; }}\n\
                 protocol bgp BGP1 from bgp_peers {{ disabled no; neighbor 10.97.0.2 as 64814; }}\n",
                dir.file("anycast-prefixes.conf").display()
            ),
        );
        let bird = Bird::start(&ns, &conf, &dir.path, Duration::from_secs(20));
        Scene { nginx, bird, ns, dir }
    }

    /// Requests nginx has answered so far (lines of its access log).
    fn answered(&self) -> usize {
        std::fs::read_to_string(self.dir.file("nginx-access.log")).map_or(0, |t| t.lines().count())
    }

    fn alive(&self) -> bool {
        self.nginx.pid().is_some() && crate::common::procfs::alive(self.bird.daemon.pid().as_raw() as u32)
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        if self.nginx.pid().is_some() {
            self.nginx.stop(Duration::from_secs(10));
        }
    }
}

/// anycast-healthchecker's list as its README shows it, with the dummy prefix and `prefixes`.
fn prefix_list(prefixes: &[String]) -> String {
    let mut all = vec![DUMMY_PREFIX.to_owned()];
    all.extend(prefixes.iter().cloned());
    format!("define ACAST_PS_ADVERTISE =\n    [\n        {}\n    ];\n", all.join(",\n        "))
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    /// From the spawn until every service was announced, ms (NaN if they were not all).
    pub startup_ms: f64,
    /// Services announced by the end of the start-up wait.
    pub announced: f64,
    /// Withdraw lines over the whole run (exacheck and ours).
    pub withdrawn: f64,
    /// Requests nginx answered in the window: the checks done.
    pub checks: f64,
    pub window_s: f64,
    /// The program's processes: how many.
    pub processes: f64,
    /// Their time on a CPU over the window (schedstat), ms.
    pub own_ms: f64,
    /// Their utime + stime over the window (10 ms ticks), ms.
    pub own_ticks_ms: f64,
    /// Their cutime + cstime over the window: the checks' processes, ms.
    pub children_ms: f64,
    /// The CPU time of every process of the program's cgroup over the window, the checks'
    /// included, ms (NaN without a group: then the ticks above are the measure).
    pub group_ms: f64,
    /// VmRSS of the main process, kB.
    pub rss_kb: f64,
    /// Over the program's processes: VmRSS, RssAnon, Pss, kB.
    pub tree_rss_kb: f64,
    pub tree_anon_kb: f64,
    pub tree_pss_kb: f64,
}

impl Measure {
    fn per_1000(&self, ms: f64) -> f64 {
        crate::stats::per_1000(ms, self.checks)
    }

    /// The program's own CPU per 1,000 checks, ms.
    pub fn own(&self) -> f64 {
        self.per_1000(self.own_ms)
    }

    /// The same with the checks' processes, ms: the cgroup's count, to the nanosecond, where
    /// there was one; else the own processes' with the checks' reaped ticks.
    pub fn total(&self) -> f64 {
        if self.group_ms.is_finite() {
            self.per_1000(self.group_ms)
        } else {
            self.per_1000(self.own_ms + self.children_ms)
        }
    }

    pub fn rate(&self) -> f64 {
        self.checks / self.window_s
    }
}

/// The argv that starts `peer` with `n` services of `check`, its files written to `dir`.
fn argv(peers: &Peers, ours: &Path, scene: &Scene, peer: Peer, check: Check, n: usize, dir: &Scratch) -> Vec<String> {
    let mut argv: Vec<String> = ["ip", "netns", "exec", scene.ns.name.as_str()].map(str::to_owned).to_vec();
    match peer {
        Peer::Ours => {
            let mut text = String::from("no-syslog\nno-ip-setup\nno-ack\ninterval = 1\nrise = 1\nfall = 2\n");
            match check {
                Check::Http => writeln!(text, "check = {}", url()),
                Check::Shell => writeln!(text, "command = {}", curl()),
            }
            .expect("write");
            for i in 0..n {
                let _ = writeln!(text, "[s{}]\nip = {}", i + 1, address(i));
            }
            let conf = dir.write("ours.conf", &text);
            argv.extend([ours.display().to_string(), "--config".into(), conf.display().to_string()]);
        }
        Peer::Exacheck => {
            let mut text = String::from("checks:\n");
            for i in 0..n {
                let _ = write!(
                    text,
                    "  - name: s{}\n    prefixes: [{}]\n    nexthop: self\n    interval: 1\n    rise: 1\n    fall: 2\n    \
                     args:\n",
                    i + 1,
                    address(i)
                );
                let _ = match check {
                    Check::Http => writeln!(text, "      method: http\n      url: {}", url()),
                    Check::Shell => writeln!(text, "      method: shell\n      command: {}", curl()),
                };
            }
            let conf = dir.write("exacheck.yaml", &text);
            argv.extend([peers.exacheck.display().to_string(), "run".into(), "-f".into(), conf.display().to_string()]);
        }
        Peer::Anycast => {
            let d = &scene.dir;
            // Its own file back to the dummy prefix alone, as a fresh start would find it.
            std::fs::write(d.file("anycast-prefixes.conf"), prefix_list(&[])).expect("write the prefix list");
            let _ = scene.bird.birdc(&["configure"]);
            let conf = dir.write(
                "anycast-healthchecker.conf",
                &format!(
                    "[DEFAULT]\ninterface = lo\n\n[daemon]\npidfile = {}\nipv4 = true\nipv6 = false\nbird_conf = {}\n\
                     bird_variable = ACAST_PS_ADVERTISE\nbird_reconfigure_cmd = {} -s {} configure\n\
                     dummy_ip_prefix = {DUMMY_PREFIX}\nbird_keep_changes = false\npurge_ip_prefixes = true\n\
                     loglevel = info\njson_stdout = false\nprometheus_exporter = false\n",
                    dir.file("anycast-healthchecker.pid").display(),
                    d.file("anycast-prefixes.conf").display(),
                    in_path("birdc").expect("birdc").display(),
                    d.file("bird.ctl").display(),
                ),
            );
            let services = dir.file("services.d");
            std::fs::create_dir_all(&services).expect("services.d");
            let mut text = String::new();
            for i in 0..n {
                let _ = writeln!(
                    text,
                    "[s{}]\ncheck_cmd = {}\ncheck_interval = 1\ncheck_timeout = 2\ncheck_rise = 1\ncheck_fail = 2\n\
                     check_disabled = false\non_disabled = withdraw\nip_prefix = {}\nip_check_disabled = true\n",
                    i + 1,
                    curl(),
                    address(i)
                );
            }
            std::fs::write(services.join("services.conf"), text).expect("write services.conf");
            argv.extend([
                peers.anycast.display().to_string(),
                "-f".into(),
                conf.display().to_string(),
                "-d".into(),
                services.display().to_string(),
            ]);
        }
    }
    argv
}

/// `pid` and every process under it.
fn tree(pid: u32) -> HashSet<u32> {
    let parents: Vec<(u32, u32)> = pids().into_iter().filter_map(|p| Some((p, stat(p)?.parent))).collect();
    let mut found: HashSet<u32> = HashSet::from([pid]);
    loop {
        let before = found.len();
        for &(p, parent) in &parents {
            if found.contains(&parent) {
                found.insert(p);
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// One run of `peer` with `n` services of `check`, measured over `window` after the warm-up.
#[allow(clippy::too_many_arguments)]
pub fn run(peers: &Peers, ours: &Path, scene: &Scene, peer: Peer, check: Check, n: usize, window: Duration) -> Measure {
    let dir = Scratch::new("bench-peer");
    let argv = argv(peers, ours, scene, peer, check, n, &dir);
    let group = CpuGroup::new("bench-peer");
    let argv = group.as_ref().map_or_else(|| argv.clone(), |g| g.wrap(&argv));
    let addresses: HashSet<String> = (0..n).map(address).collect();
    let started = Instant::now();
    let log = dir.file("stderr.log");
    let plugin = Running::start_logged(&argv, peer != Peer::Anycast, &log);
    let what = format!("{} {} {n}", peer.name(), check.name());
    // Python start-up is CPU-bound: 100 exacheck workers take a while on 2 cores. A program
    // that has not announced every service by then is measured all the same, and says how many.
    let limit = Duration::from_secs(60 + n as u64);
    let count = || match peer {
        Peer::Anycast => {
            let text = std::fs::read_to_string(scene.dir.file("anycast-prefixes.conf")).unwrap_or_default();
            let listed = text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| addresses.contains(*w));
            listed.collect::<HashSet<_>>().len()
        }
        _ => {
            let lines = plugin.lines.lock().expect("lines");
            let seen: HashSet<&str> = lines
                .iter()
                .filter(|(_, l)| l.starts_with("announce"))
                .filter_map(|(_, l)| l.split_whitespace().nth(2))
                .collect();
            seen.len()
        }
    };
    let all = wait_every(limit, Duration::from_millis(10), || count() >= n);
    let startup_ms = if all { started.elapsed().as_secs_f64() * 1000.0 } else { f64::NAN };
    let announced = count();
    if !all {
        crate::say(&format!("{what}: {announced} of {n} services announced within {limit:?}; measured all the same"));
    }
    std::thread::sleep(WARM_UP);
    let pid = plugin.pid();
    let first = tree(pid);
    let sample = |pids: &HashSet<u32>| -> Vec<(u32, (u64, u64), u64)> {
        pids.iter().map(|&p| (p, ticks(p), oncpu_ns(p))).collect()
    };
    // The group counts only if the program joined it (the wrap's write may have failed).
    let group = group.filter(|g| g.holds(pid));
    let usage = || group.as_ref().and_then(CpuGroup::usage_ns);
    let (served_before, before, usage_before) = (scene.answered(), sample(&first), usage());
    let from = Instant::now();
    std::thread::sleep(window);
    let last = tree(pid);
    let (served_after, after, usage_after) = (scene.answered(), sample(&last), usage());
    let window_s = from.elapsed().as_secs_f64();
    // The program's own processes: there at both ends (a check's process is not).
    let own: HashSet<u32> = first.intersection(&last).copied().collect();
    let kb = |name: &str| own.iter().map(|&p| status_kb(p, name).unwrap_or(0)).sum::<u64>() as f64;
    let (tree_rss_kb, tree_anon_kb) = (kb("VmRSS"), kb("RssAnon"));
    let tree_pss_kb = own.iter().map(|&p| pss_kb(p)).sum::<u64>() as f64;
    let rss_kb = status_kb(pid, "VmRSS").unwrap_or(0) as f64;
    let (mut own_ticks, mut children, mut oncpu) = (0u64, 0u64, 0u64);
    for (p, (t, c), ns) in &after {
        if let Some((_, (t0, c0), ns0)) = before.iter().find(|(q, _, _)| q == p).filter(|_| own.contains(p)) {
            own_ticks += t - t0;
            children += c - c0;
            oncpu += ns.saturating_sub(*ns0);
        }
    }
    let group_ms = match (usage_before, usage_after) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e6,
        _ => f64::NAN,
    };
    let withdrawn = plugin.lines.lock().expect("lines").iter().filter(|(_, l)| l.starts_with("withdraw")).count();
    stop(plugin, &last);
    assert!(scene.alive(), "{what}: nginx or BIRD exited during the run");
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    let ms = |t: u64| t as f64 / hz * 1000.0;
    Measure {
        startup_ms,
        announced: announced as f64,
        withdrawn: withdrawn as f64,
        checks: served_after.saturating_sub(served_before) as f64,
        window_s,
        processes: own.len() as f64,
        own_ms: oncpu as f64 / 1e6,
        own_ticks_ms: ms(own_ticks),
        children_ms: ms(children),
        group_ms,
        rss_kb,
        tree_rss_kb,
        tree_anon_kb,
        tree_pss_kb,
    }
}

/// SIGTERM to the program, a bounded wait, then the handle's drop (SIGKILL, reaped), and
/// SIGKILL to any of its processes still there (exacheck's workers, were the master killed).
fn stop(mut plugin: Running, processes: &HashSet<u32>) {
    signal(plugin.pid(), Signal::SIGTERM);
    wait_every(Duration::from_secs(15), Duration::from_millis(20), || {
        plugin.child.try_wait().is_ok_and(|s| s.is_some())
    });
    drop(plugin);
    for &p in processes {
        if crate::common::procfs::alive(p) {
            signal(p, Signal::SIGKILL);
        }
    }
}

/// Every run's figures, medians over the runs: a markdown table, with the ratios.
pub fn table(counts: &[usize], measured: &[Vec<Vec<Vec<Measure>>>]) -> String {
    let mut text = String::from(
        "| Services | Check | Program | How | Start-up | Checks / s | Own CPU per 1,000 | With the checks per 1,000 \
         | VmRSS (main) | VmRSS (all processes) | Pss (all) | RssAnon (all) | Processes |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (c, &n) in counts.iter().enumerate() {
        for (k, check) in Check::ALL.iter().enumerate() {
            for (p, peer) in Peer::ALL.iter().enumerate() {
                let ms = &measured[c][k][p];
                let median = |f: fn(&Measure) -> f64| crate::stats::median(&ms.iter().map(f).collect::<Vec<_>>());
                let started = median(|m| m.startup_ms);
                let started = if started.is_nan() {
                    format!("{:.0} of {n} announced in {} s", median(|m| m.announced), 60 + n)
                } else {
                    format!("{started:.0} ms")
                };
                let _ = writeln!(
                    text,
                    "| {n} | {} | {} | {} | {started} | {:.1} | {:.1} ms | {:.0} ms | {:.0} kB | {:.0} kB | {:.0} kB | {:.0} kB | {:.0} |",
                    check.name(),
                    peer.name(),
                    check.how(*peer),
                    median(Measure::rate),
                    median(Measure::own),
                    median(Measure::total),
                    median(|m| m.rss_kb),
                    median(|m| m.tree_rss_kb),
                    median(|m| m.tree_pss_kb),
                    median(|m| m.tree_anon_kb),
                    median(|m| m.processes),
                );
            }
        }
    }
    text.push('\n');
    text.push_str(
        "| Services | Check | Ours / | Start-up | Own CPU per 1,000 | With the checks | VmRSS (main) | VmRSS (all) | Pss (all) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (c, &n) in counts.iter().enumerate() {
        for (k, check) in Check::ALL.iter().enumerate() {
            let median = |p: usize, f: fn(&Measure) -> f64| {
                crate::stats::median(&measured[c][k][p].iter().map(f).collect::<Vec<_>>())
            };
            for (p, peer) in Peer::ALL.iter().enumerate().skip(1) {
                let r = |f: fn(&Measure) -> f64| crate::ratio(median(0, f), median(p, f));
                let _ = writeln!(
                    text,
                    "| {n} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    check.name(),
                    peer.name(),
                    r(|m| m.startup_ms),
                    r(Measure::own),
                    r(Measure::total),
                    r(|m| m.rss_kb),
                    r(|m| m.tree_rss_kb),
                    r(|m| m.tree_pss_kb),
                );
            }
        }
    }
    text.push('\n');
    text
}
