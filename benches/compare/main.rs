//! Side-by-side benchmarks of exabgp-healthcheck and the reference, ExaBGP 5.0.15's
//! `python3 -m exabgp healthcheck`, on the same workloads in the same run, alternating
//! ours / reference so that drift on a shared machine hits both. It reports medians (and
//! percentiles where one run gives many samples) and the ratio ours / reference; it asserts
//! nothing. docs/performance.md shows a run and says how to reproduce it.
//!
//! `cargo bench --bench compare` runs everything (about 20 minutes on 2 cores, and about 12
//! more for the BFD workloads 10 and 11; needs root, `ip`, BIRD 2 and network namespaces for
//! workloads 6, 7, 10 and 11, and `nft` for 10). Environment:
//! - `EHC_BENCH_QUICK=1`: few runs and no /16 (a smoke run of a few minutes);
//! - `EHC_BENCH_ONLY=startup,memory,reaction,schedule,routes,failover,failover-native,services,checks,
//!   node-death,bfd-cpu,peers`: a subset (node-death and bfd-cpu need `nft` too);
//! - `EHC_BENCH_RUNS=N`: runs per program for the workloads measured once per run (and a third
//!   of it, rounded up, the rounds of workload 12);
//! - `EHC_BENCH_ROUTES=20,16`: the prefix lengths of workload 6 (16 to 30);
//! - `EHC_BENCH_SERVICES=1,10,100`: the service counts of workloads 8 and 10 (1 to 508);
//! - `EXABGP_VENV_5`: the virtualenv of exabgp==5.0.15 (else `target/exabgp-venv/5.0.15`,
//!   created when missing).
//!
//! Results go to `target/bench/results.json`, and the charts to `docs/perf/*.svg`.
//! Without `--bench` (as `cargo test --all-targets` runs it) it only says it was skipped.
//!
//! The helpers it shares with the integration tests (scratch directories, waits, /proc,
//! network namespaces, BIRD, the ExaBGP virtualenvs) are `tests/common/`, included here.

mod bfd;
mod checks;
#[path = "../../tests/common/mod.rs"]
mod common;
mod cpugroup;
mod local;
mod network;
mod peers;
mod procs;
mod services;
mod stats;
mod svg;

use procs::{Kind, Programs};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const REFERENCE_VERSION: &str = common::exabgp::V5;

/// Samples of one measure for one program.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub values: Vec<f64>,
}

impl Sample {
    pub fn one(value: f64) -> Sample {
        Sample { values: vec![value] }
    }

    fn extend(&mut self, other: Sample) {
        self.values.extend(other.values);
    }
}

/// One row of the table.
struct Row {
    workload: String,
    unit: &'static str,
    ours: f64,
    reference: f64,
    runs: String,
    target: &'static str,
}

struct Settings {
    quick: bool,
    runs: usize,
    only: Option<Vec<String>>,
    /// Prefix lengths for workload 6.
    prefixes: Vec<u32>,
    /// Service counts for workload 8.
    services: Vec<usize>,
}

