//! `toolctl service-desk-email address | templates check|preview | verify-custom-email`.
//!
//! The rules live in `crate::servicedesk`; this module reads the settings, the template
//! files and the custom-email secret, prints, and decides the exit status. The
//! verification sends through `probe::smtp` and watches through `probe::imap` (read-only:
//! EXAMINE and SEARCH), so it trusts and masks exactly as the probes do.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::Zeroizing;

use crate::cli::{SdAddressArgs, SdPreviewArgs, SdVerifyArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::model::MailboxKind;
use crate::probe::tls::Trust;
use crate::probe::{fail, imap, smtp, Probe, Status};
use crate::report::{self, Report};
use crate::secrets::Scope;
use crate::servicedesk::address::{self, Configured, ProjectAddress};
use crate::servicedesk::templates::{self, Finding, Severity};
use crate::servicedesk::verify::{self, Outcome, Reading};
use crate::sys::term::one_line;
use crate::Context;

/// The largest template read (GitLab's templates are a few KiB).
const TEMPLATE_CAP: u64 = 1 << 20;

/// The JSON document of `servicedesk-email address`.
#[derive(Serialize)]
struct AddressDocument<'a> {
    project: &'a str,
    project_id: u64,
    addresses: Vec<AddressRow<'a>>,
}

#[derive(Serialize)]
struct AddressRow<'a> {
    source: &'a str,
    key: &'a str,
    address: &'a str,
}

/// `servicedesk-email address`: a project's addresses.
pub fn address(ctx: &Context, a: &SdAddressArgs) -> Result<Report> {
    let mut out = Report::new();
    let found = addresses(
        ctx,
        &a.project.project,
        a.project.project_id,
        a.suffix.as_deref(),
    )?;
    out.set_payload(&AddressDocument {
        project: &a.project.project,
        project_id: a.project.project_id,
        addresses: found
            .iter()
            .map(|p| AddressRow {
                source: p.source,
                key: &p.key,
                address: &p.address,
            })
            .collect(),
    });
    for p in &found {
        out.text(format!("{}\t{}\n", p.address, p.source));
    }
    Ok(out)
}

/// The project's addresses from the resolved settings.
fn addresses(
    ctx: &Context,
    project: &str,
    id: u64,
    suffix: Option<&str>,
) -> Result<Vec<ProjectAddress>> {
    let r = ctx.resolve()?;
    let (incoming, sd) = (&r.model.incoming, &r.model.service_desk);
    if sd.enabled && sd.address.is_none() {
        return Err(Error::new(
            "`service_desk_email.enabled` is true, but `service_desk_email.address` is not set",
        )
        .hint("set it, e.g. `toolctl config set service_desk_email.address 'contact+%{key}@example.com'`, or disable the alias"));
    }
    let c = Configured {
        incoming_email: incoming.address.as_deref(),
        service_desk_email: if sd.enabled {
            sd.address.as_deref()
        } else {
            None
        },
    };
    address::project_addresses(&c, project, id, suffix)
        .map_err(|e| Error::new(e.message).hint(e.hint))
}

/// The JSON document of `servicedesk-email templates check`.
#[derive(Serialize)]
struct TemplatesDocument<'a> {
    dir: String,
    files: &'a [String],
    errors: usize,
    warnings: usize,
    findings: Vec<FindingRow<'a>>,
}

#[derive(Serialize)]
struct FindingRow<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    hint: &'a str,
}

