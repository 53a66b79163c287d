//! What `tail` follows: the target, which names are logs, and where a file's last lines start.
//!
//! Owns the rules that decide, by a file's *name* alone, whether it is a live log (compressed
//! and rotated archives, svlogd's `@…` files and its `config`/`lock`, `*.lock` are not), the
//! resolution of `TARGET` against the log directory, the list of services shown when a
//! TARGET does not exist, and the backwards scan that finds the last N lines of a file.
//! It reads the disk but never watches or follows anything: that is [`super::follow`].
//!
//! gitlab-ctl filters with `grep -E -v '(config|lock|@|bz2|gz|…)'` over the whole path, so
//! `configurator/app.log` or `blocker.log` are silently skipped; this module compares names
//! exactly, or by suffix for the archive extensions.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::sys::dirfd::{self, DirFd, EntryKind};
use crate::sys::errno::{ELOOP, ENOTDIR};

/// Archive suffixes: compressed rotations that must not be followed.
const ARCHIVE_SUFFIXES: &[&[u8]] = &[
    b".gz", b".bz2", b".xz", b".zip", b".tgz", b".tbz2", b".txz", b".gzip",
];

/// Whether a file named `name` is something other than a live log: a compressed or rotated
/// archive (`x.log.1.gz`), an svlogd archive (`@4000…s`, `@…u`), a lock file (`*.lock`), or
/// svlogd's own `config` and `lock` files. Decided by the name alone, never by the path.
pub fn is_skipped_name(name: &OsStr) -> bool {
    let b = name.as_bytes();
    b.is_empty()
        || b[0] == b'@'
        || b == b"config"
        || b == b"lock"
        || b.ends_with(b".lock")
        || ARCHIVE_SUFFIXES.iter().any(|s| b.ends_with(s))
}

/// What `TARGET` resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A directory: every log below it, including directories created later.
    Dir(PathBuf),
    /// One file, followed by name in its (canonical) directory.
    File {
        dir: PathBuf,
        name: std::ffi::OsString,
    },
}

/// Why a target could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The log directory itself is missing (no TARGET given, or a relative one).
    #[error("the log directory `{}` does not exist", .0.display())]
    NoLogDir(PathBuf),
    /// TARGET names nothing; `services` are the subdirectories that do exist.
    #[error("no log `{}` in `{}`", .target.display(), .log_dir.display())]
    Missing {
        target: PathBuf,
        log_dir: PathBuf,
        services: Vec<String>,
    },
    /// TARGET exists but is neither a directory nor a regular file.
    #[error("`{}` is neither a directory nor a file", .0.display())]
    NotFollowable(PathBuf),
    /// TARGET, below the log directory, is or goes through a link that is not followed.
    #[error("`{}` {}", .0.display(), .1)]
    Link(PathBuf, String),
    #[error("cannot read `{}`", .0.display())]
    Io(PathBuf, #[source] io::Error),
}

/// What `TARGET` resolved to, and the directory links are resolved beneath.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub target: Target,
    /// The log directory as the kernel resolves it (or, for an absolute TARGET outside
    /// it, that directory): see [`super::Options::base`].
    pub base: PathBuf,
    /// The same, as configured.
    pub base_given: PathBuf,
}

