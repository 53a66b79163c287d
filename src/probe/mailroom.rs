//! mail_room's liveness: its process, each mailbox watcher's heartbeat in its JSON log, and
//! the watcher's IMAP connection.
//!
//! mail_room's best-known failure is silent: a watcher thread dies (ECONNRESET, a stuck
//! IDLE) while the process stays up, so a service manager still says "running". Three
//! checks catch it:
//! - **process**, by the service manager of `[gitlab] install`: omnibus `gitlab-ctl status
//!   mailroom`, source `systemctl is-active` of `[mailroom] service`
//!   (`gitlab-mailroom.service`), otherwise `[mailroom] pid_file`. Docker and Helm are
//!   skipped: mail_room runs in GitLab's container or pods, not on this host;
//! - **heartbeat**, per polled IMAP mailbox: mail_room logs `Idling` at the start of every
//!   IDLE cycle (at least once per `idle_timeout`) and `Processing started` when it reads;
//!   the newest of them must be younger than 2 × `idle_timeout` + 30 s, and no
//!   `Disconnected. Resetting...` may be newer than the last `Idling`;
//! - **connection**: the process holds an established TCP connection to the mailbox's
//!   host and port (`/proc/<pid>/net/tcp{,6}` and its descriptors).
//!
//! Every failure names what died and the restart command of the manager found. The log is
//! read as `tail` reads logs: no link is followed below `--root`, and in a directory
//! another user owns (mail_room's), a file that user could not read, or a second name of
//! another user's file, is refused. Only its last [`LOG_TAIL`] bytes are read.

use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{fail, Probe};
use crate::model::{Install, Mailbox, Model};

/// How much of the end of mail_room's log is read: hours of heartbeats.
pub const LOG_TAIL: u64 = 1 << 20;

/// The log omnibus gives mail_room when `log_file` is not set.
const OMNIBUS_LOG: &str = "/var/log/gitlab/mailroom/mail_room_json.log";

/// The systemd unit of a source install's mail_room.
pub const SOURCE_UNIT: &str = "gitlab-mailroom.service";

/// The service manager found, and what it said.
enum Manager {
    Omnibus,
    Systemd(String),
    PidFile(String),
}

impl Manager {
    fn restart(&self) -> String {
        match self {
            Manager::Omnibus => "restart it: `sudo gitlab-ctl restart mailroom`".into(),
            Manager::Systemd(unit) => format!("restart it: `sudo systemctl restart {unit}`"),
            Manager::PidFile(p) => format!(
                "restart mail_room with the service manager that wrote `{p}` (then check again)"
            ),
        }
    }

    fn target(&self) -> String {
        match self {
            Manager::Omnibus => "gitlab-ctl status mailroom".into(),
            Manager::Systemd(unit) => unit.clone(),
            Manager::PidFile(p) => p.clone(),
        }
    }
}

/// Whether `check` has a liveness check to run: mail_room polls an IMAP mailbox here, and
/// its service manager is known (`[gitlab] install`, else `mailroom.pid_file`). Without
/// either there is nothing to ask, and no row is shown.
pub fn wanted(m: &Model) -> bool {
    m.polled().iter().any(|b| !b.graph())
        && (m.gitlab.install.is_some() || m.mailroom.pid_file.is_some())
}

