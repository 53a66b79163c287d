//! DNS, TCP and the stream type the protocol clients run on (plain TCP or TLS over it).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{fail, Failure};

/// A connection, before or after TLS.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Resolves `host:port`.
pub async fn resolve(host: &str, port: u16) -> Result<(Vec<SocketAddr>, String), Failure> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            fail(
                format!("cannot resolve `{host}`: {e}"),
                "check the host name in toolctl.toml and the server's DNS (`getent hosts HOST`)",
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(fail(
            format!("`{host}` has no address"),
            "check the host name and DNS",
        ));
    }
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    Ok((addrs.clone(), format!("{host} → {}", shown.join(", "))))
}

/// Connects to the first address that answers.
pub async fn connect(addrs: &[SocketAddr], what: &str) -> Result<(TcpStream, String), Failure> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok((s, format!("connected to {a}"))),
            Err(e) => last = Some((a, e)),
        }
    }
    let (a, e) = last.expect("at least one address");
    let hint = match e.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "nothing listens on {a}: check the {what} host and port, and that the server runs"
        ),
        _ => format!("check the network path to {a} (firewall, routing)"),
    };
    Err(fail(format!("cannot connect to {a}: {e}"), hint))
}
