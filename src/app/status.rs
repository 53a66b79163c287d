//! `toolctl status`: one screen, like `gitlab-ctl status`. Whether the settings are valid,
//! the key (present, mode), every scope's secret (present, decrypts, modified), whether the
//! rendered files are up to date (the `reconfigure --dry-run` comparison) and which
//! integrations are enabled.
//!
//! Writes nothing, ever: no key is created, no token generated, no lock taken. Exit 0 when
//! all is well, 1 when something needs attention (a rendered file out of date, a secret that
//! does not decrypt, a missing key), 2 when it cannot tell (invalid settings).

use std::os::unix::fs::PermissionsExt;
use std::time::SystemTime;

use serde_json::json;

use crate::error::{ExitStatus, Result};
use crate::output::{self, OutputFormat};
use crate::render;
use crate::secrets::crypt::{self, DecryptFailure};
use crate::secrets::key::Key;
use crate::secrets::Scope;
use crate::settings::resolve::{self, Decrypted};
use crate::settings::Severity;
use crate::Context;

/// One line of the screen: what, its state, and what to do about it.
struct Row {
    area: &'static str,
    item: String,
    state: String,
    /// `ok`, `attention` (exit 1) or `error` (exit 2).
    level: &'static str,
    hint: Option<String>,
}

