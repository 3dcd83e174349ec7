//! Running a command the safe way (the check, a hook, `sudo ip ...`): a user's shell command as
//! `/bin/sh -c CMD`, or a program with its arguments, with stdin from /dev/null, in its own
//! process group, with a deadline after which the whole group is terminated, then killed; what
//! it writes (stdout and stderr, or stderr alone) read into a bounded buffer while it runs, so a
//! chatty or backgrounded child can neither fill memory nor stall us.
//!
//! A command is a [`Running`]: the caller polls what tells its exit and its output pipe
//! ([`Running::poll_fds`]) until [`Running::deadline`], in the same `poll()` as anything else
//! it waits for, and calls [`Running::advance`] after each wake-up. No thread per
//! command and no hand-off between threads: the main loop runs its checks itself and stays
//! responsive to signals and ExaBGP while a check runs. [`run_alone`] is the simple form, for
//! callers that wait for nothing else.

mod simple;
mod watch;

use crate::poll::poll_until;
use crate::poll::Ready;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::ffi::OsString;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::os::fd::BorrowedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use watch::{ExitWatch, Output, Reaper};

/// How much of a command's output is kept (the rest is read and thrown away).
pub const OUTPUT_LIMIT: usize = 16 * 1024;
/// After SIGTERM to a timed-out group, how long before SIGKILL.
const KILL_GRACE: Duration = Duration::from_millis(200);
/// After the command exits, how long to wait for the end of its output (a backgrounded child
/// may hold the pipe open for ever).
const OUTPUT_GRACE: Duration = Duration::from_millis(50);
/// After SIGKILL to its group, how long we wait to reap the command before we leave it (to be
/// a zombie once it ends): a setuid program (sudo) may refuse our signals, and a process in an
/// uninterruptible sleep dies only when it wakes. The wait is never longer than this.
const REAP_LIMIT: Duration = Duration::from_secs(1);

/// One command to run: [`Spec::shell`] or [`Spec::exec`], then set what differs from the
/// defaults (no time limit, no extra environment, nothing captured) with `..`.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: Program,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// What it writes that is kept.
    pub capture: Capture,
}

impl Spec {
    /// A shell command line, run as `/bin/sh -c COMMAND`.
    pub fn shell(command: impl Into<String>) -> Spec {
        Spec::of(Program::Shell(command.into()))
    }

    /// `path` run with `args`, without a shell (`path` without a slash is looked up in `PATH`).
    pub fn exec<A: Into<OsString>>(path: impl Into<PathBuf>, args: impl IntoIterator<Item = A>) -> Spec {
        Spec::of(Program::Exec { path: path.into(), args: args.into_iter().map(Into::into).collect() })
    }

    fn of(program: Program) -> Spec {
        Spec { program, timeout: None, env: Vec::new(), capture: Capture::Discard }
    }
}

/// What a [`Spec`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A shell command line: `/bin/sh -c COMMAND`.
    Shell(String),
    /// A program and its arguments, run directly.
    Exec { path: PathBuf, args: Vec<OsString> },
}

/// For messages: the shell command as it is, or the program and its arguments separated by
/// spaces.
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Program::Shell(command) => f.write_str(command),
            Program::Exec { path, args } => {
                write!(f, "{}", path.display())?;
                args.iter().try_for_each(|arg| write!(f, " {}", arg.to_string_lossy()))
            }
        }
    }
}

/// What of a command's output is kept (up to [`OUTPUT_LIMIT`] bytes); what is not goes to
/// /dev/null. A command whose output is kept is judged on its own exit: once it has exited,
/// the rest of its process group is killed (it would hold the pipe, or pile up at every run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Nothing (hooks).
    Discard,
    /// Stdout and stderr, merged in one pipe (checks).
    Merged,
    /// Stderr alone; stdout goes to /dev/null (`sudo ip`, whose failures are told there).
    Stderr,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    /// Killed by a signal we did not send.
    Signaled(i32),
    /// Past its deadline: its process group was terminated.
    TimedOut,
    /// Killed because we are stopping.
    Cancelled,
    /// It could not be started (`/bin/sh`, for a shell command), watched or waited for: why.
    SpawnFailed(String),
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub duration: Duration,
    /// The first [`OUTPUT_LIMIT`] bytes of what was captured ([`Spec::capture`]).
    pub output: Vec<u8>,
    /// Bytes read past the limit and dropped.
    pub dropped: u64,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status == Status::Exited(0)
    }

    fn failed(why: String, started: Instant) -> Outcome {
        Outcome { status: Status::SpawnFailed(why), duration: started.elapsed(), output: Vec::new(), dropped: 0 }
    }
}

