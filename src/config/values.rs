//! The value parsers and checks of [`super::Settings::from_args`]: MEDs, attributes spliced
//! into API lines, `IP%IFNAME`, the neighbor selector, syslog facilities, the metric range
//! (durations are [`crate::units::duration`]), the metrics file's folder. Pure but for that
//! folder's look-up: text or numbers in, a value or a [`UsageError`] naming the flag out.

use crate::error::UsageError;
use crate::exabgp::lines::{PerState, Selector};
use crate::net::Net;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// An address to listen on: `IP:PORT`, IPv6 in brackets (`[::1]:9876`), or `localhost:PORT`
/// (127.0.0.1, as in `--check`). No name is resolved.
pub(crate) fn listen_address(flag: &'static str, text: &str) -> Result<SocketAddr, UsageError> {
    let trimmed = text.trim();
    let parsed = match trimmed.strip_prefix("localhost:") {
        Some(port) => port.parse::<u16>().map(|port| SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port))).ok(),
        None => trimmed.parse::<SocketAddr>().ok(),
    };
    parsed.ok_or_else(|| {
        UsageError::value(
            flag,
            text,
            "not ADDR:PORT (an IP address or localhost, and a port: 127.0.0.1:9876, [::1]:9876)",
        )
    })
}

/// A MED or local preference: BGP carries 32 bits.
pub(crate) fn med(flag: &'static str, value: i64) -> Result<i64, UsageError> {
    if (0..=i64::from(u32::MAX)).contains(&value) {
        Ok(value)
    } else {
        Err(UsageError::value(flag, value, format!("must be between 0 and {}", u32::MAX)))
    }
}

/// The last of `routes` routes' metric must still fit in 32 bits after `--increase`.
pub(crate) fn metric_range(metric: &PerState<i64>, increase: i64, routes: u128) -> Result<(), UsageError> {
    let steps = i128::try_from(routes.saturating_sub(1)).unwrap_or(i128::MAX);
    for (flag, first) in
        [("--up-metric", metric.up), ("--down-metric", metric.down), ("--disabled-metric", metric.disabled)]
    {
        let last = i128::from(first).saturating_add(i128::from(increase).saturating_mul(steps));
        if !(0..=i128::from(u32::MAX)).contains(&last) {
            return Err(UsageError::value(
                "--increase",
                increase,
                format!("{flag} {first} reaches {last} on the last of {routes} routes, outside 0..{}", u32::MAX),
            ));
        }
    }
    Ok(())
}

/// An attribute spliced into an API line: a control character (other than tab) would start a
/// second command.
pub(crate) fn attribute(flag: &'static str, value: Option<String>) -> Result<Option<String>, UsageError> {
    if let Some(text) = &value {
        no_control_but_tab(flag, text)?;
    }
    Ok(value)
}

/// Standard communities (`--drain-community`): one or more `ASN:VALUE`, each part 0 to 65535,
/// separated by white space; shown with one space between them.
pub(crate) fn communities(flag: &'static str, text: &str) -> Result<String, UsageError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Err(UsageError::quoted(flag, text, "no community (ASN:VALUE, each 0 to 65535)"));
    }
    for word in &words {
        let valid = word.split_once(':').is_some_and(|(asn, value)| {
            let part = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok();
            part(asn) && part(value)
        });
        if !valid {
            return Err(UsageError::quoted(
                flag,
                text,
                format!("{word:?} is not a community (ASN:VALUE, each 0 to 65535)"),
            ));
        }
    }
    Ok(words.join(" "))
}

pub(crate) fn no_control_but_tab(flag: &'static str, text: &str) -> Result<(), UsageError> {
    refuse_breaks(flag, text, |c| c != '\t')
}

pub(crate) fn no_control(flag: &'static str, text: &str) -> Result<(), UsageError> {
    refuse_breaks(flag, text, |_| true)
}

/// Refuse control characters (those `refused` says yes to) and the Unicode line and
/// paragraph separators: anything a reader of our lines or logs could take for a line break.
fn refuse_breaks(flag: &'static str, text: &str, refused: impl Fn(char) -> bool) -> Result<(), UsageError> {
    let breaks = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    match text.chars().find(|&c| breaks(c) && refused(c)) {
        Some(c) => Err(UsageError::quoted(flag, text, format!("contains the control character {c:?}"))),
        None => Ok(()),
    }
}

/// `IP%IFNAME`, IFNAME being 1 to 15 of `[A-Za-z0-9._:-]`.
pub(crate) fn ip_ifname(pair: &str) -> Result<(Net, String), UsageError> {
    let bad = |why: String| UsageError::value("--ip-ifname", pair, why);
    let parts: Vec<&str> = pair.split('%').collect();
    let [ip, ifname] = parts[..] else {
        return Err(bad("expected IP%IFNAME".to_owned()));
    };
    let net: Net = ip.parse().map_err(|e| bad(format!("{e}")))?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
    if ifname.is_empty() || ifname.len() > 15 || !ifname.chars().all(valid) {
        return Err(bad(format!("'{ifname}' is not an interface name (1 to 15 of A-Z a-z 0-9 . _ : -)")));
    }
    Ok((net, ifname.to_owned()))
}

