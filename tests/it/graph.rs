//! The Microsoft Graph probes against a local stand-in for Microsoft's cloud (wiremock on
//! 127.0.0.1; the real endpoints cannot be reached from here): the mailer's token and
//! sendMail, the Graph inboxes, every documented error with its hint, throttling, a silent
//! server, and no secret in any output.

use std::fs;
use std::time::{Duration, Instant};

use base64::Engine;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::harness::{Outcome, TestRoot};

const SECRET: &str = "Gr4ph-Client-S3cret-Value";
const TOKEN: &str = "eyJ0eXAiOiJKV1Qi.access-token-value";

fn mailer_root(server: &MockServer, extra: &str) -> TestRoot {
    TestRoot::builder()
        .settings(format!(
            "[email]\nfrom = \"gitlab@example.com\"\nreply_to = \"gitlab@example.com\"\n\n\
             [microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"tenant-id\"\n\
             client_id = \"client-id\"\nazure_ad_endpoint = \"{0}\"\ngraph_endpoint = \"{0}\"\n{extra}",
            server.uri()
        ))
        .secret("microsoft-graph-mailer", format!("client_secret: '{SECRET}'\n"))
        .build()
}

fn token_ok() -> Mock {
    Mock::given(method("POST"))
        .and(path("/tenant-id/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("client-id:{SECRET}"))
            )
            .as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN
        })))
}

fn no_leak(out: &Outcome) {
    for s in [SECRET, TOKEN] {
        assert!(
            !out.stdout_str().contains(s) && !out.stderr.contains(s),
            "{s} leaked\n{out}"
        );
    }
}

/// `microsoft-graph-mailer check --send-to ops@example.com`, as JSON.
async fn send_check(t: &TestRoot) -> Outcome {
    run(
        t,
        &[
            "microsoft-graph-mailer",
            "check",
            "--send-to",
            "ops@example.com",
            "--output-format",
            "json",
        ],
    )
    .await
}

async fn run(t: &TestRoot, args: &[&str]) -> Outcome {
    let cmd = t.toolctl(args.iter().copied());
    tokio::task::spawn_blocking(move || cmd.run())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_mailer_gets_a_token_and_sends_the_mime_message() {
    let server = MockServer::start().await;
    token_ok().expect(1).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "text/plain"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let t = mailer_root(&server, "");
    let out = send_check(&t).await;
    out.assert_code(0);
    assert_eq!(out.step("token")["status"], "ok");
    assert_eq!(out.step("send")["status"], "ok");
    let requests: Vec<Request> = server.received_requests().await.unwrap();
    let token_req = &requests[0];
    let form = String::from_utf8_lossy(&token_req.body);
    assert!(
        form.contains(&format!(
            "scope={}",
            url_encode(&format!("{}/.default", server.uri()))
        )),
        "{form}"
    );
    let send = requests
        .iter()
        .find(|r| r.url.path().ends_with("/sendMail"))
        .unwrap();
    let mime = base64::engine::general_purpose::STANDARD
        .decode(&send.body)
        .expect("the body is base64");
    let mime = String::from_utf8(mime).unwrap();
    assert!(mime.contains("From: gitlab@example.com"), "{mime}");
    assert!(mime.contains("To: ops@example.com"), "{mime}");
    no_leak(&out);
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn each_token_error_has_its_own_hint() {
    let cases = [
        (
            401,
            "invalid_client",
            7_000_215,
            "use the secret's Value, not its Secret ID",
        ),
        (
            400,
            "invalid_client",
            7_000_215,
            "use the secret's Value, not its Secret ID",
        ),
        (400, "unauthorized_client", 700_016, "unknown application"),
        (400, "invalid_request", 90_002, "unknown tenant"),
        (400, "invalid_scope", 70_011, "invalid scope"),
    ];
    for (status, error, code, hint) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/tenant-id/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "error": error,
                "error_description": format!("AADSTS{code}: something went wrong.\r\nTrace ID: 1234"),
                "error_codes": [code],
            })))
            .mount(&server)
            .await;
        let t = mailer_root(&server, "");
        let out = run(
            &t,
            &["microsoft-graph-mailer", "check", "--output-format", "json"],
        )
        .await;
        out.assert_code(1);
        let s = out.step("token");
        assert_eq!(s["status"], "fail", "{out}");
        assert!(s["hint"].as_str().unwrap().contains(hint), "{code}: {out}");
        assert!(
            s["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("AADSTS{code}")),
            "{out}"
        );
        no_leak(&out);
    }
}

