//! `mattermost restore`'s file phase as real servers lay data/ out: a mount point (a real
//! `mount -t tmpfs`), a symbolic link kept as it is (to a directory, to a mount point), a
//! kill at every step, each filesystem call of the file phase failing with `EBUSY`,
//! `ENOSPC` or `EPERM` (`TOOLCTL_FAILPOINT_ERRNO`), a real full tmpfs, and an undo that
//! fails in turn. After each: the database and the files are entirely the old ones or
//! entirely the restored ones, and the next `toolctl mattermost` command finishes or undoes
//! with a clear message.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{mode, parallel_steps, Outcome, Snapshot};
use crate::mattermost::{members, setup, Mm, CONFIG, DATA};

const JOURNAL: &str = "var/opt/toolctl/mattermost-restore.json";
/// Where a linked data/ points (below the root; the link says `/srv/mm-data`).
const TARGET: &str = "srv/mm-data";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    /// data/ is an ordinary directory.
    Plain,
    /// data/ is a tmpfs mount point.
    Mount,
    /// data/ is a link to an ordinary directory.
    Link,
    /// data/ is a link to a tmpfs mount point.
    LinkToMount,
}

/// A tmpfs mounted for a test, unmounted when dropped (before the root is removed).
struct Mount(PathBuf);

impl Mount {
    fn new(dir: &Path, size: &str) -> Mount {
        fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "mount -t tmpfs {}", dir.display());
        Mount(dir.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let d = fs::metadata(dir).unwrap().dev();
    let p = fs::metadata(dir.parent().unwrap()).unwrap().dev();
    d != p
}

/// A data/ tree whose contents carry `tag`, written into `dir` (which is kept: it may be a
/// mount point).
fn fill(dir: &Path, tag: &str) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            fs::remove_dir_all(&p).unwrap();
        } else {
            fs::remove_file(&p).unwrap();
        }
    }
    fs::create_dir_all(dir.join("users/u1")).unwrap();
    fs::create_dir_all(dir.join("teams/t1/channels/c1")).unwrap();
    fs::create_dir_all(dir.join("empty")).unwrap();
    let png: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    fs::write(dir.join("users/u1/profile.png"), png).unwrap();
    fs::write(
        dir.join(format!("teams/t1/channels/c1/notes ☕ {tag}.txt")),
        format!("file {tag} 🎉\n"),
    )
    .unwrap();
    fs::write(dir.join(format!("top-{tag}.txt")), tag).unwrap();
}

/// A root laid out as `layout`, an archive of it (`restored`), then every part changed
/// (`old`).
struct Case {
    m: Mm,
    layout: Layout,
    restored: State,
    archive: PathBuf,
    old: State,
    // Dropped first: unmounted before the root is removed.
    _mount: Option<Mount>,
}

#[derive(Clone, PartialEq, Debug)]
struct State {
    rows: String,
    files: String,
}

impl Case {
    fn new(layout: Layout) -> Case {
        Case::sized(layout, "256m")
    }

    fn sized(layout: Layout, size: &str) -> Case {
        let m = setup(20);
        let data = m.t.path(DATA);
        let target = m.t.path(TARGET);
        fs::remove_dir_all(&data).unwrap();
        let mount = match layout {
            Layout::Plain => {
                fs::create_dir(&data).unwrap();
                None
            }
            Layout::Mount => Some(Mount::new(&data, size)),
            Layout::Link | Layout::LinkToMount => {
                std::os::unix::fs::symlink(format!("/{TARGET}"), &data).unwrap();
                if layout == Layout::Link {
                    fs::create_dir_all(&target).unwrap();
                    None
                } else {
                    Some(Mount::new(&target, size))
                }
            }
        };
        let mut c = Case {
            m,
            layout,
            restored: State {
                rows: String::new(),
                files: String::new(),
            },
            archive: PathBuf::new(),
            old: State {
                rows: String::new(),
                files: String::new(),
            },
            _mount: mount,
        };
        fill(&c.real_data(), "A");
        c.restored = c.state();
        c.archive = c.m.backup();
        c.m.pg.sql("INSERT INTO Posts (ChannelId, UserId, Message, CreateAt) VALUES ('c2', 'u2', 'after the backup', 9); UPDATE Users SET Email = 'new@example.com'; SELECT nextval('post_seq');");
        fs::write(
            c.m.t.path(CONFIG),
            "{\"FileSettings\": {\"DriverName\": \"local\"}, \"Tag\": \"B\"}\n",
        )
        .unwrap();
        fill(&c.real_data(), "B");
        c.old = c.state();
        c
    }

