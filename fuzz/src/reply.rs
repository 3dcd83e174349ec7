//! The parser of ExaBGP's replies on stdin (text and JSON) on any line: it never panics, and
//! surrounding white space never changes what a line means.

use exabgp_healthcheck::exabgp::reply;

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let parsed = reply::parse(line);
        assert_eq!(parsed, reply::parse(line.trim()), "{line:?}");
        assert_eq!(parsed, reply::parse(&format!("  {line}\t")), "{line:?}");
    }
}
