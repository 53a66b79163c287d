//! The test harness: temp roots, running toolctl, snapshots of a tree.
//!
//! Every test gets its own [`TestRoot`]: a private temporary directory holding `root/` (what
//! `--root` points at, and what [`TestRoot::snapshot`] records) and `aux/` (editor scripts,
//! their logs, extra keys: things that must not show up in a snapshot of the root). The
//! binary runs with a scrubbed environment so the host's `$EDITOR`, `$VISUAL`, `TOOLCTL_*`
//! or `$XDG_RUNTIME_DIR` never leak into a test.

#![allow(dead_code)] // not every test module uses every helper

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long any single toolctl run may take before the test fails instead of hanging.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The toolctl binary under test.
pub fn toolctl_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("toolctl")
}

/// The commented default settings file (`toolctl init` writes the same bytes).
pub const DEFAULT_SETTINGS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/settings/default.toml"
));

/// A private temporary directory with a `--root` inside it.
pub struct TestRoot {
    tmp: tempfile::TempDir,
    root: PathBuf,
    aux: PathBuf,
}

impl TestRoot {
    /// A fresh, empty root. The temp directory is 0755 so that a test can run toolctl as
    /// `nobody` and reach the root (the files toolctl creates keep their own modes).
    pub fn new() -> TestRoot {
        let tmp = tempfile::Builder::new()
            .prefix("toolctl-it-")
            .tempdir()
            .expect("create a temp dir");
        chmod(tmp.path(), 0o755);
        let root = tmp.path().join("root");
        let aux = tmp.path().join("aux");
        fs::create_dir(&root).expect("create the root");
        fs::create_dir(&aux).expect("create the aux dir");
        chmod(&root, 0o755);
        TestRoot { tmp, root, aux }
    }

    /// The one way to set up a root: settings, files, a key and secrets, in that order
    /// (see [`RootBuilder`]).
    pub fn builder() -> RootBuilder {
        RootBuilder::default()
    }

    /// A fresh root with `etc/toolctl/toolctl.toml` holding `settings` (commands that work
    /// from the settings refuse a root without the file).
    pub fn with_settings(settings: &str) -> TestRoot {
        TestRoot::builder().settings(settings).build()
    }

    /// A fresh root with the commented default toolctl.toml, as `toolctl init` writes it.
    pub fn with_default_settings() -> TestRoot {
        TestRoot::builder().default_settings().build()
    }

    /// A fresh root holding a copy of `from`'s root and aux trees (`cp -a`: modes, owners
    /// and links kept).
    pub fn copy_of(from: &TestRoot) -> TestRoot {
        let t = TestRoot::new();
        copy_tree(from.root(), t.root());
        copy_tree(from.aux(), t.aux());
        t
    }

    /// Replaces this root's tree (not aux) with a copy of `from`'s, at the same path.
    pub fn reset_to(&self, from: &TestRoot) {
        fs::remove_dir_all(&self.root).expect("remove the root");
        fs::create_dir(&self.root).expect("create the root");
        copy_tree(from.root(), &self.root);
    }

    /// Writes (or replaces) `etc/toolctl/toolctl.toml`, mode 0600.
    pub fn write_settings(&self, settings: &str) {
        let file = self.config_file();
        fs::create_dir_all(file.parent().unwrap()).expect("create etc/toolctl");
        fs::write(&file, settings).expect("write toolctl.toml");
        chmod(&file, 0o600);
    }

    /// What `--root` points at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A scratch directory beside the root (scripts, logs, other keys).
    pub fn aux(&self) -> &Path {
        &self.aux
    }

    /// A path inside the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `etc/toolctl/secrets.key`.
    pub fn key_file(&self) -> PathBuf {
        self.path("etc/toolctl/secrets.key")
    }

