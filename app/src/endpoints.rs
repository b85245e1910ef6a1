//! The endpoints view: per endpoint of the platform, its volume, errors, latency
//! percentiles, tokens and cost over a range, sorted as the URL says, and one
//! endpoint's figures per bucket. What `GET /api/v1/endpoints` returns, what the page
//! and the dashboard's card render.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::param;
use crate::units::{EpochMillis, Micros};

/// Endpoints listed at most, by the sort; the rest are counted in `more`. Endpoints are
/// route templates, so a platform has tens of them; raw paths would have many more.
pub const MAX_LISTED: usize = 100;

/// Endpoints on the dashboard's card.
pub const CARD_ROWS: usize = 5;

/// What the list is ordered by, always the most first (ties: by name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointSort {
    /// Requests.
    #[default]
    Volume,
    /// Failed requests (status 400 or more).
    Errors,
    /// 95th percentile latency.
    P95,
    /// Total cost.
    Cost,
}

impl EndpointSort {
    pub const ALL: [EndpointSort; 4] = [
        EndpointSort::Volume,
        EndpointSort::Errors,
        EndpointSort::P95,
        EndpointSort::Cost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointSort::Volume => "volume",
            EndpointSort::Errors => "errors",
            EndpointSort::P95 => "p95",
            EndpointSort::Cost => "cost",
        }
    }

    /// What the column header says.
    pub fn label(self) -> &'static str {
        match self {
            EndpointSort::Volume => "Requests",
            EndpointSort::Errors => "Errors",
            EndpointSort::P95 => "p95",
            EndpointSort::Cost => "Cost",
        }
    }

    /// `?sort=`: absent or blank is by volume; anything unknown is an error naming it.
    pub fn from_param(value: &Option<String>) -> Result<EndpointSort, QueryError> {
        match param(value) {
            None => Ok(EndpointSort::default()),
            Some(s) => EndpointSort::ALL
                .into_iter()
                .find(|k| k.as_str() == s)
                .ok_or(QueryError::UnknownSort {
                    value: s,
                    choices: "volume, errors, p95 or cost",
                }),
        }
    }
}

/// One endpoint over the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointRow {
    /// The route template (or path) as ingested.
    pub endpoint: String,
    pub requests: i64,
    pub errors: i64,
    /// `errors / requests`.
    pub error_rate: Option<f64>,
    /// Percentiles (ms) from the endpoint's latency histogram, within 2% of exact.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub avg_latency_ms: Option<f64>,
    /// Prompt and completion tokens.
    pub tokens: i64,
    pub avg_tokens: Option<f64>,
    pub cost_micros: Micros,
    pub avg_cost_micros: Option<f64>,
    /// Of all the platform's requests in the range.
    pub share: Option<f64>,
}

/// One bucket of the selected endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPoint {
    pub t: EpochMillis,
    pub requests: i64,
    pub errors: i64,
    pub p95_ms: Option<f64>,
}

/// The endpoints of a range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointsReport {
    /// `24h`, `7d`, `1m`, `3m` or `custom`.
    pub range: String,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    /// `hour` or `day`.
    pub bucket: String,
    pub generated_at: EpochMillis,
    pub sort: EndpointSort,
    /// The platform's requests in the range, every endpoint.
    pub total_requests: i64,
    /// At most [`MAX_LISTED`], by `sort`.
    pub endpoints: Vec<EndpointRow>,
    /// Endpoints with requests in the range that are not listed.
    pub more: usize,
    /// The endpoint `series` is of: the one asked for, else the first listed.
    pub selected: Option<String>,
    /// One point a bucket of the range.
    pub series: Vec<EndpointPoint>,
}

/// Orders `rows` by `sort`, the most first; ties by endpoint name, so the order is stable.
pub fn sort_rows(rows: &mut [EndpointRow], sort: EndpointSort) {
    rows.sort_by(|a, b| {
        let by = match sort {
            EndpointSort::Volume => b.requests.cmp(&a.requests),
            EndpointSort::Errors => b
                .errors
                .cmp(&a.errors)
                .then_with(|| b.requests.cmp(&a.requests)),
            EndpointSort::P95 => b
                .p95_ms
                .unwrap_or(-1.0)
                .total_cmp(&a.p95_ms.unwrap_or(-1.0)),
            EndpointSort::Cost => b.cost_micros.cmp(&a.cost_micros),
        };
        by.then_with(|| a.endpoint.cmp(&b.endpoint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(endpoint: &str, requests: i64, errors: i64, p95: f64, cost: i64) -> EndpointRow {
        EndpointRow {
            endpoint: endpoint.into(),
            requests,
            errors,
            error_rate: None,
            p50_ms: None,
            p95_ms: Some(p95),
            p99_ms: None,
            avg_latency_ms: None,
            tokens: 0,
            avg_tokens: None,
            cost_micros: Micros(cost),
            avg_cost_micros: None,
            share: None,
        }
    }

    #[test]
    fn each_sort_puts_the_most_first_and_ties_go_by_name() {
        let mut rows = vec![
            row("/b", 10, 1, 50.0, 7),
            row("/a", 10, 3, 900.0, 2),
            row("/c", 2, 3, 120.0, 30),
        ];
        let names =
            |rows: &[EndpointRow]| rows.iter().map(|r| r.endpoint.clone()).collect::<Vec<_>>();
        sort_rows(&mut rows, EndpointSort::Volume);
        assert_eq!(names(&rows), ["/a", "/b", "/c"]);
        sort_rows(&mut rows, EndpointSort::Errors);
        assert_eq!(names(&rows), ["/a", "/c", "/b"]);
        sort_rows(&mut rows, EndpointSort::P95);
        assert_eq!(names(&rows), ["/a", "/c", "/b"]);
        sort_rows(&mut rows, EndpointSort::Cost);
        assert_eq!(names(&rows), ["/c", "/b", "/a"]);
    }

    #[test]
    fn the_sort_parameter_is_checked() {
        assert_eq!(EndpointSort::from_param(&None), Ok(EndpointSort::Volume));
        assert_eq!(
            EndpointSort::from_param(&Some(" p95 ".into())),
            Ok(EndpointSort::P95)
        );
        let err = EndpointSort::from_param(&Some("slowest".into()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sort `slowest`"), "{err}");
    }
}
