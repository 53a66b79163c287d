//! PostgreSQL client plumbing: the connection from `mattermost.sql_data_source` plus the
//! `sql_password` secret, and the programs (`psql`, `pg_dump`, `pg_restore`) run with it.
//!
//! The password reaches a child only through its environment (`PGPASSWORD`), never argv:
//! the data source is parsed (key/value or URL form), its password taken out, and the rest
//! passed as a key/value conninfo to `-d`. Every client runs with `-w` (never prompts) and
//! `PG*` variables of the caller removed, so only the settings decide where it connects.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use zeroize::Zeroizing;

use crate::error::Error;

pub type Result<T, E = PgError> = std::result::Result<T, E>;

/// What can stop a PostgreSQL client run, as data; `From<PgError> for Error` below writes
/// the messages and hints. `setting` names the data source key (`mattermost.sql_data_source`).
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// A data source that does not parse (`why`, as the parser says it).
    #[error("`mattermost.{setting}` cannot be read: {why}")]
    Source { setting: &'static str, why: String },
    /// `sql_data_source` without a database.
    #[error("`mattermost.sql_data_source` names no database")]
    NoDatabase,
    /// A client program that cannot be started.
    #[error("cannot run `{}`", program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A client that exited with a failure: `what` ran on `endpoint`; `stderr` is its
    /// first non-empty lines.
    #[error("{what} failed on {endpoint} ({status})")]
    Child {
        what: String,
        endpoint: String,
        status: std::process::ExitStatus,
        stderr: String,
        kind: ChildFailure,
    },
    /// The server's answer to `SHOW server_version_num` was empty.
    #[error("PostgreSQL answered no version")]
    NoVersion,
    /// A client older than the server.
    #[error("`{}` is version {major}, older than the server (PostgreSQL {server_major})", program.display())]
    OldClient {
        program: PathBuf,
        major: u32,
        server_major: u32,
        text: String,
    },
    /// Waiting for a client failed (`what`: "psql", "a PostgreSQL client").
    #[error("cannot wait for {what}")]
    Wait {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The psql session ended before its answer.
    #[error("the PostgreSQL session has ended")]
    SessionEnded,
    /// A descriptor for the client's stdout.
    #[error("cannot duplicate a file descriptor")]
    Dup(#[source] std::io::Error),
    /// Ctrl+C or a stop signal while `what` ran; the client was ended.
    #[error("interrupted while {what} ran")]
    Interrupted { what: String },
    /// No random bytes for a password.
    #[error("cannot read random bytes from the kernel")]
    Random(#[source] std::io::Error),
}

/// What a client's stderr says went wrong, for the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildFailure {
    /// The password was refused or missing.
    Auth,
    /// The server could not be reached.
    Unreachable,
    /// The server's disk (or a client's output) is full.
    NoSpace,
    /// Peer (or ident) authentication refused the operating-system user.
    Peer,
    /// Anything else.
    Other,
}

impl From<PgError> for Error {
    fn from(e: PgError) -> Self {
        let message = e.to_string();
        match e {
            PgError::Source { setting, .. } => Error::new(message).hint(if setting == "sql_data_source" {
                "write it as `user=… host=… port=… dbname=…` or `postgres://user@host:port/db`"
            } else {
                "write it as `user=… host=… port=… dbname=postgres` or `postgres://user@host:port/postgres`"
            }),
            PgError::NoDatabase => Error::new(message).hint(
                "add `dbname=mattermost_production` (or the URL's `/mattermost_production`)",
            ),
            PgError::Spawn { source, .. } => Error::new(message)
                .cause(source)
                .hint("install the PostgreSQL client (`apt install postgresql-client`) or set `[mattermost] pg_bin_dir`"),
            PgError::Child { stderr, kind, .. } => {
                let hint = match kind {
                    ChildFailure::Auth => "check the `sql_password` secret (`toolctl mattermost secret set sql_password`) and the user in `mattermost.sql_data_source`",
                    ChildFailure::Unreachable => "check that PostgreSQL is running and the host and port in `mattermost.sql_data_source`",
                    ChildFailure::Peer => "PostgreSQL authenticates this role by its operating-system user (peer): set `mattermost.uid` to the user of the role's name (toolctl then runs the PostgreSQL clients as that user), or give the role a password (`toolctl mattermost secret set sql_password`)",
                    ChildFailure::NoSpace => "no space is left on the PostgreSQL server's disk (a new database needs about the size of the live one): free space there, then run the command again; nothing was changed",
                    ChildFailure::Other => "see the cause above; the database and files were not changed",
                };
                let mut e = Error::new(message);
                if !stderr.is_empty() {
                    e = e.cause(stderr);
                }
                e.hint(hint)
            }
            PgError::NoVersion | PgError::SessionEnded => Error::new(message),
            PgError::Interrupted { .. } => Error::interrupted(message),
            PgError::OldClient {
                text, server_major, ..
            } => Error::new(message).cause(text).hint(format!(
                "install the PostgreSQL {server_major} client and set `[mattermost] pg_bin_dir` (e.g. \"/usr/lib/postgresql/{server_major}/bin\")"
            )),
            PgError::Wait { source, .. } | PgError::Dup(source) | PgError::Random(source) => {
                Error::new(message).cause(source)
            }
        }
    }
}
use crate::model::datasource::quote;
pub use crate::model::datasource::{
    conninfo_value, parse, parse_kv, split_password, with_password,
};

/// A parsed data source, password apart.
#[derive(Clone)]
pub struct Conn {
    /// Keyword/value pairs in their order, without `password`.
    pub params: Vec<(String, String)>,
    pub password: Option<Zeroizing<String>>,
    pub bin_dir: Option<PathBuf>,
    /// Peer authentication: the clients run as this operating-system user
    /// (`runuser -u USER --`), see [`Conn::peer_as`].
    pub os_user: Option<String>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.conninfo(None))
    }
}

