//! `secret edit` against another user: the plaintext copy
//! never goes into a runtime directory that user owns (as `sudo -E` or `su` without `-`
//! leave `$XDG_RUNTIME_DIR`), a link swapped in for the copy or its directory is neither
//! read nor zero-filled, and a running edit is not dumpable and has a core limit of 0.
//!
//! As in `edit.rs`, `TOOLCTL_TEST_EDIT_DIR` (debug builds only) stands in for `/dev/shm`
//! and turns off the tmpfs check, so no plaintext lands in the real `/dev/shm`;
//! `$XDG_RUNTIME_DIR` is still considered first, with its owner and mode checked.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{chmod, toolctl_bin, wait_for, TestRoot};

const OLD: &str = "Old-Attack-Value-5521";
const NEW: &str = "New-Attack-Value-5522";
const VICTIM: &str = "Victim-Value-5523";

fn secret(password: &str) -> String {
    format!("user_name: 'gitlab-inst'\npassword: '{password}'\n")
}

/// A root with settings, a key and the smtp secret holding [`OLD`], and an empty edit base.
fn setup() -> (TestRoot, PathBuf) {
    let r = TestRoot::builder()
        .settings("external_url = \"https://gitlab.example.com\"\n")
        .secrets_init()
        .secret("smtp", secret(OLD))
        .build();
    let base = r.aux().join("edit-base");
    fs::create_dir(&base).unwrap();
    (r, base)
}

/// An editor script that records the path it was given into `aux/path`, then runs `then`
/// (with `$f` the path and `$d` its directory).
fn recording_editor(r: &TestRoot, name: &str, then: &str) -> PathBuf {
    let aux = r.aux().display().to_string();
    r.script(
        name,
        &format!(
            "f=''; for a in \"$@\"; do f=\"$a\"; done\nd=$(dirname \"$f\")\n\
             printf '%s' \"$f\" > {aux}/path.tmp && mv {aux}/path.tmp {aux}/path\n{then}"
        ),
    )
}

fn edited_path(r: &TestRoot) -> PathBuf {
    PathBuf::from(fs::read_to_string(r.aux().join("path")).expect("the editor ran"))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_no_secret_in(text: &str) {
    for v in [OLD, NEW, VICTIM] {
        assert!(!text.contains(v), "a secret value was printed:\n{text}");
    }
}

/// A directory the attacker owns, mode 0700, with a link planted in it to `victim`
/// under the name an edit copy would have: what `/run/user/<uid>` of the user who ran
/// `sudo -E` looks like to root.
fn attackers_runtime_dir(r: &TestRoot, attacker: &Attacker, victim: &Path) -> PathBuf {
    let dir = r.aux().join("run-user-attacker");
    fs::create_dir(&dir).unwrap();
    attacker.own(&dir);
    chmod(&dir, 0o700);
    attacker.sh_ok(&format!(
        "ln -s {v} {d}/smtp.yaml && ln -s {v} {d}/owner",
        v = victim.display(),
        d = dir.display()
    ));
    dir
}

/// A root-owned file holding a valid smtp secret that is not the store's.
fn victim_file(r: &TestRoot) -> PathBuf {
    let victim = r.aux().join("victim.yaml");
    fs::write(&victim, secret(VICTIM)).unwrap();
    chmod(&victim, 0o600);
    victim
}

#[test]
fn a_runtime_dir_that_another_user_owns_is_not_used() {
    let (r, base) = setup();
    let attacker = Attacker::new();
    let victim = victim_file(&r);
    let xdg = attackers_runtime_dir(&r, &attacker, &victim);
    let (xdg_before, victim_before) = (Fingerprint::of(&xdg), Fingerprint::of(&victim));
    let ed = recording_editor(&r, "change.sh", &format!("sed -i 's/{OLD}/{NEW}/' \"$f\""));

    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("TOOLCTL_TEST_EDIT_DIR", &base)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert_no_secret_in(&out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "warning: not using $XDG_RUNTIME_DIR (`{}`) for the plaintext copy: it is owned by \
             uid {}, not by root (uid 0) whom toolctl runs as",
            xdg.display(),
            attacker.uid
        )),
        "{out}"
    );
    let path = edited_path(&r);
    assert!(
        path.starts_with(&base) && !path.starts_with(&xdg),
        "the copy was made in {}",
        path.display()
    );
    assert_eq!(
        Fingerprint::of(&xdg),
        xdg_before,
        "the attacker's directory changed"
    );
    assert_eq!(Fingerprint::of(&victim), victim_before);
    assert_eq!(names(&base), Vec::<String>::new());
    assert_eq!(r.show_secret("smtp"), secret(NEW).as_bytes());
}

