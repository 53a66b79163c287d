//! What a probe shows while it runs, on stderr: each step's row as it ends and the step
//! being waited on (on a terminal, human output only), and with `-v` the protocol
//! transcript (client `C:` and server `S:` lines, masked). `check` runs probes
//! concurrently, so there each line is labelled by its probe and no waiting line is drawn.
//! Server text is shown with its control bytes escaped (`\x1b`): none reaches the terminal.
//!
//! The choice is made once per command ([`init`]) and picked up by every [`super::Probe`]
//! it builds. Every line written here has gone through the probe's masker first.

use std::io::Write;
use std::sync::OnceLock;

use super::mask::{self, Masker};
use super::Step;
use crate::sys::term::one_line;

/// How this command shows probes while they run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    /// Rows on stderr as each step ends (stderr is a terminal, human output, not `-q`).
    pub progress: bool,
    /// `-v`: the protocol transcript on stderr.
    pub transcript: bool,
    /// Several probes at once (`toolctl check`): lines are labelled, no waiting line.
    pub concurrent: bool,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Whether the steps' rows are shown as they end (on a terminal: they are the table).
pub fn progress() -> bool {
    MODE.get().is_some_and(|m| m.progress)
}

/// Sets the mode for the probes this command builds (the first call wins).
pub fn init(mode: Mode) {
    let _ = MODE.set(mode);
}

/// Several probes on a terminal without `-v`: one line per probe, redrawn in place as its
/// steps end (so three probes take three lines, not forty); a step that needs attention is
/// printed above the lines, whole, with its hint. [`clear`] erases the lines before the
/// verdicts are printed.
#[derive(Default)]
struct Board {
    /// Each probe's label and its line.
    lines: Vec<(String, String)>,
    /// How many lines are on the screen now (the cursor is below them).
    drawn: usize,
}

static BOARD: std::sync::Mutex<Board> = std::sync::Mutex::new(Board {
    lines: Vec::new(),
    drawn: 0,
});

fn board() -> std::sync::MutexGuard<'static, Board> {
    BOARD.lock().unwrap_or_else(|e| e.into_inner())
}

impl Board {
    /// Moves up over the drawn lines and erases them (the cursor ends where they began).
    fn erase(&mut self) -> String {
        let mut s = String::new();
        if self.drawn > 0 {
            s.push_str(&format!("\x1b[{}A\r\x1b[J", self.drawn));
        }
        self.drawn = 0;
        s
    }

    /// Erases, writes `above` (lines that stay), then draws the probes' lines again, each
    /// cut to the width so that none wraps.
    fn redraw(&mut self, above: &str) -> String {
        let width = crate::sys::term::stderr_width().map_or(80, usize::from);
        let label_width = self
            .lines
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let mut s = self.erase();
        s.push_str(above);
        for (label, line) in &self.lines {
            let full = format!("{label:<label_width$}  {line}");
            s.push_str(&mask::cut(&full, width.saturating_sub(2).max(20)));
            s.push('\n');
        }
        self.drawn = self.lines.len();
        s
    }
}

/// Erases the probes' lines of a concurrent check (before the verdicts take their place).
pub fn clear() {
    let mode = MODE.get().copied().unwrap_or_default();
    if !board_mode(mode) {
        return;
    }
    let s = board().erase();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes());
    let _ = err.flush();
}

/// Whether the probes share a redrawn board: several on a terminal, no transcript.
fn board_mode(mode: Mode) -> bool {
    mode.progress && mode.concurrent && !mode.transcript
}

/// One probe's live output.
#[derive(Clone)]
pub struct Live {
    mode: Mode,
    label: String,
    masker: Masker,
}

impl Live {
    pub fn new(label: &str, masker: Masker) -> Live {
        let mode = MODE.get().copied().unwrap_or_default();
        if board_mode(mode) {
            let mut b = board();
            if !b.lines.iter().any(|(l, _)| l == label) {
                b.lines.push((label.to_string(), "…".into()));
                let s = b.redraw("");
                drop(b);
                std::io::stderr().lock().write_all(s.as_bytes()).ok();
            }
        }
        Live {
            mode,
            label: label.to_string(),
            masker,
        }
    }

