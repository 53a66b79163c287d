//! toolctl's tables: measured, fitted to the terminal, and never collapsed.
//!
//! Off a terminal every row is one whole line (a Markdown-like table, for grep). On a
//! terminal each column is measured: the columns keep their content's width when they
//! fit; else the widest shrink, wrapped at word boundaries (paths and keys at `/` and
//! `.`), while every column keeps at least [`MIN_COLUMN`] characters (or its content's
//! width, when narrower). When even that cannot fit, the table turns vertical: one block
//! per record, `key: value` lines wrapped to the terminal, as `kubectl describe` does.
//! A word longer than its room (a public key) is cut anywhere, never narrower than
//! [`MIN_COLUMN`] characters a line.

use std::fmt;

use comfy_table::{presets, ContentArrangement};

pub use crate::sys::wrap::{fit, len, wrap};

/// The narrowest a wrapped column may get on a terminal.
pub const MIN_COLUMN: usize = 12;

/// A table: a header and rows of cells, laid out when displayed.
#[derive(Clone, Debug)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The terminal's width; `None` off a terminal.
    width: Option<usize>,
}

impl Table {
    /// A table laid out for stdout (fitted to it when it is a terminal).
    pub fn new(header: &[&str]) -> Table {
        Table::for_width(header, crate::sys::term::stdout_width().map(usize::from))
    }

    /// A table for a terminal of `width` columns, or for a pipe (`None`).
    pub fn for_width(header: &[&str], width: Option<usize>) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            width,
        }
    }

    pub fn add_row<I, S>(&mut self, row: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = row.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The whole-line table of a pipe.
    fn flat(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::ASCII_MARKDOWN)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(self.header.iter());
        for r in &self.rows {
            t.add_row(r.iter());
        }
        t.to_string()
    }

    /// The columns' widths on a terminal of `width` columns, or `None` when they cannot
    /// all have their readable minimum (the table turns vertical).
    fn widths(&self, width: usize) -> Option<Vec<usize>> {
        let n = self.header.len();
        // `│ a ┆ b │`: a bar and a space each side of every cell, the bars shared.
        let room = width.checked_sub(3 * n + 1)?;
        let natural: Vec<usize> = (0..n)
            .map(|i| {
                std::iter::once(&self.header[i])
                    .chain(self.rows.iter().map(|r| &r[i]))
                    .flat_map(|c| c.lines())
                    .map(len)
                    .max()
                    .unwrap_or(0)
                    .max(1)
            })
            .collect();
        let minimum: Vec<usize> = natural.iter().map(|w| (*w).min(MIN_COLUMN)).collect();
        if minimum.iter().sum::<usize>() > room {
            return None;
        }
        if natural.iter().sum::<usize>() <= room {
            return Some(natural);
        }
        // Water-filling: the columns narrower than a fair share keep their width; the
        // others share what is left equally (never below the minimum).
        let mut widths = natural.clone();
        let mut open: Vec<usize> = (0..n).collect();
        let mut left = room;
        loop {
            let share = left / open.len().max(1);
            let (keep, shrink): (Vec<usize>, Vec<usize>) =
                open.iter().partition(|&&i| natural[i] <= share);
            if keep.is_empty() {
                for &i in &shrink {
                    widths[i] = share.max(minimum[i]);
                }
                let used: usize = shrink.iter().map(|&i| widths[i]).sum();
                let mut extra = left.saturating_sub(used);
                for &i in &shrink {
                    if extra > 0 && widths[i] < natural[i] {
                        widths[i] += 1;
                        extra -= 1;
                    }
                }
                break;
            }
            for &i in &keep {
                widths[i] = natural[i];
                left -= natural[i];
            }
            open = shrink;
            if open.is_empty() {
                break;
            }
        }
        Some(widths)
    }

    /// The table on a terminal: columns when they fit at a readable width, else blocks.
    fn fitted(&self, width: usize) -> String {
        match self.widths(width) {
            Some(widths) => self.columns(&widths),
            None => self.blocks(width),
        }
    }

    fn columns(&self, widths: &[usize]) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        let cells = |row: &[String]| -> Vec<String> {
            row.iter()
                .zip(widths)
                .map(|(c, w)| wrap(c, *w).join("\n"))
                .collect()
        };
        t.set_header(cells(&self.header));
        for r in &self.rows {
            t.add_row(cells(r));
        }
        t.to_string()
    }

    /// One block per record: `key: value`, the values wrapped and indented under
    /// themselves, a blank line between the blocks. Empty cells are left out.
    fn blocks(&self, width: usize) -> String {
        let key = self.header.iter().map(|h| len(h)).max().unwrap_or(0) + 2;
        // A value gets the rest of the line, or lines of its own when that is too little.
        let (indent, room) = if width >= key + 2 * MIN_COLUMN {
            (key, width - key)
        } else {
            (2, width.saturating_sub(2).max(MIN_COLUMN))
        };
        let mut out = Vec::new();
        for r in &self.rows {
            let mut block = Vec::new();
            for (i, (h, v)) in self.header.iter().zip(r).enumerate() {
                if v.is_empty() && i > 0 {
                    continue;
                }
                let lines = wrap(v, room);
                let label = format!("{h}:");
                if indent == key {
                    for (j, l) in lines.iter().enumerate() {
                        let head = if j == 0 { label.as_str() } else { "" };
                        block.push(format!("{head:<key$}{l}").trim_end().to_string());
                    }
                } else {
                    block.push(label);
                    for l in &lines {
                        block.push(format!("  {l}").trim_end().to_string());
                    }
                }
            }
            out.push(block.join("\n"));
        }
        let mut s = out.join("\n\n");
        if s.is_empty() {
            s = "(none)".into();
        }
        s
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.width {
            Some(w) => f.write_str(&self.fitted(w)),
            None => f.write_str(&self.flat()),
        }
    }
}

