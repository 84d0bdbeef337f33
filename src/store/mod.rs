//! The embedded SQLite store: one file under the data directory, WAL mode,
//! versioned migrations applied at open. One module per group of tables.

pub mod audit;
pub mod balances;
#[cfg(test)]
mod contract_tests;
pub mod idempotency;
pub mod key_callbacks;
pub mod keys;
pub mod lifecycle;
pub mod media;
pub mod meta;
mod migrations;
pub mod nonces;
pub mod orders;
pub mod pg;
pub mod rate_buckets;
pub mod rest_tokens;
pub mod search;
pub mod sessions;
pub mod signin_failures;
pub mod tokens;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::config::Synchronous;
use crate::crypto::{Cipher, KeySource, Keyring, MasterKey};
use pg::{PgOn, PgOptions, PgStore};

/// Why the store cannot be opened, or an operation of the seam failed. The
/// run-time kinds carry the backend's message, never its error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Busy, locked, out of space, unreachable: a retry may cure it.
    #[error("{0}")]
    Unavailable(String),
    /// A uniqueness or other constraint refused the write.
    #[error("{0}")]
    Conflict(String),
    /// A row the operation needs is not there.
    #[error("{0}")]
    NotFound(String),
    /// The store's file is damaged or not a store.
    #[error("{0}")]
    Corrupt(String),
    /// Anything else the backend answered: a fault of ours, not the
    /// client's nor a passing one.
    #[error("{0}")]
    Failed(String),
    #[error("cannot create data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("cannot open store {0}: {1}")]
    Open(PathBuf, rusqlite::Error),
    #[error("store {0}: migration {1} failed: {2}")]
    Migrate(PathBuf, usize, rusqlite::Error),
    #[error("store {0} was written by a newer Panthera (schema {1}, this build knows {2})")]
    TooNew(PathBuf, i64, usize),
    #[error("store {0}: {1}")]
    MasterKey(PathBuf, String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let message = e.to_string();
        match &e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(message),
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::ConstraintViolation => StoreError::Conflict(message),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt(message)
                }
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::OutOfMemory
                | ErrorCode::ReadOnly
                | ErrorCode::FileLockingProtocolFailed => StoreError::Unavailable(message),
                _ => StoreError::Failed(message),
            },
            _ => StoreError::Failed(message),
        }
    }
}

/// How a store failure reaches a client: a passing one (busy, out of
/// space, unreachable) is a fatal 503 to retry; any other is an internal
/// error. The cause goes to the log, never to the client.
impl From<StoreError> for crate::error::ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "store unavailable");
                crate::error::ApiError::Unavailable
            }
            other => crate::error::ApiError::Internal(format!("store: {other}")),
        }
    }
}

/// A handle on the store shared by all workers. SQLite serialises writers
/// anyway; one connection behind a mutex keeps that explicit and cheap.
///
/// A second, query-only connection serves the reads of the request path (key
/// lookups, `/health`): in WAL mode a reader never waits for a writer, so
/// those reads never queue behind a handler's transaction.
///
/// Or the PostgreSQL backend ([`pg`]): a pool of connections to a database
/// several instances share. Every group dispatches on the backend.
pub struct Store {
    backend: Backend,
    keyring: Keyring,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(PgStore),
}

/// The SQLite file: a writing connection and a query-only one.
pub(crate) struct Sqlite {
    conn: Mutex<Connection>,
    reader: Mutex<Connection>,
    path: PathBuf,
    synchronous: Synchronous,
}

/// What an SQLite-only operation answers on a PostgreSQL store.
fn not_sqlite() -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure("this operation needs the SQLite store".into())
}

/// What a group not yet ported answers on a PostgreSQL store.
fn not_on_pg() -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        "this operation is not yet on PostgreSQL (issue 15)".into(),
    )
}

/// The `meta` entry naming the master key the secrets are sealed with.
pub(crate) const MASTER_KEY_ID: &str = "master_key_id";

