//! The charts of docs/performance.md, drawn as plain SVG: the distribution of reaction
//! latencies (a CDF on a logarithmic time axis), the route-count scaling (grouped bars), and
//! memory and CPU against the number of services (two log-log panels), and the CPU per 1,000
//! checks of the native checks against `--cmd` ones (grouped bars, logarithmic).

use crate::services::Measure;
use crate::Sample;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const OURS: &str = "#1f77b4";
const REFERENCE: &str = "#d62728";
const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

#[derive(Default)]
pub struct Charts {
    /// Reaction latencies in ms: ours, the reference's.
    pub reaction: Option<(Sample, Sample)>,
    /// (routes, ours in s, the reference in s).
    pub scaling: Vec<(u64, f64, f64)>,
    /// (services, ours, the reference's total).
    pub services: Vec<(u64, Measure, Measure)>,
    /// (check, ours --check, ours --cmd with children, the reference --cmd with children), ms
    /// per 1,000 checks.
    pub checks: Vec<(&'static str, f64, f64, f64)>,
}

impl Charts {
    /// Write the charts there is data for; their paths.
    pub fn write(&self, dir: &Path) -> Vec<PathBuf> {
        let mut written = Vec::new();
        let _ = std::fs::create_dir_all(dir);
        if let Some((ours, reference)) = &self.reaction {
            let path = dir.join("reaction-latency.svg");
            if std::fs::write(&path, cdf(ours, reference)).is_ok() {
                written.push(path);
            }
        }
        if !self.scaling.is_empty() {
            let path = dir.join("route-scaling.svg");
            if std::fs::write(&path, bars(&self.scaling)).is_ok() {
                written.push(path);
            }
        }
        if !self.services.is_empty() {
            let path = dir.join("services.svg");
            if std::fs::write(&path, services(&self.services)).is_ok() {
                written.push(path);
            }
        }
        if !self.checks.is_empty() {
            let path = dir.join("checks.svg");
            if std::fs::write(&path, checks(&self.checks)).is_ok() {
                written.push(path);
            }
        }
        written
    }
}

fn header(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{title}</text>\n",
        W / 2.0
    )
}

fn legend(svg: &mut String) {
    legend_at(svg, LEFT + 10.0, TOP + 10.0);
}

fn legend_at(svg: &mut String, x: f64, top: f64) {
    for (i, (color, name)) in
        [(OURS, "exabgp-healthcheck"), (REFERENCE, "reference (ExaBGP 5.0.15)")].iter().enumerate()
    {
        let y = top + i as f64 * 18.0;
        let _ = writeln!(svg, "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{color}\"/>", y - 10.0);
        let _ = writeln!(svg, "<text x=\"{}\" y=\"{y}\">{name}</text>", x + 18.0);
    }
}

/// Cumulative distribution of both samples, x logarithmic in milliseconds.
fn cdf(ours: &Sample, reference: &Sample) -> String {
    let mut svg = header("Reaction latency: check exit to API line (CDF)");
    let all: Vec<f64> = ours.values.iter().chain(&reference.values).copied().filter(|v| *v > 0.0).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).max(1e-3).log10().floor();
    let hi = all.iter().copied().fold(0.0, f64::max).max(1e-2).log10().ceil().max(lo + 1.0);
    let x = |v: f64| LEFT + (v.max(1e-3).log10() - lo) / (hi - lo) * (W - LEFT - RIGHT);
    let y = |p: f64| H - BOTTOM - p * (H - TOP - BOTTOM);
    axes(&mut svg);
    for decade in (lo as i32)..=(hi as i32) {
        let v = 10f64.powi(decade);
        let _ = writeln!(
            svg,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{3}\" \
             text-anchor=\"middle\">{4}</text>",
            x(v),
            TOP,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            if v < 1.0 { format!("{v}") } else { format!("{v:.0}") }
        );
    }
    for p in [0.0, 0.5, 0.9, 1.0] {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#ddd\"/><text x=\"{2}\" y=\"{3}\" \
             text-anchor=\"end\">{4:.0}%</text>",
            y(p),
            W - RIGHT,
            LEFT - 6.0,
            y(p) + 4.0,
            p * 100.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">milliseconds (log scale)</text>",
        W / 2.0,
        H - 18.0
    );
    for (sample, color) in [(ours, OURS), (reference, REFERENCE)] {
        let mut sorted = sample.values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let points: Vec<String> =
            sorted.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(*v), y((i + 1) as f64 / n))).collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    legend(&mut svg);
    svg.push_str("</svg>\n");
    svg
}

