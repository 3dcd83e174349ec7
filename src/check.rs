//! Running a user's shell command (the check, or a hook) the safe way: `/bin/sh -c CMD` with
//! stdin from /dev/null, in its own process group, with a deadline after which the whole group
//! is terminated, then killed; its output drained on its own thread into a bounded buffer, so a
//! chatty or backgrounded child can neither fill memory nor stall us.
//!
//! Commands run on a worker thread ([`Job`]) so the main loop stays responsive; the group of
//! the command running now can be killed from the main thread at any time.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// How much of a command's output is kept (the rest is read and thrown away).
pub const OUTPUT_LIMIT: usize = 16 * 1024;
/// After SIGTERM to a timed-out group, how long before SIGKILL.
const KILL_GRACE: Duration = Duration::from_millis(200);
/// After the command exits, how long to wait for the end of its output (a backgrounded child
/// may hold the pipe open for ever).
const OUTPUT_GRACE: Duration = Duration::from_millis(50);

/// One command to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub command: String,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Keep stdout and stderr (merged); otherwise they go to /dev/null. A captured command is
    /// a check: once it has exited, the rest of its process group is killed.
    pub capture: bool,
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
    /// `/bin/sh` could not be started.
    SpawnFailed(String),
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub duration: Duration,
    /// The first [`OUTPUT_LIMIT`] bytes of stdout and stderr, merged.
    pub output: Vec<u8>,
    /// Bytes read past the limit and dropped.
    pub dropped: u64,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status == Status::Exited(0)
    }
}

/// Commands run one after the other on a worker thread.
pub struct Job {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// The process group of the command running now (0: none).
    current: AtomicI32,
    cancelled: AtomicBool,
}

impl Job {
    /// Run `specs` in order on a new thread, then call `done` with their outcomes (a
    /// cancelled job still calls it, with what ran).
    pub fn start(specs: Vec<Spec>, done: impl FnOnce(Vec<Outcome>) + Send + 'static) -> Job {
        let shared = Arc::new(Shared::default());
        let worker = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("command".into())
            .spawn(move || {
                let mut outcomes = Vec::with_capacity(specs.len());
                for spec in &specs {
                    if worker.cancelled.load(Ordering::SeqCst) {
                        break;
                    }
                    outcomes.push(run(spec, &worker));
                }
                done(outcomes);
            })
            .map(|_| ())
            .unwrap_or_else(|err| log::error!("failed to start a thread for commands: {err}"));
        Job { shared }
    }

    /// Kill the command running now (its whole process group) and run no more.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        let pgid = self.shared.current.load(Ordering::SeqCst);
        if pgid > 0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

/// Run one command to its end, publishing its process group in `shared`.
fn run(spec: &Spec, shared: &Shared) -> Outcome {
    let started = Instant::now();
    let failed = |why: String| Outcome {
        status: Status::SpawnFailed(why),
        duration: started.elapsed(),
        output: Vec::new(),
        dropped: 0,
    };
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(&spec.command).stdin(Stdio::null()).process_group(0);
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    let reader = if spec.capture {
        let (reader, writer) = match std::io::pipe() {
            Ok(pair) => pair,
            Err(err) => return failed(format!("failed to create a pipe: {err}")),
        };
        match writer.try_clone() {
            Ok(copy) => command.stdout(copy).stderr(writer),
            Err(err) => return failed(format!("failed to create a pipe: {err}")),
        };
        Some(reader)
    } else {
        command.stdout(Stdio::null()).stderr(Stdio::null());
        None
    };
    let spawned = command.spawn();
    // The Command holds our copies of the pipe's write end: close them, or we never see EOF.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => return failed(format!("failed to run /bin/sh: {err}")),
    };
    let pgid = child.id() as i32;
    shared.current.store(pgid, Ordering::SeqCst);
    if shared.cancelled.load(Ordering::SeqCst) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let capture = reader.map(Capture::start);

