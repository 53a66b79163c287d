//! The custom email verification's mail and GitLab's verdict on what arrived.
//!
//! GitLab (`ServiceDesk::CustomEmailVerifications::CreateService` and `UpdateService`)
//! sends a mail to the custom address with `+verify`, from the custom address, with a
//! 12-character token, and checks what its Service Desk handler receives: within the
//! timeframe, then the forwarding target, then From, then the token. This module builds
//! that mail and judges received messages; the command sends and watches through the
//! probes' SMTP and IMAP code.

use std::time::{SystemTime, UNIX_EPOCH};

/// GitLab's outcomes (`ServiceDesk::CustomEmailVerification` error names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    SmtpHostIssue,
    InvalidCredentials,
    MailNotReceivedWithinTimeframe,
    IncorrectForwardingTarget,
    IncorrectFrom,
    IncorrectToken,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::SmtpHostIssue => "smtp_host_issue",
            Outcome::InvalidCredentials => "invalid_credentials",
            Outcome::MailNotReceivedWithinTimeframe => "mail_not_received_within_timeframe",
            Outcome::IncorrectForwardingTarget => "incorrect_forwarding_target",
            Outcome::IncorrectFrom => "incorrect_from",
            Outcome::IncorrectToken => "incorrect_token",
        }
    }

    /// The fix, from GitLab's troubleshooting documentation.
    pub fn hint(self) -> &'static str {
        match self {
            Outcome::Ok => "",
            Outcome::SmtpHostIssue => "check the SMTP host and port (587 with STARTTLS, 465 with implicit TLS) are reachable from this host, and its certificate (`--ca-file` for a private CA)",
            Outcome::InvalidCredentials => "check the SMTP user name and password (`toolctl custom-email secret edit`; ideally an app password); if they are right, try another method with `--smtp-authentication plain|login|cram_md5` (swaks shows the offered ones on its `250-AUTH` line)",
            Outcome::MailNotReceivedWithinTimeframe => "set up forwarding from the custom address to the Service Desk address, check that the provider supports subaddressing (mail to support+1@example.com must arrive) and keeps `+verify`, and allow more time with `--within`",
            Outcome::IncorrectForwardingTarget => "forward all mail of the custom address to the project's Service Desk address (`toolctl service-desk-email address`), exactly as shown there",
            Outcome::IncorrectFrom => "the forwarding must keep the original From header; Microsoft Exchange rewrites it within one tenant: forward with a transport rule to an address outside the tenant, or use another provider or domain for incoming_email/service_desk_email",
            Outcome::IncorrectToken => "the mail that arrived carries another verification token (an older run, or a changed body): run the verification again and make sure nothing rewrites the message body",
        }
    }
}

/// The token alphabet GitLab's `SecureRandom.alphanumeric(12)` draws from.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh 12-character token (`[A-Za-z0-9]`), from the kernel's random source.
pub fn token() -> std::io::Result<String> {
    let mut out = String::new();
    while out.len() < 12 {
        let mut b = [0u8; 16];
        crate::sys::rand::fill(&mut b)?;
        // Rejection sampling: 248 = 4 × 62 keeps every letter equally likely.
        out.extend(
            b.iter()
                .filter(|x| **x < 248)
                .map(|x| ALPHABET[(*x as usize) % 62] as char),
        );
    }
    out.truncate(12);
    Ok(out)
}

/// The subject GitLab sends and looks for.
pub fn subject(address: &str, project: &str) -> String {
    format!("Verify custom email address {address} for {project}")
}

/// Why the verification mail could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("`{0}` is not an address a mail can be sent from")]
    Address(String),
    #[error("cannot build the verification mail: {0}")]
    Build(String),
}

