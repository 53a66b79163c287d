//! The follower: one thread, one inotify instance, every log below the target.
//!
//! Owns the open files and directories, the inotify watches and the event loop. It must
//! not format output ([`super::output`] does) nor decide which names are logs
//! ([`super::discover`] does).
//!
//! How it keeps every line (each point answers a measured fault of `tail -F`, see
//! ../shared/notes/tail-facts.md):
//!
//! - **Trusts no name below the log directory**: directories are held open and
//!   read through their descriptors, every entry is examined with `fstatat(AT_SYMLINK_
//!   NOFOLLOW)` before it is opened, devices, FIFOs and sockets are never opened, a link is
//!   followed only to a regular file beneath the log directory owned by the link's owner,
//!   and the walk stops at [`MAX_DEPTH`], [`MAX_DIRS`] and [`MAX_FILES`] (with a warning).
//! - **Watches directories, not files.** One watch per directory reports writes, creations,
//!   renames and deletions of every entry, so a file or directory created after the start
//!   is seen. A directory is scanned right *after* its watch is added, so entries created
//!   before the watch existed (`mkdir -p a/b && touch a/b/x.log`) are not missed
//!   (notify-rs/notify#727). `IN_Q_OVERFLOW` triggers a full rescan.
//! - **Files are known by inode**, not by name. A name that now points at another inode is
//!   a new file (read from its start); a known inode that shows up under a new name
//!   (`x.log` renamed to `x.log.1`) keeps its offset, so nothing is read twice.
//! - **Renamed or deleted files are drained.** A file whose name went away (renamed out
//!   of view, to an archive name, or deleted) stays open as an *orphan*: it is read on
//!   every event in its old directory and every [`ORPHAN_TICK`], and closed only after
//!   [`ORPHAN_QUIET`] without new data, so what a daemon writes to its old file before it
//!   reopens is not lost. Before a new file is attached, everything pending is read, so
//!   old lines come before new ones.
//! - **Truncation** (copytruncate) is seen when a read finds nothing and the size is below
//!   the offset; the file is then read from its new start.
//! - **Partial lines** are held per file until their newline, or written after
//!   [`PARTIAL_TIMEOUT`] of quiet.
//! - **Idle is free:** with nothing pending the loop sleeps in `poll(2)` with no timeout;
//!   a timeout is set only while a partial line, an orphan or the polling fallback needs
//!   one. Busy, it reads events in batches and each file once per batch, pausing
//!   [`BATCH_PAUSE`] between batches so that a burst of writes costs one wake-up, not
//!   one per line (waking a reader also costs the process that writes).
//! - **Polling fallback**, with a warning, only when inotify cannot be had or runs out of
//!   watches: then every second the tree is rescanned and every file read.
//! - **The followed directory itself may go** (`rm -rf` of the log directory, of the one
//!   service directory followed, or of a followed file's directory, then a fresh `mkdir`).
//!   A watch on a directory cannot see it come back, so its nearest existing ancestor is
//!   watched too (the parent while it exists). When it goes, its files are drained as
//!   orphans and one warning says so; when a directory of that name appears again it is
//!   followed from the first line of each file, and that is said too.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};

use super::discover::{is_skipped_name, last_lines_start, Target};
use super::output::{Format, Output, Source};
use super::signals::Signals;
use crate::sys::dirfd::{self, DirFd, Entry, EntryKind};
use crate::sys::errno::{ELOOP, ENOENT, ENOSPC, ENOTDIR};
use crate::sys::term::{escape_controls, one_line};

/// A partial last line is written after this long without new data in its file.
pub const PARTIAL_TIMEOUT: Duration = Duration::from_secs(1);
/// A renamed-away or deleted file is read until it has been quiet this long.
pub const ORPHAN_QUIET: Duration = Duration::from_secs(3);
/// How often orphans are read while there are any.
pub const ORPHAN_TICK: Duration = Duration::from_millis(100);
/// The polling fallback's period.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A "line" longer than this is written in pieces rather than held in memory.
const MAX_PENDING: usize = 64 * 1024 * 1024;
const KEEP_PENDING_CAPACITY: usize = 1024 * 1024;
const READ_BUF: usize = 256 * 1024;
/// Reads of one file per turn, so one flooding file cannot starve the others.
const MAX_READS_PER_TURN: usize = 64;
const EVENT_BUF: usize = 256 * 1024;
/// While logs are busy, how long events gather between two turns of the loop: the
/// latency it adds is bounded by this, and it divides wake-ups (of this process and, through
/// them, of the writers) by the number of writes in that time.
const BATCH_PAUSE: Duration = Duration::from_millis(1);
/// Directories followed below the followed directory, at most this deep (GitLab's logs
/// are two levels deep).
pub const MAX_DEPTH: usize = 8;
/// At most this many directories are followed (each holds a descriptor and a watch).
pub const MAX_DIRS: usize = 1024;
/// At most this many files are open at once (followed files and drained orphans).
pub const MAX_FILES: usize = 4096;
/// Descriptors kept free of the open-file limit for everything else.
const SPARE_FDS: u64 = 64;
/// `struct inotify_event` is 16 bytes, followed by the name padded to a multiple of 16.
const MAX_EVENT_SIZE: usize = 16 + 256;

fn event_size(name: Option<&OsStr>) -> usize {
    16 + name.map_or(0, |n| (n.len() + 1).div_ceil(16) * 16)
}

/// What to follow and how to show it.
pub struct Options {
    pub target: Target,
    /// The log directory (as the kernel resolves it, and as configured): a link is followed
    /// only to a regular file beneath it, owned by the link's owner. Every path in `target`
    /// is beneath it.
    pub base: PathBuf,
    pub base_given: PathBuf,
    /// Labels with their bytes unchanged (`--raw`); otherwise control bytes are escaped.
    pub raw_labels: bool,
    /// Labels (headers, prefixes) are paths relative to this directory.
    pub label_base: PathBuf,
    /// Lines printed from each file that exists at the start.
    pub lines: usize,
    pub format: Format,
    /// Skip inotify and poll (for tests of the fallback).
    pub force_poll: bool,
}

/// Why following ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A stop signal (its number).
    Signal(i32),
    /// The reader of stdout went away.
    BrokenPipe,
}

