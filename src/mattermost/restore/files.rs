//! The file phase of `mattermost restore`: where data/'s contents live and how they are
//! replaced, the checks made before the database is touched, the steps after the commit
//! point, and undoing them when they cannot be finished.
//!
//! data/ is replaced in one of two ways (the journal's `layout`):
//!
//! - `whole`: data/ is an ordinary directory: it is renamed as a whole into the staging
//!   directory beside it (`old-data`) and the staged one renamed in;
//! - `contents`: data/ is the root of a mount (a volume for uploads): it cannot be renamed
//!   (`EBUSY`), so the staging directory is made inside it, on the same filesystem, and
//!   its entries move one by one: the live ones into `old-data`, then the staged ones in.
//!
//! A symbolic link data/ is kept: the directory it points to is replaced (in one of the
//! two ways), and the staging directory goes beside that directory or inside it, on its
//! filesystem. The link is followed only where root decided it (its directory is root's
//! alone) or where it points to a directory of the user who could have written it.
//!
//! Every step records its end in the journal before the next begins (`staged` → `aside` →
//! `placed`), so a rerun knows which entries are old and which new. When a step after the
//! commit point fails, the restore is undone (`undo` → `undo-old` → `undo-db`): the new
//! entries go back into the staging directory, the old ones back into data/, and the
//! databases are renamed back.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

use super::{
    db_exists, ident, io_err, journal_path, open_staging, open_trusted, rmdir_staging_name,
    sessions, write_journal, Journal, RestoreError, Result, OLD_DATA,
};
use crate::failpoint::{fail, hit};
use crate::mattermost::Target;
use crate::sys::fs::{DirHandle, Kind};

/// The staged data/ inside the staging directory.
const NEW_DATA: &str = "data";
/// The renameability probe, inside the staging directory.
const PROBE: &str = "probe";

/// A filesystem call of the file phase, behind its failpoint (`TOOLCTL_FAILPOINT_ERRNO`).
fn op<T>(point: &'static str, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    fail(point)?;
    f()
}

/// Where data/'s contents are, and how they are replaced.
pub(super) struct Layout {
    /// The directory holding data/ (for a link: holding the link's target).
    pub parent: PathBuf,
    pub name: OsString,
    /// data/ (or the link's target) is the root of a mount.
    pub contents: bool,
    /// The link the settings name, when data/ is one.
    pub link: Option<PathBuf>,
    pub existed: bool,
    /// Its owner and mode, read on its descriptor.
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
}

/// Decides how data/ is replaced: an ordinary directory, a mount point, a link (followed
/// once, to a directory).
pub(super) fn locate(t: &Target) -> Result<Layout> {
    let parent_path = t
        .data_dir
        .parent()
        .map_or(t.root.clone(), Path::to_path_buf);
    let name = t
        .data_dir
        .file_name()
        .map_or_else(|| OsString::from("data"), OsStr::to_os_string);
    let parent = open_trusted(t, &parent_path)?;
    let st = parent
        .lstat(&name)
        .map_err(io_err("inspect", &t.data_dir))?;
    let Some(st) = st else {
        return Ok(Layout {
            parent: parent_path,
            name,
            contents: false,
            link: None,
            existed: false,
            owner: None,
            mode: None,
        });
    };
    match st.kind {
        Kind::Dir => {
            let dir = parent
                .open_dir(&name)
                .map_err(io_err("open", &t.data_dir))?;
            let contents = parent
                .is_mount_below(&dir)
                .map_err(io_err("inspect", &t.data_dir))?;
            let st = dir.stat_self().map_err(io_err("inspect", &t.data_dir))?;
            Ok(Layout {
                parent: parent_path,
                name,
                contents,
                link: None,
                existed: true,
                owner: Some((st.uid, st.gid)),
                mode: Some(st.mode),
            })
        }
        Kind::Symlink => follow(t, &parent, &parent_path, &name),
        _ => Err(RestoreError::LinkTarget {
            link: t.data_dir.clone(),
            target: t.data_dir.clone(),
            why: "is not a directory",
        }),
    }
}

