//! Re-encryption and key rotation (`secrets rekey [--new-key]`): a journaled, resumable
//! state machine.
//!
//! Owns the order of the steps and the journal `secrets.key.rotation` beside the key. The
//! guarantee: at every step, every secret (and every temporary file staged for one) opens
//! with a key file that exists and that `secrets status` names, because
//!
//! - the new key is written to `secrets.key.new` (staged) before any secret is encrypted to
//!   it, and readers and writers load it beside the current key;
//! - the current key is copied to `secrets.key.old-<time>` before it is replaced;
//! - the current key is replaced (one rename of the staged key over it) only once every
//!   secret is encrypted to the staged key; nothing else is ever removed;
//! - every step is safe to repeat, and a run that finds a staged key finishes that rotation
//!   first (roll forward), whatever the journal says or whether it exists at all.
//!
//! The states, as the journal records them:
//!
//! | on disk | state | what `rekey` does |
//! | --- | --- | --- |
//! | no staged key, no journal | idle | re-encrypt to the current key (`--new-key`: stage one) |
//! | staged key, no journal | `staged` (journal not written yet) | roll forward |
//! | staged key, journal `staged` | secrets moving to the staged key | roll forward |
//! | staged key, journal `committed` | every secret on the staged key | roll forward (install) |
//! | no staged key, journal names the current key | installed | remove the journal |
//!
//! Each step is marked with a failpoint (`rekey-…`), so the crash tests kill a run at every
//! step and then kill the recovery at every step of its own.

use std::path::{Path, PathBuf};

use age::x25519;

use super::error::{Result, SecretsError};
use super::key::{self, Key, KeyFile, Role};
use super::scope::Scope;
use super::store::Store;
use super::Plaintext;
use crate::failpoint::hit;
use crate::fsutil;
use crate::sys::notice::Notify;

/// The journal's record of an unfinished rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journal {
    pub state: State,
    /// The staged key's public key.
    pub new_public: Option<String>,
    /// The copy of the key being retired.
    pub old_copy: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The staged key exists; secrets are moving to it (each opens with one of the two).
    Staged,
    /// Every secret is encrypted to the staged key; it is about to replace the current one.
    Committed,
    /// The journal does not parse (damaged by hand): the files on disk decide.
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Staged => "staged",
            State::Committed => "committed",
            State::Unknown => "unknown",
        }
    }
}

/// `secrets.key.rotation`, beside the key.
pub fn journal_path(key_file: &Path) -> PathBuf {
    key::sibling(key_file, ".rotation")
}

/// The journal as it is on disk: a JSON object (serde). Earlier versions wrote `key = value`
/// lines (`state = staged`, `new_public_key = age1…`, `old_key = secrets.key.old-…`),
/// which [`read_journal`] still reads, so that a rotation left by one is finished.
#[derive(serde::Serialize, serde::Deserialize)]
struct Doc {
    /// For whoever opens the file: what it is and what finishes it.
    #[serde(default, skip_deserializing)]
    about: &'static str,
    state: DocState,
    #[serde(default)]
    new_public_key: String,
    /// The retired key's copy, by file name beside the key.
    #[serde(default)]
    old_key: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum DocState {
    Staged,
    Committed,
    #[serde(other)]
    Unknown,
}

const ABOUT: &str = "toolctl key rotation, unfinished: `toolctl secrets rekey` finishes it. \
                     Do not remove this file or the key files it names by hand.";

impl Doc {
    fn parse(bytes: &[u8]) -> Doc {
        if let Ok(doc) = serde_json::from_slice::<Doc>(bytes) {
            return doc;
        }
        // The `key = value` lines of earlier versions; anything unreadable leaves the
        // state unknown (the files on disk decide).
        let mut doc = Doc {
            about: ABOUT,
            state: DocState::Unknown,
            new_public_key: String::new(),
            old_key: String::new(),
        };
        for line in String::from_utf8_lossy(bytes).lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().to_string();
            match k.trim() {
                "state" => {
                    doc.state = match v.as_str() {
                        "staged" => DocState::Staged,
                        "committed" => DocState::Committed,
                        _ => DocState::Unknown,
                    }
                }
                "new_public_key" => doc.new_public_key = v,
                "old_key" => doc.old_key = v,
                _ => {}
            }
        }
        doc
    }

    fn journal(self, key_file: &Path) -> Journal {
        Journal {
            state: match self.state {
                DocState::Staged => State::Staged,
                DocState::Committed => State::Committed,
                DocState::Unknown => State::Unknown,
            },
            new_public: Some(self.new_public_key).filter(|v| v.starts_with("age1")),
            old_copy: Some(self.old_key)
                .filter(|v| !v.is_empty())
                .map(|v| key_file.with_file_name(v)),
        }
    }