/// A command that was started and is not finished.
pub struct Running {
    child: Child,
    /// Set up when first needed: a command that is over by the first look needs none.
    watch: Option<ExitWatch>,
    group: Pid,
    /// Kill the rest of the group once the command has exited (it captures output).
    kill_leftovers: bool,
    started: Instant,
    output: Option<Output>,
    phase: Phase,
}

enum Phase {
    /// Running, until its deadline (if any).
    Running(Option<Instant>),
    /// Past its deadline: the group had SIGTERM, SIGKILL follows at this instant.
    Terminating(Instant),
    /// It has ended (how, and when it was seen): the rest of its output is read until this
    /// instant at most.
    Draining(Status, Duration, Instant),
}

impl Running {
    /// Start `spec`; a command that cannot even start is its outcome at once.
    pub fn start(spec: &Spec) -> Result<Running, Outcome> {
        let reaper = ExitWatch::before_spawn()
            .map_err(|err| Outcome::failed(format!("failed to watch for SIGCHLD: {err}"), Instant::now()))?;
        Running::start_with(spec, reaper)
    }

    /// [`Running::start`], watching the exit with SIGCHLD when `reaper` is given, with a pidfd
    /// otherwise.
    fn start_with(spec: &Spec, reaper: Option<Reaper>) -> Result<Running, Outcome> {
        let started = Instant::now();
        let no_pipe = |err: std::io::Error| Outcome::failed(format!("failed to create a pipe: {err}"), started);
        // The read end, and our own copy of the write end (the command gets others).
        let reader = match spec.capture {
            Capture::Discard => None,
            Capture::Merged | Capture::Stderr => Some(std::io::pipe().map_err(no_pipe)?),
        };
        let held = reader.as_ref().map(|(_, held)| held);
        // A shell command of plain words naming a program on PATH runs without the shell; should
        // that fail to start (a script without a #! line, say), the shell runs it as always.
        let direct = match &spec.program {
            Program::Shell(line) => {
                direct(line).map(|command| wire(command, spec, held)).transpose().map_err(no_pipe)?
            }
            Program::Exec { .. } => None,
        };
        let spawned = match direct.map(|mut command| command.spawn()) {
            Some(Ok(child)) => Ok(child),
            _ => wire(program(&spec.program), spec, held).map_err(no_pipe)?.spawn(),
        };

        // The Commands held copies of the write end and are gone: we keep our own until the exit.
        let child = spawned.map_err(|err| {
            let why = match &spec.program {
                Program::Shell(_) => format!("failed to run /bin/sh: {err}"),
                program @ Program::Exec { .. } => format!("failed to run `{program}`: {err}"),
            };
            Outcome::failed(why, started)
        })?;
        let group = Pid::from_raw(child.id() as i32);
        let watch = reaper.map(ExitWatch::Signal);
        let deadline = spec.timeout.map(|limit| started + limit);
        let output = reader.map(|(pipe, held)| Output::new(pipe, held, OUTPUT_LIMIT));
        let kill_leftovers = spec.capture != Capture::Discard;
        Ok(Running { child, watch, group, kill_leftovers, started, output, phase: Phase::Running(deadline) })
    }

