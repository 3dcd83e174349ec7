//! The NTP check's messages (RFC 4330, SNTPv4): the client's query built, the server's reply
//! judged. Pure: bytes and timestamps in, bytes or a [`Judgement`] out; the socket and the
//! clocks are [`super`]'s.
//!
//! The query is 48 bytes: leap indicator 0, version 4, mode 3 (client), everything zero but
//! the transmit timestamp, which the server copies into its reply's originate timestamp. Ours
//! is the time of sending with its low 20 bits of fraction (under 0.25 ms) random, so that a
//! reply cannot be forged without having seen the query; the offset is computed from the exact
//! time of sending, kept apart.
//!
//! A reply is ours when it is at least 48 bytes, in mode 4 (server) and echoes our transmit
//! timestamp; anything else is [`Judgement::Ignored`] (the check waits on for its own). Ours is
//! healthy when its leap indicator is not 3 (not synchronised), its version 3 or 4, its stratum
//! 1 to 15 (0 is a kiss-o'-death, whose code is said) and at most `#max-stratum`, its transmit
//! timestamp not zero, and the clock offset, computed the SNTP way
//! (`((T2 - T1) + (T3 - T4)) / 2`), at most `#max-offset` either way.

use std::fmt;
use std::time::Duration;

/// The length of a message without extension fields or a MAC (all we send, the least we read).
pub const LENGTH: usize = 48;

/// Seconds from NTP's epoch (1900-01-01) to Unix's (1970-01-01).
const UNIX_FROM_NTP: u64 = 2_208_988_800;

/// The bits of our transmit timestamp's fraction made random (2^-12 s and below).
const RANDOM_BITS: u64 = (1 << 20) - 1;

/// An NTP timestamp: seconds since 1900 (modulo 2^32, the era left out) in the high 32 bits,
/// the fraction of a second in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The time `since_unix` after 1970-01-01 00:00 UTC.
    pub fn from_unix(since_unix: Duration) -> Timestamp {
        let seconds = (since_unix.as_secs() + UNIX_FROM_NTP) & 0xffff_ffff;
        let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        Timestamp((seconds << 32) | fraction)
    }

    /// `self - earlier` in seconds, the two taken within 68 years of each other (so that the
    /// era's rollover in 2036 changes nothing).
    fn minus(self, earlier: Timestamp) -> f64 {
        self.0.wrapping_sub(earlier.0) as i64 as f64 / 4_294_967_296.0
    }
}

/// What a reply must be besides synchronised: `#max-stratum` and `#max-offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// 1 to 15; 15 unless the URL says otherwise.
    pub max_stratum: u8,
    /// The largest offset either way; `None`: any.
    pub max_offset: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_stratum: 15, max_offset: None }
    }
}

/// A query, and the transmit timestamp its reply must echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    bytes: [u8; LENGTH],
    /// The exact time of sending (`T1`).
    sent: Timestamp,
}

/// What a reply says.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Not a reply to this query (too short, not from a server, another query's): why.
    Ignored(String),
    /// Healthy: the server's stratum, the clock offset and the round-trip delay, in seconds.
    Healthy { stratum: u8, offset: f64, delay: f64 },
    /// Unhealthy: why.
    Unhealthy(String),
}

impl Query {
    /// A query sent at `sent` (the exact time, `T1`); `random`'s low bits go in its transmit
    /// timestamp's lowest bits.
    pub fn new(sent: Timestamp, random: u64) -> Query {
        let mut bytes = [0u8; LENGTH];
        // Leap indicator 0, version 4, mode 3 (client).
        bytes[0] = 4 << 3 | 3;
        let transmit = (sent.0 & !RANDOM_BITS) | (random & RANDOM_BITS);
        bytes[40..48].copy_from_slice(&transmit.to_be_bytes());
        Query { bytes, sent }
    }

    /// The bytes to send.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The transmit timestamp the reply's originate must echo.
    pub fn transmit(&self) -> Timestamp {
        Timestamp(u64::from_be_bytes(self.bytes[40..48].try_into().expect("8 bytes")))
    }

