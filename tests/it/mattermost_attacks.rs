//! Mattermost: the attacks on restore and check (reading, links, races)
//! (set-id bits), each by a real unprivileged user ([`Attacker`]) who owns Mattermost's
//! directories, as the `mattermost` account does on a server. Every test asserts that the
//! target is untouched (content, mode, owner), and that toolctl refused with exit 2 and a
//! hint, or did its job without touching it.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{chmod, Snapshot};
use crate::mattermost::{members, settings, setup, Mm, CONFIG, DATA};

const MM_DIR: &str = "var/opt/toolctl/rendered/mattermost";

/// Root-only files an attacker wants: a secret, a "shadow", and a cron directory.
struct Victims {
    secret: PathBuf,
    shadow: PathBuf,
    cron: PathBuf,
    secret_dir: PathBuf,
}

const MARKER: &[u8] = b"ROOT-ONLY-SECRET-3f9a";

impl Victims {
    fn plant(m: &Mm) -> Victims {
        let secret_dir = m.t.path("etc/gitlab");
        fs::create_dir_all(&secret_dir).unwrap();
        chmod(&secret_dir, 0o700);
        let secret = secret_dir.join("gitlab-secrets.json");
        fs::write(&secret, MARKER).unwrap();
        chmod(&secret, 0o600);
        let shadow = m.t.path("etc/shadow");
        fs::write(&shadow, b"root:*:1::::::\n").unwrap();
        chmod(&shadow, 0o600);
        let cron = m.t.path("etc/cron.d");
        fs::create_dir_all(&cron).unwrap();
        Victims {
            secret,
            shadow,
            cron,
            secret_dir,
        }
    }

    fn prints(&self) -> Vec<Fingerprint> {
        [&self.secret, &self.shadow, &self.cron, &self.secret_dir]
            .iter()
            .map(|p| Fingerprint::of(p))
            .collect()
    }
}

/// Hands Mattermost's directory, config.json and data/ to `a`, and names `a` as the
/// Mattermost user in the settings (`uid`/`gid`), with or without `data_dir`.
fn hand_over(m: &Mm, a: &Attacker, data_dir: bool) {
    let mut s = settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source())
        + &format!("uid = {}\ngid = {}\n", a.uid, a.gid);
    if !data_dir {
        s = s.replace(&format!("data_dir = \"/{DATA}\"\n"), "");
    }
    m.t.write_settings(&s);
    chown_r(&m.t.path(MM_DIR), a);
}

fn chown_r(p: &Path, a: &Attacker) {
    a.own(p);
    if fs::symlink_metadata(p).unwrap().is_dir() {
        for e in fs::read_dir(p).unwrap() {
            chown_r(&e.unwrap().path(), a);
        }
    }
}

/// Every byte of every archive under `dir`, decompressed, contains `needle`?
fn any_archive_holds(dir: &Path, needle: &[u8]) -> bool {
    let Ok(rd) = fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let mut bytes = Vec::new();
        let f = fs::File::open(e.path()).unwrap();
        let _ = flate2::read::GzDecoder::new(f).read_to_end(&mut bytes);
        bytes.windows(needle.len()).any(|w| w == needle)
    })
}

fn backups(m: &Mm) -> PathBuf {
    m.t.path("var/opt/toolctl/backups")
}

