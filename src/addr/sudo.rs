//! The address backend for `--sudo`: adds and removes with `sudo -n ip address ...`, for when
//! this process lacks CAP_NET_ADMIN but may run `ip` through sudo. Listing needs no privilege
//! and goes over rtnetlink.
//!
//! `sudo -n` never asks for a password: when one would be needed, it fails at once and that is
//! [`AddrError::PermissionDenied`]. Each command gets [`COMMAND_TIMEOUT`], then is killed. The
//! commands run on the project's one command runner ([`crate::proc`]): own process group, stderr
//! kept (bounded), the group terminated then killed at the deadline, and reaped.
//!
//! The addresses are added without our `IFA_PROTO` mark ([`super::ADDRESS_PROTOCOL`]): `ip
//! address add` takes `proto` only from iproute2 6.3 (Debian 12 has 6.1, which refuses it as
//! "garbage"), and adding it would change the command line that sudoers has to allow. Listing
//! goes over rtnetlink, so a mark left by an earlier run without `--sudo` is still recognised.

use super::op::{Answer, Op};
use super::{Added, AddrError, AddressBackend, IfAddr, NetlinkBackend};
use crate::poll::Ready;
use crate::proc::{self, Capture, Outcome, Running, Spec, Status};
use anyhow::anyhow;
use nix::poll::PollFd;
use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// How long one `sudo ip ...` may take before we kill it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Addresses added and removed with `sudo -n ip`, waiting for each command (the panic hook's
/// last clean-up, and tests); the running plugin starts [`SudoOp`]s on the reactor's poll.
pub struct SudoBackend {
    sudo: Sudo,
    lister: NetlinkBackend,
}

/// How to run `sudo`: the program and each command's bound.
#[derive(Debug, Clone)]
pub struct Sudo {
    program: PathBuf,
    timeout: Duration,
}

/// How a command ended.
struct Finished {
    /// The command line, for messages.
    shown: String,
    /// Its exit, as a wait status (rebuilt from the runner's [`Status`]).
    status: ExitStatus,
    /// Its stderr, lossily decoded.
    stderr: String,
}

impl Sudo {
    /// `sudo` from the `PATH`.
    pub fn new() -> Sudo {
        Sudo::with_program("sudo")
    }

    /// `program` in place of `sudo`, with the same arguments (tests give a script that records
    /// them).
    pub fn with_program(program: impl Into<PathBuf>) -> Sudo {
        Sudo { program: program.into(), timeout: COMMAND_TIMEOUT }
    }

    /// `PROGRAM -n ip address ARGS` for `op` (an addition or a removal), stdin null, stdout
    /// discarded, stderr kept, in its own process group, terminated then killed at its
    /// deadline.
    fn spec(&self, op: &Op) -> Spec {
        let args = match op {
            Op::Add { ip, ifname, label } => {
                let mut args = vec!["add".to_owned(), host(*ip), "dev".to_owned(), ifname.clone()];
                match (ip, label) {
                    (IpAddr::V4(_), Some(label)) => args.extend(["label".to_owned(), label.clone()]),
                    (IpAddr::V4(_), None) => {}
                    // As the netlink backend does: usable at once, never "tentative".
                    (IpAddr::V6(_), _) => args.push("nodad".to_owned()),
                }
                args
            }
            Op::Remove { ip, ifname } => vec!["delete".to_owned(), host(*ip), "dev".to_owned(), ifname.clone()],
            Op::List { .. } => unreachable!("listing goes over rtnetlink"),
        };
        let argv = ["-n", "ip", "address"].iter().map(|arg| arg.to_string()).chain(args);
        Spec { timeout: Some(self.timeout), capture: Capture::Stderr, ..Spec::exec(&self.program, argv) }
    }

