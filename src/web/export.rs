//! `GET /api/v1/export/{requests|threats|feedback|sessions|auth_events|errors}.csv?…`: every row a list
//! view's filter matches, as CSV, for a signed-in browser session or a key with the
//! `read` scope. The rows are streamed: a task reads them from the store and sends
//! CSV in chunks through a small bounded channel to the response body, so memory stays
//! flat for millions of rows and a client that goes away stops the query. At most
//! `SIGHTLINE_EXPORT_CONCURRENCY` exports stream at once (beyond, 429 with
//! `Retry-After`); the store reads each in pages and holds no connection between them,
//! and a client that reads nothing loses its connection after the send timeout, so
//! stalled downloads never starve ingest, sign-in or the dashboard.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::future::{Either, ready};
use sightline_app::audit::AuditFilter;
use sightline_app::errors::ErrorSort;
use sightline_app::export::{FeedbackFilter, FeedbackQuery, SessionFilter, SessionQuery};
use sightline_app::range::TimeRange;
use sightline_app::requests::{RequestFilter, RequestQuery};
use sightline_app::security::{AuthFilter, SecurityQuery};
use sightline_app::threats::{ThreatFilter, ThreatQuery};
use sightline_app::units::EpochMillis;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;
use super::csv;
use crate::store::{
    AUDIT_EXPORT_COLUMNS, AUTH_EVENT_EXPORT_COLUMNS, FEEDBACK_EXPORT_COLUMNS,
    REQUEST_EXPORT_COLUMNS, SESSION_EXPORT_COLUMNS, Store, StoreError, THREAT_EXPORT_COLUMNS,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/export/{file}", get(export))
}

/// Rows are sent once this many bytes of CSV are waiting.
const CHUNK_BYTES: usize = 48 * 1024;
/// Chunks in flight between the query and the response body.
const CHANNEL_CHUNKS: usize = 4;

/// Seconds a refused export is told to wait.
const RETRY_AFTER_SECS: u32 = 5;

/// The exports that may stream at once: each holds a permit until its last chunk is
/// sent or its client goes away.
#[derive(Clone)]
pub struct ExportGate {
    permits: Arc<Semaphore>,
    limit: u32,
}

impl ExportGate {
    pub fn new(limit: u32) -> ExportGate {
        ExportGate {
            permits: Arc::new(Semaphore::new(limit as usize)),
            limit,
        }
    }

    fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::TooManyRequests {
                message: format!(
                    "{} CSV exports are already running; retry in {RETRY_AFTER_SECS} s",
                    self.limit
                ),
                retry_after: RETRY_AFTER_SECS,
            })
    }
}

/// What to export, with its filter.
enum Export {
    Requests(RequestFilter),
    Threats(ThreatFilter),
    Feedback(FeedbackFilter),
    Sessions(SessionFilter),
    AuthEvents(AuthFilter),
    /// Admins' sessions and read keys only.
    Audit(AuditFilter),
    /// The errors view's groups of a range, by its sort.
    Errors(TimeRange, ErrorSort),
}

impl Export {
    /// The export `file` names, filtered by `params` as its view would be at `now`.
    fn parse(
        file: &str,
        params: &HashMap<String, String>,
        now: EpochMillis,
    ) -> Result<Export, ApiError> {
        let get = |name: &str| params.get(name).cloned();
        let export = match file {
            "requests.csv" => {
                // The export has no pages: a cursor in the URL is not looked at.
                let query = RequestQuery {
                    range: get("range"),
                    status: get("status"),
                    kind: get("kind"),
                    service: get("service"),
                    model: get("model"),
                    endpoint: get("endpoint"),
                    user: get("user"),
                    country: get("country"),
                    text: get("q"),
                    session: get("session"),
                    error_group: get("error_group"),
                    since: get("since"),
                    until: get("until"),
                    sort: get("sort"),
                    after: None,
                };
                query.resolve(now).map(|(f, _)| Export::Requests(f))
            }
            "threats.csv" => {
                let query = ThreatQuery {
                    threat_type: get("type"),
                    severity: get("severity"),
                    state: get("state"),
                    range: get("range"),
                    search: get("q"),
                    after: None,
                };
                query.resolve(now).map(|(f, _)| Export::Threats(f))
            }
            "feedback.csv" => FeedbackQuery {
                range: get("range"),
                request_id: get("request_id"),
            }
            .resolve(now)
            .map(Export::Feedback),
            "sessions.csv" => SessionQuery {
                range: get("range"),
                user: get("user"),
            }
            .resolve(now)
            .map(Export::Sessions),
            "auth_events.csv" => SecurityQuery {
                range: get("range"),
                start: get("start"),
                end: get("end"),
                event_type: get("type"),
                user: get("user"),
                ip: get("ip"),
            }
            .resolve_export(now)
            .map(Export::AuthEvents),
            "audit.csv" => audit_filter(params, now).map(Export::Audit),
            "errors.csv" => TimeRange::from_query(
                get("range").as_deref(),
                get("start").as_deref(),
                get("end").as_deref(),
                now,
            )
            .and_then(|range| Ok(Export::Errors(range, ErrorSort::from_param(&get("sort"))?))),
            other => {
                return Err(ApiError::NotFound(format!(
                    "no export `{other}`: use requests.csv, threats.csv, feedback.csv, \
                     sessions.csv, auth_events.csv, errors.csv or audit.csv"
                )));
            }
        };
        export.map_err(ApiError::from)
    }

