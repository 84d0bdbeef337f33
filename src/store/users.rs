//! User accounts. Passwords are kept only as argon2id hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{now_unix, StoreError};

super::group!(
/// The users as one group of the storage seam: callers name a user, never a
/// connection.
    Users,
    users
);

impl Users<'_> {
    /// The user with id `id`.
    pub fn find(&self, id: &str) -> Result<Option<User>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let id = id.to_string();
            return pg.run(move |c| super::pg::users::find(c, id));
        }
        self.0.with(|c| find(c, id))
    }

    /// The user named `username`.
    pub fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let username = username.to_string();
            return pg.run(move |c| super::pg::users::find_by_username(c, username));
        }
        self.0.with(|c| find_by_username(c, username))
    }

    /// The user with this id, else with this username (command line).
    pub fn find_by_id_or_username(&self, key: &str) -> Result<Option<User>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let key = key.to_string();
            return pg.run(move |c| super::pg::users::find_by_id_or_username(c, key));
        }
        self.0.with(|c| match find(c, key)? {
            Some(u) => Ok(Some(u)),
            None => find_by_username(c, key),
        })
    }

    /// A user and their password hash, by username, for sign-in.
    pub fn find_for_login(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let username = username.to_string();
            return pg.run(move |c| super::pg::users::find_for_login(c, username));
        }
        self.0.with(|c| find_for_login(c, username))
    }

    /// A new user, its password hashed here (seeding; see [`create`]).
    pub fn create(&self, new: &NewUser<'_>) -> Result<User, StoreError> {
        if let Some(pg) = self.0.pg() {
            let row = pg_row(new)?;
            return pg
                .run(move |c| super::pg::users::insert(c, row, now_unix()))
                .map_err(name_conflict);
        }
        self.0.with(|c| create(c, new))
    }

    /// [`Users::create`] with a chosen id (the demo's fixed sample user).
    pub fn create_with_id(&self, id: &str, new: &NewUser<'_>) -> Result<User, StoreError> {
        if let Some(pg) = self.0.pg() {
            let row = pg_row(new)?;
            let id = id.to_string();
            return pg
                .write(move |c| super::pg::users::insert_with_id(c, id, row, now_unix()))
                .map_err(name_conflict);
        }
        self.0.write(|c| {
            let made = create(c, new)?;
            c.execute("UPDATE users SET id = ?1 WHERE id = ?2", [id, &made.id])?;
            Ok(User {
                id: id.to_string(),
                ..made
            })
        })
    }

    /// A new user with a fresh id. A username or email another user holds
    /// fails with `StoreError::Conflict` naming the field (`username` or
    /// `email`): a writer that won a race past [`Users::taken_field`].
    pub fn insert(&self, row: &UserRow<'_>, now: i64) -> Result<User, StoreError> {
        if let Some(pg) = self.0.pg() {
            let row = row.into();
            return pg
                .run(move |c| super::pg::users::insert(c, row, now))
                .map_err(name_conflict);
        }
        self.0.with(|c| insert(c, row, now)).map_err(name_conflict)
    }

    /// Applies `changes`; false when the user is unknown. Conflicts as for
    /// [`Users::insert`].
    pub fn update(&self, id: &str, changes: &Changes<'_>, now: i64) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (id, changes) = (id.to_string(), changes.into());
            return pg
                .run(move |c| super::pg::users::update(c, id, changes, now))
                .map_err(name_conflict);
        }
        self.0
            .with(|c| update(c, id, changes, now))
            .map_err(name_conflict)
    }

    /// Deletes a user; false when unknown (see [`delete`]).
    pub fn delete(&self, id: &str) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let id = id.to_string();
            return pg.run(move |c| super::pg::users::delete(c, id));
        }
        self.0.with(|c| delete(c, id))
    }

    /// Which unique field another user (not `except_id`) already holds.
    pub fn taken_field(
        &self,
        username: Option<&str>,
        email: Option<&str>,
        except_id: &str,
    ) -> Result<Option<&'static str>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (u, e) = (username.map(str::to_string), email.map(str::to_string));
            let except = except_id.to_string();
            return pg.run(move |c| super::pg::users::taken_field(c, u, e, except));
        }
        self.0.with(|c| taken_field(c, username, email, except_id))
    }

    /// One page of users, oldest first (see [`list`]).
    pub fn list(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<User>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let status = status.map(str::to_string);
            return pg.run(move |c| super::pg::users::list(c, status, limit, offset));
        }
        self.0.with(|c| list(c, status, limit, offset))
    }

    /// How many users there are (with that status).
    pub fn count(&self, status: Option<&str>) -> Result<i64, StoreError> {
        if let Some(pg) = self.0.pg() {
            let status = status.map(str::to_string);
            return pg.run(move |c| super::pg::users::count(c, status));
        }
        self.0.with(|c| count(c, status))
    }
}

