//! Mattermost's backup and restore (render stays in `render/`, the probe in `probe/`).
//!
//! Owns what `mattermost backup`, `backup --verify` and `restore` do to the database and
//! to `config.json` and `data/`: [`pg`] the PostgreSQL clients, [`archive`] the one-file
//! archive, [`backup`] writing and verifying it, [`restore`] the journaled all-or-nothing
//! restore and the recovery of an interrupted one. It never puts the SQL password in argv.

pub mod archive;
pub mod backup;
pub mod dbprops;
pub mod pg;
pub mod restore;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;

pub type Result<T, E = MattermostError> = std::result::Result<T, E>;

/// What can stop reading Mattermost's config.json and data source, as data;
/// `From<MattermostError> for Error` below writes the messages and hints.
#[derive(Debug, thiserror::Error)]
pub enum MattermostError {
    /// config.json does not exist.
    #[error("Mattermost's config file `{}` does not exist", config_file.display())]
    ConfigMissing { config_file: PathBuf },
    /// config.json is a symbolic link.
    #[error("`{}` is a symbolic link; toolctl reads Mattermost's config.json without following links", config_file.display())]
    ConfigLink { config_file: PathBuf },
    /// A file or directory that cannot be looked at or read; `regular`: the hint says
    /// config.json must be a regular file.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
        regular: bool,
    },
    /// config.json that the Mattermost user (`reader`, uid and gid) could not read.
    #[error("`{}` is not readable by the Mattermost user ({})", config_file.display(), crate::sys::users::describe_uid(reader.0))]
    ConfigUnreadable {
        config_file: PathBuf,
        reader: (u32, u32),
    },
    /// config.json is not JSON.
    #[error("`{}` is not valid JSON", config_file.display())]
    NotJson {
        config_file: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The data source (PostgreSQL).
    #[error(transparent)]
    Pg(#[from] pg::PgError),
    /// A failure of the file primitives (`sys`), already told for a person.
    #[error(transparent)]
    Told(#[from] Error),
}

impl From<MattermostError> for Error {
    fn from(e: MattermostError) -> Self {
        let message = e.to_string();
        match e {
            MattermostError::ConfigMissing { .. } => Error::new(message).hint("run `toolctl reconfigure` to create it, or set `[mattermost] config_file` to the file Mattermost uses"),
            MattermostError::ConfigLink { .. } => Error::new(message).hint("replace the link with the file itself (or set `[mattermost] config_file` to the real file); nothing was changed"),
            MattermostError::Io {
                action,
                path,
                source,
                regular,
            } => {
                let e = Error::io(action, &path, source);
                if regular {
                    e.hint("config.json must be a regular file; nothing was changed")
                } else {
                    e
                }
            }
            MattermostError::ConfigUnreadable { config_file, reader } => Error::new(message)
                .cause("toolctl reads config.json with that user's rights: a link to another user's file is refused")
                .hint(format!(
                    "give the file to the Mattermost user (`chown {}:{} {}`), or set `mattermost.uid`/`gid` to the user Mattermost runs as; nothing was changed",
                    reader.0,
                    reader.1,
                    config_file.display()
                )),
            MattermostError::NotJson { source, .. } => Error::new(message)
                .cause(source)
                .hint("fix the file (Mattermost will not start with it either)"),
            MattermostError::Pg(e) => e.into(),
            MattermostError::Told(e) => e,
        }
    }
}
use crate::model::Model;
use crate::paths::Paths;
use crate::sys::errno::ELOOP;

/// The default output directory of `mattermost backup`, under the root.
pub const BACKUPS_DIR: &str = "var/opt/toolctl/backups";
/// Where the restore journal lives, under the root.
pub const STATE_DIR: &str = "var/opt/toolctl";

/// Where Mattermost runs from when its unit does not say: the `WorkingDirectory` of its
/// documented systemd unit. Mattermost resolves a relative `FileSettings.Directory`
/// against its working directory, not against config.json's folder.
pub const WORKING_DIR: &str = "/opt/mattermost";

pub use crate::model::DIRECTORY_ENV;

/// Where the data directory's path came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// `[mattermost] data_dir`.
    Setting,
    /// `MM_FILESETTINGS_DIRECTORY` in `[mattermost] env`.
    Env,
    /// config.json's `FileSettings.Directory`: for `backup` only.
    ConfigJson,
}

impl DataSource {
    pub fn describe(self) -> &'static str {
        match self {
            DataSource::Setting => "[mattermost] data_dir",
            DataSource::Env => "MM_FILESETTINGS_DIRECTORY in [mattermost] env",
            DataSource::ConfigJson => "FileSettings.Directory in config.json",
        }
    }
}

