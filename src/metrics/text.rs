//! The metrics in Prometheus' text exposition format (version 0.0.4), from a [`Snapshot`] of
//! the services: pure, no I/O, the same bytes for the same snapshot (golden-tested). Every
//! family has its `# HELP` and `# TYPE` lines and then all its samples, service after service;
//! label values are escaped as the format says (`\\`, `\"`, `\n`).
//! The durations of the checks come from each service's [`Histogram`].

use crate::bfd::packet::State as BfdState;
use crate::histogram::{Histogram, BUCKETS};
use crate::state::State;
use std::fmt::Write;
use std::time::Duration;

/// Every name starts with this.
pub const PREFIX: &str = "exabgp_healthcheck_";

/// Checks run by a service, by result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checks {
    pub pass: u64,
    pub fail: u64,
    /// Failed because the timeout ran out (not counted in `fail`).
    pub timeout: u64,
}

/// One service as the metrics show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Service<'a> {
    /// Its `service` label: see [`super::label`].
    pub name: &'a str,
    pub state: State,
    /// When it entered its state: seconds since the Unix epoch.
    pub since: Duration,
    pub checks: Checks,
    pub durations: &'a Histogram,
    /// How many times it entered each state (those not given: never).
    pub transitions: Vec<(State, u64)>,
    /// Lines written to ExaBGP: announces, withdraws.
    pub announced: u64,
    pub withdrawn: u64,
    /// Each route (as `IP/LEN`) with the MED it is announced with now; `None`: withdrawn or not
    /// announced (no sample).
    pub routes: Vec<(String, Option<i64>)>,
    /// Each address the service keeps (as `IP`), and whether it is on its interface as far as
    /// the ledger knows.
    pub addresses: Vec<(String, bool)>,
    /// Its flap dampening penalty now; `None`: no `--dampening` (then neither a penalty sample
    /// nor the SUPPRESSED state's).
    pub penalty: Option<f64>,
}

impl Service<'_> {
    /// The states it can be in, in [`State::ALL`]'s order: SUPPRESSED only with dampening.
    fn states(&self) -> impl Iterator<Item = State> + '_ {
        State::ALL.into_iter().filter(|state| *state != State::Suppressed || self.penalty.is_some())
    }
}

/// Everything the metrics show.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot<'a> {
    pub version: &'a str,
    pub services: Vec<Service<'a>>,
    /// ExaBGP's answers counted so far (`done`, `error`); `None`: they are not read (`--no-ack`,
    /// `--dry-run`, stdin not a pipe), shown as 0.
    pub replies: Option<(u64, u64)>,
    /// The BFD sessions; `None`: no BFD (no sample, no family).
    pub bfd: Option<Bfd<'a>>,
}

/// One BFD session as the metrics show it.
#[derive(Debug, Clone, PartialEq)]
pub struct BfdSession<'a> {
    /// Its `peer` label: the address as given.
    pub peer: &'a str,
    pub state: BfdState,
    /// How many times it entered each state, in [`BfdState::ALL`]'s order.
    pub entered: [u64; 4],
    pub sent: u64,
    pub received: u64,
    /// `None` before the peer's first packet (shown as 0).
    pub detection_time: Option<Duration>,
}

/// The BFD speaker as the metrics show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bfd<'a> {
    pub sessions: Vec<BfdSession<'a>>,
    /// Packets dropped, by reason.
    pub dropped: Vec<(&'a str, u64)>,
}

