//! `import gitlab-secrets`: GitLab's encrypted settings → the age store, all or nothing.
//!
//! Every file is read, decrypted with the current or a rotated key base and checked against
//! its scope's schema (by the caller's `parse`: which scope a file fills, and its schema,
//! belong to the secrets store, not to this module) before anything is written; the store's files are then replaced
//! through the same journal as `reconfigure` (one journal beside the store, recovered by the
//! next import), so either every scope is imported or none is. Keys a scope already holds
//! that GitLab's file lacks (a `client_secret`) are kept.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::error::{GitlabError, Result};
use super::{settings_yaml, EncryptedFile, KeyBases, ENCRYPTED_FILES};
use crate::fsutil;

/// A key and its value, as the caller's schema parsed them.
pub trait Pair {
    fn key(&self) -> &str;
    fn value(&self) -> &str;
}

/// Why a decrypted file does not fit the scope it fills: `what` names the scope ("the smtp
/// secret"), `why` the problem, `hint` the fix (GitLab's rake task is added here).
#[derive(Debug)]
pub struct Unfit {
    pub what: String,
    pub why: String,
    pub hint: String,
}

/// One decrypted file, checked against its scope `S` (the caller's), as entries `E`.
pub struct Decrypted<S, E> {
    pub scope: S,
    pub file: PathBuf,
    /// The key names it holds (never the values).
    pub keys: Vec<String>,
    pub entries: Vec<E>,
    /// Opened with a rotated key base.
    pub rotated: bool,
}

/// What `import gitlab-secrets` found.
pub struct Found<S, E> {
    pub files: Vec<Decrypted<S, E>>,
    /// (file name, reason) of everything else in the directory.
    pub not_imported: Vec<(String, String)>,
}

/// Reads and checks every file of the opened directory `dir` (its `path` is the real one;
/// `shown` maps it for messages); `parse` gives each decrypted file's scope and entries, or
/// why it does not fit. The directory belongs to GitLab's user: every name is looked at
/// with `lstat` and opened beneath the descriptor with `O_NOFOLLOW | O_NONBLOCK`, so a
/// link, a FIFO or a device there is refused before it is opened, and a file with other
/// hard links that the directory's owner could not read itself (a second name for a
/// root-only file) is refused before a byte is read.
pub fn read_all<S, E: Pair>(
    bases: &KeyBases,
    dir: &fsutil::DirHandle,
    shown: &dyn Fn(&Path) -> String,
    parse: impl Fn(EncryptedFile, &[u8]) -> std::result::Result<(S, Vec<E>), Unfit>,
) -> Result<Found<S, E>> {
    let mut out = Found {
        files: Vec::new(),
        not_imported: Vec::new(),
    };
    let owner = dir.stat_self().map_err(|source| GitlabError::Io {
        action: "inspect",
        path: dir.path.clone(),
        source,
    })?;
    for (file, name, reads) in ENCRYPTED_FILES {
        let path = dir.path.join(name);
        let Some(bytes) = read_one(dir, name.as_ref(), &owner, &path, shown)? else {
            continue;
        };
        let (text, index) = bases
            .open(&bytes)
            .map_err(|failure| GitlabError::Undecryptable {
                shown: shown(&path),
                failure,
            })?;
        let (text, ignored) = as_gitlab_reads(&text, reads);
        for key in ignored {
            out.not_imported.push((
                format!("{name} (key `{key}`)"),
                format!(
                    "GitLab reads only {} from this file, and ignores the rest",
                    reads.join(" and ")
                ),
            ));
        }
        let (scope, entries) =
            parse(*file, text.as_bytes()).map_err(|unfit| GitlabError::DoesNotFit {
                shown: shown(&path),
                name: name.to_string(),
                unfit,
            })?;
        out.files.push(Decrypted {
            scope,
            file: path,
            keys: entries.iter().map(|e| e.key().to_string()).collect(),
            entries,
            rotated: index > 0,
        });
    }
    if let Ok(list) = dir.names() {
        let others = list
            .into_iter()
            .filter(|n| {
                !ENCRYPTED_FILES
                    .iter()
                    .any(|(_, f, _)| std::ffi::OsStr::new(f) == n)
            })
            .filter(|n| !fsutil::is_temp_name(n));
        for n in others {
            let kind = dir.lstat(&n).ok().flatten().map(|st| st.kind);
            let n = n.to_string_lossy().into_owned();
            let what = match (kind, n.as_str()) {
                (Some(fsutil::Kind::Symlink), _) => "a symbolic link: not followed",
                (Some(fsutil::Kind::Other), _) => "not a regular file: not opened",
                (_, "ldap.yaml.enc") => "LDAP credentials: toolctl does not manage LDAP",
                (_, n) if n.starts_with("redis") => {
                    "Redis credentials of GitLab itself: toolctl's `redis` secret is the mail_room/Sidekiq one; set it with `toolctl redis secret edit` if needed"
                }
                (_, n) if n.ends_with(".yaml.enc") => "toolctl does not manage these settings",
                _ => "not an encrypted settings file",
            };
            out.not_imported.push((n, what.to_string()));
        }
    }
    Ok(out)
}

