//! Service Desk chores: the addresses a project receives mail on ([`address`]), the email
//! templates' lint and preview ([`templates`]), and the custom email verification's mail
//! and verdict ([`verify`]).
//!
//! These modules hold GitLab's rules only; no I/O. `app::servicedesk` reads the
//! settings, files and secrets, and sends and watches through the probes' SMTP and IMAP
//! code, so there is one TLS and one trust decision for each protocol.

pub mod address;
pub mod templates;
pub mod verify;
