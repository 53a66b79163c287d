//! `mattermost restore`: all-or-nothing, with a journal for the kill it cannot catch.
//!
//! The order (DESIGN: the live state is the old one or the restored one, never a mix):
//!
//! 1. the journal (`var/opt/toolctl/mattermost-restore.json`) names every staged path and
//!    database before anything is created;
//! 2. the archive is checked in full (every checksum against the manifest) while it is
//!    extracted into a staging directory beside `data/` (one read); a damaged one is
//!    refused and the staging removed; `config.json` is staged beside the live one (so the
//!    later renames stay on one filesystem);
//! 3. refused while sessions are connected to the live database (`--force-disconnect`
//!    terminates them);
//! 4. the dump is restored into a new database `<name>_toolctl_restore_<time>`
//!    (`pg_restore --single-transaction --exit-on-error`);
//! 5. the journal records `staged`; then **the commit point**: one transaction renames the
//!    live database to `<name>_before_restore_<time>` and the new one to the live name;
//! 6. files: the live `data/` moves aside, the staged one in, the staged `config.json`
//!    replaces the live one; then the old `data/`, the staging directory and the journal
//!    are removed. The old database is kept until the operator drops it.
//!
//! Recovery reads the journal: while the new database still exists under its staging
//! name the swap never committed, so everything staged is removed (rolled back); once it
//! is gone the swap committed, so the file steps are finished (rolled forward). Every
//! file step checks what exists first, so a recovery killed in turn can run again.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::archive::{self, Damage};
use super::pg::{ident, literal};
use super::{DataSource, Target};
use crate::error::Error;

pub type Result<T, E = RestoreError> = std::result::Result<T, E>;

