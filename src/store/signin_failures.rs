//! Counts of failed sign-ins per subject (`user:<name>`, `addr:<ip>`), for
//! the throttling of the authorization and account pages.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

super::group!(
/// The failure counts as one group of the storage seam: callers name a
/// subject, never a connection.
    SignInFailures,
    signin_failures
);

impl SignInFailures<'_> {
    /// Failures so far and when the last one happened.
    pub fn get(&self, subject: &str) -> Result<Option<(u32, i64)>, StoreError> {
        if let Some(pg) = self.0.pg() {
            let subject = subject.to_string();
            return pg.run(move |c| super::pg::small::failures_get(c, subject));
        }
        self.0.with(|c| get(c, subject))
    }

    /// Counts one more failure at `now`.
    pub fn record(&self, subject: &str, now: i64) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let subject = subject.to_string();
            return pg.run(move |c| super::pg::small::failures_record(c, subject, now));
        }
        self.0.with(|c| record(c, subject, now))
    }

    /// Forgets the failures of a subject.
    pub fn clear(&self, subject: &str) -> Result<(), StoreError> {
        if let Some(pg) = self.0.pg() {
            let subject = subject.to_string();
            return pg.run(move |c| super::pg::small::failures_clear(c, subject));
        }
        self.0.with(|c| clear(c, subject))
    }
}

/// Failures so far and when the last one happened.
pub fn get(conn: &Connection, subject: &str) -> rusqlite::Result<Option<(u32, i64)>> {
    conn.query_row(
        "SELECT failures, last_failure FROM signin_failures WHERE subject = ?1",
        [subject],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Counts one more failure at `now`.
pub fn record(conn: &Connection, subject: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO signin_failures (subject, failures, last_failure) VALUES (?1, 1, ?2)
         ON CONFLICT(subject) DO UPDATE SET failures = failures + 1, last_failure = ?2",
        params![subject, now],
    )?;
    Ok(())
}

/// Forgets the failures of a subject (after a successful sign-in).
pub fn clear(conn: &Connection, subject: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM signin_failures WHERE subject = ?1", [subject])?;
    Ok(())
}
