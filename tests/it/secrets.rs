//! The encrypted secrets store, end to end.
//!
//! Every test drives the real binary against its own temporary root, checks what it
//! printed and how it exited, and checks the files on disk: modes, bytes, and, for every
//! refusal, that the whole tree is exactly as it was (a [`Snapshot`] before and after).
//! Interoperability is checked against the Debian `age` and `age-keygen` binaries.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{
    age_decrypt, age_encrypt_armored, age_keygen, age_public_key, chmod, mode, run_tool, wait_for,
    Outcome, Snapshot, TestRoot,
};

/// Every scope with a valid secret for it.
const SCOPES: [(&str, &str); 8] = [
    ("smtp", "user_name: 'gitlab-inst'\npassword: '123'\n"),
    (
        "incoming-email",
        "user: 'incoming@gitlab.example.com'\npassword: 'imap-pass'\nclient_secret: 'cs~1'\n",
    ),
    (
        "service-desk-email",
        "user: 'desk@gitlab.example.com'\npassword: \"desk pass\"\n",
    ),
    (
        "microsoft-graph-mailer",
        "# the Entra secret value\nclient_secret: 'graph~Secret.Value'\n",
    ),
    (
        "mattermost",
        "gitlab_secret: 'oauth-secret'\nsql_password: '0123'\n",
    ),
    (
        "mailroom",
        "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n",
    ),
    ("redis", "password: 'redis+pass'\n"),
    (
        "custom-email",
        "user_name: 'support@example.com'\npassword: 'custom-pass-1'\n",
    ),
];

const ARMOR_HEADER: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// A value that must never show up in a message or an argv.
const SECRET: &str = "Sup3r-S3cret-Value";

fn sample(scope: &str) -> &'static str {
    SCOPES.iter().find(|(s, _)| *s == scope).unwrap().1
}

/// A root with a key and the smtp and mailroom secrets (so the lock file exists too).
fn populated() -> TestRoot {
    let r = TestRoot::new();
    r.init();
    r.write_secret("smtp", sample("smtp").as_bytes());
    r.write_secret("mailroom", sample("mailroom").as_bytes());
    r
}

/// Runs `run` and asserts the refusal (`error:` holding `error`, `hint:` holding `hints`,
/// exit 2) and that the tree under the root did not change at all.
#[track_caller]
fn assert_refused(
    r: &TestRoot,
    run: impl FnOnce() -> Outcome,
    error: &str,
    hints: &[&str],
) -> Outcome {
    let before = r.snapshot();
    let out = run();
    out.assert_error(error, hints);
    before.assert_unchanged(&r.snapshot(), &out);
    out
}

/// `printf INPUT | toolctl smtp secret write` on a populated root is refused.
#[track_caller]
fn assert_write_refused(input: &[u8], error: &str, hints: &[&str]) -> Outcome {
    let r = populated();
    let out = assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "write"]).stdin(input).run(),
        error,
        hints,
    );
    assert!(
        out.stderr.contains("error: the smtp secret was not saved"),
        "{out}"
    );
    // The old secret is still there, untouched.
    assert_eq!(r.show_secret("smtp"), sample("smtp").as_bytes());
    out
}

/// Overwrites a few base64 characters in the middle of an armored file.
fn flip_middle(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    let mut flipped = 0;
    for b in &mut bytes[mid..] {
        if b.is_ascii_alphanumeric() {
            *b = if *b == b'A' { b'B' } else { b'A' };
            flipped += 1;
            if flipped == 4 {
                break;
            }
        }
    }
    fs::write(path, bytes).unwrap();
}

/// Keeps the first half of a file.
fn truncate_half(path: &Path) {
    let bytes = fs::read(path).unwrap();
    fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------
// 1. Round trips, init
// ---------------------------------------------------------------------------------------

#[test]
fn write_then_show_round_trips_every_scope() {
    let r = TestRoot::new();
    for (i, (scope, yaml)) in SCOPES.iter().enumerate() {
        let out = r
            .toolctl([scope, "secret", "write"])
            .stdin(yaml.as_bytes())
            .run();
        out.assert_code(0);
        assert!(out.stderr.contains("File encrypted and saved."), "{out}");
        assert!(out.stdout.is_empty(), "write printed on stdout\n{out}");
        // The first writer creates the key, and says so; later ones do not.
        assert_eq!(out.stderr.contains("Created the key"), i == 0, "{out}");

        let shown = r.toolctl([scope, "secret", "show"]).run();
        shown.assert_code(0);
        assert_eq!(
            shown.stdout_str(),
            *yaml,
            "show of {scope} is not what was written"
        );

        let file = r.secret_file(scope);
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        let text = fs::read_to_string(&file).unwrap();
        assert!(text.starts_with(ARMOR_HEADER), "not armored: {text}");
        assert!(text
            .trim_end()
            .ends_with("-----END AGE ENCRYPTED FILE-----"));
        assert!(!text.contains("gitlab-inst") && !text.contains("oauth-secret"));
    }
    assert_eq!(mode(&r.secrets_dir()), 0o700);
    assert_eq!(mode(&r.key_file()), 0o600);
    // Only the seven secrets and the lock: no temporary file left behind.
    let mut expected: Vec<String> = SCOPES
        .iter()
        .map(|(s, _)| format!("{}.yaml.age", s.replace('-', "_")))
        .collect();
    expected.push(".lock".into());
    expected.sort();
    assert_eq!(dir_entries(&r.secrets_dir()), expected);
    assert_eq!(dir_entries(&r.path("etc/toolctl")), ["secrets.key"]);
}

#[test]
fn rewriting_a_secret_replaces_it() {
    let r = populated();
    let new = "user_name: 'other'\npassword: '456'\n";
    r.write_secret("smtp", new.as_bytes());
    assert_eq!(r.show_secret("smtp"), new.as_bytes());
    assert_eq!(mode(&r.secret_file("smtp")), 0o600);
    assert_eq!(
        dir_entries(&r.secrets_dir()),
        [".lock", "mailroom.yaml.age", "smtp.yaml.age"]
    );
}

#[test]
fn init_creates_the_key_once() {
    let r = TestRoot::new();
    let out = r.toolctl(["secrets", "init"]).run();
    out.assert_code(0);
    let key = r.key_file();
    assert_eq!(mode(&key), 0o600);
    let public = out.stdout_str();
    assert_eq!(
        public.trim(),
        age_public_key(&key),
        "init printed another public key"
    );
    assert_eq!(
        public,
        format!("{}\n", public.trim()),
        "stdout holds only the key"
    );
    assert!(public.starts_with("age1"));
    let text = fs::read_to_string(&key).unwrap();
    assert!(
        text.contains(&format!("# public key: {}", public.trim())),
        "{text}"
    );
    assert!(text.contains("AGE-SECRET-KEY-1"));
    assert!(r.secrets_dir().is_dir());
    assert_eq!(mode(&r.secrets_dir()), 0o700);

    let before = r.snapshot();
    let again = r.toolctl(["secrets", "init"]).run();
    again.assert_code(0);
    assert_eq!(again.stdout_str(), public);
    assert!(again.stderr.contains("left as it is"), "{again}");
    before.assert_unchanged(&r.snapshot(), &again);
}

// ---------------------------------------------------------------------------------------
// 2. age interoperability
// ---------------------------------------------------------------------------------------

#[test]
fn the_age_cli_decrypts_our_files() {
    let r = populated();
    for scope in ["smtp", "mailroom"] {
        let plain = age_decrypt(&r.key_file(), &r.secret_file(scope))
            .unwrap_or_else(|e| panic!("age -d failed on {scope}: {e}"));
        assert_eq!(plain, sample(scope).as_bytes());
    }
}

#[test]
fn we_read_files_the_age_cli_wrote() {
    let r = TestRoot::new();
    let public = r.init();
    for (scope, yaml) in [
        ("smtp", sample("smtp")),
        ("mattermost", sample("mattermost")),
    ] {
        let file = r.secret_file(scope);
        age_encrypt_armored(&public, yaml.as_bytes(), &file);
        assert!(fs::read_to_string(&file).unwrap().starts_with(ARMOR_HEADER));
        assert_eq!(r.show_secret(scope), yaml.as_bytes());
    }
    // A binary (unarmored) age file is read too.
    let file = r.secret_file("mailroom");
    let out = run_tool(
        "age",
        &[
            OsStr::new("-r"),
            OsStr::new(&public),
            OsStr::new("-o"),
            file.as_os_str(),
        ],
        Some(sample("mailroom").as_bytes()),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(r.show_secret("mailroom"), sample("mailroom").as_bytes());
}

#[test]
fn extra_recipients_from_settings_can_decrypt() {
    let r = TestRoot::new();
    r.init();
    let other_key = r.aux().join("other.key");
    let other = age_keygen(&other_key);
    fs::write(
        r.config_file(),
        format!("[secrets]\nrecipients = [\"{other}\"]\n"),
    )
    .unwrap();
    r.write_secret("smtp", sample("smtp").as_bytes());
    let file = r.secret_file("smtp");
    assert_eq!(
        age_decrypt(&other_key, &file).unwrap(),
        sample("smtp").as_bytes()
    );
    assert_eq!(
        age_decrypt(&r.key_file(), &file).unwrap(),
        sample("smtp").as_bytes()
    );
    // A key that is neither ours nor a recipient does not decrypt it.
    let stranger = r.aux().join("stranger.key");
    age_keygen(&stranger);
    assert!(age_decrypt(&stranger, &file).is_err());
}

#[test]
fn an_invalid_recipient_in_settings_is_refused() {
    let r = populated();
    fs::write(
        r.config_file(),
        "[secrets]\nrecipients = [\"age1notakey\"]\n",
    )
    .unwrap();
    let out = assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "write"])
                .stdin(sample("smtp"))
                .run()
        },
        "invalid age recipient",
        &["age-keygen -y"],
    );
    assert!(out.stderr.contains("toolctl.toml:2"), "{out}");
}

