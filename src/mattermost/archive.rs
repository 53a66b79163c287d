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
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

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
        let meta = f.metadata()?;
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
                "`{}` changed size while it was archived",
                src.display()
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

    /// Adds bytes as `name` (the manifest).
    pub fn bytes(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, name, bytes)
    }

    /// Adds the tree `dir` as `data/…`: directories, regular files, symlinks (as links).
    /// Returns (files, bytes).
    pub fn tree(&mut self, prefix: &str, dir: &Path) -> io::Result<(u64, u64)> {
        let mut counts = (0, 0);
        let mut h = tar::Header::new_gnu();
        let meta = std::fs::symlink_metadata(dir)?;
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(meta.permissions().mode() & 0o7777);
        h.set_mtime(meta.mtime().max(0) as u64);
        h.set_size(0);
        self.tar
            .append_data(&mut h, format!("{prefix}/"), io::empty())?;
        let mut names: Vec<_> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for n in names {
            let path = dir.join(&n);
            let name = format!("{prefix}/{}", n.to_string_lossy());
            let meta = std::fs::symlink_metadata(&path)?;
            let ft = meta.file_type();
            if ft.is_dir() {
                let (f, b) = self.tree(&name, &path)?;
                counts.0 += f;
                counts.1 += b;
            } else if ft.is_file() {
                self.file(&name, &path)?;
                counts.0 += 1;
                counts.1 += meta.len();
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&path)?;
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                self.tar.append_link(&mut h, &name, &target)?;
            }
        }
        Ok(counts)
    }

    /// Finishes the stream and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.tar.into_inner()?.finish()
    }
}

/// What reading an archive found.
pub struct Contents {
    pub manifest: Value,
    pub members: BTreeMap<String, Member>,
}

/// Why an archive is not usable.
#[derive(Debug)]
pub enum Damage {
    /// The archive cannot be opened (missing, unreadable).
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

/// Reads the whole archive, checking it; with `extract`, writes the members under that
/// (new, empty) directory.
pub fn read(archive: &Path, extract: Option<&Path>) -> Result<Contents, Damage> {
    let f = File::open(archive).map_err(Damage::Io)?;
    if !f.metadata().map_err(Damage::Io)?.is_file() {
        return Err(Damage::Io(io::Error::other("not a regular file")));
    }
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(f));
    let mut tar = tar::Archive::new(gz);
    let mut members = BTreeMap::new();
    let mut manifest = None;
    let mut links = Vec::new();
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a readable archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| bad(format!("a member has an unreadable name: {e}")))?
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let rel = member_path(&name).ok_or_else(|| bad(format!("unexpected member `{name}`")))?;
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().unwrap_or(0o600) & 0o7777;
        let dest = extract.map(|d| d.join(&rel));
        match kind {
            tar::EntryType::Directory => {
                if let Some(d) = &dest {
                    std::fs::create_dir_all(d).map_err(Damage::Io)?;
                    std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o700))
                        .map_err(Damage::Io)?;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad(format!("symlink `{name}` has no target")))?
                    .into_owned();
                links.push((dest, target));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut r = Hashing {
                    inner: &mut entry,
                    hash: Sha256::new(),
                    len: 0,
                };
                if name == "manifest.json" {
                    let mut buf = Vec::new();
                    r.read_to_end(&mut buf)
                        .map_err(|e| bad(format!("the archive is damaged: {e}")))?;
                    manifest = Some(
                        serde_json::from_slice::<Value>(&buf)
                            .map_err(|e| bad(format!("manifest.json is not valid JSON: {e}")))?,
                    );
                    continue;
                }
                match &dest {
                    Some(d) => {
                        if let Some(parent) = d.parent() {
                            std::fs::create_dir_all(parent).map_err(Damage::Io)?;
                        }
                        let mut out = std::fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .mode(0o600)
                            .open(d)
                            .map_err(Damage::Io)?;
                        io::copy(&mut r, &mut out)
                            .map_err(|e| bad(format!("the archive is damaged in `{name}`: {e}")))?;
                        std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode))
                            .map_err(Damage::Io)?;
                    }
                    None => {
                        io::copy(&mut r, &mut io::sink())
                            .map_err(|e| bad(format!("the archive is damaged in `{name}`: {e}")))?;
                    }
                }
                let (len, sha) = (r.len, hex(r.hash.finalize()));
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
    let manifest = manifest.ok_or_else(|| bad("the archive has no manifest.json (it is not a toolctl Mattermost backup, or it is truncated)"))?;
    let listed = manifest
        .get("members")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("manifest.json lists no members"))?;
    for (name, want) in listed {
        let got = members
            .get(name)
            .ok_or_else(|| bad(format!("member `{name}` of the manifest is missing")))?;
        let size = want.get("size").and_then(Value::as_u64);
        let sha = want.get("sha256").and_then(Value::as_str);
        if size != Some(got.size) || sha != Some(got.sha256.as_str()) {
            return Err(bad(format!(
                "member `{name}` does not match its checksum in the manifest"
            )));
        }
    }
    if let Some(extra) = members.keys().find(|k| !listed.contains_key(*k)) {
        return Err(bad(format!("member `{extra}` is not in the manifest")));
    }
    if !members.contains_key("db.dump") {
        return Err(bad("the archive holds no db.dump"));
    }
    for (dest, target) in links {
        if let Some(d) = dest {
            std::os::unix::fs::symlink(&target, &d).map_err(Damage::Io)?;
        }
    }
    Ok(Contents { manifest, members })
}

/// One `syncfs` for the filesystem holding `dir`, instead of an fsync per file. Extraction
/// leaves it to the caller: a restore calls it once, just before its journal says
/// `staged`, by which time the kernel has written most of the tree back during
/// `pg_restore`; `backup --verify` extracts into a scratch directory and needs none.
pub fn syncfs(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: syncfs on a descriptor this function owns.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl<W: Write> Writer<W> {
    /// Adds the already opened regular file `f` as `name`, read from its start (the dump
    /// that `backup` created beneath the output directory: never opened again by path).
    pub fn opened_file(&mut self, name: &str, f: &File) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let mut f = f;
        f.seek(SeekFrom::Start(0))?;
        let meta = f.metadata()?;
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
}
