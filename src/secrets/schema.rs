//! Checks a secret's plaintext against its scope's schema before anything is encrypted.
//!
//! The content must be UTF-8 YAML whose top level is a mapping of the scope's keys to
//! strings. Every refusal says what is wrong and where (key names, lines, YAML types) but
//! never quotes a value: the values are the secrets.

use thiserror::Error;

use super::scope::Scope;

/// The largest secret `write` accepts.
pub const MAX_LEN: usize = 1024 * 1024;

/// Why a secret's content was refused. No variant carries a value from the content.
#[derive(Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("the input is empty")]
    Empty,
    #[error("the input is larger than 1 MiB")]
    TooLarge,
    #[error("the input is not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("the input is not valid YAML: {0}")]
    Yaml(String),
    #[error("the input holds no keys (only comments or an empty mapping)")]
    NoKeys,
    #[error("the top level is {0}, not a mapping of keys to strings")]
    NotMapping(&'static str),
    #[error("a key is {0}, not a name")]
    KeyNotString(&'static str),
    #[error("unknown key {} for the {scope} secret", quoted_key(.key))]
    UnknownKey {
        key: String,
        scope: Scope,
        closest: Option<&'static str>,
    },
    #[error("key `{0}` appears more than once")]
    Duplicate(String),
    #[error("the value of `{key}` is {kind}, not a string")]
    NotString { key: String, kind: &'static str },
    #[error(
        "the value of `{key}` is not strict base64 of exactly 32 bytes ({why}); GitLab and \
         mail_room decode it with `strict_decode64`, so every postback would fail"
    )]
    NotBase64Key { key: &'static str, why: String },
    #[error("the value of `{key}` is {chars} characters long; it must be {min} to {max}")]
    Length {
        key: String,
        chars: usize,
        min: usize,
        max: usize,
    },
}

/// `Debug` is the `Display` text: a derived one would print an unknown key whole, and a
/// mistyped line can make a key of the value (`password:s3cret:`).
impl std::fmt::Debug for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SchemaError({self})")
    }
}

impl SchemaError {
    /// The fix to suggest.
    pub fn hint(&self, scope: Scope) -> String {
        let allowed = scope
            .keys()
            .iter()
            .map(|k| format!("`{}`", k.name))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            SchemaError::Empty | SchemaError::NoKeys => format!(
                "give a YAML mapping such as `{}: '…'`; allowed keys: {allowed}",
                scope.keys()[0].name
            ),
            SchemaError::TooLarge => "a secret holds a few short strings: check that the right \
                                      file was piped in"
                .into(),
            SchemaError::NotUtf8(_) => {
                "save the content as UTF-8; if it is still encrypted (KMS, age), decrypt it first"
                    .into()
            }
            SchemaError::Yaml(_) => "fix the YAML at that line: one `key: 'value'` per line".into(),
            SchemaError::Duplicate(key) => format!("keep one `{key}:` line"),
            SchemaError::NotMapping(_) | SchemaError::KeyNotString(_) => {
                format!("write one `key: 'value'` per line; allowed keys: {allowed}")
            }
            SchemaError::UnknownKey { closest, .. } => match closest {
                Some(c) => format!("did you mean `{c}`? allowed keys: {allowed}"),
                None => format!("allowed keys: {allowed}"),
            },
            SchemaError::NotBase64Key { key, .. } => format!(
                "generate one: `openssl rand -base64 32 | toolctl {scope} secret set {key}` \
                 (44 characters ending in `=`; the other nodes get it through the shared store)"
            ),
            SchemaError::Length { key, min, max, .. } => format!(
                "give `{key}` a value of {min} to {max} characters (GitLab refuses any other length)"
            ),
            SchemaError::NotString { key, .. } => format!(
                "quote the value so YAML reads it as a string: `{key}: '…'` \
                 (unquoted, `0123` is a number and `yes` a boolean)"
            ),
        }
    }
}

/// One key of a parsed secret and its value.
pub struct Entry {
    pub key: String,
    pub value: zeroize::Zeroizing<String>,
}

/// Checks that `bytes` is a valid secret for `scope`: [`parse`], and the values' own
/// formats, which only writes check (a store written before a format was enforced still
/// loads, so that it can be fixed with `secret set`).
pub fn validate(scope: Scope, bytes: &[u8]) -> Result<(), SchemaError> {
    check_formats(scope, &parse(scope, bytes)?)
}

