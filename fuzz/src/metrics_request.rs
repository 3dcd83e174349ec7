//! A request to `--metrics-listen`, from whoever connects: any bytes, read as they arrive. It
//! never panics; what the bytes so far say never changes once said (more bytes, as they come,
//! change nothing); what the listener keeps (the first `HEAD_LIMIT + 1` bytes) reads as the
//! whole; and the answer to it is a whole HTTP/1.1 answer whose `Content-Length` is its body's.

use exabgp_healthcheck::metrics::listen::{answer, parse, HEAD_LIMIT};

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let whole = parse(data);
    let kept = &data[..data.len().min(HEAD_LIMIT + 1)];
    assert_eq!(parse(kept), whole);
    // The first prefix that says something says what the whole says.
    if let Some(first) = (0..=kept.len()).find_map(|n| parse(&kept[..n])) {
        assert_eq!(Some(first), whole);
    } else {
        assert_eq!(whole, None);
    }
    if let Some(request) = whole {
        let bytes = answer(request, || "m 1\n".to_owned());
        let text = String::from_utf8(bytes).expect("answers are text");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 ") && head.ends_with("Connection: close"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.parse().ok())
            .expect("a Content-Length");
        let head_only = matches!(request, exabgp_healthcheck::metrics::listen::Request::Metrics { head: true });
        assert_eq!(body.len(), if head_only { 0 } else { length }, "{text}");
    }
}