#[test]
fn a_runtime_dir_is_used_only_when_private_and_reached_without_links() {
    let (r, base) = setup();
    let attacker = Attacker::new();
    let ed = recording_editor(&r, "noop.sh", "exit 0");
    let run = |xdg: &Path| {
        let _ = fs::remove_file(r.aux().join("path"));
        let out = r
            .toolctl(["smtp", "secret", "edit"])
            .env("TOOLCTL_TEST_EDIT_DIR", &base)
            .env("XDG_RUNTIME_DIR", xdg)
            .env("EDITOR", &ed)
            .run();
        out.assert_code(0);
        assert_no_secret_in(&out.stderr);
        (edited_path(&r), out)
    };

    // Root's own 0700 directory: used, and left empty.
    let own = r.aux().join("run-user-0");
    fs::create_dir(&own).unwrap();
    chmod(&own, 0o700);
    let (path, out) = run(&own);
    assert!(path.starts_with(&own), "{}\n{out}", path.display());
    assert!(!out.stderr.contains("warning"), "{out}");
    assert_eq!(names(&own), Vec::<String>::new());

    // Root's, but others can enter it: passed over.
    chmod(&own, 0o755);
    let (path, out) = run(&own);
    assert!(path.starts_with(&base), "{}\n{out}", path.display());
    assert!(out.stderr.contains("its mode is 0755"), "{out}");
    chmod(&own, 0o700);

    // Reached through a link the attacker planted in a directory of theirs: the link is
    // not followed, even to a directory that would pass.
    let home = r.aux().join("attacker-home");
    fs::create_dir(&home).unwrap();
    attacker.own(&home);
    attacker.sh_ok(&format!(
        "ln -s {} {}/runtime",
        own.display(),
        home.display()
    ));
    let (path, out) = run(&home.join("runtime"));
    assert!(path.starts_with(&base), "{}\n{out}", path.display());
    assert!(out.stderr.contains("not using $XDG_RUNTIME_DIR"), "{out}");
    assert_eq!(names(&own), Vec::<String>::new());

    // A directory of root's below one the attacker owns: the attacker could swap it.
    let below = home.join("root-runtime");
    fs::create_dir(&below).unwrap();
    chmod(&below, 0o700);
    let (path, out) = run(&below);
    assert!(path.starts_with(&base), "{}\n{out}", path.display());
    assert!(
        out.stderr
            .contains(&format!("it is owned by uid {}", attacker.uid)),
        "{out}"
    );
    assert_eq!(names(&below), Vec::<String>::new());
    assert_eq!(names(&base), Vec::<String>::new());
}

#[test]
fn a_link_swapped_in_for_the_copy_is_neither_read_nor_zero_filled() {
    let (r, base) = setup();
    let attacker = Attacker::new();
    let victim = victim_file(&r);
    let victim_before = Fingerprint::of(&victim);
    let planted = r.aux().join("attacker-dir");
    fs::create_dir(&planted).unwrap();
    attacker.own(&planted);
    attacker.sh_ok(&format!(
        "ln -s {} {}/link",
        victim.display(),
        planted.display()
    ));
    // The attacker's link takes the copy's place while the editor runs.
    let ed = recording_editor(
        &r,
        "swap-file.sh",
        &format!("mv -f {}/link \"$f\"", planted.display()),
    );
    let before = r.snapshot();

    let out = r
        .toolctl(["smtp", "secret", "edit"])
        .env("TOOLCTL_TEST_EDIT_DIR", &base)
        .env("EDITOR", &ed)
        .run();
    out.assert_error("symbolic link", &["nothing was saved"]);
    assert_no_secret_in(&out.stderr);
    assert_eq!(Fingerprint::of(&victim), victim_before);
    before.assert_unchanged(&r.snapshot(), &out);
    assert_eq!(r.show_secret("smtp"), secret(OLD).as_bytes());
    // The link was removed, not followed; the private directory is gone.
    assert_eq!(names(&base), Vec::<String>::new());
}

#[test]
fn a_link_swapped_in_for_the_private_directory_is_not_followed_by_the_cleanup() {
    let (r, base) = setup();
    let attacker = Attacker::new();
    // The victim directory holds files named as the copy and its owner record are.
    let victim_dir = r.aux().join("victim-dir");
    fs::create_dir(&victim_dir).unwrap();
    chmod(&victim_dir, 0o700);
    fs::write(victim_dir.join("smtp.yaml"), secret(VICTIM)).unwrap();
    fs::write(victim_dir.join("owner"), "pid=1\n").unwrap();
    fs::write(victim_dir.join("id_rsa"), "PRIVATE KEY").unwrap();
    let victim_before: Vec<Fingerprint> = ["", "smtp.yaml", "owner", "id_rsa"]
        .iter()
        .map(|n| Fingerprint::of(&victim_dir.join(n)))
        .collect();
    let planted = r.aux().join("attacker-dir");
    fs::create_dir(&planted).unwrap();
    attacker.own(&planted);
    attacker.sh_ok(&format!(
        "ln -s {} {}/dirlink",
        victim_dir.display(),
        planted.display()
    ));
    // While the editor runs, the private directory is moved aside and the attacker's
    // link put in its place; then the edit either ends normally or is interrupted.
    for (tag, then, code) in [
        ("ends", "exit 0", 0),
        ("killed", "kill -TERM $PPID; exec sleep 5", 130),
    ] {
        let ed = recording_editor(
            &r,
            &format!("swap-dir-{tag}.sh"),
            &format!(
                "mv \"$d\" \"$d.aside\" && mv {}/dirlink \"$d\"\n{then}",
                planted.display()
            ),
        );
        let out = r
            .toolctl(["smtp", "secret", "edit"])
            .env("TOOLCTL_TEST_EDIT_DIR", &base)
            .env("EDITOR", &ed)
            .run();
        assert_eq!(out.code, Some(code), "{tag}\n{out}");
        assert_no_secret_in(&out.stderr);
        let after: Vec<Fingerprint> = ["", "smtp.yaml", "owner", "id_rsa"]
            .iter()
            .map(|n| Fingerprint::of(&victim_dir.join(n)))
            .collect();
        assert_eq!(
            after, victim_before,
            "{tag}: the victim directory changed\n{out}"
        );
        // The copy itself was zero-filled and removed through the descriptor, where it
        // was moved to; the link is left as it is.
        let dir = edited_path(&r).parent().unwrap().to_path_buf();
        let aside = PathBuf::from(format!("{}.aside", dir.display()));
        assert_eq!(names(&aside), Vec::<String>::new(), "{tag}");
        assert!(fs::symlink_metadata(&dir).unwrap().file_type().is_symlink());
        fs::remove_dir(&aside).unwrap();
        // Hand the link back for the next round.
        fs::rename(&dir, planted.join("dirlink")).unwrap();
        assert_eq!(names(&base), Vec::<String>::new());
        assert_eq!(r.show_secret("smtp"), secret(OLD).as_bytes());
    }
}

