//! SIGHUP: the configuration read again and applied to the running services. Services are told
//! apart by their key (their section's name; the one service of a file without sections has
//! none). An unchanged service keeps its state and sends nothing; a removed one withdraws its
//! routes and removes the addresses it added; a changed one withdraws the routes it no longer
//! has and starts again from INIT, keeping the addresses it still wants (and a drain requested
//! on the control socket, and its flap dampening penalty); a new one starts. A configuration that does not load changes
//! nothing. Process-wide options are read at start-up only: a change is logged as needing a
//! restart.
//!
//! Addresses are let go before they are taken: removed services first, then what changed
//! services no longer want, and only then do the changed and new services set theirs up, so
//! that an address moving from one service to another (a section renamed, an `ip` moved) ends
//! up on `lo` and owned by its new service.
//!
//! A new or changed service without `--ip` finds its networks on `lo`: the reload then has two
//! phases, so that the loop never waits for the kernel. The first reads and matches, and asks
//! the address lane for the listing of `lo`; the second, when the lane answers (or has not
//! within [`LISTING_LIMIT`]), finds the networks and applies or refuses, as one reload.

use super::{drive, open_lane, track, Plan, Reactor, Slot};
use crate::addr::op::{Answer, Op};
use crate::addr::{self, AddrError, IfAddr};
use crate::config::{ServiceConfig, Settings, LOOPBACK};
use crate::error::UsageError;
use crate::logging;
use crate::net::Net;
use crate::service::{Next, ServiceId};
use anyhow::Context;
use std::time::{Duration, Instant};

/// What tells a service from another across a reload: its section.
fn key(cfg: &ServiceConfig) -> Option<&str> {
    cfg.section.as_deref()
}

/// What a reload does to one service of the new configuration.
#[derive(Debug, PartialEq)]
enum Change<T> {
    /// The running service at this index, as it is.
    Kept(usize),
    /// Replaces the running service at this index.
    Changed(usize, T),
    /// Started anew.
    Added(T),
}

/// What a reload does, decided before anything changes.
#[derive(Debug, PartialEq)]
struct Draft<T> {
    /// Each service of the new configuration, in its order.
    changes: Vec<Change<T>>,
    /// The indexes of the running services it no longer has.
    removed: Vec<usize>,
}

/// Why a reload changes nothing.
#[derive(Debug)]
enum Refused {
    /// Two services of the new configuration are one running service.
    TwoAreOne,
    /// A service's settings or networks are refused.
    Usage(UsageError),
    /// Something else failed (finding a service's networks, opening the address lane).
    Failed(anyhow::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TwoAreOne => f.write_str("two services are one"),
            Refused::Usage(err) => write!(f, "{err}"),
            Refused::Failed(err) => write!(f, "{err:#}"),
        }
    }
}

/// Match the new configuration's services to the running ones by their key: pure.
fn draft(running: &[&ServiceConfig], next: Vec<ServiceConfig>) -> Result<Draft<ServiceConfig>, Refused> {
    let mut taken = vec![false; running.len()];
    let mut changes = Vec::with_capacity(next.len());
    for cfg in next {
        let found = running.iter().position(|old| key(old) == key(&cfg));
        changes.push(match found {
            Some(i) if std::mem::replace(&mut taken[i], true) => return Err(Refused::TwoAreOne),
            Some(i) if *running[i] == cfg => Change::Kept(i),
            Some(i) => Change::Changed(i, cfg),
            None => Change::Added(cfg),
        });
    }
    let removed = taken.iter().enumerate().filter(|(_, taken)| !**taken).map(|(i, _)| i).collect();
    Ok(Draft { changes, removed })
}

/// The address lane's owner of a reload's listing of `lo` (no service has it: their ids count
/// up from 0).
pub(super) const LISTING: ServiceId = ServiceId::MAX;

/// How long a reload waits for the listing of `lo` (behind the address work queued before it,
/// then the kernel's answer) before it is refused.
const LISTING_LIMIT: Duration = Duration::from_secs(5);