/// Quotes an SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

impl Conn {
    /// The connection of the settings: `source` with `secret` (the `sql_password`) taking
    /// precedence over a password written in the source.
    pub fn new(
        source: &str,
        secret: Option<&str>,
        bin_dir: Option<PathBuf>,
        warn: &mut Vec<String>,
    ) -> Result<Conn> {
        let conn = Conn::parsed("sql_data_source", source, secret, bin_dir, warn)?;
        if conn.dbname().is_none() {
            return Err(PgError::NoDatabase);
        }
        Ok(conn)
    }

    /// `source` (the data source of `setting`) parsed, its password taken out of the
    /// parameters; `secret`, when set, takes precedence over it.
    fn parsed(
        setting: &'static str,
        source: &str,
        secret: Option<&str>,
        bin_dir: Option<PathBuf>,
        warn: &mut Vec<String>,
    ) -> Result<Conn> {
        let mut params = parse(source, warn).map_err(|e| PgError::Source {
            setting,
            why: e.to_string(),
        })?;
        let mut password = None;
        params.retain(|(k, v)| {
            if k == "password" {
                password = Some(Zeroizing::new(v.clone()));
                false
            } else {
                true
            }
        });
        if let Some(s) = secret.filter(|s| !s.is_empty()) {
            password = Some(Zeroizing::new(s.to_string()));
        }
        Ok(Conn {
            params,
            password,
            bin_dir,
            os_user: None,
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn dbname(&self) -> Option<&str> {
        self.get("dbname").filter(|d| !d.is_empty())
    }

    /// `host:port` for messages.
    pub fn endpoint(&self) -> String {
        format!(
            "{}:{}",
            self.get("host").unwrap_or("localhost"),
            self.get("port").unwrap_or("5432")
        )
    }

    /// The conninfo for `-d`, with `db` in place of the configured database; never holds
    /// the password.
    pub fn conninfo(&self, db: Option<&str>) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| k != "dbname")
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        parts.push(format!(
            "dbname={}",
            quote(db.or(self.dbname()).unwrap_or("postgres"))
        ));
        parts.push("connect_timeout='10'".into());
        parts.join(" ")
    }

    /// The path of a client program: in `pg_bin_dir`, or found on `PATH`.
    pub fn program(&self, name: &str) -> PathBuf {
        match &self.bin_dir {
            Some(d) => d.join(name),
            None => PathBuf::from(name),
        }
    }

    /// Peer authentication (omnibus' default): when the data source has no password and
    /// connects through a socket (no host, or a host that is a socket directory, such as
    /// omnibus' `host=/var/opt/gitlab/postgresql`), the clients run as the operating-system
    /// user `uid` (the Mattermost user), whose name PostgreSQL then checks. Returns that
    /// user's name when it applies.
    pub fn peer_as(&mut self, uid: Option<u32>) -> Option<&str> {
        let socket = match self.get("host") {
            None => self.get("hostaddr").is_none(),
            Some(h) => h.is_empty() || h.starts_with('/'),
        };
        if self.password.is_some() || !socket {
            return None;
        }
        let uid = uid.filter(|u| *u != crate::sys::users::euid())?;
        self.os_user = crate::sys::users::user_name(uid);
        self.os_user.as_deref()
    }

    /// A client command, environment cleaned and the password in it; run as the peer
    /// user (`runuser -u USER --`) when [`Conn::peer_as`] set one.
    pub fn command(&self, name: &str) -> Command {
        let mut cmd = match &self.os_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(self.program(name));
                c
            }
            None => Command::new(self.program(name)),
        };
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                cmd.env_remove(&k);
            }
        }
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p.as_str());
        }
        cmd.env("PGAPPNAME", "toolctl");
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs a client to completion; its stderr becomes the error's cause.
    pub fn run(&self, mut cmd: Command, what: &str) -> Result<Vec<u8>> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = cmd.output().map_err(|e| self.spawn_error(&cmd, e))?;
        if !out.status.success() {
            return Err(self.child_error(what, &out.stderr, out.status));
        }
        Ok(out.stdout)
    }

    pub fn spawn_error(&self, cmd: &Command, e: std::io::Error) -> PgError {
        PgError::Spawn {
            program: Path::new(cmd.get_program()).to_path_buf(),
            source: e,
        }
    }

    pub fn child_error(
        &self,
        what: &str,
        stderr: &[u8],
        status: std::process::ExitStatus,
    ) -> PgError {
        let text = String::from_utf8_lossy(stderr);
        let kind = if text.contains("password authentication failed")
            || text.contains("no password supplied")
        {
            ChildFailure::Auth
        } else if text.contains("Peer authentication failed")
            || text.contains("Ident authentication failed")
        {
            ChildFailure::Peer
        } else if text.contains("No space left on device")
            || text.contains("could not extend file")
            || text.contains("Disk quota exceeded")
        {
            ChildFailure::NoSpace
        } else if text.contains("Connection refused")
            || text.contains("could not connect")
            || text.contains("timeout expired")
        {
            ChildFailure::Unreachable
        } else {
            ChildFailure::Other
        };
        PgError::Child {
            kind,
            what: what.to_string(),
            endpoint: self.endpoint(),
            status,
            stderr: text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(6)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// psql as every query runs it: no psqlrc, never a password prompt, quiet, unaligned
    /// tuples only, stop at the first error, fields split on 0x1f.
    fn psql(&self) -> Command {
        let mut cmd = self.command("psql");
        cmd.args([
            "-X",
            "-w",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\x1f",
        ]);
        cmd
    }

    /// One query's rows (fields split on 0x1f), in database `db`.
    pub fn query(&self, db: Option<&str>, sql: &str) -> Result<Vec<Vec<String>>> {
        let mut cmd = self.psql();
        cmd.args(["-R", "\x1e", "-d"])
            .arg(self.conninfo(db))
            .arg("-c")
            .arg(sql);
        let out = self.run(cmd, "a query to PostgreSQL")?;
        let text = String::from_utf8_lossy(&out);
        Ok(text
            .split('\x1e')
            .map(|r| r.trim_end_matches('\n'))
            .filter(|r| !r.is_empty())
            .map(|r| r.split('\x1f').map(str::to_string).collect())
            .collect())
    }

    /// `SHOW server_version_num` as a major version, plus `version()`.
    pub fn server_version(&self) -> Result<(u32, String)> {
        let rows = self
            .query(
                Some("postgres"),
                "SELECT current_setting('server_version_num'), version()",
            )
            .or_else(|_| {
                self.query(
                    None,
                    "SELECT current_setting('server_version_num'), version()",
                )
            })?;
        let row = rows.first().ok_or(PgError::NoVersion)?;
        let num: u32 = row[0].trim().parse().unwrap_or(0);
        Ok((num / 10000, row.get(1).cloned().unwrap_or_default()))
    }

    /// `prog --version`: (major, text).
    pub fn client_version(&self, prog: &str) -> Result<(u32, String)> {
        let mut cmd = self.command(prog);
        cmd.arg("--version");
        let out = self.run(cmd, &format!("`{prog} --version`"))?;
        let text = String::from_utf8_lossy(&out).trim().to_string();
        let major = text
            .split_whitespace()
            .find_map(|w| w.split('.').next().and_then(|m| m.parse::<u32>().ok()))
            .unwrap_or(0);
        Ok((major, text))
    }

    /// Refuses a `prog` older than the server; returns the version line used.
    pub fn check_client(&self, prog: &str, server_major: u32) -> Result<String> {
        self.check_client_version(prog, self.client_version(prog)?, server_major)
    }

    /// [`Conn::check_client`] on the version [`Conn::client_version`] already gave.
    pub fn check_client_version(
        &self,
        prog: &str,
        (major, text): (u32, String),
        server_major: u32,
    ) -> Result<String> {
        if major < server_major {
            return Err(PgError::OldClient {
                program: self.program(prog),
                major,
                server_major,
                text,
            });
        }
        Ok(text)
    }
}

/// A `psql` session held open (the snapshot exporter): statements in, one line out each.
pub struct Session {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    out: BufReader<std::process::ChildStdout>,
}

impl Session {
    pub fn open(conn: &Conn) -> Result<Session> {
        let mut cmd = conn.psql();
        cmd.arg("-d")
            .arg(conn.conninfo(None))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| conn.spawn_error(&cmd, e))?;
        let stdin = child.stdin.take();
        let out = BufReader::new(child.stdout.take().expect("piped"));
        Ok(Session {
            child: Some(child),
            stdin,
            out,
        })
    }

    /// Sends `sql` (which must print exactly `lines` lines) and reads them.
    pub fn ask(&mut self, conn: &Conn, sql: &str, lines: usize) -> Result<Vec<String>> {
        let sent = self.stdin.as_mut().map(|s| {
            s.write_all(sql.as_bytes())
                .and_then(|_| s.write_all(b"\n"))
                .and_then(|_| s.flush())
        });
        let mut got = Vec::new();
        if matches!(sent, Some(Ok(()))) {
            for _ in 0..lines {
                let mut l = String::new();
                match self.out.read_line(&mut l) {
                    Ok(n) if n > 0 => got.push(l.trim_end_matches('\n').to_string()),
                    _ => break,
                }
            }
        }
        if got.len() == lines {
            return Ok(got);
        }
        self.stdin = None;
        Err(self.end(conn))
    }

    /// Waits for psql after a failure; its stderr is the cause.
    fn end(&mut self, conn: &Conn) -> PgError {
        match self.child.take().map(Child::wait_with_output) {
            Some(Ok(out)) => conn.child_error("a PostgreSQL session", &out.stderr, out.status),
            Some(Err(source)) => PgError::Wait {
                what: "psql",
                source,
            },
            None => PgError::SessionEnded,
        }
    }

    /// Ends the session (`COMMIT`), checking psql's exit status.
    pub fn close(mut self, conn: &Conn) -> Result<()> {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.write_all(b"COMMIT;\n\\q\n");
        }
        match self.child.take().map(Child::wait_with_output) {
            Some(Ok(out)) if out.status.success() => Ok(()),
            Some(Ok(out)) => Err(conn.child_error("a PostgreSQL session", &out.stderr, out.status)),
            Some(Err(source)) => Err(PgError::Wait {
                what: "psql",
                source,
            }),
            None => Err(PgError::SessionEnded),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // An error path: end psql (its transaction rolls back) and reap it.
        self.stdin = None;
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse_and_fix() {
        let mut w = Vec::new();
        let p = parse("user=u host=/run/pg port=5 dbname='my db' password='a\\'b' sslmode=required binary_parameters=yes", &mut w).unwrap();
        assert_eq!(w.len(), 2);
        assert!(p.contains(&("dbname".into(), "my db".into())));
        assert!(p.contains(&("password".into(), "a'b".into())));
        assert!(p.contains(&("sslmode".into(), "require".into())));
        let p = parse(
            "postgres://u:p%40ss@127.0.0.1:5433/mm?sslmode=disable",
            &mut w,
        )
        .unwrap();
        assert!(p.contains(&("password".into(), "p@ss".into())));
        assert!(p.contains(&("dbname".into(), "mm".into())));
        assert!(p.contains(&("port".into(), "5433".into())));
        let c = Conn::new("postgres://u:secret@h/mm", None, None, &mut w).unwrap();
        assert!(!c.conninfo(None).contains("secret"));
    }
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn a_password_joins_the_data_source_in_its_own_form_and_comes_out_again() {
        let kv = "user=mm host=db port=5432 dbname=mattermost";
        assert_eq!(
            with_password(kv, "plain-pw"),
            format!("{kv} password=plain-pw")
        );
        let odd = "a b'c\\d";
        let joined = with_password(kv, odd);
        assert_eq!(joined, format!("{kv} password='a b\\'c\\\\d'"));
        assert_eq!(parse_kv(&joined).unwrap().last().unwrap().1, odd);
        assert_eq!(
            split_password(&joined),
            (kv.to_string(), Some(odd.to_string()))
        );
        let url = "postgres://mm@db:5432/mattermost?sslmode=disable";
        let joined = with_password(url, "p+w @:%");
        assert_eq!(split_password(&joined).1.as_deref(), Some("p+w @:%"));
        let (rest, pw) = split_password("postgres://mm:p%2Bw+x@db/mattermost");
        assert_eq!(pw.as_deref(), Some("p+w+x"));
        assert!(!rest.contains("p%2Bw"), "{rest}");
        assert_eq!(split_password(kv), (kv.to_string(), None));
    }
}

impl Conn {
    /// The same server as another login role: `user` and `password` replace this
    /// connection's (the password still reaches children only through `PGPASSWORD`).
    pub fn as_user(&self, user: &str, password: &str) -> Conn {
        let mut params: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| k != "user")
            .cloned()
            .collect();
        params.insert(0, ("user".into(), user.to_string()));
        Conn {
            params,
            password: Some(Zeroizing::new(password.to_string())),
            bin_dir: self.bin_dir.clone(),
            os_user: None,
        }
    }

    /// The role this connection logs in as, for messages.
    pub fn user(&self) -> &str {
        self.get("user")
            .unwrap_or("(the operating-system user's name)")
    }

    /// Runs `sql` in `db` with psql reading it from its stdin (never argv: it may carry a
    /// password verifier); every statement must succeed.
    pub fn execute(&self, db: Option<&str>, sql: &str) -> Result<()> {
        let mut cmd = self.psql();
        cmd.arg("-d")
            .arg(self.conninfo(db))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(&cmd, e))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(sql.as_bytes());
        }
        let out = child.wait_with_output().map_err(|source| PgError::Wait {
            what: "psql",
            source,
        })?;
        if !out.status.success() {
            return Err(self.child_error("a statement to PostgreSQL", &out.stderr, out.status));
        }
        Ok(())
    }

    /// Runs a client to completion with `out` as its stdout (a file toolctl created, never
    /// a path the client opens itself); its stderr becomes the error's cause. A deferred
    /// SIGINT, SIGTERM or SIGHUP (see [`crate::sys::signals`]) stops the child and returns
    /// an interrupted error.
    pub fn run_watched(
        &self,
        mut cmd: Command,
        out: Option<&std::fs::File>,
        what: &str,
    ) -> Result<()> {
        match out {
            Some(f) => {
                let f = f.try_clone().map_err(PgError::Dup)?;
                cmd.stdout(Stdio::from(f));
            }
            None => {
                cmd.stdout(Stdio::null());
            }
        }
        cmd.stderr(Stdio::piped());
        // While toolctl defers the terminating signals it stops the client itself: in a
        // process group of its own, so that what the client forked (`pg_restore --jobs`'
        // workers, the program `runuser` starts) stops with it, and none of them keeps
        // the stderr pipe (and this wait) open.
        let group = crate::sys::signals::deferring();
        if group {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(&cmd, e))?;
        let mut stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            use std::io::Read as _;
            // Kept up to 1 MiB, read to the end so that the child never blocks on it.
            let (mut buf, mut chunk) = (Vec::new(), [0u8; 8192]);
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if buf.len() < 1 << 20 {
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            buf
        });
        let status = loop {
            if crate::sys::signals::interrupted() {
                if group {
                    crate::sys::proc::kill_group(child.id());
                }
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(PgError::Interrupted {
                    what: what.to_string(),
                });
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(50)),
                Err(source) => {
                    return Err(PgError::Wait {
                        what: "a PostgreSQL client",
                        source,
                    })
                }
            }
        };
        let err = reader.join().unwrap_or_default();
        if !status.success() {
            return Err(self.child_error(what, &err, status));
        }
        Ok(())
    }
}