/// What can stop a restore or its recovery, as data; `From<RestoreError> for Error` below
/// writes the messages and hints.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A file or directory that cannot be created, looked at, moved or removed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The staging directory is not the one toolctl made.
    #[error("`{}` is not the staging directory toolctl created (owner uid {uid}, mode {mode:04o})", path.display())]
    NotStaging { path: PathBuf, uid: u32, mode: u32 },
    /// The staging directory vanished right after it was made.
    #[error("`{}` disappeared", path.display())]
    StagingGone { path: PathBuf },
    /// The journal does not parse.
    #[error("the restore journal `{}` is damaged", path.display())]
    JournalDamaged { path: PathBuf },
    /// Recovery needs the database, which failed.
    #[error("{source}")]
    NeedsDatabase { source: Box<RestoreError> },
    /// config.json was replaced while it was written.
    #[error("`{}` was replaced while toolctl wrote it", staged.display())]
    ConfigReplaced { staged: PathBuf },
    /// Something recreated data/ during the restore.
    #[error("cannot move the restored data into `{}`", data_path.display())]
    DataRecreated {
        data_path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The data directory comes from config.json, which never picks what root replaces.
    #[error("`mattermost restore` replaces Mattermost's data directory, and the settings do not name it")]
    DataDirUnnamed {
        config_directory: Option<String>,
        data_logical: String,
    },
    /// Sessions are connected to the live database.
    #[error("{} session(s) are connected to `{live}`; nothing was changed", sessions.len())]
    Connected { live: String, sessions: Vec<String> },
    /// `--force-disconnect`, but some sessions belong to roles the Mattermost role may not
    /// signal (a superuser's, another role's).
    #[error("{} session(s) connected to `{live}` cannot be terminated by the role `{role}`; nothing was changed", sessions.len())]
    Unterminable {
        live: String,
        role: String,
        sessions: Vec<String>,
    },
    /// A role lacks a grant the restore needs.
    #[error(transparent)]
    Grant(#[from] super::pg::Grant),
    /// The database-level properties of the dump could not be applied to the new database.
    #[error("cannot give the restored database the settings, comment and privileges of the archived one")]
    Properties(#[source] super::pg::PgError),
    /// A step failed and the restore was rolled back (`rollback`: why that failed too;
    /// `said`: the hint says nothing was changed).
    #[error("{source}")]
    RolledBack {
        source: Box<RestoreError>,
        rollback: Option<Box<RestoreError>>,
        said: bool,
    },
    /// Switching the databases failed.
    #[error("{source}")]
    SwitchFailed {
        source: super::pg::PgError,
        rollback: Option<Box<RestoreError>>,
    },
    /// No random bytes for a name.
    #[error("cannot read random bytes")]
    Random(#[source] std::io::Error),
    /// The archive does not fit beside the data directory.
    #[error("`{}` does not fit", path.display())]
    NoSpace {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The archive cannot be read.
    #[error("cannot read `{}`", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The archive is damaged or not a backup (`why`).
    #[error("`{}` cannot be restored", path.display())]
    Bad { path: PathBuf, why: String },
    /// The archive names another data directory than the settings.
    #[error("`{}` names another data directory than the settings (`{data_logical}`, from {source_text})", path.display())]
    OtherDirectory {
        path: PathBuf,
        data_logical: String,
        source_text: &'static str,
        why: String,
    },
    /// Something the file steps must rename cannot be renamed (`why`); found before the
    /// database is touched.
    #[error("`{}` cannot be replaced: {why}", path.display())]
    Immovable { path: PathBuf, why: &'static str },
    /// The renameability probe failed (before the database is touched).
    #[error("cannot rename a directory into `{}`", path.parent().unwrap_or(path).display())]
    NotRenameable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another user exchanged entries in `dir` while toolctl checked it.
    #[error("another user exchanged entries in `{}` during the restore", dir.display())]
    Exchanged { dir: PathBuf },
    /// data/ is a symbolic link whose target cannot be used.
    #[error("Mattermost's data directory `{}` is a symbolic link to `{}`, which {why}", link.display(), target.display())]
    LinkTarget {
        link: PathBuf,
        target: PathBuf,
        why: &'static str,
    },
    /// data/ is a link another user could have made, to a directory that is not theirs.
    #[error("Mattermost's data directory `{}` is a symbolic link to `{}`, owned by another user than the link's directory", link.display(), target.display())]
    LinkUntrusted {
        link: PathBuf,
        target: PathBuf,
        link_owner: u32,
        target_owner: u32,
    },
    /// A file step after the commit point failed, and the restore was undone.
    #[error("{source}")]
    Undone { source: Box<RestoreError> },
    /// Undoing failed too (`source`: what made the undo necessary, if this run saw it).
    #[error("cannot undo the restore: {undo}")]
    UndoFailed {
        source: Option<Box<RestoreError>>,
        undo: Box<RestoreError>,
    },
    /// The restore is complete, but its staging directory could not be removed.
    #[error("the restore is complete, but its staging directory `{}` could not be removed", staging.display())]
    CleanupFailed {
        staging: PathBuf,
        source: Box<RestoreError>,
    },
    /// Sessions reconnected to the restored database before it could be renamed back.
    #[error("{} session(s) are connected to the restored database `{live}`, which must be renamed back", sessions.len())]
    UndoBlocked { live: String, sessions: Vec<String> },
    /// The database kept aside is gone, so the restore cannot be undone.
    #[error("the database before the restore, `{old}`, no longer exists, so `{live}` cannot be put back")]
    PreviousGone { live: String, old: String },
    /// The data source.
    #[error(transparent)]
    Pg(#[from] super::pg::PgError),
    /// A failure of the file primitives (`sys`), already told for a person.
    #[error(transparent)]
    Told(#[from] Error),
}

/// The hint after an undone restore: the state, then what to do about the cause.
fn undone_hint(cause: &Error) -> String {
    let what = match cause.hint_text() {
        Some(h) => format!(
            "{}, then run the restore again",
            h.trim_end_matches(" and run it again")
                .trim_end_matches(", then run this again")
        ),
        None => "fix the cause above (`EBUSY`: something holds the entry, such as a mount point or a process's working directory), then run the restore again".into(),
    };
    format!("the restore was undone: the database and Mattermost's files are the ones before the restore; {what}")
}

impl From<RestoreError> for Error {
    fn from(e: RestoreError) -> Self {
        let message = e.to_string();
        match e {
            RestoreError::Io {
                action,
                path,
                source,
            } => Error::io(action, &path, source),
            RestoreError::NotStaging { path, .. } => Error::new(message).hint(format!(
                "another user replaced it: inspect `{}` and remove it by hand, then run the command again",
                path.display()
            )),
            RestoreError::StagingGone { .. } => Error::new(message),
            RestoreError::JournalDamaged { .. } => Error::new(message)
                .hint("inspect the databases and Mattermost's files by hand, then remove the journal"),
            RestoreError::NeedsDatabase { source } => Error::from(*source).hint("an interrupted restore must be finished or rolled back first, and that needs the database: start PostgreSQL and run the command again"),
            RestoreError::ConfigReplaced { .. } => Error::new(message).hint("another user changes Mattermost's config directory: find out who, then run any `toolctl mattermost` command to finish the restore"),
            RestoreError::DataRecreated { data_path, source } => {
                Error::io("move the restored data into", &data_path, source).hint(format!(
                    "something recreated `{}` during the restore; move it away, then run any `toolctl mattermost` command to finish the restore",
                    data_path.display()
                ))
            }
            RestoreError::DataDirUnnamed {
                config_directory,
                data_logical,
            } => Error::new(message)
                .cause(format!(
                    "config.json says `{}`, but toolctl never lets config.json (which the Mattermost user can write, and which an archive brings) decide which directory root replaces",
                    config_directory.as_deref().unwrap_or("./data/")
                ))
                .hint(format!(
                    "if that is the directory, run `toolctl config set mattermost.data_dir {data_logical}` (it is then also rendered as MM_FILESETTINGS_DIRECTORY); nothing was changed"
                )),
            RestoreError::Connected { sessions, .. } => {
                let mut e = Error::new(message);
                for s in &sessions {
                    e = e.cause(s);
                }
                e.hint("stop Mattermost (`systemctl stop mattermost` or `gitlab-ctl stop mattermost`) and run the restore again, or pass `--force-disconnect` to terminate these sessions")
            }
            RestoreError::RolledBack {
                source,
                rollback,
                said,
            } => {
                // A full server disk keeps its own hint (which says nothing was changed).
                let own_hint = matches!(
                    &*source,
                    RestoreError::Pg(super::pg::PgError::Child {
                        kind: super::pg::ChildFailure::NoSpace,
                        ..
                    })
                );
                let e = Error::from(*source);
                match rollback {
                    Some(r) => e.cause(format!("and rolling back failed: {}", Error::from(*r))),
                    None if said && own_hint => e,
                    None if said => e.hint(
                        "nothing was changed: the live database and files are as they were",
                    ),
                    None => e,
                }
            }
            RestoreError::SwitchFailed { source, rollback } => {
                let e = Error::from(source).cause("switching the databases failed");
                match rollback {
                    None => e.hint("nothing was changed: stop Mattermost (it may have reconnected) and run the restore again"),
                    Some(r) => e.cause(format!("and rolling back failed: {}", Error::from(*r))),
                }
            }
            RestoreError::Unterminable { sessions, role, .. } => {
                let mut e = Error::new(message);
                for s in &sessions {
                    e = e.cause(s);
                }
                e.hint(format!(
                    "they belong to a superuser or to a role `{role}` has no rights over (`--force-disconnect` terminates only the sessions that role may terminate): stop those clients, or end them as a superuser (`SELECT pg_terminate_backend(PID)`), then run the restore again"
                ))
            }
            RestoreError::Grant(g) => g.into(),
            RestoreError::Properties(source) => {
                let e = Error::from(source);
                let mut out = Error::new(message);
                out = out.cause(e.message());
                for c in e.causes() {
                    out = out.cause(c);
                }
                out.hint("the Mattermost role runs them (`ALTER DATABASE … SET`, `ALTER ROLE … IN DATABASE … SET`, `GRANT … ON DATABASE`, `COMMENT ON DATABASE`): give it what the cause says is missing (a role named in a grant must exist; another role's per-database settings need CREATEROLE), then run the restore again; nothing was changed")
            }
            RestoreError::Random(source) => Error::new(message).cause(source),
            RestoreError::NoSpace { source, .. } => Error::new(message)
                .cause(source)
                .hint("nothing was changed; free space beside Mattermost's data directory, then run the restore again"),
            RestoreError::Unreadable { path, source } => Error::io("read", &path, source).hint(
                "nothing was changed; give the path of an archive `toolctl mattermost backup` wrote",
            ),
            RestoreError::Bad { why, .. } => Error::new(message)
                .cause(why)
                .hint("nothing was changed; restore another archive (`toolctl mattermost backup --verify ARCHIVE` checks one)"),
            RestoreError::OtherDirectory { why, .. } => Error::new(message)
                .cause(why)
                .hint("nothing was changed; a path in an archive is never used to pick the directory: if the archive is right, set `mattermost.data_dir` (`toolctl config set mattermost.data_dir PATH`), else restore another archive"),
            RestoreError::Immovable { path, .. } => Error::new(message).hint(format!(
                "nothing was changed; toolctl renames Mattermost's files into place: make `{}` an ordinary entry (unmount it, or `chattr -i -a` it), then run the restore again",
                path.display()
            )),
            RestoreError::NotRenameable { path, source } => Error::new(message)
                .cause(source)
                .cause(format!("toolctl tried to rename a directory of its own to `{}` and back", path.display()))
                .hint("nothing was changed; the file steps after the database switch rename entries there, so fix what refuses it (a read-only mount, an immutable directory, a security module), then run the restore again"),
            RestoreError::Exchanged { dir } => Error::new(message).hint(format!(
                "nothing was changed; find out who changes `{}` (Mattermost must be stopped during a restore), then run the restore again",
                dir.display()
            )),
            RestoreError::LinkTarget { .. } => Error::new(message).hint(
                "nothing was changed; point the link at the directory that holds Mattermost's files (or set `mattermost.data_dir` to that directory), then run the restore again",
            ),
            RestoreError::LinkUntrusted {
                link_owner,
                target_owner,
                ..
            } => Error::new(message)
                .cause(format!(
                    "the link's directory is {}'s, the target is {}'s: toolctl replaces the contents of a linked directory only when root made the link or the link's owner owns the target",
                    crate::sys::users::describe_uid(link_owner),
                    crate::sys::users::describe_uid(target_owner)
                ))
                .hint("nothing was changed; set `mattermost.data_dir` to the real directory (`toolctl config set mattermost.data_dir PATH`), then run the restore again"),
            RestoreError::Undone { source } => {
                let e = Error::from(*source);
                let hint = undone_hint(&e);
                e.hint(hint)
            }
            RestoreError::UndoFailed { source, undo } => {
                let u = Error::from(*undo);
                let mut e = Error::new(message);
                if let Some(s) = source {
                    e = e.cause(format!("it was needed because: {}", Error::from(*s)));
                }
                let then = u.hint_text().map(str::to_string);
                let mut e = u.causes().iter().fold(e, |e, c| e.cause(c));
                e = e.hint(format!(
                    "{}the journal `{}` keeps the state: run any `toolctl mattermost` command to continue undoing",
                    then.map(|h| format!("{h}; ")).unwrap_or_default(),
                    Path::new(super::STATE_DIR).join(JOURNAL).display()
                ));
                e
            }
            RestoreError::CleanupFailed { staging, source } => {
                let e = Error::from(*source);
                Error::new(message).cause(e.message().to_string()).hint(format!(
                    "Mattermost's database and files are the restored ones; `{}` holds the previous data/ (root's, 0700): remove it when you no longer need it (`rm -r`)",
                    staging.display()
                ))
            }
            RestoreError::UndoBlocked { sessions, .. } => {
                let mut e = Error::new(message);
                for s in &sessions {
                    e = e.cause(s);
                }
                e.hint("stop Mattermost (`systemctl stop mattermost` or `gitlab-ctl stop mattermost`), then run any `toolctl mattermost` command to finish undoing the restore")
            }
            RestoreError::PreviousGone { .. } => Error::new(message).hint(
                "the database is the restored one and data/ is the old one: restore the archive again to match them, or the previous database from your own backup",
            ),
            RestoreError::Pg(e) => e.into(),
            RestoreError::Told(e) => e,
        }
    }
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> RestoreError + 'a {
    move |source| RestoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
use crate::failpoint::hit;
use crate::sys::fs::{DirHandle, Trusted};

mod files;

pub const JOURNAL: &str = "mattermost-restore.json";

/// The staging directory's name in data/'s parent: this and 16 random hex digits.
const STAGING_PREFIX: &str = ".toolctl-restore-";
/// The old data/ inside the staging directory, between the swap and the cleanup.
const OLD_DATA: &str = "old-data";

/// Whether the entry `name` of data/ (`st`) is a staging directory of a restore (the
/// one inside a mounted data/): a directory of the user toolctl runs as, mode 0700, with
/// the staging prefix. Backup skips it.
pub fn is_staging_raw(name: &OsStr, mode: u32, uid: u32) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    name.as_bytes().starts_with(STAGING_PREFIX.as_bytes())
        && mode & 0o170000 == 0o040000
        && uid == crate::sys::users::euid()
        && mode & 0o7777 == 0o700
}

/// The same test on a `Stat`.
pub fn is_staging(name: &OsStr, st: &crate::sys::fs::Stat) -> bool {
    st.kind == crate::sys::fs::Kind::Dir && is_staging_raw(name, 0o040000 | st.mode, st.uid)
}

/// The journal's record of a restore in progress. Paths are only where to start the
/// walk (from the root, never following a link); everything is then done by name relative
/// to an opened directory. On disk: a JSON object (serde), `"format": 2` beside the fields,
/// as earlier versions wrote it by hand; a name that is empty, `.`, `..` or holds a `/`
/// makes the journal damaged.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Journal {
    phase: String,
    live: String,
    new_db: String,
    old_db: String,
    /// data/'s parent directory.
    data_parent: PathBuf,
    #[serde(with = "name")]
    data_name: OsString,
    /// The root-owned 0700 staging directory, by name in `data_parent`.
    #[serde(with = "name")]
    staging: OsString,
    /// config.json's directory and name, and the name of its staged copy there.
    config_dir: PathBuf,
    #[serde(with = "name")]
    config_name: OsString,
    #[serde(with = "name")]
    staged_config: OsString,
    /// `whole` (data/ renamed as a whole, the staging directory in `data_parent`) or
    /// `contents` (data/ is the root of a mount: the staging directory is inside it and
    /// data/'s entries move one by one); see [`files`].
    #[serde(default = "whole")]
    layout: String,
    /// The symbolic link the settings name when data/ is one (kept as it is; `data_parent`
    /// and `data_name` are then its target's).
    #[serde(default)]
    link: Option<PathBuf>,
    /// Whether data/ existed before the restore.
    #[serde(default = "yes")]
    data_existed: bool,
    /// Whether the live database existed before the restore (`None`: journals of earlier
    /// versions, read as `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live_existed: Option<bool>,
    /// The phase the undo started from (`staged` or `aside`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undo_from: Option<String>,
    /// The owner of the existing data/ (read on its descriptor): restored files are given
    /// to it when `mattermost.uid` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_owner: Option<(u32, u32)>,
    /// The mode of the existing data/ (a mount point's is put back by an undo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_mode: Option<u32>,
}

fn whole() -> String {
    "whole".into()
}

fn yes() -> bool {
    true
}

/// The journal's file: its format number, then its fields.
#[derive(serde::Serialize)]
struct JournalFile<'a> {
    format: u32,
    #[serde(flatten)]
    journal: &'a Journal,
}

/// One name in a directory, as a JSON string.
mod name {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStrExt as _;

    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &OsString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&n.to_string_lossy())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OsString, D::Error> {
        let n = OsString::from(String::deserialize(d)?);
        if n.is_empty() || n.as_bytes().contains(&b'/') || n == ".." || n == "." {
            return Err(D::Error::custom(format!("`{}` is not a name", n.display())));
        }
        Ok(n)
    }
}

impl Journal {
    fn to_json(&self) -> Vec<u8> {
        let file = JournalFile {
            format: 2,
            journal: self,
        };
        let mut text = serde_json::to_vec_pretty(&file).expect("JSON serializes");
        text.push(b'\n');
        text
    }

    fn from_json(bytes: &[u8]) -> Option<Journal> {
        serde_json::from_slice(bytes).ok()
    }

    /// data/ is the root of a mount: its contents are replaced, not data/ itself.
    fn contents(&self) -> bool {
        self.layout == "contents"
    }

    /// data/ (or the directory a link data/ points to).
    fn data_path(&self) -> PathBuf {
        self.data_parent.join(&self.data_name)
    }

    /// The directory holding the staging directory: data/ itself for a mount point, its
    /// parent otherwise (the same filesystem as what moves).
    fn home(&self) -> PathBuf {
        if self.contents() {
            self.data_path()
        } else {
            self.data_parent.clone()
        }
    }

    fn staging_path(&self) -> PathBuf {
        self.home().join(&self.staging)
    }
}

fn journal_path(t: &Target) -> PathBuf {
    t.state_dir.join(JOURNAL)
}

fn write_journal(t: &Target, j: &Journal) -> Result<()> {
    crate::fsutil::ensure_dir(&t.state_dir, 0o755)?;
    Ok(crate::fsutil::write_atomic(
        &journal_path(t),
        &j.to_json(),
        0o600,
    )?)
}

/// Opens `dir` from the root without following a link, creating what is missing (0755,
/// root's). Every directory on the way may be changed only by root, the user toolctl runs
/// as, or the Mattermost user (`mattermost.uid`, else the owner of `dir`); any other
/// writer is refused with a hint.
fn open_trusted(t: &Target, dir: &Path) -> Result<DirHandle> {
    use std::os::unix::fs::MetadataExt;
    let owner = t.owner.or_else(|| {
        std::fs::symlink_metadata(dir)
            .ok()
            .map(|m| (m.uid(), m.gid()))
    });
    let trusted = match owner {
        Some((u, g)) => Trusted::root().and(u, g),
        None => Trusted::root(),
    };
    let located = crate::sys::fs::open_beneath(&t.root, dir, &trusted)?;
    let mut h = located.handle;
    for name in &located.missing {
        let here = h.path.join(name);
        h = h
            .open_or_mkdir(name, 0o755)
            .map_err(io_err("create directory", &here))?;
    }
    Ok(h)
}

/// The staging directory `name` in `parent`, when it is there and is what toolctl made:
/// a directory owned by the user toolctl runs as, mode 0700 (nobody else could have made
/// or moved one there).
fn open_staging(parent: &DirHandle, name: &OsStr) -> Result<Option<DirHandle>> {
    let path = parent.path.join(name);
    let h = match parent.open_dir(name) {
        Ok(h) => h,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open the staging directory", &path)(e)),
    };
    let st = h.stat_self().map_err(io_err("inspect", &path))?;
    if st.uid != crate::sys::users::euid() || st.mode & 0o7777 != 0o700 {
        return Err(RestoreError::NotStaging {
            path: path.clone(),
            uid: st.uid,
            mode: st.mode,
        });
    }
    Ok(Some(h))
}

/// The renameability probe's name in the home while it is there: the staging directory's
/// name and `.probe` (so a rollback finds one a kill left).
fn probe_name(j: &Journal) -> OsString {
    let mut n = j.staging.clone();
    n.push(".probe");
    n
}

/// Removes the staging directory from `parent` (the journal's home), and a probe a kill
/// left there (an empty directory of toolctl's, 0700).
fn remove_staging(j: &Journal, parent: &DirHandle) -> Result<()> {
    let probe = probe_name(j);
    if let Some(p) = open_staging(parent, &probe)? {
        let id = p
            .ident_self()
            .map_err(io_err("inspect", &parent.path.join(&probe)))?;
        rmdir_staging_name(parent, &probe, id)?;
    }
    if let Some(s) = open_staging(parent, &j.staging)? {
        let path = parent.path.join(&j.staging);
        for n in s.names().map_err(io_err("list", &path))? {
            s.remove_tree(&n)
                .map_err(io_err("remove", &path.join(&n)))?;
        }
        let id = s.ident_self().map_err(io_err("inspect", &path))?;
        rmdir_staging_name(parent, &j.staging, id)?;
    }
    Ok(())
}

/// Removes the name `name` of the emptied staging directory `id`, only while it still
/// names that directory. The Mattermost user owns `parent` and may exchange the name at
/// any moment, even between the check and the `rmdir`: when the name then holds its
/// directory (not empty), the `rmdir` fails and toolctl leaves both where they are (an
/// empty root-only directory under another name, and the other user's directory), never
/// removing what another user put there. Deterministic: never an error for that race.
fn rmdir_staging_name(parent: &DirHandle, name: &OsStr, id: crate::fsutil::Ident) -> Result<()> {
    let path = parent.path.join(name);
    if parent.ident_at(name).map_err(io_err("inspect", &path))? != Some(id) {
        return Ok(());
    }
    hit("mattermost-restore-staging-rmdir");
    match parent.rmdir(name) {
        Ok(()) => Ok(()),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(crate::sys::errno::ENOTEMPTY)
                || e.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            Ok(())
        }
        Err(e) => Err(io_err("remove", &path)(e)),
    }
}

/// The owner of database `name`, when it exists.
fn db_owner(t: &Target, name: &str) -> Result<Option<String>> {
    let rows = t.conn.query(
        Some("postgres"),
        &format!(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = {}",
            literal(name)
        ),
    )?;
    Ok(rows.into_iter().next().and_then(|r| r.into_iter().next()))
}

fn db_exists(t: &Target, name: &str) -> Result<bool> {
    let rows = t.conn.query(
        Some("postgres"),
        &format!(
            "SELECT 1 FROM pg_database WHERE datname = {}",
            literal(name)
        ),
    )?;
    Ok(!rows.is_empty())
}

/// Completes or rolls back an interrupted restore; `Some(message)` saying which.
pub fn recover(t: &Target) -> Result<Option<String>> {
    let path = journal_path(t);
    let Some(bytes) =
        crate::fsutil::read_optional_capped(&path, crate::fsutil::KEY_CAP, "the restore journal")?
    else {
        return Ok(None);
    };
    let j = Journal::from_json(&bytes)
        .ok_or_else(|| RestoreError::JournalDamaged { path: path.clone() })?;
    let needs_db = |e: RestoreError| RestoreError::NeedsDatabase {
        source: Box::new(e),
    };
    let committed = match j.phase.as_str() {
        "preparing" => false,
        "staged" => !db_exists(t, &j.new_db).map_err(needs_db)?,
        _ => true,
    };
    if !committed {
        roll_back(t, &j)?;
        return Ok(Some(format!(
            "rolled back an interrupted restore of `{}` (the live database and files were never switched and are unchanged)",
            j.live
        )));
    }
    if j.phase.starts_with("undo") {
        files::undo(t).map_err(|e| RestoreError::UndoFailed {
            source: None,
            undo: Box::new(e),
        })?;
        return Ok(Some(format!(
            "undid an interrupted restore of `{}`: the database and files are the ones before the restore again",
            j.live
        )));
    }
    match files::finish(t, &j, None) {
        Ok(()) => {}
        Err(RestoreError::CleanupFailed { staging, source }) => {
            remove_journal(t)?;
            return Err(RestoreError::CleanupFailed { staging, source });
        }
        Err(e) => {
            if let Err(u) = files::undo(t) {
                return Err(RestoreError::UndoFailed {
                    source: Some(Box::new(e)),
                    undo: Box::new(u),
                });
            }
            let e = Error::from(e);
            let why = std::iter::once(e.message())
                .chain(e.causes().iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(": ");
            return Ok(Some(format!(
                "an interrupted restore of `{}` could not be finished ({why}), so it was undone: the database and Mattermost's files are the ones before the restore",
                j.live
            )));
        }
    }
    remove_journal(t)?;
    Ok(Some(format!(
        "completed an interrupted restore of `{}` (the database had been switched; the files now match it; the previous database is `{}`)",
        j.live, j.old_db
    )))
}

/// Removes the journal (a missing one is fine) and syncs its directory.
fn remove_journal(t: &Target) -> Result<()> {
    let path = journal_path(t);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_err("remove", &path)(e))
        }
        _ => {}
    }
    crate::fsutil::sync_dir(&t.state_dir)?;
    Ok(())
}

fn roll_back(t: &Target, j: &Journal) -> Result<()> {
    t.db_admin().query(
        Some("postgres"),
        &format!("DROP DATABASE IF EXISTS {}", ident(&j.new_db)),
    )?;
    if std::fs::symlink_metadata(j.home()).is_ok() {
        let home = open_trusted(t, &j.home())?;
        remove_staging(j, &home)?;
    }
    let path = journal_path(t);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", &path)(e)),
        _ => Ok(()),
    }
}

