//! The one step of a source install, checked for `status`: `config/gitlab.yml` and
//! `config/initializers/smtp_settings.rb` (next to `[gitlab] base_config`) are symbolic
//! links to the rendered files. Read without following anything: each directory is opened
//! from `--root` with `O_NOFOLLOW`, and the link itself is read, never its target.

use std::path::{Component, Path, PathBuf};

use super::Context;
use crate::error::{Error, Result};
use crate::fsutil;

/// One link that is not as the step wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkFinding {
    /// The link's path as GitLab sees it (`/home/git/gitlab/config/gitlab.yml`).
    pub link: String,
    /// What it should point at (the rendered file's path).
    pub want: String,
    /// What is there: `None` when missing; `Some("a regular file")`, or the link's target.
    pub found: Option<String>,
    /// The one step, as a command.
    pub hint: String,
}

impl LinkFinding {
    /// One line for a report.
    pub fn message(&self) -> String {
        match &self.found {
            None => format!(
                "`{}` is missing: it must link to `{}`",
                self.link, self.want
            ),
            Some(f) => format!("`{}` is {f}, not a link to `{}`", self.link, self.want),
        }
    }
}

/// `a/b/../c` → `a/c`, lexically (a link's target, as the kernel would walk it when no
/// component on the way is a link).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// Checks that each `(link, target)` (both logical, absolute paths) is a symbolic link to
/// `target`, under `root`. Directories on the way that another user could change are an
/// error (as everywhere below `--root`); `trusted` says who may (root and GitLab's user).
pub fn check_links(
    root: &Path,
    wants: &[(String, String)],
    trusted: &fsutil::Trusted,
) -> Result<Vec<LinkFinding>> {
    let mut out = Vec::new();
    for (link, target) in wants {
        let logical = Path::new(link);
        let (Some(dir), Some(name)) = (logical.parent(), logical.file_name()) else {
            continue;
        };
        let real_dir = root.join(dir.strip_prefix("/").unwrap_or(dir));
        let hint = format!("ln -sfn {target} {link}");
        let located = fsutil::open_beneath(root, &real_dir, trusted)?;
        let found = if !located.missing.is_empty() {
            None
        } else {
            let h = located.handle;
            match h
                .lstat(name)
                .map_err(|e| Error::io("look at", &real_dir.join(name), e))?
            {
                None => None,
                Some(st) if st.kind == fsutil::Kind::Symlink => {
                    let to = h
                        .read_link(name)
                        .map_err(|e| Error::io("read the link", &real_dir.join(name), e))?;
                    let to = PathBuf::from(to);
                    let resolved = lexical(&dir.join(&to));
                    if resolved == lexical(Path::new(target)) {
                        continue;
                    }
                    Some(format!("a link to `{}`", to.display()))
                }
                Some(st) if st.kind == fsutil::Kind::File => Some("a regular file".into()),
                Some(_) => Some("not a link".into()),
            }
        };
        out.push(LinkFinding {
            link: link.clone(),
            want: target.clone(),
            found,
            hint,
        });
    }
    Ok(out)
}

/// The links a source install needs (`[gitlab] install = "source"`): `gitlab.yml` always,
/// `initializers/smtp_settings.rb` when toolctl renders it. Empty for any other kind.
pub fn wanted(cx: &Context) -> Vec<(String, String)> {
    if !super::gitlab_source::wanted(cx.model) {
        return Vec::new();
    }
    let Some(base) = cx.model.gitlab.base_config.as_deref() else {
        return Vec::new();
    };
    let Some(config) = Path::new(base).parent() else {
        return Vec::new();
    };
    let rendered = |rel: &str| cx.paths.logical(&cx.paths.rendered_dir.join(rel));
    let mut wants = vec![(
        config.join("gitlab.yml").display().to_string(),
        rendered(super::gitlab_source::REL),
    )];
    if super::smtp_settings::render(cx).is_some() {
        wants.push((
            config
                .join("initializers/smtp_settings.rb")
                .display()
                .to_string(),
            rendered(super::SMTP_SETTINGS),
        ));
    }
    wants
}

/// What `status` reports for a source install: every link of [`wanted`] that is missing
/// or points elsewhere (empty when the step is done, or for another kind).
pub fn check(cx: &Context) -> Result<Vec<LinkFinding>> {
    let owner = cx.model.gitlab.account.ids().map_err(|e| {
        Error::new(e).hint("create the user and group first, or fix `[gitlab] user`/`group`")
    })?;
    check_links(&cx.paths.root, &wanted(cx), &fsutil::trusted_for(owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_read_not_followed_and_relative_targets_resolve() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("srv/gitlab/config/initializers")).unwrap();
        std::fs::create_dir_all(r.join("var/opt/toolctl/rendered/gitlab")).unwrap();
        let yml = "/var/opt/toolctl/rendered/gitlab/gitlab.yml".to_string();
        let rb = "/var/opt/toolctl/rendered/gitlab/smtp_settings.rb".to_string();
        let wants = vec![
            ("/srv/gitlab/config/gitlab.yml".to_string(), yml.clone()),
            (
                "/srv/gitlab/config/initializers/smtp_settings.rb".to_string(),
                rb.clone(),
            ),
        ];
        // Missing: both reported, with the step as the hint.
        let f = check_links(r, &wants, &fsutil::Trusted::root()).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].found, None);
        assert_eq!(
            f[0].hint,
            format!("ln -sfn {yml} /srv/gitlab/config/gitlab.yml")
        );
        // A regular file, and a link elsewhere.
        std::fs::write(r.join("srv/gitlab/config/gitlab.yml"), "x").unwrap();
        std::os::unix::fs::symlink(
            "/etc/passwd",
            r.join("srv/gitlab/config/initializers/smtp_settings.rb"),
        )
        .unwrap();
        let f = check_links(r, &wants, &fsutil::Trusted::root()).unwrap();
        assert_eq!(f[0].found.as_deref(), Some("a regular file"));
        assert_eq!(f[1].found.as_deref(), Some("a link to `/etc/passwd`"));
        // Done: an absolute link and a relative one.
        std::fs::remove_file(r.join("srv/gitlab/config/gitlab.yml")).unwrap();
        std::os::unix::fs::symlink(&yml, r.join("srv/gitlab/config/gitlab.yml")).unwrap();
        std::fs::remove_file(r.join("srv/gitlab/config/initializers/smtp_settings.rb")).unwrap();
        std::os::unix::fs::symlink(
            "../../../../var/opt/toolctl/rendered/gitlab/smtp_settings.rb",
            r.join("srv/gitlab/config/initializers/smtp_settings.rb"),
        )
        .unwrap();
        assert_eq!(
            check_links(r, &wants, &fsutil::Trusted::root()).unwrap(),
            Vec::new()
        );
    }
}
