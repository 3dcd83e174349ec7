//! The BFD speaker: every session of the process, their sockets and their timers, driven by
//! the reactor (`serve` makes it one of its endpoints): a [`Receiver`] per address family on
//! port 3784, and per peer a [`Session`] and the [`Sender`] it sends from. Received packets go
//! to their session by Your Discriminator when it is not zero, else by the peer's address (a
//! link-local one with its interface), never by source port. A failed send is counted and
//! logged, never fatal. What operators see (status, metrics) it publishes on a [`Board`] after
//! every wake-up, which the control socket and the metrics read.

use super::packet::{Diag, State};
use super::session::{Config, Session, Transition};
use super::socket::{Family, OpenError, Received, Receiver, Sender};
use crate::poll::Ready;
use nix::poll::PollFd;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a graceful exit gives the AdminDown packets ([`Speaker::leave`]): the first goes
/// at once, the others at the negotiated interval if there is time.
pub const FINISH_LIMIT: Duration = Duration::from_millis(700);

/// One peer to speak with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// As logs, status and metrics show it.
    pub name: String,
    /// Its address and port (a link-local IPv6 one with its scope id).
    pub addr: SocketAddr,
    /// The source address; `None`: the one the kernel picks to reach it.
    pub local: Option<IpAddr>,
}

/// What the speaker was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub peers: Vec<Peer>,
    /// The port to receive on ([`super::socket::PORT`]; another in tests).
    pub port: u16,
    pub interval: Duration,
    pub multiplier: u8,
}

/// A session as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub peer: String,
    /// The address and source port we send from.
    pub local: SocketAddr,
    pub state: State,
    pub remote_state: State,
    /// Our diagnostic: why our state last changed.
    pub diag: Diag,
    /// The negotiated intervals: we send at `tx`, the peer at `rx`.
    pub tx: Duration,
    pub rx: Duration,
    /// `None` before the peer's first packet.
    pub detection_time: Option<Duration>,
    /// How long it has been in its state.
    pub since: Duration,
    /// How many times it entered each state, in [`State::ALL`]'s order.
    pub entered: [u64; 4],
    pub sent: u64,
    pub received: u64,
}

/// What the speaker publishes after every wake-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub sessions: Vec<SessionView>,
    /// Packets dropped, by reason: before a session (TTL, decoding, no session), by a session
    /// (RFC 5880 6.8.6), and ours that failed to go (`send_failed`).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Grows at every state change: a reader that reports on changes compares it.
    pub generation: u64,
}

/// The speaker's snapshot, shared with its readers (the reactor's thread only).
pub type Board = Rc<RefCell<Snapshot>>;

struct Entry {
    peer: Peer,
    sender: Sender,
    local: SocketAddr,
    session: Session,
    entered: [u64; 4],
    /// Whether the last send failed (a streak of failures is logged once).
    failing: bool,
}

/// Every BFD session of the process.
pub struct Speaker {
    receivers: Vec<Receiver>,
    entries: Vec<Entry>,
    /// Drops outside the receivers' own counts.
    dropped: BTreeMap<&'static str, u64>,
    generation: u64,
    board: Board,
    /// When [`Speaker::leave`] was called.
    leaving: Option<Instant>,
}

/// A random number per call (the caller's `sys::random`).
pub type Random = fn() -> u64;

