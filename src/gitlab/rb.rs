//! A reader for the Ruby subset GitLab's documentation writes in `/etc/gitlab/gitlab.rb`.
//!
//! Statements it reads: `NAME['KEY'] = VALUE` (`gitlab_rails`, `mattermost`,
//! `mattermost_nginx`, `mailroom`, and any other, which the mapping then reports) and
//! `NAME 'VALUE'` / `NAME('VALUE')` (`external_url`, `mattermost_external_url`). A VALUE is a
//! single- or double-quoted string with escapes, an integer, `true`/`false`, `nil`, or a
//! hash in the `'k': v`, `k: v`, `'k' => v` and `:k => v` forms, possibly over several
//! lines. Comments and blank lines are skipped. Anything else (interpolation, method
//! calls, arrays, conditionals) is returned as a [`Skipped`] line: this module evaluates
//! nothing, and it never puts a value in a reason (values may be credentials).
//!
//! Nesting is bounded: a statement whose brackets, braces or parentheses nest deeper than
//! [`MAX_NESTING`] is returned as a [`Skipped`] line ("nested too deep"), so that no input
//! can exhaust the stack (the tokenizer is iterative; the value reader recurses only into
//! hashes, and never deeper than that bound).

/// A Ruby literal.
#[derive(Clone, Debug, PartialEq)]
pub enum RbValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    Hash(Vec<(String, RbValue)>),
}

impl RbValue {
    pub fn kind(&self) -> &'static str {
        match self {
            RbValue::Str(_) => "a string",
            RbValue::Int(_) => "an integer",
            RbValue::Bool(_) => "a boolean",
            RbValue::Nil => "nil",
            RbValue::Hash(_) => "a hash",
        }
    }
}

/// One statement read.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// 1-based line where it starts.
    pub line: usize,
    /// `gitlab_rails`, `external_url`, …
    pub object: String,
    /// The index (`'smtp_address'`); `None` for a call such as `external_url '…'`.
    pub key: Option<String>,
    pub value: RbValue,
}

impl Statement {
    /// `gitlab_rails['smtp_address']` or `external_url`.
    pub fn name(&self) -> String {
        match &self.key {
            Some(k) => format!("{}['{k}']", self.object),
            None => self.object.clone(),
        }
    }
}

/// A line this reader did not read, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub line: usize,
    /// The statement's target when it could be told (`gitlab_rails['x']`), else empty.
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Sym(String),
    /// `key:` (a symbol key of a hash).
    Label(String),
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Eq,
    Arrow,
    Colon,
    Comma,
}

/// Why a statement could not be read.
type Why = &'static str;

const NOT_EVALUATED: Why = "Ruby this reader does not evaluate";

/// How deep brackets, braces and parentheses may nest in one statement (a hash of hashes
/// 64 levels deep is read; one more level is not).
pub const MAX_NESTING: usize = 64;

/// The reason of a statement nested deeper than [`MAX_NESTING`].
pub const NESTED_TOO_DEEP: Why =
    "nested too deep (more than 64 levels of brackets, braces or parentheses)";

/// Splits `text` into statements: a newline ends one unless a bracket or brace is open.
/// Returns (first line, tokens, why it cannot be read) per statement; the tokens are kept
/// when it cannot, to name the statement.
fn tokenize(text: &str) -> Vec<Tokens> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let mut toks: Vec<Tok> = Vec::new();
    let mut err: Option<Why> = None;
    let mut start = 1;
    let mut depth: i64 = 0;
    // The deepest nesting of the statement being read.
    let mut deepest: i64 = 0;
    while i < chars.len() {
        let c = chars[i];
        if toks.is_empty() && err.is_none() {
            start = line;
        }
        match c {
            '\n' => {
                line += 1;
                i += 1;
                if depth <= 0 {
                    depth = 0;
                    flush(&mut out, &mut toks, &mut err, &mut deepest, start);
                }
            }
            ' ' | '\t' | '\r' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                // A line continuation.
                i += 2;
                line += 1;
            }
            '\'' | '"' => {
                let s = read_string(&chars, c, &mut i, &mut line, &mut err);
                // `'k': v` in a hash: a string label.
                if chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':') && depth > 0 {
                    i += 1;
                    toks.push(Tok::Label(s));
                } else {
                    toks.push(Tok::Str(s));
                }
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                i = read_number(&chars, i, &mut toks, &mut err);
            }
            c if c.is_alphabetic() || c == '_' => {
                i = read_word(&chars, i, depth, &mut toks, &mut err);
            }
            _ => match read_punct(&chars, i, &mut depth, &mut toks, &mut err) {
                Some(next) => {
                    deepest = deepest.max(depth);
                    i = next;
                }
                None => {
                    err = err.or(Some(NOT_EVALUATED));
                    i += 1;
                }
            },
        }
    }
    flush(&mut out, &mut toks, &mut err, &mut deepest, start);
    out
}

