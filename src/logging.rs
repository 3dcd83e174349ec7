//! Log lines as the reference writes them: `LEVEL[healthcheck] message` on stderr, and
//! `TAG[PID]: message` to syslog (`/dev/log`, datagrams) with the configured facility.
//! Operators alert on these messages, so their wording is kept. With several services, what is
//! logged while the reactor handles one of them carries that service's tag instead
//! (`healthcheck-NAME`, on the console and in syslog: [`scoped`]).

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::RefCell;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Where log lines go (built by [`crate::config`] from the flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub debug: bool,
    pub console: bool,
    /// The syslog facility code, when syslog is on.
    pub syslog: Option<u8>,
    /// `healthcheck-NAME` or `healthcheck`.
    pub tag: String,
    /// `--log-format json`: the console gets one JSON object per line.
    pub json: bool,
}

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
    /// `--log-format json`: the console gets [`json_line`]s.
    json: bool,
    /// `healthcheck-NAME` or `healthcheck`: the service's name in a JSON line outside any
    /// service's scope.
    tag: String,
    level: LevelFilter,
    syslog: Option<Syslog>,
}

/// A field's value in a JSON log line.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// One JSON object, on one line with its newline: `ts` (RFC 3339, UTC, milliseconds),
/// `level`, `service` (null when the line is about none), `msg`, then the record's fields
/// (a field named like one of those four is dropped: they are not to be overwritten).
pub fn json_line(
    ts: std::time::SystemTime,
    level: Level,
    service: Option<&str>,
    msg: &str,
    fields: &[(String, Field)],
) -> String {
    let text = |value: &str| serde_json::Value::from(value).to_string();
    let mut line = String::with_capacity(96 + msg.len());
    line.push_str("{\"ts\":");
    line.push_str(&text(&humantime::format_rfc3339_millis(ts).to_string()));
    line.push_str(",\"level\":");
    line.push_str(&text(&level_name(level).to_ascii_lowercase()));
    line.push_str(",\"service\":");
    line.push_str(&service.map_or_else(|| "null".to_owned(), text));
    line.push_str(",\"msg\":");
    line.push_str(&text(msg));
    for (key, value) in fields {
        if ["ts", "level", "service", "msg"].contains(&key.as_str()) {
            continue;
        }
        let value = match value {
            Field::Text(t) => text(t),
            Field::Int(i) => i.to_string(),
            // NaN and infinities are not JSON numbers.
            Field::Float(f) => serde_json::Number::from_f64(*f).map_or_else(|| "null".to_owned(), |n| n.to_string()),
            Field::Bool(b) => b.to_string(),
        };
        line.push(',');
        line.push_str(&text(key));
        line.push(':');
        line.push_str(&value);
    }
    line.push_str("}\n");
    line
}

/// The service a log line is about, from its tag: `healthcheck-NAME` is NAME; the process's
/// own `healthcheck` is none.
fn service_of(tag: &str) -> Option<&str> {
    tag.strip_prefix("healthcheck-")
}

/// Collects a record's key-values as [`Field`]s.
#[derive(Default)]
struct Fields(Vec<(String, Field)>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: log::kv::Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
        let field = if let Some(b) = value.to_bool() {
            Field::Bool(b)
        } else if let Some(i) = value.to_i64() {
            Field::Int(i)
        } else if let Some(f) = value.to_f64() {
            Field::Float(f)
        } else {
            Field::Text(value.to_string())
        };
        self.0.push((key.as_str().to_owned(), field));
        Ok(())
    }
}

/// Syslog over `/dev/log`, without ever waiting for it: the socket is non-blocking, and a
/// message syslogd has no room for (its queue full: a journald stuck on its disk) is dropped and
/// counted, then said with the next message that goes through. A blocking send would freeze the
/// reactor, its checks and BFD with it, while syslog catches up.
struct Syslog {
    facility: u8,
    prefix: String,
    socket: Mutex<Option<UnixDatagram>>,
    path: PathBuf,
    /// Messages dropped since the last one that went through.
    dropped: AtomicU64,
}

