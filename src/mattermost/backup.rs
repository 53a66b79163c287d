//! `mattermost backup` and `backup --verify`.
//!
//! The dump and the row counts come from one snapshot: a repeatable-read session exports
//! it (`pg_export_snapshot()`), counts every table in it, and stays open while
//! `pg_dump --snapshot` reads the same state. The archive is written to a temp name in the
//! output directory, fsynced and renamed: an interrupted backup never leaves a file under
//! the final name. Every child's exit status is checked and the dump's header too, so a
//! failed `pg_dump` can never become an archive.

use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::archive::{self, Damage};
use super::pg::{self, Conn, Session};
use super::{Target, COUNT_SQL};
use crate::error::{Error, Result};
use crate::failpoint::hit;

/// Paths removed on drop unless disarmed: the temps of a failed run.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
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
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name = if rc == 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
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

fn io_err<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    let what = what.to_string();
    move |e| Error::io(&what, path, e)
}

/// Parses the rows of [`COUNT_SQL`].
pub fn counts(rows: &[Vec<String>]) -> Map<String, Value> {
    rows.iter()
        .filter(|r| r.len() == 2)
        .map(|r| (r[0].clone(), json!(r[1].trim().parse::<u64>().unwrap_or(0))))
        .collect()
}

/// Takes the backup into `out_dir`; `progress` prints step lines (on a terminal).
pub fn run(t: &Target, out_dir: &Path, progress: &dyn Fn(&str)) -> Result<Done> {
    let conn = &t.conn;
    let (server_major, server_version) = conn.server_version()?;
    let pg_dump = conn.check_client("pg_dump", server_major)?;
    crate::fsutil::ensure_dir(out_dir, 0o700)?;
    // Temps of an earlier killed run: never complete, safe to remove.
    if let Ok(rd) = std::fs::read_dir(out_dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(".mattermost-") && n.contains(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    // Two backups in one second get `-2`, `-3`…: an archive is never replaced.
    let stem = format!("mattermost-{}-{}", hostname(), super::stamp());
    let (name, final_path) = (1..1000)
        .map(|i| {
            if i == 1 {
                format!("{stem}.tar.gz")
            } else {
                format!("{stem}-{i}.tar.gz")
            }
        })
        .map(|n| (n.clone(), out_dir.join(n)))
        .find(|(_, p)| !p.exists())
        .ok_or_else(|| {
            Error::new("too many backups in this second").hint("run the backup again")
        })?;
    let tmp_dump = out_dir.join(format!(".{name}.dump.tmp"));
    let tmp_archive = out_dir.join(format!(".{name}.tmp"));
    let mut cleanup = Cleanup(vec![tmp_dump.clone(), tmp_archive.clone()]);

    // The snapshot: counts and dump see the same state.
    let mut session = Session::open(conn)?;
    let snap = session
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
    let tables = counts(&rows);
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
    progress(&format!("dumping `{}` with {pg_dump}", t.dbname()));
    let mut cmd = conn.command("pg_dump");
    // -Z0: the archive is gzipped as a whole; compressing the dump inside as well costs
    // time on both sides (pg_dump and pg_restore) for no smaller file.
    cmd.args(["-w", "-Fc", "-Z0", "--snapshot", snap.trim(), "-f"])
        .arg(&tmp_dump)
        .arg("-d")
        .arg(conn.conninfo(None));
    conn.run(cmd, "`pg_dump`")?;
    hit("mattermost-backup-dump");
    session.close(conn)?;
    // pg_dump -Fc starts every archive with `PGDMP`; anything else (empty, cut) is no dump.
    let head = std::fs::read(&tmp_dump).map_err(io_err("read", &tmp_dump))?;
    if head.len() < 16 || &head[..5] != b"PGDMP" {
        return Err(Error::new("`pg_dump` exited 0 but wrote no usable dump")
            .hint("check the PostgreSQL server log; no archive was written"));
    }
    drop(head);

    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp_archive)
        .map_err(io_err("create", &tmp_archive))?;
    let mut w = archive::Writer::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let aerr = |e: std::io::Error| Error::io("write", &tmp_archive, e);
    // pg_dump creates the dump with the umask; it is the whole database: owner only, here
    // and as the archive member.
    std::fs::set_permissions(
        &tmp_dump,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .map_err(io_err("set the mode of", &tmp_dump))?;
    w.file("db.dump", &tmp_dump).map_err(aerr)?;
    // config.json as Target read it: without following a link, with the Mattermost
    // user's rights.
    w.member_bytes("config.json", &t.config_bytes, t.config_mode)
        .map_err(|e| Error::io("archive", &t.config_file, e))?;
    let data = if !t.local_files() {
        json!({ "saved": false, "reason": format!("FileSettings.DriverName is `{}`", t.driver) })
    } else if std::fs::symlink_metadata(&t.data_dir).is_ok() {
        progress(&format!(
            "archiving `{}` ({})",
            t.data_dir.display(),
            t.data_source.describe()
        ));
        // Opened from the root without following any link, and read with the rights of
        // the Mattermost user (see `Target::data_reader`).
        let dir = crate::sys::fs::open_dir_nofollow(&t.root, &t.data_dir)?;
        let reader = t
            .data_reader(&dir)
            .map_err(|e| Error::io("inspect", &t.data_dir, e))?;
        let (files, bytes) = w.tree_at("data", &dir, reader).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                Error::new(format!("cannot archive `{}`", t.data_dir.display()))
                    .cause(e)
                    .hint("toolctl reads data/ with the Mattermost user's rights (`mattermost.uid`, else the directory's owner) and never follows a link: give that file to the Mattermost user or remove it; set `mattermost.data_dir` if the directory is not Mattermost's; no archive was written")
            } else {
                Error::io("archive", &t.data_dir, e)
            }
        })?;
        json!({ "saved": true, "directory": t.data_logical, "source": t.data_source.describe(), "files": files, "bytes": bytes })
    } else {
        progress(&format!(
            "`{}` does not exist: no data/ to save",
            t.data_dir.display()
        ));
        json!({ "saved": false, "reason": "the directory does not exist" })
    };
    hit("mattermost-backup-data");
    let members: Map<String, Value> = w
        .members
        .iter()
        .map(|(k, m)| (k.clone(), json!({ "size": m.size, "sha256": m.sha256 })))
        .collect();
    let manifest = json!({
        "format": 1,
        "toolctl_version": env!("CARGO_PKG_VERSION"),
        "created": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "database": t.dbname(),
        "server_version": server_version,
        "pg_dump": pg_dump,
        "mattermost_schema_version": schema_version,
        "file_driver": t.driver,
        "local_files": t.local_files(),
        "data": data,
        "tables": tables,
        "members": members,
    });
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
    std::fs::hard_link(&tmp_archive, &final_path).map_err(io_err("publish", &final_path))?;
    hit("mattermost-backup-renamed");
    std::fs::remove_file(&tmp_archive).map_err(io_err("remove", &tmp_archive))?;
    crate::fsutil::sync_dir(out_dir)?;
    cleanup.0.retain(|p| p != &tmp_archive);
    Ok(Done {
        path: final_path,
        manifest,
        pg_dump,
    })
}

