//! The gitlab.rb fragment (`[gitlab] install = "omnibus"` or `"docker"`): the settings the
//! Linux package reads, as `gitlab_rails[...]` assignments that one `from_file` line at the
//! end of `/etc/gitlab/gitlab.rb` loads.
//!
//! What it holds, and why:
//! - every setting toolctl owns for GitLab, `nil` where toolctl has none, so that a value
//!   left in gitlab.rb before the `from_file` line loses to it;
//! - `nil` for every credential GitLab reads from its encrypted settings (a plaintext one
//!   left in gitlab.rb would win over the `.yaml.enc` file);
//! - `smtp_authentication = nil` for `authentication = "none"` (never `false`, which GitLab
//!   rejects as an authentication type);
//! - the webhook token as `File.read("…").strip` of toolctl's one token file: no literal
//!   credential, and GitLab, omnibus' mail_room and `check --postback` share one token;
//! - the Microsoft Graph `client_secret`s in plaintext, for which GitLab has no encrypted
//!   file: the file is 0600 either way, and the report says so when it holds one.
//!
//! For Docker the file is written into the host side of the `/etc/gitlab` volume
//! (`[gitlab] fragment_path`), with every path as the container sees it
//! ([`crate::model::Gitlab::container_path`]) and the token file next to it.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::smtp_settings::ruby_str;
use super::{Context, Desired, DesiredDir, Secrecy, MAILROOM_SECRET};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::model::{Install, Mailbox, Model};

/// The fragment, relative to the rendered directory (the Linux package).
pub const FRAGMENT: &str = "gitlab/gitlab.rb";
/// The token file's name next to a Docker fragment.
pub const DOCKER_TOKEN: &str = "toolctl_mailroom_secret";
/// The Mattermost proxy file, relative to the rendered directory.
const NGINX: &str = "nginx/mattermost.conf";

/// A value of the fragment.
enum Rb {
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    /// Ruby written as is (a `File.read`, a hash built here).
    Raw(String),
}

impl Rb {
    fn opt(v: &Option<String>) -> Rb {
        v.as_ref().map_or(Rb::Nil, |s| Rb::Str(s.clone()))
    }

    fn text(&self) -> String {
        match self {
            Rb::Str(s) => ruby_str(s),
            Rb::Int(i) => i.to_string(),
            Rb::Bool(b) => b.to_string(),
            Rb::Nil => "nil".into(),
            Rb::Raw(r) => r.clone(),
        }
    }
}

/// What the fragment refers to, as GitLab will see the paths.
pub struct Refs {
    /// The webhook token file, when one is rendered.
    pub token: Option<String>,
    /// The Mattermost proxy file, when it is rendered and GitLab can read it.
    pub nginx: Option<String>,
    /// `[gitlab] encrypted_settings_dir` as GitLab sees it.
    pub encrypted_settings: Option<String>,
}

