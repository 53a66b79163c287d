//! `check --output-format prometheus` and `check --textfile DIR`: the checks as the
//! Prometheus text exposition format 0.0.4, which node_exporter's textfile collector and
//! `promtool check metrics` read.
//!
//! Gauges only, no sample timestamps (the textfile collector refuses them), and nothing of
//! OpenMetrics (no `# EOF`, no `_created`, no units line). Each family appears once with
//! its `# HELP` and `# TYPE`, every sample of it together, and no label set twice (the
//! first wins; a step's seconds are summed). A run that did not start (bad settings, no
//! probe enabled) still renders: every success it knows (`carried`, the previous file's) is
//! 0, `toolctl_probe_success{probe="check",target="start"}` is 0 and the timestamp is
//! fresh, so that a stale success can never stand.
//!
//! No label holds a secret (the checks' names, targets and step names never do) nor a mail
//! address's local part: every label value is passed through [`no_local_part`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::checks::Check;
use super::{Report, Section};
use crate::model::outcome::Status;

/// The families toolctl writes, in order, with their help text.
const FAMILIES: &[(&str, &str)] = &[
    (
        "check_last_run_timestamp_seconds",
        "When this toolctl check ran (Unix time).",
    ),
    (
        "probe_success",
        "1 when the probe passed, 0 when it failed or could not run.",
    ),
    (
        "probe_step_seconds",
        "How long the probe's step took, in seconds.",
    ),
    (
        "round_trip_seconds",
        "How long each hop of the round trip took, in seconds.",
    ),
    (
        "tls_cert_expiry_seconds",
        "Seconds until the server's certificate expires (negative: expired).",
    ),
    ("mailbox_unseen", "Messages not yet seen in the mailbox."),
    (
        "mailroom_up",
        "1 when mail_room's process and its watcher for the mailbox are alive.",
    ),
    (
        "mailroom_last_heartbeat_timestamp_seconds",
        "When mail_room last logged Idling or Processing started for the mailbox (Unix time).",
    ),
    (
        "mailroom_idle_timeout_seconds",
        "The mailbox's idle_timeout: mail_room logs a heartbeat at least this often.",
    ),
];

/// A label set: names and values, in order.
pub type Labels = Vec<(String, String)>;

/// One family's samples, by their rendered label set.
#[derive(Default)]
struct Family {
    samples: BTreeMap<String, f64>,
    order: Vec<String>,
}

impl Family {
    fn set(&mut self, labels: String, value: f64, sum: bool) {
        match self.samples.get_mut(&labels) {
            Some(v) if sum => *v += value,
            Some(_) => {}
            None => {
                self.order.push(labels.clone());
                self.samples.insert(labels, value);
            }
        }
    }
}

/// The exposition of `report`'s checks and measures at `now` (Unix seconds). `carried`
/// are the `probe_success` label sets of the previous file, set to 0 when the run did not
/// start.
pub fn render(report: &Report, now: f64, carried: &[Labels]) -> String {
    let checks: Vec<&Check> = report
        .sections
        .iter()
        .filter_map(|s| match s {
            Section::Checks(c) => Some(c),
            Section::Text(_) => None,
        })
        .flatten()
        .collect();
    let started = report
        .sections
        .iter()
        .any(|s| matches!(s, Section::Checks(_)));
    let mut fam: BTreeMap<&str, Family> = BTreeMap::new();
    let mut put = |name: &str, labels: &[(&str, &str)], value: f64, sum: bool| {
        let key = FAMILIES
            .iter()
            .map(|(n, _)| *n)
            .find(|n| *n == name)
            .unwrap_or("other");
        if key == "other" {
            return;
        }
        fam.entry(key)
            .or_default()
            .set(label_text(labels), value, sum);
    };
    put("check_last_run_timestamp_seconds", &[], now, false);
    put(
        "probe_success",
        &[("probe", "check"), ("target", "start")],
        if started { 1.0 } else { 0.0 },
        false,
    );
    for c in &checks {
        put(
            "probe_success",
            &[("probe", &c.name), ("target", &c.target)],
            if c.passed() { 1.0 } else { 0.0 },
            false,
        );
        for h in &c.hops {
            put(
                "round_trip_seconds",
                &[("mailbox", &h.mailbox), ("hop", &h.hop)],
                h.seconds,
                false,
            );
        }
        for s in &c.steps {
            if s.status == Status::Skipped {
                continue;
            }
            let secs = s.elapsed.as_secs_f64();
            put(
                "probe_step_seconds",
                &[("probe", &c.name), ("step", &s.name)],
                secs,
                true,
            );
        }
    }
    if !started {
        for labels in carried {
            let l: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            put("probe_success", &l, 0.0, false);
        }
    }
    for m in &report.measures {
        let l: Vec<(&str, &str)> = m.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        put(m.name, &l, m.value, false);
    }
    let mut out = String::new();
    for (name, help) in FAMILIES {
        let Some(f) = fam.get(name) else { continue };
        let _ = writeln!(out, "# HELP toolctl_{name} {help}");
        let _ = writeln!(out, "# TYPE toolctl_{name} gauge");
        for labels in &f.order {
            let _ = writeln!(out, "toolctl_{name}{labels} {}", value(f.samples[labels]));
        }
    }
    out
}

