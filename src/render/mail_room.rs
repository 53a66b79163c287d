//! `mail_room.yml`: the mailbox poller's configuration, one entry per enabled mailbox, in
//! mail_room's own format (symbol keys), with credentials resolved. Mode 0600. Rendered
//! only on the node that polls (`mailroom.enable`).
//!
//! Followed key by key (mail_room drops unknown keys silently, so a key outside
//! [`MAILBOX_FIELDS`] is a setting that never reaches it):
//! - gitlabhq/gitlabhq `config/mail_room.yml` (which keys, delivery and arbitration blocks)
//!   and `lib/gitlab/mail_room.rb` (queue `default`, the two workers, `redis_url`/`redis_db`);
//! - tpitale/mail_room `lib/mail_room/mailbox.rb` (`MAILBOX_FIELDS`, `:ssl` passed to
//!   `Net::IMAP.new` as `true`/`false`/options hash),
//!   `lib/mail_room/delivery/sidekiq.rb` and `lib/mail_room/arbitration/redis.rb` (the
//!   option names each reads).
//!
//! Also owns who the poller runs as (`[mailroom] user`/`group`) and its log directories.

use std::path::PathBuf;

use super::yaml::{MapBuilder, Y};
use super::{ys, ysecret, Context};
use crate::model::{Delivery, MailRoomSsl, Mailbox, MailboxKind, Redis};

/// Every mailbox key mail_room 0.11 reads (`MailRoom::MAILBOX_FIELDS`); nothing else is
/// rendered at mailbox level (tests/it/consumers.rs holds every fixture to it, through Ruby).
pub const MAILBOX_FIELDS: &[&str] = &[
    "email",
    "password",
    "host",
    "port",
    "ssl",
    "start_tls",
    "limit_max_unread",
    "idle_timeout",
    "search_command",
    "name",
    "delete_after_delivery",
    "expunge_deleted",
    "delivery_klass",
    "delivery_method",
    "log_path",
    "delivery_options",
    "arbitration_method",
    "arbitration_options",
    "logger",
    "inbox_method",
    "inbox_options",
];

/// `Gitlab::Redis::Queues::MAILROOM_NAMESPACE`, as GitLab's template writes it.
const ARBITRATION_NAMESPACE: &str = "mail_room:gitlab";

/// `None` when this node polls no mailbox.
pub fn render(cx: &Context) -> Option<String> {
    let list = cx.model.polled();
    if list.is_empty() {
        return None;
    }
    let doc = MapBuilder::new()
        .put(
            ":mailboxes",
            Y::Seq(list.into_iter().map(|mb| mailbox(cx, mb)).collect()),
        )
        .build();
    Some(format!(
        "{}---\n{}",
        cx.header("#"),
        super::yaml::to_string(&doc)
    ))
}

/// The log directories of the polled mailboxes (real paths under the root), each once.
/// An existing directory is managed (mode, owner) only below the log directory: a
/// `log_file` written straight into `/var/log` must not hand `/var/log` to mail_room's user.
pub fn log_dirs(cx: &Context) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for mb in cx.model.polled() {
        let Some(log) = &mb.log_file else {
            continue;
        };
        let path = cx.paths.rooted(log);
        // Never the log directory or an ancestor of it (toolctl writes its own log there),
        // nor toolctl's own trees: the settings refuse these, and this is the backstop.
        let own = |d: &std::path::Path| {
            cx.paths.log_dir.starts_with(d)
                || d.starts_with(cx.paths.log_dir.join("reconfigure"))
                || [&cx.paths.rendered_dir, &cx.paths.secrets_dir]
                    .iter()
                    .any(|o| o.starts_with(d) || d.starts_with(o))
        };
        let managed = |d: &std::path::Path| {
            !own(d) && (!d.exists() || (d.starts_with(&cx.paths.log_dir) && d != cx.paths.log_dir))
        };
        if let Some(dir) = path.parent().filter(|d| *d != cx.paths.root && managed(d)) {
            if !out.iter().any(|d| d == dir) {
                out.push(dir.to_path_buf());
            }
        }
    }
    out
}

/// `:ssl:` as mail_room hands it to `Net::IMAP.new` (decided once, in
/// [`crate::model::Security`], with the probe's trust): `false` for STARTTLS or no TLS,
/// `{:ca_file: …}` for implicit TLS with a `ca_file`, else a bare `true`.
///
/// Never `:verify_mode:`: mail_room 0.11.1 turns a `:verify_mode` symbol into OpenSSL's
/// integer in the options hash itself, so at the first reconnect it looks the integer up
/// as a name, raises `NoMethodError` and the mailbox's watcher thread dies while the
/// process stays up. Without it, Net::IMAP's default (`VERIFY_PEER`) applies,
/// so the certificate is still verified against the CA.
fn ssl(mb: &Mailbox) -> Y {
    match mb.security.mail_room_ssl() {
        MailRoomSsl::Off => Y::Bool(false),
        MailRoomSsl::System => Y::Bool(true),
        MailRoomSsl::CaFile(ca) => MapBuilder::new().put(":ca_file", Y::s(ca)).build(),
    }
}

