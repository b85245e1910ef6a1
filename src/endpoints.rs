//! The endpoints view's report: each endpoint's figures over a range and the selected
//! endpoint's per bucket, from the per-endpoint rollups and histograms (never the raw
//! rows), as the dashboard's cards are made.

use std::collections::HashMap;

use sightline_app::endpoints::{
    EndpointPoint, EndpointRow, EndpointSort, EndpointsReport, MAX_LISTED, sort_rows,
};
use sightline_app::range::TimeRange;

use crate::rollup::histogram;
use crate::store::{Dimension, DimensionTotals, Store, StoreError};

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Every endpoint with requests in the range, unsorted, and the range's request total.
async fn all_rows(store: &Store, r: &TimeRange) -> Result<(Vec<EndpointRow>, i64), StoreError> {
    let (totals, bins) = tokio::try_join!(
        store.dimension_totals(Dimension::Endpoint, r.bucket_ms, r.start, r.end),
        store.dimension_latency_merged(Dimension::Endpoint, r.bucket_ms, r.start, r.end),
    )?;
    let mut histograms: HashMap<String, Vec<(i32, i64)>> = HashMap::new();
    for b in bins {
        histograms
            .entry(b.key)
            .or_default()
            .push((b.bin, b.requests));
    }
    let total = totals
        .iter()
        .fold(0i64, |sum, t| sum.saturating_add(t.requests));
    let rows = totals
        .into_iter()
        .filter(|t| t.requests > 0)
        .map(|t| {
            let quantiles = histograms
                .get(&t.name)
                .and_then(|h| histogram::quantiles(h, &[0.5, 0.95, 0.99]));
            row(t, quantiles, total)
        })
        .collect();
    Ok((rows, total))
}

fn row(t: DimensionTotals, quantiles: Option<Vec<f64>>, total: i64) -> EndpointRow {
    let q = |i: usize| quantiles.as_ref().map(|q| q[i]);
    let tokens = t.prompt_tokens.saturating_add(t.completion_tokens);
    EndpointRow {
        error_rate: ratio(t.errors, t.requests),
        p50_ms: q(0),
        p95_ms: q(1),
        p99_ms: q(2),
        avg_latency_ms: ratio(t.latency_sum_us, t.requests).map(|us| us / 1000.0),
        tokens,
        avg_tokens: ratio(tokens, t.requests),
        cost_micros: t.cost_micros,
        avg_cost_micros: ratio(t.cost_micros, t.requests),
        share: ratio(t.requests, total),
        endpoint: t.name,
        requests: t.requests,
        errors: t.errors,
    }
}

/// The `n` endpoints with the most requests: the dashboard's card.
pub async fn top_endpoints(
    store: &Store,
    range: &TimeRange,
    n: usize,
) -> Result<Vec<EndpointRow>, StoreError> {
    let (mut rows, _) = all_rows(store, range).await?;
    sort_rows(&mut rows, EndpointSort::Volume);
    rows.truncate(n);
    Ok(rows)
}

/// The endpoints of `range` by `sort`, and `selected` (else the first listed) per bucket.
pub async fn report(
    store: &Store,
    range: &TimeRange,
    sort: EndpointSort,
    selected: Option<String>,
    now: i64,
) -> Result<EndpointsReport, StoreError> {
    let r = range;
    let (mut rows, total_requests) = all_rows(store, r).await?;
    sort_rows(&mut rows, sort);
    let more = rows.len().saturating_sub(MAX_LISTED);
    rows.truncate(MAX_LISTED);
    let selected = selected.or_else(|| rows.first().map(|row| row.endpoint.clone()));
    let series = match &selected {
        Some(name) => series(store, r, name).await?,
        None => Vec::new(),
    };
    Ok(EndpointsReport {
        range: r.kind.as_str().to_string(),
        start: r.start,
        end: r.end,
        bucket: r.bucket_name().to_string(),
        generated_at: now,
        sort,
        total_requests,
        endpoints: rows,
        more,
        selected,
        series,
    })
}

/// One endpoint's requests, errors and p95 in every bucket of the range.
async fn series(
    store: &Store,
    r: &TimeRange,
    endpoint: &str,
) -> Result<Vec<EndpointPoint>, StoreError> {
    let (sums, bins) = tokio::try_join!(
        store.dimension_buckets(Dimension::Endpoint, endpoint, r.bucket_ms, r.start, r.end),
        store.dimension_bucket_bins(Dimension::Endpoint, endpoint, r.bucket_ms, r.start, r.end),
    )?;
    let by_bucket: HashMap<i64, DimensionTotals> =
        sums.into_iter().map(|s| (s.bucket_start, s)).collect();
    let mut histograms: HashMap<i64, Vec<(i32, i64)>> = HashMap::new();
    for b in bins {
        histograms
            .entry(b.bucket_start)
            .or_default()
            .push((b.bin, b.requests));
    }
    Ok(r.bucket_starts()
        .into_iter()
        .map(|t| {
            let s = by_bucket.get(&t).cloned().unwrap_or_default();
            EndpointPoint {
                t,
                requests: s.requests,
                errors: s.errors,
                p95_ms: histograms
                    .get(&t)
                    .and_then(|h| histogram::quantiles(h, &[0.95]))
                    .map(|q| q[0]),
            }
        })
        .collect())
}
