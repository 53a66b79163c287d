//! One function per command; this module dispatches the parsed command line to them.
//!
//! Commands turn library results into output and exit statuses. Settings and paths are
//! resolved once, here, before any command runs (except the generators, which need none).
//! The settings-file rules are enforced here too, once for every command: a
//! file named by `--config` / `TOOLCTL_CONFIG` must exist, and the commands that work from
//! the settings refuse a root without one (hint: `toolctl init`), so nothing ever runs on
//! silent defaults.

pub mod check;
pub mod config;
pub mod generate;
pub mod import;
pub mod import_rb;
pub mod init;
pub mod mattermost;
pub mod rb_map;
pub mod reconfigure;
pub mod roundtrip;
pub mod secret;
pub mod secrets;
pub mod servicedesk;
pub mod show_config;
pub mod status;
pub mod tail;
pub mod wiring;

use crate::cli::{
    CheckArgs, CheckFormat, Cli, Command, ConfigCommand, ImportCommand, IntegrationCommand,
    MailboxCommand, MattermostCommand, OutputFormat, SdTemplatesCommand, SecretCommand,
    SecretsCommand, SenderCommand, ServiceDeskCommand, SmtpCommand,
};
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::report::{Format, Printer, Report};
use crate::secrets::{Scope, Store};
use crate::settings::{Diag, Severity};
use crate::{settings, Context};

/// What a command needs before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// The settings file may be missing (`init`, `tail`, the templates).
    Nothing,
    /// A settings file: the command works from it and never assumes defaults.
    Settings,
    /// Only the store: `[secrets]` must be valid; other mistakes in the file must not keep
    /// an administrator from reading or fixing a secret.
    Store,
}

type Work<'a> = Box<dyn FnOnce(&Context) -> Result<Report> + 'a>;

/// One command, as the single match of [`job`] describes it.
struct Job<'a> {
    format: Format,
    /// A `--timeout` to check before anything else.
    timeout: Option<f64>,
    needs: Needs,
    /// `None` for the generators, which need no settings at all.
    work: std::result::Result<Work<'a>, Box<dyn FnOnce() -> Result<Report> + 'a>>,
}

impl<'a> Job<'a> {
    fn new(
        format: Format,
        needs: Needs,
        work: impl FnOnce(&Context) -> Result<Report> + 'a,
    ) -> Self {
        Job {
            format,
            timeout: None,
            needs,
            work: Ok(Box::new(work)),
        }
    }

    fn bare(work: impl FnOnce() -> Result<Report> + 'a) -> Self {
        Job {
            format: Format::Table,
            timeout: None,
            needs: Needs::Nothing,
            work: Err(Box::new(work)),
        }
    }

    fn timeout(mut self, seconds: f64) -> Self {
        self.timeout = Some(seconds);
        self
    }
}

fn format(o: OutputFormat) -> Format {
    match o {
        OutputFormat::Human => Format::Table,
        OutputFormat::Json => Format::Json,
    }
}

fn check_format(c: CheckFormat) -> Format {
    match c {
        CheckFormat::Human => Format::Table,
        CheckFormat::Json => Format::Json,
        CheckFormat::Junit => Format::Junit,
        CheckFormat::Prometheus => Format::Prometheus,
    }
}

/// A `<scope> secret …` command.
fn secret_job(scope: Scope, action: &SecretCommand) -> Job<'_> {
    Job::new(Format::Table, Needs::Store, move |ctx| match action {
        SecretCommand::Show { key } => secret::show::run(ctx, scope, key.as_deref()),
        SecretCommand::Edit => secret::edit::run(ctx, scope),
        SecretCommand::Write => secret::write::run(ctx, scope),
        SecretCommand::Set { name } => secret::set::run(ctx, scope, name),
    })
}

/// A `<scope> check`.
fn check_job(scope: Scope, args: &CheckArgs, options: check::Options) -> Job<'_> {
    Job::new(
        check_format(args.report.output_format),
        Needs::Settings,
        move |ctx| check::one(ctx, scope, args, options),
    )
    .timeout(args.timeout)
}

