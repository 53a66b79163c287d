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

use serde::Serialize;
use zeroize::Zeroizing;

use crate::cli::{OutputFormat, ReconfigureArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;
use crate::render;
use crate::report::{self, Report};
use crate::secrets::{Scope, Store};
use crate::settings::resolve::Resolved;
use crate::Context;

/// The JSON document of `reconfigure` (README: "reconfigure --output-format json").
#[derive(Serialize)]
struct Document<'a> {
    dry_run: bool,
    changed: usize,
    files: Vec<FileDoc<'a>>,
    notes: &'a [String],
    recovered: Option<String>,
    removed_temporaries: &'a [String],
    diffs: Option<&'a [DiffDoc<'a>]>,
}

#[derive(Serialize)]
struct FileDoc<'a> {
    file: &'a str,
    kind: &'static str,
    action: &'static str,
    mode: Option<String>,
}

#[derive(Serialize)]
struct DiffDoc<'a> {
    file: &'a str,
    diff: String,
}

/// An action's name in the JSON document.
fn action_name(a: render::Action) -> &'static str {
    match a {
        render::Action::Create => "create",
        render::Action::Update => "update",
        render::Action::Mode => "mode",
        render::Action::Unchanged => "unchanged",
        render::Action::Remove => "remove",
        render::Action::Keep => "keep",
    }
}

fn file_doc(c: &render::Change) -> FileDoc<'_> {
    FileDoc {
        file: &c.rel,
        kind: if c.dir { "directory" } else { "file" },
        action: action_name(c.action),
        mode: c.mode.map(|m| format!("{m:04o}")),
    }
}

/// What the run did besides the files: notes for stderr and the document.
#[derive(Default)]
struct Done {
    notes: Vec<String>,
    recovered: Option<String>,
    swept: Vec<String>,
}

impl Done {
    fn swept(&mut self, path: &Path) {
        self.swept.push(path.display().to_string());
        self.notes.push(format!(
            "removed the stale temporary file `{}` (left by an interrupted toolctl)",
            path.display()
        ));
    }
}

pub fn run(ctx: &Context, args: &ReconfigureArgs) -> Result<Report> {
    let dry = args.dry_run;
    let mut done = Done::default();
    let store = ctx.store();
    let resolved = ctx.resolve()?;
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        resolved.diags.iter(),
        "nothing was written",
    )?;
    // A source install's base gitlab.yml is read and merged before anything is locked or
    // written: a bad base is an exit 2 that leaves every file as it was.
    render::gitlab_source::preflight(&render::Context {
        model: &resolved.model,
        paths: &ctx.paths,
    })?;

    // Locks: the rendered tree, then the store (its key may be created, and the webhook
    // token written into it), both held until the end of the run.
    let _render_lock = lock_and_recover(ctx, dry, &mut done)?;
    let writer = if dry {
        None
    } else {
        Some(store.lock_for_writing(&ctx.printer)?)
    };
    let token = webhook_token(
        &store,
        &resolved,
        writer.as_ref().map(|(_, key)| key),
        &mut done.notes,
    )?;

    let cx = render::Context {
        model: &resolved.model,
        paths: &ctx.paths,
    };
    let plan = render::plan(&cx, token.as_deref().map(|s| s.as_str()))?;
    if !dry {
        sweep_outside(ctx, &plan, &mut done)?;
    }
    let changes = render::compare(&plan, &ctx.paths.rendered_dir)?;
    done.notes.extend(plan.notes.iter().cloned());

    // The diffs are made before the apply (they compare with the files as they were) and
    // printed after it, with the rest of the report: a closed stdout ends the output, not
    // the run.
    let diffs = if args.diff {
        diffs(&resolved, token.as_ref(), &plan, &changes)
    } else {
        Vec::new()
    };
    // The run log is opened (and checked) before anything is written, so that a refused
    // log directory leaves every file as it was.
    let run_log = if dry { None } else { Some(open_run_log(ctx)?) };
    if !dry {
        render::apply(&plan, &changes, &ctx.paths.rendered_dir)?;
    }

    let mut report = report(ctx, args, done, &changes, &diffs);
    let changed_files: Vec<&str> = changes
        .iter()
        .filter(|c| c.action.changes() && !c.dir)
        .map(|c| c.rel.as_str())
        .collect();
    let step = super::wiring::next_step(&resolved.model, &ctx.paths, &changed_files);
    if let Some(text) = step.text() {
        report.info(text);
    }
    if args.apply {
        apply_step(&resolved, step, &mut report);
    }
    if let Some(log) = run_log {
        if let Err(e) = log_run(log, &changes) {
            return Ok(report.fail(e));
        }
    }
    Ok(report)
}

