//! Service addresses on real interfaces, in network namespaces these tests create (and delete,
//! even when a test fails): set up with their label, IPv4 and IPv6, every host address of a
//! network; 127.0.0.1 never touched; only what we added removed at exit; no permission means
//! no announcement for that address but no exit either; what a killed run left (our mark on
//! it) is removed by the next run, and what someone else added never. Needs root (CI runs as
//! root).

mod common;

use common::netns::{ip, Netns};
use common::{wait_for, Plugin, Scratch, BIN};
use exabgp_healthcheck::addr::{AddressBackend, NetlinkBackend, ADDRESS_PROTOCOL};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// `ip -o address show dev IF` in the namespace, one `ADDR/LEN LABEL` (IPv4 with a label) or
/// `ADDR/LEN` per line.
fn labeled(ns: &Netns, ifname: &str) -> Vec<String> {
    ns.ip(&["-o", "address", "show", "dev", ifname])
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "inet" || *w == "inet6")?;
            let addr = words.get(at + 1)?;
            // IPv4 lines end with the label, then a backslash (sometimes glued to it).
            let label = words
                .iter()
                .map(|w| w.trim_end_matches('\\'))
                .take_while(|w| !w.is_empty() && *w != "valid_lft")
                .last()
                .filter(|l| l.contains(':') && !l.contains('/'));
            Some(match label {
                Some(label) if !addr.contains(':') => format!("{addr} {label}"),
                _ => (*addr).to_owned(),
            })
        })
        .collect()
}

fn has(ns: &Netns, ifname: &str, entry: &str) -> bool {
    labeled(ns, ifname).iter().any(|a| a == entry)
}