    fn of(j: &Journal) -> Doc {
        Doc {
            about: ABOUT,
            state: match j.state {
                State::Staged => DocState::Staged,
                State::Committed => DocState::Committed,
                State::Unknown => DocState::Unknown,
            },
            new_public_key: j.new_public.clone().unwrap_or_default(),
            old_key: j
                .old_copy
                .as_deref()
                .map(key::file_name)
                .unwrap_or_default(),
        }
    }
}

/// The journal, if a rotation is unfinished.
pub fn read_journal(key_file: &Path) -> Result<Option<Journal>> {
    let path = journal_path(key_file);
    let Some(bytes) =
        fsutil::read_optional_capped(&path, fsutil::KEY_CAP, "the key rotation journal")?
    else {
        return Ok(None);
    };
    Ok(Some(Doc::parse(&bytes).journal(key_file)))
}

fn write_journal(key_file: &Path, j: &Journal) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(&Doc::of(j)).expect("a journal of strings serialises");
    text.push(b'\n');
    Ok(fsutil::write_atomic(&journal_path(key_file), &text, 0o600)?)
}

fn remove_journal(key_file: &Path) -> Result<()> {
    let path = journal_path(key_file);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SecretsError::Io {
                action: "remove",
                path,
                source,
            })
        }
    }
    Ok(fsutil::sync_dir(parent(key_file))?)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What one `rekey` run did.
pub struct Report {
    /// The scopes re-encrypted.
    pub scopes: Vec<Scope>,
    pub recipients: usize,
    /// The current key's public key at the end.
    pub public_key: String,
    /// The copy of the key that this run retired, when it installed a new key.
    pub old_copy: Option<PathBuf>,
    /// An interrupted rotation that this run finished first.
    pub finished_interrupted: bool,
}

/// `secrets rekey [--new-key]`, under the writers' lock from start to end.
pub fn rekey(store: &Store, new_key: bool, notify: &dyn Notify) -> Result<Report> {
    let _lock = store.lock(notify)?;
    hit("rekey-locked");
    let key_file = store.paths.key_file.clone();
    let key = store.key()?;
    let journal = read_journal(&key_file)?;

    let mut report = None;
    let mut finished_interrupted = false;
    if key.staged().is_some() {
        notify.info(format!(
            "Finishing the interrupted key rotation to `{}`.",
            key::staged_path(&key_file).display()
        ));
        report = Some(roll_forward(store, &key, journal.as_ref())?);
        finished_interrupted = true;
    } else if let Some(j) = &journal {
        settle_journal(store, &key, j, notify)?;
        finished_interrupted = true;
    }

    if new_key {
        let key = store.key()?;
        decrypt_all(store, &key)?;
        hit("rekey-decrypted");
        let (_, contents) = key::generate();
        fsutil::write_new(&key::staged_path(&key_file), contents.as_bytes(), 0o600)?;
        hit("rekey-key-staged");
        let key = store.key()?;
        report = Some(roll_forward(store, &key, None)?);
    } else if report.is_none() {
        let key = store.key()?;
        let plaintexts = decrypt_all(store, &key)?;
        hit("rekey-decrypted");
        let recipients = store.recipients(vec![key.recipient()])?;
        reencrypt(store, &plaintexts, &recipients).map_err(|e| {
            SecretsError::StillOnCurrentKey {
                source: Box::new(e),
                key_file: key_file.clone(),
            }
        })?;
        report = Some(Report {
            scopes: plaintexts.iter().map(|(s, _)| *s).collect(),
            recipients: recipients.len(),
            public_key: key.recipient().to_string(),
            old_copy: None,
            finished_interrupted: false,
        });
    }
    let mut report = report.expect("every branch above reports");
    report.finished_interrupted = finished_interrupted;
    Ok(report)
}

