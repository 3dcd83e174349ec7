//! The usage error (exit status 2): what was refused as data (the flag, its value, why, and
//! the `--config` line it came from), worded only when shown, on one line. An I/O error in
//! words is [`crate::os_error`]'s.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

/// A refused command line or `--config` file. Shown as
/// `[FILE:LINE: ][--flag[ value]: ]why`, control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// The flag the error is about (`--ip`); `None` for clap's own errors and the file's
    /// grammar, whose `why` says it all.
    pub flag: Option<&'static str>,
    /// The refused value, as given.
    pub value: Option<Value>,
    /// Why it was refused.
    pub why: String,
    /// The `--config` line the refused value (or line) came from.
    pub origin: Option<Origin>,
}

/// A refused value and how it is shown after its flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// As given: `--ip 192.0.2.300`.
    Plain(String),
    /// Quoted, to show what is odd about it: `--label "has space"`.
    Quoted(String),
}

impl Value {
    /// The value as given, whatever its showing.
    pub fn text(&self) -> &str {
        match self {
            Value::Plain(text) | Value::Quoted(text) => text,
        }
    }
}

/// A line of a `--config` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl UsageError {
    /// An error that is only a message: clap's, or the file grammar's.
    pub fn message(why: impl Into<String>) -> UsageError {
        UsageError { flag: None, value: None, why: why.into(), origin: None }
    }

    /// About a flag as a whole, no one value: `--ip: ... addresses in all ...`.
    pub fn flag(flag: &'static str, why: impl Into<String>) -> UsageError {
        UsageError { flag: Some(flag), ..UsageError::message(why) }
    }

    /// A value refused, shown as given: `--ip 192.0.2.300: ...`.
    pub fn value(flag: &'static str, value: impl fmt::Display, why: impl Into<String>) -> UsageError {
        UsageError { value: Some(Value::Plain(value.to_string())), ..UsageError::flag(flag, why) }
    }

    /// A value refused, shown quoted (`{:?}`): `--label "has space": ...`.
    pub fn quoted(flag: &'static str, value: impl Into<String>, why: impl Into<String>) -> UsageError {
        UsageError { value: Some(Value::Quoted(value.into())), ..UsageError::flag(flag, why) }
    }

    /// The same error, blamed on a line of a `--config` file.
    pub fn at(self, origin: Origin) -> UsageError {
        UsageError { origin: Some(origin), ..self }
    }
}

impl fmt::Display for UsageError {
    /// One line whatever the user typed: control characters (a newline in `--ip`, in a file
    /// name) are shown escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = OneLine(f);
        if let Some(Origin { file, line }) = &self.origin {
            write!(out, "{}:{line}: ", file.display())?;
        }
        if let Some(flag) = self.flag {
            out.write_str(flag)?;
            match &self.value {
                Some(Value::Plain(text)) => write!(out, " {text}")?,
                Some(Value::Quoted(text)) => write!(out, " {text:?}")?,
                None => {}
            }
            out.write_str(": ")?;
        }
        out.write_str(&self.why)
    }
}

impl std::error::Error for UsageError {}

/// Writes through, escaping control characters but tab.
struct OneLine<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for OneLine<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            if c.is_control() && c != '\t' {
                write!(self.0, "{}", c.escape_default())?;
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin { file: PathBuf::from("/etc/hc.conf"), line: 3 }
    }

    #[test]
    fn each_shape_is_shown_as_before() {
        assert_eq!(UsageError::message("unexpected argument 'x' found").to_string(), "unexpected argument 'x' found");
        assert_eq!(UsageError::flag("--ip", "3 addresses in all").to_string(), "--ip: 3 addresses in all");
        assert_eq!(UsageError::value("--rise", 5, "too high").to_string(), "--rise 5: too high");
        assert_eq!(
            UsageError::quoted("--label", "has space", "a label is a non-empty word").to_string(),
            "--label \"has space\": a label is a non-empty word"
        );
        assert_eq!(
            UsageError::value("--ip", "192.0.2.300", "bad").at(origin()).to_string(),
            "/etc/hc.conf:3: --ip 192.0.2.300: bad"
        );
        assert_eq!(
            UsageError::message("'x' is not an option name").at(origin()).to_string(),
            "/etc/hc.conf:3: 'x' is not an option name"
        );
    }

    #[test]
    fn shown_on_one_line_whatever_the_input() {
        let e = UsageError::value("--ip", "192.0.2.1\nannounce", "bad\r").at(Origin { file: "a\nb".into(), line: 1 });
        assert_eq!(e.to_string(), "a\\nb:1: --ip 192.0.2.1\\nannounce: bad\\r");
        let e = UsageError::quoted("--community", "1\u{85}2\t3", "contains the control character '\\u{85}'");
        assert_eq!(e.to_string(), "--community \"1\\u{85}2\\t3\": contains the control character '\\u{85}'");
        assert_eq!(UsageError::message("a\tb").to_string(), "a\tb");
    }

    #[test]
    fn the_value_is_kept_as_given() {
        let e = UsageError::quoted("--name", "web\u{1}", "x");
        assert_eq!(e.value.as_ref().map(Value::text), Some("web\u{1}"));
        assert_eq!(e.flag, Some("--name"));
        assert_eq!(e.why, "x");
    }
}
