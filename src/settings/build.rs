//! Resolved values → the typed [`Model`]: the one place that reads the resolved settings
//! by key, so nothing below `app` does. Defaults come from the schema through the resolve
//! step; nothing here restates one.

use super::resolve::{Source, Value, Values};
use crate::model::{
    Account, CaFile, CheckSettings, Delivery, Email, EnvValue, Gitlab, GraphMailer, InboxMethod,
    InboxOptions, Install, Mailbox, MailboxKind, Mailroom, Mattermost, Model, Nginx, Redis, Relay,
    Secret, Security,
};
use crate::paths::Paths;

/// Typed reads of the resolved map, for the build only.
struct Reader<'a> {
    r: Values<'a>,
    paths: &'a Paths,
}

impl Reader<'_> {
    fn str(&self, key: &str) -> Option<String> {
        match self.r.get(key) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// A key the schema gives a default (or that the resolve step derives): always set.
    fn string(&self, key: &str) -> String {
        let v = self.str(key);
        debug_assert!(v.is_some(), "`{key}` has a default in the schema");
        v.unwrap_or_default()
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.r.get(key) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    fn port(&self, key: &str) -> u16 {
        let v = self.int(key).and_then(|p| u16::try_from(p).ok());
        debug_assert!(v.is_some(), "`{key}` has a derived default");
        v.unwrap_or_default()
    }

    fn bool(&self, key: &str) -> bool {
        matches!(self.r.get(key), Some(Value::Bool(true)))
    }

    /// A boolean written in the file (not a default nor derived): `None` when unset.
    fn written_bool(&self, key: &str) -> Option<bool> {
        match self.r.0.get(key) {
            Some((Value::Bool(b), Source::File(_))) => Some(*b),
            _ => None,
        }
    }

    fn secret(&self, key: &str) -> Option<Secret> {
        let (Value::Secret(s), source) = self.r.0.get(key)? else {
            return None;
        };
        let origin = match source {
            Source::Secret(scope) => format!("the {scope} secret"),
            Source::File(line) => format!("toolctl.toml:{line} (plaintext)"),
            _ => "nowhere".to_string(),
        };
        Some(Secret::new(s.to_string(), origin))
    }

    fn ca_file(&self, key: &str) -> Option<CaFile> {
        self.str(key).map(|w| CaFile {
            path: self.paths.rooted(&w),
            written: w,
        })
    }

    fn account(&self, table: &'static str) -> Account {
        self.r.account(table)
    }

    fn mailbox(&self, kind: MailboxKind) -> Mailbox {
        let t = kind.table();
        let k = |leaf: &str| format!("{t}.{leaf}");
        let (ssl, start_tls) = (self.bool(&k("ssl")), self.bool(&k("start_tls")));
        Mailbox {
            kind,
            enabled: self.bool(&k("enabled")),
            address: self.str(&k("address")),
            host: self.str(&k("host")),
            port: self.port(&k("port")),
            ssl,
            start_tls,
            security: Security::new(ssl, start_tls, self.ca_file(&k("ca_file"))),
            mailbox: self.string(&k("mailbox")),
            idle_timeout: self.int(&k("idle_timeout")).unwrap_or_default(),
            delete_after_delivery: self.bool(&k("delete_after_delivery")),
            expunge_deleted: self.bool(&k("expunge_deleted")),
            delivery: match self.str(&k("delivery_method")).as_deref() {
                Some("sidekiq") => Delivery::Sidekiq,
                _ => Delivery::Webhook,
            },
            gitlab_url: self.str(&k("gitlab_url")),
            log_file: self.str(&k("log_file")),
            inbox_method: match self.str(&k("inbox_method")).as_deref() {
                Some("microsoft_graph") => InboxMethod::MicrosoftGraph,
                _ => InboxMethod::Imap,
            },
            user: self.secret(&k("user")),
            password: self.secret(&k("password")),
            inbox_options: InboxOptions {
                tenant_id: self.str(&k("inbox_options.tenant_id")),
                client_id: self.str(&k("inbox_options.client_id")),
                client_secret: self.secret(&k("inbox_options.client_secret")),
                poll_interval: self
                    .int(&k("inbox_options.poll_interval"))
                    .unwrap_or_default(),
                azure_ad_endpoint: self.string(&k("inbox_options.azure_ad_endpoint")),
                graph_endpoint: self.string(&k("inbox_options.graph_endpoint")),
            },
        }
    }

    fn mattermost(&self) -> Mattermost {
        let env = match self.r.get("mattermost.env") {
            Some(Value::Map(m)) => m
                .iter()
                .map(|(name, value)| {
                    let v = if crate::model::env_name_is_secret(name) {
                        EnvValue::Secret(Secret::new(value.clone(), "`[mattermost] env`"))
                    } else {
                        EnvValue::Plain(value.clone())
                    };
                    (name.clone(), v)
                })
                .collect(),
            _ => Vec::new(),
        };
        let n = |leaf: &str| format!("mattermost.nginx.{leaf}");
        Mattermost {
            external_url: self.str("mattermost.external_url"),
            gitlab_enable: self.bool("mattermost.gitlab_enable"),
            gitlab_id: self.str("mattermost.gitlab_id"),
            gitlab_secret: self.secret("mattermost.gitlab_secret"),
            gitlab_scope: self.str("mattermost.gitlab_scope"),
            gitlab_auth_endpoint: self.str("mattermost.gitlab_auth_endpoint"),
            gitlab_token_endpoint: self.str("mattermost.gitlab_token_endpoint"),
            gitlab_user_api_endpoint: self.str("mattermost.gitlab_user_api_endpoint"),
            sql_driver_name: self.str("mattermost.sql_driver_name"),
            sql_data_source: self.str("mattermost.sql_data_source"),
            listen_address: self.string("mattermost.listen_address"),
            sql_password: self.secret("mattermost.sql_password"),
            admin_data_source: self.str("mattermost.admin_data_source"),
            admin_sql_password: self.secret("mattermost.admin_sql_password"),
            uid: self.int("mattermost.uid"),
            gid: self.int("mattermost.gid"),
            env,
            config_file: self.str("mattermost.config_file"),
            data_dir: self.str("mattermost.data_dir"),
            working_dir: self.string("mattermost.working_dir"),
            pg_bin_dir: self.str("mattermost.pg_bin_dir"),
            nginx: Nginx {
                redirect_http_to_https: self.bool(&n("redirect_http_to_https")),
                ssl_certificate: self.str(&n("ssl_certificate")),
                ssl_certificate_key: self.str(&n("ssl_certificate_key")),
                client_max_body_size: self.string(&n("client_max_body_size")),
                proxy_read_timeout: self.string(&n("proxy_read_timeout")),
                websocket_proxy_read_timeout: self.string(&n("websocket_proxy_read_timeout")),
                listen_ipv6: self.bool(&n("listen_ipv6")),
            },
        }
    }
}

/// The typed model of `r`; `paths` places the `ca_file`s under `--root`.
pub fn model(r: Values, paths: &Paths) -> Model {
    let rd = Reader { r, paths };
    let g = |leaf: &str| format!("microsoft_graph_mailer.{leaf}");
    Model {
        external_url: rd.str("external_url"),
        email: Email {
            enabled: rd.bool("email.enabled"),
            from: rd.str("email.from"),
            reply_to: rd.str("email.reply_to"),
        },
        smtp: Relay {
            enabled: rd.bool("smtp.enabled"),
            address: rd.str("smtp.address"),
            port: rd.port("smtp.port"),
            domain: rd.str("smtp.domain"),
            authentication: rd.str("smtp.authentication"),
            enable_starttls_auto: rd.written_bool("smtp.enable_starttls_auto"),
            tls: rd.bool("smtp.tls") || rd.bool("smtp.ssl"),
            openssl_verify_mode: rd.str("smtp.openssl_verify_mode"),
            ca_file: rd.ca_file("smtp.ca_file"),
            user_name: rd.secret("smtp.user_name"),
            password: rd.secret("smtp.password"),
        },
        incoming: rd.mailbox(MailboxKind::Incoming),
        service_desk: rd.mailbox(MailboxKind::ServiceDesk),
        graph_mailer: GraphMailer {
            enabled: rd.bool(&g("enabled")),
            user_id: rd.str(&g("user_id")),
            tenant: rd.str(&g("tenant")),
            client_id: rd.str(&g("client_id")),
            client_secret: rd.secret(&g("client_secret")),
            azure_ad_endpoint: rd.string(&g("azure_ad_endpoint")),
            graph_endpoint: rd.string(&g("graph_endpoint")),
        },
        mailroom: Mailroom {
            enable: rd.bool("mailroom.enable"),
            webhook_secret: rd.secret("mailroom.webhook_secret"),
            redis_arbitration: rd.str("mailroom.arbitration").as_deref() == Some("redis"),
            account: rd.account("mailroom"),
            service: rd.str("mailroom.service"),
            pid_file: rd.str("mailroom.pid_file"),
        },
        redis: Redis {
            url: rd.str("redis.url"),
            password: rd.secret("redis.password"),
        },
        gitlab: Gitlab {
            install: rd.str("gitlab.install").as_deref().and_then(Install::parse),
            secrets_file: rd.str("gitlab.secrets_file"),
            encrypted_settings_dir: rd.str("gitlab.encrypted_settings_dir"),
            account: rd.account("gitlab"),
            container_root: rd.str("gitlab.container_root"),
            fragment_path: rd.str("gitlab.fragment_path"),
            base_config: rd.str("gitlab.base_config"),
            helm_release: rd.str("gitlab.helm_release"),
        },
        mattermost: rd.mattermost(),
        check: CheckSettings {
            canary_from: rd.str("check.canary_from"),
        },
        log_directory: rd.str("logging.log_directory"),
    }
}
