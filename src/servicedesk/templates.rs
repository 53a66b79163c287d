//! Service Desk email templates (`.gitlab/service_desk_templates/*.md`): the lint and the
//! preview.
//!
//! The rules are GitLab's: the three file names it reads (`thank_you.md`,
//! `new_participant.md`, `new_note.md`), its placeholders (`%\{\s*NAME\s*\}`, case-sensitive;
//! an unknown one is left as written), `%{NOTE_TEXT}` filled only in `new_note.md`, and the
//! HTML its sanitizer strips. Nothing here reads or writes files: the command does.

use std::sync::OnceLock;

use regex::Regex;

/// The template files GitLab reads.
pub const FILES: [&str; 3] = ["thank_you.md", "new_participant.md", "new_note.md"];

/// Every placeholder GitLab substitutes, with the preview's sample value.
pub const PLACEHOLDERS: [(&str, &str); 9] = [
    ("ISSUE_ID", "7"),
    ("ISSUE_PATH", "mygroup/myproject#7"),
    ("ISSUE_URL", "https://gitlab.example.com/mygroup/myproject/-/issues/7"),
    ("ISSUE_DESCRIPTION", "My printer is on fire."),
    ("UNSUBSCRIBE_URL", "https://gitlab.example.com/-/sent_notifications/0123456789abcdef0123456789abcdef/unsubscribe"),
    ("NOTE_TEXT", "Thanks, we are looking into it."),
    ("SYSTEM_HEADER", "<div class=\"header-message\">Example GitLab</div>"),
    ("SYSTEM_FOOTER", "<div class=\"footer-message\">Example GitLab · Support</div>"),
    ("ADDITIONAL_TEXT", "This message was sent by Example GitLab."),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, at a line and column (characters, from 1) of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// A stable name for CI: `unknown_placeholder`, `note_text_outside_new_note`, …
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

/// `%{ NAME }` as GitLab matches it (`\s` is ASCII in Ruby). The name part is loose, so
/// that `%{issue_id}` is found and reported as unknown rather than passed over.
fn placeholder_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"%\{(?-u:\s)*([A-Za-z0-9_]+)(?-u:\s)*\}").unwrap())
}

/// What GitLab's sanitizer removes, each with its finding's name and words.
fn html_rules() -> &'static [(Regex, &'static str, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        vec![
            (
                Regex::new(r"(?i)<\s*(script|style|iframe)\b").unwrap(),
                "stripped_tag",
                "GitLab's sanitizer removes this element",
            ),
            (
                Regex::new(r#"(?i)<[a-z][^>]*?\s(on[a-z]+)\s*="#).unwrap(),
                "event_handler",
                "GitLab's sanitizer removes event-handler attributes",
            ),
            (
                Regex::new(r#"(?i)\b(?:href|src|action|formaction)\s*=\s*["']?\s*((?:javascript|data|vbscript):)"#)
                    .unwrap(),
                "unsafe_link",
                "GitLab's sanitizer removes links with this scheme",
            ),
            (
                Regex::new(r"(?i)\]\(\s*<?\s*((?:javascript|data|vbscript):)").unwrap(),
                "unsafe_link",
                "GitLab's sanitizer removes links with this scheme",
            ),
        ]
    })
}

/// The 1-based line and character column of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, text[line_start..at].chars().count() + 1)
}

/// A file name's finding when GitLab does not read it.
pub fn unknown_file(name: &str) -> Finding {
    Finding {
        file: name.to_string(),
        line: 0,
        column: 0,
        severity: Severity::Error,
        code: "unknown_file",
        message: format!("`{name}` is not a template GitLab reads; it is ignored"),
        hint: format!("name it one of {}", FILES.join(", ")),
    }
}

