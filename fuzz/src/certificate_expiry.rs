//! `#min-days`'s walk of the server's certificate (`probe::http::expiry::not_after`) on any
//! bytes: it never panics; the same bytes give the same answer; a certificate it reads reads the
//! same with anything after it (the outer element's length delimits it); a refusal, and what
//! `judge` says of a date it read, are one non-empty line.

use exabgp_healthcheck::probe::http::expiry::{judge, not_after};
use std::time::{Duration, SystemTime};

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let read = not_after(data);
    assert_eq!(read, not_after(data), "the same bytes, the same answer");
    match read {
        Ok(time) => {
            let mut longer = data.to_vec();
            longer.extend_from_slice(b"\x30\x03\x02\x01\x00trailing");
            assert_eq!(not_after(&longer), Ok(time), "bytes after the certificate change nothing");
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_619_600);
            for days in [1, 7, 3650] {
                let (Ok(said) | Err(said)) = judge(time, now, days);
                assert!(!said.is_empty() && !said.contains('\n'), "{said:?}");
            }
        }
        Err(why) => assert!(!why.is_empty() && !why.contains('\n'), "{why:?}"),
    }
}
