//! The errors view: the platform's failed requests grouped by their message with the
//! variable parts taken out, each group's count, first and last seen, statuses and
//! endpoints over a range. What `GET /api/v1/errors` returns, what the page and the
//! dashboard's card render.

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::param;
use crate::units::EpochMillis;

/// Named groups a UTC day holds at most; the messages of further groups that day count
/// in [`OTHER_GROUP`].
pub const MAX_GROUPS_PER_DAY: usize = 100;

/// The fingerprint of the overflow group.
pub const OTHER_GROUP: &str = "other";

/// What the overflow group shows as its pattern.
pub const OTHER_PATTERN: &str = "Other messages (beyond 100 groups in a day)";

/// Groups listed at most; the rest are counted in `more`.
pub const MAX_LISTED: usize = 100;

/// Groups on the dashboard's card.
pub const CARD_ROWS: usize = 5;

/// Statuses and endpoints shown per group, the most requests first.
pub const TOP_PER_GROUP: usize = 3;

/// What the list is ordered by, always the most (or latest) first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSort {
    /// Requests in the range.
    #[default]
    Count,
    /// The latest request of the group in the range.
    LastSeen,
}

impl ErrorSort {
    pub const ALL: [ErrorSort; 2] = [ErrorSort::Count, ErrorSort::LastSeen];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSort::Count => "count",
            ErrorSort::LastSeen => "last_seen",
        }
    }

    /// What the column header says.
    pub fn label(self) -> &'static str {
        match self {
            ErrorSort::Count => "Requests",
            ErrorSort::LastSeen => "Last seen",
        }
    }

    /// `?sort=`: absent or blank is by count; anything unknown is an error naming it.
    pub fn from_param(value: &Option<String>) -> Result<ErrorSort, QueryError> {
        match param(value) {
            None => Ok(ErrorSort::default()),
            Some(s) => ErrorSort::ALL.into_iter().find(|k| k.as_str() == s).ok_or(
                QueryError::UnknownSort {
                    value: s,
                    choices: "count or last_seen",
                },
            ),
        }
    }
}

/// A status code or an endpoint of a group, with the group's requests there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share<K> {
    pub key: K,
    pub requests: i64,
}

/// One error group over the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorGroupRow {
    /// 16 hex digits (or `other`): the explorer's `error_group` filter.
    pub fingerprint: String,
    /// The message with its variable parts as `<n>`, `<str>`, `<uuid>`, … (at most 200
    /// characters).
    pub pattern: String,
    /// The first message seen of the group (at most 500 characters).
    pub example: String,
    pub requests: i64,
    /// Of all the grouped requests in the range.
    pub share: Option<f64>,
    /// The group's first and latest request in the range.
    pub first_seen_at: EpochMillis,
    pub last_seen_at: EpochMillis,
    /// The group's first request ever (as far as its rollups reach back).
    pub group_first_seen_at: EpochMillis,
    /// First seen inside the range: an error that is new.
    pub is_new: bool,
    /// The top [`TOP_PER_GROUP`] of each, and how many more there are.
    pub statuses: Vec<Share<i32>>,
    pub more_statuses: usize,
    pub endpoints: Vec<Share<String>>,
    pub more_endpoints: usize,
}

/// The error groups of a range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorsReport {
    /// `24h`, `7d`, `1m`, `3m` or `custom`.
    pub range: String,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    pub generated_at: EpochMillis,
    pub sort: ErrorSort,
    /// Requests in a group in the range (every group).
    pub total_errors: i64,
    /// Groups with requests in the range (every group).
    pub total_groups: usize,
    /// Groups first seen inside the range.
    pub new_groups: usize,
    /// At most [`MAX_LISTED`], by `sort`.
    pub groups: Vec<ErrorGroupRow>,
    /// Groups with requests in the range that are not listed.
    pub more: usize,
}

/// Whether `s` names a group: 16 lowercase hex digits, or [`OTHER_GROUP`].
pub fn is_fingerprint(s: &str) -> bool {
    s == OTHER_GROUP
        || (s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Orders `rows` by `sort`, the most first; ties by fingerprint, so the order is stable.
pub fn sort_rows(rows: &mut [ErrorGroupRow], sort: ErrorSort) {
    rows.sort_by(|a, b| {
        let by = match sort {
            ErrorSort::Count => b
                .requests
                .cmp(&a.requests)
                .then_with(|| b.last_seen_at.cmp(&a.last_seen_at)),
            ErrorSort::LastSeen => b
                .last_seen_at
                .cmp(&a.last_seen_at)
                .then_with(|| b.requests.cmp(&a.requests)),
        };
        by.then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fingerprint: &str, requests: i64, last_seen_at: i64) -> ErrorGroupRow {
        ErrorGroupRow {
            fingerprint: fingerprint.into(),
            pattern: String::new(),
            example: String::new(),
            requests,
            share: None,
            first_seen_at: EpochMillis(0),
            last_seen_at: EpochMillis(last_seen_at),
            group_first_seen_at: EpochMillis(0),
            is_new: false,
            statuses: Vec::new(),
            more_statuses: 0,
            endpoints: Vec::new(),
            more_endpoints: 0,
        }
    }

    #[test]
    fn each_sort_puts_the_most_first_and_ties_go_by_fingerprint() {
        let mut rows = vec![row("b", 5, 10), row("a", 5, 10), row("c", 9, 3)];
        let names = |rows: &[ErrorGroupRow]| {
            rows.iter()
                .map(|r| r.fingerprint.clone())
                .collect::<Vec<_>>()
        };
        sort_rows(&mut rows, ErrorSort::Count);
        assert_eq!(names(&rows), ["c", "a", "b"]);
        sort_rows(&mut rows, ErrorSort::LastSeen);
        assert_eq!(names(&rows), ["a", "b", "c"]);
    }

    #[test]
    fn a_fingerprint_is_sixteen_hex_digits_or_other() {
        assert!(is_fingerprint("9f86d081884c7d65"));
        assert!(is_fingerprint(OTHER_GROUP));
        assert!(!is_fingerprint("9F86D081884C7D65"));
        assert!(!is_fingerprint("9f86d081884c7d6"));
        assert!(!is_fingerprint("9f86d081884c7d6g"));
    }

    #[test]
    fn the_sort_parameter_is_checked() {
        assert_eq!(ErrorSort::from_param(&None), Ok(ErrorSort::Count));
        assert_eq!(
            ErrorSort::from_param(&Some(" last_seen ".into())),
            Ok(ErrorSort::LastSeen)
        );
        let err = ErrorSort::from_param(&Some("newest".into()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sort `newest`"), "{err}");
    }
}
