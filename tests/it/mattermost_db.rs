//! The database side of `mattermost restore` and `backup --verify`: a rich
//! database (bytea, jsonb, large objects, sequences ahead of their data, matviews, a
//! non-C collation, ICU when the cluster has it, database ACLs and settings, a second role
//! with grants) comes back identical over a changed one; a role without CREATEDB is told
//! the grant, and `admin_data_source` stands in for it; `--force-disconnect` refuses the
//! sessions it may not terminate, leaving nothing behind; peer authentication as the
//! Mattermost user.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{wait_for, Outcome, TestRoot};
use crate::mattermost::{settings, CONFIG, DATA};
use crate::postgres::{Pg, BIN};

const JOURNAL: &str = "var/opt/toolctl/mattermost-restore.json";

struct Db {
    t: TestRoot,
    pg: Pg,
    reader: String,
}

fn icu(pg: &Pg) -> bool {
    pg.admin(
        "postgres",
        "SELECT count(*) > 0 FROM pg_collation WHERE collprovider = 'i'",
    )
    .trim()
        == "t"
}

/// The test's database made again with a non-C collation (ICU `de-DE` when the cluster
/// has ICU), database-level settings, ACL and comment, a second role with grants, and a
/// schema with every kind of data the findings caught.
fn rich(pg: &Pg) -> String {
    let (db, mm) = (&pg.db, &pg.user);
    let reader = format!("{mm}_reader");
    pg.admin("postgres", &format!("DROP DATABASE {db}"));
    let locale = if icu(pg) {
        "LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.utf8'"
    } else {
        "LOCALE 'C.utf8'"
    };
    pg.admin(
        "postgres",
        &format!("CREATE DATABASE {db} OWNER {mm} TEMPLATE template0 ENCODING 'UTF8' {locale}"),
    );
    pg.admin("postgres", &format!("CREATE ROLE {reader} NOLOGIN"));
    for sql in [
        format!("REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC"),
        format!("GRANT CONNECT ON DATABASE {db} TO {reader}"),
        format!("ALTER DATABASE {db} SET timezone TO 'Pacific/Chatham'"),
        format!("ALTER DATABASE {db} SET statement_timeout TO '7min'"),
        format!("ALTER ROLE {mm} IN DATABASE {db} SET work_mem TO '9MB'"),
        format!("COMMENT ON DATABASE {db} IS 'Mattermost''s; DATABASE {db} data'"),
    ] {
        pg.admin("postgres", &sql);
    }
    pg.sql(&format!(
        r"CREATE TABLE Systems (Name varchar(64) PRIMARY KEY, Value varchar(1024));
         INSERT INTO Systems VALUES ('Version', '9.11.0');
         CREATE TABLE Posts (Id bigserial PRIMARY KEY, Message text, Props jsonb, Blob bytea);
         INSERT INTO Posts (Message, Props, Blob)
           SELECT 'post ' || g || ' ünïcødé 🚀 ' || repeat('x', g % 50),
                  jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g)),
                  decode(md5(g::text), 'hex') || '\x00ff'::bytea
           FROM generate_series(1, 300) g;
         INSERT INTO Posts (Message) VALUES (repeat('ä', 65535));
         SELECT setval('posts_id_seq', 5000);
         CREATE SEQUENCE spare_seq START 10;
         SELECT setval('spare_seq', 777, false);
         CREATE TABLE Names (Name text);
         INSERT INTO Names VALUES ('a'), ('B'), ('ä'), ('Z'), ('z'), ('Äpfel'), ('apfel'), ('ß'), ('ss'), ('10'), ('9');
         CREATE INDEX names_name ON Names (Name);
         CREATE TABLE Files (Id int PRIMARY KEY, Obj oid);
         INSERT INTO Files VALUES (1, lo_from_bytea(0, '\x00010203fffe'::bytea)),
           (2, lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8')));
         CREATE MATERIALIZED VIEW PostStats AS SELECT count(*) AS n, sum(length(Message)) AS chars FROM Posts;
         CREATE MATERIALIZED VIEW SortedNames AS SELECT Name, row_number() OVER (ORDER BY Name) AS pos FROM Names;
         GRANT USAGE ON SCHEMA public TO {reader};
         GRANT SELECT ON Posts, Names TO {reader};
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {reader};"
    ));
    reader
}

