//! The database-level properties a custom-format dump holds and `pg_restore` (without
//! `--create`) leaves out: the database's encoding, locale provider and locales (its
//! `DATABASE` entry), and its `DATABASE PROPERTIES`, comment and ACL entries
//! (`ALTER DATABASE … SET`, `ALTER ROLE … IN DATABASE … SET`, `CONNECTION LIMIT`,
//! `COMMENT ON DATABASE`, `GRANT`/`REVOKE … ON DATABASE`).
//!
//! They are read from what `pg_restore --create` prints for those entries alone (every
//! schema left out with `-n` of a schema that does not exist), then parsed, never run as
//! printed: the `CREATE DATABASE` options are taken one by one from a fixed list and
//! written again as literals; the other statements are kept only in the forms above, and
//! only when they name the dump's own database, which is replaced by the new name. They
//! then run as the Mattermost role, which ran the whole dump anyway.

use std::fs::File;
use std::io::{Seek as _, SeekFrom};

use super::pg::{ident, literal, Conn, PgError};

/// The properties of the dump's database.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DbProps {
    /// The database's name in the dump.
    pub name: String,
    /// `CREATE DATABASE` options, `KEY = value` as SQL (the value a literal or, for
    /// `LOCALE_PROVIDER`, a keyword).
    pub options: Vec<(String, String)>,
    /// The statements, each a token list; `None` marks where the database's name goes.
    statements: Vec<Vec<Option<String>>>,
}

/// One token: its text as written, and what it is.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted word (keyword, name, number).
    Word(String),
    /// A quoted identifier, decoded.
    Ident(String),
    /// A string literal, decoded.
    Str(String),
    /// Any other character.
    Punct(char),
}

