//! Reading the error groups of a range: from `rollup_error` (per bucket, group,
//! endpoint and status) and `error_group`, never the raw requests, so a range costs its
//! buckets' rows.

use super::{Buckets, Store, StoreError};

use sightline_app::units::EpochMillis;

/// One group over a range.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ErrorGroupTotals {
    pub fingerprint: String,
    pub pattern: String,
    pub example: String,
    pub requests: i64,
    pub first_seen_at: EpochMillis,
    pub last_seen_at: EpochMillis,
    /// The group's first request in any bucket its rollups still hold.
    pub group_first_seen_at: EpochMillis,
}

/// A group's requests at one status (as text) or one endpoint over a range.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ErrorGroupPart {
    pub fingerprint: String,
    pub key: String,
    pub requests: i64,
}

/// What a group is broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPart {
    Status,
    Endpoint,
}

impl ErrorPart {
    fn column(self) -> &'static str {
        match self {
            ErrorPart::Status => "CAST(status_code AS TEXT)",
            ErrorPart::Endpoint => "endpoint",
        }
    }
}

impl Store {
    /// Every group with requests in the buckets (whole days of an
    /// hourly range from the daily rows), unsorted.
    pub async fn error_group_totals(
        &self,
        buckets: Buckets,
    ) -> Result<Vec<ErrorGroupTotals>, StoreError> {
        self.over_spans(
                "rollup_error",
                "fingerprint, requests, first_seen_at, last_seen_at",
                "SELECT r.fingerprint, COALESCE(g.pattern, r.fingerprint) AS pattern, \
                        COALESCE(g.example, '') AS example, \
                        CAST(SUM(r.requests) AS BIGINT) AS requests, \
                        CAST(MIN(r.first_seen_at) AS BIGINT) AS first_seen_at, \
                        CAST(MAX(r.last_seen_at) AS BIGINT) AS last_seen_at, \
                        CAST(COALESCE(g.first_seen_at, MIN(r.first_seen_at)) AS BIGINT) AS group_first_seen_at \
                 FROM ({rows}) r LEFT JOIN error_group g ON g.fingerprint = r.fingerprint \
                 GROUP BY r.fingerprint, g.pattern, g.example, g.first_seen_at",
                buckets,
            )
            .await
    }

    /// Each group's requests per status or per endpoint over the range.
    pub async fn error_group_parts(
        &self,
        part: ErrorPart,
        buckets: Buckets,
    ) -> Result<Vec<ErrorGroupPart>, StoreError> {
        self.over_spans(
            "rollup_error",
            &format!("fingerprint, {} AS key, requests", part.column()),
            "SELECT fingerprint, key, CAST(SUM(requests) AS BIGINT) AS requests \
                 FROM ({rows}) r GROUP BY fingerprint, key",
            buckets,
        )
        .await
    }
}
