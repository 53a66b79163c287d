//! Random bytes from the kernel (`getrandom(2)`, through the `getrandom` crate): for IVs,
//! tokens, passwords and unguessable names. Never opens `/dev/urandom` by path, so it works
//! in a chroot without `/dev` and cannot be handed another file.

/// Fills `buf` with random bytes from the kernel.
pub fn fill(buf: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(buf).map_err(|e| match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        super::fill(&mut a).unwrap();
        super::fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