/// What can end following with an error.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("cannot write to stdout")]
    Stdout(#[source] io::Error),
    #[error("cannot read inotify events")]
    Inotify(#[source] io::Error),
    #[error("cannot install the signal handlers")]
    Signals(#[source] io::Error),
    #[error("cannot read `{}`", .0.display())]
    Root(PathBuf, #[source] io::Error),
}

/// Follows `opts.target` until a signal or a closed stdout; warnings go to `warn`.
pub fn follow(opts: Options, warn: &dyn Fn(&str)) -> Result<Stop, FollowError> {
    let signals = Signals::install().map_err(FollowError::Signals)?;
    let nofile = dirfd::raise_open_file_limit();
    let out = Output::stdout(opts.format.clone()).map_err(FollowError::Stdout)?;
    let mut f = Follower::new(opts, out, warn);
    f.set_limits(nofile);
    match f.run(&signals) {
        Ok(stop) => {
            // Flush what was read before the signal; a closed pipe is no error now.
            match f.out.flush() {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(FollowError::Stdout(e)),
                _ => Ok(stop),
            }
        }
        Err(Failure::BrokenPipe) => Ok(Stop::BrokenPipe),
        Err(Failure::Fatal(e)) => Err(e),
    }
}

/// Errors inside the loop: a closed stdout ends quietly, the rest are reported.
enum Failure {
    BrokenPipe,
    Fatal(FollowError),
}

impl From<io::Error> for Failure {
    /// Only output errors travel as `io::Error`; file errors are handled where they occur.
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Fatal(FollowError::Stdout(e))
        }
    }
}

type FileId = usize;
type DirId = usize;
/// (device, inode): what a file or directory *is*, whatever it is called.
type Key = (u64, u64);

/// Where a file's reading starts when it is first seen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Existing at the start: the last N lines.
    Tail,
    /// Appeared later: everything.
    Head,
}

/// One open log file.
struct Tracked {
    file: File,
    key: Key,
    offset: u64,
    /// Its current name; `None` once renamed away or deleted (an orphan).
    name: Option<(DirId, OsString)>,
    label: Vec<u8>,
    /// Identity for the output's header logic; renewed when the label changes.
    src: u64,
    color: usize,
    /// The unfinished last line.
    pending: Vec<u8>,
    /// Part of the current line was already written by a partial flush.
    continued: bool,
    last_data: Instant,
    dirty: bool,
    in_partials: bool,
    /// A direct watch on the opened file, when the name is a link (its target may be in a
    /// directory that is not watched).
    link_wd: Option<WatchDescriptor>,
}

struct Dir {
    /// Held open: every entry is examined and opened relative to it, never by path.
    fd: DirFd,
    /// For labels and messages only.
    path: PathBuf,
    /// Its components below the log directory (where its links are resolved from).
    rel: Vec<OsString>,
    /// Levels below the followed directory.
    depth: usize,
    key: Key,
    wd: Option<WatchDescriptor>,
    parent: Option<(DirId, OsString)>,
    files: HashMap<OsString, FileId>,
    subdirs: HashMap<OsString, DirId>,
}

/// The watch on the followed directory's nearest existing ancestor.
struct Anchor {
    path: PathBuf,
    wd: Option<WatchDescriptor>,
}

struct Follower<'w> {
    out: Output,
    label_base: PathBuf,
    lines: usize,
    /// In single-file mode, the one name followed in the root directory.
    only: Option<OsString>,
    root_path: PathBuf,
    /// See [`Options::base`]; `base` is the log directory opened, renewed with the root.
    base_path: PathBuf,
    base_given: PathBuf,
    base: Option<DirFd>,
    /// The followed directory's components below `base_path`.
    root_rel: Vec<OsString>,
    raw_labels: bool,
    max_dirs: usize,
    max_files: usize,
    open_files: usize,
    /// Which bounds were reported (depth, directories, files).
    bounds_warned: [bool; 3],
    /// The followed directory, while it exists.
    root_id: Option<DirId>,
    anchor: Option<Anchor>,
    /// Something happened to the followed directory or above it: look again.
    root_check_needed: bool,
    /// The followed directory was found missing and that was said (once per absence).
    root_missing: bool,
    inotify: Option<Inotify>,
    watches: Option<Watches>,
    polling: bool,
    wd_dir: HashMap<i32, DirId>,
    wd_file: HashMap<i32, FileId>,
    dirs: Vec<Option<Dir>>,
    dir_keys: HashMap<Key, DirId>,
    files: Vec<Option<Tracked>>,
    free_files: Vec<FileId>,
    by_key: HashMap<Key, FileId>,
    dirty: Vec<FileId>,
    spare: Vec<FileId>,
    partials: Vec<FileId>,
    orphans: Vec<FileId>,
    rescan_needed: bool,
    next_deadline: Option<Instant>,
    next_poll: Instant,
    buf: Vec<u8>,
    next_src: u64,
    next_color: usize,
    warned: HashSet<PathBuf>,
    warn: &'w dyn Fn(&str),
}

/// What matters on the ancestor: entries appearing or going, and the ancestor itself
/// going. `MASK_ADD`, so that if the same directory is also followed (a symlink in the
/// tree pointing up) its watch keeps every bit it had.
fn anchor_mask() -> WatchMask {
    WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::ONLYDIR
        | WatchMask::MASK_ADD
}

fn dir_mask() -> WatchMask {
    WatchMask::MODIFY
        | WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::ATTRIB
        | WatchMask::ONLYDIR
}

