//! The PostgreSQL backend of the store (issue 15, docs/operations.md): one
//! database shared by several instances. The store's API stays synchronous:
//! every operation runs as a task on a small multi-thread tokio runtime the
//! store owns, and the calling thread waits for its answer on a channel, so
//! a call from any thread (actix's async workers, its blocking pool, the
//! CLI) works and never blocks a runtime from inside.

pub mod idempotency;
pub mod keys;
pub mod keyside;
pub mod media;
pub mod meta;
pub mod migrations;
pub mod nonces;
pub mod orders;
pub mod small;
#[cfg(test)]
mod tests;
pub mod tokens;
pub mod users;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use super::StoreError;

/// One pooled connection, owned by the task that uses it.
pub(crate) type Conn = Arc<deadpool_postgres::Object>;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    pub pool_size: usize,
    /// `statement_timeout` of every connection in milliseconds (0: none).
    pub statement_timeout_ms: u64,
    /// Tests: every table lives in this schema (created at open), which is
    /// dropped with the store when `drop_schema` is set.
    pub schema: Option<String>,
    pub drop_schema: bool,
}

/// The pool and the runtime its connections live on.
pub struct PgStore {
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    label: PathBuf,
    schema: Option<String>,
    drop_schema: Option<String>,
    /// The latest `/health` ping and the callers waiting for one in flight.
    ping: Arc<std::sync::Mutex<PingCache>>,
}

/// How long a ping's outcome answers `/health` before the next call pings
/// again: a balancer polling every instance often costs the database one
/// query a second, not one per poll.
const PING_FRESH: Duration = Duration::from_secs(1);

/// Longest wait for a ping's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The latest good ping (when it was) and, while one is in flight, the
/// callers that will share its outcome.
#[derive(Default)]
struct PingCache {
    good: Option<std::time::Instant>,
    waiting: Option<Vec<tokio::sync::oneshot::Sender<Result<(), String>>>>,
}

/// A backend failure as the seam's error: constraint refusals are
/// conflicts; lost connections, timeouts, serialization failures and a
/// database going down are passing.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let message = match e.as_db_error() {
        Some(db) => format!(
            "PostgreSQL: {}{}",
            db.message(),
            db.constraint()
                .map(|c| format!(" (constraint {c})"))
                .unwrap_or_default()
        ),
        None => {
            // the cause (refused, timed out…) is the interesting part
            let mut m = format!("PostgreSQL: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !m.contains(&text) {
                    m.push_str(": ");
                    m.push_str(&text);
                }
                source = cause.source();
            }
            m
        }
    };
    let Some(code) = e.code() else {
        // no SQLSTATE: the connection (closed, refused, timed out) or a
        // value that does not fit its Rust type (a fault of ours)
        return if message.contains("serializing") {
            StoreError::Failed(message)
        } else {
            StoreError::Unavailable(message)
        };
    };
    let conflict = [
        SqlState::UNIQUE_VIOLATION,
        SqlState::FOREIGN_KEY_VIOLATION,
        SqlState::CHECK_VIOLATION,
        SqlState::NOT_NULL_VIOLATION,
        SqlState::EXCLUSION_VIOLATION,
    ];
    let passing = [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::QUERY_CANCELED,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::DISK_FULL,
        SqlState::OUT_OF_MEMORY,
        SqlState::READ_ONLY_SQL_TRANSACTION,
    ];
    if conflict.contains(code) {
        StoreError::Conflict(message)
    } else if passing.contains(code) || code.code().starts_with("08") {
        StoreError::Unavailable(message)
    } else {
        StoreError::Failed(message)
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Unavailable(format!("PostgreSQL pool: {other}")),
    }
}

