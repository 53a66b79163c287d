//! The probes against servers that misbehave on purpose: small socket scripts on
//! 127.0.0.1 (the one place a stand-in is right: no real server misbehaves on demand).
//!
//! - an echo server (SMTP and IMAP) that quotes back every line it was sent in its error
//!   replies: no credential, in any encoding toolctl sent, may reach stdout or stderr;
//! - an endless line (SMTP and IMAP): the probe fails quickly, its memory bounded;
//! - a Latin-1 greeting, a relay that delays its `535`, plain clients on implicit-TLS ports.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};

use crate::harness::{Outcome, TestRoot};

const USER: &str = "echo-user@example.test";
/// A quote and a backslash, so that the IMAP quoted form differs from the plain one.
const PASSWORD: &str = "Ech\"o\\Pa55+/w0rd";
/// The CRAM-MD5 challenge the echo server sends.
const CHALLENGE: &str = "<12345.678@echo.example.test>";

/// A listener whose every connection is served by `serve` in its own thread.
pub struct Scripted {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    pub fn start(serve: fn(TcpStream)) -> Scripted {
        Scripted::start_on((Ipv4Addr::LOCALHOST, 0), serve)
    }

    pub fn start_on(addr: (Ipv4Addr, u16), serve: fn(TcpStream)) -> Scripted {
        let listener = TcpListener::bind(addr).expect("bind a scripted server");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
                        std::thread::spawn(move || serve(stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Scripted {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end().to_string()),
    }
}

/// SMTP that offers AUTH PLAIN LOGIN CRAM-MD5 and quotes back whatever it was sent.
fn smtp_echo(s: TcpStream) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 echo.example.test ESMTP\r\n");
    while let Some(line) = read_line(&mut r) {
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            "250-echo.example.test\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n".to_string()
        } else if upper == "AUTH LOGIN" {
            let _ = w.write_all(b"334 VXNlcm5hbWU6\r\n");
            let Some(user) = read_line(&mut r) else {
                return;
            };
            let _ = w.write_all(format!("334 you sent {user}\r\n").as_bytes());
            let Some(pass) = read_line(&mut r) else {
                return;
            };
            format!("535-5.7.8 you sent: {pass}\r\n535 5.7.8 after {user}\r\n")
        } else if upper == "AUTH CRAM-MD5" {
            let b64 = base64::engine::general_purpose::STANDARD;
            let _ = w.write_all(format!("334 {}\r\n", b64.encode(CHALLENGE)).as_bytes());
            let Some(resp) = read_line(&mut r) else {
                return;
            };
            format!("535 5.7.8 you sent: {resp}\r\n")
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 bye\r\n");
            return;
        } else {
            format!("535 5.7.8 you sent: {line}\r\n")
        };
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// IMAP that refuses LOGIN by quoting the whole command back.
fn imap_echo(s: TcpStream) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"* OK echo ready\r\n");
    while let Some(line) = read_line(&mut r) {
        let mut words = line.split(' ');
        let tag = words.next().unwrap_or("*").to_string();
        let cmd = words.next().unwrap_or("").to_ascii_uppercase();
        let reply = match cmd.as_str() {
            "CAPABILITY" => format!("* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\r\n{tag} OK done\r\n"),
            "LOGIN" => format!("{tag} NO you sent: {line}\r\n"),
            "LOGOUT" => {
                let _ = w.write_all(format!("* BYE\r\n{tag} OK\r\n").as_bytes());
                return;
            }
            _ => format!("{tag} BAD you sent: {line}\r\n"),
        };
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Every form of [`PASSWORD`] toolctl sends (or could be made to show).
fn forbidden() -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut mac = Hmac::<md5::Md5>::new_from_slice(PASSWORD.as_bytes()).unwrap();
    mac.update(CHALLENGE.as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let strip = |s: String| s.trim_end_matches('=').to_string();
    vec![
        PASSWORD.to_string(),
        "Pa55+/w0rd".to_string(),
        PASSWORD.replace('\\', "\\\\").replace('"', "\\\""),
        // As JSON escapes it.
        PASSWORD.replace('\\', "\\\\").replace('"', "\\\""),
        strip(b64.encode(PASSWORD)),
        strip(b64.encode(format!("\0{USER}\0{PASSWORD}"))),
        strip(b64.encode(USER)),
        strip(b64.encode(format!("{USER} {digest}"))),
        digest,
    ]
}

#[track_caller]
fn assert_no_credential(out: &Outcome) {
    let text = format!("{}\n{}", out.stdout_str(), out.stderr);
    for f in forbidden() {
        assert!(!text.contains(&f), "{f:?} leaked\n{out}");
    }
}

fn root(settings: &str) -> TestRoot {
    let yaml_pw = PASSWORD.replace('\'', "''");
    TestRoot::builder()
        .settings(format!("external_url = \"https://gitlab.example.com\"\n\n[email]\nfrom = \"gitlab@example.test\"\n\n{settings}"))
        .secret("smtp", format!("user_name: '{USER}'\npassword: '{yaml_pw}'\n"))
        .secret("incoming-email", format!("user: '{USER}'\npassword: '{yaml_pw}'\n"))
        .secret("mailroom", "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n")
        .build()
}

fn smtp(port: u16, extra: &str) -> String {
    format!("[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {port}\nenable_starttls_auto = false\n{extra}\n")
}

fn imap(host: &str, port: u16, extra: &str) -> String {
    format!(
        "[incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\n\
         host = \"{host}\"\nport = {port}\n{extra}\n"
    )
}

#[test]
fn an_echoing_server_never_shows_a_credential() {
    let smtpd = Scripted::start(smtp_echo);
    let imapd = Scripted::start(imap_echo);
    let mut runs = 0;
    for method in ["plain", "login", "cram_md5"] {
        let t = root(&smtp(smtpd.port, &format!("authentication = \"{method}\"")));
        for format in ["human", "json"] {
            for verbose in [false, true] {
                let mut args = vec!["smtp", "check", "--output-format", format];
                if verbose {
                    args.insert(0, "-v");
                }
                let out = t.toolctl(args).run();
                out.assert_code(1);
                assert_no_credential(&out);
                assert!(
                    out.stdout_str().contains("you sent"),
                    "the server's text is not shown\n{out}"
                );
                assert!(out.stdout_str().contains("********"), "{out}");
                if verbose {
                    assert!(
                        out.stderr.contains("C: AUTH ") && out.stderr.contains("S: 535"),
                        "no transcript\n{out}"
                    );
                }
                runs += 1;
            }
        }
    }
    let t = root(&imap("127.0.0.1", imapd.port, ""));
    for format in ["human", "json"] {
        for verbose in [false, true] {
            let mut args = vec!["incoming-email", "check", "--output-format", format];
            if verbose {
                args.insert(0, "-v");
            }
            let out = t.toolctl(args).run();
            out.assert_code(1);
            assert_no_credential(&out);
            assert!(out.stdout_str().contains("LOGIN refused"), "{out}");
            assert!(out.stdout_str().contains("you sent"), "{out}");
            if verbose {
                assert!(
                    out.stderr.contains("LOGIN ******** ********"),
                    "no masked transcript\n{out}"
                );
            }
            runs += 1;
        }
    }
    eprintln!("{runs} runs against the echo servers, no credential shown");
}

/// Sends `prefix`, then the byte `a` without end, until the client goes away.
fn endless(mut s: TcpStream, prefix: &[u8]) {
    let _ = s.write_all(prefix);
    let chunk = vec![b'a'; 64 * 1024];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if s.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn smtp_endless(s: TcpStream) {
    endless(s, b"220 ");
}

fn imap_endless(s: TcpStream) {
    endless(s, b"* OK ");
}

/// Runs toolctl to its end and returns the outcome, the wall time and the peak RSS in
/// KiB (measured by [`crate::harness::metered`], which sees toolctl's memory alone).
fn run_measured(t: &TestRoot, args: &[&str]) -> (Outcome, Duration, i64) {
    run_limited(t, args, None)
}

/// [`run_measured`], with the address space of toolctl capped at `limit` bytes
/// (`prlimit --as`) when given.
fn run_limited(t: &TestRoot, args: &[&str], limit: Option<u64>) -> (Outcome, Duration, i64) {
    let report = t.aux().join(format!("rss-{}", std::process::id()));
    let base = t.toolctl(args).command();
    let cmd = match limit {
        None => base,
        Some(bytes) => {
            let mut c = std::process::Command::new("prlimit");
            c.arg(format!("--as={bytes}"))
                .arg(base.get_program())
                .args(base.get_args());
            for (k, v) in base.get_envs() {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
            }
            c
        }
    };
    let mut cmd = crate::harness::metered(&cmd, &report);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn toolctl");
    let pid = child.id() as libc::pid_t;
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).unwrap();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).unwrap();
        v
    });
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter; we reap our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let took = start.elapsed();
    std::mem::forget(child); // reaped above
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let out = Outcome {
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        stdout: out_t.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    };
    (out, took, crate::harness::metered_peak_kib(&report))
}

