//! The sessions view: its query (what the URL says), its rows, and where a session's
//! requests are in the explorer. The filter is the sessions export's
//! ([`SessionFilter`]), so the view's "Export CSV" exports exactly what it lists.

use serde::{Deserialize, Serialize};

use crate::export::{SessionFilter, SessionQuery};
use crate::paging::{Cursor, Page};
use crate::query::QueryError;
use crate::query::{href, param};
use crate::requests::SessionSummary;
use crate::units::EpochMillis;

/// Rows a page of the sessions view shows.
pub const PAGE_SIZE: i64 = 50;

/// The range the view shows when the URL names none (the export's default is all).
pub const DEFAULT_RANGE: &str = "24h";

/// A row of the view: the session's totals, its row id and the client's IP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    pub id: i64,
    #[serde(flatten)]
    pub session: SessionSummary,
    pub ip: Option<String>,
}

/// One page of the view, newest started first.
pub type SessionPage = Page<SessionRow>;

/// The view's query string, as the URL carries it, and the fields of its server
/// function's form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionListQuery {
    pub range: Option<String>,
    pub user: Option<String>,
    pub after: Option<String>,
}

impl SessionListQuery {
    /// The range it means: the URL's, else [`DEFAULT_RANGE`].
    pub fn range(&self) -> String {
        param(&self.range).unwrap_or_else(|| DEFAULT_RANGE.to_owned())
    }

    /// The filter and cursor it means at `now`; an error names the bad parameter.
    pub fn resolve(&self, now: EpochMillis) -> Result<(SessionFilter, Option<Cursor>), QueryError> {
        let filter = SessionQuery {
            range: Some(self.range()),
            user: self.user.clone(),
        }
        .resolve(now)?;
        Ok((filter, Cursor::from_param(&self.after, now)?))
    }
}

/// The requests explorer showing the requests of session `s`. A client-given session
/// is its `session_id` within its span (the `(session_id, created_at)` index serves
/// it); an inferred session is its user's requests within its span, which also shows
/// any request of theirs with a session id sent in that time.
pub fn requests_href(s: &SessionSummary) -> String {
    let since = s.started_at.to_string();
    // `until` is exclusive; the last request is at `last_seen_at`.
    let until = (s.last_seen_at + 1).to_string();
    let (user, session) = if s.inferred {
        (s.user_id.as_deref(), None)
    } else {
        (None, Some(s.session_key.as_str()))
    };
    href(
        "/requests",
        &[
            ("range", Some("all")),
            ("user", user),
            ("session", session),
            ("since", Some(&since)),
            ("until", Some(&until)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{RangeKind, TimeRange};
    use crate::units::Micros;

    const NOW: i64 = 1_795_372_396_000;

    fn summary(inferred: bool) -> SessionSummary {
        SessionSummary {
            session_key: if inferred { "u 1@1000" } else { "sess/A" }.into(),
            user_id: Some("u 1".into()),
            inferred,
            started_at: EpochMillis(1000),
            last_seen_at: EpochMillis(5000),
            request_count: 2,
            error_count: 0,
            tokens: 300,
            cost_micros: Micros(90),
        }
    }

    #[test]
    fn the_query_becomes_a_filter_with_24_hours_by_default() {
        let day = TimeRange::preset(RangeKind::Day, EpochMillis(NOW)).start;
        assert_eq!(
            SessionListQuery::default().resolve(EpochMillis(NOW)),
            Ok((
                SessionFilter {
                    since: Some(day),
                    user: None
                },
                None
            ))
        );
        let q = SessionListQuery {
            range: Some("all".into()),
            user: Some(" user-1 ".into()),
            after: Some("1795372000000_42".into()),
        };
        assert_eq!(
            q.resolve(EpochMillis(NOW)),
            Ok((
                SessionFilter {
                    since: None,
                    user: Some("user-1".into())
                },
                Some(Cursor {
                    at: EpochMillis(1_795_372_000_000),
                    id: 42
                })
            ))
        );
        let bad_range = SessionListQuery {
            range: Some("1y".into()),
            ..Default::default()
        };
        assert!(
            bad_range
                .resolve(EpochMillis(NOW))
                .unwrap_err()
                .to_string()
                .starts_with("unknown range `1y`")
        );
        let bad_cursor = SessionListQuery {
            after: Some("42".into()),
            ..Default::default()
        };
        assert_eq!(
            bad_cursor
                .resolve(EpochMillis(NOW))
                .unwrap_err()
                .to_string(),
            "bad page cursor"
        );
        let far_cursor = SessionListQuery {
            after: Some("99999999999999999_1".into()),
            ..Default::default()
        };
        assert_eq!(
            far_cursor
                .resolve(EpochMillis(NOW))
                .unwrap_err()
                .to_string(),
            "bad page cursor"
        );
    }

    #[test]
    fn a_session_links_to_its_requests() {
        assert_eq!(
            requests_href(&summary(false)),
            "/requests?range=all&session=sess%2FA&since=1000&until=5001"
        );
        assert_eq!(
            requests_href(&summary(true)),
            "/requests?range=all&user=u%201&since=1000&until=5001"
        );
    }
}
