//! mail_room's liveness in `check` and `status`, with a real process in mail_room's place:
//! a script run under `setpriv` as mail_room's (unprivileged) user, which writes its pid
//! file, holds a TCP connection to the mailbox's IMAP server (a real Dovecot) and writes
//! mail_room's JSON log lines in their exact format. Cases: fresh, stale, `Disconnected`
//! last, the process gone, and omnibus through a recording `gitlab-ctl` on PATH.

use std::fs;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::attacker::Attacker;
use crate::harness::{wait_for, Outcome, TestRoot};
use crate::mailservers::{certs, Dovecot, DovecotOptions, ALICE, ALICE_PASSWORD};

/// mail_room's stand-in: connects, writes its pid file, then the log lines `lines`
/// (`action`, seconds before now[, error]) for ALICE's INBOX, then a `ready` file; then
/// holds the connection until killed.
const MAIL_ROOM: &str = r#"
import datetime, json, os, socket, sys, time
host, port, log, pidfile, ready, user = sys.argv[1:7]
lines = json.loads(sys.argv[7])
s = socket.create_connection((host, int(port)))
with open(pidfile, "w") as f:
    f.write("%d\n" % os.getpid())
now = datetime.datetime.now(datetime.timezone.utc)
with open(log, "a") as f:
    for action, ago, *error in lines:
        t = (now - datetime.timedelta(seconds=ago)).isoformat(timespec="milliseconds")
        line = {"severity": "INFO", "time": t, "context": {"email": user, "name": "INBOX"},
                "action": action}
        if error:
            line["error"] = error[0]
        f.write(json.dumps(line) + "\n")
open(ready, "w").close()
while True:
    time.sleep(60)
"#;

struct MailRoom {
    child: Child,
    pid: u32,
}

impl Drop for MailRoom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root(d: &Dovecot, extra: &str) -> TestRoot {
    let creds = format!("user: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n");
    TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[email]\nfrom = \"{ALICE}\"\n\n\
             [incoming_email]\nenabled = true\naddress = \"incoming+%{{key}}@incoming.example.test\"\n\
             host = \"127.0.0.1\"\nport = {}\nssl = true\nca_file = \"/ca.pem\"\n\
             log_file = \"/var/log/mailroom/mail_room_json.log\"\n\n{extra}",
            d.imaps
        ))
        .copy_file("ca.pem", &certs().ca)
        .secret("incoming-email", &creds)
        .secret("mailroom", "webhook_secret: 'c2hhcmVkLXdlYmhvb2stdG9rZW4tZm9yLWZpeHR1cmU='\n")
        .build()
}

/// Starts the stand-in as `user`, with its log and pid directories owned by it.
fn start(t: &TestRoot, d: &Dovecot, user: Attacker, lines: &str) -> MailRoom {
    let log_dir = t.path("var/log/mailroom");
    let run_dir = t.path("run/mailroom");
    for dir in [&log_dir, &run_dir] {
        fs::create_dir_all(dir).unwrap();
        user.own(dir);
    }
    let script = t.aux().join("mail_room.py");
    fs::write(&script, MAIL_ROOM).unwrap();
    let ready = run_dir.join("ready");
    let _ = fs::remove_file(&ready);
    let child = user
        .command("/usr/bin/python3")
        .arg(&script)
        .arg("127.0.0.1")
        .arg(d.imaps.to_string())
        .arg(log_dir.join("mail_room_json.log"))
        .arg(run_dir.join("mail_room.pid"))
        .arg(&ready)
        .arg(ALICE)
        .arg(lines)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || ready.exists()),
        "mail_room's stand-in did not start"
    );
    let pid = child.id();
    MailRoom { child, pid }
}

/// The mail_room probe of a `check --output-format json`, and one of its steps.
fn step(out: &Outcome, name: &str) -> serde_json::Value {
    let doc = out.json();
    let probe = doc["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["probe"] == "mail_room")
        .unwrap_or_else(|| panic!("no mail_room probe\n{out}"))
        .clone();
    probe["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no step {name}\n{out}"))
}

