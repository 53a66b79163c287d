//! `secret edit`: the plaintext copy, the editor, and cleaning up on every exit path.
//!
//! The plaintext lives only in a fresh 0700 directory on a tmpfs as a 0600 file; with no
//! usable tmpfs the edit is refused rather than put on a persistent disk. The directory is
//! made in `$XDG_RUNTIME_DIR` only when that is a directory owned by the user toolctl runs
//! as with mode 0700 (checked on its opened descriptor, reached from `/` without following
//! a link); `sudo -E` and `su` without `-` leave the invoking user's there, whose processes
//! could read or swap the copy, so it is then passed over with a warning for `/dev/shm`
//! (root's and sticky). The directory, the files in it, reading the edited file back,
//! zero-filling and removing all go through descriptors ([`crate::sys::scratch`]); only the
//! editor is given a path, made of directories only root or that user can change. The directory is removed when the session is dropped (normal return,
//! error, panic) and by the signal thread when SIGINT, SIGTERM or SIGHUP arrive while no
//! editor runs; while one runs the signal is passed on to it and the main thread cleans up
//! once it has exited, as git does around its editor.
//!
//! A SIGKILL runs none of that, so every directory says whose it is: it is named
//! `toolctl-edit-<pid>-<random>` and the first file written into it, before any plaintext,
//! is `owner`, with toolctl's PID, its start time (field 22 of `/proc/<pid>/stat`, so a
//! reused PID is not mistaken for it), the boot id and the PID namespace. [`sweep_stale`]
//! runs once in every command that opens the store and removes the directories of the
//! same user whose toolctl is gone, even when the editor lives on (it is keyed on toolctl,
//! not on the editor). Those it cannot remove, and those without an owner record (left by
//! a toolctl from before these records), are warned about and listed by
//! [`stale_left_behind`] for `secrets status`.
//!
//! Editors keep copies of what they edit (vim's viminfo, swap, undo and backup files), so
//! [`private_flags`] adds the arguments that turn those off, by editor family: see
//! [`Family`]. In debug builds `TOOLCTL_TEST_EDIT_DIR` replaces `/dev/shm` and turns off
//! the tmpfs check (`$XDG_RUNTIME_DIR` is still considered first, with its owner and mode
//! checked), so the tests never put a plaintext into the real `/dev/shm`; a release build
//! never reads it.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::crypt::Plaintext;
use super::error::{Result, SecretsError};
use super::scope::Scope;
use super::store;
use crate::failpoint;
use crate::sys::notice::Notify;
use crate::sys::scratch::{Base, BaseKind, Scratch};

/// Every edit directory's name starts with this, then `<pid>-`.
const DIR_PREFIX: &str = "toolctl-edit-";
/// The file in each edit directory naming its toolctl process; it holds no secret.
const OWNER_FILE: &str = "owner";
/// The largest owner record read back (they are about 100 bytes).
const OWNER_CAP: u64 = 4096;

/// The private plaintext copy of one secret.
pub struct Session {
    scratch: Arc<Scratch>,
    name: OsString,
    /// The copy's path, for the editor (toolctl itself goes through the descriptors).
    pub file: PathBuf,
}

static CHILD: AtomicI32 = AtomicI32::new(0);
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// The copy the signal thread removes when a signal arrives while no editor runs.
static CLEANUP: Mutex<Option<Arc<Scratch>>> = Mutex::new(None);
static HANDLERS: Once = Once::new();

impl Session {
    /// Creates the private directory, its owner record, then the 0600 file holding
    /// `initial`: the record exists before any plaintext does.
    pub fn new(scope: Scope, initial: &[u8], notify: &dyn Notify) -> Result<Session> {
        install_signal_handlers()?;
        let scratch = Arc::new(private_dir(notify)?);
        *CLEANUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(scratch.clone());
        let name = OsString::from(format!("{}.yaml", scope.table()));
        // From here on, dropping the session removes the directory.
        let session = Session {
            file: scratch.path().join(&name),
            scratch,
            name,
        };
        failpoint::hit("edit-dir-created");
        let owner = OsStr::new(OWNER_FILE);
        session
            .scratch
            .create_file(owner, Owner::current().record().as_bytes())
            .map_err(|source| SecretsError::Io {
                action: "create",
                path: session.scratch.path().join(owner),
                source,
            })?;
        failpoint::hit("edit-owner-recorded");
        session
            .scratch
            .create_file(&session.name, initial)
            .map_err(|source| SecretsError::Io {
                action: "create",
                path: session.file.clone(),
                source,
            })?;
        failpoint::hit("edit-plaintext-written");
        Ok(session)
    }

