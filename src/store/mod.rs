//! The embedded SQLite store: one file under the data directory, WAL mode,
//! versioned migrations applied at open. One module per group of tables.

pub mod balances;
pub mod keys;
pub mod media;
pub mod meta;
mod migrations;
pub mod nonces;
pub mod orders;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Why the store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("cannot open store {0}: {1}")]
    Open(PathBuf, rusqlite::Error),
    #[error("store {0}: migration {1} failed: {2}")]
    Migrate(PathBuf, usize, rusqlite::Error),
    #[error("store {0} was written by a newer Panthera (schema {1}, this build knows {2})")]
    TooNew(PathBuf, i64, usize),
}

/// A handle on the store shared by all workers. SQLite serialises writers
/// anyway; one connection behind a mutex keeps that explicit and cheap.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir` and migrates it.
    pub fn open_in(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::DataDir(data_dir.to_path_buf(), e))?;
        Store::open(&data_dir.join("panthera.db"))
    }

    /// Opens (creating when needed) the store file and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let p = path.to_path_buf();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open(p.clone(), e))?;
        configure(&conn).map_err(|e| StoreError::Open(p.clone(), e))?;
        migrations::apply(&conn, &p)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: p,
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection. A poisoned lock is recovered: SQLite's
    /// own transactions keep the data consistent whatever the panicking
    /// holder was doing.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut guard: MutexGuard<'_, Connection> = match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // WAL + NORMAL: a commit reaches the OS before the call returns, so it
    // survives a crash of the process (kill -9); only power loss can lose
    // the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 32 MiB of page cache (default 2 MiB): a search joins thousands of
    // catalogue rows, which then come from memory instead of the OS.
    conn.pragma_update(None, "cache_size", -32_768)?;
    Ok(())
}

/// Seconds since the Unix epoch, for `created_at` columns.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(dir.path()).expect("open store");
    (dir, store)
}
