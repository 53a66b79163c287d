//! Where every file lives under `--root`.
//!
//! The layout is fixed: `--root DIR` (or `TOOLCTL_ROOT`) relocates all of it, and
//! settings may move the secrets directory, the key file, the rendered directory and the
//! log directory. Paths written in settings are read as paths *inside* the root, the way
//! `dpkg --root` reads them, so a `toolctl.toml` copied from a server works unchanged in a
//! test root. This module computes paths only: it never touches the disk.

use std::path::{Component, Path, PathBuf};

/// Every path toolctl reads or writes.
#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    pub config: PathBuf,
    pub key_file: PathBuf,
    pub secrets_dir: PathBuf,
    pub rendered_dir: PathBuf,
    pub log_dir: PathBuf,
}

pub const CONFIG: &str = "etc/toolctl/toolctl.toml";
pub const KEY_FILE: &str = "etc/toolctl/secrets.key";
pub const SECRETS_DIR: &str = "var/opt/toolctl/secrets";
pub const RENDERED_DIR: &str = "var/opt/toolctl/rendered";
pub const LOG_DIR: &str = "var/log/toolctl";

impl Paths {
    /// The default layout under `root`; `config` overrides the settings file's path as given
    /// (it is not re-rooted: it names a real file the user pointed at).
    pub fn new(root: &Path, config: Option<&Path>) -> Self {
        let root = root.to_path_buf();
        Paths {
            config: config
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.join(CONFIG)),
            key_file: root.join(KEY_FILE),
            secrets_dir: root.join(SECRETS_DIR),
            rendered_dir: root.join(RENDERED_DIR),
            log_dir: root.join(LOG_DIR),
            root,
        }
    }

    /// Maps a path written in settings to the real path under the root: absolute paths are
    /// taken inside the root, relative ones relative to it.
    pub fn rooted(&self, configured: &str) -> PathBuf {
        let mut out = self.root.clone();
        for c in Path::new(configured).components() {
            match c {
                Component::Normal(part) => out.push(part),
                Component::ParentDir => {
                    if out != self.root {
                        out.pop();
                    }
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        out
    }

    /// `path` as the services see it on the real server: relative to the root, with a
    /// leading `/`. Rendered files name paths this way so they read the same under any
    /// `--root`.
    pub fn logical(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

/// `path` with `.` and `..` applied lexically (as `Paths::rooted` reads it), absolute.
pub fn normalized(path: &str) -> std::path::PathBuf {
    use std::path::{Component, PathBuf};
    let mut out = PathBuf::from("/");
    for c in std::path::Path::new(path).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_paths_stay_inside_the_root() {
        let p = Paths::new(Path::new("/tmp/r"), None);
        assert_eq!(p.rooted("/var/x"), PathBuf::from("/tmp/r/var/x"));
        assert_eq!(p.rooted("var/x"), PathBuf::from("/tmp/r/var/x"));
        assert_eq!(
            p.rooted("/../../etc/passwd"),
            PathBuf::from("/tmp/r/etc/passwd")
        );
        assert_eq!(p.config, PathBuf::from("/tmp/r/etc/toolctl/toolctl.toml"));
    }
}
