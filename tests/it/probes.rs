//! The IMAP and SMTP probes against real Dovecot and Postfix on 127.0.0.1 (started by
//! `mailservers`), with real certificates: every green path, every documented failure with
//! its step and hint, the per-step timeout, and `check` running probes concurrently.

use std::fs;
use std::time::{Duration, Instant};

use crate::harness::{Outcome, TestRoot};
use crate::mailservers::{
    certs, closed_port, Aiosmtpd, Dovecot, DovecotOptions, FakeSmtp, Postfix, Silent, SmtpdMode,
    Tls,
};

const ALICE: &str = "alice@example.test";
const ALICE_PW: &str = "alice-Pa55";

/// A root whose toolctl.toml has `settings` (after a common head) and whose store holds
/// alice's credentials for both mailboxes and the relay. The CA is at `/ca.pem` in the root.
fn root(settings: &str) -> TestRoot {
    root_with(settings, ALICE_PW)
}

fn root_with(settings: &str, password: &str) -> TestRoot {
    let creds = format!("user: '{ALICE}'\npassword: '{password}'\n");
    TestRoot::builder()
        .settings(format!("external_url = \"https://gitlab.example.com\"\n\n[email]\nfrom = \"{ALICE}\"\n\n{settings}"))
        .copy_file("ca.pem", &certs().ca)
        .secret("incoming-email", &creds)
        .secret("service-desk-email", &creds)
        .secret("smtp", format!("user_name: '{ALICE}'\npassword: '{password}'\n"))
        .secret("mailroom", "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n")
        .build()
}

fn imap(port: u16, extra: &str) -> String {
    format!(
        "[incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\n\
         host = \"127.0.0.1\"\nport = {port}\nca_file = \"/ca.pem\"\n{extra}\n"
    )
}

fn smtp(port: u16, extra: &str) -> String {
    format!("[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {port}\nca_file = \"/ca.pem\"\n{extra}\n")
}

fn check(t: &TestRoot, what: &str, extra: &[&str]) -> Outcome {
    check_env(t, what, extra, &[])
}

/// [`check`] with environment variables for toolctl (`SSL_CERT_FILE`: the system CA
/// store that OpenSSL, and so mail_room, and toolctl read; the real one is never touched).
fn check_env(
    t: &TestRoot,
    what: &str,
    extra: &[&str],
    env: &[(&str, &std::path::Path)],
) -> Outcome {
    let mut args = vec![what, "check", "--output-format", "json"];
    args.extend_from_slice(extra);
    let mut run = t.toolctl(args);
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = run.run();
    for secret in [ALICE_PW, "wrong-Pa55"] {
        assert!(
            !out.stdout_str().contains(secret) && !out.stderr.contains(secret),
            "a password leaked\n{out}"
        );
    }
    out
}

#[track_caller]
fn failed_at(out: &Outcome, name: &str, detail: &str, hint: &str) {
    out.assert_code(1);
    let s = out.step(name);
    assert_eq!(s["status"], "fail", "{out}");
    assert!(
        s["detail"].as_str().unwrap().contains(detail),
        "detail lacks {detail:?}\n{out}"
    );
    assert!(
        s["hint"].as_str().unwrap().contains(hint),
        "hint lacks {hint:?}\n{out}"
    );
}

#[test]
fn imap_with_starttls_and_imaps_are_green() {
    let d = Dovecot::start(DovecotOptions::default());
    // STARTTLS trusts the system store only (as mail_room): the harness CA is put there
    // through SSL_CERT_FILE, and the unused ca_file is warned about.
    let system_store: &[(&str, &std::path::Path)] = &[("SSL_CERT_FILE", &certs().ca)];
    for (settings, env) in [
        (imap(d.imap, "start_tls = true"), system_store),
        (imap(d.imaps, "ssl = true"), &[][..]),
    ] {
        let t = root(&settings);
        let out = check_env(&t, "incoming-email", &[], env);
        out.assert_code(0);
        // Only real round trips are rows: Dovecot's greeting carries its capabilities,
        // which are asked for again only after STARTTLS (the ones before it are void).
        let expected: &[&str] = if env.is_empty() {
            &[
                "dns",
                "tcp",
                "tls",
                "certificate",
                "greeting",
                "login",
                "mailbox",
                "logout",
            ]
        } else {
            &[
                "dns",
                "tcp",
                "greeting",
                "starttls",
                "tls",
                "certificate",
                "capabilities",
                "login",
                "mailbox",
                "logout",
            ]
        };
        let names = step_names(&out);
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !["settings", "credentials", "trust"].contains(n))
            .collect();
        assert_eq!(names, expected, "{out}");
        for name in expected {
            assert_eq!(out.step(name)["status"], "ok", "{name}\n{out}");
        }
        let caps_row = if env.is_empty() {
            "greeting"
        } else {
            "capabilities"
        };
        assert!(
            out.step(caps_row)["detail"]
                .as_str()
                .unwrap()
                .contains("IDLE"),
            "{out}"
        );
        assert!(
            out.step("logout")["detail"]
                .as_str()
                .unwrap()
                .contains("without waiting"),
            "{out}"
        );
        assert!(
            out.step("mailbox")["detail"]
                .as_str()
                .unwrap()
                .contains("messages"),
            "{out}"
        );
        let trusted = if env.is_empty() {
            "ca_file /ca.pem"
        } else {
            "system CA store"
        };
        assert!(
            out.step("certificate")["detail"]
                .as_str()
                .unwrap()
                .contains(trusted),
            "{out}"
        );
    }
}

