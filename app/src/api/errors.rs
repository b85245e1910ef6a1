use leptos::prelude::*;

/// The errors view (or, with `card`, the dashboard's few) for the range and sort of
/// the page's URL.
#[server(prefix = "/api/ui", endpoint = "errors")]
pub async fn load_errors(
    range: Option<String>,
    start: Option<String>,
    end: Option<String>,
    sort: Option<String>,
    card: bool,
) -> Result<crate::errors::ErrorsReport, ServerFnError> {
    use super::backend::fail;
    super::backend::require_user()?;
    let now = crate::units::EpochMillis::now();
    let range = super::backend::range_of(range, start, end, now)?;
    let sort = crate::errors::ErrorSort::from_param(&sort).map_err(|e| fail(e.into()))?;
    let limit = if card {
        crate::errors::CARD_ROWS
    } else {
        crate::errors::MAX_LISTED
    };
    super::backend::backend()?
        .errors(&range, sort, limit, now)
        .await
        .map_err(super::backend::fail)
}