/// The liveness check of mail_room on this host, at `now` (Unix seconds); `root` is
/// `--root` (the pid file and the log are read below it).
pub fn liveness(m: &Model, root: &Path, now: f64) -> Probe {
    let boxes: Vec<&Mailbox> = m.polled().into_iter().filter(|b| !b.graph()).collect();
    let manager = match m.gitlab.install {
        Some(Install::Omnibus) => Some(Manager::Omnibus),
        Some(Install::Source) => Some(Manager::Systemd(
            m.mailroom
                .service
                .clone()
                .unwrap_or_else(|| SOURCE_UNIT.into()),
        )),
        Some(kind @ (Install::Docker | Install::Helm)) => {
            let mut p = Probe::new("mail_room", kind.as_str().into(), Duration::ZERO);
            p.skip(
                "process",
                format!(
                    "mail_room runs inside GitLab's {} (install = \"{}\"), not on this host: \
                     run the check where it runs",
                    if kind == Install::Docker {
                        "container"
                    } else {
                        "pods"
                    },
                    kind.as_str()
                ),
            );
            return p;
        }
        None => m.mailroom.pid_file.clone().map(Manager::PidFile),
    };
    let Some(manager) = manager else {
        let mut p = Probe::new("mail_room", "process".into(), Duration::ZERO);
        p.skip(
            "process",
            "no service manager is known (no `[gitlab] install`) and `mailroom.pid_file` is not set",
        );
        return p;
    };
    let mut p = Probe::new("mail_room", manager.target(), Duration::ZERO);
    for s in m.secret_values() {
        p.masker.add(s);
    }
    let pid = match process(&mut p, &manager, root) {
        Process::Running(pid) => pid,
        Process::Down => None,
        // The service manager is not on this host: neither is mail_room.
        Process::Elsewhere => return p,
    };
    for b in boxes {
        let table = b.table();
        p.measure(
            "mailroom_idle_timeout_seconds",
            &[("mailbox", table)],
            b.idle_timeout as f64,
        );
        let beat = heartbeat(&mut p, &manager, m, b, root, now);
        let connected = match pid {
            Some(pid) => connection(&mut p, &manager, b, pid),
            None => false,
        };
        p.measure(
            "mailroom_up",
            &[("mailbox", table)],
            if beat && connected { 1.0 } else { 0.0 },
        );
    }
    p
}

/// What the `process` row found.
enum Process {
    /// Running, with its pid when the manager says it.
    Running(Option<u32>),
    Down,
    /// The service manager's command is not on this host (toolctl runs on another node).
    Elsewhere,
}

