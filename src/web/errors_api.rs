//! `GET /api/v1/errors?range=…&sort=count|last_seen`: the errors view's report as JSON,
//! for a signed-in browser session or a key with the `read` scope (as the endpoints').

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sightline_app::errors::{ErrorSort, ErrorsReport, MAX_LISTED};
use sightline_app::range::TimeRange;
use sightline_app::units::EpochMillis;

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/errors", get(errors))
}

#[derive(Debug, Deserialize)]
pub struct ErrorsQuery {
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sort: Option<String>,
}

async fn errors(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<ErrorsQuery>,
) -> Result<Json<ErrorsReport>, ApiError> {
    let now = EpochMillis::now();
    let range = TimeRange::from_query(
        q.range.as_deref(),
        q.start.as_deref(),
        q.end.as_deref(),
        now,
    )
    .map_err(ApiError::from)?;
    let sort = ErrorSort::from_param(&q.sort).map_err(ApiError::from)?;
    Ok(Json(
        crate::errors::report(&state.store, &range, sort, MAX_LISTED, now).await?,
    ))
}
