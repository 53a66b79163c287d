//! How toolctl speaks: data on stdout (tables or JSON), everything else on stderr.
//!
//! Owns colour (`--color`, `NO_COLOR`, `TERM=dumb`, terminals), quiet/verbose and the output
//! formats of reporting commands. Tables go through comfy-table with no colour of their
//! own, so they read the same in a pipe, a log and a terminal; on a terminal they are
//! fitted to its width. Nothing here may format a secret.
//!
//! The JSON contract lives here: a command hands its document to [`emit_json`], which
//! holds it; [`finish_json`] (called once by `lib::main`, after the command returned) adds
//! `"schema"`, `"ok"` and, on an error, `"error"`, and prints exactly one document, also
//! when the command failed before it produced any. So no outcome leaves stdout empty.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use serde_json::{json, Value};

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
}

impl CheckFormat {
    /// The format of everything but the JUnit report itself.
    pub fn base(self) -> OutputFormat {
        match self {
            CheckFormat::Json => OutputFormat::Json,
            CheckFormat::Human | CheckFormat::Junit => OutputFormat::Human,
        }
    }
}

/// The version of every JSON document's shape; bumped only when a documented key changes
/// meaning or disappears.
pub const JSON_SCHEMA: u64 = 1;

/// The document a command produced, printed by [`finish_json`].
static PENDING: Mutex<Option<Value>> = Mutex::new(None);

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
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && terminal
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

    /// Whether a report table should shrink to its failing rows (`-q`, human output only:
    /// JSON is never reduced).
    pub fn terse(&self, format: OutputFormat) -> bool {
        self.quiet && format == OutputFormat::Human
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

/// A table with toolctl's look: header row, no colour. On a terminal it fits the width
/// (`COLUMNS`, else the terminal's), wrapping the long columns (`detail`, `hint`, `value`,
/// `file`, `problem`); off a terminal every row stays one whole line, for grep.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied());
    match terminal_width() {
        Some(width) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
            for (i, name) in header.iter().enumerate() {
                if !WRAPPED.contains(name) {
                    if let Some(c) = t.column_mut(i) {
                        c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                    }
                }
            }
        }
        None => {
            t.load_preset(presets::ASCII_MARKDOWN)
                .set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// The columns that wrap on a narrow terminal; the others keep their content's width.
const WRAPPED: &[&str] = &[
    "detail", "hint", "value", "file", "problem", "source", "state",
];

/// The width of the terminal on stdout, or `None` off a terminal.
fn terminal_width() -> Option<u16> {
    let out = std::io::stdout();
    if !out.is_terminal() {
        return None;
    }
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0)
    {
        return Some(cols);
    }
    Some(crate::sys::term::stdout_columns().unwrap_or(80))
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

/// Hands the command's JSON document over; [`finish_json`] completes and prints it. A
/// command produces at most one: a second one replaces the first.
pub fn emit_json(value: &Value) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
}

/// Prints the one JSON document of this run: the command's, with `"schema"` and `"ok"`
/// (and `"error"` when it failed), or, when it failed before producing one, a document of
/// those keys alone. `json` says whether JSON was asked for; without it nothing is printed
/// unless a command produced a document anyway.
pub fn finish_json(json: bool, ok: bool, error: Option<Value>) {
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut doc = match pending {
        Some(Value::Object(map)) => map,
        Some(other) => {
            let mut map = serde_json::Map::new();
            map.insert("data".into(), other);
            map
        }
        None if json => serde_json::Map::new(),
        None => return,
    };
    doc.insert("schema".into(), json!(JSON_SCHEMA));
    doc.insert("ok".into(), json!(ok));
    if let Some(e) = error {
        doc.insert("error".into(), e);
    }
    let mut s = serde_json::to_string_pretty(&Value::Object(doc)).expect("JSON values serialize");
    s.push('\n');
    emit(&s);
}