/// The `process` row.
fn process(p: &mut Probe, manager: &Manager, root: &Path) -> Process {
    let program = match manager {
        Manager::Omnibus => Some("gitlab-ctl"),
        Manager::Systemd(_) => Some("systemctl"),
        Manager::PidFile(_) => None,
    };
    if let Some(program) = program.filter(|p| !on_path(p)) {
        p.skip(
            "process",
            format!("`{program}` is not on PATH: mail_room does not run on this host"),
        );
        return Process::Elsewhere;
    }
    // sd_booted(3): without this directory systemd is not the init system here, and
    // `systemctl` can say nothing about units.
    if matches!(manager, Manager::Systemd(_)) && !Path::new("/run/systemd/system").is_dir() {
        p.skip(
            "process",
            "systemd does not run on this host: mail_room's unit cannot be asked about \
             (set `mailroom.pid_file` and leave `[gitlab] install` unset to check by pid file)",
        );
        return Process::Elsewhere;
    }
    match process_pid(p, manager, root) {
        Some(pid) => Process::Running(Some(pid)),
        None if p
            .steps
            .last()
            .is_some_and(|s| s.status == super::Status::Ok) =>
        {
            Process::Running(None)
        }
        None => Process::Down,
    }
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The `process` row: the pid when mail_room runs (and the manager tells it).
fn process_pid(p: &mut Probe, manager: &Manager, root: &Path) -> Option<u32> {
    let restart = manager.restart();
    match manager {
        Manager::Omnibus => {
            let out = match run("gitlab-ctl", &["status", "mailroom"]) {
                Ok(o) => o,
                Err(e) => {
                    p.fail_now("process", fail(format!("cannot run `gitlab-ctl status mailroom`: {e}"),
                        "run the check on the GitLab host as root (`gitlab-ctl` must be on PATH)"));
                    return None;
                }
            };
            // `run: mailroom: (pid 123) 456s; run: log: (pid 12) 456s`
            let pid = out
                .1
                .lines()
                .find_map(|l| l.strip_prefix("run: mailroom: (pid "))
                .and_then(|r| r.split(')').next())
                .and_then(|n| n.trim().parse::<u32>().ok());
            match pid {
                Some(pid) if out.0 => {
                    p.ok("process", format!("mail_room runs (pid {pid}, gitlab-ctl)"));
                    Some(pid)
                }
                _ => {
                    let said = out.1.lines().next().unwrap_or("").trim().to_string();
                    p.fail_now(
                        "process",
                        fail(
                            format!("mail_room is not running: gitlab-ctl says `{said}`"),
                            restart,
                        ),
                    );
                    None
                }
            }
        }
        Manager::Systemd(unit) => {
            let active = run("systemctl", &["is-active", unit]);
            match active {
                Ok((true, _)) => {
                    let pid = run("systemctl", &["show", "-p", "MainPID", "--value", unit])
                        .ok()
                        .and_then(|(_, o)| o.trim().parse::<u32>().ok())
                        .filter(|n| *n > 0);
                    match pid {
                        Some(pid) => p.ok("process", format!("{unit} is active (pid {pid})")),
                        None => p.ok("process", format!("{unit} is active")),
                    }
                    pid
                }
                Ok((false, said)) => {
                    p.fail_now(
                        "process",
                        fail(
                            format!("mail_room is not running: {unit} is {}", said.trim()),
                            restart,
                        ),
                    );
                    None
                }
                Err(e) => {
                    p.fail_now("process", fail(format!("cannot run `systemctl is-active {unit}`: {e}"),
                        "on a host without systemd, set `mailroom.pid_file` and leave `[gitlab] install` unset"));
                    None
                }
            }
        }
        Manager::PidFile(file) => {
            let text = match read_small(root, file) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    p.fail_now(
                        "process",
                        fail(
                            format!(
                                "mail_room is not running: its pid file `{file}` does not exist"
                            ),
                            restart,
                        ),
                    );
                    return None;
                }
                Err(e) => {
                    p.fail_now("process", fail(format!("cannot read the pid file `{file}`: {e}"),
                        "check `mailroom.pid_file`: it must be a regular file, reached without a symbolic link"));
                    return None;
                }
            };
            let Some(pid) = text.trim().parse::<u32>().ok().filter(|n| *n > 0) else {
                p.fail_now(
                    "process",
                    fail(
                        format!("the pid file `{file}` holds no process id"),
                        restart,
                    ),
                );
                return None;
            };
            if crate::sys::procnet::alive(pid) {
                p.ok(
                    "process",
                    format!("mail_room runs (pid {pid}, from {file})"),
                );
                Some(pid)
            } else {
                p.fail_now(
                    "process",
                    fail(
                        format!("mail_room is not running: pid {pid} from `{file}` is gone"),
                        restart,
                    ),
                );
                None
            }
        }
    }
}

/// The `<mailbox> heartbeat` row; the heartbeat's time is measured. `true` when fresh.
fn heartbeat(
    p: &mut Probe,
    manager: &Manager,
    m: &Model,
    b: &Mailbox,
    root: &Path,
    now: f64,
) -> bool {
    let table = b.table();
    let step = format!("{table} heartbeat");
    let restart = manager.restart();
    let log = match (&b.log_file, m.gitlab.install) {
        (Some(l), _) => l.clone(),
        (None, Some(Install::Omnibus)) => OMNIBUS_LOG.into(),
        (None, _) => {
            p.skip(
                &step,
                format!("`{table}.log_file` is not set: mail_room's log is not known"),
            );
            return true;
        }
    };
    let text = match read_tail(root, &log) {
        Ok(Some(t)) => t,
        Ok(None) => {
            p.fail_now(
                &step,
                fail(
                    format!("mail_room's log `{log}` does not exist"),
                    format!(
                        "mail_room has not started with this log_file since it was set; {restart}"
                    ),
                ),
            );
            return false;
        }
        Err(e) => {
            p.fail_now(&step, fail(format!("cannot read mail_room's log `{log}`: {e}"),
                "it must be a regular file, reached without a symbolic link, that its directory's owner can read"));
            return false;
        }
    };
    let user = b.user.as_ref().map(|u| u.expose().to_string());
    let seen = scan(&text, user.as_deref(), &b.mailbox);
    let limit = 2.0 * b.idle_timeout as f64 + 30.0;
    let Some(last) = seen.heartbeat else {
        p.fail_now(
            &step,
            fail(
                format!("mail_room's watcher for {table} logged no `Idling` or `Processing started` in the end of `{log}`: it never started or died"),
                restart,
            ),
        );
        return false;
    };
    p.measure(
        "mailroom_last_heartbeat_timestamp_seconds",
        &[("mailbox", table)],
        last,
    );
    let age = (now - last).max(0.0);
    if let Some((at, error)) = seen
        .disconnected
        .filter(|(at, _)| *at > seen.idling.unwrap_or(f64::MIN))
    {
        p.fail_now(
            &step,
            fail(
                format!(
                    "mail_room's watcher for {table} disconnected {} s ago ({error}) and has not idled since: it died",
                    (now - at).max(0.0).round()
                ),
                restart,
            ),
        );
        return false;
    }
    if age > limit {
        p.fail_now(
            &step,
            fail(
                format!(
                    "mail_room's watcher for {table} last logged a heartbeat {} s ago, more than 2 × idle_timeout + 30 = {limit} s: it died",
                    age.round()
                ),
                restart,
            ),
        );
        return false;
    }
    p.ok(
        &step,
        format!(
            "last heartbeat {} s ago (limit {limit} s) in {log}",
            age.round()
        ),
    );
    true
}