/// Writes `bytes` as config.json in `dir`: a new file under the journal's staged name
/// (`O_CREAT|O_EXCL|O_NOFOLLOW`, owner and mode set on the descriptor before a byte is
/// written), renamed over config.json once the name is checked to still hold that file.
fn put_config(
    j: &Journal,
    dir: &DirHandle,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let staged = dir.path.join(&j.staged_config);
    let staged = &staged;
    let io = |what: &'static str| io_err(what, staged);
    // A leftover of a run killed here, or a name another user planted: only the name
    // goes (a directory entry in a directory that user may change anyway).
    match dir.unlink(&j.staged_config) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove")(e)),
        _ => {}
    }
    let mut f = dir
        .create_new(&j.staged_config, 0o600)
        .map_err(io("create"))?;
    if let Some((uid, gid)) = owner {
        rustix::fs::fchown(
            &f,
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
        )
        .map_err(|e| io("chown")(e.into()))?;
    }
    rustix::fs::fchmod(&f, rustix::fs::Mode::from_raw_mode((mode & 0o777) as _))
        .map_err(|e| io("set the mode of")(e.into()))?;
    f.write_all(bytes).map_err(io("write"))?;
    f.sync_all().map_err(io("write"))?;
    let id = crate::sys::fs::ident_of_file(&f).map_err(io("inspect"))?;
    hit("mattermost-restore-config-staged");
    if dir.ident_at(&j.staged_config).map_err(io("inspect"))? != Some(id) {
        return Err(RestoreError::ConfigReplaced {
            staged: staged.to_path_buf(),
        });
    }
    crate::failpoint::fail("mattermost-restore-fs-config")
        .and_then(|()| dir.rename_into(&j.staged_config, dir, &j.config_name, false))
        .map_err(io("rename"))?;
    Ok(())
}

