//! What can stop reading or editing toolctl.toml, as data: `app` turns it into the
//! user-facing [`crate::error::Error`] (message, causes, hint) through `From`, the one
//! place the hints are written.

use std::path::PathBuf;

/// Reading or editing the settings file failed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file is not UTF-8.
    #[error("`{}` is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    /// The file does not parse; `at` is `path:line` when the parser knows the line.
    #[error("`{at}` is not valid TOML")]
    Syntax { at: String, cause: String },
    /// `config set|unset` on a text that does not parse.
    #[error("toolctl.toml is not valid TOML")]
    EditSyntax { cause: String },
    /// A dotted path whose table is a value in the file.
    #[error("`{table}` is not a table in toolctl.toml")]
    NotATable { table: String },
    /// A command-line value that is not of the key's type.
    #[error("`{key}` must be {expected}, not `{raw}`")]
    WrongValue {
        key: String,
        expected: String,
        raw: String,
        example: String,
    },
    /// A failure of the file primitives (`sys`), already told for a person.
    #[error(transparent)]
    Told(#[from] crate::error::Error),
}

impl From<SettingsError> for crate::error::Error {
    fn from(e: SettingsError) -> Self {
        use crate::error::Error;
        let message = e.to_string();
        match e {
            SettingsError::NotUtf8 { .. } => {
                Error::new(message).hint("save the settings file as UTF-8")
            }
            SettingsError::Syntax { cause, .. } => Error::new(message)
                .cause(cause)
                .hint("fix the syntax at that line; `toolctl.toml` follows TOML 1.0"),
            SettingsError::EditSyntax { cause } => Error::new(message).cause(cause),
            SettingsError::NotATable { .. } => {
                Error::new(message).hint("fix that line by hand, then run the command again")
            }
            SettingsError::WrongValue { key, example, .. } => Error::new(message)
                .hint(format!("for example: `toolctl config set {key} {example}`")),
            SettingsError::Told(e) => e,
        }
    }
}
