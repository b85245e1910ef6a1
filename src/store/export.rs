//! The CSV exports' reads: every row a list view's filter matches (no pagination), in
//! the view's order, handed to the caller one at a time as the cells of a CSV record.
//! Rows are streamed from the database, never collected, so memory stays flat
//! whatever the number of rows.

use std::future::Future;

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::any::AnyRow;

use sightline_app::export::{FeedbackFilter, SessionFilter};
use sightline_app::requests::RequestFilter;
use sightline_app::threats::ThreatFilter;

use super::explorer::{SESSION_SELECT, session_from_row};
use super::requests::{REQUEST_SELECT, request_from_row};
use super::sessions::session_filter_sql;
use super::threats::{THREAT_ROW_COLUMNS, threat_row};
use super::{Bind, Store, StoreError, bind_all};

/// The header of the requests export, one name per cell of its rows.
pub const REQUEST_EXPORT_COLUMNS: &[&str] = &[
    "request_id",
    "created_at",
    "kind",
    "service",
    "method",
    "endpoint",
    "status_code",
    "latency_ms",
    "ttft_ms",
    "model_name",
    "prompt_tokens",
    "completion_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "finish_reason",
    "user_id",
    "session_id",
    "is_authenticated",
    "ip",
    "country",
    "user_agent",
    "request_bytes",
    "response_bytes",
    "error",
    "metadata",
];

/// The header of the threats export.
pub const THREAT_EXPORT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "last_seen_at",
    "threat_type",
    "severity",
    "occurrences",
    "ip",
    "user_id",
    "country",
    "endpoint",
    "request_id",
    "description",
    "resolved",
    "resolved_at",
    "resolved_by",
];

/// The header of the feedback export.
pub const FEEDBACK_EXPORT_COLUMNS: &[&str] = &[
    "request_id",
    "user_id",
    "rating",
    "comment",
    "created_at",
    "updated_at",
];

/// The header of the sessions export.
pub const SESSION_EXPORT_COLUMNS: &[&str] = &[
    "session_key",
    "user_id",
    "inferred",
    "started_at",
    "last_seen_at",
    "duration_ms",
    "request_count",
    "error_count",
    "tokens",
    "cost_usd",
    "ip",
    "user_agent",
];

impl Store {
    /// Every request `filter` matches, in the explorer's order (its sort column, then
    /// id, descending). `each` gets the cells of [`REQUEST_EXPORT_COLUMNS`] and answers
    /// whether to go on; returns the rows it took.
    pub async fn export_requests<F, Fut>(
        &self,
        filter: &RequestFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let (condition, binds) = super::explorer::filter_sql(filter, self.kind);
        let column = super::explorer::sort_column(filter.sort);
        let sql = format!(
            "SELECT {REQUEST_SELECT} FROM request_log WHERE {condition} \
             ORDER BY {column} DESC, id DESC"
        );
        self.export_rows(&sql, &binds, request_cells, each).await
    }

    /// Every threat `filter` matches, newest last seen first (as the threats view).
    pub async fn export_threats<F, Fut>(
        &self,
        filter: &ThreatFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let (condition, binds) = super::threats::filter_sql(filter, 0, self.kind);
        let sql = format!(
            "SELECT {THREAT_ROW_COLUMNS}, country, endpoint, request_id, resolved_at, resolved_by \
             FROM threat_log WHERE {condition} ORDER BY last_seen_at DESC, id DESC"
        );
        self.export_rows(&sql, &binds, threat_cells, each).await
    }

    /// Every rating `filter` matches, newest first.
    pub async fn export_feedback<F, Fut>(
        &self,
        filter: &FeedbackFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let mut parts = vec!["1 = 1".to_owned()];
        let mut binds = Vec::new();
        if let Some(since) = filter.since {
            binds.push(Bind::Int(since));
            parts.push(format!("created_at >= ${}", binds.len()));
        }
        if let Some(id) = &filter.request_id {
            binds.push(Bind::Text(id.clone()));
            parts.push(format!("request_id = ${}", binds.len()));
        }
        let sql = format!(
            "SELECT request_id, user_id, rating, comment, created_at, updated_at \
             FROM feedback_log WHERE {} ORDER BY created_at DESC, id DESC",
            parts.join(" AND ")
        );
        self.export_rows(&sql, &binds, feedback_cells, each).await
    }

