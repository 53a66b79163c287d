use std::time::SystemTime;

use serde_json::json;

use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;
use crate::output::{self, OutputFormat};
use crate::secrets::{crypt, key, Scope};
use crate::Context;

/// `toolctl secrets rekey [--new-key]`: re-encrypt every present secret to the current
/// recipients, all or nothing.
///
/// Order, so that a crash at any point leaves every file readable: decrypt everything (any
/// failure: stop, nothing changed); write every secret, re-encrypted, to a temporary file
/// beside it; with `--new-key`, copy the old key to `secrets.key.old-<time>` and write the
/// new one to `secrets.key.new`; rename the secrets into place; finally rename
/// `secrets.key.new` over the key.
/// A crash between the last two steps leaves `secrets.key.new`, which [`key::Key::load`]
/// also reads, so the store stays readable; the next `rekey` re-encrypts to the current key
/// and removes it.
pub fn run(ctx: &Context, new_key: bool, format: OutputFormat) -> Result<ExitStatus> {
    let store = ctx.store();
    let old = store.key()?;
    let _lock = store.lock()?;

    let scopes = store.existing();
    let mut plaintexts = Vec::new();
    let mut failures = Vec::new();
    for scope in &scopes {
        match store.read(*scope, &old) {
            Ok(Some(p)) => plaintexts.push((*scope, p)),
            Ok(None) => {}
            Err(e) => failures.push(format!("{scope}: {e}")),
        }
    }
    if !failures.is_empty() {
        let mut err = Error::new(format!(
            "{} secret(s) cannot be decrypted with `{}`; nothing was changed",
            failures.len(),
            old.path.display()
        ));
        for f in failures {
            err = err.cause(f);
        }
        return Err(err.hint(
            "restore the right key or the damaged files first, or rewrite those secrets with \
             `toolctl <scope> secret write`, then run `toolctl secrets rekey` again",
        ));
    }

    let key_path = ctx.paths.key_file.clone();
    let (own, pending_key) = if new_key {
        let (identity, contents) = key::generate();
        (identity.to_public(), Some(contents))
    } else {
        (old.recipient(), None)
    };
    let recipients = store.recipients(own.clone())?;

    let mut prepared = Vec::new();
    for (scope, plaintext) in &plaintexts {
        let ct = crypt::encrypt(plaintext, &recipients)
            .map_err(|e| Error::new("cannot encrypt").cause(e))?;
        prepared.push(fsutil::prepare(&store.file(*scope), &ct, 0o600)?);
    }

    let mut backup = None;
    let staged = key::pending_path(&key_path);
    if let Some(contents) = &pending_key {
        let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
            .to_string()
            .replace(':', "");
        let old_copy = key_path.with_file_name(format!("{}.old-{stamp}", file_name(&key_path)));
        let old_bytes =
            std::fs::read(&key_path).map_err(|e| Error::io("read the key", &key_path, e))?;
        fsutil::write_new(&old_copy, &old_bytes, 0o600)?;
        if staged.exists() {
            std::fs::remove_file(&staged).map_err(|e| Error::io("remove", &staged, e))?;
        }
        fsutil::write_new(&staged, contents.as_bytes(), 0o600)?;
        backup = Some(old_copy);
    }
    for p in prepared {
        p.commit()?;
    }
    if pending_key.is_some() {
        std::fs::rename(&staged, &key_path).map_err(|e| Error::io("replace", &key_path, e))?;
        fsutil::sync_dir(key_path.parent().unwrap_or(&key_path))?;
    } else if let Some(left) = &old.pending {
        // Every secret is now encrypted to the current key: the interrupted rotation's
        // staged key opens nothing that the current key does not.
        std::fs::remove_file(left).map_err(|e| Error::io("remove", left, e))?;
        ctx.printer.info(format!(
            "Removed `{}`, left by an interrupted `rekey --new-key`.",
            left.display()
        ));
    }

    let done: Vec<Scope> = plaintexts.iter().map(|(s, _)| *s).collect();
    match format {
        OutputFormat::Json => output::emit_json(&json!({
            "public_key": own.to_string(),
            "recipients": recipients.len(),
            "old_key": backup,
            "secrets": Scope::ALL.iter().map(|s| json!({
                "scope": s.cli_name(),
                "action": if done.contains(s) { "re-encrypted" } else { "absent" },
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Human => {
            let mut t = output::table(&["scope", "action", "recipients"]);
            for s in Scope::ALL {
                let (action, n) = if done.contains(&s) {
                    ("re-encrypted", recipients.len().to_string())
                } else {
                    ("absent", "-".to_string())
                };
                t.add_row(vec![s.cli_name().to_string(), action.to_string(), n]);
            }
            output::emit(&format!("{t}\n"));
        }
    }
    ctx.printer.info(format!(
        "{} secret(s) re-encrypted to {} recipient(s).",
        done.len(),
        recipients.len()
    ));
    if let Some(old_copy) = backup {
        ctx.printer.info(format!(
            "New key `{}` (public key {own}). The old key is kept at `{}`: update \
             `[secrets] recipients` on the other nodes, then remove it.",
            key_path.display(),
            old_copy.display()
        ));
    }
    Ok(ExitStatus::Success)
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secrets.key".into())
}