/// The directory a symbolic link data/ points to, when toolctl may replace its contents.
fn follow(t: &Target, parent: &DirHandle, parent_path: &Path, name: &OsStr) -> Result<Layout> {
    let link = parent_path.join(name);
    let text = parent.read_link(name).map_err(io_err("read", &link))?;
    let text = Path::new(&text);
    let base = if text.is_absolute() {
        t.root.clone()
    } else {
        parent_path.to_path_buf()
    };
    let mut target = base;
    for c in text.components() {
        match c {
            std::path::Component::Normal(p) => target.push(p),
            std::path::Component::ParentDir if target != t.root => {
                target.pop();
            }
            _ => {}
        }
    }
    let bad = |why: &'static str| RestoreError::LinkTarget {
        link: link.clone(),
        target: target.clone(),
        why,
    };
    let (Some(tparent_path), Some(tname)) = (target.parent(), target.file_name()) else {
        return Err(bad("is the root directory"));
    };
    if std::fs::symlink_metadata(tparent_path).is_err() {
        return Err(bad("does not exist"));
    }
    let tparent = open_trusted(t, tparent_path)?;
    let st = tparent.lstat(tname).map_err(io_err("inspect", &target))?;
    match st.map(|s| s.kind) {
        None => return Err(bad("does not exist")),
        Some(Kind::Dir) => {}
        Some(Kind::Symlink) => return Err(bad("is a symbolic link too")),
        Some(_) => return Err(bad("is not a directory")),
    }
    let dir = tparent.open_dir(tname).map_err(io_err("open", &target))?;
    // Root's decision (the link's directory is root's alone), or a directory of the user
    // who could have made the link.
    let lp = parent.stat_self().map_err(io_err("inspect", parent_path))?;
    let ds = dir.stat_self().map_err(io_err("inspect", &target))?;
    let roots = lp.uid == 0 && lp.mode & 0o022 == 0;
    if !roots && ds.uid != lp.uid {
        return Err(RestoreError::LinkUntrusted {
            link,
            target,
            link_owner: lp.uid,
            target_owner: ds.uid,
        });
    }
    let contents = tparent
        .is_mount_below(&dir)
        .map_err(io_err("inspect", &target))?;
    Ok(Layout {
        parent: tparent_path.to_path_buf(),
        name: tname.to_os_string(),
        contents,
        link: Some(link),
        existed: true,
        owner: Some((ds.uid, ds.gid)),
        mode: Some(ds.mode),
    })
}

/// What stands in the way of renaming `name` in `dir`: a mount point, an immutable or
/// append-only entry.
fn immovable(dir: &DirHandle, name: &OsStr, path: &Path) -> Result<()> {
    let here = dir
        .placement_self()
        .map_err(io_err("inspect", path.parent().unwrap_or(path)))?;
    let p = dir.placement_at(name).map_err(io_err("inspect", path))?;
    let why = if p.mount != here.mount || p.mount_root == Some(true) {
        "it is a mount point"
    } else if p.immutable || p.append_only {
        "it is immutable or append-only (`lsattr`)"
    } else {
        return Ok(());
    };
    Err(RestoreError::Immovable {
        path: path.to_path_buf(),
        why,
    })
}

