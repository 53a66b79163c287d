//! Real mail servers for the probe tests: Dovecot 2.3 (IMAP, IMAPS, submission) and
//! Postfix 3.7 (SMTP with STARTTLS, SMTPS), from Debian's packages, on 127.0.0.1.
//!
//! Every [`Dovecot`] and [`Postfix`] is fully private: its own temporary directory (config,
//! `base_dir`, `state_dir`, queue, homes, logs), its own `instance_name` and its own ports, so
//! tests running in parallel threads never share anything but the certificates ([`certs`],
//! made once per test process). Both stop on `Drop`.
//!
//! Ports: each one is *reserved* first: a socket with `SO_REUSEADDR`, bound to
//! `127.0.0.1:0` but never listening, held until the server is stopped. The kernel hands
//! that port to nobody else (not to `bind(0)`, not to an explicit bind without
//! `SO_REUSEADDR`), while Dovecot and Postfix, which set `SO_REUSEADDR` on their listeners,
//! can still bind and listen on it. So there is no window between "pick a free port" and
//! "the server binds it"; a start that still fails with `Address already in use` is retried
//! with fresh ports.
//!
//! Mail flow: Postfix delivers mail for `example.test` itself, with its `virtual(8)` agent,
//! into the users' maildirs that Dovecot serves (Debian's `dovecot-lmtpd` is not among the
//! installed packages, so there is no LMTP). Dovecot submission relays to a private,
//! unauthenticated, 127.0.0.1-only listener of that Postfix (`submission_relay_port`), so
//! mail submitted to Dovecot arrives only once a [`Postfix`] has been started for it
//! (without one, AUTH works but `MAIL FROM` fails with `421 4.4.0 Failed to connect to relay
//! server`). Postfix authenticates clients through Dovecot's `auth-client` socket. Mail for
//! any other domain is accepted (from authenticated clients) and discarded.
//!
//! Log lines worth asserting on (Dovecot): `imap-login: Info: Login: user=<alice@example.test>,
//! method=PLAIN, …`, `imap-login: Info: Disconnected: Connection closed (no auth attempts in 0
//! secs): user=<>, …`, `auth: Info: passwd-file(alice@example.test,127.0.0.1,…): Password
//! mismatch`, `submission(alice@example.test)…: Info: Successfully relayed message: …`. In a
//! `starttls: false` instance the implicit-TLS listeners belong to services named
//! `imaps-login` and `submissions-login`, so their lines carry those prefixes.

#![allow(dead_code)] // not every test module uses every helper

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod aiosmtpd;
mod certs;
mod dovecot;
mod fake;
mod postfix;
mod selftest;

// benches/probes.rs includes this module too and uses only part of it.
#[allow(unused_imports)]
pub use aiosmtpd::{Aiosmtpd, SmtpdMode};
pub use certs::{certs, CertPair};
#[allow(unused_imports)]
pub use dovecot::{Dovecot, DovecotOptions, Tls};
#[allow(unused_imports)]
pub use fake::{closed_port, FakeSmtp, Silent};
#[allow(unused_imports)]
pub use postfix::Postfix;

/// The users every [`Dovecot`] knows (Postfix knows them through Dovecot).
pub const ALICE: &str = "alice@example.test";
pub const ALICE_PASSWORD: &str = "alice-Pa55";
pub const BOB: &str = "bob@example.test";
pub const BOB_PASSWORD: &str = "bob-Pa55";

/// How long a server may take to become ready before the test fails (generous: CI
/// machines are slow and many instances start at once; a normal start takes well under 1 s).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts at starting a server when a port turns out to be taken.
const START_ATTEMPTS: usize = 3;

/// `nobody:nogroup`: the owner of the mail (Dovecot refuses uid 0 for mail).
const MAIL_UID: u32 = 65534;
const MAIL_GID: u32 = 65534;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Dovecot (mail owned by `nobody`, login processes as `dovenull`) and a private Postfix
/// instance need root, as in CI.
fn require_root() {
    // SAFETY: geteuid(2) has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the real-mail-server tests run as root (as CI does); this is uid {euid}"
    );
}

/// Whether `pid` is a Postfix master (a stale master.pid must never get anyone else killed).
fn is_postfix_master(pid: libc::pid_t) -> bool {
    fs::read_link(format!("/proc/{pid}/exe"))
        .map(|exe| exe.ends_with("postfix/sbin/master"))
        .unwrap_or(false)
}

struct StartFailure {
    port_taken: bool,
    text: String,
}

/// A port held for us: bound to 127.0.0.1 with `SO_REUSEADDR`, never listening.
struct Reserved {
    _fd: OwnedFd,
    port: u16,
}

fn reserve_port() -> Reserved {
    // SAFETY: plain socket calls on a descriptor we own; the structs are zero-initialised
    // C structs of the sizes passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let rc = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = 0;
        addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(
            fd.as_raw_fd(),
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        );
        assert_eq!(
            rc,
            0,
            "bind 127.0.0.1:0: {}",
            std::io::Error::last_os_error()
        );
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut blen = len;
        let rc = libc::getsockname(
            fd.as_raw_fd(),
            &mut bound as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut blen,
        );
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        Reserved {
            _fd: fd,
            port: u16::from_be(bound.sin_port),
        }
    }
}

/// Live (non-zombie) processes in process group `pgid`.
fn group_members(pgid: libc::pid_t) -> Vec<libc::pid_t> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<libc::pid_t>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

/// The TCP ports that processes of group `pgid` listen on (from /proc).
fn listening_ports(pgid: libc::pid_t) -> std::collections::BTreeSet<u16> {
    let mut inodes = std::collections::BTreeSet::new();
    for pid in group_members(pgid) {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                    inodes.insert(inode.to_string());
                }
            }
        }
    }
    let mut ports = std::collections::BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.insert(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

/// Polls `port` until a line starting with `prefix` arrives, sends `bye`; fails when the
/// process exits or [`START_TIMEOUT`] passes.
fn wait_greeting(child: &mut Child, port: u16, prefix: &str, bye: &str) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut last: String;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the server exited ({status}) before it greeted on {port}"
            ));
        }
        match TcpStream::connect_timeout(&addr, Duration::from_millis(250)) {
            Ok(stream) => {
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(_) if line.starts_with(prefix) => {
                        let mut stream = reader.into_inner();
                        let _ = stream.write_all(bye.as_bytes());
                        let mut rest = Vec::new();
                        let _ = stream.read_to_end(&mut rest);
                        return Ok(());
                    }
                    Ok(_) => last = format!("greeting {line:?}"),
                    Err(e) => last = format!("reading the greeting: {e}"),
                }
            }
            Err(e) => last = format!("connect: {e}"),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no greeting on 127.0.0.1:{port} within {START_TIMEOUT:?} (last: {last})"
            ));
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL the process group and reap.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_group(child);
}

/// SIGKILL to the child's process group (it was started as its leader), then reap it.
fn kill_group(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: the group of our own, not yet reaped, child.
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    }
    let _ = child.wait();
}

fn sbin(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for_file(path: &Path, timeout: Duration, cond: impl Fn(&str) -> bool) -> bool {
    wait_for(timeout, || cond(&read_lossy(path)))
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read: {e}>"))
}

fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = (offset as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    chown(path, uid, gid);
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), uid, gid);
        }
    }
}
