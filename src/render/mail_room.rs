//! `mail_room.yml`: the mailbox poller's configuration, one entry per enabled mailbox, in
//! mail_room's own format (symbol keys), with credentials resolved. Mode 0600. Rendered
//! only on the node that polls (`mailroom.enable`).

use super::yaml::{MapBuilder, Y};
use super::Context;

/// `None` when this node polls no mailbox.
pub fn render(cx: &Context) -> Option<String> {
    let r = cx.resolved;
    if !r.bool("mailroom.enable") {
        return None;
    }
    let mailboxes: Vec<Y> = ["incoming_email", "service_desk_email"]
        .into_iter()
        .filter(|t| r.bool(&format!("{t}.enabled")))
        .map(|t| mailbox(cx, t))
        .collect();
    if mailboxes.is_empty() {
        return None;
    }
    let doc = MapBuilder::new()
        .put(":mailboxes", Y::Seq(mailboxes))
        .build();
    Some(format!(
        "{}---\n{}",
        cx.header("#"),
        super::yaml::to_string(&doc)
    ))
}

fn mailbox(cx: &Context, t: &str) -> Y {
    let r = cx.resolved;
    let k = |leaf: &str| format!("{t}.{leaf}");
    let secret = |key: &str| r.str(key).map(Y::s);
    let graph = r.str(&k("inbox_method")) == Some("microsoft_graph");
    let mut m = MapBuilder::new();
    if graph {
        m = m
            .put(":inbox_method", Y::s("microsoft_graph"))
            .put(
                ":inbox_options",
                MapBuilder::new()
                    .opt(":tenant_id", cx.str(&k("inbox_options.tenant_id")))
                    .opt(":client_id", cx.str(&k("inbox_options.client_id")))
                    .opt(":client_secret", secret(&k("inbox_options.client_secret")))
                    .opt(":poll_interval", cx.int(&k("inbox_options.poll_interval")))
                    .opt(
                        ":azure_ad_endpoint",
                        cx.str(&k("inbox_options.azure_ad_endpoint")),
                    )
                    .opt(
                        ":graph_endpoint",
                        cx.str(&k("inbox_options.graph_endpoint")),
                    )
                    .build(),
            )
            .opt(":email", secret(&k("user")));
    } else {
        m = m
            .opt(":host", cx.str(&k("host")))
            .opt(":port", cx.int(&k("port")))
            .put(":ssl", Y::Bool(r.bool(&k("ssl"))))
            .put(":start_tls", Y::Bool(r.bool(&k("start_tls"))))
            .opt(":ca_file", cx.str(&k("ca_file")))
            .opt(":email", secret(&k("user")))
            .opt(":password", secret(&k("password")))
            .opt(":idle_timeout", cx.int(&k("idle_timeout")));
    }
    m = m
        .opt(":name", cx.str(&k("mailbox")))
        .put(":delete_after_delivery", Y::Bool(true))
        .put(":expunge_deleted", Y::Bool(r.bool(&k("expunge_deleted"))));
    let service_desk = t == "service_desk_email";
    if r.str(&k("delivery_method")) == Some("sidekiq") {
        m = m.put(":delivery_method", Y::s("sidekiq")).put(
            ":delivery_options",
            MapBuilder::new()
                .put(
                    ":queue",
                    Y::s(if service_desk {
                        "service_desk_email_receiver"
                    } else {
                        "email_receiver"
                    }),
                )
                .put(
                    ":worker",
                    Y::s(if service_desk {
                        "ServiceDeskEmailReceiverWorker"
                    } else {
                        "EmailReceiverWorker"
                    }),
                )
                .build(),
        );
    } else {
        let url = r.str(&k("gitlab_url")).unwrap_or_default();
        m = m.put(":delivery_method", Y::s("postback")).put(
            ":delivery_options",
            MapBuilder::new()
                .put(
                    ":delivery_url",
                    Y::s(format!("{url}/api/v4/internal/mail_room/{t}")),
                )
                .put(":content_type", Y::s("text/plain"))
                .put(":jwt_auth_header", Y::s("Gitlab-Mailroom-Api-Request"))
                .put(":jwt_issuer", Y::s("gitlab-mailroom"))
                .put(":jwt_algorithm", Y::s("HS256"))
                .put(
                    ":jwt_secret_path",
                    Y::s(
                        cx.paths
                            .logical(&cx.paths.rendered_dir.join(super::MAILROOM_SECRET)),
                    ),
                )
                .build(),
        );
    }
    m.put(
        ":logger",
        MapBuilder::new()
            .opt(":log_path", cx.str(&k("log_file")))
            .build(),
    )
    .build()
}
