//! `toolctl import gitlab-rb` and its fixtures: every gitlab.rb example of GitLab's
//! SMTP, incoming email, Service Desk and Graph pages (fixtures/gitlab-rb/*/gitlab.rb) imports to its expected toolctl.toml, secrets
//! and report; nothing is dropped silently, credentials never reach toolctl.toml, and a
//! dry run or a bad file changes nothing.
//!
//! `TOOLCTL_BLESS=1 cargo test --test it import::` rewrites the expected files (review the
//! diff before committing).

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{mode, parallel_steps, TestRoot};

/// The settings every fixture starts from: a comment and a value that must survive.
const BASE: &str = "# This node's settings (this comment survives the import).\n\n[secrets]\nrecipients = []   # no other nodes\n";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitlab-rb")
}

fn import(t: &TestRoot, rb: &Path, extra: &[&str]) -> crate::harness::Outcome {
    let mut args = vec![
        "import".to_string(),
        "gitlab-rb".to_string(),
        rb.display().to_string(),
        "--output-format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    t.toolctl(args).run()
}

/// The report without the run's own paths.
fn report(out: &crate::harness::Outcome) -> serde_json::Value {
    let mut doc = out.json();
    let o = doc.as_object_mut().unwrap();
    for k in ["file", "written", "schema", "ok"] {
        o.remove(k);
    }
    doc
}

const SCOPES: &[&str] = &[
    "smtp",
    "incoming-email",
    "service-desk-email",
    "microsoft-graph-mailer",
    "mattermost",
];

#[test]
fn every_seed_gitlab_rb_imports_to_its_expected_settings_secrets_and_report() {
    let bless = std::env::var_os("TOOLCTL_BLESS").is_some();
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 29, "{} fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let t = TestRoot::builder().settings(BASE).secrets_init().build();
        let rb = case.join("gitlab.rb");
        let out = import(&t, &rb, &[]);
        out.assert_code(0);
        let got_toml = fs::read_to_string(t.config_file()).unwrap();
        assert_eq!(mode(&t.config_file()), 0o600, "{name}");
        assert!(
            got_toml.starts_with("# This node's settings (this comment survives the import).\n")
                && got_toml.contains("recipients = []   # no other nodes"),
            "{name}: comments and layout lost:\n{got_toml}"
        );
        let mut got_secrets = String::new();
        for scope in SCOPES {
            if t.secret_file(scope).exists() {
                let shown = String::from_utf8(t.show_secret(scope)).unwrap();
                got_secrets.push_str(&format!("# {scope}\n{shown}"));
            }
        }
        let got_report = serde_json::to_string_pretty(&report(&out)).unwrap() + "\n";

        // Nothing dropped silently: every statement line is in the report.
        let doc = out.json();
        let mut seen: Vec<u64> = Vec::new();
        for list in ["settings", "secrets", "not_imported"] {
            for e in doc[list].as_array().unwrap() {
                seen.push(e["line"].as_u64().unwrap());
            }
        }
        let text = fs::read_to_string(&rb).unwrap();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with(|c: char| c.is_ascii_alphabetic()) {
                assert!(
                    seen.contains(&(i as u64 + 1)),
                    "{name}: line {} is in no list of the report:\n{got_report}",
                    i + 1
                );
            }
        }
        // Credentials go to the store, never into toolctl.toml.
        for e in doc["secrets"].as_array().unwrap() {
            let key = e["key"].as_str().unwrap();
            assert!(
                !got_toml.contains(&format!("\n{key} =")),
                "{name}: {key} in toolctl.toml"
            );
        }
        assert!(
            !got_toml.contains("password="),
            "{name}: a data source password in toolctl.toml"
        );

        let files = [
            ("expected.toml", &got_toml),
            ("expected-secrets.yaml", &got_secrets),
            ("expected-report.json", &got_report),
        ];
        for (file, got) in files {
            let path = case.join(file);
            if bless {
                fs::write(&path, got).unwrap();
                continue;
            }
            let want = fs::read_to_string(&path).unwrap_or_default();
            if &want != got {
                failures.push(format!(
                    "{name}/{file} differs:\n{}",
                    similar::TextDiff::from_lines(&want, got)
                        .unified_diff()
                        .header("expected", "imported")
                ));
            }
        }
        // The imported settings are valid: reconfigure --dry-run accepts them or names the
        // rule, never a type error.
        let check = t.toolctl(["show-config"]).run();
        assert!(
            !check.stderr.contains("must be"),
            "{name}: imported a value of the wrong type\n{check}"
        );
    }
    assert!(
        failures.is_empty(),
        "{}\n(refresh with TOOLCTL_BLESS=1 after reviewing)",
        failures.join("\n")
    );
    println!("{} gitlab.rb fixtures imported", cases.len());
}

