//! DNS, TCP (with `TCP_NODELAY`) and the stream the protocol clients run on (plain TCP or
//! TLS over it): one write per command, capped server lines, the `-v` transcript.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::live::Live;
use super::mask::MASK;
use super::{fail, Failure};

/// The stream under a [`Conn`].
#[derive(Debug)]
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A server line longer than the protocol's cap: the probe stops reading.
#[derive(Debug)]
pub struct LineTooLong {
    pub cap: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server sent a line longer than {} without ending it; the probe stopped reading",
            size(self.cap)
        )
    }
}

impl std::error::Error for LineTooLong {}

/// A server reply larger than the probe reads for one command (an endless stream of
/// responses, or a literal announced larger than that): the probe stops reading.
#[derive(Debug)]
pub struct ReplyTooLarge(pub String);

impl std::fmt::Display for ReplyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReplyTooLarge {}

/// What an over-long line or reply inside an I/O error says, if that is what it is.
pub fn over_cap(e: &io::Error) -> Option<String> {
    let inner = e.get_ref()?;
    if let Some(l) = inner.downcast_ref::<LineTooLong>() {
        return Some(l.to_string());
    }
    inner.downcast_ref::<ReplyTooLarge>().map(|r| r.0.clone())
}

/// `512 bytes`, `4 MiB`.
pub fn size(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// An I/O error as a sentence: `connection refused`, without Rust's `(os error 111)`.
pub fn words(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The [`LineTooLong`] inside an I/O error, if that is what it is.
pub fn line_too_long(e: &io::Error) -> Option<&LineTooLong> {
    e.get_ref().and_then(|i| i.downcast_ref::<LineTooLong>())
}

/// A connection, before or after TLS, as the protocol clients see it: writes are gathered
/// until `flush` so that a command leaves in one segment (async-imap writes a command in
/// four pieces); every server line is capped at `line_cap` bytes (an endless line fails
/// the read instead of growing a buffer); with `-v` every line both ways goes to the
/// transcript, masked.
pub struct Conn {
    io: Io,
    line_cap: usize,
    /// Bytes read since the last LF.
    line_len: usize,
    wbuf: Vec<u8>,
    /// Written so far from `wbuf` by a flush in progress.
    wpos: usize,
    live: Option<Live>,
    /// The server's current partial line, for the transcript.
    rline: Vec<u8>,
    /// Bytes read by [`Conn::read_line`] past its line: served first to the next reader.
    rbuf: Vec<u8>,
    /// The most bytes read in answer to one command (counted from the last write), and
    /// the largest literal a line may announce: `None` for no cap but the line's.
    reply_cap: Option<usize>,
    /// Bytes read since the last write.
    reply_len: usize,
    /// The last bytes of the current line, for the literal check (`{N}` before CRLF).
    tail: Vec<u8>,
    /// Set `TCP_QUICKACK` before each read: Linux clears it on its own, and a delayed ACK
    /// of the client stalls a server that writes a reply in pieces with Nagle on.
    quickack: bool,
}

/// The length of [`Conn::tail`]: `{` + 20 digits + `+}` + CR.
const TAIL: usize = 24;

impl Conn {
    /// A plain TCP connection whose lines are capped at `line_cap`.
    pub fn plain(tcp: TcpStream, line_cap: usize, live: &Live) -> Conn {
        Conn::with(Io::Plain(tcp), line_cap, live)
    }

    /// A TLS connection whose lines are capped at `line_cap`.
    pub fn tls(stream: TlsStream<TcpStream>, line_cap: usize, live: &Live) -> Conn {
        Conn::with(Io::Tls(Box::new(stream)), line_cap, live)
    }

    fn with(io: Io, line_cap: usize, live: &Live) -> Conn {
        Conn {
            io,
            line_cap,
            line_len: 0,
            wbuf: Vec::new(),
            wpos: 0,
            live: live.transcript().then(|| live.clone()),
            rline: Vec::new(),
            rbuf: Vec::new(),
            reply_cap: None,
            reply_len: 0,
            tail: Vec::new(),
            quickack: false,
        }
    }

    /// Caps every answer: at most `cap` bytes read per command, and no literal announced
    /// larger than `cap` (refused before a client reserves room for it).
    pub fn with_reply_cap(mut self, cap: usize) -> Conn {
        self.reply_cap = Some(cap);
        self
    }

    /// Changes the reply cap (a command whose answer is known to be larger).
    pub fn set_reply_cap(&mut self, cap: usize) {
        self.reply_cap = Some(cap);
    }

    /// Changes the line cap (a parser that works harder per byte is given less).
    pub fn set_line_cap(&mut self, cap: usize) {
        self.line_cap = cap;
    }

    /// Sets `TCP_QUICKACK` now (which also sends an ACK the kernel was delaying, such as
    /// the one for the TLS session tickets a server writes after the handshake, before
    /// its greeting) and again before every read that awaits the server.
    pub fn with_quickack(mut self) -> Conn {
        self.quickack = true;
        let _ = self.tcp().set_quickack(true);
        self
    }

    fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            Io::Tls(s) => s.get_ref().0,
        }
    }

    /// The next server line (without CRLF), read through the caps: the bytes after it
    /// stay for the next reader, whoever it is. `Ok(None)` at the end of the stream.
    pub async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(i) = self.rbuf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.rbuf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            let n = std::future::poll_fn(|cx| {
                let mut buf = ReadBuf::new(&mut chunk);
                ready!(self.poll_fill(cx, &mut buf))?;
                Poll::Ready(Ok::<_, io::Error>(buf.filled().len()))
            })
            .await?;
            if n == 0 {
                return Ok(None);
            }
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether bytes the server sent are waiting unread (after STARTTLS's OK, an
    /// injection: they would be taken as said over TLS).
    pub fn has_unread(&self) -> bool {
        !self.rbuf.is_empty()
    }

    /// Reads from the socket into `buf`, through the caps and the transcript.
    fn poll_fill(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.quickack {
            let _ = self.tcp().set_quickack(true);
        }
        let before = buf.filled().len();
        ready!(match &mut self.io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        })?;
        let new = &buf.filled()[before..];
        for &b in new {
            if b == b'\n' {
                self.line_len = 0;
                if let Some(cap) = self.reply_cap {
                    if let Some(n) = literal_size(&self.tail) {
                        if n > cap as u64 {
                            return Poll::Ready(Err(io::Error::other(ReplyTooLarge(format!(
                                "the server announced a literal of {n} bytes, more than the {} the probe reads; the probe stopped reading",
                                size(cap)
                            )))));
                        }
                    }
                }
                self.tail.clear();
            } else {
                self.line_len += 1;
                if self.line_len > self.line_cap {
                    return Poll::Ready(Err(io::Error::other(LineTooLong { cap: self.line_cap })));
                }
                if self.tail.len() == TAIL {
                    self.tail.remove(0);
                }
                self.tail.push(b);
            }
        }
        // After the lines: an over-long line is named as such.
        self.reply_len += new.len();
        if let Some(cap) = self.reply_cap {
            if self.reply_len > cap {
                return Poll::Ready(Err(io::Error::other(ReplyTooLarge(format!(
                    "the server sent more than {} in answer to one command without finishing it; the probe stopped reading",
                    size(cap)
                )))));
            }
        }
        let new = new.to_vec();
        self.trace_read(&new);
        Poll::Ready(Ok(()))
    }

    /// The TCP stream of a plain connection, for STARTTLS (`None` once TLS is on).
    pub fn into_tcp(self) -> Option<TcpStream> {
        match self.io {
            Io::Plain(tcp) => Some(tcp),
            Io::Tls(_) => None,
        }
    }

    fn trace_written(&self, bytes: &[u8]) {
        let Some(live) = &self.live else { return };
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
            live.line(true, &client_line(&line));
        }
    }

    fn trace_read(&mut self, bytes: &[u8]) {
        let Some(live) = &self.live else { return };
        for &b in bytes {
            if b == b'\n' {
                let line = self.rline.strip_suffix(b"\r").unwrap_or(&self.rline);
                live.line(false, &String::from_utf8_lossy(line));
                self.rline.clear();
            } else if self.rline.len() < 4096 {
                self.rline.push(b);
            }
        }
    }
}

