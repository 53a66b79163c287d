//! The low-severity attacks, as an attacker (or a careless colleague) would bring them:
//! a gitlab.rb nested 200,000 deep, Mattermost and Redis passwords that a diff must hide
//! however they are written, and Service Desk templates carrying script and escape
//! sequences.

use std::fs;

use crate::harness::TestRoot;
use crate::reconfigure::{fixtures, root_from};

// ---------------------------------------------------------------------------------------
// import gitlab-rb: nesting
// ---------------------------------------------------------------------------------------

const N: usize = 200_000;

/// Every kind of nesting the reader meets, 200,000 deep.
fn deep_statements() -> Vec<(&'static str, String, bool)> {
    // (what, statement, whether it is "nested too deep")
    vec![
        (
            "hash",
            format!(
                "gitlab_rails['smtp_address'] = {}'x'{}",
                "{'a' => ".repeat(N),
                "}".repeat(N)
            ),
            true,
        ),
        (
            "label hash",
            format!("mattermost['env'] = {}1{}", "{a: ".repeat(N), "}".repeat(N)),
            true,
        ),
        (
            "array",
            format!(
                "gitlab_rails['smtp_domain'] = {}1{}",
                "[".repeat(N),
                "]".repeat(N)
            ),
            true,
        ),
        (
            "parentheses",
            format!("external_url {}'https://e'{}", "(".repeat(N), ")".repeat(N)),
            true,
        ),
        (
            "mixed",
            format!(
                "gitlab_rails['smtp_port'] = {}1{}",
                "[{(".repeat(N / 3),
                ")}]".repeat(N / 3)
            ),
            true,
        ),
        // The reader recurses on neither: skipped as what they are, never a crash.
        (
            "method chain",
            format!("gitlab_rails['smtp_user_name'] = a{}", ".b".repeat(N)),
            false,
        ),
        (
            "interpolation",
            format!(
                "gitlab_rails['smtp_domain'] = {}{}",
                "\"#{".repeat(N),
                "}\"".repeat(N)
            ),
            false,
        ),
    ]
}

