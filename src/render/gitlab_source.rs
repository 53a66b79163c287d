//! A source install's whole `config/gitlab.yml` (`[gitlab] install = "source"`):
//! `rendered/gitlab/gitlab.yml`, the administrator's own file (`[gitlab] base_config`, e.g.
//! `config/gitlab.base.yml`) deep-merged with toolctl's sections ([`super::gitlab_yml`]).
//!
//! - every key of the base is kept, with its value, anchors (`&base`), aliases and merge
//!   keys (`<<: *base`); toolctl's keys win where both set one;
//! - the plaintext `user` and `password` of every `incoming_email` and `service_desk_email`
//!   section are removed (the encrypted settings carry them);
//! - each enabled mailbox gets `gitlab_url` (its `gitlab_url` setting, which defaults to
//!   `external_url`), from which GitLab's mail_room builds its webhook URL;
//! - the base's comments are not kept, and its quoted and block strings come back
//!   double-quoted (the same strings); plain scalars are written back as they were, so a
//!   `true`, `0755` or `:symbol` means to Ruby's Psych what it meant before.
//!
//! The base is read under `--root` without following a link, through directories only root
//! and GitLab's user can change. A base that does not parse, that is not GitLab's shape (a
//! mapping with `production:`), or that is toolctl's own rendered file (a loop) is refused
//! before anything is written ([`preflight`]).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::yaml::Y;
use super::Context;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::model::Model;

/// The merged file, relative to the rendered directory.
pub const REL: &str = "gitlab/gitlab.yml";

/// The first words of every file toolctl renders (a base that starts so is a loop).
const RENDERED_MARK: &str = "# Rendered by `toolctl reconfigure`";

/// Whether `[gitlab] install = "source"`: the merged file replaces the partial gitlab.yml.
pub fn wanted(m: &Model) -> bool {
    m.gitlab.install == Some(crate::model::Install::Source)
}

/// A YAML node of the base, as written: scalars keep their text and whether they were
/// plain; anchors and aliases keep the parser's numbers (written back as `&aN`/`*aN`).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Scalar {
        text: String,
        plain: bool,
        anchor: usize,
        tag: Option<String>,
    },
    Seq {
        items: Vec<Node>,
        anchor: usize,
        tag: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        anchor: usize,
        tag: Option<String>,
    },
    Alias(usize),
}

impl Node {
    fn key(name: &str) -> Node {
        Node::Scalar {
            text: name.to_string(),
            plain: true,
            anchor: 0,
            tag: None,
        }
    }

    fn is_key(&self, name: &str) -> bool {
        matches!(self, Node::Scalar { text, .. } if text == name)
    }

    fn anchor(&self) -> usize {
        match self {
            Node::Scalar { anchor, .. } | Node::Seq { anchor, .. } | Node::Map { anchor, .. } => {
                *anchor
            }
            Node::Alias(_) => 0,
        }
    }

    fn set_anchor(&mut self, a: usize) {
        match self {
            Node::Scalar { anchor, .. } | Node::Seq { anchor, .. } | Node::Map { anchor, .. } => {
                *anchor = a
            }
            Node::Alias(_) => {}
        }
    }

    /// A copy without any anchor (a copy must not define an anchor a second time).
    fn unanchored(&self) -> Node {
        match self {
            Node::Scalar {
                text, plain, tag, ..
            } => Node::Scalar {
                text: text.clone(),
                plain: *plain,
                anchor: 0,
                tag: tag.clone(),
            },
            Node::Seq { items, tag, .. } => Node::Seq {
                items: items.iter().map(Node::unanchored).collect(),
                anchor: 0,
                tag: tag.clone(),
            },
            Node::Map { entries, tag, .. } => Node::Map {
                entries: entries
                    .iter()
                    .map(|(k, v)| (k.unanchored(), v.unanchored()))
                    .collect(),
                anchor: 0,
                tag: tag.clone(),
            },
            Node::Alias(a) => Node::Alias(*a),
        }
    }

