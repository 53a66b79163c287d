//! Ctrl+C, SIGTERM and SIGHUP for the follower: a flag to check, and a self-pipe to wake
//! the blocking `poll(2)`.
//!
//! Owns the signal handlers `tail` installs (through signal-hook, which keeps them
//! async-signal-safe) and nothing else: the follower decides what stopping means. A
//! handler only stores the signal number and writes one byte to a non-blocking socket,
//! so a follower asleep in `poll` wakes at once, and one busy reading sees the flag on its
//! next turn.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The stop signals, once installed.
pub struct Signals {
    caught: Arc<AtomicUsize>,
    wake: UnixStream,
}

impl Signals {
    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> io::Result<Signals> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        let caught = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // The flag first, so the woken follower sees it.
            signal_hook::flag::register_usize(sig, Arc::clone(&caught), sig as usize)?;
            signal_hook::low_level::pipe::register(sig, notify.try_clone()?)?;
        }
        Ok(Signals { caught, wake })
    }

    /// The signal caught, if any.
    pub fn caught(&self) -> Option<i32> {
        match self.caught.load(Ordering::Relaxed) {
            0 => None,
            sig => Some(sig as i32),
        }
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }

    /// Empties the self-pipe after a wake-up.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.wake).read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
}
