//! Whether a shell command line is one simple command that needs no shell: words only, the
//! first naming a program found on `PATH`. Such a command is run directly (`curl -sf URL`
//! without a `/bin/sh` that forks it and waits), which saves a process and 1 to 3 ms a check;
//! anything else, and anything this module is not sure of, goes through `/bin/sh -c` as the
//! reference runs it. The words are pure ([`words`]); the lookup reads the file system as the
//! shell's does ([`find`]).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The shell's reserved words: not a program's name.
const KEYWORDS: [&str; 16] = [
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "in", "function",
    "select", "time",
];

/// The builtins of dash and bash (and POSIX's special builtins): the shell runs them itself,
/// with its own exit statuses (`exit 3`, `true`, `test -f FILE`), never a program of that name.
const BUILTINS: [&str; 50] = [
    ":", ".", "[", "alias", "bg", "break", "builtin", "cd", "command", "continue", "declare", "echo", "eval", "exec",
    "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "jobs", "kill", "let", "local", "logout",
    "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "suspend", "test", "times", "trap",
    "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait", "shopt", "enable", "mapfile",
];

/// The words of `command` when it is one simple command of plain words: letters, digits and
/// `-_./,:+@%=^`, separated by spaces or tabs; no quotes, variables, globs, redirections,
/// pipes, `;`, `&`, comments, tildes, braces or newlines; the first word no assignment
/// (`NAME=value`), reserved word or builtin. `None`: the shell has to read it.
pub fn words(command: &str) -> Option<Vec<&str>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./,:+@%=^".contains(c);
    if !command.chars().all(|c| plain(c) || c == ' ' || c == '\t') {
        return None;
    }
    let words: Vec<&str> = command.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let first = *words.first()?;
    if first.contains('=') || KEYWORDS.contains(&first) || BUILTINS.contains(&first) {
        return None;
    }
    Some(words)
}

/// The program `name` names, as the shell finds it: a name with a slash as it is, else the
/// first executable file of that name in a directory of `path` (the `PATH` value; an empty
/// entry is the current directory). `None`: not found or not executable; the shell then says
/// so in its words, with its exit status (127, 126).
pub fn find(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    if name.contains('/') {
        return executable(Path::new(name)).then(|| PathBuf::from(name));
    }
    let path = path?;
    path.as_bytes().split(|b| *b == b':').find_map(|dir| {
        let dir = if dir.is_empty() { Path::new(".") } else { Path::new(OsStr::from_bytes(dir)) };
        let candidate = dir.join(name);
        executable(&candidate).then_some(candidate)
    })
}

/// A regular file we may execute.
fn executable(path: &Path) -> bool {
    use nix::unistd::{access, AccessFlags};
    path.metadata().is_ok_and(|m| m.is_file()) && access(path, AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_a_simple_command() {
        assert_eq!(
            words("curl -sf --max-time 2 http://127.0.0.1:8080/health"),
            Some(vec!["curl", "-sf", "--max-time", "2", "http://127.0.0.1:8080/health"])
        );
        assert_eq!(
            words("  /usr/lib/nagios/plugins/check_http\t-H 127.0.0.1 -w 1,2 "),
            Some(vec!["/usr/lib/nagios/plugins/check_http", "-H", "127.0.0.1", "-w", "1,2"])
        );
        assert_eq!(words("pg_isready --host=/run/postgresql"), Some(vec!["pg_isready", "--host=/run/postgresql"]));
        assert_eq!(words("sleep 0.5"), Some(vec!["sleep", "0.5"]));
    }

    #[test]
    fn anything_the_shell_would_read_differently_goes_to_the_shell() {
        for command in [
            "",
            "   ",
            "curl -sf 'http://127.0.0.1/'",
            "curl -sf \"http://127.0.0.1/\"",
            "curl $URL",
            "curl `cat url`",
            "echo $(date)",
            "ls *.conf",
            "ls file?",
            "ls [ab]",
            "ls {a,b}",
            "cat < file",
            "echo x > file",
            "a | b",
            "a; b",
            "a && b",
            "a &",
            "a\nb",
            "a # comment",
            "cd ~",
            "! false",
            "a\\ b",
            "(subshell)",
            "URL=x curl",
            "exit 3",
            "true",
            "false",
            ": nothing",
            "test -f /etc/passwd",
            "[ -f /etc/passwd ]",
            "echo hello",
            "cd /tmp",
            "exec curl http://127.0.0.1/",
            "kill 1",
            "if",
            "time curl http://127.0.0.1/",
            "printf x",
            "curl http://127.0.0.1/é",
        ] {
            assert_eq!(words(command), None, "{command:?}");
        }
    }

    #[test]
    fn programs_are_found_on_the_path_as_the_shell_finds_them() {
        let path = Some(OsStr::new("/nonexistent:/usr/bin:/bin"));
        assert_eq!(
            find("sh", path),
            Some(PathBuf::from("/usr/bin/sh")).filter(|p| p.exists()).or(Some("/bin/sh".into()))
        );
        assert_eq!(find("no-such-program-here", path), None);
        assert_eq!(find("/bin/sh", None), Some(PathBuf::from("/bin/sh")));
        // Not executable, or not a file: the shell's 126 and 127 are its own to give.
        assert_eq!(find("/etc/passwd", path), None);
        assert_eq!(find("/etc", path), None);
        assert_eq!(find("sh", None), None, "no PATH: the shell knows its default");
    }
}
