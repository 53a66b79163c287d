//! [`DirHandle`]: an opened directory, every operation relative to it (openat-style) and
//! never following a symlink in the last component; the metadata toolctl compares.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::read::{read_to_cap, ReadFailure};
use super::temp::random_name;

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
    pub(super) fd: std::os::fd::OwnedFd,
    /// For messages only: the path it was opened as.
    pub path: PathBuf,
}

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

/// The descriptor itself, for primitives in other `sys` modules (`sys::scratch`).
impl std::os::fd::AsFd for DirHandle {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }
}

// --- Descriptor-only work in directories another user may own (Mattermost's
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

/// Why the opened `file` in the opened directory `dir` must not be read, when `dir` belongs
/// to a user other than root (or the user toolctl runs as): that user may have made it a
/// second name (hard link) of a file it cannot read itself, such as a root-only key
/// (`fs.protected_hardlinks=0`). Refused: a file the directory's owner cannot read by its
/// permission bits, or one with other names and another owner than the directory's. The
/// one rule of `tail`, mail_room's liveness and the round trip, which all read logs in
/// directories a service account owns.
pub fn foreign_file(dir: &impl std::os::fd::AsFd, file: &impl std::os::fd::AsFd) -> Option<String> {
    let Ok((d, _)) = file_stat(dir) else {
        return Some("its directory cannot be inspected".into());
    };
    if d.uid == 0 || d.uid == crate::sys::users::euid() {
        return None;
    }
    let Ok((f, links)) = file_stat(file) else {
        return Some("cannot be inspected".into());
    };
    let owner = crate::sys::users::describe_uid(d.uid);
    if !readable_by(&f, d.uid, d.gid) {
        return Some(format!(
            "cannot be read by {owner}, who owns its directory (it is {}'s, mode {:04o})",
            crate::sys::users::describe_uid(f.uid),
            f.mode
        ));
    }
    if links > 1 && f.uid != d.uid {
        return Some(format!(
            "is one of {links} names of a file owned by {}, in a directory owned by {owner}",
            crate::sys::users::describe_uid(f.uid)
        ));
    }
    None
}