/// `servicedesk-email templates check DIR`: every template of the directory linted; exit 1
/// on an error.
pub fn check_templates(dir: &Path) -> Result<Report> {
    let names = template_names(dir)?;
    let mut findings: Vec<Finding> = Vec::new();
    for name in &names {
        if !templates::FILES.contains(&name.as_str()) {
            findings.push(templates::unknown_file(name));
            continue;
        }
        let text = read_template(&dir.join(name))?;
        findings.extend(templates::lint(name, &text));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let mut out = Report::new().with_status(if errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    });
    out.set_payload(&TemplatesDocument {
        dir: dir.display().to_string(),
        files: &names,
        errors,
        warnings,
        findings: findings
            .iter()
            .map(|f| FindingRow {
                file: &f.file,
                line: f.line,
                column: f.column,
                severity: f.severity.label(),
                code: f.code,
                message: &f.message,
                hint: &f.hint,
            })
            .collect(),
    });
    if findings.is_empty() {
        out.text(format!(
            "{}: {} template(s), no findings\n",
            one_line(&dir.display().to_string()),
            names.len()
        ));
    } else {
        let t = findings_table(&findings);
        out.text(format!("{t}\n{errors} error(s), {warnings} warning(s)\n"));
    }
    Ok(out)
}

/// The names in the templates directory, sorted.
fn template_names(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io("read", dir, e)
            .hint("give the project's .gitlab/service_desk_templates directory")
    })?;
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io("read", dir, e))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// One template's text (capped, UTF-8).
fn read_template(path: &Path) -> Result<String> {
    let bytes =
        crate::fsutil::read_optional_capped(path, TEMPLATE_CAP, "template")?.unwrap_or_default();
    String::from_utf8(bytes).map_err(|e| {
        Error::new(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            one_line(&path.display().to_string()),
            e.utf8_error().valid_up_to()
        ))
        .hint("save the template as UTF-8")
    })
}

fn findings_table(findings: &[Finding]) -> report::Table {
    let mut t = report::table(&["file", "at", "severity", "finding", "hint"]);
    for f in findings {
        // A file name (and a message naming it) is anyone's text: no escape sequence
        // reaches the terminal.
        t.add_row(vec![
            one_line(&f.file).into_owned(),
            if f.line == 0 {
                "-".into()
            } else {
                format!("{}:{}", f.line, f.column)
            },
            f.severity.label().to_string(),
            one_line(&f.message).into_owned(),
            one_line(&f.hint).into_owned(),
        ]);
    }
    t
}

pub fn preview(a: &SdPreviewArgs) -> Result<Report> {
    let mut out = Report::new();
    let name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !templates::FILES.contains(&name.as_str()) {
        return Err(Error::new(format!(
            "`{}` is not a template GitLab reads",
            one_line(&a.file.display().to_string())
        ))
        .hint(format!("name it one of {}", templates::FILES.join(", "))));
    }
    let bytes = crate::fsutil::read_optional_capped(&a.file, TEMPLATE_CAP, "template")?
        .ok_or_else(|| {
            Error::new(format!(
                "`{}` does not exist",
                one_line(&a.file.display().to_string())
            ))
            .hint("give the path of a template file")
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::new(format!(
            "{}: not UTF-8 text",
            one_line(&a.file.display().to_string())
        ))
        .hint("save it as UTF-8")
    })?;
    let given = [
        ("ISSUE_ID", &a.issue_id),
        ("ISSUE_PATH", &a.issue_path),
        ("ISSUE_URL", &a.issue_url),
        ("ISSUE_DESCRIPTION", &a.issue_description),
        ("UNSUBSCRIBE_URL", &a.unsubscribe_url),
        ("NOTE_TEXT", &a.note_text),
        ("SYSTEM_HEADER", &a.system_header),
        ("SYSTEM_FOOTER", &a.system_footer),
        ("ADDITIONAL_TEXT", &a.additional_text),
    ];
    let values: Vec<(&str, String)> = templates::PLACEHOLDERS
        .iter()
        .map(|(n, sample)| {
            let v = given
                .iter()
                .find(|(g, _)| g == n)
                .and_then(|(_, v)| (*v).clone())
                .unwrap_or_else(|| sample.to_string());
            (*n, v)
        })
        .collect();
    let html = templates::preview(&name, &text, &values);
    if a.open {
        let file = tempfile::Builder::new()
            .prefix("toolctl-preview-")
            .suffix(".html")
            .tempfile()
            .map_err(|e| Error::new("cannot create a temporary file").cause(e))?;
        let doc = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name}</title></head><body>\n{html}</body></html>\n"
        );
        std::fs::write(file.path(), doc).map_err(|e| Error::io("write", file.path(), e))?;
        let (_, path) = file
            .keep()
            .map_err(|e| Error::new("cannot keep the temporary file").cause(e.error))?;
        out.text(format!("{}\n", path.display()));
    } else {
        out.text(html);
    }
    Ok(out)
}