/// The bytes of the mailroom webhook token: GitLab's `read_secret` (`Base64.strict_decode64`
/// of the file, then a length check against 32) and mail_room's JWT signing decode the
/// same way, so any other value makes every postback fail.
const WEBHOOK_SECRET_BYTES: usize = 32;

fn check_formats(scope: Scope, entries: &[Entry]) -> Result<(), SchemaError> {
    if scope != Scope::Mailroom {
        return Ok(());
    }
    let Some(e) = entries.iter().find(|e| e.key == "webhook_secret") else {
        return Ok(());
    };
    match webhook_secret_problem(&e.value) {
        None => Ok(()),
        Some(why) => Err(SchemaError::NotBase64Key {
            key: "webhook_secret",
            why,
        }),
    }
}

/// Why `value` is not a webhook token GitLab can read (`None` when it is): never the value.
pub fn webhook_secret_problem(value: &str) -> Option<String> {
    use base64::Engine;
    // STANDARD: the `+/` alphabet with `=` padding required, and no whitespace or line
    // breaks, as Ruby's strict_decode64. Non-canonical trailing bits are refused there too.
    match base64::engine::general_purpose::STANDARD.decode(value.as_bytes()) {
        Err(_) => Some("not strict base64".to_string()),
        Ok(bytes) => {
            let n = zeroize::Zeroizing::new(bytes).len();
            (n != WEBHOOK_SECRET_BYTES).then(|| format!("it decodes to {n} bytes"))
        }
    }
}

/// Parses a secret of `scope` into its entries, refusing anything but a flat mapping of
/// the scope's keys to strings.
///
/// An unquoted value is a string only if neither YAML 1.1 (what GitLab's Ruby, Psych,
/// reads) nor YAML 1.2 would type it otherwise: `0123` is octal 83 to Psych, `yes` is
/// true, `2024-01-01` a date, `:x` a symbol. So the check works on the parser's events,
/// where a scalar's quoting is still known, rather than on a loaded value.
pub fn parse(scope: Scope, bytes: &[u8]) -> Result<Vec<Entry>, SchemaError> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;

    if bytes.len() > MAX_LEN {
        return Err(SchemaError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| SchemaError::NotUtf8(e.valid_up_to()))?;
    // A UTF-8 byte order mark is read as Psych would see the rest: the store keeps the
    // content without it (see `strip_bom`), so it never reaches GitLab.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    refuse_tab_indentation(text)?;
    if text.trim().is_empty() {
        return Err(SchemaError::Empty);
    }
    let mut parser = Parser::new_from_str(text);
    let mut next = || -> Result<Event, SchemaError> {
        parser
            .next_token()
            .map(|(event, _)| event)
            .map_err(|e| SchemaError::Yaml(e.to_string()))
    };
    // Stream start, then the first document (or nothing at all).
    let mut event = next()?;
    if matches!(event, Event::StreamStart) {
        event = next()?;
    }
    match event {
        Event::StreamEnd => return Err(SchemaError::NoKeys),
        Event::DocumentStart => {}
        _ => return Err(SchemaError::Yaml("unexpected YAML structure".into())),
    }
    match next()? {
        Event::MappingStart(..) => {}
        Event::Scalar(v, style, ..) if style == TScalarStyle::Plain && v.is_empty() => {
            return Err(SchemaError::NoKeys)
        }
        Event::Scalar(..) => return Err(SchemaError::NotMapping("a single value")),
        Event::SequenceStart(..) => return Err(SchemaError::NotMapping("a list")),
        Event::Alias(_) => return Err(SchemaError::NotMapping("an alias")),
        _ => return Err(SchemaError::Yaml("unexpected YAML structure".into())),
    }
    let allowed: Vec<&'static str> = scope.keys().iter().map(|k| k.name).collect();
    let mut entries: Vec<Entry> = Vec::new();
    while let Some(key) = mapping_key(next()?)? {
        if !allowed.contains(&key.as_str()) {
            return Err(SchemaError::UnknownKey {
                closest: closest(&key, &allowed),
                key,
                scope,
            });
        }
        if entries.iter().any(|e| e.key == key) {
            return Err(SchemaError::Duplicate(key));
        }
        let value = mapping_value(next()?, &key)?;
        entries.push(Entry { key, value });
    }
    match next()? {
        Event::DocumentEnd => {}
        _ => {
            return Err(SchemaError::Yaml(
                "unexpected content after the mapping".into(),
            ))
        }
    }
    if !matches!(next()?, Event::StreamEnd) {
        return Err(SchemaError::Yaml(
            "more than one YAML document (`---`); give one mapping".into(),
        ));
    }
    if entries.is_empty() {
        return Err(SchemaError::NoKeys);
    }
    check_lengths(scope, &entries)?;
    Ok(entries)
}

