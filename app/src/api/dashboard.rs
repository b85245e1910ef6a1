use leptos::prelude::*;

use crate::dto::RequestOverview;

/// Request volume of the last 24 hours, hourly.
#[server(prefix = "/api/ui", endpoint = "request_overview")]
pub async fn load_request_overview() -> Result<RequestOverview, ServerFnError> {
    let now = chrono::Utc::now().timestamp_millis();
    super::backend::backend()?
        .request_overview(now)
        .await
        .map_err(|e| ServerFnError::ServerError(e.to_string()))
}
