//! `--check URL`: what a native check's URL says, parsed and checked at start-up. Pure: text
//! in, a [`CheckUrl`] or the reason it is refused out.
//!
//! - `tcp://HOST:PORT`
//! - `http://HOST[:PORT][/PATH][?QUERY]`, options `#status=N`, `#body=TEXT`
//! - `https://HOST[:PORT][/PATH][?QUERY]`, the same and `#insecure`, `#sni=NAME`, `#min-days=N`
//! - `dns://SERVER[:PORT]/NAME[?type=TYPE]`, option `#expect=IP`
//! - `icmp://HOST`
//! - `ntp://SERVER[:PORT]`, options `#max-stratum=N`, `#max-offset=DURATION`
//!
//! HOST and SERVER are IP literals (IPv6 in brackets) or `localhost` (127.0.0.1): no name is
//! ever resolved, so a check never waits on a resolver. Options go in the fragment, which is
//! never sent, separated by `&`; a value may be percent-encoded (`#body=all%20good`).

use super::dns::wire::{Query, RecordType};
use super::ntp::wire::Limits;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A native check, as its URL describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckUrl {
    /// The URL as written, for messages.
    pub text: String,
    pub target: Target,
}

/// What to check: what each kind's check holds ([`super::tcp::Tcp`], [`super::http::Http`],
/// [`super::dns::Dns`], [`super::ntp::Ntp`]), beside the URL's text and the timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp(TcpTarget),
    Http(HttpTarget),
    Dns(DnsTarget),
    Ntp(NtpTarget),
    /// `icmp://HOST`: an IP literal (`localhost` is 127.0.0.1).
    Icmp(IpAddr),
}

/// A tcp check's: healthy when the connection is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpTarget {
    /// An IP literal's address (`localhost` is 127.0.0.1): nothing is resolved.
    pub addr: SocketAddr,
}

/// An http check's: healthy when `GET` answers a status below 400 (or exactly `status`), with
/// `body` in the first 64 KiB when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// An IP literal's address (`localhost` is 127.0.0.1): nothing is resolved.
    pub addr: SocketAddr,
    /// The `Host` header: the URL's host, and its port when not the scheme's.
    pub host: String,
    /// The request target, `/PATH?QUERY` (`/` when empty).
    pub path: String,
    /// `#status=N`: healthy on exactly N; `None`: on any status below 400.
    pub status: Option<u16>,
    /// `#body=TEXT`: the first 64 KiB of the body must contain TEXT.
    pub body: Option<String>,
    /// `https`: over TLS, so.
    pub tls: Option<Tls>,
}

/// A dns check's: healthy when the query answers NOERROR with a record of the type (and
/// `expect` among the addresses when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    /// An IP literal; port 53 unless the URL says otherwise.
    pub server: SocketAddr,
    /// The name to ask for, with or without the final dot (`.` or empty: the root).
    pub name: String,
    pub record: RecordType,
    /// `#expect=IP`: this address must be among the A and AAAA records of the answer.
    pub expect: Option<IpAddr>,
}

/// An ntp check's: healthy when the server answers synchronised, within `limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtpTarget {
    /// An IP literal; port 123 unless the URL says otherwise.
    pub server: SocketAddr,
    /// `#max-stratum=N` (15 unless given) and `#max-offset=DURATION` (any unless given).
    pub limits: Limits,
}

/// An https check's TLS options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// `#insecure`: the certificate is not verified.
    pub insecure: bool,
    /// The name sent in SNI and that the certificate must be valid for: `#sni=NAME`, or
    /// `localhost` for `https://localhost`; `None`: no SNI, the certificate must hold the
    /// address.
    pub sni: Option<String>,
    /// `#min-days=N`: also unhealthy when the server's certificate expires within N days.
    pub min_days: Option<u32>,
}