fn mailbox(cx: &Context, mb: &Mailbox) -> Y {
    let redis = &cx.model.redis;
    let mut m = inbox(MapBuilder::new(), mb);
    m = m
        .put(":name", Y::s(mb.mailbox.clone()))
        .put(":delete_after_delivery", Y::Bool(mb.delete_after_delivery))
        .put(":expunge_deleted", Y::Bool(mb.expunge_deleted));
    m = delivery(m, cx, mb);
    if cx.model.mailroom.redis_arbitration {
        m = m.put(":arbitration_method", Y::s("redis")).put(
            ":arbitration_options",
            MapBuilder::new()
                .opt(":redis_url", redis_url(redis).map(Y::s))
                .put(":namespace", Y::s(ARBITRATION_NAMESPACE))
                .build(),
        );
    }
    m.put(
        ":logger",
        MapBuilder::new().opt(":log_path", ys(&mb.log_file)).build(),
    )
    .build()
}

/// Where mail_room reads the mailbox: Microsoft Graph, or IMAP.
fn inbox(mut m: MapBuilder, mb: &Mailbox) -> MapBuilder {
    if mb.graph() {
        let o = &mb.inbox_options;
        m = m
            .put(":inbox_method", Y::s("microsoft_graph"))
            .put(
                ":inbox_options",
                MapBuilder::new()
                    .opt(":tenant_id", ys(&o.tenant_id))
                    .opt(":client_id", ys(&o.client_id))
                    .opt(":client_secret", ysecret(&o.client_secret))
                    .put(":poll_interval", Y::Int(o.poll_interval))
                    .put(":azure_ad_endpoint", Y::s(o.azure_ad_endpoint.clone()))
                    .put(":graph_endpoint", Y::s(o.graph_endpoint.clone()))
                    .build(),
            )
            .opt(":email", ysecret(&mb.user));
    } else {
        m = m
            .opt(":host", ys(&mb.host))
            .put(":port", Y::Int(mb.port.into()))
            .put(":ssl", ssl(mb))
            .put(":start_tls", Y::Bool(mb.start_tls))
            .opt(":email", ysecret(&mb.user))
            .opt(":password", ysecret(&mb.password))
            .put(":idle_timeout", Y::Int(mb.idle_timeout));
    }
    m
}

/// How mail_room hands a message to GitLab: Sidekiq through Redis, or a postback.
fn delivery(mut m: MapBuilder, cx: &Context, mb: &Mailbox) -> MapBuilder {
    let t = mb.table();
    let redis = &cx.model.redis;
    let service_desk = mb.kind == MailboxKind::ServiceDesk;
    if mb.delivery == Delivery::Sidekiq {
        // GitLab: `:redis_url`, `:redis_db`, `:queue` (`default` for both mailboxes since
        // MAILBOX_SPECIFIC_CONFIGS), `:worker`.
        m = m.put(":delivery_method", Y::s("sidekiq")).put(
            ":delivery_options",
            MapBuilder::new()
                .opt(":redis_url", redis_url(redis).map(Y::s))
                .put(":redis_db", Y::Int(redis_db(redis)))
                .put(":queue", Y::s("default"))
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
        let url = mb.gitlab_url.as_deref().unwrap_or_default();
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
    m
}

/// The `[redis] url` with the `redis` secret's password in its userinfo (mail_room has no
/// separate password option). Every byte outside RFC 3986's unreserved set is
/// percent-encoded, `+` included: Ruby's redis client decodes the userinfo form-style, so
/// a bare `+` would become a space (the `url` crate would leave it as it is).
pub fn redis_url(r: &Redis) -> Option<String> {
    let written = r.url.as_deref()?;
    let Some(password) = &r.password else {
        return Some(written.to_string());
    };
    let password = password.expose();
    let u = url::Url::parse(written).ok()?;
    let user = u.username();
    let rest = &u[url::Position::BeforeHost..];
    Some(format!(
        "{}://{user}:{}@{rest}",
        u.scheme(),
        percent_encode(password)
    ))
}

/// The database number of `[redis] url` (`redis://host:6379/2` → 2), else 0.
pub fn redis_db(r: &Redis) -> i64 {
    r.url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.path().trim_start_matches('/').parse().ok())
        .unwrap_or(0)
}

/// Every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_encoded_outside_the_unreserved_set() {
        assert_eq!(
            percent_encode("a+b@c:d%e f~_.-Z9"),
            "a%2Bb%40c%3Ad%25e%20f~_.-Z9"
        );
        assert_eq!(percent_encode("é/"), "%C3%A9%2F");
    }

    #[test]
    fn root_and_nobody_are_found_and_a_made_up_user_is_not() {
        use crate::sys::users::{lookup_group, lookup_user};
        assert_eq!(lookup_user("root"), Some((0, 0)));
        assert!(lookup_user("nobody").is_some());
        assert!(lookup_user("no-such-user-toolctl").is_none());
        assert!(lookup_group("no-such-group-toolctl").is_none());
    }
}
