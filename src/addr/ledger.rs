//! The service addresses on their interfaces: discovery when no `--ip` is given, setting up the
//! missing ones, removing them, and remembering which ones we added (only those go at exit,
//! unless `--dynamic-ip-setup`) and which ones we could not add (never announced).
//!
//! What we add carries our mark ([`crate::addr::ADDRESS_PROTOCOL`], where the kernel keeps
//! one), so an address found already there with the mark was added by an earlier run that
//! could not remove it (killed, or a crash): it counts as ours. One found without it is
//! someone else's and stays.

use super::op::{Answer, Op};
use crate::addr::{Added, AddrError, AddressBackend, IfAddr};
use crate::config::{ServiceNet, LOOPBACK};
use crate::net::{DisplayIp, Net};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

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
    Ok(discovered(&backend.list(LOOPBACK)?, label, exact))
}

/// What [`discover`] finds among `found`, the addresses `lo` was listed with: no I/O.
pub fn discovered(found: &[IfAddr], label: Option<&str>, exact: bool) -> Vec<Net> {
    found
        .iter()
        .filter(|a| !is_loopback(a.ip))
        .filter(|a| label.is_none_or(|l| label_matches(a, l, exact)))
        .filter_map(|a| Net::new(a.ip, a.prefix_len))
        .collect()
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
    hosts: Vec<Host>,
    label: Option<String>,
    label_exact: bool,
    dynamic: bool,
    /// Added by us: removed at exit.
    owned: BTreeSet<Host>,
    /// We tried to add them and failed: their routes are not announced.
    blocked: BTreeSet<IpAddr>,
    /// Failed set-ups since the last success: the first is logged loudly, the rest quietly, and
    /// the retries back off.
    failures: u64,
    /// A set-up has run: each address not blocked is on its interface since.
    set_up: bool,
    /// Removed since (and not set up again).
    removed: BTreeSet<IpAddr>,
    /// On their interface at some time (found or added).
    ever_up: BTreeSet<IpAddr>,
}

