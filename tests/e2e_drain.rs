//! End to end, the graceful drain (RFC 8326): real ExaBGP (5.0.15, and 4.2.25 with BIRD) on two
//! load balancers, lb1 (AS 64601) and lb2 (AS 64602), both announcing the service address
//! 37.72.160.20/32 over eBGP to a real router (AS 64512), in network namespaces these tests
//! create. The routers tell their paths apart by the lowest router ID (the MEDs of two
//! neighbouring ASes are not compared), so lb1's path is best while both are up. Then lb1's
//! drain file appears:
//! - while lb1 is DRAINING, the router keeps lb1's path, with the GRACEFUL_SHUTDOWN community and
//!   local preference 0, and prefers lb2's;
//! - once the drain time (3 s) is over, lb1's path is gone (and not before);
//! - the drain file removed, lb1's path comes back and is best again.
//!
//! The routers run the files of `contrib/routers/graceful-shutdown` as they are, but for the
//! LAN's prefix (192.0.2.0/24 there, 10.96.0.0/24 here) and the log going to the test's files:
//! BIRD 2 with its RFC 8326 import filter (`if (65535, 0) ~ bgp_community then bgp_local_pref =
//! 0;`), FRR's bgpd (with zebra) with its route-map; and FRR once more without any rule about
//! the community, which it honours on eBGP by itself. With BIRD, a client in a namespace of its
//! own sends a steady stream of UDP probes to the service address through the router, answered
//! by an echo in each load balancer's namespace: none is lost during the drain.
//!
//! Needs root, `ip`, `setpriv`, BIRD 2, FRR (`/usr/lib/frr/zebra`, `bgpd`, `vtysh`) and the
//! ExaBGP virtualenvs (`contrib/run-tests.sh` makes them). The lab (tests/common/lab.rs: the
//! router, two load balancers and, with BIRD, the client) keeps traffic inside its namespaces
//! (10.96.0.0/24 on a bridge, 10.96.3.0/24 to the client, and the service address on the load
//! balancers' `lo`). Every wait is bounded; the namespaces and every process started are removed
//! (by PID) when a test ends.

mod common;

use common::bird::{attributes, Paths};
use common::lab::{self, lb_name, Lab, Router, RouterKind, Speaker, ROUTER_AS};
use common::udp::{Echo, Stream};
use common::{exabgp, wait_every, wait_for, BIN};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SERVICE: &str = "37.72.160.20/32";
/// The drain time given to the plugins.
const DRAIN: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);
/// The UDP port of the echoes on the load balancers.
const ECHO_PORT: u16 = 7007;

#[test]
fn exabgp_5_0_bird_drain_moves_traffic_without_loss() {
    run_bird(exabgp::V5);
}

#[test]
fn exabgp_4_2_bird_drain_moves_traffic_without_loss() {
    run_bird(exabgp::V4);
}

#[test]
fn exabgp_5_0_frr_with_the_contrib_route_map() {
    run_frr(exabgp::V5, &contrib("frr.conf"));
}

#[test]
fn exabgp_5_0_frr_honours_the_community_by_itself() {
    run_frr(exabgp::V5, &frr_conf());
}

/// A file of `contrib/routers/graceful-shutdown` for this LAN, logging to the test's files.
fn contrib(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/routers/graceful-shutdown").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.contains("192.0.2.11") && text.contains("192.0.2.12"),
        "{} names other load balancers",
        path.display()
    );
    text.replace("192.0.2.", "10.96.0.")
        .replace("log syslog all;", "log stderr all;")
        .replace("log syslog informational", "log stdout informational")
}

/// What the router has for the service address: each load balancer's path, with its local
/// preference and whether it carries GRACEFUL_SHUTDOWN, and the best one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Seen {
    /// lbN -> (local preference, graceful shutdown community).
    paths: std::collections::BTreeMap<String, (Option<u32>, bool)>,
    best: Option<String>,
}

