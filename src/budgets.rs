//! Spending budgets: the limits (`SIGHTLINE_BUDGET_*`, over which what an admin sets in
//! the settings page takes precedence), their use as the dashboard shows it, and the
//! check that fires `budget` alerts at 80% and 100% of a budget, once per threshold and
//! period (the alert's key names both, and the store fires a key only once), sending
//! each to the webhooks. A budget counts the dashboard's cost: the served requests'.
//!
//! A budget alert resolves when its period is over or its budget no longer applies
//! (removed or raised); that resolution is not sent to the webhooks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use sightline_app::budgets::{
    BudgetSettings, BudgetUse, BudgetsCard, Limits, MAX_USER_BUDGETS, Period, Scope, SharedBudget,
    THRESHOLDS, TOP_USERS, UserBudget, UsersAgainstBudget,
};
use sightline_app::format::money_exact;
use sightline_app::units::{EpochMillis, Micros};
use sightline_tracker::wire::Severity;
use tokio::sync::Notify;

use crate::detect::webhooks::{Notice, Webhooks};
use crate::store::{NewAlert, Store, StoreError};

/// The rule of budget alerts.
pub const RULE: &str = "budget";
/// How often the budgets are checked (and at once after an admin changes one).
const CHECK_EVERY: Duration = Duration::from_secs(10);
/// Users a check fires alerts for, at most, per period (the highest shares first).
const MAX_USER_ALERTS: i64 = 1_000;

/// The budgets of the environment (`SIGHTLINE_BUDGET_*`), in micro-dollars.
#[derive(Args, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetDefaults {
    /// USD the platform's served requests may cost per UTC day: an alert at 80% and at
    /// 100%. The settings page's choice takes precedence.
    #[arg(long = "budget-daily-usd", global = true, env = "SIGHTLINE_BUDGET_DAILY_USD", value_parser = usd)]
    pub daily: Option<Micros>,
    /// USD the platform's served requests may cost per calendar month (UTC).
    #[arg(long = "budget-monthly-usd", global = true, env = "SIGHTLINE_BUDGET_MONTHLY_USD", value_parser = usd)]
    pub monthly: Option<Micros>,
    /// USD each platform user's requests may cost per UTC day (a user's own budget, set
    /// in the settings, takes precedence).
    #[arg(long = "budget-user-daily-usd", global = true, env = "SIGHTLINE_BUDGET_USER_DAILY_USD", value_parser = usd)]
    pub user_daily: Option<Micros>,
    /// USD each platform user's requests may cost per calendar month (UTC).
    #[arg(long = "budget-user-monthly-usd", global = true, env = "SIGHTLINE_BUDGET_USER_MONTHLY_USD", value_parser = usd)]
    pub user_monthly: Option<Micros>,
}

fn usd(text: &str) -> Result<Micros, String> {
    sightline_app::budgets::parse_budget_usd("environment's", text)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "give USD from 0.01 to 10000000".to_owned())
}

impl BudgetDefaults {
    fn of(&self, scope: Scope) -> Limits {
        match scope {
            Scope::Global => Limits {
                daily_micros: self.daily,
                monthly_micros: self.monthly,
            },
            Scope::EachUser => Limits {
                daily_micros: self.user_daily,
                monthly_micros: self.user_monthly,
            },
        }
    }
}

/// The budgets of this server: the environment's, the store's, and a bell rung when an
/// admin changes them so the check runs at once. Cheap to clone.
#[derive(Clone)]
pub struct Budgets {
    store: Store,
    defaults: BudgetDefaults,
    changed: Arc<Notify>,
}

/// The limits in force, by scope, with every user's own.
struct InForce {
    global: Limits,
    each_user: Limits,
    users: Vec<UserBudget>,
}

impl InForce {
    fn of(settings: &BudgetSettings) -> InForce {
        let limits = |scope| {
            let mut l = Limits::default();
            for b in settings.shared.iter().filter(|b| b.scope == scope) {
                l.set(b.period, b.limit_micros);
            }
            l
        };
        InForce {
            global: limits(Scope::Global),
            each_user: limits(Scope::EachUser),
            users: settings.users.clone(),
        }
    }

    /// Whether any user has a budget for `period`.
    fn per_user(&self, period: Period) -> bool {
        self.each_user.of(period).is_some()
            || self.users.iter().any(|u| u.limits.of(period).is_some())
    }
}

impl Budgets {
    pub fn new(store: Store, defaults: BudgetDefaults) -> Budgets {
        Budgets {
            store,
            defaults,
            changed: Arc::new(Notify::new()),
        }
    }

