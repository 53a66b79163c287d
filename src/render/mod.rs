//! `reconfigure`: resolved settings → the files the services read, all or nothing.
//!
//! Each rendered file has its module ([`gitlab_yml`], [`smtp_settings`], [`gitlab_enc`],
//! [`mail_room`], [`mattermost`], [`nginx`]); this module plans the whole tree ([`plan`]), compares it with the disk
//! ([`compare`]), shows masked diffs ([`diff`]) and writes it ([`apply`]) all or nothing
//! through the [`journal`]. Validation happened before any of this, in the resolve step.
//!
//! Nothing here follows a symlink inside the rendered tree: directories are opened with
//! `O_NOFOLLOW` ([`check_tree`] refuses a managed directory that is a link, before anything
//! is written), a managed file that is a link is replaced, never read or written through.

mod error;
pub mod gitlab_enc;
pub mod gitlab_rb;
pub mod gitlab_source;
pub mod gitlab_yml;
pub mod helm;
pub mod mail_room;
pub mod mattermost;
pub mod mattermost_env;
pub mod nginx;
pub mod smtp_settings;
pub mod source_links;
pub mod yaml;

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::Result;
use crate::fsutil;
use crate::model::{env_name_is_secret, Model, MASK};
use crate::paths::Paths;
use crate::sys::journal;
pub use error::RenderError;
use yaml::Y;

/// The shared webhook token, relative to the rendered directory.
pub const MAILROOM_SECRET: &str = "mailroom/.gitlab_mailroom_secret";
/// GitLab's SMTP initializer, relative to the rendered directory.
pub const SMTP_SETTINGS: &str = "gitlab/smtp_settings.rb";
const ENV_DIR: &str = "mattermost/env";
/// The partial gitlab.yml (every kind but a source install).
const GITLAB_YML: &str = "gitlab.yml";
const CONFIG_JSON: &str = "mattermost/config.json";

/// What a renderer reads.
pub struct Context<'a> {
    pub model: &'a Model,
    pub paths: &'a Paths,
}

/// An optional string as YAML.
fn ys(v: &Option<String>) -> Option<Y> {
    v.as_ref().map(|s| Y::s(s.clone()))
}

/// A secret's value as YAML (for the files that must carry it).
fn ysecret(v: &Option<crate::model::Secret>) -> Option<Y> {
    v.as_ref().map(|s| Y::s(s.expose().clone()))
}

impl Context<'_> {
    /// The first line of every rendered text file.
    fn header(&self, comment: &str) -> String {
        format!(
            "{comment} Rendered by `toolctl reconfigure` from {}; edits here are overwritten.\n",
            self.paths.logical(&self.paths.config)
        )
    }
}

/// How a file's content may be shown in a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrecy {
    Public,
    /// Holds credentials on known lines: shown with them masked.
    Masked,
    /// Is a secret as a whole: never shown.
    Whole,
}

/// A file `reconfigure` wants on disk.
pub struct Desired {
    pub rel: String,
    pub bytes: Zeroizing<Vec<u8>>,
    pub mode: u32,
    pub secrecy: Secrecy,
    /// Written only when missing, never overwritten (Mattermost's config.json).
    pub create_only: bool,
    /// (uid, gid) to own the file; `None` keeps whoever runs toolctl.
    pub owner: Option<(u32, u32)>,
    /// What a diff shows instead of the bytes (GitLab's encrypted files: masked YAML).
    pub view: Option<gitlab_enc::View>,
}

/// A directory `reconfigure` wants, possibly outside the rendered tree (mail_room's log
/// directory).
pub struct DesiredDir {
    /// The real path (under the root).
    pub path: PathBuf,
    pub mode: u32,
    pub owner: Option<(u32, u32)>,
}

/// The whole rendered tree.
pub struct Plan {
    /// The `--root` directory: directories outside the tree are opened from it.
    pub root: PathBuf,
    pub files: Vec<Desired>,
    /// Directories created (with their mode and owner) when missing.
    pub dirs: Vec<DesiredDir>,
    /// Managed files on disk that no enabled integration wants any more.
    pub stale: Vec<String>,
    /// Drift and other remarks for the report.
    pub notes: Vec<String>,
}

