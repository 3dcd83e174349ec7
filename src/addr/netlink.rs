//! The address backend that speaks rtnetlink: look an interface up by name, dump its addresses,
//! add and delete host addresses (/32, /128). One non-blocking `NETLINK_ROUTE` socket
//! ([`Rtnl`]); an operation ([`NetlinkOp`]) is a request or two, one at a time, whose answers are
//! matched by sequence number and read when the socket polls readable, each bounded by
//! [`REPLY_TIMEOUT`]. The reactor polls the socket with everything else; [`NetlinkBackend`]
//! waits for each answer, for start-up, tests and the panic hook.
//!
//! Netlink and not the `SIOCSIFADDR` ioctl: the ioctl installs the address with its classful mask
//! and only a second call (`SIOCSIFNETMASK`) narrows it, so adding 10.1.2.3 would make all of
//! 10.0.0.0/8 local on `lo` for a moment; it cannot add IPv6 either. `RTM_NEWADDR` carries the
//! prefix length with the address.
//!
//! Replies are kept as bytes and parsed only as far as we read them (a link's header; an
//! address's address, local, label and protocol attributes), so an attribute newer than our
//! parser cannot break a lookup.
//!
//! The addresses we add carry [`ADDRESS_PROTOCOL`] in `IFA_PROTO` (Linux 6.3+), so that a later
//! run can tell them from addresses someone else added. Kernels before 6.3 do not know the
//! attribute (their `IFA_MAX` is at most `IFA_TARGET_NETNSID`, 10; `IFA_PROTO` is 11), and they ignore
//! it: `RTM_NEWADDR` is parsed with `nlmsg_parse_deprecated()` (before 5.2, `nlmsg_parse()`),
//! liberal validation, which skips attributes above the policy's maximum instead of refusing
//! the message (only dumps can be made strict, with `NETLINK_GET_STRICT_CHK`). The address is
//! added without the mark and lists without a protocol: the behaviour before the mark existed.
//! Should some kernel (or an emulation of netlink) refuse it with EINVAL all the same, the add
//! is retried once without it, and if that works the run adds without the mark from then on
//! ([`mark_verdict`]).

mod blocking;

#[cfg(test)]
use blocking::wait_readable;
pub use blocking::NetlinkBackend;

use super::op::{Answer, Op};
use super::{Added, AddrError, AddressBackend, IfAddr, ADDRESS_PROTOCOL};
use anyhow::anyhow;
use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, Parseable, NLM_F_ACK,
    NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressHeader, AddressHeaderFlags, AddressMessage, AddressProtocol, AddressScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkHeader, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// How long we wait for the kernel to answer one request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// `RTM_NEWLINK` and `RTM_NEWADDR` from `linux/rtnetlink.h` (the crate keeps its own private).
const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
/// `sizeof(struct ifaddrmsg)`: where an address message's attributes start.
const IFADDRMSG_LEN: usize = 8;
/// `IFNAMSIZ - 1`: no interface name is longer.
const MAX_IFNAME_LEN: usize = 15;
/// Dumps the kernel reports as interrupted by a concurrent change are retried this many times.
const DUMP_ATTEMPTS: usize = 3;

/// A `NETLINK_ROUTE` socket that never blocks: requests go out with a sequence number of their
/// own, and the answers are read when the socket polls readable ([`Pending`] collects one).
pub struct Rtnl {
    socket: Socket,
    sequence: u32,
    /// Whether additions carry `IFA_PROTO`: until the kernel refuses it once.
    mark: bool,
}

/// Why a request failed.
#[derive(Debug)]
enum Failure {
    /// The kernel answered with this errno.
    Kernel(Errno),
    /// A dump was interrupted by a concurrent change and should be asked for again.
    Interrupted,
    /// The socket failed, the kernel did not answer in time, or the answer did not parse.
    Local(anyhow::Error),
}

impl Failure {
    /// What the caller of `request` `what` on `ifname` should see.
    fn into_addr_error(self, what: &str, ifname: &str) -> AddrError {
        match self {
            Failure::Kernel(Errno::EPERM | Errno::EACCES) => AddrError::PermissionDenied,
            Failure::Kernel(Errno::ENODEV) => AddrError::NoSuchInterface(ifname.to_owned()),
            Failure::Kernel(errno) => AddrError::Other(anyhow!("{what}: {errno}")),
            Failure::Interrupted => AddrError::Other(anyhow!("{what}: dump interrupted by concurrent changes")),
            Failure::Local(err) => AddrError::Other(err.context(what.to_owned())),
        }
    }
}