    /// `etc/toolctl/toolctl.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.path("etc/toolctl/toolctl.toml")
    }

    /// `var/opt/toolctl/secrets`.
    pub fn secrets_dir(&self) -> PathBuf {
        self.path("var/opt/toolctl/secrets")
    }

    /// The encrypted file of a scope, by its CLI name (`incoming-email` →
    /// `incoming_email.yaml.age`).
    pub fn secret_file(&self, scope: &str) -> PathBuf {
        self.secrets_dir()
            .join(format!("{}.yaml.age", scope.replace('-', "_")))
    }

    /// A toolctl invocation with `--root` set to this root.
    pub fn toolctl<I, S>(&self, args: I) -> Toolctl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut t = Toolctl::new();
        t.args.push("--root".into());
        t.args.push(self.root.clone().into_os_string());
        t.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        t
    }

    /// Writes an executable `sh` script into the aux directory and returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.aux.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        chmod(&path, 0o755);
        path
    }

    /// Every path under the root with its kind, mode, owner and bytes.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.root)
    }

    /// Runs `toolctl secrets init` and returns the public key it printed.
    pub fn init(&self) -> String {
        let out = self.toolctl(["secrets", "init"]).run();
        out.assert_code(0);
        out.stdout_str().trim().to_string()
    }

    /// Writes a secret through `toolctl <scope> secret write`, asserting success.
    pub fn write_secret(&self, scope: &str, yaml: &[u8]) {
        let out = self.toolctl([scope, "secret", "write"]).stdin(yaml).run();
        out.assert_code(0);
        assert!(
            out.stderr.contains("File encrypted and saved."),
            "write of {scope} did not confirm:\n{out}"
        );
    }

    /// `toolctl <scope> secret show`, asserting success; returns stdout.
    pub fn show_secret(&self, scope: &str) -> Vec<u8> {
        let out = self.toolctl([scope, "secret", "show"]).run();
        out.assert_code(0);
        out.stdout
    }
}

/// What a [`TestRoot`] starts with, applied by [`RootBuilder::build`] in this order:
/// toolctl.toml (mode 0600), files, `toolctl secrets init`, then each secret through
/// `toolctl <scope> secret write` (which creates the key when there is none).
///
/// ```ignore
/// let t = TestRoot::builder()
///     .settings("external_url = \"https://gitlab.example.com\"\n")
///     .secrets_init()
///     .secret("smtp", "user_name: 'u'\npassword: 'p'\n")
///     .build();
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct RootBuilder {
    settings: Option<String>,
    files: Vec<(String, FileSource)>,
    init: bool,
    secrets: Vec<(String, Vec<u8>)>,
}

enum FileSource {
    Bytes(Vec<u8>),
    /// `fs::copy`, permission bits included.
    Copy(PathBuf),
}

impl RootBuilder {
    /// `etc/toolctl/toolctl.toml`, mode 0600.
    pub fn settings(mut self, settings: impl Into<String>) -> RootBuilder {
        self.settings = Some(settings.into());
        self
    }

    /// The commented default toolctl.toml, as `toolctl init` writes it.
    pub fn default_settings(self) -> RootBuilder {
        self.settings(DEFAULT_SETTINGS)
    }

    /// A file at `rel` inside the root (parents created), with the default mode.
    pub fn file(mut self, rel: &str, bytes: impl Into<Vec<u8>>) -> RootBuilder {
        self.files
            .push((rel.to_string(), FileSource::Bytes(bytes.into())));
        self
    }

    /// A copy of `from` at `rel` inside the root (its permission bits kept).
    pub fn copy_file(mut self, rel: &str, from: &Path) -> RootBuilder {
        self.files
            .push((rel.to_string(), FileSource::Copy(from.to_path_buf())));
        self
    }

    /// Runs `toolctl secrets init` (after the settings and files, before the secrets).
    pub fn secrets_init(mut self) -> RootBuilder {
        self.init = true;
        self
    }

    /// Writes `yaml` as the secret of `scope` (its CLI name) with `toolctl <scope> secret
    /// write`, asserting success; secrets are written in the order given.
    pub fn secret(mut self, scope: &str, yaml: impl AsRef<[u8]>) -> RootBuilder {
        self.secrets
            .push((scope.to_string(), yaml.as_ref().to_vec()));
        self
    }

    /// The root.
    pub fn build(self) -> TestRoot {
        let t = TestRoot::new();
        if let Some(settings) = &self.settings {
            t.write_settings(settings);
        }
        for (rel, source) in &self.files {
            let path = t.path(rel);
            fs::create_dir_all(path.parent().expect("a file below the root"))
                .unwrap_or_else(|e| panic!("create the parent of {rel}: {e}"));
            match source {
                FileSource::Bytes(bytes) => fs::write(&path, bytes),
                FileSource::Copy(from) => fs::copy(from, &path).map(|_| ()),
            }
            .unwrap_or_else(|e| panic!("write {rel}: {e}"));
        }
        if self.init {
            t.init();
        }
        for (scope, yaml) in &self.secrets {
            t.write_secret(scope, yaml);
        }
        t
    }
}