/// `--within 30m`: a humantime duration, more than 0 and at most a day.
fn within(text: &str) -> Result<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) if !d.is_zero() && d <= Duration::from_secs(86_400) => Ok(d),
        _ => Err(
            Error::new(format!("`--within {text}` is not a usable duration"))
                .hint("give a duration such as `30m`, `90s` or `1h` (GitLab allows 30 minutes)"),
        ),
    }
}

/// The credentials of the custom-email secret (a password of the length GitLab accepts).
fn credentials(ctx: &Context) -> Result<(String, Zeroizing<String>)> {
    let store = ctx.store();
    let missing = || {
        Error::new("the custom-email secret has no `user_name` and `password`")
            .hint("write them: `toolctl custom-email secret edit` (user_name, password)")
    };
    if !store.file(Scope::CustomEmail).exists() {
        return Err(missing());
    }
    let key = store.key()?;
    let plain = store.read(Scope::CustomEmail, &key)?.ok_or_else(missing)?;
    let entries = crate::secrets::schema::parse(Scope::CustomEmail, &plain)
        .map_err(|e| crate::secrets::store::invalid(Scope::CustomEmail, e))?;
    let get = |k: &str| {
        entries
            .iter()
            .find(|e| e.key == k)
            .map(|e| Zeroizing::new(e.value.to_string()))
    };
    let (Some(user), Some(password)) = (get("user_name"), get("password")) else {
        return Err(missing());
    };
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(Error::new(format!(
            "the custom-email `password` is {n} characters long; GitLab requires 8 to 128"
        ))
        .hint("fix it with `toolctl custom-email secret set password`"));
    }
    Ok((user.to_string(), password))
}

/// One mailbox to watch, built as `check` builds it ([`crate::probe::plan::imap_mailbox`]).
fn watch_mailbox(
    r: &crate::settings::resolve::Resolved,
    kind: MailboxKind,
    p: &mut Probe,
) -> Result<imap::Mailbox> {
    let (table, scope) = (kind.table(), kind.cli_name());
    if r.model.mailbox(kind).graph() {
        return Err(Error::new(format!(
            "`{table}.inbox_method` is microsoft_graph: the verification watches mailboxes over IMAP only"
        ))
        .hint("run the verification from GitLab's settings page for a Graph mailbox"));
    }
    match crate::probe::plan::imap_mailbox(&r.model, kind, p) {
        Ok((mailbox, warning)) => {
            if let Some((message, hint)) = warning {
                p.warn("trust", message, hint);
            }
            Ok(mailbox)
        }
        Err(_) => Err(Error::new(format!(
            "the {scope} mailbox has no `host`, `user` or `password` to watch it with"
        ))
        .hint(format!(
            "set `{table}.host` and the secret (`toolctl {scope} secret edit`); `toolctl {scope} check` tests them"
        ))),
    }
}

/// The verification's result: the outcome (when one was reached) and its detail.
struct Verdict {
    outcome: Option<Outcome>,
    detail: String,
    hint: String,
}

impl Verdict {
    /// The verification ended before GitLab's reading of a mail could be given.
    fn unreached(detail: impl Into<String>, hint: impl Into<String>) -> Verdict {
        Verdict {
            outcome: None,
            detail: detail.into(),
            hint: hint.into(),
        }
    }
}

