//! Articles (what an item can be licensed as) and download orders. An order
//! is unique per (user, item, articles): buying what one already holds is a
//! free re-download, so two identical calls can never charge twice.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

super::group!(
/// The download orders as one group of the storage seam.
    Orders,
    orders
);

impl Orders<'_> {
    /// The articles on sale (sizes and licences), in display order.
    pub fn articles(&self) -> Result<Vec<Article>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(super::pg::orders::articles);
        }
        self.0.read(articles)
    }

    /// A new order (see [`insert`]); charge for it in the same transaction.
    pub fn insert(&self, o: &NewOrder<'_>) -> Result<Order, StoreError> {
        if let Some(pg) = self.0.pg() {
            let o = super::pg::orders::NewOrder {
                user_id: o.user_id.into(),
                media_id: o.media_id,
                articles: o.articles.into(),
                width: o.width,
                height: o.height,
                price: o.price,
                currency: o.currency.into(),
                queue_hash: o.queue_hash.into(),
                callback_url: o.callback_url.map(str::to_string),
                now: o.now,
            };
            return pg.run(move |c| super::pg::orders::insert(c, o));
        }
        self.0.with(|c| insert(c, o))
    }

    /// The user's order for exactly these articles of this item, if any.
    pub fn held(
        &self,
        user_id: &str,
        media_id: i64,
        articles: &str,
    ) -> Result<Option<Order>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (user_id, articles) = (user_id.to_string(), articles.to_string());
            return pg.run(move |c| super::pg::orders::held(c, user_id, media_id, articles));
        }
        self.0.with(|c| held(c, user_id, media_id, articles))
    }

    /// An order of `user_id` by id (another user's order is not found).
    pub fn by_id(&self, id: i64, user_id: &str) -> Result<Option<Order>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::orders::by_id(c, id, user_id));
        }
        self.0.with(|c| by_id(c, id, user_id))
    }

    /// An order by id whoever owns it (a signed link already proves access).
    pub fn by_id_any(&self, id: i64) -> Result<Option<Order>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::orders::by_id_any(c, id));
        }
        self.0.with(|c| by_id_any(c, id))
    }

    /// An order of `user_id` by its queue hash.
    pub fn by_queue_hash(&self, hash: &str, user_id: &str) -> Result<Option<Order>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (hash, user_id) = (hash.to_string(), user_id.to_string());
            return pg.run(move |c| super::pg::orders::by_queue_hash(c, hash, user_id));
        }
        self.0.with(|c| by_queue_hash(c, hash, user_id))
    }

    /// The user's orders, newest first, optionally of one item: (total, page).
    pub fn list(
        &self,
        user_id: &str,
        media_id: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Order>), StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::orders::list(c, user_id, media_id, offset, limit));
        }
        self.0.with(|c| list(c, user_id, media_id, offset, limit))
    }

    /// One step of the order pipeline (see [`advance`]); how many moved.
    pub fn advance(&self, now: i64) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.write(move |c| super::pg::orders::advance(c, now));
        }
        self.0.write(|c| Ok(advance(c, now)?))
    }

    /// Takes the callbacks due at `now` for this worker until `lease_until`:
    /// (order, attempts so far). Another instance's worker does not see them
    /// again before then, so a callback is sent by one instance; if this one
    /// dies before recording the attempt, the next after the lease sends it.
    pub fn claim_due_callbacks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<(Order, i64)>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg
                .run(move |c| super::pg::orders::claim_due_callbacks(c, now, lease_until, limit));
        }
        self.0.write(|c| {
            let due = due_callbacks(c, now, limit)?;
            let mut lease =
                c.prepare_cached("UPDATE media_downloads SET callback_next_at = ?2 WHERE id = ?1")?;
            for (order, _) in &due {
                lease.execute(params![order.id, lease_until])?;
            }
            Ok(due)
        })
    }

    /// Records a callback attempt.
    pub fn callback_attempted(&self, id: i64, outcome: CallbackOutcome) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::orders::callback_attempted(c, id, outcome));
        }
        self.0.with(|c| callback_attempted(c, id, outcome))
    }
}

