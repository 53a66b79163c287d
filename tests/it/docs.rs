//! Generated man pages, completions and README help match the clap definition, and every
//! `--help` reads.
//!
//! `man/`, `completions/` and the `toolctl --help` block of README.md are committed (as just
//! does) so that packagers and users get them without building. This test regenerates them with the real binary and fails on any
//! difference, or on a committed page that the binary no longer generates, naming the
//! command that refreshes them: `scripts/regen-docs`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use clap::CommandFactory;

const REFRESH: &str = "scripts/regen-docs";

/// The three completion scripts: (shell argument, committed file).
const COMPLETIONS: [(&str, &str); 3] = [
    ("bash", "completions/toolctl.bash"),
    ("zsh", "completions/_toolctl"),
    ("fish", "completions/toolctl.fish"),
];

/// `toolctl` with an environment that cannot change what it prints.
fn toolctl() -> Command {
    let mut cmd = Command::cargo_bin("toolctl").expect("the toolctl binary is built");
    for var in ["TOOLCTL_ROOT", "TOOLCTL_CONFIG", "NO_COLOR", "COLUMNS"] {
        cmd.env_remove(var);
    }
    cmd
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where two texts first differ, as a short excerpt for the failure message.
fn first_difference(committed: &str, generated: &str) -> String {
    let (c, g): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), generated.lines().collect());
    let n = c.iter().zip(&g).take_while(|(a, b)| a == b).count();
    format!(
        "first difference at line {}:\n      committed: {:?}\n      generated: {:?}",
        n + 1,
        c.get(n).copied().unwrap_or("<end of file>"),
        g.get(n).copied().unwrap_or("<end of file>"),
    )
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("list a directory")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[test]
fn committed_man_pages_and_completions_match_the_binary() {
    let root = manifest_dir();
    let mut problems = Vec::new();

    // Man pages: one per command, generated into a fresh directory.
    let tmp = tempfile::tempdir().expect("create a temp dir");
    let out = tmp.path().join("man");
    toolctl()
        .arg("man")
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .success();
    let generated = file_names(&out);
    let committed = file_names(&root.join("man"));
    assert!(
        !generated.is_empty(),
        "`toolctl man` wrote no page into {}",
        out.display()
    );
    for name in generated.difference(&committed) {
        problems.push(format!("man/{name} is missing"));
    }
    for name in committed.difference(&generated) {
        problems.push(format!(
            "man/{name} is stale: the binary no longer generates it"
        ));
    }
    for name in generated.intersection(&committed) {
        let g = fs::read_to_string(out.join(name)).expect("read a generated page");
        let c = fs::read_to_string(root.join("man").join(name)).expect("read a committed page");
        if g != c {
            problems.push(format!("man/{name} differs; {}", first_difference(&c, &g)));
        }
    }

    // Completion scripts, one per shell.
    for (shell, file) in COMPLETIONS {
        let output = toolctl()
            .args(["completions", shell])
            .output()
            .expect("run toolctl");
        assert!(
            output.status.success(),
            "`toolctl completions {shell}` failed: {output:?}"
        );
        let g = String::from_utf8(output.stdout).expect("completions are UTF-8");
        match fs::read_to_string(root.join(file)) {
            Err(e) => problems.push(format!("{file} cannot be read ({e})")),
            Ok(c) if c != g => {
                problems.push(format!("{file} differs; {}", first_difference(&c, &g)))
            }
            Ok(_) => {}
        }
    }

    // The `toolctl --help` block of README.md.
    let help = toolctl().arg("--help").output().expect("run toolctl");
    assert!(help.status.success(), "`toolctl --help` failed: {help:?}");
    let expected = format!(
        "```text\n$ toolctl --help\n{}```\n",
        String::from_utf8(help.stdout).expect("help is UTF-8")
    );
    let readme = fs::read_to_string(root.join("README.md")).expect("read README.md");
    match readme_help_block(&readme) {
        None => problems.push(
            "README.md has no `<!-- BEGIN toolctl --help` … `<!-- END toolctl --help` block".into(),
        ),
        Some(block) if block != expected => problems.push(format!(
            "the `toolctl --help` block of README.md differs; {}",
            first_difference(&block, &expected)
        )),
        Some(_) => {}
    }

    assert!(
        problems.is_empty(),
        "the committed man pages and completions do not match the command line:\n  - {}\n\n\
         Run `{REFRESH}` and commit man/, completions/ and README.md.",
        problems.join("\n  - ")
    );
}

