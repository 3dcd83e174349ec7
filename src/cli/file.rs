//! The `--config` file format of the reference: each line that is not blank and does not start
//! with `#` is a long option without its dashes, alone (`debug`) or as `name = value` (split on
//! the first `=`, both sides trimmed). Ours adds `[NAME]` lines, each starting a service
//! section ([`sections`]). Pure: text in, command-line arguments out.

/// One option from the file, as a single command-line argument (`--name=value` or `--debug`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number, for error messages.
    pub number: usize,
    pub arg: String,
}

/// A line that cannot be an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// A file cut at its `[NAME]` lines: the lines before the first one (the file's defaults), then
/// each section's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sections {
    pub defaults: Vec<Line>,
    pub sections: Vec<Section>,
}

/// The lines of one `[NAME]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// The line of `[NAME]`.
    pub number: usize,
    pub lines: Vec<Line>,
}

/// The longest section (service) name.
pub const MAX_NAME: usize = 64;

/// What a section (service) name is made of, for messages.
pub const NAME_RULE: &str = "1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'";

/// Whether `name` may name a section: 1 to [`MAX_NAME`] of `A-Za-z0-9._-`.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Turn the file's text into arguments, in file order. A `[NAME]` line is not a section here
/// (see [`sections`]): this is the reference's grammar alone.
pub fn parse(text: &str) -> Result<Vec<Line>, LineError> {
    let mut out = Vec::new();
    for (number, line) in meaningful(text) {
        out.push(option(number, line)?);
    }
    Ok(out)
}

/// The file's defaults and its `[NAME]` sections. A file without a `[` line is all defaults,
/// exactly as [`parse`] reads it.
pub fn sections(text: &str) -> Result<Sections, LineError> {
    let mut out = Sections { defaults: Vec::new(), sections: Vec::new() };
    for (number, line) in meaningful(text) {
        if line.starts_with('[') {
            let name = header(number, line)?;
            out.sections.push(Section { name: name.to_owned(), number, lines: Vec::new() });
            continue;
        }
        let arg = option(number, line)?;
        match out.sections.last_mut() {
            Some(section) => section.lines.push(arg),
            None => out.defaults.push(arg),
        }
    }
    Ok(out)
}

/// The lines that are neither blank nor comments, trimmed, with their 1-based numbers.
fn meaningful(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, raw)| (index + 1, raw.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// The name of a `[NAME]` line.
fn header(number: usize, line: &str) -> Result<&str, LineError> {
    let fail = |message: String| Err(LineError { line: number, message });
    let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) else {
        return fail(format!("'{line}' is not a section header (expected '[NAME]')"));
    };
    if !valid_name(name) {
        return fail(format!("'{line}': a section name is {NAME_RULE}"));
    }
    Ok(name)
}

