//! `--metrics-file PATH`: the metrics written to a file for node_exporter's textfile collector,
//! replaced atomically after every check and transition: written to `.NAME.tmp` in the same
//! folder (a name the collector does not read, as it does not end in `.prom`), then renamed
//! over PATH, so that a reader sees the old file or the new one, never a part. No `fsync`:
//! the rename is what makes the replacement atomic for a reader, and the file is rewritten
//! from the live state after a crash anyway; flushing to disk would stall the main loop (and
//! every check with it) for as long as a slow disk takes.
//!
//! Every snapshot is consistent: none is taken while a service is between a state entered and
//! that state's lines ([`Service::settling`]), so the state and the routes' MEDs agree. Plain
//! checks are coalesced, at most one write every [`MIN_GAP`] (with a thousand services a write
//! is megabytes); a change of any service's state or routes is written at once, as soon as
//! its lines are out. The last state is written at the exit.
//!
//! A folder that does not exist is refused at start-up ([`crate::config`] checks the flag); a write that fails later
//! (a full disk, a folder removed) is logged and tried again at the next change, never fatal.

use super::{render, Endpoint};
use crate::bfd::speaker::Board;
use crate::config::values::folder_of;
use crate::endpoint::{Request, View};
use crate::net::Net;
use crate::poll::Ready;
use crate::service::Service;
use crate::state::State;
use nix::poll::PollFd;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The shortest time between two writes.
pub const MIN_GAP: Duration = Duration::from_millis(250);

/// The file being kept up to date.
pub struct MetricsFile {
    path: PathBuf,
    temp: PathBuf,
    /// The last generation of the services seen ([`View::generation`]).
    seen: Option<u64>,
    /// A change not written yet (it waits for [`MIN_GAP`]).
    pending: bool,
    /// When the last write was.
    written_at: Option<Instant>,
    /// The last write failed (the next failure is logged quietly, a success loudly).
    failing: bool,
    /// Each service's state and routes as last written: a change of them is written at once.
    shown: Vec<Shown>,
    /// A service was settling at the last look: no deadline, its lines' wake-up brings us back.
    settling: bool,
    /// The BFD sessions, when the speaker runs, and their generation as last written: a
    /// state change of a session is written at once (its counters go with the next write).
    bfd: Option<Board>,
    bfd_shown: u64,
}

/// What a service showed in the last write, as far as a transition changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    state: State,
    routes: Vec<(Net, Option<i64>)>,
}

impl Shown {
    fn of(service: &Service) -> Shown {
        Shown { state: service.state(), routes: service.announced().collect() }
    }
}

/// Whether `view` shows another state or other routes than `shown`.
fn transition(shown: &[Shown], view: &View<'_>) -> bool {
    let mut services = view.services();
    let mut last = shown.iter();
    loop {
        match (services.next(), last.next()) {
            (None, None) => return false,
            (Some(service), Some(was))
                if service.state() == was.state && service.announced().eq(was.routes.iter().copied()) => {}
            _ => return true,
        }
    }
}

impl MetricsFile {
    /// Keep `path` (its folder checked at start-up by [`crate::config`]) up to date; nothing is
    /// written until the first look at the services.
    pub fn new(path: PathBuf, bfd: Option<Board>) -> MetricsFile {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = folder_of(&path).join(format!(".{name}.tmp"));
        MetricsFile {
            path,
            temp,
            seen: None,
            pending: false,
            written_at: None,
            failing: false,
            shown: Vec::new(),
            settling: false,
            bfd,
            bfd_shown: 0,
        }
    }

    /// The BFD sessions' generation (0 without BFD).
    fn bfd_generation(&self) -> u64 {
        self.bfd.as_ref().map_or(0, |board| board.borrow().generation)
    }

    /// Write the metrics of `view` now.
    fn write(&mut self, view: &View<'_>) {
        self.pending = false;
        self.shown = view.services().map(Shown::of).collect();
        self.bfd_shown = self.bfd_generation();
        let text = render(view, self.bfd.as_ref());
        self.written_at = Some(Instant::now());
        match replace(&self.path, &self.temp, text.as_bytes()) {
            Ok(()) => {
                if self.failing {
                    log::info!("--metrics-file {}: written again", self.path.display());
                    self.failing = false;
                }
            }
            Err(err) => {
                let message = format!("--metrics-file {}: failed to write: {err:#}", self.path.display());
                if self.failing {
                    log::debug!("{message}");
                } else {
                    log::error!("{message}; tried again at the next change");
                    self.failing = true;
                }
                let _ = std::fs::remove_file(&self.temp);
            }
        }
    }
}

/// Replace `path` with `bytes` atomically for a reader: through `temp`, then renamed (not
/// flushed to disk: see the module's documentation).
fn replace(path: &Path, temp: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut file = std::fs::File::create(temp).with_context(|| format!("failed to create {}", temp.display()))?;
    file.write_all(bytes).with_context(|| format!("failed to write {}", temp.display()))?;
    drop(file);
    std::fs::rename(temp, path).with_context(|| format!("failed to rename {} to {}", temp.display(), path.display()))
}

impl Endpoint for MetricsFile {
    fn poll_fds<'a>(&'a self, _fds: &mut Vec<PollFd<'a>>) {}

    fn deadline(&self) -> Option<Instant> {
        self.written_at.map(|at| at + MIN_GAP).filter(|_| self.pending && !self.settling)
    }

    fn advance(&mut self, _ready: Ready, view: &View<'_>, _asks: &mut Vec<Request>) {
        if self.seen != Some(view.generation()) {
            self.seen = Some(view.generation());
            self.pending = true;
        }
        let bfd_changed = self.bfd_generation() != self.bfd_shown;
        self.pending |= bfd_changed;
        if !self.pending {
            return;
        }
        self.settling = view.services().any(Service::settling);
        if self.settling {
            // Its lines are not out yet: the wake-up that writes them (a generation later)
            // brings us back.
            return;
        }
        let coalesced = self.written_at.is_some_and(|at| at.elapsed() < MIN_GAP);
        if coalesced && !bfd_changed && !transition(&self.shown, view) {
            // The deadline brings us back.
            return;
        }
        self.write(view);
    }

    fn finish(&mut self, view: &View<'_>) {
        self.write(view);
    }

    fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ehc-metrics-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replace_leaves_the_new_text_and_no_temporary_file() {
        let dir = scratch("replace");
        let file = MetricsFile::new(dir.join("m.prom"), None);
        assert_eq!(file.temp, dir.join(".m.prom.tmp"));
        replace(&file.path, &file.temp, b"a 1\n").unwrap();
        replace(&file.path, &file.temp, b"a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "a 2\n");
        assert!(!file.temp.exists());
        let gone = MetricsFile::new(dir.join("gone/m.prom"), None);
        let err = replace(&gone.path, &gone.temp, b"a 1\n").unwrap_err();
        assert!(format!("{err:#}").starts_with("failed to create "), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
