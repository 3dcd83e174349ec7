//! The service addresses on their interfaces: discovery when no `--ip` is given, setting up the
//! missing ones, removing them, and remembering which ones we added (only those go at exit,
//! unless `--dynamic-ip-setup`) and which ones we could not add (never announced).
//!
//! What we add carries our mark ([`crate::addr::ADDRESS_PROTOCOL`], where the kernel keeps
//! one), so an address found already there with the mark was added by an earlier run that
//! could not remove it (killed, or a crash): it counts as ours. One found without it is
//! someone else's and stays.

use crate::addr::{Added, AddrError, AddressBackend, IfAddr};
use crate::config::{ServiceNet, LOOPBACK};
use crate::net::{DisplayIp, Net};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The addresses some service of this process added or recognised and has not removed. A
/// marked address that one of them holds was not left by an earlier run: another service of
/// the same run that has the same address leaves it alone, as it would without the mark.
static HELD: Mutex<BTreeSet<Host>> = Mutex::new(BTreeSet::new());

fn held() -> MutexGuard<'static, BTreeSet<Host>> {
    HELD.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One host address and the interface it belongs on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Host {
    pub ip: IpAddr,
    pub ifname: String,
}

/// The non-loopback addresses on `lo` that can be advertised, as the reference finds them:
/// only those whose address is a network of its own prefix (typically /32 and /128), and with
/// `label`, only IPv4 ones labelled `lo:LABEL...` (or exactly `lo:LABEL`).
pub fn discover(backend: &mut dyn AddressBackend, label: Option<&str>, exact: bool) -> Result<Vec<Net>, AddrError> {
    let found = backend.list(LOOPBACK)?;
    Ok(found
        .into_iter()
        .filter(|a| !is_loopback(a.ip))
        .filter(|a| label.is_none_or(|l| label_matches(a, l, exact)))
        .filter_map(|a| Net::new(a.ip, a.prefix_len))
        .collect())
}

fn label_matches(addr: &IfAddr, label: &str, exact: bool) -> bool {
    let Some(own) = addr.label.as_deref().and_then(|l| l.strip_prefix(LOOPBACK)?.strip_prefix(':')) else {
        return false;
    };
    if exact {
        own == label
    } else {
        own.starts_with(label)
    }
}

/// 127.0.0.0/8 and ::1 are never added or removed.
fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// Why we are removing addresses (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Exiting: only the ones we added, or all with `--dynamic-ip-setup`.
    Exit,
    /// `--dynamic-ip-setup` and the service is down or disabled: all of them.
    Dynamic,
}

/// The addresses one service looks after, and what it did to them. The backend that does the
/// work is the caller's (one for the whole process).
pub struct Addresses {
    /// Whose they are, for the panic hook ([`crate::safety`]).
    service: usize,
    hosts: Vec<Host>,
    label: Option<String>,
    label_exact: bool,
    dynamic: bool,
    /// Added by us: removed at exit.
    owned: BTreeSet<Host>,
    /// We tried to add them and failed: their routes are not announced.
    blocked: BTreeSet<IpAddr>,
    /// Failed attempts since the last success, to log the first one loudly and the rest quietly.
    failures: u64,
    /// [`Addresses::setup`] has run: each address not blocked is on its interface since.
    set_up: bool,
    /// Removed since (and not set up again).
    removed: BTreeSet<IpAddr>,
}

impl Addresses {
    /// Every host address of every network, on its interface; loopback ones left out.
    pub fn new(
        service: usize,
        nets: &[ServiceNet],
        label: Option<String>,
        label_exact: bool,
        dynamic: bool,
    ) -> Addresses {
        let mut hosts = Vec::new();
        let mut seen = BTreeSet::new();
        for service in nets {
            for ip in service.net.hosts() {
                if is_loopback(ip) {
                    log::debug!("{} is a loopback address: never added or removed", DisplayIp(ip));
                } else if seen.insert((ip, service.ifname.clone())) {
                    hosts.push(Host { ip, ifname: service.ifname.clone() });
                }
            }
        }
        Addresses {
            service,
            hosts,
            label,
            label_exact,
            dynamic,
            owned: BTreeSet::new(),
            blocked: BTreeSet::new(),
            failures: 0,
            set_up: false,
            removed: BTreeSet::new(),
        }
    }

