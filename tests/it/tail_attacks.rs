//! `tail` in a log directory whose owner is hostile, and the
//! bash completion of its targets. Every attack is planted by a real unprivileged user
//! ([`Attacker`]) in a non-sticky directory it owns; toolctl runs as root.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{toolctl_bin, TestRoot, Toolctl};
use crate::tail::{append, contains, logs, write_log, Tail};

const AGE_KEY: &str = "AGE-SECRET-KEY-1QQQTHEAGEKEYMUSTNEVERSHOW";
const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----ROOTONLYSSHKEY";
const FOREIGN: &str = "FOREIGN-HOME-CONTENT";

/// A root with a root-owned log directory, a root-owned service (`gitlab/production.log`)
/// and a service directory `mailroom` that belongs to the attacker (0755, not sticky), with
/// its own `mail_room.log`. Root-only secrets lie in the root: the age key and an ssh key.
fn hostile_logs() -> (TestRoot, Attacker, PathBuf) {
    let t = TestRoot::new();
    let a = Attacker::new();
    write_log(&t, "gitlab/production.log", "root-log-line\n");
    let svc = logs(&t).join("mailroom");
    fs::create_dir_all(&svc).unwrap();
    fs::set_permissions(&svc, fs::Permissions::from_mode(0o755)).unwrap();
    a.own(&svc);
    a.sh_ok(&format!(
        "echo attacker-line > '{}/mail_room.log'",
        svc.display()
    ));
    for (rel, secret) in [
        ("etc/toolctl/secrets.key", AGE_KEY),
        ("root/.ssh/id_rsa", SSH_KEY),
    ] {
        let p = t.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, format!("{secret}\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    }
    fs::set_permissions(t.path("root"), fs::Permissions::from_mode(0o700)).unwrap();
    (t, a, svc)
}

/// Waits until `tail` has shown both services, then lets it run a little more.
fn settle(tail: &mut Tail, t: &TestRoot) {
    tail.expect("root-log-line\n");
    tail.expect("attacker-line\n");
    tail.sync(&logs(t).join("gitlab/production.log"));
}

#[track_caller]
fn assert_no_secret(tail: &Tail) {
    let out = tail.text();
    let err = tail.stderr();
    for secret in [AGE_KEY, SSH_KEY, FOREIGN] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked\n--- stdout:\n{out}\n--- stderr:\n{err}"
        );
    }
}

#[test]
fn links_to_root_only_files_are_never_read() {
    let (t, a, svc) = hostile_logs();
    let key = t.path("etc/toolctl/secrets.key");
    let ssh = t.path("root/.ssh/id_rsa");
    let before = [Fingerprint::of(&key), Fingerprint::of(&ssh)];
    // Absolute links, relative links climbing out, a link to a root-owned log inside the
    // log directory, and a link through a linked directory.
    a.sh_ok(&format!(
        "cd '{svc}' && ln -s '{key}' age.log && ln -s '{ssh}' id_rsa.log \
         && ln -s ../../../../etc/toolctl/secrets.key rel.log \
         && ln -s ../gitlab/production.log steal.log \
         && ln -s '{root}' rootdir && ln -s rootdir/.ssh/id_rsa through.log \
         && echo mine > own.txt && ln -s own.txt mine.log",
        svc = svc.display(),
        key = key.display(),
        ssh = ssh.display(),
        root = t.path("root").display(),
    ));
    let mut tail = Tail::start(&t, &[]);
    settle(&mut tail, &t);
    // The secrets were never printed; the refusals are said; the target is untouched.
    assert_no_secret(&tail);
    let err = tail.stderr();
    for name in ["age.log", "id_rsa.log", "rel.log", "through.log"] {
        assert!(
            err.contains(&format!("mailroom/{name}` is a link to")),
            "no refusal for {name}:\n{err}"
        );
    }
    assert!(err.contains("outside the log directory"), "{err}");
    assert!(
        err.contains("mailroom/steal.log` is a link to `../gitlab/production.log`, owned by"),
        "{err}"
    );
    assert!(
        !tail.text().contains("==> mailroom/steal.log <=="),
        "{}",
        tail.text()
    );
    // The attacker's link to its own file beneath the log directory is followed.
    tail.expect("mine\n");
    drop(tail);
    assert_eq!(before, [Fingerprint::of(&key), Fingerprint::of(&ssh)]);

    // Named as TARGET, each refused link is an error (exit 2) with a hint; its own is not.
    for target in [
        "mailroom/age.log",
        "mailroom/rel.log",
        "mailroom/steal.log",
        "mailroom/through.log",
        "mailroom/rootdir",
        "mailroom/rootdir/.ssh/id_rsa",
    ] {
        let out = t.toolctl(["tail", target]).run();
        out.assert_code(2);
        assert!(out.stderr.contains("hint:"), "{target}: {}", out.stderr);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            !shown.contains("PRIVATE") && !shown.contains("AGE-"),
            "{target}"
        );
    }
    let own = Tail::start(&t, &["mailroom/mine.log"]);
    own.expect("mine\n");
    let own_file = svc.join("own.txt");
    append(&own_file, b"more of mine\n");
    own.expect("more of mine\n");
    drop(own);
    assert_eq!(before, [Fingerprint::of(&key), Fingerprint::of(&ssh)]);
}

