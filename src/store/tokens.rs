//! User tokens (protocol.md §4): requested by an app, approved or denied by a
//! user, used to sign user calls. The token secret is stored sealed (see
//! `server_key`): the server must recover it, as it is an HMAC key.

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;
use crate::crypto::{Cipher, Keyring};

super::group!(
/// The user tokens as one group of the storage seam: callers name a token,
/// never a connection.
    Tokens,
    tokens
);

impl Tokens<'_> {
    /// A token without its secret.
    pub fn find(&self, token: &str) -> Result<Option<Token>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = token.to_string();
            return pg.run(move |c| super::pg::tokens::find(c, token));
        }
        self.0.with(|c| find(c, token))
    }

    /// A token and its sealed secret, read on the query-only connection (the
    /// request path's lookups never queue behind a writer).
    pub fn find_with_secret(&self, token: &str) -> Result<Option<(Token, Vec<u8>)>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = token.to_string();
            return pg.run(move |c| super::pg::tokens::find_with_secret(c, token));
        }
        self.0.read(|c| find_with_secret(c, token))
    }

    /// The user's answer to a pending, unexpired token; false when it is no
    /// longer pending or expired.
    pub fn decide(
        &self,
        token: &str,
        outcome: TokenState,
        user_id: Option<&str>,
        now: i64,
        valid_until: i64,
    ) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (token, user_id) = (token.to_string(), user_id.map(str::to_string));
            return pg.run(move |c| {
                super::pg::tokens::decide(c, token, outcome, user_id, now, valid_until)
            });
        }
        self.0
            .with(|c| decide(c, token, outcome, user_id, now, valid_until))
    }

    /// Stores `t` with `secret`, sealed under the master key.
    pub fn insert(&self, t: &Token, secret: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let sealed = seal_secret(self.0.keyring(), &t.token, secret)?;
            let t = t.clone();
            return pg.run(move |c| super::pg::tokens::insert(c, t, sealed, false));
        }
        self.0.with(|c| {
            let sealed = seal_secret(self.0.keyring(), &t.token, secret)?;
            insert(c, t, &sealed)
        })
    }

    /// Records a use and the (possibly extended) expiry.
    pub fn touch(&self, token: &str, now: i64, valid_until: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = token.to_string();
            return pg.run(move |c| super::pg::tokens::touch(c, token, now, valid_until));
        }
        self.0.with(|c| touch(c, token, now, valid_until))
    }

    /// A new pending token with its secret sealed, and whether it may sign
    /// in to the upload inbox over FTP, in one step.
    pub fn request(&self, t: &Token, secret: &str, ftp_access: bool) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let sealed = seal_secret(self.0.keyring(), &t.token, secret)?;
            let t = t.clone();
            return pg.run(move |c| super::pg::tokens::insert(c, t, sealed, ftp_access));
        }
        self.0.write(|c| {
            let sealed = seal_secret(self.0.keyring(), &t.token, secret)?;
            insert(c, t, &sealed)?;
            Ok(set_ftp_access(c, &t.token, ftp_access)?)
        })
    }

    /// Sets the expiry of an authorized token; false when not authorized.
    pub fn set_valid_until(&self, token: &str, valid_until: i64) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = token.to_string();
            return pg.run(move |c| super::pg::tokens::set_valid_until(c, token, valid_until));
        }
        self.0.with(|c| set_valid_until(c, token, valid_until))
    }

    /// The tokens a user allowed that are still usable, newest first.
    pub fn authorized_for_user(&self, user_id: &str, now: i64) -> Result<Vec<Token>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::tokens::authorized_for_user(c, user_id, now));
        }
        self.0.with(|c| authorized_for_user(c, user_id, now))
    }

    /// Revokes one of the user's authorized tokens (see [`revoke`]).
    pub fn revoke(&self, token: &str, user_id: &str, now: i64) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (token, user_id) = (token.to_string(), user_id.to_string());
            return pg.run(move |c| super::pg::tokens::revoke(c, token, user_id, now));
        }
        self.0.with(|c| revoke(c, token, user_id, now))
    }

    /// Whether the token was requested with `ftp_access=yes`.
    pub fn ftp_access(&self, token: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let token = token.to_string();
            return pg.run(move |c| super::pg::tokens::ftp_access(c, token));
        }
        self.0.with(|c| ftp_access(c, token))
    }
}

