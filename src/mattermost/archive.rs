//! The backup archive: one gzip-compressed tar holding `db.dump`, `config.json`, `data/…`
//! and, last, `manifest.json` (sizes and sha256 of every other member).
//!
//! Names are bytes: a member's name is the file's name as the kernel gave it (GNU long
//! names past 100 bytes), so any Unix name round-trips; in the manifest, a name that is
//! not UTF-8 is written `bytes:` and its hex ([`manifest_key`]). Every member records its
//! mode, uid, gid and mtime; a sparse file is stored as PAX sparse format 1.0 (its data
//! segments, found with `SEEK_DATA`/`SEEK_HOLE`, after a map), and the second path of an
//! inode as a hard-link member. FIFOs and sockets are skipped and listed; a device node,
//! or a time before 1970, stops the backup ([`Unarchivable`]).
//!
//! Reading checks everything before anyone trusts a byte: member names (only those four
//! kinds, no `..`, no absolute paths), every checksum and size against the manifest, that
//! nothing is missing or extra, and that a hard link names an earlier regular file inside
//! `data/`. Extraction writes only under the staging directory it is given, through
//! descriptors, creates symlinks last so no entry can be written through one, and sets the
//! directories' modes and times after their contents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::DirBuilderExt as _;
use std::os::unix::fs::{FileExt as _, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::sys::fs::DirHandle;

/// A reader that hashes what passes through.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    len: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// How a name that is not UTF-8 is written in the manifest: this, then its bytes in hex.
/// No member name starts with it (every one starts with `data/`, `db.dump`, `config.json`).
const BYTES_PREFIX: &str = "bytes:";

/// A member's key in the manifest: its name when that is UTF-8, else `bytes:` and hex.
pub fn manifest_key(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(s) => s.to_string(),
        Err(_) => format!("{BYTES_PREFIX}{}", hex(name)),
    }
}

/// A name for messages: UTF-8 as is, every other byte as `\xNN`.
pub fn shown(name: &[u8]) -> String {
    let mut out = String::new();
    for chunk in name.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn as_path(name: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(name))
}

/// What one member held: the bytes stored in the archive (for a sparse file, its map and
/// data segments) and, for a sparse file, its length.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub size: u64,
    pub sha256: String,
    pub real_size: Option<u64>,
}

/// A file of `data/` that the archive cannot hold faithfully (a device node, a time
/// before 1970): the backup stops and names it.
#[derive(Debug)]
pub struct Unarchivable {
    pub path: PathBuf,
    pub why: String,
}

impl std::fmt::Display for Unarchivable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.path.display(), self.why)
    }
}

impl std::error::Error for Unarchivable {}

fn unarchivable(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        Unarchivable {
            path: path.to_path_buf(),
            why: why.to_string(),
        },
    )
}

/// A header of `kind` with the recorded metadata; a time before 1970 is refused.
fn header(
    kind: tar::EntryType,
    mode: u32,
    owner: (u32, u32),
    mtime: i64,
    path: &Path,
) -> io::Result<tar::Header> {
    if mtime < 0 {
        return Err(unarchivable(
            path,
            "has a modification time before 1970, which the archive cannot hold",
        ));
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode & 0o7777);
    h.set_uid(owner.0 as u64);
    h.set_gid(owner.1 as u64);
    h.set_mtime(mtime as u64);
    h.set_size(0);
    Ok(h)
}

/// The data segments (offset, length) of the file `f` of `len` bytes, by `SEEK_DATA` and
/// `SEEK_HOLE`; `None` when it has no hole (or the file system cannot tell).
fn data_segments(f: &File, len: u64) -> io::Result<Option<Vec<(u64, u64)>>> {
    use rustix::fs::SeekFrom;
    let mut segs = Vec::new();
    let mut off = 0;
    while off < len {
        let data = match rustix::fs::seek(f, SeekFrom::Data(off)) {
            Ok(d) => d,
            Err(rustix::io::Errno::NXIO) => break,
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOTSUP) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if data >= len {
            break;
        }
        let hole = rustix::fs::seek(f, SeekFrom::Hole(data))?.min(len);
        segs.push((data, hole - data));
        off = hole;
    }
    let stored: u64 = segs.iter().map(|s| s.1).sum();
    Ok((stored < len).then_some(segs))
}

/// The map of PAX sparse format 1.0: the number of segments, then each one's offset and
/// length, one decimal per line, padded with NULs to a 512-byte block.
fn sparse_map(segs: &[(u64, u64)]) -> Vec<u8> {
    let mut m = format!("{}\n", segs.len()).into_bytes();
    for (o, l) in segs {
        m.extend_from_slice(format!("{o}\n{l}\n").as_bytes());
    }
    m.resize(m.len().div_ceil(512) * 512, 0);
    m
}

