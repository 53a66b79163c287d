//! A real PostgreSQL for the Mattermost tests: started once per test binary.
//!
//! initdb in a temp dir (owned by `postgres`: the server refuses to run as root), on a
//! random 127.0.0.1 port and a socket in that dir. Started from a thread that lives as long
//! as the process, with a parent-death signal so a killed test binary leaves no server
//! behind; stopped with SIGINT (fast shutdown) and reaped at exit. `pg_hba.conf` requires
//! scram-sha-256 for every role but `postgres` (and `toolctl_peer`, which the socket
//! authenticates by its operating-system user: peer), so a wrong password really fails. Each test
//! gets its own role and database ([`Pg::fresh`]), so tests run in parallel.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

pub const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static PID: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn ids(user: &str) -> (u32, u32) {
    let out = Command::new("id").args(["-u", user]).output().expect("id");
    let uid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("uid");
    let out = Command::new("id").args(["-g", user]).output().expect("id");
    let gid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("gid");
    (uid, gid)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

extern "C" fn stop_at_exit() {
    let pid = PID.load(Ordering::SeqCst);
    if pid != 0 {
        // SAFETY: plain syscalls on the server's pid, which this process spawned.
        unsafe {
            libc::kill(pid as i32, libc::SIGINT);
            let mut status = 0;
            libc::waitpid(pid as i32, &mut status, 0);
        }
    }
    if let Some(s) = SERVER.get() {
        let _ = std::fs::remove_dir_all(&s.dir);
    }
}

/// The server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("toolctl-pg-")
            .tempdir_in("/tmp")
            .expect("temp dir")
            .keep();
        let (uid, gid) = ids("postgres");
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
        crate::harness::chmod(&dir, 0o755);
        let data = dir.join("data");
        let st = Command::new(format!("{BIN}/initdb"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "-D"])
            .arg(&data)
            .uid(uid)
            .gid(gid)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run initdb");
        assert!(st.status.success(), "initdb: {}", String::from_utf8_lossy(&st.stderr));
        let port = free_port();
        let conf = format!(
            "listen_addresses='127.0.0.1'\nunix_socket_directories='{}'\nfsync=off\nsynchronous_commit=off\nfull_page_writes=off\nmax_connections=200\n",
            dir.display()
        );
        append(&data.join("postgresql.conf"), &conf);
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nlocal all toolctl_peer peer\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("pg_hba");
        let (tx, rx) = std::sync::mpsc::channel();
        let d2 = data.clone();
        // The spawning thread never ends, so the parent-death signal fires only when the
        // whole test binary does.
        std::thread::spawn(move || {
            let mut cmd = Command::new(format!("{BIN}/postgres"));
            cmd.arg("-D").arg(&d2).arg("-p").arg(port.to_string());
            cmd.uid(uid).gid(gid).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                    Ok(())
                });
            }
            let child = cmd.spawn().expect("start postgres");
            tx.send(child.id()).expect("send");
            std::mem::forget(child);
            loop {
                std::thread::park();
            }
        });
        let pid = rx.recv().expect("postgres pid");
        PID.store(pid as usize, Ordering::SeqCst);
        // SAFETY: registers a plain extern "C" function.
        unsafe { libc::atexit(stop_at_exit) };
        let ready = crate::harness::wait_for(Duration::from_secs(20), || {
            Command::new(format!("{BIN}/pg_isready"))
                .args(["-q", "-h"])
                .arg(&dir)
                .args(["-p", &port.to_string(), "-U", "postgres"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        });
        assert!(ready, "postgres did not become ready");
        Server { dir, port }
    })
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// One test's role and database.
pub struct Pg {
    pub port: u16,
    pub socket_dir: PathBuf,
    pub user: String,
    pub password: String,
    pub db: String,
}

impl Pg {
    /// A new role (with CREATEDB) and an empty database it owns.
    pub fn fresh() -> Pg {
        let s = server();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let pg = Pg {
            port: s.port,
            socket_dir: s.dir.clone(),
            user: format!("mm{n}"),
            password: format!("pw-{n}-Zq9x"),
            db: format!("mattermost_t{n}"),
        };
        pg.admin(
            "postgres",
            &format!(
                "CREATE ROLE {} LOGIN CREATEDB PASSWORD '{}'",
                pg.user, pg.password
            ),
        );
        pg.admin(
            "postgres",
            &format!(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0",
                pg.db, pg.user
            ),
        );
        pg
    }

