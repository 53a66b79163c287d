//! Probes built from the typed model: what each probe connects to, with which
//! credentials and which trust, decided here once. `app::check` runs them and reports;
//! `service-desk-email verify-custom-email` watches mailboxes built by [`imap_mailbox`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{fail, graph, imap, smtp, Probe};
use crate::model::{MailboxKind, Model};

/// A probe ready to run.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Probe>>>;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Smtp,
    Mailbox(MailboxKind),
    GraphMailer,
    Redis,
    Mattermost,
}

impl Kind {
    /// The settings table it is configured in.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Smtp => "smtp",
            Kind::Mailbox(k) => k.table(),
            Kind::GraphMailer => "microsoft_graph_mailer",
            Kind::Redis => "redis",
            Kind::Mattermost => "mattermost",
        }
    }

    /// Whether its integration is enabled (Redis: `[redis] url` set).
    pub fn enabled(self, m: &Model) -> bool {
        match self {
            Kind::Smtp => m.smtp.enabled,
            Kind::Mailbox(k) => m.mailbox(k).enabled,
            Kind::GraphMailer => m.graph_mailer.enabled,
            Kind::Redis => m.redis.url.is_some(),
            Kind::Mattermost => m.mattermost.enabled(),
        }
    }
}

/// What a single check was asked beyond the settings.
#[derive(Debug, Default)]
pub struct Options {
    /// `--send-to` (the SMTP relay, the Graph mailer).
    pub send_to: Option<String>,
    /// `--allow-plaintext-auth` (the SMTP relay).
    pub allow_plaintext_auth: bool,
}

/// The probe of `kind`. `warnings` are the settings warnings of its table (message,
/// hint): the probe's first rows, or one ok row when there are none. `connect` opens
/// Mattermost's database (the Mattermost probe only).
pub fn probe(
    m: &Model,
    kind: Kind,
    timeout: Duration,
    options: Options,
    warnings: &[(String, String)],
    connect: super::mattermost::Connect,
) -> ProbeFuture {
    match kind {
        Kind::Smtp => smtp_probe(m, timeout, options, warnings),
        Kind::Mailbox(k) => mailbox_probe(m, k, timeout, warnings),
        Kind::GraphMailer => graph_mailer_probe(m, timeout, options.send_to, warnings),
        Kind::Redis => redis_probe(m, timeout, warnings),
        Kind::Mattermost => mattermost_probe(m, timeout, warnings, connect),
    }
}

fn ready(p: Probe) -> ProbeFuture {
    Box::pin(async move { p })
}

/// The settings rows: the warnings resolve found in this table, or one ok row.
fn settings_rows(p: &mut Probe, table: &str, warnings: &[(String, String)]) {
    for (message, hint) in warnings {
        p.warn("settings", message.clone(), hint.clone());
    }
    if warnings.is_empty() {
        p.ok("settings", format!("[{table}] passes every rule"));
    }
}

/// Every secret of the settings into the probe's masker: server text in any probe's rows
/// is masked for all of them (each probe adds what it sends, whatever its length). Short
/// values a probe does not send are left out: masking every `u` of a text hides nothing.
fn register_secrets(p: &Probe, m: &Model) {
    for v in m.secret_values() {
        if v.chars().count() >= 6 {
            p.masker.add(v);
        }
    }
}

/// A new probe with the model's secrets registered and its settings rows.
fn start(
    m: &Model,
    name: &str,
    target: String,
    timeout: Duration,
    table: &str,
    warnings: &[(String, String)],
) -> Probe {
    let mut p = Probe::new(name, target, timeout);
    register_secrets(&p, m);
    settings_rows(&mut p, table, warnings);
    p
}

fn smtp_probe(
    m: &Model,
    timeout: Duration,
    options: Options,
    warnings: &[(String, String)],
) -> ProbeFuture {
    let s = &m.smtp;
    let host = s.address.clone().unwrap_or_default();
    let port = s.port;
    let mut p = start(
        m,
        "smtp",
        format!("{host}:{port}"),
        timeout,
        "smtp",
        warnings,
    );
    if options.send_to.is_some() && m.email.from.is_none() {
        p.fail_now(
            "settings",
            fail(
                "--send-to needs a sender, and `email.from` is not set",
                "set it: `toolctl config set email.from gitlab@example.com`",
            ),
        );
    }
    let user = s.user_name.as_ref().map(|u| u.expose().clone());
    let password = s.password.as_ref().map(|pw| pw.to_zeroizing());
    if let (Some(u), Some(pw)) = (&user, &password) {
        p.masker.add_login(u, pw);
    }
    if s.authentication.as_deref() != Some("none") {
        match (&user, &s.password) {
            (Some(_), Some(pw)) => p.ok(
                "credentials",
                format!("user_name and password from {}", pw.origin()),
            ),
            _ => p.fail_now("credentials", fail("no `user_name` or `password` for the relay", "add them with `toolctl smtp secret edit`, or set `smtp.authentication = \"none\"` for an open relay")),
        }
    }
    let relay = smtp::Relay {
        helo: s.helo().to_string(),
        host,
        port,
        tls: s.tls,
        starttls_auto: s.starttls_auto(),
        allow_plaintext_auth: options.allow_plaintext_auth,
        authentication: s.authentication.clone(),
        user,
        password,
        trust: s.trust(),
        from: m.email.from.clone(),
        send_to: options.send_to,
        message: None,
    };
    Box::pin(async move {
        if p.passed() {
            smtp::probe(&mut p, relay).await;
        }
        p
    })
}

