//! The threats view: its filter (what the URL says), the rows it shows, and what a bulk
//! action applies to. Shared by the page, the server functions and the store.

use serde::{Deserialize, Serialize};

use crate::paging::Cursor;
use crate::query::QueryError;
use crate::query::{choice, param, range_start};
use crate::report::ThreatRow;
use crate::units::EpochMillis;

pub use sightline_tracker::wire::{Severity, ThreatType};

/// Severities, highest first: the order the views list them in.
pub const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
];

/// How the views name a threat type: its wire name with spaces (`sql injection`).
pub fn threat_label(t: ThreatType) -> String {
    t.as_str().replace('_', " ")
}

/// Rows a page of the threats view shows.
pub const PAGE_SIZE: i64 = 50;

/// Open, resolved or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThreatState {
    #[default]
    Open,
    Resolved,
    All,
}

impl ThreatState {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatState::Open => "open",
            ThreatState::Resolved => "resolved",
            ThreatState::All => "all",
        }
    }
}

/// Which threats the view shows: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatFilter {
    pub threat_type: Option<ThreatType>,
    pub severity: Option<Severity>,
    pub state: ThreatState,
    /// Last seen at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Last seen before (epoch ms).
    pub until: Option<EpochMillis>,
    /// Part of the IP or of the user id.
    pub search: Option<String>,
}

/// One page of the view, newest last seen first. Not a [`crate::paging::Page`]: the
/// bulk actions' "select all matching" need the total, which other views do not count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatPage {
    pub rows: Vec<ThreatListRow>,
    /// Rows matching the filter, on every page.
    pub total: i64,
    /// The next page, if there is one.
    pub next: Option<Cursor>,
}

/// A row of the view: the dashboard's row plus where it came from and who resolved it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatListRow {
    #[serde(flatten)]
    pub threat: ThreatRow,
    pub country: Option<String>,
    pub endpoint: Option<String>,
    pub resolved_at: Option<EpochMillis>,
    pub resolved_by: Option<String>,
}

/// What a bulk Resolve or Reopen applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ThreatSelection {
    /// The rows ticked.
    Ids(Vec<i64>),
    /// Every threat matching the filter, on every page.
    Matching(ThreatFilter),
}

/// The most ids one action takes (a larger selection uses "all matching").
pub const MAX_SELECTED: usize = 10_000;

/// The view's query string, as the URL carries it (under other names: `type`, `q`),
/// and the fields of its server function's form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreatQuery {
    pub threat_type: Option<String>,
    pub severity: Option<String>,
    pub state: Option<String>,
    pub range: Option<String>,
    pub search: Option<String>,
    pub after: Option<String>,
}

impl ThreatQuery {
    /// The filter and cursor it means at `now`; an error names the bad parameter.
    pub fn resolve(&self, now: EpochMillis) -> Result<(ThreatFilter, Option<Cursor>), QueryError> {
        let threat_type = choice("threat type", &self.threat_type, ThreatType::parse, None)?;
        let severity = choice("severity", &self.severity, Severity::parse, None)?;
        let state = match param(&self.state).as_deref() {
            None | Some("open") => ThreatState::Open,
            Some("resolved") => ThreatState::Resolved,
            Some("all") => ThreatState::All,
            Some(other) => {
                return Err(QueryError::unknown("state", other, "open, resolved or all"));
            }
        };
        let since = match param(&self.range) {
            None => None,
            Some(r) => range_start(&r, now)?,
        };
        let search = param(&self.search).map(|s| s.chars().take(100).collect());
        let after = Cursor::from_param(&self.after, now)?;
        Ok((
            ThreatFilter {
                threat_type,
                severity,
                state,
                since,
                until: None,
                search,
            },
            after,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{RangeKind, TimeRange};

    #[test]
    fn the_query_becomes_a_filter() {
        let now = 1_795_372_396_000;
        let q = ThreatQuery {
            threat_type: Some("xss".into()),
            severity: Some("high".into()),
            state: Some("all".into()),
            range: Some("24h".into()),
            search: Some(" 198.51 ".into()),
            after: Some("1795372000000_42".into()),
        };
        let (filter, after) = q.resolve(EpochMillis(now)).unwrap();
        assert_eq!(
            filter,
            ThreatFilter {
                threat_type: Some(ThreatType::Xss),
                severity: Some(Severity::High),
                state: ThreatState::All,
                since: Some(TimeRange::preset(RangeKind::Day, EpochMillis(now)).start),
                until: None,
                search: Some("198.51".into()),
            }
        );
        assert_eq!(
            after,
            Some(Cursor {
                at: EpochMillis(1_795_372_000_000),
                id: 42
            })
        );
        assert_eq!(
            ThreatQuery::default().resolve(EpochMillis(now)).unwrap(),
            (ThreatFilter::default(), None)
        );
        for bad in [
            ThreatQuery {
                threat_type: Some("ddos".into()),
                ..Default::default()
            },
            ThreatQuery {
                severity: Some("urgent".into()),
                ..Default::default()
            },
            ThreatQuery {
                state: Some("closed".into()),
                ..Default::default()
            },
            ThreatQuery {
                range: Some("custom".into()),
                ..Default::default()
            },
            ThreatQuery {
                after: Some("x".into()),
                ..Default::default()
            },
            ThreatQuery {
                after: Some("-1_1".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.resolve(EpochMillis(now)).is_err(), "{bad:?}");
        }
    }
}