/// Checks, before the database is touched, everything the file steps need: config.json and
/// every entry that will move can be renamed (no mount point, no immutable or append-only
/// attribute), and a probe directory renames out of the staging directory and back.
pub(super) fn check(t: &Target, j: &Journal, home: &DirHandle, staging: &DirHandle) -> Result<()> {
    let cdir = open_trusted(t, &j.config_dir)?;
    let config = j.config_dir.join(&j.config_name);
    let cself = cdir
        .placement_self()
        .map_err(io_err("inspect", &j.config_dir))?;
    if cself.immutable || cself.append_only {
        return Err(RestoreError::Immovable {
            path: j.config_dir.clone(),
            why: "it is immutable or append-only (`lsattr`)",
        });
    }
    if cdir
        .lstat(&j.config_name)
        .map_err(io_err("inspect", &config))?
        .is_some()
    {
        immovable(&cdir, &j.config_name, &config)?;
    }
    let staged_data = staging
        .lstat(OsStr::new(NEW_DATA))
        .map_err(io_err("inspect", &j.staging_path()))?
        .is_some();
    if !staged_data {
        return Ok(());
    }
    let hself = home
        .placement_self()
        .map_err(io_err("inspect", &j.home()))?;
    if hself.immutable || hself.append_only {
        return Err(RestoreError::Immovable {
            path: j.home(),
            why: "it is immutable or append-only (`lsattr`)",
        });
    }
    if j.contents() {
        for n in home.names().map_err(io_err("list", &j.home()))? {
            if n != j.staging {
                immovable(home, &n, &j.home().join(&n))?;
            }
        }
    } else if home
        .lstat(&j.data_name)
        .map_err(io_err("inspect", &j.data_path()))?
        .is_some()
    {
        immovable(home, &j.data_name, &j.data_path())?;
        // A mount inside data/ would leave with the old data/ (and its files be removed
        // with it): refused too.
        let data = home
            .open_dir(&j.data_name)
            .map_err(io_err("open", &j.data_path()))?;
        let here = data
            .placement_self()
            .map_err(io_err("inspect", &j.data_path()))?;
        for n in data.names().map_err(io_err("list", &j.data_path()))? {
            let path = j.data_path().join(&n);
            let p = data.placement_at(&n).map_err(io_err("inspect", &path))?;
            if p.mount != here.mount || p.mount_root == Some(true) {
                return Err(RestoreError::Immovable {
                    path,
                    why: "it is a mount point",
                });
            }
        }
    }
    // A directory renamed where the live entries go and back: what the kernel (a security
    // module, a read-only bind) would refuse shows here, before the database.
    let probe = OsStr::new(PROBE);
    let there = super::probe_name(j);
    let at = j.home().join(&there);
    let probe_path = j.staging_path().join(PROBE);
    staging
        .mkdir(probe, 0o700)
        .map_err(io_err("create", &probe_path))?;
    let id = staging
        .ident_at(probe)
        .map_err(io_err("inspect", &probe_path))?;
    op("mattermost-restore-fs-probe", || {
        staging.rename_into(probe, home, &there, true)
    })
    .map_err(|source| RestoreError::NotRenameable {
        path: at.clone(),
        source,
    })?;
    hit("mattermost-restore-probe-out");
    home.rename_into(&there, staging, probe, true)
        .map_err(|source| RestoreError::NotRenameable {
            path: at.clone(),
            source,
        })?;
    // The name is in a directory another user may change: what came back must be the
    // probe, else theirs goes back where it was and ours stays wherever they put it.
    if staging
        .ident_at(probe)
        .map_err(io_err("inspect", &probe_path))?
        != id
    {
        let _ = staging.rename_into(probe, home, &there, true);
        return Err(RestoreError::Exchanged { dir: j.home() });
    }
    staging
        .rmdir(probe)
        .map_err(io_err("remove", &probe_path))?;
    Ok(())
}

