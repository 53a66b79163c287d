//! A small, deterministic YAML writer for the files toolctl renders.
//!
//! Strings are always double-quoted with JSON escapes (valid YAML, and no value can change
//! type the way an unquoted `0123` or `yes` would); keys are plain when they are safe.

/// A YAML node.
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
}

impl Y {
    pub fn s(v: impl Into<String>) -> Y {
        Y::Str(v.into())
    }
}

/// A mapping built key by key; `opt` skips absent values.
#[derive(Default)]
pub struct MapBuilder(Vec<(String, Y)>);

impl MapBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put(mut self, k: &str, v: Y) -> Self {
        self.0.push((k.to_string(), v));
        self
    }
    pub fn opt(self, k: &str, v: Option<Y>) -> Self {
        match v {
            Some(v) => self.put(k, v),
            None => self,
        }
    }
    pub fn build(self) -> Y {
        Y::Map(self.0)
    }
}

/// Renders a document (with a trailing newline).
pub fn to_string(y: &Y) -> String {
    let mut out = String::new();
    write(y, 0, &mut out);
    out
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !k.ends_with(':');
    if plain {
        k.to_string()
    } else {
        scalar_str(k)
    }
}

/// Double-quoted, escaped so that Psych reads it back exactly (DEL, C1, U+2028/U+2029
/// included: see [`crate::gitlab::push_yaml_quoted`]).
fn scalar_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::gitlab::push_yaml_quoted(&mut out, s);
    out
}

fn scalar(y: &Y) -> Option<String> {
    match y {
        Y::Str(s) => Some(scalar_str(s)),
        Y::Int(i) => Some(i.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Map(m) if m.is_empty() => Some("{}".into()),
        Y::Seq(s) if s.is_empty() => Some("[]".into()),
        _ => None,
    }
}

fn write(y: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Y::Map(entries) if !entries.is_empty() => {
            for (k, v) in entries {
                match scalar(v) {
                    Some(s) => out.push_str(&format!("{pad}{}: {s}\n", key(k))),
                    None => {
                        out.push_str(&format!("{pad}{}:\n", key(k)));
                        write(v, indent + 2, out);
                    }
                }
            }
        }
        Y::Seq(items) if !items.is_empty() => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        // The first line of the nested block goes after the dash.
                        let mut nested = String::new();
                        write(item, indent + 2, &mut nested);
                        let trimmed = &nested[indent + 2..];
                        out.push_str(&format!("{pad}- {trimmed}"));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_maps_and_sequences() {
        let doc = MapBuilder::new()
            .put(
                ":mailboxes",
                Y::Seq(vec![MapBuilder::new()
                    .put(":host", Y::s("h"))
                    .put(":port", Y::Int(993))
                    .build()]),
            )
            .put("enabled", Y::Bool(true))
            .put("password", Y::s("0123"))
            .build();
        assert_eq!(
            to_string(&doc),
            ":mailboxes:\n  - :host: \"h\"\n    :port: 993\nenabled: true\npassword: \"0123\"\n"
        );
    }
}
