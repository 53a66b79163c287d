//! Durable, private file writes, the writers' lock, and the walk that trusts no other user.
//!
//! Owns the one way toolctl replaces a file: a temporary file in the same directory, created
//! with its final mode, written, fsynced, renamed over the target, then the directory
//! fsynced, so a crash leaves either the old or the new file and never a mix. Also owns the
//! advisory lock that serialises writers, and the one way a whole file is read: regular
//! files only, opened without blocking, capped. It knows nothing about what the bytes mean.
//!
//! Temporary files are named `.toolctl-<target>.<random>.tmp` ([`is_temp_name`]) so that
//! the next writer can recognise and remove the ones a kill left behind ([`sweep_temps`]),
//! under the writers' lock of their directory. A file a journal still needs after a crash
//! must be recovered before that sweep runs (reconfigure does so).
//!
//! [`DirHandle`] is the openat-style access used inside the trees toolctl manages: every
//! directory below the tree's root is opened with `O_NOFOLLOW | O_DIRECTORY`, and files are
//! created, renamed and removed relative to it, so a symlink planted inside the tree can
//! neither redirect a write nor a removal.

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
    let prefix = temp_prefix(path.file_name().unwrap_or_default());
    let mut file = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
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
    read_to_cap(&file, meta.len(), cap).map(Some)
}

/// Reads an opened regular file of `len` bytes (as its metadata says), refusing more than
/// `cap`: the file may grow between the stat and the read, so at most `cap + 1` bytes are read.
fn read_to_cap(file: &File, len: u64, cap: u64) -> std::result::Result<Vec<u8>, ReadFailure> {
    use std::io::Read;
    if len > cap {
        return Err(ReadFailure::TooLarge(cap));
    }
    let mut buf = Vec::with_capacity(len as usize);
    file.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(ReadFailure::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadFailure::TooLarge(cap));
    }
    Ok(buf)
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

/// Every temporary file toolctl creates starts with this and ends with [`TEMP_SUFFIX`].
pub const TEMP_PREFIX: &str = ".toolctl-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// `.toolctl-<name>.`: the start of a temporary file's name beside `name` (shortened so
/// that the whole name stays well under NAME_MAX).
pub fn temp_prefix(name: &std::ffi::OsStr) -> String {
    let name = name.to_string_lossy();
    let mut end = name.len().min(96);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{TEMP_PREFIX}{}.", &name[..end])
}

/// Whether `name` is one of toolctl's temporary files (and so may be swept once stale).
pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    let n = name.as_encoded_bytes();
    n.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && n.starts_with(TEMP_PREFIX.as_bytes())
        && n.ends_with(TEMP_SUFFIX.as_bytes())
}

/// Removes the stale temporary files in `dir` (regular files or symlinks named by
/// [`is_temp_name`]; never a directory, never through a link) and returns their paths.
/// The caller holds the writers' lock of `dir`, so no live writer owns any of them; a
/// missing `dir` has none. `only_for` limits the sweep to the temporaries of one file name.
pub fn sweep_temps_for(dir: &Path, only_for: Option<&str>) -> Result<Vec<PathBuf>> {
    let handle = match DirHandle::open(dir) {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("open directory", dir, e)),
    };
    let mut removed = Vec::new();
    sweep_in(&handle, only_for, 0, &mut removed)?;
    Ok(removed)
}

/// [`sweep_temps_for`] every temporary file of `dir`.
pub fn sweep_temps(dir: &Path) -> Result<Vec<PathBuf>> {
    sweep_temps_for(dir, None)
}

/// What [`DirHandle::lstat`] found (the entry itself, never a link's target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// The metadata toolctl compares.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

fn stat_of(st: &rustix::fs::Stat) -> Stat {
    let ft = rustix::fs::FileType::from_raw_mode(st.st_mode as _);
    let kind = match ft {
        rustix::fs::FileType::RegularFile => Kind::File,
        rustix::fs::FileType::Directory => Kind::Dir,
        rustix::fs::FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    };
    Stat {
        kind,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
    }
}

/// An open directory; every operation is relative to it and never follows a symlink in
/// the last component.
pub struct DirHandle {
    fd: std::os::fd::OwnedFd,
    /// For messages only: the path it was opened as.
    pub path: PathBuf,
}

use rustix::fs::{AtFlags, Mode, OFlags};

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

