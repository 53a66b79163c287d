//! Cyrus IMAP and Exim for the probe benchmark, run privately on 127.0.0.1 from the
//! Debian packages `scripts/fetch-bench-servers` unpacks into a cache (never installed:
//! installing Exim would remove Postfix). Each instance lives in its own temporary
//! directory and is stopped when dropped.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The user the servers run as (Cyrus refuses root).
const RUN_AS: &str = "nobody";

/// The unpacked packages: `scripts/fetch-bench-servers` fetches them on first use.
pub fn unpacked(repo: &Path) -> PathBuf {
    let out = Command::new(repo.join("scripts/fetch-bench-servers"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/fetch-bench-servers");
    assert!(out.status.success(), "scripts/fetch-bench-servers failed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until `port` greets with a line starting with `prefix` (plain TCP).
fn wait_greeting(port: u16, prefix: &str, child: &mut Child, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the server exited ({status}):\n{}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut line = String::new();
            if BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with(prefix) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no greeting on port {port}:\n{}",
        fs::read_to_string(log).unwrap_or_default()
    );
}

fn lib_path(root: &Path) -> String {
    format!(
        "{0}/lib/x86_64-linux-gnu:{0}/usr/lib/x86_64-linux-gnu",
        root.display()
    )
}

fn chown_tree(path: &Path) {
    let ok = Command::new("chown")
        .args(["-R", &format!("{RUN_AS}:")])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "chown -R {}", path.display());
}

/// A running Cyrus IMAP 3.6: IMAP (STARTTLS) and IMAPS, user `user` / `password` (in a
/// private sasldb), INBOX made at the first login.
pub struct Cyrus {
    pub imap: u16,
    pub imaps: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Cyrus {
    pub fn start(root: &Path, cert: &Path, key: &Path, user: &str, password: &str) -> Cyrus {
        let dir = tempfile::Builder::new()
            .prefix("toolctl-cyrus-")
            .tempdir()
            .unwrap();
        let w = dir.path();
        for d in ["conf/socket", "conf/proc", "part"] {
            fs::create_dir_all(w.join(d)).unwrap();
        }
        fs::copy(cert, w.join("cert.pem")).unwrap();
        fs::copy(key, w.join("key.pem")).unwrap();
        let bin = root.join("usr/lib/cyrus/bin");
        let conf = w.join("imapd.conf");
        fs::write(
            &conf,
            format!(
                "configdirectory: {w}/conf\n\
                 defaultpartition: default\n\
                 partition-default: {w}/part\n\
                 cyrus_user: {RUN_AS}\n\
                 sasl_pwcheck_method: auxprop\n\
                 sasl_auxprop_plugin: sasldb\n\
                 sasl_sasldb_path: {w}/sasldb2\n\
                 sasl_mech_list: PLAIN LOGIN\n\
                 allowplaintext: yes\n\
                 autocreate_quota: 0\n\
                 autocreate_post: 1\n\
                 tls_server_cert: {w}/cert.pem\n\
                 tls_server_key: {w}/key.pem\n\
                 serverbin: {bin}\n\
                 syslog_prefix: toolctl-bench-cyrus\n",
                w = w.display(),
                bin = bin.display(),
            ),
        )
        .unwrap();
        let (imap, imaps) = (free_port(), free_port());
        let imapd = bin.join("imapd");
        fs::write(
            w.join("cyrus.conf"),
            format!(
                "START {{\n  recover cmd=\"{ctl} -C {conf} -r\"\n}}\n\
                 SERVICES {{\n  imap cmd=\"{imapd} -C {conf}\" listen=\"127.0.0.1:{imap}\" prefork=2\n  \
                 imaps cmd=\"{imapd} -s -C {conf}\" listen=\"127.0.0.1:{imaps}\" prefork=2\n}}\n\
                 EVENTS {{\n}}\n",
                ctl = bin.join("ctl_cyrusdb").display(),
                conf = conf.display(),
                imapd = imapd.display(),
            ),
        )
        .unwrap();
        let mut pw = Command::new(root.join("usr/sbin/saslpasswd2"))
            .args(["-p", "-c", "-f"])
            .arg(w.join("sasldb2"))
            .arg(user)
            .env("LD_LIBRARY_PATH", lib_path(root))
            .stdin(Stdio::piped())
            .spawn()
            .expect("run saslpasswd2");
        std::io::Write::write_all(pw.stdin.as_mut().unwrap(), password.as_bytes()).unwrap();
        drop(pw.stdin.take());
        assert!(pw.wait().unwrap().success(), "saslpasswd2 failed");
        chown_tree(w);
        fs::set_permissions(w, fs::Permissions::from_mode(0o755)).unwrap();
        let log = w.join("master.log");
        let mut child = Command::new(bin.join("master"))
            .arg("-C")
            .arg(&conf)
            .arg("-M")
            .arg(w.join("cyrus.conf"))
            .arg("-p")
            .arg(w.join("master.pid"))
            .arg("-D")
            .env("LD_LIBRARY_PATH", lib_path(root))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(w.join("master.err")).unwrap())
            .spawn()
            .expect("start Cyrus master");
        wait_greeting(imap, "* OK", &mut child, &log);
        Cyrus {
            imap,
            imaps,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Cyrus {
    fn drop(&mut self) {
        // SIGTERM: the master stops its services.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// A running Exim 4.96: submission (STARTTLS), AUTH PLAIN and LOGIN for
/// `user` / `password` over TLS only. Exim looks up its compiled-in user `Debian-exim` at
/// start: it runs in a private mount namespace whose `/etc/passwd` and `/etc/group` are
/// copies with that user added (the real ones are not touched).
pub struct Exim {
    pub submission: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Exim {
    pub fn start(root: &Path, cert: &Path, key: &Path, user: &str, password: &str) -> Exim {
        let dir = tempfile::Builder::new()
            .prefix("toolctl-exim-")
            .tempdir()
            .unwrap();
        let w = dir.path();
        fs::create_dir_all(w.join("spool")).unwrap();
        fs::create_dir_all(w.join("log")).unwrap();
        let submission = free_port();
        let quote = |s: &str| s.replace('\\', "\\\\").replace('}', "\\}");
        let (u, p) = (quote(user), quote(password));
        let cond = |a: &str, b: &str| {
            "${if and {{eq{AAA}{UUU}}{eq{BBB}{PPP}}}}"
                .replace("AAA", a)
                .replace("BBB", b)
                .replace("UUU", &u)
                .replace("PPP", &p)
        };
        let (plain, login) = (cond("$auth2", "$auth3"), cond("$auth1", "$auth2"));
        fs::write(
            w.join("exim.conf"),
            format!(
                "keep_environment = LD_LIBRARY_PATH\n\
                 primary_hostname = localhost\n\
                 spool_directory = {w}/spool\n\
                 log_file_path = {w}/log/%slog\n\
                 exim_user = root\n\
                 exim_group = root\n\
                 never_users =\n\
                 daemon_smtp_ports = {submission}\n\
                 local_interfaces = 127.0.0.1\n\
                 tls_advertise_hosts = *\n\
                 tls_certificate = {cert}\n\
                 tls_privatekey = {key}\n\
                 auth_advertise_hosts = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}\n\
                 acl_smtp_rcpt = acl_check_rcpt\n\
                 begin acl\n\
                 acl_check_rcpt:\n  accept authenticated = *\n  deny\n\
                 begin authenticators\n\
                 plain:\n  driver = plaintext\n  public_name = PLAIN\n  server_prompts = :\n  \
                 server_condition = {plain}\n  \
                 server_set_id = $auth2\n\
                 login:\n  driver = plaintext\n  public_name = LOGIN\n  server_prompts = Username:: : Password::\n  \
                 server_condition = {login}\n  \
                 server_set_id = $auth1\n",
                w = w.display(),
                cert = cert.display(),
                key = key.display(),
            ),
        )
        .unwrap();
        let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
        passwd.push_str("Debian-exim:x:64999:64999::/nonexistent:/usr/sbin/nologin\n");
        fs::write(w.join("passwd"), passwd).unwrap();
        let mut group = fs::read_to_string("/etc/group").unwrap();
        group.push_str("Debian-exim:x:64999:\n");
        fs::write(w.join("group"), group).unwrap();
        let log = w.join("out.log");
        let script = format!(
            "mount --bind {w}/passwd /etc/passwd && mount --bind {w}/group /etc/group && \
             exec {exim} -C {w}/exim.conf -bdf -oP {w}/exim.pid",
            w = w.display(),
            exim = root.join("usr/sbin/exim4").display(),
        );
        let mut child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env("LD_LIBRARY_PATH", lib_path(root))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(w.join("err.log")).unwrap())
            .spawn()
            .expect("start Exim");
        wait_greeting(submission, "220", &mut child, &w.join("err.log"));
        Exim {
            submission,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Exim {
    fn drop(&mut self) {
        // `exec` above: the child is Exim's daemon itself.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
