//! The checks' reports: each live probe (or integration that could not run) as a table,
//! `-q`'s failing rows, one JSON document or JUnit XML for CI, and the one exit rule of
//! `check`.
//!
//! The types here are the report's own: `app::check` turns the probes into them, so the
//! probes stay about protocols and this module about presentation.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::Format;
use crate::error::ExitStatus;
use crate::sys::term::one_line;

pub use crate::model::outcome::{Hop, Status, Step};

/// One check (a probe): its name, what it tested, its rows in order.
#[derive(Clone, Debug)]
pub struct Check {
    /// `smtp`, `incoming-email`, …
    pub name: String,
    /// `host:port` or the endpoint probed.
    pub target: String,
    pub steps: Vec<Step>,
    /// The round trip's hops with their latencies (`check --round-trip`, `--postback`),
    /// for the metrics; empty for every other check.
    pub hops: Vec<Hop>,
}

impl Check {
    pub fn passed(&self) -> bool {
        !self
            .steps
            .iter()
            .any(|s| matches!(s.status, Status::Fail | Status::Error))
    }
}

/// The JSON document of the checks (documented keys: `passed`, `probes[].probe`,
/// `target`, `passed`, `steps[].step`, `status`, `ms`, `detail`, `hint`).
#[derive(Serialize)]
pub struct Document<'a> {
    passed: bool,
    probes: Vec<CheckDoc<'a>>,
}

#[derive(Serialize)]
struct CheckDoc<'a> {
    probe: &'a str,
    target: &'a str,
    passed: bool,
    steps: Vec<StepDoc<'a>>,
    /// The round trip's hops (only with `--round-trip` or `--postback`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    hops: Vec<HopDoc<'a>>,
}

#[derive(Serialize)]
struct HopDoc<'a> {
    mailbox: &'a str,
    hop: &'a str,
    seconds: f64,
    passed: bool,
}

#[derive(Serialize)]
struct StepDoc<'a> {
    step: &'a str,
    status: Status,
    ms: u64,
    detail: &'a str,
    hint: Option<&'a str>,
}