#[test]
fn unread_lines_are_listed_with_their_line_numbers_and_reasons() {
    let t = TestRoot::builder().settings(BASE).secrets_init().build();
    let rb = t.aux().join("gitlab.rb");
    fs::write(
        &rb,
        "external_url 'https://gitlab.example.com'\n\
         gitlab_rails['smtp_address'] = \"#{ENV['SMTP']}\"\n\
         if node['fqdn'] == 'a'\n\
         gitlab_rails['time_zone'] = 'UTC'\n\
         end\n\
         gitlab_rails['smtp_port'] = 'many'\n\
         gitlab_rails['smtp_domain'] = nil\n\
         nginx['listen_port'] = 80\n\
         gitlab_rails['incoming_email_secret_file'] = '.gitlab_mailroom_secret'\n\
         gitlab_rails['smtp_ca_file'] = '/etc/gitlab/trusted-certs/ca.pem'\n\
         mattermost_external_url 'https://chat.example.com'\n\
         gitlab_rails['mattermost_host'] = 'https://other.example.com'\n\
         gitlab_rails['smtp_password'] = \"s3cr\\u00e9t\"\n",
    )
    .unwrap();
    let out = import(&t, &rb, &[]);
    out.assert_code(0);
    let doc = out.json();
    let reasons: Vec<(u64, String)> = doc["not_imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["line"].as_u64().unwrap(),
                n["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lines: Vec<u64> = reasons.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9, 12], "{reasons:?}");
    assert!(reasons[0].1.contains("interpolation"), "{reasons:?}");
    assert!(reasons[1].1.contains("a condition"), "{reasons:?}");
    assert!(reasons[2].1.contains("inside a condition"), "{reasons:?}");
    assert!(reasons[4].1.contains("must be an integer"), "{reasons:?}");
    assert!(reasons[5].1.contains("nil"), "{reasons:?}");
    assert!(reasons[6].1.contains("`nginx`"), "{reasons:?}");
    assert!(reasons[8].1.contains("differs"), "{reasons:?}");
    assert_eq!(doc["gitlab_paths"][0]["line"], 10, "{out}");
    assert!(
        out.stderr.contains("points into GitLab's own directories"),
        "{out}"
    );
    assert!(out.stderr.contains("other.example.com"), "{out}");
    let toml = fs::read_to_string(t.config_file()).unwrap();
    assert!(
        toml.contains("external_url = \"https://chat.example.com\""),
        "{toml}"
    );
    assert!(!toml.contains("s3cr"), "{toml}");
    let shown = String::from_utf8(t.show_secret("smtp")).unwrap();
    assert!(shown.contains("s3cr\u{e9}t"), "the escape was read");
    assert!(!out.stdout_str().contains("s3cr") && !out.stderr.contains("s3cr"));
}

#[test]
fn a_dry_run_and_a_missing_file_write_nothing() {
    let t = TestRoot::builder().settings(BASE).secrets_init().build();
    let rb = fixtures().join("002-gmail/gitlab.rb");
    let before = t.snapshot();
    let out = import(&t, &rb, &["--dry-run"]);
    out.assert_code(0);
    assert_eq!(out.json()["dry_run"], true);
    assert!(!out.json()["settings"].as_array().unwrap().is_empty());
    before.assert_unchanged(&t.snapshot(), &"import gitlab-rb --dry-run");

    let missing = t.aux().join("nope.rb");
    t.toolctl(["import", "gitlab-rb", missing.to_str().unwrap()])
        .run()
        .assert_error("does not exist", &["/etc/gitlab/gitlab.rb"]);
    before.assert_unchanged(&t.snapshot(), &"a missing gitlab.rb");

    let binary = t.aux().join("binary.rb");
    fs::write(&binary, b"gitlab_rails['x'] = '\xff'\n").unwrap();
    t.toolctl(["import", "gitlab-rb", binary.to_str().unwrap()])
        .run()
        .assert_error("is not UTF-8", &["UTF-8"]);
    before.assert_unchanged(&t.snapshot(), &"a gitlab.rb that is not UTF-8");

    // A second import of the same file changes nothing.
    import(&t, &rb, &[]).assert_code(0);
    let once = t.snapshot();
    import(&t, &rb, &[]).assert_code(0);
    once.assert_unchanged(&t.snapshot(), &"a second import of the same gitlab.rb");
}

#[test]
fn a_kill_at_every_step_leaves_the_old_or_the_new_settings_and_secrets() {
    let base = TestRoot::builder()
        .settings(BASE)
        .secrets_init()
        .secret("incoming-email", b"user: 'old'\npassword: 'old'\n")
        .build();
    let rb = fixtures().join("002-gmail/gitlab.rb");
    let state = |t: &TestRoot| {
        (
            fs::read_to_string(t.config_file()).unwrap(),
            String::from_utf8(t.show_secret("incoming-email")).unwrap(),
        )
    };
    let copy = TestRoot::copy_of;
    let old = state(&base);
    let (new, steps) = {
        let t = copy(&base);
        let log = t.aux().join("failpoints.log");
        t.toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
            .env("TOOLCTL_FAILPOINT_LOG", &log)
            .run()
            .assert_code(0);
        let mut seen = std::collections::BTreeMap::new();
        let mut steps = Vec::new();
        for name in fs::read_to_string(&log).unwrap().lines() {
            if name.starts_with("reconfigure-") {
                let n = seen.entry(name.to_string()).or_insert(0);
                *n += 1;
                steps.push(format!("{name}:{n}"));
            }
        }
        (state(&t), steps)
    };
    assert_ne!(old, new);
    assert!(
        steps.iter().any(|s| s.contains("journal-committed")),
        "{steps:?}"
    );
    // Each step on its own copy of the base root, so the steps run in parallel.
    parallel_steps(&steps, |step| {
        let t = copy(&base);
        let killed = t
            .toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
            .env("TOOLCTL_FAILPOINT", step)
            .run();
        assert_eq!(killed.code, None, "not killed at {step}\n{killed}");
        if !t.path("var/opt/toolctl/secrets.import-journal").exists() {
            let now = state(&t);
            assert!(now == old || now == new, "killed at {step}: a mix");
        }
        t.toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
            .run()
            .assert_code(0);
        assert_eq!(state(&t), new, "after a kill at {step}");
    });
    println!("import gitlab-rb: killed at {} steps", steps.len());
}

/// An import of `text` (a gitlab.rb written for the test) into a fresh root.
fn import_text(text: &str, secrets: &[(&str, &str)]) -> (TestRoot, crate::harness::Outcome) {
    let mut b = TestRoot::builder().settings(BASE).secrets_init();
    for (scope, yaml) in secrets {
        b = b.secret(scope, *yaml);
    }
    let t = b.build();
    let rb = t.aux().join("gitlab.rb");
    fs::write(&rb, text).unwrap();
    let out = import(&t, &rb, &[]);
    out.assert_code(0);
    (t, out)
}

fn settings_of(t: &TestRoot) -> toml_edit::DocumentMut {
    fs::read_to_string(t.config_file())
        .unwrap()
        .parse()
        .unwrap()
}

fn not_imported(out: &crate::harness::Outcome) -> Vec<(u64, String, String)> {
    out.json()["not_imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["line"].as_u64().unwrap(),
                n["name"].as_str().unwrap().to_string(),
                n["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn smtp_ssl_is_imported_as_tls_and_either_true_wins() {
    let (t, out) = import_text(
        "gitlab_rails['smtp_enable'] = true\ngitlab_rails['smtp_address'] = 'smtp.example.org'\n\
         gitlab_rails['smtp_port'] = 465\ngitlab_rails['smtp_ssl'] = true\n",
        &[],
    );
    assert_eq!(
        settings_of(&t)["smtp"]["tls"].as_bool(),
        Some(true),
        "{out}"
    );
    let (t, out) = import_text(
        "gitlab_rails['smtp_ssl'] = true\ngitlab_rails['smtp_tls'] = false\n",
        &[],
    );
    assert_eq!(
        settings_of(&t)["smtp"]["tls"].as_bool(),
        Some(true),
        "{out}"
    );
    let skipped = not_imported(&out);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].2.contains("combined with line 2"), "{skipped:?}");
}

#[test]
fn gitlab_email_enabled_false_and_delete_after_delivery_false_are_imported_and_rendered() {
    let (t, out) = import_text(
        "external_url 'https://gitlab.example.com'\n\
         gitlab_rails['gitlab_email_enabled'] = false\n\
         gitlab_rails['incoming_email_enabled'] = true\n\
         gitlab_rails['incoming_email_address'] = 'in+%{key}@example.com'\n\
         gitlab_rails['incoming_email_email'] = 'in'\n\
         gitlab_rails['incoming_email_password'] = 'pw-for-the-test'\n\
         gitlab_rails['incoming_email_host'] = 'imap.example.com'\n\
         gitlab_rails['incoming_email_port'] = 993\n\
         gitlab_rails['incoming_email_ssl'] = true\n\
         gitlab_rails['incoming_email_delete_after_delivery'] = false\n",
        &[(
            "mailroom",
            "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n",
        )],
    );
    assert!(not_imported(&out).is_empty(), "{out}");
    let s = settings_of(&t);
    assert_eq!(s["email"]["enabled"].as_bool(), Some(false));
    assert_eq!(
        s["incoming_email"]["delete_after_delivery"].as_bool(),
        Some(false)
    );
    let r = t.toolctl(["reconfigure"]).run();
    r.assert_code(0);
    let rendered = t.path("var/opt/toolctl/rendered");
    let yml = fs::read_to_string(rendered.join("gitlab.yml")).unwrap();
    assert!(yml.contains("delete_after_delivery: false"), "{yml}");
    let mr = fs::read_to_string(rendered.join("mail_room.yml")).unwrap();
    assert!(mr.contains(":delete_after_delivery: false"), "{mr}");
}

#[test]
fn a_docker_one_liner_imports_every_statement() {
    let (t, out) = import_text(
        "external_url 'https://gitlab.example.com'; gitlab_rails['smtp_port'] = 2525; gitlab_rails['gitlab_email_from'] = 'git@example.com'\n",
        &[],
    );
    let s = settings_of(&t);
    assert_eq!(
        s["external_url"].as_str(),
        Some("https://gitlab.example.com")
    );
    assert_eq!(s["smtp"]["port"].as_integer(), Some(2525));
    assert_eq!(s["email"]["from"].as_str(), Some("git@example.com"));
    assert!(not_imported(&out).is_empty(), "{out}");
}

#[test]
fn the_url_placeholder_is_a_note_and_smtp_without_an_address_is_localhost_25() {
    let (t, out) = import_text(
        "external_url 'GENERATED_EXTERNAL_URL'\ngitlab_rails['smtp_enable'] = true\n",
        &[],
    );
    let s = settings_of(&t);
    assert!(s.get("external_url").is_none(), "{s:?}");
    assert_eq!(s["smtp"]["address"].as_str(), Some("localhost"));
    assert_eq!(s["smtp"]["port"].as_integer(), Some(25));
    let doc = out.json();
    let notes: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("GENERATED_EXTERNAL_URL")
            && n.contains("toolctl config set external_url")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("`smtp_address`")),
        "{notes:?}"
    );
    assert_eq!(not_imported(&out)[0].0, 1, "{out}");
    // With the URL set, reconfigure takes what was imported.
    t.toolctl([
        "config",
        "set",
        "external_url",
        "https://gitlab.example.com",
    ])
    .run()
    .assert_code(0);
    let r = t.toolctl(["reconfigure"]).run();
    r.assert_code(0);
    let rb = fs::read_to_string(t.path("var/opt/toolctl/rendered/gitlab.yml")).unwrap();
    assert!(!rb.is_empty());
}