    /// Every session `filter` matches, newest started first.
    pub async fn export_sessions<F, Fut>(
        &self,
        filter: &SessionFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let (condition, binds) = session_filter_sql(filter);
        let sql = format!(
            "SELECT {SESSION_SELECT}, ip, user_agent FROM user_session WHERE {condition} \
             ORDER BY started_at DESC, id DESC"
        );
        self.export_rows(&sql, &binds, session_cells, each).await
    }

    /// Runs `sql` and hands each row, as cells, to `each` until it says stop.
    async fn export_rows<F, Fut>(
        &self,
        sql: &str,
        binds: &[Bind],
        cells: fn(&AnyRow) -> Result<Vec<String>, sqlx::Error>,
        mut each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let mut rows = bind_all(sqlx::query(sql), binds).fetch(&self.pool);
        let mut taken = 0;
        while let Some(row) = rows.try_next().await? {
            if !each(cells(&row)?).await {
                break;
            }
            taken += 1;
        }
        Ok(taken)
    }
}

fn request_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let r = request_from_row(row)?;
    Ok(vec![
        r.request_id,
        instant(r.created_at),
        r.kind.as_str().to_owned(),
        text(r.service),
        r.method,
        r.endpoint,
        r.status_code.to_string(),
        r.latency_ms.to_string(),
        r.ttft_ms.map(|v| v.to_string()).unwrap_or_default(),
        text(r.model_name),
        r.prompt_tokens.to_string(),
        r.completion_tokens.to_string(),
        r.cache_read_tokens.to_string(),
        r.cache_write_tokens.to_string(),
        r.reasoning_tokens.to_string(),
        usd(r.cost_micros),
        text(r.finish_reason),
        text(r.user_id),
        text(r.session_id),
        r.is_authenticated.to_string(),
        text(r.ip),
        text(r.country),
        text(r.user_agent),
        number(r.request_bytes),
        number(r.response_bytes),
        text(r.error),
        text(r.metadata),
    ])
}

fn threat_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let t = threat_row(row)?;
    Ok(vec![
        t.id.to_string(),
        instant(t.created_at),
        instant(t.last_seen_at),
        t.threat_type,
        t.severity,
        t.occurrences.to_string(),
        text(t.ip),
        text(t.user_id),
        text(row.try_get(10)?),
        text(row.try_get(11)?),
        text(row.try_get(12)?),
        t.description,
        t.resolved.to_string(),
        row.try_get::<Option<i64>, _>(13)?
            .map(instant)
            .unwrap_or_default(),
        text(row.try_get(14)?),
    ])
}

fn feedback_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    Ok(vec![
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get::<i32, _>(2)?.to_string(),
        text(row.try_get(3)?),
        instant(row.try_get(4)?),
        instant(row.try_get(5)?),
    ])
}

fn session_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let s = session_from_row(row)?;
    Ok(vec![
        s.session_key,
        text(s.user_id),
        s.inferred.to_string(),
        instant(s.started_at),
        instant(s.last_seen_at),
        (s.last_seen_at - s.started_at).to_string(),
        s.request_count.to_string(),
        s.error_count.to_string(),
        s.tokens.to_string(),
        usd(s.cost_micros),
        text(row.try_get(9)?),
        text(row.try_get(10)?),
    ])
}

/// A missing value is an empty cell.
fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// An instant as RFC 3339 in UTC to the millisecond: `2026-11-22T18:33:16.123Z`.
fn instant(ms: i64) -> String {
    sightline_app::format::rfc3339(ms)
}

/// Micro-dollars as dollars with all six decimals: `0.001234`.
fn usd(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_and_money_are_written_exactly() {
        assert_eq!(
            super::instant(1_795_372_396_123),
            "2026-11-22T18:33:16.123Z"
        );
        assert_eq!(super::instant(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::usd(1_234), "0.001234");
        assert_eq!(super::usd(0), "0.000000");
        assert_eq!(super::usd(12_500_000), "12.500000");
        assert_eq!(super::usd(-45), "-0.000045");
    }
}
