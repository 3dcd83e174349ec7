//! BFD's flags as the binary refuses them: exit status 2 and one line on stderr naming the
//! flag (and the `--config` line); port 3784 taken by another plugin in the same network
//! namespace (one the test creates): exit 2 saying so. The sessions themselves are
//! `src/bfd`'s tests and `tests/e2e_bfd.rs`.

mod common;

use common::netns::Netns;
use common::{wait_for, Scratch, BIN};
use std::process::Command;
use std::time::Duration;

/// Run with `args` and `--dry-run`: the exit status and stderr, the scratch path written `D`.
fn run(dir: &Scratch, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).args(args).arg("--dry-run").output().expect("run the binary");
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir.path.display().to_string(), "D");
    (out.status.code(), stderr)
}

fn refused(dir: &Scratch, args: &[&str], message: &str) {
    assert_eq!(run(dir, args), (Some(2), format!("error: {message}\n")), "{args:?}");
}

#[test]
fn bad_bfd_values_are_refused_naming_their_flag() {
    let dir = Scratch::new("bfd-values");
    refused(&dir, &["--bfd", "example.com"], "--bfd example.com: not an IP address (a router's address, not its name)");
    refused(
        &dir,
        &["--bfd", "10.0.0.1", "--bfd-local", "2001:db8::1"],
        "--bfd-local 2001:db8::1: no --bfd peer is IPv6",
    );
    refused(&dir, &["--bfd", "10.0.0.1", "--bfd-interval", "5ms"], "--bfd-interval 5ms: must be between 10ms and 10s");
    refused(&dir, &["--bfd", "10.0.0.1", "--bfd-multiplier", "0"], "--bfd-multiplier 0: must be between 1 and 255");
    refused(&dir, &["--bfd", "fe80::1"], "--bfd fe80::1: a link-local address needs its interface: fe80::1%IFNAME");
}

#[test]
fn bfd_inside_a_section_is_refused_with_its_line() {
    let dir = Scratch::new("bfd-section");
    let a = dir.write("a.conf", "bfd = 10.0.0.1\n[web]\nip = 192.0.2.1\nbfd = 10.0.0.2\n");
    refused(
        &dir,
        &["--config", a.to_str().unwrap()],
        "D/a.conf:4: 'bfd' is process-wide: it cannot be used inside section [web] (give it before the first \
         section or on the command line)",
    );
    let a = dir.write("a.conf", "bfd = 10.0.0.1\nbfd-interval = 1ms\n[web]\nip = 192.0.2.1\n");
    refused(&dir, &["--config", a.to_str().unwrap()], "D/a.conf:2: --bfd-interval 1ms: must be between 10ms and 10s");
}

#[test]
fn port_3784_taken_is_refused_saying_so() {
    common::lab::needs(&[]);
    let ns = Netns::new("bfd-port");
    let args = ["--no-syslog", "--dry-run", "--interval", "1", "--ip", "192.0.2.1/32", "--bfd", "127.0.0.1"];
    let first = ns.plugin(&args);
    assert!(wait_for(Duration::from_secs(10), || first.stderr().contains("BFD 127.0.0.1: from")), "{}", first.stderr());
    let second = ns.command(&args).output().expect("run the second plugin");
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&second.stderr),
        "error: --bfd: port 3784 is taken: FRR's bfdd or another plugin speaks BFD on this host\n"
    );
    drop(first);
}
