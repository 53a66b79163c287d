//! The typed resolved settings: what every command works from once the resolve step
//! (`settings::resolve`) has applied defaults, derived values and the secrets store.
//!
//! Built once, read everywhere below `app` by field, never by a dotted key: a rule such
//! as "which CA does an IMAP mailbox trust" is written here once ([`Security`]) and used
//! by the renderer and the probe alike. Every credential is a [`Secret`], so the diff
//! masker and the probes' maskers ask the model which values to hide
//! ([`Model::secret_values`]).
//!
//! - [`paths`]: where every file lives under `--root`;
//! - [`datasource`]: the text of a PostgreSQL data source (forms, quoting, password);
//! - [`Secret`]: a credential, shown only through [`Secret::expose`];
//! - [`Security`]: a mailbox's transport security, with the trust the probe uses and the
//!   `:ssl:` value mail_room is given.

pub mod datasource;
pub mod keys;
pub mod outcome;
pub mod paths;

use std::fmt;
use std::path::PathBuf;

use zeroize::{Zeroize, Zeroizing};

/// What every secret looks like in output.
pub const MASK: &str = "********";

/// A credential. No `Deref`, no `Display`, and `Debug` shows no content: the value is read
/// only through [`Secret::expose`], so every place that uses it says so.
#[derive(Clone, PartialEq)]
pub struct Secret<T: Zeroize = String> {
    value: Zeroizing<T>,
    origin: String,
}

impl<T: Zeroize> Secret<T> {
    /// `origin` says where it came from, for people ("the smtp secret",
    /// "toolctl.toml:12 (plaintext)").
    pub fn new(value: T, origin: impl Into<String>) -> Secret<T> {
        Secret {
            value: Zeroizing::new(value),
            origin: origin.into(),
        }
    }

    /// The value itself: for the file or the server that must receive it, never for output.
    pub fn expose(&self) -> &T {
        &self.value
    }

    /// Where the value came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl Secret<String> {
    /// A zeroizing copy, for a probe that owns its credentials.
    pub fn to_zeroizing(&self) -> Zeroizing<String> {
        Zeroizing::new(self.value.to_string())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// A `ca_file` setting: as written, and where it is read under `--root`.
#[derive(Clone, Debug, PartialEq)]
pub struct CaFile {
    pub written: String,
    pub path: PathBuf,
}

/// The trust a TLS client uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Trust {
    /// The `ca_file` setting as written, and where it is under `--root`.
    pub ca_file: Option<(String, PathBuf)>,
    /// `openssl_verify_mode = "none"`: accept any certificate (warned about).
    pub verify: bool,
    /// The hint for a certificate no trusted CA signed, when the default (set `ca_file`)
    /// is not the fix (IMAP STARTTLS, where mail_room trusts the system store only).
    pub unknown_issuer_hint: Option<String>,
}

impl Trust {
    /// The system store, verified.
    pub fn system() -> Trust {
        Trust {
            ca_file: None,
            verify: true,
            unknown_issuer_hint: None,
        }
    }

    fn with_ca(ca: Option<&CaFile>, verify: bool) -> Trust {
        Trust {
            ca_file: ca.map(|c| (c.written.clone(), c.path.clone())),
            verify,
            unknown_issuer_hint: None,
        }
    }
}

/// A mailbox's transport security, decided once from `ssl` and `start_tls` (and
/// `ca_file`) as mail_room decides it: STARTTLS wins over `ssl` (mail_room then gives
/// `Net::IMAP.new` `ssl: false` and calls `starttls` with no options).
#[derive(Clone, Debug, PartialEq)]
pub enum Security {
    /// TLS from the first byte (port 993), verified against `ca` or the system store.
    Implicit { ca: Option<CaFile> },
    /// STARTTLS (port 143): the system store only; a `ca_file` written is not used.
    StartTls { ignored_ca: Option<CaFile> },
    /// No TLS at all.
    Plain { ca: Option<CaFile> },
}

/// `:ssl:` in mail_room.yml.
#[derive(Clone, Debug, PartialEq)]
pub enum MailRoomSsl {
    /// `false`: no TLS, or STARTTLS (any hash would turn on implicit TLS).
    Off,
    /// `true`: implicit TLS with the system store.
    System,
    /// `{ca_file:}`: implicit TLS with this CA (verified: Net::IMAP's default is
    /// `VERIFY_PEER`; no `verify_mode`, which mail_room 0.11.1 breaks on reconnect).
    CaFile(String),
}

impl Security {
    pub fn new(ssl: bool, start_tls: bool, ca: Option<CaFile>) -> Security {
        match (ssl, start_tls) {
            (_, true) => Security::StartTls { ignored_ca: ca },
            (true, false) => Security::Implicit { ca },
            (false, false) => Security::Plain { ca },
        }
    }