/// Seconds until BIRD holds every route, per route count, both programs side by side.
fn bars(rows: &[(u64, f64, f64)]) -> String {
    let mut svg = header("Routes announced through ExaBGP to BIRD: seconds until all are in");
    let top = rows.iter().flat_map(|(_, a, b)| [*a, *b]).filter(|v| v.is_finite()).fold(0.0, f64::max).max(0.1) * 1.15;
    let y = |v: f64| H - BOTTOM - v / top * (H - TOP - BOTTOM);
    axes(&mut svg);
    let group = (W - LEFT - RIGHT) / rows.len() as f64;
    let bar = group / 4.0;
    for (i, (routes, ours, reference)) in rows.iter().enumerate() {
        let x0 = LEFT + i as f64 * group + group / 4.0;
        for (j, (value, color)) in [(*ours, OURS), (*reference, REFERENCE)].iter().enumerate() {
            let x = x0 + j as f64 * bar;
            if value.is_finite() {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{value:.2} s</text>",
                    y(*value),
                    bar - 4.0,
                    H - BOTTOM - y(*value),
                    x + bar / 2.0 - 2.0,
                    y(*value) - 4.0
                );
            } else {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">timeout</text>",
                    x + bar / 2.0,
                    H - BOTTOM - 6.0
                );
            }
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{routes} routes</text>",
            x0 + bar,
            H - BOTTOM + 16.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">seconds</text>",
        H / 2.0,
        H / 2.0
    );
    legend(&mut svg);
    svg.push_str("</svg>\n");
    svg
}

fn axes(svg: &mut String) {
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{0}\" stroke=\"black\"/>\
         <line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>",
        H - BOTTOM,
        W - RIGHT
    );
}

/// Memory (total VmRSS, MB) and CPU (time on a CPU, from schedstat: it has a value even where
/// utime + stime count no 10 ms tick; s per minute, children excluded) against the number of
/// services, both axes logarithmic, one panel each.
fn services(points: &[(u64, Measure, Measure)]) -> String {
    let mut svg = header("N services: one plugin of ours against N reference processes");
    let gap = 70.0;
    let width = (W - LEFT - RIGHT - gap) / 2.0;
    let memory: fn(&Measure) -> f64 = |m| m.rss_kb / 1024.0;
    let cpu: fn(&Measure) -> f64 = |m| m.oncpu_ms_per_min / 1000.0;
    let panels = [(LEFT, "resident memory, MB", memory), (LEFT + width + gap, "CPU, seconds per minute", cpu)];
    let ns: Vec<f64> = points.iter().map(|(n, _, _)| *n as f64).collect();
    let (nlo, nhi) = decades(&ns);
    for (x0, label, f) in panels {
        let values: Vec<f64> = points.iter().flat_map(|(_, o, r)| [f(o), f(r)]).collect();
        let (lo, hi) = decades(&values);
        let x = |n: f64| x0 + (n.log10() - nlo) / (nhi - nlo) * width;
        let y = |v: f64| H - BOTTOM - (v.max(10f64.powf(lo)).log10() - lo) / (hi - lo) * (H - TOP - BOTTOM);
        let _ = writeln!(
            svg,
            "<line x1=\"{x0}\" y1=\"{TOP}\" x2=\"{x0}\" y2=\"{0}\" stroke=\"black\"/>\
             <line x1=\"{x0}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>",
            H - BOTTOM,
            x0 + width
        );
        for decade in (lo as i32)..=(hi as i32) {
            let v = 10f64.powi(decade);
            let _ = writeln!(
                svg,
                "<line x1=\"{x0}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/><text x=\"{2}\" \
                 y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
                y(v),
                x0 + width,
                x0 - 6.0,
                y(v) + 4.0,
                if v < 1.0 { format!("{v}") } else { format!("{v:.0}") }
            );
        }
        for &n in &ns {
            let _ =
                writeln!(svg, "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{n}</text>", x(n), H - BOTTOM + 16.0);
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">services (log)</text>\
             <text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{label} (log)</text>",
            x0 + width / 2.0,
            H - BOTTOM + 32.0,
            x0 + width / 2.0,
            TOP - 4.0
        );
        for (pick, color) in [(0, OURS), (1, REFERENCE)] {
            let at: Vec<(f64, f64)> =
                points.iter().map(|(n, o, r)| (x(*n as f64), y(f(if pick == 0 { o } else { r })))).collect();
            let line: Vec<String> = at.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                line.join(" ")
            );
            for (i, ((a, b), (_, o, r))) in at.iter().zip(points).enumerate() {
                let v = f(if pick == 0 { o } else { r });
                // The last point's label goes to its left, inside the panel.
                let (dx, anchor) = if i + 1 == points.len() { (-5.0, "end") } else { (5.0, "start") };
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" \
                     text-anchor=\"{anchor}\" font-size=\"10\">{}</text>",
                    a + dx,
                    b - 6.0,
                    short(v)
                );
            }
        }
    }
    legend_at(&mut svg, LEFT + 10.0, TOP + 14.0);
    svg.push_str("</svg>\n");
    svg
}

