//! The GitLab Helm chart (`[gitlab] install = "helm"`): values.yaml holds only chart keys
//! (the list is below), every credential is a `{secret, key}` reference to a Secret
//! directory toolctl writes, and each directory yields a valid Secret through the real
//! `kubectl create secret generic NAME --from-file=DIR --dry-run=client -o yaml`
//! (Debian: kubernetes-client).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use base64::Engine as _;

use crate::gitlab::{gitlab_root, GITLAB_SETTINGS};
use crate::harness::mode;

/// Every key path values.yaml may hold: the GitLab chart's own (global.email,
/// global.smtp, global.appConfig.incomingEmail / serviceDeskEmail /
/// microsoft_graph_mailer), checked against the chart's documentation.
const CHART_KEYS: &[&str] = &[
    "global",
    "global.email",
    "global.email.from",
    "global.email.reply_to",
    "global.smtp",
    "global.smtp.enabled",
    "global.smtp.address",
    "global.smtp.port",
    "global.smtp.domain",
    "global.smtp.authentication",
    "global.smtp.user_name",
    "global.smtp.password",
    "global.smtp.password.secret",
    "global.smtp.password.key",
    "global.smtp.starttls_auto",
    "global.smtp.tls",
    "global.smtp.openssl_verify_mode",
    "global.appConfig",
    "global.appConfig.microsoft_graph_mailer",
    "global.appConfig.microsoft_graph_mailer.enabled",
    "global.appConfig.microsoft_graph_mailer.user_id",
    "global.appConfig.microsoft_graph_mailer.tenant",
    "global.appConfig.microsoft_graph_mailer.client_id",
    "global.appConfig.microsoft_graph_mailer.client_secret",
    "global.appConfig.microsoft_graph_mailer.client_secret.secret",
    "global.appConfig.microsoft_graph_mailer.client_secret.key",
    "global.appConfig.microsoft_graph_mailer.azure_ad_endpoint",
    "global.appConfig.microsoft_graph_mailer.graph_endpoint",
];

/// The keys of `incomingEmail` and `serviceDeskEmail` (the same for both).
const MAILBOX_KEYS: &[&str] = &[
    "enabled",
    "address",
    "host",
    "port",
    "ssl",
    "startTls",
    "user",
    "password",
    "password.secret",
    "password.key",
    "mailbox",
    "idleTimeout",
    "expungeDeleted",
    "deliveryMethod",
    "authToken",
    "authToken.secret",
    "authToken.key",
    "inboxMethod",
    "tenantId",
    "clientId",
    "clientSecret",
    "clientSecret.secret",
    "clientSecret.key",
    "pollInterval",
    "azureAdEndpoint",
    "graphEndpoint",
];

fn chart_key(path: &str) -> bool {
    if CHART_KEYS.contains(&path) {
        return true;
    }
    ["incomingEmail", "serviceDeskEmail"].iter().any(|mb| {
        let prefix = format!("global.appConfig.{mb}");
        path == prefix
            || path
                .strip_prefix(&format!("{prefix}."))
                .is_some_and(|rest| MAILBOX_KEYS.contains(&rest))
    })
}

fn key_paths(y: &yaml_rust2::Yaml, prefix: &str, out: &mut Vec<(String, yaml_rust2::Yaml)>) {
    if let Some(h) = y.as_hash() {
        for (k, v) in h {
            let k = k.as_str().unwrap();
            let path = if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            };
            out.push((path.clone(), v.clone()));
            key_paths(v, &path, out);
        }
    }
}

