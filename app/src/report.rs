//! The dashboard's data, card by card: what `GET /api/v1/dashboard` returns and what
//! the page renders. Counts, tokens and money are exact integers (money in micro-dollars);
//! latencies are milliseconds, percentiles within 2% of exact.

use serde::{Deserialize, Serialize};

use crate::threats::{Severity, ThreatType};
use crate::units::{EpochMillis, Micros};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardReport {
    /// `24h`, `7d`, `1m`, `3m` or `custom`.
    pub range: String,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    /// `hour` or `day`.
    pub bucket: String,
    pub generated_at: EpochMillis,
    pub summary: Summary,
    pub requests: Vec<RequestPoint>,
    pub errors_breakdown: Vec<StatusCount>,
    pub top_models: Vec<ModelRow>,
    pub costs: CostSeries,
    pub latency: Vec<LatencyPoint>,
    pub top_countries: Vec<CountryRow>,
    pub users: UsersCard,
    pub feedback: FeedbackCard,
    pub threats: ThreatsCard,
    pub alerts: Vec<AlertRow>,
    /// The endpoints with the most requests (the endpoints view has them all).
    pub top_endpoints: Vec<crate::endpoints::EndpointRow>,
    /// The calls made to providers: totals and the busiest providers (the providers
    /// view has them all).
    pub providers: crate::providers::ProvidersCard,
    /// The budgets in force this day and month: their use, and the users nearest theirs.
    pub budgets: crate::budgets::BudgetsCard,
}

/// The summary figures of a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryFigures {
    pub requests: i64,
    pub errors: i64,
    /// `errors / requests`; `None` without requests.
    pub error_rate: Option<f64>,
    pub avg_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub cost_micros: Micros,
    pub tokens: i64,
    pub active_users: i64,
    pub sessions: i64,
    /// Threats raised in the period and not resolved.
    pub open_threats: i64,
}

/// This period and the one before it, for the change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub current: SummaryFigures,
    pub previous: SummaryFigures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPoint {
    pub t: EpochMillis,
    pub ok: i64,
    pub errors: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCount {
    pub status: i32,
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRow {
    /// `""` for requests without a model.
    pub model: String,
    pub requests: i64,
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Of the prompt tokens: read from and written to the provider's prompt cache.
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// Of the completion tokens: spent on reasoning.
    pub reasoning_tokens: i64,
    pub cost_micros: Micros,
    pub avg_latency_ms: f64,
}

/// Cost per bucket, split by model: the top models by cost, the rest as `other`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostSeries {
    pub models: Vec<String>,
    /// One entry a bucket; `costMicros[i]` belongs to `models[i]`.
    pub points: Vec<CostPoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostPoint {
    pub t: EpochMillis,
    pub cost_micros: Vec<Micros>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyPoint {
    pub t: EpochMillis,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountryRow {
    /// ISO 3166-1 alpha-2; `""` when unknown.
    pub country: String,
    pub requests: i64,
    pub errors: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersCard {
    pub active: i64,
    pub new: i64,
    pub top: Vec<UserRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub user_id: String,
    pub requests: i64,
    pub tokens: i64,
    pub cost_micros: Micros,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackCard {
    pub count: i64,
    pub average: Option<f64>,
    /// Ratings 1 to 5.
    pub distribution: [i64; 5],
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatsCard {
    /// Open threats (whenever raised) by severity.
    pub open_by_severity: SeverityCounts,
    pub latest: Vec<ThreatRow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityCounts {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
    pub critical: i64,
}

impl SeverityCounts {
    /// The counts of `(severity, n)` pairs as the store groups them.
    pub fn from_counts(counts: impl IntoIterator<Item = (Severity, i64)>) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for (severity, n) in counts {
            match severity {
                Severity::Low => c.low = n,
                Severity::Medium => c.medium = n,
                Severity::High => c.high = n,
                Severity::Critical => c.critical = n,
            }
        }
        c
    }

    /// All severities together.
    pub fn total(&self) -> i64 {
        self.low
            .saturating_add(self.medium)
            .saturating_add(self.high)
            .saturating_add(self.critical)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatRow {
    pub id: i64,
    pub created_at: EpochMillis,
    pub last_seen_at: EpochMillis,
    pub threat_type: ThreatType,
    pub severity: Severity,
    pub ip: Option<String>,
    pub user_id: Option<String>,
    pub description: String,
    pub occurrences: i64,
    pub resolved: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRow {
    pub id: i64,
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub endpoint: Option<String>,
    pub fired_at: EpochMillis,
}
