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
    // 3: user tokens, browser sessions, sign-in throttling
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
    // 5: media catalogue (methods.md §D, §E): authors, media + full-text index,
    // articles, per-user deposits and download orders.
    "CREATE TABLE media_authors (
        id       INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        realname TEXT NOT NULL DEFAULT '',
        user_id  TEXT UNIQUE REFERENCES users(id) ON DELETE SET NULL
    );
    CREATE TABLE media (
        id               INTEGER PRIMARY KEY,
        author_id        INTEGER NOT NULL REFERENCES media_authors(id),
        title            TEXT NOT NULL DEFAULT '',
        description      TEXT NOT NULL DEFAULT '',
        keywords         TEXT NOT NULL DEFAULT '',
        width            INTEGER NOT NULL,
        height           INTEGER NOT NULL,
        mime_type        TEXT NOT NULL DEFAULT 'image/jpeg',
        editorial        INTEGER NOT NULL DEFAULT 0,
        model_release    INTEGER NOT NULL DEFAULT 0,
        property_release INTEGER NOT NULL DEFAULT 0,
        people_number    INTEGER NOT NULL DEFAULT 0,
        color            TEXT NOT NULL DEFAULT 'grey',
        state            TEXT NOT NULL DEFAULT 'green',
        filename         TEXT NOT NULL DEFAULT '',
        downloads        INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        changed_at       INTEGER NOT NULL,
        deleted_at       INTEGER,
        seq              INTEGER NOT NULL UNIQUE
    );
    CREATE INDEX media_by_author ON media(author_id, id);
    -- the public catalogue, newest first: no-q searches and their counts
    CREATE INDEX media_public ON media(created_at, id)
        WHERE state = 'green' AND deleted_at IS NULL;
    -- Only public items (accepted, not deleted) are indexed, so a search
    -- needs no join unless it filters. Never 'rebuild' this index: that
    -- would index every row.
    CREATE VIRTUAL TABLE media_fts USING fts5(
        title, keywords, description,
        content='media', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO media_fts(media_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0)');
    CREATE TRIGGER media_fts_insert AFTER INSERT ON media
    WHEN new.state = 'green' AND new.deleted_at IS NULL BEGIN
        INSERT INTO media_fts(rowid, title, keywords, description)
        VALUES (new.id, new.title, new.keywords, new.description);
    END;
    CREATE TRIGGER media_fts_delete AFTER DELETE ON media
    WHEN old.state = 'green' AND old.deleted_at IS NULL BEGIN
        INSERT INTO media_fts(media_fts, rowid, title, keywords, description)
        VALUES ('delete', old.id, old.title, old.keywords, old.description);
    END;
    CREATE TRIGGER media_fts_update
    AFTER UPDATE OF title, keywords, description, state, deleted_at ON media BEGIN
        INSERT INTO media_fts(media_fts, rowid, title, keywords, description)
        SELECT 'delete', old.id, old.title, old.keywords, old.description
        WHERE old.state = 'green' AND old.deleted_at IS NULL;
        INSERT INTO media_fts(rowid, title, keywords, description)
        SELECT new.id, new.title, new.keywords, new.description
        WHERE new.state = 'green' AND new.deleted_at IS NULL;
    END;
    CREATE TABLE media_articles (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('size', 'extended')),
        name        TEXT NOT NULL,
        description TEXT NOT NULL,
        long_side   INTEGER NOT NULL DEFAULT 0,
        price       INTEGER NOT NULL CHECK (price >= 0),
        currency    TEXT NOT NULL DEFAULT 'credits'
    );
    INSERT INTO media_articles (id, kind, name, description, long_side, price) VALUES
        (1, 'size', 'XS', 'XS', 480, 5),
        (2, 'size', 'S', 'S', 1000, 10),
        (3, 'size', 'M', 'M', 2000, 20),
        (4, 'size', 'XL', 'XL', 0, 40),
        (101, 'extended', 'print', 'Unlimited print run', 0, 50),
        (102, 'extended', 'merchandise', 'Merchandise and resale', 0, 80),
        (103, 'extended', 'multi-seat', 'Up to 10 users', 0, 60);
    CREATE TABLE media_deposits (
        user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        credits    INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
        total      INTEGER NOT NULL DEFAULT 0,
        currency   TEXT NOT NULL DEFAULT 'credits',
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE media_downloads (
        id                INTEGER PRIMARY KEY,
        user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        media_id          INTEGER NOT NULL REFERENCES media(id),
        articles          TEXT NOT NULL,
        width             INTEGER NOT NULL,
        height            INTEGER NOT NULL,
        price             INTEGER NOT NULL,
        currency          TEXT NOT NULL,
        queue_hash        TEXT NOT NULL UNIQUE,
        status            TEXT NOT NULL DEFAULT 'queued',
        callback_url      TEXT,
        callback_state    TEXT NOT NULL DEFAULT 'none',
        callback_attempts INTEGER NOT NULL DEFAULT 0,
        callback_next_at  INTEGER NOT NULL DEFAULT 0,
        created_at        INTEGER NOT NULL,
        ready_at          INTEGER,
        UNIQUE (user_id, media_id, articles)
    );
    CREATE INDEX media_downloads_by_status ON media_downloads(status) WHERE status <> 'ready';
    CREATE INDEX media_downloads_by_callback ON media_downloads(callback_next_at)
        WHERE callback_state = 'pending';",
    // 6: the replay log, one row per group commit: `claims` packs 16 bytes
    // per claim (timestamp i64 LE, salted id u64 LE), `last_ts` is the newest
    // timestamp in it, so the row can go once that one left the window. A
    // commit appends one small row instead of one keyed b-tree entry per
    // claim. The nonce writer holds the live ids in memory, loads them at
    // start and moves rows left in the old `nonces` table (store/nonces.rs).
    "CREATE TABLE replay_log (
        last_ts INTEGER NOT NULL,
        claims  BLOB NOT NULL
    );
    CREATE INDEX replay_log_by_last_ts ON replay_log(last_ts);",
    // 7: callback URL prefixes an api key registered (store/key_callbacks.rs);
    // a key without any accepts every http(s) app_callback.
    "CREATE TABLE api_key_callbacks (
        api_key TEXT NOT NULL REFERENCES api_keys(api_key) ON DELETE CASCADE,
        prefix  TEXT NOT NULL,
        PRIMARY KEY (api_key, prefix)
    ) WITHOUT ROWID;",
    // 8: the REST users API's X-API-Key tokens (store/rest_tokens.rs): one per
    // api key, kept only as a SHA-256 digest of the random token.
    "CREATE TABLE rest_tokens (
        api_key    TEXT PRIMARY KEY REFERENCES api_keys(api_key) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 9: what the original service's search filters and extra_info need
    // (methods.md §F): media type, people's gender and ethnicity, the
    // colour as RGB (backfilled from the colour tag, as `image::rgb`),
    // isolated, adult content, collection; `ftp_access` of request-token.
    "ALTER TABLE media ADD COLUMN media_type TEXT NOT NULL DEFAULT 'photo';
    ALTER TABLE media ADD COLUMN people_gender TEXT NOT NULL DEFAULT '';
    ALTER TABLE media ADD COLUMN people_ethnicity TEXT NOT NULL DEFAULT '';
    ALTER TABLE media ADD COLUMN color_rgb INTEGER;
    ALTER TABLE media ADD COLUMN isolated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE media ADD COLUMN adult_content INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE media ADD COLUMN collection TEXT NOT NULL DEFAULT 'standard';
    UPDATE media SET color_rgb = CASE color
        WHEN 'red' THEN 12857387 WHEN 'orange' THEN 15105570 WHEN 'yellow' THEN 15844367
        WHEN 'green' THEN 3050327 WHEN 'blue' THEN 2712244 WHEN 'purple' THEN 8207512
        WHEN 'pink' THEN 15235232 WHEN 'brown' THEN 7951677 WHEN 'black' THEN 1973794
        WHEN 'white' THEN 15527142 ELSE 8421504 END;
    ALTER TABLE tokens ADD COLUMN ftp_access INTEGER NOT NULL DEFAULT 0;",
    // 10: rate-limit buckets shared by the instances of one store
    // (store/rate_buckets.rs): the state of each token bucket as of its last
    // exchange, and a version that grows with every change, so an instance
    // reads only what changed since its last look.
    "CREATE TABLE rate_buckets (
        id         TEXT PRIMARY KEY,
        tokens     REAL NOT NULL,
        last_ms    INTEGER NOT NULL,
        day        INTEGER NOT NULL,
        used_today INTEGER NOT NULL,
        burst      REAL NOT NULL,
        per_second REAL NOT NULL,
        version    INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX rate_buckets_by_version ON rate_buckets(version);",
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
