//! `GET /api/v1/dashboard?range=24h|7d|1m|3m|custom[&start=…&end=…]`: the dashboard's
//! data as JSON, `GET /api/v1/endpoints?range=…&sort=…&endpoint=…`: the endpoints
//! view's, and `GET /api/v1/providers?range=…&sort=…&provider=…`: the providers view's,
//! each for a signed-in browser session or a key with the `read` scope.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sightline_app::endpoints::{EndpointSort, EndpointsReport};
use sightline_app::providers::{ProviderSort, ProvidersReport};
use sightline_app::query::param;
use sightline_app::range::TimeRange;
use sightline_app::report::DashboardReport;
use sightline_app::units::EpochMillis;

use super::AppState;
use super::api_auth::Reader;
use super::api_error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/endpoints", get(endpoints))
        .route("/api/v1/providers", get(providers))
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

impl RangeQuery {
    fn resolve(&self, now: EpochMillis) -> Result<TimeRange, ApiError> {
        TimeRange::from_query(
            self.range.as_deref(),
            self.start.as_deref(),
            self.end.as_deref(),
            now,
        )
        .map_err(ApiError::from)
    }
}

async fn dashboard(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<RangeQuery>,
) -> Result<Json<DashboardReport>, ApiError> {
    let now = EpochMillis::now();
    let range = q.resolve(now)?;
    Ok(Json(
        crate::dashboard::report(&state.store, &state.budgets, &range, now).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct EndpointsQuery {
    #[serde(flatten)]
    range: RangeQuery,
    sort: Option<String>,
    endpoint: Option<String>,
}

async fn endpoints(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<EndpointsQuery>,
) -> Result<Json<EndpointsReport>, ApiError> {
    let now = EpochMillis::now();
    let range = q.range.resolve(now)?;
    let sort = EndpointSort::from_param(&q.sort).map_err(ApiError::from)?;
    Ok(Json(
        crate::endpoints::report(&state.store, &range, sort, param(&q.endpoint), now).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ProvidersQuery {
    #[serde(flatten)]
    range: RangeQuery,
    sort: Option<String>,
    provider: Option<String>,
}

async fn providers(
    State(state): State<AppState>,
    _reader: Reader,
    Query(q): Query<ProvidersQuery>,
) -> Result<Json<ProvidersReport>, ApiError> {
    let now = EpochMillis::now();
    let range = q.range.resolve(now)?;
    let sort = ProviderSort::from_param(&q.sort).map_err(ApiError::from)?;
    Ok(Json(
        crate::providers::report(&state.store, &range, sort, param(&q.provider), now).await?,
    ))
}
