//! The helpers that the integration tests (`tests/*.rs`, each with `mod common;`) and the
//! side-by-side benchmark (`benches/compare/main.rs`, with `#[path]`) share. Each exists once:
//! - this file: the binary under test, scratch directories (and the scripted check command),
//!   bounded waits (for a condition, for a child's exit), signals and termination by PID,
//!   programs in `PATH`, and a plugin on pipes whose stdout and stderr are collected;
//! - [`procfs`]: what /proc says about a process;
//! - [`netns`]: network namespaces, `ip`, and daemons started inside a namespace;
//! - [`bird`]: BIRD 2 as the router, its control socket and its routes;
//! - [`exabgp`]: the pinned ExaBGP releases and their virtualenvs;
//! - [`servers`]: real nginx, unbound and chronyd, started in a namespace for the native checks;
//! - [`frr`]: FRR (zebra, bgpd and bfdd) as the router, its vty sockets and its routes;
//! - [`udp`]: UDP echo servers and streams of probes between namespaces;
//! - [`lab`]: the end-to-end lab, a router and load balancers with ExaBGP in namespaces.
//!
//! Every wait is bounded; every process started is stopped by PID when its handle drops.

#![allow(dead_code, reason = "each test binary and the benchmark use a different part of these helpers")]

pub mod bird;
pub mod exabgp;
pub mod frr;
pub mod lab;
pub mod netns;
pub mod procfs;
pub mod servers;
pub mod udp;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_exabgp-healthcheck");

/// A directory removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    /// A fresh, empty `$TMPDIR/ehc-NAME-PID-N` (N counts the scratch directories of this
    /// process).
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ehc-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("scratch dir");
        Scratch { path }
    }

    /// Wait until the scripted check has used up its sequence.
    pub fn wait_finished(&self, limit: Duration) -> bool {
        let marker = self.file("finished");
        wait_for(limit, || marker.exists())
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.file(name);
        std::fs::write(&path, text).expect("write scratch file");
        path
    }

    /// The text of a file in it; empty when there is none.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    /// A check command that exits with the next code of `codes` each time it runs; once they
    /// are used up it touches `finished` and hangs (`exec sleep 30`), so that the output stays
    /// as it is until the test stops the plugin (which kills the hanging check).
    pub fn scripted_check(&self, codes: &[i32]) -> String {
        let seq: String = codes.iter().map(|c| format!("{c}\n")).collect();
        self.write("sequence", &seq);
        let script = format!(
            "#!/bin/sh\nseq='{dir}/sequence'\nfirst=$(head -n 1 \"$seq\")\nif [ -z \"$first\" ]; then touch '{dir}/finished'; exec sleep 30; fi\n\
             tail -n +2 \"$seq\" > \"$seq.new\" && mv \"$seq.new\" \"$seq\"\nexit \"$first\"\n",
            dir = self.path.display()
        );
        let path = self.write("check.sh", &script);
        format!("sh {}", path.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Poll `cond` every 10 ms for at most `limit`.
pub fn wait_for(limit: Duration, cond: impl FnMut() -> bool) -> bool {
    wait_every(limit, Duration::from_millis(10), cond)
}

/// Poll `cond` every `every` for at most `limit` (once more at the deadline); whether it held.
pub fn wait_every(limit: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Poll `child` every `every` for at most `limit`: its exit status, None while it still runs.
pub fn exited_within(child: &mut Child, limit: Duration, every: Duration) -> Option<ExitStatus> {
    let mut status = None;
    wait_every(limit, every, || {
        status = child.try_wait().expect("wait for a child");
        status.is_some()
    });
    status
}

/// Send `signal` to `pid`: a child of ours not reaped yet, so the PID is still its.
pub fn signal(pid: u32, signal: Signal) {
    let _ = kill(Pid::from_raw(pid as i32), signal);
}

/// Send signal number `number` to `pid` (as [`signal`]).
pub fn signal_number(pid: u32, number: i32) {
    signal(pid, Signal::try_from(number).expect("a signal number"));
}

/// Stop `child` if it still runs: SIGTERM, at most `grace` for its exit, then SIGKILL; reaped.
pub fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(None) = child.try_wait() {
        signal(child.id(), Signal::SIGTERM);
        if exited_within(child, grace, Duration::from_millis(10)).is_some() {
            return;
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Where `program` is in `PATH`, if it is.
pub fn in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// A stream read to its end on a thread, kept as bytes (whatever they are); it says when it
/// reached the end of file.
pub struct Collected {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Collected {
    pub fn start(mut from: impl Read + Send + 'static) -> Collected {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (done, finished) = mpsc::channel();
        let into = Arc::clone(&bytes);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                into.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
            let _ = done.send(());
        });
        Collected { bytes, done: finished }
    }

    /// What was read so far, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Whether the end of file is reached within `limit`.
    pub fn ended_within(&self, limit: Duration) -> bool {
        self.done.recv_timeout(limit).is_ok()
    }
}

/// `command` with stdin, stdout and stderr pipes, as ExaBGP runs its processes.
pub fn piped(command: &mut Command) -> &mut Command {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped())
}

/// A running plugin.
pub struct Plugin {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut from);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    })
}

impl Plugin {
    /// Start the binary with `args`, stdin a pipe we hold, as ExaBGP does.
    pub fn start(args: &[&str]) -> Plugin {
        Plugin::start_with(Command::new(BIN).args(args))
    }

    pub fn start_with(command: &mut Command) -> Plugin {
        let mut child = piped(command).spawn().expect("start the plugin");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let threads = vec![
            collect(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            collect(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        let stdin = child.stdin.take();
        Plugin { child, stdin, stdout, stderr, threads }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_owned).collect()
    }

    /// Wait until stdout has at least `n` lines.
    pub fn wait_lines(&self, n: usize, limit: Duration) -> bool {
        wait_for(limit, || self.lines().len() >= n)
    }

    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        let _ = stdin.write_all(format!("{line}\n").as_bytes());
        let _ = stdin.flush();
    }

    pub fn signal(&self, number: i32) {
        signal_number(self.child.id(), number);
    }

    /// Wait for the exit, at most `limit`; the exit code (None: killed by a signal or still
    /// running, then killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        if let Some(status) = exited_within(&mut self.child, limit, Duration::from_millis(5)) {
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
            return status.code();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("the plugin did not exit within {limit:?}\nstdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
    }

    /// SIGTERM, then wait for the exit.
    pub fn stop(&mut self) -> Option<i32> {
        self.signal(15);
        self.wait_exit(Duration::from_secs(10))
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The pid written in `path`, once it is there.
pub fn read_pid(path: &Path, limit: Duration) -> u32 {
    let mut pid = None;
    wait_for(limit, || {
        pid = std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok());
        pid.is_some()
    });
    pid.unwrap_or_else(|| panic!("no pid in {}", path.display()))
}
