//! TLS for `https`: a rustls [`ClientConnection`] (the `ring` provider) driven over the check's
//! non-blocking socket on the reactor's loop: `write_tls` and `read_tls` when the socket is
//! ready, `process_new_packets` on what came, and the poll asked for what rustls wants
//! (`wants_read`, `wants_write`). No thread, no blocking call.
//!
//! The certificate is verified against the system's roots (`/etc/ssl/certs/ca-certificates.crt`;
//! `EXABGP_HEALTHCHECK_CA_FILE` names another file, for tests), read once, on the first https
//! check: a run without one never reads or parses a certificate. `#insecure` skips the
//! verification (the handshake's signatures are still checked). The name sent in SNI and
//! verified is `#sni=NAME`, or `localhost` for `https://localhost`; for an IP literal no SNI is
//! sent and the certificate must hold the address (an IP SAN). No session is resumed: every
//! check verifies the certificate afresh, so one that expires is seen the moment it does.

use super::super::url::Tls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, DistinguishedName, OtherError,
    RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The system's roots (Debian's ca-certificates).
pub const CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The variable that names another roots file instead (for tests).
pub const CA_FILE_VAR: &str = "EXABGP_HEALTHCHECK_CA_FILE";

/// The configuration of every verifying check on the system's roots, and of every
/// `#insecure` one: made once, on the first check that needs it (a failure is not kept, so
/// the roots are read again on the next check).
static VERIFIED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
static INSECURE: OnceLock<Arc<ClientConfig>> = OnceLock::new();

/// A TLS client for the server at `ip` (its ClientHello ready to send), over `socket`, with
/// the URL's options `tls` (the name sent in SNI and verified against the certificate, or none
/// and the certificate must be valid for the address; `#insecure`); `roots`: trust this PEM
/// file's certificates instead of the system's (unit tests).
pub(super) fn stream(tls: &Tls, roots: Option<&Path>, ip: IpAddr, socket: TcpStream) -> Result<Stream, String> {
    let config = shared_config(tls.insecure, roots)?;
    let name = match &tls.sni {
        Some(name) => ServerName::try_from(name.clone()).map_err(|_| format!("'{name}' is not a DNS name"))?,
        None => ServerName::IpAddress(ip.into()),
    };
    let conn = ClientConnection::new(config, name).map_err(|err| format!("TLS handshake failed: {err}"))?;
    // What the certificate must be valid for, in messages: the name, or the address.
    let expected = tls.sni.clone().unwrap_or_else(|| ip.to_string());
    Ok(Stream { socket, conn, expected })
}

/// The client configuration for a check: one of the two kept (verifying on the system's
/// roots, or `#insecure`), or one of its own for other `roots`.
fn shared_config(insecure: bool, roots: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let (cache, roots) = match (roots, insecure) {
        (_, true) => (Some(&INSECURE), None),
        (Some(file), false) => (None, Some(file.to_owned())),
        (None, false) => {
            let file = std::env::var_os(CA_FILE_VAR).map_or_else(|| PathBuf::from(CA_FILE), PathBuf::from);
            (Some(&VERIFIED), Some(file))
        }
    };
    if let Some(config) = cache.and_then(OnceLock::get) {
        return Ok(Arc::clone(config));
    }
    let config = Arc::new(config(roots.as_deref())?);
    Ok(match cache {
        Some(cache) => Arc::clone(cache.get_or_init(|| config)),
        None => config,
    })
}

/// A client configuration verifying against the certificates of `roots`, or not verifying
/// at all (`None`).
fn config(roots: Option<&Path>) -> Result<ClientConfig, String> {
    let provider = Arc::new(crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: {err}"))?;
    let mut config = match roots {
        Some(file) => {
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(load(file)?), Arc::clone(&provider))
                .build()
                .map_err(|err| format!("TLS: {err}"))?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Verified(verifier))).with_no_client_auth()
        }
        None => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Unverified(provider))).with_no_client_auth()
        }
    };
    config.resumption = Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The trust anchors of a PEM file (the certificates it holds; anything else is skipped).
fn load(file: &Path) -> Result<RootCertStore, String> {
    let cannot = |why: String| format!("cannot read the trusted certificates {}: {why}", file.display());
    let certs = CertificateDer::pem_file_iter(file).map_err(|err| cannot(err.to_string()))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs.filter_map(Result::ok));
    if added == 0 {
        return Err(cannot("no certificate in it".to_owned()));
    }
    log::debug!("Trusting {added} certificates of {}", file.display());
    Ok(roots)
}