impl Syslog {
    /// Not connected yet: the first message connects.
    fn new(facility: u8, prefix: String, path: PathBuf) -> Syslog {
        Syslog { facility, prefix, socket: Mutex::new(None), path, dropped: AtomicU64::new(0) }
    }

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
                *socket = UnixDatagram::unbound()
                    .ok()
                    .filter(|s| s.connect(&self.path).is_ok() && s.set_nonblocking(true).is_ok());
            }
            let Some(s) = socket.as_ref() else { return };
            let dropped = self.dropped.load(Ordering::Relaxed);
            if dropped > 0 {
                let warning = u32::from(self.facility) * 8 + 4;
                let notice = format!(
                    "<{warning}>{}{dropped} log messages were not sent to syslog: it had no room for them",
                    self.prefix
                );
                if s.send(notice.as_bytes()).is_ok() {
                    self.dropped.fetch_sub(dropped, Ordering::Relaxed);
                }
            }
            match s.send(datagram.as_bytes()) {
                Ok(_) => return,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                // syslogd restarted: reconnect once.
                Err(_) => *socket = None,
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
        if self.console && self.json {
            let mut fields = Fields::default();
            let _ = record.key_values().visit(&mut fields);
            let service = service_of(tag.as_deref().unwrap_or(&self.tag));
            let line = json_line(std::time::SystemTime::now(), record.level(), service, &message, &fields.0);
            crate::console::write_err(line);
        } else if self.console {
            let shown = tag.as_deref().unwrap_or("healthcheck");
            let line = format!("{}[{shown}] {}\n", level_name(record.level()), message);
            // A closed stderr must not stop us, nor one that is not read (console.rs).
            crate::console::write_err(line);
        }
        if let Some(syslog) = &self.syslog {
            syslog.send(record.level(), &message, tag.as_deref());
        }
    }

    fn flush(&self) {}
}

/// The line that says `count` log lines could not be written to stderr (its reader did not
/// keep up: [`crate::console`]), in the console's format.
pub fn dropped_notice(count: u64) -> String {
    let message = format!("{count} log lines were not written: stderr was not read in time");
    if is_json() {
        json_line(std::time::SystemTime::now(), Level::Warn, None, &message, &[])
    } else {
        format!("{}[healthcheck] {message}\n", level_name(Level::Warn))
    }
}