impl std::str::FromStr for CheckUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<CheckUrl, String> {
        let (scheme, rest) =
            text.split_once("://").ok_or("not a URL (tcp://, http://, https://, dns://, ntp:// or icmp://)")?;
        let (rest, fragment) = match rest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (rest, None),
        };
        let options = options(fragment)?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let target = match scheme {
            "tcp" => {
                if !path.is_empty() {
                    return Err("a tcp check has no path".to_owned());
                }
                allow(&options, &[], "tcp")?;
                Target::Tcp(TcpTarget { addr: socket(authority, None)? })
            }
            "http" | "https" => {
                let https = scheme == "https";
                let known: &[&str] =
                    if https { &["status", "body", "insecure", "sni", "min-days"] } else { &["status", "body"] };
                allow(&options, known, scheme)?;
                let port = if https { 443 } else { 80 };
                let addr = socket(authority, Some(port))?;
                let host = if addr.port() == port { host_text(authority) } else { authority.to_owned() };
                let status = match value(&options, "status")? {
                    Some(text) => Some(
                        text.parse::<u16>()
                            .ok()
                            .filter(|n| (100..=599).contains(n))
                            .ok_or_else(|| format!("#status={text}: a status is 100 to 599"))?,
                    ),
                    None => None,
                };
                let body = value(&options, "body")?;
                if body.as_deref() == Some("") {
                    return Err("#body= needs the text to look for".to_owned());
                }
                let path = if path.starts_with('?') { format!("/{path}") } else { path.to_owned() };
                let path = if path.is_empty() { "/".to_owned() } else { path };
                if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
                    return Err("the path holds a space or a control character (percent-encode it)".to_owned());
                }
                let tls = if https { Some(tls(&options, &host_text(authority))?) } else { None };
                Target::Http(HttpTarget { addr, host, path, status, body, tls })
            }
            "dns" => {
                allow(&options, &["expect"], "dns")?;
                let server = socket(authority, Some(53))?;
                let (name, query) = match path.strip_prefix('/') {
                    Some(path) => path.split_once('?').unwrap_or((path, "")),
                    None => return Err("a dns check names what to ask for: dns://SERVER/NAME".to_owned()),
                };
                name_ok(name)?;
                let mut record = RecordType::A;
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("type", kind)) => {
                            record = kind.parse().map_err(|why| format!("?type={kind}: not a record type: {why}"))?;
                        }
                        _ => return Err(format!("?{pair}: the only query option is type=TYPE")),
                    }
                }
                Query::new(0, name, record).map_err(|why| format!("'{name}': {why}"))?;
                let expect = match value(&options, "expect")? {
                    Some(ip) => Some(ip.parse::<IpAddr>().map_err(|_| format!("#expect={ip}: not an IP address"))?),
                    None => None,
                };
                Target::Dns(DnsTarget { server, name: name.to_owned(), record, expect })
            }
            "ntp" => {
                if !path.is_empty() {
                    return Err("an ntp check has no path (ntp://SERVER[:PORT])".to_owned());
                }
                allow(&options, &["max-stratum", "max-offset"], "ntp")?;
                let server = socket(authority, Some(123))?;
                let mut limits = Limits::default();
                if let Some(text) = value(&options, "max-stratum")? {
                    limits.max_stratum = text
                        .parse::<u8>()
                        .ok()
                        .filter(|n| (1..=15).contains(n))
                        .ok_or_else(|| format!("#max-stratum={text}: a stratum is 1 to 15"))?;
                }
                if let Some(text) = value(&options, "max-offset")? {
                    let max = crate::units::duration("--check", &text)
                        .map_err(|err| format!("#max-offset={text}: {}", err.why))?;
                    if max.is_zero() {
                        return Err(format!("#max-offset={text}: more than 0, or no #max-offset"));
                    }
                    limits.max_offset = Some(max);
                }
                Target::Ntp(NtpTarget { server, limits })
            }
            "icmp" => {
                if !path.is_empty() {
                    return Err("an icmp check has no path (icmp://HOST)".to_owned());
                }
                allow(&options, &[], "icmp")?;
                // Any port would do to parse the host; none may be written.
                let addr = socket(authority, Some(1))?;
                if authority.rsplit_once(']').map_or(authority, |(_, after)| after).contains(':') {
                    return Err("an icmp check has no port (icmp://HOST)".to_owned());
                }
                Target::Icmp(addr.ip())
            }
            other => return Err(format!("unknown scheme '{other}' (tcp, http, https, dns, ntp or icmp)")),
        };
        Ok(CheckUrl { text: text.to_owned(), target })
    }
}

