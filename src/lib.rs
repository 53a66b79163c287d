//! toolctl: mail and chat integration management for self-hosted GitLab-style servers.
//!
//! The architecture, one way through:
//!
//! - [`cli`] holds the clap types; [`main`] parses them and hands them to
//!   [`commands::run`], which builds a [`Context`] (paths under `--root`, the settings file,
//!   how to print) and calls one function per command, which returns an
//!   [`error::ExitStatus`] or an [`error::Error`].
//! - [`settings`] reads `toolctl.toml`; [`paths`] says where everything lives.
//! - [`render`] turns resolved settings into the services' files; [`probe`] tests the mail
//!   servers live; [`tail`] follows the logs.
//! - [`secrets`] is the encrypted store (age); [`fsutil`] is the one way files are written
//!   (atomically, with their mode), read (regular files only, capped) and locked;
//!   [`failpoint`] holds the crash tests' hooks.
//! - [`output`] decides colour and formats tables and JSON: data on stdout, the rest on
//!   stderr. Errors print `error:`, causes and a `hint:`; exit codes are decided in
//!   [`error::ExitStatus`] alone.

pub mod cli;
pub mod commands;
pub mod error;
pub mod failpoint;
pub mod fsutil;
pub mod output;
pub mod paths;
pub mod probe;
pub mod render;
pub mod secrets;
pub mod settings;
pub mod tail;

use std::process::ExitCode;

use clap::Parser;

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
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout (exit 0) and usage errors on stderr.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                ExitStatus::Error.code()
            } else {
                0
            });
        }
    };
    let style = Style::for_stderr(cli.color);
    let status = match commands::run(cli, style) {
        Ok(status) => status,
        Err(e) => {
            e.print(style);
            e.status()
        }
    };
    ExitCode::from(status.code())
}
