//! The gitlab.rb fragment (`[gitlab] install = "omnibus"` / `"docker"`), checked against
//! its consumer as far as it exists here: `ruby -c`, and a Mixlib::Config harness written
//! for these tests (`gitlab/mixlib_harness.rb`, on Debian's ruby-mixlib-config) that
//! evaluates a gitlab.rb with leftovers and then the `from_file` line, as the Linux package
//! and its Docker image do. Also: the round trip through `import gitlab-rb`, bad input,
//! `reconfigure --apply` with a recording `gitlab-ctl`, the wiring check of `status`, and
//! the consumers' own refusals (`xoauth2`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::harness::{mode, TestRoot};

use crate::gitlab::BASE;
const FRAGMENT: &str = "var/opt/toolctl/rendered/gitlab/gitlab.rb";
const TOKEN: &str = "var/opt/toolctl/rendered/mailroom/.gitlab_mailroom_secret";
const LOAD: &str = "from_file \"/var/opt/toolctl/rendered/gitlab/gitlab.rb\"";

/// Everything the fragment carries; the mailbox name is hostile to Ruby's quoting.
const MAIL: &str = r#"external_url = "https://gitlab.example.com"

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
mailbox = "in\"box #{1} \\ x"
expunge_deleted = true

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
sql_data_source = "user=mm host=/run/postgresql dbname=mattermost"
"#;

const OMNIBUS: &str = r#"
[gitlab]
install = "omnibus"
secrets_file = "/etc/gitlab/gitlab-secrets.json"
encrypted_settings_dir = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings"
user = "root"
group = "root"
"#;

const DOCKER: &str = r#"
[gitlab]
install = "docker"
container_root = "/srv/gitlab"
secrets_file = "/srv/gitlab/etc/gitlab/gitlab-secrets.json"
encrypted_settings_dir = "/srv/gitlab/var/opt/gitlab/gitlab-rails/shared/encrypted_settings"
user = "998"
group = "998"
"#;

fn harness() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/gitlab/mixlib_harness.rb")
}

fn write_key_bases(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = json!({"gitlab_rails": {"encrypted_settings_key_base": BASE}});
    fs::write(path, doc.to_string()).unwrap();
}

