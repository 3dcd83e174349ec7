//! What the panic hook needs, in one place and keyed by service: the withdraws to write for
//! each service and the addresses each one added, plus how to open an address backend of the
//! run's kind (the running one may be mid-operation in the panicking thread). The hook writes
//! every service's withdraws straight to stdout, so that ExaBGP does not keep announcing a
//! service nobody checks any more, removes what we added, reports, and exits
//! [`crate::exit::Code::Bug`].

use crate::addr::ledger::Host;
use crate::addr::{AddrError, AddressBackend};
use crate::net::Net;
use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::sync::Mutex;

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
        let registry = REGISTRY.try_lock().ok();
        if let Some(registry) = &registry {
            let stdout = std::io::stdout();
            for entry in registry.services.values() {
                let _ = nix::unistd::write(stdout.as_fd(), &entry.last_words);
            }
        }
        default(info);
        if let Some(registry) = &registry {
            remove_owned(registry);
        }
        eprintln!(
            "CRITICAL[healthcheck] internal error: routes withdrawn, addresses we added removed, exiting; \
             please report this bug"
        );
        std::process::exit(crate::exit::Code::Bug.status());
    }));
}

/// Remove the addresses every service added, over a new backend.
fn remove_owned(registry: &Registry) {
    let owned: Vec<&Host> = registry.services.values().flat_map(|entry| &entry.owned).collect();
    let (Some(open), false) = (registry.open, owned.is_empty()) else { return };
    let mut backend = match open() {
        Ok(backend) => backend,
        Err(err) => {
            eprintln!("CRITICAL[healthcheck] cannot remove the service addresses we added: {err}");
            return;
        }
    };
    for host in owned {
        match backend.remove(host.ip, &host.ifname) {
            Ok(()) => eprintln!("CRITICAL[healthcheck] removed {} from {}", Net::host(host.ip), host.ifname),
            Err(err) => {
                eprintln!("CRITICAL[healthcheck] failed to remove {} from {}: {err}", Net::host(host.ip), host.ifname)
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
