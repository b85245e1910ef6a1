//! The providers view's report: the calls the platform made to providers (`kind =
//! external`), per provider (`service`) over a range, every provider's cost per bucket,
//! and the selected provider's calls per bucket, from `rollup_service` and its latency
//! histograms (never the raw rows), as the dashboard's cards are made.

use sightline_app::providers::{
    CHART_PROVIDERS, MAX_LISTED, ProviderCosts, ProviderPoint, ProviderRow, ProviderSort,
    ProvidersCard, ProvidersReport, sort_rows,
};
use sightline_app::range::TimeRange;
use sightline_app::units::{EpochMillis, Micros};

use crate::named_figures::{self, NamedFigures, ratio};
use crate::store::{Buckets, Dimension, Store, StoreError};

/// Every provider with calls in the range, unsorted.
async fn all_rows(store: &Store, r: &TimeRange) -> Result<Vec<ProviderRow>, StoreError> {
    let named = named_figures::all_names(store, Dimension::Service, r).await?;
    let total_cost = named.iter().map(|n| n.totals.cost_micros).sum();
    Ok(named.into_iter().map(|n| row(n, total_cost)).collect())
}

fn row(n: NamedFigures, total_cost: Micros) -> ProviderRow {
    let (p50_ms, p95_ms, p99_ms) = (n.quantile(0), n.quantile(1), n.quantile(2));
    let t = n.totals;
    ProviderRow {
        error_rate: ratio(t.errors, t.requests),
        p50_ms,
        p95_ms,
        p99_ms,
        avg_latency_ms: ratio(t.latency_sum_us, t.requests).map(|us| us / 1000.0),
        prompt_tokens: t.prompt_tokens,
        completion_tokens: t.completion_tokens,
        tokens: t.prompt_tokens.saturating_add(t.completion_tokens),
        cost_share: ratio(t.cost_micros.micros(), total_cost.micros()),
        cost_micros: t.cost_micros,
        service: t.name,
        calls: t.requests,
        errors: t.errors,
    }
}

/// Calls, errors and cost of every provider together.
fn totals(rows: &[ProviderRow]) -> (i64, i64, Micros) {
    rows.iter().fold((0, 0, Micros::ZERO), |(c, e, m), r| {
        (
            c.saturating_add(r.calls),
            e.saturating_add(r.errors),
            m.saturating_add(r.cost_micros),
        )
    })
}

/// The dashboard's card: the `n` providers with the most calls and the range's totals.
pub async fn card(store: &Store, range: &TimeRange, n: usize) -> Result<ProvidersCard, StoreError> {
    let mut rows = all_rows(store, range).await?;
    let (total_calls, total_errors, total_cost_micros) = totals(&rows);
    sort_rows(&mut rows, ProviderSort::Calls);
    rows.truncate(n);
    Ok(ProvidersCard {
        total_calls,
        total_errors,
        total_cost_micros,
        top: rows,
    })
}

/// The providers of `range` by `sort`, every provider's cost per bucket, and `selected`
/// (else the first listed) per bucket.
pub async fn report(
    store: &Store,
    range: &TimeRange,
    sort: ProviderSort,
    selected: Option<String>,
    now: EpochMillis,
) -> Result<ProvidersReport, StoreError> {
    let r = range;
    let (mut rows, bucket_costs) = tokio::try_join!(
        all_rows(store, r),
        store.dimension_bucket_costs(Dimension::Service, Buckets::from(r)),
    )?;
    let (total_calls, total_errors, total_cost_micros) = totals(&rows);
    let provider_costs: Vec<(String, Micros)> = rows
        .iter()
        .map(|p| (p.service.clone(), p.cost_micros))
        .collect();
    let series_by_provider = crate::dashboard::cost_series(
        &r.bucket_starts(),
        &provider_costs,
        bucket_costs,
        CHART_PROVIDERS,
    );
    let costs = ProviderCosts {
        providers: series_by_provider.models,
        points: series_by_provider.points,
    };
    sort_rows(&mut rows, sort);
    let more = rows.len().saturating_sub(MAX_LISTED);
    rows.truncate(MAX_LISTED);
    let selected = selected.or_else(|| rows.first().map(|row| row.service.clone()));
    let series = match &selected {
        Some(name) => series(store, r, name).await?,
        None => Vec::new(),
    };
    Ok(ProvidersReport {
        range: r.kind.as_str().to_string(),
        start: r.start,
        end: r.end,
        bucket: r.bucket_name().to_string(),
        generated_at: now,
        sort,
        total_calls,
        total_errors,
        total_cost_micros,
        providers: rows,
        more,
        costs,
        selected,
        series,
    })
}

/// One provider's calls, errors and p95 in every bucket of the range.
async fn series(
    store: &Store,
    r: &TimeRange,
    service: &str,
) -> Result<Vec<ProviderPoint>, StoreError> {
    Ok(
        named_figures::per_bucket(store, Dimension::Service, r, service)
            .await?
            .into_iter()
            .map(|b| ProviderPoint {
                t: b.t,
                calls: b.sums.requests,
                errors: b.sums.errors,
                p95_ms: b.p95_ms,
            })
            .collect(),
    )
}
