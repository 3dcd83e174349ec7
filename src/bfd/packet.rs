//! The BFD control packet of RFC 5880 section 4.1, without authentication: [`Packet`] and its
//! 24 bytes ([`Packet::encode`]), and the bytes a peer sent back into a [`Packet`]
//! ([`Packet::decode`]) with the reception checks of RFC 5880 6.8.6 that need nothing but the
//! packet. Pure: bytes in, a packet or a typed [`DecodeError`] out; it never panics, on any
//! bytes (the fuzz target `bfd_packet` feeds it them).

use std::fmt;
use std::time::Duration;

/// The protocol version this codec speaks.
pub const VERSION: u8 = 1;
/// A control packet's length without an authentication section.
pub const LENGTH: usize = 24;
/// The shortest length a packet with the A bit may have (24 and the smallest section).
const LENGTH_WITH_AUTH: usize = 26;

/// A session's state, as the packet carries it (two bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    /// Every state, in wire order.
    pub const ALL: [State; 4] = [State::AdminDown, State::Down, State::Init, State::Up];

    /// The state in the low two bits of `bits`.
    pub fn from_bits(bits: u8) -> State {
        State::ALL[usize::from(bits & 0b11)]
    }

    /// The name operators see in logs, status and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            State::AdminDown => "admin-down",
            State::Down => "down",
            State::Init => "init",
            State::Up => "up",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The diagnostic code (five bits): why the sender's session last changed state (RFC 5880
/// 4.1). Codes 9 to 31 are reserved; a peer may still send them, and they are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Diag {
    None,
    ControlDetectionTimeExpired,
    EchoFunctionFailed,
    NeighborSignaledSessionDown,
    ForwardingPlaneReset,
    PathDown,
    ConcatenatedPathDown,
    AdministrativelyDown,
    ReverseConcatenatedPathDown,
    /// 9 to 31.
    Reserved(u8),
}

impl Diag {
    const NAMED: [Diag; 9] = [
        Diag::None,
        Diag::ControlDetectionTimeExpired,
        Diag::EchoFunctionFailed,
        Diag::NeighborSignaledSessionDown,
        Diag::ForwardingPlaneReset,
        Diag::PathDown,
        Diag::ConcatenatedPathDown,
        Diag::AdministrativelyDown,
        Diag::ReverseConcatenatedPathDown,
    ];

    /// The code in the low five bits of `bits`.
    pub fn from_bits(bits: u8) -> Diag {
        let code = bits & 0x1f;
        Diag::NAMED.get(usize::from(code)).copied().unwrap_or(Diag::Reserved(code))
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Diag::Reserved(code) => code & 0x1f,
            named => Diag::NAMED.iter().position(|d| *d == named).map_or(0, |at| at as u8),
        }
    }

    /// The RFC's words for it, lowercase, for logs and status.
    pub fn name(self) -> &'static str {
        match self {
            Diag::None => "no diagnostic",
            Diag::ControlDetectionTimeExpired => "control detection time expired",
            Diag::EchoFunctionFailed => "echo function failed",
            Diag::NeighborSignaledSessionDown => "neighbor signaled session down",
            Diag::ForwardingPlaneReset => "forwarding plane reset",
            Diag::PathDown => "path down",
            Diag::ConcatenatedPathDown => "concatenated path down",
            Diag::AdministrativelyDown => "administratively down",
            Diag::ReverseConcatenatedPathDown => "reverse concatenated path down",
            Diag::Reserved(_) => "reserved",
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diag::Reserved(code) => write!(f, "reserved diagnostic {code}"),
            named => f.write_str(named.name()),
        }
    }
}

/// One control packet. The intervals are in microseconds, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    pub diag: Diag,
    pub state: State,
    /// P: the sender asks for a Final.
    pub poll: bool,
    /// F: the answer to a Poll.
    pub final_: bool,
    /// C: the sender's BFD does not share fate with its control plane.
    pub control_plane_independent: bool,
    /// A: an authentication section follows (never sent; refused when received).
    pub authentication: bool,
    /// D: the sender wishes to run Demand mode.
    pub demand: bool,
    /// M: reserved for multipoint; always clear.
    pub multipoint: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
    pub required_min_echo_rx_us: u32,
}

