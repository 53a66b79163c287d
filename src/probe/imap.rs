//! The IMAP probe (async-imap on tokio, TLS by tokio-rustls): DNS → TCP → implicit TLS or
//! STARTTLS (which must be offered: otherwise the password is never sent) → certificate →
//! capabilities (IDLE) → LOGIN → EXAMINE the mailbox read-only → LOGOUT.

use std::sync::Arc;

use async_imap::error::Error as ImapError;
use async_imap::Client;
use imap_proto::{Response, Status as ImapStatus};
use rustls::ClientConfig;
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

/// The longest server line read: far above any line the probe's commands get back (the
/// unseen count comes from STATUS, not a SEARCH listing every message), so an endless
/// line fails instead of growing the buffer. Not more: async-imap parses its whole buffer
/// again after every 4 KiB read, so the work before the cap grows with its square.
pub const LINE_CAP: usize = 256 << 10;

/// Runs the IMAP steps after the settings and credential steps the caller recorded.
pub async fn probe(p: &mut Probe, m: Mailbox) {
    let Some(mut session) = login(p, &m).await else {
        return;
    };
    let masker = p.masker.clone();
    let Some(unseen) = p
        .step("mailbox", async {
            let status = session
                .status(&m.mailbox, "(UNSEEN)")
                .await
                .map_err(|e| mailbox_failure(e, &m, &masker))?;
            let unseen = status.unseen.unwrap_or(0);
            let mb = session
                .examine(&m.mailbox)
                .await
                .map_err(|e| mailbox_failure(e, &m, &masker))?;
            Ok((
                unseen,
                format!(
                    "\"{}\" (read-only): {} messages, {} unseen",
                    m.mailbox, mb.exists, unseen
                ),
            ))
        })
        .await
    else {
        return;
    };
    let mailbox = p.name.replace('-', "_");
    p.measure("mailbox_unseen", &[("mailbox", &mailbox)], unseen as f64);
    p.step("logout", async {
        session
            .logout()
            .await
            .map_err(|e| imap_failure(e, &masker))?;
        Ok(((), "logged out".to_string()))
    })
    .await;
}

/// DNS → TCP → TLS → greeting → capabilities → LOGIN, each a step of `p`: the logged-in
/// session, or `None` once the failing step is recorded. The Service Desk verification
/// watches a mailbox through this same path.
pub async fn login(p: &mut Probe, m: &Mailbox) -> Option<async_imap::Session<Conn>> {
    let (client, config) = open(p, m).await?;
    let mut client = if m.start_tls {
        starttls(p, m, client, config).await?
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
        client
    };
    let masker = p.masker.clone();
    let caps = p
        .step("capabilities", capabilities(&mut client, &masker))
        .await?;
    if caps.iter().any(|c| c.eq_ignore_ascii_case("LOGINDISABLED")) {
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
    if !caps.iter().any(|c| c.eq_ignore_ascii_case("IDLE")) {
        p.downgrade_last(
            format!("{} (no IDLE)", caps.join(" ")),
            "mail_room waits with IDLE; without it new mail is noticed late: enable IDLE on the server".into(),
        );
    }

    p.on_timeout(
        "servers delay the answer to a failed login, so the user or password may be wrong",
        format!(
            "check the `user` and `password` with `toolctl {} secret edit`, or allow the server more time (`--timeout 30`)",
            m.scope
        ),
    );
    p.step("login", async {
        match client.login(&m.user, m.password.as_str()).await {
            Ok(session) => Ok((
                session,
                format!("logged in as the `user` of the {} secret", m.scope),
            )),
            Err((e, _)) => Err(login_failure(e, m, &masker)),
        }
    })
    .await
}

/// DNS → TCP → implicit TLS when set → greeting: the client, and the TLS configuration
/// STARTTLS will use (`None` without TLS).
async fn open(p: &mut Probe, m: &Mailbox) -> Option<(Client<Conn>, Option<Arc<ClientConfig>>)> {
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
    let conn = if m.ssl {
        let config = config.clone().expect("ssl has a config");
        let stream = tls::upgrade(p, tcp, &m.host, config, &m.trust).await?;
        Conn::tls(stream, LINE_CAP, &p.live)
    } else {
        Conn::plain(tcp, LINE_CAP, &p.live)
    };
    let masker = p.masker.clone();

    let mut client = Client::new(conn);
    if !m.ssl && m.port == 993 {
        p.on_timeout(
            "port 993 is IMAP over implicit TLS, where the server waits for a TLS handshake first",
            format!(
                "set `{0}.ssl = true` and `{0}.start_tls = false` for port 993 (or use port 143 with `start_tls = true`)",
                m.table
            ),
        );
    }
    p.step("greeting", greeting(&mut client, &masker)).await?;
    Some((client, config))
}

/// STARTTLS (refused, password unsent, when the server does not offer it): the client on
/// the encrypted connection.
async fn starttls(
    p: &mut Probe,
    m: &Mailbox,
    mut client: Client<Conn>,
    config: Option<Arc<ClientConfig>>,
) -> Option<Client<Conn>> {
    let masker = p.masker.clone();
    let caps = p
        .step("capabilities", capabilities(&mut client, &masker))
        .await?;
    if !caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")) {
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
        client
            .run_command_and_check_ok("STARTTLS", None)
            .await
            .map_err(|e| imap_failure(e, &masker))?;
        Ok(((), "STARTTLS accepted".to_string()))
    })
    .await?;
    let Some(tcp) = client.into_inner().into_tcp() else {
        unreachable!("STARTTLS runs on plain TCP")
    };
    let config = config.expect("start_tls has a config");
    let stream = tls::upgrade(p, tcp, &m.host, config, &m.trust).await?;
    Some(Client::new(Conn::tls(stream, LINE_CAP, &p.live)))
}