    /// The directory holding Mattermost's files.
    fn real_data(&self) -> PathBuf {
        match self.layout {
            Layout::Plain | Layout::Mount => self.m.t.path(DATA),
            Layout::Link | Layout::LinkToMount => self.m.t.path(TARGET),
        }
    }

    /// What a user would check: the rows, config.json, the link (kept), every file.
    fn state(&self) -> State {
        let rows = if self.m.pg.db_exists(&self.m.pg.db) {
            self.m.pg.contents(&self.m.pg.db)
        } else {
            "<no database>".into()
        };
        let mut files = String::new();
        let dirs = [
            self.m.t.path("var/opt/toolctl/rendered/mattermost"),
            self.m.t.path("srv"),
        ];
        for d in dirs.iter().filter(|d| d.exists()) {
            for (p, n) in Snapshot::of(d).0 {
                // A staging directory left on purpose (its path is in the hint) is not a
                // file of Mattermost's; `assert_clean` looks for them.
                if p.to_string_lossy().contains(".toolctl-restore-") {
                    continue;
                }
                files.push_str(&format!("{} {n}\n", p.display()));
            }
        }
        State { rows, files }
    }

    fn restore(&self, env: &[(&str, &str)]) -> Outcome {
        let mut cmd = self.m.t.toolctl([
            "mattermost",
            "restore",
            self.archive.to_str().unwrap(),
            "--yes",
        ]);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    /// The next command: a backup, which finishes or undoes what is pending first.
    fn next(&self) -> Outcome {
        let out = self.m.run(&[
            "mattermost",
            "backup",
            "--output",
            self.m.t.aux().join("b").to_str().unwrap(),
        ]);
        out.assert_code(0);
        let archive = PathBuf::from(out.stdout_str().trim());
        assert!(
            !members(&archive)
                .iter()
                .any(|(n, ..)| n.contains(".toolctl-restore")),
            "a staging directory was archived\n{out}"
        );
        out
    }

    /// Entirely old (`true`) or entirely restored (`false`), else a failure naming `what`.
    fn old_or_restored(&self, what: &dyn std::fmt::Display) -> bool {
        let now = self.state();
        if now.rows == self.old.rows {
            assert_eq!(
                now.files, self.old.files,
                "{what}: old rows with other files"
            );
            true
        } else {
            assert_eq!(
                now.rows, self.restored.rows,
                "{what}: rows neither old nor restored"
            );
            assert_eq!(
                now.files, self.restored.files,
                "{what}: restored rows with other files"
            );
            false
        }
    }

    /// Nothing of the restore is left: no journal, staging directory or staging database;
    /// the layout itself is kept.
    fn assert_clean(&self, what: &dyn std::fmt::Display) {
        assert!(!self.m.t.path(JOURNAL).exists(), "{what}: journal left");
        for d in [
            self.m.t.path("var/opt/toolctl/rendered/mattermost"),
            self.real_data(),
            self.m.t.path("srv"),
        ] {
            let Ok(rd) = fs::read_dir(&d) else { continue };
            let left: Vec<_> = rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".toolctl-restore") || n.starts_with(".config.json"))
                .collect();
            assert!(left.is_empty(), "{what}: left in {}: {left:?}", d.display());
        }
        let dbs = self.m.pg.databases();
        assert!(
            !dbs.iter().any(|d| d.contains("_toolctl_restore_")),
            "{what}: {dbs:?}"
        );
        for d in dbs.iter().filter(|d| d.contains("_before_restore_")) {
            self.m
                .pg
                .admin("postgres", &format!("DROP DATABASE \"{d}\""));
        }
        self.assert_layout(what);
    }

    fn assert_layout(&self, what: &dyn std::fmt::Display) {
        let data = self.m.t.path(DATA);
        match self.layout {
            Layout::Plain => assert!(data.is_dir() && !data.is_symlink(), "{what}"),
            Layout::Mount => assert!(
                is_mount_point(&data),
                "{what}: data/ no longer a mount point"
            ),
            Layout::Link | Layout::LinkToMount => {
                assert_eq!(
                    fs::read_link(&data).ok(),
                    Some(PathBuf::from(format!("/{TARGET}"))),
                    "{what}: the link was not kept"
                );
                if self.layout == Layout::LinkToMount {
                    assert!(
                        is_mount_point(&self.real_data()),
                        "{what}: target no longer a mount point"
                    );
                }
            }
        }
    }
}

