//! Masking of credentials in server text, before any of it reaches output.
//!
//! A server may echo what it was sent (a login line quoted in an error reply, a
//! transcript), so every credential toolctl sends is registered here in every form it
//! goes out in: the plain value, its IMAP quoted form, base64 (AUTH LOGIN), the AUTH PLAIN
//! token (`\0user\0password`), the CRAM-MD5 response. [`Masker::apply`] replaces each of
//! them, case-insensitively, with `********`, and also any run of base64 characters that is
//! a piece of a registered token (a server that cuts its echo must not leak half a token).
//! One masker is shared by a probe's rows, its live output and its transcript, so a form
//! registered mid-dialogue (the CRAM-MD5 response) is masked everywhere from then on.

use std::sync::{Arc, Mutex};

use base64::Engine;
use zeroize::Zeroizing;

/// What replaces a credential.
pub const MASK: &str = "********";

/// Base64 pieces shorter than this are not masked on their own (they could be any word).
const MIN_PIECE: usize = 8;

#[derive(Default)]
struct Inner {
    /// Matched anywhere, case-insensitively.
    values: Vec<Zeroizing<String>>,
    /// Base64 tokens: also matched piecewise.
    tokens: Vec<Zeroizing<String>>,
}

/// The credentials of one probe, in every form sent. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Masker(Arc<Mutex<Inner>>);

impl Masker {
    pub fn new() -> Masker {
        Masker::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A secret value as sent (a password, a client secret, a CRAM-MD5 digest).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut inner = self.lock();
        if !inner.values.iter().any(|v| v.as_str() == value) {
            inner.values.push(Zeroizing::new(value.to_string()));
        }
    }

    /// A base64 token as sent (an AUTH payload).
    pub fn add_token(&self, token: &str) {
        let trimmed = token.trim_end_matches('=');
        if trimmed.is_empty() {
            return;
        }
        self.add(trimmed);
        let mut inner = self.lock();
        if !inner.tokens.iter().any(|v| v.as_str() == trimmed) {
            inner.tokens.push(Zeroizing::new(trimmed.to_string()));
        }
    }

    /// A user name and password, in every form a login sends them: the password plain, in
    /// IMAP quoted form, form-encoded, base64 (AUTH LOGIN), and the AUTH PLAIN token; the
    /// user name base64-encoded (AUTH LOGIN sends it so; the plain name is not a secret).
    pub fn add_login(&self, user: &str, password: &str) {
        let b64 = base64::engine::general_purpose::STANDARD;
        self.add(password);
        self.add(&password.replace('\\', "\\\\").replace('"', "\\\""));
        self.add(&form_encode(password));
        self.add_token(&b64.encode(password));
        if !user.is_empty() {
            self.add_token(&b64.encode(user));
        }
        self.add_token(&b64.encode(format!("\0{user}\0{password}")));
    }

    /// A secret sent in a form body (an OAuth client secret).
    pub fn add_form_value(&self, value: &str) {
        self.add(value);
        self.add(&form_encode(value));
    }

    /// `text` with every registered form replaced by [`MASK`].
    pub fn apply(&self, text: &str) -> String {
        let inner = self.lock();
        if inner.values.is_empty() {
            return text.to_string();
        }
        let mut out = text.to_string();
        // Longest first, so a token is masked whole before a value inside it.
        let mut values: Vec<&str> = inner.values.iter().map(|v| v.as_str()).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            out = replace_ignore_case(&out, v);
        }
        if !inner.tokens.is_empty() {
            out = mask_pieces(&out, &inner.tokens);
        }
        out
    }
}

/// `application/x-www-form-urlencoded`, as an HTTP client encodes a form value.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A value shorter than this is masked only as a whole token: where neither neighbour
/// is a letter or a digit (a 3-letter password must not garble every word holding its
/// letters). Longer values are masked wherever they sit.
pub const SHORT: usize = 8;

