//! What can stop reading GitLab's key bases and encrypted settings, as data: `app` turns
//! it into the user-facing [`crate::error::Error`] (message, causes, hint) through `From`,
//! the one place these messages and hints are written. No variant carries a key base or
//! decrypted content.

use std::path::PathBuf;

use super::encrypted::Failure;
use super::import::Unfit;
use crate::fsutil::ReadFailure;

pub type Result<T, E = GitlabError> = std::result::Result<T, E>;

/// The hint of every key-base file that cannot be used.
const KEY_BASE_HINT: &str = "point `[gitlab] secrets_file` (or `--secrets-file`) at omnibus' \
                    /etc/gitlab/gitlab-secrets.json or a source install's config/secrets.yml";

/// A failure of the key bases or of `import gitlab-secrets`. `shown` is a path as the
/// messages name it (mapped below `--root`).
#[derive(Debug, thiserror::Error)]
pub enum GitlabError {
    /// The key-base file does not exist.
    #[error("cannot read GitLab's key base: `{shown}` does not exist")]
    KeyBaseMissing { shown: String },
    /// The key-base file cannot be read (capped, regular files only).
    #[error("cannot read GitLab's key base from `{}`", path.display())]
    KeyBaseRead { path: PathBuf, failure: ReadFailure },
    /// The key-base file is not UTF-8.
    #[error("`{shown}` is not UTF-8 text")]
    KeyBaseNotUtf8 { shown: String },
    /// No `encrypted_settings_key_base` can be read from the file (`why`, as the parser
    /// says it; `too_small`: it is shorter than GitLab allows).
    #[error("cannot read `encrypted_settings_key_base` from `{shown}`: {why}")]
    KeyBaseInvalid {
        shown: String,
        why: String,
        too_small: bool,
    },
    /// More rotated key bases than toolctl tries.
    #[error("`{shown}` lists {count} rotated key bases in `rotated_encrypted_settings_key_base`; toolctl tries at most {max}")]
    TooManyRotated {
        shown: String,
        count: usize,
        max: usize,
    },
    /// A file or directory that cannot be looked at or opened.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An encrypted settings file that no key base opens.
    #[error("`{shown}` cannot be decrypted: {failure}")]
    Undecryptable { shown: String, failure: Failure },
    /// A decrypted file that does not fit its scope (`name`: the file's name).
    #[error("`{shown}` does not fit {}: {}", unfit.what, unfit.why)]
    DoesNotFit {
        shown: String,
        name: String,
        unfit: Unfit,
    },
    /// A name in GitLab's directory that toolctl refuses to read (`what`: why, after the
    /// name; `name`: the file's name).
    #[error("`{shown}` {what}")]
    Refused {
        shown: String,
        name: String,
        what: String,
    },
    /// A capped read of an encrypted settings file that failed.
    #[error("cannot read GitLab's encrypted settings `{}`", path.display())]
    Read { path: PathBuf, failure: ReadFailure },
}

impl From<GitlabError> for crate::error::Error {
    fn from(e: GitlabError) -> Self {
        use crate::error::Error;
        let message = e.to_string();
        match e {
            GitlabError::KeyBaseMissing { .. } | GitlabError::KeyBaseNotUtf8 { .. } => {
                Error::new(message).hint(KEY_BASE_HINT)
            }
            GitlabError::KeyBaseRead { path, failure } => failure
                .into_error("read GitLab's key base from", &path)
                .hint(KEY_BASE_HINT),
            GitlabError::KeyBaseInvalid { too_small, .. } => {
                let e = Error::new(message);
                if too_small {
                    e.hint(format!("GitLab's rule: a key base has at least {} characters (GitLab writes 128 hexadecimal digits); give the file of the GitLab that wrote the encrypted settings; nothing was written", super::MIN_KEY_BASE))
                } else {
                    e.hint(KEY_BASE_HINT)
                }
            }
            GitlabError::TooManyRotated { max, .. } => Error::new(message)
                .cause("each rotated key base costs a slow key derivation on every run that opens a file the current key base does not; GitLab itself sets no limit")
                .hint(format!(
                    "re-encrypt GitLab's encrypted settings with the current key base (`gitlab-rake gitlab:smtp:secret:edit` and the like), then keep at most {max} entries in `rotated_encrypted_settings_key_base`; nothing was changed"
                )),
            GitlabError::Io {
                action,
                path,
                source,
            } => Error::io(action, &path, source),
            GitlabError::Undecryptable { .. } => Error::new(message).hint("give the gitlab-secrets.json (or secrets.yml) of the GitLab that wrote it with `--secrets-file`; nothing was written"),
            GitlabError::DoesNotFit { name, unfit, .. } => Error::new(message).hint(format!(
                "{}; fix it with `gitlab-rake gitlab:{}:secret:edit`; nothing was written",
                unfit.hint,
                name.trim_end_matches(".yaml.enc")
            )),
            GitlabError::Refused { shown, name, .. } => Error::new(message)
                .cause("the directory belongs to GitLab's user, who could point a name there at any file or device; toolctl reads only regular files of its own")
                .hint(format!(
                    "check `{p}` and replace it with the file GitLab wrote (`gitlab-rake gitlab:{}:secret:write`); nothing was written",
                    name.trim_end_matches(".yaml.enc"),
                    p = shown
                )),
            GitlabError::Read { path, failure } => {
                failure.into_error("read GitLab's encrypted settings", &path)
            }
        }
    }
}
