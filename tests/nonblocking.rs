//! The reactor never waits for address work: with `--sudo` and a `sudo` that hangs (a slow PAM
//! module, an LDAP lookup, a hung `ip`), only the service whose address is being set up waits
//! for it. Another service of the same process keeps its schedule, the control socket answers,
//! and SIGTERM ends the run at once, the hung `sudo` killed with its process group. In a network
//! namespace the test creates, with a fake `sudo` first in `PATH`. Needs root.

mod common;

use common::netns::Netns;
use common::{read_pid, wait_for, Plugin, Scratch, BIN};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether process `pid` is gone (or a zombie nobody reaped yet: it runs nothing).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_hung_sudo_holds_up_only_the_service_whose_address_it_sets_up() {
    assert!(nix::unistd::Uid::effective().is_root(), "needs root (network namespaces)");
    let ns = Netns::new("hang");
    let dir = Scratch::new("hang");
    let d = dir.path.display();
    std::fs::create_dir(dir.file("bin")).unwrap();
    // Hangs 8 s, as a slow PAM module would, with a child in its process group.
    let sudo = dir.write(
        "bin/sudo",
        &format!("#!/bin/sh\necho $$ > {d}/sudo.pid\nsleep 8 &\necho $! > {d}/sleep.pid\nwait\nexit 0\n"),
    );
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.write(
        "healthcheck.conf",
        &format!(
            "no-syslog\nrise = 1\ninterval = 0.1\nfast-interval = 0.1\n\
             [slow]\nip = 192.0.2.50\n\
             [quick]\nip = 192.0.2.51\nno-ip-setup\ncommand = date +%s%N >> {d}/quick.times\n"
        ),
    );
    let socket = dir.file("ctl.sock");
    let path = format!("PATH={}:{}", dir.file("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut plugin = Plugin::start_with(ns.exec(&["env", &path, BIN]).args([
        "--sudo",
        "--config",
        config.to_str().unwrap(),
        "--control-socket",
        socket.to_str().unwrap(),
    ]));
    let sudo_pid = read_pid(&dir.file("sudo.pid"), Duration::from_secs(10));
    let sleep_pid = read_pid(&dir.file("sleep.pid"), Duration::from_secs(10));

    // Two seconds of the quick service's checks while sudo hangs.
    let since = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let times: Vec<u128> = dir.read("quick.times").lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert!(times.len() >= 15, "only {} checks of the quick service: {}", times.len(), plugin.stderr());
    let gaps: Vec<u128> = times.windows(2).map(|w| (w[1] - w[0]) / 1_000_000).collect();
    let largest = gaps.iter().max().copied().unwrap_or(0);
    assert!(largest < 300, "the quick service waited {largest} ms between two checks: {gaps:?}");
    assert!(!gone(sudo_pid), "sudo is still hanging (the test's premise)");
    assert!(plugin.lines().contains(&"announce route 192.0.2.51/32 next-hop self med 100".to_owned()));
    assert!(!plugin.lines().iter().any(|l| l.starts_with("announce route 192.0.2.50/32")), "not set up yet");

    // The control socket answers.
    let asked = Instant::now();
    let status = Command::new(BIN).args(["ctl", "--socket", socket.to_str().unwrap(), "status"]).output().unwrap();
    let took = asked.elapsed();
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{shown}{}", String::from_utf8_lossy(&status.stderr));
    assert!(took < Duration::from_millis(500), "ctl status took {took:?}");
    assert!(shown.contains("quick") && shown.contains("UP"), "{shown}");

    // SIGTERM: out at once, the hung sudo and its child killed.
    assert!(since.elapsed() < Duration::from_secs(7), "the test itself was too slow to prove anything");
    let asked = Instant::now();
    plugin.signal(15);
    assert_eq!(plugin.wait_exit(Duration::from_secs(10)), Some(0), "{}", plugin.stderr());
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?}");
    assert!(wait_for(Duration::from_secs(2), || gone(sudo_pid) && gone(sleep_pid)), "sudo or its child left");
    assert!(plugin.lines().contains(&"withdraw route 192.0.2.51/32 next-hop self".to_owned()));
    assert!(!ns.has("192.0.2.50/32"));
}
