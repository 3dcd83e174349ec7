//! An error of the operating system (an [`io::Error`], or rustix's `Errno` made one) in the
//! short words a check's reason or an error message shows: `connection refused`. The one place
//! for those words; pure, no I/O.
//!
//! The native checks came with words of their own for a few errors, and operators alert on
//! their lines, so each kind keeps its own ([`Words`]): the same unreachable network reads `no
//! route to the host` for a tcp check, `network unreachable` for an http one and `network is
//! unreachable` (the system's words) for a dns one.

use std::io::{self, ErrorKind};

/// Whose words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// The tcp check's connect: a few errors named, any other as `failed to connect: ERROR`.
    Connect,
    /// The http check (its connection, the request, the answer): a few errors named after
    /// what the server did, any other as the error says (TLS's own words included).
    Http,
    /// The dns check, and every other message (the control socket, `--config` files): the
    /// system's words, in lower case, without `(os error N)`.
    System,
}

/// `err` in the words of `words`.
pub fn in_words(err: &io::Error, words: Words) -> String {
    use ErrorKind as K;
    let named = match (words, err.kind()) {
        (Words::Connect | Words::Http, K::ConnectionRefused) => "connection refused",
        (Words::Connect | Words::Http, K::TimedOut) => "connection timed out",
        (Words::Connect, K::HostUnreachable | K::NetworkUnreachable) => "no route to the host",
        (Words::Connect, K::AddrNotAvailable) => "the address is not available here",
        (Words::Connect, _) => return format!("failed to connect: {err}"),
        (Words::Http, K::ConnectionReset) => "reset by the server",
        (Words::Http, K::ConnectionAborted) => "connection aborted",
        (Words::Http, K::BrokenPipe) => "closed by the server before the request was sent",
        (Words::Http, K::NetworkUnreachable) => "network unreachable",
        (Words::Http, K::HostUnreachable) => "host unreachable",
        (Words::Http, _) => return err.to_string(),
        (Words::System, _) => return system(err),
    };
    named.to_owned()
}

/// The system's words for `err`: `Connection refused (os error 111)` reads `connection
/// refused`.
fn system(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::io::Errno;

    fn os(errno: Errno) -> io::Error {
        errno.into()
    }

    #[test]
    fn the_tcp_check_names_what_a_connect_meets() {
        let words = |errno| in_words(&os(errno), Words::Connect);
        assert_eq!(words(Errno::CONNREFUSED), "connection refused");
        assert_eq!(words(Errno::TIMEDOUT), "connection timed out");
        assert_eq!(words(Errno::HOSTUNREACH), "no route to the host");
        assert_eq!(words(Errno::NETUNREACH), "no route to the host");
        assert_eq!(words(Errno::ADDRNOTAVAIL), "the address is not available here");
        assert_eq!(words(Errno::ACCESS), format!("failed to connect: {}", Errno::ACCESS));
        assert!(words(Errno::ACCESS).ends_with(" (os error 13)"), "{}", words(Errno::ACCESS));
    }

    #[test]
    fn the_http_check_names_what_the_server_did() {
        let words = |err: io::Error| in_words(&err, Words::Http);
        assert_eq!(words(io::Error::from(ErrorKind::ConnectionRefused)), "connection refused");
        assert_eq!(words(os(Errno::CONNREFUSED)), "connection refused");
        assert_eq!(words(io::Error::from(ErrorKind::ConnectionReset)), "reset by the server");
        assert_eq!(words(os(Errno::CONNABORTED)), "connection aborted");
        assert_eq!(words(os(Errno::PIPE)), "closed by the server before the request was sent");
        assert_eq!(words(io::Error::from_raw_os_error(101)), "network unreachable");
        assert_eq!(words(os(Errno::HOSTUNREACH)), "host unreachable");
        assert_eq!(words(os(Errno::TIMEDOUT)), "connection timed out");
        // Anything else as it says: TLS's words as they are, the system's with their number.
        let tls = io::Error::other("TLS handshake failed: closed by the server");
        assert_eq!(words(tls), "TLS handshake failed: closed by the server");
        assert_eq!(words(os(Errno::ADDRNOTAVAIL)), os(Errno::ADDRNOTAVAIL).to_string());
    }

    #[test]
    fn the_dns_check_says_what_the_system_says() {
        let words = |err: io::Error| in_words(&err, Words::System);
        assert_eq!(words(io::Error::from(ErrorKind::ConnectionRefused)), "connection refused");
        assert_eq!(words(io::Error::from_raw_os_error(111)), "connection refused");
        assert_eq!(words(io::Error::from_raw_os_error(101)), "network is unreachable");
        assert_eq!(words(io::Error::other("Odd")), "odd");
        assert_eq!(words(io::Error::other("")), "unknown error");
    }
}