/// The verification on the roots (rustls's own), telling a self-signed certificate from one
/// of an unknown issuer.
#[derive(Debug)]
struct Verified(Arc<WebPkiServerVerifier>);

/// A self-signed server certificate (not among the roots), as [`Verified`] refuses it.
#[derive(Debug)]
struct SelfSigned;

impl std::fmt::Display for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("self-signed")
    }
}

impl std::error::Error for SelfSigned {}

/// Whether `cert` names itself as its issuer (unparsable: no).
fn self_issued(cert: &CertificateDer<'_>) -> bool {
    webpki::EndEntityCert::try_from(cert).is_ok_and(|cert| cert.issuer() == cert.subject())
}

impl ServerCertVerifier for Verified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
                if intermediates.is_empty() && self_issued(end_entity) =>
            {
                Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(SelfSigned)))))
            }
            verified => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.0.root_hint_subjects()
    }
}

/// `#insecure`: any certificate is taken (the handshake's signatures are still verified with
/// its key, so the connection is still one TLS session).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS session over a non-blocking socket.
pub(super) struct Stream {
    socket: TcpStream,
    conn: ClientConnection,
    /// What the certificate must be valid for, in messages.
    expected: String,
}

impl Stream {
    pub(super) fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// The server's certificate (the leaf), once the handshake has brought it.
    pub(super) fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.conn.peer_certificates().and_then(<[_]>::first)
    }

    /// Whether the handshake is still going on.
    pub(super) fn handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// What to poll the socket for: what rustls wants.
    pub(super) fn wants(&self) -> (bool, bool) {
        (self.conn.wants_read(), self.conn.wants_write())
    }

    /// Take `bytes` to send (rustls keeps them until the handshake is over), and send what
    /// the socket takes now.
    pub(super) fn send(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let taken = self.conn.writer().write(bytes)?;
        self.flush()?;
        Ok(taken)
    }

    /// Receive what has come, decrypted (`Ok(0)`: the server closed; `WouldBlock`: nothing
    /// yet); what rustls has to send meanwhile (the handshake's messages) is sent first.
    pub(super) fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buffer) {
                // A close without close_notify is a close: the HTTP parser tells whether the
                // answer was whole.
                Err(err) if err.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                done => return done,
            }
            self.flush()?;
            match self.conn.read_tls(&mut &self.socket) {
                Ok(0) if self.conn.is_handshaking() => {
                    return Err(io::Error::other("TLS handshake failed: closed by the server"));
                }
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
            if let Err(err) = self.conn.process_new_packets() {
                let words = self.words(&err);
                // The alert rustls made of it, if the socket takes it.
                let _ = self.flush();
                return Err(io::Error::other(words));
            }
        }
    }

    /// Send what rustls has to send, as far as the socket takes it.
    fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut NoSignal(&self.socket)) {
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// A TLS failure in words.
    fn words(&self, err: &rustls::Error) -> String {
        match refusal(err, &self.expected) {
            Some(words) => words,
            None if self.conn.is_handshaking() => format!("TLS handshake failed: {err}"),
            None => format!("TLS failed: {err}"),
        }
    }
}

/// Why the server's certificate was refused, in words (`expected`: what it must be valid
/// for, the SNI name or the address); `None` for a failure that is not the certificate's.
fn refusal(err: &rustls::Error, expected: &str) -> Option<String> {
    use CertificateError as C;
    let rustls::Error::InvalidCertificate(err) = err else { return None };
    Some(match err {
        C::NotValidForName => format!("certificate is for another name, not {expected}"),
        C::NotValidForNameContext { presented, .. } => match names(presented) {
            Some(names) => format!("certificate is for another name ({names}), not {expected}"),
            None => format!("certificate is for another name, not {expected}"),
        },
        C::Expired | C::ExpiredContext { .. } => "certificate expired".to_owned(),
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate not valid yet".to_owned(),
        C::UnknownIssuer => "unknown issuer (not signed by a trusted CA)".to_owned(),
        C::BadEncoding => "certificate is malformed".to_owned(),
        C::BadSignature => "certificate's signature is not its issuer's".to_owned(),
        C::Revoked => "certificate revoked".to_owned(),
        C::UnknownRevocationStatus | C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "certificate's revocation status unknown".to_owned()
        }
        C::UnhandledCriticalExtension => "certificate has a critical extension not understood".to_owned(),
        C::UnsupportedSignatureAlgorithmContext { .. } | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "certificate signed with an unsupported algorithm".to_owned()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "certificate is not for a TLS server (its extended key usage)".to_owned()
        }
        C::InvalidOcspResponse => "certificate's OCSP response is invalid".to_owned(),
        C::Other(OtherError(other)) => {
            if other.downcast_ref::<SelfSigned>().is_some() {
                "self-signed (not signed by a trusted CA)".to_owned()
            } else if let Some(webpki) = other.downcast_ref::<webpki::Error>() {
                pki_refusal(webpki)
            } else {
                format!("certificate refused: {other}")
            }
        }
        // The deprecated variant and any later one.
        other => format!("certificate refused: {}", spaced(other)),
    })
}