impl DirHandle {
    /// Opens `path` as the anchor of a tree: symlinks above and at it are the
    /// administrator's choice and are followed.
    pub fn open(path: &Path) -> io::Result<DirHandle> {
        let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty())?;
        Ok(DirHandle {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Opens the subdirectory `name` with `O_NOFOLLOW`: a symlink there fails (`ELOOP`, or
    /// `ENOTDIR`), as does anything that is not a directory.
    pub fn open_dir(&self, name: &std::ffi::OsStr) -> io::Result<DirHandle> {
        let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?;
        Ok(DirHandle {
            fd,
            path: self.path.join(name),
        })
    }

    /// The entry `name` itself (`None` when it does not exist).
    pub fn lstat(&self, name: &std::ffi::OsStr) -> io::Result<Option<Stat>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(stat_of(&st))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// This directory's own metadata.
    pub fn stat_self(&self) -> io::Result<Stat> {
        Ok(stat_of(&rustix::fs::fstat(&self.fd)?))
    }

    /// Sets this directory's mode and, when given, its owner.
    pub fn set_self(&self, mode: u32, owner: Option<(u32, u32)>) -> io::Result<()> {
        if let Some((uid, gid)) = owner {
            rustix::fs::fchown(
                &self.fd,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )?;
        }
        rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode as _))?;
        Ok(())
    }

    pub fn mkdir(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<()> {
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode as _))?;
        Ok(())
    }

    pub fn rmdir(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?;
        Ok(())
    }

    /// Removes the entry `name` (a link itself, never its target).
    pub fn unlink(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?;
        Ok(())
    }

    pub fn rename(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to)?;
        Ok(())
    }

    /// A second name `to` for the entry `from` (a link itself when `from` is one).
    pub fn link(&self, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
        rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?;
        Ok(())
    }

    /// Creates `name` (which must not exist), owned by `owner`, with exactly `mode`,
    /// holding `bytes`, fsynced. The owner is set before any byte is written.
    pub fn create_file(
        &self,
        name: &std::ffi::OsStr,
        bytes: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<()> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode((mode & 0o600) as _),
        )?;
        let mut file = File::from(fd);
        if let Some((uid, gid)) = owner {
            rustix::fs::fchown(
                &file,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )?;
        }
        // After the chown, which clears set-id bits, and whatever the umask.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode as _))?;
        file.write_all(bytes)?;
        file.sync_all()
    }

    /// Reads the regular file `name` (at most `cap` bytes) without following a link:
    /// `Ok(None)` when it does not exist.
    pub fn read_capped(
        &self,
        name: &std::ffi::OsStr,
        cap: u64,
    ) -> std::result::Result<Option<Vec<u8>>, ReadFailure> {
        let fd = match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(ReadFailure::Io(e.into())),
        };
        let file = File::from(fd);
        let meta = file.metadata().map_err(ReadFailure::Io)?;
        if !meta.is_file() {
            return Err(ReadFailure::NotRegular("special file"));
        }
        read_to_cap(&file, meta.len(), cap).map(Some)
    }

    /// The names in this directory, without `.` and `..`.
    pub fn names(&self) -> io::Result<Vec<std::ffi::OsString>> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                out.push(std::ffi::OsStr::from_bytes(name).to_os_string());
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }
}

/// Where a directory is: the deepest part of it that exists, opened, and the names below
/// it that do not exist yet.
pub struct Located {
    pub handle: DirHandle,
    pub missing: Vec<std::ffi::OsString>,
}

/// Opens `dir` for work inside the tree rooted at `tree`: `tree` itself is followed, every
/// component below it is opened with `O_NOFOLLOW`, and a symlink (or non-directory) among
/// them is refused with an error naming it. A `dir` outside `tree` (a log directory, GitLab's
/// encrypted settings) is the administrator's path: its existing part is opened as given.
pub fn locate_dir(tree: &Path, dir: &Path) -> Result<Located> {
    let (anchor, below): (PathBuf, Vec<std::ffi::OsString>) = match dir.strip_prefix(tree) {
        Ok(rel) => (
            tree.to_path_buf(),
            rel.components()
                .map(|c| c.as_os_str().to_os_string())
                .collect(),
        ),
        Err(_) => existing_ancestor(dir),
    };
    let mut handle = match DirHandle::open(&anchor) {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::NotFound && anchor == tree => {
            // The tree itself is missing (a dry run on a fresh root): everything below it is.
            let (anchor, mut missing) = existing_ancestor(tree);
            missing.extend(below);
            let handle =
                DirHandle::open(&anchor).map_err(|e| Error::io("open directory", &anchor, e))?;
            return Ok(Located { handle, missing });
        }
        Err(e) => return Err(Error::io("open directory", &anchor, e)),
    };
    let mut rest = below.into_iter();
    while let Some(name) = rest.next() {
        match handle.open_dir(&name) {
            Ok(h) => handle = h,
            Err(e) => {
                let path = handle.path.join(&name);
                match handle.lstat(&name) {
                    Ok(None) => {
                        let mut missing = vec![name];
                        missing.extend(rest);
                        return Ok(Located { handle, missing });
                    }
                    Ok(Some(st)) if st.kind == Kind::Symlink => {
                        return Err(symlinked_dir(&path));
                    }
                    Ok(Some(st)) if st.kind != Kind::Dir => {
                        return Err(Error::new(format!(
                            "`{}` is not a directory; toolctl manages a directory there",
                            path.display()
                        ))
                        .hint(format!(
                            "move `{}` out of the way, then run this again; nothing was changed",
                            path.display()
                        )))
                    }
                    _ => return Err(Error::io("open directory", &path, e)),
                }
            }
        }
    }
    Ok(Located {
        handle,
        missing: Vec::new(),
    })
}

