//! The typed, validated settings: [`Settings::from_args`] is the one place where raw flags
//! become values, split into what holds for the process and what belongs to each service;
//! every error names the flag it is about, and the `--config` line its value came from. No
//! I/O but user and group look-ups. The value parsers are in [`values`].

mod values;

use crate::cli::{Args, Origins};
use crate::error::UsageError;
use crate::exabgp::lines::{Announce, PerState};
use crate::net::Net;
use crate::service::fsm::Thresholds;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use values::{attribute, duration, facility, ip_ifname, med, metric_range, no_control, no_control_but_tab, selector};

/// The most addresses one run may set up or announce (a /16 is 65,536).
const MAX_ADDRESSES: u128 = 1 << 20;

/// How the program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As ExaBGP's process.
    Plugin,
    /// `--dry-run`: no address changes, no acknowledgements, transitions explained on stderr.
    DryRun,
    /// `--once`: one check, a verdict, the lines, exit.
    Once,
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub debug: bool,
    pub console: bool,
    /// The syslog facility code, when syslog is on.
    pub syslog: Option<u8>,
    /// `healthcheck-NAME` or `healthcheck`.
    pub tag: String,
}

/// A service address network and the interface its addresses live on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNet {
    pub net: Net,
    pub ifname: String,
}

/// The hooks to run on entering states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub any: Vec<String>,
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub disabled: Vec<String>,
}

/// Everything the program needs, checked: what holds for the whole process, and each service.
/// Today's command line and `--config` file make exactly one service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub process: ProcessConfig,
    pub services: Vec<ServiceConfig>,
}

/// What holds for the whole process, whatever the services.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessConfig {
    pub mode: Mode,
    pub logging: Logging,
    /// Track ExaBGP's acknowledgements (not `--no-ack`).
    pub ack: bool,
    pub sudo: bool,
    pub pid_file: Option<PathBuf>,
    pub user: Option<nix::unistd::User>,
    pub group: Option<nix::unistd::Group>,
}

/// One service: what it checks, how it decides, what it announces and which addresses it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: Option<String>,
    pub interval: Duration,
    pub fast_interval: Duration,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
    pub thresholds: Thresholds,
    pub disable_file: Option<PathBuf>,
    pub command: Option<String>,
    /// The `--ip` networks, with their interface. Empty: discover them on `lo` at start-up.
    pub nets: Vec<ServiceNet>,
    pub label: Option<String>,
    pub label_exact_match: bool,
    pub deaggregate: bool,
    pub ip_setup: bool,
    pub dynamic_ip_setup: bool,
    pub start_ip: i64,
    pub debounce: bool,
    pub announce: Announce,
    pub hooks: Hooks,
}

/// The loopback interface, where service addresses live unless `--ip-ifname` says otherwise.
pub const LOOPBACK: &str = "lo";

impl Settings {
    /// Check and convert the parsed flags. An error about a value from `--config` carries
    /// its file and line.
    pub fn from_args(a: Args) -> Result<Settings, UsageError> {
        let origins = a.origins.clone();
        Settings::check(a).map_err(|err| blame(err, origins.as_ref()))
    }