/// `host:port/database` of a URL, without user or password (for messages).
fn describe(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    format!("postgresql://{rest}")
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 60
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl PgStore {
    /// Connects (the pool opens connections on demand, one at once here to
    /// see that the database answers) and migrates the schema.
    pub fn open(options: &PgOptions) -> Result<PgStore, StoreError> {
        let label = PathBuf::from(describe(&options.url));
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e| StoreError::Failed(format!("store.url {}: {e}", label.display())))?;
        // every commit durable before it is answered; notices ("already
        // exists, skipping") stay out of the log
        let mut settings = String::from("-c synchronous_commit=on -c client_min_messages=warning");
        if options.statement_timeout_ms > 0 {
            settings.push_str(&format!(
                " -c statement_timeout={}",
                options.statement_timeout_ms
            ));
        }
        if let Some(schema) = &options.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Failed(format!("bad schema name {schema}")));
            }
            settings.push_str(&format!(" -c search_path={schema},public"));
        }
        // after the URL's own `options`, if it has any
        let settings = match config.get_options() {
            Some(own) if !own.trim().is_empty() => format!("{own} {settings}"),
            _ => settings,
        };
        config.options(&settings);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("panthera-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Failed(format!("PostgreSQL runtime: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Failed(format!("PostgreSQL pool: {e}")))?;
        let store = PgStore {
            rt: Some(rt),
            pool,
            label,
            schema: options.schema.clone(),
            drop_schema: options.schema.clone().filter(|_| options.drop_schema),
            ping: Arc::default(),
        };
        if let Some(schema) = &options.schema {
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
            match store.run(move |c| async move { c.batch_execute(&sql).await.map_err(pg_err) }) {
                // another instance created it at the same moment
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        store.run(migrations::apply).map_err(|e| match e {
            StoreError::Unavailable(m) => {
                StoreError::Unavailable(format!("cannot open store {}: {m}", store.label.display()))
            }
            other => other,
        })?;
        Ok(store)
    }

    /// The schema the tables live in, when one was chosen (tests).
    pub fn schema(&self) -> Option<String> {
        self.schema.clone()
    }

    /// What to call the store in messages (no password).
    pub fn label(&self) -> &std::path::Path {
        &self.label
    }

    /// Runs `fut` on the store's runtime and waits for its answer, from any
    /// thread (inside an async runtime too: the caller only waits on a
    /// channel).
    pub(crate) fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable(
                "the PostgreSQL store is closed".into(),
            ));
        };
        block_on(rt.handle(), fut)
    }

    /// Whether the database answers a trivial query, for `/health`: the
    /// good ping younger than [`PING_FRESH`] when there is one;
    /// else one ping, shared by every caller that comes while it is in
    /// flight (it runs as a task of its own, so a caller that gives up does
    /// not strand the others). Once the good ping is older, the next call
    /// pings again and waits for the answer, so a failure is reported at
    /// once; a failed ping is never reused, so a database that came back
    /// is reported by the next call.
    pub(crate) async fn ping_shared(&self) -> Result<(), StoreError> {
        let answer = {
            let mut cache = self.ping.lock().unwrap_or_else(|p| p.into_inner());
            if cache.good.is_some_and(|at| at.elapsed() < PING_FRESH) {
                return Ok(());
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            match &mut cache.waiting {
                Some(waiting) => waiting.push(tx),
                None => {
                    let Some(rt) = &self.rt else {
                        return Err(StoreError::Unavailable(
                            "the PostgreSQL store is closed".into(),
                        ));
                    };
                    cache.waiting = Some(vec![tx]);
                    let (pool, shared) = (self.pool.clone(), Arc::clone(&self.ping));
                    rt.spawn(async move {
                        let once = async {
                            let conn = pool.get().await.map_err(pool_err)?;
                            ping(Arc::new(conn)).await
                        };
                        // a database that stopped answering is down too
                        let outcome = match tokio::time::timeout(PING_TIMEOUT, once).await {
                            Ok(outcome) => outcome.map_err(|e| e.to_string()),
                            Err(_) => Err(format!(
                                "PostgreSQL: no answer to a ping in {} s",
                                PING_TIMEOUT.as_secs()
                            )),
                        };
                        let waiting = {
                            let mut cache = shared.lock().unwrap_or_else(|p| p.into_inner());
                            // a failed ping is not reused: the next call pings again
                            cache.good = outcome.is_ok().then(std::time::Instant::now);
                            cache.waiting.take()
                        };
                        for w in waiting.into_iter().flatten() {
                            let _ = w.send(outcome.clone());
                        }
                    });
                }
            }
            rx
        };
        answer
            .await
            .unwrap_or_else(|_| Err("the PostgreSQL store is closing".into()))
            .map_err(StoreError::Unavailable)
    }

    /// A handle for a thread of its own (the nonce writer): the pool and the
    /// runtime, usable while the store lives.
    pub(crate) fn remote(&self) -> Result<PgRemote, StoreError> {
        let Some(rt) = &self.rt else {
            return Err(StoreError::Unavailable(
                "the PostgreSQL store is closed".into(),
            ));
        };
        Ok(PgRemote {
            pool: self.pool.clone(),
            handle: rt.handle().clone(),
        })
    }

    /// Runs `f` with a pooled connection.
    pub(crate) fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.block(async move {
            let conn = pool.get().await.map_err(pool_err)?;
            f(Arc::new(conn)).await
        })
    }

    /// Runs `f` with a pooled connection inside its own transaction.
    pub(crate) fn run_atomic<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.block(async move {
            let conn = Arc::new(pool.get().await.map_err(pool_err)?);
            atomically(conn, true, f).await
        })
    }

    /// Starts a transaction on one pooled connection, held until it ends.
    /// It takes the store's write lock first (see [`WRITE_LOCK`]).
    pub(crate) fn begin(&self) -> Result<PgTx<'_>, StoreError> {
        self.begin_scoped(None)
    }

    /// [`begin`](Self::begin), or with `scope`, a transaction that waits
    /// only for those of the same scope and for whole-store ones: it holds
    /// the write lock shared and its scope's lock alone ([`SCOPE_LOCK`]).
    pub(crate) fn begin_scoped(&self, scope: Option<String>) -> Result<PgTx<'_>, StoreError> {
        let pool = self.pool.clone();
        let conn = self.block(async move {
            let conn = pool.get().await.map_err(pool_err)?;
            conn.batch_execute("BEGIN").await.map_err(pg_err)?;
            let locked = match &scope {
                None => conn.batch_execute(WRITE_LOCK).await,
                Some(scope) => {
                    async {
                        conn.batch_execute("SET LOCAL statement_timeout = 0")
                            .await?;
                        conn.execute(SCOPE_LOCK, &[scope]).await?;
                        conn.batch_execute("SET LOCAL statement_timeout TO DEFAULT")
                            .await
                    }
                    .await
                }
            };
            if let Err(e) = locked {
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(pg_err(e));
            }
            Ok(Arc::new(conn))
        })?;
        Ok(PgTx {
            store: self,
            conn: Some(conn),
        })
    }
}

