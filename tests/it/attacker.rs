//! Real unprivileged users for the privilege tests.
//!
//! The tests run as root. An [`Attacker`] is a uid and gid that no account on the machine
//! uses, so it needs no passwd entry: it acts through `setpriv --reuid=UID --regid=GID
//! --clear-groups`, which is exactly what a compromised service account can do. Each test
//! takes its own pair (ids are handed out from a per-process counter and skipped while any
//! file or process might belong to them), so tests running in parallel never share an
//! attacker. Links are planted in directories the attacker owns and that are not sticky:
//! `fs.protected_symlinks` protects only sticky world-writable directories, so no kernel
//! rule can hide a defect there.

#![allow(dead_code)] // not every test module uses every helper

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// An unused uid/gid pair.
#[derive(Clone, Copy, Debug)]
pub struct Attacker {
    pub uid: u32,
    pub gid: u32,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn id_in_use(id: u32) -> bool {
    let listed = |file: &str| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&id.to_string()))
    };
    listed("/etc/passwd") || listed("/etc/group")
}

impl Attacker {
    /// A fresh pair: uid = gid, from a range above the system and user ranges, offset by
    /// the process id so that two test runs at once do not collide.
    pub fn new() -> Attacker {
        loop {
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let id = 200_000 + (std::process::id() % 1000) * 100 + n;
            if !id_in_use(id) {
                return Attacker { uid: id, gid: id };
            }
        }
    }

    /// A command run as this user, with no supplementary groups.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg("--")
            .arg(program);
        c
    }

    /// Runs a shell snippet as this user and returns its output (it does not assert).
    pub fn sh(&self, script: &str) -> Output {
        self.command("sh")
            .args(["-c", script])
            .output()
            .expect("run setpriv")
    }

    /// Runs a shell snippet as this user and asserts that it succeeded.
    pub fn sh_ok(&self, script: &str) {
        let out = self.sh(script);
        assert!(
            out.status.success(),
            "attacker script failed: {script}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Hands `path` to this user (as root, the way a package's postinst would).
    pub fn own(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid)).expect("chown");
    }

    /// Starts a Python loop, as this user, that swaps `a` and `b` with
    /// `renameat2(RENAME_EXCHANGE)` until killed: the race an attacker runs against a
    /// path used twice. Kill the returned child when done.
    pub fn exchange_loop(&self, a: &Path, b: &Path) -> std::process::Child {
        let script = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a = os.fsencode(sys.argv[1]); b = os.fsencode(sys.argv[2])
AT_FDCWD = -100
while True:
    libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, 2)
"#;
        self.command("/usr/bin/python3")
            .args(["-c", script])
            .arg(a)
            .arg(b)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the exchange loop")
    }
}

/// What a file or directory is, to compare before and after an attack (follows nothing).
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub bytes: Option<Vec<u8>>,
    pub names: Option<Vec<String>>,
}

impl Fingerprint {
    pub fn of(path: &Path) -> Fingerprint {
        let meta = std::fs::symlink_metadata(path).expect("stat the target");
        let bytes = meta.is_file().then(|| std::fs::read(path).expect("read"));
        let names = meta.is_dir().then(|| {
            let mut v: Vec<String> = std::fs::read_dir(path)
                .expect("list")
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        });
        Fingerprint {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
            bytes,
            names,
        }
    }
}
