//! `toolctl service-desk-email address | templates | verify-custom-email`, through the real
//! binary. The verification runs for real: the mail goes out through a real Postfix (AUTH
//! through Dovecot) and is watched for in real Dovecot mailboxes, and every failure outcome
//! is made by a real Postfix setting (a From rewrite, a subaddress-dropping rewrite, a
//! forward to the alias, a wrong password, a closed port, a planted message).

use std::fs;
use std::time::Duration;

use crate::harness::{wait_for, Outcome, TestRoot};
use crate::mailservers::{
    certs, closed_port, Dovecot, DovecotOptions, FakeSmtp, Postfix, ALICE, ALICE_PASSWORD, BOB,
    BOB_PASSWORD,
};

const ADDRESSES: &str = "external_url = \"https://gitlab.example.com\"\n\n[incoming_email]\nenabled = true\naddress = \"incoming+%{key}@gitlab.example.com\"\n";

fn address(t: &TestRoot, extra: &[&str]) -> Outcome {
    let mut args = vec!["service-desk-email", "address"];
    args.extend_from_slice(extra);
    t.toolctl(args).run()
}

#[test]
fn address_prints_the_incoming_email_address_with_the_project_key() {
    let t = TestRoot::with_settings(ADDRESSES);
    let out = address(
        &t,
        &["--project", "MyGroup/My.Project", "--project-id", "42"],
    );
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "incoming+mygroup-my-project-42-issue-@gitlab.example.com\tincoming_email\n",
        "{out}"
    );
}

#[test]
fn address_with_a_suffix_changes_only_the_service_desk_alias() {
    let t = TestRoot::with_settings(&format!(
        "{ADDRESSES}\n[service_desk_email]\nenabled = true\naddress = \"contact+%{{key}}@example.com\"\nhost = \"imap.example.com\"\n"
    ));
    let out = address(
        &t,
        &[
            "--project",
            "mygroup/myproject",
            "--project-id",
            "42",
            "--suffix",
            "support",
            "--output-format",
            "json",
        ],
    );
    out.assert_code(0);
    let j = out.json();
    let got: Vec<(String, String)> = j["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["source"].as_str().unwrap().into(),
                a["address"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "incoming_email".into(),
                "incoming+mygroup-myproject-42-issue-@gitlab.example.com".into()
            ),
            (
                "service_desk_email".into(),
                "contact+mygroup-myproject-support@example.com".into()
            ),
        ],
        "{out}"
    );
    assert_eq!(j["addresses"][1]["key"], "mygroup-myproject-support");
}

