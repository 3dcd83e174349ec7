//! BFD's sockets (RFC 5881 single hop), the I/O edge: a [`Receiver`] per address family on
//! UDP 3784 that reads each datagram's TTL / hop limit and drops what did not come with 255
//! (GTSM, RFC 5881 section 5) or does not decode, counting the drops by reason; and a
//! [`Sender`] per session, bound to the local address and a source port of its own in
//! 49152..65535, sending with TTL / hop limit 255. Both non-blocking; the reactor polls the
//! receivers' descriptors.

use super::packet::{DecodeError, Packet};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::socket::{
    self, recvmsg, setsockopt, sockopt, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    SockaddrStorage,
};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::ops::RangeInclusive;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// The port control packets go to (RFC 5881 section 4).
pub const PORT: u16 = 3784;
/// The source ports of our sessions (RFC 5881 section 4).
pub const SOURCE_PORTS: RangeInclusive<u16> = 49152..=65535;
/// The TTL / hop limit we send with and the only one we accept (RFC 5881 section 5).
pub const TTL: u8 = 255;

/// The address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    fn address_family(self) -> AddressFamily {
        match self {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        }
    }

    fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// Why a socket could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Port 3784 is bound already: the caller exits 2 with this message.
    PortTaken,
    /// Every source port in 49152..65535 is taken on the local address.
    NoSourcePort,
    /// Anything else: what failed, and the error.
    Io(&'static str, io::Error),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::PortTaken => {
                write!(f, "port {PORT} is taken: FRR's bfdd or another plugin speaks BFD on this host")
            }
            OpenError::NoSourcePort => write!(f, "no free source port in 49152..65535 for a BFD session"),
            OpenError::Io(what, err) => write!(f, "failed to {what}: {err}"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Io(_, err) => Some(err),
            _ => None,
        }
    }
}

/// `what` failed with `errno`.
fn failed(what: &'static str) -> impl FnOnce(Errno) -> OpenError {
    move |errno| OpenError::Io(what, io::Error::from(errno))
}

/// A non-blocking UDP socket of `family`.
fn udp(family: Family) -> Result<OwnedFd, OpenError> {
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    socket::socket(family.address_family(), SockType::Datagram, flags, None).map_err(failed("open a UDP socket"))
}

fn bind(fd: &OwnedFd, at: SocketAddr) -> nix::Result<()> {
    socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(at))
}

/// Why a received datagram was dropped before it reached a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Not sent with TTL / hop limit 255 (`None`: the kernel did not say).
    Ttl(Option<u8>),
    /// More bytes than a control packet may have.
    Oversized,
    /// The packet's own checks (RFC 5880 6.8.6).
    Packet(DecodeError),
}

impl Dropped {
    /// A short name for the reason, as a metrics label (`bfd_dropped_total{reason}`).
    pub fn reason(self) -> &'static str {
        match self {
            Dropped::Ttl(_) => "ttl",
            Dropped::Oversized => "oversized",
            Dropped::Packet(error) => error.reason(),
        }
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::Ttl(Some(ttl)) => write!(f, "TTL {ttl}, not {TTL}"),
            Dropped::Ttl(None) => write!(f, "no TTL given"),
            Dropped::Oversized => f.write_str("oversized datagram"),
            Dropped::Packet(error) => error.fmt(f),
        }
    }
}

/// One datagram, as the receiver saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A packet that passed the checks, from `from` (a link-local IPv6 source carries its
    /// interface as the scope id): for the session of that peer.
    Packet { from: SocketAddr, packet: Packet },
    /// A datagram dropped (and counted) here.
    Dropped { from: SocketAddr, why: Dropped },
}

/// The largest datagram read whole: a packet with the largest authentication section is 24 +
/// 28 bytes; anything longer is not BFD.
const BUFFER: usize = 128;

/// The socket that receives every session's packets of one address family, on port 3784.
#[derive(Debug)]
pub struct Receiver {
    socket: OwnedFd,
    family: Family,
    /// Room for one TTL / hop limit control message.
    control: Vec<u8>,
    dropped: BTreeMap<&'static str, u64>,
}

