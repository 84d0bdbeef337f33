//! Idempotency records: one row per (scope, idempotency_key); the scope
//! (api key, and the user a call acts for) is kept in the `api_key` column. The row is
//! inserted *before* the call runs (the claim), so two concurrent calls with
//! the same key cannot both run; it later holds the call's outcome. The
//! policy around it lives in `methods::idempotency`.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

super::group!(
/// The idempotency records as one group of the storage seam.
    Idempotency,
    idempotency
);

impl Idempotency<'_> {
    /// Claims `req` for `owner` in one step (see [`claim`]).
    pub fn claim(
        &self,
        req: &Request<'_>,
        owner: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Option<Stored>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let q = super::pg::idempotency::Claim {
                scope: req.scope.into(),
                key: req.key.into(),
                method: req.method.into(),
                fingerprint: req.fingerprint.into(),
                secret_hash: req.secret_hash.map(str::to_string),
                owner: owner.into(),
                now,
                expires_at,
            };
            return pg.run(move |c| super::pg::idempotency::claim(c, q));
        }
        self.0.write(|c| Ok(claim(c, req, owner, now, expires_at)?))
    }

    /// Hands a claim past its lease to `new_owner` (see [`take_over`]).
    pub fn take_over(
        &self,
        scope: &str,
        key: &str,
        old_owner: &str,
        new_owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (scope, key) = (scope.to_string(), key.to_string());
            let (old, new) = (old_owner.to_string(), new_owner.to_string());
            return pg
                .run(move |c| super::pg::idempotency::take_over(c, scope, key, old, new, now));
        }
        self.0
            .with(|c| take_over(c, scope, key, old_owner, new_owner, now))
    }

    /// Stores the outcome (see [`complete`]); in the change's transaction
    /// when taken from one.
    pub fn complete(
        &self,
        scope: &str,
        key: &str,
        owner: &str,
        status: u16,
        result: &str,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (scope, key) = (scope.to_string(), key.to_string());
            let (owner, result) = (owner.to_string(), result.to_string());
            return pg.run(move |c| {
                super::pg::idempotency::complete(c, scope, key, owner, status, result)
            });
        }
        self.0
            .with(|c| complete(c, scope, key, owner, status, result))
    }

    /// Drops a running claim (see [`release`]).
    pub fn release(&self, scope: &str, key: &str, owner: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (scope, key, owner) = (scope.to_string(), key.to_string(), owner.to_string());
            return pg.run(move |c| super::pg::idempotency::release(c, scope, key, owner));
        }
        self.0.with(|c| release(c, scope, key, owner))
    }

    /// Deletes expired records; how many.
    pub fn prune(&self, now: i64) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::idempotency::prune(c, now));
        }
        self.0.with(|c| prune(c, now))
    }
}

/// Identifies one request under its key.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The api key, and the user the call acts for (`methods::idempotency`).
    pub scope: &'a str,
    pub key: &'a str,
    pub method: &'a str,
    /// Digest of the request's non-secret parameters.
    pub fingerprint: &'a str,
    /// Argon2id hash of its secret parameters, when it had any.
    pub secret_hash: Option<&'a str>,
}

/// A row found where a claim was attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub method: String,
    pub fingerprint: String,
    pub secret_hash: Option<String>,
    /// Random token of the execution holding the claim.
    pub owner: String,
    pub claimed_at: i64,
    /// `(status, result)` once the call finished; `None` while it runs.
    pub outcome: Option<(u16, String)>,
}

