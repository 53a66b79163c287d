//! All-or-nothing writes of many files, as package managers do them: a journal.
//!
//! Owns the one way `reconfigure` changes files, wherever they live (the rendered tree, the
//! log directory it creates, GitLab's encrypted settings outside the tree): every path in
//! the journal is absolute. The order is:
//!
//! 1. the journal is written in state `prepared`, naming every directory to create or fix,
//!    every temporary file and every backup it is about to make;
//! 2. directories are created, every new file is written and fsynced to a temporary file
//!    beside its target (owner and mode set before the rename), and every file that will be
//!    replaced or removed gets a hard-link backup (which also finds immutable and
//!    append-only files before anything changed);
//! 3. the journal is rewritten in state `committed`: from here the run completes;
//! 4. directory modes and owners are fixed, temporaries renamed over their targets, stale
//!    files removed, then backups removed and the journal deleted.
//!
//! A crash before step 3 is undone by the next run ([`recover`]: temporaries, backups and
//! created directories removed); a crash after it is completed (every step can be repeated).
//! An error in step 4 puts the old files back from the backups (state `rolling-back`, so a
//! crash meanwhile is undone too). Either way the tree is the old one or the new one, never
//! a mix, once the journal is gone.
//!
//! Inside the rendered tree every directory is opened with `O_NOFOLLOW` and every change is
//! made relative to it ([`fsutil::locate_dir`]), so a symlink there is refused, never
//! followed. Outside it (a journal of [`apply_rooted`]), every directory is opened from the
//! `--root` directory with [`fsutil::open_beneath`], trusting only root, the user toolctl
//! runs as and the owner of what is written there; an existing directory outside the tree
//! is never chowned or chmodded (it must already be as wanted), and a new one is made with
//! `mkdirat` beneath its opened parent, its owner and mode set on its own descriptor.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::failpoint::hit;
use crate::sys::fs::{self as fsutil, DirHandle, Kind};