    /// Whether any host address of `route` could not be set up (then it is not announced).
    pub fn route_blocked(&self, route: &Net) -> bool {
        !self.blocked.is_empty() && self.blocked.iter().any(|ip| route.contains(*ip))
    }

    /// Whether some address still waits for a successful setup.
    pub fn any_blocked(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// Each address it looks after, and whether it is on its interface as far as we know: set
    /// up (found or added) and not removed since.
    pub fn presence(&self) -> impl Iterator<Item = (IpAddr, bool)> + '_ {
        self.hosts.iter().map(|h| {
            let present = self.set_up && !self.blocked.contains(&h.ip) && !self.removed.contains(&h.ip);
            (h.ip, present)
        })
    }

    /// The addresses we added and have not removed.
    pub fn owned(&self) -> impl Iterator<Item = &Host> {
        self.owned.iter()
    }

    fn label_for(&self, ifname: &str) -> Option<String> {
        self.label.as_ref().map(|l| format!("{ifname}:{l}"))
    }

    /// What is on each interface we care about, by interface.
    fn present(&self, backend: &mut dyn AddressBackend) -> BTreeMap<String, Result<Vec<IfAddr>, AddrError>> {
        let ifnames: BTreeSet<String> = self.hosts.iter().map(|h| h.ifname.clone()).collect();
        ifnames
            .into_iter()
            .map(|ifname| {
                let listed = backend.list(&ifname);
                (ifname, listed)
            })
            .collect()
    }

    /// Add every missing address. One already there with our mark that no service of this
    /// process holds is taken as ours (an earlier run left it). Failures are logged (loudly the
    /// first time) and the address is blocked until a later call succeeds. Stops early when
    /// `stop` becomes true.
    pub fn setup(&mut self, backend: &mut dyn AddressBackend, stop: &AtomicBool) {
        let present = self.present(backend);
        let mut failed: Vec<(Host, AddrError)> = Vec::new();
        let mut added = 0usize;
        let mut recognised = 0usize;
        self.set_up = true;
        let hosts = self.hosts.clone();
        for host in hosts {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let (there, marked) = match present.get(&host.ifname) {
                Some(Ok(list)) => {
                    (list.iter().any(|a| a.ip == host.ip), list.iter().any(|a| a.ip == host.ip && a.marked_ours()))
                }
                Some(Err(AddrError::NoSuchInterface(name))) => {
                    failed.push((host, AddrError::NoSuchInterface(name.clone())));
                    continue;
                }
                _ => (false, false),
            };
            if there {
                if marked && !self.owned.contains(&host) && held().insert(host.clone()) {
                    log::info!(
                        "recognised {} on {} as ours (left by an earlier run): removed at exit",
                        Net::host(host.ip),
                        host.ifname
                    );
                    self.owned.insert(host.clone());
                    recognised += 1;
                }
                self.blocked.remove(&host.ip);
                self.removed.remove(&host.ip);
                continue;
            }
            let label = self.label_for(&host.ifname);
            match backend.add(host.ip, &host.ifname, label.as_deref()) {
                Ok(Added::Added) => {
                    log::debug!("Setup {} IP address {}", host.ifname, DisplayIp(host.ip));
                    self.blocked.remove(&host.ip);
                    self.removed.remove(&host.ip);
                    held().insert(host.clone());
                    self.owned.insert(host);
                    added += 1;
                }
                Ok(Added::AlreadyPresent) => {
                    self.blocked.remove(&host.ip);
                    self.removed.remove(&host.ip);
                }
                Err(err) => failed.push((host, err)),
            }
        }
        if added > 0 {
            log::info!("added {added} service address(es)");
        }
        if added > 0 || recognised > 0 {
            self.publish_owned();
        }
        if failed.is_empty() {
            if self.failures > 0 {
                log::info!("service addresses set up after {} failed attempt(s)", self.failures);
            }
            self.failures = 0;
            return;
        }
        self.failures += 1;
        let first = self.failures == 1;
        for (host, err) in failed {
            let remedy = match err {
                AddrError::PermissionDenied => {
                    "; this process lacks CAP_NET_ADMIN: give the binary the capability \
                     (setcap cap_net_admin+ep), run ExaBGP's processes as root (exabgp.daemon.user), \
                     or use --sudo"
                }
                _ => "",
            };
            let text = format!(
                "failed to add {} to {}: {err}{remedy}; its route is not announced, retrying every interval",
                Net::host(host.ip),
                host.ifname
            );
            if first {
                log::error!("{text}");
            } else {
                log::debug!("{text}");
            }
            self.blocked.insert(host.ip);
        }
    }

