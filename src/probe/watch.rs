//! The round trip's IMAP commands on a session that [`super::imap::login`] opened: watch the
//! mailbox read-only (`EXAMINE`, `UID SEARCH HEADER Message-ID`, `IDLE` where offered,
//! `UID FETCH … FLAGS`), and delete the canary, and only it (`SELECT`, `UID STORE +FLAGS
//! (\Deleted)`, `UID EXPUNGE` with UIDPLUS).
//!
//! Every function returns async-imap's error; the caller words it. Nothing here changes a
//! message but [`delete`], which acts on one UID after checking, in the selected mailbox,
//! that this UID still carries the canary's Message-ID.

use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::extensions::idle::IdleResponse;
use futures::StreamExt;

use super::net::Conn;

pub type Session = async_imap::Session<Conn>;

/// The server's capabilities after login (IDLE, UIDPLUS), upper-cased.
pub async fn capabilities(s: &mut Session) -> Result<Vec<String>, ImapError> {
    let caps = s.capabilities().await?;
    drain(s);
    Ok(caps
        .iter()
        .filter_map(|c| match c {
            async_imap::types::Capability::Atom(a) => Some(a.to_ascii_uppercase()),
            _ => None,
        })
        .collect())
}

/// Unsolicited answers async-imap queues (a bounded channel): dropped, the round trip reads
/// state through its own commands.
fn drain(s: &mut Session) {
    while s.unsolicited_responses.try_recv().is_ok() {}
}

/// `EXAMINE` (read-only): the number of messages.
pub async fn examine(s: &mut Session, mailbox: &str) -> Result<u32, ImapError> {
    let mb = s.examine(mailbox).await?;
    drain(s);
    Ok(mb.exists)
}

/// A Message-ID as an IMAP quoted string (the canary's holds no `"` or `\`; refused if it
/// did).
fn quoted(message_id: &str) -> String {
    let clean: String = message_id
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect();
    format!("\"{clean}\"")
}

/// The UID of the message carrying `message_id` (the lowest, should there be several).
pub async fn find(s: &mut Session, message_id: &str) -> Result<Option<u32>, ImapError> {
    // A NOOP first: a read-only session learns of new mail on its next command.
    s.noop().await?;
    let uids = s
        .uid_search(format!("HEADER Message-ID {}", quoted(message_id)))
        .await?;
    drain(s);
    Ok(uids.into_iter().min())
}

/// The flags of a message that matter to the round trip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub seen: bool,
    pub deleted: bool,
}

/// The flags of `uid`, or `None` when it is gone (expunged).
pub async fn flags(s: &mut Session, uid: u32) -> Result<Option<Flags>, ImapError> {
    use async_imap::types::Flag;
    s.noop().await?;
    let mut found = None;
    {
        let mut stream = s.uid_fetch(uid.to_string(), "FLAGS").await?;
        while let Some(f) = stream.next().await {
            let f = f?;
            if f.uid == Some(uid) {
                let mut got = Flags::default();
                for fl in f.flags() {
                    match fl {
                        Flag::Seen => got.seen = true,
                        Flag::Deleted => got.deleted = true,
                        _ => {}
                    }
                }
                found = Some(got);
            }
        }
    }
    drain(s);
    Ok(found)
}

/// Waits in IDLE for at most `wait` (returns early on any news: a new message, a flag
/// change). The session comes back out of IDLE.
pub async fn idle(s: Session, wait: Duration) -> Result<Session, ImapError> {
    let mut handle = s.idle();
    handle.init().await?;
    let (fut, _stop) = handle.wait_with_timeout(wait);
    match fut.await? {
        IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt => {}
    }
    let mut s = handle.done().await?;
    drain(&mut s);
    Ok(s)
}

/// How the cleanup ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// Flagged `\Deleted` and expunged by `UID EXPUNGE` (UIDPLUS).
    Expunged,
    /// Flagged `\Seen \Deleted` only: without UIDPLUS a plain `EXPUNGE` would remove every
    /// message flagged `\Deleted`, not only the canary.
    FlaggedOnly,
    /// The UID no longer carries the canary (it was removed meanwhile): nothing was done.
    Gone,
}

/// Deletes the canary `uid`, and nothing else: `SELECT`, check that `uid` still carries
/// `message_id`, `UID STORE uid +FLAGS (\Seen \Deleted)`, then `UID EXPUNGE uid` when the
/// server offers UIDPLUS.
pub async fn delete(
    s: &mut Session,
    mailbox: &str,
    uid: u32,
    message_id: &str,
    uidplus: bool,
) -> Result<Cleanup, ImapError> {
    s.select(mailbox).await?;
    drain(s);
    let still = s
        .uid_search(format!(
            "UID {uid} HEADER Message-ID {}",
            quoted(message_id)
        ))
        .await?;
    drain(s);
    if !still.contains(&uid) {
        return Ok(Cleanup::Gone);
    }
    {
        let mut stored = s
            .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen \\Deleted)")
            .await?;
        while let Some(r) = stored.next().await {
            r?;
        }
    }
    drain(s);
    if !uidplus {
        return Ok(Cleanup::FlaggedOnly);
    }
    {
        let gone = s.uid_expunge(uid.to_string()).await?;
        let mut gone = std::pin::pin!(gone);
        while let Some(r) = gone.next().await {
            r?;
        }
    }
    drain(s);
    Ok(Cleanup::Expunged)
}

/// LOGOUT (its failure is of no interest once the round trip is over).
pub async fn logout(s: &mut Session) {
    let _ = s.logout().await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_id_is_quoted_without_what_could_end_the_string() {
        assert_eq!(super::quoted("<a@b>"), "\"<a@b>\"");
        assert_eq!(super::quoted("<a\"b\\c\r\n@d>"), "\"<abc@d>\"");
    }
}
