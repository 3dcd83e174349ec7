//! `--user` and `--group` looked up by name, at start-up: in `/etc/passwd` and `/etc/group`
//! first, read here, then with `getent passwd NAME` (or `group`), which asks the system's NSS
//! (LDAP, sssd, systemd's dynamic users, ...).
//!
//! Never through the C library's own `getpwnam`: the binary as it ships is linked statically
//! (docs/packaging.md), and a static glibc reaches NSS only by loading the system's NSS
//! modules into itself, which crashes unless they come from the very glibc it was built with.
//! `getent` is the system's own program, linked with the system's glibc.

use crate::proc::{self, Capture, Spec};
use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::CString;
use std::path::PathBuf;
use std::time::Duration;

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";
/// How long `getent` may take (a directory server that does not answer).
const GETENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The user called `name`.
pub fn user(name: &str) -> Option<User> {
    let local = std::fs::read_to_string(PASSWD).ok().and_then(|text| user_in(&text, name));
    local.or_else(|| user_in(&getent("passwd", name)?, name))
}

/// The group called `name`.
pub fn group(name: &str) -> Option<Group> {
    let local = std::fs::read_to_string(GROUP).ok().and_then(|text| group_in(&text, name));
    local.or_else(|| group_in(&getent("group", name)?, name))
}

/// What `getent DATABASE NAME` prints, when it finds `name`.
fn getent(database: &str, name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with('-') {
        return None;
    }
    let spec =
        Spec { timeout: Some(GETENT_TIMEOUT), capture: Capture::Merged, ..Spec::exec("getent", [database, name]) };
    let outcome = proc::run_alone(&spec);
    outcome.success().then(|| String::from_utf8_lossy(&outcome.output).into_owned())
}

/// The fields of `name`'s line in a file of `:`-separated lines, where the name comes first;
/// comments, blank lines and NIS `+`/`-` entries are no accounts.
fn fields<'t>(text: &'t str, name: &str) -> Option<Vec<&'t str>> {
    if name.is_empty() {
        return None;
    }
    text.lines()
        .filter(|line| !line.starts_with(['#', '+', '-']))
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields[0] == name)
}

fn c_string(text: &str) -> Option<CString> {
    CString::new(text).ok()
}

/// `name` in the text of a passwd(5) file: `name:password:uid:gid:gecos:home:shell`.
fn user_in(text: &str, name: &str) -> Option<User> {
    let f = fields(text, name)?;
    let [name, passwd, uid, gid, gecos, dir, shell] = f[..] else { return None };
    Some(User {
        name: name.to_owned(),
        passwd: c_string(passwd)?,
        uid: Uid::from_raw(uid.parse().ok()?),
        gid: Gid::from_raw(gid.parse().ok()?),
        gecos: c_string(gecos)?,
        dir: PathBuf::from(dir),
        shell: PathBuf::from(shell),
    })
}

/// `name` in the text of a group(5) file: `name:password:gid:member,member`.
fn group_in(text: &str, name: &str) -> Option<Group> {
    let f = fields(text, name)?;
    let [name, passwd, gid, members] = f[..] else { return None };
    Some(Group {
        name: name.to_owned(),
        passwd: c_string(passwd)?,
        gid: Gid::from_raw(gid.parse().ok()?),
        mem: members.split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # a comment:x:1:1::/:/bin/sh\n\
        \n\
        exabgp:x:105:110:ExaBGP,,,:/var/lib/exabgp:/usr/sbin/nologin\n\
        +nisuser::::::\n\
        broken:x:notanumber:1::/:/bin/sh\n\
        short:x:7:7\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

    const GROUP_TEXT: &str = "root:x:0:\nexabgp:x:110:alice,bob\nnogroup:x:65534:\n-nis:::\nbad:x:-1:\n";

    #[test]
    fn users_are_found_by_their_exact_name() {
        let user = user_in(PASSWD_TEXT, "exabgp").unwrap();
        assert_eq!((user.name.as_str(), user.uid.as_raw(), user.gid.as_raw()), ("exabgp", 105, 110));
        assert_eq!(user.dir, PathBuf::from("/var/lib/exabgp"));
        assert_eq!(user.shell, PathBuf::from("/usr/sbin/nologin"));
        assert_eq!(user.gecos.to_str().unwrap(), "ExaBGP,,,");
        assert_eq!(user_in(PASSWD_TEXT, "nobody").unwrap().uid.as_raw(), 65534);
        assert_eq!(user_in(PASSWD_TEXT, "root").unwrap().uid.as_raw(), 0);
        for absent in ["exa", "exabgpx", "", "a comment", "# a comment", "+nisuser", "nisuser"] {
            assert!(user_in(PASSWD_TEXT, absent).is_none(), "{absent:?}");
        }
    }

    #[test]
    fn a_malformed_line_is_no_user() {
        assert!(user_in(PASSWD_TEXT, "broken").is_none());
        assert!(user_in(PASSWD_TEXT, "short").is_none());
        assert!(user_in("", "root").is_none());
    }

    #[test]
    fn groups_are_found_with_their_members() {
        let group = group_in(GROUP_TEXT, "exabgp").unwrap();
        assert_eq!((group.name.as_str(), group.gid.as_raw()), ("exabgp", 110));
        assert_eq!(group.mem, ["alice", "bob"]);
        assert!(group_in(GROUP_TEXT, "root").unwrap().mem.is_empty());
        assert_eq!(group_in(GROUP_TEXT, "nogroup").unwrap().gid.as_raw(), 65534);
        for absent in ["bad", "nis", "-nis", "", "exabg"] {
            assert!(group_in(GROUP_TEXT, absent).is_none(), "{absent:?}");
        }
    }

    #[test]
    fn this_machines_root_is_found_in_its_files() {
        // Every Linux system has root in /etc/passwd and /etc/group, as uid and gid 0.
        assert_eq!(user("root").map(|u| u.uid.as_raw()), Some(0));
        assert_eq!(group("root").map(|g| g.gid.as_raw()), Some(0));
        assert!(user("no-such-user-exabgp-healthcheck").is_none());
        assert!(group("no-such-group-exabgp-healthcheck").is_none());
        assert!(user("-x").is_none(), "not an option to getent");
    }

    #[test]
    fn getent_finds_what_nss_knows() {
        // getent reads the same files through NSS's "files" module: root is there.
        let line = getent("passwd", "root").expect("getent passwd root");
        assert_eq!(user_in(&line, "root").map(|u| u.uid.as_raw()), Some(0));
        assert!(getent("passwd", "no-such-user-exabgp-healthcheck").is_none());
    }
}
