//! `check --output-format prometheus` and `check --textfile DIR` against a real SMTP relay
//! (aiosmtpd over implicit TLS), every output read by Prometheus' own `promtool check
//! metrics`; the sample alert rules through `promtool check rules`.

use std::fs;
use std::path::Path;

use crate::attacker::Attacker;
use crate::harness::{run_tool, TestRoot};
use crate::mailservers::{certs, closed_port, Aiosmtpd, SmtpdMode, ALICE, ALICE_PASSWORD};

fn root(port: u16) -> TestRoot {
    TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[email]\nfrom = \"{ALICE}\"\n\n\
             [smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {port}\ntls = true\n\
             ca_file = \"/ca.pem\"\n"
        ))
        .copy_file("ca.pem", &certs().ca)
        .secret(
            "smtp",
            format!("user_name: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        )
        .build()
}

/// `promtool check metrics` on `text`: its verdict, or a panic with what it said.
#[track_caller]
pub fn promtool_accepts(text: &str) {
    let out = run_tool(
        "promtool",
        &["check".as_ref(), "metrics".as_ref()],
        Some(text.as_bytes()),
    );
    assert!(
        out.status.success(),
        "promtool refused:\n{}{}\n--- the exposition:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the sample `series` (name and labels as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[test]
fn the_exposition_is_promtool_clean_and_says_what_passed() {
    let a = Aiosmtpd::start(SmtpdMode::Implicit);
    let t = root(a.port);
    let out = t.toolctl(["check", "--output-format", "prometheus"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    promtool_accepts(&text);
    let target = format!("127.0.0.1:{}", a.port);
    assert_eq!(
        sample(
            &text,
            &format!("toolctl_probe_success{{probe=\"smtp\",target=\"{target}\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "toolctl_probe_step_seconds{probe=\"smtp\",step=\"tls\"}"
        )
        .unwrap()
            > 0.0,
        "{text}"
    );
    let expiry = sample(
        &text,
        &format!("toolctl_tls_cert_expiry_seconds{{probe=\"smtp\",target=\"{target}\"}}"),
    )
    .expect("certificate expiry");
    assert!(expiry > 86_400.0, "{text}");
    assert!(text.contains("# TYPE toolctl_check_last_run_timestamp_seconds gauge\n"));
    // No OpenMetrics-only syntax, no sample timestamps, no local part of an address.
    assert!(
        !text.contains("# EOF") && !text.contains("# UNIT"),
        "{text}"
    );
    assert!(
        !text.contains("alice") && !text.contains(ALICE_PASSWORD),
        "{text}"
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert_eq!(
            line.rsplit('}').next().unwrap().split(' ').count(),
            2,
            "{line}"
        );
    }

    // A failing probe is a 0, and the output is still clean.
    let t = root(closed_port());
    let out = t.toolctl(["check", "--output-format", "prometheus"]).run();
    out.assert_code(1);
    let text = out.stdout_str();
    promtool_accepts(&text);
    assert!(text.contains("toolctl_probe_success{probe=\"smtp\"") && text.contains("} 0\n"));
}

#[test]
fn the_textfile_is_replaced_atomically_and_a_run_that_cannot_start_writes_zeros() {
    let a = Aiosmtpd::start(SmtpdMode::Implicit);
    let t = root(a.port);
    // node_exporter's directory, owned by its (unprivileged) user: accepted.
    let dir = t.path("var/lib/prometheus/node-exporter");
    fs::create_dir_all(&dir).unwrap();
    let exporter = Attacker::new();
    exporter.own(&dir);
    let file = dir.join("toolctl.prom");
    let dir_arg = dir.to_str().unwrap();
    t.toolctl(["check", "--textfile", dir_arg])
        .run()
        .assert_code(0);
    let first = fs::read_to_string(&file).unwrap();
    promtool_accepts(&first);
    let smtp = format!(
        "toolctl_probe_success{{probe=\"smtp\",target=\"127.0.0.1:{}\"}}",
        a.port
    );
    assert_eq!(sample(&first, &smtp), Some(1.0), "{first}");
    assert_eq!(mode_of(&file), 0o644);
    let ts = |text: &str| sample(text, "toolctl_check_last_run_timestamp_seconds").unwrap();
    // Nothing else was left in the directory.
    assert_eq!(names(&dir), ["toolctl.prom"]);

    // The settings break: the run cannot start (exit 2), and the file says so: every
    // success it had is 0 and the timestamp is new.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(t.config_file(), "[smtp\n").unwrap();
    let out = t.toolctl(["check", "--textfile", dir_arg]).run();
    out.assert_code(2);
    let second = fs::read_to_string(&file).unwrap();
    promtool_accepts(&second);
    assert_eq!(sample(&second, &smtp), Some(0.0), "{second}");
    assert_eq!(
        sample(
            &second,
            "toolctl_probe_success{probe=\"check\",target=\"start\"}"
        ),
        Some(0.0),
        "{second}"
    );
    assert!(ts(&second) > ts(&first), "{first}\n{second}");
    assert!(!second.contains("} 1\n"), "{second}");

    // No settings file at all: still written, still zeros.
    fs::remove_file(t.config_file()).unwrap();
    t.toolctl(["check", "--textfile", dir_arg])
        .run()
        .assert_code(2);
    let third = fs::read_to_string(&file).unwrap();
    assert_eq!(sample(&third, &smtp), Some(0.0), "{third}");

    // A link the directory's owner plants under the file's name is replaced, never
    // written through.
    let victim = t.aux().join("victim");
    fs::write(&victim, "root's file\n").unwrap();
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&victim, &file).unwrap();
    std::os::unix::fs::lchown(&file, Some(exporter.uid), Some(exporter.gid)).unwrap();
    t.toolctl(["check", "--textfile", dir_arg])
        .run()
        .assert_code(2);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root's file\n");
    assert!(!fs::symlink_metadata(&file).unwrap().is_symlink());
}

#[test]
fn a_textfile_directory_that_is_missing_or_a_link_is_refused() {
    let a = Aiosmtpd::start(SmtpdMode::Implicit);
    let t = root(a.port);
    let missing = t.path("var/lib/prometheus/none");
    let before = t.snapshot();
    let out = t
        .toolctl(["check", "--textfile", missing.to_str().unwrap()])
        .run();
    // Refused before any probe ran: no table on stdout, nothing created.
    out.assert_error("none", &["--collector.textfile.directory"]);
    before.assert_unchanged(&t.snapshot(), &out);
    let real = t.aux().join("elsewhere");
    fs::create_dir_all(&real).unwrap();
    let link = t.path("var/lib/exporter-link");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = t.snapshot();
    let out = t
        .toolctl(["check", "--textfile", link.to_str().unwrap()])
        .run();
    out.assert_error("symbolic link", &["replace the link"]);
    before.assert_unchanged(&t.snapshot(), &out);
    assert_eq!(names(&real), Vec::<String>::new());
}

#[test]
fn the_sample_alert_rules_pass_promtool() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("debian/toolctl-alerts.yml");
    let out = run_tool(
        "promtool",
        &["check".as_ref(), "rules".as_ref(), rules.as_os_str()],
        None,
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(&rules).unwrap();
    for metric in [
        "toolctl_probe_success",
        "toolctl_round_trip_seconds",
        "toolctl_mailroom_last_heartbeat_timestamp_seconds",
        "toolctl_mailroom_idle_timeout_seconds",
        "toolctl_tls_cert_expiry_seconds",
    ] {
        assert!(text.contains(metric), "{metric}");
    }
}

fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
