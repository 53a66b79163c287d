//! A reader for the Ruby subset GitLab's documentation writes in `/etc/gitlab/gitlab.rb`.
//!
//! Statements it reads: `NAME['KEY'] = VALUE` (`gitlab_rails`, `mattermost`,
//! `mattermost_nginx`, `mailroom`, and any other, which the mapping then reports) and
//! `NAME 'VALUE'` / `NAME('VALUE')` (`external_url`, `mattermost_external_url`). A VALUE is a
//! single- or double-quoted string with escapes, an integer, `true`/`false`, `nil`, or a
//! hash in the `'k': v`, `k: v`, `'k' => v` and `:k => v` forms, possibly over several
//! lines; `;` separates statements as a newline does. Comments, blank lines, `=begin …
//! =end`, heredoc bodies and everything after `__END__` are skipped, as Ruby skips them;
//! strings decode `\x`, octal and `\u` escapes as Ruby does. Every statement inside a
//! condition or block (`if … end`, `… if x`, `do … end`) is returned as a [`Skipped`]
//! line, "inside a condition". Anything else (interpolation, method calls, arrays) is
//! returned as a [`Skipped`] line too: this module evaluates nothing, and it never puts a
//! value in a reason (values may be credentials).
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
fn tokenize(text: &str) -> Vec<(usize, Vec<Tok>, Option<Why>)> {
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
    let flush = |out: &mut Vec<_>,
                 toks: &mut Vec<Tok>,
                 err: &mut Option<Why>,
                 deepest: &mut i64,
                 start: usize| {
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
    };
    // Heredoc terminators waiting for the end of the current line: (word, indented).
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if i == 0 || chars[i - 1] == '\n' {
            match line_start(&chars, i) {
                LineStart::End => break,
                LineStart::Comment(next, lines, closed) => {
                    i = next;
                    line += lines;
                    if !closed {
                        err = err.or(Some("an `=begin` without `=end`, which Ruby refuses"));
                    }
                    continue;
                }
                LineStart::Code => {}
            }
        }
        if toks.is_empty() && err.is_none() {
            start = line;
        }
        match c {
            '\n' => {
                line += 1;
                i += 1;
                if !heredocs.is_empty() {
                    let (next, lines, closed) = skip_heredocs(&chars, i, &heredocs);
                    heredocs.clear();
                    i = next;
                    line += lines;
                    if !closed {
                        err = err.or(Some("a heredoc without its terminator, which Ruby refuses"));
                    }
                }
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
            '[' | '{' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
                toks.push(match c {
                    '[' => Tok::LBracket,
                    '{' => Tok::LBrace,
                    _ => Tok::LParen,
                });
                i += 1;
            }
            ']' | '}' | ')' => {
                depth -= 1;
                toks.push(match c {
                    ']' => Tok::RBracket,
                    '}' => Tok::RBrace,
                    _ => Tok::RParen,
                });
                i += 1;
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            ';' => {
                // Two statements on one line (`GITLAB_OMNIBUS_CONFIG`'s one-liners).
                i += 1;
                if depth <= 0 {
                    depth = 0;
                    flush(&mut out, &mut toks, &mut err, &mut deepest, start);
                } else {
                    err = err.or(Some(NOT_EVALUATED));
                }
            }
            '<' if chars.get(i + 1) == Some(&'<') && heredoc_start(&chars, i + 2).is_some() => {
                let (word, indented, next) = heredoc_start(&chars, i + 2).unwrap_or_default();
                heredocs.push((word, indented));
                err = err.or(Some("a heredoc, which this reader does not read"));
                i = next;
            }
            '=' if chars.get(i + 1) == Some(&'>') => {
                toks.push(Tok::Arrow);
                i += 2;
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                err = err.or(Some(NOT_EVALUATED));
                i += 2;
            }
            '=' => {
                toks.push(Tok::Eq);
                i += 1;
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
                i = j;
            }
            ':' => {
                toks.push(Tok::Colon);
                i += 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                i = read_number(&chars, i, &mut toks, &mut err);
            }
            c if c.is_alphabetic() || c == '_' => {
                i = read_word(&chars, i, depth, &mut toks, &mut err);
            }
            _ => {
                err = err.or(Some(NOT_EVALUATED));
                i += 1;
            }
        }
    }
    flush(&mut out, &mut toks, &mut err, &mut deepest, start);
    out
}