/// A statement as [`tokenize`] reads it: its first line, its tokens, why it cannot be read.
type Tokens = (usize, Vec<Tok>, Option<Why>);

/// Ends the statement being read (if it holds anything): its tokens and why it cannot be
/// read go to `out`, and the per-statement state is reset.
fn flush(
    out: &mut Vec<Tokens>,
    toks: &mut Vec<Tok>,
    err: &mut Option<Why>,
    deepest: &mut i64,
    start: usize,
) {
    if !toks.is_empty() || err.is_some() {
        let t = std::mem::take(toks);
        // Too deep wins over any other reason: the statement is not read at all.
        let why = if *deepest > MAX_NESTING as i64 {
            Some(NESTED_TOO_DEEP)
        } else {
            err.take()
        };
        *err = None;
        out.push((start, t, why));
    }
    *deepest = 0;
}

/// A bracket, comma, `=`, `=>`, `:` or `:symbol` at `chars[i]`, pushed onto `toks` (a
/// bracket changes `depth`); returns the index after it, or `None` for any other character.
fn read_punct(
    chars: &[char],
    i: usize,
    depth: &mut i64,
    toks: &mut Vec<Tok>,
    err: &mut Option<Why>,
) -> Option<usize> {
    let c = chars[i];
    match c {
        '[' | '{' | '(' => {
            *depth += 1;
            toks.push(match c {
                '[' => Tok::LBracket,
                '{' => Tok::LBrace,
                _ => Tok::LParen,
            });
            Some(i + 1)
        }
        ']' | '}' | ')' => {
            *depth -= 1;
            toks.push(match c {
                ']' => Tok::RBracket,
                '}' => Tok::RBrace,
                _ => Tok::RParen,
            });
            Some(i + 1)
        }
        ',' => {
            toks.push(Tok::Comma);
            Some(i + 1)
        }
        '=' if chars.get(i + 1) == Some(&'>') => {
            toks.push(Tok::Arrow);
            Some(i + 2)
        }
        '=' if chars.get(i + 1) == Some(&'=') => {
            *err = err.or(Some(NOT_EVALUATED));
            Some(i + 2)
        }
        '=' => {
            toks.push(Tok::Eq);
            Some(i + 1)
        }
        ':' if chars
            .get(i + 1)
            .is_some_and(|c| c.is_alphabetic() || *c == '_') =>
        {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            toks.push(Tok::Sym(chars[i + 1..j].iter().collect()));
            Some(j)
        }
        ':' => {
            toks.push(Tok::Colon);
            Some(i + 1)
        }
        _ => None,
    }
}

/// An integer starting at `chars[i]`, pushed onto `toks`; returns the index after it.
fn read_number(chars: &[char], i: usize, toks: &mut Vec<Tok>, err: &mut Option<Why>) -> usize {
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '_') {
        j += 1;
    }
    let digits: String = chars[i..j].iter().filter(|c| **c != '_').collect();
    match digits.parse::<i64>() {
        Ok(n) if chars.get(j) != Some(&'.') => toks.push(Tok::Int(n)),
        _ => *err = err.or(Some("a number this reader does not read (only integers)")),
    }
    j
}

/// A word starting at `chars[i]`: a hash label (`key:` inside brackets, not `a::B`), or an
/// identifier; a method call sets `err`. Returns the index after it.
fn read_word(
    chars: &[char],
    i: usize,
    depth: i64,
    toks: &mut Vec<Tok>,
    err: &mut Option<Why>,
) -> usize {
    let mut j = i;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    let word: String = chars[i..j].iter().collect();
    if depth > 0 && chars.get(j) == Some(&':') && chars.get(j + 1) != Some(&':') {
        toks.push(Tok::Label(word));
        j += 1;
    } else if matches!(chars.get(j), Some('?' | '!' | '.')) {
        *err = err.or(Some("a method call, which this reader does not evaluate"));
        toks.push(Tok::Ident(word));
        j += 1;
    } else {
        toks.push(Tok::Ident(word));
    }
    j
}

