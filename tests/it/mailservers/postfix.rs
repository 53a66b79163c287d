//! Postfix 3.7: a private instance (SMTP with STARTTLS, SMTPS) delivering into a
//! [`Dovecot`]'s maildirs and authenticating through it.

use super::*;

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
    pub(super) log_start: u64,
    pub(super) child: Child,
    pub(super) master_pid: libc::pid_t,
    pub(super) _ports: Vec<Reserved>,
    pub(super) tmp: tempfile::TempDir,
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
