//! The ingest API: `POST /api/v1/ingest` (a JSON object of event lists, or NDJSON) and
//! `POST /api/v1/feedback`. Bodies are parsed and validated here; the valid events go
//! to the write queue and the reply is sent once they are committed.

pub mod parse;
pub mod validate;
pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use sightline_tracker::wire::{EventIssue, FeedbackEvent, IngestReply};

use crate::metrics::Metrics;
use crate::pricing::PriceTable;
use crate::store::{FeedbackOutcome, IngestWrite, Scope, Store};
use crate::web::AppState;
use crate::web::api_auth::require_key;
use crate::web::api_error::ApiError;
use parse::{BodyError, BodyFormat, EventKind};
pub use writer::{IngestQueue, SubmitError};

/// Largest body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Most events in one body.
pub const MAX_EVENTS: usize = 10_000;

/// The price table, with the overrides of the settings; re-read every 30 seconds, and
/// at once after a change made through this process (other replicas catch up within
/// the 30 seconds).
pub struct Prices {
    store: Store,
    /// When the table was read, and the [`Prices::invalidate`] generation it was read in.
    cached: RwLock<(Instant, u64, Arc<PriceTable>)>,
    generation: AtomicU64,
}

const PRICES_TTL: Duration = Duration::from_secs(sightline_app::settings::PRICES_REFRESH_SECONDS);

impl Prices {
    pub fn new(store: Store) -> Prices {
        let stale = Instant::now()
            .checked_sub(PRICES_TTL * 2)
            .unwrap_or_else(Instant::now);
        Prices {
            store,
            cached: RwLock::new((stale, 0, Arc::new(PriceTable::defaults()))),
            generation: AtomicU64::new(0),
        }
    }

    /// Forgets the cached table: the next batch reads the prices again. A read that was
    /// under way when this is called is not kept, so it cannot bring back the old prices.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub async fn current(&self) -> Arc<PriceTable> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Ok(c) = self.cached.read()
            && c.0.elapsed() < PRICES_TTL
            && c.1 == generation
        {
            return c.2.clone();
        }
        let mut table = PriceTable::defaults();
        match self.store.model_prices().await {
            Ok(overrides) => {
                for (model, price) in overrides {
                    table.set(&model, price);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read model prices; using the defaults"),
        }
        let table = Arc::new(table);
        if let Ok(mut c) = self.cached.write() {
            *c = (Instant::now(), generation, table.clone());
        }
        table
    }
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Full => ApiError::Unavailable {
            message: "the write queue is full; nothing was stored, retry shortly".into(),
            retry_after: 1,
        },
        SubmitError::Closed => ApiError::Unavailable {
            message: "the server is shutting down; nothing was stored, retry on another instance"
                .into(),
            retry_after: 5,
        },
        SubmitError::Failed(reason) => {
            tracing::error!(%reason, "ingest batch not stored");
            ApiError::Unavailable {
                message: "the database refused the batch; nothing was stored, retry later".into(),
                retry_after: 5,
            }
        }
    }
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!(
                "body larger than {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            ))
        })
}

