//! Real mail servers for the probe tests: Dovecot 2.3 (IMAP, IMAPS, submission) and
//! Postfix 3.7 (SMTP with STARTTLS, SMTPS), from Debian's packages, on 127.0.0.1.
//!
//! Every [`Dovecot`] and [`Postfix`] is fully private: its own temporary directory (config,
//! `base_dir`, `state_dir`, queue, homes, logs), its own `instance_name` and its own ports, so
//! tests running in parallel threads never share anything but the certificates ([`certs`],
//! made once per test process). Both stop on `Drop`.
//!
//! Ports: each one is *reserved* first: a socket with `SO_REUSEADDR`, bound to
//! `127.0.0.1:0` but never listening, held until the server is stopped. The kernel hands
//! that port to nobody else (not to `bind(0)`, not to an explicit bind without
//! `SO_REUSEADDR`), while Dovecot and Postfix, which set `SO_REUSEADDR` on their listeners,
//! can still bind and listen on it. So there is no window between "pick a free port" and
//! "the server binds it"; a start that still fails with `Address already in use` is retried
//! with fresh ports.
//!
//! Mail flow: Postfix delivers mail for `example.test` itself, with its `virtual(8)` agent,
//! into the users' maildirs that Dovecot serves (Debian's `dovecot-lmtpd` is not among the
//! installed packages, so there is no LMTP). Dovecot submission relays to a private,
//! unauthenticated, 127.0.0.1-only listener of that Postfix (`submission_relay_port`), so
//! mail submitted to Dovecot arrives only once a [`Postfix`] has been started for it
//! (without one, AUTH works but `MAIL FROM` fails with `421 4.4.0 Failed to connect to relay
//! server`). Postfix authenticates clients through Dovecot's `auth-client` socket. Mail for
//! any other domain is accepted (from authenticated clients) and discarded.
//!
//! Log lines worth asserting on (Dovecot): `imap-login: Info: Login: user=<alice@example.test>,
//! method=PLAIN, …`, `imap-login: Info: Disconnected: Connection closed (no auth attempts in 0
//! secs): user=<>, …`, `auth: Info: passwd-file(alice@example.test,127.0.0.1,…): Password
//! mismatch`, `submission(alice@example.test)…: Info: Successfully relayed message: …`. In a
//! `starttls: false` instance the implicit-TLS listeners belong to services named
//! `imaps-login` and `submissions-login`, so their lines carry those prefixes.

#![allow(dead_code)] // not every test module uses every helper

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The users every [`Dovecot`] knows (Postfix knows them through Dovecot).
pub const ALICE: &str = "alice@example.test";
pub const ALICE_PASSWORD: &str = "alice-Pa55";
pub const BOB: &str = "bob@example.test";
pub const BOB_PASSWORD: &str = "bob-Pa55";

/// How long a server may take to become ready before the test fails (generous: CI
/// machines are slow and many instances start at once; a normal start takes well under 1 s).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts at starting a server when a port turns out to be taken.
const START_ATTEMPTS: usize = 3;

/// `nobody:nogroup`: the owner of the mail (Dovecot refuses uid 0 for mail).
const MAIL_UID: u32 = 65534;
const MAIL_GID: u32 = 65534;

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Dovecot
// ---------------------------------------------------------------------------------------

/// Which certificate a [`Dovecot`] presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    Good,
    Expired,
    WrongName,
    /// [`Certs::self_signed`].
    SelfSigned,
}