/// Reads the data segments of a sparse file in order (positional reads).
struct Segments<'a> {
    f: &'a File,
    segs: Vec<(u64, u64)>,
    i: usize,
    done: u64,
}

impl Read for Segments<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(&(off, len)) = self.segs.get(self.i) {
            if self.done == len {
                self.i += 1;
                self.done = 0;
                continue;
            }
            let want = (len - self.done).min(buf.len() as u64) as usize;
            let n = self.f.read_at(&mut buf[..want], off + self.done)?;
            self.done += n as u64;
            return Ok(n);
        }
        Ok(0)
    }
}

/// Writes the archive into `out` (already a private temp file).
pub struct Writer<W: Write> {
    tar: tar::Builder<flate2::write::GzEncoder<W>>,
    pub members: BTreeMap<Vec<u8>, Member>,
    /// The first member of each inode with several links, by (device, inode).
    inodes: HashMap<(u64, u64), Vec<u8>>,
    /// FIFOs and sockets left out: name and kind.
    pub skipped: Vec<(Vec<u8>, &'static str)>,
    pub hard_links: u64,
    pub sparse_files: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Complete);
        tar.follow_symlinks(false);
        Writer {
            tar,
            members: BTreeMap::new(),
            inodes: HashMap::new(),
            skipped: Vec::new(),
            hard_links: 0,
            sparse_files: 0,
        }
    }

    /// The manifest's `members`: key ([`manifest_key`]) → size, sha256 (and `real_size`
    /// for a sparse file).
    pub fn manifest_members(&self) -> Map<String, Value> {
        self.members
            .iter()
            .map(|(k, m)| {
                let mut v = json!({ "size": m.size, "sha256": m.sha256 });
                if let Some(r) = m.real_size {
                    v["real_size"] = json!(r);
                }
                (manifest_key(k), v)
            })
            .collect()
    }

    /// The manifest's list of skipped entries.
    pub fn manifest_skipped(&self) -> Vec<Value> {
        self.skipped
            .iter()
            .map(|(n, kind)| json!({ "name": manifest_key(n), "kind": kind }))
            .collect()
    }

    /// Adds the regular file `f` (with `meta`; `path` for messages) as `name`, hashing it
    /// as it is written: its data segments after a map when it has holes.
    fn regular(
        &mut self,
        name: &[u8],
        meta: &std::fs::Metadata,
        f: &File,
        path: &Path,
    ) -> io::Result<()> {
        let len = meta.len();
        let mut h = header(
            tar::EntryType::Regular,
            meta.permissions().mode(),
            (meta.uid(), meta.gid()),
            meta.mtime(),
            path,
        )?;
        let segs = if meta.blocks().saturating_mul(512) < len {
            data_segments(f, len)?
        } else {
            None
        };
        let (stored, real_size, inner): (u64, Option<u64>, Box<dyn Read + '_>) = match segs {
            // Positional reads from the start, wherever the descriptor's offset is.
            None => (
                len,
                None,
                Box::new(Segments {
                    f,
                    segs: vec![(0, len)],
                    i: 0,
                    done: 0,
                }),
            ),
            Some(segs) => {
                let map = sparse_map(&segs);
                let stored = map.len() as u64 + segs.iter().map(|s| s.1).sum::<u64>();
                let real = len.to_string();
                self.tar.append_pax_extensions([
                    ("GNU.sparse.major", &b"1"[..]),
                    ("GNU.sparse.minor", &b"0"[..]),
                    ("GNU.sparse.realsize", real.as_bytes()),
                ])?;
                self.sparse_files += 1;
                let segments = Segments {
                    f,
                    segs,
                    i: 0,
                    done: 0,
                };
                (
                    stored,
                    Some(len),
                    Box::new(io::Cursor::new(map).chain(segments)),
                )
            }
        };
        h.set_size(stored);
        let mut r = Hashing {
            inner: inner.take(stored),
            hash: Sha256::new(),
            len: 0,
        };
        self.tar.append_data(&mut h, as_path(name), &mut r)?;
        if r.len != stored {
            return Err(io::Error::other(format!(
                "`{}` changed size while it was archived",
                path.display()
            )));
        }
        self.members.insert(
            name.to_vec(),
            Member {
                size: r.len,
                sha256: hex(r.hash.finalize()),
                real_size,
            },
        );
        Ok(())
    }

    /// Adds `bytes` as the member `name` with `mode`, listed in the manifest.
    pub fn member_bytes(&mut self, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(mode & 0o7777);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, name, bytes)?;
        self.members.insert(
            name.as_bytes().to_vec(),
            Member {
                size: bytes.len() as u64,
                sha256: hex(Sha256::digest(bytes)),
                real_size: None,
            },
        );
        Ok(())
    }

    /// Adds the opened directory `dir` as `prefix/…` with the rights of `reader`
    /// (uid, gid): every entry is opened from its parent's descriptor with `O_NOFOLLOW`
    /// (symlinks are stored as links, never followed), and an entry that user could not
    /// read is refused (`PermissionDenied`, naming it), so that a hard link or a directory
    /// the data's owner planted never brings a root-only file into the archive. Names are
    /// the bytes the kernel gives; owners, modes and times are recorded; the second path
    /// of an inode becomes a hard-link member; FIFOs and sockets are skipped (listed in
    /// [`Writer::skipped`]); a device node is refused ([`Unarchivable`]).
    /// Returns (files, bytes).
    pub fn tree_at(
        &mut self,
        prefix: &str,
        dir: &DirHandle,
        reader: (u32, u32),
    ) -> io::Result<(u64, u64)> {
        self.walk(prefix.as_bytes().to_vec(), dir, reader)
    }

    fn walk(
        &mut self,
        name: Vec<u8>,
        dir: &DirHandle,
        reader: (u32, u32),
    ) -> io::Result<(u64, u64)> {
        use rustix::fs::{AtFlags, FileType};
        let mut counts = (0, 0);
        let meta = dir.stat_self()?;
        if !crate::sys::fs::readable_by(&meta, reader.0, reader.1) {
            return Err(unreadable(&dir.path, reader));
        }
        let mut h = header(
            tar::EntryType::Directory,
            meta.mode,
            (meta.uid, meta.gid),
            dir.mtime_self()?,
            &dir.path,
        )?;
        let mut dname = name.clone();
        dname.push(b'/');
        self.tar.append_data(&mut h, as_path(&dname), io::empty())?;
        for n in dir.names()? {
            let path = dir.path.join(&n);
            let mut child = name.clone();
            child.push(b'/');
            child.extend_from_slice(n.as_bytes());
            let st = match rustix::fs::statat(dir, &n, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(rustix::io::Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            // A restore's staging directory inside a mounted data/ is not Mattermost's.
            if name == b"data"
                && crate::mattermost::restore::is_staging_raw(&n, st.st_mode as u32, st.st_uid)
            {
                continue;
            }
            match FileType::from_raw_mode(st.st_mode as _) {
                FileType::Directory => {
                    let sub = dir.open_dir(&n)?;
                    let (f, b) = self.walk(child, &sub, reader)?;
                    counts.0 += f;
                    counts.1 += b;
                }
                FileType::RegularFile => {
                    let f = dir.open_file(&n)?;
                    // Checked on the opened file: a hard link to a root-only file is the
                    // root-only file.
                    let fmeta = f.metadata()?;
                    let st = crate::sys::fs::Stat {
                        kind: crate::sys::fs::Kind::File,
                        ..stat_of_file(&fmeta)
                    };
                    if !crate::sys::fs::readable_by(&st, reader.0, reader.1) {
                        return Err(unreadable(&path, reader));
                    }
                    counts.0 += 1;
                    if fmeta.nlink() > 1 {
                        let id = (fmeta.dev(), fmeta.ino());
                        if let Some(first) = self.inodes.get(&id) {
                            let mut h = header(
                                tar::EntryType::Link,
                                fmeta.permissions().mode(),
                                (fmeta.uid(), fmeta.gid()),
                                fmeta.mtime(),
                                &path,
                            )?;
                            let first = first.clone();
                            self.tar
                                .append_link(&mut h, as_path(&child), as_path(&first))?;
                            self.hard_links += 1;
                            continue;
                        }
                        self.inodes.insert(id, child.clone());
                    }
                    self.regular(&child, &fmeta, &f, &path)?;
                    counts.1 += fmeta.len();
                }
                FileType::Symlink => {
                    let target = dir.read_link(&n)?;
                    let mut h = header(
                        tar::EntryType::Symlink,
                        0o777,
                        (st.st_uid, st.st_gid),
                        st.st_mtime as i64,
                        &path,
                    )?;
                    self.tar
                        .append_link(&mut h, as_path(&child), Path::new(&target))?;
                }
                FileType::Fifo => self.skipped.push((child, "FIFO")),
                FileType::Socket => self.skipped.push((child, "socket")),
                _ => {
                    return Err(unarchivable(
                        &path,
                        "is a device node: Mattermost never stores one, and the archive does not hold them",
                    ))
                }
            }
        }
        Ok(counts)
    }

    /// Adds bytes as `name` (the manifest).
    pub fn bytes(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, name, bytes)
    }

    /// Finishes the stream and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.tar.into_inner()?.finish()
    }
}