    let status = wait(&mut child, pgid, spec.timeout);
    if spec.capture && matches!(status, Waited::Exited(_)) {
        // The check is judged on its own exit. Whatever it left in its process group goes
        // now: a backgrounded child would hold the output pipe, or pile up at every check.
        // (The group id cannot be reused while any member is alive.)
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    shared.current.store(0, Ordering::SeqCst);
    let duration = started.elapsed();
    let status = match status {
        Waited::Exited(_) if shared.cancelled.load(Ordering::SeqCst) => Status::Cancelled,
        Waited::Exited(status) => classify(status),
        Waited::TimedOut => Status::TimedOut,
        Waited::Failed(why) => Status::SpawnFailed(why),
    };
    let (output, dropped) = capture.map(Capture::finish).unwrap_or_default();
    Outcome { status, duration, output, dropped }
}

enum Waited {
    Exited(ExitStatus),
    TimedOut,
    Failed(String),
}

fn wait(child: &mut std::process::Child, pgid: i32, timeout: Option<Duration>) -> Waited {
    let waited = match timeout {
        None => child.wait().map(Some),
        Some(limit) => child.wait_timeout(limit),
    };
    match waited {
        Ok(Some(status)) => Waited::Exited(status),
        Ok(None) => {
            let group = Pid::from_raw(pgid);
            let _ = killpg(group, Signal::SIGTERM);
            if !matches!(child.wait_timeout(KILL_GRACE), Ok(Some(_))) {
                let _ = killpg(group, Signal::SIGKILL);
                let _ = child.wait();
            }
            // Whatever of the group survived SIGTERM in the grace period goes now.
            let _ = killpg(group, Signal::SIGKILL);
            Waited::TimedOut
        }
        Err(err) => {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            let _ = child.wait();
            Waited::Failed(format!("failed to wait for the command: {err}"))
        }
    }
}

fn classify(status: ExitStatus) -> Status {
    match (status.code(), status.signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(signal)) => Status::Signaled(signal),
        (None, None) => Status::Exited(-1),
    }
}

/// The output of a command, read on its own thread into a bounded buffer.
struct Capture {
    buffer: Arc<Mutex<(Vec<u8>, u64)>>,
    stop: Arc<AtomicBool>,
    finished: mpsc::Receiver<()>,
}

impl Capture {
    fn start(reader: std::io::PipeReader) -> Capture {
        let buffer = Arc::new(Mutex::new((Vec::new(), 0u64)));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, finished) = mpsc::channel();
        let (buf, halt) = (Arc::clone(&buffer), Arc::clone(&stop));
        let spawned = std::thread::Builder::new().name("output".into()).spawn(move || {
            drain(reader, &buf, &halt);
            let _ = tx.send(());
        });
        if let Err(err) = spawned {
            log::error!("failed to start a thread for the command's output: {err}");
        }
        Capture { buffer, stop, finished }
    }

    /// What was read. Waits a moment for the end of the output, then gives up on a pipe that a
    /// backgrounded child keeps open (the reader thread stops within its poll period).
    fn finish(self) -> (Vec<u8>, u64) {
        if self.finished.recv_timeout(OUTPUT_GRACE).is_err() {
            self.stop.store(true, Ordering::SeqCst);
        }
        let mut guard = match self.buffer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::take(&mut *guard)
    }
}

fn drain(mut reader: std::io::PipeReader, buffer: &Mutex<(Vec<u8>, u64)>, stop: &AtomicBool) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut chunk = [0u8; 8192];
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let Ok(mut guard) = buffer.lock() else { return };
        let (kept, dropped) = &mut *guard;
        let room = OUTPUT_LIMIT.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&chunk[..room]);
        *dropped += (n - room) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str, timeout_ms: Option<u64>) -> Spec {
        Spec {
            command: command.to_owned(),
            timeout: timeout_ms.map(Duration::from_millis),
            env: vec![("STATE".into(), "UP".into())],
            capture: true,
        }
    }

    fn one(spec: Spec) -> Outcome {
        let (tx, rx) = mpsc::channel();
        let _job = Job::start(vec![spec], move |mut outcomes| {
            let _ = tx.send(outcomes.remove(0));
        });
        rx.recv_timeout(Duration::from_secs(20)).expect("the command never finished")
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
    fn output_is_bounded() {
        let out = one(spec("head -c 1000000 /dev/zero", Some(10_000)));
        assert!(out.success());
        assert_eq!(out.output.len(), OUTPUT_LIMIT);
        assert_eq!(out.dropped, 1_000_000 - OUTPUT_LIMIT as u64);
    }

    #[test]
    fn cancel_kills_the_running_command_and_skips_the_rest() {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        let job = Job::start(vec![spec("sleep 30", None), spec("true", None)], move |outcomes| {
            let _ = tx.send(outcomes);
        });
        std::thread::sleep(Duration::from_millis(200));
        job.cancel();
        let outcomes = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].status, Status::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn uncaptured_commands_write_nowhere() {
        let out = one(Spec { capture: false, ..spec("echo hidden", Some(5000)) });
        assert!(out.success());
        assert!(out.output.is_empty());
    }
}
