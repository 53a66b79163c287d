//! Every value written for a consumer's
//! parser reads back as it was set.
//!
//! - `[email] enabled = false` reaches gitlab.yml and the gitlab.rb fragment;
//! - gitlab.yml goes through ERB in Rails: `<%` in a value only Rails reads is written
//!   `<%%`; in a mailbox value (mail_room reads it without ERB) it is refused;
//! - DEL, C1 controls and U+2028/U+2029 in a credential survive the `.yaml.enc` YAML as
//!   Psych reads it (`YAML.safe_load`, as GitLab does).

use std::fs;
use std::process::Command;

use crate::gitlab::{enc, ruby_decrypt, write_key_bases, BASE};
use crate::harness::TestRoot;

const GITLAB_YML: &str = "var/opt/toolctl/rendered/gitlab.yml";
const FRAGMENT: &str = "var/opt/toolctl/rendered/gitlab/gitlab.rb";

fn settings(email: &str, extra: &str) -> String {
    format!(
        "external_url = \"https://gitlab.test\"\n\n[email]\n{email}\n\n\
         [smtp]\nenabled = true\naddress = \"relay.test\"\n\n{extra}\n\
         [gitlab]\ninstall = \"omnibus\"\nsecrets_file = \"/etc/gitlab/gitlab-secrets.json\"\n\
         encrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"\n\
         user = \"root\"\ngroup = \"root\"\n"
    )
}

fn root(settings: &str, smtp_secret: &str) -> TestRoot {
    let t = TestRoot::builder()
        .settings(settings)
        .secret("smtp", smtp_secret)
        .secret(
            "incoming-email",
            "user: 'in@mail.test'\npassword: 'imap-secret'\n",
        )
        .secret(
            "mailroom",
            "webhook_secret: 'd2ViaG9vay10b2tlbi12YWx1ZS1mb3ItZXNjYXBpbmc='\n",
        )
        .build();
    write_key_bases(&t, BASE, &[]);
    t
}

/// Ruby: gitlab.yml as GitLab's settings loader reads it (ERB, then YAML), printed as JSON.
fn rails_reads(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new("ruby")
        .args([
            "-rerb",
            "-ryaml",
            "-rjson",
            "-e",
            "print JSON.generate(YAML.safe_load(ERB.new(File.read(ARGV[0])).result))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn email_enabled_false_disables_mail_in_gitlab_yml_and_the_fragment() {
    let t = root(
        &settings("enabled = false\nfrom = \"gl@mail.test\"", ""),
        "user_name: 'u'\npassword: 'p-secret'\n",
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let yml = rails_reads(&t.path(GITLAB_YML));
    assert_eq!(yml["production"]["gitlab"]["email_enabled"], false);
    let rb = fs::read_to_string(t.path(FRAGMENT)).unwrap();
    assert!(
        rb.contains("gitlab_rails['gitlab_email_enabled'] = false"),
        "{rb}"
    );
    // The default, true, in gitlab.yml.
    t.write_settings(&settings("from = \"gl@mail.test\"", ""));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let yml = rails_reads(&t.path(GITLAB_YML));
    assert_eq!(yml["production"]["gitlab"]["email_enabled"], true);
}

#[test]
fn erb_tags_in_rails_only_values_read_back_literally() {
    let from = "gl<%= 6*7 %>@mail.test";
    let graph = "[microsoft_graph_mailer]\nenabled = true\nuser_id = \"sender@mail.test\"\n\
                 tenant = \"t<% raise %>\"\nclient_id = \"c<%%\"\n";
    let t = root(
        &settings(&format!("from = \"{from}\"\nreply_to = \"<%\""), graph),
        "user_name: 'u'\npassword: 'p-secret'\n",
    );
    t.write_secret(
        "microsoft-graph-mailer",
        b"client_secret: 'graph<%= 1 %>secret'\n",
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let yml = rails_reads(&t.path(GITLAB_YML));
    let p = &yml["production"];
    assert_eq!(p["gitlab"]["email_from"], from);
    assert_eq!(p["gitlab"]["email_reply_to"], "<%");
    assert_eq!(p["microsoft_graph_mailer"]["tenant"], "t<% raise %>");
    assert_eq!(p["microsoft_graph_mailer"]["client_id"], "c<%%");
    assert_eq!(
        p["microsoft_graph_mailer"]["client_secret"],
        "graph<%= 1 %>secret"
    );
}

#[test]
fn erb_tag_in_a_mailbox_value_is_refused_and_nothing_is_written() {
    let mailbox = "[incoming_email]\nenabled = true\naddress = \"in+%{key}@mail.test\"\n\
                   host = \"imap.mail.test\"\nssl = true\n";
    for (setting, secret) in [
        ("mailbox = \"in<%= 1 %>box\"\n", None),
        ("", Some("user: 'in@mail.test'\npassword: 'pw<%x'\n")),
    ] {
        let t = root(
            &settings("from = \"gl@mail.test\"", &format!("{mailbox}{setting}")),
            "user_name: 'u'\npassword: 'p-secret'\n",
        );
        if let Some(s) = secret {
            t.write_secret("incoming-email", s.as_bytes());
        }
        let before = t.snapshot();
        let out = t.toolctl(["reconfigure"]).run();
        out.assert_error("contains `<%`", &["ERB", "mail_room"]);
        assert!(!out.stderr.contains("pw<%x"), "{out}");
        before.assert_unchanged(&t.snapshot(), &setting);
    }
}

#[test]
fn control_characters_in_a_credential_survive_the_encrypted_yaml_as_psych_reads_it() {
    let password = "p\u{7f}a\u{80}s\u{85}s\u{9f}w\u{2028}o\u{2029}rd\u{1b}\u{a0}é";
    // The secret's YAML in toolctl's store: the same escapes, read by toolctl's parser.
    let escaped: String = password
        .chars()
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0x2027 | 0x202a.. => c.to_string(),
            n => format!("\\u{n:04x}"),
        })
        .collect();
    let t = root(
        &settings("from = \"gl@mail.test\"", ""),
        &format!("user_name: 'relay-user'\npassword: \"{escaped}\"\n"),
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let yaml = ruby_decrypt(&t, BASE, &enc(&t, "smtp.yaml.enc"));
    for raw in ['\u{7f}', '\u{85}', '\u{2028}'] {
        assert!(!yaml.contains(raw), "{raw:?} written raw");
    }
    let file = t.aux().join("smtp.yaml");
    fs::write(&file, &yaml).unwrap();
    let out = Command::new("ruby")
        .args([
            "-ryaml",
            "-e",
            "print YAML.safe_load(File.read(ARGV[0]), symbolize_names: false)['password']",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "Psych refused it");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), password);
}