impl<'a> Document<'a> {
    pub fn of(checks: &'a [Check]) -> Self {
        Document {
            passed: checks.iter().all(Check::passed),
            probes: checks
                .iter()
                .map(|c| CheckDoc {
                    probe: &c.name,
                    target: &c.target,
                    passed: c.passed(),
                    steps: c
                        .steps
                        .iter()
                        .map(|s| StepDoc {
                            step: &s.name,
                            status: s.status,
                            ms: s.elapsed.as_millis() as u64,
                            detail: &s.detail,
                            hint: s.hint.as_deref(),
                        })
                        .collect(),
                    hops: c
                        .hops
                        .iter()
                        .map(|h| HopDoc {
                            mailbox: &h.mailbox,
                            hop: &h.hop,
                            seconds: h.seconds,
                            passed: h.passed,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// 2 if any check could not run, else 1 if any failed, else 0 (a warning never fails).
pub fn exit_status(checks: &[Check]) -> ExitStatus {
    let steps = || checks.iter().flat_map(|p| &p.steps);
    if steps().any(|s| s.status == Status::Error) {
        ExitStatus::Error
    } else if steps().any(|s| s.status == Status::Fail) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// The checks for people or CI: a table per check, `-q`'s failing rows only (nothing
/// when every check passed), or JUnit XML.
pub fn render(checks: &[Check], format: Format) -> String {
    match format {
        Format::Junit => junit(checks),
        Format::Quiet => {
            let failing: Vec<Check> = checks
                .iter()
                .filter(|c| !c.passed())
                .map(|c| Check {
                    steps: c
                        .steps
                        .iter()
                        .filter(|s| matches!(s.status, Status::Fail | Status::Error))
                        .cloned()
                        .collect(),
                    ..c.clone()
                })
                .collect();
            if failing.is_empty() {
                String::new()
            } else {
                tables(&failing)
            }
        }
        Format::Table | Format::Json | Format::Prometheus => tables(checks),
    }
}

/// One `name target — verdict` line and table per check. Details quote servers
/// (greetings, replies, error texts): every cell is shown with its control bytes escaped,
/// so that none of theirs reaches a terminal. JSON keeps the text as it was (serde
/// escapes it).
fn tables(checks: &[Check]) -> String {
    let shown = |v: &str| one_line(v).into_owned();
    let mut text = String::new();
    for c in checks {
        let verdict = if c.passed() { "passed" } else { "FAILED" };
        let _ = writeln!(text, "{} {} — {verdict}", shown(&c.name), shown(&c.target));
        let mut t = super::table(&["step", "status", "time", "detail", "hint"]);
        for s in &c.steps {
            t.add_row(vec![
                shown(&s.name),
                s.status.label().to_string(),
                if s.elapsed.is_zero() {
                    "-".into()
                } else {
                    format!("{} ms", s.elapsed.as_millis())
                },
                shown(&s.detail),
                shown(s.hint.as_deref().unwrap_or_default()),
            ]);
        }
        let _ = write!(text, "{t}\n\n");
    }
    let mut text = text.trim_end_matches('\n').to_string();
    text.push('\n');
    text
}

/// One `name target — verdict` line per check, and a last line for them all (after the
/// live rows, which were the table).
pub fn verdicts(checks: &[Check]) -> String {
    let shown = |v: &str| one_line(v).into_owned();
    let mut text = String::new();
    for c in checks {
        let verdict = if c.passed() { "passed" } else { "FAILED" };
        let time: Duration = c.steps.iter().map(|s| s.elapsed).sum();
        let _ = writeln!(
            text,
            "{} {} — {verdict} ({} steps, {} ms)",
            shown(&c.name),
            shown(&c.target),
            c.steps.len(),
            time.as_millis()
        );
    }
    if let Some(w) = crate::sys::term::stdout_width() {
        text = format!(
            "{}\n",
            crate::sys::wrap::fit(text.trim_end(), usize::from(w))
        );
    }
    let failed = checks.iter().filter(|c| !c.passed()).count();
    if checks.len() > 1 {
        let _ = match failed {
            0 => writeln!(text, "all {} checks passed", checks.len()),
            n => writeln!(text, "{n} of {} checks FAILED", checks.len()),
        };
    }
    text
}

/// JUnit XML: one `<testsuite>` per probe, one `<testcase>` per step; a failed step is a
/// `<failure>`, a check that could not run an `<error>`, each with the detail and the hint.
pub fn junit(checks: &[Check]) -> String {
    let count = |f: &dyn Fn(&Step) -> bool| {
        checks
            .iter()
            .flat_map(|p| &p.steps)
            .filter(|s| f(s))
            .count()
    };
    let total = count(&|_| true);
    let failures = count(&|s| s.status == Status::Fail);
    let errors = count(&|s| s.status == Status::Error);
    let skipped = count(&|s| s.status == Status::Skipped);
    let secs = |d: Duration| format!("{:.3}", d.as_secs_f64());
    let all_time: Duration = checks
        .iter()
        .flat_map(|p| &p.steps)
        .map(|s| s.elapsed)
        .sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"toolctl check\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\">",
        secs(all_time)
    );
    for p in checks {
        let n = |st: Status| p.steps.iter().filter(|s| s.status == st).count();
        let time: Duration = p.steps.iter().map(|s| s.elapsed).sum();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            esc(&format!("{} {}", p.name, p.target)),
            p.steps.len(),
            n(Status::Fail),
            n(Status::Error),
            n(Status::Skipped),
            secs(time)
        );
        for s in &p.steps {
            testcase(&mut x, &p.name, s);
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// The JUnit document of a check that produced no report: one `<testcase>` named `start`
/// with the `<error>` that stopped it (its message, causes and hint), or none when there
/// was no error.
pub fn junit_error(error: Option<&crate::error::Error>) -> String {
    let Some(e) = error else {
        return junit(&[]);
    };
    let mut detail = e.message().to_string();
    for c in e.causes() {
        detail.push_str(&format!(": {c}"));
    }
    let check = Check {
        name: "check".into(),
        target: "toolctl".into(),
        steps: vec![Step {
            name: "start".into(),
            status: Status::Error,
            elapsed: Duration::ZERO,
            detail,
            hint: e.hint_text().map(str::to_string),
        }],
        hops: Vec::new(),
    };
    junit(&[check])
}

/// One step as a `<testcase>`: its detail as output, or its `<skipped>`, `<failure>` or
/// `<error>`.
fn testcase(x: &mut String, probe: &str, s: &Step) {
    let _ = write!(
        x,
        "    <testcase classname=\"toolctl.{}\" name=\"{}\" time=\"{:.3}\"",
        esc(probe),
        esc(&s.name),
        s.elapsed.as_secs_f64()
    );
    let body = match &s.hint {
        Some(h) => format!("{}\nhint: {h}", s.detail),
        None => s.detail.clone(),
    };
    match s.status {
        Status::Ok => {
            let _ = writeln!(
                x,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                esc(&s.detail)
            );
        }
        Status::Warn => {
            let _ = writeln!(
                x,
                ">\n      <system-out>warning: {}</system-out>\n    </testcase>",
                esc(&body)
            );
        }
        Status::Skipped => {
            let _ = writeln!(
                x,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                esc(&s.detail)
            );
        }
        Status::Fail | Status::Error => {
            let tag = if s.status == Status::Fail {
                "failure"
            } else {
                "error"
            };
            let _ = writeln!(
                x,
                ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>",
                esc(&s.detail),
                s.status.label(),
                esc(&body)
            );
        }
    }
}

/// XML text and attribute escaping; control characters (those XML 1.0 forbids, DEL and
/// C1) become U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            // C0 (which XML 1.0 forbids), DEL and C1: no escape sequence of a server's
            // reaches a terminal that shows the report.
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, status: Status, detail: &str, hint: Option<&str>) -> Step {
        Step {
            name: name.into(),
            status,
            elapsed: Duration::ZERO,
            detail: detail.into(),
            hint: hint.map(Into::into),
        }
    }

    fn check(steps: Vec<Step>) -> Check {
        Check {
            name: "smtp".into(),
            target: "h:1".into(),
            steps,
            hops: Vec::new(),
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let c = check(vec![
            step("tcp", Status::Ok, "connected <ok> & \"fine\"", None),
            step(
                "auth",
                Status::Fail,
                "535 bad\u{1}\x1b[2J\u{9b}",
                Some("fix it"),
            ),
        ]);
        let x = junit(&[c]);
        assert!(x.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{x}");
        assert!(x.contains("&lt;ok&gt; &amp; &quot;fine&quot;"), "{x}");
        assert!(x.contains("535 bad\u{fffd}\u{fffd}[2J\u{fffd}"), "{x}");
    }

    #[test]
    fn errors_outrank_failures() {
        let failed = || check(vec![step("tcp", Status::Fail, "refused", Some("start it"))]);
        let broken = check(vec![step("settings", Status::Error, "bad", Some("fix"))]);
        assert_eq!(exit_status(&[failed()]), ExitStatus::Failure);
        assert_eq!(exit_status(&[failed(), broken]), ExitStatus::Error);
        assert_eq!(exit_status(&[]), ExitStatus::Success);
    }

    #[test]
    fn quiet_shows_only_the_failing_rows() {
        let passed = check(vec![step("tcp", Status::Ok, "connected", None)]);
        assert_eq!(render(std::slice::from_ref(&passed), Format::Quiet), "");
        let failed = check(vec![
            step("tcp", Status::Ok, "connected", None),
            step("auth", Status::Fail, "refused", Some("fix")),
        ]);
        let text = render(&[passed, failed], Format::Quiet);
        assert!(
            text.contains("auth") && !text.contains("connected"),
            "{text}"
        );
    }
}