/// Resolves `target` (absolute, or relative to `log_dir`). The log directory is the
/// administrator's path and is followed as given, as is an absolute TARGET outside it.
/// Below the log directory, nothing is followed by path: every directory on the way is
/// opened with `O_NOFOLLOW`, and a final link is accepted only under the follower's rule
/// (a regular file beneath the log directory, owned by the link's owner).
pub fn resolve(log_dir: &Path, target: Option<&Path>) -> Result<Resolved, TargetError> {
    let real_log = std::fs::canonicalize(log_dir);
    let inside: Option<PathBuf> = match target {
        None => Some(PathBuf::new()),
        Some(t) if !t.is_absolute() => Some(t.to_path_buf()),
        Some(t) => t
            .strip_prefix(log_dir)
            .ok()
            .or_else(|| real_log.as_ref().ok().and_then(|r| t.strip_prefix(r).ok()))
            .map(Path::to_path_buf),
    };
    let Some(rel) = inside else {
        // An absolute path outside the log directory: the administrator's, as given.
        return resolve_outside(target.expect("an absolute target"), log_dir);
    };
    let real_log = match real_log {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(TargetError::NoLogDir(log_dir.to_path_buf()))
        }
        Err(e) => return Err(TargetError::Io(log_dir.to_path_buf(), e)),
    };
    let shown = target.map_or_else(|| log_dir.to_path_buf(), Path::to_path_buf);
    let missing = || TargetError::Missing {
        target: shown.clone(),
        log_dir: log_dir.to_path_buf(),
        services: services(log_dir),
    };
    let comps = dirfd::resolve_beneath(&real_log, &[], &rel)
        .ok_or_else(|| TargetError::Link(shown.clone(), "leaves the log directory".into()))?;
    let resolved = |target| Resolved {
        target,
        base: real_log.clone(),
        base_given: log_dir.to_path_buf(),
    };
    let io_err = |e: io::Error| TargetError::Io(shown.clone(), e);
    let mut dir =
        DirFd::open_path(&real_log).map_err(|e| TargetError::Io(log_dir.to_path_buf(), e))?;
    let Some((last, dirs)) = comps.split_last() else {
        return Ok(resolved(Target::Dir(real_log.clone())));
    };
    for (i, c) in dirs.iter().enumerate() {
        match dir.lstat(c).map_err(io_err)? {
            None => return Err(missing()),
            Some(e) if e.kind == EntryKind::Dir => dir = dir.open_sub(c).map_err(io_err)?,
            Some(e) if e.kind == EntryKind::Symlink => {
                let at = dirs[..=i].iter().collect::<PathBuf>();
                return Err(TargetError::Link(
                    at,
                    "is a symbolic link: toolctl does not follow a link to a directory below the log directory".into(),
                ));
            }
            Some(_) => return Err(TargetError::NotFollowable(shown.clone())),
        }
    }
    let parent: PathBuf = dirs.iter().collect();
    let entry = dir.lstat(last).map_err(io_err)?.ok_or_else(missing)?;
    let file = || Target::File {
        dir: real_log.join(&parent),
        name: last.clone(),
    };
    match entry.kind {
        EntryKind::Dir => Ok(resolved(Target::Dir(
            real_log.join(comps.iter().collect::<PathBuf>()),
        ))),
        EntryKind::File => Ok(resolved(file())),
        EntryKind::Special => Err(TargetError::NotFollowable(shown.clone())),
        EntryKind::Symlink => {
            let link = dir.readlink(last).map_err(io_err)?;
            let to = [real_log.as_path(), log_dir]
                .into_iter()
                .find_map(|b| dirfd::resolve_beneath(b, dirs, &link));
            let refuse = |why: &str| {
                Err(TargetError::Link(
                    shown.clone(),
                    format!(
                        "is a link to `{}`, {why}",
                        crate::sys::term::one_line(&link.display().to_string())
                    ),
                ))
            };
            let Some(to) = to else {
                return refuse("outside the log directory");
            };
            let base = DirFd::open_path(&real_log).map_err(io_err)?;
            match base.open_file_beneath(&to) {
                Ok(Some((_, st))) if st.uid == entry.uid => Ok(resolved(file())),
                Ok(Some(_)) => refuse("a file of another owner than the link's"),
                Ok(None) => refuse("which is not a regular file"),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(missing()),
                Err(e) if matches!(e.raw_os_error(), Some(ELOOP | ENOTDIR)) => {
                    refuse("through another link")
                }
                Err(e) => Err(io_err(e)),
            }
        }
    }
}

