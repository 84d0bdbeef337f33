//! Browser sessions of signed-in users (the account pages). The cookie holds
//! a random id; only its SHA-256 is stored, so a copy of the database opens no session.

use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::StoreError;

super::group!(
/// The sessions as one group of the storage seam: the pages name a session
/// by its cookie value, never a connection.
    Sessions,
    sessions
);

impl Sessions<'_> {
    /// Starts a session for `user_id`; returns the cookie value.
    pub fn create(&self, user_id: &str, now: i64, expires_at: i64) -> Result<String, StoreError> {
        if let Some(pg) = self.0.pg() {
            let id = new_session_id();
            let (hash, user_id) = (digest(&id), user_id.to_string());
            pg.run(move |c| super::pg::small::session_create(c, hash, user_id, now, expires_at))?;
            return Ok(id);
        }
        self.0.with(|c| create(c, user_id, now, expires_at))
    }

    /// The user of a live session.
    pub fn user_of(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let hash = digest(id);
            return pg.run(move |c| super::pg::small::session_user_of(c, hash, now));
        }
        self.0.with(|c| user_of(c, id, now))
    }

    /// Ends a session.
    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let hash = digest(id);
            return pg.run(move |c| super::pg::small::session_delete(c, hash));
        }
        self.0.with(|c| delete(c, id))
    }

    /// How many sessions a user has (expired ones included).
    pub fn count_for_user(&self, user_id: &str) -> Result<i64, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::small::session_count_for_user(c, user_id));
        }
        self.0.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM sessions WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
        })
    }

    /// Ends every session of a user; how many there were.
    pub fn delete_for_user(&self, user_id: &str) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::small::session_delete_for_user(c, user_id));
        }
        self.0.with(|c| delete_for_user(c, user_id))
    }
}

/// A new session id: 32 random bytes in hex (stored only as a digest).
fn new_session_id() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn digest(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Starts a session for `user_id`; returns the cookie value.
pub fn create(
    conn: &Connection,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<String> {
    let id = new_session_id();
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![digest(&id), user_id, now, expires_at],
    )?;
    conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [now])?;
    Ok(id)
}

/// The user of a live session.
pub fn user_of(conn: &Connection, id: &str, now: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT user_id FROM sessions WHERE id_hash = ?1 AND expires_at >= ?2",
        params![digest(id), now],
        |r| r.get(0),
    )
    .optional()
}

/// Ends a session.
pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [digest(id)])?;
    Ok(())
}

/// Ends every session of `user_id` (password changed, account disabled or
/// deleted); returns how many there were.
pub fn delete_for_user(conn: &Connection, user_id: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])
}
