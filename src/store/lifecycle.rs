//! Operator commands on the store: online backup and restore of the SQLite file,
//! the check (of the SQLite file, a backup, or a PostgreSQL store) and master key
//! rotation. Each returns a report for the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::config::Config;
use crate::crypto::{is_sealed, write_key_file, Cipher, KeySource, MasterKey};
use crate::store::{self, Store};

/// Copies the whole database in one step (one read transaction: a
/// consistent snapshot, writers go on meanwhile).
fn copy(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(from, to)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn open_read_only(path: &Path) -> Result<Connection, String> {
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    c.busy_timeout(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    Ok(c)
}

/// Backup and restore work on the SQLite file; a PostgreSQL store is backed
/// up and restored with PostgreSQL's own tools (docs/operations.md).
fn sqlite_only(config: &Config, what: &str) -> Result<(), String> {
    if config.store.backend == crate::config::Backend::Postgres {
        return Err(format!(
            "the store is PostgreSQL ([store] backend = \"postgres\"): `panthera {what}` works on the SQLite file only; use pg_dump / pg_restore"
        ));
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// `panthera backup FILE`: an online copy of the store, safe while the
/// server writes. The master key is not in it: keep that apart.
pub fn backup(config: &Config, dest: &Path) -> Result<String, String> {
    sqlite_only(config, "backup")?;
    if dest.exists() {
        return Err(format!("{} exists; choose a new file", dest.display()));
    }
    let src = open_read_only(&config.db_path())?;
    let partial = with_suffix(dest, ".partial");
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let mut dst = Connection::open(&partial).map_err(|e| e.to_string())?;
        copy(&src, &mut dst).map_err(|e| format!("backup: {e}"))?;
        // One self-contained file: no write-ahead log beside it.
        dst.pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| e.to_string())?;
        let problems = integrity(&dst)?;
        if !problems.is_empty() {
            return Err(format!("the copy fails its check: {}", problems.join("; ")));
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let size = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "backed up {} to {} ({size} bytes); the master key is not in it, keep {} safe apart",
        config.db_path().display(),
        dest.display(),
        KeySource::from_config(config).describe()
    ))
}

/// `panthera restore FILE`: replaces the store with a backup. Refused when
/// the backup's secrets are sealed with another master key than the one
/// configured (the command line first refuses while a server runs).
pub fn restore(config: &Config, from: &Path) -> Result<String, String> {
    sqlite_only(config, "restore")?;
    let src = open_read_only(from)?;
    let problems = integrity(&src)?;
    if !problems.is_empty() {
        return Err(format!(
            "{} fails its check: {}",
            from.display(),
            problems.join("; ")
        ));
    }
    if let Some(wanted) = store::recorded_key_id(&src).map_err(|e| e.to_string())? {
        let source = KeySource::from_config(config);
        let have = source.load(false).map(|k| k.id());
        if have.as_deref().ok() != Some(wanted.as_str()) {
            return Err(format!(
                "the backup's secrets are sealed with master key {wanted}; put that key at {} first",
                source.describe()
            ));
        }
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
    let mut dst = Connection::open(config.db_path()).map_err(|e| e.to_string())?;
    dst.busy_timeout(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    copy(&src, &mut dst).map_err(|e| format!("restore: {e}"))?;
    drop(dst);
    // Migrates a backup from an older version.
    let store = Store::open_config(config).map_err(|e| e.to_string())?;
    store.checkpoint().map_err(|e| e.to_string())?;
    Ok(format!(
        "restored {} from {}",
        config.db_path().display(),
        from.display()
    ))
}

/// `PRAGMA integrity_check` and `foreign_key_check`: the problems found.
fn integrity(c: &Connection) -> Result<Vec<String>, String> {
    let mut problems: Vec<String> = c
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| format!("integrity_check: {e}"))?
        .into_iter()
        .filter(|l| l != "ok")
        .collect();
    let fk = c
        .prepare("PRAGMA foreign_key_check")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(format!(
                    "foreign key: {} row {} -> {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| format!("foreign_key_check: {e}"))?;
    problems.extend(fk);
    Ok(problems)
}

/// `panthera check [FILE]`: integrity and foreign keys of the store (or of a
/// backup file), and whether every api secret opens with the master key.
/// `Ok((report, healthy))`.
pub fn check(config: &Config, file: Option<&Path>) -> Result<(String, bool), String> {
    if file.is_none() && config.store.backend == crate::config::Backend::Postgres {
        return check_postgres(config);
    }
    let path = file.map_or_else(|| config.db_path(), Path::to_path_buf);
    let c = open_read_only(&path)?;
    let mut problems = integrity(&c)?;
    let mut report = vec![format!("{}:", path.display())];
    report.push(format!(
        "  integrity_check, foreign_key_check: {}",
        if problems.is_empty() { "ok" } else { "FAILED" }
    ));
    report.push(format!(
        "  secrets: {}",
        check_secrets(config, &c, &mut problems)
    ));
    for p in &problems {
        report.push(format!("  problem: {p}"));
    }
    Ok((report.join("\n"), problems.is_empty()))
}

/// `panthera check` on PostgreSQL: the database answers, its schema is one
/// this build knows, and every sealed secret opens with the master key.
/// PostgreSQL checks its own constraints on every write; its files are
/// checked with `pg_amcheck` (docs/operations.md).
fn check_postgres(config: &Config) -> Result<(String, bool), String> {
    let store = Store::open_config(config).map_err(|e| e.to_string())?;
    let pg = store.postgres().ok_or("not a PostgreSQL store")?;
    let (version, sealed) = pg
        .run(store::pg::meta::sealed_values)
        .map_err(|e| e.to_string())?;
    let known = store::pg::migrations::MIGRATIONS.len();
    let mut problems = Vec::new();
    if version != known as i64 {
        problems.push(format!("schema {version}, this build knows {known}"));
    }
    let bad = sealed
        .iter()
        .filter(|(aad, v)| !is_sealed(v) || store.keyring().open(aad, v).is_err())
        .map(|(aad, _)| format!("{aad} does not open"))
        .collect::<Vec<_>>();
    let secrets = if bad.is_empty() {
        format!(
            "{} sealed values (api secrets, server secrets), all opening with master key {}",
            sealed.len(),
            store.keyring().id()
        )
    } else {
        format!("{} do not open", bad.len())
    };
    problems.extend(bad);
    let mut report = vec![
        format!("{}:", store.path().display()),
        format!("  schema: {version} (this build knows {known})"),
        "  constraints: enforced by PostgreSQL on every write (pg_amcheck checks its files)"
            .to_string(),
        format!("  secrets: {secrets}"),
    ];
    report.extend(problems.iter().map(|p| format!("  problem: {p}")));
    Ok((report.join("\n"), problems.is_empty()))
}

fn check_secrets(config: &Config, c: &Connection, problems: &mut Vec<String>) -> String {
    let recorded = match store::recorded_key_id(c) {
        Ok(r) => r,
        Err(e) => return format!("not checked ({e})"),
    };
    let source = KeySource::from_config(config);
    let key = match source.load(false) {
        Ok(k) => k,
        Err(e) => return format!("not checked ({e})"),
    };
    if let Some(want) = recorded.filter(|w| *w != key.id()) {
        problems.push(format!(
            "secrets are sealed with master key {want}, {} holds {}",
            source.describe(),
            key.id()
        ));
        return "master key mismatch".into();
    }
    let cipher = Cipher::new(&key);
    let rows: Vec<(String, String, Option<String>)> = match c
        .prepare("SELECT api_key, secret, old_secret FROM api_keys")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        }) {
        Ok(rows) => rows,
        Err(e) => return format!("not checked ({e})"),
    };
    let mut bad = 0;
    for (api_key, secret, old) in &rows {
        let aad = format!("api_keys.secret:{api_key}");
        for sealed in std::iter::once(secret).chain(old) {
            if !is_sealed(sealed) || cipher.open(&aad, sealed).is_err() {
                bad += 1;
                problems.push(format!("the secret of api key {api_key} does not open"));
            }
        }
    }
    for name in crate::store::meta::SECRETS {
        let stored = match crate::store::meta::get(c, name) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => return format!("not checked ({e})"),
        };
        let aad = crate::store::meta::secret_aad(name);
        if !is_sealed(&stored) {
            bad += 1;
            problems.push(format!("the server secret {name} is stored unsealed"));
        } else if cipher.open(&aad, &stored).is_err() {
            bad += 1;
            problems.push(format!("the server secret {name} does not open"));
        }
    }
    if bad == 0 {
        format!(
            "{} api keys and the server secrets, all sealed and opening with master key {}",
            rows.len(),
            key.id()
        )
    } else {
        format!("{bad} do not open")
    }
}

/// `panthera keys rotate-master`: seals every secret again under a new
/// master key, in one transaction. With the key file as source the new key
/// is written beside it first and moved into place after the commit (a
/// crash in between is finished at the next start); a running server picks
/// the new key up by itself. With `PANTHERA_MASTER_KEY` the new key goes to
/// `new_key_file` and the server needs a restart with the new variable.
pub fn rotate_master(config: &Config, new_key_file: Option<&Path>) -> Result<String, String> {
    let source = KeySource::from_config(config);
    let store = Store::open_config(config).map_err(|e| e.to_string())?;
    let new_key = match (new_key_file, &source) {
        (Some(f), _) => KeySource::File(f.to_path_buf())
            .load(true)
            .map_err(|e| e.to_string())?,
        (None, KeySource::File(_)) => MasterKey::generate(),
        (None, KeySource::Env) => {
            return Err(format!(
                "{} is set: give --new-key-file FILE for the new key",
                crate::crypto::ENV_VAR
            ))
        }
    };
    let old_id = store.keyring().id();
    if new_key.id() == old_id {
        return Err("the new master key is the one in use".into());
    }
    let pending = match (&source, source.pending_file()) {
        (KeySource::File(file), Some(pending)) => {
            let _ = std::fs::remove_file(&pending);
            write_key_file(&pending, &new_key)
                .map_err(|e| format!("{}: {e}", pending.display()))?;
            Some((pending, file.clone()))
        }
        _ => None,
    };
    let cipher = Cipher::new(&new_key);
    let resealed = store.reseal(&cipher);
    let (resealed, server) = match resealed {
        Ok(n) => n,
        Err(e) => {
            if let Some((pending, _)) = &pending {
                let _ = std::fs::remove_file(pending);
            }
            return Err(format!("nothing changed: {e}"));
        }
    };
    let mut report = format!(
        "resealed {resealed} secrets (api keys and user tokens) and {server} server secrets: master key {old_id} -> {}",
        new_key.id()
    );
    match pending {
        Some((pending, file)) => {
            std::fs::rename(&pending, &file).map_err(|e| {
                format!(
                    "{report}, but moving {} to {} failed: {e} (the next start finishes it)",
                    pending.display(),
                    file.display()
                )
            })?;
            report.push_str(&format!("; {} holds the new key", file.display()));
        }
        None => report.push_str(&format!(
            "; set {} to the content of {} and restart the server",
            crate::crypto::ENV_VAR,
            new_key_file.map_or_else(String::new, |f| f.display().to_string())
        )),
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys;

    fn config(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn rotate_master_reseals_every_secret_and_the_file_follows() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let (key, old_id) = {
            let s = Store::open_config(&cfg).unwrap();
            let k = s
                .with(|c| keys::create(c, s.keyring(), "app", keys::Role::App, None))
                .unwrap();
            (k, s.keyring().id())
        };
        let report = rotate_master(&cfg, None).unwrap();
        assert!(report.contains(&old_id), "{report}");
        let s = Store::open_config(&cfg).unwrap();
        assert_ne!(s.keyring().id(), old_id);
        let found = s
            .with(|c| keys::find(c, s.keyring(), &key.api_key, 0))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret, key.secret);
        let (text, ok) = check(&cfg, None).unwrap();
        assert!(ok, "{text}");
        assert!(!dir.path().join("master.key.new").exists());
    }

    #[test]
    fn a_rotation_interrupted_after_commit_is_finished_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let s = Store::open_config(&cfg).unwrap();
        let k = s
            .with(|c| keys::create(c, s.keyring(), "app", keys::Role::App, None))
            .unwrap();
        // what rotate_master does, up to the crash before the rename
        let new = MasterKey::generate();
        write_key_file(&dir.path().join("master.key.new"), &new).unwrap();
        let cipher = Cipher::new(&new);
        s.with(|c| {
            let tx = c.transaction()?;
            keys::reseal_all(&tx, s.keyring(), &cipher)?;
            store::record_master_key(&tx, cipher.id())?;
            tx.commit()
        })
        .unwrap();
        // the old process still reads it: the keyring follows the pending file
        let found = s
            .with(|c| keys::find(c, s.keyring(), &k.api_key, 0))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret, k.secret);
        drop(s);
        let again = Store::open_config(&cfg).unwrap();
        assert_eq!(again.keyring().id(), new.id());
        assert!(!dir.path().join("master.key.new").exists());
    }

    #[test]
    fn a_store_refuses_a_foreign_master_key() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        drop(Store::open_config(&cfg).unwrap());
        std::fs::remove_file(dir.path().join("master.key")).unwrap();
        write_key_file(&dir.path().join("master.key"), &MasterKey::generate()).unwrap();
        let err = Store::open_config(&cfg).err().unwrap().to_string();
        assert!(err.contains("sealed with"), "{err}");
        let (_, ok) = check(&cfg, None).unwrap();
        assert!(!ok);
    }

    #[test]
    fn backup_restore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(&dir.path().join("a"));
        let s = Store::open_config(&cfg).unwrap();
        let k = s
            .with(|c| keys::create(c, s.keyring(), "app", keys::Role::App, None))
            .unwrap();
        let file = dir.path().join("backup.db");
        backup(&cfg, &file).unwrap();
        assert!(backup(&cfg, &file).is_err(), "never overwrites");
        assert!(check(&cfg, Some(&file)).unwrap().1);
        // restore elsewhere: needs the same master key there first
        let other = config(&dir.path().join("b"));
        assert!(restore(&other, &file).unwrap_err().contains("master key"));
        std::fs::create_dir_all(&other.data_dir).unwrap();
        std::fs::copy(
            dir.path().join("a/master.key"),
            other.data_dir.join("master.key"),
        )
        .unwrap();
        restore(&other, &file).unwrap();
        let r = Store::open_config(&other).unwrap();
        let found = r
            .with(|c| keys::find(c, r.keyring(), &k.api_key, 0))
            .unwrap()
            .unwrap();
        assert_eq!(found.secret, k.secret);
    }
}