#[test]
fn restore_into_a_mount_point_or_through_a_link_keeps_the_layout_and_brings_back_every_file() {
    let layouts = [
        Layout::Mount,
        Layout::Link,
        Layout::LinkToMount,
        Layout::Plain,
    ];
    parallel_steps(&layouts, |&layout| {
        let c = Case::new(layout);
        let out = c.restore(&[]);
        out.assert_code(0);
        assert_eq!(c.state(), c.restored, "{layout:?}\n{out}");
        c.assert_clean(&format!("{layout:?}\n{out}"));
        // A second restore over the restored state, and the next command has nothing to do.
        c.restore(&[]).assert_code(0);
        assert_eq!(c.state(), c.restored, "{layout:?}");
        let out = c.next();
        assert!(!out.stderr.contains("interrupted"), "{out}");
    });
}

/// The failpoints a restore of `c` reaches, in order, once each.
fn points(c: &Case, prefix: &str) -> Vec<String> {
    let log = c.m.t.aux().join("fp.log");
    let _ = fs::remove_file(&log);
    let out = c.restore(&[("TOOLCTL_FAILPOINT_LOG", log.to_str().unwrap())]);
    out.assert_code(0);
    let mut seen = Vec::new();
    for l in fs::read_to_string(&log).unwrap_or_default().lines() {
        if l.starts_with(prefix) && !seen.iter().any(|s| s == l) {
            seen.push(l.to_string());
        }
    }
    seen
}

#[test]
fn a_kill_at_every_step_with_a_mounted_or_linked_data_dir_leaves_the_old_state_or_the_restored_one()
{
    for layout in [Layout::Mount, Layout::LinkToMount] {
        let steps = points(&Case::new(layout), "mattermost-restore-");
        assert!(steps.len() >= 10, "{steps:?}");
        let outcomes = parallel_steps(&steps, |p| {
            let c = Case::new(layout);
            let out = c.restore(&[("TOOLCTL_FAILPOINT", p)]);
            assert_eq!(out.code, None, "{layout:?} {p}: not killed\n{out}");
            let out = c.next();
            let what = format!("{layout:?} killed at {p}\n{out}");
            let old = c.old_or_restored(&what);
            if out.stderr.contains("interrupted restore") {
                assert!(
                    out.stderr.contains("rolled back") || out.stderr.contains("completed"),
                    "{what}"
                );
            }
            c.assert_clean(&what);
            old
        });
        let old = outcomes.iter().filter(|o| **o).count();
        println!(
            "{layout:?}: killed at {} steps: {old} old, {} restored",
            steps.len(),
            steps.len() - old
        );
        assert!(old > 0 && old < steps.len());
    }
}

#[test]
fn each_file_step_failing_with_ebusy_enospc_or_eperm_leaves_the_old_state_or_the_restored_one() {
    let mut cases = Vec::new();
    for layout in [Layout::Mount, Layout::Plain] {
        for p in points(&Case::new(layout), "mattermost-restore-fs-") {
            for errno in ["EBUSY", "ENOSPC", "EPERM"] {
                cases.push((layout, p.clone(), errno));
            }
        }
    }
    assert!(cases.len() >= 24, "{cases:?}");
    let outcomes = parallel_steps(&cases, |(layout, p, errno)| {
        let c = Case::new(*layout);
        let out = c.restore(&[("TOOLCTL_FAILPOINT_ERRNO", &format!("{p}:{errno}"))]);
        let what = format!("{layout:?} {errno} at {p}\n{out}");
        out.assert_code(2);
        assert!(out.stderr.contains("hint:"), "{what}");
        assert!(!out.stderr.contains("restore another archive"), "{what}");
        let old = c.old_or_restored(&what);
        if p.ends_with("-probe") {
            assert!(old && out.stderr.contains("nothing was changed"), "{what}");
        } else if p.ends_with("-cleanup") {
            assert!(!old && out.stderr.contains("restore is complete"), "{what}");
        } else {
            assert!(
                old && out.stderr.contains("the restore was undone"),
                "{what}"
            );
        }
        // The next command has nothing left to finish: the state stays as it is.
        let before = c.state();
        let next = c.next();
        assert!(!next.stderr.contains("interrupted"), "{what}\n{next}");
        if p.ends_with("-cleanup") {
            // The previous data/ the hint names, removed as it says.
            for d in [c.real_data(), c.real_data().parent().unwrap().to_path_buf()] {
                for e in fs::read_dir(&d).unwrap() {
                    let e = e.unwrap();
                    if e.file_name()
                        .to_string_lossy()
                        .starts_with(".toolctl-restore-")
                    {
                        fs::remove_dir_all(e.path()).unwrap();
                    }
                }
            }
        }
        assert_eq!(c.state(), before, "{what}");
        c.assert_clean(&what);
        old
    });
    println!(
        "errno injected at {} file steps: {} left the old state, {} the restored one",
        cases.len(),
        outcomes.iter().filter(|o| **o).count(),
        outcomes.iter().filter(|o| !**o).count()
    );
}

