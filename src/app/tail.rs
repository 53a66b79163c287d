//! `toolctl tail [TARGET] [-n N] [--prefix] [--grep REGEX]`: follow the logs.
//!
//! Turns the arguments and the log directory (`--root`, `[logging] log_directory`) into
//! [`crate::tail::Options`], runs the follower, and maps how it ended to an exit status:
//! a closed stdout is success (`toolctl tail | head`), a stop signal is "interrupted"
//! (130). Every failure before following starts is an error with a hint.

use std::io::IsTerminal;

use crate::cli::TailArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::report::{Report, Style};
use crate::tail::{self, Format, Options, Stop};
use crate::Context;

/// Set to a non-empty value, inotify is not used and the tree is polled (tests the
/// fallback that runs when inotify is unavailable or out of watches).
const FORCE_POLL_ENV: &str = "TOOLCTL_TAIL_POLL";

pub fn run(ctx: &Context, args: &TailArgs) -> Result<Report> {
    let out = Report::new();
    let grep = match &args.grep {
        None => None,
        Some(re) => Some(regex::bytes::Regex::new(re).map_err(|e| {
            Error::new(format!("`--grep {re}` is not a valid regular expression"))
                .cause(e)
                .hint("the syntax is Rust's `regex` crate (like ERE, plus `\\d`, `(?i)`…); quote the pattern for the shell")
        })?),
    };
    let log_dir = &ctx.paths.log_dir;
    let resolved = tail::resolve(log_dir, args.target.as_deref()).map_err(Error::from)?;
    let target = resolved.target;
    // Labels are relative to the log directory as it really is (so a symlinked log
    // directory reads the same as a plain one); `--prefix` labels are relative to TARGET
    // (its directory, for one file), as its help says.
    let base = match &target {
        tail::Target::Dir(d) if args.prefix => d.clone(),
        tail::Target::File { dir, .. } if args.prefix => dir.clone(),
        _ => log_dir.clone(),
    };
    let label_base = std::fs::canonicalize(&base).unwrap_or(base);
    let stdout_tty = std::io::stdout().is_terminal();
    let format = Format {
        // `-q` drops the `==> file <==` headers, as `tail -q` does.
        headers: !ctx.printer.quiet,
        prefix: args.prefix,
        // Colour needs both: a person at a terminal, and colour allowed (`--color`,
        // `NO_COLOR`); never in a pipe, where the codes would end up in files.
        color: args.prefix && stdout_tty && Style::new(ctx.printer.color, stdout_tty).enabled(),
        grep,
        // A log line must not drive the terminal (title, clipboard, clearing, CR
        // overwrites): escaped there unless `--raw`; a pipe gets the bytes unchanged.
        escape: stdout_tty && !args.raw,
    };
    let opts = Options {
        target,
        base: resolved.base,
        base_given: resolved.base_given,
        label_base,
        lines: args.lines,
        raw_labels: args.raw,
        format,
        force_poll: std::env::var_os(FORCE_POLL_ENV).is_some_and(|v| !v.is_empty()),
    };
    let printer = ctx.printer;
    match tail::follow(opts, &|msg| printer.warn(msg)) {
        Ok(Stop::BrokenPipe) => Ok(out),
        Ok(Stop::Signal(_)) => Ok(out.with_status(ExitStatus::Interrupted)),
        Err(e) => Err(e.into()),
    }
}