/// The lines between README.md's BEGIN and END markers of the `toolctl --help` block.
fn readme_help_block(readme: &str) -> Option<String> {
    let mut lines = readme.lines();
    lines.find(|l| l.starts_with("<!-- BEGIN toolctl --help"))?;
    let mut block = String::new();
    for line in lines {
        if line.starts_with("<!-- END toolctl --help") {
            return Some(block);
        }
        block.push_str(line);
        block.push('\n');
    }
    None
}

/// Every command path, from the clap definition itself: ["secrets"], ["secrets", "init"], …
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&toolctl::cli::Cli::command(), &[], &mut out);
    out
}

fn help(path: &[&str]) -> String {
    let output = toolctl()
        .args(path)
        .arg("--help")
        .output()
        .expect("run toolctl");
    assert_eq!(
        output.status.code(),
        Some(0),
        "`toolctl {} --help` must exit 0; stderr:\n{}",
        path.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("help is UTF-8")
}

fn assert_mentions(path: &[&str], text: &str, words: &[&str]) {
    for word in words {
        assert!(
            text.contains(word),
            "`toolctl {} --help` does not mention `{word}`:\n{text}",
            path.join(" ")
        );
    }
}

#[test]
fn every_help_exits_0_and_names_its_command_and_the_global_options() {
    let paths = command_paths();
    assert!(
        paths.len() > 30,
        "expected every scope's secret commands, got {paths:?}"
    );
    for path in &paths {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&path);
        let usage = format!(
            "Usage: {}",
            ["toolctl"]
                .iter()
                .chain(&path)
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_mentions(
            &path,
            &text,
            &[&usage, "--root", "--config", "--quiet", "--color"],
        );
    }
}

#[test]
fn help_mentions_the_key_words() {
    let top = help(&[]);
    assert_mentions(
        &[],
        &top,
        &[
            "secrets",
            "smtp",
            "incoming-email",
            "service-desk-email",
            "microsoft-graph-mailer",
            "mattermost",
            "mailroom",
            "completions",
            "man",
            "--root",
            "TOOLCTL_ROOT",
            "TOOLCTL_CONFIG",
            "secrets.key",
            "Exit codes",
            "130",
        ],
    );

    let secrets = help(&["secrets"]);
    assert_mentions(&["secrets"], &secrets, &["init", "status", "rekey", "key"]);
    assert_mentions(
        &["secrets", "init"],
        &help(&["secrets", "init"]),
        &["key", "0600"],
    );
    assert_mentions(
        &["secrets", "status"],
        &help(&["secrets", "status"]),
        &["--output-format", "human", "json", "decrypts"],
    );
    assert_mentions(
        &["secrets", "rekey"],
        &help(&["secrets", "rekey"]),
        &[
            "--new-key",
            "recipients",
            "--output-format",
            "nothing changes",
        ],
    );

    for scope in [
        "smtp",
        "incoming-email",
        "service-desk-email",
        "microsoft-graph-mailer",
        "mattermost",
        "mailroom",
    ] {
        assert_mentions(&[scope], &help(&[scope]), &["secret"]);
        assert_mentions(
            &[scope, "secret"],
            &help(&[scope, "secret"]),
            &["show", "edit", "write"],
        );
        assert_mentions(
            &[scope, "secret", "show"],
            &help(&[scope, "secret", "show"]),
            &["stdout"],
        );
        assert_mentions(
            &[scope, "secret", "edit"],
            &help(&[scope, "secret", "edit"]),
            &["$VISUAL", "$EDITOR", "tmpfs"],
        );
        assert_mentions(
            &[scope, "secret", "write"],
            &help(&[scope, "secret", "write"]),
            &["stdin", "1 MiB"],
        );
    }
    // Each scope's help names the keys its secret may hold.
    assert_mentions(
        &[],
        &top,
        &[
            "user_name",
            "client_secret",
            "gitlab_secret",
            "webhook_secret",
        ],
    );

    assert_mentions(
        &["completions"],
        &help(&["completions"]),
        &["bash", "zsh", "fish"],
    );
    assert_mentions(&["man"], &help(&["man"]), &["--out-dir"]);
}

#[test]
fn every_help_ends_with_examples_and_man_pages_have_their_sections() {
    for path in command_paths() {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&path);
        let tail = text.trim_end();
        let examples = tail.rfind("\nExamples:\n").unwrap_or_else(|| {
            panic!(
                "`toolctl {} --help` has no examples:\n{text}",
                path.join(" ")
            )
        });
        assert!(
            tail[examples..]
                .lines()
                .skip(2)
                .all(|l| l.starts_with("  ")),
            "`toolctl {} --help` does not end with its examples:\n{text}",
            path.join(" ")
        );
        assert!(
            tail[examples..].contains("toolctl"),
            "`toolctl {} --help`: examples without a command",
            path.join(" ")
        );
        assert!(
            !text.contains('`'),
            "`toolctl {} --help` has literal backticks:\n{text}",
            path.join(" ")
        );
        if path.last() == Some(&"check") {
            assert_mentions(
                &path,
                &text,
                &["Exit status: 0", "1 a step failed", "2 the check could not"],
            );
        }
    }

    let dir = manifest_dir().join("man");
    let mut pages = 0;
    for name in file_names(&dir) {
        let page = fs::read_to_string(dir.join(&name)).unwrap();
        if name == "toolctl.toml.5" {
            // The file format's page: every key of the schema, with its type and default.
            for key in [
                "external_url",
                "canary_from",
                "working_dir",
                "admin_data_source",
            ] {
                assert!(
                    page.contains(&format!("\\fB{key}\\fR")),
                    "man/{name} lacks {key}"
                );
            }
            assert!(!page.contains('`'), "man/{name} has literal backticks");
            continue;
        }
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH FILES",
            ".SH ENVIRONMENT",
            ".SH EXAMPLES",
        ] {
            assert!(page.contains(section), "man/{name} has no {section}");
        }
        assert!(!page.contains(".SH EXTRA"), "man/{name} still has EXTRA");
        assert!(!page.contains('`'), "man/{name} has literal backticks");
        pages += 1;
    }
    assert!(pages > 30, "only {pages} man pages");
    let check = fs::read_to_string(dir.join("toolctl-check.1")).unwrap();
    assert!(
        check.contains(r"\fB\-\-timeout\fR \fISECS\fR"),
        "the SYNOPSIS lacks value names"
    );
    let nested = fs::read_to_string(dir.join("toolctl-incoming-email-check.1")).unwrap();
    assert!(
        nested.contains(r"\fBtoolctl incoming\-email check\fR"),
        "{nested}"
    );

    // `man -l` renders it: no warnings from groff, the sections in order.
    let out = std::process::Command::new("man")
        .args(["-l", "--warnings", "-P", "cat"])
        .arg(dir.join("toolctl.1"))
        .env("MANWIDTH", "80")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "man -l failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "man -l warns: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("no {s} in man -l output:\n{text}"))
    };
    assert!(at("SYNOPSIS") < at("EXIT STATUS"));
    assert!(at("EXIT STATUS") < at("FILES") && at("FILES") < at("ENVIRONMENT"));
    assert!(at("ENVIRONMENT") < at("EXAMPLES"));
}
