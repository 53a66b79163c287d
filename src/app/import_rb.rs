//! `toolctl import gitlab-rb FILE [--dry-run]`: gitlab.rb → toolctl.toml (through the same
//! toml_edit path as `config set`, so comments and layout are kept) and the store (every
//! plaintext credential), all or nothing through one journal; a report of everything taken
//! and everything not, with line numbers. The reader and the mapping are in
//! `crate::gitlab::rb` and `crate::app::rb_map`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::rb_map::{self, Credential, Mapped};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::gitlab::import::merged;
use crate::report::{self, Report};
use crate::secrets::key::Key;
use crate::secrets::schema as secret_schema;
use crate::secrets::{Scope, Store};
use crate::settings::{self, edit};
use crate::sys::journal;
use crate::Context;

/// The JSON document of `import gitlab-rb`.
#[derive(Serialize)]
struct Document<'a> {
    dry_run: bool,
    file: String,
    settings: Vec<SettingRow<'a>>,
    secrets: Vec<SecretRow<'a>>,
    not_imported: Vec<Skipped<'a>>,
    gitlab_paths: Vec<PathRow<'a>>,
    outside_paths: Vec<PathRow<'a>>,
    notes: Vec<&'a str>,
    written: &'a [String],
}

#[derive(Serialize)]
struct SettingRow<'a> {
    key: &'a str,
    line: usize,
    from: &'a str,
}

/// A credential's place, never its value.
#[derive(Serialize)]
struct SecretRow<'a> {
    scope: &'static str,
    key: &'static str,
    line: usize,
    from: &'a str,
}

#[derive(Serialize)]
struct Skipped<'a> {
    line: usize,
    name: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct PathRow<'a> {
    line: usize,
    key: &'a str,
    path: &'a str,
}

pub fn run(ctx: &Context, file: &Path, dry: bool) -> Result<Report> {
    let bytes = read_gitlab_rb(file)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::new(format!("`{}` is not UTF-8 text", file.display()))
            .hint("gitlab.rb is Ruby source: save it as UTF-8")
    })?;
    let m = rb_map::map(text);
    let (before, after) = edited_settings(&ctx.paths.config, &m)?;
    // The result must load: a type error here would be a bug of the mapping, not the input.
    let parsed = settings::parse(&ctx.paths.config, &after)?;
    let mut findings: Vec<String> = parsed
        .diags
        .iter()
        .map(|d| format!("toolctl.toml: `{}`: {}", d.key, d.message))
        .collect();
    // `sql_data_source` has no default any more (the bundled database went with 19.0).
    if parsed.mattermost_without_data_source() {
        findings.push("toolctl.toml: `mattermost.sql_data_source` is not set and has no default: set Mattermost's own database before `toolctl reconfigure`, e.g. `toolctl config set mattermost.sql_data_source \"user=mattermost host=db.example.com port=5432 sslmode=require dbname=mattermost\"`".into());
    }
    // Opened (and swept of what a killed `secret edit` left) even for a dry run, as every
    // command that works with the store does.
    let store = ctx.store();
    Ok(Report::build(|out| {
        let written = if dry {
            Vec::new()
        } else {
            write(ctx, &store, &m, &before, &after, out)?
        };
        report(out, file, dry, &m, &findings, &written);
        Ok(())
    }))
}

/// gitlab.rb's bytes (capped; wiped when dropped: it holds passwords).
fn read_gitlab_rb(file: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let hint = "give the path of GitLab's settings, usually /etc/gitlab/gitlab.rb";
    match fsutil::read_capped(file, fsutil::SETTINGS_CAP) {
        Ok(Some(b)) => Ok(zeroize::Zeroizing::new(b)),
        Ok(None) => Err(Error::new(format!("`{}` does not exist", file.display())).hint(hint)),
        Err(f) => Err(f.into_error("read", file).hint(hint)),
    }
}

/// toolctl.toml before and after the import, edited key by key as `config set` does.
fn edited_settings(config: &Path, m: &Mapped) -> Result<(String, String)> {
    let before =
        match fsutil::read_optional_capped(config, fsutil::SETTINGS_CAP, "the settings file")? {
            Some(b) => String::from_utf8(b)
                .map_err(|_| Error::new(format!("`{}` is not UTF-8 text", config.display())))?,
            None => edit::DEFAULT_FILE.to_string(),
        };
    let mut after = before.clone();
    for s in &m.settings {
        after = edit::set(&after, &s.path, s.value.clone())?;
    }
    Ok((before, after))
}

/// Writes the settings file and the store's changed scopes through one journal; returns
/// the files written.
fn write(
    ctx: &Context,
    store: &Store,
    m: &Mapped,
    before: &str,
    after: &str,
    out: &mut Report,
) -> Result<Vec<String>> {
    let config = &ctx.paths.config;
    let grouped = rb_map::by_scope(&m.credentials);
    if after == before && grouped.is_empty() {
        return Ok(Vec::new());
    }
    let _settings_lock = fsutil::lock(&config.with_extension("toml.lock"), "settings file")?;
    let mut contents = Vec::new();
    let mut key_holder = None;
    if !grouped.is_empty() {
        let (lock, key) = out.noting(|n| store.lock_for_writing(n))?;
        store.check_dir()?;
        contents = encrypted_scopes(store, &key, &grouped)?;
        for (scope, creds) in &grouped {
            for c in creds {
                crate::app::secret::warn_short_password(*scope, c.key, &c.value, out);
            }
        }
        key_holder = Some(lock);
    }
    if let Some(dir) = config.parent() {
        fsutil::ensure_dir(dir, 0o700)?;
    }
    if after != before {
        contents.push((config.clone(), after.as_bytes().to_vec()));
    }
    let jpath = ctx.paths.secrets_dir.with_extension("import-journal");
    if let Some(done) = journal::recover(&jpath)? {
        out.warn(done.describe(&jpath));
    }
    if !grouped.is_empty() {
        fsutil::ensure_dir(&ctx.paths.secrets_dir, 0o700)?;
    }
    let wants: Vec<journal::FileWant> = contents
        .iter()
        .map(|(p, b)| journal::FileWant {
            target: p.clone(),
            content: Some(&b[..]),
            mode: 0o600,
            owner: None,
        })
        .collect();
    journal::apply(&jpath, &ctx.paths.secrets_dir, &[], &wants)?;
    drop(key_holder);
    Ok(contents
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect())
}

