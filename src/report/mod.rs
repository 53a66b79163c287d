//! What a command has to say, and the one place it is said.
//!
//! Every command of `app` does its work and returns a [`Report`]: an exit status,
//! sections for people (tables, text, the checks' rows), notes for stderr, and a payload
//! for machines (typed structs deriving `Serialize`, never `Debug` text). `main` renders
//! it once, after the work is done, in the asked [`Format`]: a table (human), `-q`'s
//! shorter table, one JSON document, or JUnit XML.
//!
//! The JSON contract lives here: one document on every outcome, the payload's keys plus
//! `"schema"`, `"ok"` and, when the command failed, `"error"` (`message`, `causes`,
//! `hint`). A command that failed before it produced anything still gets a document of
//! those keys alone, so no outcome leaves stdout empty.
//!
//! Work first, output after: a closed stdout (`… | head`, `… | true`) ends the output,
//! never the work. On `EPIPE` the renderer stops writing and the run still exits with the
//! work's status.
//!
//! The exceptions, which write as they go because their output *is* the work's progress
//! or its interaction:
//! - `tail` streams the logs (its own writer, which ends on a closed stdout);
//! - the live probe rows and `-v` transcript of `check` on a terminal (stderr; the final
//!   table or document is still this report);
//! - `servicedesk-email verify`'s waiting line (stderr, on a terminal);
//! - `secret edit`'s editor session and `mattermost restore`'s confirmation (the terminal),
//!   with the warnings that bear on them printed before (the store's, the recovery's), and
//!   `mattermost backup --verify`'s warning before its trial restore runs the archive's SQL;
//! - `secret show`'s plaintext, written as raw bytes (never through a table).
//!
//! Notes are collected, not printed as they come: [`Report::build`] keeps them when the
//! work ends in an error, and [`Report::noting`] turns a lower module's notices into notes
//! in order.
//!
//! Colour and verbosity for stderr are the [`Printer`]'s: modules below `app` never
//! print; they hand back [`Notice`]s (see [`crate::sys::notice`]) that the printer shows.
//! Tables go through comfy-table with no colour of their own, so they read the same in a
//! pipe, a log and a terminal; on a terminal they are fitted to its width. Nothing here may
//! format a secret.

pub mod checks;
mod error_print;
pub mod prometheus;
pub mod table;

pub use error_print::PrintError;
pub use table::Table;

use std::io::Write;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, ExitStatus};
pub use crate::sys::notice::{Notice, Notify};
pub use crate::sys::term::Style;

/// The version of every JSON document's shape; bumped only when a documented key changes
/// meaning or disappears.
pub const JSON_SCHEMA: u64 = 1;

/// How a report is rendered on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Tables and text for people.
    #[default]
    Table,
    /// `-q`: the checks shrink to their failing rows (nothing when all passed).
    Quiet,
    /// One JSON document with stable keys.
    Json,
    /// JUnit XML of the checks, one testcase per step.
    Junit,
    /// The checks as Prometheus gauges (text exposition format 0.0.4).
    Prometheus,
}

/// One part of the human output, in order.
#[derive(Debug)]
pub enum Section {
    /// Printed as it is (a table already laid out, a path, a diff).
    Text(String),
    /// The checks' reports: one table per check, `-q`'s failing rows, or JUnit XML.
    Checks(Vec<checks::Check>),
}