/// The decrypted YAML as GitLab reads it, rewritten to what the store's strict schema takes:
/// GitLab loads it with Psych (libyaml, YAML 1.1), then `deep_symbolize_keys`, then reads
/// only the keys `reads`. So a `:user` key (a symbol) is `user`, every other key is ignored
/// (returned, to be listed), and a U+2028 or U+2029 is a line break in a quoted scalar:
/// the blanks Psych writes after it are indentation, not content. The rewritten text keeps
/// each value's own YAML (its style decides its type); when the structure is not a flat
/// mapping the text is returned as it was, for the strict parser to say why.
fn as_gitlab_reads(text: &str, reads: &[&str]) -> (Zeroizing<String>, Vec<String>) {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;
    // Psych's reading of a line separator: the blanks after it are the next line's indent.
    let mut folded = Zeroizing::new(String::with_capacity(text.len()));
    let mut after_break = false;
    for c in text.chars() {
        if after_break && (c == ' ' || c == '\t') {
            continue;
        }
        after_break = matches!(c, '\u{2028}' | '\u{2029}');
        folded.push(c);
    }
    let unchanged = |t: &Zeroizing<String>| (t.clone(), Vec::new());
    let mut parser = Parser::new_from_str(&folded);
    let mut events = Vec::new();
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((e, _)) => events.push(e),
            Err(_) => return unchanged(&folded),
        }
    }
    // StreamStart, DocumentStart, MappingStart, (key, value)*, MappingEnd, DocumentEnd.
    let body = match events.as_slice() {
        [Event::StreamStart, Event::DocumentStart, Event::MappingStart(..), body @ .., Event::MappingEnd, Event::DocumentEnd] => {
            body
        }
        _ => return unchanged(&folded),
    };
    let mut out = Zeroizing::new(String::new());
    let mut ignored = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let Event::Scalar(key, style, _, tag) = &body[i] else {
            return unchanged(&folded);
        };
        let name = match key.strip_prefix(':') {
            Some(sym) if *style == TScalarStyle::Plain && tag.is_none() => sym,
            _ => key.as_str(),
        };
        let Some(Event::Scalar(value, vstyle, _, vtag)) = body.get(i + 1) else {
            if reads.contains(&name) {
                return unchanged(&folded);
            }
            // A list or mapping under an ignored key: skipped whole.
            let mut depth = 0usize;
            i += 1;
            loop {
                match body.get(i) {
                    Some(Event::MappingStart(..) | Event::SequenceStart(..)) => depth += 1,
                    Some(Event::MappingEnd | Event::SequenceEnd) => depth = depth.saturating_sub(1),
                    Some(_) => {}
                    None => return unchanged(&folded),
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            ignored.push(name.to_string());
            continue;
        };
        i += 2;
        if !reads.contains(&name) {
            ignored.push(name.to_string());
            continue;
        }
        if vtag.is_some() {
            return unchanged(&folded);
        }
        out.push_str(name);
        out.push_str(": ");
        if *vstyle == TScalarStyle::Plain {
            // Its type (a number, `true`, `~`) is the strict parser's to judge.
            out.push_str(value);
        } else {
            out.push_str(&serde_json::to_string(value).expect("strings serialize"));
        }
        out.push('\n');
    }
    if out.is_empty() {
        return unchanged(&folded);
    }
    (out, ignored)
}

/// One encrypted file of `dir` (whose metadata is `owner`), `None` when it is missing.
fn read_one(
    dir: &fsutil::DirHandle,
    name: &std::ffi::OsStr,
    owner: &fsutil::Stat,
    path: &Path,
    shown: &dyn Fn(&Path) -> String,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let refuse = |what: String| GitlabError::Refused {
        shown: shown(path),
        name: name.to_string_lossy().into_owned(),
        what,
    };
    match dir.lstat(name) {
        Ok(None) => return Ok(None),
        Ok(Some(st)) if st.kind == fsutil::Kind::Symlink => {
            return Err(refuse("is a symbolic link: toolctl never follows one there".into()))
        }
        Ok(Some(st)) if st.kind != fsutil::Kind::File => {
            return Err(refuse("is not a regular file (a device, a FIFO, a socket or a directory): toolctl never opens one there".into()))
        }
        Ok(Some(_)) => {}
        Err(source) => {
            return Err(GitlabError::Io {
                action: "inspect",
                path: path.to_path_buf(),
                source,
            })
        }
    }
    let file = match dir.open_file(name) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e)
            if e.raw_os_error() == Some(crate::sys::errno::ELOOP)
                || e.kind() == std::io::ErrorKind::InvalidInput =>
        {
            return Err(refuse(
                "was replaced by a link or a special file while toolctl opened it".into(),
            ))
        }
        Err(source) => {
            return Err(GitlabError::Io {
                action: "open",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let (st, links) = fsutil::file_stat(&file).map_err(|source| GitlabError::Io {
        action: "inspect",
        path: path.to_path_buf(),
        source,
    })?;
    if links > 1 && !fsutil::readable_by(&st, owner.uid, owner.gid) {
        return Err(refuse(format!(
            "has {links} names and its directory's owner ({}) cannot read it: a second name for another file",
            crate::sys::users::describe_uid(owner.uid)
        )));
    }
    fsutil::read_open_capped(&file, fsutil::SECRET_CAP)
        .map(|b| Some(Zeroizing::new(b)))
        .map_err(|failure| GitlabError::Read {
            path: path.to_path_buf(),
            failure,
        })
}

/// The new content of a scope: what it holds, with GitLab's keys overlaid.
pub fn merged<E: Pair>(existing: &[E], imported: &[E]) -> Zeroizing<String> {
    let mut pairs: Vec<(&str, &str)> = existing
        .iter()
        .filter(|e| !imported.iter().any(|i| i.key() == e.key()))
        .map(|e| (e.key(), e.value()))
        .collect();
    pairs.extend(imported.iter().map(|e| (e.key(), e.value())));
    settings_yaml(&pairs)
}
