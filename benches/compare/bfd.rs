//! Workloads 10 and 11, BFD (ours only: the reference has no BFD).
//!
//! 10, node death (`node-death`): the end-to-end lab (`tests/common/lab.rs`: BIRD 2 in the
//! router's namespace, lb1 and lb2 each with ExaBGP 5.0.15 and our plugin, lb1 at MED 100 so
//! its path is the best). lb1 is frozen to traffic, as a dead or hung node is: an nftables
//! table in lb1's namespace drops everything in and out (the link stays up, nothing is sent
//! back). From the moment `nft` has returned, the harness polls `birdc show route` until the
//! best path is lb2's; BIRD's own log, stamped to the millisecond, gives when its BFD session
//! with lb1 went Down and when its BGP session with lb1 stopped. Then lb1 is thawed (the table
//! deleted) and the next cycle waits for lb1's path to be the best again. Variants: both
//! plugins with BFD at 100 ms x 3 and at 300 ms x 3 (BIRD `bfd on`), and without BFD, BIRD's
//! `hold time 3` and the default hold time (BIRD's 240 s, ExaBGP's 180 s: 180 s is agreed).
//!
//! 11, BFD's CPU (`bfd-cpu`): our plugin alone (no ExaBGP, `--no-ack`) in a load balancer's
//! namespace, with BFD sessions to 1 or 10 addresses of one BIRD (`protocol bfd` with a
//! `neighbor` for each: one session per address pair), at 100 ms and at 300 ms, and the same
//! plugin without `--bfd`: its own CPU time over a fixed window once every session is Up.
//!
//! Every wait is bounded; namespaces and processes are removed by PID when their handles drop.

use crate::common::lab::{self, Lab, Speaker, ROUTER};
use crate::common::netns::Netns;
use crate::common::{in_path, procfs, wait_every, Scratch};
use crate::procs::{mono_ns, Programs, Running};
use crate::{say, stats, Row};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

const SERVICE: &str = "37.72.160.90/32";
/// The nftables table that freezes a namespace: everything in and out dropped, before any other
/// hook of the same kind.
const FREEZE: &str =
    "table inet ehc_freeze {\n    chain input { type filter hook input priority -500; policy drop; }\n    \
                      chain output { type filter hook output priority -500; policy drop; }\n}\n";

/// Why workloads 10 and 11 cannot run here, if they cannot; `nft` only when `freeze` (10).
pub fn missing(freeze: bool) -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (network namespaces)".into());
    }
    for (tool, package) in [("ip", "iproute2"), ("bird", "bird2"), ("birdc", "bird2"), ("setpriv", "util-linux")] {
        if in_path(tool).is_none() {
            return Some(format!("`{tool}` not found ({package})"));
        }
    }
    if freeze && in_path("nft").is_none() {
        return Some("`nft` not found (nftables: contrib/bench-deps.sh installs it)".into());
    }
    None
}

/// The wall clock, in seconds since 1970: what BIRD stamps its log with.
fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64()
}

