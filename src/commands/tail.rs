//! `toolctl tail [TARGET]`: follow the logs.

use crate::cli::TailArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::Context;

pub fn run(_ctx: &Context, _args: &TailArgs) -> Result<ExitStatus> {
    Err(Error::new("`toolctl tail` is being built"))
}
