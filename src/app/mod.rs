//! One function per command; this module dispatches the parsed command line to them.
//!
//! Commands turn library results into output and exit statuses. Settings and paths are
//! resolved once, here, before any command runs (except the generators, which need none).
//! The settings-file rules of DESIGN.md are enforced here too, once for every command: a
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
pub mod secret;
pub mod secrets;
pub mod servicedesk;
pub mod show_config;
pub mod status;
pub mod tail;

use crate::cli::{
    CheckArgs, Cli, Command, ImportCommand, IntegrationCommand, MailboxCommand, MattermostCommand,
    SecretCommand, SecretsCommand, SenderCommand, ServiceDeskCommand, SmtpCommand,
};
use crate::error::{Error, ExitStatus, Result};
use crate::output::{CheckFormat, OutputFormat};
use crate::output::{Printer, Style};
use crate::paths::Paths;
use crate::secrets::{Scope, Store};
use crate::settings::{Diag, Severity};
use crate::{settings, Context};

pub fn run(cli: Cli, style: Style) -> Result<ExitStatus> {
    let printer = Printer {
        style,
        color: cli.color,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let (scope, action) = match &cli.command {
        Command::Completions { shell } => return generate::completions(*shell),
        Command::Man { out_dir } => return generate::man(out_dir),
        Command::Smtp(c) => (Some(Scope::Smtp), smtp(c)),
        Command::IncomingEmail(c) => (Some(Scope::IncomingEmail), mailbox(c)),
        Command::ServiceDeskEmail(c) => (Some(Scope::ServiceDeskEmail), service_desk(c)),
        Command::MicrosoftGraphMailer(c) => (Some(Scope::MicrosoftGraphMailer), sender(c)),
        Command::Mattermost(MattermostCommand::Secret(a)) => (Some(Scope::Mattermost), Ok(a)),
        Command::Mailroom(IntegrationCommand::Secret(a)) => (Some(Scope::Mailroom), Ok(a)),
        Command::Redis(IntegrationCommand::Secret(a)) => (Some(Scope::Redis), Ok(a)),
        Command::CustomEmail(IntegrationCommand::Secret(a)) => (Some(Scope::CustomEmail), Ok(a)),
        _ => (None, Err(None)),
    };
    if let Err(Some((args, _))) = &action {
        check_timeout(args)?;
    }
    if let Command::Check(crate::cli::CheckAllArgs { check: args, .. })
    | Command::Mattermost(MattermostCommand::Check(args)) = &cli.command
    {
        check_timeout(args)?;
    }
    let mut paths = Paths::new(&cli.root, cli.config.as_deref());
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
    if needs_settings(&cli.command, action.is_ok()) && !settings.exists {
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
    if action.is_ok() || matches!(cli.command, Command::Secrets(_)) {
        // The store needs only `[secrets]`; other mistakes in the file must not keep an
        // administrator from reading or fixing a secret.
        if let Some(d) = settings.errors_under("secrets.").first() {
            return Err(diag_error(&settings.path, d));
        }
    }
    let ctx = Context {
        paths,
        settings,
        printer,
    };
    match (scope, action) {
        (Some(scope), Ok(action)) => {
            return match action {
                SecretCommand::Show { key } => secret::show::run(&ctx, scope, key.as_deref()),
                SecretCommand::Edit => secret::edit::run(&ctx, scope),
                SecretCommand::Write => secret::write::run(&ctx, scope),
                SecretCommand::Set { name } => secret::set::run(&ctx, scope, name),
            }
        }
        (Some(scope), Err(Some((args, options)))) => return check::one(&ctx, scope, args, options),
        _ => {}
    }
    match &cli.command {
        Command::Init => init::run(&ctx),
        Command::Status(report) => status::run(&ctx, report.output_format),
        Command::Secrets(cmd) => match cmd {
            SecretsCommand::Init => secrets::init::run(&ctx),
            SecretsCommand::Status(report) => secrets::status::run(&ctx, report.output_format),
            SecretsCommand::Rekey { new_key, report } => {
                secrets::rekey::run(&ctx, *new_key, report.output_format)
            }
        },
        Command::Reconfigure(args) => reconfigure::run(&ctx, args),
        Command::ShowConfig(args) => {
            show_config::run(&ctx, args.filter.as_deref(), args.report.output_format)
        }
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Check(args) => check::all(&ctx, &args.check, args.plaintext.allow_plaintext_auth),
        Command::Tail(args) => tail::run(&ctx, args),
        Command::Import(cmd) => import::run(&ctx, cmd),
        Command::ServiceDeskEmail(c) => servicedesk::run(&ctx, c),
        Command::Mattermost(c) => mattermost::run(&ctx, c),
        _ => unreachable!("every other command returned above"),
    }
}

/// The `--output-format` a command was given (human for commands without one; JUnit is
/// not JSON).
pub fn output_format(cli: &Cli) -> OutputFormat {
    let check = |a: &CheckArgs| match a.report.output_format {
        CheckFormat::Json => OutputFormat::Json,
        CheckFormat::Human | CheckFormat::Junit => OutputFormat::Human,
    };
    match &cli.command {
        Command::Status(r) => r.output_format,
        Command::Secrets(SecretsCommand::Status(r)) => r.output_format,
        Command::Secrets(SecretsCommand::Rekey { report, .. }) => report.output_format,
        Command::Reconfigure(a) => a.report.output_format,
        Command::ShowConfig(a) => a.report.output_format,
        Command::Import(ImportCommand::GitlabRb { report, .. })
        | Command::Import(ImportCommand::GitlabSecrets { report, .. }) => report.output_format,
        Command::Check(a) => check(&a.check),
        Command::Mattermost(MattermostCommand::Check(a)) => check(a),
        Command::Mattermost(MattermostCommand::Backup(a)) => a.report.output_format,
        Command::Mattermost(MattermostCommand::Restore(a)) => a.report.output_format,
        Command::Smtp(SmtpCommand::Check(a)) => check(&a.send.check),
        Command::MicrosoftGraphMailer(SenderCommand::Check(a)) => check(&a.check),
        Command::IncomingEmail(MailboxCommand::Check(a))
        | Command::ServiceDeskEmail(ServiceDeskCommand::Check(a)) => check(a),
        Command::ServiceDeskEmail(c) => servicedesk::output_format(c),
        _ => OutputFormat::Human,
    }
}

/// Whether the command works from the settings (and so refuses a root without a file).
/// The secrets commands need only the key; `init` creates the file; `tail` needs only the
/// log directory.
fn needs_settings(command: &Command, secret_action: bool) -> bool {
    match command {
        Command::Status(_)
        | Command::Reconfigure(_)
        | Command::ShowConfig(_)
        | Command::Config(_)
        | Command::Import(_)
        | Command::Check(_) => true,
        // The templates are files of a project's repository: no settings are read.
        Command::ServiceDeskEmail(ServiceDeskCommand::Templates(_)) => false,
        Command::Smtp(_)
        | Command::IncomingEmail(_)
        | Command::ServiceDeskEmail(_)
        | Command::MicrosoftGraphMailer(_)
        | Command::Mattermost(_) => !secret_action,
        _ => false,
    }
}

/// `--timeout SECS`: a positive, finite number of seconds.
fn check_timeout(args: &CheckArgs) -> Result<()> {
    check_seconds(args.timeout)
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

type Action<'a> =
    std::result::Result<&'a SecretCommand, Option<(&'a crate::cli::CheckArgs, check::Options)>>;

/// A mailbox's command: its secret action, or `Err(Some(check))`.
fn mailbox(c: &MailboxCommand) -> Action<'_> {
    match c {
        MailboxCommand::Secret(a) => Ok(a),
        MailboxCommand::Check(args) => Err(Some((args, check::Options::default()))),
    }
}

/// Service Desk's command: its mailbox's secret action or check, or `Err(None)` for its
/// own commands ([`servicedesk::run`]).
fn service_desk(c: &ServiceDeskCommand) -> Action<'_> {
    match c {
        ServiceDeskCommand::Secret(a) => Ok(a),
        ServiceDeskCommand::Check(args) => Err(Some((args, check::Options::default()))),
        _ => Err(None),
    }
}

/// A sender's command (SMTP relay, Graph mailer): its secret action, or a check that may
/// send a test message.
fn sender(c: &SenderCommand) -> Action<'_> {
    match c {
        SenderCommand::Secret(a) => Ok(a),
        SenderCommand::Check(args) => Err(Some((
            &args.check,
            check::Options {
                send_to: args.send_to.clone(),
                ..check::Options::default()
            },
        ))),
    }
}

/// The SMTP relay's command: as a sender's, and `--allow-plaintext-auth`.
fn smtp(c: &SmtpCommand) -> Action<'_> {
    match c {
        SmtpCommand::Secret(a) => Ok(a),
        SmtpCommand::Check(args) => Err(Some((
            &args.send.check,
            check::Options {
                send_to: args.send.send_to.clone(),
                allow_plaintext_auth: args.plaintext.allow_plaintext_auth,
            },
        ))),
    }
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
                    "{} {}
  {} {}",
                    printer.style.error("error:"),
                    describe(file, d),
                    printer.style.hint("hint:"),
                    d.hint
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
