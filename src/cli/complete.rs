//! Dynamic shell completion: the values that only exist at run time (config keys and
//! tables, secret keys, the tail targets under the log directory).
//!
//! The committed completion scripts are clap_complete's small registration stubs: the
//! shell calls `toolctl` back with `COMPLETE=<shell>` and these functions answer. They read
//! nothing but directory names and never print a secret. A file name is a candidate only
//! without control characters, and for bash it is backslash-quoted (bash inserts the
//! candidate as printed: `zz;touch PWNED;.log` would otherwise run when Enter is pressed).

use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;

use crate::secrets::Scope;
use crate::settings::schema;
use crate::sys::dirfd::{DirFd, EntryKind};

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

/// The keys a secret may hold: the scope's own when the line names it (`smtp secret set
/// <Tab>`), else every scope's.
pub fn secret_keys() -> Vec<CompletionCandidate> {
    let line = line();
    let scope = Scope::ALL.into_iter().find(|s| {
        line.windows(2)
            .any(|w| w[0] == s.cli_name() && w[1] == "secret")
    });
    let mut names: Vec<&str> = match scope {
        Some(s) => s.keys().iter().map(|k| k.name).collect(),
        None => Scope::ALL
            .iter()
            .flat_map(|s| s.keys().iter().map(|k| k.name))
            .collect(),
    };
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// The shell being completed for (`COMPLETE=<shell>`), noted before clap_complete's engine
/// removes the variable.
static SHELL: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();

/// The words of the line being completed (after the `--` of the completion protocol).
static LINE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Notes `COMPLETE` and the line being completed; call before the completion engine
/// runs.
pub fn note_shell() {
    if let Some(shell) = std::env::var_os("COMPLETE") {
        let _ = SHELL.set(shell);
        let words: Vec<String> = std::env::args_os()
            .skip_while(|a| a != "--")
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let _ = LINE.set(words);
    }
}

fn line() -> &'static [String] {
    LINE.get().map_or(&[], Vec::as_slice)
}

/// The value of `--NAME VALUE` or `--NAME=VALUE` on the line being completed (the last
/// given, as clap takes it).
fn option_on_line(name: &str) -> Option<String> {
    let line = line();
    let flag = format!("--{name}");
    let mut found = None;
    for (i, w) in line.iter().enumerate() {
        if let Some(v) = w.strip_prefix(&format!("{flag}=")) {
            found = Some(v.to_string());
        } else if *w == flag {
            // The word being completed is the last: a flag there has no value yet.
            if let Some(v) = line.get(i + 1).filter(|_| i + 2 < line.len()) {
                found = Some(v.clone());
            }
        }
    }
    found
}

/// The root the line names (`--root`), else `TOOLCTL_ROOT`, else `/`.
fn root() -> PathBuf {
    option_on_line("root")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("TOOLCTL_ROOT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The log directory `tail` reads: `[logging] log_directory` of the settings file the line
/// names (`--config`, else `TOOLCTL_CONFIG`, else the root's), below the line's root; the
/// default when the file cannot be read (it is root's, 0600: a user's shell completes
/// with the default) or does not set it.
fn log_dir() -> PathBuf {
    use std::io::Read as _;
    let root = root();
    let config = option_on_line("config")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("TOOLCTL_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| root.join("etc/toolctl/toolctl.toml"));
    let mut text = String::new();
    let configured = std::fs::File::open(&config)
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .ok()
        .and_then(|_| text.parse::<toml_edit::DocumentMut>().ok())
        .and_then(|doc| {
            doc.get("logging")?
                .get("log_directory")?
                .as_str()
                .map(str::to_string)
        })
        .filter(|d| d.starts_with('/'));
    match configured {
        Some(d) => root.join(d.trim_start_matches('/')),
        None => root.join(crate::paths::LOG_DIR),
    }
}

/// The service directories and files under the log directory (of the line's `--root`,
/// else `TOOLCTL_ROOT`), two levels deep, relative to it. Directories are opened
/// without following links. A name with a control character (or not UTF-8) is left out;
/// every other is quoted for the shell (see [`shell_word`]).
pub fn tail_targets() -> Vec<CompletionCandidate> {
    let log_dir = log_dir();
    let mut out = Vec::new();
    if let Ok(dir) = DirFd::open_path(&log_dir) {
        list(&dir, Path::new(""), 2, &mut out);
    }
    out.sort();
    let bash = SHELL.get().is_some_and(|s| s == "bash");
    out.into_iter()
        .filter_map(|name| candidate(&name, bash))
        .collect()
}

fn list(dir: &DirFd, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = dir.entries() else {
        return;
    };
    for (file_name, e) in entries {
        let name = rel.join(&file_name);
        if e.kind == EntryKind::Dir && depth > 1 {
            if let Ok(sub) = dir.open_sub(&file_name) {
                list(&sub, &name, depth - 1, out);
            }
        }
        out.push(name);
    }
}

/// A file name as a completion candidate: `None` when it has a control character or is not
/// UTF-8 (it could not be shown or typed back faithfully); for bash, quoted by
/// [`shell_word`], since bash inserts what the completer prints as it is. zsh and fish
/// quote what they insert themselves.
fn candidate(name: &Path, bash: bool) -> Option<CompletionCandidate> {
    let name = name.to_str()?;
    if name.chars().any(char::is_control) {
        return None;
    }
    Some(CompletionCandidate::new(if bash {
        shell_word(name)
    } else {
        name.to_string()
    }))
}

/// `s` as one shell word that means exactly `s`: every character that is not a letter, a
/// digit or one of `_-./,:=+@%` is preceded by a backslash, so `;`, `$( )`, backquotes,
/// quotes, spaces, `*`, `~`, `!`, `&`, `|`, `<` and `>` are taken literally. A backslash
/// keeps what the user typed a prefix of the candidate (`a\ b` of `a\ b.log`), where a
/// quoted candidate (`'a b.log'`) would no longer start with it.
pub fn shell_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        let plain = c.is_alphanumeric() || "_-./,:=+@%".contains(c);
        if !plain {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_neutralise_metacharacters() {
        assert_eq!(shell_word("svc/current"), "svc/current");
        assert_eq!(
            shell_word("zz;touch PWNED;.log"),
            "zz\\;touch\\ PWNED\\;.log"
        );
        assert_eq!(
            shell_word("$(id)`id`'\"*~!&|<>"),
            "\\$\\(id\\)\\`id\\`\\'\\\"\\*\\~\\!\\&\\|\\<\\>"
        );
        assert_eq!(shell_word("caf\u{e9}.log"), "caf\u{e9}.log");
        assert!(candidate(Path::new("a\x1b]0;x\x07.log"), true).is_none());
        assert!(candidate(Path::new("a\nb.log"), false).is_none());
        assert_eq!(
            candidate(Path::new("a b.log"), true).unwrap().get_value(),
            "a\\ b.log"
        );
        assert_eq!(
            candidate(Path::new("a b.log"), false).unwrap().get_value(),
            "a b.log"
        );
    }
}
