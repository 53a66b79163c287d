//! TLS for the probes: trust (system roots or a `ca_file`), the handshake, and what the
//! server's certificate says (who it is for, days to expiry), with an administrator's hint
//! for each way verification fails.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
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

/// The trust a probe uses.
pub struct Trust {
    /// The `ca_file` setting as written, and where it is under `--root`.
    pub ca_file: Option<(String, std::path::PathBuf)>,
    /// `openssl_verify_mode = "none"`: accept any certificate (warned about).
    pub verify: bool,
}

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
        return Ok(Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth(),
        ));
    }
    let mut roots = RootCertStore::empty();
    match &trust.ca_file {
        Some((written, path)) => {
            let certs = read_pem(path).map_err(|why| {
                fail(
                    format!("cannot use ca_file `{written}`: {why}"),
                    "point `ca_file` at a PEM file holding the CA certificate(s) that signed the server's certificate",
                )
            })?;
            for c in certs {
                roots.add(c).map_err(|e| {
                    fail(
                        format!("ca_file `{written}` holds an unusable certificate: {e}"),
                        "use a PEM CA certificate",
                    )
                })?;
            }
        }
        None => {
            roots = system_roots().clone();
            if roots.is_empty() {
                return Err(fail(
                    "no trusted CA certificates found on this system",
                    "install `ca-certificates`, or set `ca_file` to the CA that signed the server's certificate",
                ));
            }
        }
    }
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// The system CA store, read once per process (`check` builds several configurations).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: std::sync::OnceLock<RootCertStore> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
        roots
    })
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not PEM ({e})"))?;
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
        .map_err(|e| classify(&e, host))?;
    let (_, conn) = stream.get_ref();
    let detail = format!(
        "{} {}",
        conn.protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default()
            .replace("TLSv1_", "TLS 1."),
        conn.negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default()
    );
    Ok((stream, detail.trim().to_string()))
}

/// An administrator's reading of a failed handshake.
fn classify(e: &std::io::Error, host: &str) -> Failure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => fail(
                "the server's certificate has expired",
                "renew the certificate on the mail server; until then mail_room cannot connect",
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => fail(
                format!("the server's certificate is not valid for `{host}`"),
                "set the host to a name the certificate covers (see its subjectAltName), or fix the certificate",
            ),
            CertificateError::UnknownIssuer => fail(
                "the server's certificate is not signed by a trusted CA",
                "set `ca_file` to the CA certificate that signed it (a private CA), or install the CA in the system store",
            ),
            other => fail(format!("the server's certificate was refused: {other:?}"), "check the certificate on the mail server"),
        },
        Some(other) => fail(format!("TLS handshake failed: {other}"), "check that this port speaks TLS (993/465 implicit TLS; 143/587 use STARTTLS)"),
        None => fail(
            format!("TLS handshake failed: {e}"),
            "check that this port speaks TLS (993/465 implicit TLS; 143/587 use STARTTLS)",
        ),
    }
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
    let names: Vec<String> = x509
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|n| n.to_string())
                .collect()
        })
        .unwrap_or_default();
    let trusted_by = match (&trust.ca_file, trust.verify) {
        (_, false) => "NOT verified (openssl_verify_mode = \"none\")".to_string(),
        (Some((written, _)), true) => format!("trusted via ca_file {written}"),
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