/// Everything compared across a restore: per table the row count and the md5 of the
/// ordered rows, the matviews, sequences, large objects, and the database's encoding,
/// collation, provider, ACL, comment, settings and the grants inside it.
fn fingerprint(pg: &Pg) -> String {
    pg.admin(
        &pg.db,
        "SELECT 'posts', count(*), md5(string_agg(t::text, '|' ORDER BY t.Id)) FROM Posts t;
         SELECT 'names', count(*), md5(string_agg(Name, '|' ORDER BY Name)) FROM Names;
         SELECT 'systems', count(*), md5(string_agg(t::text, '|' ORDER BY t.Name)) FROM Systems t;
         SELECT 'files', count(*), md5(string_agg(t::text || md5(lo_get(t.Obj)), '|' ORDER BY t.Id)) FROM Files t;
         SELECT 'poststats', t::text FROM PostStats t;
         SELECT 'sortednames', md5(string_agg(t::text, '|' ORDER BY pos)) FROM SortedNames t;
         SELECT 'seq', last_value, is_called FROM posts_id_seq;
         SELECT 'spare', last_value, is_called FROM spare_seq;
         SELECT 'lo', count(*), md5(string_agg(md5(lo_get(oid)), ',' ORDER BY oid)) FROM pg_largeobject_metadata;
         SELECT 'db', pg_encoding_to_char(encoding), datcollate, datctype, datlocprovider, coalesce(daticulocale, '-'), datconnlimit, datacl::text, shobj_description(oid, 'pg_database'), pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database();
         SELECT 'settings', coalesce(nullif(pg_get_userbyid(setrole), 'unknown (OID=0)'), '-'), setconfig::text FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database() ORDER BY 2;
         SELECT 'acl', relname, coalesce(relacl::text, '-') FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'm', 'S') ORDER BY relname;
         SELECT 'defacl', defaclacl::text FROM pg_default_acl;
         SELECT 'session', current_setting('TimeZone'), current_setting('statement_timeout');",
    )
}

/// A root whose settings point at `pg` (`extra` appended to `[mattermost]`), with the
/// password secret (plus `secret`), config.json and a small data/.
fn root(pg: &Pg, extra: &str, secret: &str) -> TestRoot {
    let t = TestRoot::builder()
        .settings(settings(pg, "http://127.0.0.1:9", &pg.data_source()) + extra)
        .secret(
            "mattermost",
            format!("sql_password: '{}'\n{secret}", pg.password),
        )
        .build();
    files(&t);
    t
}

fn files(t: &TestRoot) {
    let config = t.path(CONFIG);
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(
        &config,
        "{\"FileSettings\": {\"DriverName\": \"local\", \"Directory\": \"./data/\"}}\n",
    )
    .unwrap();
    fs::create_dir_all(t.path(DATA).join("users")).unwrap();
    fs::write(t.path(DATA).join("users/a.txt"), "a\n").unwrap();
}

fn setup() -> Db {
    let pg = Pg::fresh();
    let reader = rich(&pg);
    let t = root(&pg, "", "");
    Db { t, pg, reader }
}

impl Db {
    fn run(&self, args: &[&str]) -> Outcome {
        self.t.toolctl(args).run()
    }

    fn backup(&self) -> PathBuf {
        let out = self.run(&["mattermost", "backup"]);
        out.assert_code(0);
        PathBuf::from(out.stdout_str().trim())
    }

    /// Changes rows, sequences, large objects, and every database-level property.
    fn change(&self) {
        let (db, mm, reader) = (&self.pg.db, &self.pg.user, &self.reader);
        self.pg.sql(&format!(
            "INSERT INTO Posts (Message) VALUES ('after the backup');
             UPDATE Posts SET Props = '{{}}' WHERE Id < 10; DELETE FROM Names WHERE Name = 'ß';
             SELECT setval('spare_seq', 3); SELECT lo_unlink(Obj) FROM Files WHERE Id = 1; DELETE FROM Files WHERE Id = 1;
             REVOKE SELECT ON Names FROM {reader}; REFRESH MATERIALIZED VIEW PostStats;"
        ));
        for sql in [
            format!("GRANT CONNECT ON DATABASE {db} TO PUBLIC"),
            format!("ALTER DATABASE {db} SET timezone TO 'UTC'"),
            format!("ALTER DATABASE {db} RESET statement_timeout"),
            format!("ALTER ROLE {mm} IN DATABASE {db} RESET work_mem"),
            format!("COMMENT ON DATABASE {db} IS 'changed'"),
        ] {
            self.pg.admin("postgres", &sql);
        }
    }