/// Finding 1: config.json (the Mattermost user's, or an archive's) never picks the
/// directory that root replaces.
#[test]
fn restore_never_replaces_the_directory_config_json_names() {
    let m = setup(2);
    let v = Victims::plant(&m);
    let a = Attacker::new();
    let archive = m.backup();
    // The attacker, who writes config.json, names a root-only directory.
    hand_over(&m, &a, false);
    a.sh_ok(&format!(
        "printf '%s' '{{\"FileSettings\": {{\"DriverName\": \"local\", \"Directory\": \"/etc/gitlab\"}}}}' > {}",
        m.t.path(CONFIG).display()
    ));
    let before = v.prints();
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_error(
        "settings do not name it",
        &["toolctl config set mattermost.data_dir /etc/gitlab"],
    );
    assert_eq!(v.prints(), before, "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);

    // With `data_dir` set, an archive whose config.json names another directory is
    // refused: the path is compared, never used.
    hand_over(&m, &a, true);
    let evil = m.t.aux().join("evil.tar.gz");
    {
        let mut entries = members(&archive);
        for (name, _, bytes, _) in entries.iter_mut() {
            if name == "config.json" {
                *bytes =
                    br#"{"FileSettings": {"DriverName": "local", "Directory": "/etc/gitlab"}}"#
                        .to_vec();
            }
        }
        build(&evil, entries);
    }
    let before = v.prints();
    let snap = m.t.snapshot();
    let db = m.pg.contents(&m.pg.db);
    let out = m.run(&["mattermost", "restore", evil.to_str().unwrap(), "--yes"]);
    out.assert_error(
        "another data directory",
        &["mattermost.data_dir", "nothing was changed"],
    );
    assert_eq!(v.prints(), before, "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.contents(&m.pg.db), db);
}

/// Finding 2: links planted ahead of time under every name the staged files could have
/// had (the old names were `.config.json.toolctl-restore-<UTC second>`) are never
/// followed; the restore does its job and the targets are untouched.
#[test]
fn planted_links_for_the_staged_names_are_never_followed() {
    let m = setup(2);
    let v = Victims::plant(&m);
    let a = Attacker::new();
    let archive = m.backup();
    hand_over(&m, &a, true);
    let dir = m.t.path(MM_DIR);
    let now = std::time::SystemTime::now();
    let mut script = String::new();
    for s in 0..120 {
        let t = now + std::time::Duration::from_secs(s);
        let stamp = humantime::format_rfc3339_seconds(t)
            .to_string()
            .replace(['-', ':'], "");
        script += &format!(
            "ln -s {} {}/.config.json.toolctl-restore-{stamp}; ln -s {} {}/.toolctl-restore-{stamp}; ",
            v.shadow.display(),
            dir.display(),
            v.cron.display(),
            dir.display()
        );
    }
    a.sh_ok(&script);
    let before = v.prints();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    assert_eq!(v.prints(), before, "{out}");
    let meta = fs::symlink_metadata(m.t.path(CONFIG)).unwrap();
    assert!(meta.is_file(), "{out}");
    assert_eq!((meta.uid(), meta.gid()), (a.uid, a.gid));
    assert!(fs::read_to_string(m.t.path(CONFIG))
        .unwrap()
        .contains("\"Tag\": \"A\""));
    // The planted links are still links, and nothing new is left beside them.
    let staged: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| !e.file_type().unwrap().is_symlink())
        .map(|e| e.file_name())
        .collect();
    assert!(staged.is_empty(), "left behind: {staged:?}");
}

/// Finding 4: the Mattermost user swaps the staging directory with its own (whose `data`
/// and `etc` are links to root's directories) with `renameat2(RENAME_EXCHANGE)`, in a
/// loop, while a failpoint holds the restore in the window after the staging directory
/// was created. Nothing outside is written or chmodded.
#[test]
fn an_exchange_race_against_the_staging_directory_touches_nothing_outside() {
    let m = setup(2);
    let v = Victims::plant(&m);
    let a = Attacker::new();
    let archive = m.backup();
    hand_over(&m, &a, true);
    let dir = m.t.path(MM_DIR);
    let evil = dir.join("evil");
    let count = dir.join("exchanges");
    fs::write(&count, "").unwrap();
    a.own(&count);
    a.sh_ok(&format!(
        "mkdir {e} && ln -s {cron} {e}/data && ln -s {shadow} {e}/config.json && ln -s {shadow} {e}/db.dump",
        e = evil.display(),
        cron = v.cron.display(),
        shadow = v.shadow.display()
    ));
    // The attacker's loop: find the staging directory by listing its own directory, and
    // exchange it with `evil`, again and again.
    let script = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]; evil = os.fsencode(os.path.join(d, "evil")); out = sys.argv[2]
n = 0
while True:
    for name in os.listdir(d):
        if name.startswith(".toolctl-restore-"):
            if libc.renameat2(-100, os.fsencode(os.path.join(d, name)), -100, evil, 2) == 0:
                n += 1
                open(out + ".tmp", "w").write(str(n))
                os.rename(out + ".tmp", out)
            else:
                open(out + ".err", "w").write(str(ctypes.get_errno()))
"#;
    // /usr/bin/python3: root's PATH may name a python the attacker cannot run.
    let mut child = a
        .command("/usr/bin/python3")
        .args(["-c", script])
        .arg(&dir)
        .arg(&count)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(m.t.aux().join("loop.err")).unwrap())
        .spawn()
        .unwrap();
    let before = v.prints();
    let mut outcomes = Vec::new();
    let count_file = count.clone();
    let exchanges = move || -> u64 {
        fs::read_to_string(&count_file)
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(0)
    };
    let resume = m.t.aux().join("resume");
    for _ in 0..3 {
        // The restore waits in the window (after the staging directory was made) until
        // the attacker has swapped it at least 100 times: the race is certain, not likely.
        let _ = fs::remove_file(&resume);
        let start = exchanges();
        let watcher = {
            let (resume, exchanges) = (resume.clone(), exchanges.clone());
            std::thread::spawn(move || {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(50);
                while exchanges() < start + 100 && std::time::Instant::now() < until {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                fs::write(&resume, "").unwrap();
            })
        };
        let out =
            m.t.toolctl(["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
                .env("TOOLCTL_FAILPOINT_PAUSE", "mattermost-restore-staging")
                .env("TOOLCTL_FAILPOINT_RESUME", &resume)
                .run();
        watcher.join().unwrap();
        assert!(
            exchanges() >= start + 100,
            "the attacker's loop did not run\n{out}"
        );
        assert!(
            out.code == Some(0) || out.code == Some(2),
            "neither done nor refused\n{out}"
        );
        if out.code == Some(2) {
            assert!(out.stderr.contains("hint:"), "{out}");
        }
        assert_eq!(v.prints(), before, "{out}");
        assert!(fs::read_dir(&v.cron).unwrap().next().is_none(), "{out}");
        outcomes.push(out.code);
    }
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "loop: {}",
        fs::read_to_string(m.t.aux().join("loop.err")).unwrap_or_default()
    );
    println!(
        "errno {:?} outcomes {outcomes:?}",
        fs::read_to_string(dir.join("exchanges.err")).ok()
    );
    let n = exchanges();
    assert!(n >= 300, "only {n} exchanges ran");
    assert_eq!(v.prints(), before);
    println!("{n} exchanges during 3 restores: {outcomes:?}");
    // Whatever the outcome, the next command ends in a sane state (finished or rolled
    // back), and data/ is a real directory.
    // When the attacker's directory sits where the staging directory was, the recovery
    // refuses (exit 2) and names it; once the administrator removed it, as the hint says,
    // the next command finishes or rolls back.
    let mut out = m.t.toolctl(["mattermost", "backup"]).run();
    if out.code == Some(2) {
        assert!(
            out.stderr
                .contains("is not the staging directory toolctl created"),
            "{out}"
        );
        assert!(out.stderr.contains("hint:"), "{out}");
        assert_eq!(v.prints(), before);
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let meta = fs::symlink_metadata(e.path()).unwrap();
            if e.file_name()
                .to_string_lossy()
                .starts_with(".toolctl-restore-")
                && std::os::unix::fs::MetadataExt::uid(&meta) == a.uid
            {
                fs::remove_dir_all(e.path()).unwrap();
            }
        }
        out = m.t.toolctl(["mattermost", "backup"]).run();
    }
    out.assert_code(0);
    assert!(fs::symlink_metadata(m.t.path(DATA)).unwrap().is_dir());
    assert_eq!(v.prints(), before);
}