impl Settings {
    fn from_env() -> Settings {
        let quick = std::env::var("EHC_BENCH_QUICK").is_ok_and(|v| v == "1");
        let runs =
            std::env::var("EHC_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(if quick { 3 } else { 9 });
        let only = std::env::var("EHC_BENCH_ONLY").ok().map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
        let prefixes = std::env::var("EHC_BENCH_ROUTES")
            .ok()
            .map(|v| v.split(',').filter_map(|p| p.trim().parse().ok()).filter(|p| (16..=30).contains(p)).collect())
            .unwrap_or_else(|| if quick { vec![20] } else { vec![20, 16] });
        let services = std::env::var("EHC_BENCH_SERVICES")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).filter(|n| (1..=508).contains(n)).collect())
            .unwrap_or_else(|| vec![1, 10, 100]);
        Settings { quick, runs, only, prefixes, services }
    }

    fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|list| list.iter().any(|n| n == name))
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("helper") {
        let (Some(mode), Some(dir)) = (argv.get(2), argv.get(3)) else { std::process::exit(2) };
        std::process::exit(procs::helper(mode, Path::new(dir)));
    }
    if !argv.iter().any(|a| a == "--bench") {
        println!("compare: skipped (run `cargo bench --bench compare`; see docs/performance.md)");
        return;
    }
    let settings = Settings::from_env();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let programs = programs(&root);
    let mut rows = Vec::new();
    let mut json_out = serde_json::Map::new();
    let mut charts = svg::Charts::default();

    if settings.wants("startup") {
        let (ours, reference) = alternate(settings.runs * 2, |kind| local::startup(&programs, kind));
        rows.push(row("1. start-up to first line", "ms", &ours, &reference, "1/20 or less"));
        json_out.insert("startup_ms".into(), pair(&ours, &reference));
    }
    if settings.wants("memory") {
        let mut mem = (Sample::default(), Sample::default());
        let mut anon = (Sample::default(), Sample::default());
        let mut cpu = (Sample::default(), Sample::default());
        for _ in 0..settings.runs.div_ceil(3) {
            for kind in [Kind::Ours, Kind::Reference] {
                let (m, a, c) = local::memory_and_cpu(&programs, kind);
                say(&format!(
                    "memory/cpu {}: {:.0} kB ({:.0} kB anonymous), {:.1} ms",
                    kind.name(),
                    m.values[0],
                    a.values[0],
                    c.values[0]
                ));
                let ours = kind == Kind::Ours;
                let pick =
                    |pair: &mut (Sample, Sample), s: Sample| if ours { pair.0.extend(s) } else { pair.1.extend(s) };
                pick(&mut mem, m);
                pick(&mut anon, a);
                pick(&mut cpu, c);
            }
        }
        rows.push(row("2. resident memory after 1,000 checks", "kB", &mem.0, &mem.1, "1/10 or less"));
        rows.push(row("2. of which anonymous (RssAnon)", "kB", &anon.0, &anon.1, ""));
        json_out.insert("rss_anon_kb".into(), pair(&anon.0, &anon.1));
        rows.push(row("3. plugin CPU per 1,000 checks", "ms", &cpu.0, &cpu.1, "1/10 or less"));
        json_out.insert("rss_kb".into(), pair(&mem.0, &mem.1));
        json_out.insert("cpu_ms_per_1000_checks".into(), pair(&cpu.0, &cpu.1));
    }
    if settings.wants("reaction") {
        let transitions = if settings.quick { 100 } else { 250 };
        let (ours, reference) = alternate(2, |kind| local::reaction(&programs, kind, transitions));
        for (q, label) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
            rows.push(Row {
                workload: format!("4. reaction latency {label}"),
                unit: "ms",
                ours: stats::percentile(&ours.values, q),
                reference: stats::percentile(&reference.values, q),
                runs: format!("{} / {} transitions", ours.values.len(), reference.values.len()),
                target: if label == "p99" { "ours under 1 ms" } else { "" },
            });
        }
        let floor = local::reaction_floor(&programs, transitions);
        for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
            rows.push(Row {
                workload: format!("4. reaction floor {label}: a check's exit seen by the harness's own wait()"),
                unit: "ms",
                ours: stats::percentile(&floor.values, q),
                reference: f64::NAN,
                runs: format!("{} exits", floor.values.len()),
                target: "",
            });
        }
        json_out.insert("reaction_ms".into(), samples_json(&ours, &reference));
        json_out.insert("reaction_floor_ms".into(), samples_json(&floor, &floor));
        charts.reaction = Some((ours, reference));
    }
    if settings.wants("schedule") {
        let checks = if settings.quick { 60 } else { 200 };
        let (ours, reference) = alternate(2, |kind| local::schedule(&programs, kind, checks));
        for (label, f) in [("mean", stats::mean as fn(&[f64]) -> f64), ("stddev", stats::stddev)] {
            rows.push(Row {
                workload: format!("5. period at --interval 0.1, 50 ms check, {label}"),
                unit: "ms",
                ours: f(&ours.values),
                reference: f(&reference.values),
                runs: format!("{} / {} periods", ours.values.len(), reference.values.len()),
                target: if label == "mean" { "ours within 1 ms of 100" } else { "" },
            });
        }
        json_out.insert("schedule_period_ms".into(), samples_json(&ours, &reference));
    }
    if settings.wants("routes") || settings.wants("failover") || settings.wants("failover-native") {
        if let Some(problem) = network::missing() {
            say(&format!("workloads 6 and 7 skipped: {problem}"));
        } else {
            if settings.wants("routes") {
                let sizes = settings.prefixes.clone();
                let mut scaling = Vec::new();
                for prefix in sizes {
                    let runs = if prefix == 16 { 1 } else { settings.runs.div_ceil(3) };
                    let mut up = (Sample::default(), Sample::default());
                    let mut down = (Sample::default(), Sample::default());
                    for _ in 0..runs {
                        for kind in [Kind::Ours, Kind::Reference] {
                            let (u, d) = network::routes(&programs, kind, prefix);
                            say(&format!("routes /{prefix} {}: in BIRD {:.2} s, gone {:.2} s", kind.name(), u, d));
                            let (us, ds) =
                                if kind == Kind::Ours { (&mut up.0, &mut down.0) } else { (&mut up.1, &mut down.1) };
                            us.extend(Sample::one(u));
                            ds.extend(Sample::one(d));
                        }
                    }
                    let count = 1u64 << (32 - prefix);
                    let target = if prefix == 16 { "ours 3x faster or more" } else { "" };
                    rows.push(row(&format!("6. {count} routes announced, all in BIRD"), "s", &up.0, &up.1, target));
                    rows.push(row(&format!("6. {count} routes withdrawn, all gone"), "s", &down.0, &down.1, ""));
                    json_out.insert(format!("routes_{count}_up_s"), pair(&up.0, &up.1));
                    json_out.insert(format!("routes_{count}_down_s"), pair(&down.0, &down.1));
                    scaling.push((count, stats::median(&up.0.values), stats::median(&up.1.values)));
                }
                charts.scaling = scaling;
            }
            if settings.wants("failover") {
                let cycles = if settings.quick { 3 } else { 8 };
                let mut ours = Sample::default();
                let mut reference = Sample::default();
                let mut from_removal = (Sample::default(), Sample::default());
                for _ in 0..2 {
                    for kind in [Kind::Ours, Kind::Reference] {
                        let (from_check, removal) = network::failover(&programs, kind, cycles);
                        say(&format!(
                            "failover {}: from the failing check {:?} ms, from the file's removal {:?} ms",
                            kind.name(),
                            from_check.values,
                            removal.values
                        ));
                        if kind == Kind::Ours {
                            ours.extend(from_check);
                            from_removal.0.extend(removal);
                        } else {
                            reference.extend(from_check);
                            from_removal.1.extend(removal);
                        }
                    }
                }
                rows.push(row(
                    "7. failover, first failing check to best path moved",
                    "ms",
                    &ours,
                    &reference,
                    "no slower; within 50 ms of 200 ms",
                ));
                rows.push(row(
                    "7. failover, check file removed to best path moved",
                    "ms",
                    &from_removal.0,
                    &from_removal.1,
                    "",
                ));
                json_out.insert("failover_from_failing_check_ms".into(), samples_json(&ours, &reference));
                json_out.insert("failover_from_file_removal_ms".into(), samples_json(&from_removal.0, &from_removal.1));
            }
            if settings.wants("failover-native") {
                let cycles = if settings.quick { 5 } else { 15 };
                let mut native = Sample::default();
                let mut cpu = Sample::default();
                for _ in 0..2 {
                    let (from_check, percent) = network::failover_native(&programs, cycles);
                    say(&format!(
                        "failover native http: from nginx's first 503 {:?} ms; plugin CPU {percent:.3} % of a core",
                        from_check.values
                    ));
                    native.extend(from_check);
                    cpu.values.push(percent);
                }
                rows.push(Row {
                    workload: "7n. failover at --interval 0.1 --fast-interval 0.05 --fall 2, native http: first failing check to best path moved".into(),
                    unit: "ms",
                    ours: stats::median(&native.values),
                    reference: f64::NAN,
                    runs: format!("{} / -", native.values.len()),
                    target: "median within 30 ms of 50 ms",
                });
                rows.push(Row {
                    workload: "7n. same, the plugin's CPU over the cycles".into(),
                    unit: "% core",
                    ours: stats::median(&cpu.values),
                    reference: f64::NAN,
                    runs: format!("{} / -", cpu.values.len()),
                    target: "under 1 %",
                });
                json_out.insert(
                    "failover_native_http".into(),
                    json!({ "from_failing_check_ms": native.values, "plugin_cpu_percent": cpu.values }),
                );
            }
        }
    }

    if settings.wants("services") {
        let window = Duration::from_secs(if settings.quick { 30 } else { 60 });
        let mut points = Vec::new();
        for &n in &settings.services {
            let mut measured = Vec::new();
            for kind in [Kind::Ours, Kind::Reference] {
                let m = services::services(&programs, kind, n, window);
                say(&format!(
                    "services {n} {}: all announced after {:.1} s; VmRSS {:.0} kB (RssAnon {:.0}, Pss {:.0}); \
                     CPU {:.0} ms per minute (on a CPU {:.1}; {:.0} with the checks) over {} s",
                    kind.name(),
                    m.announced_s,
                    m.rss_kb,
                    m.anon_kb,
                    m.pss_kb,
                    m.cpu_ms_per_min,
                    m.oncpu_ms_per_min,
                    m.cpu_with_checks_ms_per_min,
                    window.as_secs()
                ));
                measured.push(m);
            }
            let (ours, reference) = (&measured[0], &measured[1]);
            let (memory_target, cpu_target) = match n {
                100 => ("1/500 or less", "1/10 or less"),
                1 => ("1/10 or less", ""),
                _ => ("", ""),
            };
            let processes = format!("1 / {n} processes");
            let mut add = |what: &str, unit: &'static str, f: fn(&services::Measure) -> f64, target: &'static str| {
                rows.push(Row {
                    workload: format!("8. {n} service{}, {what}", if n == 1 { "" } else { "s" }),
                    unit,
                    ours: f(ours),
                    reference: f(reference),
                    runs: processes.clone(),
                    target,
                });
            };
            add("resident memory (VmRSS, total)", "kB", |m| m.rss_kb, memory_target);
            add("of which anonymous (RssAnon)", "kB", |m| m.anon_kb, "");
            add("proportional (Pss, shared pages divided)", "kB", |m| m.pss_kb, "");
            add("plugin CPU per minute (children excluded)", "ms", |m| m.cpu_ms_per_min, cpu_target);
            add("plugin time on a CPU per minute (schedstat, ns)", "ms", |m| m.oncpu_ms_per_min, "");
            add("CPU per minute with the checks (cutime)", "ms", |m| m.cpu_with_checks_ms_per_min, "");
            add("all announced after start", "s", |m| m.announced_s, "");
            let one = |f: fn(&services::Measure) -> f64| pair(&Sample::one(f(ours)), &Sample::one(f(reference)));
            json_out.insert(
                format!("services_{n}"),
                json!({
                    "window_s": window.as_secs(),
                    "rss_kb": one(|m| m.rss_kb),
                    "rss_anon_kb": one(|m| m.anon_kb),
                    "pss_kb": one(|m| m.pss_kb),
                    "cpu_ms_per_min": one(|m| m.cpu_ms_per_min),
                    "oncpu_ms_per_min": one(|m| m.oncpu_ms_per_min),
                    "cpu_with_checks_ms_per_min": one(|m| m.cpu_with_checks_ms_per_min),
                    "announced_s": one(|m| m.announced_s),
                }),
            );
            points.push((n as u64, ours.clone(), reference.clone()));
        }
        charts.services = points;
    }

    let mut checks_table = String::new();
    if settings.wants("checks") {
        if let Some(problem) = checks::missing() {
            say(&format!("workload 9 skipped: {problem}"));
        } else {
            let window = Duration::from_secs(if settings.quick { 10 } else { 30 });
            let runs = if settings.quick { 1 } else { settings.runs.div_ceil(3) };
            let servers = checks::Servers::start();
            let kinds = checks::kinds();
            // measured[kind][variant]: every run's measure.
            let mut measured: Vec<Vec<Vec<checks::Measure>>> = vec![vec![Vec::new(); 3]; kinds.len()];
            for _ in 0..runs {
                for (k, check) in kinds.iter().enumerate() {
                    for (v, variant) in checks::Variant::ALL.iter().enumerate() {
                        let m = checks::run(&programs, &servers, check, *variant, window);
                        say(&format!(
                            "checks {} {}: {} checks in {:.1} s ({} healthy), per 1,000: plugin {:.1} ms \
                             (schedstat; {:.0} by ticks), children {:.0} ms; VmRSS {:.0} kB (RssAnon {:.0})",
                            check.name,
                            variant.name(),
                            m.checks,
                            m.window_s,
                            m.healthy,
                            m.own(),
                            m.per_1000_ticks(),
                            m.children(),
                            m.rss_kb,
                            m.anon_kb
                        ));
                        measured[k][v].push(m);
                    }
                }
            }
            drop(servers);
            let median = |ms: &[checks::Measure], f: fn(&checks::Measure) -> f64| {
                stats::median(&ms.iter().map(f).collect::<Vec<_>>())
            };
            let mut chart = Vec::new();
            let mut kinds_json = serde_json::Map::new();
            for (k, check) in kinds.iter().enumerate() {
                let [native, ours_cmd, reference] = [0, 1, 2].map(|v| measured[k][v].as_slice());
                let own = |ms: &[checks::Measure]| median(ms, checks::Measure::own);
                let total = |ms: &[checks::Measure]| median(ms, checks::Measure::total);
                let n = runs.to_string();
                let runs_of = format!("{n} / {n}");
                let client = check.client;
                let mut add = |workload: String, ours: f64, reference: f64, target: &'static str| {
                    rows.push(Row { workload, unit: "ms", ours, reference, runs: runs_of.clone(), target });
                };
                let http = check.name == "http";
                add(
                    format!(
                        "9. {}: CPU per 1,000 checks, ours --check / reference --cmd `{client}`, children included",
                        check.name
                    ),
                    own(native),
                    total(reference),
                    if http { "1/100 or less" } else { "" },
                );
                add(
                    format!("9. {}: same, the reference's plugin only (children excluded)", check.name),
                    own(native),
                    own(reference),
                    "",
                );
                add(
                    format!(
                        "9. {}: ours --check / ours --cmd `{client}` (in the reference column), children included",
                        check.name
                    ),
                    own(native),
                    total(ours_cmd),
                    if http { "1/20 or less" } else { "" },
                );
                add(
                    format!("9. {}: ours --cmd / reference --cmd `{client}`, plugin only", check.name),
                    own(ours_cmd),
                    own(reference),
                    "",
                );
                add(
                    format!("9. {}: ours --cmd / reference --cmd `{client}`, children included", check.name),
                    total(ours_cmd),
                    total(reference),
                    "",
                );
                if http {
                    let rss = |ms: &[checks::Measure]| median(ms, |m| m.rss_kb);
                    rows.push(Row {
                        workload: "9. http: resident memory (VmRSS), ours --check / reference --cmd `curl -sf`".into(),
                        unit: "kB",
                        ours: rss(native),
                        reference: rss(reference),
                        runs: runs_of.clone(),
                        target: "1/10 or less",
                    });
                }
                let mut variants = serde_json::Map::new();
                for (v, variant) in checks::Variant::ALL.iter().enumerate() {
                    let ms = &measured[k][v];
                    let list = |f: fn(&checks::Measure) -> f64| json!(ms.iter().map(f).collect::<Vec<_>>());
                    variants.insert(
                        variant.key().into(),
                        json!({
                            "window_s": list(|m| m.window_s),
                            "checks": list(|m| m.checks),
                            "healthy": list(|m| m.healthy),
                            "own_ms_per_1000": list(checks::Measure::own),
                            "own_ticks_ms_per_1000": list(checks::Measure::per_1000_ticks),
                            "children_ms_per_1000": list(checks::Measure::children),
                            "total_ms_per_1000": list(checks::Measure::total),
                            "rss_kb": list(|m| m.rss_kb),
                            "rss_anon_kb": list(|m| m.anon_kb),
                        }),
                    );
                }
                kinds_json
                    .insert(check.name.into(), json!({ "url": check.url, "cmd": check.cmd, "variants": variants }));
                chart.push((check.name, own(native), total(ours_cmd), total(reference)));
            }
            json_out
                .insert("checks".into(), json!({ "window_s": window.as_secs(), "runs": runs, "kinds": kinds_json }));
            checks_table = checks::table(&kinds, &measured);
            charts.checks = chart;
        }
    }

    if settings.wants("node-death") || settings.wants("bfd-cpu") {
        if let Some(problem) = bfd::missing(settings.wants("node-death")) {
            say(&format!("workloads 10 and 11 skipped: {problem}"));
        } else {
            if settings.wants("node-death") {
                bfd::node_death(&programs, settings.quick, &mut rows, &mut json_out);
            }
            if settings.wants("bfd-cpu") {
                bfd::cpu(&programs, settings.quick, &mut rows, &mut json_out);
            }
        }
    }

    let mut peers_table = String::new();
    if settings.wants("peers") {
        if let Some(problem) = peers::missing() {
            say(&format!("workload 12 skipped: {problem}"));
        } else {
            let installed = peers::install(&root);
            let scene = peers::Scene::start();
            // measured[count][check][peer]: one run per round. The rounds go through every
            // case in turn, so that the machine's drift hits every program alike.
            let mut measured = vec![vec![vec![Vec::new(); 3]; 2]; settings.services.len()];
            let rounds = if settings.quick { 1 } else { settings.runs.div_ceil(3) };
            for round in 1..=rounds {
                for (c, &n) in settings.services.iter().enumerate() {
                    // At one service a check a second gives few checks: a longer window.
                    let seconds = match (n, settings.quick) {
                        (1, true) => 10,
                        (1, false) => 20,
                        (_, true) => 5,
                        (_, false) => 10,
                    };
                    let window = Duration::from_secs(seconds);
                    for (k, check) in peers::Check::ALL.iter().enumerate() {
                        for (p, peer) in peers::Peer::ALL.iter().enumerate() {
                            let m = peers::run(&installed, &programs.ours, &scene, *peer, *check, n, window);
                            say(&format!(
                            "peers (round {round} of {rounds}) {n} {} {}: started in {:.0} ms ({} announced, {} withdraw lines); {} checks in {:.1} s; per 1,000: own {:.1} ms \
                             (ticks {:.0}), children {:.0} ms; VmRSS {:.0} kB, all {} processes {:.0} kB \
                             (Pss {:.0}, RssAnon {:.0})",
                            check.name(),
                            peer.name(),
                            m.startup_ms,
                            m.announced,
                            m.withdrawn,
                            m.checks,
                            m.window_s,
                            m.own(),
                            stats::per_1000(m.own_ticks_ms, m.checks),
                            m.total() - m.own(),
                            m.rss_kb,
                            m.processes,
                            m.tree_rss_kb,
                            m.tree_pss_kb,
                            m.tree_anon_kb
                        ));
                            measured[c][k][p].push(m);
                        }
                    }
                }
            }
            drop(scene);
            let mut counts_json = serde_json::Map::new();
            for (c, &n) in settings.services.iter().enumerate() {
                let mut checks_json = serde_json::Map::new();
                for (k, check) in peers::Check::ALL.iter().enumerate() {
                    let mut programs_json = serde_json::Map::new();
                    for (p, peer) in peers::Peer::ALL.iter().enumerate() {
                        let ms = &measured[c][k][p];
                        let list = |f: fn(&peers::Measure) -> f64| json!(ms.iter().map(f).collect::<Vec<_>>());
                        programs_json.insert(
                            peer.key().into(),
                            json!({
                                "how": check.how(*peer),
                                "startup_ms": list(|m| m.startup_ms),
                                "announced": list(|m| m.announced),
                                "withdrawn": list(|m| m.withdrawn),
                                "window_s": list(|m| m.window_s),
                                "checks": list(|m| m.checks),
                                "processes": list(|m| m.processes),
                                "own_ms_per_1000": list(peers::Measure::own),
                                "own_ticks_ms": list(|m| m.own_ticks_ms),
                                "own_ms": list(|m| m.own_ms),
                                "children_ms": list(|m| m.children_ms),
                                "group_ms": list(|m| m.group_ms),
                                "total_ms_per_1000": list(peers::Measure::total),
                                "rss_kb": list(|m| m.rss_kb),
                                "tree_rss_kb": list(|m| m.tree_rss_kb),
                                "tree_pss_kb": list(|m| m.tree_pss_kb),
                                "tree_anon_kb": list(|m| m.tree_anon_kb),
                            }),
                        );
                    }
                    checks_json.insert(check.name().into(), serde_json::Value::Object(programs_json));
                }
                counts_json.insert(n.to_string(), serde_json::Value::Object(checks_json));
            }
            json_out.insert(
                "peers".into(),
                json!({ "exacheck": peers::EXACHECK, "anycast_healthchecker": peers::ANYCAST, "services": counts_json }),
            );
            peers_table = peers::table(&settings.services, &measured);
        }
    }

    print_table(&rows);
    print!("{checks_table}");
    print!("{peers_table}");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).expect("target/bench");
    let mut doc = serde_json::Map::new();
    doc.insert("machine".into(), json!(machine()));
    doc.insert("results".into(), serde_json::Value::Object(json_out));
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("results.json");
    say(&format!("results: {}", path.display()));
    for written in charts.write(&root.join("docs/perf")) {
        say(&format!("chart: {}", written.display()));
    }
}

