//! A bug must not leave ExaBGP announcing a service nobody checks any more: the panic hook
//! writes the withdraws on stdout before the process ends with status 70. The test runs itself
//! again as a child process, which installs the hook and panics on another thread.

use std::process::Command;

const CHILD: &str = "EHC_PANIC_CHILD";

#[test]
fn a_panic_in_any_thread_writes_the_withdraws_and_exits_70() {
    if std::env::var_os(CHILD).is_some() {
        exabgp_healthcheck::sys::set_last_words(&[
            "withdraw route 192.0.2.1/32 next-hop self".to_owned(),
            "withdraw route 2001:db8::1/128 next-hop self".to_owned(),
        ]);
        exabgp_healthcheck::sys::install_panic_hook();
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
    assert_eq!(out.status.code(), Some(exabgp_healthcheck::exit::BUG), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("withdraw route 192.0.2.1/32 next-hop self\nwithdraw route 2001:db8::1/128 next-hop self\n"),
        "{stdout}"
    );
    assert!(stderr.contains("a bug in a worker thread") && stderr.contains("CRITICAL[healthcheck]"), "{stderr}");
}
