//! Live probes of the mail servers in toolctl.toml, and their report.
//!
//! A probe is a list of steps ([`Probe`]), each timed and bounded by the per-step timeout
//! (the client crates' own timeouts cover at most the TCP connect, so every network step is
//! wrapped here). A probe stops at its first failing step. [`imap`], [`smtp`] and
//! [`graph`] hold the protocols, [`tls`] the certificate handling and [`net`] the
//! connection; this module owns the step runner; `app::check` turns the probes into the report. Nothing
//! here may put a secret in a step's detail or hint.

pub mod graph;
pub mod imap;
pub mod live;
pub mod mailroom;
pub mod mailroom_log;
pub mod mask;
pub mod mattermost;
pub mod net;
pub mod plan;
pub mod postback;
pub mod redis;
pub mod roundtrip;
pub mod smtp;
pub mod tls;
pub mod watch;

use std::future::Future;
use std::time::{Duration, Instant};

pub use crate::model::outcome::{Hop, Measure, Status, Step};

/// Why a step failed: what happened, and the fix.
pub struct Failure {
    pub detail: String,
    pub hint: String,
}

pub fn fail(detail: impl Into<String>, hint: impl Into<String>) -> Failure {
    Failure {
        detail: detail.into(),
        hint: hint.into(),
    }
}

/// The small message `--send-to` sends: `what` names the check, `how` the path it tested.
pub fn test_message(from: &str, to: &str, what: &str, how: &str) -> Result<Vec<u8>, Failure> {
    let message = lettre::Message::builder()
        .from(from.parse().map_err(|_| {
            fail(format!("`{from}` is not a valid sender address"), "fix `email.from`")
        })?)
        .to(to.parse().map_err(|_| {
            fail(
                format!("`{to}` is not a valid address"),
                "give --send-to a full address such as ops@example.com",
            )
        })?)
        .subject(format!("toolctl {what}"))
        .body(format!(
            "This is a test message from `toolctl {what}`.\r\nIf you can read it, GitLab's outgoing mail {how} works.\r\n"
        ))
        .map_err(|e| fail(format!("cannot build the test message: {e}"), "check `email.from`"))?;
    Ok(message.formatted())
}

/// The steps of one probe, in order.
pub struct Probe {
    /// `smtp`, `incoming-email`, …
    pub name: String,
    /// `host:port` or the endpoint probed.
    pub target: String,
    pub steps: Vec<Step>,
    pub timeout: Duration,
    /// Every credential this probe sends, in every form: masked in every row and line.
    pub masker: mask::Masker,
    /// Rows and transcript on stderr while the probe runs.
    pub live: live::Live,
    /// The round trip's hops, in order (empty for every other probe).
    pub hops: Vec<Hop>,
    /// Gauges beyond the rows (certificate expiry, unseen mail), for Prometheus.
    pub measures: Vec<Measure>,
    /// What a timeout of the next step means, when it is not "the server is silent".
    timeout_reading: Option<Failure>,
}

impl Probe {
    pub fn new(name: &str, target: String, timeout: Duration) -> Probe {
        let masker = mask::Masker::new();
        Probe {
            name: name.to_string(),
            target,
            steps: Vec::new(),
            timeout,
            live: live::Live::new(name, masker.clone()),
            masker,
            hops: Vec::new(),
            measures: Vec::new(),
            timeout_reading: None,
        }
    }

    /// Records a gauge (`name` without the `toolctl_` prefix).
    pub fn measure(&mut self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        self.measures.push(Measure::new(name, labels, value));
    }

    /// What a timeout of the next [`Probe::step`] means (a login that a server delays,
    /// a plain client on an implicit-TLS port), instead of the generic reading.
    pub fn on_timeout(&mut self, detail: impl Into<String>, hint: impl Into<String>) {
        self.timeout_reading = Some(fail(detail, hint));
    }

    pub fn passed(&self) -> bool {
        !self
            .steps
            .iter()
            .any(|s| matches!(s.status, Status::Fail | Status::Error))
    }

    fn push(
        &mut self,
        name: &str,
        status: Status,
        elapsed: Duration,
        detail: String,
        hint: Option<String>,
    ) {
        let step = Step {
            name: name.to_string(),
            status,
            elapsed,
            detail: self.masker.apply(&detail),
            hint: hint.map(|h| self.masker.apply(&h)),
        };
        self.live.row(&step);
        self.steps.push(step);
    }

    /// A row that the caller timed itself (a round trip's hop).
    pub fn record(
        &mut self,
        name: &str,
        status: Status,
        elapsed: Duration,
        detail: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(name, status, elapsed, detail.into(), hint);
    }

    pub fn ok(&mut self, name: &str, detail: impl Into<String>) {
        self.push(name, Status::Ok, Duration::ZERO, detail.into(), None);
    }

    pub fn warn(&mut self, name: &str, detail: impl Into<String>, hint: impl Into<String>) {
        self.push(
            name,
            Status::Warn,
            Duration::ZERO,
            detail.into(),
            Some(hint.into()),
        );
    }

    pub fn skip(&mut self, name: &str, detail: impl Into<String>) {
        self.push(name, Status::Skipped, Duration::ZERO, detail.into(), None);
    }

    pub fn fail_now(&mut self, name: &str, f: Failure) {
        self.push(name, Status::Fail, Duration::ZERO, f.detail, Some(f.hint));
    }

    /// Runs one network step under the timeout. `Ok((value, detail))` records an ok row;
    /// a failure or a timeout records a failed row and returns `None`.
    pub async fn step<T, F>(&mut self, name: &str, fut: F) -> Option<T>
    where
        F: Future<Output = Result<(T, String), Failure>>,
    {
        self.live.waiting(name);
        let reading = self.timeout_reading.take();
        let start = Instant::now();
        let result = tokio::time::timeout(self.timeout, fut).await;
        let elapsed = start.elapsed();
        match result {
            Ok(Ok((value, detail))) => {
                self.push(name, Status::Ok, elapsed, detail, None);
                Some(value)
            }
            Ok(Err(f)) => {
                self.push(name, Status::Fail, elapsed, f.detail, Some(f.hint));
                None
            }
            Err(_) => {
                let within = format!("no answer within {}", seconds(self.timeout));
                if let Some(f) = reading {
                    let detail = format!("{within}: {}", f.detail);
                    self.push(name, Status::Fail, elapsed, detail, Some(f.hint));
                    return None;
                }
                self.push(
                    name,
                    Status::Fail,
                    elapsed,
                    within,
                    Some(format!(
                        "the server at {} accepted the connection but did not answer: check that \
                         the host and port are this service's, and any firewall or proxy in between \
                         (`--timeout` raises the limit)",
                        self.target
                    )),
                );
                None
            }
        }
    }

    /// Turns the last ok row into a warning (a step that worked but is worth a look).
    pub fn downgrade_last(&mut self, detail: String, hint: String) {
        if let Some(last) = self.steps.last_mut() {
            last.status = Status::Warn;
            last.detail = detail;
            last.hint = Some(hint);
        }
    }
}

/// `3 s`, `2.5 s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s:.1} s")
    }
}
