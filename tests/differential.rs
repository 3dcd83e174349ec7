//! Differential test against the reference: ExaBGP 5.0.15's `python -m exabgp healthcheck`, from
//! the virtualenv that `contrib/run-tests.sh` creates (`$EXABGP_VENV_5`, else
//! `target/exabgp-venv/5.0.15`). Both programs run the same scripted sequence of check results
//! with the same flags; their stdout lines, their hook runs and their exit codes must be the same.
//! The one allowed difference is the selector: without `--neighbor`, the reference writes
//! `neighbor * ` before each command and we write none (DESIGN.md section 4), so that prefix is
//! stripped from the reference's lines before comparing. With `--neighbor`, lines compare as is.
//!
//! Each side runs in its own scratch directory with a check script that pops one entry of
//! `sequence` per run: a number is its exit code, `D` creates the disable file and exits 0, `T`
//! sleeps 3 s (past `--timeout 1`) and exits 0, `O` writes to stdout and stderr and exits 1. Once the sequence is used up the script records
//! its PID, touches `finished` and hangs (`exec sleep 30`), so nothing more is written until the
//! test sends SIGTERM; both programs have then written the lines of every scripted result, and
//! SIGTERM adds the EXIT withdraws.
//!
//! `EXABGP_DIFF_SELF=1` runs the reference on both sides, to check that a scenario is
//! deterministic before blaming either program.

mod common;

use common::{exabgp, piped, signal, wait_for, Collected, Scratch, BIN};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Flags both programs get in every scenario (plus `--interval`, which a scenario may change).
const COMMON: &[&str] = &["--no-syslog", "--no-ip-setup", "--no-ack", "--fast-interval", "0.05"];

/// How long a sequence may take to be used up, or stdout to reach the expected lines.
const RUN_LIMIT: Duration = Duration::from_secs(20);
/// How long a program may take to exit after SIGTERM (or, with `--interval 0`, by itself).
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// The check command of every scenario with a sequence. `{dir}` is the side's scratch directory.
const CHECK_SCRIPT: &str = r#"#!/bin/sh
# One scripted check result per run, popped from the sequence file.
dir='{dir}'
first=$(head -n 1 "$dir/sequence")
if [ -z "$first" ]; then
    echo $$ > "$dir/sleep.pid.new" && mv "$dir/sleep.pid.new" "$dir/sleep.pid"
    touch "$dir/finished"
    exec sleep 30
fi
tail -n +2 "$dir/sequence" > "$dir/sequence.new" && mv "$dir/sequence.new" "$dir/sequence"
case "$first" in
    D) touch "$dir/disable"; exit 0 ;;
    T) sleep 3; exit 0 ;;
    O) echo "check output"; echo "check error" >&2; exit 1 ;;
    *) exit "$first" ;;
esac
"#;

/// When a run ends.
#[derive(Clone, Copy, Debug, Default)]
enum Stop {
    /// The check script has used up the sequence: SIGTERM.
    #[default]
    Finished,
    /// The program exits by itself (`--interval 0`).
    Exits,
    /// stdout has this many lines (no `--cmd`, so no sequence): SIGTERM.
    Lines(usize),
}

/// One scenario. In `args` and `config`, `{dir}` is the side's scratch directory and `{cmd}` the
/// scripted check command; `--cmd {cmd}` is added unless `args` or `config` mention `{cmd}`.
#[derive(Default)]
struct Scenario {
    name: &'static str,
    /// Check results, one per run (`0`, `1`, ..., `D`, `T`, `O`); `None`: no `--cmd` at all.
    sequence: Option<&'static [&'static str]>,
    /// The scenario's own flags, after the common ones.
    args: &'static [&'static str],
    /// `--interval`; `0.05` when empty.
    interval: &'static str,
    /// Add the logging hooks: `--execute`, `--up-execute`, `--down-execute`, `--disabled-execute`,
    /// each appending `<kind> $STATE` to `{dir}/hooks`.
    hooks: bool,
    /// Add `--disable {dir}/disable` and a `--disabled-execute` hook that removes the file, so
    /// the run goes on after a `D` entry.
    disable: bool,
    /// Contents of `{dir}/config`, passed with `--config`.
    config: Option<&'static str>,
    stop: Stop,
}

