//! `--config`: the files read, each line checked alone (so that an error names its line), and
//! merged with the command line as the reference does for one file without sections; sections
//! and several files make services of their own ([`ServiceArgs`]), while the process-wide
//! options must agree over every file.

use super::{file, one_line, try_parse, Args, Origins, Parsed, ServiceArgs};
use crate::error::{Origin, UsageError};
use crate::os_error::{in_words, Words};
use crate::sys::{self, ReadRefused};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::PathBuf;

/// The options that hold for the whole process (by clap id), with their flags: refused inside
/// a section, and equal in every file that gives them.
const PROCESS_WIDE: [(&str, &str); 22] = [
    ("silent", "--silent"),
    ("log_format", "--log-format"),
    ("syslog_facility", "--syslog-facility"),
    ("no_syslog", "--no-syslog"),
    ("debug", "--debug"),
    ("no_ack", "--no-ack"),
    ("sudo", "--sudo"),
    ("pid", "--pid"),
    ("user", "--user"),
    ("group", "--group"),
    ("api_version", "--api-version"),
    ("dry_run", "--dry-run"),
    ("once", "--once"),
    ("config", "--config"),
    ("metrics_file", "--metrics-file"),
    ("metrics_listen", "--metrics-listen"),
    ("control_socket", "--control-socket"),
    ("watchdog", "--watchdog"),
    ("bfd", "--bfd"),
    ("bfd_local", "--bfd-local"),
    ("bfd_interval", "--bfd-interval"),
    ("bfd_multiplier", "--bfd-multiplier"),
];

/// A `--config` file, read and checked line by line.
struct ConfigFile {
    path: PathBuf,
    text: file::Sections,
    /// The last value each process-wide option got in the defaults, and its line.
    process: Vec<(&'static str, String, usize)>,
    /// The defaults' lines that give a process-wide option.
    process_lines: Vec<file::Line>,
}

/// The flags of `argv` (`--syslog-facility` spelled out) merged with the `--config` files that
/// `first`, its flags alone, names.
pub(super) fn merge(argv: &[OsString], first: &Args) -> Result<Parsed, UsageError> {
    let (paths, several) = config_paths(&first.config)?;
    // Every file read before any is checked.
    let mut texts = Vec::new();
    for (path, dir) in paths {
        match sys::read_regular_file(&path, sys::CONFIG_LIMIT) {
            Ok(text) => texts.push((path, text)),
            Err(refused) => {
                let reason = refusal(&path, dir.is_some(), refused);
                let given = dir.unwrap_or(&path);
                return Err(UsageError::value("--config", given.display(), reason));
            }
        }
    }
    // One command for every line and section: building it is most of the time each takes.
    let mut command = Args::command();
    let mut files = Vec::new();
    for (path, text) in texts {
        files.push(check_file(path, &text, &mut command)?);
    }
    let program = argv.first().cloned().unwrap_or_else(|| "exabgp-healthcheck".into());
    let with = |lines: &[&[file::Line]]| {
        let mut merged = vec![program.clone()];
        merged.extend(lines.iter().flat_map(|lines| lines.iter()).map(|line| OsString::from(&line.arg)));
        merged.extend(argv.iter().skip(1).cloned());
        merged
    };
    if !several && files[0].text.sections.is_empty() {
        // One file without sections: the reference's merge, one service.
        let ConfigFile { path, text, .. } = files.remove(0);
        return match try_parse(&with(&[&text.defaults])) {
            Ok(mut args) => {
                args.origins = Some(Origins { sources: vec![(path, text.defaults)] });
                Ok(Parsed::Run(Box::new(args)))
            }
            Err(done) => done,
        };
    }
    agree(&files)?;
    unique_names(&files)?;
    // The process: every file's process-wide lines, then the command line.
    let process_lines: Vec<&[file::Line]> = files.iter().map(|f| f.process_lines.as_slice()).collect();
    let mut top = match try_parse(&with(&process_lines)) {
        Ok(args) => args,
        Err(done) => return done,
    };
    top.origins = Some(Origins { sources: files.iter().map(|f| (f.path.clone(), f.process_lines.clone())).collect() });
    for f in &files {
        let mut base = match try_parse(&with(&[&f.text.defaults])) {
            Ok(args) => args,
            Err(done) => return done,
        };
        let defaults = (f.path.clone(), f.text.defaults.clone());
        if f.text.sections.is_empty() {
            base.origins = Some(Origins { sources: vec![defaults] });
            base.name.get_or_insert_with(|| stem(&f.path).unwrap_or_default());
            top.services.push(ServiceArgs { section: stem(&f.path).unwrap_or_default(), args: base });
            continue;
        }
        for section in &f.text.sections {
            let mut args = base.clone();
            let at = Origin { file: f.path.clone(), line: section.number };
            let lines = std::iter::once(program.clone()).chain(section.lines.iter().map(|l| OsString::from(&l.arg)));
            let mut given = command.try_get_matches_from_mut(lines).map_err(|err| section_error(&err, &at))?;
            // Only what the section gives replaces: a list as a whole, a flag's value.
            let ids: Vec<String> = given.ids().map(|id| id.as_str().to_owned()).collect();
            for id in ids {
                if given.value_source(&id) != Some(clap::parser::ValueSource::CommandLine) {
                    let _ = given.try_clear_id(&id);
                }
            }
            args.update_from_arg_matches_mut(&mut given).map_err(|err| section_error(&err, &at))?;
            args.name.get_or_insert_with(|| section.name.clone());
            args.origins = Some(Origins { sources: vec![(f.path.clone(), section.lines.clone()), defaults.clone()] });
            top.services.push(ServiceArgs { section: section.name.clone(), args });
        }
    }
    Ok(Parsed::Run(Box::new(top)))
}

/// Why a `--config` file was not read: `failed to read: why` for a failure, the refusal
/// alone otherwise; the file named first when it is one of a `--config` directory's.
fn refusal(path: &std::path::Path, in_dir: bool, refused: ReadRefused) -> String {
    let failed = matches!(refused, ReadRefused::Io(_));
    let why = match refused {
        ReadRefused::Io(err) => in_words(&err, Words::System),
        ReadRefused::NotRegular(kind) => format!("not a regular file ({kind})"),
        ReadRefused::TooLarge => format!("larger than {} MiB", sys::CONFIG_LIMIT >> 20),
    };
    match (in_dir, failed) {
        (false, true) => format!("failed to read: {why}"),
        (true, true) => format!("failed to read {}: {why}", path.display()),
        (false, false) => why,
        (true, false) => format!("{}: {why}", path.display()),
    }
}

/// A file to read, and the `--config` directory it is in, if any.
type InDir<'a> = (PathBuf, Option<&'a PathBuf>);