/// A process's time on a CPU, in nanoseconds (/proc/PID/schedstat).
fn oncpu_ns(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `nft ARGS` in `ns`, which must succeed.
fn nft(ns: &Netns, args: &[&str]) {
    let out = ns.exec(&["nft"]).args(args).output().expect("run nft");
    assert!(out.status.success(), "nft {args:?} in {}: {}", ns.name, String::from_utf8_lossy(&out.stderr));
}

/// One variant of workload 10.
#[derive(Clone, Copy)]
struct Variant {
    key: &'static str,
    label: &'static str,
    /// The plugins' `--bfd-interval` in ms (multiplier 3); None: no BFD.
    bfd_ms: Option<u64>,
    /// BIRD's `hold time`; None: its default.
    hold: Option<u32>,
    cycles: usize,
    /// How often the harness asks BIRD for the best path, and for how long at most.
    every: Duration,
    limit: Duration,
}

/// What one variant measured, per cycle, in ms from the freeze (`nft` returned).
#[derive(Default)]
struct Measured {
    /// Until `birdc` showed lb2's path as the best.
    moved_ms: Vec<f64>,
    /// Until BIRD logged its BFD session with lb1 Down.
    bfd_down_ms: Vec<f64>,
    /// Until BIRD logged its BGP session with lb1 stopping.
    bgp_down_ms: Vec<f64>,
    /// How long `nft` itself took to freeze.
    nft_ms: Vec<f64>,
    /// From the thaw until lb1's path was the best again, in s.
    back_s: Vec<f64>,
}

fn variants(quick: bool) -> Vec<Variant> {
    let fast = Duration::from_millis(5);
    let bfd = |key, label, ms, cycles| Variant {
        key,
        label,
        bfd_ms: Some(ms),
        hold: None,
        cycles,
        every: fast,
        limit: Duration::from_secs(30),
    };
    let mut all = vec![
        bfd("bfd_100ms_x3", "BFD 100 ms x 3", 100, if quick { 3 } else { 10 }),
        bfd("bfd_300ms_x3", "BFD 300 ms x 3", 300, if quick { 3 } else { 10 }),
        Variant {
            key: "hold_3s",
            label: "no BFD, hold time 3 s",
            bfd_ms: None,
            hold: Some(3),
            cycles: if quick { 2 } else { 5 },
            every: Duration::from_millis(10),
            limit: Duration::from_secs(30),
        },
    ];
    if !quick {
        all.push(Variant {
            key: "hold_default",
            label: "no BFD, default hold time (180 s agreed)",
            bfd_ms: None,
            hold: None,
            cycles: 1,
            every: Duration::from_millis(100),
            limit: Duration::from_secs(300),
        });
    }
    all
}

/// BIRD's configuration for a variant: [`lab::bird_ibgp`] with a log file stamped to the
/// millisecond in seconds since 1970 (`events.log`), the BGP sessions' state changes and events
/// in it, a short error wait (so that lb1 comes back quickly after a thaw), and BFD or the
/// hold time.
fn bird_conf(variant: &Variant, events: &Path) -> String {
    let mut per_session = String::from("    passive on;\n    debug { states, events };\n    error wait time 1, 2;\n");
    if variant.bfd_ms.is_some() {
        per_session.push_str("    bfd on;\n");
    }
    if let Some(hold) = variant.hold {
        per_session.push_str(&format!("    hold time {hold};\n"));
    }
    let conf = lab::bird_ibgp(2).replace("    passive on;\n", &per_session);
    let mut head = format!("log \"{}\" all;\ntimeformat log \"%s.%3f\";\n", events.display());
    head.push_str(&conf);
    if variant.bfd_ms.is_some() {
        head.push_str("protocol bfd {\n    debug { states, events };\n}\n");
    }
    head
}

/// `(time, text)` of each line of BIRD's stamped log.
fn events(path: &Path) -> Vec<(f64, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (at, rest) = line.split_once(' ')?;
            Some((at.parse().ok()?, rest.to_owned()))
        })
        .collect()
}

fn best(lab: &Lab) -> Option<String> {
    let text = lab.bird().birdc(&["show", "route", SERVICE]).ok()?;
    crate::common::bird::Paths::parse(&text).best
}

/// BIRD's BFD sessions that are Up.
fn bfd_up(text: &str) -> usize {
    text.lines().filter(|line| line.split_whitespace().nth(2) == Some("Up")).count()
}

