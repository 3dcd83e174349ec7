//! The typed, validated settings: [`Settings::from_args`] is the one place where raw flags
//! become values, split into what holds for the process and what belongs to each service;
//! every error names the flag it is about, and the `--config` line its value came from. No
//! I/O but user and group look-ups, the metrics file's folder, and for `--check icmp://` an ICMP
//! socket opened and closed and `net.ipv4.ping_group_range` read (can this host ping at all, and
//! still after `--user`). A service's own settings are
//! built in [`service`], the value parsers are in [`values`].

pub mod bfd;
mod service;
pub(crate) mod values;

use crate::cli::{Args, Origins, ServiceArgs};
use crate::error::UsageError;
use crate::exabgp::lines::Announce;
use crate::logging::Logging;
use crate::net::Net;
use crate::probe::url::CheckUrl;
use crate::state::Thresholds;
use service::{service_strings, service_values};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use values::{facility, listen_address};

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
/// A command line and one `--config` file without sections make exactly one service; each
/// `[NAME]` section, and each file without sections among several, one more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub process: ProcessConfig,
    pub services: Vec<ServiceConfig>,
}

/// What holds for the whole process, whatever the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub mode: Mode,
    pub logging: Logging,
    /// Track ExaBGP's acknowledgements (not `--no-ack`).
    pub ack: bool,
    pub sudo: bool,
    pub pid_file: Option<PathBuf>,
    pub user: Option<nix::unistd::User>,
    pub group: Option<nix::unistd::Group>,
    /// `--metrics-file`: where the metrics are written (its folder exists).
    pub metrics_file: Option<PathBuf>,
    /// `--metrics-listen`: where the metrics are served.
    pub metrics_listen: Option<SocketAddr>,
    /// `--control-socket`: where `ctl` reaches the running plugin; `None`: nowhere.
    pub control_socket: Option<PathBuf>,
    /// `--watchdog`: how long the main loop may take to come round; `None`: not watched.
    pub watchdog: Option<Duration>,
    /// `--bfd` and its companions; `None`: no BFD.
    pub bfd: Option<bfd::BfdConfig>,
}

/// One service: what it checks, how it decides, what it announces and which addresses it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Its `[NAME]` section (or the stem of its file, among several): what tells services apart
    /// from one configuration to the next. `None` for the one service of a configuration
    /// without sections.
    pub section: Option<String>,
    /// `--name`; a section's defaults to the section's name.
    pub name: Option<String>,
    pub interval: Duration,
    pub fast_interval: Duration,
    /// `None`: no limit.
    pub timeout: Option<Duration>,
    pub thresholds: Thresholds,
    /// `--splay`: the first check waits a random time below the interval.
    pub splay: bool,
    pub disable_file: Option<PathBuf>,
    pub command: Option<String>,
    /// `--check`: native checks, run with the command (all must pass).
    pub checks: Vec<CheckUrl>,
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
    /// `--drain-file`: while it exists the service drains.
    pub drain_file: Option<PathBuf>,
    /// `--drain-time`: how long DRAINING lasts before DRAINED.
    pub drain_time: Duration,
    /// `--metric-from` and its companions: the MED in UP raised by what the check measured;
    /// `None`: the up metric alone, as the reference.
    pub med: Option<crate::med::Policy>,
    /// `--dampening` and its knobs; `None`: no flap dampening.
    pub dampening: Option<crate::dampening::Params>,
}

/// The loopback interface, where service addresses live unless `--ip-ifname` says otherwise.
pub const LOOPBACK: &str = "lo";

impl Settings {
    /// Check and convert the parsed flags. An error about a value from `--config` carries
    /// its file and line.
    pub fn from_args(a: Args) -> Result<Settings, UsageError> {
        let (settings, origins) = if a.services.is_empty() {
            let origins = a.origins.clone();
            (Settings::check(a).map_err(|err| blame(err, origins.as_ref()))?, vec![origins])
        } else {
            let origins = a.services.iter().map(|service| service.args.origins.clone()).collect();
            (Settings::check_all(a)?, origins)
        };
        settings.icmp_after_switch(&origins)?;
        Ok(settings)
    }

    /// `--check icmp://` with `--user`: whether it can still ping once the user is switched.
    /// `origins`: each service's, to blame the `--config` line that gave the check.
    fn icmp_after_switch(&self, origins: &[Option<Origins>]) -> Result<(), UsageError> {
        let Some(user) = self.process.user.as_ref().filter(|user| !user.uid.is_root()) else { return Ok(()) };
        let gid = self.process.group.as_ref().map_or(user.gid, |group| group.gid).as_raw();
        for (id, service) in self.services.iter().enumerate() {
            let origins = origins.get(id).and_then(Option::as_ref);
            let icmp = service.checks.iter().filter(|url| matches!(url.target, crate::probe::url::Target::Icmp(_)));
            for url in icmp {
                crate::probe::icmp::usable_as(gid)
                    .map_err(|why| blame(UsageError::value("--check", &url.text, why), origins))?;
            }
        }
        Ok(())
    }

