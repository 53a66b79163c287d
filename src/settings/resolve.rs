//! The one resolve step: settings file + defaults + decrypted secrets → resolved settings.
//!
//! `show-config`, `reconfigure` and every probe start here, so a rule is written once and a
//! probe tests exactly what the services will be given. Every settings rule is checked
//! in [`rules`], each finding naming its key, its line and a fix; errors and warnings are
//! told apart. Credentials come from the encrypted store and win over plaintext in the
//! file, which is warned about. Secret values stay in zeroizing buffers and are masked in
//! every rendering of this type.

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

use super::schema::{self, DefaultValue as D};
use super::{Diag, Settings, Severity, Val};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::paths::Paths;
use crate::secrets::{schema as secret_schema, Scope, Store};

/// A resolved value.
#[derive(Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
    Map(Vec<(String, String)>),
    /// A credential; never printed.
    Secret(Zeroizing<String>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Secret(_) => f.write_str("Secret(****)"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(l) => write!(f, "{l:?}"),
            Value::Map(m) => write!(f, "{m:?}"),
        }
    }
}

impl Value {
    /// For people and JSON: secrets masked.
    pub fn display(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(l) => format!(
                "[{}]",
                l.iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Map(m) => format!(
                "{{ {} }}",
                m.iter()
                    .map(|(k, v)| format!("{k} = \"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Secret(_) => MASK.to_string(),
        }
    }
}

/// What every secret looks like in output.
pub use crate::model::MASK;

/// Where a resolved value came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Default,
    /// Written in toolctl.toml at this line.
    File(usize),
    /// Computed from another setting.
    Derived(&'static str),
    /// From the encrypted secrets store.
    Secret(Scope),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(line) => write!(f, "toolctl.toml:{line}"),
            Source::Derived(from) => write!(f, "derived ({from})"),
            Source::Secret(scope) => write!(f, "secret ({scope})"),
        }
    }
}

/// The settings every command works from: the values by key (for `show-config` and
/// `config`), the findings, and the typed [`Model`] every other reader uses.
pub struct Resolved {
    pub values: BTreeMap<String, (Value, Source)>,
    pub diags: Vec<Diag>,
    pub model: Model,
    /// The tables whose secret exists but could not be read; the problem is reported once,
    /// on the first of them (see [`Resolved::root_cause`]).
    pub unread: Vec<&'static str>,
}

impl Resolved {
    /// The one finding that stopped `table`'s secret from being read, when it could not be.
    pub fn root_cause(&self, table: &str) -> Option<&Diag> {
        if !self.unread.contains(&table) {
            return None;
        }
        self.diags.iter().find(|d| {
            d.severity == Severity::Error
                && d.line.is_none()
                && self.unread.contains(&d.key.as_str())
        })
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).map(|(v, _)| v)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diag> {
        self.diags.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diag> {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

/// Reads of the resolved values by key: for the resolve step itself (derived values,
/// rules, the model's build), never outside `settings`.
#[derive(Clone, Copy)]
pub struct Values<'a>(pub &'a BTreeMap<String, (Value, Source)>);

impl<'a> Values<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).map(|(v, _)| v)
    }

    /// A string or a secret's value.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            Some(Value::Secret(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        matches!(self.get(key), Some(Value::Bool(true)))
    }

    pub fn map(&self, key: &str) -> &'a [(String, String)] {
        match self.get(key) {
            Some(Value::Map(m)) => m,
            _ => &[],
        }
    }

    /// Whether Mattermost is configured (it is enabled by its external URL, as in omnibus).
    pub fn mattermost_enabled(&self) -> bool {
        self.str("mattermost.external_url").is_some()
    }

    /// `[<table>] user` / `group`.
    pub fn account(&self, table: &'static str) -> crate::model::Account {
        crate::model::Account {
            table,
            user: self.str(&format!("{table}.user")).map(str::to_string),
            group: self.str(&format!("{table}.group")).map(str::to_string),
            // GitLab's image: git is a uid inside the container, not a user of the host.
            numeric: table == "gitlab" && self.str("gitlab.install") == Some("docker"),
        }
    }
}

/// Resolves `settings` with the store's secrets.
pub fn resolve(settings: &Settings, paths: &Paths, store: &Store) -> Result<Resolved> {
    Ok(resolve_with(settings, paths, &Decrypted::load(store)?))
}

/// Resolves `settings` with secrets decrypted beforehand (`config set` resolves twice with
/// one decryption; `config get` needs none).
pub fn resolve_with(settings: &Settings, paths: &Paths, decrypted: &Decrypted) -> Resolved {
    let secrets = &decrypted.entries;
    let mut diags: Vec<Diag> = settings.diags.clone();
    diags.extend(decrypted.diags.iter().cloned());
    let mut values = BTreeMap::new();
    for key in schema::keys() {
        let written = settings.values.get(&key.path);
        if let Some((scope, name)) = key.secret {
            if let Some((Val::Str(_), line)) = written {
                diags.push(Diag {
                    severity: Severity::Warning,
                    key: key.path.clone(),
                    line: Some(*line),
                    message: format!("`{}` is a plaintext credential in toolctl.toml", key.path),
                    hint: format!(
                        "move it into the encrypted store with `toolctl {scope} secret edit` \
                         (key `{name}`), then remove the line; the store's value wins"
                    ),
                });
            }
            let stored = secrets.get(&scope).and_then(|entries| {
                entries
                    .iter()
                    .find(|e| e.key == name)
                    .map(|e| e.value.clone())
            });
            match (stored, written) {
                (Some(v), _) => {
                    values.insert(key.path.clone(), (Value::Secret(v), Source::Secret(scope)));
                }
                (None, Some((Val::Str(s), line))) => {
                    values.insert(
                        key.path.clone(),
                        (
                            Value::Secret(Zeroizing::new(s.clone())),
                            Source::File(*line),
                        ),
                    );
                }
                _ => {}
            }
            continue;
        }
        if let Some((v, line)) = written {
            values.insert(key.path.clone(), (from_raw(v), Source::File(*line)));
            continue;
        }
        let default = match key.default {
            D::Str(s) => Some(Value::Str(s.to_string())),
            D::Int(i) => Some(Value::Int(i)),
            D::Bool(b) => Some(Value::Bool(b)),
            D::None | D::Derived(_) => None,
        };
        if let Some(v) = default {
            values.insert(key.path.clone(), (v, Source::Default));
        }
    }
    derive(&mut values, paths);
    let mut ruled = rules::check(Values(&values), settings);
    // The root cause first: a table whose secret could not be read has "not set" and
    // "same mailbox" findings that follow from it alone; they are left out, and the root
    // cause says how many.
    let unread: Vec<&str> = decrypted.unread.iter().map(|s| s.table()).collect();
    let before = ruled.len();
    ruled.retain(|d| !follows_from_unread(d, &unread));
    let suppressed = before - ruled.len();
    diags.extend(ruled);
    diags.sort_by_key(|d| {
        let root = d.line.is_none() && decrypted.diags.iter().any(|r| r.message == d.message);
        (d.severity, !root, d.line.unwrap_or(usize::MAX))
    });
    if suppressed > 0 {
        if let Some(root) = diags.iter_mut().find(|d| {
            d.severity == Severity::Error && decrypted.diags.iter().any(|r| r.message == d.message)
        }) {
            root.message.push_str(&format!(
                " ({suppressed} error(s) that follow from it are not shown)"
            ));
        }
    }
    let model = super::build::model(Values(&values), paths);
    Resolved {
        values,
        diags,
        model,
        unread: decrypted.unread.iter().map(|s| s.table()).collect(),
    }
}

