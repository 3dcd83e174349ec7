//! BFD's process-wide settings (`--bfd`, `--bfd-local`, `--bfd-interval`, `--bfd-multiplier`),
//! checked: the peers as addresses (a link-local IPv6 one with its interface's index), at most
//! one source address per family and only for a family that has a peer, the interval and the
//! multiplier in range. No I/O but the interface's index of `fe80::1%IFNAME`.

use crate::error::UsageError;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::Duration;

/// The interval's range (`--bfd-interval`).
pub const INTERVAL_MIN: Duration = Duration::from_millis(10);
pub const INTERVAL_MAX: Duration = Duration::from_secs(10);
/// `--bfd-interval`'s default.
pub const INTERVAL_DEFAULT: &str = "300ms";
/// `--bfd-multiplier`'s default.
pub const MULTIPLIER_DEFAULT: u8 = 3;

/// What BFD was asked to do; `None` in [`super::ProcessConfig`] without `--bfd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdConfig {
    /// The routers, in the order given (each once).
    pub peers: Vec<BfdPeer>,
    /// `--bfd-local`: the source address of each family given one.
    pub locals: Vec<IpAddr>,
    /// Our Desired Min TX and Required Min RX once Up.
    pub interval: Duration,
    /// Our Detect Mult.
    pub multiplier: u8,
}

/// One `--bfd PEER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdPeer {
    /// As logs, status and metrics show it: the address, `%IFNAME` kept for a link-local one.
    pub name: String,
    /// Its address and the BFD port's stand-in 0 (the speaker sets the port); a link-local IPv6
    /// one with its interface's index as the scope id.
    pub addr: SocketAddr,
}

impl BfdConfig {
    /// The source address for `peer` given by `--bfd-local`, if any.
    pub fn local_for(&self, peer: IpAddr) -> Option<IpAddr> {
        self.locals.iter().copied().find(|local| local.is_ipv4() == peer.is_ipv4())
    }
}