/// A rendered file, written over whatever is there, owned by whoever runs toolctl.
fn desired(rel: &str, text: String, mode: u32, secrecy: Secrecy) -> Desired {
    Desired {
        rel: rel.to_string(),
        bytes: Zeroizing::new(text.into_bytes()),
        mode,
        secrecy,
        create_only: false,
        owner: None,
        view: None,
    }
}

/// Plans every file. `webhook_secret` is the shared token (stored, or generated this run).
pub fn plan(cx: &Context, webhook_secret: Option<&str>) -> Result<Plan, RenderError> {
    let m = cx.model;
    let mut files = Vec::new();
    // gitlab.yml may hold the Graph `client_secret`s in plaintext (GitLab has no encrypted
    // file for them): always 0600. A source install gets its whole file instead.
    if !gitlab_source::wanted(m) {
        files.push(desired(
            "gitlab.yml",
            gitlab_yml::render(cx),
            0o600,
            Secrecy::Masked,
        ));
    }
    if let Some(text) = smtp_settings::render(cx) {
        files.push(desired(SMTP_SETTINGS, text, 0o644, Secrecy::Public));
    }
    // mail_room's files and directories belong to the user it runs as.
    let poller = m
        .mailroom
        .account
        .ids()
        .map_err(|why| RenderError::Account {
            table: "mailroom",
            why,
        })?;
    let mut dirs = Vec::new();
    mail_room_files(cx, webhook_secret, poller, &mut files, &mut dirs);
    let mut notes = Vec::new();
    if m.mattermost.enabled() {
        notes.extend(mattermost_files(cx, &mut files)?);
    } else if cx.paths.rendered_dir.join(CONFIG_JSON).exists() {
        notes.push(
            "Mattermost is not configured; mattermost/config.json was kept (toolctl never deletes it)".into(),
        );
    }

    // The gitlab.rb fragment (omnibus, Docker): after the token and the proxy file it names.
    let rb = gitlab_rb::plan(cx, &files, webhook_secret)?;
    files.extend(rb.files);
    dirs.extend(rb.dirs);
    notes.extend(rb.notes);

    for f in files
        .iter_mut()
        .filter(|f| f.rel == "mail_room.yml" || f.rel == MAILROOM_SECRET)
    {
        f.owner = poller;
    }
    // GitLab reads its files as its own user (omnibus: `git`).
    let gitlab_owner = m.gitlab.account.ids().map_err(|why| RenderError::Account {
        table: "gitlab",
        why,
    })?;
    if gitlab_source::wanted(m) {
        files.push(Desired {
            rel: gitlab_source::REL.to_string(),
            bytes: Zeroizing::new(gitlab_source::render(cx, gitlab_owner)?.into_bytes()),
            mode: 0o600,
            secrecy: Secrecy::Masked,
            create_only: false,
            owner: None,
            view: None,
        });
    }
    for f in files
        .iter_mut()
        .filter(|f| [GITLAB_YML, gitlab_source::REL, SMTP_SETTINGS].contains(&f.rel.as_str()))
    {
        f.owner = gitlab_owner;
    }
    share_token(cx, &mut files, &mut dirs, poller, gitlab_owner);
    if files.iter().any(|f| {
        f.rel == SMTP_SETTINGS || f.rel == gitlab_source::REL || f.rel == gitlab_rb::FRAGMENT
    }) {
        dirs.push(DesiredDir {
            path: cx.paths.rendered_dir.join("gitlab"),
            mode: 0o755,
            owner: None,
        });
    }
    let enc = gitlab_enc::plan(cx, gitlab_owner)?;
    dirs.extend(enc.dirs);
    notes.extend(enc.notes);
    files.extend(enc.files);
    if helm::wanted(m) {
        helm_plan(cx, webhook_secret, &mut files, &mut dirs);
    }
    let stale = stale(cx, &files);
    Ok(Plan {
        root: cx.paths.root.clone(),
        files,
        dirs,
        stale,
        notes,
    })
}

