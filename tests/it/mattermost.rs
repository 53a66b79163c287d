//! `mattermost backup | restore | check` against a real PostgreSQL (tests/it/postgres.rs):
//! the round trip of every row and file, every documented failure (exit 2, nothing
//! changed), connected sessions, a kill at every step of backup and of restore, and the
//! probe with a local HTTP stand-in for `/api/v4/system/ping`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{mode, parallel_steps, Outcome, Snapshot, TestRoot};
use crate::postgres::{Pg, BIN};

pub(crate) const CONFIG: &str = "var/opt/toolctl/rendered/mattermost/config.json";
pub(crate) const DATA: &str = "var/opt/toolctl/rendered/mattermost/data";

/// A root with Mattermost's settings, the password secret, config.json and data/.
pub(crate) struct Mm {
    pub(crate) t: TestRoot,
    pub(crate) pg: Pg,
}

pub(crate) fn settings(pg: &Pg, site: &str, source: &str) -> String {
    format!(
        "external_url = \"https://gitlab.example.com\"\n\n[mattermost]\nexternal_url = \"{site}\"\nsql_data_source = \"{source}\"\npg_bin_dir = \"{BIN}\"\ndata_dir = \"/{DATA}\"\n",
    )
    .replace("{pg}", &pg.db)
}

pub(crate) fn setup(posts: usize) -> Mm {
    let pg = Pg::fresh();
    pg.seed(posts);
    let t = TestRoot::builder()
        .settings(settings(&pg, "http://127.0.0.1:9", &pg.data_source()))
        .secret("mattermost", format!("sql_password: '{}'\n", pg.password))
        .build();
    write_files(&t, "A");
    Mm { t, pg }
}

/// config.json and a data/ tree whose contents carry `tag`.
fn write_files(t: &TestRoot, tag: &str) {
    let config = t.path(CONFIG);
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(
        &config,
        format!("{{\"FileSettings\": {{\"DriverName\": \"local\", \"Directory\": \"./data/\"}}, \"Tag\": \"{tag}\"}}\n"),
    )
    .unwrap();
    let data = t.path(DATA);
    let _ = fs::remove_dir_all(&data);
    fs::create_dir_all(data.join("users/u1")).unwrap();
    fs::create_dir_all(data.join("teams/t1/channels/c1")).unwrap();
    fs::create_dir_all(data.join("empty")).unwrap();
    let png: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    fs::write(data.join("users/u1/profile.png"), png).unwrap();
    fs::write(
        data.join(format!("teams/t1/channels/c1/notes ☕ {tag}.txt")),
        format!("file {tag} 🎉\n"),
    )
    .unwrap();
}

impl Mm {
    pub(crate) fn run(&self, args: &[&str]) -> Outcome {
        self.t.toolctl(args).run()
    }

    pub(crate) fn backup(&self) -> PathBuf {
        let out = self.run(&["mattermost", "backup"]);
        out.assert_code(0);
        let path = PathBuf::from(out.stdout_str().trim());
        assert!(path.is_file(), "no archive at {}\n{out}", path.display());
        path
    }

    /// The state compared across a restore: every row, and config.json + data/.
    fn state(&self) -> (String, Snapshot) {
        let db = if self.pg.db_exists(&self.pg.db) {
            self.pg.contents(&self.pg.db)
        } else {
            "<no database>".into()
        };
        (
            db,
            Snapshot::of(&self.t.path("var/opt/toolctl/rendered/mattermost")),
        )
    }

    /// Changes every part of the live state: rows, config.json, data/.
    fn change_everything(&self) {
        self.pg.sql("INSERT INTO Posts (ChannelId, UserId, Message, CreateAt) VALUES ('c2', 'u2', 'after the backup', 9); UPDATE Users SET Email = 'new@example.com'; SELECT nextval('post_seq');");
        write_files(&self.t, "B");
    }
}

