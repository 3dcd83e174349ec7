//! Service addresses on their interfaces: the backends that list, add and remove them
//! (rtnetlink, or `sudo ip` when `--sudo` is given) and which one a run opens, the networks a
//! service advertises (found on `lo` when no `--ip` is given), and the bookkeeping of which
//! ones we added ([`ledger`]).

pub mod lane;
pub mod ledger;
mod netlink;
pub mod op;
mod sudo;

pub use netlink::NetlinkBackend;
pub use sudo::{Sudo, SudoBackend};

use std::net::IpAddr;

/// The `IFA_PROTO` value this program marks the addresses it adds with (Linux 6.3+; older
/// kernels ignore the attribute, see [`NetlinkBackend`]): 179, BGP's TCP port. IPv6 addresses
/// carry no label, so without a mark nothing on an interface says who put an address there;
/// with it, a run started after one that crashed (or was SIGKILLed) recognises what that run
/// added and removes it at exit as if it had added it itself ([`ledger::Addresses::setup`]).
/// `ip -d address show` prints it as `proto 179` (iproute2 6.3+).
///
/// The kernel owns 0 to 3 (`IFAPROT_UNSPEC`, `IFAPROT_KERNEL_LO`, `IFAPROT_KERNEL_RA`,
/// `IFAPROT_KERNEL_LL` in `linux/if_addr.h`); the rest is free for user space, with no registry.
pub const ADDRESS_PROTOCOL: u8 = 179;

/// One address found on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub ip: IpAddr,
    pub prefix_len: u8,
    /// `IFA_LABEL` (IPv4 only; for example `lo:web`). `None` for IPv6 or when the kernel gave none.
    pub label: Option<String>,
    /// `IFA_PROTO`: who added it ([`ADDRESS_PROTOCOL`] for us, 1 for the kernel's loopback
    /// addresses, ...). `None` when the kernel gives none: for protocol 0 (what `ip address
    /// add` sets), and always before Linux 6.3.
    pub proto: Option<u8>,
}

impl IfAddr {
    /// Whether it carries our mark, [`ADDRESS_PROTOCOL`].
    pub fn marked_ours(&self) -> bool {
        self.proto == Some(ADDRESS_PROTOCOL)
    }
}

/// Why an address operation failed, as far as the caller needs to know.
#[derive(Debug)]
pub enum AddrError {
    /// EPERM/EACCES: we lack CAP_NET_ADMIN (ExaBGP runs its processes as `nobody` by default).
    PermissionDenied,
    /// The interface does not exist (ENODEV, or no such name).
    NoSuchInterface(String),
    /// Anything else, with context.
    Other(anyhow::Error),
}

impl std::fmt::Display for AddrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddrError::PermissionDenied => write!(f, "permission denied"),
            AddrError::NoSuchInterface(name) => write!(f, "no interface named {name}"),
            AddrError::Other(err) => write!(f, "{err:#}"),
        }
    }
}

impl std::error::Error for AddrError {}

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The address was not there and now is.
    Added,
    /// The address was already on the interface (EEXIST): not an error, and not ours.
    AlreadyPresent,
}

/// The backend a run uses, shared by its services.
pub type Backend = dyn AddressBackend + Send;

/// Lists, adds and removes host addresses. Implemented over rtnetlink and over `sudo ip`;
/// tests use a fake.
pub trait AddressBackend {
    /// Every address on `ifname`, both families, in kernel order.
    fn list(&mut self, ifname: &str) -> Result<Vec<IfAddr>, AddrError>;
    /// Add `ip` as a host address (/32 or /128) on `ifname`, with `label` (IPv4 only; ignored
    /// for IPv6) when given, and marked with [`ADDRESS_PROTOCOL`] where the backend and the
    /// kernel can.
    fn add(&mut self, ip: IpAddr, ifname: &str, label: Option<&str>) -> Result<Added, AddrError>;
    /// Remove the host address `ip` (/32 or /128) from `ifname`. Removing an address that is
    /// not there is not an error.
    fn remove(&mut self, ip: IpAddr, ifname: &str) -> Result<(), AddrError>;
}

/// The networks a service advertises: its `--ip`s, or, with none, those found on `lo`; none
/// found is [`NoIpFound`] (logged as the reference does).
pub fn networks(cfg: &crate::config::ServiceConfig) -> anyhow::Result<Vec<crate::net::Net>> {
    some_networks(find_networks(cfg)?)
}

/// `found`, unless it is empty: [`NoIpFound`] (logged as the reference does).
pub fn some_networks(found: Vec<crate::net::Net>) -> anyhow::Result<Vec<crate::net::Net>> {
    if found.is_empty() {
        log::error!("No IP found");
        return Err(anyhow::Error::new(NoIpFound));
    }
    Ok(found)
}

/// The networks a service advertises: its `--ip`s, or, with none, those found on `lo`
/// (perhaps none), listed here with a synchronous rtnetlink dump (start-up and `--once` only:
/// a reload lists `lo` on the reactor's address lane and calls [`networks_among`]).
pub fn find_networks(cfg: &crate::config::ServiceConfig) -> anyhow::Result<Vec<crate::net::Net>> {
    if !cfg.nets.is_empty() {
        return Ok(networks_among(cfg, &[]));
    }
    Ok(networks_among(cfg, &list_loopback()?))
}

/// The addresses on `lo`, listed with a synchronous rtnetlink dump (what [`find_networks`]
/// looks among; `--once` lists them before it drops privileges).
pub fn list_loopback() -> anyhow::Result<Vec<IfAddr>> {
    use crate::config::LOOPBACK;
    use anyhow::Context;
    let mut backend = NetlinkBackend::new().context("failed to open a netlink socket")?;
    backend.list(LOOPBACK).with_context(|| format!("failed to list the addresses of {LOOPBACK}"))
}

/// The networks a service advertises when `lo` holds `lo` (listed beforehand; looked at only
/// without `--ip`): its `--ip`s, or those found among them (perhaps none). No I/O.
pub fn networks_among(cfg: &crate::config::ServiceConfig, lo: &[IfAddr]) -> Vec<crate::net::Net> {
    use crate::config::LOOPBACK;
    if !cfg.nets.is_empty() {
        return cfg.nets.iter().map(|n| n.net).collect();
    }
    let found = ledger::discovered(lo, cfg.label.as_deref(), cfg.label_exact_match);
    log::debug!(
        "System addresses ({LOOPBACK}) detected: {}",
        found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    found
}

/// No service address: neither `--ip` nor any on `lo` (exit status 1, as the reference).
#[derive(Debug)]
pub struct NoIpFound;

impl std::fmt::Display for NoIpFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no service address: give --ip, or put the addresses on lo")
    }
}

impl std::error::Error for NoIpFound {}

/// How to open a synchronous backend of the kind the run uses (`--sudo` or rtnetlink), for the
/// panic hook's last clean-up.
pub fn opener(sudo: bool) -> fn() -> Result<Box<Backend>, AddrError> {
    if sudo {
        open_sudo
    } else {
        open_netlink
    }
}

fn open_sudo() -> Result<Box<Backend>, AddrError> {
    Ok(Box::new(SudoBackend::new()?))
}

fn open_netlink() -> Result<Box<Backend>, AddrError> {
    Ok(Box::new(NetlinkBackend::new()?))
}
