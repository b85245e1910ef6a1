//! The bounded in-memory queue between the wrapped service and the flush task.
//!
//! A short `std` mutex around a `VecDeque` (never held across an await) lets a full
//! queue drop its *oldest* event, which a channel's `try_send` cannot do.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::wire::{AuthEvent, IngestBatch, RequestEvent};

/// One queued event.
// Nearly every event is a request, so boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Event {
    Request(RequestEvent),
    Auth(AuthEvent),
}

/// Puts events into one ingest batch, in order within each list.
pub(crate) fn into_batch(events: Vec<Event>) -> IngestBatch {
    let mut batch = IngestBatch::default();
    for event in events {
        match event {
            Event::Request(r) => batch.requests.push(r),
            Event::Auth(a) => batch.auth_events.push(a),
        }
    }
    batch
}

/// Counters shared by the layer, the queue and the flush task.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub recorded: AtomicU64,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub failed_batches: AtomicU64,
    pub retries: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// What the tracker has done so far, from [`Tracker::stats`](crate::Tracker::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Events put into the queue.
    pub recorded: u64,
    /// Events the destination acknowledged.
    pub sent: u64,
    /// Events lost: the queue or the retry buffer was full, or Sightline refused a batch.
    pub dropped: u64,
    /// Batches that could not be delivered after every retry, or were refused.
    pub failed_batches: u64,
    /// Ingest calls repeated after a failure.
    pub retries: u64,
    /// Events waiting in the queue now.
    pub queued: usize,
}

pub(crate) struct EventQueue {
    events: Mutex<VecDeque<Event>>,
    capacity: usize,
    count_trigger: Option<usize>,
    /// Woken when the queue reaches the count trigger.
    pub(crate) full_enough: Notify,
}

impl EventQueue {
    pub(crate) fn new(capacity: usize, count_trigger: Option<usize>) -> Self {
        EventQueue {
            events: Mutex::new(VecDeque::with_capacity(
                count_trigger.unwrap_or(256).min(capacity),
            )),
            capacity,
            count_trigger,
            full_enough: Notify::new(),
        }
    }

    /// Adds an event without waiting; when full, drops the oldest and counts it.
    pub(crate) fn push(&self, event: Event, counters: &Counters) {
        let (len, oldest) = {
            let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
            let oldest = (events.len() >= self.capacity)
                .then(|| events.pop_front())
                .flatten();
            events.push_back(event);
            (events.len(), oldest)
        };
        // Freed outside the lock.
        if let Some(oldest) = oldest {
            drop(oldest);
            Counters::add(&counters.dropped, 1);
        }
        Counters::add(&counters.recorded, 1);
        if self.count_trigger.is_some_and(|n| len >= n) {
            self.full_enough.notify_one();
        }
    }

    /// Takes up to `max` of the oldest events.
    ///
    /// Taking them all (the usual case) swaps in an empty buffer allocated beforehand,
    /// so the lock that requests wait for is held for a pointer swap, not for moving
    /// every event.
    pub(crate) fn take(&self, max: usize) -> Vec<Event> {
        let mut spare = VecDeque::with_capacity(self.spare_capacity());
        {
            let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
            if max < events.len() {
                return events.drain(..max).collect();
            }
            std::mem::swap(&mut *events, &mut spare);
        }
        spare.into()
    }

    /// Room for what usually arrives between two flushes, so that requests seldom have
    /// to grow the buffer.
    fn spare_capacity(&self) -> usize {
        self.count_trigger.unwrap_or(256).min(self.capacity)
    }

    pub(crate) fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: i64) -> Event {
        Event::Request(RequestEvent {
            status_code: n,
            ..RequestEvent::default()
        })
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let counters = Counters::default();
        let queue = EventQueue::new(3, None);
        for n in 0..5 {
            queue.push(request(n), &counters);
        }
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 2);
        assert_eq!(counters.recorded.load(Ordering::Relaxed), 5);
        assert_eq!(queue.take(10), vec![request(2), request(3), request(4)]);
        assert_eq!(queue.len(), 0);
    }
}
