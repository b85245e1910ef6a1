//! `request_log`: one row per request the platform served or made.

use std::collections::HashSet;
use std::sync::LazyLock;

use sightline_app::units::Micros;
use sightline_tracker::wire::RequestKind;

use sqlx::any::AnyRow;
use sqlx::query::Query;
use sqlx::{AnyConnection, Encode, Row, Type};

use super::{DbKind, Store, StoreError, values_placeholders};

/// A request row about to be stored, already validated and normalised. Its fields are
/// named as `request_log`'s columns (PostgreSQL's insert sends them as JSON).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NewRequest {
    pub request_id: String,
    pub created_at: i64,
    pub kind: RequestKind,
    pub service: Option<String>,
    pub endpoint: String,
    pub method: String,
    pub status_code: i32,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub model_name: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Parts of `prompt_tokens` read from and written to the provider's prompt cache.
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// Part of `completion_tokens` spent on reasoning.
    pub reasoning_tokens: i64,
    pub cost_micros: Micros,
    pub finish_reason: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub is_authenticated: bool,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub user_agent: Option<String>,
    pub request_bytes: Option<i64>,
    pub response_bytes: Option<i64>,
    pub error: Option<String>,
    pub metadata: Option<String>,
}

impl NewRequest {
    /// A served `GET /` of kind `api` at `created_at` with nothing else known: the base
    /// that rows made in code (the demo, tests, benchmarks) fill in by struct update.
    pub fn new(request_id: impl Into<String>, created_at: i64) -> NewRequest {
        NewRequest {
            request_id: request_id.into(),
            created_at,
            kind: RequestKind::Api,
            service: None,
            endpoint: "/".into(),
            method: "GET".into(),
            status_code: 200,
            latency_ms: 0.0,
            ttft_ms: None,
            model_name: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
            cost_micros: Micros::ZERO,
            finish_reason: None,
            user_id: None,
            session_id: None,
            is_authenticated: false,
            ip: None,
            country: None,
            user_agent: None,
            request_bytes: None,
            response_bytes: None,
            error: None,
            metadata: None,
        }
    }
}

/// Requests of one time bucket, split by outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketCounts {
    pub bucket_start: i64,
    /// Status below 400.
    pub ok: i64,
    /// Status 400 or more.
    pub errors: i64,
}

/// The columns a new request row is written with, in the order [`bind_request`] binds
/// them (and [`super::request_copy_binary`] encodes them).
pub const REQUEST_INSERT_COLUMNS: &str = "request_id, created_at, kind, service, endpoint, \
    method, status_code, latency_ms, ttft_ms, model_name, prompt_tokens, completion_tokens, \
    cost_micros, finish_reason, user_id, session_id, is_authenticated, ip, country, \
    user_agent, request_bytes, response_bytes, error, metadata, cache_read_tokens, \
    cache_write_tokens, reasoning_tokens, error_group";
pub(super) const REQUEST_INSERT_COLUMN_COUNT: usize = 28;
/// [`REQUEST_INSERT_COLUMNS`] (but `error_group`) to read back: `is_authenticated` as 0/1, since sqlx's `Any`
/// driver cannot decode SQLite's BOOLEAN.
pub(super) const REQUEST_SELECT: &str = "request_id, created_at, kind, service, endpoint, method, \
    status_code, latency_ms, ttft_ms, model_name, prompt_tokens, completion_tokens, \
    cost_micros, finish_reason, user_id, session_id, \
    CAST(CASE WHEN is_authenticated THEN 1 ELSE 0 END AS BIGINT) AS is_authenticated, ip, country, \
    user_agent, request_bytes, response_bytes, error, metadata, cache_read_tokens, \
    cache_write_tokens, reasoning_tokens";
/// Rows per INSERT on SQLite: well under its limit on bound values.
const ROWS_PER_STATEMENT: usize = 500;

