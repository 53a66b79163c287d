//! `toolctl mattermost backup | restore | check`: the command side of `crate::mattermost`.
//!
//! Resolves the settings, finishes or rolls back an interrupted restore first (every one of
//! these commands does, and says which), then runs the job. The archive path is the one
//! thing on stdout for `backup`; everything else is on stderr, or in the JSON document.

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;
use serde_json::Value;

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

/// The target, locked, after recovering an interrupted restore; with the warnings about
/// it (its settings, the recovery), for the caller to show.
pub fn target(ctx: &Context) -> Result<(Target, crate::fsutil::Lock, Vec<String>)> {
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
    let mut warnings = t.warnings.clone();
    let lock = lock(&t)?;
    if let Some(msg) = restore::recover(&t)? {
        warnings.push(msg);
    }
    Ok((t, lock, warnings))
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

    /// A step's line, wrapped at words to the terminal, and the spinner's message cut to
    /// one line: a spinner that wrapped would erase the line above it when cleared.
    /// Whether progress lines reach a terminal.
    fn shown(&self) -> bool {
        self.0.is_some()
    }

    fn step(&self, msg: &str) {
        if let Some(bar) = &self.0 {
            let width = crate::sys::term::stderr_width().map_or(80, usize::from);
            bar.println(crate::sys::wrap::fit(msg, width));
            let room = width.saturating_sub(6).max(10);
            bar.set_message(crate::probe::mask::cut(msg, room));
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

/// The JSON document of `mattermost backup`.
#[derive(Serialize)]
struct BackupDocument<'a> {
    archive: String,
    pg_dump: &'a str,
    /// The archive's own manifest, as written into it.
    manifest: &'a Value,
}

/// The JSON document of `mattermost backup --verify`.
#[derive(Serialize)]
struct VerifyDocument<'a> {
    verified: bool,
    /// The manifest's `archive` when verified, else the path given.
    archive: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    tables: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<&'a str>,
    sql_ran_as: Option<RanAs<'a>>,
    warning: Option<&'a str>,
}

/// Who ran the archive's SQL during the trial restore.
#[derive(Serialize)]
struct RanAs<'a> {
    role: &'a str,
    throwaway: bool,
    mattermost_role: bool,
}

/// The JSON document of `mattermost restore`.
#[derive(Serialize)]
struct RestoreDocument<'a> {
    restored: &'a str,
    previous_database: Option<&'a str>,
    archive: String,
    /// The manifest's `created`.
    created: &'a Value,
    /// Owners of the archive that were neither root nor its Mattermost user, made the
    /// Mattermost user's.
    owners_mapped: &'a [String],
}

pub fn backup_cmd(ctx: &Context, a: &MattermostBackupArgs) -> Result<Report> {
    let format = a.report.output_format;
    Ok(Report::build(|out| {
        let (t, _lock, warnings) = target(ctx)?;
        for w in warnings {
            out.warn(w);
        }
        let progress = Progress::new(ctx, format);
        let say = |m: &str| progress.step(m);
        if let Some(archive) = &a.verify {
            return verify_cmd(ctx, &t, archive, format, &say, out);
        }
        let dir = match &a.output {
            Some(d) => d.clone(),
            None => ctx.paths.root.join(crate::mattermost::BACKUPS_DIR),
        };
        // Where the data directory came from: on a terminal the `archiving …` progress line
        // says it (an info line would print after the archive's path); elsewhere this line.
        if t.local_files() {
            if !progress.shown() {
                out.info(format!(
                    "data directory `{}`, from {}",
                    t.data_logical,
                    t.data_dir_source_text()
                ));
            }
        } else {
            out.info(format!(
                "FileSettings.DriverName is `{}`: the files are not local, so the archive holds no data/ (the manifest says so too)",
                t.driver
            ));
        }
        let done = backup::run(&t, &ctx.paths.root, &dir, &say);
        // The spinner is gone before anything else is printed.
        drop(progress);
        let done = done?;
        out.set_payload(&BackupDocument {
            archive: done.path.display().to_string(),
            pg_dump: &done.pg_dump,
            manifest: &done.manifest,
        });
        if let Some(skipped) = done.manifest["data"]["skipped"].as_array() {
            for s in skipped {
                out.info(format!(
                    "skipped the {} `{}`: the archive holds no FIFOs or sockets (listed in the manifest)",
                    s["kind"].as_str().unwrap_or("entry"),
                    s["name"].as_str().unwrap_or("")
                ));
            }
        }
        out.text(format!("{}\n", done.path.display()));
        Ok(())
    }))
}

