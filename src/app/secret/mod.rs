//! `toolctl <scope> secret show|edit|write|set`, the same three commands for every scope.

pub mod edit;
pub mod set;
pub mod show;
pub mod write;

use crate::error::{Error, Result};
use crate::secrets::{schema, Plaintext, Scope};

/// Refuses a NAME that is not one of the scope's keys (`secret show --key`, `secret set`).
pub fn check_key_name(scope: Scope, name: &str) -> Result<()> {
    let allowed: Vec<&str> = scope.keys().iter().map(|k| k.name).collect();
    if !allowed.contains(&name) {
        return Err(
            Error::new(format!("`{name}` is not a key of the {scope} secret")).hint(format!(
                "allowed keys: {}",
                allowed
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    Ok(())
}

/// One key's value of a decrypted secret (`secret show --key`), raw.
pub fn extract(scope: Scope, plaintext: &[u8], name: &str) -> Result<Plaintext> {
    check_key_name(scope, name)?;
    let entries = schema::parse(scope, plaintext).map_err(|e| {
        Error::new(format!("the {scope} secret holds invalid content"))
            .cause(&e)
            .hint(format!(
                "fix it with `toolctl {scope} secret edit`: {}",
                e.hint(scope)
            ))
    })?;
    match entries.into_iter().find(|e| e.key == name) {
        Some(e) => Ok(Plaintext::new(e.value.as_bytes().to_vec())),
        None => Err(Error::new(format!("the {scope} secret has no `{name}`"))
            .hint(format!("set it with `toolctl {scope} secret set {name}`"))),
    }
}
