use leptos::prelude::*;

/// The endpoints view for the range, sort and endpoint of the page's URL.
#[server(prefix = "/api/ui", endpoint = "endpoints")]
pub async fn load_endpoints(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sort: Option<String>,
    endpoint: Option<String>,
) -> Result<crate::endpoints::EndpointsReport, ServerFnError> {
    use super::backend::fail;
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let range = super::backend::range_of(range, start, end, now)?;
    let sort = crate::endpoints::EndpointSort::from_param(&sort).map_err(|e| fail(e.into()))?;
    super::backend::backend()?
        .endpoints(&range, sort, crate::query::param(&endpoint), now)
        .await
        .map_err(super::backend::fail)
}