/// `/proc/<pid>/limits`' "Max core file size" soft and hard values.
fn core_limit(pid: u32) -> (String, String) {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_string();
    let f: Vec<&str> = line["Max core file size".len()..]
        .split_whitespace()
        .collect();
    (f[0].to_string(), f[1].to_string())
}

/// Kills and reaps the child on drop.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_running_edit_is_not_dumpable_and_has_no_core_limit() {
    // toolctl runs as an unprivileged user here (its own root tree, its own edit base):
    // the kernel then shows what being undumpable means, as `/proc/<pid>` turns root's,
    // and another process of that same user cannot read toolctl's memory or environment.
    let (r, base) = setup();
    let user = Attacker::new();
    let out = crate::harness::run_tool(
        "chown",
        &[
            std::ffi::OsStr::new("-R"),
            std::ffi::OsStr::new(&format!("{}:{}", user.uid, user.gid)),
            r.root().as_os_str(),
            r.aux().as_os_str(),
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    chmod(&base, 0o700);
    let aux = r.aux().display().to_string();
    let ed = r.script(
        "pause.sh",
        &format!("echo $$ > {aux}/editor.pid.tmp && mv {aux}/editor.pid.tmp {aux}/editor.pid\nexec sleep 60"),
    );
    let mut cmd = user.command(toolctl_bin());
    cmd.arg("--root")
        .arg(r.root())
        .args(["smtp", "secret", "edit"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("VISUAL")
        .env("NO_COLOR", "1")
        .env("EDITOR", &ed)
        .env("TOOLCTL_TEST_EDIT_DIR", &base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(r.aux().join("stderr")).unwrap());
    let toolctl = Reap(cmd.spawn().expect("spawn toolctl"));
    let pid = toolctl.0.id();
    assert!(
        wait_for(Duration::from_secs(15), || r
            .aux()
            .join("editor.pid")
            .exists()),
        "the editor never started: {}",
        fs::read_to_string(r.aux().join("stderr")).unwrap_or_default()
    );
    let editor: u32 = fs::read_to_string(r.aux().join("editor.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The plaintext is in toolctl's memory now (it decrypted it and wrote the copy).
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:")
                && l.split_whitespace().nth(2) == Some(&user.uid.to_string())),
        "toolctl does not run as the test user:\n{status}"
    );
    assert_eq!(core_limit(pid), ("0".into(), "0".into()));
    // Not dumpable: the kernel gives its /proc entries to root. The editor (dumpable
    // again after exec, as any program toolctl starts) is the control.
    assert_eq!(
        fs::metadata(format!("/proc/{pid}/status")).unwrap().uid(),
        0
    );
    assert_eq!(
        fs::metadata(format!("/proc/{editor}/status"))
            .unwrap()
            .uid(),
        user.uid
    );
    // The editor inherits the core limit: it holds the plaintext too.
    assert_eq!(core_limit(editor), ("0".into(), "0".into()));
    // Another process of the same user cannot read toolctl's environment or memory map;
    // it can read the editor's.
    let probe = |p: u32| {
        user.sh(&format!(
            "cat /proc/{p}/environ > /dev/null && cat /proc/{p}/maps > /dev/null"
        ))
        .status
        .success()
    };
    assert!(!probe(pid), "toolctl's /proc entries were readable");
    assert!(probe(editor), "the control probe failed");

    // The edit ends normally once the editor does.
    user.sh_ok(&format!("kill {editor}"));
    let mut toolctl = toolctl;
    let status = toolctl.0.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    assert_eq!(names(&base), Vec::<String>::new());
    assert_no_secret_in(&fs::read_to_string(r.aux().join("stderr")).unwrap());
}
