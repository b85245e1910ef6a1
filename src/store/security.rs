//! The security view's reads: the platform's auth events per bucket and type (from
//! `rollup_auth` when only the type narrows them, else from the raw rows through the
//! user and IP indexes, bounded by the range), the top failing IPs and users, the IPs
//! with the most threats, and the platform's active users and signups per day.

use sightline_app::security::AuthFilter;
use sightline_app::time::DAY_MS;
use sightline_app::units::EpochMillis;

use sqlx::FromRow;
use sqlx::any::AnyRow;

use super::{Bind, Buckets, Store, StoreError, bind_all, map_rows};

/// The events of one bucket and type.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AuthBucketCount {
    pub bucket_start: EpochMillis,
    pub event_type: String,
    pub events: i64,
    pub failures: i64,
}

/// An IP or user and its failures.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct FailingCount {
    pub key: String,
    pub failures: i64,
    pub last_failed_at: EpochMillis,
}

/// An IP and the threats raised for it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ThreatIpCount {
    pub ip: String,
    pub threats: i64,
    pub occurrences: i64,
    pub last_seen_at: EpochMillis,
}

/// A day and a count.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DayCount {
    pub day: EpochMillis,
    pub n: i64,
}

/// Who failed: the column the top lists group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailingBy {
    Ip,
    User,
}

impl FailingBy {
    fn column(self) -> &'static str {
        match self {
            FailingBy::Ip => "ip",
            FailingBy::User => "user_id",
        }
    }
}

/// The condition (on `auth_event`, the platform's rows) and binds of `filter`, binds
/// numbered after `first` already bound ones.
pub(super) fn auth_filter_sql(filter: &AuthFilter, first: usize) -> (String, Vec<Bind>) {
    let mut parts = vec!["source = 'platform'".to_owned()];
    let mut binds = Vec::new();
    let mut add = |sql: &str, bind: Bind| {
        binds.push(bind);
        parts.push(sql.replace('?', &format!("${}", first + binds.len())));
    };
    if let Some(since) = filter.since {
        add("created_at >= ?", Bind::Int(since.ms()));
    }
    if let Some(until) = filter.until {
        add("created_at < ?", Bind::Int(until.ms()));
    }
    if let Some(t) = &filter.event_type {
        add("event_type = ?", Bind::Text(t.clone()));
    }
    if let Some(user) = &filter.user {
        add("user_id = ?", Bind::Text(user.clone()));
    }
    if let Some(ip) = &filter.ip {
        add("ip = ?", Bind::Text(ip.clone()));
    }
    (parts.join(" AND "), binds)
}

/// 1 for a failed event, else 0, as BIGINT on both databases.
const FAILED: &str = "CASE WHEN success THEN 0 ELSE 1 END";

