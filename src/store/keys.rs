//! API keys: the apps that may call the service, their secrets and settings.
//! Secrets are stored sealed under the master key (`crate::crypto`); during a
//! rollover a key has two accepted secrets.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use rand::RngCore;
use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{now_unix, StoreError};
use crate::crypto::{Cipher, CryptoError, Keyring};

/// A secret that never shows up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    /// The secret itself; call only where it is used as a key or shown once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    App,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "app" => Some(Role::App),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// How strictly (api_key, timestamp, nonce) replays are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayPolicy {
    /// The triple is accepted once (the default).
    Strict,
    /// For legacy clients that reuse a nonce within one second: the triple
    /// may repeat for *different* requests; an identical request is still a replay.
    Lenient,
}

impl ReplayPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayPolicy::Strict => "strict",
            ReplayPolicy::Lenient => "lenient",
        }
    }
    pub fn parse(s: &str) -> Option<ReplayPolicy> {
        match s {
            "strict" => Some(ReplayPolicy::Strict),
            "lenient" => Some(ReplayPolicy::Lenient),
            _ => None,
        }
    }
}

/// One stored api key.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub api_key: String,
    pub name: String,
    /// The current secret; empty when listed ([`list`] never unseals).
    #[serde(skip)]
    pub secret: Secret,
    /// The previous secret while a rollover accepts it ([`find`] only).
    #[serde(skip)]
    pub old_secret: Option<Secret>,
    /// True while a previous secret is kept (`keys rotate` until retired).
    pub rollover: bool,
    /// When the previous secret stops being accepted; `None` = until retired.
    pub old_secret_until: Option<i64>,
    pub role: Role,
    pub debug: bool,
    pub replay: ReplayPolicy,
    pub owner_user_id: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "api_key, name, role, debug, replay, owner_user_id, created_at, revoked_at, \
     old_secret IS NOT NULL, old_secret_until, secret, old_secret";

/// The associated data that binds a sealed secret to its key's row.
pub(crate) fn aad(api_key: &str) -> String {
    format!("api_keys.secret:{api_key}")
}

fn crypto_err(e: CryptoError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(10, Type::Text, Box::new(e))
}

/// The row without its secrets.
fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let role: String = r.get(2)?;
    let replay: String = r.get(4)?;
    Ok(ApiKey {
        api_key: r.get(0)?,
        name: r.get(1)?,
        secret: Secret::new(String::new()),
        old_secret: None,
        rollover: r.get(8)?,
        old_secret_until: r.get(9)?,
        role: Role::parse(&role).unwrap_or(Role::App),
        debug: r.get(3)?,
        replay: ReplayPolicy::parse(&replay).unwrap_or(ReplayPolicy::Strict),
        owner_user_id: r.get(5)?,
        created_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl ApiKey {
    /// A new key with a fresh random key (64 hex) and secret (40 hex), not
    /// stored yet: every backend's `create` stores one.
    pub(crate) fn fresh(name: &str, role: Role, owner_user_id: Option<&str>) -> ApiKey {
        ApiKey {
            api_key: random_hex(32),
            name: name.to_string(),
            secret: Secret::new(random_hex(20)),
            old_secret: None,
            rollover: false,
            old_secret_until: None,
            role,
            debug: false,
            replay: ReplayPolicy::Strict,
            owner_user_id: owner_user_id.map(str::to_string),
            created_at: now_unix(),
            revoked_at: None,
        }
    }
}

/// Creates a key with a fresh random key (64 hex) and secret (40 hex); the
/// answer holds the secret in clear, the store only sealed.
pub fn create(
    conn: &Connection,
    keyring: &Keyring,
    name: &str,
    role: Role,
    owner_user_id: Option<&str>,
) -> rusqlite::Result<ApiKey> {
    let key = ApiKey::fresh(name, role, owner_user_id);
    conn.execute(
        "INSERT INTO api_keys (api_key, name, secret, role, debug, replay, owner_user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
        params![
            key.api_key,
            key.name,
            keyring
                .seal(&aad(&key.api_key), key.secret.expose())
                .map_err(crypto_err)?,
            role.as_str(),
            key.replay.as_str(),
            key.owner_user_id,
            key.created_at
        ],
    )?;
    Ok(key)
}

super::group!(
/// The api keys as one group of the storage seam: callers name a key,
/// never a connection.
    Keys,
    keys
);

impl Keys<'_> {
    /// Looks a key up, revoked or not, with its secrets unsealed (see [`find`]).
    pub fn find(&self, api_key: &str, now: i64) -> Result<Option<ApiKey>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return super::pg::keys::find(pg, self.0.keyring(), api_key, now);
        }
        self.0.read(|c| find(c, self.0.keyring(), api_key, now))
    }

    /// A new key with a fresh secret (see [`create`]).
    pub fn create(
        &self,
        name: &str,
        role: Role,
        owner_user_id: Option<&str>,
    ) -> Result<ApiKey, StoreError> {
        if let Some(pg) = self.0.pg() {
            return super::pg::keys::create(pg, self.0.keyring(), name, role, owner_user_id);
        }
        self.0
            .with(|c| create(c, self.0.keyring(), name, role, owner_user_id))
    }

    /// Every key, revoked ones too.
    pub fn list(&self) -> Result<Vec<ApiKey>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(super::pg::keys::list);
        }
        self.0.with(list)
    }

    /// Revokes a key; false when unknown or revoked before.
    pub fn revoke(&self, api_key: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keys::revoke(c, api_key));
        }
        self.0.with(|c| revoke(c, api_key))
    }

    /// A new secret; the old one stays valid for `grace` seconds (see
    /// [`rotate`]).
    pub fn rotate(&self, api_key: &str, now: i64, grace: u64) -> Result<Rotation, StoreError> {
        if let Some(pg) = self.0.pg() {
            return super::pg::keys::rotate(pg, self.0.keyring(), api_key, now, grace);
        }
        self.0
            .write(|c| Ok(rotate(c, self.0.keyring(), api_key, now, grace)?))
    }

    /// Ends the old secret's rollover; false when there is none.
    pub fn retire_secret(&self, api_key: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keys::retire_secret(c, api_key));
        }
        self.0.with(|c| retire_secret(c, api_key))
    }

    /// Changes the debug flag and replay policy given; false when unknown.
    pub fn set_options(
        &self,
        api_key: &str,
        debug: Option<bool>,
        replay: Option<ReplayPolicy>,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keys::set_options(c, api_key, debug, replay));
        }
        self.0.with(|c| set_options(c, api_key, debug, replay))
    }
}

