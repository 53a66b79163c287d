//! The outcome of one step of a check: what a probe records and the report shows. One type
//! for both, so a probe's row reaches the table, JSON and JUnit without a copy.

use std::time::Duration;

use serde::Serialize;

/// A step's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skipped,
    /// The check could not run (invalid settings in its table, a missing secret).
    Error,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// One row of a check.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub status: Status,
    pub elapsed: Duration,
    pub detail: String,
    pub hint: Option<String>,
}

/// One hop of a round trip (`check --round-trip`, `check --postback`): the mailbox it went
/// through, the hop and its latency, in a form a metrics renderer reads as it is
/// (`toolctl_round_trip_seconds{mailbox,hop}`). No field holds an address or a secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    /// The mailbox's settings table: `incoming_email` or `service_desk_email`.
    pub mailbox: String,
    /// `send`, `arrived`, `picked_up`, `pushed`, `cleanup` or `postback`.
    pub hop: String,
    /// The hop's latency (for a failed hop: how long it ran before it failed).
    pub seconds: f64,
    pub passed: bool,
}

/// One gauge a check measured, for `check --output-format prometheus` and `--textfile`:
/// its name without the `toolctl_` prefix, its labels (never a secret, never an address's
/// local part: the renderer strips those), its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub name: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Measure {
    pub fn new(name: &'static str, labels: &[(&'static str, &str)], value: f64) -> Measure {
        Measure {
            name,
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            value,
        }
    }
}
