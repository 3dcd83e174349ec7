//! A BFD control packet (`bfd::packet::Packet::decode`) on any bytes, as a peer or anyone else
//! on the network may send to port 3784: it never panics; what decodes passes every check of
//! RFC 5880 6.8.6 that is the packet's own and encodes back to the same 24 bytes (but the
//! Length, always 24 when we write it); and a session in each state that is handed it (and
//! then asked for its packets and its timeouts) never panics either, and keeps its own
//! discriminator in what it sends.

use exabgp_healthcheck::bfd::packet::{Packet, State};
use exabgp_healthcheck::bfd::session::{Config, Session};
use std::time::{Duration, Instant};

const MINE: u32 = 0x5eed;

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let Ok(packet) = Packet::decode(data) else { return };
    assert!(packet.detect_mult != 0 && !packet.multipoint && !packet.authentication);
    assert!(packet.my_discriminator != 0);
    assert!(packet.your_discriminator != 0 || matches!(packet.state, State::Down | State::AdminDown));
    let encoded = packet.encode();
    assert_eq!((&encoded[..3], &encoded[4..]), (&data[..3], &data[4..24]));

    let t0 = Instant::now();
    for setup in State::ALL {
        let mut session = Session::new(Config::new(Duration::from_millis(50), 3), MINE, Box::new(|| 7), t0);
        let mut known = Packet { my_discriminator: 1, your_discriminator: MINE, ..packet };
        match setup {
            State::AdminDown => drop(session.shutdown(t0)),
            State::Down => {}
            State::Init => known.state = State::Down,
            State::Up => known.state = State::Init,
        }
        if matches!(setup, State::Init | State::Up) {
            let _ = session.on_packet(&known, t0);
        }
        let now = t0 + Duration::from_millis(1);
        let _ = session.on_packet(&packet, now);
        for step in 0..8u64 {
            let at = session.deadline().map_or(now, |at| at.max(now)) + Duration::from_micros(step);
            let _ = session.on_timeout(at);
            while let Some(sent) = session.poll_transmit(at) {
                assert_eq!(sent.my_discriminator, MINE);
                assert!(!(sent.poll && sent.final_));
                assert_eq!(Packet::decode(&sent.encode()).map(|p| p.my_discriminator), Ok(MINE));
            }
        }
    }
}
