//! The command-line contract, through the real binary: `init`, the settings
//! file that must exist, one JSON document on every outcome, `status`, `show-config KEY`,
//! `secret show --key`, `secret set`, JUnit, `-q`, hints, terminal widths, completion.
//!
//! Every refusal asserts the exit code, the message and hint, and that the tree is
//! unchanged.

use std::fs;
use std::net::TcpListener;
use std::process::Command;

use crate::harness::{mode, TestRoot, DEFAULT_SETTINGS};

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// An open relay on a closed port: the check runs and fails at `tcp` (exit 1).
fn smtp_closed() -> String {
    format!(
        "[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {}\nauthentication = \"none\"\nenable_starttls_auto = false\n",
        closed_port()
    )
}

/// An enabled incoming mailbox: without its secret it cannot be probed.
fn incoming_without_secret() -> String {
    format!(
        "external_url = \"https://gitlab.example.com\"\n\n[incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@example.com\"\nhost = \"127.0.0.1\"\nport = {}\nssl = true\n",
        closed_port()
    )
}

/// The `"error"` object of a failed JSON run, checked for its three keys.
#[track_caller]
fn json_error(out: &crate::harness::Outcome) -> serde_json::Value {
    let doc = out.json();
    assert_eq!(doc["schema"], 1, "{out}");
    assert_eq!(doc["ok"], false, "{out}");
    let e = &doc["error"];
    assert!(e["message"].is_string(), "{out}");
    assert!(e["causes"].is_array(), "{out}");
    assert!(e.get("hint").is_some(), "{out}");
    e.clone()
}

#[test]
fn init_creates_what_is_missing_says_so_and_never_overwrites() {
    let t = TestRoot::new();
    let out = t.toolctl(["init"]).run();
    out.assert_code(0);
    assert!(out.stderr.contains("Created the settings"), "{out}");
    assert!(out.stderr.contains("Created the key"), "{out}");
    assert_eq!(
        fs::read_to_string(t.config_file()).unwrap(),
        DEFAULT_SETTINGS
    );
    assert_eq!(mode(&t.config_file()), 0o600);
    assert_eq!(mode(&t.key_file()), 0o600);
    assert_eq!(mode(&t.secrets_dir()), 0o700);

    // Both exist: says so, exits 0, changes nothing.
    let before = t.snapshot();
    let again = t.toolctl(["init"]).run();
    again.assert_code(0);
    assert!(again.stderr.contains("Found the settings"), "{again}");
    assert!(again.stderr.contains("Found the key"), "{again}");
    assert!(again.stderr.contains("Nothing to do"), "{again}");
    before.assert_unchanged(&t.snapshot(), &again);

    // Own settings and no key: the settings are kept byte for byte, the key is created.
    let t = TestRoot::with_settings("# ours\n[smtp]\nenabled = false\n");
    let out = t.toolctl(["init"]).run();
    out.assert_code(0);
    assert!(out.stderr.contains("Found the settings"), "{out}");
    assert!(out.stderr.contains("Created the key"), "{out}");
    assert_eq!(
        fs::read_to_string(t.config_file()).unwrap(),
        "# ours\n[smtp]\nenabled = false\n"
    );
    assert!(t.key_file().is_file());
}

#[test]
fn a_settings_file_named_by_config_or_env_must_exist() {
    let t = TestRoot::with_default_settings();
    t.toolctl(["init"]).run().assert_code(0);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let typo = t.path("etc/toolctl/toolctl.tml");
    let before = t.snapshot();
    for args in [
        vec!["reconfigure"],
        vec!["show-config"],
        vec!["check"],
        vec!["smtp", "secret", "show"],
    ] {
        let mut flag = vec!["--config".to_string(), typo.display().to_string()];
        flag.extend(args.iter().map(|s| s.to_string()));
        t.toolctl(&flag)
            .run()
            .assert_error("does not exist", &["check the path", "init"]);
        t.toolctl(&args)
            .env("TOOLCTL_CONFIG", &typo)
            .run()
            .assert_error("does not exist", &["check the path"]);
    }
    before.assert_unchanged(&t.snapshot(), &"a wrong --config wrote files");
    // `init` with that path creates the file there.
    let out = t
        .toolctl(["--config", typo.to_str().unwrap(), "init"])
        .run();
    out.assert_code(0);
    assert_eq!(fs::read_to_string(&typo).unwrap(), DEFAULT_SETTINGS);
}

#[test]
fn commands_that_work_from_settings_refuse_a_root_without_them() {
    let t = TestRoot::new();
    t.write_secret("smtp", b"user_name: 'u'\npassword: 'p'\n");
    let before = t.snapshot();
    for args in [
        vec!["reconfigure"],
        vec!["reconfigure", "--dry-run"],
        vec!["show-config"],
        vec!["config", "get", "smtp.port"],
        vec!["config", "set", "smtp.port", "465"],
        vec!["status"],
        vec!["check"],
        vec!["smtp", "check"],
        vec!["incoming-email", "check"],
    ] {
        t.toolctl(&args)
            .run()
            .assert_error("there is no settings file", &["toolctl init"]);
    }
    before.assert_unchanged(&t.snapshot(), &"a refused command wrote files");
    // The secrets commands need only the key.
    t.toolctl(["secrets", "status"]).run().assert_code(0);
    assert_eq!(t.show_secret("smtp"), b"user_name: 'u'\npassword: 'p'\n");
}

#[test]
fn reconfigure_never_disables_an_integration_because_the_settings_file_is_gone() {
    let t = TestRoot::with_settings(&smtp_closed());
    t.toolctl(["reconfigure"]).run().assert_code(0);
    fs::remove_file(t.config_file()).unwrap();
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("there is no settings file", &["toolctl init"]);
    before.assert_unchanged(&t.snapshot(), &"reconfigure re-rendered without settings");
}

