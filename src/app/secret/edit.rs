use std::io::IsTerminal;

use crate::error::Result;
use crate::report::{PrintError, Report};
use crate::secrets::edit::Session;
use crate::secrets::store::invalid;
use crate::secrets::{schema, Plaintext, Scope};
use crate::Context;

/// `toolctl <scope> secret edit`: decrypt to a private tmpfs copy, run the editor, check,
/// encrypt. The store stays locked for the whole session so no other writer slips in.
pub fn run(ctx: &Context, scope: Scope) -> Result<Report> {
    let mut out = Report::new();
    let store = ctx.store();
    let (_lock, key) = store.lock_for_writing(&ctx.printer)?;
    let initial: Plaintext = match store.read(scope, &key)? {
        Some(plaintext) => plaintext,
        None => Plaintext::new(scope.template().into_bytes()),
    };
    let session = Session::new(scope, &initial, &ctx.printer)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if let Some(line) = sudo_dropped_editor(scope) {
        ctx.printer.info(line);
    }
    loop {
        session.edit()?;
        let edited = session.read()?;
        if matches!(&edited, Ok(e) if e[..] == initial[..]) {
            // Unchanged content is "nothing to do", even when it is the bare template.
            out.info("No changes; nothing written.");
            return Ok(out);
        }
        match edited.and_then(|e| schema::validate(scope, &e).map(|()| e)) {
            Ok(edited) => {
                store.write(scope, &key, &edited)?;
                out.info("File encrypted and saved.");
                super::warn_short_passwords(scope, &edited, &mut out);
                return Ok(out);
            }
            Err(e) => {
                let err = crate::error::Error::from(invalid(scope, e));
                if !interactive {
                    return Err(err);
                }
                err.print(ctx.printer.style);
                let again = dialoguer::Confirm::new()
                    .with_prompt("Go back into the editor?")
                    .default(true)
                    .interact()
                    .unwrap_or(false);
                if !again {
                    return Err(crate::error::Error::new(format!(
                        "the {scope} secret was not saved"
                    )));
                }
            }
        }
    }
}

/// Under `sudo` with neither `VISUAL` nor `EDITOR` set (sudo drops them), the one line
/// that says why the fallback editor opens and how to choose one.
fn sudo_dropped_editor(scope: Scope) -> Option<String> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    (set("SUDO_USER") && !set("VISUAL") && !set("EDITOR")).then(|| {
        format!("`sudo` drops `EDITOR`: use `sudo EDITOR=vim toolctl {scope} secret edit` for another editor")
    })
}