    /// The one service of a command line (and its file), checked in the order of old.
    fn check(a: Args) -> Result<Settings, UsageError> {
        let mut service = service_values(&a, &a.api_version)?;
        let syslog = syslog(&a)?;
        service_strings(&a)?;
        let process = process_config(&a, syslog)?;
        service.section = None;
        Ok(Settings { process, services: vec![service] })
    }

    /// The process of the top flags, then each service of a configuration with sections or
    /// several files, then that no address belongs to two services.
    fn check_all(mut a: Args) -> Result<Settings, UsageError> {
        let each = std::mem::take(&mut a.services);
        let origins = a.origins.clone();
        let process =
            syslog(&a).and_then(|syslog| process_config(&a, syslog)).map_err(|err| blame(err, origins.as_ref()))?;
        let mut services = Vec::with_capacity(each.len());
        for ServiceArgs { section, args } in &each {
            let origins = args.origins.as_ref();
            let mut service = service_values(args, &a.api_version).map_err(|err| blame(err, origins))?;
            service_strings(args).map_err(|err| blame(err, origins))?;
            service.section = Some(section.clone());
            services.push(service);
        }
        no_shared_address(&each)?;
        Ok(Settings { process, services })
    }
}

/// The syslog facility code, when syslog is on.
fn syslog(a: &Args) -> Result<Option<u8>, UsageError> {
    if a.no_syslog || a.debug {
        return Ok(None);
    }
    let name = a.syslog_facility.as_deref().unwrap_or("daemon");
    Ok(Some(facility(name).ok_or_else(|| {
        UsageError::value("--syslog-facility", name, "unknown facility (daemon, user, local0 ... local7, ...)")
    })?))
}

/// The process's settings from the top flags (`syslog` checked already).
fn process_config(a: &Args, syslog: Option<u8>) -> Result<ProcessConfig, UsageError> {
    let tag = match &a.name {
        Some(name) => format!("healthcheck-{name}"),
        None => "healthcheck".to_owned(),
    };
    let user = match &a.user {
        None => None,
        Some(name) => {
            Some(crate::accounts::user(name).ok_or_else(|| UsageError::value("--user", name, "no such user"))?)
        }
    };
    let group = match &a.group {
        None => None,
        Some(name) => {
            Some(crate::accounts::group(name).ok_or_else(|| UsageError::value("--group", name, "no such group"))?)
        }
    };
    let metrics_file =
        a.metrics_file.as_deref().map(|p| values::metrics_file(p, user.as_ref(), group.as_ref())).transpose()?;
    let mode = match (a.dry_run, a.once) {
        (true, _) => Mode::DryRun,
        (_, true) => Mode::Once,
        _ => Mode::Plugin,
    };
    Ok(ProcessConfig {
        mode,
        logging: Logging {
            debug: a.debug,
            console: !a.silent,
            syslog,
            tag,
            json: a.log_format.as_deref() == Some("json"),
        },
        ack: !a.no_ack,
        sudo: a.sudo,
        pid_file: a.pid.clone(),
        user,
        group,
        metrics_file,
        metrics_listen: a.metrics_listen.as_deref().map(|text| listen_address("--metrics-listen", text)).transpose()?,
        control_socket: control_socket(a.control_socket.as_ref())?,
        watchdog: a.watchdog.as_deref().map(watchdog).transpose()?,
        bfd: bfd::bfd(&a.bfd, &a.bfd_local, &a.bfd_interval, a.bfd_multiplier)?,
    })
}

/// `--watchdog`: a duration of a second or more (shorter, a busy machine would trip it).
fn watchdog(text: &str) -> Result<Duration, UsageError> {
    let limit = crate::units::duration("--watchdog", text)?;
    if limit < Duration::from_secs(1) {
        return Err(UsageError::value("--watchdog", text, "must be at least 1s"));
    }
    Ok(limit)
}

/// `--control-socket`: a path that fits in a unix socket address.
fn control_socket(path: Option<&PathBuf>) -> Result<Option<PathBuf>, UsageError> {
    let Some(path) = path else { return Ok(None) };
    // sun_path holds 108 bytes, its terminating NUL included.
    const MAX: usize = 107;
    let len = path.as_os_str().len();
    if len > MAX {
        return Err(UsageError::quoted(
            "--control-socket",
            path.display().to_string(),
            format!("{len} bytes: a unix socket path has at most {MAX}"),
        ));
    }
    Ok(Some(path.clone()))
}