    /// Every budget, as the settings page shows it.
    pub async fn settings(&self) -> Result<BudgetSettings, StoreError> {
        let (stored, users) = self.store.budgets().await?;
        let mut shared = Vec::new();
        for scope in Scope::ALL {
            let environment = self.defaults.of(scope);
            for period in Period::ALL {
                let set = stored
                    .iter()
                    .find(|b| b.scope == scope && b.period == period);
                shared.push(SharedBudget {
                    scope,
                    period,
                    limit_micros: match set {
                        Some(b) => b.limit_micros,
                        None => environment.of(period),
                    },
                    set_here: set.is_some(),
                    environment_micros: environment.of(period),
                });
            }
        }
        Ok(BudgetSettings { shared, users })
    }

    /// Sets the shared budgets (global and each user's) here, over the environment's.
    pub async fn set_shared(
        &self,
        global: Limits,
        each_user: Limits,
        now: i64,
    ) -> Result<(), StoreError> {
        self.store
            .set_shared_budgets(Scope::Global, global, now)
            .await?;
        self.store
            .set_shared_budgets(Scope::EachUser, each_user, now)
            .await?;
        self.changed.notify_one();
        Ok(())
    }

    /// Forgets the shared budgets set here: the environment's apply again.
    pub async fn reset_shared(&self) -> Result<(), StoreError> {
        self.store.reset_shared_budgets().await?;
        self.changed.notify_one();
        Ok(())
    }

    /// Gives a user budgets of their own; `Ok(false)` when too many users have some.
    pub async fn set_user(
        &self,
        user_id: &str,
        limits: Limits,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = self
            .store
            .set_user_budget(user_id, limits, MAX_USER_BUDGETS, now)
            .await?;
        self.changed.notify_one();
        Ok(done)
    }

    /// Removes a user's own budgets; whether there were any.
    pub async fn remove_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let removed = self.store.remove_user_budget(user_id).await?;
        self.changed.notify_one();
        Ok(removed)
    }

    /// The dashboard's budgets card as of `now`.
    pub async fn card(&self, now: EpochMillis) -> Result<BudgetsCard, StoreError> {
        let limits = InForce::of(&self.settings().await?);
        let mut card = BudgetsCard::default();
        for period in Period::ALL {
            let (start, end) = period.bounds(now);
            if let Some(limit) = limits.global.of(period) {
                card.global.push(self.global_use(period, limit, now).await?);
            }
            if limits.per_user(period) {
                let each_user = limits.each_user.of(period);
                let counts = self
                    .store
                    .users_at_threshold(period, start, end, each_user)
                    .await?;
                card.per_user.push(UsersAgainstBudget {
                    period,
                    each_user_micros: each_user,
                    warned: counts.warned,
                    over: counts.over,
                });
                card.top_users.extend(
                    self.users_near(period, each_user, now, TOP_USERS as i64)
                        .await?,
                );
            }
        }
        card.top_users.sort_by(|a, b| {
            b.percent()
                .total_cmp(&a.percent())
                .then_with(|| a.user_id.cmp(&b.user_id))
                .then_with(|| a.period.cmp(&b.period))
        });
        card.top_users.truncate(TOP_USERS);
        Ok(card)
    }

    /// The platform's spending against its `period` budget of `limit`, as of `now`.
    async fn global_use(
        &self,
        period: Period,
        limit: Micros,
        now: EpochMillis,
    ) -> Result<BudgetUse, StoreError> {
        let (start, end) = period.bounds(now);
        Ok(BudgetUse {
            user_id: None,
            period,
            limit_micros: limit,
            spent_micros: self.store.spent_between(start, end).await?,
            period_start: start,
            period_end: end,
        })
    }

    /// The users at 80% or more of their `period` budget as of `now` (`each_user` for
    /// those without their own), highest share first; at most `limit`.
    async fn users_near(
        &self,
        period: Period,
        each_user: Option<Micros>,
        now: EpochMillis,
        limit: i64,
    ) -> Result<Vec<BudgetUse>, StoreError> {
        let (start, end) = period.bounds(now);
        let users = self
            .store
            .users_near_budget(period, start, end, each_user, limit)
            .await?;
        Ok(users
            .into_iter()
            .map(|u| BudgetUse {
                user_id: Some(u.user_id),
                period,
                limit_micros: u.limit_micros,
                spent_micros: u.spent_micros,
                period_start: start,
                period_end: end,
            })
            .collect())
    }

    /// Checks the budgets every 10 seconds (and when one changes) until aborted.
    pub fn spawn_check(self, webhooks: Webhooks) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut check = Check {
                budgets: self.clone(),
                webhooks,
                known: HashSet::new(),
                known_month: None,
            };
            loop {
                if let Err(e) = check.run(EpochMillis::now()).await {
                    tracing::warn!(error = %e, "budget check failed; trying again shortly");
                }
                tokio::select! {
                    _ = tokio::time::sleep(CHECK_EVERY) => {}
                    _ = self.changed.notified() => {}
                }
            }
        })
    }
}

/// The state of the budget check: the alert keys known to be recorded this month (so
/// a check writes only when a threshold is newly reached).
struct Check {
    budgets: Budgets,
    webhooks: Webhooks,
    known: HashSet<String>,
    known_month: Option<EpochMillis>,
}

