//! The media catalogue: authors and items. The FTS5 index follows the items
//! through triggers; every change takes the next `seq`, which `poll` pages on
//! so that a change made while a client pages is never skipped.

use rusqlite::{params, params_from_iter, types::Value, Connection, OptionalExtension, Row};

use crate::store::search::{
    filter_conditions, fts_all, fts_any, rgb, FilterSql, Filters, Query, Sort, Word,
};
use crate::store::users::User;
use crate::store::StoreError;

super::group!(
/// The catalogue's items as one group of the storage seam: callers name an
/// item or hand one over, never a connection.
    MediaItems,
    media_items
);

impl MediaItems<'_> {
    /// Adds `item` (named `item.filename`) as a new item of `user`, in one
    /// transaction; `Ok(Err(id))` when their live item `id` already has that
    /// file name (nothing is added then).
    pub fn add_upload(&self, user: &User, item: &NewMedia) -> Result<Result<i64, i64>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let (user, item) = (user.clone(), item.clone());
            return pg.write(move |c| super::pg::media::add_upload(c, user, item));
        }
        self.0.write(|tx| -> Result<Result<i64, i64>, StoreError> {
            let taken: Option<i64> = tx
                .prepare_cached(
                    "SELECT m.id FROM media m JOIN media_authors a ON a.id = m.author_id
                     WHERE a.user_id = ?1 AND m.filename = ?2 AND m.deleted_at IS NULL LIMIT 1",
                )?
                .query_row(params![user.id, item.filename], |r| r.get(0))
                .optional()?;
            if let Some(id) = taken {
                return Ok(Err(id));
            }
            let author = author_of_user(tx, user)?;
            let seq = next_seq(tx)?;
            Ok(Ok(insert(tx, item, author, seq)?))
        })
    }

    /// Adds catalogue items (import, generator, demo) in one transaction
    /// (the caller's, if any), each under its author and the next `seq`;
    /// `tick` runs after each one (progress bars). How many were added.
    pub fn add_all(
        &self,
        items: impl IntoIterator<Item = NewMedia>,
        mut tick: impl FnMut(),
    ) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            return super::pg::media::add_all(pg, items, tick);
        }
        self.0.write(|tx| {
            let mut authors = std::collections::HashMap::new();
            let mut n = 0;
            for (seq, m) in (next_seq(tx)?..).zip(items) {
                let key = (m.author_username.clone(), m.author_realname.clone());
                let author = match authors.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = author_id(tx, &key.0, &key.1)?;
                        authors.insert(key, id);
                        id
                    }
                };
                insert(tx, &m, author, seq)?;
                n += 1;
                tick();
            }
            Ok(n)
        })
    }

    /// One item, whatever its state.
    pub fn find(&self, id: i64) -> Result<Option<Media>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::media::find(c, id));
        }
        self.0.with(|c| find(c, id))
    }

    /// Public items among `ids`, in the order asked.
    pub fn find_public(&self, ids: &[i64]) -> Result<Vec<Media>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let ids = ids.to_vec();
            return pg.run(move |c| super::pg::media::find_public(c, ids));
        }
        self.0.with(|c| find_public(c, ids))
    }

    /// Which of `ids` are taken (import checks chosen ids).
    pub fn taken(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let ids = ids.to_vec();
            return pg.run(move |c| super::pg::media::taken(c, ids));
        }
        self.0.with(|c| {
            let mut out = Vec::new();
            for id in ids {
                if exists(c, *id)? {
                    out.push(*id);
                }
            }
            Ok(out)
        })
    }

    /// Marks an item deleted (it stays for `poll type=deleted`); false when
    /// unknown or deleted before.
    pub fn delete(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.write(move |c| super::pg::media::delete(c, id, now));
        }
        self.0.with(|c| delete(c, id, now))
    }

    /// Counts one more download of the item.
    pub fn count_download(&self, id: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::media::count_download(c, id));
        }
        self.0.with(|c| count_download(c, id))
    }

    /// Changes an item's metadata (see [`update_metadata`]).
    pub fn update_metadata(&self, id: i64, u: &MetadataUpdate, now: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let u = u.clone();
            return pg.write(move |c| super::pg::media::update_metadata(c, id, u, now));
        }
        self.0.with(|c| update_metadata(c, id, u, now))
    }

    /// One page of a search: (total, items).
    pub fn search(&self, s: &Search<'_>) -> Result<(i64, Vec<Media>), StoreError> {
        if let Some(pg) = self.0.pg() {
            let sql = super::pg::media::search_sql(s);
            return pg.run(move |c| super::pg::media::search(c, sql));
        }
        self.0.with(|c| search(c, s))
    }

    /// Items of the contributor `user_id` (see [`list_owned`]).
    pub fn list_owned(
        &self,
        user_id: &str,
        states: &[&str],
        descending: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Media>), StoreError> {
        if let Some(pg) = self.0.pg() {
            let sql =
                super::pg::media::owned_sql(user_id, states, Some((descending, offset, limit)));
            return pg.run(move |c| super::pg::media::list_owned(c, sql));
        }
        self.0
            .with(|c| list_owned(c, user_id, states, descending, offset, limit))
    }

    /// Counts items of the contributor, optionally only in `states`.
    pub fn count_owned(&self, user_id: &str, states: &[&str]) -> Result<i64, StoreError> {
        if let Some(pg) = self.0.pg() {
            let sql = super::pg::media::owned_sql(user_id, states, None);
            return pg.run(move |c| super::pg::media::count_owned(c, sql));
        }
        self.0.with(|c| count_owned(c, user_id, states))
    }

    /// Items new / changed / deleted after `since` (see [`poll`]).
    pub fn poll(
        &self,
        kind: PollType,
        since: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<(i64, Vec<PollHit>), StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::media::poll(c, kind, since, after_seq, limit));
        }
        self.0.with(|c| poll(c, kind, since, after_seq, limit))
    }

    /// Gives the catalogue author of `username` (an imported one) to the
    /// new account `user_id` (contributor media, methods.md §E).
    pub fn link_author(&self, username: &str, user_id: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let (username, user_id) = (username.to_string(), user_id.to_string());
            return pg.run(move |c| super::pg::media::link_author(c, username, user_id));
        }
        self.0.with(|c| link_author(c, username, user_id))
    }

    /// Deletes item `id` outright (an import taken back before anyone saw it).
    pub fn remove(&self, id: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::media::remove(c, id));
        }
        self.0
            .with(|c| c.execute("DELETE FROM media WHERE id = ?1", [id]))?;
        Ok(())
    }
}