impl Seen {
    /// What `router` has now.
    fn of(router: &Router) -> Seen {
        match router {
            Router::Bird(bird) => {
                let text = bird.birdc(&["show", "route", SERVICE, "all"]).unwrap_or_default();
                let best = Paths::parse(&text).best;
                let paths = attributes(&text)
                    .into_iter()
                    .map(|(lb, attrs)| {
                        let pref = attrs.get("BGP.local_pref").and_then(|v| v.parse().ok());
                        let gshut = attrs.get("BGP.community").is_some_and(|c| c.contains("(65535,0)"));
                        (lb, (pref, gshut))
                    })
                    .collect();
                Seen { paths, best }
            }
            Router::Frr(frr) => {
                let route = frr.route(SERVICE);
                let mut seen = Seen::default();
                for path in route["paths"].as_array().into_iter().flatten() {
                    let peer = path["peer"]["peerId"].as_str().unwrap_or_default();
                    // 10.96.0.1N is lbN.
                    let Some(n) = peer.strip_prefix("10.96.0.1") else { continue };
                    let lb = format!("lb{n}");
                    let pref = path["locPrf"].as_u64().and_then(|p| u32::try_from(p).ok());
                    let community = path["community"]["string"].as_str().unwrap_or_default();
                    let gshut = community.split_whitespace().any(|c| c == "graceful-shutdown" || c == "65535:0");
                    if path["bestpath"]["overall"].as_bool() == Some(true) {
                        seen.best = Some(lb.clone());
                    }
                    seen.paths.insert(lb, (pref, gshut));
                }
                seen
            }
        }
    }
}

impl Lab {
    fn drain_file(&self, n: usize) -> PathBuf {
        self.dir.file(&format!("{}.drain", lb_name(n)))
    }

    /// ExaBGP with our plugin on both load balancers (no check command: always healthy).
    fn start_exabgp_with_drain_files(&mut self, version: &str) {
        let runs = [1, 2].map(|n| {
            let name = lb_name(n);
            let run = [
                BIN.to_owned(),
                format!("--name {name} --debug --no-syslog"),
                "--interval 0.5 --fast-interval 0.2 --rise 1 --timeout 2".to_owned(),
                format!("--ip {SERVICE}"),
                format!("--drain-file {} --drain-time {}s", self.drain_file(n).display(), DRAIN.as_secs()),
                format!("--pid {}", self.dir.file(&format!("{name}.pid")).display()),
            ]
            .join(" ");
            assert!(!run.contains(['"', ';']), "{run}");
            run
        });
        self.start_exabgp(version, |n| Speaker { asn: 64600 + n as u32, run: runs[n - 1].clone(), env: Vec::new() });
    }

    /// Wait until the router's view is `want`; when that was.
    fn expect(&self, what: &str, want: impl Fn(&Seen) -> bool) -> Instant {
        let mut last = Seen::default();
        let reached = wait_every(WAIT, POLL, || {
            last = Seen::of(self.router());
            want(&last)
        });
        assert!(
            reached,
            "{what}: not reached within {WAIT:?}; the router has {last:?}\n{}",
            self.router().dump(SERVICE)
        );
        Instant::now()
    }

    /// Both load balancers' paths, lb1's best, neither draining.
    fn expect_both_up(&self, what: &str) {
        self.expect(what, |seen| {
            seen.best.as_deref() == Some("lb1")
                && seen.paths.len() == 2
                && seen.paths.values().all(|(pref, gshut)| !gshut && *pref != Some(0))
        });
    }

    /// The drain of lb1, on the router: lb2's path best while lb1's is still there, with the
    /// community and local preference 0; then lb1's path gone, not before the drain time.
    fn drain_lb1(&self) {
        let touched = Instant::now();
        std::fs::write(self.drain_file(1), "").expect("lb1's drain file");
        let draining = self.expect("lb1 draining: its path kept, lb2's preferred", |seen| {
            seen.best.as_deref() == Some("lb2") && seen.paths.get("lb1") == Some(&(Some(0), true))
        });
        let gone = self.expect("lb1 drained: its path gone", |seen| {
            seen.best.as_deref() == Some("lb2") && !seen.paths.contains_key("lb1")
        });
        // The drain file is seen within an interval (0.5 s); DRAINED comes the drain time after
        // DRAINING's lines.
        let kept = gone - draining;
        assert!(
            gone - touched >= DRAIN - Duration::from_millis(100) && kept <= DRAIN + Duration::from_secs(2),
            "lb1's path went {:?} after the drain file appeared and {kept:?} after lb2's became best (drain time \
             {DRAIN:?})",
            gone - touched
        );
    }

    /// What the plugins logged: lb1 drained and came back, lb2 never drained, no `error` reply.
    fn check_logs(&self) {
        let lb1 = self.log(1);
        for needle in [
            "INFO[healthcheck] UP -> DRAINING",
            "INFO[healthcheck] DRAINING -> DRAINED",
            "INFO[healthcheck] DRAINED -> INIT",
            "INFO[healthcheck] send announces for DRAINING state to ExaBGP",
        ] {
            assert!(lb1.contains(needle), "no {needle:?} in lb1's log:\n{lb1}");
        }
        let lb2 = self.log(2);
        assert!(!lb2.contains("DRAINING"), "lb2 drained:\n{lb2}");
        for (n, log) in [(1, &lb1), (2, &lb2)] {
            assert!(!log.contains("ExaBGP answered error"), "lb{n}'s plugin got an error reply:\n{log}");
        }
    }
}

