use std::io::Write;

use crate::error::{Error, Result};
use crate::report::Report;
use crate::secrets::Scope;
use crate::Context;

/// `toolctl <scope> secret show`: the decrypted YAML, byte for byte, on stdout; with
/// `--key NAME`, that value alone, raw, no newline added.
pub fn run(ctx: &Context, scope: Scope, only: Option<&str>) -> Result<Report> {
    let store = ctx.store();
    let file = store.file(scope);
    // `exists()` would read "permission denied" as "no file"; only a real ENOENT is that.
    if !file.try_exists().map_err(|e| Error::io("read", &file, e))? {
        return Err(Error::new(format!(
            "there is no {scope} secret yet (`{}` does not exist)",
            file.display()
        ))
        .hint(format!(
            "create it with `toolctl {scope} secret edit`, or pipe YAML into `toolctl {scope} secret write`"
        )));
    }
    let key = store.key()?;
    let plaintext = store
        .read(scope, &key)?
        .ok_or_else(|| Error::new(format!("`{}` disappeared while reading it", file.display())))?;
    let plaintext = match only {
        None => plaintext,
        Some(name) => super::extract(scope, &plaintext, name)?,
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(&plaintext).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::new("cannot write to stdout").cause(e))
        }
        _ => Ok(Report::new()),
    }
}
