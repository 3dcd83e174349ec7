//! One BFD session (RFC 5880 asynchronous mode, no echo, no demand of our own, no
//! authentication): its state machine (6.8.6), its timers (6.8.2 to 6.8.4, 6.8.7), its
//! Poll/Final sequences (6.5) and its diagnostics (6.8.1). Pure: the time is an argument of
//! every call and the randomness of the jitter is handed in; no clock, no socket. The caller
//! demultiplexes received packets to their session (by peer address), hands each over with
//! [`Session::on_packet`], calls [`Session::on_timeout`] and then [`Session::poll_transmit`]
//! until it gives nothing when [`Session::deadline`] comes, and sends what it gives.

use super::packet::{micros, Diag, Packet, State};
use std::fmt;
use std::time::{Duration, Instant};

/// Our Desired Min TX Interval (and Required Min RX Interval) while the session is not Up:
/// RFC 5880 6.8.3 wants at least one second.
pub const SLOW: Duration = Duration::from_secs(1);

/// How many AdminDown packets [`Session::shutdown`] sends before the session is finished.
pub const SHUTDOWN_PACKETS: u8 = 3;

/// What the operator asked of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Our Desired Min TX Interval once Up.
    pub desired_min_tx: Duration,
    /// Our Required Min RX Interval once Up.
    pub required_min_rx: Duration,
    /// Our Detect Mult (1..255).
    pub detect_mult: u8,
}

impl Config {
    /// `interval` both ways, and `detect_mult` (0 is taken as 1).
    pub fn new(interval: Duration, detect_mult: u8) -> Config {
        Config { desired_min_tx: interval, required_min_rx: interval, detect_mult: detect_mult.max(1) }
    }

    /// What we advertise once Up.
    fn fast(&self) -> Intervals {
        Intervals { tx: self.desired_min_tx, rx: self.required_min_rx }
    }

    /// What we advertise while not Up: at least [`SLOW`].
    fn slow(&self) -> Intervals {
        Intervals { tx: self.desired_min_tx.max(SLOW), rx: self.required_min_rx.max(SLOW) }
    }
}

/// A random number per call, for the jitter (the caller's `sys::random`, a fixed sequence in
/// tests).
pub type Random = Box<dyn FnMut() -> u64 + Send>;

/// A change of the session's state, and the diagnostic that goes with the new one (for the
/// log line and the transition counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: State,
    pub to: State,
    pub diag: Diag,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.diag)
    }
}

/// Why a session discarded a packet that decoded well (RFC 5880 6.8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// Your Discriminator is neither zero nor ours.
    YourDiscriminator(u32),
    /// We are AdminDown: every packet is discarded (after its remote fields are noted).
    AdminDown,
}

impl Discard {
    /// A short name for the reason, as a metrics label (`bfd_dropped_total{reason}`).
    pub fn reason(self) -> &'static str {
        match self {
            Discard::YourDiscriminator(_) => "your_discriminator_mismatch",
            Discard::AdminDown => "admin_down",
        }
    }
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discard::YourDiscriminator(got) => write!(f, "your discriminator {got} is not ours"),
            Discard::AdminDown => f.write_str("the session is admin-down"),
        }
    }
}

/// What a session counted, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets handed out by [`Session::poll_transmit`].
    pub sent: u64,
    /// Packets accepted by [`Session::on_packet`].
    pub received: u64,
    /// Packets [`Session::on_packet`] discarded.
    pub discarded: u64,
    /// State changes.
    pub transitions: u64,
}

/// A pair of intervals we advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Intervals {
    tx: Duration,
    rx: Duration,
}

/// What the peer last told us (RFC 5880 6.8.1's bfd.Remote* variables).
#[derive(Debug, Clone, Copy)]
struct Remote {
    discriminator: u32,
    state: State,
    diag: Diag,
    /// Zero until the first packet.
    detect_mult: u8,
    desired_min_tx: Duration,
    required_min_rx: Duration,
    demand: bool,
}

