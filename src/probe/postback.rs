//! `check --postback`: the request mail_room makes for each message, made by toolctl with
//! the canary, so that the webhook secret is tested without mail_room and without mail.
//!
//! GitLab's endpoint `POST /api/v4/internal/mail_room/<incoming_email | service_desk_email>`
//! checks the `Gitlab-Mailroom-Api-Request` header first: an HS256 JWT whose issuer is
//! `gitlab-mailroom`, whose `iat` is at most 5 minutes old, signed with the base64-decoded
//! webhook secret (exactly 32 bytes). Then it enqueues the body, the raw message; the
//! canary's `Auto-Submitted: auto-generated` makes GitLab's worker drop it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::tls::{self, Trust};
use super::{fail, Failure, Hop, Probe, Status};

/// The header GitLab reads the token from.
pub const HEADER: &str = "Gitlab-Mailroom-Api-Request";
/// The token's issuer.
pub const ISSUER: &str = "gitlab-mailroom";

/// The signing key: the webhook secret, base64-decoded, which must be 32 bytes (as GitLab
/// requires of its copy).
pub fn key(secret: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .map_err(|_| "the `mailroom` webhook_secret is not base64".to_string())?;
    let decoded = Zeroizing::new(decoded);
    if decoded.len() != 32 {
        return Err(format!(
            "the `mailroom` webhook_secret decodes to {} bytes; GitLab requires 32",
            decoded.len()
        ));
    }
    Ok(decoded)
}

/// The HS256 JWT (`{"typ":"JWT","alg":"HS256"}`, `{"iss":"gitlab-mailroom","iat":…}`).
pub fn token(key: &[u8], iat: u64) -> Zeroizing<String> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = b64(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = b64(format!(r#"{{"iss":"{ISSUER}","iat":{iat}}}"#).as_bytes());
    let signed = format!("{header}.{claims}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(signed.as_bytes());
    let signature = b64(&mac.finalize().into_bytes());
    Zeroizing::new(format!("{signed}.{signature}"))
}

/// One mailbox's postback.
pub struct Postback {
    /// `incoming_email` or `service_desk_email`.
    pub kind: &'static str,
    /// `<gitlab_url>/api/v4/internal/mail_room/<kind>`.
    pub url: String,
    pub secret: Zeroizing<String>,
    /// The canary message.
    pub body: Vec<u8>,
}

/// Signs and posts; one `postback` row (and hop).
pub async fn run(p: &mut Probe, b: Postback) {
    let key = match key(&b.secret) {
        Ok(k) => k,
        Err(why) => {
            p.fail_now(
                "token",
                fail(
                    why,
                    "GitLab and mail_room read the same secret: remove it (`toolctl mailroom secret edit`) and run `toolctl reconfigure`, which generates a valid one and writes it for both; then restart GitLab and mail_room",
                ),
            );
            p.hops.push(Hop {
                mailbox: b.kind.to_string(),
                hop: "postback".to_string(),
                seconds: 0.0,
                passed: false,
            });
            return;
        }
    };
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let jwt = token(&key, iat);
    p.masker.add_token(&jwt);
    p.ok(
        "token",
        format!("HS256, issuer {ISSUER}, signed with the `mailroom` webhook_secret"),
    );
    let began = Instant::now();
    let result = post(&b, &jwt, p.timeout).await;
    let took = began.elapsed();
    let (status, detail, hint) = match result {
        Ok((s, d, h)) => (s, d, h),
        Err(f) => (Status::Fail, f.detail, Some(f.hint)),
    };
    p.record("postback", status, took, detail, hint);
    p.hops.push(Hop {
        mailbox: b.kind.to_string(),
        hop: "postback".to_string(),
        seconds: took.as_secs_f64(),
        passed: status != Status::Fail,
    });
}

async fn post(
    b: &Postback,
    jwt: &str,
    timeout: Duration,
) -> Result<(Status, String, Option<String>), Failure> {
    let config = tls::config(&Trust::system())?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls((*config).clone())
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            fail(
                format!("cannot build the HTTP client: {e}"),
                "report this as a toolctl bug",
            )
        })?;
    let kind = b.kind;
    let resp = http
        .post(&b.url)
        .header(HEADER, jwt)
        .header("Content-Type", "text/plain")
        .body(b.body.clone())
        .send()
        .await
        .map_err(|e| {
            let hint = if e.is_timeout() {
                "GitLab did not answer in time (`--timeout` raises the limit)".to_string()
            } else {
                format!("check that GitLab runs and that `{kind}.gitlab_url` (default `external_url`) reaches it from this host: DNS, nginx, firewall")
            };
            fail(format!("POST {} failed: {}", b.url, e.without_url()), hint)
        })?;
    let code = resp.status().as_u16();
    Ok(match code {
        200..=299 => (
            Status::Ok,
            format!("POST {}: {code}: GitLab accepted the canary (and drops it as auto-generated)", b.url),
            None,
        ),
        401 => (
            Status::Fail,
            format!("POST {}: 401: GitLab refused the token", b.url),
            Some(format!("toolctl's `mailroom` webhook secret differs from GitLab's, or the token is stale (compare this host's clock with GitLab's), or GitLab has {kind} disabled: share one toolctl secrets store across nodes and run `toolctl reconfigure` on each, then restart GitLab and mail_room")),
        ),
        500 => (
            Status::Fail,
            format!("POST {}: 500: GitLab failed on the request", b.url),
            Some(format!("GitLab cannot use its mail_room secret: the `secret_file` of `{kind}` in gitlab.yml (omnibus: `gitlab_rails['{kind}_secret_file']`) must hold the base64 of exactly 32 bytes; `toolctl reconfigure` writes it from the `mailroom` secret; GitLab's exceptions_json.log names the error")),
        ),
        404 => (
            Status::Fail,
            format!("POST {}: 404: no such endpoint", b.url),
            Some(format!("check `{kind}.gitlab_url` (GitLab's own URL, as mail_room reaches it); the endpoint exists since GitLab 15.3")),
        ),
        _ => (
            Status::Fail,
            format!("POST {}: {code}", b.url),
            Some("check GitLab's log (production_json.log) at this time".to_string()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_must_be_base64_of_32_bytes() {
        let good = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(key(&format!("{good}\n")).unwrap().len(), 32);
        assert!(key("dG9rZW4=").unwrap_err().contains("decodes to 5 bytes"));
        assert!(key("not base64!").unwrap_err().contains("not base64"));
    }

    #[test]
    fn the_token_is_an_hs256_jwt_over_issuer_and_iat() {
        let k = [1u8; 32];
        let t = token(&k, 1_700_000_000);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let d = |s: &str| {
            String::from_utf8(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(d(parts[0]), r#"{"typ":"JWT","alg":"HS256"}"#);
        assert_eq!(d(parts[1]), r#"{"iss":"gitlab-mailroom","iat":1700000000}"#);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&k).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[2])
                .unwrap(),
        )
        .unwrap();
    }
}
