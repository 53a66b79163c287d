//! The Mattermost probe: the database with the rendered data source and the
//! `sql_password` secret (`SELECT version()`, the schema version in `Systems`), the
//! SiteURL's `/api/v4/system/ping`, and whether the GitLab OAuth endpoints sit under the
//! top-level `external_url` they are derived from (skipped when the ping failed).
//!
//! The database steps run through a [`Database`] the caller opens (`app::check`: the same
//! `psql` plumbing as backup and restore, password in the child's environment only), so
//! the probe holds no PostgreSQL client code of its own.

use std::sync::Arc;

use crate::model::Model;
use crate::probe::{fail, tls, Failure, Probe};

/// The database side of the probe, opened by the caller.
pub trait Database: Send + Sync {
    /// One query's rows, in the configured database.
    fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, Failure>;
    /// `dbname at host:port`, for the step's detail.
    fn describe(&self) -> String;
}

/// Opens the database of the model; warnings about the data source go to `warnings`, an
/// error is the message of a data source that cannot be used.
pub type Connect = fn(&Model, &mut Vec<String>) -> Result<Arc<dyn Database>, String>;

/// What the probe needs, taken from the resolved settings before it runs.
pub struct Target {
    pub conn: Result<Arc<dyn Database>, String>,
    pub site_url: String,
    pub gitlab_url: Option<String>,
    pub endpoints: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

impl Target {
    pub fn new(m: &Model, connect: Connect) -> Target {
        let mm = &m.mattermost;
        let mut warnings = Vec::new();
        let conn = connect(m, &mut warnings);
        let endpoints = mm
            .endpoints()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Target {
            conn,
            site_url: mm
                .external_url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            gitlab_url: m
                .external_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            endpoints,
            warnings,
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(fail(
            "the database step panicked",
            "report this as a toolctl bug",
        ))
    })
}

pub async fn probe(p: &mut Probe, t: Target) {
    for w in &t.warnings {
        p.warn("settings", w.clone(), "fix `mattermost.sql_data_source`");
    }
    let conn = match t.conn {
        Ok(c) => c,
        Err(e) => return p.fail_now("database", fail(e, "fix `mattermost.sql_data_source`")),
    };
    let c = conn.clone();
    let found = p
        .step(
            "database",
            blocking(move || {
                let rows = c.query("SELECT version(), to_regclass('Systems') IS NOT NULL")?;
                let row = rows.first().cloned().unwrap_or_default();
                let version = row.first().cloned().unwrap_or_default();
                let systems = row.get(1).map(|s| s == "t").unwrap_or(false);
                let detail = format!("{}: {version}", c.describe());
                Ok((systems, detail))
            }),
        )
        .await;
    match found {
        Some(true) => {
            let c = conn.clone();
            let v = p
                .step(
                    "schema",
                    blocking(move || {
                        let rows = c.query("SELECT Value FROM Systems WHERE Name = 'Version'")?;
                        let v = rows.first().and_then(|r| r.first()).cloned();
                        let detail = v.clone().map(|v| format!("Mattermost schema version {v}")).unwrap_or_default();
                        Ok((v, detail))
                    }),
                )
                .await;
            if let Some(None) = v {
                p.downgrade_last(
                    "the Systems table has no Version row".into(),
                    "Mattermost has not finished starting against this database yet".into(),
                );
            }
        }
        Some(false) => p.warn(
            "schema",
            "no Mattermost schema (no Systems table)",
            "Mattermost has not started against this database yet; start it once, or restore a backup",
        ),
        None => {}
    }
    let answered = ping(p, &t.site_url).await;
    if answered {
        oauth(p, t.gitlab_url.as_deref(), &t.endpoints);
    } else {
        // The endpoints are only settings until a running Mattermost uses them: an `ok`
        // here would vouch for SSO on a server that did not answer.
        p.skip(
            "oauth",
            "not checked: Mattermost did not answer the ping, so its GitLab SSO cannot work yet",
        );
    }
}

/// Whether Mattermost answered `{"status":"OK"}`.
async fn ping(p: &mut Probe, site: &str) -> bool {
    let url = format!("{site}/api/v4/system/ping");
    let timeout = p.timeout;
    p.step("ping", async move {
        let config = tls::config(&tls::Trust::system())?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*config).clone())
            .timeout(timeout)
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}"), "report this as a toolctl bug"))?;
        let resp = http.get(&url).send().await.map_err(|e| {
            fail(
                format!("GET {url}: {e}"),
                "check that Mattermost runs and `mattermost.external_url` reaches it (DNS, nginx, firewall)",
            )
        })?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let ok = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(|s| s == "OK"))
            .unwrap_or(false);
        if status.as_u16() == 200 && ok {
            Ok(((), format!("GET {url}: 200, status OK")))
        } else {
            let shown: String = body.chars().take(120).collect();
            Err(fail(
                format!("GET {url}: {status}, not {{\"status\":\"OK\"}} ({shown})"),
                "Mattermost is not healthy behind this URL: check its log and the proxy in front of it",
            ))
        }
    })
    .await
    .is_some()
}

fn oauth(p: &mut Probe, gitlab: Option<&str>, endpoints: &[(String, String)]) {
    let Some(base) = gitlab else {
        p.skip(
            "oauth",
            "no top-level `external_url`: GitLab SSO endpoints not checked",
        );
        return;
    };
    let elsewhere: Vec<String> = endpoints
        .iter()
        .filter(|(_, v)| !v.starts_with(&format!("{base}/")))
        .map(|(k, v)| format!("`{k}` = {v}"))
        .collect();
    if elsewhere.is_empty() {
        p.ok(
            "oauth",
            format!("the GitLab OAuth endpoints are under {base}"),
        );
    } else {
        p.warn(
            "oauth",
            format!(
                "not under GitLab's `external_url` ({base}): {}",
                elsewhere.join(", ")
            ),
            "unset them to derive them from `external_url`, or point them at GitLab",
        );
    }
}
