//! `mattermost/mattermost.env`: the same variables as the envdir (`mattermost/env/*`), one
//! `KEY="value"` line each, in the syntax of systemd's `EnvironmentFile=` (systemd.exec(5)),
//! for a standalone Mattermost under systemd (GitLab 19.0 removed the bundled one).
//!
//! Every value is double-quoted: inside double quotes systemd keeps every character
//! verbatim except `"` and `\`, which are written `\"` and `\\` (a newline stays a newline
//! inside the quotes). Unquoted, systemd would strip leading and trailing whitespace and
//! treat a trailing backslash as a line continuation; single quotes cannot hold a `'`.
//! systemd does no `$` expansion in an `EnvironmentFile=`, so `$` is written as is.

use super::mattermost::Var;
use super::Context;

/// The file, relative to the rendered directory (next to the envdir).
pub const REL: &str = "mattermost/mattermost.env";

/// One value as a double-quoted `EnvironmentFile=` value.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The whole file: a comment header, then every variable in the envdir's order.
pub fn render(cx: &Context, vars: &[Var]) -> String {
    let mut out = cx.header("#");
    out.push_str(
        "# For a systemd unit: `EnvironmentFile=` this file (see the README, \"Wire toolctl into GitLab\").\n",
    );
    for v in vars {
        out.push_str(&format!("{}={}\n", v.name, quote(&v.value)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped_and_nothing_else() {
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote(r#"x"y\z"#), r#""x\"y\\z""#);
        assert_eq!(quote("$HOME #c 'q'"), "\"$HOME #c 'q'\"");
        assert_eq!(quote("end\\"), "\"end\\\\\"");
    }
}
