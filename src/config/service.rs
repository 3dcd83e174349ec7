//! One service's settings from its flags ([`service_values`]), in named steps taken in the order
//! of old, so that of several bad values the same one is reported: when and how often it
//! checks, its networks, its label, what it announces, its drain time and the range of its
//! metrics, then its `--check`s.

use super::values::{attribute, communities, ip_ifname, med, metric_range, no_control, no_control_but_tab, selector};
use super::{Hooks, ServiceConfig, ServiceNet, LOOPBACK, MAX_ADDRESSES};
use crate::cli::Args;
use crate::dampening::Params;
use crate::error::UsageError;
use crate::exabgp::lines::{Announce, PerState};
use crate::med::{Policy, Source};
use crate::net::Net;
use crate::probe::url::{CheckUrl, Target};
use crate::state::Thresholds;
use crate::units::duration;
use std::net::IpAddr;
use std::time::Duration;

/// A service's values, but for the checks of its strings ([`service_strings`]); `api_version`
/// is the process's.
pub(super) fn service_values(a: &Args, api_version: &str) -> Result<ServiceConfig, UsageError> {
    let Timing { interval, thresholds, fast_interval, timeout } = timing(a)?;
    let nets = networks(a)?;
    if let Some(label) = &a.label {
        check_label(label, &nets)?;
    }
    let announce = announce(a, api_version)?;
    let drain_time = duration("--drain-time", &a.drain_time)?;
    let dampening = dampening(a)?;
    let routes: u128 =
        if a.deaggregate_networks { nets.iter().map(|n| n.net.size()).sum() } else { nets.len() as u128 };
    metric_range(&announce.metric, announce.increase, routes)?;
    let med = med_policy(a)?;

    Ok(ServiceConfig {
        section: None,
        name: a.name.clone(),
        interval,
        fast_interval,
        timeout,
        thresholds,
        splay: a.splay,
        disable_file: a.disable.clone(),
        command: a.command.clone(),
        checks: checks(&a.checks)?,
        nets,
        label: a.label.clone(),
        label_exact_match: a.label_exact_match,
        deaggregate: a.deaggregate_networks,
        ip_setup: !a.no_ip_setup,
        dynamic_ip_setup: a.dynamic_ip_setup,
        start_ip: a.start_ip,
        debounce: a.debounce,
        announce,
        hooks: hooks(a),
        drain_file: a.drain_file.clone(),
        drain_time,
        med,
        dampening,
    })
}

/// `--metric-from` and its companions: a step of more than zero, a hysteresis of 0 or more, a
/// hold; and a check that measures what the MED comes from (a latency: any check; an output:
/// `--command`). The companions are checked even without `--metric-from`.
fn med_policy(a: &Args) -> Result<Option<Policy>, UsageError> {
    let step = duration("--metric-step", &a.metric_step)?;
    if step.is_zero() {
        return Err(UsageError::value("--metric-step", &a.metric_step, "must be more than 0"));
    }
    let hysteresis = u64::try_from(a.metric_hysteresis).map_err(|_| {
        UsageError::value(
            "--metric-hysteresis",
            a.metric_hysteresis,
            "must be 0 or more (0 and 1 both mean any change)",
        )
    })?;
    let hold = duration("--metric-hold", &a.metric_hold)?;
    let source = match a.metric_from.as_deref() {
        None => return Ok(None),
        Some("latency") => Source::Latency,
        Some("output") => Source::Output,
        Some(other) => return Err(UsageError::value("--metric-from", other, "must be latency or output")),
    };
    match source {
        Source::Output if a.command.is_none() => {
            return Err(UsageError::value(
                "--metric-from",
                "output",
                "needs --command: only a command prints the number (--check has no output)",
            ));
        }
        Source::Latency if a.command.is_none() && a.checks.is_empty() => {
            return Err(UsageError::value(
                "--metric-from",
                "latency",
                "needs a check to time (--command or --check); without one the service is always up",
            ));
        }
        _ => {}
    }
    Ok(Some(Policy { source, step, hysteresis, hold }))
}