#[test]
fn an_undo_that_fails_in_turn_is_finished_by_the_next_command() {
    let c = Case::new(Layout::Mount);
    let out = c.restore(&[(
        "TOOLCTL_FAILPOINT_ERRNO",
        "mattermost-restore-fs-in:EBUSY,mattermost-restore-fs-undo-old:EPERM",
    )]);
    out.assert_error(
        "cannot undo the restore",
        &["run any `toolctl mattermost` command to continue undoing"],
    );
    assert!(c.m.t.path(JOURNAL).exists(), "{out}");
    let out = c.next();
    assert!(out.stderr.contains("undid an interrupted restore"), "{out}");
    assert!(c.old_or_restored(&out));
    c.assert_clean(&out);
    // Then the restore itself works.
    c.restore(&[]).assert_code(0);
    assert_eq!(c.state(), c.restored);
}

#[test]
fn a_full_mounted_data_dir_is_refused_before_anything_changes_with_a_free_space_hint() {
    let c = Case::sized(Layout::Mount, "2m");
    let out = c.restore(&[]);
    out.assert_error("does not fit", &["free space"]);
    assert!(!out.stderr.contains("restore another archive"), "{out}");
    assert!(c.old_or_restored(&out));
    c.assert_clean(&out);
}

#[test]
fn a_link_to_another_users_directory_is_refused_and_a_root_made_one_is_followed() {
    use std::os::unix::fs::MetadataExt;
    let c = Case::new(Layout::Link);
    // The link's directory is the Mattermost user's (65534); the target is root's.
    let parent = c.m.t.path(DATA).parent().unwrap().to_path_buf();
    std::os::unix::fs::chown(&parent, Some(65534), Some(65534)).unwrap();
    let snap = c.state();
    let out = c.restore(&[]);
    out.assert_error(
        "symbolic link",
        &["mattermost.data_dir", "nothing was changed"],
    );
    assert_eq!(c.state(), snap, "{out}");
    // The target given to that user: followed (that user could replace its contents).
    std::os::unix::fs::chown(c.real_data(), Some(65534), Some(65534)).unwrap();
    let out = c.restore(&[]);
    out.assert_code(0);
    assert_eq!(fs::metadata(c.real_data()).unwrap().uid(), 65534, "{out}");
    // And the restored files are that user's: uid/gid default to data/'s owner.
    let png = c.real_data().join("users/u1/profile.png");
    assert_eq!(fs::metadata(png).unwrap().uid(), 65534, "{out}");
    assert_eq!(mode(&c.real_data()) & 0o777, 0o755);
}

/// [`setup`]'s settings without `data_dir`, plus `extra` in `[mattermost]`.
fn settings_without_data_dir(m: &Mm, extra: &str) -> String {
    crate::mattermost::settings(&m.pg, "http://127.0.0.1:9", &m.pg.data_source())
        .replace(&format!("data_dir = \"/{DATA}\"\n"), "")
        + extra
}

