//! `import gitlab-secrets`: GitLab's encrypted settings → the age store, all or nothing.
//!
//! Every file is read, decrypted with the current or a rotated key base and checked against
//! its scope's schema before anything is written; the store's files are then replaced
//! through the same journal as `reconfigure` (one journal beside the store, recovered by the
//! next import), so either every scope is imported or none is. Keys a scope already holds
//! that GitLab's file lacks (a `client_secret`) are kept.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{settings_yaml, KeyBases, ENCRYPTED_FILES};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::secrets::{schema as secret_schema, Scope};

/// One decrypted file, checked against its scope.
pub struct Decrypted {
    pub scope: Scope,
    pub file: PathBuf,
    /// The key names it holds (never the values).
    pub keys: Vec<String>,
    pub entries: Vec<secret_schema::Entry>,
    /// Opened with a rotated key base.
    pub rotated: bool,
}

/// What `import gitlab-secrets` found.
pub struct Found {
    pub files: Vec<Decrypted>,
    /// (file name, reason) of everything else in the directory.
    pub not_imported: Vec<(String, String)>,
}

/// Reads and checks every file of `dir` (real paths; `shown` maps one for messages).
pub fn read_all(bases: &KeyBases, dir: &Path, shown: &dyn Fn(&Path) -> String) -> Result<Found> {
    let mut out = Found {
        files: Vec::new(),
        not_imported: Vec::new(),
    };
    for (scope, name, _) in ENCRYPTED_FILES {
        let path = dir.join(name);
        let bytes = match fsutil::read_capped(&path, fsutil::SECRET_CAP) {
            Ok(Some(b)) => Zeroizing::new(b),
            Ok(None) => continue,
            Err(f) => return Err(f.into_error("read GitLab's encrypted settings", &path)),
        };
        let (text, index) = bases.open(&bytes).map_err(|why| {
            Error::new(format!("`{}` cannot be decrypted: {why}", shown(&path)))
                .hint("give the gitlab-secrets.json (or secrets.yml) of the GitLab that wrote it with `--secrets-file`; nothing was written")
        })?;
        let entries = secret_schema::parse(*scope, text.as_bytes()).map_err(|e| {
            Error::new(format!(
                "`{}` does not fit the {scope} secret: {e}",
                shown(&path)
            ))
            .hint(format!(
                "{}; fix it with `gitlab-rake gitlab:{}:secret:edit`; nothing was written",
                e.hint(*scope),
                name.trim_end_matches(".yaml.enc")
            ))
        })?;
        out.files.push(Decrypted {
            scope: *scope,
            file: path,
            keys: entries.iter().map(|e| e.key.clone()).collect(),
            entries,
            rotated: index > 0,
        });
    }
    if let Ok(list) = std::fs::read_dir(dir) {
        let mut others: Vec<String> = list
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !ENCRYPTED_FILES.iter().any(|(_, f, _)| f == n))
            .filter(|n| !fsutil::is_temp_name(std::ffi::OsStr::new(n)))
            .collect();
        others.sort();
        for n in others {
            let what = match n.as_str() {
                "ldap.yaml.enc" => "LDAP credentials: toolctl does not manage LDAP",
                n if n.starts_with("redis") => {
                    "Redis credentials of GitLab itself: toolctl's `redis` secret is the mail_room/Sidekiq one; set it with `toolctl redis secret edit` if needed"
                }
                n if n.ends_with(".yaml.enc") => "toolctl does not manage these settings",
                _ => "not an encrypted settings file",
            };
            out.not_imported.push((n, what.to_string()));
        }
    }
    Ok(out)
}

/// The new content of a scope: what it holds, with GitLab's keys overlaid.
pub fn merged(
    existing: &[secret_schema::Entry],
    imported: &[secret_schema::Entry],
) -> Zeroizing<String> {
    let mut pairs: Vec<(&str, &str)> = existing
        .iter()
        .filter(|e| !imported.iter().any(|i| i.key == e.key))
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    pairs.extend(imported.iter().map(|e| (e.key.as_str(), e.value.as_str())));
    settings_yaml(&pairs)
}