/// Looks a key up, revoked or not, with its secrets unsealed: the current
/// one, and the previous one while its rollover lasts at `now`.
pub fn find(
    conn: &Connection,
    keyring: &Keyring,
    api_key: &str,
    now: i64,
) -> rusqlite::Result<Option<ApiKey>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE api_key = ?1"
        ))?
        .query_row([api_key], |r| {
            Ok((
                from_row(r)?,
                r.get::<_, String>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })
        .optional()?;
    let Some((mut key, sealed, old)) = row else {
        // a made-up key costs what a real one does (issue 12, benches/auth.rs)
        keyring.open_decoy();
        return Ok(None);
    };
    let aad = aad(&key.api_key);
    key.secret = Secret::new(keyring.open(&aad, &sealed).map_err(crypto_err)?);
    if let (Some(old), true) = (old, old_secret_accepted(key.old_secret_until, now)) {
        key.old_secret = Some(Secret::new(keyring.open(&aad, &old).map_err(crypto_err)?));
    }
    Ok(Some(key))
}

/// Whether a previous secret accepted until `until` (`None`: until retired)
/// still is at `now`: the one rollover rule for the store and the cache.
pub(crate) fn old_secret_accepted(until: Option<i64>, now: i64) -> bool {
    until.is_none_or(|until| now < until)
}

/// Keys read on the request path, kept between requests: reading and
/// unsealing a key costs more than the rest of a signed call's checks
/// (docs/performance.md). An entry is stamped with the nonce writer's epoch
/// at the time it was read and served under that same epoch only; the epoch
/// moves whenever another connection (a handler, the CLI) committed, and
/// `http::pipeline` reads the key again when it moved before the request's
/// claim was committed. Unknown keys are remembered apart (so a flood of
/// made-up keys cannot evict real ones), and only so that a refused call
/// costs the same whether its key exists or not: both are checked again
/// against the store when served from here.
#[derive(Default)]
pub struct KeyCache {
    map: Mutex<HashMap<String, (Arc<ApiKey>, u64)>>,
    absent: Mutex<HashMap<String, u64>>,
}

/// More keys than this and the cache starts over.
const CACHE_MAX: usize = 10_000;

impl KeyCache {
    /// The key as read under `epoch`, if it was and is still whole at `now`
    /// (a previous secret's grace period may have ended since).
    pub fn get(&self, api_key: &str, epoch: u64, now: i64) -> Option<Arc<ApiKey>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(api_key) {
            Some((key, e)) if *e == epoch => {
                let grace_over =
                    key.old_secret.is_some() && !old_secret_accepted(key.old_secret_until, now);
                (!grace_over).then(|| Arc::clone(key))
            }
            _ => None,
        }
    }

    /// Remembers a key read under `epoch` (taken before the read).
    pub fn put(&self, key: Arc<ApiKey>, epoch: u64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_MAX && !map.contains_key(&key.api_key) {
            map.clear();
        }
        map.insert(key.api_key.clone(), (key, epoch));
    }

    /// Whether `api_key` was found missing under `epoch`.
    pub fn is_absent(&self, api_key: &str, epoch: u64) -> bool {
        let absent = self.absent.lock().unwrap_or_else(|p| p.into_inner());
        absent.get(api_key) == Some(&epoch)
    }

    /// Remembers that `api_key` was missing when read under `epoch`.
    pub fn put_absent(&self, api_key: &str, epoch: u64) {
        let mut absent = self.absent.lock().unwrap_or_else(|p| p.into_inner());
        if absent.len() >= CACHE_MAX && !absent.contains_key(api_key) {
            absent.clear();
        }
        absent.insert(api_key.to_string(), epoch);
    }
}