impl Tls {
    fn pair(self) -> &'static CertPair {
        let c = certs();
        match self {
            Tls::Good => &c.good,
            Tls::Expired => &c.expired,
            Tls::WrongName => &c.wrong_name,
            Tls::SelfSigned => &c.self_signed,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct DovecotOptions {
    pub tls: Tls,
    /// false: the plain IMAP and submission listeners do not offer STARTTLS (and answer the
    /// STARTTLS command with an error); the implicit-TLS listeners work as usual.
    pub starttls: bool,
    /// `disable_plaintext_auth = yes`, and a second plain IMAP listener on
    /// `127.0.0.2:`[`Dovecot::imap`] ([`Dovecot::LOGINDISABLED_HOST`]): Dovecot counts a
    /// client whose address equals its own as secure, so only there (the probe connects from
    /// 127.0.0.1) it advertises `LOGINDISABLED` on a connection without TLS.
    pub login_disabled: bool,
    /// `auth_failure_delay` in seconds (0: failed logins answer at once).
    pub auth_failure_delay: u32,
}

impl Default for DovecotOptions {
    fn default() -> DovecotOptions {
        DovecotOptions {
            tls: Tls::Good,
            starttls: true,
            login_disabled: false,
            auth_failure_delay: 0,
        }
    }
}

/// A running Dovecot: IMAP, IMAPS, submission, submissions on 127.0.0.1.
///
/// Users: `alice@example.test` / `alice-Pa55` (mailboxes INBOX and "Service Desk") and
/// `bob@example.test` / `bob-Pa55` (INBOX only). AUTH PLAIN, LOGIN and CRAM-MD5; plaintext
/// login is allowed (on loopback Dovecot allows it anyway). Failed logins answer after
/// ~0.5 s, with no growing penalty.
pub struct Dovecot {
    /// Plain IMAP (STARTTLS offered when `options.starttls`).
    pub imap: u16,
    /// IMAP over implicit TLS.
    pub imaps: u16,
    /// SMTP submission (STARTTLS offered when `options.starttls`), AUTH PLAIN LOGIN CRAM-MD5.
    pub submission: u16,
    /// SMTP submission over implicit TLS.
    pub submissions: u16,
    /// Dovecot's log (everything since startup: `auth_verbose`, `Login: user=<…>`,
    /// `Disconnected (no auth attempts …)`, …). [`Dovecot::log_text`] leaves out the lines
    /// of the harness's own readiness check.
    pub log: PathBuf,
    options: DovecotOptions,
    /// Where Postfix delivers: `<home>/<local part>/Maildir`.
    home: PathBuf,
    /// The auth-client socket Postfix authenticates through.
    auth_socket: PathBuf,
    /// The port Dovecot submission relays to (a [`Postfix`] listens there once started).
    relay_port: u16,
    postfix_started: AtomicBool,
    log_start: u64,
    child: Child,
    /// Port reservations, held until the server is gone.
    _ports: Vec<Reserved>,
    /// Last field: removed after the server has stopped.
    tmp: tempfile::TempDir,
}

impl Dovecot {
    /// Where a `login_disabled` instance advertises LOGINDISABLED (port [`Dovecot::imap`]).
    pub const LOGINDISABLED_HOST: &'static str = "127.0.0.2";

    /// Starts a private Dovecot and waits until it greets. Panics with its log on failure.
    pub fn start(opts: DovecotOptions) -> Dovecot {
        require_root();
        let started = Instant::now();
        for attempt in 1..=START_ATTEMPTS {
            match Dovecot::try_start(opts) {
                Ok(d) => {
                    if std::env::var_os("TOOLCTL_MAIL_TIMINGS").is_some() {
                        eprintln!("dovecot started in {:?}", started.elapsed());
                    }
                    return d;
                }
                Err(report) if report.port_taken && attempt < START_ATTEMPTS => continue,
                Err(report) => panic!("Dovecot did not start:\n{}", report.text),
            }
        }
        unreachable!()
    }

    fn try_start(opts: DovecotOptions) -> Result<Dovecot, StartFailure> {
        let pair = opts.tls.pair();
        let tmp = tempfile::Builder::new()
            .prefix("toolctl-dovecot-")
            .tempdir()
            .expect("create the Dovecot dir");
        let work = tmp.path().to_path_buf();
        chmod(&work, 0o755); // Dovecot's unprivileged processes must reach into it
        let ports: Vec<Reserved> = (0..5).map(|_| reserve_port()).collect();
        let [imap, imaps, submission, submissions, relay_port] =
            [0, 1, 2, 3, 4].map(|i| ports[i].port);

        let home = work.join("home");
        for (user, mailboxes) in [("alice", &["Service Desk"][..]), ("bob", &[][..])] {
            let maildir = home.join(user).join("Maildir");
            let mut dirs = vec![maildir.clone()];
            dirs.extend(mailboxes.iter().map(|m| maildir.join(format!(".{m}"))));
            for d in &dirs {
                for sub in ["cur", "new", "tmp"] {
                    fs::create_dir_all(d.join(sub)).expect("create a maildir");
                }
            }
            if !mailboxes.is_empty() {
                fs::write(maildir.join("subscriptions"), mailboxes.join("\n") + "\n")
                    .expect("write subscriptions");
            }
        }
        chown_tree(&home, MAIL_UID, MAIL_GID);

        let users = work.join("users");
        let mut passwd = String::new();
        for (user, password) in [(ALICE, ALICE_PASSWORD), (BOB, BOB_PASSWORD)] {
            let local = user.split('@').next().unwrap();
            passwd.push_str(&format!(
                "{user}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_GID}::{}::\n",
                home.join(local).display()
            ));
        }
        fs::write(&users, passwd).expect("write the users file");
        chmod(&users, 0o644);

        let log = work.join("dovecot.log");
        let run = work.join("run");
        let state = work.join("state");
        fs::create_dir(&state).expect("create state_dir");
        let instance = format!(
            "toolctl-{}",
            work.file_name()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("toolctl-dovecot-")
        );
        let alt_imap = if opts.login_disabled {
            format!(
                "  inet_listener imap_logindisabled {{
    address = {}
    port = {imap}
  }}
",
                Dovecot::LOGINDISABLED_HOST
            )
        } else {
            String::new()
        };
        let listeners = if opts.starttls {
            format!(
                "service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    address = 127.0.0.1
    port = {submission}
  }}
  inet_listener submissions {{
    address = 127.0.0.1
    port = {submissions}
    ssl = yes
  }}
}}
"
            )
        } else {
            // No per-listener switch for STARTTLS exists in 2.3: the plain listeners get a
            // login process started with `-o ssl=no`; the implicit-TLS listeners live in a
            // second login service of the same binary, with TLS on.
            format!(
                "service imap-login {{
  executable = imap-login -o ssl=no
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  # built-in default: 993
  inet_listener imaps {{
    port = 0
  }}
}}
service imaps-login {{
  executable = imap-login
  protocol = imap
  type = login
  user = $default_login_user
  chroot = login
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service submission-login {{
  executable = submission-login -o ssl=no
  inet_listener submission {{
    address = 127.0.0.1
    port = {submission}
  }}
  inet_listener submissions {{
    port = 0
  }}
}}
service submissions-login {{
  executable = submission-login
  protocol = submission
  type = login
  user = $default_login_user
  chroot = login
  inet_listener submissions {{
    address = 127.0.0.1
    port = {submissions}
    ssl = yes
  }}
}}
"
            )
        };
        // The extra listener joins the plain IMAP listener's service.
        let plain_imap =
            format!("  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n");
        assert!(listeners.contains(&plain_imap));
        let listeners = listeners.replacen(&plain_imap, &format!("{plain_imap}{alt_imap}"), 1);
        let conf = format!(
            "# A private Dovecot for the toolctl probe tests.
protocols = imap submission
instance_name = {instance}
base_dir = {run}
state_dir = {state}
log_path = {log}
info_log_path = {log}
listen = 127.0.0.1
default_login_user = dovenull
default_internal_user = dovecot

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}

disable_plaintext_auth = {plaintext}
auth_mechanisms = plain login cram-md5
auth_verbose = yes
auth_failure_delay = {delay} secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}

mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
mail_max_userip_connections = 100

submission_relay_host = 127.0.0.1
submission_relay_port = {relay_port}