/// A client line for the transcript: an IMAP LOGIN's arguments are credentials whole
/// (the masker covers the AUTH payloads, which it has registered).
fn client_line(line: &str) -> String {
    let mut words = line.splitn(3, ' ');
    if let (Some(tag), Some(cmd), Some(_)) = (words.next(), words.next(), words.next()) {
        if cmd.eq_ignore_ascii_case("LOGIN") {
            return format!("{tag} {cmd} {MASK} {MASK}");
        }
    }
    line.to_string()
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.rbuf.is_empty() {
            let n = this.rbuf.len().min(buf.remaining());
            buf.put_slice(&this.rbuf[..n]);
            this.rbuf.drain(..n);
            return Poll::Ready(Ok(()));
        }
        this.poll_fill(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Gathered until flush: one command, one segment.
        self.get_mut().wbuf.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.wpos == 0 && !this.wbuf.is_empty() {
            // A new command: its answer is counted afresh.
            this.reply_len = 0;
            let out = std::mem::take(&mut this.wbuf);
            this.trace_written(&out);
            this.wbuf = out;
        }
        while this.wpos < this.wbuf.len() {
            let chunk = &this.wbuf[this.wpos..];
            let n = match &mut this.io {
                Io::Plain(s) => ready!(Pin::new(s).poll_write(cx, chunk))?,
                Io::Tls(s) => ready!(Pin::new(s.as_mut()).poll_write(cx, chunk))?,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.wpos += n;
        }
        this.wbuf.clear();
        this.wpos = 0;
        match &mut this.io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The size of the literal a line ends with (`{N}` or `{N+}`, before its CR), if any.
fn literal_size(tail: &[u8]) -> Option<u64> {
    let t = tail.strip_suffix(b"\r").unwrap_or(tail);
    let t = t.strip_suffix(b"}")?;
    let t = t.strip_suffix(b"+").unwrap_or(t);
    let open = t.iter().rposition(|b| *b == b'{')?;
    let digits = &t[open + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // More digits than fit: larger than any cap.
    Some(
        std::str::from_utf8(digits)
            .ok()?
            .parse()
            .unwrap_or(u64::MAX),
    )
}

/// Resolves `host:port`.
pub async fn resolve(host: &str, port: u16) -> Result<(Vec<SocketAddr>, String), Failure> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            fail(
                format!("cannot resolve `{host}`: {}", words(&e)),
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
            Ok(s) => {
                // Probe commands are short and each waits for its answer: without
                // NODELAY a command written in pieces waits on the peer's delayed ACK.
                let _ = s.set_nodelay(true);
                // And acknowledge the server's first segments at once (the TLS handshake
                // reads the socket directly; [`Conn`] sets it again before each read).
                let _ = s.set_quickack(true);
                return Ok((s, format!("connected to {a}")));
            }
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
    Err(fail(format!("cannot connect to {a}: {}", words(&e)), hint))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_literal_at_the_end_of_a_line_is_read_with_its_size() {
        use super::literal_size;
        assert_eq!(literal_size(b"* OK {999999999}\r"), Some(999_999_999));
        assert_eq!(literal_size(b"A1 LOGIN {5+}"), Some(5));
        assert_eq!(
            literal_size(b"x {99999999999999999999999}\r"),
            Some(u64::MAX)
        );
        assert_eq!(literal_size(b"* OK {}\r"), None);
        assert_eq!(literal_size(b"* OK {12a}\r"), None);
        assert_eq!(literal_size(b"* OK done\r"), None);
    }
}
