//! The lowest layer: the operating system, and the only home of `unsafe` and libc.
//!
//! - [`errno`]: the error numbers callers match on.
//! - [`fs`]: atomic writes, capped reads, the writers' lock, and the descriptor-based walk
//!   ([`fs::DirHandle`], [`fs::open_beneath`]) that never follows a link a non-root user can
//!   change and refuses a directory such a user can write.
//! - [`dirfd`]: read-only access to a tree other users may change (`tail`): entries
//!   examined before they are opened, links resolved beneath an opened base.
//! - [`journal`]: all-or-nothing writes of many files (prepared, committed, rolled back
//!   or forward by the next run), serialised with serde.
//! - [`users`]: passwd and group lookups, the effective ids.
//! - [`poll`]: `poll(2)` over raw descriptors (the log follower's wait).
//! - [`proc`]: process hardening while plaintext is held (no core dumps, not ptrace-able).
//! - [`rand`]: random bytes from the kernel (`getrandom`).
//! - [`scratch`]: private 0700 directories on a tmpfs for plaintext an editor opens by
//!   path, made, read, zero-filled and removed beneath checked descriptors.
//! - [`term`]: text from servers, files and logs made safe to show on a terminal.
//!
//! Nothing here prints or knows what the bytes mean.

pub mod dirfd;
pub mod errno;
pub mod fs;
pub mod journal;
pub mod notice;
pub mod poll;
pub mod proc;
pub mod procnet;
pub mod rand;
pub mod scratch;
pub mod signals;
pub mod term;
pub mod users;
pub mod wrap;