/// Moves the live data/ aside into the staging directory (`old-data`). `whole`: one
/// rename (a missing data/ leaves an empty `old-data`, the mark that this step ran);
/// `contents`: every entry but the staging directory, one by one.
fn move_aside(j: &Journal, home: &DirHandle, staging: &DirHandle) -> Result<()> {
    let old = OsStr::new(OLD_DATA);
    let old_path = j.staging_path().join(OLD_DATA);
    // An archive without data/ leaves the live one as it is.
    if staging
        .lstat(OsStr::new(NEW_DATA))
        .map_err(io_err("inspect", &j.staging_path()))?
        .is_none()
    {
        return Ok(());
    }
    if j.contents() {
        let dest = match staging.open_dir(old) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                op("mattermost-restore-fs-aside-mkdir", || {
                    staging.mkdir(old, 0o700)
                })
                .map_err(io_err("create", &old_path))?;
                staging.open_dir(old).map_err(io_err("open", &old_path))?
            }
            Err(e) => return Err(io_err("open", &old_path)(e)),
        };
        for n in home.names().map_err(io_err("list", &j.home()))? {
            if n == j.staging {
                continue;
            }
            op("mattermost-restore-fs-aside", || {
                home.rename_into(&n, &dest, &n, true)
            })
            .map_err(io_err("move aside", &j.home().join(&n)))?;
        }
        return Ok(());
    }
    if staging
        .lstat(old)
        .map_err(io_err("inspect", &old_path))?
        .is_some()
    {
        return Ok(());
    }
    let exists = home
        .lstat(&j.data_name)
        .map_err(io_err("inspect", &j.data_path()))?
        .is_some();
    if exists {
        op("mattermost-restore-fs-aside", || {
            home.rename_into(&j.data_name, staging, old, true)
        })
        .map_err(io_err("move aside", &j.data_path()))?;
    } else {
        op("mattermost-restore-fs-aside-mkdir", || {
            staging.mkdir(old, 0o700)
        })
        .map_err(io_err("create", &old_path))?;
    }
    Ok(())
}

/// Moves the staged data/ in (never over an existing name).
fn move_in(j: &Journal, home: &DirHandle, staging: &DirHandle) -> Result<()> {
    let new = OsStr::new(NEW_DATA);
    let new_path = j.staging_path().join(NEW_DATA);
    if staging
        .lstat(new)
        .map_err(io_err("inspect", &new_path))?
        .is_none()
    {
        return Ok(());
    }
    let recreated = |source| RestoreError::DataRecreated {
        data_path: j.data_path(),
        source,
    };
    if j.contents() {
        let src = staging.open_dir(new).map_err(io_err("open", &new_path))?;
        for n in src.names().map_err(io_err("list", &new_path))? {
            op("mattermost-restore-fs-in", || {
                src.rename_into(&n, home, &n, true)
            })
            .map_err(recreated)?;
        }
        // The staged data/'s own mode and owner become data/'s.
        let st = src.stat_self().map_err(io_err("inspect", &new_path))?;
        home.set_self(st.mode, Some((st.uid, st.gid)))
            .map_err(io_err("set the mode of", &j.home()))?;
        return Ok(());
    }
    op("mattermost-restore-fs-in", || {
        staging.rename_into(new, home, &j.data_name, true)
    })
    .map_err(recreated)
}

/// The file steps after the commit point; each records its end in the journal, so a rerun
/// knows what is old and what new. `Ok(false)`: nothing left to do (the cleanup's last
/// step had run).
pub(super) fn finish(t: &Target, j: &Journal, held: Option<DirHandle>) -> Result<()> {
    let home = open_trusted(t, &j.home())?;
    let staging = match held {
        Some(h) => h,
        None => match open_staging(&home, &j.staging)? {
            Some(h) => h,
            // Everything was done but the cleanup's last step.
            None => return Ok(()),
        },
    };
    let mut j = j.clone();
    if j.phase == "staged" {
        move_aside(&j, &home, &staging)?;
        j.phase = "aside".into();
        write_journal(t, &j)?;
    }
    hit("mattermost-restore-data-aside");
    if j.phase == "aside" {
        move_in(&j, &home, &staging)?;
        hit("mattermost-restore-data-in");
        config_in(t, &j, &staging)?;
        j.phase = "placed".into();
        write_journal(t, &j)?;
    }
    hit("mattermost-restore-config-in");
    cleanup(&j, &home, staging).map_err(|e| RestoreError::CleanupFailed {
        staging: j.staging_path(),
        source: Box::new(e),
    })
}