/// The window between toolctl's check that the staging name still holds its (emptied)
/// staging directory and the `rmdir` of that name, held open by a failpoint: the
/// Mattermost user exchanges the name with a directory of its own. The restore completes
/// (exit 0), the attacker's directory and what it holds stay, and an empty root-only
/// directory is left under the other name; nothing outside is touched.
#[test]
fn an_exchange_between_the_staging_check_and_its_removal_removes_nothing_of_the_attacker() {
    let m = setup(1);
    let v = Victims::plant(&m);
    let a = Attacker::new();
    let archive = m.backup();
    hand_over(&m, &a, true);
    let dir = m.t.path(MM_DIR);
    let evil = dir.join("evil");
    a.sh_ok(&format!(
        "mkdir {e} && ln -s {shadow} {e}/config.json && echo mine > {e}/kept",
        e = evil.display(),
        shadow = v.shadow.display()
    ));
    let before = v.prints();
    let resume = m.t.aux().join("resume");
    let log = m.t.aux().join("failpoints");
    let swapper = {
        let (dir, resume, log, a) = (dir.clone(), resume.clone(), log.clone(), a);
        std::thread::spawn(move || {
            let until = std::time::Instant::now() + std::time::Duration::from_secs(50);
            while std::time::Instant::now() < until {
                let reached = fs::read_to_string(&log)
                    .unwrap_or_default()
                    .lines()
                    .any(|l| l == "mattermost-restore-staging-rmdir");
                if reached {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            a.sh_ok(&format!(
                "cd {d} && /usr/bin/python3 -c 'import ctypes, os; l = ctypes.CDLL(None, use_errno=True); s = [n for n in os.listdir(\".\") if n.startswith(\".toolctl-restore-\")][0]; assert l.renameat2(-100, s.encode(), -100, b\"evil\", 2) == 0'",
                d = dir.display()
            ));
            fs::write(&resume, "").unwrap();
        })
    };
    let out =
        m.t.toolctl(["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
            .env("TOOLCTL_FAILPOINT_LOG", &log)
            .env(
                "TOOLCTL_FAILPOINT_PAUSE",
                "mattermost-restore-staging-rmdir",
            )
            .env("TOOLCTL_FAILPOINT_RESUME", &resume)
            .run();
    swapper.join().unwrap();
    out.assert_code(0);
    assert_eq!(v.prints(), before, "{out}");
    // The attacker's directory (now under the staging name) is intact.
    let staged: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".toolctl-restore-")
        })
        .collect();
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert_eq!(
        fs::read_to_string(staged[0].join("kept")).unwrap(),
        "mine\n"
    );
    assert!(fs::symlink_metadata(staged[0].join("config.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    // toolctl's emptied staging directory is left as `evil`, root's and empty.
    let left = fs::symlink_metadata(&evil).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&left), 0);
    assert!(fs::read_dir(&evil).unwrap().next().is_none());
    // The next command is not stopped by it.
    m.t.toolctl(["mattermost", "backup"]).run().assert_code(0);
    assert_eq!(v.prints(), before);
}

/// Finding 5: what the Mattermost user links never reaches the archive.
#[test]
fn backup_reads_nothing_through_links_the_mattermost_user_plants() {
    let m = setup(1);
    let v = Victims::plant(&m);
    let a = Attacker::new();
    hand_over(&m, &a, true);
    let config = m.t.path(CONFIG);
    let data = m.t.path(DATA);
    let before = v.prints();
    let check = |out: &crate::harness::Outcome| {
        assert_eq!(v.prints(), before, "{out}");
        assert!(
            !any_archive_holds(&backups(&m), MARKER),
            "a root-only file reached an archive\n{out}"
        );
    };
    // config.json linked to a root-only file.
    let saved = fs::read(&config).unwrap();
    a.sh_ok(&format!(
        "rm {c} && ln -s {s} {c}",
        c = config.display(),
        s = v.secret.display()
    ));
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("symbolic link", &["nothing was changed"]);
    check(&out);
    // A hard link to it (made as root here: on a host without fs.protected_hardlinks the
    // attacker could): the file is root's and the Mattermost user cannot read it.
    a.sh_ok(&format!("rm {}", config.display()));
    fs::hard_link(&v.secret, &config).unwrap();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("not readable by the Mattermost user", &["chown"]);
    check(&out);
    fs::remove_file(&config).unwrap();
    fs::write(&config, &saved).unwrap();
    a.own(&config);
    // data/ linked to a root-only directory.
    a.sh_ok(&format!(
        "mv {d} {d}.real && ln -s {s} {d}",
        d = data.display(),
        s = v.secret_dir.display()
    ));
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("symbolic link", &["nothing was changed"]);
    check(&out);
    a.sh_ok(&format!("rm {d} && mv {d}.real {d}", d = data.display()));
    // A link inside data/ is archived as a link, never as what it points at.
    a.sh_ok(&format!(
        "ln -s {} {}/key",
        v.secret.display(),
        data.display()
    ));
    let out = m.run(&["mattermost", "backup"]);
    out.assert_code(0);
    check(&out);
    let archive = PathBuf::from(out.stdout_str().trim());
    let key = members(&archive)
        .into_iter()
        .find(|(n, ..)| n == "data/key")
        .unwrap();
    assert_eq!(key.1, tar::EntryType::Symlink);
    // A hard link inside data/ to a root-only file is refused.
    fs::hard_link(&v.secret, data.join("users/u1/avatar")).unwrap();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("cannot archive", &["Mattermost user"]);
    check(&out);
    fs::remove_file(data.join("users/u1/avatar")).unwrap();
    // Without `data_dir`, config.json names `/etc/gitlab`: read with the rights of
    // config.json's owner, the root-only file stops the backup.
    hand_over(&m, &a, false);
    let mut s = settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source());
    s = s.replace(&format!("data_dir = \"/{DATA}\"\n"), "");
    m.t.write_settings(&s);
    a.sh_ok(&format!(
        "printf '%s' '{{\"FileSettings\": {{\"DriverName\": \"local\", \"Directory\": \"/etc/gitlab\"}}}}' > {}",
        config.display()
    ));
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("cannot archive", &["Mattermost user"]);
    check(&out);
}

/// Writes a gzip tar of `entries`, with a manifest that lists them truthfully.
fn build(to: &Path, entries: Vec<(String, tar::EntryType, Vec<u8>, Option<PathBuf>)>) {
    build_with(to, entries, |_| {}, |_, _| {})
}

fn build_with(
    to: &Path,
    entries: Vec<(String, tar::EntryType, Vec<u8>, Option<PathBuf>)>,
    edit_manifest: impl Fn(&mut serde_json::Value),
    mode: impl Fn(&str, &mut tar::Header),
) {
    use sha2::Digest;
    let mut manifest = serde_json::Value::Null;
    let mut listed = serde_json::Map::new();
    for (name, kind, bytes, _) in &entries {
        if name == "manifest.json" {
            manifest = serde_json::from_slice(bytes).unwrap();
        } else if *kind == tar::EntryType::Regular {
            let sha: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            listed.insert(
                name.clone(),
                serde_json::json!({ "size": bytes.len(), "sha256": sha }),
            );
        }
    }
    manifest["members"] = serde_json::Value::Object(listed);
    edit_manifest(&mut manifest);
    let out = fs::File::create(to).unwrap();
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, kind, bytes, link) in entries {
        let bytes = if name == "manifest.json" {
            serde_json::to_vec(&manifest).unwrap()
        } else {
            bytes
        };
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(bytes.len() as u64);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        mode(&name, &mut h);
        match link {
            Some(l) => b.append_link(&mut h, &name, l).unwrap(),
            None => b.append_data(&mut h, &name, &bytes[..]).unwrap(),
        }
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// Finding 13: a small archive that unpacks to far more than its manifest says, and a
/// manifest.json too large to read, are refused before a byte is written.
#[test]
fn an_archive_larger_than_its_manifest_is_refused_before_anything_is_written() {
    let m = setup(1);
    let archive = m.backup();
    let before = m.pg.contents(&m.pg.db);
    // 1. A member of 200 MiB of zeros (a few hundred KiB compressed) that the manifest
    //    lists as 5 bytes.
    let bomb = m.t.aux().join("bomb.tar.gz");
    {
        let f = fs::File::create(&bomb).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
        let mut b = tar::Builder::new(gz);
        let mut manifest = crate::mattermost::manifest_of(&archive);
        for (name, kind, bytes, link) in members(&archive) {
            if name == "manifest.json" {
                continue;
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            match link {
                Some(l) => b.append_link(&mut h, &name, l).unwrap(),
                None => b.append_data(&mut h, &name, &bytes[..]).unwrap(),
            }
        }
        let size = 200u64 << 20;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(size);
        h.set_mode(0o600);
        b.append_data(&mut h, "data/big", std::io::repeat(0).take(size))
            .unwrap();
        manifest["members"]["data/big"] = serde_json::json!({ "size": 5, "sha256": "00" });
        let text = serde_json::to_vec(&manifest).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(text.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, "manifest.json", &text[..]).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    assert!(fs::metadata(&bomb).unwrap().len() < 2 << 20);
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "restore", bomb.to_str().unwrap(), "--yes"]);
    out.assert_error("size in the manifest", &["nothing was changed"]);
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.contents(&m.pg.db), before);
    // 2. A manifest.json of 40 MiB (spaces compress well): refused at the cap, unread.
    let fat = m.t.aux().join("fat.tar.gz");
    {
        let f = fs::File::create(&fat).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
        let mut b = tar::Builder::new(gz);
        let mut text = vec![b' '; 40 << 20];
        text.extend_from_slice(b"{}");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(text.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, "manifest.json", &text[..]).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    let out = crate::harness::metered(
        &m.t.toolctl(["mattermost", "restore", fat.to_str().unwrap(), "--yes"])
            .command(),
        &m.t.aux().join("peak"),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("larger than 32 MiB") && stderr.contains("hint:"),
        "{stderr}"
    );
    let peak = crate::harness::metered_peak_kib(&m.t.aux().join("peak"));
    assert!(peak < 120 * 1024, "peak {peak} KiB");
    snap.assert_unchanged(&m.t.snapshot(), &"fat manifest");
    println!(
        "bomb: {} bytes; fat manifest peak {peak} KiB",
        fs::metadata(&bomb).unwrap().len()
    );
}

/// Finding 14: setuid, setgid and sticky bits from an archive are dropped, with or
/// without a configured owner.
#[test]
fn set_id_and_sticky_bits_from_an_archive_are_dropped() {
    let m = setup(1);
    let archive = m.backup();
    let mut entries = members(&archive);
    entries.insert(
        entries.len() - 1,
        (
            "data/tools/".into(),
            tar::EntryType::Directory,
            Vec::new(),
            None,
        ),
    );
    entries.insert(
        entries.len() - 1,
        (
            "data/tools/sh".into(),
            tar::EntryType::Regular,
            b"#!/bin/sh\n".to_vec(),
            None,
        ),
    );
    let evil = m.t.aux().join("suid.tar.gz");
    build_with(
        &evil,
        entries,
        |_| {},
        |name, h| match name {
            "data/tools/" => h.set_mode(0o7777),
            "data/tools/sh" => h.set_mode(0o6755),
            "data/" => h.set_mode(0o3777),
            _ => {}
        },
    );
    let out = m.run(&["mattermost", "restore", evil.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    let data = m.t.path(DATA);
    let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&data.join("tools/sh")), 0o755, "{out}");
    assert_eq!(mode(&data.join("tools")), 0o777, "{out}");
    assert_eq!(mode(&data), 0o777, "{out}");
    let snap = Snapshot::of(&data);
    assert!(snap.paths().iter().any(|p| p.contains("tools")));
    let _ = std::io::stderr().flush();
}
