//! Temporary names (`.toolctl-<target>.<random>.tmp`) and the sweep of the ones a kill
//! left behind, under the writers' lock of their directory.

use std::io::{self};
use std::path::{Path, PathBuf};

use super::dir::{DirHandle, Kind};
use super::walk::{open_beneath, trusted_for};
use crate::error::{Error, Result};

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

/// A random name `prefix` + 16 hex digits, from the kernel's random source.
pub fn random_name(prefix: &str) -> io::Result<std::ffi::OsString> {
    let mut b = [0u8; 8];
    crate::sys::rand::fill(&mut b)?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{prefix}{hex}").into())
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
