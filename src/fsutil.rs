//! Durable, private file writes and the writers' lock.
//!
//! Owns the one way toolctl replaces a file: a temporary file in the same directory, created
//! with its final mode, written, fsynced, renamed over the target, then the directory
//! fsynced, so a crash leaves either the old or the new file and never a mix. Also owns the
//! advisory lock that serialises writers. It knows nothing about what the bytes mean.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Creates `dir` with `mode`; missing parents get the usual 0755, so a private directory
/// deep in a fresh tree does not make its parents private too.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent, 0o755)?;
    }
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::io("create directory", dir, e)),
    }
}

/// Replaces `path` atomically with `bytes`, with permission bits `mode`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = prepare(path, bytes, mode)?;
    tmp.commit()
}

/// A written, fsynced temporary file waiting to be renamed over its target. Dropping it
/// without [`Prepared::commit`] removes it, which is how multi-file writes stay
/// all-or-nothing: prepare every file first, then commit them.
pub struct Prepared {
    tmp: Option<tempfile::TempPath>,
    target: PathBuf,
}

/// Writes `bytes` to a temporary file beside `path` (mode `mode`) and fsyncs it.
pub fn prepare(path: &Path, bytes: &[u8], mode: u32) -> Result<Prepared> {
    let dir = parent(path);
    let mut file = tempfile::Builder::new()
        .prefix(".toolctl-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::io("write to", dir, e))?;
    // The umask may have narrowed the mode given at creation; set it exactly.
    file.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", file.path(), e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io("write", path, e))?;
    Ok(Prepared {
        tmp: Some(file.into_temp_path()),
        target: path.to_path_buf(),
    })
}

impl Prepared {
    /// Renames the temporary file over its target and fsyncs the directory.
    pub fn commit(mut self) -> Result<()> {
        let tmp = self.tmp.take().expect("commit runs once");
        tmp.persist(&self.target)
            .map_err(|e| Error::io("replace", &self.target, e.error))?;
        sync_dir(parent(&self.target))
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsyncs a directory so a rename or an unlink in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync directory", dir, e))
}

/// How long a writer waits for another to finish before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// An exclusive advisory lock, released when dropped (or when the process dies).
pub struct Lock {
    _file: File,
}

/// Takes the exclusive lock on `path` (created 0600 if missing), waiting up to
/// [`LOCK_WAIT`] for another writer. `what` names the writers in the message.
pub fn lock(path: &Path, what: &str) -> Result<Lock> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, e))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::new(format!(
                    "another toolctl is changing the {what}: `{}` stayed locked for {} s",
                    path.display(),
                    LOCK_WAIT.as_secs()
                ))
                .hint(
                    "wait for the other command (an open `secret edit`, a `reconfigure`) to \
                     finish, then run this again; `fuser -v` on the lock file shows who holds it",
                ))
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}

/// Reads a whole file, `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Writes a new file at `path` atomically; fails if `path` already exists (never clobbers).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut prepared = prepare(path, bytes, mode)?;
    let tmp = prepared.tmp.take().expect("fresh");
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            Error::new(format!(
                "`{}` already exists; it was left as it is",
                path.display()
            ))
        } else {
            Error::io("create", path, e.error)
        }
    })?;
    sync_dir(parent(path))
}
