//! The ingest write queue with group commit: API calls hand their valid events to one
//! writer task; whatever has queued up while it committed goes into its next
//! transaction, so concurrent batches share a commit. A call is answered only after
//! the commit of its events. No timer: an idle writer commits a lone batch at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::store::{IngestWrite, IngestWritten, Store};

/// Most events one transaction takes; more wait for the next.
const MAX_GROUP_EVENTS: usize = 50_000;

/// Told about each batch once it is committed: detection and metrics watch the traffic
/// this way. Called on the writer task, so an observer must be quick and never wait: it
/// counts, or hands the work to a task of its own (with `try_send`).
pub trait CommitObserver: Send + Sync + 'static {
    /// `write` was committed; `written` says which of its requests were new. (An `Arc`,
    /// so an observer can keep the batch without copying it.)
    fn committed(&self, write: &Arc<IngestWrite>, written: &IngestWritten);

    /// A group of batches was committed in one transaction that took `elapsed`.
    fn group_committed(&self, _elapsed: std::time::Duration) {}
}

/// The observers of a queue.
pub type Observers = Arc<[Arc<dyn CommitObserver>]>;

struct Job {
    write: IngestWrite,
    submitted: Instant,
    reply: oneshot::Sender<Result<IngestWritten, String>>,
}

/// Why a batch was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: nothing was stored; the client should retry shortly.
    Full,
    /// The server is shutting down and takes no more writes.
    Closed,
    /// The database refused the write; nothing of the batch was stored.
    Failed(String),
}

/// The sending side of the write queue; cheap to clone.
#[derive(Clone)]
pub struct IngestQueue {
    tx: mpsc::Sender<Job>,
    last_commit: Arc<LastCommit>,
    /// Tells the writer to take no more batches (see [`IngestQueue::close`]).
    closing: Arc<tokio::sync::Notify>,
    /// Countries for the events that give an IP and none (`SIGHTLINE_GEOIP_DB`).
    geo: Option<Arc<crate::geo::GeoIp>>,
}

/// When the most recently committed batch was committed (epoch ms, 0 before any) and
/// how long it waited from its submission to the end of its commit.
#[derive(Debug, Default)]
struct LastCommit {
    at_ms: AtomicI64,
    lag_ms: AtomicI64,
}

impl IngestQueue {
    /// Starts the writer on `store`; `capacity` batches may wait at most. The writer
    /// ends once every clone of the queue is dropped and the queue is drained.
    pub fn start(store: Store, capacity: usize) -> (IngestQueue, tokio::task::JoinHandle<()>) {
        Self::start_observed(store, capacity, Arc::new([]))
    }

    /// [`IngestQueue::start`], telling `observers` about every committed batch.
    pub fn start_observed(
        store: Store,
        capacity: usize,
        observers: Observers,
    ) -> (IngestQueue, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let last_commit = Arc::new(LastCommit::default());
        let closing = Arc::new(tokio::sync::Notify::new());
        let writer = tokio::spawn(run_writer(
            store,
            rx,
            observers,
            last_commit.clone(),
            closing.clone(),
        ));
        (
            IngestQueue {
                tx,
                last_commit,
                closing,
                geo: None,
            },
            writer,
        )
    }

    /// Closes the queue, whoever still holds a clone: later submissions are refused
    /// ([`SubmitError::Closed`]); what is queued is committed, and the writer ends. (At
    /// shutdown, handlers that are still running keep their clones.)
    pub fn close(&self) {
        self.closing.notify_one();
    }

    /// This queue, giving events with an IP and no country the country `geo` knows.
    /// Every way in (the ingest API, OTLP, the gateway) submits here, so all get it,
    /// and detection reads the countries too.
    pub fn with_geo(mut self, geo: Option<Arc<crate::geo::GeoIp>>) -> IngestQueue {
        self.geo = geo;
        self
    }

    /// Queues `write` and waits until it is committed.
    pub async fn submit(&self, mut write: IngestWrite) -> Result<IngestWritten, SubmitError> {
        if let Some(geo) = &self.geo {
            geo.fill(&mut write);
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job {
                write,
                submitted: Instant::now(),
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::Full,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
            })?;
        match answer.await {
            Ok(result) => result.map_err(SubmitError::Failed),
            Err(_) => Err(SubmitError::Failed("the writer stopped".into())),
        }
    }

    /// Batches waiting to be written: queued and not yet taken by the writer. The
    /// channel's own count (its slots in use), so it is never below zero or above the
    /// capacity, however submitters and the writer interleave. (A count kept beside the
    /// channel was decremented by the writer before its submitter had incremented it.)
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Batches that may wait at most.
    pub fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// The most recent commit: when (epoch ms) and the milliseconds its batch took from
    /// submission to commit; `None` before the first.
    pub fn last_commit(&self) -> Option<(i64, i64)> {
        let at = self.last_commit.at_ms.load(Ordering::Relaxed);
        (at > 0).then(|| (at, self.last_commit.lag_ms.load(Ordering::Relaxed)))
    }

    /// Whether the queue is so full that new batches are likely refused.
    pub fn is_saturated(&self) -> bool {
        self.depth() >= self.capacity()
    }
}

fn observe(observers: &Observers, write: &Arc<IngestWrite>, written: &IngestWritten) {
    for o in observers.iter() {
        o.committed(write, written);
    }
}

async fn run_writer(
    store: Store,
    mut rx: mpsc::Receiver<Job>,
    observers: Observers,
    last_commit: Arc<LastCommit>,
    closing: Arc<tokio::sync::Notify>,
) {
    let record = |job: &Job| {
        let lag = i64::try_from(job.submitted.elapsed().as_millis()).unwrap_or(i64::MAX);
        last_commit.lag_ms.store(lag, Ordering::Relaxed);
        last_commit
            .at_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    };
    let mut closed = false;
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job {
                Some(job) => job,
                None => break,
            },
            _ = closing.notified(), if !closed => {
                // Refuses new batches; `recv` still hands out the queued ones, then ends.
                rx.close();
                closed = true;
                continue;
            }
        };
        let mut events = first.write.len();
        let mut jobs = vec![first];
        while events < MAX_GROUP_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.write.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let group: Vec<&IngestWrite> = jobs.iter().map(|j| &j.write).collect();
        let started = Instant::now();
        let outcome = store.write_ingest_group(&group).await;
        if outcome.is_ok() {
            let elapsed = started.elapsed();
            for o in observers.iter() {
                o.group_committed(elapsed);
            }
        }
        match outcome {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    record(&job);
                    let Job { write, reply, .. } = job;
                    if !observers.is_empty() {
                        observe(&observers, &Arc::new(write), &result);
                    }
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One bad batch must not sink the others: write each on its own.
                tracing::warn!(error = %e, batches = jobs.len(), "group commit failed, writing batches one by one");
                for job in jobs {
                    let started = Instant::now();
                    let result = store.write_ingest_group(&[&job.write]).await;
                    if let Ok(Some(written)) = result.as_ref().map(|r| r.first()) {
                        let elapsed = started.elapsed();
                        for o in observers.iter() {
                            o.group_committed(elapsed);
                        }
                        record(&job);
                        observe(&observers, &Arc::new(job.write.clone()), written);
                    }
                    let _ = job
                        .reply
                        .send(result.map(|mut r| r.remove(0)).map_err(|e| e.to_string()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "ingest write failed");
                for job in jobs {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