/// The one match over every command: its output format, what it needs, its function.
fn job(command: &Command) -> Job<'_> {
    use Needs::{Nothing, Settings, Store};
    let plain = check::Options::default;
    match command {
        Command::Completions { shell } => Job::bare(move || generate::completions(*shell)),
        Command::Man { out_dir } => Job::bare(move || generate::man(out_dir)),
        Command::Init => Job::new(Format::Table, Nothing, init::run),
        Command::Status(r) => Job::new(format(r.output_format), Settings, move |ctx| {
            status::run(ctx, r.output_format)
        }),
        Command::Secrets(SecretsCommand::Init) => {
            Job::new(Format::Table, Store, secrets::init::run)
        }
        Command::Secrets(SecretsCommand::Status(r)) => {
            Job::new(format(r.output_format), Store, move |ctx| {
                secrets::status::run(ctx, r.output_format)
            })
        }
        Command::Secrets(SecretsCommand::Rekey { new_key, report }) => {
            Job::new(format(report.output_format), Store, move |ctx| {
                secrets::rekey::run(ctx, *new_key)
            })
        }
        Command::Smtp(SmtpCommand::Secret(a)) => secret_job(Scope::Smtp, a),
        Command::Smtp(SmtpCommand::Check(a)) => check_job(
            Scope::Smtp,
            &a.send.check,
            check::Options {
                send_to: a.send.send_to.clone(),
                allow_plaintext_auth: a.plaintext.allow_plaintext_auth,
            },
        ),
        Command::IncomingEmail(MailboxCommand::Secret(a)) => secret_job(Scope::IncomingEmail, a),
        Command::IncomingEmail(MailboxCommand::Check(a)) => {
            check_job(Scope::IncomingEmail, a, plain())
        }
        Command::ServiceDeskEmail(ServiceDeskCommand::Secret(a)) => {
            secret_job(Scope::ServiceDeskEmail, a)
        }
        Command::ServiceDeskEmail(ServiceDeskCommand::Check(a)) => {
            check_job(Scope::ServiceDeskEmail, a, plain())
        }
        Command::ServiceDeskEmail(ServiceDeskCommand::Address(a)) => {
            Job::new(format(a.report.output_format), Settings, move |ctx| {
                servicedesk::address(ctx, a)
            })
        }
        // The templates are files of a project's repository: no settings are read.
        Command::ServiceDeskEmail(ServiceDeskCommand::Templates(SdTemplatesCommand::Check {
            dir,
            report,
        })) => Job::new(format(report.output_format), Nothing, move |_| {
            servicedesk::check_templates(dir)
        }),
        Command::ServiceDeskEmail(ServiceDeskCommand::Templates(SdTemplatesCommand::Preview(
            a,
        ))) => Job::new(Format::Table, Nothing, move |_| servicedesk::preview(a)),
        Command::ServiceDeskEmail(ServiceDeskCommand::VerifyCustomEmail(a)) => {
            Job::new(format(a.report.output_format), Settings, move |ctx| {
                servicedesk::verify_custom_email(ctx, a)
            })
        }
        Command::MicrosoftGraphMailer(SenderCommand::Secret(a)) => {
            secret_job(Scope::MicrosoftGraphMailer, a)
        }
        Command::MicrosoftGraphMailer(SenderCommand::Check(a)) => check_job(
            Scope::MicrosoftGraphMailer,
            &a.check,
            check::Options {
                send_to: a.send_to.clone(),
                ..plain()
            },
        ),
        Command::Mattermost(MattermostCommand::Secret(a)) => secret_job(Scope::Mattermost, a),
        Command::Mattermost(MattermostCommand::Backup(a)) => {
            Job::new(format(a.report.output_format), Settings, move |ctx| {
                mattermost::backup_cmd(ctx, a)
            })
        }
        Command::Mattermost(MattermostCommand::Restore(a)) => {
            Job::new(format(a.report.output_format), Settings, move |ctx| {
                mattermost::restore_cmd(ctx, a)
            })
        }
        Command::Mattermost(MattermostCommand::Check(a)) => {
            Job::new(check_format(a.report.output_format), Settings, move |ctx| {
                check::mattermost(ctx, a)
            })
            .timeout(a.timeout)
        }
        Command::Mailroom(IntegrationCommand::Secret(a)) => secret_job(Scope::Mailroom, a),
        Command::Redis(IntegrationCommand::Secret(a)) => secret_job(Scope::Redis, a),
        Command::CustomEmail(IntegrationCommand::Secret(a)) => secret_job(Scope::CustomEmail, a),
        Command::Check(a) => Job::new(
            check_format(a.check.report.output_format),
            Settings,
            move |ctx| check::all(ctx, a),
        )
        .timeout(a.check.timeout),
        Command::Tail(a) => Job::new(Format::Table, Nothing, move |ctx| tail::run(ctx, a)),
        Command::Reconfigure(a) => Job::new(format(a.report.output_format), Settings, move |ctx| {
            reconfigure::run(ctx, a)
        }),
        Command::ShowConfig(a) => Job::new(format(a.report.output_format), Settings, move |ctx| {
            show_config::run(ctx, a.filter.as_deref())
        }),
        Command::Config(ConfigCommand::Get { key }) => {
            Job::new(Format::Table, Settings, move |ctx| config::get(ctx, key))
        }
        Command::Config(ConfigCommand::Set { key, value }) => {
            Job::new(Format::Table, Settings, move |ctx| {
                config::change(ctx, key, Some(value))
            })
        }
        Command::Config(ConfigCommand::Unset { key }) => {
            Job::new(Format::Table, Settings, move |ctx| {
                config::change(ctx, key, None)
            })
        }
        Command::Import(ImportCommand::GitlabSecrets {
            secrets_file,
            dir,
            report,
        }) => Job::new(format(report.output_format), Settings, move |ctx| {
            import::secrets(ctx, secrets_file, dir)
        }),
        Command::Import(ImportCommand::GitlabRb {
            file,
            dry_run,
            report,
        }) => Job::new(format(report.output_format), Settings, move |ctx| {
            import_rb::run(ctx, file, *dry_run)
        }),
    }
}