#[test]
fn a_relative_directory_is_read_against_working_dir_and_the_source_is_named() {
    let m = setup(1);
    // MM_FILESETTINGS_DIRECTORY as rendered wins over config.json's Directory (`./data/`,
    // which would be the rendered tree's data/).
    let wd = m.t.path("srv/mattermost");
    fill(
        &{
            fs::create_dir_all(wd.join("files")).unwrap();
            wd.join("files")
        },
        "W",
    );
    m.t.write_settings(&settings_without_data_dir(
        &m,
        "working_dir = \"/srv/mattermost\"\nenv = { MM_FILESETTINGS_DIRECTORY = \"./files/\" }\n",
    ));
    let out = m.run(&["mattermost", "backup"]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("data directory `/srv/mattermost/files`, from MM_FILESETTINGS_DIRECTORY"),
        "{out}"
    );
    let archive = PathBuf::from(out.stdout_str().trim());
    let manifest = crate::mattermost::manifest_of(&archive);
    assert_eq!(
        manifest["data"]["directory"], "/srv/mattermost/files",
        "{manifest}"
    );
    assert_eq!(
        manifest["data"]["source"],
        "MM_FILESETTINGS_DIRECTORY in [mattermost] env"
    );
    assert!(members(&archive)
        .iter()
        .any(|(n, ..)| n == "data/top-W.txt"));
}

