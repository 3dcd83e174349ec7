//! What ExaBGP writes on our stdin, parsed: acknowledgements (`done`, `error`), its shutdown
//! notice, and everything else (neighbor events, blank lines), in the text and JSON encoders.
//! Pure: one line in, one [`Reply`] out.

use serde::Deserialize;

/// One line from ExaBGP, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The command was accepted (`done`).
    Done,
    /// The command was refused (`error`), with ExaBGP's message when the JSON encoder gave one.
    Error(Option<String>),
    /// ExaBGP is stopping (`shutdown <pid> <ppid>`, or the JSON `shutdown` notification/answer).
    Shutdown,
    /// Anything else: neighbor state changes, blank lines, unknown JSON. Logged at debug.
    Other,
}

#[derive(Deserialize)]
struct JsonLine {
    answer: Option<String>,
    message: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    notification: Option<serde_json::Value>,
}

/// Classify one line (without its newline).
pub fn parse(line: &str) -> Reply {
    let line = line.trim();
    if line.starts_with('{') {
        return parse_json(line);
    }
    let mut words = line.split_ascii_whitespace();
    match (words.next(), words.next()) {
        (Some("done"), None) => Reply::Done,
        (Some("error"), None) => Reply::Error(None),
        (Some("shutdown"), _) => Reply::Shutdown,
        _ => Reply::Other,
    }
}

fn parse_json(line: &str) -> Reply {
    let Ok(json) = serde_json::from_str::<JsonLine>(line) else {
        return Reply::Other;
    };
    let message = || match &json.message {
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    match json.answer.as_deref() {
        Some("done") => return Reply::Done,
        Some("error") => return Reply::Error(message()),
        Some("shutdown") => return Reply::Shutdown,
        _ => {}
    }
    let shutdown_notice = json.kind.as_deref() == Some("notification")
        && json.notification.as_ref().and_then(|n| n.as_str()) == Some("shutdown");
    if shutdown_notice {
        Reply::Shutdown
    } else {
        Reply::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_encoder() {
        assert_eq!(parse("done"), Reply::Done);
        assert_eq!(parse("done\r"), Reply::Done);
        assert_eq!(parse("error"), Reply::Error(None));
        assert_eq!(parse("shutdown 1234 1"), Reply::Shutdown);
        assert_eq!(parse("shutdown"), Reply::Shutdown);
        assert_eq!(parse(""), Reply::Other);
        assert_eq!(parse("neighbor 192.0.2.1 up"), Reply::Other);
        assert_eq!(parse("done and dusted"), Reply::Other);
        assert_eq!(parse("DONE"), Reply::Other);
    }

    #[test]
    fn json_encoder_of_exabgp_5() {
        assert_eq!(parse(r#"{ "answer": "done", "message": "command completed" }"#), Reply::Done);
        assert_eq!(
            parse(r#"{ "answer": "error", "message": "this command does not support json output" }"#),
            Reply::Error(Some("this command does not support json output".into()))
        );
        assert_eq!(parse(r#"{ "answer": "shutdown", "message": "exbgp exited" }"#), Reply::Shutdown);
        let notice = r#"{ "exabgp": "5.0.0", "time": 1.0, "host" : "lb1", "pid" : 42, "ppid" : 1,
            "counter": 3, "type": "notification", "notification": "shutdown" }"#;
        assert_eq!(parse(&notice.replace('\n', " ")), Reply::Shutdown);
    }

    #[test]
    fn other_json_and_broken_json_are_ignored() {
        let state = r#"{ "exabgp": "5.0.0", "type": "state", "neighbor": { "state": "up" } }"#;
        assert_eq!(parse(state), Reply::Other);
        assert_eq!(parse(r#"{ "type": "notification", "notification": "other" }"#), Reply::Other);
        assert_eq!(parse("{ not json"), Reply::Other);
        assert_eq!(parse(r#"{"answer": 3}"#), Reply::Other);
        assert_eq!(parse("[1,2]"), Reply::Other);
    }
}
