//! The replay claims on PostgreSQL (store/nonces.rs): the nonce writer
//! keeps its group commit, and its commit step becomes one statement per
//! batch whose returned rows are exactly the fresh claims. The database,
//! not a set in memory, decides, so every instance sharing it refuses a
//! claim another one accepted; a claim is answered only after its commit
//! (`synchronous_commit = on`). The writer sends the next batch while the
//! previous one commits (at most two in flight) and prunes expired claims
//! in a task of their own (store/nonces.rs, `pg_send` and `pg_prune`).

use super::{pg_err, Conn};
use crate::store::StoreError;

/// Stores the salt unless one is stored; answers the one kept.
pub(crate) async fn salt(c: Conn, key: String, fresh: String) -> Result<String, StoreError> {
    super::meta::set_once(c, key, fresh).await
}

/// Inserts the claims `(ts, id)` (no two alike) and answers those that were
/// new; a probe also writes `probe` into `meta`. Run atomically.
/// Inserts a batch of claims and answers the fresh ones, with the count of
/// key changes (`key_changes`) as this transaction sees it: both statements
/// go out together (pipelined), one round trip. Both are prepared once per
/// connection (the statement cache of the pool's connections): parsing and
/// planning them for every batch cost PostgreSQL CPU on the cores the
/// server shares (docs/performance.md).
pub(crate) async fn claim(
    c: Conn,
    ts: Vec<i64>,
    ids: Vec<i64>,
    probe: Option<(String, String)>,
) -> Result<(Vec<(i64, i64)>, i64), StoreError> {
    let insert = async {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let insert = c
            .prepare_cached(
                "INSERT INTO replay_claims (ts, id)
                 SELECT unnest($1::int8[]), unnest($2::int8[])
                 ON CONFLICT DO NOTHING RETURNING ts, id",
            )
            .await
            .map_err(pg_err)?;
        let rows = c.query(&insert, &[&ts, &ids]).await.map_err(pg_err)?;
        Ok::<_, StoreError>(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    };
    let changes = async {
        let read = c
            .prepare_cached("SELECT n FROM key_changes WHERE id = 1")
            .await
            .map_err(pg_err)?;
        c.query_one(&read, &[])
            .await
            .map(|r| r.get::<_, i64>(0))
            .map_err(pg_err)
    };
    let (fresh, changes) = tokio::join!(insert, changes);
    if let Some((key, value)) = probe {
        super::meta::set(c.clone(), key, value).await?;
    }
    Ok((fresh?, changes?))
}

/// Deletes at most `limit` claims with a timestamp before `cutoff`.
pub(crate) async fn prune(c: Conn, cutoff: i64, limit: i64) -> Result<usize, StoreError> {
    let n = c
        .execute(
            "DELETE FROM replay_claims WHERE (ts, id) IN (
                 SELECT ts, id FROM replay_claims WHERE ts < $1 ORDER BY ts LIMIT $2)",
            &[&cutoff, &limit],
        )
        .await
        .map_err(pg_err)?;
    Ok(n as usize)
}
