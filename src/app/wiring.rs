//! How what `reconfigure` writes reaches GitLab, per `[gitlab] install`: the step that
//! makes GitLab read it after a run (and `reconfigure --apply`, which runs it where the
//! command exists), and, for `status`, whether the one documented wiring step was taken.
//!
//! - omnibus: settings changed → `gitlab-ctl reconfigure`; only GitLab's encrypted
//!   credentials changed → restart puma, sidekiq and mailroom (they read the `.yaml.enc`
//!   files when they start);
//! - docker: restart the container (its start runs `gitlab-ctl reconfigure`);
//! - source: restart `gitlab.target`;
//! - helm: the `kubectl` loop and `helm upgrade` (README: "Wire toolctl into GitLab").
//!
//! `status` reads `/etc/gitlab/gitlab.rb` with [`crate::gitlab::rb`]'s reader and
//! evaluates nothing.

use std::path::{Path, PathBuf};

use crate::gitlab::rb::{self, RbValue};
use crate::model::{Install, Model};
use crate::paths::Paths;
use crate::render::{gitlab_rb, MAILROOM_SECRET};

/// What GitLab needs after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing GitLab reads changed.
    Nothing,
    /// omnibus: the fragment (or what it names) changed.
    OmnibusReconfigure,
    /// omnibus: only the encrypted credentials changed.
    OmnibusRestart,
    DockerRestart,
    SourceRestart,
    Helm,
}

impl Step {
    /// The sentence for the report.
    pub fn text(self) -> Option<String> {
        Some(match self {
            Step::Nothing => return None,
            Step::OmnibusReconfigure => "next: GitLab reads these settings at its reconfigure: run `sudo gitlab-ctl reconfigure` (`toolctl reconfigure --apply` runs it)".into(),
            Step::OmnibusRestart => "next: only GitLab's encrypted credentials changed: run `sudo gitlab-ctl restart puma sidekiq mailroom` (`toolctl reconfigure --apply` restarts the three, one `gitlab-ctl restart` each)".into(),
            Step::DockerRestart => "next: restart the GitLab container (`docker restart <container>`): its start evaluates gitlab.rb, and the fragment with it".into(),
            Step::SourceRestart => "next: restart GitLab: `sudo systemctl restart gitlab.target`".into(),
            Step::Helm => "next: create the Secrets and upgrade the release: for each directory of `rendered/helm/secrets/`, `kubectl create secret generic NAME --from-file=DIR --dry-run=client -o yaml | kubectl apply -f -`, then `helm upgrade RELEASE gitlab/gitlab -f rendered/helm/values.yaml` (README: \"Wire toolctl into GitLab\")".into(),
        })
    }

    /// The commands `--apply` runs, in order; empty when it runs none.
    pub fn commands(self) -> Vec<Vec<&'static str>> {
        match self {
            Step::OmnibusReconfigure => vec![vec!["gitlab-ctl", "reconfigure"]],
            // One service per call: omnibus' ctl restarts the first one it is given.
            Step::OmnibusRestart => ["puma", "sidekiq", "mailroom"]
                .iter()
                .map(|s| vec!["gitlab-ctl", "restart", s])
                .collect(),
            Step::SourceRestart => vec![vec!["systemctl", "restart", "gitlab.target"]],
            Step::Nothing | Step::DockerRestart | Step::Helm => Vec::new(),
        }
    }
}

