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

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::archive::{self, Damage};
use super::pg::{ident, literal};
use super::Target;
use crate::error::{Error, Result};
use crate::failpoint::hit;

pub const JOURNAL: &str = "mattermost-restore.json";

/// The journal's record of a restore in progress.
#[derive(Clone, Debug)]
struct Journal {
    phase: String,
    live: String,
    new_db: String,
    old_db: String,
    staging: PathBuf,
    staged_config: PathBuf,
    config_file: PathBuf,
    data_dir: PathBuf,
    old_data: PathBuf,
}

impl Journal {
    fn to_json(&self) -> Value {
        json!({
            "phase": self.phase,
            "live": self.live,
            "new_db": self.new_db,
            "old_db": self.old_db,
            "staging": self.staging,
            "staged_config": self.staged_config,
            "config_file": self.config_file,
            "data_dir": self.data_dir,
            "old_data": self.old_data,
        })
    }

    fn from_json(v: &Value) -> Option<Journal> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Journal {
            phase: s("phase")?,
            live: s("live")?,
            new_db: s("new_db")?,
            old_db: s("old_db")?,
            staging: s("staging")?.into(),
            staged_config: s("staged_config")?.into(),
            config_file: s("config_file")?.into(),
            data_dir: s("data_dir")?.into(),
            old_data: s("old_data")?.into(),
        })
    }

    fn staged_data(&self) -> PathBuf {
        self.staging.join("data")
    }
}

fn journal_path(t: &Target) -> PathBuf {
    t.state_dir.join(JOURNAL)
}

fn write_journal(t: &Target, j: &Journal) -> Result<()> {
    crate::fsutil::ensure_dir(&t.state_dir, 0o755)?;
    let mut text = serde_json::to_vec_pretty(&j.to_json()).expect("JSON serializes");
    text.push(b'\n');
    crate::fsutil::write_atomic(&journal_path(t), &text, 0o600)
}

fn remove_tree(p: &Path) -> Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).map_err(|e| Error::io("remove", p, e)),
        Ok(_) => std::fs::remove_file(p).map_err(|e| Error::io("remove", p, e)),
        Err(_) => Ok(()),
    }
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// A rename without its own fsync: `finish_files` makes all of them durable with one
/// `syncfs` before the journal goes (each step re-runs safely until then).
fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::io("rename", from, e))
}

/// Makes the files under `dirs` durable: one `syncfs` per filesystem they are on.
fn sync_fs(dirs: &[&Path]) -> Result<()> {
    for d in dirs {
        if exists(d) {
            archive::syncfs(d).map_err(|e| Error::io("sync", d, e))?;
        }
    }
    Ok(())
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
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
    let j = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| Journal::from_json(&v))
        .ok_or_else(|| {
            Error::new(format!(
                "the restore journal `{}` is damaged",
                path.display()
            ))
            .hint("inspect the databases and Mattermost's files by hand, then remove the journal")
        })?;
    let new_exists = db_exists(t, &j.new_db).map_err(|e| {
        e.hint("an interrupted restore must be finished or rolled back first, and that needs the database: start PostgreSQL and run the command again")
    })?;
    if j.phase == "staged" && !new_exists {
        finish_files(&j)?;
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        return Ok(Some(format!(
            "completed an interrupted restore of `{}` (the database had been switched; the files now match it; the previous database is `{}`)",
            j.live, j.old_db
        )));
    }
    roll_back(t, &j)?;
    Ok(Some(format!(
        "rolled back an interrupted restore of `{}` (the live database and files were never switched and are unchanged)",
        j.live
    )))
}

fn roll_back(t: &Target, j: &Journal) -> Result<()> {
    t.conn.query(
        Some("postgres"),
        &format!("DROP DATABASE IF EXISTS {}", ident(&j.new_db)),
    )?;
    remove_tree(&j.staging)?;
    remove_tree(&j.staged_config)?;
    let path = journal_path(t);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", &path, e)),
        _ => Ok(()),
    }
}