/// The metrics of `snapshot`, as a Prometheus text exposition (version 0.0.4).
pub fn render(snapshot: &Snapshot<'_>) -> String {
    let mut out = Text(String::with_capacity(1024 + 2048 * snapshot.services.len()));
    let services = &snapshot.services;

    out.family("build_info", "gauge", "The version of exabgp-healthcheck that runs (always 1).");
    out.sample("build_info", &[("version", snapshot.version)], 1);

    out.family("service_state", "gauge", "Whether the service is in this state (1) or not (0).");
    for s in services {
        for state in s.states() {
            out.sample("service_state", &[("service", s.name), ("state", state.name())], u64::from(state == s.state));
        }
    }

    out.family("service_state_since_seconds", "gauge", "When the service entered its current state (Unix time).");
    for s in services {
        out.sample_text("service_state_since_seconds", &[("service", s.name)], &seconds(s.since));
    }

    out.family("checks_total", "counter", "Checks run, by result: pass, fail, timeout.");
    for s in services {
        for (result, n) in [("pass", s.checks.pass), ("fail", s.checks.fail), ("timeout", s.checks.timeout)] {
            out.sample("checks_total", &[("service", s.name), ("result", result)], n);
        }
    }

    out.family("check_duration_seconds", "histogram", "How long the checks took.");
    for s in services {
        let mut below = 0u64;
        for ((le, _), n) in BUCKETS.iter().zip(s.durations.counts()) {
            below = below.saturating_add(n);
            out.sample("check_duration_seconds_bucket", &[("service", s.name), ("le", le)], below);
        }
        let count = s.durations.count();
        out.sample("check_duration_seconds_bucket", &[("service", s.name), ("le", "+Inf")], count);
        out.sample_text("check_duration_seconds_sum", &[("service", s.name)], &seconds(s.durations.sum()));
        out.sample("check_duration_seconds_count", &[("service", s.name)], count);
    }

    out.family("transitions_total", "counter", "Times the service entered each state.");
    for s in services {
        for state in s.states() {
            let n = s.transitions.iter().filter(|(to, _)| *to == state).map(|(_, n)| *n).sum();
            out.sample("transitions_total", &[("service", s.name), ("to", state.name())], n);
        }
    }

    out.family("announcements_total", "counter", "Lines written to ExaBGP, by action: announce, withdraw.");
    for s in services {
        out.sample("announcements_total", &[("service", s.name), ("action", "announce")], s.announced);
        out.sample("announcements_total", &[("service", s.name), ("action", "withdraw")], s.withdrawn);
    }

    out.family("exabgp_replies_total", "counter", "ExaBGP's answers to our lines, by reply: done, error.");
    let (done, errors) = snapshot.replies.unwrap_or_default();
    out.sample("exabgp_replies_total", &[("reply", "done")], done);
    out.sample("exabgp_replies_total", &[("reply", "error")], errors);

    out.family("route_metric", "gauge", "The MED each route is announced with (no sample: withdrawn).");
    for s in services {
        for (route, med) in &s.routes {
            if let Some(med) = med {
                out.sample_text("route_metric", &[("service", s.name), ("route", route)], &med.to_string());
            }
        }
    }

    out.family(
        "address_present",
        "gauge",
        "Whether the address is on its interface (1) or not (0), as far as we know.",
    );
    for s in services {
        for (address, present) in &s.addresses {
            out.sample("address_present", &[("service", s.name), ("address", address)], u64::from(*present));
        }
    }
    if services.iter().any(|s| s.penalty.is_some()) {
        out.family("service_penalty", "gauge", "The flap dampening penalty, decayed to now (--dampening only).");
        for s in services {
            if let Some(penalty) = s.penalty {
                // Rounded: a penalty is whole flaps' worth (1000 each) decaying.
                out.sample("service_penalty", &[("service", s.name)], penalty.round() as u64);
            }
        }
    }
    if let Some(bfd) = &snapshot.bfd {
        render_bfd(&mut out, bfd);
    }
    out.0
}

/// The BFD families.
fn render_bfd(out: &mut Text, bfd: &Bfd<'_>) {
    let sessions = &bfd.sessions;
    out.family("bfd_session_state", "gauge", "Whether the BFD session is in this state (1) or not (0).");
    for s in sessions {
        for state in BfdState::ALL {
            out.sample("bfd_session_state", &[("peer", s.peer), ("state", state.name())], u64::from(state == s.state));
        }
    }
    out.family("bfd_transitions_total", "counter", "Times the BFD session entered each state.");
    for s in sessions {
        for (state, n) in BfdState::ALL.into_iter().zip(s.entered) {
            out.sample("bfd_transitions_total", &[("peer", s.peer), ("to", state.name())], n);
        }
    }
    out.family("bfd_packets_total", "counter", "BFD control packets, by direction: sent, received (accepted).");
    for s in sessions {
        out.sample("bfd_packets_total", &[("peer", s.peer), ("direction", "sent")], s.sent);
        out.sample("bfd_packets_total", &[("peer", s.peer), ("direction", "received")], s.received);
    }
    out.family("bfd_detect_time_seconds", "gauge", "The BFD session's detection time (0: not known yet).");
    for s in sessions {
        out.sample_text("bfd_detect_time_seconds", &[("peer", s.peer)], &seconds(s.detection_time.unwrap_or_default()));
    }
    out.family("bfd_dropped_total", "counter", "BFD packets dropped, by reason (send_failed: ours that failed to go).");
    for (reason, n) in &bfd.dropped {
        out.sample("bfd_dropped_total", &[("reason", reason)], *n);
    }
}