#[test]
fn address_refuses_bad_suffixes_missing_keys_and_a_suffix_without_the_alias() {
    let t = TestRoot::with_settings(ADDRESSES);
    let before = t.snapshot();
    let base = ["--project", "g/p", "--project-id", "1"];
    for (suffix, error) in [
        ("Support", "holds 'S'"),
        ("a-b", "holds '-'"),
        (&"a".repeat(256)[..], "256 characters"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--suffix", suffix]);
        address(&t, &args).assert_error(error, &["lowercase letters, digits and underscores"]);
    }
    let mut args = base.to_vec();
    args.extend(["--suffix", "support"]);
    address(&t, &args).assert_error("`service_desk_email.enabled` is false", &["--suffix"]);
    t.snapshot().assert_unchanged(&before, &"address refusals");

    let t = TestRoot::with_settings(
        "[incoming_email]\nenabled = true\naddress = \"incoming@gitlab.example.com\"\n",
    );
    let before = t.snapshot();
    address(&t, &base).assert_error("has no `%{key}`", &["+%{key}"]);
    t.snapshot()
        .assert_unchanged(&before, &"address without %{key}");
}

fn templates_dir(t: &TestRoot, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = t.aux().join("service_desk_templates");
    fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
    dir
}

#[test]
fn templates_check_reports_every_finding_with_line_and_column() {
    let t = TestRoot::new();
    let dir = templates_dir(
        &t,
        &[
            ("thank_you.md", "Thanks! Ticket %{ISSUE_PATH}.\nÀ bientôt %{ISSUE_IDD}\n%{NOTE_TEXT}\n<script>x()</script>\n"),
            ("new_note.md", "A reply on %{ ISSUE_ID }.\n%{ISSUE_DESCRIPTION}\n<img src=x onerror=\"a()\">\n[x](javascript:alert(1))\n"),
            ("new_participant.md", "%{SYSTEM_HEADER}Welcome %{UNSUBSCRIBE_URL}%{SYSTEM_FOOTER}\n"),
            ("thanks.md", "typo in the name"),
        ],
    );
    let before = t.snapshot();
    let out = t
        .toolctl(["service-desk-email", "templates", "check"])
        .run();
    assert_eq!(out.code, Some(2), "DIR is required\n{out}");
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "check",
            "--output-format",
            "json",
            dir.to_str().unwrap(),
        ])
        .run();
    out.assert_code(1);
    let j = out.json();
    let found: Vec<(String, u64, u64, String, String)> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().into(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().into(),
                f["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = |f: &str, l: u64, c: u64, s: &str, code: &str| {
        (f.to_string(), l, c, s.to_string(), code.to_string())
    };
    for w in [
        want("new_note.md", 2, 1, "warning", "issue_description"),
        want("new_note.md", 3, 12, "error", "event_handler"),
        want("new_note.md", 4, 5, "error", "unsafe_link"),
        want("new_note.md", 1, 1, "warning", "new_note_without_note_text"),
        want("thank_you.md", 2, 11, "error", "unknown_placeholder"),
        want(
            "thank_you.md",
            3,
            1,
            "warning",
            "note_text_outside_new_note",
        ),
        want("thank_you.md", 4, 2, "error", "stripped_tag"),
        want("thanks.md", 0, 0, "error", "unknown_file"),
    ] {
        assert!(found.contains(&w), "missing {w:?} in {found:?}\n{out}");
    }
    assert_eq!(found.len(), 8, "{found:?}");
    assert_eq!(
        (j["errors"].as_u64(), j["warnings"].as_u64()),
        (Some(5), Some(3))
    );
    assert!(
        !found.iter().any(|f| f.0 == "new_participant.md"),
        "{found:?}"
    );
    t.snapshot().assert_unchanged(&before, &"templates check");
}

#[test]
fn templates_check_exits_0_with_warnings_only_and_2_on_a_missing_dir() {
    let t = TestRoot::new();
    let dir = templates_dir(
        &t,
        &[("new_note.md", "%{ISSUE_DESCRIPTION}\n%{NOTE_TEXT}\n")],
    );
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "check",
            dir.to_str().unwrap(),
        ])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout_str().contains("0 error(s), 1 warning(s)"),
        "{out}"
    );
    let missing = t.aux().join("nope");
    t.toolctl([
        "service-desk-email",
        "templates",
        "check",
        missing.to_str().unwrap(),
    ])
    .run()
    .assert_error("nope", &["service_desk_templates"]);
}

#[test]
fn templates_preview_substitutes_and_renders_markdown() {
    let t = TestRoot::new();
    let dir = templates_dir(
        &t,
        &[(
            "new_note.md",
            "# Re: %{ISSUE_PATH}\n\n%{NOTE_TEXT}\n\n*ticket* %{ISSUE_ID} %{UNKNOWN}\n",
        )],
    );
    let file = dir.join("new_note.md");
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "preview",
            "--issue-path",
            "grp/prj#7",
            "--note-text",
            "**Fixed** now.",
            file.to_str().unwrap(),
        ])
        .run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "<h1>Re: grp/prj#7</h1>\n<p><strong>Fixed</strong> now.</p>\n<p><em>ticket</em> 7 %{UNKNOWN}</p>\n",
        "{out}"
    );
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "preview",
            "--open",
            file.to_str().unwrap(),
        ])
        .run();
    out.assert_code(0);
    let path = std::path::PathBuf::from(out.stdout_str().trim());
    let html = fs::read_to_string(&path).unwrap();
    fs::remove_file(&path).unwrap();
    assert!(
        html.contains("<h1>Re: mygroup/myproject#7</h1>")
            && html.contains("Thanks, we are looking into it."),
        "{html}"
    );
    let other = dir.join("other.md");
    t.toolctl([
        "service-desk-email",
        "templates",
        "preview",
        other.to_str().unwrap(),
    ])
    .run()
    .assert_error("not a template GitLab reads", &["thank_you.md"]);
}

