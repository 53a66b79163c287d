//! `toolctl import gitlab-rb FILE [--dry-run]` and `toolctl import gitlab-secrets`.
//!
//! The readers live in `crate::gitlab`; this module locks, writes and reports. Nothing is
//! written unless everything read was valid.

use serde_json::json;

use crate::cli::OutputFormat;
use crate::error::{Error, Result};
use crate::gitlab::{import, EncryptedFile, KeyBases};
use crate::report::{self, Report};
use crate::secrets::{schema as secret_schema, Scope};
use crate::sys::journal;
use crate::Context;

/// `import gitlab-secrets`.
pub fn secrets(
    ctx: &Context,
    secrets_file: &str,
    dir: &str,
    format: OutputFormat,
) -> Result<Report> {
    let mut out = Report::new();
    let store = ctx.store();
    let paths = &ctx.paths;
    let bases = KeyBases::load(&paths.rooted(secrets_file), secrets_file)?;
    let dir_real = paths.rooted(dir);
    if !dir_real.is_dir() {
        return Err(Error::new(format!(
            "GitLab's encrypted settings directory `{dir}` does not exist"
        ))
        .hint("give it with `--dir` (omnibus: /var/opt/gitlab/gitlab-rails/shared/encrypted_settings; a source install: shared/encrypted_settings)"));
    }
    let shown = |p: &std::path::Path| paths.logical(p);
    let found = import::read_all(&bases, &dir_real, &shown, parse_gitlab_file)?;
    if found.files.is_empty() {
        return Err(Error::new(format!(
            "`{dir}` holds none of smtp.yaml.enc, incoming_email.yaml.enc, service_desk_email.yaml.enc"
        ))
        .hint("check `--dir`; GitLab writes them with `gitlab-rake gitlab:smtp:secret:write` (and the incoming_email / service_desk_email tasks)"));
    }

    let (_lock, key) = store.lock_for_writing(&ctx.printer)?;
    let journal_path = paths.secrets_dir.with_extension("import-journal");
    if let Some(done) = journal::recover(&journal_path)? {
        ctx.printer.warn(done.describe(&journal_path));
    }
    store.check_dir()?;
    // Everything encrypted before anything is written.
    let mut ciphertexts = Vec::new();
    for f in &found.files {
        let existing = match store.read(f.scope, &key)? {
            Some(p) => secret_schema::parse(f.scope, &p)
                .map_err(|e| crate::secrets::store::invalid(f.scope, e))?,
            None => Vec::new(),
        };
        let content = import::merged(&existing, &f.entries);
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

    match format {
        OutputFormat::Json => out.set_payload(&json!({
            "imported": found.files.iter().map(|f| json!({
                "scope": f.scope.cli_name(),
                "file": paths.logical(&f.file),
                "keys": f.keys,
                "rotated_key_base": f.rotated,
            })).collect::<Vec<_>>(),
            "not_imported": found.not_imported.iter().map(|(f, why)| json!({
                "file": f, "reason": why,
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Human => {
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
                t.add_row(vec![
                    f.clone(),
                    "-".into(),
                    "-".into(),
                    format!("not imported: {why}"),
                ]);
            }
            out.text(format!("{t}\n"));
        }
    }
    ctx.printer.info(format!(
        "Imported {} of GitLab's encrypted settings into `{}`.",
        found.files.len(),
        paths.secrets_dir.display()
    ));
    Ok(out)
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
