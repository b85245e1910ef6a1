//! The CSV exports' reads: every row a list view's filter matches, in the view's order,
//! handed to the caller one at a time as the cells of a CSV record. Rows are read in
//! keyset pages of [`EXPORT_PAGE_ROWS`]: memory stays flat whatever the number of rows,
//! and no pooled connection (nor, on SQLite, a read transaction that would hold back
//! WAL checkpoints) is held while the caller sends a page to a slow client.

use std::future::Future;

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use sightline_app::audit::AuditFilter;
use sightline_app::export::{FeedbackFilter, SessionFilter};
use sightline_app::report::ThreatRow;
use sightline_app::requests::{RequestFilter, SessionSummary};
use sightline_app::security::AuthFilter;
use sightline_app::threats::ThreatFilter;
use sightline_app::units::{EpochMillis, Micros};

use sightline_app::requests::RequestSort;

use super::audit::audit_filter_sql;
use super::explorer::{SESSION_SELECT, SessionRecord};
use super::requests::{REQUEST_SELECT, request_from_row};
use super::security::auth_filter_sql;
use super::sessions::session_filter_sql;
use super::threats::{THREAT_ROW_COLUMNS, ThreatRecord};
use super::{Bind, Store, StoreError, bind_all};

/// Rows read per query; the connection goes back to the pool between two pages.
pub const EXPORT_PAGE_ROWS: usize = 1_000;

/// The order an export reads in: a column, descending, then `id`, descending (the
/// keyset of its pages).
#[derive(Clone, Copy)]
enum PageOrder {
    Int(&'static str),
    Real(&'static str),
}

impl PageOrder {
    fn column(self) -> &'static str {
        match self {
            PageOrder::Int(c) | PageOrder::Real(c) => c,
        }
    }

    /// The order value of a page's last row (its `page_key`).
    fn value_of(self, row: &AnyRow) -> Result<Bind, sqlx::Error> {
        Ok(match self {
            PageOrder::Int(_) => Bind::Int(row.try_get("page_key")?),
            PageOrder::Real(_) => Bind::Real(row.try_get("page_key")?),
        })
    }
}

/// One export's query: what it selects, from where, on what condition.
struct ExportQuery {
    select: String,
    from: &'static str,
    condition: String,
    binds: Vec<Bind>,
    order: PageOrder,
}

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

/// The header of the auth events export (the tracked platform's events).
pub const AUTH_EVENT_EXPORT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "event_type",
    "success",
    "user_id",
    "ip",
    "user_agent",
    "error",
    "metadata",
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
        let order = match filter.sort {
            RequestSort::Latency => PageOrder::Real(column),
            RequestSort::Time | RequestSort::Cost => PageOrder::Int(column),
        };
        let query = ExportQuery {
            select: REQUEST_SELECT.to_owned(),
            from: "request_log",
            condition,
            binds,
            order,
        };
        self.export_rows(query, request_cells, each).await
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
        let query = ExportQuery {
            select: format!(
                "{THREAT_ROW_COLUMNS}, country, endpoint, request_id, resolved_at, resolved_by"
            ),
            from: "threat_log",
            condition,
            binds,
            order: PageOrder::Int("last_seen_at"),
        };
        self.export_rows(query, threat_cells, each).await
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
            binds.push(Bind::Int(since.ms()));
            parts.push(format!("created_at >= ${}", binds.len()));
        }
        if let Some(id) = &filter.request_id {
            binds.push(Bind::Text(id.clone()));
            parts.push(format!("request_id = ${}", binds.len()));
        }
        let query = ExportQuery {
            select: "request_id, user_id, rating, comment, created_at, updated_at".to_owned(),
            from: "feedback_log",
            condition: parts.join(" AND "),
            binds,
            order: PageOrder::Int("created_at"),
        };
        self.export_rows(query, feedback_cells, each).await
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
        let query = ExportQuery {
            select: format!("{SESSION_SELECT}, ip, user_agent"),
            from: "user_session",
            condition,
            binds,
            order: PageOrder::Int("started_at"),
        };
        self.export_rows(query, session_cells, each).await
    }

    /// Every auth event of the platform `filter` matches, newest first (as the
    /// security view counts them).
    pub async fn export_auth_events<F, Fut>(
        &self,
        filter: &AuthFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let (condition, binds) = auth_filter_sql(filter, 0);
        let query = ExportQuery {
            select: "id AS event_id, created_at AS event_at, event_type, \
                     CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS succeeded, \
                     user_id, ip, user_agent, error, metadata"
                .to_owned(),
            from: "auth_event",
            condition,
            binds,
            order: PageOrder::Int("created_at"),
        };
        self.export_rows(query, auth_event_cells, each).await
    }

    /// Every audit entry `filter` matches (its page cursor aside), newest first.
    pub async fn export_audit<F, Fut>(
        &self,
        filter: &AuditFilter,
        each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let (condition, binds) = audit_filter_sql(filter, 0);
        let query = ExportQuery {
            select:
                "id AS entry_id, created_at AS entry_at, actor, actor_ip, action, target, detail"
                    .to_owned(),
            from: "audit_log",
            condition,
            binds,
            order: PageOrder::Int("created_at"),
        };
        self.export_rows(query, audit_cells, each).await
    }

    /// Reads `query`'s rows page by page and hands each, as cells, to `each` until it
    /// says stop. Each page is one statement on a connection taken from the pool and
    /// given back before `each` sees its rows.
    async fn export_rows<F, Fut>(
        &self,
        query: ExportQuery,
        cells: fn(&AnyRow) -> Result<Vec<String>, sqlx::Error>,
        mut each: F,
    ) -> Result<u64, StoreError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let column = query.order.column();
        let mut after: Option<(Bind, i64)> = None;
        let mut taken = 0;
        loop {
            let mut condition = query.condition.clone();
            let mut binds = query.binds.clone();
            if let Some((value, id)) = after.take() {
                binds.push(value);
                let v = binds.len();
                binds.push(Bind::Int(id));
                // The first bound lets an index on the order column start at the cursor.
                condition.push_str(&format!(
                    " AND {column} <= ${v} AND ({column} < ${v} OR id < ${})",
                    binds.len()
                ));
            }
            let sql = format!(
                "SELECT {}, {column} AS page_key, id AS page_id FROM {} WHERE {condition} \
                 ORDER BY {column} DESC, id DESC LIMIT {EXPORT_PAGE_ROWS}",
                query.select, query.from
            );
            let rows = bind_all(sqlx::query(&sql), &binds)
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                if !each(cells(row)?).await {
                    return Ok(taken);
                }
                taken += 1;
            }
            match rows.last() {
                Some(last) if rows.len() == EXPORT_PAGE_ROWS => {
                    after = Some((query.order.value_of(last)?, last.try_get("page_id")?));
                }
                _ => return Ok(taken),
            }
        }
    }
}

