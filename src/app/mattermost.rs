//! `toolctl mattermost backup | restore | check`: the command side of `crate::mattermost`.
//!
//! Resolves the settings, finishes or rolls back an interrupted restore first (every one of
//! these commands does, and says which), then runs the job. The archive path is the one
//! thing on stdout for `backup`; everything else is on stderr, or in the JSON document.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;

use crate::cli::OutputFormat;
use crate::cli::{MattermostBackupArgs, MattermostRestoreArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::mattermost::{backup, restore, Target};
use crate::report::Report;
use crate::Context;

/// The lock that serialises every Mattermost backup, restore and recovery: without it a
/// `check` or `backup` started during a restore would find the restore's journal and roll
/// the running restore back. Held by the caller until the command ends.
pub fn lock(t: &Target) -> Result<crate::fsutil::Lock> {
    crate::fsutil::ensure_dir(&t.state_dir, 0o755)?;
    // On the state directory itself: no lock file, so a refused command changes nothing.
    crate::fsutil::lock_dir(&t.state_dir, "Mattermost backup or restore")
}

/// The target, locked, after recovering an interrupted restore.
pub fn target(ctx: &Context) -> Result<(Target, crate::fsutil::Lock)> {
    let r = ctx.resolve()?;
    let relevant = r
        .errors()
        .filter(|d| d.key == "mattermost" || d.key.starts_with("mattermost."));
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        relevant,
        "nothing was done",
    )?;
    let t = Target::new(&ctx.paths, &r.model)?;
    for w in &t.warnings {
        ctx.printer.warn(w);
    }
    let lock = lock(&t)?;
    if let Some(msg) = restore::recover(&t)? {
        ctx.printer.warn(msg);
    }
    Ok((t, lock))
}

/// Finishes or rolls back an interrupted restore when there is one (for `check`); a
/// Mattermost without a config file yet has nothing to recover.
pub fn recover(ctx: &Context, r: &crate::settings::resolve::Resolved) -> Result<()> {
    if let Ok(t) = Target::new(&ctx.paths, &r.model) {
        let _lock = lock(&t)?;
        if let Some(msg) = restore::recover(&t)? {
            ctx.printer.warn(msg);
        }
    }
    Ok(())
}

