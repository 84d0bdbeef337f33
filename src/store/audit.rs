//! The audit trail of administrative changes. Rows are written by the
//! caller inside the transaction of the change itself, so a change that
//! rolls back leaves no row and one that commits always has one.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::StoreError;

super::group!(
/// The audit trail as one group of the storage seam.
    Audit,
    audit
);

impl Audit<'_> {
    /// Appends one row; take it from the change's transaction (`tx.audit()`).
    pub fn record(&self, r: &Record<'_>) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let row = super::pg::small::AuditRow {
                at: r.at,
                actor: r.actor.into(),
                action: r.action.into(),
                user_id: r.user_id.into(),
                changes: serde_json::to_string(r.changes)
                    .map_err(|e| StoreError::Failed(e.to_string()))?,
                request_id: r.request_id.into(),
            };
            return pg.run(move |c| super::pg::small::audit_record(c, row));
        }
        self.0.with(|c| record(c, r))
    }

    /// The newest `limit` rows, newest first.
    pub fn list(&self, limit: i64) -> Result<Vec<Entry>, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::small::audit_list(c, limit));
        }
        self.0.with(|c| list(c, limit))
    }
}

/// The actor of changes made with the command line.
pub const CLI_ACTOR: &str = "cli";

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The api key that made the change, or [`CLI_ACTOR`].
    pub actor: String,
    /// What was done, e.g. `create-user`.
    pub action: String,
    pub user_id: String,
    /// Names of the fields that changed; never their values.
    pub changes: Vec<String>,
    /// The `X-Request-Id` of the API call (empty for the CLI).
    pub request_id: String,
}

/// What to record; `changes` are field names only.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub user_id: &'a str,
    pub changes: &'a [&'a str],
    pub request_id: &'a str,
}

/// Appends one row; call it inside the change's transaction.
pub fn record(conn: &Connection, r: &Record<'_>) -> rusqlite::Result<()> {
    let changes = serde_json::to_string(r.changes)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, user_id, changes, request_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        r.at,
        r.actor,
        r.action,
        r.user_id,
        changes,
        r.request_id
    ])?;
    Ok(())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let changes: String = r.get(5)?;
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        user_id: r.get(4)?,
        // Written by `record` only; an unreadable value shows as no fields.
        changes: serde_json::from_str(&changes).unwrap_or_default(),
        request_id: r.get(6)?,
    })
}

/// The newest `limit` rows, newest first.
pub fn list(conn: &Connection, limit: i64) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, user_id, changes, request_id
         FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], from_row)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_lists_newest_first() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                for (i, action) in ["create-user", "update-user"].iter().enumerate() {
                    record(
                        c,
                        &Record {
                            at: 100 + i as i64,
                            actor: CLI_ACTOR,
                            action,
                            user_id: "usr_1",
                            changes: &["email", "status"],
                            request_id: "",
                        },
                    )?;
                }
                let rows = list(c, 10)?;
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[0].action, "update-user");
                assert_eq!(rows[0].changes, vec!["email", "status"]);
                assert_eq!(list(c, 1)?.len(), 1);
                Ok(())
            })
            .unwrap();
    }
}