/// `--dampening` and its knobs, checked whether it is on or not: `None` without it.
fn dampening(a: &Args) -> Result<Option<Params>, UsageError> {
    let positive = |flag: &'static str, text: &str| {
        let time = duration(flag, text)?;
        if time.is_zero() {
            return Err(UsageError::value(flag, text, "must be more than 0"));
        }
        Ok(time)
    };
    let half_life = positive("--dampening-half-life", &a.dampening_half_life)?;
    let max_suppress = positive("--dampening-max-suppress", &a.dampening_max_suppress)?;
    let penalty = |flag: &'static str, value: i64| {
        u32::try_from(value)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| UsageError::value(flag, value, format!("must be between 1 and {}", u32::MAX)))
    };
    let reuse = penalty("--dampening-reuse", a.dampening_reuse)?;
    let suppress = penalty("--dampening-suppress", a.dampening_suppress)?;
    if suppress <= reuse {
        return Err(UsageError::value(
            "--dampening-suppress",
            suppress,
            format!("must be more than --dampening-reuse ({reuse})"),
        ));
    }
    let params = Params { half_life, suppress, reuse, max_suppress };
    let ceiling = params.ceiling();
    if f64::from(suppress) >= ceiling {
        return Err(UsageError::value(
            "--dampening-suppress",
            suppress,
            format!(
                "can never be reached: the penalty is at most {ceiling:.0}, what decays to --dampening-reuse \
                 in --dampening-max-suppress (raise --dampening-max-suppress or lower --dampening-half-life)"
            ),
        ));
    }
    Ok(a.dampening.then_some(params))
}

/// When and how often a service checks, and how many checks make a change.
struct Timing {
    interval: Duration,
    thresholds: Thresholds,
    fast_interval: Duration,
    timeout: Option<Duration>,
}

/// `--interval`, `--rise` and `--fall`, `--fast-interval`, `--timeout` (0: no limit).
fn timing(a: &Args) -> Result<Timing, UsageError> {
    let interval = duration("--interval", &a.interval)?;
    for (flag, value) in [("--rise", a.rise), ("--fall", a.fall)] {
        if value < 0 {
            return Err(UsageError::value(flag, value, "must be 0 or more (0 and 1 both mean at once)"));
        }
    }
    let fast_interval = duration("--fast-interval", &a.fast)?;
    let timeout = Some(duration("--timeout", &a.timeout)?).filter(|t| !t.is_zero());
    Ok(Timing { interval, thresholds: Thresholds { rise: a.rise, fall: a.fall }, fast_interval, timeout })
}

/// The `--ip` networks, each on its `--ip-ifname` interface (else `lo`), within the number of
/// addresses this program sets up or deaggregates.
fn networks(a: &Args) -> Result<Vec<ServiceNet>, UsageError> {
    let mut nets = Vec::new();
    for text in &a.ips {
        let net: Net = text.parse().map_err(|e| UsageError::value("--ip", text, format!("{e}")))?;
        if net.size() > MAX_ADDRESSES && (!a.no_ip_setup || a.dynamic_ip_setup || a.deaggregate_networks) {
            return Err(UsageError::value(
                "--ip",
                text,
                format!(
                    "{} addresses are more than the {MAX_ADDRESSES} this program sets up or deaggregates; \
                     use a longer prefix or --no-ip-setup",
                    net.size()
                ),
            ));
        }
        // Repeats are kept, as the reference keeps them: each gets its own line and metric.
        nets.push(ServiceNet { net, ifname: LOOPBACK.to_owned() });
    }
    for pair in &a.ip_ifnames {
        let (ip, ifname) = ip_ifname(pair)?;
        let mut named = nets.iter_mut().filter(|n| n.net == ip).peekable();
        if named.peek().is_none() {
            return Err(UsageError::value("--ip-ifname", pair, format!("{ip} is not given with --ip")));
        }
        named.for_each(|entry| entry.ifname = ifname.clone());
    }
    // Saturating: two networks as wide as ::/1 already hold more addresses than a u128 counts.
    let total: u128 = nets.iter().map(|n| n.net.size()).fold(0, u128::saturating_add);
    if total > MAX_ADDRESSES && (!a.no_ip_setup || a.dynamic_ip_setup || a.deaggregate_networks) {
        return Err(UsageError::flag(
            "--ip",
            format!("{total} addresses in all are more than the {MAX_ADDRESSES} supported"),
        ));
    }
    Ok(nets)
}

