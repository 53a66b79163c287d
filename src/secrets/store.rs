//! The store's rules: where each scope's file is, which key and recipients apply, when a
//! key may be created, and how a secret is read (capped, regular files only, retried once
//! against a key rotation) and written (under the lock, atomically, 0600, to the key loaded
//! under that lock).
//!
//! The secrets directory is refused when it is group- or world-writable or owned by
//! another user than the caller or root, as ssh refuses such a `~/.ssh`: whoever can write
//! there can replace a secret.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::str::FromStr;

use age::x25519;

use super::crypt::{self, DecryptFailure, Plaintext};
use super::error::{Result, SecretsError};
use super::key::Key;
use super::schema::{self, SchemaError};
use super::scope::Scope;
use crate::fsutil;
use crate::paths::Paths;
use crate::sys::notice::Notify;
use crate::sys::users::user_name;

/// The secrets store of one root.
/// A recipient from `[secrets] recipients` and the line of the settings file it is on
/// (for the error naming an invalid one).
#[derive(Debug, Clone)]
pub struct Recipient {
    pub value: String,
    pub line: usize,
}

pub struct Store {
    pub paths: Paths,
    extra_recipients: Vec<Recipient>,
}

impl Store {
    /// The store at `paths`, encrypting also to `extra_recipients` (`[secrets] recipients`).
    pub fn new(paths: Paths, extra_recipients: Vec<Recipient>) -> Self {
        Store {
            paths,
            extra_recipients,
        }
    }

    /// The encrypted file of `scope`.
    pub fn file(&self, scope: Scope) -> PathBuf {
        self.paths.secrets_dir.join(scope.file_name())
    }

