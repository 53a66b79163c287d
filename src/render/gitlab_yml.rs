//! `gitlab.yml`: the sections of GitLab's `config/gitlab.yml` that toolctl manages, under
//! `production:`, with GitLab's own key names (checked against `config/gitlab.yml.example`):
//! `gitlab.email_from` / `email_reply_to` / `email_smtp_secret_file`, `incoming_email`,
//! `service_desk_email`, `microsoft_graph_mailer` and `mattermost`.
//!
//! Mailbox credentials never appear here: with `[gitlab]` set they are the
//! `encrypted_secret_file`s `reconfigure` writes (see [`super::gitlab_enc`]), without it
//! mail_room.yml carries them. The Graph `client_secret`s are the exception GitLab imposes
//! (it has no encrypted file for them), which is why this file is 0600.

use super::yaml::{MapBuilder, Y};
use super::Context;
use crate::secrets::Scope;

pub fn render(cx: &Context) -> String {
    let r = cx.resolved;
    let mut gitlab = MapBuilder::new()
        .opt("email_from", cx.str("email.from"))
        .opt("email_reply_to", cx.str("email.reply_to"));
    gitlab = gitlab.opt("email_smtp_secret_file", enc_file(cx, Scope::Smtp));
    let production = MapBuilder::new()
        .put("gitlab", gitlab.build())
        .put("incoming_email", mailbox(cx, Scope::IncomingEmail))
        .put("service_desk_email", mailbox(cx, Scope::ServiceDeskEmail))
        .put("microsoft_graph_mailer", graph_mailer(cx))
        .put(
            "mattermost",
            MapBuilder::new()
                .put("enabled", Y::Bool(r.mattermost_enabled()))
                .opt("host", cx.str("mattermost.external_url"))
                .build(),
        )
        .build();
    let doc = MapBuilder::new().put("production", production).build();
    format!("{}{}", cx.header("#"), super::yaml::to_string(&doc))
}

/// The logical path of one of GitLab's encrypted settings files, when `reconfigure`
/// renders it.
fn enc_file(cx: &Context, scope: Scope) -> Option<Y> {
    super::gitlab_enc::content(cx.resolved, scope)?;
    super::gitlab_enc::logical_path(cx.resolved, scope).map(Y::s)
}

/// A secret's value as GitLab must read it in plaintext (the Graph `client_secret`s).
fn plaintext_secret(cx: &Context, key: &str) -> Option<Y> {
    cx.resolved.str(key).map(Y::s)
}

fn mailbox(cx: &Context, scope: Scope) -> Y {
    let r = cx.resolved;
    let t = scope.table();
    let k = |leaf: &str| format!("{t}.{leaf}");
    if !r.bool(&k("enabled")) {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    let graph = r.str(&k("inbox_method")) == Some("microsoft_graph");
    let webhook = r.str(&k("delivery_method")) == Some("webhook");
    let mut m = MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("address", cx.str(&k("address")));
    // Connection settings only where they are set: the web nodes of a multi-node install
    // know just the address (seed 001).
    if !graph && r.str(&k("host")).is_some() {
        m = m
            .opt("host", cx.str(&k("host")))
            .opt("port", cx.int(&k("port")))
            .put("ssl", Y::Bool(r.bool(&k("ssl"))))
            .put("start_tls", Y::Bool(r.bool(&k("start_tls"))))
            .opt("mailbox", cx.str(&k("mailbox")))
            .opt("idle_timeout", cx.int(&k("idle_timeout")));
    }
    m = m
        .opt("log_path", cx.str(&k("log_file")))
        // mail_room deletes every delivered message (mail_room.yml says so too).
        .put("delete_after_delivery", Y::Bool(true))
        .put("expunge_deleted", Y::Bool(r.bool(&k("expunge_deleted"))))
        .opt("encrypted_secret_file", enc_file(cx, scope))
        .opt("delivery_method", cx.str(&k("delivery_method")));
    if webhook {
        m = m.put(
            "secret_file",
            Y::s(
                cx.paths
                    .logical(&cx.paths.rendered_dir.join(super::MAILROOM_SECRET)),
            ),
        );
    }
    m = m.opt("inbox_method", cx.str(&k("inbox_method")));
    if graph {
        m = m.put(
            "inbox_options",
            MapBuilder::new()
                .opt("tenant_id", cx.str(&k("inbox_options.tenant_id")))
                .opt("client_id", cx.str(&k("inbox_options.client_id")))
                .opt(
                    "client_secret",
                    plaintext_secret(cx, &k("inbox_options.client_secret")),
                )
                .opt("poll_interval", cx.int(&k("inbox_options.poll_interval")))
                .opt(
                    "azure_ad_endpoint",
                    cx.str(&k("inbox_options.azure_ad_endpoint")),
                )
                .opt("graph_endpoint", cx.str(&k("inbox_options.graph_endpoint")))
                .build(),
        );
    }
    m.build()
}

fn graph_mailer(cx: &Context) -> Y {
    let t = "microsoft_graph_mailer";
    let k = |leaf: &str| format!("{t}.{leaf}");
    if !cx.resolved.bool(&k("enabled")) {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("user_id", cx.str(&k("user_id")))
        .opt("tenant", cx.str(&k("tenant")))
        .opt("client_id", cx.str(&k("client_id")))
        .opt("client_secret", plaintext_secret(cx, &k("client_secret")))
        .opt("azure_ad_endpoint", cx.str(&k("azure_ad_endpoint")))
        .opt("graph_endpoint", cx.str(&k("graph_endpoint")))
        .build()
}