/// One message of the kernel's answer, unparsed.
struct Reply {
    kind: u16,
    payload: Vec<u8>,
}

impl NetlinkDeserializable for Reply {
    type Error = std::convert::Infallible;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Self::Error> {
        Ok(Reply { kind: header.message_type, payload: payload.to_vec() })
    }
}

impl Rtnl {
    /// Open the socket, non-blocking, in the caller's network namespace.
    pub fn new() -> Result<Self, AddrError> {
        let fail =
            |err: std::io::Error| AddrError::Other(anyhow!(err).context("failed to open a NETLINK_ROUTE socket"));
        let socket = Socket::new(NETLINK_ROUTE).map_err(fail)?;
        socket.set_non_blocking(true).map_err(fail)?;
        Ok(Rtnl { socket, sequence: 0, mark: true })
    }

    /// What to poll for answers.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Send `message` with `flags` (besides `NLM_F_REQUEST`): the answer is collected up to the
    /// `NLMSG_DONE` that ends a dump or the `NLMSG_ERROR` that acknowledges (or refuses)
    /// anything else, so requests other than dumps must ask for `NLM_F_ACK`.
    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<Pending, Failure> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        let kernel = SocketAddr::new(0, 0);
        while let Err(err) = self.socket.send_to(&bytes, &kernel, 0) {
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(Failure::Local(anyhow!(err).context("failed to send to the kernel")));
            }
        }
        Ok(Pending {
            sequence: self.sequence,
            deadline: Instant::now() + REPLY_TIMEOUT,
            replies: Vec::new(),
            interrupted: false,
        })
    }

    /// One datagram from the kernel if one is there, without waiting.
    fn receive(&self) -> Result<Option<Vec<u8>>, Failure> {
        loop {
            match self.socket.recv_from_full() {
                // Port 0 is the kernel; anything else is not an answer.
                Ok((datagram, from)) if from.port_number() == 0 => return Ok(Some(datagram)),
                Ok(_) => continue,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(err) => return Err(Failure::Local(anyhow!(err).context("failed to receive from the kernel"))),
            }
        }
    }
}

/// One request whose answer is being collected.
struct Pending {
    sequence: u32,
    deadline: Instant,
    replies: Vec<Reply>,
    interrupted: bool,
}

impl Pending {
    /// Read what the kernel has sent so far: the whole answer once it is complete, or the
    /// failure; `None` while more is to come. Anything with another sequence number answers an
    /// earlier request that was given up, and is dropped.
    fn collect(&mut self, rtnl: &Rtnl) -> Option<Result<Vec<Reply>, Failure>> {
        loop {
            let datagram = match rtnl.receive() {
                Ok(Some(datagram)) => datagram,
                Ok(None) if Instant::now() >= self.deadline => {
                    return Some(Err(Failure::Local(anyhow!("no answer from the kernel within {REPLY_TIMEOUT:?}"))))
                }
                Ok(None) => return None,
                Err(failure) => return Some(Err(failure)),
            };
            let messages = match split(&datagram) {
                Ok(messages) => messages,
                Err(failure) => return Some(Err(failure)),
            };
            for reply in messages {
                if reply.header.sequence_number != self.sequence {
                    continue;
                }
                self.interrupted |= reply.header.flags & NLM_F_DUMP_INTR != 0;
                match reply.payload {
                    NetlinkPayload::InnerMessage(reply) => self.replies.push(reply),
                    NetlinkPayload::Error(err) => {
                        return Some(match err.code {
                            None => Ok(std::mem::take(&mut self.replies)),
                            Some(code) => Err(Failure::Kernel(Errno::from_raw(-code.get()))),
                        });
                    }
                    NetlinkPayload::Done(done) if done.code < 0 => {
                        return Some(Err(Failure::Kernel(Errno::from_raw(-done.code))));
                    }
                    NetlinkPayload::Done(_) if self.interrupted => return Some(Err(Failure::Interrupted)),
                    NetlinkPayload::Done(_) => return Some(Ok(std::mem::take(&mut self.replies))),
                    _ => {}
                }
            }
        }
    }
}

/// Where an operation is.
enum Step {
    /// Looking the interface up by name (`RTM_GETLINK`).
    Link,
    /// The operation's own request: a dump (this attempt), or an addition with or without the
    /// mark.
    Dump {
        index: u32,
        attempt: usize,
    },
    Add {
        with_mark: bool,
        retried: bool,
    },
    Remove,
}