// ---------------------------------------------------------------------------------------
// verify-custom-email
// ---------------------------------------------------------------------------------------

const CUSTOM: &str = "support@example.test";
const INCOMING_TARGET: &str = "incoming+mygroup-myproject-42-issue-@example.test";
const ALIAS_TARGET: &str = "contact+mygroup-myproject-42-issue-@example.test";

/// Postfix's delivery for these tests: `incoming@` is alice's INBOX (the incoming_email
/// mailbox), `contact@` bob's (the service_desk_email mailbox), `+` is the subaddress
/// delimiter, and an alias's unmatched extension is not carried over (so the Delivered-To
/// of a forwarded mail is the target as written). `forward` is where support@ forwards to.
fn delivery(forward: &str, extra: &str) -> String {
    format!(
        "recipient_delimiter = +
propagate_unmatched_extensions = canonical
virtual_mailbox_maps = inline:{{ {ALICE}=alice/Maildir/, {BOB}=bob/Maildir/, incoming@example.test=alice/Maildir/, contact@example.test=bob/Maildir/ }}
virtual_alias_maps = inline:{{ {CUSTOM}={forward} }}
{extra}"
    )
}

fn verify_root(d: &Dovecot, sd_alias: bool, password: &str) -> TestRoot {
    let mut settings = format!(
        "external_url = \"https://gitlab.example.com\"\n\n[incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@example.test\"\nhost = \"127.0.0.1\"\nport = {}\nssl = true\nstart_tls = false\nca_file = \"/ca.pem\"\n",
        d.imaps
    );
    if sd_alias {
        settings.push_str(&format!(
            "\n[service_desk_email]\nenabled = true\naddress = \"contact+%{{key}}@example.test\"\nhost = \"127.0.0.1\"\nport = {}\nssl = true\nstart_tls = false\nca_file = \"/ca.pem\"\n",
            d.imaps
        ));
    }
    TestRoot::builder()
        .settings(settings)
        .copy_file("ca.pem", &certs().ca)
        .secret(
            "incoming-email",
            format!("user: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        )
        .secret(
            "service-desk-email",
            format!("user: '{BOB}'\npassword: '{BOB_PASSWORD}'\n"),
        )
        .secret(
            "custom-email",
            format!("user_name: '{ALICE}'\npassword: '{password}'\n"),
        )
        .build()
}

fn verify_args(smtp_port: u16, within: &str) -> Vec<String> {
    [
        "service-desk-email",
        "verify-custom-email",
        "--address",
        CUSTOM,
        "--project",
        "mygroup/myproject",
        "--project-id",
        "42",
        "--smtp-address",
        "127.0.0.1",
        "--smtp-port",
        &smtp_port.to_string(),
        "--ca-file",
        certs().ca.to_str().unwrap(),
        "--within",
        within,
        "--output-format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[track_caller]
fn outcome(out: &Outcome, want: &str, code: i32) -> serde_json::Value {
    out.assert_code(code);
    for secret in [ALICE_PASSWORD, BOB_PASSWORD, "wrong-Pa55-x"] {
        assert!(
            !out.stdout_str().contains(secret) && !out.stderr.contains(secret),
            "a password leaked\n{out}"
        );
    }
    let j = out.json();
    assert_eq!(j["outcome"], want, "{out}");
    crate::cli::assert_documented_json("toolctl service-desk-email verify-custom-email", &j);
    j
}

#[test]
fn verify_custom_email_succeeds_when_the_forward_keeps_everything() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(&d, &delivery(INCOMING_TARGET, ""));
    let t = verify_root(&d, true, ALICE_PASSWORD);
    let out = t.toolctl(verify_args(p.smtp, "20s")).run();
    let j = outcome(&out, "ok", 0);
    assert_eq!(j["forwarding_target"], INCOMING_TARGET);
    assert_eq!(j["verify_address"], "support+verify@example.test");
    // A second run, as a person reads it: the table of steps, then the verdict.
    let mut human = verify_args(p.smtp, "20s");
    human.truncate(human.len() - 2);
    let out = t.toolctl(&human).run();
    out.assert_code(0);
    assert!(
        out.stdout_str()
            .contains("verification of support@example.test: ok"),
        "{out}"
    );
    let mail = d
        .wait_for_message(ALICE, "Verification token: ", Duration::from_secs(1))
        .expect("delivered");
    for needle in [
        "Subject: Verify custom email address support@example.test for mygroup/myproject",
        "Auto-Submitted: no",
        "To: support+verify@example.test",
        "Message-ID: <toolctl-verify-",
    ] {
        assert!(mail.contains(needle), "{needle:?} missing in\n{mail}");
    }
}

#[test]
fn verify_custom_email_reports_a_rewritten_from() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(
        &d,
        &delivery(
            INCOMING_TARGET,
            &format!("sender_canonical_maps = inline:{{ {CUSTOM}={BOB} }}"),
        ),
    );
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let j = outcome(
        &t.toolctl(verify_args(p.smtp, "20s")).run(),
        "incorrect_from",
        1,
    );
    assert!(j["detail"].as_str().unwrap().contains(BOB), "{j}");
    assert!(j["hint"].as_str().unwrap().contains("Exchange"), "{j}");
}

#[test]
fn verify_custom_email_times_out_when_the_subaddress_is_dropped() {
    let d = Dovecot::start(DovecotOptions::default());
    // The provider drops `+verify` (envelope and To header) before forwarding.
    let p = Postfix::start_with(
        &d,
        &delivery(INCOMING_TARGET, "recipient_canonical_maps = inline:{ support+verify@example.test=support@example.test }"),
    );
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let j = outcome(
        &t.toolctl(verify_args(p.smtp, "5s")).run(),
        "mail_not_received_within_timeframe",
        1,
    );
    assert!(
        j["detail"]
            .as_str()
            .unwrap()
            .contains("arrived without the +verify subaddress"),
        "{j}"
    );
}

#[test]
fn verify_custom_email_names_the_alias_as_the_wrong_forwarding_target() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(&d, &delivery(ALIAS_TARGET, ""));
    let t = verify_root(&d, true, ALICE_PASSWORD);
    let j = outcome(
        &t.toolctl(verify_args(p.smtp, "20s")).run(),
        "incorrect_forwarding_target",
        1,
    );
    assert!(j["detail"].as_str().unwrap().contains(ALIAS_TARGET), "{j}");
    assert!(
        j["hint"]
            .as_str()
            .unwrap()
            .contains("not to the service_desk_email alias"),
        "{j}"
    );
}

#[test]
fn verify_custom_email_reports_invalid_credentials_and_smtp_host_issues() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(&d, &delivery(INCOMING_TARGET, ""));
    let t = verify_root(&d, false, "wrong-Pa55-x");
    let j = outcome(
        &t.toolctl(verify_args(p.smtp, "5s")).run(),
        "invalid_credentials",
        1,
    );
    assert!(
        j["hint"]
            .as_str()
            .unwrap()
            .contains("--smtp-authentication"),
        "{j}"
    );
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let j = outcome(
        &t.toolctl(verify_args(closed_port(), "5s")).run(),
        "smtp_host_issue",
        1,
    );
    assert!(j["detail"].as_str().unwrap().contains("refused"), "{j}");
}