    /// The value of `name` in this mapping.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries.iter().find(|(k, _)| k.is_key(name)).map(|e| &e.1),
            _ => None,
        }
    }
}

/// toolctl's YAML as nodes (its strings quoted, the rest plain).
fn from_y(y: &Y) -> Node {
    let scalar = |text: String, plain: bool| Node::Scalar {
        text,
        plain,
        anchor: 0,
        tag: None,
    };
    match y {
        Y::Str(s) => scalar(s.clone(), false),
        Y::Int(i) => scalar(i.to_string(), true),
        Y::Bool(b) => scalar(b.to_string(), true),
        Y::Map(m) => Node::Map {
            entries: m.iter().map(|(k, v)| (Node::key(k), from_y(v))).collect(),
            anchor: 0,
            tag: None,
        },
        Y::Seq(s) => Node::Seq {
            items: s.iter().map(from_y).collect(),
            anchor: 0,
            tag: None,
        },
    }
}

/// Builds [`Node`]s from the parser's events.
#[derive(Default)]
struct Builder {
    /// Open sequences and mappings: (is a mapping, anchor, tag, children).
    stack: Vec<(bool, usize, Option<String>, Vec<Node>)>,
    docs: Vec<Node>,
    error: Option<String>,
}

fn tag_text(t: Option<Tag>) -> Option<String> {
    t.map(|t| match t.handle.as_str() {
        "tag:yaml.org,2002:" => format!("!!{}", t.suffix),
        "" => format!("!<{}>", t.suffix),
        h => format!("{h}{}", t.suffix),
    })
}

impl Builder {
    fn push(&mut self, n: Node) {
        match self.stack.last_mut() {
            Some((_, _, _, children)) => children.push(n),
            None => self.docs.push(n),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        match ev {
            Event::Scalar(text, style, anchor, tag) => self.push(Node::Scalar {
                text,
                plain: style == TScalarStyle::Plain,
                anchor,
                tag: tag_text(tag),
            }),
            Event::Alias(a) => self.push(Node::Alias(a)),
            Event::SequenceStart(a, t) => self.stack.push((false, a, tag_text(t), Vec::new())),
            Event::MappingStart(a, t) => self.stack.push((true, a, tag_text(t), Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((map, anchor, tag, children)) = self.stack.pop() else {
                    self.error = Some("unbalanced document".into());
                    return;
                };
                let node = if map {
                    let mut entries = Vec::new();
                    let mut it = children.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        entries.push((k, v));
                    }
                    Node::Map {
                        entries,
                        anchor,
                        tag,
                    }
                } else {
                    Node::Seq {
                        items: children,
                        anchor,
                        tag,
                    }
                };
                self.push(node);
            }
            _ => {}
        }
    }
}

/// Parses one YAML document; the error is the parser's (a position, no content).
pub fn parse(text: &str) -> std::result::Result<Node, String> {
    let mut b = Builder::default();
    Parser::new_from_str(text)
        .load(&mut b, true)
        .map_err(|e| e.to_string())?;
    if let Some(e) = b.error {
        return Err(e);
    }
    match b.docs.len() {
        0 => Err("it holds no YAML document".into()),
        1 => Ok(b.docs.pop().expect("one document")),
        n => Err(format!("it holds {n} YAML documents, GitLab reads one")),
    }
}

/// Every anchored node of the document, by number.
fn anchors(n: &Node, out: &mut HashMap<usize, Node>) {
    if n.anchor() != 0 {
        out.insert(n.anchor(), n.clone());
    }
    match n {
        Node::Seq { items, .. } => items.iter().for_each(|i| anchors(i, out)),
        Node::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            anchors(k, out);
            anchors(v, out);
        }),
        _ => {}
    }
}

/// The mapping `n` stands for: itself, or the anchored mapping an alias names.
fn resolved<'a>(n: &'a Node, all: &'a HashMap<usize, Node>) -> &'a Node {
    match n {
        Node::Alias(a) => all.get(a).unwrap_or(n),
        _ => n,
    }
}