/// The verification mail, as RFC 5322 text with CRLF line ends, built by lettre (its
/// `Date` is the current time; `host` names the Message-ID's domain).
pub fn message(
    address: &str,
    project: &str,
    token: &str,
    host: &str,
) -> Result<Vec<u8>, MessageError> {
    use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
    use lettre::message::{Body, SinglePart};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let id = format!(
        "<toolctl-verify-{}-{}-{token}@{host}>",
        now.as_secs(),
        std::process::id()
    );
    let to = super::address::verify_address(address);
    let mailbox = |a: &str| {
        a.parse::<lettre::message::Mailbox>()
            .map_err(|_| MessageError::Address(a.to_string()))
    };
    // Lines short enough for 7bit, so the text arrives as written; a very long address or
    // project path makes lettre choose an encoding instead.
    let text = format!(
        "This email was sent by `toolctl service-desk-email verify-custom-email`\nto verify the custom email address {address}\nfor the Service Desk of {project}.\n\nVerification token: {token}\n"
    );
    let body =
        Body::new_with_encoding(text, ContentTransferEncoding::SevenBit).unwrap_or_else(Body::new);
    let subject = subject(address, project);
    let builder = lettre::Message::builder()
        .from(mailbox(address)?)
        .to(mailbox(&to)?);
    // GitLab looks for the subject as it sends it: on one line (lettre would fold a long
    // one; an ASCII subject needs no encoding, so it is written as it is).
    let builder = if subject.is_ascii() {
        builder.raw_header(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("Subject"),
            subject.clone(),
            subject,
        ))
    } else {
        builder.subject(subject)
    };
    let message = builder
        .date_now()
        .message_id(Some(id))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "no".into(),
        ))
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| MessageError::Build(e.to_string()))?;
    Ok(message.formatted())
}

/// A received message's headers, unfolded, names lowercased, in order.
pub fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = match text.find("\r\n\r\n").or_else(|| text.find("\n\n")) {
        Some(i) => &text[..i],
        None => &text[..],
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

/// The body after the headers.
fn body(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match text.find("\r\n\r\n") {
        Some(i) => text[i + 4..].to_string(),
        None => text
            .find("\n\n")
            .map(|i| text[i + 2..].to_string())
            .unwrap_or_default(),
    }
}

/// Every address in a header value (`Name <a@b>, c@d`), lowercased.
pub fn addresses(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|part| {
            let part = part.trim();
            let a = match (part.rfind('<'), part.rfind('>')) {
                (Some(i), Some(j)) if i < j => &part[i + 1..j],
                _ => part,
            };
            let a = a.trim().trim_matches('"');
            a.contains('@').then(|| a.to_ascii_lowercase())
        })
        .collect()
}

/// What the verification expects of a received message.
pub struct Expected<'a> {
    pub address: &'a str,
    pub project: &'a str,
    pub token: &'a str,
    /// The Service Desk address the custom address must forward to.
    pub target: &'a str,
    /// The service_desk_email alias addresses of the project (the common wrong target).
    pub alias_targets: &'a [String],
}

/// GitLab's reading of one received message.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// Not the verification mail (another subject).
    Unrelated,
    /// The subject, but the `+verify` subaddress was dropped on the way.
    WithoutVerify,
    /// The verification mail and GitLab's verdict, with what was found.
    Judged {
        outcome: Outcome,
        detail: String,
        /// The forwarding target arrived at the service_desk_email alias.
        via_alias: bool,
    },
}

