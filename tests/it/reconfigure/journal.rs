//! `reconfigure` all or nothing: SIGKILL at every step of an
//! apply that adds, changes, re-modes and removes files and creates a directory, then
//! recovery by the next `reconfigure` and by the next `reconfigure --dry-run`; an immutable
//! file that stops a run with everything put back; symlinks inside the rendered tree
//! refused or replaced, never followed; stale temporary files swept under the lock.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{fixtures, rendered, root_from};
use crate::harness::{chmod, mode, Snapshot, TestRoot};

/// The settings change of every crash test: one variable changed, one added, two removed.
const NEW_ENV: &str = "{ HTTP_PROXY = \"http://proxy:3128\", EXTRA_VAR = \"x\" }";
const OLD_ENV: &str =
    "{ HTTP_PROXY = \"my_proxy\", HTTPS_PROXY = \"my_proxy\", NO_PROXY = \"my_no_proxy\" }";

fn journal(t: &TestRoot) -> PathBuf {
    t.path("var/opt/toolctl/rendered.journal")
}

/// Every `.toolctl-*` temporary or backup left anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    Snapshot::of(dir)
        .paths()
        .into_iter()
        .filter(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".toolctl-"))
        })
        .collect()
}

/// A snapshot of the rendered tree without toolctl's temporaries.
fn tree(t: &TestRoot) -> Snapshot {
    let mut s = Snapshot::of(&rendered(t));
    s.0.retain(|p, _| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".toolctl-"))
    });
    s
}

/// The old tree rendered from the fixture, then made to differ from what the new settings
/// render in every way an apply can: `nginx/` missing (a directory and a file to create),
/// `gitlab.yml` with the wrong mode, and the environment changed in the settings.
fn base() -> TestRoot {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    fs::remove_dir_all(rendered(&t).join("nginx")).unwrap();
    chmod(&rendered(&t).join("gitlab.yml"), 0o644);
    t.toolctl(["config", "set", "mattermost.env", NEW_ENV])
        .run()
        .assert_code(0);
    t
}

/// A fresh root holding a copy of `from`'s.
fn copy_root(from: &TestRoot) -> TestRoot {
    let t = TestRoot::new();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.root().display()))
        .arg(t.root())
        .status()
        .unwrap();
    assert!(status.success());
    t
}

/// The failpoints one apply passes, each with its occurrence number (`name:N`).
fn steps(base: &TestRoot) -> Vec<String> {
    let t = copy_root(base);
    let log = t.aux().join("failpoints.log");
    t.toolctl(["reconfigure"])
        .env("TOOLCTL_FAILPOINT_LOG", &log)
        .run()
        .assert_code(0);
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut out = Vec::new();
    for name in fs::read_to_string(&log).unwrap().lines() {
        if !name.starts_with("reconfigure-") {
            continue;
        }
        let n = seen.entry(name.to_string()).or_insert(0);
        *n += 1;
        out.push(format!("{name}:{n}"));
    }
    out
}

