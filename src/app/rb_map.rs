//! `import gitlab-rb`: what gitlab.rb's statements become, toolctl.toml settings and store
//! credentials. The bridge between GitLab's names ([`crate::gitlab::rb`] reads the file)
//! and toolctl's (the settings schema, the secrets' scopes), so it lives with the command,
//! above both.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::gitlab::rb::{self, RbValue, Statement};
use crate::secrets::Scope;
use crate::settings::schema::{self, Kind};

/// A setting for toolctl.toml.
pub struct Setting {
    pub path: String,
    pub value: toml_edit::Value,
    pub line: usize,
    pub from: String,
}

/// A credential for the store (the value never leaves this struct but into the store).
pub struct Credential {
    pub scope: Scope,
    pub key: &'static str,
    pub value: Zeroizing<String>,
    pub line: usize,
    pub from: String,
}

/// A line not imported.
pub struct NotImported {
    pub line: usize,
    pub name: String,
    pub reason: String,
}

#[derive(Default)]
pub struct Mapped {
    pub settings: Vec<Setting>,
    pub credentials: Vec<Credential>,
    pub not_imported: Vec<NotImported>,
    /// (line, toolctl key, path) of paths into GitLab's own directories.
    pub gitlab_paths: Vec<(usize, String, String)>,
    /// (line, toolctl key, path) of every imported path outside [`USUAL_DIRS`]:
    /// someone else's gitlab.rb decides where toolctl's services read and write.
    pub outside_paths: Vec<(usize, String, String)>,
    pub notes: Vec<String>,
    /// (line, gitlab.rb name, why) of every later assignment that replaces a value with one
    /// this import does not take (nil, Ruby it does not evaluate, a condition).
    resets: Vec<(usize, String, String)>,
}

const GITLAB_DIRS: &[&str] = &[
    "/var/log/gitlab",
    "/etc/gitlab",
    "/var/opt/gitlab",
    "/opt/gitlab",
];

/// Where an imported path is expected; any other is listed ([`Mapped::outside_paths`]).
pub const USUAL_DIRS: &[&str] = &["/var/log", "/var/opt", "/etc/gitlab", "/opt/gitlab"];

/// Reads gitlab.rb's text into settings, credentials and a list of what was not taken.
pub fn map(text: &str) -> Mapped {
    let (statements, skipped) = rb::parse(text);
    let mut m = Mapped::default();
    for s in skipped {
        if s.reason == rb::UNCLOSED_BLOCK {
            m.notes.push(format!("line {}: {}: GitLab's reconfigure fails on this gitlab.rb as it is; fix the file, then import it again", s.line, rb::UNCLOSED_BLOCK));
        }
        if !s.name.is_empty() {
            m.resets.push((s.line, s.name.clone(), s.reason.clone()));
        }
        m.not_imported.push(NotImported {
            line: s.line,
            name: s.name,
            reason: s.reason,
        });
    }
    let mut mattermost_host: Option<(usize, String)> = None;
    // Later assignments win, as in Ruby: keep the last of each key.
    for st in &statements {
        if st.object == "gitlab_rails" && st.key.as_deref() == Some("mattermost_host") {
            match &st.value {
                RbValue::Str(s) => mattermost_host = Some((st.line, s.clone())),
                other => skip(
                    &mut m,
                    st,
                    format!("expected a string, found {}", other.kind()),
                ),
            }
            continue;
        }
        statement(&mut m, st);
    }
    if let Some((line, host)) = mattermost_host {
        let from = "gitlab_rails['mattermost_host']".to_string();
        let set = m
            .settings
            .iter()
            .find(|s| s.path == "mattermost.external_url")
            .map(|s| s.value.as_str().unwrap_or_default().to_string());
        match set {
            None => m.settings.push(Setting {
                path: "mattermost.external_url".into(),
                value: toml_edit::Value::from(host),
                line,
                from,
            }),
            Some(url) if url.trim_end_matches('/') != host.trim_end_matches('/') => {
                m.notes.push(format!(
                    "line {line}: `gitlab_rails['mattermost_host']` is `{host}` but `mattermost_external_url` is `{url}`; toolctl keeps `{url}` (both are `mattermost.external_url`)"
                ));
                m.not_imported.push(NotImported {
                    line,
                    name: from,
                    reason: "differs from `mattermost_external_url`, which wins".into(),
                });
            }
            Some(_) => m.not_imported.push(NotImported {
                line,
                name: from,
                reason: "the same URL as `mattermost_external_url` (`mattermost.external_url`)"
                    .into(),
            }),
        }
    }
    removed_in_19(&mut m, &statements);
    smtp_ssl(&mut m);
    // One value per key: the last assignment wins, as Ruby would have it.
    dedupe(&mut m);
    // …and a later assignment this import cannot take wins over an earlier one it took.
    superseded(&mut m);
    as_gitlab_reads(&mut m, &statements);
    // A path with a control character (a newline in a log path starts a line in every file
    // it is rendered into) is not imported.
    let (bad, good): (Vec<Setting>, Vec<Setting>) = m.settings.drain(..).partition(|s| {
        crate::settings::schema::is_path_key(&s.path)
            && s.value
                .as_str()
                .is_some_and(crate::settings::schema::has_control)
    });
    m.settings = good;
    for s in bad {
        m.not_imported.push(NotImported {
            line: s.line,
            name: s.from,
            reason: "control character in a path".into(),
        });
    }
    for s in &m.settings {
        if let Some(v) = s.value.as_str() {
            let path_like = [
                "ca_file",
                "log_file",
                "ssl_certificate",
                "ssl_certificate_key",
                "config_file",
            ]
            .iter()
            .any(|leaf| s.path.ends_with(leaf));
            if path_like
                && GITLAB_DIRS
                    .iter()
                    .any(|d| v == *d || v.starts_with(&format!("{d}/")))
            {
                m.gitlab_paths.push((s.line, s.path.clone(), v.to_string()));
            }
            // Every absolute path, as reconfigure would read it (`..` applied).
            if v.starts_with('/') {
                let p = crate::settings::resolve::rules::normalized(v);
                if !USUAL_DIRS.iter().any(|d| p.starts_with(d)) {
                    m.outside_paths
                        .push((s.line, s.path.clone(), v.to_string()));
                }
            }
        }
    }
    m.not_imported.sort_by_key(|n| n.line);
    m
}