/// The `<mailbox> connection` row: `true` when the process holds one.
fn connection(p: &mut Probe, manager: &Manager, b: &Mailbox, pid: u32) -> bool {
    let table = b.table();
    let step = format!("{table} connection");
    let host = b.host.clone().unwrap_or_default();
    let wanted: Vec<SocketAddr> = match (host.as_str(), b.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            p.fail_now(
                &step,
                fail(
                    format!("cannot resolve `{host}`: {e}"),
                    format!("check `{table}.host`"),
                ),
            );
            return false;
        }
    };
    let peers = match crate::sys::procnet::tcp_peers(pid) {
        Ok(p) => p,
        Err(e) => {
            p.fail_now(
                &step,
                fail(
                    format!("cannot read mail_room's connections (/proc/{pid}): {e}"),
                    "run the check as root, in mail_room's network namespace",
                ),
            );
            return false;
        }
    };
    if peers.iter().any(|peer| wanted.contains(peer)) {
        p.ok(
            &step,
            format!("pid {pid} is connected to {host}:{}", b.port),
        );
        true
    } else {
        p.fail_now(
            &step,
            fail(
                format!(
                    "mail_room (pid {pid}) holds no connection to {host}:{}: its watcher for {table} died while the process stayed up",
                    b.port
                ),
                manager.restart(),
            ),
        );
        false
    }
}

/// What the log says about one mailbox: its newest heartbeat, `Idling` and
/// `Disconnected` (with the error), as Unix seconds.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    pub heartbeat: Option<f64>,
    pub idling: Option<f64>,
    pub disconnected: Option<(f64, String)>,
}

/// Reads mail_room's JSON lines for the mailbox whose login is `user` (any, when not known)
/// and folder `mailbox`. Lines that are not JSON, or of another mailbox, are skipped.
pub fn scan(text: &str, user: Option<&str>, mailbox: &str) -> Seen {
    let mut seen = Seen::default();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let ctx = &v["context"];
        let email = ctx["email"].as_str();
        if let (Some(u), Some(e)) = (user, email) {
            if !u.eq_ignore_ascii_case(e) {
                continue;
            }
        }
        if let Some(name) = ctx["name"].as_str() {
            if !name.eq_ignore_ascii_case(mailbox) {
                continue;
            }
        }
        let Some(t) = v["time"].as_str().and_then(parse_time) else {
            continue;
        };
        let newer = |old: Option<f64>| old.is_none_or(|o| t >= o);
        match v["action"].as_str().unwrap_or("") {
            "Idling" => {
                if newer(seen.idling) {
                    seen.idling = Some(t);
                }
                if newer(seen.heartbeat) {
                    seen.heartbeat = Some(t);
                }
            }
            "Processing started" if newer(seen.heartbeat) => seen.heartbeat = Some(t),
            a if a.starts_with("Disconnected")
                && newer(seen.disconnected.as_ref().map(|d| d.0)) =>
            {
                let error = v["error"].as_str().unwrap_or("no error given");
                seen.disconnected = Some((t, super::mask::cut(error, 200)));
            }
            _ => {}
        }
    }
    seen
}

