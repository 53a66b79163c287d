//! Benchmark (figures, never pass/fail): the probes against their peer tools on the same
//! real servers, in one run.
//!
//! - `toolctl incoming-email check` vs `curl` doing the IMAP login and EXAMINE over IMAPS,
//!   and the same over STARTTLS (`curl --ssl-reqd imap://`), on Dovecot and on Cyrus;
//! - `toolctl smtp check` vs `swaks … --quit-after AUTH` (connect, STARTTLS, EHLO, AUTH), on
//!   Postfix and on Exim;
//! - `toolctl smtp secret show` vs `age -d` on the same file with the same key.
//!
//! Run with `scripts/bench-probes` (as root: it starts private Dovecot and Postfix
//! instances on 127.0.0.1 with the test harness, tests/it/mailservers/, and Cyrus and Exim
//! from Debian packages unpacked by `scripts/fetch-bench-servers`, benches/support/). The
//! peers get the test password on their command line; toolctl reads it from its encrypted
//! store. `TOOLCTL=path` benchmarks that binary; `BENCH_RUNS=n` sets the pairs (30).

#[path = "../tests/it/mailservers/mod.rs"]
mod mailservers;
#[path = "support/servers.rs"]
mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailservers::{certs, Dovecot, DovecotOptions, Postfix, ALICE, ALICE_PASSWORD};
use servers::{Cyrus, Exim};

/// Pairs timed per comparison (`BENCH_RUNS` overrides).
const RUNS: usize = 30;
const WARMUP: usize = 3;

