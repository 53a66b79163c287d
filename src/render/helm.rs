//! The GitLab Helm chart (`[gitlab] install = "helm"`): `helm/values.yaml` and one
//! directory per Kubernetes Secret, `helm/secrets/<secret-name>/<key>`.
//!
//! The chart reads values and Secrets only, so values.yaml holds the chart's own keys and
//! nothing else: `global.email.from|reply_to`, `global.smtp.*`,
//! `global.appConfig.incomingEmail|serviceDeskEmail.*` and
//! `global.appConfig.microsoft_graph_mailer.*`. Every credential is a reference
//! `{secret: <release>-<name>, key: <key>}` to a Secret whose file toolctl writes (0600,
//! directory 0700), ready for `kubectl create secret generic NAME --from-file=DIR`. User
//! names are values in the chart (it has no Secret for them), which is why values.yaml is
//! 0600 too. The chart does not use toolctl's gitlab.yml, smtp_settings.rb, mail_room.yml,
//! encrypted settings or Mattermost files (its webservice hard-codes Mattermost off).

use zeroize::Zeroizing;

use super::yaml::{MapBuilder, Y};
use super::{ys, Context};
use crate::model::{Delivery, Mailbox, MailboxKind, Model};

/// values.yaml, relative to the rendered directory.
pub const VALUES: &str = "helm/values.yaml";
/// The directory of the Secrets' directories.
pub const SECRETS: &str = "helm/secrets";

/// Whether `[gitlab] install = "helm"`.
pub fn wanted(m: &Model) -> bool {
    m.gitlab.install == Some(crate::model::Install::Helm)
}

/// One key of one Secret.
pub struct SecretFile {
    /// The Secret's name (`<release>-smtp-password`).
    pub name: String,
    /// The key in it, as the chart reads it (`password`, `authToken`, `secret`).
    pub key: &'static str,
    pub value: Zeroizing<String>,
}

impl SecretFile {
    /// The file, relative to the rendered directory.
    pub fn rel(&self) -> String {
        format!("{SECRETS}/{}/{}", self.name, self.key)
    }
}

fn release(m: &Model) -> &str {
    m.gitlab.helm_release.as_deref().unwrap_or("gitlab")
}

/// The Secret name part of a mailbox (`incoming-email`, `service-desk-email`).
fn slug(kind: MailboxKind) -> &'static str {
    kind.cli_name()
}

/// Every Secret key toolctl has a value for; `token` is the shared webhook token.
pub fn secrets(m: &Model, token: Option<&str>) -> Vec<SecretFile> {
    let rel = release(m);
    let mut out = Vec::new();
    let mut put = |name: String, key: &'static str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.push(SecretFile {
                name,
                key,
                value: Zeroizing::new(v.to_string()),
            });
        }
    };
    if m.smtp.enabled {
        let pw = m.smtp.password.as_ref().map(|s| s.expose().as_str());
        put(format!("{rel}-smtp-password"), "password", pw);
    }
    for mb in m.mailboxes().into_iter().filter(|mb| mb.enabled) {
        let s = slug(mb.kind);
        if mb.graph() {
            let cs = mb.inbox_options.client_secret.as_ref();
            put(
                format!("{rel}-{s}-client-secret"),
                "secret",
                cs.map(|s| s.expose().as_str()),
            );
        } else {
            let pw = mb.password.as_ref().map(|s| s.expose().as_str());
            put(format!("{rel}-{s}-password"), "password", pw);
        }
        if mb.delivery == Delivery::Webhook {
            put(format!("{rel}-{s}-auth-token"), "authToken", token);
        }
    }
    let g = &m.graph_mailer;
    if g.enabled {
        let cs = g.client_secret.as_ref().map(|s| s.expose().as_str());
        put(
            format!("{rel}-microsoft-graph-mailer-client-secret"),
            "secret",
            cs,
        );
    }
    out
}

/// `{secret: NAME, key: KEY}` when that Secret key is written.
fn secret_ref(secrets: &[SecretFile], name: &str) -> Option<Y> {
    secrets.iter().find(|s| s.name == name).map(|s| {
        MapBuilder::new()
            .put("secret", Y::s(s.name.clone()))
            .put("key", Y::s(s.key))
            .build()
    })
}

