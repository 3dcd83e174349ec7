//! BIRD 2 as the router of the end-to-end tests and the network benchmarks: started in a
//! namespace on a control socket in a scratch directory, asked with `birdc`, and its routes
//! read from `birdc show route NET [all]`.

use super::netns::{Daemon, Netns};
use super::wait_for;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running BIRD (a [`Daemon`]: stopped by PID on drop).
pub struct Bird {
    pub daemon: Daemon,
    socket: PathBuf,
}

impl Bird {
    /// `bird -f -c CONF -s DIR/bird.ctl` in `ns`, logging to `DIR/bird.log`; panics unless it
    /// answers `show status` with `Daemon is up` within `limit`.
    pub fn start(ns: &Netns, conf: &Path, dir: &Path, limit: Duration) -> Bird {
        let socket = dir.join("bird.ctl");
        let argv: [&Path; 6] = [Path::new("bird"), Path::new("-f"), Path::new("-c"), conf, Path::new("-s"), &socket];
        let daemon = Daemon::start(ns, &argv, &[], &dir.join("bird.log"));
        let bird = Bird { daemon, socket };
        assert!(
            wait_for(limit, || bird.birdc(&["show", "status"]).is_ok_and(|s| s.contains("Daemon is up"))),
            "BIRD did not answer on {} within {limit:?}: {:?}",
            bird.socket.display(),
            bird.birdc(&["show", "status"])
        );
        bird
    }

    /// `birdc -s SOCKET ARGS`: its output, or why it failed.
    pub fn birdc(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("birdc")
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("failed to run birdc: {err}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("birdc {args:?}: {}{text}{}", out.status, String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// How many BGP sessions are established (0 when BIRD does not answer).
    pub fn established(&self) -> usize {
        self.birdc(&["show", "protocols"]).map_or(0, |text| text.lines().filter(|l| l.contains("Established")).count())
    }
}

/// The attributes of each peer's path in `birdc show route NET all` (`BGP.local_pref` -> `0`,
/// `BGP.community` -> `(65535,0)`), the peer named as in [`Paths`].
pub fn attributes(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(attribute) = line.strip_prefix('\t') {
            if let (Some(lb), Some((name, value))) = (&current, attribute.split_once(':')) {
                all.entry(lb.clone()).or_default().insert(name.trim().to_owned(), value.trim().to_owned());
            }
            continue;
        }
        let Some((_, rest)) = line.split_once('[') else { continue };
        let Some((protocol, _)) = rest.split_once(']') else { continue };
        let name = protocol.split_whitespace().next().unwrap_or_default();
        let lb = name.split('_').next().unwrap_or_default().to_owned();
        all.entry(lb.clone()).or_default();
        current = Some(lb);
    }
    all
}

/// The router's paths for one address: the MED of each peer's path (None: a path without a
/// MED, or `show route` without `all`), and the peer whose path is best. A peer is named by
/// its protocol's name up to the first `_` (`lb1_v4` and `lb1_v6` are `lb1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paths {
    pub meds: BTreeMap<String, Option<u32>>,
    pub best: Option<String>,
}

impl Paths {
    /// Parse `birdc show route NET [all]`: a route line (`NET  unicast [lb1_v4 12:00:00.000] *
    /// (100) [i]`, the net only on the first) starts each path, `*` marks the best one, and
    /// attribute lines (starting with a tab) carry `BGP.med: N`.
    pub fn parse(text: &str) -> Paths {
        let mut paths = Paths::default();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(attribute) = line.strip_prefix('\t') {
                if let (Some(lb), Some(med)) = (&current, attribute.trim().strip_prefix("BGP.med:")) {
                    paths.meds.insert(lb.clone(), med.trim().parse().ok());
                }
                continue;
            }
            let Some((_, rest)) = line.split_once('[') else { continue };
            let Some((protocol, after)) = rest.split_once(']') else { continue };
            let name = protocol.split_whitespace().next().unwrap_or_default();
            let lb = name.split('_').next().unwrap_or_default().to_owned();
            if after.split_whitespace().next() == Some("*") {
                paths.best = Some(lb.clone());
            }
            paths.meds.insert(lb.clone(), None);
            current = Some(lb);
        }
        paths
    }
}
