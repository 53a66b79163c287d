//! `secret edit` leaves no copy of a secret behind: not in the editor's own files (vim's
//! viminfo, swap, undo and backup files), and not after toolctl is SIGKILLed mid-edit.
//!
//! Every test here points `TOOLCTL_TEST_EDIT_DIR` (read by debug builds only) at a directory
//! inside its own test root, so no plaintext ever lands in the real `/dev/shm`, and a test
//! that kills toolctl on purpose cannot race another test's sweep. The vim test drives
//! Debian's `vim.basic` in a private tmux server, with a vimrc that turns on every file vim
//! can keep, and first proves that this vimrc does leak the value when vim runs without
//! toolctl's flags, so the test could fail.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{chmod, parallel_steps, toolctl_bin, wait_for, Outcome, TestRoot, Toolctl};

const OLD: &str = "Old-Edit-Leak-7731";
const NEW: &str = "New-Value-1";

fn old_secret() -> String {
    format!("user_name: 'gitlab-inst'\npassword: '{OLD}'\n")
}

fn new_secret() -> String {
    format!("user_name: 'gitlab-inst'\npassword: '{NEW}'\n")
}

/// A root with settings, a key and the smtp secret holding [`OLD`], and an empty edit base.
fn setup() -> (TestRoot, PathBuf) {
    let r = TestRoot::builder()
        .settings("external_url = \"https://gitlab.example.com\"\n")
        .secrets_init()
        .secret("smtp", old_secret())
        .build();
    let base = r.aux().join("edit-base");
    fs::create_dir(&base).unwrap();
    (r, base)
}

/// `toolctl ARGS` with the edit directories under `base`.
fn run_in<I, S>(r: &TestRoot, base: &Path, args: I) -> Toolctl
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    r.toolctl(args).env("TOOLCTL_TEST_EDIT_DIR", base)
}

/// The entries of a directory, by name.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return found;
    };
    for e in rd {
        let path = e.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if meta.is_file() {
            let bytes = fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

/// Field 22 (start time) of `/proc/<pid>/stat`, and field 3 (state).
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f[0].chars().next()?, f[19].parse().ok()?))
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Kills a process this test started (the editor a killed toolctl left running) on drop.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: kill(2) on the pid of the `sleep` our own editor script exec'd.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

// ---------------------------------------------------------------------------------------
// 1. The editor's own copies
// ---------------------------------------------------------------------------------------

/// A vimrc that makes vim keep every copy it can: swap, undo, backup files and viminfo
/// (registers, search and command history), all under HOME, and a `viminfofile` setting
/// that wins over `-i NONE` unless toolctl sets it again after the vimrc.
const VIMRC: &str = "set nocompatible\n\
    set swapfile updatecount=1 updatetime=100 directory=~/swap//\n\
    set undofile undodir=~/undo//\n\
    set backup writebackup backupdir=~/backup// backupskip=\n\
    set history=100 viminfo='100,<50,s10,h,:100,/100,@100\n\
    set viminfofile=~/.viminfo\n";

