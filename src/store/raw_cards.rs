//! The dashboard's main figures computed straight from `request_log`, without rollups:
//! the baseline the dashboard benchmark compares the rollups against, and a check of
//! them in tests. Never used to serve pages.

use sightline_app::units::{EpochMillis, Micros};
use sqlx::FromRow;

use super::{StatusCount, Store, StoreError};

/// What the raw scan yields for a range (a subset of the report's cards, all exact).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawCards {
    pub per_bucket: Vec<RawBucket>,
    pub requests: i64,
    pub errors: i64,
    pub latency_sum_ms: f64,
    pub tokens: i64,
    pub cost_micros: Micros,
    pub p95_latency_ms: Option<f64>,
    pub statuses: Vec<StatusCount>,
    pub models: Vec<RawModel>,
    pub countries: Vec<RawCountry>,
    pub active_users: i64,
    pub top_users: Vec<RawUserCost>,
}

/// Served requests and errors of one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromRow)]
pub struct RawBucket {
    pub bucket_start: EpochMillis,
    pub requests: i64,
    pub errors: i64,
}

/// Served requests and cost of one model (`None`: no model).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RawModel {
    pub model_name: Option<String>,
    pub requests: i64,
    pub cost_micros: Micros,
}

/// Served requests of one country (`None`: unknown).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RawCountry {
    pub country: Option<String>,
    pub requests: i64,
}

/// The cost of one user's served requests.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RawUserCost {
    pub user_id: String,
    pub cost_micros: Micros,
}

/// The range's totals, in one row.
#[derive(FromRow)]
struct RawTotals {
    requests: i64,
    errors: i64,
    latency_sum_ms: f64,
    tokens: i64,
    cost_micros: Micros,
    active_users: i64,
}

const SERVED: &str = "kind = 'api' AND created_at >= $1 AND created_at < $2";

impl Store {
    /// Scans the served requests of `[start, end)` for the dashboard's main figures.
    pub async fn raw_cards(
        &self,
        start: i64,
        end: i64,
        bucket_ms: i64,
    ) -> Result<RawCards, StoreError> {
        let p = &self.pool;
        let per_bucket = sqlx::query_as(&format!(
            "SELECT (created_at / $3) * $3 AS bucket_start, COUNT(*) AS requests, \
                    CAST(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors \
             FROM request_log WHERE {SERVED} GROUP BY bucket_start ORDER BY bucket_start"
        ))
        .bind(start)
        .bind(end)
        .bind(bucket_ms)
        .fetch_all(p)
        .await?;
        let totals: RawTotals = sqlx::query_as(&format!(
            "SELECT COUNT(*) AS requests, \
                    CAST(COALESCE(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
                    CAST(COALESCE(SUM(latency_ms), 0) AS DOUBLE PRECISION) AS latency_sum_ms, \
                    CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT) AS tokens, \
                    CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS cost_micros, \
                    COUNT(DISTINCT user_id) AS active_users \
             FROM request_log WHERE {SERVED}"
        ))
        .bind(start)
        .bind(end)
        .fetch_one(p)
        .await?;
        let requests = totals.requests;
        let p95_latency_ms = if requests > 0 {
            let rank = ((0.95 * requests as f64).ceil() as i64).max(1);
            Some(
                sqlx::query_scalar(&format!(
                    "SELECT latency_ms FROM request_log WHERE {SERVED} ORDER BY latency_ms LIMIT 1 OFFSET $3"
                ))
                .bind(start)
                .bind(end)
                .bind(rank - 1)
                .fetch_one(p)
                .await?,
            )
        } else {
            None
        };
        let statuses = sqlx::query_as(&format!(
            "SELECT status_code, COUNT(*) AS requests FROM request_log WHERE {SERVED} \
             GROUP BY status_code"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let models = sqlx::query_as(&format!(
            "SELECT model_name, COUNT(*) AS requests, CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
             FROM request_log WHERE {SERVED} GROUP BY model_name"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let countries = sqlx::query_as(&format!(
            "SELECT country, COUNT(*) AS requests FROM request_log WHERE {SERVED} \
             GROUP BY country ORDER BY requests DESC LIMIT 10"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let top_users = sqlx::query_as(&format!(
            "SELECT user_id, CAST(SUM(cost_micros) AS BIGINT) AS cost_micros FROM request_log \
             WHERE {SERVED} AND user_id IS NOT NULL GROUP BY user_id ORDER BY cost_micros DESC LIMIT 10"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        Ok(RawCards {
            per_bucket,
            requests,
            errors: totals.errors,
            latency_sum_ms: totals.latency_sum_ms,
            tokens: totals.tokens,
            cost_micros: totals.cost_micros,
            p95_latency_ms,
            statuses,
            models,
            countries,
            active_users: totals.active_users,
            top_users,
        })
    }
}
