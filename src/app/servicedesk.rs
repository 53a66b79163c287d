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

use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::OutputFormat;
use crate::cli::{SdAddressArgs, SdPreviewArgs, SdVerifyArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::model::MailboxKind;
use crate::report::{self, Report};
use crate::probe::tls::Trust;
use crate::probe::{fail, imap, smtp, Probe, Status};
use crate::secrets::Scope;
use crate::servicedesk::address::{self, Configured, ProjectAddress};
use crate::servicedesk::templates::{self, Finding, Severity};
use crate::servicedesk::verify::{self, Outcome, Reading};
use crate::sys::term::one_line;
use crate::Context;

/// The largest template read (GitLab's templates are a few KiB).
const TEMPLATE_CAP: u64 = 1 << 20;

/// `servicedesk-email address`: a project's addresses.
pub fn address(ctx: &Context, a: &SdAddressArgs) -> Result<Report> {
    let mut out = Report::new();
    let found = addresses(
        ctx,
        &a.project.project,
        a.project.project_id,
        a.suffix.as_deref(),
    )?;
    out.set_payload(&json!({
        "project": a.project.project,
        "project_id": a.project.project_id,
        "addresses": found.iter().map(|p| json!({
            "source": p.source, "key": p.key, "address": p.address,
        })).collect::<Vec<_>>(),
    }));
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

pub fn check_templates(dir: &Path, format: OutputFormat) -> Result<Report> {
    let mut out = Report::new();
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
    let mut findings: Vec<Finding> = Vec::new();
    for name in &names {
        if !templates::FILES.contains(&name.as_str()) {
            findings.push(templates::unknown_file(name));
            continue;
        }
        let path = dir.join(name);
        let bytes = crate::fsutil::read_optional_capped(&path, TEMPLATE_CAP, "template")?
            .unwrap_or_default();
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::new(format!(
                "{}: not UTF-8 text (invalid byte at offset {})",
                one_line(&path.display().to_string()),
                e.utf8_error().valid_up_to()
            ))
            .hint("save the template as UTF-8")
        })?;
        findings.extend(templates::lint(name, &text));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    match format {
        OutputFormat::Json => out.set_payload(&json!({
            "dir": dir.display().to_string(),
            "files": names,
            "errors": errors,
            "warnings": warnings,
            "findings": findings.iter().map(|f| json!({
                "file": f.file, "line": f.line, "column": f.column,
                "severity": f.severity.label(), "code": f.code,
                "message": f.message, "hint": f.hint,
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Human => {
            if findings.is_empty() {
                out.text(format!(
                    "{}: {} template(s), no findings\n",
                    one_line(&dir.display().to_string()),
                    names.len()
                ));
            } else {
                let mut t = report::table(&["file", "at", "severity", "finding", "hint"]);
                for f in &findings {
                    // A file name (and a message naming it) is anyone's text: no escape
                    // sequence reaches the terminal.
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
                out.text(format!("{t}\n{errors} error(s), {warnings} warning(s)\n"));
            }
        }
    }
    Ok(out.with_status(if errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }))
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

/// The credentials of the custom-email secret.
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
    match (get("user_name"), get("password")) {
        (Some(u), Some(p)) => Ok((u.to_string(), p)),
        _ => Err(missing()),
    }
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

/// The SMTP probe's hints name the [smtp] relay; here the credentials are custom-email's.
fn relay_hint(h: &str) -> String {
    h.replace(
        "toolctl smtp secret edit",
        "toolctl custom-email secret edit",
    )
    .replace("`smtp.authentication`", "`--smtp-authentication`")
    .replace(
        "set `smtp.tls = true` and `smtp.enable_starttls_auto = false` for port 465",
        "port 465 is implicit TLS",
    )
    .replace("(`smtp.tls = true`, port 465)", "(`--smtp-port 465`)")
}

pub fn verify_custom_email(ctx: &Context, a: &SdVerifyArgs) -> Result<Report> {
    let mut out = Report::new();
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
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(Error::new(format!(
            "the custom-email `password` is {n} characters long; GitLab requires 8 to 128"
        ))
        .hint("fix it with `toolctl custom-email secret set password`"));
    }
    let timeout = Duration::from_secs_f64(a.timeout);
    let mut watch = vec![(
        MailboxKind::Incoming,
        Probe::new("incoming-email", String::new(), timeout),
    )];
    if r.model.service_desk.enabled {
        watch.push((
            MailboxKind::ServiceDesk,
            Probe::new("service-desk-email", String::new(), timeout),
        ));
    }
    let mut mailboxes = Vec::new();
    for (scope, p) in &mut watch {
        let m = watch_mailbox(&r, *scope, p)?;
        p.target = format!("{}:{} \"{}\"", m.host, m.port, m.mailbox);
        mailboxes.push(m);
    }
    let token = verify::token().map_err(|e| Error::new("cannot read random bytes from the kernel").cause(e))?;
    let helo = r.model.smtp.helo().to_string();
    let mail = verify::message(&a.address, &a.project.project, &token, &helo).map_err(|e| {
        Error::new(e.to_string()).hint("give a plain address such as support@example.com")
    })?;
    let mut send = Probe::new(
        "custom-email smtp",
        format!("{}:{}", a.smtp_address, a.smtp_port),
        timeout,
    );
    send.masker.add_login(&user, &password);
    let relay = smtp::Relay {
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
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone());
    // Progress only for a person watching: a terminal on stderr, and not with -q.
    let live = !ctx.printer.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let expected = verify::Expected {
        address: &a.address,
        project: &a.project.project,
        token: &token,
        target: &target,
        alias_targets: &alias_targets,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("cannot start the async runtime").cause(e))?;
    let verdict = rt.block_on(async {
        // Log in and note where the mailboxes end before sending, so that only mail that
        // arrives after the send is read (an older verification mail is not this one).
        let mut sessions = Vec::new();
        for ((_, p), m) in watch.iter_mut().zip(&mailboxes) {
            let mut s = imap::login(p, m).await?;
            let next = p
                .step("mailbox", async {
                    let mb = s.examine(&m.mailbox).await.map_err(|_| {
                        fail(format!("cannot open mailbox \"{}\"", m.mailbox), format!("check `{}.mailbox`", m.table))
                    })?;
                    let next = mb.uid_next.unwrap_or(1);
                    Ok((next, format!("\"{}\" (read-only): {} messages", m.mailbox, mb.exists)))
                })
                .await?;
            sessions.push((s, next));
        }
        crate::failpoint::hit("servicedesk-verify-send");
        smtp::probe(&mut send, relay).await;
        if let Some(f) = send.steps.iter().find(|s| s.status == Status::Fail) {
            let outcome = if f.name == "auth" && f.detail.contains("authentication failed") {
                Outcome::InvalidCredentials
            } else {
                Outcome::SmtpHostIssue
            };
            // A stripped STARTTLS is no host issue to look for: the step's own hint says
            // what to do.
            let hint = if f.name == "starttls" {
                relay_hint(f.hint.as_deref().unwrap_or_default())
            } else {
                outcome.hint().to_string()
            };
            return Some(Verdict {
                outcome: Some(outcome),
                detail: format!("{}: {}", f.name, f.detail),
                hint,
            });
        }
        crate::failpoint::hit("servicedesk-verify-watch");
        let start = Instant::now();
        let mut without_verify: Option<String> = None;
        let mut seen: Vec<Vec<u32>> = vec![Vec::new(); sessions.len()];
        let mut last_progress = Instant::now() - Duration::from_secs(1);
        loop {
            if interrupted.load(Ordering::SeqCst) {
                return Some(Verdict { outcome: None, detail: "interrupted".into(), hint: String::new() });
            }
            for (i, ((s, next), m)) in sessions.iter_mut().zip(&mailboxes).enumerate() {
                // EXAMINE again: a read-only session sees new mail on re-selection.
                let polled = tokio::time::timeout(timeout, async {
                    s.examine(&m.mailbox).await?;
                    let uids = s.uid_search(format!("UID {}:*", *next)).await?;
                    let mut out = Vec::new();
                    for uid in uids {
                        if uid < *next || seen[i].contains(&uid) {
                            continue;
                        }
                        seen[i].push(uid);
                        let mut stream = s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
                        use futures::StreamExt;
                        while let Some(f) = stream.next().await {
                            if let Some(b) = f?.body() {
                                out.push(b.to_vec());
                            }
                        }
                    }
                    Ok::<_, async_imap::error::Error>(out)
                })
                .await;
                let messages = match polled {
                    Ok(Ok(m)) => m,
                    Ok(Err(e)) => {
                        return Some(Verdict { outcome: None, detail: format!("watching {} failed: {e}", m.scope), hint: format!("check the mailbox with `toolctl {} check`", m.scope) });
                    }
                    Err(_) => {
                        return Some(Verdict { outcome: None, detail: format!("watching {}: no answer within {:?}", m.scope, timeout), hint: format!("check the mailbox with `toolctl {} check`", m.scope) });
                    }
                };
                for raw in messages {
                    match verify::judge(&raw, &expected) {
                        Reading::Unrelated => {}
                        Reading::WithoutVerify => {
                            without_verify = Some(m.scope.to_string());
                        }
                        Reading::Judged { outcome, detail, via_alias } => {
                            let mut hint = outcome.hint().to_string();
                            if via_alias {
                                hint = format!("forward to the project's incoming_email address {target}, not to the service_desk_email alias: GitLab reports incorrect_forwarding_target for mail that came in through the alias");
                            }
                            if live {
                                eprint!("\r\x1b[2K");
                            }
                            return Some(Verdict { outcome: Some(outcome), detail, hint });
                        }
                    }
                }
            }
            let waited = start.elapsed();
            if waited >= within {
                if live {
                    eprint!("\r\x1b[2K");
                }
                let mut detail = format!("no verification mail arrived within {}", humantime::format_duration(Duration::from_secs(within.as_secs())));
                if let Some(scope) = &without_verify {
                    detail.push_str(&format!("; a mail with its subject arrived without the +verify subaddress (in the {scope} mailbox)"));
                }
                let outcome = Outcome::MailNotReceivedWithinTimeframe;
                return Some(Verdict { outcome: Some(outcome), detail, hint: outcome.hint().to_string() });
            }
            if live && last_progress.elapsed() >= Duration::from_secs(1) {
                let s = waited.as_secs();
                let shown = if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") };
                eprint!("\r\x1b[2Kwaiting for the verification mail… {shown}");
                last_progress = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let interrupted = interrupted.load(Ordering::SeqCst);
    let mut probes: Vec<&Probe> = watch.iter().map(|(_, p)| p).collect();
    probes.push(&send);
    let fix = relay_hint;
    let steps: Vec<serde_json::Value> = probes
        .iter()
        .flat_map(|p| {
            p.steps.iter().map(|s| {
                json!({
                    "probe": p.name, "step": s.name, "status": s.status.label(),
                    "ms": s.elapsed.as_millis() as u64, "detail": s.detail,
                    "hint": s.hint.as_deref().map(fix),
                })
            })
        })
        .collect();
    let (outcome, detail, hint) = match &verdict {
        Some(v) => (v.outcome, v.detail.clone(), v.hint.clone()),
        None => (
            None,
            "a Service Desk mailbox could not be watched".to_string(),
            "see the failed step; `toolctl incoming-email check` tests the mailbox".to_string(),
        ),
    };
    let passed = outcome == Some(Outcome::Ok);
    match a.report.output_format {
        OutputFormat::Json => out.set_payload(&json!({
            "address": a.address,
            "verify_address": address::verify_address(&a.address),
            "project": a.project.project,
            "forwarding_target": target,
            "passed": passed,
            "outcome": outcome.map(Outcome::name),
            "detail": detail,
            "hint": if passed { None } else { Some(hint.clone()) },
            "steps": steps,
        })),
        OutputFormat::Human => {
            // Details quote the servers and the mail that arrived: no control byte of
            // theirs reaches the terminal.
            let shown = |v: &str| crate::sys::term::one_line(v).into_owned();
            let mut t = report::table(&["probe", "step", "status", "detail", "hint"]);
            for s in &steps {
                t.add_row(
                    ["probe", "step", "status", "detail", "hint"]
                        .iter()
                        .map(|k| shown(s[*k].as_str().unwrap_or("")))
                        .collect::<Vec<_>>(),
                );
            }
            let verdict_line = match outcome {
                Some(o) => o.name().to_string(),
                None => "not verified".into(),
            };
            let mut text = format!(
                "{t}\n\nverification of {}: {verdict_line}\n  {}\n",
                shown(&a.address),
                shown(&detail)
            );
            if !passed && !hint.is_empty() {
                text.push_str(&format!("  hint: {}\n", shown(&hint)));
            }
            out.text(text);
        }
    }
    Ok(out.with_status(if interrupted {
        ExitStatus::Interrupted
    } else if passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }))
}
