//! Mattermost: the envdir (`mattermost/env/*`, one 0600 file per variable, as omnibus
//! writes it), the `config.json` created once from a template and never overwritten, and
//! the drift report for keys the environment overrides.

use serde_json::{json, Value};

use super::Context;
use crate::model::{EnvValue, Mattermost, MASK};

/// The default of `[mattermost] listen_address` (the schema's).
pub const LISTEN: &str = "127.0.0.1:8065";

/// One managed setting: its variable, its place in config.json, and whether it is secret.
pub struct Var {
    pub name: String,
    pub value: String,
    pub json: Option<(&'static str, &'static str)>,
    pub secret: bool,
}

/// A managed variable: name, value (none: not written), config.json section and key,
/// and whether it is secret.
type Managed = (
    &'static str,
    Option<String>,
    &'static str,
    &'static str,
    bool,
);

/// Every variable of the envdir, managed ones first, then `mattermost.env`.
pub fn env(cx: &Context) -> Vec<Var> {
    let mm = &cx.model.mattermost;
    let mut vars: Vec<Var> = managed(mm)
        .into_iter()
        .filter_map(|(name, value, section, key, secret)| {
            Some(Var {
                name: name.to_string(),
                value: value?,
                json: Some((section, key)),
                secret,
            })
        })
        .collect();
    for (name, value) in &mm.env {
        vars.retain(|v| &v.name != name);
        vars.push(Var {
            name: name.clone(),
            value: value.expose().to_string(),
            json: None,
            secret: matches!(value, EnvValue::Secret(_)),
        });
    }
    vars
}

/// The variables toolctl manages, in the envdir's order (a table: one row a line).
#[rustfmt::skip]
fn managed(mm: &Mattermost) -> Vec<Managed> {
    let site = mm
        .external_url
        .as_ref()
        .map(|u| u.trim_end_matches('/').to_string());
    let gitlab_secret = mm.gitlab_secret.as_ref().map(|s| s.expose().clone());
    let password = mm.sql_password.as_ref().map(|p| p.expose().as_str());
    let source = mm.sql_data_source.clone().map(|ds| match password {
        // Quoted (or percent-encoded in a URL) as lib/pq reads it: a password with a space or
        // a quote must not end the keyword.
        Some(p) => crate::model::datasource::with_password(&ds, p),
        None => ds,
    });
    let enable = Some(mm.gitlab_enable.to_string());
    let gitlab = "GitLabSettings";
    vec![
        ("MM_SERVICESETTINGS_SITEURL", site, "ServiceSettings", "SiteURL", false),
        ("MM_SERVICESETTINGS_LISTENADDRESS", Some(mm.listen_address.clone()), "ServiceSettings", "ListenAddress", false),
        ("MM_GITLABSETTINGS_ENABLE", enable, gitlab, "Enable", false),
        ("MM_GITLABSETTINGS_ID", mm.gitlab_id.clone(), gitlab, "Id", false),
        ("MM_GITLABSETTINGS_SECRET", gitlab_secret, gitlab, "Secret", true),
        ("MM_GITLABSETTINGS_SCOPE", mm.gitlab_scope.clone(), gitlab, "Scope", false),
        ("MM_GITLABSETTINGS_AUTHENDPOINT", mm.gitlab_auth_endpoint.clone(), gitlab, "AuthEndpoint", false),
        ("MM_GITLABSETTINGS_TOKENENDPOINT", mm.gitlab_token_endpoint.clone(), gitlab, "TokenEndpoint", false),
        ("MM_GITLABSETTINGS_USERAPIENDPOINT", mm.gitlab_user_api_endpoint.clone(), gitlab, "UserAPIEndpoint", false),
        ("MM_SQLSETTINGS_DRIVERNAME", mm.sql_driver_name.clone(), "SqlSettings", "DriverName", false),
        ("MM_SQLSETTINGS_DATASOURCE", source, "SqlSettings", "DataSource", password.is_some()),
        // The data directory toolctl backs up and restores is the one Mattermost uses.
        (crate::model::DIRECTORY_ENV, mm.data_dir.clone(), "FileSettings", "Directory", false),
    ]
}

/// The Mattermost user: `mattermost.uid`/`gid`, else the owner of the data directory the
/// settings name (`data_dir`, else an absolute MM_FILESETTINGS_DIRECTORY of `env`) when
/// it exists and is not root's; `None` when unknown.
pub fn owner(cx: &Context) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mm = &cx.model.mattermost;
    match (mm.uid, mm.gid) {
        (Some(u), Some(g)) => return Some((u as u32, g as u32)),
        (Some(u), None) => return Some((u as u32, u as u32)),
        _ => {}
    }
    let dir = mm
        .data_dir
        .as_deref()
        .or_else(|| mm.env_var(crate::model::DIRECTORY_ENV))
        .filter(|d| d.starts_with('/'))?;
    let meta = std::fs::metadata(cx.paths.rooted(dir)).ok()?;
    (meta.is_dir() && meta.uid() != 0).then(|| (meta.uid(), meta.gid()))
}

/// The `config.json` written when there is none: the managed keys as the environment sets
/// them (secrets left empty: they come from the environment only).
pub fn config_template(vars: &[Var]) -> String {
    let mut doc = json!({
        "ServiceSettings": {},
        "GitLabSettings": {},
        "SqlSettings": {},
        "TeamSettings": { "SiteName": "Mattermost" },
        "EmailSettings": { "EnableSignUpWithEmail": false },
    });
    for v in vars {
        if let Some((section, key)) = v.json {
            let value = if v.secret {
                Value::String(String::new())
            } else if v.value == "true" || v.value == "false" {
                Value::Bool(v.value == "true")
            } else {
                Value::String(v.value.clone())
            };
            doc[section][key] = value;
        }
    }
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON serializes");
    s.push('\n');
    s
}

/// Managed keys that an existing `config.json` sets to another value (the System Console
/// writes there; the environment wins, so the console's value is silently ignored).
pub fn drift(existing: &[u8], vars: &[Var]) -> Vec<String> {
    let Ok(doc) = serde_json::from_slice::<Value>(existing) else {
        return vec![
            "mattermost/config.json is not valid JSON; Mattermost will refuse to start".into(),
        ];
    };
    let mut out = Vec::new();
    for v in vars {
        let Some((section, key)) = v.json else {
            continue;
        };
        let found = match doc.get(section).and_then(|s| s.get(key)) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.is_empty() => continue,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if found != v.value {
            let shown = if v.secret {
                MASK.to_string()
            } else {
                format!("\"{found}\"")
            };
            out.push(format!(
                "mattermost/config.json sets {section}.{key} = {shown}, but {} overrides it with the value from toolctl.toml",
                v.name
            ));
        }
    }
    out
}
