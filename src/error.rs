//! User-facing errors: what failed, why, and the fix to try, plus the exit code.
//!
//! Every error that reaches the terminal is an [`Error`]: a message, a chain of causes and a
//! hint, printed by `report::PrintError::print` as `error:` / `Caused by:` / `hint:` (the
//! shape uv uses), and the `"error"` object of the JSON document. It is the edge type: `app`
//! returns it, `main` renders it. Library modules define their own `thiserror` enums and
//! convert into this type at the command level, where the hint can name the right
//! command. This module uses nothing of the crate (the terminal styles and the escaping of
//! control bytes are the report's, where the error is printed), so that `sys`, which
//! returns it, is not in a cycle with it. Nothing here calls libc (rustix answers `geteuid`
//! and `EPERM`). This module must never receive secret values: messages name keys, paths
//! and scopes, not contents.

use std::fmt;
use std::path::Path;

/// The documented exit codes, decided here and nowhere else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; every check passed.
    #[default]
    Success,
    /// A check answered "no".
    Failure,
    /// Bad usage, invalid settings or secret content, missing or wrong key, I/O.
    Error,
    /// Interrupted by Ctrl+C (SIGINT) or asked to stop (SIGTERM, SIGHUP).
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted => 130,
        }
    }
}

/// An error for a person: message, causes, hint.
#[derive(Debug)]
pub struct Error {
    message: String,
    causes: Vec<String>,
    hint: Option<String>,
    status: ExitStatus,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            status: ExitStatus::Error,
        }
    }

    /// The run was interrupted by a signal; nothing was saved.
    pub fn interrupted(message: impl Into<String>) -> Self {
        Error {
            status: ExitStatus::Interrupted,
            ..Error::new(message)
        }
    }

    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn status(&self) -> ExitStatus {
        self.status
    }

    /// An I/O error on `path`, with the hint an administrator needs for the common kinds.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        let e = Error::new(format!("cannot {action} `{}`", path.display())).cause(&err);
        match err.kind() {
            // EPERM as root is not a missing privilege: an immutable or append-only
            // attribute (or a file system that refuses the operation) stands in the way.
            std::io::ErrorKind::PermissionDenied
                if err.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error())
                    && rustix::process::geteuid().is_root() =>
            {
                e.hint(format!(
                    "operation not permitted (immutable or append-only file? see `lsattr`): \
                     check `lsattr -d {}` and its directory, `chattr -i` what should change",
                    path.display()
                ))
            }
            std::io::ErrorKind::PermissionDenied => {
                e.hint("run the command with `sudo`, or point `--root` at a directory you own")
            }
            std::io::ErrorKind::ReadOnlyFilesystem => {
                e.hint("the file system is read-only: remount it read-write or use `--root`")
            }
            std::io::ErrorKind::StorageFull => e.hint("free some disk space and run it again"),
            _ => e,
        }
    }

    /// The `"error"` object of the JSON contract: `message`, `causes`, `hint`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "message": self.message,
            "causes": self.causes,
            "hint": self.hint,
        })
    }

    /// What failed (the `error:` line).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Why, outermost first (the `Caused by:` lines).
    pub fn causes(&self) -> &[String] {
        &self.causes
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eperm_as_root_points_at_file_attributes_and_eacces_at_sudo() {
        let path = Path::new("/x/y");
        let eacces = Error::io(
            "write",
            path,
            std::io::Error::from_raw_os_error(rustix::io::Errno::ACCESS.raw_os_error()),
        );
        assert!(eacces.hint_text().unwrap().contains("sudo"));
        let eperm = Error::io(
            "write",
            path,
            std::io::Error::from_raw_os_error(rustix::io::Errno::PERM.raw_os_error()),
        );
        if rustix::process::geteuid().is_root() {
            let hint = eperm.hint_text().unwrap();
            assert!(
                hint.contains(
                    "operation not permitted (immutable or append-only file? see `lsattr`)"
                ),
                "{hint}"
            );
            assert!(!hint.contains("sudo"), "{hint}");
        } else {
            assert!(eperm.hint_text().unwrap().contains("sudo"));
        }
    }
}