fn fail_none<T>(p: &mut Probe, name: &str, f: Failure) -> Option<T> {
    p.fail_now(name, f);
    None
}

async fn greeting(client: &mut Client<Conn>, masker: &Masker) -> Result<((), String), Failure> {
    let bad = || {
        fail(
            "the server did not greet with `* OK`",
            "check that this port is an IMAP server's",
        )
    };
    let resp = client
        .read_response()
        .await
        .map_err(|e| io_failure(e, "reading the greeting"))?
        .ok_or_else(bad)?;
    match resp.parsed() {
        Response::Data {
            status: ImapStatus::Ok,
            outcome,
        } => Ok((
            (),
            mask::cut(
                &masker
                    .apply(format!("* OK {}", outcome.information.as_deref().unwrap_or("")).trim()),
                200,
            ),
        )),
        Response::Data {
            status: ImapStatus::Bye,
            outcome,
        } => Err(fail(
            format!(
                "the server said BYE: {}",
                mask::quote(masker, outcome.information.as_deref().unwrap_or(""))
            ),
            "the server refuses connections from this host (too many connections, or a block list)",
        )),
        _ => Err(bad()),
    }
}

/// An I/O error of the connection, in words (an over-long line is the server's fault).
fn io_failure(e: std::io::Error, what: &str) -> Failure {
    if let Some(long) = net::line_too_long(&e) {
        return fail(
            long.to_string(),
            "check that this port is an IMAP server's (143, 993): no IMAP server sends such lines to a probe",
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

/// CAPABILITY before login: async-imap offers it only on a logged-in session, so the
/// command is written here and the answers read through the client's parser.
async fn capabilities(
    client: &mut Client<Conn>,
    masker: &Masker,
) -> Result<(Vec<String>, String), Failure> {
    use tokio::io::AsyncWriteExt;
    let io = client.get_mut();
    io.write_all(b"TC1 CAPABILITY\r\n")
        .await
        .map_err(|e| io_failure(e, "CAPABILITY"))?;
    io.flush().await.map_err(|e| io_failure(e, "CAPABILITY"))?;
    let mut list = Vec::new();
    loop {
        let resp = client
            .read_response()
            .await
            .map_err(|e| io_failure(e, "CAPABILITY"))?
            .ok_or_else(|| {
                fail(
                    "CAPABILITY failed: the server closed the connection",
                    "check the server's log for why it disconnected",
                )
            })?;
        match resp.parsed() {
            Response::Capabilities(caps) => list.extend(caps.iter().map(|c| match c {
                imap_proto::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                imap_proto::Capability::Auth(a) => format!("AUTH={a}"),
                imap_proto::Capability::Atom(a) => a.to_string(),
            })),
            Response::Done {
                status: ImapStatus::Ok,
                ..
            } => break,
            Response::Done { outcome, .. } => {
                return Err(fail(
                    format!(
                        "CAPABILITY refused: {}",
                        mask::quote(masker, outcome.information.as_deref().unwrap_or(""))
                    ),
                    "check that this port is an IMAP server's",
                ))
            }
            _ => {}
        }
    }
    list.sort();
    let detail = list.join(" ");
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

fn mailbox_failure(e: ImapError, m: &Mailbox, masker: &Masker) -> Failure {
    match e {
        ImapError::No(text) => fail(
            format!(
                "cannot open mailbox \"{}\": {}",
                m.mailbox,
                mask::quote(masker, &server_text(&text))
            ),
            format!(
                "check `{}.mailbox` (usually \"inbox\"); incoming email and Service Desk need separate mailboxes",
                m.table
            ),
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