/// One address operation over rtnetlink, in flight: at most two requests, one at a time (the
/// interface's index, then the operation's own), each bounded by [`REPLY_TIMEOUT`]. It never
/// waits: [`NetlinkOp::advance`] reads what has come when the socket polls readable.
pub struct NetlinkOp {
    op: Op,
    step: Step,
    pending: Pending,
    /// The interface's index, once known (an addition sent again without the mark needs it).
    add_index: u32,
}

impl NetlinkOp {
    /// Send the first request of `op`; an operation that fails at once is its answer.
    pub fn start(rtnl: &mut Rtnl, op: Op) -> Result<NetlinkOp, Answer> {
        let ifname = ifname_of(&op);
        if ifname.is_empty() || ifname.len() > MAX_IFNAME_LEN {
            return Err(op.failed(AddrError::NoSuchInterface(ifname.to_owned())));
        }
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(ifname.to_owned()));
        match rtnl.send(RouteNetlinkMessage::GetLink(message), NLM_F_ACK) {
            Ok(pending) => Ok(NetlinkOp { op, step: Step::Link, pending, add_index: 0 }),
            Err(failure) => {
                let err = failure.into_addr_error("RTM_GETLINK", ifname);
                Err(op.failed(err))
            }
        }
    }

    /// When to look at it even if the socket stays quiet: the kernel's answer is overdue then.
    pub fn deadline(&self) -> Instant {
        self.pending.deadline
    }

    /// Read what has come (call it when the socket polled readable, or at the deadline): the
    /// answer once the operation is over.
    pub fn advance(&mut self, rtnl: &mut Rtnl) -> Option<Answer> {
        loop {
            let result = self.pending.collect(rtnl)?;
            match self.next(rtnl, result) {
                Ok(Some(pending)) => self.pending = pending,
                Ok(None) => unreachable!("an operation that goes on has a request in flight"),
                Err(answer) => return Some(answer),
            }
        }
    }

    /// The operation's next request after `result`, or its answer.
    fn next(&mut self, rtnl: &mut Rtnl, result: Result<Vec<Reply>, Failure>) -> Result<Option<Pending>, Answer> {
        let ifname = ifname_of(&self.op).to_owned();
        match self.step {
            Step::Link => {
                let replies =
                    result.map_err(|failure| self.op.failed(failure.into_addr_error("RTM_GETLINK", &ifname)))?;
                let index = replies
                    .iter()
                    .filter(|reply| reply.kind == RTM_NEWLINK)
                    .find_map(|reply| LinkHeader::parse(&reply.payload).ok())
                    .map(|header| header.index)
                    .ok_or_else(|| self.op.failed(AddrError::NoSuchInterface(ifname.clone())))?;
                match &self.op {
                    Op::List { .. } => self.dump(rtnl, index, 1),
                    Op::Add { .. } => {
                        let with_mark = rtnl.mark;
                        self.add(rtnl, index, with_mark, false)
                    }
                    Op::Remove { ip, .. } => {
                        self.step = Step::Remove;
                        let message = RouteNetlinkMessage::DelAddress(host_address(*ip, index));
                        self.send(rtnl, message, NLM_F_ACK, "RTM_DELADDR")
                    }
                }
            }
            Step::Dump { index, attempt } => match result {
                Err(Failure::Interrupted) if attempt < DUMP_ATTEMPTS => self.dump(rtnl, index, attempt + 1),
                Err(failure) => Err(Answer::Listed(Err(failure.into_addr_error("RTM_GETADDR", &ifname)))),
                Ok(replies) => Err(Answer::Listed(Ok(replies
                    .iter()
                    .filter(|reply| reply.kind == RTM_NEWADDR)
                    .filter_map(|reply| parse_address(&reply.payload))
                    .filter(|(on, _)| *on == index)
                    .map(|(_, addr)| addr)
                    .collect()))),
            },
            Step::Add { with_mark, retried } => {
                let Op::Add { ip, .. } = self.op else { unreachable!("an addition's step") };
                match mark_verdict(with_mark, retried, &result) {
                    Mark::RetryWithout => {
                        let index = self.add_index;
                        return self.add(rtnl, index, false, true);
                    }
                    Mark::Refused if rtnl.mark => {
                        rtnl.mark = false;
                        log::info!(
                            "the kernel refuses IFA_PROTO on addresses (EINVAL): adding them without the mark \
                             {ADDRESS_PROTOCOL}, so a later run will not recognise them as ours"
                        );
                    }
                    Mark::Refused | Mark::Final => {}
                }
                Err(Answer::Added(match result {
                    Ok(_) => Ok(Added::Added),
                    Err(Failure::Kernel(Errno::EEXIST)) => Ok(Added::AlreadyPresent),
                    // Not a missing privilege (that is EPERM) but `disable_ipv6` on the interface.
                    Err(Failure::Kernel(Errno::EACCES)) if ip.is_ipv6() => {
                        Err(AddrError::Other(anyhow!("RTM_NEWADDR: IPv6 is disabled on {ifname} (EACCES)")))
                    }
                    Err(failure) => Err(failure.into_addr_error("RTM_NEWADDR", &ifname)),
                }))
            }
            Step::Remove => Err(Answer::Removed(match result {
                Ok(_) | Err(Failure::Kernel(Errno::EADDRNOTAVAIL | Errno::ENOENT | Errno::ESRCH)) => Ok(()),
                Err(failure) => Err(failure.into_addr_error("RTM_DELADDR", &ifname)),
            })),
        }
    }

    fn send(
        &mut self,
        rtnl: &mut Rtnl,
        message: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> Result<Option<Pending>, Answer> {
        rtnl.send(message, flags)
            .map(Some)
            .map_err(|failure| self.op.failed(failure.into_addr_error(what, ifname_of(&self.op))))
    }

    fn dump(&mut self, rtnl: &mut Rtnl, index: u32, attempt: usize) -> Result<Option<Pending>, Answer> {
        self.step = Step::Dump { index, attempt };
        // Family AF_UNSPEC: both families. The kernel ignores the index unless strict
        // checking is on, so we filter ourselves.
        let message = RouteNetlinkMessage::GetAddress(AddressMessage::default());
        self.send(rtnl, message, NLM_F_DUMP, "RTM_GETADDR")
    }

    fn add(&mut self, rtnl: &mut Rtnl, index: u32, with_mark: bool, retried: bool) -> Result<Option<Pending>, Answer> {
        let Op::Add { ip, label, .. } = &self.op else { unreachable!("an addition") };
        let (ip, label) = (*ip, label.clone());
        let mut message = host_address(ip, index);
        match (ip, label) {
            (IpAddr::V4(_), Some(label)) => message.attributes.push(AddressAttribute::Label(label)),
            (IpAddr::V4(_), None) => {}
            // Usable at once: no duplicate address detection, never "tentative".
            (IpAddr::V6(_), _) => message.header.flags = AddressHeaderFlags::Nodad,
        }
        if with_mark {
            message.attributes.push(AddressAttribute::Protocol(AddressProtocol::from(ADDRESS_PROTOCOL)));
        }
        self.step = Step::Add { with_mark, retried };
        self.add_index = index;
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        self.send(rtnl, RouteNetlinkMessage::NewAddress(message), flags, "RTM_NEWADDR")
    }
}

