//! Key rotation under crashes, full disks and races.
//!
//! The rule every test here checks: at any moment, every secret opens with toolctl
//! (`secret show`) and with Debian's `age -d -i KEYFILE`, where KEYFILE is the key file that
//! `secrets status --output-format json` names for that secret (and lists in `key_files`).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{
    age_decrypt, age_public_key, parallel_steps, toolctl_bin, wait_for, Outcome, TestRoot,
};

const SECRETS: [(&str, &str); 3] = [
    ("smtp", "user_name: 'gitlab-inst'\npassword: '123'\n"),
    (
        "mattermost",
        "gitlab_secret: 'oauth-secret'\nsql_password: '0123'\n",
    ),
    (
        "mailroom",
        "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n",
    ),
];

/// A root with a settings file, a key and three secrets.
fn seeded() -> TestRoot {
    SECRETS
        .iter()
        .fold(
            TestRoot::builder().settings("# test root\n").secrets_init(),
            |b, (scope, yaml)| b.secret(scope, yaml),
        )
        .build()
}

/// Replaces `dst`'s root with a copy of `src`'s (modes and owners kept).
fn copy_root(src: &TestRoot, dst: &TestRoot) {
    dst.reset_to(src);
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn status(r: &TestRoot) -> (Outcome, serde_json::Value) {
    let out = r
        .toolctl(["secrets", "status", "--output-format", "json"])
        .run();
    assert!(matches!(out.code, Some(0 | 1)), "status failed\n{out}");
    let doc = out.json();
    (out, doc)
}

/// Every secret of `expected` opens with toolctl and with `age -d -i` using the key file
/// that status names for it, and that key file is in status's `key_files`. Returns whether
/// status reported an unfinished rotation.
#[track_caller]
fn assert_all_readable(r: &TestRoot, expected: &[(&str, String)], context: &str) -> bool {
    let (out, doc) = status(r);
    let listed: Vec<String> = doc["key_files"]
        .as_array()
        .unwrap_or_else(|| panic!("no key_files\n{out}"))
        .iter()
        .map(|k| {
            assert!(
                matches!(k["role"].as_str(), Some("current" | "staged" | "old")),
                "{k}"
            );
            k["path"].as_str().unwrap().to_string()
        })
        .collect();
    for (scope, yaml) in expected {
        let row = doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == *scope)
            .unwrap()
            .clone();
        assert_eq!(
            row["decrypts"],
            serde_json::json!(true),
            "{context}: {scope} does not decrypt\n{out}"
        );
        let key_file = row["key_file"].as_str().unwrap().to_string();
        assert!(
            listed.contains(&key_file),
            "{context}: {key_file} not listed"
        );
        let plain = age_decrypt(Path::new(&key_file), &r.secret_file(scope))
            .unwrap_or_else(|e| panic!("{context}: age -d -i {key_file} fails on {scope}: {e}"));
        assert_eq!(plain, yaml.as_bytes(), "{context}: {scope} by age");
        let shown = r.toolctl([*scope, "secret", "show"]).run();
        assert_eq!(shown.code, Some(0), "{context}: show {scope}\n{shown}");
        assert_eq!(shown.stdout, yaml.as_bytes(), "{context}: show {scope}");
    }
    let unfinished = !doc["rotation"].is_null();
    assert_eq!(
        out.code,
        Some(if unfinished { 1 } else { 0 }),
        "{context}: status exit code\n{out}"
    );
    unfinished
}

/// After a finished `rekey`: no staged key, no journal, every secret on the current key
/// file alone, and the original key kept as an old copy if the key changed.
#[track_caller]
fn assert_finished(r: &TestRoot, expected: &[(&str, String)], original: &[u8], context: &str) {
    let etc = names(&r.path("etc/toolctl"));
    assert!(
        !etc.iter()
            .any(|n| n == "secrets.key.new" || n == "secrets.key.rotation"),
        "{context}: {etc:?}"
    );
    for (scope, yaml) in expected {
        assert_eq!(
            age_decrypt(&r.key_file(), &r.secret_file(scope)).as_deref(),
            Ok(yaml.as_bytes()),
            "{context}: {scope} is not on the current key"
        );
    }
    if fs::read(r.key_file()).unwrap() != original {
        assert!(
            etc.iter()
                .filter(|n| n.starts_with("secrets.key.old-"))
                .any(|n| fs::read(r.path("etc/toolctl").join(n)).unwrap() == original),
            "{context}: the original key was not kept: {etc:?}"
        );
    }
    assert!(!assert_all_readable(r, expected, context));
}

