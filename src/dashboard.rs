//! The dashboard's report: every card of a range, computed from the rollups (never the
//! raw rows), with the previous period for the summary's changes.

use std::collections::HashMap;

use sightline_app::range::TimeRange;
use sightline_app::report::*;
use sightline_app::units::{EpochMillis, Micros};

use crate::rollup::histogram;
use crate::store::{
    BucketCost, Buckets, ModelTotals, QuantileBins, SeverityCount, Store, StoreError,
};

/// Rows in the "top" lists.
const TOP: usize = 10;
/// Models named in the cost chart; the rest are summed as `other`.
const COST_MODELS: usize = 5;

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn avg_ms(latency_sum_us: i64, requests: i64) -> Option<f64> {
    (requests > 0).then(|| latency_sum_us as f64 / requests as f64 / 1000.0)
}

/// The summary figures of one period, from its totals (one row), its merged latency
/// histogram (one row a bin) and its distinct users.
async fn figures(store: &Store, r: &TimeRange) -> Result<(SummaryFigures, i64), StoreError> {
    let buckets = Buckets::from(r);
    let (totals, merged, active_users, open_threats) = tokio::try_join!(
        store.traffic_totals(buckets),
        store.latency_merged(buckets),
        store.active_users(buckets),
        store.open_threats_raised(r.start, r.end),
    )?;
    let merged: Vec<(i32, i64)> = merged.iter().map(|b| (b.bin, b.requests)).collect();
    let s = totals.sums;
    let f = SummaryFigures {
        requests: s.requests,
        errors: s.errors,
        error_rate: ratio(s.errors, s.requests),
        avg_latency_ms: avg_ms(s.latency_sum_us, s.requests),
        p95_latency_ms: histogram::quantiles(&merged, &[0.95]).map(|q| q[0]),
        cost_micros: s.cost_micros,
        tokens: s.tokens(),
        active_users,
        sessions: totals.sessions_started,
        open_threats,
    };
    Ok((f, totals.new_users))
}

/// p50, p95 and p99 of each bucket, from the quantile bins kept at ingest.
fn latency_points(buckets: &[EpochMillis], bins: Vec<QuantileBins>) -> Vec<LatencyPoint> {
    let by_bucket: HashMap<EpochMillis, [Option<f64>; 3]> = bins
        .into_iter()
        .map(|b| {
            let v = |bin| Some(histogram::value_of(bin));
            (b.bucket_start, [v(b.p50_bin), v(b.p95_bin), v(b.p99_bin)])
        })
        .collect();
    buckets
        .iter()
        .map(|t| {
            let [p50, p95, p99] = by_bucket.get(t).copied().unwrap_or_default();
            LatencyPoint {
                t: *t,
                p50,
                p95,
                p99,
            }
        })
        .collect()
}

/// The `n` models with the most requests (then by name), with their sums.
pub(crate) fn top_models(models: &[ModelTotals], n: usize) -> Vec<ModelRow> {
    let mut rows: Vec<ModelRow> = models
        .iter()
        .map(
            |ModelTotals {
                 model_name,
                 sums: s,
             }| ModelRow {
                model: model_name.clone(),
                requests: s.requests,
                errors: s.errors,
                prompt_tokens: s.prompt_tokens,
                completion_tokens: s.completion_tokens,
                cache_read_tokens: s.cache_read_tokens,
                cache_write_tokens: s.cache_write_tokens,
                reasoning_tokens: s.reasoning_tokens,
                cost_micros: s.cost_micros,
                avg_latency_ms: avg_ms(s.latency_sum_us, s.requests).unwrap_or(0.0),
            },
        )
        .collect();
    rows.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.model.cmp(&b.model))
    });
    rows.truncate(n);
    rows
}