/// Seconds, with up to nanosecond precision and no trailing zeros (`12`, `0.0125`).
fn seconds(d: Duration) -> String {
    let nanos = d.subsec_nanos();
    if nanos == 0 {
        return d.as_secs().to_string();
    }
    let fraction = format!("{nanos:09}");
    format!("{}.{}", d.as_secs(), fraction.trim_end_matches('0'))
}

/// The exposition being written.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        // The help texts are ours: no backslash or line end to escape.
        let _ = writeln!(self.0, "# HELP {PREFIX}{name} {help}");
        let _ = writeln!(self.0, "# TYPE {PREFIX}{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.sample_text(name, labels, &value.to_string());
    }

    fn sample_text(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.0.push_str(PREFIX);
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                self.0.push_str(label);
                self.0.push_str("=\"");
                escape_into(&mut self.0, text);
                self.0.push('"');
            }
            self.0.push('}');
        }
        self.0.push(' ');
        self.0.push_str(value);
        self.0.push('\n');
    }
}

/// `text` as a label value: backslash, double quote and line feed escaped.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One service that checked four times (0.5 ms, 12 ms, 1.5 s and 30 s), UP, with two
    /// routes of which one is withdrawn and one address set up, one not.
    fn web(durations: &Histogram) -> Service<'_> {
        Service {
            name: "web",
            state: State::Up,
            since: Duration::new(1_764_630_000, 250_000_000),
            checks: Checks { pass: 3, fail: 0, timeout: 1 },
            durations,
            transitions: vec![(State::Rising, 1), (State::Up, 1), (State::Falling, 2), (State::Up, 1)],
            announced: 7,
            withdrawn: 1,
            routes: vec![("192.0.2.1/32".to_owned(), Some(100)), ("2001:db8::1/128".to_owned(), None)],
            addresses: vec![("192.0.2.1".to_owned(), true), ("2001:db8::1".to_owned(), false)],
            penalty: None,
        }
    }

    fn four_checks() -> Histogram {
        let mut h = Histogram::default();
        for took in [Duration::from_micros(500), ms(12), ms(1500), Duration::from_secs(30)] {
            h.observe(took);
        }
        h
    }

    const ONE_SERVICE: &str = r#"# HELP exabgp_healthcheck_build_info The version of exabgp-healthcheck that runs (always 1).