    fn restore(&self, archive: &std::path::Path, extra: &[&str]) -> Outcome {
        let mut args = vec!["mattermost", "restore", archive.to_str().unwrap(), "--yes"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The previous databases the restores kept, dropped so that only the live one is
    /// left.
    fn drop_kept(&self) {
        for d in self.pg.databases() {
            if d != self.pg.db {
                self.pg.admin("postgres", &format!("DROP DATABASE \"{d}\""));
            }
        }
    }
}

#[test]
fn a_rich_database_comes_back_identical_over_a_changed_one() {
    let m = setup();
    let before = fingerprint(&m.pg);
    println!("{before}");
    assert!(
        before.contains("Pacific/Chatham") && before.contains("=c/"),
        "{before}"
    );
    let archive = m.backup();
    m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ])
    .assert_code(0);
    m.change();
    assert_ne!(fingerprint(&m.pg), before);
    let out = m.restore(&archive, &[]);
    out.assert_code(0);
    let after = fingerprint(&m.pg);
    assert_eq!(after, before, "the restored database differs\n{out}");
    // Restored again from scratch (no live database): the same.
    m.drop_kept();
    m.pg.admin("postgres", &format!("DROP DATABASE {}", m.pg.db));
    let out = m.restore(&archive, &[]);
    out.assert_code(0);
    assert_eq!(fingerprint(&m.pg), before, "{out}");
}

/// A `psql` that stays connected to `db` (`SELECT pg_sleep(60)`) as `user` (the
/// superuser `postgres` when `password` is `None`), named `app`.
fn sleeper(pg: &Pg, user: &str, password: Option<&str>, app: &str) -> Child {
    let mut cmd = Command::new(format!("{BIN}/psql"));
    cmd.args([
        "-X",
        "-h",
        "127.0.0.1",
        "-p",
        &pg.port.to_string(),
        "-U",
        user,
    ])
    .args(["-d", &pg.db, "-c", "SELECT pg_sleep(60)"])
    .env("PGAPPNAME", app)
    .env_remove("PGPASSWORD")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let child = cmd.spawn().unwrap();
    assert!(wait_for(Duration::from_secs(10), || {
        pg.admin(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND datname = '{}'",
                pg.db
            ),
        )
        .trim()
            == "1"
    }));
    child
}

/// Ends the sleeper `child` (`app`): its backend too, which would sleep on.
fn end(pg: &Pg, mut child: Child, app: &str) {
    let _ = child.kill();
    let _ = child.wait();
    pg.admin(
        "postgres",
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"),
    );
    assert!(wait_for(Duration::from_secs(10), || !connected(pg, app)));
}

fn connected(pg: &Pg, app: &str) -> bool {
    pg.admin(
        "postgres",
        &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}'"),
    )
    .trim()
        == "1"
}

