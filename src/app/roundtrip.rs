//! `check --round-trip` and `check --postback`: the arguments and settings they need,
//! checked before anything is sent (exit 2 with a hint), and their probes, which `check`
//! runs beside the others.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::cli::CheckAllArgs;
use crate::error::{Error, Result};
use crate::model::{Delivery, MailboxKind, Model};
use crate::probe::mailroom_log::Tail;
use crate::probe::plan::{self, ProbeFuture};
use crate::probe::postback::{self, Postback};
use crate::probe::roundtrip::{self, Mailroom, Trip};
use crate::probe::{fail, smtp, Probe};
use crate::settings::resolve::Resolved;
use crate::Context;

/// `--within 5m`: a humantime duration, more than 0 and at most a day; by default the
/// largest idle_timeout of the mailboxes plus 60 s.
fn within(text: Option<&str>, mailboxes: &[MailboxKind], m: &Model) -> Result<Duration> {
    let Some(text) = text else {
        let idle = mailboxes
            .iter()
            .map(|k| m.mailbox(*k).idle_timeout.max(0) as u64)
            .max()
            .unwrap_or(60);
        return Ok(Duration::from_secs(idle + 60));
    };
    match humantime::parse_duration(text) {
        Ok(d) if !d.is_zero() && d <= Duration::from_secs(86_400) => Ok(d),
        _ => Err(
            Error::new(format!("`--within {text}` is not a usable duration"))
                .hint("give the time the whole round trip may take, more than 0: e.g. `90s`, `5m` (the default is the largest idle_timeout plus 60 s)"),
        ),
    }
}

/// The address part of `a` (`Name <a@b>` → `a@b`), lowercased.
fn bare(a: &str) -> String {
    let a = a.trim();
    let a = match (a.rfind('<'), a.rfind('>')) {
        (Some(i), Some(j)) if i < j => &a[i + 1..j],
        _ => a,
    };
    a.trim().to_ascii_lowercase()
}

/// The mailbox address without its sub-address part: `incoming+%{key}@x` → `incoming@x`.
fn base_address(template: &str) -> String {
    let Some((local, domain)) = template.rsplit_once('@') else {
        return template.to_ascii_lowercase();
    };
    let local = local.replace("%{key}", "");
    let local = local.trim_end_matches(['+', '-', '.', '_']);
    format!("{local}@{domain}").to_ascii_lowercase()
}

/// What `--round-trip` and `--postback` were given, checked.
struct Plan {
    canary_from: String,
    mailboxes: Vec<MailboxKind>,
    within: Duration,
}

/// Checks the arguments and settings both need; exit 2 with a hint on each refusal.
fn settle(r: &Resolved, a: &CheckAllArgs) -> Result<Plan> {
    let m = &r.model;
    let flag = if a.round_trip {
        "--round-trip"
    } else {
        "--postback"
    };
    let mailboxes: Vec<MailboxKind> = MailboxKind::BOTH
        .into_iter()
        .filter(|k| m.mailbox(*k).enabled)
        .collect();
    // --within first: it is the argument of this very command line.
    let within = within(a.within.as_deref(), &mailboxes, m)?;
    if mailboxes.is_empty() {
        return Err(Error::new(format!(
            "{flag} needs an enabled mailbox, and neither incoming_email nor service_desk_email is enabled"
        ))
        .hint("enable one: `toolctl config set incoming_email.enabled true`"));
    }
    let Some(from) = m.check.canary_from.clone().filter(|f| !f.trim().is_empty()) else {
        return Err(Error::new(format!(
            "{flag} needs `[check] canary_from`, the canary's sender, and it is not set"
        ))
        .hint("set a dedicated address that is not a mailbox's own, e.g. `toolctl config set check.canary_from toolctl-canary@example.com` (an older GitLab answered auto-generated mail: the answer goes there)"));
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(Error::new(format!(
            "`check.canary_from` (`{from}`) is not a mail address"
        ))
        .hint("give a plain address such as toolctl-canary@example.com"));
    }
    for k in &mailboxes {
        let mb = m.mailbox(*k);
        let t = k.table();
        let Some(address) = mb.address.as_deref().filter(|a| !a.is_empty()) else {
            return Err(Error::new(format!(
                "`{t}.address` is not set: {flag} sends the canary to a sub-address of it"
            ))
            .hint(format!(
                "set it: `toolctl config set {t}.address 'incoming+%{{key}}@example.com'`"
            )));
        };
        if !address.contains("%{key}") {
            return Err(Error::new(format!(
                "`{t}.address` (`{address}`) has no `%{{key}}`: the mailbox has no sub-addresses, so {flag} has nowhere to send its canary (and GitLab cannot receive replies there)"
            ))
            .hint(format!("write the address with its sub-address placeholder, e.g. `toolctl config set {t}.address 'incoming+%{{key}}@example.com'`, once the mail server delivers `incoming+anything@` into the mailbox")));
        }
        let sender = bare(&from);
        let user = mb.user.as_ref().map(|u| bare(u.expose()));
        if sender == base_address(address)
            || sender == address.to_ascii_lowercase()
            || user.as_deref() == Some(sender.as_str())
        {
            return Err(Error::new(format!(
                "`check.canary_from` (`{from}`) is the {t} mailbox's own address: GitLab would read the canary as mail from itself"
            ))
            .hint("set a dedicated sender that is not a mailbox's: `toolctl config set check.canary_from toolctl-canary@example.com`"));
        }
    }
    if a.round_trip {
        if !m.smtp.enabled {
            return Err(Error::new(
                "--round-trip sends its canary through the `[smtp]` relay, and `smtp.enabled` is false",
            )
            .hint("enable and configure `[smtp]` (`toolctl smtp check` tests it); the Microsoft Graph mailer is not yet a way to send the canary"));
        }
        for k in &mailboxes {
            if m.mailbox(*k).graph() {
                return Err(Error::new(format!(
                    "`{}.inbox_method` is microsoft_graph: --round-trip watches mailboxes over IMAP only",
                    k.table()
                ))
                .hint("use `--postback` for a Graph mailbox, which tests GitLab's side without the mailbox"));
            }
        }
    }
    Ok(Plan {
        canary_from: from,
        mailboxes,
        within,
    })
}

