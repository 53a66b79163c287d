//! `toolctl config get|set|unset`: one key of toolctl.toml at a time.
//!
//! Edits keep every other byte of the file; a value is checked against the key's type, and
//! an edit that would add an error to the settings is refused with nothing written.

use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;
use crate::report::Report;
use crate::settings::{self, edit, resolve, schema};
use crate::Context;

fn known(path: &str) -> Result<&'static schema::Key> {
    schema::find(path).ok_or_else(|| {
        let e = Error::new(format!("unknown key `{path}`"));
        match suggest(path) {
            Some(hint) => e.hint(hint),
            None => e.hint("`toolctl show-config` lists every key"),
        }
    })
}

/// The hint for an unknown key: a key of the same table when the table is known (never
/// the table itself), else the closest key anywhere.
fn suggest(path: &str) -> Option<String> {
    if let Some((table, leaf)) = path.rsplit_once('.') {
        if schema::TABLES.contains(&table) {
            let keys = table_keys(table);
            let best = keys
                .iter()
                .map(|k| {
                    let l = k.path.rsplit('.').next().unwrap_or(&k.path);
                    (strsim::jaro_winkler(leaf, l), k.path.as_str())
                })
                .filter(|(score, _)| *score > 0.7)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            return Some(match best {
                Some((_, k)) => format!("did you mean `{k}`?"),
                None => format!(
                    "the keys of `[{table}]`: {}",
                    keys.iter()
                        .map(|k| format!("`{}`", k.path))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    schema::closest(path)
        .filter(|c| c != path)
        .map(|c| format!("did you mean `{c}`?"))
}

/// The keys directly in `table` (not in its sub-tables).
pub fn table_keys(table: &str) -> Vec<&'static schema::Key> {
    schema::keys()
        .iter()
        .filter(|k| k.path.rsplit_once('.').map(|(t, _)| t) == Some(table))
        .collect()
}

/// `config get KEY | TABLE`.
pub fn get(ctx: &Context, path: &str) -> Result<Report> {
    let mut out = Report::new();
    if schema::TABLES.contains(&path) {
        return get_table(ctx, path);
    }
    let key = known(path)?;
    if let Some((scope, name)) = key.secret {
        return Err(Error::new(format!(
            "`{path}` is a credential; `config get` does not print credentials"
        ))
        .hint(format!(
            "`toolctl {scope} secret show --key {name}` prints the `{name}` it holds"
        )));
    }
    // A plain key never depends on a secret: no decryption, so `config get` works even
    // without the key.
    let r = resolve::resolve_with(&ctx.settings, &ctx.paths, &resolve::Decrypted::none());
    match r.get(path) {
        Some(v) => {
            out.text(format!("{}\n", v.display()));
            Ok(out)
        }
        None => {
            ctx.printer
                .info(format!("`{path}` is not set and has no default"));
            Ok(out.with_status(ExitStatus::Failure))
        }
    }
}

/// `config get TABLE`: every plain key of the table with its effective value, as
/// `key = value` lines (credentials are left out: `secret show` prints them).
fn get_table(ctx: &Context, table: &str) -> Result<Report> {
    let mut out = Report::new();
    let r = resolve::resolve_with(&ctx.settings, &ctx.paths, &resolve::Decrypted::none());
    let mut text = String::new();
    for k in schema::keys().iter().filter(|k| {
        k.secret.is_none()
            && k.path
                .strip_prefix(table)
                .is_some_and(|rest| rest.starts_with('.'))
    }) {
        let value = r
            .get(&k.path)
            .map(|v| v.display())
            .unwrap_or_else(|| "(not set)".into());
        text.push_str(&format!("{} = {value}\n", k.path));
    }
    out.text(text);
    Ok(out)
}

/// `config set KEY VALUE` and `config unset KEY`.
pub fn change(ctx: &Context, path: &str, value: Option<&String>) -> Result<Report> {
    let mut out = Report::new();
    let key = known(path)?;
    if let Some((scope, name)) = key.secret {
        return Err(Error::new(format!(
            "`{path}` is a credential; it does not belong in toolctl.toml or on a command line"
        ))
        .hint(format!(
            "store it encrypted with `toolctl {scope} secret edit` (key `{name}`)"
        )));
    }
    let file = &ctx.paths.config;
    let before = match fsutil::read_optional(file)? {
        Some(bytes) => String::from_utf8(bytes)
            .map_err(|_| Error::new(format!("`{}` is not UTF-8 text", file.display())))?,
        None => edit::DEFAULT_FILE.to_string(),
    };
    let after = match value {
        Some(raw) => edit::set(&before, path, edit::parse_value(key, raw)?)?,
        None => match edit::unset(&before, path)? {
            Some(after) => after,
            None => {
                out.info(format!(
                    "`{path}` is not set in `{}`; nothing to do.",
                    file.display()
                ));
                return Ok(out);
            }
        },
    };
    if after == before && ctx.settings.exists {
        out.info(format!("`{path}` already has that value; nothing written."));
        return Ok(out);
    }

    // Refuse an edit that adds an error; errors that were there before are not this edit's.
    // The file as loaded at start-up is `before`; the secrets are decrypted once for both.
    let decrypted = resolve::Decrypted::load(&ctx.store())?;
    let old = resolve::resolve_with(&ctx.settings, &ctx.paths, &decrypted);
    // A set: with thousands of errors on both sides, comparing lists was quadratic.
    let old_errors: std::collections::HashSet<&str> =
        old.errors().map(|d| d.message.as_str()).collect();
    let parsed = settings::parse(file, &after)?;
    let new = resolve::resolve_with(&parsed, &ctx.paths, &decrypted);
    // A table is built one key at a time: an error that only says another key of the same
    // table is still missing (`[gitlab]`'s `secrets_file` and `encrypted_settings_dir`
    // need each other) is a warning here; reconfigure refuses the settings until it is set.
    let table = |k: &str| k.split('.').next().unwrap_or_default().to_string();
    let (pending, added): (Vec<_>, Vec<_>) = new
        .errors()
        .filter(|d| !old_errors.contains(&d.message.as_str()))
        .partition(|d| {
            d.key != path
                && table(&d.key) == table(path)
                && !parsed.values.contains_key(&d.key)
                && !parsed.diags.iter().any(|p| p.key == d.key)
        });
    for d in &pending {
        out.warn(format!(
            "{}: set it too; `toolctl reconfigure` refuses the settings until then (hint: {})",
            d.message, d.hint
        ));
    }
    if !added.is_empty() {
        super::report_diags(&ctx.printer, file, added.into_iter(), "nothing was written")?;
    }

    if let Some(dir) = file.parent() {
        fsutil::ensure_dir(dir, 0o700)?;
    }
    let _lock = fsutil::lock(&file.with_extension("toml.lock"), "settings file")?;
    fsutil::write_atomic(file, after.as_bytes(), 0o600)?;
    match value {
        Some(_) => out.info(format!(
            "Set `{path}` in `{}`. Run `toolctl reconfigure` to apply it.",
            file.display()
        )),
        None => out.info(format!(
            "Removed `{path}` from `{}`. Run `toolctl reconfigure` to apply it.",
            file.display()
        )),
    }
    Ok(out)
}