/// The fragment's text.
pub fn render(cx: &Context, refs: &Refs, load_line: &str) -> String {
    let m = cx.model;
    let mut out = cx.header("#");
    out.push_str(&format!(
        "# Loaded by the last line of gitlab.rb: {load_line}\n\
         # Holds no credential but the Microsoft Graph client secrets (GitLab has no encrypted\n\
         # file for them): the others are in GitLab's encrypted settings, and `nil` here makes\n\
         # a plaintext one left in gitlab.rb lose to them.\n"
    ));
    let mut set = |key: &str, v: Rb| {
        out.push_str(&format!("gitlab_rails['{key}'] = {}\n", v.text()));
    };
    // Only `false` (GitLab's default is true): one that gitlab.rb sets stays until it is
    // imported into `[email] enabled`.
    if !m.email.enabled {
        set("gitlab_email_enabled", Rb::Bool(false));
    }
    set("gitlab_email_from", Rb::opt(&m.email.from));
    set("gitlab_email_reply_to", Rb::opt(&m.email.reply_to));

    let r = &m.smtp;
    set("smtp_enable", Rb::Bool(r.enabled));
    if r.enabled {
        set("smtp_address", Rb::opt(&r.address));
        set("smtp_port", Rb::Int(r.port.into()));
        set("smtp_domain", Rb::opt(&r.domain));
        // "none" is no authentication: nil, never false.
        let auth = r.authentication.clone().filter(|a| a != "none");
        set("smtp_authentication", Rb::opt(&auth));
        // nil when unset: omnibus then leaves it out of smtp_settings.rb.
        set(
            "smtp_enable_starttls_auto",
            r.enable_starttls_auto.map_or(Rb::Nil, Rb::Bool),
        );
        set("smtp_tls", Rb::Bool(r.tls));
        set("smtp_openssl_verify_mode", Rb::opt(&r.openssl_verify_mode));
        set(
            "smtp_ca_file",
            Rb::opt(&r.ca_file.as_ref().map(|c| c.written.clone())),
        );
    }
    set("smtp_user_name", Rb::Nil);
    set("smtp_password", Rb::Nil);

    for mb in m.mailboxes() {
        mailbox(&mut set, mb, refs.token.as_deref());
    }

    let g = &m.graph_mailer;
    set("microsoft_graph_mailer_enabled", Rb::Bool(g.enabled));
    if g.enabled {
        set("microsoft_graph_mailer_user_id", Rb::opt(&g.user_id));
        set("microsoft_graph_mailer_tenant", Rb::opt(&g.tenant));
        set("microsoft_graph_mailer_client_id", Rb::opt(&g.client_id));
        set(
            "microsoft_graph_mailer_client_secret",
            Rb::opt(&g.client_secret.as_ref().map(|s| s.expose().clone())),
        );
        set(
            "microsoft_graph_mailer_azure_ad_endpoint",
            Rb::Str(g.azure_ad_endpoint.clone()),
        );
        set(
            "microsoft_graph_mailer_graph_endpoint",
            Rb::Str(g.graph_endpoint.clone()),
        );
    }
    set("mattermost_host", Rb::opt(&m.mattermost.external_url));
    set("encrypted_settings_path", Rb::opt(&refs.encrypted_settings));
    if let Some(conf) = &refs.nginx {
        out.push_str(&format!(
            "nginx['custom_nginx_config'] = {}\n",
            ruby_str(&format!("include {conf};"))
        ));
    }
    out
}

/// One mailbox's `incoming_email_*` / `service_desk_email_*` lines.
fn mailbox(set: &mut impl FnMut(&str, Rb), mb: &Mailbox, token: Option<&str>) {
    let t = mb.table();
    let k = |leaf: &str| format!("{t}_{leaf}");
    set(&k("enabled"), Rb::Bool(mb.enabled));
    if mb.enabled {
        set(&k("address"), Rb::opt(&mb.address));
        set(&k("inbox_method"), Rb::Str(mb.inbox_method.as_str().into()));
        if mb.graph() {
            let o = &mb.inbox_options;
            let mut pairs: Vec<(&str, String)> = Vec::new();
            if let Some(v) = &o.tenant_id {
                pairs.push(("tenant_id", ruby_str(v)));
            }
            if let Some(v) = &o.client_id {
                pairs.push(("client_id", ruby_str(v)));
            }
            if let Some(v) = &o.client_secret {
                pairs.push(("client_secret", ruby_str(v.expose())));
            }
            pairs.push(("poll_interval", o.poll_interval.to_string()));
            pairs.push(("azure_ad_endpoint", ruby_str(&o.azure_ad_endpoint)));
            pairs.push(("graph_endpoint", ruby_str(&o.graph_endpoint)));
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("  '{k}' => {v}"))
                .collect();
            set(
                &k("inbox_options"),
                Rb::Raw(format!("{{\n{}\n}}", body.join(",\n"))),
            );
        } else {
            set(&k("host"), Rb::opt(&mb.host));
            set(&k("port"), Rb::Int(mb.port.into()));
            set(&k("ssl"), Rb::Bool(mb.ssl));
            set(&k("start_tls"), Rb::Bool(mb.start_tls));
            set(&k("inbox_options"), Rb::Nil);
        }
        set(&k("mailbox_name"), Rb::Str(mb.mailbox.clone()));
        set(&k("idle_timeout"), Rb::Int(mb.idle_timeout));
        set(
            &k("delete_after_delivery"),
            Rb::Bool(mb.delete_after_delivery),
        );
        set(&k("expunge_deleted"), Rb::Bool(mb.expunge_deleted));
        set(&k("delivery_method"), Rb::Str(mb.delivery.as_str().into()));
        if let Some(path) = token {
            set(
                &k("auth_token"),
                Rb::Raw(format!("File.read({}).strip", ruby_str(path))),
            );
        }
    }
    set(&k("email"), Rb::Nil);
    set(&k("password"), Rb::Nil);
}