/// The probes of `--round-trip` and `--postback` (after the checks of [`settle`]).
pub fn probes(
    ctx: &Context,
    r: &Resolved,
    a: &CheckAllArgs,
    timeout: Duration,
) -> Result<Vec<ProbeFuture>> {
    if !a.round_trip && !a.postback {
        return Ok(Vec::new());
    }
    let plan = settle(r, a)?;
    let mut out = Vec::new();
    for k in &plan.mailboxes {
        if a.round_trip {
            out.push(round_trip(ctx, r, *k, &plan, timeout)?);
        }
        if a.postback {
            out.push(postback_probe(r, *k, &plan, timeout)?);
        }
    }
    Ok(out)
}

/// A probe with every secret of the settings masked (as `plan` does for the others).
fn start(m: &Model, name: String, target: String, timeout: Duration) -> Probe {
    let p = Probe::new(&name, target, timeout);
    for v in m.secret_values() {
        if v.chars().count() >= 6 {
            p.masker.add(v);
        }
    }
    p
}

/// Settings errors of these tables: error rows of a probe that cannot run.
fn broken(r: &Resolved, p: &mut Probe, tables: &[&str]) -> bool {
    let mut any = false;
    for d in r.errors().filter(|d| {
        tables
            .iter()
            .any(|t| d.key == *t || d.key.starts_with(&format!("{t}.")))
    }) {
        p.steps.push(crate::probe::Step {
            name: "settings".into(),
            status: crate::probe::Status::Error,
            elapsed: Duration::ZERO,
            detail: d.message.clone(),
            hint: Some(d.hint.clone()),
        });
        any = true;
    }
    any
}

fn ready(p: Probe) -> ProbeFuture {
    Box::pin(async move { p })
}

fn round_trip(
    ctx: &Context,
    r: &Resolved,
    kind: MailboxKind,
    plan: &Plan,
    timeout: Duration,
) -> Result<ProbeFuture> {
    let m = &r.model;
    let mb = m.mailbox(kind);
    let t = kind.table();
    let mut p = start(
        m,
        format!("{} round-trip", kind.cli_name()),
        format!(
            "{}:{} \"{}\"",
            mb.host.as_deref().unwrap_or_default(),
            mb.port,
            mb.mailbox
        ),
        timeout,
    );
    if broken(r, &mut p, &[t, "smtp", "check"]) {
        return Ok(ready(p));
    }
    let mailbox = match plan::imap_mailbox(m, kind, &mut p) {
        Ok((mailbox, warning)) => {
            if let Some((message, hint)) = warning {
                p.warn("trust", message, hint);
            }
            mailbox
        }
        Err(_) => {
            p.fail_now(
                "settings",
                fail(
                    format!(
                        "the {} mailbox has no `host`, `user` or `password`",
                        kind.cli_name()
                    ),
                    format!(
                        "set `{t}.host` and the secret (`toolctl {} secret edit`)",
                        kind.cli_name()
                    ),
                ),
            );
            return Ok(ready(p));
        }
    };
    let template = mb.address.clone().unwrap_or_default();
    let canary = roundtrip::canary(&template, &plan.canary_from)
        .map_err(|e| Error::new(e).hint("check `check.canary_from` and the mailbox's `address`"))?;
    let relay = relay(m, &p, &canary)?;
    let mailroom = if m.mailroom.enable {
        Some(Mailroom {
            delete_after_delivery: mb.delete_after_delivery,
            expunge_deleted: mb.expunge_deleted,
            sidekiq: mb.delivery == Delivery::Sidekiq,
            log: log_tail(ctx, t, mb.log_file.as_deref()),
        })
    } else {
        None
    };
    let trip = Trip {
        kind: t,
        mailbox,
        relay,
        canary,
        mailroom,
        within: plan.within,
    };
    p.ok(
        "settings",
        format!(
            "canary from `check.canary_from` to a `toolctl-canary-…` sub-address; within {}",
            humantime::format_duration(plan.within)
        ),
    );
    Ok(Box::pin(async move {
        roundtrip::run(&mut p, trip).await;
        p
    }))
}