#[test]
fn an_endless_line_fails_fast_with_bounded_memory() {
    let smtpd = Scripted::start(smtp_endless);
    let imapd = Scripted::start(imap_endless);
    for (what, settings, step, cap) in [
        (
            "smtp",
            smtp(smtpd.port, "authentication = \"none\""),
            "greeting",
            "2 KiB",
        ),
        (
            "incoming-email",
            imap("127.0.0.1", imapd.port, ""),
            "greeting",
            "256 KiB",
        ),
    ] {
        let t = root(&settings);
        let (out, took, rss_kib) = run_measured(
            &t,
            &[what, "check", "--timeout", "2", "--output-format", "json"],
        );
        eprintln!("{what}: failed after {took:?}, peak RSS {rss_kib} KiB");
        out.assert_code(1);
        let s = out.step(step);
        assert_eq!(s["status"], "fail", "{out}");
        assert!(
            s["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("longer than {cap}")),
            "{out}"
        );
        assert!(took < Duration::from_secs(3), "{what} took {took:?}");
        assert!(rss_kib < 64 * 1024, "{what} peaked at {rss_kib} KiB");
    }
}

/// An IMAP server that behaves until `trigger` (a command word), and answers it with
/// `head`, then `body` over and over until the client goes away.
fn imap_then_endless(s: TcpStream, greeting: &[u8], trigger: &str, head: &[u8], body: &[u8]) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(greeting);
    while let Some(line) = read_line(&mut r) {
        let mut words = line.split(' ');
        let tag = words.next().unwrap_or("*").to_string();
        let cmd = words.next().unwrap_or("").to_ascii_uppercase();
        if cmd == trigger {
            let _ = w.write_all(head);
            let chunk = body.repeat(64 * 1024 / body.len());
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if w.write_all(&chunk).is_err() {
                    return;
                }
            }
            return;
        }
        let reply = match cmd.as_str() {
            "CAPABILITY" => format!("* CAPABILITY IMAP4rev1 IDLE\r\n{tag} OK done\r\n"),
            _ => format!("{tag} OK done\r\n"),
        };
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// An endless `* CAPABILITY` line (read by toolctl's own line reader).
fn imap_endless_capability(s: TcpStream) {
    imap_then_endless(
        s,
        b"* OK ready\r\n",
        "CAPABILITY",
        b"* CAPABILITY IMAP4rev1 ",
        b"a",
    );
}

/// A literal announced as `{999999999}` in the answer to LOGIN (read by async-imap).
fn imap_endless_literal(s: TcpStream) {
    imap_then_endless(
        s,
        b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n",
        "LOGIN",
        b"* OK {999999999}\r\n",
        b"aaaaaaa\r\n",
    );
}

/// An endless stream of untagged responses in answer to STATUS.
fn imap_endless_untagged(s: TcpStream) {
    imap_then_endless(
        s,
        b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n",
        "STATUS",
        b"",
        b"* 1 EXISTS\r\n",
    );
}

/// An endless line in answer to STATUS (read by async-imap, which parses it again after
/// every read).
fn imap_endless_status_line(s: TcpStream) {
    imap_then_endless(
        s,
        b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n",
        "STATUS",
        b"* STATUS inbox (",
        b"UNSEEN 1 ",
    );
}

/// In 64 MiB of address space (`prlimit --as`), against a server that never ends its
/// CAPABILITY line, announces a literal of 999999999 bytes, streams untagged responses
/// or a STATUS line without end: the step fails in words within the timeout, and the
/// peak resident memory stays under 32 MiB.
#[test]
fn endless_imap_answers_fail_the_step_in_bounded_memory() {
    type Case = (fn(TcpStream), &'static str, &'static str);
    let cases: [Case; 4] = [
        (
            imap_endless_capability,
            "capabilities",
            "longer than 256 KiB",
        ),
        (imap_endless_literal, "login", "literal of 999999999 bytes"),
        (
            imap_endless_untagged,
            "mailbox",
            "more than 256 KiB in answer to one command",
        ),
        (imap_endless_status_line, "mailbox", "longer than 64 KiB"),
    ];
    for (serve, step, detail) in cases {
        let imapd = Scripted::start(serve);
        let t = root(&imap("127.0.0.1", imapd.port, ""));
        let (out, took, rss_kib) = run_limited(
            &t,
            &[
                "incoming-email",
                "check",
                "--timeout",
                "5",
                "--output-format",
                "json",
            ],
            Some(64 << 20),
        );
        eprintln!("{step}: failed after {took:?}, peak RSS {rss_kib} KiB");
        out.assert_code(1);
        let s = out.step(step);
        assert_eq!(s["status"], "fail", "{out}");
        assert!(
            s["detail"].as_str().unwrap().contains(detail),
            "{step}: detail lacks {detail:?}\n{out}"
        );
        assert!(s["hint"].as_str().unwrap().contains("IMAP server"), "{out}");
        assert!(took < Duration::from_secs(5), "{step} took {took:?}");
        assert!(rss_kib < 32 * 1024, "{step} peaked at {rss_kib} KiB");
    }
}

fn smtp_latin1(s: TcpStream) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 mail.example.test ESMTP caf\xe9 pr\xeat\r\n");
    loop {
        let mut raw = Vec::new();
        match r.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let upper = String::from_utf8_lossy(&raw).to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-mail.example.test bienvenue \xe0 vous\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = w.write_all(b"221 au revoir, \xe0 bient\xf4t\r\n");
            return;
        } else {
            b"502 non\r\n"
        };
        let _ = w.write_all(reply);
    }
}