impl<'w> Follower<'w> {
    fn new(opts: Options, mut out: Output, warn: &'w dyn Fn(&str)) -> Self {
        let (root_path, only) = match opts.target {
            Target::Dir(p) => (p, None),
            Target::File { dir, name } => (dir, Some(name)),
        };
        let root_rel: Vec<OsString> = root_path
            .strip_prefix(&opts.base)
            .map(|r| r.iter().map(OsStr::to_os_string).collect())
            .unwrap_or_default();
        // One file needs no headers, as with `tail FILE`; `-q` turned them off already.
        out.set_headers(only.is_none() && opts.format.headers);
        let mut f = Follower {
            out,
            label_base: opts.label_base,
            lines: opts.lines,
            only,
            root_path,
            base_path: opts.base,
            base_given: opts.base_given,
            base: None,
            root_rel,
            raw_labels: opts.raw_labels,
            max_dirs: MAX_DIRS,
            max_files: MAX_FILES,
            open_files: 0,
            bounds_warned: [false; 3],
            root_id: None,
            anchor: None,
            root_check_needed: false,
            root_missing: false,
            inotify: None,
            watches: None,
            polling: false,
            wd_dir: HashMap::new(),
            wd_file: HashMap::new(),
            dirs: Vec::new(),
            dir_keys: HashMap::new(),
            files: Vec::new(),
            free_files: Vec::new(),
            by_key: HashMap::new(),
            dirty: Vec::new(),
            spare: Vec::new(),
            partials: Vec::new(),
            orphans: Vec::new(),
            rescan_needed: false,
            next_deadline: None,
            next_poll: Instant::now(),
            buf: vec![0; READ_BUF],
            next_src: 0,
            next_color: 0,
            warned: HashSet::new(),
            warn,
        };
        if opts.force_poll {
            f.fall_back("inotify is disabled (TOOLCTL_TAIL_POLL)");
        } else {
            match Inotify::init() {
                Ok(i) => {
                    f.watches = Some(i.watches());
                    f.inotify = Some(i);
                }
                Err(e) => f.fall_back(&format!("inotify is unavailable ({e})")),
            }
        }
        f
    }

    /// Fits the bounds in the open-file limit (`nofile`, `None`: unlimited).
    fn set_limits(&mut self, nofile: Option<u64>) {
        let budget = nofile.map_or(usize::MAX, |n| n.saturating_sub(SPARE_FDS) as usize);
        self.max_dirs = MAX_DIRS.min(budget / 4).max(1);
        self.max_files = MAX_FILES.min(budget.saturating_sub(self.max_dirs)).max(1);
    }

    /// Says once that a bound was reached and what is left out.
    fn bound_reached(&mut self, which: usize, at: &Path) {
        if self.bounds_warned[which] {
            return;
        }
        self.bounds_warned[which] = true;
        let what = match which {
            0 => format!("directories more than {MAX_DEPTH} levels below the followed one"),
            1 => format!("more than {} directories", self.max_dirs),
            _ => format!("more than {} open files", self.max_files),
        };
        (self.warn)(&format!(
            "not following {what} (first left out: `{}`); name a narrower TARGET",
            one_line(&at.display().to_string())
        ));
    }

    /// Opens the followed directory: the log directory as configured, then every component
    /// below it with `O_NOFOLLOW`. Renews the handle on the log directory that links are
    /// resolved beneath.
    fn open_root(&mut self) -> io::Result<DirFd> {
        let base = DirFd::open_path(&self.base_path)?;
        let mut cur: Option<DirFd> = None;
        for c in &self.root_rel {
            let next = cur.as_ref().unwrap_or(&base).open_sub(c)?;
            cur = Some(next);
        }
        let root = match cur {
            Some(d) => d,
            None => DirFd::open_path(&self.base_path)?,
        };
        self.base = Some(base);
        Ok(root)
    }

    fn fall_back(&mut self, why: &str) {
        if !self.polling {
            self.polling = true;
            self.next_poll = Instant::now() + POLL_INTERVAL;
            (self.warn)(&format!(
                "{why}; polling every {} s instead",
                POLL_INTERVAL.as_secs()
            ));
        }
    }

