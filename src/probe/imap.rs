//! The IMAP probe (TLS by tokio-rustls): DNS → TCP → implicit TLS or STARTTLS (which must
//! be offered: otherwise the password is never sent) → certificate → capabilities (IDLE) →
//! LOGIN → STATUS and EXAMINE of the mailbox, read-only → LOGOUT.
//!
//! The greeting, CAPABILITY and STARTTLS are read here, line by line through the caps of
//! [`Conn`]; the connection goes to async-imap for LOGIN and what follows, every answer
//! still capped (bytes per command, literal sizes). Round trips are saved where the
//! protocol allows, and only a real round trip is shown as a step: the capabilities that
//! come with the greeting are not asked for again (but they are after STARTTLS), STATUS
//! and EXAMINE are sent together, and LOGOUT is sent without waiting for the server's
//! `BYE` (as curl does not).

use std::sync::Arc;

use async_imap::error::Error as ImapError;
use async_imap::Client;
use imap_proto::{MailboxDatum, Response, StatusAttribute};
use rustls::ClientConfig;
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

use super::mask::{self, Masker};
use super::net::{self, Conn};
use super::tls::{self, Trust};
use super::{fail, Failure, Probe};

/// One mailbox to probe, as the services will be given it.
pub struct Mailbox {
    /// `incoming-email` or `service-desk-email` (for names and hints).
    pub scope: &'static str,
    /// `incoming_email` or `service_desk_email` (for setting names in hints).
    pub table: &'static str,
    pub host: String,
    pub port: u16,
    pub ssl: bool,
    pub start_tls: bool,
    pub mailbox: String,
    pub user: String,
    pub password: Zeroizing<String>,
    pub trust: Trust,
}

/// The longest server line read before login (greeting, CAPABILITY, STARTTLS, read here
/// in one pass): far above any such line, so an endless line fails instead of growing a
/// buffer.
pub const LINE_CAP: usize = 256 << 10;

/// The longest server line once async-imap reads (LOGIN and after): it parses its whole
/// buffer again after every 4 KiB read, so the work before the cap grows with the square
/// of the cap. Far above the lines of the probe's commands (the unseen count comes from
/// STATUS, not a SEARCH listing every message; message bodies come as literals).
pub const SESSION_LINE_CAP: usize = 64 << 10;

/// The most the probe reads in answer to one command (the greeting included), and the
/// largest literal it accepts: an endless stream of responses, or a literal announced as
/// `{999999999}`, fails the step instead of growing a buffer. A command whose answer is
/// known to be larger raises it with [`Conn::set_reply_cap`] (`session.get_mut()`).
pub const REPLY_CAP: usize = 256 << 10;

/// Runs the IMAP steps after the settings and credential steps the caller recorded.
pub async fn probe(p: &mut Probe, m: Mailbox) {
    let Some(mut session) = login(p, &m).await else {
        return;
    };
    let masker = p.masker.clone();
    let Some(unseen) = p.step("mailbox", mailbox(&mut session, &m, &masker)).await else {
        return;
    };
    let mailbox = p.name.replace('-', "_");
    p.measure("mailbox_unseen", &[("mailbox", &mailbox)], unseen as f64);
    p.step("logout", async {
        // Sent, not awaited: the server's `* BYE` and tagged OK tell nothing more.
        let io = session.get_mut();
        let sent = async {
            io.write_all(b"TL1 LOGOUT\r\n").await?;
            io.flush().await?;
            io.shutdown().await
        };
        sent.await.map_err(|e| io_failure(e, "LOGOUT"))?;
        Ok((
            (),
            "LOGOUT sent; the connection closed without waiting for the server's BYE".to_string(),
        ))
    })
    .await;
}

