use std::io::IsTerminal;

use crate::error::{Error, Result};
use crate::report::Report;
use crate::secrets::schema;
use crate::secrets::store::{invalid, read_limited};
use crate::secrets::Scope;
use crate::Context;

/// `toolctl <scope> secret write`: all of stdin, checked, encrypted, saved atomically.
pub fn run(ctx: &Context, scope: Scope) -> Result<Report> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        ctx.printer.info(format!(
            "Reading the {scope} secret from the terminal: type or paste the YAML, then press Ctrl+D."
        ));
    }
    let plaintext = read_limited(stdin.lock())
        .map_err(|e| Error::new("cannot read stdin").cause(e))?
        .map_err(|e| invalid(scope, e))?;
    // Check the content before touching anything: bad input leaves every file as it was.
    schema::validate(scope, &plaintext).map_err(|e| invalid(scope, e))?;
    Ok(Report::build(|out| {
        let store = ctx.store();
        let (_lock, key) = out.noting(|n| store.lock_for_writing(n))?;
        store.write(scope, &key, &plaintext)?;
        out.info("File encrypted and saved.");
        super::warn_short_passwords(scope, &plaintext, out);
        Ok(())
    }))
}