/// The file steps after the commit point; each checks what is there, so it can re-run.
fn finish_files(j: &Journal) -> Result<()> {
    let staged = j.staged_data();
    if exists(&staged) {
        if exists(&j.data_dir) {
            rename(&j.data_dir, &j.old_data)?;
        }
        hit("mattermost-restore-data-aside");
        rename(&staged, &j.data_dir)?;
    }
    hit("mattermost-restore-data-in");
    if exists(&j.staged_config) {
        rename(&j.staged_config, &j.config_file)?;
    }
    hit("mattermost-restore-config-in");
    sync_fs(&[parent(&j.data_dir), parent(&j.config_file)])?;
    remove_tree(&j.old_data)?;
    remove_tree(&j.staging)?;
    hit("mattermost-restore-cleaned");
    Ok(())
}

/// Sessions connected to `db` other than ours: `pid user application address state`.
pub fn sessions(t: &Target, db: &str) -> Result<Vec<String>> {
    let rows = t.conn.query(
        Some("postgres"),
        &format!(
            "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), coalesce(client_addr::text, 'local socket'), coalesce(state, '') \
             FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid() ORDER BY pid",
            literal(db)
        ),
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "pid {} user `{}` application `{}` from {} ({})",
                r[0],
                r.get(1).map_or("", |s| s),
                r.get(2).map_or("", |s| s),
                r.get(3).map_or("", |s| s),
                r.get(4).map_or("", |s| s)
            )
        })
        .collect())
}

fn terminate(t: &Target, db: &str) -> Result<()> {
    t.conn.query(
        Some("postgres"),
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()",
            literal(db)
        ),
    )?;
    Ok(())
}

/// What a restore did.
pub struct Done {
    pub database: String,
    pub old_database: Option<String>,
    pub manifest: Value,
}

