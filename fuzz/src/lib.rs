//! The fuzz targets' bodies: each module's `run` takes one input and panics (an assertion)
//! when what must hold for it does not. `fuzz_targets/NAME.rs` is the afl harness of module
//! `NAME` (built with `cargo afl build`, run by `contrib/fuzz.sh` and, a few seconds each, by
//! `contrib/run-tests.sh`); another engine's harness would call the same `run`.
//! `docs/fuzzing.md` says what each target checks.

pub mod arguments;
pub mod bfd_packet;
pub mod certificate_expiry;
pub mod config_file;
pub mod control;
pub mod dns_answer;
pub mod http_response;
pub mod metrics_request;
pub mod ntp_reply;
pub mod reply;
