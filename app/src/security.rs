//! The security view: the tracked platform's sign-ins (`auth_event`, source `platform`)
//! over a range, its filter (what the URL says), and the report the page, the dashboard
//! card, `GET /api/v1/security` and the `auth_events.csv` export share.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::{href, param};
use crate::range::TimeRange;
use crate::units::EpochMillis;

/// Every auth event type, in the order the view shows them, with its label.
pub const AUTH_EVENT_TYPES: [(&str, &str); 6] = [
    ("signup", "Signups"),
    ("login", "Logins"),
    ("logout", "Logouts"),
    ("login_failed", "Failed logins"),
    ("token_refresh", "Token refreshes"),
    ("password_reset", "Password resets"),
];

/// Rows in each top list of the view.
pub const TOP: i64 = 10;

/// The longest user id or IP a filter takes (what ingest stores is shorter).
const MAX_FILTER_CHARS: usize = 255;

/// Which auth events: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthFilter {
    /// Created at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Created before (epoch ms).
    pub until: Option<EpochMillis>,
    /// One of [`AUTH_EVENT_TYPES`].
    pub event_type: Option<String>,
    /// This platform user's events only (exact).
    pub user: Option<String>,
    /// Events from this IP only (exact).
    pub ip: Option<String>,
}

impl AuthFilter {
    /// Whether only the range and the type filter: the rollup answers the counts then.
    pub fn by_type_only(&self) -> bool {
        self.user.is_none() && self.ip.is_none()
    }
}

/// `?range=24h|7d|1m|3m|custom&start=…&end=…&type=…&user=…&ip=…`, as the URL carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecurityQuery {
    pub range: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub user: Option<String>,
    pub ip: Option<String>,
}

impl SecurityQuery {
    /// The view's range (24 hours when none is given) and filter at `now`; an error
    /// names the bad parameter.
    pub fn resolve(&self, now: EpochMillis) -> Result<(TimeRange, AuthFilter), QueryError> {
        let range = TimeRange::from_query(
            param(&self.range).as_deref(),
            param(&self.start).as_deref(),
            param(&self.end).as_deref(),
            now,
        )?;
        let mut filter = self.filter()?;
        filter.since = Some(range.start);
        filter.until = Some(range.end);
        Ok((range, filter))
    }

    /// The export's filter at `now`: as the view's, but every event when `range` is
    /// absent or `all`.
    pub fn resolve_export(&self, now: EpochMillis) -> Result<AuthFilter, QueryError> {
        match param(&self.range).as_deref() {
            None | Some("all") => self.filter(),
            Some(_) => self.resolve(now).map(|(_, f)| f),
        }
    }

    /// Type, user and IP, checked.
    fn filter(&self) -> Result<AuthFilter, QueryError> {
        let event_type = match param(&self.event_type) {
            None => None,
            Some(t) if AUTH_EVENT_TYPES.iter().any(|(name, _)| *name == t) => Some(t),
            Some(t) => {
                let names: Vec<&str> = AUTH_EVENT_TYPES.iter().map(|(n, _)| *n).collect();
                return Err(QueryError::unknown("type", &t, names.join(", ")));
            }
        };
        let bounded = |name: &'static str, v: &Option<String>| match param(v) {
            Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(QueryError::TooLong {
                name,
                max: MAX_FILTER_CHARS,
            }),
            v => Ok(v),
        };
        Ok(AuthFilter {
            since: None,
            until: None,
            event_type,
            user: bounded("user", &self.user)?,
            ip: bounded("ip", &self.ip)?,
        })
    }

    /// The view's URL with this query, `changes` applied (a `None` value drops the
    /// parameter).
    pub fn href_with(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: Vec<(&str, Option<&str>)> = vec![
            ("range", self.range.as_deref()),
            ("start", self.start.as_deref()),
            ("end", self.end.as_deref()),
            ("type", self.event_type.as_deref()),
            ("user", self.user.as_deref()),
            ("ip", self.ip.as_deref()),
        ];
        for (name, value) in changes {
            if let Some(pair) = pairs.iter_mut().find(|(n, _)| n == name) {
                pair.1 = *value;
            }
        }
        href("/security", &pairs)
    }
}

/// The summary figures of a period, for the filter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityFigures {
    /// Auth events of every type.
    pub events: i64,
    /// Events that failed (`success` false; every `login_failed` and any other that failed).
    pub failures: i64,
    /// `failures / events`; `None` without events.
    pub failure_rate: Option<f64>,
    /// Signups and logins that succeeded.
    pub signups: i64,
    pub logins: i64,
}

/// This period and the one before it, for the change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySummary {
    pub current: SecurityFigures,
    pub previous: SecurityFigures,
}

/// One bucket: the events of each type (successful or not) and the failed ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthPoint {
    pub t: EpochMillis,
    pub signup: i64,
    pub login: i64,
    pub logout: i64,
    pub login_failed: i64,
    pub token_refresh: i64,
    pub password_reset: i64,
    pub failures: i64,
}

impl AuthPoint {
    /// The count of event type `name` (one of [`AUTH_EVENT_TYPES`]).
    pub fn count_mut(&mut self, name: &str) -> Option<&mut i64> {
        Some(match name {
            "signup" => &mut self.signup,
            "login" => &mut self.login,
            "logout" => &mut self.logout,
            "login_failed" => &mut self.login_failed,
            "token_refresh" => &mut self.token_refresh,
            "password_reset" => &mut self.password_reset,
            _ => return None,
        })
    }

