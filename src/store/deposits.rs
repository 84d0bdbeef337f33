//! Prepaid deposits of an account (`get-user-deposit`). Amounts are kept in
//! hundredths so that sums stay exact.

use rusqlite::{params, Connection};

/// One deposit of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    pub id: i64,
    pub user_id: String,
    /// `credits` or `subscription`.
    pub kind: String,
    pub name: String,
    pub remaining_cents: i64,
    pub total_cents: i64,
    pub currency: String,
    pub valid_until: Option<i64>,
}

/// Adds a deposit.
pub fn create(conn: &Connection, d: &Deposit) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO deposits (user_id, type, name, remaining_cents, total_cents, currency, valid_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.user_id,
            d.kind,
            d.name,
            d.remaining_cents,
            d.total_cents,
            d.currency,
            d.valid_until
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A user's deposits, oldest first.
pub fn for_user(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<Deposit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, user_id, type, name, remaining_cents, total_cents, currency, valid_until
         FROM deposits WHERE user_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(Deposit {
            id: r.get(0)?,
            user_id: r.get(1)?,
            kind: r.get(2)?,
            name: r.get(3)?,
            remaining_cents: r.get(4)?,
            total_cents: r.get(5)?,
            currency: r.get(6)?,
            valid_until: r.get(7)?,
        })
    })?;
    rows.collect()
}

/// `12345` → `"123.45"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_formatted_exactly() {
        assert_eq!(format_cents(10000), "100.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-150), "-1.50");
    }
}