/// The document, the diffs or the table, the notes and the summary; with `--dry-run
/// --exit-code`, exit 1 when a file would change.
fn report(
    ctx: &Context,
    args: &ReconfigureArgs,
    done: Done,
    changes: &[render::Change],
    diffs: &[DiffDoc],
) -> Report {
    let dry = args.dry_run;
    let changed = changes.iter().filter(|c| c.action.changes()).count();
    let unchanged = changes.len() - changed;
    let mut report = Report::new();
    report.set_payload(&Document {
        dry_run: dry,
        changed,
        files: changes.iter().map(file_doc).collect(),
        notes: &done.notes,
        recovered: done.recovered.clone(),
        removed_temporaries: &done.swept,
        diffs: args.diff.then_some(diffs),
    });
    if args.diff {
        report.text(diffs.iter().map(|d| d.diff.as_str()).collect::<String>());
    } else if args.report.output_format == OutputFormat::Human {
        report.table(&table(changes, dry));
    }
    for n in done.notes {
        report.warn(n);
    }
    let verb = if dry { "would change" } else { "changed" };
    report.info(format!(
        "{changed} {verb}, {unchanged} unchanged in `{}`.",
        ctx.paths.rendered_dir.display()
    ));
    if dry && args.exit_code && changed > 0 {
        report.status = ExitStatus::Failure;
    }
    report
}

/// `--apply`: runs the step's commands and reports each exit status; a command that
/// fails, or is not on `PATH`, makes the run exit 1 (the files are written either way).
fn apply_step(resolved: &Resolved, step: super::wiring::Step, report: &mut Report) {
    if step.commands().is_empty() {
        report.info(match step {
            super::wiring::Step::Nothing => {
                "--apply: nothing GitLab reads changed; nothing run".to_string()
            }
            _ => "--apply: toolctl runs no command for this kind; take the step above yourself"
                .to_string(),
        });
        return;
    }
    let secrets = resolved.model.secret_values();
    for ran in super::wiring::apply(step) {
        match ran.status {
            None => {
                report.warn(format!(
                    "--apply: `{}` is not on PATH; nothing was run: take the step above yourself",
                    ran.command.split(' ').next().unwrap_or_default()
                ));
                report.status = ExitStatus::Failure;
            }
            Some(code) => {
                if !ran.tail.is_empty() {
                    report.text(format!(
                        "{}
",
                        render::mask(&ran.tail, &secrets)
                    ));
                }
                if code == 0 {
                    report.info(format!("--apply: ran `{}`: exit status 0", ran.command));
                } else {
                    report.warn(format!(
                        "--apply: `{}` failed with exit status {code}; its last lines are above",
                        ran.command
                    ));
                    report.status = ExitStatus::Failure;
                }
            }
        }
    }
}

/// Locks the rendered tree (a dry run only when a journal says an apply was interrupted,
/// to recover it), completes or undoes that apply, refuses a managed directory that is a
/// symlink, and (not in a dry run) sweeps stale temporary files.
fn lock_and_recover(ctx: &Context, dry: bool, done: &mut Done) -> Result<Option<fsutil::Lock>> {
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
    if render_lock.is_some() {
        if let Some(recovered) = crate::sys::journal::recover(&journal)? {
            done.recovered = Some(recovered.key().to_string());
            let mut note = recovered.describe(&journal);
            if dry {
                note.push_str(
                    " (the one write a --dry-run does: it puts the tree back in one piece)",
                );
            }
            done.notes.push(note);
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
            done.swept(&path);
        }
    }
    Ok(render_lock)
}

/// The mailroom webhook token: from the store, or generated once into it (`key` is the
/// locked store's; `None` in a dry run, which only says it would), so every node sharing
/// the store renders the same token.
fn webhook_token(
    store: &Store,
    resolved: &Resolved,
    key: Option<&crate::secrets::key::Key>,
    notes: &mut Vec<String>,
) -> Result<Option<Zeroizing<String>>> {
    let token = resolved
        .model
        .mailroom
        .webhook_secret
        .as_ref()
        .map(|s| s.to_zeroizing());
    if token.is_some() || !resolved.model.needs_webhook_secret() {
        return Ok(token);
    }
    let fresh_token = Zeroizing::new(generate_token()?);
    match key {
        None => notes.push(
            "would generate the mailroom webhook secret into the `mailroom` secret scope".into(),
        ),
        Some(key) => {
            let content = Zeroizing::new(format!("webhook_secret: '{}'\n", fresh_token.as_str()));
            store.write(Scope::Mailroom, key, content.as_bytes())?;
            notes.push(
                "generated the mailroom webhook secret into the `mailroom` secret scope".into(),
            );
        }
    }
    Ok(Some(fresh_token))
}

