//! The dashboard's time range: what `?range=` means, which buckets it shows, and the
//! period before it (for "change against the previous period").

use serde::{Deserialize, Serialize};

use crate::query::{Edge, QueryError, instant};
use crate::time::{DAY_MS, HOUR_MS, floor_to};
use crate::units::EpochMillis;

/// A range as the URL names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    #[default]
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "1m")]
    Month,
    #[serde(rename = "3m")]
    Quarter,
    #[serde(rename = "custom")]
    Custom,
}

impl RangeKind {
    /// The ranges that end now, shortest first.
    pub const PRESETS: [RangeKind; 4] = [
        RangeKind::Day,
        RangeKind::Week,
        RangeKind::Month,
        RangeKind::Quarter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RangeKind::Day => "24h",
            RangeKind::Week => "7d",
            RangeKind::Month => "1m",
            RangeKind::Quarter => "3m",
            RangeKind::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<RangeKind> {
        match s {
            "24h" => Some(RangeKind::Day),
            "7d" => Some(RangeKind::Week),
            "1m" => Some(RangeKind::Month),
            "3m" => Some(RangeKind::Quarter),
            "custom" => Some(RangeKind::Custom),
            _ => None,
        }
    }
}

/// A resolved range: whole buckets from `start`, the last one ending at `end` (now, or
/// the end of a custom range). Every card covers exactly these buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub kind: RangeKind,
    pub start: EpochMillis,
    /// Exclusive.
    pub end: EpochMillis,
    pub bucket_ms: i64,
}

/// Ranges up to this long use hourly buckets; longer ones daily buckets.
const HOURLY_UP_TO: i64 = 7 * DAY_MS;
/// The longest custom range.
pub const MAX_CUSTOM_DAYS: i64 = 400;

impl TimeRange {
    /// A preset range ending at `now`.
    pub fn preset(kind: RangeKind, now: EpochMillis) -> TimeRange {
        let (bucket_ms, buckets) = match kind {
            RangeKind::Day | RangeKind::Custom => (HOUR_MS, 24),
            RangeKind::Week => (HOUR_MS, 7 * 24),
            RangeKind::Month => (DAY_MS, 30),
            RangeKind::Quarter => (DAY_MS, 90),
        };
        let kind = if kind == RangeKind::Custom {
            RangeKind::Day
        } else {
            kind
        };
        let start = floor_to(now, bucket_ms) - (buckets - 1) * bucket_ms;
        TimeRange {
            kind,
            start,
            end: now + 1,
            bucket_ms,
        }
    }

    /// A custom range from `start` to `end` (epoch ms, `end` exclusive and at most now).
    /// The span is computed with checked arithmetic, so no pair of instants can make a
    /// range of more than [`MAX_CUSTOM_DAYS`].
    pub fn custom(
        start: EpochMillis,
        end: EpochMillis,
        now: EpochMillis,
    ) -> Result<TimeRange, QueryError> {
        let end = end.min(now.saturating_add_ms(1));
        if end <= start {
            return Err(QueryError::Order("end must be after start"));
        }
        let span = end
            .checked_since(start)
            .filter(|span| *span <= MAX_CUSTOM_DAYS * DAY_MS)
            .ok_or(QueryError::TooWide(MAX_CUSTOM_DAYS))?;
        let bucket_ms = if span <= HOURLY_UP_TO {
            HOUR_MS
        } else {
            DAY_MS
        };
        Ok(TimeRange {
            kind: RangeKind::Custom,
            start: floor_to(start, bucket_ms),
            end,
            bucket_ms,
        })
    }

    /// Start of every bucket shown, oldest first.
    pub fn bucket_starts(&self) -> Vec<EpochMillis> {
        std::iter::successors(Some(self.start), |t| t.checked_add_ms(self.bucket_ms))
            .take_while(|t| *t < self.end)
            .collect()
    }

    /// The same number of buckets just before this range.
    pub fn previous(&self) -> TimeRange {
        let span = self.bucket_starts().len() as i64 * self.bucket_ms;
        TimeRange {
            kind: self.kind,
            start: self.start.saturating_sub_ms(span),
            end: self.start,
            bucket_ms: self.bucket_ms,
        }
    }

    /// `hour` or `day`.
    pub fn bucket_name(&self) -> &'static str {
        if self.bucket_ms == DAY_MS {
            "day"
        } else {
            "hour"
        }
    }
}

