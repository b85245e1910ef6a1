//! Digests: a daily summary, and a weekly one on a configured weekday, sent to the
//! webhooks at a configured UTC hour (`SIGHTLINE_DIGESTS`, `SIGHTLINE_DIGEST_HOUR`,
//! `SIGHTLINE_DIGEST_WEEKDAY`). A digest covers whole UTC days: the daily one the day
//! before the day it is sent, the weekly one the 7 days before; each compares them with
//! the period before. Which digests are due at an instant is [`due`], a pure function;
//! [`crate::jobs::digest`] sends them.

mod report;

use chrono::Weekday;
use clap::Args;
use serde::Serialize;
use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};

pub use report::{Digest, DigestFigures, DigestRow, FigureChanges, build};

/// Daily or weekly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestKind {
    Daily,
    Weekly,
}

impl DigestKind {
    pub const ALL: [DigestKind; 2] = [DigestKind::Daily, DigestKind::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Daily => "daily",
            DigestKind::Weekly => "weekly",
        }
    }

    /// The webhook event: `digest.daily` or `digest.weekly`.
    pub fn event(self) -> &'static str {
        match self {
            DigestKind::Daily => "digest.daily",
            DigestKind::Weekly => "digest.weekly",
        }
    }

    /// How long its period is, and how far apart two sendings are.
    fn span_ms(self) -> i64 {
        match self {
            DigestKind::Daily => DAY_MS,
            DigestKind::Weekly => 7 * DAY_MS,
        }
    }
}

/// The digests that are sent: `daily,weekly`, one of them, or `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestKinds {
    pub daily: bool,
    pub weekly: bool,
}

impl DigestKinds {
    pub fn parse(text: &str) -> Result<DigestKinds, String> {
        let refused = || {
            format!(
                "SIGHTLINE_DIGESTS is `daily`, `weekly`, `daily,weekly` or `none`, not `{text}`"
            )
        };
        let mut kinds = DigestKinds {
            daily: false,
            weekly: false,
        };
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(kinds);
        }
        for name in text.split(',').map(str::trim) {
            match name.to_ascii_lowercase().as_str() {
                "daily" => kinds.daily = true,
                "weekly" => kinds.weekly = true,
                _ => return Err(refused()),
            }
        }
        Ok(kinds)
    }

    pub fn contains(self, kind: DigestKind) -> bool {
        match kind {
            DigestKind::Daily => self.daily,
            DigestKind::Weekly => self.weekly,
        }
    }

    pub fn any(self) -> bool {
        self.daily || self.weekly
    }
}

/// When digests are sent (`SIGHTLINE_DIGESTS`, `SIGHTLINE_DIGEST_HOUR`,
/// `SIGHTLINE_DIGEST_WEEKDAY`).
#[derive(Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestSchedule {
    /// Digests sent to the webhooks: `daily`, `weekly`, `daily,weekly` or `none`.
    #[arg(
        long = "digests",
        global = true,
        env = "SIGHTLINE_DIGESTS",
        default_value = "daily,weekly",
        value_parser = DigestKinds::parse
    )]
    pub kinds: DigestKinds,
    /// The UTC hour (0 to 23) the digests are sent at, for the period that ended at the
    /// day's start.
    #[arg(
        long = "digest-hour",
        global = true,
        env = "SIGHTLINE_DIGEST_HOUR",
        default_value = "8",
        value_parser = parse_hour
    )]
    pub hour: u32,
    /// The day (`mon` to `sun`) the weekly digest is sent on, for the 7 days before it.
    #[arg(
        long = "digest-weekday",
        global = true,
        env = "SIGHTLINE_DIGEST_WEEKDAY",
        default_value = "mon",
        value_parser = parse_weekday
    )]
    pub weekday: Weekday,
}

fn parse_hour(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|h| *h <= 23)
        .ok_or_else(|| format!("SIGHTLINE_DIGEST_HOUR is a UTC hour from 0 to 23, not `{text}`"))
}

fn parse_weekday(text: &str) -> Result<Weekday, String> {
    text.trim().parse::<Weekday>().map_err(|_| {
        format!("SIGHTLINE_DIGEST_WEEKDAY is a day of the week, `mon` to `sun`, not `{text}`")
    })
}

