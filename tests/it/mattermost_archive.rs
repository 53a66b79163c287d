//! Archive fidelity: a `data/` tree with what real servers hold (names that are
//! not UTF-8, two of them the same once made lossy, a long one; sparse files; hard links;
//! symlinks; a FIFO; 0555 and 0400 entries; mtimes in the past; entries owned by a
//! Mattermost user, by root and by a third user) is backed up, the tree changed, restored,
//! and compared entry by entry: names as bytes, types, modes, owners (mapped), mtimes,
//! contents, allocated blocks, link groups. Any difference fails. Also: hard-link members
//! that are not to an earlier regular file of `data/` are refused, and `--verify` with
//! `TMPDIR` on a 1 MiB tmpfs checks an archive whose files are larger than that.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::attacker::Attacker;
use crate::harness::Snapshot;
use crate::mattermost::{members, settings, setup, Mm, DATA};

const MM_DIR: &str = "var/opt/toolctl/rendered/mattermost";

/// One entry of a tree, everything compared.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    /// Regular files: length, allocated 512-byte blocks, sha256; symlinks: the target.
    size: u64,
    blocks: u64,
    content: Vec<u8>,
    /// The other names of the same inode (regular files with several links).
    group: Vec<Vec<u8>>,
}

/// Every entry below `dir` (and `dir` itself as the empty name), names as bytes.
fn tree(dir: &Path) -> BTreeMap<Vec<u8>, Entry> {
    fn walk(
        dir: &Path,
        rel: &[u8],
        out: &mut BTreeMap<Vec<u8>, Entry>,
        inodes: &mut BTreeMap<u64, Vec<Vec<u8>>>,
    ) {
        let meta = fs::symlink_metadata(dir).unwrap();
        out.insert(rel.to_vec(), entry(dir, &meta));
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for n in names {
            let mut r = rel.to_vec();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(n.as_bytes());
            let p = dir.join(&n);
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                walk(&p, &r, out, inodes);
            } else {
                if m.is_file() && m.nlink() > 1 {
                    inodes.entry(m.ino()).or_default().push(r.clone());
                }
                out.insert(r, entry(&p, &m));
            }
        }
    }
    fn entry(p: &Path, m: &fs::Metadata) -> Entry {
        use sha2::Digest;
        let ft = m.file_type();
        let (kind, size, blocks, content) = if ft.is_file() {
            let sha = sha2::Sha256::digest(fs::read(p).unwrap()).to_vec();
            ("file", m.len(), m.blocks(), sha)
        } else if ft.is_symlink() {
            (
                "symlink",
                0,
                0,
                fs::read_link(p).unwrap().into_os_string().into_vec(),
            )
        } else if ft.is_dir() {
            ("dir", 0, 0, Vec::new())
        } else {
            ("other", 0, 0, Vec::new())
        };
        Entry {
            kind,
            mode: m.permissions().mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            mtime: m.mtime(),
            size,
            blocks,
            content,
            group: Vec::new(),
        }
    }
    use std::os::unix::ffi::OsStringExt;
    let mut out = BTreeMap::new();
    let mut inodes = BTreeMap::new();
    walk(dir, b"", &mut out, &mut inodes);
    for group in inodes.values() {
        for n in group {
            out.get_mut(n).unwrap().group = group.clone();
        }
    }
    out
}

/// The differences between two trees, one line each.
fn diff(want: &BTreeMap<Vec<u8>, Entry>, got: &BTreeMap<Vec<u8>, Entry>) -> Vec<String> {
    let show = |n: &[u8]| String::from_utf8_lossy(n).into_owned() + &format!(" {n:x?}");
    let mut d = Vec::new();
    for (n, w) in want {
        match got.get(n) {
            None => d.push(format!("missing: {}", show(n))),
            Some(g) if g != w => d.push(format!("{}: want {w:?}, got {g:?}", show(n))),
            _ => {}
        }
    }
    for n in got.keys().filter(|n| !want.contains_key(*n)) {
        d.push(format!("extra: {}", show(n)));
    }
    d
}

fn touch(p: &Path, t: i64) {
    let ok = Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{t}"))
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "touch {}", p.display());
}