fn mailbox(m: &Model, mb: &Mailbox, secrets: &[SecretFile]) -> Y {
    if !mb.enabled {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    let name = |what: &str| format!("{}-{}-{what}", release(m), slug(mb.kind));
    let mut b = MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("address", ys(&mb.address));
    if mb.graph() {
        let o = &mb.inbox_options;
        b = b
            .opt("user", mb.user.as_ref().map(|u| Y::s(u.expose().clone())))
            .put("inboxMethod", Y::s("microsoft_graph"))
            .opt("tenantId", ys(&o.tenant_id))
            .opt("clientId", ys(&o.client_id))
            .opt("clientSecret", secret_ref(secrets, &name("client-secret")))
            .put("pollInterval", Y::Int(o.poll_interval))
            .put("azureAdEndpoint", Y::s(o.azure_ad_endpoint.clone()))
            .put("graphEndpoint", Y::s(o.graph_endpoint.clone()));
    } else {
        b = b
            .put("inboxMethod", Y::s("imap"))
            .opt("host", ys(&mb.host))
            .put("port", Y::Int(mb.port.into()))
            .put("ssl", Y::Bool(mb.ssl))
            .put("startTls", Y::Bool(mb.start_tls))
            .opt("user", mb.user.as_ref().map(|u| Y::s(u.expose().clone())))
            .opt("password", secret_ref(secrets, &name("password")))
            .put("mailbox", Y::s(mb.mailbox.clone()))
            .put("idleTimeout", Y::Int(mb.idle_timeout));
    }
    b = b
        .put("expungeDeleted", Y::Bool(mb.expunge_deleted))
        .put("deliveryMethod", Y::s(mb.delivery.as_str()));
    if mb.delivery == Delivery::Webhook {
        b = b.opt("authToken", secret_ref(secrets, &name("auth-token")));
    }
    b.build()
}

/// values.yaml: the chart's keys only.
pub fn values(cx: &Context, secrets: &[SecretFile]) -> String {
    let m = cx.model;
    let rel = release(m);
    let smtp = if m.smtp.enabled {
        let s = &m.smtp;
        let auth = s.authentication.as_deref().map(|a| match a {
            // The chart's way to send without authentication.
            "none" => Y::s(""),
            a => Y::s(a),
        });
        MapBuilder::new()
            .put("enabled", Y::Bool(true))
            .opt("address", ys(&s.address))
            .put("port", Y::Int(s.port.into()))
            .opt("domain", ys(&s.domain))
            .opt("authentication", auth)
            .opt(
                "user_name",
                s.user_name.as_ref().map(|u| Y::s(u.expose().clone())),
            )
            .opt(
                "password",
                secret_ref(secrets, &format!("{rel}-smtp-password")),
            )
            .put("starttls_auto", Y::Bool(s.starttls_auto()))
            .put("tls", Y::Bool(s.tls))
            .opt("openssl_verify_mode", ys(&s.openssl_verify_mode))
            .build()
    } else {
        MapBuilder::new().put("enabled", Y::Bool(false)).build()
    };
    let g = &m.graph_mailer;
    let graph = if g.enabled {
        MapBuilder::new()
            .put("enabled", Y::Bool(true))
            .opt("user_id", ys(&g.user_id))
            .opt("tenant", ys(&g.tenant))
            .opt("client_id", ys(&g.client_id))
            .opt(
                "client_secret",
                secret_ref(
                    secrets,
                    &format!("{rel}-microsoft-graph-mailer-client-secret"),
                ),
            )
            .put("azure_ad_endpoint", Y::s(g.azure_ad_endpoint.clone()))
            .put("graph_endpoint", Y::s(g.graph_endpoint.clone()))
            .build()
    } else {
        MapBuilder::new().put("enabled", Y::Bool(false)).build()
    };
    let email = MapBuilder::new()
        .opt("from", ys(&m.email.from))
        .opt("reply_to", ys(&m.email.reply_to))
        .build();
    let app = MapBuilder::new()
        .put("incomingEmail", mailbox(m, &m.incoming, secrets))
        .put("serviceDeskEmail", mailbox(m, &m.service_desk, secrets))
        .put("microsoft_graph_mailer", graph)
        .build();
    let global = MapBuilder::new()
        .put("email", email)
        .put("smtp", smtp)
        .put("appConfig", app)
        .build();
    let doc = MapBuilder::new().put("global", global).build();
    format!(
        "{}# For `helm upgrade RELEASE gitlab/gitlab -f values.yaml` (release `{rel}`), after the Secrets in secrets/.\n{}",
        cx.header("#"),
        super::yaml::to_string(&doc)
    )
}

/// Managed files on disk under `helm/` (for the stale list): values.yaml and every
/// `secrets/<name>/<key>`.
pub fn on_disk(rendered: &std::path::Path) -> Vec<String> {
    let mut out = vec![VALUES.to_string()];
    if let Ok(dirs) = std::fs::read_dir(rendered.join(SECRETS)) {
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if let Ok(files) = std::fs::read_dir(d.path()) {
                for f in files.flatten() {
                    out.push(format!(
                        "{SECRETS}/{name}/{}",
                        f.file_name().to_string_lossy()
                    ));
                }
            }
        }
    }
    out
}
