//! The process exit statuses, documented in `docs/operating.md`.

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Normal end: SIGTERM/SIGINT, ExaBGP's `shutdown` or end of file, `--interval 0`, `--help`.
    Ok,
    /// `--once`: the service is unhealthy (or disabled). Also: no service address found at
    /// start-up (the reference's `No IP found`).
    Unhealthy,
    /// A usage error: a bad flag value, config line or combination. Nothing was changed.
    Usage,
    /// A bug: the panic hook wrote the withdraws, then the process ended (EX_SOFTWARE).
    Bug,
}

impl Code {
    /// The number the process exits with.
    pub fn status(self) -> i32 {
        match self {
            Code::Ok => 0,
            Code::Unhealthy => 1,
            Code::Usage => 2,
            Code::Bug => 70,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_numbers() {
        let all = [Code::Ok, Code::Unhealthy, Code::Usage, Code::Bug];
        assert_eq!(all.map(Code::status), [0, 1, 2, 70]);
    }
}
