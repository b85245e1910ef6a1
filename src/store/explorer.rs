//! The requests explorer's reads: a filtered, sorted page of `request_log` (keyset
//! pagination, no COUNT), and one request with its session and its ratings.

use sightline_tracker::wire::RequestKind;
use sqlx::{FromRow, Row};

use sightline_app::requests::{
    FeedbackEntry, RequestCursor, RequestDetail, RequestFilter, RequestPage, RequestRecord,
    RequestRow, RequestSort, SessionSummary, SortValue,
};
use sightline_app::units::{EpochMillis, Micros};

use super::requests::{NewRequest, REQUEST_SELECT, request_from_row};
use super::{Bind, DbKind, Store, StoreError, bind_all, text_search};

/// The columns of a [`SessionRecord`].
pub(super) const SESSION_SELECT: &str = "session_key, user_id, \
    CAST(CASE WHEN inferred THEN 1 ELSE 0 END AS BIGINT) AS inferred, started_at, last_seen_at, \
    request_count, error_count, tokens, cost_micros";

/// A row of [`SESSION_SELECT`].
#[derive(sqlx::FromRow)]
pub(super) struct SessionRecord {
    session_key: String,
    user_id: Option<String>,
    /// 0 or 1: SQLite has no booleans.
    inferred: i64,
    started_at: EpochMillis,
    last_seen_at: EpochMillis,
    request_count: i64,
    error_count: i64,
    tokens: i64,
    cost_micros: Micros,
}

impl From<SessionRecord> for SessionSummary {
    fn from(r: SessionRecord) -> SessionSummary {
        SessionSummary {
            session_key: r.session_key,
            user_id: r.user_id,
            inferred: r.inferred != 0,
            started_at: r.started_at,
            last_seen_at: r.last_seen_at,
            request_count: r.request_count,
            error_count: r.error_count,
            tokens: r.tokens,
            cost_micros: r.cost_micros,
        }
    }
}

/// A row of the explorer's page.
#[derive(sqlx::FromRow)]
struct RequestListRecord {
    id: i64,
    request_id: String,
    created_at: EpochMillis,
    method: String,
    endpoint: String,
    status_code: i32,
    model_name: Option<String>,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_micros: Micros,
    latency_ms: f64,
    user_id: Option<String>,
    country: Option<String>,
}

impl From<RequestListRecord> for RequestRow {
    fn from(r: RequestListRecord) -> RequestRow {
        RequestRow {
            id: r.id,
            request_id: r.request_id,
            created_at: r.created_at,
            method: r.method,
            endpoint: r.endpoint,
            status: r.status_code,
            model: r.model_name,
            // Added here, saturating: rows stored before the ingest's bounds may hold
            // counts whose sum leaves 64 bits (an error on PostgreSQL, REAL on SQLite).
            tokens: r.prompt_tokens.saturating_add(r.completion_tokens),
            cost_micros: r.cost_micros,
            latency_ms: r.latency_ms,
            user_id: r.user_id,
            country: r.country,
        }
    }
}

/// A rating of a request.
#[derive(sqlx::FromRow)]
struct FeedbackRecord {
    user_id: String,
    rating: i32,
    comment: Option<String>,
    created_at: EpochMillis,
    updated_at: EpochMillis,
}