/// Whether a rule's finding follows from a secret that could not be read: a secret key
/// of that table "not set", or the two mailboxes compared without their users.
fn follows_from_unread(d: &Diag, unread: &[&str]) -> bool {
    if d.severity != Severity::Error {
        return false;
    }
    let table = d.key.split('.').next().unwrap_or_default();
    let secret_key = schema::keys()
        .iter()
        .any(|k| k.path == d.key && k.secret.is_some());
    let same_mailbox = d.message.contains("read the same mailbox");
    (unread.contains(&table) && secret_key)
        || (same_mailbox
            && ["incoming_email", "service_desk_email"]
                .iter()
                .any(|t| unread.contains(t)))
}

fn from_raw(v: &Val) -> Value {
    match v {
        Val::Str(s) => Value::Str(s.clone()),
        Val::Int(i) => Value::Int(*i),
        Val::Bool(b) => Value::Bool(*b),
        Val::List(l) => Value::List(l.clone()),
        Val::Map(m) => Value::Map(m.clone()),
    }
}

/// Fills the defaults that depend on other settings.
fn derive(values: &mut BTreeMap<String, (Value, Source)>, paths: &Paths) {
    let mut derived: Vec<(String, Value, &'static str)> = Vec::new();
    let mut set = |key: &str, v: Value, from: &'static str| {
        derived.push((key.to_string(), v, from));
    };
    let r = Values(values);
    let tls = r.bool("smtp.tls") || r.bool("smtp.ssl");
    let port = if tls { 465 } else { 587 };
    set("smtp.port", Value::Int(port), "smtp.tls");
    // Shown by show-config; the build keeps only a written value (an unset one is left
    // out of the rendered files, as omnibus leaves it out).
    set("smtp.enable_starttls_auto", Value::Bool(!tls), "smtp.tls");
    let external = r
        .str("external_url")
        .map(|u| u.trim_end_matches('/').to_string());
    let log_dir = r
        .str("logging.log_directory")
        .map(str::to_string)
        .unwrap_or_else(|| paths.logical(&paths.log_dir));
    for t in ["incoming_email", "service_desk_email"] {
        let port = if r.bool(&format!("{t}.ssl")) {
            993
        } else {
            143
        };
        set(&format!("{t}.port"), Value::Int(port), "ssl");
        if let Some(url) = &external {
            set(
                &format!("{t}.gitlab_url"),
                Value::Str(url.clone()),
                "external_url",
            );
        }
        let log = format!(
            "{}/mailroom/mail_room_json.log",
            log_dir.trim_end_matches('/')
        );
        set(
            &format!("{t}.log_file"),
            Value::Str(log),
            "logging.log_directory",
        );
    }
    if let Some(url) = &external {
        for (key, suffix) in [
            ("mattermost.gitlab_auth_endpoint", "/oauth/authorize"),
            ("mattermost.gitlab_token_endpoint", "/oauth/token"),
            ("mattermost.gitlab_user_api_endpoint", "/api/v4/user"),
        ] {
            set(key, Value::Str(format!("{url}{suffix}")), "external_url");
        }
    }
    let host = r
        .str("mattermost.external_url")
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    if let Some(host) = host {
        set(
            "mattermost.nginx.ssl_certificate",
            Value::Str(format!("/etc/toolctl/ssl/{host}.crt")),
            "mattermost.external_url",
        );
        set(
            "mattermost.nginx.ssl_certificate_key",
            Value::Str(format!("/etc/toolctl/ssl/{host}.key")),
            "mattermost.external_url",
        );
    }
    // The Linux package runs GitLab as `git`; its image as uid 998, whatever the host has.
    let owner = match r.str("gitlab.install") {
        Some("omnibus") => Some("git"),
        Some("docker") => Some("998"),
        _ => None,
    };
    if let Some(owner) = owner {
        // A group alone keeps the user unset (root), as before; a user alone gets its own
        // primary group.
        if r.get("gitlab.group").is_none() {
            set("gitlab.user", Value::Str(owner.into()), "gitlab.install");
            if r.get("gitlab.user").is_none() {
                set("gitlab.group", Value::Str(owner.into()), "gitlab.install");
            }
        }
    }
    if r.str("gitlab.install") == Some("docker") {
        if let Some(root) = r.str("gitlab.container_root") {
            set(
                "gitlab.fragment_path",
                Value::Str(format!(
                    "{}/etc/gitlab/toolctl.rb",
                    root.trim_end_matches('/')
                )),
                "gitlab.container_root",
            );
        }
    }
    for (key, v, from) in derived {
        values.entry(key).or_insert((v, Source::Derived(from)));
    }
}

/// The store's secrets, decrypted once.
#[derive(Default)]
pub struct Decrypted {
    entries: BTreeMap<Scope, Vec<secret_schema::Entry>>,
    /// A scope that does not decrypt or holds invalid content is an error of its table, so
    /// a damaged Mattermost secret does not stop `smtp check`.
    diags: Vec<Diag>,
    /// The scopes whose secret exists but could not be read or used.
    unread: Vec<Scope>,
}

impl Decrypted {
    /// No secrets at all: for commands that read only plain settings (`config get`).
    pub fn none() -> Decrypted {
        Decrypted::default()
    }

    /// Every present scope. A missing or unusable key is an error of its own (nothing can
    /// be decrypted); a scope that fails is recorded as a finding on its table.
    pub fn load(store: &Store) -> Result<Decrypted> {
        let mut out = Decrypted::default();
        let existing = store.existing();
        if existing.is_empty() {
            return Ok(out);
        }
        let key = store.key()?;
        for scope in existing {
            let problem = match store.read(scope, &key) {
                Ok(None) => continue,
                Ok(Some(plaintext)) => match secret_schema::parse(scope, &plaintext) {
                    Ok(entries) => {
                        out.entries.insert(scope, entries);
                        continue;
                    }
                    Err(e) => Error::new(format!("the {scope} secret holds invalid content: {e}"))
                        .hint(format!(
                            "fix it with `toolctl {scope} secret edit`: {}",
                            e.hint(scope)
                        )),
                },
                Err(e) => e.into(),
            };
            out.unread.push(scope);
            // One problem shared by every scope (the folder's) is reported once.
            if out.diags.iter().any(|d| d.message == problem.to_string()) {
                continue;
            }
            out.diags.push(Diag {
                severity: Severity::Error,
                key: scope.table().to_string(),
                line: None,
                message: problem.to_string(),
                hint: problem.hint_text().unwrap_or_default().to_string(),
            });
        }
        Ok(out)
    }
}

pub mod rules {
    //! Every settings rule, checked on resolved settings.

    use super::*;

    fn diag(
        sev: Severity,
        s: &Settings,
        key: &str,
        message: String,
        hint: impl Into<String>,
    ) -> Diag {
        Diag {
            severity: sev,
            key: key.to_string(),
            line: s.line(key).or_else(|| table_line(s, key)),
            message,
            hint: hint.into(),
        }
    }

