//! The program's resident pages after start-up (reads /proc/self/smaps; the crate's one
//! `unsafe`, a `madvise`).
//!
//! The kernel maps a file's pages into a process around each page it touches (fault-around,
//! 64 kB at a time), so after start-up nearly all of the binary's code and read-only data is
//! resident, although most of it (the command line, the configuration, the set-up) never runs
//! again: about 2 MB of the shipped binary's 2.9 MB resident with one service. [`trim`] drops
//! the page-table entries of those mappings (`MADV_DONTNEED`). The pages stay in the page
//! cache: what the loop uses comes back on its first touch as a minor fault (no disk read),
//! and the rest is no longer counted as ours. Nothing else changes: these mappings are
//! read-only and backed by the file, so the pages mapped again are the same bytes.

use std::path::PathBuf;

/// One mapping of /proc/self/smaps: its range, permissions, path and anonymous kB.
struct Mapping {
    start: usize,
    end: usize,
    perms: String,
    path: String,
    anonymous_kb: u64,
}

/// The mappings in `smaps` (the text of /proc/self/smaps).
fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut found: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            if let Some(last) = found.last_mut() {
                last.anonymous_kb = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(u64::MAX);
            }
            continue;
        }
        // A mapping's first line: `start-end perms offset dev inode [path]`; field lines have
        // a `Name:` first and no `-` range.
        let mut fields = line.splitn(6, ' ');
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("").trim_start().to_owned();
        // Unknown until its `Anonymous:` line: never trimmed without one.
        found.push(Mapping { start, end, perms: perms.to_owned(), path, anonymous_kb: u64::MAX });
    }
    found
}

/// The ranges to trim: the mappings of `exe` that are private, not writable, and hold no
/// anonymous page (none was copied on write: the relocated read-only data of a static-pie is,
/// and stays mapped).
fn trimmable(smaps: &str, exe: &str) -> Vec<(usize, usize)> {
    mappings(smaps)
        .into_iter()
        .filter(|m| m.path == exe && m.perms.len() == 4 && m.perms.ends_with('p'))
        .filter(|m| m.perms.as_bytes()[1] == b'-' && m.anonymous_kb == 0)
        .map(|m| (m.start, m.end))
        .collect()
}

/// Drop the page-table entries of the binary's read-only file mappings, once start-up is done.
/// Best effort and silent: a failure leaves the pages mapped, as they were. Never inlined:
/// contrib/hot-symbols.sh profiles what runs after it returns.
#[inline(never)]
pub fn trim() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    let Ok(exe) = std::fs::read_link("/proc/self/exe").map(PathBuf::into_os_string) else { return };
    let Some(exe) = exe.to_str() else { return };
    for (start, end) in trimmable(&smaps, exe) {
        #[expect(unsafe_code, reason = "madvise has no safe form; see the SAFETY note")]
        // SAFETY: the range is a whole mapping of our own executable that is private, not
        // writable and has no page copied on write (its `Anonymous:` is 0 kB, and nothing can
        // write to it later), so every page in it is the file's own. MADV_DONTNEED on such a
        // mapping only removes page-table entries: the next access maps the same file page
        // again from the page cache. No Rust reference can observe a difference.
        let _ = unsafe { rustix::mm::madvise(start as *mut _, end - start, rustix::mm::Advice::LinuxDontNeed) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
7f58bf000000-7f58bf0ff000 r--p 00000000 fe:00 7046128                    /usr/bin/exabgp-healthcheck
Size:               1020 kB
Rss:                 576 kB
Anonymous:             0 kB
7f58bf0ff000-7f58bf349000 r-xp 000ff000 fe:00 7046128                    /usr/bin/exabgp-healthcheck
Size:               2344 kB
Anonymous:             0 kB
7f58bf349000-7f58bf361000 r--p 00347000 fe:00 7046128                    /usr/bin/exabgp-healthcheck
Anonymous:            96 kB
7f58bf361000-7f58bf365000 rw-p 0035e000 fe:00 7046128                    /usr/bin/exabgp-healthcheck
Anonymous:             0 kB
7f58bf365000-7f58bf36b000 rw-p 00000000 00:00 0 
Anonymous:            12 kB
7f58bf400000-7f58bf401000 r-xp 00000000 fe:00 7046129                    /usr/lib/other
Anonymous:             0 kB
7f58bf460000-7f58bf462000 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
";

    #[test]
    fn only_the_binarys_clean_read_only_mappings_are_trimmed() {
        assert_eq!(
            trimmable(SMAPS, "/usr/bin/exabgp-healthcheck"),
            vec![(0x7f58bf000000, 0x7f58bf0ff000), (0x7f58bf0ff000, 0x7f58bf349000)]
        );
    }

    #[test]
    fn a_mapping_without_its_anonymous_line_is_left_alone() {
        let cut = "7f58bf0ff000-7f58bf349000 r-xp 000ff000 fe:00 7046128  /usr/bin/x\nSize: 4 kB\n";
        assert!(trimmable(cut, "/usr/bin/x").is_empty());
    }

    #[test]
    fn a_deleted_binary_is_matched_by_the_same_name() {
        let text = "7f58bf0ff000-7f58bf349000 r-xp 000ff000 fe:00 7 /usr/bin/x (deleted)\nAnonymous: 0 kB\n";
        assert_eq!(trimmable(text, "/usr/bin/x (deleted)"), vec![(0x7f58bf0ff000, 0x7f58bf349000)]);
    }

    #[test]
    fn trimming_our_own_test_binary_leaves_it_running() {
        trim();
        // Code and read-only data come back from the page cache: this runs, and finds them.
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        assert!(!trimmable(&smaps, exe.to_str().unwrap()).is_empty(), "{smaps}");
    }
}
