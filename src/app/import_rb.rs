//! `toolctl import gitlab-rb FILE [--dry-run]`: gitlab.rb → toolctl.toml (through the same
//! toml_edit path as `config set`, so comments and layout are kept) and the store (every
//! plaintext credential), all or nothing through one journal; a report of everything taken
//! and everything not, with line numbers. The reader and the mapping are in
//! `crate::gitlab::rb` and `crate::app::rb_map`.

use std::path::Path;

use serde_json::json;

use crate::app::rb_map;
use crate::cli::OutputFormat;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::gitlab::import::merged;
use crate::report::{self, Report};
use crate::secrets::schema as secret_schema;
use crate::settings::{self, edit};
use crate::sys::journal;
use crate::Context;

pub fn run(ctx: &Context, file: &Path, dry: bool, format: OutputFormat) -> Result<Report> {
    let mut out = Report::new();
    let hint = "give the path of GitLab's settings, usually /etc/gitlab/gitlab.rb";
    let bytes = match fsutil::read_capped(file, fsutil::SETTINGS_CAP) {
        Ok(Some(b)) => zeroize::Zeroizing::new(b),
        Ok(None) => {
            return Err(Error::new(format!("`{}` does not exist", file.display())).hint(hint))
        }
        Err(f) => return Err(f.into_error("read", file).hint(hint)),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::new(format!("`{}` is not UTF-8 text", file.display()))
            .hint("gitlab.rb is Ruby source: save it as UTF-8")
    })?;
    let m = rb_map::map(text);

    // toolctl.toml, edited key by key as `config set` does.
    let config = &ctx.paths.config;
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
    // The result must load: a type error here would be a bug of the mapping, not the input.
    let parsed = settings::parse(config, &after)?;
    let mut findings: Vec<String> = parsed
        .diags
        .iter()
        .map(|d| format!("toolctl.toml: `{}`: {}", d.key, d.message))
        .collect();
    // `sql_data_source` has no default any more (the bundled database went with 19.0).
    if parsed.values.contains_key("mattermost.external_url")
        && !parsed.values.contains_key("mattermost.sql_data_source")
    {
        findings.push("toolctl.toml: `mattermost.sql_data_source` is not set and has no default: set Mattermost's own database before `toolctl reconfigure`, e.g. `toolctl config set mattermost.sql_data_source \"user=mattermost host=db.example.com port=5432 sslmode=require dbname=mattermost\"`".into());
    }

    let store = ctx.store();
    let grouped = rb_map::by_scope(&m.credentials);
    let mut written = Vec::new();
    if !dry && (after != before || !grouped.is_empty()) {
        let _settings_lock = fsutil::lock(&config.with_extension("toml.lock"), "settings file")?;
        let mut contents = Vec::new();
        let mut key_holder = None;
        if !grouped.is_empty() {
            let (lock, key) = store.lock_for_writing(&ctx.printer)?;
            store.check_dir()?;
            for (scope, creds) in &grouped {
                let existing = match store.read(*scope, &key)? {
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
                // The store already holds exactly these values: a second import writes nothing.
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
                contents.push((store.file(*scope), store.encrypt(content.as_bytes(), &key)?));
            }
            key_holder = Some(lock);
        }
        if let Some(dir) = config.parent() {
            fsutil::ensure_dir(dir, 0o700)?;
        }
        if after != before {
            contents.push((config.clone(), after.clone().into_bytes()));
        }
        let jpath = ctx.paths.secrets_dir.with_extension("import-journal");
        if let Some(done) = journal::recover(&jpath)? {
            ctx.printer.warn(done.describe(&jpath));
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
        written = contents
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
    }

    match format {
        OutputFormat::Json => out.set_payload(&json!({
            "dry_run": dry,
            "file": file.display().to_string(),
            "settings": m.settings.iter().map(|s| json!({
                "key": s.path, "line": s.line, "from": s.from,
            })).collect::<Vec<_>>(),
            "secrets": m.credentials.iter().map(|c| json!({
                "scope": c.scope.cli_name(), "key": c.key, "line": c.line, "from": c.from,
            })).collect::<Vec<_>>(),
            "not_imported": m.not_imported.iter().map(|n| json!({
                "line": n.line, "name": n.name, "reason": n.reason,
            })).collect::<Vec<_>>(),
            "gitlab_paths": m.gitlab_paths.iter().map(|(line, key, path)| json!({
                "line": line, "key": key, "path": path,
            })).collect::<Vec<_>>(),
            "outside_paths": m.outside_paths.iter().map(|(line, key, path)| json!({
                "line": line, "key": key, "path": path,
            })).collect::<Vec<_>>(),
            "notes": m.notes.iter().chain(findings.iter()).collect::<Vec<_>>(),
            "written": written,
        })),
        OutputFormat::Human => {
            let mut t = report::table(&["line", "gitlab.rb", "toolctl", "result"]);
            let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
            for s in &m.settings {
                rows.push((
                    s.line,
                    vec![
                        s.line.to_string(),
                        s.from.clone(),
                        s.path.clone(),
                        "setting".into(),
                    ],
                ));
            }
            for c in &m.credentials {
                rows.push((
                    c.line,
                    vec![
                        c.line.to_string(),
                        c.from.clone(),
                        format!("{} secret: {}", c.scope.cli_name(), c.key),
                        "encrypted store".into(),
                    ],
                ));
            }
            for n in &m.not_imported {
                let name = if n.name.is_empty() {
                    "-".to_string()
                } else {
                    n.name.clone()
                };
                rows.push((
                    n.line,
                    vec![
                        n.line.to_string(),
                        name,
                        "-".into(),
                        format!("not imported: {}", n.reason),
                    ],
                ));
            }
            rows.sort_by_key(|(l, _)| *l);
            for (_, r) in rows {
                t.add_row(r);
            }
            out.text(format!("{t}\n"));
        }
    }
    for (line, key, path) in &m.gitlab_paths {
        ctx.printer.warn(format!(
            "line {line}: `{key}` = `{path}` points into GitLab's own directories; copied as written, change it if toolctl's services should not use GitLab's files"
        ));
    }
    for (line, key, path) in &m.outside_paths {
        ctx.printer.warn(format!(
            "line {line}: `{key}` = `{path}` is outside /var/log, /var/opt, /etc/gitlab and /opt/gitlab; check that this path is meant before `toolctl reconfigure` uses it"
        ));
    }
    for n in m.notes.iter().chain(findings.iter()) {
        ctx.printer.warn(n);
    }
    let verb = if dry { "would import" } else { "imported" };
    ctx.printer.info(format!(
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
    Ok(out)
}