    /// Runs the editor on the file and waits for it. An editor that fails, or a signal
    /// received meanwhile, is an error: nothing is saved.
    pub fn edit(&self) -> Result<()> {
        let argv = editor_command();
        let program = argv[0].clone();
        let mut args = argv[1..].to_vec();
        // Our flags go last, so they win over the user's own, but before a `--` that
        // would make them file names.
        let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
        args.splice(at..at, private_flags(family(&program)));
        let mut child = Command::new(&program)
            .args(&args)
            .arg(&self.file)
            .spawn()
            .map_err(|source| SecretsError::EditorStart {
                program: program.to_string_lossy().into_owned(),
                source,
            })?;
        CHILD.store(child.id() as i32, Ordering::SeqCst);
        let status = child.wait();
        CHILD.store(0, Ordering::SeqCst);
        failpoint::hit("edit-editor-exited");
        if CAUGHT.load(Ordering::SeqCst) != 0 {
            return Err(SecretsError::EditInterrupted);
        }
        let status = status.map_err(SecretsError::EditorWait)?;
        if !status.success() {
            return Err(SecretsError::EditorFailed {
                program: program.to_string_lossy().into_owned(),
                status,
            });
        }
        Ok(())
    }

    /// The file's current content, read beneath the private directory's descriptor: a
    /// symbolic link or anything but a regular file in its place is an error.
    pub fn read(&self) -> Result<std::result::Result<Plaintext, super::schema::SchemaError>> {
        let f = match self.scratch.open_file(&self.name) {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(SecretsError::Replaced {
                    path: self.file.clone(),
                    source: None,
                })
            }
            Err(e) => {
                return Err(SecretsError::Replaced {
                    path: self.file.clone(),
                    source: Some(e),
                })
            }
        };
        store::read_limited(f).map_err(|source| SecretsError::Io {
            action: "read",
            path: self.file.clone(),
            source,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Zero-filled before it is unlinked: cheap, and it matters if the tmpfs is ever
        // swapped. The signal thread may have taken it already.
        let mine = CLEANUP.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(scratch) = mine {
            let _ = scratch.remove();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The editor and its flags
// ---------------------------------------------------------------------------------------

/// `$VISUAL`, then `$EDITOR`, then `editor`, then `vi`, split shell-style.
pub fn editor_command() -> Vec<OsString> {
    for var in ["VISUAL", "EDITOR"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let s = v.to_string_lossy();
            match shell_words::split(&s) {
                Ok(words) if !words.is_empty() => {
                    return words.into_iter().map(OsString::from).collect()
                }
                _ => return vec![v],
            }
        }
    }
    vec![OsString::from(if on_path("editor").is_some() {
        "editor"
    } else {
        "vi"
    })]
}

/// The editors toolctl keeps from leaving copies of the plaintext behind, decided by the
/// program's name and by the name of what it resolves to (`editor` and `vi` are usually
/// symlinks through `/etc/alternatives`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `vim`, `vim.basic`, `vim.tiny`, `vim.nox`, `vim.gtk3`, …, `vimx`, `rvim`, and a
    /// `vi` that is a vim (it says `VIM - Vi IMproved` to `--version`).
    Vim,
    /// `gvim`, `gvimx`, `rgvim`: vim's GUI, which also needs `-f` not to fork away.
    Gvim,
    /// `nvim`.
    Neovim,
    /// `nano`, `rnano`.
    Nano,
    /// Anything else: run as given.
    Other,
}

/// The arguments added for `family`, before the file name.
///
/// - vim: `-i NONE` (no viminfo read or written: registers, search and command history),
///   `-n` (no swap file, even when a vimrc sets `swapfile` or `updatecount`), and a `-c`,
///   which runs after the user's vimrc, turning off undo and backup files and viminfo
///   again (a vimrc's `viminfofile=` would win over `-i NONE`);
/// - neovim: the same with ShaDa, its viminfo;
/// - nano: `--restricted`, which reads the user's nanorc but writes no history or backup
///   file and saves under no other name;
/// - other editors (emacs among them) get nothing: their defaults keep backups and
///   auto-saves beside the file, inside the private directory.
pub fn private_flags(family: Family) -> Vec<OsString> {
    let vim = |info: &str| {
        [
            "-i",
            "NONE",
            "-n",
            "-c",
            "set noundofile nobackup nowritebackup",
            "-c",
            info,
        ]
        .map(OsString::from)
        .to_vec()
    };
    match family {
        Family::Vim => vim("set viminfo= viminfofile=NONE"),
        Family::Gvim => {
            let mut v = vec![OsString::from("-f")];
            v.extend(vim("set viminfo= viminfofile=NONE"));
            v
        }
        Family::Neovim => vim("set shada= shadafile=NONE"),
        Family::Nano => vec![OsString::from("--restricted")],
        Family::Other => Vec::new(),
    }
}

/// The family of the editor `program` (a name looked up on `PATH`, or a path).
pub fn family(program: &OsStr) -> Family {
    let resolved = resolve(program);
    let base = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let given = base(Path::new(program));
    let resolved_name = resolved.as_deref().map(base);
    classify(&given, resolved_name.as_deref(), || {
        resolved
            .as_deref()
            .is_some_and(|p| says_it_is_vim(p, Duration::from_secs(2)))
    })
}

/// Decides the family from the names alone; `probe_vi` is asked only about a plain `vi`.
fn classify(given: &str, resolved: Option<&str>, probe_vi: impl FnOnce() -> bool) -> Family {
    let by_name = |n: &str| match n {
        "nvim" => Some(Family::Neovim),
        "gvim" | "gvimx" | "rgvim" => Some(Family::Gvim),
        "vim" | "vimx" | "rvim" => Some(Family::Vim),
        n if n.starts_with("vim.") => Some(Family::Vim),
        "nano" | "rnano" => Some(Family::Nano),
        _ => None,
    };
    match (by_name(given), resolved.and_then(by_name)) {
        // `gvim` is a symlink to a vim binary that looks at its own name to start the GUI.
        (Some(Family::Gvim), Some(Family::Vim)) => Family::Gvim,
        (_, Some(f)) => f,
        // A wrapper script named `vim` passes its arguments on.
        (Some(f), None) => f,
        // A `vi` that is a binary of its own: a vim on Fedora and RHEL, ex-vi or nvi
        // elsewhere, which would refuse vim's flags.
        (None, None) if resolved.unwrap_or(given) == "vi" && probe_vi() => Family::Vim,
        (None, None) => Family::Other,
    }
}

/// Whether `program --version` says it is vim, within `timeout`.
fn says_it_is_vim(program: &Path, timeout: Duration) -> bool {
    let Ok(mut child) = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        use std::io::Read;
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut out);
    }
    String::from_utf8_lossy(&out).contains("VIM - Vi IMproved")
}