/// The files `--config` names: each file as given, each directory's `*.conf` files in name
/// order (with their directory); and whether that is more than one file or a directory (then a
/// file without sections is a service named after it).
fn config_paths(given: &[PathBuf]) -> Result<(Vec<InDir<'_>>, bool), UsageError> {
    let mut out = Vec::new();
    let mut several = given.len() > 1;
    for path in given {
        if !std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            out.push((path.clone(), None));
            continue;
        }
        several = true;
        let failed = |err: std::io::Error| {
            UsageError::value("--config", path.display(), format!("failed to read: {}", in_words(&err, Words::System)))
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(path).map_err(failed)? {
            let entry = entry.map_err(failed)?;
            let file = entry.path();
            // A subdirectory (or a dangling link) is passed over; anything else is read, and
            // what is not a regular file refused then.
            if file.extension().is_some_and(|ext| ext == "conf") && std::fs::metadata(&file).is_ok_and(|m| !m.is_dir())
            {
                found.push(file);
            }
        }
        if found.is_empty() {
            return Err(UsageError::value("--config", path.display(), "the directory holds no *.conf file"));
        }
        found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        out.extend(found.into_iter().map(|file| (file, Some(path))));
    }
    Ok((out, several))
}

/// Cut a `--config` file into sections and check each of its lines alone, so that an error
/// names its line.
fn check_file(path: PathBuf, text: &str, command: &mut clap::Command) -> Result<ConfigFile, UsageError> {
    let at = |line: usize| Origin { file: path.clone(), line };
    let text = file::sections(text).map_err(|err| UsageError::message(err.message).at(at(err.line)))?;
    let mut process = Vec::new();
    let mut process_lines = Vec::new();
    for line in &text.defaults {
        if let Some((flag, value)) = check_line(line, None, command).map_err(|err| err.at(at(line.number)))? {
            process.retain(|(other, _, _)| *other != flag);
            process.push((flag, value, line.number));
            process_lines.push(line.clone());
        }
    }
    for section in &text.sections {
        for line in &section.lines {
            check_line(line, Some(&section.name), command).map_err(|err| err.at(at(line.number)))?;
        }
    }
    Ok(ConfigFile { path, text, process, process_lines })
}