/// The webhook token gitlab.yml names (`secret_file`) is read by GitLab as well as by
/// mail_room: when GitLab runs as another user, the token and its directory stay mail_room's
/// and are given to GitLab's group, read only (0640, directory 0750). GitLab as root, or as
/// mail_room's user, reads them as they are.
fn share_token(
    cx: &Context,
    files: &mut [Desired],
    dirs: &mut [DesiredDir],
    poller: Option<(u32, u32)>,
    gitlab: Option<(u32, u32)>,
) {
    let Some((gitlab_uid, gitlab_gid)) = gitlab else {
        return;
    };
    // No `[mailroom] user`: whoever runs toolctl owns mail_room's files.
    let poller_uid = poller.map_or_else(crate::sys::users::euid, |(uid, _)| uid);
    if gitlab_uid == 0 || gitlab_uid == poller_uid {
        return;
    }
    let owner = Some((poller_uid, gitlab_gid));
    let token_dir = cx.paths.rendered_dir.join("mailroom");
    for f in files.iter_mut().filter(|f| f.rel == MAILROOM_SECRET) {
        f.owner = owner;
        f.mode = 0o640;
    }
    for d in dirs.iter_mut().filter(|d| d.path == token_dir) {
        d.owner = owner;
        d.mode = 0o750;
    }
}

/// mail_room.yml, its log directories and the webhook token (with its directory).
fn mail_room_files(
    cx: &Context,
    webhook_secret: Option<&str>,
    poller: Option<(u32, u32)>,
    files: &mut Vec<Desired>,
    dirs: &mut Vec<DesiredDir>,
) {
    if let Some(text) = mail_room::render(cx) {
        files.push(desired("mail_room.yml", text, 0o600, Secrecy::Masked));
        for path in mail_room::log_dirs(cx) {
            dirs.push(DesiredDir {
                path,
                mode: 0o750,
                owner: poller,
            });
        }
    }
    if cx.model.needs_webhook_secret() {
        if let Some(token) = webhook_secret {
            files.push(desired(
                MAILROOM_SECRET,
                token.to_string(),
                0o600,
                Secrecy::Whole,
            ));
            // The token's directory too, or the poller could not reach the token in it.
            dirs.push(DesiredDir {
                path: cx.paths.rendered_dir.join("mailroom"),
                mode: 0o700,
                owner: poller,
            });
        }
    }
}

/// Mattermost's environment files, its nginx site and (when missing) its config.json;
/// the notes are the drift of an existing config.json.
fn mattermost_files(cx: &Context, files: &mut Vec<Desired>) -> Result<Vec<String>, RenderError> {
    let vars = mattermost::env(cx);
    for v in &vars {
        let secrecy = if v.name == "MM_SQLSETTINGS_DATASOURCE" && v.secret {
            Secrecy::Masked
        } else if v.secret {
            // A credential, `[mattermost] env`'s included (the model says which).
            Secrecy::Whole
        } else if v.name == "MM_SQLSETTINGS_DATASOURCE" {
            // A data source without a stored password may still carry one: its
            // `password=` is masked.
            Secrecy::Masked
        } else {
            Secrecy::Public
        };
        files.push(desired(
            &format!("{ENV_DIR}/{}", v.name),
            v.value.clone(),
            0o600,
            secrecy,
        ));
    }
    files.push(desired(
        mattermost_env::REL,
        mattermost_env::render(cx, &vars),
        0o600,
        Secrecy::Whole,
    ));
    if let Some(text) = nginx::render(cx) {
        files.push(desired(
            "nginx/mattermost.conf",
            text,
            0o644,
            Secrecy::Public,
        ));
    }
    let mut notes = Vec::new();
    match fsutil::read_optional(&cx.paths.rendered_dir.join(CONFIG_JSON))? {
        Some(existing) => notes.extend(mattermost::drift(&existing, &vars)),
        // Mattermost writes its config.json (the System Console): it is created owned by
        // the Mattermost user when that user is known.
        None => files.push(Desired {
            create_only: true,
            owner: mattermost::owner(cx),
            ..desired(
                CONFIG_JSON,
                mattermost::config_template(&vars),
                0o600,
                Secrecy::Public,
            )
        }),
    }
    Ok(notes)
}