fn node_death_variant(programs: &Programs, variant: &Variant) -> Measured {
    let mut lab = Lab::new(&format!("bench-node-death-{}", variant.key), 2);
    let events_log = lab.dir.file("events.log");
    lab.start_bird(&bird_conf(variant, &events_log), Duration::from_secs(20));
    let ours = programs.ours.display().to_string();
    let bfd = match variant.bfd_ms {
        Some(ms) => format!(" --bfd {ROUTER} --bfd-interval {ms}ms --bfd-multiplier 3"),
        None => String::new(),
    };
    lab.start_exabgp(crate::REFERENCE_VERSION, |n| {
        Speaker::ibgp(format!(
            "{ours} --no-syslog --no-ip-setup --name lb{n} --ip {SERVICE} --interval 1 --rise 1 --up-metric {}{bfd}",
            n * 100
        ))
    });
    let minute = Duration::from_secs(60);
    let every = Duration::from_millis(20);
    assert!(wait_every(minute, every, || lab.bird().established() == 2), "{}: no BGP sessions", variant.key);
    if variant.bfd_ms.is_some() {
        let up = || bfd_up(&lab.bird().birdc(&["show", "bfd", "sessions"]).unwrap_or_default());
        assert!(wait_every(minute, every, || up() == 2), "{}: BIRD's BFD sessions not Up", variant.key);
    }
    assert!(wait_every(minute, every, || best(&lab).as_deref() == Some("lb1")), "{}: lb1 never best", variant.key);
    let lb1 = lab::lb_address(1);
    let rules = lab.dir.write("freeze.nft", FREEZE);
    let rules = rules.display().to_string();
    let mut measured = Measured::default();
    let mut frozen_at = Vec::new();
    for cycle in 0..variant.cycles {
        // Start each cycle at a different point of the BFD interval (and of the keepalives).
        std::thread::sleep(Duration::from_millis(1000 + (cycle as u64 * 37) % 300));
        let before = now_s();
        nft(lab.lb(1), &["-f", &rules]);
        let frozen = now_s();
        let mut moved = None;
        wait_every(variant.limit, variant.every, || {
            moved = (best(&lab).as_deref() == Some("lb2")).then(now_s);
            moved.is_some()
        });
        let Some(moved) = moved else {
            nft(lab.lb(1), &["delete", "table", "inet", "ehc_freeze"]);
            panic!("{}: the best path did not move to lb2 within {:?}", variant.key, variant.limit);
        };
        measured.moved_ms.push((moved - frozen) * 1e3);
        measured.nft_ms.push((frozen - before) * 1e3);
        frozen_at.push((before, frozen));
        let thawed = mono_ns();
        nft(lab.lb(1), &["delete", "table", "inet", "ehc_freeze"]);
        assert!(
            wait_every(Duration::from_secs(120), every, || best(&lab).as_deref() == Some("lb1")),
            "{}: lb1 did not come back after the thaw",
            variant.key
        );
        measured.back_s.push((mono_ns() - thawed) as f64 / 1e9);
        say(&format!(
            "node death {}: cycle {}: best path lb2 after {:.0} ms; lb1 back {:.1} s after the thaw",
            variant.key,
            cycle + 1,
            measured.moved_ms[cycle],
            measured.back_s[cycle]
        ));
    }
    // BIRD's own stamps: the first BFD Down and BGP stop for lb1 after each freeze began.
    let logged = events(&events_log);
    let bfd_down = format!("Session to {lb1} changed state from Up to Down");
    let bgp_down = "lb1: State changed to stop";
    for (before, frozen) in frozen_at {
        let first = |what: &str| logged.iter().find(|(at, text)| *at >= before - 0.001 && text.contains(what));
        if variant.bfd_ms.is_some() {
            if let Some((at, _)) = first(&bfd_down) {
                measured.bfd_down_ms.push((at - frozen) * 1e3);
            }
        }
        if let Some((at, _)) = first(bgp_down) {
            measured.bgp_down_ms.push((at - frozen) * 1e3);
        }
    }
    measured
}

