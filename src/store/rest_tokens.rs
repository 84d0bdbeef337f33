//! The `X-API-Key` tokens of the REST users API (`/v1/users`): one per api
//! key, issued by `panthera keys rest-token` and shown once. Only a SHA-256
//! digest is stored: the token is 32 random bytes, so a fast digest cannot
//! be searched (unlike a password), and it makes the lookup one indexed read.

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::StoreError;

super::group!(
/// The `X-API-Key` tokens as one group of the storage seam.
    RestTokens,
    rest_tokens
);

impl RestTokens<'_> {
    /// A new token for `api_key`, replacing its previous one; `None` when
    /// the key does not exist or is revoked.
    pub fn issue(&self, api_key: &str, now: i64) -> Result<Option<String>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = new_token();
            let (key, hash) = (api_key.to_string(), digest(&token));
            let issued = pg.write(move |c| super::pg::keyside::rest_issue(c, key, hash, now))?;
            return Ok(issued.then_some(token));
        }
        self.0.write(|c| Ok(issue(c, api_key, now)?))
    }

    /// Removes the key's token; false when it had none.
    pub fn revoke(&self, api_key: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keyside::rest_revoke(c, api_key));
        }
        self.0.with(|c| revoke(c, api_key))
    }

    /// The api key a token belongs to, if any (query-only connection: the
    /// request path's lookup).
    pub fn api_key_for(&self, token: &str) -> Result<Option<String>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let wanted = digest(token);
            let probe = wanted.clone();
            let row = pg.run(move |c| super::pg::keyside::rest_lookup(c, probe))?;
            return Ok(row.and_then(|(key, stored)| {
                bool::from(stored.as_bytes().ct_eq(wanted.as_bytes())).then_some(key)
            }));
        }
        self.0.read(|c| api_key_for(c, token))
    }
}

/// What every token starts with (recognisable in logs and secret scanners).
pub const PREFIX: &str = "pnt_";

/// The stored digest of a token.
/// A new random token: [`PREFIX`] and 32 random bytes in hex.
fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{PREFIX}{}", hex::encode(b))
}

pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a new token for `api_key`, replacing its previous one (which stops
/// working at once). `None` when the key does not exist or is revoked.
pub fn issue(conn: &Connection, api_key: &str, now: i64) -> rusqlite::Result<Option<String>> {
    let active = conn
        .query_row(
            "SELECT 1 FROM api_keys WHERE api_key = ?1 AND revoked_at IS NULL",
            [api_key],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !active {
        return Ok(None);
    }
    let token = new_token();
    conn.execute(
        "INSERT INTO rest_tokens (api_key, token_hash, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(api_key) DO UPDATE SET token_hash = excluded.token_hash,
                                            created_at = excluded.created_at",
        params![api_key, digest(&token), now],
    )?;
    Ok(Some(token))
}

/// Removes the key's token; false when it had none.
pub fn revoke(conn: &Connection, api_key: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM rest_tokens WHERE api_key = ?1", [api_key])? == 1)
}

/// The api key a token belongs to, if any. The digest is looked up by its
/// index, then compared again in constant time.
pub fn api_key_for(conn: &Connection, token: &str) -> rusqlite::Result<Option<String>> {
    let wanted = digest(token);
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT api_key, token_hash FROM rest_tokens WHERE token_hash = ?1")?
        .query_row([&wanted], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(key, stored)| {
        bool::from(stored.as_bytes().ct_eq(wanted.as_bytes())).then_some(key)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::{self, Role};

    #[test]
    fn a_token_names_its_key_until_replaced_or_revoked() {
        let (_d, store) = crate::store::test_store();
        let key = store
            .with(|c| keys::create(c, store.keyring(), "ops", Role::Admin, None))
            .unwrap();
        let t1 = store.with(|c| issue(c, &key.api_key, 1)).unwrap().unwrap();
        assert!(t1.starts_with(PREFIX) && t1.len() == PREFIX.len() + 64);
        let found = store.with(|c| api_key_for(c, &t1)).unwrap();
        assert_eq!(found.as_deref(), Some(key.api_key.as_str()));
        let raw: String = store
            .with(|c| c.query_row("SELECT token_hash FROM rest_tokens", [], |r| r.get(0)))
            .unwrap();
        assert!(!raw.contains(&t1[PREFIX.len()..]), "stored hashed");
        let t2 = store.with(|c| issue(c, &key.api_key, 2)).unwrap().unwrap();
        assert_eq!(store.with(|c| api_key_for(c, &t1)).unwrap(), None);
        assert!(store.with(|c| api_key_for(c, &t2)).unwrap().is_some());
        assert!(store.with(|c| revoke(c, &key.api_key)).unwrap());
        assert_eq!(store.with(|c| api_key_for(c, &t2)).unwrap(), None);
        assert_eq!(store.with(|c| issue(c, "nope", 3)).unwrap(), None);
    }
}
