//! Backup and restore as a real unprivileged user and a hostile archive would
//! play them: `backup --output` into a directory another user can change (links planted
//! for every name toolctl would use), and `backup --verify` of an archive whose SQL tries
//! to change the Mattermost role's password, with and without `admin_data_source`.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::attacker::{Attacker, Fingerprint};
use crate::harness::{chmod, Outcome, TestRoot};
use crate::postgres::{Pg, BIN};

const CONFIG: &str = "var/opt/toolctl/rendered/mattermost/config.json";
const DATA: &str = "var/opt/toolctl/rendered/mattermost/data";

struct Mm {
    t: TestRoot,
    pg: Pg,
}

fn settings(pg: &Pg, extra: &str) -> String {
    format!(
        "external_url = \"https://gitlab.example.com\"\n\n[mattermost]\nexternal_url = \"http://127.0.0.1:9\"\nsql_data_source = \"{}\"\npg_bin_dir = \"{BIN}\"\nworking_dir = \"/var/opt/toolctl/rendered/mattermost\"\n{extra}",
        pg.data_source()
    )
}

fn setup(extra: &str, secret_extra: &str) -> Mm {
    let pg = Pg::fresh();
    pg.seed(3);
    let t = TestRoot::builder()
        .settings(settings(&pg, extra))
        .secret(
            "mattermost",
            format!("sql_password: '{}'\n{secret_extra}", pg.password),
        )
        .build();
    let config = t.path(CONFIG);
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(
        &config,
        "{\"FileSettings\": {\"DriverName\": \"local\", \"Directory\": \"./data/\"}}\n",
    )
    .unwrap();
    fs::create_dir_all(t.path(DATA).join("users")).unwrap();
    fs::write(t.path(DATA).join("users/a.txt"), "a file\n").unwrap();
    Mm { t, pg }
}

impl Mm {
    fn run(&self, args: &[&str]) -> Outcome {
        self.t.toolctl(args).run()
    }

    /// The stored password verifier of the Mattermost role.
    fn verifier(&self) -> String {
        self.pg.admin(
            "postgres",
            &format!(
                "SELECT rolpassword FROM pg_authid WHERE rolname = '{}'",
                self.pg.user
            ),
        )
    }

    /// Roles and databases a verification made (`<db>_toolctl_verify_…`).
    fn scratch_left(&self) -> String {
        self.pg.admin(
            "postgres",
            &format!(
                "SELECT 'db ' || datname FROM pg_database WHERE datname LIKE '{0}\\_toolctl\\_verify\\_%' \
                 UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE '{0}\\_toolctl\\_verify\\_%'",
                self.pg.db
            ),
        )
    }
}

/// The name toolctl gives a backup's host part (as `hostname()` in backup.rs cleans it).
fn host() -> String {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let clean: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "host".into()
    } else {
        clean
    }
}

/// Every temp and final name a backup started in the next `secs` seconds could use.
fn predictable_names(secs: u64) -> Vec<String> {
    let host = host();
    let mut out = Vec::new();
    for s in 0..secs {
        let when = std::time::SystemTime::now() + std::time::Duration::from_secs(s);
        let stamp = humantime::format_rfc3339_seconds(when)
            .to_string()
            .replace(['-', ':'], "");
        let name = format!("mattermost-{host}-{stamp}.tar.gz");
        out.push(format!(".{name}.dump.tmp"));
        out.push(format!(".{name}.tmp"));
        out.push(name);
    }
    out
}

/// A root-only file the attacker wants overwritten with the dump and made 0600.
fn victim(t: &TestRoot) -> PathBuf {
    let v = t.path("etc/victim.conf");
    fs::create_dir_all(v.parent().unwrap()).unwrap();
    fs::write(&v, "root-only contents\n").unwrap();
    chmod(&v, 0o644);
    v
}

