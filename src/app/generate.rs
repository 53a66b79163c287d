//! `toolctl completions SHELL` and `toolctl man`: generated from the clap definition.
//!
//! Their outputs are committed under `completions/` and `man/`; `scripts/regen-docs`
//! refreshes them and a test fails when they drift.
//!
//! Completions are dynamic (clap_complete's engine): the script is a small stub that calls
//! `toolctl` back with `COMPLETE=<shell>`, so config keys, tables, secret keys and the tail
//! targets under the log directory complete from the installed binary, and subcommands
//! are offered before options. Man pages are clap_mangen's sections plus EXIT STATUS,
//! FILES, ENVIRONMENT and EXAMPLES written here (instead of clap's generic "EXTRA").

use std::io::Write;
use std::path::Path;

use clap_complete::env::EnvCompleter;

use crate::cli::{self, Shell};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::report::Report;

pub fn completions(shell: Shell) -> Result<Report> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
    };
    let mut out = Vec::new();
    completer
        .write_registration("COMPLETE", "toolctl", "toolctl", "toolctl", &mut out)
        .map_err(|e| Error::new("cannot write the completion script").cause(e))?;

    let mut report = Report::new();
    report.text(String::from_utf8_lossy(&out));
    Ok(report)
}

/// Writes `toolctl.1` and one page per subcommand (`toolctl-smtp-secret-show.1`, …).
pub fn man(out_dir: &Path) -> Result<Report> {
    fsutil::ensure_dir(out_dir, 0o755)?;
    let mut cmd = cli::command();
    cmd.build();
    write_pages(&cmd, "toolctl", &[], out_dir)?;
    fsutil::write_atomic(&out_dir.join("toolctl.toml.5"), &settings_page(), 0o644)?;
    Ok(Report::new())
}

/// `toolctl.toml(5)`: every key of the settings schema with its type, default and what it is
/// for, table by table, in the order `show-config` lists them.
fn settings_page() -> Vec<u8> {
    use crate::settings::describe::describe;
    use crate::settings::schema::{keys, DefaultValue};
    let mut out = String::new();
    out.push_str(".TH TOOLCTL.TOML 5 \"\" \"toolctl\" \"File Formats\"\n");
    out.push_str(".SH NAME\ntoolctl.toml \\- toolctl's settings file\n");
    out.push_str(".SH SYNOPSIS\n/etc/toolctl/toolctl.toml\n");
    out.push_str(
        ".SH DESCRIPTION\nOne TOML file holds every setting of \\fBtoolctl\\fR(1). It is \
         root's, mode 0600. \\fBtoolctl config set\\fR edits it and keeps its comments; \
         \\fBtoolctl reconfigure\\fR validates it and renders the files the services read; \
         \\fBtoolctl show\\-config\\fR prints every key with its value and source. \
         A key marked \\fIsecret\\fR belongs in the encrypted store \
         (\\fBtoolctl \\fISCOPE\\fB secret set\\fR): in this file it is accepted with a \
         warning, and the store's value wins.\n",
    );
    let mut table: Option<&str> = None;
    for k in keys() {
        let (section, name) = match k.path.rsplit_once('.') {
            Some((t, n)) if crate::settings::schema::TABLES.contains(&t) => (t, n),
            _ => ("", k.path.as_str()),
        };
        if table != Some(section) {
            table = Some(section);
            if section.is_empty() {
                out.push_str(".SH \"TOP LEVEL\"\n");
            } else {
                out.push_str(&format!(".SH \"[{}]\"\n", roff(section)));
            }
        }
        let default = match k.default {
            DefaultValue::None => "none".to_string(),
            DefaultValue::Str(s) => format!("\"{s}\""),
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Bool(b) => b.to_string(),
            DefaultValue::Derived(d) => d.to_string(),
        };
        let secret = match k.secret {
            Some((scope, key)) => format!("; secret: key {key} of scope {}", scope.cli_name()),
            None => String::new(),
        };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n.br\n\\fIType:\\fR {}; \\fIdefault:\\fR {}{}\n",
            roff(name),
            roff(describe(&k.path).unwrap_or("")),
            roff(&k.kind.describe()),
            roff(&default),
            roff(&secret),
        ));
    }
    out.push_str(".SH \"SEE ALSO\"\n\\fBtoolctl\\fR(1), \\fBtoolctl\\-show\\-config\\fR(1), \\fBtoolctl\\-config\\-set\\fR(1)\n");
    out.into_bytes()
}

fn write_pages(cmd: &clap::Command, name: &str, path: &[String], out_dir: &Path) -> Result<()> {
    // The help's examples go into EXAMPLES; the rest of clap's page stays as it renders it.
    let examples = cmd.get_after_help().map(|h| h.to_string());
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(
            std::iter::once("toolctl")
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .after_help(None::<&str>)
        .after_long_help(None::<&str>);
    let man = clap_mangen::Man::new(page);
    let mut buf = Vec::new();
    let render = |buf: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(buf)?;
        man.render_name_section(buf)?;
        synopsis(buf, cmd, path)?;
        man.render_description_section(buf)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(buf)?;
        }
        if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
            man.render_subcommands_section(buf)?;
        }
        sections(buf, path, examples.as_deref())?;
        if cmd.get_version().is_some() {
            man.render_version_section(buf)?;
        }
        Ok(())
    };
    render(&mut buf).map_err(|e| Error::new("cannot render a man page").cause(e))?;
    fsutil::write_atomic(&out_dir.join(format!("{name}.1")), &buf, 0o644)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let mut sub_path = path.to_vec();
        sub_path.push(sub.get_name().to_string());
        write_pages(
            sub,
            &format!("{name}-{}", sub.get_name()),
            &sub_path,
            out_dir,
        )?;
    }
    Ok(())
}