/// Start the plugin in the namespace as `nobody`, without any capability.
fn as_nobody(ns: &Netns, args: &[&str]) -> Plugin {
    Plugin::start_with(ns.exec(&["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BIN]).args(args))
}

const COMMON: [&str; 5] = ["--no-syslog", "--rise", "1", "--interval", "0.05"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = COMMON.to_vec();
    all.extend_from_slice(extra);
    all
}

#[test]
fn addresses_are_set_up_with_their_label_and_only_ours_removed_at_exit() {
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.99/32", "dev", "lo"]);
    let mut plugin =
        ns.plugin(&args(&["--ip", "192.0.2.8/30", "--ip", "192.0.2.99", "--ip", "2001:db8::10", "--label", "web"]));
    assert!(plugin.wait_lines(3, LIMIT), "{}", plugin.stderr());
    let lo = labeled(&ns, "lo");
    for want in ["192.0.2.8/32 lo:web", "192.0.2.9/32 lo:web", "192.0.2.10/32 lo:web", "192.0.2.11/32 lo:web"] {
        assert!(lo.iter().any(|a| a == want), "{want} missing in {lo:?}");
    }
    assert!(lo.iter().any(|a| a == "2001:db8::10/128"), "{lo:?}");
    assert!(lo.iter().any(|a| a == "192.0.2.99/32"), "{lo:?}");
    assert!(lo.iter().any(|a| a.starts_with("127.0.0.1/8")), "{lo:?}");
    // Added as /32: never a classful 192.0.2.0/24 or wider, not even for a moment.
    assert!(!lo.iter().any(|a| a.starts_with("192.0.2.0/") || a.contains("/8 lo:") || a.contains("/24")), "{lo:?}");
    let routes = ip(&["-n", &ns.name, "route", "show", "table", "local"]);
    assert!(!routes.contains("192.0.2.0/24"), "{routes}");

    assert_eq!(plugin.stop(), Some(0));
    let lo = labeled(&ns, "lo");
    assert!(!lo.iter().any(|a| a.starts_with("192.0.2.8") || a.starts_with("192.0.2.11")), "{lo:?}");
    assert!(!lo.iter().any(|a| a.starts_with("2001:db8::10")), "{lo:?}");
    assert!(lo.iter().any(|a| a == "192.0.2.99/32"), "an address we did not add was removed: {lo:?}");
    assert!(lo.iter().any(|a| a.starts_with("127.0.0.1/8")), "{lo:?}");
    assert!(lo.iter().any(|a| a.starts_with("::1/128")), "{lo:?}");
    let lines = plugin.lines();
    assert_eq!(lines[0], "announce route 192.0.2.8/30 next-hop self med 100");
    assert_eq!(lines[1], "announce route 192.0.2.99/32 next-hop self med 101");
    assert_eq!(lines[2], "announce route 2001:db8::10/128 next-hop self med 102");
}

#[test]
fn without_permission_it_stays_up_says_why_and_announces_nothing_for_that_address() {
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.99/32", "dev", "lo"]);
    let mut plugin = as_nobody(&ns, &args(&["--ip", "192.0.2.10", "--ip", "192.0.2.99"]));
    assert!(plugin.wait_lines(3, LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.child.try_wait().unwrap(), None, "it exited: {}", plugin.stderr());
    assert!(!has(&ns, "lo", "192.0.2.10/32"));
    let lines = plugin.lines();
    assert!(lines.iter().all(|l| l == "announce route 192.0.2.99/32 next-hop self med 101"), "{lines:?}");
    let err = plugin.stderr();
    assert!(err.contains("ERROR[healthcheck] failed to add 192.0.2.10/32 to lo: permission denied"), "{err}");
    assert!(err.contains("CAP_NET_ADMIN") && err.contains("exabgp.daemon.user") && err.contains("--sudo"), "{err}");
    // Logged loudly once, not at every retry.
    assert_eq!(err.matches("ERROR[healthcheck] failed to add").count(), 1, "{err}");
    assert_eq!(plugin.stop(), Some(0));
    assert!(has(&ns, "lo", "192.0.2.99/32"));
    // At exit, the withdraw of what was announced, none for the route never announced.
    let lines = plugin.lines();
    assert_eq!(lines.last().map(String::as_str), Some("withdraw route 192.0.2.99/32 next-hop self"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("192.0.2.10")), "{lines:?}");
}

#[test]
fn without_ip_the_labelled_addresses_on_lo_are_advertised_and_kept() {
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.20/32", "dev", "lo", "label", "lo:web1"]);
    ns.ip(&["address", "add", "192.0.2.21/32", "dev", "lo", "label", "lo:dns"]);
    ns.ip(&["address", "add", "192.0.2.22/32", "dev", "lo", "label", "lo:webby"]);
    let mut plugin = ns.plugin(&args(&["--label", "web"]));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(
        plugin.lines()[..2],
        ["announce route 192.0.2.20/32 next-hop self med 100", "announce route 192.0.2.22/32 next-hop self med 101"]
    );
    assert!(has(&ns, "lo", "192.0.2.20/32 lo:web1") && has(&ns, "lo", "192.0.2.22/32 lo:webby"));

    let mut exact = ns.plugin(&args(&["--label", "web1", "--label-exact-match"]));
    assert!(exact.wait_lines(1, LIMIT));
    assert_eq!(exact.stop(), Some(0));
    assert_eq!(exact.lines()[0], "announce route 192.0.2.20/32 next-hop self med 100");
    assert!(!exact.lines().iter().any(|l| l.contains("192.0.2.22")));
}

#[test]
fn services_without_ip_find_theirs_on_lo_by_label_and_never_share_one() {
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.30/32", "dev", "lo", "label", "lo:web"]);
    ns.ip(&["address", "add", "192.0.2.31/32", "dev", "lo", "label", "lo:dns"]);
    let dir = Scratch::new("addr-services");
    let common = "no-syslog\nrise = 1\ninterval = 0.05\n";
    let by_label = dir.write("labels.conf", &format!("{common}[web]\nlabel = web\n[dns]\nlabel = dns\n"));
    let mut plugin = ns.plugin(&["--config", by_label.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let mut announced = plugin.lines()[..2].to_vec();
    announced.sort();
    assert_eq!(
        announced,
        ["announce route 192.0.2.30/32 next-hop self med 100", "announce route 192.0.2.31/32 next-hop self med 100"]
    );
    // Without labels both would find both addresses: refused before anything is announced.
    let shared = dir.write("shared.conf", &format!("{common}[web]\n[dns]\n"));
    let mut plugin = ns.plugin(&["--config", shared.to_str().unwrap()]);
    assert_eq!(plugin.wait_exit(LIMIT), Some(2));
    assert_eq!(
        plugin.stderr(),
        "error: services [web] and [dns] both advertise 192.0.2.30/32 found on lo; an address belongs to one \
         service (give each its --ip, or its --label)\n"
    );
    assert!(plugin.lines().is_empty());
    assert!(has(&ns, "lo", "192.0.2.30/32 lo:web") && has(&ns, "lo", "192.0.2.31/32 lo:dns"));

    // A reload that would have two services find the same address is refused the same way:
    // nothing changes, and both run on as they were.
    let reloaded = dir.write("reloaded.conf", &format!("{common}[web]\nlabel = web\n[dns]\nlabel = dns\n"));
    let mut plugin = ns.plugin(&["--config", reloaded.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    dir.write("reloaded.conf", &format!("{common}[web]\nlabel = web\n[dns]\nlabel = dns\n[ntp]\n"));
    plugin.signal(1);
    let refused = "ERROR[healthcheck] the configuration was not reloaded, nothing changed: services [web] and [ntp] \
                   both advertise 192.0.2.30/32 found on lo";
    assert!(wait_for(LIMIT, || plugin.stderr().contains(refused)), "{}", plugin.stderr());
    assert!(!plugin.stderr().contains("configuration reloaded"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_reload_moving_an_address_to_another_service_keeps_it_on_lo_and_owned() {
    let ns = Netns::new("addr");
    let dir = Scratch::new("addr-reload");
    let common = "no-syslog\nrise = 1\ninterval = 0.05\ndebounce\n";
    let conf = dir.write("hc.conf", &format!("{common}[web]\nip = 192.0.2.70\n[dns]\nip = 192.0.2.53\n"));
    let mut plugin = ns.plugin(&["--config", conf.to_str().unwrap()]);
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    // web renamed www; dns's address moves to a service that stays (ntp, new) and back.
    let steps = [
        format!("{common}[www]\nip = 192.0.2.70\n[dns]\nip = 192.0.2.53\n"),
        format!("{common}[www]\nip = 192.0.2.70\n[dns]\nip = 192.0.2.54\n[ntp]\nip = 192.0.2.53\n"),
    ];
    for (n, text) in steps.iter().enumerate() {
        dir.write("hc.conf", text);
        plugin.signal(1);
        let done = |p: &Plugin| p.stderr().matches("configuration reloaded").count() > n;
        assert!(wait_for(LIMIT, || done(&plugin)), "{}", plugin.stderr());
        for address in ["192.0.2.70/32", "192.0.2.53/32"] {
            assert!(wait_for(LIMIT, || ns.has(address)), "step {n}: {address} is not on lo: {:?}", ns.lo());
        }
    }
    assert!(ns.has("192.0.2.54/32"));
    assert_eq!(plugin.stop(), Some(0));
    // Every one was owned by the service that had it last: all removed at exit.
    for address in ["192.0.2.70/32", "192.0.2.53/32", "192.0.2.54/32"] {
        assert!(!ns.has(address), "{address} stayed on lo: {:?}\n{}", ns.lo(), plugin.stderr());
    }
}

#[test]
fn no_address_at_all_is_the_references_no_ip_found() {
    let ns = Netns::new("addr");
    let mut plugin = ns.plugin(&args(&[]));
    assert_eq!(plugin.wait_exit(LIMIT), Some(1));
    assert!(plugin.stderr().contains("ERROR[healthcheck] No IP found"), "{}", plugin.stderr());
    assert!(plugin.lines().is_empty());
}

#[test]
fn once_without_an_address_still_runs_the_check_and_says_nothing_would_be_sent() {
    let ns = Netns::new("addr");
    for (cmd, code, verdict) in [("echo fine", 0, "healthy: echo fine"), ("exit 3", 1, "unhealthy: exit 3")] {
        let out = ns.command(&["--no-syslog", "--once", "--cmd", cmd]).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert_eq!(stdout, "", "no lines without an address");
        assert!(stderr.contains(verdict), "{stderr}");
        assert!(
            stderr.contains("would send nothing: no service address: give --ip, or put the addresses on lo"),
            "{stderr}"
        );
        assert!(!stderr.contains("No IP found"), "{stderr}");
    }
}

#[test]
fn dynamic_ip_setup_follows_the_service_state() {
    let ns = Netns::new("addr");
    let dir = Scratch::new("dynamic");
    let down = dir.file("down");
    let check = format!("test ! -e {}", down.display());
    let mut plugin = ns.plugin(&args(&["--fall", "1", "--dynamic-ip-setup", "--ip", "192.0.2.50", "--cmd", &check]));
    assert!(wait_for(LIMIT, || has(&ns, "lo", "192.0.2.50/32")), "{}", plugin.stderr());
    std::fs::write(&down, "").unwrap();
    assert!(wait_for(LIMIT, || !has(&ns, "lo", "192.0.2.50/32")), "{}", plugin.stderr());
    assert!(wait_for(LIMIT, || plugin.lines().iter().any(|l| l.ends_with("med 1000"))));
    std::fs::remove_file(&down).unwrap();
    assert!(wait_for(LIMIT, || has(&ns, "lo", "192.0.2.50/32")), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert!(!has(&ns, "lo", "192.0.2.50/32"));
}

#[test]
fn ip_ifname_puts_the_addresses_on_that_interface() {
    let ns = Netns::new("addr");
    // A veth pair stands in for a physical interface (the dummy module may be missing).
    ns.ip(&["link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1"]);
    ns.ip(&["link", "set", "dummy0", "up"]);
    let mut plugin = ns.plugin(&args(&[
        "--ip",
        "192.0.2.40/31",
        "--ip-ifname",
        "192.0.2.40/31%dummy0",
        "--ip",
        "192.0.2.42",
        "--label",
        "svc",
    ]));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    assert!(has(&ns, "dummy0", "192.0.2.40/32 dummy0:svc"), "{:?}", labeled(&ns, "dummy0"));
    assert!(has(&ns, "dummy0", "192.0.2.41/32 dummy0:svc"), "{:?}", labeled(&ns, "dummy0"));
    assert!(has(&ns, "lo", "192.0.2.42/32 lo:svc"), "{:?}", labeled(&ns, "lo"));
    assert_eq!(plugin.stop(), Some(0));
    assert!(labeled(&ns, "dummy0").iter().all(|a| !a.starts_with("192.0.2.4")));
    assert!(!has(&ns, "lo", "192.0.2.42/32 lo:svc"));
}

#[test]
fn sudo_mode_goes_through_sudo_ip() {
    assert!(
        Command::new("sudo").arg("-n").arg("true").status().is_ok_and(|s| s.success()),
        "sudo is needed (contrib/run-tests.sh installs it)"
    );
    let ns = Netns::new("addr");
    let mut plugin = ns.plugin(&args(&["--sudo", "--ip", "192.0.2.60", "--ip", "2001:db8::60", "--label", "sudo"]));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    assert!(has(&ns, "lo", "192.0.2.60/32 lo:sudo"), "{:?}", labeled(&ns, "lo"));
    assert!(has(&ns, "lo", "2001:db8::60/128"), "{:?}", labeled(&ns, "lo"));
    assert_eq!(plugin.stop(), Some(0));
    assert!(!has(&ns, "lo", "192.0.2.60/32 lo:sudo"));
    assert!(!has(&ns, "lo", "2001:db8::60/128"));
}

#[test]
fn dry_run_and_no_ip_setup_change_nothing() {
    let ns = Netns::new("addr");
    for mode in ["--dry-run", "--no-ip-setup"] {
        let mut plugin = ns.plugin(&args(&[mode, "--ip", "192.0.2.70"]));
        assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
        assert!(!has(&ns, "lo", "192.0.2.70/32"), "{mode}");
        assert_eq!(plugin.stop(), Some(0));
    }
}

/// Set in the copy of this test binary that [`protocols`] runs inside a namespace.
const LIST_CHILD: &str = "EHC_ADDRESSES_LIST_CHILD";

/// The addresses on `lo` in `ns` with their `IFA_PROTO` (`ADDR/LEN PROTO`, PROTO `-` for none),
/// listed over rtnetlink: `ip` shows the protocol only from iproute2 6.3. The test binary runs
/// itself again inside the namespace, as the test `test`, which starts with [`list_if_child`].
fn protocols(ns: &Netns, test: &str) -> Vec<String> {
    let exe = std::env::current_exe().expect("no path to the test binary");
    let out = ns
        .exec(&[exe.as_os_str()])
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(LIST_CHILD, "1")
        .output()
        .expect("run the lister in the namespace");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout.lines().filter_map(|line| line.strip_prefix("listed: ")).map(str::to_owned).collect()
}

/// In the copy that [`protocols`] starts, print what is on `lo` and say so (the test returns).
fn list_if_child() -> bool {
    if std::env::var_os(LIST_CHILD).is_none() {
        return false;
    }
    let mut backend = NetlinkBackend::new().expect("a netlink socket");
    for a in backend.list("lo").expect("list lo") {
        println!("listed: {}/{} {}", a.ip, a.prefix_len, a.proto.map_or("-".to_owned(), |p| p.to_string()));
    }
    true
}

#[test]
fn a_killed_runs_addresses_are_removed_by_the_next_run_and_someone_elses_never() {
    if list_if_child() {
        return;
    }
    let test = "a_killed_runs_addresses_are_removed_by_the_next_run_and_someone_elses_never";
    let ns = Netns::new("addr");
    // Someone else's, on the same interface, and given with --ip as well.
    ns.ip(&["address", "add", "192.0.2.80/32", "dev", "lo"]);
    ns.ip(&["address", "add", "2001:db8::80/128", "dev", "lo", "nodad"]);
    let flags = args(&["--ip", "192.0.2.81", "--ip", "2001:db8::81", "--ip", "192.0.2.80", "--ip", "2001:db8::80"]);
    let ours = format!(" {ADDRESS_PROTOCOL}");
    let expected = [
        format!("192.0.2.81/32{ours}"),
        format!("2001:db8::81/128{ours}"),
        "192.0.2.80/32 -".to_owned(),
        "2001:db8::80/128 -".to_owned(),
    ];

    let mut first = ns.plugin(&flags);
    assert!(first.wait_lines(4, LIMIT), "{}", first.stderr());
    let listed = protocols(&ns, test);
    for want in &expected {
        assert!(listed.contains(want), "{want} not in {listed:?}");
    }
    first.signal(9);
    assert_eq!(first.wait_exit(LIMIT), None, "{}", first.stderr());
    // Nobody removed anything: the killed run's addresses stay, with our mark.
    let listed = protocols(&ns, test);
    for want in &expected {
        assert!(listed.contains(want), "{want} not in {listed:?} after SIGKILL");
    }

    let mut second = ns.plugin(&flags);
    assert!(second.wait_lines(4, LIMIT), "{}", second.stderr());
    // Its stderr is read by a thread of its own: wait for what start-up logged to be in.
    let told = |ip: &str| format!("recognised {ip} on lo as ours (left by an earlier run)");
    let both = || ["192.0.2.81/32", "2001:db8::81/128"].iter().all(|ip| second.stderr().contains(&told(ip)));
    assert!(wait_for(LIMIT, both), "{}", second.stderr());
    let err = second.stderr();
    for ip in ["192.0.2.81/32", "2001:db8::81/128"] {
        let told = format!("recognised {ip} on lo as ours (left by an earlier run)");
        assert_eq!(err.matches(&told).count(), 1, "{err}");
    }
    assert!(!err.contains("recognised 192.0.2.80") && !err.contains("recognised 2001:db8::80"), "{err}");
    assert_eq!(second.stop(), Some(0), "{}", second.stderr());
    let lo = ns.lo();
    assert!(!lo.iter().any(|a| a == "192.0.2.81/32" || a == "2001:db8::81/128"), "{lo:?}");
    assert!(lo.iter().any(|a| a == "192.0.2.80/32"), "someone else's address was removed: {lo:?}");
    assert!(lo.iter().any(|a| a == "2001:db8::80/128"), "someone else's address was removed: {lo:?}");
    let listed = protocols(&ns, test);
    assert!(listed.contains(&expected[2]) && listed.contains(&expected[3]), "{listed:?}");
}

/// Set in the copy of this test binary that panics after recognising a killed run's address.
const PANIC_CHILD: &str = "EHC_ADDRESSES_PANIC_CHILD";

/// A recognised address is the panic hook's to remove, as one the run added: the test binary
/// runs itself again in the namespace, sets up as a run does (the killed plugin's 192.0.2.85,
/// someone else's 192.0.2.86), then panics.
#[test]
fn the_panic_hook_removes_a_recognised_address_too() {
    use exabgp_healthcheck::addr::ledger::Addresses;
    use exabgp_healthcheck::addr::AddrError;
    use exabgp_healthcheck::config::ServiceNet;

    if list_if_child() {
        return;
    }
    if std::env::var_os(PANIC_CHILD).is_some() {
        fn open() -> Result<Box<dyn AddressBackend + Send>, AddrError> {
            Ok(Box::new(NetlinkBackend::new()?))
        }
        let nets: Vec<ServiceNet> = ["192.0.2.85/32", "192.0.2.86/32"]
            .iter()
            .map(|net| ServiceNet { net: net.parse().expect("a network"), ifname: "lo".to_owned() })
            .collect();
        exabgp_healthcheck::safety::set_backend(open);
        let mut ledger = Addresses::new(&nets, None, false, false);
        ledger.setup().run(&mut ledger, &mut NetlinkBackend::new().expect("netlink"), &|_| false);
        // What the reactor tells the panic hook after each address operation.
        exabgp_healthcheck::safety::set_owned(0, ledger.owned().cloned().collect());
        println!("owned: {}", ledger.owned().map(|h| h.ip.to_string()).collect::<Vec<_>>().join(" "));
        exabgp_healthcheck::safety::install_panic_hook();
        let worker = std::thread::spawn(|| panic!("a bug after recognising"));
        let _ = worker.join();
        unreachable!("the panic hook exits the process");
    }
    let test = "the_panic_hook_removes_a_recognised_address_too";
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.86/32", "dev", "lo"]);
    let mut killed = ns.plugin(&args(&["--ip", "192.0.2.85"]));
    assert!(killed.wait_lines(1, LIMIT), "{}", killed.stderr());
    killed.signal(9);
    assert_eq!(killed.wait_exit(LIMIT), None);
    assert!(protocols(&ns, test).contains(&format!("192.0.2.85/32 {ADDRESS_PROTOCOL}")));

    let exe = std::env::current_exe().expect("no path to the test binary");
    let out = ns
        .exec(&[exe.as_os_str()])
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(PANIC_CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exabgp_healthcheck::exit::Code::Bug.status()), "{stdout}\n{stderr}");
    assert!(stdout.contains("owned: 192.0.2.85\n"), "{stdout}\n{stderr}");
    assert!(stderr.contains("removed 192.0.2.85/32 from lo"), "{stderr}");
    let lo = ns.lo();
    assert!(!lo.iter().any(|a| a == "192.0.2.85/32"), "the recognised address stayed after the panic: {lo:?}");
    assert!(lo.iter().any(|a| a == "192.0.2.86/32"), "someone else's address was removed: {lo:?}");
}

/// `--sudo` adds without the mark (`ip address add` has no `proto` before iproute2 6.3) but
/// lists over rtnetlink: what a killed run without `--sudo` left is still recognised.
#[test]
fn a_sudo_run_adds_without_the_mark_but_recognises_it() {
    if list_if_child() {
        return;
    }
    let test = "a_sudo_run_adds_without_the_mark_but_recognises_it";
    assert!(
        Command::new("sudo").arg("-n").arg("true").status().is_ok_and(|s| s.success()),
        "sudo is needed (contrib/run-tests.sh installs it)"
    );
    let ns = Netns::new("addr");
    let mut killed = ns.plugin(&args(&["--ip", "192.0.2.90"]));
    assert!(killed.wait_lines(1, LIMIT), "{}", killed.stderr());
    killed.signal(9);
    assert_eq!(killed.wait_exit(LIMIT), None);

    let mut plugin = ns.plugin(&args(&["--sudo", "--ip", "192.0.2.90", "--ip", "2001:db8::91"]));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    let listed = protocols(&ns, test);
    assert!(listed.contains(&format!("192.0.2.90/32 {ADDRESS_PROTOCOL}")), "{listed:?}");
    assert!(listed.contains(&"2001:db8::91/128 -".to_owned()), "{listed:?}");
    assert!(plugin.stderr().contains("recognised 192.0.2.90/32 on lo as ours"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    let lo = ns.lo();
    assert!(!lo.iter().any(|a| a == "192.0.2.90/32" || a == "2001:db8::91/128"), "{lo:?}");
}

#[test]
fn a_reload_finds_a_new_services_address_on_lo_on_the_lane_while_the_others_go_on() {
    // `sudo` that takes its time (the tests run as root: it runs `ip` itself): web's address
    // set-up holds the address lane for 2 s, so that the reload's listing of lo waits behind it.
    let dir = Scratch::new("addr-reload-lane");
    let sudo = dir.write("sudo", "#!/bin/sh\n[ \"$1\" = -n ] && shift\nsleep 2\nexec \"$@\"\n");
    Command::new("chmod").arg("755").arg(&sudo).status().unwrap();
    let path = format!("{}:{}", sudo.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let ns = Netns::new("addr");
    ns.ip(&["address", "add", "192.0.2.81/32", "dev", "lo", "label", "lo:dns"]);
    let common = "no-syslog\nno-ack\nsudo\nrise = 1\ninterval = 0.05\n";
    let conf = dir.write("hc.conf", &format!("{common}[web]\nip = 192.0.2.80\n[ntp]\nip = 192.0.2.82\nno-ip-setup\n"));
    let mut plugin = Plugin::start_with(ns.command(&["--config", conf.to_str().unwrap()]).env("PATH", path));
    let ntp = |p: &Plugin| p.lines().iter().filter(|l| l.contains("192.0.2.82/32")).count();
    assert!(wait_for(LIMIT, || ntp(&plugin) >= 1), "{}", plugin.stderr());
    // web's `sudo` is running: dns, new and without ip, finds its address when the lane has
    // listed lo, after it; ntp checks on meanwhile.
    dir.write(
        "hc.conf",
        &format!(
            "{common}[web]\nip = 192.0.2.80\n[ntp]\nip = 192.0.2.82\nno-ip-setup\n[dns]\nlabel = dns\nno-ip-setup\n"
        ),
    );
    let before = ntp(&plugin);
    plugin.signal(1);
    let reloaded = |p: &Plugin| p.stderr().contains("configuration reloaded: 3 service(s), 1 added, 0 changed");
    assert!(wait_for(LIMIT, || reloaded(&plugin)), "{}", plugin.stderr());
    let during = ntp(&plugin) - before;
    assert!(during >= 5, "ntp checked {during} times while the reload waited for the lane:\n{}", plugin.stderr());
    let dns = "announce route 192.0.2.81/32 next-hop self med 100";
    assert!(wait_for(LIMIT, || plugin.lines().iter().any(|l| l == dns)), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert!(plugin.lines().iter().any(|l| l == "announce route 192.0.2.80/32 next-hop self med 100"));
    assert!(!plugin.stderr().contains("not reloaded"), "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}
