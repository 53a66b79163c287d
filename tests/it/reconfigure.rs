//! `reconfigure` end to end: every seed example rendered and compared whole with its
//! expected tree, every rule refused with its message, idempotence, dry runs, diffs,
//! removals, drift, the webhook token and the lock.
//!
//! `TOOLCTL_BLESS=1 cargo test --test it fixtures` rewrites the expected trees (review the
//! diff before committing it).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::{Snapshot, TestRoot};

mod journal;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("toolctl.toml").is_file())
        .collect();
    out.sort();
    out
}

/// A root holding the fixture's toolctl.toml and its secrets (`secrets/<scope>.yaml`).
pub fn root_from(case: &Path) -> TestRoot {
    let mut b =
        TestRoot::builder().copy_file("etc/toolctl/toolctl.toml", &case.join("toolctl.toml"));
    if let Ok(entries) = fs::read_dir(case.join("secrets")) {
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let scope = f.file_stem().unwrap().to_string_lossy().into_owned();
            b = b.secret(&scope, fs::read(&f).unwrap());
        }
    }
    b.build()
}

pub fn rendered(t: &TestRoot) -> PathBuf {
    t.path("var/opt/toolctl/rendered")
}

#[test]
fn fixtures_render_their_expected_trees_and_a_second_run_changes_nothing() {
    let bless = std::env::var_os("TOOLCTL_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases(&fixtures()) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let t = root_from(&case);
        t.toolctl(["reconfigure"]).run().assert_code(0);
        let got = Snapshot::of(&rendered(&t));
        let expected_dir = case.join("expected");
        if bless {
            let _ = fs::remove_dir_all(&expected_dir);
            copy_tree(&rendered(&t), &expected_dir);
        }
        let want = contents(&expected_dir);
        let have = contents(&rendered(&t));
        if want != have {
            failures.push(format!(
                "{name}: rendered tree differs from fixtures/{name}/expected\n{}",
                tree_diff(&want, &have)
            ));
        }
        // Modes: credentials 0600, the rest 0644.
        for (rel, node) in &got.0 {
            if let crate::harness::Node::File { mode, .. } = node {
                let rel = rel.to_string_lossy();
                let want = if rel.starts_with("nginx/") {
                    0o644
                } else {
                    0o600
                };
                assert_eq!(*mode, want, "{name}: mode of {rel}");
            }
        }
        // Idempotent: nothing rewritten, not even its mtime.
        let mtimes = mtimes(&rendered(&t));
        std::thread::sleep(Duration::from_millis(20));
        let again = t.toolctl(["reconfigure"]).run();
        again.assert_code(0);
        assert!(
            again.stderr.contains("0 changed"),
            "{name}: second run\n{again}"
        );
        assert_eq!(
            mtimes,
            crate::reconfigure::mtimes(&rendered(&t)),
            "{name}: second run rewrote files"
        );
    }
    assert!(
        failures.is_empty(),
        "{}\n(refresh with TOOLCTL_BLESS=1 after reviewing)",
        failures.join("\n")
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in contents(from) {
        let dest = to.join(&rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(dest, bytes).unwrap();
    }
}

/// Relative path → bytes of every file below `dir`.
fn contents(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    Snapshot::of(dir)
        .0
        .into_iter()
        .filter_map(|(p, n)| match n {
            crate::harness::Node::File { bytes, .. } => {
                Some((p.to_string_lossy().into_owned(), bytes))
            }
            _ => None,
        })
        .collect()
}

fn tree_diff(
    want: &std::collections::BTreeMap<String, Vec<u8>>,
    have: &std::collections::BTreeMap<String, Vec<u8>>,
) -> String {
    let mut out = String::new();
    for k in want
        .keys()
        .chain(have.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (want.get(k), have.get(k)) {
            (Some(a), Some(b)) if a != b => out.push_str(&format!(
                "  {k} differs:\n{}",
                similar::TextDiff::from_lines(
                    &String::from_utf8_lossy(a),
                    &String::from_utf8_lossy(b)
                )
                .unified_diff()
                .header("expected", "rendered")
            )),
            (Some(_), None) => out.push_str(&format!("  {k}: expected, not rendered\n")),
            (None, Some(_)) => out.push_str(&format!("  {k}: rendered, not expected\n")),
            _ => {}
        }
    }
    out
}

pub fn mtimes(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut out = Vec::new();
    for (rel, _) in Snapshot::of(dir).0 {
        out.push((
            rel.clone(),
            fs::metadata(dir.join(&rel)).unwrap().modified().unwrap(),
        ));
    }
    out
}

#[test]
fn every_rule_is_refused_with_its_message_and_nothing_is_written() {
    let mut failures = Vec::new();
    for case in cases(&fixtures().join("invalid")) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let t = root_from(&case);
        let before = t.snapshot();
        let out = t.toolctl(["reconfigure"]).run();
        if out.code != Some(2) {
            failures.push(format!("{name}: exit {:?}\n{out}", out.code));
            continue;
        }
        for want in fs::read_to_string(case.join("expect.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
        {
            if !out.stderr.contains(want) {
                failures.push(format!("{name}: stderr lacks {want:?}\n{out}"));
            }
        }
        if !out.stderr.starts_with("error: ") || !out.stderr.contains("hint: ") {
            failures.push(format!("{name}: not an `error:` with a `hint:`\n{out}"));
        }
        let diff = before.diff(&t.snapshot());
        if !diff.is_empty() {
            failures.push(format!("{name}: files changed:\n{diff}"));
        }
        // show-config enforces the same rules.
        let show = t.toolctl(["show-config"]).run();
        if show.code != Some(2) {
            failures.push(format!("{name}: show-config exit {:?}", show.code));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_root_without_settings_is_refused_and_init_then_reconfigure_renders() {
    // Only `toolctl init` writes a default settings file; reconfigure never does.
    let t = TestRoot::new();
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("there is no settings file", &["toolctl init"]);
    before.assert_unchanged(&t.snapshot(), &"reconfigure on a root without settings");
    t.toolctl(["init"]).run().assert_code(0);
    let text = fs::read_to_string(t.config_file()).unwrap();
    assert!(text.starts_with("# toolctl.toml"), "{text}");
    assert_eq!(mode(&t.config_file()), 0o600);
    assert_eq!(mode(&t.key_file()), 0o600);
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(rendered(&t).join("gitlab.yml").is_file());
    assert!(out.stdout_str().contains("gitlab.yml"), "{out}");
    let log = fs::read_to_string(t.path("var/log/toolctl/reconfigure/reconfigure.log")).unwrap();
    assert!(
        log.contains("reconfigure: 1 changed: gitlab.yml created"),
        "{log}"
    );
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn dry_run_writes_nothing_and_exit_code_tells_whether_something_would_change() {
    let t = root_from(&fixtures().join("smtp-relay"));
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--dry-run", "--exit-code"]).run();
    out.assert_code(1);
    assert!(out.stdout_str().contains("would create"), "{out}");
    assert_eq!(before.diff(&t.snapshot()), "", "a dry run wrote");
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl(["reconfigure", "--dry-run", "--exit-code"])
        .run()
        .assert_code(0);
}

#[test]
fn diffs_mask_every_secret() {
    let t = root_from(&fixtures().join("service-desk-gmail"));
    let secret = "Very-Distinct-Pa55word";
    t.write_secret(
        "incoming-email",
        format!("user: 'gitlab-incoming@gmail.com'\npassword: '{secret}'\n").as_bytes(),
    );
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    out.assert_code(0);
    let stdout = out.stdout_str();
    assert!(stdout.contains("+++ b/mail_room.yml"), "{out}");
    assert!(stdout.contains(":password: \"********\""), "{out}");
    assert!(
        stdout.contains("+++ b/mailroom/.gitlab_mailroom_secret\n@@ secret content not shown @@"),
        "{out}"
    );
    assert!(
        !stdout.contains(secret) && !out.stderr.contains(secret),
        "secret leaked\n{out}"
    );
    assert!(
        !stdout.contains("c2hhcmVkLXdlYmhvb2st"),
        "webhook token leaked\n{out}"
    );
    // A change of password shows as a masked line only, old value included.
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.write_secret(
        "incoming-email",
        b"user: 'gitlab-incoming@gmail.com'\npassword: 'Another-Pa55word'\n",
    );
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    let stdout = out.stdout_str();
    assert!(
        !stdout.contains(secret) && !stdout.contains("Another-Pa55word"),
        "secret leaked\n{out}"
    );
}

#[test]
fn disabling_an_integration_removes_its_files_but_keeps_config_json() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let dir = rendered(&t);
    assert!(dir.join("mattermost/env/HTTP_PROXY").is_file());
    t.toolctl(["config", "unset", "mattermost.external_url"])
        .run()
        .assert_code(0);
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(!dir.join("nginx/mattermost.conf").exists());
    assert!(!dir
        .join("mattermost/env/MM_SERVICESETTINGS_SITEURL")
        .exists());
    assert!(
        dir.join("mattermost/config.json").is_file(),
        "config.json must be kept"
    );
    let stdout = out.stdout_str();
    assert!(
        stdout.contains("nginx/mattermost.conf") && stdout.contains("removed"),
        "{out}"
    );
    assert!(stdout.contains("kept (never overwritten)"), "{out}");
}

#[test]
fn stale_environment_variables_are_removed() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl([
        "config",
        "set",
        "mattermost.env",
        "{ HTTP_PROXY = \"http://proxy:3128\" }",
    ])
    .run()
    .assert_code(0);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let env = rendered(&t).join("mattermost/env");
    assert_eq!(
        fs::read_to_string(env.join("HTTP_PROXY")).unwrap(),
        "http://proxy:3128"
    );
    assert!(!env.join("HTTPS_PROXY").exists() && !env.join("NO_PROXY").exists());
}

#[test]
fn config_json_is_never_overwritten_and_drift_is_reported() {
    let t = root_from(&fixtures().join("mattermost-https"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let path = rendered(&t).join("mattermost/config.json");
    let edited = fs::read_to_string(&path).unwrap().replace(
        "https://mattermost.gitlab.example",
        "https://chat.example.com",
    );
    fs::write(&path, &edited).unwrap();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        edited,
        "config.json was overwritten"
    );
    assert!(
        out.stderr.contains("ServiceSettings.SiteURL")
            && out
                .stderr
                .contains("MM_SERVICESETTINGS_SITEURL overrides it"),
        "{out}"
    );
}

#[test]
fn the_mailroom_token_is_generated_once_into_the_store() {
    let t = TestRoot::builder()
        .copy_file(
            "etc/toolctl/toolctl.toml",
            &fixtures().join("multi-node-web/toolctl.toml"),
        )
        .build();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("generated the mailroom webhook secret"),
        "{out}"
    );
    let stored = String::from_utf8(t.show_secret("mailroom")).unwrap();
    let token = fs::read_to_string(rendered(&t).join("mailroom/.gitlab_mailroom_secret")).unwrap();
    assert_eq!(stored, format!("webhook_secret: '{token}'\n"));
    assert_eq!(token.len(), 44, "32 random bytes, base64");
    let again = t.toolctl(["reconfigure"]).run();
    assert!(
        again.stderr.contains("0 changed") && !again.stderr.contains("generated"),
        "{again}"
    );
}

#[test]
fn plaintext_credentials_are_warned_about_and_the_store_wins() {
    let t = root_from(&fixtures().join("smtp-relay"));
    let mut text = fs::read_to_string(t.config_file()).unwrap();
    text.push_str("password = \"plain-text-pw\"\n");
    fs::write(t.config_file(), text).unwrap();
    let out = t.toolctl(["show-config", "--output-format", "json"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("warning:")
            && out
                .stderr
                .contains("`smtp.password` is a plaintext credential"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["settings"]["smtp.password"]["source"], "secret (smtp)");
    assert_eq!(json["settings"]["smtp.password"]["value"], "********");
    assert!(!out.stdout_str().contains("plain-text-pw") && !out.stdout_str().contains("'123'"));
}

#[test]
fn warnings_do_not_fail_reconfigure() {
    let t = root_from(&fixtures().join("exchange-dedicated"));
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("supports only reply by email"),
        "{out}"
    );
    let postfix = root_from(&fixtures().join("postfix"));
    let out = postfix.toolctl(["reconfigure"]).run();
    assert!(
        out.stderr.contains("the instance's own domain"),
        "the own-domain warning\n{out}"
    );
}

#[test]
fn a_second_run_waits_for_the_lock_then_names_it() {
    let t = root_from(&fixtures().join("smtp-relay"));
    fs::create_dir_all(t.path("var/opt/toolctl")).unwrap();
    let lock = t.path("var/opt/toolctl/rendered.lock");
    fs::write(&lock, "").unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "20"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let out = t.toolctl(["reconfigure"]).run();
    let waited = start.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    out.assert_error("rendered.lock", &["wait for the other command"]);
    assert!(waited >= Duration::from_secs(4), "gave up after {waited:?}");
    assert!(!rendered(&t).join("gitlab.yml").exists());
}

#[test]
fn show_config_lists_defaults_sources_and_masks_secrets() {
    let t = root_from(&fixtures().join("gmail"));
    let out = t.toolctl(["show-config"]).run();
    out.assert_code(0);
    let s = out.stdout_str();
    for want in [
        "incoming_email.host",
        "imap.gmail.com",
        "toolctl.toml:7",
        "incoming_email.password",
        "********",
        "secret (incoming-email)",
        "incoming_email.delivery_method",
        "default",
        "incoming_email.gitlab_url",
        "derived (external_url)",
    ] {
        assert!(s.contains(want), "show-config lacks {want:?}\n{out}");
    }
    assert!(!s.contains("[REDACTED]"), "a secret is shown\n{out}");
}