/// How a verification ended.
pub enum Verdict {
    Good(Value),
    /// Damaged or different: the reason.
    Bad(String),
}

/// Restores `db.dump` of `archive` into a scratch database and compares the row counts.
pub fn verify(t: &Target, path: &Path, progress: &dyn Fn(&str)) -> Result<Verdict> {
    let scratch = tempfile::Builder::new()
        .prefix("toolctl-verify-")
        .tempdir()
        .map_err(|e| Error::new("cannot create a temporary directory").cause(e))?;
    let staged = scratch.path().join("x");
    let contents = match archive::read(path, Some(&staged)) {
        Ok(c) => c,
        Err(Damage::Io(e)) => return Err(Error::io("read", path, e)),
        Err(Damage::Bad(why)) => return Ok(Verdict::Bad(why)),
    };
    progress("checksums match the manifest");
    let conn = &t.conn;
    let (server_major, _) = conn.server_version()?;
    conn.check_client("pg_restore", server_major)?;
    let db = format!("{}_toolctl_verify_{}", t.dbname(), std::process::id());
    let db: String = db.chars().take(63).collect();
    conn.query(
        Some("postgres"),
        &format!("CREATE DATABASE {} TEMPLATE template0", pg::ident(&db)),
    )?;
    let result = trial(conn, &db, &staged.join("db.dump"));
    let dropped = conn.query(
        Some("postgres"),
        &format!("DROP DATABASE IF EXISTS {}", pg::ident(&db)),
    );
    let got = match result {
        Ok(Ok(got)) => got,
        Ok(Err(why)) => return Ok(Verdict::Bad(why)),
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
        return Ok(Verdict::Bad(format!(
            "row counts differ: {}",
            diffs.join("; ")
        )));
    }
    progress(&format!(
        "trial restore: {} tables, row counts match",
        got.len()
    ));
    Ok(Verdict::Good(json!({
        "archive": path.display().to_string(),
        "tables": got.len(),
        "manifest": contents.manifest,
    })))
}

/// `pg_restore` into `db`, then counts: `Ok(Err)` when the dump itself would not restore.
fn trial(
    conn: &Conn,
    db: &str,
    dump: &Path,
) -> Result<std::result::Result<Map<String, Value>, String>> {
    let mut cmd = conn.command("pg_restore");
    cmd.args([
        "-w",
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-acl",
        "-d",
    ])
    .arg(conn.conninfo(Some(db)))
    .arg(dump);
    if let Err(e) = conn.run(cmd, "the trial `pg_restore`") {
        return Ok(Err(format!("the dump does not restore: {e}")));
    }
    Ok(Ok(counts(&conn.query(Some(db), COUNT_SQL)?)))
}
