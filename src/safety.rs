//! What the panic hook needs, in one place and keyed by service: the withdraws to write for
//! each service and the addresses each one added, plus how to open an address backend of the
//! run's kind (the running one may be mid-operation in the panicking thread). The hook writes
//! every service's withdraws straight to stdout, so that ExaBGP does not keep announcing a
//! service nobody checks any more, removes what we added, reports, and exits
//! [`crate::exit::Code::Bug`]. The `--watchdog` thread says the same last words when the main
//! loop hangs ([`start_watchdog`]).

use crate::addr::ledger::Host;
use crate::addr::{AddrError, AddressBackend};
use crate::net::Net;
use crate::units::millis;
use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Opens a fresh backend of the kind the run uses.
pub type OpenBackend = fn() -> Result<Box<dyn AddressBackend + Send>, AddrError>;

/// What one service leaves for the panic hook.
#[derive(Default)]
struct Entry {
    /// Its withdraws, newline-terminated.
    last_words: Vec<u8>,
    /// The addresses it added and has not removed.
    owned: Vec<Host>,
}

struct Registry {
    open: Option<OpenBackend>,
    services: BTreeMap<usize, Entry>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { open: None, services: BTreeMap::new() });

fn with_registry(change: impl FnOnce(&mut Registry)) {
    if let Ok(mut registry) = REGISTRY.lock() {
        change(&mut registry);
    }
}

/// Say how to reach the addresses should we panic (the run's backend kind).
pub fn set_backend(open: OpenBackend) {
    with_registry(|registry| registry.open = Some(open));
}

/// Remember the withdraws to write for `service` if we panic.
pub fn set_last_words(service: usize, lines: &[String]) {
    let mut text = Vec::new();
    for line in lines {
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
    }
    with_registry(|registry| registry.services.entry(service).or_default().last_words = text);
}

/// The addresses `service` added and has not removed, now.
pub fn set_owned(service: usize, owned: Vec<Host>) {
    with_registry(|registry| registry.services.entry(service).or_default().owned = owned);
}

/// `service` is gone: nothing of it is left for the panic hook.
pub fn forget(service: usize) {
    with_registry(|registry| {
        registry.services.remove(&service);
    });
}

/// Install the hook. On a panic (a bug) in any thread: every service's withdraws to stdout, the
/// addresses we added removed, a report, exit status 70. Best effort and never blocking on a
/// lock (the panic may have happened while holding it); it reports on stderr, as the logger
/// may be unusable.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        last_words(|| default(info), "internal error", "please report this bug");
    }));
}

/// The last words of a process that cannot go on: every service's withdraws straight to stdout
/// (so that ExaBGP does not keep announcing a service nobody checks any more), `between`, the
/// addresses we added removed, the report on stderr, exit status 70.
fn last_words(between: impl FnOnce(), what: &str, advice: &str) -> ! {
    let registry = REGISTRY.try_lock().ok();
    if let Some(registry) = &registry {
        let stdout = std::io::stdout();
        for entry in registry.services.values() {
            let _ = nix::unistd::write(stdout.as_fd(), &entry.last_words);
        }
    }
    between();
    if let Some(registry) = &registry {
        remove_owned(registry);
    }
    crate::say!("CRITICAL[healthcheck] {what}: routes withdrawn, addresses we added removed, exiting; {advice}");
    crate::console::flush(Duration::from_secs(1));
    std::process::exit(crate::exit::Code::Bug.status());
}

/// What the main loop touches each time it comes round, for the watchdog to look at.
#[derive(Debug)]
pub struct Heartbeat {
    epoch: Instant,
    /// Milliseconds since `epoch` at the last beat.
    last: AtomicU64,
}

impl Heartbeat {
    /// The main loop came round.
    pub fn beat(&self) {
        self.last.store(millis(self.epoch.elapsed()), Ordering::Relaxed);
    }

    fn since(&self, now: Instant) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        now.saturating_duration_since(self.epoch + last)
    }
}

/// `--watchdog LIMIT`: a thread that looks at the heartbeat every quarter of `limit`; when the
/// main loop has not come round for `limit`, the last words (withdraws, addresses removed,
/// exit 70) as after a panic, so that ExaBGP withdraws and restarts the plugin. The loop must
/// beat at least every half `limit` ([`Heartbeat::beat`]). A process that was stopped as a whole
/// (SIGSTOP, a frozen VM) stopped the watchdog too: when it finds that it slept far longer than
/// it asked, it gives the loop a new `limit` rather than judge it (BFD tells the routers about
/// such a pause, not the watchdog).
pub fn start_watchdog(limit: Duration) -> std::io::Result<Arc<Heartbeat>> {
    let heartbeat = Arc::new(Heartbeat { epoch: Instant::now(), last: AtomicU64::new(0) });
    let watched = Arc::clone(&heartbeat);
    let step = limit / 4;
    std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        let mut woke = Instant::now();
        loop {
            std::thread::sleep(step);
            let now = Instant::now();
            let stopped = now.saturating_duration_since(woke) > step + limit / 2;
            woke = now;
            if stopped {
                watched.beat();
                continue;
            }
            let since = watched.since(now);
            if since > limit {
                let what = format!("the main loop has not come round for {} ms (--watchdog)", millis(since));
                last_words(|| {}, &what, "ExaBGP restarts the plugin");
            }
        }
    })?;
    Ok(heartbeat)
}

/// Remove the addresses every service added, over a new backend.
fn remove_owned(registry: &Registry) {
    let owned: Vec<&Host> = registry.services.values().flat_map(|entry| &entry.owned).collect();
    let (Some(open), false) = (registry.open, owned.is_empty()) else { return };
    let mut backend = match open() {
        Ok(backend) => backend,
        Err(err) => {
            crate::say!("CRITICAL[healthcheck] cannot remove the service addresses we added: {err}");
            return;
        }
    };
    for host in owned {
        match backend.remove(host.ip, &host.ifname) {
            Ok(()) => crate::say!("CRITICAL[healthcheck] removed {} from {}", Net::host(host.ip), host.ifname),
            Err(err) => {
                crate::say!("CRITICAL[healthcheck] failed to remove {} from {}: {err}", Net::host(host.ip), host.ifname)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_per_service_and_forgotten_with_it() {
        set_last_words(1001, &["withdraw route 192.0.2.1/32 next-hop self".to_owned()]);
        set_last_words(1002, &["withdraw route 192.0.2.2/32 next-hop self".to_owned()]);
        set_last_words(1001, &["withdraw route 192.0.2.3/32 next-hop self".to_owned()]);
        let words = |id| {
            REGISTRY.lock().unwrap().services.get(&id).map(|e| String::from_utf8_lossy(&e.last_words).into_owned())
        };
        assert_eq!(words(1001).as_deref(), Some("withdraw route 192.0.2.3/32 next-hop self\n"));
        assert_eq!(words(1002).as_deref(), Some("withdraw route 192.0.2.2/32 next-hop self\n"));
        forget(1001);
        assert_eq!(words(1001), None);
        forget(1002);
    }
}
