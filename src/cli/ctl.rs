//! `exabgp-healthcheck ctl ...`: the command line of the control client, apart from the
//! plugin's own (which stays flag for flag the reference's: `ctl` is recognised as the first
//! argument before that parser runs). The doc comments are the `ctl --help` text.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Where `ctl` looks for the socket unless told (`--socket`); the plugin makes none unless
/// given `--control-socket`, and both must name the same path.
pub const DEFAULT_SOCKET: &str = "/run/exabgp-healthcheck/control.sock";

const ABOUT: &str = "Ask a running exabgp-healthcheck, through its --control-socket, for the state of \
its services, have them checked now, drained or resumed.";

const AFTER: &str = "The plugin listens only when started with --control-socket PATH; give ctl the same \
PATH with --socket (or use the default on both). Exit status: 0 done, 1 nobody listens or it could not \
be done, 2 a usage error (an unknown command or service).";

/// `ctl`'s flags.
#[derive(Debug, Clone, Parser)]
#[command(name = "ctl", version, about = ABOUT, after_help = AFTER,
          max_term_width = 100, subcommand_required = true, arg_required_else_help = true,
          disable_help_subcommand = true)]
pub struct Ctl {
    /// The plugin's control socket (its --control-socket)
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SOCKET, global = true)]
    pub socket: PathBuf,

    /// Print the plugin's answer as it came, one JSON object, instead of text
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: CtlCommand,
}

impl Ctl {
    /// Parse `argv` (`ctl` first): usage lines say `exabgp-healthcheck ctl`.
    pub fn parse_from_argv<I, T>(argv: I) -> Result<Ctl, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Ctl::command().bin_name("exabgp-healthcheck ctl").try_get_matches_from(argv)?;
        Ctl::from_arg_matches(&matches)
    }
}

/// What to ask.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum CtlCommand {
    /// Each service (or SERVICE): its state, since when, its last check, its routes and their MED
    Status {
        /// A service: its section's name, else its --name; none: every service
        service: Option<String>,
    },
    /// Check every service (or SERVICE) now, as SIGUSR1 does; the schedule goes on from there
    Check {
        /// A service: its section's name, else its --name; none: every service
        service: Option<String>,
    },
    /// Drain every service (or SERVICE): announce with the GRACEFUL_SHUTDOWN community and local
    /// preference 0 for its --drain-time, then withdraw (DRAINED) until resumed
    Drain {
        /// A service: its section's name, else its --name; none: every service
        service: Option<String>,
        /// Return only once every service drained is DRAINED (its routes withdrawn)
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this long (exit 1) [default: the longest --drain-time of
        /// the services drained, plus 30 s]
        #[arg(long, value_name = "DURATION", requires = "wait", value_parser = duration)]
        timeout: Option<Duration>,
    },
    /// Take back a drain asked for with `ctl drain` (a --drain-file still holds its own): the
    /// service starts again from INIT
    Resume {
        /// A service: its section's name, else its --name; none: every service
        service: Option<String>,
    },
}

/// `--timeout`: seconds (`40`, `0.5`) or with units (`90s`, `2m`).
fn duration(text: &str) -> Result<Duration, String> {
    crate::units::duration("--timeout", text).map_err(|err| err.why)
}

impl CtlCommand {
    /// The service it names, if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            CtlCommand::Status { service }
            | CtlCommand::Check { service }
            | CtlCommand::Drain { service, .. }
            | CtlCommand::Resume { service } => service.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(list: &[&str]) -> Result<Ctl, clap::Error> {
        Ctl::parse_from_argv(std::iter::once("ctl").chain(list.iter().copied()))
    }

    #[test]
    fn the_ctl_definition_is_consistent() {
        Ctl::command().debug_assert();
    }

    #[test]
    fn commands_take_a_service_and_the_flags_go_anywhere() {
        let ctl = parse(&["status"]).unwrap();
        assert_eq!(
            (ctl.socket.to_str(), ctl.json, ctl.command),
            (Some(DEFAULT_SOCKET), false, CtlCommand::Status { service: None })
        );
        let ctl = parse(&["--socket", "/tmp/s", "check", "web", "--json"]).unwrap();
        assert_eq!(ctl.socket.to_str(), Some("/tmp/s"));
        assert!(ctl.json);
        assert_eq!(ctl.command.service(), Some("web"));
        let ctl = parse(&["status", "--socket", "/tmp/t"]).unwrap();
        assert_eq!(ctl.socket.to_str(), Some("/tmp/t"));
    }

    #[test]
    fn drain_takes_wait_and_a_timeout_with_it() {
        let ctl = parse(&["drain", "web", "--wait", "--timeout", "90s"]).unwrap();
        assert_eq!(
            ctl.command,
            CtlCommand::Drain { service: Some("web".into()), wait: true, timeout: Some(Duration::from_secs(90)) }
        );
        assert_eq!(parse(&["drain"]).unwrap().command, CtlCommand::Drain { service: None, wait: false, timeout: None });
        assert_eq!(parse(&["resume", "dns"]).unwrap().command.service(), Some("dns"));
        use clap::error::ErrorKind;
        assert_eq!(parse(&["drain", "--timeout", "5"]).unwrap_err().kind(), ErrorKind::MissingRequiredArgument);
        let err = parse(&["drain", "--wait", "--timeout", "soon"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
        assert!(err.to_string().contains("not a duration"), "{err}");
        assert_eq!(parse(&["status", "--wait"]).unwrap_err().kind(), ErrorKind::UnknownArgument);
    }

    #[test]
    fn unknown_commands_and_extra_words_are_usage_errors() {
        use clap::error::ErrorKind;
        assert_eq!(parse(&["reboot"]).unwrap_err().kind(), ErrorKind::InvalidSubcommand);
        assert_eq!(parse(&["status", "a", "b"]).unwrap_err().kind(), ErrorKind::UnknownArgument);
        assert_eq!(parse(&["--bogus", "status"]).unwrap_err().kind(), ErrorKind::UnknownArgument);
        assert_eq!(parse(&[]).unwrap_err().kind(), ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
    }
}