/// The deepest existing ancestor of `dir` (symlinks followed), and the names below it.
fn existing_ancestor(dir: &Path) -> (PathBuf, Vec<std::ffi::OsString>) {
    let mut anchor = dir.to_path_buf();
    let mut missing = Vec::new();
    while !anchor.is_dir() {
        match (anchor.file_name(), anchor.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                anchor = parent.to_path_buf();
            }
            _ => break,
        }
    }
    missing.reverse();
    (anchor, missing)
}

/// [`sweep_temps`] in `dir` and every directory below it, never entering a symlink
/// (at most `depth` levels down).
pub fn sweep_temps_tree(dir: &Path, depth: usize) -> Result<Vec<PathBuf>> {
    let handle = match DirHandle::open(dir) {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("open directory", dir, e)),
    };
    let mut removed = Vec::new();
    sweep_in(&handle, None, depth, &mut removed)?;
    Ok(removed)
}

fn sweep_in(
    handle: &DirHandle,
    only_for: Option<&str>,
    depth: usize,
    removed: &mut Vec<PathBuf>,
) -> Result<()> {
    let dir = &handle.path;
    let wanted = only_for.map(|n| temp_prefix(std::ffi::OsStr::new(n)));
    let before = removed.len();
    for name in handle
        .names()
        .map_err(|e| Error::io("list directory", dir, e))?
    {
        let kind = match handle.lstat(&name) {
            Ok(Some(st)) => st.kind,
            _ => continue,
        };
        if kind == Kind::Dir {
            if depth > 0 {
                if let Ok(sub) = handle.open_dir(&name) {
                    sweep_in(&sub, only_for, depth - 1, removed)?;
                }
            }
            continue;
        }
        if !is_temp_name(&name) {
            continue;
        }
        if let Some(w) = &wanted {
            if !name.as_encoded_bytes().starts_with(w.as_bytes()) {
                continue;
            }
        }
        let path = dir.join(&name);
        match handle.unlink(&name) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove the stale temporary file", &path, e)),
        }
    }
    if removed.len() > before {
        handle
            .sync()
            .map_err(|e| Error::io("sync directory", dir, e))?;
    }
    Ok(())
}

/// The refusal of a managed directory that is a symlink.
pub fn symlinked_dir(path: &Path) -> Error {
    Error::new(format!(
        "`{}` is a symbolic link; toolctl never follows links inside the trees it manages",
        path.display()
    ))
    .cause("writing or removing files through it would change files outside the tree")
    .hint(format!(
        "replace the link `{}` with a real directory (or remove it, and toolctl creates \
         it), then run this again; nothing was changed",
        path.display()
    ))
}

/// Who, besides the users toolctl trusts, can change a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// It is owned by this uid (an owner can always make it writable).
    Owner(u32),
    /// It is group-writable and its group is this gid.
    Group(u32),
    /// It is world-writable and not sticky.
    Others,
}

/// The users whose changes toolctl accepts in a path: root, the user it runs as, and the
/// owner a directory is meant to have (a service account, for the directory it owns).
#[derive(Clone, Debug)]
pub struct Trusted {
    uids: Vec<u32>,
    gids: Vec<u32>,
}

impl Trusted {
    /// Root and the user toolctl runs as.
    pub fn root() -> Trusted {
        let (u, g) = (crate::sys::users::euid(), crate::sys::users::egid());
        Trusted {
            uids: vec![0, u],
            gids: vec![0, g],
        }
    }

    /// Also `uid`/`gid` (the intended owner of the directory being checked).
    pub fn and(mut self, uid: u32, gid: u32) -> Trusted {
        self.uids.push(uid);
        self.gids.push(gid);
        self
    }

    /// The first writer of a directory with `st` that is not trusted, if any. A sticky
    /// world- or group-writable directory (such as `/tmp`) counts as safe: its other users
    /// cannot rename or remove entries they do not own, and the walk checks each entry's
    /// owner in turn.
    pub fn foreign_writer(&self, st: &Stat) -> Option<Writer> {
        if !self.uids.contains(&st.uid) {
            return Some(Writer::Owner(st.uid));
        }
        let sticky = st.mode & 0o1000 != 0;
        if st.mode & 0o020 != 0 && !self.gids.contains(&st.gid) && !sticky {
            return Some(Writer::Group(st.gid));
        }
        if st.mode & 0o002 != 0 && !sticky {
            return Some(Writer::Others);
        }
        None
    }

    /// An error when a user toolctl does not trust can change `path` (metadata `st`).
    pub fn check(&self, path: &Path, st: &Stat) -> Result<()> {
        match self.foreign_writer(st) {
            None => Ok(()),
            Some(w) => Err(untrusted(path, st, w)),
        }
    }
}

