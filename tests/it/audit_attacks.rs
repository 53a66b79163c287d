//! What an audit as a service account found: reconfigure's own run log, control characters in path
//! settings, `import gitlab-secrets` reading git's directory, file names in `import`'s
//! output, hard links in `tail`'s log directories.
//!
//! The attacker is `nobody` (uid 65534), the account the settings name as mail_room's or
//! GitLab's user (`[mailroom] user`, `[gitlab] user` must be users the system knows), acting
//! through `setpriv` as a compromised service would. Links are planted in non-sticky
//! directories that account owns.

use std::fs;
use std::path::{Path, PathBuf};

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{chmod, Snapshot, TestRoot};

const NOBODY: Attacker = Attacker {
    uid: 65534,
    gid: 65534,
};
const LOG_DIR: &str = "var/log/toolctl";

/// A file only root may read or write: what the attacker points its links at.
fn victim(t: &TestRoot) -> (PathBuf, Fingerprint) {
    let v = t.path("etc/victim");
    fs::create_dir_all(v.parent().unwrap()).unwrap();
    fs::write(&v, "root:only\n").unwrap();
    chmod(&v, 0o600);
    let fp = Fingerprint::of(&v);
    (v, fp)
}

/// Everything under the root but toolctl's own rendered tree and its lock.
fn snapshot(t: &TestRoot) -> Snapshot {
    let mut s = t.snapshot();
    s.0.retain(|p, _| !p.starts_with("var/opt/toolctl"));
    s
}

/// The mailroom-redis fixture (mail_room runs as nobody) with the incoming mailbox's
/// `log_file` set to `log_file` (`None`: the default, `<log_dir>/mailroom/…`).
fn mailroom_root(log_file: Option<&str>) -> TestRoot {
    let t = crate::reconfigure::root_from(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"),
    );
    if let Some(log) = log_file {
        let toml = fs::read_to_string(t.config_file()).unwrap().replacen(
            "delivery_method = \"sidekiq\"\n",
            &format!("delivery_method = \"sidekiq\"\nlog_file = \"{log}\"\n"),
            1,
        );
        fs::write(t.config_file(), toml).unwrap();
    }
    t
}

#[test]
fn mail_room_is_never_given_the_log_directory_or_reconfigures_own_directory() {
    for (log, dir) in [
        ("/var/log/toolctl/mail_room_json.log", "/var/log/toolctl"),
        (
            "/var/log/toolctl/reconfigure/mail_room_json.log",
            "/var/log/toolctl/reconfigure",
        ),
        (
            "/var/log/toolctl/reconfigure/deeper/mail_room_json.log",
            "/var/log/toolctl/reconfigure/deeper",
        ),
        ("/var/log/mail_room_json.log", "/var/log"),
        (
            "/var/opt/toolctl/rendered/mail_room_json.log",
            "/var/opt/toolctl/rendered",
        ),
    ] {
        // A fresh install: the log directory does not exist yet.
        let t = mailroom_root(Some(log));
        let before = t.snapshot();
        let out = t.toolctl(["reconfigure"]).run();
        out.assert_error("incoming_email.log_file", &["below"]);
        assert!(out.stderr.contains(dir), "{log}\n{out}");
        before.assert_unchanged(&t.snapshot(), &log);
        assert!(!t.path(LOG_DIR).exists(), "{log}");
    }
}

