use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::error::{ExitStatus, Result};
use crate::fsutil::{self, ReadFailure};
use crate::report::{self, Report};
use crate::secrets::crypt::{self, DecryptFailure};
use crate::secrets::edit::StaleDir;
use crate::secrets::key::{Key, KeyFile, Role};
use crate::secrets::rotation::{self, Inventory};
use crate::secrets::Scope;
use crate::Context;

/// One scope's row: which key file opens it, or why none does.
struct Row {
    scope: Scope,
    path: PathBuf,
    present: bool,
    modified: Option<String>,
    /// `None`: no file. `Some(Ok(k))`: opened by `files[k]`, usable by toolctl.
    decrypts: Option<std::result::Result<usize, String>>,
    /// The key file that opens it (also for a file that only an old key opens).
    opened_by: Option<usize>,
}

impl Row {
    fn fails(&self) -> bool {
        matches!(self.decrypts, Some(Err(_)))
    }
}

/// The JSON document of `secrets status`.
#[derive(Serialize)]
struct Document<'a> {
    key_file: &'a Path,
    public_key: Option<String>,
    key_files: Vec<KeyFileRow<'a>>,
    rotation: Option<Rotation<'a>>,
    secrets: Vec<SecretRow<'a>>,
    stale_edit_dirs: Vec<StaleRow<'a>>,
    attention: &'a [String],
}

#[derive(Serialize)]
struct KeyFileRow<'a> {
    role: &'static str,
    path: &'a Path,
    public_key: Option<String>,
    problem: Option<String>,
}

/// An unfinished rotation.
#[derive(Serialize)]
struct Rotation<'a> {
    state: &'static str,
    journal: PathBuf,
    new_public_key: Option<&'a str>,
    old_key: Option<&'a Path>,
}

#[derive(Serialize)]
struct SecretRow<'a> {
    scope: &'static str,
    file: &'a Path,
    present: bool,
    modified: Option<&'a str>,
    decrypts: Option<bool>,
    problem: Option<&'a str>,
    key_file: Option<&'a Path>,
    key_role: Option<&'static str>,
}

#[derive(Serialize)]
struct StaleRow<'a> {
    path: &'a Path,
    pid: Option<u32>,
    problem: &'a str,
}

/// What `secrets status` found.
struct Found<'a> {
    key: Option<Key>,
    inventory: &'a Inventory,
    /// The usable key files: current, staged, old copies.
    files: Vec<&'a KeyFile>,
    rows: Vec<Row>,
    stale: &'static [StaleDir],
    /// Whether a rotation is unfinished.
    rotating: bool,
    attention: Vec<String>,
}

/// `toolctl secrets status`: every key file with its role, one row per scope with the key
/// file that opens it; exit 1 when something needs attention (a present file that toolctl
/// cannot decrypt, an unfinished rotation, a key file that cannot be used).
pub fn run(ctx: &Context, format: OutputFormat) -> Result<Report> {
    let store = ctx.store();
    store.check_dir()?;
    // The key set readers use: an unusable current or staged key is an error, as for them.
    let key = Key::load(&ctx.paths.key_file)?;
    let inventory = rotation::inventory(&ctx.paths.key_file);
    let files: Vec<&KeyFile> = inventory
        .files
        .iter()
        .filter_map(|(_, _, k)| k.as_ref().ok())
        .collect();
    let rows = Scope::ALL
        .into_iter()
        .map(|scope| row(scope, store.file(scope), key.is_some(), &files))
        .collect();
    // Plaintext copies a killed `secret edit` left that the store's sweep could not remove.
    let stale = crate::secrets::edit::stale_left_behind(&ctx.printer);
    let mut found = Found {
        key,
        rotating: files.iter().any(|k| k.role == Role::Staged) || inventory.journal.is_some(),
        inventory: &inventory,
        files,
        rows,
        stale,
        attention: Vec::new(),
    };
    found.attention = attention(&found);

    let mut out = Report::new();
    out.set_payload(&document(ctx, &found));
    if format == OutputFormat::Human {
        tables(ctx, &found, &mut out);
    }
    if found.attention.is_empty() {
        return Ok(out);
    }
    for a in &found.attention {
        out.warn(a.clone());
    }
    if found.rows.iter().any(Row::fails) {
        out.warn(
            "some secrets do not decrypt with this key: restore the right key, or rewrite \
             them with `toolctl <scope> secret write`",
        );
    }
    Ok(out.with_status(ExitStatus::Failure))
}

