//! `#min-days=N` of the https check: when the server's certificate (the leaf) stops being
//! valid, read from its DER, and whether that is too soon. Pure: bytes and times in, a time or
//! a reason out.
//!
//! A small walk of the DER to the one field needed (RFC 5280 4.1: `Certificate` ->
//! `tbsCertificate` -> past the optional version, the serial number, the signature algorithm
//! and the issuer -> `validity` -> `notAfter`, a UTCTime or a GeneralizedTime), rather than an
//! X.509 crate: rustls's verifier, already in the binary, keeps the validity to itself, and a
//! full parser (x509-parser brings nom, der-parser, asn1-rs and time) would grow the binary for
//! one date. The certificate has been verified by then (unless `#insecure`); anything this walk
//! does not understand is said as a reason, never a panic.

use std::time::{Duration, SystemTime};

/// The leaf's `notAfter`, from its DER.
pub fn not_after(der: &[u8]) -> Result<SystemTime, String> {
    let malformed = |what: &str| format!("certificate's validity unreadable ({what})");
    let (certificate, _) = element(der, 0x30).map_err(|_| malformed("not a certificate"))?;
    let (mut tbs, _) = element(certificate, 0x30).map_err(|_| malformed("no tbsCertificate"))?;
    // [0] EXPLICIT version, optional.
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs, 0xa0).map_err(|_| malformed("version"))?.1;
    }
    for (tag, field) in [(0x02, "serial number"), (0x30, "signature algorithm"), (0x30, "issuer")] {
        tbs = element(tbs, tag).map_err(|_| malformed(field))?.1;
    }
    let (validity, _) = element(tbs, 0x30).map_err(|_| malformed("validity"))?;
    let (_, rest) = any_time(validity).map_err(|_| malformed("notBefore"))?;
    let (not_after, _) = any_time(rest).map_err(|_| malformed("notAfter"))?;
    Ok(not_after)
}

/// Why a certificate that stops being valid at `not_after` fails `#min-days=days` at `now`;
/// `Ok` with how long it has left, in words, when it passes.
pub fn judge(not_after: SystemTime, now: SystemTime, days: u32) -> Result<String, String> {
    let when = humantime::format_rfc3339_seconds(not_after);
    let Ok(left) = not_after.duration_since(now) else {
        return Err(format!("certificate expired on {when}"));
    };
    let whole = left.as_secs() / 86_400;
    let said = match whole {
        0 => "within a day".to_owned(),
        1 => "in 1 day".to_owned(),
        n => format!("in {n} days"),
    };
    if left < Duration::from_secs(u64::from(days) * 86_400) {
        Err(format!("certificate expires {said}, on {when} (#min-days={days})"))
    } else {
        Ok(format!("certificate expires {said}"))
    }
}

/// One DER element of `tag` at the start of `bytes`: its contents and what follows it.
fn element(bytes: &[u8], tag: u8) -> Result<(&[u8], &[u8]), ()> {
    let (&first, rest) = bytes.split_first().ok_or(())?;
    if first != tag {
        return Err(());
    }
    let (&length, rest) = rest.split_first().ok_or(())?;
    let (length, rest) = match length {
        short @ 0..=0x7f => (usize::from(short), rest),
        // Long form, 1 to 4 bytes of length (a certificate is never 4 GiB).
        long @ 0x81..=0x84 => {
            let count = usize::from(long & 0x7f);
            let digits = rest.get(..count).ok_or(())?;
            (digits.iter().fold(0usize, |n, d| n << 8 | usize::from(*d)), &rest[count..])
        }
        _ => return Err(()),
    };
    if length > rest.len() {
        return Err(());
    }
    Ok(rest.split_at(length))
}

