//! API keys on PostgreSQL (store/keys.rs). Secrets are sealed and opened in
//! Rust with the master key, never in SQL.

use tokio_postgres::Row;

use super::{pg_err, Conn, PgOn};
use crate::crypto::Keyring;
use crate::store::keys::{
    aad, old_secret_accepted, random_hex, ApiKey, ReplayPolicy, Role, Rotation, Secret,
};
use crate::store::{now_unix, StoreError};

const COLUMNS: &str = "api_key, name, role, debug, replay, owner_user_id, created_at, revoked_at, \
     old_secret IS NOT NULL, old_secret_until, secret, old_secret";

fn sealing(e: crate::crypto::CryptoError) -> StoreError {
    StoreError::Failed(format!("api key secret: {e}"))
}

/// The row without its secrets.
fn from_row(r: &Row) -> ApiKey {
    let role: String = r.get(2);
    let replay: String = r.get(4);
    ApiKey {
        api_key: r.get(0),
        name: r.get(1),
        secret: Secret::new(String::new()),
        old_secret: None,
        rollover: r.get(8),
        old_secret_until: r.get(9),
        role: Role::parse(&role).unwrap_or(Role::App),
        debug: r.get(3),
        replay: ReplayPolicy::parse(&replay).unwrap_or(ReplayPolicy::Strict),
        owner_user_id: r.get(5),
        created_at: r.get(6),
        revoked_at: r.get(7),
    }
}

/// See `keys::find`: the secrets are opened here, on the caller's thread.
pub(crate) fn find(
    on: PgOn<'_>,
    keyring: &Keyring,
    api_key: &str,
    now: i64,
) -> Result<Option<ApiKey>, StoreError> {
    let k = api_key.to_string();
    let row = on.run(move |c| async move {
        let row = c
            .query_opt(
                &format!("SELECT {COLUMNS} FROM api_keys WHERE api_key = $1"),
                &[&k],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.map(|r| {
            (
                from_row(&r),
                r.get::<_, String>(10),
                r.get::<_, Option<String>>(11),
            )
        }))
    })?;
    let Some((mut key, sealed, old)) = row else {
        keyring.open_decoy();
        return Ok(None);
    };
    let aad = aad(&key.api_key);
    key.secret = Secret::new(keyring.open(&aad, &sealed).map_err(sealing)?);
    if let (Some(old), true) = (old, old_secret_accepted(key.old_secret_until, now)) {
        key.old_secret = Some(Secret::new(keyring.open(&aad, &old).map_err(sealing)?));
    }
    Ok(Some(key))
}

pub(crate) fn create(
    on: PgOn<'_>,
    keyring: &Keyring,
    name: &str,
    role: Role,
    owner_user_id: Option<&str>,
) -> Result<ApiKey, StoreError> {
    let key = ApiKey::fresh(name, role, owner_user_id);
    let sealed = keyring
        .seal(&aad(&key.api_key), key.secret.expose())
        .map_err(sealing)?;
    let k = key.clone();
    on.run(move |c| async move {
        c.execute(
            "INSERT INTO api_keys (api_key, name, secret, role, debug, replay, owner_user_id, created_at)
             VALUES ($1, $2, $3, $4, FALSE, $5, $6, $7)",
            &[
                &k.api_key,
                &k.name,
                &sealed,
                &k.role.as_str(),
                &k.replay.as_str(),
                &k.owner_user_id,
                &k.created_at,
            ],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    })?;
    Ok(key)
}

pub(crate) async fn list(c: Conn) -> Result<Vec<ApiKey>, StoreError> {
    let rows = c
        .query(
            &format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, api_key"),
            &[],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(from_row).collect())
}

pub(crate) async fn revoke(c: Conn, api_key: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE api_key = $1 AND revoked_at IS NULL",
            &[&api_key, &now_unix()],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

/// See `keys::rotate`; the row is locked while the new secret is made.
pub(crate) fn rotate(
    on: PgOn<'_>,
    keyring: &Keyring,
    api_key: &str,
    now: i64,
    grace_secs: u64,
) -> Result<Rotation, StoreError> {
    let secret = Secret::new(random_hex(20));
    let sealed = keyring
        .seal(&aad(api_key), secret.expose())
        .map_err(sealing)?;
    let until =
        (grace_secs > 0).then(|| now.saturating_add(i64::try_from(grace_secs).unwrap_or(i64::MAX)));
    let k = api_key.to_string();
    on.write(move |c| async move {
        let row = c
            .query_opt(
                "SELECT secret, old_secret, old_secret_until FROM api_keys
                 WHERE api_key = $1 AND revoked_at IS NULL FOR UPDATE",
                &[&k],
            )
            .await
            .map_err(pg_err)?;
        let Some(row) = row else {
            return Ok(Rotation::NoSuchKey);
        };
        let current: String = row.get(0);
        let old: Option<String> = row.get(1);
        let old_until: Option<i64> = row.get(2);
        if old.is_some() && old_until.is_none_or(|u| now < u) {
            return Ok(Rotation::InProgress { until: old_until });
        }
        c.execute(
            "UPDATE api_keys SET secret = $2, old_secret = $3, old_secret_until = $4
             WHERE api_key = $1",
            &[&k, &sealed, &current, &until],
        )
        .await
        .map_err(pg_err)?;
        Ok(Rotation::Rotated { secret, until })
    })
}

pub(crate) async fn retire_secret(c: Conn, api_key: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE api_keys SET old_secret = NULL, old_secret_until = NULL
             WHERE api_key = $1 AND old_secret IS NOT NULL",
            &[&api_key],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn set_options(
    c: Conn,
    api_key: String,
    debug: Option<bool>,
    replay: Option<ReplayPolicy>,
) -> Result<bool, StoreError> {
    let replay = replay.map(ReplayPolicy::as_str);
    let n = c
        .execute(
            "UPDATE api_keys SET debug = COALESCE($2, debug), replay = COALESCE($3, replay)
             WHERE api_key = $1",
            &[&api_key, &debug, &replay],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}
