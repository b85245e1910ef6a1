//! The requests explorer: its filter (what the URL says), its rows, one request in
//! detail, and the ratings dashboard accounts give it. Shared by the pages, the server
//! functions and the store.

use serde::{Deserialize, Serialize};

use crate::input::InputError;
use crate::paging::Page;
use crate::query::QueryError;
use crate::query::{Edge, choice, in_bounds, optional_instant, param, range_start};
use crate::units::{EpochMillis, Micros};

/// Rows a page of the explorer shows.
pub const PAGE_SIZE: i64 = 50;

/// The longest comment a rating takes, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// The range the explorer shows when the URL names none.
pub const DEFAULT_RANGE: &str = "24h";

/// What a dashboard account's ratings carry before its username as their feedback
/// `user_id`, so they never collide with a user id of the platform.
const RATER_PREFIX: &str = "sightline:";

/// The feedback `user_id` of `username`'s ratings.
pub fn rater_id(username: &str) -> String {
    format!("{RATER_PREFIX}{username}")
}

/// Whether `user_id` would read as a dashboard account's: it starts with
/// `sightline:`, in any case, after any leading spaces. Only the accounts themselves
/// rate under such ids; ingest refuses them, so nobody can pass for an account.
pub fn claims_account(user_id: &str) -> bool {
    user_id
        .trim_start()
        .get(..RATER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(RATER_PREFIX))
}

/// Who gave a rating, for people: a dashboard account by name, a platform user by id.
pub fn rater_name(user_id: &str) -> String {
    match user_id.strip_prefix(RATER_PREFIX) {
        Some(name) => format!("{name} (dashboard)"),
        None if user_id.is_empty() => "anonymous".to_owned(),
        None => user_id.to_owned(),
    }
}

/// A class of HTTP status; `Errors` is every status from 400 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatusClass {
    #[serde(rename = "2xx")]
    Success,
    #[serde(rename = "3xx")]
    Redirect,
    #[serde(rename = "4xx")]
    ClientError,
    #[serde(rename = "5xx")]
    ServerError,
    #[serde(rename = "errors")]
    Errors,
}

impl StatusClass {
    pub const ALL: [StatusClass; 5] = [
        StatusClass::Success,
        StatusClass::Redirect,
        StatusClass::ClientError,
        StatusClass::ServerError,
        StatusClass::Errors,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "2xx",
            StatusClass::Redirect => "3xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
            StatusClass::Errors => "errors",
        }
    }

    pub fn parse(s: &str) -> Option<StatusClass> {
        StatusClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The statuses of the class: at least the first, below the second if any.
    pub fn bounds(self) -> (i32, Option<i32>) {
        match self {
            StatusClass::Success => (200, Some(300)),
            StatusClass::Redirect => (300, Some(400)),
            StatusClass::ClientError => (400, Some(500)),
            StatusClass::ServerError => (500, Some(600)),
            StatusClass::Errors => (400, None),
        }
    }

    /// The CSS class a status is shown with (`status-2xx` … `status-5xx`).
    pub fn css(status: i32) -> String {
        format!("status status-{}xx", (status / 100).clamp(1, 5))
    }
}

/// Who made a request: the platform served it (`api`) or called a provider (`external`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Api,
    External,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Api, Kind::External];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::External => "external",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the explorer is ordered by, always descending (newest, slowest, dearest first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestSort {
    #[default]
    Time,
    Latency,
    Cost,
}

impl RequestSort {
    pub const ALL: [RequestSort; 3] = [RequestSort::Time, RequestSort::Latency, RequestSort::Cost];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestSort::Time => "time",
            RequestSort::Latency => "latency",
            RequestSort::Cost => "cost",
        }
    }

    pub fn parse(s: &str) -> Option<RequestSort> {
        RequestSort::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Which requests the explorer shows: every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFilter {
    /// Created at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// Created before (epoch ms).
    pub until: Option<EpochMillis>,
    pub status: Option<StatusClass>,
    /// Served requests or provider calls.
    pub kind: Option<Kind>,
    /// The provider of a call (`service`), exactly.
    pub service: Option<String>,
    pub model: Option<String>,
    pub endpoint: Option<String>,
    pub user: Option<String>,
    /// ISO 3166-1 alpha-2, in capitals.
    pub country: Option<String>,
    /// Part of the endpoint or of the error, any case.
    pub text: Option<String>,
    /// The client-given session (`session_id`), exactly.
    pub session: Option<String>,
    /// The error group (its fingerprint, as the errors view links it), exactly.
    pub error_group: Option<String>,
    pub sort: RequestSort,
}

/// The value of the sort column at a page boundary: an instant or micro-dollars
/// (`Int`), or a latency (`Real`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortValue {
    Int(i64),
    Real(f64),
}

