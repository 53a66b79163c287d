//! GitLab interoperability, checked against Ruby's own ActiveSupport: `import
//! gitlab-secrets` reads what Rails wrote, `reconfigure` writes what Rails reads (and
//! rewrites only on a content change or a rotated key base), bad files change nothing,
//! `smtp_settings.rb` loads in Ruby, and `gitlab.yml` uses GitLab's key names.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::harness::{mode, parallel_steps, TestRoot};

pub(crate) const BASE: &str = "4f1a2b3c4d5e6f708192a3b4c5d6e7f80112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0";
const OLD_BASE: &str = "0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld";
const SECRETS_JSON: &str = "etc/gitlab/gitlab-secrets.json";
const ENC_DIR: &str = "var/opt/gitlab/gitlab-rails/shared/encrypted_settings";

pub(crate) fn helper(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/gitlab")
        .join(name)
}

/// Ruby + ActiveSupport en- or decrypts `input` into `output` with the key base `base`.
fn ruby(t: &TestRoot, mode: &str, base: &str, input: &Path, output: &Path) {
    let base_file = t.aux().join("key_base");
    fs::write(&base_file, base).unwrap();
    let out = std::process::Command::new("ruby")
        .arg(helper("activesupport.rb"))
        .args([mode, base_file.to_str().unwrap()])
        .arg(input)
        .arg(output)
        .output()
        .expect("run ruby (Debian: ruby, ruby-activesupport)");
    assert!(
        out.status.success(),
        "ruby {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ruby_encrypt(t: &TestRoot, base: &str, yaml: &str, to: &Path) {
    let input = t.aux().join("plain.yaml");
    fs::write(&input, yaml).unwrap();
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    // reconfigure never chmods an existing directory outside its tree: the
    // encrypted settings directory is made as it wants it, 0700.
    if to.parent().unwrap().ends_with("encrypted_settings") {
        crate::harness::chmod(to.parent().unwrap(), 0o700);
    }
    ruby(t, "encrypt", base, &input, to);
}

pub(crate) fn ruby_decrypt(t: &TestRoot, base: &str, file: &Path) -> String {
    let output = t.aux().join("decrypted.yaml");
    ruby(t, "decrypt", base, file, &output);
    fs::read_to_string(&output).unwrap()
}

pub(crate) fn write_key_bases(t: &TestRoot, current: &str, rotated: &[&str]) {
    let path = t.path(SECRETS_JSON);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = serde_json::json!({
        "gitlab_rails": {
            "secret_key_base": "unrelated",
            "encrypted_settings_key_base": current,
            "rotated_encrypted_settings_key_base": rotated,
        }
    });
    fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

pub(crate) fn enc(t: &TestRoot, name: &str) -> PathBuf {
    t.path(ENC_DIR).join(name)
}

/// The values of a flat YAML mapping, as Ruby's YAML reads them.
fn yaml_values(text: &str) -> Vec<(String, String)> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).expect("YAML");
    docs[0]
        .as_hash()
        .expect("a mapping")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// The GitLab settings of these tests, without `[gitlab] install` (the last table is
/// `[gitlab]`, so a test appends the kind it wants).
macro_rules! gitlab_settings_base {
    () => {
        r#"external_url = "https://gitlab.example.com"

[email]
from = "gitlab@example.com"
reply_to = "noreply@example.com"

[smtp]
enabled = true
address = "smtp.example.com"
port = 587
domain = "example.com"
authentication = "login"
ca_file = "/etc/ssl/certs/ca-certificates.crt"

[incoming_email]
enabled = true
address = "incoming+%{key}@incoming.example.com"
host = "imap.example.com"
port = 993
ssl = true

[service_desk_email]
enabled = true
address = "contact+%{key}@incoming.example.com"
inbox_method = "microsoft_graph"
[service_desk_email.inbox_options]
tenant_id = "tenant"
client_id = "client"

[microsoft_graph_mailer]
enabled = true
user_id = "sender@example.com"
tenant = "tenant"
client_id = "mailer-client"

[mattermost]
external_url = "https://mattermost.example.com"
sql_data_source = "user=mattermost host=db.example.com dbname=mattermost"

[gitlab]
secrets_file = "/etc/gitlab/gitlab-secrets.json"
encrypted_settings_dir = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings"
user = "root"
group = "root"
"#
    };
}
/// [`GITLAB_SETTINGS`] without `install`: append `install = "…"` to it.
pub(crate) const GITLAB_SETTINGS_ANY_INSTALL: &str = gitlab_settings_base!();
/// The GitLab settings of these tests, for the Linux package.
pub(crate) const GITLAB_SETTINGS: &str =
    concat!(gitlab_settings_base!(), "install = \"omnibus\"\n");

pub(crate) fn gitlab_root() -> TestRoot {
    let t = TestRoot::builder()
        .settings(GITLAB_SETTINGS)
        .secrets_init()
        .build();
    write_key_bases(&t, BASE, &[]);
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'sm\xc3\xb8tp pass'\n",
    );
    t.write_secret(
        "incoming-email",
        b"user: 'incoming@example.com'\npassword: 'imap-pass'\n",
    );
    t.write_secret("service-desk-email", b"client_secret: 'sd-graph-secret'\n");
    t.write_secret(
        "microsoft-graph-mailer",
        b"client_secret: 'mailer-graph-secret'\n",
    );
    t
}

