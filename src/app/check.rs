//! `toolctl <integration> check` and `toolctl check`: live probes from the resolved
//! settings, so they test exactly what the services will be given.
//!
//! Settings errors in the probed integration's table stop a single check (exit 2: it
//! cannot run); its warnings become the probe's first rows. `check` runs every enabled
//! probe concurrently on one thread (the work is waiting on the network), so its wall time
//! is the slowest probe's; a probe that cannot run is an error row of its own and the
//! others still run ([`crate::report::checks`] decides the exit code; `main` renders the
//! report).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::cli::CheckArgs;
use crate::cli::CheckFormat;
use crate::error::{Error, Result};
use crate::probe::tls::Trust;
use crate::probe::{fail, graph, imap, smtp, Probe};
use crate::report::{checks, Report};
use crate::secrets::Scope;
use crate::settings::resolve::{Resolved, Source};
use crate::Context;

type ProbeFuture = Pin<Box<dyn Future<Output = Probe>>>;

/// What a single check was asked beyond [`CheckArgs`].
#[derive(Debug, Default)]
pub struct Options {
    /// `--send-to` (the SMTP relay, the Graph mailer).
    pub send_to: Option<String>,
    /// `--allow-plaintext-auth` (the SMTP relay).
    pub allow_plaintext_auth: bool,
}

pub fn one(ctx: &Context, scope: Scope, args: &CheckArgs, options: Options) -> Result<Report> {
    let r = ctx.resolve()?;
    let table = scope.table();
    gate(ctx, &r, &[table])?;
    if !enabled(&r, scope) {
        return Err(Error::new(format!(
            "`{table}.enabled` is false; there is nothing to check"
        ))
        .hint(format!(
            "enable it with `toolctl config set {table}.enabled true`, then run the check again"
        )));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    live_mode(ctx, args, false);
    let fut = probe_for(ctx, &r, scope, timeout, options)?;
    finish(vec![fut])
}

pub fn all(ctx: &Context, args: &CheckArgs, allow_plaintext_auth: bool) -> Result<Report> {
    let r = ctx.resolve()?;
    let timeout = Duration::from_secs_f64(args.timeout);
    // Mailboxes are polled only where mail_room runs; elsewhere they hold no credentials.
    let scopes: Vec<Scope> = [
        Scope::Smtp,
        Scope::IncomingEmail,
        Scope::ServiceDeskEmail,
        Scope::MicrosoftGraphMailer,
    ]
    .into_iter()
    .filter(|s| enabled(&r, *s))
    .filter(|s| {
        !matches!(s, Scope::IncomingEmail | Scope::ServiceDeskEmail) || r.bool("mailroom.enable")
    })
    .collect();
    let redis = r.str("redis.url").is_some();
    let mattermost = r.mattermost_enabled();
    if scopes.is_empty() && !redis && !mattermost {
        return Err(Error::new("no integration with a probe is enabled; there is nothing to check").hint(
            "enable one in toolctl.toml (`smtp.enabled`, `incoming_email.enabled`, …); mailboxes are checked where `mailroom.enable` is true",
        ));
    }
    live_mode(ctx, args, true);
    let mut futures = Vec::new();
    // One broken integration is error rows of its own (one per finding); the others
    // still run.
    let errors_of = |table: &str| -> Vec<(String, String)> {
        r.errors()
            .filter(|d| d.key == table || d.key.starts_with(&format!("{table}.")))
            .map(|d| (d.message.clone(), d.hint.clone()))
            .collect()
    };
    let broken = |name: &str, table: &str, errors: &[(String, String)]| -> ProbeFuture {
        let mut p = broken(name, format!("[{table}]"), errors);
        p.timeout = timeout;
        Box::pin(async move { p })
    };
    for s in scopes {
        let table = s.table();
        let errors = errors_of(table);
        let errors = if errors.is_empty() {
            let options = Options {
                send_to: None,
                allow_plaintext_auth,
            };
            match probe_for(ctx, &r, s, timeout, options) {
                Ok(fut) => {
                    futures.push(fut);
                    continue;
                }
                Err(e) => vec![(e.to_string(), e.hint_text().unwrap_or_default().to_string())],
            }
        } else {
            errors
        };
        futures.push(broken(s.cli_name(), table, &errors));
    }
    for (on, name, probe) in [
        (
            redis,
            "redis",
            redis_probe as fn(&Resolved, Duration) -> ProbeFuture,
        ),
        (mattermost, "mattermost", mattermost_probe),
    ] {
        if on {
            let errors = errors_of(name);
            futures.push(if errors.is_empty() {
                probe(&r, timeout)
            } else {
                broken(name, name, &errors)
            });
        }
    }
    finish(futures)
}

/// Rows on stderr as steps end (a terminal, human output, not `-q`), and the `-v`
/// transcript; stdout keeps the final table or the one JSON document.
fn live_mode(ctx: &Context, args: &CheckArgs, concurrent: bool) {
    use std::io::IsTerminal;
    crate::probe::live::init(crate::probe::live::Mode {
        progress: std::io::stderr().is_terminal()
            && args.report.output_format == CheckFormat::Human
            && !ctx.printer.quiet,
        transcript: ctx.printer.verbose > 0,
        concurrent,
    });
}

fn enabled(r: &Resolved, scope: Scope) -> bool {
    r.bool(&format!("{}.enabled", scope.table()))
}

/// Settings errors in these tables: the check cannot run.
fn gate(ctx: &Context, r: &Resolved, tables: &[&str]) -> Result<()> {
    let relevant = r.errors().filter(|d| {
        tables
            .iter()
            .any(|t| d.key == *t || d.key.starts_with(&format!("{t}.")))
    });
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        relevant,
        "the check did not run",
    )
}

