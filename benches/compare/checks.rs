//! Workload 9: native checks. The plugin's CPU per 1,000 checks at `--interval 0.01` for each
//! kind of check (tcp, http, dns, icmp, ntp) three ways: ours with the native check (`--check
//! URL`: no process started), ours with `--cmd` running the usual client (`nc -z`, `curl -sf`,
//! `dig`, `ping -c 1`, `sntp`), and the reference with the same `--cmd`. The servers are real
//! (tests/common/servers.rs): nginx and unbound, and Debian's chronyd (`local stratum 8`, `-x`:
//! never the clock), started in a network namespace of the bench's own; the plugins run in
//! the same namespace (`ip netns exec` execs them, so their PIDs are the plugins'), so every
//! check stays on that namespace's 127.0.0.1.
//!
//! Each plugin runs for a fixed window once it has made its first checks. Every check makes one
//! line (`--rise 1`: healthy, the route is announced again), so the checks done are the lines
//! read in the window; the reference cannot keep 100 checks a second, and counting its lines
//! gives the checks it did. Over the window: the plugin's own time on a CPU (the sum of
//! /proc/PID/task/*/schedstat, ns), its utime + stime (10 ms ticks), and cutime + cstime (the
//! children it ran and reaped, with their own children: the shell and the client); at the end
//! VmRSS and RssAnon.

use crate::common::netns::{Daemon, Netns};
use crate::common::procfs::status_kb;
use crate::common::servers::Server;
use crate::common::{in_path, wait_every, Scratch};
use crate::procs::{Kind, Programs, Running};
use crate::services::{oncpu_ns, ticks};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const HTTP_PORT: u16 = 8080;
const DNS_PORT: u16 = 5353;
/// Lines (checks) before the window starts: start-up left out.
const WARM_UP: usize = 20;

/// The flags every run gets.
const FLAGS: [&str; 11] = [
    "--no-syslog",
    "--no-ip-setup",
    "--no-ack",
    "--rise",
    "1",
    "--interval",
    "0.01",
    "--fast-interval",
    "0.01",
    "--ip",
    "192.0.2.1/32",
];

/// One kind of check: its name, the native URL, the `--cmd` that does the same.
pub struct Check {
    pub name: &'static str,
    pub url: String,
    pub cmd: String,
    /// The client, as the rows name it.
    pub client: &'static str,
}

pub fn kinds() -> Vec<Check> {
    vec![
        Check {
            name: "tcp",
            url: format!("tcp://127.0.0.1:{HTTP_PORT}"),
            cmd: format!("nc -z 127.0.0.1 {HTTP_PORT}"),
            client: "nc -z",
        },
        Check {
            name: "http",
            url: format!("http://127.0.0.1:{HTTP_PORT}/health"),
            cmd: format!("curl -sf http://127.0.0.1:{HTTP_PORT}/health"),
            client: "curl -sf",
        },
        Check {
            name: "dns",
            url: format!("dns://127.0.0.1:{DNS_PORT}/health.example.?type=A"),
            cmd: format!("dig +short +time=1 +tries=1 @127.0.0.1 -p {DNS_PORT} health.example. A"),
            client: "dig",
        },
        Check {
            name: "icmp",
            url: "icmp://127.0.0.1".to_owned(),
            cmd: "ping -c 1 -W 1 127.0.0.1".to_owned(),
            client: "ping -c 1",
        },
        Check { name: "ntp", url: "ntp://127.0.0.1".to_owned(), cmd: "sntp -t 1 127.0.0.1".to_owned(), client: "sntp" },
    ]
}

/// Who runs the check, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Ours, `--check URL`.
    Native,
    /// Ours, `--cmd CMD`.
    OursCmd,
    /// The reference, `--cmd CMD`.
    ReferenceCmd,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Native, Variant::OursCmd, Variant::ReferenceCmd];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Native => "ours --check",
            Variant::OursCmd => "ours --cmd",
            Variant::ReferenceCmd => "reference --cmd",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Variant::Native => "ours_native",
            Variant::OursCmd => "ours_cmd",
            Variant::ReferenceCmd => "reference_cmd",
        }
    }
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    /// Lines read in the window: checks done.
    pub checks: f64,
    /// Of which healthy (the UP line, `med 100`).
    pub healthy: f64,
    pub window_s: f64,
    /// The plugin's own time on a CPU over the window (schedstat), ms.
    pub own_ms: f64,
    /// The plugin's utime + stime over the window (ticks), ms.
    pub own_ticks_ms: f64,
    /// cutime + cstime over the window: the checks' processes, ms.
    pub children_ms: f64,
    pub rss_kb: f64,
    pub anon_kb: f64,
}

