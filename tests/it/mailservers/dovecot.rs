//! Dovecot 2.3: IMAP, IMAPS, submission and submissions, each instance private.

use super::*;

/// Which certificate a [`Dovecot`] presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    Good,
    Expired,
    WrongName,
    /// [`Certs::self_signed`].
    SelfSigned,
    /// [`Certs::self_signed_leaf`] (CA:FALSE).
    SelfSignedLeaf,
}

impl Tls {
    fn pair(self) -> &'static CertPair {
        let c = certs();
        match self {
            Tls::Good => &c.good,
            Tls::Expired => &c.expired,
            Tls::WrongName => &c.wrong_name,
            Tls::SelfSigned => &c.self_signed,
            Tls::SelfSignedLeaf => &c.self_signed_leaf,
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
    /// `imap_capability`: the CAPABILITY list after login, instead of Dovecot's (to play a
    /// server without IDLE or UIDPLUS; Dovecot still runs the commands it leaves out).
    pub imap_capability: Option<&'static str>,
}

impl Default for DovecotOptions {
    fn default() -> DovecotOptions {
        DovecotOptions {
            tls: Tls::Good,
            starttls: true,
            login_disabled: false,
            auth_failure_delay: 0,
            imap_capability: None,
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
    pub(super) options: DovecotOptions,
    /// Where Postfix delivers: `<home>/<local part>/Maildir`.
    pub(super) home: PathBuf,
    /// The auth-client socket Postfix authenticates through.
    pub(super) auth_socket: PathBuf,
    /// The port Dovecot submission relays to (a [`Postfix`] listens there once started).
    pub(super) relay_port: u16,
    pub(super) postfix_started: AtomicBool,
    pub(super) log_start: u64,
    pub(super) child: Child,
    /// Port reservations, held until the server is gone.
    pub(super) _ports: Vec<Reserved>,
    /// Last field: removed after the server has stopped.
    pub(super) tmp: tempfile::TempDir,
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
{capability}
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
            capability = opts
                .imap_capability
                .map(|c| format!("imap_capability = {c}\n"))
                .unwrap_or_default(),
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

    /// `doveadm kick <user>`: drops every session of `user` (the client reads `* BYE` and
    /// then EOF), as an administrator or a restart would. Returns how many were kicked.
    pub fn kick(&self, user: &str) -> String {
        let out = Command::new(bin("doveadm"))
            .arg("-c")
            .arg(self.tmp.path().join("dovecot.conf"))
            .args(["kick", user])
            .output()
            .unwrap_or_else(|e| panic!("run doveadm (dovecot-core): {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "doveadm kick {user} failed:\n{text}");
        text
    }
}

/// `/usr/bin/<name>` when it is there, else `name` from `PATH`.
fn bin(name: &str) -> PathBuf {
    let p = Path::new("/usr/bin").join(name);
    if p.exists() {
        p
    } else {
        PathBuf::from(name)
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