/// What went wrong in a journaled run. Converted into the user-facing [`Error`] (message,
/// causes, hint) by its `From` impl, at the caller's `?`.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A system call on `path` failed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The journal of an interrupted run is not one this version reads.
    #[error("the journal `{}` of an interrupted reconfigure cannot be read", path.display())]
    Damaged {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{}` has no file name", .0.display())]
    NoFileName(PathBuf),
    #[error("`{}` is not valid UTF-8", .0.display())]
    NotUtf8(PathBuf),
    /// A directory the run made or checked was gone when it was needed (`what`: "the
    /// directory of", "the parent of").
    #[error("{what} `{}` disappeared during reconfigure", path.display())]
    Disappeared { what: &'static str, path: PathBuf },
    #[error("`{}` is a directory; toolctl manages a file there", .0.display())]
    IsADirectory(PathBuf),
    /// Opening a directory beneath `--root`, or a write of the journal itself: these come
    /// with their own message and hint.
    #[error(transparent)]
    Fs(#[from] Error),
    /// The run failed; its old files were put back (`undo: None`), or putting them back
    /// failed too and the journal was kept.
    #[error("{source}")]
    Failed {
        source: Box<JournalError>,
        undo: Option<Box<JournalError>>,
        journal: PathBuf,
    },
    /// The run failed after its commit and the journal could not be marked as rolling
    /// back: it was kept as committed, so the next run completes it.
    #[error("{source}")]
    KeptCommitted {
        source: Box<JournalError>,
        journal: PathBuf,
    },
    /// Recovering an interrupted run failed; its journal was kept.
    #[error("{source}")]
    Unrecovered {
        source: Box<JournalError>,
        journal: PathBuf,
    },
}

type Result<T, E = JournalError> = std::result::Result<T, E>;

fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> JournalError {
    JournalError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl From<JournalError> for Error {
    fn from(e: JournalError) -> Error {
        match e {
            JournalError::Io {
                action,
                path,
                source,
            } => Error::io(action, &path, source),
            JournalError::Damaged {
                ref path,
                ref source,
            } => Error::new(e.to_string())
                .cause(source.to_string())
                .hint(format!(
                    "inspect `{}`: it names the temporary files and backups of the interrupted \
                     run; move it away to give up recovering that run, then run `toolctl \
                     reconfigure`",
                    path.display()
                )),
            JournalError::NotUtf8(_) => {
                Error::new(e.to_string()).hint("use UTF-8 path names in `toolctl.toml`")
            }
            JournalError::IsADirectory(ref path) => Error::new(e.to_string()).hint(format!(
                "move `{}` out of the way, then run this again; nothing was changed",
                path.display()
            )),
            JournalError::NoFileName(_) | JournalError::Disappeared { .. } => {
                Error::new(e.to_string())
            }
            JournalError::Fs(e) => e,
            JournalError::Failed {
                source, undo: None, ..
            } => Error::from(*source)
                .cause("nothing was changed: every file of this run was left as it was"),
            JournalError::Failed {
                source,
                undo: Some(undo),
                journal,
            } => Error::from(*source).cause(format!(
                "putting the old files back failed too ({}); the journal `{}` was kept and the \
                 next `toolctl reconfigure` finishes undoing it",
                Error::from(*undo),
                journal.display()
            )),
            JournalError::KeptCommitted { source, journal } => Error::from(*source).cause(format!(
                "the journal `{}` was kept: the next `toolctl reconfigure` completes the run",
                journal.display()
            )),
            JournalError::Unrecovered { source, journal } => Error::from(*source)
                .cause("the interrupted reconfigure could not be recovered; its journal was kept")
                .hint(format!(
                    "fix the cause, then run `toolctl reconfigure` again: it resumes from `{}`",
                    journal.display()
                )),
        }
    }
}

/// (uid, gid), or `None` to keep whoever runs toolctl.
type Owner = Option<(u32, u32)>;

/// A directory the run wants, with its mode and owner.
pub struct DirWant {
    pub path: PathBuf,
    pub mode: u32,
    pub owner: Option<(u32, u32)>,
}

/// A file the run writes (`content: Some`) or removes (`None`).
pub struct FileWant<'a> {
    pub target: PathBuf,
    pub content: Option<&'a [u8]>,
    pub mode: u32,
    pub owner: Option<(u32, u32)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum State {
    Prepared,
    Committed,
    RollingBack,
}

#[derive(Serialize, Deserialize)]
struct DirEntry {
    path: PathBuf,
    /// Created by this run (removed again on undo).
    #[serde(default)]
    create: bool,
    mode: u32,
    owner: Option<(u32, u32)>,
    /// For a directory that existed: what to put back on undo.
    #[serde(default)]
    old_mode: Option<u32>,
    #[serde(default)]
    old_owner: Option<(u32, u32)>,
    /// Outside the tree: the owner whose own tree may hold it (besides root). An older
    /// journal has none: its `owner` is used.
    #[serde(default)]
    trust: Owner,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    target: PathBuf,
    /// The temporary file beside the target (a file name); `None` for a removal.
    #[serde(default)]
    temp: Option<String>,
    /// The hard-link backup of the old file (a file name); `None` when there is none.
    #[serde(default)]
    backup: Option<String>,
    /// The file's owner: outside the tree, its directory may be that owner's.
    #[serde(default)]
    owner: Owner,
}

/// The journal as it is on disk (JSON, mode 0600).
#[derive(Serialize, Deserialize)]
struct Journal {
    /// What wrote it (`toolctl reconfigure`), for a human who finds the file.
    #[serde(default = "journal_kind")]
    journal: String,
    #[serde(default = "journal_version")]
    version: u32,
    state: State,
    tree: PathBuf,
    /// The `--root` directory outside paths are opened from (`None`: an older journal, or
    /// one whose only outside path is the settings file the administrator named).
    #[serde(default)]
    root: Option<PathBuf>,
    dirs: Vec<DirEntry>,
    files: Vec<FileEntry>,
    /// Where the journal itself lives (not written: it is the file's own path).
    #[serde(skip)]
    path: PathBuf,
}

fn journal_kind() -> String {
    "toolctl reconfigure".into()
}

fn journal_version() -> u32 {
    1
}

/// What [`recover`] did.
pub enum Recovered {
    /// The interrupted run had committed: it was completed.
    Completed { files: usize },
    /// It had not: every file was put back as it was.
    Undone { files: usize },
}

impl Recovered {
    /// The `recovered` key of the JSON report.
    pub fn key(&self) -> &'static str {
        match self {
            Recovered::Completed { .. } => "completed",
            Recovered::Undone { .. } => "undone",
        }
    }

    /// A sentence for the report.
    pub fn describe(&self, journal: &Path) -> String {
        match self {
            Recovered::Completed { files } => format!(
                "completed an interrupted reconfigure ({files} file(s)) from its journal `{}`",
                journal.display()
            ),
            Recovered::Undone { files } => format!(
                "undid an interrupted reconfigure ({files} file(s) left as they were) from its \
                 journal `{}`",
                journal.display()
            ),
        }
    }
}

fn name_of(path: &Path) -> Result<&OsStr> {
    path.file_name()
        .ok_or_else(|| JournalError::NoFileName(path.to_path_buf()))
}

fn parent_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("/"))
}

fn to_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| JournalError::NotUtf8(path.to_path_buf()))
}

/// A unique suffix for this run's temporary names: pid, time, counter.
fn unique(n: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{:x}-{n}", std::process::id(), nanos)
}

impl Journal {
    fn to_json(&self) -> Result<Vec<u8>> {
        // Every path must be UTF-8 (JSON strings); say which one is not, with a hint.
        to_str(&self.tree)?;
        if let Some(r) = &self.root {
            to_str(r)?;
        }
        for d in &self.dirs {
            to_str(&d.path)?;
        }
        for f in &self.files {
            to_str(&f.target)?;
        }
        Ok(serde_json::to_vec_pretty(self).expect("a journal of UTF-8 paths serialises"))
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Journal> {
        let mut j: Journal =
            serde_json::from_slice(bytes).map_err(|source| JournalError::Damaged {
                path: path.to_path_buf(),
                source,
            })?;
        for d in &mut j.dirs {
            d.trust = d.trust.or(d.owner);
        }
        j.path = path.to_path_buf();
        Ok(j)
    }

    fn save(&mut self, state: State) -> Result<()> {
        self.state = state;
        Ok(fsutil::write_atomic(&self.path, &self.to_json()?, 0o600)?)
    }

    fn remove(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove the journal", &self.path, e)),
        }
        Ok(fsutil::sync_dir(parent_of(&self.path))?)
    }

    /// The directory holding `path`, which must exist (`None` when it does not).
    fn open_parent(&self, path: &Path, trust: Owner) -> Result<Option<DirHandle>> {
        self.open_dir(parent_of(path), trust)
    }

    fn open_dir(&self, path: &Path, trust: Owner) -> Result<Option<DirHandle>> {
        let located = locate(self.root.as_deref(), &self.tree, path, trust)?;
        Ok(located.missing.is_empty().then_some(located.handle))
    }

    /// Step 4, also the recovery of a committed run: every step may already be done.
    fn roll_forward(&mut self) -> Result<()> {
        for d in self.dirs.iter().filter(|d| !d.create) {
            let Some(h) = self.open_dir(&d.path, d.trust)? else {
                continue;
            };
            h.set_self(d.mode, d.owner)
                .map_err(|e| io_err("set the mode and owner of", &d.path, e))?;
            hit("reconfigure-dir-fixed");
        }
        let mut parents: BTreeMap<PathBuf, DirHandle> = BTreeMap::new();
        for f in &self.files {
            let dir = parent_of(&f.target).to_path_buf();
            if !parents.contains_key(&dir) {
                match self.open_parent(&f.target, f.owner)? {
                    Some(h) => parents.insert(dir.clone(), h),
                    None if f.temp.is_none() => continue,
                    None => {
                        return Err(JournalError::Disappeared {
                            what: "the directory of",
                            path: f.target.to_path_buf(),
                        })
                    }
                };
            }
            let h = &parents[&dir];
            let name = name_of(&f.target)?;
            match &f.temp {
                Some(temp) => {
                    if h.lstat(OsStr::new(temp))
                        .map_err(|e| io_err("look at", &dir.join(temp), e))?
                        .is_some()
                    {
                        h.rename(OsStr::new(temp), name)
                            .map_err(|e| io_err("replace", &f.target, e))?;
                    }
                    hit("reconfigure-file-renamed");
                }
                None => {
                    match h.unlink(name) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err("remove", &f.target, e)),
                    }
                    hit("reconfigure-file-removed");
                }
            }
        }
        for (dir, h) in &parents {
            h.sync().map_err(|e| io_err("sync directory", dir, e))?;
        }
        hit("reconfigure-files-synced");
        for f in &self.files {
            if let (Some(backup), Some(h)) = (&f.backup, parents.get(parent_of(&f.target))) {
                match h.unlink(OsStr::new(backup)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(io_err(
                            "remove the backup",
                            &parent_of(&f.target).join(backup),
                            e,
                        ))
                    }
                }
            }
        }
        for (dir, h) in &parents {
            h.sync().map_err(|e| io_err("sync directory", dir, e))?;
        }
        hit("reconfigure-backups-removed");
        self.remove()?;
        hit("reconfigure-journal-removed");
        Ok(())
    }

    /// Puts every old file back; `started` says whether targets may have been replaced
    /// (state committed or rolling-back), so that a new file may be removed again.
    fn roll_back(&mut self, started: bool) -> Result<()> {
        let ignore_missing = |r: std::io::Result<()>, what: &'static str, p: &Path| match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(what, p, e)),
        };
        for f in self.files.iter().rev() {
            let dir = parent_of(&f.target);
            let Some(h) = self.open_parent(&f.target, f.owner)? else {
                continue;
            };
            let name = name_of(&f.target)?;
            match &f.backup {
                Some(backup) => {
                    let bpath = dir.join(backup);
                    if h.lstat(OsStr::new(backup))
                        .map_err(|e| io_err("look at", &bpath, e))?
                        .is_some()
                    {
                        // When the target still is the same file, rename does nothing and
                        // the backup stays: remove it then.
                        h.rename(OsStr::new(backup), name)
                            .map_err(|e| io_err("put back", &f.target, e))?;
                        ignore_missing(h.unlink(OsStr::new(backup)), "remove the backup", &bpath)?;
                    }
                }
                None if started && f.temp.is_some() => {
                    ignore_missing(h.unlink(name), "remove", &f.target)?;
                }
                None => {}
            }
            if let Some(temp) = &f.temp {
                ignore_missing(h.unlink(OsStr::new(temp)), "remove", &dir.join(temp))?;
            }
            h.sync().map_err(|e| io_err("sync directory", dir, e))?;
            hit("reconfigure-file-restored");
        }
        for d in self.dirs.iter().filter(|d| !d.create) {
            if let (Some(mode), Some(h)) = (d.old_mode, self.open_dir(&d.path, d.trust)?) {
                h.set_self(mode, d.old_owner)
                    .map_err(|e| io_err("put back the mode and owner of", &d.path, e))?;
            }
        }
        for d in self.dirs.iter().rev().filter(|d| d.create) {
            let Some(h) = self.open_parent(&d.path, d.trust)? else {
                continue;
            };
            match h.rmdir(name_of(&d.path)?) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Something else was put there meanwhile: keep it.
                Err(e) if e.raw_os_error() == Some(super::errno::ENOTEMPTY) => {}
                Err(e) => return Err(io_err("remove the directory", &d.path, e)),
            }
            h.sync()
                .map_err(|e| io_err("sync directory", parent_of(&d.path), e))?;
        }
        self.remove()
    }
}

/// Completes or undoes the run an interrupted journal at `journal` describes. The caller
/// holds the writers' lock. `Ok(None)` when there is no journal.
pub fn recover(journal: &Path) -> Result<Option<Recovered>> {
    let Some(bytes) = fsutil::read_optional_capped(journal, fsutil::FILE_CAP, "the journal")?
    else {
        return Ok(None);
    };
    let mut j = Journal::parse(journal, &bytes)?;
    let files = j.files.len();
    let undo_hint = |e: JournalError| JournalError::Unrecovered {
        source: Box::new(e),
        journal: journal.to_path_buf(),
    };
    match j.state {
        State::Committed => {
            j.roll_forward().map_err(undo_hint)?;
            Ok(Some(Recovered::Completed { files }))
        }
        State::Prepared => {
            j.roll_back(false).map_err(undo_hint)?;
            Ok(Some(Recovered::Undone { files }))
        }
        State::RollingBack => {
            j.roll_back(true).map_err(undo_hint)?;
            Ok(Some(Recovered::Undone { files }))
        }
    }
}

/// The mode of a directory made only to hold a file: private when the file is.
fn holder_mode(file_mode: u32) -> u32 {
    if file_mode & 0o044 == 0 {
        0o700
    } else {
        0o755
    }
}

/// Writes `files` and `dirs` all or nothing, journaled at `journal`. `tree` is the root of
/// the tree whose directories are never followed through a symlink. The caller holds the
/// writers' lock and has recovered any earlier journal.
pub fn apply(journal: &Path, tree: &Path, dirs: &[DirWant], files: &[FileWant]) -> Result<()> {
    apply_in(journal, None, tree, dirs, files)
}

/// [`apply`] for a tree below the `--root` directory `root`, with directories outside the
/// tree (GitLab's encrypted settings, mail_room's log directories): those are opened from
/// `root` without following a link, through directories only root, the user toolctl runs
/// as or the owner of what goes there can change; an existing one must already have its
/// mode and owner (never chowned or chmodded), a missing one is created beneath its opened
/// parent.
pub fn apply_rooted(
    journal: &Path,
    root: &Path,
    tree: &Path,
    dirs: &[DirWant],
    files: &[FileWant],
) -> Result<()> {
    apply_in(journal, Some(root), tree, dirs, files)
}

fn apply_in(
    journal: &Path,
    root: Option<&Path>,
    tree: &Path,
    dirs: &[DirWant],
    files: &[FileWant],
) -> Result<()> {
    if files.is_empty() && dirs.is_empty() {
        return Ok(());
    }
    let mut j = plan(journal, root, tree, dirs, files)?;
    if j.dirs.is_empty() && j.files.is_empty() {
        return Ok(());
    }
    j.save(State::Prepared)?;
    hit("reconfigure-journal-prepared");
    if let Err(e) = prepare(&j, files) {
        return Err(undo_after(&mut j, e, false));
    }
    j.save(State::Committed)
        .map_err(|e| undo_after(&mut j, e, false))?;
    hit("reconfigure-journal-committed");
    if let Err(e) = j.roll_forward() {
        if j.save(State::RollingBack).is_err() {
            return Err(JournalError::KeptCommitted {
                source: Box::new(e),
                journal: journal.to_path_buf(),
            });
        }
        return Err(undo_after(&mut j, e, true));
    }
    Ok(())
}

/// The error of a failed run, after the old files were put back.
fn undo_after(j: &mut Journal, e: JournalError, started: bool) -> JournalError {
    JournalError::Failed {
        source: Box::new(e),
        undo: j.roll_back(started).err().map(Box::new),
        journal: j.path.clone(),
    }
}

/// Where a directory is: inside `tree` as [`fsutil::locate_dir`] finds it; outside it,
/// opened from `root` with [`fsutil::open_beneath`], trusting root, the user toolctl runs
/// as and `trust` (without a root: as given, for the settings file an import writes).
fn locate(root: Option<&Path>, tree: &Path, dir: &Path, trust: Owner) -> Result<fsutil::Located> {
    match root {
        Some(root) if !dir.starts_with(tree) => Ok(fsutil::open_beneath(
            root,
            dir,
            &fsutil::trusted_for(trust),
        )?),
        _ => Ok(fsutil::locate_dir(tree, dir)?),
    }
}

/// Step 1: what will be created, written, backed up.
fn plan(
    journal: &Path,
    root: Option<&Path>,
    tree: &Path,
    dirs: &[DirWant],
    files: &[FileWant],
) -> Result<Journal> {
    // Every directory wanted: the explicit ones, then each file's own (private when the
    // file is); missing ancestors get 0755.
    // path → (mode, owner, listed in the plan rather than implied by a file, whose tree
    // may hold it)
    let mut wanted: BTreeMap<PathBuf, (u32, Owner, bool, Owner)> = BTreeMap::new();
    for d in dirs {
        wanted.insert(d.path.clone(), (d.mode, d.owner, true, d.owner));
    }
    for f in files.iter().filter(|f| f.content.is_some()) {
        wanted.entry(parent_of(&f.target).to_path_buf()).or_insert((
            holder_mode(f.mode),
            None,
            false,
            f.owner,
        ));
    }
    let mut entries: BTreeMap<PathBuf, DirEntry> = BTreeMap::new();
    for (path, (mode, owner, explicit, trust)) in &wanted {
        let outside = root.filter(|_| !path.starts_with(tree));
        let located = match outside {
            // Never chowned nor chmodded: an existing one must already be right.
            Some(root) if *explicit => fsutil::open_outside_dir(root, path, *mode, *owner)?,
            _ => locate(root, tree, path, *trust)?,
        };
        if located.missing.is_empty() {
            if *explicit && outside.is_none() {
                let st = located
                    .handle
                    .stat_self()
                    .map_err(|e| io_err("look at", path, e))?;
                let owner_differs = owner.is_some_and(|o| o != (st.uid, st.gid));
                if st.mode != *mode || owner_differs {
                    entries.insert(
                        path.clone(),
                        DirEntry {
                            path: path.clone(),
                            create: false,
                            mode: *mode,
                            owner: *owner,
                            old_mode: Some(st.mode),
                            old_owner: Some((st.uid, st.gid)),
                            trust: *trust,
                        },
                    );
                }
            }
            continue;
        }
        let mut p = located.handle.path.clone();
        for name in &located.missing {
            p.push(name);
            let (m, o, t) = match wanted.get(&p) {
                Some((m, o, _, t)) => (*m, *o, t.or(*trust)),
                None => (0o755, None, *trust),
            };
            entries.entry(p.clone()).or_insert(DirEntry {
                path: p.clone(),
                create: true,
                mode: m,
                owner: o,
                old_mode: None,
                old_owner: None,
                trust: t,
            });
        }
    }
    let created: Vec<PathBuf> = entries
        .values()
        .filter(|d| d.create)
        .map(|d| d.path.clone())
        .collect();

    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let name = name_of(&f.target)?;
        let dir = parent_of(&f.target);
        let exists = if created.iter().any(|c| c == dir) {
            None
        } else {
            match locate(root, tree, dir, f.owner)? {
                l if !l.missing.is_empty() => None,
                l => l
                    .handle
                    .lstat(name)
                    .map_err(|e| io_err("look at", &f.target, e))?,
            }
        };
        if exists.is_some_and(|st| st.kind == Kind::Dir) {
            return Err(JournalError::IsADirectory(f.target.clone()));
        }
        if f.content.is_none() && exists.is_none() {
            continue;
        }
        let prefix = fsutil::temp_prefix(name);
        out.push(FileEntry {
            target: f.target.clone(),
            temp: f
                .content
                .map(|_| format!("{prefix}{}{}", unique(i), fsutil::TEMP_SUFFIX)),
            backup: exists.map(|_| format!("{prefix}{}.old{}", unique(i), fsutil::TEMP_SUFFIX)),
            owner: f.owner,
        });
    }
    Ok(Journal {
        journal: journal_kind(),
        version: journal_version(),
        path: journal.to_path_buf(),
        tree: tree.to_path_buf(),
        root: root.map(Path::to_path_buf),
        state: State::Prepared,
        dirs: entries.into_values().collect(),
        files: out,
    })
}

/// Step 2: directories, temporaries, backups, all fsynced.
fn prepare(j: &Journal, files: &[FileWant]) -> Result<()> {
    for d in j.dirs.iter().filter(|d| d.create) {
        let parent = j
            .open_parent(&d.path, d.trust)?
            .ok_or_else(|| JournalError::Disappeared {
                what: "the parent of",
                path: d.path.to_path_buf(),
            })?;
        let name = name_of(&d.path)?;
        parent
            .create_dir_owned(name, d.mode, d.owner)
            .map_err(|e| io_err("create directory", &d.path, e))?;
        parent
            .sync()
            .map_err(|e| io_err("sync directory", &parent.path, e))?;
        hit("reconfigure-dir-created");
    }
    let mut parents: BTreeMap<PathBuf, DirHandle> = BTreeMap::new();
    for entry in &j.files {
        let want = files
            .iter()
            .find(|f| f.target == entry.target)
            .expect("every journal entry comes from a wanted file");
        let dir = parent_of(&entry.target).to_path_buf();
        if !parents.contains_key(&dir) {
            let h = j.open_parent(&entry.target, entry.owner)?.ok_or_else(|| {
                JournalError::Disappeared {
                    what: "the directory of",
                    path: entry.target.to_path_buf(),
                }
            })?;
            parents.insert(dir.clone(), h);
        }
        let h = &parents[&dir];
        if let (Some(temp), Some(bytes)) = (&entry.temp, want.content) {
            h.create_file(OsStr::new(temp), bytes, want.mode, want.owner)
                .map_err(|e| io_err("write", &entry.target, e))?;
            hit("reconfigure-temp-written");
        }
        if let Some(backup) = &entry.backup {
            // A hard link cannot be made to an immutable or append-only file: such a
            // file stops the run here, before anything changed.
            let action = if entry.temp.is_some() {
                "replace"
            } else {
                "remove"
            };
            h.link(name_of(&entry.target)?, OsStr::new(backup))
                .map_err(|e| io_err(action, &entry.target, e))?;
            hit("reconfigure-backup-linked");
        }
    }
    for (dir, h) in &parents {
        h.sync().map_err(|e| io_err("sync directory", dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// A tree with `a` (old), `b` (stale) and the journal beside it.
    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("rendered");
        std::fs::create_dir(&tree).unwrap();
        std::fs::write(tree.join("a"), "old a").unwrap();
        std::fs::write(tree.join("b"), "old b").unwrap();
        let journal = tmp.path().join("rendered.journal");
        (tmp, tree, journal)
    }

    fn wants(tree: &Path) -> Vec<FileWant<'static>> {
        vec![
            FileWant {
                target: tree.join("a"),
                content: Some(b"new a"),
                mode: 0o640,
                owner: None,
            },
            FileWant {
                target: tree.join("sub/c"),
                content: Some(b"new c"),
                mode: 0o600,
                owner: None,
            },
            FileWant {
                target: tree.join("b"),
                content: None,
                mode: 0,
                owner: None,
            },
        ]
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failure_after_the_commit_puts_every_old_file_back() {
        let (_tmp, tree, journal) = setup();
        let files = wants(&tree);
        let mut j = plan(&journal, None, &tree, &[], &files).unwrap();
        j.save(State::Prepared).unwrap();
        prepare(&j, &files).unwrap();
        j.save(State::Committed).unwrap();
        // Part of step 4 ran (the first rename and the removal), then the run failed.
        let a = &j.files[0];
        DirHandle::open(&tree)
            .unwrap()
            .rename(OsStr::new(a.temp.as_ref().unwrap()), OsStr::new("a"))
            .unwrap();
        std::fs::remove_file(tree.join("b")).unwrap();
        assert_eq!(std::fs::read_to_string(tree.join("a")).unwrap(), "new a");
        j.save(State::RollingBack).unwrap();
        // A crash during the undo: the next run's recovery finishes it.
        let got = recover(&journal).unwrap();
        assert!(matches!(got, Some(Recovered::Undone { files: 3 })));
        assert_eq!(std::fs::read_to_string(tree.join("a")).unwrap(), "old a");
        assert_eq!(std::fs::read_to_string(tree.join("b")).unwrap(), "old b");
        assert_eq!(
            names(&tree),
            ["a", "b"],
            "temporaries, backups or sub/ left"
        );
        assert!(!journal.exists());
    }

    #[test]
    fn directories_inside_and_outside_the_tree_get_their_mode_and_owner() {
        let (tmp, tree, journal) = setup();
        let log = tmp.path().join("log/toolctl/mailroom");
        std::fs::create_dir(tree.join("fixme")).unwrap();
        std::fs::set_permissions(tree.join("fixme"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        let root = crate::sys::users::euid() == 0;
        let owner = root.then_some((65534, 65534));
        let dirs = [
            DirWant {
                path: log.clone(),
                mode: 0o750,
                owner,
            },
            DirWant {
                path: tree.join("fixme"),
                mode: 0o700,
                owner: None,
            },
        ];
        let files = [FileWant {
            target: tree.join("owned"),
            content: Some(b"x"),
            mode: 0o600,
            owner,
        }];
        apply(&journal, &tree, &dirs, &files).unwrap();
        assert_eq!(mode(&log), 0o750);
        assert_eq!(mode(log.parent().unwrap()), 0o755);
        assert_eq!(mode(&tree.join("fixme")), 0o700);
        assert_eq!(mode(&tree.join("owned")), 0o600);
        if let Some((uid, gid)) = owner {
            let m = std::fs::metadata(&log).unwrap();
            assert_eq!((m.uid(), m.gid()), (uid, gid));
            let m = std::fs::metadata(tree.join("owned")).unwrap();
            assert_eq!((m.uid(), m.gid()), (uid, gid));
        }
        assert!(!journal.exists());
        // Nothing left to do: no journal is even written.
        apply(&journal, &tree, &dirs, &files[..0]).unwrap();
        assert!(!journal.exists());
    }

    #[test]
    fn an_undone_prepare_removes_the_directories_it_created() {
        let (tmp, tree, journal) = setup();
        let log = tmp.path().join("log/mailroom");
        let dirs = [DirWant {
            path: log.clone(),
            mode: 0o750,
            owner: None,
        }];
        let files = wants(&tree);
        let mut j = plan(&journal, None, &tree, &dirs, &files).unwrap();
        j.save(State::Prepared).unwrap();
        prepare(&j, &files).unwrap();
        assert!(log.is_dir() && tree.join("sub").is_dir());
        assert!(matches!(
            recover(&journal).unwrap(),
            Some(Recovered::Undone { .. })
        ));
        assert!(!tmp.path().join("log").exists());
        assert_eq!(names(&tree), ["a", "b"]);
        assert_eq!(std::fs::read_to_string(tree.join("a")).unwrap(), "old a");
    }

    /// A journal as the hand-written serialiser of earlier versions wrote it (no `trust`,
    /// no `root`) still reads, and one written now has the same keys.
    #[test]
    fn the_on_disk_format_is_unchanged() {
        let old = br#"{
  "journal": "toolctl reconfigure", "version": 1, "state": "rolling-back",
  "tree": "/t", "dirs": [{"path": "/t/d", "create": true, "mode": 448,
    "owner": [1, 2], "old_mode": null, "old_owner": null}],
  "files": [{"target": "/t/a", "temp": ".toolctl-a.1.tmp", "backup": null, "owner": null}]
}"#;
        let j = Journal::parse(Path::new("/j"), old).unwrap();
        assert_eq!(j.state, State::RollingBack);
        assert_eq!(
            j.dirs[0].trust,
            Some((1, 2)),
            "trust falls back to the owner"
        );
        assert_eq!(j.files[0].temp.as_deref(), Some(".toolctl-a.1.tmp"));
        assert!(j.root.is_none());
        let v: serde_json::Value = serde_json::from_slice(&j.to_json().unwrap()).unwrap();
        assert_eq!(v["state"], "rolling-back");
        assert_eq!(v["journal"], "toolctl reconfigure");
        assert_eq!(v["dirs"][0]["owner"], serde_json::json!([1, 2]));
        let bad = Journal::parse(Path::new("/j"), br#"{"state": "half-done"}"#);
        assert!(bad.is_err());
    }
}