/// `smtp_ssl` and `smtp_tls` both mean implicit TLS: the `mail` gem uses TLS when either
/// is true, so the two become one `smtp.tls`, true when either's last value is.
fn smtp_ssl(m: &mut Mapped) {
    let last = |m: &Mapped, name: &str| {
        m.settings
            .iter()
            .rposition(|s| s.path == "smtp.tls" && s.from == name)
    };
    let (Some(tls), Some(ssl)) = (
        last(m, "gitlab_rails['smtp_tls']"),
        last(m, "gitlab_rails['smtp_ssl']"),
    ) else {
        return;
    };
    let either = [tls, ssl]
        .iter()
        .any(|i| m.settings[*i].value.as_bool() == Some(true));
    let (keep, other) = if tls > ssl { (tls, ssl) } else { (ssl, tls) };
    m.settings[keep].value = toml_edit::Value::from(either);
    let line = m.settings[keep].line;
    let gone = m.settings.remove(other);
    m.not_imported.push(NotImported {
        line: gone.line,
        name: gone.from,
        reason: format!(
            "combined with line {line} into `smtp.tls` = {either}: GitLab uses implicit TLS when `smtp_tls` or `smtp_ssl` is true"
        ),
    });
}

/// Drops every value taken from a statement that a later line assigns again with a value
/// this import does not take (nil, Ruby it does not evaluate, a statement inside a
/// condition): GitLab would not use the earlier value, so toolctl does not either.
fn superseded(m: &mut Mapped) {
    let resets = std::mem::take(&mut m.resets);
    let later = |from: &str, line: usize| {
        resets
            .iter()
            .filter(|(l, name, _)| {
                *l > line
                    && (from == name
                        || from.starts_with(&format!("{name}["))
                        || from.starts_with(&format!("{name} ")))
            })
            .max_by_key(|(l, _, _)| *l)
            .cloned()
    };
    let mut gone = Vec::new();
    m.settings.retain(|s| match later(&s.from, s.line) {
        Some(r) => {
            gone.push((
                s.line,
                s.from.clone(),
                format!("toolctl config set {} …", s.path),
                r,
            ));
            false
        }
        None => true,
    });
    m.credentials.retain(|c| match later(&c.from, c.line) {
        Some(r) => {
            gone.push((
                c.line,
                c.from.clone(),
                format!("toolctl {} secret set {}", c.scope.cli_name(), c.key),
                r,
            ));
            false
        }
        None => true,
    });
    for (line, from, fix, (at, _, why)) in gone {
        let reason = if why == "nil" {
            format!("superseded by line {at}, which sets it to nil: GitLab's default applies (and toolctl's)")
        } else {
            m.notes.push(format!(
                "line {line}: `{from}` is assigned again on line {at}, which this import cannot read ({why}); the earlier value is not imported either: if GitLab ends up with a value, set it with `{fix}`"
            ));
            format!("superseded by line {at}, which this reader cannot read; the value GitLab uses is unknown")
        };
        m.not_imported.push(NotImported {
            line,
            name: from,
            reason,
        });
    }
}