/// Files outside the tree (GitLab's encrypted settings) have their own directories: their
/// stale temporary files are swept there.
fn sweep_outside(ctx: &Context, plan: &render::Plan, done: &mut Done) -> Result<()> {
    for f in plan
        .files
        .iter()
        .filter(|f| Path::new(&f.rel).is_absolute())
    {
        if let Some(dir) = Path::new(&f.rel).parent() {
            for path in fsutil::sweep_temps_beneath(&ctx.paths.root, dir, f.owner)? {
                done.swept(&path);
            }
        }
    }
    Ok(())
}

/// The diff of every changed file. Every secret value of every scope, and the webhook
/// token (generated this run when the store has none), is masked wherever, and however
/// encoded, it lands.
fn diffs<'a>(
    resolved: &Resolved,
    token: Option<&Zeroizing<String>>,
    plan: &render::Plan,
    changes: &'a [render::Change],
) -> Vec<DiffDoc<'a>> {
    let mut secrets = resolved.model.secret_values();
    if let Some(t) = token {
        secrets.push(t.as_str());
    }
    changes
        .iter()
        .filter_map(|c| render::diff(plan, c, &secrets).map(|diff| DiffDoc { file: &c.rel, diff }))
        .collect()
}

/// The human table: one row per file.
fn table(changes: &[render::Change], dry: bool) -> report::Table {
    let mut t = report::table(&["file", "action", "mode"]);
    for c in changes {
        t.add_row(vec![
            c.rel.clone(),
            c.action.label(dry).to_string(),
            c.mode
                .map(|m| format!("{m:04o}"))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t
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
fn log_run(
    (file, path): (std::fs::File, std::path::PathBuf),
    changes: &[render::Change],
) -> Result<()> {
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
    let mut f = file;
    f.write_all(line.as_bytes())
        .map_err(|e| Error::io("write the log", &path, e))?;
    Ok(())
}

/// Opens `<log_dir>/reconfigure/reconfigure.log` for appending, through descriptors: the
/// log directory is opened from `--root` without following a link and must be changeable
/// by root (or the user toolctl runs as) only, as must `reconfigure/` (created root's,
/// 0750, beneath it); the log itself is opened with `O_NOFOLLOW` and must be toolctl's own
/// regular file with a single link. Anything else is refused (exit 2) before a byte is
/// written: whoever can change those directories could point the log at any file.
fn open_run_log(ctx: &Context) -> Result<(std::fs::File, std::path::PathBuf)> {
    let trusted = fsutil::Trusted::root();
    let located = fsutil::open_beneath(&ctx.paths.root, &ctx.paths.log_dir, &trusted)?;
    let mut dir = located.handle;
    let mut missing = located.missing;
    missing.push("reconfigure".into());
    let last = missing.len() - 1;
    for (i, name) in missing.iter().enumerate() {
        let here = dir.path.join(name);
        let mode = if i == last { 0o750 } else { 0o755 };
        let next = match dir
            .lstat(name)
            .map_err(|e| Error::io("inspect", &here, e))?
        {
            None => dir
                .create_dir_owned(name, mode, None)
                .map_err(|e| Error::io("create directory", &here, e))?,
            Some(st) if st.kind == fsutil::Kind::Symlink => {
                return Err(fsutil::symlinked_dir(&here))
            }
            Some(_) => dir.open_dir(name).map_err(|e| {
                if e.raw_os_error() == Some(crate::sys::errno::ELOOP) {
                    fsutil::symlinked_dir(&here)
                } else {
                    Error::io("open directory", &here, e)
                }
            })?,
        };
        let st = next
            .stat_self()
            .map_err(|e| Error::io("inspect", &here, e))?;
        trusted.check(&here, &st)?;
        dir = next;
    }
    let path = dir.path.join("reconfigure.log");
    let file = dir
        .open_append_own(std::ffi::OsStr::new("reconfigure.log"), 0o640)
        .map_err(|e| {
            let refused = e.raw_os_error() == Some(crate::sys::errno::ELOOP)
                || matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::InvalidInput
                );
            if refused {
                Error::new(format!(
                    "`{}` is not toolctl's own log file: {}",
                    path.display(),
                    if e.raw_os_error() == Some(crate::sys::errno::ELOOP) {
                        "it is a symbolic link".to_string()
                    } else {
                        e.to_string()
                    }
                ))
                .cause("toolctl appends its run log only to a regular file of its own with a single link: another name for the file could be any file on the system")
                .hint(format!(
                    "check what `{p}` is and remove it (`rm {p}`; toolctl creates a fresh one), then run this again; nothing was changed",
                    p = path.display()
                ))
            } else {
                Error::io("open the log", &path, e)
            }
        })?;
    Ok((file, path))
}
