//! The Microsoft Graph probes: the mailer (token → optionally sendMail) and the Graph
//! inboxes of incoming email and Service Desk (token → unread count, read-only).
//!
//! Facts they rest on: the token endpoint answers errors as `{"error", "error_description",
//! "error_codes"}` and is classified on those, never on the HTTP status (an invalid secret
//! has come back as 401 and as 400); sendMail takes the MIME message base64-encoded as
//! `text/plain` and answers 202; Graph errors are `{"error": {"code", "message"}}`; 429
//! carries `Retry-After`, honoured once. The inbox is only read: never PATCH or DELETE.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use zeroize::Zeroizing;

use super::tls::{self, Trust};
use super::{fail, Failure, Probe};

/// An application's client-credentials identity.
pub struct App {
    pub azure_ad_endpoint: String,
    pub graph_endpoint: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    /// The secret's scope, for hints.
    pub scope: &'static str,
    /// The settings table, for hints.
    pub table: &'static str,
}

/// The mailer's test message.
pub struct Send {
    pub user_id: String,
    pub from: String,
    pub to: String,
}

fn client(timeout: Duration) -> Result<reqwest::Client, Failure> {
    let config = tls::config(&Trust::system())?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*config).clone())
        .timeout(timeout)
        .build()
        .map_err(|e| {
            fail(
                format!("cannot build the HTTP client: {e}"),
                "report this as a toolctl bug",
            )
        })
}

fn transport(e: reqwest::Error, what: &str) -> Failure {
    let hint = if e.is_connect() {
        format!(
            "cannot reach the {what}: check the endpoint setting, DNS, and any proxy or firewall"
        )
    } else if e.is_timeout() {
        format!("the {what} did not answer in time (`--timeout` raises the limit)")
    } else {
        format!("check the {what} endpoint setting")
    };
    // Without the URL: the inbox URL holds the mailbox user, which is part of a secret.
    fail(
        format!("request to the {what} failed: {}", e.without_url()),
        hint,
    )
}

/// POST {azure_ad}/{tenant}/oauth2/v2.0/token with the client credentials.
pub async fn token(
    app: &App,
    http: &reqwest::Client,
) -> Result<(Zeroizing<String>, String), Failure> {
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        app.azure_ad_endpoint.trim_end_matches('/'),
        app.tenant
    );
    let scope = format!("{}/.default", app.graph_endpoint.trim_end_matches('/'));
    let body = format!(
        "grant_type=client_credentials&scope={}",
        url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>()
    );
    let resp = http
        .post(&url)
        .basic_auth(&app.client_id, Some(app.client_secret.as_str()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| transport(e, "Microsoft Entra token endpoint"))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| transport(e, "Microsoft Entra token endpoint"))?;
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(token) = json.get("access_token").and_then(Value::as_str) {
        let expires = json.get("expires_in").and_then(Value::as_u64).unwrap_or(0);
        let kind = json
            .get("token_type")
            .and_then(Value::as_str)
            .unwrap_or("Bearer");
        return Ok((
            Zeroizing::new(token.to_string()),
            format!("{kind} token for {scope}, expires in {expires} s"),
        ));
    }
    Err(token_failure(&json, status, app))
}

