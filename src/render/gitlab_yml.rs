//! `gitlab.yml`: the sections of GitLab's `config/gitlab.yml` that toolctl manages, under
//! `production:`, with GitLab's own key names (checked against `config/gitlab.yml.example`):
//! `gitlab.email_from` / `email_reply_to` / `email_smtp_secret_file`, `incoming_email`,
//! `service_desk_email`, `microsoft_graph_mailer` and `mattermost`.
//!
//! Mailbox credentials never appear here: with `[gitlab]` set they are the
//! `encrypted_secret_file`s `reconfigure` writes (see [`super::gitlab_enc`]), without it
//! mail_room.yml carries them. The Graph `client_secret`s are the exception GitLab imposes
//! (it has no encrypted file for them), which is why this file is 0600.

use super::gitlab_enc::EncFile;
use super::yaml::{MapBuilder, Y};
use super::{ys, ysecret, Context};
use crate::model::{Delivery, MailboxKind};

pub fn render(cx: &Context) -> String {
    let doc = MapBuilder::new().put("production", production(cx)).build();
    format!("{}{}", cx.header("#"), super::yaml::to_string(&doc))
}

/// toolctl's sections, the mapping under `production:` (also merged into a source
/// install's whole gitlab.yml, [`super::gitlab_source`]).
pub fn production(cx: &Context) -> Y {
    let m = cx.model;
    let mut gitlab = MapBuilder::new()
        .put("email_enabled", Y::Bool(m.email.enabled))
        .opt("email_from", erb(&m.email.from))
        .opt("email_reply_to", erb(&m.email.reply_to));
    gitlab = gitlab.opt("email_smtp_secret_file", enc_file(cx, EncFile::Smtp));
    MapBuilder::new()
        .put("gitlab", gitlab.build())
        .put("incoming_email", mailbox(cx, MailboxKind::Incoming))
        .put("service_desk_email", mailbox(cx, MailboxKind::ServiceDesk))
        .put("microsoft_graph_mailer", graph_mailer(cx))
        .put(
            "mattermost",
            MapBuilder::new()
                .put("enabled", Y::Bool(m.mattermost.enabled()))
                .opt("host", ys(&m.mattermost.external_url))
                .build(),
        )
        .build()
}

/// The logical path of one of GitLab's encrypted settings files, when `reconfigure`
/// renders it.
fn enc_file(cx: &Context, f: EncFile) -> Option<Y> {
    super::gitlab_enc::content(cx.model, f)?;
    super::gitlab_enc::logical_path(cx.model, f).map(Y::s)
}

fn mailbox(cx: &Context, kind: MailboxKind) -> Y {
    let mb = cx.model.mailbox(kind);
    if !mb.enabled {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    let graph = mb.graph();
    let mut m = MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("address", ys(&mb.address));
    // Connection settings only where they are set: the web nodes of a multi-node install
    // know just the address (GitLab's multi-node incoming email setup).
    if !graph && mb.host.is_some() {
        m = m
            .opt("host", ys(&mb.host))
            .put("port", Y::Int(mb.port.into()))
            .put("ssl", Y::Bool(mb.ssl))
            .put("start_tls", Y::Bool(mb.start_tls))
            .put("mailbox", Y::s(mb.mailbox.clone()))
            .put("idle_timeout", Y::Int(mb.idle_timeout));
    }
    m = m
        .opt("log_path", ys(&mb.log_file))
        // What mail_room does with a delivered message (mail_room.yml says the same).
        .put("delete_after_delivery", Y::Bool(mb.delete_after_delivery))
        .put("expunge_deleted", Y::Bool(mb.expunge_deleted))
        .opt(
            "encrypted_secret_file",
            enc_file(cx, EncFile::Mailbox(kind)),
        )
        .put("delivery_method", Y::s(mb.delivery.as_str()));
    if mb.delivery == Delivery::Webhook {
        m = m.put(
            "secret_file",
            Y::s(
                cx.paths
                    .logical(&cx.paths.rendered_dir.join(super::MAILROOM_SECRET)),
            ),
        );
    }
    m = m.put("inbox_method", Y::s(mb.inbox_method.as_str()));
    if graph {
        let o = &mb.inbox_options;
        m = m.put(
            "inbox_options",
            MapBuilder::new()
                .opt("tenant_id", ys(&o.tenant_id))
                .opt("client_id", ys(&o.client_id))
                // A secret GitLab must read in plaintext (it has no encrypted file for it).
                .opt("client_secret", ysecret(&o.client_secret))
                .put("poll_interval", Y::Int(o.poll_interval))
                .put("azure_ad_endpoint", Y::s(o.azure_ad_endpoint.clone()))
                .put("graph_endpoint", Y::s(o.graph_endpoint.clone()))
                .build(),
        );
    }
    m.build()
}

fn graph_mailer(cx: &Context) -> Y {
    let g = &cx.model.graph_mailer;
    if !g.enabled {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("user_id", erb(&g.user_id))
        .opt("tenant", erb(&g.tenant))
        .opt("client_id", erb(&g.client_id))
        .opt(
            "client_secret",
            erb(&g.client_secret.as_ref().map(|s| s.expose().clone())),
        )
        .put("azure_ad_endpoint", Y::s(erb_text(&g.azure_ad_endpoint)))
        .put("graph_endpoint", Y::s(erb_text(&g.graph_endpoint)))
        .build()
}

/// A value only Rails reads: GitLab's settings loader runs gitlab.yml through ERB first,
/// so a literal `<%` is written `<%%` (ERB's own escape). The mailbox sections are also
/// read by mail_room without ERB; there the rules refuse `<%` instead.
fn erb(v: &Option<String>) -> Option<Y> {
    v.as_deref().map(|s| Y::s(erb_text(s)))
}

fn erb_text(s: &str) -> String {
    s.replace("<%", "<%%")
}
