//! User accounts on PostgreSQL (store/users.rs).

use tokio_postgres::Row;

use super::{pg_err, Conn};
use crate::store::users::{new_id, Changes, User, UserRow};
use crate::store::StoreError;

const COLUMNS: &str =
    "id, username, email, firstname, surname, company, status, created_at, updated_at";

fn from_row(r: &Row) -> User {
    User {
        id: r.get(0),
        username: r.get(1),
        email: r.get(2),
        firstname: r.get(3),
        surname: r.get(4),
        company: r.get(5),
        status: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

/// The owned columns of a new user (a task cannot borrow the caller's).
pub(crate) struct OwnedRow {
    username: String,
    email: String,
    password_hash: String,
    firstname: String,
    surname: String,
    company: String,
    status: String,
}

impl From<&UserRow<'_>> for OwnedRow {
    fn from(r: &UserRow<'_>) -> Self {
        OwnedRow {
            username: r.username.into(),
            email: r.email.into(),
            password_hash: r.password_hash.into(),
            firstname: r.firstname.into(),
            surname: r.surname.into(),
            company: r.company.into(),
            status: r.status.into(),
        }
    }
}

pub(crate) async fn find(c: Conn, id: String) -> Result<Option<User>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
            &[&id],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(from_row))
}

pub(crate) async fn find_by_username(
    c: Conn,
    username: String,
) -> Result<Option<User>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM users WHERE username = $1"),
            &[&username],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(from_row))
}

pub(crate) async fn find_by_id_or_username(
    c: Conn,
    key: String,
) -> Result<Option<User>, StoreError> {
    match find(c.clone(), key.clone()).await? {
        Some(u) => Ok(Some(u)),
        None => find_by_username(c, key).await,
    }
}

pub(crate) async fn find_for_login(
    c: Conn,
    username: String,
) -> Result<Option<(User, String)>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = $1"),
            &[&username],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| (from_row(&r), r.get(9))))
}

pub(crate) async fn insert(c: Conn, row: OwnedRow, now: i64) -> Result<User, StoreError> {
    let user = User {
        id: new_id(),
        username: row.username,
        email: row.email,
        firstname: row.firstname,
        surname: row.surname,
        company: row.company,
        status: row.status,
        created_at: now,
        updated_at: now,
    };
    c.execute(
        "INSERT INTO users (id, username, email, email_lower, password_hash, firstname, surname,
                            company, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        &[
            &user.id,
            &user.username,
            &user.email,
            &user.email.to_lowercase(),
            &row.password_hash,
            &user.firstname,
            &user.surname,
            &user.company,
            &user.status,
            &now,
        ],
    )
    .await
    .map_err(pg_err)?;
    Ok(user)
}

/// A user inserted and then given a chosen id, in one transaction.
pub(crate) async fn insert_with_id(
    c: Conn,
    id: String,
    row: OwnedRow,
    now: i64,
) -> Result<User, StoreError> {
    let made = insert(c.clone(), row, now).await?;
    c.execute("UPDATE users SET id = $1 WHERE id = $2", &[&id, &made.id])
        .await
        .map_err(pg_err)?;
    Ok(User { id, ..made })
}

/// The owned [`Changes`].
pub(crate) struct OwnedChanges([Option<String>; 7]);

impl From<&Changes<'_>> for OwnedChanges {
    fn from(c: &Changes<'_>) -> Self {
        let o = |v: Option<&str>| v.map(str::to_string);
        OwnedChanges([
            o(c.username),
            o(c.email),
            o(c.password_hash),
            o(c.firstname),
            o(c.surname),
            o(c.company),
            o(c.status),
        ])
    }
}

pub(crate) async fn update(
    c: Conn,
    id: String,
    ch: OwnedChanges,
    now: i64,
) -> Result<bool, StoreError> {
    let [username, email, password_hash, firstname, surname, company, status] = ch.0;
    let email_lower = email.as_deref().map(str::to_lowercase);
    let n = c
        .execute(
            "UPDATE users SET
                username      = COALESCE($2, username),
                email         = COALESCE($3, email),
                email_lower   = COALESCE($4, email_lower),
                password_hash = COALESCE($5, password_hash),
                firstname     = COALESCE($6, firstname),
                surname       = COALESCE($7, surname),
                company       = COALESCE($8, company),
                status        = COALESCE($9, status),
                updated_at    = $10
             WHERE id = $1",
            &[
                &id,
                &username,
                &email,
                &email_lower,
                &password_hash,
                &firstname,
                &surname,
                &company,
                &status,
                &now,
            ],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn delete(c: Conn, id: String) -> Result<bool, StoreError> {
    let n = c
        .execute("DELETE FROM users WHERE id = $1", &[&id])
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn taken_field(
    c: Conn,
    username: Option<String>,
    email: Option<String>,
    except_id: String,
) -> Result<Option<&'static str>, StoreError> {
    if let Some(e) = email {
        let lower = e.to_lowercase();
        let hit = c
            .query_opt(
                "SELECT 1 FROM users WHERE email_lower = $1 AND id <> $2",
                &[&lower, &except_id],
            )
            .await
            .map_err(pg_err)?;
        if hit.is_some() {
            return Ok(Some("email"));
        }
    }
    if let Some(u) = username {
        let hit = c
            .query_opt(
                "SELECT 1 FROM users WHERE username = $1 AND id <> $2",
                &[&u, &except_id],
            )
            .await
            .map_err(pg_err)?;
        if hit.is_some() {
            return Ok(Some("username"));
        }
    }
    Ok(None)
}

pub(crate) async fn list(
    c: Conn,
    status: Option<String>,
    limit: i64,
    offset: i64,
) -> Result<Vec<User>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM users WHERE ($1::text IS NULL OR status = $1)
                 ORDER BY created_at, id LIMIT $2 OFFSET $3"
            ),
            &[
                &status,
                &(if limit < 0 { i64::MAX } else { limit }),
                &offset.max(0),
            ],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(from_row).collect())
}

pub(crate) async fn count(c: Conn, status: Option<String>) -> Result<i64, StoreError> {
    let row = c
        .query_one(
            "SELECT COUNT(*) FROM users WHERE ($1::text IS NULL OR status = $1)",
            &[&status],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}
