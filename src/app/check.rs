//! `toolctl <integration> check` and `toolctl check`: live probes from the resolved
//! settings, so they test exactly what the services will be given.
//!
//! Settings errors in the probed integration's table stop a single check (exit 2: it
//! cannot run); its warnings become the probe's first rows. `check` runs every enabled
//! probe concurrently on one thread (the work is waiting on the network), so its wall time
//! is the slowest probe's; a probe that cannot run is an error row of its own and the
//! others still run ([`crate::report::checks`] decides the exit code; `main` renders the
//! report).

use std::time::Duration;

use crate::cli::CheckFormat;
use crate::cli::{CheckAllArgs, CheckArgs};
use crate::error::{Error, Result};
use crate::model::MailboxKind;
pub use crate::probe::plan::Options;
use crate::probe::plan::{self, Kind, ProbeFuture};
use crate::probe::Probe;
use crate::report::{checks, Report};
use crate::secrets::Scope;
use crate::settings::resolve::Resolved;
use crate::Context;

/// The probe of a scope that has one.
fn kind_of(scope: Scope) -> Kind {
    match scope {
        Scope::Smtp => Kind::Smtp,
        Scope::IncomingEmail => Kind::Mailbox(MailboxKind::Incoming),
        Scope::ServiceDeskEmail => Kind::Mailbox(MailboxKind::ServiceDesk),
        Scope::MicrosoftGraphMailer => Kind::GraphMailer,
        Scope::Redis => Kind::Redis,
        Scope::Mattermost => Kind::Mattermost,
        Scope::Mailroom | Scope::CustomEmail => unreachable!("no probe for {scope}"),
    }
}

pub fn one(ctx: &Context, scope: Scope, args: &CheckArgs, options: Options) -> Result<Report> {
    let r = ctx.resolve()?;
    let table = scope.table();
    gate(ctx, &r, &[table])?;
    if !enabled(&r, scope) {
        return Err(Error::new(format!(
            "`{table}.enabled` is false; there is nothing to check"
        ))
        .hint(format!(
            "enable it with `toolctl config set {table}.enabled true`, then run the check again"
        )));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    live_mode(ctx, args, false);
    let fut = probe_for(&r, kind_of(scope), timeout, options);
    finish(vec![fut])
}

pub fn all(ctx: &Context, a: &CheckAllArgs) -> Result<Report> {
    let (args, allow_plaintext_auth) = (&a.check, a.plaintext.allow_plaintext_auth);
    let r = ctx.resolve()?;
    let timeout = Duration::from_secs_f64(args.timeout);
    // `--round-trip`, `--postback`: refused (exit 2) before anything runs.
    let trips = super::roundtrip::probes(ctx, &r, a, timeout)?;
    // Mailboxes are polled only where mail_room runs; elsewhere they hold no credentials.
    let scopes: Vec<Scope> = [
        Scope::Smtp,
        Scope::IncomingEmail,
        Scope::ServiceDeskEmail,
        Scope::MicrosoftGraphMailer,
    ]
    .into_iter()
    .filter(|s| enabled(&r, *s))
    .filter(|s| {
        !matches!(s, Scope::IncomingEmail | Scope::ServiceDeskEmail) || r.model.mailroom.enable
    })
    .collect();
    let redis = Kind::Redis.enabled(&r.model);
    let mattermost = Kind::Mattermost.enabled(&r.model);
    let mailroom = crate::probe::mailroom::wanted(&r.model);
    if scopes.is_empty() && !redis && !mattermost && trips.is_empty() && !mailroom {
        return Err(Error::new("no integration with a probe is enabled; there is nothing to check").hint(
            "enable one in toolctl.toml (`smtp.enabled`, `incoming_email.enabled`, …); mailboxes are checked where `mailroom.enable` is true",
        ));
    }
    live_mode(ctx, args, true);
    let mut futures = Vec::new();
    // One broken integration is error rows of its own (one per finding); the others
    // still run.
    let errors_of = |table: &str| -> Vec<(String, String)> {
        let mut errors: Vec<(String, String)> = r
            .errors()
            .filter(|d| d.key == table || d.key.starts_with(&format!("{table}.")))
            .map(|d| (d.message.clone(), d.hint.clone()))
            .collect();
        // A secret that could not be read (the folder's problem, reported once): this
        // table cannot be probed either.
        if errors.is_empty() {
            if let Some(d) = r.root_cause(table) {
                errors.push((d.message.clone(), d.hint.clone()));
            }
        }
        errors
    };
    let broken = |name: &str, table: &str, errors: &[(String, String)]| -> ProbeFuture {
        let mut p = broken(name, format!("[{table}]"), errors);
        p.timeout = timeout;
        // Its rows are shown live like the others'.
        for s in &p.steps {
            p.live.row(s);
        }
        Box::pin(async move { p })
    };
    for s in scopes {
        let table = s.table();
        let errors = errors_of(table);
        let errors = if errors.is_empty() {
            let options = Options {
                send_to: None,
                allow_plaintext_auth,
            };
            futures.push(probe_for(&r, kind_of(s), timeout, options));
            continue;
        } else {
            errors
        };
        futures.push(broken(s.cli_name(), table, &errors));
    }
    for (on, name, kind) in [
        (redis, "redis", Kind::Redis),
        (mattermost, "mattermost", Kind::Mattermost),
    ] {
        if on {
            let errors = errors_of(name);
            futures.push(if errors.is_empty() {
                probe_for(&r, kind, timeout, Options::default())
            } else {
                broken(name, name, &errors)
            });
        }
    }
    futures.extend(trips);
    if mailroom {
        // Reads the log and /proc, no network: it runs beside the probes.
        let (model, root) = (r.model.clone(), ctx.paths.root.clone());
        futures.push(Box::pin(async move {
            crate::probe::mailroom::liveness(&model, &root, crate::report::unix_now())
        }));
    }
    finish(futures)
}

/// Rows on stderr as steps end (a terminal, human output, not `-q`), and the `-v`
/// transcript; stdout keeps the final table or the one JSON document.
fn live_mode(ctx: &Context, args: &CheckArgs, concurrent: bool) {
    use std::io::IsTerminal;
    crate::probe::live::init(crate::probe::live::Mode {
        progress: std::io::stderr().is_terminal()
            && args.report.output_format == CheckFormat::Human
            && !ctx.printer.quiet,
        transcript: ctx.printer.verbose > 0,
        concurrent,
    });
}

fn enabled(r: &Resolved, scope: Scope) -> bool {
    kind_of(scope).enabled(&r.model)
}

/// Settings errors in these tables: the check cannot run.
fn gate(ctx: &Context, r: &Resolved, tables: &[&str]) -> Result<()> {
    let mut relevant: Vec<&crate::settings::Diag> = r
        .errors()
        .filter(|d| {
            tables
                .iter()
                .any(|t| d.key == *t || d.key.starts_with(&format!("{t}.")))
        })
        .collect();
    // A secret that could not be read (the folder's problem, reported once on the first
    // table it stopped).
    if relevant.is_empty() {
        relevant.extend(tables.iter().find_map(|t| r.root_cause(t)));
    }
    let relevant = relevant.into_iter();
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        relevant,
        "the check did not run",
    )
}

