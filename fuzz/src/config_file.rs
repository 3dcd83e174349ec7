//! The `--config` file parser on any text: it never panics; it either gives exactly one
//! argument per option line (not blank, not a comment), in order, each `--name` or
//! `--name=value` with the line it came from, and those arguments written back as a file
//! (`name = value`) parse to the same arguments; or an error on one line naming a line that
//! holds an option, every line before which parses.

use exabgp_healthcheck::cli::file::{self as config_file, Line};

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    let holds_option = |number: usize| {
        let line = lines[number - 1].trim();
        !line.is_empty() && !line.starts_with('#')
    };
    match config_file::parse(&text) {
        Ok(args) => {
            let numbers: Vec<usize> = args.iter().map(|line| line.number).collect();
            let expected: Vec<usize> = (1..=lines.len()).filter(|&n| holds_option(n)).collect();
            assert_eq!(numbers, expected, "one argument per option line");
            for line in &args {
                let name = line.arg.strip_prefix("--").expect("a long option");
                assert!(!name.is_empty() && !name.starts_with('-'), "{line:?}");
            }
            let written: String = args.iter().map(|line| written_back(line) + "\n").collect();
            let again = config_file::parse(&written).expect("the arguments written back parse");
            let same = |all: &[Line]| all.iter().map(|line| line.arg.clone()).collect::<Vec<_>>();
            assert_eq!(same(&again), same(&args), "round trip through {written:?}");
        }
        Err(err) => {
            assert!(err.line >= 1 && err.line <= lines.len(), "{err:?} in {} lines", lines.len());
            assert!(holds_option(err.line), "{err:?} names a blank or comment line");
            assert!(!err.message.is_empty() && !err.message.contains('\n'), "{err:?}");
            let before: String = lines[..err.line - 1].iter().map(|line| format!("{line}\n")).collect();
            assert!(config_file::parse(&before).is_ok(), "the lines before {err:?} parse");
        }
    }
}

/// An argument as a line of a configuration file.
fn written_back(line: &Line) -> String {
    let option = &line.arg[2..];
    match option.split_once('=') {
        Some((name, value)) => format!("{name} = {value}"),
        None => option.to_owned(),
    }
}
