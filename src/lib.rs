//! exabgp-healthcheck: a health checker that ExaBGP runs from a `process` stanza. It runs a
//! check command on an interval with rise/fall hysteresis and tells ExaBGP to announce or
//! withdraw the service addresses, which it also keeps on the loopback.
//!
//! `main.rs` only parses, builds the [`config::Config`] and calls [`run::run`]; everything else
//! lives in the modules below so that tests can reach it.

pub mod addr;
pub mod addresses;
pub mod api;
pub mod check;
pub mod child;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod events;
pub mod exit;
pub mod fsm;
pub mod hooks;
pub mod logging;
pub mod net;
pub mod once;
pub mod pipe;
pub mod reply;
pub mod run;
pub mod sys;
