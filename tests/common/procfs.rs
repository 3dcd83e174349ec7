//! What /proc says about a process: its state, parent and CPU time (/proc/PID/stat), the
//! fields of /proc/PID/status (sizes in kB, the thread count), and which processes there are.
//! Every reader returns None (or nothing) for a process that is gone.

/// The fields of /proc/PID/stat that the tests and the benchmark look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// `R`, `S`, `Z` (exited, not reaped), ...
    pub state: String,
    pub parent: u32,
    /// User plus system CPU time of the process itself (children excluded), in clock ticks.
    pub cpu_ticks: u64,
}

/// /proc/PID/stat, parsed.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after its last `)`.
    let (_, after) = text.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state(0) parent(1) ... utime(11) stime(12).
    let cpu_ticks = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Some(Stat { state: (*fields.first()?).to_owned(), parent: fields.get(1)?.parse().ok()?, cpu_ticks })
}

/// Whether a process is alive (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != "Z")
}

/// User plus system CPU time of `pid` itself (children excluded), in seconds; 0 when gone.
pub fn cpu_seconds(pid: u32) -> f64 {
    let ticks = stat(pid).map_or(0, |s| s.cpu_ticks);
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    ticks as f64 / hz
}

/// The value of a `Name:\tvalue` line of /proc/PID/status, trimmed.
pub fn status_field(pid: u32, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(|v| v.trim().to_owned()))
}

/// A size in kB from /proc/PID/status (`VmRSS`, `VmHWM`, `RssAnon`).
pub fn status_kb(pid: u32, name: &str) -> Option<u64> {
    status_field(pid, name)?.split_whitespace().next()?.parse().ok()
}

/// The PIDs in /proc, in its order.
pub fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).collect()
}
