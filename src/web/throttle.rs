//! Throttling of wrong passwords on the pages: per username and per client
//! address. The first failures are free; after that each further attempt has
//! to wait, twice as long after every failure, up to an hour.

use std::net::IpAddr;

use crate::store::{Store, StoreError};

/// Failures of one username before waiting starts.
pub const USER_FREE_FAILURES: u32 = 5;
/// Failures from one address (many users may share it) before waiting starts.
pub const ADDR_FREE_FAILURES: u32 = 20;
/// The first wait, in seconds.
pub const BASE_WAIT_SECS: i64 = 30;
/// The longest wait.
pub const MAX_WAIT_SECS: i64 = 60 * 60;
/// Failures older than this are forgotten.
pub const FORGET_AFTER_SECS: i64 = 24 * 60 * 60;

/// Seconds still to wait after `failures` failures, the last at `last`.
pub fn wait_secs(failures: u32, last: i64, now: i64, free: u32) -> Option<i64> {
    if failures < free || now - last > FORGET_AFTER_SECS {
        return None;
    }
    let doublings = (failures - free).min(20);
    let wait = BASE_WAIT_SECS
        .saturating_mul(1 << doublings)
        .min(MAX_WAIT_SECS);
    let left = last + wait - now;
    (left > 0).then_some(left)
}

fn subjects(username: &str, addr: Option<IpAddr>) -> Vec<(String, u32)> {
    let mut v = vec![(
        format!("user:{}", username.to_lowercase()),
        USER_FREE_FAILURES,
    )];
    if let Some(ip) = addr {
        v.push((format!("addr:{ip}"), ADDR_FREE_FAILURES));
    }
    v
}

/// Seconds to wait before `username` may try again from `addr`, if any.
pub fn check(
    store: &Store,
    username: &str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut wait = None;
    for (subject, free) in subjects(username, addr) {
        if let Some((n, last)) = store.signin_failures().get(&subject)? {
            wait = wait.max(wait_secs(n, last, now, free));
        }
    }
    Ok(wait)
}

/// Counts a wrong password.
pub fn failed(
    store: &Store,
    username: &str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<(), StoreError> {
    for (subject, _) in subjects(username, addr) {
        store.signin_failures().record(&subject, now)?;
    }
    Ok(())
}

/// Forgets the username's failures after a successful sign-in (the address
/// keeps its count: one good account must not unlock guessing at others).
pub fn succeeded(store: &Store, username: &str) -> Result<(), StoreError> {
    store
        .signin_failures()
        .clear(&format!("user:{}", username.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double() {
        let now = 1_000_000;
        assert_eq!(wait_secs(4, now, now, 5), None);
        assert_eq!(wait_secs(5, now, now, 5), Some(30));
        assert_eq!(wait_secs(6, now, now, 5), Some(60));
        assert_eq!(wait_secs(7, now - 100, now, 5), Some(20));
        assert_eq!(wait_secs(7, now - 120, now, 5), None);
        assert_eq!(wait_secs(60, now, now, 5), Some(MAX_WAIT_SECS));
        assert_eq!(wait_secs(60, now - FORGET_AFTER_SECS - 1, now, 5), None);
    }

    #[test]
    fn username_and_address_are_counted_apart() {
        let (_d, store) = crate::store::test_store();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let c = &store;
        for _ in 0..5 {
            assert_eq!(check(c, "Demo", Some(ip), 100).unwrap(), None);
            failed(c, "Demo", Some(ip), 100).unwrap();
        }
        assert_eq!(check(c, "demo", None, 100).unwrap(), Some(30));
        assert_eq!(
            check(c, "other", Some(ip), 100).unwrap(),
            None,
            "the address has 15 more"
        );
        succeeded(c, "demo").unwrap();
        assert_eq!(check(c, "demo", Some(ip), 100).unwrap(), None);
    }
}