    pub fn implicit(&self) -> bool {
        matches!(self, Security::Implicit { .. })
    }

    pub fn start_tls(&self) -> bool {
        matches!(self, Security::StartTls { .. })
    }

    /// What mail_room is given as `:ssl:`.
    pub fn mail_room_ssl(&self) -> MailRoomSsl {
        match self {
            Security::Implicit { ca: Some(ca) } => MailRoomSsl::CaFile(ca.written.clone()),
            Security::Implicit { ca: None } => MailRoomSsl::System,
            Security::StartTls { .. } | Security::Plain { .. } => MailRoomSsl::Off,
        }
    }

    /// The trust the probe verifies with, the same mail_room will use; with STARTTLS and a
    /// `ca_file` written, also the warning that it is not used (`table` names the keys).
    pub fn trust(&self, table: &str) -> (Trust, Option<(String, String)>) {
        match self {
            Security::Implicit { ca } | Security::Plain { ca } => {
                (Trust::with_ca(ca.as_ref(), true), None)
            }
            Security::StartTls { ignored_ca } => {
                // With or without a `ca_file`, the two fixes that work: never "set
                // `ca_file`", which mail_room ignores with STARTTLS.
                let mut t = Trust::system();
                t.unknown_issuer_hint = Some(format!(
                    "mail_room trusts only the system CA store with STARTTLS: install the CA there (copy it to /usr/local/share/ca-certificates/ and run `update-ca-certificates`), or use implicit TLS (`{table}.ssl = true`, `{table}.start_tls = false`, port 993) with `{table}.ca_file`"
                ));
                let Some(ca) = ignored_ca else {
                    return (t, None);
                };
                let written = &ca.written;
                let warning = (
                    format!("mail_room ignores `{table}.ca_file` ({written}) with STARTTLS: verifying against the system CA store only, as it will"),
                    format!("install the CA in the system store (`update-ca-certificates`), or use implicit TLS (`{table}.ssl = true`, port 993) with `ca_file`"),
                );
                (t, Some(warning))
            }
        }
    }
}

/// `[email]`.
#[derive(Clone, Debug, Default)]
pub struct Email {
    /// `false`: GitLab sends no mail at all (gitlab.yml's `gitlab.email_enabled`).
    pub enabled: bool,
    pub from: Option<String>,
    pub reply_to: Option<String>,
}

/// `[smtp]`: the relay GitLab sends through.
#[derive(Clone, Debug)]
pub struct Relay {
    pub enabled: bool,
    pub address: Option<String>,
    pub port: u16,
    pub domain: Option<String>,
    pub authentication: Option<String>,
    /// As written: `None` when unset, and then left out of every rendered file.
    pub enable_starttls_auto: Option<bool>,
    /// `tls` or its synonym `ssl`: implicit TLS.
    pub tls: bool,
    pub openssl_verify_mode: Option<String>,
    pub ca_file: Option<CaFile>,
    pub user_name: Option<Secret>,
    pub password: Option<Secret>,
}

impl Relay {
    /// The one trust decision for SMTP: `ca_file`, verified unless
    /// `openssl_verify_mode = "none"`.
    pub fn trust(&self) -> Trust {
        Trust::with_ca(
            self.ca_file.as_ref(),
            self.openssl_verify_mode.as_deref() != Some("none"),
        )
    }

    /// Whether the session upgrades with STARTTLS when offered: the written value, else
    /// the mail gem's default, which follows `tls` (an implicit-TLS session has none).
    pub fn starttls_auto(&self) -> bool {
        self.enable_starttls_auto.unwrap_or(!self.tls)
    }

