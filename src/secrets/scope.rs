//! The secret scopes: their CLI names, files and allowed keys.
//!
//! This table is the single source of truth for what each scope may hold; the schema check,
//! the editor template, the status report and the settings tables all read it.

use std::fmt;

/// One encrypted secret file and the credentials it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Smtp,
    IncomingEmail,
    ServiceDeskEmail,
    MicrosoftGraphMailer,
    Mattermost,
    Mailroom,
    Redis,
    CustomEmail,
}

/// An allowed key and what it is, for the editor template.
pub struct KeySpec {
    pub name: &'static str,
    pub about: &'static str,
}

const fn key(name: &'static str, about: &'static str) -> KeySpec {
    KeySpec { name, about }
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Smtp,
        Scope::IncomingEmail,
        Scope::ServiceDeskEmail,
        Scope::MicrosoftGraphMailer,
        Scope::Mattermost,
        Scope::Mailroom,
        Scope::Redis,
        Scope::CustomEmail,
    ];

    /// The subcommand name: `toolctl <cli_name> secret …`.
    pub fn cli_name(self) -> &'static str {
        match self {
            Scope::Smtp => "smtp",
            Scope::IncomingEmail => "incoming-email",
            Scope::ServiceDeskEmail => "service-desk-email",
            Scope::MicrosoftGraphMailer => "microsoft-graph-mailer",
            Scope::Mattermost => "mattermost",
            Scope::Mailroom => "mailroom",
            Scope::Redis => "redis",
            Scope::CustomEmail => "custom-email",
        }
    }

    /// The `toolctl.toml` table whose credentials this scope holds.
    pub fn table(self) -> &'static str {
        match self {
            Scope::Smtp => "smtp",
            Scope::IncomingEmail => "incoming_email",
            Scope::ServiceDeskEmail => "service_desk_email",
            Scope::MicrosoftGraphMailer => "microsoft_graph_mailer",
            Scope::Mattermost => "mattermost",
            Scope::Mailroom => "mailroom",
            Scope::Redis => "redis",
            Scope::CustomEmail => "custom_email",
        }
    }

    /// The encrypted file's name in the secrets directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Scope::Smtp => "smtp.yaml.age",
            Scope::IncomingEmail => "incoming_email.yaml.age",
            Scope::ServiceDeskEmail => "service_desk_email.yaml.age",
            Scope::MicrosoftGraphMailer => "microsoft_graph_mailer.yaml.age",
            Scope::Mattermost => "mattermost.yaml.age",
            Scope::Mailroom => "mailroom.yaml.age",
            Scope::Redis => "redis.yaml.age",
            Scope::CustomEmail => "custom_email.yaml.age",
        }
    }

    /// The keys the scope's YAML mapping may hold; all values are strings.
    pub fn keys(self) -> &'static [KeySpec] {
        const SMTP: &[KeySpec] = &[
            key("user_name", "the SMTP user name"),
            key("password", "the SMTP password"),
        ];
        const MAILBOX: &[KeySpec] = &[
            key("user", "the mailbox user (IMAP login)"),
            key("password", "the mailbox password (IMAP)"),
            key(
                "client_secret",
                "the Microsoft Entra application's client secret value (inbox_method = \"microsoft_graph\")",
            ),
        ];
        const GRAPH: &[KeySpec] = &[key(
            "client_secret",
            "the Microsoft Entra application's client secret value (not its ID)",
        )];
        const MATTERMOST: &[KeySpec] = &[
            key(
                "admin_sql_password",
                "the password of the PostgreSQL role of `mattermost.admin_data_source`",
            ),
            key(
                "gitlab_secret",
                "the OAuth application secret GitLab issued to Mattermost",
            ),
            key(
                "sql_password",
                "the password of Mattermost's PostgreSQL user",
            ),
        ];
        const MAILROOM: &[KeySpec] = &[key(
            "webhook_secret",
            "the shared token mail_room uses to post to GitLab's webhook",
        )];
        const REDIS: &[KeySpec] = &[key(
            "password",
            "the Redis password (`requirepass`) for `[redis] url`",
        )];
        const CUSTOM_EMAIL: &[KeySpec] = &[
            key(
                "user_name",
                "the SMTP user name of the Service Desk custom email address",
            ),
            key(
                "password",
                "its SMTP password (8 to 128 characters, as GitLab requires; ideally an app password)",
            ),
        ];
        match self {
            Scope::Smtp => SMTP,
            Scope::IncomingEmail | Scope::ServiceDeskEmail => MAILBOX,
            Scope::MicrosoftGraphMailer => GRAPH,
            Scope::Mattermost => MATTERMOST,
            Scope::Mailroom => MAILROOM,
            Scope::Redis => REDIS,
            Scope::CustomEmail => CUSTOM_EMAIL,
        }
    }

    /// What a new file starts from in `secret edit`: every key, commented out.
    pub fn template(self) -> String {
        let mut t = format!(
            "# toolctl {} secret. Uncomment the keys you need and put the values in quotes.\n\
             # Allowed keys: {}. Every value is a string.\n\
             # Saving this file unchanged writes nothing.\n#\n",
            self.cli_name(),
            self.keys()
                .iter()
                .map(|k| k.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        for k in self.keys() {
            t.push_str(&format!("# {}: '…'   # {}\n", k.name, k.about));
        }
        t
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_name())
    }
}