/// What `rotate` did.
#[derive(Debug)]
pub enum Rotation {
    /// The new secret (shown once); the old one is accepted until `until`
    /// (`None` = until retired).
    Rotated {
        secret: Secret,
        until: Option<i64>,
    },
    NoSuchKey,
    /// A previous secret is still accepted: retire it first.
    InProgress {
        until: Option<i64>,
    },
}

/// Gives a key a new secret and keeps the current one as the previous
/// secret for `grace_secs` (0 = until [`retire_secret`]).
/// Call it in a transaction ([`Keys::rotate`]).
pub fn rotate(
    tx: &Connection,
    keyring: &Keyring,
    api_key: &str,
    now: i64,
    grace_secs: u64,
) -> rusqlite::Result<Rotation> {
    let row: Option<(String, Option<String>, Option<i64>)> = tx
        .query_row(
            "SELECT secret, old_secret, old_secret_until FROM api_keys
             WHERE api_key = ?1 AND revoked_at IS NULL",
            [api_key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((current, old, old_until)) = row else {
        return Ok(Rotation::NoSuchKey);
    };
    if old.is_some() && old_until.is_none_or(|u| now < u) {
        return Ok(Rotation::InProgress { until: old_until });
    }
    let secret = Secret::new(random_hex(20));
    let sealed = keyring
        .seal(&aad(api_key), secret.expose())
        .map_err(crypto_err)?;
    let until =
        (grace_secs > 0).then(|| now.saturating_add(i64::try_from(grace_secs).unwrap_or(i64::MAX)));
    tx.execute(
        "UPDATE api_keys SET secret = ?2, old_secret = ?3, old_secret_until = ?4 WHERE api_key = ?1",
        params![api_key, sealed, current, until],
    )?;
    Ok(Rotation::Rotated { secret, until })
}

/// Ends a rollover: only the current secret is accepted from now on. False
/// when the key has no previous secret.
pub fn retire_secret(conn: &Connection, api_key: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE api_keys SET old_secret = NULL, old_secret_until = NULL
         WHERE api_key = ?1 AND old_secret IS NOT NULL",
        [api_key],
    )?;
    Ok(n == 1)
}

/// Seals every secret again under `new` (for a master key rotation; the
/// caller holds the transaction). Returns how many keys it resealed.
pub fn reseal_all(conn: &Connection, old: &Keyring, new: &Cipher) -> rusqlite::Result<usize> {
    let rows: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT api_key, secret, old_secret FROM api_keys")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        conn.prepare("UPDATE api_keys SET secret = ?2, old_secret = ?3 WHERE api_key = ?1")?;
    for (api_key, secret, old_secret) in &rows {
        let aad = aad(api_key);
        let again = |sealed: &str| -> rusqlite::Result<String> {
            let plain = old.open(&aad, sealed).map_err(crypto_err)?;
            new.seal(&aad, &plain).map_err(crypto_err)
        };
        let old_again = old_secret.as_deref().map(again).transpose()?;
        update.execute(params![api_key, again(secret)?, old_again])?;
    }
    Ok(rows.len())
}

/// All keys, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, api_key"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

/// Revokes a key; false when it does not exist or was already revoked.
pub fn revoke(conn: &Connection, api_key: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE api_key = ?1 AND revoked_at IS NULL",
        params![api_key, now_unix()],
    )?;
    Ok(n == 1)
}