fn unreadable(path: &Path, reader: (u32, u32)) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "`{}` is not readable by the Mattermost user ({}, gid {})",
            path.display(),
            crate::sys::users::describe_uid(reader.0),
            reader.1
        ),
    )
}

fn stat_of_file(m: &std::fs::Metadata) -> crate::sys::fs::Stat {
    crate::sys::fs::Stat {
        kind: crate::sys::fs::Kind::File,
        mode: m.permissions().mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    }
}

/// What reading an archive found.
pub struct Contents {
    pub manifest: Value,
    pub members: BTreeMap<Vec<u8>, Member>,
    /// Owners of the archive that were neither root nor its Mattermost user, each made the
    /// Mattermost user's: one line per uid/gid pair (how many entries, one of them).
    pub owners_mapped: Vec<String>,
}

/// Why an archive is not usable.
#[derive(Debug)]
pub enum Damage {
    /// The archive cannot be opened (missing, unreadable).
    Io(io::Error),
    /// Writing beneath the staging directory failed: no room (`StorageFull`, also for a
    /// full quota, and when the first pass sees that it cannot fit), or another error of
    /// that file system. Never the archive's fault.
    Write(io::Error),
    /// It is damaged, or does not match its manifest.
    Bad(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Io(e) | Damage::Write(e) => write!(f, "{e}"),
            Damage::Bad(s) => f.write_str(s),
        }
    }
}