#[test]
fn ruby_encrypts_and_import_gitlab_secrets_reads_it_non_ascii_and_10_kib() {
    let t = TestRoot::builder()
        .default_settings()
        .secrets_init()
        .build();
    write_key_bases(&t, BASE, &[]);
    let long = "x".repeat(10 * 1024);
    let smtp = format!("user_name: \"gr\u{fc}\u{df}e@example.com\"\npassword: \"{long}\"\n");
    ruby_encrypt(&t, BASE, &smtp, &enc(&t, "smtp.yaml.enc"));
    ruby_encrypt(
        &t,
        BASE,
        "user: incoming@example.com\npassword: \"p\u{e4}ss \u{1f511}\"\n",
        &enc(&t, "incoming_email.yaml.enc"),
    );
    ruby_encrypt(
        &t,
        BASE,
        "main:\n  password: x\n",
        &enc(&t, "ldap.yaml.enc"),
    );
    // A scope that already holds a Graph secret keeps it.
    t.write_secret("incoming-email", b"client_secret: 'kept'\n");

    let out = t
        .toolctl(["import", "gitlab-secrets", "--output-format", "json"])
        .run();
    out.assert_code(0);
    let doc = out.json();
    crate::cli::assert_documented_json("toolctl import gitlab-secrets", &doc);
    let scopes: Vec<&str> = doc["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["smtp", "incoming-email"], "{out}");
    assert_eq!(doc["not_imported"][0]["file"], "ldap.yaml.enc", "{out}");
    assert!(
        !out.stdout_str().contains(&long[..64]),
        "a value was printed"
    );

    let shown = String::from_utf8(t.show_secret("smtp")).unwrap();
    assert_eq!(sorted(yaml_values(&shown)), sorted(yaml_values(&smtp)));
    let shown = String::from_utf8(t.show_secret("incoming-email")).unwrap();
    assert_eq!(
        sorted(yaml_values(&shown)),
        sorted(vec![
            ("client_secret".into(), "kept".into()),
            ("password".into(), "p\u{e4}ss \u{1f511}".into()),
            ("user".into(), "incoming@example.com".into()),
        ])
    );
    assert_eq!(mode(&t.secret_file("smtp")), 0o600);
}

#[test]
fn a_rotated_key_base_is_read_by_import_and_reconfigure_re_encrypts_with_the_current_one() {
    let t = gitlab_root();
    // Rails wrote smtp.yaml.enc with the old key base; GitLab rotated it since.
    let yaml = "user_name: \"relay@example.com\"\npassword: \"sm\u{f8}tp pass\"\n";
    ruby_encrypt(&t, OLD_BASE, yaml, &enc(&t, "smtp.yaml.enc"));
    write_key_bases(&t, BASE, &[OLD_BASE]);
    let out = t
        .toolctl(["import", "gitlab-secrets", "--output-format", "json"])
        .run();
    out.assert_code(0);
    assert_eq!(out.json()["imported"][0]["rotated_key_base"], true, "{out}");

    let out = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    out.assert_code(0);
    assert!(
        out.stdout_str()
            .contains("opened only with a rotated key base"),
        "{out}"
    );
    assert_eq!(
        ruby_decrypt(&t, BASE, &enc(&t, "smtp.yaml.enc")),
        yaml,
        "re-encrypted with the current key base"
    );
    let again = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    again.assert_code(0);
    assert_eq!(again.json()["changed"], 0, "{again}");
}

#[test]
fn wrong_key_base_truncated_file_and_flipped_tag_fail_with_exit_2_and_write_nothing() {
    let t = TestRoot::builder()
        .default_settings()
        .secrets_init()
        .build();
    write_key_bases(&t, BASE, &[]);
    let good = t.aux().join("good.enc");
    ruby_encrypt(&t, BASE, "user_name: u\npassword: p\n", &good);
    let bytes = fs::read(&good).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let tag_start = text.rfind("--").unwrap() + 2;
    let mut flipped = bytes.clone();
    // Change one base64 character of the tag: a different tag byte.
    flipped[tag_start] = if flipped[tag_start] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
            "cannot be decrypted",
            "--secrets-file",
        ),
        (
            "flipped tag",
            flipped,
            "does not decrypt with this key base",
            "--secrets-file",
        ),
    ];
    fs::create_dir_all(t.path(ENC_DIR)).unwrap();
    for (what, content, error, hint) in &cases {
        fs::write(enc(&t, "smtp.yaml.enc"), content).unwrap();
        let before = t.snapshot();
        t.toolctl(["import", "gitlab-secrets"])
            .run()
            .assert_error(error, &[hint]);
        before.assert_unchanged(&t.snapshot(), what);
    }
    // The good file, but another GitLab's key base.
    fs::write(enc(&t, "smtp.yaml.enc"), &bytes).unwrap();
    write_key_bases(&t, OLD_BASE, &[]);
    let before = t.snapshot();
    t.toolctl(["import", "gitlab-secrets"])
        .run()
        .assert_error("does not decrypt with this key base", &["--secrets-file"]);
    before.assert_unchanged(&t.snapshot(), &"wrong key base");
    // No key base at all.
    fs::remove_file(t.path(SECRETS_JSON)).unwrap();
    let before = t.snapshot();
    t.toolctl(["import", "gitlab-secrets"])
        .run()
        .assert_error("does not exist", &["gitlab-secrets.json"]);
    before.assert_unchanged(&t.snapshot(), &"missing key base");
    // A second file that does not decrypt: the first, good one is not imported either.
    write_key_bases(&t, BASE, &[]);
    ruby_encrypt(
        &t,
        OLD_BASE,
        "user: a\npassword: b\n",
        &enc(&t, "incoming_email.yaml.enc"),
    );
    let before = t.snapshot();
    t.toolctl(["import", "gitlab-secrets"])
        .run()
        .assert_error("incoming_email.yaml.enc", &["--secrets-file"]);
    before.assert_unchanged(&t.snapshot(), &"one bad file of two");
}

