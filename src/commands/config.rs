//! `toolctl config get|set|unset`: one key of toolctl.toml at a time.
//!
//! Edits keep every other byte of the file; a value is checked against the key's type, and
//! an edit that would add an error to the settings is refused with nothing written.

use crate::cli::ConfigCommand;
use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;
use crate::settings::{self, edit, resolve, schema};
use crate::Context;

pub fn run(ctx: &Context, cmd: &ConfigCommand) -> Result<ExitStatus> {
    match cmd {
        ConfigCommand::Get { key } => get(ctx, key),
        ConfigCommand::Set { key, value } => change(ctx, key, Some(value)),
        ConfigCommand::Unset { key } => change(ctx, key, None),
    }
}

fn known(path: &str) -> Result<&'static schema::Key> {
    schema::find(path).ok_or_else(|| {
        let e = Error::new(format!("unknown key `{path}`"));
        match schema::closest(path) {
            Some(c) => e.hint(format!("did you mean `{c}`?")),
            None => e.hint("`toolctl show-config` lists every key"),
        }
    })
}

fn get(ctx: &Context, path: &str) -> Result<ExitStatus> {
    let key = known(path)?;
    if let Some((scope, name)) = key.secret {
        return Err(Error::new(format!(
            "`{path}` is a credential; `config get` does not print credentials"
        ))
        .hint(format!(
            "`toolctl {scope} secret show` prints the `{name}` it holds"
        )));
    }
    // A plain key never depends on a secret: no decryption, so `config get` works even
    // without the key.
    let r = resolve::resolve_with(&ctx.settings, &ctx.paths, &resolve::Decrypted::none());
    match r.get(path) {
        Some(v) => {
            crate::output::emit(&format!("{}\n", v.display()));
            Ok(ExitStatus::Success)
        }
        None => {
            ctx.printer
                .info(format!("`{path}` is not set and has no default"));
            Ok(ExitStatus::Failure)
        }
    }
}

fn change(ctx: &Context, path: &str, value: Option<&String>) -> Result<ExitStatus> {
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
                ctx.printer.info(format!(
                    "`{path}` is not set in `{}`; nothing to do.",
                    file.display()
                ));
                return Ok(ExitStatus::Success);
            }
        },
    };
    if after == before && ctx.settings.exists {
        ctx.printer
            .info(format!("`{path}` already has that value; nothing written."));
        return Ok(ExitStatus::Success);
    }

    // Refuse an edit that adds an error; errors that were there before are not this edit's.
    // The file as loaded at start-up is `before`; the secrets are decrypted once for both.
    let decrypted = resolve::Decrypted::load(&ctx.store())?;
    let old = resolve::resolve_with(&ctx.settings, &ctx.paths, &decrypted);
    // A set: with thousands of errors on both sides, comparing lists was quadratic.
    let old_errors: std::collections::HashSet<&str> =
        old.errors().map(|d| d.message.as_str()).collect();
    let new = resolve::resolve_with(&settings::parse(file, &after)?, &ctx.paths, &decrypted);
    let added: Vec<_> = new
        .errors()
        .filter(|d| !old_errors.contains(&d.message.as_str()))
        .collect();
    if !added.is_empty() {
        super::report_diags(&ctx.printer, file, added.into_iter(), "nothing was written")?;
    }

    if let Some(dir) = file.parent() {
        fsutil::ensure_dir(dir, 0o700)?;
    }
    let _lock = fsutil::lock(&file.with_extension("toml.lock"), "settings file")?;
    fsutil::write_atomic(file, after.as_bytes(), 0o600)?;
    match value {
        Some(_) => ctx.printer.info(format!(
            "Set `{path}` in `{}`. Run `toolctl reconfigure` to apply it.",
            file.display()
        )),
        None => ctx.printer.info(format!(
            "Removed `{path}` from `{}`. Run `toolctl reconfigure` to apply it.",
            file.display()
        )),
    }
    Ok(ExitStatus::Success)
}