/// What a command did: its status, what people read, what machines read.
#[derive(Debug, Default)]
pub struct Report {
    pub status: ExitStatus,
    pub sections: Vec<Section>,
    /// Shown on stderr after the sections (warnings even with `-q`).
    pub notes: Vec<Notice>,
    /// The JSON document's own keys (an object).
    pub payload: Option<Map<String, Value>>,
    /// The error the command ended with after it had something to report (the document
    /// keeps its keys and gains `"error"`).
    pub error: Option<Error>,
    /// Gauges the checks measured beyond their rows (certificate expiry, unseen mail,
    /// mail_room's heartbeat), for [`Format::Prometheus`].
    pub measures: Vec<crate::model::outcome::Measure>,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }

    /// Runs `work` on a new report. An error ends the report without losing what it had
    /// collected: its notes (a recovered journal, say) are shown before the error, as they
    /// would have been had they been printed at once.
    pub fn build(work: impl FnOnce(&mut Report) -> Result<(), Error>) -> Report {
        let mut report = Report::new();
        match work(&mut report) {
            Ok(()) => report,
            Err(e) => report.fail(e),
        }
    }

    pub fn with_status(mut self, status: ExitStatus) -> Report {
        self.status = status;
        self
    }

    /// Text for people, printed as it is.
    pub fn text(&mut self, text: impl Into<String>) {
        self.sections.push(Section::Text(text.into()));
    }

    /// A table, on lines of its own.
    pub fn table(&mut self, table: &Table) {
        self.text(format!("{table}\n"));
    }

    /// The checks whose rows were shown live on the terminal stdout shares: only their
    /// verdict lines (the JSON payload is the same).
    pub fn checks_shown_live(&mut self, checks: Vec<checks::Check>) {
        self.set_payload(&checks::Document::of(&checks));
        self.text(checks::verdicts(&checks));
    }

    /// The checks' reports (their exit rule is [`checks::exit_status`]).
    pub fn checks(&mut self, checks: Vec<checks::Check>) {
        self.set_payload(&checks::Document::of(&checks));
        self.sections.push(Section::Checks(checks));
    }

    /// The JSON document's keys, from a typed value (a struct deriving `Serialize`). A
    /// value that is not an object is kept under `"data"`.
    pub fn set_payload<T: Serialize + ?Sized>(&mut self, payload: &T) {
        let value = serde_json::to_value(payload).expect("report payloads serialize");
        self.payload = Some(match value {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("data".into(), other);
                map
            }
        });
    }

    /// Runs `f` with a notifier whose notices become this report's notes, in order (for a
    /// module below `app` that says what it did: created a key, recovered a journal).
    pub fn noting<T>(&mut self, f: impl FnOnce(&dyn Notify) -> T) -> T {
        let collected = crate::sys::notice::Collect::default();
        let result = f(&collected);
        self.notes.extend(collected.0.into_inner());
        result
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.notes.push(Notice::Info(msg.into()));
    }

    pub fn warn(&mut self, msg: impl Into<String>) {
        self.notes.push(Notice::Warn(msg.into()));
    }

    /// Ends the report with an error: what was built is still rendered, and the JSON
    /// document gains `"error"`.
    pub fn fail(mut self, error: Error) -> Report {
        self.status = error.status();
        self.error = Some(error);
        self
    }
}

/// Where a command reports on stderr: verbosity and style.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub style: Style,
    /// `--color`: `Some(true)` always, `Some(false)` never, `None` auto (for commands that
    /// colour stdout: `tail --prefix`).
    pub color: Option<bool>,
    pub quiet: bool,
    pub verbose: u8,
}

impl Printer {
    /// A progress or result note on stderr, unless `-q`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{}", table::fit_stderr(msg.as_ref()));
        }
    }

    /// A warning on stderr; shown even with `-q`, which silences only chatter.
    pub fn warn(&self, msg: impl AsRef<str>) {
        let text = format!("{} {}", self.style.warning("warning:"), msg.as_ref());
        let _ = writeln!(std::io::stderr(), "{}", table::fit_stderr(&text));
    }
}

impl Notify for Printer {
    fn notify(&self, notice: Notice) {
        match notice {
            Notice::Info(m) => Printer::info(self, m),
            Notice::Warn(m) => Printer::warn(self, m),
        }
    }
}

/// A table with toolctl's look: header row, no colour. On a terminal it fits the width
/// (`COLUMNS`, else the terminal's) and turns vertical rather than squeeze a column below
/// [`table::MIN_COLUMN`]; off a terminal every row stays one whole line, for grep.
pub fn table(header: &[&str]) -> Table {
    Table::new(header)
}

/// stdout for a report: once a write meets a closed pipe, the rest is dropped.
pub struct Out<W: Write> {
    w: W,
    closed: bool,
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Self {
        Out { w, closed: false }
    }

    /// Writes `text`, unless the reader has gone; other write errors are ignored too (the
    /// work is done: its status, not stdout's, is the exit code).
    pub fn write(&mut self, text: &str) {
        if self.closed {
            return;
        }
        if let Err(e) = self
            .w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.flush())
        {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.closed = true;
            }
        }
    }

    /// Whether a write met a closed pipe.
    pub fn closed(&self) -> bool {
        self.closed
    }
}