#[test]
fn backup_then_restore_brings_back_every_row_and_file() {
    let m = setup(50);
    let before = m.state();
    let archive = m.backup();
    assert_eq!(mode(&archive), 0o600);
    assert!(archive
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("mattermost-"));
    // Destroy: the database is gone, the files too.
    m.pg.admin("postgres", &format!("DROP DATABASE {}", m.pg.db));
    fs::remove_dir_all(m.t.path(DATA)).unwrap();
    fs::write(m.t.path(CONFIG), "{}").unwrap();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    assert_eq!(
        m.state().0,
        before.0,
        "rows differ after the restore\n{out}"
    );
    before.1.assert_unchanged(&m.state().1, &out);
    // Again, over a live database that exists: the old one is kept aside.
    m.change_everything();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_code(0);
    assert_eq!(m.state().0, before.0, "{out}");
    before.1.assert_unchanged(&m.state().1, &out);
    let dbs = m.pg.databases();
    assert!(
        dbs.iter().any(|d| d.contains("_before_restore_")),
        "old database not kept: {dbs:?}\n{out}"
    );
    assert!(!m.t.path("var/opt/toolctl/mattermost-restore.json").exists());
    println!("databases after two restores: {dbs:?}");
}

#[test]
fn on_a_narrow_terminal_the_archive_path_is_left_on_the_screen() {
    let m = setup(5);
    for cols in [80u16, 40] {
        let screen =
            crate::screen::on_terminal(&m.t, cols, &[("TERM", "xterm")], &["mattermost", "backup"]);
        let text = screen.join("\n");
        println!("{cols} columns:\n{text}");
        // The path, wrapped by the terminal if it is longer than a line, is the last thing
        // on the screen.
        let start = screen.iter().rposition(|l| l.starts_with('/')).unwrap_or(0);
        let tail: String = screen[start..].concat();
        let path = PathBuf::from(tail.trim());
        assert!(
            path.is_file() && path.starts_with(m.t.root()),
            "no archive path at the end of the screen ({cols} columns):\n{text}"
        );
        assert!(!text.contains(" …"), "a spinner is left:\n{text}");
    }
}

#[test]
fn backup_manifest_counts_rows_and_verify_passes() {
    let m = setup(10);
    let archive = m.backup();
    let out = m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
        "--output-format",
        "json",
    ]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["verified"], true, "{out}");
    let manifest = manifest_of(&archive);
    assert_eq!(manifest["tables"]["public.posts"], 14);
    assert_eq!(manifest["tables"]["public.users"], 2);
    assert_eq!(manifest["mattermost_schema_version"], "9.11.0");
    assert_eq!(manifest["local_files"], true);
    for member in ["db.dump", "config.json", "data/users/u1/profile.png"] {
        assert!(
            manifest["members"][member]["sha256"].is_string(),
            "{member} not in {manifest}"
        );
    }
    // The scratch database is gone.
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()]);
}

/// The members of an archive, in order, decompressed.
pub(crate) fn members(archive: &Path) -> Vec<(String, tar::EntryType, Vec<u8>, Option<PathBuf>)> {
    let gz = flate2::read::GzDecoder::new(fs::File::open(archive).unwrap());
    let mut a = tar::Archive::new(gz);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let kind = e.header().entry_type();
            let link = e.link_name().unwrap().map(|l| l.into_owned());
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, kind, bytes, link)
        })
        .collect()
}

pub(crate) fn manifest_of(archive: &Path) -> serde_json::Value {
    let m = members(archive);
    let (_, _, bytes, _) = m.iter().find(|(n, ..)| n == "manifest.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

/// Rewrites an archive with `f` applied to its members.
fn rewrite(archive: &Path, to: &Path, f: impl Fn(&str, &mut Vec<u8>)) {
    let out = fs::File::create(to).unwrap();
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, kind, mut bytes, link) in members(archive) {
        f(&name, &mut bytes);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        match link {
            Some(l) => b.append_link(&mut h, &name, l).unwrap(),
            None => b.append_data(&mut h, &name, &bytes[..]).unwrap(),
        }
    }
    b.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_corrupted_archive_is_refused_with_nothing_changed() {
    let m = setup(5);
    let archive = m.backup();
    m.change_everything();
    let names: Vec<String> = members(&archive)
        .into_iter()
        .filter(|(_, k, b, _)| *k == tar::EntryType::Regular && !b.is_empty())
        .map(|(n, ..)| n)
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    let mut flipped = 0;
    for name in &names {
        let bad = m.t.aux().join("bad.tar.gz");
        rewrite(&archive, &bad, |n, bytes| {
            if n == name {
                let i = bytes.len() / 2;
                bytes[i] ^= 0x01;
            }
        });
        let before = m.state();
        let snap = m.t.snapshot();
        let out = m.run(&["mattermost", "restore", bad.to_str().unwrap(), "--yes"]);
        out.assert_error("cannot be restored", &["nothing was changed"]);
        assert!(
            out.stderr.contains(name.as_str()) || out.stderr.contains("manifest"),
            "{out}"
        );
        assert_eq!(m.state().0, before.0, "{name}: rows changed\n{out}");
        snap.assert_unchanged(&m.t.snapshot(), &out);
        let out = m.run(&["mattermost", "backup", "--verify", bad.to_str().unwrap()]);
        out.assert_code(1);
        flipped += 1;
    }
    // A truncated archive too.
    let bytes = fs::read(&archive).unwrap();
    let cut = m.t.aux().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "restore", cut.to_str().unwrap(), "--yes"]);
    out.assert_error("cannot be restored", &["nothing was changed"]);
    snap.assert_unchanged(&m.t.snapshot(), &out);
    m.run(&["mattermost", "backup", "--verify", cut.to_str().unwrap()])
        .assert_code(1);
    assert_eq!(m.pg.databases(), vec![m.pg.db.clone()]);
    println!("flipped a byte in {flipped} members, each refused");
}

