//! TLS for the probes: trust (system roots or a `ca_file`), the handshake, and what the
//! server's certificate says (who it is for, days to expiry), with an administrator's hint
//! for each way verification fails.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{fail, Failure};

/// Days below which a certificate's coming expiry is a warning.
pub const EXPIRY_WARN_DAYS: i64 = 14;

/// The trust a probe uses: decided in the model ([`crate::model::Security::trust`],
/// [`crate::model::Relay::trust`]), the same decision the renderers use.
pub use crate::model::Trust;

/// A rustls client configuration for `trust`.
pub fn config(trust: &Trust) -> Result<Arc<ClientConfig>, Failure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            fail(
                format!("TLS set-up failed: {e}"),
                "report this as a toolctl bug",
            )
        })?;
    if !trust.verify {
        return Ok(one_connection(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth(),
        ));
    }
    let mut roots = RootCertStore::empty();
    let mut pinned = Vec::new();
    match &trust.ca_file {
        Some((written, path)) => {
            let certs = read_pem(path).map_err(|why| {
                fail(
                    format!("cannot use ca_file `{written}`: {why}"),
                    "point `ca_file` at a PEM file holding the CA certificate(s) that signed the server's certificate",
                )
            })?;
            for c in certs {
                roots.add(c.clone()).map_err(|_| {
                    fail(
                        format!("ca_file `{written}` holds a certificate that cannot be parsed"),
                        "use PEM certificates (`openssl x509 -in FILE -noout -text` shows whether one is readable)",
                    )
                })?;
                pinned.push(c);
            }
        }
        None => {
            let (store, anchors) = system_roots();
            roots = store.clone();
            // OpenSSL (and so Ruby, and mail_room) accepts a server certificate that is
            // itself a trust anchor of the store, byte for byte: the same rule as `ca_file`.
            pinned = anchors.clone();
            if roots.is_empty() {
                return Err(fail(
                    "no trusted CA certificates found on this system",
                    trust.unknown_issuer_hint.clone().unwrap_or_else(|| {
                        "install `ca-certificates`, or set `ca_file` to the CA that signed the server's certificate".into()
                    }),
                ));
            }
        }
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| {
            fail(
                format!("TLS set-up failed: {e}"),
                "report this as a toolctl bug",
            )
        })?;
    let unknown_issuer_hint = trust.unknown_issuer_hint.clone().unwrap_or_else(|| {
        "set `ca_file` to the CA certificate that signed it (a private CA), or install the CA in the system store".to_string()
    });
    Ok(one_connection(
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier {
                inner,
                pinned,
                ca_file: trust.ca_file.is_some(),
                unknown_issuer_hint,
            }))
            .with_no_client_auth(),
    ))
}

/// A probe makes one connection per configuration: no session cache (rustls allocates
/// one of 256 entries by default) and no tickets kept from the server.
fn one_connection(mut config: ClientConfig) -> Arc<ClientConfig> {
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// The system CA store (`SSL_CERT_FILE` and `SSL_CERT_DIR`, as OpenSSL reads them), read
/// once per process (`check` builds several configurations): the trust anchors, and their
/// certificates as read, for the byte-identical end-entity rule.
fn system_roots() -> &'static (RootCertStore, Vec<CertificateDer<'static>>) {
    static ROOTS: std::sync::OnceLock<(RootCertStore, Vec<CertificateDer<'static>>)> =
        std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let mut anchors = Vec::new();
        for c in rustls_native_certs::load_native_certs().certs {
            if roots.add(c.clone()).is_ok() {
                anchors.push(c);
            }
        }
        (roots, anchors)
    })
}

/// Whether `cert` is, byte for byte, a certificate of the system store.
fn in_system_store(cert: &[u8]) -> bool {
    system_roots().1.iter().any(|c| c.as_ref() == cert)
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    // Capped, regular files only: a FIFO or a device as `ca_file` must not hang the probe.
    let bytes = match crate::fsutil::read_capped(path, crate::fsutil::FILE_CAP) {
        Ok(Some(b)) => b,
        Ok(None) => return Err("no such file".into()),
        Err(crate::fsutil::ReadFailure::Io(e)) => return Err(e.to_string()),
        Err(crate::fsutil::ReadFailure::NotRegular(kind)) => {
            return Err(format!("it is a {kind}, not a regular file"))
        }
        Err(crate::fsutil::ReadFailure::TooLarge(cap)) => {
            return Err(format!("it is larger than {} MiB", cap >> 20))
        }
    };
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| "it is not a PEM certificate file".to_string())?;
    if certs.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(certs)
}

