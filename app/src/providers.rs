//! The providers view: the calls the platform made to providers (`kind = external`) per
//! provider (`service`) over a range — calls, errors, latency percentiles, tokens and
//! cost — with the cost of every provider per bucket and one provider's calls per
//! bucket. What `GET /api/v1/providers` returns, what the page and the dashboard's card
//! render.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::param;
use crate::units::{EpochMillis, Micros};

/// Providers listed at most, by the sort; the rest are counted in `more`. A platform
/// calls a handful of providers, so this only bounds a misconfigured tracker.
pub const MAX_LISTED: usize = 100;

/// Providers on the dashboard's card.
pub const CARD_ROWS: usize = 5;

/// Providers named in the cost chart; the others are summed as `other`.
pub const CHART_PROVIDERS: usize = 6;

/// What the list is ordered by, always the most first (ties: by name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderSort {
    /// Calls made.
    #[default]
    Calls,
    /// Failed calls (status 400 or more).
    Errors,
    /// 95th percentile latency.
    P95,
    /// Total cost.
    Cost,
}

impl ProviderSort {
    pub const ALL: [ProviderSort; 4] = [
        ProviderSort::Calls,
        ProviderSort::Errors,
        ProviderSort::P95,
        ProviderSort::Cost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderSort::Calls => "calls",
            ProviderSort::Errors => "errors",
            ProviderSort::P95 => "p95",
            ProviderSort::Cost => "cost",
        }
    }

    /// What the column header says.
    pub fn label(self) -> &'static str {
        match self {
            ProviderSort::Calls => "Calls",
            ProviderSort::Errors => "Errors",
            ProviderSort::P95 => "p95",
            ProviderSort::Cost => "Cost",
        }
    }

    /// `?sort=`: absent or blank is by calls; anything unknown is an error naming it.
    pub fn from_param(value: &Option<String>) -> Result<ProviderSort, QueryError> {
        match param(value) {
            None => Ok(ProviderSort::default()),
            Some(s) => ProviderSort::ALL
                .into_iter()
                .find(|k| k.as_str() == s)
                .ok_or(QueryError::UnknownSort {
                    value: s,
                    choices: "calls, errors, p95 or cost",
                }),
        }
    }
}

/// How a provider is named on screen: calls without a `service` are `(unnamed)`.
pub fn display_name(service: &str) -> String {
    if service.is_empty() {
        "(unnamed)".to_owned()
    } else {
        service.to_owned()
    }
}

/// One provider over the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderRow {
    /// The provider (`service` as ingested); `""` for calls that named none.
    pub service: String,
    pub calls: i64,
    pub errors: i64,
    /// `errors / calls`.
    pub error_rate: Option<f64>,
    /// Percentiles (ms) from the provider's latency histogram, within 2% of exact.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub avg_latency_ms: Option<f64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Prompt and completion tokens.
    pub tokens: i64,
    pub cost_micros: Micros,
    /// Of the cost of every provider in the range.
    pub cost_share: Option<f64>,
}

/// One bucket of the selected provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderPoint {
    pub t: EpochMillis,
    pub calls: i64,
    pub errors: i64,
    pub p95_ms: Option<f64>,
}

/// The providers of a range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersReport {
    /// `24h`, `7d`, `1m`, `3m` or `custom`.
    pub range: String,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    /// `hour` or `day`.
    pub bucket: String,
    pub generated_at: EpochMillis,
    pub sort: ProviderSort,
    /// Every provider call in the range.
    pub total_calls: i64,
    pub total_errors: i64,
    pub total_cost_micros: Micros,
    /// At most [`MAX_LISTED`], by `sort`.
    pub providers: Vec<ProviderRow>,
    /// Providers with calls in the range that are not listed.
    pub more: usize,
    /// Cost per bucket by provider: the [`CHART_PROVIDERS`] dearest, the rest as `other`.
    pub costs: ProviderCosts,
    /// The provider `series` is of: the one asked for, else the first listed.
    pub selected: Option<String>,
    /// One point a bucket of the range.
    pub series: Vec<ProviderPoint>,
}

/// Cost per bucket, split by provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCosts {
    /// The dearest providers, then `other` when there are more.
    pub providers: Vec<String>,
    /// One entry a bucket; `costMicros[i]` belongs to `providers[i]`.
    pub points: Vec<crate::report::CostPoint>,
}

/// The dashboard's card: the providers with the most calls and the range's totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersCard {
    pub total_calls: i64,
    pub total_errors: i64,
    pub total_cost_micros: Micros,
    /// At most [`CARD_ROWS`], the most calls first.
    pub top: Vec<ProviderRow>,
}

/// Orders `rows` by `sort`, the most first; ties by provider name, so the order is stable.
pub fn sort_rows(rows: &mut [ProviderRow], sort: ProviderSort) {
    rows.sort_by(|a, b| {
        let by = match sort {
            ProviderSort::Calls => b.calls.cmp(&a.calls),
            ProviderSort::Errors => b.errors.cmp(&a.errors).then_with(|| b.calls.cmp(&a.calls)),
            ProviderSort::P95 => b
                .p95_ms
                .unwrap_or(-1.0)
                .total_cmp(&a.p95_ms.unwrap_or(-1.0)),
            ProviderSort::Cost => b.cost_micros.cmp(&a.cost_micros),
        };
        by.then_with(|| a.service.cmp(&b.service))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &str, calls: i64, errors: i64, p95: f64, cost: i64) -> ProviderRow {
        ProviderRow {
            service: service.into(),
            calls,
            errors,
            error_rate: None,
            p50_ms: None,
            p95_ms: Some(p95),
            p99_ms: None,
            avg_latency_ms: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            tokens: 0,
            cost_micros: Micros(cost),
            cost_share: None,
        }
    }

    #[test]
    fn each_sort_puts_the_most_first_and_ties_go_by_name() {
        let mut rows = vec![
            row("openai", 10, 1, 50.0, 7),
            row("anthropic", 10, 3, 900.0, 2),
            row("gemini", 2, 3, 120.0, 30),
        ];
        let names =
            |rows: &[ProviderRow]| rows.iter().map(|r| r.service.clone()).collect::<Vec<_>>();
        sort_rows(&mut rows, ProviderSort::Calls);
        assert_eq!(names(&rows), ["anthropic", "openai", "gemini"]);
        sort_rows(&mut rows, ProviderSort::Errors);
        assert_eq!(names(&rows), ["anthropic", "gemini", "openai"]);
        sort_rows(&mut rows, ProviderSort::P95);
        assert_eq!(names(&rows), ["anthropic", "gemini", "openai"]);
        sort_rows(&mut rows, ProviderSort::Cost);
        assert_eq!(names(&rows), ["gemini", "openai", "anthropic"]);
    }

    #[test]
    fn the_sort_parameter_is_checked_and_unnamed_calls_have_a_name() {
        assert_eq!(ProviderSort::from_param(&None), Ok(ProviderSort::Calls));
        assert_eq!(
            ProviderSort::from_param(&Some(" cost ".into())),
            Ok(ProviderSort::Cost)
        );
        let err = ProviderSort::from_param(&Some("volume".into()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sort `volume`"), "{err}");
        assert_eq!(display_name(""), "(unnamed)");
        assert_eq!(display_name("openai"), "openai");
    }
}