    /// The line of the first key written in `key`'s table, for keys that are not written.
    fn table_line(s: &Settings, key: &str) -> Option<usize> {
        let table = key.rsplit_once('.')?.0;
        s.values
            .iter()
            .filter(|(k, _)| k.rsplit_once('.').map(|(t, _)| t) == Some(table))
            .map(|(_, (_, l))| *l)
            .min()
    }

    /// Every rule, table by table; the findings in file order come from the caller's sort.
    pub fn check(r: Values, s: &Settings) -> Vec<Diag> {
        let mut out = Vec::new();
        urls(r, s, &mut out);
        smtp(r, s, &mut out);
        let mut mailboxes = Vec::new();
        for scope in [Scope::IncomingEmail, Scope::ServiceDeskEmail] {
            mailboxes.extend(mailbox(r, s, scope, &mut out));
        }
        same_mailbox(s, &mailboxes, &mut out);
        graph_mailer(r, s, &mailboxes, &mut out);
        mattermost(r, s, &mut out);
        webhook_secret(r, s, &mut out);
        graph_endpoints(r, s, &mut out);
        services(r, s, &mut out);
        path_controls(r, s, &mut out);
        uncarried(r, s, &mut out);
        out
    }

    /// No control character (newline, escape…) in a path setting: rendered into YAML,
    /// Ruby or a unit file, a newline would start a line of the attacker's choosing.
    fn path_controls(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        for (key, (value, _)) in r.0 {
            let Value::Str(v) = value else { continue };
            if super::schema::is_path_key(key) && super::schema::has_control(v) {
                out.push(diag(
                    Severity::Error,
                    s,
                    key,
                    format!(
                        "`{key}` is `{}`: a control character in a path",
                        crate::sys::term::one_line(v)
                    ),
                    format!("write `{key}` without newlines, tabs or other control characters (`toolctl config set {key} <path>`)"),
                ));
            }
        }
    }