/// What backup and restore work on, from the resolved settings.
pub struct Target {
    pub conn: pg::Conn,
    /// `[mattermost] admin_data_source`: the role that creates, renames and drops the
    /// databases when the Mattermost role may not (see [`Target::db_admin`]).
    pub admin: Option<pg::Conn>,
    /// The `--root` directory: every path below it is opened from it, link by link.
    pub root: PathBuf,
    /// The path of config.json.
    pub config_file: PathBuf,
    /// config.json as read (without following a link, as the Mattermost user could read it).
    pub config_bytes: Vec<u8>,
    /// Its permission bits (kept in the archive).
    pub config_mode: u32,
    /// `FileSettings.DriverName` (`local` unless set).
    pub driver: String,
    /// The data directory (below the root).
    pub data_dir: PathBuf,
    /// The data directory as Mattermost sees it (`/var/opt/…`, whatever `--root` is).
    pub data_logical: String,
    pub data_source: DataSource,
    /// config.json's `FileSettings.Directory` as written (for hints and comparisons).
    pub config_directory: Option<String>,
    /// Who owns what config.json says, when it is not root: whose rights the data directory
    /// is read with when config.json named it.
    pub config_writer: Option<(u32, u32)>,
    pub owner: Option<(u32, u32)>,
    pub state_dir: PathBuf,
    pub warnings: Vec<String>,
}

/// A path as Mattermost reads it, below the root: absolute as given, relative against
/// its working directory (`[mattermost] working_dir`, [`WORKING_DIR`] by default).
pub fn mattermost_path(paths: &Paths, working_dir: &str, p: &str) -> PathBuf {
    if p.starts_with('/') {
        paths.rooted(p)
    } else {
        let w = if working_dir.is_empty() {
            WORKING_DIR
        } else {
            working_dir
        };
        paths.rooted(&format!("{}/{p}", w.trim_end_matches('/')))
    }
}

/// config.json's bytes, who besides root could have written them, its permission bits.
type ConfigRead = (Vec<u8>, Option<(u32, u32)>, u32);

/// Reads config.json without following a link anywhere below the root, and only when the
/// Mattermost user (`mattermost.uid`, else the owner of its directory) could read it, or
/// it is toolctl's own single-link file: a link or hard link to a root-only file is refused.
/// Returns the bytes and who besides root could have written them.
fn read_config(paths: &Paths, config_file: &Path, owner: Option<(u32, u32)>) -> Result<ConfigRead> {
    use std::os::unix::fs::MetadataExt;
    let dir = config_file.parent().unwrap_or(Path::new("/"));
    let name = config_file.file_name().unwrap_or_default();
    let missing = || MattermostError::ConfigMissing {
        config_file: config_file.to_path_buf(),
    };
    let d = match crate::sys::fs::open_dir_nofollow(&paths.root, dir) {
        Ok(d) => d,
        Err(_) if !dir.exists() && std::fs::symlink_metadata(dir).is_err() => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    let dst = d.stat_self().map_err(|source| MattermostError::Io {
        action: "inspect",
        path: dir.to_path_buf(),
        source,
        regular: false,
    })?;
    let f = match d.open_file(name) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
        Err(e) if e.raw_os_error() == Some(ELOOP) => {
            return Err(MattermostError::ConfigLink {
                config_file: config_file.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(MattermostError::Io {
                action: "read Mattermost's config.json",
                path: config_file.to_path_buf(),
                source,
                regular: true,
            })
        }
    };
    let meta = f.metadata().map_err(|source| MattermostError::Io {
        action: "inspect",
        path: config_file.to_path_buf(),
        source,
        regular: false,
    })?;
    let reader = owner.unwrap_or((dst.uid, dst.gid));
    let st = crate::sys::fs::Stat {
        kind: crate::sys::fs::Kind::File,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    };
    let own_file = meta.uid() == crate::sys::users::euid() && meta.nlink() == 1;
    if !own_file && !crate::sys::fs::readable_by(&st, reader.0, reader.1) {
        return Err(MattermostError::ConfigUnreadable {
            config_file: config_file.to_path_buf(),
            reader,
        });
    }
    let euid = crate::sys::users::euid();
    let writer = if meta.uid() != 0 && meta.uid() != euid {
        Some((meta.uid(), meta.gid()))
    } else if dst.uid != 0 && dst.uid != euid {
        Some((dst.uid, dst.gid))
    } else {
        None
    };
    let cap = crate::fsutil::SETTINGS_CAP;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&f, cap + 1), &mut bytes).map_err(
        |source| MattermostError::Io {
            action: "read Mattermost's config.json",
            path: config_file.to_path_buf(),
            source,
            regular: false,
        },
    )?;
    if bytes.len() as u64 > cap {
        return Err(crate::fsutil::ReadFailure::TooLarge(cap)
            .into_error("Mattermost's config.json", config_file)
            .into());
    }
    Ok((bytes, writer, meta.mode() & 0o777))
}