/// STATUS (the unseen count) and EXAMINE (read-only), sent together: one round trip.
async fn mailbox(
    session: &mut async_imap::Session<Conn>,
    m: &Mailbox,
    masker: &Masker,
) -> Result<(u32, String), Failure> {
    let name = quoted(&m.mailbox).ok_or_else(|| {
        fail(
            "the mailbox name holds a line break, which IMAP cannot send",
            format!("fix `{}.mailbox`", m.table),
        )
    })?;
    let io = session.get_mut();
    let sent = async {
        io.write_all(format!("TM1 STATUS {name} (UNSEEN)\r\nTM2 EXAMINE {name}\r\n").as_bytes())
            .await?;
        io.flush().await
    };
    sent.await
        .map_err(|e| io_failure(e, "STATUS and EXAMINE"))?;
    let (mut unseen, mut exists, mut refused) = (None, None, None);
    loop {
        let resp = session
            .read_response()
            .await
            .map_err(|e| io_failure(e, "EXAMINE"))?
            .ok_or_else(|| {
                fail(
                    "EXAMINE failed: the server closed the connection",
                    "check the server's log for why it disconnected",
                )
            })?;
        match resp.parsed() {
            Response::MailboxData(MailboxDatum::Status { status, .. }) => {
                for a in status {
                    if let StatusAttribute::Unseen(n) = a {
                        unseen = Some(*n);
                    }
                }
            }
            Response::MailboxData(MailboxDatum::Exists(n)) => exists = Some(*n),
            Response::Done {
                tag,
                status,
                outcome,
                ..
            } => {
                let text = outcome.information.as_deref().unwrap_or("").to_string();
                let ok = *status == imap_proto::Status::Ok;
                if !ok && refused.is_none() {
                    refused = Some(text);
                }
                if tag.0 == "TM2" {
                    break;
                }
            }
            _ => {}
        }
    }
    if let Some(text) = refused {
        return Err(fail(
            format!(
                "cannot open mailbox \"{}\": {}",
                m.mailbox,
                mask::quote(masker, &text)
            ),
            format!(
                "check `{}.mailbox` (usually \"inbox\"); incoming email and Service Desk need separate mailboxes",
                m.table
            ),
        ));
    }
    Ok((
        unseen.unwrap_or(0),
        format!(
            "\"{}\" (read-only): {} messages, {} unseen",
            m.mailbox,
            exists.unwrap_or(0),
            unseen.unwrap_or(0)
        ),
    ))
}