impl TimeRange {
    /// The range of `?range=…&start=…&end=…` as of `now`; no range means 24 hours.
    /// `start` and `end` are instants within bounds ([`crate::query::instant`]).
    pub fn from_query(
        range: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        now: EpochMillis,
    ) -> Result<TimeRange, QueryError> {
        let kind = match range {
            None | Some("") => RangeKind::Day,
            Some(name) => RangeKind::parse(name)
                .ok_or_else(|| QueryError::unknown("range", name, "24h, 7d, 1m, 3m or custom"))?,
        };
        if kind != RangeKind::Custom {
            return Ok(TimeRange::preset(kind, now));
        }
        let (Some(start), Some(end)) = (
            start.filter(|s| !s.is_empty()),
            end.filter(|s| !s.is_empty()),
        ) else {
            return Err(QueryError::CustomWithoutEnds);
        };
        TimeRange::custom(
            instant("start", start, Edge::Start, now)?,
            instant("end", end, Edge::End, now)?,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22T18:33:16Z
    const NOW: i64 = 1_795_372_396_000;

    #[test]
    fn presets_cover_whole_buckets_ending_now() {
        let day = TimeRange::preset(RangeKind::Day, EpochMillis(NOW));
        assert_eq!(day.bucket_starts().len(), 24);
        assert_eq!(
            day.start,
            floor_to(EpochMillis(NOW), HOUR_MS) - 23 * HOUR_MS
        );
        assert_eq!(day.end, EpochMillis(NOW + 1));
        assert_eq!(
            TimeRange::preset(RangeKind::Week, EpochMillis(NOW))
                .bucket_starts()
                .len(),
            168
        );
        let month = TimeRange::preset(RangeKind::Month, EpochMillis(NOW));
        assert_eq!((month.bucket_ms, month.bucket_starts().len()), (DAY_MS, 30));
        assert_eq!(month.start.ms() % DAY_MS, 0);
        assert_eq!(
            TimeRange::preset(RangeKind::Quarter, EpochMillis(NOW))
                .bucket_starts()
                .len(),
            90
        );
    }

    #[test]
    fn the_previous_period_has_as_many_buckets_just_before() {
        let week = TimeRange::preset(RangeKind::Week, EpochMillis(NOW));
        let prev = week.previous();
        assert_eq!(prev.end, week.start);
        assert_eq!(prev.bucket_starts().len(), 168);
    }

    #[test]
    fn custom_ranges_pick_their_grain_and_refuse_nonsense() {
        let r = TimeRange::custom(
            EpochMillis(NOW - 3 * DAY_MS),
            EpochMillis(NOW - DAY_MS),
            EpochMillis(NOW),
        )
        .unwrap();
        assert_eq!(r.bucket_ms, HOUR_MS);
        let r = TimeRange::custom(
            EpochMillis(NOW - 20 * DAY_MS),
            EpochMillis(NOW + 5 * DAY_MS),
            EpochMillis(NOW),
        )
        .unwrap();
        assert_eq!((r.bucket_ms, r.end), (DAY_MS, EpochMillis(NOW + 1)));
        assert!(
            TimeRange::custom(EpochMillis(NOW), EpochMillis(NOW - 1), EpochMillis(NOW)).is_err()
        );
        assert!(
            TimeRange::custom(
                EpochMillis(NOW - 500 * DAY_MS),
                EpochMillis(NOW),
                EpochMillis(NOW)
            )
            .is_err()
        );
        assert_eq!(RangeKind::parse("7d"), Some(RangeKind::Week));
        assert_eq!(RangeKind::parse("2w"), None);
        let q = TimeRange::from_query(
            Some("custom"),
            Some("2026-11-20"),
            Some("2026-11-20"),
            EpochMillis(NOW),
        )
        .unwrap();
        assert_eq!((q.bucket_starts().len(), q.bucket_ms), (24, HOUR_MS));
        assert_eq!(
            TimeRange::from_query(None, None, None, EpochMillis(NOW))
                .unwrap()
                .kind,
            RangeKind::Day
        );
        assert!(
            TimeRange::from_query(
                Some("custom"),
                Some("x"),
                Some("2026-11-20"),
                EpochMillis(NOW)
            )
            .unwrap_err()
            .to_string()
            .starts_with("start `x`")
        );
    }

    #[test]
    fn no_pair_of_instants_overflows_a_custom_range() {
        let span =
            "start and end are more than 400 days apart: a custom range spans at most 400 days";
        let text = |r: Result<TimeRange, QueryError>| r.map_err(|e| e.to_string());
        assert_eq!(
            text(TimeRange::custom(
                EpochMillis(i64::MIN),
                EpochMillis(i64::MAX),
                EpochMillis(NOW)
            )),
            Err(span.into())
        );
        assert_eq!(
            text(TimeRange::custom(
                EpochMillis(i64::MIN + 1),
                EpochMillis(0),
                EpochMillis(NOW)
            )),
            Err(span.into())
        );
        assert_eq!(
            TimeRange::custom(
                EpochMillis(i64::MAX - 1),
                EpochMillis(i64::MAX),
                EpochMillis(i64::MAX)
            ),
            Ok(TimeRange {
                kind: RangeKind::Custom,
                start: floor_to(EpochMillis(i64::MAX - 1), HOUR_MS),
                end: EpochMillis(i64::MAX),
                bucket_ms: HOUR_MS,
            })
        );
        let last = TimeRange::custom(
            EpochMillis(i64::MAX - 1),
            EpochMillis(i64::MAX),
            EpochMillis(i64::MAX),
        )
        .unwrap();
        assert_eq!(last.bucket_starts().len(), 1);
        assert!(
            TimeRange::from_query(
                Some("custom"),
                Some("-9223372036854000000"),
                Some("1000000"),
                EpochMillis(NOW)
            )
            .unwrap_err()
            .to_string()
            .starts_with("start `-9223372036854000000` is out of bounds")
        );
        let edge = TimeRange::custom(
            EpochMillis(NOW - MAX_CUSTOM_DAYS * DAY_MS),
            EpochMillis(NOW),
            EpochMillis(NOW),
        )
        .unwrap();
        assert_eq!(edge.bucket_starts().len(), MAX_CUSTOM_DAYS as usize + 1);
    }
}