/// Judges one message as GitLab would: forwarding target, then From, then token.
pub fn judge(raw: &[u8], e: &Expected<'_>) -> Reading {
    let h = headers(raw);
    let first = |name: &str| h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let want_subject = subject(e.address, e.project);
    if first("subject").map(str::trim) != Some(want_subject.as_str()) {
        return Reading::Unrelated;
    }
    let verify = super::address::verify_address(e.address).to_ascii_lowercase();
    let to: Vec<String> = h
        .iter()
        .filter(|(n, _)| n == "to")
        .flat_map(|(_, v)| addresses(v))
        .collect();
    if !to.contains(&verify) {
        return Reading::WithoutVerify;
    }
    let target = first("delivered-to")
        .or_else(|| first("x-original-to"))
        .and_then(|v| addresses(v).into_iter().next());
    let want_target = e.target.to_ascii_lowercase();
    match &target {
        Some(t) if *t == want_target => {}
        other => {
            let via_alias = other
                .as_ref()
                .is_some_and(|t| e.alias_targets.iter().any(|a| a.eq_ignore_ascii_case(t)));
            return Reading::Judged {
                outcome: Outcome::IncorrectForwardingTarget,
                detail: match other {
                    Some(t) if via_alias => format!("the mail reached {t}, the project's service_desk_email alias, not its Service Desk address {}: GitLab does not accept the verification through the alias", e.target),
                    Some(t) => format!("the mail reached {t}, not the project's Service Desk address {}", e.target),
                    None => format!("the mail carries no Delivered-To or X-Original-To, so its forwarding target is unknown (expected {})", e.target),
                },
                via_alias,
            };
        }
    }
    let from = first("from").and_then(|v| addresses(v).into_iter().next());
    if from.as_deref() != Some(e.address.to_ascii_lowercase().as_str()) {
        return Reading::Judged {
            outcome: Outcome::IncorrectFrom,
            detail: format!(
                "the first From is {}, not the custom address {}: the forwarding rewrote it",
                from.as_deref().unwrap_or("missing"),
                e.address
            ),
            via_alias: false,
        };
    }
    let text = body(raw);
    let found = text.lines().find_map(|l| {
        let rest = l.trim_end().split_once("Verification token: ")?.1;
        let t: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        (t.chars().count() == 12).then_some(t)
    });
    if found.as_deref() != Some(e.token) {
        return Reading::Judged {
            outcome: Outcome::IncorrectToken,
            detail: match found {
                Some(_) => "the mail carries another verification token than the one sent".into(),
                None => "the mail carries no `Verification token:` line".into(),
            },
            via_alias: false,
        };
    }
    Reading::Judged {
        outcome: Outcome::Ok,
        detail: format!(
            "the verification mail reached {} with From and token kept",
            e.target
        ),
        via_alias: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected<'a>(token: &'a str, aliases: &'a [String]) -> Expected<'a> {
        Expected {
            address: "support@example.com",
            project: "grp/prj",
            token,
            target: "incoming+grp-prj-1-issue-@gitlab.example.com",
            alias_targets: aliases,
        }
    }

    fn delivered(raw: &[u8], to: &str) -> Vec<u8> {
        let mut v = format!("Delivered-To: {to}\r\n").into_bytes();
        v.extend_from_slice(raw);
        v
    }

    #[test]
    fn token_shape() {
        let t = token().unwrap();
        assert_eq!(t.len(), 12);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t, token().unwrap());
    }

    #[test]
    fn message_and_verdicts() {
        let m = message("support@example.com", "grp/prj", "abcDEF123456", "h").unwrap();
        let text = String::from_utf8_lossy(&m).into_owned();
        assert!(text.contains("To: support+verify@example.com\r\n"));
        assert!(text.contains("Auto-Submitted: no\r\n"));
        assert!(text.contains("\r\nVerification token: abcDEF123456\r\n"));
        let aliases = vec!["contact+grp-prj-1-issue-@gitlab.example.com".to_string()];
        let e = expected("abcDEF123456", &aliases);
        let ok = delivered(&m, "incoming+grp-prj-1-issue-@gitlab.example.com");
        assert!(matches!(
            judge(&ok, &e),
            Reading::Judged {
                outcome: Outcome::Ok,
                ..
            }
        ));
        let alias = delivered(&m, &aliases[0]);
        assert!(matches!(
            judge(&alias, &e),
            Reading::Judged {
                outcome: Outcome::IncorrectForwardingTarget,
                via_alias: true,
                ..
            }
        ));
        let other = expected("zzzzzzzzzzzz", &aliases);
        assert!(matches!(
            judge(&ok, &other),
            Reading::Judged {
                outcome: Outcome::IncorrectToken,
                ..
            }
        ));
        let rewritten =
            String::from_utf8_lossy(&ok).replace("From: support@", "From: Someone <else@");
        assert!(matches!(
            judge(rewritten.as_bytes(), &e),
            Reading::Judged {
                outcome: Outcome::IncorrectFrom,
                ..
            }
        ));
        let dropped = String::from_utf8_lossy(&ok).replace("support+verify@", "support@");
        assert_eq!(judge(dropped.as_bytes(), &e), Reading::WithoutVerify);
        assert_eq!(judge(b"Subject: hi\r\n\r\nx", &e), Reading::Unrelated);
    }

    #[test]
    fn the_mail_carries_a_date_and_the_headers_gitlab_reads() {
        let m = message("support@example.com", "grp/prj", "abcDEF123456", "h").unwrap();
        let h = headers(&m);
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let date = get("date").expect("a Date header");
        assert!(date.ends_with(" +0000") && date.contains(", "), "{date}");
        assert_eq!(get("from").as_deref(), Some("support@example.com"));
        assert_eq!(
            get("subject").as_deref(),
            Some("Verify custom email address support@example.com for grp/prj")
        );
        assert!(get("message-id").unwrap().ends_with("@h>"));
    }
}
