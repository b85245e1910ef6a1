//! `GET /api/v1/dashboard?range=24h|7d|1m|3m|custom[&start=…&end=…]`: the dashboard's
//! data as JSON, for a signed-in browser session or a key with the `read` scope.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::Deserialize;
use sightline_app::auth::CurrentUser;
use sightline_app::range::TimeRange;
use sightline_app::report::DashboardReport;

use super::AppState;
use super::api_auth::require_key;
use super::api_error::ApiError;
use crate::store::Scope;

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Json<DashboardReport>, ApiError> {
    if user.is_none() {
        require_key(&state.store, &headers, &[Scope::Read]).await?;
    }
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