#[test]
fn force_disconnect_refuses_a_superuser_session_and_leaves_nothing_behind() {
    let m = setup();
    let archive = m.backup();
    m.change();
    let changed = fingerprint(&m.pg);
    let mut own = sleeper(
        &m.pg,
        &m.pg.user,
        Some(&m.pg.password),
        "mattermost-stand-in",
    );
    let su = sleeper(&m.pg, "postgres", None, "superuser-stand-in");
    // Found before anything is written.
    let snap = m.t.snapshot();
    let out = m.restore(&archive, &["--force-disconnect"]);
    out.assert_error(
        "cannot be terminated",
        &["superuser", "pg_terminate_backend"],
    );
    assert!(
        out.stderr.contains("superuser-stand-in") && out.stderr.contains("user `postgres`"),
        "the session is not named\n{out}"
    );
    assert!(out.stderr.contains("pid "), "{out}");
    assert!(!out.stderr.contains("mattermost-stand-in"), "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()], "{out}");
    assert!(!m.t.path(JOURNAL).exists());
    assert!(
        connected(&m.pg, "mattermost-stand-in"),
        "a session was terminated\n{out}"
    );
    assert_eq!(fingerprint(&m.pg), changed);
    end(&m.pg, su, "superuser-stand-in");

    // A superuser session that comes while the dump is restored: refused before the
    // switch, and everything staged (journal, new database, staged files) rolled back.
    let resume = m.t.aux().join("resume");
    let log = m.t.aux().join("points");
    let run =
        m.t.toolctl([
            "mattermost",
            "restore",
            archive.to_str().unwrap(),
            "--yes",
            "--force-disconnect",
        ])
        .env("TOOLCTL_FAILPOINT_PAUSE", "mattermost-restore-staged")
        .env("TOOLCTL_FAILPOINT_RESUME", &resume)
        .env("TOOLCTL_FAILPOINT_LOG", &log);
    let run = std::thread::spawn(move || run.run());
    assert!(wait_for(Duration::from_secs(60), || {
        fs::read_to_string(&log).is_ok_and(|l| l.contains("mattermost-restore-staged"))
    }));
    assert!(m.t.path(JOURNAL).exists());
    let su = sleeper(&m.pg, "postgres", None, "late-superuser");
    fs::write(&resume, "").unwrap();
    let out = run.join().unwrap();
    out.assert_error("cannot be terminated", &["superuser"]);
    assert!(out.stderr.contains("late-superuser"), "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()], "{out}");
    assert!(!m.t.path(JOURNAL).exists(), "{out}");
    assert_eq!(fingerprint(&m.pg), changed);
    end(&m.pg, su, "late-superuser");

    // Only the Mattermost role's session: terminated, and the restore goes through.
    let out = m.restore(&archive, &["--force-disconnect"]);
    out.assert_code(0);
    assert!(!connected(&m.pg, "mattermost-stand-in"));
    let _ = own.kill();
    let _ = own.wait();
}

#[test]
fn a_role_without_createdb_is_told_the_grant_and_admin_data_source_stands_in() {
    let m = setup();
    let before = fingerprint(&m.pg);
    let archive = m.backup();
    m.change();
    let changed = fingerprint(&m.pg);
    m.pg.admin("postgres", &format!("ALTER ROLE {} NOCREATEDB", m.pg.user));
    let snap = m.t.snapshot();
    let out = m.restore(&archive, &[]);
    out.assert_error(
        "may not create databases",
        &[
            &format!("ALTER ROLE \"{}\" CREATEDB", m.pg.user),
            "admin_data_source",
        ],
    );
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()]);
    let out = m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ]);
    out.assert_error(
        "may not create databases",
        &["CREATEDB", "admin_data_source"],
    );
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()]);

    // An administrative role with CREATEDB, not yet a member of the Mattermost role.
    let admin = format!("{}_dba", m.pg.user);
    let pw = "dba-Pw 'x";
    m.pg.admin(
        "postgres",
        &format!("CREATE ROLE {admin} LOGIN CREATEDB CREATEROLE PASSWORD 'dba-Pw ''x'"),
    );
    let t = root(
        &m.pg,
        &format!(
            "admin_data_source = \"user={admin} host=127.0.0.1 port={} sslmode=disable\"\n",
            m.pg.port
        ),
        "admin_sql_password: 'dba-Pw ''x'\n",
    );
    let m = Db {
        t,
        pg: m.pg,
        reader: m.reader,
    };
    let snap = m.t.snapshot();
    let out = m.restore(&archive, &[]);
    out.assert_error("is not a member", &[&format!("TO \"{admin}\"")]);
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(fingerprint(&m.pg), changed);
    m.pg.admin("postgres", &format!("GRANT {} TO {admin}", m.pg.user));
    let out = m.restore(&archive, &[]);
    out.assert_code(0);
    assert_eq!(fingerprint(&m.pg), before, "{out}");
    assert!(!out.stderr.contains(pw), "{out}");
    m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ])
    .assert_code(0);
    let kept: Vec<String> = m.pg.databases();
    assert_eq!(kept.len(), 2, "{kept:?}");

    // A file step that fails after the switch is undone through the same administrative
    // role: the Mattermost role (no CREATEDB) could not rename the databases back.
    m.change();
    let changed = fingerprint(&m.pg);
    let out =
        m.t.toolctl(["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
            .env("TOOLCTL_FAILPOINT_ERRNO", "mattermost-restore-fs-in:EBUSY")
            .run();
    out.assert_code(2);
    assert!(out.stderr.contains("the restore was undone"), "{out}");
    assert_eq!(fingerprint(&m.pg), changed, "{out}");
    assert_eq!(m.pg.databases().len(), 2, "{:?}", m.pg.databases());
    assert!(
        !m.t.path("var/opt/toolctl/mattermost-restore.json").exists(),
        "{out}"
    );
}

/// Removes the test's operating-system user at the end, whatever happens.
struct OsUser(String);

impl Drop for OsUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).status();
    }
}