/// The staged config.json replaces the live one, with the live file's owner and mode
/// (else the archive's mode and the Mattermost user).
fn config_in(t: &Target, j: &Journal, staging: &DirHandle) -> Result<()> {
    let config = OsStr::new("config.json");
    let staged_path = j.staging_path().join("config.json");
    let Some(bytes) = staging
        .read_capped(config, crate::fsutil::SETTINGS_CAP)
        .map_err(|f| f.into_error("the staged config.json", &staged_path))?
    else {
        return Ok(());
    };
    let dir = open_trusted(t, &j.config_dir)?;
    let live = dir
        .lstat(&j.config_name)
        .map_err(io_err("inspect", &j.config_dir.join(&j.config_name)))?
        .filter(|st| st.kind == Kind::File);
    let (mode, owner) = match live {
        Some(st) => (st.mode & 0o777, Some((st.uid, st.gid))),
        None => (
            staging
                .lstat(config)
                .map_err(io_err("inspect", &staged_path))?
                .map_or(0o600, |st| st.mode & 0o777),
            t.restore_owner(j.data_owner),
        ),
    };
    super::put_config(j, &dir, &bytes, mode, owner)?;
    dir.sync()
        .map_err(io_err("sync directory", &j.config_dir))?;
    staging
        .unlink(config)
        .map_err(io_err("remove", &staged_path))?;
    Ok(())
}

/// Removes the staging directory (the old data/ with it) through its descriptor.
fn cleanup(j: &Journal, home: &DirHandle, staging: DirHandle) -> Result<()> {
    home.sync_fs().map_err(io_err("sync", &j.home()))?;
    for n in staging.names().map_err(io_err("list", &j.staging_path()))? {
        op("mattermost-restore-fs-cleanup", || staging.remove_tree(&n))
            .map_err(io_err("remove", &j.staging_path().join(&n)))?;
    }
    let id = staging
        .ident_self()
        .map_err(io_err("inspect", &j.staging_path()))?;
    rmdir_staging_name(home, &j.staging, id)?;
    home.sync().map_err(io_err("sync directory", &j.home()))?;
    hit("mattermost-restore-cleaned");
    Ok(())
}

/// Undoes a restore whose file steps cannot be finished after the commit point: the new
/// entries back into the staging directory, the old ones back into data/, the databases
/// renamed back and the restored one dropped. Reads the journal, records each step's end;
/// a rerun continues where it stopped.
pub(super) fn undo(t: &Target) -> Result<()> {
    let path = journal_path(t);
    let bytes =
        crate::fsutil::read_optional_capped(&path, crate::fsutil::KEY_CAP, "the restore journal")?
            .ok_or_else(|| RestoreError::JournalDamaged { path: path.clone() })?;
    let mut j = Journal::from_json(&bytes)
        .ok_or_else(|| RestoreError::JournalDamaged { path: path.clone() })?;
    if !j.phase.starts_with("undo") {
        j.undo_from = Some(j.phase.clone());
        j.phase = "undo".into();
        write_journal(t, &j)?;
    }
    hit("mattermost-restore-undo");
    let home = open_trusted(t, &j.home())?;
    let staging = open_staging(&home, &j.staging)?;
    if j.phase != "undo-db" {
        let staging = staging.as_ref().ok_or_else(|| RestoreError::StagingGone {
            path: j.staging_path(),
        })?;
        if j.phase == "undo" {
            if j.undo_from.as_deref() == Some("aside") {
                new_back(&j, &home, staging)?;
            }
            j.phase = "undo-old".into();
            write_journal(t, &j)?;
            hit("mattermost-restore-undo-new");
        }
        old_back(&j, &home, staging)?;
        // A staged config.json that never replaced the live one.
        let cdir = open_trusted(t, &j.config_dir)?;
        match cdir.unlink(&j.staged_config) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_err("remove", &j.config_dir.join(&j.staged_config))(e))
            }
            _ => {}
        }
        j.phase = "undo-db".into();
        write_journal(t, &j)?;
        hit("mattermost-restore-undo-old");
    }
    database_back(t, &j)?;
    hit("mattermost-restore-undo-db");
    super::remove_staging(&j, &home)?;
    std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
    crate::fsutil::sync_dir(&t.state_dir)?;
    Ok(())
}

