//! Deposits (store/balances.rs) and download orders (store/orders.rs) on
//! PostgreSQL.

use tokio_postgres::Row;

use super::{pg_err, Conn};
use crate::store::balances::Deposit;
use crate::store::orders::{Article, CallbackOutcome, Order, Status};
use crate::store::StoreError;

pub(crate) async fn balance(c: Conn, user_id: String) -> Result<Deposit, StoreError> {
    let row = c
        .query_opt(
            "SELECT credits, total, currency FROM media_deposits WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(pg_err)?;
    Ok(match row {
        Some(r) => Deposit {
            credits: r.get(0),
            total: r.get(1),
            currency: r.get(2),
        },
        None => Deposit {
            credits: 0,
            total: 0,
            currency: "credits".into(),
        },
    })
}

pub(crate) async fn credit(
    c: Conn,
    user_id: String,
    credits: i64,
    now: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO media_deposits (user_id, credits, total, updated_at) VALUES ($1, $2, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET credits = media_deposits.credits + $2,
                                             total = media_deposits.total + $2,
                                             updated_at = $3",
        &[&user_id, &credits, &now],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

/// One statement: the row lock makes concurrent charges queue, and each
/// sees the credits the one before it left.
pub(crate) async fn charge(
    c: Conn,
    user_id: String,
    price: i64,
    now: i64,
) -> Result<bool, StoreError> {
    if price == 0 {
        return Ok(true);
    }
    let n = c
        .execute(
            "UPDATE media_deposits SET credits = credits - $2, updated_at = $3
             WHERE user_id = $1 AND credits >= $2",
            &[&user_id, &price, &now],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn articles(c: Conn) -> Result<Vec<Article>, StoreError> {
    let rows = c
        .query(
            "SELECT id, kind, name, description, long_side, price, currency FROM media_articles
             ORDER BY kind DESC, CASE long_side WHEN 0 THEN 1 ELSE 0 END, long_side, id",
            &[],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows
        .iter()
        .map(|r| Article {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
            description: r.get(3),
            long_side: r.get(4),
            price: r.get(5),
            currency: r.get(6),
        })
        .collect())
}

const COLUMNS: &str = "id, user_id, media_id, articles, width, height, price, currency,
    queue_hash, status, callback_url, created_at";

fn from_row(r: &Row) -> Order {
    let status: String = r.get(9);
    Order {
        id: r.get(0),
        user_id: r.get(1),
        media_id: r.get(2),
        articles: r.get(3),
        width: r.get(4),
        height: r.get(5),
        price: r.get(6),
        currency: r.get(7),
        queue_hash: r.get(8),
        status: Status::parse(&status),
        callback_url: r.get(10),
        created_at: r.get(11),
    }
}

/// The owned fields of a new order.
pub(crate) struct NewOrder {
    pub user_id: String,
    pub media_id: i64,
    pub articles: String,
    pub width: i64,
    pub height: i64,
    pub price: i64,
    pub currency: String,
    pub queue_hash: String,
    pub callback_url: Option<String>,
    pub now: i64,
}

pub(crate) async fn insert(c: Conn, o: NewOrder) -> Result<Order, StoreError> {
    let state = if o.callback_url.is_some() {
        "waiting"
    } else {
        "none"
    };
    let row = c
        .query_one(
            &format!(
                "INSERT INTO media_downloads (user_id, media_id, articles, width, height, price,
                    currency, queue_hash, callback_url, callback_state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 RETURNING {COLUMNS}"
            ),
            &[
                &o.user_id,
                &o.media_id,
                &o.articles,
                &o.width,
                &o.height,
                &o.price,
                &o.currency,
                &o.queue_hash,
                &o.callback_url,
                &state,
                &o.now,
            ],
        )
        .await
        .map_err(pg_err)?;
    Ok(from_row(&row))
}

/// One order by a condition on `$1`, `$2`… (`cond` is ours, never input).
async fn one(
    c: &Conn,
    cond: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<Order>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM media_downloads WHERE {cond}"),
            params,
        )
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(from_row))
}

pub(crate) async fn held(
    c: Conn,
    user_id: String,
    media_id: i64,
    articles: String,
) -> Result<Option<Order>, StoreError> {
    one(
        &c,
        "user_id = $1 AND media_id = $2 AND articles = $3",
        &[&user_id, &media_id, &articles],
    )
    .await
}

pub(crate) async fn by_id(c: Conn, id: i64, user_id: String) -> Result<Option<Order>, StoreError> {
    one(&c, "id = $1 AND user_id = $2", &[&id, &user_id]).await
}

pub(crate) async fn by_id_any(c: Conn, id: i64) -> Result<Option<Order>, StoreError> {
    one(&c, "id = $1", &[&id]).await
}

pub(crate) async fn by_queue_hash(
    c: Conn,
    hash: String,
    user_id: String,
) -> Result<Option<Order>, StoreError> {
    one(&c, "queue_hash = $1 AND user_id = $2", &[&hash, &user_id]).await
}

pub(crate) async fn list(
    c: Conn,
    user_id: String,
    media_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Order>), StoreError> {
    let total: i64 = c
        .query_one(
            "SELECT count(*) FROM media_downloads
             WHERE user_id = $1 AND ($2::int8 IS NULL OR media_id = $2)",
            &[&user_id, &media_id],
        )
        .await
        .map_err(pg_err)?
        .get(0);
    let limit = if limit < 0 { i64::MAX } else { limit };
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM media_downloads
                 WHERE user_id = $1 AND ($2::int8 IS NULL OR media_id = $2)
                 ORDER BY id DESC LIMIT $3 OFFSET $4"
            ),
            &[&user_id, &media_id, &limit, &offset.max(0)],
        )
        .await
        .map_err(pg_err)?;
    Ok((total, rows.iter().map(from_row).collect()))
}

pub(crate) async fn advance(c: Conn, now: i64) -> Result<usize, StoreError> {
    let ready = c
        .execute(
            "UPDATE media_downloads SET status = 'ready', ready_at = $1,
                callback_state = CASE callback_state WHEN 'waiting' THEN 'pending'
                                                     ELSE callback_state END,
                callback_next_at = $1
             WHERE status = 'processing'",
            &[&now],
        )
        .await
        .map_err(pg_err)?;
    let processing = c
        .execute(
            "UPDATE media_downloads SET status = 'processing' WHERE status = 'queued'",
            &[],
        )
        .await
        .map_err(pg_err)?;
    Ok((ready + processing) as usize)
}

/// Takes the due callbacks until `lease_until` in one statement; rows
/// another instance is taking at the same moment are skipped, not waited for.
pub(crate) async fn claim_due_callbacks(
    c: Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<(Order, i64)>, StoreError> {
    let limit = if limit < 0 { i64::MAX } else { limit };
    let rows = c
        .query(
            &format!(
                "UPDATE media_downloads SET callback_next_at = $3
                 FROM (SELECT id AS due_id FROM media_downloads
                       WHERE callback_state = 'pending' AND callback_next_at <= $1
                       ORDER BY callback_next_at LIMIT $2
                       FOR UPDATE SKIP LOCKED) due
                 WHERE id = due.due_id
                 RETURNING {COLUMNS}, callback_attempts"
            ),
            &[&now, &limit, &lease_until],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(|r| (from_row(r), r.get(12))).collect())
}

pub(crate) async fn callback_attempted(
    c: Conn,
    id: i64,
    outcome: CallbackOutcome,
) -> Result<(), StoreError> {
    let (state, next_at) = match outcome {
        CallbackOutcome::Delivered => ("done", 0),
        CallbackOutcome::RetryAt(t) => ("pending", t),
        CallbackOutcome::GaveUp => ("failed", 0),
    };
    c.execute(
        "UPDATE media_downloads SET callback_state = $2, callback_next_at = $3,
            callback_attempts = callback_attempts + 1 WHERE id = $1",
        &[&id, &state, &next_at],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}