/// What an addition's answer says about our `IFA_PROTO` mark.
#[derive(Debug, PartialEq, Eq)]
enum Mark {
    /// Refused with EINVAL with the mark: send it once more without.
    RetryWithout,
    /// Sent again without the mark, it got through (added, or EEXIST: past the validation of
    /// the attributes): the kernel does not take the mark, and the run adds without it.
    Refused,
    /// The answer is the addition's own.
    Final,
}

/// The answer `result` to an addition sent `with_mark` or not, on its first attempt or `retried`.
fn mark_verdict<T>(with_mark: bool, retried: bool, result: &Result<T, Failure>) -> Mark {
    let einval = matches!(result, Err(Failure::Kernel(Errno::EINVAL)));
    if with_mark && einval {
        Mark::RetryWithout
    } else if retried && matches!(result, Ok(_) | Err(Failure::Kernel(Errno::EEXIST))) {
        Mark::Refused
    } else {
        Mark::Final
    }
}

fn ifname_of(op: &Op) -> &str {
    match op {
        Op::List { ifname } | Op::Add { ifname, .. } | Op::Remove { ifname, .. } => ifname,
    }
}

/// The netlink messages in one datagram.
fn split(datagram: &[u8]) -> Result<Vec<NetlinkMessage<Reply>>, Failure> {
    let mut messages = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let message = NetlinkMessage::<Reply>::deserialize(rest)
            .map_err(|err| Failure::Local(anyhow!("failed to parse the kernel's answer: {err}")))?;
        // Messages start on 4-byte boundaries; the length (at least a header) excludes the padding.
        let len = (message.header.length as usize).next_multiple_of(4);
        rest = rest.get(len..).unwrap_or_default();
        messages.push(message);
    }
    Ok(messages)
}