/// The period a digest covers: whole UTC days `[start, end)`, epoch ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DigestPeriod {
    pub kind: DigestKind,
    pub start: i64,
    pub end: i64,
}

impl DigestPeriod {
    /// The period of the same length just before, which the digest compares with.
    pub fn previous(&self) -> DigestPeriod {
        let span = self.end - self.start;
        DigestPeriod {
            kind: self.kind,
            start: self.start - span,
            end: self.start,
        }
    }

    /// The period of the `kind` digest sent at `sent_at` (the digest hour of its day).
    fn sent_at(kind: DigestKind, sent_at: i64) -> DigestPeriod {
        let end = floor_ms(sent_at, DAY_MS);
        DigestPeriod {
            kind,
            start: end - kind.span_ms(),
            end,
        }
    }
}

/// Monday 0 to Sunday 6 of the UTC day starting at `day` (1970-01-01 was a Thursday).
fn weekday_of(day: i64) -> i64 {
    (day.div_euclid(DAY_MS) + 3).rem_euclid(7)
}

/// The latest instant at or before `now` a `kind` digest is sent at.
fn last_sending(kind: DigestKind, now: i64, schedule: &DigestSchedule) -> i64 {
    let today = floor_ms(now, DAY_MS);
    let days_back = match kind {
        DigestKind::Daily => 0,
        DigestKind::Weekly => {
            (weekday_of(today) - i64::from(schedule.weekday.num_days_from_monday())).rem_euclid(7)
        }
    };
    let sending = today - days_back * DAY_MS + i64::from(schedule.hour) * HOUR_MS;
    if sending <= now {
        sending
    } else {
        sending - kind.span_ms()
    }
}

/// The digests due at `now`: of each kind configured, the period of its latest sending
/// (sent once; a replica that starts later catches up on it), never an older one.
pub fn due(now: i64, schedule: &DigestSchedule) -> Vec<DigestPeriod> {
    DigestKind::ALL
        .into_iter()
        .filter(|k| schedule.kinds.contains(*k))
        .map(|k| DigestPeriod::sent_at(k, last_sending(k, now, schedule)))
        .collect()
}

