//! `toolctl import gitlab-rb FILE [--dry-run]` (see `crate::gitlab::rb`).

use std::path::Path;

use crate::error::{Error, ExitStatus, Result};
use crate::output::OutputFormat;
use crate::Context;

pub fn run(_ctx: &Context, _file: &Path, _dry: bool, _format: OutputFormat) -> Result<ExitStatus> {
    Err(
        Error::new("`import gitlab-rb` is not available in this build")
            .hint("copy the settings by hand with `toolctl config set`"),
    )
}
