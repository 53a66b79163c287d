//! The one writer of `tail`'s stdout: whole lines, headers or prefixes, `--grep`, colour.
//!
//! Owns everything that reaches stdout. It is handed *complete* lines of one source at a
//! time (the follower holds partial lines back), so lines are never split or glued, and it
//! works on bytes: non-UTF-8 logs pass through unchanged. It buffers and writes only when
//! the buffer fills or the follower calls [`Output::flush`] on going idle, so a busy log
//! costs one `write(2)` per buffer, not per line. It must not read files or decide when
//! to flush: that is the follower's job.
//!
//! On a terminal (unless `--raw`) the lines' control bytes are shown as `\x1b`-style
//! escapes, tabs and newlines kept, so a log line cannot set the title, clear the screen,
//! write the clipboard (OSC 52) or overwrite what was shown (CR, erase). Into a pipe or a
//! file, lines stay byte-exact. Labels come escaped from the follower.
//!
//! A partial line that is flushed after the idle timeout leaves the output "open" on that
//! source: if the same source continues the line, the rest is appended where it stopped;
//! if another source speaks first, a newline closes it so nothing is glued.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;

use regex::bytes::Regex;

/// ANSI colours given to files in turn with `--prefix` on a terminal.
const PALETTE: &[&[u8]] = &[
    b"\x1b[36m",
    b"\x1b[33m",
    b"\x1b[35m",
    b"\x1b[32m",
    b"\x1b[34m",
    b"\x1b[31m",
    b"\x1b[1;36m",
    b"\x1b[1;33m",
    b"\x1b[1;35m",
    b"\x1b[1;32m",
];
const RESET: &[u8] = b"\x1b[0m";
const BUFFER: usize = 256 * 1024;

/// Who a chunk of output comes from.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// Changes whenever the file or its name changes, so a header is printed again.
    pub id: u64,
    /// The path shown in headers and prefixes.
    pub label: &'a [u8],
    /// An index into the palette.
    pub color: usize,
}

/// How lines are shown.
#[derive(Clone, Debug, Default)]
pub struct Format {
    /// `==> path <==` when the source changes (several files may be followed).
    pub headers: bool,
    /// `path: ` in front of every line instead of headers.
    pub prefix: bool,
    /// Colour the prefixes (stdout is a terminal and colour is allowed).
    pub color: bool,
    /// Print only lines that match.
    pub grep: Option<Regex>,
    /// Show control bytes of the lines as `\x1b`-style escapes (tabs and newlines kept):
    /// on a terminal unless `--raw`, so that a log line cannot drive the terminal.
    pub escape: bool,
}

/// Buffered stdout with the state needed to keep lines whole.
pub struct Output {
    out: BufWriter<File>,
    format: Format,
    /// The source of the last bytes written.
    current: Option<u64>,
    /// The last bytes written were a partial line of `current`.
    open_line: bool,
    wrote_header: bool,
}

impl Output {
    /// Writes to a duplicate of this process's stdout, bypassing `std`'s line buffering
    /// (which would cost a `write(2)` per line).
    pub fn stdout(format: Format) -> io::Result<Output> {
        let file = File::from(io::stdout().as_fd().try_clone_to_owned()?);
        Ok(Output {
            out: BufWriter::with_capacity(BUFFER, file),
            format,
            current: None,
            open_line: false,
            wrote_header: false,
        })
    }

    /// Writes complete lines (`data` ends with `\n`) of one source. `continued` says the
    /// first line's beginning was already written by [`Output::partial`].
    pub fn lines(&mut self, src: Source<'_>, mut data: &[u8], continued: bool) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if continued && self.open_line && self.current == Some(src.id) {
            let end = memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1);
            self.body(&data[..end])?;
            self.open_line = false;
            data = &data[end..];
        }
        if self.format.grep.is_none() && !self.format.prefix {
            if !data.is_empty() {
                self.switch_to(src)?;
                self.body(data)?;
            }
            return Ok(());
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', data) {
            self.line(src, &data[start..=end])?;
            start = end + 1;
        }
        if start < data.len() {
            self.line(src, &data[start..])?;
        }
        Ok(())
    }

    /// Writes a line that has not ended yet (flushed after the idle timeout), without a
    /// newline; the output stays open on `src` until the line goes on or another source
    /// speaks.
    pub fn partial(&mut self, src: Source<'_>, data: &[u8]) -> io::Result<()> {
        if self.open_line && self.current == Some(src.id) {
            return self.body(data);
        }
        if data.is_empty() || !self.matches(data) {
            return Ok(());
        }
        self.switch_to(src)?;
        if self.format.prefix {
            self.write_prefix(src)?;
        }
        self.body(data)?;
        self.open_line = true;
        Ok(())
    }

    /// Turns `==> path <==` headers on or off.
    pub fn set_headers(&mut self, on: bool) {
        self.format.headers = on;
    }

    /// Sends everything buffered to stdout.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn matches(&self, line: &[u8]) -> bool {
        match &self.format.grep {
            None => true,
            Some(re) => {
                let body = line.strip_suffix(b"\n").unwrap_or(line);
                re.is_match(body)
            }
        }
    }

    /// One line, with or without its newline.
    fn line(&mut self, src: Source<'_>, line: &[u8]) -> io::Result<()> {
        if !self.matches(line) {
            return Ok(());
        }
        self.switch_to(src)?;
        if self.format.prefix {
            self.write_prefix(src)?;
        }
        self.body(line)
    }

    /// Bytes of a log, escaped when [`Format::escape`] says so.
    fn body(&mut self, data: &[u8]) -> io::Result<()> {
        if self.format.escape {
            let shown = crate::sys::term::escape_controls(data, true);
            self.out.write_all(shown.as_bytes())
        } else {
            self.out.write_all(data)
        }
    }

    fn write_prefix(&mut self, src: Source<'_>) -> io::Result<()> {
        if self.format.color {
            self.out.write_all(PALETTE[src.color % PALETTE.len()])?;
            self.out.write_all(src.label)?;
            self.out.write_all(RESET)?;
        } else {
            self.out.write_all(src.label)?;
        }
        self.out.write_all(b": ")
    }

    /// Closes a partial line of another source and prints a header when the source
    /// changes, as `tail` does (a blank line before every header but the first).
    fn switch_to(&mut self, src: Source<'_>) -> io::Result<()> {
        if self.current == Some(src.id) {
            return Ok(());
        }
        if self.open_line {
            self.out.write_all(b"\n")?;
            self.open_line = false;
        }
        if self.format.headers && !self.format.prefix {
            if self.wrote_header {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"==> ")?;
            self.out.write_all(src.label)?;
            self.out.write_all(b" <==\n")?;
            self.wrote_header = true;
        }
        self.current = Some(src.id);
        Ok(())
    }
}
