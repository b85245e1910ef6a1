//! The figures of each name of a per-name rollup (`rollup_endpoint` per endpoint,
//! `rollup_service` per provider) over a range, with the percentiles of its latency
//! histogram, and one name's per bucket: what the endpoints and providers views are made
//! of. Rollup rows only, never the raw requests.

use std::collections::HashMap;

use sightline_app::range::TimeRange;
use sightline_app::units::EpochMillis;

use crate::rollup::histogram;
use crate::store::{BinCount, Buckets, Dimension, DimensionTotals, Store, StoreError};

/// A name's sums over the range and its p50, p95 and p99 (ms).
pub struct NamedFigures {
    pub totals: DimensionTotals,
    pub quantiles: Option<Vec<f64>>,
}

impl NamedFigures {
    /// p50 (`0`), p95 (`1`) or p99 (`2`).
    pub fn quantile(&self, i: usize) -> Option<f64> {
        self.quantiles.as_ref().map(|q| q[i])
    }
}

/// `part / whole`, none when the whole is 0.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Histogram bins grouped by `key`.
fn by<K: std::hash::Hash + Eq>(
    bins: Vec<BinCount>,
    key: impl Fn(&BinCount) -> K,
) -> HashMap<K, Vec<(i32, i64)>> {
    let mut histograms: HashMap<K, Vec<(i32, i64)>> = HashMap::new();
    for b in bins {
        histograms
            .entry(key(&b))
            .or_default()
            .push((b.bin, b.requests));
    }
    histograms
}

/// Every name of `dim` with requests in the range, unsorted.
pub async fn all_names(
    store: &Store,
    dim: Dimension,
    r: &TimeRange,
) -> Result<Vec<NamedFigures>, StoreError> {
    let (totals, bins) = tokio::try_join!(
        store.dimension_totals(dim, Buckets::from(r)),
        store.dimension_latency_merged(dim, Buckets::from(r)),
    )?;
    let histograms = by(bins, |b| b.key.clone());
    Ok(totals
        .into_iter()
        .filter(|t| t.requests > 0)
        .map(|totals| NamedFigures {
            quantiles: histograms
                .get(&totals.name)
                .and_then(|h| histogram::quantiles(h, &[0.5, 0.95, 0.99])),
            totals,
        })
        .collect())
}

/// One bucket of a name: its sums and its p95 (ms).
pub struct BucketFigures {
    pub t: EpochMillis,
    pub sums: DimensionTotals,
    pub p95_ms: Option<f64>,
}

/// One name's sums and p95 in every bucket of the range (zeros where it had none).
pub async fn per_bucket(
    store: &Store,
    dim: Dimension,
    r: &TimeRange,
    name: &str,
) -> Result<Vec<BucketFigures>, StoreError> {
    let (sums, bins) = tokio::try_join!(
        store.dimension_buckets(dim, name, Buckets::from(r)),
        store.dimension_bucket_bins(dim, name, Buckets::from(r)),
    )?;
    let by_bucket: HashMap<EpochMillis, DimensionTotals> =
        sums.into_iter().map(|s| (s.bucket_start, s)).collect();
    let histograms = by(bins, |b| b.bucket_start);
    Ok(r.bucket_starts()
        .into_iter()
        .map(|t| BucketFigures {
            t,
            sums: by_bucket.get(&t).cloned().unwrap_or_default(),
            p95_ms: histograms
                .get(&t)
                .and_then(|h| histogram::quantiles(h, &[0.95]))
                .map(|q| q[0]),
        })
        .collect())
}