#[test]
fn verify_custom_email_reports_a_wrong_token() {
    let d = Dovecot::start(DovecotOptions::default());
    // The real mail goes to bob (not watched); a message with another token is planted
    // in the incoming_email mailbox once toolctl watches.
    let p = Postfix::start_with(&d, &delivery(BOB, ""));
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let child = spawn_watching(&t, &p, "20s");
    let planted = format!(
        "Delivered-To: {INCOMING_TARGET}\r\nFrom: {CUSTOM}\r\nTo: support+verify@example.test\r\nSubject: Verify custom email address {CUSTOM} for mygroup/myproject\r\nMessage-ID: <planted@example.test>\r\n\r\nVerification token: AAAAAAAAAAAA\r\n"
    );
    let new = d
        .maildir(ALICE)
        .join("new")
        .join("1700000000.planted.example.test");
    fs::write(&new, planted).unwrap();
    std::os::unix::fs::chown(&new, Some(65534), Some(65534)).unwrap();
    let out = finished(child);
    outcome(&out, "incorrect_token", 1);
}

/// Spawns a verification whose mail never reaches a watched mailbox, and returns the
/// child once toolctl is watching.
fn spawn_watching(t: &TestRoot, p: &Postfix, within: &str) -> std::process::Child {
    let log = t.aux().join("failpoints.log");
    let mut cmd = t
        .toolctl(verify_args(p.smtp, within))
        .env("TOOLCTL_FAILPOINT_LOG", &log)
        .command();
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    assert!(
        wait_for(Duration::from_secs(15), || fs::read_to_string(&log)
            .is_ok_and(|l| l.contains("servicedesk-verify-watch"))),
        "toolctl never started watching"
    );
    child
}

