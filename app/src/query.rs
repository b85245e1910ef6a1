//! The query strings of the views and APIs: reading a parameter, reading an instant
//! (the one place that does, with its bounds), the range presets the list views share,
//! and writing a view's URL back.

use crate::range::{RangeKind, TimeRange};
use crate::time::DAY_MS;
use crate::units::EpochMillis;

/// What is wrong with the query parameters of a view or an API; the text names the
/// parameter and says what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "{name} `{value}` is not an instant: use epoch milliseconds, a date (YYYY-MM-DD) or an \
         RFC 3339 time"
    )]
    NotAnInstant { name: &'static str, value: String },
    #[error("{name} `{value}` is out of bounds: give an instant from 1970-01-01 to a day from now")]
    OutOfBounds { name: &'static str, value: String },
    /// A value outside a closed set, with the set when it is short enough to list.
    #[error("unknown {name} `{value}`{}", choices.as_ref().map(|c| format!(": use {c}")).unwrap_or_default())]
    Unknown {
        name: &'static str,
        value: String,
        choices: Option<String>,
    },
    /// A sort a report does not have.
    #[error("sort `{value}` is unknown: use {choices}")]
    UnknownSort {
        value: String,
        choices: &'static str,
    },
    #[error("{name} is longer than {max} characters")]
    TooLong { name: &'static str, max: usize },
    #[error("country `{0}` is not a two-letter code")]
    Country(String),
    #[error("error_group `{0}` is not a group: 16 hex digits or `other`")]
    ErrorGroup(String),
    #[error("start and end are more than {0} days apart: a custom range spans at most {0} days")]
    TooWide(i64),
    #[error("a custom range needs start and end")]
    CustomWithoutEnds,
    /// Two instants in the wrong order: the text says which must come first.
    #[error("{0}")]
    Order(&'static str),
    #[error("bad page cursor")]
    Cursor,
}

impl QueryError {
    /// `value` of `name` is not one of `choices` (listed after "use").
    pub fn unknown(name: &'static str, value: &str, choices: impl Into<String>) -> QueryError {
        QueryError::Unknown {
            name,
            value: value.to_owned(),
            choices: Some(choices.into()),
        }
    }
}

/// How far ahead of now an instant may lie (clock skew); ingest allows the same.
pub const MAX_FUTURE_MS: i64 = DAY_MS;

/// A parameter's value, trimmed; `None` when it is absent or blank.
pub fn param(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A parameter from a closed set: `None` when absent or blank, else what `parse` makes
/// of it; a value `parse` does not know is [`QueryError::Unknown`], listing `choices`
/// when they are given.
pub fn choice<T>(
    name: &'static str,
    value: &Option<String>,
    parse: impl FnOnce(&str) -> Option<T>,
    choices: Option<&str>,
) -> Result<Option<T>, QueryError> {
    let Some(value) = param(value) else {
        return Ok(None);
    };
    match parse(&value) {
        Some(t) => Ok(Some(t)),
        None => Err(QueryError::Unknown {
            name,
            value,
            choices: choices.map(str::to_owned),
        }),
    }
}

/// Which end of a span an instant parameter names: a date as a start is its UTC
/// midnight, as an end the next midnight (so an end date is inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Start,
    End,
}

/// Whether `t` lies within the bounds of every instant: from the Unix epoch (1970) to
/// [`MAX_FUTURE_MS`] after `now`. Ranges built from such instants cannot overflow.
pub fn in_bounds(t: EpochMillis, now: EpochMillis) -> bool {
    (EpochMillis::EPOCH..=now.saturating_add_ms(MAX_FUTURE_MS)).contains(&t)
}

/// The instant parameter `name` = `value` at `now`: epoch milliseconds, a date
/// (`YYYY-MM-DD`, UTC) or an RFC 3339 time, within [`in_bounds`]. Errors name the
/// parameter and its value.
pub fn instant(
    name: &'static str,
    value: &str,
    edge: Edge,
    now: EpochMillis,
) -> Result<EpochMillis, QueryError> {
    let out_of_bounds = || QueryError::OutOfBounds {
        name,
        value: value.to_owned(),
    };
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (t, next_day) = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        (value.parse::<i64>().map_err(|_| out_of_bounds())?, false)
    } else if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        (t.timestamp_millis(), false)
    } else if let Some(midnight) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        (midnight.and_utc().timestamp_millis(), edge == Edge::End)
    } else {
        return Err(QueryError::NotAnInstant {
            name,
            value: value.to_owned(),
        });
    };
    if !in_bounds(EpochMillis(t), now) {
        return Err(out_of_bounds());
    }
    Ok(if next_day {
        EpochMillis(t + DAY_MS)
    } else {
        EpochMillis(t)
    })
}