#[test]
fn reconfigure_writes_encrypted_settings_that_ruby_decrypts_and_rewrites_only_on_change() {
    let t = gitlab_root();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    let smtp = ruby_decrypt(&t, BASE, &enc(&t, "smtp.yaml.enc"));
    assert_eq!(
        sorted(yaml_values(&smtp)),
        sorted(vec![
            ("user_name".into(), "relay@example.com".into()),
            ("password".into(), "sm\u{f8}tp pass".into()),
        ])
    );
    let incoming = ruby_decrypt(&t, BASE, &enc(&t, "incoming_email.yaml.enc"));
    assert_eq!(
        sorted(yaml_values(&incoming)),
        sorted(vec![
            ("user".into(), "incoming@example.com".into()),
            ("password".into(), "imap-pass".into()),
        ])
    );
    // A Graph inbox has no encrypted file: its client_secret is in gitlab.yml.
    assert!(!enc(&t, "service_desk_email.yaml.enc").exists());
    for f in ["smtp.yaml.enc", "incoming_email.yaml.enc"] {
        assert_eq!(mode(&enc(&t, f)), 0o600, "{f}");
    }
    let before = fs::read(enc(&t, "smtp.yaml.enc")).unwrap();

    let again = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    again.assert_code(0);
    assert_eq!(again.json()["changed"], 0, "{again}");
    assert_eq!(fs::read(enc(&t, "smtp.yaml.enc")).unwrap(), before);

    // A new password: the diff is masked, names the changed key, and the file is rewritten.
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'N3w-secret'\n",
    );
    let out = t.toolctl(["reconfigure", "--diff"]).run();
    out.assert_code(0);
    let diff = out.stdout_str();
    assert!(diff.contains("+password: ********  # changed"), "{diff}");
    assert!(!diff.contains("N3w-secret") && !out.stderr.contains("N3w-secret"));
    assert!(!diff.contains("sm\u{f8}tp"), "{diff}");
    assert!(
        ruby_decrypt(&t, BASE, &enc(&t, "smtp.yaml.enc")).contains("N3w-secret"),
        "rewritten with the new password"
    );
    // gitlab.yml's plaintext Graph secret: neither the old nor the new one in a diff.
    t.write_secret(
        "microsoft-graph-mailer",
        b"client_secret: 'brand-new-graph'\n",
    );
    let out = t
        .toolctl(["reconfigure", "--diff", "--output-format", "json"])
        .run();
    out.assert_code(0);
    let diff = out.stdout_str();
    let updated = out.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["file"] == "gitlab.yml" && f["action"] == "update");
    assert!(updated, "{diff}");
    assert!(
        !diff.contains("brand-new-graph") && !diff.contains("mailer-graph-secret"),
        "{diff}"
    );
}