/// One scope's file: present, modified, and which key file opens it.
fn row(scope: Scope, path: PathBuf, have_key: bool, files: &[&KeyFile]) -> Row {
    let meta = std::fs::metadata(&path).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .map(|t: SystemTime| humantime::format_rfc3339_seconds(t).to_string());
    let present = std::fs::symlink_metadata(&path).is_ok();
    let (decrypts, opened_by) = if !present {
        (None, None)
    } else if !have_key {
        (Some(Err("no key".to_string())), None)
    } else {
        match fsutil::read_capped(&path, fsutil::SECRET_CAP) {
            Ok(None) => (None, None),
            Err(ReadFailure::Io(e)) => (Some(Err(format!("unreadable: {}", e.kind()))), None),
            Err(ReadFailure::NotRegular(kind)) => {
                (Some(Err(format!("not a regular file: a {kind}"))), None)
            }
            Err(ReadFailure::TooLarge(_)) => (Some(Err("damaged (too large)".into())), None),
            Ok(Some(ct)) => which_opens(&ct, files),
        }
    };
    Row {
        scope,
        path,
        present,
        modified,
        decrypts,
        opened_by,
    }
}

/// What needs attention, in order: the secrets, the rotation, the key files, the journal,
/// the plaintext copies left behind.
fn attention(f: &Found) -> Vec<String> {
    let mut attention: Vec<String> = f
        .rows
        .iter()
        .filter_map(|r| match &r.decrypts {
            Some(Err(why)) => Some(format!("{}: {why}", r.scope)),
            _ => None,
        })
        .collect();
    if f.rotating {
        attention.push(format!(
            "a key rotation is unfinished (state {}): every secret still opens with a key \
             file listed here; run `toolctl secrets rekey` to finish it, and remove no key file",
            match &f.inventory.journal {
                Some(j) => j.state.as_str(),
                None => rotation::State::Staged.as_str(),
            }
        ));
    }
    for (role, path, k) in &f.inventory.files {
        if let Err(e) = k {
            attention.push(format!(
                "the {} key file `{}` cannot be used: {e}",
                role.as_str(),
                path.display()
            ));
        }
    }
    if let Some(e) = &f.inventory.journal_error {
        attention.push(format!("the rotation journal cannot be read: {e}"));
    }
    if !f.stale.is_empty() {
        attention.push(
            "plaintext copies of edited secrets are left on disk (listed above): remove them"
                .to_string(),
        );
    }
    attention
}

fn document<'a>(ctx: &'a Context, f: &'a Found) -> Document<'a> {
    let journal = f.inventory.journal.as_ref();
    Document {
        key_file: &ctx.paths.key_file,
        public_key: f.key.as_ref().map(|k| k.recipient().to_string()),
        key_files: f
            .inventory
            .files
            .iter()
            .map(|(role, path, k)| KeyFileRow {
                role: role.as_str(),
                path,
                public_key: k.as_ref().ok().map(|k| k.recipient().to_string()),
                problem: k.as_ref().err().map(|e| e.to_string()),
            })
            .collect(),
        rotation: f.rotating.then(|| Rotation {
            state: journal.map_or("staged", |j| j.state.as_str()),
            journal: rotation::journal_path(&ctx.paths.key_file),
            new_public_key: journal.and_then(|j| j.new_public.as_deref()),
            old_key: journal.and_then(|j| j.old_copy.as_deref()),
        }),
        secrets: f
            .rows
            .iter()
            .map(|r| SecretRow {
                scope: r.scope.cli_name(),
                file: &r.path,
                present: r.present,
                modified: r.modified.as_deref(),
                decrypts: r.decrypts.as_ref().map(|d| d.is_ok()),
                problem: r
                    .decrypts
                    .as_ref()
                    .and_then(|d| d.as_ref().err().map(String::as_str)),
                key_file: r.opened_by.map(|k| f.files[k].path.as_path()),
                key_role: r.opened_by.map(|k| f.files[k].role.as_str()),
            })
            .collect(),
        stale_edit_dirs: f
            .stale
            .iter()
            .map(|d| StaleRow {
                path: &d.path,
                pid: d.pid,
                problem: &d.problem,
            })
            .collect(),
        attention: &f.attention,
    }
}

