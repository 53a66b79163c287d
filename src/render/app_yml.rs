//! `app.yml`: the application's view of the mail and chat settings, in the shape of the
//! seeds' "source install" YAML. Credentials appear only as references to the encrypted
//! store (`{secret_file: …, key: …}`), never as values.

use super::yaml::{MapBuilder, Y};
use super::Context;
use crate::secrets::Scope;
use crate::settings::resolve::Source;

pub fn render(cx: &Context) -> String {
    let r = cx.resolved;
    let doc = MapBuilder::new()
        .put(
            "email",
            MapBuilder::new()
                .opt("from", cx.str("email.from"))
                .opt("reply_to", cx.str("email.reply_to"))
                .build(),
        )
        .put("smtp", smtp(cx))
        .put("incoming_email", mailbox(cx, "incoming_email"))
        .put("service_desk_email", mailbox(cx, "service_desk_email"))
        .put("microsoft_graph_mailer", graph_mailer(cx))
        .put(
            "mattermost",
            MapBuilder::new()
                .put("enabled", Y::Bool(r.mattermost_enabled()))
                .opt("host", cx.str("mattermost.external_url"))
                .opt("uid", cx.int("mattermost.uid"))
                .opt("gid", cx.int("mattermost.gid"))
                .build(),
        )
        .build();
    format!("{}{}", cx.header("#"), super::yaml::to_string(&doc))
}

/// `{secret_file, key}` when the store holds the credential; nothing otherwise (a
/// plaintext-only credential is warned about and never copied here).
fn reference(cx: &Context, key: &str) -> Option<Y> {
    match cx.resolved.values.get(key) {
        Some((_, Source::Secret(scope))) => Some(secret_ref(
            cx,
            *scope,
            key.rsplit('.').next().unwrap_or(key),
        )),
        _ => None,
    }
}

fn secret_ref(cx: &Context, scope: Scope, name: &str) -> Y {
    MapBuilder::new()
        .put(
            "secret_file",
            Y::s(
                cx.paths
                    .logical(&cx.paths.secrets_dir.join(scope.file_name())),
            ),
        )
        .put("key", Y::s(name))
        .build()
}

fn smtp(cx: &Context) -> Y {
    let r = cx.resolved;
    if !r.bool("smtp.enabled") {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("address", cx.str("smtp.address"))
        .opt("port", cx.int("smtp.port"))
        .opt("domain", cx.str("smtp.domain"))
        .opt("authentication", cx.str("smtp.authentication"))
        .put(
            "enable_starttls_auto",
            Y::Bool(r.bool("smtp.enable_starttls_auto")),
        )
        .put("tls", Y::Bool(r.bool("smtp.tls")))
        .opt("openssl_verify_mode", cx.str("smtp.openssl_verify_mode"))
        .opt("ca_file", cx.str("smtp.ca_file"))
        .opt("user_name", reference(cx, "smtp.user_name"))
        .opt("password", reference(cx, "smtp.password"))
        .build()
}

fn mailbox(cx: &Context, t: &str) -> Y {
    let r = cx.resolved;
    let k = |leaf: &str| format!("{t}.{leaf}");
    if !r.bool(&k("enabled")) {
        return MapBuilder::new().put("enabled", Y::Bool(false)).build();
    }
    let graph = r.str(&k("inbox_method")) == Some("microsoft_graph");
    let webhook = r.str(&k("delivery_method")) == Some("webhook");
    let mut m = MapBuilder::new()
        .put("enabled", Y::Bool(true))
        .opt("address", cx.str(&k("address")))
        .opt("user", reference(cx, &k("user")));
    // Connection settings only where they are set: the web nodes of a multi-node install
    // know just the address (seed 001).
    if !graph && r.str(&k("host")).is_some() {
        m = m
            .opt("password", reference(cx, &k("password")))
            .opt("host", cx.str(&k("host")))
            .opt("port", cx.int(&k("port")))
            .put("ssl", Y::Bool(r.bool(&k("ssl"))))
            .put("start_tls", Y::Bool(r.bool(&k("start_tls"))))
            .opt("ca_file", cx.str(&k("ca_file")))
            .opt("idle_timeout", cx.int(&k("idle_timeout")));
    }
    m = m
        .opt("mailbox", cx.str(&k("mailbox")))
        .put("expunge_deleted", Y::Bool(r.bool(&k("expunge_deleted"))))
        .opt("delivery_method", cx.str(&k("delivery_method")));
    if webhook {
        m = m.opt("gitlab_url", cx.str(&k("gitlab_url"))).put(
            "secret_file",
            Y::s(
                cx.paths
                    .logical(&cx.paths.rendered_dir.join(super::MAILROOM_SECRET)),
            ),
        );
    }
    m = m
        .opt("log_path", cx.str(&k("log_file")))
        .opt("inbox_method", cx.str(&k("inbox_method")));
    if graph {
        m = m.put(
            "inbox_options",
            MapBuilder::new()
                .opt("tenant_id", cx.str(&k("inbox_options.tenant_id")))
                .opt("client_id", cx.str(&k("inbox_options.client_id")))
                .opt(
                    "client_secret",
                    reference(cx, &k("inbox_options.client_secret")),
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
        .opt("client_secret", reference(cx, &k("client_secret")))
        .opt("azure_ad_endpoint", cx.str(&k("azure_ad_endpoint")))
        .opt("graph_endpoint", cx.str(&k("graph_endpoint")))
        .build()
}
