//! `GET /api/v1/dashboard?range=24h|7d|1m|3m|custom[&start=…&end=…]`: the dashboard's
//! data as JSON, for a signed-in browser session or a key with the `read` scope.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sightline_app::range::TimeRange;
use sightline_app::report::DashboardReport;

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/dashboard", get(dashboard))
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<RangeQuery>,
) -> Result<Json<DashboardReport>, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let range = TimeRange::from_query(
        q.range.as_deref(),
        q.start.as_deref(),
        q.end.as_deref(),
        now,
    )
    .map_err(ApiError::BadRequest)?;
    Ok(Json(
        crate::dashboard::report(&state.store, &range, now).await?,
    ))
}
