//! Versioned PostgreSQL migrations, tracked in `panthera_schema`. Append
//! only: a released step is never edited. Step 1 is the SQLite schema as it
//! stands after its migration 9 (store/migrations.rs), translated.
//!
//! They run at open under an advisory lock, so several instances starting
//! at once migrate one after the other (the later ones find nothing left to
//! do); a database migrated by a newer build is refused.

use super::{pg_err, Conn};
use crate::store::StoreError;

/// The advisory lock migrations hold: one per schema.
const LOCK: &str = "hashtext('panthera.migrations.' || current_schema())";

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store has after its migration 9.
    r#"
    CREATE TABLE meta (
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
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL
    );
    CREATE INDEX users_by_created ON users(created_at, id);
    CREATE INDEX users_by_status ON users(status, created_at, id);
    CREATE TABLE api_keys (
        api_key          TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        secret           TEXT NOT NULL,
        role             TEXT NOT NULL DEFAULT 'app',
        debug            BOOLEAN NOT NULL DEFAULT FALSE,
        replay           TEXT NOT NULL DEFAULT 'strict',
        owner_user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
        created_at       BIGINT NOT NULL,
        revoked_at       BIGINT,
        old_secret       TEXT,
        old_secret_until BIGINT
    );
    -- `audit.user_id` is deliberately not a foreign key: the trail of a
    -- deleted user stays.
    CREATE TABLE audit (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at         BIGINT NOT NULL,
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
        claimed_at  BIGINT NOT NULL,
        status      BIGINT,
        result      TEXT,
        expires_at  BIGINT NOT NULL,
        PRIMARY KEY (api_key, idem_key)
    );
    CREATE INDEX idempotency_by_expiry ON idempotency(expires_at);
    CREATE TABLE tokens (
        token        TEXT PRIMARY KEY,
        api_key      TEXT NOT NULL REFERENCES api_keys(api_key) ON DELETE CASCADE,
        user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
        secret       BYTEA NOT NULL,
        app_name     TEXT NOT NULL,
        app_logo     TEXT NOT NULL DEFAULT '',
        app_callback TEXT NOT NULL DEFAULT '',
        lang         TEXT NOT NULL DEFAULT 'en',
        state        TEXT NOT NULL DEFAULT 'pending',
        created_at   BIGINT NOT NULL,
        decided_at   BIGINT,
        valid_until  BIGINT NOT NULL,
        last_used_at BIGINT,
        ftp_access   BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX tokens_by_user ON tokens(user_id, state);
    CREATE TABLE sessions (
        id_hash    TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE signin_failures (
        subject      TEXT PRIMARY KEY,
        failures     BIGINT NOT NULL,
        last_failure BIGINT NOT NULL
    );
    CREATE TABLE api_key_callbacks (
        api_key TEXT NOT NULL REFERENCES api_keys(api_key) ON DELETE CASCADE,
        prefix  TEXT NOT NULL,
        PRIMARY KEY (api_key, prefix)
    );
    CREATE TABLE rest_tokens (
        api_key    TEXT PRIMARY KEY REFERENCES api_keys(api_key) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
    );

    -- The replay claims (store/pg/nonces.rs): one row per claim, its
    -- timestamp second and the salted 64-bit id of (api key, nonce,
    -- digest) the nonce writer computes; logged (an unlogged table would
    -- be emptied by a crash).
    CREATE TABLE replay_claims (
        ts BIGINT NOT NULL,
        id BIGINT NOT NULL,
        PRIMARY KEY (ts, id)
    );

    -- Full-text search: the `simple` configuration, accents folded when the
    -- unaccent extension can be had.
    DO $$
    BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'unaccent is not available: accents are not folded';
    END $$;
    CREATE TEXT SEARCH CONFIGURATION panthera_search (COPY = pg_catalog.simple);
    DO $$
    DECLARE dict TEXT;
    BEGIN
        SELECT quote_ident(n.nspname) || '.unaccent' INTO dict
        FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
        WHERE d.dictname = 'unaccent' LIMIT 1;
        IF dict IS NOT NULL THEN
            EXECUTE 'ALTER TEXT SEARCH CONFIGURATION panthera_search
                ALTER MAPPING FOR asciiword, word, hword, hword_part,
                    asciihword, hword_asciipart WITH ' || dict || ', simple';
        END IF;
    END $$;

    CREATE TABLE media_authors (
        id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        realname TEXT NOT NULL DEFAULT '',
        user_id  TEXT UNIQUE REFERENCES users(id) ON DELETE SET NULL
    );
    -- ids are chosen (imports) or the next after the highest, under the
    -- catalogue's advisory lock (store/pg/media.rs), as SQLite's rowids
    CREATE TABLE media (
        id               BIGINT PRIMARY KEY,
        author_id        BIGINT NOT NULL REFERENCES media_authors(id),
        title            TEXT NOT NULL DEFAULT '',
        description      TEXT NOT NULL DEFAULT '',
        keywords         TEXT NOT NULL DEFAULT '',
        width            BIGINT NOT NULL,
        height           BIGINT NOT NULL,
        mime_type        TEXT NOT NULL DEFAULT 'image/jpeg',
        editorial        BOOLEAN NOT NULL DEFAULT FALSE,
        model_release    BOOLEAN NOT NULL DEFAULT FALSE,
        property_release BOOLEAN NOT NULL DEFAULT FALSE,
        people_number    BIGINT NOT NULL DEFAULT 0,
        color            TEXT NOT NULL DEFAULT 'grey',
        state            TEXT NOT NULL DEFAULT 'green',
        filename         TEXT NOT NULL DEFAULT '',
        downloads        BIGINT NOT NULL DEFAULT 0,
        created_at       BIGINT NOT NULL,
        changed_at       BIGINT NOT NULL,
        deleted_at       BIGINT,
        seq              BIGINT NOT NULL UNIQUE,
        media_type       TEXT NOT NULL DEFAULT 'photo',
        people_gender    TEXT NOT NULL DEFAULT '',
        people_ethnicity TEXT NOT NULL DEFAULT '',
        color_rgb        BIGINT,
        isolated         BOOLEAN NOT NULL DEFAULT FALSE,
        adult_content    BOOLEAN NOT NULL DEFAULT FALSE,
        collection       TEXT NOT NULL DEFAULT 'standard',
        -- title A, keywords B, description C
        search           tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('panthera_search', title), 'A')
            || setweight(to_tsvector('panthera_search', keywords), 'B')
            || setweight(to_tsvector('panthera_search', description), 'C')
        ) STORED
    );
    CREATE INDEX media_by_author ON media(author_id, id);
    CREATE INDEX media_by_changed ON media(changed_at, id);
    -- the public catalogue, newest first: no-q searches and their counts
    CREATE INDEX media_public ON media(created_at, id)
        WHERE state = 'green' AND deleted_at IS NULL;
    -- only public items are searched
    CREATE INDEX media_search ON media USING GIN (search)
        WHERE state = 'green' AND deleted_at IS NULL;
    CREATE TABLE media_articles (
        id          BIGINT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('size', 'extended')),
        name        TEXT NOT NULL,
        description TEXT NOT NULL,
        long_side   BIGINT NOT NULL DEFAULT 0,
        price       BIGINT NOT NULL CHECK (price >= 0),
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
        credits    BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
        total      BIGINT NOT NULL DEFAULT 0,
        currency   TEXT NOT NULL DEFAULT 'credits',
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE media_downloads (
        id                BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        media_id          BIGINT NOT NULL REFERENCES media(id),
        articles          TEXT NOT NULL,
        width             BIGINT NOT NULL,
        height            BIGINT NOT NULL,
        price             BIGINT NOT NULL,
        currency          TEXT NOT NULL,
        queue_hash        TEXT NOT NULL UNIQUE,
        status            TEXT NOT NULL DEFAULT 'queued',
        callback_url      TEXT,
        callback_state    TEXT NOT NULL DEFAULT 'none',
        callback_attempts BIGINT NOT NULL DEFAULT 0,
        callback_next_at  BIGINT NOT NULL DEFAULT 0,
        created_at        BIGINT NOT NULL,
        ready_at          BIGINT,
        UNIQUE (user_id, media_id, articles)
    );
    CREATE INDEX media_downloads_by_status ON media_downloads(status) WHERE status <> 'ready';
    CREATE INDEX media_downloads_by_callback ON media_downloads(callback_next_at)
        WHERE callback_state = 'pending';
    "#,
    // 2: a counter every change of `api_keys` bumps (a trigger, whoever
    // writes: an instance, the command line, psql), which the nonce writers
    // read with each batch: an instance's key cache stays valid until a key
    // changes anywhere, instead of being read again on every request.
    r#"
    CREATE TABLE key_changes (
        id INT PRIMARY KEY CHECK (id = 1),
        n  BIGINT NOT NULL
    );
    INSERT INTO key_changes (id, n) VALUES (1, 0);
    CREATE FUNCTION panthera_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE key_changes SET n = n + 1 WHERE id = 1;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION panthera_key_changed();
    "#,
    // 3: rate-limit buckets the instances share (store/rate_buckets.rs): each
    // bucket as of its last exchange, stamped from a sequence so that an
    // instance reads only the buckets changed since its last look.
    r#"
    CREATE SEQUENCE rate_bucket_versions;
    CREATE TABLE rate_buckets (
        id         TEXT PRIMARY KEY,
        tokens     DOUBLE PRECISION NOT NULL,
        last_ms    BIGINT NOT NULL,
        day        BIGINT NOT NULL,
        used_today BIGINT NOT NULL,
        burst      DOUBLE PRECISION NOT NULL,
        per_second DOUBLE PRECISION NOT NULL,
        version    BIGINT NOT NULL
    );
    CREATE INDEX rate_buckets_by_version ON rate_buckets(version);
    CREATE INDEX rate_buckets_by_last_ms ON rate_buckets(last_ms);
    "#,
];

