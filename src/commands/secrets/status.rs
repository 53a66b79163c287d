use std::time::SystemTime;

use serde_json::json;

use crate::error::{ExitStatus, Result};
use crate::output::{self, OutputFormat};
use crate::secrets::crypt::{self, DecryptFailure};
use crate::secrets::key::Key;
use crate::secrets::Scope;
use crate::Context;

/// `toolctl secrets status`: one row per scope; exit 1 when a present file does not decrypt
/// with this key (a check answered "no").
pub fn run(ctx: &Context, format: OutputFormat) -> Result<ExitStatus> {
    let store = ctx.store();
    let key = Key::load(&ctx.paths.key_file)?;
    let mut rows = Vec::new();
    let mut failed = false;
    for scope in Scope::ALL {
        let path = store.file(scope);
        let meta = std::fs::metadata(&path).ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(|t: SystemTime| humantime::format_rfc3339_seconds(t).to_string());
        let decrypts = match (&meta, &key) {
            (None, _) => None,
            (Some(_), None) => Some(Err("no key".to_string())),
            (Some(_), Some(key)) => Some(match std::fs::read(&path) {
                Err(e) => Err(format!("unreadable: {}", e.kind())),
                Ok(ct) => match crypt::decrypt(&ct, key.identities()) {
                    Ok(_) => Ok(()),
                    Err(DecryptFailure::WrongKey) => Err("wrong key".into()),
                    Err(DecryptFailure::Damaged(_)) => Err("damaged".into()),
                },
            }),
        };
        failed |= matches!(decrypts, Some(Err(_)));
        rows.push((scope, path, meta.is_some(), modified, decrypts));
    }

    // Plaintext copies a killed `secret edit` left that the store's sweep could not remove.
    let stale = crate::secrets::edit::stale_left_behind(&ctx.printer);
    let stale_json: Vec<_> = stale
        .iter()
        .map(|d| json!({"path": d.path, "pid": d.pid, "problem": d.problem}))
        .collect();

    match format {
        OutputFormat::Json => output::emit_json(&json!({
            "stale_edit_dirs": stale_json,
            "key_file": ctx.paths.key_file,
            "public_key": key.as_ref().map(|k| k.recipient().to_string()),
            "secrets": rows.iter().map(|(scope, path, present, modified, decrypts)| json!({
                "scope": scope.cli_name(),
                "file": path,
                "present": present,
                "modified": modified,
                "decrypts": decrypts.as_ref().map(|d| d.is_ok()),
                "problem": decrypts.as_ref().and_then(|d| d.as_ref().err()),
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Human => {
            let mut t = output::table(&["scope", "file", "present", "modified", "decrypts"]);
            // `-q`: only the rows that do not decrypt (none: no table at all).
            let terse = ctx.printer.quiet;
            for (scope, path, present, modified, decrypts) in rows
                .iter()
                .filter(|r| !terse || matches!(r.4, Some(Err(_))))
            {
                t.add_row(vec![
                    scope.cli_name().to_string(),
                    path.display().to_string(),
                    if *present { "yes" } else { "no" }.to_string(),
                    modified.clone().unwrap_or_else(|| "-".into()),
                    match decrypts {
                        None => "-".to_string(),
                        Some(Ok(())) => "yes".to_string(),
                        Some(Err(why)) => format!("no ({why})"),
                    },
                ]);
            }
            if !terse || failed {
                output::emit(&format!("{t}\n"));
            }
            if !stale.is_empty() {
                let mut t = output::table(&["stale edit directory", "toolctl pid", "problem"]);
                for d in stale {
                    let pid = d.pid.map_or_else(|| "-".to_string(), |p| p.to_string());
                    t.add_row(vec![d.path.display().to_string(), pid, d.problem.clone()]);
                }
                output::emit(&format!("{t}\n"));
            }
            match &key {
                Some(k) => ctx.printer.info(format!(
                    "key `{}`, public key {}",
                    k.path.display(),
                    k.recipient()
                )),
                // The hint must match what `secrets init` will do: it refuses to create a
                // key over existing secrets.
                None if rows.iter().any(|r| r.2) => ctx.printer.warn(format!(
                    "no key at `{}`, and secrets exist that only the original key decrypts: restore it from your backup",
                    ctx.paths.key_file.display()
                )),
                None => ctx.printer.info(format!(
                    "no key at `{}` (`toolctl secrets init` creates one)",
                    ctx.paths.key_file.display()
                )),
            }
        }
    }
    if !stale.is_empty() {
        ctx.printer.warn(
            "plaintext copies of edited secrets are left on disk (listed above): remove them",
        );
    }
    if failed {
        ctx.printer.warn(
            "some secrets do not decrypt with this key: restore the right key, or rewrite them \
             with `toolctl <scope> secret write`",
        );
    }
    if failed || !stale.is_empty() {
        return Ok(ExitStatus::Failure);
    }
    Ok(ExitStatus::Success)
}
