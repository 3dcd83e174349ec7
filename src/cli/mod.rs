//! The command line, flag for flag the reference's (`python3 -m exabgp healthcheck`), plus our
//! own additions. The doc comments are the `--help` text. Raw flags go no further than
//! [`crate::config`], which turns them into typed `Settings`.

pub mod file;
use crate::error::{Origin, UsageError};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;
use std::path::PathBuf;

const ABOUT: &str = "Health checker for ExaBGP: runs a check command on an interval and tells \
ExaBGP to announce the service addresses while it passes (with a MED), and to raise the MED or \
withdraw them when it fails. A drop-in for `python3 -m exabgp healthcheck`.";

const AFTER: &str = "Durations take seconds (`5`, `0.5`) or units (`500ms`, `2s`, `1m`).
A configuration file (--config) holds one long option per line, without its dashes, alone \
(`debug`) or as `name = value`; lines starting with # are comments. Command-line flags come after \
the file's: they win for single-valued options and add to repeatable ones.";

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
    #[arg(long, short = 'F', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the values read from `--config` came from, so that a value the configuration
    /// refuses later is reported with its file and line (not a flag).
    #[arg(skip)]
    pub origins: Option<Origins>,

    /// Write the PID to FILE (removed at exit)
    #[arg(long, short = 'p', value_name = "FILE")]
    pub pid: Option<PathBuf>,

    /// Switch to USER after setting up the addresses
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Switch to GROUP after setting up the addresses
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,

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

    /// While FILE exists, the service is considered disabled
    #[arg(long, value_name = "FILE", help_heading = CHECKING)]
    pub disable: Option<PathBuf>,

    /// Command to use for the health check (run with /bin/sh -c); none = always healthy
    #[arg(long, visible_alias = "cmd", short = 'c', value_name = "CMD", help_heading = CHECKING)]
    pub command: Option<String>,

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
    #[arg(long, value_name = "P", default_value_t = -1, allow_negative_numbers = true,
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
    #[arg(long, value_name = "ASPATH", help_heading = ADVERTISING)]
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
    #[arg(long, help_heading = ADVERTISING)]
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

    /// Run as usual but change no address and expect no acknowledgement: the lines go to
    /// stdout and each transition is explained on stderr
    #[arg(long, conflicts_with = "once", help_heading = TESTING)]
    pub dry_run: bool,

    /// Run the check once, print the verdict, its output and the lines it would send, then
    /// exit: 0 healthy, 1 unhealthy or disabled
    #[arg(long, help_heading = TESTING)]
    pub once: bool,
}

const CHECKING: &str = "Checking healthiness";
const ADVERTISING: &str = "Advertising options";
const REPORTING: &str = "Reporting";
const TESTING: &str = "Testing a check (not in the reference)";

/// What parsing the command line ended in.
#[derive(Debug)]
pub enum Parsed {
    /// Flags to run with.
    Run(Box<Args>),
    /// `--help` or `--version`: print this on stdout and exit 0.
    Print(String),
}

/// The lines of a `--config` file, to find the one a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins {
    path: PathBuf,
    lines: Vec<file::Line>,
}

impl Origins {
    /// The file line that gave `flag` (as `--name`) this `value`, when one did. The last such
    /// line wins, as it does for the value. A flag spelled otherwise in the file (a prefix,
    /// an alias) is not matched.
    pub(crate) fn line_of(&self, flag: &str, value: &str) -> Option<Origin> {
        let line = self.lines.iter().rev().find(|line| line.arg.split_once('=') == Some((flag, value)))?;
        Some(Origin { file: self.path.clone(), line: line.number })
    }
}

/// Parse the command line, reading `--config` when given.
pub fn parse<I, T>(argv: I) -> Result<Parsed, UsageError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).map(expand_short_syslog).collect();
    let first = match try_parse(&argv) {
        Ok(args) => args,
        Err(done) => return done,
    };
    let Some(path) = first.config.clone() else {
        return Ok(Parsed::Run(Box::new(first)));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| UsageError::value("--config", path.display(), format!("failed to read: {}", io_reason(&err))))?;
    let at = |line: usize| Origin { file: path.clone(), line };
    let lines = file::parse(&text).map_err(|err| UsageError::message(err.message).at(at(err.line)))?;
    // Each line alone first, so that an error names its line.
    use clap::error::ErrorKind;
    for line in &lines {
        let single = [OsString::from("exabgp-healthcheck"), OsString::from(&line.arg)];
        match Args::command().try_get_matches_from(single) {
            Ok(matches) if matches.value_source("config") == Some(clap::parser::ValueSource::CommandLine) => {
                return Err(
                    UsageError::message("'config' cannot be used inside a configuration file").at(at(line.number))
                )
            }
            Ok(_) => {}
            Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                // The reference would print the help (or version) to ExaBGP and exit 0.
                let word = if err.kind() == ErrorKind::DisplayHelp { "help" } else { "version" };
                return Err(UsageError::message(format!(
                    "'{word}' cannot be used inside a configuration file (give --{word} on the command line)"
                ))
                .at(at(line.number)));
            }
            Err(err) => return Err(UsageError::message(one_line(&err)).at(at(line.number))),
        }
    }
    let mut merged = vec![argv.first().cloned().unwrap_or_else(|| "exabgp-healthcheck".into())];
    merged.extend(lines.iter().map(|line| OsString::from(&line.arg)));
    merged.extend(argv.iter().skip(1).cloned());
    match try_parse(&merged) {
        Ok(mut args) => {
            args.origins = Some(Origins { path, lines });
            Ok(Parsed::Run(Box::new(args)))
        }
        Err(done) => done,
    }
}