fn bad(s: impl Into<String>) -> Damage {
    Damage::Bad(s.into())
}

/// A failed write beneath the staging directory: ENOSPC and EDQUOT both as `StorageFull`.
fn write_err(e: io::Error) -> Damage {
    if e.raw_os_error() == Some(rustix::io::Errno::DQUOT.raw_os_error()) {
        return Damage::Write(io::Error::new(io::ErrorKind::StorageFull, e));
    }
    Damage::Write(e)
}

/// The most manifest.json may hold: it is read into memory whole (a member line is about
/// 120 bytes, so this is some 250,000 files).
pub const MANIFEST_CAP: u64 = 32 * 1024 * 1024;

/// Permission bits kept from an archive: never setuid, setgid or sticky.
pub const MODE_MASK: u32 = 0o777;

/// The most segments a sparse member's map may list (read into memory).
const SPARSE_CAP: u64 = 1 << 20;

/// Whether `name` is a member toolctl writes; returns its relative path.
fn member_path(name: &[u8]) -> Option<PathBuf> {
    let p = as_path(name);
    if !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let first = p.components().next()?.as_os_str().to_str()?;
    match first {
        "db.dump" | "config.json" | "manifest.json" if p.components().count() == 1 => {
            Some(p.into())
        }
        "data" => Some(p.into()),
        _ => None,
    }
}

/// A member's name (raw bytes, no trailing `/`), checked.
fn entry_name<R: Read>(entry: &tar::Entry<R>) -> Result<(Vec<u8>, PathBuf), Damage> {
    let mut name = entry.path_bytes().into_owned();
    while name.last() == Some(&b'/') {
        name.pop();
    }
    let rel =
        member_path(&name).ok_or_else(|| bad(format!("unexpected member `{}`", shown(&name))))?;
    Ok((name, rel))
}

/// The target of a hard-link member: an earlier regular file inside `data/` (in
/// `regular`), itself inside `data/`; every other hard link is refused.
fn hard_link_target<R: Read>(
    entry: &tar::Entry<R>,
    name: &[u8],
    regular: &BTreeSet<Vec<u8>>,
) -> Result<Vec<u8>, Damage> {
    let mut target = entry
        .link_name_bytes()
        .map(|t| t.into_owned())
        .unwrap_or_default();
    while target.last() == Some(&b'/') {
        target.pop();
    }
    let inside = |n: &[u8]| n.starts_with(b"data/") && member_path(n).is_some();
    if !inside(name) || !inside(&target) || !regular.contains(&target) {
        return Err(bad(format!(
            "hard link `{}` → `{}` is refused: a hard link may only name an earlier regular file inside data/",
            shown(name),
            shown(&target)
        )));
    }
    Ok(target)
}

/// What the first pass found: the manifest, each listed member's stored size, and the
/// sum of the sizes of the members that will be written.
struct Scan {
    manifest: Value,
    sizes: BTreeMap<Vec<u8>, u64>,
}

