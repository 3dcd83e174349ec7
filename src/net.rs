//! IP networks as the reference reads and prints them (Python's `ipaddress.ip_network`):
//! strict parsing (no host bits set), `ADDR/LEN` text with Python's IPv6 spelling, and the
//! expansion of a network into every one of its addresses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 or IPv6 network: an address with no bits set past `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Net {
    addr: IpAddr,
    len: u8,
}

impl Net {
    /// The host network (/32 or /128) of one address.
    pub fn host(addr: IpAddr) -> Net {
        Net { addr, len: max_len(addr) }
    }

    /// A network from an address and a prefix length; `None` if the length is too long or
    /// host bits are set.
    pub fn new(addr: IpAddr, len: u8) -> Option<Net> {
        (len <= max_len(addr) && bits(addr) & !mask(addr, len) == 0).then_some(Net { addr, len })
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// How many addresses the network holds (saturating for huge IPv6 networks).
    pub fn size(&self) -> u128 {
        let host_bits = u32::from(max_len(self.addr) - self.len);
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    /// Every address of the network, network and broadcast addresses included, as
    /// `for ip in ip_network(...)` yields them.
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let first = bits(self.addr);
        let count = self.size();
        let v4 = self.addr.is_ipv4();
        (0..count).map(move |i| {
            let value = first + i;
            if v4 {
                IpAddr::V4(Ipv4Addr::from(value as u32))
            } else {
                IpAddr::V6(Ipv6Addr::from(value))
            }
        })
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && bits(ip) & mask(ip, self.len) == bits(self.addr)
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(addr: IpAddr, len: u8) -> u128 {
    let width = u32::from(max_len(addr));
    let all = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
    let host = u32::from(max_len(addr) - len.min(max_len(addr)));
    all & !(1u128.checked_shl(host).map_or(u128::MAX, |v| v - 1))
}

/// Why a network did not parse. The messages follow the reference's wording where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError(String);

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NetError {}

impl FromStr for Net {
    type Err = NetError;

    fn from_str(text: &str) -> Result<Net, NetError> {
        let bad = || NetError(format!("'{text}' does not appear to be an IPv4 or IPv6 network"));
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let len = match len {
            None => max_len(addr),
            Some(len) => prefix_len(addr, len).ok_or_else(bad)?,
        };
        Net::new(addr, len).ok_or_else(|| NetError(format!("'{text}' has host bits set")))
    }
}

/// A prefix length written as a number, or (IPv4 only, as Python allows) as a netmask such as
/// `255.255.255.0` or a host mask such as `0.0.0.255`.
fn prefix_len(addr: IpAddr, text: &str) -> Option<u8> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().filter(|&n| n <= max_len(addr));
    }
    if !addr.is_ipv4() {
        return None;
    }
    let m = u32::from(text.parse::<Ipv4Addr>().ok()?);
    let contiguous = |v: u32| v.leading_ones() + v.trailing_zeros() == 32;
    if contiguous(m) {
        Some(m.leading_ones() as u8)
    } else if contiguous(!m) {
        Some(m.leading_zeros() as u8)
    } else {
        None
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", DisplayIp(self.addr), self.len)
    }
}

/// An address as Python's `ipaddress` prints it. The same as Rust's spelling but for
/// IPv4-mapped IPv6 addresses, which Python writes in hex (`::ffff:c000:201`).
#[derive(Debug, Clone, Copy)]
pub struct DisplayIp(pub IpAddr);

impl fmt::Display for DisplayIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => {
                let s = a.segments();
                write!(f, "::ffff:{:x}:{:x}", s[6], s[7])
            }
            other => write!(f, "{other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_prints_as_python_does() {
        for (input, shown) in [
            ("37.72.160.20", "37.72.160.20/32"),
            ("37.72.160.20/32", "37.72.160.20/32"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
            ("10.0.0.0/0.255.255.255", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:DB8::1", "2001:db8::1/128"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("::ffff:192.0.2.1", "::ffff:c000:201/128"),
        ] {
            assert_eq!(net(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn refuses_host_bits_and_garbage() {
        for bad in [
            "10.0.0.1/24",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/255.0.255.0",
            "2001:db8::1/64",
            "2001:db8::/129",
            "2001:db8::/ffff::",
            "host.example",
            "",
            "1.2.3",
        ] {
            assert!(bad.parse::<Net>().is_err(), "{bad} parsed");
        }
        assert_eq!("10.0.0.1/24".parse::<Net>().unwrap_err().to_string(), "'10.0.0.1/24' has host bits set");
    }

    #[test]
    fn hosts_include_network_and_broadcast() {
        let hosts: Vec<String> = net("192.0.2.0/30").hosts().map(|h| h.to_string()).collect();
        assert_eq!(hosts, ["192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"]);
        let v6: Vec<String> = net("2001:db8::/127").hosts().map(|h| h.to_string()).collect();
        assert_eq!(v6, ["2001:db8::", "2001:db8::1"]);
        assert_eq!(net("10.0.0.0/16").size(), 65_536);
        assert_eq!(net("::/0").size(), u128::MAX);
        assert_eq!(net("0.0.0.0/0").size(), 1 << 32);
    }

    #[test]
    fn contains_respects_family_and_prefix() {
        let n = net("192.0.2.0/24");
        assert!(n.contains("192.0.2.77".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        assert!(net("0.0.0.0/0").contains("203.0.113.9".parse().unwrap()));
    }
}
