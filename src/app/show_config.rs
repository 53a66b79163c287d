//! `toolctl show-config [KEY|TABLE]`: the effective settings, every key (or one key, or one
//! table's keys), secrets masked, with sources.

use serde_json::json;

use crate::cli::OutputFormat;
use crate::error::{Error, Result};
use crate::report::{self, Report};
use crate::settings::resolve::Value;
use crate::settings::{schema, Severity};
use crate::Context;

pub fn run(ctx: &Context, filter: Option<&str>, format: OutputFormat) -> Result<Report> {
    let mut out = Report::new();
    let selected: Vec<&schema::Key> = match filter {
        None => schema::keys().iter().collect(),
        Some(f) => {
            let keys: Vec<&schema::Key> = schema::keys()
                .iter()
                .filter(|k| {
                    k.path == f
                        || k.path
                            .strip_prefix(f)
                            .is_some_and(|rest| rest.starts_with('.'))
                })
                .collect();
            if keys.is_empty() {
                let e = Error::new(format!("no key or table `{f}` in the settings"));
                return Err(match schema::closest(f) {
                    Some(c) => e.hint(format!(
                        "did you mean `{c}`? `toolctl show-config` lists every key"
                    )),
                    None => e.hint("`toolctl show-config` lists every key"),
                });
            }
            keys
        }
    };
    let r = ctx.resolve()?;
    match format {
        OutputFormat::Json => {
            let settings: serde_json::Map<String, serde_json::Value> = selected
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
            out.set_payload(&json!({
                "config_file": ctx.paths.config,
                "config_exists": ctx.settings.exists,
                "filter": filter,
                "settings": settings,
                "diagnostics": diags,
            }));
        }
        OutputFormat::Human => {
            let mut t = report::table(&["key", "value", "source"]);
            for k in &selected {
                let (value, source) = match r.values.get(&k.path) {
                    Some((v, src)) => (v.display(), src.to_string()),
                    None => ("-".to_string(), "not set".to_string()),
                };
                t.add_row(vec![k.path.clone(), value, source]);
            }
            out.text(format!("{t}\n"));
        }
    }
    // The table or document first, then the findings: the failed run still shows what
    // it resolved.
    if let Err(e) = super::report_diags(
        &ctx.printer,
        &ctx.paths.config,
        r.diags.iter(),
        "these settings cannot be rendered",
    ) {
        return Ok(out.fail(e));
    }
    Ok(out)
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
        Value::Secret(_) => json!(crate::model::MASK),
    }
}