/// The author row of `user`: the one linked to them, else the one of their
/// username (linked now), else a new one.
fn author_of_user(conn: &Connection, user: &User) -> rusqlite::Result<i64> {
    if let Some(id) = conn
        .prepare_cached("SELECT id FROM media_authors WHERE user_id = ?1")?
        .query_row([&user.id], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    let realname = format!("{} {}", user.firstname, user.surname);
    let id = author_id(conn, &user.username, realname.trim())?;
    link_author(conn, &user.username, &user.id)?;
    Ok(id)
}

/// One stored item with its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// Comma-separated, most relevant first (the first ten are the "top 10").
    pub keywords: String,
    pub width: i64,
    pub height: i64,
    pub mime_type: String,
    pub editorial: bool,
    pub model_release: bool,
    pub property_release: bool,
    pub people_number: i64,
    pub color: String,
    pub state: String,
    pub filename: String,
    pub downloads: i64,
    pub created_at: i64,
    pub changed_at: i64,
    pub deleted_at: Option<i64>,
    pub author_username: String,
    pub author_realname: String,
    /// The user who contributed it (§E), if the author is a user.
    pub owner_user_id: Option<String>,
    /// `photo`, `illustration` or `vector`.
    pub media_type: String,
    /// `m`, `f`, `mf` (both) or empty (no people, or not known).
    pub people_gender: String,
    /// Comma list of ethnicity codes (`get-search-filter`), empty = not known.
    pub people_ethnicity: String,
    /// The dominant colour as 0xRRGGBB, `None` when not known.
    pub color_rgb: Option<i64>,
    /// Isolated on a plain background.
    pub isolated: bool,
    pub adult_content: bool,
    /// `standard` or another collection name (e.g. `premium`).
    pub collection: String,
}