/// Lints one template's text; `name` is its file name (one of [`FILES`]).
pub fn lint(name: &str, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |at: usize, severity, code, message: String, hint: String| {
        let (line, column) = position(text, at);
        out.push(Finding {
            file: name.to_string(),
            line,
            column,
            severity,
            code,
            message,
            hint,
        });
    };
    let mut note_text = false;
    for m in placeholder_re().captures_iter(text) {
        let whole = m.get(0).unwrap();
        let found = &m[1];
        match found {
            "NOTE_TEXT" => {
                note_text = true;
                if name != "new_note.md" {
                    push(
                        whole.start(),
                        Severity::Warning,
                        "note_text_outside_new_note",
                        format!("`{}` is empty in {name}: only new_note.md has a note", whole.as_str()),
                        "remove it, or move it to new_note.md".into(),
                    );
                }
            }
            "ISSUE_DESCRIPTION" => push(
                whole.start(),
                Severity::Warning,
                "issue_description",
                format!("`{}` sends the ticket's description, which may carry sensitive text once someone edits it", whole.as_str()),
                "use it with care, and tell the team who edits descriptions".into(),
            ),
            other if PLACEHOLDERS.iter().any(|(n, _)| *n == other) => {}
            other => push(
                whole.start(),
                Severity::Error,
                "unknown_placeholder",
                format!("unknown placeholder `{}`: GitLab leaves it as written", whole.as_str()),
                placeholder_hint(other),
            ),
        }
    }
    if name == "new_note.md" && !note_text {
        push(
            0,
            Severity::Warning,
            "new_note_without_note_text",
            "new_note.md has no `%{NOTE_TEXT}`: the recipient will not see the comment".into(),
            "add `%{NOTE_TEXT}` where the comment should appear".into(),
        );
    }
    for (re, code, words) in html_rules() {
        for c in re.captures_iter(text) {
            let what = c.get(1).unwrap();
            push(
                what.start(),
                Severity::Error,
                code,
                format!("`{}`: {words}", what.as_str()),
                "keep to Markdown and the HTML GitLab allows; the recipient would not get this part".into(),
            );
        }
    }
    out.sort_by_key(|a| (a.line, a.column));
    out
}

