//! The addresses a project receives Service Desk mail on, and the custom email address rule.
//!
//! Every rule here is GitLab's, read from its source (`Gitlab::Utils.slugify`,
//! `ServiceDeskSetting`, `ServiceDesk::CustomEmailCredential`): the project key is
//! `<slug>-<project_id>-issue-`, a custom suffix makes it `<slug>-<suffix>` on the
//! `service_desk_email` alias only, and `%{key}` in the configured address is replaced by
//! the key. Nothing here reads files or talks to the network.

use std::sync::OnceLock;

use regex::Regex;

/// The placeholder the configured addresses must hold.
pub const KEY_PLACEHOLDER: &str = "%{key}";
/// GitLab's longest suffix (`ServiceDeskSetting` validates `length: { maximum: 255 }`).
pub const SUFFIX_MAX: usize = 255;
/// GitLab cuts the slug to a DNS label's length.
pub const SLUG_MAX: usize = 63;

/// `Gitlab::Utils.slugify`: downcased, every character outside `[a-z0-9]` replaced by `-`,
/// cut to 63 characters, leading and trailing `-` trimmed. Runs are not collapsed.
pub fn slug(full_path: &str) -> String {
    let replaced: String = full_path
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .take(SLUG_MAX)
        .collect();
    replaced.trim_matches('-').to_string()
}

/// The default project key: `<slug>-<project_id>-issue-`.
pub fn default_key(full_path: &str, project_id: u64) -> String {
    format!("{}-{project_id}-issue-", slug(full_path))
}

/// The key with a custom suffix: `<slug>-<suffix>`.
pub fn suffix_key(full_path: &str, suffix: &str) -> String {
    format!("{}-{suffix}", slug(full_path))
}

/// Why a suffix is refused, or `None` when GitLab accepts it (`^[a-z0-9_]+$`, at most 255).
pub fn suffix_problem(suffix: &str) -> Option<String> {
    if suffix.is_empty() {
        return Some("the suffix is empty".into());
    }
    if suffix.chars().count() > SUFFIX_MAX {
        return Some(format!(
            "the suffix is {} characters long; GitLab allows at most {SUFFIX_MAX}",
            suffix.chars().count()
        ));
    }
    if let Some(bad) = suffix
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Some(format!(
            "the suffix holds {bad:?}; GitLab allows only lowercase letters (a-z), digits (0-9) and underscores (_)"
        ));
    }
    None
}

/// `address` with `%{key}` replaced, or `None` when it has no `%{key}`.
pub fn with_key(address: &str, key: &str) -> Option<String> {
    address
        .contains(KEY_PLACEHOLDER)
        .then(|| address.replacen(KEY_PLACEHOLDER, key, 1))
}

/// GitLab's custom email rule (`ServiceDeskSetting::CUSTOM_EMAIL_VALIDATION_REGEX`):
/// `\A(?>[a-zA-Z0-9]+|[\-._]+){1,255}@[\w\-.]{1,255}\.{1}[a-zA-Z]{2,63}\z` in Ruby.
///
/// Rust's `regex` has no atomic groups: `(?:…)` matches the same local parts, because no
/// character in either class is `@`, so every run ends where the atomic group would have
/// ended it and the non-atomic form can only split runs further (never needing more than
/// the maximal-run count the atomic form needs). Ruby's `\w` is ASCII, Rust's is Unicode:
/// hence `(?-u:…)`. No `+` is allowed anywhere: the `+verify` subaddress is GitLab's.
pub fn custom_email_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::RegexBuilder::new(
            r"\A(?:[a-zA-Z0-9]+|[\-._]+){1,255}@(?-u:[\w\-.]){1,255}\.[a-zA-Z]{2,63}\z",
        )
        .size_limit(64 << 20)
        .build()
        .expect("the custom email regex compiles")
    })
}

/// Whether GitLab accepts `address` as a custom email address: its regex, and
/// `validates :custom_email, length: { maximum: 255 }`.
pub fn valid_custom_email(address: &str) -> bool {
    address.chars().count() <= 255 && custom_email_regex().is_match(address)
}

/// The address with `+verify` before the `@` (GitLab's `verification_email_address`).
pub fn verify_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+verify@{domain}"),
        None => format!("{address}+verify"),
    }
}

/// One address a project receives Service Desk mail on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectAddress {
    /// `incoming_email` or `service_desk_email`.
    pub source: &'static str,
    pub key: String,
    pub address: String,
}

/// The settings the addresses come from.
pub struct Configured<'a> {
    pub incoming_email: Option<&'a str>,
    /// `Some` only when `service_desk_email.enabled`.
    pub service_desk_email: Option<&'a str>,
}

/// Why the addresses cannot be worked out: the message and its hint.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub hint: String,
}