/// Managed files on disk that no planned file is any more.
fn stale(cx: &Context, files: &[Desired]) -> Vec<String> {
    // `app.yml` is what toolctl rendered before `gitlab.yml` replaced it.
    let mut managed: Vec<String> = [
        "app.yml",
        "mail_room.yml",
        MAILROOM_SECRET,
        "nginx/mattermost.conf",
        SMTP_SETTINGS,
        mattermost_env::REL,
        GITLAB_YML,
        gitlab_source::REL,
        gitlab_rb::FRAGMENT,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Ok(entries) = std::fs::read_dir(cx.paths.rendered_dir.join(ENV_DIR)) {
        for e in entries.flatten() {
            managed.push(format!("{ENV_DIR}/{}", e.file_name().to_string_lossy()));
        }
    }
    managed.extend(helm::on_disk(&cx.paths.rendered_dir));
    managed.sort();
    managed
        .into_iter()
        .filter(|rel| {
            cx.paths.rendered_dir.join(rel).exists() && !files.iter().any(|f| &f.rel == rel)
        })
        .collect()
}

/// The Helm chart's values.yaml and Secret files, and their private directories.
fn helm_plan(
    cx: &Context,
    webhook_secret: Option<&str>,
    files: &mut Vec<Desired>,
    dirs: &mut Vec<DesiredDir>,
) {
    let secrets = helm::secrets(cx.model, webhook_secret);
    let file = |rel: String, text: &str, secrecy: Secrecy| Desired {
        rel,
        bytes: Zeroizing::new(text.as_bytes().to_vec()),
        mode: 0o600,
        secrecy,
        create_only: false,
        owner: None,
        view: None,
    };
    files.push(file(
        helm::VALUES.into(),
        &helm::values(cx, &secrets),
        Secrecy::Masked,
    ));
    let rendered = &cx.paths.rendered_dir;
    for rel in ["helm", helm::SECRETS] {
        dirs.push(DesiredDir {
            path: rendered.join(rel),
            mode: 0o700,
            owner: None,
        });
    }
    for s in &secrets {
        let dir = rendered.join(helm::SECRETS).join(&s.name);
        if !dirs.iter().any(|d| d.path == dir) {
            dirs.push(DesiredDir {
                path: dir,
                mode: 0o700,
                owner: None,
            });
        }
        files.push(file(s.rel(), &s.value, Secrecy::Whole));
    }
}

/// What happens to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    /// Same content, wrong mode.
    Mode,
    Unchanged,
    Remove,
    /// Exists and is never overwritten.
    Keep,
}

impl Action {
    pub fn changes(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Mode | Action::Remove
        )
    }

    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Action::Create, false) => "created",
            (Action::Create, true) => "would create",
            (Action::Update, false) => "updated",
            (Action::Update, true) => "would update",
            (Action::Mode, false) => "mode fixed",
            (Action::Mode, true) => "would fix mode",
            (Action::Remove, false) => "removed",
            (Action::Remove, true) => "would remove",
            (Action::Unchanged, _) => "unchanged",
            (Action::Keep, _) => "kept (never overwritten)",
        }
    }
}

/// One row of the report.
pub struct Change {
    pub rel: String,
    pub action: Action,
    pub mode: Option<u32>,
    /// The file's content on disk before this run (for diffs).
    pub old: Option<Zeroizing<Vec<u8>>>,
    /// A directory of [`Plan::dirs`], not a file.
    pub dir: bool,
}

/// The directories inside the rendered tree that toolctl manages; each must be a real
/// directory (or missing), never a symlink.
pub const MANAGED_DIRS: &[&str] = &[
    "mailroom",
    "mattermost",
    ENV_DIR,
    "nginx",
    "gitlab",
    "helm",
    helm::SECRETS,
];

/// Refuses a managed directory inside `rendered` that is a symlink (or not a directory),
/// before anything is written or even listed through it.
pub fn check_tree(rendered: &Path) -> Result<(), RenderError> {
    for rel in MANAGED_DIRS {
        fsutil::locate_dir(rendered, &rendered.join(rel))?;
    }
    Ok(())
}

/// What is at a managed path, looked at without following a link.
enum OnDisk {
    Missing,
    /// A symlink or a special file: replaced, never read through.
    NotAFile,
    File {
        bytes: Vec<u8>,
        stat: fsutil::Stat,
    },
}

