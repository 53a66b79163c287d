use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::report::{self, Report};
use crate::secrets::{rotation, Scope};
use crate::Context;

/// The JSON document of `secrets rekey`.
#[derive(Serialize)]
struct Document<'a> {
    public_key: &'a str,
    recipients: usize,
    old_key: Option<&'a Path>,
    finished_interrupted_rotation: bool,
    secrets: Vec<ScopeRow>,
}

#[derive(Serialize)]
struct ScopeRow {
    scope: &'static str,
    /// `re-encrypted` or `absent`.
    action: &'static str,
}

/// `toolctl secrets rekey [--new-key]`: re-encrypt every present secret to the current
/// recipients, all or nothing; with `--new-key`, rotate to a new key first. An interrupted
/// rotation is finished first, whatever the flag. The steps and their guarantees are in
/// [`rotation`].
pub fn run(ctx: &Context, new_key: bool) -> Result<Report> {
    let mut out = Report::new();
    let store = ctx.store();
    let report = rotation::rekey(&store, new_key, &ctx.printer)?;
    let done = &report.scopes;
    let action = |s: &Scope| {
        if done.contains(s) {
            "re-encrypted"
        } else {
            "absent"
        }
    };
    out.set_payload(&Document {
        public_key: &report.public_key,
        recipients: report.recipients,
        old_key: report.old_copy.as_deref(),
        finished_interrupted_rotation: report.finished_interrupted,
        secrets: Scope::ALL
            .iter()
            .map(|s| ScopeRow {
                scope: s.cli_name(),
                action: action(s),
            })
            .collect(),
    });
    let mut t = report::table(&["scope", "action", "recipients"]);
    for s in Scope::ALL {
        let n = if done.contains(&s) {
            report.recipients.to_string()
        } else {
            "-".to_string()
        };
        t.add_row(vec![s.cli_name().to_string(), action(&s).to_string(), n]);
    }
    out.table(&t);
    out.info(format!(
        "{} secret(s) re-encrypted to {} recipient(s).",
        done.len(),
        report.recipients
    ));
    if let Some(old_copy) = &report.old_copy {
        out.info(format!(
            "New key `{}` (public key {}). The old key is kept at `{}`: update \
             `[secrets] recipients` on the other nodes, then remove it.",
            ctx.paths.key_file.display(),
            report.public_key,
            old_copy.display()
        ));
    }
    Ok(out)
}
