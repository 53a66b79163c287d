//! The SMTP probe: DNS → TCP → (implicit TLS) → greeting → EHLO (every extension) →
//! STARTTLS → EHLO → AUTH methods offered (as swaks shows `250-AUTH …`) → AUTH (PLAIN,
//! LOGIN or CRAM-MD5: the configured one, or the strongest offered) → optionally
//! MAIL/RCPT/DATA of a small test message → QUIT.
//!
//! The dialogue is toolctl's own, a few lines per command: lettre's connection bundles
//! connect, greeting and EHLO in one call, keeps only some EHLO lines, has no CRAM-MD5 and
//! times out only the TCP connect, while every step here needs its own row and timeout.
//! lettre builds the test message.

use std::sync::Arc;

use base64::Engine;
use hmac::{Hmac, Mac};
use rustls::ClientConfig;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use zeroize::Zeroizing;

use super::mask::{self, Masker};
use super::net::{self, Conn};
use super::tls::{self, Trust};
use super::{fail, Failure, Probe};

/// The relay as the services will be given it.
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub starttls_auto: bool,
    /// `--allow-plaintext-auth`: go on to AUTH when `starttls_auto` is set and the server
    /// does not offer STARTTLS (the credentials then cross the network in clear).
    pub allow_plaintext_auth: bool,
    /// `plain`, `login`, `cram_md5`, `xoauth2`, `none`, or `None`: the strongest offered.
    pub authentication: Option<String>,
    pub helo: String,
    pub user: Option<String>,
    pub password: Option<Zeroizing<String>>,
    pub trust: Trust,
    /// `email.from`, for the test message.
    pub from: Option<String>,
    pub send_to: Option<String>,
    /// The whole message to send to `send_to` instead of the test message (the Service Desk
    /// verification mail); `from` is its envelope sender.
    pub message: Option<Vec<u8>>,
}

/// The longest reply line read (RFC 5321 allows 512 octets; real servers exceed it a
/// little, so with slack).
pub const LINE_CAP: usize = 2048;
/// The most lines of one multi-line reply.
const REPLY_LINES_CAP: usize = 200;

/// A server reply: code and text lines (read as bytes, shown lossily: a Latin-1
/// greeting is no reason to fail).
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join(" / ")
    }
    fn first(&self, masker: &Masker) -> String {
        format!(
            "{} {}",
            self.code,
            mask::cut(
                &masker.apply(self.lines.first().map(String::as_str).unwrap_or("")),
                200
            )
        )
    }
    /// The code and the quoted, masked, cut text, for a failure's detail.
    fn quoted(&self, masker: &Masker) -> String {
        format!("{} {}", self.code, mask::quote(masker, &self.text()))
    }
}

fn io_failure(e: std::io::Error) -> Failure {
    if let Some(long) = net::line_too_long(&e) {
        return fail(
            long.to_string(),
            "check that this port is an SMTP server's (25, 465, 587): no mail server sends such lines",
        );
    }
    fail(
        format!("connection failed: {}", net::words(&e)),
        "check the network and the server's log",
    )
}

struct Session {
    io: BufReader<Conn>,
    masker: Masker,
}

impl Session {
    async fn reply(&mut self) -> Result<Reply, Failure> {
        let mut lines = Vec::new();
        loop {
            let mut raw = Vec::new();
            let n = self
                .io
                .read_until(b'\n', &mut raw)
                .await
                .map_err(io_failure)?;
            if n == 0 {
                return Err(fail(
                    "the server closed the connection",
                    "check the server's log for why it disconnected",
                ));
            }
            let text = String::from_utf8_lossy(&raw);
            let line = text.trim_end();
            let code = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<u16>().ok())
                .ok_or_else(|| {
                    fail(
                        format!(
                            "the server's answer is not SMTP: {}",
                            mask::quote(&self.masker, line)
                        ),
                        "check that this port is an SMTP server's (25, 465, 587)",
                    )
                })?;
            lines.push(line.get(4..).unwrap_or("").to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= REPLY_LINES_CAP {
                return Err(fail(
                    format!("the server's reply did not end after {REPLY_LINES_CAP} lines; the probe stopped reading"),
                    "check that this port is an SMTP server's (25, 465, 587)",
                ));
            }
        }
    }