/// `text` for stderr: on a terminal each line is wrapped to its width at word
/// boundaries, the continuation lines indented two more than the line they continue;
/// off a terminal, as it is.
pub fn fit_stderr(text: &str) -> String {
    match crate::sys::term::stderr_width() {
        Some(w) => fit(text, usize::from(w)),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widest(s: &str) -> usize {
        s.lines().map(len).max().unwrap_or(0)
    }

    fn status_like(width: Option<usize>) -> Table {
        let mut t = Table::for_width(
            &[
                "scope",
                "file",
                "state",
                "recipients",
                "modified",
                "problem",
            ],
            width,
        );
        for s in ["smtp", "incoming_email", "service_desk_email", "mattermost"] {
            t.add_row(vec![
                s.to_string(),
                format!("/var/opt/toolctl/secrets/{s}.yaml.age"),
                "ok".into(),
                "1".into(),
                "2026-12-06 05:20:12 UTC".into(),
                String::new(),
            ]);
        }
        t
    }

    #[test]
    fn off_a_terminal_rows_stay_whole_lines() {
        let s = status_like(None).to_string();
        assert_eq!(s.lines().count(), 6, "{s}");
        assert!(s.contains("/var/opt/toolctl/secrets/service_desk_email.yaml.age"));
    }

    #[test]
    fn on_a_terminal_nothing_is_wider_and_nothing_collapses() {
        for w in [200, 120, 80, 60, 40, 30] {
            let s = status_like(Some(w)).to_string();
            assert!(widest(&s) <= w, "{w}:\n{s}");
            // Never a letter per line: four records take a few lines each.
            assert!(s.lines().count() <= 4 * 12, "{w}:\n{s}");
        }
        // 80 columns: the short columns keep their width, the others get 12 or more.
        let s = status_like(Some(80)).to_string();
        let border = s.lines().next().unwrap();
        let widths: Vec<usize> = border
            .trim_matches(['┌', '┐'])
            .split('┬')
            .map(|c| len(c) - 2)
            .collect();
        assert_eq!(widths[2], "state".len(), "{s}");
        assert!(widths.iter().all(|w| *w >= 5), "{s}");
        assert!(widths[1] >= MIN_COLUMN && widths[4] >= MIN_COLUMN, "{s}");
        // 60 columns: six columns need 5 + 10 + 7 + 3 * 12 + 19 = 77 at the least: blocks.
        let s = status_like(Some(60)).to_string();
        assert!(s.contains("file:") && !s.contains('│'), "{s}");
        let s = status_like(Some(200)).to_string();
        assert!(s.starts_with('┌'), "{s}");
        assert!(
            s.contains("/var/opt/toolctl/secrets/service_desk_email.yaml.age"),
            "{s}"
        );
    }
}
