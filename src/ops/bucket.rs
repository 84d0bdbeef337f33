//! Token buckets with a daily cap, kept in memory in a sharded table so that
//! workers rarely wait on each other. Times are milliseconds from the
//! injected clock; nothing here reads the real time. Each bucket counts the
//! tokens taken since it last shared them, so that instances on one store
//! can merge their buckets (ops/ratelimit.rs, store/rate_buckets.rs).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

use crate::config::RatePolicy;

const DAY_MS: i64 = 86_400_000;

/// The state of one bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    last_ms: i64,
    /// The UTC day (days since the epoch) `used_today` counts.
    day: i64,
    used_today: u64,
    /// Tokens taken here and not yet handed to the shared store.
    unshared: u64,
}

/// A bucket as another instance (through the store) last saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    pub tokens: f64,
    pub last_ms: i64,
    pub day: i64,
    pub used_today: u64,
}

/// What a bucket says about one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// Whole tokens left after this request.
    pub remaining: u64,
    /// Seconds until the bucket is full again.
    pub full_in_secs: u64,
    /// Requests left today, when the policy has a daily cap.
    pub remaining_today: Option<u64>,
    /// Seconds until the next UTC midnight.
    pub day_resets_in_secs: u64,
    /// When refused: seconds until a request would pass.
    pub retry_after_secs: u64,
}

impl Decision {
    /// What a fresh bucket of `p` says (describes a policy).
    pub fn full(p: &RatePolicy) -> Decision {
        Decision {
            allowed: true,
            remaining: u64::from(p.burst),
            full_in_secs: 0,
            remaining_today: (p.daily > 0).then_some(p.daily),
            day_resets_in_secs: 86_400,
            retry_after_secs: 0,
        }
    }
}

impl Bucket {
    fn full(policy: &RatePolicy, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(policy.burst),
            last_ms: now_ms,
            day: now_ms.div_euclid(DAY_MS),
            used_today: 0,
            unshared: 0,
        }
    }

    fn refill(&mut self, p: &RatePolicy, now_ms: i64) {
        let elapsed = now_ms.saturating_sub(self.last_ms).max(0) as f64;
        self.tokens = (self.tokens + elapsed * p.per_second / 1000.0).min(f64::from(p.burst));
        self.last_ms = self.last_ms.max(now_ms);
        let day = now_ms.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.used_today = 0;
        }
    }

    fn day_open(&self, p: &RatePolicy) -> bool {
        p.daily == 0 || self.used_today < p.daily
    }

    /// Takes a token when both the bucket and the day allow it.
    fn take(&mut self, p: &RatePolicy, now_ms: i64) -> Decision {
        self.refill(p, now_ms);
        let allowed = self.tokens >= 1.0 && self.day_open(p);
        if allowed {
            self.tokens -= 1.0;
            self.used_today += 1;
            self.unshared += 1;
        }
        self.decision(p, now_ms, allowed)
    }

    fn decision(&self, p: &RatePolicy, now_ms: i64, allowed: bool) -> Decision {
        let secs = |tokens: f64| (tokens.max(0.0) / p.per_second).ceil() as u64;
        let day_resets_in_secs = (((self.day + 1) * DAY_MS - now_ms).max(0) as u64).div_ceil(1000);
        let retry_after_secs = if allowed {
            0
        } else {
            let bucket = if self.tokens >= 1.0 {
                0
            } else {
                secs(1.0 - self.tokens)
            };
            let day = if self.day_open(p) {
                0
            } else {
                day_resets_in_secs
            };
            bucket.max(day).max(1)
        };
        Decision {
            allowed,
            remaining: self.tokens.max(0.0).floor() as u64,
            full_in_secs: secs(f64::from(p.burst) - self.tokens),
            remaining_today: (p.daily > 0).then(|| p.daily.saturating_sub(self.used_today)),
            day_resets_in_secs,
            retry_after_secs,
        }
    }

    /// True when forgetting this bucket changes nothing: it is full and its
    /// day's count no longer matters.
    fn idle(&self, p: &RatePolicy, now_ms: i64) -> bool {
        let mut b = *self;
        b.refill(p, now_ms);
        // Takes not yet shared do not keep a bucket: exchanges run far more
        // often than a bucket refills, and without sharing they never go.
        b.tokens >= f64::from(p.burst) && (b.used_today == 0 || p.daily == 0)
    }

    /// Takes the shared state as this bucket's, minus what was taken here
    /// since it was handed over (not in `seen` yet).
    fn adopt(&mut self, seen: &Seen) {
        let pending = self.unshared;
        self.tokens = seen.tokens - pending as f64;
        self.last_ms = seen.last_ms;
        self.day = seen.day;
        self.used_today = seen.used_today + pending;
    }
}

/// Buckets by key, split over shards each behind its own lock.
pub struct Buckets<K> {
    shards: Box<[Mutex<HashMap<K, Bucket>>]>,
    hasher: RandomState,
}

const SHARDS: usize = 16;

