//! Retention: raw requests and auth events older than the retention in force are
//! deleted a small batch at a time, each batch its own short write transaction, so
//! ingest batches commit in between and never wait long. Rollups, model stats,
//! sessions, users, threats and feedback are kept: the dashboard's totals do not change.
//!
//! `serve` runs it shortly after start-up and then every hour; `sightline prune` runs
//! it once.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::store::{RawTable, Store, StoreError};

/// Rows deleted per transaction: a few milliseconds of write lock.
pub const BATCH_ROWS: i64 = 5_000;
/// Shortest pause between batches, so a waiting ingest writer takes the lock first
/// (SQLite's busy handler polls rather than queues). The pause is at least as long as
/// the batch took, so the prune holds the write lock at most half of the time.
pub const BATCH_PAUSE: Duration = Duration::from_millis(20);
/// The first run waits this long after start-up (migrations, demo seeding, the first
/// ingest batches go first).
const FIRST_RUN_AFTER: Duration = Duration::from_secs(30);
/// Then it runs this often.
const EVERY: Duration = Duration::from_secs(3_600);

/// How a prune goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PruneOptions {
    pub batch_rows: i64,
    pub pause: Duration,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            batch_rows: BATCH_ROWS,
            pause: BATCH_PAUSE,
        }
    }
}

/// What a prune deleted (or, for a dry run, would delete).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Raw rows created before this instant (epoch ms) are the ones pruned.
    pub cutoff: i64,
    pub requests: u64,
    pub auth_events: u64,
    /// Span links of OTLP exports (`otlp_span`).
    pub trace_spans: u64,
    /// Write transactions it took.
    pub batches: u64,
}

/// Deletes raw requests and auth events created before `cutoff`, batch by batch.
pub async fn prune(
    store: &Store,
    cutoff: i64,
    options: PruneOptions,
) -> Result<PruneReport, StoreError> {
    let mut report = PruneReport {
        cutoff,
        ..PruneReport::default()
    };
    for table in [
        RawTable::Requests,
        RawTable::AuthEvents,
        RawTable::TraceSpans,
    ] {
        loop {
            let batch_started = Instant::now();
            let deleted = store
                .delete_batch_before(table, cutoff, options.batch_rows)
                .await?;
            report.batches += 1;
            match table {
                RawTable::Requests => report.requests += deleted,
                RawTable::AuthEvents => report.auth_events += deleted,
                RawTable::TraceSpans => report.trace_spans += deleted,
            }
            if deleted < options.batch_rows.max(1) as u64 {
                break;
            }
            tokio::time::sleep(options.pause.max(batch_started.elapsed())).await;
        }
    }
    Ok(report)
}

/// What [`prune`] would delete, without deleting anything.
pub async fn dry_run(store: &Store, cutoff: i64) -> Result<PruneReport, StoreError> {
    Ok(PruneReport {
        cutoff,
        requests: store.count_before(RawTable::Requests, cutoff).await?,
        auth_events: store.count_before(RawTable::AuthEvents, cutoff).await?,
        trace_spans: store.count_before(RawTable::TraceSpans, cutoff).await?,
        batches: 0,
    })
}

/// Prunes with the retention in force (the admin's setting, else `default_days`).
async fn run_once(store: &Store, default_days: u32) -> Result<(), StoreError> {
    let policy = store.retention_policy(default_days).await?;
    let started = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let report = prune(store, policy.cutoff(now), PruneOptions::default()).await?;
    tracing::info!(
        days = policy.days,
        cutoff = report.cutoff,
        requests = report.requests,
        auth_events = report.auth_events,
        trace_spans = report.trace_spans,
        batches = report.batches,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "retention: pruned raw rows older than the retention"
    );
    Ok(())
}

/// Runs the prune in the background: after a short delay, then every hour. A failed
/// run is logged and tried again at the next hour. Abort the handle to stop it.
pub fn spawn(store: Store, default_days: u32) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_RUN_AFTER).await;
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = run_once(&store, default_days).await {
                tracing::warn!(error = %e, "retention: prune failed; trying again in an hour");
            }
        }
    })
}