#[test]
fn a_wrong_password_or_an_unreachable_server_is_exit_2_with_nothing_written() {
    let m = setup(1);
    let archive = m.backup();
    fs::remove_file(&archive).unwrap();
    m.t.write_secret("mattermost", b"sql_password: 'wrong-password-x'\n");
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error("password authentication failed", &["sql_password"]);
    assert!(!out.stderr.contains("wrong-password-x"));
    snap.assert_unchanged(&m.t.snapshot(), &out);
    // Unreachable: a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let m2 = setup(1);
    let source = format!(
        "user={} host=127.0.0.1 port={closed} dbname={}",
        m2.pg.user, m2.pg.db
    );
    m2.t.write_settings(&settings(&m2.pg, "http://127.0.0.1:9", &source));
    let snap = m2.t.snapshot();
    let out = m2.run(&["mattermost", "backup"]);
    out.assert_error("failed on 127.0.0.1", &["PostgreSQL is running"]);
    snap.assert_unchanged(&m2.t.snapshot(), &out);
}

#[test]
fn the_password_never_reaches_argv() {
    // A pg_bin_dir whose programs record their argv and environment, then exec the real ones.
    let m = setup(1);
    let bin = m.t.aux().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = m.t.aux().join("argv.log");
    for p in ["psql", "pg_dump", "pg_restore"] {
        let script = format!(
            "#!/bin/sh\necho \"$0 $*\" >> {}\nexec {BIN}/{p} \"$@\"\n",
            log.display()
        );
        let path = bin.join(p);
        fs::write(&path, script).unwrap();
        crate::harness::chmod(&path, 0o755);
    }
    let s = settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source())
        .replace(BIN, bin.to_str().unwrap());
    m.t.write_settings(&s);
    let archive = m.backup();
    m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
        .assert_code(0);
    let argv = fs::read_to_string(&log).unwrap();
    assert!(
        argv.contains("pg_dump") && argv.contains("pg_restore"),
        "{argv}"
    );
    assert!(
        !argv.contains(&m.pg.password),
        "the password is in argv:\n{argv}"
    );
}

#[test]
fn restore_refuses_while_a_client_is_connected_and_force_disconnect_succeeds() {
    let m = setup(3);
    let before = m.state();
    let archive = m.backup();
    m.change_everything();
    let changed = m.state();
    let mut client = Command::new(format!("{BIN}/psql"))
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &m.pg.port.to_string(),
            "-U",
            &m.pg.user,
            "-d",
            &m.pg.db,
        ])
        .args(["-c", "SELECT pg_sleep(60)"])
        .env("PGPASSWORD", &m.pg.password)
        .env("PGAPPNAME", "mattermost-stand-in")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(crate::harness::wait_for(
        std::time::Duration::from_secs(10),
        || {
            m.pg.admin("postgres", &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mattermost-stand-in' AND datname = '{}'", m.pg.db)).trim() == "1"
        }
    ));
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"]);
    out.assert_error("connected to", &["stop Mattermost", "--force-disconnect"]);
    assert!(out.stderr.contains("mattermost-stand-in"), "{out}");
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert_eq!(m.state().0, changed.0);
    let out = m.run(&[
        "mattermost",
        "restore",
        archive.to_str().unwrap(),
        "--yes",
        "--force-disconnect",
    ]);
    out.assert_code(0);
    assert_eq!(m.state().0, before.0);
    before.1.assert_unchanged(&m.state().1, &out);
    let _ = client.kill();
    let _ = client.wait();
}