fn finished(child: std::process::Child) -> Outcome {
    let out = child.wait_with_output().unwrap();
    Outcome {
        args: vec!["verify-custom-email".into()],
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn verify_custom_email_exits_130_on_ctrl_c() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(&d, &delivery(BOB, ""));
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let child = spawn_watching(&t, &p, "60s");
    // SAFETY: kill(2) on the child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = finished(child);
    out.assert_code(130);
    assert_eq!(out.json()["outcome"], serde_json::Value::Null, "{out}");
}

#[test]
fn verify_custom_email_refuses_bad_input_before_sending() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let before = t.snapshot();
    let mut args = verify_args(closed_port(), "5s");
    let at = args.iter().position(|a| a == CUSTOM).unwrap();
    args[at] = "support+x@example.test".into();
    let out = t.toolctl(&args).run();
    out.assert_code(2);
    assert_eq!(
        out.json()["error"]["hint"]
            .as_str()
            .map(|h| h.contains("no `+`")),
        Some(true),
        "{out}"
    );
    let mut args = verify_args(closed_port(), "soon");
    args.retain(|a| a != "--output-format" && a != "json");
    t.toolctl(&args)
        .run()
        .assert_error("`--within soon`", &["30m"]);
    t.snapshot().assert_unchanged(&before, &"verify refusals");
    // GitLab's password rule, at write time.
    let out = t
        .toolctl(["custom-email", "secret", "write"])
        .stdin(format!("user_name: '{ALICE}'\npassword: 'short'\n"))
        .run();
    out.assert_error("5 characters long", &["8 to 128"]);
    t.snapshot().assert_unchanged(&before, &"short password");
}

#[test]
fn verify_custom_email_stops_before_auth_when_starttls_is_stripped() {
    let d = Dovecot::start(DovecotOptions::default());
    let fake = FakeSmtp::start(b"fake.example.test ESMTP \x1b]0;PWNED\x07");
    let t = verify_root(&d, false, ALICE_PASSWORD);
    let j = outcome(
        &t.toolctl(verify_args(fake.port, "2s")).run(),
        "smtp_host_issue",
        1,
    );
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains("starttls") && detail.contains("send the password in clear"),
        "{j}"
    );
    let hint = j["hint"].as_str().unwrap();
    assert!(hint.contains("--allow-plaintext-auth"), "{j}");
    assert!(hint.contains("--smtp-port 465"), "{j}");
    assert!(!fake.got_auth(), "{:?}", fake.received());
    // As a person reads it: the server's escape sequences are shown, not played.
    let mut human = verify_args(fake.port, "2s");
    human.truncate(human.len() - 2);
    let out = t.toolctl(&human).run();
    out.assert_code(1);
    assert!(out.stdout_str().contains("\\x1b]0;PWNED\\x07"), "{out}");
    assert!(
        !out.stdout_str().contains('\x1b') && !out.stderr.contains('\x1b'),
        "{out}"
    );
    assert!(!fake.got_auth(), "{:?}", fake.received());
    // With --allow-plaintext-auth the credentials go out (and the fake relay swallows the
    // mail, so it never arrives).
    let mut allowed = verify_args(fake.port, "2s");
    allowed.push("--allow-plaintext-auth".into());
    let j = outcome(
        &t.toolctl(&allowed).run(),
        "mail_not_received_within_timeframe",
        1,
    );
    let starttls = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "starttls")
        .cloned()
        .unwrap_or_default();
    assert_eq!(starttls["status"], "warn", "{j}");
    assert!(fake.got_auth(), "{:?}", fake.received());
}
