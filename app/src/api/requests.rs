use leptos::prelude::*;

use crate::requests::{RequestDetail, RequestPage, RequestQuery};

/// A page of the requests explorer for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "requests")]
pub async fn load_requests(
    // Flattened: the form carries the query's own fields (`range=24h&status=5xx…`).
    #[server(flatten)] query: RequestQuery,
) -> Result<RequestPage, ServerFnError> {
    let (filter, after) = super::backend::list_query(|now| query.resolve(now))?;
    super::backend::backend()?
        .requests(&filter, after)
        .await
        .map_err(super::backend::fail)
}

/// One request in detail, with its session, its ratings and the signed-in account's
/// own rating; a 404 for an unknown request.
#[server(prefix = "/api/ui", endpoint = "request")]
pub async fn load_request(request_id: String) -> Result<RequestDetail, ServerFnError> {
    let user = super::backend::require_user()?;
    super::backend::backend()?
        .request_detail(&user, &request_id)
        .await
        .map_err(super::backend::fail)
}

/// Rates a request 1 to 5 stars, with an optional comment, as the signed-in account
/// (any role); rating it again changes the rating. A 404 for an unknown request.
#[server(prefix = "/api/ui", endpoint = "rate_request")]
pub async fn rate_request(
    request_id: String,
    rating: i32,
    comment: Option<String>,
) -> Result<(), ServerFnError> {
    use super::backend::{BackendError, fail};
    let user = super::backend::require_user()?;
    let (rating, comment) = crate::requests::check_rating(rating, comment)
        .map_err(|e| fail(BackendError::Invalid(e.to_string())))?;
    super::backend::backend()?
        .rate_request(&user, &request_id, rating, comment)
        .await
        .map_err(fail)
}
