//! A bug must not leave ExaBGP announcing a service nobody checks any more: the panic hook
//! writes the withdraws on stdout before the process ends with status 70. The test runs itself
//! again as a child process, which installs the hook and panics on another thread.

use std::process::Command;

const CHILD: &str = "EHC_PANIC_CHILD";

#[test]
fn a_panic_in_any_thread_writes_the_withdraws_and_exits_70() {
    if std::env::var_os(CHILD).is_some() {
        exabgp_healthcheck::safety::set_last_words(
            0,
            &[
                "withdraw route 192.0.2.1/32 next-hop self".to_owned(),
                "withdraw route 2001:db8::1/128 next-hop self".to_owned(),
            ],
        );
        exabgp_healthcheck::safety::install_panic_hook();
        let worker = std::thread::spawn(|| panic!("a bug in a worker thread"));
        let _ = worker.join();
        unreachable!("the panic hook exits the process");
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "a_panic_in_any_thread_writes_the_withdraws_and_exits_70",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exabgp_healthcheck::exit::Code::Bug.status()), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("withdraw route 192.0.2.1/32 next-hop self\nwithdraw route 2001:db8::1/128 next-hop self\n"),
        "{stdout}"
    );
    assert!(stderr.contains("a bug in a worker thread") && stderr.contains("CRITICAL[healthcheck]"), "{stderr}");
}

const ADDRESS_CHILD: &str = "EHC_PANIC_ADDRESS_CHILD";

/// The same bug after an address was added: the hook removes it. The child runs inside a
/// network namespace this test creates (and deletes), adds 192.0.2.77 to its `lo` over
/// rtnetlink as a run does, then panics. Needs root.
#[test]
fn a_panic_removes_the_addresses_the_run_added() {
    use exabgp_healthcheck::addr::ledger::Addresses;
    use exabgp_healthcheck::addr::{AddrError, AddressBackend, NetlinkBackend};
    use exabgp_healthcheck::config::ServiceNet;

    if std::env::var_os(ADDRESS_CHILD).is_some() {
        fn open() -> Result<Box<dyn AddressBackend + Send>, AddrError> {
            Ok(Box::new(NetlinkBackend::new()?))
        }
        let nets = [ServiceNet { net: "192.0.2.77/32".parse().expect("a network"), ifname: "lo".to_owned() }];
        exabgp_healthcheck::safety::set_backend(open);
        let mut ours = Addresses::new(&nets, None, false, false);
        ours.setup().run(&mut ours, &mut NetlinkBackend::new().expect("netlink"), &|_| false);
        // What the reactor tells the panic hook after each address operation.
        exabgp_healthcheck::safety::set_owned(0, ours.owned().cloned().collect());
        println!("owned: {}", ours.owned().count());
        exabgp_healthcheck::safety::install_panic_hook();
        let worker = std::thread::spawn(|| panic!("a bug after the set-up"));
        let _ = worker.join();
        unreachable!("the panic hook exits the process");
    }
    assert!(nix::unistd::Uid::effective().is_root(), "needs root (network namespaces)");
    let ns = format!("ehc-panic-{}", std::process::id());
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ip(&["netns", "add", &ns]);
    struct Delete<'a>(&'a str);
    impl Drop for Delete<'_> {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", self.0]).status();
        }
    }
    let _delete = Delete(&ns);
    ip(&["-n", &ns, "link", "set", "lo", "up"]);
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns])
        .arg(exe)
        .args(["--exact", "a_panic_removes_the_addresses_the_run_added", "--nocapture", "--test-threads", "1"])
        .env(ADDRESS_CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exabgp_healthcheck::exit::Code::Bug.status()), "{stdout}\n{stderr}");
    assert!(stdout.contains("owned: 1"), "the child did not add the address: {stdout}\n{stderr}");
    assert!(stderr.contains("removed 192.0.2.77/32 from lo"), "{stderr}");
    let left = ip(&["-n", &ns, "-o", "address", "show", "dev", "lo"]);
    assert!(!left.contains("192.0.2.77"), "the address stayed after the panic:\n{left}");
}