/// Splits SQL text into statements of tokens: `'…'` (with `''`), `E'…'` (with
/// backslashes), `"…"` (with `""`), `--` comments and psql's `\` lines are understood, so
/// that a `;` inside a literal never ends a statement.
fn statements(sql: &str) -> Vec<Vec<(Tok, String)>> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut cur: Vec<(Tok, String)> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') || ch == '\\' && cur.is_empty() {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == ';' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            i += 1;
        } else if ch == '\'' || ((ch == 'E' || ch == 'e') && c.get(i + 1) == Some(&'\'')) {
            let escapes = ch != '\'';
            let start = i;
            i += if escapes { 2 } else { 1 };
            let mut v = String::new();
            while i < c.len() {
                if escapes && c[i] == '\\' && i + 1 < c.len() {
                    v.push(c[i + 1]);
                    i += 2;
                } else if c[i] == '\'' && c.get(i + 1) == Some(&'\'') {
                    v.push('\'');
                    i += 2;
                } else if c[i] == '\'' {
                    i += 1;
                    break;
                } else {
                    v.push(c[i]);
                    i += 1;
                }
            }
            cur.push((Tok::Str(v), c[start..i].iter().collect()));
        } else if ch == '"' {
            let start = i;
            i += 1;
            let mut v = String::new();
            while i < c.len() {
                if c[i] == '"' && c.get(i + 1) == Some(&'"') {
                    v.push('"');
                    i += 2;
                } else if c[i] == '"' {
                    i += 1;
                    break;
                } else {
                    v.push(c[i]);
                    i += 1;
                }
            }
            cur.push((Tok::Ident(v), c[start..i].iter().collect()));
        } else if ch.is_alphanumeric() || ch == '_' || ch == '$' || ch == '.' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || matches!(c[i], '_' | '$' | '.')) {
                i += 1;
            }
            let w: String = c[start..i].iter().collect();
            cur.push((Tok::Word(w.clone()), w));
        } else {
            cur.push((Tok::Punct(ch), ch.to_string()));
            i += 1;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `CREATE DATABASE` options kept: what makes text sort and compare as it did.
const OPTIONS: &[&str] = &[
    "ENCODING",
    "LOCALE_PROVIDER",
    "LOCALE",
    "LC_COLLATE",
    "LC_CTYPE",
    "ICU_LOCALE",
    "ICU_RULES",
    "BUILTIN_LOCALE",
];

fn word(t: Option<&(Tok, String)>) -> Option<String> {
    match t {
        Some((Tok::Word(w), _)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

/// A name token's value (a word as PostgreSQL folds it, or a quoted identifier).
fn name_of(t: Option<&(Tok, String)>) -> Option<String> {
    match t {
        Some((Tok::Word(w), _)) => Some(w.to_lowercase()),
        Some((Tok::Ident(v), _)) => Some(v.clone()),
        _ => None,
    }
}

impl DbProps {
    /// Parses what `pg_restore --create` printed for the database entries.
    pub fn parse(sql: &str) -> DbProps {
        let stmts = statements(sql);
        let mut props = DbProps::default();
        let Some(create) = stmts.iter().find(|s| {
            word(s.first()).as_deref() == Some("CREATE")
                && word(s.get(1)).as_deref() == Some("DATABASE")
        }) else {
            return props;
        };
        let Some(name) = name_of(create.get(2)) else {
            return props;
        };
        props.name = name;
        let mut i = 3;
        while i < create.len() {
            if let (Some(key), Some((Tok::Punct('='), _))) =
                (word(create.get(i)), create.get(i + 1))
            {
                if OPTIONS.contains(&key.as_str()) {
                    let value = match create.get(i + 2) {
                        Some((Tok::Str(v), _)) => Some(literal(v)),
                        Some((Tok::Word(w), _))
                            if key == "LOCALE_PROVIDER"
                                && matches!(
                                    w.to_ascii_lowercase().as_str(),
                                    "libc" | "icu" | "builtin"
                                ) =>
                        {
                            Some(w.to_ascii_lowercase())
                        }
                        _ => None,
                    };
                    if let Some(v) = value {
                        props.options.push((key, v));
                    }
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        for s in &stmts {
            if let Some(kept) = props.keep(s) {
                props.statements.push(kept);
            }
        }
        props
    }

    /// A statement of the kept forms naming the dump's database, with `None` where the
    /// name goes.
    fn keep(&self, s: &[(Tok, String)]) -> Option<Vec<Option<String>>> {
        let w = |i: usize| word(s.get(i)).unwrap_or_default();
        let names_db = |i: usize| {
            w(i) == "DATABASE" && name_of(s.get(i + 1)).as_deref() == Some(self.name.as_str())
        };
        let form = match (w(0).as_str(), w(1).as_str()) {
            ("COMMENT", "ON") => names_db(2) && w(4) == "IS",
            ("ALTER", "DATABASE") => {
                names_db(1)
                    && matches!(w(3).as_str(), "SET" | "RESET" | "CONNECTION")
                    && w(4) != "TABLESPACE"
            }
            ("ALTER", "ROLE") => {
                w(3) == "IN" && names_db(4) && matches!(w(6).as_str(), "SET" | "RESET")
            }
            ("GRANT", _) | ("REVOKE", _) => {
                let on = s
                    .iter()
                    .position(|(t, _)| matches!(t, Tok::Word(x) if x.eq_ignore_ascii_case("ON")));
                on.is_some_and(|p| names_db(p + 1))
            }
            _ => false,
        };
        if !form {
            return None;
        }
        let mut out = Vec::with_capacity(s.len());
        for (k, (_, text)) in s.iter().enumerate() {
            let is_name = k > 0
                && word(s.get(k - 1)).as_deref() == Some("DATABASE")
                && name_of(s.get(k)).as_deref() == Some(self.name.as_str());
            out.push((!is_name).then(|| text.clone()));
        }
        Some(out)
    }

    /// `CREATE DATABASE new WITH TEMPLATE = template0 OWNER = owner` and the dump's
    /// encoding and locale options.
    pub fn create_sql(&self, new: &str, owner: &str) -> String {
        let mut sql = format!(
            "CREATE DATABASE {} WITH TEMPLATE = template0 OWNER = {}",
            ident(new),
            ident(owner)
        );
        for (k, v) in &self.options {
            sql.push_str(&format!(" {k} = {v}"));
        }
        sql
    }

    /// The settings, comment and privileges of the dump's database, for `new`, as one
    /// transaction.
    pub fn properties_sql(&self, new: &str) -> Option<String> {
        if self.statements.is_empty() {
            return None;
        }
        let mut sql = String::from("BEGIN;\n");
        for s in &self.statements {
            let parts: Vec<String> = s
                .iter()
                .map(|t| t.clone().unwrap_or_else(|| ident(new)))
                .collect();
            sql.push_str(&parts.join(" "));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT;\n");
        Some(sql)
    }

    /// Reads them from the dump `dump` (an open file, read from its start).
    pub fn read(conn: &Conn, dump: &File) -> Result<DbProps, PgError> {
        let mut f = dump.try_clone().map_err(PgError::Dup)?;
        f.seek(SeekFrom::Start(0)).map_err(PgError::Dup)?;
        let mut cmd = conn.command("pg_restore");
        // A schema of that name would be a dump's own: the random tail rules it out.
        let tail = super::pg::random_password()?;
        cmd.args(["--create", "--schema-only", "-f", "-", "-n"])
            .arg(format!("toolctl_none_{}", &tail[..16]))
            .stdin(f);
        let out = conn.run(cmd, "`pg_restore --create` (the database's properties)")?;
        Ok(DbProps::parse(&String::from_utf8_lossy(&out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"\restrict abc
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE DATABASE "my db" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.utf8' ICU_LOCALE = 'de-DE';
ALTER DATABASE "my db" OWNER TO mm;
\connect -reuse-previous=on "dbname='my db'"
COMMENT ON DATABASE "my db" IS 'it''s; DATABASE "my db" x';
ALTER DATABASE "my db" CONNECTION LIMIT = 50;
ALTER DATABASE "my db" SET "TimeZone" TO 'Europe/Berlin';
ALTER DATABASE "my db" SET TABLESPACE elsewhere;
ALTER ROLE other IN DATABASE "my db" SET work_mem TO '8MB';
ALTER ROLE mm SUPERUSER;
REVOKE CONNECT,TEMPORARY ON DATABASE "my db" FROM PUBLIC;
GRANT CONNECT ON DATABASE "my db" TO other;
GRANT CONNECT ON DATABASE postgres TO other;
DROP DATABASE "my db";
"#;

    #[test]
    fn the_database_entries_are_rebuilt_for_the_new_name_and_nothing_else_is_kept() {
        let p = DbProps::parse(PRINTED);
        assert_eq!(p.name, "my db");
        assert_eq!(
            p.create_sql("new", "mm"),
            "CREATE DATABASE \"new\" WITH TEMPLATE = template0 OWNER = \"mm\" ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.utf8' ICU_LOCALE = 'de-DE'"
        );
        let sql = p.properties_sql("new").unwrap();
        assert_eq!(
            sql,
            "BEGIN;\n\
             COMMENT ON DATABASE \"new\" IS 'it''s; DATABASE \"my db\" x';\n\
             ALTER DATABASE \"new\" CONNECTION LIMIT = 50;\n\
             ALTER DATABASE \"new\" SET \"TimeZone\" TO 'Europe/Berlin';\n\
             ALTER ROLE other IN DATABASE \"new\" SET work_mem TO '8MB';\n\
             REVOKE CONNECT , TEMPORARY ON DATABASE \"new\" FROM PUBLIC;\n\
             GRANT CONNECT ON DATABASE \"new\" TO other;\n\
             COMMIT;\n"
        );
    }

    #[test]
    fn a_hostile_option_value_stays_a_literal() {
        let p = DbProps::parse(
            "CREATE DATABASE m WITH ENCODING = 'UTF8'' ; DROP ROLE x; --' LOCALE_PROVIDER = evil LOCALE = 'C';",
        );
        assert_eq!(
            p.create_sql("n", "o"),
            "CREATE DATABASE \"n\" WITH TEMPLATE = template0 OWNER = \"o\" ENCODING = 'UTF8'' ; DROP ROLE x; --' LOCALE = 'C'"
        );
        assert_eq!(p.properties_sql("n"), None);
    }
}
