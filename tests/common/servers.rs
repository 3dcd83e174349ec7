//! Real servers from Debian for the native checks (`--check`) to check, each started by the
//! test inside a network namespace, as its own process (a [`Daemon`]: stopped by PID), on a
//! configuration written to a scratch directory that also holds its pid file, logs and temporary
//! files: nothing of the system's own service (its configuration, /run, /var/log) is used, and
//! a system nginx or unbound that runs outside the namespace is not in the way.
//! - [`Server::nginx`]: `nginx` in one process (`daemon off; master_process off;`), on
//!   127.0.0.1:PORT, `GET /health` answering 200 `ready`; [`Server::nginx_tls`]: the same
//!   over TLS (`listen 127.0.0.1:PORT ssl`), on a certificate and key the test gives;
//! - [`Server::unbound`]: `unbound -d` on 127.0.0.1:PORT (UDP and TCP), answering
//!   `health.example. A 192.0.2.53` from a local zone and refusing every other name (no
//!   recursion, no root hints needed);
//! - [`Server::chronyd`]: `chronyd -d -x` on PORT (every address of its namespace), serving its
//!   own clock at stratum 8 (`local stratum 8`, no upstream, no command socket; `-x`: it never
//!   touches the system's clock), optionally under `faketime` so that its clock is off ours.
//!
//! Each is ready when it answers inside its namespace: a small Python probe (not our binary)
//! sends the request and checks the answer, within a bound.

use super::netns::{Daemon, Netns};
use super::procfs::alive;
use super::wait_every;
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The name unbound answers, and its address.
pub const DNS_NAME: &str = "health.example.";
pub const DNS_ADDRESS: &str = "192.0.2.53";
/// What nginx answers on `/health`.
pub const HTTP_BODY: &str = "ready";

/// A server's program and configuration; running or not.
pub struct Server {
    /// `nginx`, `unbound` or `chronyd`.
    pub name: &'static str,
    pub port: u16,
    /// What the readiness probe checks: `nginx`, `nginx-tls`, `unbound` or `ntp`.
    probe: &'static str,
    argv: Vec<String>,
    log: PathBuf,
    daemon: Option<Daemon>,
}

impl Server {
    /// nginx on 127.0.0.1:`port`, its files in `dir` (not started yet).
    pub fn nginx(dir: &Path, port: u16) -> Server {
        Server::nginx_on(dir, port, &format!("listen 127.0.0.1:{port};"), "nginx")
    }

    /// nginx over TLS on 127.0.0.1:`port`, with the certificate (PEM, the chain) and key (PEM)
    /// in these files, its files in `dir` (not started yet).
    pub fn nginx_tls(dir: &Path, port: u16, cert: &Path, key: &Path) -> Server {
        let listen = format!(
            "listen 127.0.0.1:{port} ssl;\n        ssl_certificate {};\n        ssl_certificate_key {};",
            cert.display(),
            key.display()
        );
        Server::nginx_on(dir, port, &listen, "nginx-tls")
    }

    /// nginx on 127.0.0.1:`port` whose `/health` answers 200 `ready` while `gate` exists and
    /// 503 once it is gone, logging each request's time (`$msec`, seconds since the epoch to
    /// the millisecond) and status in `DIR/nginx-access.log`, which [`Server::answered`]
    /// reads; its files in `dir` (not started yet; `gate` must exist for it to be ready).
    pub fn nginx_gated(dir: &Path, port: u16, gate: &Path) -> Server {
        let location = format!(
            "location /health {{ if (!-f {}) {{ return 503 \"down\"; }} return 200 \"{HTTP_BODY}\"; }}",
            gate.display()
        );
        let mut server = Server::nginx_on(dir, port, &format!("listen 127.0.0.1:{port};"), "nginx");
        let path = dir.join("nginx.conf");
        let conf = std::fs::read_to_string(&path).expect("nginx.conf");
        let conf = conf
            .replace(&format!("location /health {{ return 200 \"{HTTP_BODY}\"; }}"), &location)
            .replace("    access_log ", "    log_format timed '$msec $status';\n    access_log ")
            .replace("nginx-access.log;", "nginx-access.log timed;");
        std::fs::write(&path, conf).expect("write nginx.conf");
        server.probe = "nginx";
        server
    }