/// Changes the per-key debug flag and replay policy; false when unknown.
pub fn set_options(
    conn: &Connection,
    api_key: &str,
    debug: Option<bool>,
    replay: Option<ReplayPolicy>,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE api_keys SET debug = COALESCE(?2, debug), replay = COALESCE(?3, replay)
         WHERE api_key = ?1",
        params![api_key, debug, replay.map(ReplayPolicy::as_str)],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_serves_a_key_only_under_its_epoch_and_grace() {
        let (_d, store) = crate::store::test_store();
        let k = store
            .with(|c| create(c, store.keyring(), "cached", Role::App, None))
            .unwrap();
        let cache = KeyCache::default();
        assert!(cache.get(&k.api_key, 0, 0).is_none());
        cache.put(Arc::new(k.clone()), 3);
        assert_eq!(cache.get(&k.api_key, 3, 0).unwrap().name, "cached");
        assert!(cache.get(&k.api_key, 4, 0).is_none());
        assert!(cache.get("other", 3, 0).is_none());
        assert!(!cache.is_absent("other", 3));
        cache.put_absent("other", 3);
        assert!(cache.is_absent("other", 3));
        assert!(!cache.is_absent("other", 4), "absent under its epoch only");
        assert!(cache.get("other", 3, 0).is_none());
        // a previous secret accepted until 100: served before, not at 100
        let mut rolling = k.clone();
        rolling.old_secret = Some(Secret::new("old".into()));
        rolling.old_secret_until = Some(100);
        cache.put(Arc::new(rolling), 3);
        assert!(cache.get(&k.api_key, 3, 99).is_some());
        assert!(cache.get(&k.api_key, 3, 100).is_none());
    }

    #[test]
    fn create_find_revoke() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let k = create(c, store.keyring(), "app one", Role::Admin, None)?;
                assert_eq!(k.api_key.len(), 64);
                assert_eq!(k.secret.expose().len(), 40);
                let found = find(c, store.keyring(), &k.api_key, 0)?.expect("found");
                assert_eq!(found.secret, k.secret);
                assert_eq!(found.role, Role::Admin);
                assert!(revoke(c, &k.api_key)?);
                assert!(!revoke(c, &k.api_key)?);
                assert!(find(c, store.keyring(), &k.api_key, 0)?
                    .unwrap()
                    .revoked_at
                    .is_some());
                assert!(set_options(
                    c,
                    &k.api_key,
                    Some(true),
                    Some(ReplayPolicy::Lenient)
                )?);
                let f = find(c, store.keyring(), &k.api_key, 0)?.unwrap();
                assert!(f.debug);
                assert_eq!(f.replay, ReplayPolicy::Lenient);
                assert_eq!(list(c)?.len(), 1);
                assert!(list(c)?[0].secret.expose().is_empty(), "list never unseals");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn secrets_are_stored_sealed() {
        let (_d, store) = crate::store::test_store();
        let k = store
            .with(|c| create(c, store.keyring(), "app", Role::App, None))
            .unwrap();
        let raw: String = store
            .with(|c| c.query_row("SELECT secret FROM api_keys", [], |r| r.get(0)))
            .unwrap();
        assert!(crate::crypto::is_sealed(&raw));
        assert!(!raw.contains(k.secret.expose()));
    }

    #[test]
    fn a_rollover_keeps_two_secrets_until_retired_or_expired() {
        let (_d, store) = crate::store::test_store();
        let ring = store.keyring();
        store
            .with(|c| {
                let k = create(c, ring, "app", Role::App, None)?;
                let Rotation::Rotated { secret, until } = rotate(c, ring, &k.api_key, 100, 50)?
                else {
                    panic!("rotated")
                };
                assert_eq!(until, Some(150));
                let f = find(c, ring, &k.api_key, 120)?.unwrap();
                assert_eq!(f.secret, secret);
                assert_eq!(f.old_secret.as_ref(), Some(&k.secret));
                assert!(f.rollover);
                // only one rollover at a time
                assert!(matches!(
                    rotate(c, ring, &k.api_key, 120, 50)?,
                    Rotation::InProgress { until: Some(150) }
                ));
                // the grace period ends it by itself
                assert!(find(c, ring, &k.api_key, 150)?
                    .unwrap()
                    .old_secret
                    .is_none());
                // a new rotation after it; retire-secret ends that one at once
                let Rotation::Rotated {
                    secret: third,
                    until: None,
                } = rotate(c, ring, &k.api_key, 200, 0)?
                else {
                    panic!("rotated again")
                };
                assert_eq!(
                    find(c, ring, &k.api_key, 1 << 40)?.unwrap().old_secret,
                    Some(secret)
                );
                assert!(retire_secret(c, &k.api_key)?);
                assert!(!retire_secret(c, &k.api_key)?);
                let f = find(c, ring, &k.api_key, 201)?.unwrap();
                assert_eq!((f.secret, f.old_secret), (third, None));
                assert!(matches!(
                    rotate(c, ring, "nope", 0, 0)?,
                    Rotation::NoSuchKey
                ));
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("topsecret".into());
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
