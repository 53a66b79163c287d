//! GitLab's own formats: its encrypted settings ([`encrypted`]), the key bases that open
//! them (`gitlab-secrets.json` / `secrets.yml`, here), the gitlab.rb reader ([`rb`]) and the
//! imports built on them ([`import`]).
//!
//! This module reads and writes GitLab's bytes; it does not decide what `reconfigure`
//! renders (that is `render::gitlab_enc`) and never prints a decrypted value.

pub mod encrypted;
pub mod error;
pub mod import;
pub mod rb;

pub use error::GitlabError;

use std::path::Path;

use zeroize::Zeroizing;

use crate::fsutil;
use error::Result;

/// One of GitLab's encrypted settings files that toolctl reads and writes. Which secret
/// scope each one fills is the command's decision (`app`), not this module's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptedFile {
    Smtp,
    IncomingEmail,
    ServiceDeskEmail,
}

impl EncryptedFile {
    /// The `toolctl.toml` table (and GitLab's settings section) whose credentials it holds.
    pub fn table(self) -> &'static str {
        match self {
            EncryptedFile::Smtp => "smtp",
            EncryptedFile::IncomingEmail => "incoming_email",
            EncryptedFile::ServiceDeskEmail => "service_desk_email",
        }
    }
}

/// GitLab's encrypted settings files: (file, file name, the keys GitLab reads).
pub const ENCRYPTED_FILES: &[(EncryptedFile, &str, &[&str])] = &[
    (
        EncryptedFile::Smtp,
        "smtp.yaml.enc",
        &["user_name", "password"],
    ),
    (
        EncryptedFile::IncomingEmail,
        "incoming_email.yaml.enc",
        &["user", "password"],
    ),
    (
        EncryptedFile::ServiceDeskEmail,
        "service_desk_email.yaml.enc",
        &["user", "password"],
    ),
];

/// omnibus' defaults, used by `import gitlab-secrets` (under `--root`).
pub const DEFAULT_SECRETS_FILE: &str = "/etc/gitlab/gitlab-secrets.json";
pub const DEFAULT_ENCRYPTED_DIR: &str = "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings";

/// How many rotated key bases toolctl tries. Each one costs a PBKDF2 derivation of 65,536
/// rounds; GitLab itself sets no limit, but a list that runs to thousands would make every
/// `reconfigure` take minutes.
pub const MAX_ROTATED: usize = 16;

/// The shortest key base GitLab derives a key from (a shorter one: "Base key too small").
pub const MIN_KEY_BASE: usize = 16;

/// `encrypted_settings_key_base`, derived, and its rotated predecessors, derived only when
/// the current one fails to open a file (once each).
pub struct KeyBases {
    current: encrypted::DerivedKey,
    rotated: Vec<(
        Zeroizing<String>,
        std::cell::OnceCell<encrypted::DerivedKey>,
    )>,
}

impl KeyBases {
    /// Reads the key bases from `gitlab-secrets.json` (`gitlab_rails.*`) or a source
    /// install's `config/secrets.yml` (`production.*`). `shown` is the path for messages.
    pub fn load(path: &Path, shown: &str) -> Result<KeyBases> {
        let bytes = match fsutil::read_capped(path, fsutil::KEY_CAP * 16) {
            Ok(Some(b)) => Zeroizing::new(b),
            Ok(None) => {
                return Err(GitlabError::KeyBaseMissing {
                    shown: shown.to_string(),
                })
            }
            Err(failure) => {
                return Err(GitlabError::KeyBaseRead {
                    path: path.to_path_buf(),
                    failure,
                })
            }
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| GitlabError::KeyBaseNotUtf8 {
            shown: shown.to_string(),
        })?;
        let (current, rotated) =
            parse_key_bases(text).map_err(|why| GitlabError::KeyBaseInvalid {
                shown: shown.to_string(),
                too_small: why.contains("Base key too small"),
                why,
            })?;
        if rotated.len() > MAX_ROTATED {
            return Err(GitlabError::TooManyRotated {
                shown: shown.to_string(),
                count: rotated.len(),
                max: MAX_ROTATED,
            });
        }
        Ok(KeyBases {
            current: encrypted::derive_key(&current),
            rotated: rotated
                .into_iter()
                .map(|k| (k, std::cell::OnceCell::new()))
                .collect(),
        })
    }

    /// The current key: every file is written with it.
    pub fn current(&self) -> &encrypted::DerivedKey {
        &self.current
    }