/// A journal with no staged key: a rotation that crashed after installing its key (the
/// journal names the current one), or whose staged key is gone. Removes the journal when
/// every secret opens with the current key; otherwise keeps everything and says what is
/// missing.
fn settle_journal(store: &Store, key: &Key, j: &Journal, notify: &dyn Notify) -> Result<()> {
    let key_file = &store.paths.key_file;
    if j.new_public.as_deref() == Some(key.recipient().to_string().as_str()) {
        // Crashed between installing the new key and removing the journal.
        remove_journal(key_file)?;
        hit("rekey-journal-removed");
        notify.info(format!(
            "Finished the interrupted key rotation: `{}` was already installed.",
            key_file.display()
        ));
        return Ok(());
    }
    decrypt_all(store, key).map_err(|e| SecretsError::StagedKeyGone {
        source: Box::new(e),
        journal: journal_path(key_file),
        new_public: j.new_public.clone(),
        key_file: key_file.clone(),
        staged: key::staged_path(key_file),
    })?;
    remove_journal(key_file)?;
    hit("rekey-journal-removed");
    notify.info(format!(
        "Removed the stale rotation journal `{}`: every secret opens with the current key.",
        journal_path(key_file).display()
    ));
    Ok(())
}

/// Moves every secret to the staged key, then installs it. Each step is safe to repeat; a
/// failure after the first write leaves the rotation unfinished, with every secret readable
/// by the current or the staged key, and says how to finish it.
fn roll_forward(store: &Store, key: &Key, journal: Option<&Journal>) -> Result<Report> {
    let key_file = &store.paths.key_file;
    let staged = key.staged().expect("a staged key to roll forward to");
    let plaintexts = decrypt_all(store, key)?;
    hit("rekey-decrypted");
    let unfinished = |e: SecretsError| unfinished(e, key_file, &staged.path);
    let old_copy = keep_old_copy(key.current(), journal.and_then(|j| j.old_copy.as_deref()))
        .map_err(unfinished)?;
    hit("rekey-old-key-kept");
    let mut j = Journal {
        state: State::Staged,
        new_public: Some(staged.recipient().to_string()),
        old_copy: Some(old_copy.clone()),
    };
    if journal != Some(&j) {
        write_journal(key_file, &j).map_err(unfinished)?;
    }
    hit("rekey-journal-staged");
    let recipients = store.recipients(vec![staged.recipient()])?;
    reencrypt(store, &plaintexts, &recipients).map_err(unfinished)?;
    j.state = State::Committed;
    write_journal(key_file, &j).map_err(unfinished)?;
    hit("rekey-journal-committed");
    // Every secret is on the staged key and the current key has its copy: the one step
    // that replaces a key file.
    std::fs::rename(&staged.path, key_file).map_err(|source| {
        unfinished(SecretsError::Io {
            action: "replace",
            path: key_file.to_path_buf(),
            source,
        })
    })?;
    fsutil::sync_dir(parent(key_file)).map_err(|e| unfinished(e.into()))?;
    hit("rekey-key-installed");
    remove_journal(key_file)?;
    hit("rekey-journal-removed");
    Ok(Report {
        scopes: plaintexts.iter().map(|(s, _)| *s).collect(),
        recipients: recipients.len(),
        public_key: staged.recipient().to_string(),
        old_copy: Some(old_copy),
        finished_interrupted: false,
    })
}

/// The hint after a failure mid-rotation: what is safe now, and what finishes it.
fn unfinished(e: SecretsError, key_file: &Path, staged: &Path) -> SecretsError {
    SecretsError::Unfinished {
        source: Box::new(e),
        key_file: key_file.to_path_buf(),
        staged: staged.to_path_buf(),
    }
}

/// Makes sure an exact copy of the current key exists as `secrets.key.old-<time>` and
/// returns its path: the one the journal names, or any old copy with the same bytes, or a
/// new one under a name that is free (`-2`, `-3`, … when two rotations share a second).
fn keep_old_copy(current: &KeyFile, named: Option<&Path>) -> Result<PathBuf> {
    let same = |p: &Path| {
        fsutil::read_capped(p, fsutil::KEY_CAP)
            .ok()
            .flatten()
            .is_some_and(|b| b[..] == current.bytes[..])
    };
    if let Some(p) = named.filter(|p| same(p)) {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = key::old_copies(&current.path).into_iter().find(|p| same(p)) {
        return Ok(p);
    }
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "");
    for n in 1.. {
        let suffix = if n == 1 {
            format!(".old-{stamp}")
        } else {
            format!(".old-{stamp}-{n}")
        };
        let path = key::sibling(&current.path, &suffix);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        fsutil::write_new(&path, &current.bytes, 0o600)?;
        return Ok(path);
    }
    unreachable!("some name is free")
}