impl Store {
    /// Opens (creating when needed) the store in `data_dir` and migrates it;
    /// the master key is `PANTHERA_MASTER_KEY` or `<data_dir>/master.key`.
    pub fn open_in(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::DataDir(data_dir.to_path_buf(), e))?;
        Store::open(&data_dir.join("panthera.db"))
    }

    /// Opens (creating when needed) the store file; the master key is
    /// `PANTHERA_MASTER_KEY` or `master.key` beside the file.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        Store::open_with(path, KeySource::new(dir, Path::new("")))
    }

    /// Opens the store of a configuration (data directory and master key).
    pub fn open_config(config: &crate::config::Config) -> Result<Store, StoreError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StoreError::DataDir(config.data_dir.clone(), e))?;
        if config.store.backend == crate::config::Backend::Postgres {
            let options = PgOptions {
                url: config.store.url.clone(),
                pool_size: config.store.pool_size,
                statement_timeout_ms: config.store.statement_timeout_ms,
                schema: Some(config.store.schema.clone()).filter(|s| !s.is_empty()),
                drop_schema: false,
            };
            return Store::open_postgres(&options, KeySource::from_config(config));
        }
        Store::open_synchronous(
            &config.db_path(),
            KeySource::from_config(config),
            config.store.synchronous,
        )
    }

    /// Opens (creating when needed) the store file and migrates it. The
    /// master key is generated only for a store that has never sealed a
    /// secret; otherwise it must be the one the store names.
    pub fn open_with(path: &Path, source: KeySource) -> Result<Store, StoreError> {
        Store::open_synchronous(path, source, Synchronous::default())
    }

    /// [`open_with`](Self::open_with) with the `[store] synchronous` setting.
    fn open_synchronous(
        path: &Path,
        source: KeySource,
        synchronous: Synchronous,
    ) -> Result<Store, StoreError> {
        let p = path.to_path_buf();
        let conn = open_connection(path, synchronous)?;
        let recorded = recorded_key_id(&conn).map_err(|e| StoreError::Open(p.clone(), e))?;
        let key = open_master_key(&source, recorded.as_deref())
            .map_err(|m| StoreError::MasterKey(p.clone(), m))?;
        let keyring = Keyring::new(source, &key);
        register_seal(&conn, Cipher::new(&key)).map_err(|e| StoreError::Open(p.clone(), e))?;
        migrations::apply(&conn, &p)?;
        meta::seal_plain_secrets(&conn, &keyring).map_err(|e| StoreError::Open(p.clone(), e))?;
        if recorded.is_none() {
            meta::set(&conn, MASTER_KEY_ID, &keyring.id())
                .map_err(|e| StoreError::Open(p.clone(), e))?;
        }
        let reader = open_connection(path, synchronous)?;
        reader
            .pragma_update(None, "query_only", "ON")
            .and_then(|()| small_cache(&reader))
            .map_err(|e| StoreError::Open(p.clone(), e))?;
        Ok(Store {
            backend: Backend::Sqlite(Sqlite {
                conn: Mutex::new(conn),
                reader: Mutex::new(reader),
                path: p,
                synchronous,
            }),
            keyring,
        })
    }

    /// Opens the PostgreSQL store and migrates it (under an advisory lock:
    /// instances may start at once). The master key must be the one the
    /// database records; the first instance on a new database records its.
    pub fn open_postgres(options: &PgOptions, source: KeySource) -> Result<Store, StoreError> {
        let pg = PgStore::open(options)?;
        let label = pg.label().to_path_buf();
        let recorded = pg.run(|c| pg::meta::get(c, MASTER_KEY_ID.to_string()))?;
        let key = open_master_key(&source, recorded.as_deref())
            .map_err(|m| StoreError::MasterKey(label.clone(), m))?;
        let keyring = Keyring::new(source, &key);
        if recorded.is_none() {
            let id = keyring.id();
            let stored = pg.run(move |c| pg::meta::set_once(c, MASTER_KEY_ID.to_string(), id))?;
            if stored != keyring.id() {
                return Err(StoreError::MasterKey(
                    label,
                    format!(
                        "this store's secrets are sealed with master key {stored}, not {}",
                        keyring.id()
                    ),
                ));
            }
        }
        Ok(Store {
            backend: Backend::Postgres(pg),
            keyring,
        })
    }

    /// The SQLite part, for the operations only it has.
    fn sqlite(&self) -> rusqlite::Result<&Sqlite> {
        match &self.backend {
            Backend::Sqlite(s) => Ok(s),
            Backend::Postgres(_) => Err(not_sqlite()),
        }
    }

    /// Where the groups of this store run.
    pub(crate) fn on(&self) -> On<'_> {
        match &self.backend {
            Backend::Sqlite(s) => On::Store(s, &self.keyring),
            Backend::Postgres(p) => On::Pg(PgOn::Store(p), &self.keyring),
        }
    }

    /// Whether several instances may share this store (PostgreSQL), so that
    /// what each keeps in memory must be exchanged through it.
    pub fn is_shared(&self) -> bool {
        self.postgres().is_some()
    }

    /// The PostgreSQL backend, when this store is one.
    pub(crate) fn postgres(&self) -> Option<&PgStore> {
        match &self.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sqlite(_) => None,
        }
    }

    /// Another connection to the same file with the same settings, for a
    /// component that writes on its own (the nonce writer).
    pub(in crate::store) fn connect(&self) -> Result<Connection, StoreError> {
        let s = self.sqlite()?;
        let conn = open_connection(&s.path, s.synchronous)?;
        small_cache(&conn).map_err(|e| StoreError::Open(s.path.clone(), e))?;
        Ok(conn)
    }

    /// Runs `f` with the query-only connection; hold it for one short read.
    pub(in crate::store) fn read<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.sqlite()?.read(f)
    }

    /// Seals every secret again with `new` (api keys, user tokens, the
    /// server's own) and records its id, in one transaction: (secrets of
    /// keys and tokens, server secrets) resealed.
    pub fn reseal(&self, new: &Cipher) -> Result<(usize, usize), StoreError> {
        if let Some(pg) = self.postgres() {
            return pg::meta::reseal(pg, self.keyring(), new);
        }
        self.write(|tx| {
            let n = keys::reseal_all(tx, self.keyring(), new)?
                + tokens::reseal_all(tx, self.keyring(), new)?;
            let server = meta::reseal_secrets(tx, self.keyring(), new)?;
            record_master_key(tx, new.id())?;
            Ok((n, server))
        })
    }

    /// Whether the store answers a trivial read (`/health`).
    pub fn ping(&self) -> Result<(), StoreError> {
        if let Some(pg) = self.postgres() {
            return pg.run(pg::ping);
        }
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())))
            .map_err(StoreError::from)
    }

    /// [`Store::ping`] for `/health` on an async worker: on PostgreSQL it
    /// never blocks the caller's thread and reuses a ping younger than a
    /// second (see `PgStore::ping_shared`).
    pub async fn ping_async(&self) -> Result<(), StoreError> {
        match self.postgres() {
            Some(pg) => pg.ping_shared().await,
            None => self.ping(),
        }
    }

    /// The master key that seals this store's secrets.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Writes the write-ahead log back into the database file, so the file
    /// alone is complete (on shutdown, before backups of the file).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        if self.postgres().is_some() {
            return Ok(());
        }
        Ok(self.with(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)"))?)
    }

    /// The store file (PostgreSQL: its address, without credentials).
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Sqlite(s) => &s.path,
            Backend::Postgres(p) => p.label(),
        }
    }

    /// Runs `f` with the connection. A poisoned lock is recovered: SQLite's
    /// own transactions keep the data consistent whatever the panicking
    /// holder was doing.
    pub(in crate::store) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        f(&mut self.sqlite()?.lock())
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back
    /// when it fails, so a change and its audit row land together or not at
    /// all. IMMEDIATE takes the write lock up front: a CLI process writing at
    /// the same time waits (busy timeout) instead of failing half-way.
    pub(in crate::store) fn write<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.sqlite()?.write(f)
    }
}

