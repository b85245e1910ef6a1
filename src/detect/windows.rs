//! Sliding windows over event time: counts per key in small buckets, so a window of a
//! minute costs a dozen counters per key however busy the key is.

use std::collections::{HashMap, VecDeque};

/// Counts of one key over the trailing `window` milliseconds, in `window / BUCKETS`
/// buckets: a count is exact to within one bucket's width at the window's far edge.
#[derive(Debug, Default)]
struct Counter {
    /// `(bucket start, count)`, oldest first.
    buckets: VecDeque<(i64, u32)>,
}

const BUCKETS: i64 = 12;
/// Keys followed at most by one window (about 300 bytes each).
const MAX_KEYS: usize = 200_000;

impl Counter {
    fn add(&mut self, at: i64, bucket_ms: i64) {
        let start = at - at.rem_euclid(bucket_ms);
        match self.buckets.iter_mut().rev().find(|(s, _)| *s == start) {
            Some((_, n)) => *n += 1,
            None => {
                let pos = self.buckets.partition_point(|(s, _)| *s < start);
                self.buckets.insert(pos, (start, 1));
            }
        }
    }

    fn count_since(&mut self, from: i64, bucket_ms: i64) -> u32 {
        while self
            .buckets
            .front()
            .is_some_and(|(s, _)| s + bucket_ms <= from)
        {
            self.buckets.pop_front();
        }
        self.buckets.iter().map(|(_, n)| n).sum()
    }

    fn newest(&self) -> Option<i64> {
        self.buckets.back().map(|(s, _)| *s)
    }
}

/// Per-key counts over a trailing window, with a cool-down per key so a key over its
/// limit is reported once per window.
#[derive(Debug)]
pub struct KeyedWindow {
    window_ms: i64,
    bucket_ms: i64,
    keys: HashMap<String, (Counter, i64)>,
}

impl KeyedWindow {
    pub fn new(window_ms: i64) -> KeyedWindow {
        Self::with_buckets(window_ms, BUCKETS)
    }

    /// A window counted in `buckets` buckets (finer: more exact, a little more memory).
    pub fn with_buckets(window_ms: i64, buckets: i64) -> KeyedWindow {
        KeyedWindow {
            window_ms,
            bucket_ms: (window_ms / buckets.max(1)).max(1),
            keys: HashMap::new(),
        }
    }

    /// Counts an event of `key` at `at`; when the key's count in the window ending at
    /// `now` goes over `limit` and it was not reported in the last window, returns
    /// the count (to report now).
    pub fn hit(&mut self, key: &str, at: i64, now: i64, limit: u32) -> Option<u32> {
        if at <= now - self.window_ms {
            return None;
        }
        let bucket_ms = self.bucket_ms;
        if !self.keys.contains_key(key) {
            if self.keys.len() >= MAX_KEYS {
                // Memory stays bounded under a flood of addresses; idle keys are swept.
                return None;
            }
            self.keys.insert(key.to_string(), (Counter::default(), 0));
        }
        let (counter, reported_until) = self.keys.get_mut(key)?;
        counter.add(at.min(now), bucket_ms);
        let count = counter.count_since(now - self.window_ms, bucket_ms);
        if count > limit && *reported_until <= now {
            *reported_until = now + self.window_ms;
            Some(count)
        } else {
            None
        }
    }

    /// The count of `key` in the window ending at `now`.
    pub fn count(&mut self, key: &str, now: i64) -> u32 {
        let (bucket_ms, from) = (self.bucket_ms, now - self.window_ms);
        self.keys
            .get_mut(key)
            .map_or(0, |(c, _)| c.count_since(from, bucket_ms))
    }

    /// Forgets keys with nothing in the window ending at `now` and no cool-down running.
    pub fn sweep(&mut self, now: i64) {
        let from = now - self.window_ms - self.bucket_ms;
        self.keys
            .retain(|_, (c, until)| c.newest().is_some_and(|s| s >= from) || *until > now);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyedWindow;

    #[test]
    fn reports_once_per_window_when_over_the_limit() {
        let mut w = KeyedWindow::new(60_000);
        let now = 1_000_000;
        for i in 0..5 {
            assert_eq!(w.hit("a", now - 1000 + i, now, 5), None);
        }
        assert_eq!(w.hit("a", now, now, 5), Some(6));
        // Still over, but reported already in this window.
        assert_eq!(w.hit("a", now, now, 5), None);
        assert_eq!(w.count("a", now), 7);
        // Another key is counted on its own.
        assert_eq!(w.hit("b", now, now, 5), None);
        // A window and a bucket later the old events have left the window.
        let later = now + 65_000;
        assert_eq!(w.count("a", later), 0);
        for _ in 0..6 {
            w.hit("a", later, later, 5);
        }
        assert_eq!(w.count("a", later), 6);
    }

    #[test]
    fn old_events_are_ignored_and_idle_keys_forgotten() {
        let mut w = KeyedWindow::new(60_000);
        let now = 10_000_000;
        assert_eq!(w.hit("a", now - 60_000, now, 0), None);
        assert_eq!(w.count("a", now), 0);
        w.hit("b", now - 30_000, now, 100);
        w.sweep(now);
        assert_eq!(w.len(), 1);
        w.sweep(now + 120_000);
        assert_eq!(w.len(), 0);
    }
}