#[test]
fn reconfigure_never_appends_its_run_log_through_a_link_or_a_directory_another_user_owns() {
    let t = mailroom_root(None);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let log_dir = t.path(LOG_DIR);
    let own = log_dir.join("reconfigure");
    assert!(own.join("reconfigure.log").is_file());
    let (v, fp) = victim(&t);

    // An older toolctl gave `<log_dir>/reconfigure` to mail_room's user (a `log_file` in
    // it): the attacker replaces the log with a link.
    NOBODY.own(&own);
    NOBODY.sh_ok(&format!(
        "mv {o}/reconfigure.log {o}/old.log && ln -s {v} {o}/reconfigure.log",
        o = own.display(),
        v = v.display()
    ));
    // Make the run write something: a changed secret.
    t.write_secret("redis", b"password: 'changed-1'\n");
    let before = snapshot(&t);
    t.toolctl(["reconfigure"]).run().assert_error(
        "can be changed by a user other than root",
        &["chown root:root"],
    );
    assert_eq!(Fingerprint::of(&v), fp);
    before.assert_unchanged(&snapshot(&t), &"attacker's reconfigure/");

    // The whole log directory was handed over (a `log_file` directly in it): the attacker
    // replaces root's `reconfigure/` with a directory of its own holding a link.
    fs::remove_file(own.join("reconfigure.log")).unwrap();
    fs::rename(own.join("old.log"), own.join("reconfigure.log")).unwrap();
    std::os::unix::fs::chown(&own, Some(0), Some(0)).unwrap();
    NOBODY.own(&log_dir);
    NOBODY.sh_ok(&format!(
        "mv {o} {o}.old && mkdir {o} && ln -s {v} {o}/reconfigure.log",
        o = own.display(),
        v = v.display()
    ));
    let before = snapshot(&t);
    t.toolctl(["reconfigure"]).run().assert_error(
        "can be changed by a user other than root",
        &["chown root:root"],
    );
    assert_eq!(Fingerprint::of(&v), fp);
    before.assert_unchanged(&snapshot(&t), &"attacker's log directory");

    // Back to root's directories, but a link (or a second name of another file) left as
    // reconfigure.log: refused, never appended to.
    fs::remove_dir_all(&own).unwrap();
    fs::rename(own.with_extension("old"), &own).unwrap();
    std::os::unix::fs::chown(&log_dir, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(&own, Some(0), Some(0)).unwrap();
    chmod(&own, 0o750);
    let log = own.join("reconfigure.log");
    fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&v, &log).unwrap();
    let before = snapshot(&t);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("symbolic link", &["rm ", "reconfigure.log"]);
    assert_eq!(Fingerprint::of(&v), fp);
    before.assert_unchanged(&snapshot(&t), &"linked reconfigure.log");
    fs::remove_file(&log).unwrap();
    fs::hard_link(&v, &log).unwrap();
    let before = snapshot(&t);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("2 links", &["rm ", "reconfigure.log"]);
    assert_eq!(Fingerprint::of(&v), fp);
    before.assert_unchanged(&snapshot(&t), &"hard-linked reconfigure.log");

    // Once removed, the log is root's again and reconfigure runs.
    fs::remove_file(&log).unwrap();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(fs::read_to_string(&log).unwrap().contains("reconfigure: "));
    assert_eq!(Fingerprint::of(&v), fp);
}

