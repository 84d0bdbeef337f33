//! User accounts. Passwords are kept only as argon2id hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::now_unix;

/// A stored user (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub surname: String,
    pub company: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields of a user to be created.
#[derive(Debug, Clone, Default)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub firstname: &'a str,
    pub surname: &'a str,
    pub company: &'a str,
    pub status: &'a str,
}

const COLUMNS: &str =
    "id, username, email, firstname, surname, company, status, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        firstname: r.get(3)?,
        surname: r.get(4)?,
        company: r.get(5)?,
        status: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// An argon2id hash in PHC string form.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// True when `password` matches the stored hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new user id: `usr_` + 16 random hex digits.
pub fn new_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    format!("usr_{}", hex::encode(b))
}

/// Inserts a user; the password is hashed here.
pub fn create(conn: &Connection, new: &NewUser<'_>) -> rusqlite::Result<User> {
    let hash = hash_password(new.password)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))?;
    let now = now_unix();
    let user = User {
        id: new_id(),
        username: new.username.to_string(),
        email: new.email.to_string(),
        firstname: new.firstname.to_string(),
        surname: new.surname.to_string(),
        company: new.company.to_string(),
        status: if new.status.is_empty() {
            "active"
        } else {
            new.status
        }
        .to_string(),
        created_at: now,
        updated_at: now,
    };
    conn.execute(
        "INSERT INTO users (id, username, email, email_lower, password_hash, firstname, surname,
                            company, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            user.id,
            user.username,
            user.email,
            user.email.to_lowercase(),
            hash,
            user.firstname,
            user.surname,
            user.company,
            user.status,
            now
        ],
    )?;
    Ok(user)
}

/// Finds a user by id.
pub fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Finds a user by username.
pub fn find_by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE username = ?1"),
        [username],
        from_row,
    )
    .optional()
}

/// Finds a user and their password hash by username, for sign-in.
pub fn find_for_login(
    conn: &Connection,
    username: &str,
) -> rusqlite::Result<Option<(User, String)>> {
    conn.query_row(
        &format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"),
        [username],
        |r| Ok((from_row(r)?, r.get(9)?)),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_verified() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let u = create(
                    c,
                    &NewUser {
                        username: "demo",
                        email: "Demo@Example.com",
                        password: "correct horse",
                        ..NewUser::default()
                    },
                )?;
                assert!(u.id.starts_with("usr_"));
                assert_eq!(find(c, &u.id)?.as_ref(), Some(&u));
                let (_, hash) = find_for_login(c, "demo")?.unwrap();
                assert!(hash.starts_with("$argon2id$"));
                assert!(verify_password(&hash, "correct horse"));
                assert!(!verify_password(&hash, "wrong"));
                // email is unique case-insensitively
                let dup = create(
                    c,
                    &NewUser {
                        username: "other",
                        email: "demo@example.COM",
                        password: "x",
                        ..NewUser::default()
                    },
                );
                assert!(dup.is_err());
                Ok(())
            })
            .unwrap();
    }
}