/// Why received bytes are not a packet this codec accepts (RFC 5880 6.8.6, the checks that
/// need nothing but the packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// Fewer bytes than the Length field says, or too few to hold one.
    Truncated { length: usize, received: usize },
    /// A version other than 1.
    Version(u8),
    /// A Length below 24, or below 26 with the A bit.
    Length(u8),
    /// Detect Mult zero.
    DetectMultZero,
    /// The M bit set.
    Multipoint,
    /// My Discriminator zero.
    MyDiscriminatorZero,
    /// Your Discriminator zero in a packet whose state is neither Down nor AdminDown.
    YourDiscriminatorZero(State),
    /// The A bit: authentication is not supported.
    Authentication,
}

impl DecodeError {
    /// A short name for the reason, as a metrics label (`bfd_dropped_total{reason}`).
    pub fn reason(self) -> &'static str {
        match self {
            DecodeError::Truncated { .. } => "truncated",
            DecodeError::Version(_) => "version",
            DecodeError::Length(_) => "length",
            DecodeError::DetectMultZero => "detect_mult_zero",
            DecodeError::Multipoint => "multipoint",
            DecodeError::MyDiscriminatorZero => "my_discriminator_zero",
            DecodeError::YourDiscriminatorZero(_) => "your_discriminator_zero",
            DecodeError::Authentication => "authentication",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { length, received } => {
                write!(f, "truncated packet: {received} bytes received, {length} expected")
            }
            DecodeError::Version(version) => write!(f, "unsupported version {version}"),
            DecodeError::Length(length) => write!(f, "invalid length {length}"),
            DecodeError::DetectMultZero => f.write_str("detect multiplier is zero"),
            DecodeError::Multipoint => f.write_str("multipoint bit set"),
            DecodeError::MyDiscriminatorZero => f.write_str("my discriminator is zero"),
            DecodeError::YourDiscriminatorZero(state) => {
                write!(f, "your discriminator is zero in state {state}")
            }
            DecodeError::Authentication => f.write_str("authentication not supported"),
        }
    }
}

impl std::error::Error for DecodeError {}

// The flag bits of the second byte.
const POLL: u8 = 0x20;
const FINAL: u8 = 0x10;
const CPI: u8 = 0x08;
const AUTH: u8 = 0x04;
const DEMAND: u8 = 0x02;
const MULTIPOINT: u8 = 0x01;

impl Packet {
    /// The packet's 24 bytes (Length 24: no authentication section, whatever the A bit says).
    pub fn encode(&self) -> [u8; LENGTH] {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        let mut bytes = [0u8; LENGTH];
        bytes[0] = VERSION << 5 | self.diag.code();
        bytes[1] = (self.state as u8) << 6
            | flag(self.poll, POLL)
            | flag(self.final_, FINAL)
            | flag(self.control_plane_independent, CPI)
            | flag(self.authentication, AUTH)
            | flag(self.demand, DEMAND)
            | flag(self.multipoint, MULTIPOINT);
        bytes[2] = self.detect_mult;
        bytes[3] = LENGTH as u8;
        let words = [
            self.my_discriminator,
            self.your_discriminator,
            self.desired_min_tx_us,
            self.required_min_rx_us,
            self.required_min_echo_rx_us,
        ];
        for (at, word) in words.iter().enumerate() {
            bytes[4 + 4 * at..8 + 4 * at].copy_from_slice(&word.to_be_bytes());
        }
        bytes
    }

    /// The packet in `payload` (a UDP datagram's payload), checked as RFC 5880 6.8.6 says, in
    /// its order. Bytes past the Length field are ignored.
    pub fn decode(payload: &[u8]) -> Result<Packet, DecodeError> {
        let [first, flags, detect_mult, length, ..] = *payload else {
            return Err(DecodeError::Truncated { length: LENGTH, received: payload.len() });
        };
        if first >> 5 != VERSION {
            return Err(DecodeError::Version(first >> 5));
        }
        let authentication = flags & AUTH != 0;
        let least = if authentication { LENGTH_WITH_AUTH } else { LENGTH };
        if usize::from(length) < least {
            return Err(DecodeError::Length(length));
        }
        if usize::from(length) > payload.len() {
            return Err(DecodeError::Truncated { length: usize::from(length), received: payload.len() });
        }
        let word = |at: usize| u32::from_be_bytes([payload[at], payload[at + 1], payload[at + 2], payload[at + 3]]);
        let packet = Packet {
            diag: Diag::from_bits(first),
            state: State::from_bits(flags >> 6),
            poll: flags & POLL != 0,
            final_: flags & FINAL != 0,
            control_plane_independent: flags & CPI != 0,
            authentication,
            demand: flags & DEMAND != 0,
            multipoint: flags & MULTIPOINT != 0,
            detect_mult,
            my_discriminator: word(4),
            your_discriminator: word(8),
            desired_min_tx_us: word(12),
            required_min_rx_us: word(16),
            required_min_echo_rx_us: word(20),
        };
        if packet.detect_mult == 0 {
            return Err(DecodeError::DetectMultZero);
        }
        if packet.multipoint {
            return Err(DecodeError::Multipoint);
        }
        if packet.my_discriminator == 0 {
            return Err(DecodeError::MyDiscriminatorZero);
        }
        if packet.your_discriminator == 0 && !matches!(packet.state, State::Down | State::AdminDown) {
            return Err(DecodeError::YourDiscriminatorZero(packet.state));
        }
        if packet.authentication {
            return Err(DecodeError::Authentication);
        }
        Ok(packet)
    }

