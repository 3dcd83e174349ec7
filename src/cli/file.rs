//! The `--config` file format of the reference: each line that is not blank and does not start
//! with `#` is a long option without its dashes, alone (`debug`) or as `name = value` (split on
//! the first `=`, both sides trimmed). Pure: text in, command-line arguments out.

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

/// Turn the file's text into arguments, in file order.
pub fn parse(text: &str) -> Result<Vec<Line>, LineError> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
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
        out.push(Line { number, arg });
    }
    Ok(out)
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
}
