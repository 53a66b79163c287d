//! Every key `toolctl.toml` may hold: its type, default and what it is.
//!
//! One table serves loading (unknown keys, types), `config set` (how to parse a value),
//! `show-config` (every key with its default) and the resolve step (defaults, which
//! keys are credentials). Keys mirror
//! GitLab's documented `gitlab_rails[...]` names without their prefixes.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub use crate::model::keys::Kind;
use crate::secrets::Scope;

/// A default, when the key has one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    None,
    Str(&'static str),
    Int(i64),
    Bool(bool),
    /// Computed by the resolve step from another key (the text says from what, for people
    /// reading the schema; `show-config` shows the source `derive` records).
    Derived(&'static str),
}

/// One key of `toolctl.toml`.
#[derive(Clone, Debug)]
pub struct Key {
    /// Dotted path, e.g. `incoming_email.inbox_options.tenant_id`.
    pub path: String,
    pub kind: Kind,
    pub default: DefaultValue,
    /// A credential: its place in the secrets store. Plaintext in the file is allowed but
    /// warned about; the store's value wins.
    pub secret: Option<(Scope, &'static str)>,
}

/// The tables (sections) a key may live in.
pub const TABLES: &[&str] = &[
    "email",
    "smtp",
    "incoming_email",
    "incoming_email.inbox_options",
    "service_desk_email",
    "service_desk_email.inbox_options",
    "microsoft_graph_mailer",
    "mailroom",
    "redis",
    "gitlab",
    "mattermost",
    "mattermost.nginx",
    "check",
    "secrets",
    "logging",
    "reconfigure",
];

/// `[gitlab] install`: how GitLab is deployed.
pub const INSTALL_KINDS: &[&str] = &["omnibus", "docker", "source", "helm"];

pub const AZURE_AD: &str = "https://login.microsoftonline.com";
pub const GRAPH: &str = "https://graph.microsoft.com";
const PORT: Kind = Kind::Int(1, 65535);

fn key(path: impl Into<String>, kind: Kind, default: DefaultValue) -> Key {
    Key {
        path: path.into(),
        kind,
        default,
        secret: None,
    }
}

fn secret(path: impl Into<String>, scope: Scope, name: &'static str) -> Key {
    Key {
        secret: Some((scope, name)),
        ..key(path, Kind::Str, DefaultValue::None)
    }
}

/// The mailbox keys, the same for `incoming_email` and `service_desk_email`.
fn mailbox(keys: &mut Vec<Key>, t: &str, scope: Scope) {
    use DefaultValue as D;
    keys.extend([
        key(format!("{t}.enabled"), Kind::Bool, D::Bool(false)),
        key(format!("{t}.address"), Kind::Str, D::None),
        key(format!("{t}.host"), Kind::Str, D::None),
        key(format!("{t}.port"), PORT, D::Derived("ssl: 993, else 143")),
        key(format!("{t}.ssl"), Kind::Bool, D::Bool(false)),
        key(format!("{t}.start_tls"), Kind::Bool, D::Bool(false)),
        key(format!("{t}.mailbox"), Kind::Str, D::Str("inbox")),
        key(format!("{t}.ca_file"), Kind::Str, D::None),
        // mail_room refuses more than 29 minutes (IdleTimeoutTooLarge, lib/mail_room/mailbox.rb).
        key(format!("{t}.idle_timeout"), Kind::Int(1, 1740), D::Int(60)),
        key(
            format!("{t}.delete_after_delivery"),
            Kind::Bool,
            D::Bool(true),
        ),
        key(format!("{t}.expunge_deleted"), Kind::Bool, D::Bool(false)),
        key(
            format!("{t}.delivery_method"),
            Kind::Enum(&["webhook", "sidekiq"]),
            D::Str("webhook"),
        ),
        key(
            format!("{t}.gitlab_url"),
            Kind::Str,
            D::Derived("external_url"),
        ),
        key(
            format!("{t}.log_file"),
            Kind::Str,
            D::Derived("<log_directory>/mailroom/mail_room_json.log"),
        ),
        key(
            format!("{t}.inbox_method"),
            Kind::Enum(&["imap", "microsoft_graph"]),
            D::Str("imap"),
        ),
        secret(format!("{t}.user"), scope, "user"),
        secret(format!("{t}.password"), scope, "password"),
        key(format!("{t}.inbox_options.tenant_id"), Kind::Str, D::None),
        key(format!("{t}.inbox_options.client_id"), Kind::Str, D::None),
        secret(
            format!("{t}.inbox_options.client_secret"),
            scope,
            "client_secret",
        ),
        key(
            format!("{t}.inbox_options.poll_interval"),
            Kind::Int(1, 86400),
            D::Int(60),
        ),
        key(
            format!("{t}.inbox_options.azure_ad_endpoint"),
            Kind::Str,
            D::Str(AZURE_AD),
        ),
        key(
            format!("{t}.inbox_options.graph_endpoint"),
            Kind::Str,
            D::Str(GRAPH),
        ),
    ]);
}

/// The keys of `[mattermost]` and `[mattermost.nginx]` (a table: one key a line).
#[rustfmt::skip]
fn mattermost(keys: &mut Vec<Key>) {
    use DefaultValue as D;
    keys.extend([
        key("mattermost.external_url", Kind::Str, D::None),
        key("mattermost.gitlab_enable", Kind::Bool, D::Bool(false)),
        key("mattermost.gitlab_id", Kind::Str, D::None),
        secret("mattermost.gitlab_secret", Scope::Mattermost, "gitlab_secret"),
        key("mattermost.gitlab_scope", Kind::Str, D::Str("")),
        key("mattermost.gitlab_auth_endpoint", Kind::Str, D::Derived("external_url + /oauth/authorize")),
        key("mattermost.gitlab_token_endpoint", Kind::Str, D::Derived("external_url + /oauth/token")),
        key("mattermost.gitlab_user_api_endpoint", Kind::Str, D::Derived("external_url + /api/v4/user")),
        key("mattermost.sql_driver_name", Kind::Enum(&["postgres", "mysql"]), D::Str("postgres")),
        // No default: the bundled PostgreSQL the old default named is gone with GitLab 19.0.
        key("mattermost.sql_data_source", Kind::Str, D::None),
        secret("mattermost.sql_password", Scope::Mattermost, "sql_password"),
        key("mattermost.admin_data_source", Kind::Str, D::None),
        secret("mattermost.admin_sql_password", Scope::Mattermost, "admin_sql_password"),
        key("mattermost.listen_address", Kind::Str, D::Str("127.0.0.1:8065")),
        key("mattermost.uid", Kind::Int(0, 4_294_967_294), D::None),
        key("mattermost.gid", Kind::Int(0, 4_294_967_294), D::None),
        key("mattermost.env", Kind::Map, D::None),
        key("mattermost.config_file", Kind::Str, D::Derived("the rendered mattermost/config.json")),
        key("mattermost.data_dir", Kind::Str, D::None),
        // The `WorkingDirectory` of Mattermost's documented systemd unit: a relative
        // FileSettings.Directory (or MM_FILESETTINGS_DIRECTORY) is read against it.
        key("mattermost.working_dir", Kind::Str, D::Str("/opt/mattermost")),
        key("mattermost.pg_bin_dir", Kind::Str, D::None),
        key("mattermost.nginx.redirect_http_to_https", Kind::Bool, D::Bool(false)),
        key("mattermost.nginx.ssl_certificate", Kind::Str, D::Derived("/etc/toolctl/ssl/<host>.crt")),
        key("mattermost.nginx.ssl_certificate_key", Kind::Str, D::Derived("/etc/toolctl/ssl/<host>.key")),
        key("mattermost.nginx.client_max_body_size", Kind::Str, D::Str("100M")),
        key("mattermost.nginx.proxy_read_timeout", Kind::Str, D::Str("600s")),
        key("mattermost.nginx.websocket_proxy_read_timeout", Kind::Str, D::Str("90s")),
        key("mattermost.nginx.listen_ipv6", Kind::Bool, D::Bool(false)),
    ]);
}

/// Every key, in the order `show-config` lists them.
#[rustfmt::skip]
pub fn keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        use DefaultValue as D;
        let mut k = vec![
            key("external_url", Kind::Str, D::None),
            // `false`: GitLab sends no mail at all (`gitlab_email_enabled`).
            key("email.enabled", Kind::Bool, D::Bool(true)),
            key("email.from", Kind::Str, D::None),
            key("email.reply_to", Kind::Str, D::None),
            key("smtp.enabled", Kind::Bool, D::Bool(false)),
            key("smtp.address", Kind::Str, D::None),
            key("smtp.port", PORT, D::Derived("tls: 465, else 587")),
            key("smtp.domain", Kind::Str, D::None),
            key(
                "smtp.authentication",
                Kind::Enum(&["plain", "login", "cram_md5", "xoauth2", "none"]),
                D::None,
            ),
            // Unset, it is left out of every rendered file, as omnibus does; the session then
            // upgrades with STARTTLS unless `tls` is set.
            key("smtp.enable_starttls_auto", Kind::Bool, D::Derived("not written: STARTTLS unless tls")),
            key("smtp.tls", Kind::Bool, D::Bool(false)),
            // GitLab and the mail gem read `ssl` as `tls`.
            key("smtp.ssl", Kind::Bool, D::Bool(false)),
            key("smtp.openssl_verify_mode", Kind::Enum(&["peer", "none"]), D::Str("peer")),
            key("smtp.ca_file", Kind::Str, D::None),
            secret("smtp.user_name", Scope::Smtp, "user_name"),
            secret("smtp.password", Scope::Smtp, "password"),
        ];
        mailbox(&mut k, "incoming_email", Scope::IncomingEmail);
        mailbox(&mut k, "service_desk_email", Scope::ServiceDeskEmail);
        k.extend([
            key("microsoft_graph_mailer.enabled", Kind::Bool, D::Bool(false)),
            key("microsoft_graph_mailer.user_id", Kind::Str, D::None),
            key("microsoft_graph_mailer.tenant", Kind::Str, D::None),
            key("microsoft_graph_mailer.client_id", Kind::Str, D::None),
            secret("microsoft_graph_mailer.client_secret", Scope::MicrosoftGraphMailer, "client_secret"),
            key("microsoft_graph_mailer.azure_ad_endpoint", Kind::Str, D::Str(AZURE_AD)),
            key("microsoft_graph_mailer.graph_endpoint", Kind::Str, D::Str(GRAPH)),
            key("mailroom.enable", Kind::Bool, D::Bool(true)),
            secret("mailroom.webhook_secret", Scope::Mailroom, "webhook_secret"),
            key("mailroom.arbitration", Kind::Enum(&["none", "redis"]), D::Str("none")),
            key("mailroom.user", Kind::Str, D::None),
            key("mailroom.group", Kind::Str, D::None),
            key("mailroom.service", Kind::Str, D::Derived("install = source: gitlab-mailroom.service")),
            key("mailroom.pid_file", Kind::Str, D::None),
            key("redis.url", Kind::Str, D::None),
            secret("redis.password", Scope::Redis, "password"),
            key("gitlab.install", Kind::Enum(INSTALL_KINDS), D::None),
            key("gitlab.secrets_file", Kind::Str, D::None),
            key("gitlab.encrypted_settings_dir", Kind::Str, D::None),
            key("gitlab.user", Kind::Str, D::Derived("install = omnibus: git; docker: 998")),
            key("gitlab.group", Kind::Str, D::Derived("install = omnibus: git; docker: 998")),
            key("gitlab.container_root", Kind::Str, D::None),
            key("gitlab.fragment_path", Kind::Str, D::Derived("docker: <container_root>/etc/gitlab/toolctl.rb")),
            key("gitlab.base_config", Kind::Str, D::None),
            key("gitlab.helm_release", Kind::Str, D::None),
        ]);
        mattermost(&mut k);
        k.extend([
            // The From of `check --round-trip`'s canary: a dedicated address (older GitLabs
            // answered auto-generated mail), never a mailbox's own.
            key("check.canary_from", Kind::Str, D::None),
            key("secrets.recipients", Kind::List, D::None),
            key("secrets.directory", Kind::Str, D::Str("/var/opt/toolctl/secrets")),
            key("secrets.key_file", Kind::Str, D::Str("/etc/toolctl/secrets.key")),
            key("logging.log_directory", Kind::Str, D::Str("/var/log/toolctl")),
            key("reconfigure.output_directory", Kind::Str, D::Str("/var/opt/toolctl/rendered")),
        ]);
        k
    })
}

