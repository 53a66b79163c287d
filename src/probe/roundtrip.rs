//! `check --round-trip`: a harmless canary followed through every hop of a mailbox, one
//! row per hop with its latency, stopping at the first hop that fails.
//!
//! - **watch** (before anything is sent): log in to the mailbox and `EXAMINE` it read-only.
//! - **send**: the canary through the `[smtp]` relay to a sub-address of the mailbox
//!   (`%{key}` = `toolctl-canary-<random>`), with `Auto-Submitted: auto-generated` (GitLab
//!   drops such mail before any handler runs) and a Message-ID of toolctl's.
//! - **arrived**: `UID SEARCH HEADER Message-ID` finds it; between searches the session
//!   waits in `IDLE` where the server offers it, so arrival is seen at once.
//! - **picked up** (where mail_room reads the mailbox): the canary becomes `\Seen` (or is
//!   gone) and mail_room's log shows `sending to deliverer` for its UID and mailbox.
//! - **pushed**: the next `message pushed` line of the mailbox's delivery method: the
//!   postback's `status_code` (200 passes, 401 names the webhook secret), or Sidekiq's.
//! - **cleanup**: mail_room's own deletion, or toolctl deletes its canary and only it
//!   ([`super::watch::delete`]); also after a failed pick-up in which mail_room never
//!   touched the canary (the failed row stays the trip's verdict).
//!
//! `within` bounds the whole trip; every network command is bounded by the probe's timeout.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::mailroom_log::{Tail, Watch};
use super::watch::{self, Cleanup, Session};
use super::{fail, imap, live, smtp, Failure, Hop, Probe, Status};

/// The canary's sub-address key prefix (GitLab finds no project or reply key in it).
pub const KEY_PREFIX: &str = "toolctl-canary-";

/// The canary message and where it goes.
pub struct Canary {
    /// `toolctl-canary-<random>`.
    pub key: String,
    /// The mailbox's address with the key in place of `%{key}`.
    pub to: String,
    /// `[check] canary_from`.
    pub from: String,
    /// `<toolctl-canary-…@domain>`.
    pub message_id: String,
    /// RFC 5322 text, CRLF line ends.
    pub raw: Vec<u8>,
}

/// 16 letters and digits from the kernel's random source.
fn random_suffix() -> std::io::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::new();
    while out.len() < 16 {
        let mut b = [0u8; 32];
        crate::sys::rand::fill(&mut b)?;
        // 252 = 7 × 36: every character equally likely.
        out.extend(
            b.iter()
                .filter(|x| **x < 252)
                .map(|x| ALPHABET[(*x as usize) % 36] as char),
        );
    }
    out.truncate(16);
    Ok(out)
}