/// Runs the TLS handshake over `tcp` for `host`.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
) -> Result<(TlsStream<TcpStream>, String), Failure> {
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        fail(
            format!("`{host}` is not a valid TLS server name"),
            "use the server's DNS name",
        )
    })?;
    let stream = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| classify(&e))?;
    let (_, conn) = stream.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS",
    };
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|c| c.suite().as_str())
        .unwrap_or("");
    let detail = format!("{version} {suite}");
    Ok((stream, detail.trim().to_string()))
}

/// A failed certificate check, in an administrator's words (carried through rustls
/// inside `CertificateError::Other`).
#[derive(Debug)]
struct Explained {
    detail: String,
    hint: String,
}

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Explained {}

fn explained(detail: impl Into<String>, hint: impl Into<String>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
        Explained {
            detail: detail.into(),
            hint: hint.into(),
        },
    ))))
}

/// The chain check of rustls (webpki), with two additions: a server certificate that is
/// itself a trust anchor, byte for byte, of `ca_file` or of the system store is accepted
/// (pinned: a self-signed certificate, which `openssl req -x509` makes CA:TRUE, used as its
/// own CA; its names and dates are still checked), as OpenSSL accepts it; and every refusal
/// is explained in plain words.
#[derive(Debug)]
struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    /// The certificates of `ca_file`, or of the system store.
    pinned: Vec<CertificateDer<'static>>,
    /// Whether `pinned` is `ca_file` (false: the system store).
    ca_file: bool,
    unknown_issuer_hint: String,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let e =
            match self
                .inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            let parsed = ParsedCertificate::try_from(end_entity)
                .map_err(|e| self.explain(e, end_entity, server_name))?;
            rustls::client::verify_server_name(&parsed, server_name)
                .map_err(|e| self.explain(e, end_entity, server_name))?;
            if let Ok((_, x509)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) {
                let t = now.as_secs() as i64;
                if t > x509.validity().not_after.timestamp() {
                    return Err(self.explain(
                        CertificateError::Expired.into(),
                        end_entity,
                        server_name,
                    ));
                }
                if t < x509.validity().not_before.timestamp() {
                    return Err(self.explain(
                        CertificateError::NotValidYet.into(),
                        end_entity,
                        server_name,
                    ));
                }
            }
            return Ok(ServerCertVerified::assertion());
        }
        Err(self.explain(e, end_entity, server_name))
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

