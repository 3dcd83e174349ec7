//! The control socket (`--control-socket PATH`) and its client (`exabgp-healthcheck ctl`):
//! [`protocol`] is what travels (pure, no I/O); [`server`] serves it from the reactor's one poll
//! (non-blocking, no thread); [`client`] is the `ctl` command, whose flags (and the default
//! socket) are [`crate::cli::ctl`]'s.

pub mod client;
pub mod protocol;
pub mod server;
pub mod status;