/// `text` as an IMAP quoted string, or `None` when it holds a line break.
fn quoted(text: &str) -> Option<String> {
    if text.contains(['\r', '\n', '\0']) {
        return None;
    }
    Some(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// DNS → TCP → TLS → greeting → capabilities → LOGIN, each a step of `p`: the logged-in
/// session, or `None` once the failing step is recorded. The Service Desk verification
/// and the round trip work through this same path.
pub async fn login(p: &mut Probe, m: &Mailbox) -> Option<async_imap::Session<Conn>> {
    let (conn, config, greeted) = open(p, m).await?;
    let masker = p.masker.clone();
    let (mut conn, greeted) = if m.start_tls {
        // The capabilities said before TLS are forgotten once it is on (RFC 3501 6.2.1).
        (starttls(p, m, conn, greeted, config).await?, None)
    } else {
        if !m.ssl {
            p.warn(
                "encryption",
                "none: the password crosses the network in clear",
                format!(
                    "set `{0}.ssl = true` (port 993) or `{0}.start_tls = true` (port 143)",
                    m.table
                ),
            );
        }
        (conn, greeted)
    };
    let caps = match greeted {
        Some(caps) => caps,
        None => {
            p.step("capabilities", capabilities(&mut conn, &masker))
                .await?
        }
    };
    if has(&caps, "LOGINDISABLED") {
        return fail_none(p,
            "login",
            fail(
                "the server advertises LOGINDISABLED: it refuses LOGIN on this unencrypted connection; the password was not sent",
                format!(
                    "encrypt the connection: `{0}.start_tls = true` (port 143) or `{0}.ssl = true` (port 993)",
                    m.table
                ),
            ),
        );
    }

    p.on_timeout(
        "servers delay the answer to a failed login, so the user or password may be wrong",
        format!(
            "check the `user` and `password` with `toolctl {} secret edit`, or allow the server more time (`--timeout 30`)",
            m.scope
        ),
    );
    conn.set_line_cap(SESSION_LINE_CAP);
    let client = Client::new(conn);
    let (session, after) = p
        .step("login", async {
            match client
                .login_with_capabilities(&m.user, m.password.as_str())
                .await
            {
                Ok((session, after)) => Ok((
                    (session, after),
                    format!("logged in as the `user` of the {} secret", m.scope),
                )),
                Err((e, _)) => Err(login_failure(e, m, &masker)),
            }
        })
        .await?;
    // IDLE as the logged-in session has it: the LOGIN answer's list when it carried one
    // (servers add commands after login), else the one before.
    let idle = match &after {
        Some(after) => after.has_str("IDLE"),
        None => has(&caps, "IDLE"),
    };
    if !idle {
        p.warn(
            "idle",
            "the server does not advertise IDLE",
            "mail_room waits with IDLE; without it new mail is noticed late: enable IDLE on the server",
        );
    }
    Some(session)
}

fn has(caps: &[String], name: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// A connection of the probe: lines and answers capped, `TCP_QUICKACK` kept on.
fn capped(conn: Conn) -> Conn {
    conn.with_reply_cap(REPLY_CAP).with_quickack()
}

/// The capabilities a greeting carried (`* OK [CAPABILITY …] …`), if any.
type Greeted = Option<Vec<String>>;

/// DNS → TCP → implicit TLS when set → greeting: the connection, the TLS configuration
/// STARTTLS will use (`None` without TLS), and the capabilities the greeting carried.
async fn open(p: &mut Probe, m: &Mailbox) -> Option<(Conn, Option<Arc<ClientConfig>>, Greeted)> {
    let trust_config = if m.ssl || m.start_tls {
        Some(tls::config(&m.trust))
    } else {
        None
    };
    let addrs = p.step("dns", net::resolve(&m.host, m.port)).await?;
    let tcp = p.step("tcp", net::connect(&addrs, "IMAP")).await?;

    let config = match trust_config {
        Some(Ok(c)) => Some(c),
        Some(Err(f)) => return fail_none(p, "tls", f),
        None => None,
    };
    let mut conn = if m.ssl {
        let config = config.clone().expect("ssl has a config");
        let stream = tls::upgrade(p, tcp, &m.host, config, &m.trust).await?;
        capped(Conn::tls(stream, LINE_CAP, &p.live))
    } else {
        capped(Conn::plain(tcp, LINE_CAP, &p.live))
    };
    let masker = p.masker.clone();
    if !m.ssl && m.port == 993 {
        p.on_timeout(
            "port 993 is IMAP over implicit TLS, where the server waits for a TLS handshake first",
            format!(
                "set `{0}.ssl = true` and `{0}.start_tls = false` for port 993 (or use port 143 with `start_tls = true`)",
                m.table
            ),
        );
    }
    let greeted = p.step("greeting", greeting(&mut conn, &masker)).await?;
    Some((conn, config, greeted))
}

/// STARTTLS (refused, password unsent, when the server does not offer it): the
/// connection, encrypted.
async fn starttls(
    p: &mut Probe,
    m: &Mailbox,
    mut conn: Conn,
    greeted: Greeted,
    config: Option<Arc<ClientConfig>>,
) -> Option<Conn> {
    let masker = p.masker.clone();
    let caps = match greeted {
        Some(caps) => caps,
        None => {
            p.step("capabilities", capabilities(&mut conn, &masker))
                .await?
        }
    };
    if !has(&caps, "STARTTLS") {
        return fail_none(p,
            "starttls",
            fail(
                "the server does not offer STARTTLS; the password was not sent",
                format!(
                    "enable TLS on the IMAP server, or use implicit TLS: `{0}.ssl = true`, `{0}.start_tls = false`, port 993",
                    m.table
                ),
            ),
        );
    }
    p.step("starttls", async {
        let (ok, text) = command(&mut conn, "TS1", "STARTTLS", |_| {}).await?;
        if !ok {
            return Err(fail(
                format!("STARTTLS refused: {}", mask::quote(&masker, &text)),
                "check the IMAP server's TLS settings and its log",
            ));
        }
        if conn.has_unread() {
            return Err(fail(
                "the server sent more after accepting STARTTLS, before the TLS handshake (a command injection); the password was not sent",
                "check the path to the server: something in between adds data to the connection",
            ));
        }
        Ok(((), "STARTTLS accepted".to_string()))
    })
    .await?;
    let Some(tcp) = conn.into_tcp() else {
        unreachable!("STARTTLS runs on plain TCP")
    };
    let config = config.expect("start_tls has a config");
    let stream = tls::upgrade(p, tcp, &m.host, config, &m.trust).await?;
    Some(capped(Conn::tls(stream, LINE_CAP, &p.live)))
}

fn fail_none<T>(p: &mut Probe, name: &str, f: Failure) -> Option<T> {
    p.fail_now(name, f);
    None
}

/// A server line as text (lossy: a Latin-1 greeting still reads).
fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

/// `* WORD rest` or `TAG WORD rest`: the tag, the word (upper case) and the rest.
fn split(line: &str) -> (&str, String, &str) {
    let mut words = line.splitn(3, ' ');
    let tag = words.next().unwrap_or("");
    let word = words.next().unwrap_or("").to_ascii_uppercase();
    (tag, word, words.next().unwrap_or(""))
}

/// The capabilities in a `[CAPABILITY …]` response code at the start of `rest`, and the
/// text after it.
fn capability_code(rest: &str) -> (Option<Vec<String>>, &str) {
    let prefix = "[CAPABILITY ";
    if rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
        if let Some(end) = rest.find(']') {
            let list = rest[prefix.len()..end]
                .split_ascii_whitespace()
                .map(str::to_string)
                .collect();
            return (Some(list), rest[end + 1..].trim_start());
        }
    }
    (None, rest)
}

async fn greeting(conn: &mut Conn, masker: &Masker) -> Result<(Greeted, String), Failure> {
    let bad = || {
        fail(
            "the server did not greet with `* OK`",
            "check that this port is an IMAP server's",
        )
    };
    let line = conn
        .read_line()
        .await
        .map_err(|e| io_failure(e, "reading the greeting"))?
        .ok_or_else(|| {
            fail(
                "reading the greeting failed: the server closed the connection",
                "check the server's log for why it disconnected",
            )
        })?;
    let line = text(&line);
    let (tag, word, rest) = split(&line);
    if tag != "*" {
        return Err(bad());
    }
    match word.as_str() {
        "OK" => {
            let (caps, rest) = capability_code(rest);
            let mut detail = mask::cut(&masker.apply(format!("* OK {rest}").trim()), 200);
            let caps = caps.map(|mut caps| {
                caps.sort();
                detail = format!(
                    "{detail} (capabilities sent with it: {})",
                    mask::cut(&masker.apply(&caps.join(" ")), 2000)
                );
                caps
            });
            Ok((caps, detail))
        }
        "BYE" => Err(fail(
            format!("the server said BYE: {}", mask::quote(masker, rest)),
            "the server refuses connections from this host (too many connections, or a block list)",
        )),
        _ => Err(bad()),
    }
}

/// Sends `TAG COMMAND` and reads to its tagged answer, each untagged line to `untagged`:
/// whether the answer was OK, and its text (after any response code).
async fn command(
    conn: &mut Conn,
    tag: &str,
    cmd: &str,
    mut untagged: impl FnMut(&str),
) -> Result<(bool, String), Failure> {
    let send = async {
        conn.write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await?;
        conn.flush().await
    };
    send.await.map_err(|e| io_failure(e, cmd))?;
    loop {
        let line = conn
            .read_line()
            .await
            .map_err(|e| io_failure(e, cmd))?
            .ok_or_else(|| {
                fail(
                    format!("{cmd} failed: the server closed the connection"),
                    "check the server's log for why it disconnected",
                )
            })?;
        let line = text(&line);
        let (t, word, rest) = split(&line);
        if t == "*" {
            untagged(&line);
        } else if t == tag {
            return Ok((word == "OK", rest.to_string()));
        } else if t != "+" {
            return Err(fail(
                format!("{cmd} failed: the server's answer is not IMAP"),
                "check that this port is an IMAP server's (143, 993)",
            ));
        }
    }
}

/// An I/O error of the connection, in words (an over-long line or answer is the
/// server's fault).
fn io_failure(e: std::io::Error, what: &str) -> Failure {
    if let Some(long) = net::over_cap(&e) {
        return fail(
            long,
            "check that this port is an IMAP server's (143, 993): no IMAP server sends such answers to a probe",
        );
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => fail(
            format!("{what} failed: the server closed the connection"),
            "check the server's log for why it disconnected",
        ),
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other => fail(
            format!("{what} failed: the server's answer is not IMAP"),
            "check that this port is an IMAP server's (143, 993)",
        ),
        _ => fail(
            format!("{what} failed: {}", net::words(&e)),
            "check the network and the server's log",
        ),
    }
}

/// CAPABILITY, read here (before login async-imap does not offer it): the sorted list.
async fn capabilities(conn: &mut Conn, masker: &Masker) -> Result<(Vec<String>, String), Failure> {
    let mut list = Vec::new();
    let (ok, text) = command(conn, "TC1", "CAPABILITY", |line| {
        let (_, word, rest) = split(line);
        if word == "CAPABILITY" {
            list.extend(rest.split_ascii_whitespace().map(str::to_string));
        }
    })
    .await?;
    if !ok {
        return Err(fail(
            format!("CAPABILITY refused: {}", mask::quote(masker, &text)),
            "check that this port is an IMAP server's",
        ));
    }
    if list.is_empty() {
        // Some servers answer with the code of the tagged OK only.
        if let (Some(caps), _) = capability_code(&text) {
            list = caps;
        }
    }
    list.sort();
    let detail = mask::cut(&masker.apply(&list.join(" ")), 2000);
    Ok((list, detail))
}

/// The server's text inside an async-imap error, which arrives as a `Debug` rendering
/// (`code: None, info: Some("…")`, `outcome: …`): the quoted text, unescaped, or nothing.
fn server_text(debug: &str) -> String {
    let start = ["info: Some(\"", "information: Some(\""]
        .iter()
        .find_map(|k| debug.find(k).map(|i| i + k.len()));
    let Some(start) = start else {
        return String::new();
    };
    let mut out = String::new();
    let mut chars = debug[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push(' '),
                Some('r') | Some('t') => out.push(' '),
                Some('u') => {
                    let code: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    if let Some(ch) = u32::from_str_radix(&code, 16).ok().and_then(char::from_u32) {
                        out.push(ch);
                    }
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

fn login_failure(e: ImapError, m: &Mailbox, masker: &Masker) -> Failure {
    match e {
        ImapError::No(text) if text.to_ascii_uppercase().contains("AUTHENTICATIONFAILED") || text.to_ascii_lowercase().contains("authentication failed") => fail(
            "authentication failed: the server refused the user name or password",
            format!(
                "check the `user` and `password` of the secret with `toolctl {} secret edit` (Gmail and Office 365 with 2FA need an app password)",
                m.scope
            ),
        ),
        ImapError::No(text) => fail(
            format!("LOGIN refused: {}", mask::quote(masker, &server_text(&text))),
            format!("check the credentials with `toolctl {} secret edit`, and that IMAP login is allowed for this account", m.scope),
        ),
        ImapError::Validate(_) => fail(
            "the user or password holds a line break, which IMAP LOGIN cannot send; nothing was sent",
            format!("fix the secret with `toolctl {} secret edit`", m.scope),
        ),
        other => imap_failure(other, masker),
    }
}

fn imap_failure(e: ImapError, masker: &Masker) -> Failure {
    match e {
        ImapError::Io(io) => io_failure(io, "the command"),
        ImapError::ConnectionLost => fail(
            "the server closed the connection",
            "check the server's log for why it disconnected",
        ),
        ImapError::No(text) => fail(
            format!(
                "the server answered NO: {}",
                mask::quote(masker, &server_text(&text))
            ),
            "check the server's log",
        ),
        ImapError::Bad(text) => fail(
            format!(
                "the server answered BAD: {}",
                mask::quote(masker, &server_text(&text))
            ),
            "check the server's log",
        ),
        ImapError::Parse(_) => fail(
            "the server's answer could not be read as IMAP",
            "check that this port is an IMAP server's (143, 993)",
        ),
        _ => fail("the IMAP dialogue failed", "check the server's log"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_text_is_read_out_of_async_imaps_debug_rendering() {
        assert_eq!(
            super::server_text(r#"code: None, info: Some("you sent: a \"b\\c\" \u{e9}")"#),
            "you sent: a \"b\\c\" \u{e9}"
        );
        assert_eq!(super::server_text("code: None, info: None"), "");
    }
}