/// Workload 10: every variant, its rows and its JSON.
pub fn node_death(
    programs: &Programs,
    quick: bool,
    rows: &mut Vec<Row>,
    out: &mut serde_json::Map<String, serde_json::Value>,
) {
    let mut all = serde_json::Map::new();
    for variant in variants(quick) {
        let m = node_death_variant(programs, &variant);
        say(&format!(
            "node death {}: best path moved {:?} ms; BIRD's BFD Down {:?} ms, BGP stop {:?} ms; nft {:?} ms",
            variant.key, m.moved_ms, m.bfd_down_ms, m.bgp_down_ms, m.nft_ms
        ));
        let fast = variant.bfd_ms == Some(100);
        let (unit, scale) = if variant.hold.is_none() && variant.bfd_ms.is_none() { ("s", 1e-3) } else { ("ms", 1.0) };
        let mut add = |what: &str, samples: &[f64], q: f64, target: &'static str| {
            if samples.is_empty() {
                return;
            }
            let value = if q == 0.5 { stats::median(samples) } else { stats::percentile(samples, q) };
            rows.push(Row {
                workload: format!(
                    "10. node death, {}: freeze to {what}, {}",
                    variant.label,
                    if q == 0.5 { "median" } else { "max" }
                ),
                unit,
                ours: value * scale,
                reference: f64::NAN,
                runs: format!("{} / -", samples.len()),
                target,
            });
        };
        add("best path lb2", &m.moved_ms, 0.5, if fast { "0.4 s or less" } else { "" });
        add("best path lb2", &m.moved_ms, 1.0, if fast { "0.6 s or less" } else { "" });
        add("BIRD's BFD Down (its log)", &m.bfd_down_ms, 0.5, "");
        add("BIRD's BGP stop (its log)", &m.bgp_down_ms, 0.5, "");
        all.insert(
            variant.key.into(),
            json!({
                "label": variant.label,
                "bfd_interval_ms": variant.bfd_ms,
                "bird_hold_time_s": variant.hold,
                "moved_ms": m.moved_ms,
                "bird_bfd_down_ms": m.bfd_down_ms,
                "bird_bgp_stop_ms": m.bgp_down_ms,
                "nft_ms": m.nft_ms,
                "back_after_thaw_s": m.back_s,
            }),
        );
    }
    out.insert("node_death".into(), serde_json::Value::Object(all));
}

/// The router's and the load balancer's namespaces for workload 11: one veth pair, and on it
/// 10.99.K.1/24 (router) and 10.99.K.2/24 (load balancer) for K in 1..=`peers`, so that the
/// kernel picks a different source for each of the plugin's peers, and BIRD sees one session
/// per address pair. BIRD runs `protocol bfd` with a `neighbor` for each.
struct CpuLab {
    bird: crate::common::bird::Bird,
    lb: Netns,
    _router: Netns,
    /// Held to be removed last.
    _dir: Scratch,
}

impl CpuLab {
    fn new(peers: usize) -> CpuLab {
        let dir = Scratch::new("bench-bfd-cpu");
        let id = format!("ehc-bench-{}-bfd-cpu", std::process::id());
        let router = Netns::named(format!("{id}-r"));
        let lb = Netns::named(format!("{id}-lb"));
        router.ip(&["link", "add", "to-lb", "type", "veth", "peer", "name", "uplink", "netns", &lb.name]);
        let mut neighbors = String::new();
        for k in 1..=peers {
            router.ip(&["address", "add", &format!("10.99.{k}.1/24"), "dev", "to-lb"]);
            lb.ip(&["address", "add", &format!("10.99.{k}.2/24"), "dev", "uplink"]);
            neighbors.push_str(&format!("    neighbor 10.99.{k}.2;\n"));
        }
        router.ip(&["link", "set", "to-lb", "up"]);
        lb.ip(&["link", "set", "uplink", "up"]);
        let conf = format!(
            "log stderr all;\nrouter id 10.99.1.1;\nprotocol device {{ scan time 1; }}\nprotocol bfd {{\n{neighbors}}}\n"
        );
        let conf = dir.write("bird.conf", &conf);
        let bird = crate::common::bird::Bird::start(&router, &conf, &dir.path, Duration::from_secs(20));
        CpuLab { bird, lb, _router: router, _dir: dir }
    }

    fn up(&self) -> usize {
        bfd_up(&self.bird.birdc(&["show", "bfd", "sessions"]).unwrap_or_default())
    }
}

