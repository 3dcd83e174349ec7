//! rtnetlink waiting for each answer ([`NetlinkBackend`]): the same operations as the reactor's
//! ([`NetlinkOp`]), each driven to its end with a `poll()` on the socket. For start-up's
//! discovery, the panic hook's last clean-up, and tests.

use super::*;

/// Wait in `poll()` for `fd` to turn readable, until `deadline` at most.
pub(super) fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    // Round up, so that we never spin on a timeout of 0 ms.
    let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1);
    let _ = poll(&mut fds, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX));
}

/// Addresses over rtnetlink, waiting for each answer: for start-up and tests, and the panic
/// hook's last clean-up. The running plugin uses [`NetlinkOp`]s on the reactor's poll.
pub struct NetlinkBackend {
    rtnl: Rtnl,
}

impl NetlinkBackend {
    /// Open the socket, in the caller's network namespace.
    pub fn new() -> Result<Self, AddrError> {
        Ok(NetlinkBackend { rtnl: Rtnl::new()? })
    }

    /// Carry `op` out, waiting for its answer.
    fn run(&mut self, op: Op) -> Answer {
        let mut running = match NetlinkOp::start(&mut self.rtnl, op) {
            Ok(running) => running,
            Err(answer) => return answer,
        };
        loop {
            if let Some(answer) = running.advance(&mut self.rtnl) {
                return answer;
            }
            wait_readable(self.rtnl.fd(), running.deadline());
        }
    }

    /// Send one request and wait for its answer (tests change links with it).
    #[cfg(test)]
    pub(super) fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<Vec<Reply>, Failure> {
        let mut pending = self.rtnl.send(message, flags)?;
        loop {
            if let Some(result) = pending.collect(&self.rtnl) {
                return result;
            }
            wait_readable(self.rtnl.fd(), pending.deadline);
        }
    }

    /// The index of the interface named `ifname` (tests).
    #[cfg(test)]
    pub(super) fn ifindex(&mut self, ifname: &str) -> Result<u32, AddrError> {
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(ifname.to_owned()));
        let replies = self
            .request(RouteNetlinkMessage::GetLink(message), NLM_F_ACK)
            .map_err(|failure| failure.into_addr_error("RTM_GETLINK", ifname))?;
        replies
            .iter()
            .filter(|reply| reply.kind == RTM_NEWLINK)
            .find_map(|reply| LinkHeader::parse(&reply.payload).ok())
            .map(|header| header.index)
            .ok_or_else(|| AddrError::NoSuchInterface(ifname.to_owned()))
    }
}

impl AddressBackend for NetlinkBackend {
    fn list(&mut self, ifname: &str) -> Result<Vec<IfAddr>, AddrError> {
        self.run(Op::List { ifname: ifname.to_owned() }).listed()
    }

    fn add(&mut self, ip: IpAddr, ifname: &str, label: Option<&str>) -> Result<Added, AddrError> {
        self.run(Op::Add { ip, ifname: ifname.to_owned(), label: label.map(str::to_owned) }).added()
    }

    fn remove(&mut self, ip: IpAddr, ifname: &str) -> Result<(), AddrError> {
        self.run(Op::Remove { ip, ifname: ifname.to_owned() }).removed()
    }
}