// ---------------------------------------------------------------------------------------
// 3. Bad input: error + hint, exit 2, every file as it was
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_yaml_is_refused() {
    assert_write_refused(
        b"user_name: 'gitlab-inst'\npassword: '123\n",
        "not valid YAML",
        &["fix the YAML"],
    );
}

#[test]
fn a_list_is_refused() {
    assert_write_refused(b"- user_name\n- password\n", "a list", &["`password`"]);
}

#[test]
fn a_scalar_is_refused() {
    assert_write_refused(b"gitlab-inst\n", "a single value", &["`user_name`"]);
}

#[test]
fn an_unknown_key_is_refused_naming_the_closest() {
    let out = assert_write_refused(
        b"user_name: 'gitlab-inst'\npasword: '123'\n",
        "unknown key `pasword`",
        &["did you mean `password`"],
    );
    assert!(out.stderr.contains("smtp"), "{out}");
}

#[test]
fn a_number_is_refused_with_the_hint_to_quote_it() {
    assert_write_refused(
        b"password: 0123\n",
        "`password` is a number",
        &["quote", "'"],
    );
}

#[test]
fn a_boolean_is_refused() {
    assert_write_refused(b"password: yes\n", "`password` is a boolean", &["quote"]);
}

#[test]
fn empty_stdin_is_refused() {
    assert_write_refused(b"", "empty", &["user_name"]);
}

#[test]
fn only_comments_are_refused() {
    assert_write_refused(b"# user_name: 'x'\n", "no keys", &["user_name"]);
}

#[test]
fn more_than_one_mebibyte_is_refused() {
    let mut big = b"password: '".to_vec();
    big.resize(2 * 1024 * 1024, b'a');
    big.extend_from_slice(b"'\n");
    assert_write_refused(&big, "larger than 1 MiB", &["right file"]);
    // One byte over the limit is over the limit.
    let mut edge = b"password: '".to_vec();
    edge.resize(1024 * 1024 - 1, b'a');
    edge.extend_from_slice(b"'\n");
    assert_eq!(edge.len(), 1024 * 1024 + 1);
    assert_write_refused(&edge, "larger than 1 MiB", &["right file"]);
}

#[test]
fn exactly_one_mebibyte_is_accepted() {
    let r = TestRoot::new();
    let mut yaml = b"password: '".to_vec();
    yaml.resize(1024 * 1024 - 2, b'a');
    yaml.extend_from_slice(b"'\n");
    assert_eq!(yaml.len(), 1024 * 1024);
    r.write_secret("smtp", &yaml);
    assert_eq!(r.show_secret("smtp"), yaml);
}

#[test]
fn non_utf8_is_refused() {
    assert_write_refused(b"password: '\xff\xfe'\n", "not UTF-8", &["UTF-8"]);
}

#[test]
fn bad_input_on_a_fresh_root_creates_nothing() {
    let r = TestRoot::new();
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "write"])
                .stdin("pasword: 'x'\n")
                .run()
        },
        "unknown key",
        &["password"],
    );
    assert!(r.snapshot().0.is_empty(), "{:?}", r.snapshot().paths());
}

#[test]
fn show_of_a_missing_secret_names_edit_and_write() {
    let r = populated();
    assert_refused(
        &r,
        || r.toolctl(["mattermost", "secret", "show"]).run(),
        "there is no mattermost secret",
        &[
            "toolctl mattermost secret edit",
            "toolctl mattermost secret write",
        ],
    );
}

/// Replaces the root's key by another age-keygen key (0600).
fn swap_in_another_key(r: &TestRoot) {
    fs::remove_file(r.key_file()).unwrap();
    age_keygen(&r.key_file());
}

#[test]
fn the_wrong_key_is_refused() {
    let r = populated();
    swap_in_another_key(&r);
    assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "show"]).run(),
        "wrong key",
        &["secret write"],
    );
    // `edit` refuses before any editor starts.
    let ed = r.script("ed.sh", &format!("touch {}/ran", r.aux().display()));
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run()
        },
        "wrong key",
        &["secret write"],
    );
    assert!(!r.aux().join("ran").exists(), "the editor ran");
}

#[test]
fn a_corrupted_file_is_refused() {
    let r = populated();
    flip_middle(&r.secret_file("smtp"));
    assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "show"]).run(),
        "cannot decrypt",
        &["toolctl smtp secret write"],
    );
}

#[test]
fn a_truncated_file_is_refused() {
    let r = populated();
    truncate_half(&r.secret_file("smtp"));
    let out = assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "show"]).run(),
        "damaged or truncated",
        &["restore the file", "toolctl smtp secret write"],
    );
    assert!(!out.stderr.contains("wrong key"), "{out}");
}

#[test]
fn a_truncated_key_file_is_refused() {
    let r = populated();
    let key = fs::read(r.key_file()).unwrap();
    fs::write(r.key_file(), &key[..key.len() - 20]).unwrap();
    // What is left of the private key must not be quoted back either.
    let text = String::from_utf8(key).unwrap();
    let secret_line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    for args in [["smtp", "secret", "show"], ["smtp", "secret", "write"]] {
        let out = assert_refused(
            &r,
            || r.toolctl(args).stdin(sample("smtp")).run(),
            "not a valid age identity file",
            &["restore it"],
        );
        assert!(!out.stderr.contains(&secret_line[16..40]), "{out}");
    }
}