    /// Add what to poll for this command to `fds`, in this order: what turns readable when it
    /// exits (there is one whenever [`Running::advance`] has said it still runs), then its
    /// output pipe while that is open. [`Running::advance`] takes the poll's result for them.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        for fd in [self.exit_fd(), self.output_fd()].into_iter().flatten() {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
    }

    /// What tells the exit, while it is worth polling: once the command has exited, a pidfd
    /// stays readable, and polling it would spin.
    fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        let running = !matches!(self.phase, Phase::Draining(..));
        self.watch.as_ref().filter(|_| running).map(ExitWatch::fd)
    }

    fn output_fd(&self) -> Option<BorrowedFd<'_>> {
        self.output.as_ref().and_then(Output::fd)
    }

    /// When [`Running::advance`] must be called even if nothing else happens.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Running(deadline) => deadline,
            Phase::Terminating(at) | Phase::Draining(_, _, at) => Some(at),
        }
    }

    /// Read what output is there (only when the pipe polled readable: reading otherwise could
    /// block), look at the process (when its exit descriptor polled readable) and the time, and
    /// move on: the outcome once the command is over and its output read. `ready` is the poll's
    /// result for what [`Running::poll_fds`] added (nothing, when there was no poll). Call it
    /// after every wake-up of the poll.
    pub fn advance(&mut self, ready: Ready) -> Option<Outcome> {
        let watched = self.exit_fd().is_some();
        let exited = watched && ready.is(0);
        let readable = self.output_fd().is_some() && ready.is(usize::from(watched));
        if exited {
            if let Some(watch) = self.watch.as_ref() {
                watch.clear();
            }
        }
        let outcome = self.step(readable);
        if outcome.is_some() || self.watch.is_some() || matches!(self.phase, Phase::Draining(..)) {
            return outcome;
        }
        // Still running: from now on its exit has to wake the caller's poll.
        match ExitWatch::pidfd(&self.child) {
            Ok(watch) => self.watch = Some(watch),
            Err(err) => {
                self.kill_and_reap();
                self.drain(Status::SpawnFailed(format!("failed to watch the command: {err}")));
            }
        }
        self.step(false)
    }

    fn step(&mut self, readable: bool) -> Option<Outcome> {
        if readable {
            if let Some(output) = self.output.as_mut() {
                output.read_some();
            }
        }
        let now = Instant::now();
        loop {
            match self.phase {
                Phase::Running(deadline) => match self.exited() {
                    Ok(true) => {
                        if self.kill_leftovers {
                            // The command is judged on its own exit. Whatever it left in its
                            // process group goes now: a backgrounded child would hold the
                            // output pipe, or pile up at every run. (Not reaped yet, the
                            // command keeps the group's id from being reused.)
                            let _ = killpg(self.group, Signal::SIGKILL);
                        }
                        let status = match self.child.wait() {
                            Ok(status) => classify(status),
                            Err(err) => Status::SpawnFailed(format!("failed to wait for the command: {err}")),
                        };
                        self.drain(status);
                    }
                    Ok(false) if deadline.is_some_and(|at| now >= at) => {
                        let _ = killpg(self.group, Signal::SIGTERM);
                        self.phase = Phase::Terminating(now + KILL_GRACE);
                    }
                    Ok(false) => return None,
                    Err(err) => {
                        self.kill_and_reap();
                        self.drain(Status::SpawnFailed(format!("failed to wait for the command: {err}")));
                    }
                },
                Phase::Terminating(kill_at) => {
                    match self.exited() {
                        Ok(false) if now < kill_at => return None,
                        // Whatever of the group survived SIGTERM in the grace period goes now.
                        _ => self.kill_and_reap(),
                    }
                    self.drain(Status::TimedOut);
                }
                Phase::Draining(ref status, duration, until) => {
                    if self.output.as_ref().and_then(Output::fd).is_some() && now < until {
                        return None;
                    }
                    let (output, dropped) = match self.output.take() {
                        Some(output) => output.into_parts(),
                        None => Default::default(),
                    };
                    return Some(Outcome { status: status.clone(), duration, output, dropped });
                }
            }
        }
    }

    /// Kill the command (its whole process group) now, because we are stopping.
    pub fn cancel(mut self) -> Outcome {
        self.kill_and_reap();
        let (output, dropped) = self.output.take().map(Output::into_parts).unwrap_or_default();
        Outcome { status: Status::Cancelled, duration: self.started.elapsed(), output, dropped }
    }

    fn drain(&mut self, status: Status) {
        if let Some(output) = self.output.as_mut() {
            output.release();
        }
        self.phase = Phase::Draining(status, self.started.elapsed(), Instant::now() + OUTPUT_GRACE);
    }

    /// Whether the command has exited, without reaping it: until it is reaped, its pid and
    /// so its process group's id cannot be reused, and killing the group hits only its own.
    fn exited(&self) -> nix::Result<bool> {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.group), flags) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => Ok(false),
            Ok(_) => Ok(true),
            Err(errno) => Err(errno),
        }
    }

    /// SIGKILL to the whole group, then reap the command, waiting [`REAP_LIMIT`] at most: when
    /// it does not die (our signal refused), it is left, and never holds us longer.
    fn kill_and_reap(&mut self) {
        let _ = killpg(self.group, Signal::SIGKILL);
        let until = Instant::now() + REAP_LIMIT;
        if self.watch.is_none() {
            // Its exit wakes the wait below (else that sleeps in short steps).
            self.watch = ExitWatch::pidfd(&self.child).ok();
        }
        loop {
            match self.child.try_wait() {
                Ok(None) if Instant::now() < until => self.nap(until),
                Ok(None) => {
                    log::debug!("command {} did not end at SIGKILL within {REAP_LIMIT:?}: left", self.group);
                    return;
                }
                Ok(Some(_)) | Err(_) => return,
            }
        }
    }

    /// Wait a little for the command's exit, not past `until`.
    fn nap(&self, until: Instant) {
        let soon = until.min(Instant::now() + Duration::from_millis(10));
        match self.watch.as_ref() {
            Some(watch) => {
                let mut fds = [PollFd::new(watch.fd(), PollFlags::POLLIN)];
                let _ = poll_until(&mut fds, Some(soon));
                watch.clear();
            }
            None => std::thread::sleep(soon.saturating_duration_since(Instant::now())),
        }
    }
}

