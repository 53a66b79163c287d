//! The Redis step of `check` against a real `redis-server` on 127.0.0.1: without a
//! password, with `requirepass` (the right password, a wrong one, none given), and a
//! closed port. Two servers, started once per test binary, stopped when it exits (and
//! killed with it if it dies: PR_SET_PDEATHSIG from a thread that lives as long as it).

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::harness::TestRoot;
use crate::mailservers::closed_port;

/// Holds every byte class the URL encoding must get right (`+` `@` `:` `%`).
pub const PASSWORD: &str = "r3d+is@pa:ss%2B";

/// A running redis-server.
pub struct Redis {
    pub port: u16,
}

/// The open server and the one with `requirepass PASSWORD`.
pub fn open() -> &'static Redis {
    static S: OnceLock<Redis> = OnceLock::new();
    S.get_or_init(|| start(None))
}

pub fn protected() -> &'static Redis {
    static S: OnceLock<Redis> = OnceLock::new();
    S.get_or_init(|| start(Some(PASSWORD)))
}

/// TLS only (`tls-port`, the test CA's `localhost` certificate), with `requirepass`.
pub fn tls() -> &'static Redis {
    static S: OnceLock<Redis> = OnceLock::new();
    S.get_or_init(|| start_with(Some(PASSWORD), true))
}

static PIDS: Mutex<Vec<(i32, PathBuf)>> = Mutex::new(Vec::new());