/// A size article (a pixel size of the file) or an extended-rights article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: i64,
    /// `size` or `extended`.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// Longest side in pixels; 0 = the original size.
    pub long_side: i64,
    pub price: i64,
    pub currency: String,
}

impl Article {
    pub fn is_size(&self) -> bool {
        self.kind == "size"
    }

    /// The pixel size of this article for an original of `w`×`h`; `None`
    /// when the original is not larger than this size (only the original
    /// size is sold then).
    pub fn dimensions(&self, w: i64, h: i64) -> Option<(i64, i64)> {
        let long = w.max(h);
        if self.long_side == 0 {
            return Some((w, h));
        }
        if long <= self.long_side || long == 0 {
            return None;
        }
        let scale = |v: i64| ((v * self.long_side + long / 2) / long).max(1);
        Some((scale(w), scale(h)))
    }
}

/// Every article, size articles first by size.
pub fn articles(conn: &Connection) -> rusqlite::Result<Vec<Article>> {
    conn.prepare_cached(
        "SELECT id, kind, name, description, long_side, price, currency FROM media_articles
         ORDER BY kind DESC, CASE long_side WHEN 0 THEN 1 ELSE 0 END, long_side, id",
    )?
    .query_map([], |r| {
        Ok(Article {
            id: r.get(0)?,
            kind: r.get(1)?,
            name: r.get(2)?,
            description: r.get(3)?,
            long_side: r.get(4)?,
            price: r.get(5)?,
            currency: r.get(6)?,
        })
    })?
    .collect()
}

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Processing,
    Ready,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Ready => "ready",
        }
    }
    pub(crate) fn parse(s: &str) -> Status {
        match s {
            "ready" => Status::Ready,
            "processing" => Status::Processing,
            _ => Status::Queued,
        }
    }
}

/// One download order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub user_id: String,
    pub media_id: i64,
    /// Article ids, sorted, comma-separated.
    pub articles: String,
    pub width: i64,
    pub height: i64,
    pub price: i64,
    pub currency: String,
    pub queue_hash: String,
    pub status: Status,
    pub callback_url: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, user_id, media_id, articles, width, height, price, currency,
    queue_hash, status, callback_url, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    let status: String = r.get(9)?;
    Ok(Order {
        id: r.get(0)?,
        user_id: r.get(1)?,
        media_id: r.get(2)?,
        articles: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        price: r.get(6)?,
        currency: r.get(7)?,
        queue_hash: r.get(8)?,
        status: Status::parse(&status),
        callback_url: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// An order to be created.
pub struct NewOrder<'a> {
    pub user_id: &'a str,
    pub media_id: i64,
    pub articles: &'a str,
    pub width: i64,
    pub height: i64,
    pub price: i64,
    pub currency: &'a str,
    pub queue_hash: &'a str,
    pub callback_url: Option<&'a str>,
    pub now: i64,
}

/// Inserts a queued order; returns it.
pub fn insert(conn: &Connection, o: &NewOrder<'_>) -> rusqlite::Result<Order> {
    conn.execute(
        "INSERT INTO media_downloads (user_id, media_id, articles, width, height, price, currency,
            queue_hash, callback_url, callback_state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            o.user_id,
            o.media_id,
            o.articles,
            o.width,
            o.height,
            o.price,
            o.currency,
            o.queue_hash,
            o.callback_url,
            if o.callback_url.is_some() {
                "waiting"
            } else {
                "none"
            },
            o.now
        ],
    )?;
    let id = conn.last_insert_rowid();
    by_id(conn, id, o.user_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// The user's order for exactly these articles of this item, if any.
pub fn held(
    conn: &Connection,
    user_id: &str,
    media_id: i64,
    articles: &str,
) -> rusqlite::Result<Option<Order>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media_downloads
         WHERE user_id = ?1 AND media_id = ?2 AND articles = ?3"
    ))?
    .query_row(params![user_id, media_id, articles], from_row)
    .optional()
}

