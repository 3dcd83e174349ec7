//! The binary: parse, build the configuration, run, print an error chain once, exit with a
//! documented status (see `exit.rs`).

use exabgp_healthcheck::cli::{self, Parsed};
use exabgp_healthcheck::config::{Config, Mode};
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
    let cfg = match Config::from_args(*args) {
        Ok(cfg) => cfg,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::USAGE;
        }
    };
    logging::init(&cfg.logging);
    sys::install_panic_hook();
    let result = match cfg.mode {
        Mode::Once => once::once(&cfg),
        Mode::Plugin | Mode::DryRun => runtime::run(cfg),
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
