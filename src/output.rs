//! How toolctl speaks: data on stdout (tables or JSON), everything else on stderr.
//!
//! Owns colour (`--color`, `NO_COLOR`, terminals), quiet/verbose and the two output formats
//! of reporting commands. Tables go through comfy-table with no colour of their own, so
//! they read the same in a pipe, a log and a terminal. Nothing here may format a secret.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{presets, ContentArrangement, Table};

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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

/// ANSI styling for stderr, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour for a stream when asked, or when it is a terminal and `NO_COLOR` is unset.
    pub fn new(choice: ColorChoice, terminal: bool) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        };
        Style { color }
    }

    /// The style of messages on stderr.
    pub fn for_stderr(choice: ColorChoice) -> Self {
        Style::new(choice, std::io::stderr().is_terminal())
    }

    pub fn enabled(&self) -> bool {
        self.color
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn warning(&self, text: &str) -> String {
        self.paint("1;33", text)
    }
    pub fn hint(&self, text: &str) -> String {
        self.paint("1;36", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Where a command reports: verbosity and style for stderr, format for stdout.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub style: Style,
    /// `--color`, for commands that colour stdout (`tail --prefix`).
    pub color: ColorChoice,
    pub quiet: bool,
    pub verbose: u8,
}

impl Printer {
    /// A progress or result note on stderr, unless `-q`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{}", msg.as_ref());
        }
    }

    /// A warning on stderr; shown even with `-q`, which silences only chatter.
    pub fn warn(&self, msg: impl AsRef<str>) {
        let _ = writeln!(
            std::io::stderr(),
            "{} {}",
            self.style.warning("warning:"),
            msg.as_ref()
        );
    }
}

/// A table with toolctl's look: header row, no colour, wrapped to the terminal.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    if !std::io::stdout().is_terminal() {
        t.load_preset(presets::ASCII_MARKDOWN);
    }
    t
}

/// Writes data to stdout; a closed pipe ends the program quietly (exit 0), as ripgrep does.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Writes one JSON document and a newline to stdout.
pub fn emit_json(value: &serde_json::Value) {
    let mut s = serde_json::to_string_pretty(value).expect("JSON values serialize");
    s.push('\n');
    emit(&s);
}