/// The interface index and address of an `RTM_NEWADDR` message. Attributes that do not parse
/// are skipped; a message without an address is `None`.
fn parse_address(payload: &[u8]) -> Option<(u32, IfAddr)> {
    let header = AddressHeader::parse(payload).ok()?;
    let (mut address, mut local, mut label, mut proto) = (None, None, None, None);
    for nla in NlasIterator::new(payload.get(IFADDRMSG_LEN..)?) {
        match nla.ok().and_then(|nla| AddressAttribute::parse(&nla).ok()) {
            Some(AddressAttribute::Address(ip)) => address = Some(ip),
            Some(AddressAttribute::Local(ip)) => local = Some(ip),
            Some(AddressAttribute::Label(text)) => label = Some(text),
            Some(AddressAttribute::Protocol(value)) => proto = Some(u8::from(value)),
            _ => {}
        }
    }
    // As `ip address` does: IFA_LOCAL is our end; IFA_ADDRESS is the peer when both are given.
    let ip = local.or(address)?;
    Some((header.index, IfAddr { ip, prefix_len: header.prefix_len, label, proto }))
}

/// An address message for the host address `ip` on interface `index`: `/32` with `IFA_LOCAL`
/// and `IFA_ADDRESS`, or `/128` with `IFA_ADDRESS`. Global scope: the address is announced.
fn host_address(ip: IpAddr, index: u32) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.index = index;
    message.header.scope = AddressScope::Universe;
    match ip {
        IpAddr::V4(_) => {
            message.header.family = AddressFamily::Inet;
            message.header.prefix_len = 32;
            message.attributes.push(AddressAttribute::Local(ip));
        }
        IpAddr::V6(_) => {
            message.header.family = AddressFamily::Inet6;
            message.header.prefix_len = 128;
        }
    }
    message.attributes.push(AddressAttribute::Address(ip));
    message
}

#[cfg(test)]
mod tests {
    //! These run the real backend in network namespaces of their own. A namespace belongs to a
    //! thread, and entering one takes `unshare(2)`, which nix offers only behind its `sched`
    //! feature; so `in_fresh_netns` re-runs this test binary, for the one test, under
    //! `unshare --net`, and the test's body runs there.

    use super::*;
    use netlink_packet_route::link::LinkFlags;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::process::Command;

    /// Set in the copy of the test binary that runs inside the new namespace.
    const INSIDE: &str = "EXABGP_HEALTHCHECK_TEST_IN_NETNS";

    /// Run `body` with a backend in a network namespace of its own, where `lo` is down and has
    /// no address. `name` is the calling test's name in this module.
    fn in_fresh_netns(name: &str, body: impl FnOnce(&mut NetlinkBackend)) {
        in_fresh_netns_as(name, &[], body);
    }