/// A quoted string starting at `chars[*i]` (the quote `quote`), with Ruby's escapes:
/// advances `i` past it and `line` over its newlines; a part this reader does not evaluate
/// sets `err`.
fn read_string(
    chars: &[char],
    quote: char,
    i: &mut usize,
    line: &mut usize,
    err: &mut Option<Why>,
) -> String {
    let mut s = String::new();
    *i += 1;
    let mut closed = false;
    while *i < chars.len() {
        let d = chars[*i];
        if d == '\n' {
            *line += 1;
        }
        if d == quote {
            closed = true;
            *i += 1;
            break;
        }
        if d == '\\' && *i + 1 < chars.len() {
            let e = chars[*i + 1];
            *i += 2;
            if quote == '\'' {
                // Single quotes know two escapes only.
                match e {
                    '\\' | '\'' => s.push(e),
                    _ => {
                        s.push('\\');
                        s.push(e);
                    }
                }
                continue;
            }
            match e {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                's' => s.push(' '),
                '0' => s.push('\0'),
                'e' => s.push('\x1b'),
                'a' => s.push('\x07'),
                'b' => s.push('\x08'),
                'f' => s.push('\x0c'),
                'v' => s.push('\x0b'),
                'u' => {
                    let (cp, used) = unicode_escape(&chars[*i..]);
                    match cp {
                        Some(ch) => s.push(ch),
                        None => *err = err.or(Some(NOT_EVALUATED)),
                    }
                    *i += used;
                }
                '\n' => *line += 1,
                other => s.push(other),
            }
            continue;
        }
        if quote == '"' && d == '#' && matches!(chars.get(*i + 1), Some('{' | '@' | '$')) {
            *err = err.or(Some(
                "string interpolation, which this reader does not evaluate",
            ));
        }
        s.push(d);
        *i += 1;
    }
    if !closed {
        *err = err.or(Some("an unterminated string"));
    }
    s
}

/// `\uXXXX` or `\u{X…}` after the `u`: the character and how many chars were used.
fn unicode_escape(rest: &[char]) -> (Option<char>, usize) {
    if rest.first() == Some(&'{') {
        let end = rest.iter().position(|c| *c == '}');
        match end {
            Some(e) => {
                let hex: String = rest[1..e].iter().collect();
                (
                    u32::from_str_radix(hex.trim(), 16)
                        .ok()
                        .and_then(char::from_u32),
                    e + 1,
                )
            }
            None => (None, rest.len()),
        }
    } else {
        let n = rest.len().min(4);
        let hex: String = rest[..n].iter().collect();
        (
            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32),
            n,
        )
    }
}

struct P<'a> {
    t: &'a [Tok],
    i: usize,
}

impl P<'_> {
    fn next(&mut self) -> Option<&Tok> {
        let t = self.t.get(self.i);
        self.i += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn value(&mut self) -> Result<RbValue, Why> {
        self.value_at(1)
    }

    /// A value at nesting level `level` (1 for a statement's value): a hash at a level over
    /// [`MAX_NESTING`] is not read.
    fn value_at(&mut self, level: usize) -> Result<RbValue, Why> {
        match self.next().cloned() {
            Some(Tok::Str(s)) => Ok(RbValue::Str(s)),
            Some(Tok::Int(n)) => Ok(RbValue::Int(n)),
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Ok(RbValue::Bool(true)),
                "false" => Ok(RbValue::Bool(false)),
                "nil" => Ok(RbValue::Nil),
                _ => Err("a variable or method call, which this reader does not evaluate"),
            },
            Some(Tok::LBrace) if level > MAX_NESTING => Err(NESTED_TOO_DEEP),
            Some(Tok::LBrace) => {
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(&Tok::RBrace) {
                        self.i += 1;
                        break;
                    }
                    let key = match self.next().cloned() {
                        Some(Tok::Label(k)) => k,
                        Some(Tok::Str(k)) | Some(Tok::Sym(k)) => {
                            if self.next() != Some(&Tok::Arrow) {
                                return Err("a hash this reader does not read");
                            }
                            k
                        }
                        _ => return Err("a hash this reader does not read"),
                    };
                    let v = self.value_at(level + 1)?;
                    entries.push((key, v));
                    match self.next() {
                        Some(Tok::Comma) => {}
                        Some(Tok::RBrace) => break,
                        _ => return Err("a hash this reader does not read"),
                    }
                }
                Ok(RbValue::Hash(entries))
            }
            Some(Tok::LBracket) => Err("an array, which no imported setting takes"),
            _ => Err(NOT_EVALUATED),
        }
    }
}