/// A reload between its two phases: read, matched and checked, waiting for the address lane's
/// listing of `lo` to find the networks of its new and changed services without `--ip`.
pub(super) struct Pending {
    draft: Draft<ServiceConfig>,
    /// Refused if the listing has not come by then.
    pub(super) deadline: Instant,
    /// The listing, once the lane gave it.
    listed: Option<Result<Vec<IfAddr>, AddrError>>,
    /// Another SIGHUP came meanwhile: the configuration is read again once this one is over.
    again: bool,
}

/// What the first phase of a reload leaves.
enum Prepared {
    /// Everything known: applied at once.
    Ready(Draft<Plan>),
    /// Its new or changed services without `--ip` wait for the listing of `lo`.
    Listing(Pending),
}

fn refuse(why: &Refused) {
    log::error!("the configuration was not reloaded, nothing changed: {why}");
}

impl Reactor {
    /// SIGHUP: read the configuration again and apply it, each outcome logged once.
    ///
    /// A reload whose new or changed services all have `--ip` is applied at once. One with a
    /// service that finds its networks on `lo` lists `lo` on the address lane (the loop never
    /// waits for the kernel) and is applied, or refused, when the listing comes
    /// ([`Reactor::finish_reload`]); meanwhile every service goes on as it was. A SIGHUP that
    /// comes while a reload waits so is not lost: the configuration is read again, once however
    /// many came, when that reload is over (applied or refused), so that the last file written
    /// before the last SIGHUP is the one that counts.
    pub(super) fn reload(&mut self) {
        if self.reload.is_none() {
            log::info!("received SIGHUP: ignored (no --config file to read again)");
            return;
        }
        if let Some(pending) = self.reloading.as_mut() {
            pending.again = true;
            log::info!("received SIGHUP: a reload is under way; the configuration is read again once it is over");
            return;
        }
        log::info!("received SIGHUP: reading the configuration again");
        self.read_again();
    }

    /// The first phase: read the configuration, then apply it or ask for the listing of `lo`.
    fn read_again(&mut self) {
        let Some(reload) = self.reload.as_mut() else { return };
        let outcome = reload().map_err(Refused::Usage).and_then(|settings| self.prepare(settings));
        match outcome {
            Ok(Prepared::Ready(draft)) => self.apply(draft),
            Ok(Prepared::Listing(pending)) => self.reloading = Some(pending),
            Err(why) => refuse(&why),
        }
    }

    /// The address lane's answer to [`LISTING`]: kept for [`Reactor::finish_reload`].
    pub(super) fn on_listing(&mut self, answer: Answer) {
        if let Some(lane) = self.lane.as_mut() {
            lane.release(LISTING);
        }
        if let Some(pending) = self.reloading.as_mut() {
            pending.listed = Some(answer.listed());
        }
    }

    /// The second phase, once the listing of `lo` came (or did not in time): the networks, the
    /// checks that need them, and the reload applied or refused. At each turn of the loop.
    pub(super) fn finish_reload(&mut self) {
        let Some(pending) = self.reloading.as_mut() else { return };
        let listed = match pending.listed.take() {
            Some(listed) => listed,
            None if Instant::now() >= pending.deadline => {
                if let Some(lane) = self.lane.as_mut() {
                    lane.cancel(LISTING);
                }
                Err(AddrError::Other(anyhow::anyhow!("no answer within {} s", LISTING_LIMIT.as_secs())))
            }
            None => return,
        };
        let Some(Pending { draft, again, .. }) = self.reloading.take() else { return };
        // The services may change now, not at the SIGHUP: the endpoints look again.
        self.generation += 1;
        let outcome = listed
            .with_context(|| format!("failed to list the addresses of {LOOPBACK}"))
            .map_err(Refused::Failed)
            .and_then(|lo| self.finish(draft, &lo));
        match outcome {
            Ok(draft) => self.apply(draft),
            Err(why) => refuse(&why),
        }
        if again {
            log::info!("reading the configuration again (SIGHUP received during the last reload)");
            self.read_again();
        }
    }

    /// A reload given up (we are stopping): its listing too.
    pub(super) fn cancel_reload(&mut self) {
        if self.reloading.take().is_some() {
            if let Some(lane) = self.lane.as_mut() {
                lane.cancel(LISTING);
            }
        }
    }