    /// Like `in_fresh_netns`, run by `setpriv` with `setpriv_args` (to drop privileges) once
    /// the namespace exists.
    fn in_fresh_netns_as(name: &str, setpriv_args: &[&str], body: impl FnOnce(&mut NetlinkBackend)) {
        if std::env::var_os(INSIDE).is_some() {
            body(&mut NetlinkBackend::new().expect("failed to open a netlink socket"));
            return;
        }
        let module = module_path!().split_once("::").map_or(module_path!(), |(_, path)| path);
        let test = format!("{module}::{name}");
        let mut command = Command::new("unshare");
        command.arg("--net");
        if !setpriv_args.is_empty() {
            command.arg("setpriv").args(setpriv_args);
        }
        let exe = std::env::current_exe().expect("no path to the test binary");
        let run = command.arg(exe).args([test.as_str(), "--exact"]).env(INSIDE, "1").output();
        let output = match run {
            Ok(output) => output,
            Err(err) => return println!("SKIP {name}: cannot run unshare: {err}"),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("unshare failed: Operation not permitted") || stderr.contains("failed to execute setpriv") {
            return println!("SKIP {name}: {}", stderr.trim());
        }
        // "1 passed" also proves that the filter found the test.
        assert!(
            output.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{test} failed in its network namespace ({}):\n{stdout}\n{stderr}",
            output.status
        );
    }

    /// Bring `ifname` up, as a host's `lo` is (that is when the kernel gives it 127.0.0.1 and ::1).
    fn bring_up(backend: &mut NetlinkBackend, ifname: &str) {
        let mut message = LinkMessage::default();
        message.header.index = backend.ifindex(ifname).unwrap();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        backend.request(RouteNetlinkMessage::SetLink(message), NLM_F_ACK).unwrap();
    }

    /// `ip -o address show dev IFNAME`, for what our own list does not show (scope, flags).
    fn ip_address_show(ifname: &str) -> String {
        let output = Command::new("ip").args(["-o", "address", "show", "dev", ifname]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// An address without a protocol (0: added by `ip address add`, or by hand).
    fn addr(ip: &str, prefix_len: u8, label: Option<&str>) -> IfAddr {
        IfAddr { ip: ip.parse().unwrap(), prefix_len, label: label.map(str::to_owned), proto: None }
    }

    /// An address with our mark.
    fn ours(ip: &str, prefix_len: u8, label: Option<&str>) -> IfAddr {
        IfAddr { proto: Some(ADDRESS_PROTOCOL), ..addr(ip, prefix_len, label) }
    }

    /// The list with the protocols left out, for the kernel's own addresses (127.0.0.1 and ::1
    /// are `kernel_lo` since Linux 6.3, nothing before).
    fn plain(list: &[IfAddr]) -> Vec<IfAddr> {
        list.iter().map(|a| IfAddr { proto: None, ..a.clone() }).collect()
    }

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));

    #[test]
    fn lo_once_up_lists_the_loopback_addresses() {
        in_fresh_netns("lo_once_up_lists_the_loopback_addresses", |backend| {
            assert_eq!(backend.list("lo").unwrap(), []);
            bring_up(backend, "lo");
            let listed = backend.list("lo").unwrap();
            assert!(!listed.iter().any(IfAddr::marked_ours), "{listed:?}");
            let listed = plain(&listed);
            assert!(listed.contains(&addr("127.0.0.1", 8, Some("lo"))), "{listed:?}");
            assert!(listed.contains(&addr("::1", 128, None)), "{listed:?}");
            assert_eq!(listed.len(), 2, "{listed:?}");
        });
    }

    #[test]
    fn adds_lists_and_removes_host_addresses() {
        in_fresh_netns("adds_lists_and_removes_host_addresses", |backend| {
            bring_up(backend, "lo");
            assert_eq!(backend.add(V4, "lo", Some("lo:web")).unwrap(), Added::Added);
            assert!(backend.list("lo").unwrap().contains(&ours("192.0.2.10", 32, Some("lo:web"))));
            assert_eq!(backend.add(V4, "lo", Some("lo:web")).unwrap(), Added::AlreadyPresent);
            assert_eq!(backend.add(V4, "lo", None).unwrap(), Added::AlreadyPresent);

            // The label is IPv4's only; IPv6 ignores it.
            assert_eq!(backend.add(V6, "lo", Some("lo:web")).unwrap(), Added::Added);
            assert!(backend.list("lo").unwrap().contains(&ours("2001:db8::10", 128, None)));
            assert_eq!(backend.add(V6, "lo", None).unwrap(), Added::AlreadyPresent);

            // Global scope (announced, not host-only), and IPv6 without duplicate detection.
            let shown = ip_address_show("lo");
            assert!(shown.contains("inet 192.0.2.10/32 scope global lo:web"), "{shown}");
            assert!(shown.contains("inet6 2001:db8::10/128 scope global nodad"), "{shown}");

            backend.remove(V4, "lo").unwrap();
            backend.remove(V6, "lo").unwrap();
            let listed = plain(&backend.list("lo").unwrap());
            assert!(!listed.iter().any(|a| a.ip == V4 || a.ip == V6), "{listed:?}");
            assert!(listed.contains(&addr("127.0.0.1", 8, Some("lo"))), "{listed:?}");
            assert!(listed.contains(&addr("::1", 128, None)), "{listed:?}");

            backend.remove(V4, "lo").unwrap();
            backend.remove(V6, "lo").unwrap();
        });
    }

    #[test]
    fn adds_to_a_lo_that_is_down() {
        in_fresh_netns("adds_to_a_lo_that_is_down", |backend| {
            assert_eq!(backend.add(V4, "lo", Some("lo:web")).unwrap(), Added::Added);
            assert_eq!(backend.add(V6, "lo", None).unwrap(), Added::Added);
            assert_eq!(
                backend.list("lo").unwrap(),
                [ours("192.0.2.10", 32, Some("lo:web")), ours("2001:db8::10", 128, None)]
            );
        });
    }

    #[test]
    fn ipv6_disabled_is_not_a_permission_problem() {
        in_fresh_netns("ipv6_disabled_is_not_a_permission_problem", |backend| {
            std::fs::write("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "1").unwrap();
            let err = backend.add(V6, "lo", None).unwrap_err();
            assert_eq!(err.to_string(), "RTM_NEWADDR: IPv6 is disabled on lo (EACCES)");
            assert_eq!(backend.add(V4, "lo", None).unwrap(), Added::Added);
        });
    }

    #[test]
    fn removes_only_the_host_address_not_a_wider_one() {
        in_fresh_netns("removes_only_the_host_address_not_a_wider_one", |backend| {
            let mut wider = host_address(V4, backend.ifindex("lo").unwrap());
            wider.header.prefix_len = 24;
            backend.request(RouteNetlinkMessage::NewAddress(wider), NLM_F_ACK | NLM_F_CREATE).unwrap();
            backend.remove(V4, "lo").unwrap();
            assert_eq!(backend.list("lo").unwrap(), [addr("192.0.2.10", 24, Some("lo"))]);
        });
    }

    /// What `ip address add` (iproute2 before 6.3 cannot ask for a protocol) puts there has
    /// none; ours have ours, and `ip -d` shows it (iproute2 6.3+ only).
    #[test]
    fn only_the_addresses_we_add_carry_our_mark() {
        in_fresh_netns("only_the_addresses_we_add_carry_our_mark", |backend| {
            let ip = |args: &[&str]| {
                let output = Command::new("ip").args(args).output().unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            };
            ip(&["address", "add", "192.0.2.20/32", "dev", "lo"]);
            ip(&["address", "add", "2001:db8::20/128", "dev", "lo"]);
            assert_eq!(backend.add(V4, "lo", None).unwrap(), Added::Added);
            assert_eq!(backend.add(V6, "lo", None).unwrap(), Added::Added);
            let listed = backend.list("lo").unwrap();
            for want in [
                addr("192.0.2.20", 32, Some("lo")),
                addr("2001:db8::20", 128, None),
                ours("192.0.2.10", 32, Some("lo")),
                ours("2001:db8::10", 128, None),
            ] {
                assert!(listed.contains(&want), "{want:?} not in {listed:?}");
            }
            // Already there, with or without the mark: the answer does not change.
            assert_eq!(backend.add("192.0.2.20".parse().unwrap(), "lo", None).unwrap(), Added::AlreadyPresent);
            assert_eq!(backend.add(V6, "lo", None).unwrap(), Added::AlreadyPresent);
            let detailed = Command::new("ip").args(["-d", "-o", "address", "show", "dev", "lo"]).output().unwrap();
            let detailed = String::from_utf8_lossy(&detailed.stdout);
            if detailed.contains(" proto ") {
                let marked = detailed.lines().filter(|l| l.contains(&format!(" proto {ADDRESS_PROTOCOL} "))).count();
                assert_eq!(marked, 2, "{detailed}");
            }
        });
    }

    /// An answer that never comes (here read away before the operation sees it) holds nothing
    /// up: the operation says it is not over without waiting, and fails at its deadline.
    #[test]
    fn a_request_the_kernel_never_answers_fails_at_its_deadline_without_waiting() {
        let mut rtnl = Rtnl::new().unwrap();
        let mut op = match NetlinkOp::start(&mut rtnl, Op::List { ifname: "lo".to_owned() }) {
            Ok(op) => op,
            Err(answer) => panic!("failed at once: {answer:?}"),
        };
        // The link lookup's answer, taken away.
        wait_readable(rtnl.fd(), Instant::now() + Duration::from_secs(1));
        while let Ok(Some(_)) = rtnl.receive() {}
        op.pending.deadline = Instant::now() + Duration::from_millis(200);
        let asked = Instant::now();
        assert!(op.advance(&mut rtnl).is_none());
        assert!(asked.elapsed() < Duration::from_millis(50), "advance waited {:?}", asked.elapsed());
        while Instant::now() < op.deadline() {
            wait_readable(rtnl.fd(), op.deadline());
        }
        match op.advance(&mut rtnl) {
            Some(Answer::Listed(Err(err))) => assert!(err.to_string().contains("no answer from the kernel"), "{err}"),
            other => panic!("{other:?}"),
        }
        // A late answer to it is told apart by its sequence number: the next operation works.
        let mut next = NetlinkOp::start(&mut rtnl, Op::List { ifname: "lo".to_owned() }).ok().unwrap();
        let listed = loop {
            if let Some(answer) = next.advance(&mut rtnl) {
                break answer;
            }
            wait_readable(rtnl.fd(), next.deadline());
        };
        assert!(matches!(listed, Answer::Listed(Ok(_))), "{listed:?}");
    }

    #[test]
    fn a_kernel_that_refuses_the_mark_gets_addresses_without_it_for_the_run() {
        let einval = || Err::<(), _>(Failure::Kernel(Errno::EINVAL));
        let eexist = || Err::<(), _>(Failure::Kernel(Errno::EEXIST));
        // Refused with the mark: once more without.
        assert_eq!(mark_verdict(true, false, &einval()), Mark::RetryWithout);
        // Accepted without, or EEXIST without (the attributes passed validation): the mark was
        // the problem, and is given up.
        assert_eq!(mark_verdict(false, true, &Ok(())), Mark::Refused);
        assert_eq!(mark_verdict(false, true, &eexist()), Mark::Refused);
        // EINVAL both ways: not the mark's fault; the error is the answer.
        assert_eq!(mark_verdict(false, true, &einval()), Mark::Final);
        // Any other answer to the first attempt is final, and so is every answer without the mark.
        for result in [Ok(()), eexist(), Err(Failure::Kernel(Errno::EPERM))] {
            assert_eq!(mark_verdict(true, false, &result), Mark::Final);
        }
        assert_eq!(mark_verdict(false, false, &einval()), Mark::Final);
    }

    #[test]
    fn a_missing_interface_is_no_such_interface() {
        in_fresh_netns("a_missing_interface_is_no_such_interface", |backend| {
            for name in ["nosuch0", "", "a-name-longer-than-ifnamsiz"] {
                let is_missing = |err: AddrError| matches!(err, AddrError::NoSuchInterface(n) if n == name);
                assert!(is_missing(backend.list(name).unwrap_err()), "list {name:?}");
                assert!(is_missing(backend.add(V4, name, None).unwrap_err()), "add {name:?}");
                assert!(is_missing(backend.add(V6, name, None).unwrap_err()), "add {name:?}");
                assert!(is_missing(backend.remove(V4, name).unwrap_err()), "remove {name:?}");
            }
        });
    }

    /// What SIOCSIFADDR would do: 10.1.2.3 first as 10.1.2.3/8, making all of 10.0.0.0/8 local.
    /// Every address notification the kernel sends while we add it must be the /32.
    #[test]
    fn an_ipv4_host_address_is_never_its_classful_network() {
        in_fresh_netns("an_ipv4_host_address_is_never_its_classful_network", |backend| {
            bring_up(backend, "lo");
            let mut monitor = Rtnl::new().unwrap();
            monitor.socket.bind_auto().unwrap();
            const RTNLGRP_IPV4_IFADDR: u32 = 5;
            monitor.socket.add_membership(RTNLGRP_IPV4_IFADDR).unwrap();

            let ip: IpAddr = "10.1.2.3".parse().unwrap();
            assert_eq!(backend.add(ip, "lo", None).unwrap(), Added::Added);

            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_millis(200);
            while Instant::now() < until {
                wait_readable(monitor.fd(), until);
                let Ok(Some(datagram)) = monitor.receive() else { continue };
                for message in split(&datagram).unwrap() {
                    if let NetlinkPayload::InnerMessage(reply) = message.payload {
                        seen.extend(parse_address(&reply.payload).map(|(_, a)| (reply.kind, a)));
                    }
                }
            }
            assert_eq!(seen, [(RTM_NEWADDR, ours("10.1.2.3", 32, Some("lo")))]);
            let listed = backend.list("lo").unwrap();
            let tens: Vec<_> =
                listed.iter().filter(|a| matches!(a.ip, IpAddr::V4(v4) if v4.octets()[0] == 10)).collect();
            assert_eq!(tens, [&ours("10.1.2.3", 32, Some("lo"))]);
        });
    }

    /// As ExaBGP runs its processes by default: user nobody, no capability. The namespace is
    /// there so that a failed privilege drop cannot touch the host's `lo`.
    #[test]
    fn without_cap_net_admin_changes_are_permission_denied() {
        let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
        in_fresh_netns_as("without_cap_net_admin_changes_are_permission_denied", &nobody, |backend| {
            assert_eq!(nix::unistd::geteuid().as_raw(), 65534);
            assert!(matches!(backend.add(V4, "lo", None), Err(AddrError::PermissionDenied)));
            assert!(matches!(backend.add(V6, "lo", None), Err(AddrError::PermissionDenied)));
            assert!(matches!(backend.remove(V4, "lo"), Err(AddrError::PermissionDenied)));
            assert_eq!(backend.list("lo").unwrap(), []);
        });
    }

    #[test]
    fn kernel_errors_map_to_the_callers_kinds() {
        let kind = |errno| format!("{:?}", Failure::Kernel(errno).into_addr_error("RTM_NEWADDR", "lo"));
        assert_eq!(kind(Errno::EPERM), "PermissionDenied");
        assert_eq!(kind(Errno::EACCES), "PermissionDenied");
        assert_eq!(kind(Errno::ENODEV), "NoSuchInterface(\"lo\")");
        let other = Failure::Kernel(Errno::EINVAL).into_addr_error("RTM_NEWADDR", "lo");
        assert_eq!(other.to_string(), "RTM_NEWADDR: EINVAL: Invalid argument");
    }
}