/// The refusal of a directory that a user other than root can change.
pub fn untrusted(path: &Path, st: &Stat, writer: Writer) -> Error {
    use crate::sys::users::describe_uid;
    let who = match writer {
        Writer::Owner(uid) => format!("it is owned by {}", describe_uid(uid)),
        Writer::Group(gid) => format!("its group (gid {gid}) can write it (mode {:04o})", st.mode),
        Writer::Others => format!("every user can write it (mode {:04o})", st.mode),
    };
    Error::new(format!(
        "`{}` can be changed by a user other than root: {who}",
        path.display()
    ))
    .cause("toolctl runs as root and never writes or chowns through a directory another user can change: that user could swap in a link to any file")
    .hint(format!(
        "make it root's and not writable by others (`chown root:root {p} && chmod go-w {p}`), \
         or configure a path below a root-owned directory; nothing was changed",
        p = path.display()
    ))
}

/// Opens `path` below the `--root` directory `root`, component by component, without
/// following any link: `root` itself (and everything above it) is the administrator's
/// choice and trusted as given; every directory below it is opened with
/// `O_NOFOLLOW | O_DIRECTORY` relative to its parent's descriptor, and must be changeable
/// by `trusted` users only (a symlink, a non-directory or an untrusted directory is an
/// error naming it). The part of `path` that does not exist yet is returned as
/// [`Located::missing`], to be created with [`DirHandle::mkdir`] beneath the handle.
/// A `path` outside `root` is refused.
pub fn open_beneath(root: &Path, path: &Path, trusted: &Trusted) -> Result<Located> {
    let rel = path.strip_prefix(root).map_err(|_| {
        Error::new(format!(
            "`{}` is outside the root `{}`",
            path.display(),
            root.display()
        ))
        .hint("name paths inside the root; nothing was changed")
    })?;
    let names: Vec<std::ffi::OsString> = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(n) => Ok(n.to_os_string()),
            _ => Err(
                Error::new(format!("`{}` has a `..` or `.` component", path.display()))
                    .hint("write the path without `..`; nothing was changed"),
            ),
        })
        .collect::<Result<_>>()?;
    let mut handle = DirHandle::open(root).map_err(|e| Error::io("open directory", root, e))?;
    let mut rest = names.into_iter();
    while let Some(name) = rest.next() {
        let here = handle.path.join(&name);
        match handle.lstat(&name) {
            Ok(None) => {
                let mut missing = vec![name];
                missing.extend(rest);
                return Ok(Located { handle, missing });
            }
            Ok(Some(st)) if st.kind == Kind::Symlink => return Err(symlinked_dir(&here)),
            Ok(Some(st)) if st.kind != Kind::Dir => {
                return Err(
                    Error::new(format!("`{}` is not a directory", here.display())).hint(format!(
                        "move `{}` out of the way, then run this again; nothing was changed",
                        here.display()
                    )),
                )
            }
            Ok(Some(_)) => {}
            Err(e) => return Err(Error::io("inspect", &here, e)),
        }
        let next = handle.open_dir(&name).map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                symlinked_dir(&here)
            } else {
                Error::io("open directory", &here, e)
            }
        })?;
        // The check is on the opened descriptor: what was checked is what is used.
        let st = next
            .stat_self()
            .map_err(|e| Error::io("inspect", &here, e))?;
        trusted.check(&here, &st)?;
        handle = next;
    }
    Ok(Located {
        handle,
        missing: Vec::new(),
    })
}

impl DirHandle {
    /// Creates the regular file `name` beneath this directory (`O_CREAT | O_EXCL |
    /// O_NOFOLLOW`: never an existing entry, never through a link), readable and writable,
    /// with exactly `mode` (set on the descriptor, whatever the umask).
    pub fn create_new(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode((mode & 0o600) as _),
        )?;
        let file = File::from(fd);
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode as _))?;
        Ok(file)
    }
}

/// Opens, creating what is missing, a directory that toolctl writes root-owned files into
/// (an output directory such as `mattermost backup --output`). Below `--root` (`root`) the
/// walk starts at the root directory, as [`open_beneath`] does; a `dir` outside it is
/// walked from `/`, so every ancestor counts. Either way no component may be a symlink,
/// and every existing directory on the way must be changeable by `trusted` users only (a
/// sticky one such as `/tmp` is safe for the entries its other users do not own). Missing
/// directories are created beneath their opened parent, the last one with `mode`, the
/// others 0755, and checked like the rest. `dir` is made absolute against the current
/// directory; `..` is resolved by name (no link can be in the way, since none is followed).
pub fn open_output_dir(root: &Path, dir: &Path, mode: u32, trusted: &Trusted) -> Result<DirHandle> {
    use std::path::Component;
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::new("cannot read the current directory").cause(e))?
            .join(dir)
    };
    let mut clean = PathBuf::from("/");
    for c in abs.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    let anchor = if clean.starts_with(root) && root.is_absolute() {
        root
    } else {
        Path::new("/")
    };
    let located = open_beneath(anchor, &clean, trusted)?;
    let mut handle = located.handle;
    let n = located.missing.len();
    for (i, name) in located.missing.into_iter().enumerate() {
        let here = handle.path.join(&name);
        let m = if i + 1 == n { mode } else { 0o755 };
        match handle.mkdir(&name, m) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create directory", &here, e)),
        }
        let next = handle.open_dir(&name).map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                symlinked_dir(&here)
            } else {
                Error::io("open directory", &here, e)
            }
        })?;
        let st = next
            .stat_self()
            .map_err(|e| Error::io("inspect", &here, e))?;
        trusted.check(&here, &st)?;
        handle = next;
    }
    Ok(handle)
}

