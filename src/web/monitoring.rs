//! What operators and monitoring read: `GET /metrics` (Prometheus text, for a key with
//! the `read` scope) and `GET /api/v1/health` (JSON, for an admin session or a `read`
//! key).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;

use super::AppState;
use super::api_auth::{Operator, ReadKey};
use super::api_error::ApiError;
use crate::metrics::CONTENT_TYPE;
use crate::store::{DbKind, RowCounts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/health", get(health))
}

/// `GET /metrics`: every metric in the Prometheus text format.
async fn metrics(State(state): State<AppState>, _key: ReadKey) -> Result<Response, ApiError> {
    let now = Utc::now().timestamp_millis();
    if let Err(e) = state.metrics.refresh_activity(&state.store, now).await {
        // The counters are still worth scraping; the activity gauges keep their values.
        tracing::warn!(error = %e, "could not read active users for /metrics");
    }
    state.metrics.set_queue_depth(state.ingest.depth());
    let mut response = state.metrics.encode().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    /// `ok`, or `degraded` when the database does not answer or the queue is full.
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    database: DatabaseHealth,
    /// `None` when the database does not answer.
    rows: Option<RowCounts>,
    ingest: IngestHealth,
    active_users: Option<ActiveUsers>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DatabaseHealth {
    kind: &'static str,
    size_bytes: Option<i64>,
    reachable: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IngestHealth {
    queue_depth: usize,
    queue_capacity: usize,
    /// Epoch milliseconds of the most recent commit of this process; `None` before it.
    last_commit_at: Option<i64>,
    /// Milliseconds from submission to commit of the most recently committed batch.
    lag_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActiveUsers {
    /// Distinct users since UTC midnight.
    today: i64,
    /// Distinct users in the last 7 days.
    week: i64,
}

/// `GET /api/v1/health`: an admin's view of the server (SPEC §9).
async fn health(
    State(state): State<AppState>,
    _operator: Operator,
) -> Result<Json<HealthReport>, ApiError> {
    let now = Utc::now().timestamp_millis();
    let reachable = state.store.ping().await.is_ok();
    let (size_bytes, rows, active_users) = if reachable {
        let midnight = utc_midnight(now);
        let activity = state
            .store
            .activity_counts(&[midnight, now - 7 * 86_400_000])
            .await?;
        (
            Some(state.store.database_size_bytes().await?),
            Some(state.store.row_counts().await?),
            Some(ActiveUsers {
                today: activity.active_users[0],
                week: activity.active_users[1],
            }),
        )
    } else {
        (None, None, None)
    };
    let last_commit = state.ingest.last_commit();
    let healthy = reachable && !state.ingest.is_saturated();
    Ok(Json(HealthReport {
        status: if healthy { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.metrics.uptime().as_secs(),
        database: DatabaseHealth {
            kind: match state.store.kind() {
                DbKind::Sqlite => "sqlite",
                DbKind::Postgres => "postgres",
            },
            size_bytes,
            reachable,
        },
        rows,
        ingest: IngestHealth {
            queue_depth: state.ingest.depth(),
            queue_capacity: state.ingest.capacity(),
            last_commit_at: last_commit.map(|(at, _)| at),
            lag_ms: last_commit.map(|(_, lag)| lag),
        },
        active_users,
    }))
}

/// The UTC midnight that starts the day of `now` (epoch ms; Unix days are all equal).
fn utc_midnight(now: i64) -> i64 {
    now - now.rem_euclid(86_400_000)
}
