//! `check --round-trip` through real Postfix and Dovecot (Postfix delivers `alice+key@` into
//! alice's INBOX with `recipient_delimiter = +`), with mail_room played by a script that does
//! what mail_room does (a second IMAP session flags the message; its JSON log gets mail_room's
//! lines), and `check --postback` against an HTTP stand-in for GitLab's internal endpoint
//! that checks the JWT as GitLab does. Plus every refusal (exit 2, hint, nothing changed).

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::{Outcome, TestRoot};
use crate::mailservers::{certs, Dovecot, DovecotOptions, Postfix};

const ALICE: &str = "alice@example.test";
const ALICE_PW: &str = "alice-Pa55";
const CANARY_FROM: &str = "canary@elsewhere.test";
/// A webhook secret as reconfigure generates it: base64 of 32 bytes.
const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const LOG: &str = "var/log/toolctl/mailroom/mail_room_json.log";

fn root(settings: &str, webhook_secret: &str) -> TestRoot {
    root_from(settings, webhook_secret, Some(CANARY_FROM))
}

fn root_from(settings: &str, webhook_secret: &str, canary_from: Option<&str>) -> TestRoot {
    let creds = format!("user: '{ALICE}'\npassword: '{ALICE_PW}'\n");
    let check = canary_from
        .map(|f| format!("[check]\ncanary_from = \"{f}\"\n\n"))
        .unwrap_or_default();
    TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[email]\nfrom = \"{ALICE}\"\n\n\
             {check}{settings}"
        ))
        .copy_file("ca.pem", &certs().ca)
        .secret("incoming-email", &creds)
        .secret(
            "smtp",
            format!("user_name: '{ALICE}'\npassword: '{ALICE_PW}'\n"),
        )
        .secret("mailroom", format!("webhook_secret: '{webhook_secret}'\n"))
        .build()
}

/// The relay (Postfix, STARTTLS, AUTH through Dovecot) and alice's INBOX (IMAPS).
fn mail_settings(d: &Dovecot, p: &Postfix, mailroom: bool, extra: &str) -> String {
    format!(
        "[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {}\nca_file = \"/ca.pem\"\n\n\
         [incoming_email]\nenabled = true\naddress = \"alice+%{{key}}@example.test\"\n\
         host = \"127.0.0.1\"\nport = {}\nssl = true\nca_file = \"/ca.pem\"\n{extra}\n\n\
         [mailroom]\nenable = {mailroom}\n",
        p.smtp, d.imaps
    )
}

fn servers() -> (Dovecot, Postfix) {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start_with(&d, "recipient_delimiter = +");
    (d, p)
}

fn run(t: &TestRoot, args: &[&str]) -> Outcome {
    let mut all = vec!["check", "--output-format", "json"];
    all.extend_from_slice(args);
    let out = t.toolctl(all).run();
    for s in [ALICE_PW, SECRET] {
        assert!(
            !out.stdout_str().contains(s) && !out.stderr.contains(s),
            "a secret leaked\n{out}"
        );
    }
    out
}

/// The round-trip probe's document.
fn trip(out: &Outcome, probe: &str) -> Value {
    out.json()["probes"]
        .as_array()
        .unwrap_or_else(|| panic!("not a probe report\n{out}"))
        .iter()
        .find(|p| p["probe"] == probe)
        .cloned()
        .unwrap_or_else(|| panic!("no probe {probe}\n{out}"))
}

fn row(probe: &Value, name: &str) -> Value {
    probe["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no row {name} in {probe:#}"))
}