impl Verifier {
    fn explain(
        &self,
        e: rustls::Error,
        cert: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
    ) -> rustls::Error {
        let parsed = x509_parser::parse_x509_certificate(cert.as_ref()).ok();
        let x509 = parsed.as_ref().map(|(_, c)| c);
        let host = server_name.to_str();
        let names = x509.map(names_of).unwrap_or_default();
        let until = x509
            .map(|c| format!(" on {}", c.validity().not_after))
            .unwrap_or_default();
        let from = x509
            .map(|c| format!(" until {}", c.validity().not_before))
            .unwrap_or_default();
        let issuer = x509
            .map(|c| format!(" (issuer: {})", c.issuer()))
            .unwrap_or_default();
        let c = match e {
            rustls::Error::InvalidCertificate(c) => c,
            other => return other,
        };
        let renew = "renew the certificate on the mail server; until then the service cannot connect either";
        match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => explained(
                format!("the server's certificate expired{until}"),
                renew,
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => explained(
                format!("the server's certificate is not valid{from}"),
                "check the clocks of this machine and of the server (`timedatectl`), or wait until the certificate becomes valid",
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => explained(
                format!(
                    "the server's certificate is not valid for `{host}`: it covers {}",
                    if names.is_empty() { "no names".to_string() } else { names.join(", ") }
                ),
                "set the host to a name the certificate covers (see its subjectAltName), or fix the certificate",
            ),
            CertificateError::UnknownIssuer => explained(
                format!("the server's certificate is not signed by a trusted CA{issuer}"),
                self.unknown_issuer_hint.clone(),
            ),
            CertificateError::BadSignature => explained(
                format!("the server's certificate has a bad signature: it was not signed by the CA it names{issuer}"),
                "check that the trusted CA is the one that signed the server's current certificate (a re-created CA has a new key)",
            ),
            CertificateError::Revoked => explained(
                "the server's certificate has been revoked",
                renew,
            ),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => explained(
                "the server's certificate is not for TLS servers (its extendedKeyUsage lacks serverAuth)",
                "issue the mail server a server certificate (extendedKeyUsage = serverAuth)",
            ),
            CertificateError::UnhandledCriticalExtension => explained(
                "the server's certificate has a critical extension that cannot be checked",
                "issue the mail server a certificate without unusual critical extensions",
            ),
            CertificateError::BadEncoding => explained(
                "the server's certificate cannot be parsed",
                "check the certificate file on the mail server (`openssl x509 -noout -text`)",
            ),
            #[allow(deprecated)]
            CertificateError::UnsupportedSignatureAlgorithm
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => explained(
                "the server's certificate is signed with an algorithm that is no longer accepted (such as SHA-1)",
                "re-issue the certificate with SHA-256 or better",
            ),
            CertificateError::Other(o) => self.explain_other(&o.0.to_string()),
            _ => explained(
                "the server's certificate failed verification",
                "look at it with `openssl s_client -connect HOST:PORT -showcerts` and compare it with the trusted CA",
            ),
        }
    }

    /// A failure rustls reports as `Other` (webpki's own errors), by its name.
    fn explain_other(&self, what: &str) -> rustls::Error {
        if what.contains("CaUsedAsEndEntity") {
            if self.ca_file {
                explained(
                    "the server presents a CA certificate (basicConstraints CA:TRUE) as its own, and it is not listed in the trusted CA file",
                    "add the server's certificate itself to `ca_file` (a self-signed certificate), or issue the server a certificate with CA:FALSE from the CA",
                )
            } else {
                explained(
                    "the server presents a CA certificate (basicConstraints CA:TRUE) as its own, and it is not in the system CA store",
                    "add that very certificate to the system store (`/usr/local/share/ca-certificates/`, then `update-ca-certificates`), or set `ca_file` to it where the service uses `ca_file`; or issue the server a certificate with CA:FALSE from a CA",
                )
            }
        } else if what.contains("UnsupportedCertVersion") {
            explained(
                "the server's certificate is an X.509 version 1 certificate, which is not accepted",
                "re-issue it as a version 3 certificate (with `-extfile` or `-addext` giving a subjectAltName)",
            )
        } else if what.contains("EndEntityUsedAsCa") {
            explained(
                "the server's chain uses a server certificate (CA:FALSE) as a CA",
                "fix the chain on the mail server: it must end at a real CA certificate",
            )
        } else {
            explained(
                "the server's certificate failed verification",
                "look at it with `openssl s_client -connect HOST:PORT -showcerts` and compare it with the trusted CA",
            )
        }
    }
}

/// An administrator's reading of a failed handshake.
fn classify(e: &std::io::Error) -> Failure {
    let port_hint = "check that this port speaks TLS (993/465 implicit TLS; 143/587 use STARTTLS)";
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(CertificateError::Other(o))) => {
            match o.0.downcast_ref::<Explained>() {
                Some(x) => fail(x.detail.clone(), x.hint.clone()),
                None => fail(
                    "the server's certificate failed verification",
                    "look at it with `openssl s_client -connect HOST:PORT -showcerts`",
                ),
            }
        }
        Some(rustls::Error::InvalidMessage(_)) => fail(
            "the server's answer is not TLS",
            port_hint,
        ),
        Some(rustls::Error::AlertReceived(_)) => fail(
            "the server ended the TLS handshake with an alert (no protocol version or cipher in common, or it wants a client certificate)",
            "check the server's TLS settings and its log",
        ),
        Some(rustls::Error::PeerIncompatible(_)) => fail(
            "the server's TLS is too old or too different to agree on (TLS 1.2 or newer is needed)",
            "enable TLS 1.2 or 1.3 on the mail server",
        ),
        Some(_) => fail("the TLS handshake failed", port_hint),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => fail(
                "the server closed the connection during the TLS handshake",
                port_hint,
            ),
            _ => fail(
                format!("the TLS handshake failed: {}", super::net::words(e)),
                port_hint,
            ),
        },
    }
}