#[test]
fn a_key_open_to_others_is_refused_naming_the_real_bits() {
    let r = populated();
    for (mode_bits, who) in [
        (0o640, "group can read (mode 0640)"),
        (0o620, "group can write (mode 0620)"),
        (0o602, "others can write (mode 0602)"),
        (0o644, "group can read, others can read (mode 0644)"),
        (0o660, "group can read and write (mode 0660)"),
    ] {
        chmod(&r.key_file(), mode_bits);
        for args in [
            ["smtp", "secret", "show"],
            ["smtp", "secret", "write"],
            ["secrets", "rekey", "--new-key"],
        ] {
            let out = assert_refused(
                &r,
                || r.toolctl(args).stdin(sample("smtp")).run(),
                who,
                &["chmod 600"],
            );
            assert!(!out.stderr.contains("readable by group or others"), "{out}");
        }
    }
}

#[test]
fn a_missing_key_with_existing_secrets_is_an_error_not_a_new_key() {
    let r = populated();
    fs::remove_file(r.key_file()).unwrap();
    let ed = r.script("ed.sh", &format!("touch {}/ran", r.aux().display()));
    for (args, stdin) in [
        (vec!["smtp", "secret", "write"], sample("smtp")),
        (vec!["mattermost", "secret", "write"], sample("mattermost")),
        (vec!["mattermost", "secret", "edit"], ""),
        (vec!["smtp", "secret", "show"], ""),
    ] {
        assert_refused(
            &r,
            || r.toolctl(&args).stdin(stdin).env("EDITOR", &ed).run(),
            "secrets.key` is missing",
            &["restore the key"],
        );
    }
    assert!(!r.key_file().exists());
    assert!(!r.aux().join("ran").exists(), "the editor ran");
}

/// Makes the root's parent directories traversable by `nobody` and gives it the key, so
/// that the only thing it lacks is write access to the root-owned 0700 secrets directory.
fn hand_the_key_to_nobody(r: &TestRoot) {
    for dir in ["etc", "etc/toolctl", "var", "var/opt", "var/opt/toolctl"] {
        chmod(&r.path(dir), 0o755);
    }
    let out = run_tool(
        "chown",
        &[OsStr::new("nobody"), r.key_file().as_os_str()],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    chmod(&r.key_file(), 0o600);
    assert_eq!(mode(&r.secrets_dir()), 0o700);
}

#[test]
fn no_write_permission_hints_at_sudo() {
    let r = populated();
    hand_the_key_to_nobody(&r);
    let ed = r.script("ed.sh", "exit 0");
    let out = assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "write"])
                .stdin("user_name: 'x'\npassword: 'y'\n")
                .run_as_nobody()
                .run()
        },
        "Permission denied",
        &["sudo"],
    );
    assert!(
        out.stderr.contains(&r.secrets_dir().display().to_string()),
        "{out}"
    );
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run_as_nobody()
                .run()
        },
        "Permission denied",
        &["sudo"],
    );
    // A secret that exists but cannot be read is not reported as missing.
    let out = assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "show"]).run_as_nobody().run(),
        "Permission denied",
        &["sudo"],
    );
    assert!(!out.stderr.contains("no smtp secret"), "{out}");
}

// ---------------------------------------------------------------------------------------
// 4. No secret in any message or argv
// ---------------------------------------------------------------------------------------

#[track_caller]
fn assert_no_leak(out: &Outcome) {
    assert!(
        !out.stderr.contains(SECRET) && !out.stdout_str().contains(SECRET),
        "the secret value leaked\n{out}"
    );
}

#[test]
fn refused_input_never_echoes_the_value() {
    let inputs = [
        // unknown keys holding the value
        format!("pasword: '{SECRET}'\n"),
        format!("user_name: 'x'\npassword_2: {SECRET}\n"),
        // non-string values
        format!("password: [{SECRET}]\n"),
        format!("password: {{a: {SECRET}}}\n"),
        format!("password: !!binary {SECRET}\n"),
        format!("password:\n  - {SECRET}\n"),
        // invalid YAML around it
        format!("password: '{SECRET}\n"),
        format!("password: \"{SECRET}\n"),
        format!("password: {SECRET}: x\n"),
        format!("password: '{SECRET}' trailing\n"),
        format!("user_name: x\npassword {SECRET}\n"),
        format!("user_name: x\npassword:{SECRET}\n"),
        format!("password: [{SECRET}\n"),
        format!("password: {SECRET}\n\tuser_name: x\n"),
        // a missing space or colon turns the whole line into one key
        format!("password:{SECRET}:\n"),
        format!("user_name: x\npassword {SECRET}:\n"),
        // duplicates, several documents
        format!("password: '{SECRET}'\npassword: '{SECRET}'\n"),
        format!("password: '{SECRET}'\n---\npassword: 'x'\n"),
    ];
    let r = populated();
    for input in &inputs {
        let before = r.snapshot();
        let out = r
            .toolctl(["smtp", "secret", "write"])
            .stdin(input.as_str())
            .run();
        out.assert_code(2);
        assert!(out.stderr.contains("hint:"), "{out}");
        assert_no_leak(&out);
        before.assert_unchanged(&r.snapshot(), &out);
    }
}

#[test]
fn decryption_failures_never_echo_the_value() {
    let r = TestRoot::new();
    r.init();
    let yaml = format!("user_name: 'gitlab-inst'\npassword: '{SECRET}'\n");
    r.write_secret("smtp", yaml.as_bytes());
    let ed = r.script("ed.sh", "exit 0");
    swap_in_another_key(&r);
    for args in [
        vec!["smtp", "secret", "show"],
        vec!["smtp", "secret", "edit"],
        vec!["secrets", "rekey"],
        vec!["secrets", "status"],
        vec!["secrets", "status", "--output-format", "json"],
        vec!["-v", "smtp", "secret", "show"],
    ] {
        let out = r.toolctl(&args).env("EDITOR", &ed).run();
        assert_ne!(out.code, Some(0), "{out}");
        assert_no_leak(&out);
    }
}

#[test]
fn the_editor_argv_never_holds_the_value() {
    let r = populated();
    let yaml = format!("user_name: 'gitlab-inst'\npassword: '{SECRET}'\n");
    r.write_secret("smtp", yaml.as_bytes());
    let log = r.aux().join("argv");
    // Records its argv and the file's content (to prove it saw the secret in the file).
    let ed = r.script(
        "ed.sh",
        &format!(
            "for a in \"$@\"; do printf '%s\\n' \"$a\" >> {log}; f=\"$a\"; done\n\
             cp \"$f\" {seen}\n\
             printf 'user_name: x\\npassword: {SECRET}: y\\n' > \"$f\"",
            log = log.display(),
            seen = r.aux().join("seen").display(),
        ),
    );
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_error("not valid YAML", &["fix the YAML"]);
    assert_no_leak(&out);
    let argv = fs::read_to_string(&log).unwrap();
    assert!(
        !argv.contains(SECRET),
        "the editor's argv held the secret: {argv}"
    );
    assert_eq!(argv.lines().count(), 1, "{argv}");
    assert_eq!(fs::read_to_string(r.aux().join("seen")).unwrap(), yaml);
}

// ---------------------------------------------------------------------------------------
// 5. secret edit
// ---------------------------------------------------------------------------------------

/// The shell snippet that sets `$f` to the editor's last argument (the file).
const LAST_ARG: &str = "f=''; for a in \"$@\"; do f=\"$a\"; done";