/// `program` looked up on `PATH` when it has no `/`, then with every symlink resolved.
fn resolve(program: &OsStr) -> Option<PathBuf> {
    let path = Path::new(program);
    let found = if program.to_string_lossy().contains('/') {
        path.to_path_buf()
    } else {
        on_path(program)?
    };
    fs::canonicalize(found).ok()
}

/// The first executable `name` on `PATH`.
fn on_path(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name.as_ref()))
        .find(|c| fs::metadata(c).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

// ---------------------------------------------------------------------------------------
// Where the copy lives
// ---------------------------------------------------------------------------------------

/// A directory an edit directory may be created in.
struct Candidate {
    path: PathBuf,
    kind: BaseKind,
    /// Symlinks in the path are resolved first (only for the fixed `/dev/shm`).
    resolve_links: bool,
    /// It must be a tmpfs (or ramfs).
    in_memory: bool,
}

/// The candidates, in order: `$XDG_RUNTIME_DIR`, then `/dev/shm`.
fn bases() -> Vec<Candidate> {
    let mut bases = Vec::new();
    #[cfg(debug_assertions)]
    let test_dir = std::env::var_os("TOOLCTL_TEST_EDIT_DIR").filter(|v| !v.is_empty());
    #[cfg(not(debug_assertions))]
    let test_dir: Option<OsString> = None;
    let in_memory = test_dir.is_none();
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        bases.push(Candidate {
            path: PathBuf::from(x),
            kind: BaseKind::Private,
            resolve_links: false,
            in_memory,
        });
    }
    bases.push(match test_dir {
        Some(dir) => Candidate {
            path: PathBuf::from(dir),
            kind: BaseKind::Shared,
            resolve_links: false,
            in_memory,
        },
        None => Candidate {
            path: PathBuf::from("/dev/shm"),
            kind: BaseKind::Shared,
            resolve_links: true,
            in_memory,
        },
    });
    bases
}

