//! `tail`: the real binary follows real files; every test reads its stdout on a thread
//! with a deadline, so a lost line fails the test instead of hanging it.
//!
//! Readiness: a follower has added all its watches before it prints anything, so tests
//! either wait for the initial lines or write probe lines until one comes back.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::harness::{wait_for, TestRoot};

/// How long any expected output may take to arrive.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// A running `toolctl tail`, its stdout and stderr collected on threads.
pub(crate) struct Tail {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    threads: Vec<JoinHandle<()>>,
    probes: usize,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl Tail {
    /// `toolctl --root R [global…] tail ARGS`, stdout and stderr piped.
    fn spawn(t: &TestRoot, args: &[&str], env: &[(&str, &str)]) -> (Child, ChildStdout) {
        let mut tc = t.toolctl(args);
        for (k, v) in env {
            tc = tc.env(k, v);
        }
        let mut cmd = tc.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn toolctl tail");
        let stdout = child.stdout.take().unwrap();
        (child, stdout)
    }

    /// `toolctl tail ARGS`.
    pub(crate) fn start(t: &TestRoot, args: &[&str]) -> Tail {
        Self::start_env(t, args, &[])
    }

    pub(crate) fn start_env(t: &TestRoot, args: &[&str], env: &[(&str, &str)]) -> Tail {
        Self::start_with(t, &[], args, env)
    }

    /// `toolctl GLOBAL… tail ARGS` with extra environment.
    pub(crate) fn start_with(
        t: &TestRoot,
        global: &[&str],
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Tail {
        let all: Vec<&str> = global
            .iter()
            .chain(&["tail"])
            .chain(args)
            .copied()
            .collect();
        let (mut child, stdout) = Self::spawn(t, &all, env);
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let threads = vec![
            collect(stdout, Arc::clone(&out)),
            collect(child.stderr.take().unwrap(), Arc::clone(&err)),
        ];
        Tail {
            child,
            out,
            err,
            threads,
            probes: 0,
        }
    }

    pub(crate) fn output(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.output()).into_owned()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Waits until stdout contains `needle`; fails the test with what arrived otherwise.
    #[track_caller]
    pub(crate) fn expect(&self, needle: &str) {
        self.expect_bytes(needle.as_bytes());
    }

    #[track_caller]
    pub(crate) fn expect_bytes(&self, needle: &[u8]) {
        let found = wait_for(DEADLINE, || contains(&self.output(), needle));
        assert!(
            found,
            "never saw {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            String::from_utf8_lossy(&needle[..needle.len().min(200)]),
            self.text(),
            self.stderr()
        );
    }

    /// Appends probe lines to `file` until one comes back: the follower is watching.
    #[track_caller]
    pub(crate) fn sync(&mut self, file: &Path) {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            self.probes += 1;
            let probe = format!("probe-{}\n", self.probes);
            append(file, probe.as_bytes());
            if wait_for(Duration::from_millis(300), || {
                contains(&self.output(), probe.as_bytes())
            }) {
                return;
            }
        }
        panic!("the follower never showed a probe\n{}", self.stderr());
    }

    /// Sends `sig` and waits for the exit code.
    pub(crate) fn stop(mut self, sig: i32) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
        let code = wait_exit(&mut self.child);
        for th in self.threads.drain(..) {
            th.join().unwrap();
        }
        code
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The exit code within the deadline (`None`: killed by a signal); fails on a hang.
pub(crate) fn wait_exit(child: &mut Child) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("toolctl tail did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    count(hay, needle) > 0
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() || hay.len() < needle.len() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

pub(crate) fn logs(t: &TestRoot) -> PathBuf {
    t.path("var/log/toolctl")
}

/// Creates `rel` under the log directory (and its parents) with `content`.
pub(crate) fn write_log(t: &TestRoot, rel: &str, content: &str) -> PathBuf {
    let path = logs(t).join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
    path
}

pub(crate) fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

fn numbered(prefix: &str, range: std::ops::RangeInclusive<usize>) -> String {
    range.map(|i| format!("{prefix}{i}\n")).collect()
}

#[test]
fn prints_the_last_lines_with_headers_then_follows() {
    let t = TestRoot::new();
    let access = write_log(&t, "nginx/access.log", &numbered("a", 1..=15));
    let prod = write_log(&t, "gitlab-rails/production.log", "b1\nb2\n");
    let tail = Tail::start(&t, &["-n", "3"]);
    let initial =
        "==> gitlab-rails/production.log <==\nb1\nb2\n\n==> nginx/access.log <==\na13\na14\na15\n";
    tail.expect(initial);
    append(&access, b"a16\n");
    tail.expect("a16\n");
    append(&prod, b"b3\n");
    tail.expect("b3\n");
    assert_eq!(
        tail.text(),
        format!("{initial}a16\n\n==> gitlab-rails/production.log <==\nb3\n"),
        "headers only when the source changes"
    );
}

#[test]
fn zero_lines_prints_only_what_is_new() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", &numbered("old", 1..=5));
    let mut tail = Tail::start(&t, &["-n", "0"]);
    tail.sync(&app);
    append(&app, b"fresh\n");
    tail.expect("fresh\n");
    assert!(
        !tail.text().contains("old"),
        "-n 0 printed old lines:\n{}",
        tail.text()
    );
}

#[test]
fn prefix_puts_the_path_before_each_line_without_colour_in_a_pipe() {
    let t = TestRoot::new();
    let access = write_log(&t, "nginx/access.log", &numbered("a", 1..=5));
    write_log(&t, "gitlab-rails/production.log", "b1\nb2\n");
    // Colour is forced, yet stdout is a pipe: no escape codes.
    let tail = Tail::start_with(&t, &["--color", "always"], &["--prefix", "-n", "1"], &[]);
    let initial = "gitlab-rails/production.log: b2\nnginx/access.log: a5\n";
    tail.expect(initial);
    append(&access, b"a6\n");
    tail.expect("a6\n");
    assert_eq!(tail.text(), format!("{initial}nginx/access.log: a6\n"));
    assert!(!tail.text().contains('\x1b'));
}

#[test]
fn grep_filters_lines_and_headers() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "INFO one\nERROR two\nINFO three\n");
    write_log(&t, "db/db.log", "INFO quiet\n");
    let tail = Tail::start(&t, &["--grep", "ERROR|FATAL"]);
    tail.expect("ERROR two\n");
    append(&app, b"INFO four\nFATAL five\n");
    tail.expect("FATAL five\n");
    assert_eq!(tail.text(), "==> app/app.log <==\nERROR two\nFATAL five\n");
}

