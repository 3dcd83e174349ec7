//! End to end, the MED from the check's latency (`--metric-from latency`): real ExaBGP (5.0.15
//! and 4.2.25) on two load balancers, lb1 and lb2, announcing the service address
//! 37.72.160.20/32 over iBGP to a real BIRD 2 (one AS: BIRD compares their MEDs), in network
//! namespaces this test creates.
//! Each plugin's check is a command that sleeps as long as its file says, and the MED is the up
//! metric plus its average run time in steps of 10 ms:
//! 1. lb1 slow (300 ms), lb2 fast (20 ms): lb2's MED is the lower, its path the best;
//! 2. they swap: within a few checks and `--metric-hold` (1 s), lb1's MED drops below lb2's and
//!    BIRD's best path moves to lb1.
//!
//! Every MED stays below the disabled metric (500) throughout.
//!
//! Needs root, `ip`, `setpriv`, BIRD 2 and the ExaBGP virtualenvs (`contrib/run-tests.sh`
//! makes it). The lab (tests/common/lab.rs) keeps traffic inside its namespaces. Every wait is
//! bounded; the namespaces and every process started are removed (by PID) when the test ends.

mod common;

use common::bird::Paths;
use common::lab::{self, lb_name, Lab, RouterKind, Speaker};
use common::{exabgp, wait_for, BIN};
use std::time::Duration;

const SERVICE: &str = "37.72.160.20/32";
const WAIT: Duration = Duration::from_secs(40);

impl Lab {
    /// How long lbN's check sleeps from now on.
    fn delay(&self, n: usize, seconds: &str) {
        self.dir.write(&format!("{}.delay", lb_name(n)), seconds);
    }

    /// The MEDs of lb1's and lb2's paths and the best path, as BIRD has them.
    fn seen(&self) -> (Option<u32>, Option<u32>, Option<String>) {
        let text = self.bird().birdc(&["show", "route", SERVICE, "all"]).unwrap_or_default();
        let paths = Paths::parse(&text);
        let med = |n: usize| paths.meds.get(&lb_name(n)).copied().flatten();
        (med(1), med(2), paths.best)
    }

    /// Wait until lbN's path is the best, with the lower MED (both below 500); what BIRD has.
    fn expect_best(&self, what: &str, n: usize) -> (u32, u32) {
        let mut last = (None, None, None);
        let reached = wait_for(WAIT, || {
            last = self.seen();
            let (Some(m1), Some(m2), Some(best)) = &last else { return false };
            let (mine, other) = if n == 1 { (m1, m2) } else { (m2, m1) };
            best == &lb_name(n) && mine < other
        });
        assert!(reached, "{what}: wanted lb{n} best with the lower MED; BIRD has {last:?}");
        let (Some(m1), Some(m2), _) = last else { unreachable!() };
        assert!((100..500).contains(&m1) && (100..500).contains(&m2), "{what}: {m1} {m2}");
        (m1, m2)
    }
}

#[test]
fn exabgp_5_0_bird_the_latency_moves_the_best_path_to_the_faster_node() {
    run(exabgp::V5);
}

#[test]
fn exabgp_4_2_bird_the_latency_moves_the_best_path_to_the_faster_node() {
    run(exabgp::V4);
}

fn run(version: &str) {
    lab::preflight(version, RouterKind::Bird, &[]);
    let mut lab = Lab::new("e2e-med", 2);
    lab.start_bird(&lab::bird_ibgp(2), WAIT);
    lab.delay(1, "0.3");
    lab.delay(2, "0.02");
    let runs = [1, 2].map(|n| {
        let delay = lab.dir.file(&format!("{}.delay", lb_name(n)));
        let check =
            lab.dir.write(&format!("{}.sh", lb_name(n)), &format!("#!/bin/sh\nsleep \"$(cat {})\"\n", delay.display()));
        std::fs::set_permissions(&check, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        [
            BIN.to_owned(),
            format!("--name {} --debug --no-syslog", lb_name(n)),
            "--interval 0.3 --fast-interval 0.1 --rise 1 --fall 1 --timeout 2".to_owned(),
            format!("--ip {SERVICE} --cmd {}", check.display()),
            "--metric-from latency --metric-step 10ms --metric-hysteresis 5 --metric-hold 1".to_owned(),
        ]
        .join(" ")
    });
    lab.start_exabgp(version, |n| Speaker::ibgp(runs[n - 1].clone()));
    assert!(wait_for(WAIT, || lab.router().established() == 2), "the sessions did not come up");

    // 1. lb2 is the faster: its path is the best.
    let (slow, fast) = lab.expect_best("1. lb2 faster", 2);
    assert!(slow >= fast + 5, "lb1 {slow}, lb2 {fast}");

    // 2. They swap: the best path follows the latency.
    lab.delay(1, "0.02");
    lab.delay(2, "0.3");
    lab.expect_best("2. lb1 faster", 1);
    let log = lab.log(1);
    assert!(log.contains("MED ") && log.contains(": latency EWMA "), "{log}");
    assert!(!log.contains("ExaBGP answered error"), "{log}");
}
