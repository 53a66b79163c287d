//! The harness's own tests, and the standard clients they check it with (swaks,
//! `openssl s_client`, a plain TCP conversation).

use super::*;

/// Runs a program with a deadline; returns its exit code and stdout + stderr.
fn run_peer(program: &str, args: &[String]) -> (Option<i32>, String) {
    let out = assert_cmd::Command::new(program)
        .args(args)
        .timeout(Duration::from_secs(20))
        .write_stdin(Vec::new())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = format!(
        "$ {program} {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// swaks from alice to bob through 127.0.0.1:`port`; `tls` is swaks's `-tls` or `-tlsc`.
fn swaks_send(
    port: u16,
    tls: &str,
    auth: &str,
    password: &str,
    subject: &str,
) -> (Option<i32>, String) {
    let args: Vec<String> = [
        "--to",
        BOB,
        "--from",
        ALICE,
        "--server",
        &format!("127.0.0.1:{port}"),
        "--auth",
        auth,
        "--auth-user",
        ALICE,
        "--auth-password",
        password,
        tls,
        "--tls-verify",
        "--tls-ca-path",
        &certs().ca.display().to_string(),
        "--header",
        &format!("Subject: {subject}"),
        "--body",
        &format!("body of {subject}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run_peer("swaks", &args)
}

fn s_client(port: u16) -> (Option<i32>, String) {
    let args: Vec<String> = [
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-CAfile",
        &certs().ca.display().to_string(),
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run_peer("openssl", &args)
}

/// A plain-TCP conversation: reads the greeting, then sends each line and reads up to the
/// reply that ends it (`tag OK|NO|BAD` for IMAP, a final `NNN ` line for SMTP).
fn converse(port: u16, lines: &[&str]) -> String {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut transcript = String::new();
    let read_reply = |reader: &mut BufReader<TcpStream>,
                      transcript: &mut String,
                      done: &dyn Fn(&str) -> bool| loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read a reply") == 0 {
            return;
        }
        transcript.push_str(&line);
        if done(&line) {
            return;
        }
    };
    let smtp_end = |l: &str| l.len() >= 4 && l.as_bytes()[3] == b' ';
    let greeting_done = |l: &str| l.starts_with("* OK") || l.starts_with("* BYE") || smtp_end(l);
    read_reply(&mut reader, &mut transcript, &greeting_done);
    for line in lines {
        transcript.push_str(&format!(">> {line}\n"));
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        let tag = line.split(' ').next().unwrap().to_string();
        let done = move |l: &str| {
            l.starts_with(&format!("{tag} OK"))
                || l.starts_with(&format!("{tag} NO"))
                || l.starts_with(&format!("{tag} BAD"))
                || (tag.chars().all(|c| c.is_ascii_uppercase()) && smtp_end(l))
        };
        read_reply(&mut reader, &mut transcript, &done);
    }
    transcript
}

#[test]
fn harness_self_test() {
    let t0 = Instant::now();
    certs();
    let t_certs = t0.elapsed();

    // Four Dovecots at once, as parallel tests would start them.
    let t1 = Instant::now();
    let (dovecot, plain_only, expired, wrong_name) = std::thread::scope(|s| {
        let a = s.spawn(|| Dovecot::start(DovecotOptions::default()));
        let b = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::Good,
                starttls: false,
                ..DovecotOptions::default()
            })
        });
        let c = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::Expired,
                starttls: true,
                ..DovecotOptions::default()
            })
        });
        let d = s.spawn(|| {
            Dovecot::start(DovecotOptions {
                tls: Tls::WrongName,
                starttls: true,
                ..DovecotOptions::default()
            })
        });
        (
            a.join().unwrap(),
            b.join().unwrap(),
            c.join().unwrap(),
            d.join().unwrap(),
        )
    });
    let t_dovecot = t1.elapsed();
    let t2 = Instant::now();
    let postfix = Postfix::start(&dovecot);
    let t_postfix = t2.elapsed();

    // Mail through Dovecot submission (STARTTLS, implicit TLS) and Postfix (both), each
    // mechanism once, all verified against the test CA.
    let sends = [
        (
            dovecot.submission,
            "-tls",
            "PLAIN",
            "via dovecot submission starttls",
        ),
        (
            dovecot.submissions,
            "-tlsc",
            "LOGIN",
            "via dovecot submissions",
        ),
        (
            postfix.smtp,
            "-tls",
            "CRAM-MD5",
            "via postfix smtp starttls",
        ),
        (postfix.smtps, "-tlsc", "PLAIN", "via postfix smtps"),
    ];
    let t3 = Instant::now();
    for (port, tls, mech, subject) in sends {
        let (code, out) = swaks_send(port, tls, mech, ALICE_PASSWORD, subject);
        assert_eq!(
            code,
            Some(0),
            "swaks failed:\n{out}\n--- dovecot:\n{}\n--- postfix:\n{}",
            dovecot.log_text(),
            postfix.log_text()
        );
        let message = dovecot
            .wait_for_message(BOB, subject, Duration::from_secs(10))
            .unwrap_or_else(|| {
                panic!(
                    "{subject:?} never arrived\n{out}\n--- postfix:\n{}",
                    postfix.log_text()
                )
            });
        assert!(message.contains(&format!("body of {subject}")), "{message}");
        assert!(
            message.contains("Return-Path: <alice@example.test>"),
            "{message}"
        );
    }
    let t_mail = t3.elapsed();
    assert_eq!(dovecot.inbox(BOB).len(), 4);
    assert!(dovecot.inbox(ALICE).is_empty());
    assert!(postfix
        .log_text()
        .contains("sasl_method=CRAM-MD5, sasl_username=alice@example.test"));

    // Wrong passwords fail, quickly, in both servers.
    for port in [dovecot.submission, postfix.smtp] {
        let t = Instant::now();
        let (code, out) = swaks_send(port, "-tls", "PLAIN", "wrong", "never sent");
        assert_eq!(code, Some(28), "{out}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "slow failure: {:?}\n{out}",
            t.elapsed()
        );
        eprintln!(
            "wrong password on {port}: swaks exit 28 after {:?}",
            t.elapsed()
        );
    }
    assert!(
        dovecot.log_text().contains("Password mismatch"),
        "{}",
        dovecot.log_text()
    );

    // IMAP: logins, mailboxes, capabilities, log lines.
    let alice = converse(
        dovecot.imap,
        &[
            "a CAPABILITY",
            &format!("b LOGIN {ALICE} {ALICE_PASSWORD}"),
            "c LIST \"\" \"*\"",
            "d EXAMINE \"Service Desk\"",
            "e LOGOUT",
        ],
    );
    assert!(
        alice.contains(" STARTTLS") && alice.contains("IDLE"),
        "{alice}"
    );
    assert!(
        alice.contains("\"Service Desk\"") && alice.contains("d OK [READ-ONLY]"),
        "{alice}"
    );
    let bob = converse(
        dovecot.imap,
        &[
            &format!("b LOGIN {BOB} {BOB_PASSWORD}"),
            "c LIST \"\" \"*\"",
            "d EXAMINE \"Service Desk\"",
            "e EXAMINE INBOX",
            "f LOGOUT",
        ],
    );
    assert!(
        !bob.contains("Service Desk\r\n") && bob.contains("d NO Mailbox doesn't exist"),
        "{bob}"
    );
    assert!(bob.contains("* 4 EXISTS"), "{bob}");
    let wrong = converse(dovecot.imap, &[&format!("b LOGIN {ALICE} nope")]);
    assert!(wrong.contains("b NO [AUTHENTICATIONFAILED]"), "{wrong}");
    let log = dovecot.log_text();
    assert!(log.contains("Login: user=<alice@example.test>"), "{log}");
    assert!(
        !log.contains("starting up"),
        "log_text() should start after startup:\n{log}"
    );

    // No STARTTLS on the plain listeners of a starttls=false instance; TLS still works.
    let caps = converse(plain_only.imap, &["a CAPABILITY", "b STARTTLS"]);
    let advertised: Vec<&str> = caps
        .lines()
        .filter(|l| l.contains("CAPABILITY") && !l.starts_with(">>"))
        .collect();
    assert_eq!(
        advertised.len(),
        2,
        "greeting and CAPABILITY expected:\n{caps}"
    );
    assert!(advertised.iter().all(|l| !l.contains("STARTTLS")), "{caps}");
    assert!(caps.contains("b BAD"), "{caps}");
    let ehlo = converse(plain_only.submission, &["EHLO client.test", "QUIT"]);
    assert!(
        ehlo.contains("250-AUTH PLAIN LOGIN CRAM-MD5") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    let ehlo = converse(dovecot.submission, &["EHLO client.test", "QUIT"]);
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    for port in [
        plain_only.imaps,
        plain_only.submissions,
        dovecot.imaps,
        dovecot.submissions,
        postfix.smtps,
    ] {
        let (code, out) = s_client(port);
        assert!(
            code == Some(0) && out.contains("Verify return code: 0 (ok)"),
            "{out}"
        );
    }

    // The expired certificate really is expired.
    let (code, out) = s_client(expired.imaps);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("certificate has expired"), "{out}");
    let (code, out) = s_client(wrong_name.submissions);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("hostname mismatch"), "{out}");

    // Silent and closed ports.
    let silent = Silent::start();
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, silent.port)).expect("connect to Silent");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).expect_err("Silent spoke");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    let closed = closed_port();
    let err = TcpStream::connect((Ipv4Addr::LOCALHOST, closed)).expect_err("closed port accepted");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    drop(silent);

    // Each instance listens on its own ports and on nothing else (no built-in 143/993/587).
    for d in [&dovecot, &plain_only, &expired, &wrong_name] {
        let expected = [d.imap, d.imaps, d.submission, d.submissions]
            .into_iter()
            .collect();
        assert_eq!(
            listening_ports(d.child.id() as i32),
            expected,
            "{}",
            d.log.display()
        );
    }
    let expected = [postfix.smtp, postfix.smtps, dovecot.relay_port]
        .into_iter()
        .collect();
    assert_eq!(listening_ports(postfix.master_pid), expected);

    // Stop everything, in parallel, and check that nothing is left.
    let pids: Vec<u32> = [&dovecot, &plain_only, &expired, &wrong_name]
        .iter()
        .map(|d| d.child.id())
        .collect();
    let postfix_master = postfix.master_pid;
    let t4 = Instant::now();
    drop(postfix);
    let t_postfix_stop = t4.elapsed();
    let t5 = Instant::now();
    std::thread::scope(|s| {
        for d in [dovecot, plain_only, expired, wrong_name] {
            s.spawn(move || drop(d));
        }
    });
    let t_dovecot_stop = t5.elapsed();
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || group_members(pid as i32).is_empty()
        );
        assert!(
            group_members(pid as i32).is_empty(),
            "dovecot group {pid} still has processes"
        );
    }
    assert!(
        group_members(postfix_master).is_empty(),
        "postfix group still has processes"
    );
    eprintln!(
        "timings: certs {t_certs:?}, 4 dovecots {t_dovecot:?}, postfix {t_postfix:?}, \
         4 messages {t_mail:?}, postfix stop {t_postfix_stop:?}, 4 dovecot stops {t_dovecot_stop:?}, \
         total {:?}",
        t0.elapsed()
    );
}

