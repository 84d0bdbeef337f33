//! The small groups on PostgreSQL: the audit trail (store/audit.rs), browser
//! sessions (store/sessions.rs) and sign-in failures
//! (store/signin_failures.rs).

use super::{pg_err, Conn};
use crate::store::audit::Entry;
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
