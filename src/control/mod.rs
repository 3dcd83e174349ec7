//! The control socket (`--control-socket PATH`) and its client (`exabgp-healthcheck ctl`):
//! [`protocol`] is what travels (pure, no I/O); [`server`] serves it from the reactor's one poll
//! (non-blocking, no thread); [`client`] is the `ctl` command.

pub mod client;
pub mod protocol;
pub mod server;

/// Where `ctl` looks for the socket unless told (`--socket`); the plugin makes none unless
/// given `--control-socket`, and both must name the same path.
pub const DEFAULT_SOCKET: &str = "/run/exabgp-healthcheck/control.sock";