fn run(futures: Vec<ProbeFuture>) -> Result<Vec<Probe>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("cannot start the async runtime").cause(e))?;
    Ok(rt.block_on(futures::future::join_all(futures)))
}

/// Runs the probes, ends their live rows, and reports them.
fn finish(futures: Vec<ProbeFuture>) -> Result<Report> {
    let probes = run(futures)?;
    for p in &probes {
        p.live.done();
    }
    let checks: Vec<checks::Check> = probes.iter().map(to_check).collect();
    let mut report = Report::new().with_status(checks::exit_status(&checks));
    report.checks(checks);
    Ok(report)
}

/// A probe as the report shows it.
fn to_check(p: &Probe) -> checks::Check {
    use crate::probe::Status as P;
    checks::Check {
        name: p.name.clone(),
        target: p.target.clone(),
        steps: p
            .steps
            .iter()
            .map(|s| checks::Step {
                name: s.name.clone(),
                status: match s.status {
                    P::Ok => checks::Status::Ok,
                    P::Warn => checks::Status::Warn,
                    P::Fail => checks::Status::Fail,
                    P::Skipped => checks::Status::Skipped,
                    P::Error => checks::Status::Error,
                },
                elapsed: s.elapsed,
                detail: s.detail.clone(),
                hint: s.hint.clone(),
            })
            .collect(),
    }
}

/// A probe that could not run: one `settings` error row per reason, with its fix.
fn broken(name: &str, target: String, reasons: &[(String, String)]) -> Probe {
    let mut p = Probe::new(name, target, Duration::ZERO);
    for (detail, hint) in reasons {
        p.steps.push(crate::probe::Step {
            name: "settings".to_string(),
            status: crate::probe::Status::Error,
            elapsed: Duration::ZERO,
            detail: detail.clone(),
            hint: Some(hint.clone()),
        });
    }
    p
}

/// The settings rows: the warnings resolve found in this table, or one ok row.
fn settings_rows(p: &mut Probe, r: &Resolved, table: &str) {
    let mut any = false;
    for d in r
        .warnings()
        .filter(|d| d.key.starts_with(&format!("{table}.")))
    {
        p.warn("settings", d.message.clone(), d.hint.clone());
        any = true;
    }
    if !any {
        p.ok("settings", format!("[{table}] passes every rule"));
    }
}

fn secret(r: &Resolved, key: &str) -> Option<Zeroizing<String>> {
    r.str(key).map(|s| Zeroizing::new(s.to_string()))
}

fn source_of(r: &Resolved, key: &str) -> String {
    match r.values.get(key) {
        Some((_, Source::Secret(scope))) => format!("the {scope} secret"),
        Some((_, Source::File(line))) => format!("toolctl.toml:{line} (plaintext)"),
        _ => "nowhere".into(),
    }
}