#[test]
fn an_invalid_grep_is_an_error_with_a_hint() {
    let t = TestRoot::new();
    write_log(&t, "app/app.log", "x\n");
    let out = t.toolctl(["tail", "--grep", "(unclosed"]).run();
    out.assert_error("not a valid regular expression", &["regex"]);
}

#[test]
fn rotation_by_rename_keeps_the_lines_written_to_the_old_file() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "");
    let mut tail = Tail::start(&t, &[]);
    tail.sync(&app);
    let mut old = OpenOptions::new().append(true).open(&app).unwrap();
    old.write_all(numbered("before-", 1..=50).as_bytes())
        .unwrap();
    fs::rename(&app, app.with_extension("log.1")).unwrap();
    // The daemon has not reopened yet: these go to the renamed file.
    for i in 1..=50 {
        writeln!(old, "late-{i}").unwrap();
    }
    drop(old);
    append(&app, numbered("new-", 1..=50).as_bytes());
    tail.expect("new-50\n");
    tail.expect("late-50\n");
    let out = tail.output();
    for prefix in ["before-", "late-", "new-"] {
        for i in 1..=50 {
            let line = format!("\n{prefix}{i}\n");
            assert_eq!(
                count(&out, line.as_bytes()),
                1,
                "{line:?} not exactly once:\n{}",
                tail.text()
            );
        }
    }
    let pos = |s: &str| tail.text().find(s).unwrap();
    assert!(
        pos("late-50\n") < pos("new-1\n"),
        "old lines come first:\n{}",
        tail.text()
    );
}