#[track_caller]
fn has(v: &serde_json::Value, key: &str, needle: &str) {
    let text = v[key].as_str().unwrap_or_default();
    assert!(text.contains(needle), "{key} lacks {needle:?}: {v}");
}

fn check(t: &TestRoot) -> Outcome {
    t.toolctl(["check", "--output-format", "json"]).run()
}

const PID_FILE: &str = "[mailroom]\npid_file = \"/run/mailroom/mail_room.pid\"\n";

#[test]
fn a_live_mail_room_passes_and_a_stale_or_disconnected_watcher_fails() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&d, PID_FILE);
    let user = Attacker::new();

    // Fresh: an Idling line 5 s ago, the connection held.
    let m = start(
        &t,
        &d,
        user,
        r#"[["Processing started", 70], ["Idling", 5]]"#,
    );
    let out = check(&t);
    out.assert_code(0);
    has(&step(&out, "process"), "detail", &format!("pid {}", m.pid));
    assert_eq!(
        step(&out, "incoming_email heartbeat")["status"],
        "ok",
        "{out}"
    );
    has(
        &step(&out, "incoming_email heartbeat"),
        "detail",
        "limit 150 s",
    );
    assert_eq!(
        step(&out, "incoming_email connection")["status"],
        "ok",
        "{out}"
    );
    // `status`: one row, alive.
    let st = t.toolctl(["status", "--output-format", "json"]).run();
    has(&st.json()["mailroom"], "state", "alive");
    // Prometheus: the heartbeat and its limit.
    let prom = t.toolctl(["check", "--output-format", "prometheus"]).run();
    let text = prom.stdout_str();
    crate::prometheus::promtool_accepts(&text);
    assert!(
        text.contains("toolctl_mailroom_idle_timeout_seconds{mailbox=\"incoming_email\"} 60\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "toolctl_mailroom_last_heartbeat_timestamp_seconds{mailbox=\"incoming_email\"} "
        ),
        "{text}"
    );
    assert!(
        text.contains("toolctl_mailroom_up{mailbox=\"incoming_email\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("alice"), "{text}");
    drop(m);

    // Stale: the newest heartbeat is 10 minutes old, though the process and its
    // connection live on (the watcher thread died).
    fs::remove_file(t.path("var/log/mailroom/mail_room_json.log")).unwrap();
    let m = start(&t, &d, user, r#"[["Idling", 600]]"#);
    let out = check(&t);
    out.assert_code(1);
    let s = step(&out, "incoming_email heartbeat");
    assert_eq!(s["status"], "fail", "{out}");
    has(&s, "detail", "2 × idle_timeout + 30 = 150 s: it died");
    has(&s, "hint", "restart mail_room");
    let st = t.toolctl(["status"]).run();
    st.assert_code(1);
    assert!(
        st.stdout_str().contains("mail_room") && st.stdout_str().contains("it died"),
        "{st}"
    );
    drop(m);

    // Disconnected last: idled 20 s ago, then lost the connection 10 s ago.
    fs::remove_file(t.path("var/log/mailroom/mail_room_json.log")).unwrap();
    let m = start(
        &t,
        &d,
        user,
        r#"[["Idling", 20], ["Disconnected. Resetting...", 10, "Connection reset by peer"]]"#,
    );
    let out = check(&t);
    out.assert_code(1);
    let s = step(&out, "incoming_email heartbeat");
    has(
        &s,
        "detail",
        "disconnected 10 s ago (Connection reset by peer)",
    );
    let pid = m.pid;

    // The process gone: its pid file names a dead process.
    drop(m);
    let out = check(&t);
    out.assert_code(1);
    let s = step(&out, "process");
    has(
        &s,
        "detail",
        &format!("pid {pid} from `/run/mailroom/mail_room.pid` is gone"),
    );
    has(&s, "hint", "restart mail_room");
}

#[test]
fn omnibus_asks_gitlab_ctl_and_names_its_restart() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(
        &d,
        "[gitlab]\ninstall = \"omnibus\"\nsecrets_file = \"/etc/gitlab/gitlab-secrets.json\"\n\
         encrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"\n",
    );
    let user = Attacker::new();
    let m = start(&t, &d, user, r#"[["Idling", 1]]"#);
    let bin = t.aux().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let calls = t.aux().join("gitlab-ctl.log");
    let answer = t.aux().join("answer");
    let script = t.script(
        "gitlab-ctl",
        &format!(
            "echo \"$*\" >> {}\ncat {}\nexit ${{GITLAB_CTL_EXIT:-0}}",
            calls.display(),
            answer.display()
        ),
    );
    fs::rename(&script, bin.join("gitlab-ctl")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let run = |exit: &str| {
        t.toolctl(["check", "--output-format", "json"])
            .env("PATH", &path)
            .env("GITLAB_CTL_EXIT", exit)
            .run()
    };
    fs::write(
        &answer,
        format!(
            "run: mailroom: (pid {}) 42s; run: log: (pid 7) 42s\n",
            m.pid
        ),
    )
    .unwrap();
    let out = run("0");
    has(&step(&out, "process"), "detail", &format!("pid {}", m.pid));
    assert_eq!(
        step(&out, "incoming_email connection")["status"],
        "ok",
        "{out}"
    );
    assert_eq!(fs::read_to_string(&calls).unwrap(), "status mailroom\n");

    fs::write(
        &answer,
        "down: mailroom: 3s, normally up; run: log: (pid 7) 42s\n",
    )
    .unwrap();
    let out = run("3");
    out.assert_code(1);
    let s = step(&out, "process");
    has(&s, "detail", "gitlab-ctl says `down: mailroom: 3s");
    has(&s, "hint", "sudo gitlab-ctl restart mailroom");
    drop(m);
}

#[test]
fn docker_is_skipped_with_its_reason() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(
        &d,
        "[gitlab]\ninstall = \"docker\"\ncontainer_root = \"/srv/gitlab\"\n",
    );
    let out = check(&t);
    let s = step(&out, "process");
    assert_eq!(s["status"], "skipped", "{out}");
    has(&s, "detail", "inside GitLab's container");
}

/// mail_room's user owns its log directory. Where `fs.protected_hardlinks` is off it can
/// make the log's name a second name of a root-only file; here root makes that link for it
/// (the sysctl stays as it is). The root-only file holds a fresh heartbeat, so reading it
/// would pass: the heartbeat is refused instead, and the file is untouched.
#[test]
fn a_log_that_is_a_second_name_of_a_root_only_file_is_not_read() {
    let d = Dovecot::start(DovecotOptions::default());
    let t = root(&d, PID_FILE);
    let user = Attacker::new();
    let _m = start(&t, &d, user, r#"[["Idling", 5]]"#);
    let log = t.path("var/log/mailroom/mail_room_json.log");
    let now = chrono_like_now();
    let victim = t.aux().join("root-only.json");
    fs::write(
        &victim,
        format!(
            "{{\"severity\":\"INFO\",\"time\":\"{now}\",\"context\":{{\"email\":\"{ALICE}\",\"name\":\"INBOX\"}},\"action\":\"Idling\"}}\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&victim, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let before = crate::attacker::Fingerprint::of(&victim);
    fs::remove_file(&log).unwrap();
    fs::hard_link(&victim, &log).unwrap();
    let out = check(&t);
    let heartbeat = step(&out, "incoming_email heartbeat");
    assert_eq!(heartbeat["status"], "fail", "{out}");
    has(&heartbeat, "detail", "not read");
    assert_eq!(crate::attacker::Fingerprint::of(&victim), before);
}

/// Now as mail_room writes it (UTC, milliseconds).
fn chrono_like_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.000+00:00"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