/// The first pass: every member's name, type and size from its header, and manifest.json
/// (read with [`MANIFEST_CAP`]). Nothing is written. The declared sizes must be the
/// manifest's, so the second pass knows the total before it writes a byte.
fn scan(file: &File) -> Result<Scan, Damage> {
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(file));
    let mut tar = tar::Archive::new(gz);
    let mut sizes = BTreeMap::new();
    let mut manifest = None;
    let mut seen = BTreeSet::new();
    let mut regular = BTreeSet::new();
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a readable archive: {e}")))?;
    let twice = |name: &[u8]| bad(format!("member `{}` appears twice", shown(name)));
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let (name, _) = entry_name(&entry)?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink => {
                if !seen.insert(name.clone()) {
                    return Err(twice(&name));
                }
            }
            tar::EntryType::Link => {
                hard_link_target(&entry, &name, &regular)?;
                if !seen.insert(name.clone()) {
                    return Err(twice(&name));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if !seen.insert(name.clone()) {
                    return Err(twice(&name));
                }
                if name == b"manifest.json" {
                    let mut buf = Vec::new();
                    (&mut entry)
                        .take(MANIFEST_CAP + 1)
                        .read_to_end(&mut buf)
                        .map_err(|e| bad(format!("the archive is damaged: {e}")))?;
                    if buf.len() as u64 > MANIFEST_CAP {
                        return Err(bad(format!(
                            "manifest.json is larger than {} MiB",
                            MANIFEST_CAP >> 20
                        )));
                    }
                    manifest = Some(
                        serde_json::from_slice::<Value>(&buf)
                            .map_err(|e| bad(format!("manifest.json is not valid JSON: {e}")))?,
                    );
                    continue;
                }
                regular.insert(name.clone());
                sizes.insert(name, entry.size());
            }
            other => {
                return Err(bad(format!(
                    "member `{}` has an unsupported type {other:?}",
                    shown(&name)
                )))
            }
        }
    }
    let manifest = manifest.ok_or_else(|| bad("the archive has no manifest.json (it is not a toolctl Mattermost backup, or it is truncated)"))?;
    let listed = manifest
        .get("members")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("manifest.json lists no members"))?;
    let by_key: BTreeMap<String, u64> = sizes.iter().map(|(k, v)| (manifest_key(k), *v)).collect();
    if by_key.len() != sizes.len() {
        return Err(bad("two members have the same name in the manifest"));
    }
    for (name, want) in listed {
        let got = by_key
            .get(name)
            .ok_or_else(|| bad(format!("member `{name}` of the manifest is missing")))?;
        if want.get("size").and_then(Value::as_u64) != Some(*got) {
            return Err(bad(format!(
                "member `{name}` does not match its size in the manifest"
            )));
        }
    }
    if let Some(extra) = by_key.keys().find(|k| !listed.contains_key(*k)) {
        return Err(bad(format!("member `{extra}` is not in the manifest")));
    }
    if !sizes.contains_key(&b"db.dump"[..]) {
        return Err(bad("the archive holds no db.dump"));
    }
    Ok(Scan { manifest, sizes })
}

/// The directory that holds `rel`'s last component beneath `root`, created (0700) as
/// needed, every step by `openat` with `O_NOFOLLOW`.
fn parent_of(root: &DirHandle, rel: &Path) -> io::Result<DirHandle> {
    let comps: Vec<_> = rel.components().map(|c| c.as_os_str()).collect();
    let mut h = root.try_clone()?;
    for c in &comps[..comps.len().saturating_sub(1)] {
        h = h.open_or_mkdir(c, 0o700)?;
    }
    Ok(h)
}

fn last(rel: &Path) -> &OsStr {
    rel.file_name().expect("a member has a name")
}

fn times(mtime: u64) -> rustix::fs::Timestamps {
    let t = rustix::fs::Timespec {
        tv_sec: mtime.min(i64::MAX as u64) as _,
        tv_nsec: 0,
    };
    rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// Owner, mode and time of a written file or directory, on its descriptor (the owner
/// first: `fchown` clears set-id bits, which are never kept anyway).
fn set_meta(
    fd: &impl std::os::fd::AsFd,
    owner: Option<(u32, u32)>,
    mode: u32,
    mtime: u64,
) -> io::Result<()> {
    if let Some((uid, gid)) = owner {
        rustix::fs::fchown(
            fd,
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
        )?;
    }
    rustix::fs::fchmod(fd, rustix::fs::Mode::from_raw_mode((mode & MODE_MASK) as _))?;
    rustix::fs::futimens(fd, &times(mtime))?;
    Ok(())
}

/// How the archive's owners become this host's: the archive's Mattermost owner (the
/// manifest's `data.owner`) becomes `target`, root (when it is not that owner) stays root,
/// any other owner becomes `target` and is listed. An archive without `data.owner` (written before owners were
/// recorded: every header said 0/0) gives everything in `data/` to `target`.
struct OwnerMap {
    archive: Option<(u32, u32)>,
    target: (u32, u32),
    others: BTreeMap<(u32, u32), (u64, Vec<u8>)>,
}

impl OwnerMap {
    fn map(&mut self, name: &[u8], uid: u32, gid: u32) -> (u32, u32) {
        let Some((au, ag)) = self.archive else {
            return self.target;
        };
        // The archive's Mattermost owner first: when that was root (no Mattermost user
        // was known at backup time), root's entries are the Mattermost user's.
        let one = |id: u32, mm: u32, to: u32| match id {
            i if i == mm => (to, false),
            0 => (0, false),
            _ => (to, true),
        };
        let (u, ou) = one(uid, au, self.target.0);
        let (g, og) = one(gid, ag, self.target.1);
        if ou || og {
            let e = self
                .others
                .entry((uid, gid))
                .or_insert_with(|| (0, name.to_vec()));
            e.0 += 1;
        }
        (u, g)
    }

    fn lines(&self) -> Vec<String> {
        self.others
            .iter()
            .map(|((u, g), (n, example))| {
                format!(
                    "uid {u} gid {g} (neither root nor the archive's Mattermost user): {n} entr{} made the Mattermost user's, e.g. `{}`",
                    if *n == 1 { "y" } else { "ies" },
                    shown(example)
                )
            })
            .collect()
    }
}

/// Where and what to extract.
pub struct Extract<'a> {
    /// The staging directory (new, empty, private).
    pub root: &'a DirHandle,
    /// Which members are written: the others are only checked (`--verify` writes
    /// `db.dump` alone).
    pub write: fn(&[u8]) -> bool,
    /// Whose the Mattermost user's entries become (uid, gid), or `None` to leave
    /// everything root's.
    pub owner: Option<(u32, u32)>,
    /// Space to leave free on the staging file system, on top of the members.
    pub reserve: u64,
}

