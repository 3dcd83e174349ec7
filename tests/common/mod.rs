//! Shared pieces of the integration tests: a scratch directory, a scripted check command, and
//! a handle on a running plugin whose stdout and stderr are collected on threads. Every wait is
//! bounded; every process started is killed by PID when the handle drops.

#![allow(dead_code)]

pub mod netns;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_exabgp-healthcheck");

/// A directory removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
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
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the plugin");
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

    pub fn signal(&self, signal: i32) {
        let _ = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status();
    }

    /// Wait for the exit, at most `limit`; the exit code (None: killed by a signal or still
    /// running, then killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                for t in self.threads.drain(..) {
                    let _ = t.join();
                }
                return status.code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the plugin did not exit within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
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

/// Whether a process is alive (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().unwrap_or("").split_whitespace().next().unwrap_or("");
    !stat.is_empty() && state != "Z"
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