impl Media {
    /// `landscape`, `portrait` or `square`, from the dimensions.
    pub fn orientation(&self) -> &'static str {
        orientation(self.width, self.height)
    }

    /// The original service's orientation: `horizontal`, `vertical`,
    /// `square`, or `panorama` (at least twice as wide as high).
    pub fn orientation_canonical(&self) -> &'static str {
        if self.height > 0 && self.width >= 2 * self.height {
            return "panorama";
        }
        match orientation(self.width, self.height) {
            "landscape" => "horizontal",
            "portrait" => "vertical",
            other => other,
        }
    }

    /// Publicly visible: accepted and not deleted.
    pub fn is_public(&self) -> bool {
        self.deleted_at.is_none() && self.state == "green"
    }

    /// The keywords as a list.
    pub fn keyword_list(&self) -> Vec<&str> {
        self.keywords
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect()
    }
}

pub fn orientation(width: i64, height: i64) -> &'static str {
    match width.cmp(&height) {
        std::cmp::Ordering::Greater => "landscape",
        std::cmp::Ordering::Less => "portrait",
        std::cmp::Ordering::Equal => "square",
    }
}

/// An item to be inserted (import, generator, demo).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMedia {
    /// A chosen id (import), or `None` for the next free one.
    pub id: Option<i64>,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub author_username: String,
    pub author_realname: String,
    pub width: i64,
    pub height: i64,
    pub mime_type: String,
    pub editorial: bool,
    pub model_release: bool,
    pub property_release: bool,
    pub people_number: i64,
    pub color: String,
    pub state: String,
    pub filename: String,
    pub created_at: i64,
    /// `photo` (also when empty), `illustration` or `vector`.
    pub media_type: String,
    pub people_gender: String,
    pub people_ethnicity: String,
    /// 0xRRGGBB; `None` takes the RGB of the colour tag.
    pub color_rgb: Option<i64>,
    pub isolated: bool,
    pub adult_content: bool,
    /// Empty = `standard`.
    pub collection: String,
}

const SELECT: &str = "SELECT m.id, m.title, m.description, m.keywords, m.width, m.height,
    m.mime_type, m.editorial, m.model_release, m.property_release, m.people_number, m.color,
    m.state, m.filename, m.downloads, m.created_at, m.changed_at, m.deleted_at,
    a.username, a.realname, a.user_id, m.media_type, m.people_gender, m.people_ethnicity,
    m.color_rgb, m.isolated, m.adult_content, m.collection
    FROM media m JOIN media_authors a ON a.id = m.author_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Media> {
    Ok(Media {
        id: r.get(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        keywords: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        mime_type: r.get(6)?,
        editorial: r.get(7)?,
        model_release: r.get(8)?,
        property_release: r.get(9)?,
        people_number: r.get(10)?,
        color: r.get(11)?,
        state: r.get(12)?,
        filename: r.get(13)?,
        downloads: r.get(14)?,
        created_at: r.get(15)?,
        changed_at: r.get(16)?,
        deleted_at: r.get(17)?,
        author_username: r.get(18)?,
        author_realname: r.get(19)?,
        owner_user_id: r.get(20)?,
        media_type: r.get(21)?,
        people_gender: r.get(22)?,
        people_ethnicity: r.get(23)?,
        color_rgb: r.get(24)?,
        isolated: r.get(25)?,
        adult_content: r.get(26)?,
        collection: r.get(27)?,
    })
}

/// The author's id, created on first use. A user with the same username
/// becomes the author's owner, so their contributions show up under §E.
pub fn author_id(conn: &Connection, username: &str, realname: &str) -> rusqlite::Result<i64> {
    if let Some(id) = conn
        .prepare_cached("SELECT id FROM media_authors WHERE username = ?1")?
        .query_row([username], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO media_authors (username, realname, user_id)
         VALUES (?1, ?2, (SELECT id FROM users WHERE username = ?1
                          AND id NOT IN (SELECT user_id FROM media_authors
                                         WHERE user_id IS NOT NULL)))",
    )?
    .execute(params![username, realname])?;
    Ok(conn.last_insert_rowid())
}

/// Links the author of that username (if any) to `user_id`.
pub fn link_author(conn: &Connection, username: &str, user_id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE media_authors SET user_id = ?2 WHERE username = ?1 AND user_id IS NULL",
        params![username, user_id],
    )?;
    Ok(())
}

/// The next change sequence number.
pub fn next_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM media")?
        .query_row([], |r| r.get(0))
}