#[test]
fn reconfigure_refuses_a_file_no_key_base_opens_and_writes_nothing() {
    let t = gitlab_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.write_secret(
        "incoming-email",
        b"user: 'incoming@example.com'\npassword: 'changed'\n",
    );
    // Another GitLab's file: incoming_email.yaml.enc would change, but nothing may.
    ruby_encrypt(
        &t,
        OLD_BASE,
        "user_name: a\npassword: b\n",
        &enc(&t, "smtp.yaml.enc"),
    );
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("smtp.yaml.enc", &["secrets_file"]);
    before.assert_unchanged(&t.snapshot(), &"undecryptable smtp.yaml.enc");
    fs::write(t.path(SECRETS_JSON), "{\"gitlab_rails\": {}}").unwrap();
    fs::remove_file(enc(&t, "smtp.yaml.enc")).unwrap();
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("encrypted_settings_key_base", &["secrets_file"]);
    before.assert_unchanged(&t.snapshot(), &"no key base");
}

#[test]
fn gitlab_yml_uses_gitlabs_key_names_and_points_at_the_encrypted_files() {
    let t = gitlab_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let path = t.path("var/opt/toolctl/rendered/gitlab.yml");
    assert_eq!(mode(&path), 0o600);
    let text = fs::read_to_string(&path).unwrap();
    let doc = &yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0];
    let keys = |y: &yaml_rust2::Yaml| -> Vec<String> {
        y.as_hash()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(doc), ["production"]);
    let p = &doc["production"];
    assert_eq!(
        keys(p),
        [
            "gitlab",
            "incoming_email",
            "service_desk_email",
            "microsoft_graph_mailer",
            "mattermost"
        ]
    );
    assert_eq!(
        keys(&p["gitlab"]),
        [
            "email_enabled",
            "email_from",
            "email_reply_to",
            "email_smtp_secret_file"
        ]
    );
    let dir = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings";
    assert_eq!(
        p["gitlab"]["email_smtp_secret_file"].as_str(),
        Some(format!("{dir}/smtp.yaml.enc").as_str())
    );
    // GitLab's incoming_email keys (config/gitlab.yml.example), and only those.
    let allowed = [
        "enabled",
        "address",
        "host",
        "port",
        "ssl",
        "start_tls",
        "mailbox",
        "idle_timeout",
        "log_path",
        "delete_after_delivery",
        "expunge_deleted",
        "encrypted_secret_file",
        "delivery_method",
        "secret_file",
        "inbox_method",
        "inbox_options",
    ];
    for section in ["incoming_email", "service_desk_email"] {
        for k in keys(&p[section]) {
            assert!(
                allowed.contains(&k.as_str()),
                "{section}.{k} is not GitLab's"
            );
        }
    }
    assert_eq!(
        p["incoming_email"]["encrypted_secret_file"].as_str(),
        Some(format!("{dir}/incoming_email.yaml.enc").as_str())
    );
    assert!(p["incoming_email"]["user"].is_badvalue());
    assert!(p["incoming_email"]["password"].is_badvalue());
    assert_eq!(
        keys(&p["service_desk_email"]["inbox_options"]),
        [
            "tenant_id",
            "client_id",
            "client_secret",
            "poll_interval",
            "azure_ad_endpoint",
            "graph_endpoint"
        ]
    );
    assert_eq!(
        p["service_desk_email"]["inbox_options"]["client_secret"].as_str(),
        Some("sd-graph-secret")
    );
    assert_eq!(
        keys(&p["microsoft_graph_mailer"]),
        [
            "enabled",
            "user_id",
            "tenant",
            "client_id",
            "client_secret",
            "azure_ad_endpoint",
            "graph_endpoint"
        ]
    );
    assert_eq!(keys(&p["mattermost"]), ["enabled", "host"]);
    // No credential other than the two Graph client_secrets appears in plaintext.
    for v in ["relay@example.com", "imap-pass", "incoming@example.com"] {
        assert!(!text.contains(v), "gitlab.yml holds {v}");
    }
}

