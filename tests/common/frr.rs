//! FRR (zebra, bgpd and, for BFD, bfdd, `/usr/lib/frr/`) as a router of the end-to-end tests:
//! started in a namespace with their configuration, pid files, zebra's socket, bfdd's control
//! socket and the vty sockets in a directory of the test's own (owned by FRR's user, as FRR drops
//! to it), asked with `vtysh --vty_socket DIR`. Each daemon is a [`Daemon`]: stopped by PID on
//! drop.

use super::netns::{Daemon, Netns};
use super::wait_for;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where FRR's daemons are installed.
pub const DAEMONS: &str = "/usr/lib/frr";

/// A running FRR: bgpd, bfdd, then zebra, stopped (by PID) when dropped.
pub struct Frr {
    bgpd: Option<Daemon>,
    bfdd: Option<Daemon>,
    zebra: Option<Daemon>,
    dir: PathBuf,
}

impl Frr {
    /// zebra, then bgpd with `bgpd_conf`, in `ns`, everything in `dir` (made here, owned by
    /// the `frr` user), logging to `dir/zebra.log` and `dir/bgpd.log`; panics unless bgpd
    /// answers on its vty socket within `limit`.
    pub fn start(ns: &Netns, dir: &Path, bgpd_conf: &str, limit: Duration) -> Frr {
        Frr::start_with(ns, dir, bgpd_conf, None, limit)
    }

    /// As [`Frr::start`], and with `bfdd_conf`, bfdd (before bgpd, its control socket in `dir`
    /// too, logging to `dir/bfdd.log`), answering `show bfd peers` within `limit`.
    pub fn start_with(ns: &Netns, dir: &Path, bgpd_conf: &str, bfdd_conf: Option<&str>, limit: Duration) -> Frr {
        let user = nix::unistd::User::from_name("frr").ok().flatten().expect("no `frr` user: install frr");
        let group = nix::unistd::Group::from_name("frr").ok().flatten().expect("no `frr` group: install frr");
        std::fs::create_dir_all(dir).expect("FRR's directory");
        std::fs::write(dir.join("zebra.conf"), "hostname router\n").expect("zebra.conf");
        std::fs::write(dir.join("bgpd.conf"), bgpd_conf).expect("bgpd.conf");
        let mut files = vec![dir.to_path_buf(), dir.join("zebra.conf"), dir.join("bgpd.conf")];
        if let Some(conf) = bfdd_conf {
            std::fs::write(dir.join("bfdd.conf"), conf).expect("bfdd.conf");
            files.push(dir.join("bfdd.conf"));
        }
        for path in files {
            nix::unistd::chown(&path, Some(user.uid), Some(group.gid)).expect("chown FRR's files");
        }
        let text = |p: PathBuf| p.display().to_string();
        let daemon = |name: &str, more: &[String]| {
            let mut argv = vec![
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
            argv.extend_from_slice(more);
            Daemon::start(ns, &argv, &[], &dir.join(format!("{name}.log")))
        };
        let zebra = daemon("zebra", &[]);
        let socket = dir.join("zserv.api");
        assert!(wait_for(limit, || socket.exists()), "zebra did not open {} within {limit:?}", socket.display());
        let mut frr = Frr { bgpd: None, bfdd: None, zebra: Some(zebra), dir: dir.to_path_buf() };
        if bfdd_conf.is_some() {
            frr.bfdd = Some(daemon("bfdd", &["--bfdctl".into(), text(dir.join("bfdd.sock"))]));
            assert!(
                wait_for(limit, || frr.vtysh("show bfd peers json").is_ok()),
                "bfdd did not answer on {} within {limit:?}: {:?}",
                dir.display(),
                frr.vtysh("show bfd peers json")
            );
        }
        frr.bgpd = Some(daemon("bgpd", &[]));
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
        drop(self.bfdd.take());
        drop(self.zebra.take());
    }
}