/// What a line start holds, for the constructs Ruby reads only there.
enum LineStart {
    Code,
    /// `__END__` alone on its line: Ruby reads nothing after it.
    End,
    /// `=begin … =end`: (the index after it, the newlines it held, whether `=end` came).
    Comment(usize, usize, bool),
}

/// Whether `chars[i..]` starts with `word` followed by whitespace or the end of the text.
fn starts_word(chars: &[char], i: usize, word: &str, alone: bool) -> bool {
    let w: Vec<char> = word.chars().collect();
    if !chars[i..].starts_with(&w) {
        return false;
    }
    match chars.get(i + w.len()) {
        None | Some('\n') => true,
        Some('\r') => !alone || matches!(chars.get(i + w.len() + 1), None | Some('\n')),
        Some(' ' | '\t') => !alone,
        _ => false,
    }
}

fn line_start(chars: &[char], i: usize) -> LineStart {
    if starts_word(chars, i, "__END__", true) {
        return LineStart::End;
    }
    if !starts_word(chars, i, "=begin", false) {
        return LineStart::Code;
    }
    let mut j = i;
    let mut lines = 0;
    loop {
        // To the start of the next line.
        while j < chars.len() && chars[j] != '\n' {
            j += 1;
        }
        if j >= chars.len() {
            return LineStart::Comment(j, lines, false);
        }
        j += 1;
        lines += 1;
        if starts_word(chars, j, "=end", false) {
            while j < chars.len() && chars[j] != '\n' {
                j += 1;
            }
            if j < chars.len() {
                j += 1;
                lines += 1;
            }
            return LineStart::Comment(j, lines, true);
        }
    }
}

/// After `<<`: a heredoc's terminator (`<<~EOS`, `<<-EOS`, `<<EOS`, quoted or not),
/// whether it may be indented, and the index after it; `None` when this is no heredoc.
fn heredoc_start(chars: &[char], j: usize) -> Option<(String, bool, usize)> {
    let indented = matches!(chars.get(j), Some('~' | '-'));
    let mut k = if indented { j + 1 } else { j };
    match chars.get(k) {
        Some(q @ ('\'' | '"' | '`')) => {
            let q = *q;
            let from = k + 1;
            k = from;
            while k < chars.len() && chars[k] != q && chars[k] != '\n' {
                k += 1;
            }
            if chars.get(k) != Some(&q) {
                return None;
            }
            Some((chars[from..k].iter().collect(), indented, k + 1))
        }
        Some(c) if c.is_alphabetic() || *c == '_' => {
            let from = k;
            while k < chars.len() && (chars[k].is_alphanumeric() || chars[k] == '_') {
                k += 1;
            }
            Some((chars[from..k].iter().collect(), indented, k))
        }
        _ => None,
    }
}

