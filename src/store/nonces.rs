//! The replay store: each (api_key, timestamp, nonce[, digest]) is claimed once,
//! across restarts, until its timestamp has left the window.
//!
//! One [`NonceWriter`] thread owns the replay state: the live claims in memory
//! (per timestamp second, the salted 64-bit ids claimed in it: a hash set
//! while the second is current, a sorted vector once it lies behind the
//! clock) and the append-only
//! `replay_log` table through its own connection. It drains a queue, decides
//! each claim against the set (first wins, also inside one batch), appends the
//! new ones as one row in one transaction, commits once, and only then
//! answers every waiter (group commit). A request is therefore answered only
//! after its claim is committed; after a crash the set is rebuilt from the log
//! at start.
//!
//! Why not a keyed table: its random insert order dirtied one b-tree page per
//! claim, so every commit wrote ~25 pages to the WAL, and one insert per claim
//! cost CPU; one packed row per commit writes one or two pages
//! (docs/performance.md). Why an id and not the raw strings: a live claim
//! then costs ~16 bytes of memory and the log stays small. The id is the first
//! 8 bytes of SHA-256 over a per-store random salt and the length-prefixed
//! fields; two different requests share an id only by chance (about one in
//! 2^64 per pair with the same timestamp second), and then the later one is
//! refused as a replay, never the other way round.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::RngCore;
use rusqlite::{params, Connection, TransactionBehavior};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::clock::Clock;

/// The replay identity of one request: its timestamp second and an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NonceClaim {
    pub ts: i64,
    pub id: u64,
}

/// The outcome of a committed claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    /// `true` when the identity was new; `false` for a replay.
    pub fresh: bool,
    /// [`NonceWriter::epoch`] as of the claim's batch, which started after
    /// the claim was queued: a key read under an older epoch may be stale.
    pub epoch: u64,
}

/// Why a claim has no answer; the request is then refused with `503`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ClaimError {
    #[error("replay store: {0}")]
    Store(String),
    #[error("the nonce writer has stopped")]
    Stopped,
}

/// Why the nonce writer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WriterStartError {
    #[error("replay store: {0}")]
    Store(#[from] super::StoreError),
    #[error("cannot start the nonce writer thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("{0} is locked: another panthera serves this data directory")]
    Locked(std::path::PathBuf),
    #[error("cannot lock {0}: {1}")]
    Lock(std::path::PathBuf, std::io::Error),
}

impl From<rusqlite::Error> for WriterStartError {
    fn from(e: rusqlite::Error) -> Self {
        WriterStartError::Store(e.into())
    }
}

/// Most claims committed in one transaction; more wait for the next one.
const MAX_BATCH: usize = 4096;
/// Under load (several claims queued or announced, see
/// [`NonceWriter::announce`]) commits start at most this often, so each one
/// carries more claims: fewer commits, less CPU per request. A lone claim is
/// committed at once. Bounds the added latency. Measured at 64 connections
/// (docs/performance.md): 500 µs gave about as many signed calls per second
/// as 250 µs with the p99 of 1 ms; 1 ms left the cores idle waiting, 250 µs
/// and less spent more on commits and wake-ups and lengthened the tail.
const MIN_COMMIT_INTERVAL: Duration = Duration::from_micros(500);
/// Most expired log rows (each one commit's claims) deleted in one go
/// between two batches.
const PRUNE_CHUNK: usize = 200;
/// Most expired claims deleted in one statement on PostgreSQL (a row each
/// there); a prune runs chunk after chunk until a chunk is not full.
const PG_PRUNE_CHUNK: usize = 5_000;
/// Bytes per claim in a log row: timestamp (i64 LE), id (u64 LE).
const PACKED: usize = 16;
/// How often expired claims are looked for when none were left last time.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// Seconds a claim is kept beyond the timestamp window, for a request that
/// was checked against the window just before the clock ticked.
const PRUNE_SLACK_SECS: i64 = 2;
/// A timestamp second this far behind the clock gets its ids sorted
/// (see [`Second`]); claims for it still arrive, rarely, and are merged in.
const SEAL_AFTER_SECS: i64 = 2;
/// How often the writer logs its counters while it is busy.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// The `meta` key of the per-store salt of claim ids.
const SALT_KEY: &str = "replay_salt";
/// The `meta` key a write probe updates.
const PROBE_KEY: &str = "write_probe";

/// The outcome of the writer's latest commit that wrote something.
#[derive(Debug, Clone)]
pub struct LastWrite {
    pub at: Instant,
    /// `None` when it was committed; else why not.
    pub error: Option<String>,
}

struct Job {
    /// `None`: a write probe ([`NonceWriter::probe_async`]).
    claim: Option<NonceClaim>,
    reply: oneshot::Sender<Result<Claimed, ClaimError>>,
    /// It carries an [`Announced`]: the writer counts it off once answered.
    announced: bool,
}

/// What the writer has done since it started.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub claims: AtomicU64,
    pub commits: AtomicU64,
    pub pruned: AtomicU64,
    /// Claims currently held (live).
    pub live: AtomicU64,
}

/// The handle on the nonce writer thread; dropping it stops the thread once
/// the queued claims are answered.
pub struct NonceWriter {
    tx: Option<Sender<Job>>,
    salt: [u8; 16],
    /// Requests announced ([`NonceWriter::announce`]) whose claim has not
    /// been answered yet, nor given up.
    in_flight: Arc<AtomicUsize>,
    /// Bumped when another connection committed (see [`Claimed::epoch`]).
    epoch: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    running: Arc<AtomicBool>,
    stats: Arc<WriterStats>,
    last_write: Arc<Mutex<Option<LastWrite>>>,
    /// Held (flock) while the writer lives: see [`lock_store`].
    _lock: Option<std::fs::File>,
}