#[test]
fn a_gitlab_rb_nested_200000_deep_is_listed_as_not_imported_never_a_crash() {
    for (what, statement, too_deep) in deep_statements() {
        let t = TestRoot::builder()
            .settings("[secrets]\nrecipients = []\n")
            .secrets_init()
            .build();
        let rb = t.aux().join("gitlab.rb");
        // The deep statement alone: nothing to import, nothing written.
        fs::write(&rb, format!("{statement}\n")).unwrap();
        let before = t.snapshot();
        let out = t
            .toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
            .run();
        out.assert_code(0);
        before.assert_unchanged(&t.snapshot(), &format!("a {what} nested {N} deep"));
        let table_row = out
            .stdout_str()
            .lines()
            .find(|l| l.contains("not imported"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{what}: no `not imported` row\n{out}"));
        if too_deep {
            assert!(table_row.contains("nested too deep"), "{what}: {table_row}");
        }
        assert!(
            out.stderr
                .contains("0 settings and 0 credentials; 1 lines not imported"),
            "{what}\n{out}"
        );

        // Followed by a statement that is read: it is imported, the deep one listed.
        fs::write(
            &rb,
            format!("{statement}\ngitlab_rails['smtp_port'] = 2525\n"),
        )
        .unwrap();
        let out = t
            .toolctl([
                "import",
                "gitlab-rb",
                rb.to_str().unwrap(),
                "--output-format",
                "json",
            ])
            .run();
        out.assert_code(0);
        let doc = out.json();
        let skipped = doc["not_imported"].as_array().unwrap();
        assert_eq!(skipped.len(), 1, "{what}: {skipped:?}");
        assert_eq!(skipped[0]["line"], 1, "{what}");
        if too_deep {
            assert!(
                skipped[0]["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("nested too deep"),
                "{what}: {skipped:?}"
            );
            assert_ne!(skipped[0]["name"], "", "{what}: the setting is named");
        }
        assert_eq!(doc["settings"][0]["key"], "smtp.port", "{what}: {doc}");
        let toml = fs::read_to_string(t.config_file()).unwrap();
        assert!(toml.contains("port = 2525"), "{what}: {toml}");
    }
}

#[test]
fn a_hash_64_deep_is_read_and_65_deep_is_not() {
    let t = TestRoot::builder()
        .settings("[secrets]\nrecipients = []\n")
        .secrets_init()
        .build();
    let rb = t.aux().join("gitlab.rb");
    let nested = |levels: usize| {
        format!(
            "mattermost['env'] = {}'v'{}\n",
            "{'a' => ".repeat(levels),
            "}".repeat(levels)
        )
    };
    for (levels, reason) in [(64, "toolctl takes strings only"), (65, "nested too deep")] {
        fs::write(&rb, nested(levels)).unwrap();
        let out = t
            .toolctl([
                "import",
                "gitlab-rb",
                rb.to_str().unwrap(),
                "--dry-run",
                "--output-format",
                "json",
            ])
            .run();
        out.assert_code(0);
        let why = out.json()["not_imported"][0]["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(why.contains(reason), "{levels}: {why}");
    }
}

// ---------------------------------------------------------------------------------------
// reconfigure --diff: secrets however written
// ---------------------------------------------------------------------------------------

/// Pieces of `pw` (and of its encoded forms) that must never show.
fn pieces(pw: &str) -> Vec<String> {
    let mut out: Vec<String> = pw
        .split([' ', '\'', '"', '%', '@', '\\'])
        .filter(|p| p.len() >= 3)
        .map(str::to_string)
        .collect();
    out.push(pw.to_string());
    out
}

fn assert_hidden(out: &crate::harness::Outcome, pws: &[&str], what: &str) {
    let all = format!("{}{}", out.stdout_str(), out.stderr);
    for pw in pws {
        for p in pieces(pw) {
            assert!(
                !all.contains(&p),
                "{what}: `{p}` of a password shown\n{out}"
            );
        }
    }
}

const MM_PASSWORD: &str = r#"Zq7 Kw1xy 'Qv0zz' "Dq8jj" 50%Of4 Me7@Hq2 Bk3\Sl9"#;
const MM_OLD_PASSWORD: &str = r#"Vx9 Ol5dd 'Jt6''Sw8' 99%Su1 Yo2@Th4"#;

#[test]
fn a_mattermost_sql_password_with_spaces_and_quotes_is_masked_whole_in_diffs() {
    for source in [
        // The conninfo form: the password is quoted and escaped, in the middle of the line.
        "user=gitlab_mattermost host=db.example.com port=5432 sslmode=require dbname=mm",
        // The URL form: form-encoded in the query.
        "postgres://gitlab_mattermost@db.example.com:5432/mm?sslmode=require",
    ] {
        let t = root_from(&fixtures().join("mattermost-external-postgres"));
        t.toolctl(["config", "set", "mattermost.sql_data_source", source])
            .run()
            .assert_code(0);
        let yaml = |pw: &str| format!("sql_password: {}\n", serde_json::to_string(pw).unwrap());
        t.write_secret("mattermost", yaml(MM_OLD_PASSWORD).as_bytes());
        let before = t.snapshot();
        for format in ["human", "json"] {
            let out = t
                .toolctl([
                    "reconfigure",
                    "--dry-run",
                    "--diff",
                    "--output-format",
                    format,
                ])
                .run();
            out.assert_code(0);
            assert!(
                out.stdout_str().contains("MM_SQLSETTINGS_DATASOURCE"),
                "{source}: no diff of the data source\n{out}"
            );
            let shown = out.stdout_str();
            assert!(
                shown.contains("password=********") || shown.contains("password='********'"),
                "{out}"
            );
            assert_hidden(&out, &[MM_OLD_PASSWORD], &format!("{source} ({format})"));
        }
        before.assert_unchanged(&t.snapshot(), &"reconfigure --dry-run --diff");
        t.toolctl(["reconfigure"]).run().assert_code(0);

        // A new password: the old one, no longer known, is in the file on disk.
        t.write_secret("mattermost", yaml(MM_PASSWORD).as_bytes());
        let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
        out.assert_code(0);
        let stdout = out.stdout_str();
        // Both sides are masked alike: the diff says that a secret changed.
        assert!(
            stdout.contains(
                "+++ b/mattermost/env/MM_SQLSETTINGS_DATASOURCE\n@@ a secret value changed (not shown) @@\n"
            ),
            "{out}"
        );
        assert_hidden(&out, &[MM_PASSWORD, MM_OLD_PASSWORD], source);
    }
}

#[test]
fn a_redis_password_with_percent_and_at_is_masked_in_the_middle_of_a_url() {
    let t = root_from(&fixtures().join("mailroom-redis"));
    let pw = r#"R3d Ix7%41 @Pz9 'Qq5' "Dd6" \Bb8"#;
    t.write_secret(
        "redis",
        format!("password: {}\n", serde_json::to_string(pw).unwrap()).as_bytes(),
    );
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    out.assert_code(0);
    assert!(
        out.stdout_str()
            .contains("redis://:********@127.0.0.1:6379/2"),
        "{out}"
    );
    assert_hidden(&out, &[pw], "redis");
    before.assert_unchanged(&t.snapshot(), &"reconfigure --dry-run --diff");
}

#[test]
fn a_credential_in_mattermost_env_is_never_shown_in_a_diff() {
    let t = root_from(&fixtures().join("mattermost-external-postgres"));
    let pw = "Smtp-Env-Pa55 Wq4rd";
    t.toolctl([
        "config",
        "set",
        "mattermost.env",
        &format!("{{ MM_EMAILSETTINGS_SMTPPASSWORD = \"{pw}\", HTTP_PROXY = \"proxy.example\" }}"),
    ])
    .run()
    .assert_code(0);
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    out.assert_code(0);
    let stdout = out.stdout_str();
    assert!(
        stdout.contains(
            "+++ b/mattermost/env/MM_EMAILSETTINGS_SMTPPASSWORD\n@@ secret content not shown @@"
        ),
        "{out}"
    );
    assert!(stdout.contains("proxy.example"), "{out}");
    assert_hidden(&out, &[pw], "mattermost.env");
}

// ---------------------------------------------------------------------------------------
// service-desk-email templates
// ---------------------------------------------------------------------------------------

const HOSTILE_TEMPLATE: &str = "# Hello %{ISSUE_PATH}\n\n\
<script>alert('s')</script>\n\n\
<img src=x onerror=\"alert('e')\">\n\n\
[click](javascript:alert('j'))\n\n\
<a href=\"JaVaScRiPt:alert('J')\">J</a> <a href=\"data:text/html,x\">d</a>\n\n\
<iframe src=\"https://evil.example\"></iframe><svg onload=\"alert('o')\"></svg>\n\n\
<a href=\"https://ok.example/\">fine</a> %{NOTE_TEXT}\n";

fn assert_clean_html(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "data:",
        "<iframe",
        "alert(",
    ] {
        assert!(!lower.contains(bad), "`{bad}` kept in the preview:\n{html}");
    }
    assert!(
        html.contains("<h1>Hello mygroup/myproject#7</h1>"),
        "{html}"
    );
    assert!(html.contains("href=\"https://ok.example/\""), "{html}");
}

#[test]
fn templates_preview_drops_scripts_event_handlers_and_javascript_links() {
    let t = TestRoot::new();
    let dir = t.aux().join("service_desk_templates");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("new_note.md");
    fs::write(&file, HOSTILE_TEMPLATE).unwrap();
    let before = fs::read(&file).unwrap();
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "preview",
            file.to_str().unwrap(),
        ])
        .run();
    out.assert_code(0);
    assert_clean_html(&out.stdout_str());
    // A hostile value given on the command line is sanitized the same way.
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "preview",
            "--note-text",
            "<img src=x onerror=alert(1)><script>alert(2)</script>",
            "--open",
            file.to_str().unwrap(),
        ])
        .run();
    out.assert_code(0);
    let path = std::path::PathBuf::from(out.stdout_str().trim());
    let html = fs::read_to_string(&path).unwrap();
    fs::remove_file(&path).unwrap();
    assert_clean_html(&html);
    assert_eq!(fs::read(&file).unwrap(), before, "the template was changed");
}

