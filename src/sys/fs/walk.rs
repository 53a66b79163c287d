//! The walk that trusts no other user: opening a directory below `--root` component by
//! component with `O_NOFOLLOW`, checking each directory's writers on the opened descriptor
//! ([`Trusted`]), and the refusals it gives.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::dir::{DirHandle, Kind, Stat};
use crate::error::{Error, Result};

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
    let names = names_below(root, path)?;
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
        handle = enter_checked(&handle, &name, &here, trusted)?;
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
        handle = enter_checked(&handle, &name, &here, trusted)?;
    }
    Ok(handle)
}

/// Opens the directory `path` below the `--root` directory `root` without following any
/// link below `root` (`O_NOFOLLOW` at each component), for reading only: unlike
/// [`open_beneath`] it accepts directories other users own (what is read through them is
/// checked by the caller), and a missing component is `NotFound`.
pub fn open_dir_nofollow(root: &Path, path: &Path) -> Result<DirHandle> {
    let names = names_below(root, path)?;
    let mut handle = DirHandle::open(root).map_err(|e| Error::io("open directory", root, e))?;
    for name in &names {
        let name = name.as_os_str();
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

/// Opens the subdirectory `name` (at `here`) of `handle` with `O_NOFOLLOW`, and checks its
/// writers on the opened descriptor: what was checked is what is used.
fn enter_checked(
    handle: &DirHandle,
    name: &std::ffi::OsStr,
    here: &Path,
    trusted: &Trusted,
) -> Result<DirHandle> {
    let next = handle.open_dir(name).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            symlinked_dir(here)
        } else {
            Error::io("open directory", here, e)
        }
    })?;
    let st = next
        .stat_self()
        .map_err(|e| Error::io("inspect", here, e))?;
    trusted.check(here, &st)?;
    Ok(next)
}

/// The names of `path` below `root`, one per component; a path outside `root`, or with a
/// `.` or `..` component, is refused.
fn names_below(root: &Path, path: &Path) -> Result<Vec<std::ffi::OsString>> {
    let rel = path.strip_prefix(root).map_err(|_| {
        Error::new(format!(
            "`{}` is outside the root `{}`",
            path.display(),
            root.display()
        ))
        .hint("name paths inside the root; nothing was changed")
    })?;
    rel.components()
        .map(|c| match c {
            std::path::Component::Normal(n) => Ok(n.to_os_string()),
            _ => Err(
                Error::new(format!("`{}` has a `..` or `.` component", path.display()))
                    .hint("write the path without `..`; nothing was changed"),
            ),
        })
        .collect()
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