/// `cp -a FROM/. TO/`: the whole tree, modes, owners and links kept.
fn copy_tree(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .output()
        .expect("run cp");
    assert!(
        out.status.success(),
        "cp -a {} {}: {}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many steps of a kill-at-every-step loop run at once ([`parallel_steps`]);
/// `TOOLCTL_TEST_STEP_THREADS` overrides it (1 runs them one after the other).
pub fn step_threads() -> usize {
    std::env::var("TOOLCTL_TEST_STEP_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(4)
}

/// Runs `step` on every item of `items` with [`step_threads`] threads, and returns the
/// results in the order of `items`. For loops whose steps are independent (each builds its
/// own root): a kill at every failpoint, say. After a step panics no new step starts; the
/// panic of the first failing item is raised again once the running steps have ended (its
/// message was already printed, with the test's captured output).
pub fn parallel_steps<T, R, F>(items: &[T], step: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let panics = Mutex::new(Vec::new());
    let threads = step_threads().min(items.len());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    match catch_unwind(AssertUnwindSafe(|| step(item))) {
                        Ok(r) => *results[i].lock().unwrap() = Some(r),
                        Err(payload) => {
                            failed.store(true, Ordering::SeqCst);
                            panics.lock().unwrap().push((i, payload));
                        }
                    }
                }
            });
        }
    });
    let mut panics = panics.into_inner().unwrap();
    panics.sort_by_key(|(i, _)| *i);
    if let Some((_, payload)) = panics.into_iter().next() {
        resume_unwind(payload);
    }
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every step ran"))
        .collect()
}

/// One run of the binary: arguments, stdin, environment, and optionally another user.
pub struct Toolctl {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, OsString)>,
    as_nobody: bool,
}

impl Toolctl {
    fn new() -> Toolctl {
        Toolctl {
            args: Vec::new(),
            stdin: None,
            env: Vec::new(),
            as_nobody: false,
        }
    }

