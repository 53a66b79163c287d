//! Durable, private file writes and the writers' lock.
//!
//! Owns the one way toolctl replaces a file: a temporary file in the same directory, created
//! with its final mode, written, fsynced, renamed over the target, then the directory
//! fsynced, so a crash leaves either the old or the new file and never a mix. Also owns the
//! advisory lock that serialises writers, and the one way a whole file is read: regular
//! files only, opened without blocking, capped. It knows nothing about what the bytes mean.

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

/// Read caps (issue 9): a character device or a runaway file must not be read until memory
/// runs out.
pub const KEY_CAP: u64 = 64 * 1024;
pub const SETTINGS_CAP: u64 = 4 * 1024 * 1024;
pub const SECRET_CAP: u64 = 2 * 1024 * 1024;
/// Any other file toolctl reads whole (rendered files it compares, certificates).
pub const FILE_CAP: u64 = 16 * 1024 * 1024;

/// Why a capped read did not return the bytes.
#[derive(Debug)]
pub enum ReadFailure {
    Io(io::Error),
    /// Not a regular file (a FIFO, a device, a directory, a socket): named by kind.
    NotRegular(&'static str),
    /// Larger than the cap.
    TooLarge(u64),
}

impl ReadFailure {
    /// The user-facing error: `what` names the file's role ("the key", "the settings file").
    pub fn into_error(self, what: &str, path: &Path) -> Error {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what} ")
        };
        match self {
            ReadFailure::Io(e) => Error::io(format!("read {what}").trim_end(), path, e),
            ReadFailure::NotRegular(kind) => Error::new(format!(
                "cannot read {what}`{}`: it is a {kind}, not a regular file",
                path.display()
            ))
            .hint(format!(
                "replace `{}` with the real file (toolctl never reads from pipes or devices here)",
                path.display()
            )),
            ReadFailure::TooLarge(cap) => Error::new(format!(
                "cannot read {what}`{}`: it is larger than {} KiB",
                path.display(),
                cap / 1024
            ))
            .hint(format!(
                "`{}` is not what toolctl expects there: check that the path is right",
                path.display()
            )),
        }
    }
}

/// Reads a whole regular file of at most `cap` bytes, `Ok(None)` when it does not exist.
/// Opens with `O_NONBLOCK` so a FIFO cannot hang the open, then refuses anything that is not
/// a regular file, and never reads more than `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64) -> std::result::Result<Option<Vec<u8>>, ReadFailure> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadFailure::Io(e)),
    };
    let meta = file.metadata().map_err(ReadFailure::Io)?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(ReadFailure::NotRegular(if ft.is_fifo() {
            "named pipe (FIFO)"
        } else if ft.is_char_device() {
            "character device"
        } else if ft.is_block_device() {
            "block device"
        } else if ft.is_dir() {
            "directory"
        } else if ft.is_socket() {
            "socket"
        } else {
            "special file"
        }));
    }
    if meta.len() > cap {
        return Err(ReadFailure::TooLarge(cap));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    (&file)
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(ReadFailure::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadFailure::TooLarge(cap));
    }
    Ok(Some(buf))
}

/// [`read_capped`] with the user-facing error; `what` names the file's role.
pub fn read_optional_capped(path: &Path, cap: u64, what: &str) -> Result<Option<Vec<u8>>> {
    read_capped(path, cap).map_err(|f| f.into_error(what, path))
}

/// Reads a whole regular file (at most [`FILE_CAP`]), `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    read_optional_capped(path, FILE_CAP, "")
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