#[test]
fn a_linked_home_and_a_huge_tree_are_bounded() {
    let (t, a, svc) = hostile_logs();
    // A "home directory" outside the log directory, with a loop back to itself.
    let home = t.aux().join("home");
    fs::create_dir_all(home.join("deep/er")).unwrap();
    fs::write(home.join("deep/er/notes.log"), format!("{FOREIGN}\n")).unwrap();
    std::os::unix::fs::symlink(&home, home.join("loop")).unwrap();
    a.sh_ok(&format!(
        "cd '{svc}' && ln -s '{home}' home && ln -s . self \
         && mkdir -p d/d/d/d/d/d/d/d/d/d/d/d && echo too-deep > d/d/d/d/d/d/d/d/d/d/d/d/x.log \
         && mkdir wide && cd wide && i=0 && while [ $i -lt 1100 ]; do mkdir $i; i=$((i+1)); done",
        svc = svc.display(),
        home = home.display(),
    ));
    let mut tail = Tail::start(&t, &[]);
    settle(&mut tail, &t);
    assert_no_secret(&tail);
    let err = tail.stderr();
    assert!(!err.contains("Too many open files"), "{err}");
    assert!(
        err.contains("not following directories more than 8 levels below the followed one"),
        "{err}"
    );
    assert!(err.contains("directories (first left out:"), "{err}");
    assert!(!tail.text().contains("too-deep"), "{}", tail.text());
    // Still alive and following.
    append(&svc.join("mail_room.log"), b"after the flood\n");
    tail.expect("after the flood\n");
    assert_eq!(tail.stop(libc::SIGTERM), Some(130));
}

#[test]
fn fifos_and_devices_are_never_opened() {
    let (t, a, svc) = hostile_logs();
    a.sh_ok(&format!(
        "cd '{svc}' && mkfifo pipe.log && ln -s pipe.log viafifo.log",
        svc = svc.display()
    ));
    // A device node cannot be made by the attacker; root plants one as if it had been
    // left there (a /dev/zero: read, it would flood the output with NUL bytes).
    let status = Command::new("mknod")
        .arg(svc.join("zero.log"))
        .args(["c", "1", "5"])
        .status()
        .unwrap();
    assert!(status.success());
    // A writer that blocks until someone opens the FIFO for reading: it gives up after
    // 5 s (exit 124) only if nobody did.
    let writer = a
        .command("timeout")
        .args(["5", "sh", "-c"])
        .arg(format!("echo FIFO-CONTENT > '{}/pipe.log'", svc.display()))
        .spawn()
        .unwrap();
    let mut tail = Tail::start(&t, &[]);
    settle(&mut tail, &t);
    append(&svc.join("mail_room.log"), b"still here\n");
    tail.expect("still here\n");
    let out = writer.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(124), "the FIFO was opened");
    let err = tail.stderr();
    assert!(
        err.contains("mailroom/pipe.log` is a device, FIFO or socket: not opened"),
        "{err}"
    );
    assert!(
        err.contains("mailroom/zero.log` is a device, FIFO or socket: not opened"),
        "{err}"
    );
    assert!(
        err.contains("mailroom/viafifo.log` is a link to `pipe.log`, which is not a regular file"),
        "{err}"
    );
    assert!(!tail.output().contains(&0u8), "NUL bytes from the device");
    assert!(!tail.text().contains("FIFO-CONTENT"));
    drop(tail);
    // Named as TARGET: refused, exit 2, without hanging.
    for target in ["mailroom/pipe.log", "mailroom/zero.log"] {
        let out = t.toolctl(["tail", target]).run();
        out.assert_code(2);
        assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    }
}

const HOSTILE_LINE: &[u8] =
    b"before\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4K\x07\r\x1b[Kforged\tafter\n";

/// `toolctl tail ARGS` on a real terminal (script(1)) for two seconds: what the terminal got.
fn on_terminal(t: &TestRoot, args: &str) -> Vec<u8> {
    let line = format!(
        "timeout -s INT 2 {} --root '{}' tail {args}",
        toolctl_bin().display(),
        t.root().display()
    );
    let out = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("TOOLCTL_ROOT")
        .output()
        .expect("run script(1)");
    out.stdout
}