#[tokio::test]
async fn send_as_denied_names_the_fix_from_the_docs() {
    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({"error": {
            "code": "ErrorSendAsDenied",
            "message": "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.",
            "innerError": {"request-id": "x"}
        }})))
        .mount(&server)
        .await;
    let t = mailer_root(&server, "");
    let out = send_check(&t).await;
    out.assert_code(1);
    let s = out.step("send");
    assert!(
        s["detail"].as_str().unwrap().contains("ErrorSendAsDenied"),
        "{out}"
    );
    let hint = s["hint"].as_str().unwrap();
    assert!(
        hint.contains("email.from")
            && hint.contains("email.reply_to")
            && hint.contains("application permission"),
        "{out}"
    );
}

#[tokio::test]
async fn throttling_is_retried_once_then_reported() {
    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let t = mailer_root(&server, "");
    let out = send_check(&t).await;
    out.assert_code(0);
    assert!(
        out.step("send")["detail"]
            .as_str()
            .unwrap()
            .contains("Retry-After of 1 s"),
        "{out}"
    );

    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/gitlab@example.com/sendMail"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .expect(2)
        .mount(&server)
        .await;
    let t = mailer_root(&server, "");
    let out = send_check(&t).await;
    out.assert_code(1);
    assert!(
        out.step("send")["hint"]
            .as_str()
            .unwrap()
            .contains("Retry-After: 1 s"),
        "{out}"
    );
}

#[tokio::test]
async fn a_missing_client_secret_is_reported_before_any_request() {
    let server = MockServer::start().await;
    let t = TestRoot::builder()
        .settings(format!(
            "[microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"t\"\nclient_id = \"c\"\n\
             azure_ad_endpoint = \"{0}\"\ngraph_endpoint = \"{0}\"\n",
            server.uri()
        ))
        .build();
    // Settings refuse an enabled mailer without its secret: the check cannot run (exit 2).
    let out = run(&t, &["microsoft-graph-mailer", "check"]).await;
    out.assert_error(
        "microsoft_graph_mailer.client_secret",
        &["toolctl microsoft-graph-mailer secret edit"],
    );
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a request was made"
    );
    // On a node where the store holds no secret but settings pass (mailroom irrelevant
    // here), the probe row says so too; covered by the mailbox case below.
}

#[tokio::test]
async fn a_silent_server_fails_within_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(4) {
            held.push(c);
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let t = TestRoot::builder()
        .settings(format!(
            "[microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"t\"\nclient_id = \"c\"\n\
             azure_ad_endpoint = \"http://{addr}\"\ngraph_endpoint = \"http://{addr}\"\n"
        ))
        .secret("microsoft-graph-mailer", format!("client_secret: '{SECRET}'\n"))
        .build();
    let start = Instant::now();
    let out = run(
        &t,
        &[
            "microsoft-graph-mailer",
            "check",
            "--timeout",
            "2",
            "--output-format",
            "json",
        ],
    )
    .await;
    let took = start.elapsed();
    out.assert_code(1);
    assert_eq!(out.step("token")["status"], "fail");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    drop(keep);
}

#[tokio::test]
async fn a_sender_that_is_not_the_mailbox_is_warned_about_before_sending() {
    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    let t = mailer_root(&server, "");
    t.toolctl(["config", "set", "email.from", "noreply@example.com"])
        .run()
        .assert_code(0);
    let out = run(
        &t,
        &["microsoft-graph-mailer", "check", "--output-format", "json"],
    )
    .await;
    out.assert_code(0);
    let s = out.step("sender");
    assert_eq!(s["status"], "warn");
    assert!(
        s["hint"].as_str().unwrap().contains("ErrorSendAsDenied"),
        "{out}"
    );
}

fn graph_inbox_root(server: &MockServer, table: &str, scope: &str, user: &str) -> TestRoot {
    TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[{table}]\nenabled = true\n\
             address = \"contact+%{{key}}@example.onmicrosoft.com\"\ninbox_method = \"microsoft_graph\"\n\n\
             [{table}.inbox_options]\ntenant_id = \"tenant-id\"\nclient_id = \"client-id\"\n\
             azure_ad_endpoint = \"{0}\"\ngraph_endpoint = \"{0}\"\n",
            server.uri()
        ))
        .secret(scope, format!("user: '{user}'\nclient_secret: '{SECRET}'\n"))
        .secret("mailroom", "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n")
        .build()
}

