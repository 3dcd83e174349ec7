//! The command line, flag for flag the reference's (`python3 -m exabgp healthcheck`), plus our
//! own additions: [`parse`] reads the flags ([`Args`], in `args.rs`, whose doc comments are the
//! `--help` text), then the `--config` files they name and merges them (`merge.rs`; each
//! file's grammar is [`file`]'s). `ctl`'s command line is [`ctl`]. Raw flags go no further than
//! [`crate::config`], which turns them into typed `Settings`.

// The flags' doc comments are `--help` text, where `HOST[:PORT]` and `[::1]` mean what they
// say, as does `STATE=<NAME>`: rustdoc would read them as links and HTML.
#![allow(
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    reason = "the doc comments are --help text, not Markdown"
)]

mod args;
pub mod ctl;
pub mod file;
mod merge;

use crate::error::{Origin, UsageError};
pub use args::Args;
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::PathBuf;

/// What parsing the command line ended in.
#[derive(Debug)]
pub enum Parsed {
    /// Flags to run with.
    Run(Box<Args>),
    /// `--help` or `--version`: print this on stdout and exit 0.
    Print(String),
}

/// One service of a configuration with sections or several files.
#[derive(Debug, Clone)]
pub struct ServiceArgs {
    /// Its `[NAME]`, or the stem of its file.
    pub section: String,
    /// Its flags: its file's defaults, the command line, then its section's lines. Their
    /// process-wide options are not its own: the top `Args`' are.
    pub args: Args,
}

/// The lines of `--config` files, to find the one a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins {
    /// Searched in order: a section's lines, then its file's defaults.
    sources: Vec<(PathBuf, Vec<file::Line>)>,
}

impl Origins {
    /// The file line that gave `flag` (as `--name`) this `value`, when one did. The last such
    /// line wins, as it does for the value. A flag spelled otherwise in the file (a prefix,
    /// an alias) is not matched.
    pub(crate) fn line_of(&self, flag: &str, value: &str) -> Option<Origin> {
        self.sources.iter().find_map(|(path, lines)| {
            let line = lines.iter().rev().find(|line| line.arg.split_once('=') == Some((flag, value)))?;
            Some(Origin { file: path.clone(), line: line.number })
        })
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
    if first.config.is_empty() {
        return Ok(Parsed::Run(Box::new(first)));
    }
    merge::merge(&argv, &first)
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

/// The first line of a clap error, without its `error: ` prefix; for a missing argument (a
/// flag that needs another, as `--bfd-interval` needs `--bfd`), with the arguments clap lists
/// on the lines after it.
fn one_line(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut line = first.strip_prefix("error: ").unwrap_or(first).trim().to_owned();
    if err.kind() == clap::error::ErrorKind::MissingRequiredArgument {
        let missing: Vec<&str> = lines.take_while(|l| l.starts_with("  ")).map(str::trim).collect();
        line = format!("{} {}", line, missing.join(", "));
    }
    line
}

/// Parsing as the tests of the flags and of the files do it.
#[cfg(test)]
mod testing {
    use super::*;

    pub(super) fn args(list: &[&str]) -> Args {
        let mut argv = vec!["exabgp-healthcheck"];
        argv.extend_from_slice(list);
        match parse(argv) {
            Ok(Parsed::Run(args)) => *args,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    pub(super) fn error(list: &[&str]) -> String {
        let mut argv = vec!["exabgp-healthcheck"];
        argv.extend_from_slice(list);
        match parse(argv) {
            Err(err) => err.to_string(),
            other => panic!("{list:?} parsed: {other:?}"),
        }
    }
}