#[test]
fn a_control_character_in_a_path_is_not_imported_and_refused_at_resolve() {
    let t = TestRoot::builder()
        .default_settings()
        .secrets_init()
        .build();
    let rb = t.aux().join("gitlab.rb");
    fs::write(
        &rb,
        r#"external_url 'https://gitlab.example.com'
gitlab_rails['incoming_email_enabled'] = true
gitlab_rails['incoming_email_address'] = "incoming+%{key}@incoming.example.com"
gitlab_rails['incoming_email_email'] = "incoming@incoming.example.com"
gitlab_rails['incoming_email_password'] = "imap-pass"
gitlab_rails['incoming_email_host'] = "imap.example.com"
gitlab_rails['incoming_email_port'] = 993
gitlab_rails['incoming_email_ssl'] = true
gitlab_rails['incoming_email_log_file'] = "/var/log/gitlab/mailroom/x\n* * * * * root touch /PWNED #/mail_room_json.log"
"#,
    )
    .unwrap();
    let out = t
        .toolctl([
            "import",
            "gitlab-rb",
            rb.to_str().unwrap(),
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(0);
    let not_imported = out.json()["not_imported"].clone();
    assert!(
        not_imported
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["line"] == 9
                && n["name"] == "gitlab_rails['incoming_email_log_file']"
                && n["reason"] == "control character in a path"),
        "{out}"
    );
    let toml = fs::read_to_string(t.config_file()).unwrap();
    assert!(
        !toml.contains("PWNED") && !toml.contains("log_file"),
        "{toml}"
    );

    // Written by hand in toolctl.toml (or by `config set`): refused at resolve, for every
    // path setting.
    for (table, key, value) in [
        (
            "incoming_email",
            "log_file",
            r#""/var/log/gitlab/mailroom/x\n* * * * * root touch /PWNED #/y.log""#,
        ),
        (
            "incoming_email",
            "ca_file",
            r#""/etc/ssl/ca\u001b]0;title\u0007.pem""#,
        ),
        (
            "gitlab",
            "encrypted_settings_dir",
            r#""/var/opt/gitlab/x\ry""#,
        ),
        ("logging", "log_directory", r#""/var/log/tool\nctl""#),
    ] {
        let t2 = TestRoot::copy_of(&t);
        let toml = fs::read_to_string(t2.config_file()).unwrap();
        let toml = if toml.contains(&format!("[{table}]\n")) {
            toml.replacen(
                &format!("[{table}]\n"),
                &format!("[{table}]\n{key} = {value}\n"),
                1,
            )
        } else {
            format!("{toml}\n[{table}]\n{key} = {value}\n")
        };
        fs::write(t2.config_file(), toml).unwrap();
        let before = t2.snapshot();
        let out = t2.toolctl(["reconfigure"]).run();
        out.assert_error("control character in a path", &[]);
        assert!(
            out.stderr
                .contains(&format!("hint: write `{table}.{key}` without newlines")),
            "{out}"
        );
        assert!(!out.stderr.contains('\u{1b}'), "{out}");
        before.assert_unchanged(&t2.snapshot(), &key);
    }
}

use crate::gitlab::BASE;
const ENC_DIR: &str = "var/opt/gitlab/gitlab-rails/shared/encrypted_settings";

/// omnibus' layout with git = nobody: `shared/` is git's (0751); a first reconfigure wrote
/// git's `encrypted_settings/smtp.yaml.enc`.
fn gitlab_root() -> TestRoot {
    let t = TestRoot::builder()
        .settings(
            r#"external_url = "https://gitlab.example.com"

[email]
from = "gitlab@example.com"

[smtp]
enabled = true
address = "smtp.example.com"
port = 587
domain = "example.com"
authentication = "login"

[gitlab]
install = "omnibus"
secrets_file = "/etc/gitlab/gitlab-secrets.json"
encrypted_settings_dir = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings"
user = "nobody"
group = "nogroup"
"#,
        )
        .secrets_init()
        .build();
    let path = t.path("etc/gitlab/gitlab-secrets.json");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = serde_json::json!({"gitlab_rails": {"encrypted_settings_key_base": BASE}});
    fs::write(&path, doc.to_string()).unwrap();
    chmod(&path, 0o600);
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'smtp-pass'\n",
    );
    let shared = t.path("var/opt/gitlab/gitlab-rails/shared");
    fs::create_dir_all(&shared).unwrap();
    NOBODY.own(&shared);
    chmod(&shared, 0o751);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(t.path(ENC_DIR).join("smtp.yaml.enc").is_file());
    t
}

#[test]
fn import_gitlab_secrets_never_follows_a_link_nor_opens_a_device_or_fifo_git_plants() {
    let t = gitlab_root();
    let es = t.path(ENC_DIR);
    let smtp = es.join("smtp.yaml.enc");
    let (v, _) = victim(&t);
    fs::write(&v, "ROOT-ONLY-SECRET\n").unwrap();
    let fp_v = Fingerprint::of(&v);
    NOBODY.sh_ok(&format!("mv {s} {s}.orig", s = smtp.display()));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a link to a root-only file",
            format!("ln -s {} {}", v.display(), smtp.display()),
            "symbolic link",
        ),
        (
            "a link to a device",
            format!("ln -s /dev/ptmx {}", smtp.display()),
            "symbolic link",
        ),
        (
            "a FIFO",
            format!("mkfifo {}", smtp.display()),
            "not a regular file",
        ),
    ];
    for (what, plant, error) in cases {
        NOBODY.sh_ok(&plant);
        let store_before = Snapshot::of(&t.secrets_dir());
        let started = std::time::Instant::now();
        let out = t.toolctl(["import", "gitlab-secrets"]).run();
        out.assert_error(error, &["smtp.yaml.enc", "nothing was written"]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what}: hung"
        );
        assert!(!out.stderr.contains("ROOT-ONLY"), "{what}\n{out}");
        store_before.assert_unchanged(&Snapshot::of(&t.secrets_dir()), &what);
        assert_eq!(Fingerprint::of(&v), fp_v, "{what}");
        fs::remove_file(&smtp).unwrap();
    }
    // A second name for a root-only file (made by root here: `fs.protected_hardlinks=0`
    // would let git make it).
    fs::hard_link(&v, &smtp).unwrap();
    let out = t.toolctl(["import", "gitlab-secrets"]).run();
    out.assert_error("2 names", &["smtp.yaml.enc"]);
    assert!(!out.stderr.contains("ROOT-ONLY"), "{out}");
    fs::remove_file(&smtp).unwrap();
    // The directory itself replaced by a link: refused.
    NOBODY.sh_ok(&format!(
        "mv {s}.orig {s} && mv {e} {e}.real && ln -s {e}.real {e}",
        s = smtp.display(),
        e = es.display()
    ));
    t.toolctl(["import", "gitlab-secrets"])
        .run()
        .assert_error("symbolic link", &["encrypted_settings"]);
    NOBODY.sh_ok(&format!("rm {e} && mv {e}.real {e}", e = es.display()));
    // Links and FIFOs under other names are listed, never opened; the real file is imported.
    NOBODY.sh_ok(&format!(
        "ln -s {v} {e}/ldap.yaml.enc && mkfifo {e}/redis.yaml.enc && ln -s /dev/ptmx {e}/x.yaml.enc",
        v = v.display(),
        e = es.display()
    ));
    let out = t
        .toolctl(["import", "gitlab-secrets", "--output-format", "json"])
        .run();
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["imported"][0]["scope"], "smtp", "{out}");
    let listed: Vec<(String, String)> = doc["not_imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["file"].as_str().unwrap().to_string(),
                n["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "ldap.yaml.enc".to_string(),
                "a symbolic link: not followed".to_string()
            ),
            (
                "redis.yaml.enc".to_string(),
                "not a regular file: not opened".to_string()
            ),
            (
                "x.yaml.enc".to_string(),
                "a symbolic link: not followed".to_string()
            ),
        ],
        "{out}"
    );
    assert_eq!(Fingerprint::of(&v), fp_v);
}