/// What GitLab reads where gitlab.rb leaves a value to it, or cannot use what it holds:
/// `smtp_enable` with no `smtp_address` or `smtp_port` sends through the `mail` gem's
/// localhost:25; an `external_url` that is no URL (the package's `GENERATED_EXTERNAL_URL`
/// placeholder) is refused by GitLab's reconfigure, so it is not imported and a note says
/// how to set it.
fn as_gitlab_reads(m: &mut Mapped, statements: &[Statement]) {
    if let Some(i) = m.settings.iter().position(|s| s.path == "external_url") {
        let url = m.settings[i].value.as_str().unwrap_or_default().to_string();
        let valid = ["http://", "https://"].iter().any(|p| {
            url.strip_prefix(p)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        });
        if !valid {
            let s = m.settings.remove(i);
            let what = if url == "GENERATED_EXTERNAL_URL" {
                "is the package's placeholder `GENERATED_EXTERNAL_URL`"
            } else {
                "is not an http:// or https:// URL"
            };
            m.notes.push(format!(
                "line {}: `external_url` {what}: GitLab's reconfigure refuses it too. Set GitLab's address: `toolctl config set external_url https://gitlab.example.com` (and in gitlab.rb)",
                s.line
            ));
            m.not_imported.push(NotImported {
                line: s.line,
                name: s.from,
                reason: format!("{what}, which GitLab refuses"),
            });
        }
    }
    let enabled = m
        .settings
        .iter()
        .find(|s| s.path == "smtp.enabled" && s.value.as_bool() == Some(true))
        .map(|s| s.line);
    let Some(line) = enabled else { return };
    // A key any line names (even one not imported) is not GitLab's default.
    let named = |key: &str| {
        statements
            .iter()
            .any(|st| st.object == "gitlab_rails" && st.key.as_deref() == Some(key))
            || m.not_imported
                .iter()
                .any(|n| n.name == format!("gitlab_rails['{key}']"))
    };
    for (key, path, value) in [
        (
            "smtp_address",
            "smtp.address",
            toml_edit::Value::from("localhost"),
        ),
        ("smtp_port", "smtp.port", toml_edit::Value::from(25)),
    ] {
        if named(key) || m.settings.iter().any(|s| s.path == path) {
            continue;
        }
        m.notes.push(format!(
            "line {line}: `smtp_enable` is true and gitlab.rb sets no `{key}`: GitLab then uses {value} (the `mail` gem's default), so `{path}` is imported as {value}; change it with `toolctl config set {path} …` if that is not meant"
        ));
        m.settings.push(Setting {
            path: path.into(),
            value,
            line,
            from: format!("gitlab_rails['{key}'] (not set: GitLab's default)"),
        });
    }
}

fn dedupe(m: &mut Mapped) {
    let mut seen = std::collections::HashSet::new();
    let mut keep = Vec::new();
    for s in m.settings.drain(..).rev() {
        if seen.insert(s.path.clone()) {
            keep.push(s);
        } else {
            m.not_imported.push(NotImported {
                line: s.line,
                name: s.from.clone(),
                reason: "assigned again later in the file; the later value is imported".into(),
            });
        }
    }
    keep.reverse();
    m.settings = keep;
    let mut seen = std::collections::HashSet::new();
    let mut keep = Vec::new();
    for c in m.credentials.drain(..).rev() {
        if seen.insert((c.scope, c.key)) {
            keep.push(c);
        } else {
            m.not_imported.push(NotImported {
                line: c.line,
                name: c.from.clone(),
                reason: "assigned again later in the file; the later value is imported".into(),
            });
        }
    }
    keep.reverse();
    m.credentials = keep;
}

fn skip(m: &mut Mapped, st: &Statement, reason: String) {
    m.not_imported.push(NotImported {
        line: st.line,
        name: st.name(),
        reason,
    });
}

