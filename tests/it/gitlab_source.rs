//! A source install (`[gitlab] install = "source"`): `reconfigure` renders the whole
//! `rendered/gitlab/gitlab.yml` from the administrator's own file (`base_config`), over a
//! base of GitLab's full gitlab.yml shape (tests/it/gitlab/gitlab.base.yml, written for
//! these tests): every base key kept, toolctl's sections in, credentials out, `gitlab_url`
//! present, Ruby's Psych loads it, ActiveSupport opens the encrypted files it names. A bad
//! base (no YAML, not GitLab's shape, toolctl's own file: a loop) is an exit 2 with a hint
//! and nothing written.

use std::fs;
use std::path::Path;

use crate::gitlab::{
    enc, gitlab_root, helper, ruby_decrypt, BASE, GITLAB_SETTINGS_ANY_INSTALL as GITLAB_SETTINGS,
};
use crate::harness::{mode, TestRoot};

const BASE_CONFIG: &str = "home/git/gitlab/config/gitlab.base.yml";
const MERGED: &str = "var/opt/toolctl/rendered/gitlab/gitlab.yml";

fn source_settings() -> String {
    format!("{GITLAB_SETTINGS}install = \"source\"\nbase_config = \"/{BASE_CONFIG}\"\n")
}

/// A root with GitLab's settings, a source install and the base file in place.
fn source_root(base: &[u8]) -> TestRoot {
    let t = gitlab_root();
    t.write_settings(&source_settings());
    let path = t.path(BASE_CONFIG);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, base).unwrap();
    t
}

fn full_base() -> Vec<u8> {
    fs::read(helper("gitlab.base.yml")).unwrap()
}