/// The descriptor itself, for primitives in other `sys` modules (`sys::scratch`).
impl std::os::fd::AsFd for DirHandle {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }
}

// --- Descriptor-only work in directories another user may own (issue 19: Mattermost's
// `data/` and `config.json`, restore staging). ---

/// The identity of a file: device and inode, to check that a name still holds what was
/// created or opened under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident {
    pub dev: u64,
    pub ino: u64,
}

/// [`Ident`] of an open file.
pub fn ident_of_file(f: &File) -> io::Result<Ident> {
    let st = rustix::fs::fstat(f)?;
    Ok(Ident {
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

/// Whether the user `uid`/`gid` may read an entry with `st` (and, for a directory, list and
/// enter it), by its permission bits: how toolctl reads as that user without becoming it.
/// Supplementary groups are not counted, so this errs on the side of refusing.
pub fn readable_by(st: &Stat, uid: u32, gid: u32) -> bool {
    if uid == 0 {
        return true;
    }
    let need = if st.kind == Kind::Dir { 0o5 } else { 0o4 };
    let bits = if st.uid == uid {
        st.mode >> 6
    } else if st.gid == gid {
        st.mode >> 3
    } else {
        st.mode
    };
    bits & need == need
}

/// A random name `prefix` + 16 hex digits, from the kernel's random source.
pub fn random_name(prefix: &str) -> io::Result<std::ffi::OsString> {
    let mut b = [0u8; 8];
    super::rand::fill(&mut b)?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{prefix}{hex}").into())
}

/// Opens the directory `path` below the `--root` directory `root` without following any
/// link below `root` (`O_NOFOLLOW` at each component), for reading only: unlike
/// [`open_beneath`] it accepts directories other users own (what is read through them is
/// checked by the caller), and a missing component is `NotFound`.
pub fn open_dir_nofollow(root: &Path, path: &Path) -> Result<DirHandle> {
    let rel = path.strip_prefix(root).map_err(|_| {
        Error::new(format!(
            "`{}` is outside the root `{}`",
            path.display(),
            root.display()
        ))
        .hint("name paths inside the root; nothing was changed")
    })?;
    let mut handle = DirHandle::open(root).map_err(|e| Error::io("open directory", root, e))?;
    for c in rel.components() {
        let name = match c {
            std::path::Component::Normal(n) => n,
            _ => {
                return Err(
                    Error::new(format!("`{}` has a `..` or `.` component", path.display()))
                        .hint("write the path without `..`; nothing was changed"),
                )
            }
        };
        let here = handle.path.join(name);
        handle = match handle.open_dir(name) {
            Ok(h) => h,
            Err(e) => {
                return Err(match handle.lstat(name) {
                    Ok(Some(st)) if st.kind == Kind::Symlink => symlinked_dir(&here),
                    _ => Error::io("open directory", &here, e),
                })
            }
        };
    }
    Ok(handle)
}

impl DirHandle {
    /// This directory's modification time (seconds since the epoch).
    pub fn mtime_self(&self) -> io::Result<i64> {
        Ok(rustix::fs::fstat(&self.fd)?.st_mtime as i64)
    }

    /// A second handle on the same directory.
    pub fn try_clone(&self) -> io::Result<DirHandle> {
        Ok(DirHandle {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// This directory's [`Ident`].
    pub fn ident_self(&self) -> io::Result<Ident> {
        let st = rustix::fs::fstat(&self.fd)?;
        Ok(Ident {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    /// The [`Ident`] of the entry `name` itself (never a link's target), `None` if missing.
    pub fn ident_at(&self, name: &std::ffi::OsStr) -> io::Result<Option<Ident>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Ident {
                dev: st.st_dev,
                ino: st.st_ino,
            })),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the entry `name` for reading without following a link and without blocking on
    /// a FIFO; anything but a regular file is refused (`InvalidInput`).
    pub fn open_file(&self, name: &std::ffi::OsStr) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(file)
    }

    /// The target of the symlink `name`.
    pub fn read_link(&self, name: &std::ffi::OsStr) -> io::Result<std::ffi::OsString> {
        use std::os::unix::ffi::OsStringExt;
        let target = rustix::fs::readlinkat(&self.fd, name, Vec::new())?;
        Ok(std::ffi::OsString::from_vec(target.into_bytes()))
    }

    /// Creates the symlink `name` pointing at `target` (never followed by toolctl).
    pub fn symlink(&self, target: &Path, name: &std::ffi::OsStr) -> io::Result<()> {
        rustix::fs::symlinkat(target, &self.fd, name)?;
        Ok(())
    }

    /// Changes the owner of the entry `name` itself (a link itself, never its target).
    pub fn chown_at(&self, name: &std::ffi::OsStr, uid: u32, gid: u32) -> io::Result<()> {
        rustix::fs::chownat(
            &self.fd,
            name,
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        Ok(())
    }

    /// Renames `from` here to `to` in the directory `dest`; with `noreplace` an existing `to`
    /// is an error (`EEXIST`) instead of being replaced.
    pub fn rename_into(
        &self,
        from: &std::ffi::OsStr,
        dest: &DirHandle,
        to: &std::ffi::OsStr,
        noreplace: bool,
    ) -> io::Result<()> {
        let flags = if noreplace {
            rustix::fs::RenameFlags::NOREPLACE
        } else {
            rustix::fs::RenameFlags::empty()
        };
        rustix::fs::renameat_with(&self.fd, from, &dest.fd, to, flags)?;
        Ok(())
    }

    /// `syncfs` of the filesystem this directory is on.
    pub fn sync_fs(&self) -> io::Result<()> {
        rustix::fs::syncfs(&self.fd)?;
        Ok(())
    }

    /// Bytes available to root on this directory's filesystem.
    pub fn free_bytes(&self) -> io::Result<u64> {
        let st = rustix::fs::fstatvfs(&self.fd)?;
        Ok(st.f_bfree.saturating_mul(st.f_frsize))
    }

    /// Removes the entry `name` and, when it is a directory, everything below it, through
    /// descriptors only: no link is followed, and a directory is entered only by `openat`
    /// with `O_NOFOLLOW` from its parent's descriptor. A missing `name` is fine.
    pub fn remove_tree(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        match self.lstat(name)? {
            None => Ok(()),
            Some(st) if st.kind == Kind::Dir => {
                let sub = self.open_dir(name)?;
                for n in sub.names()? {
                    sub.remove_tree(&n)?;
                }
                match self.rmdir(name) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    r => r,
                }
            }
            Some(_) => match self.unlink(name) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                r => r,
            },
        }
    }

    /// Creates a new directory with a random name (`prefix` + 16 hex digits), owned by the
    /// user toolctl runs as, mode 0700, and opens it. The opened directory is checked (its
    /// owner, mode and emptiness), so a directory another user swapped in under the name
    /// between the `mkdirat` and the `openat` is refused (`PermissionDenied`). Use it only
    /// through the returned handle: its name is in a directory someone else may change.
    pub fn mkdir_private(&self, prefix: &str) -> io::Result<(std::ffi::OsString, DirHandle)> {
        for _ in 0..16 {
            let name = random_name(prefix)?;
            match rustix::fs::mkdirat(&self.fd, name.as_os_str(), Mode::from_raw_mode(0o700)) {
                Ok(()) => {}
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
            let h = self.open_dir(&name)?;
            let st = h.stat_self()?;
            if st.kind != Kind::Dir
                || st.uid != crate::sys::users::euid()
                || st.mode & 0o7777 != 0o700
                || !h.names()?.is_empty()
            {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the new private directory was replaced by another user",
                ));
            }
            return Ok((name, h));
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free name for a private directory",
        ))
    }

    /// Opens the directory `name`, creating it (mode `mode`) when missing.
    pub fn open_or_mkdir(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<DirHandle> {
        match self.open_dir(name) {
            Ok(h) => Ok(h),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match self.mkdir(name, mode) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                    _ => {}
                }
                self.open_dir(name)
            }
            Err(e) => Err(e),
        }
    }
}

/// The users whose changes toolctl accepts on the way to a directory outside the rendered
/// tree that `owner` is to own: root, the user toolctl runs as, and that owner (its own
/// tree, such as omnibus' `/var/opt/gitlab/gitlab-rails/shared` for `git`). With no owner,
/// root and the user toolctl runs as only.
pub fn trusted_for(owner: Option<(u32, u32)>) -> Trusted {
    match owner {
        Some((uid, gid)) => Trusted::root().and(uid, gid),
        None => Trusted::root(),
    }
}

/// Opens a directory outside the rendered tree (GitLab's encrypted settings, a log
/// directory) that is to have `mode` and `owner` (`None`: root, or the user toolctl runs
/// as), from the `--root` directory `root`, with [`open_beneath`]: no link is followed and
/// every directory on the way may be changed only by root, the user toolctl runs as, or
/// `owner` (its own tree). When it exists it must already be exactly what is wanted:
/// toolctl never changes the owner or mode of an existing directory outside the tree, so a
/// different one is refused with the `chown`/`chmod` command as the hint. When it is
/// missing, [`Located::missing`] names what to create beneath the returned handle
/// ([`DirHandle::create_dir_owned`]).
pub fn open_outside_dir(
    root: &Path,
    path: &Path,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<Located> {
    let trusted = trusted_for(owner);
    let (parent, name) = match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) if p.starts_with(root) => (p, n),
        _ => return open_beneath(root, path, &trusted),
    };
    let located = open_beneath(root, parent, &trusted)?;
    if !located.missing.is_empty() {
        let mut missing = located.missing;
        missing.push(name.to_os_string());
        return Ok(Located {
            handle: located.handle,
            missing,
        });
    }
    let h = located.handle;
    match h.lstat(name) {
        Ok(None) => {
            return Ok(Located {
                handle: h,
                missing: vec![name.to_os_string()],
            })
        }
        Ok(Some(st)) if st.kind == Kind::Symlink => return Err(symlinked_outside(path, owner)),
        Ok(Some(st)) if st.kind != Kind::Dir => {
            return Err(
                Error::new(format!("`{}` is not a directory", path.display())).hint(format!(
                    "move `{}` out of the way, then run this again; nothing was changed",
                    path.display()
                )),
            )
        }
        Ok(Some(_)) => {}
        Err(e) => return Err(Error::io("inspect", path, e)),
    }
    let dir = h.open_dir(name).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            symlinked_outside(path, owner)
        } else {
            Error::io("open directory", path, e)
        }
    })?;
    // Checked on the opened descriptor: what was checked is what is used.
    let st = dir.stat_self().map_err(|e| Error::io("inspect", path, e))?;
    if let Some(e) = wrong_outside_dir(path, &st, mode, owner) {
        return Err(e);
    }
    Ok(Located {
        handle: dir,
        missing: Vec::new(),
    })
}