#[test]
fn backup_output_in_a_directory_another_user_owns_is_refused_and_no_planted_link_is_followed() {
    let m = setup("", "");
    let attacker = Attacker::new();
    let victim = victim(&m.t);
    // The attacker's own directory, not sticky: links planted ahead for the next minute.
    let drop_dir = m.t.aux().join("drop");
    fs::create_dir(&drop_dir).unwrap();
    chmod(&drop_dir, 0o755);
    attacker.own(&drop_dir);
    let mut script = String::new();
    for n in predictable_names(60) {
        script.push_str(&format!(
            "ln -s '{}' '{}/{n}'\n",
            victim.display(),
            drop_dir.display()
        ));
    }
    attacker.sh_ok(&script);
    let before_victim = Fingerprint::of(&victim);
    let before_dir = Fingerprint::of(&drop_dir);
    let out = m.run(&[
        "mattermost",
        "backup",
        "--output",
        drop_dir.to_str().unwrap(),
    ]);
    out.assert_error(
        &format!(
            "`{}` can be changed by a user other than root",
            drop_dir.display()
        ),
        &["chown root:root", drop_dir.to_str().unwrap()],
    );
    assert!(
        out.stderr.contains(&format!("uid {}", attacker.uid)),
        "the owner is not named\n{out}"
    );
    assert_eq!(Fingerprint::of(&victim), before_victim, "{out}");
    assert_eq!(Fingerprint::of(&drop_dir), before_dir, "{out}");

    // A root-owned directory inside the attacker's: the parent lets them swap it.
    let inner = drop_dir.join("inner");
    fs::create_dir(&inner).unwrap();
    chmod(&inner, 0o700);
    let before_inner = Fingerprint::of(&inner);
    let out = m.run(&["mattermost", "backup", "--output", inner.to_str().unwrap()]);
    out.assert_error(
        &format!(
            "`{}` can be changed by a user other than root",
            drop_dir.display()
        ),
        &["chown root:root"],
    );
    assert_eq!(Fingerprint::of(&inner), before_inner, "{out}");

    // The output directory itself a link the attacker planted (to a root-only directory).
    let secret_dir = m.t.path("etc/private");
    fs::create_dir_all(&secret_dir).unwrap();
    chmod(&secret_dir, 0o700);
    attacker.sh_ok(&format!(
        "ln -s '{}' '{}/out'",
        secret_dir.display(),
        drop_dir.display()
    ));
    let before_secret = Fingerprint::of(&secret_dir);
    let out = m.run(&[
        "mattermost",
        "backup",
        "--output",
        drop_dir.join("out").to_str().unwrap(),
    ]);
    out.assert_code(2);
    assert!(out.stderr.contains("hint: "), "{out}");
    assert_eq!(Fingerprint::of(&secret_dir), before_secret, "{out}");
    assert_eq!(Fingerprint::of(&victim), before_victim, "{out}");

    // A world-writable, non-sticky directory owned by root is refused too.
    let open_dir = m.t.aux().join("open");
    fs::create_dir(&open_dir).unwrap();
    chmod(&open_dir, 0o777);
    let out = m.run(&[
        "mattermost",
        "backup",
        "--output",
        open_dir.to_str().unwrap(),
    ]);
    out.assert_error("every user can write it", &["chmod go-w"]);
    assert_eq!(fs::read_dir(&open_dir).unwrap().count(), 0);
}

#[test]
fn backup_output_below_a_sticky_tmp_and_the_default_directory_work_with_private_files() {
    let m = setup("", "");
    // aux lives below /tmp (root-owned, sticky): safe for root's own entries.
    let out_dir = m.t.aux().join("new/backups");
    let out = m.run(&[
        "mattermost",
        "backup",
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    out.assert_code(0);
    let archive = PathBuf::from(out.stdout_str().trim());
    assert!(archive.starts_with(&out_dir), "{out}");
    let meta = fs::symlink_metadata(&archive).unwrap();
    assert!(meta.is_file());
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o600));
    assert_eq!(fs::metadata(&out_dir).unwrap().mode() & 0o7777, 0o700);
    // Only the archive: no dump or temp left.
    assert_eq!(fs::read_dir(&out_dir).unwrap().count(), 1);
    // The archive verifies (pg_dump wrote a real custom-format dump to its stdout).
    m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ])
    .assert_code(0);
}

/// A custom-format dump of a database whose table has a CHECK calling a function that
/// tries `RESET ROLE; ALTER ROLE <mattermost role> PASSWORD …` while its rows are
/// copied in (errors swallowed, so that the restore itself succeeds).
fn hostile_dump(pg: &Pg) -> Vec<u8> {
    dump_with_check(
        pg,
        &format!(
            "LANGUAGE plpgsql AS $f$
             BEGIN
               BEGIN
                 RESET ROLE;
                 ALTER ROLE {} PASSWORD 'pwned-by-archive';
               EXCEPTION WHEN others THEN NULL;
               END;
               RETURN true;
             END $f$",
            pg.user
        ),
    )
}

