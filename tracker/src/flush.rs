//! The background task that empties the queue into the destination.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};

use crate::config::{FlushStrategy, RetryPolicy};
use crate::queue::{Counters, Event, EventQueue, into_batch};
use crate::sink::{Delivery, Sink};
use crate::wire::IngestBatch;

/// What a [`Tracker`](crate::Tracker) handle asks of the flush task.
pub(crate) enum Control {
    /// Send everything queued, then answer.
    Flush(oneshot::Sender<()>),
    /// Send everything queued, answer, and stop.
    Shutdown(oneshot::Sender<()>),
}

pub(crate) struct Flusher {
    pub queue: Arc<EventQueue>,
    pub counters: Arc<Counters>,
    pub sink: Sink,
    pub strategy: FlushStrategy,
    pub batch_size: usize,
    pub retry: RetryPolicy,
    pub retry_capacity: usize,
    /// Events whose delivery failed, sent again (first) at the next flush.
    pub pending: VecDeque<Event>,
}

impl Flusher {
    pub(crate) async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let interval = self.strategy.interval();
        let count = self.strategy.count_trigger();
        // A year stands in for "never" when there is no timer.
        let never = Duration::from_secs(365 * 24 * 3600);
        let mut deadline = Instant::now() + interval.unwrap_or(never);
        loop {
            let flushed = tokio::select! {
                _ = sleep_until(deadline), if interval.is_some() => {
                    self.flush_all().await;
                    true
                }
                _ = self.queue.full_enough.notified(), if count.is_some() => {
                    self.flush_full_batches(count.unwrap_or(1)).await
                }
                message = control.recv() => match message {
                    Some(Control::Flush(done)) => {
                        self.flush_all().await;
                        let _ = done.send(());
                        true
                    }
                    Some(Control::Shutdown(done)) => {
                        self.finish().await;
                        let _ = done.send(());
                        return;
                    }
                    None => {
                        self.finish().await;
                        return;
                    }
                },
            };
            if flushed {
                deadline = Instant::now() + interval.unwrap_or(never);
            }
        }
    }

    /// Sends full batches while the queue holds at least `count` events.
    async fn flush_full_batches(&mut self, count: usize) -> bool {
        let mut flushed = false;
        while self.queue.len() >= count {
            let mut events: Vec<Event> = self.pending.drain(..).collect();
            events.extend(self.queue.take(count));
            flushed = true;
            if !self.send_all(events).await {
                break;
            }
        }
        flushed
    }

    /// Sends the retry buffer and everything queued.
    async fn flush_all(&mut self) {
        let mut events: Vec<Event> = self.pending.drain(..).collect();
        events.extend(self.queue.take(usize::MAX));
        self.send_all(events).await;
    }

    /// The last flush: what still cannot be delivered is lost.
    async fn finish(&mut self) {
        self.flush_all().await;
        let lost = std::mem::take(&mut self.pending).len();
        Counters::add(&self.counters.dropped, lost);
    }

    /// Sends `events` in batches; on a transient failure keeps the rest for later and
    /// returns false.
    async fn send_all(&mut self, mut events: Vec<Event>) -> bool {
        while !events.is_empty() {
            let rest = events.split_off(self.batch_size.min(events.len()));
            let batch = into_batch(std::mem::replace(&mut events, rest));
            let n = batch.requests.len() + batch.auth_events.len();
            let (delivery, retries) = self.sink.deliver(batch, &self.retry).await;
            Counters::add(&self.counters.retries, retries as usize);
            match delivery {
                Delivery::Delivered => Counters::add(&self.counters.sent, n),
                Delivery::Refused(reason) => {
                    tracing::warn!(%reason, events = n, "Sightline refused a batch; dropped");
                    Counters::add(&self.counters.failed_batches, 1);
                    Counters::add(&self.counters.dropped, n);
                }
                Delivery::Failed(reason, batch) => {
                    tracing::warn!(%reason, events = n, "Sightline unreachable; batch kept for the next flush");
                    Counters::add(&self.counters.failed_batches, 1);
                    self.keep_for_retry(from_batch(batch).chain(events));
                    return false;
                }
            }
        }
        true
    }

    fn keep_for_retry(&mut self, events: impl Iterator<Item = Event>) {
        self.pending.extend(events);
        let excess = self.pending.len().saturating_sub(self.retry_capacity);
        self.pending.drain(..excess);
        Counters::add(&self.counters.dropped, excess);
    }
}

fn from_batch(batch: IngestBatch) -> impl Iterator<Item = Event> {
    batch
        .requests
        .into_iter()
        .map(Event::Request)
        .chain(batch.auth_events.into_iter().map(Event::Auth))
}