/// A key of the secret's mapping (`None` at the mapping's end): a string, never a plain
/// scalar that YAML would type otherwise, a list, a mapping or an alias.
fn mapping_key(event: yaml_rust2::parser::Event) -> Result<Option<String>, SchemaError> {
    use yaml_rust2::parser::Event;
    use yaml_rust2::scanner::TScalarStyle;
    match event {
        Event::MappingEnd => Ok(None),
        Event::Scalar(k, style, _, tag) => {
            if style == TScalarStyle::Plain && tag.is_none() {
                if let Some(kind) = plain_type(&k) {
                    return Err(SchemaError::KeyNotString(kind));
                }
            }
            Ok(Some(k))
        }
        Event::SequenceStart(..) => Err(SchemaError::KeyNotString("a list")),
        Event::MappingStart(..) => Err(SchemaError::KeyNotString("a mapping")),
        _ => Err(SchemaError::KeyNotString("an alias")),
    }
}

/// The value of `key`: a string (quoted, `!!str`, or a plain scalar YAML reads as one).
fn mapping_value(
    event: yaml_rust2::parser::Event,
    key: &str,
) -> Result<zeroize::Zeroizing<String>, SchemaError> {
    use yaml_rust2::parser::Event;
    use yaml_rust2::scanner::TScalarStyle;
    let not_string = |kind| SchemaError::NotString {
        key: key.to_string(),
        kind,
    };
    match event {
        Event::Scalar(v, style, _, tag) => {
            let v = zeroize::Zeroizing::new(v);
            match (&tag, style) {
                (Some(t), _) if !(t.handle == "tag:yaml.org,2002:" && t.suffix == "str") => {
                    Err(not_string("a tagged value"))
                }
                (None, TScalarStyle::Plain) => match plain_type(&v) {
                    Some(kind) => Err(not_string(kind)),
                    None => Ok(v),
                },
                _ => Ok(v),
            }
        }
        Event::SequenceStart(..) => Err(not_string("a list")),
        Event::MappingStart(..) => Err(not_string("a mapping")),
        _ => Err(not_string("an alias")),
    }
}

/// The lengths GitLab validates: `ServiceDesk::CustomEmailCredential` checks `length: {
/// minimum: 8, maximum: 128 }`, so a password it would refuse is refused here, before it
/// is stored.
fn check_lengths(scope: Scope, entries: &[Entry]) -> Result<(), SchemaError> {
    if scope != Scope::CustomEmail {
        return Ok(());
    }
    if let Some(e) = entries.iter().find(|e| e.key == "password") {
        let n = e.value.chars().count();
        if !(8..=128).contains(&n) {
            return Err(SchemaError::Length {
                key: "password".into(),
                chars: n,
                min: 8,
                max: 128,
            });
        }
    }
    Ok(())
}

/// The content without a leading UTF-8 byte order mark (Psych's `YAML.load` silently
/// keeps only the first key of a string that starts with one).
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
}

/// A tab in a line's indentation, refused on every line as Psych refuses it ("found
/// character that cannot start any token"); tabs inside values and after the colon stay
/// allowed, as Psych allows them. Blank and comment lines are not indentation.
fn refuse_tab_indentation(text: &str) -> Result<(), SchemaError> {
    for (i, line) in text.lines().enumerate() {
        let rest = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - rest.len()];
        if let Some(col) = indent.find('\t') {
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(SchemaError::Yaml(format!(
                    "found character that cannot start any token (a tab used as indentation) at line {} column {}",
                    i + 1,
                    col + 1
                )));
            }
        }
    }
    Ok(())
}

/// The plain scalars YAML 1.1 (Psych) reads as booleans.
const BOOLEANS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
];