/// A private tmux server, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("toolctl-it-edit-{tag}-{}", std::process::id()),
        }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn start(&self, command: &str) {
        let out = self.cmd(&[
            "new-session",
            "-d",
            "-s",
            "edit",
            "-x",
            "160",
            "-y",
            "40",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "edit"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "edit"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text`; fails with the screen otherwise.
    #[track_caller]
    fn wait_screen(&self, text: &str) {
        let mut screen = String::new();
        if !wait_for(Duration::from_secs(15), || {
            screen = self.screen();
            screen.contains(text)
        }) {
            panic!("the terminal never showed {text:?}:\n{screen}");
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// A HOME holding [`VIMRC`] and the empty swap, undo and backup directories it names.
fn vim_home(dir: &Path) -> PathBuf {
    let _ = fs::remove_dir_all(dir);
    for sub in ["swap", "undo", "backup"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::write(dir.join(".vimrc"), VIMRC).unwrap();
    dir.to_path_buf()
}

/// Runs `command` (which opens a file holding [`OLD`] in vim, then writes its exit status
/// into `done`) in tmux, and edits it as a person would: searches the old value, yanks
/// its line into the unnamed and the `a` register, replaces it with [`NEW`] through a
/// `:s` command, waits for the swap file to be written, then `:wq`. Returns the swap
/// directory's entries as they were while vim ran.
fn drive_vim(tag: &str, command: &str, home: &Path, done: &Path) -> Vec<String> {
    let tmux = Tmux::new(tag);
    tmux.start(command);
    tmux.wait_screen(OLD);
    // Flags a vim build does not know would stop it at a hit-enter prompt.
    let screen = tmux.screen();
    assert!(
        !screen.contains("Press ENTER") && !screen.contains("E51"),
        "vim complained:\n{screen}"
    );
    tmux.keys(&[&format!("/{}", &OLD[..8]), "Enter"]);
    tmux.keys(&["\"ayy"]);
    tmux.keys(&["yy"]);
    tmux.keys(&[&format!(":s/{OLD}/{NEW}/"), "Enter"]);
    tmux.wait_screen(&format!("password: '{NEW}'"));
    // `updatetime=100`: give vim time to flush the swap file, then look at it.
    std::thread::sleep(Duration::from_millis(500));
    let swap = entries(&home.join("swap"));
    tmux.keys(&[":wq", "Enter"]);
    if !wait_for(Duration::from_secs(15), || {
        fs::read_to_string(done).is_ok_and(|s| !s.trim().is_empty())
    }) {
        panic!("vim did not finish:\n{}", tmux.screen());
    }
    swap
}

#[test]
fn vim_keeps_no_copy_of_the_old_value_under_home() {
    let (r, base) = setup();
    let home = r.aux().join("home");

    // The control: the same vimrc and keystrokes, vim run by hand on a plain file. Every
    // kind of copy the test looks for must show up, or the test below could not fail.
    vim_home(&home);
    let plain = r.aux().join("plain/smtp.yaml");
    fs::create_dir_all(plain.parent().unwrap()).unwrap();
    fs::write(&plain, old_secret()).unwrap();
    let done = r.aux().join("done-control");
    let swap = drive_vim(
        "control",
        &format!(
            "env HOME={} vim.basic {}; echo $? > {}",
            home.display(),
            plain.display(),
            done.display()
        ),
        &home,
        &done,
    );
    assert_eq!(fs::read_to_string(&done).unwrap().trim(), "0");
    assert_eq!(fs::read_to_string(&plain).unwrap(), new_secret());
    assert!(!swap.is_empty(), "the control run made no swap file");
    let leaks = files_containing(&home, OLD);
    for kind in [".viminfo", "undo", "backup"] {
        assert!(
            leaks
                .iter()
                .any(|p| p.strip_prefix(&home).unwrap().starts_with(kind)),
            "without toolctl's flags the old value should be in {kind}; found it in {leaks:?}"
        );
    }
    println!("control run (vim without toolctl's flags) leaked into: {leaks:?}, swap {swap:?}");

    // The real run: `secret edit` with the same vimrc and the same keystrokes.
    vim_home(&home);
    let done = r.aux().join("done");
    let swap = drive_vim(
        "toolctl",
        &format!(
            "env -u XDG_RUNTIME_DIR HOME={} NO_COLOR=1 EDITOR=vim.basic TOOLCTL_TEST_EDIT_DIR={} \
             {} --root {} smtp secret edit; echo $? > {}",
            home.display(),
            base.display(),
            toolctl_bin().display(),
            r.root().display(),
            done.display()
        ),
        &home,
        &done,
    );
    assert_eq!(
        fs::read_to_string(&done).unwrap().trim(),
        "0",
        "toolctl did not save"
    );
    assert_eq!(r.show_secret("smtp"), new_secret().as_bytes());
    assert!(swap.is_empty(), "vim kept a swap file: {swap:?}");
    let leaks = files_containing(&home, OLD);
    assert!(leaks.is_empty(), "the old value was left in {leaks:?}");
    assert!(
        files_containing(&home, NEW)
            .iter()
            .all(|p| p.ends_with(".vimrc")),
        "vim kept a copy of the new value: {:?}",
        files_containing(&home, NEW)
    );
    let viminfo = home.join(".viminfo");
    assert!(
        !viminfo.exists()
            || !fs::read(&viminfo)
                .unwrap()
                .windows(OLD.len())
                .any(|w| w == OLD.as_bytes()),
        "{} holds the old value",
        viminfo.display()
    );
    for sub in ["swap", "undo", "backup"] {
        assert_eq!(entries(&home.join(sub)), Vec::<String>::new(), "~/{sub}");
    }
    assert_eq!(entries(&base), Vec::<String>::new(), "the edit directory");
}

/// Debian's default `vi` on a small system is `vim.tiny`, built without viminfo and
/// persistent undo (so it could not leak them): it must take the same flags without a
/// complaint and save as usual.
#[test]
fn vim_tiny_takes_the_same_flags() {
    let (r, base) = setup();
    let home = vim_home(&r.aux().join("home"));
    let done = r.aux().join("done");
    let swap = drive_vim(
        "tiny",
        &format!(
            "env -u XDG_RUNTIME_DIR HOME={} NO_COLOR=1 EDITOR=vim.tiny TOOLCTL_TEST_EDIT_DIR={} \
             {} --root {} smtp secret edit; echo $? > {}",
            home.display(),
            base.display(),
            toolctl_bin().display(),
            r.root().display(),
            done.display()
        ),
        &home,
        &done,
    );
    assert_eq!(fs::read_to_string(&done).unwrap().trim(), "0");
    assert_eq!(r.show_secret("smtp"), new_secret().as_bytes());
    assert!(swap.is_empty(), "{swap:?}");
    assert_eq!(files_containing(&home, OLD), Vec::<PathBuf>::new());
}

/// A nanorc that makes nano keep what it can: search history and backups of the file as
/// it was before the save, in a directory of their own.
fn nano_home(dir: &Path) -> PathBuf {
    let _ = fs::remove_dir_all(dir);
    for sub in ["backup", ".config/nano", ".local/share/nano"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::write(
        dir.join(".config/nano/nanorc"),
        format!(
            "set historylog\nset positionlog\nset backup\nset backupdir \"{}\"\n",
            dir.join("backup").display()
        ),
    )
    .unwrap();
    dir.to_path_buf()
}

/// The environment that points nano at `home`: as root nano ignores `$HOME` and reads
/// the XDG directories.
fn nano_env(home: &Path) -> String {
    format!(
        "HOME={h} XDG_CONFIG_HOME={h}/.config XDG_DATA_HOME={h}/.local/share",
        h = home.display()
    )
}

/// Runs `command` (nano on a file holding [`OLD`], then its exit status into `done`) in
/// tmux and replaces the old value with [`NEW`] through nano's search-and-replace (so it
/// is in the search history), saves (so a backup is made) and quits.
fn drive_nano(tag: &str, command: &str, done: &Path) {
    let tmux = Tmux::new(tag);
    tmux.start(command);
    tmux.wait_screen(OLD);
    tmux.keys(&["C-\\"]);
    tmux.wait_screen("to replace");
    tmux.keys(&[OLD, "Enter"]);
    tmux.wait_screen("Replace with");
    tmux.keys(&[NEW, "Enter"]);
    tmux.wait_screen("Replace this instance?");
    tmux.keys(&["a"]);
    tmux.wait_screen(&format!("password: '{NEW}'"));
    tmux.keys(&["C-s"]);
    tmux.wait_screen("Wrote 2 lines");
    tmux.keys(&["C-x"]);
    if !wait_for(Duration::from_secs(15), || {
        fs::read_to_string(done).is_ok_and(|s| !s.trim().is_empty())
    }) {
        panic!("nano did not finish:\n{}", tmux.screen());
    }
}

#[test]
fn nano_keeps_no_copy_of_the_old_value_under_home() {
    let (r, base) = setup();
    let home = r.aux().join("home");

    // The control: nano by hand keeps the old value in its search history and backup.
    nano_home(&home);
    let plain = r.aux().join("plain/smtp.yaml");
    fs::create_dir_all(plain.parent().unwrap()).unwrap();
    fs::write(&plain, old_secret()).unwrap();
    let done = r.aux().join("done-control");
    drive_nano(
        "nano-control",
        &format!(
            "env {} nano {}; echo $? > {}",
            nano_env(&home),
            plain.display(),
            done.display()
        ),
        &done,
    );
    assert_eq!(fs::read_to_string(&done).unwrap().trim(), "0");
    assert_eq!(fs::read_to_string(&plain).unwrap(), new_secret());
    let leaks = files_containing(&home, OLD);
    for kind in [".local/share/nano/search_history", "backup"] {
        assert!(
            leaks
                .iter()
                .any(|p| p.strip_prefix(&home).unwrap().starts_with(kind)),
            "without --restricted the old value should be in {kind}; found it in {leaks:?}"
        );
    }
    println!("control run (nano without --restricted) leaked into: {leaks:?}");

    nano_home(&home);
    let done = r.aux().join("done");
    drive_nano(
        "nano-toolctl",
        &format!(
            "env -u XDG_RUNTIME_DIR {} NO_COLOR=1 EDITOR=nano TOOLCTL_TEST_EDIT_DIR={} \
             {} --root {} smtp secret edit; echo $? > {}",
            nano_env(&home),
            base.display(),
            toolctl_bin().display(),
            r.root().display(),
            done.display()
        ),
        &done,
    );
    assert_eq!(fs::read_to_string(&done).unwrap().trim(), "0");
    assert_eq!(r.show_secret("smtp"), new_secret().as_bytes());
    let leaks = files_containing(&home, OLD);
    assert!(leaks.is_empty(), "the old value was left in {leaks:?}");
    assert_eq!(entries(&home.join("backup")), Vec::<String>::new());
    assert_eq!(entries(&base), Vec::<String>::new(), "the edit directory");
}

/// Writes an editor script `aux/bin/NAME` that records its argv into `aux/argv-NAME`
/// (and answers `--version` with `version`), changing nothing.
fn fake_editor(r: &TestRoot, name: &str, version: &str) -> PathBuf {
    let bin = r.aux().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let path = bin.join(name);
    fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             if [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\n\
             for a in \"$@\"; do printf '%s\\n' \"$a\"; done > {}/argv-{name}\n",
            r.aux().display()
        ),
    )
    .unwrap();
    chmod(&path, 0o755);
    path
}

const VIM_FLAGS: [&str; 7] = [
    "-i",
    "NONE",
    "-n",
    "-c",
    "set noundofile nobackup nowritebackup",
    "-c",
    "set viminfo= viminfofile=NONE",
];

#[test]
fn each_editor_family_gets_its_own_flags() {
    let (r, base) = setup();
    let vim = fake_editor(&r, "vim", "VIM - Vi IMproved 9.0");
    let nvim_flags: Vec<&str> = VIM_FLAGS[..6]
        .iter()
        .copied()
        .chain(["set shada= shadafile=NONE"])
        .collect();
    let gvim_flags: Vec<&str> = ["-f"].into_iter().chain(VIM_FLAGS).collect();
    // `editor` as Debian has it: a symlink (through /etc/alternatives) to a vim.
    std::os::unix::fs::symlink(&vim, r.aux().join("bin/editor")).unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("vim", vim.display().to_string(), VIM_FLAGS.to_vec()),
        (
            "vim",
            r.aux().join("bin/editor").display().to_string(),
            VIM_FLAGS.to_vec(),
        ),
        (
            "vim.basic",
            fake_editor(&r, "vim.basic", "").display().to_string(),
            VIM_FLAGS.to_vec(),
        ),
        (
            "nvim",
            fake_editor(&r, "nvim", "NVIM v0.9").display().to_string(),
            nvim_flags,
        ),
        (
            "gvim",
            fake_editor(&r, "gvim", "").display().to_string(),
            gvim_flags,
        ),
        (
            "nano",
            fake_editor(&r, "nano", "").display().to_string(),
            vec!["--restricted"],
        ),
        (
            "emacs",
            fake_editor(&r, "emacs", "GNU Emacs 29")
                .display()
                .to_string(),
            vec![],
        ),
    ];
    for (name, editor, flags) in cases {
        let out = run_in(&r, &base, ["smtp", "secret", "edit"])
            .env("EDITOR", &editor)
            .run();
        out.assert_code(0);
        let argv = fs::read_to_string(r.aux().join(format!("argv-{name}"))).unwrap();
        let argv: Vec<&str> = argv.lines().collect();
        assert_eq!(&argv[..argv.len() - 1], &flags[..], "EDITOR={editor}");
        assert!(argv.last().unwrap().ends_with("/smtp.yaml"), "{argv:?}");
    }

    // A `vi` of its own (RHEL's is a vim, elsewhere it may be ex-vi or nvi): asked.
    let bin = r.aux().join("bin");
    for (version, flags) in [
        ("VIM - Vi IMproved 8.2 (2019 Dec 12)", VIM_FLAGS.to_vec()),
        ("Version 1.81.6 (nvi)", vec![]),
    ] {
        let vi = fake_editor(&r, "vi", version);
        let out = run_in(&r, &base, ["smtp", "secret", "edit"])
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("EDITOR", "vi")
            .run();
        out.assert_code(0);
        let argv = fs::read_to_string(r.aux().join("argv-vi")).unwrap();
        let argv: Vec<&str> = argv.lines().collect();
        assert_eq!(&argv[..argv.len() - 1], &flags[..], "{version}");
        fs::remove_file(vi).unwrap();
    }

    // The user's own arguments come first, so ours win; a `--` stays last.
    let out = run_in(&r, &base, ["smtp", "secret", "edit"])
        .env("EDITOR", format!("{} -c 'set undofile' --", vim.display()))
        .run();
    out.assert_code(0);
    let argv = fs::read_to_string(r.aux().join("argv-vim")).unwrap();
    let argv: Vec<&str> = argv.lines().collect();
    let mut want = vec!["-c", "set undofile"];
    want.extend(VIM_FLAGS);
    want.push("--");
    assert_eq!(&argv[..argv.len() - 1], &want[..]);
}

// ---------------------------------------------------------------------------------------
// 2. Copies a killed toolctl left
// ---------------------------------------------------------------------------------------

/// Starts `smtp secret edit` with an editor that records its file's path and its own pid,
/// then `exec sleep 60`s; returns toolctl and the editor's pid once the editor runs.
fn start_blocking_edit(r: &TestRoot, base: &Path) -> (Child, u32) {
    let aux = r.aux().display().to_string();
    let ed = r.script(
        "blocking-editor.sh",
        &format!(
            "f=''; for a in \"$@\"; do f=\"$a\"; done\n\
             echo $$ > {aux}/editor.pid\n\
             printf '%s' \"$f\" > {aux}/path.tmp && mv {aux}/path.tmp {aux}/path\n\
             exec sleep 60"
        ),
    );
    let _ = fs::remove_file(r.aux().join("path"));
    let stderr = fs::File::create(r.aux().join("stderr")).unwrap();
    let mut cmd = run_in(r, base, ["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .command();
    cmd.stdout(Stdio::null()).stderr(stderr);
    let mut child = cmd.spawn().expect("spawn toolctl");
    if !wait_for(Duration::from_secs(15), || r.aux().join("path").exists()) {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the editor never started: {}",
            fs::read_to_string(r.aux().join("stderr")).unwrap()
        );
    }
    let pid: u32 = fs::read_to_string(r.aux().join("editor.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (child, pid)
}

/// The edit directory of the running edit.
fn edit_dir(r: &TestRoot) -> PathBuf {
    PathBuf::from(fs::read_to_string(r.aux().join("path")).unwrap())
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sigkill(child: &Child) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
}

#[track_caller]
fn assert_no_secret_in(out: &Outcome) {
    for v in [OLD, NEW] {
        assert!(
            !out.stderr.contains(v),
            "stderr holds a secret value\n{out}"
        );
    }
}

/// SIGKILLs toolctl mid-edit and checks what it left: the plaintext copy and an owner
/// record that names toolctl (not the editor, which lives on) and holds no secret.
/// Returns the copy's directory, toolctl's pid, the editor (killed on drop) and, when
/// `reap` is false, toolctl's zombie for the caller to reap.
fn kill_mid_edit(
    r: &TestRoot,
    base: &Path,
    reap: bool,
) -> (PathBuf, u32, KillOnDrop, Option<Child>) {
    let (mut child, editor) = start_blocking_edit(r, base);
    let editor = KillOnDrop(Some(editor));
    let toolctl = child.id();
    let (_, start) = proc_stat(toolctl).expect("toolctl runs");
    sigkill(&child);
    let zombie = if reap {
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        None
    } else {
        assert!(wait_for(Duration::from_secs(5), || {
            proc_stat(toolctl).is_some_and(|(state, _)| state == 'Z')
        }));
        Some(child)
    };
    let dir = edit_dir(r);
    assert!(
        dir.starts_with(base),
        "the copy was not under the test's base"
    );
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("toolctl-edit-{toolctl}-")),
        "{}",
        dir.display()
    );
    assert_eq!(
        fs::read_to_string(dir.join("smtp.yaml")).unwrap(),
        old_secret(),
        "the kill should have left the plaintext (that is what the sweep is for)"
    );
    let owner = fs::read_to_string(dir.join("owner")).unwrap();
    assert!(owner.contains(&format!("\npid={toolctl}\n")), "{owner}");
    assert!(
        owner.contains(&format!("\nstart_time={start}\n")),
        "{owner}"
    );
    assert!(!owner.contains(OLD), "{owner}");
    assert_eq!(crate::harness::mode(&dir.join("owner")), 0o600);
    assert!(
        alive(editor.0.unwrap()),
        "the editor should outlive the killed toolctl"
    );
    (dir, toolctl, editor, zombie)
}

#[test]
fn the_next_command_removes_the_copy_a_killed_edit_left() {
    let (r, base) = setup();
    let (dir, toolctl, _editor, _) = kill_mid_edit(&r, &base, true);
    let before = r.snapshot();

    let out = run_in(&r, &base, ["smtp", "secret", "show"]).run();
    out.assert_code(0);
    assert_eq!(out.stdout, old_secret().as_bytes());
    assert!(
        out.stderr.contains(&format!(
            "warning: removed `{}`, the plaintext copy of a `secret edit` whose toolctl (pid {toolctl}) was killed",
            dir.display()
        )),
        "{out}"
    );
    assert_no_secret_in(&out);
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert_eq!(entries(&base), Vec::<String>::new());
    before.assert_unchanged(&r.snapshot(), &out);

    // Said once: the next run finds nothing.
    let out = run_in(&r, &base, ["smtp", "secret", "show"]).run();
    out.assert_code(0);
    assert!(!out.stderr.contains("removed"), "{out}");
}

#[test]
fn a_killed_toolctl_that_is_not_reaped_yet_counts_as_gone() {
    let (r, base) = setup();
    let (dir, toolctl, _editor, zombie) = kill_mid_edit(&r, &base, false);
    let out = run_in(&r, &base, ["secrets", "status", "--output-format", "json"]).run();
    out.assert_code(0);
    assert_eq!(
        out.json()["stale_edit_dirs"],
        serde_json::json!([]),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!("(pid {toolctl}) was killed")),
        "{out}"
    );
    assert_no_secret_in(&out);
    assert!(!dir.exists());
    zombie.unwrap().wait().unwrap();
}

#[test]
fn a_running_edit_is_left_alone() {
    let (r, base) = setup();
    let (mut child, editor) = start_blocking_edit(&r, &base);
    let mut editor = KillOnDrop(Some(editor));
    let dir = edit_dir(&r);
    for args in [&["secrets", "status"][..], &["smtp", "secret", "show"]] {
        let out = run_in(&r, &base, args).run();
        assert!(!out.stderr.contains("removed"), "{out}");
        assert!(!out.stderr.contains("warning"), "{out}");
        assert_eq!(
            fs::read_to_string(dir.join("smtp.yaml")).unwrap(),
            old_secret(),
            "the running edit's copy was touched by {args:?}"
        );
    }
    // The editor ends (killed): toolctl saves nothing and removes its own copy.
    // SAFETY: kill(2) on the editor's pid, which this test's script recorded.
    unsafe { libc::kill(editor.0.take().unwrap() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(!dir.exists());
    assert_eq!(r.show_secret("smtp"), old_secret().as_bytes());
}

/// Makes `base/NAME` as an edit directory holding a plaintext file and, when `owner` is
/// given, that owner record.
fn fake_edit_dir(base: &Path, name: &str, owner: Option<String>) -> PathBuf {
    let dir = base.join(name);
    fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    fs::write(dir.join("smtp.yaml"), old_secret()).unwrap();
    if let Some(o) = owner {
        fs::write(dir.join("owner"), o).unwrap();
    }
    dir
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    assert!(!alive(pid));
    pid
}

#[test]
fn only_copies_whose_toolctl_is_gone_are_removed() {
    let (r, base) = setup();
    // This test process stands in for a live toolctl.
    let me = std::process::id();
    let (_, start) = proc_stat(me).unwrap();
    let record = |pid: u32, start: u64| format!("pid={pid}\nstart_time={start}\n");
    let alive_dir = fake_edit_dir(
        &base,
        &format!("toolctl-edit-{me}-alive"),
        Some(record(me, start)),
    );
    // The same pid with another start time: the pid was reused, the toolctl is gone.
    let reused = fake_edit_dir(
        &base,
        &format!("toolctl-edit-{me}-reused"),
        Some(record(me, start + 1)),
    );
    let dead = dead_pid();
    let gone = fake_edit_dir(
        &base,
        &format!("toolctl-edit-{dead}-gone"),
        Some(record(dead, 1)),
    );
    // Killed before the record was written: the name's pid decides.
    let unrecorded_alive = fake_edit_dir(&base, &format!("toolctl-edit-{me}-creating"), None);
    let unrecorded_dead = fake_edit_dir(&base, &format!("toolctl-edit-{dead}-early"), None);
    // Another user's directory is theirs to clean.
    let theirs = fake_edit_dir(
        &base,
        &format!("toolctl-edit-{dead}-theirs"),
        Some(record(dead, 1)),
    );
    let nobody = crate::harness::run_tool(
        "chown",
        &[OsStr::new("-R"), OsStr::new("nobody"), theirs.as_os_str()],
        None,
    );
    assert!(nobody.status.success());
    // A symlink is never followed: its target stays as it is.
    let target = r.aux().join("elsewhere");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), "keep").unwrap();
    let link = base.join(format!("toolctl-edit-{dead}-link"));
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let out = run_in(&r, &base, ["secrets", "status", "--output-format", "json"]).run();
    out.assert_code(0);
    assert_eq!(
        out.json()["stale_edit_dirs"],
        serde_json::json!([]),
        "{out}"
    );
    assert_no_secret_in(&out);
    for d in [&reused, &gone, &unrecorded_dead] {
        assert!(!d.exists(), "{} was not removed\n{out}", d.display());
        assert!(
            out.stderr.contains(&format!("removed `{}`", d.display())),
            "{out}"
        );
    }
    for d in [&alive_dir, &unrecorded_alive, &theirs] {
        assert_eq!(
            fs::read_to_string(d.join("smtp.yaml")).unwrap(),
            old_secret(),
            "{} was touched\n{out}",
            d.display()
        );
    }
    assert_eq!(out.stderr.matches("warning: removed").count(), 3, "{out}");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(target.join("keep")).unwrap(), "keep");
    assert_eq!(fs::metadata(&theirs).unwrap().uid(), 65534);
}

/// Clears the immutable flag it set, so the test's temp dir can be removed.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Immutable {
        let out = crate::harness::run_tool("chattr", &[OsStr::new("+i"), path.as_os_str()], None);
        assert!(out.status.success(), "chattr +i: {out:?}");
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = crate::harness::run_tool("chattr", &[OsStr::new("-i"), self.0.as_os_str()], None);
    }
}

#[test]
fn status_reports_copies_it_cannot_remove() {
    let (r, base) = setup();
    let dead = dead_pid();
    let stuck = fake_edit_dir(
        &base,
        &format!("toolctl-edit-{dead}-stuck"),
        Some(format!("pid={dead}\nstart_time=1\n")),
    );
    let _immutable = Immutable::set(&stuck.join("smtp.yaml"));
    // A directory from a toolctl that wrote no owner record: never guessed at.
    let legacy = fake_edit_dir(&base, "toolctl-edit-AbC123", None);
    let before = r.snapshot();

    let out = run_in(&r, &base, ["secrets", "status", "--output-format", "json"]).run();
    out.assert_code(1);
    assert_no_secret_in(&out);
    let stale = out.json()["stale_edit_dirs"].clone();
    assert_eq!(stale.as_array().unwrap().len(), 2, "{out}");
    let find = |p: &Path| {
        stale
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == p.display().to_string())
            .cloned()
            .unwrap_or_else(|| panic!("{} not listed\n{out}", p.display()))
    };
    let s = find(&stuck);
    assert_eq!(s["pid"], dead, "{out}");
    assert!(
        s["problem"]
            .as_str()
            .unwrap()
            .starts_with("cannot remove it: "),
        "{out}"
    );
    let l = find(&legacy);
    assert_eq!(l["pid"], serde_json::Value::Null);
    assert_eq!(l["problem"], "no owner record (left by an older toolctl?)");
    assert!(
        out.stderr
            .contains(&format!("cannot remove `{}`", stuck.display())),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!("rm -r {}", legacy.display())),
        "{out}"
    );
    assert!(stuck.exists() && legacy.join("smtp.yaml").exists());

    // The table says the same.
    let out = run_in(&r, &base, ["secrets", "status"]).run();
    out.assert_code(1);
    let table = out.stdout_str();
    assert!(table.contains("stale edit directory"), "{out}");
    assert!(table.contains(&stuck.display().to_string()), "{out}");
    assert!(table.contains(&legacy.display().to_string()), "{out}");
    assert!(table.contains(&dead.to_string()), "{out}");
    assert!(
        out.stderr
            .contains("plaintext copies of edited secrets are left"),
        "{out}"
    );
    assert_no_secret_in(&out);
    before.assert_unchanged(&r.snapshot(), &out);

    // Once it can be removed, it is.
    drop(_immutable);
    fs::remove_dir_all(&legacy).unwrap();
    let out = run_in(&r, &base, ["secrets", "status", "--output-format", "json"]).run();
    out.assert_code(0);
    assert_eq!(out.json()["stale_edit_dirs"], serde_json::json!([]));
    assert!(!stuck.exists());
}

/// An editor script in `r`'s aux directory that changes [`OLD`] into [`NEW`].
fn changing_editor(r: &TestRoot) -> PathBuf {
    r.script(
        "change.sh",
        &format!("f=''; for a in \"$@\"; do f=\"$a\"; done\nsed -i 's/{OLD}/{NEW}/' \"$f\""),
    )
}

#[test]
fn sigkill_at_every_step_of_an_edit_leaves_no_copy_after_the_next_command() {
    let (r, base) = setup();
    let ed = changing_editor(&r);
    let log = r.aux().join("failpoints.log");
    let out = run_in(&r, &base, ["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .env("TOOLCTL_FAILPOINT_LOG", &log)
        .run();
    out.assert_code(0);
    let mut steps: Vec<String> = Vec::new();
    for l in fs::read_to_string(&log).unwrap().lines() {
        if !steps.iter().any(|s| s == l) {
            steps.push(l.to_string());
        }
    }
    for s in [
        "edit-dir-created",
        "edit-owner-recorded",
        "edit-plaintext-written",
        "edit-editor-exited",
    ] {
        assert!(steps.iter().any(|x| x == s), "no step {s} in {steps:?}");
    }
    // Each step on a fresh root holding the old secret, so the steps run in parallel.
    parallel_steps(&steps, |step| {
        let (r, base) = setup();
        let ed = changing_editor(&r);
        let out = run_in(&r, &base, ["smtp", "secret", "edit"])
            .env("EDITOR", &ed)
            .env("TOOLCTL_FAILPOINT", step)
            .run();
        assert_eq!(out.code, None, "not killed at {step}\n{out}");
        let out = run_in(&r, &base, ["secrets", "status", "--output-format", "json"]).run();
        assert_eq!(
            out.json()["stale_edit_dirs"],
            serde_json::json!([]),
            "{step}\n{out}"
        );
        assert_no_secret_in(&out);
        assert_eq!(
            entries(&base),
            Vec::<String>::new(),
            "after a kill at {step}"
        );
        let shown = r.show_secret("smtp");
        assert!(
            shown == old_secret().as_bytes() || shown == new_secret().as_bytes(),
            "after a kill at {step}: {}",
            String::from_utf8_lossy(&shown)
        );
    });
    println!("killed `secret edit` at {} steps: {steps:?}", steps.len());
}

#[test]
fn under_sudo_without_an_editor_one_line_says_sudo_dropped_it() {
    let (r, base) = setup();
    fake_editor(&r, "editor", "");
    let bin = r.aux().join("bin");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let line = "`sudo` drops `EDITOR`: use `sudo EDITOR=vim toolctl smtp secret edit`";
    let out = run_in(&r, &base, ["smtp", "secret", "edit"])
        .env("PATH", &path)
        .env("SUDO_USER", "alice")
        .run();
    out.assert_code(0);
    let err = out.stderr.clone();
    assert_eq!(err.matches(line).count(), 1, "{out}");
    assert!(
        r.aux().join("argv-editor").is_file(),
        "the fallback did not open\n{out}"
    );
    // With an editor chosen, or not under sudo: no such line.
    for (k, v) in [
        ("EDITOR", bin.join("editor")),
        ("VISUAL", bin.join("editor")),
    ] {
        let out = run_in(&r, &base, ["smtp", "secret", "edit"])
            .env("PATH", &path)
            .env("SUDO_USER", "alice")
            .env(k, &v)
            .run();
        out.assert_code(0);
        assert!(!out.stderr.contains("drops"), "{out}");
    }
    let out = run_in(&r, &base, ["smtp", "secret", "edit"])
        .env("PATH", &path)
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("drops"), "{out}");
}

#[test]
fn an_edit_that_stores_a_short_password_is_warned_about() {
    let (r, base) = setup();
    let ed = r.script(
        "short-editor.sh",
        "f=''; for a in \"$@\"; do f=\"$a\"; done\nprintf 'user_name: u\\npassword: zq9\\n' > \"$f\"",
    );
    let out = run_in(&r, &base, ["smtp", "secret", "edit"])
        .env("EDITOR", &ed)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("shorter than 8 characters"), "{out}");
    assert!(!out.stderr.contains("zq9"), "{out}");
}
