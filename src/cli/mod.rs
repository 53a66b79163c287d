//! The command line, as clap types only: no I/O and no logic here.
//!
//! `app::run` dispatches on these types; `toolctl man` and `toolctl completions` generate the
//! committed man pages and completion scripts from them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::engine::ArgValueCandidates;

pub mod complete;

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `Some(true)` always, `Some(false)` never, `None` auto (the report's form).
    pub fn forced(self) -> Option<bool> {
        match self {
            ColorChoice::Auto => None,
            ColorChoice::Always => Some(true),
            ColorChoice::Never => Some(false),
        }
    }
}

/// `--output-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    #[default]
    Human,
    /// One JSON document with stable keys, for CI.
    Json,
}

/// `--output-format` of `check` and the single checks: also JUnit XML, for CI reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table for people.
    #[default]
    Human,
    /// One JSON document with stable keys, for CI.
    Json,
    /// JUnit XML, one testcase per step (for GitLab CI's artifacts:reports:junit).
    Junit,
    /// Prometheus text exposition format 0.0.4: gauges, no timestamps.
    Prometheus,
}

impl CheckFormat {
    /// The format of everything but the JUnit report itself.
    pub fn base(self) -> OutputFormat {
        match self {
            CheckFormat::Json => OutputFormat::Json,
            CheckFormat::Human | CheckFormat::Junit | CheckFormat::Prometheus => {
                OutputFormat::Human
            }
        }
    }
}

const AFTER_HELP: &str = "\
Every path is under --root (default /): etc/toolctl/toolctl.toml, etc/toolctl/secrets.key,
var/opt/toolctl/secrets/, var/opt/toolctl/rendered/, var/log/toolctl/.

Exit codes: 0 done, 1 a check answered no, 2 error, 130 interrupted.