/// `path`'s directory is opened inside `rendered`, or, outside it, from `root` through
/// directories only root and `owner` (the file's) can change.
fn on_disk(
    root: &Path,
    rendered: &Path,
    path: &Path,
    owner: Option<(u32, u32)>,
) -> Result<OnDisk, RenderError> {
    let dir = path.parent().unwrap_or(rendered);
    let located = if dir.starts_with(rendered) {
        fsutil::locate_dir(rendered, dir)?
    } else {
        fsutil::open_beneath(root, dir, &fsutil::trusted_for(owner))?
    };
    if !located.missing.is_empty() {
        return Ok(OnDisk::Missing);
    }
    let name = path.file_name().unwrap_or_default();
    let h = located.handle;
    match h.lstat(name).map_err(|source| RenderError::Io {
        action: "look at",
        path: path.to_path_buf(),
        source,
    })? {
        None => Ok(OnDisk::Missing),
        Some(stat) if stat.kind == fsutil::Kind::File => {
            match h.read_capped(name, fsutil::FILE_CAP) {
                Ok(Some(bytes)) => Ok(OnDisk::File { bytes, stat }),
                Ok(None) => Ok(OnDisk::Missing),
                Err(f) => Err(f.into_error("", path).into()),
            }
        }
        Some(_) => Ok(OnDisk::NotAFile),
    }
}

/// Compares the plan with the disk.
pub fn compare(plan: &Plan, rendered: &Path) -> Result<Vec<Change>, RenderError> {
    let mut out = Vec::new();
    for d in &plan.dirs {
        out.extend(compare_dir(plan, d, rendered)?);
    }
    for f in &plan.files {
        out.push(compare_file(plan, f, rendered)?);
    }
    if !plan.files.iter().any(|f| f.rel == CONFIG_JSON)
        && !matches!(
            on_disk(&plan.root, rendered, &rendered.join(CONFIG_JSON), None)?,
            OnDisk::Missing
        )
    {
        out.push(Change {
            rel: CONFIG_JSON.into(),
            action: Action::Keep,
            mode: None,
            old: None,
            dir: false,
        });
    }
    for rel in &plan.stale {
        let old = match on_disk(&plan.root, rendered, &rendered.join(rel), None)? {
            OnDisk::File { bytes, .. } => Some(Zeroizing::new(bytes)),
            _ => None,
        };
        out.push(Change {
            rel: rel.clone(),
            action: Action::Remove,
            mode: None,
            old,
            dir: false,
        });
    }
    Ok(out)
}

/// A planned directory's change; `None` when it is already as wanted.
fn compare_dir(
    plan: &Plan,
    d: &DesiredDir,
    rendered: &Path,
) -> Result<Option<Change>, RenderError> {
    let outside = !d.path.starts_with(rendered);
    let located = if outside {
        // Refused unless it is missing or already exactly as wanted.
        fsutil::open_outside_dir(&plan.root, &d.path, d.mode, d.owner)?
    } else {
        fsutil::locate_dir(rendered, &d.path)?
    };
    let action = if !located.missing.is_empty() {
        Action::Create
    } else {
        let st = located
            .handle
            .stat_self()
            .map_err(|source| RenderError::Io {
                action: "look at",
                path: d.path.clone(),
                source,
            })?;
        if st.mode != d.mode || d.owner.is_some_and(|o| o != (st.uid, st.gid)) {
            Action::Mode
        } else {
            return Ok(None);
        }
    };
    let rel = match d.path.strip_prefix(rendered) {
        Ok(rel) => format!("{}/", rel.display()),
        Err(_) => format!("{}/", d.path.display()),
    };
    Ok(Some(Change {
        rel,
        action,
        mode: Some(d.mode),
        old: None,
        dir: true,
    }))
}

/// A planned file's change, with the bytes on disk it replaces.
fn compare_file(plan: &Plan, f: &Desired, rendered: &Path) -> Result<Change, RenderError> {
    let path = rendered.join(&f.rel);
    let disk = on_disk(&plan.root, rendered, &path, f.owner)?;
    let (action, old) = match disk {
        OnDisk::Missing => (Action::Create, None),
        OnDisk::NotAFile if f.create_only => (Action::Keep, None),
        OnDisk::NotAFile => (Action::Update, None),
        OnDisk::File { .. } if f.create_only => (Action::Keep, None),
        OnDisk::File { bytes, stat } => {
            let owner_differs = f.owner.is_some_and(|o| o != (stat.uid, stat.gid));
            let action = if bytes[..] != f.bytes[..] {
                Action::Update
            } else if stat.mode != f.mode || owner_differs {
                Action::Mode
            } else {
                Action::Unchanged
            };
            (action, Some(Zeroizing::new(bytes)))
        }
    };
    Ok(Change {
        rel: f.rel.clone(),
        action,
        mode: Some(f.mode),
        old,
        dir: false,
    })
}

/// Where the journal of the rendered tree lives: beside the tree, next to its lock.
pub fn journal_path(rendered: &Path) -> PathBuf {
    rendered.with_extension("journal")
}

