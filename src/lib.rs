//! exabgp-healthcheck: a health checker that ExaBGP runs from a `process` stanza. It runs a
//! check on an interval with rise/fall hysteresis and tells ExaBGP to announce or withdraw the
//! service addresses, which it also keeps on the loopback.
//!
//! `main.rs` only parses, builds the settings and calls [`runtime::run`]; everything else lives
//! in the modules below so that tests can reach it. `docs/architecture.md` says which module
//! owns what.

#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod accounts;
pub mod addr;
pub mod bfd;
pub mod cli;
pub mod config;
pub mod console;
pub mod control;
pub mod dampening;
pub mod endpoint;
pub mod error;
pub mod exabgp;
pub mod exit;
pub mod histogram;
pub mod logging;
pub mod med;
pub mod metrics;
pub mod net;
pub mod once;
pub mod os_error;
pub mod poll;
pub mod probe;
pub mod proc;
pub mod resident;
pub mod runtime;
pub mod safety;
#[cfg(test)]
mod scratch;
pub mod serve;
pub mod service;
pub mod state;
pub mod sys;
pub mod units;
