//! The clock, injected so that window, expiry and replay rules can be tested exactly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now" in Unix seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
    /// Milliseconds, for the rate limiter's refills; clocks that only know
    /// seconds answer whole seconds.
    fn now_millis(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// Seconds since the Unix epoch by the system clock.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        now_unix()
    }
    fn now_millis(&self) -> i64 {
        system_millis()
    }
}

fn system_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The real clock plus a number of seconds read from a file at every use, so
/// the integration tests can move a running server's time (daily quotas).
#[derive(Debug)]
pub struct OffsetClock {
    file: PathBuf,
}

impl OffsetClock {
    pub fn new(file: PathBuf) -> Self {
        OffsetClock { file }
    }
    fn offset(&self) -> i64 {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> i64 {
        now_unix().saturating_add(self.offset())
    }
    fn now_millis(&self) -> i64 {
        system_millis().saturating_add(self.offset().saturating_mul(1000))
    }
}

/// The clock a configuration asks for: the system clock unless the test-only
/// `testing.clock_offset_file` is set.
pub fn from_config(config: &crate::config::Config) -> Arc<dyn Clock> {
    let file = &config.testing.clock_offset_file;
    if file.as_os_str().is_empty() {
        Arc::new(SystemClock)
    } else {
        Arc::new(OffsetClock::new(file.clone()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_file_shifts_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offset");
        let clock = OffsetClock::new(path.clone());
        assert!((clock.now() - now_unix()).abs() <= 1);
        std::fs::write(&path, "3600\n").unwrap();
        assert!((clock.now() - now_unix() - 3600).abs() <= 1);
        std::fs::write(&path, "junk").unwrap();
        assert!((clock.now() - now_unix()).abs() <= 1);
    }
}