/// Writes every change all or nothing (see [`journal`]): files, removals, directories,
/// modes and owners. The caller holds the rendered tree's lock and ran [`journal::recover`].
pub fn apply(plan: &Plan, changes: &[Change], rendered: &Path) -> Result<(), RenderError> {
    let mut files = Vec::new();
    for c in changes.iter().filter(|c| !c.dir) {
        let target = rendered.join(&c.rel);
        match c.action {
            Action::Create | Action::Update | Action::Mode => {
                let f = plan
                    .files
                    .iter()
                    .find(|f| f.rel == c.rel)
                    .expect("every written change comes from the plan");
                files.push(journal::FileWant {
                    target,
                    content: Some(&f.bytes[..]),
                    mode: f.mode,
                    owner: f.owner,
                });
            }
            Action::Remove => files.push(journal::FileWant {
                target,
                content: None,
                mode: 0,
                owner: None,
            }),
            Action::Unchanged | Action::Keep => {}
        }
    }
    let dirs: Vec<journal::DirWant> = plan
        .dirs
        .iter()
        .map(|d| journal::DirWant {
            path: d.path.clone(),
            mode: d.mode,
            owner: d.owner,
        })
        .collect();
    journal::apply_rooted(&journal_path(rendered), &plan.root, rendered, &dirs, &files)
        .map_err(|e| RenderError::Told(e.into()))?;
    Ok(())
}

/// A unified diff of one change, with secrets masked.
pub fn diff(plan: &Plan, change: &Change, secrets: &[&str]) -> Option<String> {
    if !change.action.changes() || change.action == Action::Mode || change.dir {
        return None;
    }
    let desired = plan.files.iter().find(|f| f.rel == change.rel);
    let secrecy = desired
        .map(|f| f.secrecy)
        .unwrap_or_else(|| guess_secrecy(&change.rel));
    let header = format!("--- a/{0}\n+++ b/{0}\n", change.rel);
    if secrecy == Secrecy::Whole {
        return Some(format!("{header}@@ secret content not shown @@\n"));
    }
    if let Some(view) = desired.and_then(|f| f.view.as_ref()) {
        let old = view.old.clone().unwrap_or_default();
        let new = if change.action == Action::Remove {
            String::new()
        } else {
            view.new.clone()
        };
        let body = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", change.rel), &format!("b/{}", change.rel))
            .to_string();
        return Some(body);
    }
    let show = |bytes: Option<&[u8]>| -> String {
        let text = String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
        mask(&text, secrets)
    };
    let old = show(change.old.as_deref().map(|v| &v[..]));
    let new = show(
        desired
            .filter(|_| change.action != Action::Remove)
            .map(|f| &f.bytes[..]),
    );
    if old == new && !old.is_empty() {
        // What changed is masked on both sides: say so rather than show nothing.
        return Some(format!(
            "{header}@@ a secret value changed (not shown) @@\n"
        ));
    }
    let diff = similar::TextDiff::from_lines(&old, &new);
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", change.rel), &format!("b/{}", change.rel))
        .to_string();
    Some(body)
}

/// The secrecy of a file that is no longer planned (being removed).
fn guess_secrecy(rel: &str) -> Secrecy {
    let env_secret = rel
        .strip_prefix(ENV_DIR)
        .and_then(|n| n.strip_prefix('/'))
        .is_some_and(|n| n != "MM_SQLSETTINGS_DATASOURCE" && env_name_is_secret(n));
    let helm_secret = rel.starts_with(helm::SECRETS);
    if rel == MAILROOM_SECRET || rel == mattermost_env::REL || env_secret || helm_secret {
        Secrecy::Whole
    } else {
        Secrecy::Masked
    }
}

