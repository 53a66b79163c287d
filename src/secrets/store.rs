//! The store's rules: where each scope's file is, which key and recipients apply, when a
//! key may be created, and how a secret is written (under the lock, atomically, 0600).

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use age::x25519;

use super::crypt::{self, DecryptFailure, Plaintext};
use super::key::Key;
use super::schema::{self, SchemaError};
use super::scope::Scope;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::output::Printer;
use crate::paths::Paths;
use crate::settings::{self, Settings};

/// The secrets store of one root.
pub struct Store {
    pub paths: Paths,
    extra_recipients: Vec<settings::Recipient>,
}

impl Store {
    pub fn new(paths: Paths, settings: &Settings) -> Self {
        Store {
            paths,
            extra_recipients: settings.recipients.clone(),
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

    fn missing_key(&self) -> Error {
        let existing = self.existing();
        let e = Error::new(format!(
            "the key `{}` is missing",
            self.paths.key_file.display()
        ));
        if existing.is_empty() {
            e.hint("create it with `toolctl secrets init`")
        } else {
            e.cause(format!(
                "{} encrypted secret(s) exist in `{}` and only that key decrypts them",
                existing.len(),
                self.paths.secrets_dir.display()
            ))
            .hint(
                "restore the key file from your backup (or point `--root` / `[secrets] key_file` \
                 at it); a new key would not decrypt the existing secrets",
            )
        }
    }

    /// The key for a writer, checked before the lock is taken: `Ok(None)` means it is
    /// missing and may be created ([`Store::create_key`]) because no encrypted file exists
    /// yet; when files exist, a missing key is an error, never a silent new key.
    pub fn existing_key_for_writing(&self) -> Result<Option<Key>> {
        match Key::load(&self.paths.key_file)? {
            Some(key) => Ok(Some(key)),
            None if self.existing().is_empty() => Ok(None),
            None => Err(self.missing_key()),
        }
    }

    /// What a writer needs: the store locked, then its key (created, and announced, when it
    /// is missing and no encrypted file exists yet). The key is checked before the lock is
    /// taken, so a refusal leaves no lock file behind, and again under the lock, where
    /// another writer may have created it meanwhile.
    pub fn lock_for_writing(&self, printer: &Printer) -> Result<(fsutil::Lock, Key)> {
        let key = self.existing_key_for_writing()?;
        let lock = self.lock()?;
        let key = match key {
            Some(key) => key,
            None => match Key::load(&self.paths.key_file)? {
                Some(key) => key,
                None => self.create_key(printer)?,
            },
        };
        Ok((lock, key))
    }

    /// Creates the key and says so on stderr.
    pub fn create_key(&self, printer: &Printer) -> Result<Key> {
        let key = Key::create(&self.paths.key_file)?;
        printer.info(format!(
            "Created the key `{}` (public key {}); back it up: without it the secrets cannot be decrypted.",
            key.path.display(),
            key.recipient()
        ));
        Ok(key)
    }

    /// Every recipient a file is encrypted to: the key's own, then `[secrets] recipients`.
    pub fn recipients(&self, own: x25519::Recipient) -> Result<Vec<x25519::Recipient>> {
        let mut all = vec![own];
        for r in &self.extra_recipients {
            let parsed = x25519::Recipient::from_str(&r.value).map_err(|why| {
                Error::new(format!(
                    "`secrets.recipients` in `{}:{}` holds an invalid age recipient",
                    self.paths.config.display(),
                    r.line
                ))
                .cause(why)
                .hint("each recipient is an X25519 public key `age1…`, as `age-keygen -y KEYFILE` prints it")
            })?;
            if !all.iter().any(|a| a.to_string() == parsed.to_string()) {
                all.push(parsed);
            }
        }
        Ok(all)
    }

    /// Decrypts `scope`; `Ok(None)` when its file does not exist.
    pub fn read(&self, scope: Scope, key: &Key) -> Result<Option<Plaintext>> {
        let path = self.file(scope);
        let Some(ciphertext) = fsutil::read_optional(&path)? else {
            return Ok(None);
        };
        crypt::decrypt(&ciphertext, key.identities())
            .map(Some)
            .map_err(|f| self.decrypt_error(scope, key, f))
    }

    pub fn decrypt_error(&self, scope: Scope, key: &Key, failure: DecryptFailure) -> Error {
        let path = self.file(scope);
        match failure {
            DecryptFailure::WrongKey => Error::new(format!("cannot decrypt `{}`", path.display()))
                .cause(format!(
                    "the key `{}` is not one of the file's recipients (wrong key)",
                    key.path.display()
                ))
                .hint(format!(
                    "use the key the file was encrypted with (`--root`, `[secrets] key_file`), \
                     or write the secret again with `toolctl {scope} secret write`"
                )),
            DecryptFailure::Damaged(why) => Error::new(format!(
                "cannot decrypt `{}`: the file is damaged or truncated",
                path.display()
            ))
            .cause(why)
            .hint(format!(
                "restore the file from a backup, or write the secret again with \
                 `toolctl {scope} secret write`"
            )),
        }
    }

    /// Takes the writers' lock (creating the secrets directory, 0700, if needed).
    pub fn lock(&self) -> Result<fsutil::Lock> {
        fsutil::ensure_dir(&self.paths.secrets_dir, 0o700)?;
        let lock = fsutil::lock(&self.paths.secrets_dir.join(".lock"), "secrets store")?;
        fsutil::sweep_temps_and_warn(&self.paths.secrets_dir)?;
        Ok(lock)
    }

    /// Encrypts `plaintext` to the store's recipients.
    pub fn encrypt(&self, plaintext: &[u8], key: &Key) -> Result<Vec<u8>> {
        let recipients = self.recipients(key.recipient())?;
        crypt::encrypt(plaintext, &recipients)
            .map_err(|e| Error::new("cannot encrypt the secret").cause(e))
    }

    /// Validates, encrypts and atomically writes `scope`. The caller holds the lock.
    pub fn write(&self, scope: Scope, key: &Key, plaintext: &[u8]) -> Result<()> {
        let plaintext = schema::strip_bom(plaintext);
        schema::validate(scope, plaintext).map_err(|e| invalid(scope, e))?;
        let ciphertext = self.encrypt(plaintext, key)?;
        fsutil::write_atomic(&self.file(scope), &ciphertext, 0o600)
    }
}

/// The user-facing error for content that failed the schema.
pub fn invalid(scope: Scope, e: SchemaError) -> Error {
    let hint = e.hint(scope);
    Error::new(format!("the {scope} secret was not saved"))
        .cause(e)
        .hint(hint)
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