impl Measure {
    fn per_1000(&self, ms: f64) -> f64 {
        crate::stats::per_1000(ms, self.checks)
    }

    /// The plugin's own CPU per 1,000 checks (schedstat), ms.
    pub fn own(&self) -> f64 {
        self.per_1000(self.own_ms)
    }

    /// The plugin's own CPU per 1,000 checks by utime + stime (10 ms ticks), ms.
    pub fn per_1000_ticks(&self) -> f64 {
        self.per_1000(self.own_ticks_ms)
    }

    /// The children's CPU per 1,000 checks, ms.
    pub fn children(&self) -> f64 {
        self.per_1000(self.children_ms)
    }

    /// Both, ms.
    pub fn total(&self) -> f64 {
        self.per_1000(self.own_ms + self.children_ms)
    }

    pub fn rate(&self) -> f64 {
        self.checks / self.window_s
    }
}

/// Why workload 9 cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (a network namespace for the servers)".into());
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("setpriv", "util-linux"),
        ("python3", "python3"),
        ("nginx", "nginx"),
        ("unbound", "unbound"),
        ("curl", "curl"),
        ("dig", "bind9-dnsutils"),
        ("nc", "netcat-openbsd"),
        ("chronyd", "chrony"),
        ("ping", "iputils-ping"),
        ("sntp", "sntp"),
    ] {
        if in_path(tool).is_none() {
            return Some(format!("`{tool}` not found ({package}; contrib/bench-deps.sh installs the clients)"));
        }
    }
    None
}

/// The namespace and the servers in it, for every run of the workload.
pub struct Servers {
    // Dropped in this order: the servers (stopped by PID), the namespace, the files.
    nginx: Server,
    unbound: Server,
    chronyd: Daemon,
    pub ns: Netns,
    _dir: Scratch,
}

impl Servers {
    pub fn start() -> Servers {
        let dir = Scratch::new("bench-checks");
        let ns = Netns::new("bench-checks");
        let mut nginx = Server::nginx(&dir.path, HTTP_PORT);
        let mut unbound = Server::unbound(&dir.path, DNS_PORT);
        nginx.start(&ns, Duration::from_secs(30));
        unbound.start(&ns, Duration::from_secs(30));
        // Port 123 of the namespace's own 127.0.0.1; no command socket.
        let conf = dir.path.join("chrony.conf");
        let pid = dir.path.join("chronyd.pid");
        let text = format!("local stratum 8\nallow\ncmdport 0\nbindcmdaddress /\npidfile {}\n", pid.display());
        std::fs::write(&conf, text).expect("write chrony.conf");
        let conf = conf.display().to_string();
        let chronyd =
            Daemon::start(&ns, &["chronyd", "-d", "-x", "-u", "root", "-f", &conf], &[], &dir.path.join("chronyd.log"));
        let answers = || {
            let out = ns.exec(&["sntp", "-t", "1", "127.0.0.1"]).output();
            out.is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).contains(" s8 "))
        };
        assert!(wait_every(Duration::from_secs(30), Duration::from_millis(200), answers), "chronyd never answered");
        Servers { nginx, unbound, chronyd, ns, _dir: dir }
    }

    /// Whether every server still runs.
    fn alive(&self) -> bool {
        self.nginx.pid().is_some()
            && self.unbound.pid().is_some()
            && crate::common::procfs::alive(self.chronyd.pid().as_raw() as u32)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for server in [&mut self.nginx, &mut self.unbound] {
            if server.pid().is_some() {
                server.stop(Duration::from_secs(10));
            }
        }
    }
}

