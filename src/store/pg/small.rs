//! The small groups on PostgreSQL: the audit trail (store/audit.rs), browser
//! sessions (store/sessions.rs), sign-in failures
//! (store/signin_failures.rs) and the shared rate-limit buckets
//! (store/rate_buckets.rs).

use super::{pg_err, Conn};
use crate::store::audit::Entry;
use crate::store::rate_buckets::{Exchanged, SharedBucket, Taken};
use crate::store::StoreError;

/// An owned audit record.
pub(crate) struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub user_id: String,
    pub changes: String,
    pub request_id: String,
}

pub(crate) async fn audit_record(c: Conn, r: AuditRow) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO audit (at, actor, action, user_id, changes, request_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &r.at,
            &r.actor,
            &r.action,
            &r.user_id,
            &r.changes,
            &r.request_id,
        ],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn audit_list(c: Conn, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = c
        .query(
            "SELECT id, at, actor, action, user_id, changes, request_id
             FROM audit ORDER BY id DESC LIMIT $1",
            &[&(if limit < 0 { i64::MAX } else { limit })],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows
        .iter()
        .map(|r| {
            let changes: String = r.get(5);
            Entry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                user_id: r.get(4),
                changes: serde_json::from_str(&changes).unwrap_or_default(),
                request_id: r.get(6),
            }
        })
        .collect())
}

pub(crate) async fn session_create(
    c: Conn,
    id_hash: String,
    user_id: String,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        &[&id_hash, &user_id, &now, &expires_at],
    )
    .await
    .map_err(pg_err)?;
    c.execute("DELETE FROM sessions WHERE expires_at < $1", &[&now])
        .await
        .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn session_user_of(
    c: Conn,
    id_hash: String,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let row = c
        .query_opt(
            "SELECT user_id FROM sessions WHERE id_hash = $1 AND expires_at >= $2",
            &[&id_hash, &now],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| r.get(0)))
}

pub(crate) async fn session_delete(c: Conn, id_hash: String) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])
        .await
        .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn session_count_for_user(c: Conn, user_id: String) -> Result<i64, StoreError> {
    let row = c
        .query_one(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}

pub(crate) async fn session_delete_for_user(c: Conn, user_id: String) -> Result<usize, StoreError> {
    let n = c
        .execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])
        .await
        .map_err(pg_err)?;
    Ok(n as usize)
}

pub(crate) async fn failures_get(
    c: Conn,
    subject: String,
) -> Result<Option<(u32, i64)>, StoreError> {
    let row = c
        .query_opt(
            "SELECT failures, last_failure FROM signin_failures WHERE subject = $1",
            &[&subject],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| {
        let n: i64 = r.get(0);
        (u32::try_from(n).unwrap_or(u32::MAX), r.get(1))
    }))
}

pub(crate) async fn failures_record(c: Conn, subject: String, now: i64) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO signin_failures (subject, failures, last_failure) VALUES ($1, 1, $2)
         ON CONFLICT (subject) DO UPDATE
         SET failures = signin_failures.failures + 1, last_failure = $2",
        &[&subject, &now],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn failures_clear(c: Conn, subject: String) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM signin_failures WHERE subject = $1",
        &[&subject],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

/// Merges one instance's takes into the shared buckets in one statement (the
/// same merge as `rate_buckets::merged`, written in SQL), then reads every
/// bucket changed after `since`.
pub(crate) async fn rate_exchange(
    c: Conn,
    taken: Vec<Taken>,
    now_ms: i64,
    since: i64,
) -> Result<Exchanged, StoreError> {
    if !taken.is_empty() {
        let ids: Vec<&str> = taken.iter().map(|t| t.id.as_str()).collect();
        let counts: Vec<i64> = taken.iter().map(|t| t.taken as i64).collect();
        let bursts: Vec<f64> = taken.iter().map(|t| f64::from(t.burst)).collect();
        let rates: Vec<f64> = taken.iter().map(|t| t.per_second).collect();
        let today = now_ms.div_euclid(86_400_000);
        c.execute(
            "INSERT INTO rate_buckets AS b
                 (id, tokens, last_ms, day, used_today, burst, per_second, version)
             SELECT t.id, t.burst - t.taken, $5, $6, t.taken, t.burst, t.per_second,
                    nextval('rate_bucket_versions')
             FROM unnest($1::text[], $2::int8[], $3::float8[], $4::float8[])
                  AS t(id, taken, burst, per_second)
             ON CONFLICT (id) DO UPDATE SET
                 tokens = LEAST(EXCLUDED.burst,
                                b.tokens + GREATEST($5 - b.last_ms, 0) * EXCLUDED.per_second / 1000.0)
                          - EXCLUDED.used_today,
                 last_ms = GREATEST(b.last_ms, $5),
                 day = GREATEST(b.day, $6),
                 used_today = CASE WHEN b.day >= $6 THEN b.used_today + EXCLUDED.used_today
                                   ELSE EXCLUDED.used_today END,
                 burst = EXCLUDED.burst,
                 per_second = EXCLUDED.per_second,
                 version = nextval('rate_bucket_versions')",
            &[&ids, &counts, &bursts, &rates, &now_ms, &today],
        )
        .await
        .map_err(pg_err)?;
    }
    let rows = c
        .query(
            "SELECT id, tokens, last_ms, day, used_today, version FROM rate_buckets
             WHERE version > $1 ORDER BY version",
            &[&since],
        )
        .await
        .map_err(pg_err)?;
    let mut out = Exchanged {
        changed: Vec::with_capacity(rows.len()),
        version: since,
    };
    for r in &rows {
        out.version = out.version.max(r.get(5));
        out.changed.push(SharedBucket {
            id: r.get(0),
            tokens: r.get(1),
            last_ms: r.get(2),
            day: r.get(3),
            used_today: r.get::<_, i64>(4).max(0) as u64,
        });
    }
    Ok(out)
}

/// Forgets buckets nobody touched since `before_ms`.
pub(crate) async fn rate_prune(c: Conn, before_ms: i64) -> Result<usize, StoreError> {
    let n = c
        .execute("DELETE FROM rate_buckets WHERE last_ms < $1", &[&before_ms])
        .await
        .map_err(pg_err)?;
    Ok(n as usize)
}
