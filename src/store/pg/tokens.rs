//! User tokens on PostgreSQL (store/tokens.rs); secrets sealed in Rust.

use tokio_postgres::Row;

use super::{pg_err, Conn};
use crate::store::tokens::{Token, TokenState};
use crate::store::StoreError;

const COLUMNS: &str = "token, api_key, user_id, app_name, app_logo, app_callback, lang, state, \
                       created_at, decided_at, valid_until, last_used_at";

fn from_row(r: &Row) -> Token {
    let state: String = r.get(7);
    Token {
        token: r.get(0),
        api_key: r.get(1),
        user_id: r.get(2),
        app_name: r.get(3),
        app_logo: r.get(4),
        app_callback: r.get(5),
        lang: r.get(6),
        state: TokenState::parse(&state),
        created_at: r.get(8),
        decided_at: r.get(9),
        valid_until: r.get(10),
        last_used_at: r.get(11),
    }
}

pub(crate) async fn find(c: Conn, token: String) -> Result<Option<Token>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM tokens WHERE token = $1"),
            &[&token],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(from_row))
}

pub(crate) async fn find_with_secret(
    c: Conn,
    token: String,
) -> Result<Option<(Token, Vec<u8>)>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS}, secret FROM tokens WHERE token = $1"),
            &[&token],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.map(|r| (from_row(&r), r.get(12))))
}

pub(crate) async fn decide(
    c: Conn,
    token: String,
    outcome: TokenState,
    user_id: Option<String>,
    now: i64,
    valid_until: i64,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE tokens SET state = $2, user_id = $3, decided_at = $4, valid_until = $5
             WHERE token = $1 AND state = 'pending' AND valid_until >= $4",
            &[&token, &outcome.as_str(), &user_id, &now, &valid_until],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

/// Stores a new (pending) token with its sealed secret and FTP flag.
pub(crate) async fn insert(
    c: Conn,
    t: Token,
    sealed: Vec<u8>,
    ftp_access: bool,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO tokens (token, api_key, user_id, secret, app_name, app_logo, app_callback,
                             lang, state, created_at, valid_until, ftp_access)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &t.token,
            &t.api_key,
            &t.user_id,
            &sealed,
            &t.app_name,
            &t.app_logo,
            &t.app_callback,
            &t.lang,
            &t.state.as_str(),
            &t.created_at,
            &t.valid_until,
            &ftp_access,
        ],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn touch(
    c: Conn,
    token: String,
    now: i64,
    valid_until: i64,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE tokens SET last_used_at = $2, valid_until = $3 WHERE token = $1",
        &[&token, &now, &valid_until],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn set_valid_until(
    c: Conn,
    token: String,
    valid_until: i64,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE tokens SET valid_until = $2 WHERE token = $1 AND state = 'authorized'",
            &[&token, &valid_until],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn authorized_for_user(
    c: Conn,
    user_id: String,
    now: i64,
) -> Result<Vec<Token>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM tokens
                 WHERE user_id = $1 AND state = 'authorized' AND valid_until >= $2
                 ORDER BY decided_at DESC, token"
            ),
            &[&user_id, &now],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(from_row).collect())
}

pub(crate) async fn revoke(
    c: Conn,
    token: String,
    user_id: String,
    now: i64,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE tokens SET state = 'revoked', decided_at = $3
             WHERE token = $1 AND user_id = $2 AND state = 'authorized'",
            &[&token, &user_id, &now],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn ftp_access(c: Conn, token: String) -> Result<bool, StoreError> {
    let row = c
        .query_opt("SELECT ftp_access FROM tokens WHERE token = $1", &[&token])
        .await
        .map_err(pg_err)?;
    Ok(row.is_some_and(|r| r.get(0)))
}