    /// Opens a file with the current key base, then (only when that fails) with each rotated
    /// one, derived on first use: the text and which key opened it (0 = the current one).
    pub fn open(
        &self,
        file: &[u8],
    ) -> std::result::Result<(Zeroizing<String>, usize), encrypted::Failure> {
        let mut last = match encrypted::decrypt(&self.current, file) {
            Ok(text) => return Ok((text, 0)),
            // A format error does not depend on the key: no other key can help.
            Err(encrypted::Failure::Format) => return Err(encrypted::Failure::Format),
            Err(e) => e,
        };
        for (i, (base, key)) in self.rotated.iter().enumerate() {
            let key = key.get_or_init(|| encrypted::derive_key(base));
            match encrypted::decrypt(key, file) {
                Ok(text) => return Ok((text, i + 1)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// (current, rotated) key bases from the text of either file. Never quotes a value.
fn parse_key_bases(
    text: &str,
) -> std::result::Result<(Zeroizing<String>, Vec<Zeroizing<String>>), String> {
    use yaml_rust2::{Yaml, YamlLoader};
    // JSON is YAML: one parser serves gitlab-secrets.json and secrets.yml.
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| format!("it is not JSON or YAML ({})", e.info()))?;
    let doc = docs.into_iter().next().ok_or("the file is empty")?;
    // gitlab-secrets.json: `gitlab_rails`; secrets.yml: Rails merges `shared` into
    // `production`, the production value winning.
    let sections: Vec<&Yaml> = if !doc["gitlab_rails"].is_badvalue() {
        vec![&doc["gitlab_rails"]]
    } else {
        ["production", "shared"]
            .iter()
            .map(|s| &doc[*s])
            .filter(|y| !y.is_badvalue())
            .collect()
    };
    if sections.is_empty() {
        return Err("it has neither a `gitlab_rails` (gitlab-secrets.json) nor a `production` or `shared` (secrets.yml) section".into());
    }
    let lookup = |key: &str| {
        sections
            .iter()
            .map(|s| &s[key])
            .find(|y| !y.is_badvalue())
            .unwrap_or(&Yaml::BadValue)
    };
    let current = match lookup("encrypted_settings_key_base") {
        Yaml::String(s) if !s.is_empty() => Zeroizing::new(s.clone()),
        Yaml::BadValue => return Err("the key `encrypted_settings_key_base` is missing".into()),
        _ => return Err("`encrypted_settings_key_base` is not a non-empty string".into()),
    };
    let rotated = match lookup("rotated_encrypted_settings_key_base") {
        Yaml::BadValue | Yaml::Null => Vec::new(),
        Yaml::String(s) => vec![Zeroizing::new(s.clone())],
        Yaml::Array(items) => items
            .iter()
            .map(|y| match y {
                Yaml::String(s) => Ok(Zeroizing::new(s.clone())),
                _ => Err(
                    "`rotated_encrypted_settings_key_base` holds a value that is not a string"
                        .to_string(),
                ),
            })
            .collect::<std::result::Result<_, _>>()?,
        _ => return Err("`rotated_encrypted_settings_key_base` is not a list of strings".into()),
    };
    // GitLab refuses to derive a key from a short base ("Base key too small"), for the
    // current one and every rotated one alike.
    if current.chars().count() < MIN_KEY_BASE {
        return Err(format!("`encrypted_settings_key_base` has fewer than {MIN_KEY_BASE} characters: GitLab raises \"Base key too small\" for it and reads no encrypted settings"));
    }
    if let Some(n) = rotated
        .iter()
        .position(|k| k.chars().count() < MIN_KEY_BASE)
    {
        return Err(format!("entry {} of `rotated_encrypted_settings_key_base` has fewer than {MIN_KEY_BASE} characters: GitLab raises \"Base key too small\" for it", n + 1));
    }
    Ok((current, rotated))
}

/// The YAML GitLab expects in an encrypted settings file, from (key, value) pairs.
pub fn settings_yaml(pairs: &[(&str, &str)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for (k, v) in pairs {
        out.push_str(k);
        out.push_str(": ");
        push_yaml_quoted(&mut out, v);
        out.push('\n');
    }
    out
}

/// Appends `s` as a YAML double-quoted scalar that Psych (GitLab's and mail_room's YAML)
/// reads back byte for byte: JSON's escapes (`"`, `\`, C0 controls), plus DEL and the C1
/// controls, which Psych refuses raw ("control characters are not allowed") or folds
/// (U+0085, a line break to it), and U+2028/U+2029, line breaks to YAML 1.1, all as `\u`
/// escapes. Written in place, so a credential leaves no unzeroed copy behind.
pub fn push_yaml_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quoting_escapes_what_psych_cannot_read_raw() {
        let mut out = String::new();
        push_yaml_quoted(
            &mut out,
            "a\"b\\c\n\u{7f}\u{85}\u{9f}\u{2028}\u{2029}\u{a0}\u{1b}é",
        );
        assert_eq!(
            out,
            "\"a\\\"b\\\\c\\n\\u007f\\u0085\\u009f\\u2028\\u2029\u{a0}\\u001bé\""
        );
    }

    #[test]
    fn key_bases_come_from_either_file() {
        let (c, r) = parse_key_bases(
            r#"{"gitlab_rails": {"encrypted_settings_key_base": "aaaaaaaaaaaaaaaa", "rotated_encrypted_settings_key_base": ["bbbbbbbbbbbbbbbb"]}}"#,
        )
        .unwrap();
        assert_eq!((c.as_str(), r.len()), ("aaaaaaaaaaaaaaaa", 1));
        let (c, r) =
            parse_key_bases("production:\n  encrypted_settings_key_base: cccccccccccccccc\n")
                .unwrap();
        assert_eq!((c.as_str(), r.len()), ("cccccccccccccccc", 0));
        assert!(parse_key_bases("production: {}\n").is_err());
    }

    #[test]
    fn shared_is_merged_into_production_and_short_bases_are_refused() {
        let (c, r) = parse_key_bases(
            "shared:\n  encrypted_settings_key_base: ssssssssssssssss\n  rotated_encrypted_settings_key_base: [rrrrrrrrrrrrrrrr]\nproduction:\n  db_key_base: x\n",
        )
        .unwrap();
        assert_eq!((c.as_str(), r.len()), ("ssssssssssssssss", 1));
        let (c, _) = parse_key_bases(
            "shared:\n  encrypted_settings_key_base: ssssssssssssssss\nproduction:\n  encrypted_settings_key_base: pppppppppppppppp\n",
        )
        .unwrap();
        assert_eq!(c.as_str(), "pppppppppppppppp");
        let short =
            parse_key_bases("production:\n  encrypted_settings_key_base: '123456789012345'\n");
        assert!(short.is_err_and(|e| e.contains("Base key too small")));
        let rotated = parse_key_bases(
            "production:\n  encrypted_settings_key_base: '1234567890123456'\n  rotated_encrypted_settings_key_base: [short]\n",
        );
        assert!(rotated.is_err_and(|e| e.contains("entry 1")));
    }
}