/// Every form in which `secret` can land in a rendered file, longest first: as written;
/// percent-encoded (mail_room's Redis URL, every byte outside RFC 3986's unreserved set);
/// form-encoded (a `postgres://` data source's `password=` parameter, where a space is
/// `+`); escaped inside a quoted conninfo value (`\'`, `\\`); escaped inside a JSON/YAML
/// double-quoted string (gitlab.yml, mail_room.yml, config.json) or a Ruby one; and
/// base64 (standard and URL-safe, with and without padding).
pub fn encoded_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    if secret.is_empty() {
        return Vec::new();
    }
    let mut base = vec![
        secret.to_string(),
        mail_room::percent_encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
        secret.replace('\\', "\\\\").replace('\'', "\\'"),
    ];
    // The same inside a double-quoted string (a data source in a YAML or JSON file).
    let quoted: Vec<String> = base
        .iter()
        .flat_map(|f| {
            let json = serde_json::to_string(f).unwrap_or_default();
            let ruby = smtp_settings::ruby_str(f);
            [
                json[1..json.len().saturating_sub(1).max(1)].to_string(),
                ruby[1..ruby.len().saturating_sub(1).max(1)].to_string(),
            ]
        })
        .collect();
    base.extend(quoted);
    let b = secret.as_bytes();
    base.extend([
        base64::engine::general_purpose::STANDARD.encode(b),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(b),
        base64::engine::general_purpose::URL_SAFE.encode(b),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
    ]);
    base.retain(|f| !f.is_empty());
    base.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    base.dedup();
    base
}

/// Masks every known secret value, in each of its [`encoded_forms`], wherever it sits in a
/// line; then the values of credential lines whatever they hold (an old file may hold a
/// secret that is no longer known): `password:`/`client_secret:` YAML lines, a data
/// source's `password=` (quoted or not), a URL's userinfo password.
pub fn mask(text: &str, secrets: &[&str]) -> String {
    // Known values first, longest form first: a line rule that stops at a space would
    // leave the rest of a value with a space in it.
    let mut forms: Vec<String> = secrets.iter().flat_map(|s| encoded_forms(s)).collect();
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    let mut known = text.to_string();
    for f in &forms {
        if known.contains(f.as_str()) {
            known = known.replace(f.as_str(), MASK);
        }
    }
    let mut out = String::with_capacity(known.len());
    for line in known.split_inclusive('\n') {
        let trimmed = line.trim_start();
        // gitlab.yml writes GitLab's key names, without mail_room's leading colon.
        let masked = [
            ":password:",
            ":client_secret:",
            ":email:",
            "client_secret:",
            "password:",
        ]
        .iter()
        .find(|k| trimmed.starts_with(**k))
        .map(|k| {
            let indent = &line[..line.len() - trimmed.len()];
            let nl = if line.ends_with('\n') { "\n" } else { "" };
            format!("{indent}{k} \"{MASK}\"{nl}")
        });
        match masked.or_else(|| gitlab_rb::mask_line(line)) {
            Some(m) => out.push_str(&m),
            None => out.push_str(&mask_url_password(&mask_password_param(line))),
        }
    }
    out
}

/// `redis://user:xyz@host` → `redis://user:********@host` (an old Redis URL's password).
fn mask_url_password(line: &str) -> String {
    let Some(scheme) = line.find("://") else {
        return line.to_string();
    };
    let start = scheme + 3;
    let end = line[start..]
        .find(|c: char| c == '"' || c == '/' || c.is_whitespace())
        .map(|e| start + e)
        .unwrap_or(line.len());
    let authority = &line[start..end];
    let Some(at) = authority.rfind('@') else {
        return line.to_string();
    };
    match authority[..at].find(':') {
        Some(colon) if &authority[colon + 1..at] != MASK => format!(
            "{}{MASK}{}",
            &line[..start + colon + 1],
            &line[start + at..]
        ),
        _ => line.to_string(),
    }
}