fn kubectl_secret(name: &str, dir: &Path) -> yaml_rust2::Yaml {
    let out = std::process::Command::new("kubectl")
        .args(["create", "secret", "generic", name])
        .arg(format!("--from-file={}", dir.display()))
        .args(["--dry-run=client", "-o", "yaml"])
        .output()
        .expect("run kubectl (Debian: kubernetes-client)");
    assert!(
        out.status.success(),
        "kubectl refused {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0].clone()
}

/// The shared GitLab settings without their `install = "omnibus"` (each test names its own).
fn without_install() -> String {
    GITLAB_SETTINGS.replace("install = \"omnibus\"\n", "")
}

#[test]
fn values_yaml_holds_only_chart_keys_and_every_secret_directory_is_a_valid_secret() {
    let t = gitlab_root();
    t.write_settings(&format!(
        "{}install = \"helm\"\nhelm_release = \"prod-gitlab\"\n",
        without_install()
    ));
    t.write_secret(
        "incoming-email",
        b"user: 'incoming@example.com'\npassword: 'imap pass \"q\" $x'\n",
    );
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let helm = t.path("var/opt/toolctl/rendered/helm");
    let values = helm.join("values.yaml");
    assert_eq!(mode(&values), 0o600);
    assert_eq!(mode(&helm), 0o700);
    assert_eq!(mode(&helm.join("secrets")), 0o700);
    let text = fs::read_to_string(&values).unwrap();
    let doc = &yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0];
    let mut paths = Vec::new();
    key_paths(doc, "", &mut paths);
    for (p, _) in &paths {
        assert!(chart_key(p), "values.yaml holds `{p}`, not a chart key");
    }
    for secret in [
        "imap pass",
        "sm\u{f8}tp pass",
        "sd-graph-secret",
        "mailer-graph-secret",
    ] {
        assert!(!text.contains(secret), "values.yaml holds {secret}");
    }
    let g = &doc["global"];
    assert_eq!(g["email"]["from"].as_str(), Some("gitlab@example.com"));
    assert_eq!(g["smtp"]["address"].as_str(), Some("smtp.example.com"));
    assert_eq!(
        g["appConfig"]["incomingEmail"]["host"].as_str(),
        Some("imap.example.com")
    );

    // Every reference names a Secret directory holding that key, and every directory is
    // referenced.
    let refs: BTreeMap<String, String> = paths
        .iter()
        .filter(|(_, v)| !v["secret"].is_badvalue() && v.as_hash().is_some())
        .map(|(_, v)| {
            (
                v["secret"].as_str().unwrap().to_string(),
                v["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut dirs: Vec<String> = fs::read_dir(helm.join("secrets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs, refs.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        dirs,
        [
            "prod-gitlab-incoming-email-auth-token",
            "prod-gitlab-incoming-email-password",
            "prod-gitlab-microsoft-graph-mailer-client-secret",
            "prod-gitlab-service-desk-email-auth-token",
            "prod-gitlab-service-desk-email-client-secret",
            "prod-gitlab-smtp-password",
        ]
    );
    let token =
        fs::read_to_string(t.path("var/opt/toolctl/rendered/mailroom/.gitlab_mailroom_secret"))
            .unwrap();
    let want: BTreeMap<&str, &str> = [
        ("prod-gitlab-smtp-password", "sm\u{f8}tp pass"),
        ("prod-gitlab-incoming-email-password", "imap pass \"q\" $x"),
        (
            "prod-gitlab-service-desk-email-client-secret",
            "sd-graph-secret",
        ),
        (
            "prod-gitlab-microsoft-graph-mailer-client-secret",
            "mailer-graph-secret",
        ),
        ("prod-gitlab-incoming-email-auth-token", token.as_str()),
        ("prod-gitlab-service-desk-email-auth-token", token.as_str()),
    ]
    .into_iter()
    .collect();
    for (name, key) in &refs {
        let dir = helm.join("secrets").join(name);
        assert_eq!(mode(&dir), 0o700, "{name}");
        assert_eq!(mode(&dir.join(key)), 0o600, "{name}/{key}");
        let secret = kubectl_secret(name, &dir);
        assert_eq!(secret["kind"].as_str(), Some("Secret"));
        assert_eq!(secret["metadata"]["name"].as_str(), Some(name.as_str()));
        let data = secret["data"].as_hash().unwrap();
        assert_eq!(data.len(), 1, "{name}");
        let got = base64::engine::general_purpose::STANDARD
            .decode(secret["data"][key.as_str()].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            want[name.as_str()],
            "{name}"
        );
    }
}

#[test]
fn helm_needs_a_release_name_that_helm_accepts() {
    let t = gitlab_root();
    for (extra, error) in [
        ("install = \"helm\"\n", "needs `gitlab.helm_release`"),
        (
            "install = \"helm\"\nhelm_release = \"Prod_GitLab\"\n",
            "not a Helm release name",
        ),
    ] {
        t.write_settings(&format!("{}{extra}", without_install()));
        let before = t.snapshot();
        t.toolctl(["reconfigure"])
            .run()
            .assert_error(error, &["helm_release"]);
        before.assert_unchanged(&t.snapshot(), &extra);
    }
}