    /// The HELO name (`smtp.domain`, else `localhost`).
    pub fn helo(&self) -> &str {
        self.domain.as_deref().unwrap_or("localhost")
    }
}

/// Which of the two mailboxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailboxKind {
    Incoming,
    ServiceDesk,
}

impl MailboxKind {
    pub const BOTH: [MailboxKind; 2] = [MailboxKind::Incoming, MailboxKind::ServiceDesk];

    /// The settings table.
    pub fn table(self) -> &'static str {
        match self {
            MailboxKind::Incoming => "incoming_email",
            MailboxKind::ServiceDesk => "service_desk_email",
        }
    }

    /// The subcommand name.
    pub fn cli_name(self) -> &'static str {
        match self {
            MailboxKind::Incoming => "incoming-email",
            MailboxKind::ServiceDesk => "service-desk-email",
        }
    }
}

/// How a mailbox hands mail to GitLab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Webhook,
    Sidekiq,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Webhook => "webhook",
            Delivery::Sidekiq => "sidekiq",
        }
    }
}

/// How a mailbox is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxMethod {
    Imap,
    MicrosoftGraph,
}

impl InboxMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxMethod::Imap => "imap",
            InboxMethod::MicrosoftGraph => "microsoft_graph",
        }
    }
}

/// `[<mailbox>.inbox_options]` (Microsoft Graph).
#[derive(Clone, Debug)]
pub struct InboxOptions {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub poll_interval: i64,
    pub azure_ad_endpoint: String,
    pub graph_endpoint: String,
}

/// `[incoming_email]` or `[service_desk_email]`.
#[derive(Clone, Debug)]
pub struct Mailbox {
    pub kind: MailboxKind,
    pub enabled: bool,
    pub address: Option<String>,
    pub host: Option<String>,
    pub port: u16,
    /// `ssl` and `start_tls` as written (gitlab.yml carries them as they are).
    pub ssl: bool,
    pub start_tls: bool,
    /// What they mean, decided once.
    pub security: Security,
    pub mailbox: String,
    pub idle_timeout: i64,
    /// mail_room deletes (flags `\Deleted`) each message it delivered.
    pub delete_after_delivery: bool,
    pub expunge_deleted: bool,
    pub delivery: Delivery,
    pub gitlab_url: Option<String>,
    pub log_file: Option<String>,
    pub inbox_method: InboxMethod,
    pub user: Option<Secret>,
    pub password: Option<Secret>,
    pub inbox_options: InboxOptions,
}

impl Mailbox {
    pub fn table(&self) -> &'static str {
        self.kind.table()
    }

    pub fn graph(&self) -> bool {
        self.inbox_method == InboxMethod::MicrosoftGraph
    }
}

/// `[microsoft_graph_mailer]`.
#[derive(Clone, Debug)]
pub struct GraphMailer {
    pub enabled: bool,
    pub user_id: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub azure_ad_endpoint: String,
    pub graph_endpoint: String,
}

/// A user and group named in the settings (`[mailroom]`, `[gitlab]`).
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// The table, for messages.
    pub table: &'static str,
    pub user: Option<String>,
    pub group: Option<String>,
    /// Ids, not names: the owner inside a container (`[gitlab] install = "docker"`), which
    /// need not be a user of the host.
    pub numeric: bool,
}

impl Account {
    /// (uid, gid): the user's primary group unless `group` is set; root's ids for what is
    /// not set. `Ok(None)` when neither is set (files stay root-owned). Names are looked up
    /// in the running system's user database, not under `--root`.
    pub fn ids(&self) -> Result<Option<(u32, u32)>, String> {
        use crate::sys::users::{lookup_group, lookup_user};
        let table = self.table;
        if self.user.is_none() && self.group.is_none() {
            return Ok(None);
        }
        if self.numeric {
            let id = |key: &str, v: &str| {
                v.parse::<u32>().ok().filter(|n| *n != u32::MAX).ok_or_else(|| {
                    format!("`{table}.{key}` is `{v}`, not a number: inside a container the owner is given by its id")
                })
            };
            let uid = match &self.user {
                Some(u) => id("user", u)?,
                None => 0,
            };
            let gid = match &self.group {
                Some(g) => id("group", g)?,
                None => uid,
            };
            return Ok(Some((uid, gid)));
        }
        let (uid, primary) = match &self.user {
            Some(name) => lookup_user(name).ok_or_else(|| {
                format!("`{table}.user` names `{name}`, which is not a user on this system")
            })?,
            None => (0, 0),
        };
        let gid = match &self.group {
            Some(name) => lookup_group(name).ok_or_else(|| {
                format!("`{table}.group` names `{name}`, which is not a group on this system")
            })?,
            None => primary,
        };
        Ok(Some((uid, gid)))
    }
}

