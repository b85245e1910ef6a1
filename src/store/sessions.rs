//! The sessions and users views' reads: pages of `user_session` and of `tracked_user`
//! (keyset pagination, no COUNT), and one platform user with their latest sessions.

use std::collections::HashMap;

use sqlx::FromRow;

use sightline_app::export::SessionFilter;
use sightline_app::paging::Cursor;
use sightline_app::sessions::{SessionPage, SessionRow};
use sightline_app::units::{EpochMillis, Micros};
use sightline_app::users::{
    UserCursor, UserDetail, UserFilter, UserPage, UserProviderCost, UserRow, UserSort,
};

use super::explorer::{SESSION_SELECT, SessionRecord};
use super::{Bind, Store, StoreError, bind_all, map_rows, paging, text_search};

const USER_SELECT: &str =
    "user_id, first_seen_at, last_seen_at, requests, errors, tokens, cost_micros";

impl Store {
    /// A page of the sessions view: the sessions matching `filter` after `after`,
    /// newest started first (then by id); `next` is set when more follow.
    pub async fn session_page(
        &self,
        filter: &SessionFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<SessionPage, StoreError> {
        let (mut condition, mut binds) = session_filter_sql(filter);
        if let Some(c) = after {
            binds.push(Bind::Int(c.at.ms()));
            let t = binds.len();
            binds.push(Bind::Int(c.id));
            let id = binds.len();
            // The first bound lets the index on started_at start at the cursor.
            condition.push_str(&format!(
                " AND started_at <= ${t} AND (started_at < ${t} OR id < ${id})"
            ));
        }
        let sql = format!(
            "SELECT {SESSION_SELECT}, id, ip FROM user_session WHERE {condition} \
             ORDER BY started_at DESC, id DESC LIMIT {}",
            paging::fetch_limit(limit)
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut rows = map_rows(&rows, |r| {
            SessionListRecord::from_row(r).map(SessionRow::from)
        })?;
        let next = paging::next_cursor(&mut rows, limit, |r| Cursor {
            at: r.session.started_at,
            id: r.id,
        });
        Ok(SessionPage { rows, next })
    }

    /// A page of the users view: the users matching `filter` after `after`, ordered
    /// by the sort column and then user id, both descending.
    pub async fn user_page(
        &self,
        filter: &UserFilter,
        after: Option<UserCursor>,
        limit: i64,
    ) -> Result<UserPage, StoreError> {
        let mut binds = Vec::new();
        let mut condition = "1 = 1".to_owned();
        if let Some(search) = &filter.search {
            binds.push(Bind::Text(text_search::pattern(self.kind, search)));
            let p = format!("${}", binds.len());
            condition.push_str(" AND ");
            condition.push_str(&text_search::contains(self.kind, "user_id", &p));
        }
        let column = user_sort_column(filter.sort);
        if let Some(c) = after {
            binds.push(Bind::Int(c.value));
            let value = binds.len();
            binds.push(Bind::Text(c.user_id));
            let id = binds.len();
            condition.push_str(&format!(
                " AND {column} <= ${value} AND ({column} < ${value} OR user_id < ${id})"
            ));
        }
        let sql = format!(
            "SELECT {USER_SELECT} FROM tracked_user WHERE {condition} \
             ORDER BY {column} DESC, user_id DESC LIMIT {}",
            paging::fetch_limit(limit)
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut rows = map_rows(&rows, |r| UserRecord::from_row(r).map(UserRow::from))?;
        let next = paging::next_cursor(&mut rows, limit, |r| UserCursor {
            value: r.sort_value(filter.sort),
            user_id: r.user_id.clone(),
        });
        self.add_provider_costs(&mut rows).await?;
        Ok(UserPage { rows, next })
    }

    /// A platform user's totals and their `sessions` latest sessions; `None` if no
    /// user has this id.
    pub async fn user_detail(
        &self,
        user_id: &str,
        sessions: i64,
    ) -> Result<Option<UserDetail>, StoreError> {
        let sql = format!("SELECT {USER_SELECT} FROM tracked_user WHERE user_id = $1");
        let Some(row) = sqlx::query_as::<_, UserRecord>(&sql)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut user = UserRow::from(row);
        let providers: Vec<UserProviderCost> = sqlx::query_as::<_, ProviderCostRow>(
            "SELECT service, calls, errors, tokens, cost_micros FROM user_provider_cost \
             WHERE user_id = $1 ORDER BY cost_micros DESC, calls DESC, service",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(ProviderCostRow::into_cost)
        .collect();
        for p in &providers {
            user.provider_calls = user.provider_calls.saturating_add(p.calls);
            user.provider_cost_micros = user.provider_cost_micros.saturating_add(p.cost_micros);
        }
        let filter = SessionFilter {
            since: None,
            user: Some(user_id.to_owned()),
        };
        let sessions = self.session_page(&filter, None, sessions).await?.rows;
        Ok(Some(UserDetail {
            user,
            providers,
            sessions,
        }))
    }

    /// Fills in the provider calls and cost of a page of users, in one query on the
    /// primary key of `user_provider_cost` (a page holds at most a few hundred users).
    async fn add_provider_costs(&self, rows: &mut [UserRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let placeholders = (1..=rows.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT user_id, CAST(SUM(calls) AS BIGINT) AS calls, \
                    CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
             FROM user_provider_cost WHERE user_id IN ({placeholders}) GROUP BY user_id"
        );
        let mut query = sqlx::query_as::<_, UserProviderTotals>(&sql);
        for r in rows.iter() {
            query = query.bind(r.user_id.as_str());
        }
        let totals: HashMap<String, UserProviderTotals> = query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|t| (t.user_id.clone(), t))
            .collect();
        for r in rows.iter_mut() {
            if let Some(t) = totals.get(&r.user_id) {
                r.provider_calls = t.calls;
                r.provider_cost_micros = t.cost_micros;
            }
        }
        Ok(())
    }
}

/// The WHERE condition of a sessions filter and the values it binds, as `$1`, `$2`, …
pub(super) fn session_filter_sql(filter: &SessionFilter) -> (String, Vec<Bind>) {
    let mut parts = vec!["1 = 1".to_owned()];
    let mut binds = Vec::new();
    if let Some(since) = filter.since {
        binds.push(Bind::Int(since.ms()));
        parts.push(format!("started_at >= ${}", binds.len()));
    }
    if let Some(user) = &filter.user {
        binds.push(Bind::Text(user.clone()));
        parts.push(format!("user_id = ${}", binds.len()));
    }
    (parts.join(" AND "), binds)
}

/// The column a users sort orders by (descending, then by user id).
fn user_sort_column(sort: UserSort) -> &'static str {
    match sort {
        UserSort::Cost => "cost_micros",
        UserSort::Requests => "requests",
        UserSort::LastSeen => "last_seen_at",
    }
}

/// A row of `SELECT {SESSION_SELECT}, id, ip`.
#[derive(sqlx::FromRow)]
struct SessionListRecord {
    #[sqlx(flatten)]
    session: SessionRecord,
    id: i64,
    ip: Option<String>,
}

impl From<SessionListRecord> for SessionRow {
    fn from(r: SessionListRecord) -> SessionRow {
        SessionRow {
            session: r.session.into(),
            id: r.id,
            ip: r.ip,
        }
    }
}

/// A row of [`USER_SELECT`].
#[derive(sqlx::FromRow)]
struct UserRecord {
    user_id: String,
    first_seen_at: EpochMillis,
    last_seen_at: EpochMillis,
    requests: i64,
    errors: i64,
    tokens: i64,
    cost_micros: Micros,
}

impl From<UserRecord> for UserRow {
    fn from(r: UserRecord) -> UserRow {
        UserRow {
            user_id: r.user_id,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            requests: r.requests,
            errors: r.errors,
            tokens: r.tokens,
            cost_micros: r.cost_micros,
            // Filled in from `user_provider_cost` by the caller.
            provider_calls: 0,
            provider_cost_micros: Micros::ZERO,
        }
    }
}

/// A row of `user_provider_cost`.
#[derive(sqlx::FromRow)]
struct ProviderCostRow {
    service: String,
    calls: i64,
    errors: i64,
    tokens: i64,
    cost_micros: Micros,
}

impl ProviderCostRow {
    fn into_cost(self) -> UserProviderCost {
        UserProviderCost {
            service: self.service,
            calls: self.calls,
            errors: self.errors,
            tokens: self.tokens,
            cost_micros: self.cost_micros,
        }
    }
}

/// One user's provider calls and cost over every provider.
#[derive(sqlx::FromRow)]
struct UserProviderTotals {
    user_id: String,
    calls: i64,
    cost_micros: Micros,
}
