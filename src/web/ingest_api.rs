//! The native ingest API: `POST /api/v1/ingest` (a JSON object of event lists, or
//! NDJSON) and `POST /api/v1/feedback`. The body is read within its limit, parsed and
//! validated by `ingest`, and the reply is sent once the valid events are committed.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use sightline_tracker::wire::{FeedbackEvent, IngestReply};

use super::AppState;
use super::api_auth::{IngestKey, IngestOrReadKey};
use super::api_error::ApiError;
use crate::ingest::parse::{self, BodyError, BodyFormat};
use crate::ingest::{self, MAX_EVENTS, Prepared, SubmitError, validate};
use crate::metrics::Metrics;
use crate::store::{FeedbackOutcome, IngestWrite};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ingest", post(ingest))
        .route("/api/v1/feedback", post(feedback))
}

/// What a client is told when its batch could not be queued or committed.
pub fn submit_error(e: SubmitError) -> ApiError {
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

/// The body, within the area's limit (the router's, `SIGHTLINE_MAX_BODY_BYTES`).
async fn read_body(state: &AppState, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.body_limits.ingest;
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if super::body_limit::is_over_limit(&e) {
            super::body_limit::too_large(limit)
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    })
}

/// `POST /api/v1/ingest`.
async fn ingest(
    State(state): State<AppState>,
    _key: IngestKey,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestReply>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = BodyFormat::from_content_type(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type `{}`: send application/json or application/x-ndjson",
            content_type.unwrap_or_default()
        ))
    })?;
    let bytes = read_body(&state, body).await?;
    let events = parse::parse(format, &bytes, MAX_EVENTS).map_err(|e| match e {
        BodyError::Malformed(m) => ApiError::BadRequest(m),
        BodyError::TooManyEvents { limit } => ApiError::TooLarge(format!(
            "more than {limit} events in one body; the limit is {limit}: send them in smaller \
             batches"
        )),
    })?;
    let now = chrono::Utc::now().timestamp_millis();
    let horizon = state.horizon.at(now).await;
    let prices = state.prices.current().await;
    let prepared = ingest::prepare(events, &horizon, &prices);
    let reply = commit(&state, prepared).await?;
    Ok(Json(reply))
}

/// Submits a prepared body and waits for its commit; the full reply, counted in the
/// metrics. Nothing is submitted when no event was valid.
pub async fn commit(state: &AppState, prepared: Prepared) -> Result<IngestReply, ApiError> {
    let valid_by_type = prepared.valid_by_type();
    let Prepared { write, mut reply } = prepared;
    let valid = write.len() as u64;
    if !write.is_empty() {
        let written = state.ingest.submit(write).await.map_err(submit_error)?;
        reply.duplicates = written.fresh_requests.iter().filter(|f| !**f).count() as u64;
    }
    reply.accepted = valid - reply.duplicates;
    count_outcome(&state.metrics, &reply, valid_by_type);
    Ok(reply)
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

/// `POST /api/v1/feedback`: one rating, from a key with the ingest or read scope.
async fn feedback(
    State(state): State<AppState>,
    _key: IngestOrReadKey,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bytes = read_body(&state, body).await?;
    let event: FeedbackEvent = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid feedback: {e}")))?;
    let horizon = state
        .horizon
        .at(chrono::Utc::now().timestamp_millis())
        .await;
    let (row, warnings) = validate::feedback(event, &horizon).map_err(|e| {
        state.metrics.ingest_events("feedback", "rejected", 1);
        ApiError::BadRequest(e.to_string())
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