/// A random password for a throwaway role: 32 bytes from the kernel, hex.
pub fn random_password() -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    crate::sys::rand::fill(&mut bytes[..]).map_err(PgError::Random)?;
    let mut s = Zeroizing::new(String::with_capacity(64));
    for b in bytes.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// The SCRAM-SHA-256 verifier of `password` (RFC 5802/7677, as PostgreSQL stores it):
/// `CREATE ROLE … PASSWORD '<verifier>'` then never sends the password itself to the
/// server, so no statement log can hold it.
pub fn scram_verifier(password: &str, salt: &[u8; 16]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    const ITERATIONS: u32 = 4096;
    let mut salted = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, ITERATIONS, &mut salted[..]);
    let mac = |msg: &[u8]| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&salted[..]).expect("any key length");
        m.update(msg);
        m.finalize().into_bytes()
    };
    let client_key = mac(b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = mac(b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

#[cfg(test)]
mod scram_tests {
    #[test]
    fn the_verifier_matches_a_known_postgresql_one() {
        // Computed independently (Python hashlib/hmac) for password "pencil" and salt
        // 0x00..0x0f.
        let salt: [u8; 16] = std::array::from_fn(|i| i as u8);
        let v = super::scram_verifier("pencil", &salt);
        assert!(
            v.starts_with("SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$"),
            "{v}"
        );
        assert_eq!(
            v,
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
        );
    }
}

/// The administrative connection of `[mattermost] admin_data_source` (with the
/// `admin_sql_password` secret, which wins over a password written in it), or `None` when
/// it is not set. Its database defaults to `postgres`; it is used only for CREATE and DROP
/// DATABASE and ROLE, never to connect to a database an archive filled.
pub fn admin_conn(
    source: Option<&str>,
    secret: Option<&str>,
    bin_dir: Option<PathBuf>,
    warn: &mut Vec<String>,
) -> Result<Option<Conn>> {
    let Some(source) = source.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let mut conn = Conn::parsed("admin_data_source", source, secret, bin_dir, warn)?;
    if !conn
        .params
        .iter()
        .any(|(k, v)| k == "dbname" && !v.is_empty())
    {
        conn.params.push(("dbname".into(), "postgres".into()));
    }
    Ok(Some(conn))
}

/// What the login role of a connection may do, from `pg_roles`.
#[derive(Debug, Clone)]
pub struct Rights {
    pub role: String,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
}

impl Conn {
    /// The login role's attributes.
    pub fn rights(&self) -> Result<Rights> {
        let rows = self.query(
            Some("postgres"),
            "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user",
        )?;
        let row = rows.first().ok_or(PgError::NoVersion)?;
        let t = |i: usize| row.get(i).is_some_and(|v| v == "t");
        Ok(Rights {
            role: row[0].clone(),
            superuser: t(1),
            createdb: t(2),
            createrole: t(3),
        })
    }

    /// Whether the login role has the privileges of `role` (a member that inherits them).
    pub fn has_privs_of(&self, role: &str) -> Result<bool> {
        let rows = self.query(
            Some("postgres"),
            &format!(
                "SELECT pg_has_role(current_user, r.oid, 'USAGE') FROM pg_roles r WHERE r.rolname = {}",
                literal(role)
            ),
        )?;
        Ok(rows.first().is_some_and(|r| r[0] == "t"))
    }
}

/// A role that lacks what a restore or a verification needs, as data for the hint.
#[derive(Debug, thiserror::Error)]
pub enum Grant {
    /// The Mattermost role may not create databases, and no `admin_data_source` is set.
    #[error(
        "the Mattermost role `{role}` may not create databases, which `mattermost {command}` needs"
    )]
    MattermostCreatedb { role: String, command: &'static str },
    /// The role of `admin_data_source` may not create databases.
    #[error("the role `{role}` of `mattermost.admin_data_source` may not create databases")]
    AdminCreatedb { role: String },
    /// The role of `admin_data_source` may not create roles (`--verify`'s throwaway one).
    #[error("the role `{role}` of `mattermost.admin_data_source` may not create roles, which `mattermost backup --verify` needs")]
    AdminCreaterole { role: String },
    /// The role of `admin_data_source` is not a member of the Mattermost role.
    #[error("the role `{role}` of `mattermost.admin_data_source` is not a member of the Mattermost role `{mattermost}`")]
    AdminMember { role: String, mattermost: String },
}

impl From<Grant> for Error {
    fn from(g: Grant) -> Self {
        let message = g.to_string();
        let hint = match &g {
            Grant::MattermostCreatedb { role, .. } => format!(
                "as a PostgreSQL superuser, run `ALTER ROLE {} CREATEDB`; or set `mattermost.admin_data_source` to a role that has CREATEDB and is a member of `{role}` (its password is the `admin_sql_password` secret: `toolctl mattermost secret set admin_sql_password`); nothing was changed",
                ident(role)
            ),
            Grant::AdminCreatedb { role } => format!(
                "as a PostgreSQL superuser, run `ALTER ROLE {} CREATEDB`; nothing was changed",
                ident(role)
            ),
            Grant::AdminCreaterole { role } => format!(
                "as a PostgreSQL superuser, run `ALTER ROLE {} CREATEROLE`; nothing was changed",
                ident(role)
            ),
            Grant::AdminMember { role, mattermost } => format!(
                "as a PostgreSQL superuser, run `GRANT {} TO {}` (it renames and drops the Mattermost role's databases); nothing was changed",
                ident(mattermost),
                ident(role)
            ),
        };
        Error::new(message).hint(hint)
    }
}

/// The connection that creates, renames and drops databases: `admin` (the
/// `admin_data_source` role, checked: CREATEDB, CREATEROLE when `createrole`, and a member
/// of the Mattermost role when `member`, unless a superuser) when set, else the Mattermost role itself
/// (checked: CREATEDB). `Err(Ok(grant))` names the missing grant.
pub fn database_creator<'a>(
    conn: &'a Conn,
    admin: Option<&'a Conn>,
    createrole: bool,
    member: bool,
    command: &'static str,
) -> std::result::Result<&'a Conn, std::result::Result<Grant, PgError>> {
    match admin {
        None => {
            let r = conn.rights().map_err(Err)?;
            if !(r.superuser || r.createdb) {
                return Err(Ok(Grant::MattermostCreatedb {
                    role: r.role,
                    command,
                }));
            }
            Ok(conn)
        }
        Some(admin) => {
            let r = admin.rights().map_err(Err)?;
            if r.superuser {
                return Ok(admin);
            }
            if !r.createdb {
                return Err(Ok(Grant::AdminCreatedb { role: r.role }));
            }
            if createrole && !r.createrole {
                return Err(Ok(Grant::AdminCreaterole { role: r.role }));
            }
            if !member {
                return Ok(admin);
            }
            let mattermost = conn.rights().map_err(Err)?.role;
            if !admin.has_privs_of(&mattermost).map_err(Err)? {
                return Err(Ok(Grant::AdminMember {
                    role: r.role,
                    mattermost,
                }));
            }
            Ok(admin)
        }
    }
}

