//! The text API lines we write to ExaBGP for a state: pure rendering, no I/O. Golden tests at
//! the bottom pin the exact bytes, because ExaBGP parses them.

use crate::net::{DisplayIp, Net};
use crate::state::State;
use std::fmt::Write;
use std::net::IpAddr;

/// Which peers a line is for, as the line's leading selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// No selector: every neighbor the process is attached to (ExaBGP 3.4 to 5.x).
    All,
    /// `neighbor * ` (what the reference writes; asked for with `--neighbor '*'`).
    AllNeighbors,
    /// `neighbor A, neighbor B `.
    Neighbors(Vec<IpAddr>),
    /// API v6 (`--api-version 6`): `peer * `.
    AllPeers,
    /// API v6: `peer A, peer B `.
    Peers(Vec<IpAddr>),
}

impl Selector {
    /// The text that starts each line, trailing space included (empty for [`Selector::All`]).
    pub fn prefix(&self) -> String {
        let list = |word: &str, ips: &[IpAddr]| {
            let names: Vec<String> = ips.iter().map(|ip| format!("{word} {}", DisplayIp(*ip))).collect();
            format!("{} ", names.join(", "))
        };
        match self {
            Selector::All => String::new(),
            Selector::AllNeighbors => "neighbor * ".to_owned(),
            Selector::Neighbors(ips) => list("neighbor", ips),
            Selector::AllPeers => "peer * ".to_owned(),
            Selector::Peers(ips) => list("peer", ips),
        }
    }
}

/// A value per service state (up, down, disabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerState<T> {
    pub up: T,
    pub down: T,
    pub disabled: T,
}

impl<T> PerState<T> {
    /// The value for `state`; `None` for states that announce nothing of their own.
    /// SUPPRESSED is announced as DOWN is.
    pub fn get(&self, state: State) -> Option<&T> {
        match state {
            State::Up => Some(&self.up),
            State::Down | State::Suppressed => Some(&self.down),
            State::Disabled => Some(&self.disabled),
            _ => None,
        }
    }
}

/// Everything that shapes the lines, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    pub selector: Selector,
    /// `None` means `self`.
    pub next_hop: Option<IpAddr>,
    pub metric: PerState<i64>,
    pub increase: i64,
    pub local_preference: Option<i64>,
    pub community: Option<String>,
    pub disabled_community: Option<String>,
    pub extended_community: Option<String>,
    pub large_community: Option<String>,
    pub as_path: Option<String>,
    pub state_as_path: PerState<Option<String>>,
    pub withdraw_on_down: bool,
    /// Non-zero path identifier.
    pub path_id: Option<u32>,
    /// DRAINING: the communities added (`--drain-community`, checked) and the local
    /// preference sent instead of `--local-preference`.
    pub drain_community: String,
    pub drain_local_preference: i64,
}

impl Announce {
    /// The same, with the up metric raised by `by` (`--metric-from`).
    pub fn raised(&self, by: i64) -> Announce {
        let mut raised = self.clone();
        raised.metric.up = raised.metric.up.saturating_add(by);
        raised
    }
}

/// What a set of lines is for: a service in a state, or the process leaving (EXIT: every route
/// withdrawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    State(State),
    Exit,
}

impl From<State> for Announcement {
    fn from(state: State) -> Announcement {
        Announcement::State(state)
    }
}

impl std::fmt::Display for Announcement {
    /// The reference's name (`UP`, `EXIT`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Announcement::State(state) => state.fmt(f),
            Announcement::Exit => f.write_str("EXIT"),
        }
    }
}

/// Whether lines are written at all: only in UP, DOWN, DISABLED, DRAINING, DRAINED and
/// SUPPRESSED, and at EXIT.
pub fn announces(what: impl Into<Announcement>) -> bool {
    matches!(
        what.into(),
        Announcement::State(
            State::Up | State::Down | State::Disabled | State::Draining | State::Drained | State::Suppressed
        ) | Announcement::Exit
    )
}

/// Whether a route's lines under `a` and under `b` are about the same path at the same peers:
/// with another path identifier, or to other neighbors, the old path is another one, which an
/// announcement under `b` would not replace (nor withdraw).
pub fn same_paths(a: &Announce, b: &Announce) -> bool {
    a.selector == b.selector && a.path_id == b.path_id
}

