//! Process hardening while plaintext or key material is in memory.

/// Makes this process undumpable and sets its core size limit to 0, so that a crash or a
/// `gcore` by the same uid cannot write the plaintext or the key to disk, and a non-root
/// process of the same uid cannot `ptrace` it. Called once by every command that decrypts;
/// best effort (a kernel that refuses leaves the defaults, which is no worse than before).
pub fn harden() {
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}