/// The alert key of `period`'s budget of `user` (or the global one) at `threshold`.
fn alert_key(period: Period, user: Option<&str>, now: EpochMillis, threshold: u32) -> String {
    let whose = match user {
        Some(id) => format!("user:{id}"),
        None => "global".to_owned(),
    };
    format!(
        "{RULE}:{}:{whose}:{}:{threshold}",
        period.as_str(),
        period.label(now)
    )
}

/// The alert of `used` at `threshold` (80 or 100) as of `now`.
fn budget_alert(used: &BudgetUse, threshold: u32, now: EpochMillis) -> NewAlert {
    let period = used.period.as_str();
    let spent = if threshold >= 100 {
        "spent".to_owned()
    } else {
        format!("{threshold}% spent")
    };
    let (title, whose) = match &used.user_id {
        Some(id) => (
            format!("User {id}: {period} budget {spent}"),
            format!("user {id}"),
        ),
        None => (
            format!(
                "{}{} budget {spent}",
                period[..1].to_uppercase(),
                &period[1..]
            ),
            "the platform".to_owned(),
        ),
    };
    let limit_usd = used.limit_micros.usd();
    NewAlert {
        key: alert_key(used.period, used.user_id.as_deref(), now, threshold),
        rule: RULE.to_owned(),
        severity: if threshold >= 100 {
            Severity::High
        } else {
            Severity::Medium
        },
        title,
        description: format!(
            "{} of the {} {period} budget of {whose} spent {} ({:.0}%)",
            money_exact(used.spent_micros),
            money_exact(used.limit_micros),
            used.period.current(),
            used.percent().floor()
        ),
        endpoint: None,
        value: used.spent_micros.usd(),
        threshold: limit_usd * f64::from(threshold) / 100.0,
        at: now.ms(),
    }
}

impl Check {
    async fn run(&mut self, now: EpochMillis) -> Result<(), StoreError> {
        let store = &self.budgets.store;
        let (month, _) = Period::Monthly.bounds(now);
        if self.known_month != Some(month) {
            self.known = store
                .alert_keys_since(RULE, month.ms())
                .await?
                .into_iter()
                .collect();
            self.known_month = Some(month);
        }
        let limits = InForce::of(&self.budgets.settings().await?);
        let mut reached: Vec<BudgetUse> = Vec::new();
        for period in Period::ALL {
            if let Some(limit) = limits.global.of(period) {
                reached.push(self.budgets.global_use(period, limit, now).await?);
            }
            if limits.per_user(period) {
                let each_user = limits.each_user.of(period);
                reached.extend(
                    self.budgets
                        .users_near(period, each_user, now, MAX_USER_ALERTS)
                        .await?,
                );
            }
        }
        let mut holding = HashSet::new();
        for used in &reached {
            let Some(top) = used.reached() else { continue };
            for threshold in THRESHOLDS.into_iter().filter(|t| *t <= top) {
                let alert = budget_alert(used, threshold, now);
                holding.insert(alert.key.clone());
                if self.known.contains(&alert.key) {
                    continue;
                }
                if let Some(fired) = store.fire_alert_once(&alert).await? {
                    tracing::info!(key = %fired.key, "budget alert fired");
                    self.webhooks.send(Notice::firing(fired));
                }
                self.known.insert(alert.key);
            }
        }
        for key in store.firing_keys_of(RULE).await? {
            if !holding.contains(&key) {
                store.resolve_alert(&key, 0.0, now.ms()).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03T10:00:00Z.
    const NOW: i64 = 1_796_292_000_000;

    fn used(user: Option<&str>, period: Period, spent: i64) -> BudgetUse {
        let (period_start, period_end) = period.bounds(EpochMillis(NOW));
        BudgetUse {
            user_id: user.map(str::to_owned),
            period,
            limit_micros: Micros(10_000_000),
            spent_micros: Micros(spent),
            period_start,
            period_end,
        }
    }

    #[test]
    fn an_alert_names_its_threshold_and_period() {
        let a = budget_alert(&used(None, Period::Daily, 8_120_000), 80, EpochMillis(NOW));
        assert_eq!(a.key, "budget:daily:global:2026-12-03:80");
        assert_eq!(a.title, "Daily budget 80% spent");
        assert_eq!(
            a.description,
            "$8.12 of the $10.00 daily budget of the platform spent today (81%)"
        );
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!((a.value, a.threshold), (8.12, 8.0));

        let a = budget_alert(
            &used(Some("alice"), Period::Monthly, 12_500_000),
            100,
            EpochMillis(NOW),
        );
        assert_eq!(a.key, "budget:monthly:user:alice:2026-12:100");
        assert_eq!(a.title, "User alice: monthly budget spent");
        assert_eq!(
            a.description,
            "$12.50 of the $10.00 monthly budget of user alice spent this month (125%)"
        );
        assert_eq!(a.severity, Severity::High);
    }
}