/// The directory holding Mattermost's files: data/ itself, or the directory it links to
/// when it is a symbolic link toolctl may follow (the rules of a restore: root made the
/// link, or its maker owns the target).
pub fn real_data_dir(t: &Target) -> Result<PathBuf> {
    let link = std::fs::symlink_metadata(&t.data_dir).is_ok_and(|m| m.file_type().is_symlink());
    if !link {
        return Ok(t.data_dir.clone());
    }
    let l = files::locate(t)?;
    Ok(l.parent.join(l.name))
}

/// Refuses a restore whose data directory the settings do not name: config.json (which
/// the Mattermost user writes, or an archive brings) never picks the directory root
/// replaces.
pub fn check_target(t: &Target) -> Result<()> {
    if t.data_source == DataSource::ConfigJson && t.local_files() {
        return Err(RestoreError::DataDirUnnamed {
            config_directory: t.config_directory.clone(),
            data_logical: t.data_logical.to_string(),
        });
    }
    Ok(())
}

/// A path from the archive (its manifest or its config.json) that names another data
/// directory than the settings do.
fn other_directory(t: &Target, manifest: &Value, config: Option<&[u8]>) -> Option<String> {
    let real = t.data_dir.display().to_string();
    let same = |p: &str| {
        let p = p.trim_end_matches('/');
        p == t.data_logical.trim_end_matches('/') || p == real
    };
    if let Some(d) = manifest["data"]["directory"].as_str() {
        if !same(d) {
            return Some(format!(
                "the archive's manifest says its data/ came from `{d}`"
            ));
        }
    }
    let doc: Value = config.and_then(|b| serde_json::from_slice(b).ok())?;
    let d = doc["FileSettings"]["Directory"].as_str()?;
    // A relative one is Mattermost's working directory's business, and the rendered
    // MM_FILESETTINGS_DIRECTORY overrides it.
    (d.starts_with('/') && !same(d))
        .then(|| format!("the archive's config.json sets FileSettings.Directory to `{d}`"))
}

