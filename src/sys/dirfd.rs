//! Read-only access to a tree that other users may change: directories held open, entries
//! examined with `fstatat(AT_SYMLINK_NOFOLLOW)` before anything is opened, files opened
//! with `O_NOFOLLOW | O_NONBLOCK` and checked again on the descriptor, and links resolved
//! by hand, beneath an opened base directory, never leaving it.
//!
//! Nothing here decides which links may be followed: [`resolve_beneath`] computes where a
//! link points, relative to the base, and [`DirFd::open_file_beneath`] opens it without
//! following any further link; the caller compares owners.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

/// What a directory entry is, seen without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A device, a FIFO or a socket: never opened.
    Special,
}

/// An entry's type, owner and identity (device, inode), from `fstatat(AT_SYMLINK_NOFOLLOW)`
/// or `fstat` on a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub uid: u32,
    pub dev: u64,
    pub ino: u64,
}

fn entry_of(st: &rustix::fs::Stat) -> Entry {
    let kind = match rustix::fs::FileType::from_raw_mode(st.st_mode as _) {
        rustix::fs::FileType::RegularFile => EntryKind::File,
        rustix::fs::FileType::Directory => EntryKind::Dir,
        rustix::fs::FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Special,
    };
    Entry {
        kind,
        uid: st.st_uid,
        dev: st.st_dev,
        ino: st.st_ino,
    }
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// An open directory, read relative to its descriptor.
pub struct DirFd {
    fd: OwnedFd,
}

impl DirFd {
    /// Opens `path` as given (links in it followed): the administrator's path.
    pub fn open_path(path: &Path) -> io::Result<DirFd> {
        Ok(DirFd {
            fd: rustix::fs::open(path, DIR_FLAGS, Mode::empty())?,
        })
    }

    /// Opens the subdirectory `name` with `O_NOFOLLOW`: a link there fails.
    pub fn open_sub(&self, name: &OsStr) -> io::Result<DirFd> {
        Ok(DirFd {
            fd: rustix::fs::openat(&self.fd, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?,
        })
    }

    /// This directory itself.
    pub fn stat(&self) -> io::Result<Entry> {
        Ok(entry_of(&rustix::fs::fstat(&self.fd)?))
    }

    /// The entry `name` itself, never what a link points at (`None`: it does not exist).
    pub fn lstat(&self, name: &OsStr) -> io::Result<Option<Entry>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(entry_of(&st))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every entry but `.` and `..`, examined without following links (entries that vanish
    /// meanwhile are left out).
    pub fn entries(&self) -> io::Result<Vec<(OsString, Entry)>> {
        let mut out = Vec::new();
        for e in rustix::fs::Dir::read_from(&self.fd)? {
            let e = e?;
            let name = e.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsStr::from_bytes(name).to_os_string();
            if let Some(st) = self.lstat(&name)? {
                out.push((name, st));
            }
        }
        Ok(out)
    }

    /// Where the link `name` points (its text, unresolved).
    pub fn readlink(&self, name: &OsStr) -> io::Result<PathBuf> {
        let target = rustix::fs::readlinkat(&self.fd, name, Vec::new())?;
        Ok(PathBuf::from(OsStr::from_bytes(target.as_bytes())))
    }

    /// Opens the regular file `name` for reading: `O_NOFOLLOW` (a link fails), `O_NONBLOCK`
    /// (a FIFO swapped in after the type check cannot hang the open), `O_NOATIME` when the
    /// kernel allows it (the owner or root), then checks on the descriptor that it is a
    /// regular file (`Ok(None)` when it is not: it is closed unread).
    pub fn open_file(&self, name: &OsStr) -> io::Result<Option<(File, Entry)>> {
        let base = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, base | OFlags::NOATIME, Mode::empty()) {
            Err(rustix::io::Errno::PERM) => rustix::fs::openat(&self.fd, name, base, Mode::empty()),
            other => other,
        }?;
        let st = entry_of(&rustix::fs::fstat(&fd)?);
        if st.kind != EntryKind::File {
            return Ok(None);
        }
        Ok(Some((File::from(fd), st)))
    }

    /// Opens the regular file at `components` below this directory, each directory on the
    /// way opened with `O_NOFOLLOW`: no link is followed, and `..` never appears (see
    /// [`resolve_beneath`]). `Ok(None)`: not a regular file.
    pub fn open_file_beneath(&self, components: &[OsString]) -> io::Result<Option<(File, Entry)>> {
        let Some((last, dirs)) = components.split_last() else {
            return Ok(None);
        };
        let mut held: Option<DirFd> = None;
        for c in dirs {
            let next = held.as_ref().unwrap_or(self).open_sub(c)?;
            held = Some(next);
        }
        let dir = held.as_ref().unwrap_or(self);
        match dir.lstat(last)? {
            Some(e) if e.kind == EntryKind::File => dir.open_file(last),
            Some(_) => Ok(None),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// A path that names this very directory for calls that only take paths (an inotify
    /// watch): `/proc/self/fd/N`, which the kernel resolves to the open inode, not by name.
    pub fn proc_path(&self) -> PathBuf {
        proc_path(&self.fd)
    }
}

/// `/proc/self/fd/N` for any open descriptor (see [`DirFd::proc_path`]).
pub fn proc_path(fd: &impl AsFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd()))
}

/// Where the link with text `target`, found in the directory `link_dir` (components below
/// the base directory), points, as components below the base, or `None` when it leaves the
/// base: an absolute target must lie lexically under `base_path`, and `..` may not climb
/// above the base. Purely lexical; [`DirFd::open_file_beneath`] then opens it without
/// following anything.
pub fn resolve_beneath(
    base_path: &Path,
    link_dir: &[OsString],
    target: &Path,
) -> Option<Vec<OsString>> {
    let (mut out, rest) = if target.is_absolute() {
        (Vec::new(), target.strip_prefix(base_path).ok()?)
    } else {
        (link_dir.to_vec(), target)
    };
    for c in rest.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Lifts the soft limit on open files to the hard one, as servers usually allow, and
/// returns the soft limit now in force (`None`: unlimited or unknown).
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let lim = getrlimit(Resource::Nofile);
    let cur = lim.current?;
    if lim.maximum.is_none_or(|max| cur < max) {
        let raised = Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return lim.maximum;
        }
    }
    Some(cur)
}

impl AsFd for DirFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn links_resolve_only_beneath_the_base() {
        let base = Path::new("/var/log/gitlab");
        let here = comps(&["svc"]);
        assert_eq!(
            resolve_beneath(base, &here, Path::new("x.log")),
            Some(comps(&["svc", "x.log"]))
        );
        assert_eq!(
            resolve_beneath(base, &here, Path::new("../other/./y.log")),
            Some(comps(&["other", "y.log"]))
        );
        assert_eq!(
            resolve_beneath(base, &here, Path::new("/var/log/gitlab/a/b")),
            Some(comps(&["a", "b"]))
        );
        assert_eq!(
            resolve_beneath(base, &here, Path::new("../../etc/shadow")),
            None
        );
        assert_eq!(
            resolve_beneath(base, &here, Path::new("/root/.ssh/id_rsa")),
            None
        );
        assert_eq!(
            resolve_beneath(base, &here, Path::new("/var/log/gitlabx/a")),
            None
        );
        assert_eq!(
            resolve_beneath(
                base,
                &here,
                Path::new("/var/log/gitlab/../../../etc/shadow")
            ),
            None
        );
    }
}
