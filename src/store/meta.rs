//! Small named facts about the store itself (e.g. whether the demo was
//! seeded), and the server's own secrets, sealed like every other secret.

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::crypto::{is_sealed, Cipher, Keyring};

super::group!(
/// The store's own facts and secrets as one group of the storage seam:
/// callers name a secret, never a connection.
    Meta,
    meta
);

impl Meta<'_> {
    /// The 32-byte secret `name`, made and stored sealed on first use.
    pub fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return super::pg::meta::secret(pg, self.0.keyring(), name);
        }
        self.0.with(|c| secret(c, self.0.keyring(), name))
    }

    /// A named fact (e.g. `demo_seeded`), if recorded.
    pub fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let key = key.to_string();
            return pg.run(move |c| super::pg::meta::get(c, key));
        }
        self.0.with(|c| get(c, key))
    }

    /// Records a named fact.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let (key, value) = (key.to_string(), value.to_string());
            return pg.run(move |c| super::pg::meta::set(c, key, value));
        }
        self.0.with(|c| set(c, key, value))
    }
}

/// The key that signs download links (`media::files`): whoever holds it can
/// forge a link to any order, so it is stored sealed.
pub const MEDIA_URL_KEY: &str = "media_url_key";

/// The key the browser pages sign CSRF tokens with (`server_key`), unless
/// `auth.token_key` is configured: in the store, every instance of a shared
/// database signs and checks with the same one.
pub const CSRF_KEY: &str = "csrf_key";

/// Every secret kept in `meta`, for `keys rotate-master` and `check`.
pub const SECRETS: &[&str] = &[MEDIA_URL_KEY, CSRF_KEY];

pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// What a sealed `meta` secret is bound to: its row.
pub fn secret_aad(name: &str) -> String {
    format!("meta.{name}")
}

fn unreadable(name: &str, why: &str) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(format!("meta secret {name}: {why}").into())
}

/// The 32-byte secret `name`, made and stored sealed on first use (two
/// first users racing: the first write wins and both read it back).
pub fn secret(conn: &Connection, keyring: &Keyring, name: &str) -> rusqlite::Result<Vec<u8>> {
    if get(conn, name)?.is_none() {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        let sealed = keyring
            .seal(&secret_aad(name), &hex::encode(k))
            .map_err(|e| unreadable(name, &e.to_string()))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![name, sealed],
        )?;
    }
    let stored = get(conn, name)?.unwrap_or_default();
    if !is_sealed(&stored) {
        return Err(unreadable(name, "stored unsealed"));
    }
    let plain = keyring
        .open(&secret_aad(name), &stored)
        .map_err(|e| unreadable(name, &e.to_string()))?;
    hex::decode(plain).map_err(|_| unreadable(name, "not hex"))
}

/// Seals the `meta` secrets an older release kept in clear (it stored the
/// download-link key unsealed); run at every open, so links issued before
/// stay valid and a copy of the database no longer holds the key.
pub fn seal_plain_secrets(conn: &Connection, keyring: &Keyring) -> rusqlite::Result<usize> {
    let mut n = 0;
    for name in SECRETS {
        match get(conn, name)? {
            Some(v) if !is_sealed(&v) => {
                let sealed = keyring
                    .seal(&secret_aad(name), &v)
                    .map_err(|e| unreadable(name, &e.to_string()))?;
                set(conn, name, &sealed)?;
                n += 1;
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Seals every `meta` secret again under `new` (`keys rotate-master`).
pub fn reseal_secrets(conn: &Connection, old: &Keyring, new: &Cipher) -> rusqlite::Result<usize> {
    let mut n = 0;
    for name in SECRETS {
        let Some(stored) = get(conn, name)? else {
            continue;
        };
        let aad = secret_aad(name);
        let plain = old
            .open(&aad, &stored)
            .map_err(|e| unreadable(name, &e.to_string()))?;
        let again = new
            .seal(&aad, &plain)
            .map_err(|e| unreadable(name, &e.to_string()))?;
        set(conn, name, &again)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_made_once_and_stored_sealed() {
        let (_d, store) = crate::store::test_store();
        let (a, b, raw) = store
            .with(|c| {
                let a = secret(c, store.keyring(), MEDIA_URL_KEY)?;
                let b = secret(c, store.keyring(), MEDIA_URL_KEY)?;
                Ok((a, b, get(c, MEDIA_URL_KEY)?.unwrap()))
            })
            .unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, b);
        assert!(is_sealed(&raw), "{raw}");
        assert!(!raw.contains(&hex::encode(&a)));
    }

    #[test]
    fn a_secret_an_older_release_kept_in_clear_gets_sealed_and_keeps_its_value() {
        let (_d, store) = crate::store::test_store();
        let clear = "ab".repeat(32);
        let k = store
            .with(|c| {
                set(c, MEDIA_URL_KEY, &clear)?;
                assert_eq!(seal_plain_secrets(c, store.keyring())?, 1);
                assert_eq!(seal_plain_secrets(c, store.keyring())?, 0, "once");
                secret(c, store.keyring(), MEDIA_URL_KEY)
            })
            .unwrap();
        assert_eq!(hex::encode(k), clear);
    }
}