    fn check(a: Args) -> Result<Settings, UsageError> {
        let interval = duration("--interval", &a.interval)?;
        let fast_interval = duration("--fast-interval", &a.fast)?;
        let timeout = Some(duration("--timeout", &a.timeout)?).filter(|t| !t.is_zero());

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

        if let Some(label) = &a.label {
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
        }

        let next_hop = match a.next_hop.as_deref() {
            None | Some("self") => None,
            Some(text) => Some(
                text.parse::<IpAddr>()
                    .map_err(|_| UsageError::value("--next-hop", text, "not an IP address (or 'self')"))?,
            ),
        };
        let selector = selector(&a.neighbors, &a.api_version)?;
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
        let announce = Announce {
            selector,
            next_hop,
            metric,
            increase: a.increase,
            local_preference,
            community: attribute("--community", a.community)?,
            disabled_community: attribute("--disabled-community", a.disabled_community)?,
            extended_community: attribute("--extended-community", a.extended_community)?,
            large_community: attribute("--large-community", a.large_community)?,
            as_path: attribute("--as-path", a.as_path)?,
            state_as_path: PerState {
                up: attribute("--up-as-path", a.up_as_path)?,
                down: attribute("--down-as-path", a.down_as_path)?,
                disabled: attribute("--disabled-as-path", a.disabled_as_path)?,
            },
            withdraw_on_down: a.withdraw_on_down,
            path_id,
        };
        let routes: u128 =
            if a.deaggregate_networks { nets.iter().map(|n| n.net.size()).sum() } else { nets.len() as u128 };
        metric_range(&announce.metric, announce.increase, routes)?;

        let syslog = if a.no_syslog || a.debug {
            None
        } else {
            let name = a.syslog_facility.as_deref().unwrap_or("daemon");
            Some(facility(name).ok_or_else(|| {
                UsageError::value("--syslog-facility", name, "unknown facility (daemon, user, local0 ... local7, ...)")
            })?)
        };
        let tag = match &a.name {
            Some(name) => format!("healthcheck-{name}"),
            None => "healthcheck".to_owned(),
        };
        if let Some(name) = &a.name {
            no_control("--name", name)?;
        }
        if let Some(command) = &a.command {
            no_control_but_tab("--command", command)?;
        }
        let user = match &a.user {
            None => None,
            Some(name) => Some(
                nix::unistd::User::from_name(name)
                    .ok()
                    .flatten()
                    .ok_or_else(|| UsageError::value("--user", name, "no such user"))?,
            ),
        };
        let group = match &a.group {
            None => None,
            Some(name) => Some(
                nix::unistd::Group::from_name(name)
                    .ok()
                    .flatten()
                    .ok_or_else(|| UsageError::value("--group", name, "no such group"))?,
            ),
        };
        let mode = match (a.dry_run, a.once) {
            (true, _) => Mode::DryRun,
            (_, true) => Mode::Once,
            _ => Mode::Plugin,
        };
        let process = ProcessConfig {
            mode,
            logging: Logging { debug: a.debug, console: !a.silent, syslog, tag },
            ack: !a.no_ack,
            sudo: a.sudo,
            pid_file: a.pid,
            user,
            group,
        };
        let service = ServiceConfig {
            name: a.name,
            interval,
            fast_interval,
            timeout,
            thresholds: Thresholds { rise: a.rise, fall: a.fall },
            disable_file: a.disable,
            command: a.command,
            nets,
            label: a.label,
            label_exact_match: a.label_exact_match,
            deaggregate: a.deaggregate_networks,
            ip_setup: !a.no_ip_setup,
            dynamic_ip_setup: a.dynamic_ip_setup,
            start_ip: a.start_ip,
            debounce: a.debounce,
            announce,
            hooks: Hooks { any: a.execute, up: a.up_execute, down: a.down_execute, disabled: a.disabled_execute },
        };
        Ok(Settings { process, services: vec![service] })
    }
}

/// `err`, blamed on the `--config` line that gave its flag its value, when one did: the file's
/// own errors already carry their line, and an error about no one value (`--ip: ... in all`)
/// or about a value from the command line has none.
fn blame(err: UsageError, origins: Option<&Origins>) -> UsageError {
    let (None, Some(flag), Some(value), Some(origins)) = (&err.origin, err.flag, &err.value, origins) else {
        return err;
    };
    match origins.line_of(flag, value.text()) {
        Some(origin) => err.at(origin),
        None => err,
    }
}