/// An https check's TLS options; `host` is the URL's, as written.
fn tls(options: &[(String, Option<String>)], host: &str) -> Result<Tls, String> {
    let insecure = match options.iter().find(|(name, _)| name == "insecure") {
        Some((_, Some(_))) => return Err("#insecure takes no value".to_owned()),
        Some((_, None)) => true,
        None => false,
    };
    let sni = match value(options, "sni")? {
        Some(name) => {
            let bare = name.strip_suffix('.').unwrap_or(&name);
            if bare.parse::<IpAddr>().is_ok() {
                return Err(format!("#sni={name}: SNI carries a DNS name, not an address"));
            }
            if rustls_pki_types::DnsName::try_from(bare).is_err() {
                return Err(format!("#sni={name}: not a DNS name"));
            }
            Some(bare.to_owned())
        }
        None if host == "localhost" => Some(host.to_owned()),
        None => None,
    };
    let min_days = match value(options, "min-days")? {
        Some(text) => Some(
            text.parse::<u32>()
                .ok()
                .filter(|days| (1..=3650).contains(days))
                .ok_or_else(|| format!("#min-days={text}: a number of days, 1 to 3650"))?,
        ),
        None => None,
    };
    Ok(Tls { insecure, sni, min_days })
}

/// The fragment's options, `name` or `name=value`, in order.
fn options(fragment: Option<&str>) -> Result<Vec<(String, Option<String>)>, String> {
    let Some(fragment) = fragment else { return Ok(Vec::new()) };
    fragment
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((name, raw)) => Ok((name.to_owned(), Some(decode(raw)?))),
            None => Ok((part.to_owned(), None)),
        })
        .collect()
}

/// Refuse options that are not among `known` for `scheme`, and repeated ones.
fn allow(options: &[(String, Option<String>)], known: &[&str], scheme: &str) -> Result<(), String> {
    for (i, (name, _)) in options.iter().enumerate() {
        if !known.contains(&name.as_str()) {
            let list = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
            return Err(format!("#{name}: not an option of a {scheme} check (its options: {list})"));
        }
        if options[..i].iter().any(|(other, _)| other == name) {
            return Err(format!("#{name} is given twice"));
        }
    }
    Ok(())
}

/// The value of option `name`, which needs one.
fn value(options: &[(String, Option<String>)], name: &str) -> Result<Option<String>, String> {
    match options.iter().find(|(other, _)| other == name) {
        Some((_, Some(value))) => Ok(Some(value.clone())),
        Some((_, None)) => Err(format!("#{name} needs a value (#{name}=...)")),
        None => Ok(None),
    }
}

/// Percent-decoding, for option values.
fn decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| format!("'{raw}': a % is followed by two hexadecimal digits"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{raw}': not UTF-8 once decoded"))
}

/// The host part of an authority, as written (brackets kept).
fn host_text(authority: &str) -> String {
    match authority.strip_prefix('[') {
        Some(rest) => format!("[{}]", rest.split(']').next().unwrap_or_default()),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host).to_owned(),
    }
}

