//! Operating-system chores at the edges: the pid file, dropping privileges, what kind of file
//! our stdin is, reading a file with bounds, random numbers. No `unsafe` here either (capabilities go through the `caps`
//! crate).

use anyhow::{bail, Context};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Write `pid\n` to `path` atomically: a new file next to it (created exclusively, never
/// through a symbolic link), then renamed over it. A link planted at `path` is replaced, not
/// followed.
pub fn write_pid_file(path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("--pid {}: not a file name", path.display()))?;
    let temp: PathBuf = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&temp)
            .with_context(|| format!("failed to create {}", temp.display()))?;
        writeln!(file, "{}", std::process::id()).with_context(|| format!("failed to write {}", temp.display()))?;
        std::fs::rename(&temp, path)
            .with_context(|| format!("failed to rename {} to {}", temp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Remove the pid file if it still holds our pid.
pub fn remove_pid_file(path: &Path) {
    let ours = std::fs::read_to_string(path).is_ok_and(|text| text.trim() == std::process::id().to_string());
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

/// Switch to `group` and `user` for good (real, effective and saved ids; supplementary
/// groups reset). With a user and no group, the user's own group is taken: keeping root's
/// group would leave root privileges behind.
///
/// With `keep_net_admin` (the run still adds or removes addresses after start-up: the ones it
/// could not add yet, `--dynamic-ip-setup`, the ones it added at exit) and a switch from root
/// to another user, CAP_NET_ADMIN alone survives in the permitted and effective sets of the
/// main thread, which does the address work; every other capability is gone, nothing is
/// inheritable or ambient, so checks and hooks run with none. Without it (or when we never
/// held CAP_NET_ADMIN) nothing survives. Any failure is an error at start-up, never later.
pub fn drop_privileges(
    user: Option<&nix::unistd::User>,
    group: Option<&nix::unistd::Group>,
    keep_net_admin: bool,
) -> anyhow::Result<()> {
    use nix::unistd::{setgroups, setresgid, setresuid};
    let gid = group.map(|g| g.gid).or(user.map(|u| u.gid));
    if let Some(gid) = gid {
        log::debug!("Dropping privileges to group {gid}");
        if nix::unistd::geteuid().is_root() {
            setgroups(&[gid]).context("failed to reset the supplementary groups")?;
        }
        setresgid(gid, gid, gid).with_context(|| format!("failed to switch to group {gid}"))?;
    }
    let Some(user) = user else { return Ok(()) };
    let keep = keep_net_admin
        && !user.uid.is_root()
        && caps::has_cap(None, caps::CapSet::Permitted, caps::Capability::CAP_NET_ADMIN).unwrap_or(false);
    if keep {
        // Per thread: only this (the main) thread keeps its permitted set across setresuid;
        // glibc switches the other threads too, and they lose everything.
        nix::sys::prctl::set_keepcaps(true).context("failed to keep CAP_NET_ADMIN (PR_SET_KEEPCAPS)")?;
    }
    log::debug!("Dropping privileges to user {}/{}", user.name, user.uid);
    setresuid(user.uid, user.uid, user.uid).with_context(|| format!("failed to switch to user {}", user.name))?;
    if user.uid.is_root() {
        return Ok(());
    }
    if keep {
        keep_only_net_admin().context("failed to keep CAP_NET_ADMIN alone after switching user")?;
        log::debug!("kept CAP_NET_ADMIN (only) to change the service addresses as user {}", user.name);
    }
    if nix::unistd::setresuid(0.into(), 0.into(), 0.into()).is_ok() {
        bail!("still able to regain root after switching to user {}", user.name);
    }
    Ok(())
}

/// Reduce this thread's capabilities to CAP_NET_ADMIN, permitted and effective; clear the
/// inheritable and ambient sets and the keep-capabilities flag.
fn keep_only_net_admin() -> anyhow::Result<()> {
    use caps::{CapSet, Capability, CapsHashSet};
    let only: CapsHashSet = [Capability::CAP_NET_ADMIN].into_iter().collect();
    caps::set(None, CapSet::Permitted, &only).context("failed to set the permitted capabilities")?;
    caps::set(None, CapSet::Effective, &only).context("failed to set the effective capabilities")?;
    caps::clear(None, CapSet::Inheritable).context("failed to clear the inheritable capabilities")?;
    // Ambient capabilities need kernel 4.3; none is the default anyway.
    let _ = caps::clear(None, CapSet::Ambient);
    nix::sys::prctl::set_keepcaps(false).context("failed to reset PR_SET_KEEPCAPS")?;
    for set in [CapSet::Permitted, CapSet::Effective] {
        let held = caps::read(None, set).context("failed to read the capabilities back")?;
        if held != only {
            bail!("capabilities {set:?} are {held:?}, expected CAP_NET_ADMIN only");
        }
    }
    Ok(())
}

/// Whether stdin is a pipe or a socket, the way ExaBGP connects it. Only then does its end
/// mean that ExaBGP is gone.
pub fn stdin_is_a_pipe() -> bool {
    use nix::sys::stat::{fstat, SFlag};
    let stdin = std::io::stdin();
    match fstat(stdin.as_fd()) {
        Ok(stat) => {
            let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
            kind == SFlag::S_IFIFO || kind == SFlag::S_IFSOCK
        }
        Err(_) => false,
    }
}

/// The most a configuration file may hold.
pub const CONFIG_LIMIT: u64 = 16 << 20;

/// Why [`read_regular_file`] read nothing.
#[derive(Debug)]
pub enum ReadRefused {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// Not a regular file; what it is instead ("a FIFO", "a character device", ...).
    NotRegular(&'static str),
    /// More bytes than the limit.
    TooLarge,
}

/// The text of the regular file at `path` (links followed), at most `limit` bytes. Anything
/// else is refused without blocking or filling memory: the open does not wait (`O_NONBLOCK`:
/// a FIFO without a writer), the opened descriptor's type is checked (no race between a look
/// at the path and the open), and no more than `limit` + 1 bytes are read. Text that is not
/// UTF-8 is an I/O error, as `read_to_string`'s.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<String, ReadRefused> {
    use nix::fcntl::OFlag;
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let flags = OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(flags.bits()).open(path) {
        Ok(file) => file,
        // A socket cannot be opened (ENXIO): say what it is rather than why the open failed.
        Err(err) if err.raw_os_error() == Some(nix::errno::Errno::ENXIO as i32) => {
            return Err(match std::fs::metadata(path) {
                Ok(meta) if meta.file_type().is_socket() => ReadRefused::NotRegular("a socket"),
                _ => ReadRefused::Io(err),
            });
        }
        Err(err) => return Err(ReadRefused::Io(err)),
    };
    let meta = file.metadata().map_err(ReadRefused::Io)?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(ReadRefused::NotRegular(match () {
            () if kind.is_fifo() => "a FIFO",
            () if kind.is_char_device() => "a character device",
            () if kind.is_block_device() => "a block device",
            () if kind.is_socket() => "a socket",
            () if kind.is_dir() => "a directory",
            () => "not a file",
        }));
    }
    if meta.len() > limit {
        return Err(ReadRefused::TooLarge);
    }
    // The size may change under us: read one byte past the limit to see it.
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadRefused::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadRefused::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| {
        ReadRefused::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
    })
}

/// Raise the soft limit on open descriptors to the hard one (several services hold a pidfd
/// and a pipe for each check in flight); the new soft limit. Children inherit it.
pub fn raise_descriptor_limit() -> std::io::Result<Option<u64>> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return Ok(limit.current);
    }
    setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum })?;
    Ok(limit.maximum)
}