/// Whether the login role may terminate the backend of `a` (a `pg_stat_activity` row),
/// as `pg_terminate_backend` decides: never a superuser's unless a superuser; else a role
/// whose privileges it has, or any with `pg_signal_backend`.
const TERMINABLE: &str = "(coalesce(NOT r.rolsuper, true) OR me.rolsuper) \
 AND (me.rolsuper OR pg_has_role(current_user, a.usesysid, 'USAGE') OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE'))";

/// The client sessions (`backend_type = 'client backend'`: never autovacuum or another
/// background worker, which PostgreSQL itself stops before DROP or RENAME DATABASE)
/// connected to `db`, other than ours. A role without `pg_read_all_stats` sees no
/// `backend_type` of another role's backends: such a backend counts when it has a user
/// (an autovacuum worker has none).
fn client_sessions_sql(db: &str, columns: &str, only_terminable: bool) -> String {
    format!(
        "SELECT {columns} FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid \
         CROSS JOIN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) me \
         WHERE a.datname = {} AND a.pid <> pg_backend_pid() \
         AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL)){} ORDER BY a.pid",
        literal(db),
        if only_terminable { format!(" AND {TERMINABLE}") } else { String::new() }
    )
}

/// A client session connected to the live database.
pub struct Session {
    /// `pid N user `u` application `a` from ADDRESS (state)`.
    pub text: String,
    /// Whether the Mattermost role may terminate it.
    pub terminable: bool,
}

/// What one psql session tells: the server's major version, the login role's
/// attributes, every database with its owner, and the client sessions connected to the
/// live database (as [`sessions`] would).
struct Facts {
    server_major: u32,
    rights: super::pg::Rights,
    databases: Vec<(String, String)>,
    sessions: Vec<Session>,
}

/// [`Facts`], asked in one query (one psql process instead of one per question): each
/// row's first field says which question it answers.
fn facts(t: &Target, live: &str) -> Result<Facts> {
    let b = |e: &str| format!("CASE WHEN {e} THEN 't' ELSE 'f' END");
    let sql = format!(
        "SELECT '0', current_setting('server_version_num'), NULL, NULL, NULL, NULL, NULL \
         UNION ALL SELECT '1', rolname::text, {}, {}, {}, NULL, NULL FROM pg_roles WHERE rolname = current_user \
         UNION ALL SELECT '2', datname::text, pg_get_userbyid(datdba)::text, NULL, NULL, NULL, NULL FROM pg_database \
         UNION ALL SELECT '3', s.* FROM ({}) s",
        b("rolsuper"),
        b("rolcreatedb"),
        b("rolcreaterole"),
        client_sessions_sql(
            live,
            &format!(
                "a.pid::text, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.client_addr::text, CASE WHEN a.backend_type IS NULL THEN 'an address this role may not see' ELSE 'local socket' END), coalesce(a.state, 'state hidden'), {}",
                b(TERMINABLE)
            ),
            false,
        ),
    );
    let rows = t.conn.query(Some("postgres"), &sql)?;
    let field = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
    let mut server_major = None;
    let mut rights = None;
    let mut databases = Vec::new();
    let mut found: Vec<(u64, Session)> = Vec::new();
    for r in &rows {
        match r.first().map(String::as_str) {
            Some("0") => {
                server_major = Some(field(r, 1).trim().parse::<u32>().unwrap_or(0) / 10000);
            }
            Some("1") => {
                rights = Some(super::pg::Rights {
                    role: field(r, 1),
                    superuser: field(r, 2) == "t",
                    createdb: field(r, 3) == "t",
                    createrole: field(r, 4) == "t",
                });
            }
            Some("2") => databases.push((field(r, 1), field(r, 2))),
            Some("3") => found.push((
                field(r, 1).parse().unwrap_or(0),
                Session {
                    text: format!(
                        "pid {} user `{}` application `{}` from {} ({})",
                        field(r, 1),
                        field(r, 2),
                        field(r, 3),
                        field(r, 4),
                        field(r, 5)
                    ),
                    terminable: field(r, 6) == "t",
                },
            )),
            _ => return Err(RestoreError::Pg(super::pg::PgError::NoVersion)),
        }
    }
    found.sort_by_key(|(pid, _)| *pid);
    Ok(Facts {
        server_major: server_major.ok_or(super::pg::PgError::NoVersion)?,
        rights: rights.ok_or(super::pg::PgError::NoVersion)?,
        databases,
        sessions: found.into_iter().map(|(_, s)| s).collect(),
    })
}