impl Sqlite {
    fn read<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let guard = match self.reader.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&guard)
    }

    fn write<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.lock();
        let tx = guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Where the operations of one group run: each on its own, on the store's
/// connection, or all inside one transaction the caller holds ([`Tx`]).
/// Callers never see which: a group reads the same either way.
#[derive(Clone, Copy)]
pub(crate) enum On<'a> {
    Store(&'a Sqlite, &'a Keyring),
    Tx(&'a Connection, &'a Keyring),
    /// PostgreSQL: a pooled connection of its own, or the caller's
    /// transaction. The SQLite steps below refuse it.
    Pg(PgOn<'a>, &'a Keyring),
}

impl<'a> On<'a> {
    /// The PostgreSQL side, when the store is one.
    pub(in crate::store) fn pg(self) -> Option<PgOn<'a>> {
        match self {
            On::Pg(p, _) => Some(p),
            _ => None,
        }
    }

    /// Runs one step on the connection (in the transaction, if any).
    pub(in crate::store) fn with<T>(
        self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        match self {
            On::Store(s, _) => Ok(f(&s.lock())?),
            On::Tx(c, _) => Ok(f(c)?),
            On::Pg(..) => Err(not_on_pg().into()),
        }
    }

    /// A short read: on its own it takes the query-only connection, which
    /// never waits for a writer; in a transaction it reads what it wrote.
    pub(in crate::store) fn read<T>(
        self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        match self {
            On::Store(s, _) => Ok(s.read(f)?),
            On::Tx(c, _) => Ok(f(c)?),
            On::Pg(..) => Err(not_on_pg().into()),
        }
    }

    /// Several steps that land together: their own transaction, or the
    /// caller's.
    pub(in crate::store) fn write<T, E: From<rusqlite::Error>>(
        self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            On::Store(s, _) => s.write(|tx| f(tx)),
            On::Tx(c, _) => f(c),
            On::Pg(..) => Err(not_on_pg().into()),
        }
    }

    pub(crate) fn keyring(self) -> &'a Keyring {
        match self {
            On::Store(_, k) | On::Tx(_, k) | On::Pg(_, k) => k,
        }
    }
}

