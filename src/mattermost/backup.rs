//! `mattermost backup` and `backup --verify`.
//!
//! The dump and the row counts come from one snapshot: a repeatable-read session exports
//! it (`pg_export_snapshot()`), counts every table in it, and stays open while
//! `pg_dump --snapshot` reads the same state. The archive is written to a temp name in the
//! output directory, fsynced and renamed: an interrupted backup never leaves a file under
//! the final name. Every child's exit status is checked and the dump's header too, so a
//! failed `pg_dump` can never become an archive.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::archive::{self, Damage};
use super::pg::{self, Conn, Session};
use super::{Target, COUNT_SQL};
use crate::error::Error;

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

/// What can stop a backup or its verification, as data; `From<BackupError> for Error`
/// below writes the messages and hints.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file or directory that cannot be created, written, listed or read.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Every archive name of this second is taken.
    #[error("too many backups in this second")]
    NoFreeName,
    /// `pg_dump` succeeded without a dump.
    #[error("`pg_dump` exited 0 but wrote no usable dump")]
    EmptyDump,
    /// The files are local, and the data directory Mattermost uses does not exist: an
    /// archive without them would restore nothing of the uploads.
    #[error("Mattermost's data directory `{data_logical}` (from {source_text}) does not exist")]
    DataMissing {
        data_logical: String,
        source_text: &'static str,
    },
    /// A file of data/ that the Mattermost user cannot read.
    #[error("cannot archive `{}`", data_dir.display())]
    DataUnreadable {
        data_dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of data/ that the archive cannot hold faithfully.
    #[error("cannot archive `{}` faithfully", path.display())]
    Unarchivable { path: PathBuf, why: String },
    /// `--verify` ran out of room for `db.dump` in the temporary directory.
    #[error("no room for the archive's db.dump in `{}`", dir.display())]
    NoSpace {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The verification's scratch database `db` is left behind.
    #[error("the scratch database `{db}` of the verification could not be dropped")]
    ScratchLeft {
        db: String,
        #[source]
        source: pg::PgError,
    },
    /// The throwaway role and scratch database could not be created.
    #[error("cannot create the throwaway role and scratch database of the verification")]
    ScratchNotCreated(#[source] pg::PgError),
    /// The verification's signal handlers.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// The verification's temporary directory.
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// Ctrl+C or a stop signal during the verification.
    #[error("interrupted; the verification's scratch database was dropped")]
    Interrupted,
    /// A role lacks a grant the verification needs.
    #[error(transparent)]
    Grant(#[from] pg::Grant),
    /// The data source.
    #[error(transparent)]
    Pg(#[from] pg::PgError),
    /// A failure of the file primitives (`sys`), already told for a person.
    #[error(transparent)]
    Told(#[from] Error),
}

impl From<BackupError> for Error {
    fn from(e: BackupError) -> Self {
        let message = e.to_string();
        match e {
            BackupError::Io {
                action,
                path,
                source,
            } => Error::io(&action, &path, source),
            BackupError::NoFreeName => Error::new(message).hint("run the backup again"),
            BackupError::EmptyDump => Error::new(message)
                .hint("check the PostgreSQL server log; no archive was written"),
            BackupError::DataUnreadable { source, .. } => Error::new(message)
                .cause(source)
                .hint("toolctl reads data/ with the Mattermost user's rights (`mattermost.uid`, else the directory's owner) and never follows a link: give that file to the Mattermost user or remove it; set `mattermost.data_dir` if the directory is not Mattermost's; no archive was written"),
            BackupError::Unarchivable { path, why } => Error::new(message)
                .cause(format!("`{}` {why}", path.display()))
                .hint(format!(
                    "move `{}` out of Mattermost's data directory (or give it a time after 1970: `touch` it), then run the backup again; no archive was written",
                    path.display()
                )),
            BackupError::NoSpace { source, .. } => Error::new(message).cause(source).hint(
                "`--verify` writes only db.dump (the files are checked without being written): free space there, or point TMPDIR at a directory with room, then run it again",
            ),
            BackupError::ScratchLeft { source, .. } => Error::new(message)
                .cause(Error::from(source).to_string())
                .hint("the next `mattermost backup --verify` drops it; or drop it with `DROP DATABASE`"),
            BackupError::ScratchNotCreated(source) => Error::new(message)
                .cause(Error::from(source).to_string())
                .hint("the role of `mattermost.admin_data_source` needs CREATEROLE and CREATEDB (`ALTER ROLE … CREATEROLE CREATEDB`)"),
            BackupError::Signals(source) | BackupError::TempDir(source) => {
                Error::new(message).cause(source)
            }
            BackupError::Interrupted => Error::interrupted(message),
            BackupError::Grant(g) => g.into(),
            BackupError::Pg(e) => e.into(),
            BackupError::DataMissing { .. } => Error::new(message)
                .cause("FileSettings.DriverName is `local`: Mattermost keeps the uploaded files there, so an archive without them could not bring them back")
                .hint("set `mattermost.data_dir` to the directory Mattermost stores its files in (`toolctl config set mattermost.data_dir PATH`; a relative path is read against `mattermost.working_dir`), or create the directory if this Mattermost has no files yet; no archive was written"),
            BackupError::Told(e) => e,
        }
    }
}
use crate::failpoint::hit;

/// Names removed beneath the output directory on drop: the temps of a failed run.
struct Cleanup<'a> {
    dir: &'a crate::sys::fs::DirHandle,
    names: Vec<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = self.dir.unlink(n.as_ref());
        }
    }
}

/// What a backup wrote.
pub struct Done {
    pub path: PathBuf,
    pub manifest: Value,
    pub pg_dump: String,
}

fn hostname() -> String {
    let name = crate::sys::proc::hostname();
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "host".into()
    } else {
        clean
    }
}

fn io_err<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
    let action = what.to_string();
    move |source| BackupError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Parses the rows of [`COUNT_SQL`].
pub fn counts(rows: &[Vec<String>]) -> Map<String, Value> {
    rows.iter()
        .filter(|r| r.len() == 2)
        .map(|r| (r[0].clone(), json!(r[1].trim().parse::<u64>().unwrap_or(0))))
        .collect()
}

/// Takes the backup into `out_dir`; `progress` prints step lines (on a terminal).
///
/// `out_dir` (below `root`, or anywhere: then every ancestor from `/` counts) must be a
/// directory that only root, or the user toolctl runs as, can change: no symlink on the
/// way, no directory another user owns or can write without the sticky bit. Every file
/// is created beneath its opened descriptor with `O_CREAT | O_EXCL | O_NOFOLLOW`, mode
/// 0600; `pg_dump` writes to its stdout, the dump file toolctl created, and the archive is
/// published with `linkat` beneath the same descriptor.
pub fn run(t: &Target, root: &Path, out_dir: &Path, progress: &dyn Fn(&str)) -> Result<Done> {
    let conn = &t.conn;
    // Local files without their directory: refused before anything is written.
    if t.local_files() && std::fs::symlink_metadata(&t.data_dir).is_err() {
        return Err(BackupError::DataMissing {
            data_logical: t.data_logical.clone(),
            source_text: t.data_source.describe(),
        });
    }
    let (server_major, server_version) = conn.server_version()?;
    let pg_dump = conn.check_client("pg_dump", server_major)?;
    let dir =
        crate::sys::fs::open_output_dir(root, out_dir, 0o700, &crate::sys::fs::Trusted::root())?;
    let out_dir = dir.path.clone();
    let out_dir = out_dir.as_path();
    sweep_killed_temps(&dir, out_dir)?;
    let name = free_name(&dir)?;
    let final_path = out_dir.join(&name);
    let tmp_dump_name = format!(".{name}.dump.tmp");
    let tmp_archive_name = format!(".{name}.tmp");
    let tmp_dump = out_dir.join(&tmp_dump_name);
    let tmp_archive = out_dir.join(&tmp_archive_name);
    let mut cleanup = Cleanup {
        dir: &dir,
        names: Vec::new(),
    };
    // The dump is the whole database: owner only, here and as the archive member.
    let dump = dir
        .create_new(tmp_dump_name.as_ref(), 0o600)
        .map_err(io_err("create", &tmp_dump))?;
    cleanup.names.push(tmp_dump_name.clone());

    let snap = dump_database(t, &dump, &pg_dump, progress)?;

    let file = dir
        .create_new(tmp_archive_name.as_ref(), 0o600)
        .map_err(io_err("create", &tmp_archive))?;
    cleanup.names.push(tmp_archive_name.clone());
    let mut w = archive::Writer::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let aerr = |e: std::io::Error| io_err("write", &tmp_archive)(e);
    w.opened_file("db.dump", &dump).map_err(aerr)?;
    drop(dump);
    // config.json as Target read it: without following a link, with the Mattermost
    // user's rights.
    w.member_bytes("config.json", &t.config_bytes, t.config_mode)
        .map_err(io_err("archive", &t.config_file))?;
    let data = archive_data(t, &mut w, progress)?;
    hit("mattermost-backup-data");
    let manifest = manifest(
        t,
        &server_version,
        &pg_dump,
        snap,
        data,
        w.manifest_members(),
    );
    let text = serde_json::to_vec_pretty(&manifest).expect("JSON serializes");
    w.bytes("manifest.json", &text).map_err(aerr)?;
    let buf = w.finish().map_err(aerr)?;
    let file = buf.into_inner().map_err(|e| aerr(e.into_error()))?;
    hit("mattermost-backup-written");
    file.sync_all().map_err(aerr)?;
    drop(file);
    hit("mattermost-backup-fsynced");
    // A hard link publishes the complete file atomically and never replaces another
    // archive; the temp name goes after.
    dir.link(tmp_archive_name.as_ref(), name.as_ref())
        .map_err(io_err("publish", &final_path))?;
    hit("mattermost-backup-renamed");
    dir.unlink(tmp_archive_name.as_ref())
        .map_err(io_err("remove", &tmp_archive))?;
    cleanup.names.retain(|n| n != &tmp_archive_name);
    dir.sync().map_err(io_err("sync directory", out_dir))?;
    Ok(Done {
        path: final_path,
        manifest,
        pg_dump,
    })
}

/// Dumps the database into `dump` (pg_dump's stdout) from an exported snapshot, the one
/// whose row counts the manifest records.
fn dump_database(
    t: &Target,
    dump: &std::fs::File,
    pg_dump: &str,
    progress: &dyn Fn(&str),
) -> Result<Snapshot> {
    let conn = &t.conn;
    // The snapshot: counts and dump see the same state.
    let mut session = Session::open(conn)?;
    let snap = Snapshot::take(&mut session, conn)?;
    progress(&format!("dumping `{}` with {pg_dump}", t.dbname()));
    let mut cmd = conn.command("pg_dump");
    // -Z0: the archive is gzipped as a whole; compressing the dump inside as well costs
    // time on both sides (pg_dump and pg_restore) for no smaller file.
    // No `-f`: pg_dump writes to its stdout, the file created above (a regular file, so
    // the custom format still records its data offsets).
    cmd.args(["-w", "-Fc", "-Z0", "--snapshot", snap.id.trim()])
        .arg("-d")
        .arg(conn.conninfo(None));
    conn.run_watched(cmd, Some(dump), "`pg_dump`")?;
    hit("mattermost-backup-dump");
    session.close(conn)?;
    check_dump(dump)?;
    Ok(snap)
}

/// The archive's manifest.json.
fn manifest(
    t: &Target,
    server_version: &str,
    pg_dump: &str,
    snap: Snapshot,
    data: Value,
    members: Map<String, Value>,
) -> Value {
    json!({
        "format": 1,
        "toolctl_version": env!("CARGO_PKG_VERSION"),
        "created": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "database": t.dbname(),
        "server_version": server_version,
        "pg_dump": pg_dump,
        "mattermost_schema_version": snap.schema_version,
        "file_driver": t.driver,
        "local_files": t.local_files(),
        "data": data,
        "tables": snap.tables,
        "members": members,
    })
}

/// Removes the temporary files of an earlier killed run: never complete, safe to remove
/// (the entry itself, never a link's target).
fn sweep_killed_temps(dir: &crate::sys::fs::DirHandle, out_dir: &Path) -> Result<()> {
    for n in dir.names().map_err(io_err("list", out_dir))? {
        let s = n.to_string_lossy();
        if s.starts_with(".mattermost-") && s.contains(".tmp") {
            if let Ok(Some(st)) = dir.lstat(&n) {
                if st.kind != crate::sys::fs::Kind::Dir {
                    let _ = dir.unlink(&n);
                }
            }
        }
    }
    Ok(())
}

/// The archive's name: two backups in one second get `-2`, `-3`…, so that an archive is
/// never replaced.
fn free_name(dir: &crate::sys::fs::DirHandle) -> Result<String> {
    let stem = format!("mattermost-{}-{}", hostname(), super::stamp());
    (1..1000)
        .map(|i| {
            if i == 1 {
                format!("{stem}.tar.gz")
            } else {
                format!("{stem}-{i}.tar.gz")
            }
        })
        .find(|n| matches!(dir.lstat(std::ffi::OsStr::new(n)), Ok(None)))
        .ok_or(BackupError::NoFreeName)
}

/// The exported snapshot the dump reads, and what the manifest records of the same state.
struct Snapshot {
    id: String,
    tables: Map<String, Value>,
    schema_version: String,
}

impl Snapshot {
    /// Opens a repeatable-read transaction in `session`, exports its snapshot and counts
    /// the rows of Mattermost's tables in it.
    fn take(session: &mut Session, conn: &Conn) -> Result<Snapshot> {
        let id = session
            .ask(
                conn,
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\nSELECT pg_export_snapshot();",
                1,
            )?
            .remove(0);
        let n: usize = session
            .ask(conn, &format!("SELECT count(*) FROM ({COUNT_SQL}) t;"), 1)?
            .remove(0)
            .trim()
            .parse()
            .unwrap_or(0);
        let rows: Vec<Vec<String>> = session
            .ask(conn, &format!("{COUNT_SQL};"), n)?
            .into_iter()
            .map(|l| l.split('\x1f').map(str::to_string).collect())
            .collect();
        // Asked in two steps: naming a missing table fails the statement (and the session).
        let has_systems = session
            .ask(conn, "SELECT to_regclass('Systems') IS NOT NULL;", 1)?
            .remove(0)
            == "t";
        let schema_version = if has_systems {
            session
                .ask(
                    conn,
                    "SELECT coalesce((SELECT Value FROM Systems WHERE Name = 'Version'), '');",
                    1,
                )?
                .remove(0)
        } else {
            String::new()
        };
        Ok(Snapshot {
            id,
            tables: counts(&rows),
            schema_version,
        })
    }
}

/// pg_dump -Fc starts every archive with `PGDMP`; anything else (empty, cut) is no dump.
fn check_dump(dump: &std::fs::File) -> Result<()> {
    let mut head = [0u8; 16];
    let whole = {
        use std::io::{Read as _, Seek as _};
        let mut d = dump;
        d.seek(std::io::SeekFrom::Start(0))
            .and_then(|_| d.read_exact(&mut head))
            .is_ok()
    };
    if !whole || &head[..5] != b"PGDMP" {
        return Err(BackupError::EmptyDump);
    }
    Ok(())
}

/// Archives data/ (when the files are local and it exists) and returns the manifest's
/// `data` object.
fn archive_data<W: std::io::Write>(
    t: &Target,
    w: &mut archive::Writer<W>,
    progress: &dyn Fn(&str),
) -> Result<Value> {
    Ok(if !t.local_files() {
        json!({ "saved": false, "reason": format!("FileSettings.DriverName is `{}`", t.driver) })
    } else if std::fs::symlink_metadata(&t.data_dir).is_ok() {
        // A link data/ is followed as a restore follows it (root made it, or its maker
        // owns the target); everything else is opened from the root without following
        // any link, and read with the rights of the Mattermost user
        // (`Target::data_reader`).
        let real = super::restore::real_data_dir(t).map_err(Error::from)?;
        progress(&format!(
            "archiving `{}`{} ({})",
            t.data_dir.display(),
            if real != t.data_dir {
                format!(" (a link to `{}`)", real.display())
            } else {
                String::new()
            },
            t.data_source.describe()
        ));
        let dir = crate::sys::fs::open_dir_nofollow(&t.root, &real)?;
        let reader = t
            .data_reader(&dir)
            .map_err(io_err("inspect", &t.data_dir))?;
        let (files, bytes) = w.tree_at("data", &dir, reader).map_err(|e| {
            if e.get_ref().is_some_and(|i| i.is::<archive::Unarchivable>()) {
                let u = e
                    .into_inner()
                    .and_then(|i| i.downcast::<archive::Unarchivable>().ok())
                    .expect("checked above");
                BackupError::Unarchivable {
                    path: u.path,
                    why: u.why,
                }
            } else if e.kind() == std::io::ErrorKind::PermissionDenied {
                BackupError::DataUnreadable {
                    data_dir: t.data_dir.clone(),
                    source: e,
                }
            } else {
                io_err("archive", &t.data_dir)(e)
            }
        })?;
        let skipped = w.manifest_skipped();
        json!({
            "saved": true,
            "directory": t.data_logical,
            "source": t.data_source.describe(),
            "files": files,
            "bytes": bytes,
            // Whose entries are the Mattermost user's: a restore gives them to its own.
            "owner": { "uid": reader.0, "gid": reader.1 },
            "hard_links": w.hard_links,
            "sparse_files": w.sparse_files,
            "skipped": skipped,
        })
    } else {
        return Err(BackupError::DataMissing {
            data_logical: t.data_logical.clone(),
            source_text: t.data_source.describe(),
        });
    })
}

/// How a verification ended.
pub enum Verdict {
    Good(Value),
    /// Damaged or different: the reason.
    Bad(String),
}

/// A verification's verdict, and who ran the archive's SQL.
pub struct Verification {
    pub verdict: Verdict,
    /// The login role `pg_restore` connected as.
    pub sql_role: String,
    /// `true`: a throwaway role that owned only the scratch database (made through
    /// `admin_data_source`); `false`: the Mattermost role itself.
    pub isolated: bool,
}

/// The scratch database (and, with an administrative connection, the throwaway role) of
/// one verification: dropped by [`Scratch::remove`] on every path, and by `Drop` on a
/// panic.
struct Scratch<'a> {
    /// The connection that drops them: the administrative one, else Mattermost's.
    owner: &'a Conn,
    db: String,
    role: Option<String>,
    force: bool,
    removed: bool,
    /// Without an administrative connection: a session of the Mattermost role opened
    /// before the archive's SQL ran, so that the drop still works when that SQL changed
    /// the role's password.
    session: Option<Session>,
}

