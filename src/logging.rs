//! Log lines as the reference writes them: `LEVEL[healthcheck] message` on stderr, and
//! `TAG[PID]: message` to syslog (`/dev/log`, datagrams) with the configured facility.
//! Operators alert on these messages, so their wording is kept. With several services, what is
//! logged while the reactor handles one of them carries that service's tag instead
//! (`healthcheck-NAME`, on the console and in syslog: [`scoped`]).

use crate::config::Logging;
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::RefCell;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;

/// Where syslog lives; `EXABGP_HEALTHCHECK_SYSLOG_SOCKET` overrides it (for tests).
fn syslog_path() -> PathBuf {
    std::env::var_os("EXABGP_HEALTHCHECK_SYSLOG_SOCKET").map_or_else(|| PathBuf::from("/dev/log"), PathBuf::from)
}

thread_local! {
    /// The tag of the service being handled on this thread, if it has one of its own.
    static SCOPE: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
}

/// Run `f` with what it logs tagged `tag` (`healthcheck-NAME`); `None`: the process's tag.
pub fn scoped<R>(tag: Option<&Rc<str>>, f: impl FnOnce() -> R) -> R {
    let before = SCOPE.with(|scope| scope.replace(tag.cloned()));
    let result = f();
    SCOPE.with(|scope| *scope.borrow_mut() = before);
    result
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
    /// Send `message` at `level`, under `tag` instead of the configured one when given.
    fn send(&self, level: Level, message: &str, tag: Option<&str>) {
        let severity = match level {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug | Level::Trace => 7,
        };
        let priority = u32::from(self.facility) * 8 + severity;
        let datagram = match tag {
            Some(tag) => format!("<{priority}>{tag}[{}]: {message}", std::process::id()),
            None => format!("<{priority}>{}{message}", self.prefix),
        };
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
        let tag = SCOPE.with(|scope| scope.borrow().clone());
        if self.console {
            let shown = tag.as_deref().unwrap_or("healthcheck");
            let line = format!("{}[{shown}] {}\n", level_name(record.level()), message);
            // A closed stderr must not stop us.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        if let Some(syslog) = &self.syslog {
            syslog.send(record.level(), &message, tag.as_deref());
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
        syslog.send(Level::Warn, "Check command was unsuccessful: 1", None);
        syslog.send(Level::Info, "Transition to UP", None);
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<28>healthcheck-web[42]: Check command was unsuccessful: 1");
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<30>healthcheck-web[42]: Transition to UP");
        syslog.send(Level::Info, "UP -> DOWN", Some("healthcheck-dns"));
        let n = server.recv(&mut buf).unwrap();
        let want = format!("<30>healthcheck-dns[{}]: UP -> DOWN", std::process::id());
        assert_eq!(&buf[..n], want.as_bytes(), "a service's own tag");
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
        syslog.send(Level::Error, "nobody listens", None);
        assert!(syslog.socket.lock().unwrap().is_none());
    }

    #[test]
    fn a_scope_sets_the_tag_and_gives_the_one_before_back() {
        let current = || SCOPE.with(|scope| scope.borrow().clone());
        let web: Rc<str> = Rc::from("healthcheck-web");
        let dns: Rc<str> = Rc::from("healthcheck-dns");
        assert_eq!(current(), None);
        scoped(Some(&web), || {
            assert_eq!(current().as_deref(), Some("healthcheck-web"));
            scoped(Some(&dns), || assert_eq!(current().as_deref(), Some("healthcheck-dns")));
            scoped(None, || assert_eq!(current(), None));
            assert_eq!(current().as_deref(), Some("healthcheck-web"));
        });
        assert_eq!(current(), None);
    }

    #[test]
    fn level_names_are_pythons() {
        assert_eq!(level_name(Level::Warn), "WARNING");
        assert_eq!(level_name(Level::Trace), "DEBUG");
    }
}
