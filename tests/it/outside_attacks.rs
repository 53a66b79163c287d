//! Directories outside the rendered tree: GitLab's encrypted settings and mail_room's log directories are opened from
//! `--root` without following a link, through directories only root or their future owner
//! can change; an existing one is never chowned nor chmodded; gitlab.rb cannot pick where
//! reconfigure creates mail_room's directories.
//!
//! The attacker is `nobody` (uid 65534): the service account the settings name as GitLab's
//! or mail_room's user (`[gitlab] user`, `[mailroom] user` must be users the system knows),
//! acting with `setpriv` exactly as a compromised service would. Every link is planted in a
//! non-sticky directory that account owns.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{chmod, mode, Snapshot, TestRoot};

const NOBODY: Attacker = Attacker {
    uid: 65534,
    gid: 65534,
};
use crate::gitlab::BASE;
const SHARED: &str = "var/opt/gitlab/gitlab-rails/shared";
const ENC_DIR: &str = "var/opt/gitlab/gitlab-rails/shared/encrypted_settings";

const SETTINGS: &str = r#"external_url = "https://gitlab.example.com"

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
"#;

fn write_key_bases(t: &TestRoot, rotated: &[String]) {
    let path = t.path("etc/gitlab/gitlab-secrets.json");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = serde_json::json!({
        "gitlab_rails": {
            "encrypted_settings_key_base": BASE,
            "rotated_encrypted_settings_key_base": rotated,
        }
    });
    fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    chmod(&path, 0o600);
}

/// omnibus' layout: `shared/` is git's (here nobody's), 0751; `encrypted_settings` is not
/// there yet.
fn gitlab_root() -> TestRoot {
    let t = TestRoot::builder()
        .settings(SETTINGS)
        .secrets_init()
        .build();
    write_key_bases(&t, &[]);
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'smtp-pass'\n",
    );
    let shared = t.path(SHARED);
    fs::create_dir_all(&shared).unwrap();
    NOBODY.own(&shared);
    chmod(&shared, 0o751);
    t
}

/// A directory only root may read, with a file in it: what the attacker points a link at.
fn root_only(t: &TestRoot) -> (PathBuf, Fingerprint, Fingerprint) {
    let victim = t.path("root-only");
    fs::create_dir(&victim).unwrap();
    chmod(&victim, 0o700);
    fs::write(victim.join("id_rsa"), "PRIVATE KEY\n").unwrap();
    chmod(&victim.join("id_rsa"), 0o600);
    let dir = Fingerprint::of(&victim);
    let file = Fingerprint::of(&victim.join("id_rsa"));
    (victim, dir, file)
}

/// Everything under the root but toolctl's own rendered tree and its lock, which a
/// reconfigure creates before it plans (and which no other user can change).
fn snapshot(t: &TestRoot) -> Snapshot {
    let mut s = t.snapshot();
    s.0.retain(|p, _| !p.starts_with("var/opt/toolctl"));
    s
}

fn owner(p: &Path) -> (u32, u32) {
    let m = fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn git_creates_nothing_but_its_own_encrypted_settings_and_a_link_in_its_place_is_refused() {
    let t = gitlab_root();
    // Created inside git's own tree: allowed, owned by git, 0700.
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let es = t.path(ENC_DIR);
    assert_eq!(owner(&es), (65534, 65534));
    assert_eq!(mode(&es), 0o700);
    assert!(es.join("smtp.yaml.enc").is_file());
    // git swaps the directory for a link to a root-only one, then waits for reconfigure.
    let (victim, dir_before, file_before) = root_only(&t);
    NOBODY.sh_ok(&format!(
        "mv {es} {es}.old && ln -s {v} {es}",
        es = es.display(),
        v = victim.display()
    ));
    let before = snapshot(&t);
    for args in [vec!["reconfigure"], vec!["reconfigure", "--dry-run"]] {
        t.toolctl(&args)
            .run()
            .assert_error("symbolic link", &["encrypted_settings", "remove the link"]);
        assert_eq!(Fingerprint::of(&victim), dir_before, "{args:?}");
        assert_eq!(Fingerprint::of(&victim.join("id_rsa")), file_before);
        before.assert_unchanged(&snapshot(&t), &format!("{args:?}"));
    }
    // Even with the secret changed (something to write), nothing goes through the link.
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'changed'\n",
    );
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("symbolic link", &["encrypted_settings"]);
    assert_eq!(Fingerprint::of(&victim), dir_before);
    assert_eq!(Fingerprint::of(&victim.join("id_rsa")), file_before);
}

#[test]
fn a_link_above_the_encrypted_settings_is_refused_too() {
    let t = gitlab_root();
    let (victim, dir_before, _) = root_only(&t);
    // git owns gitlab-rails/ here too: it replaces shared/ by a link.
    let rails = t.path("var/opt/gitlab/gitlab-rails");
    NOBODY.own(&rails);
    let shared = t.path(SHARED);
    NOBODY.sh_ok(&format!(
        "mv {s} {s}.old && ln -s {v} {s}",
        s = shared.display(),
        v = victim.display()
    ));
    let before = snapshot(&t);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("symbolic link", &["shared"]);
    assert_eq!(Fingerprint::of(&victim), dir_before);
    before.assert_unchanged(&snapshot(&t), &"linked shared/");
}