/// Whether `text[i..j]` stands alone: bounded by non-alphanumeric characters or the ends.
fn whole_token(text: &str, i: usize, j: usize) -> bool {
    let before = text.get(..i).and_then(|t| t.chars().next_back());
    let after = text.get(j..).and_then(|t| t.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// Replaces every case-insensitive occurrence of `needle` (ASCII case folding: the forms
/// sent are ASCII or exact bytes); a needle shorter than [`SHORT`] characters only where
/// it is a whole token.
fn replace_ignore_case(text: &str, needle: &str) -> String {
    let short = needle.chars().count() < SHORT;
    let hay = text.as_bytes();
    let pat = needle.as_bytes();
    if pat.is_empty() || hay.len() < pat.len() {
        return text.to_string();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay.len() - i >= pat.len()
            && hay[i..i + pat.len()].eq_ignore_ascii_case(pat)
            && (!short || whole_token(text, i, i + pat.len()))
        {
            out.extend_from_slice(MASK.as_bytes());
            i += pat.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    // Only whole ASCII-case-folded matches of a valid UTF-8 needle were replaced, at
    // character boundaries of valid UTF-8 text.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'='
}

/// Masks runs of base64 characters that are a piece (of at least [`MIN_PIECE`]
/// characters) of a registered token.
fn mask_pieces(text: &str, tokens: &[Zeroizing<String>]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        let run = text[start..i].trim_end_matches('=');
        if run.len() >= MIN_PIECE {
            let lower = run.to_ascii_lowercase();
            if tokens
                .iter()
                .any(|t| t.to_ascii_lowercase().contains(&lower))
            {
                out.push_str(&text[last..start]);
                out.push_str(MASK);
                last = i;
            }
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Server text for a detail: masked, then cut at a readable length and quoted.
pub fn quote(masker: &Masker, text: &str) -> String {
    format!("\"{}\"", cut(&masker.apply(text.trim()), 200))
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_masked_only_as_a_whole_token() {
        let m = Masker::new();
        m.add_login("alice", "ok1");
        let text = "250 ok1 welcome: looking ok1. book1 OK1x (ok1)";
        assert_eq!(
            m.apply(text),
            "250 ******** welcome: looking ********. book1 OK1x (********)"
        );
        assert_eq!(m.apply("ok1"), "********");
        // A long value is masked wherever it sits, inside words too.
        let m = Masker::new();
        m.add_login("alice", "Long-Pa55word");
        assert_eq!(m.apply("xLong-Pa55wordy"), "x********y");
    }

    #[test]
    fn every_form_of_a_login_is_masked() {
        let m = Masker::new();
        m.add_login("alice@example.test", "pa\"ss+word");
        let b64 = base64::engine::general_purpose::STANDARD;
        let plain = b64.encode("\0alice@example.test\0pa\"ss+word");
        let login = b64.encode("pa\"ss+word");
        let user = b64.encode("alice@example.test");
        for text in [
            "500 unknown: pa\"ss+word".to_string(),
            "500 unknown: PA\"SS+WORD".to_string(),
            "a1 NO echo: LOGIN \"alice\" \"pa\\\"ss+word\"".to_string(),
            format!("535 AUTH PLAIN {plain}"),
            format!("535 AUTH PLAIN {}", &plain[..plain.len() - 5]),
            format!("500 {}", &plain[6..20]),
            format!("500 {login} {user}"),
            "400 pa%22ss%2Bword".to_string(),
        ] {
            let masked = m.apply(&text);
            assert!(
                !masked.contains("ss+word") && !masked.contains("SS+WORD"),
                "{masked}"
            );
            assert!(!masked.contains("pa%22ss"), "{masked}");
            assert!(!masked.contains(&plain[6..20]), "{masked}");
            assert!(!masked.contains(&login[..10]), "{masked}");
            assert!(!masked.contains(&user[..10]), "{masked}");
            assert!(masked.contains(MASK), "{masked}");
        }
        assert_eq!(m.apply("250 2.0.0 Ok: queued"), "250 2.0.0 Ok: queued");
    }

    #[test]
    fn quote_masks_before_cutting() {
        let m = Masker::new();
        m.add("secret-value");
        let text = format!("{}secret-value", "x".repeat(195));
        let q = quote(&m, &text);
        assert!(!q.contains("secret"), "{q}");
        assert!(q.ends_with("…\""), "{q}");
    }
}