/// Where a token is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Waiting for the user at `auth_url`.
    Pending,
    Authorized,
    Denied,
    /// Authorized once, withdrawn by the user.
    Revoked,
}

impl TokenState {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Pending => "pending",
            TokenState::Authorized => "authorized",
            TokenState::Denied => "denied",
            TokenState::Revoked => "revoked",
        }
    }
    pub(crate) fn parse(s: &str) -> TokenState {
        match s {
            "authorized" => TokenState::Authorized,
            "denied" => TokenState::Denied,
            "revoked" => TokenState::Revoked,
            _ => TokenState::Pending,
        }
    }
}

/// One stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    pub api_key: String,
    pub user_id: Option<String>,
    pub app_name: String,
    pub app_logo: String,
    pub app_callback: String,
    pub lang: String,
    pub state: TokenState,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub valid_until: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "token, api_key, user_id, app_name, app_logo, app_callback, lang, state, \
                       created_at, decided_at, valid_until, last_used_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Token> {
    let state: String = r.get(7)?;
    Ok(Token {
        token: r.get(0)?,
        api_key: r.get(1)?,
        user_id: r.get(2)?,
        app_name: r.get(3)?,
        app_logo: r.get(4)?,
        app_callback: r.get(5)?,
        lang: r.get(6)?,
        state: TokenState::parse(&state),
        created_at: r.get(8)?,
        decided_at: r.get(9)?,
        valid_until: r.get(10)?,
        last_used_at: r.get(11)?,
    })
}

/// A new token id: 40 random hex digits.
pub fn new_id() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The associated data a token secret is sealed with: a sealed secret cannot
/// be moved to another token.
pub(crate) fn secret_aad(token: &str) -> String {
    format!("tokens.secret:{token}")
}

/// Seals a token secret under the master key (like api secrets).
pub fn seal_secret(keyring: &Keyring, token: &str, secret: &str) -> rusqlite::Result<Vec<u8>> {
    keyring
        .seal(&secret_aad(token), secret)
        .map(String::into_bytes)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))
}

/// Opens a sealed token secret; `None` when it does not open (wrong key).
pub fn open_secret(keyring: &Keyring, token: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let sealed = std::str::from_utf8(sealed).ok()?;
    keyring
        .open(&secret_aad(token), sealed)
        .ok()
        .map(String::into_bytes)
}

/// Seals every token secret again under `new` (master key rotation), inside
/// the caller's transaction.
pub fn reseal_all(conn: &Connection, old: &Keyring, new: &Cipher) -> rusqlite::Result<usize> {
    let rows: Vec<(String, Vec<u8>)> = conn
        .prepare("SELECT token, secret FROM tokens")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE tokens SET secret = ?2 WHERE token = ?1")?;
    let fail = |what: &str| rusqlite::Error::ToSqlConversionFailure(what.to_string().into());
    for (token, sealed) in &rows {
        let plain =
            open_secret(old, token, sealed).ok_or_else(|| fail("a token secret does not open"))?;
        let plain = String::from_utf8(plain).map_err(|_| fail("a token secret is not text"))?;
        let again = new
            .seal(&secret_aad(token), &plain)
            .map_err(|e| fail(&e.to_string()))?;
        update.execute(params![token, again.into_bytes()])?;
    }
    Ok(rows.len())
}

/// Stores a new (pending) token with its sealed secret.
pub fn insert(conn: &Connection, t: &Token, sealed_secret: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO tokens (token, api_key, user_id, secret, app_name, app_logo, app_callback,
                             lang, state, created_at, valid_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            t.token,
            t.api_key,
            t.user_id,
            sealed_secret,
            t.app_name,
            t.app_logo,
            t.app_callback,
            t.lang,
            t.state.as_str(),
            t.created_at,
            t.valid_until
        ],
    )?;
    Ok(())
}

/// A token and its sealed secret.
pub fn find_with_secret(
    conn: &Connection,
    token: &str,
) -> rusqlite::Result<Option<(Token, Vec<u8>)>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, secret FROM tokens WHERE token = ?1"
    ))?
    .query_row([token], |r| Ok((from_row(r)?, r.get(12)?)))
    .optional()
}

/// A token without its secret.
pub fn find(conn: &Connection, token: &str) -> rusqlite::Result<Option<Token>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE token = ?1"))?
        .query_row([token], from_row)
        .optional()
}

