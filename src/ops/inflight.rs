//! Requests in flight per client address, so one address cannot take every
//! connection (`421`, protocol.md §8). Sharded counters; a guard gives back
//! its slot when the request ends, however it ends.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const SHARDS: usize = 16;

pub struct InFlight {
    shards: Box<[Mutex<HashMap<IpAddr, u32>>]>,
    hasher: RandomState,
    total: AtomicUsize,
}

impl InFlight {
    pub fn new() -> Arc<Self> {
        Arc::new(InFlight {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            total: AtomicUsize::new(0),
        })
    }

    fn shard(&self, key: &IpAddr) -> MutexGuard<'_, HashMap<IpAddr, u32>> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one more request from `addr`, or `None` when it already has
    /// `max` in flight (`max` 0 = no cap).
    pub fn enter(self: &Arc<Self>, addr: IpAddr, max: u32) -> Option<Slot> {
        let key = super::net::limit_key(addr);
        {
            let mut shard = self.shard(&key);
            let n = shard.entry(key).or_insert(0);
            if max > 0 && *n >= max {
                return None;
            }
            *n += 1;
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            table: Arc::clone(self),
            key,
        })
    }

    /// Requests in flight, all addresses together (a metric).
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn leave(&self, key: IpAddr) {
        let mut shard = self.shard(&key);
        if let Some(n) = shard.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                shard.remove(&key);
            }
        }
        drop(shard);
        self.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One request's place; dropping it frees the place.
pub struct Slot {
    table: Arc<InFlight>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.leave(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_per_address_and_slots_come_back() {
        let t = InFlight::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let s1 = t.enter(a, 2).unwrap();
        let _s2 = t.enter(a, 2).unwrap();
        assert!(t.enter(a, 2).is_none());
        assert!(t.enter(b, 2).is_some(), "other addresses are apart");
        assert_eq!(t.total(), 2);
        drop(s1);
        assert!(t.enter(a, 2).is_some());
        assert!(t.enter(a, 0).is_some(), "0 = no cap");
    }
}