/// An editor script that records what it was given into `aux/`: its argv (`argv`), the
/// file's initial content (`initial`), path (`path`), mode (`file_mode`), its directory's
/// mode (`dir_mode`) and file system type (`fs`), then runs `then`.
fn recording_editor(r: &TestRoot, name: &str, then: &str) -> PathBuf {
    let aux = r.aux().display().to_string();
    r.script(
        name,
        &format!(
            "{LAST_ARG}\n\
             for a in \"$@\"; do printf '%s\\n' \"$a\"; done > {aux}/argv\n\
             cp \"$f\" {aux}/initial\n\
             stat -c %a \"$f\" > {aux}/file_mode\n\
             stat -c %a \"$(dirname \"$f\")\" > {aux}/dir_mode\n\
             stat -f -c %T \"$(dirname \"$f\")\" > {aux}/fs\n\
             printf '%s' \"$f\" > {aux}/path.tmp && mv {aux}/path.tmp {aux}/path\n\
             {then}"
        ),
    )
}

fn recorded(r: &TestRoot, what: &str) -> String {
    fs::read_to_string(r.aux().join(what))
        .unwrap_or_else(|e| panic!("the editor did not record {what}: {e}"))
        .trim_end()
        .to_string()
}

#[test]
fn edit_of_a_new_scope_starts_from_the_template_and_unchanged_writes_nothing() {
    let r = populated();
    let ed = recording_editor(&r, "ed.sh", "exit 0");
    let before = r.snapshot();
    let out = r
        .toolctl(["incoming-email", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("No changes; nothing written."), "{out}");
    before.assert_unchanged(&r.snapshot(), &out);
    let initial = recorded(&r, "initial");
    for key in ["# user:", "# password:", "# client_secret:"] {
        assert!(initial.contains(key), "template lacks {key}:\n{initial}");
    }
    assert!(!r.secret_file("incoming-email").exists());
}

#[test]
fn edit_on_a_fresh_root_starts_from_the_smtp_template() {
    let r = TestRoot::new();
    let ed = recording_editor(&r, "ed.sh", "exit 0");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("No changes; nothing written."), "{out}");
    let initial = recorded(&r, "initial");
    assert!(initial.contains("# user_name:"), "{initial}");
    assert!(initial.contains("# password:"), "{initial}");
    assert!(
        !r.secret_file("smtp").exists(),
        "an unchanged template was saved"
    );
}

#[test]
fn edit_saves_a_valid_change() {
    let r = populated();
    let ed = recording_editor(&r, "ed.sh", "sed -i \"s/'123'/'456'/\" \"$f\"");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("File encrypted and saved."), "{out}");
    // The editor was given the current secret, and the change is what is stored now.
    assert_eq!(recorded(&r, "initial"), sample("smtp").trim_end());
    assert_eq!(
        r.show_secret("smtp"),
        b"user_name: 'gitlab-inst'\npassword: '456'\n"
    );
    assert_eq!(mode(&r.secret_file("smtp")), 0o600);
    assert_eq!(
        dir_entries(&r.secrets_dir()),
        [".lock", "mailroom.yaml.age", "smtp.yaml.age"]
    );
}

#[test]
fn edit_creates_the_key_on_a_fresh_root() {
    let r = TestRoot::new();
    let ed = r.script(
        "ed.sh",
        &format!("{LAST_ARG}\nprintf \"webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\\n\" > \"$f\""),
    );
    let out = r
        .toolctl(["mailroom", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("Created the key"), "{out}");
    assert_eq!(mode(&r.key_file()), 0o600);
    assert_eq!(
        r.show_secret("mailroom"),
        b"webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n"
    );
}

#[test]
fn edit_refuses_invalid_content() {
    let r = populated();
    let ed = r.script(
        "ed.sh",
        &format!("{LAST_ARG}\nprintf \"user_name: 'x'\\npasword: 'y'\\n\" > \"$f\""),
    );
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run()
        },
        "unknown key `pasword`",
        &["did you mean `password`"],
    );
    let ed = r.script(
        "ed2.sh",
        &format!("{LAST_ARG}\nprintf 'password: 0123\\n' > \"$f\""),
    );
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run()
        },
        "is a number",
        &["quote"],
    );
    let ed = r.script("ed3.sh", &format!("{LAST_ARG}\n: > \"$f\""));
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run()
        },
        "empty",
        &["user_name"],
    );
}

#[test]
fn an_editor_that_fails_saves_nothing() {
    let r = populated();
    let ed = r.script(
        "ed.sh",
        &format!("{LAST_ARG}\nprintf \"user_name: 'x'\\npassword: 'y'\\n\" > \"$f\"\nexit 1"),
    );
    let out = assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", &ed)
                .run()
        },
        "exited with",
        &["quit the editor normally"],
    );
    assert!(out.stderr.contains("nothing was saved"), "{out}");
    assert_eq!(r.show_secret("smtp"), sample("smtp").as_bytes());
}

#[test]
fn an_editor_that_cannot_start_saves_nothing() {
    let r = populated();
    assert_refused(
        &r,
        || {
            r.toolctl(["smtp", "secret", "edit"])
                .env("EDITOR", "/nonexistent/editor --wait")
                .run()
        },
        "cannot start the editor `/nonexistent/editor`",
        &["EDITOR"],
    );
}

#[test]
fn visual_wins_over_editor() {
    let r = populated();
    let aux = r.aux().display().to_string();
    let visual = r.script(
        "visual.sh",
        &format!(
            "{LAST_ARG}\necho visual >> {aux}/who\nprintf \"user_name: 'v'\\npassword: 'v'\\n\" > \"$f\""
        ),
    );
    let editor = r.script("editor.sh", &format!("echo editor >> {aux}/who\nexit 1"));
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("VISUAL", &visual)
        .env("EDITOR", &editor)
        .run();
    out.assert_code(0);
    assert_eq!(recorded(&r, "who"), "visual");
    assert_eq!(r.show_secret("smtp"), b"user_name: 'v'\npassword: 'v'\n");

    // An empty VISUAL falls through to EDITOR.
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("VISUAL", "")
        .env("EDITOR", &editor)
        .run();
    out.assert_code(2);
    assert_eq!(recorded(&r, "who"), "visual\neditor");
}

#[test]
fn an_editor_command_with_arguments_works() {
    let r = populated();
    let ed = recording_editor(
        &r,
        "ed.sh",
        "printf \"user_name: 'a'\\npassword: 'b'\\n\" > \"$f\"",
    );
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", format!("sh {} --wait", ed.display()))
        .run();
    out.assert_code(0);
    let argv = recorded(&r, "argv");
    let argv: Vec<&str> = argv.lines().collect();
    assert_eq!(argv.len(), 2, "{argv:?}");
    assert_eq!(argv[0], "--wait");
    assert_eq!(argv[1], recorded(&r, "path"));
    assert_eq!(r.show_secret("smtp"), b"user_name: 'a'\npassword: 'b'\n");
}

/// Asserts the recorded copy lived as a 0600 file in a fresh 0700 `toolctl-edit-*`
/// directory on a tmpfs directly under `base`, and that the directory is gone now.
#[track_caller]
fn assert_private_copy_was_removed(r: &TestRoot, base: &Path) {
    let path = PathBuf::from(recorded(r, "path"));
    let dir = path.parent().unwrap();
    assert_eq!(
        dir.parent().unwrap(),
        base,
        "the copy was at {}",
        path.display()
    );
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("toolctl-edit-"),
        "{}",
        dir.display()
    );
    assert_eq!(recorded(r, "dir_mode"), "700");
    assert_eq!(recorded(r, "file_mode"), "600");
    assert_eq!(recorded(r, "fs"), "tmpfs");
    assert!(
        !dir.exists(),
        "the private directory {} is still there",
        dir.display()
    );
}

