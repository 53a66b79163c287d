//! `toolctl.toml`: the settings model, loading, the shared resolve step and edits.
//!
//! - [`schema`]: every key, its type and default;
//! - this module: parsing the file into raw values with their line numbers, reporting
//!   unknown keys (with the closest known one) and wrong types;
//! - [`resolve`]: raw values + defaults + decrypted secrets → resolved settings, with every
//!   settings rule checked once, for `show-config`, `reconfigure` and the probes;
//! - [`edit`]: `config set|unset` through toml_edit, so comments and layout survive.
//!
//! Paths written in settings are read inside `--root` (see [`crate::paths`]).

pub mod build;
pub mod describe;
pub mod edit;
mod error;
pub mod resolve;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{Item, Value};

use crate::fsutil;
use crate::paths::Paths;
pub use error::SettingsError;
use schema::Kind;

/// A value as written in the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
    Map(Vec<(String, String)>),
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about the settings: which key, where, what, and the fix.
#[derive(Clone, Debug)]
pub struct Diag {
    pub severity: Severity,
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
    pub hint: String,
}

/// The settings file as written: known keys with their values and lines.
#[derive(Default)]
pub struct Settings {
    pub path: PathBuf,
    /// Whether the file exists (a missing file means every default).
    pub exists: bool,
    pub values: BTreeMap<String, (Val, usize)>,
    /// Unknown keys and wrong types found while loading.
    pub diags: Vec<Diag>,
    /// `[secrets] recipients`, with their lines.
    pub recipients: Vec<Recipient>,
}

/// Keys and lines only: the values may include plaintext credentials.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("path", &self.path)
            .field(
                "keys",
                &self
                    .values
                    .iter()
                    .map(|(k, (_, l))| (k, l))
                    .collect::<Vec<_>>(),
            )
            .field("diags", &self.diags.len())
            .finish()
    }
}

/// One configured recipient and the line it was written on.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub value: String,
    pub line: usize,
}

impl Settings {
    /// Mattermost is set up (`mattermost.external_url`) without a database
    /// (`mattermost.sql_data_source`, which has no default since GitLab 19.0 removed the
    /// bundled one): what `import gitlab-rb` warns about.
    pub fn mattermost_without_data_source(&self) -> bool {
        self.values.contains_key("mattermost.external_url")
            && !self.values.contains_key("mattermost.sql_data_source")
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some((Val::Str(s), _)) => Some(s),
            _ => None,
        }
    }

    pub fn line(&self, key: &str) -> Option<usize> {
        self.values.get(key).map(|(_, l)| *l)
    }

    /// Moves the paths that settings may override (read inside the root).
    pub fn apply_paths(&self, paths: &mut Paths) {
        let rooted = |key: &str| self.str(key).map(|s| paths.rooted(s));
        let (secrets, key, log, rendered) = (
            rooted("secrets.directory"),
            rooted("secrets.key_file"),
            rooted("logging.log_directory"),
            rooted("reconfigure.output_directory"),
        );
        if let Some(p) = secrets {
            paths.secrets_dir = p;
        }
        if let Some(p) = key {
            paths.key_file = p;
        }
        if let Some(p) = log {
            paths.log_dir = p;
        }
        if let Some(p) = rendered {
            paths.rendered_dir = p;
        }
    }

    /// The errors found while loading that concern keys under `prefix`.
    pub fn errors_under(&self, prefix: &str) -> Vec<&Diag> {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error && d.key.starts_with(prefix))
            .collect()
    }
}

/// How many unknown keys get a "did you mean" hint, and how many errors a command lists
/// before it sums up the rest in one line: a file of 50,000 mistakes must
/// neither take seconds of fuzzy matching nor bury the terminal.
pub const MAX_LISTED_ERRORS: usize = 50;

/// Loads the settings file named by `paths.config` (defaults when it does not exist) and
/// applies its path overrides to `paths`. Only syntax errors fail here; unknown keys and
/// wrong types are in [`Settings::diags`] for the commands that enforce them.
///
/// A FIFO or a device in the file's place is refused rather than read (a FIFO would block
/// every command, `/dev/zero` would be read until memory runs out), and so is a file over
/// [`fsutil::SETTINGS_CAP`].
pub fn load(paths: &mut Paths) -> Result<Settings, SettingsError> {
    let Some(bytes) =
        fsutil::read_optional_capped(&paths.config, fsutil::SETTINGS_CAP, "the settings file")?
    else {
        return Ok(Settings {
            path: paths.config.clone(),
            ..Settings::default()
        });
    };
    let text = String::from_utf8(bytes).map_err(|_| SettingsError::NotUtf8 {
        path: paths.config.clone(),
    })?;
    let settings = parse(&paths.config, &text)?;
    settings.apply_paths(paths);
    Ok(settings)
}