fn try_parse(argv: &[OsString]) -> Result<Args, Result<Parsed, UsageError>> {
    let matches = Args::command().try_get_matches_from(argv);
    let result = matches.and_then(|m| Args::from_arg_matches(&m));
    result.map_err(|err| {
        use clap::error::ErrorKind;
        match err.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Ok(Parsed::Print(err.render().to_string())),
            _ => Err(UsageError::message(one_line(&err))),
        }
    })
}

/// `-sF` is the reference's two-letter short option for `--syslog-facility`; clap only knows
/// one-letter short options.
fn expand_short_syslog(arg: OsString) -> OsString {
    match arg.to_str() {
        Some("-sF") => OsString::from("--syslog-facility"),
        Some(other) if other.starts_with("-sF=") => OsString::from(format!("--syslog-facility={}", &other[4..])),
        _ => arg,
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn one_line(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).trim().to_owned()
}

/// An I/O error's reason without the "(os error N)" tail.
fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_lowercase(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        let mut argv = vec!["exabgp-healthcheck"];
        argv.extend_from_slice(list);
        match parse(argv) {
            Ok(Parsed::Run(args)) => *args,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    fn error(list: &[&str]) -> String {
        let mut argv = vec!["exabgp-healthcheck"];
        argv.extend_from_slice(list);
        match parse(argv) {
            Err(err) => err.to_string(),
            other => panic!("{list:?} parsed: {other:?}"),
        }
    }

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

    fn with_file(text: &str, extra: &[&str]) -> Result<Parsed, String> {
        let dir = std::env::temp_dir().join(format!("ehc-cli-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}.conf", text.bytes().map(u64::from).sum::<u64>()));
        std::fs::write(&path, text).unwrap();
        let mut argv = vec!["exabgp-healthcheck".to_owned(), "--config".to_owned(), path.display().to_string()];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let result = parse(argv);
        std::fs::remove_file(&path).unwrap();
        let _ = std::fs::remove_dir(&dir);
        result.map_err(|e| e.to_string().replace(&path.display().to_string(), "FILE"))
    }

    #[test]
    fn config_file_comes_first_and_the_command_line_wins() {
        let text = "# web\n\ndebug\nname = web\ninterval = 10\nip = 192.0.2.1\ncommand = test -f /a=b\n";
        let Ok(Parsed::Run(a)) = with_file(text, &["--interval", "2", "--ip", "192.0.2.2"]) else { panic!() };
        assert!(a.debug);
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!(a.interval, "2");
        assert_eq!(a.ips, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(a.command.as_deref(), Some("test -f /a=b"));
    }

    #[test]
    fn config_file_errors_name_the_file_and_line() {
        let err = |text: &str| with_file(text, &[]).unwrap_err();
        let e = err("debug\nbogus = 1\n");
        assert!(e.starts_with("FILE:2: ") && e.contains("--bogus"), "{e}");
        let e = err("name = a\nrise = high\n");
        assert!(e.starts_with("FILE:2: ") && e.contains("--rise"), "{e}");
        let e = err("\n\nip\n");
        assert!(e.starts_with("FILE:3: ") && e.contains("--ip"), "{e}");
        let e = err("debug = yes\n");
        assert!(e.starts_with("FILE:1: ") && e.contains("--debug"), "{e}");
        let e = err("name = a\nhelp\n");
        assert_eq!(e, "FILE:2: 'help' cannot be used inside a configuration file (give --help on the command line)");
        let e = err("vers\n");
        assert!(e.starts_with("FILE:1: 'version' cannot be used inside"), "{e}");
        let e = err("config = /etc/other\n");
        assert!(e.starts_with("FILE:1: ") && e.contains("config"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn unreadable_config_file_is_a_usage_error() {
        let e = error(&["--config", "/nonexistent/healthcheck.conf"]);
        assert_eq!(e, "--config /nonexistent/healthcheck.conf: failed to read: no such file or directory");
    }

    #[test]
    fn a_file_error_carries_its_line_as_data() {
        let dir = std::env::temp_dir().join(format!("ehc-cli-origin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.conf");
        for (text, line, why) in [
            ("debug\n= 3\n", 2, "'= 3' has no option name before '='"),
            ("debug\nname = a\nconfig = x\n", 3, "'config' cannot be used inside a configuration file"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]).unwrap_err();
            assert_eq!(err, UsageError::message(why).at(Origin { file: path.clone(), line }), "{text:?}");
        }
        let err = error(&["--rise", "x"]);
        assert!(err.starts_with("invalid value 'x' for '--rise <N>'"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]).unwrap_err();
        assert_eq!((err.flag, err.origin), (Some("--config"), None));
    }
}
