// `load_requests` takes one argument a URL parameter; the client stub the `#[server]`
// macro generates for the browser does not carry an item-level allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::requests::{RequestDetail, RequestPage};

/// A page of the requests explorer for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "requests")]
pub async fn load_requests(
    range: Option<String>,
    status: Option<String>,
    model: Option<String>,
    endpoint: Option<String>,
    user: Option<String>,
    country: Option<String>,
    text: Option<String>,
    session: Option<String>,
    error_group: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sort: Option<String>,
    after: Option<String>,
    kind: Option<String>,
    service: Option<String>,
) -> Result<RequestPage, ServerFnError> {
    use super::backend::{BackendError, fail};
    super::backend::require_user()?;
    let query = crate::requests::RequestQuery {
        range,
        status,
        kind,
        service,
        model,
        endpoint,
        user,
        country,
        text,
        session,
        error_group,
        since,
        until,
        sort,
        after,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let (filter, after) = query
        .resolve(now)
        .map_err(|e| fail(BackendError::Invalid(e)))?;
    super::backend::backend()?
        .requests(&filter, after)
        .await
        .map_err(fail)
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
        .map_err(|e| fail(BackendError::Invalid(e)))?;
    super::backend::backend()?
        .rate_request(&user, &request_id, rating, comment)
        .await
        .map_err(fail)
}