/// `POST /api/v1/ingest`.
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestReply>, ApiError> {
    require_key(&state.store, &headers, &[Scope::Ingest]).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = BodyFormat::from_content_type(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type `{}`: send application/json or application/x-ndjson",
            content_type.unwrap_or_default()
        ))
    })?;
    let bytes = read_body(body).await?;
    let events =
        parse::parse(format, &bytes).map_err(|BodyError::Malformed(m)| ApiError::BadRequest(m))?;
    if events.len() > MAX_EVENTS {
        return Err(ApiError::TooLarge(format!(
            "{} events in one body; the limit is {MAX_EVENTS}",
            events.len()
        )));
    }

    let now = chrono::Utc::now().timestamp_millis();
    let prices = state.prices.current().await;
    let mut write = IngestWrite::default();
    let mut reply = IngestReply::default();
    let issue = |index, kind: Option<EventKind>, error| EventIssue {
        index,
        event_type: kind.map_or("unknown", EventKind::as_str).to_string(),
        error,
    };
    for raw in events {
        let (kind, value) = match raw.event {
            Ok(ok) => ok,
            Err((kind, error)) => {
                reply.errors.push(issue(raw.index, kind, error));
                continue;
            }
        };
        let outcome = match kind {
            EventKind::Request => validate::decode(value)
                .and_then(|mut e: sightline_tracker::wire::RequestEvent| {
                    let inspected = validate::inspected(&mut e);
                    validate::request(e, now, &prices, new_request_id).map(|r| (r, inspected))
                })
                .map(|((row, w), inspected)| {
                    if !inspected.is_empty() {
                        write.inspected.push((write.requests.len(), inspected));
                    }
                    write.requests.push(row);
                    w
                }),
            EventKind::Feedback => validate::decode(value)
                .and_then(|e| validate::feedback(e, now))
                .map(|(row, w)| {
                    write.feedback.push(row);
                    w
                }),
            EventKind::Threat => validate::decode(value)
                .and_then(|e| validate::threat(e, now))
                .map(|(row, w)| {
                    write.threats.push(row);
                    w
                }),
            EventKind::AuthEvent => validate::decode(value)
                .and_then(|e| validate::auth_event(e, now))
                .map(|(row, w)| {
                    write.auth_events.push(row);
                    w
                }),
        };
        match outcome {
            Ok(w) => reply
                .warnings
                .extend(w.into_iter().map(|w| issue(raw.index, Some(kind), w))),
            Err(error) => reply.errors.push(issue(raw.index, Some(kind), error)),
        }
    }
    reply.rejected = reply.errors.len() as u64;
    let valid = write.len() as u64;
    let accepted_by_type = [
        ("request", write.requests.len() as u64),
        ("feedback", write.feedback.len() as u64),
        ("threat", write.threats.len() as u64),
        ("auth_event", write.auth_events.len() as u64),
    ];
    if valid > 0 {
        let written = state.ingest.submit(write).await.map_err(submit_error)?;
        reply.duplicates = written.fresh_requests.iter().filter(|f| !**f).count() as u64;
    }
    reply.accepted = valid - reply.duplicates;
    count_outcome(&state.metrics, &reply, accepted_by_type);
    Ok(Json(reply))
}

/// Counts a stored body's events in the metrics: `stored` per type (duplicate
/// requests included; they are counted as `duplicate`, not `accepted`).
fn count_outcome(metrics: &Metrics, reply: &IngestReply, stored: [(&str, u64); 4]) {
    for (event_type, n) in stored {
        let duplicates = if event_type == "request" {
            reply.duplicates
        } else {
            0
        };
        metrics.ingest_events(event_type, "accepted", n - duplicates);
        metrics.ingest_events(event_type, "duplicate", duplicates);
    }
    for error in &reply.errors {
        metrics.ingest_events(&error.event_type, "rejected", 1);
    }
}

/// A fresh request id: a UUIDv7 for the request's instant.
fn new_request_id(t: i64) -> String {
    let random: [u8; 10] = rand::random();
    uuid::Builder::from_unix_timestamp_millis(t.max(0) as u64, &random)
        .into_uuid()
        .to_string()
}

/// `POST /api/v1/feedback`: one rating, from a key with the ingest or read scope.
pub async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_key(&state.store, &headers, &[Scope::Ingest, Scope::Read]).await?;
    let bytes = read_body(body).await?;
    let event: FeedbackEvent = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid feedback: {e}")))?;
    let now = chrono::Utc::now().timestamp_millis();
    let (row, warnings) = validate::feedback(event, now).map_err(|e| {
        state.metrics.ingest_events("feedback", "rejected", 1);
        ApiError::BadRequest(e)
    })?;
    let (request_id, rating) = (row.request_id.clone(), row.rating);
    let written = state
        .ingest
        .submit(IngestWrite {
            feedback: vec![row],
            ..Default::default()
        })
        .await
        .map_err(submit_error)?;
    state.metrics.ingest_events("feedback", "accepted", 1);
    let status = match written.feedback.first() {
        Some(FeedbackOutcome::Updated) => "updated",
        _ => "created",
    };
    Ok(Json(serde_json::json!({
        "request_id": request_id,
        "rating": rating,
        "status": status,
        "warnings": warnings,
    })))
}