impl SortValue {
    /// Whether the value, read as an instant, is within bounds ([`in_bounds`]).
    fn within_bounds(self, now: EpochMillis) -> bool {
        matches!(self, SortValue::Int(t) if in_bounds(EpochMillis(t), now))
    }
}

/// Where a page starts: after the row with sort value `value` and id `id` (rows are
/// ordered by the sort column, then by id, both descending).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestCursor {
    pub value: SortValue,
    pub id: i64,
}

impl RequestCursor {
    /// Reads `<value>_<id>`, the value of the kind `sort` orders by.
    pub fn parse(s: &str, sort: RequestSort) -> Option<RequestCursor> {
        let (value, id) = s.rsplit_once('_')?;
        let value = match sort {
            RequestSort::Time | RequestSort::Cost => SortValue::Int(value.parse().ok()?),
            RequestSort::Latency => {
                let v: f64 = value.parse().ok()?;
                if !v.is_finite() {
                    return None;
                }
                SortValue::Real(v)
            }
        };
        Some(RequestCursor {
            value,
            id: id.parse().ok()?,
        })
    }

    /// The URL form; a latency is written so that it reads back to the same `f64`.
    pub fn to_param(self) -> String {
        match self.value {
            SortValue::Int(v) => format!("{v}_{}", self.id),
            SortValue::Real(v) => format!("{v}_{}", self.id),
        }
    }
}

/// A row of the explorer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRow {
    pub id: i64,
    pub request_id: String,
    pub created_at: EpochMillis,
    pub method: String,
    pub endpoint: String,
    pub status: i32,
    pub model: Option<String>,
    /// Prompt and completion tokens.
    pub tokens: i64,
    pub cost_micros: Micros,
    pub latency_ms: f64,
    pub user_id: Option<String>,
    pub country: Option<String>,
}

/// One page of the explorer, in the order of its sort.
pub type RequestPage = Page<RequestRow, RequestCursor>;

/// Every column of a stored request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub id: i64,
    pub request_id: String,
    pub created_at: EpochMillis,
    /// `api` or `external`.
    pub kind: String,
    pub service: Option<String>,
    pub endpoint: String,
    pub method: String,
    pub status_code: i32,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub model_name: Option<String>,
    /// Every input token, cached ones included.
    pub prompt_tokens: i64,
    /// Every output token, reasoning included.
    pub completion_tokens: i64,
    /// Of the prompt tokens: read from and written to the provider's prompt cache.
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// Of the completion tokens: spent on reasoning.
    pub reasoning_tokens: i64,
    pub cost_micros: Micros,
    pub finish_reason: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub is_authenticated: bool,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub user_agent: Option<String>,
    pub request_bytes: Option<i64>,
    pub response_bytes: Option<i64>,
    pub error: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
}

/// The session a request belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub session_key: String,
    pub user_id: Option<String>,
    /// Inferred from the user's activity (no `session_id` from the client).
    pub inferred: bool,
    pub started_at: EpochMillis,
    pub last_seen_at: EpochMillis,
    pub request_count: i64,
    pub error_count: i64,
    pub tokens: i64,
    pub cost_micros: Micros,
}