/// Decrypts every present secret with `key`; any failure: an error, nothing changed.
fn decrypt_all(store: &Store, key: &Key) -> Result<Vec<(Scope, Plaintext)>> {
    let mut plaintexts = Vec::new();
    let mut failures = Vec::new();
    for scope in store.existing() {
        match store.read(scope, key) {
            Ok(Some(p)) => plaintexts.push((scope, p)),
            Ok(None) => {}
            Err(e) => failures.push(format!("{scope}: {}", crate::error::Error::from(e))),
        }
    }
    if failures.is_empty() {
        return Ok(plaintexts);
    }
    let with = match key.staged() {
        Some(s) => format!(
            "`{}` or the staged key `{}`",
            key.path.display(),
            s.path.display()
        ),
        None => format!("`{}`", key.path.display()),
    };
    Err(SecretsError::Undecryptable { with, failures })
}

/// Writes every secret re-encrypted to `recipients`: all temporary files first (a failure
/// there leaves every secret as it was), then one rename each.
fn reencrypt(
    store: &Store,
    plaintexts: &[(Scope, Plaintext)],
    recipients: &[x25519::Recipient],
) -> Result<()> {
    let mut prepared = Vec::new();
    for (scope, plaintext) in plaintexts {
        let ct =
            super::crypt::encrypt(plaintext, recipients).map_err(|e| SecretsError::Encrypt {
                what: "",
                why: e.to_string(),
            })?;
        prepared.push(fsutil::prepare(&store.file(*scope), &ct, 0o600)?);
        hit("rekey-secret-prepared");
    }
    for p in prepared {
        p.commit()?;
        hit("rekey-secret-committed");
    }
    Ok(())
}

/// Every key file of the store, for `secrets status`: its role, path, and the loaded file
/// or why it could not be loaded.
pub struct Inventory {
    pub files: Vec<(
        Role,
        PathBuf,
        std::result::Result<KeyFile, crate::error::Error>,
    )>,
    pub journal: Option<Journal>,
    pub journal_error: Option<crate::error::Error>,
}

pub fn inventory(key_file: &Path) -> Inventory {
    let mut files = Vec::new();
    let staged = key::staged_path(key_file);
    for (role, path) in [
        (Role::Current, key_file.to_path_buf()),
        (Role::Staged, staged),
    ]
    .into_iter()
    .chain(
        key::old_copies(key_file)
            .into_iter()
            .map(|p| (Role::Old, p)),
    ) {
        match KeyFile::load(&path, role) {
            Ok(Some(k)) => files.push((role, path, Ok(k))),
            Ok(None) => {}
            Err(e) => files.push((role, path, Err(e.into()))),
        }
    }
    let (journal, journal_error) = match read_journal(key_file) {
        Ok(j) => (j, None),
        Err(e) => (None, Some(e.into())),
    };
    Inventory {
        files,
        journal,
        journal_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(key_file: &Path, bytes: &[u8]) -> Journal {
        Doc::parse(bytes).journal(key_file)
    }

    #[test]
    fn a_journal_of_an_earlier_version_is_read() {
        let key_file = Path::new("/etc/toolctl/secrets.key");
        let old = b"# toolctl key rotation, unfinished: `toolctl secrets rekey` finishes it.\n\
                    # Do not remove this file or the key files it names by hand.\n\
                    state = committed\nnew_public_key = age1abc\nold_key = secrets.key.old-1\n";
        let j = read(key_file, old);
        assert_eq!(j.state, State::Committed);
        assert_eq!(j.new_public.as_deref(), Some("age1abc"));
        assert_eq!(
            j.old_copy.as_deref(),
            Some(Path::new("/etc/toolctl/secrets.key.old-1"))
        );
        let staged = read(key_file, b"state = staged\nnew_public_key = \nold_key = \n");
        assert_eq!(
            staged,
            Journal {
                state: State::Staged,
                new_public: None,
                old_copy: None
            }
        );
        assert_eq!(read(key_file, b"garbage").state, State::Unknown);
    }

    #[test]
    fn the_journal_round_trips_through_json() {
        let key_file = Path::new("/etc/toolctl/secrets.key");
        for j in [
            Journal {
                state: State::Staged,
                new_public: Some("age1xyz".into()),
                old_copy: Some(key_file.with_file_name("secrets.key.old-2")),
            },
            Journal {
                state: State::Committed,
                new_public: None,
                old_copy: None,
            },
        ] {
            let text = serde_json::to_vec_pretty(&Doc::of(&j)).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
            assert_eq!(v["about"], ABOUT);
            assert_eq!(read(key_file, &text), j);
        }
        let odd = br#"{"state": "rolling", "new_public_key": "x"}"#;
        let j = read(key_file, odd);
        assert_eq!((j.state, j.new_public), (State::Unknown, None));
    }
}