impl Store {
    /// The rows of `sql` with `binds`, decoded by name.
    async fn fetch_as<T>(&self, sql: &str, binds: &[Bind]) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let rows = bind_all(sqlx::query(sql), binds)
            .fetch_all(&self.pool)
            .await?;
        map_rows(&rows, |r| T::from_row(r))
    }

    /// Events and failures per bucket and type, for the events `filter` matches in the
    /// buckets (its own `since`/`until` are not looked at).
    /// Buckets without events are left out.
    pub async fn auth_bucket_counts(
        &self,
        filter: &AuthFilter,
        buckets: Buckets,
    ) -> Result<Vec<AuthBucketCount>, StoreError> {
        let Buckets { grain, start, end } = buckets;
        let scoped = AuthFilter {
            since: Some(EpochMillis(start)),
            until: Some(EpochMillis(end)),
            ..filter.clone()
        };
        if filter.by_type_only() {
            let mut sql = "SELECT bucket_start, event_type, events, failures FROM rollup_auth \
                 WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3"
                .to_owned();
            let mut binds = vec![Bind::Int(grain), Bind::Int(start), Bind::Int(end)];
            if let Some(t) = &filter.event_type {
                sql.push_str(" AND event_type = $4");
                binds.push(Bind::Text(t.clone()));
            }
            sql.push_str(" ORDER BY bucket_start, event_type");
            return self.fetch_as(&sql, &binds).await;
        }
        let (condition, binds) = auth_filter_sql(&scoped, 1);
        // Ranges start on a bucket boundary and instants are not negative, so the
        // integer division floors as the rollups do.
        let sql = format!(
            "SELECT CAST((created_at / $1) * $1 AS BIGINT) AS bucket_start, event_type, \
                    CAST(COUNT(*) AS BIGINT) AS events, CAST(SUM({FAILED}) AS BIGINT) AS failures \
             FROM auth_event WHERE {condition} GROUP BY 1, 2 ORDER BY 1, 2"
        );
        let mut all = vec![Bind::Int(grain)];
        all.extend(binds);
        self.fetch_as(&sql, &all).await
    }

    /// The IPs or users (`by`) with the most failed events `filter` matches (its range
    /// bounds the read), at most `limit`, most failures first, then by name.
    pub async fn top_failing(
        &self,
        filter: &AuthFilter,
        by: FailingBy,
        limit: i64,
    ) -> Result<Vec<FailingCount>, StoreError> {
        let (condition, binds) = auth_filter_sql(filter, 0);
        let column = by.column();
        let sql = format!(
            "SELECT {column} AS key, CAST(COUNT(*) AS BIGINT) AS failures, \
                    MAX(created_at) AS last_failed_at \
             FROM auth_event WHERE {condition} AND success = FALSE AND {column} IS NOT NULL \
             GROUP BY {column} ORDER BY failures DESC, key LIMIT {}",
            limit.max(0)
        );
        self.fetch_as(&sql, &binds).await
    }

    /// The IPs of the threats raised from `start` to `end` (of `user` and from `ip`
    /// when given) with the most occurrences, at most `limit`.
    pub async fn top_threat_ips(
        &self,
        start: EpochMillis,
        end: EpochMillis,
        user: Option<&str>,
        ip: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ThreatIpCount>, StoreError> {
        let mut condition = "created_at >= $1 AND created_at < $2 AND ip IS NOT NULL".to_owned();
        let mut binds = vec![Bind::Int(start.ms()), Bind::Int(end.ms())];
        if let Some(user) = user {
            binds.push(Bind::Text(user.to_owned()));
            condition.push_str(&format!(" AND user_id = ${}", binds.len()));
        }
        if let Some(ip) = ip {
            binds.push(Bind::Text(ip.to_owned()));
            condition.push_str(&format!(" AND ip = ${}", binds.len()));
        }
        let sql = format!(
            "SELECT ip, CAST(COUNT(*) AS BIGINT) AS threats, \
                    CAST(SUM(occurrences) AS BIGINT) AS occurrences, MAX(last_seen_at) AS last_seen_at \
             FROM threat_log WHERE {condition} \
             GROUP BY ip ORDER BY occurrences DESC, ip LIMIT {}",
            limit.max(0)
        );
        self.fetch_as(&sql, &binds).await
    }

    /// Distinct platform users with requests on each UTC day from `start_day` to `end`
    /// (the daily per-user rollup); days without any are left out.
    pub async fn daily_active_users(
        &self,
        start_day: EpochMillis,
        end: EpochMillis,
    ) -> Result<Vec<DayCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bucket_start AS day, CAST(COUNT(*) AS BIGINT) AS n FROM rollup_user \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             GROUP BY bucket_start ORDER BY bucket_start",
        )
        .bind(DAY_MS)
        .bind(start_day)
        .bind(end)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Signups that succeeded on each UTC day from `start_day` to `end` (the daily
    /// auth rollup); days without any are left out.
    pub async fn daily_signups(
        &self,
        start_day: EpochMillis,
        end: EpochMillis,
    ) -> Result<Vec<DayCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bucket_start AS day, events - failures AS n FROM rollup_auth \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
               AND event_type = 'signup' AND events > failures \
             ORDER BY bucket_start",
        )
        .bind(DAY_MS)
        .bind(start_day)
        .bind(end)
        .fetch_all(&self.pool)
        .await?)
    }
}
