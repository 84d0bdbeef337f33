//! What hangs off an api key on PostgreSQL: its callback prefixes
//! (store/key_callbacks.rs) and its REST token (store/rest_tokens.rs).

use super::{pg_err, Conn};
use crate::store::StoreError;

pub(crate) async fn callbacks_list(c: Conn, api_key: String) -> Result<Vec<String>, StoreError> {
    let rows = c
        .query(
            "SELECT prefix FROM api_key_callbacks WHERE api_key = $1 ORDER BY prefix",
            &[&api_key],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) async fn key_exists(c: Conn, api_key: String) -> Result<bool, StoreError> {
    let row = c
        .query_opt("SELECT 1 FROM api_keys WHERE api_key = $1", &[&api_key])
        .await
        .map_err(pg_err)?;
    Ok(row.is_some())
}

pub(crate) async fn callbacks_allow(
    c: Conn,
    api_key: String,
    prefix: String,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO api_key_callbacks (api_key, prefix) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&api_key, &prefix],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn callbacks_remove(
    c: Conn,
    api_key: String,
    prefix: String,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "DELETE FROM api_key_callbacks WHERE api_key = $1 AND prefix = $2",
            &[&api_key, &prefix],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn callbacks_clear(c: Conn, api_key: String) -> Result<usize, StoreError> {
    let n = c
        .execute(
            "DELETE FROM api_key_callbacks WHERE api_key = $1",
            &[&api_key],
        )
        .await
        .map_err(pg_err)?;
    Ok(n as usize)
}

/// Stores the digest of a new REST token for an active key; false when the
/// key is unknown or revoked (the row is locked meanwhile).
pub(crate) async fn rest_issue(
    c: Conn,
    api_key: String,
    token_hash: String,
    now: i64,
) -> Result<bool, StoreError> {
    let active = c
        .query_opt(
            "SELECT 1 FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL FOR SHARE",
            &[&api_key],
        )
        .await
        .map_err(pg_err)?
        .is_some();
    if !active {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO rest_tokens (api_key, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (api_key) DO UPDATE SET token_hash = excluded.token_hash,
                                             created_at = excluded.created_at",
        &[&api_key, &token_hash, &now],
    )
    .await
    .map_err(pg_err)?;
    Ok(true)
}

pub(crate) async fn rest_revoke(c: Conn, api_key: String) -> Result<bool, StoreError> {
    let n = c
        .execute("DELETE FROM rest_tokens WHERE api_key = $1", &[&api_key])
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

/// The key and stored digest of the token with digest `wanted`.
pub(crate) async fn rest_lookup(
    c: Conn,
    wanted: String,
) -> Result<Option<(String, String)>, StoreError> {
    let row = c
        .query_opt(
            "SELECT api_key, token_hash FROM rest_tokens WHERE token_hash = $1",
            &[&wanted],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}