/// Whom to announce to, from the `--neighbor` list and the API version.
pub(crate) fn selector(neighbors: &[String], api_version: &str) -> Result<Selector, UsageError> {
    let mut ips = Vec::new();
    let mut all = false;
    for text in neighbors {
        if text.trim() == "*" {
            all = true;
        } else {
            let ip = text
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| UsageError::value("--neighbor", text, "not an IP address (or '*')"))?;
            ips.push(ip);
        }
    }
    let v6 = api_version == "6";
    Ok(match (v6, all || ips.is_empty()) {
        (false, true) if all => Selector::AllNeighbors,
        (false, true) => Selector::All,
        (false, false) => Selector::Neighbors(ips),
        (true, true) => Selector::AllPeers,
        (true, false) => Selector::Peers(ips),
    })
}

/// A syslog facility code from its name, case-insensitive, as Python's SysLogHandler knows them.
pub(crate) fn facility(name: &str) -> Option<u8> {
    let name = name.to_ascii_lowercase();
    let code = match name.as_str() {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" | "security" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "ntp" => 12,
        "audit" => 13,
        "console" => 14,
        "solcron" => 15,
        other => {
            let n: u8 = other.strip_prefix("local")?.parse().ok()?;
            return (n <= 7).then_some(16 + n);
        }
    };
    Some(code)
}

/// `--metrics-file PATH` checked at start-up: a file name in a folder that exists and that
/// the plugin can write to as the user it runs as (`user`, `group`: `--user` and `--group`,
/// to which it switches after start-up; else the user it is).
pub(crate) fn metrics_file(
    path: &Path,
    user: Option<&nix::unistd::User>,
    group: Option<&nix::unistd::Group>,
) -> Result<PathBuf, UsageError> {
    let refuse = |why: String| UsageError::value("--metrics-file", path.display(), why);
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(refuse("not a file name".to_owned()));
    }
    let folder = folder_of(path);
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(refuse(format!("{} is not a folder", folder.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(format!("the folder {} does not exist", folder.display())))
        }
        Err(err) => return Err(refuse(format!("cannot use the folder {}: {err}", folder.display()))),
    }
    if std::fs::metadata(path).is_ok_and(|meta| meta.is_dir()) {
        return Err(refuse("is a folder".to_owned()));
    }
    // A new file goes in the folder (then renamed over PATH): it takes writing and searching.
    let writable = nix::unistd::access(folder, nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK);
    if writable.is_err() {
        return Err(refuse(format!("the folder {} is not writable", folder.display())));
    }
    if let Some(user) = user.filter(|user| !user.uid.is_root()) {
        let gid = group.map_or(user.gid, |group| group.gid);
        let meta = std::fs::metadata(folder)
            .map_err(|err| refuse(format!("cannot use the folder {}: {err}", folder.display())))?;
        use std::os::unix::fs::MetadataExt;
        // After the switch its only group is `gid` (the supplementary groups are dropped).
        let bits = if meta.uid() == user.uid.as_raw() {
            meta.mode() >> 6
        } else if meta.gid() == gid.as_raw() {
            meta.mode() >> 3
        } else {
            meta.mode()
        };
        if bits & 0o3 != 0o3 {
            return Err(refuse(format!("the folder {} is not writable by user {}", folder.display(), user.name)));
        }
    }
    Ok(path.to_path_buf())
}