/// The user's answer to a pending, unexpired token; false when it is no longer
/// pending or expired (the update is the check, so two answers cannot both win).
pub fn decide(
    conn: &Connection,
    token: &str,
    outcome: TokenState,
    user_id: Option<&str>,
    now: i64,
    valid_until: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE tokens SET state = ?2, user_id = ?3, decided_at = ?4, valid_until = ?5
         WHERE token = ?1 AND state = 'pending' AND valid_until >= ?4",
        params![token, outcome.as_str(), user_id, now, valid_until],
    )?;
    Ok(n == 1)
}

/// Records a use and the (possibly extended) expiry.
pub fn touch(conn: &Connection, token: &str, now: i64, valid_until: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE tokens SET last_used_at = ?2, valid_until = ?3 WHERE token = ?1")?
        .execute(params![token, now, valid_until])?;
    Ok(())
}

/// Sets the expiry of an authorized token (`token-valid-until`).
pub fn set_valid_until(conn: &Connection, token: &str, valid_until: i64) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE tokens SET valid_until = ?2 WHERE token = ?1 AND state = 'authorized'",
        params![token, valid_until],
    )?;
    Ok(n == 1)
}

/// The tokens a user allowed that are still usable, newest first.
pub fn authorized_for_user(
    conn: &Connection,
    user_id: &str,
    now: i64,
) -> rusqlite::Result<Vec<Token>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM tokens
         WHERE user_id = ?1 AND state = 'authorized' AND valid_until >= ?2
         ORDER BY decided_at DESC, token"
    ))?;
    let rows = stmt.query_map(params![user_id, now], from_row)?;
    rows.collect()
}

/// Revokes one of the user's authorized tokens; false when it is not theirs
/// or not authorized.
pub fn revoke(conn: &Connection, token: &str, user_id: &str, now: i64) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE tokens SET state = 'revoked', decided_at = ?3
         WHERE token = ?1 AND user_id = ?2 AND state = 'authorized'",
        params![token, user_id, now],
    )?;
    Ok(n == 1)
}

/// Records whether the token may also sign in to the user's upload inbox
/// over FTP (`request-token ftp_access`).
pub fn set_ftp_access(conn: &Connection, token: &str, allowed: bool) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE tokens SET ftp_access = ?2 WHERE token = ?1")?
        .execute(params![token, allowed])?;
    Ok(())
}

/// Whether the token was requested with `ftp_access=yes` (what an FTP
/// server checking token credentials asks).
pub fn ftp_access(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT ftp_access FROM tokens WHERE token = ?1")?
        .query_row([token], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::{self, Role};

    fn pending(api_key: &str, now: i64) -> Token {
        Token {
            token: new_id(),
            api_key: api_key.into(),
            user_id: None,
            app_name: "App".into(),
            app_logo: String::new(),
            app_callback: String::new(),
            lang: "en".into(),
            state: TokenState::Pending,
            created_at: now,
            decided_at: None,
            valid_until: now + 600,
            last_used_at: None,
        }
    }

    #[test]
    fn a_token_is_decided_once_and_revoked_only_by_its_user() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let key = keys::create(c, store.keyring(), "k", Role::App, None)?;
                let user = crate::store::users::create(
                    c,
                    &crate::store::users::NewUser {
                        username: "ann",
                        email: "ann@example.com",
                        password: "pw",
                        ..Default::default()
                    },
                )?;
                let t = pending(&key.api_key, 1000);
                insert(c, &t, b"sealed")?;
                let (found, secret) = find_with_secret(c, &t.token)?.unwrap();
                assert_eq!((found, secret), (t.clone(), b"sealed".to_vec()));
                // too late
                assert!(!decide(
                    c,
                    &t.token,
                    TokenState::Authorized,
                    Some(&user.id),
                    1601,
                    2000
                )?);
                assert!(decide(
                    c,
                    &t.token,
                    TokenState::Authorized,
                    Some(&user.id),
                    1100,
                    1700
                )?);
                assert!(!decide(c, &t.token, TokenState::Denied, None, 1100, 1700)?);
                assert_eq!(authorized_for_user(c, &user.id, 1200)?.len(), 1);
                assert!(!revoke(c, &t.token, "usr_other", 1200)?);
                assert!(revoke(c, &t.token, &user.id, 1200)?);
                assert_eq!(find(c, &t.token)?.unwrap().state, TokenState::Revoked);
                assert!(authorized_for_user(c, &user.id, 1200)?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