/// `{a="x",b="y"}`, or nothing for no labels; values escaped as the format says.
fn label_text(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let body: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(&no_local_part(v))))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A label value's escapes: backslash, double quote and line feed.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// `v` without the local part of any mail address in it: `ops@example.com` becomes
/// `@example.com`, so no label names a person or a mailbox's user.
pub fn no_local_part(v: &str) -> String {
    v.split(' ')
        .map(|word| match word.rfind('@') {
            Some(at) => {
                // Keep a URL's scheme: `imaps://user@host` → `imaps://@host`.
                let start = word.find("://").map_or(0, |i| i + 3).min(at);
                format!("{}{}", &word[..start], &word[at..])
            }
            None => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sample value as the format writes it.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The `toolctl_probe_success` label sets of a previous exposition (the textfile toolctl
/// wrote last), for a run that does not start. Only lines of exactly toolctl's shape are
/// taken (`probe` and `target`, quoted, escaped as [`escape`] writes): the file lives in a
/// directory node_exporter's user can write, so anything else is ignored.
pub fn carried_successes(previous: &str) -> Vec<Labels> {
    let mut out = Vec::new();
    for line in previous.lines() {
        let Some(rest) = line.strip_prefix("toolctl_probe_success{") else {
            continue;
        };
        let Some(end) = rest.rfind('}') else { continue };
        if let Some(labels) = parse_labels(&rest[..end]) {
            let names: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            if names == ["probe", "target"] && !out.contains(&labels) {
                out.push(labels);
            }
        }
    }
    out
}

/// `a="x",b="y"` parsed; `None` on anything else.
fn parse_labels(text: &str) -> Option<Labels> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() || chars.next()? != '=' || chars.next()? != '"' {
            return None;
        }
        let mut v = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    '\\' => v.push('\\'),
                    '"' => v.push('"'),
                    'n' => v.push('\n'),
                    _ => return None,
                },
                c => v.push(c),
            }
        }
        out.push((name, v));
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{Measure, Step};
    use std::time::Duration;

    fn check(name: &str, target: &str, status: Status) -> Check {
        Check {
            name: name.into(),
            target: target.into(),
            steps: vec![Step {
                name: "tcp".into(),
                status,
                elapsed: Duration::from_millis(12),
                detail: String::new(),
                hint: None,
            }],
            hops: Vec::new(),
        }
    }

    #[test]
    fn gauges_without_timestamps_and_no_local_parts() {
        let mut r = Report::new();
        r.checks(vec![
            check("smtp", "h:25", Status::Ok),
            check("graph", "ops@example.com", Status::Fail),
        ]);
        r.measures.push(Measure::new(
            "mailbox_unseen",
            &[("mailbox", "incoming_email")],
            3.0,
        ));
        let text = render(&r, 1_700_000_000.5, &[]);
        assert!(
            text.contains("# TYPE toolctl_probe_success gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_probe_success{probe=\"smtp\",target=\"h:25\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_probe_success{probe=\"graph\",target=\"@example.com\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_probe_step_seconds{probe=\"smtp\",step=\"tcp\"} 0.012\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_mailbox_unseen{mailbox=\"incoming_email\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_check_last_run_timestamp_seconds 1700000000.5\n"),
            "{text}"
        );
        assert!(!text.contains("ops"), "{text}");
    }

    #[test]
    fn a_run_that_did_not_start_zeroes_what_the_last_file_had() {
        let previous = "toolctl_probe_success{probe=\"smtp\",target=\"h:25\"} 1\n\
                        toolctl_probe_success{probe=\"x\",evil=\"1\"} 1\n\
                        toolctl_probe_success{probe=\"a\\\"b\",target=\"t\"} 1\n";
        let carried = carried_successes(previous);
        assert_eq!(carried.len(), 2);
        let text = render(&Report::new(), 5.0, &carried);
        assert!(
            text.contains("toolctl_probe_success{probe=\"check\",target=\"start\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_probe_success{probe=\"smtp\",target=\"h:25\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("toolctl_probe_success{probe=\"a\\\"b\",target=\"t\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("evil") && !text.contains("} 1"), "{text}");
    }
}
