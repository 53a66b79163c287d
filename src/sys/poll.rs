//! `poll(2)` over raw descriptors, safely: polling a number that is not an open descriptor
//! reports `POLLNVAL` for it, never touches memory, so any `RawFd` may be passed.

use std::io;
use std::os::fd::RawFd;

/// What `poll` reported for one descriptor.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ready(i16);

impl Ready {
    /// Anything at all happened.
    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// An error or a hang-up (a pipe whose reader left).
    pub fn error_or_hangup(self) -> bool {
        self.0 & (libc::POLLERR | libc::POLLHUP) != 0
    }
}

/// Waits until one of `fds` (a descriptor, and whether input is awaited on it; a negative
/// descriptor is skipped) is ready, or `timeout_ms` passed (-1: no timeout). A signal ends
/// the wait with `ErrorKind::Interrupted`.
pub fn poll<const N: usize>(fds: [(RawFd, bool); N], timeout_ms: i32) -> io::Result<[Ready; N]> {
    let mut raw = fds.map(|(fd, input)| libc::pollfd {
        fd,
        events: if input { libc::POLLIN } else { 0 },
        revents: 0,
    });
    // SAFETY: `raw` is a valid array of pollfd for its whole length.
    let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(raw.map(|p| Ready(p.revents)))
}