/// Spawns `fut` on the runtime of `handle` and waits for its answer on a
/// channel (never blocks inside the runtime itself).
fn block_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    use futures_util::FutureExt;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        // a fault of ours (a column read as the wrong type) answers as one
        let out = std::panic::AssertUnwindSafe(fut)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Failed("a PostgreSQL task panicked".into())));
        let _ = tx.send(out);
    });
    rx.recv().unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "a PostgreSQL task ended without an answer (the store is closing)".into(),
        ))
    })
}

/// The pool and runtime of a [`PgStore`], for a thread of its own.
#[derive(Clone)]
pub(crate) struct PgRemote {
    pool: Pool,
    handle: tokio::runtime::Handle,
}

impl PgRemote {
    /// Runs `f` with a pooled connection; each statement commits by itself.
    pub(crate) fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let pool = self.pool.clone();
        block_on(&self.handle, async move {
            let conn = pool.get().await.map_err(pool_err)?;
            f(Arc::new(conn)).await
        })
    }
}

impl PgRemote {
    /// Runs `f` with a pooled connection (or the pool's error) as a task of
    /// its own on the store's runtime, not waited for.
    pub(crate) fn spawn<F, Fut>(&self, f: F)
    where
        F: FnOnce(Result<Conn, StoreError>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.handle.spawn(async move {
            let conn = pool.get().await.map(Arc::new).map_err(pool_err);
            f(conn).await
        });
    }
}

/// What a transaction of the seam runs first: the store's write lock,
/// held to its end. The seam's callers were written for SQLite, whose
/// transactions take the write lock up front (one writer at a time: a
/// check and the write it allows cannot interleave with another
/// transaction's); on PostgreSQL an advisory lock per schema keeps that,
/// across instances. Waiting for it is no slow statement: the statement
/// timeout is lifted for the wait only. Single statements and the nonce
/// writer's commits do not take it.
const WRITE_LOCK: &str = "SET LOCAL statement_timeout = 0;
    SELECT pg_advisory_xact_lock(hashtext('panthera.write.' || current_schema()));
    SET LOCAL statement_timeout TO DEFAULT;";