service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
}}
{listeners}",
            plaintext = if opts.login_disabled { "yes" } else { "no" },
            delay = opts.auth_failure_delay,
            run = run.display(),
            state = state.display(),
            log = log.display(),
            cert = pair.cert.display(),
            key = pair.key.display(),
            users = users.display(),
        );
        let conf_path = work.join("dovecot.conf");
        fs::write(&conf_path, conf).expect("write dovecot.conf");

        let stderr_path = work.join("dovecot.stderr");
        let stderr = fs::File::create(&stderr_path).expect("create dovecot.stderr");
        let mut child = Command::new(sbin("dovecot"))
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().unwrap())
            .stderr(stderr)
            .process_group(0) // so that a stuck instance can be killed as a whole
            .spawn()
            .unwrap_or_else(|e| panic!("run dovecot (is dovecot-imapd installed?): {e}"));

        let failure = |child: &mut Child, why: String| {
            kill_group(child);
            let text = format!(
                "{why}\n--- {}:\n{}\n--- stdout/stderr:\n{}\n--- {}:\n{}",
                log.display(),
                read_lossy(&log),
                read_lossy(&stderr_path),
                conf_path.display(),
                read_lossy(&conf_path),
            );
            StartFailure {
                port_taken: text.contains("Address already in use"),
                text,
            }
        };
        // Ready when IMAP greets: the master binds every listener before it starts any
        // login process, so by then the other three ports accept too.
        if let Err(why) = wait_greeting(&mut child, imap, "* OK", "a LOGOUT\r\n") {
            return Err(failure(&mut child, why));
        }
        // Leave the readiness check's own line out of log_text().
        wait_for_file(&log, Duration::from_secs(2), |t| {
            t.contains("no auth attempts")
        });
        let log_start = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);

        Ok(Dovecot {
            imap,
            imaps,
            submission,
            submissions,
            log,
            options: opts,
            home,
            auth_socket: run.join("auth-client"),
            relay_port,
            postfix_started: AtomicBool::new(false),
            log_start,
            child,
            _ports: ports,
            tmp,
        })
    }

    /// The options it was started with.
    pub fn options(&self) -> DovecotOptions {
        self.options
    }

    /// What Dovecot logged since [`Dovecot::start`] returned.
    pub fn log_text(&self) -> String {
        read_from(&self.log, self.log_start)
    }

    /// The maildir of `user` (`alice`, `bob`, or their full addresses).
    pub fn maildir(&self, user: &str) -> PathBuf {
        let local = user.split('@').next().unwrap();
        assert!(
            ["alice", "bob"].contains(&local)
                && (!user.contains('@') || user.ends_with("@example.test")),
            "unknown user {user:?}: the test Dovecot knows {ALICE} and {BOB}"
        );
        self.home.join(local).join("Maildir")
    }

    /// Messages in a user's INBOX (new + cur), full RFC 5322 text each, oldest first.
    pub fn inbox(&self, user: &str) -> Vec<String> {
        let maildir = self.maildir(user);
        // Dovecot moves files from new/ to cur/ (renaming them to `base:2,FLAGS`) while we
        // read: collect by base name and retry when a file vanished under us.
        'attempt: for _ in 0..10 {
            let mut found: Vec<(std::time::SystemTime, String, String)> = Vec::new();
            for sub in ["new", "cur"] {
                let entries = match fs::read_dir(maildir.join(sub)) {
                    Ok(e) => e,
                    Err(e) => panic!("read {}: {e}", maildir.join(sub).display()),
                };
                for entry in entries {
                    let entry = entry.expect("dir entry");
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let base = name.split(':').next().unwrap().to_string();
                    if found.iter().any(|(_, b, _)| *b == base) {
                        continue;
                    }
                    let path = entry.path();
                    let (text, mtime) = match (fs::read(&path), fs::metadata(&path)) {
                        (Ok(bytes), Ok(meta)) => (
                            String::from_utf8_lossy(&bytes).into_owned(),
                            meta.modified().expect("mtime"),
                        ),
                        _ => continue 'attempt,
                    };
                    found.push((mtime, base, text));
                }
            }
            found.sort();
            return found.into_iter().map(|(_, _, text)| text).collect();
        }
        panic!(
            "{}: the maildir kept changing while being read",
            maildir.display()
        )
    }

    /// Waits up to `timeout` for a message in `user`'s INBOX containing `needle`.
    pub fn wait_for_message(&self, user: &str, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.inbox(user).into_iter().find(|m| m.contains(needle)) {
                return Some(m);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let started = Instant::now();
        let pgid = self.child.id() as libc::pid_t;
        stop_child(&mut self.child);
        // The master waits for its children; make sure (the group still has members, so
        // its id cannot have been reused).
        if !group_members(pgid).is_empty() {
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            wait_for(Duration::from_secs(2), || group_members(pgid).is_empty());
        }
        if std::env::var_os("TOOLCTL_MAIL_TIMINGS").is_some() {
            eprintln!("dovecot stopped in {:?}", started.elapsed());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Postfix
// ---------------------------------------------------------------------------------------

/// A running Postfix in front of a [`Dovecot`]: it authenticates through Dovecot's auth
/// socket, delivers mail for `example.test` into the Dovecot users' maildirs, and is the
/// relay Dovecot submission hands its mail to. One Postfix per Dovecot.
pub struct Postfix {
    /// SMTP: STARTTLS offered, AUTH (PLAIN LOGIN CRAM-MD5 via Dovecot) offered before and
    /// after STARTTLS (`smtpd_tls_auth_only = no`).
    pub smtp: u16,
    /// SMTP over implicit TLS (`smtpd_tls_wrappermode = yes`).
    pub smtps: u16,
    /// Postfix's log (`maillog_file`).
    pub log: PathBuf,
    log_start: u64,
    child: Child,
    master_pid: libc::pid_t,
    _ports: Vec<Reserved>,
    tmp: tempfile::TempDir,
}

const MASTER_CF_SERVICES: &str = "\
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
virtual    unix  -       n       n       -       -       virtual
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
";

impl Postfix {
    /// Starts a private Postfix for `dovecot` and waits until it greets. Panics with its log
    /// on failure, or when `dovecot` already has a Postfix.
    pub fn start(dovecot: &Dovecot) -> Postfix {
        Postfix::start_with(dovecot, "")
    }

    /// [`Postfix::start`] with `extra` appended to main.cf (a later line wins): rewrites,
    /// aliases, more virtual mailboxes, for the Service Desk verification tests.
    pub fn start_with(dovecot: &Dovecot, extra: &str) -> Postfix {
        require_root();
        assert!(
            !dovecot.postfix_started.swap(true, Ordering::SeqCst),
            "this Dovecot already has a Postfix (its submission relays to exactly one)"
        );
        let started = Instant::now();
        for attempt in 1..=START_ATTEMPTS {
            match Postfix::try_start(dovecot, extra) {
                Ok(p) => {
                    if std::env::var_os("TOOLCTL_MAIL_TIMINGS").is_some() {
                        eprintln!("postfix started in {:?}", started.elapsed());
                    }
                    return p;
                }
                Err(report) if report.port_taken && attempt < START_ATTEMPTS => continue,
                Err(report) => panic!("Postfix did not start:\n{}", report.text),
            }
        }
        unreachable!()
    }

    fn try_start(dovecot: &Dovecot, extra: &str) -> Result<Postfix, StartFailure> {
        let certs = certs();
        let tmp = tempfile::Builder::new()
            .prefix("toolctl-postfix-")
            .tempdir()
            .expect("create the Postfix dir");
        let work = tmp.path().to_path_buf();
        chmod(&work, 0o755);
        let ports: Vec<Reserved> = (0..2).map(|_| reserve_port()).collect();
        let (smtp, smtps) = (ports[0].port, ports[1].port);

        let etc = work.join("etc");
        let queue = work.join("queue");
        let data = work.join("data");
        let log = work.join("maillog");
        fs::create_dir(&etc).expect("mkdir etc");
        make_queue(&queue);
        fs::create_dir(&data).expect("mkdir data");
        chown(&data, postfix_ids().0, postfix_ids().1);
        chmod(&data, 0o700);
        // Skip `postfix check` (2 s); the directories above are what it would create.
        fs::write(queue.join("quick-start"), "").expect("touch quick-start");

        let main_cf = format!(
            "# A private Postfix for the toolctl probe tests.
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {queue}
data_directory = {data}
meta_directory = /etc/postfix
maillog_file = {log}
maillog_file_prefixes = {work}
myhostname = postfix.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
smtpd_error_sleep_time = 0

virtual_mailbox_domains = example.test
virtual_mailbox_base = {home}
virtual_mailbox_maps = inline:{{ {ALICE}=alice/Maildir/, {BOB}=bob/Maildir/ }}
virtual_uid_maps = static:{MAIL_UID}
virtual_gid_maps = static:{MAIL_GID}
default_transport = discard:the test Postfix delivers only example.test

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {auth}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
{extra}
",
            etc = etc.display(),
            queue = queue.display(),
            data = data.display(),
            log = log.display(),
            work = work.display(),
            home = dovecot.home.display(),
            auth = dovecot.auth_socket.display(),
            cert = certs.good.cert.display(),
            key = certs.good.key.display(),
        );
        let master_cf = format!(
            "127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{smtps} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
# Dovecot submission's relay: no AUTH, no TLS, 127.0.0.1 only.
127.0.0.1:{relay} inet n - n - - smtpd
  -o smtpd_sasl_auth_enable=no
  -o smtpd_tls_security_level=none
  -o smtpd_relay_restrictions=permit_mynetworks,reject
{MASTER_CF_SERVICES}",
            relay = dovecot.relay_port,
        );
        // Postfix re-reads a configuration file changed within the current second, 300 ms at
        // a time, until that second is over (dict_load_file's race guard): backdate them.
        for (name, text) in [("main.cf", main_cf), ("master.cf", master_cf)] {
            let path = etc.join(name);
            fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
            let past = std::time::SystemTime::now() - Duration::from_secs(60);
            fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(past))
                .unwrap_or_else(|e| panic!("backdate {name}: {e}"));
        }

        let stderr_path = work.join("postfix.stderr");
        let stderr = fs::File::create(&stderr_path).expect("create postfix.stderr");
        let mut child = Command::new(sbin("postfix"))
            .arg("-c")
            .arg(&etc)
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().unwrap())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("run postfix (is it installed?): {e}"));

        let failure = |child: &mut Child, why: String| {
            if let Some(pid) = master_pid(&queue).filter(|&p| is_postfix_master(p)) {
                // SAFETY: plain kill(2) on the master's process group (it is a session leader).
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            kill_group(child);
            let text = format!(
                "{why}\n--- {}:\n{}\n--- stdout/stderr:\n{}\n--- main.cf:\n{}",
                log.display(),
                read_lossy(&log),
                read_lossy(&stderr_path),
                read_lossy(&etc.join("main.cf")),
            );
            StartFailure {
                port_taken: text.contains("Address already in use"),
                text,
            }
        };
        if let Err(why) = wait_greeting(&mut child, smtp, "220 ", "QUIT\r\n") {
            return Err(failure(&mut child, why));
        }
        let Some(master_pid) = master_pid(&queue) else {
            return Err(failure(
                &mut child,
                "no master.pid after the greeting".into(),
            ));
        };
        wait_for_file(&log, Duration::from_secs(2), |t| {
            t.contains("disconnect from")
        });
        let log_start = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        Ok(Postfix {
            smtp,
            smtps,
            log,
            log_start,
            child,
            master_pid,
            _ports: ports,
            tmp,
        })
    }

    /// What Postfix logged since [`Postfix::start`] returned.
    pub fn log_text(&self) -> String {
        read_from(&self.log, self.log_start)
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        // What `postfix -c DIR stop` does, without its one-second polling: SIGTERM to the
        // master (which passes it on to its process group), wait, SIGKILL the group if needed.
        let started = Instant::now();
        let pid = self.master_pid;
        if is_postfix_master(pid) {
            // SAFETY: kill(2) on this instance's own master (checked just above).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        // `postfix start-fg` exits when its master does.
        let exited = loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break true,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => break false,
            }
        };
        if !exited {
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            kill_group(&mut self.child);
        }
        // The master does not wait for its children: wait until none of them runs any more.
        if !wait_for(Duration::from_secs(3), || group_members(pid).is_empty()) {
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            wait_for(Duration::from_secs(2), || group_members(pid).is_empty());
        }
        if std::env::var_os("TOOLCTL_MAIL_TIMINGS").is_some() {
            eprintln!("postfix stopped in {:?}", started.elapsed());
        }
    }
}

