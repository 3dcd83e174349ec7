//! SIGHUP: the configuration read again and applied to the running services. Services are told
//! apart by their key (their section's name; the one service of a file without sections has
//! none). An unchanged service keeps its state and sends nothing; a removed one withdraws its
//! routes and removes the addresses it added; a changed one withdraws the routes it no longer
//! has and starts again from INIT, keeping the addresses it still wants; a new one starts. A
//! configuration that does not load changes nothing. Process-wide options are read at start-up
//! only: a change is logged as needing a restart.

use super::{Plan, Reactor};
use crate::config::ServiceConfig;
use crate::{addr, logging, safety};

/// What tells a service from another across a reload: its section.
fn key(cfg: &ServiceConfig) -> Option<&str> {
    cfg.section.as_deref()
}

/// What a reload does to one service of the new configuration.
enum Change {
    /// Started anew.
    Added(Plan),
    /// Replaces the running service in this slot.
    Changed(usize, Plan),
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
        let mut kept = vec![false; self.slots.len()];
        let mut changes = Vec::new();
        for cfg in settings.services {
            let running = self.slots.iter().position(|slot| key(slot.service.cfg()) == key(&cfg));
            match running {
                Some(i) if kept[i] => {
                    log::error!("the configuration was not reloaded, nothing changed: two services are one");
                    return;
                }
                Some(i) if *self.slots[i].service.cfg() == cfg => kept[i] = true,
                Some(i) => {
                    kept[i] = true;
                    changes.push((Some(i), cfg));
                }
                None => changes.push((None, cfg)),
            }
        }
        // What can fail comes first, so that a failure changes nothing.
        let mut planned = Vec::with_capacity(changes.len());
        for (slot, cfg) in changes {
            match Plan::new(cfg) {
                Ok(plan) => planned.push(match slot {
                    Some(i) => Change::Changed(i, plan),
                    None => Change::Added(plan),
                }),
                Err(err) => {
                    log::error!("the configuration was not reloaded, nothing changed: {err:#}");
                    return;
                }
            }
        }
        let mode = self.process.mode;
        let needs_backend = planned.iter().any(|change| match change {
            Change::Added(plan) | Change::Changed(_, plan) => plan.cfg.manages_addresses(mode),
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
        let removed = kept.iter().filter(|kept| !**kept).count();
        let several = kept.len() - removed + planned.iter().filter(|c| matches!(c, Change::Added(_))).count() > 1;
        if several {
            super::raise_descriptor_limit();
        }
        let (mut added, mut changed) = (0, 0);
        for change in planned {
            match change {
                Change::Changed(i, plan) => {
                    changed += 1;
                    let old = &mut self.slots[i];
                    if let Some(job) = old.job.take() {
                        job.cancel();
                    }
                    let (out, tag) = (&mut self.out, old.tag.clone());
                    logging::scoped(tag.as_ref(), || {
                        log::info!("changed by the new configuration: starting again from INIT");
                        old.service.withdraw_all_but(&plan.routes, out);
                    });
                    let (id, previous) = (old.service.id, old.service.take_ledger());
                    self.slots[i] = self.launch(id, plan, several, previous);
                }
                Change::Added(plan) => {
                    added += 1;
                    let id = self.next_id;
                    self.next_id += 1;
                    let slot = self.launch(id, plan, several, None);
                    logging::scoped(slot.tag.as_ref(), || log::info!("added by the new configuration"));
                    self.slots.push(slot);
                }
            }
        }
        // Removed last: the indices above are those from before.
        for i in (0..kept.len()).rev().filter(|&i| !kept[i]) {
            let mut slot = self.slots.remove(i);
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
        for slot in &mut self.slots {
            slot.tag = super::tag_for(several, slot.service.cfg(), slot.service.id);
        }
        log::info!(
            "configuration reloaded: {} service(s), {added} added, {changed} changed, {removed} removed",
            self.slots.len()
        );
    }
}