#[test]
fn smtp_settings_rb_passes_ruby_c_and_loads_under_a_stub() {
    let t = gitlab_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let rb = t.path("var/opt/toolctl/rendered/gitlab/smtp_settings.rb");
    assert_eq!(mode(&rb), 0o644);
    let text = fs::read_to_string(&rb).unwrap();
    assert!(!text.contains("relay@example.com") && !text.contains("sm\u{f8}tp"));
    let check = std::process::Command::new("ruby")
        .arg("-c")
        .arg(&rb)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
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
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "smtp_settings": {
                "authentication": ":login",
                "user_name": "stub-user",
                "password": "stub-password",
                "address": "smtp.example.com",
                "port": 587,
                "domain": "example.com",
                // Unset: left out, as omnibus does (the mail gem's default applies).
                "tls": false,
                "openssl_verify_mode": "peer",
                "ca_file": "/etc/ssl/certs/ca-certificates.crt",
            },
            "delivery_method": "smtp",
            "application_delivery_method": "smtp",
        })
    );
}

#[test]
fn gitlab_user_and_group_own_gitlabs_files() {
    let t = gitlab_root();
    let settings = GITLAB_SETTINGS
        .replace("user = \"root\"", "user = \"nobody\"")
        .replace("group = \"root\"", "group = \"nogroup\"");
    t.write_settings(&settings);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let uid = |name: &str| {
        let out = std::process::Command::new("id")
            .args(["-u", name])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap()
    };
    let nobody = uid("nobody");
    for p in [
        t.path("var/opt/toolctl/rendered/gitlab.yml"),
        t.path("var/opt/toolctl/rendered/gitlab/smtp_settings.rb"),
        enc(&t, "smtp.yaml.enc"),
        enc(&t, "incoming_email.yaml.enc"),
    ] {
        assert_eq!(fs::metadata(&p).unwrap().uid(), nobody, "{}", p.display());
    }
}

