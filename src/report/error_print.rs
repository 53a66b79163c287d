//! The `error:` / `Caused by:` / `hint:` lines of an [`Error`] on stderr.
//!
//! Printing an error is the report's job, not the error's: `crate::error` uses nothing of
//! the crate (so that `sys`, which returns it, does not depend on a module that depends on
//! `sys`), and the styles and the escaping of control bytes live in `sys::term`.

use std::io::Write;

use crate::error::Error;
use crate::sys::term::{escape_controls, Style};

/// Prints an error on stderr.
pub trait PrintError {
    /// Prints the error on stderr in the `error:` / `Caused by:` / `hint:` shape. A cause
    /// may quote a server or a client program (PostgreSQL's error text): control bytes are
    /// shown escaped (`\x1b`), so that none reaches the terminal; newlines stay.
    fn print(&self, style: Style);
}

impl PrintError for Error {
    fn print(&self, style: Style) {
        let shown = |t: &str| escape_controls(t.as_bytes(), true).into_owned();
        let fit = super::table::fit_stderr;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}",
            fit(&format!(
                "{} {}",
                style.error("error:"),
                shown(self.message())
            ))
        );
        for cause in self.causes() {
            let _ = writeln!(
                err,
                "{}",
                fit(&format!("  {} {}", style.bold("Caused by:"), shown(cause)))
            );
        }
        if let Some(hint) = self.hint_text() {
            let _ = writeln!(
                err,
                "\n{}",
                fit(&format!("{} {}", style.hint("hint:"), shown(hint)))
            );
        }
    }
}
