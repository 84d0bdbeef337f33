//! The store's own facts and secrets on PostgreSQL (store/meta.rs), and the
//! master key rotation's reseal of every secret.

use std::sync::Arc;

use super::{pg_err, Conn, PgOn, PgStore};
use crate::crypto::{is_sealed, Cipher, Keyring};
use crate::store::meta::{secret_aad, SECRETS};
use crate::store::{StoreError, MASTER_KEY_ID};

pub(crate) async fn get(c: Conn, key: String) -> Result<Option<String>, StoreError> {
    let row = c
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| r.get(0)))
}

pub(crate) async fn set(c: Conn, key: String, value: String) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

/// Stores `value` unless the key has one; answers the value kept (the first
/// writer's when two race).
pub(crate) async fn set_once(c: Conn, key: String, value: String) -> Result<String, StoreError> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&key, &value],
    )
    .await
    .map_err(pg_err)?;
    let row = c
        .query_one("SELECT value FROM meta WHERE key = $1", &[&key])
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}

fn unreadable(name: &str, why: &str) -> StoreError {
    StoreError::Failed(format!("meta secret {name}: {why}"))
}

/// The 32-byte secret `name`, made and stored sealed on first use (the
/// first of several instances racing wins; all read it back).
pub(crate) fn secret(on: PgOn<'_>, keyring: &Keyring, name: &str) -> Result<Vec<u8>, StoreError> {
    use rand::RngCore;
    let key = name.to_string();
    let mut stored = on.run(move |c| get(c, key))?;
    if stored.is_none() {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        let sealed = keyring
            .seal(&secret_aad(name), &hex::encode(k))
            .map_err(|e| unreadable(name, &e.to_string()))?;
        let key = name.to_string();
        stored = Some(on.run(move |c| set_once(c, key, sealed))?);
    }
    let stored = stored.unwrap_or_default();
    if !is_sealed(&stored) {
        return Err(unreadable(name, "stored unsealed"));
    }
    let plain = keyring
        .open(&secret_aad(name), &stored)
        .map_err(|e| unreadable(name, &e.to_string()))?;
    hex::decode(plain).map_err(|_| unreadable(name, "not hex"))
}

/// Seals every secret again with `new` (api keys, user tokens, the server's
/// own) and records its id, in one transaction.
pub(crate) fn reseal(
    pg: &PgStore,
    old: &Keyring,
    new: &Cipher,
) -> Result<(usize, usize), StoreError> {
    let tx = pg.begin()?;
    let on = PgOn::Tx(&tx);
    let out = reseal_in(on, old, new);
    tx.finish(out.is_ok())?;
    out
}

fn reseal_in(on: PgOn<'_>, old: &Keyring, new: &Cipher) -> Result<(usize, usize), StoreError> {
    let fail = |what: String| StoreError::Failed(format!("reseal: {what}"));
    // api keys
    let keys = on.run(|c| async move {
        let rows = c
            .query(
                "SELECT api_key, secret, old_secret FROM api_keys FOR UPDATE",
                &[],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, Option<String>>(2),
                )
            })
            .collect::<Vec<_>>())
    })?;
    let mut updates = Vec::with_capacity(keys.len());
    for (api_key, secret, old_secret) in &keys {
        let aad = crate::store::keys::aad(api_key);
        let again = |sealed: &str| -> Result<String, StoreError> {
            let plain = old.open(&aad, sealed).map_err(|e| fail(e.to_string()))?;
            new.seal(&aad, &plain).map_err(|e| fail(e.to_string()))
        };
        let old_again = old_secret.as_deref().map(again).transpose()?;
        updates.push((api_key.clone(), again(secret)?, old_again));
    }
    let n_keys = updates.len();
    on.run(move |c| async move {
        for (api_key, secret, old_secret) in &updates {
            c.execute(
                "UPDATE api_keys SET secret = $2, old_secret = $3 WHERE api_key = $1",
                &[api_key, secret, old_secret],
            )
            .await
            .map_err(pg_err)?;
        }
        Ok(())
    })?;
    // user tokens
    let tokens = on.run(|c| async move {
        let rows = c
            .query("SELECT token, secret FROM tokens FOR UPDATE", &[])
            .await
            .map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
            .collect::<Vec<_>>())
    })?;
    let mut updates = Vec::with_capacity(tokens.len());
    for (token, sealed) in &tokens {
        let plain = crate::store::tokens::open_secret(old, token, sealed)
            .ok_or_else(|| fail("a token secret does not open".into()))?;
        let plain =
            String::from_utf8(plain).map_err(|_| fail("a token secret is not text".into()))?;
        let again = new
            .seal(&crate::store::tokens::secret_aad(token), &plain)
            .map_err(|e| fail(e.to_string()))?;
        updates.push((token.clone(), again.into_bytes()));
    }
    let n_tokens = updates.len();
    on.run(move |c| async move {
        for (token, secret) in &updates {
            c.execute(
                "UPDATE tokens SET secret = $2 WHERE token = $1",
                &[token, secret],
            )
            .await
            .map_err(pg_err)?;
        }
        Ok(())
    })?;
    // the server's own
    let mut server = 0;
    for name in SECRETS {
        let key = name.to_string();
        let Some(stored) = on.run(move |c| get(c, key))? else {
            continue;
        };
        let aad = secret_aad(name);
        let plain = old.open(&aad, &stored).map_err(|e| fail(e.to_string()))?;
        let again = new.seal(&aad, &plain).map_err(|e| fail(e.to_string()))?;
        let key = name.to_string();
        on.run(move |c| set(c, key, again))?;
        server += 1;
    }
    let id = new.id().to_string();
    on.run(move |c| set(c, MASTER_KEY_ID.to_string(), id))?;
    Ok((n_keys + n_tokens, server))
}

/// What `panthera check` looks at on PostgreSQL: the schema version, and
/// every sealed value with the associated data it opens with (api secrets,
/// the old ones in rollover, the server secrets).
pub(crate) async fn sealed_values(c: Conn) -> Result<(i64, Vec<(String, String)>), StoreError> {
    let version: i64 = c
        .query_one("SELECT COALESCE(MAX(version), 0) FROM panthera_schema", &[])
        .await
        .map_err(pg_err)?
        .get(0);
    let mut out = Vec::new();
    for r in c
        .query("SELECT api_key, secret, old_secret FROM api_keys", &[])
        .await
        .map_err(pg_err)?
    {
        let api_key: String = r.get(0);
        let aad = format!("api_keys.secret:{api_key}");
        out.push((aad.clone(), r.get(1)));
        if let Some(old) = r.get::<_, Option<String>>(2) {
            out.push((aad, old));
        }
    }
    for name in SECRETS {
        if let Some(v) = get(Arc::clone(&c), name.to_string()).await? {
            out.push((secret_aad(name), v));
        }
    }
    Ok((version, out))
}
