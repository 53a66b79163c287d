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
    TestRoot::with_settings(SETTINGS)
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

/// Kind, mode, size and mtime of every path under `dir`, from `lstat` alone: a snapshot
/// that reads files would itself hang on the FIFO these tests plant.
fn listing(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                todo.push(p.clone());
            }
            out.push(format!(
                "{} {:o} {} {}.{}",
                p.display(),
                m.mode(),
                m.size(),
                m.mtime(),
                m.mtime_nsec()
            ));
        }
    }
    out.sort();
    out
}

/// Commands that load the settings file, from the renderers to the secret store's.
const LOADERS: &[&[&str]] = &[
    &["reconfigure", "--dry-run"],
    &["show-config"],
    &["config", "get", "external_url"],
    &["secrets", "status"],
];

#[test]
fn a_fifo_as_the_settings_file_is_refused_at_once() {
    let t = TestRoot::new();
    fs::create_dir_all(t.config_file().parent().unwrap()).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(t.config_file())
        .status()
        .unwrap();
    assert!(made.success());
    let before = listing(t.root());
    for args in LOADERS {
        // A blocking open or read would hang here until the harness's timeout fails it.
        let started = std::time::Instant::now();
        let out = t.toolctl(*args).run();
        out.assert_error(
            "cannot read the settings file",
            &["replace", "toolctl.toml", "with the real file"],
        );
        assert!(out.stderr.contains("named pipe (FIFO)"), "{out}");
        println!("{args:?}: refused in {:?}", started.elapsed());
        assert_eq!(
            listing(t.root()),
            before,
            "{args:?} changed the tree\n{out}"
        );
    }
}

#[test]
fn a_settings_file_over_four_mib_is_refused() {
    let mut text = String::from("external_url = \"https://gitlab.example.com\"\n");
    text.push_str(&"# padding\n".repeat(4 * 1024 * 1024 / 10 + 1));
    let t = TestRoot::with_settings(&text);
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--dry-run"]).run();
    out.assert_error(
        "cannot read the settings file",
        &["check that the path is right"],
    );
    assert!(out.stderr.contains("larger than 4096 KiB"), "{out}");
    before.assert_unchanged(&t.snapshot(), &out);
}

#[test]
fn a_symlink_to_dev_zero_as_the_settings_file_is_refused_without_reading_it() {
    let t = TestRoot::new();
    fs::create_dir_all(t.config_file().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", t.config_file()).unwrap();
    let before = t.snapshot();
    for args in LOADERS {
        let out = t.toolctl(*args).run();
        out.assert_error(
            "cannot read the settings file",
            &["replace", "toolctl.toml"],
        );
        assert!(out.stderr.contains("character device"), "{out}");
        before.assert_unchanged(&t.snapshot(), &out);
    }
}

#[test]
fn thousands_of_unknown_keys_list_fifty_errors_then_count_the_rest() {
    let mut text = String::from("external_url = \"https://gitlab.example.com\"\n");
    for i in 0..5000 {
        text.push_str(&format!("unknown_key_{i:04} = \"value\"\n"));
    }
    let t = TestRoot::with_settings(&text);
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--dry-run"]).run();
    out.assert_error("has 5000 errors", &["fix the keys named above"]);
    let listed: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: ") && l.contains("unknown key"))
        .collect();
    assert_eq!(listed.len(), 50, "{out}");
    // The first 50 in file order: lines 2 to 51.
    for (i, l) in listed.iter().enumerate() {
        assert!(
            l.contains(&format!("toolctl.toml:{}: `unknown_key_{i:04}`", i + 2)),
            "{l}"
        );
    }
    let more: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("more errors"))
        .collect();
    assert_eq!(more, ["… and 4950 more errors"], "{out}");
    before.assert_unchanged(&t.snapshot(), &out);

    // Inside a known table too, and a typo among them still gets its hint.
    let mut text = String::from("[smtp]\nadress = \"smtp.example.com\"\n");
    for i in 0..5000 {
        text.push_str(&format!("unknown_key_{i:04} = 1\n"));
    }
    fs::write(t.config_file(), &text).unwrap();
    let before = t.snapshot();
    let out = t.toolctl(["show-config"]).run();
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "`smtp.adress`: unknown key `smtp.adress`\n  hint: did you mean `smtp.address`?"
        ),
        "{out}"
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        51,
        "{out}"
    );
    assert!(out.stderr.contains("\n… and 4951 more errors\n"), "{out}");
    assert!(out.stderr.contains("has 5001 errors"), "{out}");
    before.assert_unchanged(&t.snapshot(), &out);
}

/// `[gitlab]` is created one key at a time, in any order; reconfigure refuses it
/// until its keys are complete; a wrong value is still refused by `config set`.
#[test]
fn gitlab_table_is_built_one_key_at_a_time_and_checked_at_reconfigure() {
    for order in [
        [
            "gitlab.secrets_file",
            "gitlab.encrypted_settings_dir",
            "gitlab.install",
        ],
        [
            "gitlab.install",
            "gitlab.encrypted_settings_dir",
            "gitlab.secrets_file",
        ],
    ] {
        let t = root();
        for (i, key) in order.iter().enumerate() {
            let value = match *key {
                "gitlab.install" => "omnibus",
                "gitlab.secrets_file" => "/etc/gitlab/gitlab-secrets.json",
                _ => "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings",
            };
            let out = t.toolctl(["config", "set", key, value]).run();
            out.assert_code(0);
            if i == 0 {
                assert!(out.stderr.contains("set it too"), "{out}");
            }
            if i < 2 {
                let before = t.snapshot();
                let r = t.toolctl(["reconfigure"]).run();
                r.assert_code(2);
                assert!(r.stderr.contains("gitlab."), "{r}");
                before.assert_unchanged(&t.snapshot(), &"reconfigure with half a [gitlab]");
            }
        }
        let s = settings(&t);
        assert!(
            s.contains("install = \"omnibus\"")
                && s.contains("secrets_file")
                && s.contains("encrypted_settings_dir"),
            "{s}"
        );
    }
    // A value that is wrong in itself is refused as before.
    let t = root();
    t.toolctl(["config", "set", "gitlab.install", "omnibus"])
        .run()
        .assert_code(0);
    let before = t.snapshot();
    t.toolctl(["config", "set", "gitlab.secrets_file", "relative/path.json"])
        .run()
        .assert_code(2);
    before.assert_unchanged(&t.snapshot(), &"a relative secrets_file");
}
