//! The advisory lock that serialises writers (a lock file, or the directory itself).

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

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
        // A lock file planted as a symlink must not make toolctl create or open a file
        // elsewhere: it fails with ELOOP instead.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, e))?;
    wait_for_lock(file, path, what)
}

/// Takes the exclusive lock on the directory `dir` itself (flock on its descriptor), so
/// the lock leaves no file behind: for commands whose every failure must leave the tree
/// exactly as it was (Mattermost backup and restore).
pub fn lock_dir(dir: &Path, what: &str) -> Result<Lock> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| Error::io("open the directory to lock", dir, e))?;
    wait_for_lock(file, dir, what)
}

fn wait_for_lock(file: File, path: &Path, what: &str) -> Result<Lock> {
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
                    "wait for the other command (an open `secret edit`, a `reconfigure`, a \
                     Mattermost restore) to finish, then run this again; `fuser -v` on the \
                     lock shows who holds it",
                ))
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}