fn run(futures: Vec<ProbeFuture>) -> Result<Vec<Probe>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("cannot start the async runtime").cause(e))?;
    Ok(rt.block_on(futures::future::join_all(futures)))
}

/// Runs the probes, ends their live rows, and reports them.
fn finish(futures: Vec<ProbeFuture>) -> Result<Report> {
    let probes = run(futures)?;
    for p in &probes {
        p.live.done();
    }
    // The probes' redrawn lines give way to the verdicts.
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        crate::probe::live::clear();
    }
    let checks: Vec<checks::Check> = probes.iter().map(to_check).collect();
    let mut report = Report::new().with_status(checks::exit_status(&checks));
    // On one screen the live rows were the table: only the verdicts follow them.
    if crate::probe::live::progress() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        report.checks_shown_live(checks);
    } else {
        report.checks(checks);
    }
    report.measures = probes.into_iter().flat_map(|p| p.measures).collect();
    Ok(report)
}

/// The textfile node_exporter reads in `--textfile DIR`.
const TEXTFILE: &str = "toolctl.prom";

/// `check --textfile DIR`, opened before the run: a directory that cannot be written is
/// refused before any probe runs (exit 2, nothing written, nothing on stdout).
pub struct Textfile {
    handle: crate::sys::fs::DirHandle,
    target: std::path::PathBuf,
}

/// Opens `--textfile DIR`. The file holds no secret, so the directory may belong to
/// node_exporter's user: it is opened without following a link at any component below
/// `root` (or `/`), and every write happens through that one descriptor.
pub fn open_textfile(root: &std::path::Path, dir: &std::path::Path) -> Result<Textfile> {
    let root = super::absolute(root)?;
    let abs = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
    let anchor = if abs.starts_with(&root) {
        root.as_path()
    } else {
        std::path::Path::new("/")
    };
    let handle = crate::sys::fs::open_dir_nofollow(anchor, &abs).map_err(|e| {
        if e.hint_text().is_some() {
            return e;
        }
        Error::new(format!(
            "cannot open the --textfile directory `{}`",
            abs.display()
        ))
        .cause(e)
        .hint(
            "give --textfile the directory node_exporter's textfile collector reads \
             (its --collector.textfile.directory, e.g. /var/lib/prometheus/node-exporter); \
             it must exist",
        )
    })?;
    Ok(Textfile {
        handle,
        target: abs.join(TEXTFILE),
    })
}

impl Textfile {
    /// Writes the outcome's gauges to `DIR/toolctl.prom`, whether the run started or not
    /// (then every success the previous file had is 0, with a fresh timestamp). The new
    /// file is created beside the old one (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644), fsynced
    /// and renamed over it (`renameat` in the one descriptor), so node_exporter reads the
    /// old file or the new, and a link planted under either name is replaced, never written
    /// through. A failure to write is an error of the run (exit 2), after its report.
    pub fn write(&self, outcome: Result<Report>) -> Report {
        let mut report = match outcome {
            Ok(r) => r,
            Err(e) => Report::new().fail(e),
        };
        if let Err(e) = self.replace(&report) {
            match report.error {
                // The run's own error stays the error; this one is said too.
                Some(_) => report.warn(format!("{e}")),
                None => report = report.fail(e),
            }
        }
        report
    }