impl Addresses {
    /// Every host address of every network, on its interface; loopback ones left out.
    pub fn new(nets: &[ServiceNet], label: Option<String>, label_exact: bool, dynamic: bool) -> Addresses {
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
            hosts,
            label,
            label_exact,
            dynamic,
            owned: BTreeSet::new(),
            blocked: BTreeSet::new(),
            failures: 0,
            set_up: false,
            removed: BTreeSet::new(),
            ever_up: BTreeSet::new(),
        }
    }

    /// Whether any host address of `route` could not be set up (then it is not announced).
    pub fn route_blocked(&self, route: &Net) -> bool {
        !self.blocked.is_empty() && self.blocked.iter().any(|ip| route.contains(*ip))
    }

    /// Whether some host address of `route` could not be set up and never was: then the
    /// route was never announced.
    pub fn route_never_up(&self, route: &Net) -> bool {
        self.blocked.iter().any(|ip| route.contains(*ip) && !self.ever_up.contains(ip))
    }

    /// `host` is on its interface.
    fn up(&mut self, host: &Host) {
        self.blocked.remove(&host.ip);
        self.removed.remove(&host.ip);
        self.ever_up.insert(host.ip);
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

    /// The interfaces its addresses are on.
    fn interfaces(&self) -> VecDeque<String> {
        let ifnames: BTreeSet<&str> = self.hosts.iter().map(|h| h.ifname.as_str()).collect();
        ifnames.into_iter().map(str::to_owned).collect()
    }

    /// How many set-ups in a row have failed (0 after one that succeeded).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Set up every missing address: one already there with our mark that no other service of
    /// this process holds is taken as ours (an earlier run left it). Failures are logged
    /// (loudly the first time) and the address is blocked until a later set-up succeeds.
    pub fn setup(&self) -> Work {
        Work::new(Task::Setup, self.interfaces())
    }

    /// Remove addresses: at exit, the ones we added (all of them with `--dynamic-ip-setup`);
    /// when dynamic and the service is down, all of them. With `--label`, an IPv4 address we
    /// did not add is only removed when its label matches.
    pub fn remove(&self, why: Removal) -> Work {
        let all = self.dynamic || why == Removal::Dynamic;
        if all {
            Work::new(Task::RemoveAll, self.interfaces())
        } else {
            Work::removing(self.owned.iter().cloned().collect())
        }
    }

    /// The service changed (a reload): `next` (its new ledger) takes over the addresses this
    /// one added that it looks after too; the work returned removes the others.
    pub fn hand_over(&mut self, next: &mut Addresses) -> Work {
        let (kept, gone): (BTreeSet<Host>, BTreeSet<Host>) =
            std::mem::take(&mut self.owned).into_iter().partition(|host| next.hosts.contains(host));
        next.owned.extend(kept);
        self.owned = gone.clone();
        Work::removing(gone.into_iter().collect())
    }

    /// What a finished set-up found: log it, and block what could not be set up.
    fn setup_done(&mut self, added: usize, failed: Vec<(Host, AddrError)>) {
        if added > 0 {
            log::info!("added {added} service address(es)");
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
                "failed to add {} to {}: {err}{remedy}; its route is not announced, retrying with back-off",
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

/// What a piece of address work is for.
#[derive(Debug)]
enum Task {
    /// Add what is missing.
    Setup,
    /// Remove these (they are ours).
    Remove(Vec<Host>),
    /// Remove every address of the service found on its interfaces (`--dynamic-ip-setup`).
    RemoveAll,
}

/// One piece of a service's address work, as a sequence of [`Op`]s: first the listing of its
/// interfaces where it needs one, then the changes, one at a time. Pure: whoever carries the
/// operations out (the reactor's [`super::lane::Lane`], or [`Work::run`] over a synchronous
/// backend) hands each answer back with [`Work::answer`] and asks for the next operation with
/// [`Work::next`] until there is none. The ledger is the service's, passed in at each step.
#[derive(Debug)]
pub struct Work {
    task: Task,
    /// Interfaces still to list.
    to_list: VecDeque<String>,
    /// What listing found, by interface.
    present: BTreeMap<String, Result<Vec<IfAddr>, AddrError>>,
    /// The changes, once planned: still to make.
    changes: Option<VecDeque<(Host, Op)>>,
    /// The operation in flight, and the host it is about.
    in_flight: Option<(Option<Host>, Op)>,
    /// The addition in flight made its host ours until it is answered.
    provisional: bool,
    /// A set-up's tallies.
    added: usize,
    failed: Vec<(Host, AddrError)>,
    /// Everything is done (and logged).
    done: bool,
}

impl Work {
    fn new(task: Task, to_list: VecDeque<String>) -> Work {
        Work {
            task,
            to_list,
            present: BTreeMap::new(),
            changes: None,
            in_flight: None,
            provisional: false,
            added: 0,
            failed: Vec::new(),
            done: false,
        }
    }

    /// The removal of `hosts` (ours): their interfaces listed first, so that only those still
    /// there are removed (with `--sudo`, a `sudo` for nothing is a `sudo` that may hang).
    fn removing(hosts: Vec<Host>) -> Work {
        let ifnames: BTreeSet<&str> = hosts.iter().map(|h| h.ifname.as_str()).collect();
        let to_list = ifnames.into_iter().map(str::to_owned).collect();
        Work::new(Task::Remove(hosts), to_list)
    }

    /// The next operation to carry out, `None` once the work is over. `held`: the addresses
    /// other services of this process hold now (a marked one among them is not ours to
    /// recognise).
    pub fn next(&mut self, ledger: &mut Addresses, held: &dyn Fn(&Host) -> bool) -> Option<Op> {
        if self.done {
            return None;
        }
        if let Some((_, op)) = &self.in_flight {
            return Some(op.clone());
        }
        if let Some(ifname) = self.to_list.front() {
            let op = Op::List { ifname: ifname.clone() };
            self.in_flight = Some((None, op.clone()));
            return Some(op);
        }
        if self.changes.is_none() {
            self.changes = Some(self.plan(ledger, held));
        }
        match self.changes.as_mut().and_then(VecDeque::pop_front) {
            Some((host, op)) => {
                // An addition counts as ours from the moment it is asked for: should its answer
                // never come (we are stopping, and give it up), the address may be there all the
                // same, and it is removed with the others.
                self.provisional = matches!(op, Op::Add { .. }) && ledger.owned.insert(host.clone());
                self.in_flight = Some((Some(host), op.clone()));
                Some(op)
            }
            None => {
                self.done = true;
                if matches!(self.task, Task::Setup) {
                    ledger.setup_done(self.added, std::mem::take(&mut self.failed));
                }
                None
            }
        }
    }

    /// The answer to the operation [`Work::next`] gave last.
    pub fn answer(&mut self, ledger: &mut Addresses, answer: Answer) {
        let Some((host, _)) = self.in_flight.take() else { return };
        if let (true, Some(host)) = (std::mem::take(&mut self.provisional), &host) {
            ledger.owned.remove(host);
        }
        match (answer, host) {
            (Answer::Listed(listed), None) => {
                if let Some(ifname) = self.to_list.pop_front() {
                    self.present.insert(ifname, listed);
                }
            }
            (Answer::Added(result), Some(host)) => match result {
                Ok(Added::Added) => {
                    log::debug!("Setup {} IP address {}", host.ifname, DisplayIp(host.ip));
                    ledger.up(&host);
                    ledger.owned.insert(host);
                    self.added += 1;
                }
                Ok(Added::AlreadyPresent) => ledger.up(&host),
                Err(err) => self.failed.push((host, err)),
            },
            (Answer::Removed(result), Some(host)) => match result {
                Ok(()) => {
                    log::debug!("Remove {} IP address {}", host.ifname, DisplayIp(host.ip));
                    ledger.removed.insert(host.ip);
                    ledger.owned.remove(&host);
                }
                Err(err) => log::warn!("Unable to remove {} IP address {}: {err}", host.ifname, Net::host(host.ip)),
            },
            (answer, host) => log::debug!("address work: {answer:?} does not answer {host:?}"),
        }
    }

    /// Whether it sets addresses up (rather than removing them).
    pub fn is_setup(&self) -> bool {
        matches!(self.task, Task::Setup)
    }

    /// The changes to make, from what listing found.
    fn plan(&mut self, ledger: &mut Addresses, held: &dyn Fn(&Host) -> bool) -> VecDeque<(Host, Op)> {
        match &self.task {
            Task::Setup => self.plan_setup(ledger, held),
            // Only those still there (an addition given up at exit may never have been made),
            // or all of them when their interface could not be listed.
            Task::Remove(hosts) => hosts
                .iter()
                .filter(|h| match self.present.get(&h.ifname) {
                    Some(Ok(list)) => list.iter().any(|a| a.ip == h.ip),
                    _ => true,
                })
                .map(|host| (host.clone(), remove(host)))
                .collect(),
            Task::RemoveAll => ledger
                .hosts
                .iter()
                .filter(|h| match self.present.get(&h.ifname) {
                    Some(Ok(list)) => list.iter().any(|a| {
                        a.ip == h.ip && (ledger.owned.contains(h) || ledger.label.is_none() || ledger.label_ok(a))
                    }),
                    _ => false,
                })
                .map(|host| (host.clone(), remove(host)))
                .collect(),
        }
    }

    fn plan_setup(&mut self, ledger: &mut Addresses, held: &dyn Fn(&Host) -> bool) -> VecDeque<(Host, Op)> {
        ledger.set_up = true;
        let mut changes = VecDeque::new();
        for host in ledger.hosts.clone() {
            let (there, marked) = match self.present.get(&host.ifname) {
                Some(Ok(list)) => {
                    (list.iter().any(|a| a.ip == host.ip), list.iter().any(|a| a.ip == host.ip && a.marked_ours()))
                }
                Some(Err(AddrError::NoSuchInterface(name))) => {
                    let name = name.clone();
                    self.failed.push((host, AddrError::NoSuchInterface(name)));
                    continue;
                }
                _ => (false, false),
            };
            if there {
                if marked && !ledger.owned.contains(&host) && !held(&host) {
                    log::info!(
                        "recognised {} on {} as ours (left by an earlier run): removed at exit",
                        Net::host(host.ip),
                        host.ifname
                    );
                    ledger.owned.insert(host.clone());
                }
                ledger.up(&host);
                continue;
            }
            let label = ledger.label_for(&host.ifname);
            let op = Op::Add { ip: host.ip, ifname: host.ifname.clone(), label };
            changes.push_back((host, op));
        }
        changes
    }

    /// Carry the whole work out on a synchronous backend (tests).
    pub fn run(mut self, ledger: &mut Addresses, backend: &mut dyn AddressBackend, held: &dyn Fn(&Host) -> bool) {
        while let Some(op) = self.next(ledger, held) {
            let answer = super::op::run(backend, &op);
            self.answer(ledger, answer);
        }
    }
}

fn remove(host: &Host) -> Op {
    Op::Remove { ip: host.ip, ifname: host.ifname.clone() }
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

    /// Set `a` up on `fake`, with nothing held elsewhere.
    fn setup(a: &mut Addresses, fake: &Fake) {
        setup_beside(a, fake, &BTreeSet::new());
    }

    fn setup_beside(a: &mut Addresses, fake: &Fake, held: &BTreeSet<Host>) {
        a.setup().run(a, &mut fake.clone(), &|host| held.contains(host));
    }

    fn remove(a: &mut Addresses, fake: &Fake, why: Removal) {
        a.remove(why).run(a, &mut fake.clone(), &|_| false);
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
            &nets(&["192.0.2.0/30", "127.0.0.1", "2001:db8::/127%dummy0"]),
            Some("web".into()),
            false,
            false,
        );
        setup(&mut a, &fake);
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
        remove(&mut a, &fake, Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.1/32"]);
        assert!(fake.ips("dummy0").is_empty());
        assert!(!fake.calls.lock().unwrap().iter().any(|c| c.contains("127.0.0.1")));
    }

    #[test]
    fn denied_addresses_are_blocked_and_retried() {
        let fake = Fake::with_lo(&LO);
        *fake.deny.lock().unwrap() = true;
        let mut a = Addresses::new(&nets(&["192.0.2.1", "192.0.2.8/31"]), None, false, false);
        assert!(a.presence().all(|(_, present)| !present), "not set up yet");
        setup(&mut a, &fake);
        assert!(a.any_blocked());
        assert!(a.presence().all(|(_, present)| !present), "none could be added");
        assert!(a.route_blocked(&"192.0.2.1/32".parse().unwrap()));
        assert!(a.route_blocked(&"192.0.2.8/31".parse().unwrap()));
        assert!(!a.route_blocked(&"192.0.2.2/32".parse().unwrap()));
        assert!(a.route_never_up(&"192.0.2.1/32".parse().unwrap()));
        assert!(!a.route_never_up(&"192.0.2.2/32".parse().unwrap()));
        *fake.deny.lock().unwrap() = false;
        setup(&mut a, &fake);
        assert!(!a.any_blocked());
        assert_eq!(fake.ips("lo").len(), 5);
        assert!(a.presence().all(|(_, present)| present));
        // Removed, then refused: blocked, but it was up once (its route may have been announced).
        remove(&mut a, &fake, Removal::Dynamic);
        *fake.deny.lock().unwrap() = true;
        setup(&mut a, &fake);
        assert!(a.route_blocked(&"192.0.2.1/32".parse().unwrap()));
        assert!(!a.route_never_up(&"192.0.2.1/32".parse().unwrap()));
    }

    #[test]
    fn a_missing_interface_blocks_its_addresses_only() {
        let fake = Fake::with_lo(&LO);
        let mut a = Addresses::new(&nets(&["192.0.2.1", "192.0.2.2%eth9"]), None, false, false);
        setup(&mut a, &fake);
        assert!(!a.route_blocked(&"192.0.2.1/32".parse().unwrap()));
        assert!(a.route_blocked(&"192.0.2.2/32".parse().unwrap()));
    }

    #[test]
    fn dynamic_removal_takes_present_addresses_with_a_matching_label() {
        let fake =
            Fake::with_lo(&[LO[0], LO[1], ("192.0.2.1", 32, Some("lo:other")), ("192.0.2.2", 32, Some("lo:web"))]);
        let mut a = Addresses::new(&nets(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]), Some("web".into()), false, true);
        let presence = |a: &Addresses| a.presence().map(|(ip, present)| format!("{ip} {present}")).collect::<Vec<_>>();
        setup(&mut a, &fake);
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 true", "192.0.2.3 true"]);
        remove(&mut a, &fake, Removal::Dynamic);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.1/32 lo:other"]);
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 false", "192.0.2.3 false"], "another's label stays");
        setup(&mut a, &fake);
        assert_eq!(fake.ips("lo").len(), 5);
        assert_eq!(presence(&a), ["192.0.2.1 true", "192.0.2.2 true", "192.0.2.3 true"]);
    }

    #[test]
    fn a_changed_service_keeps_the_addresses_it_still_wants_and_removes_the_rest() {
        let fake = Fake::with_lo(&LO);
        let mut before = Addresses::new(&nets(&["192.0.2.1", "192.0.2.2"]), None, false, false);
        setup(&mut before, &fake);
        let mut after = Addresses::new(&nets(&["192.0.2.2", "192.0.2.3"]), None, false, false);
        before.hand_over(&mut after).run(&mut before, &mut fake.clone(), &|_| false);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128", "192.0.2.2/32"]);
        assert_eq!(before.owned().count(), 0);
        let owned: Vec<String> = after.owned().map(|h| h.ip.to_string()).collect();
        assert_eq!(owned, ["192.0.2.2"], "taken over, so removed at exit");
        setup(&mut after, &fake);
        remove(&mut after, &fake, Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128"]);
    }

    // These use addresses of their own (198.51.100.0/24), apart from the other tests'.

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
            &nets(&["198.51.100.1", "198.51.100.2", "198.51.100.3", "2001:db8:51::1", "2001:db8:51::2"]),
            Some("web".into()),
            false,
            false,
        );
        setup(&mut a, &fake);
        assert!(!fake.calls.lock().unwrap().iter().any(|c| c.starts_with("add")), "{:?}", fake.calls);
        let owned: Vec<String> = a.owned().map(|h| h.ip.to_string()).collect();
        assert_eq!(owned, ["198.51.100.1", "2001:db8:51::1"]);
        assert!(!a.any_blocked());
        // Once recognised it stays ours: a later setup does not count it again.
        setup(&mut a, &fake);
        assert_eq!(a.owned().count(), 2);

        remove(&mut a, &fake, Removal::Exit);
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
        let mut first = Addresses::new(&nets(&["198.51.100.10"]), None, false, false);
        let mut second = Addresses::new(&nets(&["198.51.100.10", "198.51.100.11"]), None, false, false);
        setup(&mut first, &fake);
        let held = |a: &Addresses| a.owned().cloned().collect::<BTreeSet<Host>>();
        setup_beside(&mut second, &fake, &held(&first));
        assert_eq!(first.owned().map(|h| h.ip.to_string()).collect::<Vec<_>>(), ["198.51.100.10"]);
        assert_eq!(second.owned().map(|h| h.ip.to_string()).collect::<Vec<_>>(), ["198.51.100.11"]);
        // Once the first has removed it, the second adds it again and it is the second's.
        remove(&mut first, &fake, Removal::Exit);
        setup_beside(&mut second, &fake, &held(&first));
        assert_eq!(second.owned().count(), 2);
        remove(&mut second, &fake, Removal::Exit);
        assert_eq!(fake.ips("lo"), ["127.0.0.1/8 lo", "::1/128"]);
    }
}
