//! The IMAP probe (async-imap on tokio, TLS by tokio-rustls): DNS → TCP → implicit TLS or
//! STARTTLS (which must be offered: otherwise the password is never sent) → certificate →
//! capabilities (IDLE) → LOGIN → EXAMINE the mailbox read-only → LOGOUT.

use async_imap::error::Error as ImapError;
use async_imap::Client;
use imap_proto::{Response, Status as ImapStatus};
use zeroize::Zeroizing;

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

/// Runs the IMAP steps after the settings and credential steps the caller recorded.
pub async fn probe(p: &mut Probe, m: Mailbox) {
    let trust_config = if m.ssl || m.start_tls {
        Some(tls::config(&m.trust))
    } else {
        None
    };
    let Some(addrs) = p.step("dns", net::resolve(&m.host, m.port)).await else {
        return;
    };
    let Some(tcp) = p.step("tcp", net::connect(&addrs, "IMAP")).await else {
        return;
    };

    let config = match trust_config {
        Some(Ok(c)) => Some(c),
        Some(Err(f)) => return p.fail_now("tls", f),
        None => None,
    };
    let mut conn = Conn::Plain(tcp);
    if m.ssl {
        let Conn::Plain(tcp) = conn else {
            unreachable!()
        };
        let config = config.clone().expect("ssl has a config");
        let Some(stream) = tls::upgrade(p, tcp, &m.host, config, &m.trust).await else {
            return;
        };
        conn = Conn::Tls(Box::new(stream));
    }

    let mut client = Client::new(conn);
    let Some(()) = p.step("greeting", greeting(&mut client)).await else {
        return;
    };

    if m.start_tls {
        let caps = p.step("capabilities", capabilities(&mut client)).await;
        let Some(caps) = caps else { return };
        if !caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")) {
            return p.fail_now(
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
        let Some(()) = p
            .step("starttls", async {
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(imap_failure)?;
                Ok(((), "STARTTLS accepted".to_string()))
            })
            .await
        else {
            return;
        };
        let Conn::Plain(tcp) = client.into_inner() else {
            unreachable!("STARTTLS runs on plain TCP")
        };
        let config = config.clone().expect("start_tls has a config");
        let Some(stream) = tls::upgrade(p, tcp, &m.host, config, &m.trust).await else {
            return;
        };
        client = Client::new(Conn::Tls(Box::new(stream)));
    } else if !m.ssl {
        p.warn(
            "encryption",
            "none: the password crosses the network in clear",
            format!(
                "set `{0}.ssl = true` (port 993) or `{0}.start_tls = true` (port 143)",
                m.table
            ),
        );
    }

    let Some(caps) = p.step("capabilities", capabilities(&mut client)).await else {
        return;
    };
    if !caps.iter().any(|c| c.eq_ignore_ascii_case("IDLE")) {
        p.downgrade_last(
            format!("{} (no IDLE)", caps.join(" ")),
            "mail_room waits with IDLE; without it new mail is noticed late: enable IDLE on the server".into(),
        );
    }

    let login = p
        .step("login", async {
            match client.login(&m.user, m.password.as_str()).await {
                Ok(session) => Ok((
                    session,
                    format!("logged in as the `user` of the {} secret", m.scope),
                )),
                Err((e, _)) => Err(login_failure(e, &m)),
            }
        })
        .await;
    let Some(mut session) = login else { return };

    let Some(()) = p
        .step("mailbox", async {
            let mb = session
                .examine(&m.mailbox)
                .await
                .map_err(|e| mailbox_failure(e, &m))?;
            let unseen = session
                .search("UNSEEN")
                .await
                .map(|s| s.len())
                .map_err(imap_failure)?;
            Ok((
                (),
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
    p.step("logout", async {
        session.logout().await.map_err(imap_failure)?;
        Ok(((), "logged out".to_string()))
    })
    .await;
}

async fn greeting(client: &mut Client<Conn>) -> Result<((), String), Failure> {
    let bad = || {
        fail(
            "the server did not greet with `* OK`",
            "check that this port is an IMAP server's",
        )
    };
    let resp = client
        .read_response()
        .await
        .map_err(|e| {
            fail(
                format!("reading the greeting failed: {e}"),
                "check that this port is an IMAP server's",
            )
        })?
        .ok_or_else(bad)?;
    match resp.parsed() {
        Response::Data {
            status: ImapStatus::Ok,
            outcome,
        } => Ok((
            (),
            format!("* OK {}", outcome.information.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
        )),
        Response::Data {
            status: ImapStatus::Bye,
            outcome,
        } => Err(fail(
            format!(
                "the server said BYE: {}",
                outcome.information.as_deref().unwrap_or("")
            ),
            "the server refuses connections from this host (too many connections, or a block list)",
        )),
        _ => Err(bad()),
    }
}

/// CAPABILITY before login: async-imap offers it only on a logged-in session, so the
/// command is written here and the answers read through the client's parser.
async fn capabilities(client: &mut Client<Conn>) -> Result<(Vec<String>, String), Failure> {
    use tokio::io::AsyncWriteExt;
    let broken = |e: String| {
        fail(
            format!("CAPABILITY failed: {e}"),
            "check that this port is an IMAP server's",
        )
    };
    let io = client.get_mut();
    io.write_all(b"TC1 CAPABILITY\r\n")
        .await
        .map_err(|e| broken(e.to_string()))?;
    io.flush().await.map_err(|e| broken(e.to_string()))?;
    let mut list = Vec::new();
    loop {
        let resp = client
            .read_response()
            .await
            .map_err(|e| broken(e.to_string()))?
            .ok_or_else(|| broken("the server closed the connection".into()))?;
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
                return Err(broken(
                    outcome
                        .information
                        .as_deref()
                        .unwrap_or("refused")
                        .to_string(),
                ))
            }
            _ => {}
        }
    }
    list.sort();
    let detail = list.join(" ");
    Ok((list, detail))
}

fn login_failure(e: ImapError, m: &Mailbox) -> Failure {
    match e {
        ImapError::No(text) if text.contains("AUTHENTICATIONFAILED") || text.to_ascii_lowercase().contains("authentication failed") => fail(
            "authentication failed: the server refused the user name or password",
            format!(
                "check the `user` and `password` of the secret with `toolctl {} secret edit` (Gmail and Office 365 with 2FA need an app password)",
                m.scope
            ),
        ),
        ImapError::No(text) => fail(
            format!("LOGIN refused: {text}"),
            format!("check the credentials with `toolctl {} secret edit`, and that IMAP login is allowed for this account", m.scope),
        ),
        other => imap_failure(other),
    }
}

fn mailbox_failure(e: ImapError, m: &Mailbox) -> Failure {
    match e {
        ImapError::No(text) => fail(
            format!("cannot open mailbox \"{}\": {text}", m.mailbox),
            format!(
                "check `{}.mailbox` (usually \"inbox\"); incoming email and Service Desk need separate mailboxes",
                m.table
            ),
        ),
        other => imap_failure(other),
    }
}

fn imap_failure(e: ImapError) -> Failure {
    match e {
        ImapError::Io(io) => fail(
            format!("connection failed: {io}"),
            "check the network and the server's log",
        ),
        ImapError::ConnectionLost => fail(
            "the server closed the connection",
            "check the server's log for why it disconnected",
        ),
        other => fail(format!("{other}"), "check the server's log"),
    }
}