/// What an IMAP mailbox lacks to be probed or watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// `user` or `password`.
    Credentials,
    /// `host`.
    Host,
}

/// The IMAP mailbox of `kind`, as the probe and the custom email verification connect to
/// it: the credentials in `p`'s masker, the trust mail_room uses
/// ([`crate::model::Security::trust`]), and the warning (message, hint) when that trust
/// leaves a written `ca_file` unused.
pub fn imap_mailbox(
    m: &Model,
    kind: MailboxKind,
    p: &mut Probe,
) -> Result<(imap::Mailbox, Option<(String, String)>), Missing> {
    let mb = m.mailbox(kind);
    let (Some(user), Some(password)) = (&mb.user, &mb.password) else {
        return Err(Missing::Credentials);
    };
    let Some(host) = mb.host.clone().filter(|h| !h.is_empty()) else {
        return Err(Missing::Host);
    };
    p.masker.add_login(user.expose(), password.expose());
    let (trust, warning) = mb.security.trust(mb.table());
    Ok((
        imap::Mailbox {
            scope: kind.cli_name(),
            table: kind.table(),
            host,
            port: mb.port,
            ssl: mb.security.implicit(),
            start_tls: mb.security.start_tls(),
            mailbox: mb.mailbox.clone(),
            user: user.expose().clone(),
            password: password.to_zeroizing(),
            trust,
        },
        warning,
    ))
}

fn mailbox_probe(
    m: &Model,
    kind: MailboxKind,
    timeout: Duration,
    warnings: &[(String, String)],
) -> ProbeFuture {
    let mb = m.mailbox(kind);
    let (table, cli) = (kind.table(), kind.cli_name());
    let target = if mb.graph() {
        "Microsoft Graph".to_string()
    } else {
        format!("{}:{}", mb.host.as_deref().unwrap_or_default(), mb.port)
    };
    let mut p = start(m, cli, target, timeout, table, warnings);
    if mb.graph() {
        return graph_mailbox_probe(m, kind, p);
    }
    match imap_mailbox(m, kind, &mut p) {
        Err(Missing::Credentials) => p.fail_now(
            "credentials",
            fail(
                format!("no `user` or `password` for the {cli} mailbox"),
                format!("add them with `toolctl {cli} secret edit`"),
            ),
        ),
        Err(Missing::Host) => p.fail_now(
            "settings",
            fail(
                format!("`{table}.host` is not set"),
                format!("set it: `toolctl config set {table}.host imap.example.com`"),
            ),
        ),
        Ok((mailbox, warning)) => {
            let origin = mb.password.as_ref().map(|s| s.origin()).unwrap_or_default();
            p.ok("credentials", format!("user and password from {origin}"));
            if let Some((message, hint)) = warning {
                p.warn("trust", message, hint);
            }
            return Box::pin(async move {
                imap::probe(&mut p, mailbox).await;
                p
            });
        }
    }
    ready(p)
}

fn graph_mailbox_probe(m: &Model, kind: MailboxKind, mut p: Probe) -> ProbeFuture {
    let mb = m.mailbox(kind);
    let cli = kind.cli_name();
    let o = &mb.inbox_options;
    let (Some(user), Some(client_secret)) = (&mb.user, &o.client_secret) else {
        p.fail_now(
            "credentials",
            fail(
                format!("no `user` or `client_secret` for the {cli} mailbox"),
                format!("add them with `toolctl {cli} secret edit`"),
            ),
        );
        return ready(p);
    };
    p.masker.add_form_value(client_secret.expose());
    p.ok(
        "credentials",
        format!("user and client_secret from {}", client_secret.origin()),
    );
    let app = graph::App {
        azure_ad_endpoint: o.azure_ad_endpoint.clone(),
        graph_endpoint: o.graph_endpoint.clone(),
        tenant: o.tenant_id.clone().unwrap_or_default(),
        client_id: o.client_id.clone().unwrap_or_default(),
        client_secret: client_secret.to_zeroizing(),
        scope: cli,
        table: kind.table(),
    };
    let (user, mailbox) = (user.expose().clone(), mb.mailbox.clone());
    Box::pin(async move {
        graph::mailbox(&mut p, app, user, mailbox).await;
        p
    })
}

