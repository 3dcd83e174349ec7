//! The control socket's I/O: a unix stream socket served from the reactor's one poll (an
//! [`Endpoint`]), non-blocking, no thread. One request a connection ([`protocol`]), answered
//! from a read-only view of the services; a check, a drain or a resume asked for goes to the
//! reactor as a [`Request`], and `drain --wait` holds its connection until the view shows the
//! services DRAINED; a client that ends its writing after its request (a half-close) still
//! gets its answer, only its hang-up ends the wait. Bounded: [`MAX_CONNECTIONS`] at a time
//! (more are told the plugin is busy), each with [`CONNECTION_TIME`] to send its request and
//! take its answer (a drain's wait aside, bounded by its own timeout), a request of
//! [`protocol::MAX_REQUEST`] bytes at most.
//!
//! The socket file is made with mode 0600 and removed at exit if it is still ours. At start it
//! never replaces anything but a socket nobody listens on (left by a killed run).

use super::protocol::{self, Answer, Command};
use super::status;
use crate::bfd::speaker::Board;
use crate::endpoint::{Endpoint, Request, View, Which};
use crate::error::UsageError;
use crate::os_error::{in_words, Words};
use crate::poll::Ready;
use crate::service::stats::Moment;
use crate::service::Service;
use crate::state::State;
use nix::poll::{PollFd, PollFlags};
use nix::unistd::{Group, User};
use rustix::net::SendFlags;
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The most connections served at once.
pub const MAX_CONNECTIONS: usize = 8;

/// How long a connection may take, from its accept to the end of its answer.
pub const CONNECTION_TIME: Duration = Duration::from_secs(5);

/// The longest a `drain --wait` is held, whatever it asks.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// How often a drained service's `drain --wait` looks whether its lines are all written.
const RECHECK: Duration = Duration::from_millis(10);

const FLAG: &str = "--control-socket";

/// The listening socket and the connections in flight.
pub struct Server {
    path: PathBuf,
    listener: UnixListener,
    /// The socket file's device and inode: only that file is removed at exit.
    file: (u64, u64),
    connections: Vec<Connection>,
    /// The socket file is removed (or was not ours any more).
    closed: bool,
    /// The BFD sessions, when the speaker runs: `status` of every service shows them too.
    bfd: Option<Board>,
}

struct Connection {
    stream: UnixStream,
    /// Closed at this instant, answered or not.
    until: Instant,
    /// A drain's wait looks again at this instant (its lines to ExaBGP are being written).
    soon: Option<Instant>,
    phase: Phase,
}

enum Phase {
    /// The request so far.
    Reading(Vec<u8>),
    /// `drain --wait`: the answer waits until these services are DRAINED (or the
    /// connection's time is up). `Ended`: whether the client has ended its writing (a
    /// half-close): it may still read its answer, and only its hang-up is waited for.
    Waiting(Which, Duration, Ended),
    /// The answer, and how much of it is sent.
    Writing(Vec<u8>, usize),
    /// Over: to be dropped.
    Done,
}