impl ServiceConfig {
    /// Whether this service changes addresses at all when the process runs in `mode`.
    pub fn manages_addresses(&self, mode: Mode) -> bool {
        mode == Mode::Plugin && (self.ip_setup || self.dynamic_ip_setup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Parsed};
    use crate::error::Origin;
    use crate::exabgp::lines::Selector;

    /// The settings of a command line: the process's, and the one service's through `Deref`.
    #[derive(Debug)]
    struct One {
        process: ProcessConfig,
        service: ServiceConfig,
    }

    impl std::ops::Deref for One {
        type Target = ServiceConfig;
        fn deref(&self) -> &ServiceConfig {
            &self.service
        }
    }

    fn config(list: &[&str]) -> Result<One, String> {
        let mut argv = vec!["exabgp-healthcheck"];
        argv.extend_from_slice(list);
        match parse(argv) {
            Ok(Parsed::Run(args)) => {
                let mut settings = Settings::from_args(*args).map_err(|e| e.to_string())?;
                assert_eq!(settings.services.len(), 1, "a command line is one service");
                Ok(One { process: settings.process, service: settings.services.remove(0) })
            }
            other => panic!("{other:?}"),
        }
    }

    fn error(list: &[&str]) -> String {
        config(list).expect_err("accepted")
    }

    /// `--config FILE` holding `text`, then `extra` on the command line: the error, with the
    /// file's path written FILE.
    fn error_with_file(text: &str, extra: &[&str]) -> String {
        let dir = std::env::temp_dir().join(format!("ehc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}-{}.conf", text.bytes().map(u64::from).sum::<u64>(), text.len()));
        std::fs::write(&path, text).unwrap();
        let mut argv = vec!["--config", path.to_str().unwrap()];
        argv.extend_from_slice(extra);
        let e = error(&argv);
        std::fs::remove_file(&path).unwrap();
        e.replace(path.to_str().unwrap(), "FILE")
    }

    #[test]
    fn a_bad_value_from_the_config_file_names_its_file_and_line() {
        let e = error_with_file(
            "name = web
ip = 192.0.2.300
",
            &[],
        );
        assert!(e.starts_with("FILE:2: --ip 192.0.2.300: "), "{e}");
        let e = error_with_file(
            "ip = 192.0.2.1

# x
next-hop = the-router
",
            &[],
        );
        assert!(e.starts_with("FILE:4: --next-hop the-router: "), "{e}");
        let e = error_with_file(
            "ip = 192.0.2.1
interval = soon
",
            &[],
        );
        assert!(e.starts_with("FILE:2: --interval soon: "), "{e}");
        // Of two lines for a list, the one with the bad value.
        let e = error_with_file(
            "ip = 192.0.2.1
ip = 192.0.2.0/33
ip = 192.0.2.3
",
            &[],
        );
        assert!(e.starts_with("FILE:2: --ip 192.0.2.0/33: "), "{e}");
        // A control character is shown escaped; the line is still found.
        let e = error_with_file("ip = 192.0.2.1\ncommunity = 65000:1\u{1}\n", &[]);
        assert!(e.starts_with("FILE:2: --community "), "{e}");
    }

    #[test]
    fn a_bad_value_from_the_command_line_is_not_blamed_on_the_file() {
        let e = error_with_file(
            "ip = 192.0.2.1
interval = 5
",
            &["--interval", "soon"],
        );
        assert!(e.starts_with("--interval soon: "), "{e}");
        let e = error(&["--ip", "192.0.2.300"]);
        assert!(e.starts_with("--ip 192.0.2.300: "), "{e}");
    }

    /// The flags of `--config FILE` holding `text`: what the file's lines gave, with their
    /// origins.
    fn origins_of(text: &str) -> Origins {
        let dir = std::env::temp_dir().join(format!("ehc-origins-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}-{}.conf", text.bytes().map(u64::from).sum::<u64>(), text.len()));
        std::fs::write(&path, text).unwrap();
        let parsed = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]);
        std::fs::remove_file(&path).unwrap();
        match parsed {
            Ok(Parsed::Run(args)) => args.origins.expect("read from a file"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_origin_is_found_by_flag_and_value_whatever_the_wording() {
        let origins = origins_of("name = web\ninterval = soon\n\nrise = 2\n");
        let e =
            blame(UsageError::value("--interval", "soon", "any wording at all, even: --interval 5:"), Some(&origins));
        assert_eq!(e.origin.as_ref().map(|o| o.line), Some(2));
        assert!(e.to_string().ends_with(":2: --interval soon: any wording at all, even: --interval 5:"), "{e}");
        // Quoted or not, the value is compared as given.
        let e = blame(UsageError::quoted("--name", "web", "x"), Some(&origins));
        assert_eq!(e.origin.map(|o| o.line), Some(1));
        // Another value, another flag, no value, no file: no origin.
        for err in [
            UsageError::value("--interval", "soo", "x"),
            UsageError::value("--interval", "soon ", "x"),
            UsageError::value("--fast-interval", "soon", "x"),
            UsageError::flag("--interval", "x"),
            UsageError::message("--interval soon: x"),
        ] {
            assert_eq!(blame(err.clone(), Some(&origins)), err);
        }
        assert_eq!(blame(UsageError::value("--interval", "soon", "x"), None).origin, None);
        // An error that already has its line keeps it.
        let first = Origin { file: "/other".into(), line: 9 };
        let e = blame(UsageError::value("--interval", "soon", "x").at(first.clone()), Some(&origins));
        assert_eq!(e.origin, Some(first));
    }

    #[test]
    fn of_repeated_lines_the_one_with_the_bad_value_and_the_last_of_equal_ones() {
        let e = error_with_file("neighbor = 192.0.2.1\nneighbor = peer1\nneighbor = 192.0.2.3\n", &[]);
        assert_eq!(e, "FILE:2: --neighbor peer1: not an IP address (or '*')");
        let e = error_with_file("label = has space\nname = web\nlabel = has space\n", &[]);
        assert_eq!(e, "FILE:3: --label \"has space\": a label is a non-empty word");
        let e = error_with_file("ip = 192.0.2.1\nip = 192.0.2.1\nip-ifname = 192.0.2.1%a/b\n", &[]);
        assert!(e.starts_with("FILE:3: --ip-ifname 192.0.2.1%a/b: "), "{e}");
    }

    #[test]
    fn a_value_from_the_command_line_is_not_blamed_on_a_line_that_looks_alike() {
        // The old look-up compared the message's start with `--next-hop fe80:`.
        let e = error_with_file("next-hop = fe80\n", &["--next-hop", "fe80::x"]);
        assert_eq!(e, "--next-hop fe80::x: not an IP address (or 'self')");
        // A list: the file's value is fine, the command line's is not.
        let e = error_with_file("ip = 192.0.2.1\n", &["--ip", "192.0.2.300"]);
        assert!(e.starts_with("--ip 192.0.2.300: "), "{e}");
        // About all the file's values at once: no one line to blame.
        let e = error_with_file("ip = 10.0.0.0/12\nip = 10.16.0.0/12\n", &[]);
        assert_eq!(e, "--ip: 2097152 addresses in all are more than the 1048576 supported");
    }

    /// Found while writing the fuzz targets: summing the sizes of `--ip ::/0 --ip ::/0`
    /// overflowed (a panic in debug builds).
    #[test]
    fn regression_the_whole_ipv6_space_twice_does_not_overflow() {
        let cfg = config(&["--ip", "::/0", "--ip", "::/0", "--no-ip-setup"]).unwrap();
        assert_eq!(cfg.nets.len(), 2);
        let e = error(&["--ip", "::/1", "--ip", "8000::/1", "--no-ip-setup", "--dynamic-ip-setup"]);
        assert!(e.starts_with("--ip ::/1"), "{e}");
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.interval, Duration::from_secs(5));
        assert_eq!(c.fast_interval, Duration::from_secs(1));
        assert_eq!(c.timeout, Some(Duration::from_secs(5)));
        assert_eq!(c.process.logging.syslog, Some(3));
        assert_eq!(c.process.logging.tag, "healthcheck");
        assert!(c.process.ack && c.ip_setup && !c.dynamic_ip_setup && c.process.logging.console);
        assert_eq!(c.announce.selector, Selector::All);
        assert_eq!(c.announce.local_preference, None);
        assert_eq!(c.process.mode, Mode::Plugin);
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
    fn logging_switches() {
        assert_eq!(config(&["--debug"]).unwrap().process.logging.syslog, None);
        assert_eq!(config(&["--no-syslog"]).unwrap().process.logging.syslog, None);
        assert_eq!(config(&["-sF", "LOCAL3"]).unwrap().process.logging.syslog, Some(19));
        assert!(!config(&["--silent"]).unwrap().process.logging.console);
        assert_eq!(config(&["--name", "web"]).unwrap().process.logging.tag, "healthcheck-web");
    }

    #[test]
    fn negative_local_preference_means_not_sent_and_path_id_zero_means_none() {
        let c = config(&["--local-preference", "-5", "--path-id", "0"]).unwrap();
        assert_eq!((c.announce.local_preference, c.announce.path_id), (None, None));
        let c = config(&["--local-preference", "0", "--path-id", "9"]).unwrap();
        assert_eq!((c.announce.local_preference, c.announce.path_id), (Some(0), Some(9)));
    }

    #[test]
    fn modes() {
        assert_eq!(config(&["--dry-run"]).unwrap().process.mode, Mode::DryRun);
        assert_eq!(config(&["--once"]).unwrap().process.mode, Mode::Once);
        assert!(!config(&["--dry-run"]).unwrap().manages_addresses(Mode::DryRun));
        assert!(config(&[]).unwrap().manages_addresses(Mode::Plugin));
    }
}