/// One window of workload 11: the plugin's CPU in ms per minute, by its schedstat time and by
/// its utime + stime.
fn cpu_window(
    programs: &Programs,
    lab: &CpuLab,
    peers: usize,
    interval_ms: Option<u64>,
    window: Duration,
) -> (f64, f64) {
    let mut argv: Vec<String> = ["ip", "netns", "exec", &lab.lb.name].iter().map(|s| (*s).to_owned()).collect();
    argv.push(programs.ours.display().to_string());
    let args = ["--no-syslog", "--no-ip-setup", "--no-ack", "--ip", SERVICE, "--interval", "10", "--cmd", "true"];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    if let Some(ms) = interval_ms {
        for k in 1..=peers {
            argv.extend(["--bfd".to_owned(), format!("10.99.{k}.1")]);
        }
        argv.extend(["--bfd-interval".to_owned(), format!("{ms}ms"), "--bfd-multiplier".to_owned(), "3".to_owned()]);
    }
    let plugin = Running::start(&argv);
    let pid = plugin.pid();
    if interval_ms.is_some() {
        let up = wait_every(Duration::from_secs(30), Duration::from_millis(50), || lab.up() == peers);
        assert!(up, "bfd-cpu: {} of {peers} sessions Up in BIRD", lab.up());
    }
    // Past the start-up, the first check and BFD's Poll sequences.
    std::thread::sleep(Duration::from_secs(3));
    let (ns0, ticks0, t0) = (oncpu_ns(pid), procfs::cpu_seconds(pid), mono_ns());
    std::thread::sleep(window);
    let (ns1, ticks1, t1) = (oncpu_ns(pid), procfs::cpu_seconds(pid), mono_ns());
    if interval_ms.is_some() {
        assert_eq!(lab.up(), peers, "bfd-cpu: a session went Down during the window");
    }
    drop(plugin);
    let minutes = (t1 - t0) as f64 / 60e9;
    ((ns1 - ns0) as f64 / 1e6 / minutes, (ticks1 - ticks0) * 1e3 / minutes)
}

/// Workload 11: rows and JSON.
pub fn cpu(
    programs: &Programs,
    quick: bool,
    rows: &mut Vec<Row>,
    out: &mut serde_json::Map<String, serde_json::Value>,
) {
    let window = Duration::from_secs(if quick { 10 } else { 30 });
    let rounds = if quick { 1 } else { 2 };
    let configs: [(usize, Option<u64>); 5] =
        [(0, None), (1, Some(100)), (10, Some(100)), (1, Some(300)), (10, Some(300))];
    // measured[config]: (schedstat, ticks) ms per minute, one per round.
    let mut measured: Vec<Vec<(f64, f64)>> = vec![Vec::new(); configs.len()];
    for _ in 0..rounds {
        for (i, &(peers, interval)) in configs.iter().enumerate() {
            // A BIRD with exactly the plugin's peers: none sends to an address the plugin has no
            // session for.
            let lab = CpuLab::new(peers.max(1));
            let (oncpu, ticks) = cpu_window(programs, &lab, peers, interval, window);
            drop(lab);
            say(&format!(
                "bfd cpu: {peers} sessions at {interval:?} ms: {oncpu:.1} ms per minute on a CPU (schedstat), {ticks:.0} by ticks"
            ));
            measured[i].push((oncpu, ticks));
        }
    }
    let median = |i: usize, f: fn(&(f64, f64)) -> f64| stats::median(&measured[i].iter().map(f).collect::<Vec<_>>());
    let base = median(0, |m| m.0);
    rows.push(Row {
        workload: "11. plugin without BFD (--interval 10 --cmd true): CPU per minute (schedstat)".into(),
        unit: "ms",
        ours: base,
        reference: f64::NAN,
        runs: format!("{} / -", measured[0].len()),
        target: "",
    });
    let mut json_configs = Vec::new();
    for (i, &(peers, interval)) in configs.iter().enumerate() {
        let total = median(i, |m| m.0);
        if let Some(ms) = interval {
            let per_session = (total - base) / peers as f64;
            rows.push(Row {
                workload: format!("11. BFD at {ms} ms x 3, {peers} session{}: CPU per session per minute, over the plugin without BFD", if peers == 1 { "" } else { "s" }),
                unit: "ms",
                ours: per_session,
                reference: f64::NAN,
                runs: format!("{} / -", measured[i].len()),
                target: "",
            });
        }
        json_configs.push(json!({
            "sessions": peers,
            "bfd_interval_ms": interval,
            "oncpu_ms_per_min": measured[i].iter().map(|m| m.0).collect::<Vec<_>>(),
            "ticks_ms_per_min": measured[i].iter().map(|m| m.1).collect::<Vec<_>>(),
        }));
    }
    out.insert("bfd_cpu".into(), json!({ "window_s": window.as_secs(), "configs": json_configs }));
}