    /// From a [`Server::nginx_gated`]'s access log: when each request was answered (seconds
    /// since the epoch) and its status, in order.
    pub fn answered(&self) -> Vec<(f64, u16)> {
        let dir = self.log.parent().expect("a directory");
        let text = std::fs::read_to_string(dir.join("nginx-access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let (at, status) = line.split_once(' ')?;
                Some((at.parse().ok()?, status.trim().parse().ok()?))
            })
            .collect()
    }

    /// nginx with this `listen` line (and what goes with it) in its one server.
    fn nginx_on(dir: &Path, port: u16, listen: &str, probe: &'static str) -> Server {
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/nginx-error.log info;\nevents {{ worker_connections 64; }}\n\
             http {{\n    access_log {d}/nginx-access.log;\n    client_body_temp_path {d}/nginx-client-body;\n    \
             proxy_temp_path {d}/nginx-proxy;\n    fastcgi_temp_path {d}/nginx-fastcgi;\n    \
             uwsgi_temp_path {d}/nginx-uwsgi;\n    scgi_temp_path {d}/nginx-scgi;\n    default_type text/plain;\n    \
             server {{\n        {listen}\n        location /health {{ return 200 \"{HTTP_BODY}\"; }}\n    \
             }}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).expect("write nginx.conf");
        // -e: the log for what comes before the configuration is read (else
        // /var/log/nginx/error.log); -p: the prefix for relative paths.
        let argv =
            ["nginx", "-e", &format!("{d}/nginx-error.log"), "-p", &format!("{d}/"), "-c", &path.display().to_string()]
                .map(str::to_owned)
                .to_vec();
        Server { name: "nginx", port, probe, argv, log: dir.join("nginx.log"), daemon: None }
    }

    /// unbound on 127.0.0.1:`port`, its files in `dir` (not started yet).
    pub fn unbound(dir: &Path, port: u16) -> Server {
        let d = dir.display();
        let conf = format!(
            "server:\n    interface: 127.0.0.1\n    port: {port}\n    do-ip6: no\n    do-daemonize: no\n    \
             chroot: \"\"\n    username: \"\"\n    directory: \"{d}\"\n    pidfile: \"{d}/unbound.pid\"\n    \
             use-syslog: no\n    logfile: \"\"\n    verbosity: 1\n    num-threads: 1\n    \
             module-config: \"iterator\"\n    access-control: 127.0.0.0/8 allow\n    \
             local-zone: \".\" refuse\n    local-zone: \"{DNS_NAME}\" static\n    \
             local-data: \"{DNS_NAME} 60 IN A {DNS_ADDRESS}\"\n\
             remote-control:\n    control-enable: no\n"
        );
        let path = dir.join("unbound.conf");
        std::fs::write(&path, conf).expect("write unbound.conf");
        let argv = ["unbound", "-d", "-c", &path.display().to_string()].map(str::to_owned).to_vec();
        Server { name: "unbound", port, probe: "unbound", argv, log: dir.join("unbound.log"), daemon: None }
    }

    /// chronyd on `port`, its files in `dir` (`chrony-PORT.conf`, `chronyd-PORT.pid`, its output
    /// in `chronyd-PORT.log`; not started yet); `faketime`: its clock that far off ours
    /// (libfaketime's `-f` offset, such as `+5s`).
    pub fn chronyd(dir: &Path, port: u16, faketime: Option<&str>) -> Server {
        let conf = format!(
            "local stratum 8\nallow\nport {port}\n# No command socket, neither UDP nor unix.\ncmdport 0\n\
             bindcmdaddress /\npidfile {}\n",
            dir.join(format!("chronyd-{port}.pid")).display()
        );
        let path = dir.join(format!("chrony-{port}.conf"));
        std::fs::write(&path, conf).expect("write chrony.conf");
        let mut argv: Vec<String> = Vec::new();
        if let Some(offset) = faketime {
            argv.extend(["faketime", "-f", offset].map(str::to_owned));
        }
        argv.extend(["chronyd", "-d", "-x", "-u", "root", "-f", &path.display().to_string()].map(str::to_owned));
        let log = dir.join(format!("chronyd-{port}.log"));
        Server { name: "chronyd", port, probe: "ntp", argv, log, daemon: None }
    }

    /// Start it in `ns` (its output appended to `DIR/NAME.log`) and wait at most `limit` until
    /// it answers there; panics, with its log, if it exits or does not answer.
    pub fn start(&mut self, ns: &Netns, limit: Duration) {
        assert!(self.daemon.is_none(), "{} already runs", self.name);
        let daemon = Daemon::start(ns, &self.argv, &[], &self.log);
        let pid = daemon.pid().as_raw() as u32;
        self.daemon = Some(daemon);
        let answered = wait_every(limit, Duration::from_millis(50), || !alive(pid) || self.answers(ns));
        assert!(
            answered && alive(pid),
            "{} (pid {pid}) {} within {limit:?}:\n{}",
            self.name,
            if alive(pid) { "did not answer" } else { "exited" },
            self.logs()
        );
    }

    /// SIGTERM by PID, and wait at most `limit` for its exit.
    pub fn stop(&mut self, limit: Duration) {
        let mut daemon = self.daemon.take().unwrap_or_else(|| panic!("{} does not run", self.name));
        daemon.signal(Signal::SIGTERM);
        daemon.wait_exit(limit);
    }

    /// Whether it runs (started, not stopped, not exited).
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(|d| d.pid().as_raw() as u32).filter(|pid| alive(*pid))
    }

    /// Whether it answers as it should inside `ns` now (the probe gives up after 2 s).
    pub fn answers(&self, ns: &Netns) -> bool {
        let port = self.port.to_string();
        let out = ns
            .exec(&["python3", "-c", PROBE, self.probe, port.as_str()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        out.is_ok_and(|s| s.success())
    }

    /// What it logged: its output and, for nginx, its error log.
    pub fn logs(&self) -> String {
        let dir = self.log.parent().expect("a directory");
        let mut text = std::fs::read_to_string(&self.log).unwrap_or_default();
        if self.name == "nginx" {
            text.push_str(&std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default());
        }
        text
    }
}

/// `python3 -c PROBE nginx|nginx-tls|unbound|ntp PORT`: exit 0 when 127.0.0.1:PORT answers as
/// the server above should (`GET /health`: status 200 and `ready`, for `nginx-tls` over TLS
/// with the certificate not verified; `health.example. A`: NOERROR with 192.0.2.53; an NTP
/// client request: a server's reply, stratum 1 to 15). Bounded: 0.5 s per socket operation, 2 s
/// in all.
const PROBE: &str = r#"
import signal, socket, ssl, struct, sys
signal.alarm(2)
kind, port = sys.argv[1], int(sys.argv[2])
if kind in ('nginx', 'nginx-tls'):
    s = socket.create_connection(('127.0.0.1', port), timeout=0.5)
    if kind == 'nginx-tls':
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        s = context.wrap_socket(s)
    s.sendall(b'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
    data = b''
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    sys.exit(0 if head.split(b' ')[1:2] == [b'200'] and body == b'ready' else 1)
elif kind == 'ntp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(bytes([0x23]) + bytes(47), ('127.0.0.1', port))
    answer = s.recv(512)
    sys.exit(0 if len(answer) >= 48 and answer[0] & 7 == 4 and 1 <= answer[1] <= 15 else 1)
else:
    name = b''.join(bytes([len(l)]) + l for l in b'health.example'.split(b'.')) + b'\0'
    query = struct.pack('>HHHHHH', 0x4ec5, 0x0100, 1, 0, 0, 0) + name + struct.pack('>HH', 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(query, ('127.0.0.1', port))
    answer = s.recv(4096)
    ident, flags, _, count = struct.unpack('>HHHH', answer[:8])
    ok = ident == 0x4ec5 and flags & 0x800f == 0x8000 and count >= 1 and bytes([192, 0, 2, 53]) in answer[12:]
    sys.exit(0 if ok else 1)
"#;