    /// Where a mailbox is read: (table, Graph, server or tenant, user, mailbox), lowercased.
    type Place = (&'static str, bool, String, Option<String>, Option<String>);

    /// `external_url` and `mattermost.external_url`.
    fn urls(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        for url_key in ["external_url", "mattermost.external_url"] {
            if let Some(u) = r.str(url_key) {
                if let Err(why) = check_url(u, url_key == "mattermost.external_url") {
                    let example = if url_key == "external_url" {
                        "https://gitlab.example.com"
                    } else {
                        "https://mattermost.example.com"
                    };
                    out.push(diag(
                        e,
                        s,
                        url_key,
                        format!("`{url_key}` {why}"),
                        format!("write an absolute URL such as `{example}`, with no path"),
                    ));
                }
            }
        }
    }

    /// `[smtp]`.
    fn smtp(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        if r.str("smtp.authentication") == Some("xoauth2") {
            out.push(diag(
                e,
                s,
                "smtp.authentication",
                "`smtp.authentication = \"xoauth2\"` is refused by GitLab's Linux package".into(),
                "omnibus accepts only `login`, `plain` or `cram_md5` for `smtp_authentication` (its reconfigure fails on any other); use one of them, or `none`",
            ));
        }
        let tls = r.bool("smtp.tls") || r.bool("smtp.ssl");
        let starttls_written = matches!(
            r.0.get("smtp.enable_starttls_auto"),
            Some((Value::Bool(true), Source::File(_)))
        );
        if tls && starttls_written {
            let which = if r.bool("smtp.tls") { "tls" } else { "ssl" };
            out.push(diag(
                e,
                s,
                "smtp.enable_starttls_auto",
                format!("`smtp.{which} = true` and `smtp.enable_starttls_auto = true` are both set: implicit TLS and STARTTLS are mutually exclusive"),
                format!("omnibus' reconfigure refuses both true, and GitLab's STARTTLS patch of the mail gem raises (\":enable_starttls and :tls are mutually exclusive\") on every mail; for port 465 keep `{which} = true` and remove `enable_starttls_auto` (`toolctl config unset smtp.enable_starttls_auto`), for port 587 set `{which} = false`"),
            ));
        }
        if r.bool("smtp.enabled") && r.str("smtp.address").is_none() {
            out.push(diag(
                e,
                s,
                "smtp.address",
                "`smtp.enabled` is true but `smtp.address` is not set".into(),
                "set the relay's host name: `toolctl config set smtp.address smtp.example.com`",
            ));
        }
    }

    /// `[smtp]` enabled with no `[gitlab]`: written nowhere. Moot while anything is an
    /// error (the error comes first).
    fn uncarried(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let gitlab_written = s.values.keys().any(|k| k.starts_with("gitlab."))
            || s.diags.iter().any(|d| d.key.starts_with("gitlab."));
        let errors = out.iter().any(|d| d.severity == Severity::Error)
            || s.diags.iter().any(|d| d.severity == Severity::Error);
        if r.bool("smtp.enabled") && !gitlab_written && !errors {
            out.push(diag(
                Severity::Warning,
                s,
                "smtp.enabled",
                "`[smtp]` is enabled but no file toolctl renders carries it to GitLab: without `[gitlab]`, it is written nowhere".into(),
                "add `[gitlab]` with `install = \"omnibus\"` (or docker, source, helm) and its keys (README: \"Wire toolctl into GitLab\")",
            ));
        }
    }

    /// `<%` in a mailbox value: gitlab.yml's mailbox sections are read by Rails through ERB
    /// and by GitLab's mail_room configuration without it, so no escape reads the same in
    /// both. The value itself is never quoted (it may be a credential).
    fn erb_tags(r: Values, s: &Settings, t: &str, out: &mut Vec<Diag>) {
        let prefix = format!("{t}.");
        for (key, (value, _)) in r.0.range(prefix.clone()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            let text = match value {
                Value::Str(v) => v.as_str(),
                Value::Secret(v) => v.as_str(),
                _ => continue,
            };
            if text.contains("<%") {
                out.push(diag(
                    Severity::Error,
                    s,
                    key,
                    format!("`{key}` contains `<%`, which GitLab and mail_room read differently"),
                    "GitLab's settings loader runs gitlab.yml through ERB (`<%` starts Ruby code) while mail_room reads the mailbox sections without it, so no escape works for both: remove `<%` from the value",
                ));
            }
        }
    }

    /// One enabled mailbox's rules; its place, for the rules across mailboxes.
    fn mailbox(r: Values, s: &Settings, scope: Scope, out: &mut Vec<Diag>) -> Option<Place> {
        let t = scope.table();
        if !r.bool(&format!("{t}.enabled")) {
            return None;
        }
        let e = Severity::Error;
        let k = |leaf: &str| format!("{t}.{leaf}");
        address(r, s, t, out);
        erb_tags(r, s, t, out);
        if r.bool(&k("ssl")) && r.bool(&k("start_tls")) {
            out.push(diag(e, s, &k("start_tls"), format!("`{t}.ssl` and `{t}.start_tls` are both true"),
                "choose one: `ssl = true` for implicit TLS (port 993), or `start_tls = true` (port 143)"));
        }
        delivery(r, s, t, out);
        let graph = r.str(&k("inbox_method")) == Some("microsoft_graph");
        if r.bool("mailroom.enable") {
            reader(r, s, scope, graph, out);
        }
        let lower = |v: Option<&str>| v.map(str::to_ascii_lowercase);
        let place = if graph {
            lower(r.str(&k("inbox_options.tenant_id")))
        } else {
            lower(r.str(&k("host")))
        };
        Some((
            t,
            graph,
            place?,
            lower(r.str(&k("user"))),
            lower(r.str(&k("mailbox"))),
        ))
    }

    /// A mailbox's address: set, with its `%{key}`, not on the instance's own domain.
    fn address(r: Values, s: &Settings, t: &str, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        let w = Severity::Warning;
        let k = |leaf: &str| format!("{t}.{leaf}");
        let service_desk = t == "service_desk_email";
        match r.str(&k("address")) {
            None => out.push(diag(e, s, &k("address"), format!("`{t}.enabled` is true but `{t}.address` is not set"),
                format!("set it, e.g. `address = \"{}+%{{key}}@incoming.example.com\"`", if service_desk { "contact" } else { "incoming" }))),
            Some(addr) => match placeholder(addr) {
                Err(why) => out.push(diag(e, s, &k("address"), format!("`{t}.address` {why}"),
                    "put `%{key}` once, whole, before the `@`: `incoming+%{key}@incoming.example.com`")),
                Ok(false) if service_desk => out.push(diag(e, s, &k("address"),
                    "`service_desk_email.address` has no `%{key}` placeholder; Service Desk needs it to find the project".into(),
                    "use a sub-address such as `contact+%{key}@example.com`")),
                Ok(false) => out.push(diag(w, s, &k("address"),
                    "`incoming_email.address` has no `%{key}`: a dedicated address supports only reply by email".into(),
                    "use sub-addressing (`incoming+%{key}@…`) or a catch-all (`incoming-%{key}@…`) for new issues and merge requests by email")),
                Ok(true) => {}
            },
        }
        if let (Some(addr), Some(url)) = (r.str(&k("address")), r.str("external_url")) {
            let domain = addr.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
            if domain.is_some() && domain == host {
                out.push(diag(w, s, &k("address"),
                    format!("`{t}.address` uses the instance's own domain; anyone who can receive mail there could confirm accounts on services that trust that domain"),
                    "receive incoming email on a subdomain such as `incoming.example.com`, or a dedicated domain"));
            }
        }
    }

    /// A mailbox's `gitlab_url` and delivery method.
    fn delivery(r: Values, s: &Settings, t: &str, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        let w = Severity::Warning;
        let k = |leaf: &str| format!("{t}.{leaf}");
        if let Some(url) = r.str(&k("gitlab_url")) {
            if url.ends_with('/') {
                out.push(diag(
                    e,
                    s,
                    &k("gitlab_url"),
                    format!("`{t}.gitlab_url` ends with `/`"),
                    format!(
                        "remove the trailing slash: `gitlab_url = \"{}\"`",
                        url.trim_end_matches('/')
                    ),
                ));
            } else if let Err(why) = check_url(url, false) {
                out.push(diag(
                    e,
                    s,
                    &k("gitlab_url"),
                    format!("`{t}.gitlab_url` {why}"),
                    "write GitLab's URL, e.g. `https://gitlab.example.com`",
                ));
            }
        }
        let webhook = r.str(&k("delivery_method")) == Some("webhook");
        if r.str(&k("delivery_method")) == Some("sidekiq") {
            out.push(diag(
                w,
                s,
                &k("delivery_method"),
                format!("`{t}.delivery_method = \"sidekiq\"` is deprecated"),
                "use `delivery_method = \"webhook\"` (the default since GitLab 15.3)",
            ));
        }
        if webhook && r.str(&k("gitlab_url")).is_none() {
            out.push(diag(e, s, &k("gitlab_url"), format!("`{t}` delivers by webhook but neither `{t}.gitlab_url` nor `external_url` is set"),
                "set `external_url = \"https://gitlab.example.com\"` at the top of toolctl.toml"));
        }
    }

    /// The rules of a mailbox this node polls (`mailroom.enable`): its log file, and what
    /// mail_room needs to read it.
    fn reader(r: Values, s: &Settings, scope: Scope, graph: bool, out: &mut Vec<Diag>) {
        let t = scope.table();
        let e = Severity::Error;
        let k = |leaf: &str| format!("{t}.{leaf}");
        if let Some(log) = r.str(&k("log_file")) {
            let log_dir = r
                .str("logging.log_directory")
                .map(str::to_string)
                .unwrap_or_else(|| format!("/{}", crate::paths::LOG_DIR));
            let own = |key: &str, default: &str| {
                r.str(key)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("/{default}"))
            };
            let own = [
                format!("{}/reconfigure", log_dir.trim_end_matches('/')),
                own("reconfigure.output_directory", crate::paths::RENDERED_DIR),
                own("secrets.directory", crate::paths::SECRETS_DIR),
            ];
            let own: Vec<&str> = own.iter().map(String::as_str).collect();
            let example = format!(
                "e.g. `log_file = \"{}/mailroom/mail_room_json.log\"`",
                log_dir.trim_end_matches('/')
            );
            match log_file_allowed(log, &log_dir, &own) {
                Ok(()) => {}
                Err(LogDirRefusal::Outside(dir)) => out.push(diag(
                    e,
                    s,
                    &k("log_file"),
                    format!("`{t}.log_file` is `{log}`: reconfigure would create `{dir}` for mail_room's user, outside the log directories"),
                    format!("put mail_room's log in a directory of its own below `/var/log/`, `/var/opt/` or `[logging] log_directory` (`{log_dir}`), {example}"),
                )),
                Err(LogDirRefusal::Toolctls(dir)) => out.push(diag(
                    e,
                    s,
                    &k("log_file"),
                    format!("`{t}.log_file` is `{log}`: its directory `{dir}` is, or holds, one of toolctl's own directories (the log directory `{log_dir}`, its `reconfigure/`, the rendered tree or the secrets directory), which reconfigure would hand to mail_room's user"),
                    format!("put mail_room's log in a directory of its own below the log directory, {example}"),
                )),
            }
        }
        let cli = scope.cli_name();
        let mut need = |leaf: &str, what: &str, hint: String| {
            if r.str(&k(leaf)).is_none() {
                out.push(diag(
                    e,
                    s,
                    &k(leaf),
                    format!("`{t}` {what} but `{t}.{leaf}` is not set"),
                    hint,
                ));
            }
        };
        if graph {
            need(
                "inbox_options.tenant_id",
                "reads through Microsoft Graph",
                "set the Entra tenant ID: `tenant_id = \"…\"` under `[{t}.inbox_options]`"
                    .replace("{t}", t),
            );
            need(
                "inbox_options.client_id",
                "reads through Microsoft Graph",
                "set the application's client ID under `[{t}.inbox_options]`".replace("{t}", t),
            );
            need(
                "inbox_options.client_secret",
                "reads through Microsoft Graph",
                format!("add `client_secret` with `toolctl {cli} secret edit`"),
            );
        } else {
            need(
                "host",
                "reads by IMAP",
                format!("set the IMAP server: `toolctl config set {t}.host imap.example.com`"),
            );
            need(
                "user",
                "reads by IMAP",
                format!("add `user` with `toolctl {cli} secret edit`"),
            );
            need(
                "password",
                "reads by IMAP",
                format!("add `password` with `toolctl {cli} secret edit`"),
            );
        }
    }
    /// The two mailboxes must not read the same mailbox.
    fn same_mailbox(s: &Settings, mailboxes: &[Place], out: &mut Vec<Diag>) {
        let e = Severity::Error;
        if let [a, b] = mailboxes {
            if a.1 == b.1 && a.2 == b.2 && a.3 == b.3 && a.4 == b.4 {
                out.push(diag(e, s, "service_desk_email.mailbox",
                "`incoming_email` and `service_desk_email` read the same mailbox (same server, user and mailbox name)".into(),
                "give Service Desk its own mailbox (another user or another mailbox name): mail would be taken by the wrong reader"));
            }
        }
    }

