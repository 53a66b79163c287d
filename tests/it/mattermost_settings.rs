//! `[mattermost]` settings that toolctl's PostgreSQL clients cannot serve are refused before
//! anything runs (`sql_driver_name = "mysql"`, data-source keywords libpq has no form for);
//! the Go driver's run-time parameters (`search_path`…) reach psql and pg_dump; the
//! defaults follow Mattermost (`gitlab_scope`); and `mattermost check` vouches for SSO only
//! when Mattermost answered.

use std::fs;

use crate::harness::TestRoot;
use crate::mattermost::{settings, setup, CONFIG};

/// `[mattermost]` with `extra` lines, a data source on a closed port (nothing connects:
/// the refusals come first), and the password secret.
fn root(extra: &str, source: &str) -> TestRoot {
    TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[mattermost]\n\
             external_url = \"http://127.0.0.1:9\"\nsql_data_source = \"{source}\"\n\
             data_dir = \"/var/opt/mattermost/data\"\n{extra}"
        ))
        .secret("mattermost", "sql_password: 'pw-not-shown'\n")
        .build()
}

/// Every command that reaches Mattermost's database or renders its settings.
const COMMANDS: &[&[&str]] = &[
    &["mattermost", "check"],
    &["mattermost", "backup"],
    &["reconfigure"],
];

#[track_caller]
fn refused_everywhere(t: &TestRoot, error: &str, hints: &[&str]) {
    for args in COMMANDS {
        let before = t.snapshot();
        let out = t.toolctl(*args).run();
        out.assert_error(error, hints);
        before.assert_unchanged(&t.snapshot(), &out);
        assert!(!out.stderr.contains("pw-not-shown"), "{out}");
    }
    // `toolctl check` reports it as the integration's `settings` row (exit 2).
    let before = t.snapshot();
    let out = t.toolctl(["check", "--output-format", "json"]).run();
    out.assert_code(2);
    let row = out.step("settings");
    assert_eq!(row["status"], "error", "{out}");
    assert!(row["detail"].as_str().unwrap().contains(error), "{out}");
    for h in hints {
        assert!(row["hint"].as_str().unwrap().contains(h), "{out}");
    }
    before.assert_unchanged(&t.snapshot(), &out);
}

#[test]
fn mysql_is_refused_by_check_backup_and_reconfigure() {
    let t = root(
        "sql_driver_name = \"mysql\"\n",
        "mmuser:pw@tcp(127.0.0.1:9)/mattermost?charset=utf8mb4",
    );
    refused_everywhere(
        &t,
        "`mattermost.sql_driver_name` is `mysql`",
        &["PostgreSQL", "sql_driver_name = \"postgres\""],
    );
    // `config set` refuses to write it.
    let t = root("", "user=mm host=127.0.0.1 port=9 dbname=mm");
    let before = t.snapshot();
    let out = t
        .toolctl(["config", "set", "mattermost.sql_driver_name", "mysql"])
        .run();
    out.assert_error("`mattermost.sql_driver_name` is `mysql`", &["PostgreSQL"]);
    before.assert_unchanged(&t.snapshot(), &out);
}

#[test]
fn data_source_keywords_without_a_libpq_form_are_refused_with_their_fix() {
    let t = root(
        "",
        "user=mm host=127.0.0.1 port=9 dbname=mm sslmode=verify-full sslinline=true",
    );
    refused_everywhere(&t, "`sslinline`", &["sslrootcert", "remove `sslinline`"]);
    let t = root(
        "",
        "postgres://mm@127.0.0.1:9/mm?krbspn=postgres/db.example.com",
    );
    refused_everywhere(&t, "`krbspn`", &["krbsrvname"]);
}

#[test]
fn search_path_reaches_check_and_backup_as_a_server_option() {
    let m = setup(1);
    // A schema path without the tables: if the keyword reached the server, `Systems` is
    // not found (a warning); if it were dropped, it would be; libpq alone would refuse it.
    let source = format!("{} search_path=nowhere", m.pg.data_source());
    m.t.write_settings(&settings(&m.pg, "http://127.0.0.1:9", &source));
    let out = m.run(&["mattermost", "check", "--output-format", "json"]);
    assert_eq!(out.step("database")["status"], "ok", "{out}");
    assert_eq!(out.step("schema")["status"], "warn", "{out}");
    // Nothing answers on the SiteURL: SSO is not vouched for.
    assert_eq!(out.step("ping")["status"], "fail", "{out}");
    assert_eq!(out.step("oauth")["status"], "skipped", "{out}");
    assert!(
        out.step("oauth")["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer the ping"),
        "{out}"
    );
    out.assert_code(1);

    let source = format!("{} search_path='public, nowhere'", m.pg.data_source());
    m.t.write_settings(&settings(&m.pg, "http://127.0.0.1:9", &source));
    let out = m.run(&["mattermost", "check", "--output-format", "json"]);
    assert_eq!(out.step("schema")["status"], "ok", "{out}");
    let archive = m.backup();
    m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ])
    .assert_code(0);
}

#[test]
fn gitlab_scope_defaults_to_empty_as_mattermost_does() {
    let t = root(
        "gitlab_enable = true\ngitlab_id = \"app-id\"\n",
        "user=mm host=db dbname=mm",
    );
    t.write_secret(
        "mattermost",
        b"sql_password: 'pw-not-shown'\ngitlab_secret: 'oauth-secret'\n",
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let env =
        fs::read_to_string(t.path("var/opt/toolctl/rendered/mattermost/mattermost.env")).unwrap();
    assert!(env.contains("MM_GITLABSETTINGS_SCOPE=\"\"\n"), "{env}");
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(t.path(CONFIG)).unwrap()).unwrap();
    assert_eq!(config["GitLabSettings"]["Scope"], "", "{config}");
}

#[test]
fn import_gitlab_rb_leaves_out_what_the_commands_would_refuse() {
    let t = TestRoot::builder()
        .settings("external_url = \"https://gitlab.example.com\"\n")
        .secrets_init()
        .build();
    let rb = t.aux().join("gitlab.rb");
    fs::write(
        &rb,
        "mattermost['sql_driver_name'] = 'mysql'\n\
         mattermost['sql_data_source'] = 'user=mm host=db dbname=mm sslinline=true'\n",
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
    assert!(
        reasons
            .iter()
            .any(|(l, r)| *l == 1 && r.contains("PostgreSQL's clients only")),
        "{out}"
    );
    assert!(
        reasons
            .iter()
            .any(|(l, r)| *l == 2 && r.contains("`sslinline`") && r.contains("sslrootcert")),
        "{out}"
    );
    let settings = fs::read_to_string(t.config_file()).unwrap();
    assert!(
        !settings.contains("mysql") && !settings.contains("sslinline"),
        "{settings}"
    );
}
