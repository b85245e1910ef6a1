//! The sessions and users views: the platform's users and their sessions (not the
//! dashboard's own web session, which is `session`).

use leptos::prelude::*;

use crate::sessions::SessionPage;
use crate::users::{UserDetail, UserPage};

/// A page of the sessions view for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "sessions")]
pub async fn load_sessions(
    range: Option<String>,
    user: Option<String>,
    after: Option<String>,
) -> Result<SessionPage, ServerFnError> {
    use super::backend::{BackendError, fail};
    super::backend::require_user()?;
    let query = crate::sessions::SessionListQuery { range, user, after };
    let now = chrono::Utc::now().timestamp_millis();
    let (filter, after) = query
        .resolve(now)
        .map_err(|e| fail(BackendError::Invalid(e)))?;
    super::backend::backend()?
        .sessions(&filter, after)
        .await
        .map_err(fail)
}

/// A page of the users view for the filter of the page's URL.
#[server(prefix = "/api/ui", endpoint = "users")]
pub async fn load_users(
    search: Option<String>,
    sort: Option<String>,
    after: Option<String>,
) -> Result<UserPage, ServerFnError> {
    use super::backend::{BackendError, fail};
    super::backend::require_user()?;
    let query = crate::users::UserQuery {
        search,
        sort,
        after,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let (filter, after) = query
        .resolve(now)
        .map_err(|e| fail(BackendError::Invalid(e)))?;
    super::backend::backend()?
        .users(&filter, after)
        .await
        .map_err(fail)
}

/// A platform user's totals and latest sessions; a 404 for an unknown user.
#[server(prefix = "/api/ui", endpoint = "user")]
pub async fn load_user(user_id: String) -> Result<UserDetail, ServerFnError> {
    super::backend::require_user()?;
    super::backend::backend()?
        .user_detail(&user_id)
        .await
        .map_err(super::backend::fail)
}