/// Every key path of a YAML document (aliases resolved, as yaml-rust reads them).
fn key_paths(y: &yaml_rust2::Yaml, prefix: &str, out: &mut Vec<String>) {
    if let Some(h) = y.as_hash() {
        for (k, v) in h {
            let k = match k {
                yaml_rust2::Yaml::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            let path = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            key_paths(v, &path, out);
        }
    }
}

/// The document as Ruby's Psych loads it (aliases and merge keys resolved), as JSON.
fn psych(path: &Path) -> serde_json::Value {
    let out = std::process::Command::new("ruby")
        .args([
            "-ryaml",
            "-rjson",
            "-e",
            "puts JSON.generate(YAML.load_file(ARGV[0], aliases: true))",
        ])
        .arg(path)
        .output()
        .expect("run ruby");
    assert!(
        out.status.success(),
        "Psych refused the merged gitlab.yml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_merged_gitlab_yml_keeps_every_base_key_and_adds_toolctls_sections_without_credentials() {
    let t = source_root(&full_base());
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let merged = t.path(MERGED);
    assert_eq!(mode(&merged), 0o600);
    // For this kind the partial gitlab.yml is not written.
    assert!(!t.path("var/opt/toolctl/rendered/gitlab.yml").exists());
    let text = fs::read_to_string(&merged).unwrap();
    assert!(
        text.starts_with("# Rendered by `toolctl reconfigure`"),
        "{text}"
    );

    let base_text = String::from_utf8(full_base()).unwrap();
    let base = &yaml_rust2::YamlLoader::load_from_str(&base_text).unwrap()[0];
    let got = &yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0];
    let (mut want_keys, mut got_keys) = (Vec::new(), Vec::new());
    key_paths(base, "", &mut want_keys);
    key_paths(got, "", &mut got_keys);
    for k in &want_keys {
        let credential = (k.contains("incoming_email.") || k.contains("service_desk_email."))
            && (k.ends_with(".user") || k.ends_with(".password"));
        assert_eq!(
            got_keys.contains(k),
            !credential,
            "{k}: kept = {}",
            got_keys.contains(k)
        );
    }
    // Values toolctl does not manage are the base's, through the anchors too.
    let doc = psych(&merged);
    let p = &doc["production"];
    assert_eq!(p["gitlab"]["host"], "gitlab.example.com");
    assert_eq!(p["gitlab"]["max_request_duration_seconds"], 57);
    assert_eq!(p["ldap"]["servers"]["main"]["port"], 389);
    assert_eq!(
        p["ldap"]["servers"]["main"]["attributes"]["email"],
        serde_json::json!(["mail", "email", "userPrincipalName"])
    );
    assert_eq!(
        p["cron_jobs"]["pipeline_schedule_worker"]["cron"],
        "3-59/10 * * * *"
    );
    assert_eq!(p["extra"]["matomo_url"], serde_json::Value::Null);
    assert_eq!(p["pages"]["external_http"], serde_json::json!([]));
    assert_eq!(doc["development"]["gitlab"]["port"], 3000);
    assert_eq!(doc["test"]["gravatar"]["enabled"], false);
    assert_eq!(doc["test"]["lfs"]["storage_path"], "shared/lfs-objects");

    // toolctl's sections win and are in.
    let dir = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings";
    assert_eq!(p["gitlab"]["email_from"], "gitlab@example.com");
    assert_eq!(p["gitlab"]["email_reply_to"], "noreply@example.com");
    assert_eq!(p["gitlab"]["email_display_name"], "GitLab");
    assert_eq!(
        p["gitlab"]["email_smtp_secret_file"],
        format!("{dir}/smtp.yaml.enc")
    );
    let ie = &p["incoming_email"];
    assert_eq!(ie["host"], "imap.example.com");
    assert_eq!(ie["address"], "incoming+%{key}@incoming.example.com");
    assert_eq!(
        ie["log_path"],
        "/var/log/toolctl/mailroom/mail_room_json.log"
    );
    assert_eq!(
        ie["encrypted_secret_file"],
        format!("{dir}/incoming_email.yaml.enc")
    );
    assert_eq!(ie["gitlab_url"], "https://gitlab.example.com");
    assert_eq!(p["service_desk_email"]["enabled"], true);
    assert_eq!(
        p["service_desk_email"]["gitlab_url"],
        "https://gitlab.example.com"
    );
    assert_eq!(p["mattermost"]["enabled"], true);
    assert_eq!(p["mattermost"]["host"], "https://mattermost.example.com");
    // Credentials out, in every environment (development and test inherit production's).
    for env in ["production", "development", "test"] {
        for mb in ["incoming_email", "service_desk_email"] {
            for k in ["user", "password"] {
                assert!(doc[env][mb].get(k).is_none(), "{env}.{mb}.{k} left");
            }
        }
    }
    for secret in [
        "plaintext-imap-pass",
        "plaintext-imap-user",
        "sd-pass",
        "imap-pass",
        "relay@example.com",
    ] {
        assert!(!text.contains(secret), "{secret} in the merged file");
    }

    // ActiveSupport opens the encrypted files the merged file names, with GitLab's key base.
    let smtp = p["gitlab"]["email_smtp_secret_file"].as_str().unwrap();
    let plain = ruby_decrypt(&t, BASE, &t.path(smtp.trim_start_matches('/')));
    assert!(plain.contains("relay@example.com"), "{plain}");
    let imap = ie["encrypted_secret_file"].as_str().unwrap();
    assert_eq!(
        t.path(imap.trim_start_matches('/')),
        enc(&t, "incoming_email.yaml.enc")
    );
    let plain = ruby_decrypt(&t, BASE, &enc(&t, "incoming_email.yaml.enc"));
    assert!(plain.contains("imap-pass"), "{plain}");
    // And GitLab's smtp initializer still loads (the step links it as it is).
    let rb = t.path("var/opt/toolctl/rendered/gitlab/smtp_settings.rb");
    let out = std::process::Command::new("ruby")
        .arg(helper("smtp_stub.rb"))
        .arg(&rb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A second run changes nothing.
    let out = t.toolctl(["reconfigure", "--dry-run", "--exit-code"]).run();
    out.assert_code(0);
}

#[test]
fn a_partial_gitlab_yml_left_by_another_kind_is_removed() {
    let t = gitlab_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(t.path("var/opt/toolctl/rendered/gitlab.yml").exists());
    t.write_settings(&source_settings());
    let path = t.path(BASE_CONFIG);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, full_base()).unwrap();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(!t.path("var/opt/toolctl/rendered/gitlab.yml").exists());
    assert!(t.path(MERGED).exists());
}

#[test]
fn a_bad_base_is_refused_with_a_hint_and_nothing_written() {
    // Does not parse; not GitLab's shape; missing.
    for (what, base, error) in [
        (
            "unparsable",
            &b"production:\n  gitlab: [unclosed\n"[..],
            "does not parse",
        ),
        ("a list", &b"- production\n"[..], "not a mapping"),
        (
            "no production",
            &b"development:\n  gitlab: {}\n"[..],
            "no `production:`",
        ),
    ] {
        let t = source_root(base);
        let before = t.snapshot();
        t.toolctl(["reconfigure"])
            .run()
            .assert_error(error, &["gitlab.base.yml", "nothing was written"]);
        before.assert_unchanged(&t.snapshot(), &what);
    }
    // A base that is toolctl's own rendered file: by path, through a link, or a copy.
    let t = source_root(&full_base());
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let rendered = fs::read(t.path(MERGED)).unwrap();
    type Plant = Box<dyn Fn(&TestRoot)>;
    let loops: [(&str, Plant); 3] = [
        (
            "the rendered path",
            Box::new(|t: &TestRoot| {
                let s =
                    format!("{GITLAB_SETTINGS}install = \"source\"\nbase_config = \"/{MERGED}\"\n");
                t.write_settings(&s);
            }),
        ),
        (
            "a link to it",
            Box::new(|t: &TestRoot| {
                let p = t.path(BASE_CONFIG);
                fs::remove_file(&p).unwrap();
                std::os::unix::fs::symlink(format!("/{MERGED}"), &p).unwrap();
            }),
        ),
        (
            "a copy of it",
            Box::new(move |t: &TestRoot| fs::write(t.path(BASE_CONFIG), &rendered).unwrap()),
        ),
    ];
    for (what, plant) in loops {
        let t = source_root(&full_base());
        t.toolctl(["reconfigure"]).run().assert_code(0);
        plant(&t);
        let before = t.snapshot();
        let out = t.toolctl(["reconfigure"]).run();
        out.assert_error("gitlab.base_config", &["never the rendered file"]);
        assert!(
            out.stderr.contains("loop"),
            "{what}: the error does not say loop\n{out}"
        );
        before.assert_unchanged(&t.snapshot(), &what);
    }
    // `install = "source"` without a base: the settings rule.
    let t = gitlab_root();
    t.write_settings(&format!("{GITLAB_SETTINGS}install = \"source\"\n"));
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("gitlab.base_config", &["base_config"]);
    before.assert_unchanged(&t.snapshot(), &"no base_config");
}

/// GitLab's user owns its tree, base included. Where `fs.protected_hardlinks` is 0 it can
/// give the base a second name for a root-only file (planted here by root, standing in for
/// that; the sysctl is not changed): toolctl refuses to read it, so root's bytes never reach
/// the gitlab.yml that user owns, and the root-only file is untouched.
#[test]
fn a_base_that_gitlabs_user_cannot_read_is_refused_and_nothing_is_written() {
    use crate::attacker::Fingerprint;
    use std::os::unix::fs::PermissionsExt;
    let t = source_root(&full_base());
    t.write_settings(&source_settings().replace(
        "user = \"root\"\ngroup = \"root\"\n",
        "user = \"nobody\"\ngroup = \"nogroup\"\n",
    ));
    let victim = t.path("root/secret.yml");
    fs::create_dir_all(victim.parent().unwrap()).unwrap();
    fs::write(
        &victim,
        "production:\n  secret_key_base: ROOT-ONLY-SECRET\n",
    )
    .unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    let base = t.path(BASE_CONFIG);
    fs::remove_file(&base).unwrap();
    fs::hard_link(&victim, &base).unwrap();
    // The GitLab tree is GitLab's user's.
    for dir in ["home/git", "home/git/gitlab", "home/git/gitlab/config"] {
        std::os::unix::fs::lchown(t.path(dir), Some(65534), Some(65534)).unwrap();
    }
    let before_victim = Fingerprint::of(&victim);
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(2);
    out.assert_error("cannot read it", &["base"]);
    assert!(!out.stderr.contains("ROOT-ONLY-SECRET"), "{out}");
    before.assert_unchanged(&t.snapshot(), &"the refused base");
    assert_eq!(Fingerprint::of(&victim), before_victim);
    assert!(!t.path(MERGED).exists());
}