/// No address of one service's `--ip` networks is another's: refused naming both services, and
/// the lines the values came from. The services' values are checked already.
fn no_shared_address(services: &[ServiceArgs]) -> Result<(), UsageError> {
    struct Claim<'a> {
        v6: bool,
        first: u128,
        last: u128,
        service: usize,
        text: &'a str,
    }
    let mut claims = Vec::new();
    for (service, each) in services.iter().enumerate() {
        for text in &each.args.ips {
            let Ok(net) = text.parse::<Net>() else { continue };
            let (v6, first, bits) = match net.addr() {
                IpAddr::V4(ip) => (false, u128::from(u32::from(ip)), 32),
                IpAddr::V6(ip) => (true, u128::from(ip), 128),
            };
            let host_bits = u32::from(bits - net.prefix_len());
            let last = first | u128::MAX.checked_shr(128 - host_bits).filter(|_| host_bits > 0).unwrap_or(0);
            claims.push(Claim { v6, first, last, service, text });
        }
    }
    claims.sort_by_key(|c| (c.v6, c.first, c.service));
    // Sweep: the claim reaching furthest so far; any later one starting within it overlaps it
    // (two overlapping claims of other services would have been found before).
    let mut widest: Option<&Claim> = None;
    for claim in &claims {
        match widest {
            Some(w) if w.v6 == claim.v6 && claim.first <= w.last => {
                if w.service != claim.service {
                    let (earlier, later) = if w.service < claim.service { (w, claim) } else { (claim, w) };
                    let shared = if claim.v6 {
                        IpAddr::from(std::net::Ipv6Addr::from(claim.first))
                    } else {
                        IpAddr::from(std::net::Ipv4Addr::from(claim.first as u32))
                    };
                    return Err(shared_error(
                        &services[earlier.service],
                        earlier.text,
                        &services[later.service],
                        later.text,
                        shared,
                    ));
                }
                if claim.last > w.last {
                    widest = Some(claim);
                }
            }
            _ => widest = Some(claim),
        }
    }
    Ok(())
}