/// Inserts an item with change number `seq`; returns its id.
pub fn insert(conn: &Connection, m: &NewMedia, author: i64, seq: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO media (id, author_id, title, description, keywords, width, height, mime_type,
            editorial, model_release, property_release, people_number, color, state, filename,
            created_at, changed_at, seq, media_type, people_gender, people_ethnicity, color_rgb,
            isolated, adult_content, collection)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    )?
    .execute(params![
        m.id,
        author,
        m.title,
        m.description,
        m.keywords.join(", "),
        m.width,
        m.height,
        m.mime_type,
        m.editorial,
        m.model_release,
        m.property_release,
        m.people_number,
        m.color,
        m.state,
        m.filename,
        m.created_at,
        seq,
        if m.media_type.is_empty() {
            "photo"
        } else {
            m.media_type.as_str()
        },
        m.people_gender,
        m.people_ethnicity,
        m.color_rgb.unwrap_or_else(|| color_tag_rgb(&m.color)),
        m.isolated,
        m.adult_content,
        if m.collection.is_empty() {
            "standard"
        } else {
            m.collection.as_str()
        },
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The RGB (0xRRGGBB) of a colour tag, as the previews are drawn.
pub fn color_tag_rgb(color: &str) -> i64 {
    let [r, g, b] = rgb(color);
    (i64::from(r) << 16) | (i64::from(g) << 8) | i64::from(b)
}

/// One item, whatever its state.
pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<Media>> {
    conn.prepare_cached(&format!("{SELECT} WHERE m.id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Whether an item id is taken (import checks chosen ids).
pub fn exists(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM media WHERE id = ?1")?
        .exists([id])
}

/// Marks an item deleted (it stays for `poll type=deleted`).
pub fn delete(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    let seq = next_seq(conn)?;
    let n = conn.execute(
        "UPDATE media SET deleted_at = ?2, changed_at = ?2, seq = ?3
         WHERE id = ?1 AND deleted_at IS NULL",
        params![id, now, seq],
    )?;
    Ok(n == 1)
}

/// The editable metadata of an item (§E); `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub editorial: Option<bool>,
    pub model_release: Option<bool>,
    pub property_release: Option<bool>,
}

/// Applies `u` to item `id`; an item whose metadata becomes complete moves
/// on from "incomplete" (black → yellow, yellow-green → green).
pub fn update_metadata(
    conn: &Connection,
    id: i64,
    u: &MetadataUpdate,
    now: i64,
) -> rusqlite::Result<()> {
    let seq = next_seq(conn)?;
    conn.execute(
        "UPDATE media SET
            title = COALESCE(?2, title),
            description = COALESCE(?3, description),
            keywords = COALESCE(?4, keywords),
            editorial = COALESCE(?5, editorial),
            model_release = COALESCE(?6, model_release),
            property_release = COALESCE(?7, property_release),
            changed_at = ?8, seq = ?9
         WHERE id = ?1",
        params![
            id,
            u.title,
            u.description,
            u.keywords.as_ref().map(|k| k.join(", ")),
            u.editorial,
            u.model_release,
            u.property_release,
            now,
            seq
        ],
    )?;
    conn.execute(
        "UPDATE media SET state = CASE state WHEN 'black' THEN 'yellow'
                                             WHEN 'yellow-green' THEN 'green' END
         WHERE id = ?1 AND state IN ('black', 'yellow-green')
           AND title <> '' AND keywords <> '' AND description <> ''",
        [id],
    )?;
    Ok(())
}

/// Counts one more download of an item (the `popular` sort).
pub fn count_download(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE media SET downloads = downloads + 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Public items among `ids`, in the order asked.
pub fn find_public(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<Media>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = find(conn, *id)?.filter(Media::is_public) {
            out.push(m);
        }
    }
    Ok(out)
}

/// A search: the parsed query and filters, a page window.
pub struct Search<'a> {
    pub query: &'a Query,
    pub filters: &'a Filters,
    pub offset: i64,
    pub limit: i64,
    /// An item never to return (search-similar's own item).
    pub exclude_id: Option<i64>,
    /// Match any word instead of all (search-similar).
    pub any_word: bool,
}

/// Runs a search: (total hits, the page). The FTS index holds only public
/// items, so a plain word search (the common case) never touches `media`
/// until the page is loaded; filters, ids and other sorts join it.
pub fn search(conn: &Connection, s: &Search<'_>) -> rusqlite::Result<(i64, Vec<Media>)> {
    let q = s.query;
    let mut args: Vec<Value> = Vec::new();
    let mut fts = if s.any_word {
        fts_any(&q.words)
    } else {
        fts_all(&q.words)
    };
    if !q.words.is_empty() && !q.excluded.is_empty() {
        fts = format!("({fts}) NOT ({})", fts_any(&q.excluded));
    }
    let mut conds = Vec::new();
    if q.words.is_empty() && !q.excluded.is_empty() {
        conds.push("m.id NOT IN (SELECT rowid FROM media_fts WHERE media_fts MATCH ?)".to_string());
    }
    if !q.excluded_ids.is_empty() {
        conds.push(format!(
            "m.id NOT IN (SELECT value FROM json_each('{}'))",
            ids_json(&q.excluded_ids)
        ));
    }
    if let Some(id) = s.exclude_id {
        conds.push(format!("m.id <> {id}"));
    }
    let mut filter_args = Vec::new();
    filter_conditions(
        s.filters,
        &mut conds,
        &mut SqliteFilterSql(&mut filter_args),
    );
    let ranked = !q.is_empty();
    let relevance = ranked && s.filters.sort == Sort::Relevance;
    if relevance && q.ids.is_empty() && conds.is_empty() {
        // the fast path: the full-text index alone counts and ranks
        let total: i64 = conn
            .prepare_cached("SELECT count(*) FROM media_fts WHERE media_fts MATCH ?1")?
            .query_row([&fts], |r| r.get(0))?;
        let page = conn
            .prepare_cached(
                "SELECT rowid FROM media_fts WHERE media_fts MATCH ?1 ORDER BY rank LIMIT ?2 OFFSET ?3",
            )?
            .query_map(params![fts, s.limit, s.offset], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        return Ok((total, load(conn, page)?));
    }
    // Words only: join the index directly, so `rank` is computed just for
    // the rows that pass the filters (and not at all when counting).
    let direct = ranked && q.ids.is_empty();
    let mut hits = String::new();
    if !q.words.is_empty() {
        args.push(Value::Text(fts));
        if direct {
            conds.insert(0, "media_fts MATCH ?".into());
        } else {
            hits.push_str("SELECT rowid AS id, rank FROM media_fts WHERE media_fts MATCH ?");
        }
    }
    if !q.ids.is_empty() {
        if !hits.is_empty() {
            hits.push_str(" UNION ALL ");
        }
        // an id named in q ranks before every text match
        hits.push_str(&format!(
            "SELECT value AS id, -1e9 AS rank FROM json_each('{}')",
            ids_json(&q.ids)
        ));
    }
    if q.words.is_empty() && !q.excluded.is_empty() {
        args.push(Value::Text(fts_any(&q.excluded)));
    }
    // the filters' conditions come after every other `?` of FROM and WHERE
    args.extend(filter_args);
    conds.push("m.state = 'green' AND m.deleted_at IS NULL".into());
    let wheres = conds.join(" AND ");
    let from = if !ranked {
        "media m".to_string()
    } else if direct {
        "media_fts JOIN media m ON m.id = media_fts.rowid".to_string()
    } else {
        format!(
            "(SELECT id, MIN(rank) AS rank FROM ({hits}) GROUP BY id) h JOIN media m ON m.id = h.id"
        )
    };
    let order = match (s.filters.sort, ranked) {
        (Sort::Relevance, true) if direct => "media_fts.rank, m.id",
        (Sort::Relevance, true) => "h.rank, m.id",
        (Sort::Relevance, false) | (Sort::Newest, _) => "m.created_at DESC, m.id DESC",
        (Sort::Oldest, _) => "m.created_at, m.id",
        (Sort::Popular, _) => "m.downloads DESC, m.id",
    };
    let count_from = &from;
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM {count_from} WHERE {wheres}"))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    args.push(Value::Integer(s.limit));
    args.push(Value::Integer(s.offset));
    let page = conn
        .prepare_cached(&format!(
            "SELECT m.id FROM {from} WHERE {wheres} ORDER BY {order} LIMIT ? OFFSET ?"
        ))?
        .query_map(params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((total, load(conn, page)?))
}

/// The items of `ids`, in that order.
fn load(conn: &Connection, ids: Vec<i64>) -> rusqlite::Result<Vec<Media>> {
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = find(conn, id)? {
            items.push(m);
        }
    }
    Ok(items)
}

fn ids_json(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// SQLite's way of writing the filters (see `search::filter_conditions`):
/// `?` placeholders in order, `instr`, integer booleans.
struct SqliteFilterSql<'a>(&'a mut Vec<Value>);

impl FilterSql for SqliteFilterSql<'_> {
    fn bind(&mut self, text: String) -> String {
        self.0.push(Value::Text(text));
        "?".into()
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("instr({haystack}, {needle}) > 0")
    }

    fn flag(&self, column: &str, value: bool) -> String {
        format!("{column} = {}", i64::from(value))
    }
}

/// The words to find items similar to `m`: its top keywords.
pub fn similar_words(m: &Media) -> Vec<Word> {
    m.keyword_list()
        .into_iter()
        .take(10)
        .map(|k| Word {
            text: k.to_lowercase(),
            prefix: false,
        })
        .collect()
}

/// Items of the contributor `user_id`, optionally only in `states`.
pub fn list_owned(
    conn: &Connection,
    user_id: &str,
    states: &[&str],
    descending: bool,
    offset: i64,
    limit: i64,
) -> rusqlite::Result<(i64, Vec<Media>)> {
    let (cond, args) = owned_condition(user_id, states);
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM media m JOIN media_authors a ON a.id = m.author_id WHERE {cond}"
        ))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let mut page_args = args;
    page_args.push(Value::Integer(limit));
    page_args.push(Value::Integer(offset));
    let dir = if descending { "DESC" } else { "ASC" };
    let items = conn
        .prepare_cached(&format!(
            "{SELECT} WHERE {cond} ORDER BY m.id {dir} LIMIT ? OFFSET ?"
        ))?
        .query_map(params_from_iter(page_args.iter()), from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((total, items))
}

fn owned_condition(user_id: &str, states: &[&str]) -> (String, Vec<Value>) {
    let mut args = vec![Value::Text(user_id.to_string())];
    let mut cond = "a.user_id = ? AND m.deleted_at IS NULL".to_string();
    if !states.is_empty() {
        cond.push_str(&format!(
            " AND m.state IN ({})",
            vec!["?"; states.len()].join(",")
        ));
        args.extend(states.iter().map(|s| Value::Text((*s).to_string())));
    }
    (cond, args)
}

/// What `poll` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollType {
    New,
    Changed,
    Deleted,
}

impl PollType {
    pub fn as_str(self) -> &'static str {
        match self {
            PollType::New => "new",
            PollType::Changed => "changed",
            PollType::Deleted => "deleted",
        }
    }
}