/// One transaction on the store: the groups reached through it
/// (`tx.users()`, `tx.audit()`, …) write together or not at all.
pub struct Tx<'a> {
    on: On<'a>,
}

impl<'a> Tx<'a> {
    pub(crate) fn on(&self) -> On<'_> {
        self.on
    }
}

impl Store {
    /// Runs `f` in one transaction: committed when it succeeds, rolled back
    /// when it fails, so a change and its audit row land together or not at
    /// all. The write lock is taken up front: a CLI process writing at the
    /// same time waits (busy timeout) instead of failing half-way.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction_in(None, f)
    }

    /// A transaction that touches only what belongs to `scope` (one user's
    /// balance and orders: `user:<id>`). On PostgreSQL it waits only for
    /// transactions of the same scope and for whole-store ones, so
    /// purchases of different users run side by side across instances; on
    /// SQLite it is [`transaction`](Self::transaction) (one writer anyway).
    pub fn transaction_for<T, E: From<StoreError>>(
        &self,
        scope: &str,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction_in(Some(scope), f)
    }

    fn transaction_in<T, E: From<StoreError>>(
        &self,
        scope: Option<&str>,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let sqlite = match &self.backend {
            Backend::Sqlite(s) => s,
            Backend::Postgres(pg) => {
                let tx = pg.begin_scoped(scope.map(str::to_string))?;
                let out = f(&Tx {
                    on: On::Pg(PgOn::Tx(&tx), &self.keyring),
                });
                return match out {
                    Ok(v) => {
                        tx.finish(true)?;
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = tx.finish(false);
                        Err(e)
                    }
                };
            }
        };
        let mut guard = sqlite.lock();
        let tx = guard
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&Tx {
            on: On::Tx(&tx, &self.keyring),
        })?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }
}

/// Declares a group of the seam: its handle, and how the store and a
/// transaction hand it out (`store.users()`, `tx.users()`).
macro_rules! group {
    ($(#[$doc:meta])* $name:ident, $accessor:ident) => {
        $(#[$doc])*
        pub struct $name<'a>(pub(crate) crate::store::On<'a>);

        impl crate::store::Store {
            pub fn $accessor(&self) -> $name<'_> {
                $name(self.on())
            }
        }

        impl crate::store::Tx<'_> {
            pub fn $accessor(&self) -> $name<'_> {
                $name(self.on())
            }
        }
    };
}
pub(crate) use group;

/// Records the master key the store's secrets are sealed with (inside the
/// transaction that resealed them).
pub fn record_master_key(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    meta::set(conn, MASTER_KEY_ID, id)
}

