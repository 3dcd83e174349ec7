//! The whole path from a configuration file's text to a typed configuration: the file's lines
//! become arguments, the command line is parsed, the values are checked. It never panics, and
//! every refusal is one line, as users see it on stderr.

use exabgp_healthcheck::cli::file as config_file;
use exabgp_healthcheck::cli::{self, Parsed};
use exabgp_healthcheck::config::Settings;

/// `--config` (or a prefix argparse would take for it) would read another file: left out, so
/// that a run depends on its input only.
fn reads_a_file(arg: &str) -> bool {
    let name = arg.split('=').next().unwrap_or(arg);
    name.len() >= 5 && "--config".starts_with(name)
}

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(lines) = config_file::parse(&text) else { return };
    let args: Vec<String> = lines.into_iter().map(|l| l.arg).collect();
    if args.iter().any(|a| reads_a_file(a)) {
        return;
    }
    let argv = std::iter::once("exabgp-healthcheck".to_owned()).chain(args);
    match cli::parse(argv) {
        Ok(Parsed::Run(parsed)) => {
            if let Err(err) = Settings::from_args(*parsed) {
                let shown = err.to_string();
                assert!(!shown.contains('\n') && !shown.is_empty(), "{shown:?}");
            }
        }
        Ok(_) => {}
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.contains('\n') && !shown.is_empty(), "{shown:?}");
        }
    }
}