#[test]
fn a_kill_at_every_step_leaves_the_old_or_the_new_tree_and_the_next_run_recovers() {
    let base = base();
    let old = tree(&base);
    let new = {
        let t = copy_root(&base);
        t.toolctl(["reconfigure"]).run().assert_code(0);
        tree(&t)
    };
    assert!(
        !old.diff(&new).is_empty(),
        "the apply must change something"
    );
    let steps = steps(&base);
    for kind in [
        "dir-created",
        "temp-written",
        "backup-linked",
        "journal-committed",
        "file-renamed",
        "file-removed",
        "backups-removed",
    ] {
        assert!(
            steps.iter().any(|s| s.contains(kind)),
            "no `{kind}` step in {steps:?}"
        );
    }
    let mut recovered = 0;
    for step in &steps {
        for dry in [false, true] {
            let t = copy_root(&base);
            let killed = t
                .toolctl(["reconfigure"])
                .env("TOOLCTL_FAILPOINT", step)
                .run();
            assert_eq!(killed.code, None, "not killed at {step}\n{killed}");
            let had_journal = journal(&t).exists();
            if !had_journal {
                // No journal: nothing is pending, so the tree is whole right now.
                let now = tree(&t);
                assert!(
                    now == old || now == new,
                    "killed at {step} without a journal, the tree is a mix:\nvs old:\n{}\nvs new:\n{}",
                    old.diff(&now),
                    new.diff(&now)
                );
            }
            let run = if dry {
                t.toolctl(["reconfigure", "--dry-run"]).run()
            } else {
                t.toolctl(["reconfigure"]).run()
            };
            run.assert_code(0);
            assert_eq!(
                run.stderr.contains("interrupted reconfigure"),
                had_journal,
                "killed at {step}: the recovery must be reported exactly when there was one\n{run}"
            );
            if had_journal && dry {
                assert!(
                    run.stderr.contains("the one write a --dry-run does"),
                    "{run}"
                );
            }
            assert!(!journal(&t).exists(), "journal left after {step}\n{run}");
            let now = tree(&t);
            if dry {
                assert!(
                    now == old || now == new,
                    "killed at {step}, after the dry run's recovery the tree is a mix:\nvs old:\n{}\nvs new:\n{}",
                    old.diff(&now),
                    new.diff(&now)
                );
                t.toolctl(["reconfigure"]).run().assert_code(0);
            }
            let now = tree(&t);
            new.assert_unchanged(&now, &format!("killed at {step}, then recovered"));
            let left = leftovers(t.root());
            assert!(left.is_empty(), "killed at {step}: left {left:?}");
            recovered += usize::from(had_journal);
        }
    }
    println!(
        "{} steps killed, each recovered by reconfigure and by reconfigure --dry-run; {recovered} recoveries from a journal",
        steps.len()
    );
}

/// Clears the immutable attribute on drop, so that a failing test can still clean up.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Immutable {
        let out = Command::new("chattr").arg("+i").arg(path).output().unwrap();
        assert!(
            out.status.success(),
            "chattr +i {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn an_immutable_file_stops_the_run_with_every_file_left_as_it_was() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    // Every env file and nginx's change; nginx's file sorts after the env files.
    for (k, v) in [
        ("mattermost.external_url", "http://chat.example.com"),
        ("mattermost.env", NEW_ENV),
    ] {
        t.toolctl(["config", "set", k, v]).run().assert_code(0);
    }
    let conf = rendered(&t).join("nginx/mattermost.conf");
    let guard = Immutable::set(&conf);
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_error(
        "nginx/mattermost.conf",
        &["operation not permitted (immutable or append-only file? see `lsattr`)"],
    );
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
    assert!(out.stderr.contains("nothing was changed"), "{out}");
    assert!(!out.stderr.contains("sudo"), "{out}");
    before.assert_unchanged(&t.snapshot(), &out);
    drop(guard);
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let site =
        fs::read_to_string(rendered(&t).join("mattermost/env/MM_SERVICESETTINGS_SITEURL")).unwrap();
    assert_eq!(site, "http://chat.example.com");
}

#[test]
fn an_append_only_file_to_remove_stops_the_run_too() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl(["config", "set", "mattermost.env", NEW_ENV])
        .run()
        .assert_code(0);
    let stale = rendered(&t).join("mattermost/env/NO_PROXY");
    let out = Command::new("chattr")
        .arg("+a")
        .arg(&stale)
        .output()
        .unwrap();
    assert!(out.status.success());
    let guard = Immutable(stale.clone());
    let before = t.snapshot();
    let out = t.toolctl(["reconfigure"]).run();
    out.assert_error("mattermost/env/NO_PROXY", &["immutable or append-only"]);
    before.assert_unchanged(&t.snapshot(), &out);
    drop(guard);
}

#[test]
fn a_symlinked_managed_directory_is_refused_and_nothing_is_changed() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    // The link's target: files named like stale variables, and one of the admin's own.
    let elsewhere = t.aux().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    for name in ["HTTPS_PROXY", "NO_PROXY", "precious"] {
        fs::write(elsewhere.join(name), format!("{name} is not toolctl's\n")).unwrap();
    }
    chmod(&elsewhere.join("precious"), 0o644);
    let env = rendered(&t).join("mattermost/env");
    fs::remove_dir_all(&env).unwrap();
    symlink(&elsewhere, &env).unwrap();
    t.toolctl(["config", "set", "mattermost.env", NEW_ENV])
        .run()
        .assert_code(0);
    let before = t.snapshot();
    let target_before = Snapshot::of(&elsewhere);
    for args in [&["reconfigure"][..], &["reconfigure", "--dry-run"]] {
        let out = t.toolctl(args).run();
        out.assert_error(
            "is a symbolic link",
            &["replace the link", "mattermost/env"],
        );
        before.assert_unchanged(&t.snapshot(), &out);
        target_before.assert_unchanged(&Snapshot::of(&elsewhere), &out);
    }
}

