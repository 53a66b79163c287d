//! The store's age X25519 identity file (`etc/toolctl/secrets.key`).
//!
//! Owns reading, checking and creating the key file in age-keygen's format
//! (`# created:`, `# public key:`, `AGE-SECRET-KEY-1…`), so the `age` CLI reads it as is.
//! A key readable by group or others is refused, as ssh refuses such a private key. A key
//! is created only with `create_new` semantics: an existing key is never overwritten here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::fsutil;

/// A loaded identity file: the first identity is the store's own; others (kept by hand
/// after a rotation) still decrypt.
pub struct Key {
    pub path: PathBuf,
    identities: Vec<x25519::Identity>,
    /// `secrets.key.new` left by a `rekey --new-key` that was interrupted after the
    /// secrets were re-encrypted: its identity is loaded too, so nothing becomes unreadable,
    /// and the next `rekey` finishes the job.
    pub pending: Option<PathBuf>,
}

impl Key {
    /// Loads the key at `path`; `Ok(None)` when there is no file.
    pub fn load(path: &Path) -> Result<Option<Key>> {
        let Some(mut key) = Self::load_one(path)? else {
            return Ok(None);
        };
        let pending = pending_path(path);
        if let Some(new) = Self::load_one(&pending)? {
            key.identities.extend(new.identities);
            key.pending = Some(pending);
        }
        Ok(Some(key))
    }

    fn load_one(path: &Path) -> Result<Option<Key>> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read the key", path, e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::new(format!(
                "the key `{}` is readable by group or others (mode {mode:04o})",
                path.display()
            ))
            .cause("a private key must be readable by its owner only; it is refused, as ssh refuses such keys")
            .hint(format!("run `chmod 600 {}`", path.display())));
        }
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| Error::io("read the key", path, e))?,
        );
        let identities = parse(&text).map_err(|why| {
            Error::new(format!(
                "the key `{}` is not a valid age identity file",
                path.display()
            ))
            .cause(why)
            .hint(
                "the file is damaged or truncated: restore it from your backup \
                     (a new key cannot decrypt the existing secrets)",
            )
        })?;
        Ok(Some(Key {
            path: path.to_path_buf(),
            identities,
            pending: None,
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
            identities: vec![identity],
            pending: None,
        })
    }

    /// The store's own recipient (the first identity's public key).
    pub fn recipient(&self) -> x25519::Recipient {
        self.identities[0].to_public()
    }

    pub fn identities(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.identities.iter().map(|i| i as &dyn age::Identity)
    }
}

/// Where `rekey --new-key` stages the new key before it replaces the old one.
pub fn pending_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.new"))
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
