//! A scratch directory for unit tests: its own under the temporary directory, removed with
//! everything in it when dropped, a failing test's too (the drop runs as the panic unwinds).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A new empty directory `PREFIX-PID-N` (one of its own for each, so tests running at the
    /// same time never share one).
    pub fn new(prefix: &str) -> Scratch {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let n = MADE.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` under it.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_removed_with_what_it_holds_even_when_the_test_panics() {
        let (a, b) = (Scratch::new("ehc-scratch"), Scratch::new("ehc-scratch"));
        assert_ne!(a.path(), b.path());
        std::fs::write(a.join("file"), "x").unwrap();
        let kept = a.path().to_owned();
        drop(a);
        assert!(!kept.exists());
        let inside = std::sync::Mutex::new(PathBuf::new());
        let result = std::panic::catch_unwind(|| {
            let scratch = Scratch::new("ehc-scratch");
            std::fs::create_dir(scratch.join("sub")).unwrap();
            std::fs::write(scratch.join("sub/file"), "x").unwrap();
            *inside.lock().unwrap() = scratch.path().to_owned();
            panic!("a failing test");
        });
        assert!(result.is_err());
        let inside = inside.into_inner().unwrap();
        assert!(!inside.as_os_str().is_empty() && !inside.exists(), "{}", inside.display());
        assert!(b.path().exists());
    }
}
