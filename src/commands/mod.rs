//! One function per command; this module dispatches the parsed command line to them.
//!
//! Commands turn library results into output and exit statuses. Settings and paths are
//! resolved once, here, before any command runs (except the generators, which need none).

pub mod generate;
pub mod secret;
pub mod secrets;

use crate::cli::{Cli, Command, IntegrationCommand, SecretCommand, SecretsCommand};
use crate::error::{ExitStatus, Result};
use crate::output::{Printer, Style};
use crate::paths::Paths;
use crate::secrets::{Scope, Store};
use crate::{settings, Context};

pub fn run(cli: Cli, style: Style) -> Result<ExitStatus> {
    let printer = Printer {
        style,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let scope = match &cli.command {
        Command::Completions { shell } => return generate::completions(*shell),
        Command::Man { out_dir } => return generate::man(out_dir),
        Command::Smtp(c) => Some((Scope::Smtp, c)),
        Command::IncomingEmail(c) => Some((Scope::IncomingEmail, c)),
        Command::ServiceDeskEmail(c) => Some((Scope::ServiceDeskEmail, c)),
        Command::MicrosoftGraphMailer(c) => Some((Scope::MicrosoftGraphMailer, c)),
        Command::Mattermost(c) => Some((Scope::Mattermost, c)),
        Command::Mailroom(c) => Some((Scope::Mailroom, c)),
        Command::Secrets(_) => None,
    };
    let mut paths = Paths::new(&cli.root, cli.config.as_deref());
    let settings = settings::load(&mut paths)?;
    let ctx = Context {
        paths,
        settings,
        printer,
    };
    match (scope, &cli.command) {
        (Some((scope, IntegrationCommand::Secret(action))), _) => match action {
            SecretCommand::Show => secret::show::run(&ctx, scope),
            SecretCommand::Edit => secret::edit::run(&ctx, scope),
            SecretCommand::Write => secret::write::run(&ctx, scope),
        },
        (None, Command::Secrets(cmd)) => match cmd {
            SecretsCommand::Init => secrets::init::run(&ctx),
            SecretsCommand::Status(report) => secrets::status::run(&ctx, report.output_format),
            SecretsCommand::Rekey { new_key, report } => {
                secrets::rekey::run(&ctx, *new_key, report.output_format)
            }
        },
        (None, _) => unreachable!("every other command returned above"),
    }
}

impl Context {
    pub fn store(&self) -> Store {
        Store::new(self.paths.clone(), &self.settings)
    }
}