/// `name`'s value inherited through the merge keys (`<<: *base`) of `entries`.
fn inherited(entries: &[(Node, Node)], name: &str, all: &HashMap<usize, Node>) -> Option<Node> {
    for (k, v) in entries.iter().filter(|(k, _)| k.is_key("<<")) {
        let _ = k;
        let sources: Vec<&Node> = match resolved(v, all) {
            Node::Seq { items, .. } => items.iter().map(|i| resolved(i, all)).collect(),
            other => vec![other],
        };
        for s in sources {
            if let Some(found) = s.get(name) {
                return Some(resolved(found, all).unanchored());
            }
        }
    }
    None
}

/// Deep-merges `ours` (a mapping) into the mapping `entries`: ours wins, mappings merge
/// key by key, and a replaced value keeps the base's anchor (aliases still resolve).
fn merge(entries: &mut Vec<(Node, Node)>, ours: Vec<(Node, Node)>, all: &HashMap<usize, Node>) {
    for (k, v) in ours {
        let Node::Scalar { text: name, .. } = &k else {
            continue;
        };
        let name = name.clone();
        if let Some(slot) = entries.iter_mut().find(|(bk, _)| bk.is_key(&name)) {
            let base = resolved(&slot.1, all).clone();
            slot.1 = merged_value(base, v, slot.1.anchor(), all);
        } else if let Some(base) = inherited(entries, &name, all) {
            entries.push((k, merged_value(base, v, 0, all)));
        } else {
            entries.push((k, v));
        }
    }
}

fn merged_value(base: Node, ours: Node, anchor: usize, all: &HashMap<usize, Node>) -> Node {
    let mut out = match (base, ours) {
        (
            Node::Map {
                mut entries, tag, ..
            },
            Node::Map { entries: ov, .. },
        ) => {
            merge(&mut entries, ov, all);
            Node::Map {
                entries,
                anchor: 0,
                tag,
            }
        }
        (_, ours) => ours,
    };
    out.set_anchor(anchor);
    out
}

/// Removes `user` and `password` from every mailbox section, wherever it is.
fn strip_credentials(n: &mut Node) {
    match n {
        Node::Map { entries, .. } => {
            for (k, v) in entries.iter_mut() {
                if k.is_key("incoming_email") || k.is_key("service_desk_email") {
                    if let Node::Map { entries: mb, .. } = v {
                        mb.retain(|(k, _)| !k.is_key("user") && !k.is_key("password"));
                    }
                }
                strip_credentials(v);
            }
        }
        Node::Seq { items, .. } => items.iter_mut().for_each(strip_credentials),
        _ => {}
    }
}

/// Every alias names an anchor defined before it (the merge must not leave one dangling).
fn check_aliases(n: &Node, seen: &mut Vec<usize>) -> std::result::Result<(), usize> {
    if n.anchor() != 0 {
        seen.push(n.anchor());
    }
    match n {
        Node::Alias(a) if !seen.contains(a) => Err(*a),
        Node::Seq { items, .. } => items.iter().try_for_each(|i| check_aliases(i, seen)),
        Node::Map { entries, .. } => entries.iter().try_for_each(|(k, v)| {
            check_aliases(k, seen)?;
            check_aliases(v, seen)
        }),
        _ => Ok(()),
    }
}

