//! The plugin's flags ([`Args`]), flag for flag the reference's (`python3 -m exabgp
//! healthcheck`), plus our own additions, with their help headings. The doc comments are the
//! `--help` text (and the man page's, the README's option table's and the completions').

use super::{Origins, ServiceArgs};
use clap::{ArgAction, Parser};
use std::path::PathBuf;

const ABOUT: &str = "Health checker for ExaBGP: runs a check command on an interval and tells \
ExaBGP to announce the service addresses while it passes (with a MED), and to raise the MED or \
withdraw them when it fails. A drop-in for `python3 -m exabgp healthcheck`.";

const AFTER: &str = "Durations take seconds (`5`, `0.5`) or units (`500ms`, `2s`, `1m`).
A configuration file (--config) holds one long option per line, without its dashes, alone \
(`debug`) or as `name = value`; lines starting with # are comments. Command-line flags come after \
the file's: they win for single-valued options and add to repeatable ones. A `[NAME]` line starts \
a service of its own (the lines before the first are defaults), whose options win over the \
command line's; --config may be repeated or name a directory of *.conf files.
Control a running plugin (--control-socket): exabgp-healthcheck ctl --help";

/// Every flag, as parsed. Field names follow the reference's option names.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "exabgp-healthcheck",
    version,
    about = ABOUT,
    after_help = AFTER,
    infer_long_args = true,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Args {
    /// Don't log to the console (stderr)
    #[arg(long, short = 's', conflicts_with_all = ["syslog_facility", "no_syslog"])]
    pub silent: bool,

    /// Log to syslog using FACILITY [default: daemon]. Also spelled -sF
    #[arg(long, value_name = "FACILITY", num_args = 0..=1, default_missing_value = "daemon",
          conflicts_with = "no_syslog")]
    pub syslog_facility: Option<String>,

    /// Disable syslog logging
    #[arg(long)]
    pub no_syslog: bool,

    /// Enable debugging (debug messages on the console; turns syslog off)
    #[arg(long, short = 'd')]
    pub debug: bool,

    /// How log lines look on the console: text (the reference's `LEVEL[healthcheck] message`)
    /// or json (one object per line: ts, level, service, msg, and fields such as from, to,
    /// rc, duration_ms). Syslog keeps the text [default: text]
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,

    /// Do not expect ExaBGP to acknowledge each line (exabgp.api.ack=false): write without
    /// waiting for its answers. Without it, at most 16 lines wait for an answer, and never for
    /// long when none comes
    #[arg(long, short = 'a')]
    pub no_ack: bool,

    /// Use sudo (`sudo -n ip address ...`) to add and remove the service addresses
    #[arg(long)]
    pub sudo: bool,

    /// Name for this healthchecker (in syslog: healthcheck-NAME)
    #[arg(long, short = 'n', value_name = "NAME")]
    pub name: Option<String>,

    /// Read configuration from a file
    // Hidden aliases: prefixes that are the reference's for one option only, and that options
    // of ours (--control-socket, --log-format, --api-version, --watchdog) would make ambiguous
    // (`every_prefix_the_reference_takes_still_means_the_same_option`).
    #[arg(long, short = 'F', value_name = "FILE", action = ArgAction::Append, alias = "con")]
    pub config: Vec<PathBuf>,

    /// Where the values read from `--config` came from, so that a value the configuration
    /// refuses later is reported with its file and line (not a flag).
    #[arg(skip)]
    pub origins: Option<Origins>,

    /// The services of `[NAME]` sections and of several files, each with its own flags. Empty:
    /// these flags are the one service's (no `--config`, or one file without sections); else
    /// only their process-wide options count.
    #[arg(skip)]
    pub services: Vec<ServiceArgs>,

    /// Write the PID to FILE (removed at exit)
    #[arg(long, short = 'p', value_name = "FILE")]
    pub pid: Option<PathBuf>,

    /// Switch to USER after setting up the addresses
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Switch to GROUP after setting up the addresses
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,

    /// Listen on this unix socket (mode 0600, removed at exit) for `exabgp-healthcheck ctl`:
    /// status, check, drain, resume. None by default
    #[arg(long, value_name = "PATH", conflicts_with = "once")]
    pub control_socket: Option<PathBuf>,

    /// When the main loop has not come round for D (at least 1s): write every service's
    /// withdraws and exit 70, so that ExaBGP withdraws and restarts the plugin. Off by default;
    /// recommended with BFD
    #[arg(long, value_name = "D", conflicts_with = "once")]
    pub watchdog: Option<String>,

    /// Speak BFD with this router (repeatable; an IP address, IPv6 link-local as
    /// fe80::1%IFNAME): it drops this node within the detection time when the node or the
    /// plugin stops answering. Normally ExaBGP's neighbors. None by default
    #[arg(long, value_name = "PEER", action = ArgAction::Append, conflicts_with = "once")]
    pub bfd: Vec<String>,

    /// The source address of the BFD sessions of its address family (repeatable, one per
    /// family): ExaBGP's local-address. Default: the one the kernel picks to reach the peer
    #[arg(long, value_name = "ADDR", action = ArgAction::Append)]
    pub bfd_local: Vec<String>,

    /// BFD: our transmit and receive interval once a session is Up (10ms..10s)
    #[arg(long, value_name = "D", default_value = "300ms")]
    pub bfd_interval: String,

    /// BFD: packets missed in a row before the peer is declared down (1..255)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub bfd_multiplier: i64,

    /// Time between checks; 0 exits after the first announcement
    #[arg(long, short = 'i', value_name = "N", default_value = "5", allow_negative_numbers = true,
          help_heading = CHECKING)]
    pub interval: String,

    /// Time between checks while a state change is about to occur (RISING, FALLING)
    #[arg(long = "fast-interval", short = 'f', value_name = "N", default_value = "1",
          allow_negative_numbers = true, help_heading = CHECKING)]
    pub fast: String,

    /// Time the check command may take before it is killed and counted as failed; 0 = no limit.
    /// Hooks are bounded by it too
    #[arg(long, short = 't', value_name = "N", default_value = "5", allow_negative_numbers = true,
          help_heading = CHECKING)]
    pub timeout: String,

    /// Successful checks in a row before the service is considered up
    #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true,
          help_heading = CHECKING)]
    pub rise: i64,

    /// Failed checks in a row before the service is considered down
    #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true,
          help_heading = CHECKING)]
    pub fall: i64,

    /// Wait a random time below --interval before the first check, so that a fleet restarted
    /// together does not check in step
    #[arg(long, help_heading = CHECKING)]
    pub splay: bool,

    /// While FILE exists, the service is considered disabled
    #[arg(long, value_name = "FILE", help_heading = CHECKING)]
    pub disable: Option<PathBuf>,

    /// Command to use for the health check (run with /bin/sh -c); none = always healthy
    #[arg(long, visible_alias = "cmd", short = 'c', value_name = "CMD", help_heading = CHECKING)]
    pub command: Option<String>,

    /// A native check, run without a fork: tcp://HOST:PORT, http://HOST[:PORT]/PATH (options
    /// #status=N, #body=TEXT), https://HOST[:PORT]/PATH (the same, verified against the
    /// system's roots; #insecure: not verified; #sni=NAME: the name sent and verified;
    /// #min-days=N: the certificate valid N more days), dns://SERVER[:PORT]/NAME[?type=TYPE]
    /// (option #expect=IP), ntp://SERVER[:PORT] (options #max-stratum=N, #max-offset=DURATION)
    /// or icmp://HOST (an echo reply). HOST is an IP address or localhost. Repeatable; every
    /// check and --command must pass, all under one --timeout
    #[arg(long = "check", value_name = "URL", action = ArgAction::Append, help_heading = CHECKING)]
    pub checks: Vec<String>,

    /// Next hop to announce [default: self]
    #[arg(long, short = 'N', value_name = "IP", help_heading = ADVERTISING)]
    pub next_hop: Option<String>,

    /// Advertise this IP address or network (CIDR notation); repeatable. None: every
    /// non-loopback address found on lo
    #[arg(long = "ip", value_name = "IP", action = ArgAction::Append, help_heading = ADVERTISING)]
    pub ips: Vec<String>,

    /// Bind this IP address or network (also given with --ip) to the given interface, for
    /// example 192.0.2.1%eth0; repeatable
    #[arg(long = "ip-ifname", value_name = "IP%IFNAME", action = ArgAction::Append,
          help_heading = ADVERTISING)]
    pub ip_ifnames: Vec<String>,

    /// Advertise with local preference P (-1: not sent)
    #[arg(long, value_name = "P", default_value_t = -1, allow_negative_numbers = true, alias = "lo",
          help_heading = ADVERTISING)]
    pub local_preference: i64,

    /// Announce every address of the --ip networks as its own /32 or /128 route
    #[arg(long, help_heading = ADVERTISING)]
    pub deaggregate_networks: bool,

    /// Don't set up missing addresses on the interfaces
    #[arg(long, help_heading = ADVERTISING)]
    pub no_ip_setup: bool,

    /// Remove the addresses when the service is down or disabled, set them up again when up
    #[arg(long, help_heading = ADVERTISING)]
    pub dynamic_ip_setup: bool,

    /// Label of the addresses (lo:LABEL): set on the ones we add, and, with no --ip, selects
    /// the ones to advertise (by prefix)
    #[arg(long, value_name = "LABEL", help_heading = ADVERTISING)]
    pub label: Option<String>,

    /// Match --label exactly instead of as a prefix
    #[arg(long, help_heading = ADVERTISING)]
    pub label_exact_match: bool,

    /// Index of the first IP in the list of IP addresses (the list is rotated)
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          help_heading = ADVERTISING)]
    pub start_ip: i64,

    /// MED of the first IP when the service is up
    #[arg(long, value_name = "M", default_value_t = 100, allow_negative_numbers = true,
          help_heading = ADVERTISING)]
    pub up_metric: i64,

    /// MED of the first IP when the service is down
    #[arg(long, value_name = "M", default_value_t = 1000, allow_negative_numbers = true,
          help_heading = ADVERTISING)]
    pub down_metric: i64,

    /// MED of the first IP when the service is disabled
    #[arg(long, value_name = "M", default_value_t = 500, allow_negative_numbers = true,
          help_heading = ADVERTISING)]
    pub disabled_metric: i64,

    /// For each additional IP address, increase the MED by M
    #[arg(long, value_name = "M", default_value_t = 1, allow_negative_numbers = true,
          help_heading = ADVERTISING)]
    pub increase: i64,

    /// Announce with the supplied community
    #[arg(long, value_name = "COMMUNITY", help_heading = ADVERTISING)]
    pub community: Option<String>,

    /// Announce with the supplied extended community
    #[arg(long, value_name = "EXTENDEDCOMMUNITY", help_heading = ADVERTISING)]
    pub extended_community: Option<String>,

    /// Announce with the supplied large community
    #[arg(long, value_name = "LARGECOMMUNITY", help_heading = ADVERTISING)]
    pub large_community: Option<String>,

    /// Announce with the supplied community (instead of --community) when down or disabled
    #[arg(long, value_name = "DISABLEDCOMMUNITY", help_heading = ADVERTISING)]
    pub disabled_community: Option<String>,

    /// Announce with the supplied AS path
    #[arg(long, value_name = "ASPATH", help_heading = ADVERTISING, alias = "a")]
    pub as_path: Option<String>,

    /// Announce with the supplied AS path when the service is up
    #[arg(long, value_name = "ASPATH", help_heading = ADVERTISING)]
    pub up_as_path: Option<String>,

    /// Announce with the supplied AS path when the service is down
    #[arg(long, value_name = "ASPATH", help_heading = ADVERTISING)]
    pub down_as_path: Option<String>,

    /// Announce with the supplied AS path when the service is disabled
    #[arg(long, value_name = "ASPATH", help_heading = ADVERTISING)]
    pub disabled_as_path: Option<String>,

    /// Withdraw the routes when the service is down or disabled, instead of raising the MED
    #[arg(long, help_heading = ADVERTISING, alias = "w")]
    pub withdraw_on_down: bool,

    /// Path ID (ADD-PATH) to advertise for the routes
    #[arg(long, value_name = "PATHID", allow_negative_numbers = true, help_heading = ADVERTISING)]
    pub path_id: Option<i64>,

    /// Advertise only to the selected neighbors (* for all); repeatable
    #[arg(long = "neighbor", value_name = "NEIGHBOR", action = ArgAction::Append,
          help_heading = ADVERTISING)]
    pub neighbors: Vec<String>,

    /// Announce only on state changes, instead of at every check
    #[arg(long, help_heading = ADVERTISING)]
    pub debounce: bool,

    /// ExaBGP API to write: 4 (ExaBGP 3.4 to 5.x: `announce ...`, `neighbor A announce ...`)
    /// or 6 (`peer * announce ...`)
    #[arg(long, value_name = "N", default_value = "4", value_parser = ["4", "6"],
          help_heading = ADVERTISING)]
    pub api_version: String,

    /// Execute CMD on each state change (STATE=<NAME> in its environment); repeatable
    #[arg(long, value_name = "CMD", action = ArgAction::Append, help_heading = REPORTING)]
    pub execute: Vec<String>,

    /// Execute CMD when the service becomes available; repeatable
    #[arg(long, value_name = "CMD", action = ArgAction::Append, help_heading = REPORTING)]
    pub up_execute: Vec<String>,

    /// Execute CMD when the service becomes unavailable; repeatable
    #[arg(long, value_name = "CMD", action = ArgAction::Append, help_heading = REPORTING)]
    pub down_execute: Vec<String>,

    /// Execute CMD when the service is disabled; repeatable
    #[arg(long, value_name = "CMD", action = ArgAction::Append, help_heading = REPORTING)]
    pub disabled_execute: Vec<String>,

    /// While FILE exists the service drains (RFC 8326): for --drain-time its routes are
    /// announced with --drain-community, --drain-local-preference and the down metric
    /// (DRAINING), then withdrawn (DRAINED; at once if nothing was announced); once FILE is
    /// gone it starts again from INIT. Wins over every other state, --disable too. Hooks: only
    /// --execute runs, with STATE=DRAINING or STATE=DRAINED
    #[arg(long, value_name = "FILE", help_heading = DRAINING)]
    pub drain_file: Option<PathBuf>,

    /// How long DRAINING lasts before the routes are withdrawn
    #[arg(long, value_name = "DURATION", default_value = "30s", allow_negative_numbers = true,
          help_heading = DRAINING)]
    pub drain_time: String,

    /// Community added to the announcements while DRAINING (GRACEFUL_SHUTDOWN); one or more
    /// ASN:VALUE, separated by spaces
    #[arg(long, value_name = "COMMUNITY", default_value = "65535:0", help_heading = DRAINING)]
    pub drain_community: String,

    /// Local preference of the announcements while DRAINING (for iBGP receivers)
    #[arg(long, value_name = "P", default_value_t = 0, allow_negative_numbers = true,
          help_heading = DRAINING)]
    pub drain_local_preference: i64,

    /// In UP, raise the MED by what the check measured: latency (its duration, averaged, one
    /// more per --metric-step) or output (the number on the first line the command prints;
    /// none: no raise). Always kept below the down and disabled metrics. Needs a check;
    /// output needs --command
    #[arg(long, value_name = "FROM", value_parser = ["latency", "output"], help_heading = MED_FROM)]
    pub metric_from: Option<String>,

    /// With --metric-from latency: one more MED per this much of the average latency
    #[arg(long, value_name = "DURATION", default_value = "1ms", help_heading = MED_FROM)]
    pub metric_step: String,

    /// With --metric-from: a new MED is announced only when it differs from the announced one
    /// by at least N
    #[arg(long, value_name = "N", default_value_t = 10, allow_negative_numbers = true,
          help_heading = MED_FROM)]
    pub metric_hysteresis: i64,

    /// With --metric-from: a new MED is announced no sooner than this after the last change
    #[arg(long, value_name = "DURATION", default_value = "10s", allow_negative_numbers = true,
          help_heading = MED_FROM)]
    pub metric_hold: String,

    /// Suppress a service that flaps (RFC 2439's dampening): each UP -> DOWN adds 1000 to its
    /// penalty, which halves every --dampening-half-life; above --dampening-suppress it is
    /// SUPPRESSED (announced as DOWN is, whatever its checks say: they run, and do not count) until the
    /// penalty decays below --dampening-reuse, at most --dampening-max-suppress; then INIT.
    /// The drain and --disable win over it. Hooks: only --execute runs, with STATE=SUPPRESSED
    #[arg(long, help_heading = DAMPENING)]
    pub dampening: bool,

    /// The time in which the penalty halves
    #[arg(long, value_name = "DURATION", default_value = "60s", allow_negative_numbers = true,
          help_heading = DAMPENING)]
    pub dampening_half_life: String,

    /// A flap that takes the penalty above this suppresses the service
    #[arg(long, value_name = "PENALTY", default_value_t = 3000, allow_negative_numbers = true,
          help_heading = DAMPENING)]
    pub dampening_suppress: i64,

    /// The suppression ends when the penalty decays below this
    #[arg(long, value_name = "PENALTY", default_value_t = 750, allow_negative_numbers = true,
          help_heading = DAMPENING)]
    pub dampening_reuse: i64,

    /// The suppression ends this long after it began at the latest (the penalty never goes
    /// above what decays below --dampening-reuse in this time)
    #[arg(long, value_name = "DURATION", default_value = "10m", allow_negative_numbers = true,
          help_heading = DAMPENING)]
    pub dampening_max_suppress: String,

    /// Run as usual but change no address and expect no acknowledgement: the lines go to
    /// stdout and each transition is explained on stderr
    #[arg(long, conflicts_with = "once", help_heading = TESTING)]
    pub dry_run: bool,

    /// Run the check once, print the verdict, its output and the lines it would send, then
    /// exit: 0 healthy, 1 unhealthy, disabled or draining
    #[arg(long, help_heading = TESTING)]
    pub once: bool,

    /// Write the metrics (Prometheus text format) to PATH after every check and transition,
    /// replaced atomically, for node_exporter's textfile collector; its folder must exist
    #[arg(long, value_name = "PATH", conflicts_with = "once", help_heading = METRICS)]
    pub metrics_file: Option<PathBuf>,

    /// Serve the metrics over HTTP at ADDR:PORT (127.0.0.1:9876, [::1]:9876,
    /// localhost:9876) on GET /metrics
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "once", help_heading = METRICS)]
    pub metrics_listen: Option<String>,
}

