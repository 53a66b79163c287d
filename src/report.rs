//! The check reports beside the probes' own table and JSON: JUnit XML for CI, the `-q`
//! form (nothing on success, only the failing rows on failure), the error probe of an
//! integration that could not run, and the one exit rule of `check`.
//!
//! Kept out of `probe` and `app::check` so the probes stay about protocols: the
//! commands call [`print`] with what they ran and [`exit_status`] decides the code.

use std::fmt::Write as _;
use std::time::Duration;

use crate::error::ExitStatus;
use crate::output::{self, CheckFormat, Printer};
use crate::probe::{self, Probe, Status, Step};

/// A probe that could not run: one `settings` error row per reason, with its fix.
pub fn broken(name: &str, target: String, reasons: &[(String, String)]) -> Probe {
    let mut p = Probe::new(name, target, Duration::ZERO);
    for (detail, hint) in reasons {
        p.steps.push(Step {
            name: "settings".to_string(),
            status: Status::Error,
            elapsed: Duration::ZERO,
            detail: detail.clone(),
            hint: Some(hint.clone()),
        });
    }
    p
}

/// 2 if any probe could not run, else 1 if any failed, else 0 (a warning never fails).
pub fn exit_status(probes: &[Probe]) -> ExitStatus {
    let steps = || probes.iter().flat_map(|p| &p.steps);
    if steps().any(|s| s.status == Status::Error) {
        ExitStatus::Error
    } else if steps().any(|s| s.status == Status::Fail) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Prints the reports in the asked format; `-q` shrinks only the human table.
pub fn print(probes: &[Probe], format: CheckFormat, printer: &Printer) {
    match format {
        CheckFormat::Junit => output::emit(&junit(probes)),
        CheckFormat::Human if printer.quiet => {
            let failing: Vec<Probe> = probes
                .iter()
                .filter(|p| !p.passed())
                .map(|p| {
                    let mut failing = Probe::new(&p.name, p.target.clone(), p.timeout);
                    failing.steps = p
                        .steps
                        .iter()
                        .filter(|s| matches!(s.status, Status::Fail | Status::Error))
                        .cloned()
                        .collect();
                    failing
                })
                .collect();
            if !failing.is_empty() {
                probe::print(&failing, output::OutputFormat::Human);
            }
        }
        other => probe::print(probes, other.base()),
    }
}

/// JUnit XML: one `<testsuite>` per probe, one `<testcase>` per step; a failed step is a
/// `<failure>`, a probe that could not run an `<error>`, each with the detail and the hint.
pub fn junit(probes: &[Probe]) -> String {
    let count = |f: &dyn Fn(&Step) -> bool| {
        probes
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
    let all_time: Duration = probes
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
    for p in probes {
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
            let _ = write!(
                x,
                "    <testcase classname=\"toolctl.{}\" name=\"{}\" time=\"{}\"",
                esc(&p.name),
                esc(&s.name),
                secs(s.elapsed)
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
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
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

    #[test]
    fn junit_escapes_and_counts() {
        let mut p = Probe::new("smtp", "h:1".into(), Duration::from_secs(1));
        p.ok("tcp", "connected <ok> & \"fine\"");
        p.fail_now("auth", probe::fail("535 bad\u{1}\x1b[2J\u{9b}", "fix it"));
        let x = junit(&[p]);
        assert!(x.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{x}");
        assert!(x.contains("&lt;ok&gt; &amp; &quot;fine&quot;"), "{x}");
        assert!(x.contains("535 bad\u{fffd}\u{fffd}[2J\u{fffd}"), "{x}");
    }

    #[test]
    fn errors_outrank_failures() {
        let mut failed = Probe::new("smtp", "h".into(), Duration::ZERO);
        failed.fail_now("tcp", probe::fail("refused", "start it"));
        let broken = broken("imap", "h".into(), &[("bad".into(), "fix".into())]);
        assert_eq!(exit_status(&[failed]), ExitStatus::Failure);
        let mut failed = Probe::new("smtp", "h".into(), Duration::ZERO);
        failed.fail_now("tcp", probe::fail("refused", "start it"));
        assert_eq!(exit_status(&[failed, broken]), ExitStatus::Error);
        assert_eq!(exit_status(&[]), ExitStatus::Success);
    }
}
