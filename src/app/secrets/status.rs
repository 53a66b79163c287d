use std::time::SystemTime;

use serde_json::json;

use crate::cli::OutputFormat;
use crate::error::{ExitStatus, Result};
use crate::fsutil::{self, ReadFailure};
use crate::report::{self, Report};
use crate::secrets::crypt::{self, DecryptFailure};
use crate::secrets::key::{Key, KeyFile, Role};
use crate::secrets::{rotation, Scope};
use crate::Context;

/// One scope's row: which key file opens it, or why none does.
struct Row {
    scope: Scope,
    path: std::path::PathBuf,
    present: bool,
    modified: Option<String>,
    /// `None`: no file. `Some(Ok(k))`: opened by `files[k]`, usable by toolctl.
    decrypts: Option<std::result::Result<usize, String>>,
    /// The key file that opens it (also for a file that only an old key opens).
    opened_by: Option<usize>,
}

/// `toolctl secrets status`: every key file with its role, one row per scope with the key
/// file that opens it; exit 1 when something needs attention (a present file that toolctl
/// cannot decrypt, an unfinished rotation, a key file that cannot be used).
pub fn run(ctx: &Context, format: OutputFormat) -> Result<Report> {
    let mut out = Report::new();
    let store = ctx.store();
    store.check_dir()?;
    // The key set readers use: an unusable current or staged key is an error, as for them.
    let key = Key::load(&ctx.paths.key_file)?;
    let inventory = rotation::inventory(&ctx.paths.key_file);
    let files: Vec<&KeyFile> = inventory
        .files
        .iter()
        .filter_map(|(_, _, k)| k.as_ref().ok())
        .collect();
    let mut attention: Vec<String> = Vec::new();

    let mut rows = Vec::new();
    for scope in Scope::ALL {
        let path = store.file(scope);
        let meta = std::fs::metadata(&path).ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(|t: SystemTime| humantime::format_rfc3339_seconds(t).to_string());
        let present = std::fs::symlink_metadata(&path).is_ok();
        let (decrypts, opened_by) = if !present {
            (None, None)
        } else if key.is_none() {
            (Some(Err("no key".to_string())), None)
        } else {
            match fsutil::read_capped(&path, fsutil::SECRET_CAP) {
                Ok(None) => (None, None),
                Err(ReadFailure::Io(e)) => (Some(Err(format!("unreadable: {}", e.kind()))), None),
                Err(ReadFailure::NotRegular(kind)) => {
                    (Some(Err(format!("not a regular file: a {kind}"))), None)
                }
                Err(ReadFailure::TooLarge(_)) => (Some(Err("damaged (too large)".into())), None),
                Ok(Some(ct)) => which_opens(&ct, &files),
            }
        };
        if let Some(Err(why)) = &decrypts {
            attention.push(format!("{scope}: {why}"));
        }
        rows.push(Row {
            scope,
            path,
            present,
            modified,
            decrypts,
            opened_by,
        });
    }

    let staged = files.iter().any(|k| k.role == Role::Staged);
    if staged || inventory.journal.is_some() {
        attention.push(format!(
            "a key rotation is unfinished (state {}): every secret still opens with a key \
             file listed here; run `toolctl secrets rekey` to finish it, and remove no key file",
            match &inventory.journal {
                Some(j) => j.state.as_str(),
                None => rotation::State::Staged.as_str(),
            }
        ));
    }
    for (role, path, k) in &inventory.files {
        if let Err(e) = k {
            attention.push(format!(
                "the {} key file `{}` cannot be used: {e}",
                role.as_str(),
                path.display()
            ));
        }
    }
    if let Some(e) = &inventory.journal_error {
        attention.push(format!("the rotation journal cannot be read: {e}"));
    }

    // Plaintext copies a killed `secret edit` left that the store's sweep could not remove.
    let stale = crate::secrets::edit::stale_left_behind(&ctx.printer);
    if !stale.is_empty() {
        attention.push(
            "plaintext copies of edited secrets are left on disk (listed above): remove them"
                .to_string(),
        );
    }
    let stale_json: Vec<_> = stale
        .iter()
        .map(|d| json!({"path": d.path, "pid": d.pid, "problem": d.problem}))
        .collect();

    let key_files = || {
        inventory
            .files
            .iter()
            .map(|(role, path, k)| {
                json!({
                    "role": role.as_str(),
                    "path": path,
                    "public_key": k.as_ref().ok().map(|k| k.recipient().to_string()),
                    "problem": k.as_ref().err().map(|e| e.to_string()),
                })
            })
            .collect::<Vec<_>>()
    };
    match format {
        OutputFormat::Json => out.set_payload(&json!({
            "key_file": ctx.paths.key_file,
            "public_key": key.as_ref().map(|k| k.recipient().to_string()),
            "key_files": key_files(),
            "rotation": (staged || inventory.journal.is_some()).then(|| json!({
                "state": inventory.journal.as_ref().map_or("staged", |j| j.state.as_str()),
                "journal": rotation::journal_path(&ctx.paths.key_file),
                "new_public_key": inventory.journal.as_ref().and_then(|j| j.new_public.clone()),
                "old_key": inventory.journal.as_ref().and_then(|j| j.old_copy.clone()),
            })),
            "secrets": rows.iter().map(|r| json!({
                "scope": r.scope.cli_name(),
                "file": r.path,
                "present": r.present,
                "modified": r.modified,
                "decrypts": r.decrypts.as_ref().map(|d| d.is_ok()),
                "problem": r.decrypts.as_ref().and_then(|d| d.as_ref().err()),
                "key_file": r.opened_by.map(|k| &files[k].path),
                "key_role": r.opened_by.map(|k| files[k].role.as_str()),
            })).collect::<Vec<_>>(),
            "stale_edit_dirs": stale_json,
            "attention": attention,
        })),
        OutputFormat::Human => {
            let mut t = report::table(&[
                "scope",
                "file",
                "present",
                "modified",
                "decrypts",
                "opens with",
            ]);
            // `-q`: only the rows that need attention, and the key files only then.
            let terse = ctx.printer.quiet;
            for r in rows
                .iter()
                .filter(|r| !terse || matches!(r.decrypts, Some(Err(_))))
            {
                t.add_row(vec![
                    r.scope.cli_name().to_string(),
                    r.path.display().to_string(),
                    if r.present { "yes" } else { "no" }.to_string(),
                    r.modified.clone().unwrap_or_else(|| "-".into()),
                    match &r.decrypts {
                        None => "-".to_string(),
                        Some(Ok(_)) => "yes".to_string(),
                        Some(Err(why)) => format!("no ({why})"),
                    },
                    match r.opened_by {
                        Some(k) => format!("{} key", files[k].role.as_str()),
                        None => "-".to_string(),
                    },
                ]);
            }
            let mut k = report::table(&["key file", "role", "public key"]);
            for (role, path, file) in &inventory.files {
                k.add_row(vec![
                    path.display().to_string(),
                    role.as_str().to_string(),
                    match file {
                        Ok(f) => f.recipient().to_string(),
                        Err(_) => "(unusable)".to_string(),
                    },
                ]);
            }
            if !terse || !attention.is_empty() {
                out.text(format!("{t}\n\n{k}\n"));
            }
            if !stale.is_empty() {
                let mut t = report::table(&["stale edit directory", "toolctl pid", "problem"]);
                for d in stale.iter() {
                    let pid = d.pid.map_or_else(|| "-".to_string(), |p| p.to_string());
                    t.add_row(vec![d.path.display().to_string(), pid, d.problem.clone()]);
                }
                out.text(format!("{t}\n"));
            }
            if key.is_none() {
                // The hint must match what `secrets init` will do: it refuses to create a
                // key over existing secrets.
                if rows.iter().any(|r| r.present) {
                    ctx.printer.warn(format!(
                        "no key at `{}`, and secrets exist that only the original key decrypts: restore it from your backup",
                        ctx.paths.key_file.display()
                    ));
                } else {
                    ctx.printer.info(format!(
                        "no key at `{}` (`toolctl secrets init` creates one)",
                        ctx.paths.key_file.display()
                    ));
                }
            }
        }
    }
    if !attention.is_empty() {
        for a in &attention {
            ctx.printer.warn(a);
        }
        if rows.iter().any(|r| matches!(r.decrypts, Some(Err(_)))) {
            ctx.printer.warn(
                "some secrets do not decrypt with this key: restore the right key, or rewrite \
                 them with `toolctl <scope> secret write`",
            );
        }
        return Ok(out.with_status(ExitStatus::Failure));
    }
    Ok(out)
}

/// Which key file opens `ct`: the first of `files` (current, staged, old copies) whose
/// identities decrypt it. A file only an old copy opens is reported: toolctl's readers use
/// the current and staged keys only.
fn which_opens(
    ct: &[u8],
    files: &[&KeyFile],
) -> (Option<std::result::Result<usize, String>>, Option<usize>) {
    let mut damaged = None;
    for (i, k) in files.iter().enumerate() {
        match crypt::decrypt(ct, k.identities()) {
            Ok(_) if k.role == Role::Old => {
                return (
                    Some(Err(format!(
                        "opens only with the old key `{}`: run `toolctl secrets rekey`",
                        k.path.display()
                    ))),
                    Some(i),
                )
            }
            Ok(_) => return (Some(Ok(i)), Some(i)),
            Err(DecryptFailure::Damaged(_)) => damaged = Some(()),
            Err(DecryptFailure::WrongKey) => {}
        }
    }
    let why = if damaged.is_some() {
        "damaged"
    } else {
        "wrong key"
    };
    (Some(Err(why.to_string())), None)
}