#[test]
fn template_file_names_with_escape_sequences_never_reach_the_terminal() {
    let t = TestRoot::new();
    let dir = t.aux().join("service_desk_templates");
    fs::create_dir_all(&dir).unwrap();
    // OSC title, clear screen, OSC 52 clipboard write, CR + erase line.
    let names = [
        "a\x1b]0;pwned\x07.md",
        "b\x1b[2J\x1b[H.md",
        "c\x1b]52;c;cm0gLXJmIC8K\x07.md",
        "d\r\x1b[2Kthank_you.md",
    ];
    for n in names {
        fs::write(dir.join(n), "x").unwrap();
    }
    fs::write(dir.join("thank_you.md"), "Thanks %{ISSUE_IDD}\n").unwrap();
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "check",
            dir.to_str().unwrap(),
        ])
        .run();
    out.assert_code(1);
    let all = format!("{}{}", out.stdout_str(), out.stderr);
    assert!(
        !all.contains('\x1b') && !all.contains('\r') && !all.contains('\x07'),
        "{all:?}"
    );
    assert!(all.contains("a\\x1b]0;pwned\\x07.md"), "{all}");
    assert!(all.contains("d\\x0d\\x1b[2Kthank_you.md"), "{all}");
    // The JSON report keeps them, escaped by JSON itself.
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "check",
            dir.to_str().unwrap(),
            "--output-format",
            "json",
        ])
        .run();
    assert!(!out.stdout.contains(&0x1b), "{out}");
    // preview names the file in its refusal: escaped too.
    let bad = dir.join(names[0]);
    let out = t
        .toolctl([
            "service-desk-email",
            "templates",
            "preview",
            bad.to_str().unwrap(),
        ])
        .run();
    out.assert_error("is not a template GitLab reads", &["thank_you.md"]);
    assert!(!out.stderr.contains('\x1b'), "{out}");
    assert!(out.stderr.contains("\\x1b]0;pwned"), "{out}");
}
