//! End to end with BFD: real ExaBGP on two load balancers peering with a real router, in
//! network namespaces these tests create (tests/common/lab.rs); the plugin on lb1 speaks BFD
//! with the router (`--bfd 10.96.0.1 --bfd-local 10.96.0.11 --bfd-interval 100ms`, multiplier 3),
//! lb2's does not. Both announce the service, lb1 with the lower MED, so lb1's path is the best.
//! The routers, with BFD on every BGP session:
//! - BIRD 2 (`protocol bfd { }`, `bfd on;`, a short `error wait time`), under ExaBGP 5.0.15 and
//!   4.2.25;
//! - FRR (zebra, bfdd, bgpd) running `contrib/routers/bfd/frr.conf` as it is (but for the LAN's
//!   prefix and the log): a bfdd profile at 100 ms x 3 and `neighbor LB bfd profile lb`, under
//!   ExaBGP 5.0.15 and 4.2.25.
//!
//! The scenario, on the router's own table, its kernel routes and BFD sessions
//! ([`stop_and_go`]):
//! 1. the router's BFD session with lb1's plugin comes Up and stays Up for a few seconds (FRR
//!    advertises a 1 s Required Min RX until its Poll after Up: no flap in the plugin's log);
//! 2. meanwhile a BFD packet with TTL 64 from the router's namespace, well formed and for lb1's
//!    session, is dropped and counted (GTSM: `bfd_dropped_total{reason="ttl"}` in lb1's metrics
//!    file), and the session stays Up;
//! 3. SIGSTOP of lb1's plugin (found by its pid file; ExaBGP still runs) makes the router's
//!    session go Down within the detection time and a little (the router's log, read as a file).
//!    BIRD drops lb1's BGP session and keeps it down for its `error wait time`: its kernel route
//!    moves to lb2 within the detection time and a little. FRR 8.4.4's bgpd resets the BGP
//!    session too, but takes ExaBGP back at once, BFD Down or not (FRR before 10.4, which has no
//!    `neighbor X bfd strict`): lb1's path is back with the plugin still stopped, asserted with
//!    the version named;
//! 4. SIGCONT: the sessions settle and lb1's path is the best again;
//! 5. SIGTERM (a graceful stop): the withdraws, then AdminDown; the router's session goes Down
//!    at once, not by its timer (BIRD: the last Up -> Down not after `expired`; FRR: diagnostic
//!    `neighbor signaled session down`, the neighbour's `administratively down`). ExaBGP
//!    respawns the plugin at once; a wrapper holds the respawned one back for a few seconds, so
//!    that the router hears the AdminDown alone. The installed routers, BIRD 2.0.12 and FRR
//!    8.4.4 (Debian 12), then drop lb1's BGP session as well (BIRD before 2.14 and FRR before
//!    10.7 do; later ones keep it, RFC 5882 3.2): asserted with the version named, so that a
//!    router upgrade shows up as a clear failure to update here.
//!
//! The node freeze ([`freeze`]): nftables drops every packet in and out of lb1's namespace (its
//! link stays up), with the router's BGP hold time at 3 s (ExaBGP's keepalives every second).
//! With lb1's plugin speaking BFD, the router's kernel route moves to lb2 within the detection
//! time and a little; without (the same router, lb1's plugin without `--bfd`), only when the
//! hold time expires, 2 to 3 s after the freeze. The rules are deleted, and lb1 comes back.
//!
//! The moves are timed on the router's kernel routes (`ip monitor route` in its namespace, BIRD
//! exporting its best paths as zebra does): each change is seen as it happens, where asking the
//! router (vtysh above all) takes tens of milliseconds a time.
//!
//! Needs root, `ip`, `setpriv`, `nft`, BIRD 2, FRR (`/usr/lib/frr/zebra`, `bfdd`, `bgpd`,
//! `vtysh`) and the ExaBGP virtualenvs (`contrib/run-tests.sh` installs them). Every wait is
//! bounded; the nftables rules, the namespaces and every process started are removed (by PID)
//! when a test ends, even when it fails.

mod common;