fn trust(ctx: &Context, r: &Resolved, table: &str) -> Trust {
    Trust {
        ca_file: r
            .str(&format!("{table}.ca_file"))
            .map(|w| (w.to_string(), ctx.paths.rooted(w))),
        verify: r.str(&format!("{table}.openssl_verify_mode")) != Some("none"),
        unknown_issuer_hint: None,
    }
}

/// A mailbox's trust, decided as mail_room decides it: `ca_file` only with implicit TLS;
/// with STARTTLS mail_room calls `starttls` with no options, so only the system store
/// (which honours `SSL_CERT_FILE`/`SSL_CERT_DIR`, as OpenSSL does). A `ca_file` there is
/// warned about and not used.
pub(crate) fn mailbox_trust(ctx: &Context, r: &Resolved, table: &str, p: &mut Probe) -> Trust {
    let mut t = trust(ctx, r, table);
    if r.bool(&format!("{table}.start_tls")) && !r.bool(&format!("{table}.ssl")) {
        if let Some((written, _)) = t.ca_file.take() {
            p.warn(
                "trust",
                format!("mail_room ignores `{table}.ca_file` ({written}) with STARTTLS: verifying against the system CA store only, as it will"),
                format!("install the CA in the system store (`update-ca-certificates`), or use implicit TLS (`{table}.ssl = true`, port 993) with `ca_file`"),
            );
            t.unknown_issuer_hint = Some(format!(
                "mail_room trusts only the system CA store with STARTTLS: install the CA there (copy it to /usr/local/share/ca-certificates/ and run `update-ca-certificates`), or use implicit TLS (`{table}.ssl = true`, `{table}.start_tls = false`, port 993) with `ca_file`"
            ));
        }
    }
    t
}

/// Every secret of the settings into the probe's masker: server text in any probe's rows
/// is masked for all of them (each probe adds what it sends, whatever its length). Short
/// values a probe does not send are left out: masking every `u` of a text hides nothing.
fn register_secrets(p: &Probe, r: &Resolved) {
    for v in r.secret_values() {
        if v.chars().count() >= 6 {
            p.masker.add(v);
        }
    }
}

/// `toolctl mattermost check` (after finishing or rolling back an interrupted restore).
pub fn mattermost(ctx: &Context, args: &CheckArgs) -> Result<Report> {
    let r = ctx.resolve()?;
    gate(ctx, &r, &["mattermost"])?;
    if !r.mattermost_enabled() {
        return Err(Error::new("`mattermost.external_url` is not set; there is nothing to check")
            .hint("set it with `toolctl config set mattermost.external_url https://mattermost.example.com`"));
    }
    super::mattermost::recover(ctx, &r)?;
    live_mode(ctx, args, false);
    let fut = mattermost_probe(&r, Duration::from_secs_f64(args.timeout));
    finish(vec![fut])
}

/// The Mattermost probe: database, schema, ping, OAuth endpoints.
fn mattermost_probe(r: &Resolved, timeout: Duration) -> ProbeFuture {
    let target = crate::probe::mattermost::Target::new(r);
    let mut p = Probe::new("mattermost", target.site_url.clone(), timeout);
    register_secrets(&p, r);
    if let Some(pw) = secret(r, "mattermost.sql_password") {
        p.masker.add(&pw);
    }
    settings_rows(&mut p, r, "mattermost");
    Box::pin(async move {
        crate::probe::mattermost::probe(&mut p, target).await;
        p
    })
}

/// The Redis step of `check`, whenever `[redis] url` is set.
fn redis_probe(r: &Resolved, timeout: Duration) -> ProbeFuture {
    let url = r.str("redis.url").unwrap_or_default().to_string();
    let target = crate::probe::redis::Target::from_url(&url, secret(r, "redis.password"));
    let shown = target
        .as_ref()
        .map(|t| format!("{}:{}", t.host, t.port))
        // Never the raw URL: one that does not parse may still hold a password.
        .unwrap_or_else(|| "[redis] url".to_string());
    let mut p = Probe::new("redis", shown, timeout);
    register_secrets(&p, r);
    if let Some(password) = secret(r, "redis.password") {
        // Short passwords too: this is the exact value the probe sends in AUTH.
        p.masker.add(&password);
    }
    settings_rows(&mut p, r, "redis");
    Box::pin(async move {
        match target {
            Some(t) => crate::probe::redis::probe(&mut p, t).await,
            None => p.fail_now(
                "settings",
                fail("`redis.url` is not a URL", "fix `[redis] url`"),
            ),
        }
        p
    })
}

