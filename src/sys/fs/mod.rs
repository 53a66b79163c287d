//! Durable, private file writes, the writers' lock, and the walk that trusts no other user.
//!
//! Owns the one way toolctl replaces a file: a temporary file in the same directory, created
//! with its final mode, written, fsynced, renamed over the target, then the directory
//! fsynced, so a crash leaves either the old or the new file and never a mix. Also owns the
//! advisory lock that serialises writers, and the one way a whole file is read: regular
//! files only, opened without blocking, capped. It knows nothing about what the bytes mean.
//!
//! Temporary files are named `.toolctl-<target>.<random>.tmp` ([`is_temp_name`]) so that
//! the next writer can recognise and remove the ones a kill left behind ([`sweep_temps`]),
//! under the writers' lock of their directory. A file a journal still needs after a crash
//! must be recovered before that sweep runs (reconfigure does so).
//!
//! [`DirHandle`] is the openat-style access used inside the trees toolctl manages: every
//! directory below the tree's root is opened with `O_NOFOLLOW | O_DIRECTORY`, and files are
//! created, renamed and removed relative to it, so a symlink planted inside the tree can
//! neither redirect a write nor a removal.
//!
//! The modules: [`atomic`] (atomic writes, `ensure_dir`, `sync_dir`), [`lock`] (the
//! writers' lock), [`read`] (capped reads), [`temp`] (temporary names and their sweep),
//! [`dir`] ([`DirHandle`]), [`walk`] (the trust walk: [`Trusted`], [`open_beneath`]) and
//! [`outside`] (directories outside the rendered tree). Every item is re-exported here:
//! callers name `crate::sys::fs::X` (or the older alias `crate::fsutil::X`).

pub mod atomic;
pub mod dir;
pub mod lock;
pub mod mount;
pub mod outside;
pub mod read;
pub mod temp;
pub mod walk;

pub use self::atomic::*;
pub use self::dir::*;
pub use self::lock::*;
pub use self::mount::*;
pub use self::outside::*;
pub use self::read::*;
pub use self::temp::*;
pub use self::walk::*;