fn graph_mailer_probe(
    m: &Model,
    timeout: Duration,
    send_to: Option<String>,
    warnings: &[(String, String)],
) -> ProbeFuture {
    let g = &m.graph_mailer;
    let table = "microsoft_graph_mailer";
    let mut p = start(
        m,
        "microsoft-graph-mailer",
        g.graph_endpoint.clone(),
        timeout,
        table,
        warnings,
    );
    let Some(client_secret) = &g.client_secret else {
        p.fail_now("credentials", fail(
            "no `client_secret` for the Graph mailer; no request was made",
            "add it with `toolctl microsoft-graph-mailer secret edit` (the secret's Value, not its ID)",
        ));
        return ready(p);
    };
    p.masker.add_form_value(client_secret.expose());
    p.ok(
        "credentials",
        format!("client_secret from {}", client_secret.origin()),
    );
    let user_id = g.user_id.clone().unwrap_or_default();
    let from = m.email.from.clone();
    if let Some(from) = &from {
        if user_id.contains('@') && !from.eq_ignore_ascii_case(&user_id) {
            p.warn(
                "sender",
                format!("`email.from` ({from}) is not the authenticated mailbox ({user_id})"),
                "Graph refuses to send as another address (ErrorSendAsDenied) unless Send-As is granted: set `email.from` and `email.reply_to` to the mailbox's address",
            );
        }
    }
    let send_mail = match send_to {
        None => None,
        Some(to) => match from.or_else(|| Some(user_id.clone()).filter(|u| u.contains('@'))) {
            Some(from) => Some(graph::Send {
                user_id: user_id.clone(),
                from,
                to,
            }),
            None => {
                p.fail_now(
                    "send",
                    fail("no sender address", "set `email.from` in toolctl.toml"),
                );
                return ready(p);
            }
        },
    };
    let app = graph::App {
        azure_ad_endpoint: g.azure_ad_endpoint.clone(),
        graph_endpoint: g.graph_endpoint.clone(),
        tenant: g.tenant.clone().unwrap_or_default(),
        client_id: g.client_id.clone().unwrap_or_default(),
        client_secret: client_secret.to_zeroizing(),
        scope: "microsoft-graph-mailer",
        table,
    };
    Box::pin(async move {
        graph::mailer(&mut p, app, send_mail).await;
        p
    })
}

/// The Mattermost probe: database, schema, ping, OAuth endpoints.
fn mattermost_probe(
    m: &Model,
    timeout: Duration,
    warnings: &[(String, String)],
    connect: super::mattermost::Connect,
) -> ProbeFuture {
    let target = super::mattermost::Target::new(m, connect);
    let mut p = Probe::new("mattermost", target.site_url.clone(), timeout);
    register_secrets(&p, m);
    if let Some(pw) = &m.mattermost.sql_password {
        p.masker.add(pw.expose());
    }
    settings_rows(&mut p, "mattermost", warnings);
    Box::pin(async move {
        super::mattermost::probe(&mut p, target).await;
        p
    })
}

/// The Redis step of `check`, whenever `[redis] url` is set.
fn redis_probe(m: &Model, timeout: Duration, warnings: &[(String, String)]) -> ProbeFuture {
    let r = &m.redis;
    let url = r.url.clone().unwrap_or_default();
    let password = r.password.as_ref().map(|pw| pw.to_zeroizing());
    let target = super::redis::Target::from_url(&url, password);
    let shown = target
        .as_ref()
        .map(|t| format!("{}:{}", t.host, t.port))
        // Never the raw URL: one that does not parse may still hold a password.
        .unwrap_or_else(|| "[redis] url".to_string());
    let mut p = Probe::new("redis", shown, timeout);
    register_secrets(&p, m);
    if let Some(password) = &r.password {
        // Short passwords too: this is the exact value the probe sends in AUTH.
        p.masker.add(password.expose());
    }
    settings_rows(&mut p, "redis", warnings);
    Box::pin(async move {
        match target {
            Some(t) => super::redis::probe(&mut p, t).await,
            None => p.fail_now(
                "settings",
                fail("`redis.url` is not a URL", "fix `[redis] url`"),
            ),
        }
        p
    })
}
