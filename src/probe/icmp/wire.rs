//! The icmp check's messages: an echo request built (ICMP type 8, or ICMPv6 type 128), and a
//! received datagram told to be its reply or not. Pure: bytes in, bytes or a reason out; the
//! sockets are [`super`]'s.
//!
//! The request carries an identifier, a sequence number and 16 random bytes; a reply is ours
//! when it is an echo reply (type 0, or 129) with the same sequence number and the same bytes,
//! and the same identifier where the kernel leaves it to us (a raw socket: it sees every ICMP
//! message the host receives; an unprivileged ICMP socket gets the identifier rewritten to its
//! own and only its replies delivered). What a raw IPv4 socket reads starts with the IP
//! header, skipped here.

/// The random bytes after the header: what a forged or stray reply would have to guess.
pub const TOKEN: usize = 16;
/// The echo header: type, code, checksum, identifier, sequence number.
const HEADER: usize = 8;

/// One echo request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// ICMPv6 rather than ICMP.
    pub v6: bool,
    pub id: u16,
    pub seq: u16,
    pub token: [u8; TOKEN],
}

/// How datagrams reach us: what the socket reads, and what the kernel did to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// An unprivileged ICMP socket (SOCK_DGRAM): the message alone, the identifier the
    /// kernel's.
    Unprivileged,
    /// A raw socket: the message alone for ICMPv6, after the IP header for ICMP.
    Raw,
}

impl Echo {
    /// The request's bytes, with its checksum (ICMP's; the kernel computes ICMPv6's, and
    /// rewrites an unprivileged socket's).
    pub fn request(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER + TOKEN);
        bytes.extend_from_slice(&[if self.v6 { 128 } else { 8 }, 0, 0, 0]);
        bytes.extend_from_slice(&self.id.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&self.token);
        if !self.v6 {
            let sum = checksum(&bytes);
            bytes[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        bytes
    }

    /// `Ok` when `datagram`, read from a socket of `framing`, is this request's reply; the
    /// reason it is not otherwise.
    pub fn is_reply(&self, datagram: &[u8], framing: Framing) -> Result<(), String> {
        let message = match (framing, self.v6) {
            (Framing::Raw, false) => {
                let first = *datagram.first().ok_or("empty")?;
                if first >> 4 != 4 {
                    return Err(format!("not an IPv4 packet (version {})", first >> 4));
                }
                let length = usize::from(first & 0x0f) * 4;
                if length < 20 {
                    return Err(format!("IPv4 header of {length} bytes"));
                }
                datagram.get(length..).ok_or("shorter than its IPv4 header")?
            }
            _ => datagram,
        };
        if message.len() < HEADER {
            return Err(format!("too short for ICMP ({} bytes)", message.len()));
        }
        let reply = if self.v6 { 129 } else { 0 };
        if message[0] != reply || message[1] != 0 {
            return Err(format!("not an echo reply (type {}, code {})", message[0], message[1]));
        }
        let field = |at: usize| u16::from_be_bytes([message[at], message[at + 1]]);
        if framing == Framing::Raw && field(4) != self.id {
            return Err(format!("another identifier ({})", field(4)));
        }
        if field(6) != self.seq {
            return Err(format!("another sequence number ({})", field(6)));
        }
        if message[HEADER..] != self.token {
            return Err("not our payload".to_owned());
        }
        Ok(())
    }
}

/// The Internet checksum (RFC 1071) of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 =
        bytes.chunks(2).map(|pair| u32::from(u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(v6: bool) -> Echo {
        Echo { v6, id: 0x1234, seq: 0xabcd, token: *b"0123456789abcdef" }
    }

    /// The reply a peer makes of `request`: its type changed (and the checksum left as is: no
    /// one checks it here).
    fn reply_to(request: &[u8], v6: bool) -> Vec<u8> {
        let mut reply = request.to_vec();
        reply[0] = if v6 { 129 } else { 0 };
        reply
    }

    #[test]
    fn requests_are_echo_requests_with_our_fields_and_a_valid_checksum() {
        let v4 = echo(false).request();
        assert_eq!(&v4[..2], &[8, 0]);
        assert_eq!(&v4[4..8], &[0x12, 0x34, 0xab, 0xcd]);
        assert_eq!(&v4[8..], b"0123456789abcdef");
        assert_eq!(checksum(&v4), 0, "the checksum sums the whole to 0xffff");
        let v6 = echo(true).request();
        assert_eq!(&v6[..4], &[128, 0, 0, 0], "the kernel's checksum");
        // RFC 1071's example.
        assert_eq!(checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn our_reply_is_told_from_others_on_each_kind_of_socket() {
        for v6 in [false, true] {
            let echo = echo(v6);
            let reply = reply_to(&echo.request(), v6);
            assert_eq!(echo.is_reply(&reply, Framing::Unprivileged), Ok(()));
            let raw = if v6 {
                reply.clone()
            } else {
                let mut packet = vec![0x46, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 1, 1, 0, 0];
                packet.extend_from_slice(&reply);
                packet
            };
            assert_eq!(echo.is_reply(&raw, Framing::Raw), Ok(()));
            // The kernel's identifier on an unprivileged socket: only the raw one checks it.
            let mut other_id = reply.clone();
            other_id[5] ^= 1;
            assert_eq!(echo.is_reply(&other_id, Framing::Unprivileged), Ok(()));
            let other_raw = if v6 { other_id.clone() } else { [&raw[..24], &other_id[..]].concat() };
            assert!(echo.is_reply(&other_raw, Framing::Raw).unwrap_err().starts_with("another identifier"));
            let mut other_seq = reply.clone();
            other_seq[7] ^= 1;
            assert!(echo.is_reply(&other_seq, Framing::Unprivileged).unwrap_err().starts_with("another sequence"));
            let mut other_token = reply.clone();
            other_token[20] ^= 1;
            assert_eq!(echo.is_reply(&other_token, Framing::Unprivileged), Err("not our payload".to_owned()));
            assert_eq!(echo.is_reply(&reply[..23], Framing::Unprivileged), Err("not our payload".to_owned()));
            // Our own request (a raw socket sees it when we ping ourselves), an unreachable.
            let request = echo.request();
            assert!(echo.is_reply(&request, Framing::Unprivileged).unwrap_err().starts_with("not an echo reply"));
            let unreachable = [if v6 { 1 } else { 3 }, 1, 0, 0, 0, 0, 0, 0];
            assert!(echo.is_reply(&unreachable, Framing::Unprivileged).is_err());
            assert!(echo.is_reply(&reply[..7], Framing::Unprivileged).unwrap_err().starts_with("too short"));
        }
        let v4 = echo(false);
        assert!(v4.is_reply(&[], Framing::Raw).is_err());
        assert!(v4.is_reply(&[0x60; 40], Framing::Raw).unwrap_err().contains("version 6"));
        assert!(v4.is_reply(&[0x44; 40], Framing::Raw).unwrap_err().contains("16 bytes"));
        assert!(v4.is_reply(&[0x4f; 40], Framing::Raw).unwrap_err().contains("shorter"));
    }
}