#[test]
fn a_later_nil_or_unreadable_assignment_supersedes_the_earlier_value() {
    let (t, out) = import_text(
        "gitlab_rails['smtp_address'] = 'smtp.example.org'\n\
         gitlab_rails['smtp_domain'] = 'example.org'\n\
         gitlab_rails['smtp_password'] = 'first-password'\n\
         gitlab_rails['smtp_address'] = nil\n\
         gitlab_rails['smtp_password'] = ENV['SMTP_PASSWORD']\n\
         if ENV['X']\n  gitlab_rails['smtp_domain'] = 'other.example.org'\nend\n\
         gitlab_rails['smtp_port'] = 587\ngitlab_rails['smtp_port'] = nil\ngitlab_rails['smtp_port'] = 2525\n",
        &[],
    );
    let s = settings_of(&t);
    let smtp = s["smtp"].as_table().unwrap();
    assert!(smtp.get("address").is_none(), "{smtp:?}");
    assert!(smtp.get("domain").is_none(), "{smtp:?}");
    assert_eq!(smtp["port"].as_integer(), Some(2525));
    assert!(
        !t.secret_file("smtp").exists(),
        "the stale password was stored"
    );
    let skipped = not_imported(&out);
    let superseded: Vec<u64> = skipped
        .iter()
        .filter(|(_, _, r)| r.starts_with("superseded by line"))
        .map(|(l, _, _)| *l)
        .collect();
    assert_eq!(superseded, [1, 2, 3], "{skipped:?}");
    assert!(!out.stdout_str().contains("first-password") && !out.stderr.contains("first-password"));
}