fn run_bird(version: &str) {
    lab::preflight(version, RouterKind::Bird, &[]);
    let mut lab = Lab::new("e2e-drain-bird", 2);
    lab.add_client();
    lab.start_bird(&contrib("bird.conf"), WAIT);
    lab.start_exabgp_with_drain_files(version);
    assert!(
        wait_for(WAIT, || lab.router().established() == 2),
        "the BGP sessions did not come up\n{}",
        lab.router().dump(SERVICE)
    );
    lab.expect_both_up("both up");

    // The probes: an echo on each load balancer, a stream from the client through the router
    // (dropped before the lab).
    let echo = SocketAddr::from(([0, 0, 0, 0], ECHO_PORT));
    let _echoes = [1, 2].map(|n| Echo::start(lab.lb(n), echo, &lb_name(n)));
    let service = SocketAddr::from(([37, 72, 160, 20], ECHO_PORT));
    let stream = Stream::start(lab.client(), service, Duration::from_millis(5), Duration::from_secs(60));
    assert!(
        wait_for(WAIT, || stream.answered().get("lb1").copied().unwrap_or(0) >= 50),
        "the probes do not reach lb1: {:?}",
        stream.answered()
    );

    lab.drain_lb1();
    std::thread::sleep(Duration::from_millis(500));
    let tally = stream.finish(Duration::from_millis(500));
    assert!(tally.sent > 500, "{tally:?}");
    assert!(
        tally.lost.is_empty(),
        "{} of {} probes lost during the drain: {:?}",
        tally.lost.len(),
        tally.sent,
        tally.lost
    );
    let (lb1, lb2) = (tally.spans.get("lb1"), tally.spans.get("lb2"));
    assert!(
        matches!((lb1, lb2), (Some((_, last1)), Some((first2, _))) if last1 < first2),
        "the probes went to lb1, then to lb2: {tally:?}"
    );

    println!("e2e drain (ExaBGP {version}, BIRD): {} probes, {:?} answered, none lost", tally.sent, tally.answered);

    std::fs::remove_file(lab.drain_file(1)).expect("remove lb1's drain file");
    lab.expect_both_up("lb1 back after its drain");
    lab.check_logs();
}

fn run_frr(version: &str, conf: &str) {
    lab::preflight(version, RouterKind::Frr, &[]);
    let mut lab = Lab::new("e2e-drain-frr", 2);
    lab.start_frr(conf, WAIT);
    lab.start_exabgp_with_drain_files(version);
    assert!(
        wait_for(WAIT, || lab.router().established() == 2),
        "the BGP sessions did not come up\n{}",
        lab.router().dump(SERVICE)
    );
    lab.expect_both_up("both up");
    lab.drain_lb1();
    std::fs::remove_file(lab.drain_file(1)).expect("remove lb1's drain file");
    lab.expect_both_up("lb1 back after its drain");
    lab.check_logs();
}

/// FRR: eBGP with both load balancers, passive, the lowest router ID breaking ties (else the
/// oldest eBGP path would win); nothing about the community: bgpd honours GRACEFUL_SHUTDOWN
/// from eBGP peers by itself.
fn frr_conf() -> String {
    let mut conf = format!(
        "frr defaults traditional\nhostname router\n!\n\
         ip prefix-list SERVICES seq 10 permit {SERVICE}\n!\n\
         route-map FROM-LB permit 10\n match ip address prefix-list SERVICES\nexit\n!\n\
         route-map NOTHING deny 10\nexit\n!\n\
         router bgp {ROUTER_AS}\n bgp router-id 10.96.0.1\n bgp bestpath compare-routerid\n"
    );
    for n in [1, 2] {
        conf.push_str(&format!(" neighbor 10.96.0.1{n} remote-as 6460{n}\n neighbor 10.96.0.1{n} passive\n"));
    }
    conf.push_str(" !\n address-family ipv4 unicast\n");
    for n in [1, 2] {
        conf.push_str(&format!(
            "  neighbor 10.96.0.1{n} route-map FROM-LB in\n  neighbor 10.96.0.1{n} route-map NOTHING out\n"
        ));
    }
    conf.push_str(" exit-address-family\nexit\n");
    conf
}