/// Reads the whole archive, checking it; with `extract`, writes the members that
/// `write` picks under that (new, empty, private) directory, which is created when
/// missing.
pub fn read(
    archive: &Path,
    extract: Option<&Path>,
    write: fn(&[u8]) -> bool,
) -> Result<Contents, Damage> {
    match extract {
        None => read_into(archive, None),
        Some(dir) => {
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(write_err(e)),
                _ => {}
            }
            let h = DirHandle::open(dir).map_err(write_err)?;
            read_into(
                archive,
                Some(&Extract {
                    root: &h,
                    write,
                    owner: None,
                    reserve: 0,
                }),
            )
        }
    }
}

/// The sparse map at the start of a member's stored bytes: the segments, and how many
/// bytes the map took (whole 512-byte blocks).
fn read_sparse_map(
    r: &mut impl Read,
    stored: u64,
    real: u64,
    name: &[u8],
) -> Result<(Vec<(u64, u64)>, u64), Damage> {
    let damaged = || bad(format!("the sparse map of `{}` is damaged", shown(name)));
    let mut used = 0u64;
    let mut block = Vec::new();
    let mut pos = 0usize;
    let mut next = |used: &mut u64| -> Result<u64, Damage> {
        let mut digits = String::new();
        loop {
            if pos == block.len() {
                if *used + 512 > stored {
                    return Err(damaged());
                }
                block = vec![0u8; 512];
                r.read_exact(&mut block).map_err(|e| {
                    bad(format!("the archive is damaged in `{}`: {e}", shown(name)))
                })?;
                *used += 512;
                pos = 0;
            }
            let c = block[pos];
            pos += 1;
            match c {
                b'0'..=b'9' if digits.len() < 20 => digits.push(c as char),
                b'\n' if !digits.is_empty() => return digits.parse().map_err(|_| damaged()),
                _ => return Err(damaged()),
            }
        }
    };
    let n = next(&mut used)?;
    if n > SPARSE_CAP {
        return Err(damaged());
    }
    let mut segs = Vec::with_capacity(n as usize);
    let mut end = 0u64;
    let mut data = 0u64;
    for _ in 0..n {
        let off = next(&mut used)?;
        let len = next(&mut used)?;
        let stop = off.checked_add(len).ok_or_else(damaged)?;
        if off < end || stop > real {
            return Err(damaged());
        }
        end = stop;
        data += len;
        segs.push((off, len));
    }
    if used + data != stored {
        return Err(damaged());
    }
    Ok((segs, used))
}

/// Copies `n` bytes of `r` to `out` at `at` (or only reads them): a failed read is the
/// archive's damage, a failed write the staging file system's ([`Damage::Write`]).
fn pump(
    r: &mut impl Read,
    n: u64,
    out: Option<&File>,
    at: u64,
    buf: &mut [u8],
    name: &[u8],
) -> Result<(), Damage> {
    let mut done = 0u64;
    while done < n {
        let want = (n - done).min(buf.len() as u64) as usize;
        let got = r
            .read(&mut buf[..want])
            .map_err(|e| bad(format!("the archive is damaged in `{}`: {e}", shown(name))))?;
        if got == 0 {
            return Err(bad(format!(
                "the archive is damaged in `{}`: it ends early",
                shown(name)
            )));
        }
        if let Some(f) = out {
            f.write_all_at(&buf[..got], at + done).map_err(write_err)?;
        }
        done += got as u64;
    }
    Ok(())
}

