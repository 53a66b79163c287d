//! Private scratch directories for plaintext that another program must open by path
//! (`secret edit`'s copy for the editor).
//!
//! - A base directory is opened from `/` component by component without following links
//!   ([`super::fs::open_beneath`]), every directory on the way may be changed by root or
//!   the user toolctl runs as only, and what is checked is the opened descriptor: a
//!   *private* base (`$XDG_RUNTIME_DIR`) must be owned by the effective uid with no group or
//!   other bits; a *shared* base (`/dev/shm`) must be owned by root (or that user) and be
//!   sticky when others can write it, so they cannot rename or remove what toolctl puts
//!   there.
//! - The scratch directory is made beneath the base's descriptor (`mkdirat`, 0700, a name
//!   with 128 random bits that is never reused), opened with `O_NOFOLLOW`, and checked.
//! - Files are created beneath it with `O_CREAT|O_EXCL|O_NOFOLLOW`, read back with
//!   `O_NOFOLLOW` (a link or a non-regular file is an error), and zero-filled and removed
//!   through the descriptors: a name swapped for a link is removed, never followed.
//!
//! The path of the scratch directory is made of the components that were checked, so a
//! program given a path inside it resolves the same directory: only root or the user
//! toolctl runs as could change any of them.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::fs::{open_beneath, DirHandle, Trusted};

/// What a base directory must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseKind {
    /// The user's own runtime directory: owned by the effective uid, mode `0700` or less.
    Private,
    /// A directory many users share (`/dev/shm`): owned by root or the effective uid, and
    /// sticky if others can write it.
    Shared,
}

/// An opened and checked base directory.
pub struct Base {
    dir: DirHandle,
    /// Whether it is on a tmpfs or ramfs (memory only, never written to a disk).
    pub in_memory: bool,
}

