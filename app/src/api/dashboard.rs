use leptos::prelude::*;

/// Every card of the dashboard for the range of the page's URL.
#[server(prefix = "/api/ui", endpoint = "dashboard")]
pub async fn load_dashboard(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> Result<crate::report::DashboardReport, ServerFnError> {
    use super::backend::{BackendError, fail};
    super::backend::require_user()?;
    let now = chrono::Utc::now().timestamp_millis();
    let range = crate::range::TimeRange::from_query(
        range.as_deref(),
        start.as_deref(),
        end.as_deref(),
        now,
    )
    .map_err(|e| fail(BackendError::Invalid(e)))?;
    super::backend::backend()?
        .dashboard(&range, now)
        .await
        .map_err(super::backend::fail)
}
