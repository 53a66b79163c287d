//! A closed stdout ends the output, never the work: every writing command runs with its
//! stdout a pipe whose read end was closed before it started (`… | true` that has already
//! exited), and still writes its files and exits with the work's status.
//!
//! Before the report was rendered once after the work, a leaf called `exit(0)` on
//! `EPIPE`: `(sleep 0.5; toolctl reconfigure --diff) | true` exited 0 having written
//! nothing, because the diff was printed before the apply.

use std::fs;
use std::io::Write;
use std::process::{Output, Stdio};

use crate::harness::TestRoot;
use crate::reconfigure::{fixtures, rendered, root_from};

/// Runs toolctl with stdout a pipe nobody reads (its read end closed before the start).
fn closed_stdout(t: &TestRoot, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut cmd = t.toolctl(args).command();
    cmd.stdout(writer).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("start toolctl");
    // The parent's copy of the write end goes with `cmd`.
    drop(cmd);
    if let Some(bytes) = stdin {
        let mut input = child.stdin.take().unwrap();
        input.write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().expect("wait for toolctl");
    assert!(
        out.status.code().is_some(),
        "{args:?} was killed by a signal: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_status(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit status\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// After a run with a closed stdout, a dry run finds nothing left to change.
fn assert_rendered(t: &TestRoot, what: &str) {
    assert!(
        rendered(t).join("gitlab.yml").is_file(),
        "{what}: nothing rendered"
    );
    let again = t.toolctl(["reconfigure", "--dry-run", "--exit-code"]).run();
    again.assert_code(0);
    let log = fs::read_to_string(t.path("var/log/toolctl/reconfigure/reconfigure.log")).unwrap();
    assert!(log.contains("reconfigure: "), "{what}: no log line: {log}");
}

#[test]
fn reconfigure_and_its_diff_write_every_file_with_stdout_closed() {
    for args in [
        &["reconfigure"][..],
        &["reconfigure", "--diff"],
        &["reconfigure", "--output-format", "json"],
        &["reconfigure", "--diff", "--output-format", "json"],
    ] {
        let t = root_from(&fixtures().join("smtp-relay"));
        let out = closed_stdout(&t, args, None);
        assert_status(&out, 0, &format!("{args:?}"));
        assert_rendered(&t, &format!("{args:?}"));
    }
}

#[test]
fn a_dry_run_keeps_its_exit_code_with_stdout_closed() {
    let t = root_from(&fixtures().join("smtp-relay"));
    let before = t.snapshot();
    let out = closed_stdout(
        &t,
        &["reconfigure", "--dry-run", "--diff", "--exit-code"],
        None,
    );
    // 1: something would change; the closed pipe does not turn it into 0.
    assert_status(&out, 1, "reconfigure --dry-run --exit-code");
    before.assert_unchanged(&t.snapshot(), &"a dry run with stdout closed");
}

#[test]
fn config_set_writes_with_stdout_closed() {
    let t = TestRoot::with_default_settings();
    let out = closed_stdout(
        &t,
        &["config", "set", "incoming_email.host", "imap.example.com"],
        None,
    );
    assert_status(&out, 0, "config set");
    let got = t.toolctl(["config", "get", "incoming_email.host"]).run();
    got.assert_code(0);
    assert_eq!(got.stdout_str(), "imap.example.com\n");
}

#[test]
fn secrets_are_written_with_stdout_closed() {
    let t = TestRoot::with_default_settings();
    // `secrets init` prints the public key: the key is created all the same.
    let out = closed_stdout(&t, &["secrets", "init"], None);
    assert_status(&out, 0, "secrets init");
    assert!(t.key_file().is_file(), "no key");

    let out = closed_stdout(
        &t,
        &["smtp", "secret", "write"],
        Some(b"user_name: 'relay@example.com'\npassword: 'first-Pa55word'\n"),
    );
    assert_status(&out, 0, "secret write");
    assert!(
        String::from_utf8_lossy(&t.show_secret("smtp")).contains("first-Pa55word"),
        "secret write did not write"
    );

    let out = closed_stdout(
        &t,
        &["smtp", "secret", "set", "password"],
        Some(b"second-Pa55word\n"),
    );
    assert_status(&out, 0, "secret set");
    let shown = String::from_utf8_lossy(&t.show_secret("smtp")).into_owned();
    assert!(
        shown.contains("second-Pa55word"),
        "secret set did not write: {shown}"
    );
    assert!(
        shown.contains("relay@example.com"),
        "secret set lost a key: {shown}"
    );

    // `secrets rekey --new-key` prints a table: the rotation finishes all the same.
    let old_key = fs::read(t.key_file()).unwrap();
    let out = closed_stdout(&t, &["secrets", "rekey", "--new-key"], None);
    assert_status(&out, 0, "secrets rekey --new-key");
    assert_ne!(
        fs::read(t.key_file()).unwrap(),
        old_key,
        "the key was not rotated"
    );
    let shown = String::from_utf8_lossy(&t.show_secret("smtp")).into_owned();
    assert!(
        shown.contains("second-Pa55word"),
        "rekey lost the secret: {shown}"
    );
}

#[test]
fn import_gitlab_rb_writes_with_stdout_closed() {
    const BASE: &str = "[secrets]\nrecipients = []\n";
    let t = TestRoot::with_settings(BASE);
    t.init();
    let rb = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/gitlab-rb/000-graph-mailer/gitlab.rb");
    for format in ["human", "json"] {
        t.write_settings(BASE);
        let out = closed_stdout(
            &t,
            &[
                "import",
                "gitlab-rb",
                rb.to_str().unwrap(),
                "--output-format",
                format,
            ],
            None,
        );
        assert_status(&out, 0, "import gitlab-rb");
        let toml = fs::read_to_string(t.config_file()).unwrap();
        assert_ne!(toml, BASE, "import gitlab-rb ({format}) wrote nothing");
        assert!(
            t.secret_file("microsoft-graph-mailer").is_file(),
            "import gitlab-rb ({format}) wrote no secret"
        );
    }
}
