use serde_json::json;

use crate::cli::OutputFormat;
use crate::error::Result;
use crate::report::{self, Report};
use crate::secrets::{rotation, Scope};
use crate::Context;

/// `toolctl secrets rekey [--new-key]`: re-encrypt every present secret to the current
/// recipients, all or nothing; with `--new-key`, rotate to a new key first. An interrupted
/// rotation is finished first, whatever the flag. The steps and their guarantees are in
/// [`rotation`].
pub fn run(ctx: &Context, new_key: bool, format: OutputFormat) -> Result<Report> {
    let mut out = Report::new();
    let store = ctx.store();
    let report = rotation::rekey(&store, new_key, &ctx.printer)?;
    let done = &report.scopes;
    match format {
        OutputFormat::Json => out.set_payload(&json!({
            "public_key": report.public_key,
            "recipients": report.recipients,
            "old_key": report.old_copy,
            "finished_interrupted_rotation": report.finished_interrupted,
            "secrets": Scope::ALL.iter().map(|s| json!({
                "scope": s.cli_name(),
                "action": if done.contains(s) { "re-encrypted" } else { "absent" },
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Human => {
            let mut t = report::table(&["scope", "action", "recipients"]);
            for s in Scope::ALL {
                let (action, n) = if done.contains(&s) {
                    ("re-encrypted", report.recipients.to_string())
                } else {
                    ("absent", "-".to_string())
                };
                t.add_row(vec![s.cli_name().to_string(), action.to_string(), n]);
            }
            out.text(format!("{t}\n"));
        }
    }
    ctx.printer.info(format!(
        "{} secret(s) re-encrypted to {} recipient(s).",
        done.len(),
        report.recipients
    ));
    if let Some(old_copy) = &report.old_copy {
        ctx.printer.info(format!(
            "New key `{}` (public key {}). The old key is kept at `{}`: update \
             `[secrets] recipients` on the other nodes, then remove it.",
            ctx.paths.key_file.display(),
            report.public_key,
            old_copy.display()
        ));
    }
    Ok(out)
}
