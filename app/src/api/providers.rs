use leptos::prelude::*;

/// The providers view for the range, sort and provider of the page's URL.
#[server(prefix = "/api/ui", endpoint = "providers")]
pub async fn load_providers(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sort: Option<String>,
    provider: Option<String>,
) -> Result<crate::providers::ProvidersReport, ServerFnError> {
    use super::backend::fail;
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let range = super::backend::range_of(range, start, end, now)?;
    let sort = crate::providers::ProviderSort::from_param(&sort).map_err(|e| fail(e.into()))?;
    super::backend::backend()?
        .providers(&range, sort, crate::query::param(&provider), now)
        .await
        .map_err(super::backend::fail)
}