#[test]
fn svlogd_rotation_drains_the_archived_file_until_quiet() {
    // svlogd renames `current` to `@<tai64n>.s`, a name that is not followed: the old file
    // is drained as an orphan, including what arrives a little after the rename.
    let t = TestRoot::new();
    let current = write_log(&t, "sidekiq/current", "");
    let mut tail = Tail::start(&t, &[]);
    tail.sync(&current);
    let mut old = OpenOptions::new().append(true).open(&current).unwrap();
    fs::rename(
        &current,
        logs(&t).join("sidekiq/@400000006571c3a01234abcd.s"),
    )
    .unwrap();
    append(&current, b"new current\n");
    tail.expect("new current\n");
    std::thread::sleep(Duration::from_millis(300));
    old.write_all(b"written after the rename\n").unwrap();
    tail.expect("written after the rename\n");
}

#[test]
fn a_followed_file_renamed_away_is_drained_in_single_file_mode() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "first\n");
    // An absolute TARGET; a single file gets no headers.
    let tail = Tail::start(&t, &[app.to_str().unwrap()]);
    tail.expect("first\n");
    let mut old = OpenOptions::new().append(true).open(&app).unwrap();
    fs::rename(&app, app.with_extension("log.1")).unwrap();
    old.write_all(b"to the old file\n").unwrap();
    append(&app, b"to the new file\n");
    tail.expect("to the new file\n");
    std::thread::sleep(Duration::from_millis(200));
    old.write_all(b"still the old file\n").unwrap();
    tail.expect("still the old file\n");
    assert_eq!(
        tail.text(),
        "first\nto the old file\nto the new file\nstill the old file\n"
    );
}

#[test]
fn copytruncate_restarts_from_the_new_start() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/production.log", &numbered("before-", 1..=20));
    let tail = Tail::start(&t, &["-n", "2"]);
    tail.expect("before-20\n");
    let f = OpenOptions::new().write(true).open(&app).unwrap();
    f.set_len(0).unwrap();
    drop(f);
    append(&app, b"after-1\nafter-2\n");
    tail.expect("after-2\n");
    assert!(
        tail.text().contains("before-20\nafter-1\nafter-2\n"),
        "{}",
        tail.text()
    );
}

#[test]
fn a_file_replaced_by_another_inode_is_read_from_its_start() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "one\n");
    let tail = Tail::start(&t, &[]);
    tail.expect("one\n");
    let tmp = logs(&t).join("app/app.log.tmp");
    fs::write(&tmp, "replaced-1\nreplaced-2\n").unwrap();
    fs::rename(&tmp, &app).unwrap();
    tail.expect("replaced-2\n");
    assert_eq!(count(&tail.output(), b"replaced-1\n"), 1, "{}", tail.text());
}

#[test]
fn files_created_later_are_followed_in_old_and_new_directories() {
    let t = TestRoot::new();
    let a = write_log(&t, "svc/a.log", "");
    let mut tail = Tail::start(&t, &[]);
    tail.sync(&a);
    append(&logs(&t).join("svc/b.log"), b"in an existing directory\n");
    // Nested directories and the file appear faster than a watch can be added.
    let deep = logs(&t).join("new/deep/er");
    fs::create_dir_all(&deep).unwrap();
    append(&deep.join("c.log"), b"in new directories\n");
    tail.expect("==> svc/b.log <==\nin an existing directory\n");
    tail.expect("==> new/deep/er/c.log <==\nin new directories\n");
    append(&deep.join("c.log"), b"and more\n");
    tail.expect("in new directories\nand more\n");
    fs::create_dir(logs(&t).join("later")).unwrap();
    append(&logs(&t).join("later/d.log"), b"later still\n");
    tail.expect("==> later/d.log <==\nlater still\n");
}