# TYPE exabgp_healthcheck_build_info gauge
exabgp_healthcheck_build_info{version="1.2.3"} 1
# HELP exabgp_healthcheck_service_state Whether the service is in this state (1) or not (0).
# TYPE exabgp_healthcheck_service_state gauge
exabgp_healthcheck_service_state{service="web",state="INIT"} 0
exabgp_healthcheck_service_state{service="web",state="DISABLED"} 0
exabgp_healthcheck_service_state{service="web",state="RISING"} 0
exabgp_healthcheck_service_state{service="web",state="FALLING"} 0
exabgp_healthcheck_service_state{service="web",state="UP"} 1
exabgp_healthcheck_service_state{service="web",state="DOWN"} 0
exabgp_healthcheck_service_state{service="web",state="DRAINING"} 0
exabgp_healthcheck_service_state{service="web",state="DRAINED"} 0
# HELP exabgp_healthcheck_service_state_since_seconds When the service entered its current state (Unix time).
# TYPE exabgp_healthcheck_service_state_since_seconds gauge
exabgp_healthcheck_service_state_since_seconds{service="web"} 1764630000.25
# HELP exabgp_healthcheck_checks_total Checks run, by result: pass, fail, timeout.
# TYPE exabgp_healthcheck_checks_total counter
exabgp_healthcheck_checks_total{service="web",result="pass"} 3
exabgp_healthcheck_checks_total{service="web",result="fail"} 0
exabgp_healthcheck_checks_total{service="web",result="timeout"} 1
# HELP exabgp_healthcheck_check_duration_seconds How long the checks took.
# TYPE exabgp_healthcheck_check_duration_seconds histogram
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.001"} 1
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.0025"} 1
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.005"} 1
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.01"} 1
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.025"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.05"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.1"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.25"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="0.5"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="1"} 2
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="2.5"} 3
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="5"} 3
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="10"} 3
exabgp_healthcheck_check_duration_seconds_bucket{service="web",le="+Inf"} 4
exabgp_healthcheck_check_duration_seconds_sum{service="web"} 31.5125
exabgp_healthcheck_check_duration_seconds_count{service="web"} 4
# HELP exabgp_healthcheck_transitions_total Times the service entered each state.
# TYPE exabgp_healthcheck_transitions_total counter
exabgp_healthcheck_transitions_total{service="web",to="INIT"} 0
exabgp_healthcheck_transitions_total{service="web",to="DISABLED"} 0
exabgp_healthcheck_transitions_total{service="web",to="RISING"} 1
exabgp_healthcheck_transitions_total{service="web",to="FALLING"} 2
exabgp_healthcheck_transitions_total{service="web",to="UP"} 2
exabgp_healthcheck_transitions_total{service="web",to="DOWN"} 0
exabgp_healthcheck_transitions_total{service="web",to="DRAINING"} 0
exabgp_healthcheck_transitions_total{service="web",to="DRAINED"} 0
# HELP exabgp_healthcheck_announcements_total Lines written to ExaBGP, by action: announce, withdraw.
# TYPE exabgp_healthcheck_announcements_total counter
exabgp_healthcheck_announcements_total{service="web",action="announce"} 7
exabgp_healthcheck_announcements_total{service="web",action="withdraw"} 1
# HELP exabgp_healthcheck_exabgp_replies_total ExaBGP's answers to our lines, by reply: done, error.
# TYPE exabgp_healthcheck_exabgp_replies_total counter
exabgp_healthcheck_exabgp_replies_total{reply="done"} 8
exabgp_healthcheck_exabgp_replies_total{reply="error"} 0
# HELP exabgp_healthcheck_route_metric The MED each route is announced with (no sample: withdrawn).
# TYPE exabgp_healthcheck_route_metric gauge
exabgp_healthcheck_route_metric{service="web",route="192.0.2.1/32"} 100
# HELP exabgp_healthcheck_address_present Whether the address is on its interface (1) or not (0), as far as we know.
# TYPE exabgp_healthcheck_address_present gauge
exabgp_healthcheck_address_present{service="web",address="192.0.2.1"} 1
exabgp_healthcheck_address_present{service="web",address="2001:db8::1"} 0
"#;

    #[test]
    fn one_service_exact_bytes() {
        let durations = four_checks();
        let snapshot = Snapshot { version: "1.2.3", services: vec![web(&durations)], replies: Some((8, 0)), bfd: None };
        let text = render(&snapshot);
        if text != ONE_SERVICE {
            for (i, (got, want)) in text.lines().zip(ONE_SERVICE.lines()).enumerate() {
                assert_eq!(got, want, "line {}", i + 1);
            }
        }
        assert_eq!(text, ONE_SERVICE);
    }

    /// The lines of `text` for the family `name` (its samples, without HELP and TYPE).
    fn samples<'t>(text: &'t str, name: &str) -> Vec<&'t str> {
        let full = format!("{PREFIX}{name}");
        text.lines().filter(|l| l.strip_prefix(&full).is_some_and(|rest| rest.starts_with(['{', ' ']))).collect()
    }

    #[test]
    fn several_services_keep_each_family_together_in_service_order() {
        let (a, b) = (four_checks(), Histogram::default());
        let mut dns = web(&b);
        dns.name = "dns";
        dns.state = State::Down;
        dns.checks = Checks { pass: 0, fail: 5, timeout: 0 };
        dns.routes = vec![("192.0.2.53/32".to_owned(), Some(1000))];
        dns.addresses = Vec::new();
        dns.since = Duration::from_secs(1_764_630_001);
        let snapshot = Snapshot { version: "1.2.3", services: vec![web(&a), dns], replies: None, bfd: None };
        let text = render(&snapshot);
        // Each family once, its HELP then TYPE then its samples, nothing of another between.
        let mut seen = Vec::new();
        let mut current = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!seen.contains(&name.to_owned()), "{name} twice");
                seen.push(name.to_owned());
                current = name;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                assert!(rest.starts_with(&format!("{current} ")), "{line}");
            } else {
                assert!(line.starts_with(current), "{line} outside {current}");
            }
        }
        assert_eq!(seen.len(), 10, "{seen:?}");
        assert_eq!(
            samples(&text, "service_state").iter().filter(|l| l.ends_with(" 1")).collect::<Vec<_>>(),
            [
                &r#"exabgp_healthcheck_service_state{service="web",state="UP"} 1"#,
                &r#"exabgp_healthcheck_service_state{service="dns",state="DOWN"} 1"#
            ]
        );
        assert_eq!(
            samples(&text, "service_state_since_seconds"),
            [
                r#"exabgp_healthcheck_service_state_since_seconds{service="web"} 1764630000.25"#,
                r#"exabgp_healthcheck_service_state_since_seconds{service="dns"} 1764630001"#
            ]
        );
        assert_eq!(
            samples(&text, "route_metric"),
            [
                r#"exabgp_healthcheck_route_metric{service="web",route="192.0.2.1/32"} 100"#,
                r#"exabgp_healthcheck_route_metric{service="dns",route="192.0.2.53/32"} 1000"#
            ]
        );
        assert_eq!(samples(&text, "address_present").len(), 2, "dns keeps no address");
        assert_eq!(
            samples(&text, "checks_total")[3],
            r#"exabgp_healthcheck_checks_total{service="dns",result="pass"} 0"#
        );
        let dns_buckets: Vec<&str> = samples(&text, "check_duration_seconds_bucket").into_iter().skip(14).collect();
        assert_eq!(dns_buckets.len(), 14);
        assert!(dns_buckets
            .iter()
            .all(|l| l.starts_with(r#"exabgp_healthcheck_check_duration_seconds_bucket{service="dns",le=""#)
                && l.ends_with("} 0")));
        assert_eq!(
            samples(&text, "check_duration_seconds_sum")[1],
            r#"exabgp_healthcheck_check_duration_seconds_sum{service="dns"} 0"#
        );
        // Replies not read: zero, not absent.
        assert_eq!(
            samples(&text, "exabgp_replies_total"),
            [
                r#"exabgp_healthcheck_exabgp_replies_total{reply="done"} 0"#,
                r#"exabgp_healthcheck_exabgp_replies_total{reply="error"} 0"#
            ]
        );
    }

    #[test]
    fn every_state_has_its_sample_and_exactly_one_is_one() {
        let durations = Histogram::default();
        for current in State::ALL {
            let mut service = web(&durations);
            service.state = current;
            let text = render(&Snapshot { version: "1", services: vec![service], replies: None, bfd: None });
            let states = samples(&text, "service_state");
            // SUPPRESSED only with dampening (below).
            let all: Vec<State> = State::ALL.into_iter().filter(|s| *s != State::Suppressed).collect();
            if current == State::Suppressed {
                assert!(!states.iter().any(|l| l.ends_with(" 1")), "{states:?}");
                continue;
            }
            assert_eq!(states.len(), all.len());
            for (state, line) in all.into_iter().zip(&states) {
                let want = format!(
                    "exabgp_healthcheck_service_state{{service=\"web\",state=\"{state}\"}} {}",
                    u8::from(state == current)
                );
                assert_eq!(*line, want);
            }
            assert_eq!(samples(&text, "transitions_total").len(), State::ALL.len() - 1);
        }
        // With dampening: every state, SUPPRESSED last, and the penalty.
        for current in State::ALL {
            let mut service = web(&durations);
            service.state = current;
            service.penalty = Some(3120.4);
            service.transitions.push((State::Suppressed, 2));
            let text = render(&Snapshot { version: "1", services: vec![service], replies: None, bfd: None });
            let states = samples(&text, "service_state");
            assert_eq!(states.len(), State::ALL.len());
            for (state, line) in State::ALL.into_iter().zip(&states) {
                let want = format!(
                    "exabgp_healthcheck_service_state{{service=\"web\",state=\"{state}\"}} {}",
                    u8::from(state == current)
                );
                assert_eq!(*line, want);
            }
            let transitions = samples(&text, "transitions_total");
            assert_eq!(
                *transitions.last().unwrap(),
                r#"exabgp_healthcheck_transitions_total{service="web",to="SUPPRESSED"} 2"#
            );
            assert_eq!(
                samples(&text, "service_penalty"),
                [r#"exabgp_healthcheck_service_penalty{service="web"} 3120"#]
            );
        }
    }

    #[test]
    fn the_penalty_family_only_with_dampening_and_only_its_services() {
        let durations = Histogram::default();
        let mut dns = web(&durations);
        dns.name = "dns";
        dns.penalty = Some(0.0);
        let text = render(&Snapshot { version: "1", services: vec![web(&durations), dns], replies: None, bfd: None });
        assert_eq!(samples(&text, "service_penalty"), [r#"exabgp_healthcheck_service_penalty{service="dns"} 0"#]);
        assert!(text.contains("# TYPE exabgp_healthcheck_service_penalty gauge\n"));
        let text = render(&Snapshot { version: "1", services: vec![web(&durations)], replies: None, bfd: None });
        assert!(!text.contains("penalty"), "{text}");
        assert!(!text.contains("SUPPRESSED"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let durations = Histogram::default();
        let mut service = web(&durations);
        service.name = "a\\b\"c\nd";
        let text = render(&Snapshot { version: "0.1\"x", services: vec![service], replies: None, bfd: None });
        assert_eq!(samples(&text, "build_info"), [r#"exabgp_healthcheck_build_info{version="0.1\"x"} 1"#]);
        assert_eq!(
            samples(&text, "service_state_since_seconds"),
            [r#"exabgp_healthcheck_service_state_since_seconds{service="a\\b\"c\nd"} 1764630000.25"#]
        );
        // Every line is one sample or comment: no line end got through unescaped.
        assert!(text.lines().all(|l| l.starts_with('#') || l.starts_with(PREFIX)), "{text}");
    }

    const BFD: &str = r#"# HELP exabgp_healthcheck_bfd_session_state Whether the BFD session is in this state (1) or not (0).
# TYPE exabgp_healthcheck_bfd_session_state gauge
exabgp_healthcheck_bfd_session_state{peer="10.0.0.1",state="admin-down"} 0
exabgp_healthcheck_bfd_session_state{peer="10.0.0.1",state="down"} 0
exabgp_healthcheck_bfd_session_state{peer="10.0.0.1",state="init"} 0
exabgp_healthcheck_bfd_session_state{peer="10.0.0.1",state="up"} 1
# HELP exabgp_healthcheck_bfd_transitions_total Times the BFD session entered each state.
# TYPE exabgp_healthcheck_bfd_transitions_total counter
exabgp_healthcheck_bfd_transitions_total{peer="10.0.0.1",to="admin-down"} 0
exabgp_healthcheck_bfd_transitions_total{peer="10.0.0.1",to="down"} 1
exabgp_healthcheck_bfd_transitions_total{peer="10.0.0.1",to="init"} 1
exabgp_healthcheck_bfd_transitions_total{peer="10.0.0.1",to="up"} 2
# HELP exabgp_healthcheck_bfd_packets_total BFD control packets, by direction: sent, received (accepted).
# TYPE exabgp_healthcheck_bfd_packets_total counter
exabgp_healthcheck_bfd_packets_total{peer="10.0.0.1",direction="sent"} 40
exabgp_healthcheck_bfd_packets_total{peer="10.0.0.1",direction="received"} 38
# HELP exabgp_healthcheck_bfd_detect_time_seconds The BFD session's detection time (0: not known yet).
# TYPE exabgp_healthcheck_bfd_detect_time_seconds gauge
exabgp_healthcheck_bfd_detect_time_seconds{peer="10.0.0.1"} 0.9
# HELP exabgp_healthcheck_bfd_dropped_total BFD packets dropped, by reason (send_failed: ours that failed to go).
# TYPE exabgp_healthcheck_bfd_dropped_total counter
exabgp_healthcheck_bfd_dropped_total{reason="ttl"} 2
"#;

    #[test]
    fn bfd_sessions_come_last_and_only_with_bfd() {
        let session = BfdSession {
            peer: "10.0.0.1",
            state: BfdState::Up,
            entered: [0, 1, 1, 2],
            sent: 40,
            received: 38,
            detection_time: Some(ms(900)),
        };
        let bfd = Bfd { sessions: vec![session], dropped: vec![("ttl", 2)] };
        let text = render(&Snapshot { version: "1", services: Vec::new(), replies: None, bfd: Some(bfd) });
        let at = text.find("# HELP exabgp_healthcheck_bfd_session_state").unwrap();
        assert_eq!(&text[at..], BFD);
        let without = render(&Snapshot { version: "1", services: Vec::new(), replies: None, bfd: None });
        assert_eq!(without, text[..at]);
    }

    #[test]
    fn seconds_are_written_without_trailing_zeros() {
        assert_eq!(seconds(Duration::ZERO), "0");
        assert_eq!(seconds(Duration::from_secs(12)), "12");
        assert_eq!(seconds(Duration::from_micros(12_500)), "0.0125");
        assert_eq!(seconds(Duration::new(3, 1)), "3.000000001");
    }
}
