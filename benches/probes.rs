//! Benchmark (figures, never pass/fail): the probes against their peer tools on the same
//! real servers, in one run.
//!
//! - `toolctl smtp check` vs `swaks … --quit-after AUTH` (connect, STARTTLS, EHLO, AUTH);
//! - `toolctl incoming-email check` vs `curl` doing the IMAP login and EXAMINE over IMAPS,
//!   and the same over STARTTLS (`curl --ssl-reqd imap://`);
//! - `toolctl check` (two mailboxes and one relay, concurrently) vs the three probes run one
//!   after another.
//!
//! Run with `cargo bench --bench probes` (as root: it starts private Dovecot and Postfix
//! instances on 127.0.0.1 with the test harness, tests/it/mailservers/). The peers get
//! the test password on their command line; toolctl reads it from its encrypted store.

#[path = "../tests/it/mailservers/mod.rs"]
mod mailservers;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailservers::{certs, Dovecot, DovecotOptions, Postfix, ALICE, ALICE_PASSWORD};

const RUNS: usize = 60;
const WARMUP: usize = 5;

fn main() {
    let toolctl = env!("CARGO_BIN_EXE_toolctl");
    let d = Dovecot::start(DovecotOptions::default());
    let _p = Postfix::start(&d);
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    std::fs::create_dir_all(r.join("etc/toolctl")).unwrap();
    std::fs::copy(&certs().ca, r.join("ca.pem")).unwrap();
    std::fs::write(
        r.join("etc/toolctl/toolctl.toml"),
        format!(
            "external_url = \"https://gitlab.example.com\"\n\n\
             [smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {sub}\nauthentication = \"plain\"\nca_file = \"/ca.pem\"\n\n\
             [incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\nhost = \"127.0.0.1\"\nport = {imaps}\nssl = true\nca_file = \"/ca.pem\"\n\n\
             [service_desk_email]\nenabled = true\naddress = \"contact+%{{key}}@incoming.example.test\"\nhost = \"127.0.0.1\"\nport = {imaps}\nssl = true\nmailbox = \"Service Desk\"\nca_file = \"/ca.pem\"\n",
            sub = d.submission,
            imaps = d.imaps
        ),
    )
    .unwrap();
    let creds = format!("user: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n");
    for (scope, content) in [
        ("incoming-email", creds.clone()),
        ("service-desk-email", creds),
        (
            "smtp",
            format!("user_name: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        ),
        (
            "mailroom",
            "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n".to_string(),
        ),
    ] {
        let mut c = Command::new(toolctl)
            .args([
                "--root",
                r.to_str().unwrap(),
                "-q",
                scope,
                "secret",
                "write",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(c.stdin.as_mut().unwrap(), content.as_bytes()).unwrap();
        drop(c.stdin.take());
        assert!(c.wait().unwrap().success());
    }
    let ca = certs().ca.to_str().unwrap().to_string();
    let root_arg = r.to_str().unwrap().to_string();
    let t = |args: &[&str]| {
        let mut v = vec![toolctl.to_string(), "--root".into(), root_arg.clone()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let swaks = vec![
        "swaks".to_string(),
        "--server".into(),
        format!("127.0.0.1:{}", d.submission),
        "--tls".into(),
        "--tls-ca-path".into(),
        ca.clone(),
        "--tls-verify".into(),
        "--auth".into(),
        "PLAIN".into(),
        "--auth-user".into(),
        ALICE.into(),
        "--auth-password".into(),
        ALICE_PASSWORD.into(),
        "--quit-after".into(),
        "AUTH".into(),
        "--to".into(),
        "bob@example.test".into(),
    ];
    let curl = vec![
        "curl".to_string(),
        "-s".into(),
        "--cacert".into(),
        ca,
        "-u".into(),
        format!("{ALICE}:{ALICE_PASSWORD}"),
        format!("imaps://127.0.0.1:{}/", d.imaps),
        "-X".into(),
        "EXAMINE INBOX".into(),
    ];
    // STARTTLS: mail_room trusts the system store there, so both get the CA that way.
    let starttls_conf = r.join("starttls.toml");
    std::fs::write(
        &starttls_conf,
        format!(
            "external_url = \"https://gitlab.example.com\"\n\n\
             [incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\nhost = \"127.0.0.1\"\nport = {imap}\nstart_tls = true\n",
            imap = d.imap
        ),
    )
    .unwrap();
    let starttls = {
        let mut v = vec![
            "env".to_string(),
            format!("SSL_CERT_FILE={}", certs().ca.display()),
        ];
        v.extend(t(&[
            "--config",
            starttls_conf.to_str().unwrap(),
            "incoming-email",
            "check",
        ]));
        v
    };
    let curl_starttls = vec![
        "curl".to_string(),
        "-s".into(),
        "--ssl-reqd".into(),
        "--cacert".into(),
        certs().ca.to_str().unwrap().to_string(),
        "-u".into(),
        format!("{ALICE}:{ALICE_PASSWORD}"),
        format!("imap://127.0.0.1:{}/", d.imap),
        "-X".into(),
        "EXAMINE INBOX".into(),
    ];
    let three = vec![
        "sh".to_string(),
        "-c".into(),
        format!(
            "{0} --root {1} smtp check >/dev/null && {0} --root {1} incoming-email check >/dev/null && {0} --root {1} service-desk-email check >/dev/null",
            toolctl, root_arg
        ),
    ];
    let pairs: Vec<(&str, Vec<String>, &str, Vec<String>)> = vec![
        (
            "toolctl smtp check",
            t(&["smtp", "check"]),
            "swaks --quit-after AUTH",
            swaks,
        ),
        (
            "toolctl incoming-email check",
            t(&["incoming-email", "check"]),
            "curl imaps EXAMINE",
            curl,
        ),
        (
            "toolctl incoming-email (STARTTLS)",
            starttls,
            "curl --ssl-reqd imap:// EXAMINE",
            curl_starttls,
        ),
        (
            "toolctl check (3 probes)",
            t(&["check"]),
            "3 probes one after another",
            three,
        ),
    ];
    println!("probes vs peers on Dovecot {} / Postfix, {RUNS} interleaved runs each after {WARMUP} warm-up; {} CPUs",
        version("dovecot", &["--version"]), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!(
        "{:<36}{:>10}   {:<32}{:>10}   {:>6}",
        "toolctl", "median", "peer", "median", "ratio"
    );
    for (name, ours, peer_name, peer) in pairs {
        for argv in [&ours, &peer] {
            for _ in 0..WARMUP {
                time(argv);
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..RUNS {
            if i % 2 == 0 {
                a.push(time(&ours));
                b.push(time(&peer));
            } else {
                b.push(time(&peer));
                a.push(time(&ours));
            }
        }
        let (ma, mb) = (median(a), median(b));
        println!(
            "{name:<36}{:>8.1}ms   {peer_name:<32}{:>8.1}ms   {:>6.2}",
            ms(ma),
            ms(mb),
            ma.as_secs_f64() / mb.as_secs_f64()
        );
    }
}

fn time(argv: &[String]) -> Duration {
    let start = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{argv:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn version(bin: &str, args: &[&str]) -> String {
    let path = ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.exists());
    path.and_then(|p| Command::new(p).args(args).output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
