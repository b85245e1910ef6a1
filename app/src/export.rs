//! The filters of the feedback and sessions lists (what the URL says), shared by the CSV
//! export, the store and the views that show them.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::{param, range_start};
use crate::units::EpochMillis;

/// Which ratings: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackFilter {
    /// Created at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Ratings of this request only.
    pub request_id: Option<String>,
}

/// `?range=24h|7d|1m|3m|all` (default all) `&request_id=…`, as the URL carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedbackQuery {
    pub range: Option<String>,
    pub request_id: Option<String>,
}

impl FeedbackQuery {
    /// The filter it means at `now`; an error names the bad parameter.
    pub fn resolve(&self, now: EpochMillis) -> Result<FeedbackFilter, QueryError> {
        Ok(FeedbackFilter {
            since: since(&self.range, now)?,
            request_id: param(&self.request_id),
        })
    }
}

/// Which sessions: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionFilter {
    /// Started at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Sessions of this platform user only.
    pub user: Option<String>,
}

/// `?range=24h|7d|1m|3m|all` (default all) `&user=…`, as the URL carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionQuery {
    pub range: Option<String>,
    pub user: Option<String>,
}

impl SessionQuery {
    /// The filter it means at `now`; an error names the bad parameter.
    pub fn resolve(&self, now: EpochMillis) -> Result<SessionFilter, QueryError> {
        Ok(SessionFilter {
            since: since(&self.range, now)?,
            user: param(&self.user),
        })
    }
}

/// The start of `?range=`, none (every row) when absent.
fn since(range: &Option<String>, now: EpochMillis) -> Result<Option<EpochMillis>, QueryError> {
    match param(range) {
        None => Ok(None),
        Some(r) => range_start(&r, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{RangeKind, TimeRange};

    const NOW: i64 = 1_795_372_396_000;

    #[test]
    fn feedback_queries_become_filters() {
        assert_eq!(
            FeedbackQuery::default().resolve(EpochMillis(NOW)),
            Ok(FeedbackFilter::default())
        );
        let q = FeedbackQuery {
            range: Some("7d".into()),
            request_id: Some(" req-1 ".into()),
        };
        assert_eq!(
            q.resolve(EpochMillis(NOW)),
            Ok(FeedbackFilter {
                since: Some(TimeRange::preset(RangeKind::Week, EpochMillis(NOW)).start),
                request_id: Some("req-1".into()),
            })
        );
        let all = FeedbackQuery {
            range: Some("all".into()),
            request_id: Some("  ".into()),
        };
        assert_eq!(all.resolve(EpochMillis(NOW)), Ok(FeedbackFilter::default()));
        let bad = FeedbackQuery {
            range: Some("1y".into()),
            ..Default::default()
        };
        assert!(
            bad.resolve(EpochMillis(NOW))
                .unwrap_err()
                .to_string()
                .starts_with("unknown range `1y`")
        );
    }

    #[test]
    fn session_queries_become_filters() {
        assert_eq!(
            SessionQuery::default().resolve(EpochMillis(NOW)),
            Ok(SessionFilter::default())
        );
        let q = SessionQuery {
            range: Some("24h".into()),
            user: Some("user-1".into()),
        };
        assert_eq!(
            q.resolve(EpochMillis(NOW)),
            Ok(SessionFilter {
                since: Some(TimeRange::preset(RangeKind::Day, EpochMillis(NOW)).start),
                user: Some("user-1".into()),
            })
        );
        let bad = SessionQuery {
            range: Some("custom".into()),
            ..Default::default()
        };
        assert!(
            bad.resolve(EpochMillis(NOW))
                .unwrap_err()
                .to_string()
                .starts_with("unknown range `custom`")
        );
    }
}