/// `[mailroom]`.
#[derive(Clone, Debug)]
pub struct Mailroom {
    pub enable: bool,
    pub webhook_secret: Option<Secret>,
    pub redis_arbitration: bool,
    pub account: Account,
    /// The systemd unit of a source install's mail_room (default `gitlab-mailroom.service`).
    pub service: Option<String>,
    /// mail_room's pid file, where no service manager is known (no `[gitlab] install`).
    pub pid_file: Option<String>,
}

/// `[redis]`.
#[derive(Clone, Debug, Default)]
pub struct Redis {
    pub url: Option<String>,
    pub password: Option<Secret>,
}

/// `[gitlab] install`: how GitLab is deployed, which decides what `reconfigure` writes
/// for it and the one step that wires it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Install {
    /// The Linux package: a gitlab.rb fragment loaded by `from_file`.
    Omnibus,
    /// GitLab's Docker image: the same fragment, in the `/etc/gitlab` volume.
    Docker,
    /// A source install: a complete gitlab.yml.
    Source,
    /// The Helm chart: values and Secrets.
    Helm,
}

impl Install {
    pub fn parse(s: &str) -> Option<Install> {
        Some(match s {
            "omnibus" => Install::Omnibus,
            "docker" => Install::Docker,
            "source" => Install::Source,
            "helm" => Install::Helm,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Install::Omnibus => "omnibus",
            Install::Docker => "docker",
            Install::Source => "source",
            Install::Helm => "helm",
        }
    }

    /// Whether GitLab evaluates a gitlab.rb (the Linux package, in or out of a container).
    pub fn gitlab_rb(self) -> bool {
        matches!(self, Install::Omnibus | Install::Docker)
    }
}

/// `[gitlab]`.
#[derive(Clone, Debug, Default)]
pub struct Gitlab {
    /// `None` when `[gitlab]` is not set (the settings refuse `[gitlab]` without it).
    pub install: Option<Install>,
    pub secrets_file: Option<String>,
    pub encrypted_settings_dir: Option<String>,
    pub account: Account,
    /// Docker: the host directory that stands for the container's `/`.
    pub container_root: Option<String>,
    /// Docker: where the gitlab.rb fragment is written (a host path inside the volume).
    pub fragment_path: Option<String>,
    /// Source: the administrator's own full gitlab.yml.
    pub base_config: Option<String>,
    /// Helm: the release the Secrets are named after.
    pub helm_release: Option<String>,
}

impl Gitlab {
    /// `path` (a host path, as written in the settings) as the container sees it: with
    /// `container_root` taken off; `None` when it lies outside. Other kinds: unchanged.
    pub fn container_path(&self, path: &str) -> Option<String> {
        if self.install != Some(Install::Docker) {
            return Some(path.to_string());
        }
        let root = self.container_root.as_deref()?.trim_end_matches('/');
        let rest = path.strip_prefix(root)?;
        if rest.is_empty() {
            Some("/".into())
        } else if rest.starts_with('/') {
            Some(rest.to_string())
        } else {
            None
        }
    }
}

impl Gitlab {
    /// Whether GitLab's encrypted settings are asked for (both paths set).
    pub fn encrypted_settings(&self) -> Option<(&str, &str)> {
        Some((
            self.secrets_file.as_deref()?,
            self.encrypted_settings_dir.as_deref()?,
        ))
    }
}

/// A `[mattermost] env` value: a credential-named variable is a [`Secret`].
#[derive(Clone, Debug)]
pub enum EnvValue {
    Plain(String),
    Secret(Secret),
}

impl EnvValue {
    pub fn expose(&self) -> &str {
        match self {
            EnvValue::Plain(s) => s,
            EnvValue::Secret(s) => s.expose(),
        }
    }
}

/// Whether an environment variable's name says that it holds a credential
/// (`MM_EMAILSETTINGS_SMTPPASSWORD`, `…_SECRET`, `…_TOKEN`, `…_KEY`, `…_SALT`,
/// `…_DATASOURCE`).
pub fn env_name_is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "SECRET",
        "TOKEN",
        "KEY",
        "SALT",
        "DATASOURCE",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// The variable that sets Mattermost's data directory (`FileSettings.Directory`).
pub const DIRECTORY_ENV: &str = "MM_FILESETTINGS_DIRECTORY";

/// `[mattermost.nginx]`.
#[derive(Clone, Debug, Default)]
pub struct Nginx {
    pub redirect_http_to_https: bool,
    pub ssl_certificate: Option<String>,
    pub ssl_certificate_key: Option<String>,
    pub client_max_body_size: String,
    pub proxy_read_timeout: String,
    pub websocket_proxy_read_timeout: String,
    /// `listen [::]:…` beside every `listen …` (omnibus listens on IPv4 only by default).
    pub listen_ipv6: bool,
}

/// `[mattermost]`.
#[derive(Clone, Debug, Default)]
pub struct Mattermost {
    /// Mattermost is enabled by its external URL, as in omnibus.
    pub external_url: Option<String>,
    pub gitlab_enable: bool,
    pub gitlab_id: Option<String>,
    pub gitlab_secret: Option<Secret>,
    pub gitlab_scope: Option<String>,
    pub gitlab_auth_endpoint: Option<String>,
    pub gitlab_token_endpoint: Option<String>,
    pub gitlab_user_api_endpoint: Option<String>,
    pub sql_driver_name: Option<String>,
    pub sql_data_source: Option<String>,
    /// `listen_address`: where Mattermost listens (`MM_SERVICESETTINGS_LISTENADDRESS`).
    pub listen_address: String,
    pub sql_password: Option<Secret>,
    pub admin_data_source: Option<String>,
    pub admin_sql_password: Option<Secret>,
    pub uid: Option<i64>,
    pub gid: Option<i64>,
    pub env: Vec<(String, EnvValue)>,
    pub config_file: Option<String>,
    pub data_dir: Option<String>,
    /// `working_dir`: Mattermost's working directory, against which it reads a relative
    /// `FileSettings.Directory`.
    pub working_dir: String,
    pub pg_bin_dir: Option<String>,
    pub nginx: Nginx,
}

impl Mattermost {
    pub fn enabled(&self) -> bool {
        self.external_url.is_some()
    }

