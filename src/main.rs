//! The binary: parse, build the configuration, run, print an error chain once, exit with a
//! documented status (see `exit.rs`).

use exabgp_healthcheck::cli::{self, Parsed};
use exabgp_healthcheck::config::{Mode, Settings};
use exabgp_healthcheck::{exit, logging, once, runtime, sys};

fn main() {
    std::process::exit(real_main());
}

fn real_main() -> i32 {
    let args = match cli::parse(std::env::args_os()) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return exit::OK;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return exit::USAGE;
        }
    };
    let settings = match Settings::from_args(*args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::USAGE;
        }
    };
    logging::init(&settings.process.logging);
    sys::install_panic_hook();
    let result = match settings.process.mode {
        Mode::Once => once::once(&settings.services[0]),
        Mode::Plugin | Mode::DryRun => runtime::run(settings),
    };
    match result {
        Ok(status) => status,
        Err(err) if err.is::<runtime::NoIpFound>() => exit::UNHEALTHY,
        Err(err) => {
            log::error!("{err:#}");
            if !log::log_enabled!(log::Level::Error) {
                eprintln!("error: {err:#}");
            }
            exit::UNHEALTHY
        }
    }
}