    /// Desired Min TX Interval.
    pub fn desired_min_tx(&self) -> Duration {
        Duration::from_micros(u64::from(self.desired_min_tx_us))
    }

    /// Required Min RX Interval.
    pub fn required_min_rx(&self) -> Duration {
        Duration::from_micros(u64::from(self.required_min_rx_us))
    }
}

/// `duration` in whole microseconds as a packet carries it (saturating at `u32::MAX`, 71 min).
pub fn micros(duration: Duration) -> u32 {
    u32::try_from(duration.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Up packet with every field distinct, and its bytes.
    fn sample() -> (Packet, [u8; 24]) {
        let packet = Packet {
            diag: Diag::None,
            state: State::Up,
            poll: false,
            final_: false,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            my_discriminator: 0x0102_0304,
            your_discriminator: 0xa0b0_c0d0,
            desired_min_tx_us: 300_000,
            required_min_rx_us: 100_000,
            required_min_echo_rx_us: 0,
        };
        #[rustfmt::skip]
        let bytes = [
            0x20, 0xc0, 0x03, 0x18,
            0x01, 0x02, 0x03, 0x04,
            0xa0, 0xb0, 0xc0, 0xd0,
            0x00, 0x04, 0x93, 0xe0,
            0x00, 0x01, 0x86, 0xa0,
            0x00, 0x00, 0x00, 0x00,
        ];
        (packet, bytes)
    }

    #[test]
    fn an_up_packet_encodes_to_its_golden_bytes_and_back() {
        let (packet, bytes) = sample();
        assert_eq!(packet.encode(), bytes);
        assert_eq!(Packet::decode(&bytes), Ok(packet));
        assert_eq!(packet.desired_min_tx(), Duration::from_millis(300));
        assert_eq!(packet.required_min_rx(), Duration::from_millis(100));
    }

    #[test]
    fn a_first_down_packet_as_a_speaker_sends_it() {
        // Down, no diagnostic, 1 s both ways, multiplier 3, the peer's discriminator unknown.
        let packet = Packet {
            state: State::Down,
            my_discriminator: 7,
            your_discriminator: 0,
            desired_min_tx_us: 1_000_000,
            required_min_rx_us: 1_000_000,
            ..sample().0
        };
        #[rustfmt::skip]
        let golden = [
            0x20, 0x40, 0x03, 0x18,
            0x00, 0x00, 0x00, 0x07,
            0x00, 0x00, 0x00, 0x00,
            0x00, 0x0f, 0x42, 0x40,
            0x00, 0x0f, 0x42, 0x40,
            0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(packet.encode(), golden);
        assert_eq!(Packet::decode(&golden), Ok(packet));
    }

    #[test]
    fn each_flag_has_its_bit() {
        let (base, _) = sample();
        type Set = fn(&mut Packet);
        let cases: [(Set, u8); 6] = [
            (|p| p.poll = true, 0x20),
            (|p| p.final_ = true, 0x10),
            (|p| p.control_plane_independent = true, 0x08),
            (|p| p.authentication = true, 0x04),
            (|p| p.demand = true, 0x02),
            (|p| p.multipoint = true, 0x01),
        ];
        for (set, bit) in cases {
            let mut packet = base;
            set(&mut packet);
            assert_eq!(packet.encode()[1], 0xc0 | bit, "{packet:?}");
        }
        let admin_down = Packet { state: State::AdminDown, diag: Diag::AdministrativelyDown, ..base };
        assert_eq!(admin_down.encode()[..2], [0x27, 0x00]);
        let init_final = Packet { state: State::Init, final_: true, ..base };
        assert_eq!(init_final.encode()[1], 0x90);
    }

    #[test]
    fn diagnostics_have_their_codes_and_reserved_ones_are_kept() {
        for code in 0..32u8 {
            let diag = Diag::from_bits(code);
            assert_eq!(diag.code(), code);
            assert_eq!(matches!(diag, Diag::Reserved(_)), code >= 9, "{code}");
            assert!(!diag.to_string().is_empty());
        }
        assert_eq!(Diag::from_bits(1), Diag::ControlDetectionTimeExpired);
        assert_eq!(Diag::from_bits(3), Diag::NeighborSignaledSessionDown);
        assert_eq!(Diag::from_bits(7), Diag::AdministrativelyDown);
        assert_eq!(Diag::from_bits(0xe7), Diag::AdministrativelyDown);
        assert_eq!(Diag::Reserved(12).to_string(), "reserved diagnostic 12");
        assert_eq!(Diag::ControlDetectionTimeExpired.to_string(), "control detection time expired");
    }

    #[test]
    fn states_by_their_bits() {
        assert_eq!(State::ALL.map(|s| s as u8), [0, 1, 2, 3]);
        assert_eq!(State::ALL.map(State::name), ["admin-down", "down", "init", "up"]);
        assert_eq!(State::from_bits(0b111), State::Up);
    }

    /// `bytes` with `edit` applied.
    fn edited(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut bytes = sample().1.to_vec();
        edit(&mut bytes);
        bytes
    }

    #[test]
    fn each_reception_check_of_6_8_6_has_its_error() {
        let cases: Vec<(Vec<u8>, DecodeError)> = vec![
            (vec![], DecodeError::Truncated { length: 24, received: 0 }),
            (vec![0x20, 0xc0, 3], DecodeError::Truncated { length: 24, received: 3 }),
            (edited(|b| b[0] = 0x00), DecodeError::Version(0)),
            (edited(|b| b[0] = 0x40), DecodeError::Version(2)),
            (edited(|b| b[0] = 0xe0), DecodeError::Version(7)),
            (edited(|b| b[3] = 23), DecodeError::Length(23)),
            (edited(|b| b[3] = 0), DecodeError::Length(0)),
            (edited(|b| b[3] = 25), DecodeError::Truncated { length: 25, received: 24 }),
            (edited(|b| b[3] = 255), DecodeError::Truncated { length: 255, received: 24 }),
            (edited(|b| b.truncate(23)), DecodeError::Truncated { length: 24, received: 23 }),
            (edited(|b| b[2] = 0), DecodeError::DetectMultZero),
            (edited(|b| b[1] |= 0x01), DecodeError::Multipoint),
            (edited(|b| b[4..8].fill(0)), DecodeError::MyDiscriminatorZero),
            (edited(|b| b[8..12].fill(0)), DecodeError::YourDiscriminatorZero(State::Up)),
            (
                edited(|b| {
                    b[1] = 0x80;
                    b[8..12].fill(0)
                }),
                DecodeError::YourDiscriminatorZero(State::Init),
            ),
            // With the A bit the least length is 26; with it, the packet is refused all the same.
            (edited(|b| b[1] |= 0x04), DecodeError::Length(24)),
            (
                edited(|b| {
                    b[1] |= 0x04;
                    b[3] = 25;
                }),
                DecodeError::Length(25),
            ),
            (
                edited(|b| {
                    b[1] |= 0x04;
                    b[3] = 26;
                }),
                DecodeError::Truncated { length: 26, received: 24 },
            ),
            (
                edited(|b| {
                    b[1] |= 0x04;
                    b[3] = 28;
                    b.extend([1, 4, 1, 0]);
                }),
                DecodeError::Authentication,
            ),
        ];
        for (bytes, error) in cases {
            assert_eq!(Packet::decode(&bytes), Err(error), "{bytes:02x?}");
        }
    }

    #[test]
    fn checks_come_in_the_rfcs_order() {
        // Version before length, length before the fields, detect mult before multipoint,
        // multipoint before the discriminators, and the A bit last.
        let all_wrong = edited(|b| {
            b[0] = 0x40;
            b[3] = 2;
        });
        assert_eq!(Packet::decode(&all_wrong), Err(DecodeError::Version(2)));
        let bad_fields = edited(|b| {
            b[1] |= 0x05;
            b[2] = 0;
            b[3] = 28;
            b[4..12].fill(0);
            b.extend([0; 4]);
        });
        assert_eq!(Packet::decode(&bad_fields), Err(DecodeError::DetectMultZero));
        let multipoint = edited(|b| {
            b[1] |= 0x05;
            b[3] = 28;
            b[4..12].fill(0);
            b.extend([0; 4]);
        });
        assert_eq!(Packet::decode(&multipoint), Err(DecodeError::Multipoint));
        let discriminators = edited(|b| {
            b[1] |= 0x04;
            b[3] = 28;
            b[4..12].fill(0);
            b.extend([0; 4]);
        });
        assert_eq!(Packet::decode(&discriminators), Err(DecodeError::MyDiscriminatorZero));
    }

    #[test]
    fn your_discriminator_may_be_zero_while_down_or_admin_down() {
        for (state, ok) in [(State::AdminDown, true), (State::Down, true), (State::Init, false), (State::Up, false)] {
            let packet = Packet { state, your_discriminator: 0, ..sample().0 };
            assert_eq!(Packet::decode(&packet.encode()).is_ok(), ok, "{state}");
        }
    }

    #[test]
    fn bytes_past_the_length_are_ignored() {
        let (packet, bytes) = sample();
        let mut longer = bytes.to_vec();
        longer.extend([0xff; 40]);
        assert_eq!(Packet::decode(&longer), Ok(packet));
        // A Length over 24 without the A bit: the extra bytes are inside the packet, and ignored.
        longer[3] = 64;
        assert_eq!(Packet::decode(&longer), Ok(packet));
    }

    #[test]
    fn reasons_and_messages() {
        let all = [
            DecodeError::Truncated { length: 24, received: 3 },
            DecodeError::Version(2),
            DecodeError::Length(20),
            DecodeError::DetectMultZero,
            DecodeError::Multipoint,
            DecodeError::MyDiscriminatorZero,
            DecodeError::YourDiscriminatorZero(State::Up),
            DecodeError::Authentication,
        ];
        let reasons: std::collections::HashSet<&str> = all.iter().map(|e| e.reason()).collect();
        assert_eq!(reasons.len(), all.len());
        assert!(reasons.iter().all(|r| r.bytes().all(|c| c.is_ascii_lowercase() || c == b'_')));
        assert_eq!(DecodeError::Authentication.to_string(), "authentication not supported");
        assert_eq!(
            DecodeError::Truncated { length: 24, received: 3 }.to_string(),
            "truncated packet: 3 bytes received, 24 expected"
        );
        assert_eq!(DecodeError::YourDiscriminatorZero(State::Up).to_string(), "your discriminator is zero in state up");
    }

    #[test]
    fn micros_saturate() {
        assert_eq!(micros(Duration::from_millis(300)), 300_000);
        assert_eq!(micros(Duration::from_nanos(1999)), 1);
        assert_eq!(micros(Duration::from_secs(5000)), u32::MAX);
    }

    /// A small deterministic generator (xorshift64*), for the property tests.
    pub(crate) struct Xorshift(pub u64);

    impl Xorshift {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn every_valid_packet_round_trips() {
        let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let r = random.next();
            let bits = |at: u32| r >> at & 1 == 1;
            let state = State::from_bits(r as u8);
            let mut your_discriminator = random.next() as u32;
            if bits(60) && matches!(state, State::Down | State::AdminDown) {
                your_discriminator = 0;
            }
            let packet = Packet {
                diag: Diag::from_bits((r >> 2) as u8),
                state,
                poll: bits(8),
                final_: bits(9),
                control_plane_independent: bits(10),
                authentication: false,
                demand: bits(11),
                multipoint: false,
                detect_mult: ((r >> 16) as u8).max(1),
                my_discriminator: (random.next() as u32).max(1),
                your_discriminator: your_discriminator.max(u32::from(!matches!(state, State::Down | State::AdminDown))),
                desired_min_tx_us: random.next() as u32,
                required_min_rx_us: random.next() as u32,
                required_min_echo_rx_us: random.next() as u32,
            };
            let bytes = packet.encode();
            assert_eq!(Packet::decode(&bytes), Ok(packet), "{bytes:02x?}");
        }
    }

    #[test]
    fn any_bytes_decode_without_panic_and_what_decodes_encodes_back() {
        let mut random = Xorshift(42);
        for round in 0..50_000 {
            let len = (random.next() % 40) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| random.next() as u8).collect();
            if round % 2 == 0 && len >= 4 {
                // Mostly plausible headers, so that the later checks are reached.
                bytes[0] = 0x20 | bytes[0] & 0x1f;
                bytes[1] &= !0x05;
                bytes[3] = 24;
            }
            if let Ok(packet) = Packet::decode(&bytes) {
                let encoded = packet.encode();
                assert_eq!((&encoded[..3], &encoded[4..]), (&bytes[..3], &bytes[4..24]), "{bytes:02x?}");
            }
        }
    }
}
