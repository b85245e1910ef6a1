//! Reading the rollups: what the dashboard's cards are made of. Every query here reads
//! one row per bucket (and per model, country, … where the card is per dimension),
//! never the raw request rows. Buckets are those with `start <= bucket_start < end`.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError, map_rows};
use crate::rollup::Sums;

/// One bucket of the traffic rollup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficBucket {
    pub bucket_start: i64,
    pub sums: Sums,
    pub sessions_started: i64,
    pub new_users: i64,
}

/// One row of `model_usage_stats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelUsage {
    pub day: i64,
    pub model_name: String,
    pub requests: i64,
    pub successes: i64,
    pub failures: i64,
    pub latency_sum_us: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

impl Store {
    /// The traffic rollup at grain `bucket_ms`, oldest bucket first; empty buckets are absent.
    pub async fn traffic(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<TrafficBucket>, StoreError> {
        let rows = sqlx::query(
            "SELECT bucket_start, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, \
                    cost_micros, sessions_started, new_users \
             FROM rollup_traffic WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start",
        )
        .bind(bucket_ms)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| {
            Ok(TrafficBucket {
                bucket_start: r.try_get(0)?,
                sums: Sums {
                    requests: r.try_get(1)?,
                    errors: r.try_get(2)?,
                    latency_sum_us: r.try_get(3)?,
                    prompt_tokens: r.try_get(4)?,
                    completion_tokens: r.try_get(5)?,
                    cost_micros: r.try_get(6)?,
                },
                sessions_started: r.try_get(7)?,
                new_users: r.try_get(8)?,
            })
        })
    }

    /// The latency histogram as `(bucket_start, bin, requests)`, for percentiles per
    /// bucket or, merged, over the whole range (see [`crate::rollup::histogram`]).
    pub async fn latency_bins(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, i32, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT bucket_start, bin, requests FROM rollup_latency \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start, bin",
        )
        .bind(bucket_ms)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    }

    /// Per-day model stats of the days `first_day <= day < end_day`, by day then model.
    pub async fn model_usage(
        &self,
        first_day: i64,
        end_day: i64,
    ) -> Result<Vec<ModelUsage>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, model_name, requests, successes, failures, latency_sum_us, prompt_tokens, \
                    completion_tokens, cost_micros \
             FROM model_usage_stats WHERE day >= $1 AND day < $2 ORDER BY day, model_name",
        )
        .bind(first_day)
        .bind(end_day)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| {
            Ok(ModelUsage {
                day: r.try_get(0)?,
                model_name: r.try_get(1)?,
                requests: r.try_get(2)?,
                successes: r.try_get(3)?,
                failures: r.try_get(4)?,
                latency_sum_us: r.try_get(5)?,
                prompt_tokens: r.try_get(6)?,
                completion_tokens: r.try_get(7)?,
                cost_micros: r.try_get(8)?,
            })
        })
    }

    /// Every row of every derived table as text, sorted, surrogate ids left out: two
    /// snapshots are equal exactly when the derived data is.
    pub async fn derived_snapshot(
        &self,
    ) -> Result<BTreeMap<&'static str, Vec<String>>, StoreError> {
        let mut snapshot = BTreeMap::new();
        for (table, columns) in super::rollups::DERIVED_TABLES {
            let text = columns
                .iter()
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = sqlx::query(&format!("SELECT {text} FROM {table}"))
                .fetch_all(&self.pool)
                .await?;
            let mut lines = rows
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?;
            lines.sort();
            snapshot.insert(table, lines);
        }
        Ok(snapshot)
    }
}