/// Claims `req` for `owner`. `Ok(None)`: claimed, run the call. `Ok(Some)`:
/// the key is already held (running or finished). An expired row is
/// replaced, so a key is reusable after its expiry even before pruning.
/// Call inside a transaction so the check and the insert are one step.
pub fn claim(
    conn: &Connection,
    req: &Request<'_>,
    owner: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<Option<Stored>> {
    conn.execute(
        "DELETE FROM idempotency WHERE api_key = ?1 AND idem_key = ?2 AND expires_at <= ?3",
        params![req.scope, req.key, now],
    )?;
    let inserted = conn.execute(
        "INSERT INTO idempotency (api_key, idem_key, method, fingerprint, secret_hash, owner,
                                  claimed_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        params![
            req.scope,
            req.key,
            req.method,
            req.fingerprint,
            req.secret_hash,
            owner,
            now,
            expires_at
        ],
    )?;
    if inserted == 1 {
        return Ok(None);
    }
    conn.query_row(
        "SELECT method, fingerprint, secret_hash, owner, claimed_at, status, result
         FROM idempotency WHERE api_key = ?1 AND idem_key = ?2",
        params![req.scope, req.key],
        |r| {
            let status: Option<u16> = r.get(5)?;
            let result: Option<String> = r.get(6)?;
            Ok(Stored {
                method: r.get(0)?,
                fingerprint: r.get(1)?,
                secret_hash: r.get(2)?,
                owner: r.get(3)?,
                claimed_at: r.get(4)?,
                outcome: status.map(|s| (s, result.unwrap_or_default())),
            })
        },
    )
    .optional()
}

/// Hands a still-running claim that outlived its lease to `new_owner`;
/// false when someone else finished or took it first.
pub fn take_over(
    conn: &Connection,
    scope: &str,
    key: &str,
    old_owner: &str,
    new_owner: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE idempotency SET owner = ?4, claimed_at = ?5
         WHERE api_key = ?1 AND idem_key = ?2 AND owner = ?3 AND status IS NULL",
        params![scope, key, old_owner, new_owner, now],
    )?;
    Ok(n == 1)
}

/// Stores the outcome; false when `owner` no longer holds a running claim
/// (it was taken over, or the outcome is already stored).
pub fn complete(
    conn: &Connection,
    scope: &str,
    key: &str,
    owner: &str,
    status: u16,
    result: &str,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE idempotency SET status = ?4, result = ?5
             WHERE api_key = ?1 AND idem_key = ?2 AND owner = ?3 AND status IS NULL",
        )?
        .execute(params![scope, key, owner, status, result])?;
    Ok(n == 1)
}

/// Drops a running claim (the call failed in a way worth retrying).
pub fn release(conn: &Connection, scope: &str, key: &str, owner: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM idempotency
         WHERE api_key = ?1 AND idem_key = ?2 AND owner = ?3 AND status IS NULL",
        params![scope, key, owner],
    )?;
    Ok(n == 1)
}

/// Deletes expired records.
pub fn prune(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM idempotency WHERE expires_at <= ?1", [now])
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: Request<'static> = Request {
        scope: "k",
        key: "order-1",
        method: "create-user",
        fingerprint: "f1",
        secret_hash: None,
    };

    #[test]
    fn claim_complete_and_expire() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                assert_eq!(claim(c, &REQ, "a", 100, 200)?, None);
                let held = claim(c, &REQ, "b", 101, 201)?.expect("held");
                assert_eq!((held.owner.as_str(), held.outcome.clone()), ("a", None));
                // only the owner completes, once
                assert!(!complete(c, "k", "order-1", "b", 200, "x")?);
                assert!(complete(c, "k", "order-1", "a", 200, "answer")?);
                assert!(!complete(c, "k", "order-1", "a", 200, "again")?);
                let done = claim(c, &REQ, "b", 150, 250)?.expect("done");
                assert_eq!(done.outcome, Some((200, "answer".into())));
                // a finished claim cannot be taken over or released
                assert!(!take_over(c, "k", "order-1", "a", "b", 150)?);
                assert!(!release(c, "k", "order-1", "a")?);
                // another api key has its own namespace
                assert_eq!(
                    claim(c, &Request { scope: "k2", ..REQ }, "c", 150, 250)?,
                    None
                );
                // expired: claimable again
                assert_eq!(claim(c, &REQ, "d", 200, 300)?, None);
                assert!(take_over(c, "k", "order-1", "d", "e", 210)?);
                assert!(release(c, "k", "order-1", "e")?);
                assert_eq!(prune(c, 1000)?, 1);
                Ok(())
            })
            .unwrap();
    }
}