#[test]
fn the_plaintext_copy_is_private_on_a_tmpfs_and_removed() {
    let r = populated();
    let ed = recording_editor(&r, "ed.sh", "sed -i \"s/'123'/'789'/\" \"$f\"");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert_private_copy_was_removed(&r, Path::new("/dev/shm"));

    // A failing editor: removed as well.
    let ed = recording_editor(&r, "ed2.sh", "exit 3");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(2);
    assert_private_copy_was_removed(&r, Path::new("/dev/shm"));

    // Invalid content: removed as well.
    let ed = recording_editor(&r, "ed3.sh", "echo '- a' > \"$f\"");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(2);
    assert_private_copy_was_removed(&r, Path::new("/dev/shm"));

    // An XDG_RUNTIME_DIR that does not exist: /dev/shm.
    let ed = recording_editor(&r, "ed4.sh", "exit 0");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", "/nonexistent/run/user/0")
        .run();
    out.assert_code(0);
    assert_private_copy_was_removed(&r, Path::new("/dev/shm"));
}

#[test]
fn the_plaintext_copy_goes_to_xdg_runtime_dir_on_a_tmpfs() {
    let r = populated();
    let runtime = tempfile::Builder::new()
        .prefix("toolctl-it-run-")
        .tempdir_in("/dev/shm")
        .unwrap();
    // As pam_systemd makes it: the user's own, 0700 (anything else is passed over).
    chmod(runtime.path(), 0o700);
    let ed = recording_editor(&r, "ed.sh", "sed -i \"s/'123'/'321'/\" \"$f\"");
    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .run();
    out.assert_code(0);
    assert_private_copy_was_removed(&r, runtime.path());
    assert!(fs::read_dir(runtime.path()).unwrap().next().is_none());
    assert_eq!(
        r.show_secret("smtp"),
        b"user_name: 'gitlab-inst'\npassword: '321'\n"
    );
}

/// Starts `toolctl smtp secret edit` with an editor that records its file and then execs
/// `sleep SECS`; returns once the editor is running. stderr goes to `aux/stderr`.
fn start_sleeping_edit(r: &TestRoot, scope: &str, secs: u32) -> Child {
    let ed = recording_editor(r, "sleepy.sh", &format!("exec sleep {secs}"));
    let stderr = fs::File::create(r.aux().join("stderr")).unwrap();
    let mut cmd = r
        .toolctl([scope, "secret", "edit"])
        .env("EDITOR", &ed)
        .command();
    cmd.stdout(Stdio::null()).stderr(stderr);
    let mut child = cmd.spawn().expect("spawn toolctl");
    if !wait_for(Duration::from_secs(15), || r.aux().join("path").exists()) {
        let _ = child.kill();
        panic!(
            "the editor never started: {}",
            fs::read_to_string(r.aux().join("stderr")).unwrap()
        );
    }
    // Let the script reach its `exec sleep`.
    std::thread::sleep(Duration::from_millis(100));
    child
}

/// Waits up to `timeout` for `child` to exit; kills it and fails the test otherwise.
fn wait_exit(child: &mut Child, timeout: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("toolctl did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_edit(signal: libc::c_int) {
    let r = populated();
    let before = r.snapshot();
    let mut child = start_sleeping_edit(&r, "smtp", 30);
    let sent = Instant::now();
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let code = wait_exit(&mut child, Duration::from_secs(5));
    let stderr = fs::read_to_string(r.aux().join("stderr")).unwrap();
    assert_eq!(
        code,
        Some(130),
        "exit status after signal {signal}\n{stderr}"
    );
    assert!(sent.elapsed() < Duration::from_secs(5));
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("nothing was saved"), "{stderr}");
    assert_private_copy_was_removed(&r, Path::new("/dev/shm"));
    before.assert_unchanged(&r.snapshot(), &stderr);
}

#[test]
fn sigterm_during_edit_exits_130_and_cleans_up() {
    interrupt_edit(libc::SIGTERM);
}

#[test]
fn sigint_during_edit_exits_130_and_cleans_up() {
    interrupt_edit(libc::SIGINT);
}

// ---------------------------------------------------------------------------------------
// 6. The writers' lock
// ---------------------------------------------------------------------------------------

#[test]
fn a_second_writer_gives_up_naming_the_lock() {
    let r = populated();
    let mut edit = start_sleeping_edit(&r, "mailroom", 8);
    let before = r.snapshot();
    let start = Instant::now();
    let out = r
        .toolctl(["smtp", "secret", "write"])
        .stdin("user_name: 'x'\npassword: 'y'\n")
        .run();
    let waited = start.elapsed();
    // Stop the editor session before asserting, so a failure does not leave it behind.
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    unsafe { libc::kill(edit.id() as libc::pid_t, libc::SIGTERM) };
    let edit_code = wait_exit(&mut edit, Duration::from_secs(5));

    let lock = r.secrets_dir().join(".lock");
    out.assert_error(
        &format!("`{}`", lock.display()),
        &["wait for the other command"],
    );
    assert!(out.stderr.contains("locked"), "{out}");
    assert!(
        waited >= Duration::from_millis(4500) && waited < Duration::from_millis(7900),
        "the second writer gave up after {waited:?}"
    );
    before.assert_unchanged(&r.snapshot(), &out);
    assert_eq!(edit_code, Some(130));
    assert_eq!(r.show_secret("smtp"), sample("smtp").as_bytes());
}

// ---------------------------------------------------------------------------------------
// 7. secrets status
// ---------------------------------------------------------------------------------------

fn status_json(r: &TestRoot, expect_code: i32) -> Vec<serde_json::Value> {
    let out = r
        .toolctl(["secrets", "status", "--output-format", "json"])
        .run();
    out.assert_code(expect_code);
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e})\n{out}"));
    doc["secrets"].as_array().expect("secrets[]").clone()
}

#[test]
fn status_lists_every_scope() {
    let r = populated();
    let out = r.toolctl(["secrets", "status"]).run();
    out.assert_code(0);
    let table = out.stdout_str();
    for (scope, _) in SCOPES {
        assert!(
            table.lines().any(|l| l.contains(&format!(" {scope} "))),
            "no row for {scope}:\n{table}"
        );
        assert!(table.contains(&r.secret_file(scope).display().to_string()));
    }

    let rows = status_json(&r, 0);
    let scopes: Vec<&str> = rows.iter().map(|s| s["scope"].as_str().unwrap()).collect();
    assert_eq!(scopes, SCOPES.map(|(s, _)| s));
    for row in &rows {
        let present = matches!(row["scope"].as_str(), Some("smtp" | "mailroom"));
        assert_eq!(row["present"], serde_json::json!(present), "{row}");
        let decrypts = if present {
            serde_json::json!(true)
        } else {
            serde_json::Value::Null
        };
        assert_eq!(row["decrypts"], decrypts, "{row}");
    }
}

#[test]
fn status_reports_a_damaged_file() {
    let r = populated();
    r.write_secret("mattermost", sample("mattermost").as_bytes());
    truncate_half(&r.secret_file("mattermost"));
    let before = r.snapshot();

    let out = r.toolctl(["secrets", "status"]).run();
    out.assert_code(1);
    let row = out
        .stdout_str()
        .lines()
        .find(|l| l.contains(" mattermost "))
        .unwrap_or_else(|| panic!("no mattermost row\n{out}"))
        .to_string();
    assert!(row.contains("no (damaged)"), "{row}");

    let rows = status_json(&r, 1);
    for row in &rows {
        let expected = match row["scope"].as_str().unwrap() {
            "mattermost" => serde_json::json!(false),
            "smtp" | "mailroom" => serde_json::json!(true),
            _ => serde_json::Value::Null,
        };
        assert_eq!(row["decrypts"], expected, "{row}");
    }
    before.assert_unchanged(&r.snapshot(), &out);
}