/// The folder `path` is in (`.` for a bare name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Value;

    #[test]
    fn listen_addresses_are_ip_and_port() {
        assert_eq!(listen_address("--metrics-listen", "127.0.0.1:9876").unwrap(), "127.0.0.1:9876".parse().unwrap());
        assert_eq!(listen_address("--metrics-listen", "[::1]:9876").unwrap(), "[::1]:9876".parse().unwrap());
        // localhost is 127.0.0.1, as in --check; no other name is resolved.
        assert_eq!(listen_address("--metrics-listen", "localhost:9876").unwrap(), "127.0.0.1:9876".parse().unwrap());
        let bad_ones = ["localhost", "localhost:", "localhost:x", "localhost:99999", "[localhost]:9876"];
        for bad in ["example.com:9876", "127.0.0.1", "::1:9876", "127.0.0.1:99999", ":9876", ""].iter().chain(&bad_ones)
        {
            let e = listen_address("--metrics-listen", bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--metrics-listen {bad}: not ADDR:PORT")), "{e}");
        }
    }

    #[test]
    fn meds_are_32_bits() {
        assert_eq!(med("--up-metric", 0).unwrap(), 0);
        assert_eq!(med("--up-metric", 4_294_967_295).unwrap(), 4_294_967_295);
        assert_eq!(med("--up-metric", -1).unwrap_err().to_string(), "--up-metric -1: must be between 0 and 4294967295");
        assert!(med("--local-preference", 4_294_967_296).is_err());
    }

    #[test]
    fn control_characters_are_refused_quoted_and_tabs_only_where_allowed() {
        assert_eq!(attribute("--community", Some("1:1\t1:2".into())).unwrap().as_deref(), Some("1:1\t1:2"));
        assert_eq!(attribute("--community", None).unwrap(), None);
        let e = attribute("--community", Some("1:1\nannounce".into())).unwrap_err();
        assert_eq!(e.value, Some(Value::Quoted("1:1\nannounce".to_owned())));
        assert_eq!(e.to_string(), "--community \"1:1\\nannounce\": contains the control character '\\n'");
        assert!(no_control("--name", "a\tb").is_err());
        assert!(no_control_but_tab("--command", "a\tb").is_ok());
        for text in ["a\u{2028}b", "a\u{2029}b", "a\u{85}b", "a\u{0}b"] {
            assert!(no_control_but_tab("--as-path", text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn ip_ifname_pairs() {
        let (net, ifname) = ip_ifname("2001:db8::/126%dummy0").unwrap();
        assert_eq!((net.to_string().as_str(), ifname.as_str()), ("2001:db8::/126", "dummy0"));
        for bad in ["192.0.2.1", "192.0.2.1%", "192.0.2.1%a%b", "192.0.2.1%bad/name", "192.0.2.1%waytoolonginterface"] {
            let e = ip_ifname(bad).unwrap_err();
            assert_eq!((e.flag, e.value.as_ref().map(Value::text)), (Some("--ip-ifname"), Some(bad)));
        }
        assert_eq!(ip_ifname("x%eth0").unwrap_err().to_string().split(": ").next(), Some("--ip-ifname x%eth0"));
    }

    #[test]
    fn selectors() {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(selector(&[], "4").unwrap(), Selector::All);
        assert_eq!(selector(&list(&[" * "]), "4").unwrap(), Selector::AllNeighbors);
        assert_eq!(selector(&[], "6").unwrap(), Selector::AllPeers);
        assert_eq!(selector(&list(&["192.0.2.1 "]), "6").unwrap(), Selector::Peers(vec!["192.0.2.1".parse().unwrap()]));
        let e = selector(&list(&["192.0.2.1", "peer1"]), "4").unwrap_err();
        assert_eq!(e.to_string(), "--neighbor peer1: not an IP address (or '*')");
    }

    #[test]
    fn syslog_facilities() {
        assert_eq!(facility("daemon"), Some(3));
        assert_eq!(facility("LOCAL3"), Some(19));
        assert_eq!(facility("security"), facility("auth"));
        assert_eq!((facility("local7"), facility("local8"), facility("local")), (Some(23), None, None));
        assert_eq!(facility("nope"), None);
    }

    #[test]
    fn the_metric_range_counts_every_route() {
        let mut metric = PerState { up: 100, down: 1000, disabled: 500 };
        assert!(metric_range(&metric, 1, 256).is_ok());
        assert!(metric_range(&metric, -100, 2).is_ok());
        assert!(metric_range(&metric, -101, 2).is_err());
        assert!(metric_range(&metric, i64::MAX, u128::MAX).is_err(), "saturates");
        metric.up = 4_294_967_295;
        assert!(metric_range(&metric, 1, 1).is_ok(), "one route, no increase");
        assert!(metric_range(&metric, 1, 0).is_ok(), "no route");
        assert_eq!(
            metric_range(&metric, 1, 256).unwrap_err().to_string(),
            "--increase 1: --up-metric 4294967295 reaches 4294967550 on the last of 256 routes, outside 0..4294967295"
        );
    }

    #[test]
    fn a_metrics_file_in_a_missing_folder_or_a_folder_is_refused() {
        let dir = std::env::temp_dir().join(format!("ehc-metrics-file-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("exabgp.prom");
        assert_eq!(metrics_file(&good, None, None).unwrap(), good);
        let missing = dir.join("nowhere/exabgp.prom");
        assert_eq!(
            metrics_file(&missing, None, None).unwrap_err().to_string(),
            format!(
                "--metrics-file {}: the folder {} does not exist",
                missing.display(),
                dir.join("nowhere").display()
            )
        );
        assert_eq!(
            metrics_file(&dir, None, None).unwrap_err().to_string(),
            format!("--metrics-file {}: is a folder", dir.display())
        );
        let file = dir.join("plain");
        std::fs::write(&file, "").unwrap();
        let under = file.join("x.prom");
        assert!(metrics_file(&under, None, None)
            .unwrap_err()
            .to_string()
            .ends_with(&format!("{} is not a folder", file.display())));
        assert!(metrics_file(Path::new("bare.prom"), None, None).is_ok(), "the current folder");
        assert!(metrics_file(Path::new("/"), None, None).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