/// Client sessions connected to `db` other than ours.
pub fn sessions(t: &Target, db: &str) -> Result<Vec<Session>> {
    let rows = t.conn.query(
        Some("postgres"),
        &client_sessions_sql(
            db,
            &format!(
                "a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.client_addr::text, CASE WHEN a.backend_type IS NULL THEN 'an address this role may not see' ELSE 'local socket' END), coalesce(a.state, 'state hidden'), {TERMINABLE}"
            ),
            false,
        ),
    )?;
    Ok(rows
        .iter()
        .map(|r| Session {
            text: format!(
                "pid {} user `{}` application `{}` from {} ({})",
                r[0],
                r.get(1).map_or("", |s| s),
                r.get(2).map_or("", |s| s),
                r.get(3).map_or("", |s| s),
                r.get(4).map_or("", |s| s)
            ),
            terminable: r.get(5).is_some_and(|v| v == "t"),
        })
        .collect())
}

/// Refuses connected sessions: any without `force`; with it, those the Mattermost role may
/// not terminate.
fn refuse_sessions(t: &Target, live: &str, force: bool) -> Result<()> {
    refuse_connected(t, live, force, sessions(t, live)?)
}

/// [`refuse_sessions`] on the sessions already asked for: none, or asked again (a client
/// that just quit may still be listed for a moment; the second answer is the one judged).
fn judge_sessions(t: &Target, live: &str, force: bool, asked: Vec<Session>) -> Result<()> {
    if asked.is_empty() {
        return Ok(());
    }
    refuse_sessions(t, live, force)
}

/// Refuses `connected` (see [`refuse_sessions`]).
fn refuse_connected(t: &Target, live: &str, force: bool, connected: Vec<Session>) -> Result<()> {
    if !force && !connected.is_empty() {
        return Err(RestoreError::Connected {
            live: live.to_string(),
            sessions: connected.into_iter().map(|s| s.text).collect(),
        });
    }
    let stuck: Vec<String> = connected
        .into_iter()
        .filter(|s| !s.terminable)
        .map(|s| s.text)
        .collect();
    if !stuck.is_empty() {
        return Err(RestoreError::Unterminable {
            live: live.to_string(),
            role: t.conn.user().to_string(),
            sessions: stuck,
        });
    }
    Ok(())
}

/// Terminates the client sessions of `db` the Mattermost role may terminate (after
/// [`refuse_sessions`] found no other).
fn terminate(t: &Target, db: &str) -> Result<()> {
    t.conn.query(
        Some("postgres"),
        &client_sessions_sql(db, "pg_terminate_backend(a.pid)", true),
    )?;
    Ok(())
}

/// What a restore did.
pub struct Done {
    /// Owners of the archive that became the Mattermost user's (see `archive::Contents`).
    pub owners_mapped: Vec<String>,
    pub database: String,
    pub old_database: Option<String>,
    pub manifest: Value,
}

