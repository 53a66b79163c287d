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

use super::{Context, Desired, DesiredDir, RenderError, Secrecy};

use crate::fsutil;
use crate::gitlab::{self, encrypted, KeyBases, ENCRYPTED_FILES};
use crate::model::{MailboxKind, Model, Secret, MASK};

/// The mode of GitLab's encrypted settings directory.
pub const DIR_MODE: u32 = 0o700;

/// The masked before/after text a diff shows for an encrypted file.
pub struct View {
    pub old: Option<String>,
    pub new: String,
}

/// One of GitLab's encrypted settings files that `reconfigure` renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncFile {
    Smtp,
    Mailbox(MailboxKind),
}

impl EncFile {
    pub const ALL: [EncFile; 3] = [
        EncFile::Smtp,
        EncFile::Mailbox(MailboxKind::Incoming),
        EncFile::Mailbox(MailboxKind::ServiceDesk),
    ];

    fn table(self) -> &'static str {
        match self {
            EncFile::Smtp => "smtp",
            EncFile::Mailbox(kind) => kind.table(),
        }
    }

    /// Its file name and the keys GitLab reads from it.
    fn spec(self) -> Option<(&'static str, &'static [&'static str])> {
        ENCRYPTED_FILES
            .iter()
            .find(|(s, _, _)| s.table() == self.table())
            .map(|(_, f, k)| (*f, *k))
    }

    /// Whether its integration is enabled and reads over IMAP (or is the relay), and the
    /// credential behind each of its keys.
    fn credential<'m>(self, m: &'m Model, key: &str) -> Option<&'m Secret> {
        match (self, key) {
            (EncFile::Smtp, "user_name") => m.smtp.user_name.as_ref(),
            (EncFile::Smtp, "password") => m.smtp.password.as_ref(),
            (EncFile::Mailbox(k), "user") => m.mailbox(k).user.as_ref(),
            (EncFile::Mailbox(k), "password") => m.mailbox(k).password.as_ref(),
            _ => None,
        }
    }

    fn wanted(self, m: &Model) -> bool {
        match self {
            EncFile::Smtp => m.smtp.enabled,
            EncFile::Mailbox(k) => m.mailbox(k).enabled && !m.mailbox(k).graph(),
        }
    }
}

/// Whether `[gitlab]` asks for GitLab's encrypted settings.
pub fn configured(m: &Model) -> bool {
    m.gitlab.encrypted_settings().is_some()
}

/// The YAML GitLab's file `f` should hold, when it is rendered: `[gitlab]` set, the
/// integration enabled (a mailbox read over IMAP), and a credential to put in it.
pub fn content(m: &Model, f: EncFile) -> Option<Zeroizing<String>> {
    let (_, keys) = f.spec()?;
    if !configured(m) || !f.wanted(m) {
        return None;
    }
    let pairs: Vec<(&str, &str)> = keys
        .iter()
        .filter_map(|k| f.credential(m, k).map(|v| (*k, v.expose().as_str())))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    Some(gitlab::settings_yaml(&pairs))
}

/// The file's path as GitLab sees it.
pub fn logical_path(m: &Model, f: EncFile) -> Option<String> {
    let dir = m.gitlab.encrypted_settings_dir.as_deref()?;
    let (file, _) = f.spec()?;
    Some(format!("{}/{file}", dir.trim_end_matches('/')))
}

/// What a planned encrypted file adds to the plan.
pub struct Planned {
    pub files: Vec<Desired>,
    pub dirs: Vec<DesiredDir>,
    pub notes: Vec<String>,
}

/// Plans every encrypted file; `owner` is `[gitlab] user`/`group`.
pub fn plan(cx: &Context, owner: Option<(u32, u32)>) -> Result<Planned, RenderError> {
    let m = cx.model;
    let mut out = Planned {
        files: Vec::new(),
        dirs: Vec::new(),
        notes: Vec::new(),
    };
    let wanted: Vec<(EncFile, Zeroizing<String>)> = EncFile::ALL
        .iter()
        .filter_map(|f| content(m, *f).map(|c| (*f, c)))
        .collect();
    let Some((secrets_file, dir_logical)) = m.gitlab.encrypted_settings() else {
        return Ok(out);
    };
    if wanted.is_empty() {
        return Ok(out);
    }
    let bases = KeyBases::load(&cx.paths.rooted(secrets_file), secrets_file)
        .map_err(crate::error::Error::from)?;
    let dir: PathBuf = cx.paths.rooted(dir_logical);
    let located = open_dir(cx, &dir, owner)?;
    let handle = located.missing.is_empty().then_some(located.handle);
    out.dirs.push(DesiredDir {
        path: dir.clone(),
        mode: DIR_MODE,
        owner,
    });
    for (f, yaml) in wanted {
        let (file, keys) = f.spec().expect("listed");
        let path = dir.join(file);
        let shown = logical_path(m, f).expect("configured");
        // Read beneath the opened directory, never through a link: a link or a special
        // file there is replaced, as inside the tree.
        let existing = read_existing(handle.as_ref(), file, &path)?;
        let old_text = match &existing {
            None => None,
            Some(bytes) => Some(decrypt(&bases, bytes, &shown, secrets_file)?),
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
                    .map_err(RenderError::Random)?
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

/// The directory of the encrypted files, outside the rendered tree, in a directory
/// GitLab's user may own (omnibus: `shared/`, git's, 0751): opened from the root without
/// following a link, and refused when it exists with another owner or mode (never
/// chowned, never chmodded).
fn open_dir(
    cx: &Context,
    dir: &std::path::Path,
    owner: Option<(u32, u32)>,
) -> Result<fsutil::Located, RenderError> {
    let located =
        fsutil::open_outside_dir(&cx.paths.root, dir, DIR_MODE, owner).map_err(
            |e| match owner {
                Some(_) => e,
                None => e.cause(
                    "`[gitlab] user` is not set, so only root may own the directories on the way; \
                 when GitLab's user owns one (omnibus: `git` owns `gitlab-rails/shared`), set \
                 `[gitlab] user` and `group` instead of changing its owner",
                ),
            },
        )?;
    Ok(located)
}

/// The file's bytes, read beneath the opened directory, never through a link: a link or
/// a special file there is replaced, as inside the tree. `None` when it is not a file or
/// the directory is still missing.
fn read_existing(
    handle: Option<&fsutil::DirHandle>,
    file: &str,
    path: &std::path::Path,
) -> Result<Option<Vec<u8>>, RenderError> {
    let Some(h) = handle else {
        return Ok(None);
    };
    match h.lstat(std::ffi::OsStr::new(file)) {
        Ok(Some(st)) if st.kind == fsutil::Kind::File => {
            match h.read_capped(std::ffi::OsStr::new(file), fsutil::SECRET_CAP) {
                Ok(b) => Ok(b),
                Err(f) => Err(f
                    .into_error("read GitLab's encrypted settings", path)
                    .into()),
            }
        }
        Ok(_) => Ok(None),
        Err(source) => Err(RenderError::Io {
            action: "look at",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// An existing file's text and the index of the key base that opened it (0: current).
fn decrypt(
    bases: &KeyBases,
    bytes: &[u8],
    shown: &str,
    secrets_file: &str,
) -> Result<(Zeroizing<String>, usize), RenderError> {
    bases.open(bytes).map_err(|why| RenderError::Encrypted {
        shown: shown.to_string(),
        secrets_file: secrets_file.to_string(),
        why: why.to_string(),
    })
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