/// Runs the command: returns the format its report is to be rendered in (`-q` turns the
/// table into its short form) and what it did.
pub fn run(cli: &Cli, printer: Printer) -> (Format, Result<Report>) {
    let job = job(&cli.command);
    let format = match job.format {
        Format::Table if printer.quiet => Format::Quiet,
        f => f,
    };
    // `check --textfile`: the directory is opened first (a bad one is refused before any
    // probe runs); then the file is written whatever the run's outcome.
    if let Command::Check(crate::cli::CheckAllArgs {
        textfile: Some(dir),
        ..
    }) = &cli.command
    {
        return match check::open_textfile(&cli.root, dir) {
            Ok(t) => (format, Ok(t.write(execute(cli, job, printer)))),
            Err(e) => (format, Err(e)),
        };
    }
    (format, execute(cli, job, printer))
}

/// `--root` made absolute: canonical when it exists (`--root` and what is above it are
/// trusted as given), else joined to the working directory.
fn absolute(path: &std::path::Path) -> Result<std::path::PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(_) => std::path::absolute(path).map_err(|e| Error::io("resolve", path, e)),
    }
}

/// Checks what the command needs (its `--timeout`, the settings file, `[secrets]`), builds
/// the [`Context`] and runs the command.
fn execute(cli: &Cli, job: Job<'_>, printer: Printer) -> Result<Report> {
    let work = match job.work {
        Ok(work) => work,
        Err(bare) => return bare(),
    };
    if let Some(t) = job.timeout {
        check_seconds(t)?;
    }
    // Once, at start: a relative `--root` (or `--config`) names the same tree as its
    // absolute form, wherever a path is later joined to another.
    let root = absolute(&cli.root)?;
    // The settings file is not resolved: whether it is a link is checked when it is read.
    let config = match cli.config.as_deref() {
        Some(c) => Some(std::path::absolute(c).map_err(|e| Error::io("resolve", c, e))?),
        None => None,
    };
    let mut paths = Paths::new(&root, config.as_deref());
    if let Some(named) = &cli.config {
        // A typo in --config must not become "every integration disabled".
        if !matches!(cli.command, Command::Init)
            && !named
                .try_exists()
                .map_err(|e| Error::io("read", named, e))?
        {
            return Err(Error::new(format!(
                "the settings file `{}` (from --config or TOOLCTL_CONFIG) does not exist",
                named.display()
            ))
            .hint(format!(
                "check the path; `toolctl --config {} init` creates a commented default there",
                named.display()
            )));
        }
    }
    let settings = settings::load(&mut paths)?;
    if job.needs == Needs::Settings && !settings.exists {
        return Err(Error::new(format!(
            "there is no settings file `{}`",
            paths.config.display()
        ))
        .cause("this command works from the settings and never assumes defaults")
        .hint("`toolctl init` creates a commented default toolctl.toml (and the key)"));
    }
    if printer.verbose > 0 {
        let exists = |p: &std::path::Path| if p.exists() { "" } else { " (missing)" };
        for (what, p) in [
            ("settings", &paths.config),
            ("key", &paths.key_file),
            ("secrets", &paths.secrets_dir),
            ("rendered", &paths.rendered_dir),
            ("logs", &paths.log_dir),
        ] {
            eprintln!("{what:>9}: {}{}", p.display(), exists(p));
        }
    }
    if job.needs == Needs::Store {
        if let Some(d) = settings.errors_under("secrets.").first() {
            return Err(diag_error(&settings.path, d));
        }
    }
    let ctx = Context {
        paths,
        settings,
        printer,
    };
    work(&ctx)
}

