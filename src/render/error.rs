//! What can stop the renderer, as data: `app` turns it into the user-facing
//! [`crate::error::Error`] (message, causes, hint) through `From`, the one place the hints
//! are written.

use std::path::PathBuf;

/// A render, compare or apply step that failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The user and group a table names (`[mailroom]`, `[gitlab]`) cannot be resolved.
    #[error("{why}")]
    Account { table: &'static str, why: String },
    /// A file or directory that cannot be looked at.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An encrypted settings file of GitLab that no key base opens.
    #[error("GitLab's encrypted settings file `{shown}` cannot be read: {why}")]
    Encrypted {
        shown: String,
        secrets_file: String,
        why: String,
    },
    /// No random bytes for an IV.
    #[error("cannot read random bytes for an IV")]
    Random(#[source] std::io::Error),
    /// A failure of the file primitives (`sys`) or of GitLab's key bases, already told for
    /// a person.
    #[error(transparent)]
    Told(#[from] crate::error::Error),
}

impl From<RenderError> for crate::error::Error {
    fn from(e: RenderError) -> Self {
        use crate::error::Error;
        match e {
            RenderError::Account { table, why } => Error::new(why).hint(format!(
                "create the user and group first, or fix `[{table}] user`/`group`"
            )),
            RenderError::Io {
                action,
                path,
                source,
            } => Error::io(action, &path, source),
            e @ RenderError::Encrypted { .. } => {
                let RenderError::Encrypted { secrets_file, .. } = &e else {
                    unreachable!()
                };
                let hint = format!(
                    "check that `[gitlab] secrets_file` (`{secrets_file}`) is this GitLab's, with the key base \
                     that wrote the file; or move the file away and run `toolctl reconfigure` again"
                );
                Error::new(e.to_string()).hint(hint)
            }
            RenderError::Random(source) => {
                Error::new("cannot read random bytes for an IV").cause(source)
            }
            RenderError::Told(e) => e,
        }
    }
}
