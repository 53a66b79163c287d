//! GitLab's encrypted settings (`[gitlab] encrypted_settings_dir`/`*.yaml.enc`), planned
//! from the age store for `reconfigure`.
//!
//! A fresh IV changes the bytes of every encryption, so a file is compared by its
//! decrypted content: an equal one keeps its bytes (and so counts as unchanged), a
//! different one, or one that opens only with a rotated key base, is re-encrypted with the
//! current key base. A file no key base opens, or an unreadable key base, stops the run
//! before anything is written. The files go through the same journal as the rendered tree.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::{Context, Desired, DesiredDir, Secrecy};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::gitlab::{self, encrypted, KeyBases, ENCRYPTED_FILES};
use crate::secrets::Scope;
use crate::settings::resolve::{Resolved, MASK};

/// The mode of GitLab's encrypted settings directory.
pub const DIR_MODE: u32 = 0o700;

/// The masked before/after text a diff shows for an encrypted file.
pub struct View {
    pub old: Option<String>,
    pub new: String,
}

fn spec(scope: Scope) -> Option<(&'static str, &'static [&'static str])> {
    ENCRYPTED_FILES
        .iter()
        .find(|(s, _, _)| *s == scope)
        .map(|(_, f, k)| (*f, *k))
}

/// Whether `[gitlab]` asks for GitLab's encrypted settings.
pub fn configured(r: &Resolved) -> bool {
    r.str("gitlab.secrets_file").is_some() && r.str("gitlab.encrypted_settings_dir").is_some()
}

/// The YAML GitLab's file for `scope` should hold, when it is rendered: `[gitlab]` set,
/// the integration enabled (a mailbox read over IMAP), and a credential to put in it.
pub fn content(r: &Resolved, scope: Scope) -> Option<Zeroizing<String>> {
    let (_, keys) = spec(scope)?;
    if !configured(r) {
        return None;
    }
    let t = scope.table();
    if !r.bool(&format!("{t}.enabled")) {
        return None;
    }
    if scope != Scope::Smtp && r.str(&format!("{t}.inbox_method")) == Some("microsoft_graph") {
        return None;
    }
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .filter_map(|k| r.str(&format!("{t}.{k}")).map(|v| (*k, v)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    Some(gitlab::settings_yaml(&pairs))
}

/// The file's path as GitLab sees it.
pub fn logical_path(r: &Resolved, scope: Scope) -> Option<String> {
    let dir = r.str("gitlab.encrypted_settings_dir")?;
    let (file, _) = spec(scope)?;
    Some(format!("{}/{file}", dir.trim_end_matches('/')))
}

/// What a planned encrypted file adds to the plan.
pub struct Planned {
    pub files: Vec<Desired>,
    pub dirs: Vec<DesiredDir>,
    pub notes: Vec<String>,
}

/// Plans every encrypted file; `owner` is `[gitlab] user`/`group`.
pub fn plan(cx: &Context, owner: Option<(u32, u32)>) -> Result<Planned> {
    let r = cx.resolved;
    let mut out = Planned {
        files: Vec::new(),
        dirs: Vec::new(),
        notes: Vec::new(),
    };
    let wanted: Vec<(Scope, Zeroizing<String>)> = ENCRYPTED_FILES
        .iter()
        .filter_map(|(s, _, _)| content(r, *s).map(|c| (*s, c)))
        .collect();
    if wanted.is_empty() {
        return Ok(out);
    }
    let secrets_file = r.str("gitlab.secrets_file").expect("configured");
    let bases = KeyBases::load(&cx.paths.rooted(secrets_file), secrets_file)?;
    let dir_logical = r.str("gitlab.encrypted_settings_dir").expect("configured");
    let dir: PathBuf = cx.paths.rooted(dir_logical);
    // Outside the rendered tree, in a directory GitLab's user may own (omnibus:
    // `shared/`, git's, 0751): opened from the root without following a link, and refused
    // when it exists with another owner or mode (never chowned, never chmodded).
    let located =
        fsutil::open_outside_dir(&cx.paths.root, &dir, DIR_MODE, owner).map_err(
            |e| match owner {
                Some(_) => e,
                None => e.cause(
                    "`[gitlab] user` is not set, so only root may own the directories on the way; \
                 when GitLab's user owns one (omnibus: `git` owns `gitlab-rails/shared`), set \
                 `[gitlab] user` and `group` instead of changing its owner",
                ),
            },
        )?;
    let handle = located.missing.is_empty().then_some(located.handle);
    out.dirs.push(DesiredDir {
        path: dir.clone(),
        mode: DIR_MODE,
        owner,
    });
    for (scope, yaml) in wanted {
        let (file, keys) = spec(scope).expect("listed");
        let path = dir.join(file);
        let shown = logical_path(r, scope).expect("configured");
        // Read beneath the opened directory, never through a link: a link or a special
        // file there is replaced, as inside the tree.
        let existing = match &handle {
            None => None,
            Some(h) => match h.lstat(std::ffi::OsStr::new(file)) {
                Ok(Some(st)) if st.kind == fsutil::Kind::File => {
                    match h.read_capped(std::ffi::OsStr::new(file), fsutil::SECRET_CAP) {
                        Ok(b) => b,
                        Err(f) => {
                            return Err(f.into_error("read GitLab's encrypted settings", &path))
                        }
                    }
                }
                Ok(_) => None,
                Err(e) => return Err(Error::io("look at", &path, e)),
            },
        };
        let old_text = match &existing {
            None => None,
            Some(bytes) => match bases.open(bytes) {
                Ok(opened) => Some(opened),
                Err(why) => {
                    return Err(Error::new(format!(
                        "GitLab's encrypted settings file `{shown}` cannot be read: {why}"
                    ))
                    .hint(format!(
                        "check that `[gitlab] secrets_file` (`{secrets_file}`) is this GitLab's, with the key base \
                         that wrote the file; or move the file away and run `toolctl reconfigure` again"
                    )))
                }
            },
        };
        let keep = match (&existing, &old_text) {
            (Some(bytes), Some((text, 0))) if text.as_str() == yaml.as_str() => {
                Some(Zeroizing::new(bytes.clone()))
            }
            (_, Some((_, _rotated @ 1..))) => {
                out.notes.push(format!(
                    "`{shown}` opened only with a rotated key base: re-encrypted with the current `encrypted_settings_key_base`"
                ));
                None
            }
            _ => None,
        };
        let bytes = match keep {
            Some(b) => b,
            None => Zeroizing::new(
                encrypted::encrypt(bases.current(), &yaml)
                    .map_err(|e| Error::new("cannot read random bytes for an IV").cause(e))?
                    .into_bytes(),
            ),
        };
        let view = View {
            old: old_text.as_ref().map(|(t, _)| mask_view(t, keys, None)),
            new: mask_view(&yaml, keys, old_text.as_ref().map(|(t, _)| t.as_str())),
        };
        out.files.push(Desired {
            rel: path.display().to_string(),
            bytes,
            mode: 0o600,
            secrecy: Secrecy::Masked,
            create_only: false,
            owner,
            view: Some(view),
        });
    }
    Ok(out)
}

/// `key: ********` per key of `text`, with `# changed` where the value differs from
/// `other`'s (so a diff shows which credential changed, never a value).
fn mask_view(text: &str, keys: &[&str], other: Option<&str>) -> String {
    let parse = |t: &str| -> Vec<(String, String)> {
        yaml_rust2::YamlLoader::load_from_str(t)
            .ok()
            .and_then(|d| d.into_iter().next())
            .and_then(|y| y.into_hash())
            .map(|h| {
                h.into_iter()
                    .filter_map(|(k, v)| {
                        Some((k.into_string()?, v.into_string().unwrap_or_default()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mine = parse(text);
    let theirs = other.map(parse);
    let mut out = String::new();
    for (k, v) in &mine {
        let known = keys.contains(&k.as_str());
        let name = if known { k.as_str() } else { "(other key)" };
        let changed = theirs
            .as_ref()
            .is_some_and(|t| t.iter().find(|(tk, _)| tk == k).map(|(_, tv)| tv) != Some(v));
        out.push_str(&format!(
            "{name}: {MASK}{}\n",
            if changed { "  # changed" } else { "" }
        ));
    }
    out
}
