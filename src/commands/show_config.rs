//! `toolctl show-config`: the effective settings, every key, secrets masked, with sources.

use serde_json::json;

use crate::error::{ExitStatus, Result};
use crate::output::{self, OutputFormat};
use crate::settings::resolve::Value;
use crate::settings::{schema, Severity};
use crate::Context;

pub fn run(ctx: &Context, format: OutputFormat) -> Result<ExitStatus> {
    let r = ctx.resolve()?;
    match format {
        OutputFormat::Json => {
            let settings: serde_json::Map<String, serde_json::Value> = schema::keys()
                .iter()
                .map(|k| {
                    let (value, source) = match r.values.get(&k.path) {
                        Some((v, src)) => (json_value(v), json!(src.to_string())),
                        None => (serde_json::Value::Null, json!("not set")),
                    };
                    (
                        k.path.clone(),
                        json!({ "value": value, "source": source, "secret": k.secret.is_some() }),
                    )
                })
                .collect();
            let diags: Vec<_> = r
                .diags
                .iter()
                .map(|d| {
                    json!({
                        "severity": if d.severity == Severity::Error { "error" } else { "warning" },
                        "key": d.key, "line": d.line, "message": d.message, "hint": d.hint,
                    })
                })
                .collect();
            output::emit_json(&json!({
                "config_file": ctx.paths.config,
                "config_exists": ctx.settings.exists,
                "settings": settings,
                "diagnostics": diags,
            }));
        }
        OutputFormat::Human => {
            let mut t = output::table(&["key", "value", "source"]);
            for k in schema::keys() {
                let (value, source) = match r.values.get(&k.path) {
                    Some((v, src)) => (v.display(), src.to_string()),
                    None => ("-".to_string(), "not set".to_string()),
                };
                t.add_row(vec![k.path.clone(), value, source]);
            }
            output::emit(&format!("{t}\n"));
        }
    }
    super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        r.diags.iter(),
        "these settings cannot be rendered",
    )?;
    Ok(ExitStatus::Success)
}

fn json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Str(s) => json!(s),
        Value::Int(i) => json!(i),
        Value::Bool(b) => json!(b),
        Value::List(l) => json!(l),
        Value::Map(m) => json!(m
            .iter()
            .cloned()
            .collect::<std::collections::BTreeMap<_, _>>()),
        Value::Secret(_) => json!(crate::settings::resolve::MASK),
    }
}
