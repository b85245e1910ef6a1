//! The endpoints view's report: each endpoint's figures over a range and the selected
//! endpoint's per bucket, from the per-endpoint rollups and histograms (never the raw
//! rows), as the dashboard's cards are made.

use sightline_app::endpoints::{
    EndpointPoint, EndpointRow, EndpointSort, EndpointsReport, MAX_LISTED, sort_rows,
};
use sightline_app::range::TimeRange;
use sightline_app::units::EpochMillis;

use crate::named_figures::{self, NamedFigures, ratio};
use crate::store::{Dimension, Store, StoreError};

/// Every endpoint with requests in the range, unsorted, and the range's request total.
async fn all_rows(store: &Store, r: &TimeRange) -> Result<(Vec<EndpointRow>, i64), StoreError> {
    let named = named_figures::all_names(store, Dimension::Endpoint, r).await?;
    let total = named
        .iter()
        .fold(0i64, |sum, n| sum.saturating_add(n.totals.requests));
    let rows = named.into_iter().map(|n| row(n, total)).collect();
    Ok((rows, total))
}

fn row(n: NamedFigures, total: i64) -> EndpointRow {
    let (p50_ms, p95_ms, p99_ms) = (n.quantile(0), n.quantile(1), n.quantile(2));
    let t = n.totals;
    let tokens = t.prompt_tokens.saturating_add(t.completion_tokens);
    EndpointRow {
        error_rate: ratio(t.errors, t.requests),
        p50_ms,
        p95_ms,
        p99_ms,
        avg_latency_ms: ratio(t.latency_sum_us, t.requests).map(|us| us / 1000.0),
        tokens,
        avg_tokens: ratio(tokens, t.requests),
        cost_micros: t.cost_micros,
        avg_cost_micros: ratio(t.cost_micros.micros(), t.requests),
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
    now: EpochMillis,
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
    Ok(
        named_figures::per_bucket(store, Dimension::Endpoint, r, endpoint)
            .await?
            .into_iter()
            .map(|b| EndpointPoint {
                t: b.t,
                requests: b.sums.requests,
                errors: b.sums.errors,
                p95_ms: b.p95_ms,
            })
            .collect(),
    )
}