/// Whether the fragment holds a Graph `client_secret`.
pub fn holds_graph_secret(m: &Model) -> bool {
    (m.graph_mailer.enabled && m.graph_mailer.client_secret.is_some())
        || m.mailboxes()
            .iter()
            .any(|mb| mb.enabled && mb.graph() && mb.inbox_options.client_secret.is_some())
}

/// Where the fragment is written (the real path under `--root`) and its path as GitLab
/// sees it; `None` for the other kinds.
pub fn location(m: &Model, paths: &crate::paths::Paths) -> Option<(PathBuf, String)> {
    let path = match m.gitlab.install? {
        Install::Omnibus => paths.rendered_dir.join(FRAGMENT),
        Install::Docker => paths.rooted(m.gitlab.fragment_path.as_deref()?),
        Install::Source | Install::Helm => return None,
    };
    let seen = m.gitlab.container_path(&paths.logical(&path))?;
    Some((path, seen))
}

/// The line of gitlab.rb that loads the fragment at `seen`.
pub fn load_line(seen: &str) -> String {
    format!("from_file {}", ruby_str(seen))
}

/// What the fragment adds to the plan.
pub struct Planned {
    pub files: Vec<Desired>,
    pub dirs: Vec<DesiredDir>,
    pub notes: Vec<String>,
}