impl From<FeedbackRecord> for FeedbackEntry {
    fn from(r: FeedbackRecord) -> FeedbackEntry {
        FeedbackEntry {
            user_id: r.user_id,
            rating: r.rating,
            comment: r.comment,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Store {
    /// A page of the explorer: the rows matching `filter` after `after`, ordered by the
    /// sort column and then id, both descending; `next` is set when more follow.
    pub async fn request_page(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
        limit: i64,
    ) -> Result<RequestPage, StoreError> {
        let (mut condition, mut binds) = filter_sql(filter, self.kind);
        let column = sort_column(filter.sort);
        if let Some(c) = after {
            binds.push(match c.value {
                SortValue::Int(v) => Bind::Int(v),
                SortValue::Real(v) => Bind::Real(v),
            });
            let value = binds.len();
            binds.push(Bind::Int(c.id));
            let id = binds.len();
            // The first bound lets an index on the sort column start at the cursor.
            condition.push_str(&format!(
                " AND {column} <= ${value} AND ({column} < ${value} OR id < ${id})"
            ));
        }
        let sql = format!(
            "SELECT id, request_id, created_at, method, endpoint, status_code, model_name, \
                    prompt_tokens, completion_tokens, cost_micros, latency_ms, user_id, country \
             FROM request_log WHERE {condition} \
             ORDER BY {column} DESC, id DESC LIMIT {}",
            super::paging::fetch_limit(limit)
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut rows = super::map_rows(&rows, |r| {
            RequestListRecord::from_row(r).map(RequestRow::from)
        })?;
        let next = super::paging::next_cursor(&mut rows, limit, |r| RequestCursor {
            value: match filter.sort {
                RequestSort::Time => SortValue::Int(r.created_at.ms()),
                RequestSort::Latency => SortValue::Real(r.latency_ms),
                RequestSort::Cost => SortValue::Int(r.cost_micros.micros()),
            },
            id: r.id,
        });
        Ok(RequestPage { rows, next })
    }

    /// One request with its session and every rating of it (most recently changed
    /// first); `None` if no request has this id. `my_rating` is left for the caller.
    pub async fn request_detail(
        &self,
        request_id: &str,
    ) -> Result<Option<RequestDetail>, StoreError> {
        let sql = format!("SELECT id, {REQUEST_SELECT} FROM request_log WHERE request_id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let request = request_from_row(&row)?;
        let session = self.session_of(&request).await?;
        let feedback: Vec<FeedbackRecord> = sqlx::query_as(
            "SELECT user_id, rating, comment, created_at, updated_at FROM feedback_log \
             WHERE request_id = $1 ORDER BY updated_at DESC, id DESC",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(RequestDetail {
            request: record(id, request),
            session,
            feedback: feedback.into_iter().map(FeedbackEntry::from).collect(),
            my_rating: None,
        }))
    }

    /// The session of a request: the one its `session_id` names, else (for a served
    /// request of a known user) the user's inferred session that spans its time.
    async fn session_of(&self, r: &NewRequest) -> Result<Option<SessionSummary>, StoreError> {
        let row = if let Some(sid) = &r.session_id {
            let sql = format!("SELECT {SESSION_SELECT} FROM user_session WHERE session_key = $1");
            sqlx::query_as::<_, SessionRecord>(&sql)
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?
        } else if let (Some(user), RequestKind::Api) = (&r.user_id, r.kind) {
            let sql = format!(
                "SELECT {SESSION_SELECT} FROM user_session \
                 WHERE user_id = $1 AND inferred = TRUE AND started_at <= $2 AND last_seen_at >= $2 \
                 ORDER BY started_at DESC LIMIT 1"
            );
            sqlx::query_as::<_, SessionRecord>(&sql)
                .bind(user)
                .bind(r.created_at)
                .fetch_optional(&self.pool)
                .await?
        } else {
            None
        };
        Ok(row.map(SessionSummary::from))
    }
}

fn record(id: i64, r: NewRequest) -> RequestRecord {
    RequestRecord {
        id,
        request_id: r.request_id,
        created_at: EpochMillis(r.created_at),
        kind: r.kind.as_str().to_owned(),
        service: r.service,
        endpoint: r.endpoint,
        method: r.method,
        status_code: r.status_code,
        latency_ms: r.latency_ms,
        ttft_ms: r.ttft_ms,
        model_name: r.model_name,
        prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens,
        cache_read_tokens: r.cache_read_tokens,
        cache_write_tokens: r.cache_write_tokens,
        reasoning_tokens: r.reasoning_tokens,
        cost_micros: r.cost_micros,
        finish_reason: r.finish_reason,
        user_id: r.user_id,
        session_id: r.session_id,
        is_authenticated: r.is_authenticated,
        ip: r.ip,
        country: r.country,
        user_agent: r.user_agent,
        request_bytes: r.request_bytes,
        response_bytes: r.response_bytes,
        error: r.error,
        metadata: r.metadata,
    }
}

/// The column a sort orders by (descending, then by id).
pub(super) fn sort_column(sort: RequestSort) -> &'static str {
    match sort {
        RequestSort::Time => "created_at",
        RequestSort::Latency => "latency_ms",
        RequestSort::Cost => "cost_micros",
    }
}

/// The WHERE condition of `filter` on `kind` and the values it binds, as `$1`, `$2`, …
pub(super) fn filter_sql(filter: &RequestFilter, kind: DbKind) -> (String, Vec<Bind>) {
    let mut parts: Vec<String> = Vec::new();
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(since) = filter.since {
        let p = next(Bind::Int(since.ms()), &mut binds);
        parts.push(format!("created_at >= {p}"));
    }
    if let Some(until) = filter.until {
        let p = next(Bind::Int(until.ms()), &mut binds);
        parts.push(format!("created_at < {p}"));
    }
    if let Some(class) = filter.status {
        let (low, high) = class.bounds();
        let p = next(Bind::Int(low.into()), &mut binds);
        parts.push(format!("status_code >= {p}"));
        if let Some(high) = high {
            let p = next(Bind::Int(high.into()), &mut binds);
            parts.push(format!("status_code < {p}"));
        }
    }
    if let Some(k) = filter.kind {
        let p = next(Bind::Text(k.as_str().to_owned()), &mut binds);
        parts.push(format!("kind = {p}"));
    }
    for (column, value) in [
        ("service", &filter.service),
        ("model_name", &filter.model),
        ("endpoint", &filter.endpoint),
        ("user_id", &filter.user),
        ("country", &filter.country),
        ("session_id", &filter.session),
        ("error_group", &filter.error_group),
    ] {
        if let Some(v) = value {
            let p = next(Bind::Text(v.clone()), &mut binds);
            parts.push(format!("{column} = {p}"));
        }
    }
    if let Some(text) = &filter.text {
        let p = next(Bind::Text(text_search::pattern(kind, text)), &mut binds);
        parts.push(format!(
            "({} OR {})",
            text_search::contains(kind, "endpoint", &p),
            text_search::contains(kind, "COALESCE(error, '')", &p)
        ));
    }
    if parts.is_empty() {
        parts.push("1 = 1".into());
    }
    (parts.join(" AND "), binds)
}
