//! The backup archive: one gzip-compressed tar holding `db.dump`, `config.json`, `data/…`
//! and, last, `manifest.json` (sizes and sha256 of every other member).
//!
//! Reading checks everything before anyone trusts a byte: member names (only those four
//! kinds, no `..`, no absolute paths), every checksum and size against the manifest, and
//! that nothing is missing or extra. Extraction writes only under the staging directory it
//! is given, and creates symlinks last so no entry can be written through one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::DirBuilderExt as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
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

/// What one member held.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub size: u64,
    pub sha256: String,
}

/// Writes the archive into `out` (already a private temp file).
pub struct Writer<W: Write> {
    tar: tar::Builder<flate2::write::GzEncoder<W>>,
    pub members: BTreeMap<String, Member>,
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
        }
    }

    /// Adds the file `src` as `name`.
    pub fn file(&mut self, name: &str, src: &Path) -> io::Result<()> {
        let f = File::open(src)?;
        self.open_file(name, f)
            .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", src.display())))
    }

    /// Adds the opened regular file `f` as `name`.
    pub fn open_file(&mut self, name: &str, f: File) -> io::Result<()> {
        let meta = f.metadata()?;
        self.regular(name, &meta, f)
    }

    /// Adds `f` (a regular file with `meta`) as `name`, hashing it as it is written.
    fn regular(&mut self, name: &str, meta: &std::fs::Metadata, f: impl Read) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(meta.len());
        h.set_mode(meta.permissions().mode() & 0o7777);
        h.set_mtime(meta.mtime().max(0) as u64);
        h.set_entry_type(tar::EntryType::Regular);
        let mut r = Hashing {
            inner: f.take(meta.len()),
            hash: Sha256::new(),
            len: 0,
        };
        self.tar.append_data(&mut h, name, &mut r)?;
        if r.len != meta.len() {
            return Err(io::Error::other(format!(
                "`{name}` changed size while it was archived"
            )));
        }
        self.members.insert(
            name.to_string(),
            Member {
                size: r.len,
                sha256: hex(r.hash.finalize()),
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
            name.to_string(),
            Member {
                size: bytes.len() as u64,
                sha256: hex(Sha256::digest(bytes)),
            },
        );
        Ok(())
    }

    /// Adds the opened directory `dir` as `prefix/…` with the rights of `reader`
    /// (uid, gid): every entry is opened from its parent's descriptor with `O_NOFOLLOW`
    /// (symlinks are stored as links, never followed), and an entry that user could not
    /// read is refused (`PermissionDenied`, naming it), so that a hard link or a directory
    /// the data's owner planted never brings a root-only file into the archive.
    /// Returns (files, bytes).
    pub fn tree_at(
        &mut self,
        prefix: &str,
        dir: &DirHandle,
        reader: (u32, u32),
    ) -> io::Result<(u64, u64)> {
        let mut counts = (0, 0);
        let meta = dir.stat_self()?;
        if !crate::sys::fs::readable_by(&meta, reader.0, reader.1) {
            return Err(unreadable(&dir.path, reader));
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(meta.mode & 0o7777);
        h.set_mtime(dir.mtime_self()?.max(0) as u64);
        h.set_size(0);
        self.tar
            .append_data(&mut h, format!("{prefix}/"), io::empty())?;
        for n in dir.names()? {
            let path = dir.path.join(&n);
            let name = format!("{prefix}/{}", n.to_string_lossy());
            let Some(st) = dir.lstat(&n)? else { continue };
            // A restore's staging directory inside a mounted data/ is not Mattermost's.
            if prefix == "data" && crate::mattermost::restore::is_staging(&n, &st) {
                continue;
            }
            match st.kind {
                crate::sys::fs::Kind::Dir => {
                    let sub = dir.open_dir(&n)?;
                    let (f, b) = self.tree_at(&name, &sub, reader)?;
                    counts.0 += f;
                    counts.1 += b;
                }
                crate::sys::fs::Kind::File => {
                    let f = dir.open_file(&n)?;
                    // Checked on the opened file: a hard link to a root-only file is the
                    // root-only file.
                    let st = crate::sys::fs::Stat {
                        kind: crate::sys::fs::Kind::File,
                        ..stat_of_file(&f)?
                    };
                    if !crate::sys::fs::readable_by(&st, reader.0, reader.1) {
                        return Err(unreadable(&path, reader));
                    }
                    let len = f.metadata()?.len();
                    self.open_file(&name, f)?;
                    counts.0 += 1;
                    counts.1 += len;
                }
                crate::sys::fs::Kind::Symlink => {
                    let target = dir.read_link(&n)?;
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    h.set_mode(0o777);
                    self.tar.append_link(&mut h, &name, Path::new(&target))?;
                }
                crate::sys::fs::Kind::Other => {}
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

fn stat_of_file(f: &File) -> io::Result<crate::sys::fs::Stat> {
    let m = f.metadata()?;
    Ok(crate::sys::fs::Stat {
        kind: crate::sys::fs::Kind::File,
        mode: m.permissions().mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    })
}

/// What reading an archive found.
pub struct Contents {
    pub manifest: Value,
    pub members: BTreeMap<String, Member>,
}

/// Why an archive is not usable.
#[derive(Debug)]
pub enum Damage {
    /// The archive cannot be opened (missing, unreadable), or it does not fit (the error's
    /// kind is then `StorageFull`).
    Io(io::Error),
    /// It is damaged, or does not match its manifest.
    Bad(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Io(e) => write!(f, "{e}"),
            Damage::Bad(s) => f.write_str(s),
        }
    }
}

fn bad(s: impl Into<String>) -> Damage {
    Damage::Bad(s.into())
}

/// The most manifest.json may hold: it is read into memory whole (a member line is about
/// 120 bytes, so this is some 250,000 files).
pub const MANIFEST_CAP: u64 = 32 * 1024 * 1024;

/// Permission bits kept from an archive: never setuid, setgid or sticky (issue 19).
pub const MODE_MASK: u32 = 0o777;

/// Whether `name` is a member toolctl writes; returns its relative path.
fn member_path(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
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

/// A member's name, checked.
fn entry_name<R: Read>(entry: &tar::Entry<R>) -> Result<(String, PathBuf), Damage> {
    let name = entry
        .path()
        .map_err(|e| bad(format!("a member has an unreadable name: {e}")))?
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string();
    let rel = member_path(&name).ok_or_else(|| bad(format!("unexpected member `{name}`")))?;
    Ok((name, rel))
}

/// The first pass: every member's name, type and size from its header, and manifest.json
/// (read with [`MANIFEST_CAP`]). Nothing is written. The declared sizes must be the
/// manifest's, so the second pass knows the total before it writes a byte.
fn scan(file: &File) -> Result<(Value, BTreeMap<String, u64>), Damage> {
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(file));
    let mut tar = tar::Archive::new(gz);
    let mut sizes = BTreeMap::new();
    let mut manifest = None;
    let mut others = std::collections::BTreeSet::new();
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a readable archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let (name, _) = entry_name(&entry)?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink => {
                if !others.insert(name.clone()) || sizes.contains_key(&name) {
                    return Err(bad(format!("member `{name}` appears twice")));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if others.contains(&name) || sizes.contains_key(&name) {
                    return Err(bad(format!("member `{name}` appears twice")));
                }
                if name == "manifest.json" {
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
                    others.insert(name);
                    continue;
                }
                sizes.insert(name, entry.size());
            }
            other => {
                return Err(bad(format!(
                    "member `{name}` has an unsupported type {other:?}"
                )))
            }
        }
    }
    let manifest = manifest.ok_or_else(|| bad("the archive has no manifest.json (it is not a toolctl Mattermost backup, or it is truncated)"))?;
    let listed = manifest
        .get("members")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("manifest.json lists no members"))?;
    for (name, want) in listed {
        let got = sizes
            .get(name)
            .ok_or_else(|| bad(format!("member `{name}` of the manifest is missing")))?;
        if want.get("size").and_then(Value::as_u64) != Some(*got) {
            return Err(bad(format!(
                "member `{name}` does not match its size in the manifest"
            )));
        }
    }
    if let Some(extra) = sizes.keys().find(|k| !listed.contains_key(*k)) {
        return Err(bad(format!("member `{extra}` is not in the manifest")));
    }
    if !sizes.contains_key("db.dump") {
        return Err(bad("the archive holds no db.dump"));
    }
    Ok((manifest, sizes))
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

fn set_mode(f: &impl std::os::fd::AsFd, mode: u32) -> io::Result<()> {
    rustix::fs::fchmod(f, rustix::fs::Mode::from_raw_mode(mode as _))?;
    Ok(())
}

/// Reads the whole archive, checking it; with `extract`, writes the members under that
/// (new, empty, private) directory, which is created when missing.
pub fn read(archive: &Path, extract: Option<&Path>) -> Result<Contents, Damage> {
    match extract {
        None => read_into(archive, None),
        Some(dir) => {
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(Damage::Io(e)),
                _ => {}
            }
            let h = DirHandle::open(dir).map_err(Damage::Io)?;
            read_into(archive, Some(&h))
        }
    }
}

/// Reads the whole archive, checking it, in two passes over the one opened file. The
/// first ([`scan`]) reads only headers and manifest.json; it refuses an archive whose
/// declared sizes differ from the manifest's, and one that would not fit in the free space
/// of `extract`. The second hashes every member, stops at the first byte past the size
/// the manifest gives, and with `extract` writes the members beneath that directory
/// through descriptors only (`openat` with `O_NOFOLLOW`, `O_CREAT|O_EXCL`, `fchmod`;
/// permission bits without setuid, setgid or sticky), symlinks last.
pub fn read_into(archive: &Path, extract: Option<&DirHandle>) -> Result<Contents, Damage> {
    use std::io::Seek;
    let mut f = File::open(archive).map_err(Damage::Io)?;
    if !f.metadata().map_err(Damage::Io)?.is_file() {
        return Err(Damage::Io(io::Error::other("not a regular file")));
    }
    let (manifest, sizes) = scan(&f)?;
    let total: u64 = sizes.values().sum();
    if let Some(root) = extract {
        let free = root.free_bytes().map_err(Damage::Io)?;
        // Room for the metadata too, and never the filesystem's last 64 MiB.
        let need = total + sizes.len() as u64 * 4096 + (64 << 20);
        if need > free {
            return Err(Damage::Io(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "the archive unpacks to {} MiB, and `{}` has {} MiB free",
                    total >> 20,
                    root.path.display(),
                    free >> 20
                ),
            )));
        }
    }
    f.seek(io::SeekFrom::Start(0)).map_err(Damage::Io)?;
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(&f));
    let mut tar = tar::Archive::new(gz);
    let mut members = BTreeMap::new();
    let mut links = Vec::new();
    let mut written = 0u64;
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a readable archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let (name, rel) = entry_name(&entry)?;
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().unwrap_or(0o600) & MODE_MASK;
        match kind {
            tar::EntryType::Directory => {
                if let Some(root) = extract {
                    let parent = parent_of(root, &rel).map_err(Damage::Io)?;
                    let last = rel.file_name().expect("a member has a name");
                    let d = parent.open_or_mkdir(last, 0o700).map_err(Damage::Io)?;
                    // Writable by root until the restore is done; no set-id or sticky bit.
                    d.set_self(mode | 0o700, None).map_err(Damage::Io)?;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad(format!("symlink `{name}` has no target")))?
                    .into_owned();
                links.push((rel, target));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if name == "manifest.json" {
                    continue;
                }
                // The size the manifest gives (the first pass checked the header against
                // it): not one byte more is read or written, whatever the archive became.
                let want = *sizes
                    .get(&name)
                    .ok_or_else(|| bad(format!("member `{name}` is not in the manifest")))?;
                if entry.size() != want || written.saturating_add(want) > total {
                    return Err(bad(format!(
                        "member `{name}` is larger than the manifest says"
                    )));
                }
                let mut r = Hashing {
                    inner: (&mut entry).take(want),
                    hash: Sha256::new(),
                    len: 0,
                };
                match extract {
                    Some(root) => {
                        let parent = parent_of(root, &rel).map_err(Damage::Io)?;
                        let last = rel.file_name().expect("a member has a name");
                        let mut out = parent.create_new(last, 0o600).map_err(Damage::Io)?;
                        io::copy(&mut r, &mut out).map_err(|e| {
                            if e.kind() == io::ErrorKind::StorageFull {
                                Damage::Io(e)
                            } else {
                                bad(format!("the archive is damaged in `{name}`: {e}"))
                            }
                        })?;
                        set_mode(&out, mode).map_err(Damage::Io)?;
                    }
                    None => {
                        io::copy(&mut r, &mut io::sink())
                            .map_err(|e| bad(format!("the archive is damaged in `{name}`: {e}")))?;
                    }
                }
                written += r.len;
                let (len, sha) = (r.len, hex(r.hash.finalize()));
                let listed = &manifest["members"][&name];
                if Some(len) != listed.get("size").and_then(Value::as_u64)
                    || Some(sha.as_str()) != listed.get("sha256").and_then(Value::as_str)
                {
                    return Err(bad(format!(
                        "member `{name}` does not match its checksum in the manifest"
                    )));
                }
                members.insert(
                    name,
                    Member {
                        size: len,
                        sha256: sha,
                    },
                );
            }
            other => {
                return Err(bad(format!(
                    "member `{name}` has an unsupported type {other:?}"
                )))
            }
        }
    }
    // The same members as the first pass saw: an archive changed in between is refused.
    if members.len() != sizes.len() {
        return Err(bad("the archive changed while it was read"));
    }
    if let Some(root) = extract {
        for (rel, target) in links {
            let parent = parent_of(root, &rel).map_err(Damage::Io)?;
            let last = rel.file_name().expect("a member has a name");
            parent.symlink(&target, last).map_err(Damage::Io)?;
        }
    }
    Ok(Contents { manifest, members })
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
        use std::io::{Seek, SeekFrom};
        let mut f = f;
        f.seek(SeekFrom::Start(0))?;
        let meta = f.metadata()?;
        self.regular(name, &meta, f)
    }
}
