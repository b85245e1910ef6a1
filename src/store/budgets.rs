//! `budget`: the spending budgets set in the settings page, and what has been spent
//! against them, read from the day-grain rollups (`rollup_traffic` for the platform,
//! `rollup_user` for its users), so a check reads at most a month of day rows.

use sightline_app::budgets::{Limits, Period, Scope, UserBudget};
use sightline_app::units::{EpochMillis, Micros};
use sqlx::FromRow;

use super::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// A shared budget as stored: `limit_micros` `None` says "no budget" over the
/// environment's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBudget {
    pub scope: Scope,
    pub period: Period,
    pub limit_micros: Option<Micros>,
}

#[derive(FromRow)]
struct BudgetRow {
    scope: String,
    user_id: String,
    period: String,
    limit_micros: Option<Micros>,
}

/// A user's spending in a period, with the limit that applies to them.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserSpend {
    pub user_id: String,
    pub spent_micros: Micros,
    pub limit_micros: Micros,
}

/// How many users are at 80% and at 100% of their budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromRow)]
pub struct UsersAtThreshold {
    pub warned: i64,
    pub over: i64,
}

fn scope_name(s: &str) -> Option<Scope> {
    Scope::ALL.into_iter().find(|x| x.as_str() == s)
}

/// The SQL of the users whose spending in `[$2, $3)` reaches 80% of their limit: their
/// own (`budget` rows of scope `user`, period `$1`) or, for the others, `$4` (each
/// user's limit, NULL for none). Columns `user_id`, `spent_micros`, `limit_micros`.
const USERS_AT_80: &str = "\
    SELECT s.user_id, s.spent_micros, s.limit_micros FROM ( \
        SELECT u.user_id, CAST(SUM(u.cost_micros) AS BIGINT) AS spent_micros, \
               CAST(COALESCE(MAX(b.limit_micros), $4) AS BIGINT) AS limit_micros \
        FROM rollup_user u \
        LEFT JOIN budget b ON b.scope = 'user' AND b.user_id = u.user_id AND b.period = $1 \
        WHERE u.bucket_ms = 86400000 AND u.bucket_start >= $2 AND u.bucket_start < $3 \
        GROUP BY u.user_id \
    ) s \
    WHERE s.limit_micros IS NOT NULL AND s.spent_micros * 5 >= s.limit_micros * 4";

impl Store {
    /// The shared budgets set here (global and each user's), and every user's own.
    pub async fn budgets(&self) -> Result<(Vec<StoredBudget>, Vec<UserBudget>), StoreError> {
        let rows: Vec<BudgetRow> = sqlx::query_as(
            "SELECT scope, user_id, period, limit_micros FROM budget ORDER BY user_id, period",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut shared = Vec::new();
        let mut users: Vec<UserBudget> = Vec::new();
        for r in rows {
            let Some(period) = Period::parse(&r.period) else {
                continue;
            };
            if r.scope == "user" {
                if users.last().is_none_or(|u| u.user_id != r.user_id) {
                    users.push(UserBudget {
                        user_id: r.user_id.clone(),
                        limits: Limits::default(),
                    });
                }
                if let Some(u) = users.last_mut() {
                    u.limits.set(period, r.limit_micros);
                }
            } else if let Some(scope) = scope_name(&r.scope) {
                shared.push(StoredBudget {
                    scope,
                    period,
                    limit_micros: r.limit_micros,
                });
            }
        }
        Ok((shared, users))
    }

    /// Sets the shared budgets of `scope` (`None` in `limits`: no budget, whatever the
    /// environment says).
    pub async fn set_shared_budgets(
        &self,
        scope: Scope,
        limits: Limits,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for period in Period::ALL {
            sqlx::query(
                "INSERT INTO budget (scope, user_id, period, limit_micros, updated_at) \
                 VALUES ($1, '', $2, $3, $4) \
                 ON CONFLICT (scope, user_id, period) DO UPDATE \
                 SET limit_micros = excluded.limit_micros, updated_at = excluded.updated_at",
            )
            .bind(scope.as_str())
            .bind(period.as_str())
            .bind(limits.of(period))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the shared budgets set here: the environment's apply again.
    pub async fn reset_shared_budgets(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM budget WHERE scope <> 'user'")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Gives `user_id` budgets of their own (replacing any); `None` in `limits`: each
    /// user's budget applies to them for that period. Refused (`Ok(false)`) when
    /// `max_users` other users already have one.
    pub async fn set_user_budget(
        &self,
        user_id: &str,
        limits: Limits,
        max_users: usize,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT user_id) FROM budget WHERE scope = 'user' AND user_id <> $1",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        if !limits.is_empty() && others >= max_users as i64 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM budget WHERE scope = 'user' AND user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for period in Period::ALL {
            let Some(limit) = limits.of(period) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO budget (scope, user_id, period, limit_micros, updated_at) \
                 VALUES ('user', $1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(period.as_str())
            .bind(limit)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Removes `user_id`'s own budgets; whether there were any.
    pub async fn remove_user_budget(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM budget WHERE scope = 'user' AND user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The cost of the served requests in the UTC days of `[start, end)` (day-aligned).
    pub async fn spent_between(
        &self,
        start: EpochMillis,
        end: EpochMillis,
    ) -> Result<Micros, StoreError> {
        let spent: Option<Micros> = sqlx::query_scalar(
            "SELECT CAST(SUM(cost_micros) AS BIGINT) FROM rollup_traffic \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3",
        )
        .bind(DAY_MS)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        Ok(spent.unwrap_or_default())
    }

    /// The users at 80% or more of their `period` budget in `[start, end)`: their own,
    /// else `each_user`. Highest share first; at most `limit`.
    pub async fn users_near_budget(
        &self,
        period: Period,
        start: EpochMillis,
        end: EpochMillis,
        each_user: Option<Micros>,
        limit: i64,
    ) -> Result<Vec<UserSpend>, StoreError> {
        let sql = format!(
            "{USERS_AT_80} ORDER BY CAST(s.spent_micros AS DOUBLE PRECISION) / s.limit_micros DESC, \
             s.user_id LIMIT $5"
        );
        Ok(sqlx::query_as(&sql)
            .bind(period.as_str())
            .bind(start)
            .bind(end)
            .bind(each_user)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// How many users are at 80% and at 100% of their `period` budget in `[start, end)`.
    pub async fn users_at_threshold(
        &self,
        period: Period,
        start: EpochMillis,
        end: EpochMillis,
        each_user: Option<Micros>,
    ) -> Result<UsersAtThreshold, StoreError> {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS warned, \
                    CAST(COALESCE(SUM(CASE WHEN n.spent_micros >= n.limit_micros THEN 1 ELSE 0 END), 0) AS BIGINT) AS over \
             FROM ({USERS_AT_80}) n"
        );
        Ok(sqlx::query_as(&sql)
            .bind(period.as_str())
            .bind(start)
            .bind(end)
            .bind(each_user)
            .fetch_one(&self.pool)
            .await?)
    }
}
