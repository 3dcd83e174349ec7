//! The binary as it ships (`contrib/build-release.sh`: release profile, linked statically):
//! it is static, it runs as a plugin, and `--user`/`--group` work without the C library's NSS
//! (a static glibc crashes in it: src/accounts.rs).

mod common;

use common::{procfs, Plugin, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Built once for this test binary: its path, and what the script wrote on stderr.
fn build() -> &'static (PathBuf, String) {
    static BUILT: OnceLock<(PathBuf, String)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/build-release.sh");
        let out = Command::new(&script).output().expect("run contrib/build-release.sh");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "contrib/build-release.sh failed:\n{stderr}");
        let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert!(path.is_file(), "{} was not built", path.display());
        (path, stderr)
    })
}

fn shipped() -> &'static Path {
    &build().0
}

/// The ELF program header types of `binary` (64-bit little-endian, as x86_64 and aarch64 are).
fn program_headers(binary: &Path) -> Vec<u32> {
    let elf = std::fs::read(binary).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit");
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let (offset, size, count) = (u64_at(0x20) as usize, u16_at(0x36) as usize, u16_at(0x38) as usize);
    (0..count).map(|i| u32::from_le_bytes(elf[offset + i * size..][..4].try_into().unwrap())).collect()
}

#[test]
fn the_shipped_binary_is_static_and_maps_no_shared_library() {
    const PT_INTERP: u32 = 3;
    const PT_DYNAMIC: u32 = 2;
    let binary = shipped();
    let headers = program_headers(binary);
    assert!(!headers.contains(&PT_INTERP), "it asks for a dynamic loader: {headers:?}");

    let mut plugin = Plugin::start_with(Command::new(binary).args([
        "--no-syslog",
        "--no-ip-setup",
        "--ip",
        "192.0.2.1",
        "--interval",
        "0.05",
        "--check",
        "tcp://127.0.0.1:9",
    ]));
    assert!(plugin.wait_lines(1, Duration::from_secs(10)), "no line: {}", plugin.stderr());
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", plugin.child.id())).unwrap();
    assert!(!maps.contains(".so"), "a shared library is mapped:\n{maps}");
    let rss = procfs::status_kb(plugin.child.id(), "VmRSS").unwrap();
    assert_eq!(plugin.stop(), Some(0), "{}", plugin.stderr());
    // Not a timed or sized assertion on purpose: the benchmark measures memory. This only
    // shows what the run had, for the log.
    eprintln!("VmRSS of the shipped binary: {rss} kB; program headers {headers:?} (PT_DYNAMIC {PT_DYNAMIC} is static-pie's own)");
    assert_eq!(plugin.lines()[0], "announce route 192.0.2.1/32 next-hop self med 1000", "tcp://127.0.0.1:9 is closed");
}

#[test]
fn the_shipped_binary_switches_to_a_user_and_group_by_name() {
    assert!(nix::unistd::geteuid().is_root(), "this test switches users: run it as root");
    let scratch = Scratch::new("release-user");
    std::fs::set_permissions(&scratch.path, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let id = scratch.file("id");
    let hook = format!("id > {}", id.display());
    let out = Command::new(shipped())
        .args(["--dry-run", "--no-syslog", "--interval", "0", "--ip", "192.0.2.1", "--user", "nobody"])
        .args(["--group", "nogroup", "--execute", &hook])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = std::fs::read_to_string(&id).unwrap();
    assert!(seen.starts_with("uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"), "{seen}");

    // A name that is nowhere: a usage error, as the reference's, never a crash.
    for (flag, name) in [("--user", "no-such-user-ehc"), ("--group", "no-such-group-ehc")] {
        let out = Command::new(shipped()).args(["--dry-run", "--interval", "0", flag, name]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(flag), "{stderr}");
    }
}

/// contrib/hot-symbols.txt names the functions the loop runs, for lld to place side by side (one
/// service's resident memory ~1.8 MB instead of ~2.9 MB: docs/performance.md). Its names carry
/// hashes that change with the toolchain and the code, and lld skips those it no longer finds
/// without failing: here, at least four fifths of them must be in the link's map, and
/// contrib/build-release.sh must have warned exactly when they are not.
#[test]
fn the_hot_symbol_list_names_functions_the_binary_still_has() {
    let (binary, stderr) = build();
    if !cfg!(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")) {
        eprintln!("the list is only used on x86_64-unknown-linux-gnu");
        return;
    }
    let map = binary.with_extension("map");
    let map = std::fs::read_to_string(&map).unwrap_or_else(|e| panic!("{}: {e}", map.display()));
    let have: std::collections::HashSet<&str> = map.lines().filter_map(|line| line.split_whitespace().last()).collect();
    let list = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/hot-symbols.txt")).unwrap();
    let names: Vec<&str> = list.lines().filter(|line| !line.trim().is_empty()).collect();
    let missing: Vec<&str> = names.iter().copied().filter(|name| !have.contains(name)).collect();
    let stale = missing.len() * 5 > names.len();
    eprintln!("contrib/hot-symbols.txt: {} of {} functions not found", missing.len(), names.len());
    assert!(
        !stale,
        "contrib/hot-symbols.txt is stale: {} of {} functions are not in the binary (the toolchain or the code \
         changed their names), which costs about 1 MB of resident memory a service; regenerate it with \
         contrib/hot-symbols.sh (needs valgrind, curl, python3) and commit it. Not found, the first ten: {:#?}",
        missing.len(),
        names.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(
        stderr.contains("contrib/hot-symbols.txt is stale"),
        stale,
        "contrib/build-release.sh's warning:\n{stderr}"
    );
}