/// One line of a file alone: refused, or the process-wide option it gives (its flag and value).
/// `section`: the line is in that section, where process-wide options are refused.
fn check_line(
    line: &file::Line,
    section: Option<&str>,
    command: &mut clap::Command,
) -> Result<Option<(&'static str, String)>, UsageError> {
    use clap::error::ErrorKind;
    let single = [OsString::from("exabgp-healthcheck"), OsString::from(&line.arg)];
    let matches = match command.try_get_matches_from_mut(single) {
        Ok(matches) => matches,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            // The reference would print the help (or version) to ExaBGP and exit 0.
            let word = if err.kind() == ErrorKind::DisplayHelp { "help" } else { "version" };
            return Err(UsageError::message(format!(
                "'{word}' cannot be used inside a configuration file (give --{word} on the command line)"
            )));
        }
        Err(err) => return Err(UsageError::message(one_line(&err))),
    };
    let given = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if given("config") {
        return Err(UsageError::message("'config' cannot be used inside a configuration file"));
    }
    let Some(&(id, flag)) = PROCESS_WIDE.iter().find(|(id, _)| given(id)) else { return Ok(None) };
    if let Some(name) = section {
        return Err(UsageError::message(format!(
            "'{}' is process-wide: it cannot be used inside section [{name}] (give it before the first \
             section or on the command line)",
            &flag[2..]
        )));
    }
    let value = matches.get_raw(id).into_iter().flatten().map(|v| v.to_string_lossy()).collect::<Vec<_>>().join(" ");
    Ok(Some((flag, value)))
}

/// Two files giving one process-wide option different values: refused, naming both lines.
fn agree(files: &[ConfigFile]) -> Result<(), UsageError> {
    for (index, later) in files.iter().enumerate() {
        for (flag, value, line) in &later.process {
            for earlier in &files[..index] {
                let Some((_, other, other_line)) = earlier.process.iter().find(|(f, _, _)| f == flag) else { continue };
                if other != value {
                    return Err(UsageError::value(
                        flag,
                        value,
                        format!(
                            "{}:{other_line} gives it {other}; a process-wide option takes one value in all files",
                            earlier.path.display()
                        ),
                    )
                    .at(Origin { file: later.path.clone(), line: *line }));
                }
            }
        }
    }
    Ok(())
}

/// Every section name, and every file without sections' stem, once over all files.
fn unique_names(files: &[ConfigFile]) -> Result<(), UsageError> {
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for f in files {
        if f.text.sections.is_empty() {
            let Some(name) = stem(&f.path).filter(|name| file::valid_name(name)) else {
                let shown = f.path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                return Err(UsageError::value(
                    "--config",
                    f.path.display(),
                    format!(
                        "a file without sections is a service named after the file, and {shown:?} is not a \
                         service name ({})",
                        file::NAME_RULE
                    ),
                ));
            };
            if let Some(first) = seen.get(&name) {
                return Err(UsageError::value(
                    "--config",
                    f.path.display(),
                    format!("service [{name}] (named after the file) is already defined at {first}"),
                ));
            }
            seen.insert(name, f.path.display().to_string());
            continue;
        }
        for section in &f.text.sections {
            let here = Origin { file: f.path.clone(), line: section.number };
            if let Some(first) = seen.get(&section.name) {
                return Err(UsageError::message(format!(
                    "section [{}] is already defined at {first}; a service name is unique over all files",
                    section.name
                ))
                .at(here));
            }
            seen.insert(section.name.clone(), format!("{}:{}", f.path.display(), section.number));
        }
    }
    Ok(())
}

/// The file's name without its extension, when it is text.
fn stem(path: &std::path::Path) -> Option<String> {
    path.file_stem()?.to_str().map(str::to_owned)
}