    /// Remove addresses: at exit, the ones we added (all of them with `--dynamic-ip-setup`);
    /// when dynamic and the service is down, all of them. With `--label`, an IPv4 address we
    /// did not add is only removed when its label matches.
    pub fn remove(&mut self, backend: &mut dyn AddressBackend, why: Removal) {
        let all = self.dynamic || why == Removal::Dynamic;
        let targets: Vec<Host> = if all {
            let present = self.present(backend);
            self.hosts
                .iter()
                .filter(|h| match present.get(&h.ifname) {
                    Some(Ok(list)) => list
                        .iter()
                        .any(|a| a.ip == h.ip && (self.owned.contains(h) || self.label.is_none() || self.label_ok(a))),
                    _ => false,
                })
                .cloned()
                .collect()
        } else {
            self.owned.iter().cloned().collect()
        };
        for host in targets {
            match backend.remove(host.ip, &host.ifname) {
                Ok(()) => {
                    log::debug!("Remove {} IP address {}", host.ifname, DisplayIp(host.ip));
                    self.removed.insert(host.ip);
                    if self.owned.remove(&host) {
                        held().remove(&host);
                    }
                }
                Err(err) => log::warn!("Unable to remove {} IP address {}: {err}", host.ifname, Net::host(host.ip)),
            }
        }
        self.publish_owned();
    }

    /// The service changed (a reload): the addresses it added that `next` (its new ledger)
    /// does not look after are removed; `next` takes over the others as its own.
    pub fn hand_over(&mut self, backend: &mut dyn AddressBackend, next: &mut Addresses) {
        let owned = std::mem::take(&mut self.owned);
        for host in owned {
            if next.hosts.contains(&host) {
                next.owned.insert(host);
                continue;
            }
            match backend.remove(host.ip, &host.ifname) {
                Ok(()) => {
                    log::debug!("Remove {} IP address {}", host.ifname, DisplayIp(host.ip));
                    self.removed.insert(host.ip);
                }
                Err(err) => {
                    log::warn!("Unable to remove {} IP address {}: {err}", host.ifname, Net::host(host.ip));
                    self.owned.insert(host);
                }
            }
        }
        self.publish_owned();
        next.publish_owned();
    }

    /// Tell the panic hook which addresses are ours now.
    fn publish_owned(&self) {
        crate::safety::set_owned(self.service, self.owned.iter().cloned().collect());
    }

