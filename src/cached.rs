//! A value read from the database and kept for a while: what the ingest path needs for
//! every batch (the price table, the retention in force) without a query per batch.
//! It is read again once it is older than its time to live, and at once after
//! [`Cached::invalidate`] (a change made through this process); other replicas catch up
//! within the time to live.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub struct Cached<T> {
    ttl: Duration,
    /// When the value was read, and the [`Cached::invalidate`] generation it was read in.
    slot: RwLock<(Instant, u64, Arc<T>)>,
    generation: AtomicU64,
}

impl<T> Cached<T> {
    /// A cache holding `initial` as already stale: the first [`Cached::get`] reads.
    pub fn new(ttl: Duration, initial: T) -> Cached<T> {
        let stale = Instant::now()
            .checked_sub(ttl * 2)
            .unwrap_or_else(Instant::now);
        Cached {
            ttl,
            slot: RwLock::new((stale, 0, Arc::new(initial))),
            generation: AtomicU64::new(0),
        }
    }

    /// Forgets the value: the next [`Cached::get`] reads it again. A read that was under
    /// way when this is called is not kept, so it cannot bring back the old value.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The value, read with `read` if it is stale or was invalidated.
    pub async fn get<F, Fut>(&self, read: F) -> Arc<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Ok(slot) = self.slot.read()
            && slot.0.elapsed() < self.ttl
            && slot.1 == generation
        {
            return slot.2.clone();
        }
        let value = Arc::new(read().await);
        if let Ok(mut slot) = self.slot.write() {
            *slot = (Instant::now(), generation, value.clone());
        }
        value
    }

    /// The value last read (or the initial one), without reading.
    pub fn last(&self) -> Option<Arc<T>> {
        self.slot.read().ok().map(|slot| slot.2.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_when_stale_or_invalidated_only() {
        let cache = Cached::new(Duration::from_secs(60), 0);
        assert_eq!(*cache.get(|| async { 1 }).await, 1);
        assert_eq!(*cache.get(|| async { 2 }).await, 1, "fresh: not read again");
        cache.invalidate();
        assert_eq!(*cache.get(|| async { 3 }).await, 3);
        assert_eq!(cache.last().as_deref(), Some(&3));
        let expired = Cached::new(Duration::ZERO, 0);
        assert_eq!(*expired.get(|| async { 1 }).await, 1);
        assert_eq!(*expired.get(|| async { 2 }).await, 2);
    }
}
