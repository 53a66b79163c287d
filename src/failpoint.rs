//! Crash-test hooks: named points where a debug build can be told to die.
//!
//! Owns the one mechanism the crash tests use to stop toolctl "at every step". A step is
//! marked with [`hit`]`("name")`. In a debug build (the one `cargo test` runs):
//!
//! - `TOOLCTL_FAILPOINT=name` makes the process SIGKILL itself when it reaches `name`
//!   (`name:N` at the N-th time it reaches it, counting from 1), so nothing is flushed,
//!   no destructor runs, no lock is released by hand: exactly what a power cut or
//!   `kill -9` leaves behind;
//! - `TOOLCTL_FAILPOINT_LOG=FILE` appends every point reached, one `name` a line, so a
//!   test can list the steps of a run and then kill it at each in turn.
//! - `TOOLCTL_FAILPOINT_PAUSE=name` sleeps 300 ms at `name`, to make a rare race certain;
//!   with `TOOLCTL_FAILPOINT_RESUME=FILE` it waits instead until FILE exists (at most 60 s),
//!   so a test can hold the window open until its attacker has acted.
//! - `TOOLCTL_FAILPOINT_ERRNO=name:ERRNO[,name:ERRNO…]` (`EBUSY`, `ENOSPC`, `EPERM`,
//!   `EXDEV`, `EIO` or a number) makes the filesystem call marked with [`fail`]`("name")` fail with that errno
//!   instead of running, every time it is reached, as a kernel would refuse it.
//!
//! A release build compiles every hook to nothing and never reads these variables.

/// Marks the step `name`.
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    debug::hit(name);
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Marks the filesystem call `name` (a step too, as [`hit`]): in a debug build,
/// `TOOLCTL_FAILPOINT_ERRNO=name:ERRNO` makes it fail with that errno before it runs.
#[inline]
pub fn fail(name: &str) -> std::io::Result<()> {
    hit(name);
    #[cfg(debug_assertions)]
    if let Some(errno) = debug::errno(name) {
        return Err(std::io::Error::from_raw_os_error(errno));
    }
    Ok(())
}

#[cfg(debug_assertions)]
mod debug {
    /// The errno `TOOLCTL_FAILPOINT_ERRNO` injects at `name`.
    pub fn errno(name: &str) -> Option<i32> {
        let want = std::env::var("TOOLCTL_FAILPOINT_ERRNO").ok()?;
        let e = want.split(',').find_map(|w| {
            w.rsplit_once(':')
                .filter(|(n, _)| *n == name)
                .map(|(_, e)| e)
        })?;
        Some(match e {
            "EPERM" => 1,
            "EIO" => 5,
            "EBUSY" => 16,
            "EXDEV" => 18,
            "ENOSPC" => 28,
            other => other.parse().ok()?,
        })
    }

    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::Mutex;

    static COUNTS: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);

    pub fn hit(name: &str) {
        if let Some(log) = std::env::var_os("TOOLCTL_FAILPOINT_LOG") {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = writeln!(f, "{name}");
            }
        }
        if std::env::var("TOOLCTL_FAILPOINT_PAUSE").as_deref() == Ok(name) {
            match std::env::var_os("TOOLCTL_FAILPOINT_RESUME") {
                Some(file) => {
                    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
                    while !std::path::Path::new(&file).exists() && std::time::Instant::now() < until
                    {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                }
                None => std::thread::sleep(std::time::Duration::from_millis(300)),
            }
        }
        let Ok(want) = std::env::var("TOOLCTL_FAILPOINT") else {
            return;
        };
        let (want_name, nth) = match want.rsplit_once(':') {
            Some((n, k)) if k.parse::<u32>().is_ok() => (n, k.parse().unwrap_or(1)),
            _ => (want.as_str(), 1),
        };
        if want_name != name {
            return;
        }
        let count = {
            let mut guard = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
            let map = guard.get_or_insert_with(HashMap::new);
            let c = map.entry(name.to_string()).or_insert(0);
            *c += 1;
            *c
        };
        if count == nth {
            // A signal that cannot be caught (rustix: no libc, no unsafe here).
            let _ = rustix::process::kill_process(
                rustix::process::getpid(),
                rustix::process::Signal::KILL,
            );
        }
    }
}
