//! The pinned ExaBGP releases that the tests and the benchmark run, and where their
//! virtualenvs are: `$EXABGP_VENV_4` / `$EXABGP_VENV_5` (by the major version), else
//! `target/exabgp-venv/VERSION`, as `contrib/run-tests.sh` creates them.

use std::path::{Path, PathBuf};

/// ExaBGP 4.2, the older supported release.
pub const V4: &str = "4.2.25";
/// ExaBGP 5.0, whose `python -m exabgp healthcheck` is the reference.
pub const V5: &str = "5.0.15";

/// The variable that names the virtualenv of `version`: `EXABGP_VENV_` and its major number.
pub fn venv_variable(version: &str) -> String {
    let major = version.split('.').next().unwrap_or(version);
    format!("EXABGP_VENV_{major}")
}

/// The virtualenv of `version`: its variable when set and not empty, else
/// `target/exabgp-venv/VERSION`. It may not exist.
pub fn venv(version: &str) -> PathBuf {
    match std::env::var_os(venv_variable(version)) {
        Some(venv) if !venv.is_empty() => PathBuf::from(venv),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/exabgp-venv").join(version),
    }
}
