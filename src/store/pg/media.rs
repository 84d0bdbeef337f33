//! The media catalogue on PostgreSQL (store/media.rs).
//!
//! Every change takes the next `seq` (which `poll` pages on) while holding
//! the catalogue's transaction-scoped advisory lock, so the numbers are
//! handed out in commit order across instances and a change made while a
//! client pages is never skipped.
//!
//! Search: a weighted `tsvector` column (title A, keywords B, description C)
//! with a GIN index over public items; `word:*` for prefixes, `!` for
//! excluded words. Relevance is `ts_rank`, so the order of equally good hits
//! may differ from SQLite's bm25 (the contract tests compare sets).

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{pg_err, Conn, PgOn};
use crate::store::media::{
    color_tag_rgb, Media, MetadataUpdate, NewMedia, PollHit, PollType, Search,
};
use crate::store::search::{filter_conditions, FilterSql, Sort, Word};
use crate::store::users::User;
use crate::store::StoreError;

const SELECT: &str = "SELECT m.id, m.title, m.description, m.keywords, m.width, m.height,
    m.mime_type, m.editorial, m.model_release, m.property_release, m.people_number, m.color,
    m.state, m.filename, m.downloads, m.created_at, m.changed_at, m.deleted_at,
    a.username, a.realname, a.user_id, m.media_type, m.people_gender, m.people_ethnicity,
    m.color_rgb, m.isolated, m.adult_content, m.collection
    FROM media m JOIN media_authors a ON a.id = m.author_id";

fn from_row(r: &Row) -> Media {
    Media {
        id: r.get(0),
        title: r.get(1),
        description: r.get(2),
        keywords: r.get(3),
        width: r.get(4),
        height: r.get(5),
        mime_type: r.get(6),
        editorial: r.get(7),
        model_release: r.get(8),
        property_release: r.get(9),
        people_number: r.get(10),
        color: r.get(11),
        state: r.get(12),
        filename: r.get(13),
        downloads: r.get(14),
        created_at: r.get(15),
        changed_at: r.get(16),
        deleted_at: r.get(17),
        author_username: r.get(18),
        author_realname: r.get(19),
        owner_user_id: r.get(20),
        media_type: r.get(21),
        people_gender: r.get(22),
        people_ethnicity: r.get(23),
        color_rgb: r.get(24),
        isolated: r.get(25),
        adult_content: r.get(26),
        collection: r.get(27),
    }
}

