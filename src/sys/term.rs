//! The terminal: whether a stream is one, and text from elsewhere made safe to show on it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `bytes` with every control byte (C0 except tab, DEL, and the C1 range when it forms a
/// UTF-8 character) shown as a `\x1b`-style escape, so that text a server, a file name or a
/// log line brings cannot move the cursor, set the title, clear the screen or write the
/// clipboard (OSC 52). Invalid UTF-8 is shown as `\xNN` too. Newlines are escaped unless
/// `keep_newlines`.
pub fn escape_controls(bytes: &[u8], keep_newlines: bool) -> Cow<'_, str> {
    let clean = |c: char| !(c.is_control() && c != '\t' && !(keep_newlines && c == '\n'));
    if let Ok(s) = std::str::from_utf8(bytes) {
        if s.chars().all(clean) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if clean(c) {
                out.push(c);
            } else if (c as u32) < 0x100 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] for a `&str` on one line (newlines escaped too).
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape_controls(s.as_bytes(), false)
}

/// The width of the terminal on stdout (`TIOCGWINSZ`), or `None` when stdout is not a
/// terminal or says 0.
pub fn stdout_columns() -> Option<u16> {
    rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .map(|ws| ws.ws_col)
        .filter(|c| *c > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_never_pass() {
        assert_eq!(one_line("plain text\tok"), "plain text\tok");
        assert_eq!(one_line("a\x1b]0;title\x07b"), "a\\x1b]0;title\\x07b");
        assert_eq!(one_line("x\ry\n"), "x\\x0dy\\x0a");
        assert_eq!(escape_controls(b"l1\nl2\x9b", true), "l1\nl2\\x9b");
        assert_eq!(one_line("\u{9b}31m"), "\\x9b31m");
        assert_eq!(one_line("caf\u{e9}"), "café");
    }
}

/// ANSI styling for stderr, or none (`--color`, `NO_COLOR`, `TERM=dumb`, a terminal).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when `choice` asks for it (`Some(true)` always, `Some(false)` never), or, with
    /// `None` (auto), when the stream is a terminal and `NO_COLOR` is unset.
    pub fn new(choice: Option<bool>, terminal: bool) -> Self {
        let color = match choice {
            Some(always) => always,
            None => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && terminal
            }
        };
        Style { color }
    }

    /// The style of messages on stderr.
    pub fn for_stderr(choice: Option<bool>) -> Self {
        use std::io::IsTerminal;
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

/// The width of the terminal on stdout (`COLUMNS` first, else the terminal's, else 80), or
/// `None` when stdout is not a terminal.
pub fn stdout_width() -> Option<u16> {
    width_of(&std::io::stdout())
}

/// The width of the terminal on stderr (`COLUMNS` first, else the terminal's, else 80),
/// or `None` when stderr is not a terminal.
pub fn stderr_width() -> Option<u16> {
    width_of(&std::io::stderr())
}

fn width_of<F: std::io::IsTerminal + std::os::fd::AsFd>(f: &F) -> Option<u16> {
    if !f.is_terminal() {
        return None;
    }
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0)
    {
        return Some(cols);
    }
    let cols = rustix::termios::tcgetwinsize(f)
        .map(|ws| ws.ws_col)
        .unwrap_or(0);
    Some(if cols > 0 { cols } else { 80 })
}