/// The toolctl key of a `gitlab_rails[...]` key.
fn rails_path(key: &str) -> Result<String, String> {
    match key {
        "gitlab_email_from" => return Ok("email.from".into()),
        "gitlab_email_reply_to" => return Ok("email.reply_to".into()),
        "gitlab_email_enabled" => return Ok("email.enabled".into()),
        "smtp_enable" => return Ok("smtp.enabled".into()),
        // The `mail` gem and GitLab read `ssl` as `tls` (implicit TLS, port 465).
        "smtp_ssl" => return Ok("smtp.tls".into()),
        _ => {}
    }
    for t in ["incoming_email", "service_desk_email"] {
        if let Some(leaf) = key.strip_prefix(&format!("{t}_")) {
            let leaf = match leaf {
                "email" => "user",
                "mailbox_name" => "mailbox",
                "secret_file" => {
                    return Err("toolctl renders the webhook token itself, from the `mailroom` secret (`mailroom/.gitlab_mailroom_secret`)".into())
                }
                // A hash: its entries are checked one by one.
                "inbox_options" => return Ok(format!("{t}.inbox_options")),
                other => other,
            };
            return known(&format!("{t}.{leaf}"));
        }
    }
    for t in ["smtp", "microsoft_graph_mailer"] {
        if let Some(leaf) = key.strip_prefix(&format!("{t}_")) {
            return known(&format!("{t}.{leaf}"));
        }
    }
    Err("unknown key: toolctl has no setting for it".into())
}

fn known(path: &str) -> Result<String, String> {
    match schema::find(path) {
        Some(_) => Ok(path.to_string()),
        None => Err("unknown key: toolctl has no setting for it".into()),
    }
}

fn statement(m: &mut Mapped, st: &Statement) {
    let path = match (st.object.as_str(), st.key.as_deref()) {
        ("external_url", None) => Ok("external_url".to_string()),
        ("mattermost_external_url", None) => Ok("mattermost.external_url".to_string()),
        ("gitlab_rails", Some(k)) => rails_path(k),
        ("mattermost", Some("enable")) => Err(
            "toolctl enables Mattermost by `mattermost.external_url` (`mattermost_external_url`)"
                .to_string(),
        ),
        ("mattermost", Some("external_url")) => Ok("mattermost.external_url".into()),
        ("mattermost", Some(k)) if !k.contains('.') => known(&format!("mattermost.{k}")),
        ("mattermost_nginx", Some(k)) => known(&format!("mattermost.nginx.{k}")),
        ("mailroom", Some(k)) if !matches!(k, "user" | "group") => known(&format!("mailroom.{k}")),
        (obj, Some(_)) => Err(format!("`{obj}` is not a service toolctl manages")),
        (obj, None) => Err(format!("`{obj}` is not a setting toolctl manages")),
    };
    let path = match path {
        Ok(p) => p,
        Err(why) => return skip(m, st, why),
    };
    if path.ends_with(".inbox_options") {
        let RbValue::Hash(entries) = &st.value else {
            let why = format!("expected a hash, found {}", st.value.kind());
            let reset = if st.value == RbValue::Nil {
                "nil".to_string()
            } else {
                why.clone()
            };
            m.resets.push((st.line, st.name(), reset));
            return skip(m, st, why);
        };
        for (k, v) in entries {
            let sub = format!("{path}.{k}");
            if schema::find(&sub).is_none() {
                m.not_imported.push(NotImported {
                    line: st.line,
                    name: format!("{}['{k}']", st.name()),
                    reason: "unknown key: toolctl has no setting for it".into(),
                });
                continue;
            }
            value(m, st, &sub, v, format!("{}['{k}']", st.name()));
        }
        return;
    }
    value(m, st, &path, &st.value, st.name());
}

