//! Network namespaces that the tests and the benchmark create (root only): `lo` up, `ip`
//! inside, our binary or any program run inside, the addresses on an interface; dropped,
//! whatever still runs inside is stopped by PID and the namespace deleted, even when the test
//! failed. Also [`Daemon`], a long-running program inside a namespace with its output in a log.

use super::procfs::alive;
use super::{exited_within, terminate, wait_for, Plugin, BIN};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A network namespace with `lo` up, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A fresh namespace named `ehc-KIND-PID-N`.
    pub fn new(kind: &str) -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        Netns::named(format!("ehc-{kind}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)))
    }

    pub fn named(name: String) -> Netns {
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ARGS`, which must succeed; its output.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// The addresses on `ifname`, `ADDR/LEN` each, in kernel order.
    pub fn addresses(&self, ifname: &str) -> Vec<String> {
        self.ip(&["-o", "address", "show", "dev", ifname])
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "inet" || *w == "inet6")?;
                words.get(at + 1).map(|a| (*a).to_owned())
            })
            .collect()
    }

    /// The addresses on `lo`.
    pub fn lo(&self) -> Vec<String> {
        self.addresses("lo")
    }

    /// Whether `addr` (`ADDR/LEN`) is on `lo`.
    pub fn has(&self, addr: &str) -> bool {
        self.lo().iter().any(|a| a == addr)
    }

    /// `argv` inside the namespace (`ip netns exec` execs it: same pid).
    pub fn exec(&self, argv: &[impl AsRef<OsStr>]) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).args(argv);
        command
    }

    /// Our binary inside the namespace, with `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.exec(&[BIN]);
        command.args(args);
        command
    }

    pub fn plugin(&self, args: &[&str]) -> Plugin {
        Plugin::start_with(&mut self.command(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        empty_and_delete(&self.name);
    }
}

/// `ip ARGS`, which must succeed; its output.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stop what runs in namespace `name` (by PID: SIGTERM, up to 3 s, SIGKILL) and delete it.
pub fn empty_and_delete(name: &str) {
    let pids = || -> Vec<i32> {
        let out = Command::new("ip").args(["netns", "pids", name]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default()
    };
    let left = pids();
    if !left.is_empty() {
        for pid in &left {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
        }
        wait_for(Duration::from_secs(3), || pids().iter().all(|pid| !alive(*pid as u32)));
        for pid in pids() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = Command::new("ip").args(["netns", "del", name]).status();
}

/// A program started in a namespace (`ip netns exec NS setpriv --pdeathsig KILL PROGRAM ...`:
/// each execs the next, so the PID is the program's, and it is killed if this process dies),
/// stdin from /dev/null, stdout and stderr appended to a log, in the log's directory. Dropped:
/// SIGTERM, at most 5 s, SIGKILL, reaped.
pub struct Daemon {
    name: String,
    child: Child,
}

impl Daemon {
    pub fn start(ns: &Netns, argv: &[impl AsRef<OsStr>], env: &[(&str, &str)], log: &Path) -> Daemon {
        let program = argv.first().map(|p| Path::new(p.as_ref()));
        let name = program.and_then(Path::file_name).unwrap_or_default().to_string_lossy().into_owned();
        let out = OpenOptions::new().create(true).append(true).open(log).expect("open a log file");
        let err = out.try_clone().expect("duplicate a log file");
        let child = ns
            .exec(&["setpriv", "--pdeathsig", "KILL"])
            .args(argv)
            .envs(env.iter().copied())
            .current_dir(log.parent().expect("log in a directory"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {name} in {}: {err}", ns.name));
        Daemon { name, child }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        super::signal(self.child.id(), signal);
    }

    /// Wait at most `limit` for the exit; panics if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        exited_within(&mut self.child, limit, Duration::from_millis(10))
            .unwrap_or_else(|| panic!("{} (pid {}) did not exit within {limit:?}", self.name, self.pid()))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(5));
    }
}
