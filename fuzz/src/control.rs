//! The control socket's protocol (`control::protocol`) on any bytes, both ways. As a request
//! from whoever can connect to `--control-socket` (up to its first newline, as the plugin reads
//! it): it never panics; an accepted request written back as a line (`Request::to_line`) parses
//! to the same request; a refusal is a `usage` answer whose error is one non-empty line, and
//! the answer's line parses back to it. As an answer read by `ctl` (any text): it never panics;
//! an accepted answer's `ctl status` table has one line per route (at least one per service)
//! and a header, and the answer written back parses to the same answer but for its floats.

use exabgp_healthcheck::control::protocol::{table, Answer, Kind, Request, MAX_REQUEST};

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    request(data);
    answer(&String::from_utf8_lossy(data));
}

fn request(data: &[u8]) {
    // The plugin reads up to the first newline, at most MAX_REQUEST bytes.
    let line = match data.iter().position(|&b| b == b'\n') {
        Some(end) => &data[..=end],
        None => data,
    };
    if line.len() > MAX_REQUEST {
        return;
    }
    match Request::parse(line) {
        Ok(request) => {
            let written = request.to_line();
            assert!(written.ends_with('\n') && written.matches('\n').count() == 1, "{written:?}");
            assert_eq!(Request::parse(written.as_bytes()), Ok(request), "{written:?}");
        }
        Err(refused) => {
            assert_eq!((refused.ok, refused.kind), (false, Some(Kind::Usage)), "{refused:?}");
            assert!(refused.cmd.is_none() && refused.services.is_empty(), "{refused:?}");
            let why = refused.error.as_deref().unwrap_or_default();
            assert!(!why.is_empty() && !why.contains('\n'), "{why:?}");
            let written = refused.to_line();
            assert!(written.ends_with('\n') && written.matches('\n').count() == 1, "{written:?}");
            assert_eq!(Answer::parse(&written), Ok(refused), "{written:?}");
        }
    }
}

fn answer(text: &str) {
    let Ok(answer) = Answer::parse(text) else { return };
    let shown = table(&answer.services);
    let rows: usize = answer.services.iter().map(|status| status.routes.len().max(1)).sum();
    // A cell may hold a newline of its own (a name sent by a broken plugin): at least as many.
    assert!(shown.lines().count() > rows, "{shown:?}");
    assert!(shown.ends_with('\n'), "{shown:?}");
    let written = answer.to_line();
    assert!(written.ends_with('\n') && written.matches('\n').count() == 1, "{written:?}");
    let again = Answer::parse(&written).expect("an answer written back parses");
    assert_eq!(without_floats(again), without_floats(answer), "{written:?}");
}

/// The answer with its seconds zeroed: a float need not come back to the last bit.
fn without_floats(mut answer: Answer) -> Answer {
    for status in &mut answer.services {
        status.since_seconds = 0.0;
        if let Some(check) = &mut status.last_check {
            check.ago_seconds = 0.0;
        }
    }
    answer
}