#[test]
fn import_gitlab_secrets_shows_file_names_with_their_control_bytes_escaped() {
    let t = gitlab_root();
    let es = t.path(ENC_DIR);
    let name = "\u{1b}]0;pwned\u{7}\u{1b}[2J\rx.yaml.enc";
    NOBODY.sh_ok(&format!(
        "touch \"{}/$(printf '\\033]0;pwned\\007\\033[2J\\rx.yaml.enc')\"",
        es.display()
    ));
    assert!(es.join(name).exists());
    let out = t.toolctl(["import", "gitlab-secrets"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'),
        "{out}"
    );
    assert!(
        text.contains(r"\x1b]0;pwned\x07\x1b[2J\x0dx.yaml.enc"),
        "{out}"
    );
    // JSON carries the name unchanged (JSON-escaped).
    let out = t
        .toolctl(["import", "gitlab-secrets", "--output-format", "json"])
        .run();
    out.assert_code(0);
    assert_eq!(out.json()["not_imported"][0]["file"], name, "{out}");
}

/// `tail` in a log directory mail_room's user owns, holding a second name (hard link) of
/// a root-only key and of a root-owned log. The links are made by root here, standing in
/// for `fs.protected_hardlinks=0` (the sysctl is not changed).
#[test]
fn tail_never_prints_a_hard_link_to_a_file_the_directorys_owner_cannot_read() {
    use crate::tail::{logs, write_log, Tail};
    use std::os::unix::fs::PermissionsExt;
    let t = TestRoot::new();
    let a = Attacker::new();
    let root_log = write_log(&t, "gitlab/production.log", "root-log-line\n");
    let svc = logs(&t).join("mailroom");
    fs::create_dir_all(&svc).unwrap();
    fs::set_permissions(&svc, fs::Permissions::from_mode(0o755)).unwrap();
    a.own(&svc);
    a.sh_ok(&format!(
        "echo attacker-line > '{}/mail_room.log'",
        svc.display()
    ));
    let key = t.path("etc/toolctl/secrets.key");
    fs::create_dir_all(key.parent().unwrap()).unwrap();
    fs::write(&key, "AGE-SECRET-KEY-1HARDLINKEDKEYMUSTNOTSHOW\n").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let before = Fingerprint::of(&key);
    fs::hard_link(&key, svc.join("key.log")).unwrap();
    // World-readable, but root's and with two names: not the directory owner's file.
    fs::set_permissions(&root_log, fs::Permissions::from_mode(0o644)).unwrap();
    fs::hard_link(&root_log, svc.join("prod.log")).unwrap();

    for args in [&[][..], &["mailroom"][..], &["mailroom/key.log"][..]] {
        let mut tail = Tail::start(&t, args);
        if args.is_empty() {
            tail.expect("root-log-line\n");
        }
        if args.len() < 2 && args != ["mailroom/key.log"] {
            tail.expect("attacker-line\n");
        }
        if args.is_empty() {
            tail.sync(&root_log);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !tail.stderr().contains("key.log` cannot be read by")
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let (out, err) = (tail.text(), tail.stderr());
        assert!(
            !out.contains("HARDLINKEDKEY") && !err.contains("HARDLINKEDKEY"),
            "{args:?}\n{out}\n{err}"
        );
        assert!(
            err.contains("mailroom/key.log` cannot be read by"),
            "{args:?}\n{err}"
        );
        assert_eq!(
            err.matches("key.log` cannot be read by").count(),
            1,
            "{err}"
        );
        if args != ["mailroom/key.log"] {
            assert!(
                err.contains("mailroom/prod.log` is one of 2 names of a file owned by"),
                "{args:?}\n{err}"
            );
            assert!(!out.contains("==> mailroom/prod.log <=="), "{out}");
        }
        drop(tail);
    }
    assert_eq!(Fingerprint::of(&key), before);
}
