//! What decides whether an entry can be renamed: the mount it is on and whether it is the
//! root of one (`statx`, `STATX_MNT_ID` and `STATX_ATTR_MOUNT_ROOT`, with `st_dev` as the
//! fallback of kernels before 5.8), and its immutable and append-only attributes.

use std::io;

use rustix::fs::{AtFlags, StatxAttributes, StatxFlags};

use super::dir::DirHandle;

/// Where an entry is mounted and what keeps it from being renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The mount's id (`stx_mnt_id`), or the device number when the kernel has no mount ids.
    pub mount: u64,
    pub dev: u64,
    /// The entry is the root of a mount (a mount point): renaming it fails with `EBUSY`.
    pub mount_root: Option<bool>,
    /// `chattr +i` / `+a`: renaming or removing it fails with `EPERM`.
    pub immutable: bool,
    pub append_only: bool,
}

fn placement(
    fd: impl std::os::fd::AsFd,
    name: &std::ffi::OsStr,
    flags: AtFlags,
) -> io::Result<Placement> {
    let st = rustix::fs::statx(
        fd,
        name,
        flags | AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    )?;
    let dev = (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor);
    let mount = if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
        st.stx_mnt_id
    } else {
        dev
    };
    let has = |a: StatxAttributes| st.stx_attributes.contains(a);
    Ok(Placement {
        mount,
        dev,
        mount_root: st
            .stx_attributes_mask
            .contains(StatxAttributes::MOUNT_ROOT)
            .then(|| has(StatxAttributes::MOUNT_ROOT)),
        immutable: has(StatxAttributes::IMMUTABLE),
        append_only: has(StatxAttributes::APPEND),
    })
}

impl DirHandle {
    /// This directory's placement.
    pub fn placement_self(&self) -> io::Result<Placement> {
        placement(&self.fd, std::ffi::OsStr::new(""), AtFlags::EMPTY_PATH)
    }

    /// The placement of the entry `name` itself (never a link's target).
    pub fn placement_at(&self, name: &std::ffi::OsStr) -> io::Result<Placement> {
        placement(&self.fd, name, AtFlags::empty())
    }

    /// Whether the subdirectory `sub` (opened from this one) is the root of another mount
    /// than this directory's: by mount id, by `STATX_ATTR_MOUNT_ROOT`, or by device.
    pub fn is_mount_below(&self, sub: &DirHandle) -> io::Result<bool> {
        let (me, it) = (self.placement_self()?, sub.placement_self()?);
        Ok(me.mount != it.mount || me.dev != it.dev || it.mount_root == Some(true))
    }
}
