//! Network namespaces the tests create (root only): `lo` up, our binary run inside, the
//! addresses on an interface; dropped, whatever still runs inside is stopped by PID and the
//! namespace deleted, even when the test failed.

use super::{alive, wait_for, Plugin, BIN};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::Command;
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

    /// Our binary inside the namespace (`ip netns exec` execs it: same pid).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, BIN]).args(args);
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