impl Store {
    /// Stores `rows` and everything derived from them (rollups, sessions, users, model
    /// stats) in one transaction. Returns, for each row, whether it was new: a row whose
    /// `request_id` is already stored (or repeats an earlier row of the batch) is a
    /// duplicate and is counted nowhere, so retries are safe.
    pub async fn record_requests(&self, rows: &[NewRequest]) -> Result<Vec<bool>, StoreError> {
        let rows = super::anonymize::all(self.ip_anonymize, rows);
        let mut tx = self.begin_write().await?;
        let refs: Vec<&NewRequest> = rows.iter().collect();
        let fresh = record_requests_in(&mut tx, &refs, self.kind).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// Inserts raw rows only, in one transaction, leaving rollups, sessions and stats
    /// alone: the baseline the ingest benchmark compares against. Not for real data.
    pub async fn insert_raw_requests(&self, rows: &[NewRequest]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let refs: Vec<&NewRequest> = rows.iter().collect();
        let no_groups = vec![None; refs.len()];
        let fresh = insert_new(&mut tx, &refs, &no_groups, self.kind).await?;
        tx.commit().await?;
        Ok(fresh.iter().filter(|f| **f).count() as u64)
    }

    /// Whether a request with this id is stored.
    pub async fn request_exists(&self, request_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM request_log WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Requests per bucket of `bucket_ms` in `[start, end)`, oldest first; buckets
    /// without requests are left out. Bucket starts are multiples of `bucket_ms`.
    pub async fn request_counts(
        &self,
        start: i64,
        end: i64,
        bucket_ms: i64,
    ) -> Result<Vec<BucketCounts>, StoreError> {
        let rows = sqlx::query(
            "SELECT (created_at / $3) * $3 AS bucket, \
                    CAST(SUM(CASE WHEN status_code < 400 THEN 1 ELSE 0 END) AS BIGINT) AS ok, \
                    CAST(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors \
             FROM request_log \
             WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY bucket ORDER BY bucket",
        )
        .bind(start)
        .bind(end)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?;
        super::map_rows(&rows, |row| {
            Ok(BucketCounts {
                bucket_start: row.try_get("bucket")?,
                ok: row.try_get("ok")?,
                errors: row.try_get("errors")?,
            })
        })
    }
}

/// [`Store::record_requests`] on the caller's write transaction.
pub(super) async fn record_requests_in(
    conn: &mut AnyConnection,
    rows: &[&NewRequest],
    kind: DbKind,
) -> Result<Vec<bool>, StoreError> {
    let groups = super::error_groups::assign_groups_in(conn, rows).await?;
    let fresh = insert_new(conn, rows, &groups, kind).await?;
    let new_rows: Vec<&NewRequest> = rows
        .iter()
        .zip(&fresh)
        .filter(|(_, f)| **f)
        .map(|(r, _)| *r)
        .collect();
    super::rollups::apply_requests(conn, &new_rows).await?;
    let grouped: Vec<(&NewRequest, &str)> = rows
        .iter()
        .zip(&fresh)
        .zip(&groups)
        .filter_map(|((r, f), g)| (*f).then_some((*r, g.as_deref()?)))
        .collect();
    super::error_groups::apply_error_groups_in(conn, &grouped).await?;
    Ok(fresh)
}

/// Inserts the rows whose `request_id` is not stored yet, each with its error group
/// (`groups`, in the same order); says which rows were new.
async fn insert_new(
    conn: &mut AnyConnection,
    rows: &[&NewRequest],
    groups: &[Option<String>],
    kind: DbKind,
) -> Result<Vec<bool>, StoreError> {
    if kind == DbKind::Postgres {
        return insert_new_postgres(conn, rows, groups).await;
    }
    let mut inserted: HashSet<String> = HashSet::new();
    for (chunk, chunk_groups) in rows
        .chunks(ROWS_PER_STATEMENT)
        .zip(groups.chunks(ROWS_PER_STATEMENT))
    {
        let sql = format!(
            "INSERT INTO request_log ({REQUEST_INSERT_COLUMNS}) VALUES {} \
             ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
            values_placeholders(conn, chunk.len(), REQUEST_INSERT_COLUMN_COUNT)
        );
        let mut query = sqlx::query(&sql);
        for (r, group) in chunk.iter().zip(chunk_groups) {
            query = bind_request(query, r, group.as_deref());
        }
        for row in query.fetch_all(&mut *conn).await? {
            inserted.insert(row.try_get("request_id")?);
        }
    }
    // The first row of each inserted id is the new one; any repeat in the batch is a duplicate.
    Ok(rows
        .iter()
        .map(|r| inserted.remove(&r.request_id))
        .collect())
}

/// A request row as one element of the JSON array [`struct@INSERT_FROM_JSON`] expands:
/// its columns by name, with its error group.
#[derive(serde::Serialize)]
struct RequestJson<'a> {
    #[serde(flatten)]
    request: &'a NewRequest,
    error_group: Option<&'a str>,
}

/// PostgreSQL: the whole batch as one JSON array bound as one text parameter, turned
/// into rows by the server. One cached statement whatever the batch size, instead of
/// statements of 14 000 parameters parsed and planned afresh for each chunk (a cached
/// multi-row statement is no option: sqlx's `Any` driver declares a NULL f64 as float4,
/// and the statement would then reject a later float8).
static INSERT_FROM_JSON: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO request_log ({REQUEST_INSERT_COLUMNS}) \
         SELECT {REQUEST_INSERT_COLUMNS} FROM json_to_recordset($1::json) AS t(\
            request_id TEXT, created_at BIGINT, kind TEXT, service TEXT, endpoint TEXT, \
            method TEXT, status_code INTEGER, latency_ms DOUBLE PRECISION, \
            ttft_ms DOUBLE PRECISION, model_name TEXT, prompt_tokens BIGINT, \
            completion_tokens BIGINT, cost_micros BIGINT, finish_reason TEXT, user_id TEXT, \
            session_id TEXT, is_authenticated BOOLEAN, ip TEXT, country TEXT, \
            user_agent TEXT, request_bytes BIGINT, response_bytes BIGINT, error TEXT, \
            metadata TEXT, cache_read_tokens BIGINT, cache_write_tokens BIGINT, \
            reasoning_tokens BIGINT, error_group TEXT) \
         ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
    )
});

