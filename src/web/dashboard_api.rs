//! `GET /api/v1/dashboard?range=24h|7d|1m|3m|custom[&start=…&end=…]`: the dashboard's
//! data as JSON, for a key with the `read` scope.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sightline_app::range::{RangeKind, TimeRange};
use sightline_app::report::DashboardReport;
use sightline_app::time::DAY_MS;

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

/// An instant from a query: `YYYY-MM-DD` (UTC midnight; `end_of_day` moves it to the
/// next midnight, so an end date is inclusive), RFC 3339, or epoch milliseconds.
fn instant(field: &str, value: &str, end_of_day: bool) -> Result<i64, ApiError> {
    if let Ok(ms) = value.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let midnight = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0);
        return Ok(midnight + if end_of_day { DAY_MS } else { 0 });
    }
    Err(ApiError::BadRequest(format!(
        "{field} `{value}` is not a date (YYYY-MM-DD), an RFC 3339 time or epoch milliseconds"
    )))
}

/// The range a query asks for, as of `now`.
pub fn resolve_range(q: &RangeQuery, now: i64) -> Result<TimeRange, ApiError> {
    let kind = match q.range.as_deref() {
        None | Some("") => RangeKind::Day,
        Some(name) => RangeKind::parse(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown range `{name}`: use 24h, 7d, 1m, 3m or custom"
            ))
        })?,
    };
    if kind != RangeKind::Custom {
        return Ok(TimeRange::preset(kind, now));
    }
    let (Some(start), Some(end)) = (q.start.as_deref(), q.end.as_deref()) else {
        return Err(ApiError::BadRequest(
            "a custom range needs start and end".into(),
        ));
    };
    let start = instant("start", start, false)?;
    let end = instant("end", end, true)?;
    TimeRange::custom(start, end, now).map_err(ApiError::BadRequest)
}

pub async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Json<DashboardReport>, ApiError> {
    require_key(&state.store, &headers, &[Scope::Read]).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let range = resolve_range(&q, now)?;
    Ok(Json(
        crate::dashboard::report(&state.store, &range, now).await?,
    ))
}
