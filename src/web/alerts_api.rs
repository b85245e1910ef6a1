//! `GET /api/v1/alerts?state=firing|resolved&limit=N`: the anomaly alerts, newest first,
//! for a signed-in browser session or a key with the `read` scope.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;
use crate::store::{Alert, AlertState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/alerts", get(alerts))
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

#[derive(Debug, Deserialize)]
pub struct AlertsQuery {
    state: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AlertList {
    alerts: Vec<Alert>,
}

async fn alerts(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let wanted = match q.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(AlertState::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!("unknown state `{s}`: use firing, resolved or all"))
        })?),
    };
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT} (got `{l}`)"
                ))
            })?,
    };
    Ok(Json(AlertList {
        alerts: state.store.alerts(wanted, limit).await?,
    }))
}