/// Builds the canary for the mailbox address `template` (which holds `%{key}`).
pub fn canary(template: &str, from: &str) -> Result<Canary, String> {
    use lettre::message::header::{HeaderName, HeaderValue};
    let key = format!(
        "{KEY_PREFIX}{}",
        random_suffix().map_err(|e| format!("cannot read random bytes from the kernel: {e}"))?
    );
    let to = template.replace("%{key}", &key);
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let message_id = format!("<{key}.{now}@{domain}>");
    let mailbox = |a: &str| {
        a.parse::<lettre::message::Mailbox>()
            .map_err(|_| format!("`{a}` is not an address a mail can be sent to or from"))
    };
    let message = lettre::Message::builder()
        .from(mailbox(from)?)
        .to(mailbox(&to)?)
        .subject("toolctl round-trip canary")
        .date_now()
        .message_id(Some(message_id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .body(format!(
            "This message is a canary of `toolctl check --round-trip`.\r\n\
             GitLab ignores it (Auto-Submitted: auto-generated), and toolctl or mail_room\r\n\
             deletes it. Key: {key}\r\n"
        ))
        .map_err(|e| format!("cannot build the canary: {e}"))?;
    Ok(Canary {
        key,
        to,
        from: from.to_string(),
        message_id,
        raw: message.formatted(),
    })
}

/// mail_room's side of the trip, where it reads this mailbox.
pub struct Mailroom {
    pub delete_after_delivery: bool,
    pub expunge_deleted: bool,
    pub sidekiq: bool,
    /// Its JSON log, tailed from the start of the trip (or why it cannot be read).
    pub log: Result<Tail, Failure>,
}

/// One mailbox's round trip.
pub struct Trip {
    /// `incoming_email` or `service_desk_email`.
    pub kind: &'static str,
    pub mailbox: imap::Mailbox,
    /// The relay, carrying the canary (`message`, `send_to`, `from`).
    pub relay: smtp::Relay,
    pub canary: Canary,
    /// `None` where mail_room does not read mailboxes (`mailroom.enable = false`).
    pub mailroom: Option<Mailroom>,
    pub within: Duration,
}

/// How often the log and the flags are looked at while mail_room works.
const POLL: Duration = Duration::from_millis(200);
/// How long one wait for the canary lasts before toolctl searches again: IDLE returns at once
/// when the server reports new mail, but servers batch their reports (Dovecot holds them
/// about half a second), so the session leaves IDLE and searches this often while mail is
/// due, and less often as the wait grows long.
fn slice(waited: Duration) -> Duration {
    if waited < Duration::from_secs(30) {
        Duration::from_millis(200)
    } else if waited < Duration::from_secs(120) {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    }
}
/// How long mail_room gets to flag a delivered message `\Deleted` before toolctl deletes it.
const DELETE_GRACE: Duration = Duration::from_secs(5);

/// `3 s`, `250 ms`.
fn shown(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A probe for the sub-steps of one row (the IMAP login, the SMTP dialogue): its rows are
/// folded into one row of `p`.
fn sub(p: &Probe) -> Probe {
    let mut q = Probe::new(&p.name, p.target.clone(), p.timeout);
    q.masker = p.masker.clone();
    q.live = live::Live::new(&p.name, p.masker.clone());
    q
}

/// Folds `q`'s rows into one row `name` of `p`: its first failure, or `detail`.
fn fold(p: &mut Probe, name: &str, q: &Probe, took: Duration, detail: String) -> bool {
    match q
        .steps
        .iter()
        .find(|s| matches!(s.status, Status::Fail | Status::Error))
    {
        Some(f) => {
            p.record(
                name,
                Status::Fail,
                took,
                format!("{}: {}", f.name, f.detail),
                f.hint.clone(),
            );
            false
        }
        None => {
            let warning = q.steps.iter().find(|s| s.status == Status::Warn);
            match warning {
                Some(w) => p.record(
                    name,
                    Status::Warn,
                    took,
                    format!("{detail}; {}: {}", w.name, w.detail),
                    w.hint.clone(),
                ),
                None => p.record(name, Status::Ok, took, detail, None),
            }
            true
        }
    }
}

/// Records a hop: its row and its structured latency.
fn hop(
    p: &mut Probe,
    kind: &str,
    name: &str,
    took: Duration,
    result: Result<(Status, String, Option<String>), Failure>,
) -> bool {
    let (status, detail, hint) = match result {
        Ok(r) => r,
        Err(f) => (Status::Fail, f.detail, Some(f.hint)),
    };
    p.record(name, status, took, detail, hint);
    let passed = !matches!(status, Status::Fail | Status::Error);
    p.hops.push(Hop {
        mailbox: kind.to_string(),
        hop: name.replace(' ', "_"),
        seconds: took.as_secs_f64(),
        passed,
    });
    passed
}

/// One IMAP command under the per-step timeout, its error in words.
async fn bounded<T>(
    timeout: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, async_imap::error::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(fail(
            format!("{what} failed: {}", imap_words(&e)),
            "check the IMAP server's log; `toolctl <mailbox> check` tests the mailbox alone",
        )),
        Err(_) => Err(fail(
            format!("{what}: no answer within {}", shown(timeout)),
            "the IMAP server stopped answering (`--timeout` raises the limit)",
        )),
    }
}

/// An async-imap error without the server's text (it may quote what was sent).
fn imap_words(e: &async_imap::error::Error) -> &'static str {
    use async_imap::error::Error as E;
    match e {
        E::Io(_) | E::ConnectionLost => "the connection was lost",
        E::No(_) => "the server answered NO",
        E::Bad(_) => "the server answered BAD",
        E::Parse(_) => "the server's answer is not IMAP",
        _ => "the IMAP dialogue failed",
    }
}

/// Runs the round trip of one mailbox into `p`.
pub async fn run(p: &mut Probe, mut t: Trip) {
    let start = Instant::now();
    let deadline = start + t.within;
    let timeout = p.timeout;
    let m = &t.mailbox;

    // watch: logged in and EXAMINEd before the canary leaves.
    let mut q = sub(p);
    let began = Instant::now();
    let Some(mut s) = imap::login(&mut q, m).await else {
        fold(p, "watch", &q, began.elapsed(), String::new());
        return;
    };
    let opened = async {
        let caps = bounded(timeout, "CAPABILITY", watch::capabilities(&mut s)).await?;
        let exists = bounded(timeout, "EXAMINE", watch::examine(&mut s, &m.mailbox)).await?;
        Ok::<_, Failure>((caps, exists))
    }
    .await;
    let (caps, exists) = match opened {
        Ok(v) => v,
        Err(f) => {
            p.record(
                "watch",
                Status::Fail,
                began.elapsed(),
                f.detail,
                Some(f.hint),
            );
            return;
        }
    };
    let idle = caps.iter().any(|c| c == "IDLE");
    let uidplus = caps.iter().any(|c| c == "UIDPLUS");
    fold(
        p,
        "watch",
        &q,
        began.elapsed(),
        format!(
            "watching \"{}\" read-only ({exists} messages){}",
            m.mailbox,
            if idle {
                " with IDLE"
            } else {
                ", polling: no IDLE"
            }
        ),
    );

    // send
    let mut q = sub(p);
    let began = Instant::now();
    let relay = format!("{}:{}", t.relay.host, t.relay.port);
    smtp::probe(&mut q, std::mem::replace(&mut t.relay, empty_relay())).await;
    let took = began.elapsed();
    let detail = format!(
        "through {relay} to the {} sub-address, Message-ID {}",
        t.canary.key, t.canary.message_id
    );
    // The relay's warnings (no encryption, …) stay visible on the row.
    let sent = fold(p, "send", &q, took, detail);
    record_last_hop(p, t.kind, "send", took, sent);
    if !sent {
        watch::logout(&mut s).await;
        return;
    }

    // arrived
    let began = Instant::now();
    let (found, s2) = arrival(s, &t, idle, timeout, deadline).await;
    let took = began.elapsed();
    let uid = match found {
        Ok(uid) => uid,
        Err(f) => {
            hop(p, t.kind, "arrived", took, Err(f));
            if let Some(mut s) = s2 {
                watch::logout(&mut s).await;
            }
            return;
        }
    };
    let Some(mut s) = s2 else {
        unreachable!("a canary found comes with its session")
    };
    hop(
        p,
        t.kind,
        "arrived",
        took,
        Ok((
            Status::Ok,
            format!(
                "UID {uid} in \"{}\" {} after it was sent",
                m.mailbox,
                shown(took)
            ),
            None,
        )),
    );

    // picked up, pushed
    let mut mail_room_deleted = false;
    match t.mailroom.as_mut() {
        None => {
            p.skip(
                "picked up",
                "`mailroom.enable` is false: mail_room does not read this mailbox from this node",
            );
        }
        Some(mr) => {
            let began = Instant::now();
            let picked = pick_up(&mut s, &t.mailbox, t.kind, uid, mr, timeout, deadline).await;
            let took = began.elapsed();
            let (mut log, flags) = match picked {
                Ok(v) => v,
                Err((f, untouched)) => {
                    hop(p, t.kind, "picked up", took, Err(f));
                    // mail_room never read it (not running, or not watching): the canary
                    // would wait for it, and every later run would add one. Deleted now.
                    if untouched {
                        let began = Instant::now();
                        let result = cleanup(&mut s, &t, uid, uidplus, false, timeout).await;
                        hop(p, t.kind, "cleanup", began.elapsed(), result);
                    }
                    watch::logout(&mut s).await;
                    return;
                }
            };
            let state = match flags {
                None => "gone from the mailbox".to_string(),
                Some(f) if f.deleted => "\\Seen \\Deleted".to_string(),
                Some(_) => "\\Seen".to_string(),
            };
            hop(
                p,
                t.kind,
                "picked up",
                took,
                Ok((
                    Status::Ok,
                    format!("mail_room read UID {uid} ({state}) and logged `sending to deliverer` for it"),
                    None,
                )),
            );
            let began = Instant::now();
            let pushed = pushed(&mut log, mr, t.kind, deadline).await;
            let took = began.elapsed();
            if !hop(p, t.kind, "pushed", took, pushed) {
                watch::logout(&mut s).await;
                return;
            }
            mail_room_deleted = mr.delete_after_delivery;
        }
    }

    // cleanup
    let began = Instant::now();
    let result = cleanup(&mut s, &t, uid, uidplus, mail_room_deleted, timeout).await;
    hop(p, t.kind, "cleanup", began.elapsed(), result);
    watch::logout(&mut s).await;
}

/// The hop record of a row that [`fold`] wrote.
fn record_last_hop(p: &mut Probe, kind: &str, name: &str, took: Duration, passed: bool) {
    p.hops.push(Hop {
        mailbox: kind.to_string(),
        hop: name.replace(' ', "_"),
        seconds: took.as_secs_f64(),
        passed,
    });
}

/// A relay with nothing in it (the real one was handed to the SMTP probe).
fn empty_relay() -> smtp::Relay {
    smtp::Relay {
        host: String::new(),
        port: 0,
        tls: false,
        starttls_auto: false,
        allow_plaintext_auth: false,
        authentication: None,
        helo: String::new(),
        user: None,
        password: None,
        trust: super::tls::Trust::system(),
        from: None,
        send_to: None,
        message: None,
    }
}

/// Searches for the canary until it is there or the trip's time is up, waiting in IDLE
/// between searches where offered (else polling), at most a [`slice`] at a time. The session comes back
/// unless a command failed (IDLE consumes it).
async fn arrival(
    mut s: Session,
    t: &Trip,
    idle: bool,
    timeout: Duration,
    deadline: Instant,
) -> (Result<u32, Failure>, Option<Session>) {
    let started = Instant::now();
    loop {
        match bounded(timeout, "SEARCH", watch::find(&mut s, &t.canary.message_id)).await {
            Ok(Some(uid)) => return (Ok(uid), Some(s)),
            Ok(None) => {}
            Err(f) => return (Err(f), Some(s)),
        }
        let now = Instant::now();
        if now >= deadline {
            let expunging = t
                .mailroom
                .as_ref()
                .is_some_and(|m| m.delete_after_delivery && m.expunge_deleted);
            let race = if expunging {
                "; mail_room expunges what it delivers (`expunge_deleted`), so it may have taken the canary before toolctl saw it: its log then shows `sending to deliverer`"
            } else {
                ""
            };
            return (
                Err(fail(
                    format!(
                        "the canary did not arrive in \"{}\" within {}",
                        t.mailbox.mailbox,
                        shown(t.within)
                    ),
                    format!(
                        "look for Message-ID {} in the relay's and the mail server's logs; check that the server delivers sub-addresses (`{}.address` with `%{{key}}`) into this mailbox, and its spam filter; `--within` waits longer{race}",
                        t.canary.message_id, t.kind
                    ),
                )),
                Some(s),
            );
        }
        let wait = (deadline - now).min(slice(now - started));
        if idle {
            match tokio::time::timeout(wait + timeout, watch::idle(s, wait)).await {
                Ok(Ok(back)) => s = back,
                Ok(Err(e)) => {
                    return (
                        Err(fail(
                            format!("IDLE failed: {}", imap_words(&e)),
                            "check the IMAP server's log",
                        )),
                        None,
                    )
                }
                Err(_) => {
                    return (
                        Err(fail(
                            format!("IDLE: no answer within {}", shown(wait + timeout)),
                            "the IMAP server stopped answering (`--timeout` raises the limit)",
                        )),
                        None,
                    )
                }
            }
        } else {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Waits until mail_room has read the canary (`\Seen` or gone) and logged `sending to
/// deliverer` for its UID in this mailbox: the log watch (to be read on for the push) and
/// the flags last seen (`None`: gone). A failure says whether the canary is untouched
/// (unread and still there: mail_room never took it, so toolctl may delete it).
async fn pick_up(
    s: &mut Session,
    m: &imap::Mailbox,
    kind: &'static str,
    uid: u32,
    mr: &mut Mailroom,
    timeout: Duration,
    deadline: Instant,
) -> Result<(Watch, Option<watch::Flags>), (Failure, bool)> {
    let log = match &mut mr.log {
        Ok(l) => l,
        Err(f) => return Err((fail(f.detail.clone(), f.hint.clone()), false)),
    };
    let mut w = Watch::new(u64::from(uid), &m.user, &m.mailbox, kind, mr.sidekiq);
    loop {
        let flags = bounded(timeout, "FETCH FLAGS", watch::flags(s, uid))
            .await
            .map_err(|f| (f, false))?;
        let read = flags.is_none_or(|f| f.seen);
        let lines = log.lines().map_err(|e| {
            let f = fail(
                format!("cannot read mail_room's log {}: {e}", log.shown),
                format!("check `{kind}.log_file`: it must name mail_room's JSON log"),
            );
            (f, false)
        })?;
        w.feed(&lines);
        if read && w.sending {
            return Ok((w, flags));
        }
        if Instant::now() >= deadline {
            let f = if read {
                fail(
                    format!(
                        "mail_room read UID {uid}, but its log {} shows no `sending to deliverer` for it",
                        log.shown
                    ),
                    format!(
                        "check that `{kind}.log_file` names the JSON log this mail_room writes (and that another mail_room, on another node, is not the one reading this mailbox)"
                    ),
                )
            } else {
                fail(
                    format!("mail_room did not pick the canary (UID {uid}) up"),
                    "check that mail_room runs and is connected (`toolctl status`; `gitlab-ctl status mailroom` or `systemctl status gitlab-mailroom`), and its log for `Disconnected`; `--within` waits longer",
                )
            };
            return Err((f, !read));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Reads mail_room's log on until the push that follows `sending to deliverer`.
async fn pushed(
    w: &mut Watch,
    mr: &mut Mailroom,
    kind: &str,
    deadline: Instant,
) -> Result<(Status, String, Option<String>), Failure> {
    let Ok(log) = &mut mr.log else {
        unreachable!("the pick-up read the log")
    };
    loop {
        if let Some(status) = w.pushed {
            return match status {
                None => Ok((Status::Ok, "mail_room pushed it to Sidekiq (Redis), which GitLab takes it from".to_string(), None)),
                Some(200) => Ok((
                    Status::Ok,
                    format!("GitLab accepted the postback to /api/v4/internal/mail_room/{kind}: 200"),
                    None,
                )),
                Some(401) => Err(fail(
                    format!("GitLab refused mail_room's postback to /api/v4/internal/mail_room/{kind}: 401"),
                    format!("the webhook secret mail_room signs with differs from GitLab's, or its token is stale (this host's clock), or GitLab has {kind} disabled: share one toolctl secrets store across nodes, run `toolctl reconfigure` on each, and restart GitLab and mail_room (`toolctl check --postback` tests the secret alone)"),
                )),
                Some(code) => Err(fail(
                    format!("GitLab answered mail_room's postback to /api/v4/internal/mail_room/{kind} with {code}"),
                    "check GitLab's log (production_json.log) at that time; `toolctl check --postback` repeats the request",
                )),
            };
        }
        if Instant::now() >= deadline {
            return Err(fail(
                format!(
                    "mail_room logged `sending to deliverer` but no `message pushed` line of its {} in {}",
                    if mr.sidekiq { "Sidekiq delivery" } else { "postback" },
                    log.shown
                ),
                "mail_room may be waiting on GitLab (a postback that hangs) or on Redis: check its log and GitLab's",
            ));
        }
        tokio::time::sleep(POLL).await;
        let lines = log.lines().map_err(|e| {
            fail(
                format!("cannot read mail_room's log {}: {e}", log.shown),
                format!("check `{kind}.log_file`"),
            )
        })?;
        w.feed(&lines);
    }
}

/// mail_room's deletion, or toolctl's of its own canary.
async fn cleanup(
    s: &mut Session,
    t: &Trip,
    uid: u32,
    uidplus: bool,
    mail_room_deletes: bool,
    timeout: Duration,
) -> Result<(Status, String, Option<String>), Failure> {
    if mail_room_deletes {
        let until = Instant::now() + DELETE_GRACE;
        loop {
            let flags = bounded(timeout, "FETCH FLAGS", watch::flags(s, uid)).await?;
            match flags {
                None => {
                    return Ok((
                        Status::Ok,
                        format!("mail_room deleted and expunged UID {uid}"),
                        None,
                    ))
                }
                Some(f) if f.deleted => {
                    let after = if t.mailroom.as_ref().is_some_and(|m| m.expunge_deleted) {
                        "mail_room expunges it"
                    } else {
                        "it stays until the mailbox is expunged (`expunge_deleted` is false)"
                    };
                    return Ok((
                        Status::Ok,
                        format!("mail_room flagged UID {uid} \\Deleted; {after}"),
                        None,
                    ));
                }
                Some(_) if Instant::now() >= until => break,
                Some(_) => tokio::time::sleep(POLL).await,
            }
        }
    }
    let m = &t.mailbox;
    let done = bounded(
        timeout,
        "the cleanup",
        watch::delete(s, &m.mailbox, uid, &t.canary.message_id, uidplus),
    )
    .await?;
    Ok(match done {
        Cleanup::Expunged => (
            Status::Ok,
            format!("toolctl deleted its canary, UID {uid}, and nothing else (UID STORE +FLAGS \\Deleted, UID EXPUNGE)"),
            None,
        ),
        Cleanup::FlaggedOnly => (
            Status::Warn,
            format!("toolctl flagged its canary, UID {uid}, \\Seen \\Deleted but left it in \"{}\": the server offers no UIDPLUS, and a plain EXPUNGE would remove every message flagged \\Deleted", m.mailbox),
            Some("it leaves the mailbox with the next expunge (mail_room's `expunge_deleted`, or a mail client's); GitLab ignores it meanwhile".to_string()),
        ),
        Cleanup::Gone => (
            Status::Ok,
            format!("UID {uid} was already gone; nothing was deleted"),
            None,
        ),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_canary_goes_to_a_sub_address_and_is_marked_auto_generated() {
        let c = super::canary("incoming+%{key}@example.com", "canary@example.org").unwrap();
        assert!(
            c.key.starts_with("toolctl-canary-") && c.key.len() == 31,
            "{}",
            c.key
        );
        assert_eq!(c.to, format!("incoming+{}@example.com", c.key));
        let text = String::from_utf8(c.raw.clone()).unwrap();
        assert!(
            text.contains("Auto-Submitted: auto-generated\r\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!("Message-ID: {}\r\n", c.message_id)),
            "{text}"
        );
        assert!(text.contains("From: canary@example.org\r\n"), "{text}");
        assert!(c.message_id.ends_with("@example.org>"));
        let other = super::canary("incoming+%{key}@example.com", "canary@example.org").unwrap();
        assert_ne!(c.key, other.key);
    }
}