/// A UTCTime (`YYMMDDHHMMSSZ`, 1950 to 2049) or a GeneralizedTime (`YYYYMMDDHHMMSSZ`) at the
/// start of `bytes`, as RFC 5280 4.1.2.5 has them: the time and what follows it.
fn any_time(bytes: &[u8]) -> Result<(SystemTime, &[u8]), ()> {
    let (text, rest, century) = match bytes.first() {
        Some(0x17) => {
            let (text, rest) = element(bytes, 0x17)?;
            let year: u8 = std::str::from_utf8(text.get(..2).ok_or(())?).map_err(|_| ())?.parse().map_err(|_| ())?;
            (text, rest, Some(if year < 50 { "20" } else { "19" }))
        }
        Some(0x18) => {
            let (text, rest) = element(bytes, 0x18)?;
            (text, rest, None)
        }
        _ => return Err(()),
    };
    let text = std::str::from_utf8(text).map_err(|_| ())?;
    let digits = text.strip_suffix('Z').ok_or(())?;
    let full = format!("{}{digits}", century.unwrap_or_default());
    if full.len() != 14 || !full.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let number = |at: usize, len: usize| -> i64 { full[at..at + len].parse().unwrap_or_default() };
    let (year, month, day) = (number(0, 4), number(4, 2), number(6, 2));
    let (hour, minute, second) = (number(8, 2), number(10, 2), number(12, 2));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month[(month - 1) as usize] {
        return Err(());
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(());
    }
    let seconds = days_since_1970(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    // Before 1970: long expired, said as 1970.
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
    Ok((time, rest))
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar (negative
/// before), counted in 400-year eras of 146,097 days.
fn days_since_1970(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{date_time_ymd, CertificateParams, KeyPair};

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    /// A self-signed certificate valid until `year-month-day` 00:00 UTC.
    fn until(year: i32, month: u8, day: u8) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["www.example.test".to_owned()]).unwrap();
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(year, month, day);
        params.self_signed(&KeyPair::generate().unwrap()).unwrap().der().to_vec()
    }

    #[test]
    fn not_after_is_read_from_utc_and_generalized_times() {
        // rcgen writes a UTCTime before 2050 and a GeneralizedTime from 2050 on, as RFC 5280 says.
        assert_eq!(not_after(&until(2026, 12, 10)), Ok(at("2026-12-10T00:00:00Z")));
        assert_eq!(not_after(&until(2049, 12, 31)), Ok(at("2049-12-31T00:00:00Z")));
        assert_eq!(not_after(&until(2050, 1, 1)), Ok(at("2050-01-01T00:00:00Z")));
        assert_eq!(not_after(&until(9999, 12, 31)), Ok(at("9999-12-31T00:00:00Z")));
        // Every day from 1970 to 2100, through the calendar and back.
        let mut day = at("1970-01-01T00:00:00Z");
        while day < at("2100-01-01T00:00:00Z") {
            let text = humantime::format_rfc3339_seconds(day).to_string();
            let generalized = format!("\x18\x0f{}Z", text[..19].replace(['-', 'T', ':'], ""));
            assert_eq!(any_time(generalized.as_bytes()).map(|(t, _)| t), Ok(day), "{text}");
            day += Duration::from_secs(86_400 + 3_599);
        }
        assert_eq!(any_time(b"\x17\x0d491231235959Z").map(|(t, _)| t), Ok(at("2049-12-31T23:59:59Z")));
        assert_eq!(any_time(b"\x17\x0d500101000000Z").map(|(t, _)| t), Ok(SystemTime::UNIX_EPOCH), "before 1970");
        assert_eq!(any_time(b"\x18\x0f20240229120000Z").map(|(t, _)| t), Ok(at("2024-02-29T12:00:00Z")));
        assert_eq!(any_time(b"\x18\x0f19700101000001Z").map(|(t, _)| t), Ok(at("1970-01-01T00:00:01Z")));
        assert_eq!(days_since_1970(2000, 3, 1), 11_017);
        assert_eq!(days_since_1970(1969, 12, 31), -1);
    }

    #[test]
    fn anything_else_is_a_reason_never_a_panic() {
        let der = until(2030, 6, 1);
        // Every cut of a real certificate: an error or (past the validity) the date.
        for end in 0..der.len() {
            let _ = not_after(&der[..end]);
        }
        assert_eq!(not_after(b""), Err("certificate's validity unreadable (not a certificate)".to_owned()));
        assert!(not_after(&der[..60]).unwrap_err().starts_with("certificate's validity unreadable"));
        // A length longer than what follows, an indefinite length, a 5-byte length.
        for bad in [&b"\x30\x05\x30\x00"[..], b"\x30\x80\x00\x00", b"\x30\x85\x00\x00\x00\x00\x01\x00"] {
            assert!(not_after(bad).is_err());
        }
        for time in
            [&b"\x17\x0b2601010000Z"[..], b"\x17\x0d26010100000+", b"\x18\x0d2601010000000", b"\x17\x0d261301000000Z"]
        {
            assert!(any_time(time).is_err(), "{time:?}");
        }
    }

    #[test]
    fn expiry_within_min_days_fails_saying_when() {
        let now = at("2026-12-07T05:00:00Z");
        let end = at("2026-12-10T05:00:00Z");
        assert_eq!(
            judge(end, now, 7),
            Err("certificate expires in 3 days, on 2026-12-10T05:00:00Z (#min-days=7)".into())
        );
        assert_eq!(judge(end, now, 3), Ok("certificate expires in 3 days".into()));
        assert_eq!(judge(end, now, 1), Ok("certificate expires in 3 days".into()));
        let soon = at("2026-12-07T17:00:00Z");
        assert_eq!(
            judge(soon, now, 1),
            Err("certificate expires within a day, on 2026-12-07T17:00:00Z (#min-days=1)".into())
        );
        assert_eq!(judge(at("2026-12-08T06:00:00Z"), now, 1), Ok("certificate expires in 1 day".into()));
        assert_eq!(
            judge(at("2026-12-01T00:00:00Z"), now, 1),
            Err("certificate expired on 2026-12-01T00:00:00Z".into())
        );
    }
}