/// The candidates that pass their owner and mode checks (whatever their file system).
fn usable_bases() -> Vec<Base> {
    let mut out: Vec<Base> = Vec::new();
    for c in bases() {
        if let Ok(base) = Base::open(&c.path, c.kind, c.resolve_links) {
            if !out.iter().any(|b| b.same_as(&base)) {
                out.push(base);
            }
        }
    }
    out
}

/// A fresh 0700 `toolctl-edit-<pid>-<random>` directory in the first usable base. Passing
/// over `$XDG_RUNTIME_DIR` is said on stderr, with why.
fn private_dir(notify: &dyn Notify) -> Result<Scratch> {
    let mut refused: Vec<String> = Vec::new();
    for c in bases() {
        let why = match Base::open(&c.path, c.kind, c.resolve_links) {
            Ok(base) if c.in_memory && !base.in_memory => "it is not a tmpfs".to_string(),
            Ok(base) => {
                match Scratch::create(&base, &format!("{DIR_PREFIX}{}-", std::process::id())) {
                    Ok(scratch) => return Ok(scratch),
                    Err(e) => format!("cannot create a directory in it: {e}"),
                }
            }
            Err(why) => why,
        };
        if c.kind == BaseKind::Private {
            notify.warn(format!(
                "not using $XDG_RUNTIME_DIR (`{}`) for the plaintext copy: {why}",
                crate::sys::term::one_line(&c.path.to_string_lossy())
            ));
        }
        refused.push(format!(
            "`{}`: {why}",
            crate::sys::term::one_line(&c.path.to_string_lossy())
        ));
    }
    Err(SecretsError::NoPrivateDir { refused })
}

fn install_signal_handlers() -> Result<()> {
    let mut result = Ok(());
    HANDLERS.call_once(|| {
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                result = Err(SecretsError::Signals(e));
                return;
            }
        };
        std::thread::spawn(move || {
            for sig in signals.forever() {
                CAUGHT.store(sig, Ordering::SeqCst);
                let child = CHILD.load(Ordering::SeqCst);
                if child > 0 {
                    crate::sys::proc::send_signal(child, sig);
                    continue;
                }
                let mine = CLEANUP.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(scratch) = mine {
                    let _ = scratch.remove();
                }
                eprintln!("error: interrupted; nothing was saved");
                std::process::exit(130);
            }
        });
    });
    result
}

// ---------------------------------------------------------------------------------------
// Owner records and the sweep of stale directories
// ---------------------------------------------------------------------------------------

/// Who made an edit directory: enough to tell, later, whether that process still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    pid: u32,
    /// Field 22 of `/proc/<pid>/stat` (clock ticks since boot); `None` without `/proc`.
    start_time: Option<u64>,
    boot_id: Option<String>,
    pid_ns: Option<String>,
}

impl Owner {
    fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start_time: proc_stat(pid).ok().map(|s| s.start_time),
            boot_id: boot_id(),
            pid_ns: pid_ns(),
        }
    }

    fn record(&self) -> String {
        let mut s = format!(
            "# the toolctl process whose `secret edit` copy this directory holds\npid={}\n",
            self.pid
        );
        for (k, v) in [
            ("start_time", self.start_time.map(|t| t.to_string())),
            ("boot_id", self.boot_id.clone()),
            ("pid_ns", self.pid_ns.clone()),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("{k}={v}\n"));
            }
        }
        s
    }

    /// Parses a record; `None` unless it has a `pid` (a record cut short by a kill).
    fn parse(text: &str) -> Option<Owner> {
        let mut owner = Owner {
            pid: 0,
            start_time: None,
            boot_id: None,
            pid_ns: None,
        };
        let mut pid = None;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k {
                "pid" => pid = v.parse().ok(),
                "start_time" => owner.start_time = Some(v.parse().ok()?),
                "boot_id" => owner.boot_id = Some(v.to_string()),
                "pid_ns" => owner.pid_ns = Some(v.to_string()),
                _ => {}
            }
        }
        owner.pid = pid?;
        Some(owner)
    }
}