impl Scenario {
    /// Whether the reference is told which neighbors to address (then it and we write the same
    /// selector).
    fn names_neighbors(&self) -> bool {
        self.args.iter().any(|a| a.starts_with("--neighbor"))
            || self.config.is_some_and(|c| c.lines().any(|l| l.trim_start().starts_with("neighbor")))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Program {
    Reference,
    Ours,
}

/// What one program did in one scenario.
struct Outcome {
    label: &'static str,
    command: String,
    stdout: String,
    stderr: String,
    hooks: String,
    status: String,
    /// Anything that went wrong with the run itself (did not finish, did not exit).
    problems: Vec<String>,
    elapsed: Duration,
}

/// The scratch directory of one side of one scenario (`ehc-diff-SCENARIO-SIDE-PID-N`); on drop,
/// the check left hanging is killed (by its recorded PID), then the directory removed.
struct Side {
    dir: Scratch,
}

impl Side {
    fn new(scenario: &str, side: &str) -> Side {
        Side { dir: Scratch::new(&format!("diff-{scenario}-{side}")) }
    }

    /// Kill the `sleep 30` the check script became, if it is still that process.
    fn kill_leftover_sleep(&self) {
        let Ok(pid) = self.dir.read("sleep.pid").trim().parse::<i32>() else { return };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline == b"sleep\x0030\x00" {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        self.kill_leftover_sleep();
    }
}

/// A started program; killed and reaped on drop if it is still running.
struct Running {
    child: Child,
    status: Option<ExitStatus>,
}

impl Running {
    fn exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("failed to wait for the program");
        }
        self.status.is_some()
    }

    fn signal(&self, which: Signal) {
        // The child is not reaped yet, so its PID cannot have been reused.
        signal(self.child.id(), which);
    }

    /// Wait at most `limit` for the exit; SIGKILL after that.
    fn wait(&mut self, limit: Duration) -> bool {
        if wait_for(limit, || self.exited()) {
            return true;
        }
        self.signal(Signal::SIGKILL);
        self.status = Some(self.child.wait().expect("failed to reap the program"));
        false
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.exited() {
            self.signal(Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

fn reference_python() -> PathBuf {
    let python = exabgp::venv(exabgp::V5).join("bin/python");
    assert!(
        python.exists(),
        "the reference ExaBGP 5.0.15 is not installed: {} does not exist; run contrib/run-tests.sh \
         (it creates the virtualenv and sets EXABGP_VENV_5)",
        python.display()
    );
    python
}

/// Quote for a shell, to print a command line that can be pasted.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c)) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Run one program through one scenario.
fn run(scenario: &Scenario, program: Program, label: &'static str) -> Outcome {
    let started = Instant::now();
    let side = Side::new(scenario.name, label);
    let scratch = &side.dir;
    let dir = scratch.path.display().to_string();
    let cmd = format!("sh '{dir}/check.sh'");
    let fill = |template: &str| template.replace("{dir}", &dir).replace("{cmd}", &cmd);

    let mut args: Vec<String> = COMMON.iter().map(|a| a.to_string()).collect();
    let interval = if scenario.interval.is_empty() { "0.05" } else { scenario.interval };
    args.extend(["--interval".to_owned(), interval.to_owned()]);
    if let Some(sequence) = scenario.sequence {
        scratch.write("sequence", &sequence.iter().map(|entry| format!("{entry}\n")).collect::<String>());
        scratch.write("check.sh", &fill(CHECK_SCRIPT));
        let mentioned =
            scenario.args.iter().any(|a| a.contains("{cmd}")) || scenario.config.is_some_and(|c| c.contains("{cmd}"));
        if !mentioned {
            args.extend(["--cmd".to_owned(), cmd.clone()]);
        }
    }
    if scenario.disable {
        args.extend(["--disable", "{dir}/disable", "--disabled-execute", "rm -f '{dir}/disable'"].map(fill));
    }
    if scenario.hooks {
        for (flag, kind) in [
            ("--execute", "any"),
            ("--up-execute", "up"),
            ("--down-execute", "down"),
            ("--disabled-execute", "disabled"),
        ] {
            args.extend([flag.to_owned(), format!("echo \"{kind} $STATE\" >> '{dir}/hooks'")]);
        }
    }
    if let Some(config) = scenario.config {
        scratch.write("config", &fill(config));
        args.extend(["--config".to_owned(), format!("{dir}/config")]);
    }
    args.extend(scenario.args.iter().map(|a| fill(a)));

    let mut command = match program {
        Program::Reference => {
            let mut command = Command::new(reference_python());
            command.args(["-m", "exabgp", "healthcheck"]);
            command
        }
        Program::Ours => Command::new(BIN),
    };
    command.args(&args).current_dir(&scratch.path);
    let printable = std::iter::once(command.get_program().to_string_lossy().into_owned())
        .chain(command.get_args().map(|a| quote(&a.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ");

    // stdin is a pipe held open until the program has exited, as ExaBGP does.
    let mut child = piped(&mut command).spawn().unwrap_or_else(|err| panic!("failed to start {printable}: {err}"));
    let stdin = child.stdin.take();
    let stdout = Collected::start(child.stdout.take().unwrap());
    let stderr = Collected::start(child.stderr.take().unwrap());
    let mut running = Running { child, status: None };
    let mut problems = Vec::new();

    let signal = match scenario.stop {
        Stop::Finished => {
            let finished = scratch.file("finished");
            wait_for(RUN_LIMIT, || finished.exists() || running.exited());
            if !finished.exists() {
                problems.push(if running.exited() {
                    format!("exited before the sequence was used up (left: {:?})", scratch.read("sequence"))
                } else {
                    format!("the sequence was not used up within {RUN_LIMIT:?} (left: {:?})", scratch.read("sequence"))
                });
            }
            true
        }
        Stop::Lines(n) => {
            if !wait_for(RUN_LIMIT, || stdout.text().lines().count() >= n || running.exited()) {
                problems.push(format!("stdout did not reach {n} lines within {RUN_LIMIT:?}"));
            } else if running.exited() {
                problems.push(format!("exited before stdout had {n} lines"));
            }
            true
        }
        Stop::Exits => false,
    };
    if signal && !running.exited() {
        running.signal(Signal::SIGTERM);
    }
    if !running.wait(EXIT_LIMIT) {
        problems.push(format!("did not exit within {EXIT_LIMIT:?}{}: killed", if signal { " of SIGTERM" } else { "" }));
    }
    drop(stdin);
    side.kill_leftover_sleep();
    for (name, output) in [("stdout", &stdout), ("stderr", &stderr)] {
        if !output.ended_within(Duration::from_secs(5)) {
            problems.push(format!("{name} still open 5 s after the exit (a child holds it?)"));
        }
    }
    let status = running.status.expect("reaped");
    Outcome {
        label,
        command: printable,
        stdout: stdout.text(),
        stderr: stderr.text(),
        hooks: scratch.read("hooks"),
        status: match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => format!("{status}"),
        },
        problems,
        elapsed: started.elapsed(),
    }
}

/// A line diff: `  ` in both, `- ` reference only, `+ ` ours only.
fn diff(reference: &[String], ours: &[String]) -> String {
    let (n, m) = (reference.len(), ours.len());
    // lcs[i][j]: length of the longest common subsequence of reference[i..] and ours[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if reference[i] == ours[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && reference[i] == ours[j] {
            out += &format!("    {}\n", reference[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("  - {}\n", reference[i]);
            i += 1;
        } else {
            out += &format!("  + {}\n", ours[j]);
            j += 1;
        }
    }
    out
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)\n".to_owned();
    }
    text.lines().map(|line| format!("    {line}\n")).collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// Run both programs through `scenario` at the same time and compare.
fn differ(scenario: Scenario) {
    reference_python();
    let self_check = std::env::var_os("EXABGP_DIFF_SELF").is_some_and(|v| !v.is_empty() && v != "0");
    let (other, other_label) =
        if self_check { (Program::Reference, "reference-again") } else { (Program::Ours, "ours") };
    let (reference, ours) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| run(&scenario, Program::Reference, "reference"));
        let ours = scope.spawn(|| run(&scenario, other, other_label));
        (reference.join().expect("reference side panicked"), ours.join().expect("our side panicked"))
    });

    // Without --neighbor the reference writes `neighbor * ` and we write no selector.
    let strip = !scenario.names_neighbors();
    let normalize = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| if strip { line.strip_prefix("neighbor * ").unwrap_or(line) } else { line }.to_owned())
            .collect()
    };
    let reference_lines = normalize(&reference.stdout);
    let ours_lines = if self_check { normalize(&ours.stdout) } else { lines(&ours.stdout) };

    let mut failures = Vec::new();
    for outcome in [&reference, &ours] {
        for problem in &outcome.problems {
            failures.push(format!("{}: {problem}", outcome.label));
        }
    }
    if reference_lines != ours_lines {
        failures.push("stdout lines differ".to_owned());
    }
    if reference.hooks != ours.hooks {
        failures.push("hook runs differ".to_owned());
    }
    if reference.status != ours.status {
        failures.push(format!("exit differs: reference {}, {} {}", reference.status, ours.label, ours.status));
    }

    eprintln!(
        "{}: {} ({} lines, {} hook runs; reference {:.1?}, {} {:.1?})",
        scenario.name,
        if failures.is_empty() { "same" } else { "DIFFERENT" },
        ours_lines.len(),
        ours.hooks.lines().count(),
        reference.elapsed,
        ours.label,
        ours.elapsed
    );
    if failures.is_empty() {
        return;
    }

    let mut report = format!("scenario `{}`: {}\n", scenario.name, failures.join("; "));
    if strip {
        report += "(the reference's `neighbor * ` prefix is stripped before comparing)\n";
    }
    report +=
        &format!("\nstdout diff (- reference only, + {} only):\n{}", ours.label, diff(&reference_lines, &ours_lines));
    if reference.hooks != ours.hooks {
        report += &format!(
            "\nhook diff (- reference only, + {} only):\n{}",
            ours.label,
            diff(&lines(&reference.hooks), &lines(&ours.hooks))
        );
    }
    for outcome in [&reference, &ours] {
        report += &format!(
            "\n--- {} ({}, {:.1?}):\n  command: {}\n  stdout:\n{}  stderr:\n{}  hooks:\n{}",
            outcome.label,
            outcome.status,
            outcome.elapsed,
            outcome.command,
            indent(&outcome.stdout),
            indent(&outcome.stderr),
            indent(&outcome.hooks)
        );
    }
    panic!("{report}");
}

// ---------------------------------------------------------------------------------------------
// Rise and fall.

#[test]
fn default_rise_and_fall_of_3() {
    differ(Scenario {
        name: "default_rise_and_fall_of_3",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "0", "0", "0"]),
        args: &["--ip", "192.0.2.1", "--ip", "2001:db8::1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn rise_1_fall_1() {
    differ(Scenario {
        name: "rise_1_fall_1",
        sequence: Some(&["0", "1", "0", "0", "1", "1", "0"]),
        args: &["--rise", "1", "--fall", "1", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn rise_2_fall_4() {
    differ(Scenario {
        name: "rise_2_fall_4",
        sequence: Some(&["0", "0", "1", "1", "1", "1", "0", "1", "0", "0", "1", "1", "1", "0", "1"]),
        args: &["--rise", "2", "--fall", "4", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn rise_0_fall_0() {
    differ(Scenario {
        name: "rise_0_fall_0",
        sequence: Some(&["1", "0", "1", "1", "0", "0"]),
        args: &["--rise", "0", "--fall", "0", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn interleaved_results_reset_the_counters() {
    differ(Scenario {
        name: "interleaved_results_reset_the_counters",
        sequence: Some(&["0", "1", "0", "1", "1", "0", "0", "0", "1", "0", "1", "1", "0", "1", "1", "1"]),
        args: &["--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn failing_from_the_start() {
    differ(Scenario {
        name: "failing_from_the_start",
        sequence: Some(&["1", "1", "1", "1", "0", "0", "0"]),
        args: &["--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn timeout_counts_as_failure() {
    differ(Scenario {
        name: "timeout_counts_as_failure",
        sequence: Some(&["0", "0", "0", "T", "1", "1", "0", "0", "0"]),
        args: &["--timeout", "1", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn no_command_is_always_healthy() {
    // Interval 5 s: after UP nothing more is written until SIGTERM cuts the sleep short.
    differ(Scenario {
        name: "no_command_is_always_healthy",
        sequence: None,
        args: &["--ip", "192.0.2.1", "--ip", "192.0.2.2"],
        interval: "5",
        hooks: true,
        stop: Stop::Lines(2),
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// What is announced and when.

#[test]
fn withdraw_on_down() {
    differ(Scenario {
        name: "withdraw_on_down",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "1", "0", "0", "0"]),
        args: &["--withdraw-on-down", "--ip", "192.0.2.1", "--ip", "2001:db8::1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn withdraw_on_down_when_disabled() {
    differ(Scenario {
        name: "withdraw_on_down_when_disabled",
        sequence: Some(&["0", "D", "0", "0", "1", "1"]),
        args: &["--withdraw-on-down", "--rise", "1", "--fall", "2", "--ip", "192.0.2.1"],
        hooks: true,
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn debounce() {
    differ(Scenario {
        name: "debounce",
        sequence: Some(&["0", "0", "0", "0", "0", "1", "1", "1", "1", "1", "0", "1", "0", "0", "0", "0"]),
        args: &["--debounce", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn debounce_with_disable() {
    differ(Scenario {
        name: "debounce_with_disable",
        sequence: Some(&["0", "0", "D", "0", "0", "0", "D", "1", "1", "1"]),
        args: &["--debounce", "--rise", "2", "--fall", "2", "--ip", "192.0.2.1"],
        hooks: true,
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn disable_file_flow() {
    // D while UP, then while DOWN (D exits 0, so DOWN -> RISING first); the run after the file
    // is removed leads to INIT and its result does not count.
    differ(Scenario {
        name: "disable_file_flow",
        sequence: Some(&[
            "0", "0", "0", "D", "0", "0", "0", "0", "1", "1", "1", "D", "1", "1", "1", "1", "0", "D", "0",
        ]),
        args: &["--disabled-metric", "700", "--ip", "192.0.2.1", "--ip", "192.0.2.2"],
        hooks: true,
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn metrics() {
    differ(Scenario {
        name: "metrics",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "D", "0"]),
        args: &[
            "--up-metric",
            "10",
            "--down-metric",
            "20",
            "--disabled-metric",
            "30",
            "--increase",
            "0",
            "--ip",
            "192.0.2.1",
            "--ip",
            "192.0.2.2",
        ],
        disable: true,
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Addresses: order, rotation, networks.

#[test]
fn several_ips_increase_10_start_ip_1() {
    differ(Scenario {
        name: "several_ips_increase_10_start_ip_1",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &[
            "--increase",
            "10",
            "--start-ip",
            "1",
            "--ip",
            "192.0.2.1",
            "--ip",
            "192.0.2.2/32",
            "--ip",
            "2001:db8::3",
            "--ip",
            "198.51.100.0/30",
        ],
        ..Scenario::default()
    });
}

#[test]
fn start_ip_5_rotates_modulo() {
    differ(Scenario {
        name: "start_ip_5_rotates_modulo",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--increase", "10", "--start-ip", "5", "--ip", "192.0.2.1", "--ip", "192.0.2.2", "--ip", "192.0.2.3"],
        ..Scenario::default()
    });
}

#[test]
fn deaggregate_networks() {
    differ(Scenario {
        name: "deaggregate_networks",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--deaggregate-networks", "--ip", "192.0.2.0/30", "--ip", "2001:db8::/126", "--ip", "198.51.100.9"],
        ..Scenario::default()
    });
}

#[test]
fn deaggregate_networks_then_start_ip() {
    differ(Scenario {
        name: "deaggregate_networks_then_start_ip",
        sequence: Some(&["0", "0", "0"]),
        args: &["--deaggregate-networks", "--start-ip", "2", "--increase", "5", "--ip", "192.0.2.0/30"],
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Attributes.

#[test]
fn communities() {
    differ(Scenario {
        name: "communities",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &[
            "--community",
            "65000:1 65000:2",
            "--extended-community",
            "target:65000:1",
            "--large-community",
            "65000:1:1 65000:1:2",
            "--ip",
            "192.0.2.1",
        ],
        ..Scenario::default()
    });
}

#[test]
fn disabled_community() {
    differ(Scenario {
        name: "disabled_community",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "0", "D", "0"]),
        args: &["--community", "65000:1", "--disabled-community", "65000:666", "--ip", "192.0.2.1"],
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn disabled_community_without_community() {
    differ(Scenario {
        name: "disabled_community_without_community",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "D", "0"]),
        args: &["--disabled-community", "65000:666", "--ip", "192.0.2.1"],
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn as_path_per_state() {
    differ(Scenario {
        name: "as_path_per_state",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "D", "0"]),
        args: &[
            "--as-path",
            "65001 65002",
            "--up-as-path",
            "65010",
            "--down-as-path",
            "65020 65020 65020",
            "--disabled-as-path",
            "65030",
            "--ip",
            "192.0.2.1",
        ],
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn as_path_falls_back_to_as_path() {
    differ(Scenario {
        name: "as_path_falls_back_to_as_path",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "D", "0"]),
        args: &["--as-path", "65001", "--down-as-path", "65020 65020", "--ip", "192.0.2.1"],
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn local_preference_200() {
    differ(Scenario {
        name: "local_preference_200",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--local-preference", "200", "--ip", "192.0.2.1"],
        ..Scenario::default()
    });
}

#[test]
fn path_id_7_and_local_preference_0() {
    differ(Scenario {
        name: "path_id_7_and_local_preference_0",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--path-id", "7", "--local-preference", "0", "--withdraw-on-down", "--ip", "192.0.2.1"],
        ..Scenario::default()
    });
}

#[test]
fn next_hop_ipv4() {
    differ(Scenario {
        name: "next_hop_ipv4",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--next-hop", "192.0.2.254", "--ip", "192.0.2.1"],
        ..Scenario::default()
    });
}

#[test]
fn next_hop_ipv6() {
    // Addresses not written in their shortest form come out in it.
    differ(Scenario {
        name: "next_hop_ipv6",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["-N", "2001:db8:0:0::fe", "--ip", "2001:db8:0::1", "--ip", "2001:0db8::/64"],
        ..Scenario::default()
    });
}

#[test]
fn all_attributes_together() {
    differ(Scenario {
        name: "all_attributes_together",
        sequence: Some(&["0", "0", "0", "1", "1", "1", "D", "0"]),
        args: &[
            "--next-hop",
            "192.0.2.254",
            "--local-preference",
            "50",
            "--community",
            "65000:1",
            "--disabled-community",
            "65000:2",
            "--extended-community",
            "target:65000:3",
            "--large-community",
            "65000:4:4",
            "--as-path",
            "65005",
            "--path-id",
            "9",
            "--ip",
            "192.0.2.1",
            "--ip",
            "2001:db8::1",
        ],
        disable: true,
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Selectors.

#[test]
fn two_neighbors() {
    differ(Scenario {
        name: "two_neighbors",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--neighbor", "192.0.2.1", "--neighbor", "192.0.2.2", "--ip", "198.51.100.1"],
        ..Scenario::default()
    });
}

#[test]
fn neighbor_star() {
    differ(Scenario {
        name: "neighbor_star",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--neighbor", "*", "--ip", "198.51.100.1"],
        ..Scenario::default()
    });
}

#[test]
fn neighbor_star_among_others() {
    differ(Scenario {
        name: "neighbor_star_among_others",
        sequence: Some(&["0", "0", "0"]),
        args: &["--neighbor", "192.0.2.1", "--neighbor", "*", "--neighbor", "2001:db8::2", "--ip", "198.51.100.1"],
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Interval 0: exit after the first announcement, no withdraw.

#[test]
fn interval_0_rise_1() {
    differ(Scenario {
        name: "interval_0_rise_1",
        sequence: Some(&["0", "0", "0"]),
        args: &["--rise", "1", "--ip", "192.0.2.1", "--ip", "192.0.2.2"],
        interval: "0",
        hooks: true,
        stop: Stop::Exits,
        ..Scenario::default()
    });
}

#[test]
fn interval_0_rise_2() {
    // A failure first: FALLING, then RISING, then UP, all at the fast interval.
    differ(Scenario {
        name: "interval_0_rise_2",
        sequence: Some(&["1", "0", "0", "0", "0"]),
        args: &["--rise", "2", "--ip", "192.0.2.1"],
        interval: "0",
        hooks: true,
        stop: Stop::Exits,
        ..Scenario::default()
    });
}

#[test]
fn interval_0_down() {
    differ(Scenario {
        name: "interval_0_down",
        sequence: Some(&["1", "0"]),
        args: &["--rise", "1", "--fall", "1", "--ip", "192.0.2.1"],
        interval: "0",
        hooks: true,
        stop: Stop::Exits,
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Config file and hooks.

#[test]
fn config_file_merged_with_the_command_line() {
    // The file comes first: the command line's --rise, --down-metric and --interval (a common
    // flag, 0.05) win over the file's; its --ip adds to the file's.
    differ(Scenario {
        name: "config_file_merged_with_the_command_line",
        sequence: Some(&["0", "0", "1", "0", "0", "0", "1", "1", "1"]),
        config: Some(
            "# healthcheck for the web service\n\
             name = web\n\
             \n\
             rise = 3\n\
             fall=2\n\
             interval = 5\n\
             \x20  # an indented comment\n\
             command = {cmd}\n\
             ip = 192.0.2.10/32\n\
             community = 65000:1 65000:2\n\
             up-metric = 10\n\
             down-metric = 11\n\
             \x20 debounce  \n\
             \n",
        ),
        args: &["--rise", "2", "--down-metric", "20", "--ip", "192.0.2.11"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn hooks_order_and_state() {
    // Several hooks of each kind: the state's own first, then every --execute, in order.
    differ(Scenario {
        name: "hooks_order_and_state",
        sequence: Some(&["0", "0", "0", "D", "1", "1", "1", "1", "0", "0", "0"]),
        args: &[
            "--execute",
            "echo \"any-2 $STATE\" >> '{dir}/hooks'",
            "--up-execute",
            "echo \"up-2 $STATE\" >> '{dir}/hooks'",
            "--down-execute",
            "echo \"down-2 $STATE\" >> '{dir}/hooks'",
            "--disabled-execute",
            "echo \"disabled-2 $STATE\" >> '{dir}/hooks'",
            "--ip",
            "192.0.2.1",
        ],
        hooks: true,
        disable: true,
        ..Scenario::default()
    });
}

#[test]
fn config_file_with_short_flag_and_equals_in_values() {
    // Split on the first `=` only; `-F` is `--config`; a repeated `ip` line adds.
    differ(Scenario {
        name: "config_file_with_short_flag_and_equals_in_values",
        sequence: Some(&["0", "1", "0"]),
        config: Some(
            "execute = echo \"x=y $STATE\" >> '{dir}/hooks'\n\
             ip=192.0.2.1\n\
             \x20  ip = 192.0.2.2/32  \n\
             withdraw-on-down\n\
             rise = 1\n\
             fall = 1\n\
             command = {cmd}\n",
        ),
        ..Scenario::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Option spellings and edge values.

#[test]
fn abbreviated_and_short_options() {
    // argparse takes any unambiguous prefix of a long option; existing configurations use them.
    differ(Scenario {
        name: "abbreviated_and_short_options",
        sequence: Some(&["0", "0", "1", "1"]),
        args: &[
            "-c",
            "{cmd}",
            "-t",
            "5",
            "-N",
            "192.0.2.254",
            "--withdraw",
            "--local-pref",
            "200",
            "--up-m",
            "10",
            "--incr",
            "5",
            "--ri",
            "2",
            "--fal",
            "2",
            "--ip",
            "192.0.2.1",
            "--ip",
            "192.0.2.2",
        ],
        ..Scenario::default()
    });
}

#[test]
fn negative_and_zero_values() {
    // A negative --increase (the metrics stay valid MEDs); `--local-preference -1` is the "not
    // sent" default; `--start-ip -1` puts the last address first; `--path-id 0` writes no
    // path-information; `--down-metric 0` is a valid MED.
    differ(Scenario {
        name: "negative_and_zero_values",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &[
            "--increase",
            "-10",
            "--up-metric",
            "50",
            "--down-metric",
            "20",
            "--local-preference",
            "-1",
            "--start-ip",
            "-1",
            "--path-id",
            "0",
            "--ip",
            "192.0.2.1",
            "--ip",
            "192.0.2.2",
            "--ip",
            "192.0.2.3",
        ],
        ..Scenario::default()
    });
}

#[test]
fn zero_metric_and_increase() {
    differ(Scenario {
        name: "zero_metric_and_increase",
        sequence: Some(&["0", "0", "0", "1", "1", "1"]),
        args: &["--up-metric", "0", "--down-metric", "0", "--increase", "0", "--ip", "192.0.2.1", "--ip", "192.0.2.2"],
        ..Scenario::default()
    });
}

#[test]
fn duplicate_ips() {
    differ(Scenario {
        name: "duplicate_ips",
        sequence: Some(&["0", "0", "0"]),
        args: &["--ip", "192.0.2.1", "--ip", "192.0.2.1/32"],
        ..Scenario::default()
    });
}

#[test]
fn overlapping_networks_deaggregated() {
    differ(Scenario {
        name: "overlapping_networks_deaggregated",
        sequence: Some(&["0", "0", "0"]),
        args: &["--deaggregate-networks", "--ip", "192.0.2.0/31", "--ip", "192.0.2.1"],
        ..Scenario::default()
    });
}

#[test]
fn timeout_0_means_no_timeout() {
    differ(Scenario {
        name: "timeout_0_means_no_timeout",
        sequence: Some(&["0", "T", "0", "1"]),
        args: &["--timeout", "0", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}

#[test]
fn output_of_checks_and_hooks_stays_off_stdout() {
    differ(Scenario {
        name: "output_of_checks_and_hooks_stays_off_stdout",
        sequence: Some(&["0", "O", "O", "O", "0", "0", "0"]),
        args: &["--execute", "echo hook output; echo hook error >&2", "--ip", "192.0.2.1"],
        hooks: true,
        ..Scenario::default()
    });
}