#[test]
fn imap_starttls_ignores_ca_file_as_mail_room_does() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&imap(d.imap, "start_tls = true"));
    // The CA only in ca_file: mail_room would fail, so the probe fails.
    let empty = t.aux().join("empty-bundle.pem");
    fs::write(&empty, "").unwrap();
    let out = check_env(&t, "incoming-email", &[], &[("SSL_CERT_FILE", &empty)]);
    let trust = out.step("trust");
    assert_eq!(trust["status"], "warn", "{out}");
    assert!(
        trust["detail"]
            .as_str()
            .unwrap()
            .contains("mail_room ignores"),
        "{out}"
    );
    failed_at(
        &out,
        "tls",
        "not signed by a trusted CA",
        "update-ca-certificates",
    );
    assert!(
        out.step("tls")["hint"]
            .as_str()
            .unwrap()
            .contains("ssl = true"),
        "{out}"
    );
    // Once the CA is in the store mail_room uses, it passes (warning kept).
    let out = check_env(&t, "incoming-email", &[], &[("SSL_CERT_FILE", &certs().ca)]);
    out.assert_code(0);
    assert_eq!(out.step("trust")["status"], "warn", "{out}");
}

#[test]
fn imap_starttls_with_an_untrusted_ca_gets_both_fixes_on_the_first_run() {
    let d = Dovecot::start(DovecotOptions::default());
    let empty = certs().ca.with_file_name("no-such-bundle.pem");
    for settings in [
        imap(d.imap, "start_tls = true"),
        imap(d.imap, "start_tls = true").replace("ca_file = \"/ca.pem\"\n", ""),
    ] {
        let t = root(&settings);
        let out = check_env(&t, "incoming-email", &[], &[("SSL_CERT_FILE", &empty)]);
        let failed = out.json()["probes"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] == "fail" || s["status"] == "error")
            .cloned()
            .unwrap_or_else(|| panic!("nothing failed\n{out}"));
        let hint = failed["hint"].as_str().unwrap();
        assert!(
            hint.contains("update-ca-certificates") && hint.contains("incoming_email.ssl = true"),
            "{settings}\n{out}"
        );
        assert!(!hint.contains("set `ca_file`"), "{settings}\n{out}");
    }
}

#[test]
fn logindisabled_stops_before_the_password_is_sent() {
    let d = Dovecot::start(DovecotOptions {
        starttls: false,
        login_disabled: true,
        ..DovecotOptions::default()
    });
    let t = root(&imap(d.imap, "").replace("127.0.0.1", Dovecot::LOGINDISABLED_HOST));
    let out = check(&t, "incoming-email", &[]);
    failed_at(&out, "login", "LOGINDISABLED", "start_tls = true");
    assert!(
        out.step("login")["hint"]
            .as_str()
            .unwrap()
            .contains("ssl = true"),
        "{out}"
    );
    // Dovecot's greeting carries its capabilities: no CAPABILITY round trip.
    assert!(
        out.step("greeting")["detail"]
            .as_str()
            .unwrap()
            .contains("LOGINDISABLED"),
        "{out}"
    );
    let seen = crate::harness::wait_for(Duration::from_secs(5), || {
        d.log_text().contains("no auth attempts")
    });
    let log = d.log_text();
    assert!(seen, "the disconnect was not logged:\n{log}");
    assert!(
        !log.contains("Login: user=") && !log.contains("auth failed"),
        "{log}"
    );
}