/// Restores `archive`; `force` terminates connected sessions.
pub fn run(t: &Target, path: &Path, force: bool, progress: &dyn Fn(&str)) -> Result<Done> {
    let live = t.dbname().to_string();
    let stamp = super::stamp();
    let cut = |s: String| -> String { s.chars().take(63).collect() };
    let data_parent = t.data_dir.parent().map(PathBuf::from).unwrap_or_default();
    let data_name = t
        .data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let config_dir = t
        .config_file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let j = Journal {
        phase: "preparing".into(),
        live: live.clone(),
        new_db: cut(format!("{live}_toolctl_restore_{stamp}")),
        old_db: cut(format!("{live}_before_restore_{stamp}")),
        staging: data_parent.join(format!(".toolctl-restore-{stamp}")),
        staged_config: config_dir.join(format!(".config.json.toolctl-restore-{stamp}")),
        config_file: t.config_file.clone(),
        data_dir: t.data_dir.clone(),
        old_data: data_parent.join(format!(".{data_name}.before-restore-{stamp}")),
    };
    // The archive is checked in full while it is extracted into the staging directory (one
    // read, not two): a damaged one is refused and the staging removed before the live
    // database or files are looked at. The journal goes first, so a kill here is cleaned up.
    let (server_major, _) = t.conn.server_version()?;
    t.conn.check_client("pg_restore", server_major)?;
    if !data_parent.as_os_str().is_empty() {
        crate::fsutil::ensure_dir(&data_parent, 0o755)?;
    }
    write_journal(t, &j)?;
    hit("mattermost-restore-journal");
    // 0700: the staged config.json holds the database password and the GitLab secret.
    let extracted = std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&j.staging)
        .map_err(|e| Error::io("create", &j.staging, e))
        .and_then(|()| match archive::read(path, Some(&j.staging)) {
            Ok(c) => Ok(c),
            Err(Damage::Io(e)) => Err(Error::io("read", path, e).hint(
                "nothing was changed; give the path of an archive `toolctl mattermost backup` wrote",
            )),
            Err(Damage::Bad(why)) => Err(Error::new(format!("`{}` cannot be restored", path.display()))
                .cause(why)
                .hint("nothing was changed; restore another archive (`toolctl mattermost backup --verify ARCHIVE` checks one)")),
        });
    let contents = match extracted {
        Ok(c) => c,
        Err(e) => {
            return Err(match roll_back(t, &j) {
                Ok(()) => e,
                Err(r) => e.cause(format!("and rolling back failed: {r}")),
            })
        }
    };
    hit("mattermost-restore-extracted");
    progress("checksums match the manifest");
    let live_exists = db_exists(t, &live)?;
    if live_exists {
        let connected = sessions(t, &live)?;
        if !connected.is_empty() && !force {
            let mut e = Error::new(format!(
                "{} session(s) are connected to `{live}`; nothing was changed",
                connected.len()
            ));
            for s in &connected {
                e = e.cause(s);
            }
            roll_back(t, &j)?;
            return Err(e.hint("stop Mattermost (`systemctl stop mattermost` or `gitlab-ctl stop mattermost`) and run the restore again, or pass `--force-disconnect` to terminate these sessions"));
        }
    }
    let staged = (|| -> Result<()> {
        std::fs::copy(j.staging.join("config.json"), &j.staged_config)
            .map_err(|e| Error::io("stage", &j.staged_config, e))?;
        if let Some((uid, gid)) = t.owner {
            chown_tree(&j.staged_data(), uid, gid)?;
            std::os::unix::fs::chown(&j.staged_config, Some(uid), Some(gid))
                .map_err(|e| Error::io("chown", &j.staged_config, e))?;
        }
        if !t.local_files()
            || !contents.manifest["data"]["saved"]
                .as_bool()
                .unwrap_or(false)
        {
            // No local files in the archive: the live data/ (if any) stays as it is.
            remove_tree(&j.staged_data())?;
        }
        progress(&format!("restoring the dump into `{}`", j.new_db));
        t.conn.query(
            Some("postgres"),
            &format!("CREATE DATABASE {} TEMPLATE template0", ident(&j.new_db)),
        )?;
        hit("mattermost-restore-created");
        let mut cmd = t.conn.command("pg_restore");
        cmd.args([
            "-w",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-acl",
            "-d",
        ])
        .arg(t.conn.conninfo(Some(&j.new_db)))
        .arg(j.staging.join("db.dump"));
        t.conn.run(cmd, "`pg_restore`")?;
        hit("mattermost-restore-restored");
        // The staged files are durable before the journal says so (written back while
        // pg_restore ran, so this is cheap now).
        sync_fs(&[&j.staging, parent(&j.staged_config)])?;
        let mut staged = j.clone();
        staged.phase = "staged".into();
        write_journal(t, &staged)?;
        hit("mattermost-restore-staged");
        Ok(())
    })();
    if let Err(e) = staged {
        return Err(match roll_back(t, &j) {
            Ok(()) => e.hint("nothing was changed: the live database and files are as they were"),
            Err(r) => e.cause(format!("and rolling back failed: {r}")),
        });
    }
    if live_exists && force {
        terminate(t, &live)?;
    }
    let swap = if live_exists {
        format!(
            "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} RENAME TO {};",
            ident(&live),
            ident(&j.old_db),
            ident(&j.new_db),
            ident(&live)
        )
    } else {
        format!(
            "ALTER DATABASE {} RENAME TO {};",
            ident(&j.new_db),
            ident(&live)
        )
    };
    // One query string is one implicit transaction: both renames commit or neither does.
    if let Err(e) = t.conn.query(Some("postgres"), &swap) {
        let e = e.cause("switching the databases failed");
        return Err(match roll_back(t, &j) {
            Ok(()) => e.hint("nothing was changed: stop Mattermost (it may have reconnected) and run the restore again"),
            Err(r) => e.cause(format!("and rolling back failed: {r}")),
        });
    }
    hit("mattermost-restore-switched");
    finish_files(&j)?;
    let jp = journal_path(t);
    std::fs::remove_file(&jp).map_err(|e| Error::io("remove", &jp, e))?;
    crate::fsutil::sync_dir(&t.state_dir)?;
    Ok(Done {
        database: live,
        old_database: live_exists.then(|| j.old_db.clone()),
        manifest: contents.manifest,
    })
}

fn chown_tree(p: &Path, uid: u32, gid: u32) -> Result<()> {
    if !exists(p) {
        return Ok(());
    }
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).map_err(|e| Error::io("chown", p, e))?;
    if std::fs::symlink_metadata(p)
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        for e in std::fs::read_dir(p)
            .map_err(|e| Error::io("read", p, e))?
            .flatten()
        {
            chown_tree(&e.path(), uid, gid)?;
        }
    }
    Ok(())
}