    /// Sends one command line and reads the reply (callers never quote a credential line).
    async fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        let io = self.io.get_mut();
        io.write_all(format!("{line}\r\n").as_bytes())
            .await
            .and(io.flush().await)
            .map_err(io_failure)?;
        self.reply().await
    }

    async fn expect(
        &mut self,
        line: &str,
        code: u16,
        what: &str,
        hint: &str,
    ) -> Result<Reply, Failure> {
        let r = self.command(line).await?;
        if r.code != code {
            return Err(fail(
                format!("{what} refused: {}", r.quoted(&self.masker)),
                hint,
            ));
        }
        Ok(r)
    }
}

/// Runs the SMTP steps after the settings and credential steps the caller recorded.
pub async fn probe(p: &mut Probe, mut r: Relay) {
    let config = match tls::config(&r.trust) {
        Ok(c) => c,
        Err(f) => return p.fail_now("tls", f),
    };
    let Some((mut s, mut encrypted, exchange)) = open(p, &r, &config).await else {
        return;
    };
    let ehlo = format!("EHLO {}", r.helo);
    let Some(mut ext) = p.step("ehlo", extensions(&mut s, &ehlo)).await else {
        return;
    };
    if !r.tls && r.starttls_auto {
        let Some((again, extensions, upgraded)) = starttls(p, &r, s, ext, &config, &ehlo).await
        else {
            return;
        };
        (s, ext) = (again, extensions);
        encrypted |= upgraded;
    }
    let Some(()) = auth(p, &r, &mut s, &ext, encrypted, exchange).await else {
        return;
    };
    if let Some(to) = &r.send_to {
        // The sender is `email.from` only: the relay's user name is part of a secret and
        // must not end up quoted in a message.
        let Some(from) = r.from.clone() else {
            return p.fail_now(
                "send",
                fail("no sender address", "set `email.from` in toolctl.toml"),
            );
        };
        let Some(()) = p
            .step("send", send(&mut s, &from, to, &r.helo, r.message.take()))
            .await
        else {
            return;
        };
    }
    p.step("quit", async {
        let rep = s.command("QUIT").await?;
        Ok(((), rep.first(&s.masker)))
    })
    .await;
}

/// DNS, TCP, implicit TLS when set, and the greeting: the session, whether it is
/// encrypted, and whether the relay is Exchange Online (by its host or its greeting). `None` when a step failed (recorded).
async fn open(
    p: &mut Probe,
    r: &Relay,
    config: &Arc<ClientConfig>,
) -> Option<(Session, bool, bool)> {
    let addrs = p.step("dns", net::resolve(&r.host, r.port)).await?;
    let tcp = p.step("tcp", net::connect(&addrs, "SMTP")).await?;
    let mut encrypted = false;
    let conn = if r.tls {
        let stream = tls::upgrade(p, tcp, &r.host, config.clone(), &r.trust).await?;
        encrypted = true;
        Conn::tls(stream, LINE_CAP, &p.live)
    } else {
        Conn::plain(tcp, LINE_CAP, &p.live)
    };
    let mut s = Session {
        io: BufReader::new(conn),
        masker: p.masker.clone(),
    };
    if !r.tls && r.port == 465 {
        p.on_timeout(
            "port 465 is SMTP over implicit TLS, where the server waits for a TLS handshake first",
            "set `smtp.tls = true` (and leave `smtp.enable_starttls_auto` unset) for port 465 (or use port 587 with STARTTLS)",
        );
    }
    let exchange = p
        .step("greeting", async {
            let g = s.reply().await?;
            if g.code != 220 {
                return Err(fail(
                    format!("the server refused the session: {}", g.quoted(&s.masker)),
                    "check the server's log; it may block this host",
                ));
            }
            Ok((exchange_greeting(&g.text()), g.first(&s.masker)))
        })
        .await?;
    Some((s, encrypted, exchange || exchange_host(&r.host)))
}

/// The date Exchange Online turns SMTP AUTH with passwords off by default (Microsoft's
/// Exchange Team, 27 January 2026); new tenants cannot have it at all.
pub const EXCHANGE_CUTOFF: &str = "the end of December 2026";

/// Exchange Online's SMTP AUTH host names.
pub fn exchange_host(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    ["smtp.office365.com", "smtp-mail.outlook.com"]
        .iter()
        .any(|x| h.eq_ignore_ascii_case(x))
}

/// Exchange Online's greeting: `220 <server>.outlook.office365.com Microsoft ESMTP MAIL
/// Service ready at …`.
pub fn exchange_greeting(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("").to_ascii_lowercase();
    first
        .split_whitespace()
        .next()
        .is_some_and(|h| h.ends_with(".outlook.office365.com"))
        && first.contains("microsoft esmtp mail service ready")
}