/// The scopes' table, the key files' table, the stale edit directories; with `-q`, only
/// the rows that need attention, and the key files only then.
fn tables(ctx: &Context, f: &Found, out: &mut Report) {
    let terse = ctx.printer.quiet;
    let mut t = report::table(&[
        "scope",
        "file",
        "present",
        "modified",
        "decrypts",
        "opens with",
    ]);
    for r in f.rows.iter().filter(|r| !terse || r.fails()) {
        t.add_row(vec![
            r.scope.cli_name().to_string(),
            r.path.display().to_string(),
            if r.present { "yes" } else { "no" }.to_string(),
            r.modified.clone().unwrap_or_else(|| "-".into()),
            match &r.decrypts {
                None => "-".to_string(),
                Some(Ok(_)) => "yes".to_string(),
                Some(Err(why)) => format!("no ({why})"),
            },
            match r.opened_by {
                Some(k) => format!("{} key", f.files[k].role.as_str()),
                None => "-".to_string(),
            },
        ]);
    }
    let mut k = report::table(&["key file", "role", "public key"]);
    for (role, path, file) in &f.inventory.files {
        k.add_row(vec![
            path.display().to_string(),
            role.as_str().to_string(),
            match file {
                Ok(f) => f.recipient().to_string(),
                Err(_) => "(unusable)".to_string(),
            },
        ]);
    }
    if !terse || !f.attention.is_empty() {
        out.text(format!("{t}\n\n{k}\n"));
    }
    if !f.stale.is_empty() {
        let mut t = report::table(&["stale edit directory", "toolctl pid", "problem"]);
        for d in f.stale {
            let pid = d.pid.map_or_else(|| "-".to_string(), |p| p.to_string());
            t.add_row(vec![d.path.display().to_string(), pid, d.problem.clone()]);
        }
        out.table(&t);
    }
    if f.key.is_none() {
        // The hint must match what `secrets init` will do: it refuses to create a key over
        // existing secrets.
        let at = ctx.paths.key_file.display();
        if f.rows.iter().any(|r| r.present) {
            out.warn(format!(
                "no key at `{at}`, and secrets exist that only the original key decrypts: restore it from your backup"
            ));
        } else {
            out.info(format!(
                "no key at `{at}` (`toolctl secrets init` creates one)"
            ));
        }
    }
}

/// Which key file opens `ct`: the first of `files` (current, staged, old copies) whose
/// identities decrypt it. A file only an old copy opens is reported: toolctl's readers use
/// the current and staged keys only.
fn which_opens(
    ct: &[u8],
    files: &[&KeyFile],
) -> (Option<std::result::Result<usize, String>>, Option<usize>) {
    let mut damaged = None;
    for (i, k) in files.iter().enumerate() {
        match crypt::decrypt(ct, k.identities()) {
            Ok(_) if k.role == Role::Old => {
                return (
                    Some(Err(format!(
                        "opens only with the old key `{}`: run `toolctl secrets rekey`",
                        k.path.display()
                    ))),
                    Some(i),
                )
            }
            Ok(_) => return (Some(Ok(i)), Some(i)),
            Err(DecryptFailure::Damaged(_)) => damaged = Some(()),
            Err(DecryptFailure::WrongKey) => {}
        }
    }
    let why = if damaged.is_some() {
        "damaged"
    } else {
        "wrong key"
    };
    (Some(Err(why.to_string())), None)
}