/// What an unquoted scalar means to YAML 1.1 or 1.2 when it is not a string.
fn plain_type(s: &str) -> Option<&'static str> {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    // `_` separates digits in YAML 1.1; Psych also drops `,` (`1,000` is 1000 to it).
    let digits = |t: &str, ok: fn(char) -> bool| {
        !t.is_empty() && t.chars().all(|c| ok(c) || c == '_' || c == ',')
    };
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Some("empty (null)");
    }
    if BOOLEANS.contains(&s) {
        return Some("a boolean");
    }
    let is_int = unsigned.starts_with(|c: char| c.is_ascii_digit())
        && (digits(unsigned, |c| c.is_ascii_digit())
            || unsigned
                .strip_prefix("0x")
                .is_some_and(|t| digits(t, |c| c.is_ascii_hexdigit()))
            || unsigned
                .strip_prefix("0o")
                .is_some_and(|t| digits(t, |c| c.is_digit(8)))
            || unsigned
                .strip_prefix("0b")
                .is_some_and(|t| digits(t, |c| c.is_digit(2))));
    if is_int || sexagesimal(unsigned) {
        return Some("a number");
    }
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        return Some("a number");
    }
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (lower.as_str(), None),
    };
    let mantissa_ok = mantissa.chars().any(|c| c.is_ascii_digit())
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_' | ','))
        && (mantissa.contains('.') || exponent.is_some());
    if mantissa_ok && exponent.is_none_or(|e| digits(e, |c| c.is_ascii_digit())) {
        return Some("a number");
    }
    // YAML 1.1 timestamps: 2001-12-14, 2001-12-14t21:59:43.10-05:00, …
    let b = s.as_bytes();
    if b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .take(2)
            .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|c| c.is_ascii_digit()))
    {
        return Some("a date");
    }
    if s.len() > 1 && s.starts_with(':') && !s[1..].starts_with([' ', ':']) {
        return Some("a Ruby symbol");
    }
    None
}

/// YAML 1.1 base 60, sign already stripped: `190:20:30` is the integer 685230 and
/// `190:20:30.15` the float 685230.15 (what Psych reads them as). The first part takes
/// digits and `_`, each further part is `[0-5]?[0-9]`, a float ends with `.` and digits
/// (`_` allowed). Psych takes one or two `:` parts, the YAML 1.1 types page any number:
/// any number is refused.
fn sexagesimal(unsigned: &str) -> bool {
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = whole.split(':');
    let first = parts.next().unwrap_or_default();
    let first_ok = first.starts_with(|c: char| c.is_ascii_digit())
        && first.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mut groups = 0;
    for part in parts {
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    first_ok && groups > 0
}

/// An unknown key as a message may show it. A key that is not a plain name is not shown:
/// a slip such as `password:s3cret:` or `password s3cret:` parses as one key that holds
/// the value.
fn quoted_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("`{key}`")
    } else {
        "(not shown: it is not a plain name and may hold a value)".into()
    }
}