/// The BFD settings of the flags; `None` without `--bfd` (the other BFD flags are then
/// checked and refused when they ask for something: a `--bfd-local` without a peer).
pub fn bfd(
    peers: &[String],
    locals: &[String],
    interval_text: &str,
    multiplier: i64,
) -> Result<Option<BfdConfig>, UsageError> {
    let mut checked: Vec<BfdPeer> = Vec::new();
    for text in peers {
        let peer = peer(text)?;
        if !checked.contains(&peer) {
            checked.push(peer);
        }
    }
    let mut addresses: Vec<IpAddr> = Vec::new();
    for text in locals {
        let ip: IpAddr =
            text.trim().parse().map_err(|_| UsageError::value("--bfd-local", text, "not an IP address"))?;
        if addresses.iter().any(|other| other.is_ipv4() == ip.is_ipv4() && *other != ip) {
            return Err(UsageError::value("--bfd-local", text, "one source address per address family"));
        }
        if !checked.iter().any(|peer| peer.addr.is_ipv4() == ip.is_ipv4()) {
            let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(UsageError::value("--bfd-local", text, format!("no --bfd peer is {family}")));
        }
        if !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    let interval = interval_value(interval_text)?;
    let multiplier = u8::try_from(multiplier)
        .ok()
        .filter(|m| *m >= 1)
        .ok_or_else(|| UsageError::value("--bfd-multiplier", multiplier, "must be between 1 and 255"))?;
    if checked.is_empty() {
        // Timers without a session would silently do nothing: refused, as a `--bfd-local`
        // without a peer is. (Given at their defaults they ask for nothing either way.)
        if interval != interval_value(INTERVAL_DEFAULT)? {
            return Err(UsageError::value("--bfd-interval", interval_text, "needs --bfd (a router to time)"));
        }
        if multiplier != MULTIPLIER_DEFAULT {
            return Err(UsageError::value("--bfd-multiplier", multiplier, "needs --bfd (a router to time)"));
        }
        return Ok(None);
    }
    Ok(Some(BfdConfig { peers: checked, locals: addresses, interval, multiplier }))
}

/// `--bfd-interval`: 10ms..10s.
fn interval_value(text: &str) -> Result<Duration, UsageError> {
    let interval = crate::units::duration("--bfd-interval", text)?;
    if !(INTERVAL_MIN..=INTERVAL_MAX).contains(&interval) {
        return Err(UsageError::value("--bfd-interval", text, "must be between 10ms and 10s"));
    }
    Ok(interval)
}

/// `--bfd PEER`: an IP address; `fe80::1%IFNAME` for a link-local IPv6 one (which needs its
/// interface). No name is resolved.
fn peer(text: &str) -> Result<BfdPeer, UsageError> {
    let trimmed = text.trim();
    let (ip_text, ifname) = match trimmed.split_once('%') {
        Some((ip, ifname)) => (ip, Some(ifname)),
        None => (trimmed, None),
    };
    let ip: IpAddr = ip_text
        .parse()
        .map_err(|_| UsageError::value("--bfd", text, "not an IP address (a router's address, not its name)"))?;
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(UsageError::value("--bfd", text, "not a unicast address"));
    }
    let link_local = matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local());
    let addr = match (ip, ifname) {
        (IpAddr::V6(v6), Some(ifname)) if link_local => {
            let index = nix::net::if_::if_nametoindex(ifname)
                .map_err(|_| UsageError::value("--bfd", text, format!("no interface {ifname}")))?;
            SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, index))
        }
        (_, Some(_)) => {
            return Err(UsageError::value("--bfd", text, "%IFNAME goes with a link-local IPv6 address only"))
        }
        (_, None) if link_local => {
            return Err(UsageError::value("--bfd", text, "a link-local address needs its interface: fe80::1%IFNAME"))
        }
        (ip, None) => SocketAddr::new(ip, 0),
    };
    let name = match ifname {
        Some(ifname) => format!("{ip}%{ifname}"),
        None => ip.to_string(),
    };
    Ok(BfdPeer { name, addr })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn err(peers: &[&str], locals: &[&str], interval: &str, multiplier: i64) -> String {
        bfd(&strings(peers), &strings(locals), interval, multiplier).unwrap_err().to_string()
    }

    #[test]
    fn peers_locals_interval_and_multiplier() {
        let got = bfd(&strings(&["10.0.0.1", "2001:db8::1", "10.0.0.1"]), &strings(&["10.0.0.9"]), "100ms", 5)
            .unwrap()
            .unwrap();
        assert_eq!(got.peers.len(), 2);
        assert_eq!(got.peers[0].name, "10.0.0.1");
        assert_eq!(got.peers[1].addr, "[2001:db8::1]:0".parse().unwrap());
        assert_eq!(got.local_for("10.0.0.1".parse().unwrap()), Some("10.0.0.9".parse().unwrap()));
        assert_eq!(got.local_for("2001:db8::1".parse().unwrap()), None);
        assert_eq!((got.interval, got.multiplier), (Duration::from_millis(100), 5));
        let link = bfd(&strings(&["fe80::1%lo"]), &[], INTERVAL_DEFAULT, 3).unwrap().unwrap();
        assert_eq!(link.peers[0].name, "fe80::1%lo");
        let SocketAddr::V6(v6) = link.peers[0].addr else { panic!() };
        assert_ne!(v6.scope_id(), 0);
        assert_eq!(bfd(&[], &[], INTERVAL_DEFAULT, 3).unwrap(), None);
    }

    #[test]
    fn bad_values_name_their_flag() {
        let e = err(&["example.com"], &[], "300ms", 3);
        assert!(e.contains("--bfd example.com") && e.contains("not an IP address"), "{e}");
        let e = err(&["fe80::1"], &[], "300ms", 3);
        assert!(e.contains("fe80::1%IFNAME"), "{e}");
        let e = err(&["fe80::1%no-such-if0"], &[], "300ms", 3);
        assert!(e.contains("no interface no-such-if0"), "{e}");
        let e = err(&["10.0.0.1%lo"], &[], "300ms", 3);
        assert!(e.contains("link-local IPv6 address only"), "{e}");
        let e = err(&["10.0.0.1"], &["2001:db8::9"], "300ms", 3);
        assert!(e.contains("--bfd-local 2001:db8::9") && e.contains("no --bfd peer is IPv6"), "{e}");
        let e = err(&["10.0.0.1"], &["10.0.0.8", "10.0.0.9"], "300ms", 3);
        assert!(e.contains("one source address per address family"), "{e}");
        let e = err(&["10.0.0.1"], &[], "5ms", 3);
        assert!(e.contains("--bfd-interval 5ms") && e.contains("between 10ms and 10s"), "{e}");
        let e = err(&["10.0.0.1"], &[], "11s", 3);
        assert!(e.contains("between 10ms and 10s"), "{e}");
        let e = err(&["10.0.0.1"], &[], "300ms", 0);
        assert!(e.contains("--bfd-multiplier 0"), "{e}");
        let e = err(&["10.0.0.1"], &[], "300ms", 256);
        assert!(e.contains("between 1 and 255"), "{e}");
        let e = err(&[], &["10.0.0.9"], "300ms", 3);
        assert!(e.contains("no --bfd peer is IPv4"), "{e}");
        let e = err(&["0.0.0.0"], &[], "300ms", 3);
        assert!(e.contains("not a unicast address"), "{e}");
    }
}