    /// The counts in the order of [`AUTH_EVENT_TYPES`].
    pub fn counts(&self) -> [i64; 6] {
        [
            self.signup,
            self.login,
            self.logout,
            self.login_failed,
            self.token_refresh,
            self.password_reset,
        ]
    }
}

/// An IP or a user with failed auth events in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FailingRow {
    /// The IP or the user id.
    pub key: String,
    pub failures: i64,
    pub last_failed_at: EpochMillis,
}

/// An IP with threats raised in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ThreatIpRow {
    pub ip: String,
    /// Threat records (each de-duplicated while open).
    pub threats: i64,
    /// Their occurrences, summed: the order of the list.
    pub occurrences: i64,
    pub last_seen_at: EpochMillis,
}

/// One UTC day the range touches: the platform's active users (who made requests, from
/// the per-user rollup) and the signups that succeeded. Not narrowed by the filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyPoint {
    pub day: EpochMillis,
    pub active_users: i64,
    pub signups: i64,
}

/// Everything the security view shows for a range and a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityReport {
    /// `24h`, `7d`, `1m`, `3m` or `custom`.
    pub range: String,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    /// `hour` or `day`.
    pub bucket: String,
    pub generated_at: EpochMillis,
    pub filter: AuthFilter,
    pub summary: SecuritySummary,
    /// One entry a bucket of the range, oldest first.
    pub buckets: Vec<AuthPoint>,
    /// At most [`TOP`] each, most failures first.
    pub failing_ips: Vec<FailingRow>,
    pub failing_users: Vec<FailingRow>,
    /// At most [`TOP`], most occurrences first; by the user and IP filters only.
    pub threat_ips: Vec<ThreatIpRow>,
    pub daily: Vec<DailyPoint>,
}

/// Failures as a share of events, `None` without events.
pub fn failure_rate(failures: i64, events: i64) -> Option<f64> {
    (events > 0).then(|| failures as f64 / events as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::RangeKind;

    const NOW: i64 = 1_795_372_396_000;

    #[test]
    fn the_query_becomes_a_range_and_a_filter() {
        let q = SecurityQuery {
            range: Some("7d".into()),
            event_type: Some("login_failed".into()),
            user: Some(" u-1 ".into()),
            ip: Some("".into()),
            ..Default::default()
        };
        let week = TimeRange::preset(RangeKind::Week, EpochMillis(NOW));
        let (range, filter) = q.resolve(EpochMillis(NOW)).unwrap();
        assert_eq!(range, week);
        assert_eq!(
            filter,
            AuthFilter {
                since: Some(week.start),
                until: Some(week.end),
                event_type: Some("login_failed".into()),
                user: Some("u-1".into()),
                ip: None,
            }
        );
        assert!(!filter.by_type_only());
        // No range: the view shows 24 hours, the export every event.
        let day = TimeRange::preset(RangeKind::Day, EpochMillis(NOW));
        assert_eq!(
            SecurityQuery::default()
                .resolve(EpochMillis(NOW))
                .unwrap()
                .0,
            day
        );
        assert_eq!(
            SecurityQuery::default().resolve_export(EpochMillis(NOW)),
            Ok(AuthFilter::default())
        );
        let all = SecurityQuery {
            range: Some("all".into()),
            ip: Some("10.0.0.1".into()),
            ..Default::default()
        };
        assert_eq!(
            all.resolve_export(EpochMillis(NOW)).unwrap().ip.as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(all.resolve_export(EpochMillis(NOW)).unwrap().since, None);
        assert_eq!(
            q.resolve_export(EpochMillis(NOW)).unwrap().since,
            Some(week.start),
            "a range narrows the export as the view"
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = |q: SecurityQuery| q.resolve(EpochMillis(NOW)).unwrap_err().to_string();
        assert!(
            bad(SecurityQuery {
                event_type: Some("sudo".into()),
                ..Default::default()
            })
            .starts_with("unknown type `sudo`: use signup, login, logout")
        );
        assert!(
            bad(SecurityQuery {
                range: Some("2y".into()),
                ..Default::default()
            })
            .starts_with("unknown range `2y`")
        );
        assert_eq!(
            bad(SecurityQuery {
                user: Some("u".repeat(256)),
                ..Default::default()
            }),
            "user is longer than 255 characters"
        );
        assert!(
            SecurityQuery {
                range: Some("custom".into()),
                ..Default::default()
            }
            .resolve_export(EpochMillis(NOW))
            .unwrap_err()
            .to_string()
            .contains("custom range needs start and end")
        );
    }

    #[test]
    fn links_keep_the_filter_and_apply_changes() {
        let q = SecurityQuery {
            range: Some("7d".into()),
            event_type: Some("login".into()),
            ..Default::default()
        };
        assert_eq!(
            q.href_with(&[("ip", Some("10.0.0.1")), ("type", None)]),
            "/security?range=7d&ip=10.0.0.1"
        );
        let mut p = AuthPoint::default();
        *p.count_mut("token_refresh").unwrap() += 2;
        assert_eq!(p.counts(), [0, 0, 0, 0, 2, 0]);
        assert!(p.count_mut("sudo").is_none());
        assert_eq!(failure_rate(1, 4), Some(0.25));
        assert_eq!(failure_rate(0, 0), None);
    }
}
