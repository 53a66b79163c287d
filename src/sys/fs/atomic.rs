//! The one way toolctl replaces a file: a temporary file in the same directory, created
//! with its final mode, written, fsynced, renamed over the target, then the directory
//! fsynced, so a crash leaves either the old or the new file and never a mix.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::temp::{temp_prefix, TEMP_SUFFIX};
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