fn token_failure(json: &Value, status: StatusCode, app: &App) -> Failure {
    let error = json.get("error").and_then(Value::as_str).unwrap_or("");
    let codes: Vec<u64> = json
        .get("error_codes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let description = json
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| d.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    let has = |c: u64| codes.contains(&c) || description.contains(&format!("AADSTS{c}"));
    let detail = if error.is_empty() {
        format!("the token endpoint answered HTTP {status} without an OAuth error")
    } else {
        format!("{error}: {description}")
    };
    let hint = if has(7_000_215) {
        format!(
            "invalid client secret: use the secret's Value, not its Secret ID, from the app registration's \
             \"Certificates & secrets\"; store it with `toolctl {} secret edit` (client_secret)",
            app.scope
        )
    } else if has(700_016) {
        format!("unknown application: check `{}` client ID and that the app is registered in this tenant", app.table)
    } else if has(90_002) {
        format!(
            "unknown tenant: check the tenant ID or domain in `{}`",
            app.table
        )
    } else if has(70_011) {
        "invalid scope: the Graph endpoint must be a Microsoft Graph URL such as https://graph.microsoft.com".into()
    } else if error == "invalid_client" {
        format!(
            "the client ID or secret was refused: check both (`toolctl {} secret edit`)",
            app.scope
        )
    } else if error.is_empty() {
        "check `azure_ad_endpoint`: it must be the Microsoft Entra login endpoint".into()
    } else {
        "see the error code in Microsoft's AADSTS reference".into()
    };
    fail(detail, hint)
}

/// Graph's `{"error": {"code", "message"}}`.
fn graph_error(bytes: &[u8]) -> (String, String) {
    let json: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let e = &json["error"];
    (
        e["code"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
    )
}

/// POST sendMail with the MIME message, base64; honours one Retry-After on 429.
pub async fn send(
    app: &App,
    token: &str,
    s: &Send,
    http: &reqwest::Client,
    timeout: Duration,
) -> Result<((), String), Failure> {
    let message = super::test_message(
        &s.from,
        &s.to,
        "microsoft-graph-mailer check",
        "through Microsoft Graph",
    )?;
    let body = base64::engine::general_purpose::STANDARD.encode(&message);
    let url = format!(
        "{}/v1.0/users/{}/sendMail",
        app.graph_endpoint.trim_end_matches('/'),
        s.user_id
    );
    let mut retried = None;
    loop {
        let resp = http
            .post(&url)
            .bearer_auth(token)
            .header("Content-Type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| transport(e, "Microsoft Graph API"))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport(e, "Microsoft Graph API"))?;
        if status == StatusCode::ACCEPTED {
            let after = retried
                .map(|s| format!(" (after one Retry-After of {s} s)"))
                .unwrap_or_default();
            return Ok((
                (),
                format!("202 Accepted: sent to {} from {}{after}", s.to, s.from),
            ));
        }
        if status == StatusCode::TOO_MANY_REQUESTS && retried.is_none() {
            let wait = retry_after.unwrap_or(1);
            if Duration::from_secs(wait) < timeout {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                retried = Some(wait);
                continue;
            }
        }
        let (code, message) = graph_error(&bytes);
        let detail = format!("HTTP {status} {code}: {message}");
        let hint = if status == StatusCode::TOO_MANY_REQUESTS {
            format!("Microsoft Graph is throttling this application (Retry-After: {} s); try again later", retry_after.map(|s| s.to_string()).unwrap_or_else(|| "?".into()))
        } else if code == "ErrorSendAsDenied" {
            "set `email.from` and `email.reply_to` to the authenticated mailbox's address (`user_id`), and check that Mail.Send is an application permission, not a delegated one".into()
        } else if status == StatusCode::FORBIDDEN {
            "the application may not send as this mailbox: grant it the Mail.Send application permission with admin consent, or through Exchange Online's RBAC for Applications (a management role assignment of \"Application Mail.Send\" scoped to this mailbox); an application access policy may also exclude it".into()
        } else if status == StatusCode::NOT_FOUND || code == "ErrorInvalidUser" {
            format!(
                "check `{}.user_id`: no such mailbox in this tenant",
                app.table
            )
        } else if status == StatusCode::UNAUTHORIZED {
            "the token was refused: check the tenant and the application's permissions".into()
        } else {
            "see the error code in Microsoft Graph's reference".into()
        };
        return Err(fail(detail, hint));
    }
}

/// GET the mailbox's unread messages (count only); read-only.
pub async fn inbox(
    app: &App,
    token: &str,
    user: &str,
    mailbox: &str,
    http: &reqwest::Client,
) -> Result<((), String), Failure> {
    let url = format!(
        "{}/v1.0/users/{}/mailFolders/{}/messages",
        app.graph_endpoint.trim_end_matches('/'),
        user,
        mailbox
    );
    let resp = http
        .get(&url)
        .query(&[
            ("$filter", "isRead eq false"),
            ("$top", "1"),
            ("$count", "true"),
            ("$select", "id"),
        ])
        .bearer_auth(token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .map_err(|e| transport(e, "Microsoft Graph API"))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| transport(e, "Microsoft Graph API"))?;
    if status.is_success() {
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let count = json.get("@odata.count").and_then(Value::as_u64);
        return Ok((
            (),
            match count {
                Some(n) => format!("\"{mailbox}\" of the secret's `user` (read-only): {n} unread"),
                None => format!("\"{mailbox}\" of the secret's `user` (read-only): readable"),
            },
        ));
    }
    let (code, message) = graph_error(&bytes);
    let detail = format!("HTTP {status} {code}: {message}");
    let hint = if status == StatusCode::FORBIDDEN {
        "the application needs the Mail.ReadWrite application permission (with admin consent) for this mailbox; an application access policy may also exclude it".to_string()
    } else if status == StatusCode::NOT_FOUND {
        format!(
            "check the mailbox user and `{}.mailbox` (usually \"inbox\")",
            app.table
        )
    } else {
        "see the error code in Microsoft Graph's reference".to_string()
    };
    Err(fail(detail, hint))
}

/// The Graph mailer's steps after settings and credentials.
pub async fn mailer(p: &mut Probe, app: App, send_mail: Option<Send>) {
    let timeout = p.timeout;
    let http = match client(timeout) {
        Ok(http) => http,
        Err(f) => return p.fail_now("token", f),
    };
    let Some(token) = p.step("token", token(&app, &http)).await else {
        return;
    };
    roles_row(p, &token);
    if let Some(s) = send_mail {
        p.step("send", send(&app, &token, &s, &http, timeout)).await;
    }
}

/// The application roles an access token grants (its `roles` claim; none when it has no
/// such claim), or `None` when the token is not a JWT whose payload can be read.
pub fn token_roles(token: &str) -> Option<Vec<String>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    if !json.is_object() {
        return None;
    }
    Some(
        json["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// The `roles` row: whether the token carries Mail.Send. Its absence is a warning, not a
/// failure: Exchange Online's RBAC for Applications grants the right outside the token,
/// so only sendMail's own 403 proves it missing.
fn roles_row(p: &mut Probe, token: &str) {
    match token_roles(token) {
        None => p.skip("roles", "the access token is not a readable JWT: its roles are not known"),
        Some(roles) if roles.iter().any(|r| r == "Mail.Send") => {
            p.ok("roles", format!("the token grants {}", roles.join(", ")))
        }
        Some(roles) => p.warn(
            "roles",
            if roles.is_empty() {
                "the token grants no application role, so no Mail.Send".to_string()
            } else {
                format!("the token grants {}, not Mail.Send", roles.join(", "))
            },
            "grant the app registration the Microsoft Graph application permission Mail.Send and \
             give it admin consent (API permissions → Grant admin consent); unless Exchange Online's \
             RBAC for Applications grants it outside the token (a management role assignment of \
             \"Application Mail.Send\"), sending will fail: check with --send-to",
        ),
    }
}

/// A Graph inbox's steps after settings and credentials.
pub async fn mailbox(p: &mut Probe, app: App, user: String, mailbox: String) {
    let http = match client(p.timeout) {
        Ok(http) => http,
        Err(f) => return p.fail_now("token", f),
    };
    let Some(token) = p.step("token", token(&app, &http)).await else {
        return;
    };
    p.step("inbox", inbox(&app, &token, &user, &mailbox, &http))
        .await;
}