/// How many `pg_restore` jobs: the machine's cores (at most 8).
pub fn restore_jobs() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 8)
}

impl Conn {
    /// `pg_restore` of the custom-format dump `dump` (an open regular file) into `db`,
    /// with `jobs` parallel jobs. The dump reaches it as its stdin and is named
    /// `/dev/stdin`, so that each job re-opens that same file at its own offset (parallel
    /// restore reads by data offsets; it refuses a pipe): no path toolctl does not hold is
    /// ever opened. With peer authentication the file is first given to the peer user, who
    /// re-opens it (it stays in a directory only root can enter). `extra` are further
    /// options (`--no-owner`…).
    pub fn restore_dump(
        &self,
        dump: &std::fs::File,
        db: &str,
        jobs: usize,
        extra: &[&str],
        what: &str,
    ) -> Result<()> {
        if let Some(u) = &self.os_user {
            if let Some((uid, gid)) = crate::sys::users::lookup_user(u) {
                rustix::fs::fchown(
                    dump,
                    Some(rustix::fs::Uid::from_raw(uid)),
                    Some(rustix::fs::Gid::from_raw(gid)),
                )
                .map_err(|e| PgError::Dup(e.into()))?;
            }
        }
        let input = dump.try_clone().map_err(PgError::Dup)?;
        let mut cmd = self.command("pg_restore");
        cmd.args(["-w", "--exit-on-error"]).args(extra);
        if jobs > 1 {
            cmd.arg(format!("--jobs={jobs}"));
        }
        cmd.arg("-d")
            .arg(self.conninfo(Some(db)))
            .arg("/dev/stdin")
            .stdin(input);
        self.run_watched(cmd, None, what)
    }
}

