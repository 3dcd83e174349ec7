//! What the reactor needs to start a service: its [`Plan`] (settings, networks, routes), the
//! refusal of two services that found one network, its log tag, and the small things start-up
//! does (the random `--splay`, the descriptor limit).

use super::*;

/// A random number, for `--splay`.
pub(super) fn random() -> u64 {
    sys::random()
}

/// Several services hold a pidfd and a pipe for each check in flight.
pub(super) fn raise_descriptor_limit() {
    match sys::raise_descriptor_limit() {
        Ok(limit) => log::debug!("open descriptors: up to {}", limit.map_or("unlimited".to_owned(), |n| n.to_string())),
        Err(err) => log::warn!("failed to raise the limit on open descriptors: {err}"),
    }
}

/// The log tag of service `id` with settings `cfg`: its own (`healthcheck-NAME`) when it is
/// one of several or comes from a section; else the process's.
pub(super) fn tag_for(several: bool, cfg: &ServiceConfig, id: ServiceId) -> Option<Rc<str>> {
    let name = cfg.label();
    (several || cfg.section.is_some()).then(|| match name {
        Some(name) => Rc::from(format!("healthcheck-{name}")),
        None => Rc::from(format!("healthcheck-{id}")),
    })
}

/// A service's settings with what start-up found for it: its networks, and the routes they
/// make.
pub(super) struct Plan {
    pub(super) cfg: ServiceConfig,
    pub(super) nets: Vec<Net>,
    pub(super) routes: Vec<Net>,
}

impl Plan {
    /// Find the networks of `cfg` (on `lo`, without `--ip`): the only step that may fail.
    pub(super) fn new(cfg: ServiceConfig) -> anyhow::Result<Plan> {
        let nets = addr::networks(&cfg)?;
        Ok(Plan::found(cfg, nets))
    }

    /// The plan of `cfg` with the networks found for it.
    pub(super) fn found(cfg: ServiceConfig, nets: Vec<Net>) -> Plan {
        let routes = service::routes(&nets, cfg.deaggregate, cfg.start_ip);
        Plan { cfg, nets, routes }
    }

    /// Its ledger (none when it changes no address in `mode`), empty: what it owns comes with
    /// its first set-up ([`Addresses::setup`]) or from the service it replaces.
    pub(super) fn ledger(&self, mode: Mode) -> Option<Addresses> {
        let cfg = &self.cfg;
        cfg.manages_addresses(mode)
            .then(|| Addresses::new(&self.hosts(), cfg.label.clone(), cfg.label_exact_match, cfg.dynamic_ip_setup))
    }

    /// The host addresses it keeps, on their interfaces.
    pub(super) fn hosts(&self) -> Vec<ServiceNet> {
        if self.cfg.nets.is_empty() {
            self.nets.iter().map(|&net| ServiceNet { net, ifname: LOOPBACK.to_owned() }).collect()
        } else {
            self.cfg.nets.clone()
        }
    }
}

/// Services without `--ip` find their networks on `lo` when they start: two that found the same
/// one would both own it (the configuration already refuses that for `--ip`s). `services`: each
/// service's settings and the networks it found (at start-up, or at a reload for those it
/// starts).
pub(super) fn refuse_shared_discoveries(services: &[(&ServiceConfig, &[Net])]) -> Result<(), UsageError> {
    let name = |cfg: &ServiceConfig| cfg.label().unwrap_or_default().to_owned();
    for (i, (first, first_nets)) in services.iter().enumerate() {
        for (second, second_nets) in &services[i + 1..] {
            if let Some(net) = first_nets.iter().find(|net| second_nets.contains(net)) {
                return Err(UsageError::message(format!(
                    "services [{}] and [{}] both advertise {net}{}; an address belongs to one service \
                     (give each its --ip, or its --label)",
                    name(first),
                    name(second),
                    if first.nets.is_empty() || second.nets.is_empty() { " found on lo" } else { "" },
                )));
            }
        }
    }
    Ok(())
}
