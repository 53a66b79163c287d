//! Dynamic shell completion: the values that only exist at run time (config keys and
//! tables, secret keys, the tail targets under the log directory).
//!
//! The committed completion scripts are clap_complete's small registration stubs: the
//! shell calls `toolctl` back with `COMPLETE=<shell>` and these functions answer. They read
//! nothing but directory names and never print a secret.

use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;

use crate::secrets::Scope;
use crate::settings::schema;

/// Every plain (non-secret) settings key.
pub fn config_keys() -> Vec<CompletionCandidate> {
    schema::keys()
        .iter()
        .filter(|k| k.secret.is_none())
        .map(|k| CompletionCandidate::new(k.path.clone()))
        .collect()
}

/// Every plain key and every table (`show-config smtp`, `config get smtp`).
pub fn config_keys_and_tables() -> Vec<CompletionCandidate> {
    let mut out: Vec<CompletionCandidate> = schema::TABLES
        .iter()
        .map(|t| CompletionCandidate::new(*t).tag(Some("table".into())))
        .collect();
    out.extend(config_keys());
    out
}

/// The keys a secret may hold (every scope's: the scope is not known to the completer).
pub fn secret_keys() -> Vec<CompletionCandidate> {
    let mut names: Vec<&str> = Scope::ALL
        .iter()
        .flat_map(|s| s.keys().iter().map(|k| k.name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// The service directories and files under the log directory (of `TOOLCTL_ROOT`, as the
/// completer cannot see `--root`), two levels deep, relative to it.
pub fn tail_targets() -> Vec<CompletionCandidate> {
    let root = std::env::var_os("TOOLCTL_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    let log_dir = root.join(crate::paths::LOG_DIR);
    let mut out = Vec::new();
    list(&log_dir, Path::new(""), 2, &mut out);
    out.sort();
    out.into_iter().map(CompletionCandidate::new).collect()
}

fn list(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = rel.join(e.file_name());
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        out.push(name.display().to_string());
        if is_dir && depth > 1 {
            list(&e.path(), &name, depth - 1, out);
        }
    }
}