/// An order of `user_id` by id (another user's order is not found).
pub fn by_id(conn: &Connection, id: i64, user_id: &str) -> rusqlite::Result<Option<Order>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media_downloads WHERE id = ?1 AND user_id = ?2"
    ))?
    .query_row(params![id, user_id], from_row)
    .optional()
}

/// An order by id whoever owns it (the signed download URL already proves access).
pub fn by_id_any(conn: &Connection, id: i64) -> rusqlite::Result<Option<Order>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media_downloads WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()
}

/// An order of `user_id` by its queue hash.
pub fn by_queue_hash(
    conn: &Connection,
    hash: &str,
    user_id: &str,
) -> rusqlite::Result<Option<Order>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media_downloads WHERE queue_hash = ?1 AND user_id = ?2"
    ))?
    .query_row(params![hash, user_id], from_row)
    .optional()
}

/// The user's orders, newest first, optionally of one item: (total, page).
pub fn list(
    conn: &Connection,
    user_id: &str,
    media_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> rusqlite::Result<(i64, Vec<Order>)> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM media_downloads
             WHERE user_id = ?1 AND (?2 IS NULL OR media_id = ?2)",
        )?
        .query_row(params![user_id, media_id], |r| r.get(0))?;
    let page = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM media_downloads
             WHERE user_id = ?1 AND (?2 IS NULL OR media_id = ?2)
             ORDER BY id DESC LIMIT ?3 OFFSET ?4"
        ))?
        .query_map(params![user_id, media_id, limit, offset], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((total, page))
}

/// One step of the order pipeline: processing → ready, then queued →
/// processing. Orders that became ready with a callback get it scheduled.
/// Returns how many orders moved.
/// Call it in a transaction ([`Orders::advance`]).
pub fn advance(tx: &Connection, now: i64) -> rusqlite::Result<usize> {
    let ready = tx.execute(
        "UPDATE media_downloads SET status = 'ready', ready_at = ?1,
            callback_state = CASE callback_state WHEN 'waiting' THEN 'pending'
                                                 ELSE callback_state END,
            callback_next_at = ?1
         WHERE status = 'processing'",
        [now],
    )?;
    let processing = tx.execute(
        "UPDATE media_downloads SET status = 'processing' WHERE status = 'queued'",
        [],
    )?;
    Ok(ready + processing)
}

/// Callbacks due at `now`: (order, attempts so far).
pub fn due_callbacks(
    conn: &Connection,
    now: i64,
    limit: i64,
) -> rusqlite::Result<Vec<(Order, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, callback_attempts FROM media_downloads
         WHERE callback_state = 'pending' AND callback_next_at <= ?1
         ORDER BY callback_next_at LIMIT ?2"
    ))?
    .query_map(params![now, limit], |r| Ok((from_row(r)?, r.get(12)?)))?
    .collect()
}

/// Records a callback attempt: done, retry at `next_at`, or given up.
pub fn callback_attempted(
    conn: &Connection,
    id: i64,
    outcome: CallbackOutcome,
) -> rusqlite::Result<()> {
    let (state, next_at) = match outcome {
        CallbackOutcome::Delivered => ("done", 0),
        CallbackOutcome::RetryAt(t) => ("pending", t),
        CallbackOutcome::GaveUp => ("failed", 0),
    };
    conn.execute(
        "UPDATE media_downloads SET callback_state = ?2, callback_next_at = ?3,
            callback_attempts = callback_attempts + 1 WHERE id = ?1",
        params![id, state, next_at],
    )?;
    Ok(())
}

/// What became of one callback attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    Delivered,
    RetryAt(i64),
    GaveUp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_sizes_scale_and_skip_larger_than_the_original() {
        let a = |long_side| Article {
            id: 1,
            kind: "size".into(),
            name: "S".into(),
            description: "S".into(),
            long_side,
            price: 1,
            currency: "credits".into(),
        };
        assert_eq!(a(1000).dimensions(3000, 2000), Some((1000, 667)));
        assert_eq!(a(1000).dimensions(2000, 3000), Some((667, 1000)));
        assert_eq!(a(4000).dimensions(3000, 2000), None);
        assert_eq!(a(0).dimensions(3000, 2000), Some((3000, 2000)));
    }
}