/// `later`'s `--ip later_text` holds `shared`, which `earlier`'s `--ip earlier_text` holds too.
fn shared_error(
    earlier: &ServiceArgs,
    earlier_text: &str,
    later: &ServiceArgs,
    later_text: &str,
    shared: IpAddr,
) -> UsageError {
    let line_of = |s: &ServiceArgs, text: &str| s.args.origins.as_ref().and_then(|o| o.line_of("--ip", text));
    let from = match line_of(earlier, earlier_text) {
        Some(origin) => format!("at {}:{}", origin.file.display(), origin.line),
        None => "on the command line".to_owned(),
    };
    let err = UsageError::value(
        "--ip",
        later_text,
        format!(
            "{} is in service [{}] and in service [{}] (--ip {earlier_text} {from}); an address belongs to one \
             service",
            crate::net::DisplayIp(shared),
            later.section,
            earlier.section
        ),
    );
    match line_of(later, later_text) {
        Some(origin) => err.at(origin),
        None => err,
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
    /// What reports and log tags call it: its section, else its `--name`; `None` for the one
    /// service of a configuration without sections and without a name.
    pub fn label(&self) -> Option<&str> {
        self.section.as_deref().or(self.name.as_deref())
    }

    /// Whether this service changes addresses at all when the process runs in `mode`.
    pub fn manages_addresses(&self, mode: Mode) -> bool {
        mode == Mode::Plugin && (self.ip_setup || self.dynamic_ip_setup)
    }
}

/// The settings of one command line, as the tests of the settings and of a service's take them.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::cli::{parse, Parsed};

    /// The settings of a command line: the process's, and the one service's through `Deref`.
    #[derive(Debug)]
    pub(super) struct One {
        pub(super) process: ProcessConfig,
        pub(super) service: ServiceConfig,
    }

    impl std::ops::Deref for One {
        type Target = ServiceConfig;
        fn deref(&self) -> &ServiceConfig {
            &self.service
        }
    }

    pub(super) fn config(list: &[&str]) -> Result<One, String> {
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

    pub(super) fn error(list: &[&str]) -> String {
        config(list).expect_err("accepted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Parsed};
    use crate::error::Origin;
    use crate::exabgp::lines::Selector;
    use crate::scratch::Scratch;
    use testing::{config, error};

    #[test]
    fn the_control_socket_is_off_unless_given_and_must_fit_a_socket_address() {
        assert_eq!(config(&[]).unwrap().process.control_socket, None);
        let given = config(&["--control-socket", "/run/h/control.sock"]).unwrap();
        assert_eq!(given.process.control_socket, Some(PathBuf::from("/run/h/control.sock")));
        let long = format!("/{}", "x".repeat(107));
        assert_eq!(
            error(&["--control-socket", &long]),
            format!("--control-socket {long:?}: 108 bytes: a unix socket path has at most 107")
        );
        let both = parse(["exabgp-healthcheck", "--control-socket", "/x", "--once"]).unwrap_err();
        assert!(both.why.contains("cannot be used with"), "{both}");
    }

    /// `--config FILE` holding `text`, then `extra` on the command line: the error, with the
    /// file's path written FILE.
    fn error_with_file(text: &str, extra: &[&str]) -> String {
        let dir = Scratch::new("ehc-config");
        let path = dir.join(format!("{:x}-{}.conf", text.bytes().map(u64::from).sum::<u64>(), text.len()));
        std::fs::write(&path, text).unwrap();
        let mut argv = vec!["--config", path.to_str().unwrap()];
        argv.extend_from_slice(extra);
        let e = error(&argv);
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
        let dir = Scratch::new("ehc-origins");
        let path = dir.join(format!("{:x}-{}.conf", text.bytes().map(u64::from).sum::<u64>(), text.len()));
        std::fs::write(&path, text).unwrap();
        let parsed = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]);
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
    fn a_bad_drain_value_from_a_section_names_its_line() {
        let e = error_with_file("no-syslog\n[web]\nip = 192.0.2.1\ndrain-time = -2\n", &[]);
        assert_eq!(e, "FILE:4: --drain-time -2: must be a non-negative number of seconds");
        let e = error_with_file("drain-community = 1:2:3\n[web]\nip = 192.0.2.1\n", &[]);
        assert_eq!(e, "FILE:1: --drain-community \"1:2:3\": \"1:2:3\" is not a community (ASN:VALUE, each 0 to 65535)");
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
    fn modes() {
        assert_eq!(config(&["--dry-run"]).unwrap().process.mode, Mode::DryRun);
        assert_eq!(config(&["--once"]).unwrap().process.mode, Mode::Once);
        assert!(!config(&["--dry-run"]).unwrap().manages_addresses(Mode::DryRun));
        assert!(config(&[]).unwrap().manages_addresses(Mode::Plugin));
    }

    /// A scratch directory of configuration files, removed on drop.
    struct Tree(PathBuf);

    impl Tree {
        fn new(tag: &str) -> Tree {
            let dir = std::env::temp_dir().join(format!("ehc-sections-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Tree(dir)
        }

        /// Write `text` to `name` (under the tree) and give its path.
        fn file(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        }

        fn path(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }

        /// The settings of a command line naming the tree's files; an error with the tree's
        /// path written `D`.
        fn settings(&self, list: &[&str]) -> Result<Settings, String> {
            let mut argv = vec!["exabgp-healthcheck"];
            argv.extend_from_slice(list);
            let shown = |e: UsageError| e.to_string().replace(&self.0.display().to_string(), "D");
            match parse(argv).map_err(shown)? {
                Parsed::Run(args) => Settings::from_args(*args).map_err(shown),
                other => panic!("{other:?}"),
            }
        }

        fn error(&self, list: &[&str]) -> String {
            self.settings(list).expect_err("accepted")
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn by_section<'a>(settings: &'a Settings, name: &str) -> &'a ServiceConfig {
        settings.services.iter().find(|s| s.section.as_deref() == Some(name)).unwrap_or_else(|| panic!("no [{name}]"))
    }

    fn ips(service: &ServiceConfig) -> Vec<String> {
        service.nets.iter().map(|n| n.net.to_string()).collect()
    }

    #[test]
    fn a_file_without_sections_is_todays_one_service() {
        let tree = Tree::new("today");
        let text = "debug\nname = web\ninterval = 10\nip = 192.0.2.1\nexecute = echo a\nwithdraw-on-down\n\
                    syslog-facility\napi-version = 6\nneighbor = 192.0.2.9\n";
        let file = tree.file("web.conf", text);
        let extra = ["--interval", "2", "--ip", "192.0.2.2", "--execute", "echo b", "--no-ack"];
        let mut argv = vec!["--config", file.as_str()];
        argv.extend_from_slice(&extra);
        let from_file = tree.settings(&argv).unwrap();
        // The same options on the command line, the file's first: the reference's merge.
        let mut flat: Vec<String> = crate::cli::file::parse(text).unwrap().into_iter().map(|l| l.arg).collect();
        flat.extend(extra.iter().map(|s| s.to_string()));
        let flat: Vec<&str> = flat.iter().map(String::as_str).collect();
        let from_flags = tree.settings(&flat).unwrap();
        assert_eq!(from_file, from_flags);
        assert_eq!(from_file.services.len(), 1);
        let service = &from_file.services[0];
        assert_eq!(service.section, None);
        assert_eq!(service.name.as_deref(), Some("web"));
        assert_eq!(ips(service), ["192.0.2.1/32", "192.0.2.2/32"]);
        assert_eq!(service.interval, Duration::from_secs(2));
        assert_eq!(from_file.process.logging.tag, "healthcheck-web");
        // And no file at all: one service without a section, as before.
        assert_eq!(config(&[]).unwrap().section, None);
    }

    #[test]
    fn a_section_wins_over_the_command_line_which_wins_over_the_defaults() {
        let tree = Tree::new("precedence");
        let file = tree.file(
            "all.conf",
            "interval = 2\nrise = 5\nexecute = echo default\nwithdraw-on-down\nip = 192.0.2.100\n\
             [web]\nip = 192.0.2.1\ninterval = 7\nexecute = echo web\nno-ip-setup\n\
             [dns]\nip-ifname = 192.0.2.100%dummy0\ndebounce\nname = resolver\n",
        );
        let all = tree
            .settings(&["--config", &file, "--interval", "3", "--execute", "echo cli", "--timeout", "9", "--fall", "4"])
            .unwrap();
        assert_eq!(all.services.len(), 2);
        let web = by_section(&all, "web");
        assert_eq!(web.interval, Duration::from_secs(7), "the section's");
        assert_eq!(web.thresholds, Thresholds { rise: 5, fall: 4 }, "the defaults', the command line's");
        assert_eq!(web.timeout, Some(Duration::from_secs(9)));
        assert_eq!(web.hooks.any, ["echo web"], "a section's list replaces");
        assert_eq!(ips(web), ["192.0.2.1/32"], "a section's list replaces");
        assert!(web.announce.withdraw_on_down, "a flag of the defaults holds in a section");
        assert!(!web.ip_setup && !web.debounce);
        assert_eq!((web.section.as_deref(), web.name.as_deref()), (Some("web"), Some("web")));
        let dns = by_section(&all, "dns");
        assert_eq!(dns.interval, Duration::from_secs(3), "the command line over the defaults");
        assert_eq!(dns.hooks.any, ["echo default", "echo cli"], "the command line adds to the defaults");
        assert_eq!(ips(dns), ["192.0.2.100/32"]);
        assert_eq!(dns.nets[0].ifname, "dummy0");
        assert!(dns.debounce && dns.ip_setup && dns.announce.withdraw_on_down);
        assert_eq!((dns.section.as_deref(), dns.name.as_deref()), (Some("dns"), Some("resolver")));
        // Services in file order; the process's tag is the command line's --name only.
        let order: Vec<_> = all.services.iter().map(|s| s.section.clone().unwrap()).collect();
        assert_eq!(order, ["web", "dns"]);
        assert_eq!(all.process.logging.tag, "healthcheck");
    }

    #[test]
    fn metric_from_in_sections_and_its_errors_name_the_line() {
        use crate::med::Source;
        let tree = Tree::new("metric-from");
        let file = tree.file(
            "med.conf",
            "metric-hold = 30s
[web]
ip = 192.0.2.1
command = echo 5
metric-from = output
             [dns]
ip = 192.0.2.53
check = tcp://127.0.0.1:53
metric-from = latency
metric-step = 2ms
             [plain]
ip = 192.0.2.80
",
        );
        let all = tree.settings(&["--config", &file]).unwrap();
        let web = by_section(&all, "web").med.unwrap();
        assert_eq!((web.source, web.hold), (Source::Output, Duration::from_secs(30)));
        let dns = by_section(&all, "dns").med.unwrap();
        assert_eq!(
            (dns.source, dns.step, dns.hold),
            (Source::Latency, Duration::from_millis(2), Duration::from_secs(30))
        );
        assert_eq!(by_section(&all, "plain").med, None);
        let bad = tree.file(
            "bad.conf",
            "[web]
ip = 192.0.2.1
metric-from = output
",
        );
        let e = tree.settings(&["--config", &bad]).unwrap_err().to_string();
        assert!(e.contains("bad.conf:3") && e.contains("--metric-from output: needs --command"), "{e}");
    }

    #[test]
    fn the_defaults_and_the_command_line_give_a_section_its_lists_unless_it_gives_them() {
        let tree = Tree::new("lists2");
        let defaults = "ip = 192.0.2.1\nip-ifname = 192.0.2.1%eth0\nneighbor = 192.0.2.254\nexecute = a\n\
                        up-execute = b\ndown-execute = c\ndisabled-execute = d\n";
        let section = "ip = 192.0.2.2\nip-ifname = 192.0.2.2%eth1\nneighbor = 192.0.2.253\nexecute = e\n\
                       up-execute = f\ndown-execute = g\ndisabled-execute = h\n";
        let file = tree.file("x.conf", &format!("{defaults}[given]\n{section}[empty]\n"));
        let all = tree.settings(&["--config", &file, "--neighbor", "192.0.2.252", "--up-execute", "i"]).unwrap();
        let given = by_section(&all, "given");
        assert_eq!(ips(given), ["192.0.2.2/32"]);
        assert_eq!(given.nets[0].ifname, "eth1");
        assert_eq!(given.announce.selector, Selector::Neighbors(vec!["192.0.2.253".parse().unwrap()]));
        let hooks = |h: &Hooks| [h.any.clone(), h.up.clone(), h.down.clone(), h.disabled.clone()];
        assert_eq!(hooks(&given.hooks), [vec!["e"], vec!["f"], vec!["g"], vec!["h"]]);
        let empty = by_section(&all, "empty");
        assert_eq!(ips(empty), ["192.0.2.1/32"]);
        assert_eq!(empty.nets[0].ifname, "eth0");
        assert_eq!(
            empty.announce.selector,
            Selector::Neighbors(vec!["192.0.2.254".parse().unwrap(), "192.0.2.252".parse().unwrap()])
        );
        assert_eq!(hooks(&empty.hooks), [vec!["a"], vec!["b", "i"], vec!["c"], vec!["d"]]);
    }

    #[test]
    fn a_section_gives_values_like_the_command_line_does() {
        let tree = Tree::new("values");
        // A prefix, an alias, a negative number, an empty value, a flag.
        let file = tree.file(
            "x.conf",
            "local-preference = 200\nlabel = all\n[a]\nfast = 0.5\ncmd = true\nlocal-preference = -1\n\
             increase = -1\nup-metric = 50\nlabel-exact\nstart-ip = -2\n",
        );
        let all = tree.settings(&["--config", &file]).unwrap();
        let a = &all.services[0];
        assert_eq!(a.fast_interval, Duration::from_millis(500));
        assert_eq!(a.command.as_deref(), Some("true"));
        assert_eq!(a.announce.local_preference, None);
        assert_eq!((a.announce.increase, a.announce.metric.up, a.start_ip), (-1, 50, -2));
        assert_eq!(a.label.as_deref(), Some("all"));
        assert!(a.label_exact_match);
    }

    #[test]
    fn process_wide_options_come_from_the_defaults_of_every_file_and_the_command_line() {
        let tree = Tree::new("process");
        let a = tree.file("a.conf", "no-ack\napi-version = 6\nsyslog-facility\n[a]\nip = 192.0.2.1\n");
        let b = tree.file("b.conf", "syslog-facility = daemon\nsudo\n[b]\nip = 192.0.2.2\n");
        let all = tree.settings(&["--config", &a, "--config", &b]).unwrap();
        assert!(!all.process.ack && all.process.sudo);
        assert_eq!(all.process.logging.syslog, Some(3));
        // The API version of a.conf holds for b.conf's service too.
        assert_eq!(by_section(&all, "b").announce.selector, Selector::AllPeers);
        assert_eq!(by_section(&all, "a").announce.selector, Selector::AllPeers);
        // The command line wins, as it does over one file.
        let all = tree.settings(&["--config", &a, "--config", &b, "--syslog-facility", "local3"]).unwrap();
        assert_eq!(all.process.logging.syslog, Some(19));
        let all = tree.settings(&["--config", &a, "--debug", "--name", "all"]).unwrap();
        assert_eq!(all.process.logging.syslog, None);
        assert!(all.process.logging.debug);
        assert_eq!(all.process.logging.tag, "healthcheck-all");
        assert_eq!(all.services[0].name.as_deref(), Some("all"), "the command line's name, no section's");
    }

    #[test]
    fn two_files_may_not_give_a_process_wide_option_two_values() {
        let tree = Tree::new("agree");
        let a = tree.file("a.conf", "api-version = 4\nsyslog-facility\n[a]\nip = 192.0.2.1\n");
        let b = tree.file("b.conf", "# b\napi-version = 6\n[b]\nip = 192.0.2.2\n");
        assert_eq!(
            tree.error(&["--config", &a, "--config", &b]),
            "D/b.conf:2: --api-version 6: D/a.conf:1 gives it 4; a process-wide option takes one value in all files"
        );
        let c = tree.file("c.conf", "\n\nsyslog-facility = local3\n[c]\nip = 192.0.2.3\n");
        assert_eq!(
            tree.error(&["--config", &a, "--config", &c]),
            "D/c.conf:3: --syslog-facility local3: D/a.conf:2 gives it daemon; a process-wide option takes one \
             value in all files"
        );
        // Within one file the last line wins, as before; only another file's value conflicts.
        let d = tree.file("d.conf", "pid = /run/a.pid\npid = /run/b.pid\n[d]\nip = 192.0.2.4\n");
        let e = tree.file("e.conf", "pid = /run/b.pid\n[e]\nip = 192.0.2.5\n");
        let all = tree.settings(&["--config", &d, "--config", &e]).unwrap();
        assert_eq!(all.process.pid_file, Some(PathBuf::from("/run/b.pid")));
        let f = tree.file("f.conf", "pid = /run/a.pid\n[f]\nip = 192.0.2.6\n");
        assert!(tree.error(&["--config", &d, "--config", &f]).starts_with("D/f.conf:1: --pid /run/a.pid: D/d.conf:2 "));
    }

    #[test]
    fn process_wide_options_are_refused_inside_a_section() {
        let tree = Tree::new("refused");
        for (line, option) in [
            ("silent", "silent"),
            ("syslog-facility = local3", "syslog-facility"),
            ("syslog-facility", "syslog-facility"),
            ("no-syslog", "no-syslog"),
            ("no-sys", "no-syslog"),
            ("debug", "debug"),
            ("no-ack", "no-ack"),
            ("sudo", "sudo"),
            ("pid = /run/x.pid", "pid"),
            ("user = root", "user"),
            ("group = root", "group"),
            ("api-version = 6", "api-version"),
            ("api = 6", "api-version"),
            ("dry-run", "dry-run"),
            ("once", "once"),
            ("metrics-file = /run/x.prom", "metrics-file"),
            ("metrics-listen = 127.0.0.1:9876", "metrics-listen"),
            ("control-socket = /run/x.sock", "control-socket"),
        ] {
            let file = tree.file("x.conf", &format!("rise = 2\n[web]\nip = 192.0.2.1\n{line}\n"));
            assert_eq!(
                tree.error(&["--config", &file]),
                format!(
                    "D/x.conf:4: '{option}' is process-wide: it cannot be used inside section [web] (give it \
                     before the first section or on the command line)"
                ),
                "{line}"
            );
        }
        let file = tree.file("x.conf", "[web]\nconfig = /etc/x\n");
        assert_eq!(tree.error(&["--config", &file]), "D/x.conf:2: 'config' cannot be used inside a configuration file");
        let file = tree.file("x.conf", "[web]\nhelp\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:2: 'help' cannot be used"));
        let file = tree.file("x.conf", "[web]\nrise = x\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:2: invalid value 'x' for '--rise"));
        let file = tree.file("x.conf", "[web]\nbogus\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:2: unexpected argument '--bogus'"));
    }

    #[test]
    fn section_names_are_unique_over_all_files() {
        let tree = Tree::new("names");
        let a = tree.file("a.conf", "[web]\nip = 192.0.2.1\n\n[dns]\nip = 192.0.2.2\n[web]\n");
        assert_eq!(
            tree.error(&["--config", &a]),
            "D/a.conf:6: section [web] is already defined at D/a.conf:1; a service name is unique over all files"
        );
        let b = tree.file("b.conf", "[web]\nip = 192.0.2.1\n");
        let c = tree.file("c.conf", "rise = 2\n[web]\nip = 192.0.2.2\n");
        assert_eq!(
            tree.error(&["--config", &b, "--config", &c]),
            "D/c.conf:2: section [web] is already defined at D/b.conf:1; a service name is unique over all files"
        );
        // A file without sections among several is named after the file.
        let web = tree.file("web.conf", "ip = 192.0.2.3\n");
        assert_eq!(
            tree.error(&["--config", &b, "--config", &web]),
            "--config D/web.conf: service [web] (named after the file) is already defined at D/b.conf:1"
        );
        assert_eq!(
            tree.error(&["--config", &web, "--config", &b]),
            "D/b.conf:1: section [web] is already defined at D/web.conf; a service name is unique over all files"
        );
        assert_eq!(
            tree.error(&["--config", &web, "--config", &web]),
            "--config D/web.conf: service [web] (named after the file) is already defined at D/web.conf"
        );
        let bad = tree.file("bad name.conf", "ip = 192.0.2.4\n");
        assert_eq!(
            tree.error(&["--config", &b, "--config", &bad]),
            "--config D/bad name.conf: a file without sections is a service named after the file, and \"bad name\" \
             is not a service name (1 to 64 of A-Z, a-z, 0-9, '.', '_', '-')"
        );
        // Alone, that file is today's one service: its name does not matter.
        assert_eq!(tree.settings(&["--config", &bad]).unwrap().services[0].section, None);
        let broken = tree.file("broken.conf", "rise = 2\n[we b]\n");
        assert_eq!(
            tree.error(&["--config", &broken]),
            "D/broken.conf:2: '[we b]': a section name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'"
        );
    }

    #[test]
    fn a_directory_gives_its_conf_files_in_name_order() {
        let tree = Tree::new("dir");
        tree.file("d/20-web.conf", "interval = 2\nip = 192.0.2.1\n");
        tree.file("d/10-dns.conf", "[dns]\nip = 192.0.2.2\n[ntp]\nip = 192.0.2.3\n");
        tree.file("d/30-x.conf.orig", "bogus\n");
        tree.file("d/README", "bogus\n");
        tree.file("d/sub.conf/inner.conf", "bogus\n");
        tree.file("d/Z.conf", "ip = 192.0.2.4\n");
        let all = tree.settings(&["--config", &tree.path("d")]).unwrap();
        let order: Vec<_> = all.services.iter().map(|s| s.section.clone().unwrap()).collect();
        assert_eq!(order, ["dns", "ntp", "20-web", "Z"]);
        let web = by_section(&all, "20-web");
        assert_eq!((web.name.as_deref(), web.interval), (Some("20-web"), Duration::from_secs(2)));
        // A directory of one file without sections: a service named after the file.
        tree.file("one/web.conf", "ip = 192.0.2.1\n");
        let one = tree.settings(&["--config", &tree.path("one")]).unwrap();
        assert_eq!(one.services.len(), 1);
        assert_eq!(one.services[0].section.as_deref(), Some("web"));
        // A directory and a file.
        let extra = tree.file("extra.conf", "[extra]\nip = 192.0.2.9\n");
        let both = tree.settings(&["--config", &tree.path("one"), "-F", &extra]).unwrap();
        let order: Vec<_> = both.services.iter().map(|s| s.section.clone().unwrap()).collect();
        assert_eq!(order, ["web", "extra"]);
        std::fs::create_dir_all(tree.path("empty")).unwrap();
        tree.file("empty/x.cfg", "");
        assert_eq!(
            tree.error(&["--config", &tree.path("empty")]),
            "--config D/empty: the directory holds no *.conf file"
        );
        // Every file is read before any is checked; one that cannot be read names its directory.
        tree.file("unread/a.conf", "bogus\n");
        std::fs::write(tree.path("unread/b.conf"), b"\xff\n").unwrap();
        assert_eq!(
            tree.error(&["--config", &tree.path("unread")]),
            "--config D/unread: failed to read D/unread/b.conf: stream did not contain valid UTF-8"
        );
        assert_eq!(
            tree.error(&["--config", &tree.path("unread/a.conf"), "--config", &tree.path("unread/b.conf")]),
            "--config D/unread/b.conf: failed to read: stream did not contain valid UTF-8"
        );
    }

    #[test]
    fn no_address_belongs_to_two_services() {
        let tree = Tree::new("shared");
        let file = tree.file("x.conf", "[web]\nip = 192.0.2.0/24\n[dns]\n# dns\nip = 198.51.100.1\nip = 192.0.2.7\n");
        assert_eq!(
            tree.error(&["--config", &file]),
            "D/x.conf:6: --ip 192.0.2.7: 192.0.2.7 is in service [dns] and in service [web] (--ip 192.0.2.0/24 at \
             D/x.conf:2); an address belongs to one service"
        );
        // From the defaults or the command line, every service without its own list gets it.
        let file = tree.file("x.conf", "ip = 2001:db8::/127\n[a]\n[b]\nip = 192.0.2.1\n[c]\n");
        assert_eq!(
            tree.error(&["--config", &file]),
            "D/x.conf:1: --ip 2001:db8::/127: 2001:db8:: is in service [c] and in service [a] (--ip 2001:db8::/127 \
             at D/x.conf:1); an address belongs to one service"
        );
        let file = tree.file("x.conf", "[a]\nrise = 2\n[b]\n");
        assert_eq!(
            tree.error(&["--config", &file, "--ip", "10.0.0.0/30", "--no-ip-setup"]),
            "--ip 10.0.0.0/30: 10.0.0.0 is in service [b] and in service [a] (--ip 10.0.0.0/30 on the command \
             line); an address belongs to one service"
        );
        // The whole space holds every address; the last address counts too.
        let file =
            tree.file("x.conf", "no-ip-setup\n[a]\nip = ::/0\n[b]\nip = ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n");
        assert!(tree.error(&["--config", &file]).contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is in service [b]"));
        let file = tree.file("x.conf", "[a]\nip = 192.0.2.255\n[b]\nip = 192.0.2.0/24\n");
        assert!(tree
            .error(&["--config", &file])
            .starts_with("D/x.conf:4: --ip 192.0.2.0/24: 192.0.2.255 is in service [b]"));
        // Neighbours, the other family, and one service's repeats are fine.
        let file = tree.file(
            "x.conf",
            "[a]\nip = 192.0.2.0/25\nip = 192.0.2.0/25\nip = 192.0.2.1\n[b]\nip = 192.0.2.128/25\nip = ::ffff:c000:201\n\
             [c]\nip = 192.0.3.0\n",
        );
        assert_eq!(tree.settings(&["--config", &file]).unwrap().services.len(), 3);
    }

    #[test]
    fn a_bad_value_names_the_line_of_its_section_or_defaults() {
        let tree = Tree::new("blame");
        let file = tree.file("x.conf", "interval = 5\nrise = 2\n[web]\ninterval = soon\n[dns]\nrise = 2\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:4: --interval soon: "));
        let file = tree.file("x.conf", "interval = soon\n[web]\nrise = 2\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:1: --interval soon: "));
        let file = tree.file("x.conf", "interval = soon\n[web]\ninterval = soon\n");
        assert!(tree.error(&["--config", &file]).starts_with("D/x.conf:3: --interval soon: "));
        let file = tree.file("x.conf", "[web]\nrise = 2\n");
        assert!(tree.error(&["--config", &file, "--interval", "soon"]).starts_with("--interval soon: "));
        let file = tree.file("x.conf", "\nuser = no-such-user-here\n[web]\n");
        assert_eq!(tree.error(&["--config", &file]), "D/x.conf:2: --user no-such-user-here: no such user");
        let file = tree.file("x.conf", "[web]\n");
        let other = tree.file("y.conf", "[other]\nname = a\u{1}b\n");
        let e = tree.error(&["--config", &file, "--config", &other]);
        assert!(e.starts_with("D/y.conf:2: --name "), "{e}");
    }

    #[test]
    fn the_same_files_give_equal_settings() {
        let tree = Tree::new("equal");
        let file = tree.file("x.conf", "interval = 2\n[web]\nip = 192.0.2.1\n[dns]\nip = 192.0.2.2\n");
        let once = tree.settings(&["--config", &file]).unwrap();
        assert_eq!(once, tree.settings(&["--config", &file]).unwrap());
        tree.file("x.conf", "interval = 2\n[web]\nip = 192.0.2.1\n[dns]\nip = 192.0.2.3\n");
        let again = tree.settings(&["--config", &file]).unwrap();
        assert_eq!(once.process, again.process);
        assert_eq!(once.services[0], again.services[0]);
        assert_ne!(once.services[1], again.services[1]);
    }
}
