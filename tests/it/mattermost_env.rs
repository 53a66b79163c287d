//! `rendered/mattermost/mattermost.env`: systemd's `EnvironmentFile=` syntax, read back
//! value for value against the envdir.
//!
//! Where systemd runs as PID 1, `systemd-run --wait --pipe -p EnvironmentFile=… env` reads
//! the file back. Everywhere (these machines have no systemd as PID 1) it is read by
//! [`read_environment_file`], a reader written from the `EnvironmentFile=` rules of
//! systemd.exec(5): `systemd-analyze verify` checks a unit, not this file (it passes an
//! unterminated quote).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::harness::{mode, TestRoot};

/// systemd.exec(5), `EnvironmentFile=`: one assignment per line; empty lines, lines without
/// `=`, and lines starting with `#` or `;` are ignored. Unquoted: shell-like backslash
/// escapes (`\x` is `x`, backslash-newline continues the line), leading and trailing
/// whitespace dropped, interior whitespace kept. Single quotes: everything verbatim up to
/// the next `'`, no escapes. Double quotes: verbatim except that `\"`, `\\`, `` \` `` and
/// `\$` stand for the character, backslash-newline continues, and any other backslash is
/// kept. Quoted pieces may span lines; whitespace outside quotes is dropped.
pub fn read_environment_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    #[derive(PartialEq)]
    enum S {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
        Comment,
        CommentEscape,
    }
    let mut out = BTreeMap::new();
    let (mut key, mut value) = (String::new(), String::new());
    // Length of `value` up to the last non-whitespace (or quoted) character.
    let mut keep = 0;
    let mut s = S::PreKey;
    let mut finish = |key: &mut String, value: &mut String, keep: &mut usize| {
        value.truncate(*keep);
        out.insert(key.trim_end().to_string(), std::mem::take(value));
        key.clear();
        *keep = 0;
    };
    for c in text.chars() {
        s = match s {
            S::PreKey => match c {
                '#' | ';' => S::Comment,
                c if c.is_whitespace() => S::PreKey,
                c => {
                    key.push(c);
                    S::Key
                }
            },
            S::Key => match c {
                '\n' => {
                    key.clear();
                    S::PreKey
                }
                '=' => S::PreValue,
                c => {
                    key.push(c);
                    S::Key
                }
            },
            S::PreValue | S::Value => match c {
                '\n' => {
                    finish(&mut key, &mut value, &mut keep);
                    S::PreKey
                }
                ' ' | '\t' | '\r' if s == S::PreValue => S::PreValue,
                '\'' => S::Single,
                '"' => S::Double,
                '\\' => S::ValueEscape,
                c => {
                    value.push(c);
                    if !matches!(c, ' ' | '\t' | '\r') {
                        keep = value.len();
                    }
                    S::Value
                }
            },
            S::ValueEscape => {
                if c != '\n' {
                    value.push(c);
                    keep = value.len();
                }
                S::Value
            }
            S::Single => match c {
                '\'' => S::PreValue,
                c => {
                    value.push(c);
                    keep = value.len();
                    S::Single
                }
            },
            S::Double => match c {
                '"' => S::PreValue,
                '\\' => S::DoubleEscape,
                c => {
                    value.push(c);
                    keep = value.len();
                    S::Double
                }
            },
            S::DoubleEscape => {
                match c {
                    '"' | '\\' | '`' | '$' => value.push(c),
                    '\n' => {}
                    c => {
                        value.push('\\');
                        value.push(c);
                    }
                }
                keep = value.len();
                S::Double
            }
            S::Comment => match c {
                '\\' => S::CommentEscape,
                '\n' => S::PreKey,
                _ => S::Comment,
            },
            S::CommentEscape => S::Comment,
        };
    }
    match s {
        S::Single | S::Double | S::DoubleEscape => Err("an unterminated quote".into()),
        S::PreValue | S::Value | S::ValueEscape => {
            finish(&mut key, &mut value, &mut keep);
            Ok(out)
        }
        _ => Ok(out),
    }
}