/// [`insert_new`] on PostgreSQL, in one statement (see [`struct@INSERT_FROM_JSON`]).
async fn insert_new_postgres(
    conn: &mut AnyConnection,
    rows: &[&NewRequest],
    groups: &[Option<String>],
) -> Result<Vec<bool>, StoreError> {
    // Only each id's first row is sent, so the statement never meets an id twice and the
    // row stored is the one counted.
    let mut seen = HashSet::with_capacity(rows.len());
    let first: Vec<bool> = rows
        .iter()
        .map(|r| seen.insert(r.request_id.as_str()))
        .collect();
    let batch: Vec<RequestJson<'_>> = rows
        .iter()
        .zip(groups)
        .zip(&first)
        .filter(|(_, f)| **f)
        .map(|((r, g), _)| RequestJson {
            request: r,
            error_group: g.as_deref(),
        })
        .collect();
    if batch.is_empty() {
        return Ok(vec![false; rows.len()]);
    }
    let json = serde_json::to_string(&batch).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let inserted: HashSet<String> = sqlx::query_scalar(INSERT_FROM_JSON.as_str())
        .bind(json)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .iter()
        .zip(&first)
        .map(|(r, f)| *f && inserted.contains(&r.request_id))
        .collect())
}

/// Binds `r`'s [`REQUEST_INSERT_COLUMNS`] (with its error group `group`) in order, on
/// any database sqlx drives.
pub fn bind_request<'q, DB: sqlx::Database>(
    query: Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    r: &'q NewRequest,
    group: Option<&'q str>,
) -> Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    i32: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(r.request_id.as_str())
        .bind(r.created_at)
        .bind(r.kind.as_str())
        .bind(r.service.as_deref())
        .bind(r.endpoint.as_str())
        .bind(r.method.as_str())
        .bind(r.status_code)
        .bind(r.latency_ms)
        .bind(r.ttft_ms)
        .bind(r.model_name.as_deref())
        .bind(r.prompt_tokens)
        .bind(r.completion_tokens)
        .bind(r.cost_micros)
        .bind(r.finish_reason.as_deref())
        .bind(r.user_id.as_deref())
        .bind(r.session_id.as_deref())
        .bind(r.is_authenticated)
        .bind(r.ip.as_deref())
        .bind(r.country.as_deref())
        .bind(r.user_agent.as_deref())
        .bind(r.request_bytes)
        .bind(r.response_bytes)
        .bind(r.error.as_deref())
        .bind(r.metadata.as_deref())
        .bind(r.cache_read_tokens)
        .bind(r.cache_write_tokens)
        .bind(r.reasoning_tokens)
        .bind(group)
}