fn hops(probe: &Value) -> Vec<String> {
    probe["hops"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    assert_eq!(h["mailbox"], "incoming_email");
                    assert!(h["seconds"].as_f64().unwrap() >= 0.0);
                    h["hop"].as_str().unwrap().to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a message into alice's INBOX as delivered mail (`flags`: maildir flags, `T` is
/// `\Deleted`), owned by the mail user.
fn put(d: &Dovecot, name: &str, flags: Option<&str>, text: &str) -> PathBuf {
    let maildir = d.maildir(ALICE);
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
        std::os::unix::fs::chown(maildir.join(sub), Some(65534), Some(65534)).unwrap();
    }
    std::os::unix::fs::chown(&maildir, Some(65534), Some(65534)).unwrap();
    let path = match flags {
        Some(f) => maildir.join("cur").join(format!("{name}:2,{f}")),
        None => maildir.join("new").join(name),
    };
    fs::write(&path, text).unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    path
}

fn others(d: &Dovecot) -> Vec<String> {
    let mut v: Vec<String> = d
        .inbox(ALICE)
        .into_iter()
        .filter(|m| !m.contains("Subject: toolctl round-trip canary"))
        .map(|m| {
            m.lines()
                .find(|l| l.starts_with("Subject:"))
                .unwrap_or("")
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn without_mail_room_the_trip_sends_finds_and_deletes_only_its_own_canary() {
    let (d, p) = servers();
    // Other mail, one of it already flagged \Deleted: a plain EXPUNGE would remove it.
    put(
        &d,
        "1000.a.host",
        None,
        "From: x@example.test\r\nSubject: keep one\r\n\r\nbody\r\n",
    );
    put(
        &d,
        "1001.b.host",
        Some("S"),
        "From: x@example.test\r\nSubject: keep two\r\n\r\nbody\r\n",
    );
    put(
        &d,
        "1002.c.host",
        Some("ST"),
        "From: x@example.test\r\nSubject: keep three (flagged deleted)\r\n\r\nbody\r\n",
    );
    // One that looks like a canary, but is not this run's.
    put(&d, "1003.d.host", None, "From: x@example.test\r\nSubject: keep four\r\nMessage-ID: <toolctl-canary-older.1@elsewhere.test>\r\n\r\nbody\r\n");
    let before = d.inbox(ALICE).len();
    let t = root(&mail_settings(&d, &p, false, "idle_timeout = 5"), SECRET);
    let out = run(&t, &["--round-trip"]);
    out.assert_code(0);
    let probe = trip(&out, "incoming-email round-trip");
    // --within defaults to the largest idle_timeout plus 60 s.
    assert!(
        row(&probe, "settings")["detail"]
            .as_str()
            .unwrap()
            .ends_with("within 1m 5s"),
        "{out}"
    );
    for name in ["watch", "send", "arrived", "cleanup"] {
        assert_eq!(row(&probe, name)["status"], "ok", "{name}\n{out}");
    }
    assert_eq!(row(&probe, "picked up")["status"], "skipped", "{out}");
    detail_has(&probe, "cleanup", "toolctl deleted its canary", &out);
    assert!(
        row(&probe, "arrived")["ms"].as_u64().unwrap() < 10_000,
        "{out}"
    );
    assert_eq!(hops(&probe), ["send", "arrived", "cleanup"], "{out}");
    // The canary reached the sub-address, marked auto-generated, and is gone again; every
    // other message is still there.
    let log = p.log_text();
    assert!(log.contains("to=<alice+toolctl-canary-"), "{log}");
    let after = d.inbox(ALICE);
    assert_eq!(
        after.len(),
        before,
        "the canary is not gone, or more went\n{out}"
    );
    assert_eq!(
        others(&d),
        [
            "Subject: keep four",
            "Subject: keep one",
            "Subject: keep three (flagged deleted)",
            "Subject: keep two"
        ]
    );
}

#[test]
fn without_uidplus_the_canary_is_flagged_and_left_and_without_idle_the_mailbox_is_polled() {
    let d = Dovecot::start(DovecotOptions {
        imap_capability: Some("IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE"),
        ..DovecotOptions::default()
    });
    let p = Postfix::start_with(&d, "recipient_delimiter = +");
    put(
        &d,
        "1000.a.host",
        None,
        "From: x@example.test\r\nSubject: keep one\r\n\r\nbody\r\n",
    );
    put(
        &d,
        "1002.c.host",
        Some("ST"),
        "From: x@example.test\r\nSubject: keep three (flagged deleted)\r\n\r\nbody\r\n",
    );
    let t = root(&mail_settings(&d, &p, false, ""), SECRET);
    let out = run(&t, &["--round-trip", "--within", "30s"]);
    out.assert_code(0);
    let probe = trip(&out, "incoming-email round-trip");
    detail_has(&probe, "watch", "polling: no IDLE", &out);
    assert_eq!(row(&probe, "arrived")["status"], "ok", "{out}");
    let cleanup = row(&probe, "cleanup");
    assert_eq!(cleanup["status"], "warn", "{out}");
    assert!(
        cleanup["detail"].as_str().unwrap().contains("no UIDPLUS"),
        "{out}"
    );
    // Nothing was expunged: the canary is there, flagged \Seen \Deleted, and so is the
    // message that was flagged \Deleted before.
    let names: Vec<String> = fs::read_dir(d.maildir(ALICE).join("cur"))
        .unwrap()
        .chain(fs::read_dir(d.maildir(ALICE).join("new")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(
        others(&d),
        ["Subject: keep one", "Subject: keep three (flagged deleted)"]
    );
    let canary = d
        .inbox(ALICE)
        .into_iter()
        .any(|m| m.contains("Subject: toolctl round-trip canary"));
    assert!(canary, "the canary was removed without UIDPLUS");
    assert!(
        names.iter().filter(|n| n.ends_with(",ST")).count() == 2,
        "the canary is not flagged \\Seen \\Deleted: {names:?}"
    );
}

/// mail_room, played: waits for the canary with its own IMAP session, marks it as mail_room
/// does (\Seen, then \Deleted), and writes mail_room's log lines for it.
const MAIL_ROOM: &str = r#"
import imaplib, json, sys, time, datetime
port, log, status, delete, push = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
def write(obj):
    with open(log, "a") as f:
        f.write(json.dumps(obj) + "\n")
ctx = {"email": "alice@example.test", "name": "inbox"}
write({"severity": "INFO", "time": now(), "context": ctx, "action": "Idling"})
m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice@example.test", "alice-Pa55")
m.select("INBOX")
deadline = time.time() + 30
while time.time() < deadline:
    m.noop()
    typ, data = m.uid("SEARCH", None, "UNSEEN", "HEADER", "Message-ID", "toolctl-canary-")
    uids = data[0].split()
    if uids:
        uid = int(uids[0])
        write({"severity": "INFO", "time": now(), "context": ctx, "action": "Processing started"})
        m.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        write({"severity": "INFO", "time": now(), "context": ctx, "action": "asking arbiter to deliver", "uid": uid})
        write({"severity": "INFO", "time": now(), "context": ctx, "action": "sending to deliverer", "uid": uid, "byte_size": 600})
        if push == "sidekiq":
            write({"severity": "INFO", "time": now(), "delivery_method": "Sidekiq", "action": "message pushed"})
        else:
            # Another mailbox's push first: not this one's.
            write({"severity": "INFO", "time": now(), "delivery_method": "Postback", "action": "message pushed", "url": "https://gitlab.example.com/api/v4/internal/mail_room/service_desk_email", "status_code": 500})
            write({"severity": "INFO", "time": now(), "delivery_method": "Postback", "action": "message pushed", "url": "https://gitlab.example.com/api/v4/internal/mail_room/incoming_email", "status_code": int(status)})
        if delete:
            m.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
        break
    time.sleep(0.1)
m.logout()
"#;

struct MailRoom(Child);

impl Drop for MailRoom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mail_room(t: &TestRoot, d: &Dovecot, status: u16, delete: bool, push: &str) -> MailRoom {
    let log = t.path(LOG);
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    fs::write(&log, "").unwrap();
    let script = t.aux().join("mail_room.py");
    fs::write(&script, MAIL_ROOM).unwrap();
    let child = Command::new("python3")
        .arg(&script)
        .arg(d.imap.to_string())
        .arg(&log)
        .arg(status.to_string())
        .arg(if delete { "1" } else { "0" })
        .arg(push)
        .stdin(Stdio::null())
        .spawn()
        .expect("python3");
    MailRoom(child)
}

#[test]
fn with_mail_room_the_pick_up_the_push_and_mail_rooms_deletion_are_reported() {
    let (d, p) = servers();
    let t = root(&mail_settings(&d, &p, true, ""), SECRET);
    let _mr = mail_room(&t, &d, 200, true, "postback");
    let out = run(&t, &["--round-trip", "--within", "30s"]);
    out.assert_code(0);
    let probe = trip(&out, "incoming-email round-trip");
    let picked = row(&probe, "picked up");
    assert_eq!(picked["status"], "ok", "{out}");
    assert!(
        picked["detail"]
            .as_str()
            .unwrap()
            .contains("sending to deliverer"),
        "{out}"
    );
    let pushed = row(&probe, "pushed");
    assert_eq!(pushed["status"], "ok", "{out}");
    assert!(
        pushed["detail"].as_str().unwrap().ends_with(": 200"),
        "{out}"
    );
    detail_has(&probe, "cleanup", "mail_room flagged UID", &out);
    assert_eq!(
        hops(&probe),
        ["send", "arrived", "picked_up", "pushed", "cleanup"],
        "{out}"
    );
}

#[test]
fn a_401_in_mail_rooms_log_fails_the_push_naming_the_webhook_secret() {
    let (d, p) = servers();
    let t = root(
        &mail_settings(&d, &p, true, "delete_after_delivery = false"),
        SECRET,
    );
    let _mr = mail_room(&t, &d, 401, false, "postback");
    let out = run(&t, &["--round-trip", "--within", "30s"]);
    out.assert_code(1);
    let probe = trip(&out, "incoming-email round-trip");
    assert_eq!(row(&probe, "picked up")["status"], "ok", "{out}");
    let pushed = row(&probe, "pushed");
    assert_eq!(pushed["status"], "fail", "{out}");
    assert!(pushed["detail"].as_str().unwrap().contains("401"), "{out}");
    let hint = pushed["hint"].as_str().unwrap();
    assert!(
        hint.contains("webhook secret") && hint.contains("share one toolctl secrets store"),
        "{out}"
    );
    // The trip stops at the failing hop: no cleanup row.
    assert!(
        !probe["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "cleanup"),
        "{out}"
    );
}

#[test]
fn sidekiq_delivery_ends_at_mail_rooms_sidekiq_push_and_toolctl_cleans_up() {
    let (d, p) = servers();
    let t = root(
        &mail_settings(
            &d,
            &p,
            true,
            "delete_after_delivery = false\ndelivery_method = \"sidekiq\"",
        ),
        SECRET,
    );
    // sidekiq needs [redis] url.
    let settings = fs::read_to_string(t.config_file()).unwrap()
        + "\n[redis]\nurl = \"redis://127.0.0.1:6379\"\n";
    t.write_settings(&settings);
    let _mr = mail_room(&t, &d, 0, false, "sidekiq");
    let out = run(&t, &["--round-trip", "--within", "30s"]);
    let probe = trip(&out, "incoming-email round-trip");
    assert_eq!(row(&probe, "pushed")["status"], "ok", "{out}");
    detail_has(&probe, "pushed", "Sidekiq", &out);
    detail_has(&probe, "cleanup", "toolctl deleted its canary", &out);
    assert!(
        !d.inbox(ALICE)
            .iter()
            .any(|m| m.contains("Subject: toolctl round-trip canary")),
        "the canary is still there"
    );
}

#[test]
fn a_mail_room_that_never_picks_up_fails_at_that_hop_within_the_bound() {
    let (d, p) = servers();
    let t = root(&mail_settings(&d, &p, true, ""), SECRET);
    let started = std::time::Instant::now();
    let out = run(&t, &["--round-trip", "--within", "8s"]);
    out.assert_code(1);
    assert!(started.elapsed() < Duration::from_secs(30), "{out}");
    let probe = trip(&out, "incoming-email round-trip");
    assert_eq!(row(&probe, "arrived")["status"], "ok", "{out}");
    let picked = row(&probe, "picked up");
    assert_eq!(picked["status"], "fail", "{out}");
    assert!(
        picked["detail"]
            .as_str()
            .unwrap()
            .contains("did not pick the canary"),
        "{out}"
    );
    assert!(
        picked["hint"].as_str().unwrap().contains("mail_room runs"),
        "{out}"
    );
    // mail_room never touched the canary: toolctl deletes it rather than leave one per run.
    assert_eq!(row(&probe, "cleanup")["status"], "ok", "{out}");
    assert_eq!(
        hops(&probe),
        ["send", "arrived", "picked_up", "cleanup"],
        "{out}"
    );
    assert!(
        !d.inbox(ALICE)
            .iter()
            .any(|m| m.contains("Subject: toolctl round-trip canary")),
        "the canary is still there"
    );
}

// --- bad input: exit 2, a hint, nothing changed -------------------------------------------

fn refused(settings: &str, args: &[&str], error: &str, hint: &str) {
    refused_from(settings, CANARY_FROM, args, error, hint)
}

fn refused_from(settings: &str, from: &str, args: &[&str], error: &str, hint: &str) {
    let t = root_from(settings, SECRET, Some(from));
    let before = t.snapshot();
    let out = t.toolctl(args.iter().copied()).run();
    out.assert_error(error, &[hint]);
    before.assert_unchanged(&t.snapshot(), &out);
}

const MAILBOX: &str = "[smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = 1\n\n\
    [incoming_email]\nenabled = true\naddress = \"alice+%{key}@example.test\"\nhost = \"127.0.0.1\"\nport = 1\n";

#[test]
fn bad_input_is_refused_with_a_hint_before_anything_is_sent() {
    // The canary's sender is the mailbox's own address.
    for from in ["alice@example.test", "Alice <ALICE@example.test>"] {
        for flag in ["--round-trip", "--postback"] {
            refused_from(
                MAILBOX,
                from,
                &["check", flag],
                "is the incoming_email mailbox's own address",
                "check.canary_from",
            );
        }
    }
    // A mailbox without sub-addresses.
    refused(
        &MAILBOX.replace("alice+%{key}@", "alice@"),
        &["check", "--round-trip"],
        "has no `%{key}`",
        "%{key}",
    );
    refused(
        &MAILBOX.replace("alice+%{key}@", "alice@"),
        &["check", "--postback"],
        "has no `%{key}`",
        "%{key}",
    );
    // --within 0.
    refused(
        MAILBOX,
        &["check", "--round-trip", "--within", "0"],
        "`--within 0` is not a usable duration",
        "more than 0",
    );
    refused(
        MAILBOX,
        &["check", "--round-trip", "--within", "0s"],
        "`--within 0s` is not a usable duration",
        "more than 0",
    );
}

#[test]
fn the_canary_needs_its_own_sender() {
    let t = root_from(MAILBOX, SECRET, None);
    let before = t.snapshot();
    let out = t.toolctl(["check", "--round-trip"]).run();
    out.assert_error(
        "needs `[check] canary_from`",
        &["toolctl config set check.canary_from"],
    );
    before.assert_unchanged(&t.snapshot(), &out);
}

// --- the postback, against a stand-in for GitLab's internal endpoint -----------------------

/// GitLab's check of `Gitlab-Mailroom-Api-Request`: HS256 with the base64-decoded secret (32
/// bytes, else 500), issuer gitlab-mailroom, iat no older than 5 minutes by its clock.
struct Gitlab {
    secret_file: String,
    /// GitLab's clock minus this host's, in seconds.
    skew: i64,
}

impl Respond for Gitlab {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(key) = base64::engine::general_purpose::STANDARD.decode(self.secret_file.trim())
        else {
            return ResponseTemplate::new(500);
        };
        if key.len() != 32 {
            return ResponseTemplate::new(500);
        }
        let Some(token) = req
            .headers
            .get("Gitlab-Mailroom-Api-Request")
            .and_then(|v| v.to_str().ok())
        else {
            return ResponseTemplate::new(401);
        };
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return ResponseTemplate::new(401);
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        let Ok(sig) = b64.decode(parts[2]) else {
            return ResponseTemplate::new(401);
        };
        if mac.verify_slice(&sig).is_err() {
            return ResponseTemplate::new(401);
        }
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + self.skew;
        let fresh = claims["iat"]
            .as_i64()
            .is_some_and(|iat| iat <= now + 60 && now - iat <= 300);
        if header["alg"] != "HS256" || claims["iss"] != "gitlab-mailroom" || !fresh {
            return ResponseTemplate::new(401);
        }
        let body = String::from_utf8_lossy(&req.body);
        if !body.contains("Auto-Submitted: auto-generated") || !body.contains("toolctl-canary-") {
            return ResponseTemplate::new(400);
        }
        ResponseTemplate::new(200).set_body_json(serde_json::json!({}))
    }
}

async fn postback(secret_file: &str, skew: i64, ours: &str) -> Outcome {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/internal/mail_room/incoming_email"))
        .respond_with(Gitlab {
            secret_file: secret_file.to_string(),
            skew,
        })
        .mount(&server)
        .await;
    let settings = format!(
        "[incoming_email]\nenabled = true\naddress = \"alice+%{{key}}@example.test\"\n\
         host = \"127.0.0.1\"\ngitlab_url = \"{}\"\n\n[mailroom]\nenable = false\n",
        server.uri()
    );
    let t = root(&settings, ours);
    let t2 = std::sync::Arc::new(t);
    let t3 = t2.clone();
    tokio::task::spawn_blocking(move || run(&t3, &["--postback"]))
        .await
        .unwrap()
}

fn postback_row(out: &Outcome) -> Value {
    row(&trip(out, "incoming-email postback"), "postback")
}

#[tokio::test]
async fn the_postback_passes_with_gitlabs_secret() {
    let out = postback(SECRET, 0, SECRET).await;
    out.assert_code(0);
    let r = postback_row(&out);
    assert_eq!(r["status"], "ok", "{out}");
    assert!(r["detail"].as_str().unwrap().contains(": 200"), "{out}");
}

#[tokio::test]
async fn another_secret_is_a_401_with_the_shared_store_hint() {
    let other = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let out = postback(&other, 0, SECRET).await;
    out.assert_code(1);
    let r = postback_row(&out);
    assert_eq!(r["status"], "fail", "{out}");
    assert!(r["detail"].as_str().unwrap().contains("401"), "{out}");
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("share one toolctl secrets store across nodes"),
        "{out}"
    );
    assert!(!out.stdout_str().contains(&other));
}

#[tokio::test]
async fn a_token_older_than_five_minutes_by_gitlabs_clock_is_a_401() {
    let out = postback(SECRET, 6 * 60, SECRET).await;
    out.assert_code(1);
    let r = postback_row(&out);
    assert!(r["detail"].as_str().unwrap().contains("401"), "{out}");
    assert!(r["hint"].as_str().unwrap().contains("clock"), "{out}");
}

#[tokio::test]
async fn a_gitlab_secret_file_that_is_not_32_bytes_is_a_500_naming_secret_file() {
    let out = postback("dG9rZW4=", 0, SECRET).await;
    out.assert_code(1);
    let r = postback_row(&out);
    assert!(r["detail"].as_str().unwrap().contains("500"), "{out}");
    assert!(r["hint"].as_str().unwrap().contains("secret_file"), "{out}");
}

#[tokio::test]
async fn toolctls_own_secret_that_is_not_32_bytes_is_refused_before_any_request() {
    // `secret write` refuses such a token now; one stored by an older toolctl (written here
    // with age directly) stops the run as a settings error, before any request.
    let server = MockServer::start().await;
    let settings = format!(
        "[incoming_email]\nenabled = true\naddress = \"alice+%{{key}}@example.test\"\n\
         host = \"127.0.0.1\"\ngitlab_url = \"{}\"\n\n[mailroom]\nenable = false\n",
        server.uri()
    );
    let t = root(&settings, SECRET);
    let public = crate::harness::age_public_key(&t.key_file());
    crate::harness::age_encrypt_armored(
        &public,
        b"webhook_secret: 'dG9rZW4='\n",
        &t.secret_file("mailroom"),
    );
    let t = std::sync::Arc::new(t);
    let t2 = t.clone();
    let out = tokio::task::spawn_blocking(move || run(&t2, &["--postback"]))
        .await
        .unwrap();
    out.assert_code(2);
    let doc = out.json().to_string();
    assert!(
        doc.contains("strict base64 of exactly 32 bytes")
            && doc.contains("openssl rand -base64 32"),
        "{out}"
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "a request went out\n{out}"
    );
}

/// Fails unless the row `name` of `probe` says `needle` in its detail.
#[track_caller]
fn detail_has(probe: &Value, name: &str, needle: &str, out: &Outcome) {
    let detail = row(probe, name)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        detail.contains(needle),
        "{name}: {detail:?} lacks {needle:?}\n{out}"
    );
}
