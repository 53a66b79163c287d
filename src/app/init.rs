//! `toolctl init`: the explicit first run. Creates what is missing (the commented default
//! `toolctl.toml`, the key, the secrets directory), never overwrites either, and says what
//! it created and what it found. The only command that writes a default settings file.

use crate::error::Result;
use crate::fsutil;
use crate::report::Report;
use crate::settings::edit::DEFAULT_FILE;
use crate::Context;

pub fn run(ctx: &Context) -> Result<Report> {
    Ok(Report::build(|out| init(ctx, out)))
}

/// What init did goes to the report's notes (stderr: stdout carries data only; hidden by
/// `-q`), in the order it was done.
fn init(ctx: &Context, out: &mut Report) -> Result<()> {
    let config = &ctx.paths.config;
    // Loaded at start-up: a file that exists is found, whatever its content (a broken one
    // failed to load already, with its own error).
    let mut created = Vec::new();
    if ctx.settings.exists {
        out.info(format!(
            "Found the settings `{}`; left as it is.",
            config.display()
        ));
    } else {
        if let Some(dir) = config.parent() {
            fsutil::ensure_dir(dir, 0o700)?;
        }
        // write_new never clobbers: a file that appeared meanwhile is kept, and reported.
        fsutil::write_new(config, DEFAULT_FILE.as_bytes(), 0o600)?;
        out.info(format!(
            "Created the settings `{}` (every key commented out); edit it or use `toolctl config set`.",
            config.display()
        ));
        created.push("settings");
    }

    let store = ctx.store();
    match store.existing_key_for_writing()? {
        Some(key) => out.info(format!(
            "Found the key `{}` (public key {}); left as it is.",
            key.path.display(),
            key.recipient()
        )),
        None => {
            // Creates the key under the store's lock, and says so.
            let (_lock, key) = out.noting(|n| store.lock_for_writing(n))?;
            drop(key);
            created.push("key");
        }
    }
    fsutil::ensure_dir(&ctx.paths.secrets_dir, 0o700)?;
    if created.is_empty() {
        out.info("Nothing to do: the settings and the key exist.");
    } else {
        out.info("Next: set the integrations (`toolctl config set …`), store their secrets, then `toolctl reconfigure`.");
    }
    Ok(())
}