/// The queue directory as `postfix check` would create it (owners and modes).
fn make_queue(queue: &Path) {
    let (uid, _) = postfix_ids();
    let postdrop = group_id("postdrop");
    fs::create_dir(queue).expect("mkdir queue");
    chmod(queue, 0o755);
    for d in [
        "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private",
        "saved", "trace",
    ] {
        let p = queue.join(d);
        fs::create_dir(&p).expect("mkdir queue subdir");
        chown(&p, uid, 0);
        chmod(&p, 0o700);
    }
    for (d, mode) in [("maildrop", 0o730), ("public", 0o710)] {
        let p = queue.join(d);
        fs::create_dir(&p).expect("mkdir queue subdir");
        chown(&p, uid, postdrop);
        chmod(&p, mode);
    }
    fs::create_dir(queue.join("pid")).expect("mkdir queue/pid");
    chmod(&queue.join("pid"), 0o755);
}

fn master_pid(queue: &Path) -> Option<libc::pid_t> {
    fs::read_to_string(queue.join("pid/master.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Live (non-zombie) processes in process group `pgid`.
fn group_members(pgid: libc::pid_t) -> Vec<libc::pid_t> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<libc::pid_t>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

/// The TCP ports that processes of group `pgid` listen on (from /proc).
fn listening_ports(pgid: libc::pid_t) -> std::collections::BTreeSet<u16> {
    let mut inodes = std::collections::BTreeSet::new();
    for pid in group_members(pgid) {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                    inodes.insert(inode.to_string());
                }
            }
        }
    }
    let mut ports = std::collections::BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.insert(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

fn postfix_ids() -> (u32, u32) {
    static IDS: OnceLock<(u32, u32)> = OnceLock::new();
    *IDS.get_or_init(|| {
        let line = fs::read_to_string("/etc/passwd")
            .expect("read /etc/passwd")
            .lines()
            .find(|l| l.starts_with("postfix:"))
            .map(str::to_string)
            .expect("no postfix user: is postfix installed?");
        let f: Vec<&str> = line.split(':').collect();
        (f[2].parse().unwrap(), f[3].parse().unwrap())
    })
}

fn group_id(name: &str) -> u32 {
    fs::read_to_string("/etc/group")
        .expect("read /etc/group")
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .and_then(|l| l.split(':').nth(2).map(|g| g.parse().unwrap()))
        .unwrap_or_else(|| panic!("no group {name}: is postfix installed?"))
}

// ---------------------------------------------------------------------------------------
// aiosmtpd
// ---------------------------------------------------------------------------------------

/// How an [`Aiosmtpd`] listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpdMode {
    /// Plain SMTP offering STARTTLS; AUTH (PLAIN, LOGIN) only after it.
    Starttls,
    /// SMTP over implicit TLS, AUTH PLAIN and LOGIN.
    Implicit,
    /// SMTP over implicit TLS with no AUTH at all.
    ImplicitNoAuth,
}

/// The aiosmtpd server: written out and run with Debian's `/usr/bin/python3` (the
/// `python3` on PATH may lack the `python3-aiosmtpd` package). It prints its port once
/// listening; mail is accepted and dropped.
const AIOSMTPD: &str = r#"
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, cert, key, user, password = sys.argv[1:6]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK dropped"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
        and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)

