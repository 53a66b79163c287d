//! The one way a whole file is read: regular files only, opened without blocking, capped.

use std::fs::{File, OpenOptions};
use std::io::{self};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Read caps: a character device or a runaway file must not be read until memory
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
pub(super) fn read_to_cap(
    file: &File,
    len: u64,
    cap: u64,
) -> std::result::Result<Vec<u8>, ReadFailure> {
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

/// Reads an opened regular file whole, refusing more than `cap` bytes (it may grow while
/// being read: at most `cap + 1` bytes are read).
pub fn read_open_capped(file: &File, cap: u64) -> std::result::Result<Vec<u8>, ReadFailure> {
    let len = file.metadata().map_err(ReadFailure::Io)?.len();
    read_to_cap(file, len, cap)
}
