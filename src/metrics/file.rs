//! `--metrics-file PATH`: the metrics written to a file for node_exporter's textfile collector,
//! replaced atomically after every check and transition: written to `.NAME.tmp` in the same
//! folder (a name the collector does not read, as it does not end in `.prom`), flushed to disk
//! (`fsync`), then renamed over PATH, so that a reader sees the old file or the new one, never
//! a part. Writes come at most every [`MIN_GAP`] (with a thousand services a write is
//! megabytes); the last state is written at the exit.
//!
//! A folder that does not exist is refused at start-up ([`check`]); a write that fails later
//! (a full disk, a folder removed) is logged and tried again at the next change, never fatal.

use super::{render, Endpoint};
use crate::error::UsageError;
use crate::poll::Ready;
use crate::runtime::endpoint::{Request, View};
use nix::poll::PollFd;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The shortest time between two writes.
pub const MIN_GAP: Duration = Duration::from_millis(250);

/// `--metrics-file PATH` checked at start-up: a file name in a folder that exists.
pub fn check(path: &Path) -> Result<PathBuf, UsageError> {
    let refuse = |why: String| UsageError::value("--metrics-file", path.display(), why);
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(refuse("not a file name".to_owned()));
    }
    let folder = folder_of(path);
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(refuse(format!("{} is not a folder", folder.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(format!("the folder {} does not exist", folder.display())))
        }
        Err(err) => return Err(refuse(format!("cannot use the folder {}: {err}", folder.display()))),
    }
    if std::fs::metadata(path).is_ok_and(|meta| meta.is_dir()) {
        return Err(refuse("is a folder".to_owned()));
    }
    Ok(path.to_path_buf())
}

/// The folder `path` is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

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
}

impl MetricsFile {
    /// Keep `path` (checked by [`check`]) up to date; nothing is written until the first
    /// look at the services.
    pub fn new(path: PathBuf) -> MetricsFile {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = folder_of(&path).join(format!(".{name}.tmp"));
        MetricsFile { path, temp, seen: None, pending: false, written_at: None, failing: false }
    }

    /// Write the metrics of `view` now.
    fn write(&mut self, view: &View<'_>) {
        self.pending = false;
        let text = render(view);
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

/// Replace `path` with `bytes` atomically: through `temp`, flushed to disk, then renamed.
fn replace(path: &Path, temp: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut file = std::fs::File::create(temp).with_context(|| format!("failed to create {}", temp.display()))?;
    file.write_all(bytes).with_context(|| format!("failed to write {}", temp.display()))?;
    file.sync_all().with_context(|| format!("failed to flush {} to disk", temp.display()))?;
    drop(file);
    std::fs::rename(temp, path).with_context(|| format!("failed to rename {} to {}", temp.display(), path.display()))
}

impl Endpoint for MetricsFile {
    fn poll_fds<'a>(&'a self, _fds: &mut Vec<PollFd<'a>>) {}

    fn deadline(&self) -> Option<Instant> {
        self.written_at.map(|at| at + MIN_GAP).filter(|_| self.pending)
    }

    fn advance(&mut self, _ready: Ready, view: &View<'_>, _asks: &mut Vec<Request>) {
        if self.seen != Some(view.generation()) {
            self.seen = Some(view.generation());
            self.pending = true;
        }
        if !self.pending {
            return;
        }
        if self.written_at.is_some_and(|at| at.elapsed() < MIN_GAP) {
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
    fn a_file_in_a_missing_folder_or_a_folder_is_refused() {
        let dir = scratch("check");
        let good = dir.join("exabgp.prom");
        assert_eq!(check(&good).unwrap(), good);
        let missing = dir.join("nowhere/exabgp.prom");
        assert_eq!(
            check(&missing).unwrap_err().to_string(),
            format!(
                "--metrics-file {}: the folder {} does not exist",
                missing.display(),
                dir.join("nowhere").display()
            )
        );
        assert_eq!(check(&dir).unwrap_err().to_string(), format!("--metrics-file {}: is a folder", dir.display()));
        let file = dir.join("plain");
        std::fs::write(&file, "").unwrap();
        let under = file.join("x.prom");
        assert!(check(&under).unwrap_err().to_string().ends_with(&format!("{} is not a folder", file.display())));
        assert!(check(Path::new("bare.prom")).is_ok(), "the current folder");
        assert!(check(Path::new("/")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replace_leaves_the_new_text_and_no_temporary_file() {
        let dir = scratch("replace");
        let file = MetricsFile::new(dir.join("m.prom"));
        assert_eq!(file.temp, dir.join(".m.prom.tmp"));
        replace(&file.path, &file.temp, b"a 1\n").unwrap();
        replace(&file.path, &file.temp, b"a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "a 2\n");
        assert!(!file.temp.exists());
        let gone = MetricsFile::new(dir.join("gone/m.prom"));
        let err = replace(&gone.path, &gone.temp, b"a 1\n").unwrap_err();
        assert!(format!("{err:#}").starts_with("failed to create "), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