/// Restores `archive`; `force` terminates connected sessions; `admin` (the
/// `admin_data_source` connection) creates, renames and drops the databases when set.
pub fn run(
    t: &Target,
    admin: Option<&super::pg::Conn>,
    path: &Path,
    force: bool,
    progress: &dyn Fn(&str),
) -> Result<Done> {
    check_target(t)?;
    let live = t.dbname().to_string();
    let layout = files::locate(t)?;
    // `pg_restore --version` runs while one psql session asks everything the checks
    // below need; when that session fails, each check asks on its own (and fails as
    // it always did).
    let (known, client) = std::thread::scope(|s| {
        let client = s.spawn(|| t.conn.client_version("pg_restore"));
        let known = facts(t, &live).ok();
        (known, client.join())
    });
    let j = new_journal(t, &layout, known.as_ref().map(|f| &f.databases[..]))?;
    let server_major = match &known {
        Some(f) => f.server_major,
        None => t.conn.server_version()?.0,
    };
    let client = match client {
        Ok(c) => c?,
        Err(_) => t.conn.client_version("pg_restore")?,
    };
    t.conn
        .check_client_version("pg_restore", client, server_major)?;
    // Every grant is checked before anything is written.
    let creator =
        match (admin, &known) {
            (None, Some(f)) if f.rights.superuser || f.rights.createdb => &t.conn,
            (None, Some(f)) => {
                return Err(RestoreError::Grant(super::pg::Grant::MattermostCreatedb {
                    role: f.rights.role.clone(),
                    command: "restore",
                }))
            }
            _ => super::pg::database_creator(&t.conn, admin, false, true, "restore").map_err(
                |e| match e {
                    Ok(g) => RestoreError::Grant(g),
                    Err(e) => RestoreError::Pg(e),
                },
            )?,
        };
    progress(&layout_text(&j));
    // Both directories are opened (and checked) before anything is written.
    let parent = open_trusted(t, &j.home())?;
    open_trusted(t, &j.config_dir)?;
    // Sessions that would stop the switch are refused before anything is written too
    // (and again before the switch, for those that came meanwhile).
    match known {
        Some(f) => {
            if f.databases.iter().any(|(d, _)| *d == live) {
                judge_sessions(t, &live, force, f.sessions)?;
            }
        }
        None => {
            if db_exists(t, &live)? {
                refuse_sessions(t, &live, force)?;
            }
        }
    }
    // The journal goes first, so a kill from here on is cleaned up.
    write_journal(t, &j)?;
    hit("mattermost-restore-journal");
    let fail = |e: RestoreError| rolled_back(t, &j, e);
    // The staging directory: root's, 0700, on data/'s filesystem, used only through its
    // descriptor (its name is in a directory the Mattermost user may change).
    let staging_path = j.staging_path();
    let staging = parent
        .mkdir(&j.staging, 0o700)
        .map_err(io_err("create", &staging_path))
        .and_then(|()| {
            open_staging(&parent, &j.staging)?.ok_or_else(|| RestoreError::StagingGone {
                path: staging_path.clone(),
            })
        })
        .map_err(fail)?;
    hit("mattermost-restore-staging");
    let contents = extract(
        t,
        t.restore_owner(j.data_owner).unwrap_or((0, 0)),
        path,
        &staging,
        &staging_path,
        progress,
    )
    .map_err(fail)?;
    // Everything the file steps need is checked before the database is touched.
    files::check(t, &j, &parent, &staging).map_err(fail)?;
    check_db_space(t, dump_size(&contents.manifest)).map_err(fail)?;
    hit("mattermost-restore-checked");
    // One psql session again (the same checks one by one when it fails), while
    // `pg_restore` reads the dump's database properties (their errors are told where
    // `stage` needs them, as before).
    let dump = staging
        .open_file(OsStr::new("db.dump"))
        .map_err(io_err("open", &staging_path.join("db.dump")));
    let (known, props) = std::thread::scope(|s| {
        let props = dump
            .as_ref()
            .ok()
            .map(|d| s.spawn(move || super::dbprops::DbProps::read(&t.conn, d)));
        let known = facts(t, &live).ok();
        (known, props.and_then(|h| h.join().ok()))
    });
    let role = known.as_ref().map(|f| f.rights.role.clone());
    let live_owner = known.as_ref().map(|f| {
        f.databases
            .iter()
            .find(|(d, _)| *d == live)
            .map(|(_, o)| o.clone())
    });
    let live_exists = match &live_owner {
        Some(o) => o.is_some(),
        None => db_exists(t, &live).map_err(fail)?,
    };
    let j = Journal {
        live_existed: Some(live_exists),
        ..j.clone()
    };
    if live_exists {
        match known {
            Some(f) => judge_sessions(t, &live, force, f.sessions).map_err(fail)?,
            None => refuse_sessions(t, &live, force).map_err(fail)?,
        }
    }
    // Every failure from here to the switch rolls back before it is reported.
    let said = |e: RestoreError| RestoreError::RolledBack {
        source: Box::new(e),
        rollback: roll_back(t, &j).err().map(Box::new),
        said: true,
    };
    let owner = match live_owner {
        Some(o) => o,
        None if live_exists => db_owner(t, &live).map_err(said)?,
        None => None,
    };
    stage(
        t,
        creator,
        Staged {
            owner,
            role,
            dump,
            props,
        },
        &j,
        &staging,
        &staging_path,
        &contents.manifest,
        progress,
    )
    .map_err(said)?;
    if live_exists {
        refuse_sessions(t, &live, force)
            .and_then(|()| if force { terminate(t, &live) } else { Ok(()) })
            .map_err(|e| match e {
                e @ (RestoreError::Connected { .. } | RestoreError::Unterminable { .. }) => {
                    rolled_back(t, &j, e)
                }
                e => said(e),
            })?;
    }
    switch(t, creator, &j, live_exists)?;
    hit("mattermost-restore-switched");
    let mut staged = j.clone();
    staged.phase = "staged".into();
    match files::finish(t, &staged, Some(staging)) {
        Ok(()) => {}
        Err(RestoreError::CleanupFailed { staging, source }) => {
            remove_journal(t)?;
            return Err(RestoreError::CleanupFailed { staging, source });
        }
        // After the commit point: the restore is undone, so the database and the files
        // are the old ones again, and the error says why.
        Err(e) => {
            return Err(match files::undo(t) {
                Ok(()) => RestoreError::Undone {
                    source: Box::new(e),
                },
                Err(u) => RestoreError::UndoFailed {
                    source: Some(Box::new(e)),
                    undo: Box::new(u),
                },
            })
        }
    }
    remove_journal(t)?;
    Ok(Done {
        owners_mapped: contents.owners_mapped,
        database: live,
        old_database: live_exists.then(|| j.old_db.clone()),
        manifest: contents.manifest,
    })
}

/// `e`, after the restore was rolled back (or with why that failed too).
fn rolled_back(t: &Target, j: &Journal, e: RestoreError) -> RestoreError {
    RestoreError::RolledBack {
        source: Box::new(e),
        rollback: roll_back(t, j).err().map(Box::new),
        said: false,
    }
}

/// The journal of a new restore: the databases' names (the live one's, with a time stamp,
/// cut to PostgreSQL's 63 bytes), where data/ and config.json are, and random names for
/// the staging directory and the staged config.json.
fn new_journal(
    t: &Target,
    layout: &files::Layout,
    taken: Option<&[(String, String)]>,
) -> Result<Journal> {
    let live = t.dbname().to_string();
    let stamp = super::stamp();
    let cut = |s: String| -> String { s.chars().take(63).collect() };
    let parent_or_root = |p: &Path| {
        p.parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| t.root.clone())
    };
    let name_or = |p: &Path, default: &str| {
        p.file_name()
            .map(OsStr::to_os_string)
            .unwrap_or_else(|| default.into())
    };
    let rnd = |p: &str| crate::sys::fs::random_name(p).map_err(RestoreError::Random);
    // Two restores within one second (or a name someone made) must not meet: a number is
    // added until the name is free.
    let free = |base: String| -> Result<String> {
        for n in 1..100 {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!("_{n}")
            };
            let name: String = base.chars().take(63 - suffix.len()).collect::<String>() + &suffix;
            let exists = match taken {
                Some(all) => all.iter().any(|(d, _)| *d == name),
                None => db_exists(t, &name)?,
            };
            if !exists {
                return Ok(name);
            }
        }
        Ok(cut(base))
    };
    Ok(Journal {
        phase: "preparing".into(),
        live: live.clone(),
        new_db: free(format!("{live}_toolctl_restore_{stamp}"))?,
        old_db: free(format!("{live}_before_restore_{stamp}"))?,
        data_parent: layout.parent.clone(),
        data_name: layout.name.clone(),
        staging: rnd(STAGING_PREFIX)?,
        config_dir: parent_or_root(&t.config_file),
        config_name: name_or(&t.config_file, "config.json"),
        staged_config: rnd(".config.json.toolctl-restore-")?,
        layout: if layout.contents { "contents" } else { "whole" }.into(),
        link: layout.link.clone(),
        data_existed: layout.existed,
        live_existed: None,
        undo_from: None,
        data_owner: layout.owner,
        data_mode: layout.mode,
    })
}

/// How data/ is replaced, for the progress line.
fn layout_text(j: &Journal) -> String {
    let dir = j.data_path();
    let how = if j.contents() {
        format!(
            "`{}` is a mount point: its contents are replaced, the old ones kept on its filesystem until the restore is done",
            dir.display()
        )
    } else {
        format!("`{}` is replaced as a whole", dir.display())
    };
    match &j.link {
        Some(l) => format!("{how} (`{}` is a link to it and is kept)", l.display()),
        None => how,
    }
}

/// The size of `db.dump` the manifest gives.
fn dump_size(manifest: &Value) -> u64 {
    manifest["members"]["db.dump"]["size"].as_u64().unwrap_or(0)
}

/// Room for the new database, from the dump's size: the hook for the database side's
/// estimate (the server's disk is the server's; nothing is refused here yet).
fn check_db_space(_t: &Target, _dump_bytes: u64) -> Result<()> {
    Ok(())
}