#[test]
fn a_latin1_greeting_is_read_and_shown_lossily() {
    let smtpd = Scripted::start(smtp_latin1);
    let t = root(&smtp(smtpd.port, "authentication = \"none\""));
    let out = t
        .toolctl(["smtp", "check", "--output-format", "json"])
        .run();
    out.assert_code(0);
    let greeting = out.step("greeting")["detail"].as_str().unwrap().to_string();
    assert!(greeting.contains("caf\u{FFFD} pr\u{FFFD}t"), "{out}");
    assert_eq!(out.step("quit")["status"], "ok", "{out}");
}

fn smtp_slow_no(s: TcpStream) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 slow.example.test ESMTP\r\n");
    while let Some(line) = read_line(&mut r) {
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            "250-slow.example.test\r\n250 AUTH PLAIN\r\n"
        } else if upper.starts_with("AUTH") {
            std::thread::sleep(Duration::from_secs(3));
            "535 5.7.8 authentication failed\r\n"
        } else {
            "221 bye\r\n"
        };
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn a_slow_no_at_auth_says_the_credentials_may_be_wrong() {
    let smtpd = Scripted::start(smtp_slow_no);
    let t = root(&smtp(smtpd.port, "authentication = \"plain\""));
    let out = t
        .toolctl(["smtp", "check", "--timeout", "2", "--output-format", "json"])
        .run();
    out.assert_code(1);
    assert_no_credential(&out);
    let s = out.step("auth");
    assert_eq!(s["status"], "fail", "{out}");
    assert!(
        s["detail"]
            .as_str()
            .unwrap()
            .contains("delay the answer to a failed login"),
        "{out}"
    );
    assert!(s["hint"].as_str().unwrap().contains("--timeout"), "{out}");
    assert!(
        s["hint"]
            .as_str()
            .unwrap()
            .contains("toolctl smtp secret edit"),
        "{out}"
    );
}

