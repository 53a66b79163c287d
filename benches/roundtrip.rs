//! Benchmark (figures, never pass/fail): how long after the mail system delivers the canary
//! `toolctl check --round-trip` notices it (IMAP IDLE), against a shell loop that polls the
//! mailbox with `curl imaps://… UID SEARCH HEADER Message-ID` every second.
//!
//! The bench plays the mail system so that the moment of delivery is known exactly: it is
//! the `[smtp]` relay toolctl sends through (a small SMTP listener on 127.0.0.1), and it
//! delivers each message into alice's maildir of a real Dovecot (tmp/, then a rename into
//! new/, as Postfix's virtual agent does) after a random delay of 0–1 s. Then:
//!
//! - toolctl's added latency = (end of its SMTP dialogue + its `arrived` hop) − delivery;
//! - the loop's added latency = the moment its curl first prints the UID − delivery.
//!
//! Run with `scripts/bench-roundtrip` (as root: it starts a private Dovecot with the test
//! harness, tests/it/mailservers/).

#[path = "../tests/it/mailservers/mod.rs"]
mod mailservers;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mailservers::{certs, Dovecot, DovecotOptions, ALICE, ALICE_PASSWORD};

fn runs() -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// A delay in 0..1000 ms from the kernel's random source.
fn delay() -> Duration {
    let mut b = [0u8; 2];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .unwrap();
    Duration::from_millis(u64::from(u16::from_le_bytes(b)) % 1000)
}

/// Delivers `message` into the maildir as Postfix does: written in tmp/, renamed into new/.
fn deliver(maildir: &Path, name: &str, message: &[u8]) -> Instant {
    let tmp = maildir.join("tmp").join(name);
    std::fs::write(&tmp, message).unwrap();
    std::os::unix::fs::chown(&tmp, Some(65534), Some(65534)).unwrap();
    std::fs::rename(&tmp, maildir.join("new").join(name)).unwrap();
    Instant::now()
}

/// What the relay saw of one message: its text and when QUIT was answered.
struct Relayed {
    message: Vec<u8>,
    quit: Instant,
}

/// A plain SMTP listener that accepts one message per connection.
fn relay(listener: TcpListener, tx: mpsc::Sender<Relayed>) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let mut r = BufReader::new(conn.try_clone().unwrap());
        conn.write_all(b"220 bench ESMTP\r\n").unwrap();
        let mut message = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let cmd = line.to_ascii_uppercase();
            if cmd.starts_with("EHLO") {
                conn.write_all(b"250-bench\r\n250 8BITMIME\r\n").unwrap();
            } else if cmd.starts_with("DATA") {
                conn.write_all(b"354 go on\r\n").unwrap();
                loop {
                    let mut l = Vec::new();
                    r.read_until(b'\n', &mut l).unwrap();
                    if l == b".\r\n" || l.is_empty() {
                        break;
                    }
                    message.extend_from_slice(&l);
                }
                conn.write_all(b"250 queued\r\n").unwrap();
            } else if cmd.starts_with("QUIT") {
                conn.write_all(b"221 bye\r\n").unwrap();
                let quit = Instant::now();
                // `check` also runs the plain [smtp] probe, which sends nothing.
                if !message.is_empty() {
                    let _ = tx.send(Relayed {
                        message: std::mem::take(&mut message),
                        quit,
                    });
                }
                break;
            } else {
                conn.write_all(b"250 ok\r\n").unwrap();
            }
        }
    }
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let median = v[v.len() / 2];
    let p90 = v[((v.len() as f64 * 0.9).ceil() as usize).min(v.len()) - 1];
    (mean, median, p90)
}

