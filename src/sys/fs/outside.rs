//! Directories outside the rendered tree (GitLab's encrypted settings, a log directory):
//! opened from `--root` without following a link, and refused when their owner or mode is
//! not exactly the wanted one.

use std::path::Path;

use super::dir::{Kind, Stat};
use super::walk::{open_beneath, trusted_for, Located, Trusted};
use crate::error::{Error, Result};

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
