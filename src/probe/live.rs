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

/// One probe's live output.
#[derive(Clone)]
pub struct Live {
    mode: Mode,
    label: String,
    masker: Masker,
}

impl Live {
    pub fn new(label: &str, masker: Masker) -> Live {
        Live {
            mode: MODE.get().copied().unwrap_or_default(),
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