/// Reads `text`: the statements, and every other non-blank, non-comment line with why.
pub fn parse(text: &str) -> (Vec<Statement>, Vec<Skipped>) {
    let mut statements = Vec::new();
    let mut skipped = Vec::new();
    for (line, toks, why) in tokenize(text) {
        if let Some(why) = why {
            skipped.push(Skipped {
                line,
                // Named when it is too deep, so the report says which setting it was.
                name: if why == NESTED_TOO_DEEP {
                    name_of(&toks)
                } else {
                    String::new()
                },
                reason: why.to_string(),
            });
            continue;
        }
        match statement(&toks) {
            Ok((object, key, value)) => statements.push(Statement {
                line,
                object,
                key,
                value,
            }),
            Err((name, why)) => skipped.push(Skipped {
                line,
                name,
                reason: why.to_string(),
            }),
        }
    }
    (statements, skipped)
}

type Parsed = (String, Option<String>, RbValue);

/// `object['key']` or `object` from a statement's first tokens, else empty.
fn name_of(toks: &[Tok]) -> String {
    match toks {
        [Tok::Ident(o), Tok::LBracket, Tok::Str(k) | Tok::Sym(k), Tok::RBracket, ..] => {
            format!("{o}['{k}']")
        }
        [Tok::Ident(o), ..] => o.clone(),
        _ => String::new(),
    }
}

