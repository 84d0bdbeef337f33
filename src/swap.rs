//! A value replaced whole on configuration reload while readers keep the
//! one they loaded: requests in flight finish under the table they started with.

use std::sync::{Arc, RwLock};

pub struct Swap<T>(RwLock<Arc<T>>);

impl<T> Swap<T> {
    pub fn new(value: T) -> Self {
        Swap(RwLock::new(Arc::new(value)))
    }

    /// The current value; cheap (a read lock and a reference count).
    pub fn load(&self) -> Arc<T> {
        // A writer cannot panic half-way through replacing an Arc.
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces the value for every later `load`.
    pub fn store(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Swap<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn readers_keep_what_they_loaded() {
        let s = super::Swap::new(1);
        let old = s.load();
        s.store(2);
        assert_eq!((*old, *s.load()), (1, 2));
    }
}