impl Server {
    /// Listen on `path`: refused (naming the flag) when something other than a socket is
    /// there, or when another process listens on it; a socket nobody listens on is replaced.
    /// `owner`: the `--user` and `--group` the plugin switches to after start-up, to whom the
    /// socket is given (as the pid file is the plugin's, the socket is theirs to use).
    pub fn open(path: &Path, owner: (Option<&User>, Option<&Group>), bfd: Option<Board>) -> Result<Server, UsageError> {
        let refuse = |why: String| UsageError::value(FLAG, path.display(), why);
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path) {
                Ok(_) => {
                    return Err(refuse(
                        "a process listens on it already (another exabgp-healthcheck?); give each its own socket"
                            .to_owned(),
                    ))
                }
                Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                    std::fs::remove_file(path).map_err(|err| {
                        refuse(format!("failed to remove the stale socket: {}", in_words(&err, Words::System)))
                    })?;
                    log::info!("{FLAG} {}: replaced a socket nobody listened on", path.display());
                }
                Err(err) => {
                    return Err(refuse(format!(
                        "failed to connect to the socket there: {}",
                        in_words(&err, Words::System)
                    )))
                }
            },
            Ok(_) => return Err(refuse("exists and is not a socket; it is left as it is".to_owned())),
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(err) => return Err(refuse(format!("failed to look at it: {}", in_words(&err, Words::System)))),
        }
        // Mode 0600 from the start: the umask is the process's, and nothing else creates files
        // while the reactor starts.
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
        let bound = UnixListener::bind(path);
        nix::sys::stat::umask(old);
        let listener = bound.map_err(|err| refuse(format!("failed to listen: {}", in_words(&err, Words::System))))?;
        let uid = owner.0.map(|user| user.uid);
        let gid = owner.1.map(|group| group.gid).or(owner.0.map(|user| user.gid));
        // Only root gives files away; without root, switching user fails later anyway.
        if (uid.is_some() || gid.is_some()) && nix::unistd::geteuid().is_root() {
            if let Err(errno) = nix::unistd::chown(path, uid, gid) {
                let _ = std::fs::remove_file(path);
                return Err(refuse(format!(
                    "failed to give the socket to --user/--group: {}",
                    errno.desc().to_lowercase()
                )));
            }
        }
        let file = std::fs::symlink_metadata(path).map(|meta| (meta.dev(), meta.ino()));
        let set_up = file
            .and_then(|file| listener.set_nonblocking(true).map(|()| file))
            .map_err(|err| refuse(format!("failed to set up the socket: {}", in_words(&err, Words::System))));
        let file = match set_up {
            Ok(file) => file,
            Err(err) => {
                let _ = std::fs::remove_file(path);
                return Err(err);
            }
        };
        log::debug!("{FLAG}: listening on {}", path.display());
        Ok(Server { path: path.to_owned(), listener, file, connections: Vec::new(), closed: false, bfd })
    }

    /// Take the connections waiting, at most a few at a time.
    fn accept(&mut self, view: &View<'_>, asks: &mut Vec<Request>, now: Instant) {
        for _ in 0..MAX_CONNECTIONS {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    log::warn!(
                        "{FLAG} {}: failed to accept a connection: {}",
                        self.path.display(),
                        in_words(&err, Words::System)
                    );
                    return;
                }
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let busy = self.connections.len() >= MAX_CONNECTIONS;
            let mut connection =
                Connection { stream, until: now + CONNECTION_TIME, soon: None, phase: Phase::Reading(Vec::new()) };
            if busy {
                let answer = Answer::failed(format!("busy: {MAX_CONNECTIONS} connections are served already"));
                connection.phase = Phase::Writing(answer.to_line().into_bytes(), 0);
            }
            connection.advance(view, self.bfd.as_ref(), asks);
            if !matches!(connection.phase, Phase::Done) && !busy {
                self.connections.push(connection);
            }
        }
    }
}

impl Connection {
    /// Read what came, answer a complete request, send what the socket takes.
    fn advance(&mut self, view: &View<'_>, bfd: Option<&Board>, asks: &mut Vec<Request>) {
        if let Phase::Reading(request) = &mut self.phase {
            let answer = match read_request(&self.stream, request) {
                Got::More => return,
                Got::Request(line) => match answer(&line, view, bfd, asks) {
                    Reply::Now(answer) => answer,
                    Reply::Wait(which, limit) => {
                        let now = Instant::now();
                        self.until = now + limit;
                        self.phase = Phase::Waiting(which, limit, Ended::No);
                        // Drained already: nothing else would wake the poll for it.
                        self.wait(false, view, now);
                        return;
                    }
                },
                Got::TooLong => Answer::usage(format!("the request is longer than {} bytes", protocol::MAX_REQUEST)),
                Got::Gone => {
                    self.phase = Phase::Done;
                    return;
                }
            };
            self.phase = Phase::Writing(answer.to_line().into_bytes(), 0);
        }
        if let Phase::Writing(answer, sent) = &mut self.phase {
            while *sent < answer.len() {
                match rustix::net::send(&self.stream, &answer[*sent..], SendFlags::NOSIGNAL) {
                    Ok(n) => *sent += n,
                    Err(rustix::io::Errno::AGAIN) => return,
                    Err(rustix::io::Errno::INTR) => {}
                    Err(_) => break,
                }
            }
            self.phase = Phase::Done;
        }
    }
}