    /// What `outcome` of `spec` (for `op`) means.
    fn judge(&self, op: &Op, spec: &Spec, outcome: Outcome) -> Answer {
        let shown = spec.program.to_string();
        let status = match outcome.status {
            Status::Exited(code) => ExitStatus::from_raw((code & 0xff) << 8),
            Status::Signaled(signal) => ExitStatus::from_raw(signal & 0x7f),
            Status::TimedOut | Status::Cancelled => {
                let err = anyhow!("`{shown}` did not finish within {:?}; killed", self.timeout);
                return op.failed(AddrError::Other(err));
            }
            // "failed to run `SHOWN`: why".
            Status::SpawnFailed(why) => return op.failed(AddrError::Other(anyhow!(why))),
        };
        let finished = Finished { shown, status, stderr: String::from_utf8_lossy(&outcome.output).into_owned() };
        match op {
            Op::Add { ifname, .. } => Answer::Added(if finished.status.success() {
                Ok(Added::Added)
            } else if finished.status.code() == Some(2) && finished.stderr.contains("File exists") {
                Ok(Added::AlreadyPresent)
            } else {
                Err(failure(&finished, ifname))
            }),
            Op::Remove { ifname, .. } => {
                // EADDRNOTAVAIL, ENOENT, ESRCH: the address is not there.
                let absent = ["Cannot assign requested address", "No such file or directory", "No such process"]
                    .iter()
                    .any(|text| finished.stderr.contains(text));
                Answer::Removed(if finished.status.success() || (finished.status.code() == Some(2) && absent) {
                    Ok(())
                } else {
                    Err(failure(&finished, ifname))
                })
            }
            Op::List { .. } => unreachable!("listing goes over rtnetlink"),
        }
    }
}

impl Default for Sudo {
    fn default() -> Self {
        Sudo::new()
    }
}

/// One `sudo -n ip address ...` in flight, polled by the reactor like any command.
pub struct SudoOp {
    op: Op,
    spec: Spec,
    running: Running,
}

impl SudoOp {
    /// Start the command for `op`; one that cannot start is its answer at once.
    pub fn start(sudo: &Sudo, op: Op) -> Result<SudoOp, Answer> {
        let spec = sudo.spec(&op);
        match Running::start(&spec) {
            Ok(running) => Ok(SudoOp { op, spec, running }),
            Err(outcome) => Err(sudo.judge(&op, &spec, outcome)),
        }
    }

    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        self.running.poll_fds(fds);
    }

    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.running.deadline()
    }

    /// Its answer, once the command is over.
    pub fn advance(&mut self, sudo: &Sudo, ready: Ready) -> Option<Answer> {
        let outcome = self.running.advance(ready)?;
        Some(sudo.judge(&self.op, &self.spec, outcome))
    }

    /// We are stopping: its whole process group goes now.
    pub fn cancel(self) {
        self.running.cancel();
    }
}

impl SudoBackend {
    /// Run `sudo` from the `PATH`.
    pub fn new() -> Result<Self, AddrError> {
        Ok(SudoBackend { sudo: Sudo::new(), lister: NetlinkBackend::new()? })
    }

    /// Run `program` in place of `sudo`, with the same arguments (tests give a script that
    /// records them).
    pub fn with_program(program: impl Into<PathBuf>) -> Result<Self, AddrError> {
        Ok(SudoBackend { sudo: Sudo::with_program(program), lister: NetlinkBackend::new()? })
    }

    /// Run the command for `op` and wait for it: one poll() on the command's exit and its
    /// stderr. Past the deadline its group is terminated, then killed; a setuid sudo may
    /// refuse our signals, and then it is left after a bounded wait.
    fn run(&self, op: Op) -> Answer {
        let spec = self.sudo.spec(&op);
        let outcome = proc::run_alone(&spec);
        self.sudo.judge(&op, &spec, outcome)
    }
}

/// The kind of a failure of `sudo -n ip address ...`, judged from its stderr (`ip` answers with
/// the kernel's `strerror`, for example "RTNETLINK answers: File exists").
fn failure(finished: &Finished, ifname: &str) -> AddrError {
    let stderr = finished.stderr.as_str();
    let sudo_refused = ["a password is required", "a terminal is required", "is not in the sudoers", "is not allowed"]
        .iter()
        .any(|text| stderr.contains(text));
    if sudo_refused || stderr.contains("Operation not permitted") {
        return AddrError::PermissionDenied;
    }
    if stderr.contains("Cannot find device") {
        return AddrError::NoSuchInterface(ifname.to_owned());
    }
    let first_line = stderr.lines().map(str::trim).find(|line| !line.is_empty());
    let shown = &finished.shown;
    AddrError::Other(match (first_line, finished.status.code()) {
        (Some(line), _) => anyhow!("`{shown}`: {line}"),
        (None, Some(code)) => anyhow!("`{shown}` exited with status {code}"),
        (None, None) => anyhow!("`{shown}` ended without an exit status ({})", finished.status),
    })
}

/// `IP/LEN` for a host address.
fn host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}