#[test]
fn a_delayed_login_failure_says_the_credentials_may_be_wrong() {
    let d = Dovecot::start(DovecotOptions {
        auth_failure_delay: 3,
        ..DovecotOptions::default()
    });
    let t = root_with(&imap(d.imaps, "ssl = true"), "wrong-Pa55");
    let out = check(&t, "incoming-email", &["--timeout", "2"]);
    failed_at(
        &out,
        "login",
        "delay the answer to a failed login",
        "--timeout",
    );
}

#[test]
fn a_self_signed_certificate_listed_in_its_own_ca_file_is_pinned() {
    let d = Dovecot::start(DovecotOptions {
        tls: Tls::SelfSigned,
        ..DovecotOptions::default()
    });
    let pem = &certs().self_signed.cert;
    let text = String::from_utf8(
        std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(pem)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("CA:TRUE"),
        "the harness certificate is not CA:TRUE:\n{text}"
    );
    // Implicit TLS uses ca_file: pinned, accepted.
    let t = root(&imap(d.imaps, "ssl = true"));
    fs::copy(pem, t.path("ca.pem")).unwrap();
    let out = check(&t, "incoming-email", &[]);
    out.assert_code(0);
    let cert = out.step("certificate")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cert.contains("pinned") && cert.contains("localhost, 127.0.0.1"),
        "{out}"
    );
    // Not where the service ignores ca_file (STARTTLS): refused, in plain words.
    let t = root(&imap(d.imap, "start_tls = true"));
    fs::copy(pem, t.path("ca.pem")).unwrap();
    let out = check(&t, "incoming-email", &[]);
    out.assert_code(1);
    let tls = out.step("tls");
    let detail = tls["detail"].as_str().unwrap();
    assert!(
        detail.contains("CA certificate") || detail.contains("not signed"),
        "{out}"
    );
    // SMTP (ActionMailer uses ca_file with STARTTLS too): pinned.
    let p = Postfix::start(&d);
    let _ = p;
    let t = root(&smtp(d.submissions, "tls = true"));
    fs::copy(pem, t.path("ca.pem")).unwrap();
    check(&t, "smtp", &[]).assert_code(0);
    for out in [&out] {
        for bad in ["CaUsedAsEndEntity", "DNSName(", "IPAddress(", "Some(", "{ "] {
            assert!(!out.stdout_str().contains(bad), "{bad} in\n{out}");
        }
    }
}

/// OpenSSL, so Ruby and mail_room, accepts a server certificate that is byte for byte a
/// trust anchor of the system store (`SSL_CERT_FILE`), CA:TRUE or not; a look-alike with
/// the same subject and other bytes is refused, and so is one absent from the store.
#[test]
fn a_certificate_that_is_itself_a_trust_anchor_of_the_system_store_is_accepted() {
    let c = certs();
    let d = Dovecot::start(DovecotOptions {
        tls: Tls::SelfSigned,
        ..DovecotOptions::default()
    });
    let t = root(&imap(d.imap, "start_tls = true"));
    let out = check_env(
        &t,
        "incoming-email",
        &[],
        &[("SSL_CERT_FILE", &c.self_signed.cert)],
    );
    out.assert_code(0);
    let cert = out.step("certificate")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cert.contains("system CA store") && cert.contains("trust anchor"),
        "{out}"
    );
    // Absent from the store: refused, in words.
    let out = check_env(&t, "incoming-email", &[], &[("SSL_CERT_FILE", &c.ca)]);
    failed_at(
        &out,
        "tls",
        "presents a CA certificate (basicConstraints CA:TRUE) as its own, and it is not in the system CA store",
        "update-ca-certificates",
    );
    // The same subject, other bytes: refused.
    let out = check_env(
        &t,
        "incoming-email",
        &[],
        &[("SSL_CERT_FILE", &c.self_signed_twin.cert)],
    );
    failed_at(
        &out,
        "tls",
        "the server presents a CA certificate",
        "system store",
    );
    for bad in ["CaUsedAsEndEntity", "Some(", "{ "] {
        assert!(!out.stdout_str().contains(bad), "{bad} in\n{out}");
    }
    // A CA:FALSE self-signed certificate in the store: accepted.
    let leaf = Dovecot::start(DovecotOptions {
        tls: Tls::SelfSignedLeaf,
        ..DovecotOptions::default()
    });
    let t = root(&imap(leaf.imap, "start_tls = true"));
    let out = check_env(
        &t,
        "incoming-email",
        &[],
        &[("SSL_CERT_FILE", &c.self_signed_leaf.cert)],
    );
    out.assert_code(0);
    // …and absent from the store, refused.
    let out = check_env(&t, "incoming-email", &[], &[("SSL_CERT_FILE", &c.ca)]);
    failed_at(&out, "tls", "not signed by a trusted CA", "ca_file");
}

