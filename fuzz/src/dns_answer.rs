//! The DNS check's judgement of an answer (`probe::dns::wire::Query::judge`) on any bytes: it
//! never panics, and it never calls healthy what is not a NOERROR response with our id. Each
//! input is judged twice: as it is (the query's id taken from its first two bytes, so that it
//! matches), and after our own question (the header's counts and everything after them taken
//! from the input), so that the fuzzer reaches the answer records at once.

use exabgp_healthcheck::probe::dns::wire::{Judgement, Query, RecordType};
use std::net::{IpAddr, Ipv4Addr};

const TYPES: [RecordType; 4] = [RecordType::A, RecordType::AAAA, RecordType::MX, RecordType::TXT];

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let Some((&pick, data)) = data.split_first() else { return };
    let rtype = TYPES[usize::from(pick) % TYPES.len()];
    let expect = (pick & 0x80 != 0).then_some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let id = match data {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0,
    };
    let query = Query::new(id, "example.com", rtype).expect("a valid name");
    check(&query, data, expect);
    // Our header and question, the input's flags, counts and records.
    let mut message = query.bytes().to_vec();
    message[2] |= 0x80;
    for (at, byte) in data.iter().take(10).enumerate() {
        message[2 + at] = if at == 0 { byte | 0x80 } else { *byte };
    }
    message.extend_from_slice(data.get(10..).unwrap_or_default());
    check(&query, &message, expect);
}

fn check(query: &Query, message: &[u8], expect: Option<IpAddr>) {
    for over_tcp in [false, true] {
        let judged = query.judge(message, expect, over_tcp);
        assert_eq!(judged, query.judge(message, expect, over_tcp), "the same bytes, the same judgement");
        if let Judgement::Healthy { records } = judged {
            assert!(records > 0);
            assert_eq!(u16::from_be_bytes([message[0], message[1]]), query.id());
            assert!(message[2] & 0x80 != 0, "a response");
            assert_eq!(message[3] & 0x0f, 0, "NOERROR");
            assert!(over_tcp || message[2] & 0x02 == 0, "not truncated over UDP");
        }
        if let Judgement::Ignored(why) | Judgement::Unhealthy(why) = &judged {
            assert!(!why.is_empty() && !why.contains('\n'), "{why:?}");
        }
    }
}