/// One option line as an argument.
fn option(number: usize, line: &str) -> Result<Line, LineError> {
    let (name, value) = match line.split_once('=') {
        Some((name, value)) => (name.trim(), Some(value.trim())),
        None => (line, None),
    };
    let fail = |message: String| Err(LineError { line: number, message });
    if name.is_empty() {
        return fail(format!("'{line}' has no option name before '='"));
    }
    if name.starts_with('-') {
        return fail(format!("option names are written without dashes: '{}'", name.trim_start_matches('-')));
    }
    if name.contains(char::is_whitespace) {
        return fail(format!("'{name}' is not an option name (expected 'name' or 'name = value')"));
    }
    let arg = match value {
        Some(value) => format!("--{name}={value}"),
        None => format!("--{name}"),
    };
    Ok(Line { number, arg })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<(usize, String)> {
        parse(text).unwrap().into_iter().map(|l| (l.number, l.arg)).collect()
    }

    #[test]
    fn the_references_example() {
        let text = "debug\nname = haproxy\ninterval = 10\nfast-interval = 1\n\
                    command = curl -sf http://127.0.0.1/healthcheck\n";
        assert_eq!(
            args(text),
            [
                (1, "--debug".to_owned()),
                (2, "--name=haproxy".to_owned()),
                (3, "--interval=10".to_owned()),
                (4, "--fast-interval=1".to_owned()),
                (5, "--command=curl -sf http://127.0.0.1/healthcheck".to_owned()),
            ]
        );
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let text = "# comment\n   \n\t# indented comment\n  rise=2  \r\nip = 192.0.2.1\n";
        assert_eq!(args(text), [(4, "--rise=2".to_owned()), (5, "--ip=192.0.2.1".to_owned())]);
    }

    #[test]
    fn splits_on_the_first_equals_only_and_keeps_empty_values() {
        assert_eq!(args("command = test \"$A\" = b"), [(1, "--command=test \"$A\" = b".to_owned())]);
        assert_eq!(args("name ="), [(1, "--name=".to_owned())]);
    }

    #[test]
    fn arguments_written_back_as_a_file_parse_to_the_same_arguments() {
        let texts = [
            "debug\nname = haproxy\ninterval=10\n",
            "  command =  curl -sf http://127.0.0.1/ = ok  \r\n# c\n\nip = 192.0.2.1\n",
            "name =\nlabel = a#b\ncommunity = 65000:1 65000:2\tx\n",
        ];
        for text in texts {
            let first = parse(text).unwrap();
            let written: String = first
                .iter()
                .map(|line| match line.arg[2..].split_once('=') {
                    Some((name, value)) => format!("{name} = {value}\n"),
                    None => format!("{}\n", &line.arg[2..]),
                })
                .collect();
            let again: Vec<String> = parse(&written).unwrap().into_iter().map(|l| l.arg).collect();
            let first: Vec<String> = first.into_iter().map(|l| l.arg).collect();
            assert_eq!(again, first, "{text:?} written back as {written:?}");
        }
    }

    #[test]
    fn broken_lines_name_their_line() {
        for (text, line, words) in [
            ("debug\n= 3\n", 2, "no option name"),
            ("--debug\n", 1, "without dashes"),
            ("\nfast interval = 1\n", 2, "not an option name"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(err.message.contains(words), "{text:?}: {}", err.message);
        }
    }

    type Numbered = Vec<(usize, String)>;

    fn cut(text: &str) -> (Numbered, Vec<(String, usize, Numbered)>) {
        let all = sections(text).unwrap();
        let lines = |lines: Vec<Line>| lines.into_iter().map(|l| (l.number, l.arg)).collect::<Vec<_>>();
        let sections = all.sections.into_iter().map(|s| (s.name, s.number, lines(s.lines))).collect();
        (lines(all.defaults), sections)
    }

    #[test]
    fn sections_cut_the_file_after_its_defaults() {
        let text = "# all\nno-syslog\ninterval = 2\n\n[web]\nip = 192.0.2.1\n[dns.v2_x-1]\n# none\n[empty]\n";
        let (defaults, sections) = cut(text);
        assert_eq!(defaults, [(2, "--no-syslog".to_owned()), (3, "--interval=2".to_owned())]);
        assert_eq!(
            sections,
            [
                ("web".to_owned(), 5, vec![(6, "--ip=192.0.2.1".to_owned())]),
                ("dns.v2_x-1".to_owned(), 7, vec![]),
                ("empty".to_owned(), 9, vec![]),
            ]
        );
        // Indented, or with a comment line between: still a header.
        let (_, sections) = cut("  [a]  \n\trise = 2\n");
        assert_eq!(sections, [("a".to_owned(), 1, vec![(2, "--rise=2".to_owned())])]);
    }

    #[test]
    fn a_file_without_sections_is_all_defaults_as_parse_reads_it() {
        let texts =
            ["debug\nname = haproxy\ninterval=10\n", "# c\n\nip = 192.0.2.1\ncommand = a [b] = c\n", "", "# only\n"];
        for text in texts {
            assert_eq!(
                sections(text).unwrap(),
                Sections { defaults: parse(text).unwrap(), sections: vec![] },
                "{text:?}"
            );
        }
    }

    #[test]
    fn section_names() {
        let long = "a".repeat(MAX_NAME);
        for good in ["a", "web", "A-z_0.9", "-", "..", long.as_str()] {
            assert!(valid_name(good), "{good:?}");
            assert_eq!(cut(&format!("[{good}]\n")).1[0].0, good);
        }
        let too_long = "a".repeat(MAX_NAME + 1);
        for bad in ["", "a b", "a/b", "é", "a]b", "[a", too_long.as_str(), "a\u{1}"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for (text, line, words) in [
            ("debug\n[]\n", 2, "'[]': a section name is 1 to 64"),
            ("[a b]\n", 1, "'[a b]': a section name is"),
            ("[ web ]\n", 1, "'[ web ]': a section name is"),
            (&format!("[{too_long}]\n"), 1, "a section name is"),
            ("[web\n", 1, "'[web' is not a section header (expected '[NAME]')"),
            ("[web] # x\n", 1, "'[web] # x' is not a section header"),
            ("[a]\n[b]]\n", 2, "'[b]]': a section name is"),
            ("[web]\n= 3\n", 2, "no option name"),
        ] {
            let err = sections(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(err.message.contains(words), "{text:?}: {}", err.message);
        }
    }
}