fn root(gitlab: &str, secrets_json: &str) -> TestRoot {
    let t = TestRoot::builder()
        .settings(format!("{MAIL}{gitlab}"))
        .secrets_init()
        .build();
    write_key_bases(&t.path(secrets_json));
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'smtp \"pass\" #{x}'\n",
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

fn omnibus_root() -> TestRoot {
    root(OMNIBUS, "etc/gitlab/gitlab-secrets.json")
}

/// `ruby -c` on a file.
fn ruby_c(path: &Path) {
    let out = std::process::Command::new("ruby")
        .arg("-c")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Evaluates `<under>/etc/gitlab/gitlab.rb` with the harness; `env`: the Docker image's
/// GITLAB_OMNIBUS_CONFIG, evaluated first.
fn evaluate(under: &Path, env: Option<&str>) -> Result<serde_json::Value, String> {
    let mut cmd = std::process::Command::new("ruby");
    cmd.arg(harness()).arg(under);
    match env {
        None => {
            cmd.arg("omnibus");
        }
        Some(text) => {
            let file = under.join("omnibus_config.rb");
            fs::write(&file, text).unwrap();
            cmd.arg("docker").arg(file);
        }
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

/// The leftovers a real gitlab.rb may hold before the `from_file` line.
const LEFTOVERS: &str = "external_url 'https://gitlab.example.com'
gitlab_rails['smtp_user_name'] = 'left@example.com'
gitlab_rails['smtp_password'] = 'left-password'
gitlab_rails['smtp_address'] = 'old.example.com'
gitlab_rails['smtp_authentication'] = 'plain'
gitlab_rails['incoming_email_email'] = 'old@example.com'
gitlab_rails['incoming_email_password'] = 'old-imap'
gitlab_rails['service_desk_email_email'] = 'old-sd@example.com'
gitlab_rails['time_zone'] = 'UTC'
nginx['listen_port'] = 8080
";

fn read(t: &TestRoot, rel: &str) -> String {
    fs::read_to_string(t.path(rel)).unwrap()
}

/// Every `gitlab_rails` value the fragment of [`MAIL`] gives GitLab (`token`: the webhook
/// token), with the leftovers it does not touch.
fn expected_rails(token: &str) -> serde_json::Value {
    let smtp = json!({
        "gitlab_email_from": "gitlab@example.com",
        "gitlab_email_reply_to": "noreply@example.com",
        "smtp_enable": true,
        "smtp_address": "smtp.example.com",
        "smtp_port": 587,
        "smtp_domain": "example.com",
        "smtp_authentication": "login",
        "smtp_enable_starttls_auto": null,
        "smtp_tls": false,
        "smtp_openssl_verify_mode": "peer",
        "smtp_ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "smtp_user_name": null,
        "smtp_password": null,
    });
    let rest = json!({
        "incoming_email_enabled": true,
        "incoming_email_address": "incoming+%{key}@incoming.example.com",
        "incoming_email_inbox_method": "imap",
        "incoming_email_host": "imap.example.com",
        "incoming_email_port": 993,
        "incoming_email_ssl": true,
        "incoming_email_start_tls": false,
        "incoming_email_inbox_options": null,
        "incoming_email_mailbox_name": "in\"box #{1} \\ x",
        "incoming_email_idle_timeout": 60,
        "incoming_email_delete_after_delivery": true,
        "incoming_email_expunge_deleted": true,
        "incoming_email_delivery_method": "webhook",
        "incoming_email_auth_token": token,
        "incoming_email_email": null,
        "incoming_email_password": null,
    });
    let sd = json!({
        "service_desk_email_enabled": true,
        "service_desk_email_address": "contact+%{key}@incoming.example.com",
        "service_desk_email_inbox_method": "microsoft_graph",
        "service_desk_email_inbox_options": {
            "tenant_id": "tenant",
            "client_id": "client",
            "client_secret": "sd-graph-secret",
            "poll_interval": 60,
            "azure_ad_endpoint": "https://login.microsoftonline.com",
            "graph_endpoint": "https://graph.microsoft.com",
        },
        "service_desk_email_mailbox_name": "inbox",
        "service_desk_email_idle_timeout": 60,
        "service_desk_email_delete_after_delivery": true,
        "service_desk_email_expunge_deleted": false,
        "service_desk_email_delivery_method": "webhook",
        "service_desk_email_auth_token": token,
        "service_desk_email_email": null,
        "service_desk_email_password": null,
        "microsoft_graph_mailer_enabled": true,
        "microsoft_graph_mailer_user_id": "sender@example.com",
        "microsoft_graph_mailer_tenant": "tenant",
        "microsoft_graph_mailer_client_id": "mailer-client",
        "microsoft_graph_mailer_client_secret": "mailer-graph-secret",
        "microsoft_graph_mailer_azure_ad_endpoint": "https://login.microsoftonline.com",
        "microsoft_graph_mailer_graph_endpoint": "https://graph.microsoft.com",
        "mattermost_host": "https://mattermost.example.com",
        "encrypted_settings_path": "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings",
        "time_zone": "UTC",
    });
    let mut all = smtp;
    for part in [rest, sd] {
        all.as_object_mut()
            .unwrap()
            .extend(part.as_object().unwrap().clone());
    }
    all
}

#[test]
fn omnibus_fragment_passes_ruby_c_and_beats_leftover_credentials_under_mixlib_config() {
    let t = omnibus_root();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("sudo gitlab-ctl reconfigure"),
        "the next step is named\n{out}"
    );
    assert!(
        out.stderr
            .contains("Microsoft Graph client secret in plaintext"),
        "{out}"
    );
    let fragment = t.path(FRAGMENT);
    assert_eq!(mode(&fragment), 0o600);
    ruby_c(&fragment);
    let text = read(&t, FRAGMENT);
    for credential in [
        "relay@example.com",
        "smtp \"pass\"",
        "imap-pass",
        "incoming@example.com",
    ] {
        assert!(
            !text.contains(credential),
            "the fragment holds {credential:?}"
        );
    }
    let token = read(&t, TOKEN);
    assert!(
        !text.contains(token.trim()),
        "the token is read, never copied"
    );

    fs::create_dir_all(t.path("etc/gitlab")).unwrap();
    fs::write(
        t.path("etc/gitlab/gitlab.rb"),
        format!("{LEFTOVERS}{LOAD}\n"),
    )
    .unwrap();
    let got = evaluate(t.root(), None).unwrap();
    assert_eq!(got["gitlab_rails"], expected_rails(token.trim()));
    assert_eq!(got["external_url"], "https://gitlab.example.com");
    assert_eq!(
        got["nginx"],
        json!({
            "listen_port": 8080,
            "custom_nginx_config": "include /var/opt/toolctl/rendered/nginx/mattermost.conf;",
        })
    );

    // A misspelt top-level name stops the evaluation, as in the Linux package.
    fs::write(
        t.path("etc/gitlab/gitlab.rb"),
        format!("gitlab_railz['smtp_address'] = 'x'\n{LOAD}\n"),
    )
    .unwrap();
    let err = evaluate(t.root(), None).unwrap_err();
    assert!(err.contains("UnknownConfigOptionError"), "{err}");
}

/// `authentication = "none"` is `nil`, which beats a leftover value; never `false`.
#[test]
fn no_authentication_is_nil_and_beats_a_leftover_value() {
    let t = omnibus_root();
    t.write_settings(&format!(
        "{}{OMNIBUS}",
        MAIL.replace("authentication = \"login\"", "authentication = \"none\"")
    ));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert!(read(&t, FRAGMENT).contains("gitlab_rails['smtp_authentication'] = nil\n"));
    fs::create_dir_all(t.path("etc/gitlab")).unwrap();
    fs::write(
        t.path("etc/gitlab/gitlab.rb"),
        format!("gitlab_rails['smtp_authentication'] = 'login'\n{LOAD}\n"),
    )
    .unwrap();
    let got = evaluate(t.root(), None).unwrap();
    let rails = got["gitlab_rails"].as_object().unwrap();
    assert_eq!(rails.get("smtp_authentication"), Some(&json!(null)));
}

/// Docker: the fragment in the `/etc/gitlab` volume, container paths only, the token next
/// to it, the owner a bare uid; GITLAB_OMNIBUS_CONFIG is evaluated first and loses.
#[test]
fn docker_fragment_lives_in_the_volume_and_wins_over_the_omnibus_config_variable() {
    use std::os::unix::fs::MetadataExt;
    let t = root(DOCKER, "srv/gitlab/etc/gitlab/gitlab-secrets.json");
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(out.stderr.contains("restart the GitLab container"), "{out}");
    assert!(
        out.stderr.contains("outside the container"),
        "the proxy file outside the volume is not included, and it says so\n{out}"
    );
    let fragment = "srv/gitlab/etc/gitlab/toolctl.rb";
    let token_file = "srv/gitlab/etc/gitlab/toolctl_mailroom_secret";
    assert_eq!(mode(&t.path(fragment)), 0o600);
    assert_eq!(mode(&t.path(token_file)), 0o600);
    ruby_c(&t.path(fragment));
    let text = read(&t, fragment);
    assert!(!text.contains("/srv/gitlab"), "host paths in\n{text}");
    assert!(!text.contains("/var/opt/toolctl"), "host paths in\n{text}");
    assert!(!text.contains("custom_nginx_config"), "{text}");
    let token = read(&t, TOKEN);
    assert_eq!(read(&t, token_file), token);
    let enc =
        t.path("srv/gitlab/var/opt/gitlab/gitlab-rails/shared/encrypted_settings/smtp.yaml.enc");
    assert_eq!(
        fs::metadata(&enc).unwrap().uid(),
        998,
        "a bare uid, no passwd entry needed"
    );

    let volume = t.path("srv/gitlab");
    fs::write(
        volume.join("etc/gitlab/gitlab.rb"),
        "gitlab_rails['smtp_user_name'] = 'left@example.com'\nfrom_file \"/etc/gitlab/toolctl.rb\"\n",
    )
    .unwrap();
    let env = "external_url 'https://gitlab.example.com'\n\
               gitlab_rails['smtp_address'] = 'env.example.com'\n\
               gitlab_rails['smtp_password'] = 'env-pass'\n\
               gitlab_rails['time_zone'] = 'UTC'\n";
    let got = evaluate(&volume, Some(env)).unwrap();
    let mut want = expected_rails(token.trim());
    want["encrypted_settings_path"] =
        json!("/var/opt/gitlab/gitlab-rails/shared/encrypted_settings");
    assert_eq!(got["gitlab_rails"], want);
    assert_eq!(got["nginx"], json!({}));
}

/// `import gitlab-rb` of the fragment gives back the settings it was rendered from; the
/// token lines (and the lines of toolctl's own wiring) are listed as not imported.
#[test]
fn import_of_the_fragment_reproduces_the_settings() {
    let t = omnibus_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let fresh = TestRoot::builder()
        .settings("external_url = \"https://gitlab.example.com\"\n")
        .secrets_init()
        .build();
    let fragment = t.path(FRAGMENT).display().to_string();
    let out = fresh
        .toolctl(["import", "gitlab-rb", &fragment, "--output-format", "json"])
        .run();
    out.assert_code(0);
    let doc = out.json();
    let text = read(&t, FRAGMENT);
    for n in doc["not_imported"].as_array().unwrap() {
        let line = n["line"].as_u64().unwrap() as usize;
        let src = text.lines().nth(line - 1).unwrap();
        let allowed = src.contains("_auth_token'] = File.read(")
            || src.ends_with(" = nil")
            || src.starts_with("gitlab_rails['encrypted_settings_path']")
            || src.starts_with("nginx['custom_nginx_config']");
        assert!(allowed, "line {line} not imported: {src} ({})", n["reason"]);
    }
    let tokens: Vec<_> = doc["not_imported"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            let line = n["line"].as_u64().unwrap() as usize;
            text.lines().nth(line - 1).unwrap().contains("File.read(")
        })
        .collect();
    assert_eq!(tokens.len(), 2, "{doc:#}");

    let settings = |r: &TestRoot| -> Vec<(String, serde_json::Value)> {
        let out = r.toolctl(["show-config", "--output-format", "json"]).run();
        out.json()["settings"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| {
                v["secret"] == false
                    && [
                        "email.",
                        "smtp.",
                        "incoming_email.",
                        "service_desk_email.",
                        "microsoft_graph_mailer.",
                    ]
                    .iter()
                    .any(|p| k.starts_with(p))
                    || k.as_str() == "mattermost.external_url"
            })
            .map(|(k, v)| (k.clone(), v["value"].clone()))
            .collect()
    };
    assert_eq!(settings(&fresh), settings(&t));
    // The Graph client secrets, the only credentials the fragment holds, went to the store.
    let secrets: Vec<String> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["scope"].as_str().unwrap(),
                s["key"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        secrets,
        [
            "service-desk-email client_secret",
            "microsoft-graph-mailer client_secret"
        ]
    );
}

#[test]
fn an_unknown_install_kind_and_a_docker_owner_that_is_no_number_are_refused() {
    for (gitlab, error, hint) in [
        (OMNIBUS.replace("\"omnibus\"", "\"kubernetes\""), "gitlab.install", "install = \"omnibus\""),
        (DOCKER.replace("user = \"998\"", "user = \"git\""), "not a number", "user = \"998\""),
        (
            "\n[gitlab]\nsecrets_file = \"/etc/gitlab/gitlab-secrets.json\"\nencrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"\n".to_string(),
            "`gitlab.install` is not",
            "install = \"omnibus\"",
        ),
        (
            DOCKER.replace("/srv/gitlab/var/opt", "/elsewhere/var/opt"),
            "is not inside the container",
            "/srv/gitlab/var/opt/gitlab",
        ),
        (
            "\n[gitlab]\ninstall = \"helm\"\n".to_string(),
            "needs `gitlab.helm_release`",
            "helm_release = ",
        ),
    ] {
        let t = root(&gitlab, "etc/gitlab/gitlab-secrets.json");
        fs::create_dir_all(t.path("srv/gitlab/etc/gitlab")).unwrap();
        let before = t.snapshot();
        t.toolctl(["reconfigure"]).run().assert_error(error, &[hint]);
        before.assert_unchanged(&t.snapshot(), &gitlab);
    }
}

/// `xoauth2` is refused where GitLab's Linux package refuses it: by reconfigure and by the
/// probe alike (a probe must not pass what the service refuses); `tls = true` with the
/// STARTTLS default is not (tests/it/smtp_omnibus.rs owns that rule).
#[test]
fn xoauth2_is_refused_by_reconfigure_and_smtp_check_and_tls_alone_is_not() {
    let settings = format!(
        "{}{OMNIBUS}",
        MAIL.replace("authentication = \"login\"", "authentication = \"xoauth2\"")
    );
    let t = omnibus_root();
    t.write_settings(&settings);
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("xoauth2", &["omnibus", "login", "plain", "cram_md5"]);
    t.toolctl(["smtp", "check"])
        .run()
        .assert_error("xoauth2", &["omnibus"]);
    before.assert_unchanged(&t.snapshot(), &"xoauth2");

    let tls = format!(
        "{}{OMNIBUS}",
        MAIL.replace("port = 587\n", "port = 465\ntls = true\n")
    );
    t.write_settings(&tls);
    t.toolctl(["reconfigure", "--dry-run"]).run().assert_code(0);
}

/// `[smtp]` without `[gitlab]` is written nowhere: reconfigure and status say so.
#[test]
fn smtp_without_gitlab_is_warned_about_by_reconfigure_and_status() {
    let t = TestRoot::builder()
        .settings(
            "[smtp]\nenabled = true\naddress = \"smtp.example.com\"\nauthentication = \"none\"\n",
        )
        .secrets_init()
        .build();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("no file toolctl renders carries it"),
        "{out}"
    );
    // A warning, as in reconfigure: it does not make status exit 1.
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(0);
    let wiring = &out.json()["wiring"];
    assert!(
        wiring[0]["state"].as_str().unwrap().starts_with("warning:"),
        "{out}"
    );
    assert_eq!(wiring[0]["name"], "smtp", "{out}");
    assert!(wiring[0]["hint"]
        .as_str()
        .unwrap()
        .contains("Wire toolctl into GitLab"));
}

/// `status` checks the one step: the `from_file` line last, no credential after it.
#[test]
fn status_checks_that_gitlab_rb_loads_the_fragment_last() {
    let t = omnibus_root();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let wiring = |t: &TestRoot| {
        let out = t.toolctl(["status", "--output-format", "json"]).run();
        let doc = out.json();
        (out.code, doc["wiring"][0].clone())
    };
    let (code, row) = wiring(&t);
    assert_eq!(code, Some(1));
    assert!(
        row["state"].as_str().unwrap().contains("does not exist"),
        "{row}"
    );
    assert!(row["hint"].as_str().unwrap().contains(LOAD), "{row}");

    let rb = t.path("etc/gitlab/gitlab.rb");
    fs::create_dir_all(rb.parent().unwrap()).unwrap();
    let cases = [
        (LEFTOVERS.to_string(), "has no"),
        (
            format!("{LEFTOVERS}{LOAD}\ngitlab_rails['smtp_password'] = 'after'\n"),
            "`gitlab_rails['smtp_password']` follows",
        ),
        (
            format!("{LEFTOVERS}{LOAD}\ngitlab_rails['time_zone'] = 'UTC'\n"),
            "is not the last statement",
        ),
        (
            format!("{LEFTOVERS}{LOAD}\nroles ['application_role']\n"),
            "is not the last statement",
        ),
    ];
    for (text, state) in cases {
        fs::write(&rb, &text).unwrap();
        let (code, row) = wiring(&t);
        assert_eq!(code, Some(1), "{row}");
        assert!(
            row["state"].as_str().unwrap().contains(state),
            "{state}: {row}"
        );
        assert!(!row.to_string().contains("after'"), "no value shown: {row}");
        assert!(row["hint"].as_str().unwrap().contains(LOAD), "{row}");
    }
    fs::write(&rb, format!("{LEFTOVERS}{LOAD}\n# a comment\n\n")).unwrap();
    let (code, row) = wiring(&t);
    assert_eq!(row["level"], "ok", "{row}");
    assert_eq!(code, Some(0), "{row}");
}

/// `--apply` runs `gitlab-ctl` (a recording stand-in on PATH, the real one cannot be
/// installed here): reconfigure after a settings change, the three restarts after a
/// credential change, its exit status reported.
#[test]
fn apply_runs_gitlab_ctl_and_reports_its_exit_status() {
    let t = omnibus_root();
    let bin = t.aux().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = t.aux().join("gitlab-ctl.log");
    let script = t.script(
        "gitlab-ctl",
        &format!(
            "echo \"$*\" >> {}\necho \"ran $*\"\nexit ${{GITLAB_CTL_EXIT:-0}}",
            log.display()
        ),
    );
    fs::rename(&script, bin.join("gitlab-ctl")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let calls = || fs::read_to_string(&log).unwrap_or_default();

    let out = t
        .toolctl(["reconfigure", "--apply"])
        .env("PATH", &path)
        .run();
    out.assert_code(0);
    assert_eq!(calls(), "reconfigure\n");
    assert!(
        out.stderr
            .contains("ran `gitlab-ctl reconfigure`: exit status 0"),
        "{out}"
    );

    // Only a credential: GitLab's encrypted settings change, the fragment does not.
    t.write_secret(
        "smtp",
        b"user_name: 'relay@example.com'\npassword: 'new one'\n",
    );
    fs::write(&log, "").unwrap();
    let out = t
        .toolctl(["reconfigure", "--apply"])
        .env("PATH", &path)
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("restart puma sidekiq mailroom"),
        "{out}"
    );
    assert_eq!(calls(), "restart puma\nrestart sidekiq\nrestart mailroom\n");

    // A settings change, and gitlab-ctl fails: exit 1, its status reported, files written.
    t.write_settings(&format!(
        "{}{OMNIBUS}",
        MAIL.replace("example.com\"\nport = 587", "example.org\"\nport = 587")
    ));
    fs::write(&log, "").unwrap();
    let out = t
        .toolctl(["reconfigure", "--apply"])
        .env("PATH", &path)
        .env("GITLAB_CTL_EXIT", "3")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("failed with exit status 3"), "{out}");
    assert!(out.stdout_str().contains("ran reconfigure"), "{out}");
    assert!(read(&t, FRAGMENT).contains("smtp.example.org"));

    // Nothing changed: nothing is run.
    fs::write(&log, "").unwrap();
    let out = t
        .toolctl(["reconfigure", "--apply"])
        .env("PATH", &path)
        .run();
    out.assert_code(0);
    assert_eq!(calls(), "");

    // No gitlab-ctl on PATH: said, exit 1.
    t.write_settings(&format!("{MAIL}{OMNIBUS}"));
    let out = t
        .toolctl(["reconfigure", "--apply"])
        .env("PATH", "/usr/bin:/bin")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("`gitlab-ctl` is not on PATH"), "{out}");
    t.toolctl(["reconfigure", "--apply", "--dry-run"])
        .run()
        .assert_code(2);
}
