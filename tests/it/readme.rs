//! The docs a newcomer reads: every relative link of README.md, CONTRIBUTING.md and `docs/`
//! leads to a file (and, with `#anchor`, to a heading of it), no page cites an internal
//! reference, README.md stays short, and every shell block marked `<!-- runnable -->` runs
//! as written, in a temporary root, with the binary under test first on `PATH`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, CONTRIBUTING.md, CHANGELOG.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![
        repo().join("README.md"),
        repo().join("CONTRIBUTING.md"),
        repo().join("CHANGELOG.md"),
    ];
    let mut docs: Vec<PathBuf> = fs::read_dir(repo().join("docs"))
        .expect("read docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces
/// turned into `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .iter()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('#'))
        })
        .map(slug)
        .collect()
}

/// Every `](target)` of the page's prose, with its line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find(')') {
                out.push((n + 1, rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
    }
    out
}

#[test]
fn every_relative_link_leads_to_a_file_and_a_heading() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            let name = format!(
                "{}:{line}: ({target})",
                page.strip_prefix(repo()).unwrap().display()
            );
            if !path.exists() {
                broken.push(format!("{name}: no such file"));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{name}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn no_page_cites_an_internal_reference_and_the_readme_is_short() {
    let mut found = Vec::new();
    for page in pages().iter().filter(|p| !p.ends_with("CHANGELOG.md")) {
        let text = fs::read_to_string(page).unwrap();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            for word in [
                "seed page",
                "seed 0",
                "the issue",
                "issue 1",
                "issue 2",
                "design.md",
                "style.md",
            ] {
                if lower.contains(word) {
                    found.push(format!("{}:{}: {word}: {line}", page.display(), n + 1));
                }
            }
        }
    }
    // The code and the scripts cite nothing a reader of the repository cannot open either.
    for file in source_files(&[
        repo().join("src"),
        repo().join("tests"),
        repo().join("scripts"),
    ]) {
        if file.ends_with("tests/it/readme.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            let cites_issue = lower
                .match_indices("issue ")
                .any(|(i, w)| lower[i + w.len()..].starts_with(|c: char| c.is_ascii_digit()));
            if cites_issue || lower.contains("design.md") || lower.contains("seed page") {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "internal references:\n{}",
        found.join("\n")
    );
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; the guides under docs/ take the rest"
    );
}

/// Every file below `dirs`, recursively.
fn source_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The shell blocks that follow a `<!-- runnable` marker.
fn runnable_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("<!-- runnable") {
            continue;
        }
        assert_eq!(
            lines.next(),
            Some("```sh"),
            "a runnable marker must precede a ```sh block"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.push(block.join("\n"));
    }
    blocks
}

#[test]
fn the_quick_start_runs_as_written() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = runnable_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md marks no block as runnable");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_toolctl"));
    for block in blocks {
        let tmp = tempfile::tempdir().unwrap();
        let demo = tmp.path().join("demo");
        // The block's own demo root, moved into a fresh directory so that runs never meet.
        let script = block.replace("/tmp/toolctl-demo", demo.to_str().unwrap());
        assert_ne!(
            script, block,
            "the runnable block no longer uses /tmp/toolctl-demo"
        );
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .env("PATH", path)
            .env_remove("TOOLCTL_ROOT")
            .env_remove("TOOLCTL_CONFIG")
            .env_remove("EDITOR")
            .env_remove("VISUAL")
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the README block failed ({}):\n{block}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            demo.join("etc/toolctl/secrets.key").is_file(),
            "no key in the demo root"
        );
        assert!(
            demo.join("var/opt/toolctl/rendered").is_dir(),
            "reconfigure rendered nothing in the demo root"
        );
        let _ = Path::new(&demo);
    }
}
