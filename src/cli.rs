//! The command line, as clap types only: no I/O and no logic here.
//!
//! `commands::run` dispatches on these types; `toolctl man` and `toolctl completions` generate the
//! committed man pages and completion scripts from them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::{ColorChoice, OutputFormat};

const AFTER_HELP: &str = "\
Every path is under --root (default /): etc/toolctl/toolctl.toml, etc/toolctl/secrets.key,
var/opt/toolctl/secrets/, var/opt/toolctl/rendered/, var/log/toolctl/.

Exit codes: 0 done, 1 a check answered no, 2 error, 130 interrupted.";

/// Manage a self-hosted GitLab-style server's mail and chat integrations: encrypted
/// secrets, settings, live probes and logs.
#[derive(Debug, Parser)]
#[command(name = "toolctl", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Treat DIR as the file system root for every path toolctl reads or writes.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "TOOLCTL_ROOT",
        value_name = "DIR",
        default_value = "/"
    )]
    pub root: PathBuf,

    /// Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "TOOLCTL_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Print only data, warnings and errors.
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    /// Also print where toolctl looks for its files (settings, key, secrets, output, logs).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to colour messages on stderr (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, help_heading = "Global options", value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The secrets store as a whole: create the key, report, re-encrypt.
    #[command(subcommand)]
    Secrets(SecretsCommand),

    /// The outgoing SMTP relay: its credentials (`user_name`, `password`) and a live check.
    #[command(subcommand)]
    Smtp(SenderCommand),

    /// The incoming email mailbox: its credentials (`user`, `password`, `client_secret`)
    /// and a live check.
    #[command(subcommand)]
    IncomingEmail(MailboxCommand),

    /// The Service Desk mailbox: its credentials (`user`, `password`, `client_secret`) and
    /// a live check.
    #[command(subcommand)]
    ServiceDeskEmail(MailboxCommand),

    /// The Microsoft Graph mailer: its credentials (`client_secret`) and a live check.
    #[command(subcommand)]
    MicrosoftGraphMailer(SenderCommand),

    /// Mattermost's credentials (`gitlab_secret`, `sql_password`).
    #[command(subcommand)]
    Mattermost(IntegrationCommand),

    /// The mail_room webhook's shared secret (`webhook_secret`).
    #[command(subcommand)]
    Mailroom(IntegrationCommand),

    /// The Redis password (`password`) of `[redis] url`.
    #[command(subcommand)]
    Redis(IntegrationCommand),

    /// Run every enabled probe at once and report them together (for CI smoke checks).
    Check(CheckArgs),

    /// Follow every log under the log directory, a service's directory, or one file.
    ///
    /// Follows by name through rotation (rename or copytruncate) and picks up files and
    /// directories created later. Ctrl+C stops it.
    Tail(TailArgs),

    /// Render toolctl.toml and the secrets into the files the services read.
    ///
    /// Validates everything first and writes nothing when anything is invalid; every file
    /// is written atomically with its mode; a second run changes nothing.
    Reconfigure(ReconfigureArgs),

    /// Print the effective settings: defaults filled in, secrets masked, each value's source.
    ShowConfig(ReportArgs),

    /// Read or change one key of toolctl.toml (comments and layout are kept).
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Print a shell completion script on stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Write the man pages (one per command) into a directory.
    Man {
        /// Where to write `toolctl.1`, `toolctl-secrets.1`, …
        #[arg(long, value_name = "DIR", default_value = "man")]
        out_dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Show, edit or write this integration's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Show, edit or write this mailbox's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the mailbox live with the settings and secrets mail_room will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step. The
    /// mailbox is opened read-only (EXAMINE). Exit 0 when every step passed (warnings
    /// included), 1 when one failed, 2 when the check could not run.
    Check(CheckArgs),
}

#[derive(Debug, Subcommand)]
pub enum SenderCommand {
    /// Show, edit or write this integration's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the service live with the settings and secrets GitLab will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step.
    /// Exit 0 when every step passed (warnings included), 1 when one failed, 2 when the
    /// check could not run.
    Check(SendCheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Seconds allowed for each network step.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct SendCheckArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Also send a small test message to this address, from `email.from`.
    #[arg(long, value_name = "ADDRESS")]
    pub send_to: Option<String>,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// What to follow: a service's directory or a file, relative to the log directory or
    /// absolute. Default: the whole log directory.
    #[arg(value_name = "TARGET")]
    pub target: Option<PathBuf>,
    /// Print the last N lines of each file first.
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub lines: usize,
    /// Put each line's file (relative to TARGET) in front of it instead of `==> file <==`
    /// headers.
    #[arg(long)]
    pub prefix: bool,
    /// Print only lines matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Decrypt the secret and print its YAML on stdout.
    Show,
    /// Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it.
    ///
    /// The copy lives in a fresh 0700 directory on a tmpfs and is removed on every exit
    /// path. A new secret starts from a commented template of the allowed keys.
    Edit,
    /// Read the secret's YAML from stdin (all of it, at most 1 MiB), check it, encrypt it.
    ///
    /// Example: gcloud kms decrypt … --plaintext-file=- | sudo toolctl smtp secret write
    Write,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Create the age key (0600) if it is missing and print its public key.
    Init,
    /// Report every scope: file, present, modified, decrypts with this key.
    Status(ReportArgs),
    /// Re-encrypt every secret to the current recipients (the key and `[secrets] recipients`).
    ///
    /// All or nothing: if any secret cannot be decrypted, nothing changes.
    Rekey {
        /// Generate a new key first; the old one is kept beside it (0600) until you remove it.
        #[arg(long)]
        new_key: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
}

#[derive(Debug, Args)]
pub struct ReconfigureArgs {
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Show unified diffs of the changes (secrets masked).
    #[arg(long)]
    pub diff: bool,
    /// With --dry-run: exit 1 when something would change.
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a key's effective value (its default when it is not written).
    Get {
        /// Dotted key, e.g. `incoming_email.address`.
        key: String,
    },
    /// Set a key; the value is checked against the key's type and the settings' rules.
    Set {
        /// Dotted key, e.g. `incoming_email.port`.
        key: String,
        /// The value: a string, an integer, `true`/`false`, `["a", "b"]`, `{ K = "v" }`.
        value: String,
    },
    /// Remove a key from toolctl.toml (its default applies again).
    Unset {
        /// Dotted key, e.g. `smtp.ca_file`.
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// `human` (a table) or `json` (one document with stable keys, for CI).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Human)]
    pub output_format: OutputFormat,
}
