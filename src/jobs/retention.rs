//! Retention: rows older than the retention in force are deleted a small batch at a
//! time, each batch its own short write transaction, so ingest batches commit in
//! between and never wait long. What goes, with `cutoff` = now minus the retention:
//!
//! | rows | deleted when |
//! | --- | --- |
//! | raw requests, auth events, OTLP span links | created before the cutoff |
//! | resolved threats | raised, last seen and resolved before the cutoff (open ones stay) |
//! | sessions | last seen more than one inactivity gap (30 min) before the cutoff |
//! | platform users | last seen before the cutoff |
//! | per-user rollups | hourly: before the cutoff and the 7-day range's previous period; daily: before the cutoff and the 3-month range's previous period |
//! | error-group rollups | as the per-user rollups |
//! | error groups (pattern, example) | last seen before the cutoff and the 3-month range's previous period, once no rollup row counts them |
//! | resolved alerts | fired and resolved before the cutoff |
//! | ratings | created and last changed before the cutoff |
//!
//! Every other rollup and the model stats are kept, and the per-user rollups as long as
//! a preset range (or the period it is compared with) reaches back: the dashboard's
//! figures do not change. A session kept a gap longer than the cutoff can still be
//! extended by a late request of its user, as it would have been.
//!
//! `serve` runs it shortly after start-up and then every hour; `sightline prune` runs
//! it once.

use std::time::{Duration, Instant};

use sightline_app::range::{RangeKind, TimeRange};
use sightline_app::units::EpochMillis;
use tokio::task::JoinHandle;

use crate::rollup::sessions::SESSION_GAP_MS;
use crate::store::{Prunable, PruneCursor, Store, StoreError};

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
    /// Rows older than this instant (epoch ms) are the ones pruned.
    pub cutoff: i64,
    pub requests: u64,
    pub auth_events: u64,
    /// Audit trail entries.
    pub audit: u64,
    pub threats: u64,
    pub sessions: u64,
    pub users: u64,
    /// Rows of users' provider costs.
    pub provider_costs: u64,
    /// Hourly and daily rows of the per-user rollup.
    pub user_rollups: u64,
    pub alerts: u64,
    pub ratings: u64,
    /// Span links of OTLP exports (`otlp_span`).
    pub trace_spans: u64,
    /// Hourly and daily rows of the error-group rollup.
    pub error_rollups: u64,
    /// Error groups (`error_group`).
    pub error_groups: u64,
    /// Write transactions it took.
    pub batches: u64,
}

impl PruneReport {
    fn add(&mut self, what: Prunable, rows: u64) {
        let count = match what {
            Prunable::Requests => &mut self.requests,
            Prunable::AuthEvents => &mut self.auth_events,
            Prunable::AuditLog => &mut self.audit,
            Prunable::TraceSpans => &mut self.trace_spans,
            Prunable::ResolvedThreats => &mut self.threats,
            Prunable::Sessions => &mut self.sessions,
            Prunable::Users => &mut self.users,
            Prunable::UserProviderCosts => &mut self.provider_costs,
            Prunable::HourlyUserRollups | Prunable::DailyUserRollups => &mut self.user_rollups,
            Prunable::ResolvedAlerts => &mut self.alerts,
            Prunable::Ratings => &mut self.ratings,
            Prunable::HourlyErrorRollups | Prunable::DailyErrorRollups => &mut self.error_rollups,
            Prunable::ErrorGroups => &mut self.error_groups,
        };
        *count += rows;
    }
}

/// The instant rows of `what` are pruned before, for a `cutoff` at `now`.
pub fn pruned_before(what: Prunable, cutoff: i64, now: i64) -> i64 {
    // The oldest bucket a preset range compares with: its previous period's start.
    let compared_from = |kind| TimeRange::preset(kind, EpochMillis(now)).previous().start;
    match what {
        Prunable::Sessions => cutoff - SESSION_GAP_MS,
        Prunable::HourlyUserRollups | Prunable::HourlyErrorRollups => {
            cutoff.min(compared_from(RangeKind::Week).ms())
        }
        Prunable::DailyUserRollups | Prunable::DailyErrorRollups | Prunable::ErrorGroups => {
            cutoff.min(compared_from(RangeKind::Quarter).ms())
        }
        _ => cutoff,
    }
}

/// Deletes what is older than `cutoff` (each kind by its rule), batch by batch. Raw
/// requests before `cutoff` are recorded as pruned first: from then on ingest refuses
/// events that old, which could be replays it cannot recognise any more.
pub async fn prune(
    store: &Store,
    cutoff: i64,
    options: PruneOptions,
) -> Result<PruneReport, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    store.raise_pruned_before(cutoff, now).await?;
    let mut report = PruneReport {
        cutoff,
        ..PruneReport::default()
    };
    for what in Prunable::ALL {
        let before = pruned_before(what, cutoff, now);
        let mut cursor = PruneCursor::default();
        loop {
            let batch_started = Instant::now();
            let batch = store
                .delete_batch_before(what, before, &mut cursor, options.batch_rows)
                .await?;
            report.batches += 1;
            report.add(what, batch.deleted);
            if batch.done {
                break;
            }
            tokio::time::sleep(options.pause.max(batch_started.elapsed())).await;
        }
    }
    Ok(report)
}

/// What [`prune`] would delete, without deleting anything.
pub async fn dry_run(store: &Store, cutoff: i64) -> Result<PruneReport, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut report = PruneReport {
        cutoff,
        ..PruneReport::default()
    };
    for what in Prunable::ALL {
        let rows = store
            .count_before(what, pruned_before(what, cutoff, now))
            .await?;
        report.add(what, rows);
    }
    Ok(report)
}

/// One run of the hourly job: deletes the expired dashboard sign-ins, then prunes with
/// the retention in force (the admin's setting, else `default_days`).
pub async fn run_once(store: &Store, default_days: u32) -> Result<(), StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let expired = crate::store::WebSessionStore::new(store.clone())
        .delete_expired(now)
        .await?;
    tracing::info!(expired, "retention: deleted expired web sessions");
    let policy = store.retention_policy(default_days).await?;
    let started = Instant::now();
    let report = prune(store, policy.cutoff(now), PruneOptions::default()).await?;
    tracing::info!(
        days = policy.days,
        cutoff = report.cutoff,
        requests = report.requests,
        auth_events = report.auth_events,
        audit = report.audit,
        trace_spans = report.trace_spans,
        threats = report.threats,
        sessions = report.sessions,
        users = report.users,
        provider_costs = report.provider_costs,
        user_rollups = report.user_rollups,
        error_rollups = report.error_rollups,
        error_groups = report.error_groups,
        alerts = report.alerts,
        ratings = report.ratings,
        batches = report.batches,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "retention: pruned rows older than the retention"
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