/// Renders the outcome of a command on stdout (and its notes and error on stderr) and
/// returns the exit status: the work's, whatever happened to stdout.
pub fn render(outcome: Result<Report, Error>, format: Format, printer: &Printer) -> ExitStatus {
    let mut report = match outcome {
        Ok(report) => report,
        Err(e) => Report::new().fail(e),
    };
    let error = report.error.take();
    let status = error.as_ref().map_or(report.status, Error::status);
    let mut out = Out::new(std::io::stdout().lock());
    render_to(&mut out, &report, format, status, error.as_ref());
    drop(out);
    for n in report.notes {
        printer.notify(n);
    }
    if let Some(e) = &error {
        e.print(printer.style);
    }
    status
}

/// The stdout part of [`render`].
pub fn render_to<W: Write>(
    out: &mut Out<W>,
    report: &Report,
    format: Format,
    status: ExitStatus,
    error: Option<&Error>,
) {
    match format {
        Format::Json => out.write(&document(report.payload.clone(), status, error)),
        Format::Prometheus => out.write(&prometheus::render(report, unix_now(), &[])),
        // JUnit is always a document: a check that could not start is one `<testcase>`
        // with its `<error>`.
        Format::Junit
            if !report
                .sections
                .iter()
                .any(|s| matches!(s, Section::Checks(_))) =>
        {
            out.write(&checks::junit_error(error));
        }
        Format::Table | Format::Quiet | Format::Junit => {
            for section in &report.sections {
                match section {
                    Section::Text(t) => out.write(t),
                    Section::Checks(c) => out.write(&checks::render(c, format)),
                }
            }
        }
    }
}

/// Now, in Unix seconds (to the millisecond).
pub fn unix_now() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

/// The one JSON document: the payload's keys, `"schema"`, `"ok"` and, on an error,
/// `"error"`.
pub fn document(
    payload: Option<Map<String, Value>>,
    status: ExitStatus,
    error: Option<&Error>,
) -> String {
    let mut doc = payload.unwrap_or_default();
    doc.insert("schema".into(), json!(JSON_SCHEMA));
    doc.insert("ok".into(), json!(status == ExitStatus::Success));
    if let Some(e) = error {
        doc.insert("error".into(), e.to_json());
    }
    let mut s = serde_json::to_string_pretty(&Value::Object(doc)).expect("JSON values serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct Closed(usize);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_not_the_run() {
        let mut r = Report::new();
        r.text("one\n");
        r.text("two\n");
        let mut out = Out::new(Closed(0));
        render_to(&mut out, &r, Format::Table, ExitStatus::Success, None);
        assert!(out.closed());
        // The first write met the closed pipe; the second was not tried.
        assert_eq!(out.w.0, 1);
    }

    #[test]
    fn a_failed_build_keeps_its_notes_before_the_error() {
        let r = Report::build(|out| {
            out.noting(|n| n.warn("recovered a journal".into()));
            out.info("then this");
            Err(Error::new("boom"))
        });
        assert_eq!(
            r.notes,
            vec![
                Notice::Warn("recovered a journal".into()),
                Notice::Info("then this".into())
            ]
        );
        assert_eq!(r.status, ExitStatus::Error);
        assert!(r.error.is_some() && r.payload.is_none());
    }

    #[test]
    fn junit_is_a_document_when_the_check_could_not_start() {
        let e = Error::new("cannot read <the> settings").hint("run it as root");
        let mut out = Out::new(Vec::new());
        render_to(
            &mut out,
            &Report::new(),
            Format::Junit,
            ExitStatus::Error,
            Some(&e),
        );
        let x = String::from_utf8(out.w).unwrap();
        assert!(x.starts_with("<?xml"), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 1, "{x}");
        assert!(
            x.contains("<error message=\"cannot read &lt;the&gt; settings\""),
            "{x}"
        );
        assert!(x.contains("hint: run it as root"), "{x}");
        assert!(x.contains("errors=\"1\""), "{x}");
    }

    #[test]
    fn every_document_has_schema_ok_and_the_error() {
        #[derive(Serialize)]
        struct P {
            changed: usize,
        }
        let mut r = Report::new();
        r.set_payload(&P { changed: 2 });
        let doc: Value =
            serde_json::from_str(&document(r.payload.clone(), ExitStatus::Success, None)).unwrap();
        assert_eq!(doc["changed"], 2);
        assert_eq!(doc["schema"], JSON_SCHEMA);
        assert_eq!(doc["ok"], true);
        let e = Error::new("boom").hint("fix it");
        let doc: Value =
            serde_json::from_str(&document(None, ExitStatus::Error, Some(&e))).unwrap();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["error"]["message"], "boom");
        assert_eq!(doc["error"]["hint"], "fix it");
    }
}
