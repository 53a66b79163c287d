//! `toolctl completions SHELL` and `toolctl man`: generated from the clap definition.
//!
//! Their outputs are committed under `completions/` and `man/`; `scripts/regen-docs`
//! refreshes them and a test fails when they drift.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, Shell};
use crate::error::{Error, ExitStatus, Result};
use crate::fsutil;

pub fn completions(shell: Shell) -> Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "toolctl", &mut out);
    crate::output::emit(&String::from_utf8_lossy(&out));
    Ok(ExitStatus::Success)
}

/// Writes `toolctl.1` and one page per subcommand (`toolctl-smtp-secret-show.1`, …).
pub fn man(out_dir: &Path) -> Result<ExitStatus> {
    fsutil::ensure_dir(out_dir, 0o755)?;
    let mut cmd = Cli::command();
    cmd.build();
    write_pages(&cmd, "toolctl", out_dir)?;
    Ok(ExitStatus::Success)
}

fn write_pages(cmd: &clap::Command, name: &str, out_dir: &Path) -> Result<()> {
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .map_err(|e| Error::new("cannot render a man page").cause(e))?;
    fsutil::write_atomic(&out_dir.join(format!("{name}.1")), &buf, 0o644)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), out_dir)?;
    }
    Ok(())
}
