//! The CPU time of a program and of every process it starts, to the nanosecond: a cgroup of
//! the harness's own that the program joins before it runs, so that its children (the checks'
//! processes, short-lived) are counted as they run, not only when reaped and in 10 ms ticks as
//! `cutime` counts them. cgroup v2 (`cpu.stat`'s `usage_usec`, there with or without the cpu
//! controller) or v1's cpuacct hierarchy (`cpuacct.usage`). Where neither can be made, there
//! is no group and the caller falls back on the ticks.

use std::path::{Path, PathBuf};

/// A cgroup made for one run, removed when dropped.
pub struct CpuGroup {
    dir: PathBuf,
    /// The hierarchy's root, where what is left in the group goes before it is removed.
    root: PathBuf,
    v2: bool,
}

impl CpuGroup {
    /// A new, empty group named after `name` and this process; `None` without a cgroup
    /// file system to make it in.
    pub fn new(name: &str) -> Option<CpuGroup> {
        let (root, v2) = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            ("/sys/fs/cgroup", true)
        } else if Path::new("/sys/fs/cgroup/cpuacct/cpuacct.usage").exists() {
            ("/sys/fs/cgroup/cpuacct", false)
        } else {
            return None;
        };
        let dir = Path::new(root).join(format!("ehc-{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        Some(CpuGroup { dir, root: PathBuf::from(root), v2 })
    }

    /// `argv` run so that it joins the group first: a shell writes its own PID into the group
    /// and then execs `argv` (same PID). Should the write fail, the program runs all the same,
    /// outside: [`CpuGroup::holds`] tells.
    pub fn wrap(&self, argv: &[String]) -> Vec<String> {
        let mut wrapped = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            "echo $$ 2>/dev/null >\"$0\"; exec \"$@\"".to_owned(),
            self.dir.join("cgroup.procs").display().to_string(),
        ];
        wrapped.extend(argv.iter().cloned());
        wrapped
    }

    /// Whether `pid` is in the group.
    pub fn holds(&self, pid: u32) -> bool {
        self.pids().contains(&pid)
    }

    fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// The CPU time of every process that has been in the group, ns.
    pub fn usage_ns(&self) -> Option<u64> {
        if self.v2 {
            let text = std::fs::read_to_string(self.dir.join("cpu.stat")).ok()?;
            let usec = text.lines().find_map(|l| l.strip_prefix("usage_usec "))?;
            usec.trim().parse::<u64>().ok().map(|us| us * 1000)
        } else {
            std::fs::read_to_string(self.dir.join("cpuacct.usage")).ok()?.trim().parse().ok()
        }
    }
}

impl Drop for CpuGroup {
    fn drop(&mut self) {
        // A group with processes cannot be removed: any still there (there should be none once
        // the run has stopped its program) go back to the root first.
        for pid in self.pids() {
            let _ = std::fs::write(self.root.join("cgroup.procs"), pid.to_string());
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