impl Base {
    /// Opens `path` as a base of `kind`; the error says why it is not used (for a warning).
    /// `resolve_links` resolves symlinks in `path` first (for the fixed `/dev/shm`, which
    /// some systems link to `/run/shm`); the resolved path is then walked without following
    /// any, like a path given by the environment always is.
    pub fn open(path: &Path, kind: BaseKind, resolve_links: bool) -> Result<Base, String> {
        if !path.is_absolute() {
            return Err("it is not an absolute path".into());
        }
        let path = if resolve_links {
            std::fs::canonicalize(path).map_err(|e| e.to_string())?
        } else {
            path.to_path_buf()
        };
        let (Some(parent), Some(last)) = (path.parent(), path.file_name()) else {
            return Err("it is not a directory below `/`".into());
        };
        let located =
            open_beneath(Path::new("/"), parent, &Trusted::root()).map_err(|e| e.to_string())?;
        if !located.missing.is_empty() {
            return Err("it does not exist".into());
        }
        // The kind is named for the message; what is used is what `open_dir` opens
        // (`O_NOFOLLOW | O_DIRECTORY`), checked below on its descriptor.
        match located.handle.lstat(last) {
            Ok(None) => return Err("it does not exist".into()),
            Ok(Some(st)) if st.kind == super::fs::Kind::Symlink => {
                return Err("it is a symbolic link, which toolctl does not follow".into())
            }
            Ok(Some(st)) if st.kind != super::fs::Kind::Dir => {
                return Err("it is not a directory".into())
            }
            Ok(Some(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
        let dir = located.handle.open_dir(last).map_err(|e| e.to_string())?;
        let st = dir.stat_self().map_err(|e| e.to_string())?;
        let euid = super::users::euid();
        let owner = super::users::describe_uid;
        match kind {
            BaseKind::Private if st.uid != euid => {
                return Err(format!(
                    "it is owned by {}, not by {} whom toolctl runs as (as `sudo -E` or \
                     `su` without `-` leave it)",
                    owner(st.uid),
                    owner(euid)
                ))
            }
            BaseKind::Private if st.mode & 0o077 != 0 => {
                return Err(format!(
                    "its mode is {:04o}: other users can reach it (it must be 0700)",
                    st.mode
                ))
            }
            BaseKind::Shared if st.uid != 0 && st.uid != euid => {
                return Err(format!("it is owned by {}", owner(st.uid)))
            }
            BaseKind::Shared if Trusted::root().foreign_writer(&st).is_some() => {
                return Err(format!(
                    "other users can write it and it is not sticky (mode {:04o})",
                    st.mode
                ))
            }
            _ => {}
        }
        let in_memory = is_in_memory(&dir);
        Ok(Base { dir, in_memory })
    }

    /// The checked path (no symlink in it).
    pub fn path(&self) -> &Path {
        &self.dir.path
    }

    /// The names in the base directory.
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        self.dir.names()
    }

    /// Same directory (device and inode) as `other`.
    pub fn same_as(&self, other: &Base) -> bool {
        match (
            rustix::fs::fstat(self.dir.as_fd()),
            rustix::fs::fstat(other.dir.as_fd()),
        ) {
            (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
            _ => false,
        }
    }
}

#[allow(clippy::unnecessary_cast)] // `f_type`'s type differs between architectures
fn is_in_memory(fd: impl AsFd) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    rustix::fs::fstatfs(fd).is_ok_and(|st| matches!(st.f_type as i64, TMPFS_MAGIC | RAMFS_MAGIC))
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// How deep [`Scratch::remove`] goes into directories a program made inside.
const MAX_DEPTH: usize = 8;

/// A private directory beneath a [`Base`], owned by the effective uid, mode 0700.
pub struct Scratch {
    base: OwnedFd,
    dir: OwnedFd,
    name: OsString,
    path: PathBuf,
    id: (u64, u64),
}

impl Scratch {
    /// Makes a new directory `<prefix><32 random hex digits>` beneath `base`.
    pub fn create(base: &Base, prefix: &str) -> io::Result<Scratch> {
        let base_fd = base.dir.as_fd().try_clone_to_owned()?;
        for _ in 0..16 {
            let name = OsString::from(format!("{prefix}{}", random_hex()?));
            match rustix::fs::mkdirat(&base_fd, &name, Mode::from_raw_mode(0o700)) {
                Ok(()) => {}
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
            let opened = Scratch::open_checked(base_fd.try_clone()?, &base.dir.path, &name);
            return match opened {
                Ok(Some(s)) => Ok(s),
                // Ours, yet not private: remove it (it is empty) rather than use it.
                other => {
                    let _ = rustix::fs::unlinkat(&base_fd, &name, AtFlags::REMOVEDIR);
                    Err(other.err().unwrap_or_else(|| {
                        io::Error::other("the new directory is not private to this user")
                    }))
                }
            };
        }
        Err(io::Error::from(io::ErrorKind::AlreadyExists))
    }

    /// Opens an existing scratch directory `name` beneath `base` (for a sweep of those a
    /// killed process left): `None` when it is a link, not a directory, or not owned by
    /// the effective uid with mode 0700 or less.
    pub fn open_existing(base: &Base, name: &OsStr) -> io::Result<Option<Scratch>> {
        let base_fd = base.dir.as_fd().try_clone_to_owned()?;
        Scratch::open_checked(base_fd, &base.dir.path, name)
    }

    fn open_checked(base: OwnedFd, base_path: &Path, name: &OsStr) -> io::Result<Option<Scratch>> {
        let dir = match rustix::fs::openat(&base, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let st = rustix::fs::fstat(&dir)?;
        if st.st_uid != super::users::euid() || st.st_mode & 0o077 != 0 {
            return Ok(None);
        }
        Ok(Some(Scratch {
            base,
            dir,
            name: name.to_os_string(),
            path: base_path.join(name),
            id: file_id(&st),
        }))
    }

    /// The directory's path, for a program that must be given one.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the file `name` (which must not exist, and is never a link followed), mode
    /// 0600, holding `bytes`.
    pub fn create_file(&self, name: &OsStr, bytes: &[u8]) -> io::Result<()> {
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let mut file = File::from(fd);
        rustix::fs::fchmod(&file, Mode::from_raw_mode(0o600))?;
        file.write_all(bytes)
    }

    /// Opens the regular file `name` for reading, without following a link: a link, a
    /// FIFO, a device or a directory there is an error (`Ok(None)` when it is missing).
    pub fn open_file(&self, name: &OsStr) -> io::Result<Option<File>> {
        let fd = match rustix::fs::openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(rustix::io::Errno::LOOP) => {
                return Err(io::Error::other(
                    "it was replaced by a symbolic link, which toolctl does not follow",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let st = rustix::fs::fstat(&fd)?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode as _) != rustix::fs::FileType::RegularFile
        {
            return Err(io::Error::other("it is not a regular file"));
        }
        Ok(Some(File::from(fd)))
    }

    /// Reads the regular file `name`, at most `cap` bytes (`None` when it is missing, not
    /// regular, a link, or larger).
    pub fn read_small(&self, name: &OsStr, cap: u64) -> Option<Vec<u8>> {
        let file = self.open_file(name).ok()??;
        let mut buf = Vec::new();
        file.take(cap + 1).read_to_end(&mut buf).ok()?;
        (buf.len() as u64 <= cap).then_some(buf)
    }

    /// Zero-fills every regular file inside (one that has no other name), removes every
    /// entry (a link itself, never what it points to), then the directory itself, all
    /// beneath the descriptors. The directory's name is removed only while it still
    /// names this directory.
    pub fn remove(&self) -> io::Result<()> {
        let emptied = wipe(&self.dir, MAX_DEPTH);
        match rustix::fs::statat(&self.base, &self.name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if file_id(&st) == self.id => {
                emptied?;
                rustix::fs::unlinkat(&self.base, &self.name, AtFlags::REMOVEDIR)?;
                Ok(())
            }
            // Another process removed it first.
            Err(rustix::io::Errno::NOENT) => {
                emptied?;
                Err(io::ErrorKind::NotFound.into())
            }
            Ok(_) => {
                emptied?;
                Err(io::Error::other(format!(
                    "`{}` no longer names the directory toolctl made; its content was \
                     removed, the name was left alone",
                    self.path.display()
                )))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Empties the directory `dir`: see [`Scratch::remove`]. The first error is returned
/// after everything else was tried.
fn wipe(dir: &OwnedFd, depth: usize) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let mut first: Option<io::Error> = None;
    let mut keep = |r: io::Result<()>| {
        if let Err(e) = r {
            first.get_or_insert(e);
        }
    };
    let mut names = Vec::new();
    match rustix::fs::Dir::read_from(dir) {
        Ok(entries) => {
            for entry in entries {
                match entry {
                    Ok(e) => {
                        let n = e.file_name().to_bytes();
                        if n != b"." && n != b".." {
                            names.push(OsStr::from_bytes(n).to_os_string());
                        }
                    }
                    Err(e) => {
                        keep(Err(e.into()));
                        break;
                    }
                }
            }
        }
        Err(e) => keep(Err(e.into())),
    }
    for name in names {
        let st = match rustix::fs::statat(dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => {
                keep(Err(e.into()));
                continue;
            }
        };
        match rustix::fs::FileType::from_raw_mode(st.st_mode as _) {
            rustix::fs::FileType::RegularFile => {
                zero_fill(dir, &name, &st);
                keep(unlink(dir, &name, AtFlags::empty()));
            }
            rustix::fs::FileType::Directory if depth > 0 => {
                match rustix::fs::openat(dir, &name, DIR_FLAGS, Mode::empty()) {
                    Ok(sub) => keep(wipe(&sub, depth - 1)),
                    Err(e) => keep(Err(e.into())),
                }
                keep(unlink(dir, &name, AtFlags::REMOVEDIR));
            }
            rustix::fs::FileType::Directory => keep(Err(io::Error::other("nested too deep"))),
            // A link, a FIFO, a socket: the entry itself goes.
            _ => keep(unlink(dir, &name, AtFlags::empty())),
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn unlink(dir: &OwnedFd, name: &OsStr, flags: AtFlags) -> io::Result<()> {
    match rustix::fs::unlinkat(dir, name, flags) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Overwrites the regular file `name` with zeros, best effort: only the file `seen`
/// described (same device and inode, opened without following a link), and only when it
/// has no other name, which zeros would reach too.
fn zero_fill(dir: &OwnedFd, name: &OsStr, seen: &rustix::fs::Stat) {
    let Ok(fd) = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let Ok(st) = rustix::fs::fstat(&fd) else {
        return;
    };
    if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino)
        || rustix::fs::FileType::from_raw_mode(st.st_mode as _) != rustix::fs::FileType::RegularFile
        || st.st_nlink != 1
    {
        return;
    }
    let mut file = File::from(fd);
    let zeros = [0u8; 64 * 1024];
    let mut left = st.st_size.max(0) as u64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        if file.write_all(&zeros[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = file.sync_all();
}

/// Device and inode, which together name a file.
#[allow(clippy::unnecessary_cast)] // their types differ between architectures
fn file_id(st: &rustix::fs::Stat) -> (u64, u64) {
    (st.st_dev as u64, st.st_ino as u64)
}

/// 128 bits from the kernel's random source, as hex.
fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    super::rand::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn bases_are_checked_on_their_descriptor() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("base");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o700);
        assert!(Base::open(&dir, BaseKind::Private, false).is_ok());
        chmod(&dir, 0o750);
        let why = Base::open(&dir, BaseKind::Private, false).err().unwrap();
        assert!(why.contains("mode is 0750"), "{why}");
        assert!(Base::open(&dir, BaseKind::Shared, false).is_ok());
        chmod(&dir, 0o777);
        let why = Base::open(&dir, BaseKind::Shared, false).err().unwrap();
        assert!(why.contains("not sticky"), "{why}");
        chmod(&dir, 0o1777);
        assert!(Base::open(&dir, BaseKind::Shared, false).is_ok());
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let why = Base::open(&link, BaseKind::Shared, false).err().unwrap();
        assert!(why.contains("symbolic link"), "{why}");
        assert!(Base::open(&link, BaseKind::Shared, true).is_ok());
        assert!(Base::open(Path::new("relative"), BaseKind::Shared, false).is_err());
    }

    #[test]
    fn removal_zero_fills_files_and_never_follows_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let base = Base::open(tmp.path(), BaseKind::Shared, true).unwrap();
        let s = Scratch::create(&base, "t-").unwrap();
        let meta = std::fs::metadata(s.path()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        s.create_file(OsStr::new("a"), b"secret").unwrap();
        assert!(s.create_file(OsStr::new("a"), b"again").is_err());
        // Keep a second handle on `a` to see what the removal wrote into it.
        let kept = std::fs::File::open(s.path().join("a")).unwrap();
        std::os::unix::fs::symlink(&outside, s.path().join("l")).unwrap();
        std::fs::create_dir(s.path().join("sub")).unwrap();
        std::fs::write(s.path().join("sub/b"), "x").unwrap();
        assert!(s.open_file(OsStr::new("l")).is_err());
        assert!(s.open_file(OsStr::new("sub")).is_err());
        assert_eq!(s.read_small(OsStr::new("a"), 100).unwrap(), b"secret");
        s.remove().unwrap();
        assert!(!s.path().exists());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        let mut zeroed = Vec::new();
        (&kept).read_to_end(&mut zeroed).unwrap();
        assert_eq!(zeroed, vec![0u8; 6]);
    }
}