    /// Judge `reply`, received at `received` (`T4`, on the clock that said `T1`), against
    /// `limits`.
    pub fn judge(&self, reply: &[u8], received: Timestamp, limits: &Limits) -> Judgement {
        let Some(reply) = reply.get(..LENGTH) else {
            return Judgement::Ignored(format!("too short for NTP ({} bytes)", reply.len()));
        };
        let field = |at: usize| Timestamp(u64::from_be_bytes(reply[at..at + 8].try_into().expect("8 bytes")));
        let (leap, version, mode) = (reply[0] >> 6, (reply[0] >> 3) & 7, reply[0] & 7);
        if mode != 4 {
            return Judgement::Ignored(format!("not a server's reply (mode {mode})"));
        }
        if field(24) != self.transmit() {
            return Judgement::Ignored("not the reply to our query (its originate timestamp is not ours)".to_owned());
        }
        let stratum = reply[1];
        if stratum == 0 {
            return Judgement::Unhealthy(format!("kiss-o'-death {}", Kiss(&reply[12..16])));
        }
        if leap == 3 {
            return Judgement::Unhealthy("not synchronised (leap indicator 3)".to_owned());
        }
        if !(3..=4).contains(&version) {
            return Judgement::Unhealthy(format!("NTP version {version} in the reply"));
        }
        if stratum == 16 {
            return Judgement::Unhealthy("stratum 16 (not synchronised)".to_owned());
        }
        if stratum > 16 {
            return Judgement::Unhealthy(format!("stratum {stratum} (reserved)"));
        }
        let (t2, t3) = (field(32), field(40));
        if t3.0 == 0 {
            return Judgement::Unhealthy("transmit timestamp is zero".to_owned());
        }
        if stratum > limits.max_stratum {
            return Judgement::Unhealthy(format!("stratum {stratum}, above #max-stratum={}", limits.max_stratum));
        }
        let t1 = self.sent;
        let offset = (t2.minus(t1) + t3.minus(received)) / 2.0;
        let delay = (received.minus(t1) - t3.minus(t2)).max(0.0);
        if let Some(max) = limits.max_offset {
            if offset.abs() > max.as_secs_f64() {
                return Judgement::Unhealthy(format!(
                    "offset {}, beyond #max-offset={}",
                    Seconds(offset),
                    humantime::format_duration(max)
                ));
            }
        }
        Judgement::Healthy { stratum, offset, delay }
    }
}

/// A kiss-o'-death's code (the reference identifier's 4 ASCII characters), as printed.
struct Kiss<'a>(&'a [u8]);

impl fmt::Display for Kiss<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut code = self.0.iter().take_while(|b| **b != 0);
        if self.0.first().is_some_and(|b| *b != 0) && code.clone().all(u8::is_ascii_alphanumeric) {
            code.try_for_each(|b| fmt::Write::write_char(f, char::from(*b)))
        } else {
            write!(f, "(code 0x{})", self.0.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
    }
}