/// The whole decades around `values` (positive ones), at least one apart.
fn decades(values: &[f64]) -> (f64, f64) {
    let positive = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite());
    let lo = positive.clone().fold(f64::INFINITY, f64::min);
    let hi = positive.fold(0.0, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.log10().floor(), hi.log10().ceil());
    (lo, hi.max(lo + 1.0))
}

/// A number short enough for a tick or a point label.
fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}").trim_end_matches('0').to_owned()
    }
}

/// CPU per 1,000 checks (ms, logarithmic): per kind of check, ours with the native check, ours
/// with `--cmd` and the reference with `--cmd`, the last two with their children.
fn checks(rows: &[(&'static str, f64, f64, f64)]) -> String {
    const NATIVE: &str = "#0b3d91";
    const OURS_CMD: &str = "#8fb8e8";
    let mut svg = header("CPU per 1,000 checks at --interval 0.01 (children included)");
    let values: Vec<f64> = rows.iter().flat_map(|(_, a, b, c)| [*a, *b, *c]).collect();
    let (lo, hi) = decades(&values);
    let y = |v: f64| H - BOTTOM - (v.max(10f64.powf(lo)).log10() - lo) / (hi - lo) * (H - TOP - BOTTOM);
    axes(&mut svg);
    for decade in (lo as i32)..=(hi as i32) {
        let v = 10f64.powi(decade);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/><text x=\"{2}\" \
             y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
            y(v),
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            if v < 1.0 { format!("{v}") } else { format!("{v:.0}") }
        );
    }
    let group = (W - LEFT - RIGHT) / rows.len() as f64;
    let bar = group / 5.0;
    for (i, (name, native, ours_cmd, reference)) in rows.iter().enumerate() {
        let x0 = LEFT + i as f64 * group + bar;
        for (j, (value, color)) in
            [(*native, NATIVE), (*ours_cmd, OURS_CMD), (*reference, REFERENCE)].iter().enumerate()
        {
            if !value.is_finite() || *value <= 0.0 {
                continue;
            }
            let x = x0 + j as f64 * bar;
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                y(*value),
                bar - 4.0,
                H - BOTTOM - y(*value),
                x + bar / 2.0 - 2.0,
                y(*value) - 4.0,
                short(*value)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{name}</text>",
            x0 + 1.5 * bar - 2.0,
            H - BOTTOM + 16.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">ms per 1,000 checks \
         (log)</text>",
        H / 2.0,
        H / 2.0
    );
    for (i, (color, name)) in [
        (NATIVE, "ours, --check (no process)"),
        (OURS_CMD, "ours, --cmd nc / curl / dig"),
        (REFERENCE, "reference (ExaBGP 5.0.15), same --cmd"),
    ]
    .iter()
    .enumerate()
    {
        let (x, yy) = (LEFT + 10.0, TOP + 10.0 + i as f64 * 18.0);
        let _ = writeln!(svg, "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{color}\"/>", yy - 10.0);
        let _ = writeln!(svg, "<text x=\"{}\" y=\"{yy}\">{name}</text>", x + 18.0);
    }
    svg.push_str("</svg>\n");
    svg
}