/// `GNU.sparse.realsize` of a member in PAX sparse format 1.0, `None` for a plain one.
fn sparse_size<R: Read>(entry: &mut tar::Entry<R>, name: &[u8]) -> Result<Option<u64>, Damage> {
    let damaged = |why: &str| bad(format!("member `{}` {why}", shown(name)));
    let Some(exts) = entry
        .pax_extensions()
        .map_err(|e| bad(format!("the archive is damaged: {e}")))?
    else {
        return Ok(None);
    };
    let (mut major, mut minor, mut real) = (None, None, None);
    for ext in exts {
        let ext = ext.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let value = || {
            std::str::from_utf8(ext.value_bytes())
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
        };
        match ext.key() {
            Ok("GNU.sparse.major") => major = value(),
            Ok("GNU.sparse.minor") => minor = value(),
            Ok("GNU.sparse.realsize") => real = value(),
            Ok(k) if k.starts_with("GNU.sparse.") => {
                return Err(damaged("uses a sparse format toolctl does not write"))
            }
            _ => {}
        }
    }
    match (major, minor, real) {
        (None, None, None) => Ok(None),
        (Some(1), Some(0), Some(r)) if r <= 1 << 50 => Ok(Some(r)),
        _ => Err(damaged("uses a sparse format toolctl does not write")),
    }
}