fn expected() -> Vec<(&'static str, String)> {
    SECRETS.iter().map(|(s, y)| (*s, y.to_string())).collect()
}

/// The `rekey-…` failpoints a run reaches, as `name:N` (the N-th time it reaches `name`).
fn steps(r: &TestRoot, args: &[&str]) -> Vec<String> {
    let log = r.aux().join(format!("fp-{}", std::process::id()));
    let _ = fs::remove_file(&log);
    let out = r.toolctl(args).env("TOOLCTL_FAILPOINT_LOG", &log).run();
    out.assert_code(0);
    let text = fs::read_to_string(&log).unwrap();
    let mut seen = std::collections::HashMap::new();
    text.lines()
        .filter(|l| l.starts_with("rekey-"))
        .map(|l| {
            let n = seen.entry(l.to_string()).or_insert(0);
            *n += 1;
            format!("{l}:{n}")
        })
        .collect()
}

/// Runs `args` killed at `step`; asserts it was killed there.
fn kill_at(r: &TestRoot, args: &[&str], step: &str) {
    let out = r.toolctl(args).env("TOOLCTL_FAILPOINT", step).run();
    assert_eq!(out.code, None, "not killed at {step}\n{out}");
}

#[test]
fn sigkill_at_every_step_of_a_rotation_and_of_its_recovery_loses_no_secret() {
    let seed = seeded();
    let original = fs::read(seed.key_file()).unwrap();
    let rotation = ["secrets", "rekey", "--new-key"];
    let probe = TestRoot::new();
    copy_root(&seed, &probe);
    let rotation_steps = steps(&probe, &rotation);
    assert!(
        rotation_steps.len() >= 12,
        "too few steps: {rotation_steps:?}"
    );
    let expected = expected();
    let indexed: Vec<(usize, &String)> = rotation_steps.iter().enumerate().collect();
    // Each step has its own trial root (the same path for the kill and its recovery, as a
    // journal names paths) and its own snapshot of the interrupted state, so the steps run
    // in parallel.
    let per_step = parallel_steps(&indexed, |&(i, step)| {
        // The recovery: `rekey` alone, and every third time a new `rekey --new-key`, which
        // must finish the interrupted rotation first.
        let recovery: &[&str] = if i % 3 == 2 {
            &rotation
        } else {
            &["secrets", "rekey"]
        };
        let trial = TestRoot::new();
        copy_root(&seed, &trial);
        kill_at(&trial, &rotation, step);
        let ctx = format!("killed at {step}");
        let unfinished = assert_all_readable(&trial, &expected, &ctx);
        // Snapshot the interrupted state, list the recovery's steps, kill it at each.
        let interrupted = TestRoot::new();
        copy_root(&trial, &interrupted);
        let recovery_steps = steps(&trial, recovery);
        assert_finished(&trial, &expected, &original, &format!("{ctx}, recovered"));
        for rstep in &recovery_steps {
            copy_root(&interrupted, &trial);
            kill_at(&trial, recovery, rstep);
            let ctx = format!("killed at {step}, then its recovery at {rstep}");
            assert_all_readable(&trial, &expected, &ctx);
            let out = trial.toolctl(["secrets", "rekey"]).run();
            out.assert_code(0);
            assert_finished(&trial, &expected, &original, &format!("{ctx}, recovered"));
        }
        (unfinished, recovery_steps.len())
    });
    let kills = per_step.len();
    let unfinished_states = per_step.iter().filter(|(u, _)| *u).count();
    let recovery_kills: usize = per_step.iter().map(|(_, n)| n).sum();
    println!(
        "rotation steps: {}; kills: {kills} (unfinished rotations left: {unfinished_states}), \
         recovery kills: {recovery_kills}; unreadable secrets: 0",
        rotation_steps.len()
    );
    assert!(unfinished_states > 0);
}

