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

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::error::{ExitStatus, Result};
use crate::render;
use crate::report::Report;
use crate::secrets::crypt::{self, DecryptFailure};
use crate::secrets::key::Key;
use crate::secrets::{Scope, Store};
use crate::settings::resolve::{self, Decrypted};
use crate::settings::Severity;
use crate::Context;

/// One line of the screen: what, its state, and what to do about it.
#[derive(Serialize)]
struct Row {
    #[serde(skip)]
    area: &'static str,
    #[serde(rename = "name")]
    item: String,
    state: String,
    /// `ok`, `attention` (exit 1) or `error` (exit 2).
    level: &'static str,
    hint: Option<String>,
}

/// The rows, in screen order.
#[derive(Default)]
struct Rows(Vec<Row>);

impl Rows {
    fn push(
        &mut self,
        area: &'static str,
        item: String,
        state: String,
        level: &'static str,
        hint: Option<String>,
    ) {
        self.0.push(Row {
            area,
            item,
            state,
            level,
            hint,
        });
    }

    fn area(&self, area: &str) -> Vec<&Row> {
        self.0.iter().filter(|r| r.area == area).collect()
    }

    /// 2 when a row is an error, 1 when one needs attention, else 0.
    fn status(&self) -> ExitStatus {
        if self.0.iter().any(|r| r.level == "error") {
            ExitStatus::Error
        } else if self.0.iter().any(|r| r.level == "attention") {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }
}

/// The JSON document of `status` (README: "status --output-format json").
#[derive(Serialize)]
struct Document<'a> {
    settings: Option<&'a Row>,
    key: Option<&'a Row>,
    key_present: bool,
    key_mode: Option<String>,
    secrets: Vec<&'a Row>,
    rendered: Option<&'a Row>,
    wiring: Vec<&'a Row>,
    interrupted: Vec<&'a Row>,
    integrations: std::collections::BTreeMap<&'a str, bool>,
    /// mail_room's liveness, when it polls an IMAP mailbox on this host.
    mailroom: Option<&'a Row>,
    needs_attention: bool,
}

pub fn run(ctx: &Context, format: OutputFormat) -> Result<Report> {
    let mut rows = Rows::default();
    let key_mode = std::fs::metadata(&ctx.paths.key_file)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let store = ctx.store();
    let key = key_row(ctx, &store, key_mode, &mut rows);
    secret_rows(&store, key.as_ref(), &mut rows);

    // The settings, resolved with whatever decrypts (a damaged secret is an error of its
    // table, already reported above).
    let decrypted = Decrypted::load(&store).unwrap_or_else(|_| Decrypted::none());
    let r = resolve::resolve_with(&ctx.settings, &ctx.paths, &decrypted);
    let errors = settings_row(ctx, &r, &mut rows);
    journal_rows(ctx, &store, &mut rows);
    if errors == 0 {
        rendered_row(ctx, &r, &mut rows);
    }
    if errors == 0 {
        wiring_rows(ctx, &r, &mut rows);
    }
    integration_rows(&r, &mut rows);
    if errors == 0 {
        liveness_row(ctx, &r, &mut rows);
    }

    let status = rows.status();
    let mut out = Report::new().with_status(status);
    let first = |area: &str| rows.area(area).into_iter().next();
    out.set_payload(&Document {
        settings: first("settings"),
        key: first("key"),
        key_present: key.is_some(),
        key_mode: key_mode.map(|m| format!("{m:04o}")),
        secrets: rows.area("secret"),
        rendered: first("rendered"),
        wiring: rows.area("wiring"),
        interrupted: ["reconfigure", "rotation", "import", "restore"]
            .iter()
            .flat_map(|a| rows.area(a))
            .collect(),
        integrations: rows
            .area("integration")
            .into_iter()
            .map(|r| (r.item.as_str(), r.state == "enabled"))
            .collect(),
        mailroom: first("liveness"),
        needs_attention: status != ExitStatus::Success,
    });
    if format == OutputFormat::Human {
        let width = crate::sys::term::stdout_width().map(usize::from);
        let text = screen(&rows, ctx.printer.quiet, width);
        if !text.is_empty() {
            out.text(text);
        }
    }
    Ok(out)
}