fn hold(s: TcpStream) {
    // A TLS server waiting for the client's handshake: it never speaks first.
    std::thread::sleep(Duration::from_secs(5));
    drop(s);
}

#[test]
fn a_plain_client_on_an_implicit_tls_port_is_told_to_turn_tls_on() {
    // Other loopback addresses, so that nothing on 127.0.0.1:465/993 is in the way.
    let smtps = Scripted::start_on((Ipv4Addr::new(127, 0, 0, 3), 465), hold);
    let imaps = Scripted::start_on((Ipv4Addr::new(127, 0, 0, 3), 993), hold);
    let t = root(&smtp(smtps.port, "authentication = \"none\"").replace("127.0.0.1", "127.0.0.3"));
    let out = t
        .toolctl(["smtp", "check", "--timeout", "1", "--output-format", "json"])
        .run();
    out.assert_code(1);
    let s = out.step("greeting");
    assert!(
        s["detail"].as_str().unwrap().contains("implicit TLS"),
        "{out}"
    );
    assert!(
        s["hint"].as_str().unwrap().contains("smtp.tls = true"),
        "{out}"
    );

    let t = root(&imap("127.0.0.3", imaps.port, ""));
    let out = t
        .toolctl([
            "incoming-email",
            "check",
            "--timeout",
            "1",
            "--output-format",
            "json",
        ])
        .run();
    out.assert_code(1);
    let s = out.step("greeting");
    assert!(
        s["detail"].as_str().unwrap().contains("implicit TLS"),
        "{out}"
    );
    assert!(
        s["hint"]
            .as_str()
            .unwrap()
            .contains("incoming_email.ssl = true"),
        "{out}"
    );
}

