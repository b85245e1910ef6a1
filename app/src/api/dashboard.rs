use leptos::prelude::*;

/// Every card of the dashboard for the range of the page's URL.
#[server(prefix = "/api/ui", endpoint = "dashboard")]
pub async fn load_dashboard(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> Result<crate::report::DashboardReport, ServerFnError> {
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let range = super::backend::range_of(range, start, end, now)?;
    super::backend::backend()?
        .dashboard(&range, now)
        .await
        .map_err(super::backend::fail)
}
