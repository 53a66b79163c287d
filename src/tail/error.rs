//! The user-facing form of the tail module's errors: one `From` per kind
//! ([`TargetError`] of `discover`, [`FollowError`] of `follow`), the one place their
//! messages and hints are written.

use super::discover::TargetError;
use super::follow::FollowError;
use crate::error::Error;

impl From<TargetError> for Error {
    fn from(e: TargetError) -> Self {
        let msg = e.to_string();
        match e {
            TargetError::NoLogDir(dir) => Error::new(msg).hint(format!(
                "create `{}`, or point `[logging] log_directory` in toolctl.toml at the logs",
                dir.display()
            )),
            TargetError::Missing { services, .. } if services.is_empty() => Error::new(msg)
                .hint("the log directory has no service directories yet; `toolctl tail` follows all of it"),
            TargetError::Missing { services, .. } => Error::new(msg).hint(format!(
                "services with logs: {}; name one of them, or a file below it (`toolctl tail {}/current`)",
                services.join(", "),
                services[0]
            )),
            TargetError::NotFollowable(_) => Error::new(msg).hint("name a log directory or a regular file"),
            TargetError::Link(..) => Error::new(msg).hint(
                "below the log directory, `toolctl tail` follows a link only to a regular file inside it \
                 owned by the link's owner; name the file or directory itself",
            ),
            TargetError::Io(path, io) => Error::io("read", &path, io),
        }
    }
}

impl From<FollowError> for Error {
    fn from(e: FollowError) -> Self {
        match e {
            FollowError::Root(path, io) => Error::io("follow", &path, io),
            FollowError::Stdout(io) => Error::new("cannot write to stdout")
                .cause(io)
                .hint("check where the output goes (a full disk, a closed terminal)"),
            other => {
                let cause = std::error::Error::source(&other).map(|s| s.to_string());
                let mut err = Error::new(other.to_string());
                if let Some(c) = cause {
                    err = err.cause(c);
                }
                err.hint("this is unexpected; try again, and report it with the command you ran")
            }
        }
    }
}
