//! The ingest write queue with group commit: API calls hand their valid events to one
//! writer task; whatever has queued up while it committed goes into its next
//! transaction, so concurrent batches share a commit. A call is answered only after
//! the commit of its events. No timer: an idle writer commits a lone batch at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::store::{IngestWrite, IngestWritten, Store};

/// Most events one transaction takes; more wait for the next.
const MAX_GROUP_EVENTS: usize = 50_000;

struct Job {
    write: IngestWrite,
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
    depth: Arc<AtomicUsize>,
    capacity: usize,
}

impl IngestQueue {
    /// Starts the writer on `store`; `capacity` batches may wait at most. The writer
    /// ends once every clone of the queue is dropped and the queue is drained.
    pub fn start(store: Store, capacity: usize) -> (IngestQueue, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        let writer = tokio::spawn(run_writer(store, rx, depth.clone()));
        (
            IngestQueue {
                tx,
                depth,
                capacity: capacity.max(1),
            },
            writer,
        )
    }

    /// Queues `write` and waits until it is committed.
    pub async fn submit(&self, write: IngestWrite) -> Result<IngestWritten, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job { write, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::Full,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
            })?;
        self.depth.fetch_add(1, Ordering::Relaxed);
        match answer.await {
            Ok(result) => result.map_err(SubmitError::Failed),
            Err(_) => Err(SubmitError::Failed("the writer stopped".into())),
        }
    }

    /// Batches waiting to be written.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Whether the queue is so full that new batches are likely refused.
    pub fn is_saturated(&self) -> bool {
        self.depth() >= self.capacity
    }
}

async fn run_writer(store: Store, mut rx: mpsc::Receiver<Job>, depth: Arc<AtomicUsize>) {
    while let Some(first) = rx.recv().await {
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
        depth.fetch_sub(jobs.len(), Ordering::Relaxed);
        let group: Vec<&IngestWrite> = jobs.iter().map(|j| &j.write).collect();
        match store.write_ingest_group(&group).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One bad batch must not sink the others: write each on its own.
                tracing::warn!(error = %e, batches = jobs.len(), "group commit failed, writing batches one by one");
                for job in jobs {
                    let result = store.write_ingest_group(&[&job.write]).await;
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
