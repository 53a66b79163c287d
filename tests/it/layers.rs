//! The layering of `src/`: dependencies point one way, only `sys` holds `unsafe`
//! and libc, and no module below `app` prints.
//!
//! Reads every `crate::` path of each file under `src/`, in `use` lines (grouped ones
//! included) and inline (`crate::sys::journal::recover(…)` inside a function), and checks the
//! edge from the file's top-level module to the named one against [`may_use`]. A failure
//! names each offending `file:line` and its edge.
//!
//! [`KNOWN`] lists the violations that were still in the tree when this test was written,
//! while the settings model and the report (the later steps) were being built. It only
//! shrinks: an entry that is no longer needed fails the test too, so that whoever removes
//! the last use of an edge also removes its entry. Never add to it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer a top-level module of `src/` belongs to.
fn layer(module: &str) -> Option<&'static str> {
    Some(match module {
        "main" | "lib" => "main",
        "cli" => "cli",
        "app" => "app",
        "report" | "output" => "report",
        "render" | "probe" | "gitlab" | "mattermost" | "servicedesk" | "tail" => "feature",
        "model" | "paths" => "model",
        "settings" => "settings",
        "secrets" => "secrets",
        "sys" | "fsutil" => "sys",
        "failpoint" => "failpoint",
        "error" => "error",
        _ => return None,
    })
}

/// Whether module `from` may use module `to` (the graph of /work/ISSUE20-PLAN.md and the
/// issue's "The shape to build").
fn may_use(from: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (layer(from), layer(to)) else {
        return true;
    };
    if from == to || a == "main" {
        return true;
    }
    // Feature modules do not use each other, with two exceptions: GitLab's encrypted
    // settings format (render → gitlab) and Mattermost's data source (mattermost → render).
    if a == "feature" && b == "feature" {
        return matches!((from, to), ("render", "gitlab") | ("mattermost", "render"));
    }
    if a == b {
        return true;
    }
    let allowed: &[&str] = match a {
        "cli" => &["settings", "secrets", "model", "sys", "error"],
        "app" => &[
            "cli",
            "report",
            "feature",
            "model",
            "settings",
            "secrets",
            "sys",
            "error",
            "failpoint",
        ],
        "report" => &["model", "sys", "error"],
        "feature" => &["model", "sys", "error", "failpoint"],
        "settings" => &["secrets", "model", "sys", "error", "failpoint"],
        "secrets" => &["model", "sys", "error", "failpoint"],
        "model" => &["sys", "error"],
        "sys" => &["error", "failpoint"],
        _ => &[], // error, failpoint: nothing of the crate
    };
    // `cli` may also use `tail` (the follower's options are its clap types).
    allowed.contains(&b) || (from == "cli" && to == "tail")
}

/// Violations still in the tree, as (file under src/, used module): see the module comment.
/// Each names the step that removes it.
const KNOWN: &[(&str, &str)] = &[
    // The report step (branch wip-report): the CLI's value parsers call into gitlab.
    ("cli/mod.rs", "gitlab"),
];

struct Use {
    file: String,
    line: usize,
    to: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every file of `src/` as (path relative to src/, its top-level module, its text).
fn sources() -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(src())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let module = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            (rel, module, text)
        })
        .collect()
}

/// The code of a line: without its `//` comment (doc comments included), and without
/// string literals, so that neither prose nor a message counts as a use.
fn code_of(line: &str) -> String {
    let line = line.replace("'\"'", "' '").replace("'\\\"'", "' '");
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '/' if !in_str && chars.peek() == Some(&'/') => break,
            _ if in_str => {}
            _ => out.push(c),
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules `text` names after `crate::`: `crate::a::b` and every member of a
/// group `crate::{a, b::{c, d}}` (which may span lines), each with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<String> = text.lines().map(code_of).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `mycrate::`
            }
            if !rest.starts_with('{') {
                out.push((i + 1, ident(rest)));
                continue;
            }
            // A group: read to its closing brace, across lines, taking the first name of
            // each member at depth 1.
            let (mut depth, mut expect, mut l) = (0usize, true, i);
            let mut s: &str = rest;
            'group: loop {
                for (k, c) in s.char_indices() {
                    match c {
                        '{' => {
                            depth += 1;
                            expect = depth == 1;
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break 'group;
                            }
                        }
                        ',' if depth == 1 => expect = true,
                        c if expect && depth == 1 && (c.is_ascii_alphabetic() || c == '_') => {
                            out.push((l + 1, ident(&s[k..])));
                            expect = false;
                        }
                        _ => {}
                    }
                }
                l += 1;
                match lines.get(l) {
                    Some(next) => s = next,
                    None => break,
                }
            }
        }
    }
    out
}

fn uses() -> Vec<(String, String, Use)> {
    let mut out = Vec::new();
    for (rel, module, text) in sources() {
        for (line, to) in crate_paths(&text) {
            out.push((
                rel.clone(),
                module.clone(),
                Use {
                    file: rel.clone(),
                    line,
                    to,
                },
            ));
        }
    }
    out
}