impl Scratch<'_> {
    fn remove(&mut self) -> Result<()> {
        self.removed = true;
        let mut sql = format!(
            "DROP DATABASE IF EXISTS {}{};\n",
            pg::ident(&self.db),
            if self.force { " WITH (FORCE)" } else { "" }
        );
        if let Some(role) = &self.role {
            sql.push_str(&format!("DROP ROLE IF EXISTS {};\n", pg::ident(role)));
        }
        if let Some(mut session) = self.session.take() {
            if session
                .ask(self.owner, &format!("{sql}SELECT 'dropped';"), 1)
                .is_ok()
            {
                return Ok(());
            }
        }
        self.owner
            .execute(None, &sql)
            .map_err(|source| BackupError::ScratchLeft {
                db: self.db.clone(),
                source,
            })
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.remove();
        }
    }
}

/// The start of every scratch name of `dbname` (database and role alike), short enough
/// for a pid and a random tail within PostgreSQL's 63 bytes.
fn scratch_prefix(dbname: &str) -> String {
    let mut end = dbname.len().min(28);
    while !dbname.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}_toolctl_verify_", &dbname[..end])
}

/// Drops what an earlier verification that was killed (SIGKILL, power loss) left: the
/// caller holds the Mattermost lock, so no other verification of this root runs. Failures
/// are ignored (a database still in use elsewhere is left alone).
fn sweep_scratch(owner: &Conn, prefix: &str, roles: bool) {
    let like = format!("left({{}}, {}) = {}", prefix.len(), pg::literal(prefix));
    let dbs = owner
        .query(
            None,
            &format!(
                "SELECT datname FROM pg_database WHERE {}",
                like.replace("{}", "datname")
            ),
        )
        .unwrap_or_default();
    let mut sql = String::new();
    for d in dbs.iter().filter_map(|r| r.first()) {
        sql.push_str(&format!("DROP DATABASE IF EXISTS {};\n", pg::ident(d)));
    }
    if roles {
        let rs = owner
            .query(
                None,
                &format!(
                    "SELECT rolname FROM pg_roles WHERE {}",
                    like.replace("{}", "rolname")
                ),
            )
            .unwrap_or_default();
        for r in rs.iter().filter_map(|r| r.first()) {
            sql.push_str(&format!("DROP ROLE IF EXISTS {};\n", pg::ident(r)));
        }
    }
    for stmt in sql.lines() {
        let _ = owner.execute(None, stmt);
    }
}