fn request_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let r = request_from_row(row)?;
    Ok(vec![
        r.request_id,
        instant(EpochMillis(r.created_at)),
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

/// A row of the threats export.
#[derive(FromRow)]
struct ThreatExport {
    #[sqlx(flatten)]
    threat: ThreatRecord,
    country: Option<String>,
    endpoint: Option<String>,
    request_id: Option<String>,
    resolved_at: Option<EpochMillis>,
    resolved_by: Option<String>,
}

fn threat_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let r = ThreatExport::from_row(row)?;
    let t = ThreatRow::from(r.threat);
    Ok(vec![
        t.id.to_string(),
        instant(t.created_at),
        instant(t.last_seen_at),
        t.threat_type.to_string(),
        t.severity.to_string(),
        t.occurrences.to_string(),
        text(t.ip),
        text(t.user_id),
        text(r.country),
        text(r.endpoint),
        text(r.request_id),
        t.description,
        t.resolved.to_string(),
        r.resolved_at.map(instant).unwrap_or_default(),
        text(r.resolved_by),
    ])
}

/// A row of the feedback export.
#[derive(FromRow)]
struct FeedbackExport {
    request_id: String,
    user_id: String,
    rating: i32,
    comment: Option<String>,
    created_at: EpochMillis,
    updated_at: EpochMillis,
}

fn feedback_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let f = FeedbackExport::from_row(row)?;
    Ok(vec![
        f.request_id,
        f.user_id,
        f.rating.to_string(),
        text(f.comment),
        instant(f.created_at),
        instant(f.updated_at),
    ])
}

/// A row of the sessions export.
#[derive(FromRow)]
struct SessionExport {
    #[sqlx(flatten)]
    session: SessionRecord,
    ip: Option<String>,
    user_agent: Option<String>,
}

fn session_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let r = SessionExport::from_row(row)?;
    let s = SessionSummary::from(r.session);
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
        text(r.ip),
        text(r.user_agent),
    ])
}

fn auth_event_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    Ok(vec![
        row.try_get::<i64, _>("event_id")?.to_string(),
        instant(row.try_get("event_at")?),
        row.try_get("event_type")?,
        (row.try_get::<i64, _>("succeeded")? != 0).to_string(),
        text(row.try_get("user_id")?),
        text(row.try_get("ip")?),
        text(row.try_get("user_agent")?),
        text(row.try_get("error")?),
        text(row.try_get("metadata")?),
    ])
}

fn audit_cells(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    Ok(vec![
        row.try_get::<i64, _>("entry_id")?.to_string(),
        instant(row.try_get("entry_at")?),
        row.try_get("actor")?,
        text(row.try_get("actor_ip")?),
        row.try_get("action")?,
        text(row.try_get("target")?),
        text(row.try_get("detail")?),
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
fn instant(at: EpochMillis) -> String {
    sightline_app::format::rfc3339(at)
}

/// Micro-dollars as dollars with all six decimals: `0.001234`.
fn usd(amount: Micros) -> String {
    let micros = amount.micros();
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_and_money_are_written_exactly() {
        assert_eq!(
            super::instant(super::EpochMillis(1_795_372_396_123)),
            "2026-11-22T18:33:16.123Z"
        );
        assert_eq!(
            super::instant(super::EpochMillis(0)),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(super::usd(super::Micros(1_234)), "0.001234");
        assert_eq!(super::usd(super::Micros(0)), "0.000000");
        assert_eq!(super::usd(super::Micros(12_500_000)), "12.500000");
        assert_eq!(super::usd(super::Micros(-45)), "-0.000045");
    }
}
