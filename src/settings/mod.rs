//! `toolctl.toml`: reading the settings the commands need.
//!
//! Owns the settings file's parsing and the values the secrets store depends on: the extra
//! age recipients and the paths that settings may move (`[secrets] directory`, `key_file`,
//! `[logging] log_directory`, `[reconfigure] output_directory`). A missing file means
//! defaults. Every message names the key and its line so the administrator can go straight
//! to it. It never writes the file and never sees a secret.

use std::path::Path;

use toml_edit::{DocumentMut, Item};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// The settings this build reads, after defaults.
#[derive(Debug, Default)]
pub struct Settings {
    /// `[secrets] recipients`: extra age recipients (other nodes, a recovery key).
    pub recipients: Vec<Recipient>,
}

/// One configured recipient and the line it was written on.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub value: String,
    pub line: usize,
}

/// Loads the settings file named by `paths.config` (defaults when it does not exist) and
/// applies its path overrides to `paths`.
pub fn load(paths: &mut Paths) -> Result<Settings> {
    let Some(bytes) = fsutil::read_optional(&paths.config)? else {
        return Ok(Settings::default());
    };
    let file = paths.config.clone();
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::new(format!("`{}` is not UTF-8 text", file.display()))
            .hint("save the settings file as UTF-8")
    })?;
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map(|s| line_of(&text, s.start))
            .map(|l| format!(" at line {l}"))
            .unwrap_or_default();
        Error::new(format!("`{}` is not valid TOML{line}", file.display()))
            .cause(e.message())
            .hint("fix the syntax at that line; `toolctl.toml` follows TOML 1.0")
    })?;
    let at = |key: &str, item: &Item| Located {
        file: &file,
        key: key.to_string(),
        line: item.span().map(|s| line_of(&text, s.start)),
    };

    let mut settings = Settings::default();
    if let Some(secrets) = doc.get("secrets") {
        if let Some(item) = secrets.get("recipients") {
            let loc = at("secrets.recipients", item);
            let arr = item
                .as_array()
                .ok_or_else(|| loc.wrong_type("an array of strings"))?;
            for v in arr.iter() {
                let s = v
                    .as_str()
                    .ok_or_else(|| loc.wrong_type("an array of strings"))?;
                let line = v
                    .span()
                    .map(|s| line_of(&text, s.start))
                    .or(loc.line)
                    .unwrap_or(0);
                settings.recipients.push(Recipient {
                    value: s.to_string(),
                    line,
                });
            }
        }
        if let Some(item) = secrets.get("directory") {
            paths.secrets_dir = paths.rooted(at("secrets.directory", item).string(item)?);
        }
        if let Some(item) = secrets.get("key_file") {
            paths.key_file = paths.rooted(at("secrets.key_file", item).string(item)?);
        }
    }
    if let Some(item) = doc.get("logging").and_then(|t| t.get("log_directory")) {
        paths.log_dir = paths.rooted(at("logging.log_directory", item).string(item)?);
    }
    if let Some(item) = doc
        .get("reconfigure")
        .and_then(|t| t.get("output_directory"))
    {
        paths.rendered_dir = paths.rooted(at("reconfigure.output_directory", item).string(item)?);
    }
    Ok(settings)
}

/// A key of the settings file, for messages.
struct Located<'a> {
    file: &'a Path,
    key: String,
    line: Option<usize>,
}

impl Located<'_> {
    fn wrong_type(&self, expected: &str) -> Error {
        let line = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        Error::new(format!(
            "`{}` in `{}{line}` must be {expected}",
            self.key,
            self.file.display()
        ))
        .hint(format!("write it as {}", example(expected, &self.key)))
    }

    fn string<'i>(&self, item: &'i Item) -> Result<&'i str> {
        item.as_str().ok_or_else(|| self.wrong_type("a string"))
    }
}

fn example(expected: &str, key: &str) -> String {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    match expected {
        "a string" => format!("`{leaf} = \"/path\"`"),
        _ => format!("`{leaf} = [\"age1…\"]`"),
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