/// The command for `program`, as it always runs: a shell command line through `/bin/sh -c`.
fn program(program: &Program) -> Command {
    match program {
        Program::Shell(line) => {
            let mut command = Command::new("/bin/sh");
            command.arg("-c").arg(line);
            command
        }
        Program::Exec { path, args } => {
            let mut command = Command::new(path);
            command.args(args);
            command
        }
    }
}

/// `line` run without the shell, when it is one simple command naming a program found on the
/// `PATH` ([`simple`]): the program with the words as the shell would pass them (its name as
/// typed in `argv[0]`).
fn direct(line: &str) -> Option<Command> {
    let words = simple::words(line)?;
    let path = std::env::var_os("PATH");
    let found = simple::find(words[0], path.as_deref())?;
    let mut command = Command::new(found);
    command.arg0(words[0]).args(&words[1..]);
    Some(command)
}

/// Give `command` what every command gets: stdin from /dev/null, its own process group, the
/// spec's environment, and its output into `held` (the write end we keep) or /dev/null.
fn wire(mut command: Command, spec: &Spec, held: Option<&std::io::PipeWriter>) -> std::io::Result<Command> {
    command.stdin(null()).process_group(0);
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    match (spec.capture, held) {
        (Capture::Merged, Some(held)) => command.stdout(held.try_clone()?).stderr(held.try_clone()?),
        (Capture::Stderr, Some(held)) => command.stdout(null()).stderr(held.try_clone()?),
        _ => command.stdout(null()).stderr(null()),
    };
    Ok(command)
}

/// Run `spec` to its end, waiting for nothing else meanwhile.
pub fn run_alone(spec: &Spec) -> Outcome {
    match Running::start(spec) {
        Ok(running) => finish(running),
        Err(outcome) => outcome,
    }
}