/// Whether the lines for `what` withdraw the routes (EXIT and DRAINED, or DOWN, DISABLED and
/// SUPPRESSED with `--withdraw-on-down`) rather than announce them. DRAINING always announces.
pub fn withdraws(what: Announcement, cfg: &Announce) -> bool {
    match what {
        Announcement::Exit | Announcement::State(State::Drained) => true,
        Announcement::State(State::Up | State::Draining) => false,
        Announcement::State(_) => cfg.withdraw_on_down,
    }
}

/// The MED of the first route's line for `state` (each next route's is `--increase` more):
/// the state's own metric, the down metric in DRAINING.
fn first_metric(state: State, cfg: &Announce) -> i64 {
    match state {
        State::Draining => cfg.metric.down,
        _ => cfg.metric.get(state).copied().unwrap_or(0),
    }
}

/// The MED that each of `count` routes is announced with by the lines for `what`, in order:
/// `None` where the line is a withdraw or there is no line.
pub fn meds(what: impl Into<Announcement>, cfg: &Announce, count: usize) -> Vec<Option<i64>> {
    let what = what.into();
    let state = match what {
        Announcement::State(state) if announces(what) && !withdraws(what, cfg) => state,
        _ => return vec![None; count],
    };
    let mut metric = first_metric(state, cfg);
    let mut meds = Vec::with_capacity(count);
    for _ in 0..count {
        meds.push(Some(metric));
        metric += cfg.increase;
    }
    meds
}