    /// The OAuth endpoints with the keys they are set by (for the probe's rows).
    pub fn endpoints(&self) -> Vec<(&'static str, &str)> {
        [
            (
                "mattermost.gitlab_auth_endpoint",
                &self.gitlab_auth_endpoint,
            ),
            (
                "mattermost.gitlab_token_endpoint",
                &self.gitlab_token_endpoint,
            ),
            (
                "mattermost.gitlab_user_api_endpoint",
                &self.gitlab_user_api_endpoint,
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }

    /// A `[mattermost] env` variable's value.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.expose())
    }
}

/// `[check]`.
#[derive(Clone, Debug, Default)]
pub struct CheckSettings {
    /// The From of the round trip's canary (`check --round-trip`, `--postback`).
    pub canary_from: Option<String>,
}

/// The resolved settings, typed.
#[derive(Clone, Debug)]
pub struct Model {
    pub external_url: Option<String>,
    pub email: Email,
    pub smtp: Relay,
    pub incoming: Mailbox,
    pub service_desk: Mailbox,
    pub graph_mailer: GraphMailer,
    pub mailroom: Mailroom,
    pub redis: Redis,
    pub gitlab: Gitlab,
    pub mattermost: Mattermost,
    pub check: CheckSettings,
    /// `[logging] log_directory` as written (or its default).
    pub log_directory: Option<String>,
}

impl Model {
    pub fn mailbox(&self, kind: MailboxKind) -> &Mailbox {
        match kind {
            MailboxKind::Incoming => &self.incoming,
            MailboxKind::ServiceDesk => &self.service_desk,
        }
    }

    /// Both mailboxes, incoming first.
    pub fn mailboxes(&self) -> [&Mailbox; 2] {
        [&self.incoming, &self.service_desk]
    }