#[test]
fn restore_off_a_terminal_without_yes_is_refused() {
    let m = setup(1);
    let archive = m.backup();
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "restore", archive.to_str().unwrap()]);
    out.assert_error("not a terminal", &["--yes"]);
    snap.assert_unchanged(&m.t.snapshot(), &out);
}

/// The failpoints a run reached, in order.
fn steps(m: &Mm, args: &[&str], prefix: &str) -> Vec<String> {
    let log = m.t.aux().join("fp.log");
    let _ = fs::remove_file(&log);
    let out = m.t.toolctl(args).env("TOOLCTL_FAILPOINT_LOG", &log).run();
    out.assert_code(0);
    fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// A root and database as [`setup`] makes them, the state an archive of it restores
/// (`restored`), the archive, and the state after [`Mm::change_everything`] (`old`).
struct RestoreCase {
    m: Mm,
    restored: (String, Snapshot),
    archive: PathBuf,
    old: (String, Snapshot),
}

fn restore_case() -> RestoreCase {
    let m = setup(20);
    let restored = m.state();
    let archive = m.backup();
    m.change_everything();
    let old = m.state();
    RestoreCase {
        m,
        restored,
        archive,
        old,
    }
}

#[test]
fn a_kill_at_every_step_of_restore_leaves_the_old_state_or_the_restored_one() {
    let first = restore_case();
    let points = steps(
        &first.m,
        &[
            "mattermost",
            "restore",
            first.archive.to_str().unwrap(),
            "--yes",
        ],
        "mattermost-restore-",
    );
    assert!(points.len() >= 8, "{points:?}");
    // Each step has its own root, role and database (Pg::fresh: the temporary and kept-aside
    // databases toolctl makes are named after it), so the steps run in parallel. Every
    // step's database starts from the same rows as the first one.
    let outcomes = parallel_steps(&points, |p| {
        let RestoreCase {
            m,
            restored,
            archive,
            old,
        } = restore_case();
        assert_eq!(old.0, first.old.0);
        assert_eq!(restored.0, first.restored.0);
        let a = archive.to_str().unwrap();
        let out =
            m.t.toolctl(["mattermost", "restore", a, "--yes"])
                .env("TOOLCTL_FAILPOINT", p)
                .run();
        assert_eq!(out.code, None, "{p}: not killed\n{out}");
        // The next command finishes or rolls back, and says which.
        let out = m.run(&[
            "mattermost",
            "backup",
            "--output",
            m.t.aux().join("b").to_str().unwrap(),
        ]);
        out.assert_code(0);
        let now = m.state();
        let rolled_back = if now.0 == old.0 {
            old.1
                .assert_unchanged(&now.1, &format!("{p}: old rows with other files\n{out}"));
            true
        } else {
            assert_eq!(
                now.0, restored.0,
                "{p}: rows are neither old nor restored\n{out}"
            );
            restored.1.assert_unchanged(
                &now.1,
                &format!("{p}: restored rows with other files\n{out}"),
            );
            false
        };
        if out.stderr.contains("interrupted restore") {
            assert!(
                out.stderr.contains("rolled back") || out.stderr.contains("completed"),
                "{out}"
            );
        }
        assert!(
            !m.t.path("var/opt/toolctl/mattermost-restore.json").exists(),
            "{p}"
        );
        let leftovers: Vec<_> = fs::read_dir(m.t.path("var/opt/toolctl/rendered/mattermost"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{p}: staging left behind: {leftovers:?}"
        );
        let dbs = m.pg.databases();
        assert!(
            !dbs.iter().any(|d| d.contains("_toolctl_restore_")),
            "{p}: {dbs:?}"
        );
        for d in dbs.iter().filter(|d| d.contains("_before_restore_")) {
            m.pg.admin("postgres", &format!("DROP DATABASE \"{d}\""));
        }
        rolled_back
    });
    let rolled_back = outcomes.iter().filter(|r| **r).count();
    let completed = outcomes.len() - rolled_back;
    println!(
        "killed restore at {} steps: {rolled_back} rolled back, {completed} completed",
        points.len()
    );
    assert!(rolled_back > 0 && completed > 0);
}

#[test]
fn a_kill_at_every_step_of_backup_leaves_no_archive_under_a_final_name() {
    let m = setup(5);
    let out_dir = m.t.aux().join("out");
    let points = steps(
        &m,
        &[
            "mattermost",
            "backup",
            "--output",
            out_dir.to_str().unwrap(),
        ],
        "mattermost-backup-",
    );
    assert!(points.len() >= 4, "{points:?}");
    // Each step has its own root, output directory, role and database, so the steps run
    // in parallel; each ends with the next backup into its directory.
    parallel_steps(&points, |p| {
        let m = setup(5);
        let out_dir = m.t.aux().join("out");
        // As the backup that listed the steps left it: made by toolctl, 0700.
        fs::create_dir(&out_dir).unwrap();
        crate::harness::chmod(&out_dir, 0o700);
        let o = out_dir.to_str().unwrap();
        let out =
            m.t.toolctl(["mattermost", "backup", "--output", o])
                .env("TOOLCTL_FAILPOINT", p)
                .run();
        assert_eq!(out.code, None, "{p}: not killed\n{out}");
        let names: Vec<String> = fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let finals: Vec<_> = names.iter().filter(|n| !n.starts_with('.')).collect();
        if p == "mattermost-backup-renamed" {
            // Killed after the rename: the archive is complete and verifies.
            assert_eq!(finals.len(), 1, "{names:?}");
            let path = out_dir.join(finals[0]);
            m.run(&["mattermost", "backup", "--verify", path.to_str().unwrap()])
                .assert_code(0);
            fs::remove_file(path).unwrap();
        } else {
            assert!(finals.is_empty(), "{p}: {names:?}");
        }
        // The next backup sweeps the temps.
        let out = m.run(&["mattermost", "backup", "--output", o]);
        out.assert_code(0);
        let names: Vec<String> = fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{p}: {names:?}");
    });
    println!("killed backup at {} steps", points.len());
}

/// A one-thread HTTP stand-in answering every request with `body`; returns its URL.
fn http_stand_in(status: &'static str, body: &'static str) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

#[test]
fn check_reports_database_schema_ping_and_oauth() {
    let m = setup(1);
    let site = http_stand_in("200 OK", "{\"status\":\"OK\"}");
    m.t.write_settings(&settings(&m.pg, &site, &m.pg.data_source()));
    let out = m.run(&["mattermost", "check", "--output-format", "json"]);
    out.assert_code(0);
    assert_eq!(out.step("database")["status"], "ok", "{out}");
    assert!(
        out.step("schema")["detail"]
            .as_str()
            .unwrap()
            .contains("9.11.0"),
        "{out}"
    );
    assert_eq!(out.step("ping")["status"], "ok", "{out}");
    assert_eq!(out.step("oauth")["status"], "ok", "{out}");
    // `toolctl check` includes it.
    let out = m.run(&["check", "--output-format", "json"]);
    assert!(out.stdout_str().contains("\"mattermost\""), "{out}");
    // A wrong password: the database step fails (exit 1), the password never shows.
    m.t.write_secret("mattermost", b"sql_password: 'not-the-password'\n");
    let out = m.run(&["mattermost", "check", "--output-format", "json"]);
    out.assert_code(1);
    assert_eq!(out.step("database")["status"], "fail", "{out}");
    assert!(!out.stdout_str().contains("not-the-password"));
}

#[test]
fn check_warns_on_a_database_without_mattermost_schema_and_a_failing_ping() {
    let pg = Pg::fresh();
    let site = http_stand_in("503 Service Unavailable", "{\"status\":\"UNHEALTHY\"}");
    let t = TestRoot::builder()
        .settings(settings(&pg, &site, &pg.data_source()))
        .secret("mattermost", format!("sql_password: '{}'\n", pg.password))
        .build();
    let out = t
        .toolctl(["mattermost", "check", "--output-format", "json"])
        .run();
    out.assert_code(1);
    assert_eq!(out.step("schema")["status"], "warn", "{out}");
    assert_eq!(out.step("ping")["status"], "fail", "{out}");
}

#[test]
fn the_url_form_over_the_socket_with_the_docs_typos_works_with_warnings() {
    let m = setup(2);
    let socket: String =
        url::form_urlencoded::byte_serialize(m.pg.socket_dir.to_str().unwrap().as_bytes())
            .collect();
    let pw: String = url::form_urlencoded::byte_serialize(m.pg.password.as_bytes()).collect();
    let source = format!(
        "postgres://{}:{pw}@{socket}:{}/{}?sslmode=required&binary_parameters=yes",
        m.pg.user, m.pg.port, m.pg.db
    );
    m.t.write_settings(&settings(&m.pg, "http://127.0.0.1:9", &source));
    // No secret: the password comes from the URL.
    fs::remove_file(m.t.secret_file("mattermost")).unwrap();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("`sslmode=required`") && out.stderr.contains("binary_parameters"),
        "{out}"
    );
    assert!(!out.stderr.contains(&m.pg.password), "{out}");
    let archive = out.stdout_str().trim().to_string();
    m.run(&["mattermost", "backup", "--verify", &archive])
        .assert_code(0);
}

#[test]
fn a_pg_dump_older_than_the_server_is_refused_with_the_hint() {
    let m = setup(1);
    let bin = m.t.aux().join("oldbin");
    fs::create_dir_all(&bin).unwrap();
    for p in ["psql", "pg_restore"] {
        std::os::unix::fs::symlink(format!("{BIN}/{p}"), bin.join(p)).unwrap();
    }
    let fake = bin.join("pg_dump");
    fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    crate::harness::chmod(&fake, 0o755);
    let s = settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source())
        .replace(BIN, bin.to_str().unwrap());
    m.t.write_settings(&s);
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error(
        "older than the server",
        &["pg_bin_dir", "/usr/lib/postgresql/15/bin"],
    );
    snap.assert_unchanged(&m.t.snapshot(), &out);
}