/// Reads the whole archive, checking it, in two passes over the one opened file. The
/// first ([`scan`]) reads only headers and manifest.json; it refuses an archive whose
/// declared sizes differ from the manifest's, and one whose members to write would not
/// fit in the free space of the staging directory. The second hashes every member, stops
/// at the first byte past the size the manifest gives, and with `extract` writes the
/// members it picks beneath that directory through descriptors only (`openat` with
/// `O_NOFOLLOW`, `O_CREAT|O_EXCL`; owner, mode (without setuid, setgid or sticky) and
/// mtime set on the descriptor; holes of sparse files left unwritten; a hard link by
/// `linkat` to an earlier regular file of `data/`), symlinks next, and last the
/// directories' owners, modes and times (so a 0555 directory is filled first).
pub fn read_into(archive: &Path, extract: Option<&Extract>) -> Result<Contents, Damage> {
    use std::io::Seek;
    let mut f = File::open(archive).map_err(Damage::Io)?;
    if !f.metadata().map_err(Damage::Io)?.is_file() {
        return Err(Damage::Io(io::Error::other("not a regular file")));
    }
    let Scan { manifest, sizes } = scan(&f)?;
    let total: u64 = sizes.values().sum();
    let writes = |name: &[u8]| extract.is_some_and(|x| (x.write)(name));
    if let Some(x) = extract {
        let (bytes, count) = sizes
            .iter()
            .filter(|(k, _)| writes(k))
            .fold((0u64, 0u64), |(b, c), (_, s)| (b + s, c + 1));
        let free = x.root.free_bytes().map_err(write_err)?;
        // Room for the metadata too, and the reserve.
        let need = bytes + count * 4096 + x.reserve;
        if need > free {
            return Err(Damage::Write(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "the archive unpacks to {} MiB, and `{}` has {} MiB free",
                    bytes >> 20,
                    x.root.path.display(),
                    free >> 20
                ),
            )));
        }
    }
    let mut owners = OwnerMap {
        archive: manifest["data"]["owner"]["uid"]
            .as_u64()
            .zip(manifest["data"]["owner"]["gid"].as_u64())
            .map(|(u, g)| (u as u32, g as u32)),
        target: extract.and_then(|x| x.owner).unwrap_or((0, 0)),
        others: BTreeMap::new(),
    };
    let map_owner = extract.is_some_and(|x| x.owner.is_some());
    f.seek(io::SeekFrom::Start(0)).map_err(Damage::Io)?;
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(&f));
    let mut tar = tar::Archive::new(gz);
    let mut members = BTreeMap::new();
    let mut regular = BTreeSet::new();
    let mut symlinks = Vec::new();
    let mut dirs = Vec::new();
    let mut written = 0u64;
    let mut buf = vec![0u8; 128 * 1024];
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a readable archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let (name, rel) = entry_name(&entry)?;
        let hdr = entry.header();
        let kind = hdr.entry_type();
        let mode = hdr.mode().unwrap_or(0o600) & MODE_MASK;
        let mtime = hdr.mtime().unwrap_or(0);
        let (uid, gid) = (hdr.uid().unwrap_or(0) as u32, hdr.gid().unwrap_or(0) as u32);
        let in_data = name.starts_with(b"data/") || name == b"data";
        let owner = (map_owner && in_data).then(|| owners.map(&name, uid, gid));
        let write = writes(&name);
        match kind {
            tar::EntryType::Directory => {
                if let (Some(x), true) = (extract, write) {
                    let parent = parent_of(x.root, &rel).map_err(write_err)?;
                    parent.open_or_mkdir(last(&rel), 0o700).map_err(write_err)?;
                    dirs.push((rel, owner, mode, mtime));
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| bad(format!("symlink `{}` has no target", shown(&name))))?
                    .into_owned();
                if write {
                    symlinks.push((rel, target, owner, mtime));
                }
            }
            tar::EntryType::Link => {
                let target = hard_link_target(&entry, &name, &regular)?;
                if let (Some(x), true) = (extract, write && writes(&target)) {
                    let trel = member_path(&target).expect("checked");
                    let from = parent_of(x.root, &trel).map_err(write_err)?;
                    let to = parent_of(x.root, &rel).map_err(write_err)?;
                    rustix::fs::linkat(
                        &from,
                        last(&trel),
                        &to,
                        last(&rel),
                        rustix::fs::AtFlags::empty(),
                    )
                    .map_err(|e| write_err(e.into()))?;
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if name == b"manifest.json" {
                    continue;
                }
                // The size the manifest gives (the first pass checked the header against
                // it): not one byte more is read or written, whatever the archive became.
                let want = *sizes.get(&name).ok_or_else(|| {
                    bad(format!("member `{}` is not in the manifest", shown(&name)))
                })?;
                if entry.size() != want || written.saturating_add(want) > total {
                    return Err(bad(format!(
                        "member `{}` is larger than the manifest says",
                        shown(&name)
                    )));
                }
                let real = sparse_size(&mut entry, &name)?;
                let key = manifest_key(&name);
                let listed = &manifest["members"][&key];
                if real != listed.get("real_size").and_then(Value::as_u64) {
                    return Err(bad(format!(
                        "member `{key}` does not match its size in the manifest"
                    )));
                }
                let out = match (extract, write) {
                    (Some(x), true) => {
                        let parent = parent_of(x.root, &rel).map_err(write_err)?;
                        Some(parent.create_new(last(&rel), 0o600).map_err(write_err)?)
                    }
                    _ => None,
                };
                let mut r = Hashing {
                    inner: (&mut entry).take(want),
                    hash: Sha256::new(),
                    len: 0,
                };
                match real {
                    None => pump(&mut r, want, out.as_ref(), 0, &mut buf, &name)?,
                    Some(real) => {
                        let (segs, _) = read_sparse_map(&mut r, want, real, &name)?;
                        for (off, len) in segs {
                            pump(&mut r, len, out.as_ref(), off, &mut buf, &name)?;
                        }
                        if let Some(o) = &out {
                            o.set_len(real).map_err(write_err)?;
                        }
                    }
                }
                written += r.len;
                let (len, sha) = (r.len, hex(r.hash.finalize()));
                if Some(len) != listed.get("size").and_then(Value::as_u64)
                    || Some(sha.as_str()) != listed.get("sha256").and_then(Value::as_str)
                {
                    return Err(bad(format!(
                        "member `{key}` does not match its checksum in the manifest"
                    )));
                }
                if let Some(o) = &out {
                    set_meta(o, owner, mode, mtime).map_err(write_err)?;
                }
                regular.insert(name.clone());
                members.insert(
                    name,
                    Member {
                        size: len,
                        sha256: sha,
                        real_size: real,
                    },
                );
            }
            other => {
                return Err(bad(format!(
                    "member `{}` has an unsupported type {other:?}",
                    shown(&name)
                )))
            }
        }
    }
    // The same members as the first pass saw: an archive changed in between is refused.
    if members.len() != sizes.len() {
        return Err(bad("the archive changed while it was read"));
    }
    if let Some(x) = extract {
        for (rel, target, owner, mtime) in symlinks {
            let parent = parent_of(x.root, &rel).map_err(write_err)?;
            let name = last(&rel);
            parent.symlink(as_path(&target), name).map_err(write_err)?;
            if let Some((uid, gid)) = owner {
                parent.chown_at(name, uid, gid).map_err(write_err)?;
            }
            rustix::fs::utimensat(
                &parent,
                name,
                &times(mtime),
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| write_err(e.into()))?;
        }
        // Deepest first; after everything inside them was made.
        for (rel, owner, mode, mtime) in dirs.into_iter().rev() {
            let parent = parent_of(x.root, &rel).map_err(write_err)?;
            let d = parent.open_dir(last(&rel)).map_err(write_err)?;
            set_meta(&d, owner, mode, mtime).map_err(write_err)?;
        }
    }
    Ok(Contents {
        manifest,
        members,
        owners_mapped: owners.lines(),
    })
}

/// One `syncfs` for the filesystem holding `dir`, instead of an fsync per file. Extraction
/// leaves it to the caller: a restore calls it once, just before its journal says
/// `staged`, by which time the kernel has written most of the tree back during
/// `pg_restore`; `backup --verify` extracts into a scratch directory and needs none.
pub fn syncfs(dir: &Path) -> io::Result<()> {
    crate::sys::fs::DirHandle::open(dir)?.sync_fs()
}

impl<W: Write> Writer<W> {
    /// Adds the already opened regular file `f` as `name`, read from its start (the dump
    /// that `backup` created beneath the output directory: never opened again by path).
    pub fn opened_file(&mut self, name: &str, f: &File) -> io::Result<()> {
        let meta = f.metadata()?;
        self.regular(name.as_bytes(), &meta, f, Path::new(name))
    }
}