#[test]
fn escape_sequences_are_shown_escaped_on_a_terminal_and_kept_by_raw() {
    let (t, a, svc) = hostile_logs();
    let log = svc.join("mail_room.log");
    fs::write(&log, HOSTILE_LINE).unwrap();
    // A file name with an escape sequence is shown escaped too.
    a.sh_ok(&format!(
        "printf 'named\\n' > \"$(printf '{}/t\\033]0;NAME\\007.log')\"",
        svc.display()
    ));
    let screen = on_terminal(&t, "mailroom");
    let text = String::from_utf8_lossy(&screen).replace("\r\n", "\n");
    assert!(
        text.contains("before\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\x1b]52;c;cm0gLXJmIH4K\\x07\\x0d\\x1b[Kforged\tafter\n"),
        "{text:?}"
    );
    assert!(
        text.contains("==> mailroom/t\\x1b]0;NAME\\x07.log <=="),
        "{text:?}"
    );
    assert!(
        !screen.contains(&0x1b) && !screen.contains(&0x07),
        "{text:?}"
    );
    assert!(
        !text.contains('\r'),
        "a lone CR reached the terminal: {text:?}"
    );

    // --raw: the bytes as they are.
    let screen = on_terminal(&t, "--raw mailroom/mail_room.log");
    assert!(
        contains(&screen, b"\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b]52;c;"),
        "{:?}",
        String::from_utf8_lossy(&screen)
    );

    // Into a pipe the bytes pass unchanged, without --raw.
    let tail = Tail::start(&t, &["mailroom/mail_room.log"]);
    tail.expect_bytes(HOSTILE_LINE);
}

/// Runs bash completion as an administrator's interactive shell would: the committed
/// completion script loaded, `COMP_WORDS` for `toolctl tail WORD`, the function called,
/// then the command line with the first candidate inserted evaluated as if Enter was
/// pressed (`toolctl` then being a function that records its arguments), as root, in
/// `cwd`. Returns (every candidate, the arguments the command got).
fn complete_and_run(t: &TestRoot, word: &str, cwd: &Path) -> (Vec<String>, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/toolctl.bash");
    let bin_dir = toolctl_bin().parent().unwrap().to_path_buf();
    let body = r#"
source "$SCRIPT"
COMP_LINE="toolctl tail $WORD"
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(toolctl tail "$WORD")
COMP_CWORD=2
COMP_TYPE=9
_clap_complete_toolctl toolctl "$WORD" tail
printf '%s\n' "${COMPREPLY[@]}" > candidates
toolctl() { printf '%s\n' "$@" > args; }
[ "${#COMPREPLY[@]}" -gt 0 ] && eval "toolctl tail ${COMPREPLY[0]}"
true
"#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", body])
        .current_dir(cwd)
        .env("SCRIPT", &script)
        .env("WORD", word)
        .env("TOOLCTL_ROOT", t.root())
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let read = |name: &str| -> Vec<String> {
        fs::read_to_string(cwd.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let got = (read("candidates"), read("args"));
    let _ = fs::remove_file(cwd.join("candidates"));
    let _ = fs::remove_file(cwd.join("args"));
    got
}

#[test]
fn bash_completion_quotes_hostile_names_and_runs_nothing() {
    let (t, a, svc) = hostile_logs();
    a.sh_ok(&format!(
        "cd '{}' && : > 'zz;touch PWNED;.log' && : > 'a b.log' && : > '$(touch PWNED2).log' \
         && : > \"$(printf 'ctl\\033]0;x\\007.log')\"",
        svc.display()
    ));
    let cwd = t.aux().join("admin");
    fs::create_dir_all(&cwd).unwrap();

    let (cands, args) = complete_and_run(&t, "mailroom/zz", &cwd);
    assert_eq!(cands, ["mailroom/zz\\;touch\\ PWNED\\;.log"]);
    assert_eq!(args, ["tail", "mailroom/zz;touch PWNED;.log"]);
    assert!(
        !cwd.join("PWNED").exists(),
        "the file name ran as a command"
    );

    let (cands, args) = complete_and_run(&t, "mailroom/a", &cwd);
    assert_eq!(cands, ["mailroom/a\\ b.log"]);
    assert_eq!(args, ["tail", "mailroom/a b.log"]);

    let (cands, args) = complete_and_run(&t, "mailroom/\\$", &cwd);
    assert_eq!(args, ["tail", "mailroom/$(touch PWNED2).log"], "{cands:?}");

    // Everything offered: the control-character name is left out, the rest quoted.
    let (cands, _) = complete_and_run(&t, "mailroom/", &cwd);
    assert!(
        cands.contains(&"mailroom/a\\ b.log".to_string()),
        "{cands:?}"
    );
    assert!(
        cands.contains(&"mailroom/mail_room.log".to_string()),
        "{cands:?}"
    );
    assert!(!cands.iter().any(|c| c.contains("ctl")), "{cands:?}");
    assert!(
        !cands.iter().any(|c| c.chars().any(char::is_control)),
        "{cands:?}"
    );
    assert!(!cwd.join("PWNED").exists() && !cwd.join("PWNED2").exists());
    assert!(!svc.join("PWNED").exists() && !svc.join("PWNED2").exists());

    // The fish and zsh protocols get the names as they are (those shells quote them).
    let out = Toolctl::bare(["--", "toolctl", "tail", "mailroom/a"])
        .env("COMPLETE", "fish")
        .env("TOOLCTL_ROOT", t.root())
        .run();
    out.assert_code(0);
    assert!(
        out.stdout_str().contains("mailroom/a b.log"),
        "{}",
        out.stdout_str()
    );
}