impl NonceWriter {
    /// Loads the live claims through a connection of its own to the
    /// (migrated) store and starts the writer thread. A claim is dropped
    /// once its timestamp is more than `tolerance_secs` (the window) behind
    /// `clock`, plus a little slack.
    pub fn start(
        store: &super::Store,
        clock: Arc<dyn Clock>,
        tolerance_secs: u64,
    ) -> Result<NonceWriter, WriterStartError> {
        let keep_secs = i64::try_from(tolerance_secs)
            .unwrap_or(i64::MAX / 4)
            .saturating_add(PRUNE_SLACK_SECS);
        let (sink, lock, salt, live, data_version) = match store.postgres() {
            // PostgreSQL: the database decides every claim, for every
            // instance sharing it; nothing is held in memory or locked.
            Some(pg) => {
                let remote = pg.remote()?;
                let mut fresh = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut fresh);
                let fresh = hex::encode(fresh);
                let stored =
                    remote.run(move |c| super::pg::nonces::salt(c, SALT_KEY.to_string(), fresh))?;
                let salt = parse_salt(&stored).ok_or_else(|| {
                    WriterStartError::Store(super::StoreError::Corrupt(format!(
                        "meta {SALT_KEY} is not 16 bytes of hex"
                    )))
                })?;
                (Sink::Postgres(remote), None, salt, Live::default(), 0)
            }
            None => {
                let mut conn = store.connect()?;
                let lock = lock_store(&conn)?;
                let salt = load_salt(&conn)?;
                let cutoff = clock.now().saturating_sub(keep_secs);
                import_legacy(&mut conn, &salt, cutoff)?;
                let live = Live::load(&conn, cutoff)?;
                let data_version = data_version(&conn)?;
                (Sink::Sqlite(conn), lock, salt, live, data_version)
            }
        };
        let (tx, rx) = mpsc::channel();
        let running = Arc::new(AtomicBool::new(true));
        let stats = Arc::new(WriterStats::default());
        stats.live.store(live.len as u64, Ordering::Relaxed);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let epoch = Arc::new(AtomicU64::new(0));
        let last_write = Arc::new(Mutex::new(None));
        let pipe = matches!(sink, Sink::Postgres(_)).then(|| {
            Arc::new(PgPipe {
                batches: Mutex::new(0),
                done: Condvar::new(),
                claims: Mutex::new(HashSet::new()),
                live: Mutex::new(BTreeMap::new()),
                key_changes: AtomicI64::new(-1),
                pruning: AtomicBool::new(false),
                epoch: Arc::clone(&epoch),
                stats: Arc::clone(&stats),
                last_write: Arc::clone(&last_write),
                in_flight: Arc::clone(&in_flight),
            })
        });
        let writer = Writer {
            last_write: Arc::clone(&last_write),
            sink,
            clock,
            keep_secs,
            live,
            pipe,
            held: Vec::new(),
            data_version,
            stats: Arc::clone(&stats),
            in_flight: Arc::clone(&in_flight),
            epoch: Arc::clone(&epoch),
        };
        let thread = {
            let running = Arc::clone(&running);
            std::thread::Builder::new()
                .name("nonce-writer".into())
                .spawn(move || {
                    writer.run(rx);
                    running.store(false, Ordering::SeqCst);
                })?
        };
        Ok(NonceWriter {
            tx: Some(tx),
            salt,
            in_flight,
            epoch,
            thread: Some(thread),
            running,
            stats,
            last_write,
            _lock: lock,
        })
    }

    /// The claim of a request: its timestamp and the salted id of
    /// (api_key, nonce, digest). Runs on the caller's thread.
    pub fn identify(&self, api_key: &str, ts: i64, nonce: &str, digest: &str) -> NonceClaim {
        NonceClaim {
            ts,
            id: claim_id(&self.salt, api_key, nonce, digest),
        }
    }

    /// Claims `claim`; the answer comes once its batch is committed. The
    /// caller awaits without holding a thread, so many requests share one
    /// commit. `announced` is the request's [`NonceWriter::announce`] guard,
    /// handed over to the writer with the claim.
    pub async fn claim_async(
        &self,
        claim: NonceClaim,
        announced: Option<Announced>,
    ) -> Result<Claimed, ClaimError> {
        self.enqueue(Some(claim), announced)?
            .await
            .unwrap_or(Err(ClaimError::Stopped))
    }

    /// [`NonceWriter::claim_async`] for a plain thread (not inside an async task).
    #[cfg(test)]
    pub fn claim(&self, claim: NonceClaim) -> Result<Claimed, ClaimError> {
        self.enqueue(Some(claim), None)?
            .blocking_recv()
            .unwrap_or(Err(ClaimError::Stopped))
    }

    /// Commits a small write through the writer's connection, the way a
    /// claim is committed: `Ok` when the store takes writes (for `/health`).
    pub async fn probe_async(&self) -> Result<(), ClaimError> {
        self.enqueue(None, None)?
            .await
            .unwrap_or(Err(ClaimError::Stopped))
            .map(|_| ())
    }

    /// The outcome of the latest commit that wrote something (claims or a
    /// probe); `None` before the first.
    pub fn last_write(&self) -> Option<LastWrite> {
        self.last_write
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn enqueue(
        &self,
        claim: Option<NonceClaim>,
        announced: Option<Announced>,
    ) -> Result<oneshot::Receiver<Result<Claimed, ClaimError>>, ClaimError> {
        let (reply, answer) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(ClaimError::Stopped)?;
        let job = Job {
            claim,
            reply,
            announced: announced.is_some(),
        };
        tx.send(job).map_err(|_| ClaimError::Stopped)?;
        // Sent: the writer counts this request off once it answers it.
        if let Some(mut a) = announced {
            a.handed_over = true;
        }
        Ok(answer)
    }

    /// Tells the writer that a claim is coming (a request started to
    /// authenticate). The writer holds a commit back briefly while announced
    /// claims have not arrived yet. The guard counts the request off when it
    /// is dropped (the request failed before claiming), unless it was handed
    /// over with the claim.
    pub fn announce(&self) -> Announced {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Announced {
            in_flight: Arc::clone(&self.in_flight),
            handed_over: false,
        }
    }

    /// Grows each time the writer notices that another connection (a
    /// handler, the CLI) committed to the store; see [`Claimed::epoch`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Whether the writer thread is still taking claims.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Its counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

/// A claim on its way; see [`NonceWriter::announce`].
pub struct Announced {
    in_flight: Arc<AtomicUsize>,
    handed_over: bool,
}

impl Drop for Announced {
    fn drop(&mut self) {
        if !self.handed_over {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for NonceWriter {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The live claims are held in this process only, so a second server on the
/// same store would accept a replay the first has seen: an exclusive
/// `flock` on `<store>.replay-lock` refuses it. The kernel drops the lock
/// when the process dies, so a restart after `kill -9` is not blocked.
/// In-memory stores (tests) have no file and need no lock.
fn lock_store(conn: &Connection) -> Result<Option<std::fs::File>, WriterStartError> {
    use std::os::fd::AsRawFd;
    let Some(db) = conn.path().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(format!("{db}.replay-lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| WriterStartError::Lock(path.clone(), e))?;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            WriterStartError::Locked(path)
        } else {
            WriterStartError::Lock(path, err)
        });
    }
    Ok(Some(file))
}

/// The first 8 bytes of SHA-256(salt, then each field length-prefixed).
fn claim_id(salt: &[u8; 16], api_key: &str, nonce: &str, digest: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(salt);
    for field in [api_key, nonce, digest] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    let out = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&out[..8]);
    u64::from_le_bytes(first)
}

/// The store's salt, created at first use.
fn load_salt(conn: &Connection) -> rusqlite::Result<[u8; 16]> {
    let mut fresh = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut fresh);
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
        params![SALT_KEY, hex::encode(fresh)],
    )?;
    let stored: String =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [SALT_KEY], |r| {
            r.get(0)
        })?;
    parse_salt(&stored).ok_or(rusqlite::Error::InvalidColumnType(
        0,
        SALT_KEY.into(),
        rusqlite::types::Type::Text,
    ))
}

