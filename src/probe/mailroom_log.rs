//! mail_room's JSON log, as the round trip reads it: one JSON object a line, each with
//! `severity`, `time`, `context: {email, name}` and an `action`. The round trip looks for
//! `sending to deliverer` with the canary's `uid` in its mailbox, then the next `message
//! pushed` line of the mailbox's delivery method (the postback's line names neither the UID
//! nor the mailbox: it is the next one whose `url` ends in the mailbox's type).
//!
//! [`Tail`] reads only what was appended after the round trip began, through a descriptor the
//! caller opened (the caller owns the path and its trust); nothing of the log is ever shown
//! but the numbers and names parsed out of it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use serde_json::Value;

/// At most this much of the log is read per poll (a log growing faster than this is read
/// over several polls).
const READ_CAP: u64 = 4 << 20;
/// A line longer than this is skipped: mail_room's lines are a few hundred bytes.
const LINE_CAP: usize = 64 << 10;

/// Opens the log: `Ok(None)` when it does not exist (yet).
pub type Opener = Box<dyn Fn() -> std::io::Result<Option<File>>>;

/// The lines appended to the log since the round trip began.
pub struct Tail {
    open: Opener,
    file: Option<File>,
    offset: u64,
    partial: Vec<u8>,
    /// The log as the settings name it (for rows and hints).
    pub shown: String,
}

impl Tail {
    /// Starts at the log's current end (a log that does not exist yet is read from its
    /// start once it appears).
    pub fn new(open: Opener, shown: String) -> std::io::Result<Tail> {
        let file = open()?;
        let offset = match &file {
            Some(f) => f.metadata()?.len(),
            None => 0,
        };
        Ok(Tail {
            open,
            file,
            offset,
            partial: Vec::new(),
            shown,
        })
    }

    /// The complete lines appended since the last call. A log truncated or replaced
    /// (rotation) is read again from its start.
    pub fn lines(&mut self) -> std::io::Result<Vec<String>> {
        if self.file.is_none() {
            self.file = (self.open)()?;
            self.offset = 0;
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let len = f.metadata()?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        f.take(READ_CAP).read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let mut out = Vec::new();
        while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            if line.len() <= LINE_CAP {
                out.push(String::from_utf8_lossy(&line).trim_end().to_string());
            }
        }
        if self.partial.len() > LINE_CAP {
            self.partial.clear();
        }
        Ok(out)
    }
}

/// One line of mail_room's log, as far as the round trip needs it.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// `sending to deliverer`: the UID, and the mailbox's `context` (email, name).
    Sending {
        uid: u64,
        email: String,
        name: String,
    },
    /// `message pushed`: the delivery method (`Postback`, `Sidekiq`), the postback's URL and
    /// HTTP status.
    Pushed {
        method: String,
        url: String,
        status: Option<u16>,
    },
    Other,
}

/// Reads one line (anything that is not mail_room's JSON is [`Line::Other`]).
pub fn parse(line: &str) -> Line {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return Line::Other;
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let number = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match v.get("action").and_then(Value::as_str) {
        Some("sending to deliverer") => match number(v.get("uid")) {
            Some(uid) => Line::Sending {
                uid,
                email: text(v.pointer("/context/email")),
                name: text(v.pointer("/context/name")),
            },
            None => Line::Other,
        },
        Some("message pushed") => Line::Pushed {
            method: text(v.get("delivery_method")),
            url: text(v.get("url")),
            status: number(v.get("status_code")).and_then(|n| u16::try_from(n).ok()),
        },
        _ => Line::Other,
    }
}

/// What the round trip waits for in the log, and what it found.
pub struct Watch {
    pub uid: u64,
    /// The mailbox's user (mail_room's `context.email`) and folder (`context.name`).
    pub email: String,
    pub name: String,
    /// `incoming_email` or `service_desk_email`: the end of the postback's URL.
    pub kind: &'static str,
    /// The mailbox delivers through Sidekiq (its own `message pushed` line).
    pub sidekiq: bool,
    /// `sending to deliverer` for the canary's UID was seen.
    pub sending: bool,
    /// The push that followed it: `Some(status)` (`None` inside: Sidekiq, no status).
    pub pushed: Option<Option<u16>>,
}

impl Watch {
    pub fn new(uid: u64, email: &str, name: &str, kind: &'static str, sidekiq: bool) -> Watch {
        Watch {
            uid,
            email: email.to_string(),
            name: name.to_string(),
            kind,
            sidekiq,
            sending: false,
            pushed: None,
        }
    }