    /// What can fail before `lo` is looked at, before anything changes: the draft, and the
    /// address lane when a new or changed service must find its networks on `lo`, the
    /// listing of which is then asked for.
    fn prepare(&mut self, settings: Settings) -> Result<Prepared, Refused> {
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
        let running: Vec<&ServiceConfig> = self.slots.iter().map(|slot| slot.service.cfg()).collect();
        let draft = draft(&running, settings.services)?;
        let discovers = draft.changes.iter().any(|change| match change {
            Change::Added(cfg) | Change::Changed(_, cfg) => cfg.nets.is_empty(),
            Change::Kept(_) => false,
        });
        if !discovers {
            return self.finish(draft, &[]).map(Prepared::Ready);
        }
        let lane = match self.lane.as_mut() {
            Some(lane) => lane,
            None => self.lane.insert(open_lane(self.process.sudo).map_err(Refused::Failed)?),
        };
        lane.submit(LISTING, Op::List { ifname: LOOPBACK.to_owned() });
        let deadline = Instant::now() + LISTING_LIMIT;
        Ok(Prepared::Listing(Pending { draft, deadline, listed: None, again: false }))
    }

    /// Everything else that can fail, before anything changes: each new or changed service's
    /// networks (found among `lo`'s addresses without `--ip`), no network found twice, the
    /// address lane when the first service that needs one comes.
    fn finish(&mut self, draft: Draft<ServiceConfig>, lo: &[IfAddr]) -> Result<Draft<Plan>, Refused> {
        let Draft { changes, removed } = draft;
        let plan = |cfg: ServiceConfig| {
            let nets = addr::some_networks(addr::networks_among(&cfg, lo)).map_err(Refused::Failed)?;
            Ok(Plan::found(cfg, nets))
        };
        let changes = changes
            .into_iter()
            .map(|change| {
                Ok(match change {
                    Change::Kept(i) => Change::Kept(i),
                    Change::Changed(i, cfg) => Change::Changed(i, plan(cfg)?),
                    Change::Added(cfg) => Change::Added(plan(cfg)?),
                })
            })
            .collect::<Result<Vec<Change<Plan>>, Refused>>()?;
        let found: Vec<(&ServiceConfig, &[Net])> = changes
            .iter()
            .map(|change| match change {
                Change::Kept(i) => (self.slots[*i].service.cfg(), &self.slots[*i].nets[..]),
                Change::Changed(_, plan) | Change::Added(plan) => (&plan.cfg, &plan.nets[..]),
            })
            .collect();
        super::refuse_shared_discoveries(&found).map_err(Refused::Usage)?;
        let mode = self.process.mode;
        let needs_lane = changes.iter().any(|change| match change {
            Change::Added(plan) | Change::Changed(_, plan) => plan.cfg.manages_addresses(mode),
            Change::Kept(_) => false,
        });
        if needs_lane && self.lane.is_none() {
            self.lane = Some(open_lane(self.process.sudo).map_err(Refused::Failed)?);
        }
        Ok(Draft { changes, removed })
    }