use common::lab::{self, Lab, Router, RouterKind, Speaker, ROUTER};
use common::netns::Netns;
use common::{exabgp, read_pid, signal, wait_every, wait_for, BIN};
use nix::sys::signal::Signal;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The service address, the one `contrib/routers/bfd/frr.conf` accepts.
const SERVICE: &str = "37.72.160.20/32";
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);
/// The plugin's interval and multiplier: the router's detection time is 300 ms.
const INTERVAL_MS: u64 = 100;
const DETECTION: Duration = Duration::from_millis(300);
/// How long the session must stay Up before the SIGSTOP: FRR's Poll after Up is over by then.
const STEADY: Duration = Duration::from_secs(4);
/// The router's BGP hold time in the freeze tests.
const HOLD: Duration = Duration::from_secs(3);
/// How long lb1's plugin waits when ExaBGP respawns it.
const RESPAWN: Duration = Duration::from_secs(3);
/// The nftables table that freezes a namespace.
const FREEZE_TABLE: &str = "ehc_freeze";

#[test]
fn exabgp_5_0_bird_drops_a_stopped_plugin_within_the_detection_time_and_gets_admin_down() {
    stop_and_go(exabgp::V5, RouterKind::Bird);
}

#[test]
fn exabgp_4_2_bird_drops_a_stopped_plugin_within_the_detection_time_and_gets_admin_down() {
    stop_and_go(exabgp::V4, RouterKind::Bird);
}

#[test]
fn exabgp_5_0_frr_drops_a_stopped_plugin_within_the_detection_time_and_gets_admin_down() {
    stop_and_go(exabgp::V5, RouterKind::Frr);
}

#[test]
fn exabgp_4_2_frr_drops_a_stopped_plugin_within_the_detection_time_and_gets_admin_down() {
    stop_and_go(exabgp::V4, RouterKind::Frr);
}

#[test]
fn bird_moves_a_frozen_node_within_the_detection_time_with_bfd_and_the_hold_time_without() {
    freeze_with_and_without_bfd(RouterKind::Bird);
}

#[test]
fn frr_moves_a_frozen_node_within_the_detection_time_with_bfd_and_the_hold_time_without() {
    freeze_with_and_without_bfd(RouterKind::Frr);
}

/// BIRD's configuration: [`lab::bird_ibgp`] with BFD on every BGP session, a short error
/// wait, the hold time `hold` (None: BIRD's default), the BFD sessions' state changes in its
/// log, and its best paths in the kernel (as FRR's zebra puts them there).
fn bird_conf(lbs: usize, hold: Option<Duration>) -> String {
    let hold = hold.map(|hold| format!("    hold time {};\n", hold.as_secs())).unwrap_or_default();
    let conf = lab::bird_ibgp(lbs)
        .replace("    passive on;\n", &format!("    passive on;\n    bfd on;\n    error wait time 1, 2;\n{hold}"));
    format!(
        "{conf}protocol bfd {{\n    debug {{ states, events }};\n}}\n\
         protocol kernel {{\n    ipv4 {{ export all; }};\n}}\n"
    )
}

/// FRR's configuration: `contrib/routers/bfd/frr.conf` for this LAN, logging to the test's
/// files, split into bgpd's (with `bgp log-neighbor-changes`) and bfdd's (its `bfd` block, with
/// the sessions' state changes in the log); with `hold`, bgpd's hold time for the load balancers
/// (keepalives every second).
fn frr_conf(hold: Option<Duration>) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/routers/bfd/frr.conf");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(SERVICE) && text.contains("192.0.2.11"), "{} changed: {text}", path.display());
    let text = text.replace("192.0.2.", "10.96.0.").replace("log syslog informational", "log stdout informational");
    let start = text.find("\nbfd\n").expect("a bfd block") + 1;
    let end = start + text[start..].find("\nexit\n").expect("the end of the bfd block") + "\nexit\n".len();
    let bfdd = format!("hostname router\nlog stdout debugging\ndebug bfd peer\n!\n{}", &text[start..end]);
    let mut bgpd = format!("{}{}", &text[..start], &text[end..]);
    let id = " bgp router-id 10.96.0.1\n";
    assert!(bgpd.contains(id), "no `bgp router-id` in {}", path.display());
    bgpd = bgpd.replace(id, &format!("{id} bgp log-neighbor-changes\n"));
    if let Some(hold) = hold {
        let timers = format!(" neighbor LB timers 1 {}\n", hold.as_secs());
        bgpd = bgpd.replace(" neighbor LB bfd profile lb\n", &format!(" neighbor LB bfd profile lb\n{timers}"));
        assert!(bgpd.contains(&timers), "no `neighbor LB bfd profile lb` in {}", path.display());
    }
    (bgpd, bfdd)
}