/// One session with one peer.
pub struct Session {
    config: Config,
    my_discriminator: u32,
    random: Random,
    state: State,
    diag: Diag,
    /// When the state last changed (or the session began).
    since: Instant,
    remote: Remote,
    /// What our packets carry as Desired Min TX and Required Min RX.
    advertised: Intervals,
    /// During a Poll sequence of ours: what was advertised before it.
    polling: Option<Intervals>,
    /// A Poll of the peer's to answer with a Final, due since then.
    final_due: Option<Instant>,
    /// When the next periodic packet is due.
    next_tx: Instant,
    /// When the last periodic packet went, and the interval `next_tx` was drawn from.
    last_tx: Option<Instant>,
    scheduled_with: Option<Duration>,
    /// When the last packet was accepted.
    last_rx: Option<Instant>,
    /// AdminDown packets still to send after [`Session::shutdown`].
    shutdown_left: u8,
    counters: Counters,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("my_discriminator", &self.my_discriminator)
            .field("state", &self.state)
            .field("diag", &self.diag)
            .field("remote", &self.remote)
            .field("advertised", &self.advertised)
            .field("polling", &self.polling)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session in state Down, `my_discriminator` (random and non-zero: the caller's, unique
    /// among its sessions), whose first packet is due at `now`.
    pub fn new(config: Config, my_discriminator: u32, random: Random, now: Instant) -> Session {
        let remote = Remote {
            discriminator: 0,
            state: State::Down,
            diag: Diag::None,
            detect_mult: 0,
            desired_min_tx: Duration::ZERO,
            // RFC 5880 6.8.1: bfd.RemoteMinRxInterval starts at 1 microsecond.
            required_min_rx: Duration::from_micros(1),
            demand: false,
        };
        Session {
            config,
            my_discriminator,
            random,
            state: State::Down,
            diag: Diag::None,
            since: now,
            remote,
            advertised: config.slow(),
            polling: None,
            final_due: None,
            next_tx: now,
            last_tx: None,
            scheduled_with: None,
            last_rx: None,
            shutdown_left: 0,
            counters: Counters::default(),
        }
    }

    /// A packet the peer sent (decoded and checked by [`Packet::decode`]), received at `now`:
    /// the rest of RFC 5880 6.8.6. `Ok` with the state change it caused, if any; `Err` when
    /// it is discarded.
    pub fn on_packet(&mut self, packet: &Packet, now: Instant) -> Result<Option<Transition>, Discard> {
        if packet.your_discriminator != 0 && packet.your_discriminator != self.my_discriminator {
            self.counters.discarded += 1;
            return Err(Discard::YourDiscriminator(packet.your_discriminator));
        }
        self.remote = Remote {
            discriminator: packet.my_discriminator,
            state: packet.state,
            diag: packet.diag,
            detect_mult: packet.detect_mult,
            desired_min_tx: packet.desired_min_tx(),
            required_min_rx: packet.required_min_rx(),
            demand: packet.demand,
        };
        if packet.final_ {
            self.polling = None;
        }
        if self.state == State::AdminDown {
            self.counters.discarded += 1;
            self.reschedule();
            return Err(Discard::AdminDown);
        }
        self.counters.received += 1;
        self.last_rx = Some(now);
        let next = match (self.state, packet.state) {
            (State::AdminDown, _) => None,
            (State::Down, State::AdminDown) => None,
            (_, State::AdminDown) => Some((State::Down, Diag::NeighborSignaledSessionDown)),
            (State::Down, State::Down) => Some((State::Init, Diag::None)),
            (State::Down, State::Init) => Some((State::Up, Diag::None)),
            (State::Down, State::Up) => None,
            (State::Init, State::Down) => None,
            (State::Init, State::Init | State::Up) => Some((State::Up, Diag::None)),
            (State::Up, State::Down) => Some((State::Down, Diag::NeighborSignaledSessionDown)),
            (State::Up, State::Init | State::Up) => None,
        };
        let transition = next.map(|(to, diag)| self.enter(to, diag, now));
        if packet.poll {
            self.final_due = Some(now);
        }
        self.reschedule();
        if matches!(transition, Some(Transition { to: State::Up, .. })) {
            // Our Poll with the new intervals, and the Up the peer waits for, at once.
            self.next_tx = now;
        }
        Ok(transition)
    }

    /// What is due at `now` besides packets: the detection time running out (RFC 5880 6.8.4),
    /// which takes the session Down with diagnostic 1.
    pub fn on_timeout(&mut self, now: Instant) -> Option<Transition> {
        if self.detect_at().is_none_or(|at| now < at) {
            return None;
        }
        self.remote.discriminator = 0;
        self.remote.state = State::Down;
        let transition = self.enter(State::Down, Diag::ControlDetectionTimeExpired, now);
        self.reschedule();
        Some(transition)
    }

    /// The packet to send at `now`, if one is due: a Final in answer to a Poll at once, else
    /// the periodic packet (with the Poll bit during our Poll sequence). Call until `None`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        if self.final_due.take().is_some() {
            self.counters.sent += 1;
            return Some(self.packet(false, true));
        }
        let interval = self.periodic()?;
        if now < self.next_tx {
            return None;
        }
        let packet = self.packet(self.polling.is_some(), false);
        self.last_tx = Some(now);
        self.scheduled_with = Some(interval);
        self.next_tx = now + self.jitter(interval);
        if self.state == State::AdminDown {
            self.shutdown_left -= 1;
        }
        self.counters.sent += 1;
        Some(packet)
    }

    /// When something is next due: a packet, or the detection time's end. `None` when nothing
    /// ever will be (a finished shutdown, a peer that asks for no packets and is silent).
    pub fn deadline(&self) -> Option<Instant> {
        let tx = self.periodic().map(|_| self.next_tx);
        [self.final_due, tx, self.detect_at()].into_iter().flatten().min()
    }

    /// A graceful end (RFC 5882 3.2): AdminDown with diagnostic 7, [`SHUTDOWN_PACKETS`]
    /// packets (the first at once, then at the negotiated interval), then
    /// [`Session::finished`]. The intervals stay as they are: these are the last packets of
    /// the session.
    pub fn shutdown(&mut self, now: Instant) -> Option<Transition> {
        if self.state == State::AdminDown {
            return None;
        }
        if let Some(old) = self.polling.take() {
            self.advertised = Intervals { tx: old.tx.min(self.advertised.tx), rx: old.rx.max(self.advertised.rx) };
        }
        let transition = self.enter(State::AdminDown, Diag::AdministrativelyDown, now);
        self.final_due = None;
        self.shutdown_left = SHUTDOWN_PACKETS;
        self.next_tx = now;
        Some(transition)
    }

    /// Whether a shutdown has sent its packets (or cannot send any): the session can go.
    pub fn finished(&self) -> bool {
        self.state == State::AdminDown && self.periodic().is_none()
    }

    /// New intervals or multiplier (a reload). Up, a Poll sequence announces them.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
        let wanted = if self.state == State::Up { config.fast() } else { config.slow() };
        if self.state == State::Up && wanted != self.advertised {
            self.polling = Some(self.in_effect());
        }
        self.advertised = wanted;
        self.reschedule();
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Our diagnostic: why our state last changed.
    pub fn diag(&self) -> Diag {
        self.diag
    }

    /// When our state last changed.
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn my_discriminator(&self) -> u32 {
        self.my_discriminator
    }

    /// The peer's discriminator; 0 until it is known, and again after a detection timeout.
    pub fn remote_discriminator(&self) -> u32 {
        self.remote.discriminator
    }

    /// The peer's state, as it last said (Down until it says).
    pub fn remote_state(&self) -> State {
        self.remote.state
    }

    /// The peer's diagnostic, as it last said.
    pub fn remote_diag(&self) -> Diag {
        self.remote.diag
    }

    /// Whether a Poll sequence of ours is running.
    pub fn polling(&self) -> bool {
        self.polling.is_some()
    }

    /// The interval we send at (before jitter): our Desired Min TX in effect or the peer's
    /// Required Min RX, whichever is larger (RFC 5880 6.8.7).
    pub fn tx_interval(&self) -> Duration {
        self.in_effect().tx.max(self.remote.required_min_rx)
    }

    /// The interval the peer sends at: our Required Min RX in effect or its Desired Min TX,
    /// whichever is larger.
    pub fn rx_interval(&self) -> Duration {
        self.in_effect().rx.max(self.remote.desired_min_tx)
    }

    /// The detection time (RFC 5880 6.8.4): the peer's multiplier times [`Self::rx_interval`];
    /// `None` before the peer's first packet.
    pub fn detection_time(&self) -> Option<Duration> {
        (self.remote.detect_mult > 0).then(|| self.rx_interval() * u32::from(self.remote.detect_mult))
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Change state; what changes with it.
    fn enter(&mut self, to: State, diag: Diag, now: Instant) -> Transition {
        let transition = Transition { from: self.state, to, diag };
        self.state = to;
        self.diag = diag;
        self.since = now;
        self.counters.transitions += 1;
        match to {
            State::Up => {
                let fast = self.config.fast();
                if fast != self.advertised {
                    self.polling = Some(self.advertised);
                    self.advertised = fast;
                }
            }
            State::Down | State::Init => {
                // Not Up: back to the slow rate at once (a larger interval needs no Poll
                // while the session is down: nobody's detection time depends on it).
                self.polling = None;
                self.advertised = self.config.slow();
            }
            State::AdminDown => {}
        }
        transition
    }

    /// What is in effect during our Poll sequence (RFC 5880 6.8.3): a larger TX interval only
    /// once the peer has acknowledged it, a smaller at once; a smaller RX interval only once
    /// acknowledged (the detection time stays long until then), a larger at once.
    fn in_effect(&self) -> Intervals {
        match self.polling {
            Some(old) => Intervals { tx: old.tx.min(self.advertised.tx), rx: old.rx.max(self.advertised.rx) },
            None => self.advertised,
        }
    }

    /// The interval of periodic packets, `None` when none are to be sent: the peer asked for
    /// none (Required Min RX 0), the peer is in Demand mode while both are Up (RFC 5880 6.8.7),
    /// or a shutdown sent its packets.
    fn periodic(&self) -> Option<Duration> {
        let demand = self.remote.demand && self.state == State::Up && self.remote.state == State::Up;
        let done = self.state == State::AdminDown && self.shutdown_left == 0;
        (!demand && !done && !self.remote.required_min_rx.is_zero()).then(|| self.tx_interval())
    }

    /// When the peer's silence takes the session Down: only Init and Up (RFC 5880 6.8.4).
    fn detect_at(&self) -> Option<Instant> {
        if !matches!(self.state, State::Init | State::Up) {
            return None;
        }
        Some(self.last_rx? + self.detection_time()?)
    }

    /// When the interval changed (the peer's Required Min RX, our Poll's end, a state change),
    /// the next packet is due one new interval after the last, at once if that has passed: a
    /// peer that lowers its Required Min RX after going Up (FRR does, from 1 s) shortens its
    /// detection time at once, and a packet held to the old interval would take it down.
    fn reschedule(&mut self) {
        let Some(interval) = self.periodic() else { return };
        if self.scheduled_with == Some(interval) {
            return;
        }
        self.scheduled_with = Some(interval);
        if let Some(last) = self.last_tx {
            self.next_tx = last + self.jitter(interval);
        }
    }

    /// `interval` less a random 0 to 25 % (10 to 25 % with a multiplier of 1), RFC 5880 6.8.7.
    fn jitter(&mut self, interval: Duration) -> Duration {
        let spread: u64 = if self.config.detect_mult == 1 { 151 } else { 251 };
        let permille = 750 + (self.random)() % spread;
        let nanos = interval.as_nanos() * u128::from(permille) / 1000;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Our packet as things stand.
    fn packet(&self, poll: bool, final_: bool) -> Packet {
        Packet {
            diag: self.diag,
            state: self.state,
            poll,
            final_,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: self.config.detect_mult,
            my_discriminator: self.my_discriminator,
            your_discriminator: self.remote.discriminator,
            desired_min_tx_us: micros(self.advertised.tx),
            required_min_rx_us: micros(self.advertised.rx),
            required_min_echo_rx_us: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfd::packet::tests::Xorshift;

    const MINE: u32 = 0x0a0a_0a0a;
    const PEER: u32 = 0x0b0b_0b0b;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A "random" source that always gives `r`: 250 is no jitter (100 %), 0 the most (75 %).
    fn fixed(r: u64) -> Random {
        Box::new(move || r)
    }

    fn session(now: Instant) -> Session {
        Session::new(Config::new(ms(300), 3), MINE, fixed(250), now)
    }

    /// A packet from the peer in `state`, 1 s both ways, multiplier 3, knowing our
    /// discriminator.
    fn from_peer(state: State) -> Packet {
        Packet {
            diag: Diag::None,
            state,
            poll: false,
            final_: false,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            my_discriminator: PEER,
            your_discriminator: MINE,
            desired_min_tx_us: 1_000_000,
            required_min_rx_us: 1_000_000,
            required_min_echo_rx_us: 0,
        }
    }

    /// A session brought to `state` at `now` the usual way (nothing sent yet).
    fn in_state(state: State, now: Instant) -> Session {
        let mut s = session(now);
        match state {
            State::AdminDown => assert!(s.shutdown(now).is_some()),
            State::Down => {}
            State::Init => assert!(s.on_packet(&from_peer(State::Down), now).unwrap().is_some()),
            State::Up => assert!(s.on_packet(&from_peer(State::Init), now).unwrap().is_some()),
        }
        assert_eq!(s.state(), state);
        s
    }

    /// Every packet due from `from` to `until` (both included), stepping to each deadline.
    fn run(s: &mut Session, from: Instant, until: Instant) -> Vec<(Instant, Packet)> {
        let mut sent = Vec::new();
        let mut now = from;
        for _ in 0..100_000 {
            s.on_timeout(now);
            while let Some(packet) = s.poll_transmit(now) {
                sent.push((now, packet));
            }
            match s.deadline() {
                Some(at) if at <= until => now = at.max(now),
                _ => break,
            }
        }
        sent
    }

    use Diag::{NeighborSignaledSessionDown as Signaled, None as NoDiag};
    use State::{AdminDown, Down, Init, Up};

    /// RFC 5880 6.8.6's table: local state, received state, the state and diagnostic after
    /// (`None`: no change), or a discard.
    type Outcome = Result<Option<(State, Diag)>, Discard>;

    const TABLE: [(State, State, Outcome); 16] = [
        (AdminDown, AdminDown, Err(Discard::AdminDown)),
        (AdminDown, Down, Err(Discard::AdminDown)),
        (AdminDown, Init, Err(Discard::AdminDown)),
        (AdminDown, Up, Err(Discard::AdminDown)),
        (Down, AdminDown, Ok(None)),
        (Down, Down, Ok(Some((Init, NoDiag)))),
        (Down, Init, Ok(Some((Up, NoDiag)))),
        (Down, Up, Ok(None)),
        (Init, AdminDown, Ok(Some((Down, Signaled)))),
        (Init, Down, Ok(None)),
        (Init, Init, Ok(Some((Up, NoDiag)))),
        (Init, Up, Ok(Some((Up, NoDiag)))),
        (Up, AdminDown, Ok(Some((Down, Signaled)))),
        (Up, Down, Ok(Some((Down, Signaled)))),
        (Up, Init, Ok(None)),
        (Up, Up, Ok(None)),
    ];

    #[test]
    fn every_local_state_by_every_received_state_with_and_without_poll_and_final() {
        let t0 = Instant::now();
        for (local, received, expected) in TABLE {
            for (poll, final_) in [(false, false), (true, false), (false, true)] {
                let case = format!("{local} + {received} (P {poll}, F {final_})");
                let mut s = in_state(local, t0);
                let before = (s.state(), s.diag(), s.counters().transitions);
                let packet = Packet { poll, final_, ..from_peer(received) };
                let now = t0 + ms(10);
                let got = s.on_packet(&packet, now);
                match expected {
                    Err(discard) => {
                        assert_eq!(got, Err(discard), "{case}");
                        assert_eq!((s.state(), s.diag(), s.counters().transitions), before, "{case}");
                        assert_eq!(s.counters().discarded, 1, "{case}");
                    }
                    Ok(None) => {
                        assert_eq!(got, Ok(None), "{case}");
                        assert_eq!((s.state(), s.diag(), s.counters().transitions), before, "{case}");
                    }
                    Ok(Some((to, diag))) => {
                        assert_eq!(got, Ok(Some(Transition { from: local, to, diag })), "{case}");
                        assert_eq!((s.state(), s.diag(), s.since()), (to, diag, now), "{case}");
                        assert_eq!(s.counters().transitions, before.2 + 1, "{case}");
                    }
                }
                // The remote's fields are noted in every case.
                assert_eq!((s.remote_state(), s.remote_discriminator()), (received, PEER), "{case}");
                // A Poll is answered with a Final at once (not while AdminDown), P clear.
                let first = s.poll_transmit(now);
                if poll && local != AdminDown {
                    let answer = first.expect("a final");
                    assert!(answer.final_ && !answer.poll, "{case}");
                    assert_eq!(answer.state, s.state(), "{case}");
                } else {
                    assert!(first.is_none_or(|p| !p.final_), "{case}");
                }
            }
        }
    }

    #[test]
    fn your_discriminator_zero_or_ours_is_accepted_any_other_discarded() {
        let t0 = Instant::now();
        for (your, accepted) in [(0, true), (MINE, true), (MINE + 1, false), (u32::MAX, false)] {
            let mut s = session(t0);
            let got = s.on_packet(&Packet { your_discriminator: your, ..from_peer(Down) }, t0);
            assert_eq!(got.is_ok(), accepted, "{your}");
            if !accepted {
                assert_eq!(got, Err(Discard::YourDiscriminator(your)));
                assert_eq!((s.state(), s.remote_discriminator(), s.counters().discarded), (Down, 0, 1));
                assert_eq!(got.unwrap_err().reason(), "your_discriminator_mismatch");
            }
        }
    }

    #[test]
    fn a_new_session_sends_down_at_once_then_once_a_second() {
        let t0 = Instant::now();
        let mut s = session(t0);
        assert_eq!(s.deadline(), Some(t0));
        let sent = run(&mut s, t0, t0 + ms(5500));
        let times: Vec<Duration> = sent.iter().map(|(at, _)| *at - t0).collect();
        assert_eq!(times, (0..6).map(|n| ms(1000 * n)).collect::<Vec<_>>());
        let first = sent[0].1;
        assert_eq!(
            first,
            Packet {
                diag: NoDiag,
                state: Down,
                your_discriminator: 0,
                my_discriminator: MINE,
                desired_min_tx_us: 1_000_000,
                required_min_rx_us: 1_000_000,
                ..from_peer(Down)
            }
        );
        assert_eq!(s.counters().sent, 6);
        assert_eq!(s.detection_time(), None);
        // Down: no detection time runs, however long the silence.
        assert_eq!(s.on_timeout(t0 + ms(3_600_000)), None);
    }

    #[test]
    fn while_not_up_packets_are_at_least_three_quarters_of_a_second_apart() {
        let t0 = Instant::now();
        let mut s = Session::new(Config::new(ms(10), 3), MINE, fixed(0), t0);
        s.on_packet(&Packet { required_min_rx_us: 1, desired_min_tx_us: 1, ..from_peer(Down) }, t0).unwrap();
        assert_eq!(s.state(), Init);
        let sent = run(&mut s, t0, t0 + ms(2000));
        let gaps: Vec<Duration> = sent.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert_eq!(gaps, [ms(750), ms(750)]);
        assert!(sent.iter().all(|(_, p)| p.desired_min_tx_us == 1_000_000 && p.required_min_rx_us == 1_000_000));
    }

    #[test]
    fn going_up_sends_a_poll_at_once_and_the_final_applies_the_new_intervals() {
        let t0 = Instant::now();
        let mut s = session(t0);
        let first = s.poll_transmit(t0).unwrap();
        assert_eq!(first.state, Down);
        // The peer (a fast BIRD: 10 ms RX) answers Init; we go Up and poll at once.
        let bird = Packet { desired_min_tx_us: 1_000_000, required_min_rx_us: 10_000, ..from_peer(Init) };
        let t1 = t0 + ms(200);
        assert_eq!(s.on_packet(&bird, t1), Ok(Some(Transition { from: Down, to: Up, diag: NoDiag })));
        assert!(s.polling());
        assert_eq!(s.deadline(), Some(t1));
        let poll = s.poll_transmit(t1).unwrap();
        assert!(poll.poll && !poll.final_);
        assert_eq!((poll.state, poll.desired_min_tx_us, poll.required_min_rx_us), (Up, 300_000, 300_000));
        // A smaller TX is in effect at once; a smaller RX only after the Final.
        assert_eq!(s.tx_interval(), ms(300));
        assert_eq!(s.rx_interval(), ms(1000));
        assert_eq!(s.detection_time(), Some(ms(3000)));
        // Until the Final, every periodic packet polls.
        let t2 = t1 + ms(300);
        assert_eq!(s.deadline(), Some(t2));
        assert!(s.poll_transmit(t2).unwrap().poll);
        let final_ = Packet { final_: true, desired_min_tx_us: 100_000, ..bird };
        let t3 = t2 + ms(5);
        let bird_up = Packet { state: Up, ..final_ };
        assert_eq!(s.on_packet(&bird_up, t3), Ok(None));
        assert!(!s.polling());
        assert_eq!((s.tx_interval(), s.rx_interval()), (ms(300), ms(300)));
        assert_eq!(s.detection_time(), Some(ms(900)));
        let t4 = t2 + ms(300);
        assert_eq!(s.deadline(), Some(t4));
        let after = s.poll_transmit(t4).unwrap();
        assert!(!after.poll && !after.final_);
        // A packet with F while we are not polling changes nothing.
        assert_eq!(s.on_packet(&bird_up, t4), Ok(None));
        assert!(!s.polling());
    }

    #[test]
    fn a_poll_of_the_peers_is_answered_with_a_final_even_during_ours() {
        let t0 = Instant::now();
        let mut s = in_state(Up, t0);
        assert!(s.polling());
        let ours = s.poll_transmit(t0).unwrap();
        assert!(ours.poll);
        let t1 = t0 + ms(20);
        s.on_packet(&Packet { poll: true, ..from_peer(Up) }, t1).unwrap();
        assert_eq!(s.deadline(), Some(t1));
        let answer = s.poll_transmit(t1).unwrap();
        assert!(answer.final_ && !answer.poll, "never both bits");
        assert!(s.polling(), "our own poll goes on");
        assert_eq!(s.poll_transmit(t1), None);
        let next = s.poll_transmit(t0 + ms(1000)).unwrap();
        assert!(next.poll && !next.final_);
    }

    #[test]
    fn the_interval_is_the_larger_of_our_tx_and_the_peers_rx() {
        let t0 = Instant::now();
        for (ours, peer_rx, expected) in [(300, 1000, 1000), (300, 100, 300), (300, 300, 300), (50, 10, 50)] {
            let mut s = Session::new(Config::new(ms(ours), 3), MINE, fixed(250), t0);
            let peer = Packet { required_min_rx_us: peer_rx as u32 * 1000, ..from_peer(Init) };
            s.on_packet(&peer, t0).unwrap();
            s.on_packet(&Packet { final_: true, ..peer }, t0).unwrap();
            assert_eq!(s.tx_interval(), ms(expected), "{ours} {peer_rx}");
            let sent = run(&mut s, t0, t0 + ms(expected * 4));
            let gaps: Vec<Duration> = sent.windows(2).map(|w| w[1].0 - w[0].0).collect();
            assert_eq!(gaps, [ms(expected); 4], "{ours} {peer_rx}");
        }
    }

    #[test]
    fn detection_time_is_the_peers_multiplier_times_the_larger_rx() {
        let t0 = Instant::now();
        for (our_rx, peer_tx, peer_mult, expected) in [(300, 100, 3, 900), (300, 500, 5, 2500), (50, 50, 1, 50)] {
            let mut s = Session::new(Config::new(ms(our_rx), 3), MINE, fixed(250), t0);
            let peer = Packet { desired_min_tx_us: peer_tx * 1000, detect_mult: peer_mult, ..from_peer(Init) };
            s.on_packet(&peer, t0).unwrap();
            s.on_packet(&Packet { final_: true, ..peer }, t0).unwrap();
            assert_eq!(s.detection_time(), Some(ms(expected)), "{our_rx} {peer_tx} {peer_mult}");
            // Each accepted packet restarts it.
            let t1 = t0 + ms(expected - 1);
            assert_eq!(s.on_timeout(t1), None);
            s.on_packet(&Packet { state: Up, ..peer }, t1).unwrap();
            assert_eq!(s.on_timeout(t1 + ms(expected - 1)), None);
            let expiry = t1 + ms(expected);
            assert!(s.deadline().unwrap() <= expiry);
            let got = s.on_timeout(expiry);
            assert_eq!(got, Some(Transition { from: Up, to: Down, diag: Diag::ControlDetectionTimeExpired }));
            assert_eq!((s.state(), s.remote_state(), s.remote_discriminator()), (Down, Down, 0));
            assert!(!s.polling());
            // Back to 1 s, and what we send says why.
            let sent = s.poll_transmit(s.deadline().unwrap()).unwrap();
            assert_eq!((sent.state, sent.diag, sent.your_discriminator), (Down, Diag::ControlDetectionTimeExpired, 0));
            assert_eq!(sent.desired_min_tx_us, 1_000_000);
        }
    }

    #[test]
    fn init_times_out_too() {
        let t0 = Instant::now();
        let mut s = in_state(Init, t0);
        assert_eq!(s.detection_time(), Some(ms(3000)));
        assert_eq!(s.on_timeout(t0 + ms(2999)), None);
        let got = s.on_timeout(t0 + ms(3000)).unwrap();
        assert_eq!((got.from, got.to, got.diag), (Init, Down, Diag::ControlDetectionTimeExpired));
    }

    #[test]
    fn jitter_stays_within_75_and_100_percent_or_90_with_multiplier_1() {
        for (mult, high) in [(3u8, 1000u128), (1, 900)] {
            let t0 = Instant::now();
            let mut source = Xorshift(7 + u64::from(mult));
            let random: Random = Box::new(move || source.next());
            let mut s = Session::new(Config::new(ms(100), mult), MINE, random, t0);
            s.on_packet(&Packet { required_min_rx_us: 100_000, ..from_peer(Init) }, t0).unwrap();
            s.on_packet(&Packet { final_: true, required_min_rx_us: 100_000, ..from_peer(Up) }, t0).unwrap();
            assert_eq!(s.tx_interval(), ms(100));
            let mut now = t0;
            s.poll_transmit(now).unwrap();
            let (mut least, mut most) = (u128::MAX, 0);
            for _ in 0..10_000 {
                // Keep the session Up: the peer's packet at each of ours.
                let at = s.deadline().unwrap();
                let gap = (at - now).as_micros();
                (least, most) = (least.min(gap), most.max(gap));
                assert!((75_000..=high * 100).contains(&gap), "{mult}: {gap}");
                now = at;
                s.on_packet(&Packet { required_min_rx_us: 100_000, ..from_peer(Up) }, now).unwrap();
                assert!(s.poll_transmit(now).is_some());
            }
            // The whole range is used.
            assert!(least < 76_000 && most > high * 100 - 1_000, "{mult}: {least}..{most}");
        }
    }

    #[test]
    fn frr_lowering_its_rx_after_up_gets_our_next_packet_at_once_and_no_flap() {
        // FRR goes Up advertising 1 s RX, then polls with 300 ms RX: its detection time drops to
        // 3 x 300 ms at once. A packet held to the old 1 s interval would be late.
        let t0 = Instant::now();
        let mut s = session(t0);
        let frr_slow = Packet { desired_min_tx_us: 1_000_000, required_min_rx_us: 1_000_000, ..from_peer(Init) };
        s.on_packet(&frr_slow, t0).unwrap();
        assert_eq!(s.state(), Up);
        let frr_up = Packet { state: Up, final_: true, ..frr_slow };
        let mut sent = run(&mut s, t0, t0 + ms(10));
        s.on_packet(&frr_up, t0 + ms(10)).unwrap();
        assert_eq!(s.tx_interval(), ms(1000));
        sent.extend(run(&mut s, t0 + ms(10), t0 + ms(1500)));
        // FRR's Poll with 300 ms both ways, 1.6 s in: 600 ms after our last packet.
        let t_poll = t0 + ms(1600);
        let frr_fast = Packet { poll: true, desired_min_tx_us: 300_000, required_min_rx_us: 300_000, ..frr_up };
        let frr_fast = Packet { final_: false, ..frr_fast };
        s.on_packet(&frr_fast, t_poll).unwrap();
        assert_eq!(s.tx_interval(), ms(300));
        // The Final at once, then the periodic packet at once too (1 s - 600 ms is past 300 ms).
        let now_sent = run(&mut s, t_poll, t_poll);
        assert_eq!(now_sent.len(), 2, "{now_sent:?}");
        assert!(now_sent[0].1.final_ && !now_sent[1].1.final_);
        sent.extend(now_sent);
        let mut now = t_poll;
        for _ in 0..100 {
            let at = s.deadline().unwrap();
            s.on_packet(&Packet { poll: false, ..frr_fast }, at).unwrap();
            sent.extend(run(&mut s, at, at));
            now = at;
        }
        assert_eq!(s.state(), Up);
        // FRR's detection time from its Poll on is 900 ms: no gap after it comes near.
        let after: Vec<Instant> = sent.iter().map(|(at, _)| *at).filter(|at| *at >= t_poll).collect();
        assert!(after.windows(2).all(|w| w[1] - w[0] <= ms(300)), "{:?}", after);
        assert!(now > t_poll + ms(20_000));
    }

    #[test]
    fn a_peer_going_down_or_admin_down_is_diagnostic_3() {
        let t0 = Instant::now();
        for received in [Down, AdminDown] {
            let mut s = in_state(Up, t0);
            let got = s.on_packet(&Packet { diag: Diag::AdministrativelyDown, ..from_peer(received) }, t0).unwrap();
            assert_eq!(got, Some(Transition { from: Up, to: Down, diag: Signaled }));
            assert_eq!(s.remote_diag(), Diag::AdministrativelyDown);
            assert_eq!(s.tx_interval(), ms(1000));
            assert_eq!(got.unwrap().to_string(), "up -> down (neighbor signaled session down)");
        }
    }

    #[test]
    fn shutdown_sends_three_admin_down_packets_then_finishes() {
        let t0 = Instant::now();
        let mut s = in_state(Up, t0);
        s.on_packet(&Packet { final_: true, required_min_rx_us: 300_000, ..from_peer(Up) }, t0).unwrap();
        run(&mut s, t0, t0 + ms(1000));
        let t1 = t0 + ms(1100);
        let got = s.shutdown(t1).unwrap();
        assert_eq!(got, Transition { from: Up, to: AdminDown, diag: Diag::AdministrativelyDown });
        assert_eq!(s.shutdown(t1), None);
        assert!(!s.finished());
        let sent = run(&mut s, t1, t1 + ms(5000));
        let times: Vec<Duration> = sent.iter().map(|(at, _)| *at - t1).collect();
        assert_eq!(times, [ms(0), ms(300), ms(600)]);
        assert!(sent.iter().all(|(_, p)| p.state == AdminDown && p.diag == Diag::AdministrativelyDown && !p.poll));
        assert!(s.finished());
        assert_eq!(s.deadline(), None);
        // AdminDown: what the peer sends is discarded, no Final, no detection.
        let got = s.on_packet(&Packet { poll: true, ..from_peer(Up) }, t1 + ms(700));
        assert_eq!(got, Err(Discard::AdminDown));
        assert_eq!(s.poll_transmit(t1 + ms(700)), None);
        assert_eq!(s.on_timeout(t1 + ms(60_000)), None);
        assert_eq!(s.state(), AdminDown);
    }

    #[test]
    fn shutdown_during_our_poll_keeps_the_intervals_in_effect_and_clears_p() {
        let t0 = Instant::now();
        let mut s = in_state(Up, t0);
        assert!(s.polling());
        s.shutdown(t0).unwrap();
        assert!(!s.polling());
        let packet = s.poll_transmit(t0).unwrap();
        assert!(!packet.poll);
        assert_eq!(s.tx_interval(), ms(1000));
    }

    #[test]
    fn a_peer_asking_for_no_packets_gets_none_but_finals() {
        let t0 = Instant::now();
        let mut s = session(t0);
        s.on_packet(&Packet { required_min_rx_us: 0, ..from_peer(Down) }, t0).unwrap();
        assert_eq!(s.deadline(), Some(t0 + ms(3000)), "only the detection time");
        assert_eq!(s.poll_transmit(t0), None);
        s.on_packet(&Packet { required_min_rx_us: 0, poll: true, ..from_peer(Down) }, t0 + ms(10)).unwrap();
        assert!(s.poll_transmit(t0 + ms(10)).unwrap().final_);
        // When it asks again, the first packet goes at once (never sent yet).
        s.on_packet(&from_peer(Down), t0 + ms(20)).unwrap();
        assert!(s.poll_transmit(t0 + ms(20)).is_some());
    }

    #[test]
    fn a_peer_in_demand_mode_stops_our_periodic_packets_while_both_are_up() {
        let t0 = Instant::now();
        let mut s = in_state(Up, t0);
        s.poll_transmit(t0).unwrap();
        s.on_packet(&Packet { demand: true, final_: true, ..from_peer(Up) }, t0).unwrap();
        assert_eq!(s.poll_transmit(t0 + ms(5000)), None);
        assert_eq!(s.deadline(), Some(t0 + ms(3000)), "only our detection time");
        s.on_packet(&Packet { demand: true, poll: true, ..from_peer(Up) }, t0 + ms(100)).unwrap();
        assert!(s.poll_transmit(t0 + ms(100)).unwrap().final_);
    }

    #[test]
    fn a_new_config_while_up_is_announced_by_a_poll() {
        let t0 = Instant::now();
        let mut s = in_state(Up, t0);
        s.on_packet(&Packet { final_: true, required_min_rx_us: 10_000, ..from_peer(Up) }, t0).unwrap();
        assert!(!s.polling());
        s.set_config(Config::new(ms(500), 5));
        assert!(s.polling());
        // Larger: the old TX and the new RX until the Final.
        assert_eq!((s.tx_interval(), s.rx_interval()), (ms(300), ms(1000)));
        let packet = s.poll_transmit(t0 + ms(300)).unwrap();
        assert!(packet.poll);
        assert_eq!((packet.desired_min_tx_us, packet.detect_mult), (500_000, 5));
        s.on_packet(&Packet { final_: true, required_min_rx_us: 10_000, ..from_peer(Up) }, t0 + ms(310)).unwrap();
        assert_eq!(s.tx_interval(), ms(500));
        // Down, a new config takes effect without a Poll.
        let mut down = session(t0);
        down.set_config(Config::new(ms(2000), 3));
        assert!(!down.polling());
        assert_eq!(down.poll_transmit(t0).unwrap().desired_min_tx_us, 2_000_000);
    }

    /// What `from` has to do and send at `now`, received by `to` at once.
    fn exchange(from: &mut Session, to: &mut Session, now: Instant, transitions: &mut Vec<Transition>) {
        transitions.extend(from.on_timeout(now));
        while let Some(packet) = from.poll_transmit(now) {
            // Decoded from its bytes, as the socket will.
            let packet = Packet::decode(&packet.encode()).unwrap();
            transitions.extend(to.on_packet(&packet, now).unwrap());
        }
    }

    #[test]
    fn two_sessions_come_up_stay_up_and_one_detects_the_others_silence() {
        let t0 = Instant::now();
        let mut source = Xorshift(99);
        let mut a = Session::new(Config::new(ms(100), 3), 1, Box::new(move || source.next()), t0);
        let mut source = Xorshift(100);
        let mut b = Session::new(Config::new(ms(50), 5), 2, Box::new(move || source.next()), t0 + ms(400));
        let mut now = t0;
        let mut transitions = Vec::new();
        let until = t0 + ms(30_000);
        while now < until {
            exchange(&mut a, &mut b, now, &mut transitions);
            exchange(&mut b, &mut a, now, &mut transitions);
            now = a.deadline().into_iter().chain(b.deadline()).min().unwrap().max(now);
        }
        assert_eq!((a.state(), b.state()), (Up, Up), "{transitions:?}");
        // One goes Down -> Init -> Up, the other Down -> Up (on the first's Init); no flap.
        assert_eq!(transitions.len(), 3, "{transitions:?}");
        assert!(transitions.iter().all(|t| t.to != Down), "{transitions:?}");
        assert_eq!((a.tx_interval(), b.tx_interval()), (ms(100), ms(100)));
        assert_eq!((a.detection_time(), b.detection_time()), (Some(ms(500)), Some(ms(300))));
        assert!(!a.polling() && !b.polling());
        // b falls silent: a detects it within 500 ms.
        let silent_from = now;
        let mut went_down = None;
        for _ in 0..1000 {
            if let Some(t) = a.on_timeout(now) {
                went_down = Some((t, now));
                break;
            }
            while a.poll_transmit(now).is_some() {}
            now = a.deadline().unwrap();
        }
        let (t, at) = went_down.unwrap();
        assert_eq!(t.diag, Diag::ControlDetectionTimeExpired);
        assert!(at - silent_from <= ms(500), "{:?}", at - silent_from);
    }
}