/// Brings the schema up to date, one transaction per step, holding the
/// advisory lock (on this connection's session) throughout.
pub(crate) async fn apply(c: Conn) -> Result<(), StoreError> {
    // waiting for another instance's migration is no slow statement
    c.batch_execute("SET statement_timeout = 0")
        .await
        .map_err(pg_err)?;
    c.batch_execute(&format!("SELECT pg_advisory_lock({LOCK})"))
        .await
        .map_err(pg_err)?;
    let out = apply_locked(&c).await;
    let unlocked = c
        .batch_execute(&format!("SELECT pg_advisory_unlock({LOCK})"))
        .await
        .map_err(pg_err);
    let reset = c
        .batch_execute("RESET statement_timeout")
        .await
        .map_err(pg_err);
    out.and(unlocked).and(reset)
}

async fn apply_locked(c: &Conn) -> Result<(), StoreError> {
    c.batch_execute("CREATE TABLE IF NOT EXISTS panthera_schema (version BIGINT NOT NULL)")
        .await
        .map_err(pg_err)?;
    let current: i64 = c
        .query_one("SELECT COALESCE(MAX(version), 0) FROM panthera_schema", &[])
        .await
        .map_err(pg_err)?
        .get(0);
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew(
            std::path::PathBuf::from("postgresql"),
            current,
            MIGRATIONS.len(),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let n = i as i64 + 1;
        let step = async {
            c.batch_execute("BEGIN").await?;
            c.batch_execute(sql).await?;
            c.execute("INSERT INTO panthera_schema (version) VALUES ($1)", &[&n])
                .await?;
            c.batch_execute("COMMIT").await
        };
        if let Err(e) = step.await {
            let _ = c.batch_execute("ROLLBACK").await;
            return Err(StoreError::Failed(format!(
                "PostgreSQL migration {n} failed: {e}"
            )));
        }
    }
    Ok(())
}