/// The hint of an unknown placeholder: the known one it is close to, or the list.
fn placeholder_hint(other: &str) -> String {
    let close = PLACEHOLDERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(other))
        .or_else(|| {
            PLACEHOLDERS
                .iter()
                .min_by_key(|(n, _)| strsim::levenshtein(n, other))
                .filter(|(n, _)| strsim::levenshtein(n, other) <= 3)
        });
    match close {
        Some((n, _)) => format!("did you mean `%{{{n}}}`? (placeholders are case-sensitive)"),
        None => format!(
            "use one of {}",
            PLACEHOLDERS
                .iter()
                .map(|(n, _)| format!("%{{{n}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The template with every placeholder GitLab knows replaced by `values` (by name), then
/// rendered from CommonMark (with tables and strikethrough, as GitLab Flavored Markdown
/// has) to HTML. Unknown placeholders stay as written, as in GitLab; `%{NOTE_TEXT}` is
/// empty outside `new_note.md`.
pub fn preview(name: &str, text: &str, values: &[(&str, String)]) -> String {
    let substituted = placeholder_re().replace_all(text, |c: &regex::Captures<'_>| {
        let found = &c[1];
        if found == "NOTE_TEXT" && name != "new_note.md" {
            return String::new();
        }
        match values.iter().find(|(n, _)| *n == found) {
            Some((_, v)) => v.clone(),
            None => c[0].to_string(),
        }
    });
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    options.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    options.insert(pulldown_cmark::Options::ENABLE_TASKLISTS);
    let parser = pulldown_cmark::Parser::new_ext(&substituted, options);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    sanitize(&html)
}

/// The preview's HTML made safe to open in a browser, by `ammonia`'s allow-list: no
/// `<script>`, `<style>` or `<iframe>` (nor their content), no event-handler attribute
/// (`onerror=`), no link or source with a scheme other than http(s), mailto and the like
/// (`javascript:`, `data:`, `vbscript:` are dropped), and `rel="noopener noreferrer"` on
/// links. Kept beyond ammonia's defaults: `class` (the `%{SYSTEM_HEADER}`/`FOOTER` divs)
/// and the disabled checkboxes of task lists. The lint still reports what GitLab strips;
/// this is what the preview shows.
pub fn sanitize(html: &str) -> String {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut b = ammonia::Builder::default();
            b.add_generic_attributes(["class"]);
            b.add_tags(["input"]);
            b.add_tag_attributes("input", ["type", "checked", "disabled"]);
            b
        })
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let f = lint("thank_you.md", "héllo wörld %{ISSUE_IDD}\n");
        assert_eq!((f[0].line, f[0].column), (1, 13));
        assert_eq!(f[0].code, "unknown_placeholder");
        assert!(f[0].hint.contains("%{ISSUE_ID}"));
    }

    #[test]
    fn spaces_inside_braces_match_and_case_matters() {
        assert!(lint("thank_you.md", "%{ ISSUE_ID }\n%{\tISSUE_PATH\t}").is_empty());
        let f = lint("thank_you.md", "%{issue_id}");
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn note_text_rules() {
        let f = lint("thank_you.md", "x\n  %{NOTE_TEXT}");
        assert_eq!(
            (f[0].code, f[0].line, f[0].column),
            ("note_text_outside_new_note", 2, 3)
        );
        let f = lint("new_note.md", "hello");
        assert_eq!(f[0].code, "new_note_without_note_text");
        assert!(lint("new_note.md", "%{NOTE_TEXT}").is_empty());
    }

    #[test]
    fn html_the_sanitizer_strips() {
        let text = "<script>x</script>\n<img src=x onerror=\"a()\">\n[a](javascript:alert(1))\n<a href=\"data:text/html,x\">y</a>\n<STYLE>p{}</STYLE>\n<iframe src=\"https://e\"></iframe>";
        let codes: Vec<_> = lint("thank_you.md", text)
            .iter()
            .map(|f| (f.line, f.code))
            .collect();
        assert!(codes.contains(&(1, "stripped_tag")));
        assert!(codes.contains(&(2, "event_handler")));
        assert!(codes.contains(&(3, "unsafe_link")));
        assert!(codes.contains(&(4, "unsafe_link")));
        assert!(codes.contains(&(5, "stripped_tag")));
        assert!(codes.contains(&(6, "stripped_tag")));
        assert!(lint(
            "thank_you.md",
            "<b>bold</b> [x](https://example.com) online"
        )
        .is_empty());
    }

    #[test]
    fn preview_substitutes_and_renders() {
        let html = preview(
            "thank_you.md",
            "# Ticket %{ISSUE_PATH}\n\n%{NOTE_TEXT}%{UNKNOWN}",
            &[("ISSUE_PATH", "g/p#7".into()), ("NOTE_TEXT", "n".into())],
        );
        assert_eq!(html, "<h1>Ticket g/p#7</h1>\n<p>%{UNKNOWN}</p>\n");
    }

    /// What a hostile template brings is not in the preview: scripts, event handlers,
    /// `javascript:`/`data:` links, frames and styles; the rest of the text stays.
    #[test]
    fn the_preview_is_sanitized() {
        let text = "<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[a](javascript:alert(3))\n\n<a href=\"data:text/html,<script>alert(4)</script>\">d</a>\n\n<iframe src=\"https://e\"></iframe><STYLE>p{}</STYLE>\n\n<svg onload=alert(5)></svg> <a href=\"JaVaScRiPt:alert(6)\">j</a> <a href=\"https://ok.example\">ok</a>\n\n- [x] done\n";
        let html = preview("thank_you.md", text, &[]);
        let lower = html.to_ascii_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onload",
            "javascript:",
            "data:",
            "<iframe",
            "<style",
            "alert(",
        ] {
            assert!(!lower.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("href=\"https://ok.example\""), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
        let header = preview(
            "thank_you.md",
            "%{SYSTEM_HEADER}",
            &[(
                "SYSTEM_HEADER",
                "<div class=\"header-message\">H</div>".into(),
            )],
        );
        assert!(
            header.contains("<div class=\"header-message\">H</div>"),
            "{header}"
        );
    }
}