#[test]
fn the_reader_follows_systemd_exec_5() {
    let text = "# comment\n; also\n\nNOEQUALS\nA=plain value  \nB=\"two  spaces \"\nC='single \"d\" \\n'\nD=\"q \\\" b \\\\ d \\$ x \\a\"\nE=back\\\\slash\nF=cont\\\ninued\nG=\"multi\nline\"\nH= #not a comment\nI=\"$HOME\"\n";
    let got = read_environment_file(text).unwrap();
    let want: BTreeMap<String, String> = [
        ("A", "plain value"),
        ("B", "two  spaces "),
        ("C", "single \"d\" \\n"),
        ("D", "q \" b \\ d $ x \\a"),
        ("E", "back\\slash"),
        ("F", "continued"),
        ("G", "multi\nline"),
        ("H", "#not a comment"),
        ("I", "$HOME"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);
    assert!(read_environment_file("A=\"open\n").is_err());
    assert!(read_environment_file("A='open\n").is_err());
}

/// Values with spaces (leading, trailing, interior), both quotes, backslashes (a trailing
/// one too), `$`, `#` and a newline.
const NASTY: &[(&str, &str)] = &[
    ("MM_T_SPACES", "  two  spaces  "),
    ("MM_T_QUOTES", "it's \"quoted\" and 'single'"),
    ("MM_T_BACKSLASH", "a\\b\\\\c"),
    ("MM_T_TRAILING", "ends with\\"),
    ("MM_T_DOLLAR", "$HOME ${PATH} $"),
    ("MM_T_HASH", "# not a comment ; nor this"),
    ("MM_T_BACKTICK", "`id`"),
    ("MM_T_NEWLINE", "line one\nline two"),
    ("MM_T_EMPTY", ""),
];

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn envdir(dir: &Path) -> BTreeMap<String, String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn mattermost_env_equals_the_envdir_value_for_value() {
    let env: Vec<String> = NASTY
        .iter()
        .map(|(k, v)| format!("{k} = {}", toml_str(v)))
        .collect();
    let settings = format!(
        "external_url = \"https://gitlab.example.com\"\n\n[mattermost]\nexternal_url = \"https://mattermost.example.com\"\nsql_data_source = \"user=mm host=db.example.com dbname=mattermost\"\nlisten_address = \"127.0.0.1:9065\"\nenv = {{ {} }}\n",
        env.join(", ")
    );
    let t = TestRoot::builder()
        .settings(&settings)
        .secrets_init()
        .build();
    t.write_secret("mattermost", b"sql_password: 'p \"a\" $s\\\\w'\n");
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let rendered = t.path("var/opt/toolctl/rendered/mattermost");
    let file = rendered.join("mattermost.env");
    assert_eq!(mode(&file), 0o600);
    let got = read_environment_file(&fs::read_to_string(&file).unwrap()).unwrap();
    let want = envdir(&rendered.join("env"));
    assert_eq!(got, want);
    for (k, v) in NASTY {
        assert_eq!(got.get(*k).map(String::as_str), Some(*v), "{k}");
    }
    assert_eq!(got["MM_SERVICESETTINGS_LISTENADDRESS"], "127.0.0.1:9065");
    assert!(got["MM_SQLSETTINGS_DATASOURCE"].contains("dbname=mattermost"));
    // nginx reaches Mattermost where it listens.
    let conf =
        fs::read_to_string(t.path("var/opt/toolctl/rendered/nginx/mattermost.conf")).unwrap();
    assert!(conf.contains("server 127.0.0.1:9065;"), "{conf}");

    // Where systemd is PID 1, systemd itself reads the file back.
    if Path::new("/run/systemd/system").is_dir() {
        let out = std::process::Command::new("systemd-run")
            .args(["--wait", "--pipe", "--quiet", "-p"])
            .arg(format!("EnvironmentFile={}", file.display()))
            .args(["/usr/bin/env", "-0"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen = String::from_utf8(out.stdout).unwrap();
        for (k, v) in &want {
            assert!(seen.split('\0').any(|l| l == format!("{k}={v}")), "{k}");
        }
    }
}

#[test]
fn mattermost_without_a_data_source_is_refused_with_an_example() {
    let t = TestRoot::builder()
        .settings("[mattermost]\nexternal_url = \"https://mattermost.example.com\"\n")
        .secrets_init()
        .build();
    let before = t.snapshot();
    t.toolctl(["reconfigure"]).run().assert_error(
        "mattermost.sql_data_source",
        &["sql_data_source = ", "dbname="],
    );
    before.assert_unchanged(&t.snapshot(), &"no sql_data_source");
    t.write_settings("[mattermost]\nexternal_url = \"https://mattermost.example.com\"\nsql_data_source = \"user=mm dbname=mm\"\nlisten_address = \"8065\"\n");
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("listen_address", &["127.0.0.1:8065"]);
}