#[test]
fn status_reports_the_wrong_key() {
    let r = populated();
    swap_in_another_key(&r);
    let rows = status_json(&r, 1);
    let smtp = rows.iter().find(|s| s["scope"] == "smtp").unwrap();
    assert_eq!(smtp["decrypts"], serde_json::json!(false));
    assert_eq!(smtp["problem"], serde_json::json!("wrong key"));
}

// ---------------------------------------------------------------------------------------
// 8. secrets rekey
// ---------------------------------------------------------------------------------------

#[test]
fn rekey_encrypts_to_newly_added_recipients() {
    let r = populated();
    r.write_secret("mattermost", sample("mattermost").as_bytes());
    let other_key = r.aux().join("other.key");
    let other = age_keygen(&other_key);
    let present = ["smtp", "mailroom", "mattermost"];
    for scope in present {
        assert!(age_decrypt(&other_key, &r.secret_file(scope)).is_err());
    }
    fs::write(
        r.config_file(),
        format!("[secrets]\nrecipients = [\"{other}\"]\n"),
    )
    .unwrap();
    let key_before = fs::read(r.key_file()).unwrap();

    let out = r.toolctl(["secrets", "rekey"]).run();
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("3 secret(s) re-encrypted to 2 recipient(s)"),
        "{out}"
    );
    for scope in present {
        let file = r.secret_file(scope);
        assert_eq!(
            age_decrypt(&other_key, &file).unwrap(),
            sample(scope).as_bytes()
        );
        assert_eq!(
            age_decrypt(&r.key_file(), &file).unwrap(),
            sample(scope).as_bytes()
        );
        assert_eq!(mode(&file), 0o600);
        assert!(fs::read_to_string(&file).unwrap().starts_with(ARMOR_HEADER));
        assert_eq!(r.show_secret(scope), sample(scope).as_bytes());
    }
    assert_eq!(
        fs::read(r.key_file()).unwrap(),
        key_before,
        "plain rekey changed the key"
    );
    assert_eq!(
        dir_entries(&r.secrets_dir()),
        [
            ".lock",
            "mailroom.yaml.age",
            "mattermost.yaml.age",
            "smtp.yaml.age"
        ]
    );
    assert_eq!(
        dir_entries(&r.path("etc/toolctl")),
        ["secrets.key", "toolctl.toml"]
    );
}

#[test]
fn rekey_is_all_or_nothing() {
    let r = populated();
    r.write_secret("mattermost", sample("mattermost").as_bytes());
    let other = age_keygen(&r.aux().join("other.key"));
    fs::write(
        r.config_file(),
        format!("[secrets]\nrecipients = [\"{other}\"]\n"),
    )
    .unwrap();
    truncate_half(&r.secret_file("mailroom"));
    for args in [
        vec!["secrets", "rekey"],
        vec!["secrets", "rekey", "--new-key"],
    ] {
        let out = assert_refused(
            &r,
            || r.toolctl(&args).run(),
            "nothing was changed",
            &["toolctl secrets rekey"],
        );
        assert!(out.stderr.contains("mailroom"), "{out}");
    }
    // And with the wrong key, nothing changes either.
    swap_in_another_key(&r);
    assert_refused(
        &r,
        || r.toolctl(["secrets", "rekey", "--new-key"]).run(),
        "nothing was changed",
        &["restore the right key"],
    );
}

#[test]
fn rekey_with_a_new_key_keeps_the_old_one() {
    let r = populated();
    r.write_secret("incoming-email", sample("incoming-email").as_bytes());
    let old_bytes = fs::read(r.key_file()).unwrap();
    let old_public = age_public_key(&r.key_file());
    let old_copy_elsewhere = r.aux().join("old.key");
    fs::copy(r.key_file(), &old_copy_elsewhere).unwrap();

    let out = r
        .toolctl(["secrets", "rekey", "--new-key", "--output-format", "json"])
        .run();
    out.assert_code(0);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let new_bytes = fs::read(r.key_file()).unwrap();
    assert_ne!(new_bytes, old_bytes);
    assert_eq!(mode(&r.key_file()), 0o600);
    let new_public = age_public_key(&r.key_file());
    assert_ne!(new_public, old_public);
    assert_eq!(doc["public_key"], serde_json::json!(new_public));

    let olds: Vec<String> = dir_entries(&r.path("etc/toolctl"))
        .into_iter()
        .filter(|n| n.starts_with("secrets.key.old-"))
        .collect();
    assert_eq!(olds.len(), 1, "{:?}", dir_entries(&r.path("etc/toolctl")));
    let old_copy = r.path("etc/toolctl").join(&olds[0]);
    assert_eq!(mode(&old_copy), 0o600);
    assert_eq!(fs::read(&old_copy).unwrap(), old_bytes);
    assert_eq!(doc["old_key"], serde_json::json!(old_copy));
    assert_eq!(
        dir_entries(&r.path("etc/toolctl")),
        ["secrets.key".to_string(), olds[0].clone()],
        "a staged key was left behind"
    );

    for scope in ["smtp", "mailroom", "incoming-email"] {
        let file = r.secret_file(scope);
        assert_eq!(
            age_decrypt(&r.key_file(), &file).unwrap(),
            sample(scope).as_bytes()
        );
        assert!(
            age_decrypt(&old_copy_elsewhere, &file).is_err(),
            "the old key still decrypts {scope}"
        );
        assert_eq!(mode(&file), 0o600);
        assert_eq!(r.show_secret(scope), sample(scope).as_bytes());
    }
    let rows = status_json(&r, 0);
    assert!(rows
        .iter()
        .all(|s| s["decrypts"] != serde_json::json!(false)));
}

#[test]
fn rekey_without_a_key_is_an_error() {
    let r = populated();
    fs::remove_file(r.key_file()).unwrap();
    assert_refused(
        &r,
        || r.toolctl(["secrets", "rekey", "--new-key"]).run(),
        "secrets.key` is missing",
        &["restore the key"],
    );
}

/// The snapshot itself: it must see modes and bytes, or every "unchanged" above is void.
#[test]
fn the_snapshot_sees_modes_and_bytes() {
    let r = populated();
    let before = r.snapshot();
    assert!(before
        .paths()
        .contains(&"var/opt/toolctl/secrets/smtp.yaml.age".to_string()));
    chmod(&r.secret_file("smtp"), 0o644);
    let after = r.snapshot();
    assert!(
        after.diff(&before).contains("0644"),
        "{}",
        before.diff(&after)
    );
    chmod(&r.secret_file("smtp"), 0o600);
    flip_middle(&r.secret_file("smtp"));
    assert!(!before.diff(&r.snapshot()).is_empty());
    let snapshot: Snapshot = r.snapshot();
    assert!(snapshot == r.snapshot());
}

#[test]
fn an_interrupted_key_rotation_leaves_every_secret_readable_and_rekey_finishes_it() {
    // The state a crash leaves between "secrets renamed into place" and "secrets.key.new
    // renamed over secrets.key": the files are encrypted to the staged key only.
    let r = populated();
    let staged = r.path("etc/toolctl/secrets.key.new");
    let staged_public = age_keygen(&staged);
    for scope in ["smtp", "mailroom"] {
        age_encrypt_armored(
            &staged_public,
            sample(scope).as_bytes(),
            &r.secret_file(scope),
        );
    }
    assert_eq!(r.show_secret("smtp"), sample("smtp").as_bytes());
    let out = r.toolctl(["secrets", "rekey"]).run();
    out.assert_code(0);
    assert!(out.stderr.contains("secrets.key.new"), "{out}");
    assert!(!staged.exists(), "the staged key was left behind");
    for scope in ["smtp", "mailroom"] {
        assert_eq!(
            age_decrypt(&r.key_file(), &r.secret_file(scope)).unwrap(),
            sample(scope).as_bytes(),
            "{scope} is not encrypted to the current key"
        );
    }
}

