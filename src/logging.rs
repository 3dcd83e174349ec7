//! Log lines as the reference writes them: `LEVEL[healthcheck] message` on stderr, and
//! `TAG[PID]: message` to syslog (`/dev/log`, datagrams) with the configured facility.
//! Operators alert on these messages, so their wording is kept.

use crate::config::Logging;
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Mutex;

/// Where syslog lives; `EXABGP_HEALTHCHECK_SYSLOG_SOCKET` overrides it (for tests).
fn syslog_path() -> PathBuf {
    std::env::var_os("EXABGP_HEALTHCHECK_SYSLOG_SOCKET").map_or_else(|| PathBuf::from("/dev/log"), PathBuf::from)
}

struct Logger {
    console: bool,
    level: LevelFilter,
    syslog: Option<Syslog>,
}

struct Syslog {
    facility: u8,
    prefix: String,
    socket: Mutex<Option<UnixDatagram>>,
    path: PathBuf,
}

impl Syslog {
    fn send(&self, level: Level, message: &str) {
        let severity = match level {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug | Level::Trace => 7,
        };
        let datagram = format!("<{}>{}{}", u32::from(self.facility) * 8 + severity, self.prefix, message);
        let Ok(mut socket) = self.socket.lock() else { return };
        for _attempt in 0..2 {
            if socket.is_none() {
                *socket = UnixDatagram::unbound().ok().filter(|s| s.connect(&self.path).is_ok());
            }
            match socket.as_ref() {
                // syslogd restarted: reconnect once.
                Some(s) if s.send(datagram.as_bytes()).is_err() => *socket = None,
                _ => return,
            }
        }
    }
}

/// The level names Python's logging prints.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DEBUG",
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        if self.console {
            let line = format!("{}[healthcheck] {}\n", level_name(record.level()), message);
            // A closed stderr must not stop us.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        if let Some(syslog) = &self.syslog {
            syslog.send(record.level(), &message);
        }
    }

    fn flush(&self) {}
}

/// Install the logger. Called once, before anything is logged.
pub fn init(cfg: &Logging) {
    let level = if cfg.debug { LevelFilter::Debug } else { LevelFilter::Info };
    let syslog = cfg.syslog.map(|facility| Syslog {
        facility,
        prefix: format!("{}[{}]: ", cfg.tag, std::process::id()),
        socket: Mutex::new(None),
        path: syslog_path(),
    });
    let logger = Logger { console: cfg.console, level, syslog };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_datagrams_carry_priority_tag_and_pid() {
        let dir = std::env::temp_dir().join(format!("ehc-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let syslog = Syslog { facility: 3, prefix: "healthcheck-web[42]: ".into(), socket: Mutex::new(None), path };
        syslog.send(Level::Warn, "Check command was unsuccessful: 1");
        syslog.send(Level::Info, "Transition to UP");
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<28>healthcheck-web[42]: Check command was unsuccessful: 1");
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<30>healthcheck-web[42]: Transition to UP");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_syslog_socket_is_not_an_error() {
        let syslog = Syslog {
            facility: 3,
            prefix: String::new(),
            socket: Mutex::new(None),
            path: PathBuf::from("/nonexistent/dev/log"),
        };
        syslog.send(Level::Error, "nobody listens");
        assert!(syslog.socket.lock().unwrap().is_none());
    }

    #[test]
    fn level_names_are_pythons() {
        assert_eq!(level_name(Level::Warn), "WARNING");
        assert_eq!(level_name(Level::Trace), "DEBUG");
    }
}
