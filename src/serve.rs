//! What the process serves beside its services: the endpoints its settings ask for (the BFD
//! speaker, the metrics file and listener, the control socket), opened for the reactor, which
//! polls them with the services' jobs ([`crate::endpoint`] is the seam between them).
//!
//! A new endpoint: a type implementing [`Endpoint`], opened in [`open`] from its
//! [`ProcessConfig`] options (a bad one refused there, before any service starts).
//!
//! The BFD speaker comes first: it publishes its sessions on a [`Board`] after each wake-up,
//! which the control socket and the metrics, advanced after it, read. Sessions are not
//! services, so the [`View`] stays the services' and the reactor knows nothing of BFD.

use crate::bfd::socket::{OpenError, PORT};
use crate::bfd::speaker::{Options, Peer, Speaker};
use crate::config::bfd::BfdConfig;
use crate::config::ProcessConfig;
use crate::endpoint::{Endpoint, Request, View};
use crate::error::UsageError;
use crate::poll::Ready;
use nix::poll::PollFd;
use std::net::SocketAddr;
use std::time::Instant;

/// The endpoints that `process` asks for, opened (sockets bound) now. A bad option is refused
/// here, naming its flag, before any service starts.
pub fn open(process: &ProcessConfig) -> Result<Vec<Box<dyn Endpoint>>, UsageError> {
    let mut endpoints: Vec<Box<dyn Endpoint>> = Vec::new();
    let mut board = None;
    if let Some(bfd) = &process.bfd {
        let speaker = open_bfd(bfd)?;
        board = Some(speaker.board());
        endpoints.push(Box::new(BfdEndpoint(speaker)));
    }
    crate::metrics::open(process, board.clone(), &mut endpoints)?;
    if let Some(path) = &process.control_socket {
        let owner = (process.user.as_ref(), process.group.as_ref());
        endpoints.push(Box::new(crate::control::server::Server::open(path, owner, board)?));
    }
    Ok(endpoints)
}

/// The speaker of `bfd`'s sessions, its sockets bound.
fn open_bfd(bfd: &BfdConfig) -> Result<Speaker, UsageError> {
    let peers = bfd
        .peers
        .iter()
        .map(|peer| {
            let mut addr: SocketAddr = peer.addr;
            addr.set_port(PORT);
            Peer { name: peer.name.clone(), addr, local: bfd.local_for(addr.ip()) }
        })
        .collect();
    let options = Options { peers, port: PORT, interval: bfd.interval, multiplier: bfd.multiplier };
    Speaker::open(&options, crate::sys::random, Instant::now()).map_err(|(peer, err)| match (peer, err) {
        (_, OpenError::PortTaken) => UsageError::flag("--bfd", OpenError::PortTaken.to_string()),
        (Some(peer), err) => UsageError::value("--bfd", peer, err.to_string()),
        (None, err) => UsageError::flag("--bfd", err.to_string()),
    })
}

/// The speaker in the reactor's loop.
struct BfdEndpoint(Speaker);

impl Endpoint for BfdEndpoint {
    fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        self.0.poll_fds(fds);
    }

    fn deadline(&self) -> Option<Instant> {
        self.0.deadline()
    }

    fn advance(&mut self, ready: Ready, _view: &View<'_>, _asks: &mut Vec<Request>) {
        self.0.advance(ready, Instant::now());
    }

    /// After the exit's withdraws: AdminDown on every session, a few packets, then silence.
    fn leave(&mut self, now: Instant) {
        self.0.leave(now);
    }

    fn lingering(&self, now: Instant) -> bool {
        self.0.lingering(now)
    }

    fn close(&mut self) {}
}