fn say(text: &str) {
    eprintln!("compare: {text}");
}

/// `runs` runs of `f`, alternating ours and the reference.
fn alternate(runs: usize, mut f: impl FnMut(Kind) -> Sample) -> (Sample, Sample) {
    let mut ours = Sample::default();
    let mut reference = Sample::default();
    for _ in 0..runs.div_ceil(2) {
        for kind in [Kind::Ours, Kind::Reference] {
            let sample = f(kind);
            if kind == Kind::Ours {
                ours.extend(sample);
            } else {
                reference.extend(sample);
            }
        }
    }
    (ours, reference)
}

fn row(workload: &str, unit: &'static str, ours: &Sample, reference: &Sample, target: &'static str) -> Row {
    Row {
        workload: workload.to_owned(),
        unit,
        ours: stats::median(&ours.values),
        reference: stats::median(&reference.values),
        runs: format!("{} / {}", ours.values.len(), reference.values.len()),
        target,
    }
}

fn pair(ours: &Sample, reference: &Sample) -> serde_json::Value {
    json!({
        "ours": { "median": stats::median(&ours.values), "samples": ours.values },
        "reference": { "median": stats::median(&reference.values), "samples": reference.values },
    })
}

fn samples_json(ours: &Sample, reference: &Sample) -> serde_json::Value {
    let describe = |s: &Sample| {
        json!({
            "count": s.values.len(),
            "mean": stats::mean(&s.values),
            "stddev": stats::stddev(&s.values),
            "p50": stats::percentile(&s.values, 0.5),
            "p90": stats::percentile(&s.values, 0.9),
            "p99": stats::percentile(&s.values, 0.99),
            "max": stats::percentile(&s.values, 1.0),
        })
    };
    json!({ "ours": describe(ours), "reference": describe(reference) })
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| Workload | Unit | Ours | Reference | Ours / reference | Runs (ours / ref) | Target |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.workload,
            r.unit,
            number(r.ours),
            number(r.reference),
            ratio(r.ours, r.reference),
            r.runs,
            r.target
        );
    }
    println!();
}