/// The SMTP probe's hints name the [smtp] relay; here the credentials are custom-email's.
fn relay_hint(h: &str) -> String {
    h.replace(
        "toolctl smtp secret edit",
        "toolctl custom-email secret edit",
    )
    .replace("`smtp.authentication`", "`--smtp-authentication`")
    .replace(
        "set `smtp.tls = true` (and leave `smtp.enable_starttls_auto` unset) for port 465",
        "port 465 is implicit TLS",
    )
    .replace("(`smtp.tls = true`, port 465)", "(`--smtp-port 465`)")
}

/// What the verification sends and watches, all checked before anything is sent.
struct Plan {
    /// The Service Desk address the custom address must forward to.
    target: String,
    alias_targets: Vec<String>,
    token: String,
    /// The mailboxes watched, each with its probe.
    watch: Vec<(Probe, imap::Mailbox)>,
    send: Probe,
    timeout: Duration,
    within: Duration,
}

/// How the watch waits, and whether it shows it.
struct Wait {
    timeout: Duration,
    within: Duration,
    /// Progress only for a person watching: a terminal on stderr, and not with -q.
    live: bool,
    interrupted: Arc<AtomicBool>,
}

type Session = async_imap::Session<crate::probe::net::Conn>;

/// `servicedesk-email verify-custom-email`: sends GitLab's verification mail through the
/// custom address's relay and watches the Service Desk mailboxes for it, judging it as
/// GitLab would.
pub fn verify_custom_email(ctx: &Context, a: &SdVerifyArgs) -> Result<Report> {
    let (mut plan, relay) = plan(ctx, a)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone());
    let wait = Wait {
        timeout: plan.timeout,
        within: plan.within,
        live: !ctx.printer.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        interrupted: interrupted.clone(),
    };
    let expected = verify::Expected {
        address: &a.address,
        project: &a.project.project,
        token: &plan.token,
        target: &plan.target,
        alias_targets: &plan.alias_targets,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("cannot start the async runtime").cause(e))?;
    let verdict = rt.block_on(send_and_watch(
        &mut plan.watch,
        &mut plan.send,
        relay,
        &expected,
        &wait,
    ));
    Ok(verification_report(
        a,
        &plan,
        verdict,
        interrupted.load(Ordering::SeqCst),
    ))
}

/// Everything the verification needs, checked in the order an administrator fixes it:
/// the arguments, the settings, the project's addresses, the credentials, the mailboxes.
fn plan(ctx: &Context, a: &SdVerifyArgs) -> Result<(Plan, smtp::Relay)> {
    if !address::valid_custom_email(&a.address) {
        return Err(Error::new(format!(
            "`--address {}` is not an address GitLab accepts as a custom email",
            a.address
        ))
        .hint("give a plain address such as support@example.com: letters, digits, `.`, `-`, `_`, no `+` (GitLab adds `+verify` itself)"));
    }
    super::check_seconds(a.timeout)?;
    let within = within(&a.within)?;
    let r = ctx.resolve()?;
    if let Some(d) = r
        .errors()
        .find(|d| d.key.starts_with("incoming_email.") || d.key.starts_with("service_desk_email."))
    {
        return Err(super::diag_error(&ctx.paths.config, d));
    }
    let found = addresses(ctx, &a.project.project, a.project.project_id, None)?;
    let target = a
        .service_desk_address
        .clone()
        .unwrap_or_else(|| found[0].address.clone());
    let alias_targets: Vec<String> = found
        .iter()
        .filter(|p| p.source == "service_desk_email")
        .map(|p| p.address.clone())
        .collect();
    let (user, password) = credentials(ctx)?;
    let timeout = Duration::from_secs_f64(a.timeout);
    let watch = watched(&r, timeout)?;
    let token = verify::token()
        .map_err(|e| Error::new("cannot read random bytes from the kernel").cause(e))?;
    let helo = r.model.smtp.helo().to_string();
    let mail = verify::message(&a.address, &a.project.project, &token, &helo).map_err(|e| {
        Error::new(e.to_string()).hint("give a plain address such as support@example.com")
    })?;
    let send = Probe::new(
        "custom-email smtp",
        format!("{}:{}", a.smtp_address, a.smtp_port),
        timeout,
    );
    send.masker.add_login(&user, &password);
    let relay = relay(a, user, password, helo, mail);
    let plan = Plan {
        target,
        alias_targets,
        token,
        watch,
        send,
        timeout,
        within,
    };
    Ok((plan, relay))
}

