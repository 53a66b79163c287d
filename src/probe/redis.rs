//! The Redis probe, for `[redis] url` (mail_room's Sidekiq delivery and arbitration):
//! DNS → TCP → TLS for `rediss://` → `AUTH` when the `redis` secret holds a password →
//! `PING` answered `PONG`. A tiny RESP client: one command at a time, every reply line
//! read with a cap, so a server that is not Redis cannot make the probe buffer without end.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use zeroize::Zeroizing;

use super::net::{self, Conn};
use super::tls::{self, Trust};
use super::{fail, Failure, Probe};

/// Longest reply line read (Redis' own errors are a few dozen bytes).
const LINE_CAP: u64 = 4096;

/// The server the services will use.
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// The ACL user of the URL, if any (Redis 6+); else the default user.
    pub user: Option<String>,
    pub password: Option<Zeroizing<String>>,
}

impl Target {
    /// From `[redis] url` (already checked by the resolve step) and the secret.
    pub fn from_url(url: &str, password: Option<Zeroizing<String>>) -> Option<Target> {
        let u = url::Url::parse(url).ok()?;
        let host = u.host_str()?.trim_matches(['[', ']']).to_string();
        Some(Target {
            host,
            port: u.port().unwrap_or(6379),
            tls: u.scheme() == "rediss",
            user: Some(u.username().to_string()).filter(|s| !s.is_empty()),
            password,
        })
    }
}

/// Runs the Redis steps.
pub async fn probe(p: &mut Probe, t: Target) {
    let Some(addrs) = p.step("dns", net::resolve(&t.host, t.port)).await else {
        return;
    };
    let Some(tcp) = p.step("tcp", net::connect(&addrs, "Redis")).await else {
        return;
    };
    // One small command and its reply at a time: without this, Nagle holds each write.
    let _ = tcp.set_nodelay(true);
    let conn = if t.tls {
        // Sidekiq and mail_room verify against the system store (`[redis]` has no ca_file).
        let trust = Trust::system();
        let config = match tls::config(&trust) {
            Ok(c) => c,
            Err(f) => return p.fail_now("tls", f),
        };
        let Some(stream) = tls::upgrade(p, tcp, &t.host, config, &trust).await else {
            return;
        };
        Conn::tls(stream, LINE_CAP as usize, &p.live)
    } else if matches!(t.host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        p.ok("encryption", "none (loopback)");
        Conn::plain(tcp, LINE_CAP as usize, &p.live)
    } else {
        p.warn(
            "encryption",
            "none: commands (and the password) cross the network in clear",
            "fine on loopback or a private network; elsewhere use `rediss://`",
        );
        Conn::plain(tcp, LINE_CAP as usize, &p.live)
    };
    let mut conn = BufReader::new(conn);
    // The probe's masker: a short password only as a whole token, a long one anywhere.
    if let Some(pw) = &t.password {
        p.masker.add(pw.as_str());
    }
    let masker = p.masker.clone();
    let mask = |s: String| masker.apply(&s);

    if let Some(password) = &t.password {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(user) = &t.user {
            args.push(user.as_bytes());
        }
        args.push(password.as_bytes());
        let Some(()) = p
            .step("auth", async {
                match command(&mut conn, &args).await? {
                    Reply::Ok(_) => {
                        Ok(((), "AUTH accepted (password from the redis secret)".into()))
                    }
                    Reply::Err(e) => Err(auth_failure(&mask(e))),
                }
            })
            .await
        else {
            return;
        };
    } else {
        p.skip("auth", "no password in the redis secret; none sent");
    }

    p.step("ping", async {
        match command(&mut conn, &[b"PING"]).await? {
            Reply::Ok(s) if s == "PONG" => Ok(((), "PONG".to_string())),
            Reply::Ok(s) => Err(fail(
                format!("PING answered `{}`, not PONG", mask(s)),
                "check that this host and port are a Redis server",
            )),
            Reply::Err(e) if e.starts_with("NOAUTH") => Err(fail(
                format!("the server wants a password: {}", mask(e)),
                "add it with `toolctl redis secret edit` (key `password`)",
            )),
            Reply::Err(e) => Err(fail(
                format!("PING refused: {}", mask(e)),
                "check the server's log and ACLs",
            )),
        }
    })
    .await;
}

fn auth_failure(e: &str) -> Failure {
    if e.contains("without any password configured") || e.contains("no password is set") {
        fail(
            format!("the server has no password, but one was sent: {e}"),
            "remove `password` from the redis secret (`toolctl redis secret edit`), or set `requirepass` on the server",
        )
    } else {
        fail(
            format!("AUTH refused: {e}"),
            "fix `password` with `toolctl redis secret edit` (and the user in `[redis] url`, if any)",
        )
    }
}

/// A reply's first line: `+…`/`:…`/`$…` as ok text, `-…` as the error text.
enum Reply {
    Ok(String),
    Err(String),
}

/// Sends one command as a RESP array of bulk strings and reads its reply line.
async fn command(conn: &mut BufReader<Conn>, args: &[&[u8]]) -> Result<Reply, Failure> {
    let mut out = Zeroizing::new(format!("*{}\r\n", args.len()).into_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    let io = |e: std::io::Error| {
        fail(
            format!("the connection failed: {e}"),
            "check that this host and port are a Redis server (and `rediss://` when it wants TLS)",
        )
    };
    conn.get_mut().write_all(&out).await.map_err(io)?;
    conn.get_mut().flush().await.map_err(io)?;
    let mut line = Vec::new();
    let n = AsyncReadExt::take(&mut *conn, LINE_CAP)
        .read_until(b'\n', &mut line)
        .await
        .map_err(io)?;
    if n == 0 {
        return Err(fail(
            "the server closed the connection without a reply",
            "check that this host and port are a Redis server (a TLS port wants `rediss://`)",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(fail(
            format!("the reply is not RESP (no line end within {LINE_CAP} bytes)"),
            "check that this host and port are a Redis server",
        ));
    }
    let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    match line[0] {
        b'+' | b':' | b'$' => Ok(Reply::Ok(text)),
        b'-' => Ok(Reply::Err(text)),
        _ => Err(fail(
            "the reply is not RESP",
            "check that this host and port are a Redis server",
        )),
    }
}