#[test]
fn json_is_one_document_on_every_outcome() {
    // Errors before the command ran: no settings file.
    let t = TestRoot::new();
    for args in [
        vec!["check", "--output-format", "json"],
        vec!["smtp", "check", "--output-format", "json"],
        vec!["reconfigure", "--output-format", "json"],
        vec!["status", "--output-format", "json"],
        vec!["show-config", "--output-format", "json"],
    ] {
        let out = t.toolctl(&args).run();
        out.assert_code(2);
        let e = json_error(&out);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("there is no settings file"),
            "{out}"
        );
        assert!(
            e["hint"].as_str().unwrap().contains("toolctl init"),
            "{out}"
        );
        assert!(
            out.stderr.contains("error: "),
            "stderr keeps the error\n{out}"
        );
    }
    // Usage errors, which clap reports before any command runs.
    for args in [
        vec!["check", "--timeout", "abc", "--output-format", "json"],
        vec!["reconfigure", "--exit-code", "--output-format=json"],
    ] {
        let out = t.toolctl(&args).run();
        out.assert_code(2);
        json_error(&out);
    }
    // Invalid settings: reconfigure prints the error document, writes nothing.
    let t = TestRoot::with_settings("[smtp]\nport = \"587\"\n");
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    out.assert_code(2);
    let e = json_error(&out);
    assert!(
        e["message"].as_str().unwrap().contains("smtp.port"),
        "{out}"
    );
    before.assert_unchanged(&t.snapshot(), &out);
    // A check that cannot run (settings errors in its table).
    let t = TestRoot::with_settings("[smtp]\nenabled = true\nport = 0\n");
    let out = t
        .toolctl(["smtp", "check", "--output-format", "json"])
        .run();
    out.assert_code(2);
    json_error(&out);
    // Exit 1 is `ok: false` without an error; exit 0 is `ok: true`.
    let t = TestRoot::with_settings(&smtp_closed());
    let out = t
        .toolctl([
            "reconfigure",
            "--dry-run",
            "--exit-code",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(
        (doc["schema"].clone(), doc["ok"].clone()),
        (1.into(), false.into()),
        "{out}"
    );
    assert!(doc.get("error").is_none(), "{out}");
    let out = t.toolctl(["show-config", "--output-format", "json"]).run();
    out.assert_code(0);
    assert_eq!(out.json()["ok"], true, "{out}");
    assert_eq!(out.json()["schema"], 1, "{out}");
}

#[test]
fn reconfigure_diff_in_json_puts_the_diffs_inside_the_document() {
    let t = TestRoot::with_settings(&smtp_closed());
    let before = t.snapshot();
    let out = t
        .toolctl([
            "reconfigure",
            "--dry-run",
            "--diff",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(0);
    let doc = out.json();
    let diffs = doc["diffs"].as_array().expect("diffs");
    assert!(!diffs.is_empty(), "{out}");
    for d in diffs {
        assert!(d["file"].is_string(), "{out}");
        assert!(d["diff"].as_str().unwrap().contains("+++"), "{out}");
    }
    before.assert_unchanged(&t.snapshot(), &out);
}

#[test]
fn exit_code_without_dry_run_is_a_usage_error_and_writes_nothing() {
    let t = TestRoot::with_settings(&smtp_closed());
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--exit-code"]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("--dry-run"), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    before.assert_unchanged(&t.snapshot(), &out);
}

#[test]
fn timeout_takes_fractions_and_refuses_zero_with_a_hint() {
    let t = TestRoot::with_settings(&smtp_closed());
    let before = t.snapshot();
    for bad in ["0", "-1", "0.0", "inf", "NaN"] {
        let args = ["smtp", "check", "--timeout", bad];
        let out = t.toolctl(args).run();
        out.assert_code(2);
        assert!(out.stderr.contains("error: "), "{out}");
        if !bad.starts_with('-') {
            out.assert_error("not a usable number of seconds", &["more than 0"]);
        }
    }
    before.assert_unchanged(&t.snapshot(), &"a refused timeout wrote files");
    // 1.5 s is accepted: the probe runs (and fails: nothing listens).
    let out = t
        .toolctl([
            "smtp",
            "check",
            "--timeout",
            "1.5",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(1);
    assert_eq!(out.step("tcp")["status"], "fail", "{out}");
}

#[test]
fn one_broken_probe_is_an_error_row_and_the_others_still_run() {
    let settings = format!("{}\n{}", incoming_without_secret(), smtp_closed());
    let t = TestRoot::with_settings(&settings);
    let before = t.snapshot();
    let out = t.toolctl(["check", "--output-format", "json"]).run();
    out.assert_code(2);
    let doc = out.json();
    assert_eq!(doc["ok"], false, "{out}");
    let probes = doc["probes"].as_array().unwrap();
    let by = |name: &str| {
        probes
            .iter()
            .find(|p| p["probe"] == name)
            .unwrap_or_else(|| panic!("no probe {name}\n{out}"))
            .clone()
    };
    let smtp = by("smtp");
    assert!(
        smtp["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "tcp" && s["status"] == "fail"),
        "the relay was not probed\n{out}"
    );
    let incoming = by("incoming-email");
    let row = &incoming["steps"][0];
    assert_eq!(row["status"], "error", "{out}");
    assert!(row["hint"].as_str().unwrap().contains("secret"), "{out}");
    before.assert_unchanged(&t.snapshot(), &out);
    // Human output: both reported, the same exit code.
    let out = t.toolctl(["check"]).run();
    out.assert_code(2);
    assert!(out.stdout_str().contains("incoming-email"), "{out}");
    assert!(out.stdout_str().contains("smtp 127.0.0.1"), "{out}");
}

#[test]
fn junit_has_one_valid_testcase_per_step() {
    let settings = format!("{}\n{}", incoming_without_secret(), smtp_closed());
    let t = TestRoot::with_settings(&settings);
    let json = t.toolctl(["check", "--output-format", "json"]).run();
    let steps: usize = json.json()["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["steps"].as_array().unwrap().len())
        .sum();
    let out = t.toolctl(["check", "--output-format", "junit"]).run();
    out.assert_code(2);
    let xml = t.aux().join("report.xml");
    fs::write(&xml, &out.stdout).unwrap();
    // Debian's python parses it (a malformed document raises) and counts.
    let py = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(
            "import sys, xml.dom.minidom as m\n\
             d = m.parse(sys.argv[1])\n\
             print(len(d.getElementsByTagName('testcase')), len(d.getElementsByTagName('failure')), len(d.getElementsByTagName('error')))",
        )
        .arg(&xml)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        py.status.success(),
        "invalid XML: {}\n{out}",
        String::from_utf8_lossy(&py.stderr)
    );
    let counts = String::from_utf8(py.stdout).unwrap();
    let n: Vec<usize> = counts
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    println!(
        "junit: {} testcases, {} failures, {} errors",
        n[0], n[1], n[2]
    );
    assert_eq!(n[0], steps, "one testcase per step\n{}", out.stdout_str());
    assert!(n[1] >= 1 && n[2] >= 1, "{}", out.stdout_str());
    assert!(
        out.stdout_str().contains("hint: "),
        "failures carry the hint"
    );
}

/// Parses JUnit XML with Debian's python (a malformed document raises); returns the
/// counts of testcase, failure and error elements.
fn junit_counts(t: &TestRoot, xml: &str) -> (usize, usize, usize) {
    let path = t.aux().join("start.xml");
    fs::write(&path, xml).unwrap();
    let py = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(
            "import sys, xml.dom.minidom as m\n\
             d = m.parse(sys.argv[1])\n\
             print(len(d.getElementsByTagName('testcase')), len(d.getElementsByTagName('failure')), len(d.getElementsByTagName('error')))",
        )
        .arg(&path)
        .output()
        .expect("run /usr/bin/python3");
    assert!(py.status.success(), "invalid XML: {xml:?}");
    let n: Vec<usize> = String::from_utf8(py.stdout)
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn junit_is_a_document_when_check_cannot_start_as_root_or_not() {
    // Nothing enabled: the check cannot start (exit 2).
    let t = TestRoot::with_default_settings();
    let out = t.toolctl(["check", "--output-format", "junit"]).run();
    out.assert_code(2);
    assert_eq!(junit_counts(&t, &out.stdout_str()), (1, 0, 1), "{out}");
    assert!(out.stdout_str().contains("nothing to check"), "{out}");
    assert!(out.stdout_str().contains("hint: "), "{out}");
    // A runner that is not root: the settings file is root's.
    let t = TestRoot::with_settings(&smtp_closed());
    t.toolctl(["init"]).run().assert_code(0);
    fs::set_permissions(
        t.config_file(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = t
        .toolctl(["check", "--output-format", "junit"])
        .run_as_nobody()
        .run();
    out.assert_code(2);
    assert_eq!(junit_counts(&t, &out.stdout_str()), (1, 0, 1), "{out}");
    assert!(out.stderr.contains("error:"), "{out}");
}

#[test]
fn quiet_shrinks_report_tables_but_never_json_or_data() {
    // A healthy store: `-q secrets status` prints nothing.
    let t = TestRoot::with_default_settings();
    t.write_secret("smtp", b"password: 'p'\n");
    let out = t.toolctl(["-q", "secrets", "status"]).run();
    out.assert_code(0);
    assert!(out.stdout.is_empty(), "{out}");
    // JSON is never reduced.
    let out = t
        .toolctl(["-q", "secrets", "status", "--output-format", "json"])
        .run();
    assert_eq!(out.json()["secrets"].as_array().unwrap().len(), 8, "{out}");
    // A damaged secret: only its row.
    fs::write(t.secret_file("smtp"), "garbage").unwrap();
    let out = t.toolctl(["-q", "secrets", "status"]).run();
    out.assert_code(1);
    let text = out.stdout_str();
    assert!(
        text.contains("smtp") && !text.contains("mattermost"),
        "{out}"
    );
    assert!(out.stderr.contains("warning:"), "warnings stay\n{out}");
    // Data commands still print their data.
    let out = t
        .toolctl(["-q", "config", "get", "smtp.enable_starttls_auto"])
        .run();
    assert_eq!(out.stdout_str(), "true\n", "{out}");

    // A failing check: only the failing row.
    let t = TestRoot::with_settings(&smtp_closed());
    let out = t.toolctl(["-q", "smtp", "check"]).run();
    out.assert_code(1);
    let text = out.stdout_str();
    assert!(text.contains("tcp") && text.contains("fail"), "{out}");
    assert!(
        !text.contains("passes every rule"),
        "ok rows shown with -q\n{out}"
    );
}

#[test]
fn hints_come_from_the_key_and_its_table() {
    let t = TestRoot::with_settings("[smtp]\nenabled = false\naddress = \"smtp.example.com\"\n");
    let before = t.snapshot();
    // A table prints its keys and values.
    let out = t.toolctl(["config", "get", "smtp"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(text.contains("smtp.address = smtp.example.com\n"), "{out}");
    assert!(text.contains("smtp.enable_starttls_auto = true\n"), "{out}");
    assert!(
        !text.contains("password"),
        "credentials are not listed\n{out}"
    );
    // An unknown key of a known table: a key of that table, never the table.
    let out = t.toolctl(["config", "set", "smtp.adress", "x"]).run();
    out.assert_error("unknown key `smtp.adress`", &["`smtp.address`"]);
    let out = t.toolctl(["config", "set", "smtp.nosuch", "1"]).run();
    out.assert_error("unknown key `smtp.nosuch`", &["smtp.port"]);
    assert!(!out.stderr.contains("did you mean `smtp`?"), "{out}");
    // Examples come from the key's own schema.
    let out = t.toolctl(["config", "set", "smtp.port", "abc"]).run();
    out.assert_error("must be an integer", &["smtp.port 587"]);
    let out = t
        .toolctl(["config", "set", "external_url", "gitlab.example.com"])
        .run();
    out.assert_error("external_url", &["https://gitlab.example.com"]);
    assert!(!out.stderr.contains("mattermost"), "{out}");
    before.assert_unchanged(&t.snapshot(), &"a refused edit wrote");
}

#[test]
fn send_to_without_a_sender_fails_at_settings_before_connecting() {
    let t = TestRoot::with_settings(&smtp_closed());
    let out = t
        .toolctl([
            "smtp",
            "check",
            "--send-to",
            "ops@example.com",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(1);
    let step = out.step("settings");
    assert_eq!(step["status"], "fail", "{out}");
    assert!(
        step["hint"].as_str().unwrap().contains("email.from"),
        "{out}"
    );
    let steps = out.json()["probes"][0]["steps"].clone();
    assert!(
        !steps.as_array().unwrap().iter().any(|s| s["step"] == "tcp"),
        "it connected anyway\n{out}"
    );
}

#[test]
fn secrets_status_hint_matches_what_init_will_do() {
    let t = TestRoot::with_default_settings();
    t.write_secret("smtp", b"password: 'p'\n");
    fs::remove_file(t.key_file()).unwrap();
    let out = t.toolctl(["secrets", "status"]).run();
    assert!(out.stderr.contains("restore it from your backup"), "{out}");
    assert!(
        !out.stderr.contains("`toolctl secrets init` creates one"),
        "{out}"
    );
    // And init indeed refuses to create a key over existing secrets.
    t.toolctl(["secrets", "init"]).run().assert_code(2);
}

#[test]
fn show_config_filters_by_key_or_table() {
    let t = TestRoot::with_settings("[smtp]\nport = 2525\n");
    let out = t.toolctl(["show-config", "smtp"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(text.contains("smtp.port") && text.contains("2525"), "{out}");
    assert!(!text.contains("incoming_email"), "{out}");
    let out = t
        .toolctl(["show-config", "smtp.port", "--output-format", "json"])
        .run();
    let settings = out.json()["settings"].as_object().unwrap().clone();
    assert_eq!(settings.len(), 1, "{out}");
    assert_eq!(settings["smtp.port"]["value"], 2525, "{out}");
    t.toolctl(["show-config", "smtpp"])
        .run()
        .assert_error("no key or table `smtpp`", &["did you mean `smtp`?"]);
}

#[test]
fn secret_show_key_prints_one_raw_value() {
    let t = TestRoot::new();
    t.write_secret("smtp", b"user_name: 'gitlab'\npassword: 'p4ss word'\n");
    let out = t
        .toolctl(["smtp", "secret", "show", "--key", "password"])
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout, b"p4ss word", "no newline added");
    let before = t.snapshot();
    t.toolctl(["smtp", "secret", "show", "--key", "pasword"])
        .run()
        .assert_error("not a key of the smtp secret", &["`password`"]);
    t.write_secret("mattermost", b"gitlab_secret: 'g'\n");
    let before_missing = t.snapshot();
    t.toolctl(["mattermost", "secret", "show", "--key", "sql_password"])
        .run()
        .assert_error("has no `sql_password`", &["secret set sql_password"]);
    before_missing.assert_unchanged(&t.snapshot(), &"show wrote");
    drop(before);
}

#[test]
fn secret_set_merges_one_value_from_stdin() {
    let t = TestRoot::new();
    t.write_secret("smtp", b"user_name: 'gitlab'\npassword: 'old'\n");
    // One trailing newline is stripped, as `read` does; every other byte is kept.
    let value = "new \"pa'ss\\word\"\twith tab";
    let out = t
        .toolctl(["smtp", "secret", "set", "password"])
        .stdin(format!("{value}\n"))
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("the other keys were kept"), "{out}");
    assert!(!out.stderr.contains("pa'ss"), "the value leaked\n{out}");
    let shown = t
        .toolctl(["smtp", "secret", "show", "--key", "password"])
        .run();
    assert_eq!(shown.stdout_str(), value);
    let user = t
        .toolctl(["smtp", "secret", "show", "--key", "user_name"])
        .run();
    assert_eq!(user.stdout_str(), "gitlab");
    assert_eq!(mode(&t.secret_file("smtp")), 0o600);
    // Only one newline goes; a second one is part of the value.
    t.toolctl(["smtp", "secret", "set", "user_name"])
        .stdin("two\n\n")
        .run()
        .assert_code(0);
    let user = t
        .toolctl(["smtp", "secret", "show", "--key", "user_name"])
        .run();
    assert_eq!(user.stdout_str(), "two\n");
    // A new scope starts from nothing.
    t.toolctl(["mailroom", "secret", "set", "webhook_secret"])
        .stdin("dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s=")
        .run()
        .assert_code(0);
    assert_eq!(
        t.show_secret("mailroom"),
        b"webhook_secret: \"dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s=\"\n"
    );
    // Refusals change nothing.
    let before = t.snapshot();
    t.toolctl(["smtp", "secret", "set", "pasword"])
        .stdin("x\n")
        .run()
        .assert_error("not a key of the smtp secret", &["`password`"]);
    t.toolctl(["smtp", "secret", "set", "password"])
        .stdin("\n")
        .run()
        .assert_error("is empty", &["printf"]);
    before.assert_unchanged(&t.snapshot(), &"a refused set wrote");
}

#[test]
fn status_is_one_screen_writes_nothing_and_says_what_needs_attention() {
    let t = TestRoot::with_settings(&smtp_closed());
    t.toolctl(["init"]).run().assert_code(0);
    // Nothing rendered yet: attention (exit 1), and nothing is written.
    let before = t.snapshot();
    let out = t.toolctl(["status"]).run();
    out.assert_code(1);
    before.assert_unchanged(&t.snapshot(), &out);
    let text = out.stdout_str();
    for word in [
        "settings",
        "key",
        "secret",
        "rendered",
        "out of date",
        "needs attention",
        "mailroom",
        "smtp",
        "enabled",
    ] {
        assert!(text.contains(word), "status lacks {word:?}\n{out}");
    }
    t.toolctl(["reconfigure"]).run().assert_code(0);
    // One screen of 24 rows, on a terminal of 80 or 60 columns, with room to spare (a
    // line per integration, details only for what needs attention).
    for cols in [80, 60] {
        let screen = final_screen(&t, cols, &["status"]);
        let rows = screen.trim_end().lines().count();
        println!("status: {rows} rows on {cols} columns");
        assert!(rows <= 20, "{rows} rows:\n{screen}");
        assert!(screen.starts_with("all well"), "{screen}");
        assert!(
            screen.lines().all(|l| l.chars().count() <= cols.into()),
            "{screen}"
        );
    }
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["ok"], true, "{out}");
    assert_eq!(doc["key_present"], true, "{out}");
    assert_eq!(doc["key_mode"], "0600", "{out}");
    assert_eq!(doc["integrations"]["smtp"], true, "{out}");
    assert_eq!(doc["rendered"]["level"], "ok", "{out}");
    assert_eq!(doc["secrets"].as_array().unwrap().len(), 8, "{out}");
    // A change to the settings makes the rendered files out of date.
    t.toolctl(["config", "set", "email.reply_to", "noreply@example.com"])
        .run()
        .assert_code(0);
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(1);
    assert_eq!(out.json()["rendered"]["level"], "attention", "{out}");
    // Invalid settings: it cannot tell (exit 2), and still prints one document.
    t.write_settings("[smtp]\nport = \"x\"\n");
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(2);
    assert_eq!(out.json()["settings"]["level"], "error", "{out}");
}

/// Runs `toolctl ARGS` on a pseudo-terminal of `cols` columns (util-linux `script`), with
/// `env` set; returns what the terminal showed.
fn on_terminal(t: &TestRoot, cols: u16, env: &[(&str, &str)], args: &[&str]) -> String {
    let bin = crate::harness::toolctl_bin();
    let mut line = format!("stty cols {cols} rows 50; exec {}", bin.display());
    line.push_str(&format!(" --root {}", t.root().display()));
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TOOLCTL_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("NO_COLOR").env_remove("COLUMNS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script(1)");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// What a terminal of `cols` columns shows at the end of `toolctl ARGS` (see
/// `screen.rs`), a line too wide for it kept whole.
fn final_screen(t: &TestRoot, cols: u16, args: &[&str]) -> String {
    crate::screen::unwrapped(t, cols, &[], args).join("\n")
}

#[test]
fn tables_fit_the_terminal_and_stay_whole_lines_off_it() {
    let t = TestRoot::with_settings(&format!("{}\n{}", incoming_without_secret(), smtp_closed()));
    // (`check`'s rows on a terminal are its live rows: see
    // every_command_s_tables_fit_80_and_60_columns_and_no_column_is_squeezed.)
    for args in [&["show-config"][..], &["secrets", "status"]] {
        let screen = on_terminal(&t, 80, &[("TERM", "xterm")], args);
        // The table lines (stderr's messages are prose, wrapped by the terminal).
        let widest = screen
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└', '╘']))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        println!(
            "{}: widest line {widest} columns on an 80-column terminal",
            args.join(" ")
        );
        assert!(widest > 40, "no table on the terminal:\n{screen}");
        assert!(
            widest <= 80,
            "{} is {widest} columns wide:\n{screen}",
            args.join(" ")
        );
    }
    // Off a terminal every row of show-config is one line.
    let out = t.toolctl(["show-config"]).run();
    let keys = t
        .toolctl(["show-config", "--output-format", "json"])
        .run()
        .json()["settings"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(out.stdout_str().lines().count(), keys + 2, "{out}");
}

#[test]
fn term_dumb_turns_colour_off() {
    let t = TestRoot::new();
    let coloured = on_terminal(&t, 80, &[("TERM", "xterm")], &["config", "get", "x"]);
    assert!(
        coloured.contains('\x1b'),
        "no colour on a terminal at all:\n{coloured}"
    );
    let dumb = on_terminal(&t, 80, &[("TERM", "dumb")], &["config", "get", "x"]);
    assert!(dumb.contains("error:"), "{dumb}");
    assert!(!dumb.contains('\x1b'), "TERM=dumb is coloured:\n{dumb:?}");
}

/// The dynamic completer's answer for the words of a command line (fish protocol: one
/// candidate per line, a tab before its help).
fn complete(t: &TestRoot, words: &[&str]) -> Vec<String> {
    let mut args = vec!["--"];
    args.push("toolctl");
    args.extend(words);
    let out = crate::harness::Toolctl::bare(args)
        .env("COMPLETE", "fish")
        .env("TOOLCTL_ROOT", t.root())
        .run();
    out.assert_code(0);
    out.stdout_str()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn completion_offers_subcommands_first_and_the_dynamic_values() {
    let t = TestRoot::new();
    fs::create_dir_all(t.path("var/log/toolctl/mailroom")).unwrap();
    fs::write(t.path("var/log/toolctl/mailroom/mail_room_json.log"), "").unwrap();
    let top = complete(&t, &[""]);
    assert_eq!(top.first().map(String::as_str), Some("init"), "{top:?}");
    let first_option = top.iter().position(|c| c.starts_with('-'));
    let last_command = top.iter().rposition(|c| !c.starts_with('-')).unwrap();
    assert!(
        first_option.is_none_or(|o| o > last_command),
        "options before subcommands: {top:?}"
    );
    let keys = complete(&t, &["config", "get", "smtp."]);
    assert!(keys.contains(&"smtp.port".to_string()), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains("password")), "{keys:?}");
    let tables = complete(&t, &["show-config", "incoming"]);
    assert!(tables.contains(&"incoming_email".to_string()), "{tables:?}");
    let targets = complete(&t, &["tail", ""]);
    assert!(
        targets.contains(&"mailroom".to_string())
            && targets.contains(&"mailroom/mail_room_json.log".to_string()),
        "{targets:?}"
    );
    let names = complete(&t, &["smtp", "secret", "set", ""]);
    assert!(names.contains(&"password".to_string()), "{names:?}");
}

#[test]
fn completion_offers_the_scope_s_own_keys_and_honours_root_on_the_line() {
    let t = TestRoot::new();
    // Each scope's own keys, and only those.
    for (scope, own, other) in [
        ("smtp", "user_name", "webhook_secret"),
        ("mailroom", "webhook_secret", "user_name"),
        ("incoming-email", "password", "sql_password"),
    ] {
        for line in [
            vec![scope, "secret", "set", ""],
            vec![scope, "secret", "show", "--key", ""],
        ] {
            let names = complete(&t, &line);
            assert!(names.contains(&own.to_string()), "{line:?}: {names:?}");
            assert!(!names.contains(&other.to_string()), "{line:?}: {names:?}");
        }
    }
    // `--root X tail <Tab>` lists X's logs, not TOOLCTL_ROOT's.
    let other = TestRoot::new();
    fs::create_dir_all(other.path("var/log/toolctl/nginx")).unwrap();
    fs::write(other.path("var/log/toolctl/nginx/access.log"), "").unwrap();
    let root = other.root().to_str().unwrap().to_string();
    for line in [
        vec!["--root", root.as_str(), "tail", ""],
        vec!["--root", root.as_str(), "--config", "/dev/null", "tail", ""],
    ] {
        let targets = complete(&t, &line);
        assert!(
            targets.contains(&"nginx/access.log".to_string()),
            "{line:?}: {targets:?}"
        );
    }
    // `--config` on the line: its `[logging] log_directory`, below the line's root.
    fs::create_dir_all(other.path("srv/logs/mailroom")).unwrap();
    fs::write(other.path("srv/logs/mailroom/mail_room_json.log"), "").unwrap();
    let config = other.path("elsewhere.toml");
    fs::write(&config, "[logging]\nlog_directory = \"/srv/logs\"\n").unwrap();
    let targets = complete(
        &t,
        &[
            "--root",
            root.as_str(),
            "--config",
            config.to_str().unwrap(),
            "tail",
            "",
        ],
    );
    assert!(
        targets.contains(&"mailroom/mail_room_json.log".to_string())
            && !targets.contains(&"nginx/access.log".to_string()),
        "{targets:?}"
    );
    let with_eq = format!("--root={root}");
    let targets = complete(&t, &[&with_eq, "tail", ""]);
    assert!(targets.contains(&"nginx".to_string()), "{targets:?}");
    assert!(!complete(&t, &["tail", ""]).contains(&"nginx".to_string()));
}

/// The documented JSON keys: `(section, [key paths])` from docs/json.md: every `### JSON: …`
/// heading and the first column of its table.
pub(crate) fn documented_json_keys() -> Vec<(String, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(dir.join("docs/json.md")).expect("read docs/json.md");
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### JSON: ") {
            out.push((name.trim_matches('`').to_string(), Vec::new()));
        } else if let (Some(last), Some(cell)) = (out.last_mut(), line.strip_prefix("| `")) {
            // A key documented as present only in some outcomes ("(when …)") is not
            // required of every document.
            let conditional = line
                .rsplit('|')
                .nth(1)
                .is_some_and(|m| m.contains("(when "));
            if let Some((key, _)) = cell.split_once('`').filter(|_| !conditional) {
                last.1.push(key.to_string());
            }
        } else if line.starts_with("## ") || line.starts_with("### ") {
            // A heading that is not a JSON section ends the table before it.
            out.push((String::new(), Vec::new()));
        }
    }
    out.retain(|(name, _)| !name.is_empty());
    out
}

/// The sections whose documents come from the tests that run those commands against real
/// servers (PostgreSQL, Postfix and Dovecot); each of those tests calls
/// [`assert_documented_json`] with the section's name.
const CHECKED_ELSEWHERE: &[&str] = &[
    "toolctl mattermost backup",
    "toolctl mattermost backup --verify",
    "toolctl mattermost restore",
    "toolctl service-desk-email verify-custom-email",
    "toolctl import gitlab-secrets",
];

/// Fails when a key that docs/json.md documents for `section` (and for every document) is
/// missing from `doc`.
#[track_caller]
pub(crate) fn assert_documented_json(section: &str, doc: &serde_json::Value) {
    let sections = documented_json_keys();
    assert!(
        sections.iter().any(|(s, _)| s == section),
        "docs/json.md has no `### JSON: `{section}`` section"
    );
    let missing: Vec<&String> = sections
        .iter()
        .filter(|(s, _)| s == section || s == "every document")
        .flat_map(|(_, keys)| keys)
        .filter(|k| !has_path(doc, &k.split('.').collect::<Vec<_>>()))
        .collect();
    assert!(
        missing.is_empty(),
        "`{section}`: documented JSON keys missing from the output: {missing:?}\n{doc:#}"
    );
}

/// Whether `path` (`a.b`, `a[].b`, `m.*.c`) exists in `doc`; arrays and maps on the way
/// must be non-empty, and the key must be there in every element.
fn has_path(doc: &serde_json::Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    if *first == "*" {
        return match doc.as_object() {
            Some(m) if !m.is_empty() => m.values().all(|v| has_path(v, rest)),
            _ => false,
        };
    }
    let (name, each) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    let Some(v) = doc.get(name) else {
        return false;
    };
    if each {
        match v.as_array() {
            Some(a) if !a.is_empty() => a.iter().all(|e| has_path(e, rest)),
            _ => false,
        }
    } else {
        rest.is_empty() || has_path(v, rest)
    }
}

#[test]
fn every_documented_json_key_is_in_the_output() {
    let sections = documented_json_keys();
    assert!(
        sections.len() >= 8,
        "too few documented sections: {sections:?}"
    );
    // One document of each kind, from real runs.
    let t = TestRoot::with_settings(&format!("{}\n{}", incoming_without_secret(), smtp_closed()));
    t.toolctl(["init"]).run().assert_code(0);
    t.write_secret("smtp", b"user_name: 'u'\npassword: 'p'\n");
    let json = |args: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--output-format", "json"]);
        t.toolctl(&a).run().json()
    };
    let reconfigure = {
        let r = TestRoot::with_settings(&smtp_closed());
        r.toolctl([
            "reconfigure",
            "--dry-run",
            "--diff",
            "--output-format",
            "json",
        ])
        .run()
        .json()
    };
    let status = {
        let r = TestRoot::with_settings(&smtp_closed());
        r.toolctl(["init"]).run().assert_code(0);
        r.toolctl(["status", "--output-format", "json"])
            .run()
            .json()
    };
    let error = TestRoot::new()
        .toolctl(["status", "--output-format", "json"])
        .run()
        .json();
    let docs: Vec<(&str, serde_json::Value)> = vec![
        ("toolctl check", json(&["check"])),
        ("toolctl status", status),
        ("toolctl secrets status", json(&["secrets", "status"])),
        ("toolctl secrets rekey", json(&["secrets", "rekey"])),
        ("toolctl reconfigure", reconfigure),
        ("toolctl show-config", json(&["show-config"])),
        ("error", error),
    ];
    let docs = {
        let mut docs = docs;
        docs.extend(other_documents());
        docs
    };
    let mut missing = Vec::new();
    for (section, keys) in &sections {
        if CHECKED_ELSEWHERE.contains(&section.as_str()) {
            let call = format!("assert_documented_json(\n        \"{section}\"");
            let call_one_line = format!("assert_documented_json(\"{section}\"");
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
            let called = fs::read_dir(&dir).unwrap().any(|e| {
                let text = fs::read_to_string(e.unwrap().path()).unwrap_or_default();
                text.contains(&call) || text.contains(&call_one_line)
            });
            assert!(
                called,
                "no test calls assert_documented_json(\"{section}\", …)"
            );
            continue;
        }
        let targets: Vec<&(&str, serde_json::Value)> = match section.as_str() {
            "every document" => docs.iter().collect(),
            name => docs.iter().filter(|(n, _)| *n == name).collect(),
        };
        assert!(
            !targets.is_empty(),
            "no test document for the section `{section}`"
        );
        for key in keys {
            let path: Vec<&str> = key.split('.').collect();
            for (name, doc) in &targets {
                if !has_path(doc, &path) {
                    missing.push(format!("{name}: `{key}`\n{doc:#}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented JSON keys missing from the output:\n{}",
        missing.join("\n")
    );
}

/// Documents of the commands that need no server: import and the Service Desk tools.
fn other_documents() -> Vec<(&'static str, serde_json::Value)> {
    let t = TestRoot::new();
    t.toolctl(["init"]).run().assert_code(0);
    let rb = t.path("gitlab.rb");
    fs::write(
        &rb,
        "gitlab_rails['smtp_enable'] = true\ngitlab_rails['smtp_address'] = 'smtp.example.com'\n\
         gitlab_rails['smtp_password'] = 'p'\nnginx['listen_port'] = 8080\n",
    )
    .unwrap();
    let rb_doc = t
        .toolctl([
            "import",
            "gitlab-rb",
            rb.to_str().unwrap(),
            "--dry-run",
            "--output-format",
            "json",
        ])
        .run()
        .json();
    let sd = TestRoot::with_settings(
        "[incoming_email]\nenabled = true\naddress = \"incoming+%{key}@example.com\"\nhost = \"imap.example.com\"\n",
    );
    let address = sd
        .toolctl([
            "service-desk-email",
            "address",
            "--project",
            "g/p",
            "--project-id",
            "7",
            "--output-format",
            "json",
        ])
        .run()
        .json();
    let dir = t.path("templates");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("thank_you.md"), "Thanks %{ISSUE_IDD}\n").unwrap();
    let templates = t
        .toolctl([
            "service-desk-email",
            "templates",
            "check",
            "--output-format",
            "json",
            dir.to_str().unwrap(),
        ])
        .run()
        .json();
    vec![
        ("toolctl import gitlab-rb", rb_doc),
        ("toolctl service-desk-email address", address),
        ("toolctl service-desk-email templates check", templates),
    ]
}

#[test]
fn a_bom_is_accepted_and_never_stored_and_tab_indentation_is_refused() {
    let t = TestRoot::new();
    t.write_secret("smtp", "\u{feff}user_name: 'u'\npassword: 'p'\n".as_bytes());
    assert_eq!(t.show_secret("smtp"), b"user_name: 'u'\npassword: 'p'\n");
    let before = t.snapshot();
    for (text, line) in [
        ("\tpassword: 'a'\n", 1),
        ("user_name: 'u'\n\tpassword: 'a'\n", 2),
    ] {
        let out = t
            .toolctl(["smtp", "secret", "write"])
            .stdin(text.as_bytes())
            .run();
        out.assert_error("found character that cannot start any token", &[]);
        assert!(out.stderr.contains(&format!("line {line} ")), "{out}");
    }
    before.assert_unchanged(&t.snapshot(), &"a refused write changed the store");
    // Tabs inside values and after the colon stay accepted.
    t.write_secret("smtp", b"password:\t'a\tb'\n");
}

#[test]
fn status_names_an_interrupted_apply_and_rotation_until_they_are_finished() {
    let t = TestRoot::with_default_settings();
    t.toolctl(["config", "set", "smtp.address", "127.0.0.1"])
        .run()
        .assert_code(0);
    t.toolctl(["config", "set", "smtp.enabled", "true"])
        .run()
        .assert_code(0);
    t.toolctl(["secrets", "init"]).run().assert_code(0);
    // A reconfigure killed after its journal committed, and a rotation killed after the
    // new key was staged: both are what the next command finishes.
    t.toolctl(["reconfigure"])
        .env("TOOLCTL_FAILPOINT", "reconfigure-journal-committed")
        .run();
    t.toolctl(["secrets", "rekey", "--new-key"])
        .env("TOOLCTL_FAILPOINT", "rekey-journal-staged")
        .run();
    let before = t.snapshot();
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(1);
    before.assert_unchanged(&t.snapshot(), &out);
    let doc = out.json();
    let areas: Vec<&str> = doc["interrupted"]
        .as_array()
        .unwrap_or_else(|| panic!("no `interrupted` list\n{out}"))
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["attention", "attention"], "{out}");
    let human = t.toolctl(["status"]).run();
    human.assert_code(1);
    assert!(
        human
            .stdout_str()
            .contains("an interrupted apply is pending")
            && human.stdout_str().contains("a key rotation is unfinished"),
        "{human}"
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl(["secrets", "rekey"]).run().assert_code(0);
    let out = t.toolctl(["status", "--output-format", "json"]).run();
    out.assert_code(0);
    assert_eq!(out.json()["interrupted"], serde_json::json!([]), "{out}");
}

/// The tables of a screen: for each top border (`┌`), the inner widths of its columns and
/// the first line of its header cells.
fn screen_tables(screen: &str) -> Vec<Vec<(usize, String)>> {
    let lines: Vec<&str> = screen.lines().collect();
    let mut tables = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.starts_with('┌') {
            continue;
        }
        let widths = l
            .trim_end()
            .trim_matches(['┌', '┐'])
            .split('┬')
            .map(|c| c.chars().count().saturating_sub(2));
        let header = lines.get(i + 1).copied().unwrap_or_default();
        let names = header
            .trim_end()
            .trim_matches('│')
            .split('┆')
            .map(|c| c.trim().to_string());
        tables.push(widths.zip(names).collect());
    }
    tables
}

#[test]
fn every_command_s_tables_fit_80_and_60_columns_and_no_column_is_squeezed() {
    let key_file = "[secrets]\nrecipients = []\n";
    let t = TestRoot::builder()
        .settings(format!(
            "{}\n{}\n{key_file}",
            incoming_without_secret(),
            smtp_closed()
        ))
        .secrets_init()
        .secret(
            "smtp",
            "user_name: relay@example.com\npassword: Relay-Pa55word-long\n",
        )
        .build();
    let templates = t.aux().join("service_desk_templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("thank_you.md"),
        "Thanks! Ticket %{ISSUE_PATH}.\n%{ISSUE_IDD}\n<script>x()</script>\n",
    )
    .unwrap();
    let rb = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/gitlab-rb/001-service-desk-gmail/gitlab.rb");
    let templates = templates.to_str().unwrap().to_string();
    let rb = rb.to_str().unwrap().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["secrets", "status"],
        vec!["show-config"],
        vec!["check"],
        vec!["smtp", "check"],
        vec!["reconfigure", "--dry-run"],
        vec!["service-desk-email", "templates", "check", &templates],
        vec!["import", "gitlab-rb", &rb, "--dry-run"],
    ];
    // The round trip's and the postback's rows, with every secret they need, against
    // closed ports: they fail at their first hop, and their rows must fit too.
    let trips = TestRoot::builder()
        .settings(format!(
            "{}\n{}\n{key_file}\n[check]\ncanary_from = \"canary@example.net\"\n",
            incoming_without_secret(),
            smtp_closed()
        ))
        .secrets_init()
        .secret(
            "smtp",
            "user_name: relay@example.com\npassword: Relay-Pa55word-long\n",
        )
        .secret(
            "incoming-email",
            "user: incoming@example.com\npassword: Imap-Pa55word-long\n",
        )
        .secret(
            "mailroom",
            "webhook_secret: 'c2hhcmVkLXdlYmhvb2stdG9rZW4tZm9yLWZpeHR1cmU='\n",
        )
        .build();
    let trip_commands: Vec<Vec<&str>> = vec![
        vec!["check", "--round-trip", "--timeout", "2"],
        vec!["check", "--postback", "--timeout", "2"],
    ];
    let runs = commands
        .iter()
        .map(|c| (&t, c))
        .chain(trip_commands.iter().map(|c| (&trips, c)));
    let runs: Vec<_> = runs.collect();
    for cols in [80usize, 60] {
        for (t, args) in &runs {
            let screen = final_screen(t, cols as u16, args);
            let name = (args.iter().filter(|a| !a.starts_with('/')).copied())
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(dir) = std::env::var_os("TOOLCTL_TEST_SCREENS") {
                let file = format!("{}-{cols}.txt", name.replace(' ', "_"));
                fs::write(std::path::Path::new(&dir).join(file), &screen).unwrap();
            }
            let widest = screen.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            println!(
                "{name}: {} lines, widest {widest} on {cols} columns",
                screen.lines().count()
            );
            assert!(widest <= cols, "{name} at {cols}: {widest} wide\n{screen}");
            for table in screen_tables(&screen) {
                for (w, header) in table {
                    assert!(
                        w >= 12 || w >= header.chars().count(),
                        "{name} at {cols}: column {header:?} is {w} wide\n{screen}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_group_writable_secrets_folder_is_reported_once_first_without_its_follow_ons() {
    let mailbox = |table: &str, local: &str| {
        format!(
            "[{table}]\nenabled = true\naddress = \"{local}+%{{key}}@example.com\"\nhost = \"127.0.0.1\"\nport = {}\nssl = true\n",
            closed_port()
        )
    };
    let t = TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n{}\n{}\n[mailroom]\nenable = true\n",
            mailbox("incoming_email", "incoming"),
            mailbox("service_desk_email", "desk")
        ))
        .secrets_init()
        .secret(
            "incoming-email",
            "user: in@example.com\npassword: 'Incoming-Pa55word'\n",
        )
        .secret(
            "service-desk-email",
            "user: sd@example.com\npassword: 'Desk-Pa55word-9'\n",
        )
        .build();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    crate::harness::chmod(&t.secrets_dir(), 0o770);
    let before = t.snapshot();
    for args in [
        &["reconfigure"][..],
        &["reconfigure", "--dry-run"],
        &["service-desk-email", "check"],
    ] {
        let out = t.toolctl(args).run();
        out.assert_error("group-writable", &["chmod 700"]);
        let err = &out.stderr;
        assert_eq!(err.matches("group-writable").count(), 1, "{out}");
        assert!(err.contains("follow from it are not shown"), "{out}");
        for follow_on in ["is not set", "same mailbox", "secret edit"] {
            assert!(!err.contains(follow_on), "{follow_on:?} shown\n{out}");
        }
    }
    // `status`: the one error, with its own fix.
    let out = t.toolctl(["status"]).run();
    out.assert_code(2);
    let text = out.stdout_str();
    assert_eq!(text.matches("group-writable").count(), 1, "{out}");
    assert!(text.contains("hint: run `chmod 700"), "{out}");
    // `check`: every probe that needs the store says why it cannot run, and only that.
    let out = t.toolctl(["check", "--output-format", "json"]).run();
    out.assert_code(2);
    for p in out.json()["probes"].as_array().unwrap() {
        let steps = p["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1, "{out}");
        assert!(
            steps[0]["detail"]
                .as_str()
                .unwrap()
                .contains("group-writable"),
            "{out}"
        );
        assert!(
            steps[0]["hint"].as_str().unwrap().contains("chmod 700"),
            "{out}"
        );
    }
    before.assert_unchanged(&t.snapshot(), &"a refused run");
}

#[test]
fn a_short_password_is_warned_about_whenever_it_is_stored() {
    let t = TestRoot::with_default_settings();
    t.init();
    let warned = |out: &crate::harness::Outcome| {
        out.assert_code(0);
        assert!(!out.stderr.contains("ab1"), "the value is shown\n{out}");
        out.stderr.contains("shorter than 8 characters")
    };
    let out = t
        .toolctl(["smtp", "secret", "write"])
        .stdin("user_name: relay\npassword: ab1\n")
        .run();
    assert!(warned(&out), "{out}");
    assert!(
        out.stderr.contains("`password` of the smtp secret"),
        "{out}"
    );
    let out = t
        .toolctl(["smtp", "secret", "set", "password"])
        .stdin("ab1\n")
        .run();
    assert!(warned(&out), "{out}");
    // A user name is no password; a long password is not warned about.
    let out = t
        .toolctl(["smtp", "secret", "set", "user_name"])
        .stdin("u\n")
        .run();
    assert!(!warned(&out), "{out}");
    let out = t
        .toolctl(["smtp", "secret", "set", "password"])
        .stdin("Long-Pa55word\n")
        .run();
    assert!(!warned(&out), "{out}");
    // An import of GitLab's encrypted secrets warns too.
    let rb = t.aux().join("gitlab.rb");
    fs::write(
        &rb,
        "gitlab_rails['smtp_enable'] = true\ngitlab_rails['smtp_address'] = 'smtp.example.com'\ngitlab_rails['smtp_password'] = 'ab1'\n",
    )
    .unwrap();
    let out = t
        .toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
        .run();
    assert!(warned(&out), "{out}");
}
