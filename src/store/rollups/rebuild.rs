//! The derived tables as a whole: which they are, emptying them with the traffic data,
//! rebuilding them from the raw rows, and a snapshot of them for tests.

use std::collections::BTreeMap;

use sqlx::FromRow;

use super::apply::{add_feedback_rating, apply_requests};
use crate::store::{NewRequest, Store, StoreError};

/// Tables derived from `request_log` (and `feedback_log`, `auth_event`), each with its columns but
/// the surrogate id: emptied and recomputed by a rebuild, compared by tests.
const DERIVED_TABLES: [(&str, &[&str]); 19] = [
    (
        "rollup_latency_quantiles",
        &["bucket_ms", "bucket_start", "p50_bin", "p95_bin", "p99_bin"],
    ),
    (
        "rollup_traffic",
        &[
            "bucket_ms",
            "bucket_start",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "sessions_started",
            "new_users",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_latency",
        &["bucket_ms", "bucket_start", "bin", "requests"],
    ),
    (
        "rollup_status",
        &["bucket_ms", "bucket_start", "status_code", "requests"],
    ),
    (
        "rollup_model",
        &[
            "bucket_ms",
            "bucket_start",
            "model_name",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_country",
        &["bucket_ms", "bucket_start", "country", "requests", "errors"],
    ),
    (
        "rollup_user",
        &[
            "bucket_ms",
            "bucket_start",
            "user_id",
            "requests",
            "errors",
            "tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "rollup_endpoint",
        &[
            "bucket_ms",
            "bucket_start",
            "endpoint",
            "requests",
            "errors",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
        ],
    ),
    (
        "rollup_endpoint_latency",
        &["bucket_ms", "bucket_start", "endpoint", "bin", "requests"],
    ),
    (
        "rollup_service",
        &[
            "bucket_ms",
            "bucket_start",
            "service",
            "requests",
            "errors",
            "latency_sum_us",
            "cost_micros",
            "prompt_tokens",
            "completion_tokens",
        ],
    ),
    (
        "rollup_service_latency",
        &["bucket_ms", "bucket_start", "service", "bin", "requests"],
    ),
    (
        "rollup_feedback",
        &["bucket_ms", "bucket_start", "rating", "ratings"],
    ),
    (
        "user_provider_cost",
        &[
            "user_id",
            "service",
            "calls",
            "errors",
            "tokens",
            "cost_micros",
        ],
    ),
    (
        "rollup_auth",
        &[
            "bucket_ms",
            "bucket_start",
            "event_type",
            "events",
            "failures",
        ],
    ),
    (
        "rollup_error",
        &[
            "bucket_ms",
            "bucket_start",
            "fingerprint",
            "endpoint",
            "status_code",
            "requests",
            "first_seen_at",
            "last_seen_at",
        ],
    ),
    (
        "error_group",
        &[
            "fingerprint",
            "pattern",
            "example",
            "first_seen_at",
            "last_seen_at",
        ],
    ),
    (
        "model_usage_stats",
        &[
            "day",
            "model_name",
            "requests",
            "successes",
            "failures",
            "latency_sum_us",
            "prompt_tokens",
            "completion_tokens",
            "cost_micros",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "user_session",
        &[
            "session_key",
            "user_id",
            "inferred",
            "started_at",
            "last_seen_at",
            "request_count",
            "error_count",
            "tokens",
            "cost_micros",
            "ip",
            "user_agent",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
    (
        "tracked_user",
        &[
            "user_id",
            "first_seen_at",
            "last_seen_at",
            "requests",
            "errors",
            "tokens",
            "cost_micros",
            "open_session_key",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        ],
    ),
];

/// A rating, as the feedback rollup counts it.
#[derive(FromRow)]
struct Rating {
    created_at: i64,
    rating: i32,
}

impl Store {
    /// Deletes all traffic data: requests, feedback, threats, auth events, alerts and
    /// everything derived from them. Accounts, API keys, prices and settings stay.
    pub async fn clear_traffic_data(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for table in [
            "request_log",
            "feedback_log",
            "threat_log",
            "auth_event",
            "alerts",
            "otlp_span",
        ]
        .into_iter()
        .chain(DERIVED_TABLES.iter().map(|(t, _)| *t))
        {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether no request has been stored yet.
    pub async fn has_no_requests(&self) -> Result<bool, StoreError> {
        let any = sqlx::query("SELECT 1 FROM request_log LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_none())
    }

    /// The start of the oldest hourly rollup when it is older than the oldest raw
    /// request (raw rows were pruned, their rollups kept): a rebuild would lose it.
    pub async fn rollups_older_than_raw(&self) -> Result<Option<i64>, StoreError> {
        let oldest_rollup: Option<i64> =
            sqlx::query_scalar("SELECT MIN(bucket_start) FROM rollup_traffic WHERE bucket_ms = $1")
                .bind(sightline_app::time::HOUR_MS)
                .fetch_one(&self.pool)
                .await?;
        let oldest_raw: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM request_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(match (oldest_rollup, oldest_raw) {
            (Some(r), Some(raw))
                if r < sightline_app::time::floor_ms(raw, sightline_app::time::HOUR_MS) =>
            {
                Some(r)
            }
            (Some(r), None) => Some(r),
            _ => None,
        })
    }

    /// Recomputes every rollup, session, user and model stat from the raw rows, in
    /// arrival order, through the same code the ingest uses. `progress` is told how
    /// many requests are done out of how many. Returns the number of requests replayed.
    pub async fn rebuild_rollups(
        &self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64, StoreError> {
        const PAGE: i64 = 5_000;
        let mut tx = self.begin_write().await?;
        for (table, _) in DERIVED_TABLES {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_log")
            .fetch_one(&mut *tx)
            .await?;
        let mut done = 0u64;
        let mut pages = crate::store::requests::RequestPages::new("", "TRUE");
        loop {
            let rows = pages.next(&mut tx, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let requests = rows
                .iter()
                .map(crate::store::requests::request_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&NewRequest> = requests.iter().collect();
            apply_requests(&mut tx, &refs).await?;
            done += requests.len() as u64;
            progress(done, total as u64);
        }
        let ratings: Vec<Rating> = sqlx::query_as("SELECT created_at, rating FROM feedback_log")
            .fetch_all(&mut *tx)
            .await?;
        for r in ratings {
            add_feedback_rating(&mut tx, r.created_at, r.rating, 1).await?;
        }
        crate::store::auth_events::rebuild_auth_rollup_in(&mut tx).await?;
        crate::store::error_groups::rebuild_error_groups_in(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Every row of every derived table as text, sorted, surrogate ids left out: two
    /// snapshots are equal exactly when the derived data is.
    pub async fn derived_snapshot(
        &self,
    ) -> Result<BTreeMap<&'static str, Vec<String>>, StoreError> {
        let mut snapshot = BTreeMap::new();
        for (table, columns) in DERIVED_TABLES {
            let text = columns
                .iter()
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let mut lines: Vec<String> = sqlx::query_scalar(&format!("SELECT {text} FROM {table}"))
                .fetch_all(&self.pool)
                .await?;
            lines.sort();
            snapshot.insert(table, lines);
        }
        Ok(snapshot)
    }
}
