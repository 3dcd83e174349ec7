//! The NTP check's judgement of a reply (`probe::ntp::wire::Query::judge`) on any bytes: it
//! never panics, and it never calls healthy what is not a synchronised server's reply to our
//! query within the limits. Each input is judged twice: as it is (the query's transmit
//! timestamp taken from its originate field, so that it matches), and with the originate field
//! set to another query's (never healthy). The first byte picks the limits.

use exabgp_healthcheck::probe::ntp::wire::{Judgement, Limits, Query, Timestamp, LENGTH};
use std::time::Duration;

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let Some((&pick, data)) = data.split_first() else { return };
    let limits = Limits {
        max_stratum: 1 + pick % 15,
        max_offset: (pick & 0x80 != 0).then(|| Duration::from_millis(u64::from(pick & 0x7f) * 10)),
    };
    let originate = data.get(24..32).map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")));
    // A query whose transmit timestamp is the input's originate: its random bits are the low 20.
    let query = Query::new(Timestamp(originate), originate);
    assert_eq!(query.transmit(), Timestamp(originate));
    let received = data.get(32..40).map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")));
    for received in [Timestamp(received), Timestamp(originate.wrapping_add(1 << 30))] {
        let judged = check(&query, data, received, &limits);
        let other = Query::new(Timestamp(originate ^ (1 << 40)), originate);
        let ignored = check(&other, data, received, &limits);
        assert!(matches!(ignored, Judgement::Ignored(_)), "another query's reply: {ignored:?}");
        if data.len() >= LENGTH && data[0] & 7 == 4 {
            assert!(!matches!(judged, Judgement::Ignored(_)), "a server's reply to our query is judged");
        }
    }
}

fn check(query: &Query, reply: &[u8], received: Timestamp, limits: &Limits) -> Judgement {
    let judged = query.judge(reply, received, limits);
    assert_eq!(judged, query.judge(reply, received, limits), "the same bytes, the same judgement");
    match &judged {
        Judgement::Healthy { stratum, offset, delay } => {
            assert!(reply.len() >= LENGTH);
            assert_eq!(reply[0] & 7, 4, "mode 4");
            assert_ne!(reply[0] >> 6, 3, "synchronised");
            assert!((1..=limits.max_stratum).contains(stratum) && reply[1] == *stratum);
            assert_eq!(reply[24..32], query.transmit().0.to_be_bytes(), "our originate");
            assert!(reply[40..48].iter().any(|b| *b != 0), "a transmit timestamp");
            assert!(offset.is_finite() && delay.is_finite() && *delay >= 0.0);
            if let Some(max) = limits.max_offset {
                assert!(offset.abs() <= max.as_secs_f64());
            }
        }
        Judgement::Ignored(why) | Judgement::Unhealthy(why) => {
            assert!(!why.is_empty() && !why.contains('\n'), "{why:?}");
        }
    }
    judged
}