    fn prefix(&self) -> String {
        if self.mode.concurrent {
            format!("{}: ", self.label)
        } else {
            String::new()
        }
    }

    fn write(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// The step now waited on (a single probe on a terminal only).
    pub fn waiting(&self, step: &str) {
        if self.mode.progress && !self.mode.concurrent {
            self.write(&format!("\r\x1b[K  {step} …"));
        }
    }

    /// A step's row, once it has ended: one line cut to the terminal's width when the
    /// step passed, the whole detail and its hint wrapped to it when it needs attention
    /// (on a terminal these rows are the table: the final report then prints only the
    /// verdicts).
    pub fn row(&self, s: &Step) {
        if !self.mode.progress {
            return;
        }
        let width = crate::sys::term::stderr_width().map_or(80, usize::from);
        let time = if s.elapsed.is_zero() {
            String::new()
        } else {
            format!(" {} ms", s.elapsed.as_millis())
        };
        if board_mode(self.mode) {
            return self.board_row(s);
        }
        let clear = if self.mode.concurrent { "" } else { "\r\x1b[K" };
        let detail = one_line(&self.masker.apply(&s.detail)).into_owned();
        let line = format!(
            "{}{:<8} {:<7}{time}  {detail}",
            self.prefix(),
            one_line(&s.name),
            s.status.label(),
        );
        let text = match s.status {
            super::Status::Ok | super::Status::Skipped => {
                mask::cut(&line, width.saturating_sub(1).max(20))
            }
            _ => {
                let mut text = line;
                if let Some(h) = &s.hint {
                    let hint = one_line(&self.masker.apply(h)).into_owned();
                    text.push_str(&format!("\n  hint: {hint}"));
                }
                crate::sys::wrap::fit(&text, width)
            }
        };
        self.write(&format!("{clear}{text}\n"));
    }

    /// A step's end on the board: the probe's line says how far it got; a step that needs
    /// attention is written above the lines, whole, with its hint.
    fn board_row(&self, s: &Step) {
        let width = crate::sys::term::stderr_width().map_or(80, usize::from);
        let mut b = board();
        let attention = !matches!(s.status, super::Status::Ok | super::Status::Skipped);
        let above = if attention {
            let mut text = format!(
                "{}: {} {}  {}",
                self.label,
                one_line(&s.name),
                s.status.label(),
                one_line(&self.masker.apply(&s.detail))
            );
            if let Some(h) = &s.hint {
                text.push_str(&format!("\n  hint: {}", one_line(&self.masker.apply(h))));
            }
            format!("{}\n", crate::sys::wrap::fit(&text, width))
        } else {
            String::new()
        };
        let time = if s.elapsed.is_zero() {
            String::new()
        } else {
            format!(" ({} ms)", s.elapsed.as_millis())
        };
        let line = format!("{} {}{time}", one_line(&s.name), s.status.label());
        if let Some(entry) = b.lines.iter_mut().find(|(l, _)| *l == self.label) {
            entry.1 = line;
        }
        let out = b.redraw(&above);
        drop(b);
        self.write(&out);
    }

    /// Whether the transcript is on.
    pub fn transcript(&self) -> bool {
        self.mode.transcript
    }

    /// One transcript line: `C:` what toolctl sent, `S:` what the server answered.
    pub fn line(&self, from_client: bool, text: &str) {
        if !self.mode.transcript {
            return;
        }
        let who = if from_client { "C" } else { "S" };
        let clear = if self.mode.progress && !self.mode.concurrent {
            "\r\x1b[K"
        } else {
            ""
        };
        let text = mask::cut(&one_line(&self.masker.apply(text)), 300);
        self.write(&format!("{clear}{}{who}: {text}\n", self.prefix()));
    }

    /// Clears the waiting line when the probe is done.
    pub fn done(&self) {
        if self.mode.progress && !self.mode.concurrent {
            self.write("\r\x1b[K");
        }
    }
}