impl AddressBackend for SudoBackend {
    fn list(&mut self, ifname: &str) -> Result<Vec<IfAddr>, AddrError> {
        self.lister.list(ifname)
    }

    fn add(&mut self, ip: IpAddr, ifname: &str, label: Option<&str>) -> Result<Added, AddrError> {
        self.run(Op::Add { ip, ifname: ifname.to_owned(), label: label.map(str::to_owned) }).added()
    }

    fn remove(&mut self, ip: IpAddr, ifname: &str) -> Result<(), AddrError> {
        self.run(Op::Remove { ip, ifname: ifname.to_owned() }).removed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// A stand-in for `sudo` in a directory of its own, removed on drop: a script that writes
    /// its arguments, one a line, to `argv` beside it, then runs `body`.
    struct FakeSudo {
        dir: PathBuf,
    }

    impl FakeSudo {
        /// One that prints `stderr` and exits with `code`.
        fn new(code: i32, stderr: &str) -> FakeSudo {
            let print = if stderr.is_empty() { String::new() } else { format!("printf '%s\\n' '{stderr}' >&2\n") };
            FakeSudo::with_body(&format!("{print}exit {code}"))
        }

        fn with_body(body: &str) -> FakeSudo {
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!("ehc-fake-sudo-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
            let fake = FakeSudo { dir: std::env::temp_dir().join(name) };
            std::fs::create_dir(&fake.dir).unwrap();
            let argv = fake.dir.join("argv");
            let script = format!(
                "#!/bin/sh\n[ -n \"$FAKE_SUDO_WARM_UP\" ] && exit 0\nprintf '%s\\n' \"$@\" > '{}'\n{body}\n",
                argv.display()
            );
            std::fs::write(fake.program(), script).unwrap();
            std::fs::set_permissions(fake.program(), std::fs::Permissions::from_mode(0o755)).unwrap();
            // A child forked by another test thread while we had the script open for writing
            // holds it open until it execs, and executing it meanwhile fails with ETXTBSY.
            // Wait for that here, so that the backend's first run cannot.
            loop {
                match Command::new(fake.program()).env("FAKE_SUDO_WARM_UP", "1").status() {
                    Err(err) if err.raw_os_error() == Some(Errno::ETXTBSY as i32) => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    status => break assert!(status.unwrap().success()),
                }
            }
            fake
        }

        fn program(&self) -> PathBuf {
            self.dir.join("sudo")
        }

        fn backend(&self) -> SudoBackend {
            SudoBackend::with_program(self.program()).unwrap()
        }

        /// The arguments it was last run with; `None` if it was not run.
        fn argv(&self) -> Option<Vec<String>> {
            let text = std::fs::read_to_string(self.dir.join("argv")).ok()?;
            Some(text.lines().map(str::to_owned).collect())
        }
    }

    impl Drop for FakeSudo {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));
    const V6: IpAddr = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));

    fn words(line: &str) -> Option<Vec<String>> {
        Some(line.split(' ').map(str::to_owned).collect())
    }

    #[test]
    fn add_runs_ip_address_add_with_the_label() {
        let fake = FakeSudo::new(0, "");
        assert_eq!(fake.backend().add(V4, "lo", Some("lo:web")).unwrap(), Added::Added);
        assert_eq!(fake.argv(), words("-n ip address add 192.0.2.10/32 dev lo label lo:web"));
    }

    #[test]
    fn add_without_a_label_passes_none() {
        let fake = FakeSudo::new(0, "");
        assert_eq!(fake.backend().add(V4, "eth0", None).unwrap(), Added::Added);
        assert_eq!(fake.argv(), words("-n ip address add 192.0.2.10/32 dev eth0"));
    }

    #[test]
    fn add_ipv6_ignores_the_label_and_skips_dad() {
        let fake = FakeSudo::new(0, "");
        assert_eq!(fake.backend().add(V6, "lo", Some("lo:web")).unwrap(), Added::Added);
        assert_eq!(fake.argv(), words("-n ip address add 2001:db8::10/128 dev lo nodad"));
    }

    #[test]
    fn remove_runs_ip_address_delete() {
        let fake = FakeSudo::new(0, "");
        fake.backend().remove(V4, "lo").unwrap();
        assert_eq!(fake.argv(), words("-n ip address delete 192.0.2.10/32 dev lo"));
        fake.backend().remove(V6, "lo").unwrap();
        assert_eq!(fake.argv(), words("-n ip address delete 2001:db8::10/128 dev lo"));
    }

    #[test]
    fn file_exists_is_already_present() {
        let fake = FakeSudo::new(2, "RTNETLINK answers: File exists");
        assert_eq!(fake.backend().add(V4, "lo", None).unwrap(), Added::AlreadyPresent);
    }

    #[test]
    fn removing_an_absent_address_is_not_an_error() {
        let fake = FakeSudo::new(2, "RTNETLINK answers: Cannot assign requested address");
        fake.backend().remove(V4, "lo").unwrap();
    }

    #[test]
    fn cannot_find_device_is_no_such_interface() {
        let fake = FakeSudo::new(1, r#"Cannot find device "nosuch0""#);
        let err = fake.backend().add(V4, "nosuch0", None).unwrap_err();
        assert!(matches!(&err, AddrError::NoSuchInterface(name) if name == "nosuch0"), "{err:?}");
        let err = fake.backend().remove(V4, "nosuch0").unwrap_err();
        assert!(matches!(&err, AddrError::NoSuchInterface(name) if name == "nosuch0"), "{err:?}");
    }

    #[test]
    fn a_password_prompt_is_permission_denied() {
        let fake = FakeSudo::new(1, "sudo: a password is required");
        assert!(matches!(fake.backend().add(V4, "lo", None), Err(AddrError::PermissionDenied)));
        assert!(matches!(fake.backend().remove(V4, "lo"), Err(AddrError::PermissionDenied)));
    }

    #[test]
    fn ip_without_the_capability_is_permission_denied() {
        let fake = FakeSudo::new(2, "RTNETLINK answers: Operation not permitted");
        assert!(matches!(fake.backend().add(V4, "lo", None), Err(AddrError::PermissionDenied)));
    }

    #[test]
    fn other_failures_carry_the_first_line_of_stderr() {
        let fake = FakeSudo::with_body(
            "printf '\\n  Error: inet prefix is expected.  \\nUsage: ip address ...\\n' >&2\nexit 1",
        );
        let err = fake.backend().add(V4, "lo", None).unwrap_err();
        let shown = fake.program().display().to_string();
        assert_eq!(
            err.to_string(),
            format!("`{shown} -n ip address add 192.0.2.10/32 dev lo`: Error: inet prefix is expected.")
        );
        // File exists, but not from `ip` (status 2): a failure all the same.
        let fake = FakeSudo::new(1, "sudo: unable to open /etc/sudoers.d/x: File exists");
        assert!(matches!(fake.backend().add(V4, "lo", None), Err(AddrError::Other(_))));
        let fake = FakeSudo::new(3, "");
        let err = fake.backend().remove(V4, "lo").unwrap_err();
        assert!(err.to_string().ends_with("exited with status 3"), "{err}");
    }

    #[test]
    fn a_command_that_hangs_is_killed() {
        // The shell is killed; the `sleep` it started keeps stderr open, and must not hold us.
        let fake = FakeSudo::with_body("sleep 3\nexit 0");
        let mut backend = fake.backend();
        backend.sudo.timeout = Duration::from_millis(200);
        let started = Instant::now();
        let err = backend.add(V4, "lo", None).unwrap_err();
        assert!(err.to_string().contains("did not finish within 200ms; killed"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn death_by_a_signal_is_told_as_before() {
        let fake = FakeSudo::with_body("kill -9 $$");
        let err = fake.backend().remove(V4, "lo").unwrap_err();
        let shown = fake.program().display().to_string();
        assert_eq!(
            err.to_string(),
            format!("`{shown} -n ip address delete 192.0.2.10/32 dev lo` ended without an exit status (signal: 9 (SIGKILL))")
        );
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let mut backend = SudoBackend::with_program("/nonexistent/sudo").unwrap();
        let err = backend.add(V4, "lo", None).unwrap_err();
        assert!(format!("{err}").starts_with("failed to run `/nonexistent/sudo -n ip address add"), "{err}");
    }

    #[test]
    fn list_needs_no_sudo() {
        let fake = FakeSudo::new(1, "sudo: a password is required");
        let mut backend = fake.backend();
        assert!(matches!(backend.list("nosuch0"), Err(AddrError::NoSuchInterface(_))));
        backend.list("lo").unwrap();
        assert_eq!(fake.argv(), None);
    }
}