#[test]
fn aiosmtpd_passes_with_starttls_and_implicit_tls() {
    for (mode, extra) in [
        (SmtpdMode::Starttls, "enable_starttls_auto = true"),
        (SmtpdMode::Implicit, "tls = true"),
    ] {
        let a = Aiosmtpd::start(mode);
        for method in ["plain", "login"] {
            let settings = smtp(a.port, &format!("{extra}\nauthentication = \"{method}\""));
            let out = check(&root(&settings), "smtp", &[]);
            out.assert_code(0);
            assert_eq!(out.step("auth")["status"], "ok", "{out}");
            assert_eq!(out.step("certificate")["status"], "ok", "{out}");
        }
        let out = check(&root_with(&smtp(a.port, extra), "wrong-Pa55"), "smtp", &[]);
        failed_at(
            &out,
            "auth",
            "authentication failed",
            "toolctl smtp secret edit",
        );
    }
}

#[test]
fn implicit_tls_without_auth_does_not_suggest_starttls() {
    let a = Aiosmtpd::start(SmtpdMode::ImplicitNoAuth);
    let out = check(&root(&smtp(a.port, "tls = true")), "smtp", &[]);
    failed_at(
        &out,
        "auth methods",
        "offers no AUTH",
        "smtpd_sasl_auth_enable",
    );
    assert!(
        !out.step("auth methods")["hint"]
            .as_str()
            .unwrap()
            .contains("starttls"),
        "{out}"
    );
}

#[test]
fn service_desk_reads_its_own_mailbox() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(
        &imap(d.imaps, "ssl = true")
            .replace("[incoming_email]", "[service_desk_email]")
            .replace("incoming+%{key}", "contact+%{key}")
            .replace("ca_file", "mailbox = \"Service Desk\"\nca_file"),
    );
    let out = check(&t, "service-desk-email", &[]);
    out.assert_code(0);
    assert!(
        out.step("mailbox")["detail"]
            .as_str()
            .unwrap()
            .contains("\"Service Desk\""),
        "{out}"
    );
}

#[test]
fn a_plaintext_login_is_warned_about_loudly() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&imap(d.imap, ""));
    let out = check(&t, "incoming-email", &[]);
    out.assert_code(0);
    assert_eq!(out.step("encryption")["status"], "warn", "{out}");
}

#[test]
fn a_wrong_imap_password_names_the_secret_command() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root_with(&imap(d.imaps, "ssl = true"), "wrong-Pa55");
    let out = check(&t, "incoming-email", &[]);
    failed_at(
        &out,
        "login",
        "authentication failed",
        "toolctl incoming-email secret edit",
    );
}

#[test]
fn a_missing_mailbox_is_named() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&imap(d.imaps, "ssl = true\nmailbox = \"Nope\""));
    let out = check(&t, "incoming-email", &[]);
    failed_at(&out, "mailbox", "\"Nope\"", "separate mailboxes");
}

#[test]
fn starttls_not_offered_fails_before_the_password_is_sent() {
    let d = Dovecot::start(DovecotOptions {
        starttls: false,
        ..DovecotOptions::default()
    });
    let t = root(&imap(d.imap, "start_tls = true"));
    let out = check(&t, "incoming-email", &[]);
    failed_at(&out, "starttls", "does not offer STARTTLS", "ssl = true");
    assert!(out.json()["probes"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["step"] != "login"));
    // The server saw no login attempt at all.
    let seen = crate::harness::wait_for(Duration::from_secs(5), || {
        d.log_text().contains("no auth attempts")
    });
    let log = d.log_text();
    assert!(seen, "the disconnect was not logged:\n{log}");
    assert!(
        !log.contains("Login: user=") && !log.contains("auth failed") && !log.contains(ALICE),
        "{log}"
    );
}

