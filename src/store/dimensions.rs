//! Reading the per-endpoint and per-provider rollups: `rollup_endpoint` (served
//! requests) and `rollup_service` (calls made to providers), each with its latency
//! histogram. Like the dashboard's cards, every query reads rollup rows (a row per
//! bucket and name, or per bucket, name and bin), never the raw requests.

use sightline_app::units::{EpochMillis, Micros};

use super::{Buckets, Store, StoreError};

/// A per-name rollup with its own latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// Served requests (`kind = api`) per endpoint.
    Endpoint,
    /// Provider calls (`kind = external`) per service, `''` for an unnamed one.
    Service,
}

impl Dimension {
    fn table(self) -> &'static str {
        match self {
            Dimension::Endpoint => "rollup_endpoint",
            Dimension::Service => "rollup_service",
        }
    }

    pub(super) fn latency_table(self) -> &'static str {
        match self {
            Dimension::Endpoint => "rollup_endpoint_latency",
            Dimension::Service => "rollup_service_latency",
        }
    }

    /// The name column of both tables.
    pub(super) fn column(self) -> &'static str {
        match self {
            Dimension::Endpoint => "endpoint",
            Dimension::Service => "service",
        }
    }
}

/// The sums of one name over a range, or of one bucket of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DimensionTotals {
    pub name: String,
    /// The bucket's start; 0 in the totals of a range.
    #[sqlx(default)]
    pub bucket_start: EpochMillis,
    pub requests: i64,
    pub errors: i64,
    pub latency_sum_us: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: Micros,
}

/// Requests of one latency bin, of a name (over a range) or of a bucket (of one name).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BinCount {
    pub key: String,
    /// The bucket's start; 0 in a range's merged histogram.
    #[sqlx(default)]
    pub bucket_start: EpochMillis,
    pub bin: i32,
    pub requests: i64,
}

/// The summed columns, as `DimensionTotals` names them.
const SUMS: &str = "CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(errors) AS BIGINT) AS errors, \
     CAST(SUM(latency_sum_us) AS BIGINT) AS latency_sum_us, \
     CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
     CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, \
     CAST(SUM(cost_micros) AS BIGINT) AS cost_micros";

impl Store {
    /// Sums per name over the buckets (whole days of an hourly range from
    /// the daily rows).
    pub async fn dimension_totals(
        &self,
        dim: Dimension,
        buckets: Buckets,
    ) -> Result<Vec<DimensionTotals>, StoreError> {
        let col = dim.column();
        self.over_spans(
                dim.table(),
                &format!(
                    "{col}, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, cost_micros"
                ),
                &format!(
                    "SELECT {col} AS name, {SUMS} \
                     FROM ({{rows}}) r GROUP BY {col}"
                ),
                buckets,
            )
            .await
    }

    /// Each name's latency histogram over the buckets, merged: `key` is the name.
    pub async fn dimension_latency_merged(
        &self,
        dim: Dimension,
        buckets: Buckets,
    ) -> Result<Vec<BinCount>, StoreError> {
        let col = dim.column();
        self.over_spans(
                dim.latency_table(),
                &format!("{col}, bin, requests"),
                &format!(
                    "SELECT {col} AS key, bin, \
                     CAST(SUM(requests) AS BIGINT) AS requests FROM ({{rows}}) r GROUP BY {col}, bin"
                ),
                buckets,
            )
            .await
    }

    /// One name's sums per bucket, oldest first; empty buckets are absent.
    pub async fn dimension_buckets(
        &self,
        dim: Dimension,
        name: &str,
        buckets: Buckets,
    ) -> Result<Vec<DimensionTotals>, StoreError> {
        let col = dim.column();
        let sql = format!(
            "SELECT {col} AS name, bucket_start, requests, errors, latency_sum_us, prompt_tokens, \
                    completion_tokens, cost_micros \
             FROM {} WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 AND {col} = $4 \
             ORDER BY bucket_start",
            dim.table()
        );
        Ok(buckets
            .bind(sqlx::query_as(&sql))
            .bind(name)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One name's latency histogram per bucket: `key` is the name.
    pub async fn dimension_bucket_bins(
        &self,
        dim: Dimension,
        name: &str,
        buckets: Buckets,
    ) -> Result<Vec<BinCount>, StoreError> {
        let col = dim.column();
        let sql = format!(
            "SELECT {col} AS key, bucket_start, bin, requests FROM {} \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 AND {col} = $4 \
             ORDER BY bucket_start, bin",
            dim.latency_table()
        );
        Ok(buckets
            .bind(sqlx::query_as(&sql))
            .bind(name)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// One name's cost in one bucket.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BucketCost {
    pub bucket_start: EpochMillis,
    pub name: String,
    pub cost_micros: Micros,
}

impl Store {
    /// Every name's cost per bucket (buckets and names without cost are
    /// absent), oldest first: the cost-over-time charts.
    pub async fn dimension_bucket_costs(
        &self,
        dim: Dimension,
        buckets: Buckets,
    ) -> Result<Vec<BucketCost>, StoreError> {
        let col = dim.column();
        let sql = format!(
            "SELECT bucket_start, {col} AS name, cost_micros FROM {} \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 AND cost_micros <> 0 \
             ORDER BY bucket_start, {col}",
            dim.table()
        );
        Ok(buckets
            .bind(sqlx::query_as(&sql))
            .fetch_all(&self.pool)
            .await?)
    }
}
