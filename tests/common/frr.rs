//! FRR (zebra and bgpd, `/usr/lib/frr/`) as a router of the end-to-end tests: started in a
//! namespace with their configuration, pid files, zebra's socket and the vty sockets in a
//! directory of the test's own (owned by FRR's user, as FRR drops to it), asked with
//! `vtysh --vty_socket DIR`. Each daemon is a [`Daemon`]: stopped by PID on drop.

use super::netns::{Daemon, Netns};
use super::wait_for;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where FRR's daemons are installed.
pub const DAEMONS: &str = "/usr/lib/frr";

/// A running FRR: bgpd, then zebra, stopped (by PID) when dropped.
pub struct Frr {
    bgpd: Option<Daemon>,
    zebra: Option<Daemon>,
    dir: PathBuf,
}

impl Frr {
    /// zebra, then bgpd with `bgpd_conf`, in `ns`, everything in `dir` (made here, owned by
    /// the `frr` user), logging to `dir/zebra.log` and `dir/bgpd.log`; panics unless bgpd
    /// answers on its vty socket within `limit`.
    pub fn start(ns: &Netns, dir: &Path, bgpd_conf: &str, limit: Duration) -> Frr {
        let user = nix::unistd::User::from_name("frr").ok().flatten().expect("no `frr` user: install frr");
        let group = nix::unistd::Group::from_name("frr").ok().flatten().expect("no `frr` group: install frr");
        std::fs::create_dir_all(dir).expect("FRR's directory");
        std::fs::write(dir.join("zebra.conf"), "hostname router\n").expect("zebra.conf");
        std::fs::write(dir.join("bgpd.conf"), bgpd_conf).expect("bgpd.conf");
        for path in [dir.to_path_buf(), dir.join("zebra.conf"), dir.join("bgpd.conf")] {
            nix::unistd::chown(&path, Some(user.uid), Some(group.gid)).expect("chown FRR's files");
        }
        let text = |p: PathBuf| p.display().to_string();
        let daemon = |name: &str| {
            let argv = [
                format!("{DAEMONS}/{name}"),
                "-f".into(),
                text(dir.join(format!("{name}.conf"))),
                "-i".into(),
                text(dir.join(format!("{name}.pid"))),
                "-z".into(),
                text(dir.join("zserv.api")),
                "--vty_socket".into(),
                text(dir.to_path_buf()),
                "-P".into(),
                "0".into(),
                "-u".into(),
                "frr".into(),
                "-g".into(),
                "frr".into(),
                "--log".into(),
                "stdout".into(),
            ];
            Daemon::start(ns, &argv, &[], &dir.join(format!("{name}.log")))
        };
        let zebra = daemon("zebra");
        let socket = dir.join("zserv.api");
        assert!(wait_for(limit, || socket.exists()), "zebra did not open {} within {limit:?}", socket.display());
        let bgpd = daemon("bgpd");
        let frr = Frr { bgpd: Some(bgpd), zebra: Some(zebra), dir: dir.to_path_buf() };
        assert!(
            wait_for(limit, || frr.vtysh("show bgp summary json").is_ok()),
            "bgpd did not answer on {} within {limit:?}: {:?}",
            dir.display(),
            frr.vtysh("show bgp summary json")
        );
        frr
    }

    /// `vtysh --vty_socket DIR -c COMMAND`: its output, or why it failed.
    pub fn vtysh(&self, command: &str) -> Result<String, String> {
        let out = Command::new("vtysh")
            .arg("--vty_socket")
            .arg(&self.dir)
            .args(["-c", command])
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("failed to run vtysh: {err}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("vtysh -c {command:?}: {}{text}{}", out.status, String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// `show bgp ipv4 unicast NET json`, parsed (`Null` when bgpd does not answer).
    pub fn route(&self, net: &str) -> serde_json::Value {
        self.vtysh(&format!("show bgp ipv4 unicast {net} json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// How many BGP sessions are established.
    pub fn established(&self) -> usize {
        let Ok(text) = self.vtysh("show bgp ipv4 unicast summary json") else { return 0 };
        let Ok(summary) = serde_json::from_str::<serde_json::Value>(&text) else { return 0 };
        summary["peers"].as_object().map_or(0, |peers| peers.values().filter(|p| p["state"] == "Established").count())
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        drop(self.bgpd.take());
        drop(self.zebra.take());
    }
}