fn probe_for(
    ctx: &Context,
    r: &Resolved,
    scope: Scope,
    timeout: Duration,
    options: Options,
) -> Result<ProbeFuture> {
    let Options {
        send_to,
        allow_plaintext_auth,
    } = options;
    let table = scope.table();
    match scope {
        Scope::Smtp => {
            let host = r.str("smtp.address").unwrap_or_default().to_string();
            let port = r.int("smtp.port").unwrap_or(587) as u16;
            let mut p = Probe::new("smtp", format!("{host}:{port}"), timeout);
            register_secrets(&p, r);
            settings_rows(&mut p, r, table);
            if send_to.is_some() && r.str("email.from").is_none() {
                p.fail_now(
                    "settings",
                    fail(
                        "--send-to needs a sender, and `email.from` is not set",
                        "set it: `toolctl config set email.from gitlab@example.com`",
                    ),
                );
            }
            let authentication = r.str("smtp.authentication").map(str::to_string);
            let (user, password) = (
                r.str("smtp.user_name").map(str::to_string),
                secret(r, "smtp.password"),
            );
            if let (Some(u), Some(pw)) = (&user, &password) {
                p.masker.add_login(u, pw);
            }
            if authentication.as_deref() != Some("none") {
                match (&user, &password) {
                    (Some(_), Some(_)) => p.ok("credentials", format!("user_name and password from {}", source_of(r, "smtp.password"))),
                    _ => p.fail_now("credentials", fail("no `user_name` or `password` for the relay", "add them with `toolctl smtp secret edit`, or set `smtp.authentication = \"none\"` for an open relay")),
                }
            }
            let relay = smtp::Relay {
                helo: r.str("smtp.domain").unwrap_or("localhost").to_string(),
                host,
                port,
                tls: r.bool("smtp.tls"),
                starttls_auto: r.bool("smtp.enable_starttls_auto"),
                allow_plaintext_auth,
                authentication,
                user,
                password,
                trust: trust(ctx, r, table),
                from: r.str("email.from").map(str::to_string),
                send_to,
                message: None,
            };
            Ok(Box::pin(async move {
                if p.passed() {
                    smtp::probe(&mut p, relay).await;
                }
                p
            }))
        }
        Scope::IncomingEmail | Scope::ServiceDeskEmail => {
            let k = |leaf: &str| format!("{table}.{leaf}");
            let graph = r.str(&k("inbox_method")) == Some("microsoft_graph");
            let host = r.str(&k("host")).unwrap_or_default().to_string();
            let port = r.int(&k("port")).unwrap_or(993) as u16;
            let target = if graph {
                "Microsoft Graph".to_string()
            } else {
                format!("{host}:{port}")
            };
            let mut p = Probe::new(scope.cli_name(), target, timeout);
            register_secrets(&p, r);
            settings_rows(&mut p, r, table);
            if graph {
                let (Some(user), Some(client_secret)) = (
                    r.str(&k("user")).map(str::to_string),
                    secret(r, &k("inbox_options.client_secret")),
                ) else {
                    p.fail_now(
                        "credentials",
                        fail(
                            format!(
                                "no `user` or `client_secret` for the {} mailbox",
                                scope.cli_name()
                            ),
                            format!("add them with `toolctl {scope} secret edit`"),
                        ),
                    );
                    return Ok(Box::pin(async move { p }));
                };
                p.masker.add_form_value(&client_secret);
                p.ok(
                    "credentials",
                    format!(
                        "user and client_secret from {}",
                        source_of(r, &k("inbox_options.client_secret"))
                    ),
                );
                let app = graph::App {
                    azure_ad_endpoint: r
                        .str(&k("inbox_options.azure_ad_endpoint"))
                        .unwrap_or_default()
                        .to_string(),
                    graph_endpoint: r
                        .str(&k("inbox_options.graph_endpoint"))
                        .unwrap_or_default()
                        .to_string(),
                    tenant: r
                        .str(&k("inbox_options.tenant_id"))
                        .unwrap_or_default()
                        .to_string(),
                    client_id: r
                        .str(&k("inbox_options.client_id"))
                        .unwrap_or_default()
                        .to_string(),
                    client_secret,
                    scope: scope.cli_name(),
                    table,
                };
                let mailbox = r.str(&k("mailbox")).unwrap_or("inbox").to_string();
                return Ok(Box::pin(async move {
                    graph::mailbox(&mut p, app, user, mailbox).await;
                    p
                }));
            }
            let (user, password) = (
                r.str(&k("user")).map(str::to_string),
                secret(r, &k("password")),
            );
            let (Some(user), Some(password)) = (user, password) else {
                p.fail_now(
                    "credentials",
                    fail(
                        format!(
                            "no `user` or `password` for the {} mailbox",
                            scope.cli_name()
                        ),
                        format!("add them with `toolctl {scope} secret edit`"),
                    ),
                );
                return Ok(Box::pin(async move { p }));
            };
            if host.is_empty() {
                p.fail_now(
                    "settings",
                    fail(
                        format!("`{table}.host` is not set"),
                        format!("set it: `toolctl config set {table}.host imap.example.com`"),
                    ),
                );
                return Ok(Box::pin(async move { p }));
            }
            p.masker.add_login(&user, &password);
            p.ok(
                "credentials",
                format!("user and password from {}", source_of(r, &k("password"))),
            );
            let mailbox_trust = mailbox_trust(ctx, r, table, &mut p);
            let mailbox = imap::Mailbox {
                scope: scope.cli_name(),
                table,
                host,
                port,
                ssl: r.bool(&k("ssl")),
                start_tls: r.bool(&k("start_tls")),
                mailbox: r.str(&k("mailbox")).unwrap_or("inbox").to_string(),
                user,
                password,
                trust: mailbox_trust,
            };
            Ok(Box::pin(async move {
                imap::probe(&mut p, mailbox).await;
                p
            }))
        }
        Scope::MicrosoftGraphMailer => {
            let k = |leaf: &str| format!("{table}.{leaf}");
            let graph_endpoint = r.str(&k("graph_endpoint")).unwrap_or_default().to_string();
            let mut p = Probe::new("microsoft-graph-mailer", graph_endpoint.clone(), timeout);
            register_secrets(&p, r);
            settings_rows(&mut p, r, table);
            let Some(client_secret) = secret(r, &k("client_secret")) else {
                p.fail_now("credentials", fail(
                    "no `client_secret` for the Graph mailer; no request was made",
                    "add it with `toolctl microsoft-graph-mailer secret edit` (the secret's Value, not its ID)",
                ));
                return Ok(Box::pin(async move { p }));
            };
            p.masker.add_form_value(&client_secret);
            p.ok(
                "credentials",
                format!("client_secret from {}", source_of(r, &k("client_secret"))),
            );
            let user_id = r.str(&k("user_id")).unwrap_or_default().to_string();
            let from = r.str("email.from").map(str::to_string);
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
                Some(to) => {
                    match from.or_else(|| Some(user_id.clone()).filter(|u| u.contains('@'))) {
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
                            return Ok(Box::pin(async move { p }));
                        }
                    }
                }
            };
            let app = graph::App {
                azure_ad_endpoint: r
                    .str(&k("azure_ad_endpoint"))
                    .unwrap_or_default()
                    .to_string(),
                graph_endpoint,
                tenant: r.str(&k("tenant")).unwrap_or_default().to_string(),
                client_id: r.str(&k("client_id")).unwrap_or_default().to_string(),
                client_secret,
                scope: "microsoft-graph-mailer",
                table,
            };
            Ok(Box::pin(async move {
                graph::mailer(&mut p, app, send_mail).await;
                p
            }))
        }
        Scope::Mattermost | Scope::Mailroom | Scope::Redis | Scope::CustomEmail => {
            unreachable!("no probe for {scope}")
        }
    }
}
