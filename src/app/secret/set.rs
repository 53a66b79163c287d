//! `toolctl <scope> secret set NAME`: one key of a secret, merged into the others.
//!
//! The value comes from stdin (one trailing newline stripped, as the shell's `read` does)
//! or, on a terminal, from a hidden dialoguer prompt: never from argv. The merged content
//! is checked against the scope's schema and written atomically under the store's lock.

use std::io::IsTerminal;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::report::Report;
use crate::secrets::store::{invalid, read_limited};
use crate::secrets::{schema, Plaintext, Scope};
use crate::Context;

pub fn run(ctx: &Context, scope: Scope, name: &str) -> Result<Report> {
    let mut out = Report::new();
    super::check_key_name(scope, name)?;
    let value = read_value(ctx, scope, name)?;
    if value.is_empty() {
        return Err(Error::new(format!(
            "the value for `{name}` is empty; the {scope} secret was not changed"
        ))
        .hint(format!(
            "pipe the value in (`printf '%s' \"$VALUE\" | toolctl {scope} secret set {name}`), or run it on a terminal to be prompted"
        )));
    }

    let store = ctx.store();
    let (_lock, key) = store.lock_for_writing(&ctx.printer)?;
    // Read under the lock, so a concurrent writer's keys are not lost.
    let mut entries = match store.read(scope, &key)? {
        Some(plaintext) => schema::parse(scope, &plaintext).map_err(|e| {
            Error::new(format!(
                "the {scope} secret holds invalid content; nothing was changed"
            ))
            .cause(&e)
            .hint(format!(
                "fix it with `toolctl {scope} secret edit`: {}",
                e.hint(scope)
            ))
        })?,
        None => Vec::new(),
    };
    let replaced = match entries.iter_mut().find(|e| e.key == name) {
        Some(e) => {
            e.value = value;
            true
        }
        None => {
            entries.push(schema::Entry {
                key: name.to_string(),
                value,
            });
            false
        }
    };
    let content = render(&entries);
    schema::validate(scope, content.as_bytes()).map_err(|e| invalid(scope, e))?;
    store.write(scope, &key, content.as_bytes())?;
    out.info(format!(
        "{} `{name}` in the {scope} secret; the other keys were kept. File encrypted and saved.",
        if replaced { "Replaced" } else { "Added" }
    ));
    if let Some(e) = entries.iter().find(|e| e.key == name) {
        super::warn_short_password(scope, name, &e.value, &mut out);
    }
    Ok(out)
}

/// The value: a hidden prompt on a terminal, else all of stdin minus one trailing newline.
fn read_value(ctx: &Context, scope: Scope, name: &str) -> Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() && std::io::stderr().is_terminal() {
        let _ = &ctx.printer;
        let v = dialoguer::Password::new()
            .with_prompt(format!("{name} for the {scope} secret"))
            .allow_empty_password(true)
            .interact()
            .map_err(|e| Error::new("cannot read the value from the terminal").cause(e))?;
        return Ok(Zeroizing::new(v));
    }
    let bytes: Plaintext = read_limited(stdin.lock())
        .map_err(|e| Error::new("cannot read stdin").cause(e))?
        .map_err(|e| invalid(scope, e))?;
    let mut end = bytes.len();
    if bytes[..end].ends_with(b"\n") {
        end -= 1;
    }
    let text = std::str::from_utf8(&bytes[..end]).map_err(|e| {
        Error::new(format!(
            "the value for `{name}` is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
        .hint("secrets are YAML strings: give the value as UTF-8 text")
    })?;
    Ok(Zeroizing::new(text.to_string()))
}

/// The entries as YAML, each value double-quoted with every special character escaped,
/// so any string survives exactly (YAML double quotes read the same in Psych).
fn render(entries: &[schema::Entry]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for e in entries {
        out.push_str(&e.key);
        out.push_str(": \"");
        for c in e.value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push_str("\"\n");
    }
    out
}