    /// `[microsoft_graph_mailer]`: what it needs, and no mail loop with a mailbox.
    fn graph_mailer(r: Values, s: &Settings, mailboxes: &[Place], out: &mut Vec<Diag>) {
        let e = Severity::Error;
        if r.bool("microsoft_graph_mailer.enabled") {
            for (leaf, hint) in [
            ("user_id", "set the sending mailbox: `user_id = \"gitlab@example.com\"` (or its object ID)".to_string()),
            ("tenant", "set the Entra tenant (GUID or domain name)".to_string()),
            ("client_id", "set the application (client) ID from the app registration".to_string()),
            ("client_secret", "add `client_secret` with `toolctl microsoft-graph-mailer secret edit`".to_string()),
        ] {
            let key = format!("microsoft_graph_mailer.{leaf}");
            if r.str(&key).is_none() {
                out.push(diag(e, s, &key, format!("`microsoft_graph_mailer.enabled` is true but `{key}` is not set"), hint));
            }
        }
            if let Some(sender) = r
                .str("microsoft_graph_mailer.user_id")
                .map(str::to_ascii_lowercase)
            {
                for (t, _, _, user, _) in mailboxes {
                    if user.as_deref() == Some(sender.as_str()) {
                        out.push(diag(e, s, "microsoft_graph_mailer.user_id",
                        format!("the Graph mailer sends from the mailbox that `{t}` reads (a mail loop)"),
                        "send from another mailbox than the one GitLab reads incoming mail from"));
                    }
                }
            }
        }
    }

    /// `[mattermost]`: its environment, data directory and GitLab SSO.
    fn mattermost(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        mattermost_database(r, s, out);
        for (name, _) in r.map("mattermost.env") {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                out.push(diag(e, s, "mattermost.env", format!("`mattermost.env` holds `{name}`, which is not a valid environment variable name"),
                "use letters, digits and `_`, not starting with a digit, e.g. `HTTP_PROXY`"));
            }
        }

        if let Some(w) = r.str("mattermost.working_dir") {
            if !w.starts_with('/') {
                out.push(diag(e, s, "mattermost.working_dir", format!("`mattermost.working_dir` is `{w}`, a relative path"),
                "write the absolute path Mattermost runs in (the `WorkingDirectory` of its systemd unit), e.g. `/opt/mattermost`"));
            }
        }
        if let Some(d) = r.str("mattermost.data_dir") {
            if !d.starts_with('/') {
                out.push(diag(e, s, "mattermost.data_dir", format!("`mattermost.data_dir` is `{d}`, a relative path"),
                "write the absolute path of Mattermost's data directory, e.g. `/var/opt/gitlab/mattermost/data`"));
            }
            let env = r
                .map("mattermost.env")
                .iter()
                .find(|(k, _)| k == crate::model::DIRECTORY_ENV);
            if let Some((_, v)) =
                env.filter(|(_, v)| v.trim_end_matches('/') != d.trim_end_matches('/'))
            {
                out.push(diag(e, s, "mattermost.data_dir", format!("`mattermost.data_dir` is `{d}`, but `mattermost.env` sets MM_FILESETTINGS_DIRECTORY to `{v}`"),
                "remove MM_FILESETTINGS_DIRECTORY from `[mattermost] env`: `data_dir` renders it"));
            }
        }

