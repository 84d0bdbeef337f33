//! Deposits: the credits each user can spend on downloads (`media_deposits`).
//! Charging is a conditional update, so a balance can never go below zero,
//! whatever runs concurrently.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

super::group!(
/// The deposits as one group of the storage seam.
    Balances,
    balances
);

impl Balances<'_> {
    /// The deposit of `user_id` (an empty one when none was ever added).
    pub fn get(&self, user_id: &str) -> Result<Deposit, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::orders::balance(c, user_id));
        }
        self.0.with(|c| get(c, user_id))
    }

    /// Adds `credits` to the user's deposit.
    pub fn credit(&self, user_id: &str, credits: i64, now: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::orders::credit(c, user_id, credits, now));
        }
        self.0.with(|c| credit(c, user_id, credits, now))
    }

    /// Takes `price` credits; false (and nothing changed) when they are not
    /// there.
    pub fn charge(&self, user_id: &str, price: i64, now: i64) -> Result<bool, StoreError> {
        if let Some(pg) = self.0.pg() {
            let user_id = user_id.to_string();
            return pg.run(move |c| super::pg::orders::charge(c, user_id, price, now));
        }
        self.0.with(|c| charge(c, user_id, price, now))
    }
}

/// A user's deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    pub credits: i64,
    /// Credits ever added.
    pub total: i64,
    pub currency: String,
}

impl Deposit {
    fn empty() -> Deposit {
        Deposit {
            credits: 0,
            total: 0,
            currency: "credits".into(),
        }
    }
}

/// The deposit of `user_id` (an empty one when none was ever added).
pub fn get(conn: &Connection, user_id: &str) -> rusqlite::Result<Deposit> {
    Ok(conn
        .prepare_cached("SELECT credits, total, currency FROM media_deposits WHERE user_id = ?1")?
        .query_row([user_id], |r| {
            Ok(Deposit {
                credits: r.get(0)?,
                total: r.get(1)?,
                currency: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_else(Deposit::empty))
}

/// Adds `credits` to the user's deposit.
pub fn credit(conn: &Connection, user_id: &str, credits: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO media_deposits (user_id, credits, total, updated_at) VALUES (?1, ?2, ?2, ?3)
         ON CONFLICT(user_id) DO UPDATE SET credits = credits + ?2, total = total + ?2,
                                            updated_at = ?3",
        params![user_id, credits, now],
    )?;
    Ok(())
}

/// Takes `price` credits; false (and nothing changed) when they are not there.
pub fn charge(conn: &Connection, user_id: &str, price: i64, now: i64) -> rusqlite::Result<bool> {
    if price == 0 {
        return Ok(true);
    }
    let n = conn.execute(
        "UPDATE media_deposits SET credits = credits - ?2, updated_at = ?3
         WHERE user_id = ?1 AND credits >= ?2",
        params![user_id, price, now],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charging_never_goes_below_zero() {
        let (_d, store) = crate::store::test_store();
        store
            .with(|c| {
                let u = crate::store::users::create(
                    c,
                    &crate::store::users::NewUser {
                        username: "payer",
                        email: "payer@example.com",
                        password: "pw",
                        ..Default::default()
                    },
                )?;
                assert_eq!(get(c, &u.id)?.credits, 0);
                assert!(!charge(c, &u.id, 1, 0)?);
                credit(c, &u.id, 10, 0)?;
                assert!(!charge(c, &u.id, 11, 0)?);
                assert!(charge(c, &u.id, 10, 0)?);
                let d = get(c, &u.id)?;
                assert_eq!((d.credits, d.total), (0, 10));
                Ok(())
            })
            .unwrap();
    }
}