    /// A run without `--root` (the completer, `--help`): `args` as given.
    pub fn bare<I, S>(args: I) -> Toolctl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut t = Toolctl::new();
        t.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        t
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Toolctl {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Toolctl {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Runs toolctl as `nobody:nogroup` through `setpriv` (the tests run as root).
    pub fn run_as_nobody(mut self) -> Toolctl {
        self.as_nobody = true;
        self
    }

    /// The `std` command, environment scrubbed, stdin null, for tests that spawn it.
    pub fn command(&self) -> Command {
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
            c.arg(toolctl_bin());
            c
        } else {
            Command::new(toolctl_bin())
        };
        cmd.args(&self.args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("TOOLCTL_") {
                cmd.env_remove(&k);
            }
        }
        for k in ["VISUAL", "EDITOR", "XDG_RUNTIME_DIR", "CLICOLOR_FORCE"] {
            cmd.env_remove(k);
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs to completion and captures everything.
    pub fn run(self) -> Outcome {
        let mut cmd = assert_cmd::Command::from_std(self.command());
        cmd.timeout(RUN_TIMEOUT);
        if let Some(input) = &self.stdin {
            cmd.write_stdin(input.clone());
        }
        let out = cmd.output().expect("run toolctl");
        Outcome {
            args: self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a run produced.
pub struct Outcome {
    pub args: Vec<String>,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout as one JSON document (`--output-format json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }

    /// The last step called `name` of a probe report's first probe.
    pub fn step(&self, name: &str) -> serde_json::Value {
        self.json()["probes"][0]["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("not a probe report\n{self}"))
            .iter()
            .rev()
            .find(|s| s["step"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no step {name}\n{self}"))
    }

    pub fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, Some(code), "unexpected exit status\n{self}");
        self
    }

    /// Exit 2, an `error:` line, `error` in the message (that line or its `Caused by:`
    /// lines), a `hint:` line holding every string of `hints`, and nothing on stdout.
    pub fn assert_error(&self, error: &str, hints: &[&str]) -> &Outcome {
        self.assert_code(2);
        let error_line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no `error:` line\n{self}"));
        assert!(
            self.stderr.contains(error),
            "stderr does not mention {error:?} (error line: {error_line:?})\n{self}"
        );
        let hint_line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("hint: "))
            .unwrap_or_else(|| panic!("no `hint:` line\n{self}"));
        for h in hints {
            assert!(
                hint_line.contains(h),
                "the hint does not mention {h:?}: {hint_line:?}\n{self}"
            );
        }
        assert!(
            self.stdout.is_empty(),
            "an error printed data on stdout\n{self}"
        );
        self
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "--- toolctl {}", self.args.join(" "))?;
        writeln!(f, "--- exit: {:?}", self.code)?;
        writeln!(f, "--- stdout:\n{}", String::from_utf8_lossy(&self.stdout))?;
        write!(f, "--- stderr:\n{}", self.stderr)
    }
}

/// One entry of a [`Snapshot`].
#[derive(Clone, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        bytes: Vec<u8>,
    },
    Symlink {
        target: PathBuf,
    },
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Dir { mode, uid, gid } => write!(f, "dir  {mode:04o} {uid}:{gid}"),
            Node::File {
                mode,
                uid,
                gid,
                bytes,
            } => write!(
                f,
                "file {mode:04o} {uid}:{gid} {} bytes, {}",
                bytes.len(),
                preview(bytes)
            ),
            Node::Symlink { target } => write!(f, "link -> {}", target.display()),
        }
    }
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
    format!("{:?}{}", text, if bytes.len() > 60 { "…" } else { "" })
}

/// Every path under a directory (relative), with its mode, owner and bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<PathBuf, Node>);

impl Snapshot {
    pub fn of(dir: &Path) -> Snapshot {
        let mut map = BTreeMap::new();
        walk(dir, dir, &mut map);
        Snapshot(map)
    }

    /// The relative paths recorded.
    pub fn paths(&self) -> Vec<String> {
        self.0.keys().map(|p| p.display().to_string()).collect()
    }

    /// A readable list of what differs from `other` (empty when equal).
    pub fn diff(&self, after: &Snapshot) -> String {
        let mut out = String::new();
        for (path, node) in &self.0 {
            match after.0.get(path) {
                None => writeln!(out, "- {}  ({node})", path.display()).unwrap(),
                Some(new) if new != node => {
                    writeln!(
                        out,
                        "~ {}\n    before: {node}\n    after:  {new}",
                        path.display()
                    )
                    .unwrap();
                    if let (Node::File { bytes: a, .. }, Node::File { bytes: b, .. }) = (node, new)
                    {
                        if let Some(line) = first_differing_line(a, b) {
                            writeln!(out, "    {line}").unwrap();
                        }
                    }
                }
                Some(_) => {}
            }
        }
        for (path, node) in &after.0 {
            if !self.0.contains_key(path) {
                writeln!(out, "+ {}  ({node})", path.display()).unwrap();
            }
        }
        out
    }

    /// Panics with a readable diff when `after` differs from `self`.
    #[track_caller]
    pub fn assert_unchanged(&self, after: &Snapshot, context: &dyn std::fmt::Display) {
        let diff = self.diff(after);
        assert!(
            diff.is_empty(),
            "the tree changed (- removed, + added, ~ changed):\n{diff}\n{context}"
        );
    }
}

fn first_differing_line(a: &[u8], b: &[u8]) -> Option<String> {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => return Some(format!("first difference at line {n}: {x:?} vs {y:?}")),
        }
    }
}

fn walk(base: &Path, dir: &Path, map: &mut BTreeMap<PathBuf, Node>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = fs::symlink_metadata(&path).expect("stat");
        let rel = path.strip_prefix(base).expect("under base").to_path_buf();
        let (mode, uid, gid) = (meta.mode() & 0o7777, meta.uid(), meta.gid());
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).expect("readlink");
            map.insert(rel, Node::Symlink { target });
        } else if meta.is_dir() {
            map.insert(rel, Node::Dir { mode, uid, gid });
            walk(base, &path, map);
        } else {
            let bytes = fs::read(&path).expect("read file");
            map.insert(
                rel,
                Node::File {
                    mode,
                    uid,
                    gid,
                    bytes,
                },
            );
        }
    }
}

/// The permission bits of a path.
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

pub fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Runs an external program (age, age-keygen, chown) and returns its output.
pub fn run_tool(program: &str, args: &[&OsStr], stdin: Option<&[u8]>) -> std::process::Output {
    let mut cmd = assert_cmd::Command::new(program);
    cmd.args(args).timeout(RUN_TIMEOUT);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// Generates an age identity file at `path` with `age-keygen` (mode 0600) and returns its
/// public key.
pub fn age_keygen(path: &Path) -> String {
    let out = run_tool("age-keygen", &[OsStr::new("-o"), path.as_os_str()], None);
    assert!(out.status.success(), "age-keygen failed: {out:?}");
    chmod(path, 0o600);
    age_public_key(path)
}

/// `age-keygen -y KEY`: the public key of an identity file.
pub fn age_public_key(path: &Path) -> String {
    let out = run_tool("age-keygen", &[OsStr::new("-y"), path.as_os_str()], None);
    assert!(out.status.success(), "age-keygen -y failed: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// `age -d -i KEY FILE`: the plaintext, or age's stderr.
pub fn age_decrypt(key: &Path, file: &Path) -> Result<Vec<u8>, String> {
    let out = run_tool(
        "age",
        &[
            OsStr::new("-d"),
            OsStr::new("-i"),
            key.as_os_str(),
            file.as_os_str(),
        ],
        None,
    );
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `age -a -r RECIPIENT -o FILE` with `plaintext` on stdin.
pub fn age_encrypt_armored(recipient: &str, plaintext: &[u8], file: &Path) {
    let out = run_tool(
        "age",
        &[
            OsStr::new("-a"),
            OsStr::new("-r"),
            OsStr::new(recipient),
            OsStr::new("-o"),
            file.as_os_str(),
        ],
        Some(plaintext),
    );
    assert!(out.status.success(), "age -a -r failed: {out:?}");
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `cmd` run under a small meter process that reports the peak resident memory of `cmd`
/// alone, in KiB, into `report`.
///
/// `ru_maxrss` of a child the test spawns directly counts the test process's memory too:
/// std spawns with vfork, and Linux carries the old address space's high-water mark
/// across exec, so in a busy test binary every child "peaks" at the size of the tests.
/// The meter is a fresh, small `/usr/bin/python3` that runs `cmd` and writes its
/// `RUSAGE_CHILDREN` peak; it exits with `cmd`'s exit code.
pub fn metered(cmd: &Command, report: &Path) -> Command {
    const METER: &str = "import resource, subprocess, sys\n\
        p = subprocess.run(sys.argv[2:])\n\
        open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
        sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)\n";
    let mut m = Command::new("/usr/bin/python3");
    m.arg("-c").arg(METER).arg(report).arg(cmd.get_program());
    m.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => m.env(k, v),
            None => m.env_remove(k),
        };
    }
    m.stdin(Stdio::null());
    m
}

/// The peak written by [`metered`]'s meter.
pub fn metered_peak_kib(report: &Path) -> i64 {
    fs::read_to_string(report)
        .expect("the meter wrote its report")
        .trim()
        .parse()
        .expect("a number of KiB")
}

#[test]
fn parallel_steps_return_results_in_order_and_raise_a_steps_panic() {
    let items: Vec<usize> = (0..20).collect();
    let running = std::sync::atomic::AtomicUsize::new(0);
    let most = std::sync::atomic::AtomicUsize::new(0);
    let out = parallel_steps(&items, |&i| {
        use std::sync::atomic::Ordering::SeqCst;
        let now = running.fetch_add(1, SeqCst) + 1;
        most.fetch_max(now, SeqCst);
        std::thread::sleep(Duration::from_millis(10));
        running.fetch_sub(1, SeqCst);
        i * 2
    });
    assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    let most = most.into_inner();
    assert!(most <= step_threads(), "{most} steps ran at once");
    let caught = std::panic::catch_unwind(|| {
        parallel_steps(&items, |&i| {
            assert_ne!(i, 7, "step 7 fails");
        })
    });
    let payload = caught.expect_err("the step's panic is raised again");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("step 7 fails"), "{message:?}");
}