/// What `/proc/<pid>/stat` says of a process.
#[derive(Debug, PartialEq, Eq)]
struct ProcStat {
    state: char,
    start_time: u64,
}

fn proc_stat(pid: u32) -> std::io::Result<ProcStat> {
    parse_proc_stat(&fs::read_to_string(format!("/proc/{pid}/stat"))?)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "unparsable stat"))
}

/// Field 3 (state) and 22 (start time) of a `stat` line. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn parse_proc_stat(line: &str) -> Option<ProcStat> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        start_time: fields.get(22 - 3)?.parse().ok()?,
    })
}

fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn pid_ns() -> Option<String> {
    fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

#[derive(Debug, PartialEq, Eq)]
enum Liveness {
    Alive,
    Gone,
    /// Cannot tell (another PID namespace, `/proc` unreadable): left alone.
    Unknown,
}

fn liveness(owner: &Owner, me: &Owner) -> Liveness {
    let differ =
        |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
    if differ(&owner.boot_id, &me.boot_id) {
        return Liveness::Gone;
    }
    if differ(&owner.pid_ns, &me.pid_ns) {
        return Liveness::Unknown;
    }
    match proc_stat(owner.pid) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Liveness::Gone,
        Err(_) => Liveness::Unknown,
        // A zombie has exited: only its parent has not reaped it yet.
        Ok(st) if matches!(st.state, 'Z' | 'X' | 'x') => Liveness::Gone,
        Ok(st) if owner.start_time.is_some_and(|t| t != st.start_time) => Liveness::Gone,
        Ok(_) => Liveness::Alive,
    }
}

/// An edit directory left behind that toolctl did not remove.
#[derive(Debug, Clone)]
pub struct StaleDir {
    pub path: PathBuf,
    /// The toolctl process it belonged to, when known.
    pub pid: Option<u32>,
    /// Why it is still there.
    pub problem: String,
}

static SWEPT: OnceLock<Vec<StaleDir>> = OnceLock::new();

/// Removes the edit directories that a killed toolctl left behind, once per process, and
/// says so on stderr.
pub fn sweep_stale(notify: &dyn Notify) {
    stale_left_behind(notify);
}

/// The stale edit directories that are still there after the sweep (which runs first
/// if it has not yet).
pub fn stale_left_behind(notify: &dyn Notify) -> &'static [StaleDir] {
    SWEPT.get_or_init(|| sweep(notify))
}

