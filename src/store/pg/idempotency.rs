//! Idempotency records on PostgreSQL (store/idempotency.rs).

use super::{pg_err, Conn};
use crate::store::idempotency::Stored;
use crate::store::StoreError;

/// The owned fields of a claim.
pub(crate) struct Claim {
    pub scope: String,
    pub key: String,
    pub method: String,
    pub fingerprint: String,
    pub secret_hash: Option<String>,
    pub owner: String,
    pub now: i64,
    pub expires_at: i64,
}

/// See `idempotency::claim`. The insert decides between racing instances
/// (it waits for a concurrent insert of the same key to commit); the row it
/// lost to is read back.
pub(crate) async fn claim(c: Conn, q: Claim) -> Result<Option<Stored>, StoreError> {
    for _ in 0..3 {
        c.execute(
            "DELETE FROM idempotency WHERE api_key = $1 AND idem_key = $2 AND expires_at <= $3",
            &[&q.scope, &q.key, &q.now],
        )
        .await
        .map_err(pg_err)?;
        let inserted = c
            .execute(
                "INSERT INTO idempotency (api_key, idem_key, method, fingerprint, secret_hash,
                                          owner, claimed_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                &[
                    &q.scope,
                    &q.key,
                    &q.method,
                    &q.fingerprint,
                    &q.secret_hash,
                    &q.owner,
                    &q.now,
                    &q.expires_at,
                ],
            )
            .await
            .map_err(pg_err)?;
        if inserted == 1 {
            return Ok(None);
        }
        let row = c
            .query_opt(
                "SELECT method, fingerprint, secret_hash, owner, claimed_at, status, result
                 FROM idempotency WHERE api_key = $1 AND idem_key = $2",
                &[&q.scope, &q.key],
            )
            .await
            .map_err(pg_err)?;
        if let Some(r) = row {
            let status: Option<i64> = r.get(5);
            let result: Option<String> = r.get(6);
            return Ok(Some(Stored {
                method: r.get(0),
                fingerprint: r.get(1),
                secret_hash: r.get(2),
                owner: r.get(3),
                claimed_at: r.get(4),
                outcome: status
                    .map(|s| (u16::try_from(s).unwrap_or(500), result.unwrap_or_default())),
            }));
        }
        // the row it lost to was released meanwhile: try again
    }
    Err(StoreError::Unavailable(
        "idempotency key contended: try again".into(),
    ))
}

pub(crate) async fn take_over(
    c: Conn,
    scope: String,
    key: String,
    old_owner: String,
    new_owner: String,
    now: i64,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE idempotency SET owner = $4, claimed_at = $5
             WHERE api_key = $1 AND idem_key = $2 AND owner = $3 AND status IS NULL",
            &[&scope, &key, &old_owner, &new_owner, &now],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn complete(
    c: Conn,
    scope: String,
    key: String,
    owner: String,
    status: u16,
    result: String,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE idempotency SET status = $4, result = $5
             WHERE api_key = $1 AND idem_key = $2 AND owner = $3 AND status IS NULL",
            &[&scope, &key, &owner, &i64::from(status), &result],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn release(
    c: Conn,
    scope: String,
    key: String,
    owner: String,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "DELETE FROM idempotency
             WHERE api_key = $1 AND idem_key = $2 AND owner = $3 AND status IS NULL",
            &[&scope, &key, &owner],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn prune(c: Conn, now: i64) -> Result<usize, StoreError> {
    let n = c
        .execute("DELETE FROM idempotency WHERE expires_at <= $1", &[&now])
        .await
        .map_err(pg_err)?;
    Ok(n as usize)
}