/// A UNIQUE violation as `Conflict("username")` or `Conflict("email")`.
fn name_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(m)
            if m.contains("users.username") || m.contains("users_username_key") =>
        {
            StoreError::Conflict("username".into())
        }
        StoreError::Conflict(m)
            if m.contains("users.email_lower") || m.contains("users_email_lower_key") =>
        {
            StoreError::Conflict("email".into())
        }
        other => other,
    }
}

/// A new user's row for PostgreSQL, its password hashed here (as [`create`]).
fn pg_row(new: &NewUser<'_>) -> Result<super::pg::users::OwnedRow, StoreError> {
    let hash = hash_password(new.password).map_err(|e| StoreError::Failed(e.to_string()))?;
    let status = if new.status.is_empty() {
        "active"
    } else {
        new.status
    };
    Ok((&UserRow {
        username: new.username,
        email: new.email,
        password_hash: &hash,
        firstname: new.firstname,
        surname: new.surname,
        company: new.company,
        status,
    })
        .into())
}

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

/// The stored hash of an account without a password: no PHC string, so
/// [`verify_password`] never accepts anything for it.
pub const NO_PASSWORD: &str = "!";

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

/// Inserts a user; the password is hashed here (fine for seeding; request
/// paths hash before taking the store lock and call [`insert`]).
pub fn create(conn: &Connection, new: &NewUser<'_>) -> rusqlite::Result<User> {
    let hash = hash_password(new.password)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))?;
    let status = if new.status.is_empty() {
        "active"
    } else {
        new.status
    };
    insert(
        conn,
        &UserRow {
            username: new.username,
            email: new.email,
            password_hash: &hash,
            firstname: new.firstname,
            surname: new.surname,
            company: new.company,
            status,
        },
        now_unix(),
    )
}

/// The columns of a new user, password already hashed.
#[derive(Debug, Clone, Copy)]
pub struct UserRow<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub firstname: &'a str,
    pub surname: &'a str,
    pub company: &'a str,
    pub status: &'a str,
}

/// Inserts a user with a fresh id. A taken username or email fails on the
/// UNIQUE constraints (see [`taken_field`]).
pub fn insert(conn: &Connection, row: &UserRow<'_>, now: i64) -> rusqlite::Result<User> {
    let user = User {
        id: new_id(),
        username: row.username.to_string(),
        email: row.email.to_string(),
        firstname: row.firstname.to_string(),
        surname: row.surname.to_string(),
        company: row.company.to_string(),
        status: row.status.to_string(),
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
            row.password_hash,
            user.firstname,
            user.surname,
            user.company,
            user.status,
            now
        ],
    )?;
    Ok(user)
}

/// New values of a user's columns; `None` keeps the stored one.
#[derive(Debug, Clone, Default)]
pub struct Changes<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub firstname: Option<&'a str>,
    pub surname: Option<&'a str>,
    pub company: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// Applies `changes` and bumps `updated_at`; false when the user is unknown.
pub fn update(conn: &Connection, id: &str, c: &Changes<'_>, now: i64) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE users SET
            username      = COALESCE(?2, username),
            email         = COALESCE(?3, email),
            email_lower   = COALESCE(?4, email_lower),
            password_hash = COALESCE(?5, password_hash),
            firstname     = COALESCE(?6, firstname),
            surname       = COALESCE(?7, surname),
            company       = COALESCE(?8, company),
            status        = COALESCE(?9, status),
            updated_at    = ?10
         WHERE id = ?1",
        params![
            id,
            c.username,
            c.email,
            c.email.map(str::to_lowercase),
            c.password_hash,
            c.firstname,
            c.surname,
            c.company,
            c.status,
            now
        ],
    )?;
    Ok(n == 1)
}

