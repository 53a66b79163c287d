//! The Exchange Online cut-off: `smtp check` against aiosmtpd on 127.0.0.1 greeting as
//! Exchange Online does and answering each `535 5.7.139` text; the Graph mailer's token
//! `roles` through the wiremock stand-in for Microsoft's cloud. No test resolves a
//! Microsoft host: Exchange is recognised here by its greeting (its host names are
//! covered by the unit tests of `probe::smtp`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use base64::Engine;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{Outcome, TestRoot};
use crate::mailservers::{certs, ALICE, ALICE_PASSWORD};

/// aiosmtpd as Exchange Online: its greeting, STARTTLS, AUTH answered by `mode`: `ok`, or
/// one of the two 535 5.7.139 refusals.
const EXCHANGE: &str = r#"
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
mode, cert, key = sys.argv[1:4]
REFUSALS = {
    "basic": "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BN9PR03CA0123.namprd03.prod.outlook.com 2026-12-06T05:20:13.000Z 08DDE1234567890A]",
    "tenant": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [BN9PR03CA0123.namprd03.prod.outlook.com 2026-12-06T05:20:13.000Z 08DDE1234567890A]",
}
class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 OK"
def authenticator(server, session, envelope, mechanism, auth_data):
    if mode == "ok":
        return AuthResult(success=isinstance(auth_data, LoginPassword), handled=False)
    return AuthResult(success=False, handled=False, message=REFUSALS[mode])
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
def factory():
    return SMTP(Handler(), hostname="BN9PR03CA0123.outlook.office365.com",
                ident="Microsoft ESMTP MAIL Service ready at Sun, 6 Dec 2026 05:20:13 +0000",
                tls_context=ctx, authenticator=authenticator, auth_require_tls=True)
async def main():
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"#;

struct Exchange {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exchange(mode: &str) -> Exchange {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("exchange.py");
    fs::write(&script, EXCHANGE).unwrap();
    let pair = &certs().good;
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(mode)
        .arg(&pair.cert)
        .arg(&pair.key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the stand-in's port");
    Exchange {
        port,
        child,
        _dir: dir,
    }
}

fn smtp_check(e: &Exchange) -> Outcome {
    let t = TestRoot::builder()
        .settings(format!(
            "[email]\nfrom = \"{ALICE}\"\n\n[smtp]\nenabled = true\naddress = \"127.0.0.1\"\n\
             port = {}\nenable_starttls_auto = true\nca_file = \"/ca.pem\"\n",
            e.port
        ))
        .copy_file("ca.pem", &certs().ca)
        .secret(
            "smtp",
            format!("user_name: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        )
        .build();
    let out = t
        .toolctl(["smtp", "check", "--output-format", "json"])
        .env("SSL_CERT_FILE", &certs().ca)
        .run();
    assert!(!out.stdout_str().contains(ALICE_PASSWORD), "{out}");
    out
}

#[test]
fn password_auth_against_exchange_online_warns_of_the_cutoff() {
    let e = exchange("ok");
    let out = smtp_check(&e);
    out.assert_code(0);
    let w = out.step("exchange online");
    assert_eq!(w["status"], "warn", "{out}");
    let detail = w["detail"].as_str().unwrap();
    assert!(detail.contains("the end of December 2026"), "{out}");
    let hint = w["hint"].as_str().unwrap();
    assert!(
        hint.contains("Microsoft Graph mailer")
            && hint.contains("[microsoft_graph_mailer]")
            && hint.contains("tenant")
            && hint.contains("client_id")
            && hint.contains("client_secret"),
        "{out}"
    );
    assert_eq!(out.step("auth")["status"], "ok", "{out}");
}

#[test]
fn each_5_7_139_refusal_gets_its_own_hint() {
    let basic = exchange("basic");
    let out = smtp_check(&basic);
    out.assert_code(1);
    let a = out.step("auth");
    assert!(
        a["detail"]
            .as_str()
            .unwrap()
            .contains("basic authentication is disabled"),
        "{out}"
    );
    let basic_hint = a["hint"].as_str().unwrap().to_string();
    assert!(
        basic_hint.contains("Security defaults") && basic_hint.contains("[microsoft_graph_mailer]"),
        "{out}"
    );

    let tenant = exchange("tenant");
    let out = smtp_check(&tenant);
    out.assert_code(1);
    let a = out.step("auth");
    assert!(
        a["detail"]
            .as_str()
            .unwrap()
            .contains("SmtpClientAuthentication is disabled"),
        "{out}"
    );
    let tenant_hint = a["hint"].as_str().unwrap();
    assert!(tenant_hint.contains("Set-CASMailbox"), "{out}");
    assert_ne!(basic_hint, tenant_hint);
}

/// A JWT-shaped access token (unsigned: toolctl only reads its claims) with `roles`.
fn jwt(roles: &[&str]) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"typ":"JWT","alg":"RS256"}"#);
    let claims = b64.encode(
        serde_json::json!({"aud": "https://graph.microsoft.com", "roles": roles}).to_string(),
    );
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

async fn graph_check(token: &str, send: u16) -> Outcome {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-id/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": token
        })))
        .mount(&server)
        .await;
    let body = if send == 403 {
        serde_json::json!({"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}})
    } else {
        serde_json::json!({})
    };
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .respond_with(ResponseTemplate::new(send).set_body_json(body))
        .mount(&server)
        .await;
    let t = TestRoot::builder()
        .settings(format!(
            "[email]\nfrom = \"gitlab@example.com\"\nreply_to = \"gitlab@example.com\"\n\n\
             [microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"tenant-id\"\n\
             client_id = \"client-id\"\nazure_ad_endpoint = \"{0}\"\ngraph_endpoint = \"{0}\"\n",
            server.uri()
        ))
        .secret("microsoft-graph-mailer", "client_secret: 'Gr4ph-S3cret'\n")
        .build();
    let cmd = t.toolctl([
        "microsoft-graph-mailer",
        "check",
        "--send-to",
        "ops@example.com",
        "--output-format",
        "json",
    ]);
    let out = tokio::task::spawn_blocking(move || cmd.run())
        .await
        .unwrap();
    assert!(
        !out.stdout_str().contains(token) && !out.stderr.contains(token),
        "{out}"
    );
    out
}

#[tokio::test]
async fn the_token_roles_decide_a_warning_and_only_a_403_fails() {
    // Mail.Send in the token: ok.
    let out = graph_check(&jwt(&["Mail.Send", "User.Read.All"]), 202).await;
    out.assert_code(0);
    assert_eq!(out.step("roles")["status"], "ok", "{out}");
    // No Mail.Send, but Exchange's RBAC for Applications grants it: a warning, and the
    // accepted send passes.
    let out = graph_check(&jwt(&["User.Read.All"]), 202).await;
    out.assert_code(0);
    let r = out.step("roles");
    assert_eq!(r["status"], "warn", "{out}");
    let hint = r["hint"].as_str().unwrap();
    assert!(
        hint.contains("admin consent") && hint.contains("RBAC for Applications"),
        "{out}"
    );
    assert_eq!(out.step("send")["status"], "ok", "{out}");
    // No Mail.Send and sendMail answers 403: the check fails.
    let out = graph_check(&jwt(&[]), 403).await;
    out.assert_code(1);
    assert_eq!(out.step("roles")["status"], "warn", "{out}");
    let s = out.step("send");
    assert_eq!(s["status"], "fail", "{out}");
    assert!(
        s["hint"]
            .as_str()
            .unwrap()
            .contains("RBAC for Applications"),
        "{out}"
    );
}