    /// Carry `draft` out. Addresses are let go before they are taken: removed services queue
    /// their removals first, then changed ones what they no longer want, and only then do the
    /// changed and new services set theirs up, at their first iteration (the address lane
    /// does its work in that order).
    fn apply(&mut self, draft: Draft<Plan>) {
        let Draft { changes, removed } = draft;
        let several = changes.len() > 1;
        if several {
            super::raise_descriptor_limit();
        }
        let mut old: Vec<Option<Slot>> = std::mem::take(&mut self.slots).into_iter().map(Some).collect();
        for i in &removed {
            if let Some(slot) = old[*i].take() {
                self.retire(slot);
            }
        }
        let mode = self.process.mode;
        let (mut added, mut changed) = (0, 0);
        for change in changes {
            let slot = match change {
                Change::Kept(i) => old[i].take().expect("each running service is kept once"),
                Change::Changed(i, plan) => {
                    changed += 1;
                    let previous = old[i].take().expect("each running service is changed once");
                    let id = self.take_id();
                    self.replace(previous, id, plan, several)
                }
                Change::Added(plan) => {
                    added += 1;
                    let id = self.take_id();
                    let ledger = plan.ledger(mode);
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
            "configuration reloaded: {} service(s), {added} added, {changed} changed, {} removed",
            self.slots.len(),
            removed.len()
        );
    }

    fn take_id(&mut self) -> ServiceId {
        self.next_id += 1;
        self.next_id - 1
    }

    /// The service that replaces `previous` (changed by the new configuration), as `id`: the
    /// routes that go are withdrawn, the addresses it still wants are handed over (the others
    /// removed as `previous` leaves), and a drain asked for goes on in it.
    fn replace(&mut self, mut previous: Slot, id: ServiceId, plan: Plan, several: bool) -> Slot {
        if let Some(job) = previous.job.take() {
            job.cancel();
        }
        if let Some(lane) = self.lane.as_mut() {
            lane.cancel(previous.service.id);
        }
        let mut next = plan.ledger(self.process.mode);
        let drain = previous.service.drain_requested();
        let draining_since = previous.service.draining_since();
        let penalty = previous.service.penalty_state();
        let Reactor { out, held, lane, .. } = self;
        let mut announced = Vec::new();
        let tag = previous.tag.clone();
        logging::scoped(tag.as_ref(), || {
            log::info!("changed by the new configuration: starting again from INIT");
            drive(&mut previous, out, held, lane.as_mut(), |service, cx| {
                announced = service.withdraw_all_but(&plan.routes, &plan.cfg.announce, cx);
                service.hand_over(next.as_mut(), cx)
            });
            track(held, &previous.service);
        });
        self.leave(previous);
        let mut slot = self.launch(id, plan, several, next);
        track(&mut self.held, &slot.service);
        slot.service.assume_announced(&announced);
        slot.service.request_drain(drain, Instant::now());
        slot.service.carry_drain(draining_since);
        slot.service.carry_penalty(penalty);
        slot
    }

    /// A service the configuration no longer has: its job stopped, its routes withdrawn, the
    /// addresses it added removed.
    fn retire(&mut self, mut slot: Slot) {
        if let Some(job) = slot.job.take() {
            job.cancel();
        }
        if let Some(lane) = self.lane.as_mut() {
            lane.cancel(slot.service.id);
        }
        let Reactor { out, held, lane, .. } = self;
        let tag = slot.tag.clone();
        logging::scoped(tag.as_ref(), || {
            log::info!("removed from the configuration: withdrawing");
            drive(&mut slot, out, held, lane.as_mut(), |service, cx| {
                service.exit(cx);
                Next::Wait
            });
            drive(&mut slot, out, held, lane.as_mut(), |service, cx| service.leave(cx));
        });
        self.leave(slot);
    }

    /// `slot` stays with the leaving services until its address work is over.
    fn leave(&mut self, slot: Slot) {
        if slot.service.gone() {
            self.held.retain(|_, owner| *owner != slot.service.id);
            crate::safety::forget(slot.service.id);
        } else {
            self.leaving.push(slot);
        }
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

    /// A reactor running the one service of `first` (with an `--ip`), with `lane` if given.
    pub(super) fn one_service(first: &Settings, lane: Option<super::super::Lane>) -> Reactor {
        let (tx, inbox) = events::channel().unwrap();
        let out = Outbox { writer: Writer::start(Sink::default(), tx, None), acks: None };
        let cfg = first.services[0].clone();
        let routes = crate::service::routes(&[cfg.nets[0].net], false, 0);
        let service = Service::new(0, cfg, false, routes, None, Instant::now());
        let stop = Arc::new(AtomicBool::new(false));
        Reactor::new(first.process.clone(), inbox, stop, out, lane, vec![service])
    }

    #[test]
    fn a_changed_service_keeps_a_requested_drain_and_an_unchanged_one_its_state() {
        let first = settings(&["--rise", "1"]);
        let mut reactor = one_service(&first, None);
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

#[cfg(test)]
mod draft_tests {
    use super::*;
    use crate::cli::{parse, Parsed};

    fn cfg(section: Option<&str>, rise: &str) -> ServiceConfig {
        let argv = ["exabgp-healthcheck", "--no-ip-setup", "--ip", "192.0.2.1", "--rise", rise];
        let Ok(Parsed::Run(args)) = parse(argv) else { panic!() };
        let mut cfg = Settings::from_args(*args).unwrap().services.remove(0);
        cfg.section = section.map(str::to_owned);
        cfg
    }

    #[test]
    fn services_are_matched_by_section_kept_changed_added_and_removed() {
        let (a, b, c) = (cfg(Some("a"), "1"), cfg(Some("b"), "1"), cfg(Some("c"), "1"));
        let running = [&a, &b, &c];
        let b2 = cfg(Some("b"), "2");
        let d = cfg(Some("d"), "1");
        let planned = draft(&running, vec![d.clone(), b2.clone(), a.clone()]).unwrap();
        assert_eq!(
            planned,
            Draft { changes: vec![Change::Added(d), Change::Changed(1, b2), Change::Kept(0)], removed: vec![2] }
        );
        // Nothing changed: every one kept, in the new order.
        let same = draft(&running, vec![c.clone(), a.clone(), b.clone()]).unwrap();
        assert_eq!(same, Draft { changes: vec![Change::Kept(2), Change::Kept(0), Change::Kept(1)], removed: vec![] });
        // Everything removed.
        assert_eq!(draft(&running, vec![]).unwrap().removed, [0, 1, 2]);
        // A file without sections: its one service keeps its key (none).
        let plain = cfg(None, "1");
        assert_eq!(draft(&[&plain], vec![cfg(None, "3")]).unwrap().changes.len(), 1);
        assert!(matches!(draft(&[&plain], vec![cfg(None, "3")]).unwrap().changes[0], Change::Changed(0, _)));
    }

    #[test]
    fn two_services_that_are_one_running_service_are_refused() {
        let plain = cfg(None, "1");
        let refused = draft(&[&plain], vec![cfg(None, "1"), cfg(None, "2")]);
        assert!(matches!(refused, Err(Refused::TwoAreOne)));
    }
}

#[cfg(test)]
mod lane_tests {
    //! A reload whose service finds its networks on `lo` asks the address lane for the listing
    //! and is applied when it comes: the loop never waits for it. The lane is made busy first
    //! with another owner's slow `sudo` (a script that sleeps), so that the listing waits
    //! behind it, as it would behind a slow address change.

    use super::super::{Lane, Reactor};
    use super::*;
    use crate::addr::{AddressBackend, NetlinkBackend, Sudo};
    use crate::cli::{parse, Parsed};
    use crate::poll::{poll_until, Ready};
    use crate::scratch::Scratch;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Not a service's id: its answers are for nobody.
    const OTHER: ServiceId = 99;

    fn settings(argv: &[&str]) -> Settings {
        let mut all = vec!["exabgp-healthcheck", "--no-ip-setup", "--no-ack"];
        all.extend_from_slice(argv);
        let Ok(Parsed::Run(args)) = parse(all) else { panic!("{argv:?}") };
        Settings::from_args(*args).unwrap()
    }

    /// A reactor running one service with `--ip 192.0.2.1`, its lane busy for `busy` with a
    /// `sudo` of `OTHER`'s, reloading with `next` (counted in `reads`).
    fn reactor(dir: &Scratch, busy: &str, next: &'static [&'static str], reads: &Rc<Cell<usize>>) -> Reactor {
        let script = dir.join("sudo");
        std::fs::write(&script, format!("#!/bin/sh\nsleep {busy}\n")).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut lane = Lane::open(Some(Sudo::with_program(&script))).unwrap();
        let ip = "192.0.2.200".parse().unwrap();
        lane.submit(OTHER, Op::Remove { ip, ifname: LOOPBACK.to_owned() });
        let first = settings(&["--ip", "192.0.2.1"]);
        let mut reactor = super::tests::one_service(&first, Some(lane));
        let reads = Rc::clone(reads);
        reactor.reload = Some(Box::new(move || {
            reads.set(reads.get() + 1);
            Ok(settings(next))
        }));
        reactor
    }

    /// What the loop does for the address lane, until the reload is over (within `limit`).
    fn until_reloaded(reactor: &mut Reactor, limit: Duration) {
        let until = Instant::now() + limit;
        while reactor.reloading.is_some() && Instant::now() < until {
            let mut fds = Vec::new();
            reactor.lane.as_ref().unwrap().poll_fds(&mut fds);
            let _ = poll_until(&mut fds, Some(Instant::now() + Duration::from_millis(20)));
            let ready = Ready::of(&fds);
            drop(fds);
            reactor.lane_ready = ready;
            reactor.answer_addresses();
            // The service whose work it was would let the lane go at its answer.
            reactor.lane.as_mut().unwrap().release(OTHER);
            reactor.finish_reload();
        }
    }

    #[test]
    fn a_service_without_ip_is_reloaded_once_the_lane_has_listed_lo() {
        // In a network namespace of this thread's own, with an address on its lo.
        let body = || {
            if let Err(err) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                return println!("SKIP: cannot enter a network namespace: {err}");
            }
            NetlinkBackend::new().unwrap().add("192.0.2.9".parse().unwrap(), LOOPBACK, None).unwrap();
            let dir = Scratch::new("reload-lane");
            let reads = Rc::new(Cell::new(0));
            let mut reactor = reactor(&dir, "0.4", &["--rise", "2"], &reads);
            let asked = Instant::now();
            reactor.reload();
            // Not applied yet, and the loop was not held up: the listing waits on the lane.
            assert!(asked.elapsed() < Duration::from_millis(200), "the reload waited {:?}", asked.elapsed());
            assert!(reactor.reloading.is_some(), "the reload did not wait for the lane");
            assert_eq!(reactor.slots[0].service.cfg().nets.len(), 1, "applied before lo was listed");
            until_reloaded(&mut reactor, Duration::from_secs(5));
            assert!(asked.elapsed() >= Duration::from_millis(300), "lo listed before the lane's work before it");
            assert!(reactor.reloading.is_none(), "the reload never ended");
            let slot = &reactor.slots[0];
            assert_eq!(slot.service.cfg().thresholds.rise, 2, "not reloaded");
            assert_eq!(slot.nets, ["192.0.2.9/32".parse::<Net>().unwrap()]);
            assert_eq!(reads.get(), 1);
        };
        std::thread::spawn(body).join().unwrap();
    }

    #[test]
    fn a_listing_that_does_not_come_refuses_the_reload_and_a_sighup_meanwhile_reads_again() {
        let dir = Scratch::new("reload-lane-late");
        let reads = Rc::new(Cell::new(0));
        let mut reactor = reactor(&dir, "30", &["--rise", "2"], &reads);
        reactor.reload();
        assert!(reactor.reloading.is_some());
        // A second SIGHUP meanwhile: remembered, not read now.
        reactor.reload();
        reactor.reload();
        assert_eq!(reads.get(), 1);
        // Its time is up: refused, nothing changed, and the configuration read again (once).
        reactor.reloading.as_mut().unwrap().deadline = Instant::now();
        reactor.finish_reload();
        assert_eq!(reactor.slots[0].service.cfg().thresholds.rise, 3, "changed by a refused reload");
        assert_eq!(reads.get(), 2);
        assert!(reactor.reloading.as_ref().is_some_and(|pending| !pending.again), "the read again waits too");
        // A reload given up (we stop): its listing leaves the lane, the sudo is killed.
        reactor.cancel_reload();
        reactor.lane.as_mut().unwrap().cancel(OTHER);
        assert!(!reactor.lane.as_ref().unwrap().busy());
    }

    #[test]
    fn a_reload_whose_services_all_have_ip_is_applied_at_once_even_with_the_lane_busy() {
        let dir = Scratch::new("reload-lane-ip");
        let reads = Rc::new(Cell::new(0));
        let mut reactor = reactor(&dir, "30", &["--ip", "192.0.2.1", "--rise", "3"], &reads);
        reactor.reload();
        assert!(reactor.reloading.is_none());
        assert_eq!(reactor.slots[0].service.cfg().thresholds.rise, 3);
        reactor.lane.as_mut().unwrap().cancel(OTHER);
    }
}