/// The mailboxes to watch: incoming_email's, and service_desk_email's when it is enabled.
fn watched(
    r: &crate::settings::resolve::Resolved,
    timeout: Duration,
) -> Result<Vec<(Probe, imap::Mailbox)>> {
    let mut kinds = vec![(MailboxKind::Incoming, "incoming-email")];
    if r.model.service_desk.enabled {
        kinds.push((MailboxKind::ServiceDesk, "service-desk-email"));
    }
    let mut watch = Vec::new();
    for (kind, name) in kinds {
        let mut p = Probe::new(name, String::new(), timeout);
        let m = watch_mailbox(r, kind, &mut p)?;
        p.target = format!("{}:{} \"{}\"", m.host, m.port, m.mailbox);
        watch.push((p, m));
    }
    Ok(watch)
}

/// The custom address's relay, from the command line and the custom-email secret.
fn relay(
    a: &SdVerifyArgs,
    user: String,
    password: Zeroizing<String>,
    helo: String,
    mail: Vec<u8>,
) -> smtp::Relay {
    smtp::Relay {
        host: a.smtp_address.clone(),
        port: a.smtp_port,
        tls: a.smtp_port == 465,
        starttls_auto: true,
        allow_plaintext_auth: a.plaintext.allow_plaintext_auth,
        authentication: a.smtp_authentication.clone(),
        helo,
        user: Some(user),
        password: Some(password),
        trust: match &a.ca_file {
            Some(p) => Trust {
                ca_file: Some((p.display().to_string(), p.clone())),
                verify: true,
                unknown_issuer_hint: None,
            },
            None => Trust::system(),
        },
        from: Some(a.address.clone()),
        send_to: Some(address::verify_address(&a.address)),
        message: Some(mail),
    }
}

/// Logs in to the mailboxes, sends, and watches for the mail. `None` when a mailbox could
/// not be opened (its probe's failed step says why).
async fn send_and_watch(
    watch: &mut [(Probe, imap::Mailbox)],
    send: &mut Probe,
    relay: smtp::Relay,
    expected: &verify::Expected<'_>,
    wait: &Wait,
) -> Option<Verdict> {
    let mut sessions = open_sessions(watch).await?;
    crate::failpoint::hit("servicedesk-verify-send");
    smtp::probe(send, relay).await;
    if let Some(v) = send_failure(send) {
        return Some(v);
    }
    crate::failpoint::hit("servicedesk-verify-watch");
    let mailboxes: Vec<&imap::Mailbox> = watch.iter().map(|(_, m)| m).collect();
    Some(watch_for_mail(&mut sessions, &mailboxes, expected, wait).await)
}

/// Logs in and notes where each mailbox ends before sending, so that only mail that
/// arrives after the send is read (an older verification mail is not this one).
async fn open_sessions(watch: &mut [(Probe, imap::Mailbox)]) -> Option<Vec<(Session, u32)>> {
    let mut sessions = Vec::new();
    for (p, m) in watch.iter_mut() {
        let mut s = imap::login(p, m).await?;
        let next = p
            .step("mailbox", async {
                let mb = s.examine(&m.mailbox).await.map_err(|_| {
                    fail(
                        format!("cannot open mailbox \"{}\"", m.mailbox),
                        format!("check `{}.mailbox`", m.table),
                    )
                })?;
                let next = mb.uid_next.unwrap_or(1);
                Ok((
                    next,
                    format!("\"{}\" (read-only): {} messages", m.mailbox, mb.exists),
                ))
            })
            .await?;
        sessions.push((s, next));
    }
    Some(sessions)
}

