//! The store's age X25519 identity files (`etc/toolctl/secrets.key` and its rotation files).
//!
//! Owns reading, checking and creating key files in age-keygen's format (`# created:`,
//! `# public key:`, `AGE-SECRET-KEY-1…`), so the `age` CLI reads them as they are, and the
//! names of the files a key rotation keeps beside the key:
//!
//! - `secrets.key`: the current key (role `current`);
//! - `secrets.key.new`: the key a rotation is moving the secrets to (role `staged`), only
//!   while a rotation is unfinished;
//! - `secrets.key.old-<time>[-N]`: copies of retired keys (role `old`), kept until the
//!   administrator removes them.
//!
//! A key file is read only if it is a regular file of at most [`fsutil::KEY_CAP`] bytes
//! (a FIFO or a device must not hang or eat memory), and only if no one but its owner may
//! read, write or execute it, as ssh refuses such a private key. A key is created only with
//! `create_new` semantics: an existing key file is never overwritten here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use zeroize::Zeroizing;

use super::error::{Result, SecretsError};
use crate::fsutil;

/// The role of a key file in the store, as `secrets status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Current,
    Staged,
    Old,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Current => "current",
            Role::Staged => "staged",
            Role::Old => "old",
        }
    }
}

/// One loaded identity file.
pub struct KeyFile {
    pub path: PathBuf,
    pub role: Role,
    identities: Vec<x25519::Identity>,
    /// The file's bytes, to keep an exact copy of a retired key.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl KeyFile {
    /// Loads one identity file; `Ok(None)` when there is no file.
    pub fn load(path: &Path, role: Role) -> Result<Option<KeyFile>> {
        let what = match role {
            Role::Current => "the key",
            Role::Staged => "the staged key",
            Role::Old => "the old key",
        };
        // Read first (regular files only, capped, without blocking), so a FIFO or a device
        // is named for what it is rather than for its mode.
        let Some(bytes) = fsutil::read_optional_capped(path, fsutil::KEY_CAP, what)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let meta = std::fs::metadata(path).map_err(|source| SecretsError::Io {
            action: "read the key",
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if let Some(who) = access_by_others(mode) {
            return Err(SecretsError::KeyOpen {
                what,
                path: path.to_path_buf(),
                who,
                mode,
            });
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretsError::KeyInvalid {
            what,
            path: path.to_path_buf(),
            why: "it is not UTF-8 text".into(),
        })?;
        let identities = parse(text).map_err(|why| SecretsError::KeyInvalid {
            what,
            path: path.to_path_buf(),
            why,
        })?;
        Ok(Some(KeyFile {
            path: path.to_path_buf(),
            role,
            identities,
            bytes,
        }))
    }

    /// The file's own recipient (its first identity's public key).
    pub fn recipient(&self) -> x25519::Recipient {
        self.identities[0].to_public()
    }

    pub fn identities(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.identities.iter().map(|i| i as &dyn age::Identity)
    }
}

pub(super) fn damaged_key_hint() -> &'static str {
    "the file is damaged or truncated: restore it from your backup \
     (a new key cannot decrypt the existing secrets)"
}

/// Who besides the owner may use a file of permission bits `mode`, in words
/// (`group can write`, `group can read, others can read and write`); `None` when no one.
pub fn access_by_others(mode: u32) -> Option<String> {
    let mut parts = Vec::new();
    for (class, shift) in [("group", 3), ("others", 0)] {
        let bits = (mode >> shift) & 0o7;
        let verbs: Vec<&str> = [(4, "read"), (2, "write"), (1, "execute")]
            .into_iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, v)| v)
            .collect();
        let verbs = match verbs.as_slice() {
            [] => continue,
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        parts.push(format!("{class} can {verbs}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The key set a command works with: the current key and, while a rotation is unfinished,
/// the staged key. Readers decrypt with both, so every secret stays readable at every step
/// of a rotation; writers encrypt to both, so whichever of the two ends up current opens
/// what they wrote.
pub struct Key {
    /// The current key file's path.
    pub path: PathBuf,
    current: KeyFile,
    staged: Option<KeyFile>,
}

impl Key {
    /// Loads the key at `path` and its staged key, if any; `Ok(None)` when there is no key.
    pub fn load(path: &Path) -> Result<Option<Key>> {
        let Some(current) = KeyFile::load(path, Role::Current)? else {
            return Ok(None);
        };
        let staged = KeyFile::load(&staged_path(path), Role::Staged)?;
        Ok(Some(Key {
            path: path.to_path_buf(),
            current,
            staged,
        }))
    }

    /// Creates a new key at `path` (0600, parent directory 0700 if created). Fails if a
    /// file is already there.
    pub fn create(path: &Path) -> Result<Key> {
        let (identity, contents) = generate();
        if let Some(dir) = path.parent() {
            fsutil::ensure_dir(dir, 0o700)?;
        }
        fsutil::write_new(path, contents.as_bytes(), 0o600)?;
        Ok(Key {
            path: path.to_path_buf(),
            current: KeyFile {
                path: path.to_path_buf(),
                role: Role::Current,
                identities: vec![identity],
                bytes: Zeroizing::new(contents.as_bytes().to_vec()),
            },
            staged: None,
        })
    }

    /// The current key's own recipient.
    pub fn recipient(&self) -> x25519::Recipient {
        self.current.recipient()
    }

    /// What a writer encrypts to besides `[secrets] recipients`: the current key and,
    /// during a rotation, the staged one.
    pub fn own_recipients(&self) -> Vec<x25519::Recipient> {
        let mut all = vec![self.current.recipient()];
        all.extend(self.staged.as_ref().map(KeyFile::recipient));
        all
    }

    pub fn current(&self) -> &KeyFile {
        &self.current
    }

    pub fn staged(&self) -> Option<&KeyFile> {
        self.staged.as_ref()
    }

    /// Every identity of the current and the staged key.
    pub fn identities(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.current
            .identities()
            .chain(self.staged.iter().flat_map(KeyFile::identities))
    }
}

/// Where a rotation stages the new key before it replaces the current one.
pub fn staged_path(path: &Path) -> PathBuf {
    sibling(path, ".new")
}

/// `secrets.key` + `suffix`, beside it.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    path.with_file_name(format!("{}{suffix}", file_name(path)))
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secrets.key".into())
}

/// The copies of retired keys beside `path` (`secrets.key.old-*`), sorted by name.
pub fn old_copies(path: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}.old-", file_name(path));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        // A temporary file of an interrupted write is not a key copy.
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// A fresh identity and its file contents in age-keygen's format.
pub fn generate() -> (x25519::Identity, Zeroizing<String>) {
    let identity = x25519::Identity::generate();
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let contents = Zeroizing::new(format!(
        "# created: {created}\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    ));
    (identity, contents)
}

fn parse(text: &str) -> std::result::Result<Vec<x25519::Identity>, String> {
    let mut identities = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let identity =
            x25519::Identity::from_str(line).map_err(|why| format!("line {}: {why}", n + 1))?;
        identities.push(identity);
    }
    if identities.is_empty() {
        return Err("it holds no `AGE-SECRET-KEY-1…` line".into());
    }
    Ok(identities)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_names_the_real_bits() {
        assert_eq!(access_by_others(0o600), None);
        assert_eq!(access_by_others(0o700), None);
        assert_eq!(access_by_others(0o640).as_deref(), Some("group can read"));
        assert_eq!(access_by_others(0o620).as_deref(), Some("group can write"));
        assert_eq!(access_by_others(0o602).as_deref(), Some("others can write"));
        assert_eq!(
            access_by_others(0o677).as_deref(),
            Some("group can read, write and execute, others can read, write and execute")
        );
        assert_eq!(
            access_by_others(0o664).as_deref(),
            Some("group can read and write, others can read")
        );
    }
}