/// The nearest allowed key, when it is near enough to be a typo.
fn closest(key: &str, allowed: &[&'static str]) -> Option<&'static str> {
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(key, a), *a))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_accepted_and_stripped() {
        let with_bom = "\u{feff}user_name: 'u'\npassword: 'p'\n".as_bytes();
        let entries = parse(Scope::Smtp, with_bom).expect("a BOM is accepted");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, "user_name");
        assert_eq!(strip_bom(with_bom), b"user_name: 'u'\npassword: 'p'\n");
    }

    #[test]
    fn tab_indentation_is_refused_on_every_line_with_its_number() {
        for (text, line) in [
            ("\tpassword: 'a'\n", 1),
            ("user_name: 'u'\n\tpassword: 'a'\n", 2),
            ("user_name: 'u'\n  \tpassword: 'a'\n", 2),
        ] {
            match validate(Scope::Smtp, text.as_bytes()) {
                Err(SchemaError::Yaml(m)) => {
                    assert!(
                        m.contains("found character that cannot start any token"),
                        "{m}"
                    );
                    assert!(m.contains(&format!("line {line} ")), "{m}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // Tabs inside values and after the colon are fine, as in Psych.
        assert_eq!(validate(Scope::Smtp, b"password:\t'a\tb'\n"), Ok(()));
        assert_eq!(
            validate(Scope::Smtp, b"password: 'a'\n\t# a comment\n"),
            Ok(())
        );
    }

    #[test]
    fn accepts_the_seed_example() {
        assert_eq!(
            validate(Scope::Smtp, b"user_name: 'gitlab-inst'\npassword: '123'\n"),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_design_md_lists() {
        assert!(matches!(
            validate(Scope::Smtp, b"pasword: 'x'"),
            Err(SchemaError::UnknownKey {
                closest: Some("password"),
                ..
            })
        ));
        assert!(matches!(
            validate(Scope::Smtp, b"password: 0123"),
            Err(SchemaError::NotString {
                kind: "a number",
                ..
            })
        ));
        assert_eq!(
            validate(Scope::Smtp, b"- a\n- b\n"),
            Err(SchemaError::NotMapping("a list"))
        );
        assert_eq!(
            validate(Scope::Smtp, b"just text"),
            Err(SchemaError::NotMapping("a single value"))
        );
        assert!(matches!(
            validate(Scope::Smtp, b"password: 'a'\npassword: 'b'\n"),
            Err(SchemaError::Duplicate(_))
        ));
        assert_eq!(validate(Scope::Smtp, b""), Err(SchemaError::Empty));
        assert_eq!(validate(Scope::Smtp, b"# only\n"), Err(SchemaError::NoKeys));
        assert_eq!(validate(Scope::Smtp, b"{}"), Err(SchemaError::NoKeys));
        assert!(matches!(
            validate(Scope::Smtp, b"password: b: c"),
            Err(SchemaError::Yaml(_))
        ));
        assert_eq!(
            validate(Scope::Smtp, b"password: '\xff'"),
            Err(SchemaError::NotUtf8(11))
        );
    }

    #[test]
    fn unquoted_values_are_typed_as_ruby_would() {
        for v in [
            "0123",
            "83",
            "-1",
            "0x1f",
            "1:20",
            "1.5",
            "1e5",
            ".inf",
            "yes",
            "Off",
            "~",
            "null",
            "2024-01-01",
            ":sym",
        ] {
            let input = format!("password: {v}\n");
            assert!(
                matches!(
                    validate(Scope::Smtp, input.as_bytes()),
                    Err(SchemaError::NotString { .. })
                ),
                "{v} must be refused"
            );
            let quoted = format!("password: '{v}'\n");
            assert_eq!(
                validate(Scope::Smtp, quoted.as_bytes()),
                Ok(()),
                "'{v}' is a string"
            );
        }
        for v in [
            "s3cret",
            "abc123",
            "1a",
            "pa:ss",
            "12-34",
            "x.y",
            "e5",
            "!!str 0123",
        ] {
            let input = format!("password: {v}\n");
            assert_eq!(
                validate(Scope::Smtp, input.as_bytes()),
                Ok(()),
                "{v} is a string"
            );
        }
    }

    #[test]
    fn sexagesimal_numbers_are_refused_as_psych_reads_them() {
        // Psych: 190:20:30 is 685230, 190:20:30.15 is 685230.15, with a sign or `_` too.
        for v in [
            "190:20:30",
            "190:20:30.15",
            "+190:20:30.15",
            "-190:20:30.15",
            "1_90:20:30.15",
            "190:20:30.1_5",
            "190:20:30.",
            "1:20.5",
            "1:2:3:4",
            "0:00",
            "1:5",
            "1,000",
            "1,000.5",
        ] {
            let input = format!("password: {v}\n");
            assert!(
                matches!(
                    validate(Scope::Smtp, input.as_bytes()),
                    Err(SchemaError::NotString {
                        kind: "a number",
                        ..
                    })
                ),
                "{v} must be refused as a number"
            );
            let quoted = format!("password: \"{v}\"\n");
            assert_eq!(validate(Scope::Smtp, quoted.as_bytes()), Ok(()), "\"{v}\"");
        }
        // Not base 60: a part past the first is at most 59, digits only, one fraction.
        for v in [
            "190:60:30",
            "190:20:300",
            "190:2a:30",
            "190:20:30.1.5",
            "190:20:30.x",
            "1:_5",
            "190:20:30e5",
        ] {
            let input = format!("password: {v}\n");
            assert_eq!(
                validate(Scope::Smtp, input.as_bytes()),
                Ok(()),
                "{v} is a string"
            );
        }
    }

    #[test]
    fn a_yaml_error_never_quotes_the_value() {
        let err = validate(Scope::Smtp, b"password: 'unterminated-s3cret\n").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = validate(Scope::Smtp, b"password: [s3cret\n").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = validate(Scope::Smtp, b"password:s3cret:\n").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