/// `2026-12-06T05:20:13.123+00:00` (or `Z`, or without the fraction) as Unix seconds.
pub fn parse_time(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest {
        "Z" | "" => 0,
        o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
            let v = o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64 + frac)
}

/// Runs a service manager's command: (exit 0, stdout).
fn run(program: &str, args: &[&str]) -> std::io::Result<(bool, String)> {
    let out = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// The directory and file name of `configured` below `root`.
fn split(root: &Path, configured: &str) -> std::io::Result<(PathBuf, std::ffi::OsString)> {
    let path = root.join(configured.trim_start_matches('/'));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_os_string();
    Ok((path.parent().unwrap_or(root).to_path_buf(), name))
}

/// Opens `configured` below `root` as `tail` would: no link followed, and in a directory
/// another user owns, only a file that user can read and that is not a second name of
/// another user's file. `Ok(None)` when it does not exist.
pub fn open_log(root: &Path, configured: &str) -> std::io::Result<Option<std::fs::File>> {
    let (dir, name) = split(root, configured)?;
    let handle = match crate::sys::fs::open_dir_nofollow(root, &dir) {
        Ok(h) => h,
        Err(e) => {
            if !dir.exists() {
                return Ok(None);
            }
            return Err(std::io::Error::other(e.to_string()));
        }
    };
    let file = match handle.open_file(&name) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(crate::sys::errno::ELOOP) => {
            return Err(std::io::Error::other(
                "it is a symbolic link, which is not followed",
            ))
        }
        Err(e) => return Err(e),
    };
    if let Some(why) = crate::sys::fs::foreign_file(&handle, &file) {
        return Err(std::io::Error::other(format!("it {why}: not read")));
    }
    Ok(Some(file))
}

/// The last [`LOG_TAIL`] bytes of the log, from its first whole line.
fn read_tail(root: &Path, configured: &str) -> std::io::Result<Option<String>> {
    let Some(mut file) = open_log(root, configured)? else {
        return Ok(None);
    };
    let size = file.metadata()?.len();
    let start = size.saturating_sub(LOG_TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(LOG_TAIL).read_to_end(&mut bytes)?;
    if start > 0 {
        let cut = bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..cut);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// A small file (a pid file) below `root`, read as the log is.
fn read_small(root: &Path, configured: &str) -> std::io::Result<Option<String>> {
    let Some(file) = open_log(root, configured)? else {
        return Ok(None);
    };
    let mut text = String::new();
    file.take(64).read_to_string(&mut text)?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_room_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_time("2026-12-06T05:20:13.500+00:00"),
            Some(1_796_534_413.5)
        );
        assert_eq!(
            parse_time("2026-12-06T06:20:13.500+01:00"),
            Some(1_796_534_413.5)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn the_newest_lines_of_the_mailbox_count() {
        let log = r#"{"severity":"INFO","time":"2026-01-01T00:00:00.000Z","context":{"email":"a@x","name":"inbox"},"action":"Idling"}
{"severity":"INFO","time":"2026-01-01T00:01:00.000Z","context":{"email":"b@x","name":"inbox"},"action":"Idling"}
not json
{"severity":"WARN","time":"2026-01-01T00:00:30.000Z","context":{"email":"a@x","name":"inbox"},"action":"Disconnected. Resetting...","error":"ECONNRESET"}
{"severity":"INFO","time":"2026-01-01T00:00:20.000Z","context":{"email":"A@x","name":"INBOX"},"action":"Processing started"}
"#;
        let seen = scan(log, Some("a@x"), "INBOX");
        let t0 = parse_time("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(seen.idling, Some(t0));
        assert_eq!(seen.heartbeat, Some(t0 + 20.0));
        assert_eq!(seen.disconnected, Some((t0 + 30.0, "ECONNRESET".into())));
    }
}