    /// Takes the lines in order.
    pub fn feed(&mut self, lines: &[String]) {
        for l in lines {
            if self.pushed.is_some() {
                return;
            }
            match parse(l) {
                Line::Sending { uid, email, name } if !self.sending => {
                    let same_box = name.eq_ignore_ascii_case(&self.name)
                        && (email.is_empty() || email.eq_ignore_ascii_case(&self.email));
                    if uid == self.uid && same_box {
                        self.sending = true;
                    }
                }
                Line::Pushed {
                    method,
                    url,
                    status,
                } if self.sending => {
                    if self.sidekiq && method.eq_ignore_ascii_case("sidekiq") {
                        self.pushed = Some(None);
                    } else if !self.sidekiq
                        && method.eq_ignore_ascii_case("postback")
                        && url
                            .trim_end_matches('/')
                            .ends_with(&format!("/{}", self.kind))
                    {
                        self.pushed = Some(status);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDING: &str = r#"{"severity":"INFO","time":"2026-01-02T03:04:05.678+00:00","context":{"email":"incoming@example.com","name":"inbox"},"action":"sending to deliverer","uid":42,"byte_size":1234}"#;

    fn pushed(url: &str, code: u16) -> String {
        format!(
            r#"{{"severity":"INFO","time":"2026-01-02T03:04:05.900+00:00","delivery_method":"Postback","action":"message pushed","url":"{url}","status_code":{code}}}"#
        )
    }

    #[test]
    fn lines_are_read_as_mail_room_writes_them() {
        assert_eq!(
            parse(SENDING),
            Line::Sending {
                uid: 42,
                email: "incoming@example.com".into(),
                name: "inbox".into()
            }
        );
        assert_eq!(
            parse(&pushed(
                "https://g/api/v4/internal/mail_room/incoming_email",
                401
            )),
            Line::Pushed {
                method: "Postback".into(),
                url: "https://g/api/v4/internal/mail_room/incoming_email".into(),
                status: Some(401)
            }
        );
        assert_eq!(parse("not json"), Line::Other);
        assert_eq!(parse(r#"{"action":"Idling"}"#), Line::Other);
    }

    #[test]
    fn the_push_counted_is_the_next_of_this_mailbox_type_after_the_uid() {
        let other_uid = SENDING.replace("\"uid\":42", "\"uid\":41");
        let other_box = SENDING.replace("\"name\":\"inbox\"", "\"name\":\"Service Desk\"");
        let lines: Vec<String> = vec![
            pushed("https://g/api/v4/internal/mail_room/incoming_email", 500),
            other_uid,
            other_box,
            pushed("https://g/api/v4/internal/mail_room/incoming_email", 502),
            SENDING.to_string(),
            pushed(
                "https://g/api/v4/internal/mail_room/service_desk_email",
                500,
            ),
            pushed("https://g/api/v4/internal/mail_room/incoming_email", 200),
            pushed("https://g/api/v4/internal/mail_room/incoming_email", 401),
        ];
        let mut w = Watch::new(42, "incoming@example.com", "INBOX", "incoming_email", false);
        w.feed(&lines[..4]);
        assert!(!w.sending);
        w.feed(&lines[4..]);
        assert!(w.sending);
        assert_eq!(w.pushed, Some(Some(200)));

        let mut s = Watch::new(42, "incoming@example.com", "inbox", "incoming_email", true);
        s.feed(&[
            SENDING.to_string(),
            r#"{"delivery_method":"Sidekiq","action":"message pushed"}"#.to_string(),
        ]);
        assert_eq!(s.pushed, Some(None));
    }

    #[test]
    fn the_tail_reads_only_what_was_appended_in_whole_lines() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "old line\n").unwrap();
        let p = path.clone();
        let mut t = Tail::new(
            Box::new(move || match File::open(&p) {
                Ok(f) => Ok(Some(f)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }),
            "log".into(),
        )
        .unwrap();
        assert!(t.lines().unwrap().is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"one\ntw").unwrap();
        assert_eq!(t.lines().unwrap(), ["one"]);
        f.write_all(b"o\n").unwrap();
        assert_eq!(t.lines().unwrap(), ["two"]);
        // Rotated by copytruncate: read again from the start.
        std::fs::write(&path, "new\n").unwrap();
        assert_eq!(t.lines().unwrap(), ["new"]);
    }
}
