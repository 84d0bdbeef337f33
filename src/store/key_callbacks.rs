//! The callback URL prefixes an api key registered (`panthera keys
//! callbacks`): when a key has any, `request-token` accepts only an
//! `app_callback` that starts with one of them; a key without any accepts
//! every http(s) callback, as before prefixes existed.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

super::group!(
/// The callback prefixes of api keys as one group of the storage seam.
    KeyCallbacks,
    key_callbacks
);

impl KeyCallbacks<'_> {
    /// The key's prefixes, sorted.
    pub fn list(&self, api_key: &str) -> Result<Vec<String>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keyside::callbacks_list(c, api_key));
        }
        self.0.with(|c| list(c, api_key))
    }

    /// Whether the api key exists (revoked or not).
    pub fn key_exists(&self, api_key: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keyside::key_exists(c, api_key));
        }
        self.0.with(|c| key_exists(c, api_key))
    }

    /// Registers `prefix` for the key (nothing happens when it already is).
    pub fn allow(&self, api_key: &str, prefix: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let (api_key, prefix) = (api_key.to_string(), prefix.to_string());
            return pg.run(move |c| super::pg::keyside::callbacks_allow(c, api_key, prefix));
        }
        self.0.with(|c| allow(c, api_key, prefix))
    }

    /// Removes one prefix; false when the key did not have it.
    pub fn remove(&self, api_key: &str, prefix: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (api_key, prefix) = (api_key.to_string(), prefix.to_string());
            return pg.run(move |c| super::pg::keyside::callbacks_remove(c, api_key, prefix));
        }
        self.0.with(|c| remove(c, api_key, prefix))
    }

    /// Removes every prefix of the key; how many there were.
    pub fn clear(&self, api_key: &str) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            let api_key = api_key.to_string();
            return pg.run(move |c| super::pg::keyside::callbacks_clear(c, api_key));
        }
        self.0.with(|c| clear(c, api_key))
    }
}

/// The key's prefixes, sorted.
pub fn list(conn: &Connection, api_key: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT prefix FROM api_key_callbacks WHERE api_key = ?1 ORDER BY prefix",
    )?;
    let rows = stmt.query_map([api_key], |r| r.get(0))?;
    rows.collect()
}

/// Whether the api key exists (revoked or not).
pub fn key_exists(conn: &Connection, api_key: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM api_keys WHERE api_key = ?1",
            [api_key],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Registers `prefix` for the key (nothing happens when it already is).
pub fn allow(conn: &Connection, api_key: &str, prefix: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO api_key_callbacks (api_key, prefix) VALUES (?1, ?2)",
        params![api_key, prefix],
    )?;
    Ok(())
}

/// Removes one prefix; false when the key did not have it.
pub fn remove(conn: &Connection, api_key: &str, prefix: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM api_key_callbacks WHERE api_key = ?1 AND prefix = ?2",
        params![api_key, prefix],
    )?;
    Ok(n == 1)
}

/// Removes every prefix of the key: any callback is accepted again.
pub fn clear(conn: &Connection, api_key: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM api_key_callbacks WHERE api_key = ?1",
        [api_key],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::{self, Role};

    #[test]
    fn prefixes_are_kept_per_key() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let k = keys::create(c, store.keyring(), "k", Role::App, None)?;
                assert!(key_exists(c, &k.api_key)?);
                assert!(!key_exists(c, "nope")?);
                assert!(list(c, &k.api_key)?.is_empty());
                allow(c, &k.api_key, "https://b.example/")?;
                allow(c, &k.api_key, "https://a.example/cb")?;
                allow(c, &k.api_key, "https://a.example/cb")?;
                assert_eq!(
                    list(c, &k.api_key)?,
                    vec!["https://a.example/cb", "https://b.example/"]
                );
                assert!(remove(c, &k.api_key, "https://b.example/")?);
                assert!(!remove(c, &k.api_key, "https://b.example/")?);
                assert_eq!(clear(c, &k.api_key)?, 1);
                assert!(list(c, &k.api_key)?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