/// Each scope's new ciphertext, the imported credentials merged into what the store holds;
/// a scope that already holds exactly these values is left out (a second import writes
/// nothing).
fn encrypted_scopes(
    store: &Store,
    key: &Key,
    grouped: &BTreeMap<Scope, Vec<&Credential>>,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut contents = Vec::new();
    for (scope, creds) in grouped {
        let existing = match store.read(*scope, key)? {
            Some(p) => secret_schema::parse(*scope, &p)
                .map_err(|e| crate::secrets::store::invalid(*scope, e))?,
            None => Vec::new(),
        };
        let imported: Vec<secret_schema::Entry> = creds
            .iter()
            .map(|c| secret_schema::Entry {
                key: c.key.to_string(),
                value: c.value.clone(),
            })
            .collect();
        let unchanged = imported.iter().all(|i| {
            existing
                .iter()
                .any(|e| e.key == i.key && e.value.as_str() == i.value.as_str())
        });
        if unchanged {
            continue;
        }
        let content = merged(&existing, &imported);
        secret_schema::validate(*scope, content.as_bytes())
            .map_err(|e| crate::secrets::store::invalid(*scope, e))?;
        contents.push((store.file(*scope), store.encrypt(content.as_bytes(), key)?));
    }
    Ok(contents)
}

/// Everything taken and everything not: the document, the table by line, the warnings.
fn report(
    out: &mut Report,
    file: &Path,
    dry: bool,
    m: &Mapped,
    findings: &[String],
    written: &[String],
) {
    out.set_payload(&Document {
        dry_run: dry,
        file: file.display().to_string(),
        settings: m
            .settings
            .iter()
            .map(|s| SettingRow {
                key: &s.path,
                line: s.line,
                from: &s.from,
            })
            .collect(),
        secrets: m
            .credentials
            .iter()
            .map(|c| SecretRow {
                scope: c.scope.cli_name(),
                key: c.key,
                line: c.line,
                from: &c.from,
            })
            .collect(),
        not_imported: m
            .not_imported
            .iter()
            .map(|n| Skipped {
                line: n.line,
                name: &n.name,
                reason: &n.reason,
            })
            .collect(),
        gitlab_paths: path_rows(&m.gitlab_paths),
        outside_paths: path_rows(&m.outside_paths),
        notes: m.notes.iter().chain(findings).map(String::as_str).collect(),
        written,
    });
    out.table(&table(m));
    notes(out, dry, m, findings);
}

fn path_rows(list: &[(usize, String, String)]) -> Vec<PathRow<'_>> {
    list.iter()
        .map(|(line, key, path)| PathRow {
            line: *line,
            key,
            path,
        })
        .collect()
}

/// One row per gitlab.rb line, in line order.
fn table(m: &Mapped) -> report::Table {
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for s in &m.settings {
        let row = vec![
            s.line.to_string(),
            s.from.clone(),
            s.path.clone(),
            "setting".into(),
        ];
        rows.push((s.line, row));
    }
    for c in &m.credentials {
        let row = vec![
            c.line.to_string(),
            c.from.clone(),
            format!("{} secret: {}", c.scope.cli_name(), c.key),
            "encrypted store".into(),
        ];
        rows.push((c.line, row));
    }
    for n in &m.not_imported {
        let name = if n.name.is_empty() { "-" } else { &n.name };
        let row = vec![
            n.line.to_string(),
            name.to_string(),
            "-".into(),
            format!("not imported: {}", n.reason),
        ];
        rows.push((n.line, row));
    }
    rows.sort_by_key(|(l, _)| *l);
    let mut t = report::table(&["line", "gitlab.rb", "toolctl", "result"]);
    for (_, r) in rows {
        t.add_row(r);
    }
    t
}

/// The paths to look at, the mapping's notes and the summary.
fn notes(out: &mut Report, dry: bool, m: &Mapped, findings: &[String]) {
    for (line, key, path) in &m.gitlab_paths {
        out.warn(format!(
            "line {line}: `{key}` = `{path}` points into GitLab's own directories; copied as written, change it if toolctl's services should not use GitLab's files"
        ));
    }
    for (line, key, path) in &m.outside_paths {
        out.warn(format!(
            "line {line}: `{key}` = `{path}` is outside /var/log, /var/opt, /etc/gitlab and /opt/gitlab; check that this path is meant before `toolctl reconfigure` uses it"
        ));
    }
    for n in m.notes.iter().chain(findings) {
        out.warn(n.clone());
    }
    let verb = if dry { "would import" } else { "imported" };
    out.info(format!(
        "{verb} {} settings and {} credentials; {} lines not imported.{}",
        m.settings.len(),
        m.credentials.len(),
        m.not_imported.len(),
        if dry {
            ""
        } else {
            " Run `toolctl reconfigure` to apply them."
        }
    ));
}