impl Speaker {
    /// Opens the receivers and a sender per peer (the sockets bound now, before privileges
    /// are dropped). A port taken is [`OpenError::PortTaken`]; the peer a sender failed for
    /// comes with any other error.
    pub fn open(options: &Options, random: Random, now: Instant) -> Result<Speaker, (Option<String>, OpenError)> {
        let mut receivers = Vec::new();
        for family in [Family::V4, Family::V6] {
            if options.peers.iter().any(|peer| Family::of(peer.addr.ip()) == family) {
                let any = match family {
                    Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
                receivers.push(Receiver::open(any, options.port).map_err(|err| (None, err))?);
            }
        }
        let config = Config::new(options.interval, options.multiplier);
        let mut entries: Vec<Entry> = Vec::new();
        for peer in &options.peers {
            let failed = |err| (Some(peer.name.clone()), err);
            let sender = Sender::open(peer.local, peer.addr, random()).map_err(failed)?;
            let local = sender.local_addr().map_err(|err| failed(OpenError::Io("read the local address", err)))?;
            let discriminator = loop {
                let candidate = (random() & u64::from(u32::MAX)) as u32;
                if candidate != 0 && entries.iter().all(|e| e.session.my_discriminator() != candidate) {
                    break candidate;
                }
            };
            let session = Session::new(config, discriminator, Box::new(random), now);
            log::info!("BFD {}: from {local}, discriminator {discriminator}", peer.name);
            entries.push(Entry { peer: peer.clone(), sender, local, session, entered: [0; 4], failing: false });
        }
        let speaker = Speaker {
            receivers,
            entries,
            dropped: BTreeMap::new(),
            generation: 0,
            board: Board::default(),
            leaving: None,
        };
        speaker.publish(now);
        Ok(speaker)
    }

    /// The snapshot's handle, for the readers.
    pub fn board(&self) -> Board {
        Rc::clone(&self.board)
    }

    /// Adds the receivers' descriptors to the poll set.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        for receiver in &self.receivers {
            receiver.poll_fds(fds);
        }
    }

    /// When a session has something due.
    pub fn deadline(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.session.deadline()).min()
    }

    /// After a wake-up: read what the receivers that poll `ready` hold, run the timers, send
    /// what is due, publish.
    pub fn advance(&mut self, ready: Ready, now: Instant) {
        for index in 0..self.receivers.len() {
            if ready.is(index) {
                self.receive(index, now);
            }
        }
        for entry in &mut self.entries {
            if let Some(transition) = entry.session.on_timeout(now) {
                note(entry, transition, &mut self.generation);
            }
            transmit(entry, &mut self.dropped, now);
        }
        self.publish(now);
    }

    /// A graceful exit (RFC 5882 3.2): AdminDown with diagnostic 7 on every session, its first
    /// packet at once; the others go out as [`Speaker::advance`] is called, while
    /// [`Speaker::lingering`].
    pub fn leave(&mut self, now: Instant) {
        self.leaving.get_or_insert(now);
        for entry in &mut self.entries {
            if let Some(transition) = entry.session.shutdown(now) {
                note(entry, transition, &mut self.generation);
            }
            transmit(entry, &mut self.dropped, now);
        }
        self.publish(now);
    }

    /// After [`Speaker::leave`]: whether a session still has AdminDown packets to send, within
    /// [`FINISH_LIMIT`] of the leave.
    pub fn lingering(&self, now: Instant) -> bool {
        let Some(since) = self.leaving else { return false };
        now < since + FINISH_LIMIT && self.entries.iter().any(|e| !e.session.finished())
    }

    /// Read every datagram waiting on receiver `index`, each to its session.
    fn receive(&mut self, index: usize, now: Instant) {
        // Bounded: a flood cannot keep the reactor here.
        for _ in 0..256 {
            let received = match self.receivers[index].recv() {
                Ok(Some(received)) => received,
                Ok(None) => return,
                Err(err) => {
                    log::debug!("BFD: failed to receive: {err}");
                    return;
                }
            };
            let (from, packet) = match received {
                Received::Packet { from, packet } => (from, packet),
                Received::Dropped { from, why } => {
                    log::debug!("BFD: dropped a packet from {}: {why}", from.ip());
                    continue;
                }
            };
            let found = if packet.your_discriminator != 0 {
                self.entries.iter_mut().find(|e| e.session.my_discriminator() == packet.your_discriminator)
            } else {
                self.entries.iter_mut().find(|e| same_peer(e.peer.addr, from))
            };
            let Some(entry) = found else {
                *self.dropped.entry("no_session").or_default() += 1;
                log::debug!("BFD: dropped a packet from {}: no session of ours", from.ip());
                continue;
            };
            match entry.session.on_packet(&packet, now) {
                Ok(Some(transition)) => note(entry, transition, &mut self.generation),
                Ok(None) => {}
                Err(discard) => {
                    *self.dropped.entry(discard.reason()).or_default() += 1;
                    log::debug!("BFD {}: dropped a packet: {discard}", entry.peer.name);
                }
            }
            transmit(entry, &mut self.dropped, now);
        }
    }

    /// The snapshot, on the board.
    fn publish(&self, now: Instant) {
        let mut board = self.board.borrow_mut();
        board.generation = self.generation;
        board.dropped.clone_from(&self.dropped);
        for receiver in &self.receivers {
            for (reason, count) in receiver.dropped() {
                *board.dropped.entry(reason).or_default() += count;
            }
        }
        // The sessions never change once open: their views are made once, then updated in
        // place (no new peer names at every wake-up).
        if board.sessions.len() != self.entries.len() {
            board.sessions = self.entries.iter().map(|e| view(e, now, e.peer.name.clone())).collect();
            return;
        }
        for (shown, e) in board.sessions.iter_mut().zip(&self.entries) {
            *shown = view(e, now, std::mem::take(&mut shown.peer));
        }
    }
}