/// The next instant after `now` a digest is due at; `None` without digests.
pub fn next_due(now: i64, schedule: &DigestSchedule) -> Option<i64> {
    DigestKind::ALL
        .into_iter()
        .filter(|k| schedule.kinds.contains(*k))
        .map(|k| last_sending(k, now, schedule) + k.span_ms())
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T00:00:00Z, a Tuesday.
    const DEC_1: i64 = 1_796_083_200_000;

    fn day(n: i64) -> i64 {
        DEC_1 + (n - 1) * DAY_MS
    }

    fn schedule(kinds: &str, hour: u32, weekday: Weekday) -> DigestSchedule {
        DigestSchedule {
            kinds: DigestKinds::parse(kinds).unwrap(),
            hour,
            weekday,
        }
    }

    fn period(kind: DigestKind, start: i64, end: i64) -> DigestPeriod {
        DigestPeriod { kind, start, end }
    }

    #[test]
    fn the_daily_digest_is_the_day_before_from_the_hour_on() {
        let s = schedule("daily", 8, Weekday::Mon);
        let at_8 = day(3) + 8 * HOUR_MS;
        // Thursday 3 December from 08:00: Wednesday 2 December.
        assert_eq!(
            due(at_8, &s),
            vec![period(DigestKind::Daily, day(2), day(3))]
        );
        assert_eq!(
            due(day(4) - 1, &s),
            vec![period(DigestKind::Daily, day(2), day(3))]
        );
        // Before 08:00 it is still the one sent the day before.
        assert_eq!(
            due(at_8 - 1, &s),
            vec![period(DigestKind::Daily, day(1), day(2))]
        );
        assert_eq!(
            due(day(3), &s),
            vec![period(DigestKind::Daily, day(1), day(2))]
        );
        assert_eq!(next_due(at_8 - 1, &s), Some(at_8));
        assert_eq!(next_due(at_8, &s), Some(at_8 + DAY_MS));
        // At hour 0, the day that just ended.
        let s = schedule("daily", 0, Weekday::Mon);
        assert_eq!(
            due(day(3), &s),
            vec![period(DigestKind::Daily, day(2), day(3))]
        );
        assert_eq!(next_due(day(3), &s), Some(day(4)));
    }

    #[test]
    fn the_weekly_digest_is_the_seven_days_before_its_weekday() {
        let s = schedule("weekly", 8, Weekday::Mon);
        // Monday 30 November 08:00 sends 23 to 29 November; Thursday 3 December still
        // has that one, and the next is Monday 7 December 08:00.
        let monday = day(0) + 8 * HOUR_MS;
        let week = period(DigestKind::Weekly, day(-7), day(0));
        assert_eq!(due(day(3) + 10 * HOUR_MS, &s), vec![week]);
        assert_eq!(due(monday, &s), vec![week]);
        assert_eq!(
            due(monday - 1, &s),
            vec![period(DigestKind::Weekly, day(-14), day(-7))]
        );
        assert_eq!(next_due(day(3), &s), Some(day(7) + 8 * HOUR_MS));
        assert_eq!(next_due(monday - 1, &s), Some(monday));
        // On Thursdays at 23:00: on Thursday 3 December before 23:00 the one of
        // Thursday 26 November (19 to 25 November), from 23:00 26 November to 2 December.
        let s = schedule("weekly", 23, Weekday::Thu);
        assert_eq!(
            due(day(3) + 23 * HOUR_MS - 1, &s),
            vec![period(DigestKind::Weekly, day(-11), day(-4))]
        );
        assert_eq!(
            due(day(3) + 23 * HOUR_MS, &s),
            vec![period(DigestKind::Weekly, day(-4), day(3))]
        );
    }

    #[test]
    fn both_kinds_and_none() {
        let s = schedule("daily,weekly", 8, Weekday::Tue);
        let at = DEC_1 + 9 * HOUR_MS;
        assert_eq!(
            due(at, &s),
            vec![
                period(DigestKind::Daily, day(0), day(1)),
                period(DigestKind::Weekly, day(-6), day(1)),
            ]
        );
        assert_eq!(next_due(at, &s), Some(day(2) + 8 * HOUR_MS));
        let none = schedule("none", 8, Weekday::Mon);
        assert_eq!(due(at, &none), vec![]);
        assert_eq!(next_due(at, &none), None);
        assert_eq!(
            period(DigestKind::Weekly, day(-6), day(1)).previous(),
            period(DigestKind::Weekly, day(-13), day(-6))
        );
    }

    #[test]
    fn early_instants_do_not_overflow() {
        let s = schedule("daily,weekly", 23, Weekday::Sun);
        let due = due(0, &s);
        assert_eq!(due[0], period(DigestKind::Daily, -2 * DAY_MS, -DAY_MS));
        assert_eq!(weekday_of(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(weekday_of(DEC_1), 1, "2026-12-01 is a Tuesday");
    }

    #[test]
    fn bad_settings_name_their_variable() {
        assert_eq!(
            DigestKinds::parse(" Weekly ").unwrap(),
            DigestKinds {
                daily: false,
                weekly: true
            }
        );
        assert!(!DigestKinds::parse("none").unwrap().any());
        for bad in ["", "hourly", "daily,", "none,daily"] {
            let e = DigestKinds::parse(bad).unwrap_err();
            assert!(e.starts_with("SIGHTLINE_DIGESTS is "), "{e}");
        }
        assert_eq!(parse_hour("23"), Ok(23));
        assert_eq!(
            parse_hour("24").unwrap_err(),
            "SIGHTLINE_DIGEST_HOUR is a UTC hour from 0 to 23, not `24`"
        );
        assert!(parse_hour("-1").is_err());
        assert_eq!(parse_weekday("sun"), Ok(Weekday::Sun));
        assert_eq!(parse_weekday("Friday"), Ok(Weekday::Fri));
        assert_eq!(
            parse_weekday("someday").unwrap_err(),
            "SIGHTLINE_DIGEST_WEEKDAY is a day of the week, `mon` to `sun`, not `someday`"
        );
    }
}