/// Skips the bodies of `heredocs` from the line starting at `chars[i]`: (the index after
/// the last terminator, the newlines skipped, whether every terminator came).
fn skip_heredocs(
    chars: &[char],
    mut i: usize,
    heredocs: &[(String, bool)],
) -> (usize, usize, bool) {
    let mut lines = 0;
    for (word, indented) in heredocs {
        loop {
            if i >= chars.len() {
                return (i, lines, false);
            }
            let end = chars[i..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(chars.len(), |p| i + p);
            let text: String = chars[i..end].iter().collect();
            let text = text.strip_suffix('\r').unwrap_or(&text);
            let text = if *indented { text.trim_start() } else { text };
            i = (end + 1).min(chars.len());
            if end < chars.len() {
                lines += 1;
            }
            if text == word {
                break;
            }
        }
    }
    (i, lines, true)
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
/// sets `err`. `\x` and octal escapes give bytes, as in Ruby: a string they leave invalid
/// UTF-8 sets `err`.
fn read_string(
    chars: &[char],
    quote: char,
    i: &mut usize,
    line: &mut usize,
    err: &mut Option<Why>,
) -> String {
    let mut s: Vec<u8> = Vec::new();
    let push = |s: &mut Vec<u8>, c: char| {
        let mut b = [0; 4];
        s.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    };
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
                    '\\' | '\'' => push(&mut s, e),
                    _ => {
                        if e == '\n' {
                            *line += 1;
                        }
                        push(&mut s, '\\');
                        push(&mut s, e);
                    }
                }
                continue;
            }
            match e {
                'n' => s.push(b'\n'),
                't' => s.push(b'\t'),
                'r' => s.push(b'\r'),
                's' => s.push(b' '),
                'e' => s.push(0x1b),
                'a' => s.push(0x07),
                'b' => s.push(0x08),
                'f' => s.push(0x0c),
                'v' => s.push(0x0b),
                '0'..='7' => {
                    // Up to three octal digits; Ruby keeps the low byte.
                    let mut n = e.to_digit(8).unwrap_or_default();
                    for _ in 0..2 {
                        match chars.get(*i).and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                n = n * 8 + d;
                                *i += 1;
                            }
                            None => break,
                        }
                    }
                    s.push((n & 0xff) as u8);
                }
                'x' => {
                    let mut n = 0;
                    let mut used = 0;
                    while used < 2 {
                        match chars.get(*i).and_then(|c| c.to_digit(16)) {
                            Some(d) => {
                                n = n * 16 + d;
                                *i += 1;
                                used += 1;
                            }
                            None => break,
                        }
                    }
                    if used == 0 {
                        // Ruby: "invalid hex escape".
                        *err = err.or(Some("an invalid `\\x` escape, which Ruby refuses"));
                    }
                    s.push(n as u8);
                }
                'u' => {
                    let (cps, used) = unicode_escape(&chars[*i..]);
                    match cps {
                        Some(cps) => cps.into_iter().for_each(|c| push(&mut s, c)),
                        None => *err = err.or(Some("an invalid `\\u` escape, which Ruby refuses")),
                    }
                    *i += used;
                }
                // Control and meta escapes (`\cx`, `\C-x`, `\M-x`).
                'c' | 'C' | 'M' => *err = err.or(Some(NOT_EVALUATED)),
                '\n' => *line += 1,
                other => push(&mut s, other),
            }
            continue;
        }
        if quote == '"' && d == '#' && matches!(chars.get(*i + 1), Some('{' | '@' | '$')) {
            *err = err.or(Some(
                "string interpolation, which this reader does not evaluate",
            ));
        }
        push(&mut s, d);
        *i += 1;
    }
    if !closed {
        *err = err.or(Some("an unterminated string"));
    }
    match String::from_utf8(s) {
        Ok(s) => s,
        Err(e) => {
            *err = err.or(Some(
                "a string whose `\\x` or octal escapes are not UTF-8 text",
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    }
}

/// `\uXXXX` or `\u{X …}` after the `u`: the characters and how many chars were used;
/// `None` when Ruby would refuse it.
fn unicode_escape(rest: &[char]) -> (Option<Vec<char>>, usize) {
    let cp = |hex: &str| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    if rest.first() == Some(&'{') {
        match rest.iter().position(|c| *c == '}') {
            Some(e) => {
                let inner: String = rest[1..e].iter().collect();
                let cps: Option<Vec<char>> = inner
                    .split_whitespace()
                    .map(|h| if h.len() <= 6 { cp(h) } else { None })
                    .collect();
                (cps.filter(|c| !c.is_empty()), e + 1)
            }
            None => (None, rest.len()),
        }
    } else {
        let n = rest
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if n < 4 {
            return (None, n);
        }
        let hex: String = rest[..4].iter().collect();
        (cp(&hex).map(|c| vec![c]), 4)
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

/// The reason of a statement inside `if … end`, `unless`, `case`, a loop, a block or
/// after a modifier (`… if x`): Ruby may or may not run it, so it is not imported.
pub const INSIDE_CONDITION: &str =
    "inside a condition: Ruby runs it or not depending on the condition, which this reader does not evaluate; set the value in toolctl.toml if it applies";

/// The reason of a keyword line (`if x`, `else`, `end`, …).
pub const CONDITION: &str = "a condition or block, which this reader does not evaluate";

/// The reason when the file ends inside a block (`if` without `end`).
pub const UNCLOSED_BLOCK: &str =
    "the file ends inside a block (an `if`, `do` or `begin` without `end`), so Ruby refuses the whole file";

/// Keywords that start a line of a condition or block.
const KEYWORDS: &[&str] = &[
    "if", "elsif", "else", "end", "unless", "case", "when", "in", "then", "while", "until", "for",
    "begin", "rescue", "ensure", "do", "def", "class", "module",
];

/// How a statement's tokens open and close blocks: (opened, closed, a modifier condition).
fn blocks_of(toks: &[Tok]) -> (usize, usize, bool) {
    let (mut opens, mut closes, mut modifier, mut loop_head) = (0, 0, false, false);
    for (idx, t) in toks.iter().enumerate() {
        let Tok::Ident(w) = t else { continue };
        // At the start of an expression `if` opens a block; after a value it is a modifier.
        let expression = matches!(
            idx.checked_sub(1).map(|j| &toks[j]),
            None | Some(
                Tok::Eq
                    | Tok::LParen
                    | Tok::Comma
                    | Tok::Arrow
                    | Tok::LBracket
                    | Tok::LBrace
                    | Tok::Label(_)
            )
        );
        match w.as_str() {
            "if" | "unless" | "while" | "until" if expression => {
                opens += 1;
                loop_head |= matches!(w.as_str(), "while" | "until");
            }
            "if" | "unless" | "while" | "until" | "rescue" => modifier = true,
            "for" => {
                opens += 1;
                loop_head = true;
            }
            "case" | "begin" | "def" | "class" | "module" => opens += 1,
            // `while x do`: the loop's own `do` opens nothing more.
            "do" if !loop_head => opens += 1,
            "end" => closes += 1,
            _ => {}
        }
    }
    (opens, closes, modifier)
}

/// Reads `text`: the statements, and every other non-blank, non-comment line with why.
pub fn parse(text: &str) -> (Vec<Statement>, Vec<Skipped>) {
    let mut statements = Vec::new();
    let mut skipped = Vec::new();
    let mut open_blocks = 0usize;
    let mut last_line = 0;
    for (line, toks, why) in tokenize(text) {
        last_line = line;
        let (opens, closes, modifier) = blocks_of(&toks);
        let inside = open_blocks > 0 || opens > 0 || modifier;
        open_blocks = (open_blocks + opens).saturating_sub(closes);
        if inside {
            let keyword =
                matches!(toks.first(), Some(Tok::Ident(w)) if KEYWORDS.contains(&w.as_str()));
            skipped.push(Skipped {
                line,
                name: if keyword {
                    String::new()
                } else {
                    name_of(&toks)
                },
                reason: if keyword { CONDITION } else { INSIDE_CONDITION }.to_string(),
            });
            continue;
        }
        if let Some(why) = why {
            skipped.push(Skipped {
                line,
                // Named when it can be told, so the report says which setting it was.
                name: name_of(&toks),
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
    if open_blocks > 0 {
        skipped.push(Skipped {
            line: last_line,
            name: String::new(),
            reason: UNCLOSED_BLOCK.to_string(),
        });
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
        [Tok::Ident(o), ..] if !KEYWORDS.contains(&o.as_str()) => o.clone(),
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
end
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
        assert_eq!(lines, [13, 14, 15, 16], "{k:?}");
    }

    /// Values and names of what was read, and (line, name, reason) of what was not.
    type Read = (Vec<(String, RbValue)>, Vec<(usize, String, String)>);

    fn read(text: &str) -> Read {
        let (s, k) = parse(text);
        (
            s.into_iter().map(|s| (s.name(), s.value)).collect(),
            k.into_iter().map(|k| (k.line, k.name, k.reason)).collect(),
        )
    }

    #[test]
    fn semicolons_separate_statements_on_one_line() {
        let (s, k) = read(
            "external_url 'https://a.example'; gitlab_rails['smtp_port'] = 25;gitlab_rails['x'] = {'a' => 1; }\n",
        );
        assert_eq!(
            s,
            [
                (
                    "external_url".to_string(),
                    RbValue::Str("https://a.example".into())
                ),
                ("gitlab_rails['smtp_port']".to_string(), RbValue::Int(25)),
            ]
        );
        assert_eq!(k.len(), 1, "{k:?}");
        assert_eq!(k[0].1, "gitlab_rails['x']");
    }

    #[test]
    fn embedded_documents_heredocs_and_end_are_skipped_as_ruby_skips_them() {
        let text = "=begin\ngitlab_rails['a'] = 1\n=end trailing words\n\
                    gitlab_rails['b'] = 2\n\
                    gitlab_rails['c'] = <<~EOS\n  gitlab_rails['d'] = 3\n  EOS\n\
                    gitlab_rails['e'] = <<-'X' + <<Y\ngitlab_rails['f'] = 4\n   X\ngitlab_rails['g'] = 5\nY\n\
                    gitlab_rails['h'] = 6\n\
                    =beginning = 1\n\
                    __END__\ngitlab_rails['i'] = 7\n";
        let (s, k) = read(text);
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["gitlab_rails['b']", "gitlab_rails['h']"], "{k:?}");
        assert_eq!(s[1].1, RbValue::Int(6));
        // The heredoc statements are listed, named, at their lines; their bodies are not.
        let listed: Vec<(usize, &str)> = k.iter().map(|(l, n, _)| (*l, n.as_str())).collect();
        assert_eq!(
            listed,
            [(5, "gitlab_rails['c']"), (8, "gitlab_rails['e']"), (14, "")],
            "{k:?}"
        );
        assert!(k[0].2.contains("heredoc"));
        // An embedded document never closed: Ruby refuses it, and nothing after it is read.
        let (s, k) = read("gitlab_rails['a'] = 1\n=begin\ngitlab_rails['b'] = 2\n");
        assert_eq!(s.len(), 1);
        assert!(k[0].2.contains("=begin"), "{k:?}");
    }

    #[test]
    fn statements_inside_a_condition_are_listed_not_read() {
        let text = "gitlab_rails['a'] = 1\n\
                    if File.exist?('/x')\n\
                    gitlab_rails['b'] = 2\n\
                    elsif x == 1\n\
                    gitlab_rails['c'] = {'k' => 1,\n 'l' => 2}\n\
                    else\n\
                    [1].each do |v|\n\
                    gitlab_rails['d'] = 3\n\
                    end\n\
                    end\n\
                    gitlab_rails['e'] = 4 unless y\n\
                    gitlab_rails['f'] = if z then 1 else 2 end\n\
                    while q do gitlab_rails['g'] = 5 end\n\
                    gitlab_rails['h'] = 6\n";
        let (s, k) = read(text);
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["gitlab_rails['a']", "gitlab_rails['h']"], "{k:?}");
        let inside: Vec<(usize, &str)> = k
            .iter()
            .filter(|(_, _, r)| r == INSIDE_CONDITION)
            .map(|(l, n, _)| (*l, n.as_str()))
            .collect();
        assert_eq!(
            inside,
            [
                (3, "gitlab_rails['b']"),
                (5, "gitlab_rails['c']"),
                (8, ""),
                (9, "gitlab_rails['d']"),
                (12, "gitlab_rails['e']"),
                (13, "gitlab_rails['f']"),
            ],
            "{k:?}"
        );
        let keywords: Vec<usize> = k
            .iter()
            .filter(|(_, _, r)| r == CONDITION)
            .map(|(l, _, _)| *l)
            .collect();
        assert_eq!(keywords, [2, 4, 7, 10, 11, 14], "{k:?}");
        // An `if` never closed.
        let (s, k) = read("if a\ngitlab_rails['b'] = 2\n");
        assert!(s.is_empty());
        assert_eq!(k.last().unwrap().2, UNCLOSED_BLOCK);
    }

    #[test]
    fn escapes_are_decoded_as_ruby_decodes_them() {
        let (s, k) = read(concat!(
            "a['x'] = \"\\x41\\x4a\\101\\0\\7\\u00e9\\u{1F600 41}\\8\"\n",
            "a['y'] = \"\\xc3\\xa9\\303\\251\"\n",
            "a['z'] = '\\x41\\101'\n",
            "a['bad'] = \"\\xff\"\n",
            "a['bad2'] = \"\\u12\"\n",
            "a['bad3'] = \"\\cA\"\n",
            "a['bad4'] = \"\\xg\"\n",
        ));
        assert_eq!(s[0].1, RbValue::Str("AJA\0\x07\u{e9}\u{1F600}A8".into()));
        assert_eq!(s[1].1, RbValue::Str("\u{e9}\u{e9}".into()));
        assert_eq!(s[2].1, RbValue::Str("\\x41\\101".into()));
        let bad: Vec<&str> = k.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(
            bad,
            ["a['bad']", "a['bad2']", "a['bad3']", "a['bad4']"],
            "{k:?}"
        );
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