impl Connection {
    /// A connection waiting for a drain, after a wake-up (`ready`: the client sent something,
    /// ended its writing or hung up): answered once the services are DRAINED, or when its time
    /// is up.
    fn wait(&mut self, ready: bool, view: &View<'_>, now: Instant) {
        let Phase::Waiting(which, limit, ended) = &mut self.phase else { return };
        if ready {
            let mut chunk = [0u8; 256];
            let gone = match *ended {
                // Only a hang-up (or an error) wakes it now.
                Ended::Writing => true,
                Ended::No => match (&self.stream).read(&mut chunk) {
                    Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => false,
                    // Anything more it sends is ignored.
                    Ok(n) if n > 0 => false,
                    // The end of its writing ended its request (the protocol says so): while it
                    // can still read, it waits for its answer.
                    Ok(_) if !hung_up(&self.stream) => {
                        *ended = Ended::Writing;
                        false
                    }
                    _ => true,
                },
            };
            if gone {
                // Gone, it waits for nothing.
                log::info!("control socket: the client waiting for the drain of {} left", shown(which));
                self.phase = Phase::Done;
                return;
            }
        }
        let (which, limit) = (&*which, *limit);
        // DRAINED, and its withdraws out of our queue to ExaBGP: a client that stops the
        // service when answered must not beat the lines that tell the routers.
        let chosen: Vec<(&Service, bool)> = view.written().filter(|(service, _)| which.matches(service)).collect();
        let drained = |(service, written): &(&Service, bool)| service.state() == State::Drained && *written;
        self.soon = None;
        let answer = if chosen.is_empty() {
            Answer::failed(format!("{} is gone (the configuration was reloaded)", shown(which)))
        } else if chosen.iter().all(drained) {
            let now = Moment::now();
            Answer::done(Command::Drain, chosen.iter().map(|(service, _)| status::status_of(service, now)).collect())
        } else if now >= self.until {
            let left: Vec<String> = chosen
                .iter()
                .filter(|entry| !drained(entry))
                .map(|(service, written)| match written {
                    true => format!("{} {}", service.label().unwrap_or("-"), service.state()),
                    false => {
                        format!("{} {} (lines to ExaBGP still queued)", service.label().unwrap_or("-"), service.state())
                    }
                })
                .collect();
            let limit =
                humantime::format_duration(Duration::from_millis(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)));
            Answer::failed(format!("not drained within {limit}: {}", left.join(", ")))
        } else {
            // Nothing wakes the reactor when a queued line is written: look again soon.
            self.soon = chosen.iter().any(|(_, written)| !written).then(|| now + RECHECK);
            return;
        };
        self.until = now + CONNECTION_TIME;
        self.phase = Phase::Writing(answer.to_line().into_bytes(), 0);
        self.advance(view, None, &mut Vec::new());
    }
}

/// Whether a client waiting for its answer has ended its writing (shut down its side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    No,
    /// Half-closed: the end of its writing is not its leaving.
    Writing,
}

/// Whether the other end of `stream` hung up altogether (or the connection broke), rather than
/// only ended its writing: a look that does not wait.
fn hung_up(stream: &UnixStream) -> bool {
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::empty())];
    match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
        Ok(_) => fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR)),
        Err(_) => true,
    }
}

/// What reading a connection found.
enum Got {
    /// Not all of the request yet.
    More,
    /// The request, up to its newline (or the client's end of writing).
    Request(Vec<u8>),
    /// More than [`protocol::MAX_REQUEST`] bytes and no newline.
    TooLong,
    /// The client is gone without a request.
    Gone,
}

/// Read what is there into `request`.
fn read_request(stream: &UnixStream, request: &mut Vec<u8>) -> Got {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = request.iter().position(|&b| b == b'\n') {
            request.truncate(end + 1);
            return Got::Request(std::mem::take(request));
        }
        if request.len() >= protocol::MAX_REQUEST {
            return Got::TooLong;
        }
        match (&*stream).read(&mut chunk) {
            Ok(0) if request.is_empty() => return Got::Gone,
            Ok(0) => return Got::Request(std::mem::take(request)),
            Ok(n) => request.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == ErrorKind::WouldBlock => return Got::More,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Got::Gone,
        }
    }
}

/// How a request is answered.
enum Reply {
    /// With this, now.
    Now(Answer),
    /// `drain --wait`: once these services are DRAINED, this long at most.
    Wait(Which, Duration),
}

