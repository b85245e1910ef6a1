//! Spending budgets: what the settings page sets and what the dashboard's budgets card
//! shows. A budget caps the cost of the served requests (the dashboard's cost) per UTC
//! day or calendar month (UTC), for the whole platform or for each of its users; it
//! warns at 80% and is spent at 100%. Shared by the server and the pages.

use serde::{Deserialize, Serialize};

use crate::input::InputError;
use crate::units::{EpochMillis, Micros};

/// The smallest budget, in micro-dollars: one cent.
pub const MIN_MICROS: i64 = 10_000;
/// The largest budget, in micro-dollars: ten million dollars.
pub const MAX_MICROS: i64 = 10_000_000 * 1_000_000;
/// Users with a budget of their own, at most.
pub const MAX_USER_BUDGETS: usize = 1_000;
/// The longest user id a budget names (as the ingest API allows).
pub const MAX_USER_ID_CHARS: usize = 256;
/// The shares of a budget (percent) at which an alert fires: a warning, then spent.
pub const THRESHOLDS: [u32; 2] = [80, 100];

const DAY_MS: i64 = 86_400_000;

/// How long a budget lasts before it starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// A UTC day.
    Daily,
    /// A calendar month, in UTC.
    Monthly,
}

impl Period {
    pub const ALL: [Period; 2] = [Period::Daily, Period::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Monthly => "monthly",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// "today" or "this month".
    pub fn current(self) -> &'static str {
        match self {
            Period::Daily => "today",
            Period::Monthly => "this month",
        }
    }

    /// `[start, end)` of the period holding `now` (epoch ms, UTC).
    pub fn bounds(self, now: EpochMillis) -> (EpochMillis, EpochMillis) {
        let day = crate::time::floor_to(now, DAY_MS);
        match self {
            Period::Daily => (day, day + DAY_MS),
            Period::Monthly => {
                use chrono::{Datelike, TimeZone, Utc};
                let Some(t) = Utc.timestamp_millis_opt(day.ms()).single() else {
                    return (day, day + DAY_MS);
                };
                let start = Utc
                    .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
                    .single()
                    .map_or(day, |d| EpochMillis(d.timestamp_millis()));
                let (y, m) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                let end = Utc
                    .with_ymd_and_hms(y, m, 1, 0, 0, 0)
                    .single()
                    .map_or(day + DAY_MS, |d| EpochMillis(d.timestamp_millis()));
                (start, end)
            }
        }
    }

    /// The period's name in alert keys: `2026-12-03` or `2026-12`.
    pub fn label(self, now: EpochMillis) -> String {
        let (start, _) = self.bounds(now);
        let date = chrono::DateTime::from_timestamp_millis(start.ms()).unwrap_or_default();
        match self {
            Period::Daily => date.format("%Y-%m-%d").to_string(),
            Period::Monthly => date.format("%Y-%m").to_string(),
        }
    }
}

/// Whose spending a budget caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every served request of the platform.
    Global,
    /// Each platform user alike (unless the user has a budget of their own).
    EachUser,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Global, Scope::EachUser];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::EachUser => "each_user",
        }
    }
}

/// A daily and a monthly limit in micro-dollars; `None`: no budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub daily_micros: Option<Micros>,
    pub monthly_micros: Option<Micros>,
}

impl Limits {
    pub fn of(&self, period: Period) -> Option<Micros> {
        match period {
            Period::Daily => self.daily_micros,
            Period::Monthly => self.monthly_micros,
        }
    }

    pub fn set(&mut self, period: Period, limit: Option<Micros>) {
        match period {
            Period::Daily => self.daily_micros = limit,
            Period::Monthly => self.monthly_micros = limit,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.daily_micros.is_none() && self.monthly_micros.is_none()
    }
}

/// One of the four shared budgets (global or each user's; daily or monthly) as the
/// settings page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedBudget {
    pub scope: Scope,
    pub period: Period,
    /// What applies: the settings' choice if there is one, else the environment's.
    pub limit_micros: Option<Micros>,
    /// Whether an admin chose it here (over `SIGHTLINE_BUDGET_*`).
    pub set_here: bool,
    /// What `SIGHTLINE_BUDGET_*` says.
    pub environment_micros: Option<Micros>,
}

/// A platform user's own budget, over the one of each user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBudget {
    pub user_id: String,
    #[serde(flatten)]
    pub limits: Limits,
}

/// Every budget, for the settings page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSettings {
    /// Global daily, global monthly, each user's daily, each user's monthly.
    pub shared: Vec<SharedBudget>,
    /// By user id.
    pub users: Vec<UserBudget>,
}

/// How much of a budget is spent in its current period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetUse {
    /// `None` for the global budget.
    pub user_id: Option<String>,
    pub period: Period,
    pub limit_micros: Micros,
    pub spent_micros: Micros,
    pub period_start: EpochMillis,
    /// Exclusive.
    pub period_end: EpochMillis,
}

impl BudgetUse {
    /// Spent, in percent of the limit (may pass 100).
    pub fn percent(&self) -> f64 {
        if self.limit_micros <= Micros::ZERO {
            return 0.0;
        }
        self.spent_micros.micros() as f64 * 100.0 / self.limit_micros.micros() as f64
    }