        if r.mattermost_enabled() && r.str("mattermost.sql_data_source").is_none() {
            out.push(diag(e, s, "mattermost.sql_data_source",
                "`[mattermost]` is set but `mattermost.sql_data_source` is not (it has no default: GitLab 19.0 removed the bundled Mattermost and its database)".into(),
                "name Mattermost's own database, e.g. `sql_data_source = \"user=mattermost host=db.example.com port=5432 sslmode=require dbname=mattermost\"`, and store its password with `toolctl mattermost secret edit` (`sql_password`)"));
        }
        if let Some(addr) = r.str("mattermost.listen_address") {
            let port = addr
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .filter(|p| *p > 0);
            if port.is_none() || addr.chars().any(char::is_whitespace) {
                out.push(diag(
                    e,
                    s,
                    "mattermost.listen_address",
                    format!("`mattermost.listen_address` is `{addr}`, not HOST:PORT"),
                    "write an address and a port, e.g. `listen_address = \"127.0.0.1:8065\"`",
                ));
            }
        }
        if r.mattermost_enabled() && r.bool("mattermost.gitlab_enable") {
            for (leaf, hint) in [
                (
                    "gitlab_id",
                    "set the Application ID GitLab issued for Mattermost",
                ),
                (
                    "gitlab_secret",
                    "add `gitlab_secret` with `toolctl mattermost secret edit`",
                ),
            ] {
                let key = format!("mattermost.{leaf}");
                if r.str(&key).is_none() {
                    out.push(diag(
                        e,
                        s,
                        &key,
                        format!("`mattermost.gitlab_enable` is true but `{key}` is not set"),
                        hint,
                    ));
                }
            }
            if r.str("mattermost.gitlab_auth_endpoint").is_none() {
                out.push(diag(e, s, "external_url", "GitLab SSO for Mattermost needs GitLab's URL for its endpoints".into(),
                "set `external_url = \"https://gitlab.example.com\"` or the three `mattermost.gitlab_*_endpoint` keys"));
            }
        }
    }

    /// A webhook token stored before its format was checked on write: GitLab's
    /// `read_secret` and mail_room would refuse it, so every postback would fail.
    fn webhook_secret(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let key = "mailroom.webhook_secret";
        let Some(why) = r.str(key).and_then(secret_schema::webhook_secret_problem) else {
            return;
        };
        out.push(diag(Severity::Error, s, key,
            format!("the stored `webhook_secret` of the mailroom secret is not strict base64 of exactly 32 bytes ({why}); GitLab and mail_room decode it with `strict_decode64`, so every postback would fail"),
            "replace it: `openssl rand -base64 32 | toolctl mailroom secret set webhook_secret`, then run `toolctl reconfigure` on every node and restart GitLab and mail_room"));
    }

    /// `[mattermost]`'s database as toolctl's PostgreSQL clients (check, backup, restore)
    /// must reach it: PostgreSQL only, and a data source libpq can be given.
    fn mattermost_database(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        if r.str("mattermost.sql_driver_name") == Some("mysql") {
            out.push(diag(e, s, "mattermost.sql_driver_name",
                "`mattermost.sql_driver_name` is `mysql`: toolctl checks, backs up and restores Mattermost's database with PostgreSQL's clients (psql, pg_dump, pg_restore) only".into(),
                "move Mattermost to PostgreSQL first (Mattermost's migration guide: `migration-assist` and pgloader), then set `sql_driver_name = \"postgres\"` and a PostgreSQL `sql_data_source`"));
        }
        for key in ["mattermost.sql_data_source", "mattermost.admin_data_source"] {
            let Some(source) = r.str(key) else { continue };
            if let Some((why, hint)) = crate::model::datasource::go_only_in(source) {
                out.push(diag(e, s, key, format!("`{key}`: {why}"), hint));
            }
        }
    }

    /// The Microsoft Graph endpoints: GitLab posts the client secret to the token endpoint
    /// and sends the access token to the Graph API, so plain `http://` is refused, except
    /// on a loopback address (a local stand-in for tests), which is warned about.
    fn graph_endpoints(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let mut keys = Vec::new();
        for t in ["incoming_email", "service_desk_email"] {
            for leaf in ["azure_ad_endpoint", "graph_endpoint"] {
                keys.push(format!("{t}.inbox_options.{leaf}"));
            }
        }
        for leaf in ["azure_ad_endpoint", "graph_endpoint"] {
            keys.push(format!("microsoft_graph_mailer.{leaf}"));
        }
        for key in keys {
            let Some(value) = r.str(&key) else { continue };
            let what = if key.ends_with("azure_ad_endpoint") {
                "the client secret"
            } else {
                "the access token"
            };
            match plain_http(value) {
                None => {}
                Some(false) => out.push(diag(
                    Severity::Error,
                    s,
                    &key,
                    format!("`{key}` is a plain `http://` URL: {what} would cross the network unencrypted"),
                    format!(
                        "use https (the default is `{}`); plain http is allowed only on a loopback address (127.0.0.1, ::1, localhost)",
                        if key.ends_with("azure_ad_endpoint") { schema::AZURE_AD } else { schema::GRAPH }
                    ),
                )),
                Some(true) => out.push(diag(
                    Severity::Warning,
                    s,
                    &key,
                    format!("`{key}` is a plain `http://` URL on a loopback address: {what} is sent unencrypted on this host"),
                    "use https outside a local test setup",
                )),
            }
        }
    }

    /// `Some(loopback)` when `u` is an `http://` URL (`loopback`: its host is 127.0.0.0/8,
    /// ::1 or `localhost`), `None` for any other value (https, or not a URL).
    pub fn plain_http(u: &str) -> Option<bool> {
        let url = url::Url::parse(u.trim()).ok()?;
        if url.scheme() != "http" {
            return None;
        }
        Some(match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        })
    }

    /// Redis, mail_room's owner and Mattermost's proxy: what the services themselves would
    /// refuse or misread.
    fn services(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        if let Some(u) = r.str("redis.url") {
            if let Err(why) = check_redis_url(u) {
                out.push(diag(e, s, "redis.url", format!("`redis.url` {why}"),
                    "write `redis://HOST:PORT` or `rediss://HOST:PORT` (optionally `/DB`); put the password in the `redis` secret with `toolctl redis secret edit` (key `password`)"));
            }
        }
        let no_redis = r.str("redis.url").is_none();
        for t in ["incoming_email", "service_desk_email"] {
            if no_redis
                && r.bool(&format!("{t}.enabled"))
                && r.str(&format!("{t}.delivery_method")) == Some("sidekiq")
            {
                let key = format!("{t}.delivery_method");
                // The error says it all; the deprecation warning would only come first.
                out.retain(|d| !(d.key == key && d.severity == Severity::Warning));
                out.push(diag(e, s, &key,
                    format!("`{t}.delivery_method = \"sidekiq\"` needs `[redis] url`, but it is not set"),
                    "set `[redis] url = \"redis://127.0.0.1:6379\"` (GitLab's Sidekiq Redis), or use `delivery_method = \"webhook\"`"));
            }
        }
        if no_redis && r.str("mailroom.arbitration") == Some("redis") {
            out.push(diag(e, s, "mailroom.arbitration",
                "`mailroom.arbitration = \"redis\"` needs `[redis] url`, but it is not set".into(),
                "set `[redis] url = \"redis://127.0.0.1:6379\"`, or remove `arbitration` and poll on one node only"));
        }
        if let Err(why) = r.account("mailroom").ids() {
            let key = if why.starts_with("`mailroom.user`") {
                "mailroom.user"
            } else {
                "mailroom.group"
            };
            out.push(diag(e, s, key, why,
                "create it first (`useradd --system git`), or name the user mail_room runs as (omnibus: `git`)"));
        }
        gitlab(r, s, out);
        for leaf in ["ssl_certificate", "ssl_certificate_key"] {
            let key = format!("mattermost.nginx.{leaf}");
            if let Some(v) = r.str(&key) {
                if v.is_empty() || v.contains(|c: char| c.is_whitespace() || "{};'\"$#".contains(c))
                {
                    out.push(diag(
                        e,
                        s,
                        &key,
                        format!("`{key}` cannot be written into nginx's config as it is"),
                        "use an absolute path without spaces, quotes, `;`, `{`, `}`, `$` or `#`",
                    ));
                }
            }
        }
        for (leaf, size) in [
            ("client_max_body_size", true),
            ("proxy_read_timeout", false),
            ("websocket_proxy_read_timeout", false),
        ] {
            let key = format!("mattermost.nginx.{leaf}");
            let Some(v) = r.str(&key) else { continue };
            let ok = if size { nginx_size(v) } else { nginx_time(v) };
            if !ok {
                let hint = if size {
                    "write an nginx size: digits with an optional `k`, `m` or `g`, e.g. `\"100M\"`"
                } else {
                    "write an nginx time: digits with a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `\"600s\"` or `\"10m\"`"
                };
                out.push(diag(
                    e,
                    s,
                    &key,
                    format!("`{key}` = \"{v}\" is not valid nginx syntax"),
                    hint,
                ));
            }
        }
    }

    /// `[gitlab]`: `install` names the kind, which decides the keys it needs; paths
    /// absolute (and, for Docker, inside `container_root`); an owner that exists (Docker:
    /// a number).
    fn gitlab(r: Values, s: &Settings, out: &mut Vec<Diag>) {
        let e = Severity::Error;
        let set = s.values.keys().any(|k| k.starts_with("gitlab."));
        if !set {
            return;
        }
        let Some(install) = r.str("gitlab.install") else {
            if s.diags.iter().any(|d| d.key == "gitlab.install") {
                // Written, but not a kind: the type error says so.
                return;
            }
            out.push(diag(e, s, "gitlab.install",
                "`[gitlab]` is set but `gitlab.install` is not: toolctl cannot tell which files GitLab reads".into(),
                "name how GitLab is deployed: `install = \"omnibus\"` (the Linux package), `\"docker\"`, `\"source\"` or `\"helm\"`"));
            return;
        };
        let paths: &[&str] = match install {
            "helm" => &[],
            _ => &["gitlab.secrets_file", "gitlab.encrypted_settings_dir"],
        };
        for key in paths {
            if r.str(key).is_none() {
                let example = match (*key, install) {
                    ("gitlab.secrets_file", "docker") => "`secrets_file = \"/srv/gitlab/etc/gitlab/gitlab-secrets.json\"` (the host side of the volume)",
                    ("gitlab.secrets_file", "source") => "`secrets_file = \"/home/git/gitlab/config/secrets.yml\"`",
                    ("gitlab.secrets_file", _) => "`secrets_file = \"/etc/gitlab/gitlab-secrets.json\"`",
                    (_, "docker") => "`encrypted_settings_dir = \"/srv/gitlab/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"`",
                    (_, "source") => "`encrypted_settings_dir = \"/home/git/gitlab/shared/encrypted_settings\"`",
                    _ => "`encrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"`",
                };
                out.push(diag(
                    e,
                    s,
                    key,
                    format!("`gitlab.install = \"{install}\"` needs `{key}`, but it is not set"),
                    format!("set it: {example}"),
                ));
            }
        }
        if install == "helm" {
            if r.str("gitlab.helm_release").is_none() {
                out.push(diag(
                    e,
                    s,
                    "gitlab.helm_release",
                    "`gitlab.install = \"helm\"` needs `gitlab.helm_release`, but it is not set"
                        .into(),
                    "name the release the Secrets are named after: `helm_release = \"gitlab\"`",
                ));
            }
            for key in ["gitlab.secrets_file", "gitlab.encrypted_settings_dir"] {
                if s.line(key).is_some() {
                    out.push(diag(Severity::Warning, s, key,
                        format!("`{key}` is not used with `install = \"helm\"`: the chart reads mounted Secrets"),
                        "remove the line"));
                }
            }
        }
        if install == "source" && r.str("gitlab.base_config").is_none() {
            out.push(diag(e, s, "gitlab.base_config",
                "`gitlab.install` is \"source\" but `gitlab.base_config` is not set".into(),
                "rename your config/gitlab.yml (e.g. to config/gitlab.base.yml) and set `base_config` to it: toolctl renders the whole file from it"));
        }
        if let Some(rel) = r.str("gitlab.helm_release") {
            let ok = !rel.is_empty()
                && rel.len() <= 53
                && rel
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !rel.starts_with('-')
                && !rel.ends_with('-');
            if !ok {
                out.push(diag(e, s, "gitlab.helm_release",
                    format!("`gitlab.helm_release` is `{rel}`, not a Helm release name"),
                    "write `helm_release` as `helm install` requires: lowercase letters, digits and `-` (at most 53), e.g. `gitlab`"));
            }
        }
        let mut absolute = vec![
            "gitlab.secrets_file",
            "gitlab.encrypted_settings_dir",
            "gitlab.base_config",
        ];
        if install == "docker" {
            absolute.extend(["gitlab.container_root", "gitlab.fragment_path"]);
        }
        for key in absolute {
            if let Some(v) = r.str(key) {
                if !v.starts_with('/') {
                    out.push(diag(
                        e,
                        s,
                        key,
                        format!("`{key}` is not an absolute path"),
                        "write the absolute path GitLab uses (it is read under `--root`)",
                    ));
                }
            }
        }
        if install == "docker" {
            match r.str("gitlab.container_root") {
                None => out.push(diag(e, s, "gitlab.container_root",
                    "`gitlab.install = \"docker\"` needs `gitlab.container_root`, but it is not set".into(),
                    "name the host directory that stands for the container's `/`, its volumes under it: `container_root = \"/srv/gitlab\"` (volumes `/srv/gitlab/etc/gitlab:/etc/gitlab`, `/srv/gitlab/var/opt/gitlab:/var/opt/gitlab`, `/srv/gitlab/var/log/gitlab:/var/log/gitlab`)")),
                Some(root) if root.starts_with('/') => {
                    let root = normalized(root);
                    for (key, inside) in [
                        ("gitlab.fragment_path", "etc/gitlab"),
                        ("gitlab.secrets_file", "etc/gitlab"),
                        ("gitlab.encrypted_settings_dir", "var/opt/gitlab"),
                    ] {
                        let Some(v) = r.str(key).filter(|v| v.starts_with('/')) else { continue };
                        if !normalized(v).starts_with(root.join(inside)) {
                            out.push(diag(e, s, key,
                                format!("`{key}` (`{v}`) is not inside the container's `/{inside}` volume (`{}/{inside}`)", root.display()),
                                format!("write the host path under `{}/{inside}`, or fix `container_root`", root.display())));
                        }
                    }
                }
                Some(_) => {}
            }
        }
        if let Err(why) = r.account("gitlab").ids() {
            let key = if why.starts_with("`gitlab.user`") {
                "gitlab.user"
            } else {
                "gitlab.group"
            };
            let hint = match install {
                "docker" => "write the ids git has inside the container: `user = \"998\"`, `group = \"998\"` (GitLab's image)",
                "omnibus" if s.line(key).is_none() => "the Linux package runs GitLab as `git`, which this system lacks: install GitLab first, or set `[gitlab] user` and `group`",
                _ => "create it first, or name the user GitLab runs as (omnibus: `git`)",
            };
            out.push(diag(e, s, key, why, hint));
        }
    }

    /// `redis://` or `rediss://`, a host, an optional database number, no password.
    pub fn check_redis_url(u: &str) -> std::result::Result<(), String> {
        let url = url::Url::parse(u).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(format!(
                "must be redis:// or rediss://, not `{}://`",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("has no host".into());
        }
        if url.password().is_some() {
            return Err("holds a password; toolctl.toml is no place for it".into());
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u32>().is_err() {
            return Err(format!(
                "has the path `{}`; only a database number may follow the port",
                url.path()
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("has a query or fragment".into());
        }
        Ok(())
    }

    /// nginx's size syntax: `100`, `100k`, `100M`, `1g`.
    fn nginx_size(v: &str) -> bool {
        let digits = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
        v.len() - digits.len() <= 1
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
    }

    /// nginx's time syntax: one or more `<digits><unit>` (`90s`, `1h30m`, `600`).
    fn nginx_time(v: &str) -> bool {
        let mut rest = v;
        if rest.is_empty() {
            return false;
        }
        while !rest.is_empty() {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            rest = &rest[n..];
            let unit = ["ms", "s", "m", "h", "d", "w", "M", "y"]
                .iter()
                .find(|u| rest.starts_with(**u));
            match unit {
                Some(u) => rest = &rest[u.len()..],
                None if rest.is_empty() => {}
                None => return false,
            }
        }
        true
    }

    pub use crate::model::paths::normalized;

    /// Why mail_room's log directory is refused (the directory, as it would be created).
    #[derive(Debug, PartialEq, Eq)]
    pub enum LogDirRefusal {
        /// Not strictly below `/var/log`, `/var/opt` or the log directory.
        Outside(String),
        /// The log directory, one of its ancestors, or one of toolctl's own directories
        /// (`own`), or an ancestor or a directory below one of them.
        Toolctls(String),
    }

    /// Whether mail_room's log file `log` lies in a directory reconfigure may create for
    /// mail_room's user: strictly below `/var/log/`, `/var/opt/` or the log directory
    /// `log_dir`, and neither `log_dir` nor an ancestor of it, nor one of toolctl's own
    /// directories `own` (`<log_dir>/reconfigure`, the rendered tree, the secrets
    /// directory), a directory below one, or an ancestor of one: mail_room's user owns its
    /// log directory, and could swap what toolctl writes there.
    pub fn log_file_allowed(
        log: &str,
        log_dir: &str,
        own: &[&str],
    ) -> std::result::Result<(), LogDirRefusal> {
        let file = normalized(log);
        let dir = file.parent().unwrap_or(std::path::Path::new("/"));
        let log_dir = normalized(log_dir);
        let allowed = [
            normalized("/var/log"),
            normalized("/var/opt"),
            log_dir.clone(),
        ];
        if file.parent().is_none() || !allowed.iter().any(|a| dir.starts_with(a)) {
            return Err(LogDirRefusal::Outside(dir.display().to_string()));
        }
        let clash = log_dir.starts_with(dir)
            || own
                .iter()
                .map(|o| normalized(o))
                .any(|o| o.starts_with(dir) || dir.starts_with(&o));
        if clash {
            return Err(LogDirRefusal::Toolctls(dir.display().to_string()));
        }
        if !allowed.iter().any(|a| dir.starts_with(a) && dir != a) {
            return Err(LogDirRefusal::Outside(dir.display().to_string()));
        }
        Ok(())
    }

    pub fn placeholder(addr: &str) -> std::result::Result<bool, String> {
        let Some((local, domain)) = addr.rsplit_once('@') else {
            return Err("is not an email address (no `@`)".into());
        };
        if local.is_empty() || domain.is_empty() {
            return Err("is not an email address".into());
        }
        let whole = addr.matches("%{key}").count();
        let partial = addr.matches("%{").count();
        if partial > whole || (addr.contains("key}") && addr.matches("key}").count() > whole) {
            return Err("has a malformed placeholder: write `%{key}` exactly".into());
        }
        if whole > 1 {
            return Err("has `%{key}` more than once".into());
        }
        if domain.contains("%{key}") {
            return Err(
                "has `%{key}` in the domain; it belongs in the local part, before the `@`".into(),
            );
        }
        Ok(whole == 1)
    }

    /// An http(s) URL with a host; for Mattermost, also an empty or `/` path.
    pub fn check_url(u: &str, root_only: bool) -> std::result::Result<(), String> {
        let url = url::Url::parse(u).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("must be http or https, not `{}`", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("has no host".into());
        }
        if root_only && !(url.path().is_empty() || url.path() == "/") {
            return Err(format!(
                "has a path (`{}`); Mattermost must be served at the root of its host",
                url.path()
            ));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn mail_room_logs_stay_in_the_log_directories() {
            let own = [
                "/srv/logs/reconfigure",
                "/var/opt/toolctl/rendered",
                "/var/opt/toolctl/secrets",
            ];
            let ok = |l: &str| log_file_allowed(l, "/srv/logs/", &own).is_ok();
            let toolctls = |l: &str| {
                matches!(
                    log_file_allowed(l, "/srv/logs/", &own),
                    Err(LogDirRefusal::Toolctls(_))
                )
            };
            assert!(ok("/var/log/toolctl/mailroom/mail_room_json.log"));
            assert!(ok("/var/log/gitlab/mailroom/mail_room_json.log"));
            assert!(ok("/var/opt/gitlab/mail_room/x.log"));
            assert!(ok("/srv/logs/a/b.log"));
            // Directly in a shared directory: that directory is not mail_room's.
            assert!(!ok("/var/log/mail_room_json.log"));
            assert!(!ok("/var/opt/x.log"));
            // The log directory, its ancestors, toolctl's own directories.
            assert!(toolctls("/srv/logs/x.log"));
            assert!(toolctls("/srv/logs/reconfigure/x.log"));
            assert!(toolctls("/srv/logs/reconfigure/deeper/x.log"));
            assert!(toolctls("/var/opt/toolctl/x.log"));
            assert!(toolctls("/var/opt/toolctl/rendered/mailroom/x.log"));
            assert!(toolctls("/var/opt/toolctl/secrets/x.log"));
            let default_own = ["/var/log/toolctl/reconfigure"];
            assert!(matches!(
                log_file_allowed("/var/log/toolctl/x.log", "/var/log/toolctl", &default_own),
                Err(LogDirRefusal::Toolctls(_))
            ));
            assert!(!ok("/etc/systemd/system/ssh.service.d/mail_room.log"));
            assert!(!ok("/var/log/../../etc/cron.d/x.log"));
            assert!(!ok("/var/logs/x.log"));
            assert!(!ok("/srv/logsx/x.log"));
            assert!(!ok("relative.log"));
        }

        #[test]
        fn placeholder_rules() {
            assert_eq!(placeholder("incoming+%{key}@gitlab.example.com"), Ok(true));
            assert_eq!(
                placeholder("incoming-%{key}@exchange.example.com"),
                Ok(true)
            );
            assert_eq!(placeholder("incoming@exchange.example.com"), Ok(false));
            assert!(placeholder("incoming+%{key}%{key}@x.com").is_err());
            assert!(placeholder("incoming@%{key}.x.com").is_err());
            assert!(placeholder("incoming+%{ke}@x.com").is_err());
            assert!(placeholder("incoming+%{key@x.com").is_err());
            assert!(placeholder("incoming").is_err());
        }

        #[test]
        fn redis_and_nginx_syntax() {
            assert!(check_redis_url("redis://127.0.0.1:6379").is_ok());
            assert!(check_redis_url("rediss://redis.example.com:6380/2").is_ok());
            assert!(check_redis_url("redis://:pw@127.0.0.1:6379").is_err());
            assert!(check_redis_url("http://127.0.0.1:6379").is_err());
            assert!(check_redis_url("redis://127.0.0.1/x").is_err());
            assert!(nginx_size("100M") && nginx_size("50m") && nginx_size("1024"));
            assert!(!nginx_size("100MB") && !nginx_size("") && !nginx_size("1M;"));
            assert!(
                nginx_time("600s")
                    && nginx_time("1h30m")
                    && nginx_time("90")
                    && nginx_time("500ms")
            );
            assert!(
                !nginx_time("10 s") && !nginx_time("s") && !nginx_time("10s;") && !nginx_time("")
            );
        }

        #[test]
        fn plain_http_is_told_apart_from_loopback() {
            assert_eq!(plain_http("https://graph.microsoft.com"), None);
            assert_eq!(plain_http("not a url"), None);
            assert_eq!(plain_http("http://graph.example.com"), Some(false));
            assert_eq!(plain_http("HTTP://Graph.Example.com/"), Some(false));
            assert_eq!(plain_http("http://127.0.0.2:8080"), Some(true));
            assert_eq!(plain_http("http://[::1]:8080"), Some(true));
            assert_eq!(plain_http("http://[::ffff:127.0.0.1]"), Some(true));
            assert_eq!(plain_http("http://LOCALHOST:1"), Some(true));
            assert_eq!(plain_http("http://localhost.example.com"), Some(false));
            assert_eq!(plain_http("http://127.0.0.1.nip.io"), Some(false));
            assert_eq!(plain_http("http://10.0.0.1"), Some(false));
        }

        #[test]
        fn mattermost_url_rules() {
            assert!(check_url("https://mattermost.example.com", true).is_ok());
            assert!(check_url("https://mattermost.example.com/", true).is_ok());
            assert!(check_url("https://example.com/mattermost", true).is_err());
            assert!(check_url("ftp://example.com", true).is_err());
            assert!(check_url("mattermost.example.com", true).is_err());
        }
    }
}
