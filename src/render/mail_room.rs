//! `mail_room.yml`: the mailbox poller's configuration, one entry per enabled mailbox, in
//! mail_room's own format (symbol keys), with credentials resolved. Mode 0600. Rendered
//! only on the node that polls (`mailroom.enable`).
//!
//! Followed key by key (mail_room drops unknown keys silently, so a key outside
//! [`MAILBOX_FIELDS`] is a setting that never reaches it):
//! - gitlabhq/gitlabhq `config/mail_room.yml` (which keys, delivery and arbitration blocks)
//!   and `lib/gitlab/mail_room.rb` (queue `default`, the two workers, `redis_url`/`redis_db`);
//! - tpitale/mail_room `lib/mail_room/mailbox.rb` (`MAILBOX_FIELDS`, `:ssl` passed to
//!   `Net::IMAP.new` as `true`/`false`/options hash, `:verify_mode` looked up by name),
//!   `lib/mail_room/delivery/sidekiq.rb` and `lib/mail_room/arbitration/redis.rb` (the
//!   option names each reads).
//!
//! Also owns who the poller runs as (`[mailroom] user`/`group`) and its log directories.

use std::path::PathBuf;

use super::yaml::{MapBuilder, Y};
use super::Context;
use crate::settings::resolve::Resolved;
use crate::sys::users::{lookup_group, lookup_user};

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

/// The mailboxes this node polls.
fn mailboxes(r: &Resolved) -> Vec<&'static str> {
    if !r.bool("mailroom.enable") {
        return Vec::new();
    }
    ["incoming_email", "service_desk_email"]
        .into_iter()
        .filter(|t| r.bool(&format!("{t}.enabled")))
        .collect()
}

/// `None` when this node polls no mailbox.
pub fn render(cx: &Context) -> Option<String> {
    let list = mailboxes(cx.resolved);
    if list.is_empty() {
        return None;
    }
    let doc = MapBuilder::new()
        .put(
            ":mailboxes",
            Y::Seq(list.into_iter().map(|t| mailbox(cx, t)).collect()),
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
    for t in mailboxes(cx.resolved) {
        let Some(log) = cx.resolved.str(&format!("{t}.log_file")) else {
            continue;
        };
        let path = cx.paths.rooted(log);
        let managed = |d: &std::path::Path| {
            !d.exists() || (d.starts_with(&cx.paths.log_dir) && d != cx.paths.log_dir)
        };
        if let Some(dir) = path.parent().filter(|d| *d != cx.paths.root && managed(d)) {
            if !out.iter().any(|d| d == dir) {
                out.push(dir.to_path_buf());
            }
        }
    }
    out
}

/// `:ssl:` as mail_room hands it to `Net::IMAP.new`: with STARTTLS it must be `false` (any
/// hash there turns on implicit TLS on the STARTTLS port, and `imap.starttls` gets no
/// options, so a `ca_file` cannot apply); with implicit TLS and a `ca_file`, the options
/// hash; else a bare `true` (the system store).
fn ssl(cx: &Context, t: &str) -> Y {
    let r = cx.resolved;
    if r.bool(&format!("{t}.start_tls")) || !r.bool(&format!("{t}.ssl")) {
        return Y::Bool(false);
    }
    match cx.str(&format!("{t}.ca_file")) {
        Some(ca) => MapBuilder::new()
            .put(":ca_file", ca)
            .put(":verify_mode", Y::Sym("peer"))
            .build(),
        None => Y::Bool(true),
    }
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
            .put(":ssl", ssl(cx, t))
            .put(":start_tls", Y::Bool(r.bool(&k("start_tls"))))
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
        // GitLab: `:redis_url`, `:redis_db`, `:queue` (`default` for both mailboxes since
        // MAILBOX_SPECIFIC_CONFIGS), `:worker`.
        m = m.put(":delivery_method", Y::s("sidekiq")).put(
            ":delivery_options",
            MapBuilder::new()
                .opt(":redis_url", redis_url(r).map(Y::s))
                .put(":redis_db", Y::Int(redis_db(r)))
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
    if r.str("mailroom.arbitration") == Some("redis") {
        m = m.put(":arbitration_method", Y::s("redis")).put(
            ":arbitration_options",
            MapBuilder::new()
                .opt(":redis_url", redis_url(r).map(Y::s))
                .put(":namespace", Y::s(ARBITRATION_NAMESPACE))
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

/// The `[redis] url` with the `redis` secret's password in its userinfo (mail_room has no
/// separate password option). Every byte outside RFC 3986's unreserved set is
/// percent-encoded, `+` included: Ruby's redis client decodes the userinfo form-style, so
/// a bare `+` would become a space (the `url` crate would leave it as it is).
pub fn redis_url(r: &Resolved) -> Option<String> {
    let written = r.str("redis.url")?;
    let Some(password) = r.str("redis.password") else {
        return Some(written.to_string());
    };
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
pub fn redis_db(r: &Resolved) -> i64 {
    r.str("redis.url")
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

/// `[mailroom] user` / `group` as (uid, gid): the user's primary group unless `group`
/// is set; root's ids for what is not set. `Ok(None)` when neither is set (files stay
/// root-owned). Names are looked up in the system's user database, not under `--root`:
/// ownership is the running system's.
pub fn owner(r: &Resolved) -> Result<Option<(u32, u32)>, String> {
    owner_of(r, "mailroom")
}

/// (uid, gid) from `[<table>] user` / `group` (`mailroom`, `gitlab`).
pub fn owner_of(r: &Resolved, table: &str) -> Result<Option<(u32, u32)>, String> {
    let (user, group) = (
        r.str(&format!("{table}.user")),
        r.str(&format!("{table}.group")),
    );
    if user.is_none() && group.is_none() {
        return Ok(None);
    }
    let (uid, primary) = match user {
        Some(name) => lookup_user(name).ok_or_else(|| {
            format!("`{table}.user` names `{name}`, which is not a user on this system")
        })?,
        None => (0, 0),
    };
    let gid = match group {
        Some(name) => lookup_group(name).ok_or_else(|| {
            format!("`{table}.group` names `{name}`, which is not a group on this system")
        })?,
        None => primary,
    };
    Ok(Some((uid, gid)))
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
        assert_eq!(lookup_user("root"), Some((0, 0)));
        assert!(lookup_user("nobody").is_some());
        assert!(lookup_user("no-such-user-toolctl").is_none());
        assert!(lookup_group("no-such-group-toolctl").is_none());
    }
}