def factory():
    if mode == "starttls":
        return SMTP(Handler(), hostname="aiosmtpd.example.test", tls_context=ctx,
                    authenticator=authenticator, auth_require_tls=True)
    if mode == "implicit":
        return SMTP(Handler(), hostname="aiosmtpd.example.test",
                    authenticator=authenticator, auth_require_tls=False)
    return SMTP(Handler(), hostname="aiosmtpd.example.test", auth_exclude_mechanism=["PLAIN", "LOGIN"])

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0,
                                      ssl=None if mode == "starttls" else ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// A running aiosmtpd (Debian's `python3-aiosmtpd`), a second SMTP server family beside
/// Postfix and Dovecot submission. Users: [`ALICE`] / [`ALICE_PASSWORD`].
pub struct Aiosmtpd {
    pub port: u16,
    child: Child,
    _tmp: tempfile::TempDir,
}

impl Aiosmtpd {
    pub fn start(mode: SmtpdMode) -> Aiosmtpd {
        let tmp = tempfile::Builder::new()
            .prefix("toolctl-aiosmtpd-")
            .tempdir()
            .expect("create the aiosmtpd dir");
        let script = tmp.path().join("smtpd.py");
        fs::write(&script, AIOSMTPD).expect("write smtpd.py");
        let pair = &certs().good;
        let stderr_path = tmp.path().join("stderr");
        let stderr = fs::File::create(&stderr_path).expect("create aiosmtpd's stderr");
        let mode_arg = match mode {
            SmtpdMode::Starttls => "starttls",
            SmtpdMode::Implicit => "implicit",
            SmtpdMode::ImplicitNoAuth => "noauth",
        };
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(mode_arg)
            .arg(&pair.cert)
            .arg(&pair.key)
            .arg(ALICE)
            .arg(ALICE_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("run /usr/bin/python3 (is python3-aiosmtpd installed?): {e}")
            });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Ok(port) = line.trim().parse::<u16>() else {
            kill_group(&mut child);
            panic!(
                "aiosmtpd did not start (stdout {line:?}):\n{}",
                read_lossy(&stderr_path)
            );
        };
        Aiosmtpd {
            port,
            child,
            _tmp: tmp,
        }
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

// ---------------------------------------------------------------------------------------
// Silent server, closed port
// ---------------------------------------------------------------------------------------

/// A TCP listener on 127.0.0.1 that accepts connections and never writes (it keeps them
/// open until it is dropped).
pub struct Silent {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a silent listener");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut open = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => open.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            drop(open);
        });
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A misbehaving SMTP server on 127.0.0.1: it greets with `greeting` (any bytes, escape
/// sequences included), leaves STARTTLS out of its EHLO reply (as a server, or a man in the
/// middle, that strips it), offers `AUTH PLAIN LOGIN`, accepts any login and any message,
/// and records every line it receives ([`FakeSmtp::received`], [`FakeSmtp::got_auth`]).
pub struct FakeSmtp {
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSmtp {
    pub fn start(greeting: &'static [u8]) -> FakeSmtp {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a fake SMTP server");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (flag, seen) = (stop.clone(), lines.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let seen = seen.clone();
                        std::thread::spawn(move || fake_smtp_session(stream, greeting, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeSmtp {
            port,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    /// Every line received so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Whether any client sent `AUTH` (or anything after it).
    pub fn got_auth(&self) -> bool {
        self.received()
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with("AUTH"))
    }
}

fn fake_smtp_session(stream: TcpStream, greeting: &[u8], seen: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut out = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let mut send = |text: &[u8]| out.write_all(text).and_then(|()| out.flush());
    let mut reply = b"220 ".to_vec();
    reply.extend_from_slice(greeting);
    reply.extend_from_slice(b"\r\n");
    if send(&reply).is_err() {
        return;
    }
    let mut pending_login = 0;
    let mut in_data = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end().to_string();
        seen.lock().unwrap().push(line.clone());
        if in_data {
            if line == "." {
                in_data = false;
                let _ = send(b"250 2.0.0 queued\r\n");
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if pending_login > 0 {
            pending_login -= 1;
            if pending_login == 1 {
                b"334 UGFzc3dvcmQ6\r\n"
            } else {
                b"235 2.7.0 accepted\r\n"
            }
        } else if upper.starts_with("EHLO") {
            b"250-fake.example.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
        } else if upper == "AUTH LOGIN" {
            pending_login = 2;
            b"334 VXNlcm5hbWU6\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            b"235 2.7.0 accepted\r\n"
        } else if upper == "DATA" {
            in_data = true;
            b"354 go on\r\n"
        } else if upper == "QUIT" {
            let _ = send(b"221 bye\r\n");
            return;
        } else if upper == "STARTTLS" {
            b"502 5.5.1 not implemented\r\n"
        } else {
            b"250 ok\r\n"
        };
        if send(answer).is_err() {
            return;
        }
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A 127.0.0.1 port with nothing listening: connecting is refused. The port stays reserved
/// (bound, never listening) for the rest of the test process, so nothing else takes it.
pub fn closed_port() -> u16 {
    static HELD: Mutex<Vec<Reserved>> = Mutex::new(Vec::new());
    let r = reserve_port();
    let port = r.port;
    HELD.lock().unwrap().push(r);
    port
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Dovecot (mail owned by `nobody`, login processes as `dovenull`) and a private Postfix
/// instance need root, as in CI.
fn require_root() {
    // SAFETY: geteuid(2) has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the real-mail-server tests run as root (as CI does); this is uid {euid}"
    );
}

/// Whether `pid` is a Postfix master (a stale master.pid must never get anyone else killed).
fn is_postfix_master(pid: libc::pid_t) -> bool {
    fs::read_link(format!("/proc/{pid}/exe"))
        .map(|exe| exe.ends_with("postfix/sbin/master"))
        .unwrap_or(false)
}

struct StartFailure {
    port_taken: bool,
    text: String,
}

/// A port held for us: bound to 127.0.0.1 with `SO_REUSEADDR`, never listening.
struct Reserved {
    _fd: OwnedFd,
    port: u16,
}

fn reserve_port() -> Reserved {
    // SAFETY: plain socket calls on a descriptor we own; the structs are zero-initialised
    // C structs of the sizes passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let rc = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = 0;
        addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(
            fd.as_raw_fd(),
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        );
        assert_eq!(
            rc,
            0,
            "bind 127.0.0.1:0: {}",
            std::io::Error::last_os_error()
        );
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut blen = len;
        let rc = libc::getsockname(
            fd.as_raw_fd(),
            &mut bound as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut blen,
        );
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        Reserved {
            _fd: fd,
            port: u16::from_be(bound.sin_port),
        }
    }
}

/// Polls `port` until a line starting with `prefix` arrives, sends `bye`; fails when the
/// process exits or [`START_TIMEOUT`] passes.
fn wait_greeting(child: &mut Child, port: u16, prefix: &str, bye: &str) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut last: String;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the server exited ({status}) before it greeted on {port}"
            ));
        }
        match TcpStream::connect_timeout(&addr, Duration::from_millis(250)) {
            Ok(stream) => {
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(_) if line.starts_with(prefix) => {
                        let mut stream = reader.into_inner();
                        let _ = stream.write_all(bye.as_bytes());
                        let mut rest = Vec::new();
                        let _ = stream.read_to_end(&mut rest);
                        return Ok(());
                    }
                    Ok(_) => last = format!("greeting {line:?}"),
                    Err(e) => last = format!("reading the greeting: {e}"),
                }
            }
            Err(e) => last = format!("connect: {e}"),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no greeting on 127.0.0.1:{port} within {START_TIMEOUT:?} (last: {last})"
            ));
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL the process group and reap.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_group(child);
}

/// SIGKILL to the child's process group (it was started as its leader), then reap it.
fn kill_group(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: the group of our own, not yet reaped, child.
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    }
    let _ = child.wait();
}