/// The verdict when the send failed: GitLab's outcome for it.
fn send_failure(send: &Probe) -> Option<Verdict> {
    let f = send.steps.iter().find(|s| s.status == Status::Fail)?;
    let outcome = if f.name == "auth" && f.detail.contains("authentication failed") {
        Outcome::InvalidCredentials
    } else {
        Outcome::SmtpHostIssue
    };
    // A stripped STARTTLS is no host issue to look for: the step's own hint says what to do.
    let hint = if f.name == "starttls" {
        relay_hint(f.hint.as_deref().unwrap_or_default())
    } else {
        outcome.hint().to_string()
    };
    Some(Verdict {
        outcome: Some(outcome),
        detail: format!("{}: {}", f.name, f.detail),
        hint,
    })
}

/// Polls the mailboxes until the verification mail arrives, `--within` passes or the
/// administrator interrupts.
async fn watch_for_mail(
    sessions: &mut [(Session, u32)],
    mailboxes: &[&imap::Mailbox],
    expected: &verify::Expected<'_>,
    wait: &Wait,
) -> Verdict {
    let start = Instant::now();
    let mut without_verify: Option<&str> = None;
    let mut seen: Vec<Vec<u32>> = vec![Vec::new(); sessions.len()];
    let mut last_progress = Instant::now() - Duration::from_secs(1);
    loop {
        if wait.interrupted.load(Ordering::SeqCst) {
            return Verdict::unreached("interrupted", "");
        }
        for (i, ((s, next), m)) in sessions.iter_mut().zip(mailboxes).enumerate() {
            let check = format!("check the mailbox with `toolctl {} check`", m.scope);
            // EXAMINE again: a read-only session sees new mail on re-selection.
            let polled =
                tokio::time::timeout(wait.timeout, new_mail(s, *next, &mut seen[i], &m.mailbox))
                    .await;
            let messages = match polled {
                Ok(Ok(m)) => m,
                Ok(Err(e)) => {
                    return Verdict::unreached(format!("watching {} failed: {e}", m.scope), check)
                }
                Err(_) => {
                    return Verdict::unreached(
                        format!("watching {}: no answer within {:?}", m.scope, wait.timeout),
                        check,
                    )
                }
            };
            for raw in messages {
                match verify::judge(&raw, expected) {
                    Reading::Unrelated => {}
                    Reading::WithoutVerify => without_verify = Some(m.scope),
                    Reading::Judged {
                        outcome,
                        detail,
                        via_alias,
                    } => {
                        let hint = if via_alias {
                            format!("forward to the project's incoming_email address {}, not to the service_desk_email alias: GitLab reports incorrect_forwarding_target for mail that came in through the alias", expected.target)
                        } else {
                            outcome.hint().to_string()
                        };
                        clear_progress(wait.live);
                        return Verdict {
                            outcome: Some(outcome),
                            detail,
                            hint,
                        };
                    }
                }
            }
        }
        let waited = start.elapsed();
        if waited >= wait.within {
            clear_progress(wait.live);
            return timed_out(wait.within, without_verify);
        }
        if wait.live && last_progress.elapsed() >= Duration::from_secs(1) {
            let s = waited.as_secs();
            let shown = if s >= 60 {
                format!("{}m{:02}s", s / 60, s % 60)
            } else {
                format!("{s}s")
            };
            eprint!("\r\x1b[2Kwaiting for the verification mail… {shown}");
            last_progress = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The mail that arrived in a mailbox since `next` and was not read yet (read-only).
async fn new_mail(
    s: &mut Session,
    next: u32,
    seen: &mut Vec<u32>,
    mailbox: &str,
) -> std::result::Result<Vec<Vec<u8>>, async_imap::error::Error> {
    use futures::StreamExt;
    s.examine(mailbox).await?;
    let uids = s.uid_search(format!("UID {next}:*")).await?;
    let mut out = Vec::new();
    for uid in uids {
        if uid < next || seen.contains(&uid) {
            continue;
        }
        seen.push(uid);
        let mut stream = s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
        while let Some(f) = stream.next().await {
            if let Some(b) = f?.body() {
                out.push(b.to_vec());
            }
        }
    }
    Ok(out)
}

/// Clears the waiting line.
fn clear_progress(live: bool) {
    if live {
        eprint!("\r\x1b[2K");
    }
}

/// No verification mail within `--within`.
fn timed_out(within: Duration, without_verify: Option<&str>) -> Verdict {
    let mut detail = format!(
        "no verification mail arrived within {}",
        humantime::format_duration(Duration::from_secs(within.as_secs()))
    );
    if let Some(scope) = without_verify {
        detail.push_str(&format!(
            "; a mail with its subject arrived without the +verify subaddress (in the {scope} mailbox)"
        ));
    }
    let outcome = Outcome::MailNotReceivedWithinTimeframe;
    Verdict {
        outcome: Some(outcome),
        detail,
        hint: outcome.hint().to_string(),
    }
}

/// The JSON document of `servicedesk-email verify-custom-email`.
#[derive(Serialize)]
struct VerifyDocument<'a> {
    address: &'a str,
    verify_address: String,
    project: &'a str,
    forwarding_target: &'a str,
    passed: bool,
    outcome: Option<&'static str>,
    detail: &'a str,
    hint: Option<&'a str>,
    steps: &'a [StepRow<'a>],
}

/// One step of one probe (the mailboxes' logins, the send).
#[derive(Serialize)]
struct StepRow<'a> {
    probe: &'a str,
    step: &'a str,
    status: &'static str,
    ms: u64,
    detail: &'a str,
    hint: Option<String>,
}

