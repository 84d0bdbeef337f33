//! The replay store: each (api_key, timestamp, nonce[, digest]) is claimed once.
//! Rows outlive the timestamp window and are then pruned.

use rusqlite::{params, Connection};

/// Claims a request identity. `Ok(true)` when it is new; `Ok(false)` for a replay.
/// The insert is the check, so concurrent duplicates cannot both win.
pub fn claim(
    conn: &Connection,
    api_key: &str,
    ts: i64,
    nonce: &str,
    digest: &str,
    expires_at: i64,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO nonces (api_key, ts, nonce, digest, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![api_key, ts, nonce, digest, expires_at])?;
    Ok(n == 1)
}

/// Deletes nonces whose timestamp can no longer pass the window.
pub fn prune(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM nonces WHERE expires_at < ?1", [now])
}

/// How many nonces are stored.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_once_and_prunes() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                assert!(claim(c, "k", 100, "n", "", 400)?);
                assert!(!claim(c, "k", 100, "n", "", 400)?);
                assert!(claim(c, "k", 101, "n", "", 401)?);
                assert!(claim(c, "k2", 100, "n", "", 400)?);
                assert!(claim(c, "k", 100, "n", "other-request", 400)?);
                assert_eq!(prune(c, 401)?, 3);
                assert_eq!(count(c)?, 1);
                Ok(())
            })
            .unwrap();
    }
}
