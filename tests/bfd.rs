//! BFD's flags as the binary refuses them: exit status 2 and one line on stderr naming the
//! flag (and the `--config` line); port 3784 taken by another plugin in the same network
//! namespace (one the test creates): exit 2 saying so. The sessions themselves are
//! `src/bfd`'s tests and `tests/e2e_bfd.rs`.

mod common;

use common::netns::Netns;
use common::{wait_for, Scratch, BIN};
use std::process::Command;
use std::process::Stdio;
use std::time::{Duration, Instant};

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
    // BFD's timers without a peer ask for nothing that could run: refused, not ignored.
    refused(
        &dir,
        &["--ip", "192.0.2.1", "--bfd-interval", "100ms"],
        "--bfd-interval 100ms: needs --bfd (a router to time)",
    );
    refused(
        &dir,
        &["--ip", "192.0.2.1", "--bfd-multiplier", "5"],
        "--bfd-multiplier 5: needs --bfd (a router to time)",
    );
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
    let a = dir.write("a.conf", "ip = 192.0.2.9\nbfd-multiplier = 5\n");
    refused(&dir, &["--config", a.to_str().unwrap()], "D/a.conf:2: --bfd-multiplier 5: needs --bfd (a router to time)");
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

/// The exit path waits up to a second for ExaBGP to take the withdraws; BFD's packets go on
/// meanwhile, so that no router times the node out before its AdminDown. Two plugins in two
/// namespaces the test creates, joined by a veth pair, speak BFD with each other at 100 ms x 3.
/// lb's ExaBGP never reads: its stdout is a pipe of one page that its 200 announces fill, so
/// its withdraws wait the whole second. The router (the other plugin) must see an AdminDown,
/// not a silence (`control detection time expired` after 300 ms).
#[test]
fn bfd_goes_on_while_the_exit_waits_for_exabgp_and_ends_with_admin_down() {
    common::lab::needs(&[]);
    let (lb, router) = (Netns::new("bfd-exit-lb"), Netns::new("bfd-exit-router"));
    let veth = format!("ehc-bx{}", std::process::id() % 100_000);
    lb.ip(&["link", "add", &veth, "type", "veth", "peer", "name", "uplink", "netns", &router.name]);
    lb.ip(&["link", "set", &veth, "name", "uplink"]);
    for (ns, addr) in [(&lb, "10.97.0.2/24"), (&router, "10.97.0.1/24")] {
        ns.ip(&["address", "add", addr, "dev", "uplink"]);
        ns.ip(&["link", "set", "uplink", "up"]);
    }
    let dir = Scratch::new("bfd-exit");
    let bfd = |peer: &'static str| ["--bfd", peer, "--bfd-interval", "100ms", "--no-ip-setup"];
    let peer = router.plugin(
        &[&["--no-syslog", "--dry-run", "--interval", "1", "--ip", "192.0.2.1"][..], &bfd("10.97.0.2")].concat(),
    );

    let (reader, writer) = std::io::pipe().expect("a pipe");
    nix::fcntl::fcntl(&writer, nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096)).expect("a one-page pipe");
    let ips: Vec<String> = (0..200).map(|n| format!("192.0.{}.{}/32", 2 + n / 100, n % 100 + 1)).collect();
    let mut args = vec!["--no-syslog", "--interval", "1", "--rise", "1"];
    args.extend(ips.iter().flat_map(|ip| ["--ip", ip.as_str()]));
    args.extend(bfd("10.97.0.1"));
    let log = dir.file("lb.log");
    let mut command = lb.command(&args);
    let stderr = std::fs::File::create(&log).unwrap();
    let mut child = command.stdin(Stdio::piped()).stdout(writer).stderr(stderr).spawn().expect("start the plugin");
    let limit = Duration::from_secs(10);
    let up = |text: &str| text.contains("BFD 10.97.0.2: Init -> Up") || text.contains("BFD 10.97.0.2: Down -> Up");
    assert!(wait_for(limit, || up(&peer.stderr())), "{}", peer.stderr());
    assert!(wait_for(limit, || dir.read("lb.log").contains("INIT -> UP")), "{}", dir.read("lb.log"));
    std::thread::sleep(Duration::from_millis(300));

    let asked = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let exited = wait_for(limit, || child.try_wait().ok().flatten().is_some());
    let took = asked.elapsed();
    drop(reader);
    let _ = child.kill();
    let _ = child.wait();
    let lb_log = dir.read("lb.log");
    assert!(exited, "the plugin did not exit\n{lb_log}");
    assert!(lb_log.contains("ExaBGP did not take the withdraws within 1000 ms"), "the premise\n{lb_log}");
    assert!(took >= Duration::from_millis(1000), "the exit did not wait ({took:?})\n{lb_log}");
    assert!(lb_log.contains("BFD 10.97.0.1: Up -> AdminDown (administratively down)"), "{lb_log}");
    let router_log = peer.stderr();
    assert!(!router_log.contains("detection time expired"), "BFD fell silent during the exit\n{router_log}");
    assert!(router_log.contains("BFD 10.97.0.2: Up -> Down (neighbor signaled session down)"), "{router_log}");
}
