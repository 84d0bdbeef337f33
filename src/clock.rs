//! The clock, injected so that window, expiry and replay rules can be tested exactly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now" in Unix seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::store::now_unix()
    }
}

/// A clock that stands still until told otherwise (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(now)))
    }
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The real clock shifted by the number of seconds written in a file, re-read
/// at every look (config `testing.clock_offset_file`; the test suite's way to
/// let tokens expire in a spawned server). A missing or unreadable file is 0.
#[derive(Debug, Clone)]
pub struct OffsetFileClock(pub std::path::PathBuf);

impl Clock for OffsetFileClock {
    fn now(&self) -> i64 {
        let offset = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0);
        crate::store::now_unix().saturating_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_file_shifts_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offset");
        let clock = OffsetFileClock(path.clone());
        assert!((clock.now() - crate::store::now_unix()).abs() <= 1);
        std::fs::write(&path, "3600\n").unwrap();
        assert!((clock.now() - crate::store::now_unix() - 3600).abs() <= 1);
        std::fs::write(&path, "junk").unwrap();
        assert!((clock.now() - crate::store::now_unix()).abs() <= 1);
    }
}