impl<K: Hash + Eq> Buckets<K> {
    pub fn new() -> Self {
        Buckets {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &K) -> MutexGuard<'_, HashMap<K, Bucket>> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        // A panic while holding a shard leaves counters, never broken invariants.
        self.shards[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Charges one request to `key`'s bucket (created full on first use).
    pub fn take(&self, key: K, p: &RatePolicy, now_ms: i64) -> Decision {
        let mut shard = self.shard(&key);
        shard
            .entry(key)
            .or_insert_with(|| Bucket::full(p, now_ms))
            .take(p, now_ms)
    }

    /// What a request would be told, without charging it (and without
    /// creating a bucket for an unknown key).
    pub fn peek(&self, key: &K, p: &RatePolicy, now_ms: i64) -> Decision {
        let shard = self.shard(key);
        let mut b = shard
            .get(key)
            .copied()
            .unwrap_or_else(|| Bucket::full(p, now_ms));
        b.refill(p, now_ms);
        let allowed = b.tokens >= 1.0 && b.day_open(p);
        b.decision(p, now_ms, allowed)
    }

    /// Forgets idle buckets; `policy` tells each key's policy. Returns how
    /// many buckets remain.
    pub fn sweep(&self, now_ms: i64, policy: impl Fn(&K) -> Option<RatePolicy>) -> usize {
        let mut left = 0;
        for shard in self.shards.iter() {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|k, b| match policy(k) {
                Some(p) => !b.idle(&p, now_ms),
                None => false,
            });
            left += map.len();
        }
        left
    }

    /// The tokens taken from each bucket since the last call, which now
    /// count as shared. Give them back if they could not be handed over.
    pub fn take_unshared(&self) -> Vec<(K, u64)>
    where
        K: Clone,
    {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (k, b) in map.iter_mut().filter(|(_, b)| b.unshared > 0) {
                out.push((k.clone(), std::mem::take(&mut b.unshared)));
            }
        }
        out
    }

    /// Counts `n` tokens of `key` as unshared again (an exchange failed).
    pub fn give_back(&self, key: K, n: u64) {
        if let Some(b) = self.shard(&key).get_mut(&key) {
            b.unshared += n;
        }
    }

    /// Takes what the store says of `key`'s bucket (every instance's takes
    /// merged), keeping this instance's takes since the exchange began.
    pub fn adopt(&self, key: K, seen: &Seen) {
        let mut shard = self.shard(&key);
        let fresh = Bucket {
            tokens: 0.0,
            last_ms: 0,
            day: 0,
            used_today: 0,
            unshared: 0,
        };
        shard.entry(key).or_insert(fresh).adopt(seen);
    }

    /// How many buckets exist.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Hash + Eq> Default for Buckets<K> {
    fn default() -> Self {
        Buckets::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const P: RatePolicy = RatePolicy::new(3, 1.0, 0);

    #[test]
    fn a_burst_then_one_per_refill() {
        let clock = ManualClock::new(1_000_000);
        let b: Buckets<&str> = Buckets::new();
        let now = || clock.now_millis();
        for left in [2, 1, 0] {
            let d = b.take("k", &P, now());
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
        }
        let d = b.take("k", &P, now());
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 1);
        assert_eq!(d.full_in_secs, 3);
        clock.advance(1);
        assert!(b.take("k", &P, now()).allowed);
        assert!(!b.take("k", &P, now()).allowed);
        // refills stop at the burst
        clock.advance(100);
        assert_eq!(b.take("k", &P, now()).remaining, 2);
        // other keys have their own bucket
        assert_eq!(b.take("other", &P, now()).remaining, 2);
    }

    #[test]
    fn slow_refill_rates_round_retry_after_up() {
        let p = RatePolicy::new(1, 0.1, 0);
        let b: Buckets<u8> = Buckets::new();
        assert!(b.take(1, &p, 0).allowed);
        let d = b.take(1, &p, 0);
        assert_eq!((d.allowed, d.retry_after_secs), (false, 10));
        let d = b.take(1, &p, 9_500);
        assert_eq!((d.allowed, d.retry_after_secs), (false, 1));
        assert!(b.take(1, &p, 10_000).allowed);
    }

    #[test]
    fn the_daily_cap_resets_at_utc_midnight() {
        let p = RatePolicy::new(100, 100.0, 2);
        let clock = ManualClock::new(86_400 * 20_000 + 86_000); // 400 s before midnight
        let b: Buckets<&str> = Buckets::new();
        let now = || clock.now_millis();
        assert_eq!(b.take("k", &p, now()).remaining_today, Some(1));
        assert_eq!(b.take("k", &p, now()).remaining_today, Some(0));
        let d = b.take("k", &p, now());
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 400);
        assert_eq!(d.day_resets_in_secs, 400);
        clock.advance(400);
        let d = b.take("k", &p, now());
        assert!(d.allowed);
        assert_eq!(d.remaining_today, Some(1));
    }

    #[test]
    fn peek_charges_nothing_and_creates_nothing() {
        let b: Buckets<&str> = Buckets::new();
        assert!(b.peek(&"k", &P, 0).allowed);
        assert!(b.is_empty());
        for _ in 0..3 {
            b.take("k", &P, 0);
        }
        let d = b.peek(&"k", &P, 0);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 1);
    }

    #[test]
    fn sweeping_forgets_only_idle_buckets() {
        let b: Buckets<&str> = Buckets::new();
        b.take("a", &P, 0);
        b.take("b", &P, 0);
        b.take("b", &P, 0);
        assert_eq!(b.sweep(1_000, |_| Some(P)), 1, "a is full again, b is not");
        assert_eq!(b.sweep(2_000, |_| Some(P)), 0);
        let daily = RatePolicy::new(3, 1.0, 10);
        b.take("c", &daily, 0);
        assert_eq!(b.sweep(10_000, |_| Some(daily)), 1, "today's count is kept");
        assert_eq!(b.sweep(DAY_MS, |_| Some(daily)), 0, "until the day is over");
    }
}