/// Runs `toolctl --root MNT secrets rekey --new-key` with the root copied onto a tmpfs
/// (private mount namespace) that has `free_pages` pages left, then copies the tree back
/// (without the filler) and returns the run's exit code and stderr.
fn rekey_on_a_full_disk(r: &TestRoot, free_pages: u32) -> (i32, String) {
    let mnt = r.aux().join("mnt");
    fs::create_dir_all(&mnt).unwrap();
    let script = r#"
set -e
mount -t tmpfs -o size=512k,mode=0755 tmpfs "$MNT"
cp -a "$ROOT/." "$MNT/"
dd if=/dev/zero of="$MNT/filler" bs=4096 2>/dev/null || true
truncate -s "-$((FREE * 4096))" "$MNT/filler"
set +e
"$BIN" --root "$MNT" secrets rekey --new-key > "$AUX/stdout" 2> "$AUX/stderr"
echo $? > "$AUX/code"
set -e
rm -f "$MNT/filler"
find "$ROOT" -mindepth 1 -delete
cp -a "$MNT/." "$ROOT/"
"#;
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("NO_COLOR", "1")
        .env("MNT", &mnt)
        .env("ROOT", r.root())
        .env("AUX", r.aux())
        .env("BIN", toolctl_bin())
        .env("FREE", free_pages.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let code = fs::read_to_string(r.aux().join("code"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (code, fs::read_to_string(r.aux().join("stderr")).unwrap())
}

#[test]
fn enospc_mid_rotation_leaves_every_secret_readable_and_rekey_finishes_it() {
    let seed = seeded();
    let original = fs::read(seed.key_file()).unwrap();
    let expected = expected();
    let trial = TestRoot::new();
    let (mut failed, mut unfinished, mut succeeded) = (0, 0, 0);
    for free in 0..12 {
        copy_root(&seed, &trial);
        let (code, stderr) = rekey_on_a_full_disk(&trial, free);
        let ctx = format!("{free} free pages");
        let left_unfinished = assert_all_readable(&trial, &expected, &ctx);
        match code {
            0 => succeeded += 1,
            2 => {
                failed += 1;
                assert!(
                    stderr.contains("No space left on device"),
                    "{ctx}: {stderr}"
                );
                let hint = stderr
                    .lines()
                    .find(|l| l.starts_with("hint: "))
                    .unwrap_or_else(|| panic!("{ctx}: no hint: {stderr}"));
                if left_unfinished {
                    unfinished += 1;
                    assert!(
                        hint.contains("run `toolctl secrets rekey` to finish the rotation")
                            && hint.contains("free some disk space"),
                        "{ctx}: {hint}"
                    );
                } else {
                    assert!(hint.contains("free some disk space"), "{ctx}: {hint}");
                }
            }
            other => panic!("{ctx}: exit {other}: {stderr}"),
        }
        // Space is free again: a plain `rekey` finishes whatever was left.
        let out = trial.toolctl(["secrets", "rekey"]).run();
        out.assert_code(0);
        assert_finished(&trial, &expected, &original, &format!("{ctx}, recovered"));
    }
    println!(
        "ENOSPC trials: 12; failed: {failed} (rotation left unfinished: {unfinished}), \
         succeeded: {succeeded}; unreadable secrets: 0"
    );
    assert!(failed > 0 && unfinished > 0 && succeeded > 0);
}

fn spawn(r: &TestRoot, args: &[&str], env: &[(&str, &OsStr)], stdin: Option<&str>) -> Child {
    let mut t = r.toolctl(args);
    for (k, v) in env {
        t = t.env(k, v);
    }
    let mut cmd = t.command();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    child
}

fn finish(child: Child) -> (Option<i32>, String, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn writers_racing_rotations_encrypt_to_the_current_key() {
    let r = seeded();
    let rounds = 8;
    let (mut writes, mut rotations, mut held_back) = (0, 0, 0);
    for round in 0..rounds {
        let log = r.aux().join(format!("fp-{round}"));
        // Even rounds: the rotation pauses holding the lock, before the new key exists, so
        // every writer loads the old key before the lock and must reload it after.
        let mut env: Vec<(&str, &OsStr)> = vec![("TOOLCTL_FAILPOINT_LOG", log.as_os_str())];
        if round % 2 == 0 {
            env.push(("TOOLCTL_FAILPOINT_PAUSE", OsStr::new("rekey-decrypted")));
        }
        let rekey = spawn(&r, &["secrets", "rekey", "--new-key"], &env, None);
        if round % 2 == 0 {
            assert!(wait_for(Duration::from_secs(10), || {
                fs::read_to_string(&log).is_ok_and(|l| l.contains("rekey-decrypted"))
            }));
            held_back += 1;
        }
        let contents: Vec<(&str, String)> = SECRETS
            .iter()
            .map(|(s, _)| {
                let c = match *s {
                    "smtp" => format!("user_name: 'u{round}'\npassword: 'p{round}'\n"),
                    "mattermost" => format!("gitlab_secret: 'g{round}'\n"),
                    _ => format!("webhook_secret: 'w{round:041}A='\n"),
                };
                (*s, c)
            })
            .collect();
        let writers: Vec<Child> = contents
            .iter()
            .map(|(s, c)| spawn(&r, &[s, "secret", "write"], &[], Some(c)))
            .collect();
        let (code, _, err) = finish(rekey);
        assert_eq!(code, Some(0), "rekey: {err}");
        rotations += 1;
        for ((scope, content), w) in contents.iter().zip(writers) {
            let (code, _, err) = finish(w);
            assert_eq!(code, Some(0), "writer {scope}: {err}");
            assert!(err.contains("File encrypted and saved."), "{err}");
            writes += 1;
            // Exit 0 means: the file holds this content and the current key opens it.
            assert_eq!(
                age_decrypt(&r.key_file(), &r.secret_file(scope)).as_deref(),
                Ok(content.as_bytes()),
                "round {round}: {scope} does not open with the current key"
            );
        }
    }
    println!(
        "rounds: {rounds}, rotations: {rotations} ({held_back} paused holding the lock), \
         writes: {writes}; writes not on the current key: 0"
    );
}

#[test]
fn readers_racing_rotations_retry_and_never_see_a_wrong_key() {
    let r = seeded();
    let rounds = 6;
    let (mut reads, mut retries) = (0, 0);
    for round in 0..rounds {
        // The reader loads the keys, then pauses before it decrypts; a whole rotation runs in
        // that pause, so the secret is on a key the reader did not load.
        let log = r.aux().join(format!("reader-{round}"));
        let reader = spawn(
            &r,
            &["smtp", "secret", "show"],
            &[
                ("TOOLCTL_FAILPOINT_LOG", log.as_os_str()),
                (
                    "TOOLCTL_FAILPOINT_PAUSE",
                    OsStr::new("secrets-read-keys-loaded"),
                ),
            ],
            None,
        );
        assert!(wait_for(Duration::from_secs(10), || {
            fs::read_to_string(&log).is_ok_and(|l| l.contains("secrets-read-keys-loaded"))
        }));
        let out = r.toolctl(["secrets", "rekey", "--new-key"]).run();
        out.assert_code(0);
        let (code, stdout, stderr) = finish(reader);
        reads += 1;
        assert_eq!(code, Some(0), "round {round}: {stderr}");
        assert!(!stderr.contains("wrong key"), "{stderr}");
        assert_eq!(stdout, SECRETS[0].1);
        if fs::read_to_string(&log)
            .unwrap()
            .contains("secrets-read-retry")
        {
            retries += 1;
        }
    }
    println!("reads racing a rotation: {reads}, retried: {retries}, spurious wrong key: 0");
    assert!(retries > 0, "the race never happened");
}

#[test]
fn two_rotations_in_the_same_second_do_not_collide() {
    let r = seeded();
    // Plant old copies under every name the next seconds would get, so the rotation meets
    // a taken name for sure; they are not ours and must stay as they are.
    let now = std::time::SystemTime::now();
    let stranger = r.aux().join("stranger.key");
    crate::harness::age_keygen(&stranger);
    let stranger = fs::read_to_string(&stranger).unwrap();
    let mut planted = Vec::new();
    for s in 0..6 {
        let t = now + Duration::from_secs(s);
        let stamp = humantime::format_rfc3339_seconds(t)
            .to_string()
            .replace(':', "");
        let p = r
            .path("etc/toolctl")
            .join(format!("secrets.key.old-{stamp}"));
        fs::write(&p, format!("# planted {s}\n{stranger}")).unwrap();
        crate::harness::chmod(&p, 0o600);
        planted.push(p);
    }
    for _ in 0..2 {
        let out = r.toolctl(["secrets", "rekey", "--new-key"]).run();
        out.assert_code(0);
    }
    for (s, p) in planted.iter().enumerate() {
        assert_eq!(
            fs::read_to_string(p).unwrap(),
            format!("# planted {s}\n{stranger}")
        );
    }
    let olds: Vec<String> = names(&r.path("etc/toolctl"))
        .into_iter()
        .filter(|n| n.starts_with("secrets.key.old-"))
        .collect();
    assert_eq!(olds.len(), 8, "{olds:?}");
    assert!(olds.iter().any(|n| n.ends_with("Z-2")), "{olds:?}");
    assert!(!assert_all_readable(&r, &expected(), "two rotations"));
}

#[test]
fn status_names_every_key_file_with_its_role() {
    let r = seeded();
    let original_public = age_public_key(&r.key_file());
    // Stop a rotation after the secrets moved to the staged key.
    let out = r
        .toolctl(["secrets", "rekey", "--new-key"])
        .env("TOOLCTL_FAILPOINT", "rekey-journal-committed")
        .run();
    assert_eq!(out.code, None);
    let (out, doc) = status(&r);
    out.assert_code(1);
    let roles: Vec<(String, String)> = doc["key_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["role"].as_str().unwrap().to_string(),
                k["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let etc = r.path("etc/toolctl");
    assert_eq!(
        roles[0],
        ("current".into(), r.key_file().display().to_string())
    );
    assert_eq!(
        roles[1],
        (
            "staged".into(),
            etc.join("secrets.key.new").display().to_string()
        )
    );
    assert_eq!(roles[2].0, "old");
    assert_eq!(roles.len(), 3, "{roles:?}");
    assert_eq!(doc["rotation"]["state"], "committed");
    assert_eq!(doc["key_files"][0]["public_key"], original_public.as_str());
    for row in doc["secrets"].as_array().unwrap() {
        if row["present"] == true {
            assert_eq!(row["key_role"], "staged", "{row}");
        }
    }
    // The human table names them too, and the warning says what finishes the rotation.
    let out = r.toolctl(["secrets", "status"]).run();
    out.assert_code(1);
    let table = out.stdout_str();
    for (role, path) in &roles {
        assert!(
            table
                .lines()
                .any(|l| l.contains(path.as_str()) && l.contains(role.as_str())),
            "{table}"
        );
    }
    assert!(out.stderr.contains("toolctl secrets rekey"), "{out}");
    // A writer during the unfinished rotation encrypts to both keys and says so.
    let w = r
        .toolctl(["smtp", "secret", "write"])
        .stdin("password: 'during'\n")
        .run();
    w.assert_code(0);
    assert!(w.stderr.contains("rotation is unfinished"), "{w}");
    for key in [r.key_file(), etc.join("secrets.key.new")] {
        assert_eq!(
            age_decrypt(&key, &r.secret_file("smtp")).unwrap(),
            b"password: 'during'\n"
        );
    }
    let out = r.toolctl(["secrets", "rekey"]).run();
    out.assert_code(0);
    let (out, doc) = status(&r);
    out.assert_code(0);
    assert_eq!(doc["rotation"], serde_json::Value::Null);
    assert_eq!(doc["key_files"].as_array().unwrap().len(), 2);
}

/// A rotation left unfinished by an earlier version, whose journal is `key = value` lines
/// (the journal is JSON), is read by `secrets status` and finished by
/// `secrets rekey`.
#[test]
fn a_rotation_journal_of_an_earlier_version_is_finished() {
    let r = seeded();
    let original = fs::read(r.key_file()).unwrap();
    let out = r
        .toolctl(["secrets", "rekey", "--new-key"])
        .env("TOOLCTL_FAILPOINT", "rekey-journal-committed")
        .run();
    assert_eq!(out.code, None, "{out}");
    let journal = r.path("etc/toolctl/secrets.key.rotation");
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&journal).unwrap()).unwrap();
    assert_eq!(doc["state"], "committed", "{doc}");
    let old_key = doc["old_key"].as_str().unwrap();
    assert!(old_key.starts_with("secrets.key.old-"), "{doc}");
    let earlier = format!(
        "# toolctl key rotation, unfinished: `toolctl secrets rekey` finishes it.\n\
         # Do not remove this file or the key files it names by hand.\n\
         state = committed\nnew_public_key = {}\nold_key = {old_key}\n",
        doc["new_public_key"].as_str().unwrap()
    );
    fs::write(&journal, earlier).unwrap();
    let (out, status_doc) = status(&r);
    out.assert_code(1);
    assert_eq!(status_doc["rotation"]["state"], "committed", "{status_doc}");
    r.toolctl(["secrets", "rekey"]).run().assert_code(0);
    assert_finished(&r, &expected(), &original, "after the earlier journal");
}