    fn run(&mut self, signals: &Signals) -> Result<Stop, Failure> {
        let root = self.root_path.clone();
        let fd = self
            .open_root()
            .map_err(|e| Failure::Fatal(FollowError::Root(root.clone(), e)))?;
        let rel = self.root_rel.clone();
        self.root_id = self.add_dir(None, root.clone(), rel, fd, 0, Start::Tail);
        if self.root_id.is_none() {
            let e = io::Error::other("not a directory");
            return Err(Failure::Fatal(FollowError::Root(root, e)));
        }
        self.read_dirty()?;
        // Watched after the first scan: a directory removed in between is noticed by the
        // check that follows placing the watch.
        self.check_root()?;
        let mut events = vec![0u8; EVENT_BUF];
        let stdout_fd: RawFd = 1;
        loop {
            if let Some(sig) = signals.caught() {
                return Ok(Stop::Signal(sig));
            }
            let mut batch_size = None;
            if let Some(inotify) = self.inotify.as_mut() {
                match inotify.read_events(&mut events) {
                    Ok(batch) => {
                        let mut bytes = 0;
                        for ev in batch {
                            bytes += event_size(ev.name);
                            self.handle(ev.wd.get_watch_descriptor_id(), ev.mask, ev.name)?;
                        }
                        batch_size = Some(bytes);
                    }
                    Err(e)
                        if e.kind() == io::ErrorKind::WouldBlock
                            || e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::Fatal(FollowError::Inotify(e))),
                }
            }
            if self.rescan_needed {
                self.rescan()?;
            }
            if self.root_check_needed {
                self.check_root()?;
            }
            self.read_dirty()?;
            let now = Instant::now();
            if self.next_deadline.is_some_and(|d| now >= d)
                || (self.polling && now >= self.next_poll)
            {
                self.timers(now)?;
            }
            match batch_size {
                // A full buffer: more events are waiting.
                Some(bytes) if bytes + MAX_EVENT_SIZE > EVENT_BUF => continue,
                // Logs are being written: hand the lines over, then let the next events
                // gather for a moment instead of being woken by each one. Waking a
                // sleeping reader costs the *writer* too: woken per event, this follower
                // made a busy daemon measurably slower than `tail -F` did.
                Some(_) => {
                    self.out.flush()?;
                    std::thread::sleep(BATCH_PAUSE);
                    continue;
                }
                None => {}
            }
            // Idle: hand the lines over, then sleep until something happens.
            self.out.flush()?;
            let fds = [
                (signals.fd(), true),
                // No events asked: a pipe whose reader left reports POLLERR.
                (stdout_fd, false),
                (self.inotify.as_ref().map_or(-1, |i| i.as_raw_fd()), true),
            ];
            let timeout = self.poll_timeout(Instant::now());
            let ready = match crate::sys::poll::poll(fds, timeout) {
                Ok(ready) => ready,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::Fatal(FollowError::Inotify(e))),
            };
            if ready[0].any() {
                signals.drain();
            }
            if ready[1].error_or_hangup() {
                return Err(Failure::BrokenPipe);
            }
        }
    }

    /// Milliseconds until the next timer, or -1 (sleep until an event) when none is due.
    fn poll_timeout(&self, now: Instant) -> i32 {
        let mut next = self.next_deadline;
        if self.polling {
            next = Some(next.map_or(self.next_poll, |d| d.min(self.next_poll)));
        }
        match next {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(now);
                // Round up, so the loop never spins on a deadline a fraction of a ms away.
                (left.as_micros().div_ceil(1000)).min(i32::MAX as u128) as i32
            }
        }
    }

    fn schedule(&mut self, at: Instant) {
        self.next_deadline = Some(self.next_deadline.map_or(at, |d| d.min(at)));
    }

    /// Partial lines that waited long enough, orphans, and the polling fallback.
    fn timers(&mut self, now: Instant) -> Result<(), Failure> {
        self.next_deadline = None;
        if self.polling && now >= self.next_poll {
            self.next_poll = now + POLL_INTERVAL;
            self.rescan()?;
        }
        if !self.orphans.is_empty() {
            for i in 0..self.orphans.len() {
                let fid = self.orphans[i];
                self.mark_dirty(fid);
            }
            self.read_dirty()?;
            let mut i = 0;
            while i < self.orphans.len() {
                let fid = self.orphans[i];
                let quiet = self.files[fid]
                    .as_ref()
                    .is_none_or(|t| now.saturating_duration_since(t.last_data) >= ORPHAN_QUIET);
                if quiet {
                    self.orphans.swap_remove(i);
                    self.close(fid)?;
                } else {
                    i += 1;
                }
            }
            if !self.orphans.is_empty() {
                self.schedule(now + ORPHAN_TICK);
            }
        }
        let mut i = 0;
        while i < self.partials.len() {
            let fid = self.partials[i];
            let Some(t) = self.files[fid].as_mut() else {
                self.partials.swap_remove(i);
                continue;
            };
            if t.pending.is_empty() {
                t.in_partials = false;
                self.partials.swap_remove(i);
                continue;
            }
            let due = t.last_data + PARTIAL_TIMEOUT;
            if now >= due {
                flush_partial(t, &mut self.out)?;
                t.in_partials = false;
                self.partials.swap_remove(i);
            } else {
                self.next_deadline = Some(self.next_deadline.map_or(due, |d| d.min(due)));
                i += 1;
            }
        }
        Ok(())
    }

    // ---- events

    fn handle(&mut self, wd: i32, mask: EventMask, name: Option<&OsStr>) -> Result<(), Failure> {
        if mask.contains(EventMask::Q_OVERFLOW) {
            self.rescan_needed = true;
            return Ok(());
        }
        if self
            .anchor
            .as_ref()
            .and_then(|a| a.wd.as_ref())
            .map(|w| w.get_watch_descriptor_id())
            == Some(wd)
        {
            self.anchor_event(mask, name);
            if !self.wd_dir.contains_key(&wd) {
                return Ok(());
            }
        }
        if let Some(&fid) = self.wd_file.get(&wd) {
            if mask.contains(EventMask::IGNORED) {
                self.wd_file.remove(&wd);
                if let Some(t) = self.files[fid].as_mut() {
                    t.link_wd = None;
                }
            } else {
                self.mark_dirty(fid);
            }
            return Ok(());
        }
        let Some(&dir) = self.wd_dir.get(&wd) else {
            return Ok(());
        };
        if mask.contains(EventMask::IGNORED) {
            // The directory is gone; its parent's event removes the rest (for the followed
            // directory itself, the check of the root does).
            self.wd_dir.remove(&wd);
            if let Some(d) = self.dirs[dir].as_mut() {
                d.wd = None;
            }
            if self.root_id == Some(dir) {
                self.root_check_needed = true;
            }
            return Ok(());
        }
        let Some(name) = name else {
            return Ok(());
        };
        if mask.contains(EventMask::ISDIR) {
            if self.only.is_some() {
                return Ok(());
            }
            let sub = self.dir(dir).subdirs.get(name).copied();
            if mask.intersects(EventMask::CREATE | EventMask::MOVED_TO) {
                self.read_dirty()?;
                if let Some(sub) = sub {
                    // Replaced by another directory of the same name?
                    let same = self
                        .dir(dir)
                        .fd
                        .lstat(name)
                        .ok()
                        .flatten()
                        .is_some_and(|e| {
                            e.kind == EntryKind::Dir && key_of(&e) == self.dir(sub).key
                        });
                    if same {
                        self.scan_dir(sub, Start::Head)?;
                        return Ok(());
                    }
                    self.remove_dir(sub);
                }
                self.add_subdir(dir, name, Start::Head);
            } else if mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM) {
                if let Some(sub) = sub {
                    self.read_dirty()?;
                    self.remove_dir(sub);
                }
            }
            return Ok(());
        }
        if !self.followed(name) {
            // Writes to a renamed-away file arrive under its new name (an archive name,
            // say): drain the orphans.
            if mask.contains(EventMask::MODIFY) {
                for i in 0..self.orphans.len() {
                    let fid = self.orphans[i];
                    self.mark_dirty(fid);
                }
            }
            return Ok(());
        }
        let known = self.dir(dir).files.get(name).copied();
        if mask.contains(EventMask::MODIFY) {
            match known {
                Some(fid) => self.mark_dirty(fid),
                // Created before its directory's watch, or unreadable until now.
                None => {
                    self.read_dirty()?;
                    self.attach(dir, name, Start::Head);
                }
            }
        } else if mask.intersects(EventMask::CREATE | EventMask::MOVED_TO)
            || (mask.contains(EventMask::ATTRIB) && known.is_none())
        {
            // Old lines (an orphan's, a renamed file's) come before the new file's.
            for i in 0..self.orphans.len() {
                let fid = self.orphans[i];
                self.mark_dirty(fid);
            }
            self.read_dirty()?;
            self.attach(dir, name, Start::Head);
        } else if mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM) {
            if let Some(fid) = known {
                self.read_dirty()?;
                self.detach(fid);
            }
        }
        Ok(())
    }

    fn followed(&self, name: &OsStr) -> bool {
        match &self.only {
            Some(only) => name == only,
            None => !is_skipped_name(name),
        }
    }

    fn dir(&self, id: DirId) -> &Dir {
        self.dirs[id].as_ref().expect("a live directory id")
    }

    // ---- directories

    /// Opens the subdirectory `name` of `parent` (`O_NOFOLLOW`: a link is never followed
    /// as a directory) and follows it, within the bounds.
    fn add_subdir(&mut self, parent: DirId, name: &OsStr, start: Start) -> Option<DirId> {
        let p = self.dir(parent);
        let path = p.path.join(name);
        let depth = p.depth + 1;
        if depth > MAX_DEPTH {
            self.bound_reached(0, &path);
            return None;
        }
        let mut rel = p.rel.clone();
        rel.push(name.to_os_string());
        let fd = match p.fd.open_sub(name) {
            Ok(fd) => fd,
            Err(e) => {
                // Gone, or replaced by a link or a file since it was listed.
                let quiet = matches!(e.raw_os_error(), Some(ENOENT | ELOOP | ENOTDIR));
                if !quiet {
                    self.warn_once(&path, &e);
                }
                return None;
            }
        };
        self.add_dir(
            Some((parent, name.to_os_string())),
            path,
            rel,
            fd,
            depth,
            start,
        )
    }

    /// Starts following an opened directory: watch first, then scan, so nothing created
    /// in between is missed.
    fn add_dir(
        &mut self,
        parent: Option<(DirId, OsString)>,
        path: PathBuf,
        rel: Vec<OsString>,
        fd: DirFd,
        depth: usize,
        start: Start,
    ) -> Option<DirId> {
        let st = fd.stat().ok()?;
        if st.kind != EntryKind::Dir {
            return None;
        }
        let key = key_of(&st);
        if self.dir_keys.contains_key(&key) {
            return None; // reached twice (a bind mount)
        }
        if self.dir_keys.len() >= self.max_dirs {
            self.bound_reached(1, &path);
            return None;
        }
        // The watch is placed on the open directory itself, not on a name that its owner
        // could point elsewhere meanwhile.
        let wd = self.watch(&fd.proc_path(), &path, dir_mask());
        let id = self.dirs.len();
        if let Some(wd) = &wd {
            self.wd_dir.insert(wd.get_watch_descriptor_id(), id);
        }
        if let Some((p, name)) = &parent {
            if let Some(d) = self.dirs[*p].as_mut() {
                d.subdirs.insert(name.clone(), id);
            }
        }
        self.dirs.push(Some(Dir {
            fd,
            path,
            rel,
            depth,
            key,
            wd,
            parent,
            files: HashMap::new(),
            subdirs: HashMap::new(),
        }));
        self.dir_keys.insert(key, id);
        // Errors past this point concern single entries and are warned about.
        let _ = self.scan_dir(id, start);
        Some(id)
    }

    /// Adds an inotify watch on `target` (shown as `shown` in messages).
    fn watch(&mut self, target: &Path, shown: &Path, mask: WatchMask) -> Option<WatchDescriptor> {
        let watches = self.watches.as_mut()?;
        match watches.add(target, mask) {
            Ok(wd) => Some(wd),
            Err(e) if e.raw_os_error() == Some(ENOSPC) => {
                self.fall_back(&format!(
                    "out of inotify watches at `{}` (raise fs.inotify.max_user_watches)",
                    one_line(&shown.display().to_string())
                ));
                None
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    self.warn_once(shown, &e);
                }
                None
            }
        }
    }

    /// Lists a directory and reconciles it with what is followed: new entries are
    /// attached (from `start`), known ones are read, vanished ones let go.
    fn scan_dir(&mut self, id: DirId, start: Start) -> Result<(), Failure> {
        let mut entries = match self.dir(id).fd.entries() {
            Ok(v) => v,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    let path = self.dir(id).path.clone();
                    self.warn_once(&path, &e);
                }
                return Ok(());
            }
        };
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut seen_files = HashSet::new();
        let mut seen_dirs = HashSet::new();
        for (name, st) in entries {
            if st.kind == EntryKind::Dir {
                if self.only.is_some() {
                    continue;
                }
                seen_dirs.insert(name.clone());
                match self.dir(id).subdirs.get(&name).copied() {
                    Some(sub) if self.dir(sub).key == key_of(&st) => self.scan_dir(sub, start)?,
                    Some(sub) => {
                        self.remove_dir(sub);
                        self.add_subdir(id, &name, start);
                    }
                    None => {
                        self.add_subdir(id, &name, start);
                    }
                }
            } else if self.followed(&name) {
                seen_files.insert(name.clone());
                self.attach(id, &name, start);
            }
        }
        let gone: Vec<FileId> = self
            .dir(id)
            .files
            .iter()
            .filter(|(n, _)| !seen_files.contains(*n))
            .map(|(_, &f)| f)
            .collect();
        for fid in gone {
            self.detach(fid);
        }
        let gone: Vec<DirId> = self
            .dir(id)
            .subdirs
            .iter()
            .filter(|(n, _)| !seen_dirs.contains(*n))
            .map(|(_, &d)| d)
            .collect();
        for sub in gone {
            self.remove_dir(sub);
        }
        Ok(())
    }

    /// Stops following a directory and everything below it; its files become orphans
    /// (they are drained, and re-adopted if they turn up elsewhere).
    fn remove_dir(&mut self, id: DirId) {
        let Some(d) = self.dirs[id].take() else {
            return;
        };
        for (_, fid) in d.files {
            if let Some(t) = self.files[fid].as_mut() {
                t.name = None;
            }
            self.orphan(fid);
        }
        for (_, sub) in d.subdirs {
            self.remove_dir(sub);
        }
        if let Some(wd) = d.wd {
            self.wd_dir.remove(&wd.get_watch_descriptor_id());
            if let Some(w) = self.watches.as_mut() {
                let _ = w.remove(wd); // fails harmlessly when the directory is gone
            }
        }
        self.dir_keys.remove(&d.key);
        if let Some((p, name)) = d.parent {
            if let Some(pd) = self.dirs[p].as_mut() {
                if pd.subdirs.get(&name) == Some(&id) {
                    pd.subdirs.remove(&name);
                }
            }
        }
    }

    /// Everything again, after a queue overflow or on a polling tick.
    fn rescan(&mut self) -> Result<(), Failure> {
        self.rescan_needed = false;
        // Gone, replaced or back: that first (it scans a directory it attaches).
        self.check_root()?;
        if let Some(r) = self.root_id {
            self.scan_dir(r, Start::Head)?;
        }
        for i in 0..self.orphans.len() {
            let fid = self.orphans[i];
            self.mark_dirty(fid);
        }
        self.read_dirty()
    }

    // ---- the followed directory itself

    /// An event on the ancestor's watch: only the next name on the way down to the
    /// followed directory, or the ancestor itself going, can matter.
    fn anchor_event(&mut self, mask: EventMask, name: Option<&OsStr>) {
        let Some(anchor) = self.anchor.as_mut() else {
            return;
        };
        if mask.contains(EventMask::IGNORED) {
            anchor.wd = None;
            self.root_check_needed = true;
            return;
        }
        let next = self
            .root_path
            .strip_prefix(&anchor.path)
            .ok()
            .and_then(|rest| rest.components().next())
            .map(|c| c.as_os_str());
        if name.is_none() || name == next {
            self.root_check_needed = true;
        }
    }

    /// Reconciles the followed directory with the disk: lets it go when it was deleted,
    /// renamed away or replaced (its files are drained as orphans), follows it again from
    /// the start of each file when it is back, and keeps the ancestor watch on the
    /// nearest directory that exists. Warns once per absence.
    fn check_root(&mut self) -> Result<(), Failure> {
        self.root_check_needed = false;
        // Each turn lets the directory go, takes it back or moves the watch one step; the
        // bound only matters if a watch keeps failing (the next event or poll retries).
        for _ in 0..8 {
            let on_disk = self.open_root().ok().and_then(|fd| {
                let st = fd.stat().ok()?;
                Some((key_of(&st), fd))
            });
            match (self.root_id, on_disk) {
                (Some(id), Some((key, _))) if self.dir(id).key == key => {}
                (Some(id), _) => {
                    // Gone or replaced: what was read so far goes out first, then the
                    // files are orphans, drained until quiet.
                    self.read_dirty()?;
                    self.remove_dir(id);
                    self.root_id = None;
                    continue;
                }
                (None, Some((_, fd))) => {
                    // Lines of the old files come before those of the new ones.
                    for i in 0..self.orphans.len() {
                        let fid = self.orphans[i];
                        self.mark_dirty(fid);
                    }
                    self.read_dirty()?;
                    let path = self.root_path.clone();
                    let rel = self.root_rel.clone();
                    self.root_id = self.add_dir(None, path, rel, fd, 0, Start::Head);
                    if self.root_id.is_some() && self.root_missing {
                        self.root_missing = false;
                        (self.warn)(&format!(
                            "`{}` exists again; following it from the start of each file",
                            self.root_path.display()
                        ));
                    }
                }
                (None, None) => {
                    if !self.root_missing {
                        self.root_missing = true;
                        (self.warn)(&format!(
                            "`{}` is gone (deleted or renamed); waiting for it to be created again",
                            self.root_path.display()
                        ));
                    }
                }
            }
            // After a new watch, look once more: the directory (or a step towards it) may
            // have been created before the watch existed.
            if !self.place_anchor() {
                break;
            }
        }
        Ok(())
    }

    /// Watches the followed directory's parent, or while it is missing its nearest
    /// existing ancestor. Returns whether the watch moved.
    fn place_anchor(&mut self) -> bool {
        let nearest = if self.root_id.is_some() {
            self.root_path.parent().map(Path::to_path_buf)
        } else {
            self.root_path
                .ancestors()
                .skip(1)
                .find(|p| p.is_dir())
                .map(Path::to_path_buf)
        };
        let Some(nearest) = nearest else {
            return false; // following `/`
        };
        let watching = self.watches.is_some();
        if self
            .anchor
            .as_ref()
            .is_some_and(|a| a.path == nearest && (a.wd.is_some() || !watching))
        {
            return false;
        }
        if let Some(wd) = self.anchor.take().and_then(|a| a.wd) {
            // Leave a watch that a followed directory shares.
            if !self.wd_dir.contains_key(&wd.get_watch_descriptor_id()) {
                if let Some(w) = self.watches.as_mut() {
                    let _ = w.remove(wd);
                }
            }
        }
        let wd = self.watch(&nearest, &nearest, anchor_mask());
        self.anchor = Some(Anchor { path: nearest, wd });
        true
    }

    // ---- files

    /// Follows the file named `name` in `dir`: a known inode keeps its offset (it was
    /// renamed here), a new one starts at `start`.
    fn attach(&mut self, dir: DirId, name: &OsStr, start: Start) {
        let path = self.dir(dir).path.join(name);
        let known = self.dir(dir).files.get(name).copied();
        // What the name is, seen without following it, before anything is opened.
        let entry = match self.dir(dir).fd.lstat(name) {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => {
                self.warn_once(&path, &e);
                return;
            }
        };
        if let Some(fid) = known {
            // Still the same file (a rescan, a repeated event): read it, no new open.
            let same = entry.kind == EntryKind::File
                && self.files[fid]
                    .as_ref()
                    .is_some_and(|t| t.key == key_of(&entry));
            if same {
                self.mark_dirty(fid);
                return;
            }
        }
        let opened = match entry.kind {
            EntryKind::File => self.dir(dir).fd.open_file(name),
            EntryKind::Symlink => match self.open_link(dir, name, entry.uid) {
                Ok(opened) => Ok(opened),
                Err(why) => {
                    if let Some(why) = why {
                        self.note_once(&path, &why);
                    }
                    return;
                }
            },
            EntryKind::Special => {
                self.note_once(&path, "is a device, FIFO or socket: not opened");
                return;
            }
            EntryKind::Dir => return,
        };
        let (file, st) = match opened {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                self.note_once(&path, "is not a regular file: not followed");
                return;
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    self.warn_once(&path, &e);
                }
                return;
            }
        };
        if let Some(why) = self.foreign_file(dir, &file) {
            self.note_once(&path, &why);
            return;
        }
        let is_link = entry.kind == EntryKind::Symlink;
        let meta = match file.metadata() {
            Ok(m) if m.is_file() => m,
            _ => return,
        };
        let key = key_of(&st);
        if let Some(fid) = known {
            if self.files[fid].as_ref().is_some_and(|t| t.key == key) {
                self.mark_dirty(fid);
                return;
            }
            // The name now points at another file: the old one is drained as an orphan.
            self.detach(fid);
        }
        let label = self.label(&path);
        if let Some(&fid) = self.by_key.get(&key) {
            // A file we know, under a new name: keep reading where we were.
            if let Some((od, on)) = self.files[fid].as_ref().and_then(|t| t.name.clone()) {
                if let Some(d) = self.dirs[od].as_mut() {
                    if d.files.get(&on) == Some(&fid) {
                        d.files.remove(&on);
                    }
                }
            }
            self.orphans.retain(|&o| o != fid);
            let src = self.new_src();
            let t = self.files[fid].as_mut().expect("a live file id");
            t.name = Some((dir, name.to_os_string()));
            t.label = label;
            t.src = src;
            self.dirs[dir]
                .as_mut()
                .expect("a live directory id")
                .files
                .insert(name.to_os_string(), fid);
            self.mark_dirty(fid);
            return;
        }
        if self.open_files >= self.max_files {
            self.bound_reached(2, &path);
            return;
        }
        let mut file = file;
        let size = meta.len();
        let offset = match start {
            Start::Head => 0,
            Start::Tail => last_lines_start(&file, size, self.lines).unwrap_or(size),
        };
        if offset > 0 && file.seek(SeekFrom::Start(offset)).is_err() {
            return;
        }
        let link_wd = if is_link {
            let on_file = dirfd::proc_path(&file);
            self.watch(&on_file, &path, WatchMask::MODIFY | WatchMask::ATTRIB)
        } else {
            None
        };
        let src = self.new_src();
        let color = self.next_color;
        self.next_color += 1;
        let t = Tracked {
            file,
            key,
            offset,
            name: Some((dir, name.to_os_string())),
            label,
            src,
            color,
            pending: Vec::new(),
            continued: false,
            last_data: Instant::now(),
            dirty: false,
            in_partials: false,
            link_wd: link_wd.clone(),
        };
        let fid = match self.free_files.pop() {
            Some(fid) => {
                self.files[fid] = Some(t);
                fid
            }
            None => {
                self.files.push(Some(t));
                self.files.len() - 1
            }
        };
        self.open_files += 1;
        if let Some(wd) = link_wd {
            self.wd_file.insert(wd.get_watch_descriptor_id(), fid);
        }
        self.by_key.insert(key, fid);
        self.dirs[dir]
            .as_mut()
            .expect("a live directory id")
            .files
            .insert(name.to_os_string(), fid);
        self.mark_dirty(fid);
    }

    /// The file lost its name (renamed away, deleted, or the name was reused): it is
    /// drained as an orphan until quiet, unless it turns up under another name.
    fn detach(&mut self, fid: FileId) {
        let Some(t) = self.files[fid].as_mut() else {
            return;
        };
        if let Some((d, n)) = t.name.take() {
            if let Some(dir) = self.dirs[d].as_mut() {
                if dir.files.get(&n) == Some(&fid) {
                    dir.files.remove(&n);
                }
            }
        }
        self.orphan(fid);
    }

    fn orphan(&mut self, fid: FileId) {
        if let Some(t) = self.files[fid].as_mut() {
            // The quiet period counts from now.
            t.last_data = Instant::now();
            if !self.orphans.contains(&fid) {
                self.orphans.push(fid);
            }
            self.mark_dirty(fid);
            self.schedule(Instant::now() + ORPHAN_TICK);
        }
    }

    /// Closes an orphan for good, writing its unfinished last line.
    fn close(&mut self, fid: FileId) -> Result<(), Failure> {
        let Some(mut t) = self.files[fid].take() else {
            return Ok(());
        };
        self.free_files.push(fid);
        self.open_files -= 1;
        if self.by_key.get(&t.key) == Some(&fid) {
            self.by_key.remove(&t.key);
        }
        if let Some(wd) = t.link_wd.take() {
            self.wd_file.remove(&wd.get_watch_descriptor_id());
            if let Some(w) = self.watches.as_mut() {
                let _ = w.remove(wd);
            }
        }
        self.dirty.retain(|&d| d != fid);
        flush_partial(&mut t, &mut self.out)?;
        Ok(())
    }

    fn mark_dirty(&mut self, fid: FileId) {
        if let Some(t) = self.files[fid].as_mut() {
            if !t.dirty {
                t.dirty = true;
                self.dirty.push(fid);
            }
        }
    }

    /// Reads every file that has news, in the order the news came.
    fn read_dirty(&mut self) -> Result<(), Failure> {
        while !self.dirty.is_empty() {
            let mut list = std::mem::replace(&mut self.dirty, std::mem::take(&mut self.spare));
            let now = Instant::now();
            for &fid in &list {
                self.read_file(fid, now)?;
            }
            list.clear();
            self.spare = list;
        }
        Ok(())
    }

    fn read_file(&mut self, fid: FileId, now: Instant) -> Result<(), Failure> {
        let Some(t) = self.files[fid].as_mut() else {
            return Ok(());
        };
        if !t.dirty {
            return Ok(()); // closed and reused meanwhile
        }
        t.dirty = false;
        let mut reads = 0;
        let mut checked = false;
        let mut got = false;
        let mut failed = None;
        loop {
            match t.file.read(&mut self.buf) {
                Ok(0) => {
                    // Nothing new: was it truncated (copytruncate)? Then start over.
                    if checked || got {
                        break;
                    }
                    checked = true;
                    match t.file.metadata() {
                        Ok(m) if m.len() < t.offset => {
                            if !t.pending.is_empty() {
                                // The unfinished line ended with the truncation.
                                t.pending.push(b'\n');
                                let src = Source {
                                    id: t.src,
                                    label: &t.label,
                                    color: t.color,
                                };
                                self.out.lines(src, &t.pending, t.continued)?;
                                t.pending.clear();
                                t.continued = false;
                            }
                            if t.file.seek(SeekFrom::Start(0)).is_err() {
                                break;
                            }
                            t.offset = 0;
                        }
                        _ => break,
                    }
                }
                Ok(n) => {
                    got = true;
                    t.offset += n as u64;
                    consume(t, &self.buf[..n], &mut self.out)?;
                    reads += 1;
                    if n < self.buf.len() {
                        break;
                    }
                    if reads >= MAX_READS_PER_TURN {
                        // More to come: yield to the other files and come back.
                        t.dirty = true;
                        self.dirty.push(fid);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some((PathBuf::from(OsStr::from_bytes(&t.label)), e));
                    break;
                }
            }
        }
        if let Some((path, e)) = failed {
            self.warn_once(&path, &e);
            return Ok(());
        }
        if got {
            t.last_data = now;
            if !t.pending.is_empty() && !t.in_partials {
                t.in_partials = true;
                self.partials.push(fid);
                let due = now + PARTIAL_TIMEOUT;
                self.schedule(due);
            }
        }
        Ok(())
    }

    // ---- helpers

    /// The path shown for a file; its control bytes escaped unless `--raw` (a file name is
    /// chosen by whoever owns the directory).
    fn label(&self, path: &Path) -> Vec<u8> {
        let raw = path
            .strip_prefix(&self.label_base)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(path)
            .as_os_str()
            .as_bytes();
        if self.raw_labels {
            raw.to_vec()
        } else {
            escape_controls(raw, false).into_owned().into_bytes()
        }
    }

    /// Opens what the link `name` in `dir` points at, when that is a regular file beneath
    /// the log directory, owned by the link's owner (`link_uid`), reached without any other
    /// link. `Err(Some(why))`: refused; `Err(None)`: a dangling link, skipped quietly.
    fn open_link(
        &self,
        dir: DirId,
        name: &OsStr,
        link_uid: u32,
    ) -> Result<Option<(File, Entry)>, Option<String>> {
        let d = self.dir(dir);
        let target =
            d.fd.readlink(name)
                .map_err(|e| Some(format!("is a link that cannot be read ({e})")))?;
        let shown = one_line(&target.display().to_string()).into_owned();
        let comps = [&self.base_path, &self.base_given]
            .into_iter()
            .find_map(|b| dirfd::resolve_beneath(b, &d.rel, &target))
            .ok_or_else(|| {
                Some(format!(
                    "is a link to `{shown}`, outside the log directory: not followed"
                ))
            })?;
        let base = self.base.as_ref().ok_or(None)?;
        match base.open_file_beneath(&comps) {
            Ok(Some((file, st))) if st.uid == link_uid => Ok(Some((file, st))),
            Ok(Some((_, st))) => Err(Some(format!(
                "is a link to `{shown}`, owned by {} while the link is {}'s: not followed",
                crate::sys::users::describe_uid(st.uid),
                crate::sys::users::describe_uid(link_uid)
            ))),
            Ok(None) => Err(Some(format!(
                "is a link to `{shown}`, which is not a regular file: not followed"
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(None),
            Err(e) if matches!(e.raw_os_error(), Some(ELOOP | ENOTDIR)) => Err(Some(format!(
                "is a link to `{shown}`, through another link: not followed"
            ))),
            Err(e) => Err(Some(format!(
                "is a link to `{shown}`, which cannot be opened ({e})"
            ))),
        }
    }

    /// Why the opened regular `file` in `dir` is not printed: the rule of
    /// [`crate::sys::fs::foreign_file`] for a directory a service account owns.
    fn foreign_file(&self, dir: DirId, file: &File) -> Option<String> {
        crate::sys::fs::foreign_file(&self.dir(dir).fd, file)
            .map(|why| format!("{why}: not followed"))
    }

    /// A warning about one path, once.
    fn note_once(&mut self, path: &Path, what: &str) {
        if self.warned.insert(path.to_path_buf()) {
            (self.warn)(&format!(
                "`{}` {what}",
                one_line(&path.display().to_string())
            ));
        }
    }

    fn new_src(&mut self) -> u64 {
        self.next_src += 1;
        self.next_src
    }

    fn warn_once(&mut self, path: &Path, e: &io::Error) {
        if self.warned.insert(path.to_path_buf()) {
            (self.warn)(&format!(
                "cannot read `{}`: {e}",
                one_line(&path.display().to_string())
            ));
        }
    }
}

/// Splits new bytes of a file into whole lines for the output and the unfinished rest.
fn consume(t: &mut Tracked, data: &[u8], out: &mut Output) -> io::Result<()> {
    let src = Source {
        id: t.src,
        label: &t.label,
        color: t.color,
    };
    match memchr::memrchr(b'\n', data) {
        None => t.pending.extend_from_slice(data),
        Some(last) => {
            let (mut complete, rest) = data.split_at(last + 1);
            if !t.pending.is_empty() {
                let first = memchr::memchr(b'\n', complete).expect("complete ends with a newline");
                t.pending.extend_from_slice(&complete[..=first]);
                out.lines(src, &t.pending, t.continued)?;
                t.pending.clear();
                if t.pending.capacity() > KEEP_PENDING_CAPACITY {
                    // A huge line went through; do not keep its memory per file.
                    t.pending = Vec::new();
                }
                t.continued = false;
                complete = &complete[first + 1..];
            }
            out.lines(src, complete, t.continued)?;
            t.continued = false;
            t.pending.extend_from_slice(rest);
        }
    }
    if t.pending.len() > MAX_PENDING {
        out.partial(src, &t.pending)?;
        t.pending.clear();
        t.continued = true;
    }
    Ok(())
}

/// Writes a file's unfinished line as it is; the rest, if it comes, continues it.
fn flush_partial(t: &mut Tracked, out: &mut Output) -> io::Result<()> {
    if t.pending.is_empty() {
        return Ok(());
    }
    let src = Source {
        id: t.src,
        label: &t.label,
        color: t.color,
    };
    out.partial(src, &t.pending)?;
    t.pending.clear();
    t.continued = true;
    Ok(())
}

fn key_of(e: &Entry) -> Key {
    (e.dev, e.ino)
}
