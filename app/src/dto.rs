//! Data the server sends to the pages. Shared by the server (which fills them from the
//! store) and the browser (which renders them), so both sides agree by construction.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC: how Sightline stores and sends every instant.
pub type EpochMillis = i64;

/// One time bucket of the request volume chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestBucket {
    /// Start of the bucket.
    pub start: EpochMillis,
    /// Requests answered with a status below 400.
    pub ok: i64,
    /// Requests answered with a status of 400 or more.
    pub errors: i64,
}

/// Request volume over a window of time, bucketed by hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOverview {
    /// First instant covered (a bucket boundary).
    pub start: EpochMillis,
    /// End of the window (exclusive): "now" when the overview was made.
    pub end: EpochMillis,
    /// Length of one bucket.
    pub bucket_ms: i64,
    /// Every bucket of the window, oldest first, including empty ones.
    pub buckets: Vec<RequestBucket>,
    /// When the server computed this overview.
    pub generated_at: EpochMillis,
}

impl RequestOverview {
    pub fn total_requests(&self) -> i64 {
        self.buckets.iter().map(|b| b.ok + b.errors).sum()
    }

    pub fn total_errors(&self) -> i64 {
        self.buckets.iter().map(|b| b.errors).sum()
    }

    /// Share of requests that failed, in `0.0..=1.0`; `None` when there were none.
    pub fn error_rate(&self) -> Option<f64> {
        let total = self.total_requests();
        (total > 0).then(|| self.total_errors() as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview(buckets: &[(i64, i64)]) -> RequestOverview {
        RequestOverview {
            start: 0,
            end: 0,
            bucket_ms: 3_600_000,
            buckets: buckets
                .iter()
                .enumerate()
                .map(|(i, &(ok, errors))| RequestBucket {
                    start: i as i64 * 3_600_000,
                    ok,
                    errors,
                })
                .collect(),
            generated_at: 0,
        }
    }

    #[test]
    fn totals_add_up_every_bucket() {
        let o = overview(&[(10, 2), (0, 0), (5, 3)]);
        assert_eq!(o.total_requests(), 20);
        assert_eq!(o.total_errors(), 5);
        assert_eq!(o.error_rate(), Some(0.25));
    }

    #[test]
    fn error_rate_is_undefined_without_requests() {
        assert_eq!(overview(&[(0, 0)]).error_rate(), None);
    }
}