/// An optional instant parameter (absent or blank: `None`); see [`instant`].
pub fn optional_instant(
    name: &'static str,
    value: &Option<String>,
    edge: Edge,
    now: EpochMillis,
) -> Result<Option<EpochMillis>, QueryError> {
    param(value)
        .map(|v| instant(name, &v, edge, now))
        .transpose()
}

/// Where `?range=` starts at `now`: a preset (`24h`, `7d`, `1m`, `3m`, the dashboard's
/// ranges) or `all` (no start).
pub fn range_start(range: &str, now: EpochMillis) -> Result<Option<EpochMillis>, QueryError> {
    if range == "all" {
        return Ok(None);
    }
    let kind = RangeKind::parse(range)
        .filter(|k| *k != RangeKind::Custom)
        .ok_or_else(|| QueryError::unknown("range", range, "24h, 7d, 1m, 3m or all"))?;
    Ok(Some(TimeRange::preset(kind, now).start))
}

/// `path` with the non-empty `pairs` as its query string, values percent-encoded.
pub fn href(path: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query value or path segment (letters, digits and `-._~` stay).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_ranges_and_urls() {
        assert_eq!(param(&Some("  gpt-4o ".into())), Some("gpt-4o".into()));
        assert_eq!(param(&Some("   ".into())), None);
        assert_eq!(param(&None), None);
        let now = 1_795_372_396_000;
        assert_eq!(range_start("all", EpochMillis(now)), Ok(None));
        assert_eq!(
            range_start("7d", EpochMillis(now)),
            Ok(Some(
                TimeRange::preset(RangeKind::Week, EpochMillis(now)).start
            ))
        );
        assert!(range_start("custom", EpochMillis(now)).is_err());
        assert!(range_start("1y", EpochMillis(now)).is_err());
        assert_eq!(
            href(
                "/requests",
                &[
                    ("q", Some("50% off & more")),
                    ("model", None),
                    ("user", Some(""))
                ]
            ),
            "/requests?q=50%25%20off%20%26%20more"
        );
        assert_eq!(href("/threats", &[("q", None)]), "/threats");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn instants_are_read_in_three_forms_within_bounds() {
        let now = 1_795_372_396_000; // 2026-11-22T18:33:16Z
        let midnight = 1_795_305_600_000;
        for (value, edge, expected) in [
            ("1795372000000", Edge::Start, 1_795_372_000_000),
            ("2026-11-22", Edge::Start, midnight),
            ("2026-11-22", Edge::End, midnight + DAY_MS),
            ("2026-11-22T01:00:00+01:00", Edge::End, midnight),
            ("0", Edge::Start, 0),
            ("2026-11-23", Edge::End, midnight + 2 * DAY_MS),
        ] {
            assert_eq!(
                instant("t", value, edge, EpochMillis(now)),
                Ok(EpochMillis(expected)),
                "{value}"
            );
        }
        let bounds = "is out of bounds: give an instant from 1970-01-01 to a day from now";
        for value in [
            "-1",
            "-9223372036854000000",
            "99999999999999999999",
            "1795458796001",
            "2026-11-24",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(
                instant("since", value, Edge::Start, EpochMillis(now)).map_err(|e| e.to_string()),
                Err(format!("since `{value}` {bounds}"))
            );
        }
        assert!(in_bounds(
            EpochMillis(now + MAX_FUTURE_MS),
            EpochMillis(now)
        ));
        assert!(!in_bounds(
            EpochMillis(now + MAX_FUTURE_MS + 1),
            EpochMillis(now)
        ));
        assert_eq!(
            instant("start", "yesterday", Edge::Start, EpochMillis(now)).map_err(|e| e.to_string()),
            Err(
                "start `yesterday` is not an instant: use epoch milliseconds, a date \
                 (YYYY-MM-DD) or an RFC 3339 time"
                    .into()
            )
        );
        assert_eq!(
            optional_instant("until", &Some(" ".into()), Edge::End, EpochMillis(now)),
            Ok(None)
        );
    }
}