#[test]
fn certificate_failures_each_have_their_hint() {
    let cases = [
        (Tls::Good, false, "not signed by a trusted CA", "ca_file"),
        (Tls::Expired, true, "expired", "renew the certificate"),
        (
            Tls::WrongName,
            true,
            "not valid for `127.0.0.1`",
            "subjectAltName",
        ),
    ];
    for (tls, with_ca, detail, hint) in cases {
        let d = Dovecot::start(DovecotOptions {
            tls,
            ..DovecotOptions::default()
        });
        let mut settings = imap(d.imaps, "ssl = true");
        if !with_ca {
            settings = settings.replace("ca_file = \"/ca.pem\"\n", "");
        }
        let out = check(&root(&settings), "incoming-email", &[]);
        failed_at(&out, "tls", detail, hint);
    }
}

#[test]
fn connection_refused_and_a_silent_server_fail_at_their_step() {
    let t = root(&imap(closed_port(), "ssl = true"));
    failed_at(
        &check(&t, "incoming-email", &[]),
        "tcp",
        "cannot connect",
        "nothing listens",
    );

    let silent = Silent::start();
    for (what, settings, step_name) in [
        ("incoming-email", imap(silent.port, ""), "greeting"),
        (
            "smtp",
            smtp(silent.port, "enable_starttls_auto = true"),
            "greeting",
        ),
    ] {
        let t = root(&settings);
        let start = Instant::now();
        let out = check(&t, what, &["--timeout", "2"]);
        let took = start.elapsed();
        failed_at(&out, step_name, "no answer within 2 s", "--timeout");
        assert!(took < Duration::from_secs(3), "{what} took {took:?}");
    }
}

#[test]
fn smtp_starttls_and_implicit_tls_are_green_on_dovecot_and_postfix() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start(&d);
    for settings in [
        smtp(d.submission, "enable_starttls_auto = true"),
        smtp(d.submissions, "tls = true"),
        smtp(p.smtp, "enable_starttls_auto = true"),
        smtp(p.smtps, "tls = true"),
    ] {
        let out = check(&root(&settings), "smtp", &[]);
        out.assert_code(0);
        assert_eq!(out.step("auth")["status"], "ok", "{out}");
        assert!(
            out.step("auth methods")["detail"]
                .as_str()
                .unwrap()
                .starts_with("250-AUTH "),
            "{out}"
        );
        assert_eq!(out.step("certificate")["status"], "ok", "{out}");
    }
}

#[test]
fn every_smtp_auth_method_works_and_the_strongest_is_chosen_by_default() {
    let d = Dovecot::start(DovecotOptions::default());
    for (method, shown) in [
        ("plain", "PLAIN"),
        ("login", "LOGIN"),
        ("cram_md5", "CRAM-MD5"),
    ] {
        let settings = smtp(d.submission, &format!("authentication = \"{method}\""));
        let out = check(&root(&settings), "smtp", &[]);
        out.assert_code(0);
        assert!(
            out.step("auth")["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{shown}: 235")),
            "{out}"
        );
    }
    let out = check(&root(&smtp(d.submission, "")), "smtp", &[]);
    out.assert_code(0);
    assert!(
        out.step("auth")["detail"]
            .as_str()
            .unwrap()
            .starts_with("CRAM-MD5"),
        "{out}"
    );
}

#[test]
fn a_wrong_smtp_password_names_the_secret_command() {
    let d = Dovecot::start(DovecotOptions::default());
    for method in ["plain", "login", "cram_md5"] {
        let settings = smtp(d.submission, &format!("authentication = \"{method}\""));
        let out = check(&root_with(&settings, "wrong-Pa55"), "smtp", &[]);
        failed_at(
            &out,
            "auth",
            "authentication failed",
            "toolctl smtp secret edit",
        );
    }
}

#[test]
fn a_test_message_really_arrives() {
    let d = Dovecot::start(DovecotOptions::default());
    let _p = Postfix::start(&d);
    let t = root(&smtp(d.submission, ""));
    let out = check(&t, "smtp", &["--send-to", "bob@example.test"]);
    out.assert_code(0);
    assert!(
        out.step("send")["detail"].as_str().unwrap().contains("250"),
        "{out}"
    );
    let msg = d.wait_for_message(
        "bob@example.test",
        "toolctl smtp check",
        Duration::from_secs(15),
    );
    let msg = msg.unwrap_or_else(|| panic!("the message never arrived in bob's INBOX\n{out}"));
    assert!(msg.contains(&format!("From: {ALICE}")), "{msg}");
}