/// Stored request rows in arrival (id) order, a page at a time: what a rebuild or a
/// one-time fill walks through. Each row has `id`, the [`REQUEST_SELECT`] columns and
/// any `extra` ones.
pub(super) struct RequestPages {
    sql: String,
    after: i64,
}

impl RequestPages {
    /// The rows matching `condition` (SQL on `request_log`'s columns).
    pub(super) fn new(extra: &str, condition: &str) -> RequestPages {
        RequestPages {
            sql: format!(
                "SELECT id, {extra}{REQUEST_SELECT} FROM request_log \
                 WHERE ({condition}) AND id > $1 ORDER BY id LIMIT $2"
            ),
            after: i64::MIN,
        }
    }

    /// The next `limit` rows; empty once all have been read.
    pub(super) async fn next(
        &mut self,
        conn: &mut AnyConnection,
        limit: i64,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let rows = sqlx::query(&self.sql)
            .bind(self.after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        if let Some(last) = rows.last() {
            self.after = last.try_get("id")?;
        }
        Ok(rows)
    }
}

/// A stored request row (selected with [`REQUEST_SELECT`]) back as a [`NewRequest`].
pub(super) fn request_from_row(row: &AnyRow) -> Result<NewRequest, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(NewRequest {
        request_id: row.try_get("request_id")?,
        created_at: row.try_get("created_at")?,
        kind: RequestKind::parse(&kind).unwrap_or_default(),
        service: row.try_get("service")?,
        endpoint: row.try_get("endpoint")?,
        method: row.try_get("method")?,
        status_code: row.try_get("status_code")?,
        latency_ms: row.try_get("latency_ms")?,
        ttft_ms: row.try_get("ttft_ms")?,
        model_name: row.try_get("model_name")?,
        prompt_tokens: row.try_get("prompt_tokens")?,
        completion_tokens: row.try_get("completion_tokens")?,
        cache_read_tokens: row.try_get("cache_read_tokens")?,
        cache_write_tokens: row.try_get("cache_write_tokens")?,
        reasoning_tokens: row.try_get("reasoning_tokens")?,
        cost_micros: row.try_get("cost_micros")?,
        finish_reason: row.try_get("finish_reason")?,
        user_id: row.try_get("user_id")?,
        session_id: row.try_get("session_id")?,
        is_authenticated: row.try_get::<i64, _>("is_authenticated")? != 0,
        ip: row.try_get("ip")?,
        country: row.try_get("country")?,
        user_agent: row.try_get("user_agent")?,
        request_bytes: row.try_get("request_bytes")?,
        response_bytes: row.try_get("response_bytes")?,
        error: row.try_get("error")?,
        metadata: row.try_get("metadata")?,
    })
}