/// `… password=xyz …` (a PostgreSQL data source) → `password=********`, every occurrence:
/// a quoted value (`password='a \'b c'` → `password='********'`) up to its closing quote,
/// else up to the next space, `&` or `"` (a URL's `password=` parameter). A quote left
/// open masks the rest of the line.
fn mask_password_param(line: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(KEY) {
        let start = i + KEY.len();
        out.push_str(&rest[..start]);
        let value = &rest[start..];
        let end = if let Some(q) = value.strip_prefix('\'') {
            // A conninfo quoted value: `\` escapes the next character.
            let mut escaped = false;
            let mut close = None;
            for (j, c) in q.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '\'' => {
                        close = Some(1 + j + 1);
                        break;
                    }
                    _ => {}
                }
            }
            close.unwrap_or_else(|| value.trim_end_matches('\n').len())
        } else {
            value
                .find(|c: char| c.is_whitespace() || c == '&' || c == '"')
                .unwrap_or(value.len())
        };
        if value.starts_with('\'') {
            out.push_str(&format!("'{MASK}'"));
        } else {
            out.push_str(MASK);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_secret_with_a_space_is_masked_whole() {
        let line = "user=db password=ab cd dbname=x\n";
        assert_eq!(
            mask(line, &["ab cd"]),
            "user=db password=******** dbname=x\n"
        );
        assert_eq!(
            mask("  :password: \"old one\"\n", &[]),
            "  :password: \"********\"\n"
        );
        assert_eq!(
            mask("  :redis_url: \"redis://:a%2Bb@h:6379/2\"\n", &["a+b"]),
            "  :redis_url: \"redis://:********@h:6379/2\"\n"
        );
        assert_eq!(
            mask("  :redis_url: \"redis://u:old@h:6379\"\n", &[]),
            "  :redis_url: \"redis://u:********@h:6379\"\n"
        );
    }

    /// Every way a password with spaces, quotes, `%`, `@` and `\` is written into a
    /// rendered file is masked whole, wherever it sits in the line.
    #[test]
    fn every_encoded_form_of_a_known_secret_is_masked_anywhere_in_a_line() {
        use base64::Engine as _;
        let pw = r#"p a'ss "w%41@rd\ x"#;
        let lines = [
            format!(
                "user=mm password={} dbname=x\n",
                crate::model::datasource::conninfo_value(pw)
            ),
            format!(
                "{}\n",
                crate::model::datasource::with_password("postgres://mm@db/mm?sslmode=require", pw)
            ),
            format!(
                "  :redis_url: \"redis://:{}@h:6379/2\" # mid-line\n",
                mail_room::percent_encode(pw)
            ),
            format!(
                "  secret: {} trailing\n",
                serde_json::to_string(pw).unwrap()
            ),
            format!(
                "x = {} # y\n",
                base64::engine::general_purpose::STANDARD.encode(pw)
            ),
            format!(
                "\"DataSource\": {},\n",
                serde_json::to_string(&crate::model::datasource::with_password("user=mm", pw))
                    .unwrap()
            ),
            format!("before {pw} after\n"),
        ];
        for line in &lines {
            let masked = mask(line, &[pw]);
            assert!(masked.contains(MASK), "{line:?} → {masked:?}");
            let b64 = base64::engine::general_purpose::STANDARD.encode(pw);
            for piece in [
                "a'ss",
                "a\\'ss",
                "w%41",
                "@rd",
                "%40rd",
                "rd\\",
                "p+a",
                "p%20a",
                "%2541",
                &b64[..8],
            ] {
                assert!(!masked.contains(piece), "{piece:?} left in {masked:?}");
            }
            assert_eq!(masked.lines().count(), 1);
        }
    }

    /// An old value that is no longer known: a quoted `password=` is masked to its closing
    /// quote, every occurrence, and an unclosed quote to the end of the line.
    #[test]
    fn an_unknown_quoted_data_source_password_is_masked_whole() {
        assert_eq!(
            mask("user=a password='x y \\' z' dbname=b\n", &[]),
            "user=a password='********' dbname=b\n"
        );
        assert_eq!(
            mask("password=one host=h password='t w o'\n", &[]),
            "password=******** host=h password='********'\n"
        );
        assert_eq!(
            mask("a password='open ended\n", &[]),
            "a password='********'\n"
        );
        assert_eq!(
            mask("postgres://u@h/d?password=a%20b&sslmode=x\n", &[]),
            "postgres://u@h/d?password=********&sslmode=x\n"
        );
    }

    #[test]
    fn credential_named_environment_files_are_never_shown() {
        assert_eq!(
            guess_secrecy("mattermost/env/MM_EMAILSETTINGS_SMTPPASSWORD"),
            Secrecy::Whole
        );
        assert_eq!(
            guess_secrecy("mattermost/env/MM_GITLABSETTINGS_SECRET"),
            Secrecy::Whole
        );
        assert_eq!(
            guess_secrecy("mattermost/env/MM_SQLSETTINGS_DATASOURCE"),
            Secrecy::Masked
        );
        assert_eq!(guess_secrecy("mattermost/env/HTTP_PROXY"), Secrecy::Masked);
        assert_eq!(
            guess_secrecy("helm/secrets/gitlab-smtp-password/password"),
            Secrecy::Whole
        );
        assert_eq!(guess_secrecy("mattermost/mattermost.env"), Secrecy::Whole);
    }
}