    /// The mailboxes this node polls: enabled ones, where `mailroom.enable` is true.
    pub fn polled(&self) -> Vec<&Mailbox> {
        if !self.mailroom.enable {
            return Vec::new();
        }
        self.mailboxes().into_iter().filter(|m| m.enabled).collect()
    }

    /// Whether an enabled mailbox delivers by webhook and so needs the shared token.
    pub fn needs_webhook_secret(&self) -> bool {
        self.mailboxes()
            .iter()
            .any(|m| m.enabled && m.delivery == Delivery::Webhook)
    }

    /// The enabled integrations no rendered file carries to GitLab (`[smtp]` without
    /// `[gitlab]`: smtp_settings.rb needs GitLab's encrypted settings). The mailboxes always
    /// reach gitlab.yml (or the kind's own file).
    pub fn uncarried(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.smtp.enabled && self.gitlab.install.is_none() {
            out.push("smtp");
        }
        out
    }

    /// Every secret of these settings.
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut all: Vec<&Option<Secret>> = vec![&self.smtp.user_name, &self.smtp.password];
        for m in [&self.incoming, &self.service_desk] {
            all.extend([&m.user, &m.password, &m.inbox_options.client_secret]);
        }
        all.extend([
            &self.graph_mailer.client_secret,
            &self.mailroom.webhook_secret,
            &self.redis.password,
            &self.mattermost.gitlab_secret,
            &self.mattermost.sql_password,
            &self.mattermost.admin_sql_password,
        ]);
        let mut out: Vec<&Secret> = all.into_iter().flatten().collect();
        out.extend(self.mattermost.env.iter().filter_map(|(_, v)| match v {
            EnvValue::Secret(s) => Some(s),
            EnvValue::Plain(_) => None,
        }));
        out
    }

    /// Every non-empty secret value, for masking rendered text and server replies.
    pub fn secret_values(&self) -> Vec<&str> {
        self.secrets()
            .into_iter()
            .map(|s| s.expose().as_str())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shows_nothing_in_debug() {
        let s = Secret::new("hunter2-long".to_string(), "the smtp secret");
        assert_eq!(format!("{s:?}"), "Secret(****)");
        assert_eq!(s.expose(), "hunter2-long");
        assert_eq!(s.origin(), "the smtp secret");
    }

    fn ca() -> Option<CaFile> {
        Some(CaFile {
            written: "/etc/ca.pem".into(),
            path: "/root/etc/ca.pem".into(),
        })
    }

    /// One decision: what mail_room is given and what the probe trusts agree.
    #[test]
    fn mail_room_and_the_probe_share_one_trust_decision() {
        let implicit = Security::new(true, false, ca());
        assert_eq!(
            implicit.mail_room_ssl(),
            MailRoomSsl::CaFile("/etc/ca.pem".into())
        );
        let (t, warning) = implicit.trust("incoming_email");
        assert_eq!(t.ca_file.unwrap().0, "/etc/ca.pem");
        assert!(warning.is_none());

        for ca in [ca(), None] {
            let (t, _) = Security::new(false, true, ca).trust("incoming_email");
            let hint = t.unknown_issuer_hint.unwrap();
            assert!(hint.contains("update-ca-certificates") && hint.contains("ssl = true"));
            assert!(!hint.contains("set `ca_file`"), "{hint}");
        }
        for (ssl, start_tls) in [(false, true), (true, true)] {
            let s = Security::new(ssl, start_tls, ca());
            assert_eq!(s.mail_room_ssl(), MailRoomSsl::Off);
            let (t, warning) = s.trust("incoming_email");
            assert!(t.ca_file.is_none() && t.unknown_issuer_hint.is_some());
            assert!(warning.is_some());
        }
        assert_eq!(
            Security::new(true, false, None).mail_room_ssl(),
            MailRoomSsl::System
        );
        assert_eq!(
            Security::new(false, false, ca()).mail_room_ssl(),
            MailRoomSsl::Off
        );
    }

    #[test]
    fn credential_names_are_told_apart() {
        assert!(env_name_is_secret("MM_EMAILSETTINGS_SMTPPASSWORD"));
        assert!(env_name_is_secret("MM_GITLABSETTINGS_SECRET"));
        assert!(!env_name_is_secret("HTTP_PROXY"));
    }
}