#[test]
fn a_symlinked_managed_file_is_replaced_never_followed() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let outside = t.aux().join("outside");
    let other = t.aux().join("other");
    fs::write(&outside, "precious\n").unwrap();
    fs::write(&other, "also precious\n").unwrap();
    chmod(&outside, 0o644);
    chmod(&other, 0o644);
    let env = rendered(&t).join("mattermost/env");
    // A managed file that will be rewritten, one whose content would be unchanged, and a
    // stale one: all links.
    fs::remove_file(env.join("HTTP_PROXY")).unwrap();
    symlink(&outside, env.join("HTTP_PROXY")).unwrap();
    fs::remove_file(env.join("MM_GITLABSETTINGS_ID")).unwrap();
    fs::write(&other, "12345656").unwrap();
    symlink(&other, env.join("MM_GITLABSETTINGS_ID")).unwrap();
    fs::remove_file(env.join("NO_PROXY")).unwrap();
    symlink(&other, env.join("NO_PROXY")).unwrap();
    t.toolctl(["config", "set", "mattermost.env", NEW_ENV])
        .run()
        .assert_code(0);

    let diff = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    diff.assert_code(0);
    assert!(!diff.stdout_str().contains("precious"), "{diff}");

    let out = t.toolctl(["reconfigure"]).run();
    out.assert_code(0);
    for (name, want) in [
        ("HTTP_PROXY", "http://proxy:3128"),
        ("MM_GITLABSETTINGS_ID", "12345656"),
    ] {
        let path = env.join(name);
        let meta = fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file(), "{name} is still a link\n{out}");
        assert_eq!(fs::read_to_string(&path).unwrap(), want);
        assert_eq!(mode(&path), 0o600);
    }
    assert!(fs::symlink_metadata(env.join("NO_PROXY")).is_err(), "{out}");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");
    assert_eq!(fs::read_to_string(&other).unwrap(), "12345656");
    assert_eq!(mode(&outside), 0o644, "chmod went through the link");
    assert_eq!(mode(&other), 0o644, "chmod went through the link");
}

#[test]
fn temporaries_of_a_killed_run_are_gone_after_a_run_with_nothing_to_change() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.toolctl(["config", "set", "mattermost.env", NEW_ENV])
        .run()
        .assert_code(0);
    let killed = t
        .toolctl(["reconfigure"])
        .env("TOOLCTL_FAILPOINT", "reconfigure-backup-linked:2")
        .run();
    assert_eq!(killed.code, None, "{killed}");
    let left = leftovers(t.root());
    assert!(left.len() >= 2, "the kill left no temporaries: {left:?}");
    // Back to the settings the tree was rendered from: nothing to write.
    t.toolctl(["config", "set", "mattermost.env", OLD_ENV])
        .run()
        .assert_code(0);
    let out = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    out.assert_code(0);
    let json = out.json();
    assert_eq!(json["changed"], 0, "{out}");
    assert_eq!(json["recovered"], "undone", "{out}");
    assert!(
        out.stderr.contains("undid an interrupted reconfigure"),
        "{out}"
    );
    let after = leftovers(t.root());
    assert!(after.is_empty(), "left {after:?} (were {left:?})\n{out}");
    println!(
        "{} temporaries and backups of the killed run removed",
        left.len()
    );
}

