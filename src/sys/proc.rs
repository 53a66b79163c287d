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

/// Sends the signal `sig` to the process `pid` (a child toolctl started), best effort.
pub fn send_signal(pid: i32, sig: i32) {
    if let (Some(pid), Some(sig)) = (
        rustix::process::Pid::from_raw(pid),
        rustix::process::Signal::from_named_raw(sig),
    ) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// This machine's host name (`uname(2)`'s node name), lossily UTF-8.
pub fn hostname() -> String {
    String::from_utf8_lossy(rustix::system::uname().nodename().to_bytes()).into_owned()
}

/// Sends SIGKILL to every process of the process group `pgid` (a child toolctl started in
/// a group of its own, with whatever it forked), best effort.
pub fn kill_group(pgid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pgid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