/// The administrative connection of `[mattermost] admin_data_source`, if set.
fn admin_conn(ctx: &Context, out: &mut Report) -> Result<Option<crate::mattermost::pg::Conn>> {
    let r = ctx.resolve()?;
    let mut warnings = Vec::new();
    let mm = &r.model.mattermost;
    let admin = crate::mattermost::pg::admin_conn(
        mm.admin_data_source.as_deref(),
        mm.admin_sql_password.as_ref().map(|p| p.expose().as_str()),
        mm.pg_bin_dir.as_deref().map(Into::into),
        &mut warnings,
    )?;
    for w in warnings {
        out.warn(w);
    }
    Ok(admin)
}

fn verify_cmd(
    ctx: &Context,
    t: &Target,
    archive: &std::path::Path,
    format: OutputFormat,
    say: &dyn Fn(&str),
    out: &mut Report,
) -> Result<()> {
    let admin = admin_conn(ctx, out)?;
    let mm_role = t.conn.user().to_string();
    let unisolated = format!(
        "the archive's SQL runs as the Mattermost role `{mm_role}`: an archive from someone else can act with that role's rights (change its password, read and change its databases); set `mattermost.admin_data_source` to run it as a throwaway role"
    );
    if admin.is_none() && format == OutputFormat::Human {
        // Before the trial restore runs, as a person watching should read it.
        ctx.printer.warn(&unisolated);
    }
    let v = backup::verify(t, admin.as_ref(), archive, say).map_err(|e| {
        let e = Error::from(e);
        if admin.is_none() {
            e.cause(&unisolated)
        } else {
            e
        }
    })?;
    // No SQL ran when the archive failed its checksums.
    let ran = !v.sql_role.is_empty();
    let sql_ran_as = ran.then(|| RanAs {
        role: &v.sql_role,
        throwaway: v.isolated,
        mattermost_role: !v.isolated,
    });
    let warning = (ran && !v.isolated).then_some(unisolated.as_str());
    match &v.verdict {
        backup::Verdict::Good(doc) => {
            out.set_payload(&VerifyDocument {
                verified: true,
                archive: &doc["archive"],
                tables: Some(&doc["tables"]),
                problem: None,
                sql_ran_as,
                warning,
            });
            if format == OutputFormat::Human {
                out.info(format!(
                    "`{}` is good: checksums match, and a trial restore has the row counts of the manifest{}",
                    archive.display(),
                    if v.isolated {
                        format!(" (its SQL ran as the throwaway role `{}`, now dropped)", v.sql_role)
                    } else {
                        format!(" (its SQL ran as the Mattermost role `{mm_role}`)")
                    }
                ));
            }
        }
        backup::Verdict::Bad(why) => {
            let given = Value::String(archive.display().to_string());
            out.set_payload(&VerifyDocument {
                verified: false,
                archive: &given,
                tables: None,
                problem: Some(why),
                sql_ran_as,
                warning,
            });
            // The verdict, printed as the run ends (before the notes).
            eprintln!(
                "{} `{}` is damaged or differs from its manifest: {}",
                ctx.printer.style.error("error:"),
                archive.display(),
                crate::sys::term::escape_controls(why.as_bytes(), true)
            );
            out.status = ExitStatus::Failure;
        }
    }
    Ok(())
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
    let (t, _lock, warnings) = target(ctx)?;
    // Before the question: what was recovered bears on the answer.
    for w in &warnings {
        ctx.printer.warn(w);
    }
    restore::check_target(&t)?;
    confirm(ctx, a, t.dbname())?;
    let progress = Progress::new(ctx, format);
    let say = |m: &str| progress.step(m);
    let admin = admin_conn(ctx, &mut out)?;
    let done = restore::run(&t, admin.as_ref(), &a.archive, a.force_disconnect, &say)?;
    out.set_payload(&RestoreDocument {
        restored: &done.database,
        previous_database: done.old_database.as_deref(),
        archive: a.archive.display().to_string(),
        created: &done.manifest["created"],
        owners_mapped: &done.owners_mapped,
    });
    for line in &done.owners_mapped {
        out.info(format!("owner mapped: {line}"));
    }
    if format == OutputFormat::Human {
        // The result, unlike the progress lines, is printed off a terminal too (cron, logs).
        out.info(format!(
            "Restored `{}` from `{}`.",
            done.database,
            a.archive.display()
        ));
        if let Some(old) = &done.old_database {
            out.info(format!(
                "The previous database is kept as `{old}`; drop it when the restore is confirmed (`DROP DATABASE \"{old}\"`)."
            ));
        }
    }
    Ok(out)
}