/// An error of a section's lines together (each was fine alone), blamed on its header.
fn section_error(err: &clap::Error, at: &Origin) -> UsageError {
    UsageError::message(one_line(err)).at(at.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse;
    use crate::cli::testing::error;
    use crate::scratch::Scratch;

    fn with_file(text: &str, extra: &[&str]) -> Result<Parsed, String> {
        let dir = Scratch::new("ehc-cli");
        let path = dir.join(format!("{:x}.conf", text.bytes().map(u64::from).sum::<u64>()));
        std::fs::write(&path, text).unwrap();
        let mut argv = vec!["exabgp-healthcheck".to_owned(), "--config".to_owned(), path.display().to_string()];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let result = parse(argv);
        result.map_err(|e| e.to_string().replace(&path.display().to_string(), "FILE"))
    }

    #[test]
    fn config_file_comes_first_and_the_command_line_wins() {
        let text = "# web\n\ndebug\nname = web\ninterval = 10\nip = 192.0.2.1\ncommand = test -f /a=b\n";
        let Ok(Parsed::Run(a)) = with_file(text, &["--interval", "2", "--ip", "192.0.2.2"]) else { panic!() };
        assert!(a.debug);
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!(a.interval, "2");
        assert_eq!(a.ips, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(a.command.as_deref(), Some("test -f /a=b"));
    }

    #[test]
    fn config_file_errors_name_the_file_and_line() {
        let err = |text: &str| with_file(text, &[]).unwrap_err();
        let e = err("debug\nbogus = 1\n");
        assert!(e.starts_with("FILE:2: ") && e.contains("--bogus"), "{e}");
        let e = err("name = a\nrise = high\n");
        assert!(e.starts_with("FILE:2: ") && e.contains("--rise"), "{e}");
        let e = err("\n\nip\n");
        assert!(e.starts_with("FILE:3: ") && e.contains("--ip"), "{e}");
        let e = err("debug = yes\n");
        assert!(e.starts_with("FILE:1: ") && e.contains("--debug"), "{e}");
        let e = err("name = a\nhelp\n");
        assert_eq!(e, "FILE:2: 'help' cannot be used inside a configuration file (give --help on the command line)");
        let e = err("vers\n");
        assert!(e.starts_with("FILE:1: 'version' cannot be used inside"), "{e}");
        let e = err("config = /etc/other\n");
        assert!(e.starts_with("FILE:1: ") && e.contains("config"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn unreadable_config_file_is_a_usage_error() {
        let e = error(&["--config", "/nonexistent/healthcheck.conf"]);
        assert_eq!(e, "--config /nonexistent/healthcheck.conf: failed to read: no such file or directory");
    }

    #[test]
    fn a_file_error_carries_its_line_as_data() {
        let dir = Scratch::new("ehc-cli-origin");
        let path = dir.join("bad.conf");
        for (text, line, why) in [
            ("debug\n= 3\n", 2, "'= 3' has no option name before '='"),
            ("debug\nname = a\nconfig = x\n", 3, "'config' cannot be used inside a configuration file"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]).unwrap_err();
            assert_eq!(err, UsageError::message(why).at(Origin { file: path.clone(), line }), "{text:?}");
        }
        let err = error(&["--rise", "x"]);
        assert!(err.starts_with("invalid value 'x' for '--rise <N>'"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = parse(["exabgp-healthcheck", "--config", path.to_str().unwrap()]).unwrap_err();
        assert_eq!((err.flag, err.origin), (Some("--config"), None));
    }

    #[test]
    fn one_file_without_sections_is_one_service_and_sections_are_services_of_their_own() {
        let Ok(Parsed::Run(a)) = with_file("rise = 2\nip = 192.0.2.1\n", &["--fall", "4"]) else { panic!() };
        assert!(a.services.is_empty());
        assert_eq!((a.rise, a.fall, a.ips.as_slice()), (2, 4, &["192.0.2.1".to_owned()][..]));
        let text = "no-ack\nrise = 2\n[web]\ndebounce\nip = 192.0.2.1\n[dns]\nrise = 7\n";
        let Ok(Parsed::Run(a)) = with_file(text, &["--fall", "4", "--ip", "192.0.2.9"]) else { panic!() };
        // The top flags: the process-wide lines and the command line.
        assert!(a.no_ack);
        assert_eq!((a.rise, a.fall, a.ips.as_slice()), (3, 4, &["192.0.2.9".to_owned()][..]));
        let names: Vec<&str> = a.services.iter().map(|s| s.section.as_str()).collect();
        assert_eq!(names, ["web", "dns"]);
        let (web, dns) = (&a.services[0].args, &a.services[1].args);
        assert!(web.debounce && !dns.debounce);
        assert_eq!((web.rise, web.fall, web.ips.as_slice()), (2, 4, &["192.0.2.1".to_owned()][..]));
        assert_eq!((dns.rise, dns.fall, dns.ips.as_slice()), (7, 4, &["192.0.2.9".to_owned()][..]));
        assert_eq!((web.name.as_deref(), dns.name.as_deref()), (Some("web"), Some("dns")));
        assert!(web.services.is_empty());
    }
}
