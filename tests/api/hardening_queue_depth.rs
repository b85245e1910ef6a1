//! Hardening: the write queue's depth (the `sightline_ingest_queue_depth` gauge, the
//! health report and readiness) never goes below zero (issue 15, item 16). It used to
//! be counted apart from the queue, and the writer could take a batch off before its
//! submitter had counted it in: the unsigned count wrapped around to 2^64 - 1, and the
//! queue looked full for a moment. Many submitters race the writer here while a
//! thread watches the depth, for a few seconds or until the depth reads wrong. The race
//! needs the writer to take a batch within nanoseconds of its submission, so on the old
//! code this catches it most runs, not every run; the fixed code never reads wrong.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use sightline::ingest::IngestQueue;
use sightline::store::IngestWrite;

const CAPACITY: usize = 64;
/// How long the submitters race the writer.
const RACE_FOR: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queue_depth_stays_within_zero_and_the_capacity() {
    let db = TestDb::new(Backend::Sqlite).await;
    let (queue, writer) = IngestQueue::start(db.store.clone(), CAPACITY);
    let stop = Arc::new(AtomicBool::new(false));
    let worst = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (queue, stop, worst) = (queue.clone(), stop.clone(), worst.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if worst.fetch_max(queue.depth(), Ordering::Relaxed) > CAPACITY {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        })
    };
    let deadline = Instant::now() + RACE_FOR;
    let submitters: Vec<_> = (0..32)
        .map(|_| {
            let (queue, stop) = (queue.clone(), stop.clone());
            tokio::spawn(async move {
                let mut stored = 0;
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                    // An empty batch still goes through the writer and its commit.
                    if queue.submit(IngestWrite::default()).await.is_ok() {
                        stored += 1;
                    }
                }
                stored
            })
        })
        .collect();
    let mut stored = 0;
    for s in submitters {
        stored += s.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let worst = worst.load(Ordering::Relaxed);
    assert!(
        worst <= CAPACITY,
        "the depth read {worst} with a capacity of {CAPACITY}"
    );
    assert_eq!(queue.depth(), 0);
    assert!(stored > 0);
    drop(queue);
    writer.await.unwrap();
    db.drop_database().await;
}