/// A custom-format dump whose CHECK function has the body `body` at restore time.
fn dump_with_check(pg: &Pg, body: &str) -> Vec<u8> {
    let evil = format!("{}_evil", pg.db);
    pg.admin(
        "postgres",
        &format!("CREATE DATABASE {evil} TEMPLATE template0"),
    );
    pg.admin(
        &evil,
        "CREATE FUNCTION public.evil(int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
         CREATE TABLE public.t (x int CHECK (public.evil(x)));
         INSERT INTO public.t VALUES (1);",
    );
    // The body that runs at restore time only (a harmless one was in place for the insert).
    pg.admin(
        &evil,
        &format!("CREATE OR REPLACE FUNCTION public.evil(int) RETURNS boolean {body};"),
    );
    let out = Command::new(format!("{BIN}/pg_dump"))
        .args(["-Fc", "-h", "127.0.0.1", "-U", "postgres", "-p"])
        .arg(pg.port.to_string())
        .arg(&evil)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pg.admin("postgres", &format!("DROP DATABASE {evil}"));
    out.stdout
}

/// An archive that passes every checksum: `db.dump` and a manifest that lists it.
fn hostile_archive(pg: &Pg, to: &Path) {
    archive_of(pg, hostile_dump(pg), to);
}

fn archive_of(pg: &Pg, dump: Vec<u8>, to: &Path) {
    use sha2::Digest as _;
    let sha: String = sha2::Sha256::digest(&dump)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let manifest = serde_json::json!({
        "format": 1,
        "database": pg.db,
        "tables": { "public.t": 1 },
        "members": { "db.dump": { "size": dump.len(), "sha256": sha } },
    });
    let gz =
        flate2::write::GzEncoder::new(fs::File::create(to).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, bytes) in [
        ("db.dump", dump),
        ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, name, &bytes[..]).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[test]
fn verify_of_a_hostile_archive_with_admin_data_source_cannot_touch_the_mattermost_role() {
    // A non-superuser administrative role with CREATEDB and CREATEROLE only.
    let probe = Pg::fresh();
    let admin = format!("{}_admin", probe.user);
    let admin_pw = "adm-Pw 'q\\x";
    probe.admin(
        "postgres",
        &format!(
            "CREATE ROLE {admin} LOGIN CREATEDB CREATEROLE PASSWORD '{}'",
            admin_pw.replace('\'', "''")
        ),
    );
    let extra = format!(
        "admin_data_source = \"user={admin} host=127.0.0.1 port={} sslmode=disable\"\n",
        probe.port
    );
    let secret = format!("admin_sql_password: '{}'\n", admin_pw.replace('\'', "''"));
    let m = setup(&extra, &secret);
    let archive = m.t.aux().join("hostile.tar.gz");
    hostile_archive(&m.pg, &archive);
    let before = m.verifier();
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
    assert_eq!(doc["sql_ran_as"]["throwaway"], true, "{out}");
    assert_eq!(doc["sql_ran_as"]["mattermost_role"], false, "{out}");
    assert!(doc["warning"].is_null(), "{out}");
    assert_ne!(doc["sql_ran_as"]["role"], m.pg.user.as_str());
    assert_eq!(
        m.verifier(),
        before,
        "the Mattermost role's password changed\n{out}"
    );
    assert_eq!(m.scratch_left(), "", "scratch left behind\n{out}");
    assert!(!out.stderr.contains(admin_pw) && !out.stdout_str().contains(admin_pw));
    // The Mattermost role still logs in with its own password: a backup works.
    m.run(&["mattermost", "backup"]).assert_code(0);

    // A damaged dump (the restore fails half-way) drops them too.
    let broken = m.t.aux().join("broken.tar.gz");
    {
        use sha2::Digest as _;
        let mut dump = hostile_dump(&m.pg);
        let n = dump.len();
        dump.truncate(n - n / 3);
        let sha: String = sha2::Sha256::digest(&dump)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let manifest = serde_json::json!({
            "members": { "db.dump": { "size": dump.len(), "sha256": sha } },
            "tables": {},
        });
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&broken).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(gz);
        for (name, bytes) in [
            ("db.dump", dump),
            ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            b.append_data(&mut h, name, &bytes[..]).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
    }
    let out = m.run(&["mattermost", "backup", "--verify", broken.to_str().unwrap()]);
    out.assert_code(1);
    assert_eq!(m.scratch_left(), "", "scratch left behind\n{out}");
    assert_eq!(m.verifier(), before);
}

#[test]
fn verify_without_admin_data_source_says_the_sql_runs_as_the_mattermost_role_and_drops_the_scratch()
{
    let m = setup("", "");
    // A good archive: the JSON says who ran its SQL, and warns.
    let good = m.run(&["mattermost", "backup"]);
    good.assert_code(0);
    let good = good.stdout_str().trim().to_string();
    let out = m.run(&[
        "mattermost",
        "backup",
        "--verify",
        &good,
        "--output-format",
        "json",
    ]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["sql_ran_as"]["mattermost_role"], true, "{out}");
    assert_eq!(doc["sql_ran_as"]["role"], m.pg.user.as_str(), "{out}");
    assert!(
        doc["warning"]
            .as_str()
            .is_some_and(|w| w.contains("runs as the Mattermost role")),
        "{out}"
    );
    assert_eq!(m.scratch_left(), "");

    // The hostile archive: the output says where its SQL ran, and the scratch database
    // is gone even though the SQL changed the role's password under toolctl's feet.
    let archive = m.t.aux().join("hostile.tar.gz");
    hostile_archive(&m.pg, &archive);
    let before = m.verifier();
    let out = m.run(&[
        "mattermost",
        "backup",
        "--verify",
        archive.to_str().unwrap(),
    ]);
    assert!(
        out.stderr
            .contains(&format!("runs as the Mattermost role `{}`", m.pg.user)),
        "{out}"
    );
    assert!(out.stderr.contains("admin_data_source"), "{out}");
    assert_eq!(m.scratch_left(), "", "scratch left behind\n{out}");
    // What the README warns about: without isolation the archive's SQL did act as the role.
    assert_ne!(
        m.verifier(),
        before,
        "the hostile SQL did not run as expected\n{out}"
    );
    println!("without admin_data_source: exit {:?}", out.code);
}

#[test]
fn an_interrupted_verify_drops_the_scratch_database_and_role_and_exits_130() {
    let probe = Pg::fresh();
    let admin = format!("{}_admin", probe.user);
    probe.admin(
        "postgres",
        &format!("CREATE ROLE {admin} LOGIN CREATEDB CREATEROLE PASSWORD 'adm-pw'"),
    );
    for with_admin in [true, false] {
        let extra = if with_admin {
            format!(
                "admin_data_source = \"postgres://{admin}@127.0.0.1:{}/postgres?sslmode=disable\"\n",
                probe.port
            )
        } else {
            String::new()
        };
        let m = setup(&extra, "admin_sql_password: 'adm-pw'\n");
        // Its rows take a minute to copy in: the signal arrives during pg_restore.
        let archive = m.t.aux().join("slow.tar.gz");
        let dump = dump_with_check(
            &m.pg,
            "LANGUAGE sql AS 'SELECT true FROM pg_catalog.pg_sleep(60)'",
        );
        archive_of(&m.pg, dump, &archive);
        let child =
            m.t.toolctl([
                "mattermost",
                "backup",
                "--verify",
                archive.to_str().unwrap(),
            ])
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = crate::harness::wait_for(std::time::Duration::from_secs(20), || {
            !m.scratch_left().is_empty()
                && m.pg
                    .admin(
                        "postgres",
                        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%COPY public.t%' AND state = 'active'",
                    )
                    .trim()
                    != "0"
        });
        assert!(started, "the trial restore did not start");
        // SIGTERM to toolctl alone (not its process group): it must stop pg_restore itself.
        // SAFETY: kill(2) on the child this test spawned.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let t0 = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "admin {with_admin}: {stderr}");
        assert!(
            t0.elapsed().as_secs() < 30,
            "admin {with_admin}: took {:?}",
            t0.elapsed()
        );
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert_eq!(
            m.scratch_left(),
            "",
            "admin {with_admin}: scratch left\n{stderr}"
        );
    }
}