#[test]
fn a_deleted_file_does_not_stop_the_others_and_can_come_back() {
    let t = TestRoot::new();
    let a = write_log(&t, "svc/a.log", "a1\n");
    let b = write_log(&t, "svc/b.log", "b1\n");
    let tail = Tail::start(&t, &[]);
    tail.expect("b1\n");
    fs::remove_file(&a).unwrap();
    append(&b, b"b2\n");
    tail.expect("b2\n");
    append(&a, b"a again\n");
    tail.expect("==> svc/a.log <==\na again\n");
    assert!(tail.stderr().is_empty(), "{}", tail.stderr());
}

#[test]
fn a_partial_line_waits_for_its_end_or_the_timeout() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "");
    let mut tail = Tail::start(&t, &[app.to_str().unwrap()]);
    tail.sync(&app);
    append(&app, b"hello ");
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !tail.text().contains("hello"),
        "a partial line was split off:\n{}",
        tail.text()
    );
    append(&app, b"world\n");
    tail.expect("hello world\n");
    // A last line that never ends shows after the idle timeout, and goes on in place.
    let before = Instant::now();
    append(&app, b"unterminated");
    tail.expect("unterminated");
    assert!(
        before.elapsed() >= Duration::from_millis(500),
        "flushed too early"
    );
    assert!(
        tail.output().ends_with(b"world\nunterminated"),
        "{}",
        tail.text()
    );
    append(&app, b" and finished\n");
    tail.expect("unterminated and finished\n");
}

#[test]
fn a_huge_line_passes_through_whole_while_another_file_talks() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "");
    let other = write_log(&t, "app/other.log", "");
    let mut tail = Tail::start(&t, &["app"]);
    tail.sync(&app);
    let mut line = vec![b'x'; 4 << 20];
    line.push(b'\n');
    let mut f = OpenOptions::new().append(true).open(&app).unwrap();
    for (i, chunk) in line.chunks(1 << 20).enumerate() {
        f.write_all(chunk).unwrap();
        append(&other, format!("other-{i}\n").as_bytes());
        std::thread::sleep(Duration::from_millis(50));
    }
    f.write_all(b"after\n").unwrap();
    tail.expect("after\n");
    let out = tail.output();
    let whole = [b"==> app/app.log <==\n", &line[..]].concat();
    assert_eq!(count(&out, &whole), 1, "the huge line was split or glued");
    for i in 0..4 {
        tail.expect(&format!("\nother-{i}\n"));
    }
}

#[test]
fn non_utf8_bytes_pass_through_unchanged() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "");
    let mut tail = Tail::start(&t, &["app"]);
    tail.sync(&app);
    let raw: &[u8] = b"caf\xe9 \xff\xfe\x00 latin-1 and garbage\n";
    append(&app, raw);
    tail.expect_bytes(raw);
}

#[test]
fn a_missing_target_lists_the_services() {
    let t = TestRoot::new();
    write_log(&t, "nginx/access.log", "x\n");
    write_log(&t, "gitlab-rails/production.log", "x\n");
    let out = t.toolctl(["tail", "gitlab-rail"]).run();
    out.assert_error("no log `gitlab-rail`", &["gitlab-rails, nginx"]);
    let out = t.toolctl(["tail", "/nonexistent/x.log"]).run();
    out.assert_error("/nonexistent/x.log", &["gitlab-rails, nginx"]);
}

#[test]
fn a_missing_log_directory_is_an_error() {
    let t = TestRoot::new();
    let out = t.toolctl(["tail"]).run();
    out.assert_error("does not exist", &["log_directory"]);
}