#[test]
fn check_runs_every_enabled_probe_at_once() {
    // Two mailboxes and a relay that never answer: run one after another they would take
    // three timeouts; together they take one.
    let silent = Silent::start();
    let settings = format!(
        "{}{}{}",
        imap(silent.port, ""),
        imap(silent.port, "")
            .replace("[incoming_email]", "[service_desk_email]")
            .replace("incoming+%{key}", "contact+%{key}")
            + "mailbox = \"Service Desk\"\n",
        smtp(silent.port, "")
    );
    let t = root(&settings);
    let start = Instant::now();
    let out = t
        .toolctl(["check", "--timeout", "3", "--output-format", "json"])
        .run();
    let took = start.elapsed();
    out.assert_code(1);
    let names: Vec<String> = out.json()["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["probe"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["smtp", "incoming-email", "service-desk-email"],
        "{out}"
    );
    assert!(
        took < Duration::from_secs(5),
        "probes ran one after another: {took:?}"
    );

    let d = Dovecot::start(DovecotOptions::default());
    let settings = format!(
        "{}{}{}",
        imap(d.imaps, "ssl = true"),
        imap(d.imaps, "ssl = true")
            .replace("[incoming_email]", "[service_desk_email]")
            .replace("incoming+%{key}", "contact+%{key}")
            + "mailbox = \"Service Desk\"\n",
        smtp(d.submission, "")
    );
    let out = root(&settings).toolctl(["check"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(
        text.contains("smtp 127.0.0.1:")
            && text.contains("incoming-email 127.0.0.1:")
            && text.contains("passed"),
        "{out}"
    );
}

#[test]
fn a_check_that_cannot_run_says_why_and_changes_nothing() {
    // Nothing enabled: `check` has nothing to probe.
    let t = TestRoot::with_default_settings();
    let before = t.snapshot();
    t.toolctl(["check"])
        .run()
        .assert_error("nothing to check", &["enable one in toolctl.toml"]);
    // A disabled integration.
    t.toolctl(["incoming-email", "check"]).run().assert_error(
        "`incoming_email.enabled` is false",
        &["toolctl config set incoming_email.enabled true"],
    );
    assert_eq!(before.diff(&t.snapshot()), "", "a check wrote files");
    // Invalid settings in the probed table: exit 2 before any connection.
    let t = root(&imap(closed_port(), "ssl = true\nstart_tls = true"));
    let before = t.snapshot();
    t.toolctl(["incoming-email", "check"])
        .run()
        .assert_error("both true", &["choose one"]);
    assert_eq!(before.diff(&t.snapshot()), "", "a check wrote files");
}

#[test]
fn a_damaged_unrelated_secret_does_not_stop_a_probe_but_stops_reconfigure() {
    let t = root(&smtp(closed_port(), ""));
    t.write_secret("mattermost", b"gitlab_secret: 'x'\n");
    fs::write(
        t.secret_file("mattermost"),
        "-----BEGIN AGE ENCRYPTED FILE-----\ngarbage\n",
    )
    .unwrap();
    // The relay's probe runs (and fails where it should: nothing listens).
    let out = check(&t, "smtp", &[]);
    out.assert_code(1);
    assert_eq!(out.step("tcp")["status"], "fail", "{out}");
    // Rendering everything needs every secret: refused, naming the damaged one.
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("cannot decrypt", &["toolctl mattermost secret write"]);
    assert_eq!(before.diff(&t.snapshot()), "", "reconfigure wrote files");
}

/// Runs toolctl on a pseudo-terminal (util-linux `script`), returning what the terminal
/// showed (stdout and stderr together).
fn on_terminal(t: &TestRoot, args: &[&str]) -> String {
    let mut line = format!(
        "{} --root {}",
        crate::harness::toolctl_bin().display(),
        t.root().display()
    );
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script(1)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn on_a_terminal_rows_appear_as_steps_end_and_v_adds_a_masked_transcript() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&format!(
        "{}{}",
        imap(d.imaps, "ssl = true"),
        smtp(d.submission, "authentication = \"plain\"")
    ));
    let screen = on_terminal(&t, &["-v", "incoming-email", "check"]);
    for needle in [
        "greeting ok",
        "login    ok",
        "S: * OK",
        "LOGIN ******** ********",
        "incoming-email 127.0.0.1:",
    ] {
        assert!(screen.contains(needle), "{needle:?} not shown:\n{screen}");
    }
    assert!(!screen.contains(ALICE_PW), "{screen}");
    let screen = on_terminal(&t, &["-v", "check"]);
    for needle in [
        "smtp: auth",
        "incoming-email: login",
        "smtp: C: AUTH PLAIN ********",
        "smtp: S: 235",
    ] {
        assert!(screen.contains(needle), "{needle:?} not shown:\n{screen}");
    }
    assert!(!screen.contains(ALICE_PW), "{screen}");
    // Off a terminal, stderr stays quiet without -v.
    let out = t.toolctl(["incoming-email", "check"]).run();
    out.assert_code(0);
    assert!(out.stderr.is_empty(), "{out}");
}

// ---------------------------------------------------------------------------------------
// A stripped STARTTLS, and server text with escape sequences
// ---------------------------------------------------------------------------------------

/// The steps of the first probe of a JSON report, by name.
fn step_names(out: &Outcome) -> Vec<String> {
    out.json()["probes"][0]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("not a probe report\n{out}"))
        .iter()
        .map(|s| s["step"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_stripped_starttls_stops_the_smtp_probe_before_auth() {
    for auth in [
        "authentication = \"plain\"",
        "authentication = \"login\"",
        "",
    ] {
        let fake = FakeSmtp::start(b"fake.example.test ESMTP");
        let t = root(&smtp(
            fake.port,
            &format!("enable_starttls_auto = true\n{auth}"),
        ));
        for out in [
            check(&t, "smtp", &[]),
            t.toolctl(["check", "--output-format", "json"]).run(),
        ] {
            failed_at(
                &out,
                "starttls",
                "would go on unencrypted and send the password in clear",
                "--allow-plaintext-auth",
            );
            assert!(
                out.step("starttls")["hint"]
                    .as_str()
                    .unwrap()
                    .contains("enable STARTTLS on the relay"),
                "{out}"
            );
            let steps = step_names(&out);
            assert!(
                !steps.iter().any(|s| s == "auth" || s == "auth methods"),
                "{auth}: {steps:?}\n{out}"
            );
        }
        assert!(
            !fake.got_auth(),
            "{auth}: the server got AUTH: {:?}",
            fake.received()
        );
        assert!(
            fake.received().iter().all(|l| !l.contains(ALICE_PW)),
            "{:?}",
            fake.received()
        );
    }
}

#[test]
fn allow_plaintext_auth_sends_the_credentials_without_starttls() {
    let fake = FakeSmtp::start(b"fake.example.test ESMTP");
    let t = root(&smtp(
        fake.port,
        "enable_starttls_auto = true\nauthentication = \"plain\"",
    ));
    for out in [
        check(&t, "smtp", &["--allow-plaintext-auth"]),
        t.toolctl(["check", "--allow-plaintext-auth", "--output-format", "json"])
            .run(),
    ] {
        out.assert_code(0);
        let s = out.step("starttls");
        assert_eq!(s["status"], "warn", "{out}");
        assert!(s["detail"].as_str().unwrap().contains("in clear"), "{out}");
        assert_eq!(out.step("auth")["status"], "ok", "{out}");
        assert_eq!(out.step("encryption")["status"], "warn", "{out}");
    }
    assert!(fake.got_auth(), "{:?}", fake.received());
}

#[test]
fn with_authentication_none_a_stripped_starttls_is_only_a_warning() {
    let fake = FakeSmtp::start(b"fake.example.test ESMTP");
    let t = root(&smtp(
        fake.port,
        "enable_starttls_auto = true\nauthentication = \"none\"",
    ));
    let out = check(&t, "smtp", &[]);
    out.assert_code(0);
    let s = out.step("starttls");
    assert_eq!(s["status"], "warn", "{out}");
    assert!(
        s["detail"].as_str().unwrap().contains("stays unencrypted"),
        "{out}"
    );
    assert_eq!(out.step("auth")["status"], "skipped", "{out}");
    assert!(!fake.got_auth(), "{:?}", fake.received());
}

const HOSTILE_GREETING: &[u8] =
    b"fake.example.test \x1b]0;PWNED\x07 ESMTP \x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\r ready";

#[test]
fn escape_sequences_in_server_text_never_reach_the_terminal() {
    let fake = FakeSmtp::start(HOSTILE_GREETING);
    let t = root(&smtp(
        fake.port,
        "enable_starttls_auto = true\nauthentication = \"none\"",
    ));
    // Human output, off a terminal: escaped all the same (a log read later on a terminal).
    let out = t.toolctl(["smtp", "check"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(text.contains("\\x1b]0;PWNED\\x07"), "{out}");
    assert!(text.contains("\\x1b[2J"), "{out}");
    assert!(text.contains("\\x0d ready"), "{out}");
    for shown in [text.as_str(), out.stderr.as_str()] {
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\r'),
            "a control byte reached the output\n{out}"
        );
    }
    // JUnit: no escape byte either.
    let out = t
        .toolctl(["smtp", "check", "--output-format", "junit"])
        .run();
    out.assert_code(0);
    assert!(!out.stdout_str().contains('\x1b'), "{out}");
    // JSON keeps the server's text as it was (serde escapes it).
    let out = check(&t, "smtp", &[]);
    out.assert_code(0);
    let greeting = out.step("greeting")["detail"].as_str().unwrap().to_string();
    assert!(greeting.contains("\x1b]0;PWNED\x07"), "{out}");
    // On a terminal, with the live rows and the transcript (-v): only toolctl's own
    // line-clearing sequence, never the server's.
    for args in [&["-v", "smtp", "check"][..], &["-v", "check"][..]] {
        let screen = on_terminal(&t, args);
        assert!(screen.contains("\\x1b]0;PWNED\\x07"), "{screen}");
        for raw in ["\x1b]", "\x1b[2J", "\x07", "PWNED\x07"] {
            assert!(
                !screen.contains(raw),
                "{raw:?} reached the terminal:\n{screen:?}"
            );
        }
    }
}

#[test]
fn escape_sequences_in_a_redis_reply_never_reach_the_terminal() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let mut line = String::new();
                // Every command (RESP arrays) gets the same hostile error reply.
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    if line.trim_end() == "PING" {
                        let _ = out.write_all(b"-ERR \x1b]0;PWNED\x07\x1b[2J nope\r\n");
                    }
                    line.clear();
                }
            });
        }
    });
    let t = TestRoot::with_settings(&format!("[redis]\nurl = \"redis://127.0.0.1:{port}\"\n"));
    let out = t.toolctl(["check"]).run();
    out.assert_code(1);
    assert!(
        out.stdout_str().contains("\\x1b]0;PWNED\\x07\\x1b[2J nope"),
        "{out}"
    );
    assert!(
        !out.stdout_str().contains('\x1b') && !out.stderr.contains('\x1b'),
        "{out}"
    );
    let screen = on_terminal(&t, &["-v", "check"]);
    assert!(screen.contains("\\x1b]0;PWNED"), "{screen}");
    assert!(!screen.contains("\x1b]0;PWNED"), "{screen:?}");
}