/// The merge of the parsed base `doc` with toolctl's sections (`production`, with
/// `gitlab_url` per enabled mailbox): the document to write, or why not.
pub fn merge_doc(
    mut doc: Node,
    production: Y,
    urls: &[(&str, String)],
) -> std::result::Result<Node, String> {
    let mut all = HashMap::new();
    anchors(&doc, &mut all);
    let Node::Map { entries, .. } = &mut doc else {
        return Err("its top level is not a mapping (GitLab's gitlab.yml maps `production:` to its settings)".into());
    };
    let Some(pos) = entries.iter().position(|(k, _)| k.is_key("production")) else {
        return Err("it has no `production:` section, which is what GitLab reads".into());
    };
    if !matches!(resolved(&entries[pos].1, &all), Node::Map { .. }) {
        return Err("its `production:` is not a mapping".into());
    }
    let mut ours = from_y(&production);
    if let Node::Map {
        entries: sections, ..
    } = &mut ours
    {
        for (section, url) in urls {
            if let Some((_, Node::Map { entries: mb, .. })) =
                sections.iter_mut().find(|(k, _)| k.is_key(section))
            {
                mb.push((Node::key("gitlab_url"), from_y(&Y::s(url.clone()))));
            }
        }
    }
    merge(entries, vec![(Node::key("production"), ours)], &all);
    strip_credentials(&mut doc);
    check_aliases(&doc, &mut Vec::new()).map_err(|a| {
        format!("merging toolctl's sections would leave the alias `*a{a}` without its anchor")
    })?;
    Ok(doc)
}

/// A double-quoted YAML string: `"` and `\` escaped, every control character as `\uXXXX`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `&aN !tag ` before a node (empty when it has neither).
fn props(anchor: usize, tag: &Option<String>) -> String {
    let mut p = String::new();
    if anchor != 0 {
        p.push_str(&format!("&a{anchor} "));
    }
    if let Some(t) = tag {
        p.push_str(t);
        p.push(' ');
    }
    p
}

/// A node that fits on the line of its key or dash, or `None` for a block.
fn inline(n: &Node) -> Option<String> {
    match n {
        Node::Scalar {
            text,
            plain,
            anchor,
            tag,
        } => {
            let p = props(*anchor, tag);
            let v = if *plain && !text.contains('\n') {
                text.clone()
            } else {
                quoted(text)
            };
            Some(format!("{p}{v}").trim_end().to_string())
        }
        Node::Alias(a) => Some(format!("*a{a}")),
        Node::Map {
            entries,
            anchor,
            tag,
        } if entries.is_empty() => Some(format!("{}{{}}", props(*anchor, tag))),
        Node::Seq { items, anchor, tag } if items.is_empty() => {
            Some(format!("{}[]", props(*anchor, tag)))
        }
        _ => None,
    }
}

fn emit(n: &Node, indent: usize, out: &mut String) -> std::result::Result<(), String> {
    let pad = " ".repeat(indent);
    match n {
        Node::Map { entries, .. } => {
            for (k, v) in entries {
                let key = match k {
                    Node::Scalar { .. } | Node::Alias(_) => inline(k).unwrap_or_default(),
                    _ => return Err("a key that is a mapping or a sequence".into()),
                };
                match inline(v) {
                    Some(s) if s.is_empty() => out.push_str(&format!("{pad}{key}:\n")),
                    Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                    None => {
                        let (anchor, tag) = block_props(v);
                        out.push_str(format!("{pad}{key}: {}", props(anchor, tag)).trim_end());
                        out.push('\n');
                        emit(v, indent + 2, out)?;
                    }
                }
            }
        }
        Node::Seq { items, .. } => {
            for item in items {
                match inline(item) {
                    Some(s) if s.is_empty() => out.push_str(&format!("{pad}-\n")),
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let (anchor, tag) = block_props(item);
                        out.push_str(format!("{pad}- {}", props(anchor, tag)).trim_end());
                        out.push('\n');
                        emit(item, indent + 2, out)?;
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other).unwrap_or_default())),
    }
    Ok(())
}

fn block_props(n: &Node) -> (usize, &Option<String>) {
    match n {
        Node::Map { anchor, tag, .. } | Node::Seq { anchor, tag, .. } => (*anchor, tag),
        Node::Scalar { anchor, tag, .. } => (*anchor, tag),
        Node::Alias(_) => (0, &None),
    }
}

/// The document as YAML (block style, a trailing newline).
pub fn to_string(doc: &Node) -> std::result::Result<String, String> {
    let mut out = String::new();
    match inline(doc) {
        Some(s) => out.push_str(&format!("{s}\n")),
        None => {
            let (anchor, tag) = block_props(doc);
            let p = props(anchor, tag);
            if !p.is_empty() {
                out.push_str(&format!("--- {}\n", p.trim_end()));
            }
            emit(doc, 0, &mut out)?;
        }
    }
    Ok(out)
}

