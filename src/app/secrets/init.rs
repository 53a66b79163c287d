use crate::error::Result;
use crate::fsutil;
use crate::report::Report;
use crate::Context;

/// `toolctl secrets init`: create the key if missing (never overwrite it) and the secrets
/// directory; print the public key on stdout either way, so it can be piped into another
/// node's `[secrets] recipients`.
pub fn run(ctx: &Context) -> Result<Report> {
    Ok(Report::build(|out| {
        let store = ctx.store();
        let key = match store.existing_key_for_writing()? {
            Some(key) => {
                out.info(format!(
                    "The key `{}` exists; it was left as it is.",
                    key.path.display()
                ));
                key
            }
            None => out.noting(|n| store.lock_for_writing(n))?.1,
        };
        fsutil::ensure_dir(&ctx.paths.secrets_dir, 0o700)?;
        out.text(format!("{}\n", key.recipient()));
        Ok(())
    }))
}