#[test]
fn an_empty_log_directory_waits_for_files() {
    let t = TestRoot::new();
    fs::create_dir_all(logs(&t)).unwrap();
    let mut tail = Tail::start(&t, &[]);
    // Nothing to sync on yet: the first file, created repeatedly, proves the watch.
    tail.sync(&logs(&t).join("first.log"));
    assert!(
        tail.text().starts_with("==> first.log <==\n"),
        "{}",
        tail.text()
    );
}

#[test]
fn a_symlinked_log_directory_is_followed() {
    let t = TestRoot::new();
    let real = t.aux().join("real-logs");
    fs::create_dir_all(real.join("svc")).unwrap();
    fs::write(real.join("svc/a.log"), "through the link\n").unwrap();
    fs::create_dir_all(logs(&t).parent().unwrap()).unwrap();
    symlink(&real, logs(&t)).unwrap();
    let tail = Tail::start(&t, &[]);
    tail.expect("==> svc/a.log <==\nthrough the link\n");
    fs::create_dir(real.join("other")).unwrap();
    append(&real.join("other/b.log"), b"new behind the link\n");
    tail.expect("==> other/b.log <==\nnew behind the link\n");
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "first\n");
    let (mut child, mut stdout) = Tail::spawn(&t, &["tail", "-n", "1"], &[]);
    // Read the first line on a thread, so a follower that prints nothing fails the test
    // instead of hanging it; the thread hands the pipe back.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let n = stdout.read(&mut buf).unwrap_or(0);
        let _ = tx.send((n, stdout));
    });
    let Ok((n, stdout)) = rx.recv_timeout(DEADLINE) else {
        let _ = child.kill();
        panic!("toolctl tail printed nothing");
    };
    assert!(n > 0);
    drop(stdout); // `| head -n 1` has what it wanted
    for i in 0..20 {
        append(&app, format!("more {i}\n").as_bytes());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(wait_exit(&mut child), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.is_empty(), "a closed pipe is not an error: {err}");
}

#[test]
fn sigterm_and_sigint_end_it_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let t = TestRoot::new();
        let app = write_log(&t, "app/app.log", "");
        let mut tail = Tail::start(&t, &[]);
        tail.sync(&app);
        append(&app, b"last words\n");
        tail.expect("last words\n");
        let err = tail.err.clone();
        assert_eq!(tail.stop(sig), Some(130), "signal {sig}");
        let err = String::from_utf8_lossy(&err.lock().unwrap()).into_owned();
        assert!(!err.contains("error"), "{err}");
    }
}

#[test]
fn the_log_directory_setting_is_honoured() {
    let t = TestRoot::builder()
        .settings("[logging]\nlog_directory = \"/srv/logs\"\n")
        .build();
    let dir = t.path("srv/logs/app");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("x.log"), "from the configured directory\n").unwrap();
    write_log(&t, "default/y.log", "from the default directory\n");
    let tail = Tail::start(&t, &[]);
    tail.expect("==> app/x.log <==\nfrom the configured directory\n");
    let missing = t.toolctl(["tail", "default"]).run();
    missing.assert_error("no log `default`", &["app"]);
    assert!(!tail.text().contains("default directory"));
}

#[test]
fn archives_and_svlogd_files_are_skipped_by_name_not_by_substring() {
    let t = TestRoot::new();
    write_log(&t, "configurator/app.log", "configurator line\n");
    write_log(&t, "svc/blocker.log", "blocker line\n");
    write_log(&t, "svc/@400000006571c3a01234abcd.s", "svlogd archive\n");
    write_log(&t, "svc/x.log.1.gz", "gzip archive\n");
    write_log(&t, "svc/lock", "svlogd lock\n");
    write_log(&t, "svc/config", "svlogd config\n");
    write_log(&t, "svc/app.lock", "lock file\n");
    let tail = Tail::start(&t, &[]);
    tail.expect("configurator line\n");
    tail.expect("blocker line\n");
    write_log(&t, "svc/y.log.2.xz", "late archive\n");
    write_log(&t, "configuration/z.log", "late configuration line\n");
    tail.expect("late configuration line\n");
    let out = tail.text();
    for skipped in [
        "svlogd archive",
        "gzip archive",
        "svlogd lock",
        "svlogd config",
        "lock file",
        "late archive",
    ] {
        assert!(!out.contains(skipped), "{skipped:?} was followed:\n{out}");
    }
}

