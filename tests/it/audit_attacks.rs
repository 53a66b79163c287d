//! The audit after issue 19: reconfigure's own run log, control characters in path
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
        ("/var/opt/toolctl/rendered/mail_room_json.log", "/var/opt/toolctl/rendered"),
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
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("can be changed by a user other than root", &["chown root:root"]);
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
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("can be changed by a user other than root", &["chown root:root"]);
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
        not_imported.as_array().unwrap().iter().any(|n| n["line"] == 9
            && n["name"] == "gitlab_rails['incoming_email_log_file']"
            && n["reason"] == "control character in a path"),
        "{out}"
    );
    let toml = fs::read_to_string(t.config_file()).unwrap();
    assert!(!toml.contains("PWNED") && !toml.contains("log_file"), "{toml}");

    // Written by hand in toolctl.toml (or by `config set`): refused at resolve, for every
    // path setting.
    for (table, key, value) in [
        ("incoming_email", "log_file", r#""/var/log/gitlab/mailroom/x\n* * * * * root touch /PWNED #/y.log""#),
        ("incoming_email", "ca_file", r#""/etc/ssl/ca\u001b]0;title\u0007.pem""#),
        ("gitlab", "encrypted_settings_dir", r#""/var/opt/gitlab/x\ry""#),
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