/// Progress of the long steps: each step is a line on stderr with an `indicatif` spinner
/// under it while the step runs; only on a terminal, not with `-q`, never in JSON mode (off
/// a terminal there is no progress noise). The spinner is cleared when this is dropped.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(ctx: &Context, format: OutputFormat) -> Self {
        let show =
            format == OutputFormat::Human && !ctx.printer.quiet && std::io::stderr().is_terminal();
        Progress(show.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        }))
    }

    fn step(&self, msg: &str) {
        if let Some(bar) = &self.0 {
            bar.println(msg);
            bar.set_message(format!("{msg} …"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

pub fn backup_cmd(ctx: &Context, a: &MattermostBackupArgs) -> Result<Report> {
    let mut out = Report::new();
    let format = a.report.output_format;
    let (t, _lock) = target(ctx)?;
    let progress = Progress::new(ctx, format);
    let say = |m: &str| progress.step(m);
    if let Some(archive) = &a.verify {
        return verify_cmd(ctx, &t, archive, format, &say);
    }
    let dir = match &a.output {
        Some(d) => d.clone(),
        None => ctx.paths.root.join(crate::mattermost::BACKUPS_DIR),
    };
    if !t.local_files() {
        ctx.printer.info(format!(
            "FileSettings.DriverName is `{}`: the files are not local, so the archive holds no data/ (the manifest says so too)",
            t.driver
        ));
    }
    let done = backup::run(&t, &ctx.paths.root, &dir, &say)?;
    if format == OutputFormat::Json {
        out.set_payload(&json!({
            "archive": done.path.display().to_string(),
            "pg_dump": done.pg_dump,
            "manifest": done.manifest,
        }));
    } else {
        out.text(format!("{}\n", done.path.display()));
    }
    Ok(out)
}

/// The administrative connection of `[mattermost] admin_data_source`, if set.
fn admin_conn(ctx: &Context) -> Result<Option<crate::mattermost::pg::Conn>> {
    let r = ctx.resolve()?;
    let mut warnings = Vec::new();
    let mm = &r.model.mattermost;
    let admin = crate::mattermost::pg::admin_conn(
        mm.admin_data_source.as_deref(),
        mm.admin_sql_password.as_ref().map(|p| p.expose().as_str()),
        mm.pg_bin_dir.as_deref().map(Into::into),
        &mut warnings,
    )?;
    for w in &warnings {
        ctx.printer.warn(w);
    }
    Ok(admin)
}

fn verify_cmd(
    ctx: &Context,
    t: &Target,
    archive: &std::path::Path,
    format: OutputFormat,
    say: &dyn Fn(&str),
) -> Result<Report> {
    let mut out = Report::new();
    let admin = admin_conn(ctx)?;
    let mm_role = t.conn.user().to_string();
    let unisolated = format!(
        "the archive's SQL runs as the Mattermost role `{mm_role}`: an archive from someone else can act with that role's rights (change its password, read and change its databases); set `mattermost.admin_data_source` to run it as a throwaway role"
    );
    if admin.is_none() && format == OutputFormat::Human {
        ctx.printer.warn(&unisolated);
    }
    let v = backup::verify(t, admin.as_ref(), archive, say).map_err(|e| {
        if admin.is_none() {
            e.cause(&unisolated)
        } else {
            e
        }
    })?;
    // No SQL ran when the archive failed its checksums.
    let ran = !v.sql_role.is_empty();
    let ran_as = ran.then(|| {
        json!({
            "role": v.sql_role,
            "throwaway": v.isolated,
            "mattermost_role": !v.isolated,
        })
    });
    let warning = (ran && !v.isolated).then(|| unisolated.clone());
    match v.verdict {
        backup::Verdict::Good(doc) => {
            if format == OutputFormat::Json {
                out.set_payload(&json!({
                    "verified": true,
                    "archive": doc["archive"],
                    "tables": doc["tables"],
                    "sql_ran_as": ran_as,
                    "warning": warning,
                }));
            } else {
                ctx.printer.info(format!(
                    "`{}` is good: checksums match, and a trial restore has the row counts of the manifest{}",
                    archive.display(),
                    if v.isolated {
                        format!(" (its SQL ran as the throwaway role `{}`, now dropped)", v.sql_role)
                    } else {
                        format!(" (its SQL ran as the Mattermost role `{mm_role}`)")
                    }
                ));
            }
            Ok(out)
        }
        backup::Verdict::Bad(why) => {
            if format == OutputFormat::Json {
                out.set_payload(&json!({
                    "verified": false,
                    "archive": archive.display().to_string(),
                    "problem": why,
                    "sql_ran_as": ran_as,
                    "warning": warning,
                }));
            }
            eprintln!(
                "{} `{}` is damaged or differs from its manifest: {}",
                ctx.printer.style.error("error:"),
                archive.display(),
                crate::sys::term::escape_controls(why.as_bytes(), true)
            );
            Ok(out.with_status(ExitStatus::Failure))
        }
    }
}

fn confirm(ctx: &Context, a: &MattermostRestoreArgs, db: &str) -> Result<()> {
    if a.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::new("`mattermost restore` replaces the live database and files and asks first, but stdin is not a terminal")
            .hint("pass `--yes` to restore without asking"));
    }
    let _ = write!(
        std::io::stderr(),
        "Replace database `{db}`, config.json and data/ with `{}`? [y/N] ",
        a.archive.display()
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::new("cannot read the answer").cause(e))?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        return Ok(());
    }
    ctx.printer.info("nothing was changed");
    Err(Error::new("the restore was not confirmed").hint("answer `y`, or pass `--yes`"))
}

pub fn restore_cmd(ctx: &Context, a: &MattermostRestoreArgs) -> Result<Report> {
    let mut out = Report::new();
    let format = a.report.output_format;
    let (t, _lock) = target(ctx)?;
    restore::check_target(&t)?;
    confirm(ctx, a, t.dbname())?;
    let progress = Progress::new(ctx, format);
    let say = |m: &str| progress.step(m);
    let done = restore::run(&t, &a.archive, a.force_disconnect, &say)?;
    if format == OutputFormat::Json {
        out.set_payload(&json!({
            "restored": done.database,
            "previous_database": done.old_database,
            "archive": a.archive.display().to_string(),
            "created": done.manifest["created"],
        }));
    } else {
        // The result, unlike the progress lines, is printed off a terminal too (cron, logs).
        drop(progress);
        ctx.printer.info(format!(
            "Restored `{}` from `{}`.",
            done.database,
            a.archive.display()
        ));
        if let Some(old) = &done.old_database {
            ctx.printer.info(format!(
                "The previous database is kept as `{old}`; drop it when the restore is confirmed (`DROP DATABASE \"{old}\"`)."
            ));
        }
    }
    Ok(out)
}