/// The names a certificate covers, as an administrator writes them (`localhost,
/// 127.0.0.1`).
fn names_of(x509: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    x509.subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(b) => match b.len() {
                        4 => Some(
                            std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string(),
                        ),
                        16 => Some(
                            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string(),
                        ),
                        _ => None,
                    },
                    GeneralName::RFC822Name(m) => Some(m.to_string()),
                    GeneralName::URI(u) => Some(u.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The certificate step: subject, names and days to expiry, and a warning when the expiry
/// is near or verification was off.
pub fn inspect(stream: &TlsStream<TcpStream>, trust: &Trust) -> (String, Option<String>) {
    let (_, conn) = stream.get_ref();
    let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) else {
        return (
            "no certificate presented".into(),
            Some("the server sent no certificate".into()),
        );
    };
    let Ok((_, x509)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return ("certificate not parseable".into(), None);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = (x509.validity().not_after.timestamp() - now) / 86_400;
    let subject = x509.subject().to_string();
    let names = names_of(&x509);
    let trusted_by = match (&trust.ca_file, trust.verify) {
        (_, false) => "NOT verified (openssl_verify_mode = \"none\")".to_string(),
        (Some((written, path)), true) => {
            let listed = read_pem(path)
                .map(|certs| certs.iter().any(|c| c.as_ref() == cert.as_ref()))
                .unwrap_or(false);
            if listed {
                format!("trusted via ca_file {written} (pinned: the certificate itself is listed there)")
            } else {
                format!("trusted via ca_file {written}")
            }
        }
        (None, true) if in_system_store(cert.as_ref()) => {
            "trusted via the system CA store (pinned: the certificate itself is a trust anchor there)"
                .to_string()
        }
        (None, true) => "trusted via the system CA store".to_string(),
    };
    let detail = format!(
        "{subject}{}; expires in {days} days; {trusted_by}",
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    );
    let warn = if !trust.verify {
        Some("certificate verification is off: anyone on the path can read the password; set openssl_verify_mode = \"peer\"".into())
    } else if days < EXPIRY_WARN_DAYS {
        Some(format!(
            "the certificate expires in {days} days: renew it on the mail server"
        ))
    } else {
        None
    };
    (detail, warn)
}

/// Seconds until the server's certificate expires (negative once it has).
pub fn expiry_seconds(stream: &TlsStream<TcpStream>) -> Option<i64> {
    let (_, conn) = stream.get_ref();
    let cert = conn.peer_certificates()?.first()?;
    let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(x509.validity().not_after.timestamp() - now)
}

/// The `tls` step over `tcp`, then the certificate row: `None` when the handshake failed
/// (the probe already has its failed row).
pub async fn upgrade(
    p: &mut super::Probe,
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
    trust: &Trust,
) -> Option<TlsStream<TcpStream>> {
    let stream = p.step("tls", handshake(tcp, host, config)).await?;
    certificate_row(p, &stream, trust);
    Some(stream)
}

/// Records the certificate row of a probe: ok, or a warning when expiry is near or
/// verification is off.
pub fn certificate_row(p: &mut super::Probe, stream: &TlsStream<TcpStream>, trust: &Trust) {
    if let Some(left) = expiry_seconds(stream) {
        let (name, target) = (p.name.clone(), p.target.clone());
        p.measure(
            "tls_cert_expiry_seconds",
            &[("probe", &name), ("target", &target)],
            left as f64,
        );
    }
    let (detail, warn) = inspect(stream, trust);
    match warn {
        Some(w) => p.warn("certificate", detail, w),
        None => p.ok("certificate", detail),
    }
}

/// `openssl_verify_mode = "none"`: the handshake still checks signatures, not the chain.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