fn unread(user: &str, status: u16, body: serde_json::Value) -> Mock {
    Mock::given(method("GET"))
        .and(path(format!(
            "/v1.0/users/{user}/mailFolders/inbox/messages"
        )))
        .and(query_param("$filter", "isRead eq false"))
        .and(query_param("$count", "true"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
}

#[tokio::test]
async fn graph_inboxes_report_their_unread_count_read_only() {
    for (table, scope, user) in [
        (
            "incoming_email",
            "incoming-email",
            "incoming@example.onmicrosoft.com",
        ),
        (
            "service_desk_email",
            "service-desk-email",
            "contact@example.onmicrosoft.com",
        ),
    ] {
        let server = MockServer::start().await;
        token_ok().mount(&server).await;
        unread(
            user,
            200,
            serde_json::json!({"@odata.count": 3, "value": [{"id": "AAMk"}]}),
        )
        .expect(1)
        .mount(&server)
        .await;
        let t = graph_inbox_root(&server, table, scope, user);
        let out = run(&t, &[scope, "check", "--output-format", "json"]).await;
        out.assert_code(0);
        assert!(
            out.step("inbox")["detail"]
                .as_str()
                .unwrap()
                .contains("3 unread"),
            "{out}"
        );
        for r in server.received_requests().await.unwrap() {
            assert!(
                matches!(r.method.as_str(), "GET" | "POST"),
                "a {} request was made",
                r.method
            );
            if r.method.as_str() == "POST" {
                assert!(
                    r.url.path().ends_with("/token"),
                    "only the token is POSTed: {}",
                    r.url
                );
            }
        }
        assert!(
            !out.stdout_str().contains(user),
            "the secret's user was printed\n{out}"
        );
        no_leak(&out);
    }
}

#[tokio::test]
async fn a_graph_inbox_without_permission_names_mail_readwrite() {
    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    let user = "incoming@example.onmicrosoft.com";
    unread(
        user,
        403,
        serde_json::json!({"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}}),
    )
    .mount(&server)
    .await;
    let t = graph_inbox_root(&server, "incoming_email", "incoming-email", user);
    let out = run(&t, &["incoming-email", "check", "--output-format", "json"]).await;
    out.assert_code(1);
    let s = out.step("inbox");
    assert!(
        s["hint"].as_str().unwrap().contains("Mail.ReadWrite"),
        "{out}"
    );
}

#[tokio::test]
async fn check_runs_the_graph_probes_together() {
    let server = MockServer::start().await;
    token_ok().mount(&server).await;
    let user = "incoming@example.onmicrosoft.com";
    unread(
        user,
        200,
        serde_json::json!({"@odata.count": 0, "value": []}),
    )
    .mount(&server)
    .await;
    let t = graph_inbox_root(&server, "incoming_email", "incoming-email", user);
    let mut text = fs::read_to_string(t.config_file()).unwrap();
    text.push_str(&format!(
        "\n[microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"tenant-id\"\n\
         client_id = \"client-id\"\nazure_ad_endpoint = \"{0}\"\ngraph_endpoint = \"{0}\"\n",
        server.uri()
    ));
    fs::write(t.config_file(), text).unwrap();
    t.write_secret(
        "microsoft-graph-mailer",
        format!("client_secret: '{SECRET}'\n").as_bytes(),
    );
    let out = run(&t, &["check", "--output-format", "json"]).await;
    out.assert_code(0);
    let json = out.json();
    let names: Vec<&str> = json["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["probe"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["incoming-email", "microsoft-graph-mailer"], "{out}");
    assert_eq!(json["passed"], true);
}

// ---------------------------------------------------------------------------------------
// Plain http endpoints: refused off loopback, warned about on it
// ---------------------------------------------------------------------------------------

/// A mailer root whose endpoints are `azure` and `graph`, with its secret.
fn mailer_root_at(azure: &str, graph: &str) -> TestRoot {
    TestRoot::builder()
        .settings(format!(
            "[email]\nfrom = \"gitlab@example.com\"\nreply_to = \"gitlab@example.com\"\n\n\
             [microsoft_graph_mailer]\nenabled = true\nuser_id = \"gitlab@example.com\"\ntenant = \"tenant-id\"\n\
             client_id = \"client-id\"\nazure_ad_endpoint = \"{azure}\"\ngraph_endpoint = \"{graph}\"\n"
        ))
        .secret("microsoft-graph-mailer", format!("client_secret: '{SECRET}'\n"))
        .build()
}

#[test]
fn an_http_graph_endpoint_off_loopback_is_refused_and_nothing_changes() {
    for (azure, graph, key) in [
        (
            "http://login.example.com",
            "https://graph.microsoft.com",
            "microsoft_graph_mailer.azure_ad_endpoint",
        ),
        (
            "https://login.microsoftonline.com",
            "http://10.0.0.1:8080",
            "microsoft_graph_mailer.graph_endpoint",
        ),
    ] {
        let t = mailer_root_at(azure, graph);
        let before = t.snapshot();
        for args in [
            &["microsoft-graph-mailer", "check"][..],
            &["reconfigure"][..],
        ] {
            let out = t.toolctl(args).run();
            out.assert_error(
                &format!("`{key}` is a plain `http://` URL"),
                &["use https", "loopback"],
            );
            assert!(!out.stderr.contains(SECRET), "{out}");
            assert_eq!(before.diff(&t.snapshot()), "", "{args:?} changed files");
        }
        // `check` reports a table that cannot run as its error row (exit 2); no request.
        let out = t.toolctl(["check", "--output-format", "json"]).run();
        out.assert_code(2);
        let steps = out.json()["probes"][0]["steps"].clone();
        let steps = steps.as_array().unwrap();
        assert_eq!(steps.len(), 1, "{out}");
        assert_eq!(steps[0]["status"], "error", "{out}");
        assert!(
            steps[0]["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{key}` is a plain `http://` URL")),
            "{out}"
        );
        no_leak(&out);
        assert_eq!(before.diff(&t.snapshot()), "", "check changed files");
    }
}

#[test]
fn config_set_refuses_an_http_graph_endpoint_and_warns_on_loopback() {
    let t = mailer_root_at(
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
    );
    for key in [
        "microsoft_graph_mailer.azure_ad_endpoint",
        "microsoft_graph_mailer.graph_endpoint",
        "incoming_email.inbox_options.azure_ad_endpoint",
        "service_desk_email.inbox_options.graph_endpoint",
    ] {
        let before = t.snapshot();
        t.toolctl(["config", "set", key, "http://graph.example.com"])
            .run()
            .assert_error("is a plain `http://` URL", &["use https", "127.0.0.1"]);
        assert_eq!(
            before.diff(&t.snapshot()),
            "",
            "{key}: nothing was to change"
        );
    }
    for loopback in [
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:8080",
    ] {
        let out = t
            .toolctl([
                "config",
                "set",
                "microsoft_graph_mailer.graph_endpoint",
                loopback,
            ])
            .run();
        out.assert_code(0);
        let text = fs::read_to_string(t.config_file()).unwrap();
        assert!(text.contains(loopback), "{out}");
        let out = t
            .toolctl([
                "show-config",
                "microsoft_graph_mailer",
                "--output-format",
                "json",
            ])
            .run();
        out.assert_code(0);
        let diags = out.json()["diagnostics"].clone();
        let warned = diags.as_array().into_iter().flatten().any(|d| {
            d["severity"] == "warning"
                && d["key"] == "microsoft_graph_mailer.graph_endpoint"
                && d["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("on a loopback address")
        });
        assert!(warned, "{out}");
    }
}

#[tokio::test]
async fn a_loopback_http_endpoint_is_a_warning_row_and_the_check_still_runs() {
    let server = MockServer::start().await;
    token_ok().expect(1).mount(&server).await;
    let t = mailer_root(&server, "");
    let out = run(
        &t,
        &["microsoft-graph-mailer", "check", "--output-format", "json"],
    )
    .await;
    out.assert_code(0);
    let s = out.step("settings");
    assert_eq!(s["status"], "warn", "{out}");
    assert!(s["detail"].as_str().unwrap().contains("loopback"), "{out}");
    assert_eq!(out.step("token")["status"], "ok", "{out}");
    no_leak(&out);
}