/// A random number, not guessable from outside (the DNS check's query ids, `--splay`): the
/// clock, the pid and a counter through std's randomly keyed SipHash (its keys come from the
/// OS), without a `rand` crate.
pub fn random() -> u64 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    std::collections::hash_map::RandomState::new().hash_one((
        now.as_nanos(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_numbers_differ_from_call_to_call() {
        let numbers: std::collections::HashSet<u64> = (0..64).map(|_| random()).collect();
        assert_eq!(numbers.len(), 64);
        // Every bit varies, the low 16 a query id takes among them.
        let (ones, zeros) = (0..64).map(|_| random()).fold((0u64, 0u64), |(o, z), n| (o | n, z | !n));
        assert_eq!((ones, zeros), (u64::MAX, u64::MAX));
    }

    #[test]
    fn pid_file_is_written_and_replaces_a_planted_link() {
        let dir = std::env::temp_dir().join(format!("ehc-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("victim");
        std::fs::write(&target, "precious").unwrap();
        let pid = dir.join("hc.pid");
        std::os::unix::fs::symlink(&target, &pid).unwrap();
        write_pid_file(&pid).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&pid).unwrap(), format!("{}\n", std::process::id()));
        assert!(!std::fs::symlink_metadata(&pid).unwrap().file_type().is_symlink());
        remove_pid_file(&pid);
        assert!(!pid.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pid_file_in_a_missing_directory_is_an_error() {
        let err = write_pid_file(Path::new("/nonexistent-dir/hc.pid")).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent-dir"), "{err:#}");
    }

    #[test]
    fn the_descriptor_limit_is_raised_to_the_hard_one() {
        use rustix::process::{getrlimit, Resource};
        let hard = getrlimit(Resource::Nofile).maximum;
        assert_eq!(raise_descriptor_limit().unwrap(), hard);
        assert_eq!(getrlimit(Resource::Nofile).current, hard);
    }

    #[test]
    fn a_file_is_read_with_bounds_and_only_when_regular() {
        let dir = std::env::temp_dir().join(format!("ehc-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.conf");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), "12345");
        assert!(matches!(read_regular_file(&path, 4), Err(ReadRefused::TooLarge)));
        std::fs::write(&path, b"\xff").unwrap();
        let Err(ReadRefused::Io(err)) = read_regular_file(&path, 5) else { panic!() };
        assert_eq!(err.to_string(), "stream did not contain valid UTF-8");
        std::fs::remove_file(&path).unwrap();
        assert!(
            matches!(read_regular_file(&path, 5), Err(ReadRefused::Io(e)) if e.kind() == std::io::ErrorKind::NotFound)
        );
        // A FIFO without a writer: refused at once, not waited on.
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(matches!(read_regular_file(&path, 5), Err(ReadRefused::NotRegular("a FIFO"))));
        std::fs::remove_file(&path).unwrap();
        let socket = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert!(matches!(read_regular_file(&path, 5), Err(ReadRefused::NotRegular("a socket"))));
        drop(socket);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        assert!(matches!(read_regular_file(&path, 5), Err(ReadRefused::NotRegular("a character device"))));
        assert!(matches!(read_regular_file(&dir, 5), Err(ReadRefused::NotRegular("a directory"))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn someone_elses_pid_file_is_left_alone() {
        let dir = std::env::temp_dir().join(format!("ehc-pid2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid = dir.join("other.pid");
        std::fs::write(&pid, "1\n").unwrap();
        remove_pid_file(&pid);
        assert!(pid.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