fn main() {
    let toolctl = env!("CARGO_BIN_EXE_toolctl");
    let d = Dovecot::start(DovecotOptions::default());
    let maildir = d.maildir(ALICE);
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
        std::os::unix::fs::chown(maildir.join(sub), Some(65534), Some(65534)).unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp_port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || relay(listener, tx));

    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    std::fs::create_dir_all(r.join("etc/toolctl")).unwrap();
    std::fs::copy(&certs().ca, r.join("ca.pem")).unwrap();
    std::fs::write(
        r.join("etc/toolctl/toolctl.toml"),
        format!(
            "external_url = \"https://gitlab.example.com\"\n\n[check]\ncanary_from = \"canary@elsewhere.test\"\n\n\
             [smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {smtp_port}\nauthentication = \"none\"\nenable_starttls_auto = false\n\n\
             [incoming_email]\nenabled = true\naddress = \"alice+%{{key}}@example.test\"\nhost = \"127.0.0.1\"\nport = {imaps}\nssl = true\nca_file = \"/ca.pem\"\n\n\
             [mailroom]\nenable = false\n",
            imaps = d.imaps
        ),
    )
    .unwrap();
    let mut c = Command::new(toolctl)
        .args([
            "--root",
            r.to_str().unwrap(),
            "-q",
            "incoming-email",
            "secret",
            "write",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .as_mut()
        .unwrap()
        .write_all(format!("user: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n").as_bytes())
        .unwrap();
    drop(c.stdin.take());
    assert!(c.wait().unwrap().success());

    let n = runs();
    let mut ours = Vec::new();
    let mut loops = Vec::new();
    let mut own_delivery = Vec::new();
    for i in 0..n {
        // toolctl: its canary reaches the bench's relay, which delivers it after a delay.
        let child = Command::new(toolctl)
            .args([
                "--root",
                r.to_str().unwrap(),
                "check",
                "--round-trip",
                "--within",
                "30s",
                "--output-format",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let relayed = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the canary");
        let wait = delay();
        std::thread::sleep(wait);
        let delivered = deliver(
            &maildir,
            &format!("{}.bench{i}.host", 1_700_000_000 + i),
            &relayed.message,
        );
        own_delivery.push((delivered - relayed.quit).as_secs_f64());
        let out = child.wait_with_output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let probe = doc["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["probe"] == "incoming-email round-trip")
            .unwrap()
            .clone();
        let arrived = probe["hops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hop"] == "arrived")
            .unwrap_or_else(|| panic!("no arrived hop: {doc:#}"))["seconds"]
            .as_f64()
            .unwrap();
        let seen = relayed.quit + Duration::from_secs_f64(arrived);
        ours.push(seen.saturating_duration_since(delivered).as_secs_f64());

        // The loop: curl every second until the Message-ID is found.
        let id = format!("<bench-loop-{i}@elsewhere.test>");
        let script = format!(
            "while :; do out=$(curl -s --cacert {ca} -u '{ALICE}:{ALICE_PASSWORD}' 'imaps://127.0.0.1:{port}/INBOX' -X 'UID SEARCH HEADER Message-ID \"{id}\"'); \
             case \"$out\" in *'SEARCH '[0-9]*) echo found; exit 0;; esac; sleep 1; done",
            ca = certs().ca.display(),
            port = d.imaps,
        );
        let mut sh = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = sh.stdout.take().unwrap();
        let (ftx, frx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut l = String::new();
            BufReader::new(stdout).read_line(&mut l).unwrap();
            let _ = ftx.send(Instant::now());
        });
        // The loop is already polling (its phase is random against the delivery).
        std::thread::sleep(Duration::from_millis(1500) + delay());
        let msg = format!(
            "From: canary@elsewhere.test\r\nTo: {ALICE}\r\nSubject: bench loop\r\nMessage-ID: {id}\r\n\r\nbody\r\n"
        );
        let delivered = deliver(
            &maildir,
            &format!("{}.loop{i}.host", 1_700_000_000 + i),
            msg.as_bytes(),
        );
        let found = frx
            .recv_timeout(Duration::from_secs(30))
            .expect("the loop found it");
        let _ = sh.wait();
        loops.push(found.saturating_duration_since(delivered).as_secs_f64());
        eprintln!(
            "run {}: toolctl {:.0} ms, loop {:.0} ms",
            i + 1,
            ours[i] * 1000.0,
            loops[i] * 1000.0
        );
    }
    let (om, omed, op90) = stats(&mut ours);
    let (lm, lmed, lp90) = stats(&mut loops);
    let (dm, _, _) = stats(&mut own_delivery);
    println!("\nAdded latency after delivery ({n} runs; the mail system's own delivery: mean {:.0} ms, random 0-1 s)", dm * 1000.0);
    println!("{:<44} {:>9} {:>9} {:>9}", "", "mean", "median", "p90");
    println!(
        "{:<44} {:>6.0} ms {:>6.0} ms {:>6.0} ms",
        "toolctl check --round-trip (IMAP IDLE)",
        om * 1000.0,
        omed * 1000.0,
        op90 * 1000.0
    );
    println!(
        "{:<44} {:>6.0} ms {:>6.0} ms {:>6.0} ms",
        "shell loop: curl imaps:// SEARCH, sleep 1",
        lm * 1000.0,
        lmed * 1000.0,
        lp90 * 1000.0
    );
    println!(
        "ratio toolctl / loop (mean): {:.3} (goal: at most 0.5)",
        om / lm
    );
}
