//! The log follower behind `toolctl tail`: every log below a directory, losing nothing.
//!
//! GitLab's `gitlab-ctl tail` is `find | grep -v | xargs tail --follow=name`; measured, it
//! misses files created later, loses what a daemon writes to a log after logrotate renamed
//! it, skips any path that merely contains "config" or "lock", and splits or glues lines
//! when many files are busy. This module is the replacement, in these parts:
//!
//! - [`discover`]: which names are logs, what `TARGET` means, where the last N lines of a
//!   file begin (disk reads only, no watching);
//! - [`follow`]: the single-threaded inotify loop that owns the open files, rotation,
//!   truncation, new files and directories, partial lines and the polling fallback;
//! - [`output`]: the one buffered writer of stdout (headers, `--prefix`, `--grep`, colour),
//!   which only ever receives whole lines;
//! - `signals`: SIGINT/SIGTERM/SIGHUP as a flag plus a self-pipe that wakes the loop.
//!
//! It knows nothing of toolctl's settings or error type: `app::tail` resolves the
//! log directory and turns [`discover::TargetError`] and [`follow::FollowError`] into
//! messages with hints.

pub mod discover;
mod error;
pub mod follow;
pub mod output;
mod signals;

pub use discover::{resolve, services, Resolved, Target, TargetError};
pub use follow::{follow, FollowError, Options, Stop};
pub use output::Format;
