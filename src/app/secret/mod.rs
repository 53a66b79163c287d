//! `toolctl <scope> secret show|edit|write|set`, the same three commands for every scope.

pub mod edit;
pub mod set;
pub mod show;
pub mod write;

use crate::error::{Error, Result};
use crate::secrets::{schema, Plaintext, Scope};

/// Warns about a password shorter than [`crate::probe::mask::SHORT`] characters in a
/// secret being stored (`secret write`, `set`, `edit`, the imports): probe output masks
/// such a value only where it stands alone, so it may show inside a longer word. The
/// warning names the key, never the value.
pub fn warn_short_password(scope: Scope, key: &str, value: &str, out: &mut crate::report::Report) {
    let short = crate::probe::mask::SHORT;
    if key.contains("password") && !value.is_empty() && value.chars().count() < short {
        out.warn(format!(
            "`{key}` of the {scope} secret is shorter than {short} characters: probe output masks it only where it stands alone as a word, so a short password can show inside other words; use a longer one"
        ));
    }
}

/// [`warn_short_password`] for every key of a secret's content.
pub fn warn_short_passwords(scope: Scope, plaintext: &[u8], out: &mut crate::report::Report) {
    if let Ok(entries) = schema::parse(scope, plaintext) {
        for e in &entries {
            warn_short_password(scope, &e.key, &e.value, out);
        }
    }
}

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