/// The restored entries of data/ go back into the staging directory (only once the old
/// ones were moved aside: `old-data` is there).
fn new_back(j: &Journal, home: &DirHandle, staging: &DirHandle) -> Result<()> {
    let old = OsStr::new(OLD_DATA);
    let new = OsStr::new(NEW_DATA);
    let new_path = j.staging_path().join(NEW_DATA);
    if staging
        .lstat(old)
        .map_err(io_err("inspect", &j.staging_path()))?
        .is_none()
    {
        return Ok(());
    }
    if j.contents() {
        let dest = staging
            .open_or_mkdir(new, 0o700)
            .map_err(io_err("create", &new_path))?;
        for n in home.names().map_err(io_err("list", &j.home()))? {
            if n != j.staging {
                op("mattermost-restore-fs-undo-new", || {
                    home.rename_into(&n, &dest, &n, true)
                })
                .map_err(io_err("move back", &j.home().join(&n)))?;
            }
        }
        return Ok(());
    }
    let staged = staging
        .lstat(new)
        .map_err(io_err("inspect", &new_path))?
        .is_some();
    let live = home
        .lstat(&j.data_name)
        .map_err(io_err("inspect", &j.data_path()))?
        .is_some();
    if live && !staged {
        op("mattermost-restore-fs-undo-new", || {
            home.rename_into(&j.data_name, staging, new, true)
        })
        .map_err(io_err("move back", &j.data_path()))?;
    }
    Ok(())
}

/// The old entries of data/ come back from the staging directory.
fn old_back(j: &Journal, home: &DirHandle, staging: &DirHandle) -> Result<()> {
    let old = OsStr::new(OLD_DATA);
    let old_path = j.staging_path().join(OLD_DATA);
    if staging
        .lstat(old)
        .map_err(io_err("inspect", &old_path))?
        .is_none()
    {
        return Ok(());
    }
    if j.contents() {
        let src = staging.open_dir(old).map_err(io_err("open", &old_path))?;
        for n in src.names().map_err(io_err("list", &old_path))? {
            op("mattermost-restore-fs-undo-old", || {
                src.rename_into(&n, home, &n, true)
            })
            .map_err(io_err("move back", &j.home().join(&n)))?;
        }
        // data/'s own mode and owner as they were.
        if let (Some(mode), Some(owner)) = (j.data_mode, j.data_owner) {
            home.set_self(mode, Some(owner))
                .map_err(io_err("set the mode of", &j.home()))?;
        }
        return Ok(());
    }
    if !j.data_existed {
        return staging
            .remove_tree(old)
            .map_err(io_err("remove", &old_path));
    }
    op("mattermost-restore-fs-undo-old", || {
        staging.rename_into(old, home, &j.data_name, true)
    })
    .map_err(io_err("move back", &j.data_path()))
}

/// The databases as they were: the restored one renamed back to its staging name and
/// dropped, the previous one renamed back to the live name (one transaction).
fn database_back(t: &Target, j: &Journal) -> Result<()> {
    let live = &j.live;
    if !db_exists(t, &j.new_db)? {
        let existed = j.live_existed.unwrap_or(true);
        if existed && !db_exists(t, &j.old_db)? {
            return Err(RestoreError::PreviousGone {
                live: live.clone(),
                old: j.old_db.clone(),
            });
        }
        if db_exists(t, live)? {
            let connected = sessions(t, live)?;
            if !connected.is_empty() {
                return Err(RestoreError::UndoBlocked {
                    live: live.clone(),
                    sessions: connected.into_iter().map(|s| s.text).collect(),
                });
            }
        }
        let back = if existed {
            format!(
                "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} RENAME TO {};",
                ident(live),
                ident(&j.new_db),
                ident(&j.old_db),
                ident(live)
            )
        } else {
            format!(
                "ALTER DATABASE {} RENAME TO {};",
                ident(live),
                ident(&j.new_db)
            )
        };
        t.db_admin().query(Some("postgres"), &back)?;
    }
    t.db_admin().query(
        Some("postgres"),
        &format!("DROP DATABASE IF EXISTS {}", ident(&j.new_db)),
    )?;
    Ok(())
}