/// A refusal of rustls's verifier that rustls passes on as `Other`, in words.
fn pki_refusal(err: &webpki::Error) -> String {
    use webpki::Error as E;
    match err {
        E::CaUsedAsEndEntity => "certificate is a CA, not a server certificate".to_owned(),
        E::EndEntityUsedAsCa => "certificate's issuer is not a CA".to_owned(),
        E::CertDistrusted => "certificate's key is distrusted".to_owned(),
        E::PathLenConstraintViolated => "certificate chain longer than its CA allows".to_owned(),
        E::NameConstraintViolation => "certificate's names are outside its CA's name constraints".to_owned(),
        E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumNameConstraintComparisonsExceeded => "certificate chain too long or too complex".to_owned(),
        E::UnsupportedCertVersion => "certificate is not an X.509 v3 certificate".to_owned(),
        E::UnsupportedCriticalExtension => "certificate has a critical extension not understood".to_owned(),
        E::EmptyEkuExtension => "certificate's extended key usage is empty".to_owned(),
        E::MalformedExtensions
        | E::ExtensionValueInvalid
        | E::MalformedDnsIdentifier
        | E::MalformedNameConstraint
        | E::InvalidSerialNumber
        | E::InvalidNetworkMaskConstraint
        | E::SignatureAlgorithmMismatch => format!("certificate is malformed ({})", spaced(err)),
        other => format!("certificate refused: {}", spaced(other)),
    }
}