/// At exit: stop each server, wait for it, remove its directory.
extern "C" fn stop_all() {
    if let Ok(pids) = PIDS.lock() {
        for (pid, dir) in pids.iter() {
            // SAFETY: signals and reaps a child this process started.
            unsafe {
                libc::kill(*pid, libc::SIGTERM);
                libc::waitpid(*pid, std::ptr::null_mut(), 0);
            }
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn start(password: Option<&str>) -> Redis {
    start_with(password, false)
}

fn start_with(password: Option<&str>, tls: bool) -> Redis {
    for _ in 0..3 {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::Builder::new()
            .prefix("toolctl-redis-")
            .tempdir()
            .unwrap()
            .keep();
        // The password goes in the config file, never in an argv.
        let listen = if tls {
            let c = crate::mailservers::certs();
            format!(
                "port 0\ntls-port {port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients no\n",
                c.good.cert.display(),
                c.good.key.display(),
                c.ca.display()
            )
        } else {
            format!("port {port}\n")
        };
        let mut conf = format!(
            "{listen}bind 127.0.0.1\nprotected-mode yes\ndaemonize no\nsave \"\"\nappendonly no\ndir {}\nlogfile {}\n",
            dir.display(),
            dir.join("redis.log").display()
        );
        if let Some(p) = password {
            conf.push_str(&format!("requirepass \"{p}\"\n"));
        }
        let conf_path: PathBuf = dir.join("redis.conf");
        fs::write(&conf_path, conf).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // The child dies with the thread that spawned it (PDEATHSIG): a thread that parks
        // until the process ends.
        // The child is reaped by `stop_all` at exit (waitpid on its pid), not through `Child`.
        #[allow(clippy::zombie_processes)]
        std::thread::spawn(move || {
            let mut cmd = Command::new("redis-server");
            cmd.arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("start redis-server (is it installed?): {e}"));
            tx.send(child.id() as i32).unwrap();
            loop {
                std::thread::park();
            }
        });
        let pid = rx.recv().unwrap();
        {
            let mut pids = PIDS.lock().unwrap();
            if pids.is_empty() {
                // SAFETY: registers a plain function that only reads a static.
                unsafe { libc::atexit(stop_all) };
            }
            pids.push((pid, dir.clone()));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let up = if tls {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                ping(port)
            };
            if up {
                return Redis { port };
            }
            // SAFETY: waitpid on our own child, without blocking.
            let gone = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) } == pid;
            if gone {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    panic!("redis-server did not start on 127.0.0.1 (three ports tried)");
}

/// Whether something answers RESP on the port (`-NOAUTH` counts: it is up).
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(n) if n > 0 && (buf[0] == b'+' || buf[0] == b'-'))
}

/// A root whose only probe is Redis at `port`, with `password` in the redis secret.
fn root(port: u16, password: Option<&str>) -> TestRoot {
    root_url(&format!("redis://127.0.0.1:{port}"), password)
}

fn root_url(url: &str, password: Option<&str>) -> TestRoot {
    let mut b = TestRoot::builder().settings(format!(
        "[mailroom]\nenable = false\n\n[redis]\nurl = \"{url}\"\n"
    ));
    if let Some(p) = password {
        b = b.secret("redis", format!("password: '{p}'\n"));
    }
    b.build()
}

fn check(t: &TestRoot) -> crate::harness::Outcome {
    let out = t
        .toolctl(["check", "--timeout", "5", "--output-format", "json"])
        .run();
    assert!(
        !out.stderr.contains(PASSWORD) && !out.stdout_str().contains(PASSWORD),
        "the password leaked\n{out}"
    );
    out
}

#[test]
fn redis_without_a_password_answers_pong() {
    let t = root(open().port, None);
    let out = check(&t);
    out.assert_code(0);
    assert_eq!(out.json()["probes"][0]["probe"], "redis", "{out}");
    assert_eq!(out.step("auth")["status"], "skipped", "{out}");
    assert_eq!(out.step("ping")["status"], "ok", "{out}");
    assert_eq!(out.step("ping")["detail"], "PONG", "{out}");
}

#[test]
fn redis_with_requirepass_and_the_right_password_answers_pong() {
    let t = root(protected().port, Some(PASSWORD));
    let out = check(&t);
    out.assert_code(0);
    assert_eq!(out.step("auth")["status"], "ok", "{out}");
    assert_eq!(out.step("ping")["status"], "ok", "{out}");
}

#[test]
fn redis_with_a_wrong_password_fails_at_auth() {
    let t = root(protected().port, Some("not-the-password"));
    let out = check(&t);
    out.assert_code(1);
    let auth = out.step("auth");
    assert_eq!(auth["status"], "fail", "{out}");
    assert!(
        auth["detail"].as_str().unwrap().contains("AUTH refused"),
        "{out}"
    );
    assert!(
        auth["hint"]
            .as_str()
            .unwrap()
            .contains("toolctl redis secret edit"),
        "{out}"
    );
    assert!(!out.stdout_str().contains("not-the-password"), "{out}");
}

#[test]
fn redis_that_wants_a_password_none_given_fails_at_ping() {
    let t = root(protected().port, None);
    let out = check(&t);
    out.assert_code(1);
    let ping = out.step("ping");
    assert_eq!(ping["status"], "fail", "{out}");
    assert!(ping["detail"].as_str().unwrap().contains("NOAUTH"), "{out}");
    assert!(
        ping["hint"]
            .as_str()
            .unwrap()
            .contains("toolctl redis secret edit"),
        "{out}"
    );
}

#[test]
fn redis_on_a_closed_port_fails_at_tcp() {
    let t = root(closed_port(), None);
    let out = check(&t);
    out.assert_code(1);
    let tcp = out.step("tcp");
    assert_eq!(tcp["status"], "fail", "{out}");
    assert!(
        tcp["hint"].as_str().unwrap().contains("nothing listens"),
        "{out}"
    );
}

#[test]
fn redis_human_report_has_one_row_per_step() {
    let t = root(protected().port, Some(PASSWORD));
    let out = t.toolctl(["check", "--timeout", "5"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    for step in ["dns", "tcp", "auth", "ping"] {
        assert!(text.contains(step), "no {step} row\n{out}");
    }
    assert!(text.contains("redis 127.0.0.1:"), "{out}");
}

#[test]
fn rediss_is_verified_against_the_system_store_the_services_use() {
    // Not trusted by the system store: the TLS step fails and no password is sent.
    let t = root_url(
        &format!("rediss://localhost:{}", tls().port),
        Some(PASSWORD),
    );
    let out = check(&t);
    out.assert_code(1);
    assert_eq!(out.step("tls")["status"], "fail", "{out}");
    assert!(
        out.json()["probes"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["step"] != "auth"),
        "{out}"
    );
    // Trusted once the CA is in that store (SSL_CERT_FILE, which OpenSSL honours too).
    let out = t
        .toolctl(["check", "--timeout", "5", "--output-format", "json"])
        .env("SSL_CERT_FILE", &crate::mailservers::certs().ca)
        .run();
    out.assert_code(0);
    assert_eq!(out.step("auth")["status"], "ok", "{out}");
    assert_eq!(out.step("ping")["detail"], "PONG", "{out}");
}

#[test]
fn a_password_sent_to_redis_without_one_is_told_apart() {
    let t = root(open().port, Some(PASSWORD));
    let out = check(&t);
    out.assert_code(1);
    let auth = out.step("auth");
    assert_eq!(auth["status"], "fail", "{out}");
    assert!(
        auth["detail"].as_str().unwrap().contains("has no password"),
        "{out}"
    );
    assert!(
        auth["hint"].as_str().unwrap().contains("requirepass"),
        "{out}"
    );
}
