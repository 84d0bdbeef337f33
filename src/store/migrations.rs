//! Versioned schema migrations, tracked in `PRAGMA user_version`. Append only:
//! a released migration is never edited.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: protocol core
    "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        email         TEXT NOT NULL,
        email_lower   TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        firstname     TEXT NOT NULL DEFAULT '',
        surname       TEXT NOT NULL DEFAULT '',
        company       TEXT NOT NULL DEFAULT '',
        status        TEXT NOT NULL DEFAULT 'active',
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    CREATE TABLE api_keys (
        api_key       TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        secret        TEXT NOT NULL,
        role          TEXT NOT NULL DEFAULT 'app',
        debug         INTEGER NOT NULL DEFAULT 0,
        replay        TEXT NOT NULL DEFAULT 'strict',
        owner_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        created_at    INTEGER NOT NULL,
        revoked_at    INTEGER
    );
    CREATE TABLE nonces (
        api_key    TEXT NOT NULL,
        ts         INTEGER NOT NULL,
        nonce      TEXT NOT NULL,
        digest     TEXT NOT NULL DEFAULT '',
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (api_key, ts, nonce, digest)
    ) WITHOUT ROWID;
    CREATE INDEX nonces_by_expiry ON nonces(expires_at);",
    // 2: account administration. `audit.user_id` is deliberately not a
    // foreign key: the trail of a deleted user stays.
    "CREATE TABLE audit (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        changes    TEXT NOT NULL DEFAULT '[]',
        request_id TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_by_user ON audit(user_id, id);
    CREATE TABLE idempotency (
        api_key     TEXT NOT NULL,
        idem_key    TEXT NOT NULL,
        method      TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        secret_hash TEXT,
        owner       TEXT NOT NULL,
        claimed_at  INTEGER NOT NULL,
        status      INTEGER,
        result      TEXT,
        expires_at  INTEGER NOT NULL,
        PRIMARY KEY (api_key, idem_key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_by_expiry ON idempotency(expires_at);
    CREATE INDEX users_by_created ON users(created_at, id);
    CREATE INDEX users_by_status ON users(status, created_at, id);",
    // 3: user tokens, deposits, browser sessions, sign-in throttling
    "CREATE TABLE tokens (
        token        TEXT PRIMARY KEY,
        api_key      TEXT NOT NULL REFERENCES api_keys(api_key) ON DELETE CASCADE,
        user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
        secret       BLOB NOT NULL,
        app_name     TEXT NOT NULL,
        app_logo     TEXT NOT NULL DEFAULT '',
        app_callback TEXT NOT NULL DEFAULT '',
        lang         TEXT NOT NULL DEFAULT 'en',
        state        TEXT NOT NULL DEFAULT 'pending',
        created_at   INTEGER NOT NULL,
        decided_at   INTEGER,
        valid_until  INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE INDEX tokens_by_user ON tokens(user_id, state);
    CREATE TABLE deposits (
        id              INTEGER PRIMARY KEY,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type            TEXT NOT NULL,
        name            TEXT NOT NULL,
        remaining_cents INTEGER NOT NULL,
        total_cents     INTEGER NOT NULL,
        currency        TEXT NOT NULL,
        valid_until     INTEGER
    );
    CREATE INDEX deposits_by_user ON deposits(user_id);
    CREATE TABLE sessions (
        id_hash    TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE signin_failures (
        subject      TEXT PRIMARY KEY,
        failures     INTEGER NOT NULL,
        last_failure INTEGER NOT NULL
    );",
    // 4: api secrets sealed under the master key (panthera_seal is registered
    // by Store::open_with); a second secret during a rollover
    "UPDATE api_keys SET secret = panthera_seal('api_keys.secret:' || api_key, secret)
        WHERE secret NOT LIKE 'v1.%';
    ALTER TABLE api_keys ADD COLUMN old_secret TEXT;
    ALTER TABLE api_keys ADD COLUMN old_secret_until INTEGER;",
];

/// Brings the schema up to date, one transaction per migration.
pub fn apply(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |n: usize, e| StoreError::Migrate(path.to_path_buf(), n, e);
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| err(0, e))?;
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew(
            path.to_path_buf(),
            current,
            MIGRATIONS.len(),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let n = i + 1;
        // IMMEDIATE: two processes starting at once do not both migrate.
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| err(n, e))?;
        let again: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| err(n, e))?;
        let result = if again >= n as i64 {
            Ok(())
        } else {
            conn.execute_batch(sql)
                .and_then(|_| conn.execute_batch(&format!("PRAGMA user_version = {n}")))
        };
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(|e| err(n, e))?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err(n, e));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrating_twice_is_harmless() {
        let (dir, store) = crate::store::test_store();
        drop(store);
        let again = crate::store::Store::open_in(dir.path()).expect("reopen");
        let v: i64 = again
            .with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, super::MIGRATIONS.len() as i64);
    }

    /// A store of schema 1 (plaintext secrets) is sealed by migration 2.
    #[test]
    fn plaintext_secrets_of_schema_1_get_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("panthera.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(super::MIGRATIONS[0]).unwrap();
            c.execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO api_keys (api_key, name, secret, created_at)
                 VALUES ('k1', 'old app', 'plainsecret0123', 0);",
            )
            .unwrap();
        }
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let raw: String = store
            .with(|c| c.query_row("SELECT secret FROM api_keys", [], |r| r.get(0)))
            .unwrap();
        assert!(crate::crypto::is_sealed(&raw), "{raw}");
        assert!(!raw.contains("plainsecret0123"));
        let key = store
            .with(|c| crate::store::keys::find(c, store.keyring(), "k1", 0))
            .unwrap()
            .unwrap();
        assert_eq!(key.secret.expose(), "plainsecret0123");
    }
}
