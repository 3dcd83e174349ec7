//! The binary: parse, build the settings, run, print an error chain once, exit with a
//! documented status ([`exit::Code`]).

use exabgp_healthcheck::cli::{self, Parsed};
use exabgp_healthcheck::config::{Mode, Settings};
use exabgp_healthcheck::exit::Code;
use exabgp_healthcheck::{addr, logging, once, runtime, safety};

fn main() {
    std::process::exit(real_main().status());
}

fn real_main() -> Code {
    let args = match cli::parse(std::env::args_os()) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return Code::Ok;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return Code::Usage;
        }
    };
    let settings = match Settings::from_args(*args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return Code::Usage;
        }
    };
    logging::init(&settings.process.logging);
    safety::install_panic_hook();
    let result = match settings.process.mode {
        Mode::Once => once::once(&settings.services),
        Mode::Plugin | Mode::DryRun => runtime::run(settings),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.is::<addr::NoIpFound>() => Code::Unhealthy,
        Err(err) => {
            log::error!("{err:#}");
            if !log::log_enabled!(log::Level::Error) {
                eprintln!("error: {err:#}");
            }
            Code::Unhealthy
        }
    }
}