/// Parses settings text; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Settings, SettingsError> {
    let lines = LineIndex::new(text);
    let doc = toml_edit::ImDocument::parse(text).map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map(|s| format!(":{}", lines.line(s.start)))
            .unwrap_or_default();
        SettingsError::Syntax {
            at: format!("{}{line}", path.display()),
            cause: e.message().to_string(),
        }
    })?;
    let mut s = Settings {
        path: path.to_path_buf(),
        exists: true,
        ..Settings::default()
    };
    let mut unknown = Vec::new();
    walk(doc.as_table(), "", &lines, &mut s, &mut unknown);
    report_unknown(unknown, &mut s);
    if let Some((Val::List(items), line)) = s.values.get("secrets.recipients") {
        s.recipients = items
            .iter()
            .map(|v| Recipient {
                value: v.clone(),
                line: *line,
            })
            .collect();
    }
    Ok(s)
}

/// Every line of the text in one pass, so a key's line costs a binary search: counting
/// newlines from the start for each key made loading quadratic in the file's size.
struct LineIndex {
    /// Byte offsets of every `\n`.
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex {
            newlines: memchr::memchr_iter(b'\n', text.as_bytes()).collect(),
        }
    }

    /// 1-based line number of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}

/// Records known keys and wrong types in `s`, and collects unknown keys with their lines
/// in `unknown` for [`report_unknown`]. Each entry costs a hash lookup in the schema and
/// a binary search for its line, so loading is linear in the number of keys.
fn walk(
    table: &dyn toml_edit::TableLike,
    prefix: &str,
    lines: &LineIndex,
    s: &mut Settings,
    unknown: &mut Vec<(String, usize)>,
) {
    for (name, item) in table.iter() {
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let line = item
            .span()
            .or_else(|| table.key(name).and_then(|k| k.span()))
            .map(|sp| lines.line(sp.start))
            .unwrap_or(0);
        if schema::is_table(&path) {
            match item.as_table_like() {
                Some(t) => walk(t, &path, lines, s, unknown),
                None => s.diags.push(type_diag(&path, line, "a table")),
            }
            continue;
        }
        let Some(key) = schema::find(&path) else {
            unknown.push((path, line));
            continue;
        };
        match convert(item, key.kind) {
            Some(v) => {
                s.values.insert(path, (v, line));
            }
            None => s.diags.push(type_diag(&path, line, &key.kind.describe())),
        }
    }
}

/// One error per unknown key. Only the first [`MAX_LISTED_ERRORS`] in file order, the
/// ones a command lists, get the closest known key: that search compares against every
/// key of the schema, and done for 50,000 keys it took seconds.
fn report_unknown(mut unknown: Vec<(String, usize)>, s: &mut Settings) {
    unknown.sort_by_key(|(_, line)| *line);
    for (i, (path, line)) in unknown.into_iter().enumerate() {
        let closest = if i < MAX_LISTED_ERRORS {
            schema::closest(&path)
        } else {
            None
        };
        let hint = match closest {
            Some(c) => format!("did you mean `{c}`?"),
            None => "remove it; `toolctl show-config` lists every known key".to_string(),
        };
        s.diags.push(Diag {
            severity: Severity::Error,
            message: format!("unknown key `{path}`"),
            key: path,
            line: Some(line),
            hint,
        });
    }
}

fn type_diag(path: &str, line: usize, expected: &str) -> Diag {
    Diag {
        severity: Severity::Error,
        key: path.to_string(),
        line: Some(line),
        message: format!("`{path}` must be {expected}"),
        hint: format!("write it as {}", example_for(path)),
    }
}