/// Whether the console gets JSON lines (`--log-format json`).
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the console gets JSON lines: what else writes to stderr (`--dry-run`'s
/// explanations) then goes through the logger too.
pub fn is_json() -> bool {
    JSON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Install the logger. Called once, before anything is logged.
pub fn init(cfg: &Logging) {
    JSON.store(cfg.json && cfg.console, std::sync::atomic::Ordering::Relaxed);
    let level = if cfg.debug { LevelFilter::Debug } else { LevelFilter::Info };
    let syslog = cfg
        .syslog
        .map(|facility| Syslog::new(facility, format!("{}[{}]: ", cfg.tag, std::process::id()), syslog_path()));
    let logger = Logger { console: cfg.console, json: cfg.json, tag: cfg.tag.clone(), level, syslog };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_one_object_with_its_fields_in_order() {
        let ts = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_764_633_600_123);
        let fields = [
            ("from".to_owned(), Field::Text("UP".into())),
            ("to".to_owned(), Field::Text("FALLING".into())),
            ("rc".to_owned(), Field::Int(-1)),
            ("ratio".to_owned(), Field::Float(0.5)),
            ("nan".to_owned(), Field::Float(f64::NAN)),
            ("ok".to_owned(), Field::Bool(false)),
            ("msg".to_owned(), Field::Text("not this one".into())),
        ];
        assert_eq!(
            json_line(ts, Level::Warn, Some("web"), "UP -> FALLING", &fields),
            "{\"ts\":\"2025-12-02T00:00:00.123Z\",\"level\":\"warning\",\"service\":\"web\",\"msg\":\"UP -> FALLING\",\
             \"from\":\"UP\",\"to\":\"FALLING\",\"rc\":-1,\"ratio\":0.5,\"nan\":null,\"ok\":false}\n"
        );
        assert_eq!(
            json_line(ts, Level::Info, None, "say \"hi\"\n\tand\u{1}", &[]),
            "{\"ts\":\"2025-12-02T00:00:00.123Z\",\"level\":\"info\",\"service\":null,\
             \"msg\":\"say \\\"hi\\\"\\n\\tand\\u0001\"}\n"
        );
        let parsed: serde_json::Value =
            serde_json::from_str(&json_line(ts, Level::Debug, Some("a\"b"), "x", &fields)).unwrap();
        assert_eq!(parsed["service"], "a\"b");
        assert_eq!(parsed["level"], "debug");
        assert_eq!(parsed["msg"], "x", "a field does not overwrite msg");
    }

    #[test]
    fn the_service_of_a_tag() {
        assert_eq!(service_of("healthcheck-web"), Some("web"));
        assert_eq!(service_of("healthcheck-healthcheck-x"), Some("healthcheck-x"));
        assert_eq!(service_of("healthcheck"), None);
    }

    #[test]
    fn key_values_become_fields_by_type() {
        let mut fields = Fields::default();
        let kvs: [(&str, log::kv::Value); 4] = [
            ("to", log::kv::Value::from("UP")),
            ("rc", log::kv::Value::from(3i32)),
            ("timeout", log::kv::Value::from(1.5f64)),
            ("ok", log::kv::Value::from(true)),
        ];
        log::kv::Source::visit(&kvs[..], &mut fields).unwrap();
        assert_eq!(
            fields.0,
            [
                ("to".to_owned(), Field::Text("UP".into())),
                ("rc".to_owned(), Field::Int(3)),
                ("timeout".to_owned(), Field::Float(1.5)),
                ("ok".to_owned(), Field::Bool(true)),
            ]
        );
    }

    /// A syslogd of the test's, on `log` in a scratch directory (removed when dropped).
    fn listening(name: &str) -> (crate::scratch::Scratch, UnixDatagram) {
        let dir = crate::scratch::Scratch::new(name);
        let server = UnixDatagram::bind(dir.join("log")).unwrap();
        (dir, server)
    }

    #[test]
    fn syslog_datagrams_carry_priority_tag_and_pid() {
        let (dir, server) = listening("syslog");
        let path = dir.join("log");
        let syslog = Syslog::new(3, "healthcheck-web[42]: ".into(), path);
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
    }

    #[test]
    fn a_syslog_that_reads_nothing_never_blocks_and_the_drops_are_said_once_it_reads() {
        let (dir, server) = listening("syslog-full");
        let path = dir.join("log");
        let syslog = std::sync::Arc::new(Syslog::new(3, "healthcheck[42]: ".into(), path));
        // A syslogd that reads nothing: its queue fills after a few messages (net.unix.
        // max_dgram_qlen); a blocking send would wait there for ever.
        let sender = std::sync::Arc::clone(&syslog);
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for i in 0..5000 {
                sender.send(Level::Warn, &format!("message {i}"), None);
            }
            let _ = done.send(());
        });
        let took = finished.recv_timeout(std::time::Duration::from_secs(20));
        assert!(took.is_ok(), "sending to a syslog that reads nothing blocked");
        let dropped = syslog.dropped.load(Ordering::Relaxed);
        assert!(dropped > 0 && dropped < 5000, "{dropped} dropped of 5000");
        // It reads again: what it had queued, then the count of the dropped, then the next.
        server.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 512];
        let mut queued = 0;
        while server.recv(&mut buf).is_ok() {
            queued += 1;
        }
        assert_eq!(queued + dropped, 5000);
        syslog.send(Level::Info, "next", None);
        let n = server.recv(&mut buf).unwrap();
        let notice =
            format!("<28>healthcheck[42]: {dropped} log messages were not sent to syslog: it had no room for them");
        assert_eq!(String::from_utf8_lossy(&buf[..n]), notice);
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<30>healthcheck[42]: next");
        assert_eq!(syslog.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_missing_syslog_socket_is_not_an_error() {
        let syslog = Syslog::new(3, String::new(), PathBuf::from("/nonexistent/dev/log"));
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