#[test]
fn comments_heredocs_end_and_conditions_are_not_imported() {
    let (t, out) = import_text(
        "=begin\ngitlab_rails['smtp_address'] = 'in-a-comment.example'\n=end\n\
         gitlab_rails['smtp_domain'] = <<~EOS\ngitlab_rails['smtp_address'] = 'in-a-heredoc.example'\nEOS\n\
         unless ENV['Y']\ngitlab_rails['smtp_port'] = 26\nend\n\
         gitlab_rails['gitlab_email_from'] = \"\\x67it@\\145xample.com\"\n\
         __END__\ngitlab_rails['smtp_address'] = 'after-end.example'\n",
        &[],
    );
    let s = settings_of(&t);
    assert!(s.get("smtp").is_none(), "{s:?}");
    assert_eq!(s["email"]["from"].as_str(), Some("git@example.com"));
    let skipped = not_imported(&out);
    let lines: Vec<(u64, &str)> = skipped.iter().map(|(l, n, _)| (*l, n.as_str())).collect();
    assert_eq!(
        lines,
        [
            (4, "gitlab_rails['smtp_domain']"),
            (7, ""),
            (8, "gitlab_rails['smtp_port']"),
            (9, "")
        ],
        "{skipped:?}"
    );
    assert!(skipped[2].2.contains("inside a condition"), "{skipped:?}");
}