/// An absolute TARGET outside the log directory: followed as given (links resolved), as
/// the administrator typed it; the links below it obey the same rule, with it as the base.
fn resolve_outside(t: &Path, log_dir: &Path) -> Result<Resolved, TargetError> {
    let meta = match std::fs::metadata(t) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(TargetError::Missing {
                target: t.to_path_buf(),
                log_dir: log_dir.to_path_buf(),
                services: services(log_dir),
            })
        }
        Err(e) => return Err(TargetError::Io(t.to_path_buf(), e)),
    };
    let real = std::fs::canonicalize(t).map_err(|e| TargetError::Io(t.to_path_buf(), e))?;
    if meta.is_dir() {
        Ok(Resolved {
            target: Target::Dir(real.clone()),
            base: real,
            base_given: t.to_path_buf(),
        })
    } else if meta.is_file() {
        match (real.parent(), real.file_name()) {
            (Some(dir), Some(name)) => Ok(Resolved {
                target: Target::File {
                    dir: dir.to_path_buf(),
                    name: name.to_os_string(),
                },
                base: dir.to_path_buf(),
                base_given: t.parent().unwrap_or(dir).to_path_buf(),
            }),
            _ => Err(TargetError::NotFollowable(t.to_path_buf())),
        }
    } else {
        Err(TargetError::NotFollowable(t.to_path_buf()))
    }
}

/// The services that have logs: the subdirectories of the log directory (not links to
/// directories), sorted, with control bytes in their names escaped.
pub fn services(log_dir: &Path) -> Vec<String> {
    let Ok(dir) = DirFd::open_path(log_dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .entries()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, e)| e.kind == EntryKind::Dir)
        .map(|(n, _)| crate::sys::term::escape_controls(n.as_bytes(), false).into_owned())
        .collect();
    out.sort();
    out
}

/// The offset where the last `n` lines of `file` (of `size` bytes) begin, as `tail -n`
/// counts them: a final line without its newline counts as a line.
pub fn last_lines_start(file: &File, size: u64, n: usize) -> io::Result<u64> {
    if n == 0 || size == 0 {
        return Ok(size);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut buf = vec![0u8; BLOCK as usize];
    let mut end = size;
    let mut seen = 0usize;
    let mut first = true;
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        let mut hay: &[u8] = chunk;
        if first {
            first = false;
            // The newline that ends the last line is not a line boundary to count.
            if hay.last() == Some(&b'\n') {
                hay = &hay[..hay.len() - 1];
            }
        }
        for pos in memchr::memrchr_iter(b'\n', hay) {
            seen += 1;
            if seen == n {
                return Ok(start + pos as u64 + 1);
            }
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn skips_by_name_not_by_substring() {
        for skipped in [
            "x.log.1.gz",
            "a.bz2",
            "a.xz",
            "a.zip",
            "a.tgz",
            "a.tbz2",
            "a.txz",
            "a.gzip",
            "@400000006543abcd1234abcd.s",
            "@x.u",
            "config",
            "lock",
            "app.lock",
        ] {
            assert!(is_skipped_name(OsStr::new(skipped)), "{skipped} followed");
        }
        for followed in [
            "current",
            "configuration",
            "blocker.log",
            "config.log",
            "x.log.1",
            "gzip.log",
            "locked",
            "production_json.log",
        ] {
            assert!(!is_skipped_name(OsStr::new(followed)), "{followed} skipped");
        }
    }

    fn start_of(content: &[u8], n: usize) -> u64 {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        last_lines_start(&f, content.len() as u64, n).unwrap()
    }

    #[test]
    fn finds_the_last_lines_as_tail_does() {
        assert_eq!(start_of(b"a\nb\nc\n", 2), 2);
        assert_eq!(start_of(b"a\nb\nc\n", 3), 0);
        assert_eq!(start_of(b"a\nb\nc\n", 10), 0);
        assert_eq!(start_of(b"a\nb\nc\n", 0), 6);
        assert_eq!(start_of(b"a\nb\nc", 1), 4);
        assert_eq!(start_of(b"a\nb\nc", 2), 2);
        assert_eq!(start_of(b"", 5), 0);
        let mut big = vec![b'x'; 200_000];
        big.push(b'\n');
        big.extend_from_slice(b"last\n");
        assert_eq!(start_of(&big, 1), 200_001);
        assert_eq!(start_of(&big, 2), 0);
    }
}
