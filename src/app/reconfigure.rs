//! `toolctl reconfigure [--dry-run] [--diff] [--exit-code]`.
//!
//! Order: (a root without toolctl.toml was refused before: only `toolctl init` writes one)
//! → resolve and check every rule (any error: stop, nothing written) → lock the rendered
//! tree → complete or undo an interrupted apply from its journal (a dry run too: the one
//! write it may do, and it says so) → refuse a managed directory that is a symlink → sweep
//! stale temporary files → lock the store (creating the key on a fresh root) → generate the
//! mailroom token if the store has none → plan → compare → diffs → write, all or nothing →
//! report → log.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde_json::json;

use crate::cli::ReconfigureArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;
use crate::output::{self, OutputFormat};
use crate::render;
use crate::secrets::Scope;
use crate::Context;

pub fn run(ctx: &Context, args: &ReconfigureArgs) -> Result<ExitStatus> {
    let dry = args.dry_run;
    let mut notes = Vec::new();
    let store = ctx.store();
    let resolved = ctx.resolve()?;
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        resolved.diags.iter(),
        "nothing was written",
    )?;

    // Locks: the rendered tree, then the store (its key may be created, and the webhook
    // token written into it), both held until the end of the run. A dry run locks the tree
    // only when a journal says an apply was interrupted, to recover it.
    let rendered = &ctx.paths.rendered_dir;
    let journal = render::journal_path(rendered);
    let lock_path = rendered.with_extension("lock");
    let render_lock = if dry {
        match journal.try_exists() {
            Ok(false) => None,
            _ => Some(fsutil::lock(&lock_path, "rendered files")?),
        }
    } else {
        fsutil::ensure_dir(rendered, 0o755)?;
        Some(fsutil::lock(&lock_path, "rendered files")?)
    };
    let mut recovered = None;
    let mut swept_report = Vec::new();
    if render_lock.is_some() {
        if let Some(done) = crate::sys::journal::recover(&journal)? {
            recovered = Some(done.key());
            let mut note = done.describe(&journal);
            if dry {
                note.push_str(
                    " (the one write a --dry-run does: it puts the tree back in one piece)",
                );
            }
            notes.push(note);
        }
    }
    render::check_tree(rendered)?;
    if !dry {
        // After the recovery, which may still need the temporaries its journal names.
        let mut swept = fsutil::sweep_temps_tree(rendered, 8)?;
        if let Some(dir) = journal.parent() {
            let name = journal.file_name().unwrap_or_default().to_string_lossy();
            swept.extend(fsutil::sweep_temps_for(dir, Some(&name))?);
        }
        for path in swept {
            swept_report.push(path.display().to_string());
            notes.push(format!(
                "removed the stale temporary file `{}` (left by an interrupted toolctl)",
                path.display()
            ));
        }
    }
    let writer = if dry {
        None
    } else {
        Some(store.lock_for_writing(&ctx.printer)?)
    };

    // The mailroom webhook token: from the store, or generated once into it, so every
    // node sharing the store renders the same token.
    let mut token = resolved
        .str("mailroom.webhook_secret")
        .map(|s| zeroize::Zeroizing::new(s.to_string()));
    if token.is_none() && render::needs_webhook_secret(&resolved) {
        let fresh_token = zeroize::Zeroizing::new(generate_token()?);
        if dry {
            notes.push(
                "would generate the mailroom webhook secret into the `mailroom` secret scope"
                    .into(),
            );
        } else {
            let (_, key) = writer.as_ref().expect("locked above when not a dry run");
            let content =
                zeroize::Zeroizing::new(format!("webhook_secret: '{}'\n", fresh_token.as_str()));
            store.write(Scope::Mailroom, key, content.as_bytes())?;
            notes.push(
                "generated the mailroom webhook secret into the `mailroom` secret scope".into(),
            );
        }
        token = Some(fresh_token);
    }

    let cx = render::Context {
        resolved: &resolved,
        paths: &ctx.paths,
    };
    let plan = render::plan(&cx, token.as_deref().map(|s| s.as_str()))?;
    if !dry {
        // Files outside the tree (GitLab's encrypted settings) have their own directories.
        for f in plan
            .files
            .iter()
            .filter(|f| Path::new(&f.rel).is_absolute())
        {
            if let Some(dir) = Path::new(&f.rel).parent() {
                for path in fsutil::sweep_temps_beneath(&ctx.paths.root, dir, f.owner)? {
                    swept_report.push(path.display().to_string());
                    notes.push(format!(
                        "removed the stale temporary file `{}` (left by an interrupted toolctl)",
                        path.display()
                    ));
                }
            }
        }
    }
    let changes = render::compare(&plan, rendered)?;
    notes.extend(plan.notes.iter().cloned());

    // Diffs: printed for people, strings inside the document for JSON (one document).
    let mut diffs = Vec::new();
    if args.diff {
        // Every secret value of every scope, and the webhook token (generated this run
        // when the store has none): masked wherever, and however encoded, it lands.
        let mut secrets = resolved.secret_values();
        if let Some(t) = token.as_deref() {
            secrets.push(t.as_str());
        }
        let mut text = String::new();
        for c in &changes {
            if let Some(d) = render::diff(&plan, c, &secrets) {
                text.push_str(&d);
                diffs.push(json!({ "file": c.rel, "diff": d }));
            }
        }
        if args.report.output_format == OutputFormat::Human {
            output::emit(&text);
        }
    }
    if !dry {
        render::apply(&plan, &changes, &ctx.paths.rendered_dir)?;
    }

    let changed = changes.iter().filter(|c| c.action.changes()).count();
    let unchanged = changes.len() - changed;
    match args.report.output_format {
        OutputFormat::Json => output::emit_json(&json!({
            "dry_run": dry,
            "changed": changed,
            "files": changes.iter().map(|c| json!({
                "file": c.rel,
                "kind": if c.dir { "directory" } else { "file" },
                "action": format!("{:?}", c.action).to_lowercase(),
                "mode": c.mode.map(|m| format!("{m:04o}")),
            })).collect::<Vec<_>>(),
            "notes": notes,
            "recovered": recovered,
            "removed_temporaries": swept_report,
            "diffs": if args.diff { Some(&diffs) } else { None },
        })),
        OutputFormat::Human if !args.diff => {
            let mut t = output::table(&["file", "action", "mode"]);
            for c in &changes {
                t.add_row(vec![
                    c.rel.clone(),
                    c.action.label(dry).to_string(),
                    c.mode
                        .map(|m| format!("{m:04o}"))
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            output::emit(&format!("{t}\n"));
        }
        OutputFormat::Human => {}
    }
    for n in &notes {
        ctx.printer.warn(n);
    }
    let verb = if dry { "would change" } else { "changed" };
    ctx.printer.info(format!(
        "{changed} {verb}, {unchanged} unchanged in `{}`.",
        ctx.paths.rendered_dir.display()
    ));
    if !dry {
        log_run(ctx, &changes)?;
    }
    if dry && args.exit_code && changed > 0 {
        return Ok(ExitStatus::Failure);
    }
    Ok(ExitStatus::Success)
}

/// 32 random bytes, base64: the shared webhook token.
fn generate_token() -> Result<String> {
    use base64::Engine;
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    crate::sys::rand::fill(&mut bytes[..])
        .map_err(|e| Error::new("cannot read random bytes for the webhook secret").cause(e))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&bytes[..]))
}

/// Appends one line per run to `<log_dir>/reconfigure/reconfigure.log` (no secrets: file
/// names and actions only).
fn log_run(ctx: &Context, changes: &[render::Change]) -> Result<()> {
    let dir = ctx.paths.log_dir.join("reconfigure");
    fsutil::ensure_dir(&dir, 0o750)?;
    let path = dir.join("reconfigure.log");
    let changed: Vec<String> = changes
        .iter()
        .filter(|c| c.action.changes())
        .map(|c| format!("{} {}", c.rel, c.action.label(false)))
        .collect();
    let line = format!(
        "{} reconfigure: {} changed{}{}\n",
        humantime::format_rfc3339_seconds(SystemTime::now()),
        changed.len(),
        if changed.is_empty() { "" } else { ": " },
        changed.join(", ")
    );
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io("open the log", &path, e))?;
    f.write_all(line.as_bytes())
        .map_err(|e| Error::io("write the log", &path, e))?;
    Ok(())
}
