//! The card queries: traffic, latency, statuses, models, countries, users, ratings,
//! threats and alerts of a range of buckets, each decoded by column name.

use sightline_app::report::{AlertRow, ThreatRow};
use sightline_app::units::{EpochMillis, Micros};
use sightline_tracker::wire::Severity;
use sqlx::FromRow;

use super::spans::{Buckets, bind_spans, span_rows};
use crate::rollup::Sums;
use crate::store::dimensions::BucketCost;
use crate::store::threats::{THREAT_ROW_COLUMNS, ThreatRecord};
use crate::store::{Store, StoreError};

/// One bucket of the traffic rollup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromRow)]
pub struct TrafficBucket {
    /// The range's start in its totals (which select no bucket).
    #[sqlx(default)]
    pub bucket_start: EpochMillis,
    #[sqlx(flatten)]
    pub sums: Sums,
    pub sessions_started: i64,
    pub new_users: i64,
}

/// One row of `model_usage_stats`.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ModelUsage {
    pub day: EpochMillis,
    pub model_name: String,
    pub requests: i64,
    pub successes: i64,
    pub failures: i64,
    pub latency_sum_us: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
}

/// Requests in one bin of the latency histogram, of a bucket or (merged) of a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct LatencyBin {
    /// The bucket's start; 0 in a range's merged histogram.
    #[sqlx(default)]
    pub bucket_start: EpochMillis,
    pub bin: i32,
    pub requests: i64,
}

/// The bins holding a bucket's p50, p95 and p99 (kept at ingest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct QuantileBins {
    pub bucket_start: EpochMillis,
    pub p50_bin: i32,
    pub p95_bin: i32,
    pub p99_bin: i32,
}

/// Requests answered with one status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct StatusCount {
    pub status_code: i32,
    pub requests: i64,
}

/// One model's sums (`""` for requests without a model).
#[derive(Clone, Debug, Default, PartialEq, Eq, FromRow)]
pub struct ModelTotals {
    pub model_name: String,
    #[sqlx(flatten)]
    pub sums: Sums,
}

/// One country's requests and errors (`""` when unknown).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct CountryTotals {
    pub country: String,
    pub requests: i64,
    pub errors: i64,
}

/// What one platform user spent.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserCost {
    pub user_id: String,
    pub requests: i64,
    pub tokens: i64,
    pub cost_micros: Micros,
}

/// Threats of one severity.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SeverityCount {
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    pub threats: i64,
}

/// The ratings given with one rating.
#[derive(FromRow)]
struct RatingCount {
    rating: i32,
    ratings: i64,
}

/// The columns of an [`AlertRow`], as [`AlertRecord`] names them.
const ALERT_ROW_COLUMNS: &str = "id, rule, severity, title, description, endpoint, fired_at";

/// A row of [`ALERT_ROW_COLUMNS`].
#[derive(FromRow)]
struct AlertRecord {
    id: i64,
    rule: String,
    #[sqlx(try_from = "String")]
    severity: Severity,
    title: String,
    description: String,
    endpoint: Option<String>,
    fired_at: EpochMillis,
}

impl From<AlertRecord> for AlertRow {
    fn from(r: AlertRecord) -> AlertRow {
        AlertRow {
            id: r.id,
            rule: r.rule,
            severity: r.severity,
            title: r.title,
            description: r.description,
            endpoint: r.endpoint,
            fired_at: r.fired_at,
        }
    }
}

/// The traffic sums as [`Sums`] and [`TrafficBucket`] name them, over the buckets.
const TRAFFIC_TOTALS: &str = "CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS requests, \
    CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, \
    CAST(COALESCE(SUM(latency_sum_us), 0) AS BIGINT) AS latency_sum_us, \
    CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
    CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
    CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS cost_micros, \
    CAST(COALESCE(SUM(sessions_started), 0) AS BIGINT) AS sessions_started, \
    CAST(COALESCE(SUM(new_users), 0) AS BIGINT) AS new_users, \
    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens, \
    CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens, \
    CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens";

/// The sums of the model rollup as [`Sums`] names them, over the spans.
const MODEL_SUMS: &str = "CAST(SUM(requests) AS BIGINT) AS requests, \
    CAST(SUM(errors) AS BIGINT) AS errors, \
    CAST(SUM(latency_sum_us) AS BIGINT) AS latency_sum_us, \
    CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
    CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, \
    CAST(SUM(cost_micros) AS BIGINT) AS cost_micros, \
    CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read_tokens, \
    CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write_tokens, \
    CAST(SUM(reasoning_tokens) AS BIGINT) AS reasoning_tokens";