/// A copy of `from`'s whole tree (root and aux).
fn copy_root(from: &TestRoot) -> TestRoot {
    TestRoot::copy_of(from)
}

fn both_secrets(t: &TestRoot) -> (String, String) {
    let show = |scope: &str| {
        let out = t.toolctl([scope, "secret", "show"]).run();
        out.assert_code(0);
        out.stdout_str()
    };
    (show("smtp"), show("incoming-email"))
}

#[test]
fn a_kill_at_every_step_of_import_gitlab_secrets_leaves_all_old_or_all_new() {
    let base = TestRoot::builder()
        .default_settings()
        .secrets_init()
        .build();
    write_key_bases(&base, BASE, &[]);
    base.write_secret("smtp", b"user_name: 'old'\npassword: 'old'\n");
    base.write_secret("incoming-email", b"user: 'old'\npassword: 'old'\n");
    ruby_encrypt(
        &base,
        BASE,
        "user_name: new\npassword: new\n",
        &enc(&base, "smtp.yaml.enc"),
    );
    ruby_encrypt(
        &base,
        BASE,
        "user: new\npassword: new\n",
        &enc(&base, "incoming_email.yaml.enc"),
    );
    let old = both_secrets(&base);
    let new = {
        let t = copy_root(&base);
        t.toolctl(["import", "gitlab-secrets"]).run().assert_code(0);
        both_secrets(&t)
    };
    assert_ne!(old, new);
    let steps = {
        let t = copy_root(&base);
        let log = t.aux().join("failpoints.log");
        t.toolctl(["import", "gitlab-secrets"])
            .env("TOOLCTL_FAILPOINT_LOG", &log)
            .run()
            .assert_code(0);
        let mut seen = std::collections::BTreeMap::new();
        let mut out = Vec::new();
        for name in fs::read_to_string(&log).unwrap().lines() {
            if name.starts_with("reconfigure-") || name.starts_with("secrets-") {
                let n = seen.entry(name.to_string()).or_insert(0);
                *n += 1;
                out.push(format!("{name}:{n}"));
            }
        }
        out
    };
    assert!(
        steps.iter().any(|s| s.contains("journal-committed")),
        "{steps:?}"
    );
    let journal = |t: &TestRoot| t.path("var/opt/toolctl/secrets.import-journal");
    // Each step on its own copy of the base root, so the steps run in parallel.
    let journal_left = parallel_steps(&steps, |step| {
        let t = copy_root(&base);
        let killed = t
            .toolctl(["import", "gitlab-secrets"])
            .env("TOOLCTL_FAILPOINT", step)
            .run();
        assert_eq!(killed.code, None, "not killed at {step}\n{killed}");
        let left = journal(&t).exists();
        if !left {
            let now = both_secrets(&t);
            assert!(
                now == old || now == new,
                "killed at {step}: a mix of old and new"
            );
        }
        // The next import completes or undoes the interrupted one, then imports.
        t.toolctl(["import", "gitlab-secrets"]).run().assert_code(0);
        assert!(!journal(&t).exists(), "{step}: journal left");
        assert_eq!(both_secrets(&t), new, "after a kill at {step}");
        left
    });
    let without_journal = journal_left.iter().filter(|left| !**left).count();
    println!(
        "import gitlab-secrets: killed at {} steps ({} without a journal left)",
        steps.len(),
        without_journal
    );
}