    fn label_ok(&self, addr: &IfAddr) -> bool {
        match (&self.label, addr.ip) {
            // IPv6 addresses carry no label.
            (_, IpAddr::V6(_)) => true,
            (Some(label), _) => addr.label.as_deref().is_some_and(|l| {
                let own = l.split_once(':').map_or("", |(_, rest)| rest);
                if self.label_exact {
                    own == label
                } else {
                    own.starts_with(label.as_str())
                }
            }),
            (None, _) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// An in-memory interface table that records what was asked of it.
    #[derive(Clone, Default)]
    struct Fake {
        table: Arc<Mutex<BTreeMap<String, Vec<IfAddr>>>>,
        deny: Arc<Mutex<bool>>,
        calls: Arc<Mutex<Vec<String>>>,
    }

    impl Fake {
        fn with_lo(addrs: &[(&str, u8, Option<&str>)]) -> Fake {
            let fake = Fake::default();
            let list = addrs
                .iter()
                .map(|(ip, len, label)| IfAddr {
                    ip: ip.parse().unwrap(),
                    prefix_len: *len,
                    label: label.map(str::to_owned),
                    proto: None,
                })
                .collect();
            fake.table.lock().unwrap().insert("lo".into(), list);
            fake
        }
        /// Give the address `ip` on `lo` the protocol `proto`, as if whoever added it had.
        fn mark(&self, ip: &str, proto: u8) {
            let ip: IpAddr = ip.parse().unwrap();
            let mut table = self.table.lock().unwrap();
            table.get_mut("lo").unwrap().iter_mut().filter(|a| a.ip == ip).for_each(|a| a.proto = Some(proto));
        }
        fn ips(&self, ifname: &str) -> Vec<String> {
            let table = self.table.lock().unwrap();
            table.get(ifname).map_or_else(Vec::new, |l| {
                l.iter()
                    .map(|a| {
                        format!(
                            "{}/{}{}",
                            a.ip,
                            a.prefix_len,
                            a.label.as_ref().map_or(String::new(), |l| format!(" {l}"))
                        )
                    })
                    .collect()
            })
        }
    }

    impl AddressBackend for Fake {
        fn list(&mut self, ifname: &str) -> Result<Vec<IfAddr>, AddrError> {
            self.table.lock().unwrap().get(ifname).cloned().ok_or_else(|| AddrError::NoSuchInterface(ifname.into()))
        }
        fn add(&mut self, ip: IpAddr, ifname: &str, label: Option<&str>) -> Result<Added, AddrError> {
            self.calls.lock().unwrap().push(format!("add {ip} {ifname}"));
            if *self.deny.lock().unwrap() {
                return Err(AddrError::PermissionDenied);
            }
            let mut table = self.table.lock().unwrap();
            let list = table.get_mut(ifname).ok_or_else(|| AddrError::NoSuchInterface(ifname.into()))?;
            if list.iter().any(|a| a.ip == ip) {
                return Ok(Added::AlreadyPresent);
            }
            let label = if ip.is_ipv4() { label.map(str::to_owned) } else { None };
            let prefix_len = if ip.is_ipv4() { 32 } else { 128 };
            // As the kernel does (6.3+): what we add carries our mark.
            list.push(IfAddr { ip, prefix_len, label, proto: Some(crate::addr::ADDRESS_PROTOCOL) });
            Ok(Added::Added)
        }
        fn remove(&mut self, ip: IpAddr, ifname: &str) -> Result<(), AddrError> {
            self.calls.lock().unwrap().push(format!("remove {ip} {ifname}"));
            if *self.deny.lock().unwrap() {
                return Err(AddrError::PermissionDenied);
            }
            if let Some(list) = self.table.lock().unwrap().get_mut(ifname) {
                list.retain(|a| a.ip != ip);
            }
            Ok(())
        }
    }

    fn nets(list: &[&str]) -> Vec<ServiceNet> {
        list.iter()
            .map(|s| {
                let (net, ifname) = s.split_once('%').unwrap_or((s, "lo"));
                ServiceNet { net: net.parse().unwrap(), ifname: ifname.into() }
            })
            .collect()
    }

    const LO: [(&str, u8, Option<&str>); 2] = [("127.0.0.1", 8, Some("lo")), ("::1", 128, None)];

    #[test]
    fn discovery_takes_non_loopback_networks_with_matching_labels() {
        let mut fake = Fake::with_lo(&[
            ("127.0.0.1", 8, Some("lo")),
            ("::1", 128, None),
            ("37.72.160.20", 32, Some("lo:web1")),
            ("37.72.160.21", 32, Some("lo:webby")),
            ("37.72.160.22", 32, Some("lo:dns")),
            ("10.0.0.5", 24, Some("lo:web2")),
            ("2001:db8::20", 128, None),
        ]);
        let all: Vec<String> = discover(&mut fake, None, false).unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(all, ["37.72.160.20/32", "37.72.160.21/32", "37.72.160.22/32", "2001:db8::20/128"]);
        let web: Vec<String> =
            discover(&mut fake, Some("web"), false).unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(web, ["37.72.160.20/32", "37.72.160.21/32"]);
        let exact: Vec<String> =
            discover(&mut fake, Some("web1"), true).unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(exact, ["37.72.160.20/32"]);
    }

    #[test]
    fn setup_adds_every_host_with_its_label_and_keeps_what_was_there() {
        let fake = Fake::with_lo(&[LO[0], LO[1], ("192.0.2.1", 32, None)]);
        fake.table.lock().unwrap().insert("dummy0".into(), vec![]);
        let mut a = Addresses::new(
            0,
            &nets(&["192.0.2.0/30", "127.0.0.1", "2001:db8::/127%dummy0"]),
            Some("web".into()),
            false,
            false,
        );
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(
            fake.ips("lo"),
            [
                "127.0.0.1/8 lo",
                "::1/128",
                "192.0.2.1/32",
                "192.0.2.0/32 lo:web",
                "192.0.2.2/32 lo:web",
                "192.0.2.3/32 lo:web"
            ]
        );
        assert_eq!(fake.ips("dummy0"), ["2001:db8::/128", "2001:db8::1/128"]);
        assert!(!a.any_blocked());
        // At exit only what we added goes; 192.0.2.1 and 127.0.0.1 stay.
        a.remove(&mut fake.clone(), Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.1/32"]);
        assert!(fake.ips("dummy0").is_empty());
        assert!(!fake.calls.lock().unwrap().iter().any(|c| c.contains("127.0.0.1")));
    }

    #[test]
    fn denied_addresses_are_blocked_and_retried() {
        let fake = Fake::with_lo(&LO);
        *fake.deny.lock().unwrap() = true;
        let mut a = Addresses::new(0, &nets(&["192.0.2.1", "192.0.2.8/31"]), None, false, false);
        assert!(a.presence().all(|(_, present)| !present), "not set up yet");
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert!(a.any_blocked());
        assert!(a.presence().all(|(_, present)| !present), "none could be added");
        assert!(a.route_blocked(&"192.0.2.1/32".parse().unwrap()));
        assert!(a.route_blocked(&"192.0.2.8/31".parse().unwrap()));
        assert!(!a.route_blocked(&"192.0.2.2/32".parse().unwrap()));
        *fake.deny.lock().unwrap() = false;
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert!(!a.any_blocked());
        assert_eq!(fake.ips("lo").len(), 5);
        assert!(a.presence().all(|(_, present)| present));
    }

    #[test]
    fn a_missing_interface_blocks_its_addresses_only() {
        let fake = Fake::with_lo(&LO);
        let mut a = Addresses::new(0, &nets(&["192.0.2.1", "192.0.2.2%eth9"]), None, false, false);
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert!(!a.route_blocked(&"192.0.2.1/32".parse().unwrap()));
        assert!(a.route_blocked(&"192.0.2.2/32".parse().unwrap()));
    }

    #[test]
    fn dynamic_removal_takes_present_addresses_with_a_matching_label() {
        let fake =
            Fake::with_lo(&[LO[0], LO[1], ("192.0.2.1", 32, Some("lo:other")), ("192.0.2.2", 32, Some("lo:web"))]);
        let mut a = Addresses::new(0, &nets(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]), Some("web".into()), false, true);
        let presence = |a: &Addresses| a.presence().map(|(ip, present)| format!("{ip} {present}")).collect::<Vec<_>>();
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 true", "192.0.2.3 true"]);
        a.remove(&mut fake.clone(), Removal::Dynamic);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.1/32 lo:other"]);
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 false", "192.0.2.3 false"], "another's label stays");
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(fake.ips("lo").len(), 5);
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 true", "192.0.2.3 true"]);
    }

    #[test]
    fn a_changed_service_keeps_the_addresses_it_still_wants_and_removes_the_rest() {
        let fake = Fake::with_lo(&LO);
        let mut before = Addresses::new(7, &nets(&["192.0.2.1", "192.0.2.2"]), None, false, false);
        before.setup(&mut fake.clone(), &AtomicBool::new(false));
        let mut after = Addresses::new(7, &nets(&["192.0.2.2", "192.0.2.3"]), None, false, false);
        before.hand_over(&mut fake.clone(), &mut after);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.2/32"]);
        assert_eq!(before.owned().count(), 0);
        let owned: Vec<String> = after.owned().map(|h| h.ip.to_string()).collect();
        assert_eq!(owned, ["192.0.2.2"], "taken over, so removed at exit");
        after.setup(&mut fake.clone(), &AtomicBool::new(false));
        after.remove(&mut fake.clone(), Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128"]);
    }

    #[test]
    fn setup_stops_when_asked() {
        let fake = Fake::with_lo(&LO);
        let mut a = Addresses::new(0, &nets(&["192.0.2.0/28"]), None, false, false);
        a.setup(&mut fake.clone(), &AtomicBool::new(true));
        assert_eq!(fake.ips("lo").len(), 2);
    }

    // These use addresses of their own (198.51.100.0/24): what a service holds is known to the
    // whole process ([`HELD`]), and the tests run in parallel in one.

    #[test]
    fn a_present_address_with_our_mark_is_ours_and_one_without_it_is_not() {
        let fake = Fake::with_lo(&[
            LO[0],
            LO[1],
            ("198.51.100.1", 32, Some("lo:web")),
            ("198.51.100.2", 32, None),
            ("2001:db8:51::1", 128, None),
            ("2001:db8:51::2", 128, None),
            ("198.51.100.3", 32, None),
        ]);
        fake.mark("198.51.100.1", crate::addr::ADDRESS_PROTOCOL);
        fake.mark("2001:db8:51::1", crate::addr::ADDRESS_PROTOCOL);
        // Someone else's protocol is not ours either.
        fake.mark("198.51.100.3", 4);
        let mut a = Addresses::new(
            0,
            &nets(&["198.51.100.1", "198.51.100.2", "198.51.100.3", "2001:db8:51::1", "2001:db8:51::2"]),
            Some("web".into()),
            false,
            false,
        );
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert!(!fake.calls.lock().unwrap().iter().any(|c| c.starts_with("add")), "{:?}", fake.calls);
        let owned: Vec<String> = a.owned().map(|h| h.ip.to_string()).collect();
        assert_eq!(owned, ["198.51.100.1", "2001:db8:51::1"]);
        assert!(!a.any_blocked());
        // Once recognised it stays ours: a later setup does not count it again.
        a.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(a.owned().count(), 2);

        a.remove(&mut fake.clone(), Removal::Exit);
        assert_eq!(
            fake.ips("lo"),
            ["127.0.0.1/8 lo", "::1/128", "198.51.100.2/32", "2001:db8:51::2/128", "198.51.100.3/32"]
        );
        let calls = fake.calls.lock().unwrap().clone();
        assert_eq!(calls, ["remove 198.51.100.1 lo", "remove 2001:db8:51::1 lo"]);
    }

    #[test]
    fn a_marked_address_another_service_of_this_run_added_stays_that_services() {
        let fake = Fake::with_lo(&LO);
        let mut first = Addresses::new(0, &nets(&["198.51.100.10"]), None, false, false);
        let mut second = Addresses::new(1, &nets(&["198.51.100.10", "198.51.100.11"]), None, false, false);
        first.setup(&mut fake.clone(), &AtomicBool::new(false));
        second.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(first.owned().map(|h| h.ip.to_string()).collect::<Vec<_>>(), ["198.51.100.10"]);
        assert_eq!(second.owned().map(|h| h.ip.to_string()).collect::<Vec<_>>(), ["198.51.100.11"]);
        // Once the first has removed it, the second adds it again and it is the second's.
        first.remove(&mut fake.clone(), Removal::Exit);
        second.setup(&mut fake.clone(), &AtomicBool::new(false));
        assert_eq!(second.owned().count(), 2);
        second.remove(&mut fake.clone(), Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128"]);
    }
}