impl Receiver {
    /// The receiver of `family` on `address` (normally the unspecified one), port `port`
    /// ([`PORT`], another in tests). The IPv6 one is IPv6 only, so both can be open.
    pub fn open(address: IpAddr, port: u16) -> Result<Receiver, OpenError> {
        let family = Family::of(address);
        let socket = udp(family)?;
        match family {
            Family::V4 => setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).map_err(failed("ask for the TTL"))?,
            Family::V6 => {
                setsockopt(&socket, sockopt::Ipv6V6Only, &true).map_err(failed("make the socket IPv6 only"))?;
                setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true).map_err(failed("ask for the hop limit"))?;
            }
        }
        match bind(&socket, SocketAddr::new(address, port)) {
            Ok(()) => {}
            Err(Errno::EADDRINUSE) if port == PORT => return Err(OpenError::PortTaken),
            Err(errno) => return Err(failed("bind the BFD port")(errno)),
        }
        Ok(Receiver { socket, family, control: nix::cmsg_space!(i32), dropped: BTreeMap::new() })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The address and port it is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let bound: SockaddrStorage = socket::getsockname(self.socket.as_raw_fd()).map_err(io::Error::from)?;
        to_std(&bound).ok_or_else(|| io::Error::other("not an IP socket"))
    }

    /// Adds its descriptor, for reading, to the poll set.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        fds.push(PollFd::new(self.socket.as_fd(), PollFlags::POLLIN));
    }

    /// The next datagram waiting, checked; `None` when none is (call until `None` when the
    /// descriptor polls ready).
    pub fn recv(&mut self) -> io::Result<Option<Received>> {
        let mut buffer = [0u8; BUFFER];
        let mut iov = [IoSliceMut::new(&mut buffer)];
        let fd = self.socket.as_raw_fd();
        let (from, length, truncated, ttl) =
            match recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut self.control), MsgFlags::MSG_TRUNC) {
                Ok(message) => {
                    let ttl = message.cmsgs().ok().and_then(|mut all| {
                        all.find_map(|cmsg| match cmsg {
                            ControlMessageOwned::Ipv4Ttl(ttl) | ControlMessageOwned::Ipv6HopLimit(ttl) => {
                                u8::try_from(ttl).ok()
                            }
                            _ => None,
                        })
                    });
                    let truncated = message.flags.contains(MsgFlags::MSG_TRUNC) || message.bytes > BUFFER;
                    (message.address.as_ref().and_then(to_std), message.bytes, truncated, ttl)
                }
                Err(Errno::EAGAIN) => return Ok(None),
                Err(errno) => return Err(io::Error::from(errno)),
            };
        let from = from.unwrap_or_else(|| SocketAddr::new(self.family.unspecified(), 0));
        let checked = if ttl != Some(TTL) {
            Err(Dropped::Ttl(ttl))
        } else if truncated {
            Err(Dropped::Oversized)
        } else {
            Packet::decode(&buffer[..length]).map_err(Dropped::Packet)
        };
        Ok(Some(match checked {
            Ok(packet) => Received::Packet { from, packet },
            Err(why) => {
                *self.dropped.entry(why.reason()).or_default() += 1;
                Received::Dropped { from, why }
            }
        }))
    }

    /// The datagrams dropped so far, by reason.
    pub fn dropped(&self) -> &BTreeMap<&'static str, u64> {
        &self.dropped
    }
}