    fn name(&self) -> &'static str {
        match self {
            Export::Requests(_) => "requests",
            Export::Threats(_) => "threats",
            Export::Feedback(_) => "feedback",
            Export::Sessions(_) => "sessions",
            Export::AuthEvents(_) => "auth-events",
            Export::Audit(_) => "audit",
            Export::Errors(..) => "errors",
        }
    }

    fn columns(&self) -> &'static [&'static str] {
        match self {
            Export::Requests(_) => REQUEST_EXPORT_COLUMNS,
            Export::Threats(_) => THREAT_EXPORT_COLUMNS,
            Export::Feedback(_) => FEEDBACK_EXPORT_COLUMNS,
            Export::Sessions(_) => SESSION_EXPORT_COLUMNS,
            Export::AuthEvents(_) => AUTH_EVENT_EXPORT_COLUMNS,
            Export::Audit(_) => AUDIT_EXPORT_COLUMNS,
            Export::Errors(..) => crate::errors::ERROR_EXPORT_COLUMNS,
        }
    }
}

/// The audit export's filter: `action`, `actor`, `since` and `until` (epoch ms, a date
/// or an RFC 3339 time, within the bounds of every instant).
fn audit_filter(
    params: &HashMap<String, String>,
    now: EpochMillis,
) -> Result<AuditFilter, sightline_app::query::QueryError> {
    use sightline_app::query::{Edge, optional_instant};
    AuditFilter {
        action: params.get("action").cloned(),
        actor: params.get("actor").cloned(),
        since: optional_instant("since", &params.get("since").cloned(), Edge::Start, now)?,
        until: optional_instant("until", &params.get("until").cloned(), Edge::End, now)?,
        before_id: None,
    }
    .validated()
}

async fn export(
    State(state): State<AppState>,
    reader: Reader,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let now = chrono::Utc::now();
    let export = Export::parse(&file, &params, EpochMillis(now.timestamp_millis()))?;
    if let (Export::Audit(_), Reader::Account(user)) = (&export, &reader)
        && !user.is_admin()
    {
        return Err(ApiError::Forbidden(format!(
            "{} is a viewer: the audit log needs the admin role",
            user.username
        )));
    }
    let filename = format!(
        "sightline-{}-{}.csv",
        export.name(),
        now.format("%Y%m%d-%H%M")
    );

    let permit = state.exports.enter()?;

    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        write_csv(state.store, export, tx).await;
        drop(permit);
    });
    let chunks = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));

    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Reads the export's rows and sends them as CSV chunks, header first. A database
/// error ends the body with an error (the client sees a broken download, not a short
/// file that looks whole); a closed channel (the client went away) stops the query.
async fn write_csv(store: Store, export: Export, tx: mpsc::Sender<Result<Bytes, std::io::Error>>) {
    let mut buf = Vec::with_capacity(CHUNK_BYTES + 4096);
    csv::write_record(&mut buf, export.columns());
    let mut each = |cells: Vec<String>| {
        csv::write_record(&mut buf, &cells);
        if buf.len() < CHUNK_BYTES {
            return Either::Right(ready(true));
        }
        let chunk = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_BYTES + 4096));
        let tx = tx.clone();
        Either::Left(async move { tx.send(Ok(Bytes::from(chunk))).await.is_ok() })
    };
    let result: Result<u64, StoreError> = match &export {
        Export::Requests(f) => store.export_requests(f, &mut each).await,
        Export::Threats(f) => store.export_threats(f, &mut each).await,
        Export::Feedback(f) => store.export_feedback(f, &mut each).await,
        Export::Sessions(f) => store.export_sessions(f, &mut each).await,
        Export::AuthEvents(f) => store.export_auth_events(f, &mut each).await,
        Export::Audit(f) => store.export_audit(f, &mut each).await,
        Export::Errors(range, sort) => crate::errors::export(&store, range, *sort, &mut each).await,
    };
    match result {
        Ok(rows) => {
            if !buf.is_empty() {
                let _ = tx.send(Ok(Bytes::from(buf))).await;
            }
            tracing::debug!(export = export.name(), rows, "CSV export sent");
        }
        Err(e) => {
            tracing::error!(export = export.name(), error = %e, "CSV export failed mid-stream");
            let _ = tx
                .send(Err(std::io::Error::other("the export failed")))
                .await;
        }
    }
}