/// An error about the base, with the hint every one of them shares.
fn bad_base(written: &str, why: impl std::fmt::Display) -> Error {
    Error::new(format!("`gitlab.base_config` (`{written}`): {why}")).hint(
        "name your own full gitlab.yml, renamed (e.g. `config/gitlab.base.yml`), never the rendered file or the `config/gitlab.yml` link to it; nothing was written",
    )
}

/// Reads the base under `--root`: no link followed, through directories only root and
/// GitLab's user (`owner`) can change; a loop back to the rendered file is refused.
fn read_base(cx: &Context, owner: Option<(u32, u32)>) -> Result<String> {
    let written = cx.model.gitlab.base_config.as_deref().ok_or_else(|| {
        Error::new("`[gitlab] install = \"source\"` needs `gitlab.base_config`")
            .hint("set `base_config` to your own gitlab.yml, renamed, e.g. `/home/git/gitlab/config/gitlab.base.yml`")
    })?;
    let path = cx.paths.rooted(written);
    let rendered = cx.paths.rendered_dir.join(REL);
    if path == rendered {
        return Err(bad_base(
            written,
            "it is toolctl's own rendered file (a loop)",
        ));
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(bad_base(written, "it names no file"));
    };
    let located = fsutil::open_beneath(&cx.paths.root, dir, &fsutil::trusted_for(owner))?;
    if !located.missing.is_empty() {
        return Err(bad_base(written, "it does not exist"));
    }
    let h = located.handle;
    match h.lstat(name).map_err(|e| Error::io("look at", &path, e))? {
        None => return Err(bad_base(written, "it does not exist")),
        Some(st) if st.kind == fsutil::Kind::Symlink => {
            return Err(bad_base(
                written,
                "it is a symbolic link (when it points at toolctl's rendered gitlab.yml, a loop); toolctl reads the real file only",
            ))
        }
        Some(_) => {}
    }
    if let (Ok(Some(ours)), Ok(meta)) = (h.ident_at(name), std::fs::symlink_metadata(&rendered)) {
        use std::os::unix::fs::MetadataExt;
        if (ours.dev, ours.ino) == (meta.dev(), meta.ino()) {
            return Err(bad_base(
                written,
                "it is toolctl's own rendered file (a loop)",
            ));
        }
    }
    // Opened once, checked on the descriptor, read from it. The base is GitLab's own
    // file: GitLab's user must be able to read it. A name in GitLab's tree for a file that
    // user cannot read (a hard link to a root-only file where `fs.protected_hardlinks` is
    // 0) would carry root's bytes into a gitlab.yml that user owns.
    let file = h.open_file(name).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => bad_base(written, "it is not a regular file"),
        _ => Error::io("open", &path, e),
    })?;
    if let Some((uid, gid)) = owner {
        let (st, _) = fsutil::file_stat(&file).map_err(|e| Error::io("look at", &path, e))?;
        if !fsutil::readable_by(&st, uid, gid) {
            return Err(bad_base(
                written,
                format!(
                    "GitLab's user ({}) cannot read it (owner {}, mode {:04o}): toolctl reads only a base GitLab could read itself",
                    crate::sys::users::describe_uid(uid),
                    crate::sys::users::describe_uid(st.uid),
                    st.mode
                ),
            ));
        }
    }
    let bytes = fsutil::read_open_capped(&file, fsutil::FILE_CAP)
        .map_err(|f| f.into_error("the base gitlab.yml", &path))?;
    let text = String::from_utf8(bytes).map_err(|_| bad_base(written, "it is not UTF-8 text"))?;
    if text.trim_start().starts_with(RENDERED_MARK) {
        return Err(bad_base(
            written,
            "it is a file toolctl rendered (a loop: the base must be your own gitlab.yml)",
        ));
    }
    Ok(text)
}