/// The hint for Exchange Online's two `535 5.7.139` refusals, which need different fixes.
pub fn exchange_refusal(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    if !t.contains("5.7.139") {
        return None;
    }
    if t.contains("smtpclientauthentication is disabled for the tenant") {
        Some("SMTP AUTH is turned off for the whole tenant: an Exchange administrator can turn it on for this mailbox only (`Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false`) until Exchange Online's cut-off at the end of December 2026; the lasting fix is GitLab's Microsoft Graph mailer (`[microsoft_graph_mailer]`)")
    } else if t.contains("basic authentication is disabled") {
        Some("the tenant blocks basic authentication altogether (Security defaults, or an authentication policy that blocks basic SMTP AUTH): turning SMTP AUTH on for the mailbox does not help; use GitLab's Microsoft Graph mailer (`[microsoft_graph_mailer]`: user_id, tenant, client_id, client_secret) instead of `[smtp]`")
    } else {
        None
    }
}

/// GitLab's opportunistic STARTTLS (`enable_starttls_auto`): the upgrade and a second
/// EHLO when the server offers it, else a warning, or a stop when a password would go in
/// clear. Returns the session, its extensions and whether it was upgraded.
async fn starttls(
    p: &mut Probe,
    r: &Relay,
    mut s: Session,
    ext: Vec<String>,
    config: &Arc<ClientConfig>,
    ehlo: &str,
) -> Option<(Session, Vec<String>, bool)> {
    if ext.iter().any(|e| e.eq_ignore_ascii_case("STARTTLS")) {
        p.step("starttls", async {
            let rep = s
                .expect(
                    "STARTTLS",
                    220,
                    "STARTTLS",
                    "check the server's TLS configuration",
                )
                .await?;
            Ok(((), rep.first(&s.masker)))
        })
        .await?;
        let Some(tcp) = s.io.into_inner().into_tcp() else {
            unreachable!("STARTTLS runs on plain TCP")
        };
        let stream = tls::upgrade(p, tcp, &r.host, config.clone(), &r.trust).await?;
        let mut s = Session {
            io: BufReader::new(Conn::tls(stream, LINE_CAP, &p.live)),
            masker: p.masker.clone(),
        };
        let again = p.step("ehlo", extensions(&mut s, ehlo)).await?;
        return Some((s, again, true));
    }
    if r.authentication.as_deref() == Some("none") {
        p.warn(
            "starttls",
            "not offered by the server: the session stays unencrypted",
            "enable STARTTLS on the relay, or use implicit TLS (`smtp.tls = true`, port 465)",
        );
    } else if r.allow_plaintext_auth {
        p.warn(
            "starttls",
            "not offered by the server: the session stays unencrypted, and the credentials are sent in clear (--allow-plaintext-auth)",
            "enable STARTTLS on the relay, or use implicit TLS (`smtp.tls = true`, port 465)",
        );
    } else {
        // The probe could send the secret where GitLab would (its STARTTLS is
        // opportunistic), but a server or a man in the middle that strips STARTTLS
        // must not get it from a check.
        p.fail_now(
            "starttls",
            fail(
                "not offered by the server: GitLab's opportunistic STARTTLS (`enable_starttls_auto`) would go on unencrypted and send the password in clear; the probe stopped before AUTH",
                "enable STARTTLS on the relay (if it does offer it, something between here and the relay strips it), or use implicit TLS (`smtp.tls = true`, port 465); `--allow-plaintext-auth` sends the credentials anyway",
            ),
        );
        return None;
    }
    Some((s, ext, false))
}

