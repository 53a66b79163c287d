//! `toolctl show-config [KEY|TABLE]`: the effective settings, every key (or one key, or one
//! table's keys), secrets masked, with sources.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::report::{self, Report};
use crate::settings::resolve::{Resolved, Value};
use crate::settings::{schema, Diag, Severity};
use crate::Context;

/// The JSON document of `show-config`.
#[derive(Serialize)]
struct Document<'a> {
    config_file: &'a Path,
    config_exists: bool,
    filter: Option<&'a str>,
    settings: BTreeMap<&'a str, Entry<'a>>,
    diagnostics: Vec<DiagRow<'a>>,
}

/// One key: its effective value (`null` when not set), where it came from, whether it is a
/// secret (then the value is the mask).
#[derive(Serialize)]
struct Entry<'a> {
    value: Option<Shown<'a>>,
    source: String,
    secret: bool,
}

#[derive(Serialize)]
struct DiagRow<'a> {
    severity: &'static str,
    key: &'a str,
    line: Option<usize>,
    message: &'a str,
    hint: &'a str,
}

/// A resolved value as JSON: strings, numbers, booleans, lists, tables; a secret only as
/// the mask.
struct Shown<'a>(&'a Value);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Str(v) => s.serialize_str(v),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (k, v))
                .collect::<BTreeMap<_, _>>()
                .serialize(s),
            Value::Secret(_) => s.serialize_str(crate::model::MASK),
        }
    }
}

pub fn run(ctx: &Context, filter: Option<&str>) -> Result<Report> {
    let selected = select(filter)?;
    let r = ctx.resolve()?;
    let mut out = Report::new();
    out.set_payload(&document(ctx, filter, &selected, &r));
    out.table(&table(&selected, &r));
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

/// The keys `filter` names: one key, or a table's keys; every key without a filter.
fn select(filter: Option<&str>) -> Result<Vec<&'static schema::Key>> {
    let Some(f) = filter else {
        return Ok(schema::keys().iter().collect());
    };
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
    Ok(keys)
}

fn document<'a>(
    ctx: &'a Context,
    filter: Option<&'a str>,
    selected: &[&'a schema::Key],
    r: &'a Resolved,
) -> Document<'a> {
    let settings = selected
        .iter()
        .map(|k| {
            let (value, source) = match r.values.get(&k.path) {
                Some((v, src)) => (Some(Shown(v)), src.to_string()),
                None => (None, "not set".to_string()),
            };
            let secret = k.secret.is_some();
            (
                k.path.as_str(),
                Entry {
                    value,
                    source,
                    secret,
                },
            )
        })
        .collect();
    let diagnostics = r.diags.iter().map(diag_row).collect();
    Document {
        config_file: &ctx.paths.config,
        config_exists: ctx.settings.exists,
        filter,
        settings,
        diagnostics,
    }
}

fn diag_row(d: &Diag) -> DiagRow<'_> {
    DiagRow {
        severity: if d.severity == Severity::Error {
            "error"
        } else {
            "warning"
        },
        key: &d.key,
        line: d.line,
        message: &d.message,
        hint: &d.hint,
    }
}

fn table(selected: &[&schema::Key], r: &Resolved) -> report::Table {
    let mut t = report::table(&["key", "value", "source"]);
    for k in selected {
        let (value, source) = match r.values.get(&k.path) {
            Some((v, src)) => (v.display(), src.to_string()),
            None => ("-".to_string(), "not set".to_string()),
        };
        t.add_row(vec![k.path.clone(), value, source]);
    }
    t
}