/// `uid:gid` as `chown` takes it: names when the system knows them.
fn chown_spec(uid: u32, gid: u32) -> String {
    let user = crate::sys::users::user_name(uid).unwrap_or_else(|| uid.to_string());
    format!("{user}:{gid}")
}

/// The refusal of an existing directory outside the tree whose owner or mode is not the
/// wanted one (`None` when it is right).
fn wrong_outside_dir(
    path: &Path,
    st: &Stat,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Option<Error> {
    let me = crate::sys::users::euid();
    let owner_ok = match owner {
        Some((uid, gid)) => (st.uid, st.gid) == (uid, gid),
        None => (st.uid == 0 || st.uid == me) && Trusted::root().foreign_writer(st).is_none(),
    };
    if owner_ok && st.mode == mode {
        return None;
    }
    let (uid, gid) = owner.unwrap_or((me, crate::sys::users::egid()));
    let p = path.display();
    Some(
        Error::new(format!(
            "`{p}` is owned by {}, group {}, mode {:04o}; toolctl wants it owned by {}, group {gid}, mode {mode:04o}",
            crate::sys::users::describe_uid(st.uid),
            st.gid,
            st.mode,
            crate::sys::users::describe_uid(uid),
        ))
        .cause("toolctl never changes the owner or mode of an existing directory outside the rendered tree: a service account could have put another directory (or a link to one) there")
        .hint(format!(
            "check that `{p}` is the directory you meant, then `chown {} {p} && chmod {mode:04o} {p}` and run this again; nothing was changed",
            chown_spec(uid, gid)
        )),
    )
}

/// The refusal of a directory outside the tree that is a symbolic link.
fn symlinked_outside(path: &Path, owner: Option<(u32, u32)>) -> Error {
    let p = path.display();
    let who = match owner {
        Some((uid, _)) => format!(" by {}", crate::sys::users::describe_uid(uid)),
        None => String::new(),
    };
    Error::new(format!(
        "`{p}` is a symbolic link; toolctl never follows a link to a directory it would own, write or hand over{who}"
    ))
    .cause("whoever can change the link could point it at any directory, which toolctl would then give away")
    .hint(format!(
        "remove the link `{p}` (toolctl then creates the directory), or replace it with a real directory, then run this again; nothing was changed"
    ))
}

/// [`sweep_temps_for`] in a directory outside the rendered tree, opened with
/// [`open_beneath`] from `root` (trusting root, the user toolctl runs as and `owner`): a
/// link on the way is refused, never entered.
pub fn sweep_temps_beneath(
    root: &Path,
    dir: &Path,
    owner: Option<(u32, u32)>,
) -> Result<Vec<PathBuf>> {
    let located = open_beneath(root, dir, &trusted_for(owner))?;
    let mut removed = Vec::new();
    if located.missing.is_empty() {
        sweep_in(&located.handle, None, 0, &mut removed)?;
    }
    Ok(removed)
}

impl DirHandle {
    /// Creates the directory `name` beneath this one (`mkdirat`, private), opens it without
    /// following a link, checks that it still is the empty, private, own directory just
    /// made (its parent's owner may rename entries meanwhile), then sets `mode` and `owner`
    /// on the opened descriptor (`fchown`, `fchmod`).
    pub fn create_dir_owned(
        &self,
        name: &std::ffi::OsStr,
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<DirHandle> {
        self.mkdir(name, 0o700)?;
        let dir = self.open_dir(name)?;
        let st = dir.stat_self()?;
        if st.uid != crate::sys::users::euid() || st.mode & 0o077 != 0 || !dir.names()?.is_empty() {
            return Err(io::Error::other(
                "the new directory was replaced before its owner was set",
            ));
        }
        dir.set_self(mode, owner)?;
        Ok(dir)
    }
}

#[cfg(test)]
mod trust_tests {
    use super::*;

    fn st(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            kind: Kind::Dir,
            mode,
            uid,
            gid,
        }
    }

    #[test]
    fn writers_other_than_the_trusted_are_found() {
        let t = Trusted {
            uids: vec![0],
            gids: vec![0],
        };
        assert_eq!(t.foreign_writer(&st(0o755, 0, 0)), None);
        assert_eq!(
            t.foreign_writer(&st(0o755, 998, 0)),
            Some(Writer::Owner(998))
        );
        assert_eq!(t.foreign_writer(&st(0o775, 0, 5)), Some(Writer::Group(5)));
        assert_eq!(t.foreign_writer(&st(0o775, 0, 0)), None);
        assert_eq!(t.foreign_writer(&st(0o777, 0, 0)), Some(Writer::Others));
        assert_eq!(t.foreign_writer(&st(0o1777, 0, 0)), None);
        let t = t.and(998, 998);
        assert_eq!(t.foreign_writer(&st(0o770, 998, 998)), None);
    }
}

#[cfg(test)]
mod outside_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn outside_directories_are_never_reached_through_a_link_nor_taken_as_they_are() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let me = (crate::sys::users::euid(), crate::sys::users::egid());
        std::fs::create_dir_all(root.join("var/log")).unwrap();
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        // Missing: the names to create below the deepest existing directory.
        let l = open_outside_dir(root, &root.join("var/log/a/b"), 0o750, Some(me)).unwrap();
        assert_eq!(l.handle.path, root.join("var/log"));
        assert_eq!(l.missing, ["a", "b"]);
        // A link, at the end or on the way: refused.
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("var/log/a")).unwrap();
        for p in ["var/log/a", "var/log/a/b"] {
            let e = open_outside_dir(root, &root.join(p), 0o750, Some(me))
                .err()
                .unwrap();
            assert!(e.to_string().contains("symbolic link"), "{p}: {e}");
        }
        // Existing with another mode: refused with the commands, not changed.
        std::fs::remove_file(root.join("var/log/a")).unwrap();
        std::fs::create_dir(root.join("var/log/a")).unwrap();
        std::fs::set_permissions(
            root.join("var/log/a"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let e = open_outside_dir(root, &root.join("var/log/a"), 0o750, Some(me))
            .err()
            .unwrap();
        assert!(e.hint_text().unwrap().contains("chmod 0750"), "{e}");
        let m = std::fs::metadata(root.join("var/log/a")).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o755);
        // Exactly as wanted: opened.
        std::fs::set_permissions(
            root.join("var/log/a"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        let l = open_outside_dir(root, &root.join("var/log/a"), 0o750, Some(me)).unwrap();
        assert!(l.missing.is_empty());
        // A fresh directory gets its mode on its own descriptor.
        let d = l
            .handle
            .create_dir_owned(std::ffi::OsStr::new("b"), 0o750, None)
            .unwrap();
        assert_eq!(d.stat_self().unwrap().mode, 0o750);
    }
}

impl DirHandle {
    /// Opens the log file `name` beneath this directory for appending, creating it (`mode`)
    /// when missing: `O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`,
    /// so a link there is never followed and a FIFO never blocks. The opened descriptor
    /// must be a regular file owned by the user toolctl runs as (or root) with a single
    /// link: a hard link to another file is refused (`PermissionDenied`) before a byte is
    /// written.
    pub fn open_append_own(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY
                | OFlags::APPEND
                | OFlags::CREATE
                | OFlags::NOFOLLOW
                | OFlags::NONBLOCK
                | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode as _),
        )?;
        let st = rustix::fs::fstat(&fd)?;
        let me = crate::sys::users::euid();
        let regular = rustix::fs::FileType::from_raw_mode(st.st_mode as _)
            == rustix::fs::FileType::RegularFile;
        if !regular {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if (st.st_uid != 0 && st.st_uid != me) || st.st_nlink != 1 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "owned by {} with {} links; toolctl appends only to its own file with a single link",
                    crate::sys::users::describe_uid(st.st_uid),
                    st.st_nlink
                ),
            ));
        }
        Ok(File::from(fd))
    }
}

/// The metadata and link count of an open file or directory (checked on the descriptor).
pub fn file_stat(f: &impl std::os::fd::AsFd) -> io::Result<(Stat, u64)> {
    let st = rustix::fs::fstat(f)?;
    Ok((stat_of(&st), st.st_nlink as u64))
}

/// Reads an opened regular file whole, refusing more than `cap` bytes (it may grow while
/// being read: at most `cap + 1` bytes are read).
pub fn read_open_capped(file: &File, cap: u64) -> std::result::Result<Vec<u8>, ReadFailure> {
    let len = file.metadata().map_err(ReadFailure::Io)?.len();
    read_to_cap(file, len, cap)
}