/// The human screen: a verdict line, then one line per row, an integration and its
/// secret on one line; a row that needs attention gets its hint on the next line. On a
/// terminal, lines that are well are cut to its width and the others wrapped, so that a
/// fully configured root fits 24 rows; off a terminal every line is whole. `-q`: only
/// what needs attention.
fn screen(rows: &Rows, quiet: bool, width: Option<usize>) -> String {
    struct Line {
        label: String,
        text: String,
        level: &'static str,
        hint: Option<String>,
    }
    let worst = |a: &'static str, b: &'static str| {
        let rank = |l: &str| match l {
            "error" => 2,
            "attention" => 1,
            _ => 0,
        };
        if rank(b) > rank(a) {
            b
        } else {
            a
        }
    };
    let secret_of = |name: &str| {
        let cli = name.replace('_', "-");
        rows.0
            .iter()
            .find(move |r| r.area == "secret" && r.item == cli)
    };
    let mut lines = Vec::new();
    let mut shown_secrets = Vec::new();
    for r in &rows.0 {
        match r.area {
            "secret" => {}
            "integration" => {
                let mut line = Line {
                    label: r.item.replace('_', "-"),
                    text: r.state.clone(),
                    level: r.level,
                    hint: r.hint.clone(),
                };
                if let Some(s) = secret_of(&r.item) {
                    shown_secrets.push(s.item.as_str());
                    if s.state != "absent" {
                        line.text.push_str(&format!(", secret {}", s.state));
                    }
                    line.level = worst(line.level, s.level);
                    line.hint = line.hint.or_else(|| s.hint.clone());
                }
                lines.push(line);
            }
            _ => lines.push(Line {
                label: r.area.to_string(),
                text: format!("{}: {}", r.state, r.item),
                level: r.level,
                hint: r.hint.clone(),
            }),
        }
    }
    // The secrets of no integration of their own (redis, custom-email), when present.
    for r in rows.area("secret") {
        if !shown_secrets.contains(&r.item.as_str()) && (r.state != "absent" || r.level != "ok") {
            lines.push(Line {
                label: r.item.clone(),
                text: format!("secret {}", r.state),
                level: r.level,
                hint: r.hint.clone(),
            });
        }
    }
    let attention = lines.iter().filter(|l| l.level != "ok").count();
    let label_width = lines.iter().map(|l| l.label.len()).max().unwrap_or(0) + 2;
    let mut text = String::new();
    if !quiet {
        text.push_str(&match attention {
            0 => "all well\n".to_string(),
            1 => "1 item needs attention (marked !)\n".to_string(),
            n => format!("{n} items need attention (marked !)\n"),
        });
    }
    for l in lines.iter().filter(|l| !quiet || l.level != "ok") {
        let mark = if l.level == "ok" { ' ' } else { '!' };
        let line = format!("{mark} {:<label_width$}{}", l.label, l.text);
        let line = match (l.level, &l.hint) {
            ("ok", _) => match width {
                Some(w) => crate::probe::mask::cut(&line, w.saturating_sub(1).max(20)),
                None => line,
            },
            (_, hint) => {
                let mut line = line;
                if let Some(h) = hint {
                    line.push_str(&format!("\n    hint: {h}"));
                }
                match width {
                    Some(w) => crate::sys::wrap::fit(&line, w),
                    None => line,
                }
            }
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The key: present, its mode, and whether it loads.
fn key_row(ctx: &Context, store: &Store, key_mode: Option<u32>, rows: &mut Rows) -> Option<Key> {
    let key = Key::load(&ctx.paths.key_file);
    let any_secret = !store.existing().is_empty();
    match key {
        Ok(Some(k)) => {
            let mode = key_mode.unwrap_or(0);
            let loose = mode & 0o077 != 0;
            rows.push(
                "key",
                ctx.paths.key_file.display().to_string(),
                format!("present, mode {mode:04o}"),
                if loose { "attention" } else { "ok" },
                loose.then(|| format!("`chmod 600 {}`", ctx.paths.key_file.display())),
            );
            Some(k)
        }
        Ok(None) => {
            rows.push(
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
            let e = crate::error::Error::from(e);
            rows.push(
                "key",
                ctx.paths.key_file.display().to_string(),
                format!("unusable: {e}"),
                "error",
                e.hint_text().map(str::to_string),
            );
            None
        }
    }
}

/// Every scope's secret: absent, decrypts, or not.
fn secret_rows(store: &Store, key: Option<&Key>, rows: &mut Rows) {
    for scope in Scope::ALL {
        let path = store.file(scope);
        let Ok(meta) = std::fs::metadata(&path) else {
            rows.push(
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
        let decrypts = match key {
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
            Ok(()) => rows.push(
                "secret",
                scope.cli_name().into(),
                format!("decrypts, modified {modified}"),
                "ok",
                None,
            ),
            Err(why) => rows.push(
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
}

/// Whether the settings are valid; returns the number of errors.
fn settings_row(ctx: &Context, r: &resolve::Resolved, rows: &mut Rows) -> usize {
    let errors = r
        .diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = r.diags.len() - errors;
    let config = ctx.paths.config.display().to_string();
    match (errors, r.errors().next()) {
        (0, _) => rows.push(
            "settings",
            config,
            format!("valid ({warnings} warning(s))"),
            "ok",
            (warnings > 0).then(|| "`toolctl show-config` lists the warnings".into()),
        ),
        (n, first) => rows.push(
            "settings",
            config,
            format!(
                "{n} error(s); first: `{}`: {}",
                first.map(|d| d.key.as_str()).unwrap_or(""),
                first.map(|d| d.message.as_str()).unwrap_or("")
            ),
            "error",
            // One error (a root cause, its follow-ons left out): its own fix.
            Some(match first {
                Some(d) if n == 1 && !d.hint.is_empty() => d.hint.clone(),
                _ => "`toolctl show-config` lists them with their fixes".into(),
            }),
        ),
    }
    errors
}

/// Interrupted writes that the next command finishes: a reconfigure apply (its journal),
/// an import, a Mattermost restore, and a key rotation (a staged key or its journal).
fn journal_rows(ctx: &Context, store: &Store, rows: &mut Rows) {
    let apply_journal = render::journal_path(&ctx.paths.rendered_dir);
    if apply_journal.symlink_metadata().is_ok() {
        rows.push(
            "reconfigure",
            apply_journal.display().to_string(),
            "an interrupted apply is pending".into(),
            "attention",
            Some("`toolctl reconfigure` (or `--dry-run`) completes or undoes it first".into()),
        );
    }
    let import_journal = store.import_journal();
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
            rows.push(
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
        rows.push(
            "rotation",
            left.display().to_string(),
            "a key rotation is unfinished".into(),
            "attention",
            Some("`toolctl secrets rekey` finishes it; remove no key file until then".into()),
        );
    }
}

/// Rendered files: the dry-run comparison, no token generated.
fn rendered_row(ctx: &Context, r: &resolve::Resolved, rows: &mut Rows) {
    let token = r
        .model
        .mailroom
        .webhook_secret
        .as_ref()
        .map(|s| s.expose().to_string());
    let missing_token = token.is_none() && r.model.needs_webhook_secret();
    let cx = render::Context {
        model: &r.model,
        paths: &ctx.paths,
    };
    let compared = render::plan(&cx, token.as_deref().or(missing_token.then_some("")))
        .and_then(|plan| render::compare(&plan, &ctx.paths.rendered_dir))
        .map_err(crate::error::Error::from);
    match compared {
        Ok(changes) => {
            let stale: Vec<String> = changes
                .iter()
                .filter(|c| c.action.changes())
                .map(|c| format!("{} ({})", c.rel, c.action.label(true)))
                .collect();
            if stale.is_empty() && !missing_token {
                rows.push(
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
                rows.push(
                        "rendered",
                        ctx.paths.rendered_dir.display().to_string(),
                        state,
                        "attention",
                        Some("`toolctl reconfigure --dry-run --diff` shows the changes; `toolctl reconfigure` applies them".into()),
                    );
            }
        }
        Err(e) => rows.push(
            "rendered",
            ctx.paths.rendered_dir.display().to_string(),
            format!("cannot compare: {e}"),
            "error",
            e.hint_text().map(str::to_string),
        ),
    }
}

/// Whether what toolctl renders reaches GitLab: the one wiring step of the chosen
/// `[gitlab] install` (see `wiring::check`), and integrations no file carries.
fn wiring_rows(ctx: &Context, r: &resolve::Resolved, rows: &mut Rows) {
    for w in super::wiring::check(&r.model, &ctx.paths) {
        rows.push(
            "wiring",
            w.item,
            w.state,
            // A warning (an integration no file carries) does not change the exit status.
            if w.ok || w.warning { "ok" } else { "attention" },
            w.hint,
        );
    }
}

/// Which integrations are enabled.
fn integration_rows(r: &resolve::Resolved, rows: &mut Rows) {
    for (name, on) in [
        ("smtp", r.model.smtp.enabled),
        ("incoming_email", r.model.incoming.enabled),
        ("service_desk_email", r.model.service_desk.enabled),
        ("microsoft_graph_mailer", r.model.graph_mailer.enabled),
        ("mattermost", r.model.mattermost.enabled()),
        ("mailroom", r.model.mailroom.enable),
    ] {
        rows.push(
            "integration",
            name.into(),
            if on { "enabled" } else { "disabled" }.into(),
            "ok",
            None,
        );
    }
}

/// mail_room's liveness as one row: its first failure, or that it and its watchers live.
fn liveness_row(ctx: &Context, r: &resolve::Resolved, rows: &mut Rows) {
    use crate::probe::Status;
    if !crate::probe::mailroom::wanted(&r.model) {
        return;
    }
    let p = crate::probe::mailroom::liveness(&r.model, &ctx.paths.root, crate::report::unix_now());
    let failed = p.steps.iter().find(|s| s.status == Status::Fail);
    let (state, level, hint) = match failed {
        Some(s) => (s.detail.clone(), "attention", s.hint.clone()),
        None if p.steps.iter().all(|s| s.status == Status::Skipped) => (
            p.steps
                .first()
                .map(|s| s.detail.clone())
                .unwrap_or_default(),
            "ok",
            None,
        ),
        None => (
            format!(
                "alive: {}",
                p.steps.first().map(|s| s.detail.as_str()).unwrap_or("")
            ),
            "ok",
            None,
        ),
    };
    rows.push("liveness", "mail_room".into(), state, level, hint);
}
