//! Running one plugin (ours or the reference) with its stdout read on a thread that stamps
//! every line with CLOCK_MONOTONIC, which every process on the machine shares; the check
//! helper that logs the monotonic time of its own start and exit. (/proc, scratch directories
//! and waits: `tests/common/`.)

use crate::common::{terminate, wait_every};
use nix::time::{clock_gettime, ClockId};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// CLOCK_MONOTONIC in nanoseconds: comparable between processes.
pub fn mono_ns() -> i64 {
    let now = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC");
    now.tv_sec() * 1_000_000_000 + now.tv_nsec()
}

/// Which program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ours,
    Reference,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Reference => "reference",
        }
    }
}

/// Where the two programs are.
#[derive(Clone, Debug)]
pub struct Programs {
    pub ours: PathBuf,
    /// The virtualenv's python, run as `python -m exabgp healthcheck`.
    pub python: PathBuf,
    /// The virtualenv's `exabgp`.
    pub exabgp: PathBuf,
    /// This benchmark's own executable, run as the check helper.
    pub helper: PathBuf,
}

impl Programs {
    /// The argv that starts `kind` with `args`.
    pub fn argv(&self, kind: Kind, args: &[String]) -> Vec<String> {
        let mut argv = match kind {
            Kind::Ours => vec![self.ours.display().to_string()],
            Kind::Reference => {
                vec![self.python.display().to_string(), "-m".into(), "exabgp".into(), "healthcheck".into()]
            }
        };
        argv.extend(args.iter().cloned());
        argv
    }

    /// A check command: this executable as the helper, with `mode` and its directory.
    pub fn check(&self, mode: &str, dir: &Path) -> String {
        format!("exec {} helper {mode} {}", self.helper.display(), dir.display())
    }
}

/// A plugin with a stamped copy of its stdout. Killed (by PID) and reaped on drop.
pub struct Running {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<(i64, String)>>>,
    pub started_ns: i64,
}

impl Running {
    pub fn start(argv: &[String]) -> Running {
        Running::spawn(argv, true, Stdio::null())
    }

    /// With stderr to `log`, and stdout read only when `read_stdout` (else to /dev/null: for a
    /// program whose stdout is only its log).
    pub fn start_logged(argv: &[String], read_stdout: bool, log: &Path) -> Running {
        let file = std::fs::File::create(log).unwrap_or_else(|err| panic!("create {}: {err}", log.display()));
        Running::spawn(argv, read_stdout, Stdio::from(file))
    }

    fn spawn(argv: &[String], read_stdout: bool, stderr: Stdio) -> Running {
        let started_ns = mono_ns();
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(if read_stdout { Stdio::piped() } else { Stdio::null() })
            .stderr(stderr)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {}: {err}", argv[0]));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let Some(stdout) = child.stdout.take() else { return Running { child, lines, started_ns } };
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                let at = mono_ns();
                sink.lock().expect("lines").push((at, line.trim_end().to_owned()));
                line.clear();
            }
        });
        Running { child, lines, started_ns }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first `n` lines' stamps, once there are `n`, within `limit`.
    pub fn wait_lines(&self, n: usize, limit: Duration) -> Option<Vec<(i64, String)>> {
        let mut first = None;
        wait_every(limit, Duration::from_micros(500), || {
            let lines = self.lines.lock().expect("lines");
            first = (lines.len() >= n).then(|| lines[..n].to_vec());
            first.is_some()
        });
        first
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(3));
    }
}

/// The check helper (`helper MODE DIR`): the process a plugin runs as its check. Returns the
/// exit status.
/// - `toggle`: passes and fails in turn (a counter in DIR/count), logging its exit time;
/// - `file`: passes while DIR/healthy exists, logging `pass|fail TIME` at exit;
/// - `sleep50`: logs its start time, sleeps 50 ms, passes.
pub fn helper(mode: &str, dir: &Path) -> i32 {
    let append = |name: &str, text: String| {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(name)).expect("helper log");
        let _ = file.write_all(text.as_bytes());
    };
    match mode {
        "toggle" => {
            let path = dir.join("count");
            let n: u64 = std::fs::read_to_string(&path).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
            let _ = std::fs::write(&path, format!("{}\n", n + 1));
            let code = (n % 2) as i32;
            append("exits", format!("{code} {}\n", mono_ns()));
            code
        }
        "file" => {
            let code = if dir.join("healthy").exists() { 0 } else { 1 };
            append("exits", format!("{code} {}\n", mono_ns()));
            code
        }
        "sleep50" => {
            append("starts", format!("{}\n", mono_ns()));
            std::thread::sleep(Duration::from_millis(50));
            0
        }
        other => {
            eprintln!("unknown helper mode {other}");
            2
        }
    }
}

/// `(status, time)` lines a helper wrote to DIR/exits.
pub fn helper_exits(dir: &Path) -> Vec<(i32, i64)> {
    std::fs::read_to_string(dir.join("exits"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (code, at) = l.split_once(' ')?;
            Some((code.parse().ok()?, at.parse().ok()?))
        })
        .collect()
}
