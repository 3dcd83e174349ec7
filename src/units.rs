//! Units of time as flags take them and logs show them: [`duration`] parses a flag's value
//! (plain seconds as the reference takes them, or with units), [`millis`] is a duration as a
//! log field.

use crate::error::UsageError;
use std::time::Duration;

/// A duration: plain seconds as the reference takes them (`5`, `0.5`), or with units
/// (`500ms`, `2s`, `1m`).
pub fn duration(flag: &'static str, text: &str) -> Result<Duration, UsageError> {
    let bad = |why: &str| UsageError::value(flag, text, why);
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(bad("must be a non-negative number of seconds"));
        }
        return Duration::try_from_secs_f64(seconds).map_err(|_| bad("too long"));
    }
    humantime::parse_duration(trimmed).map_err(|_| bad("not a duration (seconds like 5 or 0.5, or 500ms, 2s, 1m)"))
}

/// `duration` in whole milliseconds, for log fields.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Value;

    #[test]
    fn durations_in_seconds_or_with_units() {
        for (text, ms) in [("5", 5000), ("0.5", 500), ("500ms", 500), ("2s", 2000), ("1m", 60_000), ("0", 0)] {
            assert_eq!(duration("--interval", text).unwrap(), Duration::from_millis(ms), "{text}");
        }
        for bad in ["-1", "abc", "nan", "inf", "5 parsecs", ""] {
            let e = duration("--interval", bad).unwrap_err().to_string();
            assert!(e.starts_with("--interval "), "{e}");
        }
        assert_eq!(duration("--timeout", " 2 ").unwrap(), Duration::from_secs(2));
        let e = duration("--timeout", "1e400").unwrap_err();
        assert_eq!((e.flag, e.value), (Some("--timeout"), Some(Value::Plain("1e400".to_owned()))));
    }

    #[test]
    fn millis_are_whole_and_saturate() {
        assert_eq!(millis(Duration::from_micros(1999)), 1);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