fn number(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn ratio(ours: f64, reference: f64) -> String {
    if ours.is_nan() || reference.is_nan() || reference == 0.0 {
        return "n/a".into();
    }
    let r = ours / reference;
    if r < 1.0 && r > 0.0 {
        format!("{r:.3} (1/{:.1})", 1.0 / r)
    } else {
        format!("{r:.2}")
    }
}

/// Ours, the reference's virtualenv (made when missing), and this executable as the check
/// helper.
fn programs(root: &Path) -> Programs {
    let venv = common::exabgp::venv(REFERENCE_VERSION);
    let python = venv.join("bin/python");
    let ok = Command::new(&python).args(["-c", "import exabgp"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        say(&format!("creating the virtualenv {} with exabgp=={REFERENCE_VERSION}", venv.display()));
        let _ = std::fs::remove_dir_all(&venv);
        let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3 -m venv");
        assert!(made.success(), "python3 -m venv {} failed (Debian: apt-get install python3-venv)", venv.display());
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check", &format!("exabgp=={REFERENCE_VERSION}")])
            .status()
            .expect("pip");
        assert!(installed.success(), "pip install exabgp=={REFERENCE_VERSION} failed");
    }
    Programs {
        ours: release_build(root),
        python,
        exabgp: venv.join("bin/exabgp"),
        helper: std::env::current_exe().expect("this executable"),
    }
}

/// Ours as it ships: `contrib/build-release.sh` (the release profile, with panic=abort, which
/// the profile `cargo bench` builds with cannot have, linked statically, as the Debian package
/// has it), built now, so that it is this tree's.
fn release_build(root: &Path) -> PathBuf {
    say("building ours with contrib/build-release.sh (the release profile, static)");
    let built = Command::new(root.join("contrib/build-release.sh"))
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .expect("run contrib/build-release.sh");
    assert!(built.status.success(), "contrib/build-release.sh failed");
    PathBuf::from(String::from_utf8(built.stdout).expect("a path").trim())
}

/// What the run was on.
fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_default();
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or_default().trim().to_owned()
            })
            .unwrap_or_default()
    };
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "kernel": output("uname", &["-r"]),
        "rustc": output("rustc", &["--version"]),
        "bird": output("bird", &["--version"]),
        "exabgp": REFERENCE_VERSION,
    })
}