/// The AUTH methods the server offers (`250-AUTH …`), upper case.
fn offered_auth(ext: &[String]) -> Vec<String> {
    ext.iter()
        .find(|e| {
            e.to_ascii_uppercase().starts_with("AUTH ")
                || e.to_ascii_uppercase().starts_with("AUTH=")
        })
        .map(|e| {
            e[5..]
                .split_whitespace()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default()
}

/// The method `smtp.authentication` names, else the strongest offered (`offered` is not
/// empty).
fn chosen(wanted: Option<&str>, offered: &[String]) -> String {
    match wanted {
        Some(m) => m.to_ascii_uppercase().replace('_', "-"),
        None => ["CRAM-MD5", "PLAIN", "LOGIN"]
            .iter()
            .find(|m| offered.iter().any(|o| o == *m))
            .map(|m| m.to_string())
            .unwrap_or_else(|| offered[0].clone()),
    }
}

/// The auth steps: the methods offered, the one chosen, and the login. `None` when the
/// probe stopped (recorded).
async fn auth(
    p: &mut Probe,
    r: &Relay,
    s: &mut Session,
    ext: &[String],
    encrypted: bool,
    exchange: bool,
) -> Option<()> {
    let offered = offered_auth(ext);
    let wanted = r.authentication.as_deref();
    if wanted == Some("none") {
        p.skip("auth", "authentication = \"none\"");
        return Some(());
    }
    if offered.is_empty() {
        let hint = if encrypted {
            "the relay does not offer authentication on this port: enable SMTP AUTH on it (Postfix: `smtpd_sasl_auth_enable = yes`), use its submission port, or set `smtp.authentication = \"none\"` for a relay that needs none"
        } else {
            "many relays offer AUTH only after STARTTLS (set `smtp.enable_starttls_auto = true`), or set `smtp.authentication = \"none\"` for an open relay"
        };
        p.fail_now(
            "auth methods",
            fail(
                format!(
                    "the server offers no AUTH{}",
                    if encrypted {
                        ""
                    } else {
                        " on an unencrypted session"
                    }
                ),
                hint,
            ),
        );
        return None;
    }
    p.ok("auth methods", format!("250-AUTH {}", offered.join(" ")));
    let method = chosen(wanted, &offered);
    if method == "XOAUTH2" {
        p.skip(
            "auth",
            "XOAUTH2 needs a token from the provider; not probed",
        );
        return Some(());
    }
    if !offered.contains(&method) {
        p.fail_now(
            "auth",
            fail(
                format!("the server does not offer {method}"),
                format!("set `smtp.authentication` to one it offers ({}), or leave it unset to use the strongest", offered.join(", ").to_lowercase().replace('-', "_")),
            ),
        );
        return None;
    }
    if !encrypted && method != "CRAM-MD5" {
        p.warn(
            "encryption",
            format!("{method} sends the password in clear on this unencrypted session"),
            "use STARTTLS or implicit TLS",
        );
    }
    let (Some(user), Some(password)) = (r.user.as_deref(), r.password.as_ref()) else {
        p.fail_now(
            "auth",
            fail(
                "no `user_name`/`password` in the smtp secret",
                "add them with `toolctl smtp secret edit`",
            ),
        );
        return None;
    };
    if exchange && method != "XOAUTH2" {
        p.warn(
            "exchange online",
            format!(
                "Exchange Online turns off SMTP AUTH with passwords by default at {EXCHANGE_CUTOFF} \
                 (new tenants cannot have it): this relay's {method} login will stop working"
            ),
            "move GitLab to its Microsoft Graph mailer: set `[microsoft_graph_mailer]` enabled = true, \
             user_id (the sending mailbox), tenant and client_id, store the client_secret with \
             `toolctl microsoft-graph-mailer secret edit`, check it with `toolctl microsoft-graph-mailer \
             check`, then set `smtp.enabled = false`",
        );
    }
    p.on_timeout(
        "servers delay the answer to a failed login, so the user name or password may be wrong",
        "check `user_name` and `password` with `toolctl smtp secret edit`, or allow the server more time (`--timeout 30`)",
    );
    p.step("auth", authenticate(s, &method, user, password))
        .await
}

async fn extensions(s: &mut Session, ehlo: &str) -> Result<(Vec<String>, String), Failure> {
    let rep = s
        .expect(
            ehlo,
            250,
            "EHLO",
            "check `smtp.domain` (the EHLO name) and the server's log",
        )
        .await?;
    let ext: Vec<String> = rep.lines.iter().skip(1).cloned().collect();
    let detail = ext.join(", ");
    Ok((ext, detail))
}

async fn authenticate(
    s: &mut Session,
    method: &str,
    user: &str,
    password: &str,
) -> Result<((), String), Failure> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let masker = s.masker.clone();
    let refused = |rep: &Reply| {
        fail(
            format!("{method} authentication failed: {}", rep.quoted(&masker)),
            exchange_refusal(&rep.text()).unwrap_or(
                "check `user_name` and `password` with `toolctl smtp secret edit`; if they are right, try another method (`smtp.authentication` = plain, login or cram_md5)",
            ),
        )
    };
    let done = match method {
        "PLAIN" => {
            let token = Zeroizing::new(b64.encode(format!("\0{user}\0{password}")));
            s.command(&format!("AUTH PLAIN {}", token.as_str())).await?
        }
        "LOGIN" => {
            let rep = s.command("AUTH LOGIN").await?;
            if rep.code != 334 {
                return Err(refused(&rep));
            }
            let rep = s.command(&b64.encode(user)).await?;
            if rep.code != 334 {
                return Err(refused(&rep));
            }
            let token = Zeroizing::new(b64.encode(password));
            s.command(&token).await?
        }
        "CRAM-MD5" => {
            let rep = s.command("AUTH CRAM-MD5").await?;
            if rep.code != 334 {
                return Err(refused(&rep));
            }
            let challenge = b64
                .decode(rep.lines.first().map(String::as_str).unwrap_or("").trim())
                .map_err(|_| {
                    fail(
                        "the CRAM-MD5 challenge is not base64",
                        "report this to the server's administrator",
                    )
                })?;
            let mut mac = Hmac::<md5::Md5>::new_from_slice(password.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(&challenge);
            let digest: String = mac
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let response = b64.encode(format!("{user} {digest}"));
            s.masker.add(&digest);
            s.masker.add_token(&response);
            s.command(&response).await?
        }
        other => {
            return Err(fail(
                format!("{other} is not supported by the probe"),
                "use plain, login or cram_md5",
            ))
        }
    };
    if done.code != 235 {
        return Err(refused(&done));
    }
    Ok(((), format!("{method}: {}", done.first(&s.masker))))
}

async fn send(
    s: &mut Session,
    from: &str,
    to: &str,
    helo: &str,
    message: Option<Vec<u8>>,
) -> Result<((), String), Failure> {
    let message = match message {
        Some(m) => m,
        None => super::test_message(
            from,
            to,
            "smtp check",
            &format!("through this relay (from {helo})"),
        )?,
    };
    let hint = "the relay refused the envelope: check that `email.from` may send through this account, and the recipient";
    s.expect(&format!("MAIL FROM:<{from}>"), 250, "MAIL FROM", hint)
        .await?;
    let rcpt = s.command(&format!("RCPT TO:<{to}>")).await?;
    if !(rcpt.code == 250 || rcpt.code == 251) {
        return Err(fail(
            format!("RCPT TO refused: {}", rcpt.quoted(&s.masker)),
            hint,
        ));
    }
    s.expect("DATA", 354, "DATA", hint).await?;
    let mut body = Vec::new();
    for line in message.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
    while body.ends_with(b"\r\n\r\n") {
        body.truncate(body.len() - 2);
    }
    body.extend_from_slice(b".\r\n");
    let io = s.io.get_mut();
    io.write_all(&body)
        .await
        .and(io.flush().await)
        .map_err(io_failure)?;
    let rep = s.reply().await?;
    if rep.code != 250 {
        return Err(fail(
            format!("the message was refused: {}", rep.quoted(&s.masker)),
            hint,
        ));
    }
    Ok(((), format!("sent to {to}: {}", rep.first(&s.masker))))
}

#[cfg(test)]
mod exchange_tests {
    use super::*;

    #[test]
    fn exchange_online_is_known_by_host_and_greeting() {
        assert!(exchange_host("smtp.office365.com") && exchange_host("SMTP-Mail.Outlook.com."));
        assert!(!exchange_host("smtp.example.com") && !exchange_host("office365.com.evil.test"));
        assert!(exchange_greeting(
            "BN9PR03CA0123.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sun, 6 Dec 2026 05:20:13 +0000"
        ));
        assert!(!exchange_greeting("mail.example.com ESMTP Postfix"));
        assert!(!exchange_greeting(
            "evil.test Microsoft ESMTP MAIL Service ready .outlook.office365.com"
        ));
    }

    #[test]
    fn each_5_7_139_refusal_has_its_own_hint() {
        let basic = exchange_refusal(
            "5.7.139 Authentication unsuccessful, basic authentication is disabled. [X]",
        )
        .unwrap();
        let tenant = exchange_refusal("5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [X]").unwrap();
        assert_ne!(basic, tenant);
        assert!(tenant.contains("Set-CASMailbox") && basic.contains("Security defaults"));
        assert_eq!(exchange_refusal("5.7.8 Error: authentication failed"), None);
    }
}