#[test]
fn stale_temporaries_without_a_journal_are_swept_under_the_lock_and_reported() {
    let t = root_from(&fixtures().join("mattermost-own-server"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    // As older toolctl versions and interrupted secret writes left them.
    let planted = [
        rendered(&t).join(".toolctl-a1B2c3.tmp"),
        rendered(&t).join("mattermost/env/.toolctl-HTTP_PROXY.x9Y8z7.tmp"),
        t.secrets_dir()
            .join(".toolctl-mattermost.yaml.age.q1W2e3.tmp"),
    ];
    for p in &planted {
        fs::write(p, "credentials\n").unwrap();
    }
    // Not toolctl's temporaries: kept.
    let kept = [
        rendered(&t).join("notes.tmp"),
        rendered(&t).join(".toolctl-readme"),
    ];
    for p in &kept {
        fs::write(p, "mine\n").unwrap();
    }
    let out = t.toolctl(["reconfigure", "--output-format", "json"]).run();
    out.assert_code(0);
    let json = out.json();
    assert_eq!(json["changed"], 0, "{out}");
    assert!(json["recovered"].is_null(), "{out}");
    assert_eq!(
        json["removed_temporaries"].as_array().map(Vec::len),
        Some(2),
        "the rendered tree's two (the store's are reported on stderr)\n{out}"
    );
    for p in &planted {
        assert!(!p.exists(), "{} survived\n{out}", p.display());
        assert!(
            out.stderr.contains(&p.display().to_string()),
            "{} not reported\n{out}",
            p.display()
        );
    }
    for p in &kept {
        assert!(p.exists(), "{} was removed\n{out}", p.display());
    }
    // The store's own writers sweep its directory too.
    let stale = t.secrets_dir().join(".toolctl-smtp.yaml.age.r4T5y6.tmp");
    fs::write(&stale, "x").unwrap();
    let out = t
        .toolctl(["smtp", "secret", "write"])
        .stdin("user_name: u\npassword: p\n")
        .run();
    out.assert_code(0);
    assert!(!stale.exists(), "{out}");
    assert!(
        out.stderr.contains("removed the stale temporary file"),
        "{out}"
    );
}

#[test]
fn a_kill_during_the_recovery_is_recovered_by_the_next_run() {
    let base = base();
    let old = tree(&base);
    let new = {
        let t = copy_root(&base);
        t.toolctl(["reconfigure"]).run().assert_code(0);
        tree(&t)
    };
    let mut killed_recoveries = 0;
    // One kill before the commit (the recovery undoes) and one after (it completes).
    for (first, want) in [
        ("reconfigure-backup-linked:3", &old),
        ("reconfigure-file-renamed:2", &new),
    ] {
        // The journal names absolute paths: every root is interrupted afresh, not copied.
        let interrupt = || {
            let t = copy_root(&base);
            let out = t
                .toolctl(["reconfigure"])
                .env("TOOLCTL_FAILPOINT", first)
                .run();
            assert_eq!(out.code, None, "{out}");
            assert!(journal(&t).exists(), "no journal after a kill at {first}");
            t
        };
        // The steps of the recovery, listed by a dry run (which recovers and stops there).
        let probe = interrupt();
        let log = probe.aux().join("recovery.log");
        probe
            .toolctl(["reconfigure", "--dry-run"])
            .env("TOOLCTL_FAILPOINT_LOG", &log)
            .run()
            .assert_code(0);
        want.assert_unchanged(&tree(&probe), &format!("recovery of a kill at {first}"));
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let steps: Vec<String> = fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|name| {
                let n = seen.entry(name.to_string()).or_insert(0);
                *n += 1;
                format!("{name}:{n}")
            })
            .collect();
        assert!(!steps.is_empty(), "the recovery of {first} passed no step");
        for step in &steps {
            let t = interrupt();
            let out = t
                .toolctl(["reconfigure", "--dry-run"])
                .env("TOOLCTL_FAILPOINT", step)
                .run();
            assert_eq!(out.code, None, "recovery not killed at {step}\n{out}");
            let out = t.toolctl(["reconfigure", "--dry-run"]).run();
            out.assert_code(0);
            assert!(!journal(&t).exists(), "{out}");
            want.assert_unchanged(
                &tree(&t),
                &format!("killed at {first}, its recovery killed at {step}, recovered again"),
            );
            t.toolctl(["reconfigure"]).run().assert_code(0);
            new.assert_unchanged(&tree(&t), &"the run after");
            assert!(leftovers(t.root()).is_empty());
            killed_recoveries += 1;
        }
    }
    println!("{killed_recoveries} recoveries killed and recovered");
}