/// SYNOPSIS with every option's value name (`--timeout SECS`), the global options summed
/// up (they have their own section).
fn synopsis(w: &mut dyn Write, cmd: &clap::Command, path: &[String]) -> std::io::Result<()> {
    let mut parts = Vec::new();
    for a in cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set())
    {
        let id = a.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        let value = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| id.to_uppercase());
        let takes_value = a.get_action().takes_values();
        let flag = match (a.get_long(), a.get_short()) {
            (Some(l), Some(s)) => Some(format!("\\-{s}|\\-\\-{l}")),
            (Some(l), None) => Some(format!("\\-\\-{l}")),
            (None, Some(s)) => Some(format!("\\-{s}")),
            (None, None) => None,
        };
        let text = match flag {
            Some(f) if takes_value => format!("\\fB{f}\\fR \\fI{}\\fR", roff(&value)),
            Some(f) => format!("\\fB{f}\\fR"),
            None => format!("\\fI{}\\fR", roff(&value)),
        };
        parts.push(if a.is_required_set() {
            text
        } else {
            format!("[{text}]")
        });
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        parts.push("\\fICOMMAND\\fR".into());
    }
    writeln!(w, ".SH SYNOPSIS")?;
    writeln!(
        w,
        "\\fB{}\\fR [\\fIGLOBAL OPTIONS\\fR] {}",
        roff(
            &std::iter::once("toolctl".to_string())
                .chain(path.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        parts.join(" ")
    )
}

/// roff-escapes a line of plain text (backslashes, leading dots and quotes, dashes).
fn roff(line: &str) -> String {
    let s = line.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// EXIT STATUS, FILES, ENVIRONMENT and EXAMPLES.
fn sections(w: &mut dyn Write, path: &[String], help: Option<&str>) -> std::io::Result<()> {
    let is_check = path.last().map(String::as_str) == Some("check");
    writeln!(w, ".SH \"EXIT STATUS\"")?;
    let codes: &[(&str, &str)] = if is_check {
        &[
            ("0", "every step passed (warnings included)"),
            ("1", "a step failed"),
            (
                "2",
                "a probe could not run: invalid settings, a missing secret, bad usage",
            ),
            ("130", "interrupted"),
        ]
    } else {
        &[
            ("0", "done; every check passed"),
            ("1", "a check answered no (reconfigure \\-\\-dry\\-run \\-\\-exit\\-code found changes, status found something to fix)"),
            ("2", "an error: bad usage, invalid settings or secret content, missing or wrong key, I/O"),
            ("130", "interrupted (Ctrl+C)"),
        ]
    };
    for (code, what) in codes {
        writeln!(w, ".TP\n\\fB{code}\\fR\n{what}")?;
    }
    writeln!(w, ".SH FILES")?;
    for (file, what) in [
        (
            "/etc/toolctl/toolctl.toml",
            "the settings file (0600); toolctl init creates it",
        ),
        (
            "/etc/toolctl/secrets.key",
            "the age identity that decrypts the secrets (0600)",
        ),
        (
            "/var/opt/toolctl/secrets/",
            "one encrypted secret per scope, <scope>.yaml.age (0600)",
        ),
        (
            "/var/opt/toolctl/rendered/",
            "everything reconfigure writes",
        ),
        ("/var/log/toolctl/", "logs; what tail follows"),
    ] {
        writeln!(w, ".TP\n\\fI{}\\fR\n{}", roff(file), roff(what))?;
    }
    writeln!(
        w,
        ".PP\nEvery path is under \\fB\\-\\-root\\fR (default /)."
    )?;
    writeln!(w, ".SH ENVIRONMENT")?;
    for (var, what) in [
        ("TOOLCTL_ROOT", "the file system root, as --root"),
        (
            "TOOLCTL_CONFIG",
            "the settings file, as --config; it must exist",
        ),
        (
            "NO_COLOR",
            "set and not empty: no colour (with --color auto)",
        ),
        ("TERM", "dumb: no colour (with --color auto)"),
        ("VISUAL, EDITOR", "the editor of secret edit"),
        ("COLUMNS", "the width tables fit on a terminal"),
    ] {
        writeln!(w, ".TP\n\\fB{var}\\fR\n{}", roff(what))?;
    }
    if let Some(help) = help {
        let examples = help
            .split_once("Examples:\n")
            .map(|(_, e)| e)
            .unwrap_or(help);
        writeln!(w, ".SH EXAMPLES\n.nf")?;
        for line in examples.lines() {
            writeln!(w, "{}", roff(line.trim_start()))?;
        }
        writeln!(w, ".fi")?;
    }
    Ok(())
}
