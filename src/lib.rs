//! toolctl: mail and chat integration management for self-hosted GitLab-style servers.
//!
//! The architecture, one way through:
//!
//! - [`cli`] holds the clap types; [`main`] parses them and hands them to
//!   [`app::run`], which builds a [`Context`] (paths under `--root`, the settings file,
//!   how to print) and calls one function per command, which returns an
//!   [`error::ExitStatus`] or an [`error::Error`].
//! - [`settings`] reads `toolctl.toml`; [`paths`] says where everything lives.
//! - [`render`] turns resolved settings into the services' files; [`probe`] tests the mail
//!   servers live; [`tail`] follows the logs.
//! - [`secrets`] is the encrypted store (age); [`sys::fs`] is the one way files are written
//!   (atomically, with their mode), read (regular files only, capped) and locked;
//!   [`failpoint`] holds the crash tests' hooks. [`sys`] is the only home of `unsafe` and
//!   libc, and of the rule that a path another user can change is never followed.
//! - [`output`] decides colour and formats tables and JSON: data on stdout, the rest on
//!   stderr. Errors print `error:`, causes and a `hint:`; exit codes are decided in
//!   [`error::ExitStatus`] alone. The JSON contract (one document on every outcome, with
//!   `schema`, `ok` and `error`) is kept in one place: [`main`] completes the document
//!   after the command returned.
//! - [`report`] holds the check reports that are not the probes' own (JUnit XML, `-q`);
//!   [`cli::complete`] answers dynamic shell completion.

pub mod cli;
pub mod app;

pub mod error;
pub mod failpoint;
pub mod gitlab;
pub mod mattermost;
pub mod output;
pub mod paths;
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
use crate::output::{Printer, Style};
use crate::paths::Paths;

/// What every command is given: where files are, the settings, and how to print.
pub struct Context {
    pub paths: Paths,
    pub settings: settings::Settings,
    pub printer: Printer,
}

/// Parses the command line, runs the command and maps the outcome to an exit code.
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
    let parsed = cli::command()
        .try_get_matches()
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
                output::finish_json(true, false, Some(usage_error_json(&e)));
            }
            return ExitCode::from(ExitStatus::Error.code());
        }
    };
    let style = Style::for_stderr(cli.color);
    let json = app::output_format(&cli) == output::OutputFormat::Json;
    let (status, error) = match app::run(cli, style) {
        Ok(status) => (status, None),
        Err(e) => {
            e.print(style);
            (e.status(), Some(e.to_json()))
        }
    };
    output::finish_json(json, status == ExitStatus::Success, error);
    ExitCode::from(status.code())
}

/// Whether the raw arguments ask for JSON (for usage errors, which come before parsing).
fn json_in_argv() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| w[0] == "--output-format" && w[1] == "json")
        || args.iter().any(|a| a == "--output-format=json")
}

/// clap's usage error in the `"error"` shape: its first line, the rest as causes.
fn usage_error_json(e: &clap::Error) -> serde_json::Value {
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
    let causes: Vec<&str> = lines.collect();
    serde_json::json!({
        "message": message,
        "causes": causes,
        "hint": "run the command with --help for its usage",
    })
}