/// A rating of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackEntry {
    /// The rater: a user of the platform, `sightline:<username>` for a dashboard
    /// account, `""` when anonymous.
    pub user_id: String,
    pub rating: i32,
    pub comment: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// One request in detail: the row, its session, its ratings, and the signed-in
/// account's own rating.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetail {
    pub request: RequestRecord,
    pub session: Option<SessionSummary>,
    /// Every rating, most recently changed first.
    pub feedback: Vec<FeedbackEntry>,
    pub my_rating: Option<FeedbackEntry>,
}

/// A rating as submitted, checked: rating 1..=5, comment trimmed (blank is none) and
/// at most [`MAX_COMMENT_CHARS`].
pub fn check_rating(
    rating: i32,
    comment: Option<String>,
) -> Result<(i32, Option<String>), InputError> {
    if !(1..=5).contains(&rating) {
        return Err(InputError::Rating(rating));
    }
    let comment = param(&comment);
    if let Some(c) = &comment
        && c.chars().count() > MAX_COMMENT_CHARS
    {
        return Err(InputError::LongComment {
            chars: c.chars().count(),
        });
    }
    Ok((rating, comment))
}

/// The explorer's query string, as the URL carries it (`text` as `q`), and the fields
/// of its server function's form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestQuery {
    pub range: Option<String>,
    pub status: Option<String>,
    /// `api` or `external`.
    pub kind: Option<String>,
    /// A provider (`service`).
    pub service: Option<String>,
    pub model: Option<String>,
    pub endpoint: Option<String>,
    pub user: Option<String>,
    pub country: Option<String>,
    pub text: Option<String>,
    /// A client-given session id.
    pub session: Option<String>,
    /// An error group's fingerprint (`error_group=`).
    pub error_group: Option<String>,
    /// Epoch ms bounds within the range (at or after, before): an inferred session's
    /// span, as its drill-down links carry it.
    pub since: Option<String>,
    pub until: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
}