/// `--label`: a word that makes an interface label (`IFNAME:LABEL`) on every interface of
/// `nets`, and on `lo`.
fn check_label(label: &str, nets: &[ServiceNet]) -> Result<(), UsageError> {
    if label.is_empty() || label.contains(|c: char| c.is_control() || c.is_whitespace() || c == '/') {
        return Err(UsageError::quoted("--label", label, "a label is a non-empty word"));
    }
    let mut ifnames: Vec<&str> = nets.iter().map(|n| n.ifname.as_str()).collect();
    ifnames.push(LOOPBACK);
    for ifname in ifnames {
        if ifname.len() + 1 + label.len() > 15 {
            return Err(UsageError::value(
                "--label",
                label,
                format!("'{ifname}:{label}' is longer than the 15 characters of an interface label"),
            ));
        }
    }
    Ok(())
}

/// What the service's lines say: the neighbor selector, next hop, metrics, path id, local
/// preference, attributes and the drain's community and local preference.
fn announce(a: &Args, api_version: &str) -> Result<Announce, UsageError> {
    let next_hop = match a.next_hop.as_deref() {
        None | Some("self") => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| UsageError::value("--next-hop", text, "not an IP address (or 'self')"))?,
        ),
    };
    let selector = selector(&a.neighbors, api_version)?;
    let metric = PerState {
        up: med("--up-metric", a.up_metric)?,
        down: med("--down-metric", a.down_metric)?,
        disabled: med("--disabled-metric", a.disabled_metric)?,
    };
    let path_id = match a.path_id {
        None | Some(0) => None,
        Some(id) => Some(
            u32::try_from(id)
                .map_err(|_| UsageError::value("--path-id", id, format!("must be between 0 and {}", u32::MAX)))?,
        ),
    };
    let local_preference =
        if a.local_preference >= 0 { Some(med("--local-preference", a.local_preference)?) } else { None };
    Ok(Announce {
        selector,
        next_hop,
        metric,
        increase: a.increase,
        local_preference,
        community: attribute("--community", a.community.clone())?,
        disabled_community: attribute("--disabled-community", a.disabled_community.clone())?,
        extended_community: attribute("--extended-community", a.extended_community.clone())?,
        large_community: attribute("--large-community", a.large_community.clone())?,
        as_path: attribute("--as-path", a.as_path.clone())?,
        state_as_path: PerState {
            up: attribute("--up-as-path", a.up_as_path.clone())?,
            down: attribute("--down-as-path", a.down_as_path.clone())?,
            disabled: attribute("--disabled-as-path", a.disabled_as_path.clone())?,
        },
        withdraw_on_down: a.withdraw_on_down,
        path_id,
        drain_community: communities("--drain-community", &a.drain_community)?,
        drain_local_preference: med("--drain-local-preference", a.drain_local_preference)?,
    })
}

/// The hooks to run on entering states.
fn hooks(a: &Args) -> Hooks {
    Hooks {
        any: a.execute.clone(),
        up: a.up_execute.clone(),
        down: a.down_execute.clone(),
        disabled: a.disabled_execute.clone(),
    }
}

/// `--check URL`s, each parsed.
fn checks(texts: &[String]) -> Result<Vec<CheckUrl>, UsageError> {
    texts
        .iter()
        .map(|text| {
            no_control("--check", text)?;
            let url = text.parse::<CheckUrl>().map_err(|why| UsageError::value("--check", text, why))?;
            // Whether this host lets us ping at all: said at start, not at every check.
            if let Target::Icmp(host) = url.target {
                crate::probe::icmp::usable(host).map_err(|why| UsageError::value("--check", text, why))?;
            }
            Ok(url)
        })
        .collect()
}