/// `e`'s session as operators see it, under `peer` (its name, made once).
fn view(e: &Entry, now: Instant, peer: String) -> SessionView {
    let session = &e.session;
    let counters = session.counters();
    SessionView {
        peer,
        local: e.local,
        state: session.state(),
        remote_state: session.remote_state(),
        diag: session.diag(),
        tx: session.tx_interval(),
        rx: session.rx_interval(),
        detection_time: session.detection_time(),
        since: now.saturating_duration_since(session.since()),
        entered: e.entered,
        sent: counters.sent,
        received: counters.received,
    }
}

/// Whether a packet from `from` is `peer`'s: the same address and, for a link-local IPv6
/// one, the same interface; whatever the source port.
fn same_peer(peer: SocketAddr, from: SocketAddr) -> bool {
    match (peer, from) {
        (SocketAddr::V6(peer), SocketAddr::V6(from)) => {
            peer.ip() == from.ip() && (!peer.ip().is_unicast_link_local() || peer.scope_id() == from.scope_id())
        }
        (SocketAddr::V4(peer), SocketAddr::V4(from)) => peer.ip() == from.ip(),
        _ => false,
    }
}

/// A state change of `entry`'s session: logged, counted.
fn note(entry: &mut Entry, transition: Transition, generation: &mut u64) {
    *generation += 1;
    if let Some(at) = State::ALL.iter().position(|s| *s == transition.to) {
        entry.entered[at] += 1;
    }
    let line = format!("BFD {}: {}", entry.peer.name, shown(transition));
    if transition.from == State::Up && transition.to == State::Down {
        log::warn!("{line}");
    } else {
        log::info!("{line}");
    }
}

/// A transition as the log shows it: `Down -> Up`, `Up -> Down (control detection time
/// expired)`.
pub fn shown(transition: Transition) -> String {
    let name = |state: State| match state {
        State::AdminDown => "AdminDown",
        State::Down => "Down",
        State::Init => "Init",
        State::Up => "Up",
    };
    match transition.diag {
        Diag::None => format!("{} -> {}", name(transition.from), name(transition.to)),
        diag => format!("{} -> {} ({diag})", name(transition.from), name(transition.to)),
    }
}

/// Send what `entry`'s session has due at `now`; a failure counted (and logged once a streak).
fn transmit(entry: &mut Entry, dropped: &mut BTreeMap<&'static str, u64>, now: Instant) {
    // Bounded: a session gives at most a Final and a periodic packet at once.
    for _ in 0..4 {
        let Some(packet) = entry.session.poll_transmit(now) else { return };
        match entry.sender.send(&packet) {
            Ok(()) => entry.failing = false,
            Err(err) => {
                *dropped.entry("send_failed").or_default() += 1;
                if !entry.failing {
                    log::warn!(
                        "BFD {}: failed to send: {err} (counted; tried again at the next packet)",
                        entry.peer.name
                    );
                    entry.failing = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_shown_with_their_diagnostic_unless_none() {
        let up = Transition { from: State::Down, to: State::Up, diag: Diag::None };
        assert_eq!(shown(up), "Down -> Up");
        let down = Transition { from: State::Up, to: State::Down, diag: Diag::ControlDetectionTimeExpired };
        assert_eq!(shown(down), "Up -> Down (control detection time expired)");
    }

    #[test]
    fn a_peer_is_its_address_and_interface_whatever_the_port() {
        let v4 = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(same_peer(v4("10.0.0.1:3784"), v4("10.0.0.1:49999")));
        assert!(!same_peer(v4("10.0.0.1:3784"), v4("10.0.0.2:3784")));
        let link = |scope| SocketAddr::V6(std::net::SocketAddrV6::new("fe80::1".parse().unwrap(), 5, 0, scope));
        assert!(same_peer(link(2), link(2)));
        assert!(!same_peer(link(2), link(3)));
        assert!(!same_peer(v4("10.0.0.1:3784"), link(2)));
    }
}