/// The step after a run that changed the files `changed` (the plan's names: relative to
/// the rendered directory, or absolute outside it).
pub fn next_step(m: &Model, paths: &Paths, changed: &[&str]) -> Step {
    let Some(install) = m.gitlab.install else {
        return Step::Nothing;
    };
    let enc_dir = m
        .gitlab
        .encrypted_settings_dir
        .as_deref()
        .map(|d| paths.rooted(d));
    let is_enc = |rel: &str| {
        enc_dir
            .as_ref()
            .is_some_and(|d| Path::new(rel).starts_with(d))
    };
    let fragment = gitlab_rb::location(m, paths).map(|(p, _)| p);
    let is_fragment_or_named = |rel: &str| {
        let path = paths.rendered_dir.join(rel);
        fragment.as_ref().is_some_and(|f| {
            path == *f || path == f.parent().unwrap_or(f).join(gitlab_rb::DOCKER_TOKEN)
        }) || rel == MAILROOM_SECRET
            || rel == "nginx/mattermost.conf"
    };
    let any = |f: &dyn Fn(&str) -> bool| changed.iter().any(|c| f(c));
    match install {
        Install::Omnibus if any(&is_fragment_or_named) => Step::OmnibusReconfigure,
        Install::Omnibus if any(&is_enc) => Step::OmnibusRestart,
        Install::Docker if any(&is_fragment_or_named) || any(&is_enc) => Step::DockerRestart,
        Install::Source if any(&|c: &str| !c.starts_with("mattermost/")) => Step::SourceRestart,
        Install::Helm if any(&|c: &str| c.starts_with("helm/")) => Step::Helm,
        _ => Step::Nothing,
    }
}

/// `name` on `PATH`, as an executable file.
pub fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// One command `--apply` ran (or could not run).
pub struct Ran {
    pub command: String,
    /// `None`: not on `PATH`, so not run.
    pub status: Option<i32>,
    /// The last lines of its output, control bytes escaped.
    pub tail: String,
}

/// Runs the step's commands in order, stopping at the first that fails or is missing.
pub fn apply(step: Step) -> Vec<Ran> {
    let mut out = Vec::new();
    for argv in step.commands() {
        let command = argv.join(" ");
        let Some(program) = on_path(argv[0]) else {
            out.push(Ran {
                command,
                status: None,
                tail: String::new(),
            });
            break;
        };
        let result = std::process::Command::new(program)
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .output();
        let (status, tail) = match result {
            Ok(o) => {
                let mut all = o.stdout;
                all.extend_from_slice(&o.stderr);
                let text = crate::sys::term::escape_controls(&all, true).into_owned();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(20)..].join("\n");
                (o.status.code().unwrap_or(-1), tail)
            }
            Err(e) => (-1, format!("cannot run it: {e}")),
        };
        out.push(Ran {
            command,
            status: Some(status),
            tail,
        });
        if status != 0 {
            break;
        }
    }
    out
}

/// One finding of the wiring check.
pub struct Wiring {
    pub item: String,
    pub ok: bool,
    /// Shown, but not a reason for exit 1 (as a settings warning is not).
    pub warning: bool,
    pub state: String,
    pub hint: Option<String>,
}

/// `gitlab_rails` keys whose plaintext value beats GitLab's encrypted settings or is a
/// credential by itself.
const CREDENTIAL_KEYS: &[&str] = &[
    "smtp_user_name",
    "smtp_password",
    "incoming_email_email",
    "incoming_email_password",
    "incoming_email_auth_token",
    "incoming_email_inbox_options",
    "service_desk_email_email",
    "service_desk_email_password",
    "service_desk_email_auth_token",
    "service_desk_email_inbox_options",
    "microsoft_graph_mailer_client_secret",
];

/// Whether the documented step for the chosen kind was taken.
pub fn check(m: &Model, paths: &Paths) -> Vec<Wiring> {
    let mut out = Vec::new();
    for table in m.uncarried() {
        out.push(Wiring {
            item: table.into(),
            ok: false,
            warning: true,
            state: format!("warning: `[{table}]` is enabled but no file toolctl renders carries it to GitLab"),
            hint: Some("add `[gitlab]` with `install = \"omnibus\"` (or docker, source, helm) and its keys (README: \"Wire toolctl into GitLab\")".into()),
        });
    }
    match m.gitlab.install {
        Some(Install::Omnibus | Install::Docker) => out.extend(gitlab_rb_loaded(m, paths)),
        // Source installs: the symlinks of config/gitlab.yml and
        // config/initializers/smtp_settings.rb to the rendered files.
        Some(Install::Source) => out.extend(source_linked(m, paths)),
        Some(Install::Helm) | None => {}
    }
    out
}

