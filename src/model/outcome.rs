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