#[test]
fn peer_authentication_runs_the_clients_as_the_mattermost_user() {
    // The one role `pg_hba.conf` authenticates by peer (tests/it/postgres.rs).
    const USER: &str = "toolctl_peer";
    let _ = Command::new("userdel").arg(USER).status();
    let st = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            USER,
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let _user = OsUser(USER.into());
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, USER]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let (uid, gid) = (id("-u"), id("-g"));
    let pg = Pg::fresh();
    let db = format!("{}_peer", pg.db);
    pg.admin(
        "postgres",
        &format!("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{USER}') THEN CREATE ROLE {USER} LOGIN CREATEDB; END IF; END$$"),
    );
    pg.admin(
        "postgres",
        &format!("CREATE DATABASE {db} OWNER {USER} TEMPLATE template0"),
    );
    pg.admin(&db, &format!("SET ROLE {USER}; CREATE TABLE Posts (Id int PRIMARY KEY, Message text); INSERT INTO Posts SELECT g, 'peer ' || g FROM generate_series(1, 50) g;"));
    let source = format!(
        "user={USER} host={} port={} dbname={db}",
        pg.socket_dir.display(),
        pg.port
    );
    let t = TestRoot::builder()
        .settings(format!(
            "{}uid = {uid}\ngid = {gid}\n",
            settings(&pg, "http://127.0.0.1:9", &source)
        ))
        .build();
    files(&t);
    let out = t.toolctl(["mattermost", "backup"]).run();
    out.assert_code(0);
    let archive = out.stdout_str().trim().to_string();
    t.toolctl(["mattermost", "backup", "--verify", &archive])
        .run()
        .assert_code(0);
    pg.admin(&db, "DELETE FROM Posts WHERE Id > 10");
    let out = t
        .toolctl(["mattermost", "restore", &archive, "--yes"])
        .run();
    out.assert_code(0);
    assert_eq!(
        pg.admin(&db, "SELECT count(*) FROM Posts").trim(),
        "50",
        "{out}"
    );
    // As root, without the peer user, the same data source is refused.
    let plain = TestRoot::builder()
        .settings(settings(&pg, "http://127.0.0.1:9", &source))
        .build();
    files(&plain);
    let out = plain.toolctl(["mattermost", "backup"]).run();
    out.assert_error("Peer authentication failed", &["mattermost.uid", "peer"]);
    let kept = pg.admin(
        "postgres",
        &format!("SELECT datname FROM pg_database WHERE starts_with(datname, '{db}')"),
    );
    for d in kept.lines().map(str::trim).filter(|d| !d.is_empty()) {
        pg.admin("postgres", &format!("DROP DATABASE \"{d}\""));
    }
}

#[test]
fn an_autovacuum_worker_is_not_a_connected_client() {
    let m = setup();
    let archive = m.backup();
    // A worker held on the test's database: dead rows, and a vacuum throttled to a crawl.
    m.pg.sql(
        "CREATE TABLE Churn (Id int, Pad text) WITH (autovacuum_vacuum_threshold = 0, \
         autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, \
         autovacuum_vacuum_cost_limit = 1);
         INSERT INTO Churn SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
         DELETE FROM Churn;",
    );
    m.pg.admin("postgres", "ALTER SYSTEM SET autovacuum_naptime = 1");
    m.pg.admin("postgres", "SELECT pg_reload_conf()");
    let working = || {
        m.pg.admin(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = '{}'",
                m.pg.db
            ),
        )
        .trim()
            != "0"
    };
    let worker = wait_for(Duration::from_secs(40), working);
    m.pg.admin("postgres", "ALTER SYSTEM RESET autovacuum_naptime");
    m.pg.admin("postgres", "SELECT pg_reload_conf()");
    assert!(worker, "no autovacuum worker came");
    assert!(working(), "the autovacuum worker is gone already");
    let out = m.restore(&archive, &[]);
    out.assert_code(0);
    assert!(!out.stderr.contains("connected"), "{out}");
}

#[test]
fn a_grant_to_a_role_the_server_lacks_refuses_the_restore_and_changes_nothing() {
    let m = setup();
    let archive = m.backup();
    m.change();
    let r = &m.reader;
    m.pg.admin(&m.pg.db, &format!("DROP OWNED BY {r}"));
    m.pg.admin("postgres", &format!("DROP ROLE {r}"));
    let changed = fingerprint(&m.pg);
    let snap = m.t.snapshot();
    let out = m.restore(&archive, &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(&format!("role \"{r}\" does not exist")),
        "{out}"
    );
    assert!(out.stderr.contains("nothing was changed"), "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()], "{out}");
    assert!(!m.t.path(JOURNAL).exists());
    assert_eq!(fingerprint(&m.pg), changed);
}