fn random_hex(n: usize) -> Result<String> {
    Ok(pg::random_password()?.chars().take(n).collect())
}

/// Restores `db.dump` of `archive` into a scratch database and compares the row counts.
///
/// With `admin` (the `admin_data_source` connection), a throwaway login role is created
/// that owns only the scratch database, and `pg_restore` and the counts run as that role:
/// the archive's SQL cannot act as the Mattermost role, even after `RESET ROLE`. Without
/// it the archive's SQL runs as the Mattermost role, and the result says so. The scratch
/// database (and role) are dropped on every path: success, damage, error, and SIGINT,
/// SIGTERM or SIGHUP (deferred until they are gone; exit 130).
pub fn verify(
    t: &Target,
    admin: Option<&Conn>,
    path: &Path,
    progress: &dyn Fn(&str),
) -> Result<Verification> {
    crate::sys::signals::defer_terminating().map_err(BackupError::Signals)?;
    let interrupted = || crate::sys::signals::interrupted().then_some(BackupError::Interrupted);
    let scratch = tempfile::Builder::new()
        .prefix("toolctl-verify-")
        .tempdir()
        .map_err(BackupError::TempDir)?;
    let staged = scratch.path().join("x");
    // Only db.dump is written: every other member streams through its checksum.
    let contents = match archive::read(path, Some(&staged), |n| n == b"db.dump") {
        Ok(c) => c,
        Err(Damage::Io(e)) => return Err(io_err("read", path)(e)),
        Err(Damage::Write(e)) if e.kind() == std::io::ErrorKind::StorageFull => {
            return Err(BackupError::NoSpace {
                dir: scratch.path().to_path_buf(),
                source: e,
            })
        }
        Err(Damage::Write(e)) => return Err(io_err("write into", scratch.path())(e)),
        Err(Damage::Bad(why)) => {
            return Ok(Verification {
                verdict: Verdict::Bad(why),
                sql_role: String::new(),
                isolated: admin.is_some(),
            })
        }
    };
    progress("checksums match the manifest");
    if let Some(e) = interrupted() {
        return Err(e);
    }
    let conn = &t.conn;
    let (server_major, _) = conn.server_version()?;
    conn.check_client("pg_restore", server_major)?;
    pg::database_creator(conn, admin, true, false, "backup --verify").map_err(|e| match e {
        Ok(g) => BackupError::Grant(g),
        Err(e) => BackupError::Pg(e),
    })?;
    let prefix = scratch_prefix(t.dbname());
    let owner = admin.unwrap_or(conn);
    sweep_scratch(owner, &prefix, admin.is_some());
    let name = format!("{prefix}{}_{}", std::process::id(), random_hex(6)?);
    let mut guard = Scratch {
        owner,
        db: name.clone(),
        role: admin.map(|_| name.clone()),
        force: server_major >= 13,
        removed: false,
        session: None,
    };
    let (runner, isolated) = match admin {
        Some(admin) => {
            let password = pg::random_password()?;
            let mut salt = [0u8; 16];
            salt.copy_from_slice(&hex_bytes(&random_hex(32)?));
            // A leftover role (a kill before the drop) cannot log in after an hour.
            let until = humantime::format_rfc3339_seconds(
                std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
            );
            let role = pg::ident(&name);
            let sql = format!(
                "CREATE ROLE {role} LOGIN CONNECTION LIMIT 8 VALID UNTIL {} PASSWORD {};\n\
                 GRANT {role} TO CURRENT_USER;\n\
                 CREATE DATABASE {role} OWNER {role} TEMPLATE template0;\n\
                 REVOKE ALL ON DATABASE {role} FROM PUBLIC;\n",
                pg::literal(&until.to_string()),
                pg::literal(&pg::scram_verifier(&password, &salt)),
            );
            admin
                .execute(None, &sql)
                .map_err(BackupError::ScratchNotCreated)?;
            (admin.as_user(&name, &password), true)
        }
        None => {
            guard.session = Some(Session::open(conn)?);
            conn.query(
                Some("postgres"),
                &format!("CREATE DATABASE {} TEMPLATE template0", pg::ident(&name)),
            )?;
            (conn.clone(), false)
        }
    };
    progress(&format!(
        "trial restore into `{name}` as {}",
        if isolated {
            format!("the throwaway role `{name}`")
        } else {
            format!("the Mattermost role `{}`", conn.user())
        }
    ));
    let result = trial(&runner, &name, &staged.join("db.dump"));
    drop(scratch);
    let dropped = guard.remove();
    if let Some(e) = interrupted() {
        return Err(e);
    }
    let finish = |verdict| {
        Ok(Verification {
            verdict,
            sql_role: runner.user().to_string(),
            isolated,
        })
    };
    let got = match result {
        Ok(Ok(got)) => got,
        Ok(Err(why)) => {
            dropped?;
            return finish(Verdict::Bad(why));
        }
        Err(e) => return Err(e),
    };
    dropped?;
    let want = contents
        .manifest
        .get("tables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut diffs = Vec::new();
    for (table, n) in &want {
        match got.get(table) {
            Some(m) if m == n => {}
            Some(m) => diffs.push(format!("{table}: {m} rows restored, {n} in the manifest")),
            None => diffs.push(format!("{table}: missing after the trial restore")),
        }
    }
    for table in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!("{table}: restored but not in the manifest"));
    }
    if !diffs.is_empty() {
        return finish(Verdict::Bad(format!(
            "row counts differ: {}",
            diffs.join("; ")
        )));
    }
    progress(&format!(
        "trial restore: {} tables, row counts match",
        got.len()
    ));
    finish(Verdict::Good(json!({
        "archive": path.display().to_string(),
        "tables": got.len(),
        "manifest": contents.manifest,
    })))
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// `pg_restore` into `db` as `conn`'s role, then counts as that role: `Ok(Err)` when the
/// dump itself would not restore. Owners and privileges of the archive are left out
/// (`--no-owner --no-privileges`), and so are tablespaces, publications, subscriptions and
/// security labels: a trial needs the rows only.
fn trial(
    conn: &Conn,
    db: &str,
    dump: &Path,
) -> Result<std::result::Result<Map<String, Value>, String>> {
    // Opened here and handed over as a descriptor (see `Conn::restore_dump`): parallel
    // jobs, and a peer-authenticated client that could not open the path itself.
    let file = std::fs::File::open(dump).map_err(io_err("open", dump))?;
    let restored = conn.restore_dump(
        &file,
        db,
        pg::restore_jobs(),
        &[
            "--no-owner",
            "--no-privileges",
            "--no-tablespaces",
            "--no-publications",
            "--no-subscriptions",
            "--no-security-labels",
        ],
        "the trial `pg_restore`",
    );
    match restored {
        Ok(()) => {}
        Err(e @ pg::PgError::Interrupted { .. }) => return Err(e.into()),
        // A full disk, a refused password, a server gone: the archive is not to blame
        // (exit 2, not the verdict "damaged").
        Err(e) if e.not_the_dump() => return Err(e.into()),
        Err(e) => {
            return Ok(Err(format!(
                "the dump does not restore: {}",
                crate::error::Error::from(e)
            )))
        }
    }
    Ok(Ok(counts(&conn.query(Some(db), COUNT_SQL)?)))
}