Examples:
  toolctl init                          create toolctl.toml and the key
  toolctl status                        one screen: settings, key, secrets, rendered files
  toolctl check --output-format json    every enabled probe, for CI";

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

    /// Print only data, warnings and errors; report tables show only their failing rows.
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

    /// When to colour messages on stderr (auto honours NO_COLOR and TERM=dumb).
    #[arg(long, global = true, help_heading = "Global options", value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create what is missing: the commented default toolctl.toml and the key.
    ///
    /// Never overwrites either; says what it created and what it found. The only command
    /// that writes a default settings file.
    Init,

    /// One screen: settings valid, key, every secret, rendered files up to date, integrations.
    ///
    /// Writes nothing. Exit 0 when all is well, 1 when something needs attention (a rendered
    /// file out of date, a secret that does not decrypt), 2 when it cannot tell.
    Status(ReportArgs),

    /// The secrets store as a whole: create the key, report, re-encrypt.
    #[command(subcommand)]
    Secrets(SecretsCommand),

    /// The outgoing SMTP relay: its credentials (user_name, password) and a live check.
    #[command(subcommand)]
    Smtp(SmtpCommand),

    /// The incoming email mailbox: its credentials (user, password, client_secret) and a
    /// live check.
    #[command(subcommand)]
    IncomingEmail(MailboxCommand),

    /// Service Desk: its mailbox (credentials, live check), the addresses a project receives
    /// mail on, the email templates, and the custom email verification.
    #[command(subcommand)]
    ServiceDeskEmail(ServiceDeskCommand),

    /// The Microsoft Graph mailer: its credentials (client_secret) and a live check.
    #[command(subcommand)]
    MicrosoftGraphMailer(SenderCommand),

    /// Mattermost: credentials (gitlab_secret, sql_password), backup, restore, live check.
    #[command(subcommand)]
    Mattermost(MattermostCommand),

    /// The mail_room webhook's shared secret (webhook_secret).
    #[command(subcommand)]
    Mailroom(IntegrationCommand),

    /// The password (password) of the Redis server in [redis] url.
    #[command(subcommand)]
    Redis(IntegrationCommand),

    /// The Service Desk custom email's SMTP credentials (user_name, password).
    #[command(subcommand)]
    CustomEmail(IntegrationCommand),

    /// Run every enabled probe at once and report them together (for CI smoke checks).
    ///
    /// A probe that cannot run (a missing secret, invalid settings in its table) is an error
    /// row; every other probe still runs. Exit 2 if any probe could not run, else 1 if any
    /// failed, else 0; a warning never fails a check.
    Check(CheckAllArgs),

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
    ShowConfig(ShowConfigArgs),

    /// Read or change one key of toolctl.toml (comments and layout are kept).
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Read an existing GitLab's settings and credentials into toolctl.
    #[command(subcommand)]
    Import(ImportCommand),

    /// Print a shell completion script on stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Write the man pages (one per command) into a directory.
    Man {
        /// Where to write toolctl.1, toolctl-secrets.1, …
        #[arg(long, value_name = "DIR", default_value = "man", value_hint = ValueHint::DirPath)]
        out_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Read /etc/gitlab/gitlab.rb into toolctl.toml; its credentials go into the store.
    ///
    /// Reads the Ruby subset of GitLab's documentation (gitlab_rails['KEY'] = VALUE,
    /// external_url '…', mattermost['KEY'], …). Comments and layout of toolctl.toml are
    /// kept; every line not imported is listed with its line number and the reason.
    GitlabRb {
        /// The gitlab.rb to read (taken as given, not under --root).
        #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
        file: PathBuf,
        /// Report what would be imported; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Decrypt GitLab's smtp / incoming_email / service_desk_email .yaml.enc into the store.
    ///
    /// Every file is decrypted and checked against its scope's schema before anything is
    /// written: all or nothing. Other encrypted settings (LDAP, Redis, …) are listed as not
    /// imported.
    GitlabSecrets {
        /// gitlab-secrets.json (omnibus) or config/secrets.yml (source install), under --root.
        #[arg(long, value_name = "FILE", default_value = crate::gitlab::DEFAULT_SECRETS_FILE)]
        secrets_file: String,
        /// The encrypted settings directory, under --root.
        #[arg(long, value_name = "DIR", default_value = crate::gitlab::DEFAULT_ENCRYPTED_DIR)]
        dir: String,
        #[command(flatten)]
        report: ReportArgs,
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
    /// Show, edit, write or set this integration's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Debug, Subcommand)]
pub enum MattermostCommand {
    /// Show, edit, write or set Mattermost's encrypted secret (gitlab_secret, sql_password).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Back up the database, config.json and data/ into one archive (path on stdout).
    ///
    /// The archive is written under a temp name, fsynced and renamed: an interrupted backup
    /// never leaves a file under the final name. With --verify, checks an archive instead:
    /// checksums, then a trial restore into a scratch database whose row counts must match
    /// the manifest (exit 0 good, 1 damaged or different, 2 could not run).
    Backup(MattermostBackupArgs),
    /// Restore an archive: all-or-nothing, the previous database kept under another name.
    ///
    /// Verifies the archive, refuses while sessions are connected, restores into a new
    /// database and switches names in one transaction, then replaces data/ and config.json
    /// by rename. An interrupted restore is completed or rolled back by the next restore,
    /// backup or check.
    Restore(MattermostRestoreArgs),
    /// Probe the database with the rendered data source, the SiteURL and the OAuth endpoints.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct MattermostBackupArgs {
    /// Directory for the archive (default: /var/opt/toolctl/backups under the root).
    #[arg(long, value_name = "DIR", conflicts_with = "verify")]
    pub output: Option<PathBuf>,
    /// Verify this archive instead of taking a backup.
    #[arg(long, value_name = "ARCHIVE")]
    pub verify: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct MattermostRestoreArgs {
    /// The archive that toolctl mattermost backup wrote.
    #[arg(value_name = "ARCHIVE")]
    pub archive: PathBuf,
    /// Do not ask (required off a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Terminate the sessions connected to the database instead of refusing.
    #[arg(long)]
    pub force_disconnect: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Show, edit, write or set this mailbox's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the mailbox live with the settings and secrets mail_room will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step. The
    /// mailbox is opened read-only (EXAMINE).
    Check(CheckArgs),
}

#[derive(Debug, Subcommand)]
pub enum ServiceDeskCommand {
    /// Show, edit, write or set this mailbox's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the mailbox live with the settings and secrets mail_room will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step. The
    /// mailbox is opened read-only (EXAMINE).
    Check(CheckArgs),
    /// Print every address a project receives Service Desk mail on.
    ///
    /// From incoming_email.address (always) and service_desk_email.address (when enabled),
    /// with %{key} replaced by the project key: <slug>-<id>-issue-, or <slug>-<suffix> on
    /// the service_desk_email alias with --suffix.
    Address(SdAddressArgs),
    /// Lint or preview a project's Service Desk email templates.
    #[command(subcommand)]
    Templates(SdTemplatesCommand),
    /// Verify a custom email address as GitLab does, for real: send the verification mail
    /// through the custom SMTP credentials and watch the Service Desk mailboxes for it.
    ///
    /// The credentials come from the custom-email secret (user_name, password). Reports
    /// GitLab's outcome: smtp_host_issue, invalid_credentials,
    /// mail_not_received_within_timeframe, incorrect_forwarding_target, incorrect_from or
    /// incorrect_token. The mailboxes are opened read-only (EXAMINE).
    VerifyCustomEmail(SdVerifyArgs),
}

#[derive(Debug, Args)]
pub struct SdProjectArgs {
    /// The project's full path, e.g. mygroup/myproject.
    #[arg(long, value_name = "PATH")]
    pub project: String,
    /// The project's numeric ID (Settings > General).
    #[arg(long, value_name = "ID")]
    pub project_id: u64,
}

#[derive(Debug, Args)]
pub struct SdAddressArgs {
    #[command(flatten)]
    pub project: SdProjectArgs,
    /// The project's custom email address suffix (a-z, 0-9, _): the alias key becomes
    /// <slug>-<suffix>.
    #[arg(long, value_name = "SUFFIX")]
    pub suffix: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum SdTemplatesCommand {
    /// Check the templates of a directory: placeholders, NOTE_TEXT, HTML GitLab strips,
    /// file names.
    ///
    /// Each finding has its file, line and column (characters, from 1). Exit 1 when any
    /// error is found (unknown placeholders, stripped HTML, unknown file names), 0 with
    /// warnings only.
    Check {
        /// The project's .gitlab/service_desk_templates directory.
        #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
        dir: PathBuf,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Fill a template's placeholders (sample values unless given) and render it to HTML.
    Preview(Box<SdPreviewArgs>),
}

#[derive(Debug, Args)]
pub struct SdPreviewArgs {
    /// The template: thank_you.md, new_participant.md or new_note.md.
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// %{ISSUE_ID}
    #[arg(long, value_name = "IID")]
    pub issue_id: Option<String>,
    /// %{ISSUE_PATH}
    #[arg(long, value_name = "TEXT")]
    pub issue_path: Option<String>,
    /// %{ISSUE_URL}
    #[arg(long, value_name = "URL")]
    pub issue_url: Option<String>,
    /// %{ISSUE_DESCRIPTION}
    #[arg(long, value_name = "TEXT")]
    pub issue_description: Option<String>,
    /// %{UNSUBSCRIBE_URL}
    #[arg(long, value_name = "URL")]
    pub unsubscribe_url: Option<String>,
    /// %{NOTE_TEXT} (new_note.md only)
    #[arg(long, value_name = "TEXT")]
    pub note_text: Option<String>,
    /// %{SYSTEM_HEADER}
    #[arg(long, value_name = "TEXT")]
    pub system_header: Option<String>,
    /// %{SYSTEM_FOOTER}
    #[arg(long, value_name = "TEXT")]
    pub system_footer: Option<String>,
    /// %{ADDITIONAL_TEXT}
    #[arg(long, value_name = "TEXT")]
    pub additional_text: Option<String>,
    /// Write the HTML to a new temporary file and print its path instead.
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Args)]
pub struct SdVerifyArgs {
    /// The custom email address, e.g. support@example.com (no +).
    #[arg(long, value_name = "ADDRESS")]
    pub address: String,
    #[command(flatten)]
    pub project: SdProjectArgs,
    /// The custom email's SMTP host.
    #[arg(long, value_name = "HOST")]
    pub smtp_address: String,
    /// Its SMTP port (465: implicit TLS; otherwise STARTTLS when offered).
    #[arg(long, value_name = "PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// plain, login or cram_md5 (default: the strongest the server offers).
    #[arg(long, value_name = "METHOD", value_parser = ["plain", "login", "cram_md5"])]
    pub smtp_authentication: Option<String>,
    /// The address the custom email forwards to (default: the project's incoming_email
    /// address, as the address command prints it).
    #[arg(long, value_name = "ADDRESS")]
    pub service_desk_address: Option<String>,
    /// Trust this CA (PEM) for the SMTP server instead of the system store.
    #[arg(long, value_name = "PEM", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,
    /// How long to wait for the mail (GitLab allows 30 minutes), e.g. 30m, 90s.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub within: String,
    /// Seconds allowed for each network step (fractions allowed, e.g. 2.5).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub plaintext: PlaintextAuthArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum SenderCommand {
    /// Show, edit, write or set this integration's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the service live with the settings and secrets GitLab will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step.
    Check(SendCheckArgs),
}

#[derive(Debug, Subcommand)]
pub enum SmtpCommand {
    /// Show, edit, write or set this integration's encrypted secret.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Probe the service live with the settings and secrets GitLab will be given.
    ///
    /// One row per step (status, time, detail, hint); stops at the first failing step.
    /// With enable_starttls_auto and a server that does not offer STARTTLS, it stops
    /// before AUTH unless --allow-plaintext-auth is given.
    Check(SmtpCheckArgs),
}

#[derive(Debug, Args)]
pub struct SmtpCheckArgs {
    #[command(flatten)]
    pub send: SendCheckArgs,
    #[command(flatten)]
    pub plaintext: PlaintextAuthArgs,
}

/// `check`: every probe; the SMTP relay's as `smtp check`.
#[derive(Debug, Args)]
pub struct CheckAllArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Also write the checks as Prometheus gauges to DIR/toolctl.prom, atomically (for
    /// node_exporter's textfile collector); written even when the run cannot start, with
    /// every success 0.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub textfile: Option<PathBuf>,
    #[command(flatten)]
    pub plaintext: PlaintextAuthArgs,
    /// Also follow a canary through every hop of each enabled mailbox: sent through the
    /// [smtp] relay to a toolctl-canary-… sub-address, arrived, picked up by mail_room,
    /// pushed to GitLab, deleted. One row per hop with its latency; stops at the first
    /// failing hop. Needs [check] canary_from.
    #[arg(long)]
    pub round_trip: bool,
    /// Also post the canary to GitLab's internal mail_room endpoint of each enabled
    /// webhook mailbox, signed with the mailroom webhook secret (200 passes; 401: the
    /// secret differs from GitLab's). Needs [check] canary_from.
    #[arg(long)]
    pub postback: bool,
    /// How long the whole round trip may take, e.g. 90s, 5m (default: the largest
    /// idle_timeout plus 60 s).
    #[arg(long, value_name = "DURATION", requires = "round_trip")]
    pub within: Option<String>,
}

#[derive(Debug, Args, Clone, Copy, Default)]
pub struct PlaintextAuthArgs {
    /// Send the SMTP credentials even when STARTTLS is expected but the server does not
    /// offer it (they cross the network in clear, as GitLab would send them). Without it
    /// the probe stops before AUTH.
    #[arg(long)]
    pub allow_plaintext_auth: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Seconds allowed for each network step (fractions allowed, e.g. 2.5).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub report: CheckReportArgs,
}

#[derive(Debug, Args)]
pub struct CheckReportArgs {
    /// human (a table), json (one document with stable keys), junit (XML for CI reports) or
    /// prometheus (gauges for node_exporter's textfile collector).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = CheckFormat::Human)]
    pub output_format: CheckFormat,
}

#[derive(Debug, Args)]
pub struct SendCheckArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Also send a small test message to this address, from email.from.
    #[arg(long, value_name = "ADDRESS")]
    pub send_to: Option<String>,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// What to follow: a service's directory or a file, relative to the log directory or
    /// absolute. Default: the whole log directory.
    #[arg(value_name = "TARGET", add = ArgValueCandidates::new(complete::tail_targets))]
    pub target: Option<PathBuf>,
    /// Follow (the default; accepted because every tail user types it).
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Follow by name through rotation (the default too, as tail -F does).
    #[arg(short = 'F')]
    pub follow_name: bool,
    /// Print the last N lines of each file first.
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub lines: usize,
    /// Put each line's file (relative to TARGET) in front of it instead of "==> file <=="
    /// headers (-q drops the headers without a prefix).
    #[arg(long)]
    pub prefix: bool,
    /// Print only lines matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Write the logs' bytes to the terminal as they are. By default, on a terminal, control
    /// bytes (escape sequences, CR) are shown as \x1b-style escapes; into a pipe or a file
    /// the bytes always pass unchanged.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Decrypt the secret and print its YAML on stdout (or one value with --key).
    Show {
        /// Print only this key's value, raw, with no newline added (like sops --extract).
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(complete::secret_keys))]
        key: Option<String>,
    },
    /// Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it.
    ///
    /// The copy lives in a fresh 0700 directory on a tmpfs and is removed on every exit
    /// path. A new secret starts from a commented template of the allowed keys.
    Edit,
    /// Read the secret's YAML from stdin (all of it, at most 1 MiB), check it, encrypt it.
    ///
    /// Replaces the whole secret; secret set changes one key.
    Write,
    /// Set one key of the secret, keeping the others.
    ///
    /// The value is read from stdin (one trailing newline stripped, as read does) or, on a
    /// terminal, from a hidden prompt; never from the command line. The result is checked
    /// against the scope's keys and written atomically.
    Set {
        /// The key to set, e.g. password.
        #[arg(value_name = "NAME", add = ArgValueCandidates::new(complete::secret_keys))]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Create the age key (0600) if it is missing and print its public key.
    ///
    /// Needs no settings file; toolctl init also creates toolctl.toml.
    Init,
    /// Report every scope: file, present, modified, decrypts with this key.
    Status(ReportArgs),
    /// Re-encrypt every secret to the current recipients (the key and [secrets] recipients).
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
    #[arg(long, requires = "dry_run")]
    pub exit_code: bool,
    /// Then run the step that makes GitLab read the changes (gitlab-ctl reconfigure, or the
    /// restarts), where the command exists; report its exit status.
    #[arg(long, conflicts_with = "dry_run")]
    pub apply: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a key's effective value (its default when it is not written).
    Get {
        /// Dotted key, e.g. incoming_email.address, or a table, e.g. smtp.
        #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys_and_tables))]
        key: String,
    },
    /// Set a key; the value is checked against the key's type and the settings' rules.
    Set {
        /// Dotted key, e.g. incoming_email.port.
        #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
        key: String,
        /// The value: a string, an integer, true/false, ["a", "b"], { K = "v" }.
        #[arg(value_name = "VALUE")]
        value: String,
    },
    /// Remove a key from toolctl.toml (its default applies again).
    Unset {
        /// Dotted key, e.g. smtp.ca_file.
        #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct ShowConfigArgs {
    /// Show only this key, or every key of this table (smtp, incoming_email, …).
    #[arg(value_name = "KEY|TABLE", add = ArgValueCandidates::new(complete::config_keys_and_tables))]
    pub filter: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// human (a table) or json (one document with stable keys, for CI).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Human)]
    pub output_format: OutputFormat,
}

/// The exit codes of a check, in every check's --help.
const CHECK_EXIT: &str = "\
Exit status: 0 every step passed (warnings included), 1 a step failed, 2 the check could not
run (invalid settings, a missing secret, bad usage).";

/// The examples at the end of each command's --help (and in its man page), by command
/// path; `{scope}` stands for the scope of a `<scope> secret …` command.
pub fn examples(path: &str) -> Option<&'static str> {
    Some(match path {
        "init" => "  sudo toolctl init\n  toolctl --root /tmp/demo init",
        "status" => "  sudo toolctl status\n  sudo toolctl status --output-format json | jq .ok",
        "secrets" => "  sudo toolctl secrets init\n  sudo toolctl secrets status",
        "secrets init" => "  sudo toolctl secrets init",
        "secrets status" => "  sudo toolctl secrets status\n  sudo toolctl -q secrets status   # only the secrets that do not decrypt",
        "secrets rekey" => "  sudo toolctl secrets rekey\n  sudo toolctl secrets rekey --new-key",
        "smtp" | "incoming-email" | "service-desk-email" | "microsoft-graph-mailer" | "mattermost"
        | "mailroom" | "redis" | "custom-email" => "  sudo toolctl {scope} secret edit\n  sudo toolctl {scope} secret show",
        "service-desk-email address" => "  toolctl service-desk-email address --project mygroup/myproject --project-id 42\n  toolctl service-desk-email address --project mygroup/myproject --project-id 42 --suffix support",
        "service-desk-email templates" => "  toolctl service-desk-email templates check .gitlab/service_desk_templates\n  toolctl service-desk-email templates preview .gitlab/service_desk_templates/new_note.md",
        "service-desk-email templates check" => "  toolctl service-desk-email templates check .gitlab/service_desk_templates\n  toolctl service-desk-email templates check . --output-format json | jq .errors",
        "service-desk-email templates preview" => "  toolctl service-desk-email templates preview thank_you.md --issue-id 7 --issue-path grp/prj#7\n  toolctl service-desk-email templates preview new_note.md --note-text 'Fixed.' --open",
        "service-desk-email verify-custom-email" => "  sudo toolctl service-desk-email verify-custom-email --address support@example.com \\\n       --project mygroup/myproject --project-id 42 --smtp-address smtp.example.com\n  sudo toolctl service-desk-email verify-custom-email ... --within 5m --output-format json",
        "secret" => "  sudo toolctl {scope} secret edit\n  printf '%s' \"$PASSWORD\" | sudo toolctl {scope} secret set {key}",
        "secret show" => "  sudo toolctl {scope} secret show\n  sudo toolctl {scope} secret show --key {key}",
        "secret edit" => "  sudo toolctl {scope} secret edit\n  sudo EDITOR=nano toolctl {scope} secret edit",
        "secret write" => "  gcloud kms decrypt ... --plaintext-file=- | sudo toolctl {scope} secret write\n  sudo toolctl {scope} secret write < {scope}.yaml",
        "secret set" => "  sudo toolctl {scope} secret set {key}          # prompts without echo\n  printf '%s' \"$VALUE\" | sudo toolctl {scope} secret set {key}",
        "mattermost backup" => "  sudo toolctl mattermost backup\n  sudo toolctl mattermost backup --verify /var/opt/toolctl/backups/mattermost-HOST-TIME.tar.gz",
        "mattermost restore" => "  sudo toolctl mattermost restore /var/opt/toolctl/backups/mattermost-HOST-TIME.tar.gz\n  sudo toolctl mattermost restore ARCHIVE --yes --force-disconnect",
        "mattermost check" => "  sudo toolctl mattermost check\n  sudo toolctl mattermost check --output-format json | jq .ok",
        "check" => "  sudo toolctl check\n  sudo toolctl check --output-format junit > toolctl-check.xml\n  sudo toolctl check --round-trip --within 5m\n  sudo toolctl check --postback",
        "smtp check" => "  sudo toolctl smtp check\n  sudo toolctl smtp check --send-to ops@example.com --timeout 2.5",
        "microsoft-graph-mailer check" => "  sudo toolctl microsoft-graph-mailer check\n  sudo toolctl microsoft-graph-mailer check --send-to ops@example.com",
        "incoming-email check" | "service-desk-email check" => "  sudo toolctl {scope} check\n  sudo toolctl {scope} check --output-format json | jq .ok",
        "tail" => "  sudo toolctl tail\n  sudo toolctl tail mailroom --grep -i error",
        "reconfigure" => "  sudo toolctl reconfigure\n  sudo toolctl reconfigure --dry-run --diff --exit-code",
        "show-config" => "  sudo toolctl show-config\n  sudo toolctl show-config smtp",
        "config" => "  sudo toolctl config get smtp\n  sudo toolctl config set smtp.port 465",
        "config get" => "  sudo toolctl config get incoming_email.address\n  sudo toolctl config get smtp",
        "config set" => "  sudo toolctl config set smtp.port 465\n  sudo toolctl config set secrets.recipients '[\"age1...\"]'",
        "config unset" => "  sudo toolctl config unset smtp.ca_file",
        "import" => "  sudo toolctl import gitlab-rb /etc/gitlab/gitlab.rb --dry-run\n  sudo toolctl import gitlab-secrets",
        "import gitlab-rb" => "  sudo toolctl import gitlab-rb /etc/gitlab/gitlab.rb --dry-run\n  sudo toolctl import gitlab-rb /etc/gitlab/gitlab.rb",
        "import gitlab-secrets" => "  sudo toolctl import gitlab-secrets\n  toolctl --root /srv/copy import gitlab-secrets --secrets-file /home/git/gitlab/config/secrets.yml --dir /home/git/gitlab/shared/encrypted_settings",
        "completions" => "  toolctl completions bash | sudo tee /usr/share/bash-completion/completions/toolctl\n  toolctl completions zsh > ~/.zfunc/_toolctl",
        "man" => "  toolctl man --out-dir /tmp/man && man -l /tmp/man/toolctl.1",
        _ => return None,
    })
}

/// The clap command without the examples: what parsing needs. Walking every subcommand
/// to add their examples costs more than a `secret show` decrypts, so a run that shows
/// no help parses with this and only help is parsed again with [`command`].
pub fn command_without_examples() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// Whether clap's answer to the arguments is a help text (which carries the examples).
pub fn shows_help(e: &clap::Error) -> bool {
    use clap::error::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

/// The clap command with each subcommand's examples (and a check's exit codes) at the end
/// of its help: the one definition that --help, man pages and completions share.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    fn walk(cmd: clap::Command, path: &[&str], scope: Option<&str>) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        let mut cmd = cmd;
        for name in names {
            let mut sub_path: Vec<&str> = path.to_vec();
            sub_path.push(&name);
            let scope = scope.or_else(|| {
                crate::secrets::Scope::ALL
                    .iter()
                    .find(|s| s.cli_name() == name)
                    .map(|s| s.cli_name())
            });
            let sub_path_owned = sub_path.clone();
            cmd = cmd.mut_subcommand(&name, |sub| {
                let sub = walk(sub, &sub_path_owned, scope);
                decorate(sub, &sub_path_owned, scope)
            });
        }
        cmd
    }
    walk(Cli::command(), &[], None)
}

fn decorate(cmd: clap::Command, path: &[&str], scope: Option<&str>) -> clap::Command {
    let full = path.join(" ");
    // `<scope> secret …` commands share one text; look them up without the scope.
    let generic = match path {
        [_, rest @ ..] if scope.is_some() && rest.first() == Some(&"secret") => rest.join(" "),
        _ => full.clone(),
    };
    let Some(text) = examples(&full).or_else(|| examples(&generic)) else {
        return cmd;
    };
    let key = scope
        .and_then(|s| {
            crate::secrets::Scope::ALL
                .iter()
                .find(|x| x.cli_name() == s)
                .and_then(|x| x.keys().last())
                .map(|k| k.name)
        })
        .unwrap_or("password");
    let text = text
        .replace("{scope}", scope.unwrap_or("smtp"))
        .replace("{key}", key);
    let mut after = String::new();
    if path.last() == Some(&"check") {
        after.push_str(CHECK_EXIT);
        after.push_str("\n\n");
    }
    after.push_str("Examples:\n");
    after.push_str(&text);
    cmd.after_help(after)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the whole command tree (conflicting names, bad
    /// defaults, missing value names…), which clap runs only in debug builds on use.
    #[test]
    fn the_command_tree_is_consistent() {
        super::command().debug_assert();
        super::command_without_examples().debug_assert();
    }

    /// Parsing skips the examples; every way clap shows help is parsed again with them.
    #[test]
    fn help_is_parsed_again_with_the_examples() {
        for argv in [
            &["toolctl", "smtp", "secret", "--help"][..],
            &["toolctl", "help", "smtp", "secret"],
            &["toolctl", "smtp", "secret"],
        ] {
            let e = super::command_without_examples()
                .try_get_matches_from(argv)
                .expect_err("help");
            assert!(super::shows_help(&e), "{argv:?}");
            assert!(!e.render().to_string().contains("Examples:"), "{argv:?}");
            let e = super::command()
                .try_get_matches_from(argv)
                .expect_err("help");
            assert!(e.render().to_string().contains("Examples:"), "{argv:?}");
        }
        for argv in [
            &["toolctl", "--bogus"][..],
            &["toolctl", "--version"],
            &["toolctl", "smtp", "secret", "nope"],
        ] {
            let e = super::command_without_examples()
                .try_get_matches_from(argv)
                .expect_err("not a run");
            assert!(!super::shows_help(&e), "{argv:?}");
        }
        let m = super::command_without_examples()
            .try_get_matches_from(["toolctl", "smtp", "secret", "show"])
            .expect("parses");
        assert!(
            <super::Cli as clap::FromArgMatches>::from_arg_matches(&m).is_ok(),
            "the same Cli"
        );
    }
}