/// `--root` given relative to the working directory renders the same tree, the
/// `.yaml.enc` files in GitLab's directory under the root (not under `<rendered>/<root>`).
#[test]
fn a_relative_root_renders_the_same_tree_as_the_absolute_one() {
    let t = gitlab_root();
    let abs = copy_root(&t);
    abs.toolctl(["reconfigure"]).run().assert_code(0);
    let parent = t.root().parent().unwrap();
    let name = t.root().file_name().unwrap();
    let mut cmd = crate::harness::Toolctl::bare([std::ffi::OsStr::new("--root"), name]).command();
    cmd.arg("reconfigure").current_dir(parent);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["smtp.yaml.enc", "incoming_email.yaml.enc"] {
        assert!(enc(&t, f).is_file(), "{f} is where GitLab reads it");
    }
    let stray = t
        .path("var/opt/toolctl/rendered")
        .join(t.root().strip_prefix("/").unwrap());
    assert!(!stray.exists(), "{}", stray.display());
    let tree = |r: &TestRoot| crate::harness::Snapshot::of(r.root()).paths();
    assert_eq!(tree(&t), tree(&abs));
}

/// `import gitlab-secrets` takes what GitLab takes: `:symbol` keys, extra keys
/// (listed, ignored), U+2028/U+2029 as Psych writes them, a `shared:` key base in
/// secrets.yml; and refuses a key base GitLab refuses ("Base key too small").
#[test]
fn import_gitlab_secrets_reads_what_gitlab_reads_and_refuses_what_it_refuses() {
    let t = TestRoot::builder()
        .default_settings()
        .secrets_init()
        .build();
    // A source install's secrets.yml with the key base under `shared:` only.
    let secrets_yml = t.path("home/git/gitlab/config/secrets.yml");
    fs::create_dir_all(secrets_yml.parent().unwrap()).unwrap();
    fs::write(
        &secrets_yml,
        format!(
            "shared:\n  encrypted_settings_key_base: {BASE}\nproduction:\n  db_key_base: other\n"
        ),
    )
    .unwrap();
    // As Psych writes a line separator: the blanks after it are indentation.
    let smtp = "---\n:user_name: relay@example.com\npassword: 'p\u{2028}  q\u{2029}  r'\nextra_setting: unused\n:open_timeout: 30\n";
    ruby_encrypt(&t, BASE, smtp, &enc(&t, "smtp.yaml.enc"));
    let out = t
        .toolctl([
            "import",
            "gitlab-secrets",
            "--secrets-file",
            "/home/git/gitlab/config/secrets.yml",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["imported"][0]["scope"], "smtp", "{out}");
    let listed: Vec<&str> = doc["not_imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "smtp.yaml.enc (key `extra_setting`)",
            "smtp.yaml.enc (key `open_timeout`)"
        ],
        "{out}"
    );
    let shown = String::from_utf8(t.show_secret("smtp")).unwrap();
    assert_eq!(
        sorted(yaml_values(&shown)),
        sorted(vec![
            ("password".into(), "p\u{2028}q\u{2029}r".into()),
            ("user_name".into(), "relay@example.com".into()),
        ])
    );

    // A key base under 16 characters: GitLab raises "Base key too small"; so does toolctl.
    for (current, rotated) in [("short-base", vec![]), (BASE, vec!["tiny"])] {
        write_key_bases(&t, current, &rotated);
        let before = t.snapshot();
        let out = t.toolctl(["import", "gitlab-secrets"]).run();
        out.assert_error(
            "Base key too small",
            &["at least 16 characters", "nothing was written"],
        );
        before.assert_unchanged(&t.snapshot(), &"a short key base");
    }
}
