//! API keys: the apps that may call the service, their secrets and settings.

use std::fmt;

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::now_unix;

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
    #[serde(skip)]
    pub secret: Secret,
    pub role: Role,
    pub debug: bool,
    pub replay: ReplayPolicy,
    pub owner_user_id: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "api_key, name, secret, role, debug, replay, owner_user_id, created_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let role: String = r.get(3)?;
    let replay: String = r.get(5)?;
    Ok(ApiKey {
        api_key: r.get(0)?,
        name: r.get(1)?,
        secret: Secret::new(r.get(2)?),
        role: Role::parse(&role).unwrap_or(Role::App),
        debug: r.get(4)?,
        replay: ReplayPolicy::parse(&replay).unwrap_or(ReplayPolicy::Strict),
        owner_user_id: r.get(6)?,
        created_at: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Creates a key with a fresh random key (64 hex) and secret (40 hex).
pub fn create(
    conn: &Connection,
    name: &str,
    role: Role,
    owner_user_id: Option<&str>,
) -> rusqlite::Result<ApiKey> {
    let key = ApiKey {
        api_key: random_hex(32),
        name: name.to_string(),
        secret: Secret::new(random_hex(20)),
        role,
        debug: false,
        replay: ReplayPolicy::Strict,
        owner_user_id: owner_user_id.map(str::to_string),
        created_at: now_unix(),
        revoked_at: None,
    };
    conn.execute(
        "INSERT INTO api_keys (api_key, name, secret, role, debug, replay, owner_user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
        params![
            key.api_key,
            key.name,
            key.secret.expose(),
            role.as_str(),
            key.replay.as_str(),
            key.owner_user_id,
            key.created_at
        ],
    )?;
    Ok(key)
}

/// Looks a key up, revoked or not.
pub fn find(conn: &Connection, api_key: &str) -> rusqlite::Result<Option<ApiKey>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE api_key = ?1"
    ))?
    .query_row([api_key], from_row)
    .optional()
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
    fn create_find_revoke() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let k = create(c, "app one", Role::Admin, None)?;
                assert_eq!(k.api_key.len(), 64);
                assert_eq!(k.secret.expose().len(), 40);
                let found = find(c, &k.api_key)?.expect("found");
                assert_eq!(found.secret, k.secret);
                assert_eq!(found.role, Role::Admin);
                assert!(revoke(c, &k.api_key)?);
                assert!(!revoke(c, &k.api_key)?);
                assert!(find(c, &k.api_key)?.unwrap().revoked_at.is_some());
                assert!(set_options(
                    c,
                    &k.api_key,
                    Some(true),
                    Some(ReplayPolicy::Lenient)
                )?);
                let f = find(c, &k.api_key)?.unwrap();
                assert!(f.debug);
                assert_eq!(f.replay, ReplayPolicy::Lenient);
                assert_eq!(list(c)?.len(), 1);
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