/// Takes the catalogue lock (one per schema) until the transaction ends;
/// call it first in the transaction. Waiting for it (another instance's
/// import may hold it a while) is no slow statement: the statement timeout
/// is lifted for the wait only.
async fn lock(c: &Conn) -> Result<(), StoreError> {
    c.batch_execute(
        "SET LOCAL statement_timeout = 0;
         SELECT pg_advisory_xact_lock(hashtext('panthera.media.' || current_schema()));
         SET LOCAL statement_timeout TO DEFAULT;",
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

/// The next change number (under the lock).
async fn next_seq(c: &Conn) -> Result<i64, StoreError> {
    Ok(
        c.query_one("SELECT COALESCE(MAX(seq), 0) + 1 FROM media", &[])
            .await
            .map_err(pg_err)?
            .get(0),
    )
}

async fn author_id(c: &Conn, username: &str, realname: &str) -> Result<i64, StoreError> {
    if let Some(r) = c
        .query_opt(
            "SELECT id FROM media_authors WHERE username = $1",
            &[&username],
        )
        .await
        .map_err(pg_err)?
    {
        return Ok(r.get(0));
    }
    let row = c
        .query_one(
            "INSERT INTO media_authors (username, realname, user_id)
             VALUES ($1, $2, (SELECT id FROM users WHERE username = $1
                              AND id NOT IN (SELECT user_id FROM media_authors
                                             WHERE user_id IS NOT NULL)))
             RETURNING id",
            &[&username, &realname],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}

pub(crate) async fn link_author(
    c: Conn,
    username: String,
    user_id: String,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE media_authors SET user_id = $2 WHERE username = $1 AND user_id IS NULL",
        &[&username, &user_id],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

async fn insert(c: &Conn, m: &NewMedia, author: i64, seq: i64) -> Result<i64, StoreError> {
    let keywords = m.keywords.join(", ");
    let media_type = if m.media_type.is_empty() {
        "photo"
    } else {
        m.media_type.as_str()
    };
    let collection = if m.collection.is_empty() {
        "standard"
    } else {
        m.collection.as_str()
    };
    let rgb = m.color_rgb.unwrap_or_else(|| color_tag_rgb(&m.color));
    let row = c
        .query_one(
            "INSERT INTO media (id, author_id, title, description, keywords, width, height,
                mime_type, editorial, model_release, property_release, people_number, color,
                state, filename, created_at, changed_at, seq, media_type, people_gender,
                people_ethnicity, color_rgb, isolated, adult_content, collection)
             VALUES (COALESCE($1, (SELECT COALESCE(MAX(id), 0) + 1 FROM media)), $2, $3, $4,
                $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19,
                $20, $21, $22, $23, $24)
             RETURNING id",
            &[
                &m.id,
                &author,
                &m.title,
                &m.description,
                &keywords,
                &m.width,
                &m.height,
                &m.mime_type,
                &m.editorial,
                &m.model_release,
                &m.property_release,
                &m.people_number,
                &m.color,
                &m.state,
                &m.filename,
                &m.created_at,
                &seq,
                &media_type,
                &m.people_gender,
                &m.people_ethnicity,
                &rgb,
                &m.isolated,
                &m.adult_content,
                &collection,
            ],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}

/// See `MediaItems::add_upload` (run it atomically).
pub(crate) async fn add_upload(
    c: Conn,
    user: User,
    item: NewMedia,
) -> Result<Result<i64, i64>, StoreError> {
    lock(&c).await?;
    let taken = c
        .query_opt(
            "SELECT m.id FROM media m JOIN media_authors a ON a.id = m.author_id
             WHERE a.user_id = $1 AND m.filename = $2 AND m.deleted_at IS NULL LIMIT 1",
            &[&user.id, &item.filename],
        )
        .await
        .map_err(pg_err)?;
    if let Some(r) = taken {
        return Ok(Err(r.get(0)));
    }
    let linked = c
        .query_opt(
            "SELECT id FROM media_authors WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .map_err(pg_err)?;
    let author = match linked {
        Some(r) => r.get(0),
        None => {
            let realname = format!("{} {}", user.firstname, user.surname);
            let id = author_id(&c, &user.username, realname.trim()).await?;
            link_author(c.clone(), user.username.clone(), user.id.clone()).await?;
            id
        }
    };
    let seq = next_seq(&c).await?;
    Ok(Ok(insert(&c, &item, author, seq).await?))
}

/// Adds `items` in the caller's transaction (the lock is taken by the first
/// chunk and held to its end).
async fn add_chunk(c: Conn, items: Vec<NewMedia>) -> Result<usize, StoreError> {
    lock(&c).await?;
    let mut authors = std::collections::HashMap::new();
    let first = next_seq(&c).await?;
    for (seq, m) in (first..).zip(&items) {
        let key = (m.author_username.clone(), m.author_realname.clone());
        let author = match authors.get(&key) {
            Some(id) => *id,
            None => {
                let id = author_id(&c, &key.0, &key.1).await?;
                authors.insert(key, id);
                id
            }
        };
        insert(&c, m, author, seq).await?;
    }
    Ok(items.len())
}

/// See `MediaItems::add_all`: in one transaction, in chunks (so `tick`
/// runs on the caller's thread as they land).
pub(crate) fn add_all(
    on: PgOn<'_>,
    items: impl IntoIterator<Item = NewMedia>,
    mut tick: impl FnMut(),
) -> Result<usize, StoreError> {
    const CHUNK: usize = 200;
    on.atomic(|on| {
        let mut items = items.into_iter();
        let mut n = 0;
        loop {
            let chunk: Vec<NewMedia> = items.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                return Ok(n);
            }
            let added = on.run(move |c| add_chunk(c, chunk))?;
            for _ in 0..added {
                tick();
            }
            n += added;
        }
    })
}

pub(crate) async fn find(c: Conn, id: i64) -> Result<Option<Media>, StoreError> {
    let row = c
        .query_opt(&format!("{SELECT} WHERE m.id = $1"), &[&id])
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(from_row))
}

/// The items of `ids`, in that order (missing ones left out).
async fn load(c: &Conn, ids: &[i64]) -> Result<Vec<Media>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = c
        .query(&format!("{SELECT} WHERE m.id = ANY($1)"), &[&ids])
        .await
        .map_err(pg_err)?;
    let mut found: std::collections::HashMap<i64, Media> = rows
        .iter()
        .map(|r| (r.get::<_, i64>(0), from_row(r)))
        .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

pub(crate) async fn find_public(c: Conn, ids: Vec<i64>) -> Result<Vec<Media>, StoreError> {
    // the same id asked twice shows twice, as on SQLite
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    let found = load(&c, &unique).await?;
    let by_id: std::collections::HashMap<i64, &Media> = found.iter().map(|m| (m.id, m)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            by_id
                .get(id)
                .filter(|m| m.is_public())
                .map(|m| (*m).clone())
        })
        .collect())
}

pub(crate) async fn taken(c: Conn, ids: Vec<i64>) -> Result<Vec<i64>, StoreError> {
    let rows = c
        .query("SELECT id FROM media WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(pg_err)?;
    let have: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
    Ok(ids.into_iter().filter(|id| have.contains(id)).collect())
}

/// Run atomically.
pub(crate) async fn delete(c: Conn, id: i64, now: i64) -> Result<bool, StoreError> {
    lock(&c).await?;
    let seq = next_seq(&c).await?;
    let n = c
        .execute(
            "UPDATE media SET deleted_at = $2, changed_at = $2, seq = $3
             WHERE id = $1 AND deleted_at IS NULL",
            &[&id, &now, &seq],
        )
        .await
        .map_err(pg_err)?;
    Ok(n == 1)
}

pub(crate) async fn count_download(c: Conn, id: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE media SET downloads = downloads + 1 WHERE id = $1",
        &[&id],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

/// Run atomically.
pub(crate) async fn update_metadata(
    c: Conn,
    id: i64,
    u: MetadataUpdate,
    now: i64,
) -> Result<(), StoreError> {
    lock(&c).await?;
    let seq = next_seq(&c).await?;
    let keywords = u.keywords.as_ref().map(|k| k.join(", "));
    c.execute(
        "UPDATE media SET
            title = COALESCE($2, title),
            description = COALESCE($3, description),
            keywords = COALESCE($4, keywords),
            editorial = COALESCE($5, editorial),
            model_release = COALESCE($6, model_release),
            property_release = COALESCE($7, property_release),
            changed_at = $8, seq = $9
         WHERE id = $1",
        &[
            &id,
            &u.title,
            &u.description,
            &keywords,
            &u.editorial,
            &u.model_release,
            &u.property_release,
            &now,
            &seq,
        ],
    )
    .await
    .map_err(pg_err)?;
    c.execute(
        "UPDATE media SET state = CASE state WHEN 'black' THEN 'yellow'
                                             WHEN 'yellow-green' THEN 'green' END
         WHERE id = $1 AND state IN ('black', 'yellow-green')
           AND title <> '' AND keywords <> '' AND description <> ''",
        &[&id],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

pub(crate) async fn remove(c: Conn, id: i64) -> Result<(), StoreError> {
    c.execute("DELETE FROM media WHERE id = $1", &[&id])
        .await
        .map_err(pg_err)?;
    Ok(())
}

/// Values bound to `$1`, `$2`… in the order the SQL names them.
#[derive(Default)]
pub(crate) struct Args(Vec<Box<dyn ToSql + Sync + Send>>);

impl Args {
    /// Binds `v`; answers its placeholder.
    fn bind(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(v));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A tsquery text: each word a quoted lexeme (`word:*` for a prefix), joined
/// with `op`; `to_tsquery` then folds it as the index was.
fn tsquery(words: &[Word], op: &str) -> String {
    words
        .iter()
        .map(|w| {
            let quoted = format!("'{}'", w.text.replace('\\', "\\\\").replace('\'', "''"));
            if w.prefix {
                quoted + ":*"
            } else {
                quoted
            }
        })
        .collect::<Vec<_>>()
        .join(op)
}

/// The two statements of a search (count, page of ids) and their values.
pub(crate) struct SearchSql {
    count: String,
    page: String,
    args: Args,
}

/// Builds the search: the same hits as SQLite's (see `media::search`).
pub(crate) fn search_sql(s: &Search<'_>) -> SearchSql {
    let q = s.query;
    let mut args = Args::default();
    let mut conds = Vec::new();
    let mut text = None;
    if !q.words.is_empty() {
        let mut query = tsquery(&q.words, if s.any_word { " | " } else { " & " });
        if !q.excluded.is_empty() {
            query = format!("({query}) & !({})", tsquery(&q.excluded, " | "));
        }
        text = Some(format!(
            "to_tsquery('panthera_search', {})",
            args.bind(query)
        ));
    }
    let ids = (!q.ids.is_empty()).then(|| args.bind(q.ids.clone()));
    match (&text, &ids) {
        (Some(t), Some(i)) => conds.push(format!("(m.search @@ {t} OR m.id = ANY({i}))")),
        (Some(t), None) => conds.push(format!("m.search @@ {t}")),
        (None, Some(i)) => conds.push(format!("m.id = ANY({i})")),
        (None, None) => {}
    }
    if q.words.is_empty() && !q.excluded.is_empty() {
        let p = args.bind(tsquery(&q.excluded, " | "));
        conds.push(format!(
            "NOT (m.search @@ to_tsquery('panthera_search', {p}))"
        ));
    }
    if !q.excluded_ids.is_empty() {
        let p = args.bind(q.excluded_ids.clone());
        conds.push(format!("NOT (m.id = ANY({p}))"));
    }
    if let Some(id) = s.exclude_id {
        let p = args.bind(id);
        conds.push(format!("m.id <> {p}"));
    }
    filter_conditions(s.filters, &mut conds, &mut args);
    conds.push("m.state = 'green' AND m.deleted_at IS NULL".into());
    let wheres = conds.join(" AND ");
    let ranked = !q.is_empty();
    let relevance = match (&text, &ids) {
        (Some(t), Some(i)) => {
            format!("CASE WHEN m.id = ANY({i}) THEN 2 ELSE 1 END DESC, ts_rank(m.search, {t}) DESC, m.id")
        }
        (Some(t), None) => format!("ts_rank(m.search, {t}) DESC, m.id"),
        _ => "m.id".to_string(),
    };
    let order = match (s.filters.sort, ranked && (text.is_some() || ids.is_some())) {
        (Sort::Relevance, true) => relevance,
        (Sort::Relevance, false) | (Sort::Newest, _) => "m.created_at DESC, m.id DESC".into(),
        (Sort::Oldest, _) => "m.created_at, m.id".into(),
        (Sort::Popular, _) => "m.downloads DESC, m.id".into(),
    };
    let count = format!("SELECT count(*) FROM media m WHERE {wheres}");
    let limit = args.bind(if s.limit < 0 { i64::MAX } else { s.limit });
    let offset = args.bind(s.offset.max(0));
    let page = format!(
        "SELECT m.id FROM media m WHERE {wheres} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    SearchSql { count, page, args }
}

/// PostgreSQL's way of writing the filters (see `search::filter_conditions`):
/// numbered placeholders, `strpos`, real booleans.
impl FilterSql for Args {
    fn bind(&mut self, text: String) -> String {
        Args::bind(self, text)
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("strpos({haystack}, {needle}) > 0")
    }

    fn flag(&self, column: &str, value: bool) -> String {
        if value {
            column.to_string()
        } else {
            format!("NOT {column}")
        }
    }
}

pub(crate) async fn search(c: Conn, s: SearchSql) -> Result<(i64, Vec<Media>), StoreError> {
    let refs = s.args.refs();
    // the count binds every value but the page window (the last two)
    let n = refs.len().saturating_sub(2);
    let total: i64 = c
        .query_one(&s.count, &refs[..n])
        .await
        .map_err(pg_err)?
        .get(0);
    let ids: Vec<i64> = c
        .query(&s.page, &refs)
        .await
        .map_err(pg_err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok((total, load(&c, &ids).await?))
}

/// The owner condition of the contributor lists and its values.
fn owned_condition(user_id: String, states: &[&str], args: &mut Args) -> String {
    let mut cond = format!(
        "a.user_id = {} AND m.deleted_at IS NULL",
        args.bind(user_id)
    );
    if !states.is_empty() {
        let list: Vec<String> = states.iter().map(|s| (*s).to_string()).collect();
        cond.push_str(&format!(" AND m.state = ANY({})", args.bind(list)));
    }
    cond
}

/// The statements of `list_owned` / `count_owned`.
pub(crate) fn owned_sql(
    user_id: &str,
    states: &[&str],
    page: Option<(bool, i64, i64)>,
) -> SearchSql {
    let mut args = Args::default();
    let cond = owned_condition(user_id.to_string(), states, &mut args);
    let count = format!(
        "SELECT count(*) FROM media m JOIN media_authors a ON a.id = m.author_id WHERE {cond}"
    );
    let page = match page {
        Some((descending, offset, limit)) => {
            let dir = if descending { "DESC" } else { "ASC" };
            let limit = args.bind(if limit < 0 { i64::MAX } else { limit });
            let offset = args.bind(offset.max(0));
            format!("{SELECT} WHERE {cond} ORDER BY m.id {dir} LIMIT {limit} OFFSET {offset}")
        }
        None => String::new(),
    };
    SearchSql { count, page, args }
}

pub(crate) async fn count_owned(c: Conn, s: SearchSql) -> Result<i64, StoreError> {
    let refs = s.args.refs();
    Ok(c.query_one(&s.count, &refs).await.map_err(pg_err)?.get(0))
}

pub(crate) async fn list_owned(c: Conn, s: SearchSql) -> Result<(i64, Vec<Media>), StoreError> {
    let refs = s.args.refs();
    let n = refs.len().saturating_sub(2);
    let total: i64 = c
        .query_one(&s.count, &refs[..n])
        .await
        .map_err(pg_err)?
        .get(0);
    let rows = c.query(&s.page, &refs).await.map_err(pg_err)?;
    Ok((total, rows.iter().map(from_row).collect()))
}

pub(crate) async fn poll(
    c: Conn,
    kind: PollType,
    since: i64,
    after_seq: i64,
    limit: i64,
) -> Result<(i64, Vec<PollHit>), StoreError> {
    let (cond, date) = match kind {
        PollType::New => (
            "created_at > $1 AND deleted_at IS NULL AND state = 'green'",
            "created_at",
        ),
        PollType::Changed => (
            "changed_at > $1 AND created_at <= $1 AND deleted_at IS NULL AND state = 'green'",
            "changed_at",
        ),
        PollType::Deleted => ("deleted_at > $1", "deleted_at"),
    };
    let total: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM media WHERE {cond}"),
            &[&since],
        )
        .await
        .map_err(pg_err)?
        .get(0);
    let limit = if limit < 0 { i64::MAX } else { limit };
    let rows = c
        .query(
            &format!(
                "SELECT id, {date}, seq FROM media WHERE {cond} AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            &[&since, &after_seq, &limit],
        )
        .await
        .map_err(pg_err)?;
    Ok((
        total,
        rows.iter()
            .map(|r| PollHit {
                id: r.get(0),
                date: r.get(1),
                seq: r.get(2),
            })
            .collect(),
    ))
}