    /// The scopes whose encrypted file exists.
    pub fn existing(&self) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            // A file that cannot even be looked at counts as there: never create a new key
            // over secrets we cannot see.
            .filter(|s| self.file(*s).try_exists().unwrap_or(true))
            .collect()
    }

    /// The key, which must exist: reading needs it.
    pub fn key(&self) -> Result<Key> {
        Key::load(&self.paths.key_file)?.ok_or_else(|| self.missing_key())
    }

    fn missing_key(&self) -> SecretsError {
        SecretsError::MissingKey {
            key_file: self.paths.key_file.clone(),
            existing: self.existing().len(),
            secrets_dir: self.paths.secrets_dir.clone(),
        }
    }

    /// The key for a writer: `Ok(None)` means it is missing and may be created
    /// ([`Store::create_key`]) because no encrypted file exists yet; when files exist, a
    /// missing key is an error, never a silent new key.
    pub fn existing_key_for_writing(&self) -> Result<Option<Key>> {
        match Key::load(&self.paths.key_file)? {
            Some(key) => Ok(Some(key)),
            None if self.existing().is_empty() => Ok(None),
            None => Err(self.missing_key()),
        }
    }

    /// What a writer needs: the store locked, then its key (created, and announced, when it
    /// is missing and no encrypted file exists yet). A refusal is decided before the lock is
    /// taken, so it leaves no lock file behind; the key that is used is loaded again under
    /// the lock, because a rotation may have replaced it while this writer waited, and a
    /// secret encrypted to a retired key would open only with its old copy.
    pub fn lock_for_writing(&self, notify: &dyn Notify) -> Result<(fsutil::Lock, Key)> {
        self.existing_key_for_writing()?;
        let lock = self.lock(notify)?;
        crate::failpoint::hit("secrets-write-locked");
        let key = match self.existing_key_for_writing()? {
            Some(key) => key,
            None => self.create_key(notify)?,
        };
        if let Some(staged) = key.staged() {
            notify.warn(format!(
                "a key rotation is unfinished (`{}` is staged): this secret is encrypted to both \
                 keys; run `toolctl secrets rekey` to finish the rotation",
                staged.path.display()
            ));
        }
        Ok((lock, key))
    }

    /// Creates the key and says so on stderr.
    pub fn create_key(&self, notify: &dyn Notify) -> Result<Key> {
        let key = Key::create(&self.paths.key_file)?;
        notify.info(format!(
            "Created the key `{}` (public key {}); back it up: without it the secrets cannot be decrypted.",
            key.path.display(),
            key.recipient()
        ));
        Ok(key)
    }

    /// Every recipient a file is encrypted to: `own` (the key's, and the staged key's during
    /// a rotation), then `[secrets] recipients`.
    pub fn recipients(&self, own: Vec<x25519::Recipient>) -> Result<Vec<x25519::Recipient>> {
        let mut all: Vec<x25519::Recipient> = Vec::new();
        for r in own {
            if !all.iter().any(|a| a.to_string() == r.to_string()) {
                all.push(r);
            }
        }
        for r in &self.extra_recipients {
            let parsed = x25519::Recipient::from_str(&r.value).map_err(|why| {
                SecretsError::InvalidRecipient {
                    config: self.paths.config.clone(),
                    line: r.line,
                    why: why.to_string(),
                }
            })?;
            if !all.iter().any(|a| a.to_string() == parsed.to_string()) {
                all.push(parsed);
            }
        }
        Ok(all)
    }

    /// Decrypts `scope`; `Ok(None)` when its file does not exist.
    ///
    /// A reader takes no lock, so a rotation may move the secret to a new key between the
    /// moment `key` was loaded and the moment the file is read: a file that none of `key`'s
    /// identities opens is retried once with the key files as they are now, so a reader
    /// never reports a spurious "wrong key".
    pub fn read(&self, scope: Scope, key: &Key) -> Result<Option<Plaintext>> {
        self.check_dir()?;
        // The window a rotation can fall into: the keys are loaded, the file not yet read.
        crate::failpoint::hit("secrets-read-keys-loaded");
        let Some(ciphertext) = self.read_file(scope)? else {
            return Ok(None);
        };
        match crypt::decrypt(&ciphertext, key.identities()) {
            Ok(p) => Ok(Some(p)),
            Err(DecryptFailure::WrongKey) => {
                crate::failpoint::hit("secrets-read-retry");
                let fresh = self.key()?;
                let Some(ciphertext) = self.read_file(scope)? else {
                    return Ok(None);
                };
                crypt::decrypt(&ciphertext, fresh.identities())
                    .map(Some)
                    .map_err(|f| self.decrypt_error(scope, &fresh, f))
            }
            Err(f) => Err(self.decrypt_error(scope, key, f)),
        }
    }

    /// The armored file of `scope`, read capped: a file over [`fsutil::SECRET_CAP`] is
    /// damaged (no secret is that large), and a FIFO or a device is refused, never read.
    pub fn read_file(&self, scope: Scope) -> Result<Option<Vec<u8>>> {
        let path = self.file(scope);
        match fsutil::read_capped(&path, fsutil::SECRET_CAP) {
            Ok(bytes) => Ok(bytes),
            Err(fsutil::ReadFailure::TooLarge(cap)) => Err(self.decrypt_error_at(
                scope,
                &path,
                None,
                DecryptFailure::Damaged(format!(
                    "it is larger than {} MiB, and no secret is: it is not what toolctl wrote",
                    cap / (1024 * 1024)
                )),
            )),
            Err(f) => Err(f.into_error("the secret", &path).into()),
        }
    }

    /// Refuses a secrets directory that others could write into (group- or world-writable,
    /// or owned by someone other than the caller or root), as ssh refuses such a `~/.ssh`.
    /// A directory that does not exist yet is fine: it is created 0700.
    pub fn check_dir(&self) -> Result<()> {
        let dir = &self.paths.secrets_dir;
        let meta = match std::fs::metadata(dir) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(SecretsError::Io {
                    action: "read the secrets directory",
                    path: dir.clone(),
                    source,
                })
            }
        };
        if !meta.is_dir() {
            return Err(SecretsError::NotADirectory { dir: dir.clone() });
        }
        let me = crate::sys::users::euid();
        let owner = meta.uid();
        if owner != me && owner != 0 {
            return Err(SecretsError::ForeignOwner {
                dir: dir.clone(),
                owner,
                owner_name: user_name(owner).unwrap_or_else(|| "another user".into()),
                me: user_name(me).unwrap_or_else(|| me.to_string()),
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
                (true, true) => "group- and world-writable",
                (true, false) => "group-writable",
                _ => "world-writable",
            };
            return Err(SecretsError::Writable {
                dir: dir.clone(),
                who,
                mode,
            });
        }
        Ok(())
    }

    pub fn decrypt_error(&self, scope: Scope, key: &Key, failure: DecryptFailure) -> SecretsError {
        self.decrypt_error_at(scope, &self.file(scope), Some(key), failure)
    }

    fn decrypt_error_at(
        &self,
        scope: Scope,
        path: &std::path::Path,
        key: Option<&Key>,
        failure: DecryptFailure,
    ) -> SecretsError {
        match failure {
            DecryptFailure::WrongKey => SecretsError::WrongKey {
                scope,
                path: path.to_path_buf(),
                key_file: self.paths.key_file.clone(),
                staged: key.and_then(Key::staged).map(|s| s.path.clone()),
            },
            DecryptFailure::Damaged(why) => SecretsError::Damaged {
                scope,
                path: path.to_path_buf(),
                why,
            },
        }
    }

    /// The journal of `import gitlab-rb` / `import gitlab-secrets`, beside the store.
    pub fn import_journal(&self) -> PathBuf {
        self.paths.secrets_dir.with_extension("import-journal")
    }

    /// Takes the writers' lock (creating the secrets directory, 0700, if needed), finishes
    /// an interrupted import, and removes stale temporary files (each said to `notify`).
    pub fn lock(&self, notify: &dyn Notify) -> Result<fsutil::Lock> {
        self.check_dir()?;
        fsutil::ensure_dir(&self.paths.secrets_dir, 0o700)?;
        let lock = fsutil::lock(&self.paths.secrets_dir.join(".lock"), "secrets store")?;
        // An interrupted `import` first: its journal names temporary files in this
        // directory that the sweep below would otherwise remove before they are renamed.
        let journal = self.import_journal();
        if let Some(done) =
            crate::sys::journal::recover(&journal).map_err(crate::error::Error::from)?
        {
            notify.warn(done.describe(&journal));
        }
        for path in fsutil::sweep_temps(&self.paths.secrets_dir)? {
            notify.warn(format!(
                "removed the stale temporary file `{}` (left by an interrupted toolctl)",
                path.display()
            ));
        }
        Ok(lock)
    }

    /// Encrypts `plaintext` to the store's recipients.
    pub fn encrypt(&self, plaintext: &[u8], key: &Key) -> Result<Vec<u8>> {
        let recipients = self.recipients(key.own_recipients())?;
        crypt::encrypt(plaintext, &recipients).map_err(|e| SecretsError::Encrypt {
            what: " the secret",
            why: e.to_string(),
        })
    }

    /// Validates, encrypts and atomically writes `scope`. The caller holds the lock.
    pub fn write(&self, scope: Scope, key: &Key, plaintext: &[u8]) -> Result<()> {
        let plaintext = schema::strip_bom(plaintext);
        schema::validate(scope, plaintext).map_err(|e| invalid(scope, e))?;
        let ciphertext = self.encrypt(plaintext, key)?;
        Ok(fsutil::write_atomic(&self.file(scope), &ciphertext, 0o600)?)
    }
}

/// The error for content that failed the schema.
pub fn invalid(scope: Scope, e: SchemaError) -> SecretsError {
    SecretsError::Invalid { scope, source: e }
}

/// Reads all of `input`, at most [`schema::MAX_LEN`] bytes, into a zeroizing buffer.
pub fn read_limited(
    mut input: impl Read,
) -> std::io::Result<std::result::Result<Plaintext, SchemaError>> {
    // Reserve the whole limit up front so the buffer never reallocates and leaves copies of
    // the plaintext behind in freed memory.
    let mut buf = Plaintext::new(Vec::with_capacity(schema::MAX_LEN + 1));
    (&mut input)
        .take(schema::MAX_LEN as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.len() > schema::MAX_LEN {
        return Ok(Err(SchemaError::TooLarge));
    }
    Ok(Ok(buf))
}
