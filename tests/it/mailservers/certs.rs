//! The test PKI: a CA and the server certificates it signed, made once per test process.

use super::*;

/// The test PKI: a CA and three server certificates it signed.
pub struct Certs {
    /// Where everything lives (removed when the test process exits).
    pub dir: PathBuf,
    /// The CA certificate (PEM): what a client is given as `ca_file`.
    pub ca: PathBuf,
    /// `localhost`, `127.0.0.1`, `::1`; valid now (for ten years).
    pub good: CertPair,
    /// The same names, valid only in January 2020.
    pub expired: CertPair,
    /// Valid now, but only for `wrong.example.com`.
    pub wrong_name: CertPair,
    /// Self-signed by `openssl req -x509` (so CA:TRUE, the default), for `localhost` and
    /// `127.0.0.1`: trusted only by listing the certificate itself as `ca_file`.
    pub self_signed: CertPair,
    /// Self-signed with `basicConstraints = CA:FALSE`, for `localhost` and `127.0.0.1`.
    pub self_signed_leaf: CertPair,
    /// Another self-signed certificate with the subject of [`Certs::self_signed`] (its own
    /// key, so other bytes): a look-alike anchor.
    pub self_signed_twin: CertPair,
}

/// A certificate (PEM) and its private key (PEM, unencrypted, world-readable).
pub struct CertPair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The certificates, made once per test process with the `openssl` CLI.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(make_certs)
}

const CA_CNF: &str = "\
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
[any]
commonName = supplied
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[wrong_name]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example.com
";

fn make_certs() -> Certs {
    let tmp = tempfile::Builder::new()
        .prefix("toolctl-certs-")
        .tempdir()
        .expect("create the certificates dir");
    let dir = tmp.keep();
    remove_at_exit(&dir);
    chmod(&dir, 0o755);
    fs::create_dir(dir.join("issued")).expect("mkdir issued");
    fs::write(dir.join("ca.cnf"), CA_CNF).expect("write ca.cnf");
    fs::write(dir.join("index.txt"), "").expect("write index.txt");
    fs::write(dir.join("serial"), "1000\n").expect("write serial");

    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "3650",
        "-subj",
        "/O=toolctl tests/CN=toolctl test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
    ]);
    openssl(&dir, &ca);

    // name, CN, extensions section, validity
    let servers: [(&str, &str, &str, &[&str]); 3] = [
        ("good", "localhost", "server", &["-days", "3650"]),
        (
            "expired",
            "localhost",
            "server",
            &[
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200201000000Z",
            ],
        ),
        (
            "wrong_name",
            "wrong.example.com",
            "wrong_name",
            &["-days", "3650"],
        ),
    ];
    for (name, cn, ext, validity) in servers {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subj = format!("/O=toolctl tests/CN={cn}");
        let mut req = vec!["req", "-new"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        openssl(&dir, &req);
        let mut sign = vec![
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-in",
            &csr,
            "-out",
            &pem,
            "-extensions",
            ext,
        ];
        sign.extend(validity);
        openssl(&dir, &sign);
    }
    let mut self_signed = vec!["req", "-x509"];
    self_signed.extend(ec);
    self_signed.extend([
        "-keyout",
        "self_signed.key",
        "-out",
        "self_signed.pem",
        "-days",
        "3650",
        "-subj",
        "/O=toolctl tests/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]);
    openssl(&dir, &self_signed);
    let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    let leaf: &[&str] = &[
        "-addext",
        san,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ];
    let twin: &[&str] = &["-addext", san];
    for (name, extra) in [("self_signed_leaf", leaf), ("self_signed_twin", twin)] {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut req = vec!["req", "-x509"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &pem, "-days", "3650"]);
        req.extend(["-subj", "/O=toolctl tests/CN=localhost"]);
        req.extend(extra);
        openssl(&dir, &req);
    }
    for entry in fs::read_dir(&dir).expect("read the certificates dir") {
        let path = entry.expect("dir entry").path();
        if path.is_file() {
            chmod(&path, 0o644); // the servers' unprivileged processes read them too
        }
    }
    let pair = |name: &str| CertPair {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
    };
    Certs {
        ca: dir.join("ca.pem"),
        good: pair("good"),
        expired: pair("expired"),
        wrong_name: pair("wrong_name"),
        self_signed: pair("self_signed"),
        self_signed_leaf: pair("self_signed_leaf"),
        self_signed_twin: pair("self_signed_twin"),
        dir,
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run openssl (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "openssl {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes `dir` when the test process exits normally (statics are never dropped).
fn remove_at_exit(dir: &Path) {
    static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static REGISTERED: OnceLock<()> = OnceLock::new();
    extern "C" fn cleanup() {
        if let Ok(dirs) = DIRS.lock() {
            for d in dirs.iter() {
                let _ = fs::remove_dir_all(d);
            }
        }
    }
    DIRS.lock().unwrap().push(dir.to_path_buf());
    REGISTERED.get_or_init(|| {
        // SAFETY: registers a plain function; it only touches a static.
        unsafe { libc::atexit(cleanup) };
    });
}
