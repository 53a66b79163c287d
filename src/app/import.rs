//! `toolctl import gitlab-rb FILE [--dry-run]` and `toolctl import gitlab-secrets`.
//!
//! The readers live in `crate::gitlab`; this module locks, writes and reports. Nothing is
//! written unless everything read was valid.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gitlab::import;
use crate::gitlab::{EncryptedFile, KeyBases};
use crate::model::paths::Paths;
use crate::report::{self, Report};
use crate::secrets::{schema as secret_schema, Scope};
use crate::sys::journal;
use crate::Context;

/// What `import gitlab-secrets` found: GitLab's files, as the store's scopes.
type Found = import::Found<Scope, secret_schema::Entry>;

/// The JSON document of `import gitlab-secrets`.
#[derive(Serialize)]
struct Document<'a> {
    imported: Vec<Imported<'a>>,
    not_imported: Vec<NotImported<'a>>,
}

#[derive(Serialize)]
struct Imported<'a> {
    scope: &'static str,
    file: String,
    keys: &'a [String],
    rotated_key_base: bool,
}

#[derive(Serialize)]
struct NotImported<'a> {
    file: &'a str,
    reason: &'a str,
}

/// `import gitlab-secrets`.
pub fn secrets(ctx: &Context, secrets_file: &str, dir: &str) -> Result<Report> {
    let found = read(ctx, secrets_file, dir)?;
    Ok(Report::build(|out| {
        write(ctx, &found, out)?;
        report(out, &ctx.paths, &found);
        Ok(())
    }))
}

/// GitLab's encrypted settings, decrypted with its key bases.
fn read(ctx: &Context, secrets_file: &str, dir: &str) -> Result<Found> {
    let paths = &ctx.paths;
    let bases = KeyBases::load(&paths.rooted(secrets_file), secrets_file)?;
    let dir_real = paths.rooted(dir);
    // Opened from `--root` without following a link (git owns the directory and its
    // parent); everything in it is read through this descriptor.
    let handle = match crate::sys::fs::open_dir_nofollow(&paths.root, &dir_real) {
        Ok(h) => h,
        Err(_) if std::fs::symlink_metadata(&dir_real).is_err() => {
            return Err(Error::new(format!(
                "GitLab's encrypted settings directory `{dir}` does not exist"
            ))
            .hint("give it with `--dir` (omnibus: /var/opt/gitlab/gitlab-rails/shared/encrypted_settings; a source install: shared/encrypted_settings)"));
        }
        Err(e) => return Err(e),
    };
    let shown = |p: &std::path::Path| paths.logical(p);
    let found = import::read_all(&bases, &handle, &shown, parse_gitlab_file)?;
    if found.files.is_empty() {
        return Err(Error::new(format!(
            "`{dir}` holds none of smtp.yaml.enc, incoming_email.yaml.enc, service_desk_email.yaml.enc"
        ))
        .hint("check `--dir`; GitLab writes them with `gitlab-rake gitlab:smtp:secret:write` (and the incoming_email / service_desk_email tasks)"));
    }
    Ok(found)
}

/// Merges what was found into the store, every file encrypted before any is written, and
/// all of them written through one journal.
fn write(ctx: &Context, found: &Found, out: &mut Report) -> Result<()> {
    let store = ctx.store();
    let paths = &ctx.paths;
    let (_lock, key) = out.noting(|n| store.lock_for_writing(n))?;
    let journal_path = paths.secrets_dir.with_extension("import-journal");
    if let Some(done) = journal::recover(&journal_path)? {
        out.warn(done.describe(&journal_path));
    }
    store.check_dir()?;
    let mut ciphertexts = Vec::new();
    for f in &found.files {
        let existing = match store.read(f.scope, &key)? {
            Some(p) => secret_schema::parse(f.scope, &p)
                .map_err(|e| crate::secrets::store::invalid(f.scope, e))?,
            None => Vec::new(),
        };
        let content = import::merged(&existing, &f.entries);
        for e in &f.entries {
            crate::app::secret::warn_short_password(f.scope, &e.key, &e.value, out);
        }
        secret_schema::validate(f.scope, content.as_bytes())
            .map_err(|e| crate::secrets::store::invalid(f.scope, e))?;
        ciphertexts.push((
            store.file(f.scope),
            store.encrypt(content.as_bytes(), &key)?,
        ));
    }
    let wants: Vec<journal::FileWant> = ciphertexts
        .iter()
        .map(|(path, bytes)| journal::FileWant {
            target: path.clone(),
            content: Some(&bytes[..]),
            mode: 0o600,
            owner: None,
        })
        .collect();
    journal::apply(&journal_path, &paths.secrets_dir, &[], &wants)?;
    Ok(())
}

/// What was imported and what was not: the table, the document, the summary note.
fn report(out: &mut Report, paths: &Paths, found: &Found) {
    out.set_payload(&Document {
        imported: found
            .files
            .iter()
            .map(|f| Imported {
                scope: f.scope.cli_name(),
                file: paths.logical(&f.file),
                keys: &f.keys,
                rotated_key_base: f.rotated,
            })
            .collect(),
        not_imported: found
            .not_imported
            .iter()
            .map(|(file, reason)| NotImported { file, reason })
            .collect(),
    });
    let mut t = report::table(&["file", "scope", "keys", "result"]);
    for f in &found.files {
        t.add_row(vec![
            paths.logical(&f.file),
            f.scope.cli_name().to_string(),
            f.keys.join(", "),
            if f.rotated {
                "imported (rotated key base)".into()
            } else {
                "imported".to_string()
            },
        ]);
    }
    for (f, why) in &found.not_imported {
        // Names come from a directory GitLab's user writes: shown, never played.
        t.add_row(vec![
            crate::sys::term::one_line(f).into_owned(),
            "-".into(),
            "-".into(),
            format!("not imported: {why}"),
        ]);
    }
    out.table(&t);
    out.info(format!(
        "Imported {} of GitLab's encrypted settings into `{}`.",
        found.files.len(),
        paths.secrets_dir.display()
    ));
}

/// The secret scope each of GitLab's encrypted settings files fills, and its schema check.
fn parse_gitlab_file(
    file: EncryptedFile,
    text: &[u8],
) -> std::result::Result<(Scope, Vec<secret_schema::Entry>), import::Unfit> {
    let scope = match file {
        EncryptedFile::Smtp => Scope::Smtp,
        EncryptedFile::IncomingEmail => Scope::IncomingEmail,
        EncryptedFile::ServiceDeskEmail => Scope::ServiceDeskEmail,
    };
    let entries = secret_schema::parse(scope, text).map_err(|e| import::Unfit {
        what: format!("the {scope} secret"),
        why: e.to_string(),
        hint: e.hint(scope),
    })?;
    Ok((scope, entries))
}

impl import::Pair for secret_schema::Entry {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> &str {
        &self.value
    }
}