/// The salt stored as hex.
fn parse_salt(stored: &str) -> Option<[u8; 16]> {
    let mut salt = [0u8; 16];
    match hex::decode(stored) {
        Ok(bytes) if bytes.len() == 16 => salt.copy_from_slice(&bytes),
        _ => return None,
    }
    Some(salt)
}

/// Moves the live rows of the `nonces` table (stores from before migration 6)
/// into the replay log.
fn import_legacy(conn: &mut Connection, salt: &[u8; 16], cutoff: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows: Vec<(String, i64, String, String)> = tx
        .prepare("SELECT api_key, ts, nonce, digest FROM nonces WHERE ts >= ?1")?
        .query_map([cutoff], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let claims: Vec<NonceClaim> = rows
        .iter()
        .map(|(api_key, ts, nonce, digest)| NonceClaim {
            ts: *ts,
            id: claim_id(salt, api_key, nonce, digest),
        })
        .collect();
    append(&tx, &claims)?;
    tx.execute("DELETE FROM nonces", [])?;
    tx.commit()
}

/// Appends one log row holding `claims` (none: nothing).
fn append(conn: &Connection, claims: &[NonceClaim]) -> rusqlite::Result<()> {
    let Some(last_ts) = claims.iter().map(|c| c.ts).max() else {
        return Ok(());
    };
    let mut packed = Vec::with_capacity(claims.len() * PACKED);
    for c in claims {
        packed.extend_from_slice(&c.ts.to_le_bytes());
        packed.extend_from_slice(&c.id.to_le_bytes());
    }
    conn.prepare_cached("INSERT INTO replay_log (last_ts, claims) VALUES (?1, ?2)")?
        .execute(params![last_ts, packed])?;
    Ok(())
}

/// The claims of one log row.
fn unpack(packed: &[u8]) -> impl Iterator<Item = NonceClaim> + '_ {
    packed.chunks_exact(PACKED).map(|c| {
        let mut ts = [0u8; 8];
        let mut id = [0u8; 8];
        ts.copy_from_slice(&c[..8]);
        id.copy_from_slice(&c[8..]);
        NonceClaim {
            ts: i64::from_le_bytes(ts),
            id: u64::from_le_bytes(id),
        }
    })
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))
}

/// Deletes at most `limit` log rows whose claims all have a timestamp before
/// `cutoff`, oldest first (through the `last_ts` index), so one call holds
/// the write lock only briefly.
pub fn prune_chunk(conn: &Connection, cutoff: i64, limit: usize) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM replay_log WHERE rowid IN (
             SELECT rowid FROM replay_log WHERE last_ts < ?1 ORDER BY last_ts LIMIT ?2)",
    )?
    .execute(params![cutoff, i64::try_from(limit).unwrap_or(i64::MAX)])
}

/// How many claims the replay log holds (live and not yet pruned).
#[cfg(test)]
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        &format!("SELECT COALESCE(SUM(length(claims)), 0) / {PACKED} FROM replay_log"),
        [],
        |r| r.get(0),
    )
}

/// Ids are already uniform (SHA-256 output): hashing them again is waste.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// The ids claimed in one timestamp second. New ids go into a hash set;
/// once the second lies behind the clock (few claims arrive for it then),
/// they are moved into a sorted vector: 8 bytes per id instead of the hash
/// set's 9–18, which is most of the server's memory at a high request rate
/// (docs/performance.md).
#[derive(Default)]
struct Second {
    sealed: Vec<u64>,
    fresh: IdSet,
}

impl Second {
    #[cfg(test)]
    fn contains(&self, id: u64) -> bool {
        self.fresh.contains(&id) || self.sealed.binary_search(&id).is_ok()
    }

    fn len(&self) -> usize {
        self.sealed.len() + self.fresh.len()
    }

    /// Moves the fresh ids into the sorted vector.
    fn seal(&mut self) {
        if self.fresh.is_empty() {
            return;
        }
        self.sealed.extend(self.fresh.drain());
        self.sealed.sort_unstable();
        self.sealed.shrink_to_fit();
        self.fresh = IdSet::default();
    }
}

/// The live claims: per timestamp second, the ids claimed in it.
#[derive(Default)]
struct Live {
    by_ts: BTreeMap<i64, Second>,
    len: usize,
}

impl Live {
    /// Every claim of the log with a timestamp from `cutoff` on. A plain scan
    /// of the table: cheaper than walking the index for most of its rows.
    /// Loaded straight into the sorted form (the log holds no duplicates).
    fn load(conn: &Connection, cutoff: i64) -> rusqlite::Result<Live> {
        let mut live = Live::default();
        let mut stmt =
            conn.prepare("SELECT claims FROM replay_log NOT INDEXED WHERE last_ts >= ?1")?;
        let mut rows = stmt.query([cutoff])?;
        while let Some(row) = rows.next()? {
            let packed = row.get_ref(0)?.as_blob()?;
            for c in unpack(packed).filter(|c| c.ts >= cutoff) {
                live.by_ts.entry(c.ts).or_default().sealed.push(c.id);
            }
        }
        for second in live.by_ts.values_mut() {
            second.sealed.sort_unstable();
            second.sealed.dedup();
            second.sealed.shrink_to_fit();
            live.len += second.sealed.len();
        }
        Ok(live)
    }

