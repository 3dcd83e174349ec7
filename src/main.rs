//! The binary: parse, build the settings, run, print an error chain once, exit with a
//! documented status ([`exit::Code`]).

#![deny(clippy::print_stdout, clippy::print_stderr)]

use exabgp_healthcheck::cli::{self, Parsed};
use exabgp_healthcheck::config::{Mode, Settings};
use exabgp_healthcheck::error::UsageError;
use exabgp_healthcheck::exit::Code;
use exabgp_healthcheck::{addr, control, logging, once, runtime, safety, serve};
use std::ffi::OsString;

fn main() {
    let code = real_main();
    // What is queued for stderr (the exit's last lines), if it can go within a second.
    exabgp_healthcheck::console::flush(std::time::Duration::from_secs(1));
    std::process::exit(code.status());
}

fn real_main() -> Code {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // `ctl` talks to a running plugin; anything else is the plugin's own command line, as the
    // reference's (which takes no positional argument, so `ctl` meant nothing there).
    if argv.get(1).is_some_and(|first| first == "ctl") {
        return control::client::main(&argv[1..]);
    }
    let args = match cli::parse(argv.iter().cloned()) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Print(text)) => {
            exabgp_healthcheck::show!("{text}");
            return Code::Ok;
        }
        Err(err) => {
            exabgp_healthcheck::say!("error: {err}");
            return Code::Usage;
        }
    };
    // SIGHUP reads the configuration again, as here, when there is a file to read.
    let reload = (!args.config.is_empty()).then(|| Box::new(move || load(&argv)) as runtime::Reload);
    let settings = match Settings::from_args(*args) {
        Ok(settings) => settings,
        Err(err) => {
            exabgp_healthcheck::say!("error: {err}");
            return Code::Usage;
        }
    };
    logging::init(&settings.process.logging);
    safety::install_panic_hook();
    let result = match settings.process.mode {
        Mode::Once => once::once(&settings.process, &settings.services),
        Mode::Plugin | Mode::DryRun => runtime::run(settings, reload, serve::open),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.is::<addr::NoIpFound>() => Code::Unhealthy,
        Err(err) if err.is::<UsageError>() => {
            exabgp_healthcheck::say!("error: {err}");
            Code::Usage
        }
        Err(err) => {
            log::error!("{err:#}");
            if !log::log_enabled!(log::Level::Error) {
                exabgp_healthcheck::say!("error: {err:#}");
            }
            Code::Unhealthy
        }
    }
}

/// The settings of `argv`, read again (the same command line gave settings at start-up).
fn load(argv: &[OsString]) -> Result<Settings, UsageError> {
    match cli::parse(argv.iter().cloned())? {
        Parsed::Run(args) => Settings::from_args(*args),
        Parsed::Print(_) => Err(UsageError::message("the command line asks for --help or --version")),
    }
}
