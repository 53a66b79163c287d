//! Deferring SIGINT, SIGTERM and SIGHUP while a command must clean up after itself (a
//! scratch database, a throwaway role): the signal only sets a flag, the command notices
//! it at its next step, undoes what it made, and exits 130. A caught (not ignored) signal
//! is reset to its default action in every child at `exec`, so the child programs still
//! stop on Ctrl+C as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static CAUGHT: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Starts deferring the terminating signals for the rest of the process (idempotent).
pub fn defer_terminating() -> std::io::Result<()> {
    if CAUGHT.get().is_some() {
        return Ok(());
    }
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    let _ = CAUGHT.set(flag);
    Ok(())
}

/// Whether a terminating signal arrived since [`defer_terminating`].
pub fn interrupted() -> bool {
    CAUGHT.get().is_some_and(|f| f.load(Ordering::SeqCst))
}

/// Whether [`defer_terminating`] is in force: the command stops its children itself.
pub fn deferring() -> bool {
    CAUGHT.get().is_some()
}