impl Target {
    pub fn new(paths: &Paths, m: &Model) -> Result<Target> {
        let mm = &m.mattermost;
        let mut warnings = Vec::new();
        let source = mm.sql_data_source.as_deref().unwrap_or_default();
        let bin_dir = mm.pg_bin_dir.as_deref().map(PathBuf::from);
        let conn = pg::Conn::new(
            source,
            mm.sql_password.as_ref().map(|p| p.expose().as_str()),
            bin_dir.clone(),
            &mut warnings,
        )?;
        // Its warnings are the commands' own to give (they connect with it).
        let admin = pg::admin_conn(
            mm.admin_data_source.as_deref(),
            mm.admin_sql_password.as_ref().map(|p| p.expose().as_str()),
            bin_dir,
            &mut Vec::new(),
        )?;
        let config_file = match mm.config_file.as_deref() {
            Some(c) => paths.rooted(c),
            None => paths.rendered_dir.join("mattermost/config.json"),
        };
        let owner = match (mm.uid, mm.gid) {
            (Some(u), Some(g)) => Some((u as u32, g as u32)),
            (Some(u), None) => Some((u as u32, u as u32)),
            _ => None,
        };
        let mut conn = conn;
        // Peer authentication: no password, a socket: the clients run as that user.
        conn.peer_as(owner.map(|o| o.0));
        let (config_bytes, config_writer, config_mode) = read_config(paths, &config_file, owner)?;
        let doc: Value =
            serde_json::from_slice(&config_bytes).map_err(|source| MattermostError::NotJson {
                config_file: config_file.clone(),
                source,
            })?;
        let fs = &doc["FileSettings"];
        let driver = fs["DriverName"].as_str().unwrap_or("local").to_string();
        let config_directory = fs["Directory"].as_str().map(str::to_string);
        // The settings decide; config.json only when they say nothing (backup only).
        let env_dir = mm.env_var(DIRECTORY_ENV).map(str::to_string);
        let (dir, data_source) = match (mm.data_dir.as_deref(), env_dir) {
            (Some(d), _) => (d.to_string(), DataSource::Setting),
            (None, Some(d)) => (d, DataSource::Env),
            (None, None) => (
                config_directory.clone().unwrap_or_else(|| "./data/".into()),
                DataSource::ConfigJson,
            ),
        };
        let data_dir = mattermost_path(paths, &mm.working_dir, dir.trim_end_matches('/'));
        let data_logical = paths.logical(&data_dir);
        Ok(Target {
            conn,
            admin,
            root: paths.root.clone(),
            config_file,
            config_bytes,
            config_mode,
            driver,
            data_dir,
            data_logical,
            data_source,
            config_directory,
            config_writer,
            owner,
            state_dir: paths.root.join(STATE_DIR),
            warnings,
        })
    }

    /// The connection that renames and drops databases: `admin_data_source` when set (it
    /// created them), else the Mattermost role. A restore's rollback and undo use it, as
    /// the restore's switch did.
    pub fn db_admin(&self) -> &pg::Conn {
        self.admin.as_ref().unwrap_or(&self.conn)
    }

    pub fn dbname(&self) -> &str {
        self.conn.dbname().unwrap_or("mattermost_production")
    }

    pub fn local_files(&self) -> bool {
        self.driver == "local"
    }

    /// Who restored files belong to: `mattermost.uid`/`gid`, else `found`, the owner of
    /// the existing data directory (the directory a link data/ points to), as read from
    /// its opened descriptor.
    pub fn restore_owner(&self, found: Option<(u32, u32)>) -> Option<(u32, u32)> {
        self.owner.or(found)
    }

    /// Where the data directory's path came from, for messages.
    pub fn data_dir_source_text(&self) -> &'static str {
        self.data_source.describe()
    }

    /// Whose rights `data/` is read with: `mattermost.uid`/`gid`; else, when config.json
    /// named the directory, whoever could write config.json; else the directory's owner.
    pub fn data_reader(&self, dir: &crate::sys::fs::DirHandle) -> std::io::Result<(u32, u32)> {
        if let Some(o) = self.owner {
            return Ok(o);
        }
        if self.data_source == DataSource::ConfigJson {
            if let Some(w) = self.config_writer {
                return Ok(w);
            }
        }
        let st = dir.stat_self()?;
        Ok((st.uid, st.gid))
    }
}

/// Row counts of every table, `schema.table` → count, as one query (run it inside the
/// snapshot being counted).
pub const COUNT_SQL: &str = "SELECT n.nspname || '.' || c.relname, \
 (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text \
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
 ORDER BY 1";

/// A UTC timestamp for names: `20261201T113300Z`.
pub fn stamp() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.replace(['-', ':'], "")
}
