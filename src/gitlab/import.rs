//! `import gitlab-secrets`: GitLab's encrypted settings → the age store, all or nothing.
//!
//! Every file is read, decrypted with the current or a rotated key base and checked against
//! its scope's schema (by the caller's `parse`: which scope a file fills, and its schema,
//! belong to the secrets store, not to this module) before anything is written; the store's files are then replaced
//! through the same journal as `reconfigure` (one journal beside the store, recovered by the
//! next import), so either every scope is imported or none is. Keys a scope already holds
//! that GitLab's file lacks (a `client_secret`) are kept.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{settings_yaml, EncryptedFile, KeyBases, ENCRYPTED_FILES};
use crate::error::{Error, Result};
use crate::fsutil;

/// A key and its value, as the caller's schema parsed them.
pub trait Pair {
    fn key(&self) -> &str;
    fn value(&self) -> &str;
}

/// Why a decrypted file does not fit the scope it fills: `what` names the scope ("the smtp
/// secret"), `why` the problem, `hint` the fix (GitLab's rake task is added here).
pub struct Unfit {
    pub what: String,
    pub why: String,
    pub hint: String,
}

/// One decrypted file, checked against its scope `S` (the caller's), as entries `E`.
pub struct Decrypted<S, E> {
    pub scope: S,
    pub file: PathBuf,
    /// The key names it holds (never the values).
    pub keys: Vec<String>,
    pub entries: Vec<E>,
    /// Opened with a rotated key base.
    pub rotated: bool,
}

/// What `import gitlab-secrets` found.
pub struct Found<S, E> {
    pub files: Vec<Decrypted<S, E>>,
    /// (file name, reason) of everything else in the directory.
    pub not_imported: Vec<(String, String)>,
}

/// Reads and checks every file of `dir` (real paths; `shown` maps one for messages):
/// `parse` gives each decrypted file's scope and entries, or why it does not fit.
pub fn read_all<S, E: Pair>(
    bases: &KeyBases,
    dir: &Path,
    shown: &dyn Fn(&Path) -> String,
    parse: impl Fn(EncryptedFile, &[u8]) -> std::result::Result<(S, Vec<E>), Unfit>,
) -> Result<Found<S, E>> {
    let mut out = Found {
        files: Vec::new(),
        not_imported: Vec::new(),
    };
    for (file, name, _) in ENCRYPTED_FILES {
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
        let (scope, entries) = parse(*file, text.as_bytes()).map_err(|u| {
            Error::new(format!(
                "`{}` does not fit {}: {}",
                shown(&path),
                u.what,
                u.why
            ))
            .hint(format!(
                "{}; fix it with `gitlab-rake gitlab:{}:secret:edit`; nothing was written",
                u.hint,
                name.trim_end_matches(".yaml.enc")
            ))
        })?;
        out.files.push(Decrypted {
            scope,
            file: path,
            keys: entries.iter().map(|e| e.key().to_string()).collect(),
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
pub fn merged<E: Pair>(existing: &[E], imported: &[E]) -> Zeroizing<String> {
    let mut pairs: Vec<(&str, &str)> = existing
        .iter()
        .filter(|e| !imported.iter().any(|i| i.key() == e.key()))
        .map(|e| (e.key(), e.value()))
        .collect();
    pairs.extend(imported.iter().map(|e| (e.key(), e.value())));
    settings_yaml(&pairs)
}