/// Wait for `running` to end, for nothing else.
fn finish(mut running: Running) -> Outcome {
    let mut ready = Ready::NONE;
    loop {
        if let Some(outcome) = running.advance(ready) {
            return outcome;
        }
        let mut fds = Vec::with_capacity(2);
        running.poll_fds(&mut fds);
        ready = match poll_until(&mut fds, running.deadline()) {
            Ok(_) => Ready::of(&fds),
            Err(Errno::EINTR) => Ready::NONE,
            Err(_) => {
                // Cannot wait: look again a little later rather than spin.
                std::thread::sleep(Duration::from_millis(10));
                Ready::NONE
            }
        };
    }
}

/// `/dev/null`, opened once (for reading and writing): each command gets a copy of the
/// descriptor.
fn null() -> Stdio {
    static NULL: OnceLock<Option<File>> = OnceLock::new();
    NULL.get_or_init(|| OpenOptions::new().read(true).write(true).open("/dev/null").ok())
        .as_ref()
        .and_then(|file| file.try_clone().ok())
        .map_or_else(Stdio::null, Stdio::from)
}

fn classify(status: ExitStatus) -> Status {
    match (status.code(), status.signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(signal)) => Status::Signaled(signal),
        (None, None) => Status::Exited(-1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str, timeout_ms: Option<u64>) -> Spec {
        Spec {
            timeout: timeout_ms.map(Duration::from_millis),
            env: vec![("STATE".into(), "UP".into())],
            capture: Capture::Merged,
            ..Spec::shell(command)
        }
    }

    fn one(spec: Spec) -> Outcome {
        run_alone(&spec)
    }

    /// The same, with the exit seen through SIGCHLD (kernels without pidfds).
    fn one_by_signal(spec: Spec) -> Outcome {
        let running = Running::start_with(&spec, Some(Reaper::new().unwrap())).unwrap();
        assert!(matches!(running.watch, Some(ExitWatch::Signal(_))));
        finish(running)
    }

    /// What program `running` runs (its `comm`), once it has exec'd one of `names`: 2 s at most.
    fn comm(running: &Running, names: &[&str]) -> String {
        let read = || std::fs::read_to_string(format!("/proc/{}/comm", running.child.id())).unwrap_or_default();
        let mut seen = read();
        for _ in 0..200 {
            if names.contains(&seen.trim()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            seen = read();
        }
        seen.trim().to_owned()
    }

    #[test]
    fn a_simple_command_runs_without_the_shell_and_anything_else_with_it() {
        let direct = Running::start(&spec("sleep 5", Some(5000))).unwrap();
        assert_eq!(comm(&direct, &["sleep", "sh"]), "sleep", "no /bin/sh in between");
        let _ = direct.cancel();
        let shell = Running::start(&spec("sleep 5; true", Some(5000))).unwrap();
        assert_eq!(comm(&shell, &["sleep", "sh"]), "sh");
        let _ = shell.cancel();
        // The same statuses, output and environment either way.
        let out = one(spec("sh -c 'exit 7'", Some(5000)));
        assert_eq!(out.status, Status::Exited(7));
        let out = one(spec("printenv STATE", Some(5000)));
        assert_eq!((out.status, String::from_utf8_lossy(&out.output).into_owned()), (Status::Exited(0), "UP\n".into()));
        let out = one(spec("ls /no/such/file", Some(5000)));
        assert_eq!(out.status, Status::Exited(2));
        assert!(String::from_utf8_lossy(&out.output).contains("No such file"), "{out:?}");
        // Not found, not executable: the shell's own words and statuses.
        let out = one(spec("no-such-program-anywhere --x", Some(5000)));
        assert_eq!(out.status, Status::Exited(127));
        assert!(String::from_utf8_lossy(&out.output).contains("not found"), "{out:?}");
        let out = one(spec("/etc/passwd", Some(5000)));
        assert_eq!(out.status, Status::Exited(126));
    }

    #[test]
    fn a_script_without_a_shebang_still_runs_as_the_shell_runs_it() {
        let dir = std::env::temp_dir().join(format!("ehc-proc-noshebang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("check");
        std::fs::write(&script, "echo from the script; exit 4\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let out = one(spec(&script.display().to_string(), Some(5000)));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(out.status, Status::Exited(4));
        assert_eq!(String::from_utf8_lossy(&out.output), "from the script\n");
    }

    #[test]
    fn exit_status_and_merged_output() {
        let out = one(spec("echo out; echo err >&2; exit 3", Some(5000)));
        assert_eq!(out.status, Status::Exited(3));
        assert_eq!(String::from_utf8_lossy(&out.output), "out\nerr\n");
        assert!(!out.success());
        assert!(one(spec("true", None)).success());
    }

    #[test]
    fn environment_and_null_stdin() {
        let out = one(spec("printf %s \"$STATE\"; cat", Some(5000)));
        assert_eq!(out.output, b"UP");
        assert!(out.success());
    }

    #[test]
    fn death_by_signal_is_reported_as_such() {
        let out = one(spec("kill -9 $$", Some(5000)));
        assert_eq!(out.status, Status::Signaled(9));
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let dir = std::env::temp_dir().join(format!("ehc-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("grandchild");
        let cmd = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let out = one(spec(&cmd, Some(300)));
        assert_eq!(out.status, Status::TimedOut);
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        // The grandchild is gone (or a zombie awaiting init), not sleeping on.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(')').next().unwrap_or("").split_whitespace().next().unwrap_or("");
            if stat.is_empty() || state == "Z" {
                break;
            }
            assert!(Instant::now() < deadline, "grandchild {pid} still alive: {stat}");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_backgrounded_child_holding_the_pipe_does_not_stall_the_verdict() {
        let out = one(spec("echo started; (sleep 3; echo late) & exit 0", Some(10_000)));
        assert!(out.success());
        assert!(out.duration < Duration::from_secs(2), "{:?}", out.duration);
        assert_eq!(out.output, b"started\n");
    }

    #[test]
    fn output_held_by_an_escaped_child_is_given_up_after_a_grace_without_spinning() {
        use nix::time::{clock_gettime, ClockId};
        let cpu = || Duration::from(clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap());
        let before = cpu();
        // setsid: a new process group, out of reach of the group kill; it holds the pipe 1 s. The
        // check still runs at the first look (sleep 0.2), so its exit is watched with a pidfd.
        let out = one(spec("echo ok; setsid sleep 1 & sleep 0.2; exit 0", Some(10_000)));
        let spent = cpu() - before;
        assert!(out.success());
        assert_eq!(out.output, b"ok\n");
        // Waiting out the grace (50 ms) sleeps in poll(); a spinning wait would burn it all.
        assert!(spent < Duration::from_millis(25), "{spent:?} of CPU while waiting");
    }

    #[test]
    fn output_is_bounded() {
        let out = one(spec("head -c 1000000 /dev/zero", Some(10_000)));
        assert!(out.success());
        assert_eq!(out.output.len(), OUTPUT_LIMIT);
        assert_eq!(out.dropped, 1_000_000 - OUTPUT_LIMIT as u64);
    }

    #[test]
    fn cancel_kills_the_running_command_at_once() {
        let started = Instant::now();
        let mut running = Running::start(&spec("sleep 30", None)).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(running.advance(Ready::NONE).is_none(), "sleep 30 is still running");
        let outcome = running.cancel();
        assert_eq!(outcome.status, Status::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_command_that_cannot_start_is_its_outcome_at_once() {
        // A NUL byte cannot go into an argument: the spawn itself fails.
        let outcome = one(spec("true\0false", None));
        assert!(
            matches!(outcome.status, Status::SpawnFailed(ref why) if why.contains("/bin/sh")),
            "{:?}",
            outcome.status
        );
        assert!(!outcome.success());
    }

    #[test]
    fn a_command_that_closed_its_output_is_still_waited_for() {
        for run in [one, one_by_signal] {
            let started = Instant::now();
            let out = run(spec("echo early; exec >/dev/null 2>&1; sleep 0.3; exit 7", Some(20_000)));
            assert_eq!(out.status, Status::Exited(7));
            assert!(out.duration >= Duration::from_millis(300), "{:?}", out.duration);
            assert!(started.elapsed() < Duration::from_secs(10));
            assert_eq!(out.output, b"early\n");
        }
    }

    #[test]
    fn exits_are_seen_through_sigchld_as_through_a_pidfd() {
        for code in 0..20 {
            let out = one_by_signal(spec(&format!("echo {code}; exit {code}"), Some(20_000)));
            assert_eq!(out.status, Status::Exited(code));
            assert_eq!(out.output, format!("{code}\n").into_bytes());
        }
        let out = one_by_signal(spec("sleep 30", Some(300)));
        assert_eq!(out.status, Status::TimedOut);
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    }

    #[test]
    fn a_program_runs_directly_with_its_arguments_as_they_are() {
        let spec = Spec { capture: Capture::Merged, ..Spec::exec("printf", ["%s|", "a b", "$STATE", "*", ";exit 1"]) };
        let out = one(Spec { env: vec![("STATE".into(), "UP".into())], ..spec });
        assert!(out.success(), "{:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.output), "a b|$STATE|*|;exit 1|");
        let out = one(Spec::exec("/bin/sh", ["-c", "exit 4"]));
        assert_eq!(out.status, Status::Exited(4));
        assert!(out.output.is_empty());
    }

    #[test]
    fn a_program_is_shown_with_its_arguments() {
        assert_eq!(
            Spec::exec("/usr/bin/sudo", ["-n", "ip", "address"]).program.to_string(),
            "/usr/bin/sudo -n ip address"
        );
        assert_eq!(Spec::exec("true", Vec::<String>::new()).program.to_string(), "true");
        assert_eq!(Spec::shell("echo a; exit 1").program.to_string(), "echo a; exit 1");
    }

    #[test]
    fn a_missing_program_is_a_spawn_failure_that_names_it() {
        let outcome = one(Spec { capture: Capture::Stderr, ..Spec::exec("/nonexistent/prog", ["-x", "y"]) });
        match &outcome.status {
            Status::SpawnFailed(why) => {
                assert!(why.starts_with("failed to run `/nonexistent/prog -x y`: "), "{why}");
                assert!(why.contains("No such file or directory"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!outcome.success());
    }

    #[test]
    fn stderr_alone_can_be_captured_and_is_bounded() {
        let out = one(Spec { capture: Capture::Stderr, ..spec("echo out; echo err >&2; exit 2", Some(5000)) });
        assert_eq!(out.status, Status::Exited(2));
        assert_eq!(out.output, b"err\n");
        let out = one(Spec { capture: Capture::Stderr, ..spec("head -c 1000000 /dev/zero >&2", Some(10_000)) });
        assert!(out.success());
        assert_eq!(out.output.len(), OUTPUT_LIMIT);
        assert_eq!(out.dropped, 1_000_000 - OUTPUT_LIMIT as u64);
    }

    #[test]
    fn a_program_past_its_deadline_is_killed_with_its_group() {
        let spec =
            Spec { timeout: Some(Duration::from_millis(200)), ..Spec::exec("sh", ["-c", "sleep 30 & sleep 30"]) };
        for run in [one, one_by_signal] {
            let out = run(spec.clone());
            assert_eq!(out.status, Status::TimedOut);
            assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
        }
    }

    #[test]
    fn a_command_our_signal_cannot_reach_is_left_after_a_bounded_wait() {
        // As with a setuid sudo that refuses the signal: here the group kill misses (a group
        // that does not exist), the command lives on, and is left after REAP_LIMIT.
        let mut running = Running::start(&spec("sleep 30", None)).unwrap();
        let pid = running.group;
        running.group = Pid::from_raw(i32::MAX);
        let started = Instant::now();
        assert_eq!(running.cancel().status, Status::Cancelled);
        let waited = started.elapsed();
        assert!(waited >= REAP_LIMIT && waited < REAP_LIMIT + Duration::from_secs(2), "{waited:?}");
        nix::sys::signal::kill(pid, Signal::SIGKILL).unwrap();
        nix::sys::wait::waitpid(pid, None).unwrap();
    }

    #[test]
    fn uncaptured_commands_write_nowhere() {
        let out = one(Spec { capture: Capture::Discard, ..spec("echo hidden", Some(5000)) });
        assert!(out.success());
        assert!(out.output.is_empty());
    }
}
