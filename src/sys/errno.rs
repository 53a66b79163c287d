//! The `errno` values callers match on in `io::Error::raw_os_error()`, so that no module
//! outside `sys` names libc.

pub const ENOENT: i32 = libc::ENOENT;
pub const ELOOP: i32 = libc::ELOOP;
pub const ENOTDIR: i32 = libc::ENOTDIR;
pub const ENOSPC: i32 = libc::ENOSPC;
pub const ENOTEMPTY: i32 = libc::ENOTEMPTY;
pub const EPERM: i32 = libc::EPERM;
pub const EACCES: i32 = libc::EACCES;