/// The names a certificate holds, as rustls's verifier lists them (`DnsName("a.example")`,
/// `IpAddress(192.0.2.1)`): the DNS names and addresses, the first 4, `None` if none.
fn names(presented: &[String]) -> Option<String> {
    let mut names: Vec<String> = presented
        .iter()
        .filter_map(|name| {
            if let Some(dns) = name.strip_prefix("DnsName(\"") {
                return Some(dns.strip_suffix("\")")?.to_owned());
            }
            // Its own spelling of an IPv6 address (`0::1`) said the usual way.
            let ip: IpAddr = name.strip_prefix("IpAddress(")?.strip_suffix(')')?.parse().ok()?;
            Some(ip.to_string())
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    let more = names.len() > 4;
    names.truncate(4);
    Some(names.join(", ") + if more { ", ..." } else { "" })
}

/// An error's variant name in words: `CaUsedAsEndEntity` becomes `ca used as end entity`.
fn spaced(err: &impl std::fmt::Debug) -> String {
    let debug = format!("{err:?}");
    let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// The socket as rustls writes to it: `send` with `MSG_NOSIGNAL`, never raising SIGPIPE.
struct NoSignal<'a>(&'a TcpStream);

impl Write for NoSignal<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(self.0, bytes, rustix::net::SendFlags::NOSIGNAL)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::super::Http;
    use super::*;
    use crate::probe::url::HttpTarget;
    use crate::probe::Verdict;
    use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use rustls::{ServerConfig, ServerConnection, StreamOwned};
    use rustls_pki_types::PrivateKeyDer;
    use std::net::{SocketAddr, TcpListener};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    /// A test CA, its certificate in a PEM file of its own.
    struct Ca {
        params: CertificateParams,
        key: KeyPair,
        file: PathBuf,
    }

    impl Ca {
        fn new() -> Ca {
            static MADE: AtomicUsize = AtomicUsize::new(0);
            let key = KeyPair::generate().unwrap();
            let n = MADE.fetch_add(1, Ordering::SeqCst);
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, format!("exabgp-healthcheck test CA {n}"));
            let cert = params.self_signed(&key).unwrap();
            let file = std::env::temp_dir().join(format!("exabgp-healthcheck-tls-{}-{n}.pem", std::process::id()));
            std::fs::write(&file, cert.pem()).unwrap();
            Ca { params, key, file }
        }

        /// A leaf certificate for `names` (IP addresses become IP SANs), and its key.
        fn leaf(&self, names: &[&str], change: impl FnOnce(&mut CertificateParams)) -> Leaf {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>()).unwrap();
            change(&mut params);
            let cert = params.signed_by(&key, &Issuer::from_params(&self.params, &self.key)).unwrap();
            (vec![cert.der().clone()], PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        }
    }

    impl Drop for Ca {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.file);
        }
    }

    type Leaf = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

    /// What the TLS server saw: the SNI and the request's head, or why the handshake failed.
    type Seen = JoinHandle<Result<(Option<String>, Vec<u8>), String>>;

    /// A TLS server on `ip` for one connection: handshake, read the request's head, write
    /// `answer`, close_notify. Bounded: 10 s for everything.
    fn tls_server(ip: &str, (chain, key): Leaf, answer: impl Into<Vec<u8>>) -> (SocketAddr, Seen) {
        let answer = answer.into();
        let provider = Arc::new(crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        raw_server(ip, move |stream| {
            let conn = ServerConnection::new(config).unwrap();
            let mut tls = StreamOwned::new(conn, stream);
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => request.push(byte[0]),
                    Ok(_) => return Err("closed".to_owned()),
                    Err(err) => return Err(err.to_string()),
                }
            }
            let sni = tls.conn.server_name().map(str::to_owned);
            let _ = tls.write_all(&answer);
            tls.conn.send_close_notify();
            let _ = tls.flush();
            Ok((sni, request))
        })
    }

    /// A server on `ip` for one connection, handed to `serve` as a blocking stream.
    fn raw_server<T: Send + 'static>(
        ip: &str,
        serve: impl FnOnce(TcpStream) -> T + Send + 'static,
    ) -> (SocketAddr, JoinHandle<T>) {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let thread = thread::spawn(move || {
            let stream = super::super::tests::accept(&listener);
            serve(stream)
        });
        (addr, thread)
    }

    fn spec(addr: SocketAddr, tls: Tls, roots: Option<PathBuf>) -> Http {
        Http {
            url: format!("https://{addr}/health"),
            target: HttpTarget {
                addr,
                host: addr.to_string(),
                path: "/health".to_owned(),
                status: None,
                body: None,
                tls: Some(tls),
            },
            timeout: Some(Duration::from_secs(10)),
            roots,
        }
    }

    /// The check of `addr` over TLS, trusting `ca`, with `name` in SNI.
    fn trusting(addr: SocketAddr, ca: &Ca, name: Option<&str>) -> Http {
        spec(addr, Tls { insecure: false, sni: name.map(str::to_owned), min_days: None }, Some(ca.file.clone()))
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready";
    const NAMES: [&str; 4] = ["127.0.0.1", "::1", "localhost", "www.example.test"];

    #[test]
    fn a_200_over_tls_verified_against_the_roots() {
        let ca = Ca::new();
        for ip in ["127.0.0.1", "::1"] {
            let (addr, seen) = tls_server(ip, ca.leaf(&NAMES, |_| {}), OK);
            let verdict = run(&trusting(addr, &ca, None));
            assert!(verdict.ok && verdict.detail.starts_with("status 200, "), "{ip}: {verdict:?}");
            let (sni, request) = seen.join().unwrap().unwrap();
            assert_eq!(sni, None, "no SNI for an IP address");
            let expected = format!(
                "GET /health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: exabgp-healthcheck/{}\r\n\
                 Accept: */*\r\nConnection: close\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            );
            assert_eq!(String::from_utf8_lossy(&request), expected);
        }
        // http's reasons, over TLS.
        let (addr, seen) = tls_server("127.0.0.1", ca.leaf(&NAMES, |_| {}), "HTTP/1.1 503 Busy\r\n\r\nbusy");
        assert_eq!(run(&trusting(addr, &ca, None)), Verdict::fail("status 503"));
        seen.join().unwrap().unwrap();
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nrea\r\n2\r\ndy\r\n0\r\n\r\n";
        let (addr, seen) = tls_server("127.0.0.1", ca.leaf(&NAMES, |_| {}), chunked);
        let mut http = trusting(addr, &ca, Some("localhost"));
        http.target.body = Some("ready".to_owned());
        let verdict = run(&http);
        assert!(verdict.ok, "{verdict:?}");
        assert_eq!(seen.join().unwrap().unwrap().0.as_deref(), Some("localhost"));
    }

    #[test]
    fn a_long_body_over_tls_is_read_only_to_64_kib() {
        let ca = Ca::new();
        let body = format!("{}ready", "x".repeat(300 * 1024));
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        let (addr, seen) = tls_server("127.0.0.1", ca.leaf(&NAMES, |_| {}), answer);
        let mut http = trusting(addr, &ca, None);
        http.target.body = Some("ready".to_owned());
        assert_eq!(run(&http).detail, "body does not contain \"ready\" in its first 64 KiB");
        let _ = seen.join().unwrap();
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
        let (addr, seen) = tls_server("::1", ca.leaf(&NAMES, |_| {}), answer);
        assert_eq!(run(&trusting(addr, &ca, None)).detail, "closed by the server after 5 of 10 body bytes");
        seen.join().unwrap().unwrap();
    }

    #[test]
    fn insecure_takes_a_self_signed_certificate_that_verification_refuses() {
        let ca = Ca::new();
        let self_signed = || {
            let made = rcgen::generate_simple_self_signed(vec!["www.example.test".to_owned()]).unwrap();
            (vec![made.cert.der().clone()], PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into()))
        };
        let insecure = Tls { insecure: true, sni: None, min_days: None };
        for ip in ["127.0.0.1", "::1"] {
            let (addr, seen) = tls_server(ip, self_signed(), OK);
            let verdict = run(&spec(addr, insecure.clone(), None));
            assert!(verdict.ok, "{verdict:?}");
            seen.join().unwrap().unwrap();
        }
        let (addr, seen) = tls_server("127.0.0.1", self_signed(), OK);
        let verdict = run(&trusting(addr, &ca, Some("www.example.test")));
        assert_eq!(verdict, Verdict::fail("self-signed (not signed by a trusted CA)"));
        assert!(seen.join().unwrap().is_err(), "the server saw the handshake fail");
        // Signed by another CA, even one of the same kind.
        let unknown = Verdict::fail("unknown issuer (not signed by a trusted CA)");
        let other = Ca::new();
        let (addr, seen) = tls_server("127.0.0.1", other.leaf(&NAMES, |_| {}), OK);
        assert_eq!(run(&trusting(addr, &ca, None)), unknown);
        assert!(seen.join().unwrap().is_err());
    }

    #[test]
    fn the_certificate_must_be_valid_for_the_address_or_the_sni_name() {
        let ca = Ca::new();
        let leaf = || ca.leaf(&["www.example.test"], |_| {});
        let (addr, seen) = tls_server("127.0.0.1", leaf(), OK);
        let verdict = run(&trusting(addr, &ca, None));
        assert_eq!(verdict.detail, "certificate is for another name (www.example.test), not 127.0.0.1");
        assert!(seen.join().unwrap().is_err());
        let (addr, seen) = tls_server("::1", leaf(), OK);
        let verdict = run(&trusting(addr, &ca, Some("api.example.test")));
        assert_eq!(verdict.detail, "certificate is for another name (www.example.test), not api.example.test");
        assert!(seen.join().unwrap().is_err());
        // #sni= selects the name: sent, and verified.
        let (addr, seen) = tls_server("::1", leaf(), OK);
        let verdict = run(&trusting(addr, &ca, Some("www.example.test")));
        assert!(verdict.ok, "{verdict:?}");
        assert_eq!(seen.join().unwrap().unwrap().0.as_deref(), Some("www.example.test"));
    }

    #[test]
    fn min_days_fails_a_certificate_expiring_sooner_saying_when() {
        let ca = Ca::new();
        // Midnight UTC 4 days from today: between 3 and 4 days left.
        let day = std::time::SystemTime::now() + Duration::from_secs(4 * 86_400);
        let text = humantime::format_rfc3339_seconds(day).to_string();
        let number = |range: std::ops::Range<usize>| text[range].parse::<u8>().unwrap();
        let year: i32 = text[..4].parse().unwrap();
        let (month, date) = (number(5..7), number(8..10));
        let soon = || {
            ca.leaf(&NAMES, |params| {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(year, month, date);
            })
        };
        let with = |addr, days| {
            let mut http = trusting(addr, &ca, None);
            http.target.tls.as_mut().unwrap().min_days = Some(days);
            http
        };
        let (addr, seen) = tls_server("127.0.0.1", soon(), OK);
        let expected = format!("certificate expires in 3 days, on {}T00:00:00Z (#min-days=7)", &text[..10]);
        assert_eq!(run(&with(addr, 7)), Verdict::fail(expected));
        seen.join().unwrap().unwrap();
        let (addr, seen) = tls_server("::1", soon(), OK);
        let verdict = run(&with(addr, 3));
        assert!(verdict.ok && verdict.detail.starts_with("status 200, certificate expires in 3 days, "), "{verdict:?}");
        seen.join().unwrap().unwrap();
        // An answer that fails anyway says its own reason first.
        let (addr, seen) = tls_server("127.0.0.1", soon(), "HTTP/1.1 503 Busy\r\n\r\n");
        assert_eq!(run(&with(addr, 7)), Verdict::fail("status 503"));
        seen.join().unwrap().unwrap();
        // #insecure takes an expired certificate, but not with #min-days.
        let expired = ca.leaf(&NAMES, |params| {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        });
        let (addr, seen) = tls_server("127.0.0.1", expired, OK);
        let insecure = Tls { insecure: true, sni: None, min_days: Some(1) };
        assert_eq!(run(&spec(addr, insecure, None)), Verdict::fail("certificate expired on 2021-01-01T00:00:00Z"));
        seen.join().unwrap().unwrap();
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let ca = Ca::new();
        let expired = ca.leaf(&NAMES, |params| {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        });
        let (addr, seen) = tls_server("127.0.0.1", expired, OK);
        assert_eq!(run(&trusting(addr, &ca, None)), Verdict::fail("certificate expired"));
        assert!(seen.join().unwrap().is_err());
    }

    #[test]
    fn a_not_yet_valid_certificate_or_a_ca_served_as_the_server_s_is_refused_in_words() {
        let ca = Ca::new();
        let early = ca.leaf(&NAMES, |params| {
            params.not_before = date_time_ymd(2999, 1, 1);
            params.not_after = date_time_ymd(3000, 1, 1);
        });
        let (addr, seen) = tls_server("127.0.0.1", early, OK);
        assert_eq!(run(&trusting(addr, &ca, None)), Verdict::fail("certificate not valid yet"));
        assert!(seen.join().unwrap().is_err());
        // The CA's own certificate, trusted, valid for the name, but a CA's.
        let mut params = ca.params.clone();
        params.subject_alt_names = vec![rcgen::SanType::DnsName("www.example.test".try_into().unwrap())];
        let cert = params.self_signed(&ca.key).unwrap();
        std::fs::write(&ca.file, cert.pem()).unwrap();
        let chain = (vec![cert.der().clone()], PrivateKeyDer::Pkcs8(ca.key.serialize_der().into()));
        let (addr, seen) = tls_server("::1", chain, OK);
        let verdict = run(&trusting(addr, &ca, Some("www.example.test")));
        assert_eq!(verdict, Verdict::fail("certificate is a CA, not a server certificate"));
        assert!(seen.join().unwrap().is_err());
    }

    #[test]
    fn every_refusal_of_the_certificate_is_said_in_words() {
        use rustls::Error as R;
        use CertificateError as C;
        let said = |err: C| refusal(&R::InvalidCertificate(err), "www.example.test").unwrap();
        let other = |err: webpki::Error| said(C::Other(OtherError(Arc::new(err))));
        let time = UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000));
        let name = ServerName::try_from("www.example.test").unwrap();
        for (err, words) in [
            (C::Expired, "certificate expired"),
            (C::ExpiredContext { time, not_after: time }, "certificate expired"),
            (C::NotValidYet, "certificate not valid yet"),
            (C::NotValidYetContext { time, not_before: time }, "certificate not valid yet"),
            (C::UnknownIssuer, "unknown issuer (not signed by a trusted CA)"),
            (C::NotValidForName, "certificate is for another name, not www.example.test"),
            (
                C::NotValidForNameContext {
                    expected: name.clone(),
                    presented: vec!["DnsName(\"a.example\")".to_owned(), "IpAddress(0::1)".to_owned()],
                },
                "certificate is for another name (a.example, ::1), not www.example.test",
            ),
            (
                C::NotValidForNameContext { expected: name.clone(), presented: vec!["DirectoryName".to_owned()] },
                "certificate is for another name, not www.example.test",
            ),
            (
                C::NotValidForNameContext {
                    expected: name,
                    presented: (1..=6).map(|n| format!("DnsName(\"{n}.example\")")).collect(),
                },
                "certificate is for another name (1.example, 2.example, 3.example, 4.example, ...), \
                 not www.example.test",
            ),
            (C::BadEncoding, "certificate is malformed"),
            (C::BadSignature, "certificate's signature is not its issuer's"),
            (C::Revoked, "certificate revoked"),
            (C::InvalidPurpose, "certificate is not for a TLS server (its extended key usage)"),
            (C::Other(OtherError(Arc::new(SelfSigned))), "self-signed (not signed by a trusted CA)"),
            (C::ApplicationVerificationFailure, "certificate refused: application verification failure"),
        ] {
            assert_eq!(said(err), words);
        }
        for (err, words) in [
            (webpki::Error::CaUsedAsEndEntity, "certificate is a CA, not a server certificate"),
            (webpki::Error::EndEntityUsedAsCa, "certificate's issuer is not a CA"),
            (webpki::Error::UnsupportedCertVersion, "certificate is not an X.509 v3 certificate"),
            (webpki::Error::MalformedExtensions, "certificate is malformed (malformed extensions)"),
            (webpki::Error::MaximumPathDepthExceeded, "certificate chain too long or too complex"),
            // The fallback: the variant's name, in words.
            (webpki::Error::UnsupportedDeltaCrl, "certificate refused: unsupported delta crl"),
        ] {
            assert_eq!(other(err), words);
        }
        let io = std::io::Error::other("the verifier's own words");
        assert_eq!(said(C::Other(OtherError(Arc::new(io)))), "certificate refused: the verifier's own words");
        // Not the certificate's: the caller says it.
        assert_eq!(refusal(&R::DecryptError, "www.example.test"), None);
    }

    #[test]
    fn a_server_that_never_finishes_the_handshake_is_cut_at_the_timeout() {
        let ca = Ca::new();
        let (addr, seen) = raw_server("127.0.0.1", |mut stream| {
            // Read the ClientHello and what follows, answer nothing, until the check closes.
            let _ = stream.read_to_end(&mut Vec::new());
        });
        let mut http = trusting(addr, &ca, None);
        http.timeout = Some(Duration::from_millis(200));
        let started = Instant::now();
        let verdict = run(&http);
        assert_eq!(verdict, Verdict::timeout("TLS handshake not finished within 200ms"));
        assert!(started.elapsed() < Duration::from_secs(5));
        seen.join().unwrap();
    }

    #[test]
    fn garbage_or_a_close_instead_of_tls_is_a_handshake_failure() {
        let ca = Ca::new();
        for garbage in ["SSH-2.0-OpenSSH_9.6\r\n", "HTTP/1.1 400 Bad Request\r\n\r\n"] {
            let (addr, seen) = raw_server("127.0.0.1", move |mut stream| {
                let _ = stream.read(&mut [0u8; 4096]);
                let _ = stream.write_all(garbage.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            });
            let verdict = run(&trusting(addr, &ca, None));
            assert!(!verdict.ok && verdict.detail.starts_with("TLS handshake failed: "), "{garbage:?}: {verdict:?}");
            seen.join().unwrap();
        }
        let (addr, seen) = raw_server("::1", |mut stream| {
            let _ = stream.read(&mut [0u8; 4096]);
        });
        let verdict = run(&trusting(addr, &ca, None));
        assert_eq!(verdict.detail, "TLS handshake failed: closed by the server");
        seen.join().unwrap();
    }

    #[test]
    fn roots_that_cannot_be_read_fail_the_check_at_start() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let verify = Tls { insecure: false, sni: None, min_days: None };
        let missing = Some("/nonexistent/roots.pem".into());
        let verdict = spec(addr, verify.clone(), missing).start().err().unwrap();
        assert!(
            verdict.detail.starts_with("cannot read the trusted certificates /nonexistent/roots.pem: "),
            "{verdict:?}"
        );
        let empty = std::env::temp_dir().join(format!("exabgp-healthcheck-tls-{}-empty.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let verdict = spec(addr, verify, Some(empty.clone())).start().err().unwrap();
        std::fs::remove_file(&empty).unwrap();
        assert!(verdict.detail.ends_with(": no certificate in it"), "{verdict:?}");
    }
}