#[test]
fn an_existing_encrypted_settings_directory_with_another_owner_or_mode_is_refused_not_fixed() {
    let t = gitlab_root();
    let es = t.path(ENC_DIR);
    // Root's, 0755 (made by hand, or by an older toolctl before `[gitlab] user` was set).
    fs::create_dir(&es).unwrap();
    chmod(&es, 0o755);
    let fp = Fingerprint::of(&es);
    let before = snapshot(&t);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("mode 0755", &["chown nobody:65534", "chmod 0700"]);
    assert_eq!(Fingerprint::of(&es), fp);
    before.assert_unchanged(&snapshot(&t), &"root's 0755 encrypted_settings");
    // git's, but 0777: the mode is not fixed either.
    NOBODY.own(&es);
    chmod(&es, 0o777);
    let fp = Fingerprint::of(&es);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("mode 0777", &["chmod 0700"]);
    assert_eq!(Fingerprint::of(&es), fp);
    // Once the administrator ran the hint, reconfigure writes into it.
    chmod(&es, 0o700);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(es.join("smtp.yaml.enc").is_file());
    assert_eq!(owner(&es.join("smtp.yaml.enc")), (65534, 65534));
}

/// The mailroom-redis fixture (mail_room runs as nobody) with Service Desk's log one level
/// below the incoming mailbox's log directory.
fn mailroom_root() -> TestRoot {
    let t = crate::reconfigure::root_from(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"),
    );
    let toml = fs::read_to_string(t.config_file()).unwrap().replacen(
        "start_tls = true\n",
        "start_tls = true\nlog_file = \"/var/log/toolctl/mailroom/nested/mail_room_json.log\"\n",
        1,
    );
    fs::write(t.config_file(), toml).unwrap();
    t
}

#[test]
fn mail_room_replacing_its_nested_log_directory_with_a_link_gets_nothing() {
    let t = mailroom_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let nested = t.path("var/log/toolctl/mailroom/nested");
    assert_eq!(owner(&nested), (65534, 65534));
    assert_eq!(mode(&nested), 0o750);
    let (victim, dir_before, file_before) = root_only(&t);
    // mail_room owns var/log/toolctl/mailroom: it plants the link there.
    NOBODY.sh_ok(&format!(
        "rmdir {n} && ln -s {v} {n}",
        n = nested.display(),
        v = victim.display()
    ));
    let before = snapshot(&t);
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("symbolic link", &["nested"]);
    assert_eq!(Fingerprint::of(&victim), dir_before);
    assert_eq!(Fingerprint::of(&victim.join("id_rsa")), file_before);
    before.assert_unchanged(&snapshot(&t), &"linked nested log directory");
}

#[test]
fn an_existing_log_directory_with_another_owner_is_refused_with_the_chown_command() {
    let t = mailroom_root();
    let nested = t.path("var/log/toolctl/mailroom/nested");
    fs::create_dir_all(&nested).unwrap();
    // The incoming mailbox's directory is already mail_room's; the nested one is root's.
    let parent = t.path("var/log/toolctl/mailroom");
    NOBODY.own(&parent);
    chmod(&parent, 0o750);
    chmod(&nested, 0o750);
    let fp = Fingerprint::of(&nested);
    let before = snapshot(&t);
    t.toolctl(["reconfigure"]).run().assert_error(
        "owned by root",
        &["chown nobody:65534", "chmod 0750", "nested"],
    );
    assert_eq!(Fingerprint::of(&nested), fp);
    before.assert_unchanged(&snapshot(&t), &"root's nested log directory");
}

#[test]
fn an_imported_log_file_outside_the_log_directories_is_listed_then_refused() {
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
gitlab_rails['incoming_email_log_file'] = "/etc/systemd/system/ssh.service.d/mail_room.log"
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
    let listed = &out.json()["outside_paths"];
    assert_eq!(
        listed,
        &serde_json::json!([{
            "line": 9,
            "key": "incoming_email.log_file",
            "path": "/etc/systemd/system/ssh.service.d/mail_room.log",
        }]),
        "{out}"
    );
    assert!(
        out.stderr.lines().any(|l| l.contains("warning")
            && l.contains("/etc/systemd/system/ssh.service.d/mail_room.log")
            && l.contains("outside /var/log, /var/opt, /etc/gitlab and /opt/gitlab")),
        "{out}"
    );
    let before = snapshot(&t);
    t.toolctl(["reconfigure"]).run().assert_error(
        "incoming_email.log_file",
        &["/var/log/", "/var/opt/", "log_directory"],
    );
    before.assert_unchanged(&snapshot(&t), &"imported log_file under /etc/systemd");
    assert!(!t.path("etc/systemd").exists());
    // `..` does not get around it.
    let toml = fs::read_to_string(t.config_file()).unwrap().replace(
        "/etc/systemd/system/ssh.service.d/mail_room.log",
        "/var/log/../../etc/cron.d/mail_room.log",
    );
    fs::write(t.config_file(), toml).unwrap();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("incoming_email.log_file", &["/var/log/"]);
    assert!(!t.path("etc/cron.d").exists());
}

#[test]
fn more_than_16_rotated_key_bases_are_refused() {
    let t = gitlab_root();
    let rotated: Vec<String> = (0..17).map(|i| format!("{i:0>128}")).collect();
    write_key_bases(&t, &rotated);
    let before = snapshot(&t);
    let started = std::time::Instant::now();
    t.toolctl(["reconfigure"]).run().assert_error(
        "17 rotated key bases",
        &["rotated_encrypted_settings_key_base", "16"],
    );
    before.assert_unchanged(&snapshot(&t), &"17 rotated key bases");
    t.toolctl(["import", "gitlab-secrets"])
        .run()
        .assert_error("17 rotated key bases", &["16"]);
    // 16 are taken, and none is derived while the current key base opens every file.
    write_key_bases(&t, &rotated[..16]);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    println!("17 refused, 16 accepted twice in {:?}", started.elapsed());
}