/// The key at `path`: a hash lookup, since loading asks once per key of the file.
pub fn find(path: &str) -> Option<&'static Key> {
    static INDEX: OnceLock<HashMap<&'static str, &'static Key>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            // The first of a path wins, as the linear search did.
            let mut index = HashMap::new();
            for k in keys() {
                index.entry(k.path.as_str()).or_insert(k);
            }
            index
        })
        .get(path)
        .copied()
}

/// Whether `path` is one of [`TABLES`].
pub fn is_table(path: &str) -> bool {
    static INDEX: OnceLock<HashSet<&'static str>> = OnceLock::new();
    INDEX
        .get_or_init(|| TABLES.iter().copied().collect())
        .contains(path)
}

/// The known key or table closest to `path`, when near enough to be a typo.
pub fn closest(path: &str) -> Option<String> {
    let candidates = keys()
        .iter()
        .map(|k| k.path.as_str())
        .chain(TABLES.iter().copied());
    let leaf = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    candidates
        .map(|c| {
            // Score the whole path, and the last segment alone (a typo in `[smtp] adress`).
            let whole = strsim::jaro_winkler(path, c);
            let same_parent =
                path.rsplit_once('.').map(|(p, _)| p) == c.rsplit_once('.').map(|(p, _)| p);
            let tail = if same_parent {
                strsim::jaro_winkler(&leaf(path), &leaf(c))
            } else {
                0.0
            };
            (whole.max(tail), c)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// Whether `key` names a file or a directory (`…_file`, `…_dir`, `…_directory`,
/// `secrets.directory`): such a value may hold no control character (a newline in a log
/// path would start a new line in every file it is rendered into).
pub fn is_path_key(key: &str) -> bool {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    leaf.ends_with("_file")
        || leaf.ends_with("_dir")
        || leaf.ends_with("_directory")
        || leaf == "directory"
}

/// Whether `value` holds a control character (C0, DEL or C1).
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}
