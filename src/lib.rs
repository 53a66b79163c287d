//! toolctl: mail and chat integration management for self-hosted GitLab-style servers.
//!
//! The layout, one way down (a module uses only those after it in this list, never one
//! before it; a test checks every `crate::` path against this graph):
//!
//! - [`main`] (the binary's edge): parses the command line, hands it to [`app::run`],
//!   renders the returned [`report::Report`] once, and maps it to the exit code. A broken
//!   pipe ends the output, never the work: the work is done before anything is rendered.
//! - [`cli`]: the clap types only, help examples, shell completion ([`cli::complete`]).
//! - [`app`]: one file per command, `fn run(&Context, &Args) -> Result<Report, Error>`.
//!   It builds the [`Context`] (paths under `--root`, the settings file, the
//!   [`report::Printer`] for stderr) in one match over the commands, and is the only layer
//!   below `main` that prints (stderr notes, and the streaming exceptions listed in
//!   [`report`]).
//! - [`report`]: `Report { status, sections, notes, payload }` rendered as a table, `-q`'s
//!   short form, one JSON document (with `schema`, `ok` and `error` on every outcome) or
//!   JUnit XML. Used only by `app` and `main`.
//! - The features: [`render`] (the services' files from the resolved settings), [`probe`]
//!   (live tests of the mail servers), [`gitlab`], [`mattermost`], [`servicedesk`],
//!   [`tail`] (the logs). They use the model and `sys`, not each other, not the settings
//!   file and not the store.
//! - [`settings`]: `toolctl.toml` (schema, load, edit, rules, resolve); it uses the store.
//! - [`secrets`]: the encrypted store (age), key, rotation, the editor session. It prints
//!   nothing: what it has to say comes back as [`sys::notice::Notice`]s.
//! - [`model`]: the typed resolved settings ([`model::Model`], built once by the settings'
//!   build step; `Secret<T>`; one transport-security decision per mailbox shared by the
//!   renderer and the probes) and [`model::paths`] (where everything lives).
//! - [`sys`]: the only home of `unsafe` and libc: atomic writes, locks, capped reads, the
//!   openat walk (a path another user can change is never followed), users, terminals,
//!   notices. [`failpoint`] holds the crash tests' hooks.
//! - [`error`]: the user-facing [`error::Error`] (message, causes, hint, exit status),
//!   the edge type every command returns; exit codes are decided in
//!   [`error::ExitStatus`] alone. Library modules return their own `thiserror` kinds
//!   (`RenderError`, `SettingsError`, `SecretsError`, `GitlabError`, `PgError`,
//!   `JournalError`, …) whose variants carry data; one `From` per module writes the
//!   message, causes and hint. `error` uses nothing of the crate; `report` prints it.

pub mod app;
pub mod cli;

pub mod error;
pub mod failpoint;
pub mod gitlab;
pub mod mattermost;
pub mod model;
/// Kept as `crate::paths` for the callers; it lives in [`model::paths`].
pub use model::paths;
pub mod probe;
pub mod render;
pub mod report;
pub mod secrets;
pub mod servicedesk;
/// The old name of [`sys::fs`], kept while callers move over.
pub use sys::fs as fsutil;
pub mod settings;
pub mod sys;
pub mod tail;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::error::ExitStatus;
use crate::paths::Paths;
use crate::report::{Printer, Style};

/// What every command is given: where files are, the settings, and how to print.
pub struct Context {
    pub paths: Paths,
    pub settings: settings::Settings,
    pub printer: Printer,
}

/// Parses the command line, runs the command, renders its report and maps the outcome to
/// an exit code.
pub fn main() -> ExitCode {
    // No core dump and no ptrace by a non-root process of the same user, for every command:
    // most of them load the key or decrypt a secret (secret show/edit/write/set,
    // reconfigure, check, import, mattermost, status…), and none needs to be dumpable.
    // Children inherit the zero core limit (the editor holds the plaintext too); exec
    // gives them back their own dumpable flag.
    sys::proc::harden();
    // `COMPLETE=bash toolctl …` (from the committed completion scripts) answers and exits.
    // The engine removes `COMPLETE` before asking for candidates: note the shell first.
    cli::complete::note_shell();
    clap_complete::CompleteEnv::with_factory(cli::command).complete();
    // Help (and only help) is parsed again with the examples added.
    let parsed = match cli::command_without_examples().try_get_matches() {
        Err(e) if cli::shows_help(&e) => cli::command().try_get_matches(),
        other => other,
    }
    .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout (exit 0) and usage errors on stderr.
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::from(0);
            }
            if json_in_argv() {
                let mut out = report::Out::new(std::io::stdout().lock());
                out.write(&usage_error_document(&e));
            }
            return ExitCode::from(ExitStatus::Error.code());
        }
    };
    let printer = Printer {
        style: Style::for_stderr(cli.color.forced()),
        color: cli.color.forced(),
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let (format, outcome) = app::run(&cli, printer);
    let status = report::render(outcome, format, &printer);
    ExitCode::from(status.code())
}

/// Whether the raw arguments ask for JSON (for usage errors, which come before parsing).
fn json_in_argv() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| w[0] == "--output-format" && w[1] == "json")
        || args.iter().any(|a| a == "--output-format=json")
}

/// clap's usage error as the one JSON document: its first line as the message, the rest
/// as causes.
fn usage_error_document(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more"));
    let message = lines
        .next()
        .unwrap_or("invalid usage")
        .trim_start_matches("error: ")
        .to_string();
    let mut error = error::Error::new(message);
    for cause in lines {
        error = error.cause(cause);
    }
    let error = error.hint("run the command with --help for its usage");
    report::document(None, ExitStatus::Error, Some(&error))
}