/// Several instances at once, each sending a message end to end (`STRESS_N=24` for a
/// heavier run by hand; 3 in the suite).
#[test]
fn parallel_stress() {
    let n: usize = std::env::var("STRESS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let t = Instant::now();
    std::thread::scope(|s| {
        for i in 0..n {
            s.spawn(move || {
                let d = Dovecot::start(DovecotOptions {
                    tls: Tls::Good,
                    starttls: i % 2 == 0,
                    ..DovecotOptions::default()
                });
                let p = Postfix::start(&d);
                let subject = format!("stress {i}");
                let tls = if i % 2 == 0 { "-tls" } else { "-tlsc" };
                let port = if i % 2 == 0 {
                    d.submission
                } else {
                    d.submissions
                };
                let (code, out) = swaks_send(port, tls, "CRAM-MD5", ALICE_PASSWORD, &subject);
                assert_eq!(code, Some(0), "{out}");
                let (code, out) = swaks_send(
                    if i % 2 == 0 { p.smtp } else { p.smtps },
                    tls,
                    "LOGIN",
                    ALICE_PASSWORD,
                    &subject,
                );
                assert_eq!(code, Some(0), "{out}");
                assert!(wait_for(Duration::from_secs(10), || d.inbox(BOB).len() == 2));
                let expected = [d.imap, d.imaps, d.submission, d.submissions]
                    .into_iter()
                    .collect();
                assert_eq!(listening_ports(d.child.id() as i32), expected);
                if std::env::var_os("SHOW_LOGS").is_some() && i == 0 {
                    eprintln!(
                        "=== dovecot\n{}\n=== dovecot log_text\n{}\n=== postfix\n{}",
                        read_lossy(&d.log),
                        d.log_text(),
                        read_lossy(&p.log)
                    );
                }
            });
        }
    });
    eprintln!("{n} pairs in {:?}", t.elapsed());
}