/// A received address as std's.
fn to_std(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    address.as_sockaddr_in6().map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// The socket one session sends from: bound to its local address and a source port of its own,
/// connected to the peer's port 3784, TTL / hop limit 255.
#[derive(Debug)]
pub struct Sender {
    socket: UdpSocket,
    peer: SocketAddr,
}

impl Sender {
    /// A sender from `local` (`None`: the address the kernel picks to reach the peer) to
    /// `peer` (port [`PORT`], or another in tests; a link-local IPv6 peer with its scope id).
    /// The source port is tried from `start` (a random number: where in 49152..65535 to begin)
    /// on, until a free one.
    pub fn open(local: Option<IpAddr>, peer: SocketAddr, start: u64) -> Result<Sender, OpenError> {
        let family = Family::of(peer.ip());
        let socket = udp(family)?;
        match family {
            Family::V4 => setsockopt(&socket, sockopt::Ipv4Ttl, &i32::from(TTL)).map_err(failed("set the TTL"))?,
            Family::V6 => rustix::net::sockopt::set_ipv6_unicast_hops(&socket, Some(TTL))
                .map_err(|e| OpenError::Io("set the hop limit", io::Error::from(e)))?,
        }
        let mut local = local.map_or_else(|| SocketAddr::new(family.unspecified(), 0), |ip| SocketAddr::new(ip, 0));
        if let (SocketAddr::V6(local), SocketAddr::V6(peer)) = (&mut local, peer) {
            if local.ip().is_unicast_link_local() && local.scope_id() == 0 {
                local.set_scope_id(peer.scope_id());
            }
        }
        let count = u64::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
        let mut bound = false;
        for step in 0..count {
            let port = SOURCE_PORTS.start() + u16::try_from((start + step) % count).unwrap_or(0);
            local.set_port(port);
            match bind(&socket, local) {
                Ok(()) => {
                    bound = true;
                    break;
                }
                Err(Errno::EADDRINUSE) => continue,
                Err(errno) => return Err(failed("bind a BFD source port")(errno)),
            }
        }
        if !bound {
            return Err(OpenError::NoSourcePort);
        }
        socket::connect(socket.as_raw_fd(), &SockaddrStorage::from(peer)).map_err(failed("connect to the BFD peer"))?;
        Ok(Sender { socket: UdpSocket::from(socket), peer })
    }

    /// Sends `packet` (non-blocking: a full buffer is an error, as is an ICMP error the kernel
    /// noted for the previous packet).
    pub fn send(&self, packet: &Packet) -> io::Result<()> {
        self.socket.send(&packet.encode()).map(drop)
    }

    /// The local address and source port it sends from.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

#[cfg(test)]
mod tests {
    //! These bind port 3784 and send over the loopback, in network namespaces of their own: a
    //! namespace belongs to a thread and entering one takes `unshare(2)`, so `in_fresh_netns`
    //! re-runs this test binary, for the one test, under `unshare --net`, where the body runs
    //! (as `addr::netlink`'s tests do).

    use super::*;
    use crate::bfd::packet::{Diag, State};
    use crate::poll::poll_until;
    use std::process::Command;
    use std::time::{Duration, Instant};

    /// Set in the copy of the test binary that runs inside the new namespace.
    const INSIDE: &str = "EXABGP_HEALTHCHECK_TEST_IN_NETNS";

    /// Run `body` in a network namespace of its own with `lo` up. `name` is the calling
    /// test's name in this module.
    fn in_fresh_netns(name: &str, body: impl FnOnce()) {
        if std::env::var_os(INSIDE).is_some() {
            let up = Command::new("ip").args(["link", "set", "lo", "up"]).status().expect("failed to run ip");
            assert!(up.success(), "ip link set lo up: {up}");
            return body();
        }
        let module = module_path!().split_once("::").map_or(module_path!(), |(_, path)| path);
        let test = format!("{module}::{name}");
        let exe = std::env::current_exe().expect("no path to the test binary");
        let run =
            Command::new("unshare").arg("--net").arg(exe).args([test.as_str(), "--exact"]).env(INSIDE, "1").output();
        let output = match run {
            Ok(output) => output,
            Err(err) => return println!("SKIP {name}: cannot run unshare: {err}"),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("unshare failed: Operation not permitted") {
            return println!("SKIP {name}: {}", stderr.trim());
        }
        // "1 passed" also proves that the filter found the test.
        assert!(
            output.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{test} failed in its network namespace ({}):\n{stdout}\n{stderr}",
            output.status
        );
    }

    fn packet(my_discriminator: u32) -> Packet {
        Packet {
            diag: Diag::None,
            state: State::Down,
            poll: false,
            final_: false,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            my_discriminator,
            your_discriminator: 0,
            desired_min_tx_us: 1_000_000,
            required_min_rx_us: 1_000_000,
            required_min_echo_rx_us: 0,
        }
    }

    /// The next datagram `receiver` gets, waiting 2 s at most.
    fn next(receiver: &mut Receiver) -> Received {
        let until = Instant::now() + Duration::from_secs(2);
        for _ in 0..100 {
            if let Some(received) = receiver.recv().unwrap() {
                return received;
            }
            let mut fds = Vec::new();
            receiver.poll_fds(&mut fds);
            poll_until(&mut fds, Some(until)).unwrap();
            assert!(Instant::now() < until, "nothing received in 2 s");
        }
        panic!("nothing received");
    }

    /// A plain UDP socket on `local` sending with `ttl` (to fake a peer further away).
    fn plain(local: IpAddr, ttl: u32) -> UdpSocket {
        let socket = UdpSocket::bind(SocketAddr::new(local, 0)).unwrap();
        if local.is_ipv4() {
            socket.set_ttl(ttl).unwrap();
        } else {
            rustix::net::sockopt::set_ipv6_unicast_hops(&socket, Some(ttl as u8)).unwrap();
        }
        socket
    }

    fn exchange_on(local: IpAddr) {
        let mut receiver = Receiver::open(local, PORT).unwrap();
        assert_eq!(receiver.family(), Family::of(local));
        assert_eq!(receiver.local_addr().unwrap(), SocketAddr::new(local, PORT));
        let peer = SocketAddr::new(local, PORT);

        // Two sessions: each its own source port in the range, from the address asked.
        let one = Sender::open(Some(local), peer, 0).unwrap();
        let two = Sender::open(None, peer, 0).unwrap();
        let (from_one, from_two) = (one.local_addr().unwrap(), two.local_addr().unwrap());
        assert_eq!((from_one.ip(), from_two.ip()), (local, local), "the kernel picks the loopback");
        assert_eq!(from_one.port(), 49152);
        assert_eq!(from_two.port(), 49153, "the next free one");
        assert!(SOURCE_PORTS.contains(&Sender::open(None, peer, 99_999).unwrap().local_addr().unwrap().port()));
        assert_eq!(one.peer(), peer);

        one.send(&packet(1)).unwrap();
        two.send(&packet(2)).unwrap();
        assert_eq!(next(&mut receiver), Received::Packet { from: from_one, packet: packet(1) });
        assert_eq!(next(&mut receiver), Received::Packet { from: from_two, packet: packet(2) });
        assert_eq!(receiver.recv().unwrap(), None);

        // TTL / hop limit 254: dropped and counted; 255 with bad bytes: dropped by their reason.
        let far = plain(local, 254);
        far.send_to(&packet(3).encode(), peer).unwrap();
        let from_far = far.local_addr().unwrap();
        assert_eq!(next(&mut receiver), Received::Dropped { from: from_far, why: Dropped::Ttl(Some(254)) });
        let near = plain(local, 255);
        let mut bad = packet(4).encode();
        bad[0] = 0x40;
        near.send_to(&bad, peer).unwrap();
        let from_near = near.local_addr().unwrap();
        assert_eq!(
            next(&mut receiver),
            Received::Dropped { from: from_near, why: Dropped::Packet(DecodeError::Version(2)) }
        );
        near.send_to(&[0x20; 500], peer).unwrap();
        assert_eq!(next(&mut receiver), Received::Dropped { from: from_near, why: Dropped::Oversized });
        near.send_to(&packet(5).encode(), peer).unwrap();
        assert_eq!(next(&mut receiver), Received::Packet { from: from_near, packet: packet(5) });
        let dropped: Vec<(&str, u64)> = receiver.dropped().iter().map(|(r, n)| (*r, *n)).collect();
        assert_eq!(dropped, [("oversized", 1), ("ttl", 1), ("version", 1)]);

        // The port taken: the error says who may hold it.
        let err = Receiver::open(local, PORT).unwrap_err();
        assert!(matches!(err, OpenError::PortTaken), "{err:?}");
        assert_eq!(err.to_string(), "port 3784 is taken: FRR's bfdd or another plugin speaks BFD on this host");
    }

    #[test]
    fn ipv4_packets_go_with_ttl_255_and_others_are_dropped() {
        in_fresh_netns("ipv4_packets_go_with_ttl_255_and_others_are_dropped", || {
            exchange_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
        });
    }

    #[test]
    fn ipv6_packets_go_with_hop_limit_255_and_others_are_dropped() {
        in_fresh_netns("ipv6_packets_go_with_hop_limit_255_and_others_are_dropped", || {
            exchange_on(IpAddr::V6(Ipv6Addr::LOCALHOST))
        });
    }

    #[test]
    fn the_ipv4_and_ipv6_receivers_share_the_port() {
        in_fresh_netns("the_ipv4_and_ipv6_receivers_share_the_port", || {
            let v6 = Receiver::open(IpAddr::V6(Ipv6Addr::UNSPECIFIED), PORT).unwrap();
            let v4 = Receiver::open(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT).unwrap();
            assert_eq!((v4.family(), v6.family()), (Family::V4, Family::V6));
            let err = Receiver::open(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT).unwrap_err();
            assert!(matches!(err, OpenError::PortTaken), "{err:?}");
            // Another port in use is a plain error, not the BFD port's.
            let other = Receiver::open(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000).unwrap();
            let err = Receiver::open(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000).unwrap_err();
            assert!(err.to_string().starts_with("failed to bind the BFD port: "), "{err}");
            drop(other);
        });
    }

    #[test]
    fn dropped_reasons_and_messages() {
        assert_eq!(Dropped::Ttl(Some(64)).to_string(), "TTL 64, not 255");
        assert_eq!(Dropped::Ttl(None).reason(), "ttl");
        assert_eq!(Dropped::Packet(DecodeError::Authentication).reason(), "authentication");
        assert_eq!(Dropped::Packet(DecodeError::Authentication).to_string(), "authentication not supported");
        assert_eq!(OpenError::NoSourcePort.to_string(), "no free source port in 49152..65535 for a BFD session");
    }
}