fn value(m: &mut Mapped, st: &Statement, path: &str, v: &RbValue, from: String) {
    let key = schema::find(path).expect("checked by the caller");
    let not = |m: &mut Mapped, reason: String| {
        // A later value not taken makes an earlier one stale (see `superseded`).
        let why = if *v == RbValue::Nil {
            "nil".to_string()
        } else {
            reason.clone()
        };
        m.resets.push((st.line, from.clone(), why));
        m.not_imported.push(NotImported {
            line: st.line,
            name: from.clone(),
            reason,
        })
    };
    if *v == RbValue::Nil && path == "smtp.authentication" {
        // No authentication: how toolctl's own fragment writes `authentication = "none"`.
        m.settings.push(Setting {
            path: path.into(),
            value: toml_edit::Value::from("none"),
            line: st.line,
            from,
        });
        return;
    }
    if *v == RbValue::Nil {
        return not(m, "nil: GitLab's default applies (and toolctl's)".into());
    }
    if let Some((scope, name)) = key.secret {
        return match v {
            RbValue::Str(s) => m.credentials.push(Credential {
                scope,
                key: name,
                value: Zeroizing::new(s.clone()),
                line: st.line,
                from,
            }),
            other => not(
                m,
                format!("a credential must be a string, found {}", other.kind()),
            ),
        };
    }
    let value = match (key.kind, v) {
        (Kind::Str, RbValue::Str(s)) => toml_edit::Value::from(s.as_str()),
        (Kind::Enum(allowed), RbValue::Str(s)) if allowed.contains(&s.as_str()) => {
            toml_edit::Value::from(s.as_str())
        }
        (Kind::Int(min, max), RbValue::Int(n)) if (min..=max).contains(n) => {
            toml_edit::Value::from(*n)
        }
        (Kind::Int(min, max), RbValue::Str(s))
            if s.parse::<i64>().is_ok_and(|n| (min..=max).contains(&n)) =>
        {
            toml_edit::Value::from(s.parse::<i64>().unwrap_or_default())
        }
        (Kind::Bool, RbValue::Bool(b)) => toml_edit::Value::from(*b),
        (Kind::Map, RbValue::Hash(entries)) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in entries {
                match v {
                    RbValue::Str(s) => {
                        t.insert(k, toml_edit::Value::from(s.as_str()));
                    }
                    other => {
                        return not(
                            m,
                            format!("`{k}` is {}, toolctl takes strings only", other.kind()),
                        )
                    }
                }
            }
            toml_edit::Value::InlineTable(t)
        }
        (kind, other) => {
            return not(
                m,
                format!(
                    "`{path}` must be {}, found {}",
                    kind.describe(),
                    other.kind()
                ),
            )
        }
    };
    // What every command reading `[mattermost]` refuses is not imported, with the reason.
    if path == "mattermost.sql_driver_name" && value.as_str() == Some("mysql") {
        return not(
            m,
            "toolctl checks, backs up and restores Mattermost's database with PostgreSQL's clients only: move Mattermost to PostgreSQL first (`migration-assist`, pgloader)".into(),
        );
    }
    if matches!(
        path,
        "mattermost.sql_data_source" | "mattermost.admin_data_source"
    ) {
        if let Some((why, hint)) = value
            .as_str()
            .and_then(crate::model::datasource::go_only_in)
        {
            return not(m, format!("{why}; {hint}"));
        }
    }
    // A password inside Mattermost's data source belongs in the `sql_password` secret.
    if path == "mattermost.sql_data_source" {
        if let Some(s) = value.as_str() {
            let (rest, password) = split_password(s);
            if let Some(pw) = password {
                m.credentials.push(Credential {
                    scope: Scope::Mattermost,
                    key: "sql_password",
                    value: pw,
                    line: st.line,
                    from: format!("{from} (password=)"),
                });
                m.settings.push(Setting {
                    path: path.into(),
                    value: toml_edit::Value::from(rest),
                    line: st.line,
                    from,
                });
                return;
            }
        }
    }
    m.settings.push(Setting {
        path: path.into(),
        value,
        line: st.line,
        from,
    });
}

/// `user=x password=y dbname=z` → (`user=x dbname=z`, `y`).
fn split_password(ds: &str) -> (String, Option<Zeroizing<String>>) {
    // The same reader of both data-source forms as `mattermost backup` uses.
    let (rest, password) = crate::mattermost::pg::split_password(ds);
    (rest, password.map(Zeroizing::new))
}

/// The credentials grouped by scope.
pub fn by_scope(creds: &[Credential]) -> BTreeMap<Scope, Vec<&Credential>> {
    let mut out: BTreeMap<Scope, Vec<&Credential>> = BTreeMap::new();
    for c in creds {
        out.entry(c.scope).or_default().push(c);
    }
    out
}

/// The objects of the bundled Mattermost, which GitLab 19.0 removed: omnibus' reconfigure
/// aborts ("Removed configurations found in gitlab.rb") while any of them is in gitlab.rb.
const BUNDLED_MATTERMOST: &[&str] = &["mattermost", "mattermost_external_url", "mattermost_nginx"];

/// A note for every line that sets the bundled Mattermost (`mattermost['enable']` first
/// among them): imported where toolctl has the setting, but to be removed from gitlab.rb
/// before GitLab 19.0's `gitlab-ctl reconfigure`.
fn removed_in_19(m: &mut Mapped, statements: &[Statement]) {
    for st in statements
        .iter()
        .filter(|st| BUNDLED_MATTERMOST.contains(&st.object.as_str()))
    {
        m.notes.push(format!(
            "line {}: `{}` configures the bundled Mattermost, removed in GitLab 19.0: its `gitlab-ctl reconfigure` aborts (\"Removed configurations found in gitlab.rb\") while the line is there; remove it and run Mattermost on its own (README: \"Wire toolctl into GitLab\")",
            st.line,
            st.name()
        ));
    }
}