impl RequestQuery {
    /// The filter and cursor it means at `now`; an error names the bad parameter.
    pub fn resolve(
        &self,
        now: EpochMillis,
    ) -> Result<(RequestFilter, Option<RequestCursor>), QueryError> {
        let range = param(&self.range).unwrap_or_else(|| DEFAULT_RANGE.to_owned());
        let given_since = optional_instant("since", &self.since, Edge::Start, now)?;
        let until = optional_instant("until", &self.until, Edge::End, now)?;
        if let (Some(since), Some(until)) = (given_since, until)
            && until <= since
        {
            return Err(QueryError::Order("until must be after since"));
        }
        // The later of the range's start and `since`.
        let since = match (range_start(&range, now)?, given_since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let status = choice(
            "status class",
            &self.status,
            StatusClass::parse,
            Some("2xx, 3xx, 4xx, 5xx or errors"),
        )?;
        let kind = choice("kind", &self.kind, Kind::parse, Some("api or external"))?;
        let country = match param(&self.country) {
            None => None,
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(c) => return Err(QueryError::Country(c)),
        };
        let error_group = match param(&self.error_group) {
            None => None,
            Some(g) if crate::errors::is_fingerprint(&g) => Some(g),
            Some(g) => {
                return Err(QueryError::ErrorGroup(g.chars().take(40).collect()));
            }
        };
        let sort = choice(
            "sort",
            &self.sort,
            RequestSort::parse,
            Some("time, latency or cost"),
        )?
        .unwrap_or(RequestSort::Time);
        let after = match param(&self.after) {
            None => None,
            Some(a) => Some(
                RequestCursor::parse(&a, sort)
                    .filter(|c| sort != RequestSort::Time || c.value.within_bounds(now))
                    .ok_or(QueryError::Cursor)?,
            ),
        };
        Ok((
            RequestFilter {
                since,
                until,
                status,
                kind,
                service: param(&self.service),
                model: param(&self.model),
                endpoint: param(&self.endpoint),
                user: param(&self.user),
                country,
                text: param(&self.text).map(|s| s.chars().take(100).collect()),
                session: param(&self.session),
                error_group,
                sort,
            },
            after,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{RangeKind, TimeRange};

    const NOW: i64 = 1_795_372_396_000;

    fn query(f: impl FnOnce(&mut RequestQuery)) -> RequestQuery {
        let mut q = RequestQuery::default();
        f(&mut q);
        q
    }

    #[test]
    fn the_query_becomes_a_filter() {
        let q = RequestQuery {
            range: Some("7d".into()),
            status: Some("5xx".into()),
            kind: Some("external".into()),
            service: Some(" openai ".into()),
            model: Some(" gpt-4o ".into()),
            endpoint: Some("/v1/chat/completions".into()),
            user: Some("user-1".into()),
            country: Some("de".into()),
            text: Some(" timeout ".into()),
            session: Some(" sess-A ".into()),
            error_group: Some("9f86d081884c7d65".into()),
            since: None,
            until: Some("1795372000000".into()),
            sort: Some("latency".into()),
            after: Some("1250.5_42".into()),
        };
        let (filter, after) = q.resolve(EpochMillis(NOW)).unwrap();
        assert_eq!(
            filter,
            RequestFilter {
                since: Some(TimeRange::preset(RangeKind::Week, EpochMillis(NOW)).start),
                until: Some(EpochMillis(1_795_372_000_000)),
                status: Some(StatusClass::ServerError),
                kind: Some(Kind::External),
                service: Some("openai".into()),
                model: Some("gpt-4o".into()),
                endpoint: Some("/v1/chat/completions".into()),
                user: Some("user-1".into()),
                country: Some("DE".into()),
                text: Some("timeout".into()),
                session: Some("sess-A".into()),
                error_group: Some("9f86d081884c7d65".into()),
                sort: RequestSort::Latency,
            }
        );
        assert_eq!(
            after,
            Some(RequestCursor {
                value: SortValue::Real(1250.5),
                id: 42
            })
        );
    }

    #[test]
    fn the_last_24_hours_by_time_is_the_default_and_all_has_no_start() {
        let (filter, after) = RequestQuery::default().resolve(EpochMillis(NOW)).unwrap();
        assert_eq!(
            filter,
            RequestFilter {
                since: Some(TimeRange::preset(RangeKind::Day, EpochMillis(NOW)).start),
                ..Default::default()
            }
        );
        assert_eq!(after, None);
        let (filter, _) = query(|q| q.range = Some("all".into()))
            .resolve(EpochMillis(NOW))
            .unwrap();
        assert_eq!(filter, RequestFilter::default());
        let (filter, after) = query(|q| {
            q.sort = Some("cost".into());
            q.after = Some("4500_7".into());
            q.status = Some("errors".into());
        })
        .resolve(EpochMillis(NOW))
        .unwrap();
        assert_eq!(
            (filter.sort, filter.status, after),
            (
                RequestSort::Cost,
                Some(StatusClass::Errors),
                Some(RequestCursor {
                    value: SortValue::Int(4500),
                    id: 7
                })
            )
        );
    }

    #[test]
    fn since_narrows_the_range_and_until_ends_it() {
        let day_start = TimeRange::preset(RangeKind::Day, EpochMillis(NOW)).start;
        let (filter, _) = query(|q| {
            q.range = Some("all".into());
            q.since = Some("1000".into());
            q.until = Some("2000".into());
        })
        .resolve(EpochMillis(NOW))
        .unwrap();
        assert_eq!(
            (filter.since, filter.until),
            (Some(EpochMillis(1000)), Some(EpochMillis(2000)))
        );
        // Within the default 24 hours, the later start wins.
        let (filter, _) = query(|q| q.since = Some("1000".into()))
            .resolve(EpochMillis(NOW))
            .unwrap();
        assert_eq!(filter.since, Some(day_start));
        let (filter, _) = query(|q| q.since = Some((NOW - 1000).to_string()))
            .resolve(EpochMillis(NOW))
            .unwrap();
        assert_eq!(filter.since, Some(EpochMillis(NOW - 1000)));
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases: [(RequestQuery, &str); 13] = [
            (
                query(|q| q.kind = Some("internal".into())),
                "unknown kind `internal`: use api or external",
            ),
            (query(|q| q.range = Some("1y".into())), "unknown range `1y`"),
            (
                query(|q| q.range = Some("custom".into())),
                "unknown range `custom`",
            ),
            (
                query(|q| q.status = Some("6xx".into())),
                "unknown status class `6xx`",
            ),
            (
                query(|q| q.country = Some("Germany".into())),
                "country `Germany` is not a two-letter code",
            ),
            (
                query(|q| q.sort = Some("size".into())),
                "unknown sort `size`",
            ),
            (query(|q| q.after = Some("x".into())), "bad page cursor"),
            (
                query(|q| q.since = Some("yesterday".into())),
                "since `yesterday` is not an instant",
            ),
            (
                query(|q| q.until = Some("1.5".into())),
                "until `1.5` is not an instant",
            ),
            (
                query(|q| q.since = Some("-1".into())),
                "since `-1` is out of bounds",
            ),
            (
                query(|q| {
                    q.since = Some("2000".into());
                    q.until = Some("1000".into());
                }),
                "until must be after since",
            ),
            (
                query(|q| q.after = Some(format!("{}_3", NOW + 2 * 86_400_000))),
                "bad page cursor",
            ),
            // A latency cursor is no cursor of the time order.
            (query(|q| q.after = Some("1.5_3".into())), "bad page cursor"),
        ];
        for (q, message) in cases {
            let e = q.resolve(EpochMillis(NOW)).unwrap_err().to_string();
            assert!(e.starts_with(message), "{q:?}: {e}");
        }
    }

    #[test]
    fn cursors_round_trip() {
        for (c, sort) in [
            (
                RequestCursor {
                    value: SortValue::Int(1_795_372_396_000),
                    id: 9,
                },
                RequestSort::Time,
            ),
            (
                RequestCursor {
                    value: SortValue::Real(0.1 + 0.2),
                    id: 10,
                },
                RequestSort::Latency,
            ),
            (
                RequestCursor {
                    value: SortValue::Real(120.0),
                    id: 11,
                },
                RequestSort::Latency,
            ),
        ] {
            assert_eq!(RequestCursor::parse(&c.to_param(), sort), Some(c));
        }
        assert_eq!(RequestCursor::parse("NaN_1", RequestSort::Latency), None);
        assert_eq!(RequestCursor::parse("inf_1", RequestSort::Latency), None);
    }

    #[test]
    fn ratings_are_checked() {
        assert_eq!(
            check_rating(4, Some("  fine  ".into())),
            Ok((4, Some("fine".into())))
        );
        assert_eq!(check_rating(1, Some("  ".into())), Ok((1, None)));
        assert_eq!(
            check_rating(6, None).map_err(|e| e.to_string()),
            Err("a rating is 1 to 5 stars, not 6".into())
        );
        assert!(check_rating(0, None).is_err());
        assert!(check_rating(5, Some("é".repeat(MAX_COMMENT_CHARS))).is_ok());
        assert_eq!(
            check_rating(5, Some("x".repeat(MAX_COMMENT_CHARS + 1))).map_err(|e| e.to_string()),
            Err("the comment is 2001 characters long: at most 2000 fit".into())
        );
        assert_eq!(rater_id("vera"), "sightline:vera");
        assert_eq!(rater_name("sightline:vera"), "vera (dashboard)");
        for id in ["sightline:vera", " SightLine:x", "SIGHTLINE:"] {
            assert!(claims_account(id), "{id}");
        }
        for id in ["sightline-fan", "my sightline:x", "", "sight", "é"] {
            assert!(!claims_account(id), "{id}");
        }
        assert_eq!(rater_name("user-1"), "user-1");
        assert_eq!(rater_name(""), "anonymous");
        assert_eq!(StatusClass::css(503), "status status-5xx");
        assert_eq!(StatusClass::css(101), "status status-1xx");
    }
}
