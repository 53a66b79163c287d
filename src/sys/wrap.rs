//! Text for a terminal: lines wrapped at word boundaries (paths and keys at `/` and `.`),
//! a word longer than a line cut at the line's width, never a letter per line.

/// `text` for a terminal of `width` columns: each line wrapped at word boundaries, the
/// continuation lines indented two more than the line they continue.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for line in text.split('\n') {
        if len(line) <= width {
            out.push(line.to_string());
            continue;
        }
        let lead = len(line) - len(line.trim_start());
        let indent = (lead + 2).min(width / 2);
        let body = line.trim_start();
        let first = wrap(body, width - lead).swap_remove(0);
        let head = &line[..line.len() - body.len()];
        let rest = body
            .get(first.len()..)
            .unwrap_or_default()
            .trim_start_matches(' ');
        out.push(format!("{head}{first}"));
        for l in wrap(rest, width - indent) {
            if !l.is_empty() {
                out.push(format!("{:indent$}{l}", ""));
            }
        }
    }
    out.join("\n")
}

/// Characters shown (escaped text: one column each).
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// `text` in lines of at most `width` characters: at spaces first, then after `/`, `.`,
/// `,`, `-`, `_`, `:` or `=`; a piece without any of them is cut at `width`. Existing
/// newlines are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let sep = usize::from(!line.is_empty());
            if len(&line) + sep + len(word) <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                continue;
            }
            // The word does not fit on this line: it starts the next one, cut into
            // pieces when it is longer than a line.
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest: &str = word;
            while len(rest) > width {
                let cut = break_at(rest, width);
                lines.push(rest[..cut].to_string());
                rest = &rest[cut..];
            }
            line.push_str(rest);
        }
        lines.push(line);
    }
    lines
}

/// The byte offset at which to cut `word` (longer than `width` characters): after the
/// last break character within the first `width` characters, if it leaves at least
/// half a line, else at `width` characters.
fn break_at(word: &str, width: usize) -> usize {
    let hard = word
        .char_indices()
        .nth(width)
        .map_or(word.len(), |(i, _)| i);
    let head = &word[..hard];
    // Paths and keys at `/` and `.` first, then at the other separators.
    for seps in [&['/', '.'][..], &[',', '-', '_', ':', '=']] {
        if let Some(i) = head.rfind(seps) {
            if len(&head[..=i]) * 2 >= width {
                return i + 1;
            }
        }
    }
    hard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_wrap_with_a_hanging_indent() {
        let text = "error: the secrets folder /var/opt/toolctl/secrets is group-writable\n  hint: chmod 700 it";
        let s = fit(text, 30);
        assert!(s.lines().all(|l| len(l) <= 30), "{s}");
        assert!(s.lines().nth(1).unwrap().starts_with("  "), "{s}");
        assert!(s.contains("\n  hint: chmod 700 it"), "{s}");
        assert_eq!(fit("short", 30), "short");
    }

    #[test]
    fn wrapping_prefers_spaces_then_slashes_and_dots() {
        assert_eq!(wrap("one two three", 8), ["one two", "three"]);
        assert_eq!(
            wrap("/var/opt/toolctl/secrets/smtp.yaml.age", 20),
            ["/var/opt/toolctl/", "secrets/smtp.yaml.", "age"]
        );
        let key = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs";
        let lines = wrap(key, 20);
        assert!(lines.iter().all(|l| len(l) <= 20));
        assert_eq!(lines.concat(), key);
        assert!(lines[..lines.len() - 1].iter().all(|l| len(l) == 20));
    }
}