    /// `sql_data_source` in the key/value form.
    pub fn data_source(&self) -> String {
        format!(
            "user={} host=127.0.0.1 port={} sslmode=disable dbname={}",
            self.user, self.port, self.db
        )
    }

    fn psql(&self, db: &str, sql: &str) -> std::process::Output {
        Command::new(format!("{BIN}/psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql")
    }

    /// Runs SQL as the superuser; panics on failure; returns the output.
    pub fn admin(&self, db: &str, sql: &str) -> String {
        let out = self.psql(db, sql);
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs SQL in the test's database as its role (so the role owns what it creates).
    pub fn sql(&self, sql: &str) -> String {
        self.admin(&self.db, &format!("SET ROLE {}; {sql}", self.user))
    }

    pub fn db_exists(&self, name: &str) -> bool {
        self.admin(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        )
        .trim()
            == "1"
    }

    /// The test's database and those named after it (`<db>_…`: the ones toolctl makes).
    /// Not a `LIKE '<db>%'`: `mattermost_t1` would match `mattermost_t10`'s databases, and
    /// `_` is a `LIKE` wildcard.
    pub fn databases(&self) -> Vec<String> {
        self.admin(
            "postgres",
            &format!(
                "SELECT datname FROM pg_database WHERE datname = '{0}' \
                 OR starts_with(datname, '{0}_') ORDER BY 1",
                self.db
            ),
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// A Mattermost-looking schema: Users, Channels, Posts (unicode, emoji), Systems with
    /// a Version row, and a sequence; `posts` extra generated posts.
    pub fn seed(&self, posts: usize) {
        self.sql(&format!(
            "CREATE TABLE Users (Id varchar(26) PRIMARY KEY, Username text NOT NULL, Email text);
             CREATE TABLE Channels (Id varchar(26) PRIMARY KEY, Name text, DisplayName text);
             CREATE SEQUENCE post_seq START 100;
             CREATE TABLE Posts (Id bigint PRIMARY KEY DEFAULT nextval('post_seq'), ChannelId varchar(26) REFERENCES Channels(Id), UserId varchar(26) REFERENCES Users(Id), Message text, CreateAt bigint);
             CREATE TABLE Systems (Name varchar(64) PRIMARY KEY, Value varchar(1024));
             INSERT INTO Systems VALUES ('Version', '9.11.0'), ('DiagnosticId', 'abc');
             INSERT INTO Users VALUES ('u1', 'alice', 'alice@example.com'), ('u2', 'björn', 'bjorn@example.com');
             INSERT INTO Channels VALUES ('c1', 'town-square', 'Town Square ☕'), ('c2', 'off-topic', 'Off-Topic');
             INSERT INTO Posts (ChannelId, UserId, Message, CreateAt) VALUES
               ('c1', 'u1', 'Hello 👋 world — ünïcødé ✓', 1), ('c1', 'u2', E'line one\\nline two\\ttab', 2),
               ('c2', 'u1', '日本語のテキスト 🎉🎉', 3), ('c2', 'u2', 'quote '' and \\\\ backslash', 4);
             INSERT INTO Posts (ChannelId, UserId, Message, CreateAt)
               SELECT 'c1', 'u1', 'generated post ' || g || ' 🚀', g FROM generate_series(1, {posts}) g;"
        ));
    }

    /// Every row of every table of `db`, in a stable order, plus the sequence position.
    pub fn contents(&self, db: &str) -> String {
        self.admin(
            db,
            "SELECT 'users', Id, Username, Email FROM Users ORDER BY Id;
             SELECT 'channels', Id, Name, DisplayName FROM Channels ORDER BY Id;
             SELECT 'posts', Id, ChannelId, UserId, Message, CreateAt FROM Posts ORDER BY Id;
             SELECT 'systems', Name, Value FROM Systems ORDER BY Name;
             SELECT 'seq', last_value FROM post_seq;",
        )
    }
}