/// Seconds, signed, said in milliseconds (`+1.250 ms`, `-2003.000 ms`).
pub struct Seconds(pub f64);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+.3} ms", self.0 * 1000.0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 2026-12-07 05:00:00 UTC and a half.
    pub(crate) const NOW: Duration = Duration::from_millis(1_796_619_600_500);

    /// A server's reply to `query`: leap `leap`, version 4, stratum `stratum`, received and
    /// sent `receive` and `transmit` (Unix times).
    pub(crate) fn reply(query: &[u8], leap: u8, stratum: u8, receive: Duration, transmit: Duration) -> Vec<u8> {
        let mut bytes = vec![0u8; LENGTH];
        bytes[0] = leap << 6 | 4 << 3 | 4;
        bytes[1] = stratum;
        bytes[2] = 6;
        bytes[3] = 0xe9;
        bytes[12..16].copy_from_slice(b"LOCL");
        bytes[24..32].copy_from_slice(&query[40..48]);
        bytes[32..40].copy_from_slice(&Timestamp::from_unix(receive).0.to_be_bytes());
        bytes[40..48].copy_from_slice(&Timestamp::from_unix(transmit).0.to_be_bytes());
        bytes
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn query() -> Query {
        Query::new(Timestamp::from_unix(NOW), 0xdead_beef)
    }

    #[test]
    fn the_query_is_a_version_4_client_message_with_our_transmit_timestamp() {
        let query = query();
        let bytes = query.bytes();
        assert_eq!(bytes.len(), 48);
        assert_eq!(bytes[0], 0x23, "LI 0, VN 4, mode 3");
        assert!(bytes[1..40].iter().all(|b| *b == 0));
        let sent = Timestamp::from_unix(NOW);
        assert_eq!(sent.0 >> 32, 1_796_619_600 + 2_208_988_800);
        assert_eq!(query.transmit().0 & !RANDOM_BITS, sent.0 & !RANDOM_BITS);
        assert_eq!(query.transmit().0 & RANDOM_BITS, 0xdead_beef & RANDOM_BITS);
        assert_ne!(Query::new(sent, 1).transmit(), Query::new(sent, 2).transmit());
        // Half a second is half of 2^32.
        assert_eq!(Timestamp::from_unix(ms(500)).0 & 0xffff_ffff, 1 << 31);
    }

    #[test]
    fn a_synchronised_reply_is_healthy_with_the_offset_and_delay_computed_the_sntp_way() {
        let query = query();
        // The server's clock 100 ms ahead; 10 ms each way, 2 ms in the server.
        let reply = reply(query.bytes(), 0, 2, NOW + ms(110), NOW + ms(112));
        let judged = query.judge(&reply, Timestamp::from_unix(NOW + ms(22)), &Limits::default());
        let Judgement::Healthy { stratum, offset, delay } = judged else { panic!("{judged:?}") };
        assert_eq!(stratum, 2);
        assert!((offset - 0.100).abs() < 1e-6, "{offset}");
        assert!((delay - 0.020).abs() < 1e-6, "{delay}");
        // Behind, and a leap second announced (LI 1): still healthy.
        let reply = super::tests::reply(query.bytes(), 1, 15, NOW - ms(290), NOW - ms(290));
        let judged = query.judge(&reply, Timestamp::from_unix(NOW + ms(20)), &Limits::default());
        let Judgement::Healthy { offset, .. } = judged else { panic!("{judged:?}") };
        assert!((offset + 0.300).abs() < 1e-6, "{offset}");
    }

    #[test]
    fn the_offset_survives_the_era_rollover_of_2036() {
        let before = Duration::from_secs(2_085_978_496 - 1); // 2036-02-07 06:28:15 UTC
        let query = Query::new(Timestamp::from_unix(before), 0);
        let reply = reply(query.bytes(), 0, 1, before + ms(1001), before + ms(1001));
        let judged = query.judge(&reply, Timestamp::from_unix(before + ms(2)), &Limits::default());
        let Judgement::Healthy { offset, .. } = judged else { panic!("{judged:?}") };
        assert!((offset - 1.0).abs() < 1e-6, "{offset}");
    }

    #[test]
    fn replies_not_to_this_query_are_ignored() {
        let query = query();
        let at = Timestamp::from_unix(NOW + ms(2));
        let good = reply(query.bytes(), 0, 2, NOW + ms(1), NOW + ms(1));
        let limits = Limits::default();
        assert_eq!(query.judge(&good[..47], at, &limits), Judgement::Ignored("too short for NTP (47 bytes)".into()));
        let mut client = good.clone();
        client[0] = 0x23;
        assert_eq!(query.judge(&client, at, &limits), Judgement::Ignored("not a server's reply (mode 3)".into()));
        let mut other = good.clone();
        other[31] ^= 1;
        assert!(matches!(query.judge(&other, at, &limits), Judgement::Ignored(why) if why.contains("originate")));
        // Another query's, one random bit apart.
        let again = Query::new(Timestamp::from_unix(NOW), 0xdead_beef ^ 0x80000);
        assert!(matches!(again.judge(&good, at, &limits), Judgement::Ignored(_)));
        // Extension fields or a MAC after the 48 bytes change nothing.
        let mut longer = good.clone();
        longer.extend_from_slice(&[0u8; 20]);
        assert!(matches!(query.judge(&longer, at, &limits), Judgement::Healthy { .. }));
    }

    #[test]
    fn unsynchronised_servers_and_kisses_of_death_are_unhealthy_in_words() {
        let query = query();
        let at = Timestamp::from_unix(NOW + ms(2));
        let judge = |change: &dyn Fn(&mut Vec<u8>)| {
            let mut reply = reply(query.bytes(), 0, 3, NOW + ms(1), NOW + ms(1));
            change(&mut reply);
            match query.judge(&reply, at, &Limits { max_stratum: 4, max_offset: Some(ms(50)) }) {
                Judgement::Unhealthy(why) => why,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(judge(&|r| r[0] |= 0xc0), "not synchronised (leap indicator 3)");
        assert_eq!(
            judge(&|r| {
                r[1] = 0;
                r[12..16].copy_from_slice(b"RATE");
            }),
            "kiss-o'-death RATE"
        );
        assert_eq!(
            judge(&|r| {
                r[1] = 0;
                r[12..16].copy_from_slice(&[0xff, 0, 1, 2]);
            }),
            "kiss-o'-death (code 0xff000102)"
        );
        assert_eq!(judge(&|r| r[1] = 16), "stratum 16 (not synchronised)");
        assert_eq!(judge(&|r| r[1] = 200), "stratum 200 (reserved)");
        assert_eq!(judge(&|r| r[1] = 5), "stratum 5, above #max-stratum=4");
        assert_eq!(judge(&|r| r[0] = 2 << 3 | 4), "NTP version 2 in the reply");
        assert_eq!(judge(&|r| r[40..48].fill(0)), "transmit timestamp is zero");
        let ahead = Timestamp::from_unix(NOW + ms(1000)).0.to_be_bytes();
        assert_eq!(
            judge(&|r| {
                r[32..40].copy_from_slice(&ahead);
                r[40..48].copy_from_slice(&ahead);
            }),
            "offset +999.000 ms, beyond #max-offset=50ms"
        );
    }

    #[test]
    fn seconds_are_said_in_signed_milliseconds() {
        assert_eq!(Seconds(0.0012504).to_string(), "+1.250 ms");
        assert_eq!(Seconds(-2.003).to_string(), "-2003.000 ms");
    }
}
