//! `GET /api/v1/security?range=…&type=…&user=…&ip=…`: the security view's report as
//! JSON, for a signed-in browser session or a key with the `read` scope.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use sightline_app::security::{SecurityQuery, SecurityReport};
use sightline_app::units::EpochMillis;

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/security", get(security))
}

async fn security(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<SecurityQuery>,
) -> Result<Json<SecurityReport>, ApiError> {
    let now = EpochMillis::now();
    let (range, filter) = q.resolve(now).map_err(ApiError::from)?;
    Ok(Json(
        crate::security::report(&state.store, &range, &filter, now).await?,
    ))
}
