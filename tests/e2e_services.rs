//! End to end with several services in one plugin: real ExaBGP (4.2.25 and 5.0.15) on a load
//! balancer peering with a real BIRD 2, in network namespaces these tests create. One plugin
//! (one `process` stanza) reads a `--config` file with a `[web]` and a `[dns]` section. The
//! scenarios, on the router's own table:
//! 1. both services healthy: both routes, MED 100;
//! 2. dns's check fails: only dns's route moves (MED 1000), web's stays at 100;
//! 3. dns recovers; a third section `[ntp]` is added to the file and the plugin gets SIGHUP: the
//!    router learns ntp's route, web's and dns's stay, and the BGP session is not reset (BIRD's
//!    "since" time of the session does not change; ExaBGP was not restarted);
//! 4. ExaBGP gets SIGTERM: every route goes, and the plugin exits.
//!
//! Needs root, `ip`, BIRD 2 and the ExaBGP virtualenvs (`contrib/run-tests.sh` makes them).
//! The lab (tests/common/lab.rs: the router, one load balancer) keeps traffic inside its
//! namespaces. Every wait is bounded; the namespaces and every process started are removed (by
//! PID) when a test ends.

mod common;

use common::lab::{self, Lab, RouterKind, Speaker};
use common::procfs::alive;
use common::{exabgp, read_pid, wait_for, Scratch, BIN};
use nix::sys::signal::Signal;
use std::fs;
use std::time::Duration;

const WEB: &str = "37.72.160.20/32";
const DNS: &str = "37.72.160.53/32";
const NTP: &str = "37.72.160.123/32";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn exabgp_5_0_two_services_then_a_third_by_reload() {
    run(exabgp::V5);
}

#[test]
fn exabgp_4_2_two_services_then_a_third_by_reload() {
    run(exabgp::V4);
}

impl Lab {
    /// Wait until the router has these MEDs for web, dns and ntp (None: no route).
    fn expect(&self, what: &str, want: [Option<u32>; 3]) {
        let seen = || [WEB, DNS, NTP].map(|net| self.med(net, 1));
        assert!(wait_for(WAIT, || seen() == want), "{what}: wanted {want:?}, the router has {:?}", seen());
    }

    /// BIRD's line for the session with the load balancer (its state and since when).
    fn session(&self) -> String {
        let text = self.bird().birdc(&["show", "protocols"]).unwrap_or_default();
        text.lines().find(|l| l.starts_with("lb1")).unwrap_or_default().to_owned()
    }
}

fn section(name: &str, net: &str, dir: &Scratch) -> String {
    let healthy = dir.file(&format!("{name}.healthy"));
    format!("[{name}]\nip = {net}\ncommand = test -e {}\n", healthy.display())
}

fn run(version: &str) {
    lab::preflight(version, RouterKind::Bird, &[]);
    let mut lab = Lab::new("e2e-services", 1);
    lab.start_bird(&lab::bird_ibgp(1), WAIT);

    for name in ["web", "dns", "ntp"] {
        fs::write(lab.dir.file(&format!("{name}.healthy")), "").expect("a check file");
    }
    let defaults = "no-syslog\ndebug\ninterval = 0.3\nfast-interval = 0.1\nrise = 1\nfall = 1\ntimeout = 2\n";
    let two = format!("{defaults}\n{}\n{}", section("web", WEB, &lab.dir), section("dns", DNS, &lab.dir));
    let services = lab.dir.write("healthcheck.conf", &two);
    let pid = lab.dir.file("plugin.pid");
    let run = format!("{BIN} --config {} --pid {}", services.display(), pid.display());
    lab.start_exabgp(version, |_| Speaker::ibgp(run.clone()));
    assert!(wait_for(WAIT, || lab.router().established() == 1), "no session: {}", lab.session());

    // 1. Both healthy.
    lab.expect("1. both healthy", [Some(100), Some(100), None]);
    let plugin = read_pid(&pid, WAIT);
    let session = lab.session();
    assert!(session.contains("Established"), "{session}");

    // 2. dns fails: only its route moves.
    fs::remove_file(lab.dir.file("dns.healthy")).expect("remove dns's check file");
    lab.expect("2. dns fails", [Some(100), Some(1000), None]);

    // 3. dns recovers; a third service comes with a reload.
    fs::write(lab.dir.file("dns.healthy"), "").expect("dns's check file");
    lab.expect("3. dns recovers", [Some(100), Some(100), None]);
    lab.dir.write("healthcheck.conf", &format!("{two}\n{}", section("ntp", NTP, &lab.dir)));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(plugin as i32), Signal::SIGHUP).expect("SIGHUP the plugin");
    lab.expect("3. ntp added by the reload", [Some(100), Some(100), Some(100)]);
    assert_eq!(lab.session(), session, "the BGP session was reset by the reload");
    assert_eq!(read_pid(&pid, WAIT), plugin, "the plugin was restarted");
    assert!(lab.lb(1).lo().iter().any(|a| a == NTP), "ntp's address is not on lo: {:?}", lab.lb(1).lo());

    // 4. ExaBGP stops: every route goes, the plugin exits.
    let exabgp = lab.exabgp(1);
    exabgp.signal(Signal::SIGTERM);
    exabgp.wait_exit(WAIT);
    assert!(wait_for(WAIT, || !alive(plugin)), "the plugin (pid {plugin}) still runs after ExaBGP stopped");
    let log = lab.log(1);
    assert!(log.contains("[healthcheck-ntp] added by the new configuration"), "{log}");
    assert!(!log.contains("ExaBGP answered error"), "{log}");
    assert!(
        wait_for(WAIT, || lab.lb(1).lo().iter().all(|a| ![WEB, DNS, NTP].contains(&a.as_str()))),
        "{:?}",
        lab.lb(1).lo()
    );
}