/// Extracts the archive beneath the staging directory, checked in full (sizes first, then
/// every checksum): a damaged one is refused before the live database or files are looked
/// at. An archive whose data directory is not the settings' one is refused too.
fn extract(
    t: &Target,
    owner: (u32, u32),
    path: &Path,
    staging: &DirHandle,
    staging_path: &Path,
    progress: &dyn Fn(&str),
) -> Result<archive::Contents> {
    // The archive's Mattermost user's entries become `owner`'s (`mattermost.uid`/`gid`,
    // else the owner of the live data directory, else root), root's stay root's.
    let x = archive::Extract {
        root: staging,
        write: |_| true,
        owner: Some(owner),
        // Never the file system's last 64 MiB.
        reserve: 64 << 20,
    };
    let contents = match archive::read_into(path, Some(&x)) {
        Ok(c) => c,
        Err(Damage::Write(e)) if e.kind() == std::io::ErrorKind::StorageFull => {
            return Err(RestoreError::NoSpace {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Err(Damage::Write(source)) => {
            return Err(RestoreError::Io {
                action: "write into",
                path: staging_path.to_path_buf(),
                source,
            })
        }
        Err(Damage::Io(source)) => {
            return Err(RestoreError::Unreadable {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(Damage::Bad(why)) => {
            return Err(RestoreError::Bad {
                path: path.to_path_buf(),
                why,
            })
        }
    };
    hit("mattermost-restore-extracted");
    progress("checksums match the manifest");
    let staged_config = staging
        .read_capped(OsStr::new("config.json"), crate::fsutil::SETTINGS_CAP)
        .map_err(|f| {
            f.into_error(
                "the archive's config.json",
                &staging_path.join("config.json"),
            )
        })?;
    if let Some(why) = other_directory(t, &contents.manifest, staged_config.as_deref()) {
        return Err(RestoreError::OtherDirectory {
            path: path.to_path_buf(),
            data_logical: t.data_logical.to_string(),
            source_text: t.data_dir_source_text(),
            why,
        });
    }
    Ok(contents)
}

/// Stages everything the switch needs: data/ given to Mattermost's user (or dropped when
/// the archive holds no local files), the dump restored into the new database, the staged
/// files synced, and the journal's phase `staged`.
/// What `run` found for [`stage`]: the live database's owner, the login role (when
/// asked already), the opened dump and its database properties (when read already).
struct Staged {
    owner: Option<String>,
    role: Option<String>,
    dump: Result<std::fs::File>,
    props: Option<std::result::Result<super::dbprops::DbProps, super::pg::PgError>>,
}

#[allow(clippy::too_many_arguments)]
fn stage(
    t: &Target,
    creator: &super::pg::Conn,
    Staged {
        owner,
        role,
        dump,
        props,
    }: Staged,
    j: &Journal,
    staging: &DirHandle,
    staging_path: &Path,
    manifest: &Value,
    progress: &dyn Fn(&str),
) -> Result<()> {
    // Owners were mapped as the members were written (`archive::Extract::owner`).
    let data = OsStr::new("data");
    if !t.local_files() || !manifest["data"]["saved"].as_bool().unwrap_or(false) {
        // No local files in the archive: the live data/ (if any) stays as it is.
        staging
            .remove_tree(data)
            .map_err(io_err("remove", &staging_path.join("data")))?;
    }
    progress(&format!("restoring the dump into `{}`", j.new_db));
    // The dump reaches pg_restore as its stdin, an open descriptor: no path to it is
    // ever used.
    let dump = dump?;
    // The archived database's encoding, locale provider and locales, its settings,
    // comment and privileges (what `pg_restore --create` would give it), under the new
    // name; owned by the live database's owner (else the Mattermost role).
    let props = match props {
        Some(p) => p?,
        None => super::dbprops::DbProps::read(&t.conn, &dump)?,
    };
    let owner = match (owner, role) {
        (Some(o), _) | (None, Some(o)) => o,
        (None, None) => t.conn.rights()?.role,
    };
    creator.query(Some("postgres"), &props.create_sql(&j.new_db, &owner))?;
    hit("mattermost-restore-created");
    // Not one transaction (parallel jobs cannot share one): a failure drops the whole
    // new database instead. Objects all become the restoring role's (`--no-owner`); the
    // grants inside the database (to other roles too) and default privileges are kept,
    // so a role they name must exist.
    t.conn.restore_dump(
        &dump,
        &j.new_db,
        super::pg::restore_jobs(),
        &["--no-owner"],
        "`pg_restore`",
    )?;
    if let Some(sql) = props.properties_sql(&j.new_db) {
        t.conn
            .execute(Some("postgres"), &sql)
            .map_err(RestoreError::Properties)?;
    }
    hit("mattermost-restore-restored");
    // The staged files are durable before the journal says so (written back while
    // pg_restore ran, so this is cheap now).
    staging.sync_fs().map_err(io_err("sync", staging_path))?;
    let mut staged = j.clone();
    staged.phase = "staged".into();
    write_journal(t, &staged)?;
    hit("mattermost-restore-staged");
    Ok(())
}

/// The commit point: the live database becomes the old one and the new one the live one,
/// in one transaction (one query string is one implicit transaction: both renames commit
/// or neither does). A failure rolls the restore back.
fn switch(t: &Target, creator: &super::pg::Conn, j: &Journal, live_exists: bool) -> Result<()> {
    let live = &j.live;
    let swap = if live_exists {
        format!(
            "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} RENAME TO {};",
            ident(live),
            ident(&j.old_db),
            ident(&j.new_db),
            ident(live)
        )
    } else {
        format!(
            "ALTER DATABASE {} RENAME TO {};",
            ident(&j.new_db),
            ident(live)
        )
    };
    if let Err(e) = creator.query(Some("postgres"), &swap) {
        return Err(RestoreError::SwitchFailed {
            source: e,
            rollback: roll_back(t, j).err().map(Box::new),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journal as the hand-written serialiser of earlier versions wrote it (keys in
    /// `json!`'s sorted order).
    const EARLIER: &str = r#"{
  "config_dir": "/opt/mattermost/config",
  "config_name": "config.json",
  "data_name": "data",
  "data_parent": "/opt/mattermost",
  "format": 2,
  "live": "mattermost",
  "new_db": "mattermost_restore_1",
  "old_db": "mattermost_before_restore_1",
  "phase": "staged",
  "staged_config": ".toolctl-restore-config.json",
  "staging": ".toolctl-restore-0123456789abcdef"
}
"#;

    #[test]
    fn a_journal_of_an_earlier_version_is_read_and_round_trips() {
        let j = Journal::from_json(EARLIER.as_bytes()).expect("the earlier journal parses");
        assert_eq!(j.phase, "staged");
        assert_eq!(j.data_parent, Path::new("/opt/mattermost"));
        assert_eq!(
            j.staging,
            OsString::from(".toolctl-restore-0123456789abcdef")
        );
        let text = j.to_json();
        let v: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["format"], 2);
        assert_eq!(v["staged_config"], ".toolctl-restore-config.json");
        assert_eq!(Journal::from_json(&text), Some(j));
    }

    #[test]
    fn a_journal_naming_a_path_instead_of_a_name_is_damaged() {
        for bad in ["../etc", "a/b", "..", ".", ""] {
            let text = EARLIER.replace("\"data\"", &format!("{bad:?}"));
            assert_eq!(Journal::from_json(text.as_bytes()), None, "{bad}");
        }
        let missing = EARLIER.replace("\"live\": \"mattermost\",", "");
        assert_eq!(Journal::from_json(missing.as_bytes()), None);
    }
}