const CHECKING: &str = "Checking healthiness";
const ADVERTISING: &str = "Advertising options";
const REPORTING: &str = "Reporting";
const DRAINING: &str = "Graceful drain (RFC 8326, not in the reference)";
const MED_FROM: &str = "The MED from the check (not in the reference)";
const DAMPENING: &str = "Flap dampening (not in the reference)";
const TESTING: &str = "Testing a check (not in the reference)";
const METRICS: &str = "Metrics (not in the reference)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::{args, error};
    use crate::cli::{parse, Parsed};
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_references() {
        let a = args(&[]);
        assert_eq!((a.interval.as_str(), a.fast.as_str(), a.timeout.as_str()), ("5", "1", "5"));
        assert_eq!((a.rise, a.fall), (3, 3));
        assert_eq!((a.up_metric, a.down_metric, a.disabled_metric, a.increase), (100, 1000, 500, 1));
        assert_eq!((a.local_preference, a.start_ip), (-1, 0));
        assert_eq!(a.syslog_facility, None);
        assert!(a.ips.is_empty() && a.command.is_none() && a.next_hop.is_none());
        assert_eq!(a.api_version, "4");
    }

    #[test]
    fn short_options_and_aliases() {
        let a =
            args(&["-s", "-d", "-a", "-n", "web", "-i", "2", "-f", "0.5", "-t", "3", "-c", "true", "-N", "192.0.2.1"]);
        assert!(a.silent && a.debug && a.no_ack);
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!((a.interval.as_str(), a.fast.as_str(), a.timeout.as_str()), ("2", "0.5", "3"));
        assert_eq!(a.command.as_deref(), Some("true"));
        assert_eq!(a.next_hop.as_deref(), Some("192.0.2.1"));
        assert_eq!(args(&["--cmd", "x"]).command.as_deref(), Some("x"));
        assert_eq!(args(&["-sF", "local3"]).syslog_facility.as_deref(), Some("local3"));
        assert_eq!(args(&["-sF"]).syslog_facility.as_deref(), Some("daemon"));
        assert_eq!(args(&["--syslog-facility"]).syslog_facility.as_deref(), Some("daemon"));
    }

    #[test]
    fn unambiguous_prefixes_are_accepted_like_argparse() {
        assert_eq!(args(&["--fast", "2"]).fast, "2");
        assert!(args(&["--withdraw"]).withdraw_on_down);
        assert_eq!(args(&["--ip", "192.0.2.1"]).ips, ["192.0.2.1"]);
        assert_eq!(args(&["--up-m", "5"]).up_metric, 5);
        assert!(error(&["--d", "x"]).contains("--d"));
    }

    /// The long options of ExaBGP 5.0.15's healthcheck (`python -m exabgp healthcheck --help`;
    /// 4.2.25's are the same but for `--debounce` and `--ip-ifname`), `--help` aside.
    const REFERENCE_OPTIONS: [&str; 49] = [
        "as-path",
        "cmd",
        "command",
        "community",
        "config",
        "deaggregate-networks",
        "debounce",
        "debug",
        "disable",
        "disabled-as-path",
        "disabled-community",
        "disabled-execute",
        "disabled-metric",
        "down-as-path",
        "down-execute",
        "down-metric",
        "dynamic-ip-setup",
        "execute",
        "extended-community",
        "fall",
        "fast-interval",
        "group",
        "increase",
        "interval",
        "ip",
        "ip-ifname",
        "label",
        "label-exact-match",
        "large-community",
        "local-preference",
        "name",
        "neighbor",
        "next-hop",
        "no-ack",
        "no-ip-setup",
        "no-syslog",
        "path-id",
        "pid",
        "rise",
        "silent",
        "start-ip",
        "sudo",
        "syslog-facility",
        "timeout",
        "up-as-path",
        "up-execute",
        "up-metric",
        "user",
        "withdraw-on-down",
    ];

    #[test]
    fn every_prefix_the_reference_takes_still_means_the_same_option() {
        // argparse takes any prefix that only one of its options has; our own options must not
        // make one of those ambiguous (existing command lines and files use them).
        let command = Args::command();
        let id_of = |long: &str| {
            let arg = command.get_arguments().find(|a| {
                a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|aliases| aliases.contains(&long))
            });
            arg.map(|a| a.get_id().to_string()).unwrap_or_else(|| panic!("--{long} is not ours"))
        };
        let (mut checked, mut broken) = (0, Vec::new());
        for flag in REFERENCE_OPTIONS {
            let want = id_of(flag);
            for end in 1..=flag.len() {
                let prefix = &flag[..end];
                let owners: std::collections::HashSet<String> =
                    REFERENCE_OPTIONS.iter().filter(|f| f.starts_with(prefix)).map(|f| id_of(f)).collect();
                if owners.len() != 1 {
                    continue;
                }
                let parse = |extra: &[&str]| {
                    let mut argv = vec!["exabgp-healthcheck".to_owned(), format!("--{prefix}")];
                    argv.extend(extra.iter().map(|s| (*s).to_owned()));
                    command.clone().try_get_matches_from(argv).ok()
                };
                let means = parse(&[]).or_else(|| parse(&["1"])).map(|m| m.value_source(&want));
                if means != Some(Some(clap::parser::ValueSource::CommandLine)) {
                    broken.push(format!("--{prefix} (--{flag})"));
                }
                checked += 1;
            }
        }
        assert!(broken.is_empty(), "no longer the reference's: {}", broken.join(", "));
        assert!(checked > 300, "only {checked} prefixes");
    }

    #[test]
    fn repeated_single_flags_keep_the_last_and_repeatable_ones_add() {
        let a = args(&["--rise", "2", "--rise", "5", "--ip", "192.0.2.1", "--ip", "192.0.2.2"]);
        assert_eq!(a.rise, 5);
        assert_eq!(a.ips, ["192.0.2.1", "192.0.2.2"]);
    }

    #[test]
    fn negative_numbers_are_values() {
        let a = args(&["--increase", "-10", "--start-ip", "-1", "--local-preference", "-1"]);
        assert_eq!((a.increase, a.start_ip, a.local_preference), (-10, -1, -1));
    }

    #[test]
    fn errors_are_one_line_and_name_the_flag() {
        let e = error(&["--rise", "abc"]);
        assert!(e.contains("--rise") && !e.contains('\n'), "{e}");
        let e = error(&["--bogus"]);
        assert!(e.contains("--bogus") && !e.contains('\n'), "{e}");
        let e = error(&["--silent", "--no-syslog"]);
        assert!(e.contains("--silent") || e.contains("--no-syslog"), "{e}");
        let e = error(&["--api-version", "5"]);
        assert!(e.contains("--api-version"), "{e}");
        let e = error(&["--metric-from", "cpu"]);
        assert!(e.contains("--metric-from") && !e.contains('\n'), "{e}");
        let e = error(&["--once", "--metrics-file", "/run/m.prom"]);
        assert!(e.contains("--metrics-file") && e.contains("--once"), "{e}");
        let e = error(&["--once", "--metrics-listen", "127.0.0.1:9876"]);
        assert!(e.contains("--metrics-listen") && e.contains("--once"), "{e}");
    }

    #[test]
    fn help_groups_the_options_like_the_reference() {
        let Ok(Parsed::Print(help)) = parse(["exabgp-healthcheck", "--help"]) else { panic!() };
        let at = |s: &str| help.find(s).unwrap_or_else(|| panic!("no {s} in help"));
        assert!(at("--debug") < at("Checking healthiness:"));
        assert!(at("Checking healthiness:") < at("--interval"));
        assert!(at("--interval") < at("Advertising options:"));
        assert!(at("Advertising options:") < at("--withdraw-on-down"));
        assert!(at("--withdraw-on-down") < at("Reporting:"));
        assert!(at("Reporting:") < at("--up-execute"));
    }
}