pub fn run(ctx: &Context, format: OutputFormat) -> Result<ExitStatus> {
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |area, item: String, state: String, level, hint: Option<String>| {
        rows.push(Row {
            area,
            item,
            state,
            level,
            hint,
        })
    };

    // The key: present, its mode, and whether it loads.
    let key = Key::load(&ctx.paths.key_file);
    let key_mode = std::fs::metadata(&ctx.paths.key_file)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let store = ctx.store();
    let any_secret = !store.existing().is_empty();
    let key = match key {
        Ok(Some(k)) => {
            let mode = key_mode.unwrap_or(0);
            let loose = mode & 0o077 != 0;
            push(
                "key",
                ctx.paths.key_file.display().to_string(),
                format!("present, mode {mode:04o}"),
                if loose { "attention" } else { "ok" },
                loose.then(|| format!("`chmod 600 {}`", ctx.paths.key_file.display())),
            );
            Some(k)
        }
        Ok(None) => {
            push(
                "key",
                ctx.paths.key_file.display().to_string(),
                "missing".into(),
                "attention",
                Some(if any_secret {
                    "restore the key from your backup: only it decrypts the existing secrets".into()
                } else {
                    "`toolctl init` creates it".into()
                }),
            );
            None
        }
        Err(e) => {
            push(
                "key",
                ctx.paths.key_file.display().to_string(),
                format!("unusable: {e}"),
                "error",
                e.hint_text().map(str::to_string),
            );
            None
        }
    };

    // Every scope's secret.
    for scope in Scope::ALL {
        let path = store.file(scope);
        let Ok(meta) = std::fs::metadata(&path) else {
            push(
                "secret",
                scope.cli_name().into(),
                "absent".into(),
                "ok",
                None,
            );
            continue;
        };
        let modified = meta
            .modified()
            .ok()
            .map(|t: SystemTime| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_else(|| "-".into());
        let decrypts = match &key {
            None => Err("no key".to_string()),
            Some(k) => match std::fs::read(&path) {
                Err(e) => Err(format!("unreadable: {}", e.kind())),
                Ok(ct) => match crypt::decrypt(&ct, k.identities()) {
                    Ok(_) => Ok(()),
                    Err(DecryptFailure::WrongKey) => Err("wrong key".into()),
                    Err(DecryptFailure::Damaged(_)) => Err("damaged".into()),
                },
            },
        };
        match decrypts {
            Ok(()) => push(
                "secret",
                scope.cli_name().into(),
                format!("decrypts, modified {modified}"),
                "ok",
                None,
            ),
            Err(why) => push(
                "secret",
                scope.cli_name().into(),
                format!("does not decrypt ({why}), modified {modified}"),
                "attention",
                Some(format!(
                    "restore the right key, or rewrite it with `toolctl {scope} secret write`"
                )),
            ),
        }
    }

    // The settings, resolved with whatever decrypts (a damaged secret is an error of its
    // table, already reported above).
    let decrypted = Decrypted::load(&store).unwrap_or_else(|_| Decrypted::none());
    let r = resolve::resolve_with(&ctx.settings, &ctx.paths, &decrypted);
    let errors = r
        .diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = r.diags.len() - errors;
    let config = ctx.paths.config.display().to_string();
    match (errors, r.errors().next()) {
        (0, _) => push(
            "settings",
            config,
            format!("valid ({warnings} warning(s))"),
            "ok",
            (warnings > 0).then(|| "`toolctl show-config` lists the warnings".into()),
        ),
        (n, first) => push(
            "settings",
            config,
            format!(
                "{n} error(s); first: `{}`: {}",
                first.map(|d| d.key.as_str()).unwrap_or(""),
                first.map(|d| d.message.as_str()).unwrap_or("")
            ),
            "error",
            Some("`toolctl show-config` lists them with their fixes".into()),
        ),
    }

    // Rendered files: the dry-run comparison, no token generated.
    // Interrupted writes that the next command finishes: a reconfigure apply (its journal)
    // and a key rotation (a staged key or its journal).
    let apply_journal = render::journal_path(&ctx.paths.rendered_dir);
    if apply_journal.symlink_metadata().is_ok() {
        push(
            "reconfigure",
            apply_journal.display().to_string(),
            "an interrupted apply is pending".into(),
            "attention",
            Some("`toolctl reconfigure` (or `--dry-run`) completes or undoes it first".into()),
        );
    }
    let import_journal = ctx.store().import_journal();
    let restore_journal = ctx
        .paths
        .root
        .join(crate::mattermost::STATE_DIR)
        .join(crate::mattermost::restore::JOURNAL);
    for (area, journal, state, hint) in [
        (
            "import",
            &import_journal,
            "an interrupted import is pending",
            "the next command that writes a secret (or `toolctl import …`) completes or undoes it",
        ),
        (
            "restore",
            &restore_journal,
            "an interrupted Mattermost restore is pending",
            "`toolctl mattermost check` (or the next backup or restore) completes or rolls it back",
        ),
    ] {
        if journal.symlink_metadata().is_ok() {
            push(
                area,
                journal.display().to_string(),
                state.into(),
                "attention",
                Some(hint.into()),
            );
        }
    }
    let rotation = [
        crate::secrets::key::staged_path(&ctx.paths.key_file),
        crate::secrets::rotation::journal_path(&ctx.paths.key_file),
    ];
    if let Some(left) = rotation.iter().find(|p| p.symlink_metadata().is_ok()) {
        push(
            "rotation",
            left.display().to_string(),
            "a key rotation is unfinished".into(),
            "attention",
            Some("`toolctl secrets rekey` finishes it; remove no key file until then".into()),
        );
    }

    if errors == 0 {
        let m = &r.model;
        let token = m
            .mailroom
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().to_string());
        let missing_token = token.is_none() && m.needs_webhook_secret();
        let cx = render::Context {
            model: m,
            paths: &ctx.paths,
        };
        let compared = render::plan(&cx, token.as_deref().or(missing_token.then_some("")))
            .and_then(|plan| render::compare(&plan, &ctx.paths.rendered_dir));
        match compared {
            Ok(changes) => {
                let stale: Vec<String> = changes
                    .iter()
                    .filter(|c| c.action.changes())
                    .map(|c| format!("{} ({})", c.rel, c.action.label(true)))
                    .collect();
                if stale.is_empty() && !missing_token {
                    push(
                        "rendered",
                        ctx.paths.rendered_dir.display().to_string(),
                        format!("up to date ({} files)", changes.len()),
                        "ok",
                        None,
                    );
                } else {
                    let mut state = format!("out of date: {}", stale.join(", "));
                    if missing_token {
                        state.push_str("; the mailroom webhook secret is not generated yet");
                    }
                    push(
                        "rendered",
                        ctx.paths.rendered_dir.display().to_string(),
                        state,
                        "attention",
                        Some("`toolctl reconfigure --dry-run --diff` shows the changes; `toolctl reconfigure` applies them".into()),
                    );
                }
            }
            Err(e) => push(
                "rendered",
                ctx.paths.rendered_dir.display().to_string(),
                format!("cannot compare: {e}"),
                "error",
                e.hint_text().map(str::to_string),
            ),
        }
    }

    // Integrations.
    for (name, on) in [
        ("smtp", r.model.smtp.enabled),
        ("incoming_email", r.model.incoming.enabled),
        ("service_desk_email", r.model.service_desk.enabled),
        ("microsoft_graph_mailer", r.model.graph_mailer.enabled),
        ("mattermost", r.model.mattermost.enabled()),
        ("mailroom", r.model.mailroom.enable),
    ] {
        push(
            "integration",
            name.into(),
            if on { "enabled" } else { "disabled" }.into(),
            "ok",
            None,
        );
    }

    let status = if rows.iter().any(|r| r.level == "error") {
        ExitStatus::Error
    } else if rows.iter().any(|r| r.level == "attention") {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };

    match format {
        OutputFormat::Json => {
            let by = |area: &str| -> Vec<serde_json::Value> {
                rows.iter()
                    .filter(|r| r.area == area)
                    .map(|r| json!({ "name": r.item, "state": r.state, "level": r.level, "hint": r.hint }))
                    .collect()
            };
            let interrupted: Vec<serde_json::Value> =
                ["reconfigure", "rotation", "import", "restore"]
                    .iter()
                    .flat_map(|a| by(a))
                    .collect();
            output::emit_json(&json!({
                "settings": by("settings").into_iter().next(),
                "key": by("key").into_iter().next(),
                "key_present": key.is_some(),
                "key_mode": key_mode.map(|m| format!("{m:04o}")),
                "secrets": by("secret"),
                "rendered": by("rendered").into_iter().next(),
                "interrupted": interrupted,
                "integrations": rows.iter().filter(|r| r.area == "integration")
                    .map(|r| (r.item.clone(), json!(r.state == "enabled")))
                    .collect::<serde_json::Map<_, _>>(),
                "needs_attention": status != ExitStatus::Success,
            }));
        }
        OutputFormat::Human => {
            let shown: Vec<&Row> = if ctx.printer.quiet {
                rows.iter().filter(|r| r.level != "ok").collect()
            } else {
                rows.iter().collect()
            };
            if !shown.is_empty() {
                let mut t = output::table(&["area", "item", "state", "hint"]);
                for r in shown {
                    t.add_row(vec![
                        r.area.to_string(),
                        r.item.clone(),
                        r.state.clone(),
                        r.hint.clone().unwrap_or_default(),
                    ]);
                }
                output::emit(&format!("{t}\n"));
            }
        }
    }
    Ok(status)
}