/// One run of `variant` with `check` for `window` after the warm-up.
pub fn run(programs: &Programs, servers: &Servers, check: &Check, variant: Variant, window: Duration) -> Measure {
    let mut args: Vec<String> = FLAGS.iter().map(|s| (*s).to_owned()).collect();
    let kind = match variant {
        Variant::Native => {
            args.extend(["--check".to_owned(), check.url.clone()]);
            Kind::Ours
        }
        Variant::OursCmd => {
            args.extend(["--cmd".to_owned(), check.cmd.clone()]);
            Kind::Ours
        }
        Variant::ReferenceCmd => {
            args.extend(["--cmd".to_owned(), check.cmd.clone()]);
            Kind::Reference
        }
    };
    let mut argv: Vec<String> = ["ip", "netns", "exec", servers.ns.name.as_str()].map(str::to_owned).to_vec();
    argv.extend(programs.argv(kind, &args));
    let plugin = Running::start(&argv);
    let what = format!("{} {}", check.name, variant.name());
    assert!(
        plugin.wait_lines(WARM_UP, Duration::from_secs(60)).is_some(),
        "{what}: fewer than {WARM_UP} checks in 60 s"
    );
    let pid = plugin.pid();
    let count = || plugin.lines.lock().expect("lines").len();
    let (lines_before, ticks_before, oncpu_before) = (count(), ticks(pid), oncpu_ns(pid));
    let from = Instant::now();
    std::thread::sleep(window);
    let (lines_after, ticks_after, oncpu_after) = (count(), ticks(pid), oncpu_ns(pid));
    let window_s = from.elapsed().as_secs_f64();
    let rss_kb = status_kb(pid, "VmRSS").unwrap_or(0) as f64;
    let anon_kb = status_kb(pid, "RssAnon").unwrap_or(0) as f64;
    let healthy = plugin.lines.lock().expect("lines")[lines_before..lines_after]
        .iter()
        .filter(|(_, l)| l.ends_with("med 100"))
        .count();
    drop(plugin);
    assert!(servers.alive(), "{what}: a server exited during the run");
    assert!(rss_kb > 0.0, "{what}: no VmRSS (the plugin exited?)");
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    let ms = |t: u64| t as f64 / hz * 1000.0;
    Measure {
        checks: (lines_after - lines_before) as f64,
        healthy: healthy as f64,
        window_s,
        own_ms: oncpu_after.saturating_sub(oncpu_before) as f64 / 1e6,
        own_ticks_ms: ms(ticks_after.0 - ticks_before.0),
        children_ms: ms(ticks_after.1 - ticks_before.1),
        rss_kb,
        anon_kb,
    }
}

/// Every combination, medians over the runs: a table of its own (markdown).
pub fn table(kinds: &[Check], measured: &[Vec<Vec<Measure>>]) -> String {
    let mut text = String::from(
        "| Check | Run by | Checks done | Per second | Plugin CPU per 1,000 (schedstat) | Plugin CPU per 1,000 \
         (ticks) | Children per 1,000 | Total per 1,000 | VmRSS | RssAnon |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (k, check) in kinds.iter().enumerate() {
        for (v, variant) in Variant::ALL.iter().enumerate() {
            let ms = &measured[k][v];
            let median = |f: fn(&Measure) -> f64| crate::stats::median(&ms.iter().map(f).collect::<Vec<_>>());
            let how = match variant {
                Variant::Native => format!("ours `--check {}`", check.url),
                _ => format!(
                    "{} `--cmd \"{}\"`",
                    if *variant == Variant::OursCmd { "ours" } else { "reference" },
                    check.cmd
                ),
            };
            let children = if *variant == Variant::Native {
                "0".to_owned()
            } else {
                format!("{:.0} ms", median(Measure::children))
            };
            let _ = writeln!(
                text,
                "| {} | {how} | {:.0} | {:.1} | {:.1} ms | {:.0} ms | {children} | {:.1} ms | {:.0} kB | {:.0} kB |",
                check.name,
                median(|m| m.checks),
                median(Measure::rate),
                median(Measure::own),
                median(Measure::per_1000_ticks),
                median(Measure::total),
                median(|m| m.rss_kb),
                median(|m| m.anon_kb),
            );
        }
    }
    text.push('\n');
    text
}
