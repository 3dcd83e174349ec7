//! Waiting for a child process without a thread: its exit, its output and a deadline, all in
//! one `poll()` with whatever else the caller waits for. The exit is a pidfd turning readable
//! ([`ExitWatch`]; Linux 5.3 and later), or on older kernels a byte that SIGCHLD writes to a
//! socket ([`Reaper`]); the output pipe is read as it fills ([`Output`], bounded); the deadline
//! is the poll's timeout ([`crate::poll::poll_until`]).

use nix::poll::{PollFd, PollFlags};
use signal_hook::consts::SIGCHLD;
use signal_hook::SigId;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::Child;
use std::sync::OnceLock;

/// What turns readable when a child exits.
pub enum ExitWatch {
    /// The child's pidfd.
    Pidfd(OwnedFd),
    /// SIGCHLD, on kernels without pidfds.
    Signal(Reaper),
}

impl ExitWatch {
    /// Get ready to watch a child about to be started: on kernels without pidfds, the SIGCHLD
    /// registration has to come first (else an early exit could go unseen).
    pub fn before_spawn() -> io::Result<Option<Reaper>> {
        if pidfds_work() {
            Ok(None)
        } else {
            Reaper::new().map(Some)
        }
    }

    /// Watch `child` through a pidfd (when [`ExitWatch::before_spawn`] gave no [`Reaper`]).
    pub fn pidfd(child: &Child) -> io::Result<ExitWatch> {
        // The pid cannot be reused before we reap it: this is our child's.
        let pid = rustix::process::Pid::from_raw(child.id() as i32).ok_or_else(|| io::Error::other("pid 0"))?;
        Ok(ExitWatch::Pidfd(rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?))
    }

    /// Poll this for reading; when it polls readable, [`ExitWatch::clear`] it and look at the
    /// child (`try_wait`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            ExitWatch::Pidfd(fd) => fd.as_fd(),
            ExitWatch::Signal(reaper) => reaper.fd(),
        }
    }

    /// Clear the wake-ups seen so far (a pidfd stays readable once the child has exited: there
    /// is nothing to clear).
    pub fn clear(&self) {
        if let ExitWatch::Signal(reaper) = self {
            reaper.drain();
        }
    }
}

/// Whether this kernel has `pidfd_open` (tried once, on ourselves).
fn pidfds_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let works =
            rustix::process::pidfd_open(rustix::process::getpid(), rustix::process::PidfdFlags::empty()).is_ok();
        if !works {
            log::debug!("no pidfd_open on this kernel: SIGCHLD tells when a command exits");
        }
        works
    })
}

/// A registration for SIGCHLD: every SIGCHLD the process gets writes a byte to a socket that
/// the caller polls. Any number may exist at once (each is woken by every SIGCHLD and checks
/// its own child); dropping it unregisters it.
pub struct Reaper {
    woken: UnixStream,
    id: SigId,
}

impl Reaper {
    pub fn new() -> io::Result<Reaper> {
        let (woken, waker) = UnixStream::pair()?;
        woken.set_nonblocking(true)?;
        let id = signal_hook::low_level::pipe::register(SIGCHLD, waker)?;
        Ok(Reaper { woken, id })
    }

    /// The socket that turns readable at each SIGCHLD.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.woken.as_fd()
    }

    /// Clear the wake-ups seen so far (a SIGCHLD after this leaves the socket readable).
    pub fn drain(&self) {
        let mut bytes = [0u8; 64];
        while matches!((&self.woken).read(&mut bytes), Ok(n) if n > 0) {}
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

/// The read end of a child's output pipe, read into a buffer of at most `limit` bytes (the rest
/// is read and counted, so that the child never blocks on a full pipe).
///
/// It holds a copy of the write end until [`Output::release`]: while the command runs, the pipe
/// then wakes a poll only for data, and its exit is seen once (on the exit's own descriptor),
/// not twice (the end of file first, then the exit a moment later).
pub struct Output {
    pipe: Option<std::io::PipeReader>,
    held: Option<std::io::PipeWriter>,
    limit: usize,
    kept: Vec<u8>,
    dropped: u64,
}

impl Output {
    pub fn new(pipe: std::io::PipeReader, held: std::io::PipeWriter, limit: usize) -> Output {
        Output { pipe: Some(pipe), held: Some(held), limit, kept: Vec::new(), dropped: 0 }
    }

    /// The pipe, until it reaches end of file (or fails).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.pipe.as_ref().map(AsFd::as_fd)
    }

    /// What was kept, and how many bytes were dropped past the limit.
    pub fn into_parts(self) -> (Vec<u8>, u64) {
        (self.kept, self.dropped)
    }

    /// One read of what is there (call it when the pipe polled readable: it may block
    /// otherwise). End of file or an error closes the pipe.
    pub fn read_some(&mut self) {
        let Some(pipe) = self.pipe.as_mut() else { return };
        let mut chunk = [0u8; 8192];
        match pipe.read(&mut chunk) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                let room = self.limit.saturating_sub(self.kept.len()).min(n);
                self.kept.extend_from_slice(&chunk[..room]);
                self.dropped += (n - room) as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => self.pipe = None,
        }
    }

    /// The command has exited: let go of our write end, and read what is there without
    /// waiting. The pipe is at its end now, unless something the command left behind still
    /// holds it.
    pub fn release(&mut self) {
        self.held = None;
        // Bounded: what a pipe holds, in chunks, and no more.
        for _ in 0..64 {
            let Some(pipe) = self.pipe.as_ref() else { return };
            let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
                Ok(1) => self.read_some(),
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_has_pidfds_or_we_fall_back_to_sigchld() {
        let reaper = ExitWatch::before_spawn().unwrap();
        assert_eq!(reaper.is_none(), pidfds_work());
    }
}