impl Store {
    /// The traffic rollup of the buckets, oldest bucket first; empty buckets are absent.
    pub async fn traffic(&self, buckets: Buckets) -> Result<Vec<TrafficBucket>, StoreError> {
        self.over_buckets(
            "SELECT bucket_start, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, \
                    cost_micros, sessions_started, new_users, cache_read_tokens, cache_write_tokens, \
                    reasoning_tokens \
             FROM rollup_traffic WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start",
            buckets,
        )
        .await
    }

    /// The latency histogram of every bucket, for percentiles per bucket or, merged,
    /// over the whole range (see [`crate::rollup::histogram`]).
    pub async fn latency_bins(&self, buckets: Buckets) -> Result<Vec<LatencyBin>, StoreError> {
        self.over_buckets(
            "SELECT bucket_start, bin, requests FROM rollup_latency \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start, bin",
            buckets,
        )
        .await
    }

    /// Per-day model stats of the days `first_day <= day < end_day`, by day then model.
    pub async fn model_usage(
        &self,
        first_day: i64,
        end_day: i64,
    ) -> Result<Vec<ModelUsage>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT day, model_name, requests, successes, failures, latency_sum_us, prompt_tokens, \
                    completion_tokens, cost_micros, cache_read_tokens, cache_write_tokens, reasoning_tokens \
             FROM model_usage_stats WHERE day >= $1 AND day < $2 ORDER BY day, model_name",
        )
        .bind(first_day)
        .bind(end_day)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The sums of the traffic rollup over the buckets, in one row.
    pub async fn traffic_totals(&self, buckets: Buckets) -> Result<TrafficBucket, StoreError> {
        let totals: TrafficBucket = buckets
            .bind(sqlx::query_as(&format!(
                "SELECT {TRAFFIC_TOTALS} FROM rollup_traffic \
                 WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3"
            )))
            .fetch_one(&self.pool)
            .await?;
        Ok(TrafficBucket {
            bucket_start: EpochMillis(buckets.start),
            ..totals
        })
    }

    /// The latency histogram of all the buckets merged. Whole days of an hourly range
    /// are read from the daily rows (fewer rows, the same sums).
    pub async fn latency_merged(&self, buckets: Buckets) -> Result<Vec<LatencyBin>, StoreError> {
        self.over_spans(
            "rollup_latency",
            "bin, requests",
            "SELECT bin, CAST(SUM(requests) AS BIGINT) AS requests FROM ({rows}) r GROUP BY bin",
            buckets,
        )
        .await
    }

    /// The bins holding each bucket's p50, p95 and p99 (kept at ingest), oldest first.
    pub async fn latency_quantile_bins(
        &self,
        buckets: Buckets,
    ) -> Result<Vec<QuantileBins>, StoreError> {
        self.over_buckets(
            "SELECT bucket_start, p50_bin, p95_bin, p99_bin FROM rollup_latency_quantiles \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start",
            buckets,
        )
        .await
    }

    /// Requests per status code over the buckets.
    pub async fn status_totals(&self, buckets: Buckets) -> Result<Vec<StatusCount>, StoreError> {
        self.over_spans(
            "rollup_status",
            "status_code, requests",
            "SELECT status_code, CAST(SUM(requests) AS BIGINT) AS requests FROM ({rows}) r \
             GROUP BY status_code ORDER BY status_code",
            buckets,
        )
        .await
    }

    /// Sums per model over the buckets (`""` for requests without a model).
    pub async fn model_totals(&self, buckets: Buckets) -> Result<Vec<ModelTotals>, StoreError> {
        self.over_spans(
            "rollup_model",
            "model_name, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, \
             cost_micros, cache_read_tokens, cache_write_tokens, reasoning_tokens",
            &format!("SELECT model_name, {MODEL_SUMS} FROM ({{rows}}) r GROUP BY model_name"),
            buckets,
        )
        .await
    }

    /// Cost per bucket and model (`name`), oldest bucket first.
    pub async fn model_costs(&self, buckets: Buckets) -> Result<Vec<BucketCost>, StoreError> {
        self.over_buckets(
            "SELECT bucket_start, model_name AS name, cost_micros FROM rollup_model \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 AND cost_micros > 0 \
             ORDER BY bucket_start, model_name",
            buckets,
        )
        .await
    }

    /// Requests and errors per country (`""` when unknown), most requests first.
    pub async fn country_totals(&self, buckets: Buckets) -> Result<Vec<CountryTotals>, StoreError> {
        self.over_spans(
            "rollup_country",
            "country, requests, errors",
            "SELECT country, CAST(SUM(requests) AS BIGINT) AS requests, \
                    CAST(SUM(errors) AS BIGINT) AS errors \
             FROM ({rows}) r GROUP BY country ORDER BY requests DESC, country",
            buckets,
        )
        .await
    }

    /// Users with at least one request in the buckets.
    pub async fn active_users(&self, buckets: Buckets) -> Result<i64, StoreError> {
        let (sub, spans) = user_rows(buckets);
        let sql = format!("SELECT COUNT(DISTINCT user_id) FROM ({sub}) u");
        let mut query = sqlx::query_scalar(&sql);
        for s in spans {
            query = query.bind(s.grain).bind(s.start).bind(s.end);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// The users who cost the most in the buckets, most first.
    pub async fn top_users_by_cost(
        &self,
        buckets: Buckets,
        limit: i64,
    ) -> Result<Vec<UserCost>, StoreError> {
        let (sub, spans) = user_rows(buckets);
        let sql = format!(
            "SELECT user_id, CAST(SUM(requests) AS BIGINT) AS requests, \
                    CAST(SUM(tokens) AS BIGINT) AS tokens, CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
             FROM ({sub}) u GROUP BY user_id ORDER BY cost_micros DESC, user_id LIMIT ${}",
            spans.len() * 3 + 1
        );
        Ok(bind_spans(sqlx::query_as(&sql), &spans)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Ratings 1 to 5 given in the buckets.
    pub async fn rating_counts(&self, buckets: Buckets) -> Result<[i64; 5], StoreError> {
        let rows: Vec<RatingCount> = self
            .over_spans(
                "rollup_feedback",
                "rating, ratings",
                "SELECT rating, CAST(SUM(ratings) AS BIGINT) AS ratings FROM ({rows}) r GROUP BY rating",
                buckets,
            )
            .await?;
        let mut counts = [0; 5];
        for r in rows {
            if (1..=5).contains(&r.rating) {
                counts[(r.rating - 1) as usize] = r.ratings;
            }
        }
        Ok(counts)
    }

    /// Open threats by severity, whenever raised.
    pub async fn open_threats_by_severity(&self) -> Result<Vec<SeverityCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT severity, COUNT(*) AS threats FROM threat_log WHERE resolved = FALSE \
             GROUP BY severity",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Threats raised in `[start, end)` that are still open.
    pub async fn open_threats_raised(
        &self,
        start: EpochMillis,
        end: EpochMillis,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM threat_log WHERE resolved = FALSE AND created_at >= $1 AND created_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The most recently seen threats.
    pub async fn latest_threats(&self, limit: i64) -> Result<Vec<ThreatRow>, StoreError> {
        let rows: Vec<ThreatRecord> = sqlx::query_as(&format!(
            "SELECT {THREAT_ROW_COLUMNS} FROM threat_log ORDER BY last_seen_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ThreatRow::from).collect())
    }

    /// Threats raised in `[start, end)` by severity, open or resolved since.
    pub async fn threats_raised_by_severity(
        &self,
        start: EpochMillis,
        end: EpochMillis,
    ) -> Result<Vec<SeverityCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT severity, COUNT(*) AS threats FROM threat_log \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY severity",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Alerts firing now, newest first.
    pub async fn firing_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let rows: Vec<AlertRecord> = sqlx::query_as(&format!(
            "SELECT {ALERT_ROW_COLUMNS} FROM alerts WHERE state = 'firing' \
             ORDER BY fired_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AlertRow::from).collect())
    }

    /// How many alerts fired in `[start, end)`, firing still or resolved since, and the
    /// first `limit` of them, oldest first.
    pub async fn alerts_fired_between(
        &self,
        start: EpochMillis,
        end: EpochMillis,
        limit: i64,
    ) -> Result<(i64, Vec<AlertRow>), StoreError> {
        let fired: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE fired_at >= $1 AND fired_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        let rows: Vec<AlertRecord> = sqlx::query_as(&format!(
            "SELECT {ALERT_ROW_COLUMNS} FROM alerts WHERE fired_at >= $1 AND fired_at < $2 \
             ORDER BY fired_at, id LIMIT $3"
        ))
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok((fired, rows.into_iter().map(AlertRow::from).collect()))
    }
}

/// The rows of `rollup_user` covering the buckets, and the spans to bind.
fn user_rows(buckets: Buckets) -> (String, Vec<Buckets>) {
    span_rows(
        "rollup_user",
        "user_id, requests, tokens, cost_micros",
        buckets,
    )
}
