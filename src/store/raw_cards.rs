//! The dashboard's main figures computed straight from `request_log`, without rollups:
//! the baseline the dashboard benchmark compares the rollups against, and a check of
//! them in tests. Never used to serve pages.

use sqlx::Row;

use super::{Store, StoreError, map_rows};

/// What the raw scan yields for a range (a subset of the report's cards, all exact).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawCards {
    pub per_bucket: Vec<(i64, i64, i64)>,
    pub requests: i64,
    pub errors: i64,
    pub latency_sum_ms: f64,
    pub tokens: i64,
    pub cost_micros: i64,
    pub p95_latency_ms: Option<f64>,
    pub statuses: Vec<(i32, i64)>,
    pub models: Vec<(Option<String>, i64, i64)>,
    pub countries: Vec<(Option<String>, i64)>,
    pub active_users: i64,
    pub top_users: Vec<(String, i64)>,
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
        let per_bucket = sqlx::query(&format!(
            "SELECT (created_at / $3) * $3 AS b, COUNT(*), \
                    CAST(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM request_log WHERE {SERVED} GROUP BY b ORDER BY b"
        ))
        .bind(start)
        .bind(end)
        .bind(bucket_ms)
        .fetch_all(p)
        .await?;
        let totals = sqlx::query(&format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(latency_ms), 0) AS DOUBLE PRECISION), \
                    CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), COUNT(DISTINCT user_id) \
             FROM request_log WHERE {SERVED}"
        ))
        .bind(start)
        .bind(end)
        .fetch_one(p)
        .await?;
        let requests: i64 = totals.try_get(0)?;
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
        let statuses = sqlx::query(&format!(
            "SELECT status_code, COUNT(*) FROM request_log WHERE {SERVED} GROUP BY status_code"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let models = sqlx::query(&format!(
            "SELECT model_name, COUNT(*), CAST(SUM(cost_micros) AS BIGINT) FROM request_log WHERE {SERVED} \
             GROUP BY model_name"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let countries = sqlx::query(&format!(
            "SELECT country, COUNT(*) AS n FROM request_log WHERE {SERVED} GROUP BY country ORDER BY n DESC LIMIT 10"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        let top_users = sqlx::query(&format!(
            "SELECT user_id, CAST(SUM(cost_micros) AS BIGINT) AS c FROM request_log \
             WHERE {SERVED} AND user_id IS NOT NULL GROUP BY user_id ORDER BY c DESC LIMIT 10"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(p)
        .await?;
        Ok(RawCards {
            per_bucket: map_rows(&per_bucket, |r| {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })?,
            requests,
            errors: totals.try_get(1)?,
            latency_sum_ms: totals.try_get(2)?,
            tokens: totals.try_get(3)?,
            cost_micros: totals.try_get(4)?,
            p95_latency_ms,
            statuses: map_rows(&statuses, |r| Ok((r.try_get(0)?, r.try_get(1)?)))?,
            models: map_rows(&models, |r| {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })?,
            countries: map_rows(&countries, |r| Ok((r.try_get(0)?, r.try_get(1)?)))?,
            active_users: totals.try_get(5)?,
            top_users: map_rows(&top_users, |r| Ok((r.try_get(0)?, r.try_get(1)?)))?,
        })
    }
}