    /// `true` when the claim was not held yet.
    fn insert(&mut self, c: NonceClaim) -> bool {
        let second = self.by_ts.entry(c.ts).or_default();
        let fresh = second.sealed.binary_search(&c.id).is_err() && second.fresh.insert(c.id);
        self.len += usize::from(fresh);
        fresh
    }

    /// Forgets a claim just inserted (its commit failed).
    fn remove(&mut self, c: NonceClaim) {
        if let Some(second) = self.by_ts.get_mut(&c.ts) {
            if second.fresh.remove(&c.id) {
                self.len -= 1;
            } else if let Ok(i) = second.sealed.binary_search(&c.id) {
                second.sealed.remove(i);
                self.len -= 1;
            }
            if second.len() == 0 {
                self.by_ts.remove(&c.ts);
            }
        }
    }

    /// Moves the ids of every second before `before` into the sorted form.
    fn seal(&mut self, before: i64) {
        for second in self.by_ts.range_mut(..before).map(|(_, s)| s) {
            second.seal();
        }
    }

    /// Drops every claim with a timestamp before `cutoff`.
    fn prune(&mut self, cutoff: i64) -> usize {
        let kept = self.by_ts.split_off(&cutoff);
        let gone: usize = self.by_ts.values().map(Second::len).sum();
        self.by_ts = kept;
        self.len -= gone;
        gone
    }

    #[cfg(test)]
    fn contains(&self, c: NonceClaim) -> bool {
        self.by_ts.get(&c.ts).is_some_and(|s| s.contains(c.id))
    }
}

