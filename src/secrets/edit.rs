//! `secret edit`: the plaintext copy, the editor, and cleaning up on every exit path.
//!
//! The plaintext lives only in a fresh 0700 directory on a tmpfs (`$XDG_RUNTIME_DIR`, else
//! `/dev/shm`) as a 0600 file; with no writable tmpfs the edit is refused rather than put on
//! a persistent disk. The directory is removed when the session is dropped (normal return,
//! error, panic) and by the signal thread when SIGINT, SIGTERM or SIGHUP arrive while no
//! editor runs; while one runs the signal is passed on to it and the main thread cleans up
//! once it has exited, as git does around its editor.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::crypt::Plaintext;
use super::scope::Scope;
use super::store;
use crate::error::{Error, Result};

/// The private plaintext copy of one secret.
pub struct Session {
    dir: Option<tempfile::TempDir>,
    pub file: PathBuf,
}

static CHILD: AtomicI32 = AtomicI32::new(0);
static CAUGHT: AtomicI32 = AtomicI32::new(0);
static CLEANUP: Mutex<Option<PathBuf>> = Mutex::new(None);
static HANDLERS: Once = Once::new();

impl Session {
    /// Creates the private directory and the 0600 file holding `initial`.
    pub fn new(scope: Scope, initial: &[u8]) -> Result<Session> {
        install_signal_handlers()?;
        let dir = private_dir()?;
        *CLEANUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.path().to_path_buf());
        let file = dir.path().join(format!("{}.yaml", scope.table()));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .map_err(|e| Error::io("create", &file, e))?;
        f.write_all(initial)
            .map_err(|e| Error::io("write", &file, e))?;
        Ok(Session {
            dir: Some(dir),
            file,
        })
    }

    /// Runs the editor on the file and waits for it. An editor that fails, or a signal
    /// received meanwhile, is an error: nothing is saved.
    pub fn edit(&self) -> Result<()> {
        let argv = editor_command();
        let program = argv[0].clone();
        let mut child = Command::new(&program)
            .args(&argv[1..])
            .arg(&self.file)
            .spawn()
            .map_err(|e| {
                Error::new(format!(
                    "cannot start the editor `{}`",
                    program.to_string_lossy()
                ))
                .cause(e)
                .hint(
                    "set $VISUAL or $EDITOR to an installed editor (e.g. `EDITOR=nano`), \
                         or pipe the content into `secret write`",
                )
            })?;
        CHILD.store(child.id() as i32, Ordering::SeqCst);
        let status = child.wait();
        CHILD.store(0, Ordering::SeqCst);
        if CAUGHT.load(Ordering::SeqCst) != 0 {
            return Err(Error::interrupted(
                "interrupted while editing; nothing was saved",
            ));
        }
        let status = status.map_err(|e| Error::new("cannot wait for the editor").cause(e))?;
        if !status.success() {
            return Err(Error::new(format!(
                "the editor `{}` exited with {status}; nothing was saved",
                program.to_string_lossy()
            ))
            .hint("run the command again and quit the editor normally to save (`:wq` in vi)"));
        }
        Ok(())
    }

    /// The file's current content.
    pub fn read(&self) -> Result<std::result::Result<Plaintext, super::schema::SchemaError>> {
        let f = fs::File::open(&self.file).map_err(|e| Error::io("read", &self.file, e))?;
        store::read_limited(f).map_err(|e| Error::io("read", &self.file, e))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Overwrite before unlinking: cheap, and it matters if the tmpfs is ever swapped.
        if let Ok(meta) = fs::metadata(&self.file) {
            if let Ok(mut f) = fs::OpenOptions::new().write(true).open(&self.file) {
                let _ = f.write_all(&vec![0u8; meta.len() as usize]);
                let _ = f.sync_all();
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
        *CLEANUP.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

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
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    vec![OsString::from(if on_path("editor") {
        "editor"
    } else {
        "vi"
    })]
}

/// A fresh 0700 directory on a writable tmpfs.
fn private_dir() -> Result<tempfile::TempDir> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(x));
    }
    candidates.push(PathBuf::from("/dev/shm"));
    for base in &candidates {
        if !is_tmpfs(base) {
            continue;
        }
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("toolctl-edit-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(base)
        {
            return Ok(dir);
        }
    }
    Err(Error::new("no writable tmpfs for the plaintext copy")
        .cause("tried $XDG_RUNTIME_DIR and /dev/shm; a plaintext secret is never put on a persistent disk")
        .hint("set XDG_RUNTIME_DIR to a directory on a tmpfs, or pipe the content into `toolctl <scope> secret write`"))
}

fn is_tmpfs(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    matches!(st.f_type as i64, TMPFS_MAGIC | RAMFS_MAGIC)
}

fn install_signal_handlers() -> Result<()> {
    let mut result = Ok(());
    HANDLERS.call_once(|| {
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                result = Err(Error::new("cannot install signal handlers").cause(e));
                return;
            }
        };
        std::thread::spawn(move || {
            for sig in signals.forever() {
                CAUGHT.store(sig, Ordering::SeqCst);
                let child = CHILD.load(Ordering::SeqCst);
                if child > 0 {
                    // SAFETY: plain kill(2) on our own child's pid.
                    unsafe { libc::kill(child, sig) };
                    continue;
                }
                if let Some(dir) = CLEANUP.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    let _ = fs::remove_dir_all(dir);
                }
                eprintln!("error: interrupted; nothing was saved");
                std::process::exit(130);
            }
        });
    });
    result
}