fn refused(message: impl Into<String>, hint: impl Into<String>) -> Refused {
    Refused {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Every address of the project, `incoming_email` first.
pub fn project_addresses(
    c: &Configured<'_>,
    full_path: &str,
    project_id: u64,
    suffix: Option<&str>,
) -> Result<Vec<ProjectAddress>, Refused> {
    if let Some(s) = suffix {
        if let Some(why) = suffix_problem(s) {
            return Err(refused(
                format!("`--suffix {s}` is refused: {why}"),
                "use lowercase letters, digits and underscores only, e.g. `--suffix support`",
            ));
        }
    }
    if slug(full_path).is_empty() {
        return Err(refused(
            format!("`--project {full_path}` has no letters or digits to make a key from"),
            "give the project's full path, e.g. `--project mygroup/myproject`",
        ));
    }
    let default = default_key(full_path, project_id);
    let mut out = Vec::new();
    match c.incoming_email {
        Some(a) => out.push(ProjectAddress {
            source: "incoming_email",
            address: with_key(a, &default).ok_or_else(|| no_key("incoming_email", a))?,
            key: default.clone(),
        }),
        None => {
            return Err(refused(
                "`incoming_email.address` is not set: Service Desk receives mail through it",
                "set it, e.g. `toolctl config set incoming_email.address 'incoming+%{key}@gitlab.example.com'`",
            ))
        }
    }
    match (c.service_desk_email, suffix) {
        (Some(a), s) => {
            let key = match s {
                Some(s) => suffix_key(full_path, s),
                None => default,
            };
            out.push(ProjectAddress {
                source: "service_desk_email",
                address: with_key(a, &key).ok_or_else(|| no_key("service_desk_email", a))?,
                key,
            });
        }
        (None, Some(s)) => {
            return Err(refused(
                format!("`--suffix {s}` applies only to the service_desk_email alias, and `service_desk_email.enabled` is false"),
                "enable the alias (`toolctl config set service_desk_email.enabled true` and its `address` with `+%{key}`), or leave out --suffix",
            ))
        }
        (None, None) => {}
    }
    Ok(out)
}

fn no_key(table: &str, address: &str) -> Refused {
    refused(
        format!("`{table}.address` ({address}) has no `%{{key}}`: no project can be told apart"),
        format!("put `+%{{key}}` before the `@`, e.g. `toolctl config set {table}.address 'incoming+%{{key}}@gitlab.example.com'`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_follows_gitlab() {
        assert_eq!(slug("mygroup/myproject"), "mygroup-myproject");
        assert_eq!(slug("MyGroup/My.Project"), "mygroup-my-project");
        assert_eq!(slug("-a--b_/c-"), "a--b--c");
        assert_eq!(slug(&"x".repeat(70)), "x".repeat(63));
        // Cut first, then trimmed: a `-` at position 63 goes.
        assert_eq!(slug(&format!("{}/abc", "y".repeat(62))), "y".repeat(62));
        assert_eq!(slug("Ünï/cöde"), "-n--c-de".trim_matches('-'));
    }

    #[test]
    fn keys_and_addresses() {
        let c = Configured {
            incoming_email: Some("incoming+%{key}@example.com"),
            service_desk_email: Some("contact+%{key}@example.com"),
        };
        let a = project_addresses(&c, "mygroup/myproject", 42, Some("support")).unwrap();
        assert_eq!(
            a[0].address,
            "incoming+mygroup-myproject-42-issue-@example.com"
        );
        assert_eq!(
            a[1].address,
            "contact+mygroup-myproject-support@example.com"
        );
        let a = project_addresses(&c, "mygroup/myproject", 42, None).unwrap();
        assert_eq!(
            a[1].address,
            "contact+mygroup-myproject-42-issue-@example.com"
        );
    }

    #[test]
    fn suffix_rule() {
        assert_eq!(suffix_problem("support_2"), None);
        assert!(suffix_problem("Support").is_some());
        assert!(suffix_problem("a-b").is_some());
        assert!(suffix_problem("").is_some());
        assert_eq!(suffix_problem(&"a".repeat(255)), None);
        assert!(suffix_problem(&"a".repeat(256)).is_some());
    }

    /// The examples of GitLab's `spec/models/service_desk_setting_spec.rb` for
    /// `custom_email`, then a few of our own at the edges (Unicode, ASCII `\w`, lengths).
    #[test]
    fn custom_email_rule_matches_gitlabs_examples() {
        for ok in [
            "support@example.com",
            "support@xn--brggen-4ya.de",
            "support1@shop.example.com",
            "support-shop_with.crazy-address@shop.example.com",
            "a_b-c@x_y.example.io",
        ] {
            assert!(valid_custom_email(ok), "{ok} should be accepted");
        }
        for bad in [
            "support@example@example.com",
            "support.example.com",
            "example.com",
            "example",
            "\" \"@example.org",
            "support+12@example.com",
            "user@[IPv6:2001:db8::1]",
            "\"><script>alert(1);</script>\"@example.org",
            "file://example",
            "no email at all",
            // Ours: Ruby's `\w` is ASCII, so no Unicode in the domain; `\z` allows no
            // trailing newline; GitLab's 255-character limit.
            "üser@example.com",
            "user@exämple.com",
            "user@example.com\n",
            "user@example.c",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(!valid_custom_email(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn verify_subaddress() {
        assert_eq!(
            verify_address("support@example.com"),
            "support+verify@example.com"
        );
    }
}