/// A `--timeout` value: positive, finite, at most a day.
pub(crate) fn check_seconds(t: f64) -> Result<()> {
    if t.is_finite() && (0.001..=86_400.0).contains(&t) {
        return Ok(());
    }
    Err(Error::new(format!(
        "`--timeout {t}` is not a usable number of seconds"
    ))
    .hint("give the seconds allowed for each network step, more than 0 (e.g. `--timeout 10` or `--timeout 2.5`)"))
}

/// One finding as an error of its own.
pub fn diag_error(file: &std::path::Path, d: &Diag) -> Error {
    Error::new(describe(file, d)).hint(d.hint.clone())
}

/// `file:line: `key`: message`, the way compilers point at a line.
pub fn describe(file: &std::path::Path, d: &Diag) -> String {
    let at = match d.line {
        Some(l) => format!("{}:{l}", file.display()),
        None => file.display().to_string(),
    };
    format!("{at}: `{}`: {}", d.key, d.message)
}

/// Prints every warning with its hint; returns an error when there is any error. One
/// error becomes the error itself; several are listed (the first
/// [`settings::MAX_LISTED_ERRORS`], then `… and N more errors`), then summed up.
pub fn report_diags<'a>(
    printer: &Printer,
    file: &std::path::Path,
    diags: impl Iterator<Item = &'a Diag>,
    what_was_not_done: &str,
) -> Result<()> {
    let (errors, warnings): (Vec<&Diag>, Vec<&Diag>) =
        diags.partition(|d| d.severity == Severity::Error);
    for d in warnings {
        printer.warn(format!(
            "{}
  {} {}",
            describe(file, d),
            printer.style.hint("hint:"),
            d.hint
        ));
    }
    match &errors[..] {
        [] => Ok(()),
        [one] => Err(
            Error::new(format!("{}; {what_was_not_done}", describe(file, one)))
                .hint(one.hint.clone()),
        ),
        many => {
            // The first ones, then a count: a file of thousands of mistakes (a wrong file
            // passed as `--config`) must not flood the terminal.
            let listed = settings::MAX_LISTED_ERRORS;
            for d in many.iter().take(listed) {
                eprintln!(
                    "{}",
                    crate::report::table::fit_stderr(&format!(
                        "{} {}\n  {} {}",
                        printer.style.error("error:"),
                        describe(file, d),
                        printer.style.hint("hint:"),
                        d.hint
                    ))
                );
            }
            if many.len() > listed {
                eprintln!("… and {} more errors", many.len() - listed);
            }
            Err(Error::new(format!(
                "{} has {} errors; {what_was_not_done}",
                file.display(),
                many.len()
            ))
            .hint("fix the keys named above, then run the command again"))
        }
    }
}

impl Context {
    pub fn store(&self) -> Store {
        // Every command that opens the store first removes what a killed `secret edit` left.
        crate::secrets::edit::sweep_stale(&self.printer);
        let extra = (self.settings.recipients.iter())
            .map(|r| crate::secrets::store::Recipient {
                value: r.value.clone(),
                line: r.line,
            })
            .collect();
        Store::new(self.paths.clone(), extra)
    }

    /// The shared resolve step (settings + defaults + secrets), for every command that
    /// works from the effective settings.
    pub fn resolve(&self) -> Result<settings::resolve::Resolved> {
        settings::resolve::resolve(&self.settings, &self.paths, &self.store())
    }
}