impl PgError {
    /// A failure of the server or the connection, not of the dump it was given: the
    /// password, an unreachable server, a full disk.
    pub fn not_the_dump(&self) -> bool {
        matches!(
            self,
            PgError::Child {
                kind: ChildFailure::Auth
                    | ChildFailure::Peer
                    | ChildFailure::Unreachable
                    | ChildFailure::NoSpace,
                ..
            } | PgError::Spawn { .. }
                | PgError::Wait { .. }
                | PgError::Dup(_)
        )
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt as _;

    #[test]
    fn a_full_server_disk_is_told_apart_from_a_bad_dump() {
        let mut w = Vec::new();
        let c = Conn::new("user=u host=h dbname=d", None, None, &mut w).unwrap();
        let status = std::process::ExitStatus::from_raw(256);
        let full = c.child_error(
            "`pg_restore`",
            b"pg_restore: error: could not execute query: ERROR:  could not extend file \"base/1/2\": No space left on device",
            status,
        );
        assert!(matches!(
            full,
            PgError::Child {
                kind: ChildFailure::NoSpace,
                ..
            }
        ));
        assert!(full.not_the_dump());
        let e = Error::from(full);
        assert!(e.hint_text().unwrap().contains("no space is left"), "{e:?}");
        let bad = c.child_error(
            "`pg_restore`",
            b"pg_restore: error: could not execute query: ERROR:  syntax error",
            status,
        );
        assert!(!bad.not_the_dump());
    }
}
