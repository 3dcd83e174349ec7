//! SIGHUP with `--config`: the files are read again and applied service by service. The binary
//! runs as ExaBGP runs it, `--no-ack`, `--no-ip-setup` (no address is touched here) and
//! `--debounce`, so that every line written is a change the test can see.

mod common;

use common::{wait_for, Plugin, Scratch};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// A plugin reading `hc.conf` (written from `text`) in `dir`.
fn start(dir: &Scratch, text: &str) -> Plugin {
    let path = dir.write("hc.conf", text);
    Plugin::start(&["--config", path.to_str().unwrap(), "--no-ack"])
}

const WEB: &str = "no-syslog\nno-ip-setup\ndebounce\nrise = 1\ninterval = 0.05\nname = web\n";

fn reload(dir: &Scratch, plugin: &Plugin, text: &str, done: usize) {
    dir.write("hc.conf", text);
    plugin.signal(1);
    let count = |p: &Plugin| p.stderr().matches("received SIGHUP: reading the configuration again").count();
    assert!(wait_for(LIMIT, || count(plugin) >= done), "no reload:\n{}", plugin.stderr());
}

#[test]
fn an_unchanged_service_keeps_its_state_and_sends_nothing() {
    let dir = Scratch::new("reload-same");
    let text = format!("{WEB}ip = 192.0.2.1\n");
    let mut plugin = start(&dir, &text);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    reload(&dir, &plugin, &text, 1);
    assert!(wait_for(LIMIT, || plugin.stderr().contains("configuration reloaded: 1 service(s), 0 added, 0 changed")));
    // A few more checks: still UP, nothing new to say (a restart from INIT would announce again).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(plugin.lines(), ["announce route 192.0.2.1/32 next-hop self med 100"]);
    assert_eq!(plugin.stderr().matches("INIT -> UP").count(), 1, "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
    assert_eq!(plugin.lines().last().unwrap(), "withdraw route 192.0.2.1/32 next-hop self");
}

#[test]
fn a_changed_service_withdraws_what_it_no_longer_has_and_starts_again() {
    let dir = Scratch::new("reload-changed");
    let mut plugin = start(&dir, &format!("{WEB}ip = 192.0.2.1\nip = 192.0.2.2\n"));
    assert!(plugin.wait_lines(2, LIMIT), "{}", plugin.stderr());
    reload(&dir, &plugin, &format!("{WEB}ip = 192.0.2.2\nip = 192.0.2.3\nup-metric = 50\n"), 1);
    assert!(plugin.wait_lines(5, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(
        plugin.lines(),
        [
            "announce route 192.0.2.1/32 next-hop self med 100",
            "announce route 192.0.2.2/32 next-hop self med 101",
            "withdraw route 192.0.2.1/32 next-hop self",
            "announce route 192.0.2.2/32 next-hop self med 50",
            "announce route 192.0.2.3/32 next-hop self med 51",
        ]
    );
    let err = plugin.stderr();
    assert!(err.contains("changed by the new configuration: starting again from INIT"), "{err}");
    assert_eq!(err.matches("INIT -> UP").count(), 2, "{err}");
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_changed_path_id_or_neighbor_withdraws_the_old_paths_first() {
    // Under another path identifier (or to other neighbors) the new announcements would not
    // replace the old ones: left alone, the old paths would stay announced for good.
    let dir = Scratch::new("reload-path-id");
    let mut plugin = start(&dir, &format!("{WEB}ip = 192.0.2.1\npath-id = 7\n"));
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    reload(&dir, &plugin, &format!("{WEB}ip = 192.0.2.1\npath-id = 8\n"), 1);
    assert!(plugin.wait_lines(3, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    reload(&dir, &plugin, &format!("{WEB}ip = 192.0.2.1\npath-id = 8\nneighbor = 10.0.0.1\n"), 2);
    assert!(plugin.wait_lines(5, LIMIT), "{:?}\n{}", plugin.lines(), plugin.stderr());
    assert_eq!(
        plugin.lines(),
        [
            "announce route 192.0.2.1/32 next-hop self med 100 path-information 7",
            "withdraw route 192.0.2.1/32 next-hop self path-information 7",
            "announce route 192.0.2.1/32 next-hop self med 100 path-information 8",
            "withdraw route 192.0.2.1/32 next-hop self path-information 8",
            "neighbor 10.0.0.1 announce route 192.0.2.1/32 next-hop self med 100 path-information 8",
        ]
    );
    assert_eq!(plugin.stderr().matches("their path identifier or neighbors changed").count(), 2, "{}", plugin.stderr());
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_file_that_does_not_load_changes_nothing() {
    let dir = Scratch::new("reload-bad");
    let text = format!("{WEB}ip = 192.0.2.1\n");
    let mut plugin = start(&dir, &text);
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    reload(&dir, &plugin, &format!("{WEB}ip = 192.0.2.300\n"), 1);
    let path = dir.file("hc.conf").display().to_string();
    let want =
        format!("ERROR[healthcheck] the configuration was not reloaded, nothing changed: {path}:7: --ip 192.0.2.300:");
    assert!(wait_for(LIMIT, || plugin.stderr().contains(&want)), "{}", plugin.stderr());
    // It runs on as it was: the next reload of a good file finds nothing changed.
    reload(&dir, &plugin, &text, 2);
    assert!(wait_for(LIMIT, || plugin.stderr().contains("0 added, 0 changed, 0 removed")), "{}", plugin.stderr());
    assert_eq!(plugin.lines(), ["announce route 192.0.2.1/32 next-hop self med 100"]);
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_changed_process_wide_option_waits_for_a_restart() {
    let dir = Scratch::new("reload-process");
    let mut plugin = start(&dir, &format!("{WEB}ip = 192.0.2.1\n"));
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    reload(&dir, &plugin, &format!("{WEB}ip = 192.0.2.1\ndebug\n"), 1);
    let want = "WARNING[healthcheck] process-wide options changed: they take effect when the plugin is restarted";
    assert!(wait_for(LIMIT, || plugin.stderr().contains(want)), "{}", plugin.stderr());
    assert_eq!(plugin.lines(), ["announce route 192.0.2.1/32 next-hop self med 100"]);
    assert_eq!(plugin.stop(), Some(0));
}

#[test]
fn a_file_replaced_by_a_device_or_a_fifo_is_refused_and_the_plugin_runs_on() {
    let dir = Scratch::new("reload-special");
    // No --debounce: every check writes its line, so the lines show the schedule.
    let mut plugin = start(&dir, "no-syslog\nno-ip-setup\nrise = 1\ninterval = 0.05\nname = web\nip = 192.0.2.1\n");
    assert!(plugin.wait_lines(1, LIMIT), "{}", plugin.stderr());
    let path = dir.file("hc.conf");
    for (done, kind) in ["a character device", "a FIFO"].into_iter().enumerate() {
        std::fs::remove_file(&path).unwrap();
        if kind == "a FIFO" {
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        } else {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        }
        plugin.signal(1);
        // Refused at once (not read without end, not waiting for a writer).
        let want = format!(
            "ERROR[healthcheck] the configuration was not reloaded, nothing changed: --config {}: not a regular file \
             ({kind})",
            path.display()
        );
        let refused = || plugin.stderr().matches(&want).count() == 1;
        assert!(wait_for(Duration::from_secs(3), refused), "{kind}: {}", plugin.stderr());
        assert_eq!(plugin.stderr().matches("received SIGHUP").count(), done + 1);
        // The old configuration runs on, on its schedule.
        let before = plugin.lines().len();
        assert!(plugin.wait_lines(before + 3, Duration::from_secs(3)), "{kind}: {}", plugin.stderr());
    }
    assert!(plugin.lines().iter().all(|line| line == "announce route 192.0.2.1/32 next-hop self med 100"));
    plugin.signal(15);
    assert_eq!(plugin.wait_exit(Duration::from_secs(3)), Some(0), "{}", plugin.stderr());
}