/// The `[smtp]` relay, carrying the canary.
fn relay(m: &Model, p: &Probe, canary: &roundtrip::Canary) -> Result<smtp::Relay> {
    let s = &m.smtp;
    let user = s.user_name.as_ref().map(|u| u.expose().clone());
    let password = s.password.as_ref().map(|pw| pw.to_zeroizing());
    if let (Some(u), Some(pw)) = (&user, &password) {
        p.masker.add_login(u, pw);
    }
    if s.authentication.as_deref() != Some("none") && (user.is_none() || password.is_none()) {
        return Err(Error::new("--round-trip sends through the `[smtp]` relay, which has no `user_name` or `password`")
            .hint("add them with `toolctl smtp secret edit`, or set `smtp.authentication = \"none\"` for an open relay"));
    }
    Ok(smtp::Relay {
        helo: s.helo().to_string(),
        host: s.address.clone().unwrap_or_default(),
        port: s.port,
        tls: s.tls,
        starttls_auto: s.starttls_auto(),
        allow_plaintext_auth: false,
        authentication: s.authentication.clone(),
        user,
        password,
        trust: s.trust(),
        from: Some(canary.from.clone()),
        send_to: Some(canary.to.clone()),
        message: Some(canary.raw.clone()),
    })
}

/// mail_room's JSON log, tailed from now: opened below `--root` without following any link.
fn log_tail(
    ctx: &Context,
    table: &str,
    log_file: Option<&str>,
) -> std::result::Result<Tail, crate::probe::Failure> {
    let Some(log) = log_file else {
        return Err(fail(
            format!("`{table}.log_file` is not set: mail_room's log cannot be read"),
            format!("set `{table}.log_file` to mail_room's JSON log"),
        ));
    };
    let root = ctx.paths.root.clone();
    let shown = log.to_string();
    let configured = log.to_string();
    // As mail_room's liveness opens it: no link followed below the root, and in a directory
    // mail_room's user owns, no second name of a file that user could not read.
    let open = Box::new(move || crate::probe::mailroom::open_log(&root, &configured));
    Tail::new(open, shown.clone()).map_err(|e| {
        fail(
            format!("cannot read mail_room's log {shown}: {e}"),
            format!("check `{table}.log_file`: it must name mail_room's JSON log, a regular file of mail_room's user reached without symbolic links"),
        )
    })
}

fn postback_probe(
    r: &Resolved,
    kind: MailboxKind,
    plan: &Plan,
    timeout: Duration,
) -> Result<ProbeFuture> {
    let m = &r.model;
    let mb = m.mailbox(kind);
    let t = kind.table();
    let base = mb.gitlab_url.clone().unwrap_or_default();
    let url = format!(
        "{}/api/v4/internal/mail_room/{t}",
        base.trim_end_matches('/')
    );
    let mut p = start(
        m,
        format!("{} postback", kind.cli_name()),
        url.clone(),
        timeout,
    );
    if broken(r, &mut p, &[t, "mailroom", "check"]) {
        return Ok(ready(p));
    }
    if mb.delivery == Delivery::Sidekiq {
        p.skip(
            "postback",
            format!("`{t}.delivery_method` is sidekiq: mail_room pushes to Redis, not to GitLab's endpoint"),
        );
        return Ok(ready(p));
    }
    if base.is_empty() {
        p.fail_now(
            "settings",
            fail(
                format!("neither `{t}.gitlab_url` nor `external_url` is set"),
                format!("set `external_url` (or `{t}.gitlab_url`)"),
            ),
        );
        return Ok(ready(p));
    }
    let Some(secret) = m.mailroom.webhook_secret.as_ref() else {
        p.fail_now(
            "credentials",
            fail(
                "there is no `mailroom` webhook_secret to sign with",
                "`toolctl reconfigure` generates it (or copy the store of the node that has it)",
            ),
        );
        return Ok(ready(p));
    };
    p.masker.add(secret.expose());
    p.ok(
        "credentials",
        format!("webhook_secret from {}", secret.origin()),
    );
    let template = mb.address.clone().unwrap_or_default();
    let canary = roundtrip::canary(&template, &plan.canary_from)
        .map_err(|e| Error::new(e).hint("check `check.canary_from` and the mailbox's `address`"))?;
    let b = Postback {
        kind: t,
        url,
        secret: Zeroizing::new(secret.expose().clone()),
        body: canary.raw,
    };
    Ok(Box::pin(async move {
        postback::run(&mut p, b).await;
        p
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_mailbox_address_is_compared_without_its_key() {
        assert_eq!(
            super::base_address("incoming+%{key}@Example.com"),
            "incoming@example.com"
        );
        assert_eq!(super::bare("Canary <c@x.org>"), "c@x.org");
    }
}