/// The master key id a store records, if it has one yet.
pub fn recorded_key_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(None);
    }
    conn.query_row(
        "SELECT value FROM meta WHERE key = ?1",
        [MASTER_KEY_ID],
        |r| r.get(0),
    )
    .optional()
}

/// Loads the master key; it must be the one the store recorded. A key
/// rotation interrupted after its commit left the new key in the pending
/// file: that one is then moved into place.
fn open_master_key(source: &KeySource, recorded: Option<&str>) -> Result<MasterKey, String> {
    let key = source.load(recorded.is_none()).map_err(|e| {
        format!(
            "{e} (this store's secrets are sealed with master key {})",
            recorded.unwrap_or("?")
        )
    })?;
    let Some(want) = recorded.filter(|w| *w != key.id()) else {
        return Ok(key);
    };
    if let (Some(pending), KeySource::File(file)) = (source.pending_file(), source) {
        if let Ok(new) = KeySource::File(pending.clone()).load(false) {
            if new.id() == want {
                std::fs::rename(&pending, file)
                    .map_err(|e| format!("finishing the key rotation: {e}"))?;
                tracing::warn!(file = %file.display(), "finished an interrupted master key rotation");
                return Ok(new);
            }
        }
    }
    Err(format!(
        "the master key from {} is {}, but this store's secrets are sealed with {want}",
        source.describe(),
        key.id()
    ))
}

/// `panthera_seal(aad, plaintext)` for migrations that seal existing data;
/// it seals with the master key the store was opened with.
fn register_seal(conn: &Connection, cipher: Cipher) -> rusqlite::Result<()> {
    conn.create_scalar_function("panthera_seal", 2, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let aad: String = ctx.get(0)?;
        let plain: String = ctx.get(1)?;
        cipher
            .seal(&aad, &plain)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
    })
}

fn open_connection(path: &Path, synchronous: Synchronous) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Open(path.to_path_buf(), e))?;
    configure(&conn, synchronous).map_err(|e| StoreError::Open(path.to_path_buf(), e))?;
    Ok(conn)
}

fn configure(conn: &Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // WAL + NORMAL: a commit reaches the OS before the call returns, so it
    // survives a crash of the process (kill -9); only power loss can lose
    // the last commits. FULL adds an fsync per commit (docs/performance.md).
    conn.pragma_update(None, "synchronous", synchronous.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 32 MiB of page cache (default 2 MiB): a search joins thousands of
    // catalogue rows, which then come from memory instead of the OS.
    conn.pragma_update(None, "cache_size", -32_768)?;
    Ok(())
}

/// SQLite's default 2 MiB page cache, for connections that only append
/// (the nonce writer) or read a few rows (the query-only one): the big cache
/// of the main connection would only hold pages they never read again.
fn small_cache(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", -2_000)
}

/// Seconds since the Unix epoch, for `created_at` columns (the clock's).
pub use crate::clock::now_unix;

#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(dir.path()).expect("open store");
    (dir, store)
}

/// Runs raw SQL on a test store, to break it on purpose (fault tests of the
/// layers above, which never name the driver).
#[cfg(test)]
pub(crate) fn test_sql(store: &Store, sql: &str) {
    store.with(|c| c.execute_batch(sql)).expect("test SQL");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn synchronous_follows_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let normal = Store::open_in(dir.path()).unwrap();
        assert_eq!(normal.with(|c| Ok(level(c))).unwrap(), 1);
        assert_eq!(level(&normal.connect().unwrap()), 1);
        drop(normal);
        let mut config = crate::config::Config {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        config.store.synchronous = Synchronous::Full;
        let full = Store::open_config(&config).unwrap();
        assert_eq!(full.with(|c| Ok(level(c))).unwrap(), 2);
        assert_eq!(
            full.read(|c| Ok::<_, rusqlite::Error>(level(c))).unwrap(),
            2
        );
        assert_eq!(level(&full.connect().unwrap()), 2);
    }

    #[test]
    fn the_reader_cannot_write() {
        let (_d, store) = test_store();
        assert!(store
            .read(|c| c.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')", []))
            .is_err());
    }
}
