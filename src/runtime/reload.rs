//! SIGHUP: the configuration read again and applied to the running services. Services are told
//! apart by their key (their section's name; the one service of a file without sections has
//! none). An unchanged service keeps its state and sends nothing; a removed one withdraws its
//! routes and removes the addresses it added; a changed one withdraws the routes it no longer
//! has and starts again from INIT, keeping the addresses it still wants (and a drain requested
//! on the control socket); a new one starts. A configuration that does not load changes
//! nothing. Process-wide options are read at start-up only: a change is logged as needing a
//! restart.
//!
//! Addresses are let go before they are taken: removed services first, then what changed
//! services no longer want, and only then do the changed and new services set theirs up, so
//! that an address moving from one service to another (a section renamed, an `ip` moved) ends
//! up on `lo` and owned by its new service.

use super::{Plan, Reactor, Slot};
use crate::addr::ledger::Removal;
use crate::config::ServiceConfig;
use crate::net::Net;
use crate::{addr, logging, safety};
use std::time::Instant;

/// What tells a service from another across a reload: its section.
fn key(cfg: &ServiceConfig) -> Option<&str> {
    cfg.section.as_deref()
}

/// What a reload does to one service of the new configuration.
enum Change {
    /// The running service in this slot, as it is.
    Kept(usize),
    /// Replaces the running service in this slot.
    Changed(usize, Plan),
    /// Started anew.
    Added(Plan),
}

impl Reactor {
    /// Read the configuration again and apply it.
    pub(super) fn reload(&mut self) {
        let Some(reload) = self.reload.as_mut() else {
            log::info!("received SIGHUP: ignored (no --config file to read again)");
            return;
        };
        log::info!("received SIGHUP: reading the configuration again");
        let settings = match reload() {
            Ok(settings) => settings,
            Err(err) => {
                log::error!("the configuration was not reloaded, nothing changed: {err}");
                return;
            }
        };
        if settings.process != self.process {
            log::warn!("process-wide options changed: they take effect when the plugin is restarted");
        }
        if settings.process.control_socket != self.process.control_socket {
            let shown = |path: &Option<std::path::PathBuf>| {
                path.as_ref().map_or("none".to_owned(), |p| p.display().to_string())
            };
            log::warn!(
                "--control-socket changed from {} to {}: the socket stays as it is until the plugin is restarted",
                shown(&self.process.control_socket),
                shown(&settings.process.control_socket)
            );
        }
        // What can fail comes first, so that a failure changes nothing.
        let mut taken = vec![false; self.slots.len()];
        let mut changes = Vec::with_capacity(settings.services.len());
        for cfg in settings.services {
            let running = self.slots.iter().position(|slot| key(slot.service.cfg()) == key(&cfg));
            if let Some(i) = running {
                if taken[i] {
                    log::error!("the configuration was not reloaded, nothing changed: two services are one");
                    return;
                }
                taken[i] = true;
            }
            let change = match running {
                Some(i) if *self.slots[i].service.cfg() == cfg => Change::Kept(i),
                running => match Plan::new(cfg) {
                    Ok(plan) => match running {
                        Some(i) => Change::Changed(i, plan),
                        None => Change::Added(plan),
                    },
                    Err(err) => {
                        log::error!("the configuration was not reloaded, nothing changed: {err:#}");
                        return;
                    }
                },
            };
            changes.push(change);
        }
        let found: Vec<(&ServiceConfig, &[Net])> = changes
            .iter()
            .map(|change| match change {
                Change::Kept(i) => (self.slots[*i].service.cfg(), &self.slots[*i].nets[..]),
                Change::Changed(_, plan) | Change::Added(plan) => (&plan.cfg, &plan.nets[..]),
            })
            .collect();
        if let Err(err) = super::refuse_shared_discoveries(&found) {
            log::error!("the configuration was not reloaded, nothing changed: {err}");
            return;
        }
        let mode = self.process.mode;
        let needs_backend = changes.iter().any(|change| match change {
            Change::Added(plan) | Change::Changed(_, plan) => plan.cfg.manages_addresses(mode),
            Change::Kept(_) => false,
        });
        if needs_backend && self.backend.is_none() {
            match addr::open(self.process.sudo) {
                Ok(backend) => self.backend = Some(backend),
                Err(err) => {
                    log::error!("the configuration was not reloaded, nothing changed: {err:#}");
                    return;
                }
            }
        }
        let several = changes.len() > 1;
        if several {
            super::raise_descriptor_limit();
        }
        let mut old: Vec<Option<Slot>> = std::mem::take(&mut self.slots).into_iter().map(Some).collect();

        // 1. Removed services: withdraw, remove what they added.
        let removed = taken.iter().filter(|taken| !**taken).count();
        for slot in old.iter_mut().zip(&taken).filter(|(_, taken)| !**taken).filter_map(|(slot, _)| slot.take()) {
            self.retire(slot);
        }

        // 2. Changed services: stop, withdraw the routes that go, let go of the addresses that go.
        let mut ledgers = Vec::with_capacity(changes.len());
        for change in &changes {
            let Change::Changed(i, plan) = change else {
                ledgers.push(None);
                continue;
            };
            let slot = old[*i].as_mut().expect("each running service is changed once");
            if let Some(job) = slot.job.take() {
                job.cancel();
            }
            let (out, backend) = (&mut self.out, self.backend.as_deref_mut());
            let (id, mut previous) = (slot.service.id, slot.service.take_ledger());
            // A drain asked for goes on in the service that replaces it.
            let drain = slot.service.drain_requested();
            let mut next = plan.ledger(id, mode);
            let announced = logging::scoped(slot.tag.as_ref(), || {
                log::info!("changed by the new configuration: starting again from INIT");
                let announced = slot.service.withdraw_all_but(&plan.routes, &plan.cfg.announce, out);
                match (backend, previous.as_mut(), next.as_mut()) {
                    (Some(backend), Some(previous), Some(next)) => previous.hand_over(backend, next),
                    (Some(backend), Some(previous), None) => previous.remove(backend, Removal::Exit),
                    _ => {}
                }
                announced
            });
            ledgers.push(Some((id, next, drain, announced)));
        }

        // 3. The new table, in the new configuration's order; changed and new services set up
        // their addresses now.
        let (mut added, mut changed) = (0, 0);
        for (change, ledger) in changes.into_iter().zip(ledgers) {
            let slot = match change {
                Change::Kept(i) => old[i].take().expect("each running service is kept once"),
                Change::Changed(_, plan) => {
                    changed += 1;
                    let (id, ledger, drain, announced) = ledger.expect("a changed service's ledger");
                    let mut slot = self.launch(id, plan, several, ledger);
                    slot.service.assume_announced(&announced);
                    slot.service.request_drain(drain, Instant::now());
                    slot
                }
                Change::Added(plan) => {
                    added += 1;
                    let id = self.next_id;
                    self.next_id += 1;
                    let ledger = plan.ledger(id, mode);
                    let slot = self.launch(id, plan, several, ledger);
                    logging::scoped(slot.tag.as_ref(), || log::info!("added by the new configuration"));
                    slot
                }
            };
            self.slots.push(slot);
        }
        for slot in &mut self.slots {
            slot.tag = super::tag_for(several, slot.service.cfg(), slot.service.id);
        }
        log::info!(
            "configuration reloaded: {} service(s), {added} added, {changed} changed, {removed} removed",
            self.slots.len()
        );
    }