/// Every card of `range`, as of `now`.
pub async fn report(
    store: &Store,
    budgets: &crate::budgets::Budgets,
    range: &TimeRange,
    now: EpochMillis,
) -> Result<DashboardReport, StoreError> {
    let r = range;
    let b = Buckets::from(r);
    let before = r.previous();
    let ((current, new_users), (previous, _)) =
        tokio::try_join!(figures(store, r), figures(store, &before))?;
    let (traffic, percentile_bins, statuses, models, model_costs, countries, top_users, ratings) =
        tokio::try_join!(
            store.traffic(b),
            store.latency_quantile_bins(b),
            store.status_totals(b),
            store.model_totals(b),
            store.model_costs(b),
            store.country_totals(b),
            store.top_users_by_cost(b, TOP as i64),
            store.rating_counts(b),
        )?;
    let (open_by_severity, latest_threats, alerts, top_endpoints, providers, budgets) = tokio::try_join!(
        store.open_threats_by_severity(),
        store.latest_threats(TOP as i64),
        store.firing_alerts(),
        crate::endpoints::top_endpoints(store, r, sightline_app::endpoints::CARD_ROWS),
        crate::providers::card(store, r, sightline_app::providers::CARD_ROWS),
        budgets.card(now),
    )?;

    let buckets = r.bucket_starts();
    let by_bucket: HashMap<EpochMillis, _> =
        traffic.iter().map(|b| (b.bucket_start, b.sums)).collect();
    let requests = buckets
        .iter()
        .map(|&t| {
            let s = by_bucket.get(&t).copied().unwrap_or_default();
            RequestPoint {
                t,
                ok: s.requests - s.errors,
                errors: s.errors,
            }
        })
        .collect();

    let mut errors_breakdown: Vec<StatusCount> = statuses
        .into_iter()
        .filter(|s| s.status_code >= 400)
        .map(|s| StatusCount {
            status: s.status_code,
            count: s.requests,
        })
        .collect();
    errors_breakdown.sort_by(|a, b| b.count.cmp(&a.count).then(a.status.cmp(&b.status)));

    let top_models = top_models(&models, TOP);

    let model_totals: Vec<(String, Micros)> = models
        .iter()
        .map(|m| (m.model_name.clone(), m.sums.cost_micros))
        .collect();
    let costs = cost_series(&buckets, &model_totals, model_costs, COST_MODELS);

    let latency = latency_points(&buckets, percentile_bins);

    let top_countries = countries
        .into_iter()
        .take(TOP)
        .map(|c| CountryRow {
            country: c.country,
            requests: c.requests,
            errors: c.errors,
        })
        .collect();

    let users = UsersCard {
        active: current.active_users,
        new: new_users,
        top: top_users
            .into_iter()
            .map(|u| UserRow {
                user_id: u.user_id,
                requests: u.requests,
                tokens: u.tokens,
                cost_micros: u.cost_micros,
            })
            .collect(),
    };

    // Saturating, like every sum of the rollups.
    let count = ratings.iter().fold(0i64, |a, n| a.saturating_add(*n));
    let weighted = ratings.iter().enumerate().fold(0i64, |a, (i, n)| {
        a.saturating_add((i as i64 + 1).saturating_mul(*n))
    });
    let feedback = FeedbackCard {
        count,
        average: ratio(weighted, count),
        distribution: ratings,
    };

    let threats = ThreatsCard {
        open_by_severity: severity_counts(open_by_severity),
        latest: latest_threats,
    };

    Ok(DashboardReport {
        range: r.kind.as_str().to_string(),
        start: r.start,
        end: r.end,
        bucket: r.bucket_name().to_string(),
        generated_at: now,
        summary: Summary { current, previous },
        requests,
        errors_breakdown,
        top_models,
        costs,
        latency,
        top_countries,
        users,
        feedback,
        threats,
        alerts,
        top_endpoints,
        providers,
        budgets,
    })
}

/// The threats of each severity, as the cards count them.
pub(crate) fn severity_counts(counts: Vec<SeverityCount>) -> SeverityCounts {
    SeverityCounts::from_counts(counts.into_iter().map(|c| (c.severity, c.threats)))
}

/// Cost per bucket for the `named` names (models, providers) that cost most overall
/// (`totals`: each name's cost), the rest as `other`.
pub(crate) fn cost_series(
    buckets: &[EpochMillis],
    totals: &[(String, Micros)],
    costs: Vec<BucketCost>,
    named: usize,
) -> CostSeries {
    let mut ranked: Vec<(&String, Micros)> = totals
        .iter()
        .filter(|(_, cost)| *cost > Micros::ZERO)
        .map(|(m, cost)| (m, *cost))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut models: Vec<String> = ranked
        .iter()
        .take(named)
        .map(|(m, _)| (*m).clone())
        .collect();
    let has_other = ranked.len() > named;
    if has_other {
        models.push("other".into());
    }
    let column: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let index: HashMap<EpochMillis, usize> =
        buckets.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let mut points: Vec<CostPoint> = buckets
        .iter()
        .map(|&t| CostPoint {
            t,
            cost_micros: vec![Micros::ZERO; models.len()],
        })
        .collect();
    for BucketCost {
        bucket_start: t,
        name: model,
        cost_micros: cost,
    } in costs
    {
        let (Some(&row), Some(&col)) = (
            index.get(&t),
            column
                .get(model.as_str())
                .or(if has_other { column.get("other") } else { None }),
        ) else {
            continue;
        };
        // "other" adds up many models' cells: saturating, like the cells.
        let cell = &mut points[row].cost_micros[col];
        *cell = cell.saturating_add(cost);
    }
    CostSeries { models, points }
}
