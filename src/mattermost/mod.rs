//! Mattermost's backup and restore (render stays in `render/`, the probe in `probe/`).
//!
//! Owns what `mattermost backup`, `backup --verify` and `restore` do to the database and
//! to `config.json` and `data/`: [`pg`] the PostgreSQL clients, [`archive`] the one-file
//! archive, [`backup`] writing and verifying it, [`restore`] the journaled all-or-nothing
//! restore and the recovery of an interrupted one. It never puts the SQL password in argv.

pub mod archive;
pub mod backup;
pub mod pg;
pub mod restore;

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::settings::resolve::Resolved;

/// The default output directory of `mattermost backup`, under the root.
pub const BACKUPS_DIR: &str = "var/opt/toolctl/backups";
/// Where the restore journal lives, under the root.
pub const STATE_DIR: &str = "var/opt/toolctl";

/// What backup and restore work on, from the resolved settings.
pub struct Target {
    pub conn: pg::Conn,
    /// The real path of config.json.
    pub config_file: PathBuf,
    /// `FileSettings.DriverName` (`local` unless set).
    pub driver: String,
    /// `FileSettings.Directory` resolved (relative to the config file's directory).
    pub data_dir: PathBuf,
    pub owner: Option<(u32, u32)>,
    pub state_dir: PathBuf,
    pub warnings: Vec<String>,
}

impl Target {
    pub fn new(paths: &Paths, r: &Resolved) -> Result<Target> {
        let mut warnings = Vec::new();
        let source = r.str("mattermost.sql_data_source").unwrap_or_default();
        let bin_dir = r.str("mattermost.pg_bin_dir").map(PathBuf::from);
        let conn = pg::Conn::new(
            source,
            r.str("mattermost.sql_password"),
            bin_dir,
            &mut warnings,
        )?;
        let config_file = match r.str("mattermost.config_file") {
            Some(c) => paths.rooted(c),
            None => paths.rendered_dir.join("mattermost/config.json"),
        };
        let (driver, dir) = match crate::fsutil::read_optional_capped(&config_file, crate::fsutil::SETTINGS_CAP, "Mattermost's config.json")? {
            Some(bytes) => {
                let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::new(format!("`{}` is not valid JSON", config_file.display()))
                        .cause(e)
                        .hint("fix the file (Mattermost will not start with it either)")
                })?;
                let fs = &doc["FileSettings"];
                (
                    fs["DriverName"].as_str().unwrap_or("local").to_string(),
                    fs["Directory"].as_str().unwrap_or("./data/").to_string(),
                )
            }
            None => {
                return Err(Error::new(format!(
                    "Mattermost's config file `{}` does not exist",
                    config_file.display()
                ))
                .hint("run `toolctl reconfigure` to create it, or set `[mattermost] config_file` to the file Mattermost uses"))
            }
        };
        let base = config_file.parent().map(PathBuf::from).unwrap_or_default();
        let data_dir = if dir.starts_with('/') {
            paths.rooted(&dir)
        } else {
            base.join(dir.trim_end_matches('/'))
        };
        let owner = match (r.int("mattermost.uid"), r.int("mattermost.gid")) {
            (Some(u), Some(g)) => Some((u as u32, g as u32)),
            (Some(u), None) => Some((u as u32, u as u32)),
            _ => None,
        };
        Ok(Target {
            conn,
            config_file,
            driver,
            data_dir,
            owner,
            state_dir: paths.root.join(STATE_DIR),
            warnings,
        })
    }

    pub fn dbname(&self) -> &str {
        self.conn.dbname().unwrap_or("mattermost_production")
    }

    pub fn local_files(&self) -> bool {
        self.driver == "local"
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