#[test]
fn on_a_terminal_invalid_content_offers_to_go_back_into_the_editor() {
    // A real terminal (tmux): the first save is invalid, toolctl asks, `y` reopens the
    // editor, the second save is valid and is stored.
    let r = TestRoot::new();
    let count = r.aux().join("count");
    let editor = r.script(
        "ed.sh",
        &format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}\n\
             if [ $n = 1 ]; then printf 'pasword: x\\n' > \"$1\"; else printf \"password: 'fixed'\\n\" > \"$1\"; fi",
            c = count.display()
        ),
    );
    let session = format!("toolctl-it-{}", std::process::id());
    let done = r.aux().join("done");
    let cmd = format!(
        "env -u XDG_RUNTIME_DIR NO_COLOR=1 EDITOR={} {} --root {} smtp secret edit; echo $? > {}",
        editor.display(),
        crate::harness::toolctl_bin().display(),
        r.root().display(),
        done.display()
    );
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .args(args)
            .status()
            .expect("tmux runs")
    };
    assert!(tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &cmd
    ])
    .success());
    let mut screen = String::new();
    let prompted = crate::harness::wait_for(Duration::from_secs(10), || {
        let out = std::process::Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &session])
            .output();
        screen = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        screen.contains("Go back into the editor?")
    });
    if !prompted {
        tmux(&["kill-session", "-t", &session]);
        panic!("no prompt on the terminal:\n{screen}");
    }
    assert!(screen.contains("did you mean `password`?"), "{screen}");
    tmux(&["send-keys", "-t", &session, "y"]);
    crate::harness::wait_for(Duration::from_secs(10), || {
        fs::read_to_string(&done).is_ok_and(|s| !s.trim().is_empty())
    });
    tmux(&["kill-session", "-t", &session]);
    assert_eq!(
        fs::read_to_string(&done).unwrap_or_default().trim(),
        "0",
        "toolctl did not succeed"
    );
    assert_eq!(
        fs::read_to_string(&count).unwrap().trim(),
        "2",
        "the editor was not reopened"
    );
    assert_eq!(r.show_secret("smtp"), b"password: 'fixed'\n");
}

// ---------------------------------------------------------------------------------------
// 9. Hostile files: FIFOs, devices, huge files, an open secrets directory, damaged headers
// ---------------------------------------------------------------------------------------