#[test]
fn on_a_terminal_three_healthy_probes_are_their_live_rows_once_and_fit_one_screen() {
    let d = Dovecot::start(DovecotOptions::default());
    let desk = format!(
        "[service_desk_email]\nenabled = true\naddress = \"desk+%{{key}}@incoming.example.test\"\n\
         host = \"127.0.0.1\"\nport = {}\nssl = true\nca_file = \"/ca.pem\"\nmailbox = \"Service Desk\"\n",
        d.imaps
    );
    let t = root(&format!(
        "{}{}{desk}\n[mailroom]\nenable = true\n",
        imap(d.imaps, "ssl = true"),
        smtp(d.submission, "authentication = \"plain\"")
    ));
    for cols in [80u16, 60] {
        let screen = crate::screen::unwrapped(&t, cols, &[], &["check"]);
        let text = screen.join("\n");
        println!("{cols} columns, {} rows:\n{text}", screen.len());
        assert!(screen.len() <= 24, "{} rows\n{text}", screen.len());
        assert!(
            screen.iter().all(|l| l.chars().count() <= cols.into()),
            "{text}"
        );
        // The probes' lines were redrawn in place and gave way to the verdicts: no final
        // table after them, no probe line left.
        assert!(!text.contains('┌') && !text.contains("| step"), "{text}");
        assert_eq!(text.matches("— passed").count(), 3, "{text}");
        assert!(!text.contains("logout ok"), "{text}");
        assert_eq!(screen.last().unwrap(), "all 3 checks passed", "{text}");
        // What needs attention stays, whole (the smtp warning about `[gitlab]`).
        assert!(text.contains("smtp: settings warn"), "{text}");
        assert!(!text.contains(ALICE_PW), "{text}");
    }
    // stdout not a terminal: only the final tables there.
    let out = t.toolctl(["check"]).run();
    out.assert_code(0);
    assert_eq!(out.stdout_str().matches("— passed").count(), 3, "{out}");
    assert!(out.stdout_str().contains("| step"), "{out}");
    assert!(out.stderr.is_empty(), "{out}");
}