/// The report: every probe's steps, then the verdict.
fn verification_report(
    a: &SdVerifyArgs,
    plan: &Plan,
    verdict: Option<Verdict>,
    interrupted: bool,
) -> Report {
    let probes = plan.watch.iter().map(|(p, _)| p).chain([&plan.send]);
    let steps: Vec<StepRow> = probes
        .flat_map(|p| {
            p.steps.iter().map(|s| StepRow {
                probe: &p.name,
                step: &s.name,
                status: s.status.label(),
                ms: s.elapsed.as_millis() as u64,
                detail: &s.detail,
                hint: s.hint.as_deref().map(relay_hint),
            })
        })
        .collect();
    let v = verdict.unwrap_or_else(|| {
        Verdict::unreached(
            "a Service Desk mailbox could not be watched",
            "see the failed step; `toolctl incoming-email check` tests the mailbox",
        )
    });
    let passed = v.outcome == Some(Outcome::Ok);
    let mut out = Report::new().with_status(if interrupted {
        ExitStatus::Interrupted
    } else if passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    });
    out.set_payload(&VerifyDocument {
        address: &a.address,
        verify_address: address::verify_address(&a.address),
        project: &a.project.project,
        forwarding_target: &plan.target,
        passed,
        outcome: v.outcome.map(Outcome::name),
        detail: &v.detail,
        hint: (!passed).then_some(v.hint.as_str()),
        steps: &steps,
    });
    // Details quote the servers and the mail that arrived: no control byte of theirs
    // reaches the terminal.
    let shown = |v: &str| one_line(v).into_owned();
    let mut t = report::table(&["probe", "step", "status", "detail", "hint"]);
    for s in &steps {
        t.add_row(vec![
            shown(s.probe),
            shown(s.step),
            shown(s.status),
            shown(s.detail),
            shown(s.hint.as_deref().unwrap_or("")),
        ]);
    }
    let verdict_line = match v.outcome {
        Some(o) => o.name(),
        None => "not verified",
    };
    let mut text = format!(
        "{t}\n\nverification of {}: {verdict_line}\n  {}\n",
        shown(&a.address),
        shown(&v.detail)
    );
    if !passed && !v.hint.is_empty() {
        text.push_str(&format!("  hint: {}\n", shown(&v.hint)));
    }
    out.text(text);
    out
}
