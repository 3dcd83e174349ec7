//! The address work vocabulary: one operation on one interface ([`Op`]) and what came of it
//! ([`Answer`]). A service's address work ([`super::ledger::Work`]) is a sequence of these,
//! which the reactor carries out one at a time without waiting ([`super::lane::Lane`]), and a
//! synchronous backend can carry out too ([`run`]). No I/O here.

use super::{Added, AddrError, AddressBackend, IfAddr};
use std::net::IpAddr;

/// One operation on the addresses of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Every address on the interface.
    List { ifname: String },
    /// Add a host address (/32, /128), with its label (IPv4 only) and our mark where possible.
    Add { ip: IpAddr, ifname: String, label: Option<String> },
    /// Remove a host address; one that is not there is not an error.
    Remove { ip: IpAddr, ifname: String },
}

/// What an [`Op`] came to.
#[derive(Debug)]
pub enum Answer {
    Listed(Result<Vec<IfAddr>, AddrError>),
    Added(Result<Added, AddrError>),
    Removed(Result<(), AddrError>),
}

impl Op {
    /// The answer for this operation when it could not be carried out at all.
    pub fn failed(&self, err: AddrError) -> Answer {
        match self {
            Op::List { .. } => Answer::Listed(Err(err)),
            Op::Add { .. } => Answer::Added(Err(err)),
            Op::Remove { .. } => Answer::Removed(Err(err)),
        }
    }
}

impl Answer {
    /// A listing's result (any other answer is a bug of the caller's, told as an error).
    pub fn listed(self) -> Result<Vec<IfAddr>, AddrError> {
        match self {
            Answer::Listed(result) => result,
            other => Err(other.unexpected()),
        }
    }

    /// An addition's result.
    pub fn added(self) -> Result<Added, AddrError> {
        match self {
            Answer::Added(result) => result,
            other => Err(other.unexpected()),
        }
    }

    /// A removal's result.
    pub fn removed(self) -> Result<(), AddrError> {
        match self {
            Answer::Removed(result) => result,
            other => Err(other.unexpected()),
        }
    }

    fn unexpected(&self) -> AddrError {
        AddrError::Other(anyhow::anyhow!("unexpected answer {self:?}"))
    }
}

/// Carry out `op` on a synchronous backend (tests, and the panic hook's last clean-up).
pub fn run(backend: &mut dyn AddressBackend, op: &Op) -> Answer {
    match op {
        Op::List { ifname } => Answer::Listed(backend.list(ifname)),
        Op::Add { ip, ifname, label } => Answer::Added(backend.add(*ip, ifname, label.as_deref())),
        Op::Remove { ip, ifname } => Answer::Removed(backend.remove(*ip, ifname)),
    }
}