    /// A service the configuration no longer has: its job stopped, its routes withdrawn, the
    /// addresses it added removed.
    fn retire(&mut self, mut slot: Slot) {
        if let Some(job) = slot.job.take() {
            job.cancel();
        }
        let (out, stop) = (&mut self.out, &self.stop);
        let mut backend = self.backend.as_deref_mut();
        logging::scoped(slot.tag.as_ref(), || {
            log::info!("removed from the configuration: withdrawing");
            slot.service.exit(out, backend.as_deref_mut(), stop);
            slot.service.remove_addresses(backend);
        });
        safety::forget(slot.service.id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{events, Reactor};
    use crate::cli::{parse, Parsed};
    use crate::config::Settings;
    use crate::exabgp::pipe::{Sink, Writer};
    use crate::exabgp::Outbox;
    use crate::service::Service;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Instant;

    fn settings(argv: &[&str]) -> Settings {
        let mut all = vec!["exabgp-healthcheck", "--no-ip-setup", "--no-ack", "--ip", "192.0.2.1"];
        all.extend_from_slice(argv);
        let Ok(Parsed::Run(args)) = parse(all) else { panic!("{argv:?}") };
        Settings::from_args(*args).unwrap()
    }

    #[test]
    fn a_changed_service_keeps_a_requested_drain_and_an_unchanged_one_its_state() {
        let first = settings(&["--rise", "1"]);
        let (tx, inbox) = events::channel().unwrap();
        let out = Outbox { writer: Writer::start(Sink::default(), tx, None), acks: None };
        let cfg = first.services[0].clone();
        let routes = crate::service::routes(&[cfg.nets[0].net], false, 0);
        let service = Service::new(0, cfg, false, routes, None, Instant::now());
        let stop = Arc::new(AtomicBool::new(false));
        let mut reactor = Reactor::new(first.process.clone(), inbox, stop, out, None, vec![service]);
        reactor.slots[0].service.request_drain(true, Instant::now());
        let mut next = vec![settings(&["--rise", "1"]), settings(&["--rise", "2"])];
        reactor.reload = Some(Box::new(move || Ok(next.remove(0))));
        // Unchanged: the same service, its request with it.
        reactor.reload();
        assert!(reactor.slots[0].service.drain_requested());
        // Changed: a new service from INIT, the request carried over.
        reactor.reload();
        assert_eq!(reactor.slots[0].service.cfg().thresholds.rise, 2);
        assert!(reactor.slots[0].service.drain_requested(), "the drain request was lost by the reload");
    }
}