/// The locks of a transaction scoped to one thing (one user's balance and
/// orders): the store's write lock shared, so whole-store transactions
/// still exclude it, and its scope's own lock (two 32-bit keys: a key space
/// apart from the write lock's). Transactions of other scopes run beside
/// it. The statement timeout is lifted for the wait only, as for
/// [`WRITE_LOCK`]; the scope is `$1`.
const SCOPE_LOCK: &str = "SELECT
        pg_advisory_xact_lock_shared(hashtext('panthera.write.' || current_schema())),
        pg_advisory_xact_lock(hashtext('panthera.write.' || current_schema()), hashtext($1))";

/// `f` in a transaction of its own on `conn` (behind the write lock when
/// `serialize`): committed when it succeeds, rolled back when it fails.
pub(crate) async fn atomically<T, F, Fut>(
    conn: Conn,
    serialize: bool,
    f: F,
) -> Result<T, StoreError>
where
    F: FnOnce(Conn) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    conn.batch_execute("BEGIN").await.map_err(pg_err)?;
    if serialize {
        if let Err(e) = conn.batch_execute(WRITE_LOCK).await {
            let _ = conn.batch_execute("ROLLBACK").await;
            return Err(pg_err(e));
        }
    }
    match f(conn.clone()).await {
        Ok(v) => {
            conn.batch_execute("COMMIT").await.map_err(pg_err)?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(schema) = self.drop_schema.take() {
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = self.run(move |c| async move { c.batch_execute(&sql).await.map_err(pg_err) });
        }
        self.pool.close();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A transaction on one pooled connection (`Store::transaction`).
pub struct PgTx<'a> {
    store: &'a PgStore,
    conn: Option<Conn>,
}

impl PgTx<'_> {
    fn conn(&self) -> Result<Conn, StoreError> {
        self.conn
            .clone()
            .ok_or_else(|| StoreError::Failed("the transaction has ended".into()))
    }

    /// Commits (or rolls back) and hands the connection back to the pool.
    pub(crate) fn finish(mut self, commit: bool) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        let out = self
            .store
            .block(async move { conn.batch_execute(sql).await.map_err(pg_err) });
        if out.is_ok() {
            // back to the pool only when it is idle again
            self.conn = None;
        }
        out
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        // Not finished (a panic in the caller, a failed COMMIT): roll back
        // before the connection goes back to the pool; when even that
        // fails, the connection leaves the pool and closes (which rolls
        // back too).
        if let Some(conn) = self.conn.take() {
            let c = Arc::clone(&conn);
            let rolled_back = self
                .store
                .block(async move { c.batch_execute("ROLLBACK").await.map_err(pg_err) })
                .is_ok();
            if !rolled_back {
                if let Ok(object) = Arc::try_unwrap(conn) {
                    drop(deadpool_postgres::Object::take(object));
                }
            }
        }
    }
}

/// Where one PostgreSQL operation runs: a pooled connection of its own, or
/// the caller's transaction.
#[derive(Clone, Copy)]
pub(crate) enum PgOn<'a> {
    Store(&'a PgStore),
    Tx(&'a PgTx<'a>),
}

impl PgOn<'_> {
    /// One statement (or a read).
    pub(crate) fn run<T, F, Fut>(self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        match self {
            PgOn::Store(s) => s.run(f),
            PgOn::Tx(tx) => {
                let conn = tx.conn()?;
                tx.store.block(f(conn))
            }
        }
    }

    /// Several operations that land together: `f` runs in a transaction
    /// of its own, or in the caller's.
    pub(crate) fn atomic<T>(
        self,
        f: impl for<'b> FnOnce(PgOn<'b>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            PgOn::Store(s) => {
                let tx = s.begin()?;
                let out = f(PgOn::Tx(&tx));
                match out {
                    Ok(v) => {
                        tx.finish(true)?;
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = tx.finish(false);
                        Err(e)
                    }
                }
            }
            PgOn::Tx(_) => f(self),
        }
    }

    /// Several statements that land together: their own transaction, or
    /// the caller's.
    pub(crate) fn write<T, F, Fut>(self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        match self {
            PgOn::Store(s) => s.run_atomic(f),
            PgOn::Tx(_) => self.run(f),
        }
    }
}

/// Whether the database answers a trivial query (`/health`).
pub(crate) async fn ping(c: Conn) -> Result<(), StoreError> {
    c.simple_query("SELECT 1").await.map_err(pg_err)?;
    Ok(())
}