fn statement(toks: &[Tok]) -> Result<Parsed, (String, Why)> {
    let mut p = P { t: toks, i: 0 };
    let Some(Tok::Ident(object)) = p.next().cloned() else {
        return Err((String::new(), NOT_EVALUATED));
    };
    let done = |p: &P, name: &str| {
        if p.i == toks.len() {
            Ok(())
        } else {
            Err((name.to_string(), NOT_EVALUATED))
        }
    };
    match p.next().cloned() {
        Some(Tok::LBracket) => {
            let key = match p.next().cloned() {
                Some(Tok::Str(k)) | Some(Tok::Sym(k)) => k,
                _ => return Err((object, NOT_EVALUATED)),
            };
            let name = format!("{object}['{key}']");
            if p.next() != Some(&Tok::RBracket) || p.next() != Some(&Tok::Eq) {
                return Err((name, NOT_EVALUATED));
            }
            let value = p.value().map_err(|w| (name.clone(), w))?;
            done(&p, &name)?;
            Ok((object, Some(key), value))
        }
        Some(Tok::LParen) => {
            let value = p.value().map_err(|w| (object.clone(), w))?;
            if p.next() != Some(&Tok::RParen) {
                return Err((object, NOT_EVALUATED));
            }
            done(&p, &object)?;
            Ok((object, None, value))
        }
        Some(Tok::Str(s)) => {
            done(&p, &object)?;
            Ok((object, None, RbValue::Str(s)))
        }
        _ => Err((object, NOT_EVALUATED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_subset() {
        let text = r##"
# a comment
external_url 'https://gitlab.example.com'
gitlab_rails['smtp_port'] = 587 # trailing
gitlab_rails['smtp_password'] = "p\"w\u00e9#x"
gitlab_rails['x'] = 'it\'s \n'
gitlab_rails['incoming_email_inbox_options'] = {
   'tenant_id': '<T>',
   'poll_interval': 60  # Optional
}
mattermost['env'] = {"HTTP_PROXY" => "p", :NO_PROXY => "n"}
gitlab_rails['y'] = nil
gitlab_rails['z'] = "#{ENV['X']}"
if true
roles ['a']
"##;
        let (s, k) = parse(text);
        let names: Vec<String> = s.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "external_url",
                "gitlab_rails['smtp_port']",
                "gitlab_rails['smtp_password']",
                "gitlab_rails['x']",
                "gitlab_rails['incoming_email_inbox_options']",
                "mattermost['env']",
                "gitlab_rails['y']"
            ]
        );
        assert_eq!(s[2].value, RbValue::Str("p\"w\u{e9}#x".into()));
        assert_eq!(s[3].value, RbValue::Str("it's \\n".into()));
        assert_eq!(s[4].line, 7);
        assert_eq!(
            s[4].value,
            RbValue::Hash(vec![
                ("tenant_id".into(), RbValue::Str("<T>".into())),
                ("poll_interval".into(), RbValue::Int(60)),
            ])
        );
        assert_eq!(
            s[5].value,
            RbValue::Hash(vec![
                ("HTTP_PROXY".into(), RbValue::Str("p".into())),
                ("NO_PROXY".into(), RbValue::Str("n".into())),
            ])
        );
        let lines: Vec<usize> = k.iter().map(|k| k.line).collect();
        assert_eq!(lines, [13, 14, 15], "{k:?}");
    }

    fn nested_hash(levels: usize) -> String {
        format!(
            "gitlab_rails['smtp_address'] = {}1{}\n",
            "{'a' => ".repeat(levels),
            "}".repeat(levels)
        )
    }

    #[test]
    fn a_hash_64_deep_is_read_and_65_deep_is_nested_too_deep() {
        let (s, k) = parse(&nested_hash(MAX_NESTING));
        assert_eq!(s.len(), 1, "{k:?}");
        let (s, k) = parse(&nested_hash(MAX_NESTING + 1));
        assert!(s.is_empty());
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].name, "gitlab_rails['smtp_address']");
        assert_eq!(k[0].reason, NESTED_TOO_DEEP);
    }

    /// Every kind of nesting, 200,000 deep, on a test thread's small stack: skipped, named,
    /// and the next statement is still read.
    #[test]
    fn nesting_200000_deep_of_any_kind_never_overflows() {
        const N: usize = 200_000;
        let cases = [
            ("hash", nested_hash(N)),
            (
                "symbol-keyed hash",
                format!(
                    "mattermost['env'] = {}1{}\n",
                    "{a: ".repeat(N),
                    "}".repeat(N)
                ),
            ),
            (
                "array",
                format!("gitlab_rails['x'] = {}1{}\n", "[".repeat(N), "]".repeat(N)),
            ),
            (
                "parentheses",
                format!("external_url {}'u'{}\n", "(".repeat(N), ")".repeat(N)),
            ),
            (
                "unclosed braces",
                format!("gitlab_rails['x'] = {}\n", "{".repeat(N)),
            ),
            (
                "mixed",
                format!(
                    "gitlab_rails['x'] = {}1{}\n",
                    "[{(".repeat(N / 3),
                    ")}]".repeat(N / 3)
                ),
            ),
        ];
        for (what, text) in cases {
            let text = format!("{text}gitlab_rails['smtp_port'] = 25\n");
            let (s, k) = parse(&text);
            assert_eq!(k.len(), 1, "{what}");
            assert_eq!(k[0].reason, NESTED_TOO_DEEP, "{what}");
            assert_eq!(k[0].line, 1, "{what}");
            if what != "unclosed braces" {
                assert_eq!(s.len(), 1, "{what}: the next statement is read");
            }
        }
        // The reader does not recurse on these; they are skipped for what they are.
        let chain = format!("gitlab_rails['x'] = a{}\n", ".b".repeat(N));
        let (s, k) = parse(&chain);
        assert!(s.is_empty());
        assert!(k[0].reason.contains("method call"), "{k:?}");
        let interp = format!(
            "gitlab_rails['x'] = {}{}\n",
            "\"#{".repeat(N),
            "}\"".repeat(N)
        );
        let (s, k) = parse(&interp);
        assert!(s.is_empty());
        assert_eq!(k.len(), 1, "{k:?}");
    }

    /// The value reader bounds itself too, whatever the tokenizer let through.
    #[test]
    fn the_value_reader_stops_at_the_bound_on_its_own() {
        let mut toks = Vec::new();
        for _ in 0..200_000 {
            toks.extend([Tok::LBrace, Tok::Label("a".into())]);
        }
        toks.push(Tok::Int(1));
        toks.extend(std::iter::repeat_n(Tok::RBrace, 200_000));
        let mut p = P { t: &toks, i: 0 };
        assert_eq!(p.value(), Err(NESTED_TOO_DEEP));
    }
}