#[test]
fn without_inotify_it_polls_and_says_so() {
    let t = TestRoot::new();
    let app = write_log(&t, "app/app.log", "one\n");
    let tail = Tail::start_env(&t, &[], &[("TOOLCTL_TAIL_POLL", "1")]);
    tail.expect("one\n");
    append(&app, b"two\n");
    fs::create_dir_all(logs(&t).join("new/dir")).unwrap();
    append(&logs(&t).join("new/dir/late.log"), b"late\n");
    tail.expect("two\n");
    tail.expect("==> new/dir/late.log <==\nlate\n");
    assert!(tail.stderr().contains("polling"), "{}", tail.stderr());
}

/// A root with its settings file, as every new test root has.
fn settled_root() -> TestRoot {
    TestRoot::with_settings("external_url = \"https://gitlab.example.com\"\n")
}

/// Waits until stderr contains `needle`.
#[track_caller]
fn expect_stderr(tail: &Tail, needle: &str) {
    assert!(
        wait_for(DEADLINE, || tail.stderr().contains(needle)),
        "stderr never said {needle:?}\n--- stderr:\n{}\n--- stdout:\n{}",
        tail.stderr(),
        tail.text()
    );
}

/// Every `{prefix}N` line of `1..=n` came out exactly once.
#[track_caller]
fn assert_each_once(tail: &Tail, prefix: &str, n: usize) {
    let out = tail.output();
    for i in 1..=n {
        let line = format!("{prefix}{i}\n");
        assert_eq!(
            count(&out, line.as_bytes()),
            1,
            "{line:?} lost or doubled\n{}",
            tail.text()
        );
    }
}

/// Writes lines, removes `gone` (the followed directory or one below it) right after,
/// recreates it with a new file, and checks that nothing written before is lost, that
/// the new lines come, and what stderr says (`warned`: the followed directory itself).
fn delete_and_recreate(args: &[&str], env: &[(&str, &str)], gone: &str, warned: bool) {
    let t = settled_root();
    let app = write_log(&t, "app/app.log", "start\n");
    let other = write_log(&t, "other/other.log", "");
    let mut tail = Tail::start_env(&t, args, env);
    tail.sync(&app);
    // Written and removed at once: the follower has not read these lines yet.
    append(&app, numbered("before", 1..=300).as_bytes());
    fs::remove_dir_all(logs(&t).join(gone)).unwrap();
    tail.expect("before300\n");
    assert_each_once(&tail, "before", 300);
    let gone_path = fs::canonicalize(logs(&t)).unwrap_or(logs(&t)).join(gone);
    let missing = format!(
        "`{}` is gone",
        gone_path.display().to_string().trim_end_matches('/')
    );
    if warned {
        expect_stderr(&tail, &missing);
        // Still missing two poll periods later: still one warning.
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(
            tail.stderr().matches(&missing).count(),
            1,
            "{}",
            tail.stderr()
        );
    } else {
        std::thread::sleep(Duration::from_millis(300));
    }
    let new = write_log(&t, "app/new.log", &numbered("new", 1..=50));
    tail.expect("new50\n");
    assert_each_once(&tail, "new", 50);
    append(&new, b"new51\n");
    tail.expect("new51\n");
    if warned {
        expect_stderr(&tail, "exists again");
    } else {
        assert!(!tail.stderr().contains("is gone"), "{}", tail.stderr());
    }
    if args.is_empty() && !gone.is_empty() {
        // The rest of the tree was followed all along.
        append(&other, b"other still\n");
        tail.expect("other still\n");
    }
    assert_each_once(&tail, "before", 300);
    println!("{args:?} {env:?} {gone}: stderr:\n{}", tail.stderr());
}