/// The answer to a request's bytes, from the services as they are; what it asks of them (a
/// check, a drain) goes into `asks`.
fn answer(line: &[u8], view: &View<'_>, bfd: Option<&Board>, asks: &mut Vec<Request>) -> Reply {
    match protocol::Request::parse(line) {
        Ok(request) if request.cmd == Command::Status && request.service.is_none() => {
            let mut reply = answer_to(request, view, asks);
            if let (Reply::Now(answer), Some(board)) = (&mut reply, bfd) {
                answer.bfd = board.borrow().sessions.iter().map(status::bfd_status).collect();
            }
            reply
        }
        Ok(request) => answer_to(request, view, asks),
        Err(refused) => Reply::Now(refused),
    }
}

fn answer_to(request: protocol::Request, view: &View<'_>, asks: &mut Vec<Request>) -> Reply {
    let services: Vec<&Service> = view.services().collect();
    let names: Vec<Option<&str>> = services.iter().map(|service| service.label()).collect();
    let chosen = match protocol::select(request.service.as_deref(), &names) {
        Ok(chosen) => chosen,
        Err(refused) => return Reply::Now(refused),
    };
    let now = Moment::now();
    let statuses = chosen.iter().map(|&i| status::status_of(services[i], now)).collect();
    let which = request.service.map_or(Which::All, Which::Named);
    match request.cmd {
        Command::Status => {}
        Command::Check => {
            log::info!("control socket: check now ({})", shown(&which));
            asks.push(Request::CheckNow(which));
        }
        Command::Drain => {
            log::info!("control socket: drain ({})", shown(&which));
            asks.push(Request::Drain(which.clone(), true));
            if request.wait {
                let longest = chosen.iter().map(|&i| services[i].cfg().drain_time).max().unwrap_or_default();
                let limit = request.timeout.unwrap_or(longest.saturating_add(protocol::WAIT_MARGIN)).min(MAX_WAIT);
                return Reply::Wait(which, limit);
            }
        }
        Command::Resume => {
            log::info!("control socket: resume ({})", shown(&which));
            asks.push(Request::Drain(which, false));
        }
    }
    Reply::Now(Answer::done(request.cmd, statuses))
}

fn shown(which: &Which) -> &str {
    match which {
        Which::All => "every service",
        Which::Named(name) => name,
    }
}

impl Endpoint for Server {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        fds.push(PollFd::new(self.listener.as_fd(), PollFlags::POLLIN));
        for connection in &self.connections {
            let events = match connection.phase {
                Phase::Reading(_) | Phase::Waiting(_, _, Ended::No) => PollFlags::POLLIN,
                // A hang-up (always polled for) is all there is to wait for.
                Phase::Waiting(_, _, Ended::Writing) => PollFlags::empty(),
                Phase::Writing(..) | Phase::Done => PollFlags::POLLOUT,
            };
            fds.push(PollFd::new(connection.stream.as_fd(), events));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.connections
            .iter()
            .map(|connection| connection.soon.map_or(connection.until, |soon| soon.min(connection.until)))
            .min()
    }

    fn advance(&mut self, ready: Ready, view: &View<'_>, asks: &mut Vec<Request>) {
        let now = Instant::now();
        for (i, connection) in self.connections.iter_mut().enumerate() {
            if matches!(connection.phase, Phase::Waiting(..)) {
                connection.wait(ready.is(i + 1), view, now);
            } else if now >= connection.until {
                log::debug!("control socket: a connection took longer than {CONNECTION_TIME:?}, closed");
                connection.phase = Phase::Done;
            } else if ready.is(i + 1) {
                connection.advance(view, self.bfd.as_ref(), asks);
            }
        }
        self.connections.retain(|connection| !matches!(connection.phase, Phase::Done));
        if ready.is(0) {
            self.accept(view, asks, now);
        }
    }

    fn close(&mut self) {
        self.connections.clear();
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|meta| (meta.dev(), meta.ino()) == self.file);
        if !ours {
            return;
        }
        if let Err(err) = std::fs::remove_file(&self.path) {
            log::warn!(
                "{FLAG} {}: failed to remove the socket: {}",
                self.path.display(),
                in_words(&err, Words::System)
            );
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Every way out of the reactor closes its endpoints; this is for the others (a
        // start-up that fails after the socket is bound).
        self.close();
    }
}