fn sbin(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for_file(path: &Path, timeout: Duration, cond: impl Fn(&str) -> bool) -> bool {
    wait_for(timeout, || cond(&read_lossy(path)))
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read: {e}>"))
}

fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = (offset as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    chown(path, uid, gid);
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), uid, gid);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The harness's own test
// ---------------------------------------------------------------------------------------

/// Runs a program with a deadline; returns its exit code and stdout + stderr.
fn run_peer(program: &str, args: &[String]) -> (Option<i32>, String) {
    let out = assert_cmd::Command::new(program)
        .args(args)
        .timeout(Duration::from_secs(20))
        .write_stdin(Vec::new())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = format!(
        "$ {program} {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// swaks from alice to bob through 127.0.0.1:`port`; `tls` is swaks's `-tls` or `-tlsc`.
fn swaks_send(
    port: u16,
    tls: &str,
    auth: &str,
    password: &str,
    subject: &str,
) -> (Option<i32>, String) {
    let args: Vec<String> = [
        "--to",
        BOB,
        "--from",
        ALICE,
        "--server",
        &format!("127.0.0.1:{port}"),
        "--auth",
        auth,
        "--auth-user",
        ALICE,
        "--auth-password",
        password,
        tls,
        "--tls-verify",
        "--tls-ca-path",
        &certs().ca.display().to_string(),
        "--header",
        &format!("Subject: {subject}"),
        "--body",
        &format!("body of {subject}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run_peer("swaks", &args)
}

fn s_client(port: u16) -> (Option<i32>, String) {
    let args: Vec<String> = [
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-CAfile",
        &certs().ca.display().to_string(),
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run_peer("openssl", &args)
}

/// A plain-TCP conversation: reads the greeting, then sends each line and reads up to the
/// reply that ends it (`tag OK|NO|BAD` for IMAP, a final `NNN ` line for SMTP).
fn converse(port: u16, lines: &[&str]) -> String {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut transcript = String::new();
    let read_reply = |reader: &mut BufReader<TcpStream>,
                      transcript: &mut String,
                      done: &dyn Fn(&str) -> bool| loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read a reply") == 0 {
            return;
        }
        transcript.push_str(&line);
        if done(&line) {
            return;
        }
    };
    let smtp_end = |l: &str| l.len() >= 4 && l.as_bytes()[3] == b' ';
    let greeting_done = |l: &str| l.starts_with("* OK") || l.starts_with("* BYE") || smtp_end(l);
    read_reply(&mut reader, &mut transcript, &greeting_done);
    for line in lines {
        transcript.push_str(&format!(">> {line}\n"));
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        let tag = line.split(' ').next().unwrap().to_string();
        let done = move |l: &str| {
            l.starts_with(&format!("{tag} OK"))
                || l.starts_with(&format!("{tag} NO"))
                || l.starts_with(&format!("{tag} BAD"))
                || (tag.chars().all(|c| c.is_ascii_uppercase()) && smtp_end(l))
        };
        read_reply(&mut reader, &mut transcript, &done);
    }
    transcript
}

#[test]
fn harness_self_test() {
    let t0 = Instant::now();
    certs();
    let t_certs = t0.elapsed();

    // Four Dovecots at once, as parallel tests would start them.
    let t1 = Instant::now();
    let (dovecot, plain_only, expired, wrong_name) = std::thread::scope(|s| {
        let a = s.spawn(|| Dovecot::start(DovecotOptions::default()));
        let b = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::Good,
                starttls: false,
                ..DovecotOptions::default()
            })
        });
        let c = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::Expired,
                starttls: true,
                ..DovecotOptions::default()
            })
        });
        let d = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::WrongName,
                starttls: true,
                ..DovecotOptions::default()
            })
        });
        (
            a.join().unwrap(),
            b.join().unwrap(),
            c.join().unwrap(),
            d.join().unwrap(),
        )
    });
    let t_dovecot = t1.elapsed();
    let t2 = Instant::now();
    let postfix = Postfix::start(&dovecot);
    let t_postfix = t2.elapsed();

    // Mail through Dovecot submission (STARTTLS, implicit TLS) and Postfix (both), each
    // mechanism once, all verified against the test CA.
    let sends = [
        (
            dovecot.submission,
            "-tls",
            "PLAIN",
            "via dovecot submission starttls",
        ),
        (
            dovecot.submissions,
            "-tlsc",
            "LOGIN",
            "via dovecot submissions",
        ),
        (
            postfix.smtp,
            "-tls",
            "CRAM-MD5",
            "via postfix smtp starttls",
        ),
        (postfix.smtps, "-tlsc", "PLAIN", "via postfix smtps"),
    ];
    let t3 = Instant::now();
    for (port, tls, mech, subject) in sends {
        let (code, out) = swaks_send(port, tls, mech, ALICE_PASSWORD, subject);
        assert_eq!(
            code,
            Some(0),
            "swaks failed:\n{out}\n--- dovecot:\n{}\n--- postfix:\n{}",
            dovecot.log_text(),
            postfix.log_text()
        );
        let message = dovecot
            .wait_for_message(BOB, subject, Duration::from_secs(10))
            .unwrap_or_else(|| {
                panic!(
                    "{subject:?} never arrived\n{out}\n--- postfix:\n{}",
                    postfix.log_text()
                )
            });
        assert!(message.contains(&format!("body of {subject}")), "{message}");
        assert!(
            message.contains("Return-Path: <alice@example.test>"),
            "{message}"
        );
    }
    let t_mail = t3.elapsed();
    assert_eq!(dovecot.inbox(BOB).len(), 4);
    assert!(dovecot.inbox(ALICE).is_empty());
    assert!(postfix
        .log_text()
        .contains("sasl_method=CRAM-MD5, sasl_username=alice@example.test"));

    // Wrong passwords fail, quickly, in both servers.
    for port in [dovecot.submission, postfix.smtp] {
        let t = Instant::now();
        let (code, out) = swaks_send(port, "-tls", "PLAIN", "wrong", "never sent");
        assert_eq!(code, Some(28), "{out}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "slow failure: {:?}\n{out}",
            t.elapsed()
        );
        eprintln!(
            "wrong password on {port}: swaks exit 28 after {:?}",
            t.elapsed()
        );
    }
    assert!(
        dovecot.log_text().contains("Password mismatch"),
        "{}",
        dovecot.log_text()
    );

    // IMAP: logins, mailboxes, capabilities, log lines.
    let alice = converse(
        dovecot.imap,
        &[
            "a CAPABILITY",
            &format!("b LOGIN {ALICE} {ALICE_PASSWORD}"),
            "c LIST \"\" \"*\"",
            "d EXAMINE \"Service Desk\"",
            "e LOGOUT",
        ],
    );
    assert!(
        alice.contains(" STARTTLS") && alice.contains("IDLE"),
        "{alice}"
    );
    assert!(
        alice.contains("\"Service Desk\"") && alice.contains("d OK [READ-ONLY]"),
        "{alice}"
    );
    let bob = converse(
        dovecot.imap,
        &[
            &format!("b LOGIN {BOB} {BOB_PASSWORD}"),
            "c LIST \"\" \"*\"",
            "d EXAMINE \"Service Desk\"",
            "e EXAMINE INBOX",
            "f LOGOUT",
        ],
    );
    assert!(
        !bob.contains("Service Desk\r\n") && bob.contains("d NO Mailbox doesn't exist"),
        "{bob}"
    );
    assert!(bob.contains("* 4 EXISTS"), "{bob}");
    let wrong = converse(dovecot.imap, &[&format!("b LOGIN {ALICE} nope")]);
    assert!(wrong.contains("b NO [AUTHENTICATIONFAILED]"), "{wrong}");
    let log = dovecot.log_text();
    assert!(log.contains("Login: user=<alice@example.test>"), "{log}");
    assert!(
        !log.contains("starting up"),
        "log_text() should start after startup:\n{log}"
    );

    // No STARTTLS on the plain listeners of a starttls=false instance; TLS still works.
    let caps = converse(plain_only.imap, &["a CAPABILITY", "b STARTTLS"]);
    let advertised: Vec<&str> = caps
        .lines()
        .filter(|l| l.contains("CAPABILITY") && !l.starts_with(">>"))
        .collect();
    assert_eq!(
        advertised.len(),
        2,
        "greeting and CAPABILITY expected:\n{caps}"
    );
    assert!(advertised.iter().all(|l| !l.contains("STARTTLS")), "{caps}");
    assert!(caps.contains("b BAD"), "{caps}");
    let ehlo = converse(plain_only.submission, &["EHLO client.test", "QUIT"]);
    assert!(
        ehlo.contains("250-AUTH PLAIN LOGIN CRAM-MD5") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    let ehlo = converse(dovecot.submission, &["EHLO client.test", "QUIT"]);
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    for port in [
        plain_only.imaps,
        plain_only.submissions,
        dovecot.imaps,
        dovecot.submissions,
        postfix.smtps,
    ] {
        let (code, out) = s_client(port);
        assert!(
            code == Some(0) && out.contains("Verify return code: 0 (ok)"),
            "{out}"
        );
    }

    // The expired certificate really is expired.
    let (code, out) = s_client(expired.imaps);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("certificate has expired"), "{out}");
    let (code, out) = s_client(wrong_name.submissions);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("hostname mismatch"), "{out}");

    // Silent and closed ports.
    let silent = Silent::start();
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, silent.port)).expect("connect to Silent");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).expect_err("Silent spoke");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    let closed = closed_port();
    let err = TcpStream::connect((Ipv4Addr::LOCALHOST, closed)).expect_err("closed port accepted");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    drop(silent);

    // Each instance listens on its own ports and on nothing else (no built-in 143/993/587).
    for d in [&dovecot, &plain_only, &expired, &wrong_name] {
        let expected = [d.imap, d.imaps, d.submission, d.submissions]
            .into_iter()
            .collect();
        assert_eq!(
            listening_ports(d.child.id() as i32),
            expected,
            "{}",
            d.log.display()
        );
    }
    let expected = [postfix.smtp, postfix.smtps, dovecot.relay_port]
        .into_iter()
        .collect();
    assert_eq!(listening_ports(postfix.master_pid), expected);

    // Stop everything, in parallel, and check that nothing is left.
    let pids: Vec<u32> = [&dovecot, &plain_only, &expired, &wrong_name]
        .iter()
        .map(|d| d.child.id())
        .collect();
    let postfix_master = postfix.master_pid;
    let t4 = Instant::now();
    drop(postfix);
    let t_postfix_stop = t4.elapsed();
    let t5 = Instant::now();
    std::thread::scope(|s| {
        for d in [dovecot, plain_only, expired, wrong_name] {
            s.spawn(move || drop(d));
        }
    });
    let t_dovecot_stop = t5.elapsed();
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || group_members(pid as i32).is_empty()
        );
        assert!(
            group_members(pid as i32).is_empty(),
            "dovecot group {pid} still has processes"
        );
    }
    assert!(
        group_members(postfix_master).is_empty(),
        "postfix group still has processes"
    );
    eprintln!(
        "timings: certs {t_certs:?}, 4 dovecots {t_dovecot:?}, postfix {t_postfix:?}, \
         4 messages {t_mail:?}, postfix stop {t_postfix_stop:?}, 4 dovecot stops {t_dovecot_stop:?}, \
         total {:?}",
        t0.elapsed()
    );
}