    fn replace(&self, report: &Report) -> Result<()> {
        use std::io::Write;
        let name = std::ffi::OsStr::new(TEXTFILE);
        let handle = &self.handle;
        let previous = handle
            .read_capped(name, 1 << 20)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let carried = crate::report::prometheus::carried_successes(&previous);
        let text = crate::report::prometheus::render(report, crate::report::unix_now(), &carried);
        let tmp = crate::sys::fs::random_name(&crate::sys::fs::temp_prefix(name))
            .map(|mut n| {
                n.push(crate::sys::fs::TEMP_SUFFIX);
                n
            })
            .map_err(|e| Error::io("create", &self.target, e))?;
        let written = (|| {
            let mut f = handle.create_new(&tmp, 0o644)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            handle.rename(&tmp, name)?;
            handle.sync()
        })();
        if let Err(e) = written {
            let _ = handle.unlink(&tmp);
            return Err(Error::io("write", &self.target, e).hint(
                "check that the directory is writable by root and has room; the previous file, if any, was left as it was",
            ));
        }
        Ok(())
    }
}

/// A probe as the report shows it.
fn to_check(p: &Probe) -> checks::Check {
    checks::Check {
        name: p.name.clone(),
        target: p.target.clone(),
        steps: p.steps.clone(),
        hops: p.hops.clone(),
    }
}

/// A probe that could not run: one `settings` error row per reason, with its fix.
fn broken(name: &str, target: String, reasons: &[(String, String)]) -> Probe {
    let mut p = Probe::new(name, target, Duration::ZERO);
    for (detail, hint) in reasons {
        p.steps.push(crate::probe::Step {
            name: "settings".to_string(),
            status: crate::probe::Status::Error,
            elapsed: Duration::ZERO,
            detail: detail.clone(),
            hint: Some(hint.clone()),
        });
    }
    p
}

/// The probe of `kind`, with its table's settings warnings as its first rows.
fn probe_for(r: &Resolved, kind: Kind, timeout: Duration, options: Options) -> ProbeFuture {
    let table = kind.table();
    let warnings: Vec<(String, String)> = r
        .warnings()
        .filter(|d| d.key.starts_with(&format!("{table}.")))
        .map(|d| (d.message.clone(), d.hint.clone()))
        .collect();
    plan::probe(&r.model, kind, timeout, options, &warnings, connect_pg)
}

/// The Mattermost probe's database: the same `psql` plumbing as backup and restore.
impl crate::probe::mattermost::Database for crate::mattermost::pg::Conn {
    fn query(&self, sql: &str) -> std::result::Result<Vec<Vec<String>>, crate::probe::Failure> {
        crate::mattermost::pg::Conn::query(self, None, sql).map_err(|e| {
            let e = crate::error::Error::from(e);
            let hint = e
                .hint_text()
                .unwrap_or("check `mattermost.sql_data_source` and the `sql_password` secret")
                .to_string();
            crate::probe::fail(e.to_string(), hint)
        })
    }

    fn describe(&self) -> String {
        format!("{} at {}", self.dbname().unwrap_or(""), self.endpoint())
    }
}

/// Opens the data source of `[mattermost]` with the `sql_password` secret.
fn connect_pg(
    m: &crate::model::Model,
    warnings: &mut Vec<String>,
) -> std::result::Result<std::sync::Arc<dyn crate::probe::mattermost::Database>, String> {
    let mm = &m.mattermost;
    crate::mattermost::pg::Conn::new(
        mm.sql_data_source.as_deref().unwrap_or_default(),
        mm.sql_password.as_ref().map(|p| p.expose().as_str()),
        mm.pg_bin_dir.as_deref().map(Into::into),
        warnings,
    )
    .map(|c| std::sync::Arc::new(c) as std::sync::Arc<dyn crate::probe::mattermost::Database>)
    .map_err(|e| crate::error::Error::from(e).to_string())
}

/// `toolctl mattermost check` (after finishing or rolling back an interrupted restore).
pub fn mattermost(ctx: &Context, args: &CheckArgs) -> Result<Report> {
    let r = ctx.resolve()?;
    gate(ctx, &r, &["mattermost"])?;
    if !r.model.mattermost.enabled() {
        return Err(Error::new("`mattermost.external_url` is not set; there is nothing to check")
            .hint("set it with `toolctl config set mattermost.external_url https://mattermost.example.com`"));
    }
    super::mattermost::recover(ctx, &r)?;
    live_mode(ctx, args, false);
    let fut = probe_for(
        &r,
        Kind::Mattermost,
        Duration::from_secs_f64(args.timeout),
        Options::default(),
    );
    finish(vec![fut])
}