    /// The highest threshold reached (80 or 100), if any. Exact: integer arithmetic.
    pub fn reached(&self) -> Option<u32> {
        let spent = i128::from(self.spent_micros.micros()) * 100;
        THRESHOLDS
            .into_iter()
            .rev()
            .find(|t| spent >= i128::from(self.limit_micros.micros()) * i128::from(*t))
    }
}

/// The dashboard's budgets card: the global budgets' use, and how the platform's users
/// stand against theirs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetsCard {
    /// The global budgets set (daily first).
    pub global: Vec<BudgetUse>,
    /// The periods that have a per-user budget (each user's or a user's own).
    pub per_user: Vec<UsersAgainstBudget>,
    /// The users with the largest share of a budget spent, highest first (at most
    /// [`TOP_USERS`]); only those at 80% or more.
    pub top_users: Vec<BudgetUse>,
}

/// Users shown on the budgets card, at most.
pub const TOP_USERS: usize = 10;

/// How the users stand against their budgets of one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersAgainstBudget {
    pub period: Period,
    /// Each user's budget of the period, if one is set (users may have their own).
    pub each_user_micros: Option<Micros>,
    /// Users at 80% or more of their budget of the period, however many.
    pub warned: i64,
    /// Of those, the users at 100% or more.
    pub over: i64,
}

/// A budget from the settings form: empty for none, else USD from $0.01 to $10M.
pub fn parse_budget_usd(what: &str, text: &str) -> Result<Option<Micros>, InputError> {
    let text = text.trim().trim_start_matches('$').trim();
    if text.is_empty() {
        return Ok(None);
    }
    let usd: f64 = text.parse().map_err(|_| InputError::BudgetNotANumber {
        what: what.to_owned(),
        text: text.escape_debug().to_string(),
    })?;
    let micros = (usd * 1e6).round();
    if !usd.is_finite() || micros < MIN_MICROS as f64 || micros > MAX_MICROS as f64 {
        return Err(InputError::BudgetOutOfRange {
            what: what.to_owned(),
        });
    }
    Ok(Some(Micros(micros as i64)))
}

/// A user id a budget names: 1 to 256 characters, no control characters.
pub fn parse_budget_user(text: &str) -> Result<String, InputError> {
    let id = text.trim();
    if id.is_empty() || id.chars().count() > MAX_USER_ID_CHARS || id.chars().any(char::is_control) {
        return Err(InputError::BudgetUser);
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03T10:00:00Z.
    const NOW: i64 = 1_796_292_000_000;

    #[test]
    fn periods_are_the_utc_day_and_the_calendar_month() {
        assert_eq!(
            Period::Daily.bounds(EpochMillis(NOW)),
            (
                EpochMillis(1_796_256_000_000),
                EpochMillis(1_796_342_400_000)
            )
        );
        assert_eq!(Period::Daily.label(EpochMillis(NOW)), "2026-12-03");
        // December 2026 and January 2027.
        assert_eq!(
            Period::Monthly.bounds(EpochMillis(NOW)),
            (
                EpochMillis(1_796_083_200_000),
                EpochMillis(1_798_761_600_000)
            )
        );
        assert_eq!(Period::Monthly.label(EpochMillis(NOW)), "2026-12");
        // The last millisecond of February 2028 (a leap year) is still February.
        let feb = 1_835_481_600_000 - 1;
        assert_eq!(Period::Monthly.label(EpochMillis(feb)), "2028-02");
        assert_eq!(
            Period::Monthly.bounds(EpochMillis(feb)),
            (
                EpochMillis(1_832_976_000_000),
                EpochMillis(1_835_481_600_000)
            )
        );
    }

    #[test]
    fn thresholds_are_exact() {
        let at = |spent| BudgetUse {
            user_id: None,
            period: Period::Daily,
            limit_micros: Micros(10_000_000),
            spent_micros: Micros(spent),
            period_start: EpochMillis(0),
            period_end: EpochMillis(1),
        };
        assert_eq!(at(7_999_999).reached(), None);
        assert_eq!(at(8_000_000).reached(), Some(80));
        assert_eq!(at(9_999_999).reached(), Some(80));
        assert_eq!(at(10_000_000).reached(), Some(100));
        assert_eq!(at(i64::MAX).reached(), Some(100));
        assert_eq!(at(8_000_000).percent(), 80.0);
    }

    #[test]
    fn budgets_are_bounded() {
        assert_eq!(
            parse_budget_usd("daily", " 12.5 "),
            Ok(Some(Micros(12_500_000)))
        );
        assert_eq!(parse_budget_usd("daily", "$0.01"), Ok(Some(Micros(10_000))));
        assert_eq!(parse_budget_usd("daily", ""), Ok(None));
        for bad in [
            "0",
            "-5",
            "0.001",
            "1e300",
            "NaN",
            "inf",
            "ten",
            "10000000.01",
        ] {
            assert!(parse_budget_usd("daily", bad).is_err(), "{bad}");
        }
        assert_eq!(parse_budget_user(" alice "), Ok("alice".to_owned()));
        assert!(parse_budget_user("").is_err());
        assert!(parse_budget_user(&"x".repeat(257)).is_err());
        assert!(parse_budget_user("a\nb").is_err());
    }
}