#[test]
fn the_path_reader_finds_grouped_and_inline_uses() {
    let text = "use crate::{error::Error, sys::{fs, journal}};\n\
                // crate::app in a comment\n\
                fn f() { let m = \"crate::report\"; crate::render::x(); }\n\
                use crate::{\n    settings,\n    model::Secret,\n};\n";
    let got: Vec<(usize, String)> = crate_paths(text);
    let want: Vec<(usize, String)> = [
        (1, "error"),
        (1, "sys"),
        (3, "render"),
        (5, "settings"),
        (6, "model"),
    ]
    .iter()
    .map(|(l, m)| (*l, m.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn dependencies_point_one_way() {
    let mut bad = Vec::new();
    let mut known_seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (rel, module, u) in uses() {
        if may_use(&module, &u.to) {
            continue;
        }
        if let Some(k) = KNOWN.iter().find(|(f, m)| *f == rel && *m == u.to) {
            known_seen.insert(*k);
            continue;
        }
        bad.push(format!(
            "src/{}:{}: {module} → {} ({} may not use {})",
            u.file,
            u.line,
            u.to,
            layer(&module).unwrap_or("?"),
            layer(&u.to).unwrap_or("?"),
        ));
    }
    let stale: Vec<String> = KNOWN
        .iter()
        .filter(|k| !known_seen.contains(*k))
        .map(|(f, m)| format!("src/{f} no longer uses {m}: remove it from KNOWN"))
        .collect();
    assert!(
        bad.is_empty() && stale.is_empty(),
        "imports against the allowed direction:\n{}\n{}",
        bad.join("\n"),
        stale.join("\n")
    );
}

/// Cycles still in the tree (see [`KNOWN`]). Like it, it only shrinks: a cycle that is gone
/// fails the test until its entry is removed. Never add to it.
const KNOWN_CYCLES: &[&str] = &[];

#[test]
fn the_module_graph_has_no_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, module, u) in uses() {
        if u.to != module && layer(&u.to).is_some() && layer(&module).is_some() {
            edges.entry(module).or_default().insert(u.to);
        }
    }
    let mut cycles = Vec::new();
    for (a, tos) in &edges {
        for b in tos {
            if a < b && edges.get(b).is_some_and(|s| s.contains(a)) {
                cycles.push(format!("{a} ↔ {b}"));
            }
        }
    }
    let stale: Vec<String> = KNOWN_CYCLES
        .iter()
        .filter(|k| !cycles.iter().any(|c| c == *k))
        .map(|k| format!("{k} is no longer a cycle: remove it from KNOWN_CYCLES"))
        .collect();
    cycles.retain(|c| !KNOWN_CYCLES.contains(&c.as_str()));
    assert!(stale.is_empty(), "{}", stale.join("\n"));
    assert!(cycles.is_empty(), "import cycles: {}", cycles.join(", "));
}

#[test]
fn unsafe_and_libc_live_only_in_sys() {
    let mut bad = Vec::new();
    for (rel, module, text) in sources() {
        if module == "sys" {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let code = code_of(line);
            let words = |w: &str| {
                code.match_indices(w).any(|(at, _)| {
                    let before = code[..at].chars().last();
                    let after = code[at + w.len()..].chars().next();
                    !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            };
            if words("unsafe") || code.contains("libc::") {
                bad.push(format!("src/{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "unsafe or libc outside src/sys/:\n{}",
        bad.join("\n")
    );
}

/// Where printing is allowed: the binary's edge (main, lib, cli, app, report/output), and
/// `tail/output.rs`, which streams the followed log lines to stdout as they arrive (a
/// follower that never ends cannot return its output as a report; it writes through one
/// locked, buffered stdout that it flushes before each wait).
fn may_print(rel: &str, module: &str) -> bool {
    matches!(module, "main" | "lib" | "cli" | "app" | "report" | "output")
        || rel == "tail/output.rs"
}

#[test]
fn no_module_below_app_prints() {
    // The printing still to turn into returned events. Like KNOWN, it only shrinks: a file
    // that no longer prints fails the test until its entry is removed. Never add to it.
    // (secrets/edit.rs: the signal thread's "interrupted; nothing was saved" before it
    // exits 130 while the editor runs.)
    const KNOWN_PRINTS: &[&str] = &["secrets/edit.rs"];
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut bad = Vec::new();
    for (rel, module, text) in sources() {
        if may_print(&rel, &module) {
            continue;
        }
        let mut in_tests = false;
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                in_tests = true;
            }
            let code = code_of(line);
            let prints = ["println!", "eprintln!", "print!", "eprint!"]
                .iter()
                .any(|m| {
                    code.match_indices(m).any(|(at, _)| {
                        !code[..at]
                            .chars()
                            .last()
                            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                });
            if !prints || in_tests {
                continue;
            }
            match KNOWN_PRINTS.iter().find(|k| **k == rel) {
                Some(k) => {
                    seen.insert(k);
                }
                None => bad.push(format!("src/{rel}:{}: {}", i + 1, line.trim())),
            }
        }
    }
    for k in KNOWN_PRINTS.iter().filter(|k| !seen.contains(*k)) {
        bad.push(format!(
            "src/{k} no longer prints: remove it from KNOWN_PRINTS"
        ));
    }
    assert!(bad.is_empty(), "printing below app:\n{}", bad.join("\n"));
}