/// Plans the fragment (and, for Docker, the token file next to it); `planned` is what the
/// plan already holds (the token file, the Mattermost proxy file); `token` the token.
pub fn plan(cx: &Context, planned: &[Desired], token: Option<&str>) -> Result<Planned> {
    let m = cx.model;
    let mut out = Planned {
        files: Vec::new(),
        dirs: Vec::new(),
        notes: Vec::new(),
    };
    let Some((path, seen_path)) = location(m, cx.paths) else {
        return Ok(out);
    };
    let load_line = load_line(&seen_path);
    let has = |rel: &str| planned.iter().any(|f| f.rel == rel);
    let gitlab = &m.gitlab;
    let docker = gitlab.install == Some(Install::Docker);
    let seen = |p: &Path| gitlab.container_path(&cx.paths.logical(p));
    let mut token_path = None;
    if has(MAILROOM_SECRET) {
        if docker {
            // The rendered tree is not in the container: the token goes next to the fragment.
            let dir = path.parent().unwrap_or(Path::new("/"));
            let file = dir.join(DOCKER_TOKEN);
            token_path = seen(&file);
            if let Some(t) = token {
                out.files.push(desired(
                    file.display().to_string(),
                    t.as_bytes().to_vec(),
                    Secrecy::Whole,
                ));
            }
        } else {
            token_path = seen(&cx.paths.rendered_dir.join(MAILROOM_SECRET));
        }
    }
    let nginx = if has(NGINX) {
        let conf = seen(&cx.paths.rendered_dir.join(NGINX));
        if conf.is_none() {
            out.notes.push(format!(
                "the Mattermost proxy file `{}` is outside the container (`[gitlab] container_root`): gitlab.rb does not include it; include it in the nginx that fronts Mattermost",
                cx.paths.logical(&cx.paths.rendered_dir.join(NGINX))
            ));
        }
        conf
    } else {
        None
    };
    let refs = Refs {
        token: token_path,
        nginx,
        encrypted_settings: gitlab
            .encrypted_settings_dir
            .as_deref()
            .and_then(|d| gitlab.container_path(d)),
    };
    for mb in m.mailboxes() {
        if mb.enabled
            && !mb.graph()
            && matches!(
                mb.security,
                crate::model::Security::Implicit { ca: Some(_) }
            )
        {
            out.notes.push(format!(
                "gitlab.rb has no setting for `{}.ca_file`: put the CA in `/etc/gitlab/trusted-certs/` and run `gitlab-ctl reconfigure`",
                mb.table()
            ));
        }
    }
    if holds_graph_secret(m) {
        out.notes.push(format!(
            "`{}` holds the Microsoft Graph client secret in plaintext (GitLab has no encrypted file for it): it is 0600, root's",
            cx.paths.logical(&path)
        ));
    }
    let text = render(cx, &refs, &load_line);
    if docker {
        // The volume is Docker's: toolctl writes into it, never creates it.
        let dir = path.parent().unwrap_or(Path::new("/"));
        let located = fsutil::open_beneath(&cx.paths.root, dir, &fsutil::trusted_for(None))?;
        if !located.missing.is_empty() {
            return Err(Error::new(format!(
                "the directory of `[gitlab] fragment_path` (`{}`) does not exist",
                cx.paths.logical(dir)
            ))
            .hint("create the container with its `/etc/gitlab` volume first, or fix `[gitlab] container_root` / `fragment_path`; nothing was written"));
        }
        out.files.push(desired(
            path.display().to_string(),
            text.into_bytes(),
            Secrecy::Masked,
        ));
    } else {
        out.files
            .push(desired(FRAGMENT.into(), text.into_bytes(), Secrecy::Masked));
    }
    Ok(out)
}

/// A credential line of the fragment (a Graph `client_secret`, as an assignment or a hash
/// entry) with its value masked, whatever it holds (an old file's value is no longer
/// known); `None` for any other line.
pub fn mask_line(line: &str) -> Option<String> {
    if !line.contains("client_secret") {
        return None;
    }
    let at = line
        .find("'] = ")
        .map(|i| i + 5)
        .or_else(|| line.find("' => ").map(|i| i + 5))?;
    let rest = &line[at..];
    if !rest.starts_with('"') {
        return None;
    }
    let comma = if rest.trim_end().ends_with(',') {
        ","
    } else {
        ""
    };
    let nl = if line.ends_with('\n') { "\n" } else { "" };
    Some(format!(
        "{}\"{}\"{comma}{nl}",
        &line[..at],
        crate::model::MASK
    ))
}

/// A root-owned 0600 file.
fn desired(rel: String, bytes: Vec<u8>, secrecy: Secrecy) -> Desired {
    Desired {
        rel,
        bytes: Zeroizing::new(bytes),
        mode: 0o600,
        secrecy,
        create_only: false,
        owner: None,
        view: None,
    }
}

#[cfg(test)]
mod tests {
    use super::mask_line;

    #[test]
    fn graph_secret_lines_are_masked_whatever_they_hold() {
        assert_eq!(
            mask_line("gitlab_rails['microsoft_graph_mailer_client_secret'] = \"a\\\"b\"\n")
                .as_deref(),
            Some("gitlab_rails['microsoft_graph_mailer_client_secret'] = \"********\"\n")
        );
        assert_eq!(
            mask_line("  'client_secret' => \"old one\",\n").as_deref(),
            Some("  'client_secret' => \"********\",\n")
        );
        assert_eq!(mask_line("  'client_id' => \"x\",\n"), None);
        assert_eq!(
            mask_line("gitlab_rails['microsoft_graph_mailer_client_secret'] = nil\n"),
            None
        );
    }
}
