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
    #[error("cannot read `{}`", .0.display())]
    Io(PathBuf, #[source] io::Error),
}

/// Resolves `target` (absolute, or relative to `log_dir`) with symlinks followed, including
/// a log directory that is itself a symlink.
pub fn resolve(log_dir: &Path, target: Option<&Path>) -> Result<Target, TargetError> {
    let path = match target {
        None => log_dir.to_path_buf(),
        Some(t) if t.is_absolute() => t.to_path_buf(),
        Some(t) => log_dir.join(t),
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(match target {
                None => TargetError::NoLogDir(log_dir.to_path_buf()),
                Some(t) if !t.is_absolute() && !log_dir.is_dir() => {
                    TargetError::NoLogDir(log_dir.to_path_buf())
                }
                Some(t) => TargetError::Missing {
                    target: t.to_path_buf(),
                    log_dir: log_dir.to_path_buf(),
                    services: services(log_dir),
                },
            })
        }
        Err(e) => return Err(TargetError::Io(path, e)),
    };
    let real = std::fs::canonicalize(&path).map_err(|e| TargetError::Io(path.clone(), e))?;
    if meta.is_dir() {
        Ok(Target::Dir(real))
    } else if meta.is_file() {
        match (real.parent(), real.file_name()) {
            (Some(dir), Some(name)) => Ok(Target::File {
                dir: dir.to_path_buf(),
                name: name.to_os_string(),
            }),
            _ => Err(TargetError::NotFollowable(path)),
        }
    } else {
        Err(TargetError::NotFollowable(path))
    }
}

/// The services that have logs: the subdirectories of the log directory, sorted.
pub fn services(log_dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(log_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
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