fn own(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

fn chown_r(p: &Path, uid: u32, gid: u32) {
    own(p, uid, gid);
    if fs::symlink_metadata(p).unwrap().is_dir() {
        for e in fs::read_dir(p).unwrap() {
            chown_r(&e.unwrap().path(), uid, gid);
        }
    }
}

fn name(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

/// Fills data/ with the hard cases; every entry the Mattermost user's (`mm`) unless said.
fn hard_tree(data: &Path, mm: (u32, u32), other: (u32, u32)) {
    // Two names that are the same once made lossy, and a long one (GNU long name).
    fs::write(data.join(name(b"caf\xe9.txt")), b"latin-1 e acute").unwrap();
    fs::write(data.join(name(b"caf\xe8.txt")), b"latin-1 e grave").unwrap();
    let mut long = b"long-\xff-".to_vec();
    long.extend(std::iter::repeat_n(b'x', 180));
    let odd = data.join(name(b"dir-\xfe"));
    fs::create_dir(&odd).unwrap();
    fs::write(odd.join(name(&long)), b"a long name").unwrap();
    // Sparse: data at 0 and at 4 MiB of an 8 MiB file; one that ends in a hole.
    let sparse = data.join("sparse.bin");
    let f = fs::File::create(&sparse).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[7u8; 8192], 0).unwrap();
    f.write_all_at(&[9u8; 4096], 4 << 20).unwrap();
    f.set_len(8 << 20).unwrap();
    let tail = fs::File::create(data.join("hole-at-end.bin")).unwrap();
    tail.write_all_at(b"head", 0).unwrap();
    tail.set_len(3 << 20).unwrap();
    // Hard links: three names of one file, across directories.
    fs::write(data.join("users/u1/a"), b"linked content").unwrap();
    fs::hard_link(data.join("users/u1/a"), data.join("teams/t1/b")).unwrap();
    fs::hard_link(data.join("users/u1/a"), odd.join("c")).unwrap();
    // Symlinks, one with a target that is not UTF-8.
    std::os::unix::fs::symlink("profile.png", data.join("users/u1/link")).unwrap();
    std::os::unix::fs::symlink(name(b"../caf\xe9.txt"), odd.join("to-cafe")).unwrap();
    // A FIFO (skipped and said).
    assert!(Command::new("mkfifo")
        .arg(data.join("queue.fifo"))
        .status()
        .unwrap()
        .success());
    // 0555 directory with a file in it, a 0400 file.
    let ro = data.join("readonly");
    fs::create_dir(&ro).unwrap();
    fs::write(ro.join("inside"), b"in a 0555 directory").unwrap();
    fs::write(data.join("secret-0400"), b"owner read only").unwrap();
    chown_r(data, mm.0, mm.1);
    // Root's and a third user's entries (readable by the Mattermost user).
    fs::write(data.join("root.txt"), b"root's").unwrap();
    fs::set_permissions(data.join("root.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    let third = data.join("third.txt");
    fs::write(&third, b"someone else's").unwrap();
    fs::set_permissions(&third, fs::Permissions::from_mode(0o644)).unwrap();
    own(&third, other.0, other.1);
    fs::set_permissions(data.join("secret-0400"), fs::Permissions::from_mode(0o400)).unwrap();
    // Times in the past, directories after their contents (deepest first).
    let t = tree(data);
    let mut names: Vec<&Vec<u8>> = t.keys().collect();
    names.sort_by_key(|n| {
        std::cmp::Reverse(n.iter().filter(|&&b| b == b'/').count() + usize::from(!n.is_empty()))
    });
    for (i, n) in names.into_iter().enumerate() {
        let p = if n.is_empty() {
            data.to_path_buf()
        } else {
            data.join(name(n))
        };
        if t[n].kind != "other" {
            touch(&p, 1_500_000_000 + i as i64 * 3600);
        }
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
}

fn with_owner(m: &Mm, owner: (u32, u32)) {
    let s = settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source())
        + &format!("uid = {}\ngid = {}\n", owner.0, owner.1);
    m.t.write_settings(&s);
}

#[test]
fn the_data_tree_comes_back_byte_for_byte_with_owners_modes_times_holes_and_links() {
    let m = setup(1);
    let mm = Attacker::new();
    let third = Attacker::new();
    with_owner(&m, (mm.uid, mm.gid));
    chown_r(&m.t.path(MM_DIR), mm.uid, mm.gid);
    let data = m.t.path(DATA);
    hard_tree(&data, (mm.uid, mm.gid), (third.uid, third.gid));
    let before = tree(&data);
    let sparse = &before[&b"sparse.bin"[..]];
    assert!(
        sparse.blocks * 512 < sparse.size / 4,
        "not sparse: {sparse:?}"
    );

    let out = m.run(&["mattermost", "backup"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("skipped the FIFO `data/queue.fifo`"),
        "{out}"
    );
    let archive = PathBuf::from(out.stdout_str().trim());
    let manifest = crate::mattermost::manifest_of(&archive);
    let keys: Vec<&String> = manifest["members"].as_object().unwrap().keys().collect();
    assert!(
        keys.iter().filter(|k| k.starts_with("bytes:")).count() >= 3,
        "{keys:?}"
    );
    assert_eq!(manifest["data"]["skipped"][0]["kind"], "FIFO", "{manifest}");
    assert_eq!(manifest["data"]["hard_links"], 2, "{manifest}");
    assert_eq!(manifest["data"]["sparse_files"], 2, "{manifest}");
    assert_eq!(manifest["data"]["owner"]["uid"], mm.uid);
    // The archive stays small: the 8 MiB of holes are not in it.
    assert!(fs::metadata(&archive).unwrap().len() < 1 << 20);

    // The expected tree: no FIFO, the third user's file the Mattermost user's.
    let mut want = before.clone();
    want.remove(&b"queue.fifo"[..]);
    let t3 = want.get_mut(&b"third.txt"[..]).unwrap();
    (t3.uid, t3.gid) = (mm.uid, mm.gid);

    // Change the tree, then restore over it.
    fs::set_permissions(data.join("readonly"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_file(data.join("users/u1/a")).unwrap();
    fs::write(data.join(name(b"caf\xe9.txt")), b"changed").unwrap();
    fs::write(data.join("new-file"), b"after the backup").unwrap();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains(&format!("uid {} gid {}", third.uid, third.gid))
            && out.stderr.contains("third.txt"),
        "the mapped owner is not listed\n{out}"
    );
    let d = diff(&want, &tree(&data));
    assert!(
        d.is_empty(),
        "the restored tree differs:\n{}\n{out}",
        d.join("\n")
    );

    // Restored on a host whose Mattermost user is another uid: the archive's Mattermost
    // user's entries become the new one's, root's stay root's.
    let mm2 = Attacker::new();
    with_owner(&m, (mm2.uid, mm2.gid));
    chown_r(&m.t.path(MM_DIR), mm2.uid, mm2.gid);
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    let mut want2 = want.clone();
    for e in want2.values_mut() {
        if e.uid == mm.uid {
            (e.uid, e.gid) = (mm2.uid, mm2.gid);
        }
    }
    assert_eq!(want2[&b"root.txt"[..]].uid, 0);
    let d = diff(&want2, &tree(&data));
    assert!(
        d.is_empty(),
        "the restored tree differs:\n{}\n{out}",
        d.join("\n")
    );
    fs::set_permissions(data.join("readonly"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// Appends hard-link members to a copy of `archive` (before manifest.json).
fn with_links(archive: &Path, to: &Path, links: &[(&str, &str)], extra: Option<(&str, &[u8])>) {
    use sha2::Digest;
    let mut entries = members(archive);
    let (_, _, mbytes, _) = entries.pop().unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&mbytes).unwrap();
    let out = fs::File::create(to).unwrap();
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (n, kind, bytes, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        match link {
            Some(l) => b.append_link(&mut h, &n, l).unwrap(),
            None => b.append_data(&mut h, &n, &bytes[..]).unwrap(),
        }
    }
    for (n, target) in links {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        h.set_mode(0o644);
        b.append_link(&mut h, n, target).unwrap();
    }
    if let Some((n, bytes)) = extra {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, n, bytes).unwrap();
        let sha: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        manifest["members"][n] = serde_json::json!({ "size": bytes.len(), "sha256": sha });
    }
    let text = serde_json::to_vec(&manifest).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(text.len() as u64);
    h.set_mode(0o600);
    b.append_data(&mut h, "manifest.json", &text[..]).unwrap();
    b.into_inner().unwrap().finish().unwrap();
}

/// What a case is, the hard links it adds, and a regular member appended after them.
type Case<'a> = (
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<(&'a str, &'a [u8])>,
);

#[test]
fn a_hard_link_member_is_accepted_only_to_an_earlier_regular_file_of_data() {
    let m = setup(1);
    let archive = m.backup();
    let cases: Vec<Case> = vec![
        (
            "to a later member",
            vec![("data/l", "data/later")],
            Some(("data/later", b"later")),
        ),
        ("to db.dump", vec![("data/l", "db.dump")], None),
        ("to config.json", vec![("data/l", "config.json")], None),
        ("outside the archive", vec![("data/l", "/etc/passwd")], None),
        (
            "climbing out",
            vec![("data/l", "data/../../etc/passwd")],
            None,
        ),
        ("to a directory", vec![("data/l", "data/users")], None),
        (
            "to a symlink-free missing name",
            vec![("data/l", "data/nothing")],
            None,
        ),
        (
            "named outside data/",
            vec![("config2", "data/users/u1/profile.png")],
            None,
        ),
    ];
    let evil = m.t.aux().join("links.tar.gz");
    for (what, links, extra) in &cases {
        with_links(&archive, &evil, links, *extra);
        let snap = m.t.snapshot();
        let db = m.pg.contents(&m.pg.db);
        let out = m.run(&["mattermost", "restore", evil.to_str().unwrap(), "--yes"]);
        out.assert_error("cannot be restored", &["nothing was changed"]);
        assert!(
            out.stderr.contains("hard link") || out.stderr.contains("unexpected member"),
            "{what}\n{out}"
        );
        snap.assert_unchanged(&m.t.snapshot(), &out);
        assert_eq!(m.pg.contents(&m.pg.db), db, "{what}");
        m.run(&["mattermost", "backup", "--verify", evil.to_str().unwrap()])
            .assert_code(1);
    }
    // To an earlier regular file of data/: accepted, and one inode.
    with_links(
        &archive,
        &evil,
        &[("data/l", "data/users/u1/profile.png")],
        None,
    );
    let out = m.run(&["mattermost", "restore", evil.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    let data = m.t.path(DATA);
    assert_eq!(
        fs::metadata(data.join("l")).unwrap().ino(),
        fs::metadata(data.join("users/u1/profile.png"))
            .unwrap()
            .ino(),
        "{out}"
    );
    assert!(Snapshot::of(&data)
        .paths()
        .iter()
        .any(|p| p.ends_with("/l") || p == "l"));
}

/// Unmounts the tmpfs on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn verify_checks_files_larger_than_tmpdir_without_writing_them_and_says_when_tmpdir_is_full() {
    let m = setup(1);
    // 3 MiB that do not compress, beside the seed's files.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..3 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(m.t.path(DATA).join("big.bin"), &noise).unwrap();
    let archive = m.backup();
    let tmp = m.t.aux().join("small-tmp");
    fs::create_dir(&tmp).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&tmp)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mount a tmpfs");
    let _mount = Mount(tmp.clone());
    let out =
        m.t.toolctl([
            "mattermost",
            "backup",
            "--verify",
            archive.to_str().unwrap(),
        ])
        .env("TMPDIR", &tmp)
        .run();
    out.assert_code(0);
    assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0, "{out}");
    // A full TMPDIR is not a damaged archive: exit 2, and the hint says where.
    let filler = tmp.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", filler.display()))
        .output();
    let out =
        m.t.toolctl([
            "mattermost",
            "backup",
            "--verify",
            archive.to_str().unwrap(),
        ])
        .env("TMPDIR", &tmp)
        .run();
    out.assert_error("no room for the archive's db.dump", &["TMPDIR"]);
    assert!(!out.stderr.contains("damaged"), "{out}");
    fs::remove_file(&filler).unwrap();
}

/// A device node or a time before 1970 in data/ cannot be archived faithfully: the backup
/// stops with exit 2, names the file in the error and the hint, and writes no archive.
#[test]
fn a_tree_that_cannot_be_archived_faithfully_is_refused_naming_the_file() {
    let m = setup(1);
    let data = m.t.path(DATA);
    let backups = m.t.path("var/opt/toolctl/backups");
    let count = || fs::read_dir(&backups).map_or(0, |d| d.count());
    let node = data.join(name(b"dev-\xff"));
    assert!(Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .unwrap()
        .success());
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("cannot archive", &["dev-", "no archive was written"]);
    assert!(out.stderr.contains("device node"), "{out}");
    assert_eq!(count(), 0, "{out}");
    fs::remove_file(&node).unwrap();
    let old = data.join("users/u1/profile.png");
    touch(&old, -86_400);
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("cannot archive", &["profile.png", "no archive was written"]);
    assert!(out.stderr.contains("before 1970"), "{out}");
    assert_eq!(count(), 0, "{out}");
    touch(&old, 1_600_000_000);
    m.backup();
}