/// IMAP that offers STARTTLS and puts a line after its OK in the same write, before any
/// TLS (what a man in the middle injects to be read as said over TLS).
fn imap_starttls_injection(s: TcpStream) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] ready\r\n");
    while let Some(line) = read_line(&mut r) {
        let tag = line.split(' ').next().unwrap_or("*").to_string();
        if line.to_ascii_uppercase().ends_with("STARTTLS") {
            let _ = w.write_all(
                format!("{tag} OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n").as_bytes(),
            );
            std::thread::sleep(Duration::from_secs(2));
            return;
        }
        let _ = w.write_all(format!("{tag} BAD no\r\n").as_bytes());
    }
}

#[test]
fn bytes_injected_after_starttls_ok_stop_the_probe_before_tls() {
    let imapd = Scripted::start(imap_starttls_injection);
    let t = root(&imap("127.0.0.1", imapd.port, "start_tls = true"));
    let out = t
        .toolctl(["incoming-email", "check", "--output-format", "json"])
        .run();
    out.assert_code(1);
    let s = out.step("starttls");
    assert_eq!(s["status"], "fail", "{out}");
    assert!(
        s["detail"].as_str().unwrap().contains("command injection"),
        "{out}"
    );
    assert!(!out.stdout_str().contains("\"tls\""), "{out}");
    assert_no_credential(&out);
}