/// Deletes a user; false when unknown. Api keys it owned keep working
/// (`owner_user_id` is set to NULL by the foreign key).
///
/// Hook: whatever the user signed in with (the `tokens` table, once it
/// exists) must end here too, in the caller's transaction, either by an
/// `ON DELETE CASCADE` foreign key or by a delete next to this one.
pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM users WHERE id = ?1", [id])? == 1)
}

/// Which unique field another user (not `except_id`) already holds:
/// `email` first (compared case-insensitively; the seed's 409 example), then
/// `username`.
pub fn taken_field(
    conn: &Connection,
    username: Option<&str>,
    email: Option<&str>,
    except_id: &str,
) -> rusqlite::Result<Option<&'static str>> {
    let exists = |sql: &str, value: &str| -> rusqlite::Result<bool> {
        conn.query_row(sql, params![value, except_id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
    };
    if let Some(e) = email {
        let lower = e.to_lowercase();
        if exists(
            "SELECT 1 FROM users WHERE email_lower = ?1 AND id != ?2",
            &lower,
        )? {
            return Ok(Some("email"));
        }
    }
    if let Some(u) = username {
        if exists("SELECT 1 FROM users WHERE username = ?1 AND id != ?2", u)? {
            return Ok(Some("username"));
        }
    }
    Ok(None)
}

/// One page of users, oldest first; ties on `created_at` are broken by id,
/// so pages never overlap or skip while nothing is inserted in between.
pub fn list(
    conn: &Connection,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE (?1 IS NULL OR status = ?1)
         ORDER BY created_at, id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![status, limit, offset], from_row)?;
    rows.collect()
}

/// How many users there are (with that status).
pub fn count(conn: &Connection, status: Option<&str>) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM users WHERE (?1 IS NULL OR status = ?1)",
        [status],
        |r| r.get(0),
    )
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

/// Finds a user by id.
pub fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
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
                let dup = dup.unwrap_err();
                assert!(
                    matches!(name_conflict(dup.into()), StoreError::Conflict(f) if f == "email")
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn update_list_count_delete() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let row = |name: &'static str, email: &'static str, status: &'static str| UserRow {
                    username: name,
                    email,
                    password_hash: "x",
                    firstname: "",
                    surname: "",
                    company: "",
                    status,
                };
                let a = insert(c, &row("anna", "anna@example.com", "active"), 100)?;
                let b = insert(c, &row("bert", "bert@example.com", "pending"), 100)?;
                let z = insert(c, &row("zoe", "zoe@example.com", "active"), 50)?;
                // oldest first, ties by id
                let all = list(c, None, 10, 0)?;
                let mut tied = vec![a.id.clone(), b.id.clone()];
                tied.sort();
                assert_eq!(all[0].id, z.id);
                assert_eq!(vec![all[1].id.clone(), all[2].id.clone()], tied);
                assert_eq!(count(c, Some("active"))?, 2);
                assert_eq!(list(c, Some("pending"), 10, 0)?, vec![b.clone()]);
                assert_eq!(list(c, None, 1, 2)?.len(), 1);
                assert_eq!(taken_field(c, Some("bert"), None, &a.id)?, Some("username"));
                assert_eq!(
                    taken_field(c, None, Some("BERT@example.com"), &a.id)?,
                    Some("email")
                );
                assert_eq!(
                    taken_field(c, Some("anna"), Some("Anna@Example.com"), &a.id)?,
                    None
                );
                let changes = Changes {
                    email: Some("Anna.New@example.com"),
                    status: Some("inactive"),
                    ..Changes::default()
                };
                assert!(update(c, &a.id, &changes, 200)?);
                let a2 = find(c, &a.id)?.unwrap();
                assert_eq!(
                    (
                        a2.email.as_str(),
                        a2.status.as_str(),
                        a2.updated_at,
                        a2.created_at
                    ),
                    ("Anna.New@example.com", "inactive", 200, 100)
                );
                assert_eq!(find_by_username(c, "anna")?, Some(a2));
                assert!(!update(c, "usr_nope", &changes, 200)?);
                assert!(delete(c, &a.id)?);
                assert!(!delete(c, &a.id)?);
                assert_eq!(count(c, None)?, 2);
                Ok(())
            })
            .unwrap();
    }
}
