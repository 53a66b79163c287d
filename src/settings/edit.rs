//! `config set|unset`: edits through toml_edit, so every comment, the order and the
//! formatting of everything else survive byte for byte.
//!
//! This module turns a command-line value into a TOML value of the key's type and edits the
//! document text; checking the result and writing it is the command's job.

use toml_edit::{DocumentMut, Item, Table, Value};

use super::schema::{Key, Kind};
use super::SettingsError;

type Result<T> = std::result::Result<T, SettingsError>;

/// The commented default file written when none exists.
pub const DEFAULT_FILE: &str = include_str!("default.toml");

/// Parses a command-line value as the key's type.
pub fn parse_value(key: &Key, raw: &str) -> Result<Value> {
    let wrong = || SettingsError::WrongValue {
        key: key.path.clone(),
        expected: key.kind.describe(),
        raw: raw.to_string(),
        example: super::example_value(key).to_string(),
    };
    Ok(match key.kind {
        Kind::Str => Value::from(raw),
        Kind::Enum(allowed) => {
            if !allowed.contains(&raw) {
                return Err(wrong());
            }
            Value::from(raw)
        }
        Kind::Int(min, max) => {
            let i: i64 = raw.trim().parse().map_err(|_| wrong())?;
            if i < min || i > max {
                return Err(wrong());
            }
            Value::from(i)
        }
        Kind::Bool => match raw.trim() {
            "true" => Value::from(true),
            "false" => Value::from(false),
            _ => return Err(wrong()),
        },
        Kind::List => {
            let t = raw.trim();
            if t.starts_with('[') {
                let v: Value = t.parse().map_err(|_| wrong())?;
                if super::convert_value(&v, Kind::List).is_none() {
                    return Err(wrong());
                }
                v
            } else {
                let mut arr = toml_edit::Array::new();
                for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    arr.push(part);
                }
                Value::Array(arr)
            }
        }
        Kind::Map => {
            let v: Value = raw.trim().parse().map_err(|_| wrong())?;
            if super::convert_value(&v, Kind::Map).is_none() {
                return Err(wrong());
            }
            v
        }
    })
}

/// Sets `path` to `value` in `text`, creating its table if needed.
pub fn set(text: &str, path: &str, mut value: Value) -> Result<String> {
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| SettingsError::EditSyntax {
                cause: e.message().to_string(),
            })?;
    // A file of comments only (the commented default) keeps them all in the document's
    // trailing text; the first real key goes after them, not above the header.
    let comments_only = doc.as_table().is_empty();
    let leading = doc.trailing().as_str().unwrap_or("").to_string();
    let (tables, leaf) = split(path);
    let mut table = doc.as_table_mut() as &mut dyn toml_edit::TableLike;
    for (i, name) in tables.iter().enumerate() {
        if table.get(name).is_none() {
            let mut t = Table::new();
            // Intermediate tables stay implicit: `[a.b]` without an empty `[a]` above it.
            t.set_implicit(i + 1 < tables.len());
            table.insert(name, Item::Table(t));
        }
        table = table
            .get_mut(name)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| SettingsError::NotATable {
                table: tables[..=i].join("."),
            })?;
    }
    match table.get_mut(leaf) {
        Some(Item::Value(old)) => {
            // Keep the spacing and any trailing comment of the line being replaced.
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        _ => {
            table.insert(leaf, Item::Value(value));
        }
    }
    if comments_only && !leading.trim().is_empty() {
        doc.set_trailing("");
        let leading = format!("{}\n\n", leading.trim_end());
        match tables.first() {
            None => {
                if let Some(mut key) = doc.as_table_mut().key_mut(leaf) {
                    key.leaf_decor_mut().set_prefix(leading);
                }
            }
            Some(first) => {
                if let Some(t) = doc.get_mut(first).and_then(Item::as_table_mut) {
                    t.decor_mut().set_prefix(leading);
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// Removes `path` from `text`; `None` when it was not set.
pub fn unset(text: &str, path: &str) -> Result<Option<String>> {
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| SettingsError::EditSyntax {
                cause: e.message().to_string(),
            })?;
    let (tables, leaf) = split(path);
    let mut table = doc.as_table_mut() as &mut dyn toml_edit::TableLike;
    for name in &tables {
        match table.get_mut(name).and_then(Item::as_table_like_mut) {
            Some(t) => table = t,
            None => return Ok(None),
        }
    }
    if table.remove(leaf).is_none() {
        return Ok(None);
    }
    Ok(Some(doc.to_string()))
}

fn split(path: &str) -> (Vec<&str>, &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let leaf = parts.pop().unwrap_or(path);
    (parts, leaf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# top comment\nexternal_url = \"https://gitlab.example.com\"\n\n[incoming_email]\n# the IMAP host\nhost   =   \"old.example.com\"   # keep me\nport = 143\n";

    #[test]
    fn set_keeps_everything_else_byte_for_byte() {
        let out = set(TEXT, "incoming_email.host", Value::from("imap.example.com")).unwrap();
        assert_eq!(
            out,
            TEXT.replace("\"old.example.com\"", "\"imap.example.com\"")
        );
    }

    #[test]
    fn set_adds_keys_and_tables() {
        let out = set(TEXT, "incoming_email.ssl", Value::from(true)).unwrap();
        assert_eq!(out, format!("{TEXT}ssl = true\n"));
        let out = set(TEXT, "smtp.port", Value::from(587)).unwrap();
        assert_eq!(out, format!("{TEXT}\n[smtp]\nport = 587\n"));
        let out = set(
            TEXT,
            "incoming_email.inbox_options.tenant_id",
            Value::from("t"),
        )
        .unwrap();
        assert!(
            out.ends_with("[incoming_email.inbox_options]\ntenant_id = \"t\"\n"),
            "{out}"
        );
    }

    #[test]
    fn the_first_key_of_a_comments_only_file_goes_after_the_comments() {
        let text = "# header\n# [smtp]\n# port = 587\n";
        assert_eq!(
            set(text, "external_url", Value::from("u")).unwrap(),
            format!("{text}\nexternal_url = \"u\"\n")
        );
        assert_eq!(
            set(text, "smtp.port", Value::from(25)).unwrap(),
            format!("{text}\n[smtp]\nport = 25\n")
        );
    }

    #[test]
    fn unset_removes_only_that_line() {
        let out = unset(TEXT, "incoming_email.port").unwrap().unwrap();
        assert_eq!(out, TEXT.replace("port = 143\n", ""));
        assert!(unset(TEXT, "smtp.ca_file").unwrap().is_none());
    }
}