#[test]
fn with_amazons3_there_is_no_local_data_and_the_output_and_manifest_say_so() {
    let m = setup(1);
    fs::write(
        m.t.path(CONFIG),
        "{\"FileSettings\": {\"DriverName\": \"amazons3\", \"Directory\": \"./data/\"}}\n",
    )
    .unwrap();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("amazons3") && out.stderr.contains("no data/"),
        "{out}"
    );
    let archive = PathBuf::from(out.stdout_str().trim());
    let manifest = manifest_of(&archive);
    assert_eq!(manifest["local_files"], false);
    assert_eq!(manifest["data"]["saved"], false);
    assert!(!members(&archive)
        .iter()
        .any(|(n, ..)| n.starts_with("data")));
    // A restore leaves the local data/ alone.
    let data = Snapshot::of(&m.t.path(DATA));
    m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
        .assert_code(0);
    data.assert_unchanged(&Snapshot::of(&m.t.path(DATA)), &"amazons3 restore");
}

#[test]
fn restored_files_get_the_mattermost_owner() {
    let m = setup(1);
    let archive = m.backup();
    let s =
        settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source()) + "uid = 65534\ngid = 65534\n";
    m.t.write_settings(&s);
    // config.json comes back with the owner and mode of the live file it replaces.
    std::os::unix::fs::chown(m.t.path(CONFIG), Some(65534), Some(65533)).unwrap();
    fs::set_permissions(
        m.t.path(CONFIG),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    m.run(&["mattermost", "restore", archive.to_str().unwrap(), "--yes"])
        .assert_code(0);
    use std::os::unix::fs::MetadataExt;
    for p in [m.t.path(DATA), m.t.path(DATA).join("users/u1/profile.png")] {
        let meta = fs::metadata(&p).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "{}", p.display());
    }
    let meta = fs::metadata(m.t.path(CONFIG)).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), mode(&m.t.path(CONFIG))),
        (65534, 65533, 0o640)
    );
}

#[test]
fn every_mattermost_json_document_has_its_documented_keys() {
    let m = setup(3);
    let out = m.run(&["mattermost", "backup", "--output-format", "json"]);
    out.assert_code(0);
    let backup = out.json();
    crate::cli::assert_documented_json("toolctl mattermost backup", &backup);
    let archive = backup["archive"]
        .as_str()
        .expect("the archive's path")
        .to_string();
    let out = m.run(&[
        "mattermost",
        "backup",
        "--verify",
        &archive,
        "--output-format",
        "json",
    ]);
    out.assert_code(0);
    crate::cli::assert_documented_json("toolctl mattermost backup --verify", &out.json());
    let out = m.run(&[
        "mattermost",
        "restore",
        &archive,
        "--yes",
        "--output-format",
        "json",
    ]);
    out.assert_code(0);
    crate::cli::assert_documented_json("toolctl mattermost restore", &out.json());
}
