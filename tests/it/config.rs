//! `config get|set|unset`: whole files compared before and after; refusals change nothing.

use std::fs;

use crate::harness::TestRoot;

const SETTINGS: &str = "\
# Our GitLab.
external_url = \"https://gitlab.example.com\"   # the public URL

[incoming_email]
# Sub-addressing on our own server.
enabled = true
address = \"incoming+%{key}@incoming.example.com\"
host    = \"old.example.com\"
ssl = true

[mailroom]
enable = false   # the web nodes
";

fn root() -> TestRoot {
    let t = TestRoot::new();
    fs::create_dir_all(t.config_file().parent().unwrap()).unwrap();
    fs::write(t.config_file(), SETTINGS).unwrap();
    t
}

fn settings(t: &TestRoot) -> String {
    fs::read_to_string(t.config_file()).unwrap()
}

#[test]
fn set_changes_one_value_and_keeps_every_other_byte() {
    let t = root();
    t.toolctl(["config", "set", "incoming_email.host", "imap.example.com"])
        .run()
        .assert_code(0);
    assert_eq!(
        settings(&t),
        SETTINGS.replace("\"old.example.com\"", "\"imap.example.com\"")
    );
    t.toolctl(["config", "set", "incoming_email.port", "993"])
        .run()
        .assert_code(0);
    assert_eq!(
        settings(&t),
        SETTINGS
            .replace("\"old.example.com\"", "\"imap.example.com\"")
            .replace("ssl = true\n", "ssl = true\nport = 993\n")
    );
    t.toolctl(["config", "set", "smtp.ca_file", "/etc/ssl/ca.pem"])
        .run()
        .assert_code(0);
    assert!(
        settings(&t).ends_with(
            "enable = false   # the web nodes\n\n[smtp]\nca_file = \"/etc/ssl/ca.pem\"\n"
        ),
        "{}",
        settings(&t)
    );
    t.toolctl(["config", "unset", "smtp.ca_file"])
        .run()
        .assert_code(0);
    assert!(
        settings(&t).ends_with("# the web nodes\n\n[smtp]\n"),
        "{}",
        settings(&t)
    );
    let out = t.toolctl(["config", "get", "incoming_email.port"]).run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "993\n");
}

#[test]
fn get_prints_defaults_and_derived_values() {
    let t = root();
    assert_eq!(
        t.toolctl(["config", "get", "incoming_email.mailbox"])
            .run()
            .stdout_str(),
        "inbox\n"
    );
    assert_eq!(
        t.toolctl(["config", "get", "incoming_email.port"])
            .run()
            .stdout_str(),
        "993\n"
    );
    assert_eq!(
        t.toolctl(["config", "get", "incoming_email.address"])
            .run()
            .stdout_str(),
        "incoming+%{key}@incoming.example.com\n"
    );
    t.toolctl(["config", "get", "smtp.address"])
        .run()
        .assert_code(1);
}

#[test]
fn bad_edits_are_refused_and_change_nothing() {
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["config", "set", "incoming_email.port", "abc"],
            "must be an integer from 1 to 65535",
            &["toolctl config set incoming_email.port 993"],
        ),
        (
            &["config", "set", "incoming_email.port", "0"],
            "must be an integer from 1 to 65535",
            &["993"],
        ),
        (
            &["config", "set", "incoming_email.ssl", "yes"],
            "must be a boolean",
            &["true"],
        ),
        (
            &["config", "set", "incoming_email.inbox_method", "pop3"],
            "one of \"imap\", \"microsoft_graph\"",
            &["imap"],
        ),
        (
            &["config", "set", "incoming_email.start_tls", "true"],
            "both true",
            &["choose one"],
        ),
        (
            &[
                "config",
                "set",
                "incoming_email.address",
                "incoming@%{key}.example.com",
            ],
            "in the domain",
            &["before the `@`"],
        ),
        (
            &["config", "set", "incoming_email.hots", "x"],
            "unknown key `incoming_email.hots`",
            &["did you mean `incoming_email.host`?"],
        ),
        (
            &["config", "set", "smtp.password", "s3cret-on-argv"],
            "is a credential",
            &["toolctl smtp secret edit"],
        ),
        (
            &["config", "get", "smtp.password"],
            "is a credential",
            &["toolctl smtp secret show"],
        ),
    ];
    for (args, error, hints) in cases {
        let t = root();
        let before = t.snapshot();
        let out = t.toolctl(*args).run();
        out.assert_error(error, hints);
        assert_eq!(before.diff(&t.snapshot()), "", "{args:?} changed files");
        assert!(!out.stderr.contains("s3cret-on-argv"), "{out}");
    }
}

#[test]
fn set_on_a_fresh_root_is_refused_and_after_init_starts_from_the_commented_default() {
    let t = TestRoot::new();
    let before = t.snapshot();
    let args = [
        "config",
        "set",
        "external_url",
        "https://gitlab.example.com",
    ];
    t.toolctl(args)
        .run()
        .assert_error("there is no settings file", &["toolctl init"]);
    before.assert_unchanged(&t.snapshot(), &"config set on a root without settings");
    t.toolctl(["init"]).run().assert_code(0);
    t.toolctl(args).run().assert_code(0);
    let text = settings(&t);
    assert!(text.starts_with("# toolctl.toml: the settings"), "{text}");
    assert!(
        text.ends_with("\n\nexternal_url = \"https://gitlab.example.com\"\n"),
        "{text}"
    );
    assert!(
        text.contains("# [mattermost]"),
        "the commented default was kept\n{text}"
    );
}
