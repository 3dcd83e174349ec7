//! The process exit statuses, documented in `docs/operating.md`.

/// Normal end: SIGTERM/SIGINT, ExaBGP's `shutdown` or end of file, `--interval 0`, `--help`.
pub const OK: i32 = 0;
/// `--once`: the service is unhealthy (or disabled). Also: no service address found at start-up
/// (the reference's `No IP found`).
pub const UNHEALTHY: i32 = 1;
/// A usage error: a bad flag value, config line or combination. Nothing was changed.
pub const USAGE: i32 = 2;
/// A bug: the panic hook wrote the withdraws, then the process ended (EX_SOFTWARE).
pub const BUG: i32 = 70;
