//! End to end with flap dampening: real ExaBGP (5.0 and 4.2) on two load balancers peering with a real
//! BIRD 2 over iBGP, in network namespaces this test creates (tests/common/lab.rs). Both
//! announce the service, lb1 with the lower MED (100, lb2 200), so lb1's path is the best;
//! lb1's plugin has `--dampening` (half-life 10 s, suppress 2000, reuse 1200) and a check that
//! fails while a file of the test exists.
//!
//! The scenario, on the router's own table: lb1 flaps three times (the file made and removed),
//! each DOWN moving the best path to lb2 and each UP back to lb1; the third flap suppresses lb1:
//! with its check healthy again, its path stays at the down metric (1000) and BIRD's best path
//! stays on lb2, until the penalty has decayed below reuse (7 to 13 s: from 2000 to 3000); then lb1 is UP
//! again and the best path comes back to it.
//!
//! Needs root, `ip`, BIRD 2 and both ExaBGP virtualenvs (`contrib/run-tests.sh`). Every wait
//! is bounded; the namespaces and every process started are removed when the test ends.

mod common;

use common::bird::Paths;
use common::lab::{self, Lab, RouterKind, Speaker};
use common::{wait_for, BIN};
use std::time::{Duration, Instant};

const SERVICE: &str = "37.72.160.90/32";
const WAIT: Duration = Duration::from_secs(30);

fn paths(lab: &Lab) -> Paths {
    lab.bird().birdc(&["show", "route", SERVICE, "all"]).map(|text| Paths::parse(&text)).unwrap_or_default()
}

/// lb1's MED on the router and the best path's peer.
fn seen(lab: &Lab) -> (Option<u32>, Option<String>) {
    let paths = paths(lab);
    (paths.meds.get("lb1").copied().flatten(), paths.best)
}

#[test]
fn bird_keeps_the_best_path_on_lb2_while_a_flapping_lb1_is_suppressed_under_exabgp_5_0() {
    suppressed_flapper("5.0", "e2e-damp-5");
}

#[test]
fn bird_keeps_the_best_path_on_lb2_while_a_flapping_lb1_is_suppressed_under_exabgp_4_2() {
    suppressed_flapper("4.2", "e2e-damp-4");
}

fn suppressed_flapper(version: &str, name: &str) {
    lab::preflight(version, RouterKind::Bird, &[]);
    let mut lab = Lab::new(name, 2);
    lab.start_bird(&lab::bird_ibgp(2), WAIT);
    let sick = lab.dir.file("lb1-sick");
    let run = |n: usize| {
        let base = format!(
            "{BIN} --no-syslog --name lb{n} --ip {SERVICE} --interval 0.2 --rise 1 --fall 1 --up-metric {}",
            n * 100
        );
        if n == 1 {
            format!(
                "{base} --cmd \"test ! -e {}\" --dampening --dampening-half-life 10 --dampening-suppress 2000 \
                 --dampening-reuse 1200",
                sick.display()
            )
        } else {
            base
        }
    };
    lab.start_exabgp(version, |n| Speaker::ibgp(run(n)));
    assert!(wait_for(WAIT, || lab.router().established() == 2), "no BGP sessions with ExaBGP");
    let up = (Some(100), Some("lb1".to_owned()));
    let down = (Some(1000), Some("lb2".to_owned()));
    assert!(wait_for(WAIT, || seen(&lab) == up), "lb1 is not the best: {:?}", paths(&lab));

    // Three flaps: each DOWN moves the best path to lb2, each UP (but after the third) back.
    let started = Instant::now();
    for flap in 1..=3 {
        std::fs::write(&sick, "").unwrap();
        assert!(wait_for(WAIT, || seen(&lab) == down), "flap {flap}: lb1 not down: {:?}", paths(&lab));
        std::fs::remove_file(&sick).unwrap();
        if flap < 3 {
            assert!(wait_for(WAIT, || seen(&lab) == up), "flap {flap}: lb1 not up again: {:?}", paths(&lab));
        }
    }
    let suppressed = Instant::now();
    let flapping = suppressed - started;
    // The penalty was above 2000 if the three flaps took less than ~10 s (1000, then 1000 more
    // after each half-life at most).
    assert!(flapping < Duration::from_secs(8), "the flaps took {flapping:?}: too slow to suppress");
    assert!(wait_for(WAIT, || lab.log(1).contains("DOWN -> SUPPRESSED")), "lb1 not suppressed:\n{}", lab.log(1));

    // Suppressed: the check is healthy, yet lb1 stays at the down metric and the best path on
    // lb2, for at least 5 s (from above 2000 to 1200 takes over 7 s).
    while suppressed.elapsed() < Duration::from_secs(5) {
        assert_eq!(seen(&lab), down, "lb1 came back {:?} after its suppression", suppressed.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }

    // The penalty decays below reuse: lb1 UP again, the best path back on it.
    assert!(wait_for(WAIT, || seen(&lab) == up), "lb1 never came back: {:?}\n{}", paths(&lab), lab.log(1));
    let back = suppressed.elapsed();
    eprintln!("ExaBGP {version}: three flaps in {flapping:?}; lb1 back {back:?} after its suppression");
    assert!(back >= Duration::from_secs(5) && back < Duration::from_secs(20), "lb1 back {back:?} after");
    let log = lab.log(1);
    for needle in ["flapping: penalty ", "penalty below --dampening-reuse 1200: suppression over", "SUPPRESSED -> INIT"]
    {
        assert!(log.contains(needle), "no {needle:?} in lb1's log:\n{log}");
    }
    assert!(!lab.log(2).contains("penalty"), "lb2 has no dampening:\n{}", lab.log(2));
}