/// A correct line for `path`, for hints.
pub fn example_for(path: &str) -> String {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    match schema::find(path).map(|k| k.kind) {
        Some(Kind::Str) => format!("`{leaf} = \"…\"`"),
        Some(Kind::Int(..)) => format!(
            "`{leaf} = {}`",
            schema::find(path).map(example_value).unwrap_or("60")
        ),
        Some(Kind::Bool) => format!("`{leaf} = true`"),
        Some(Kind::Enum(v)) => format!("`{leaf} = \"{}\"`", v[0]),
        Some(Kind::List) => format!("`{leaf} = [\"…\"]`"),
        Some(Kind::Map) => format!("`{leaf} = {{ NAME = \"value\" }}`"),
        None => format!("a `[{path}]` table"),
    }
}

/// A value for `key` from its own schema, for hints: its default, else a typical one.
pub fn example_value(key: &schema::Key) -> &'static str {
    use schema::DefaultValue as D;
    let leaf = key.path.rsplit('.').next().unwrap_or(&key.path);
    match (key.kind, key.default) {
        (_, D::Str(v)) if !v.is_empty() && key.kind != Kind::List => v,
        (Kind::Bool, _) => "true",
        (Kind::Int(..), _) if key.path == "smtp.port" => "587",
        (Kind::Int(..), _) if leaf == "port" => "993",
        (Kind::Int(..), _) if leaf == "uid" || leaf == "gid" => "1234",
        (Kind::Int(..), _) => "60",
        (Kind::Enum(v), _) => v[0],
        (Kind::List, _) => "'[\"age1…\", \"age1…\"]'",
        (Kind::Map, _) => "'{ HTTP_PROXY = \"http://proxy:3128\" }'",
        (Kind::Str, _) if leaf.ends_with("url") => "https://gitlab.example.com",
        (Kind::Str, _) if leaf == "from" || leaf == "reply_to" => "gitlab@example.com",
        (Kind::Str, _) if leaf == "address" && key.path.starts_with("smtp") => "smtp.example.com",
        (Kind::Str, _) if leaf == "host" => "imap.example.com",
        (Kind::Str, _) => "value",
    }
}

/// The value of `item` if it has the type `kind`.
pub fn convert(item: &Item, kind: Kind) -> Option<Val> {
    if kind == Kind::Map {
        let t = item.as_table_like()?;
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            out.push((k.to_string(), v.as_str()?.to_string()));
        }
        return Some(Val::Map(out));
    }
    let v = item.as_value()?;
    convert_value(v, kind)
}

pub fn convert_value(v: &Value, kind: Kind) -> Option<Val> {
    Some(match kind {
        Kind::Str => Val::Str(v.as_str()?.to_string()),
        Kind::Enum(allowed) => {
            let s = v.as_str()?;
            if !allowed.contains(&s) {
                return None;
            }
            Val::Str(s.to_string())
        }
        Kind::Int(min, max) => {
            let i = v.as_integer()?;
            if i < min || i > max {
                return None;
            }
            Val::Int(i)
        }
        Kind::Bool => Val::Bool(v.as_bool()?),
        Kind::List => Val::List(
            v.as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?,
        ),
        Kind::Map => {
            let t = v.as_inline_table()?;
            Val::Map(
                t.iter()
                    .map(|(k, x)| x.as_str().map(|s| (k.to_string(), s.to_string())))
                    .collect::<Option<Vec<_>>>()?,
            )
        }
    })
}

/// 1-based line number of one byte offset ([`parse`] indexes the lines once instead).
pub fn line_of(text: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_by_the_index_as_by_counting() {
        let text = "a = 1\n\n[smtp]\nport = 2\n";
        let idx = LineIndex::new(text);
        for offset in 0..=text.len() {
            let counted = text.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            assert_eq!(idx.line(offset), counted, "offset {offset}");
        }
    }

    #[test]
    fn every_unknown_key_is_an_error_and_only_the_listed_ones_are_matched() {
        let mut text = String::from("[smtp]\n");
        for i in 0..MAX_LISTED_ERRORS + 10 {
            text.push_str(&format!("adress{i} = 1\n"));
        }
        let s = parse(Path::new("t.toml"), &text).unwrap();
        assert_eq!(s.diags.len(), MAX_LISTED_ERRORS + 10);
        for (i, d) in s.diags.iter().enumerate() {
            assert_eq!(d.line, Some(i + 2));
            assert_eq!(
                d.hint.contains("did you mean `smtp.address`?"),
                i < MAX_LISTED_ERRORS,
                "{i}: {}",
                d.hint
            );
        }
    }
}