/// omnibus and Docker: the `from_file` line is gitlab.rb's last statement and no
/// plaintext credential follows it.
fn gitlab_rb_loaded(m: &Model, paths: &Paths) -> Option<Wiring> {
    let (_, seen) = gitlab_rb::location(m, paths)?;
    let load_line = gitlab_rb::load_line(&seen);
    let docker = m.gitlab.install == Some(Install::Docker);
    let (rb_path, shown) = if docker {
        let root = m.gitlab.container_root.as_deref()?;
        let p = format!("{}/etc/gitlab/gitlab.rb", root.trim_end_matches('/'));
        (paths.rooted(&p), p)
    } else {
        (
            paths.rooted("/etc/gitlab/gitlab.rb"),
            "/etc/gitlab/gitlab.rb".into(),
        )
    };
    let then = if docker {
        "then restart the container"
    } else {
        "then run `sudo gitlab-ctl reconfigure`"
    };
    let step = format!("add `{load_line}` as the last line of `{shown}`, {then}");
    let item = format!("{shown} loads the toolctl fragment");
    let fail = |state: String, hint: String| Wiring {
        item: item.clone(),
        ok: false,
        warning: false,
        state,
        hint: Some(hint),
    };
    let text = match crate::fsutil::read_optional(&rb_path) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return Some(fail(format!("`{shown}` does not exist"), step)),
        Err(e) => return Some(fail(format!("cannot read it: {e}"), step)),
    };
    let (statements, skipped) = rb::parse(&text);
    let loads = |s: &rb::Statement| {
        s.object == "from_file"
            && s.key.is_none()
            && matches!(&s.value, RbValue::Str(p) if *p == seen)
    };
    let Some(at) = statements.iter().rev().find(|s| loads(s)).map(|s| s.line) else {
        return Some(fail(format!("`{shown}` has no `{load_line}` line"), step));
    };
    let after_credential = statements.iter().find(|s| {
        s.line > at
            && s.object == "gitlab_rails"
            && s.key
                .as_deref()
                .is_some_and(|k| CREDENTIAL_KEYS.contains(&k))
    });
    if let Some(c) = after_credential {
        return Some(fail(
            format!(
                "line {}: `{}` follows the `from_file` line (line {at}) and beats the encrypted settings",
                c.line,
                c.name()
            ),
            format!("move the credential into toolctl's store (`toolctl import gitlab-rb`), remove the line, and keep `{load_line}` last; {then}"),
        ));
    }
    let after = statements
        .iter()
        .filter(|s| s.line > at)
        .map(|s| (s.line, s.name()))
        .chain(
            skipped
                .iter()
                .filter(|s| s.line > at)
                .map(|s| (s.line, s.name.clone())),
        )
        .min_by_key(|(line, _)| *line);
    if let Some((line, name)) = after {
        let what = if name.is_empty() {
            "a statement".to_string()
        } else {
            format!("`{name}`")
        };
        return Some(fail(
            format!("the `from_file` line (line {at}) is not the last statement: line {line} ({what}) follows it"),
            format!("move `{load_line}` to the end of `{shown}`, {then}"),
        ));
    }
    Some(Wiring {
        item,
        ok: true,
        warning: false,
        state: format!("loaded by its last statement (line {at})"),
        hint: None,
    })
}

/// Source installs: `config/gitlab.yml` and `config/initializers/smtp_settings.rb` link to
/// the rendered files (read without following anything); one row per link.
fn source_linked(m: &Model, paths: &Paths) -> Vec<Wiring> {
    let cx = crate::render::Context { model: m, paths };
    match crate::render::source_links::check(&cx) {
        Ok(findings) if findings.is_empty() => vec![Wiring {
            item: "source links".into(),
            ok: true,
            warning: false,
            state: "config/gitlab.yml and smtp_settings.rb link to the rendered files".into(),
            hint: None,
        }],
        Ok(findings) => findings
            .into_iter()
            .map(|f| Wiring {
                item: "source links".into(),
                ok: false,
                warning: false,
                state: f.message(),
                hint: Some(f.hint),
            })
            .collect(),
        Err(e) => vec![Wiring {
            item: "source links".into(),
            ok: false,
            warning: false,
            state: e.to_string(),
            hint: e.hint_text().map(str::to_string),
        }],
    }
}
