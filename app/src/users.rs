//! The users view: the platform's users (`tracked_user`), their query (what the URL
//! says), their rows, and one user in detail. Shared by the pages, the server
//! functions and the store.

use serde::{Deserialize, Serialize};

use crate::paging::Page;
use crate::query::QueryError;
use crate::query::{choice, in_bounds, param};
use crate::sessions::SessionRow;
use crate::units::{EpochMillis, Micros};

/// Rows a page of the users view shows.
pub const PAGE_SIZE: i64 = 50;

/// The sessions a user's detail shows, latest first.
pub const USER_SESSIONS: i64 = 20;

/// What the view is ordered by, always descending (dearest, busiest, latest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    #[default]
    Cost,
    Requests,
    LastSeen,
}

impl UserSort {
    pub const ALL: [UserSort; 3] = [UserSort::Cost, UserSort::Requests, UserSort::LastSeen];

    pub fn as_str(self) -> &'static str {
        match self {
            UserSort::Cost => "cost",
            UserSort::Requests => "requests",
            UserSort::LastSeen => "last_seen",
        }
    }

    pub fn parse(s: &str) -> Option<UserSort> {
        UserSort::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Which users the view shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFilter {
    /// Part of the user id, any case.
    pub search: Option<String>,
    pub sort: UserSort,
}

/// Where a page starts: after the user with sort value `value` and id `user_id`
/// (users are ordered by the sort column, then by user id, both descending).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCursor {
    pub value: i64,
    pub user_id: String,
}

impl UserCursor {
    /// Reads `<value>_<user id>`; the value has no `_`, the user id may.
    pub fn parse(s: &str) -> Option<UserCursor> {
        let (value, user_id) = s.split_once('_')?;
        Some(UserCursor {
            value: value.parse().ok()?,
            user_id: user_id.to_owned(),
        })
    }

    pub fn to_param(&self) -> String {
        format!("{}_{}", self.value, self.user_id)
    }
}

/// A user of the platform and their totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub user_id: String,
    pub first_seen_at: EpochMillis,
    pub last_seen_at: EpochMillis,
    pub requests: i64,
    pub errors: i64,
    pub tokens: i64,
    /// The cost of the user's own requests to the platform (`kind = api`).
    pub cost_micros: Micros,
    /// Calls the platform made to providers that carry the user's id (`kind =
    /// external`: from the tracker, the gateway or OTLP GenAI spans), and their cost.
    /// Counted apart from `cost_micros`: an OTLP server span's cost already includes
    /// the GenAI spans below it, so the two are not added up.
    pub provider_calls: i64,
    pub provider_cost_micros: Micros,
}

impl UserRow {
    /// The row's value of the column `sort` orders by.
    pub fn sort_value(&self, sort: UserSort) -> i64 {
        match sort {
            UserSort::Cost => self.cost_micros.micros(),
            UserSort::Requests => self.requests,
            UserSort::LastSeen => self.last_seen_at.ms(),
        }
    }
}

/// One page of the view, in the order of its sort.
pub type UserPage = Page<UserRow, UserCursor>;

/// What a user's attributable calls cost at one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProviderCost {
    /// The provider (`service`), `""` when the calls named none.
    pub service: String,
    pub calls: i64,
    pub errors: i64,
    /// Prompt and completion tokens.
    pub tokens: i64,
    pub cost_micros: Micros,
}

/// One user in detail: their totals, their provider costs and their latest sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    pub user: UserRow,
    /// Every provider the user's calls went to, the dearest first.
    pub providers: Vec<UserProviderCost>,
    /// At most [`USER_SESSIONS`], latest started first.
    pub sessions: Vec<SessionRow>,
}

/// The view's query string, as the URL carries it (`search` as `q`), and the fields of
/// its server function's form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    pub search: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
}

impl UserQuery {
    /// The filter and cursor it means at `now`; an error names the bad parameter.
    pub fn resolve(
        &self,
        now: EpochMillis,
    ) -> Result<(UserFilter, Option<UserCursor>), QueryError> {
        let sort = choice(
            "sort",
            &self.sort,
            UserSort::parse,
            Some("cost, requests or last_seen"),
        )?
        .unwrap_or(UserSort::Cost);
        let after = match param(&self.after) {
            None => None,
            Some(a) => Some(
                UserCursor::parse(&a)
                    // A last-seen cursor holds an instant.
                    .filter(|c| sort != UserSort::LastSeen || in_bounds(EpochMillis(c.value), now))
                    .ok_or(QueryError::Cursor)?,
            ),
        };
        Ok((
            UserFilter {
                search: param(&self.search).map(|s| s.chars().take(100).collect()),
                sort,
            },
            after,
        ))
    }
}

/// Errors as a share of requests, `0 %` when there are none.
pub fn error_rate(errors: i64, requests: i64) -> f64 {
    if requests > 0 {
        errors as f64 / requests as f64
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_372_396_000;

    #[test]
    fn the_query_becomes_a_filter() {
        assert_eq!(
            UserQuery::default().resolve(EpochMillis(NOW)),
            Ok((UserFilter::default(), None))
        );
        let q = UserQuery {
            search: Some(" acme ".into()),
            sort: Some("last_seen".into()),
            after: Some("1795372000000_team_a:u-1".into()),
        };
        assert_eq!(
            q.resolve(EpochMillis(NOW)),
            Ok((
                UserFilter {
                    search: Some("acme".into()),
                    sort: UserSort::LastSeen,
                },
                Some(UserCursor {
                    value: 1_795_372_000_000,
                    user_id: "team_a:u-1".into()
                })
            ))
        );
        let (filter, _) = UserQuery {
            sort: Some("requests".into()),
            ..Default::default()
        }
        .resolve(EpochMillis(NOW))
        .unwrap();
        assert_eq!(filter.sort, UserSort::Requests);
        for (bad, message) in [
            (
                UserQuery {
                    sort: Some("name".into()),
                    ..Default::default()
                },
                "unknown sort `name`",
            ),
            (
                UserQuery {
                    after: Some("x_u".into()),
                    ..Default::default()
                },
                "bad page cursor",
            ),
            (
                UserQuery {
                    after: Some("12".into()),
                    ..Default::default()
                },
                "bad page cursor",
            ),
            (
                UserQuery {
                    sort: Some("last_seen".into()),
                    after: Some("-5_u".into()),
                    ..Default::default()
                },
                "bad page cursor",
            ),
        ] {
            let e = bad.resolve(EpochMillis(NOW)).unwrap_err().to_string();
            assert!(e.starts_with(message), "{bad:?}: {e}");
        }
        let c = UserCursor {
            value: 45,
            user_id: "a_b".into(),
        };
        assert_eq!(UserCursor::parse(&c.to_param()), Some(c));
        assert_eq!(error_rate(1, 4), 0.25);
        assert_eq!(error_rate(0, 0), 0.0);
    }
}