#[test]
fn local_files_without_their_directory_are_an_error_not_an_archive_without_data() {
    let m = setup(1);
    // Nothing names the directory: config.json's `./data/` is read against the default
    // working directory, /opt/mattermost, which does not exist below this root.
    m.t.write_settings(&settings_without_data_dir(&m, ""));
    let snap = m.t.snapshot();
    let out = m.run(&["mattermost", "backup"]);
    out.assert_error(
        "Mattermost's data directory `/opt/mattermost/data` (from FileSettings.Directory in config.json) does not exist",
        &["mattermost.data_dir", "mattermost.working_dir", "no archive was written"],
    );
    snap.assert_unchanged(&m.t.snapshot(), &out);
    assert!(
        !m.t.path("var/opt/toolctl/backups").exists()
            || fs::read_dir(m.t.path("var/opt/toolctl/backups"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn a_relative_working_dir_is_refused() {
    let m = setup(1);
    m.t.write_settings(&settings_without_data_dir(
        &m,
        "working_dir = \"opt/mattermost\"\n",
    ));
    m.run(&["mattermost", "backup"]).assert_error(
        "`mattermost.working_dir` is `opt/mattermost`, a relative path",
        &["/opt/mattermost"],
    );
}

#[test]
fn reconfigure_creates_config_json_owned_by_the_mattermost_user() {
    use std::os::unix::fs::MetadataExt;
    let base = "external_url = \"https://gitlab.example.com\"\n\n[mattermost]\nexternal_url = \"https://chat.example.com\"\nsql_data_source = \"host=127.0.0.1 dbname=mm user=mm\"\ndata_dir = \"/srv/mm-data\"\n";
    let config = "var/opt/toolctl/rendered/mattermost/config.json";
    // uid/gid set.
    let t = crate::harness::TestRoot::builder()
        .settings(format!("{base}uid = 65534\ngid = 65533\n"))
        .build();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let meta = fs::metadata(t.path(config)).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (65534, 65533, 0o600)
    );
    // Derived from the data directory's owner.
    let t = crate::harness::TestRoot::builder().settings(base).build();
    fs::create_dir_all(t.path(TARGET)).unwrap();
    std::os::unix::fs::chown(t.path(TARGET), Some(65534), Some(65534)).unwrap();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let meta = fs::metadata(t.path(config)).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    // Unknown: root's, as before.
    let t = crate::harness::TestRoot::builder().settings(base).build();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert_eq!(fs::metadata(t.path(config)).unwrap().uid(), 0);
}

#[test]
fn an_immutable_entry_or_a_nested_mount_in_data_is_refused_before_the_database_is_touched() {
    let c = Case::new(Layout::Mount);
    // An immutable top-level entry of the mounted data/ (`chattr +i`).
    let top = c.real_data().join("top-B.txt");
    let chattr = |flag: &str| {
        assert!(Command::new("chattr")
            .arg(flag)
            .arg(&top)
            .status()
            .unwrap()
            .success());
    };
    chattr("+i");
    let out = c.restore(&[]);
    chattr("-i");
    out.assert_error(
        "cannot be replaced: it is immutable or append-only",
        &["chattr -i -a", "nothing was changed"],
    );
    assert!(c.old_or_restored(&out), "{out}");
    c.assert_clean(&out);
    // A mount point inside it.
    let inner = Mount::new(&c.real_data().join("users"), "1m");
    let out = c.restore(&[]);
    out.assert_error(
        "cannot be replaced: it is a mount point",
        &["unmount it", "nothing was changed"],
    );
    c.assert_clean(&out);
    drop(inner);
    // config.json bind-mounted over (as a container would): the same refusal.
    let cfg = c.m.t.path(CONFIG);
    let src = c.m.t.aux().join("config.json");
    fs::copy(&cfg, &src).unwrap();
    assert!(Command::new("mount")
        .arg("--bind")
        .arg(&src)
        .arg(&cfg)
        .status()
        .unwrap()
        .success());
    let bind = Mount(cfg.clone());
    let out = c.restore(&[]);
    out.assert_error(
        "cannot be replaced: it is a mount point",
        &["nothing was changed"],
    );
    c.assert_clean(&out);
    drop(bind);
    c.restore(&[]).assert_code(0);
    assert_eq!(c.state(), c.restored);
}

#[test]
fn a_mount_inside_an_ordinary_data_dir_is_refused_before_the_database_is_touched() {
    let c = Case::new(Layout::Plain);
    let inner = Mount::new(&c.real_data().join("users"), "1m");
    fs::write(c.real_data().join("users/on-the-volume.txt"), "kept").unwrap();
    let out = c.restore(&[]);
    out.assert_error(
        "cannot be replaced: it is a mount point",
        &["unmount it", "nothing was changed"],
    );
    assert!(
        c.m.t.path(DATA).join("users/on-the-volume.txt").is_file(),
        "{out}"
    );
    c.assert_clean(&out);
    drop(inner);
}

#[test]
fn an_undo_blocked_by_a_session_on_the_restored_database_says_so_and_the_next_command_finishes_it()
{
    let c = Case::new(Layout::Mount);
    let resume = c.m.t.aux().join("resume");
    let out = std::thread::scope(|s| {
        let run = s.spawn(|| {
            c.restore(&[
                ("TOOLCTL_FAILPOINT_PAUSE", "mattermost-restore-switched"),
                ("TOOLCTL_FAILPOINT_RESUME", resume.to_str().unwrap()),
                ("TOOLCTL_FAILPOINT_ERRNO", "mattermost-restore-fs-in:EBUSY"),
            ])
        });
        // The switch committed: Mattermost (a stand-in) reconnects to the restored database.
        assert!(crate::harness::wait_for(
            std::time::Duration::from_secs(60),
            || {
                c.m.pg
                    .databases()
                    .iter()
                    .any(|d| d.contains("_before_restore_"))
            }
        ));
        let client = Command::new(format!("{}/psql", crate::postgres::BIN))
            .args(["-X", "-h", "127.0.0.1", "-p", &c.m.pg.port.to_string()])
            .args([
                "-U",
                &c.m.pg.user,
                "-d",
                &c.m.pg.db,
                "-c",
                "SELECT pg_sleep(60)",
            ])
            .env("PGPASSWORD", &c.m.pg.password)
            .env("PGAPPNAME", "mattermost-stand-in")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(crate::harness::wait_for(
            std::time::Duration::from_secs(10),
            || {
                c.m.pg.admin("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mattermost-stand-in'").trim() == "1"
            }
        ));
        fs::write(&resume, "").unwrap();
        let out = run.join().unwrap();
        (out, client)
    });
    let (out, mut client) = out;
    out.assert_error(
        "cannot undo the restore",
        &["stop Mattermost", "run any `toolctl mattermost` command"],
    );
    assert!(
        out.stderr.contains("mattermost-stand-in") && out.stderr.contains("busy"),
        "{out}"
    );
    // Mattermost stopped.
    c.m.pg.admin("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mattermost-stand-in'");
    let _ = client.kill();
    let _ = client.wait();
    assert!(crate::harness::wait_for(
        std::time::Duration::from_secs(10),
        || {
            c.m.pg.admin("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mattermost-stand-in'").trim() == "0"
        }
    ));
    let out = c.next();
    assert!(out.stderr.contains("undid an interrupted restore"), "{out}");
    assert!(c.old_or_restored(&out));
    c.assert_clean(&out);
}