/// What the router shows of its BFD session with a peer.
struct Seen {
    up: bool,
    /// As the router said it (BIRD's line of `show bfd sessions`; FRR's peer in `show bfd
    /// peers json`), empty when it has no session.
    text: String,
    /// FRR's peer, parsed.
    json: serde_json::Value,
}

/// The router's BFD session with `peer`.
fn bfd_session(router: &Router, peer: &str) -> Seen {
    match router {
        Router::Bird(bird) => {
            let text = bird.birdc(&["show", "bfd", "sessions"]).unwrap_or_default();
            let line = text.lines().find(|line| line.trim_start().starts_with(peer)).unwrap_or_default();
            Seen { up: line.split_whitespace().nth(2) == Some("Up"), text: line.to_owned(), json: Default::default() }
        }
        Router::Frr(frr) => {
            let text = frr.vtysh("show bfd peers json").unwrap_or_default();
            let all: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let json = all.as_array().into_iter().flatten().find(|p| p["peer"] == peer).cloned().unwrap_or_default();
            Seen { up: json["status"] == "up", text: json.to_string(), json }
        }
    }
}

/// A lab for one scenario: the router, ExaBGP on lb1 and lb2, lb1's plugin with BFD or
/// without, its pid file and metrics file.
struct Bfd {
    lab: Lab,
    pid_file: PathBuf,
    metrics: PathBuf,
    routes: RouteWatch,
}

impl Bfd {
    /// ExaBGP `version`, `router` with the BGP hold time `hold` (None: its default), lb1's
    /// plugin speaking BFD when `bfd`; the BGP sessions established and lb1's path the best.
    fn start(name: &str, version: &str, router: RouterKind, hold: Option<Duration>, bfd: bool) -> Bfd {
        lab::preflight(version, router, &["sh"]);
        if router == RouterKind::Frr {
            let bfdd = Path::new(common::frr::DAEMONS).join("bfdd");
            assert!(bfdd.is_file(), "{} is missing: install frr (contrib/run-tests.sh does)", bfdd.display());
        }
        let mut lab = Lab::new(name, 2);
        match router {
            RouterKind::Bird => lab.start_bird(&bird_conf(2, hold), WAIT),
            RouterKind::Frr => {
                let (bgpd, bfdd) = frr_conf(hold);
                lab.start_frr_with_bfdd(&bgpd, &bfdd, WAIT);
            }
        }
        let pid_file = lab.dir.file("plugin-lb1.pid");
        let metrics = lab.dir.file("plugin-lb1.prom");
        let plugin = |n: usize| {
            format!("{BIN} --no-syslog --name lb{n} --ip {SERVICE} --interval 1 --rise 1 --up-metric {}", n * 100)
        };
        let mut lb1 = format!("{} --pid {} --metrics-file {}", plugin(1), pid_file.display(), metrics.display());
        if bfd {
            let local = lab::lb_address(1);
            lb1.push_str(&format!(" --bfd {ROUTER} --bfd-local {local} --bfd-interval {INTERVAL_MS}ms"));
        }
        // ExaBGP respawns the plugin at once when it exits: after the first start, the wrapper
        // waits, so that the router hears the AdminDown alone for a while.
        let started = lab.dir.file("plugin-lb1.started");
        let wrapper = format!(
            "#!/bin/sh\nif [ -e {started} ]; then sleep {respawn}; fi\ntouch {started}\nexec {lb1}\n",
            started = started.display(),
            respawn = RESPAWN.as_secs()
        );
        let wrapper = lab.dir.write("plugin-lb1.sh", &wrapper);
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod the wrapper");
        let run = |n: usize| Speaker::ibgp(if n == 1 { wrapper.display().to_string() } else { plugin(n) });
        let routes = RouteWatch::start(lab.router_ns());
        lab.start_exabgp(version, run);
        assert!(wait_for(WAIT, || lab.router().established() == 2), "no BGP sessions with ExaBGP");
        let bench = Bfd { lab, pid_file, metrics, routes };
        assert!(wait_for(WAIT, || bench.best().as_deref() == Some("lb1")), "lb1 is not the best: {:?}", bench.best());
        bench
    }