/// Moves everything queued (up to [`MAX_BATCH`]) into `batch`.
fn drain(rx: &Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Where the writer commits: its own SQLite connection (the live claims
/// held in memory decide), or PostgreSQL (the database decides).
enum Sink {
    Sqlite(Connection),
    Postgres(super::pg::PgRemote),
}

struct Writer {
    sink: Sink,
    clock: Arc<dyn Clock>,
    /// Claims with a timestamp older than now minus this are dropped.
    keep_secs: i64,
    live: Live,
    /// PostgreSQL: what the writer shares with its batches in flight.
    pipe: Option<Arc<PgPipe>>,
    /// PostgreSQL: jobs whose claim equals one of a batch in flight; they
    /// join a batch once that one is answered.
    held: Vec<Job>,
    /// `PRAGMA data_version` as last seen: it changes when another
    /// connection commits.
    data_version: i64,
    stats: Arc<WriterStats>,
    in_flight: Arc<AtomicUsize>,
    epoch: Arc<AtomicU64>,
    last_write: Arc<Mutex<Option<LastWrite>>>,
}

impl Writer {
    fn run(mut self, rx: Receiver<Job>) {
        let mut batch: Vec<Job> = Vec::with_capacity(256);
        let mut next_prune = Instant::now();
        // Expired log rows were left over last time: keep deleting between batches.
        let mut prune_backlog = false;
        let mut next_report = Instant::now() + REPORT_EVERY;
        let mut reported = (0, 0);
        let mut last_commit = Instant::now() - MIN_COMMIT_INTERVAL;
        let mut last_batch = 0;
        loop {
            // held claims (PostgreSQL) go first, and are retried soon
            batch.append(&mut self.held);
            let wait = if prune_backlog {
                Duration::ZERO
            } else if !batch.is_empty() {
                MIN_COMMIT_INTERVAL
            } else {
                next_prune.saturating_duration_since(Instant::now())
            };
            match rx.recv_timeout(wait) {
                Ok(job) => batch.push(job),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // answer what is queued or held before stopping
                    while !batch.is_empty() {
                        self.commit(&mut batch);
                        if let Some(pipe) = &self.pipe {
                            pipe.wait_below(1);
                        }
                        batch.append(&mut self.held);
                    }
                    break;
                }
            }
            // Under load (the last commit carried several claims, or more
            // than this one are queued or announced), a commit starts no
            // sooner than MIN_COMMIT_INTERVAL after the previous one, and
            // everything that queued meanwhile joins it. A lone claim after
            // a quiet spell is committed at once.
            drain(&rx, &mut batch);
            let busy = last_batch > 1
                || batch.len() > 1
                || self.in_flight.load(Ordering::Relaxed) > batch.len();
            if busy && batch.len() < MAX_BATCH {
                let due = last_commit + MIN_COMMIT_INTERVAL;
                let now = Instant::now();
                if now < due {
                    std::thread::sleep(due - now);
                }
                drain(&rx, &mut batch);
            }
            if !batch.is_empty() {
                last_commit = Instant::now();
                last_batch = batch.len();
                self.commit(&mut batch);
            }
            let now = Instant::now();
            if prune_backlog || now >= next_prune {
                prune_backlog = self.prune_step();
                if !prune_backlog {
                    next_prune = now + PRUNE_EVERY;
                }
            }
            if now >= next_report {
                reported = self.report(reported);
                next_report = now + REPORT_EVERY;
            }
        }
        if let Some(pipe) = &self.pipe {
            pipe.wait_below(1);
        }
    }

    /// Decides the batch against the live set, appends the new claims in
    /// one transaction, commits, then answers everyone. If the commit fails,
    /// the new claims are forgotten again and the whole batch gets an error.
    fn commit(&mut self, batch: &mut Vec<Job>) {
        if let (Sink::Postgres(pg), Some(pipe)) = (&self.sink, &self.pipe) {
            pg_send(pg, pipe, batch, &mut self.held, self.clock.now());
            return;
        }
        let mut wrote = false;
        let outcome = self.commit_sqlite(batch, &mut wrote);
        self.answer(batch, wrote, outcome);
    }

    /// The claims held: the live set's, or on PostgreSQL the ones this
    /// instance committed within the window.
    fn live_count(&self) -> u64 {
        match self.sink {
            Sink::Sqlite(_) => self.live.len as u64,
            Sink::Postgres(_) => self.pipe.as_ref().map_or(0, |p| p.live_count()),
        }
    }

    /// The SQLite commit step: the live set decides, the log records.
    fn commit_sqlite(
        &mut self,
        batch: &[Job],
        wrote: &mut bool,
    ) -> Result<(u64, Vec<bool>), super::StoreError> {
        let outcome = self.notice_foreign_commits().and_then(|epoch| {
            let fresh: Vec<bool> = batch
                .iter()
                .map(|j| j.claim.is_some_and(|c| self.live.insert(c)))
                .collect();
            let probe = batch.iter().any(|j| j.claim.is_none());
            *wrote = probe || fresh.contains(&true);
            match self.append_fresh(batch, &fresh, probe) {
                Ok(()) => Ok((epoch, fresh)),
                Err(e) => {
                    for (job, new) in batch.iter().zip(&fresh) {
                        if let (true, Some(c)) = (*new, job.claim) {
                            self.live.remove(c);
                        }
                    }
                    Err(e)
                }
            }
        });
        outcome.map_err(super::StoreError::from)
    }

    /// Records the outcome and answers every waiter of the batch.
    fn answer(
        &mut self,
        batch: &mut Vec<Job>,
        wrote: bool,
        outcome: Result<(u64, Vec<bool>), super::StoreError>,
    ) {
        let live = self.live_count();
        answer_jobs(
            (&self.last_write, &self.stats, &self.in_flight),
            live,
            batch,
            wrote,
            outcome,
        );
    }

    /// Bumps the epoch when another connection committed since last time.
    /// Runs after the batch was drained, so it covers every commit made
    /// before any of its claims was queued.
    fn notice_foreign_commits(&mut self) -> rusqlite::Result<u64> {
        let Sink::Sqlite(conn) = &self.sink else {
            return Ok(self.epoch.fetch_add(1, Ordering::SeqCst) + 1);
        };
        let v = data_version(conn)?;
        if v != self.data_version {
            self.data_version = v;
            return Ok(self.epoch.fetch_add(1, Ordering::SeqCst) + 1);
        }
        Ok(self.epoch.load(Ordering::SeqCst))
    }

    /// Appends the new claims (and, for a probe, updates the probe row) in
    /// one transaction; nothing to write, no transaction.
    fn append_fresh(&mut self, batch: &[Job], fresh: &[bool], probe: bool) -> rusqlite::Result<()> {
        if !probe && !fresh.contains(&true) {
            return Ok(());
        }
        let claims: Vec<NonceClaim> = batch
            .iter()
            .zip(fresh)
            .filter(|(_, new)| **new)
            .filter_map(|(job, _)| job.claim)
            .collect();
        let Sink::Sqlite(conn) = &mut self.sink else {
            return Ok(());
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        append(&tx, &claims)?;
        if probe {
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![PROBE_KEY, self.clock.now().to_string()])?;
        }
        tx.commit()
    }

    /// Forgets expired claims and deletes one chunk of expired log rows;
    /// true when more rows are left.
    fn prune_step(&mut self) -> bool {
        let now = self.clock.now();
        let cutoff = now.saturating_sub(self.keep_secs);
        self.live.prune(cutoff);
        if let Some(pipe) = &self.pipe {
            let mut live = pipe.live.lock().unwrap_or_else(|p| p.into_inner());
            *live = live.split_off(&cutoff);
        }
        self.live.seal(now.saturating_sub(SEAL_AFTER_SECS));
        self.stats.live.store(self.live_count(), Ordering::Relaxed);
        // (rows deleted, whether a whole chunk went: more may be left)
        let pruned = match &self.sink {
            Sink::Sqlite(conn) => prune_chunk(conn, cutoff, PRUNE_CHUNK)
                .map(|n| (n, n == PRUNE_CHUNK))
                .map_err(super::StoreError::from),
            // a task of its own, never in the writer's way
            Sink::Postgres(pg) => {
                if let Some(pipe) = &self.pipe {
                    pg_prune(pg, pipe, cutoff);
                }
                return false;
            }
        };
        match pruned {
            Ok((n, more)) => {
                self.stats.pruned.fetch_add(n as u64, Ordering::Relaxed);
                more
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning the replay log failed");
                false
            }
        }
    }

    fn report(&self, (claims0, commits0): (u64, u64)) -> (u64, u64) {
        let claims = self.stats.claims.load(Ordering::Relaxed);
        let commits = self.stats.commits.load(Ordering::Relaxed);
        if claims > claims0 {
            tracing::info!(
                claims = claims - claims0,
                commits = commits - commits0,
                live = self.live_count(),
                pruned_total = self.stats.pruned.load(Ordering::Relaxed),
                "nonce writer"
            );
        }
        (claims, commits)
    }
}

/// Records the outcome of a commit and answers every waiter of its batch.
/// `live` is the gauge of claims held after it.
fn answer_jobs(
    (last_write, stats, in_flight): (&Mutex<Option<LastWrite>>, &WriterStats, &AtomicUsize),
    live: u64,
    batch: &mut Vec<Job>,
    wrote: bool,
    outcome: Result<(u64, Vec<bool>), super::StoreError>,
) {
    if wrote || outcome.is_err() {
        *last_write.lock().unwrap_or_else(|p| p.into_inner()) = Some(LastWrite {
            at: Instant::now(),
            error: outcome.as_ref().err().map(ToString::to_string),
        });
    }
    stats.commits.fetch_add(1, Ordering::Relaxed);
    let claims = batch.iter().filter(|j| j.claim.is_some()).count();
    stats.claims.fetch_add(claims as u64, Ordering::Relaxed);
    stats.live.store(live, Ordering::Relaxed);
    // Counted off before the answers go out, so no answered request is
    // still counted as on its way.
    let announced = batch.iter().filter(|j| j.announced).count();
    in_flight.fetch_sub(announced, Ordering::Relaxed);
    match outcome {
        Ok((epoch, fresh)) => {
            for (job, fresh) in batch.drain(..).zip(fresh) {
                let _ = job.reply.send(Ok(Claimed { fresh, epoch }));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, claims = batch.len(), "nonce batch failed");
            let err = ClaimError::Store(e.to_string());
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
    }
}

/// Most PostgreSQL batches in flight at once: the next batch is sent while
/// the previous one commits, so a commit's round trip and flush no longer
/// hold the claims that queued meanwhile (docs/performance.md).
const PG_PIPELINE: usize = 2;

/// PostgreSQL: what the writer thread shares with its batches in flight,
/// each a task on the store's runtime that answers its own waiters.
struct PgPipe {
    /// Batches sent and not answered yet.
    batches: Mutex<usize>,
    done: Condvar,
    /// The claims of those batches. A claim equal to one of them is held
    /// back until that batch is answered, then the database refuses it if
    /// the other committed: the first of concurrent duplicates wins, as
    /// inside one batch.
    claims: Mutex<HashSet<(i64, i64)>>,
    /// How many claims this instance committed per timestamp second still
    /// in the window (the `live` gauge; the claims themselves are only in
    /// the database).
    live: Mutex<BTreeMap<i64, u64>>,
    /// The count of key changes (`key_changes`), the highest seen; -1
    /// before the first batch.
    key_changes: AtomicI64,
    /// A prune runs (a task of its own, never on the writer's path).
    pruning: AtomicBool,
    epoch: Arc<AtomicU64>,
    stats: Arc<WriterStats>,
    last_write: Arc<Mutex<Option<LastWrite>>>,
    in_flight: Arc<AtomicUsize>,
}

impl PgPipe {
    /// Waits until fewer than `n` batches are in flight.
    fn wait_below(&self, n: usize) {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        while *batches >= n {
            batches = self.done.wait(batches).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn live_count(&self) -> u64 {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }

    /// The outcome of a batch's statement: every waiter answered.
    fn answer(
        &self,
        mut batch: Vec<Job>,
        outcome: Result<(Vec<(i64, i64)>, i64), super::StoreError>,
    ) {
        let outcome = outcome.map(|(fresh, key_changes)| {
            // the first of equal claims in the batch wins
            let fresh: HashSet<(i64, i64)> = fresh.into_iter().collect();
            let mut first = HashSet::with_capacity(fresh.len());
            let fresh: Vec<bool> = batch
                .iter()
                .map(|j| {
                    j.claim.is_some_and(|c| {
                        let key = (c.ts, c.id as i64);
                        fresh.contains(&key) && first.insert(key)
                    })
                })
                .collect();
            {
                let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
                for (job, _) in batch.iter().zip(&fresh).filter(|(_, f)| **f) {
                    if let Some(c) = job.claim {
                        *live.entry(c.ts).or_default() += 1;
                    }
                }
            }
            // A key changed somewhere (another instance, the command line):
            // keys read before this batch are read again (see
            // `Claimed::epoch`). Batches may finish out of order: an older
            // count than the highest seen changes nothing.
            let before = self.key_changes.fetch_max(key_changes, Ordering::SeqCst);
            let epoch = if key_changes > before {
                self.epoch.fetch_add(1, Ordering::SeqCst) + 1
            } else {
                self.epoch.load(Ordering::SeqCst)
            };
            (epoch, fresh)
        });
        answer_jobs(
            (&self.last_write, &self.stats, &self.in_flight),
            self.live_count(),
            &mut batch,
            true,
            outcome,
        );
    }
}

/// Deletes the claims before `cutoff` on PostgreSQL, chunk by chunk, as a
/// task of its own on the store's runtime (one at a time): the writer never
/// waits for it, so a long backlog (after a downtime) costs the database
/// some CPU but holds no claim back (docs/performance.md).
fn pg_prune(pg: &super::pg::PgRemote, pipe: &Arc<PgPipe>, cutoff: i64) {
    if pipe.pruning.swap(true, Ordering::SeqCst) {
        return;
    }
    struct Pruning(Arc<PgPipe>);
    impl Drop for Pruning {
        fn drop(&mut self) {
            self.0.pruning.store(false, Ordering::SeqCst);
        }
    }
    let pruning = Pruning(Arc::clone(pipe));
    pg.spawn(move |conn| async move {
        let outcome = async {
            let c = conn?;
            loop {
                let n = super::pg::nonces::prune(c.clone(), cutoff, PG_PRUNE_CHUNK as i64).await?;
                pruning
                    .0
                    .stats
                    .pruned
                    .fetch_add(n as u64, Ordering::Relaxed);
                if n < PG_PRUNE_CHUNK {
                    return Ok::<_, super::StoreError>(());
                }
            }
        };
        if let Err(e) = outcome.await {
            tracing::warn!(error = %e, "pruning the replay claims failed");
        }
        drop(pruning);
    });
}

/// A batch in flight: when its task ends (answered, or dropped with the
/// runtime), its claims leave the in-flight set and the writer may send
/// another batch.
struct Sent {
    pipe: Arc<PgPipe>,
    claims: Vec<(i64, i64)>,
}

impl Drop for Sent {
    fn drop(&mut self) {
        {
            let mut claims = self.pipe.claims.lock().unwrap_or_else(|p| p.into_inner());
            for c in &self.claims {
                claims.remove(c);
            }
        }
        let mut batches = self.pipe.batches.lock().unwrap_or_else(|p| p.into_inner());
        *batches = batches.saturating_sub(1);
        self.pipe.done.notify_all();
    }
}

/// The PostgreSQL commit step, pipelined: once fewer than [`PG_PIPELINE`]
/// batches are in flight, one statement inserts the batch's distinct claims
/// and returns the new ones, as a task that answers the batch when it has
/// committed; the writer goes on gathering the next batch meanwhile. The
/// first of equal claims in a batch wins, as with the live set; a claim
/// equal to one in flight goes to `held`. A probe updates its `meta` row
/// after the insert.
fn pg_send(
    pg: &super::pg::PgRemote,
    pipe: &Arc<PgPipe>,
    batch: &mut Vec<Job>,
    held: &mut Vec<Job>,
    now: i64,
) {
    pipe.wait_below(PG_PIPELINE);
    let mut jobs = Vec::with_capacity(batch.len());
    let mut mine = HashSet::with_capacity(batch.len());
    let (mut ts, mut ids) = (
        Vec::with_capacity(batch.len()),
        Vec::with_capacity(batch.len()),
    );
    {
        let mut in_flight = pipe.claims.lock().unwrap_or_else(|p| p.into_inner());
        for job in batch.drain(..) {
            if let Some(c) = job.claim {
                // the id's bits as a signed 64-bit number
                let key = (c.ts, c.id as i64);
                if !mine.contains(&key) {
                    if !in_flight.insert(key) {
                        held.push(job);
                        continue;
                    }
                    mine.insert(key);
                    ts.push(key.0);
                    ids.push(key.1);
                }
            }
            jobs.push(job);
        }
    }
    if jobs.is_empty() {
        return;
    }
    *pipe.batches.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    let sent = Sent {
        pipe: Arc::clone(pipe),
        claims: mine.into_iter().collect(),
    };
    let probe = jobs
        .iter()
        .any(|j| j.claim.is_none())
        .then(|| (PROBE_KEY.to_string(), now.to_string()));
    // No transaction around it: the insert commits by itself (durably, with
    // synchronous_commit on) before it answers, and the count of key
    // changes goes out in the same round trip. BEGIN and COMMIT would add two.
    pg.spawn(move |conn| async move {
        let outcome = match conn {
            Ok(c) => super::pg::nonces::claim(c, ts, ids, probe).await,
            Err(e) => Err(e),
        };
        sent.pipe.answer(jobs, outcome);
        drop(sent);
    });
}

/// Writes `count` live claims into the store file `db` as the writer
/// stores them (one packed `replay_log` row per 1000), timestamps spread over
/// the 300 s before `now`, in one transaction: the load script's warm start.
pub fn prefill(db: &std::path::Path, count: u64, now: i64) -> Result<(), super::StoreError> {
    use rand::Rng;
    let mut conn = Connection::open(db)?;
    let mut rng = rand::thread_rng();
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare("INSERT INTO replay_log (last_ts, claims) VALUES (?1, ?2)")?;
        let mut done = 0u64;
        while done < count {
            let n = (count - done).min(1000);
            // the older rows first, as a running server would have written them
            let ts = now - 299 + (done * 300 / count.max(1)) as i64;
            let mut packed = Vec::with_capacity(n as usize * 16);
            for _ in 0..n {
                packed.extend_from_slice(&ts.to_le_bytes());
                packed.extend_from_slice(&rng.gen::<u64>().to_le_bytes());
            }
            stmt.execute(rusqlite::params![ts, packed])?;
            done += n;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn writer(store: &crate::store::Store, clock: Arc<ManualClock>) -> NonceWriter {
        NonceWriter::start(store, clock, 300).unwrap()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i64, u64),
        Remove(i64, u64),
        Seal(i64),
        Prune(i64),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0i64..6, 0u64..12).prop_map(|(t, i)| Op::Insert(t, i)),
            1 => (0i64..6, 0u64..12).prop_map(|(t, i)| Op::Remove(t, i)),
            1 => (0i64..7).prop_map(Op::Seal),
            1 => (0i64..4).prop_map(Op::Prune),
        ]
    }

    proptest::proptest! {
        /// The two-form live set (hash set, then sorted vector) behaves like
        /// a plain set of (second, id) through any mix of operations.
        #[test]
        fn the_live_set_behaves_like_a_set(ops in proptest::collection::vec(op(), 0..80)) {
            let mut live = Live::default();
            let mut model = std::collections::BTreeSet::new();
            for op in ops {
                match op {
                    Op::Insert(ts, id) => {
                        let c = NonceClaim { ts, id };
                        proptest::prop_assert_eq!(live.insert(c), model.insert((ts, id)));
                    }
                    Op::Remove(ts, id) => {
                        live.remove(NonceClaim { ts, id });
                        model.remove(&(ts, id));
                    }
                    Op::Seal(before) => live.seal(before),
                    Op::Prune(cutoff) => {
                        let gone = model.iter().filter(|(t, _)| *t < cutoff).count();
                        model.retain(|(t, _)| *t >= cutoff);
                        proptest::prop_assert_eq!(live.prune(cutoff), gone);
                    }
                }
                proptest::prop_assert_eq!(live.len, model.len());
            }
            for ts in 0..6 {
                for id in 0..12 {
                    let c = NonceClaim { ts, id };
                    proptest::prop_assert_eq!(live.contains(c), model.contains(&(ts, id)));
                }
            }
        }
    }

    #[test]
    fn sealed_seconds_hold_ids_in_a_sorted_vector() {
        let mut live = Live::default();
        for id in [5, 1, 3] {
            assert!(live.insert(NonceClaim { ts: 10, id }));
        }
        assert!(live.insert(NonceClaim { ts: 12, id: 9 }));
        live.seal(12);
        let ten = &live.by_ts[&10];
        assert_eq!(
            (ten.sealed.as_slice(), ten.fresh.len()),
            (&[1, 3, 5][..], 0)
        );
        assert_eq!(live.by_ts[&12].fresh.len(), 1, "not behind yet");
        assert!(
            !live.insert(NonceClaim { ts: 10, id: 3 }),
            "a sealed id is held"
        );
        assert!(
            live.insert(NonceClaim { ts: 10, id: 4 }),
            "a late claim is new"
        );
        live.seal(12);
        assert_eq!(live.by_ts[&10].sealed, vec![1, 3, 4, 5]);
        assert_eq!(live.len, 5);
    }

    #[test]
    fn announced_requests_are_counted_off_once() {
        let (_d, store) = crate::store::test_store();
        let w = writer(&store, ManualClock::new(7));
        let failed_early = w.announce();
        let claimed = w.announce();
        assert_eq!(w.in_flight.load(Ordering::Relaxed), 2);
        drop(failed_early);
        assert_eq!(w.in_flight.load(Ordering::Relaxed), 1);
        let c = w.identify("k", 7, "n", "");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(w.claim_async(c, Some(claimed))).unwrap().fresh);
        assert_eq!(w.in_flight.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_probe_commits_and_the_last_write_is_recorded() {
        let (_d, store) = crate::store::test_store();
        let w = writer(&store, ManualClock::new(50));
        assert!(w.last_write().is_none());
        let a = w.identify("k", 50, "n", "");
        assert!(w.claim(a).unwrap().fresh);
        let first = w.last_write().expect("the claim was written");
        assert!(first.error.is_none());
        // a replay writes nothing and leaves the state as it was
        assert!(!w.claim(a).unwrap().fresh);
        assert_eq!(w.last_write().unwrap().at, first.at);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(w.probe_async()).unwrap();
        assert!(w.last_write().unwrap().at > first.at);
        let probed = store
            .with(|c| crate::store::meta::get(c, PROBE_KEY))
            .unwrap();
        assert_eq!(probed.as_deref(), Some("50"));
        assert_eq!(
            w.stats().claims.load(Ordering::Relaxed),
            2,
            "probes are no claims"
        );
    }

    #[test]
    fn a_second_writer_on_the_same_store_is_refused() {
        let (_d, store) = crate::store::test_store();
        let w = writer(&store, ManualClock::new(7));
        let again = NonceWriter::start(&store, ManualClock::new(7), 300);
        assert!(matches!(again, Err(WriterStartError::Locked(_))));
        drop(w);
        assert!(NonceWriter::start(&store, ManualClock::new(7), 300).is_ok());
    }

    #[test]
    fn ids_depend_on_every_field_and_the_salt() {
        let salt = [7u8; 16];
        let id = claim_id(&salt, "k", "n", "");
        assert_eq!(id, claim_id(&salt, "k", "n", ""));
        assert_ne!(id, claim_id(&salt, "k", "n", "d"));
        assert_ne!(id, claim_id(&salt, "kn", "", ""));
        assert_ne!(id, claim_id(&[8u8; 16], "k", "n", ""));
    }

    #[test]
    fn claims_once_first_wins_inside_a_batch_and_across_restarts() {
        let (_d, store) = crate::store::test_store();
        let clock = ManualClock::new(1_000);
        let w = writer(&store, clock.clone());
        let a = w.identify("k", 1_000, "n", "");
        assert!(w.claim(a).unwrap().fresh);
        assert!(!w.claim(a).unwrap().fresh);
        assert!(w.claim(w.identify("k", 1_001, "n", "")).unwrap().fresh);
        assert!(w.claim(w.identify("k2", 1_000, "n", "")).unwrap().fresh);
        assert!(w.claim(w.identify("k", 1_000, "n", "other")).unwrap().fresh);
        drop(w);
        // A new writer (a restart) loads the committed claims and the salt.
        let w = writer(&store, clock);
        assert!(!w.claim(a).unwrap().fresh);
        assert_eq!(w.stats().live.load(Ordering::Relaxed), 4);
        assert_eq!(store.with(|c| count(c)).unwrap(), 4);
    }

    #[test]
    fn concurrent_duplicates_win_once_and_answered_means_committed() {
        let (_d, store) = crate::store::test_store();
        let w = Arc::new(writer(&store, ManualClock::new(7)));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || {
                    (0..50)
                        .filter(|i| {
                            // every identity is claimed by two threads
                            let c = w.identify("k", 7, &format!("n{}-{i}", t / 2), "");
                            w.claim(c).unwrap().fresh
                        })
                        .count()
                })
            })
            .collect();
        let won: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(won, 4 * 50);
        // Another connection sees every answered claim.
        assert_eq!(store.with(|c| count(c)).unwrap(), 200);
        assert!(w.is_running());
        assert_eq!(w.stats().claims.load(Ordering::Relaxed), 400);
    }

    #[test]
    fn the_epoch_moves_when_another_connection_commits() {
        let (_d, store) = crate::store::test_store();
        let w = writer(&store, ManualClock::new(7));
        let e0 = w.claim(w.identify("k", 7, "a", "")).unwrap().epoch;
        assert_eq!(w.claim(w.identify("k", 7, "b", "")).unwrap().epoch, e0);
        store
            .with(|c| crate::store::meta::set(c, "something", "changed"))
            .unwrap();
        let e1 = w.claim(w.identify("k", 7, "c", "")).unwrap().epoch;
        assert!(e1 > e0);
        assert_eq!(w.epoch(), e1);
    }

    #[test]
    fn rows_of_the_old_nonces_table_are_imported() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                c.execute_batch(
                    "INSERT INTO nonces VALUES ('k', 1000, 'n', '', 1301);
                     INSERT INTO nonces VALUES ('k', 10, 'old', '', 311);",
                )
            })
            .unwrap();
        let w = writer(&store, ManualClock::new(1_000));
        assert!(!w.claim(w.identify("k", 1_000, "n", "")).unwrap().fresh);
        let left: i64 = store
            .with(|c| c.query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(store.with(|c| count(c)).unwrap(), 1);
    }

    #[test]
    fn prune_chunks_delete_at_most_the_limit() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|conn| {
                // ten rows (commits) of three claims, the newest of row i at i
                for i in 0..10 {
                    let claims: Vec<NonceClaim> =
                        (0..3).map(|j| NonceClaim { ts: i - j, id: 0 }).collect();
                    append(conn, &claims)?;
                }
                assert_eq!(count(conn)?, 30);
                assert_eq!(prune_chunk(conn, 7, 4)?, 4);
                assert_eq!(prune_chunk(conn, 7, 4)?, 3);
                assert_eq!(prune_chunk(conn, 7, 4)?, 0);
                assert_eq!(count(conn)?, 9);
                let oldest: i64 =
                    conn.query_row("SELECT MIN(last_ts) FROM replay_log", [], |r| r.get(0))?;
                assert_eq!(oldest, 7);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn expired_claims_are_pruned_in_the_background() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|conn| {
                // 500 commits of five claims each, one second per 50 commits
                for i in 0..500u64 {
                    let claims: Vec<NonceClaim> = (0..5)
                        .map(|j| NonceClaim {
                            ts: 90 + (i / 50) as i64,
                            id: i * 5 + j,
                        })
                        .collect();
                    append(conn, &claims)?;
                }
                Ok(())
            })
            .unwrap();
        let clock = ManualClock::new(100);
        let w = writer(&store, clock.clone());
        assert_eq!(w.stats().live.load(Ordering::Relaxed), 2_500);
        assert!(w.claim(w.identify("k", 100, "late", "")).unwrap().fresh);
        // everything before 98 = 400 - 300 - 2 goes
        clock.set(400);
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.with(|c| count(c)).unwrap() > 501 {
            assert!(Instant::now() < deadline, "pruning did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(w.stats().live.load(Ordering::Relaxed), 501);
    }
}