/// One poll result: the item, the time it counts from, its `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollHit {
    pub id: i64,
    pub date: i64,
    pub seq: i64,
}

/// Items that became new / changed / deleted after `since` (Unix seconds),
/// in `seq` order after `after_seq`: (total since `since`, the page).
pub fn poll(
    conn: &Connection,
    kind: PollType,
    since: i64,
    after_seq: i64,
    limit: i64,
) -> rusqlite::Result<(i64, Vec<PollHit>)> {
    let (cond, date) = match kind {
        PollType::New => (
            "created_at > ?1 AND deleted_at IS NULL AND state = 'green'",
            "created_at",
        ),
        PollType::Changed => (
            "changed_at > ?1 AND created_at <= ?1 AND deleted_at IS NULL AND state = 'green'",
            "changed_at",
        ),
        PollType::Deleted => ("deleted_at > ?1", "deleted_at"),
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM media WHERE {cond}"))?
        .query_row([since], |r| r.get(0))?;
    let hits = conn
        .prepare_cached(&format!(
            "SELECT id, {date}, seq FROM media WHERE {cond} AND seq > ?2 ORDER BY seq LIMIT ?3"
        ))?
        .query_map(params![since, after_seq, limit], |r| {
            Ok(PollHit {
                id: r.get(0)?,
                date: r.get(1)?,
                seq: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((total, hits))
}

/// Counts items of the contributor, optionally only in `states`.
pub fn count_owned(conn: &Connection, user_id: &str, states: &[&str]) -> rusqlite::Result<i64> {
    let (cond, args) = owned_condition(user_id, states);
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM media m JOIN media_authors a ON a.id = m.author_id WHERE {cond}"
    ))?
    .query_row(params_from_iter(args.iter()), |r| r.get(0))
}