/// The service's strings that go into log lines and shells.
pub(super) fn service_strings(a: &Args) -> Result<(), UsageError> {
    if let Some(name) = &a.name {
        no_control("--name", name)?;
    }
    if let Some(command) = &a.command {
        no_control_but_tab("--command", command)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{config, error};
    use super::*;
    use crate::exabgp::lines::Selector;

    #[test]
    fn regression_the_whole_ipv6_space_twice_does_not_overflow() {
        let cfg = config(&["--ip", "::/0", "--ip", "::/0", "--no-ip-setup"]).unwrap();
        assert_eq!(cfg.nets.len(), 2);
        let e = error(&["--ip", "::/1", "--ip", "8000::/1", "--no-ip-setup", "--dynamic-ip-setup"]);
        assert!(e.starts_with("--ip ::/1"), "{e}");
    }

    #[test]
    fn drain_defaults_and_values() {
        let c = config(&[]).unwrap();
        assert_eq!((c.drain_file.as_deref(), c.drain_time), (None, Duration::from_secs(30)));
        assert_eq!((c.announce.drain_community.as_str(), c.announce.drain_local_preference), ("65535:0", 0));
        let c = config(&[
            "--drain-file",
            "/run/drain",
            "--drain-time",
            "2.5",
            "--drain-community",
            " 65535:0\t 65000:7 ",
            "--drain-local-preference",
            "4294967295",
        ])
        .unwrap();
        assert_eq!(c.drain_file.as_deref(), Some(std::path::Path::new("/run/drain")));
        assert_eq!(c.drain_time, Duration::from_millis(2500));
        assert_eq!(c.announce.drain_community, "65535:0 65000:7");
        assert_eq!(c.announce.drain_local_preference, 4_294_967_295);
        for (text, want) in [("500ms", 500), ("1m", 60_000), ("0", 0), ("3s", 3000)] {
            assert_eq!(config(&["--drain-time", text]).unwrap().drain_time, Duration::from_millis(want), "{text}");
        }
    }

    #[test]
    fn metric_from_defaults_and_values() {
        use crate::med::{Policy, Source};
        assert_eq!(config(&[]).unwrap().med, None);
        assert_eq!(config(&["--metric-step", "3ms", "--metric-hold", "0"]).unwrap().med, None);
        let c = config(&["--check", "tcp://127.0.0.1:80", "--metric-from", "latency"]).unwrap();
        let defaults = Policy {
            source: Source::Latency,
            step: Duration::from_millis(1),
            hysteresis: 10,
            hold: Duration::from_secs(10),
        };
        assert_eq!(c.med, Some(defaults));
        let c = config(&[
            "--cmd",
            "echo 5",
            "--metric-from",
            "output",
            "--metric-step",
            "0.5",
            "--metric-hysteresis",
            "0",
            "--metric-hold",
            "1m",
        ])
        .unwrap();
        let want = Policy {
            source: Source::Output,
            step: Duration::from_millis(500),
            hysteresis: 0,
            hold: Duration::from_secs(60),
        };
        assert_eq!(c.med, Some(want));
    }

    #[test]
    fn dampening_defaults_values_and_refusals() {
        assert_eq!(config(&[]).unwrap().dampening, None);
        assert_eq!(config(&["--dampening"]).unwrap().dampening, Some(Params::DEFAULT));
        let c = config(&[
            "--dampening",
            "--dampening-half-life",
            "1.5",
            "--dampening-suppress",
            "2500",
            "--dampening-reuse",
            "1000",
            "--dampening-max-suppress",
            "30s",
        ])
        .unwrap();
        let want = Params {
            half_life: Duration::from_millis(1500),
            suppress: 2500,
            reuse: 1000,
            max_suppress: Duration::from_secs(30),
        };
        assert_eq!(c.dampening, Some(want));
        // The knobs are checked without --dampening too.
        for (args, message) in [
            (&["--dampening-half-life", "0"][..], "--dampening-half-life 0: must be more than 0"),
            (&["--dampening-half-life", "-1"], "--dampening-half-life -1: must be a non-negative number of seconds"),
            (&["--dampening-half-life", "soon"], "--dampening-half-life soon: not a duration"),
            (&["--dampening", "--dampening-max-suppress", "0s"], "--dampening-max-suppress 0s: must be more than 0"),
            (&["--dampening-reuse", "0"], "--dampening-reuse 0: must be between 1 and 4294967295"),
            (&["--dampening-reuse", "-750"], "--dampening-reuse -750: must be between 1 and 4294967295"),
            (&["--dampening-suppress", "4294967296"], "--dampening-suppress 4294967296: must be between 1 and"),
            (&["--dampening-suppress", "750"], "--dampening-suppress 750: must be more than --dampening-reuse (750)"),
            (
                &["--dampening", "--dampening-suppress", "500", "--dampening-reuse", "600"],
                "--dampening-suppress 500: must be more than --dampening-reuse (600)",
            ),
            (
                &["--dampening", "--dampening-max-suppress", "60s"],
                "--dampening-suppress 3000: can never be reached: the penalty is at most 1500,",
            ),
        ] {
            let e = error(args);
            assert!(e.starts_with(message), "{args:?}: {e}");
        }
    }

    #[test]
    fn a_zero_timeout_is_no_limit() {
        assert_eq!(config(&["--timeout", "0"]).unwrap().timeout, None);
    }

    #[test]
    fn addresses_and_interfaces() {
        let c =
            config(&["--ip", "192.0.2.1", "--ip", "2001:db8::/126", "--ip-ifname", "2001:db8::/126%dummy0"]).unwrap();
        let shown: Vec<String> = c.nets.iter().map(|n| format!("{} {}", n.net, n.ifname)).collect();
        assert_eq!(shown, ["192.0.2.1/32 lo", "2001:db8::/126 dummy0"]);
    }

    #[test]
    fn every_bad_value_names_its_flag() {
        for (args, flag) in [
            (&["--ip", "10.0.0.1/24"][..], "--ip 10.0.0.1/24"),
            (&["--ip", "nonsense"], "--ip nonsense"),
            (&["--ip", "10.0.0.0/8"], "--ip 10.0.0.0/8"),
            (&["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.2%eth0"], "--ip-ifname 192.0.2.2%eth0"),
            (&["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.1%"], "--ip-ifname"),
            (&["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.1%a%b"], "--ip-ifname"),
            (&["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.1%bad/name"], "--ip-ifname"),
            (&["--ip", "192.0.2.1", "--ip-ifname", "192.0.2.1%waytoolonginterface"], "--ip-ifname"),
            (&["--next-hop", "router1"], "--next-hop router1"),
            (&["--neighbor", "peer1"], "--neighbor peer1"),
            (&["--up-metric", "-1"], "--up-metric -1"),
            (&["--down-metric", "4294967296"], "--down-metric"),
            (&["--local-preference", "4294967296"], "--local-preference"),
            (&["--path-id", "-3"], "--path-id -3"),
            (&["--ip", "192.0.2.0/24", "--up-metric", "4294967295", "--deaggregate-networks"], "--increase"),
            (&["--interval", "-2"], "--interval -2"),
            (&["--rise", "-1"], "--rise -1: must be 0 or more"),
            (&["--fall", "-3"], "--fall -3: must be 0 or more"),
            (&["--fast-interval", "soon"], "--fast-interval soon"),
            (&["--timeout", "x"], "--timeout x"),
            (&["--syslog-facility", "local9"], "--syslog-facility local9"),
            (&["--community", "65000:1\nannounce route 0.0.0.0/0 next-hop self"], "--community"),
            (&["--as-path", "1\r2"], "--as-path"),
            (&["--large-community", "1:1:1\u{0}"], "--large-community"),
            (&["--name", "web\u{2028}announce route 0.0.0.0/0 next-hop self"], "--name"),
            (&["--name", "web\u{85}x"], "--name"),
            (&["--as-path", "1\u{2029}2"], "--as-path"),
            (&["--label", "averyveryverylonglabel"], "--label"),
            (&["--label", "has space"], "--label"),
            (&["--user", "no-such-user-here"], "--user no-such-user-here"),
            (&["--group", "no-such-group-here"], "--group no-such-group-here"),
            (&["--command", "true\nfalse"], "--command"),
            (&["--drain-time", "-3"], "--drain-time -3: must be a non-negative number of seconds"),
            (&["--drain-time=-1s"], "--drain-time -1s: not a duration"),
            (&["--drain-time", "soon"], "--drain-time soon: not a duration"),
            (&["--drain-community", "65535"], "--drain-community \"65535\": \"65535\" is not a community"),
            (&["--drain-community", "65536:0"], "--drain-community \"65536:0\""),
            (&["--drain-community", "65535:-1"], "--drain-community"),
            (&["--drain-community", "65535:0 no-export"], "--drain-community \"65535:0 no-export\""),
            (&["--drain-community", "65535:0\nannounce route 0.0.0.0/0 next-hop self"], "--drain-community"),
            (&["--drain-community", " "], "--drain-community \" \": no community"),
            (&["--drain-community", "+1:2"], "--drain-community"),
            (&["--drain-local-preference", "-1"], "--drain-local-preference -1: must be between 0 and"),
            (&["--drain-local-preference", "4294967296"], "--drain-local-preference"),
            (&["--metric-from", "output"], "--metric-from output: needs --command"),
            (&["--metric-from", "output", "--check", "tcp://127.0.0.1:80"], "--metric-from output: needs --command"),
            (&["--metric-from", "latency"], "--metric-from latency: needs a check to time"),
            (&["--metric-step", "0"], "--metric-step 0: must be more than 0"),
            (&["--metric-step", "0s", "--metric-from", "latency", "--cmd", "true"], "--metric-step 0s"),
            (&["--metric-step", "soon"], "--metric-step soon: not a duration"),
            (&["--metric-hysteresis", "-1"], "--metric-hysteresis -1: must be 0 or more"),
            (&["--metric-hold", "-1"], "--metric-hold -1: must be a non-negative number of seconds"),
            (&["--metric-hold", "later"], "--metric-hold later: not a duration"),
        ] {
            let e = error(args);
            assert!(e.starts_with(flag), "{args:?}: {e}");
            assert!(!e.contains('\n'), "{args:?}: {e}");
        }
    }

    #[test]
    fn tabs_are_allowed_in_attributes() {
        let c = config(&["--community", "65000:1\t65000:2"]).unwrap();
        assert_eq!(c.announce.community.as_deref(), Some("65000:1\t65000:2"));
    }

    #[test]
    fn big_networks_are_fine_without_setup_or_deaggregation() {
        let c = config(&["--ip", "10.0.0.0/8", "--no-ip-setup"]).unwrap();
        assert_eq!(c.nets.len(), 1);
        assert!(config(&["--ip", "10.0.0.0/16"]).is_ok());
    }

    #[test]
    fn selectors_from_neighbors_and_api_version() {
        let sel = |list: &[&str]| config(list).unwrap().service.announce.selector;
        assert_eq!(sel(&["--neighbor", "*"]), Selector::AllNeighbors);
        assert_eq!(
            sel(&["--neighbor", "192.0.2.1", "--neighbor", "192.0.2.2"]),
            Selector::Neighbors(vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()])
        );
        assert_eq!(sel(&["--neighbor", "192.0.2.1", "--neighbor", "*"]), Selector::AllNeighbors);
        assert_eq!(sel(&["--api-version", "6"]), Selector::AllPeers);
        assert_eq!(
            sel(&["--api-version", "6", "--neighbor", "192.0.2.1"]),
            Selector::Peers(vec!["192.0.2.1".parse().unwrap()])
        );
    }

    #[test]
    fn negative_local_preference_means_not_sent_and_path_id_zero_means_none() {
        let c = config(&["--local-preference", "-5", "--path-id", "0"]).unwrap();
        assert_eq!((c.announce.local_preference, c.announce.path_id), (None, None));
        let c = config(&["--local-preference", "0", "--path-id", "9"]).unwrap();
        assert_eq!((c.announce.local_preference, c.announce.path_id), (Some(0), Some(9)));
    }
}
