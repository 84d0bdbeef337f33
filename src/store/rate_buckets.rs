//! Rate-limit buckets shared by the instances of one store. Each instance
//! decides every request from its own copy of a bucket (no store call on the
//! request path) and, every few hundred milliseconds, exchanges with the store:
//! it hands over how many tokens it took from each bucket since the last
//! exchange, and reads back every bucket any instance changed since its last
//! look (ops/ratelimit.rs). The store merges the takes into one token bucket
//! per id: refilled to the time of the exchange, then charged.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

const DAY_MS: i64 = 86_400_000;

super::group!(
/// The shared buckets as one group of the storage seam.
    RateBuckets,
    rate_buckets
);

/// Tokens one instance took from one bucket since its last exchange, with the
/// bucket's policy (which refills it up to the time of the exchange).
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub id: String,
    pub taken: u64,
    pub burst: u32,
    pub per_second: f64,
}

/// A bucket as the store holds it: `tokens` left at `last_ms`, and how many
/// requests it let through on UTC day `day`.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedBucket {
    pub id: String,
    pub tokens: f64,
    pub last_ms: i64,
    pub day: i64,
    pub used_today: u64,
}

/// What an exchange brings back: the buckets changed since the version asked
/// for (this instance's own takes included), and the newest version among
/// them (the one asked for when nothing changed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exchanged {
    pub changed: Vec<SharedBucket>,
    pub version: i64,
}

/// The merge both backends apply: the bucket refilled from its last change to
/// `now_ms` (never above the burst), then charged with the takes; the day's
/// count starts again on a new UTC day. A bucket may go below zero when
/// instances together took more than it held: that debt is refilled before
/// anyone gets a token again, so over time the policy's rate holds exactly.
pub fn merged(old: Option<&SharedBucket>, t: &Taken, now_ms: i64) -> SharedBucket {
    let today = now_ms.div_euclid(DAY_MS);
    let burst = f64::from(t.burst);
    let taken = t.taken as f64;
    match old {
        None => SharedBucket {
            id: t.id.clone(),
            tokens: burst - taken,
            last_ms: now_ms,
            day: today,
            used_today: t.taken,
        },
        Some(o) => {
            let elapsed = (now_ms - o.last_ms).max(0) as f64;
            SharedBucket {
                id: t.id.clone(),
                tokens: (o.tokens + elapsed * t.per_second / 1000.0).min(burst) - taken,
                last_ms: o.last_ms.max(now_ms),
                day: o.day.max(today),
                used_today: if o.day >= today {
                    o.used_today + t.taken
                } else {
                    t.taken
                },
            }
        }
    }
}

impl RateBuckets<'_> {
    /// Merges this instance's takes (ids distinct) and reads every bucket
    /// changed after version `since`.
    pub fn exchange(
        &self,
        taken: Vec<Taken>,
        now_ms: i64,
        since: i64,
    ) -> Result<Exchanged, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::small::rate_exchange(c, taken, now_ms, since));
        }
        if !taken.is_empty() {
            self.0.write(|c| merge(c, &taken, now_ms))?;
        }
        self.0.read(|c| changed_since(c, since))
    }

    /// Forgets buckets nobody touched since `before_ms`; how many went.
    pub fn prune(&self, before_ms: i64) -> Result<usize, StoreError> {
        if let Some(pg) = self.0.pg() {
            return pg.run(move |c| super::pg::small::rate_prune(c, before_ms));
        }
        self.0
            .with(|c| c.execute("DELETE FROM rate_buckets WHERE last_ms < ?1", [before_ms]))
    }
}

fn merge(c: &Connection, taken: &[Taken], now_ms: i64) -> rusqlite::Result<()> {
    let mut version: i64 = c.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM rate_buckets",
        [],
        |r| r.get(0),
    )?;
    let mut get = c.prepare_cached(
        "SELECT id, tokens, last_ms, day, used_today FROM rate_buckets WHERE id = ?1",
    )?;
    let mut put = c.prepare_cached(
        "INSERT OR REPLACE INTO rate_buckets
         (id, tokens, last_ms, day, used_today, burst, per_second, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for t in taken {
        let old = get.query_row([&t.id], row).optional()?;
        let new = merged(old.as_ref(), t, now_ms);
        version += 1;
        put.execute(params![
            new.id,
            new.tokens,
            new.last_ms,
            new.day,
            new.used_today as i64,
            f64::from(t.burst),
            t.per_second,
            version
        ])?;
    }
    Ok(())
}

fn changed_since(c: &Connection, since: i64) -> rusqlite::Result<Exchanged> {
    let mut q = c.prepare_cached(
        "SELECT id, tokens, last_ms, day, used_today, version FROM rate_buckets
         WHERE version > ?1 ORDER BY version",
    )?;
    let mut out = Exchanged {
        changed: Vec::new(),
        version: since,
    };
    let rows = q.query_map([since], |r| Ok((row(r)?, r.get::<_, i64>(5)?)))?;
    for r in rows {
        let (bucket, version) = r?;
        out.version = out.version.max(version);
        out.changed.push(bucket);
    }
    Ok(out)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SharedBucket> {
    Ok(SharedBucket {
        id: r.get(0)?,
        tokens: r.get(1)?,
        last_ms: r.get(2)?,
        day: r.get(3)?,
        used_today: r.get::<_, i64>(4)?.max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(n: u64) -> Taken {
        Taken {
            id: "k".into(),
            taken: n,
            burst: 10,
            per_second: 2.0,
        }
    }

    #[test]
    fn the_merge_refills_up_to_the_burst_then_charges() {
        let now = 5 * DAY_MS + 1_000;
        let first = merged(None, &taken(4), now);
        assert_eq!((first.tokens, first.used_today), (6.0, 4));
        // one second later: two tokens back, three taken
        let second = merged(Some(&first), &taken(3), now + 1_000);
        assert_eq!((second.tokens, second.used_today), (5.0, 7));
        // an hour later the refill stops at the burst
        let third = merged(Some(&second), &taken(12), now + 3_600_000);
        assert_eq!(third.tokens, -2.0, "instances together overdrew it");
        // a new UTC day counts from zero; a late clock neither refills nor
        // moves the bucket back
        let next_day = merged(Some(&third), &taken(1), 6 * DAY_MS + 10);
        assert_eq!((next_day.day, next_day.used_today), (6, 1));
        let late = merged(Some(&next_day), &taken(1), 6 * DAY_MS);
        assert_eq!(
            (late.last_ms, late.day, late.used_today),
            (6 * DAY_MS + 10, 6, 2)
        );
        assert_eq!(late.tokens, next_day.tokens - 1.0);
    }
}