    fn router(&self) -> &Router {
        self.lab.router()
    }

    /// The router's BFD session with lb1.
    fn session(&self) -> Seen {
        bfd_session(self.router(), &lab::lb_address(1))
    }

    fn best(&self) -> Option<String> {
        self.router().best(SERVICE)
    }

    /// What ExaBGP on lb1 and its plugin logged.
    fn log(&self) -> String {
        self.lab.log(1)
    }

    /// The router's BGP session with lb1: whether it is established, and what the router says
    /// of it (BIRD's line of `show protocols lb1`, with the last error; FRR's `bgpState` and
    /// `lastResetDueTo` in `show bgp neighbors PEER json`).
    fn bgp(&self) -> (bool, String) {
        match self.router() {
            Router::Bird(bird) => {
                let text = bird.birdc(&["show", "protocols", "lb1"]).unwrap_or_default();
                let line = text.lines().find(|line| line.starts_with("lb1 ")).unwrap_or_default();
                (line.contains("Established"), line.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            Router::Frr(frr) => {
                let lb1 = lab::lb_address(1);
                let text = frr.vtysh(&format!("show bgp neighbors {lb1} json")).unwrap_or_default();
                let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let peer = &json[&lb1];
                let state = peer["bgpState"].as_str().unwrap_or_default();
                let why = peer["lastResetDueTo"].as_str().unwrap_or_default();
                (state == "Established", format!("{state}, last reset: {why}"))
            }
        }
    }

    /// How many times the router's BFD session with lb1 went from Up to Down, as its log says
    /// (BIRD: `Session to PEER changed state from Up to Down`; bfdd: `state-change: [... peer:PEER
    /// ...] up -> down`): a file read, quicker than asking the router.
    fn downs(&self) -> usize {
        let lb1 = lab::lb_address(1);
        match self.router() {
            Router::Bird(_) => {
                let log = self.lab.dir.read("bird.log");
                log.matches(&format!("Session to {lb1} changed state from Up to Down")).count()
            }
            Router::Frr(_) => {
                let log = self.lab.dir.read("frr/bfdd.log");
                let peer = format!(" peer:{lb1} ");
                log.lines().filter(|line| line.contains(&peer) && line.contains("] up -> down")).count()
            }
        }
    }

    /// The lines in which FRR's bgpd said it dropped its BGP session with lb1 for BFD
    /// (`%NOTIFICATION: sent to neighbor PEER 6/10 (Cease/BFD Down)`, logged with `bgp
    /// log-neighbor-changes`): a file read, quicker than asking the router, and the reason at the
    /// time (`show bgp neighbors` forgets it at the next connection). None with BIRD.
    fn frr_bfd_resets(&self) -> Vec<String> {
        let Router::Frr(_) = self.router() else { return Vec::new() };
        let sent = format!("%NOTIFICATION: sent to neighbor {} ", lab::lb_address(1));
        let log = self.lab.dir.read("frr/bgpd.log");
        let resets = log.lines().filter(|line| line.contains(&sent) && line.contains("(Cease/BFD Down)"));
        resets.map(str::to_owned).collect()
    }

    /// Wait until the router's BFD session with lb1 has been Up, lb1's BGP session
    /// established and its path the best, and the plugin's session Up, for a whole second:
    /// after a SIGCONT the sessions may take a round or two to settle.
    fn settled(&self) {
        let steady = || {
            self.session().up && self.bgp().0 && self.best().as_deref() == Some("lb1") && {
                let log = self.log();
                let ours = format!("BFD {ROUTER}: ");
                let last = log.lines().rfind(|l| l.contains(&ours) && l.contains(" -> "));
                last.is_some_and(|line| line.ends_with("-> Up"))
            }
        };
        let deadline = Instant::now() + WAIT;
        let mut since: Option<Instant> = None;
        while Instant::now() < deadline {
            if steady() {
                let at = *since.get_or_insert_with(Instant::now);
                if at.elapsed() >= Duration::from_secs(1) {
                    return;
                }
            } else {
                since = None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the sessions did not settle: BFD {}, BGP {:?}, best {:?}",
            self.session().text,
            self.bgp(),
            self.best()
        );
    }

    /// `bfd_dropped_total{reason="REASON"}` in lb1's metrics file (0 when absent).
    fn dropped(&self, reason: &str) -> u64 {
        let text = std::fs::read_to_string(&self.metrics).unwrap_or_default();
        let name = format!("exabgp_healthcheck_bfd_dropped_total{{reason=\"{reason}\"}} ");
        text.lines().find_map(|line| line.strip_prefix(&name)?.trim().parse().ok()).unwrap_or(0)
    }

    /// Wait for `cond` every [`POLL`]: whether it came true within [`WAIT`], and when.
    fn timed(&self, since: Instant, cond: impl FnMut() -> bool) -> Option<Duration> {
        wait_every(WAIT, POLL, cond).then(|| since.elapsed())
    }

    /// The router's route to the service went via lb2 (the best path moved to lb2): after how
    /// long since `since`, or why not.
    fn moved(&self, since: Instant) -> Duration {
        let via = lab::lb_address(2);
        let took =
            wait_every(WAIT, POLL, || self.routes.via(since, &via).is_some()).then(|| self.routes.via(since, &via));
        took.flatten().unwrap_or_else(|| {
            panic!("the route did not move to lb2: {:?}\n{}", self.best(), self.routes.lines().join("\n"))
        })
    }
}

/// The scenario of the module's documentation, with ExaBGP `version` and `router`.
fn stop_and_go(version: &str, router: RouterKind) {
    let name = format!("e2e-bfd-{}", if router == RouterKind::Bird { "bird" } else { "frr" });
    let bench = Bfd::start(&name, version, router, None, true);
    let lb1 = lab::lb_address(1);
    let what = format!("ExaBGP {version}, {router:?}");

    // 1. The router's BFD session with lb1's plugin comes Up.
    assert!(wait_for(WAIT, || bench.session().up), "no BFD session Up: {}", bench.session().text);
    let up_at = Instant::now();
    let log = bench.log();
    assert!(
        log.contains(&format!("BFD {ROUTER}: Init -> Up")) || log.contains(&format!("BFD {ROUTER}: Down -> Up")),
        "{log}"
    );

    // 2. GTSM: a packet for lb1's session (its discriminator, state Up, well formed) with TTL 64
    // from the router's namespace is dropped and counted; the session stays Up, and stays so
    // (FRR's 1 s Required Min RX until its Poll after Up must not make it flap).
    let discriminator = discriminator(&log);
    let before = bench.dropped("ttl");
    send_low_ttl(bench.lab.router_ns(), &lb1, discriminator);
    assert!(
        wait_for(Duration::from_secs(10), || bench.dropped("ttl") > before),
        "bfd_dropped_total{{reason=\"ttl\"}} stayed at {before}:\n{}",
        std::fs::read_to_string(&bench.metrics).unwrap_or_default()
    );
    assert_eq!(bench.dropped("ttl"), before + 1, "one packet sent, one dropped");
    std::thread::sleep(STEADY.saturating_sub(up_at.elapsed()));
    let log = bench.log();
    assert!(bench.session().up, "the session left Up: {}", bench.session().text);
    assert!(!log.contains(&format!("BFD {ROUTER}: Up -> ")), "the session flapped before the SIGSTOP:\n{log}");
    assert_eq!(log.matches(" -> Up").count(), 1, "the session came Up more than once:\n{log}");

    // 3. SIGSTOP: the router's session goes Down within the detection time (and a little: its
    // timers, birdc's or vtysh's round trips), and the best path moves to lb2.
    let plugin = read_pid(&bench.pid_file, WAIT);
    let (resets, downs) = (bench.frr_bfd_resets().len(), bench.downs());
    let stopped = Instant::now();
    signal(plugin, Signal::SIGSTOP);
    let took_down = bench.timed(stopped, || bench.downs() > downs);
    let took_down = took_down.expect("the router's BFD session stayed Up with the plugin stopped");
    eprintln!("{what}: SIGSTOP -> BFD Down {:.0} ms", ms(took_down));
    assert!(took_down < DETECTION + Duration::from_millis(400), "{what}: BFD Down took {took_down:?}");
    assert!(!bench.session().up, "the router's BFD session is Up with the plugin stopped: {}", bench.session().text);
    match bench.router() {
        Router::Bird(_) => {
            let took_move = bench.moved(stopped);
            eprintln!("{what}: SIGSTOP -> route via lb2 {:.0} ms", ms(took_move));
            assert!(took_move < DETECTION + Duration::from_millis(700), "{what}: the path moved after {took_move:?}");
        }
        Router::Frr(_) => {
            // bgpd drops lb1's BGP session at the BFD Down, but FRR before 10.4 takes it back
            // at once, BFD Down or not: ExaBGP, which still runs, reconnects and announces lb1's
            // path again, so that lb2's path is the best for a moment at most.
            let took_reset = bench.timed(stopped, || bench.frr_bfd_resets().len() > resets);
            let took_reset = took_reset.expect("bgpd kept lb1's BGP session at the BFD Down");
            // bgpd's own work after bfdd's Down: give it more slack on a loaded machine.
            assert!(took_reset < DETECTION + Duration::from_secs(1), "{what}: BGP reset after {took_reset:?}");
            let back = wait_for(WAIT, || bench.bgp().0 && bench.best().as_deref() == Some("lb1"));
            assert!(
                back && !bench.session().up,
                "{what}: FRR 8.4.4, the installed one, takes lb1's BGP session back at once while BFD is Down (FRR \
                 before 10.4, without `neighbor X bfd strict`): a newer FRR keeps it out, update this test \
                 (BGP {:?}, best {:?}, BFD {})",
                bench.bgp(),
                bench.best(),
                bench.session().text
            );
            // Whether the kernel's route went via lb2 meanwhile, and for how long.
            let moved = bench.routes.via(stopped, &lab::lb_address(2)).map(|took| {
                let back = bench.routes.via(stopped + took, &lab::lb_address(1));
                let back = back.map_or("?".to_owned(), |back| format!("{:.0}", ms(back)));
                format!("after {:.0} ms for {back} ms", ms(took))
            });
            let moved = moved.unwrap_or_else(|| "never".to_owned());
            eprintln!("{what}: SIGSTOP -> BGP reset {:.0} ms, route via lb2 {moved}, lb1 back", ms(took_reset));
        }
    }
    signal(plugin, Signal::SIGCONT);

    // 4. SIGCONT: the sessions and lb1's path come back.
    bench.settled();

    // 5. A graceful stop: the withdraws, then AdminDown; the router's session goes Down at once
    // (not after the detection time), the plugin logged why, and the router dropped BGP too.
    let (resets, downs) = (bench.frr_bfd_resets().len(), bench.downs());
    let terminated = Instant::now();
    signal(plugin, Signal::SIGTERM);
    let took_down = bench.timed(terminated, || bench.downs() > downs).expect("BFD stayed Up after SIGTERM");
    eprintln!("{what}: SIGTERM -> BFD Down {:.0} ms", ms(took_down));
    let mut down = None;
    assert!(
        wait_every(WAIT, POLL, || {
            let seen = bench.session();
            let up = seen.up;
            down = Some(seen);
            !up
        }),
        "BFD Up again after SIGTERM: {}",
        bench.session().text
    );
    assert!(wait_for(WAIT, || bench.log().contains("Up -> AdminDown (administratively down)")), "{}", bench.log());
    match bench.router() {
        Router::Bird(_) => {
            // BIRD's own words: the session expired once (the SIGSTOP), and its last change from
            // Up to Down was not a timer's (the AdminDown).
            let bird_log = bench.lab.dir.read("bird.log");
            let expired = bird_log.matches(&format!("Session to {lb1} expired")).count();
            let lines: Vec<&str> =
                bird_log.lines().filter(|line| line.contains(&format!("Session to {lb1} "))).collect();
            let last = lines.iter().rposition(|line| line.ends_with("changed state from Up to Down"));
            assert!(
                expired == 1 && last.is_some_and(|at| at == 0 || !lines[at - 1].ends_with("expired")),
                "BIRD's log:\n{bird_log}"
            );
        }
        Router::Frr(_) => {
            // bfdd: the peer Down because the neighbour said so (not by its timer), and the
            // neighbour's diagnostic: administratively down.
            let seen = down.expect("a look at the session");
            let diags = (seen.json["diagnostic"].as_str(), seen.json["remote-diagnostic"].as_str());
            let expected = (Some("neighbor signaled session down"), Some("administratively down"));
            assert_eq!(diags, expected, "FRR's peer: {}", seen.text);
        }
    }
    // The BGP session: dropped by the AdminDown, for BFD.
    let dropped = match bench.router() {
        // BIRD keeps it down for its error wait time, saying why.
        Router::Bird(_) => wait_every(WAIT, POLL, || {
            let (established, why) = bench.bgp();
            !established && why.contains("BFD session down")
        }),
        // FRR takes it back at once (see the SIGSTOP): its log tells.
        Router::Frr(_) => wait_every(WAIT, POLL, || bench.frr_bfd_resets().len() > resets),
    };
    assert!(
        dropped,
        "{what}: the router kept lb1's BGP session at the BFD AdminDown ({:?}); BIRD 2.0.12 and FRR 8.4.4, the \
         installed ones, drop it (BIRD before 2.14 and FRR before 10.7 do): a newer router keeps it (RFC 5882 \
         3.2), update this test",
        bench.bgp()
    );
}

/// The discriminator lb1's plugin logged for its session with the router (`BFD 10.96.0.1:
/// from ADDR:PORT, discriminator N`), the last one.
fn discriminator(log: &str) -> u32 {
    let prefix = format!("BFD {ROUTER}: from ");
    let mut found = log
        .lines()
        .filter_map(|line| line.split_once(&prefix))
        .filter_map(|(_, rest)| rest.split_once(", discriminator ")?.1.trim().parse().ok());
    found.next_back().unwrap_or_else(|| panic!("no discriminator in the plugin's log:\n{log}"))
}

/// One BFD control packet (RFC 5880 4.1), state Up, for lb1's session (`your` is its
/// discriminator), which it would accept, sent from the router's address in `ns` to lb1's port
/// 3784 with TTL 64 (GTSM wants 255).
fn send_low_ttl(ns: &Netns, lb: &str, your: u32) {
    let mut packet = Vec::with_capacity(24);
    packet.push(1 << 5); // version 1, diagnostic 0
    packet.push(3 << 6); // state Up, no flags
    packet.push(3); // detect multiplier
    packet.push(24); // length
    packet.extend_from_slice(&0x4543_0001_u32.to_be_bytes()); // my discriminator
    packet.extend_from_slice(&your.to_be_bytes());
    packet.extend_from_slice(&100_000_u32.to_be_bytes()); // desired min TX, µs
    packet.extend_from_slice(&100_000_u32.to_be_bytes()); // required min RX, µs
    packet.extend_from_slice(&0_u32.to_be_bytes()); // required min echo RX
    let socket = common::udp::socket_in(ns, format!("{ROUTER}:0").parse().expect("an address"));
    socket.set_ttl(64).expect("IP_TTL 64");
    let to: std::net::SocketAddr = format!("{lb}:3784").parse().expect("an address");
    assert_eq!(socket.send_to(&packet, to).expect("send the packet"), packet.len());
}

/// The changes of the kernel's routes in a namespace (`ip monitor route`), each line with the
/// instant it came; the monitor stopped (by PID) when dropped.
struct RouteWatch {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl RouteWatch {
    fn start(ns: &Netns) -> RouteWatch {
        let mut child = ns
            .exec(&["ip", "monitor", "route"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run ip monitor route");
        let out = child.stdout.take().expect("its stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        // Ends with the monitor's output.
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().expect("the lines").push((Instant::now(), line));
            }
        });
        RouteWatch { child, lines, reader: Some(reader) }
    }

    /// When, after `since`, the route to the service first went via `via`.
    fn via(&self, since: Instant, via: &str) -> Option<Duration> {
        let net = SERVICE.trim_end_matches("/32");
        let lines = self.lines.lock().expect("the lines");
        let to = format!(" via {via} ");
        let found =
            lines.iter().find(|(at, line)| *at >= since && line.starts_with(&format!("{net} ")) && line.contains(&to));
        found.map(|(at, _)| at.duration_since(since))
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("the lines").iter().map(|(_, line)| line.clone()).collect()
    }
}

impl Drop for RouteWatch {
    fn drop(&mut self) {
        common::terminate(&mut self.child, Duration::from_secs(2));
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Every packet in and out of a namespace dropped by nftables (its links stay up), until
/// dropped.
struct Freeze<'a> {
    ns: &'a Netns,
}

impl<'a> Freeze<'a> {
    fn new(ns: &'a Netns, dir: &Path) -> Freeze<'a> {
        let rules = dir.join("freeze.nft");
        let text = format!(
            "table inet {FREEZE_TABLE} {{\n    chain input {{ type filter hook input priority 0; policy drop; }}\n    \
             chain output {{ type filter hook output priority 0; policy drop; }}\n}}\n"
        );
        std::fs::write(&rules, text).expect("write the nftables rules");
        nft(ns, &["-f", &rules.display().to_string()]).expect("freeze");
        Freeze { ns }
    }
}

impl Drop for Freeze<'_> {
    fn drop(&mut self) {
        if let Err(err) = nft(self.ns, &["delete", "table", "inet", FREEZE_TABLE]) {
            eprintln!("{err}");
        }
    }
}

/// `nft ARGS` in `ns`.
fn nft(ns: &Netns, args: &[&str]) -> Result<(), String> {
    let mut argv = vec!["nft"];
    argv.extend_from_slice(args);
    let out: std::process::Output = ns.exec(&argv).output().map_err(|e| format!("failed to run nft: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("nft {args:?} in {}: {}: {}", ns.name, out.status, String::from_utf8_lossy(&out.stderr)))
    }
}

/// A freeze of lb1 (every packet in and out dropped), with the router's hold time at [`HOLD`]:
/// how long until the router's best path moved to lb2, lb1's plugin speaking BFD or not. The
/// freeze lifted, lb1 comes back.
fn freeze(router: RouterKind, bfd: bool) -> Duration {
    lab::needs(&["nft"]);
    let name = format!("e2e-bfd-freeze-{}", if router == RouterKind::Bird { "bird" } else { "frr" });
    let bench = Bfd::start(&name, exabgp::V5, router, Some(HOLD), bfd);
    if bfd {
        assert!(wait_for(WAIT, || bench.session().up), "no BFD session Up: {}", bench.session().text);
    }
    let frozen = Instant::now();
    let freeze = Freeze::new(bench.lab.lb(1), &bench.lab.dir.path);
    let took = bench.moved(frozen);
    drop(freeze);
    assert!(
        wait_for(WAIT, || bench.best().as_deref() == Some("lb1")),
        "lb1 not back after the freeze: {:?}",
        bench.best()
    );
    took
}

fn freeze_with_and_without_bfd(router: RouterKind) {
    let with = freeze(router, true);
    let without = freeze(router, false);
    eprintln!("{router:?}: freeze -> best path lb2: with BFD {:.0} ms, without {:.0} ms", ms(with), ms(without));
    assert!(with < DETECTION + Duration::from_millis(700), "{router:?}: with BFD, the path moved after {with:?}");
    assert!(
        without >= HOLD - Duration::from_secs(1),
        "{router:?}: without BFD, the path moved after {without:?}, before the hold time ({HOLD:?}) could expire"
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