/// The lines for `what`, one per route in order, without newlines. Empty for states that
/// write nothing. DRAINING announces (even with `--withdraw-on-down`) with the down metric,
/// `--community` and the drain community, the drain local preference and `--as-path`;
/// DRAINED withdraws.
pub fn render(what: impl Into<Announcement>, cfg: &Announce, routes: &[Net]) -> Vec<String> {
    let what = what.into();
    if !announces(what) {
        return Vec::new();
    }
    let state = match what {
        Announcement::State(state) => Some(state),
        Announcement::Exit => None,
    };
    let withdraw = withdraws(what, cfg);
    let prefix = cfg.selector.prefix();
    let next_hop = cfg.next_hop.map_or_else(|| "self".to_owned(), |ip| DisplayIp(ip).to_string());
    // The MEDs come from `meds`, the one place that knows them: `None` is a withdraw.
    let meds = meds(what, cfg, routes.len());
    let local_preference = match state {
        Some(State::Draining) => Some(cfg.drain_local_preference),
        _ => cfg.local_preference,
    };
    let drain_community;
    let community = match state {
        Some(State::Down | State::Disabled | State::Suppressed) => {
            cfg.disabled_community.as_ref().or(cfg.community.as_ref())
        }
        Some(State::Draining) => {
            drain_community = match cfg.community.as_deref().filter(|c| !c.is_empty()) {
                Some(own) => format!("{own} {}", cfg.drain_community),
                None => cfg.drain_community.clone(),
            };
            Some(&drain_community)
        }
        _ => cfg.community.as_ref(),
    };
    let per_state = state.and_then(|s| cfg.state_as_path.get(s)).and_then(Option::as_ref);
    let as_path = per_state.or(cfg.as_path.as_ref());
    routes
        .iter()
        .zip(meds)
        .map(|(route, med)| {
            let mut line = String::with_capacity(96);
            let action = if withdraw { "withdraw" } else { "announce" };
            // Writing into a String cannot fail.
            let _ = write!(line, "{prefix}{action} route {route} next-hop {next_hop}");
            if let Some(med) = med {
                let _ = write!(line, " med {med}");
                if let Some(pref) = local_preference {
                    let _ = write!(line, " local-preference {pref}");
                }
                let attributes = [
                    ("community", community),
                    ("extended-community", cfg.extended_community.as_ref()),
                    ("large-community", cfg.large_community.as_ref()),
                    ("as-path", as_path),
                ];
                for (name, value) in attributes {
                    if let Some(value) = value.filter(|v| !v.is_empty()) {
                        let _ = write!(line, " {name} [ {value} ]");
                    }
                }
            }
            if let Some(id) = cfg.path_id {
                let _ = write!(line, " path-information {id}");
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Announce {
        Announce {
            selector: Selector::All,
            next_hop: None,
            metric: PerState { up: 100, down: 1000, disabled: 500 },
            increase: 1,
            local_preference: None,
            community: None,
            disabled_community: None,
            extended_community: None,
            large_community: None,
            as_path: None,
            state_as_path: PerState { up: None, down: None, disabled: None },
            withdraw_on_down: false,
            path_id: None,
            drain_community: "65535:0".into(),
            drain_local_preference: 0,
        }
    }

    fn nets(list: &[&str]) -> Vec<Net> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn meds_are_what_the_lines_announce() {
        let routes = nets(&["37.72.160.20/32", "37.72.160.21/32"]);
        let mut cfg = base();
        let med_in =
            |line: &String| line.split(" med ").nth(1).map(|rest| rest.split(' ').next().unwrap().parse().unwrap());
        for withdraw_on_down in [false, true] {
            cfg.withdraw_on_down = withdraw_on_down;
            let whats = State::ALL.map(Announcement::State).into_iter().chain([Announcement::Exit]);
            for what in whats {
                let lines = render(what, &cfg, &routes);
                let expected: Vec<Option<i64>> =
                    if lines.is_empty() { vec![None; routes.len()] } else { lines.iter().map(med_in).collect() };
                assert_eq!(meds(what, &cfg, routes.len()), expected, "{what} withdraw_on_down={withdraw_on_down}");
            }
        }
        cfg.withdraw_on_down = false;
        assert_eq!(meds(State::Down, &cfg, 3), [Some(1000), Some(1001), Some(1002)]);
        assert_eq!(meds(Announcement::Exit, &cfg, 2), [None, None]);
        assert_eq!(meds(State::Draining, &cfg, 2), [Some(1000), Some(1001)]);
        assert_eq!(meds(State::Drained, &cfg, 2), [None, None]);
        for withdraw_on_down in [false, true] {
            let cfg = Announce { withdraw_on_down, ..base() };
            assert!(!withdraws(State::Draining.into(), &cfg) && withdraws(State::Drained.into(), &cfg));
        }
    }

    #[test]
    fn suppressed_is_announced_as_down_is() {
        let routes = nets(&["37.72.160.20/32", "37.72.160.21/32"]);
        let full = Announce {
            community: Some("65000:1".into()),
            disabled_community: Some("65000:666".into()),
            state_as_path: PerState { up: Some("1".into()), down: Some("2 2".into()), disabled: Some("3".into()) },
            local_preference: Some(50),
            path_id: Some(4),
            ..base()
        };
        for withdraw_on_down in [false, true] {
            for cfg in [base(), full.clone()] {
                let cfg = Announce { withdraw_on_down, ..cfg };
                assert_eq!(render(State::Suppressed, &cfg, &routes), render(State::Down, &cfg, &routes));
                assert_eq!(meds(State::Suppressed, &cfg, 2), meds(State::Down, &cfg, 2));
                assert_eq!(withdraws(State::Suppressed.into(), &cfg), withdraw_on_down);
            }
        }
        assert!(announces(State::Suppressed));
        assert_eq!(
            render(State::Suppressed, &full, &routes)[0],
            "announce route 37.72.160.20/32 next-hop self med 1000 local-preference 50 \
             community [ 65000:666 ] as-path [ 2 2 ] path-information 4"
        );
    }

    #[test]
    fn default_lines_for_each_state() {
        let routes = nets(&["37.72.160.20/32", "37.72.160.21/32"]);
        let cfg = base();
        assert_eq!(
            render(State::Up, &cfg, &routes),
            [
                "announce route 37.72.160.20/32 next-hop self med 100",
                "announce route 37.72.160.21/32 next-hop self med 101"
            ]
        );
        assert_eq!(
            render(State::Down, &cfg, &routes),
            [
                "announce route 37.72.160.20/32 next-hop self med 1000",
                "announce route 37.72.160.21/32 next-hop self med 1001"
            ]
        );
        assert_eq!(render(State::Disabled, &cfg, &routes)[0], "announce route 37.72.160.20/32 next-hop self med 500");
        assert_eq!(
            render(Announcement::Exit, &cfg, &routes),
            ["withdraw route 37.72.160.20/32 next-hop self", "withdraw route 37.72.160.21/32 next-hop self"]
        );
        assert_eq!(Announcement::Exit.to_string(), "EXIT");
        assert_eq!(Announcement::from(State::Up).to_string(), "UP");
        for quiet in [State::Init, State::Rising, State::Falling] {
            assert!(render(quiet, &cfg, &routes).is_empty(), "{quiet}");
        }
    }

    #[test]
    fn draining_announces_with_the_drain_community_local_preference_and_down_metric() {
        let routes = nets(&["37.72.160.20/32", "2001:db8::20/128"]);
        let cfg = base();
        assert_eq!(
            render(State::Draining, &cfg, &routes),
            [
                "announce route 37.72.160.20/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]",
                "announce route 2001:db8::20/128 next-hop self med 1001 local-preference 0 community [ 65535:0 ]"
            ]
        );
        assert_eq!(
            render(State::Drained, &cfg, &routes),
            ["withdraw route 37.72.160.20/32 next-hop self", "withdraw route 2001:db8::20/128 next-hop self"]
        );
        assert!(announces(State::Draining) && announces(State::Drained));
    }

    #[test]
    fn draining_adds_its_community_to_the_service_s_and_keeps_the_other_attributes() {
        let routes = nets(&["192.0.2.1/32"]);
        let cfg = Announce {
            selector: Selector::AllNeighbors,
            next_hop: Some("192.0.2.10".parse().unwrap()),
            local_preference: Some(200),
            community: Some("65000:1 65000:2".into()),
            disabled_community: Some("65000:666".into()),
            extended_community: Some("target:65000:1".into()),
            large_community: Some("65000:1:1".into()),
            as_path: Some("65001".into()),
            state_as_path: PerState {
                up: Some("65001 65001".into()),
                down: Some("65001 65001 65001".into()),
                disabled: None,
            },
            withdraw_on_down: true,
            path_id: Some(3),
            drain_community: "65535:0 65000:9".into(),
            drain_local_preference: 5,
            ..base()
        };
        assert_eq!(
            render(State::Draining, &cfg, &routes),
            ["neighbor * announce route 192.0.2.1/32 next-hop 192.0.2.10 med 1000 local-preference 5 \
              community [ 65000:1 65000:2 65535:0 65000:9 ] extended-community [ target:65000:1 ] \
              large-community [ 65000:1:1 ] as-path [ 65001 ] path-information 3"]
        );
        assert_eq!(
            render(State::Drained, &cfg, &routes),
            ["neighbor * withdraw route 192.0.2.1/32 next-hop 192.0.2.10 path-information 3"]
        );
        // The other states are untouched by the drain's settings.
        assert_eq!(
            render(State::Up, &cfg, &routes),
            ["neighbor * announce route 192.0.2.1/32 next-hop 192.0.2.10 med 100 local-preference 200 \
              community [ 65000:1 65000:2 ] extended-community [ target:65000:1 ] \
              large-community [ 65000:1:1 ] as-path [ 65001 65001 ] path-information 3"]
        );
        let empty = Announce { community: Some(String::new()), ..base() };
        assert_eq!(
            render(State::Draining, &empty, &routes),
            ["announce route 192.0.2.1/32 next-hop self med 1000 local-preference 0 community [ 65535:0 ]"]
        );
    }

    #[test]
    fn withdraw_on_down_withdraws_in_down_and_disabled_only() {
        let routes = nets(&["2001:db8::20/128"]);
        let cfg = Announce { withdraw_on_down: true, path_id: Some(7), ..base() };
        assert_eq!(
            render(State::Up, &cfg, &routes),
            ["announce route 2001:db8::20/128 next-hop self med 100 path-information 7"]
        );
        assert_eq!(
            render(State::Down, &cfg, &routes),
            ["withdraw route 2001:db8::20/128 next-hop self path-information 7"]
        );
        assert_eq!(
            render(State::Disabled, &cfg, &routes),
            ["withdraw route 2001:db8::20/128 next-hop self path-information 7"]
        );
    }

    #[test]
    fn every_attribute_in_the_references_order() {
        let routes = nets(&["192.0.2.1/32"]);
        let cfg = Announce {
            selector: Selector::Neighbors(vec!["192.0.2.254".parse().unwrap(), "2001:db8::fe".parse().unwrap()]),
            next_hop: Some("192.0.2.10".parse().unwrap()),
            local_preference: Some(200),
            community: Some("65000:1 65000:2".into()),
            disabled_community: Some("65000:666".into()),
            extended_community: Some("target:65000:1".into()),
            large_community: Some("65000:1:1".into()),
            as_path: Some("65001".into()),
            state_as_path: PerState { up: None, down: Some("65001 65001 65001".into()), disabled: None },
            path_id: Some(3),
            ..base()
        };
        assert_eq!(
            render(State::Up, &cfg, &routes),
            ["neighbor 192.0.2.254, neighbor 2001:db8::fe announce route 192.0.2.1/32 next-hop 192.0.2.10 \
              med 100 local-preference 200 community [ 65000:1 65000:2 ] extended-community \
              [ target:65000:1 ] large-community [ 65000:1:1 ] as-path [ 65001 ] path-information 3"]
        );
        assert_eq!(
            render(State::Down, &cfg, &routes),
            ["neighbor 192.0.2.254, neighbor 2001:db8::fe announce route 192.0.2.1/32 next-hop 192.0.2.10 \
              med 1000 local-preference 200 community [ 65000:666 ] extended-community \
              [ target:65000:1 ] large-community [ 65000:1:1 ] as-path [ 65001 65001 65001 ] path-information 3"]
        );
        assert_eq!(
            render(State::Disabled, &cfg, &routes),
            ["neighbor 192.0.2.254, neighbor 2001:db8::fe announce route 192.0.2.1/32 next-hop 192.0.2.10 \
              med 500 local-preference 200 community [ 65000:666 ] extended-community \
              [ target:65000:1 ] large-community [ 65000:1:1 ] as-path [ 65001 ] path-information 3"]
        );
    }

    #[test]
    fn disabled_community_alone_is_sent_only_when_down_or_disabled() {
        let routes = nets(&["192.0.2.1/32"]);
        let cfg = Announce { disabled_community: Some("65000:666".into()), ..base() };
        assert_eq!(render(State::Up, &cfg, &routes), ["announce route 192.0.2.1/32 next-hop self med 100"]);
        assert_eq!(
            render(State::Down, &cfg, &routes),
            ["announce route 192.0.2.1/32 next-hop self med 1000 community [ 65000:666 ]"]
        );
    }

    #[test]
    fn selectors() {
        let routes = nets(&["192.0.2.1/32"]);
        let peer: IpAddr = "192.0.2.254".parse().unwrap();
        for (selector, want) in [
            (Selector::AllNeighbors, "neighbor * announce"),
            (Selector::Neighbors(vec![peer]), "neighbor 192.0.2.254 announce"),
            (Selector::AllPeers, "peer * announce"),
            (Selector::Peers(vec![peer]), "peer 192.0.2.254 announce"),
        ] {
            let cfg = Announce { selector, ..base() };
            let line = &render(State::Up, &cfg, &routes)[0];
            assert!(line.starts_with(want), "{line}");
        }
    }

    #[test]
    fn metric_grows_by_increase_even_when_negative() {
        let routes = nets(&["192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32"]);
        let cfg = Announce { increase: -10, ..base() };
        let meds: Vec<String> =
            render(State::Down, &cfg, &routes).iter().map(|l| l.rsplit(' ').next().unwrap().to_owned()).collect();
        assert_eq!(meds, ["1000", "990", "980"]);
    }

    #[test]
    fn ipv6_next_hop_and_mapped_addresses_are_spelled_as_python_does() {
        let routes = nets(&["::ffff:192.0.2.1/128"]);
        let cfg = Announce { next_hop: Some("2001:db8::1".parse().unwrap()), ..base() };
        assert_eq!(
            render(State::Up, &cfg, &routes),
            ["announce route ::ffff:c000:201/128 next-hop 2001:db8::1 med 100"]
        );
    }
}