/// Several instances at once, each sending a message end to end (`STRESS_N=24` for a
/// heavier run by hand; 3 in the suite).
#[test]
fn parallel_stress() {
    let n: usize = std::env::var("STRESS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let t = Instant::now();
    std::thread::scope(|s| {
        for i in 0..n {
            s.spawn(move || {
                let d = Dovecot::start(DovecotOptions {
                    tls: Tls::Good,
                    starttls: i % 2 == 0,
                    ..DovecotOptions::default()
                });
                let p = Postfix::start(&d);
                let subject = format!("stress {i}");
                let tls = if i % 2 == 0 { "-tls" } else { "-tlsc" };
                let port = if i % 2 == 0 {
                    d.submission
                } else {
                    d.submissions
                };
                let (code, out) = swaks_send(port, tls, "CRAM-MD5", ALICE_PASSWORD, &subject);
                assert_eq!(code, Some(0), "{out}");
                let (code, out) = swaks_send(
                    if i % 2 == 0 { p.smtp } else { p.smtps },
                    tls,
                    "LOGIN",
                    ALICE_PASSWORD,
                    &subject,
                );
                assert_eq!(code, Some(0), "{out}");
                assert!(wait_for(Duration::from_secs(10), || d.inbox(BOB).len() == 2));
                let expected = [d.imap, d.imaps, d.submission, d.submissions]
                    .into_iter()
                    .collect();
                assert_eq!(listening_ports(d.child.id() as i32), expected);
                if std::env::var_os("SHOW_LOGS").is_some() && i == 0 {
                    eprintln!(
                        "=== dovecot\n{}\n=== dovecot log_text\n{}\n=== postfix\n{}",
                        read_lossy(&d.log),
                        d.log_text(),
                        read_lossy(&p.log)
                    );
                }
            });
        }
    });
    eprintln!("{n} pairs in {:?}", t.elapsed());
}