#[test]
fn the_log_directory_deleted_and_recreated_is_followed_again() {
    delete_and_recreate(&[], &[], "", true);
    delete_and_recreate(&[], &[("TOOLCTL_TAIL_POLL", "1")], "", true);
}

#[test]
fn a_service_directory_deleted_and_recreated_is_followed_again() {
    // Below the whole tree: an ordinary directory going and coming, no warning.
    delete_and_recreate(&[], &[], "app", false);
    // The one service followed: it is the followed directory.
    delete_and_recreate(&["app"], &[], "app", true);
    delete_and_recreate(&["app"], &[("TOOLCTL_TAIL_POLL", "1")], "app", true);
}

#[test]
fn a_followed_file_comes_back_with_its_directory() {
    let t = settled_root();
    let app = write_log(&t, "app/app.log", "start\n");
    let mut tail = Tail::start(&t, &["app/app.log"]);
    tail.sync(&app);
    append(&app, numbered("before", 1..=100).as_bytes());
    // The parent goes too: the watch moves up to the root and back down.
    fs::remove_dir_all(logs(&t)).unwrap();
    tail.expect("before100\n");
    expect_stderr(&tail, "is gone");
    fs::create_dir_all(logs(&t).join("app")).unwrap();
    write_log(&t, "app/unrelated.log", "not this one\n");
    write_log(&t, "app/app.log", &numbered("new", 1..=20));
    tail.expect("new20\n");
    assert_each_once(&tail, "new", 20);
    assert_each_once(&tail, "before", 100);
    assert!(!tail.text().contains("not this one"), "{}", tail.text());
}

#[test]
fn a_log_directory_renamed_away_is_drained_then_followed_again_by_name() {
    let t = settled_root();
    let app = write_log(&t, "app/app.log", "start\n");
    let mut tail = Tail::start(&t, &[]);
    tail.sync(&app);
    let moved = t.path("var/log/toolctl.old");
    fs::rename(logs(&t), &moved).unwrap();
    // A daemon still writing to its open file: drained, as after a file rotation.
    append(
        &moved.join("app/app.log"),
        numbered("late", 1..=50).as_bytes(),
    );
    tail.expect("late50\n");
    assert_each_once(&tail, "late", 50);
    expect_stderr(&tail, "is gone");
    write_log(&t, "app/app.log", "fresh\n");
    tail.expect("fresh\n");
    expect_stderr(&tail, "exists again");
    assert_eq!(count(&tail.output(), b"start\n"), 1, "{}", tail.text());
}

#[test]
fn follow_flags_are_accepted_q_drops_headers_and_prefix_is_relative_to_target() {
    let t = TestRoot::new();
    let a = write_log(&t, "mailroom/a.log", "one\n");
    write_log(&t, "mailroom/b.log", "two\n");
    // `-f` and `-F` are what every tail user types: accepted, and the default anyway.
    let tail = Tail::start_with(&t, &["-q"], &["-f", "-F", "mailroom"], &[]);
    tail.expect("one\n");
    tail.expect("two\n");
    append(&a, b"three\n");
    tail.expect("three\n");
    assert!(
        !tail.text().contains("==>"),
        "-q keeps the headers:\n{}",
        tail.text()
    );
    drop(tail);
    // `--prefix` labels are relative to TARGET, not to the log directory.
    let tail = Tail::start(&t, &["--prefix", "-n", "1", "mailroom"]);
    tail.expect("a.log: three\nb.log: two\n");
    assert!(!tail.text().contains("mailroom/"), "{}", tail.text());
}
