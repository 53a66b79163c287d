//! What can stop the secrets store, as data: `app` turns it into the user-facing
//! [`crate::error::Error`] (message, causes, hint) through `From`, the one place the
//! store's messages and hints are written. No variant carries a secret value: they name
//! keys, paths and scopes.

use std::path::PathBuf;

use super::schema::SchemaError;
use super::scope::Scope;

pub type Result<T, E = SecretsError> = std::result::Result<T, E>;

/// A failure of the secrets store, its keys, a rotation or an editor session.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The key is missing; `existing` scopes have encrypted files only it decrypts.
    #[error("the key `{}` is missing", key_file.display())]
    MissingKey {
        key_file: PathBuf,
        existing: usize,
        secrets_dir: PathBuf,
    },
    /// A `[secrets] recipients` entry that is not an age recipient.
    #[error("`secrets.recipients` in `{}:{line}` holds an invalid age recipient", config.display())]
    InvalidRecipient {
        config: PathBuf,
        line: usize,
        why: String,
    },
    /// A file or directory that cannot be looked at or changed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The secrets directory is something else than a directory.
    #[error("the secrets directory `{}` is not a directory", dir.display())]
    NotADirectory { dir: PathBuf },
    /// The secrets directory belongs to another user than the caller or root.
    #[error("the secrets directory `{}` is owned by {owner_name} (uid {owner}), not by you or root", dir.display())]
    ForeignOwner {
        dir: PathBuf,
        owner: u32,
        owner_name: String,
        me: String,
    },
    /// The secrets directory is group- or world-writable.
    #[error("the secrets directory `{}` is {who} (mode {mode:04o})", dir.display())]
    Writable {
        dir: PathBuf,
        who: &'static str,
        mode: u32,
    },
    /// No identity of the key (nor of the staged key) opens the file.
    #[error("cannot decrypt `{}`", path.display())]
    WrongKey {
        scope: Scope,
        path: PathBuf,
        key_file: PathBuf,
        staged: Option<PathBuf>,
    },
    /// The armored file is damaged or truncated.
    #[error("cannot decrypt `{}`: the file is damaged or truncated", path.display())]
    Damaged {
        scope: Scope,
        path: PathBuf,
        why: String,
    },
    /// age refused to encrypt (`what`: "the secret", or nothing during a rotation).
    #[error("cannot encrypt{what}")]
    Encrypt { what: &'static str, why: String },
    /// Content that failed its scope's schema.
    #[error("the {scope} secret was not saved")]
    Invalid {
        scope: Scope,
        #[source]
        source: SchemaError,
    },
    /// A key file readable or writable by others (`what`: "the key", "the staged key", …).
    #[error("{what} `{}` is open to other users: {who} (mode {mode:04o})", path.display())]
    KeyOpen {
        what: &'static str,
        path: PathBuf,
        who: String,
        mode: u32,
    },
    /// A key file that is not an age identity file.
    #[error("{what} `{}` is not a valid age identity file", path.display())]
    KeyInvalid {
        what: &'static str,
        path: PathBuf,
        why: String,
    },
    /// A rotation step failed after the first write: `source` is the step's failure.
    #[error("{source}")]
    Unfinished {
        source: Box<SecretsError>,
        key_file: PathBuf,
        staged: PathBuf,
    },
    /// A rotation without a new key failed re-encrypting: every secret still opens with
    /// `key_file`.
    #[error("{source}")]
    StillOnCurrentKey {
        source: Box<SecretsError>,
        key_file: PathBuf,
    },
    /// A journal names a staged key that is gone, and some secret needs it.
    #[error("{source}")]
    StagedKeyGone {
        source: Box<SecretsError>,
        journal: PathBuf,
        new_public: Option<String>,
        key_file: PathBuf,
        staged: PathBuf,
    },
    /// A rotation found secrets that the key (`with`, as shown) does not open.
    #[error("{} secret(s) cannot be decrypted with {with}; nothing was changed", failures.len())]
    Undecryptable { with: String, failures: Vec<String> },
    /// The editor could not be started.
    #[error("cannot start the editor `{program}`")]
    EditorStart {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the editor failed.
    #[error("cannot wait for the editor")]
    EditorWait(#[source] std::io::Error),
    /// The editor exited with a failure status.
    #[error("the editor `{program}` exited with {status}; nothing was saved")]
    EditorFailed {
        program: String,
        status: std::process::ExitStatus,
    },
    /// A signal arrived while the editor ran.
    #[error("interrupted while editing; nothing was saved")]
    EditInterrupted,
    /// The plaintext copy was removed or replaced while the editor ran (`gone`: it is not
    /// there at all).
    #[error("cannot read `{}`", path.display())]
    Replaced {
        path: PathBuf,
        source: Option<std::io::Error>,
    },
    /// No base directory fits a plaintext copy; `refused` says why, one per base.
    #[error("no private tmpfs directory for the plaintext copy")]
    NoPrivateDir { refused: Vec<String> },
    /// The signal handlers of an editor session.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// A failure of the file primitives (`sys`), already told for a person.
    #[error(transparent)]
    Told(#[from] crate::error::Error),
}

impl From<SecretsError> for crate::error::Error {
    fn from(e: SecretsError) -> Self {
        use crate::error::Error;
        let message = e.to_string();
        match e {
            SecretsError::MissingKey {
                existing,
                secrets_dir,
                ..
            } => {
                let e = Error::new(message);
                if existing == 0 {
                    e.hint("create it with `toolctl secrets init`")
                } else {
                    e.cause(format!(
                        "{existing} encrypted secret(s) exist in `{}` and only that key decrypts them",
                        secrets_dir.display()
                    ))
                    .hint(
                        "restore the key file from your backup (or point `--root` / `[secrets] key_file` \
                         at it); a new key would not decrypt the existing secrets",
                    )
                }
            }
            SecretsError::InvalidRecipient { why, .. } => Error::new(message).cause(why).hint(
                "each recipient is an X25519 public key `age1…`, as `age-keygen -y KEYFILE` prints it",
            ),
            SecretsError::Io {
                action,
                path,
                source,
            } => Error::io(action, &path, source),
            SecretsError::NotADirectory { dir } => Error::new(message).hint(format!(
                "move `{}` away, or point `[secrets] directory` at the real directory",
                dir.display()
            )),
            SecretsError::ForeignOwner { dir, me, .. } => Error::new(message)
                .cause(
                    "its owner could replace any secret; it is refused, as ssh refuses such a `~/.ssh`",
                )
                .hint(format!(
                    "run `chown {me} {}` (and `chmod 700` it), or point `[secrets] directory` elsewhere",
                    dir.display()
                )),
            SecretsError::Writable { dir, .. } => Error::new(message)
                .cause("anyone who can write there could replace a secret; it is refused, as ssh refuses such a `~/.ssh`")
                .hint(format!("run `chmod 700 {}`", dir.display())),
            SecretsError::WrongKey {
                scope,
                key_file,
                staged,
                ..
            } => {
                let keys = match staged {
                    Some(staged) => format!(
                        "neither the key `{}` nor the staged key `{}` is",
                        key_file.display(),
                        staged.display()
                    ),
                    None => format!("the key `{}` is not", key_file.display()),
                };
                Error::new(message)
                    .cause(format!("{keys} one of the file's recipients (wrong key)"))
                    .cause(
                        "a damaged recipient line looks the same to age: if this key wrote \
                         the file, restore the file from a backup",
                    )
                    .hint(format!(
                        "use the key the file was encrypted with (`--root`, `[secrets] key_file`; \
                         `toolctl secrets status` lists the key files and which one opens each \
                         secret), or write the secret again with `toolctl {scope} secret write`"
                    ))
            }
            SecretsError::Damaged { scope, why, .. } => {
                Error::new(message).cause(why).hint(format!(
                    "restore the file from a backup, or write the secret again with \
                     `toolctl {scope} secret write`"
                ))
            }
            SecretsError::Encrypt { why, .. } => Error::new(message).cause(why),
            SecretsError::Invalid { scope, source } => {
                let hint = source.hint(scope);
                Error::new(message).cause(source).hint(hint)
            }
            SecretsError::KeyOpen { path, .. } => Error::new(message)
                .cause(
                    "a private key must be readable and writable by its owner only; it is \
                     refused, as ssh refuses such keys",
                )
                .hint(format!("run `chmod 600 {}`", path.display())),
            SecretsError::KeyInvalid { why, .. } => Error::new(message)
                .cause(why)
                .hint(super::key::damaged_key_hint()),
            SecretsError::Unfinished {
                source,
                key_file,
                staged,
            } => Error::from(*source)
                .cause(format!(
                    "the key rotation is unfinished: every secret opens with the current key `{}` or \
                     the staged key `{}`",
                    key_file.display(),
                    staged.display()
                ))
                .hint(
                    "fix the cause (free some disk space, make the file system writable), then run \
                     `toolctl secrets rekey` to finish the rotation; until then `toolctl secrets status` \
                     names the key file that opens each secret. Do not remove any key file",
                ),
            SecretsError::StillOnCurrentKey { source, key_file } => {
                Error::from(*source).cause(format!(
                    "every secret still opens with the current key `{}`",
                    key_file.display()
                ))
            }
            SecretsError::StagedKeyGone {
                source,
                journal,
                new_public,
                key_file,
                staged,
            } => Error::from(*source)
                .cause(format!(
                    "the rotation journal `{}` names the staged key {}, which neither `{}` \
                     nor `{}` holds",
                    journal.display(),
                    new_public.as_deref().unwrap_or("(unreadable)"),
                    key_file.display(),
                    staged.display()
                ))
                .hint(format!(
                    "restore `{}` from a backup, then run `toolctl secrets rekey` again",
                    staged.display()
                )),
            SecretsError::Undecryptable { failures, .. } => {
                let mut err = Error::new(message);
                for f in failures {
                    err = err.cause(f);
                }
                err.hint(
                    "restore the right key or the damaged files first, or rewrite those secrets with \
                     `toolctl <scope> secret write`, then run `toolctl secrets rekey` again",
                )
            }
            SecretsError::EditorStart { source, .. } => Error::new(message).cause(source).hint(
                "set $VISUAL or $EDITOR to an installed editor (e.g. `EDITOR=nano`), \
                     or pipe the content into `secret write`",
            ),
            SecretsError::EditorWait(source) => Error::new(message).cause(source),
            SecretsError::EditorFailed { .. } => Error::new(message)
                .hint("run the command again and quit the editor normally to save (`:wq` in vi)"),
            SecretsError::EditInterrupted => Error::interrupted(message),
            SecretsError::Replaced { path, source } => {
                let e = match source {
                    None => Error::new(format!("{message}: it is gone")),
                    Some(source) => Error::io("read", &path, source),
                };
                e.hint(
                    "the copy was removed or replaced while the editor ran; nothing was saved: \
                     run the command again and save the file in place",
                )
            }
            SecretsError::NoPrivateDir { refused } => {
                let mut err = Error::new(message);
                for r in refused {
                    err = err.cause(r);
                }
                err
                    .cause("a plaintext secret is never put on a persistent disk, nor where another user can reach it")
                    .hint("make /dev/shm a root-owned sticky tmpfs (mode 1777), or set XDG_RUNTIME_DIR to a tmpfs directory owned by the user running toolctl with mode 0700 (`sudo -i` sets it right), or pipe the content into `toolctl <scope> secret write`")
            }
            SecretsError::Signals(source) => Error::new(message).cause(source),
            SecretsError::Told(e) => e,
        }
    }
}