fn sweep(notify: &dyn Notify) -> Vec<StaleDir> {
    // Who this process is (its start time, boot id and PID namespace: three reads under
    // /proc) is needed only when an edit directory is found: not on every read.
    let me = std::cell::OnceCell::new();
    let mut left = Vec::new();
    // Only the bases toolctl would use: another user's runtime directory is theirs.
    for base in usable_bases() {
        let Ok(names) = base.names() else {
            continue;
        };
        for name in names {
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
                continue;
            };
            let path = base.path().join(&name);
            // Another user's directories are theirs to clean; a symlink is nobody's.
            let Ok(Some(scratch)) = Scratch::open_existing(&base, &name) else {
                continue;
            };
            let record = scratch
                .read_small(OsStr::new(OWNER_FILE), OWNER_CAP)
                .and_then(|bytes| Owner::parse(std::str::from_utf8(&bytes).ok()?));
            let name_pid = rest
                .split_once('-')
                .and_then(|(p, _)| p.parse::<u32>().ok());
            let owner = match (record, name_pid) {
                (Some(owner), _) => owner,
                // Killed before the record was written: the directory holds no plaintext
                // yet, and its name still says whose it is.
                (None, Some(pid)) => Owner {
                    pid,
                    start_time: None,
                    boot_id: None,
                    pid_ns: None,
                },
                (None, None) => {
                    notify.warn(format!(
                        "`{}` looks like the plaintext copy of a `secret edit` by an older \
                         toolctl (it has no owner record), so it was left alone; remove it \
                         once no `secret edit` is running: `rm -r {}`",
                        path.display(),
                        path.display()
                    ));
                    left.push(StaleDir {
                        path,
                        pid: None,
                        problem: "no owner record (left by an older toolctl?)".into(),
                    });
                    continue;
                }
            };
            if liveness(&owner, me.get_or_init(Owner::current)) != Liveness::Gone {
                continue;
            }
            match scratch.remove() {
                Ok(()) => notify.warn(format!(
                    "removed `{}`, the plaintext copy of a `secret edit` whose toolctl \
                     (pid {}) was killed; that edit was not saved",
                    path.display(),
                    owner.pid
                )),
                // Another toolctl's sweep was faster.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    notify.warn(format!(
                        "cannot remove `{}`, the plaintext copy of a `secret edit` whose \
                         toolctl (pid {}) was killed: {e}; remove it by hand: `rm -r {}`",
                        path.display(),
                        owner.pid,
                        path.display()
                    ));
                    left.push(StaleDir {
                        path,
                        pid: Some(owner.pid),
                        problem: format!("cannot remove it: {e}"),
                    });
                }
            }
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 100 18446744073709551615";
        assert_eq!(
            parse_proc_stat(line),
            Some(ProcStat {
                state: 'S',
                start_time: 987654
            })
        );
        assert_eq!(parse_proc_stat("12 (x) S 1"), None);
        let me = proc_stat(std::process::id()).unwrap();
        assert!(me.start_time > 0);
    }

    #[test]
    fn owner_records_round_trip_and_a_cut_record_has_no_owner() {
        let me = Owner::current();
        assert!(me.start_time.is_some());
        assert_eq!(Owner::parse(&me.record()), Some(me.clone()));
        assert_eq!(Owner::parse("# comment\n"), None);
        assert_eq!(
            Owner::parse("pid=12\nstart_time=9").map(|o| (o.pid, o.start_time)),
            Some((12, Some(9)))
        );
        assert_eq!(Owner::parse("pid=12\nstart_time=").map(|o| o.pid), None);
        assert_eq!(liveness(&me, &me), Liveness::Alive);
        let reused = Owner {
            start_time: me.start_time.map(|t| t + 1),
            ..me.clone()
        };
        assert_eq!(liveness(&reused, &me), Liveness::Gone);
        let rebooted = Owner {
            boot_id: Some("another boot".into()),
            ..me.clone()
        };
        assert_eq!(liveness(&rebooted, &me), Liveness::Gone);
        let elsewhere = Owner {
            pid_ns: Some("pid:[1]".into()),
            ..me.clone()
        };
        assert_eq!(liveness(&elsewhere, &me), Liveness::Unknown);
    }

    #[test]
    fn editors_are_classified_by_name_and_by_what_they_resolve_to() {
        let never = || panic!("vi probed");
        assert_eq!(classify("vim", Some("vim.basic"), never), Family::Vim);
        assert_eq!(classify("editor", Some("vim.basic"), never), Family::Vim);
        assert_eq!(classify("vi", Some("vim.tiny"), never), Family::Vim);
        assert_eq!(classify("gvim", Some("vim.gtk3"), never), Family::Gvim);
        assert_eq!(classify("vim", Some("nvim"), never), Family::Neovim);
        assert_eq!(classify("vim", Some("my-wrapper"), never), Family::Vim);
        assert_eq!(classify("nvim", None, never), Family::Neovim);
        assert_eq!(classify("editor", Some("nano"), never), Family::Nano);
        assert_eq!(classify("rnano", Some("nano"), never), Family::Nano);
        assert_eq!(classify("emacs", Some("emacs-29.1"), never), Family::Other);
        assert_eq!(classify("vi", Some("nvi"), never), Family::Other);
        assert_eq!(classify("vi", Some("busybox"), never), Family::Other);
        assert_eq!(classify("vi", Some("vi"), || true), Family::Vim);
        assert_eq!(classify("vi", Some("vi"), || false), Family::Other);
        assert_eq!(classify("editor", Some("vi"), || true), Family::Vim);
    }
}