/// The whole merged file, with toolctl's header. `owner` is GitLab's user (see
/// [`read_base`]).
pub fn render(cx: &Context, owner: Option<(u32, u32)>) -> Result<String> {
    let written = cx.model.gitlab.base_config.clone().unwrap_or_default();
    let text = read_base(cx, owner)?;
    let doc =
        parse(&text).map_err(|e| bad_base(&written, format!("it does not parse as YAML: {e}")))?;
    let urls: Vec<(&str, String)> = cx
        .model
        .mailboxes()
        .iter()
        .filter(|mb| mb.enabled)
        .filter_map(|mb| mb.gitlab_url.clone().map(|u| (mb.table(), u)))
        .collect();
    let merged = merge_doc(doc, super::gitlab_yml::production(cx), &urls)
        .map_err(|e| bad_base(&written, e))?;
    let body = to_string(&merged).map_err(|e| bad_base(&written, e))?;
    Ok(format!(
        "{}# Merged from {written} and toolctl's sections; the base's comments are not kept.\n{body}",
        cx.header("#")
    ))
}

/// The checks of [`render`], before `reconfigure` locks or writes anything (a bad base
/// is an exit 2 with nothing written, not even the webhook token).
pub fn preflight(cx: &Context) -> Result<()> {
    if !wanted(cx.model) {
        return Ok(());
    }
    let owner = cx.model.gitlab.account.ids().map_err(|e| {
        Error::new(e).hint("create the user and group first, or fix `[gitlab] user`/`group`")
    })?;
    render(cx, owner).map(|_| ())
}

/// Where the merged file is, for messages: the logical path.
pub fn logical(cx: &Context) -> String {
    cx.paths.logical(&cx.paths.rendered_dir.join(REL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(base: &str, production: Y) -> String {
        to_string(&merge_doc(parse(base).unwrap(), production, &[]).unwrap()).unwrap()
    }

    #[test]
    fn anchors_aliases_merge_keys_and_plain_scalars_survive() {
        let base = "production: &base\n  gitlab:\n    host: x\n    port: 0443\n    https: yes\n  incoming_email:\n    enabled: false\n    user: 'u'\n    password: \"p\"\n  sym: :peer\n  list:\n    - a\n    - {b: 1}\n  empty:\ndevelopment:\n  <<: *base\n  gitlab:\n    host: dev\n";
        let ours = super::super::yaml::MapBuilder::new()
            .put(
                "incoming_email",
                super::super::yaml::MapBuilder::new()
                    .put("enabled", Y::Bool(true))
                    .build(),
            )
            .build();
        let out = merged(base, ours);
        let back = parse(&out).unwrap();
        let p = back.get("production").unwrap();
        assert_eq!(
            p.get("gitlab").unwrap().get("port"),
            Some(&Node::Scalar {
                text: "0443".into(),
                plain: true,
                anchor: 0,
                tag: None
            })
        );
        assert!(out.contains("https: yes\n"), "{out}");
        assert!(out.contains("sym: :peer\n"), "{out}");
        assert!(out.contains("<<: *a"), "{out}");
        let mb = p.get("incoming_email").unwrap();
        assert!(mb.get("user").is_none() && mb.get("password").is_none());
        assert!(mb.get("enabled").unwrap().is_key("true"));
        assert!(p.get("empty").is_some());
    }

    #[test]
    fn quoted_strings_stay_strings_and_bad_input_is_refused() {
        let out = merged(
            "production:\n  a: 'yes'\n  b: \"x\\ty\"\n  c: |\n    l1\n    l2\n",
            Y::Map(vec![]),
        );
        assert!(
            out.contains("a: \"yes\"\n") && out.contains("b: \"x\\ty\"\n"),
            "{out}"
        );
        assert!(out.contains("c: \"l1\\nl2\\n\"\n"), "{out}");
        assert!(parse("a: [").is_err());
        assert!(merge_doc(parse("- a").unwrap(), Y::Map(vec![]), &[]).is_err());
        assert!(merge_doc(parse("development: {}").unwrap(), Y::Map(vec![]), &[]).is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }
}