/// `HOST[:PORT]` as a socket address: an IP literal or `localhost`; `default` port when none
/// is written (`None`: a port is required).
fn socket(authority: &str, default: Option<u16>) -> Result<SocketAddr, String> {
    if authority.is_empty() {
        return Err("no host (an IP address, [IPv6] or localhost)".to_owned());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("an IPv6 address in brackets misses its ']'")?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| format!("'{after}' after the address"))?),
        };
        (host, port)
    } else if authority.matches(':').count() > 1 {
        return Err(format!("'{authority}': write an IPv6 address in brackets ([{authority}])"));
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let ip = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        literal => literal.parse::<IpAddr>().map_err(|_| {
            format!("'{literal}' is not an IP address: no name is resolved (give an IP address, or localhost)")
        })?,
    };
    if authority.starts_with('[') && ip.is_ipv4() {
        return Err(format!("'{host}' in brackets is not an IPv6 address"));
    }
    let port = match (port, default) {
        (Some(text), _) => {
            text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("port '{text}': a port is 1 to 65535"))?
        }
        (None, Some(port)) => port,
        (None, None) => return Err("a tcp check needs a port (tcp://HOST:PORT)".to_owned()),
    };
    Ok(SocketAddr::new(ip, port))
}

/// A domain name to ask for: labels of 1 to 63 characters, 253 in all, no spaces.
fn name_ok(name: &str) -> Result<(), String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err("a dns check names what to ask for: dns://SERVER/NAME".to_owned());
    }
    if bare.len() > 253 || bare.split('.').any(|label| label.is_empty() || label.len() > 63) {
        return Err(format!("'{name}' is not a domain name"));
    }
    if bare.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("'{name}' is not a domain name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Target {
        text.parse::<CheckUrl>().unwrap_or_else(|e| panic!("{text}: {e}")).target
    }

    fn refused(text: &str) -> String {
        text.parse::<CheckUrl>().expect_err(text)
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn tcp_urls() {
        assert_eq!(parse("tcp://127.0.0.1:80"), Target::Tcp(TcpTarget { addr: addr("127.0.0.1:80") }));
        assert_eq!(parse("tcp://[::1]:8080"), Target::Tcp(TcpTarget { addr: addr("[::1]:8080") }));
        assert_eq!(parse("tcp://localhost:22"), Target::Tcp(TcpTarget { addr: addr("127.0.0.1:22") }));
        assert!(refused("tcp://127.0.0.1").contains("needs a port"));
        assert!(refused("tcp://127.0.0.1:0").contains("port '0'"));
        assert!(refused("tcp://127.0.0.1:65536").contains("port '65536'"));
        assert!(refused("tcp://127.0.0.1:http").contains("port 'http'"));
        assert!(refused("tcp://127.0.0.1:80/x").contains("no path"));
        assert!(refused("tcp://127.0.0.1:80#status=200").contains("#status: not an option of a tcp check"));
    }

    #[test]
    fn http_urls() {
        assert_eq!(
            parse("http://127.0.0.1/health"),
            Target::Http(HttpTarget {
                addr: addr("127.0.0.1:80"),
                host: "127.0.0.1".into(),
                path: "/health".into(),
                status: None,
                body: None,
                tls: None
            })
        );
        assert_eq!(
            parse("http://[::1]:8080?ready=1#status=204&body=all%20good"),
            Target::Http(HttpTarget {
                addr: addr("[::1]:8080"),
                host: "[::1]:8080".into(),
                path: "/?ready=1".into(),
                status: Some(204),
                body: Some("all good".into()),
                tls: None
            })
        );
        assert!(
            matches!(parse("http://localhost:80"), Target::Http(HttpTarget { ref host, ref path, .. }) if host == "localhost" && path == "/")
        );
        assert!(refused("http://127.0.0.1/#status=99").contains("100 to 599"));
        assert!(refused("http://127.0.0.1/#status").contains("needs a value"));
        assert!(refused("http://127.0.0.1/#body=").contains("needs the text"));
        assert!(refused("http://127.0.0.1/#expect=1.2.3.4").contains("not an option of a http check"));
        assert!(refused("http://127.0.0.1/#status=200&status=204").contains("twice"));
        assert!(refused("http://127.0.0.1/a b").contains("space"));
        assert!(refused("http://127.0.0.1/#body=%zz").contains("hexadecimal"));
    }

    #[test]
    fn https_urls() {
        assert_eq!(
            parse("https://127.0.0.1/health"),
            Target::Http(HttpTarget {
                addr: addr("127.0.0.1:443"),
                host: "127.0.0.1".into(),
                path: "/health".into(),
                status: None,
                body: None,
                tls: Some(Tls { insecure: false, sni: None, min_days: None })
            })
        );
        assert_eq!(
            parse("https://[::1]:8443?ready=1#status=204&insecure&sni=www.example.com&min-days=30"),
            Target::Http(HttpTarget {
                addr: addr("[::1]:8443"),
                host: "[::1]:8443".into(),
                path: "/?ready=1".into(),
                status: Some(204),
                body: None,
                tls: Some(Tls { insecure: true, sni: Some("www.example.com".into()), min_days: Some(30) })
            })
        );
        let Target::Http(HttpTarget { host, tls, .. }) = parse("https://localhost:443/") else { panic!() };
        assert_eq!(
            (host.as_str(), tls),
            ("localhost", Some(Tls { insecure: false, sni: Some("localhost".into()), min_days: None }))
        );
        let Target::Http(HttpTarget { host, tls, .. }) = parse("https://localhost:8443/#sni=api.example.") else {
            panic!()
        };
        assert_eq!((host.as_str(), tls.unwrap().sni.unwrap()), ("localhost:8443", "api.example".to_owned()));
        let Target::Http(HttpTarget { addr: port80, .. }) = parse("https://127.0.0.1:80/") else { panic!() };
        assert_eq!(port80.port(), 80);
        assert!(refused("http://127.0.0.1/#insecure").contains("#insecure: not an option of a http check"));
        assert!(refused("http://127.0.0.1/#sni=a.example").contains("#sni: not an option of a http check"));
        assert!(refused("https://127.0.0.1/#insecure=1").contains("takes no value"));
        assert!(refused("https://127.0.0.1/#insecure&insecure").contains("twice"));
        assert!(refused("https://127.0.0.1/#sni").contains("needs a value"));
        assert!(refused("https://127.0.0.1/#sni=").contains("not a DNS name"));
        assert!(refused("https://127.0.0.1/#sni=a%20b").contains("not a DNS name"));
        assert!(refused("https://127.0.0.1/#sni=a..b").contains("not a DNS name"));
        assert!(refused("https://127.0.0.1/#sni=192.0.2.1").contains("not an address"));
        assert!(
            refused("https://127.0.0.1/#expect=1.2.3.4").contains("its options: status, body, insecure, sni, min-days")
        );
        assert!(refused("http://127.0.0.1/#min-days=7").contains("#min-days: not an option of a http check"));
        for days in ["0", "3651", "-1", "7d", ""] {
            assert!(refused(&format!("https://127.0.0.1/#min-days={days}")).contains("a number of days, 1 to 3650"));
        }
        assert!(refused("https://127.0.0.1/#min-days").contains("needs a value"));
        assert!(refused("https://www.example.com/").contains("no name is resolved"));
    }

    #[test]
    fn dns_urls() {
        assert_eq!(
            parse("dns://127.0.0.1/example.com"),
            Target::Dns(DnsTarget {
                server: addr("127.0.0.1:53"),
                name: "example.com".into(),
                record: RecordType::A,
                expect: None
            })
        );
        assert_eq!(
            parse("dns://[::1]:5353/health.example.?type=aaaa#expect=2001:db8::7"),
            Target::Dns(DnsTarget {
                server: addr("[::1]:5353"),
                name: "health.example.".into(),
                record: RecordType::AAAA,
                expect: Some("2001:db8::7".parse().unwrap())
            })
        );
        assert!(refused("dns://127.0.0.1").contains("names what to ask for"));
        assert!(refused("dns://127.0.0.1/").contains("names what to ask for"));
        assert!(refused("dns://127.0.0.1/a..b").contains("not a domain name"));
        assert!(refused(&format!("dns://127.0.0.1/{}.com", "a".repeat(64))).contains("not a domain name"));
        assert!(refused("dns://127.0.0.1/x?type=BOGUS").contains("not a record type"));
        assert!(refused("dns://127.0.0.1/x?class=IN").contains("only query option"));
        assert!(refused("dns://127.0.0.1/x#expect=nope").contains("not an IP address"));
    }

    #[test]
    fn icmp_urls() {
        assert_eq!(parse("icmp://192.0.2.1"), Target::Icmp("192.0.2.1".parse().unwrap()));
        assert_eq!(parse("icmp://[2001:db8::1]"), Target::Icmp("2001:db8::1".parse().unwrap()));
        assert_eq!(parse("icmp://localhost"), Target::Icmp("127.0.0.1".parse().unwrap()));
        assert!(refused("icmp://gateway.example").contains("'gateway.example' is not an IP address"));
        assert!(refused("icmp://192.0.2.1:7").contains("no port"));
        assert!(refused("icmp://[2001:db8::1]:7").contains("no port"));
        assert!(refused("icmp://2001:db8::1").contains("in brackets"));
        assert!(refused("icmp://192.0.2.1/x").contains("no path"));
        assert!(
            refused("icmp://192.0.2.1#count=3").contains("#count: not an option of a icmp check (its options: none)")
        );
        assert!(refused("icmp://").contains("no host"));
    }

    #[test]
    fn ntp_urls() {
        let limits = Limits::default();
        assert_eq!(parse("ntp://127.0.0.1"), Target::Ntp(NtpTarget { server: addr("127.0.0.1:123"), limits }));
        let limits = Limits { max_stratum: 3, max_offset: Some(std::time::Duration::from_millis(250)) };
        assert_eq!(
            parse("ntp://[::1]:1123#max-stratum=3&max-offset=250ms"),
            Target::Ntp(NtpTarget { server: addr("[::1]:1123"), limits })
        );
        let Target::Ntp(NtpTarget { limits, .. }) = parse("ntp://localhost#max-offset=0.5") else { panic!() };
        assert_eq!(limits.max_offset, Some(std::time::Duration::from_millis(500)));
        assert!(refused("ntp://127.0.0.1/x").contains("no path"));
        assert!(refused("ntp://127.0.0.1#max-stratum=0").contains("#max-stratum=0: a stratum is 1 to 15"));
        assert!(refused("ntp://127.0.0.1#max-stratum=16").contains("#max-stratum=16: a stratum is 1 to 15"));
        assert!(refused("ntp://127.0.0.1#max-stratum=x").contains("#max-stratum=x: a stratum is 1 to 15"));
        assert!(refused("ntp://127.0.0.1#max-stratum").contains("needs a value"));
        assert!(refused("ntp://127.0.0.1#max-offset=soon").contains("#max-offset=soon: not a duration"));
        assert!(refused("ntp://127.0.0.1#max-offset=-1").contains("#max-offset=-1: "));
        assert!(refused("ntp://127.0.0.1#max-offset=0").contains("#max-offset=0: more than 0"));
        assert!(refused("ntp://127.0.0.1#status=200").contains("its options: max-stratum, max-offset"));
        assert!(refused("ntp://pool.ntp.org").contains("no name is resolved"));
    }

    #[test]
    fn names_are_never_resolved_and_bad_urls_say_why() {
        for name in ["tcp://example.com:80", "http://web.internal/", "dns://resolver/x"] {
            assert!(refused(name).contains("no name is resolved"), "{name}: {}", refused(name));
        }
        assert!(refused("ftp://127.0.0.1/").contains("unknown scheme 'ftp'"));
        assert!(refused("127.0.0.1:80").contains("not a URL"));
        assert!(refused("tcp://::1:80").contains("in brackets"));
        assert!(refused("tcp://[::1:80").contains("misses its ']'"));
        assert!(refused("tcp://[127.0.0.1]:80").contains("not an IPv6 address"));
        assert!(refused("http:///x").contains("no host"));
    }
}