/// A toolctl root (`--root`) with `settings` and the credentials `user` / `password` for
/// every scope.
fn make_root(toolctl: &str, settings: &str, user: &str, password: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    std::fs::create_dir_all(r.join("etc/toolctl")).unwrap();
    std::fs::copy(&certs().ca, r.join("ca.pem")).unwrap();
    std::fs::write(
        r.join("etc/toolctl/toolctl.toml"),
        format!("external_url = \"https://gitlab.example.com\"\n\n{settings}"),
    )
    .unwrap();
    let creds = format!("user: '{user}'\npassword: '{password}'\n");
    for (scope, content) in [
        ("incoming-email", creds.clone()),
        ("service-desk-email", creds),
        (
            "smtp",
            format!("user_name: '{user}'\npassword: '{password}'\n"),
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
    root
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn imap_settings(port: u16, tls: &str) -> String {
    format!(
        "[incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\n\
         host = \"127.0.0.1\"\nport = {port}\n{tls}\nca_file = \"/ca.pem\"\n"
    )
}

fn smtp_settings(port: u16) -> String {
    format!("[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {port}\nauthentication = \"plain\"\nca_file = \"/ca.pem\"\n")
}

fn main() {
    let toolctl =
        std::env::var("TOOLCTL").unwrap_or_else(|_| env!("CARGO_BIN_EXE_toolctl").to_string());
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unpacked = servers::unpacked(repo);
    let c = certs();
    let ca = c.ca.to_str().unwrap().to_string();
    let d = Dovecot::start(DovecotOptions::default());
    let postfix = Postfix::start(&d);
    let cyrus = Cyrus::start(
        &unpacked,
        &c.good.cert,
        &c.good.key,
        "alice",
        ALICE_PASSWORD,
    );
    let exim = Exim::start(
        &unpacked,
        &c.good.cert,
        &c.good.key,
        "alice",
        ALICE_PASSWORD,
    );

    let mut roots = Vec::new();
    let mut check = |settings: String, user: &str, what: &str, env_ca: bool| -> Vec<String> {
        let root = make_root(&toolctl, &settings, user, ALICE_PASSWORD);
        let mut v = Vec::new();
        if env_ca {
            // STARTTLS: mail_room trusts the system store there, so the CA goes there.
            v.extend(s(&["env", &format!("SSL_CERT_FILE={ca}")]));
        }
        v.extend(s(&[
            &toolctl,
            "--root",
            root.path().to_str().unwrap(),
            what,
            "check",
        ]));
        roots.push(root);
        v
    };
    let curl = |url: String, user: &str, starttls: bool| -> Vec<String> {
        let mut v = s(&["curl", "-s"]);
        if starttls {
            v.push("--ssl-reqd".into());
        }
        v.extend(s(&[
            "--cacert",
            &ca,
            "-u",
            &format!("{user}:{ALICE_PASSWORD}"),
            &url,
            "-X",
            "EXAMINE INBOX",
        ]));
        v
    };
    let swaks = |port: u16, user: &str| -> Vec<String> {
        s(&[
            "swaks",
            "--server",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "--tls-ca-path",
            &ca,
            "--tls-verify",
            "--auth",
            "PLAIN",
            "--auth-user",
            user,
            "--auth-password",
            ALICE_PASSWORD,
            "--quit-after",
            "AUTH",
            "--to",
            "bob@example.test",
        ])
    };

    let mut pairs: Vec<(String, Vec<String>, String, Vec<String>)> = Vec::new();
    for (server, imaps, imap, user) in [
        ("Dovecot", d.imaps, d.imap, ALICE),
        ("Cyrus", cyrus.imaps, cyrus.imap, "alice"),
    ] {
        pairs.push((
            format!("IMAPS probe ({server})"),
            check(
                imap_settings(imaps, "ssl = true"),
                user,
                "incoming-email",
                false,
            ),
            "curl imaps:// EXAMINE".into(),
            curl(format!("imaps://127.0.0.1:{imaps}/"), user, false),
        ));
        pairs.push((
            format!("STARTTLS probe ({server})"),
            check(
                imap_settings(imap, "start_tls = true"),
                user,
                "incoming-email",
                true,
            ),
            "curl --ssl-reqd imap://".into(),
            curl(format!("imap://127.0.0.1:{imap}/"), user, true),
        ));
    }
    for (server, port, user) in [
        ("Postfix", postfix.smtp, ALICE),
        ("Exim", exim.submission, "alice"),
    ] {
        pairs.push((
            format!("smtp check ({server})"),
            check(smtp_settings(port), user, "smtp", false),
            "swaks --quit-after AUTH".into(),
            swaks(port, user),
        ));
    }
    // secret show vs age -d on the same file, with the same key.
    let secret_root = roots[0].path().to_path_buf();
    let key: PathBuf = secret_root.join("etc/toolctl/secrets.key");
    let file: PathBuf = secret_root.join("var/opt/toolctl/secrets/smtp.yaml.age");
    pairs.push((
        "smtp secret show".into(),
        s(&[
            &toolctl,
            "--root",
            secret_root.to_str().unwrap(),
            "smtp",
            "secret",
            "show",
        ]),
        "age -d -i KEY FILE".into(),
        s(&[
            "age",
            "-d",
            "-i",
            key.to_str().unwrap(),
            file.to_str().unwrap(),
        ]),
    ));

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "probes vs peers: {runs} interleaved pairs each after {WARMUP} warm-up; {} CPUs; load average {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "servers: {}; Cyrus IMAP 3.6.1 and Exim 4.96 (Debian packages, unpacked); {}",
        version("dovecot", &["--version"]),
        version("curl", &["--version"]).lines().next().unwrap_or("")
    );
    println!(
        "{:<30}{:>10}   {:<26}{:>10}   {:>6}",
        "toolctl", "median", "peer", "median", "ratio"
    );
    if std::env::var_os("BENCH_STEPS").is_some() {
        // Where the time goes: each probe's rows (median ms of `runs` runs per step).
        for (name, ours, _, _) in &pairs {
            if ours.last().map(String::as_str) != Some("check") {
                continue;
            }
            let mut argv = ours.clone();
            argv.extend(s(&["--output-format", "json"]));
            let mut per: Vec<(String, Vec<f64>)> = Vec::new();
            for _ in 0..runs {
                let out = Command::new(&argv[0])
                    .args(&argv[1..])
                    .output()
                    .expect("spawn");
                let text = String::from_utf8_lossy(&out.stdout);
                // `"ms": N, … "step": "name"`: the fields of one row, in this order.
                for row in text.split('{').skip(1) {
                    let field = |k: &str| {
                        let i = row.find(&format!("\"{k}\": "))? + k.len() + 4;
                        Some(
                            row[i..]
                                .split([',', '\n'])
                                .next()?
                                .trim()
                                .trim_matches('"')
                                .to_string(),
                        )
                    };
                    if let (Some(ms), Some(step)) = (field("ms"), field("step")) {
                        if let Ok(ms) = ms.parse::<f64>() {
                            match per.iter_mut().find(|(n, _)| *n == step) {
                                Some((_, v)) => v.push(ms),
                                None => per.push((step, vec![ms])),
                            }
                        }
                    }
                }
            }
            let rows: Vec<String> = per
                .into_iter()
                .map(|(n, mut v)| {
                    v.sort_by(f64::total_cmp);
                    format!("{n} {}", v[v.len() / 2])
                })
                .collect();
            println!("steps of {name} (median ms): {}", rows.join(", "));
        }
    }
    for (name, ours, peer_name, peer) in pairs {
        for argv in [&ours, &peer] {
            for _ in 0..WARMUP {
                time(argv);
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..runs {
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
            "{name:<30}{:>8.2}ms   {peer_name:<26}{:>8.2}ms   {:>6.2}",
            ms(ma),
            ms(mb),
            ma.as_secs_f64() / mb.as_secs_f64()
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
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
