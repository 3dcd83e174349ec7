//! Service sections in `--config` files, several files and directories, as the binary refuses
//! them: exit status 2 and one line on stderr naming the file and line (issue 12). Running
//! several services is the runtime's, tested with it.

mod common;

use common::{exited_within, Collected, Scratch, BIN};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Run with `args` (and `--dry-run`, so that nothing would touch an address): the exit status
/// and stderr, the scratch directory's path written `D`.
fn run(dir: &Scratch, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).args(args).arg("--dry-run").output().expect("run the binary");
    assert!(out.stdout.is_empty(), "stdout: {:?}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir.path.display().to_string(), "D");
    (out.status.code(), stderr)
}

fn refused(dir: &Scratch, args: &[&str], message: &str) {
    assert_eq!(run(dir, args), (Some(2), format!("error: {message}\n")), "{args:?}");
}

#[test]
fn a_broken_or_duplicate_section_name_is_refused() {
    let dir = Scratch::new("sections-names");
    let a = dir.write("a.conf", "interval = 2\n[web]\nip = 192.0.2.1\n[bad/name]\n");
    refused(
        &dir,
        &["--config", a.to_str().unwrap()],
        "D/a.conf:4: '[bad/name]': a section name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'",
    );
    let a = dir.write("a.conf", "[web\n");
    refused(&dir, &["--config", a.to_str().unwrap()], "D/a.conf:1: '[web' is not a section header (expected '[NAME]')");
    let a = dir.write("a.conf", "[web]\nip = 192.0.2.1\n");
    let b = dir.write("b.conf", "# b\n\n[web]\nip = 192.0.2.2\n");
    refused(
        &dir,
        &["--config", a.to_str().unwrap(), "--config", b.to_str().unwrap()],
        "D/b.conf:3: section [web] is already defined at D/a.conf:1; a service name is unique over all files",
    );
}

#[test]
fn a_process_wide_option_inside_a_section_is_refused() {
    let dir = Scratch::new("sections-process");
    for (line, option) in
        [("no-sys", "no-syslog"), ("debug", "debug"), ("api-version = 6", "api-version"), ("once", "once")]
    {
        let a = dir.write("a.conf", &format!("[web]\nip = 192.0.2.1\n{line}\n"));
        refused(
            &dir,
            &["--config", a.to_str().unwrap()],
            &format!(
                "D/a.conf:3: '{option}' is process-wide: it cannot be used inside section [web] (give it before \
                 the first section or on the command line)"
            ),
        );
    }
}

#[test]
fn two_files_giving_a_process_wide_option_two_values_are_refused() {
    let dir = Scratch::new("sections-agree");
    let a = dir.write("a.conf", "syslog-facility = local1\n[a]\nip = 192.0.2.1\n");
    let b = dir.write("b.conf", "syslog-facility = local2\n[b]\nip = 192.0.2.2\n");
    refused(
        &dir,
        &["--config", a.to_str().unwrap(), "--config", b.to_str().unwrap()],
        "D/b.conf:1: --syslog-facility local2: D/a.conf:1 gives it local1; a process-wide option takes one value \
         in all files",
    );
}

#[test]
fn directories_and_files_named_after_their_service() {
    let dir = Scratch::new("sections-dir");
    std::fs::create_dir(dir.file("d")).unwrap();
    let d = dir.file("d");
    refused(&dir, &["--config", d.to_str().unwrap()], "--config D/d: the directory holds no *.conf file");
    dir.write("d/web.conf", "ip = 192.0.2.1\n");
    dir.write("d/web.conf.bak", "bogus\n");
    dir.write("d/x.conf", "[web]\nip = 192.0.2.2\n");
    refused(
        &dir,
        &["--config", d.to_str().unwrap()],
        "D/d/x.conf:1: section [web] is already defined at D/d/web.conf; a service name is unique over all files",
    );
    std::fs::remove_file(dir.file("d/x.conf")).unwrap();
    dir.write("d/no good.conf", "ip = 192.0.2.3\n");
    refused(
        &dir,
        &["--config", d.to_str().unwrap()],
        "--config D/d/no good.conf: a file without sections is a service named after the file, and \"no good\" is \
         not a service name (1 to 64 of A-Z, a-z, 0-9, '.', '_', '-')",
    );
}

#[test]
fn an_address_of_two_services_is_refused() {
    let dir = Scratch::new("sections-shared");
    let a = dir.write("a.conf", "[web]\nip = 192.0.2.0/29\n[dns]\nip = 192.0.2.5\n");
    refused(
        &dir,
        &["--config", a.to_str().unwrap()],
        "D/a.conf:4: --ip 192.0.2.5: 192.0.2.5 is in service [dns] and in service [web] (--ip 192.0.2.0/29 at \
         D/a.conf:2); an address belongs to one service",
    );
}

#[test]
fn a_bad_value_in_a_section_names_its_line() {
    let dir = Scratch::new("sections-value");
    let a = dir.write("a.conf", "rise = 2\n[web]\nip = 192.0.2.1\n[dns]\nip = 192.0.2.300\n");
    let (code, stderr) = run(&dir, &["--config", a.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("error: D/a.conf:5: --ip 192.0.2.300: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Run with `args` as [`run`] does, but for at most `limit`: a plugin still running then
/// (blocked on a file, or reading one without end) is killed and the test fails.
fn run_within(dir: &Scratch, args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--dry-run")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    let stderr = Collected::start(child.stderr.take().unwrap());
    let Some(status) = exited_within(&mut child, limit, Duration::from_millis(10)) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{args:?}: still running after {limit:?}");
    };
    assert!(stderr.ended_within(Duration::from_secs(5)));
    (status.code(), stderr.text().replace(&dir.path.display().to_string(), "D"))
}

#[test]
fn a_config_that_is_not_a_regular_file_or_is_too_large_is_refused_at_once() {
    let dir = Scratch::new("sections-special");
    let fifo = dir.file("fifo.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let limit = Duration::from_secs(3);
    let refused_within = |args: &[&str], message: &str| {
        assert_eq!(run_within(&dir, args, limit), (Some(2), format!("error: {message}\n")), "{args:?}");
    };
    refused_within(&["--config", fifo.to_str().unwrap()], "--config D/fifo.conf: not a regular file (a FIFO)");
    refused_within(&["--config", "/dev/zero"], "--config /dev/zero: not a regular file (a character device)");
    // Through a link, as a reload would find it.
    let link = dir.file("zero.conf");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    refused_within(
        &["--config", link.to_str().unwrap()],
        "--config D/zero.conf: not a regular file (a character device)",
    );
    // A sparse file of 16 MiB and one byte: read no further than that.
    let big = dir.file("big.conf");
    std::fs::File::create(&big).unwrap().set_len((16 << 20) + 1).unwrap();
    refused_within(&["--config", big.to_str().unwrap()], "--config D/big.conf: larger than 16 MiB");
    // In a directory: each `*.conf` is read as a file given alone would be.
    let d = dir.file("d");
    std::fs::create_dir(&d).unwrap();
    dir.write("d/web.conf", "ip = 192.0.2.1\n");
    nix::unistd::mkfifo(&dir.file("d/x.conf"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    refused_within(&["--config", d.to_str().unwrap()], "--config D/d: D/d/x.conf: not a regular file (a FIFO)");
}