/// Every path under the root with its mode and, for regular files, its bytes; a FIFO is
/// recorded by kind (the harness's snapshot would block reading it).
fn tree(r: &TestRoot) -> Vec<(PathBuf, u32, Option<Vec<u8>>)> {
    use std::os::unix::fs::MetadataExt;
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, u32, Option<Vec<u8>>)>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = fs::symlink_metadata(&p).unwrap();
            let bytes = m.is_file().then(|| fs::read(&p).unwrap());
            out.push((p.clone(), m.mode(), bytes));
            if m.is_dir() {
                walk(&p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(r.root(), &mut out);
    out
}

/// Like [`assert_refused`], for a tree that holds a FIFO.
#[track_caller]
fn assert_refused_fifo_safe(
    r: &TestRoot,
    run: impl FnOnce() -> Outcome,
    error: &str,
    hints: &[&str],
) -> Outcome {
    let before = tree(r);
    let out = run();
    out.assert_error(error, hints);
    assert!(before == tree(r), "the tree changed\n{out}");
    out
}

/// Replaces `path` with a FIFO (mode 0600).
fn make_fifo(path: &Path) {
    let _ = fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Replaces `path` with a symlink to `/dev/zero`.
fn link_dev_zero(path: &Path) {
    let _ = fs::remove_file(path);
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

#[test]
fn a_fifo_or_a_device_as_the_key_is_refused_without_hanging() {
    for (make, kind) in [
        (make_fifo as fn(&Path), "named pipe (FIFO)"),
        (link_dev_zero, "character device"),
    ] {
        let r = populated();
        make(&r.key_file());
        for args in [
            vec!["smtp", "secret", "show"],
            vec!["smtp", "secret", "write"],
            vec!["secrets", "status"],
            vec!["secrets", "rekey", "--new-key"],
        ] {
            let start = Instant::now();
            let out = assert_refused_fifo_safe(
                &r,
                || r.toolctl(&args).stdin(sample("smtp")).run(),
                &format!("it is a {kind}, not a regular file"),
                &["replace"],
            );
            assert!(out.stderr.contains("secrets.key"), "{out}");
            assert!(start.elapsed() < Duration::from_secs(10), "{out}");
        }
    }
}

#[test]
fn a_fifo_or_a_device_as_a_secret_file_is_refused_without_hanging() {
    for (make, kind) in [
        (make_fifo as fn(&Path), "named pipe (FIFO)"),
        (link_dev_zero, "character device"),
    ] {
        let r = populated();
        make(&r.secret_file("mailroom"));
        for args in [vec!["mailroom", "secret", "show"], vec!["secrets", "rekey"]] {
            let out = assert_refused_fifo_safe(
                &r,
                || r.toolctl(&args).run(),
                &format!("it is a {kind}, not a regular file"),
                &[],
            );
            assert!(out.stderr.contains("mailroom.yaml.age"), "{out}");
        }
        // status reports it in its row (a check that says no), and does not hang either.
        let before = tree(&r);
        let out = r
            .toolctl(["secrets", "status", "--output-format", "json"])
            .run();
        out.assert_code(1);
        let row = out.json()["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == "mailroom")
            .unwrap()
            .clone();
        assert_eq!(row["decrypts"], serde_json::json!(false), "{row}");
        assert!(row["problem"].as_str().unwrap().contains(kind), "{row}");
        assert!(before == tree(&r), "{out}");
        // The other secrets still read.
        assert_eq!(r.show_secret("smtp"), sample("smtp").as_bytes());
    }
}

/// Runs toolctl and returns its outcome and its peak resident memory in KiB.
fn run_measuring_memory(r: &TestRoot, args: &[&str]) -> (Option<i32>, String, i64) {
    let report = r.aux().join("rss");
    let mut cmd = crate::harness::metered(&r.toolctl(args).command(), &report);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, to read its rusage
    let mut child = cmd.spawn().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let mut status = 0;
    // SAFETY: wait4(2) on our own unreaped child, with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Reaped by wait4 above; forget the handle so nothing waits on the pid again.
    std::mem::forget(child);
    (code, stderr, crate::harness::metered_peak_kib(&report))
}

#[test]
fn a_secret_file_over_two_mebibytes_is_damaged_and_memory_stays_bounded() {
    let r = populated();
    let file = r.secret_file("smtp");
    // A real 3 MiB armored age file (written by the age CLI), and a 200 MB one.
    let big = vec![b'a'; 3 * 1024 * 1024];
    age_encrypt_armored(&age_public_key(&r.key_file()), &big, &file);
    let before = r.snapshot();
    let (code, stderr, rss_3m) = run_measuring_memory(&r, &["smtp", "secret", "show"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    assert!(stderr.contains("larger than 2 MiB"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    before.assert_unchanged(&r.snapshot(), &stderr);

    let f = fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(200 * 1000 * 1000).unwrap();
    drop(f);
    let (code, stderr, rss_200m) = run_measuring_memory(&r, &["smtp", "secret", "show"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    println!("peak RSS refusing a 3 MiB secret: {rss_3m} KiB; a 200 MB one: {rss_200m} KiB");
    // Bounded by the cap, not by the file: far below the file's size.
    assert!(rss_200m < 64 * 1024, "{rss_200m} KiB");
    let rows = status_json(&r, 1);
    let smtp = rows.iter().find(|s| s["scope"] == "smtp").unwrap();
    assert!(
        smtp["problem"].as_str().unwrap().contains("damaged"),
        "{smtp}"
    );
}

#[test]
fn a_secrets_directory_open_to_others_is_refused() {
    for (mode_bits, what) in [
        (0o770, "is group-writable (mode 0770)"),
        (0o702, "is world-writable (mode 0702)"),
        (0o777, "is group- and world-writable (mode 0777)"),
    ] {
        let r = populated();
        chmod(&r.secrets_dir(), mode_bits);
        for args in [
            vec!["smtp", "secret", "show"],
            vec!["smtp", "secret", "write"],
            vec!["secrets", "status"],
            vec!["secrets", "rekey"],
        ] {
            assert_refused(
                &r,
                || r.toolctl(&args).stdin(sample("smtp")).run(),
                what,
                &["chmod 700", &r.secrets_dir().display().to_string()],
            );
        }
    }
}

#[test]
fn a_secrets_directory_owned_by_another_user_is_refused() {
    let r = populated();
    let out = run_tool(
        "chown",
        &[OsStr::new("nobody"), r.secrets_dir().as_os_str()],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    for args in [
        vec!["smtp", "secret", "show"],
        vec!["smtp", "secret", "write"],
        vec!["secrets", "status"],
        vec!["secrets", "rekey", "--new-key"],
    ] {
        assert_refused(
            &r,
            || r.toolctl(&args).stdin(sample("smtp")).run(),
            "is owned by nobody (uid 65534), not by you or root",
            &["chown root", &r.secrets_dir().display().to_string()],
        );
    }
}

/// Flips one bit of the de-armored byte at `offset` from the start of `needle` in the
/// file's header, and writes it back armored.
fn flip_header_byte(path: &Path, needle: &[u8], offset: usize) {
    use base64::Engine;
    let text = fs::read_to_string(path).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let at = raw
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("no {needle:?} in the header"));
    raw[at + offset] ^= 0x01;
    let b = base64::engine::general_purpose::STANDARD.encode(&raw);
    let mut out = String::from("-----BEGIN AGE ENCRYPTED FILE-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END AGE ENCRYPTED FILE-----\n");
    fs::write(path, out).unwrap();
}

#[test]
fn a_bit_flip_in_the_header_is_damaged_not_a_wrong_key() {
    for (what, needle, offset) in [
        ("the version line", &b"age-encryption.org/v1"[..], 4),
        ("the stanza tag", b"-> X25519 ", 5),
        ("the header MAC", b"\n--- ", 8),
    ] {
        let r = populated();
        flip_header_byte(&r.secret_file("smtp"), needle, offset);
        let out = assert_refused(
            &r,
            || r.toolctl(["smtp", "secret", "show"]).run(),
            "damaged",
            &["restore the file"],
        );
        assert!(!out.stderr.contains("wrong key"), "{what}\n{out}");
        let rows = status_json(&r, 1);
        let smtp = rows.iter().find(|s| s["scope"] == "smtp").unwrap();
        assert_eq!(smtp["problem"], "damaged", "{what}: {smtp}");
    }
    // A flip inside the share cannot be told from another recipient: "wrong key", saying
    // that a damaged line looks the same.
    let r = populated();
    flip_header_byte(&r.secret_file("smtp"), b"-> X25519 ", 14);
    let out = assert_refused(
        &r,
        || r.toolctl(["smtp", "secret", "show"]).run(),
        "wrong key",
        &["write the secret again"],
    );
    assert!(out.stderr.contains("damaged recipient line"), "{out}");
}

/// Values GitLab's `read_secret` (strict base64, 32 bytes) refuses: too short, too long,
/// not base64 at all, a line break inside, padding left off, non-zero trailing bits.
const BAD_WEBHOOK_SECRETS: &[&str] = &[
    "token",
    "d2ViaG9vaw==",
    "c2hhcmVkLXdlYmhvb2stdG9rZW4tZm9yLWZpeHR1cmVz",
    "dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s",
    "dGhpcnR5LXR3by1ieXRlcy1v\nZi10ZXN0LXdlYmhvb2s=",
    "dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2t=",
    "dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s=dGhp",
];

#[track_caller]
fn assert_webhook_refused(r: &TestRoot, run: impl FnOnce() -> Outcome) {
    let out = assert_refused(
        r,
        run,
        "is not strict base64 of exactly 32 bytes",
        &["openssl rand -base64 32", "secret set webhook_secret"],
    );
    for bad in BAD_WEBHOOK_SECRETS {
        assert!(!out.stderr.contains(bad), "the value leaked\n{out}");
    }
}

#[test]
fn a_webhook_secret_that_is_not_base64_of_32_bytes_is_refused_by_set_write_and_edit() {
    let r = populated();
    for bad in BAD_WEBHOOK_SECRETS {
        assert_webhook_refused(&r, || {
            r.toolctl(["mailroom", "secret", "set", "webhook_secret"])
                .stdin(*bad)
                .run()
        });
        let yaml = format!("webhook_secret: {}\n", serde_json::to_string(bad).unwrap());
        assert_webhook_refused(&r, || {
            r.toolctl(["mailroom", "secret", "write"])
                .stdin(yaml.as_str())
                .run()
        });
    }
    let ed = r.script(
        "ed.sh",
        &format!("{LAST_ARG}\nprintf \"webhook_secret: 'token'\\n\" > \"$f\""),
    );
    assert_webhook_refused(&r, || {
        r.toolctl(["mailroom", "secret", "edit"])
            .env("EDITOR", &ed)
            .run()
    });
    // What `openssl rand -base64 32` prints is taken (one trailing newline stripped).
    let good = std::process::Command::new("openssl")
        .args(["rand", "-base64", "32"])
        .output()
        .unwrap()
        .stdout;
    r.toolctl(["mailroom", "secret", "set", "webhook_secret"])
        .stdin(good.as_slice())
        .run()
        .assert_code(0);
    let shown = r
        .toolctl(["mailroom", "secret", "show", "--key", "webhook_secret"])
        .run();
    assert_eq!(shown.stdout_str().as_bytes(), &good[..good.len() - 1]);
}

#[test]
fn a_stored_webhook_secret_of_another_format_stops_reconfigure_until_replaced() {
    let t = TestRoot::builder()
        .settings(
            "external_url = \"https://gitlab.example.com\"\n\n[incoming_email]\nenabled = true\n\
             address = \"incoming+%{key}@example.com\"\nhost = \"imap.example.com\"\nport = 993\nssl = true\n",
        )
        .secret("incoming-email", "user: 'in'\npassword: 'pw'\n")
        .build();
    // Written before toolctl checked the format (the CLI refuses it now): age itself.
    let out = std::process::Command::new("age")
        .args(["-e", "-i"])
        .arg(t.key_file())
        .arg("-o")
        .arg(t.secret_file("mailroom"))
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"webhook_secret: 'token'\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "age failed");
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_error(
        "is not strict base64 of exactly 32 bytes",
        &["openssl rand -base64 32", "secret set webhook_secret"],
    );
    before.assert_unchanged(&t.snapshot(), &out);
    assert!(!out.stderr.contains("token'"), "{out}");
    // `secret set` does not need valid settings: the fix works, then reconfigure does.
    t.toolctl(["mailroom", "secret", "set", "webhook_secret"])
        .stdin("dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s=\n")
        .run()
        .assert_code(0);
    t.toolctl(["reconfigure"]).run().assert_code(0);
}
